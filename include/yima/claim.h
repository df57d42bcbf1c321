/*
 * claim.h - yimad's two writes, on top of the verifier: a settlement
 * claim (POST /v1/settle) and an event batch (POST /v1/events), each
 * idempotent (spec section 6).
 *
 * Both run inside a write transaction the caller owns (yimad commits many
 * of them at once) and fill per-code results that stay valid until that
 * transaction ends.
 */
#ifndef YIMA_CLAIM_H
#define YIMA_CLAIM_H

#include "yima/verify.h"

/* The verdict of one event or claimed code, as the client sees it. */
typedef struct claim_code_result {
	verify_result_t r;
	yima_slice_t code;	/* canonical, or the raw field */
	yima_slice_t reason;	/* BAD_RECORD / MALFORMED */
} claim_code_result_t;

enum claim_status {
	CLAIM_RECORDED = 0,	/* new: recorded now (or evaluated, dry run) */
	CLAIM_REPLAYED = 1,	/* a retry: the first answer, nothing recorded */
	CLAIM_CONFLICT = 2,	/* other content under an accepted settlement id,
				 * or under a recorded batch id */
};

typedef struct claim_outcome {
	enum claim_status status;
	enum verdict verdict;		/* worst of the codes */
	uint64_t first_seq, last_seq;	/* 0 when nothing was recorded */
	uint8_t head[LEDGER_HASH_LEN];	/* chain hash of last_seq */
	size_t n;
	claim_code_result_t *codes;	/* n entries, caller's memory */
} claim_outcome_t;

/*
 * A claim: every code as a dispense event (facility, settlement, time,
 * patient, drug, qty) already parsed with verify_input_from_row().  Codes
 * are checked in order, each seeing the effect of those before it; if any
 * is rejected the claim is recorded as one void attempt and changes no
 * state.  dry_run evaluates only (any transaction, read-only included).
 * out->codes must have room for n entries.
 */
int claim_settle(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		 const verify_input_t *items, size_t n, bool dry_run, claim_outcome_t *out);

/* An event batch: every event applied in order as by `yima ingest`.
 * content is the batch's digest (wire_batch_content(): what the client
 * sent, keyed), stored with it.  A batch id seen before for this facility
 * with the same digest is a retry: the first receipt (all of it:
 * out->codes, malloc'd by the caller, may be reallocated and out->n
 * changed to the first batch's size); with another digest it is
 * CLAIM_CONFLICT and nothing is recorded.  A batch recorded before digests
 * existed cannot be compared: any retry gets its first receipt. */
int claim_batch(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t batch_id,
		const uint8_t content[LEDGER_HASH_LEN], const verify_input_t *items, size_t n,
		claim_outcome_t *out);

/* Audit: replay a claim's records (the inputs rebuilt from them) into a
 * scratch ledger the way yimad recorded them. */
int claim_replay_records(ledger_txn_t *txn, const verify_input_t *items, size_t n,
			 claim_outcome_t *out);

#endif
