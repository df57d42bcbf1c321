/*
 * eval.h - one event's evaluation, made once and then recorded (private
 * to verifier/).
 *
 * verify_eval() gathers what the rules need from the ledger and runs
 * them; verify_record() appends the event's record and writes the state
 * the evaluation computed.  `yima ingest` and event batches do both for
 * each event in turn; a settlement claim evaluates every code first (each
 * seeing the earlier codes' effect through the overlay) and records them
 * all afterwards, from the same evaluations: nothing is evaluated twice.
 */
#ifndef YIMA_VERIFIER_EVAL_H
#define YIMA_VERIFIER_EVAL_H

#include "rules.h"

/* How a record belongs to a settlement claim: enum ledger_claim_flags,
 * and for a void record (the claim was rejected as a whole) the findings
 * its own evaluation gave. */
typedef struct verify_claim_mark {
	unsigned flags;
	finding_set_t findings;
} verify_claim_mark_t;

/* The codes of a claim evaluated so far that stand, each canonical code
 * once: the state its latest occurrence leaves and the units it took. */
struct verify_seen {
	char canon[CODE_CANON_MAX + 1];
	size_t canon_len;
	code_state_t st;
	uint64_t units;
};

/* The units a claim's standing dispenses so far took, per drug code (its
 * one patient's: OVER_QUANTITY counts them, spec section 7). */
struct verify_dose {
	char drug[33];
	uint64_t units;
};

typedef struct verify_overlay {
	size_t n, cap;
	struct verify_seen *seen;	/* cap entries, caller's memory */
	size_t ndoses;
	struct verify_dose *doses;	/* cap entries, caller's memory */
} verify_overlay_t;

typedef struct verify_eval {
	rule_ctx_t c;		/* what the rules saw: c.st is the state
				 * before the event (initial state when no
				 * applied event set it yet) */
	finding_set_t findings;
	enum verdict verdict;
	code_state_t after;	/* the state it leaves when applied */
} verify_eval_t;

/* Evaluate in (status 0) against the ledger as txn sees it.  The context
 * points into in, which must outlive e.  Returns 0 or a ledger error. */
int verify_eval(ledger_txn_t *txn, const verify_input_t *in, verify_eval_t *e);

/* Evaluate a claim's code against the ledger plus the effect of the
 * claim's earlier codes that stand (ov, all of one facility and
 * settlement); if this one stands too, it joins the overlay. */
int verify_eval_claim(ledger_txn_t *txn, const verify_input_t *in, verify_overlay_t *ov,
		      verify_eval_t *e);

/* quantity.c: OVER_QUANTITY's facts.  quantity_applies() says whether
 * the event is one it is evaluated for (a dispense with a patient of a
 * product with a limit); quantity_gather() sets c->patient_units from the
 * ledger for such an event (0 otherwise); the overlay functions add a
 * claim's earlier standing items. */
bool quantity_applies(const rule_ctx_t *c);
int quantity_gather(ledger_txn_t *txn, rule_ctx_t *c);
uint64_t quantity_overlay_units(const verify_overlay_t *ov, const char *drug);
int quantity_overlay_add(verify_overlay_t *ov, const rule_ctx_t *c);

/*
 * Append in's record as e evaluated it and, unless it is rejected (or
 * void: mark), write the state e computed.  base is the code's state the
 * record follows (its history fields: last record, count, where it was
 * sold): e->c.st for an event on its own, the state written for the
 * claim's earlier record of the same code otherwise.  *written gets the
 * state now stored.  in->status must be 0.  Returns 0 or a ledger error.
 */
int verify_record(ledger_txn_t *txn, const verify_input_t *in, const verify_eval_t *e,
		  const verify_claim_mark_t *mark, const code_state_t *base,
		  code_state_t *written, verify_result_t *out);

/* Append a BAD_RECORD or MALFORMED attempt (in->status != 0). */
int verify_record_attempt(ledger_txn_t *txn, const verify_input_t *in, unsigned claim,
			  verify_result_t *out);

#endif
