/*
 * outcome.h - what one of yimad's writes did (a settlement claim,
 * claim.h; an event batch, batch.h): each event's or code's verdict as the
 * client sees it, and where the records landed.
 */
#ifndef YIMA_VERIFIER_OUTCOME_H
#define YIMA_VERIFIER_OUTCOME_H

#include "yima/verifier/verify.h"

/* The verdict of one event or claimed code. */
typedef struct outcome_code {
	verify_result_t r;
	yima_slice_t code;	/* canonical, or the raw field */
	yima_slice_t reason;	/* BAD_RECORD / MALFORMED */
} outcome_code_t;

enum outcome_status {
	OUTCOME_RECORDED = 0,	/* new: recorded now (or evaluated, dry run) */
	OUTCOME_REPLAYED = 1,	/* a retry: the first answer, nothing recorded */
	OUTCOME_CONFLICT = 2,	/* other content under an id already used */
};

typedef struct outcome {
	enum outcome_status status;
	enum verdict verdict;		/* worst of the codes */
	uint64_t first_seq, last_seq;	/* 0 when nothing was recorded */
	uint8_t head[LEDGER_HASH_LEN];	/* chain hash of last_seq */
	size_t n;
	outcome_code_t *codes;		/* n entries, caller's memory */
} outcome_t;

/* Room for n codes (calloc'd; batch_apply() may grow it).  Returns 0 or
 * YIMA_ENOMEM.  Free with outcome_deinit(). */
int outcome_init(outcome_t *o, size_t n);
void outcome_deinit(outcome_t *o);

/* The answer of an earlier write, rebuilt from its records first ..
 * first+count-1 (a retry): o->n must be count.  Returns 0 or an error. */
int outcome_from_records(ledger_txn_t *txn, uint64_t first, uint64_t count, outcome_t *o);

/* Fill code i's printed code and reason from its input. */
void outcome_set_code(outcome_t *o, size_t i, const verify_input_t *in);

/* first_seq, last_seq and head from the codes' results (or the ledger's
 * head when there are none). */
void outcome_set_range(outcome_t *o, ledger_txn_t *txn);

#endif
