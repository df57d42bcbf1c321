/*
 * claim.h - a settlement claim (yimad's POST /v1/settle, spec section 6):
 * every code checked in order, each seeing the effect of those before it,
 * and recorded all-or-nothing; idempotent per (facility, settlement).
 *
 * It runs inside a write transaction the caller owns (yimad commits many
 * claims and batches at once); per-code results stay valid until that
 * transaction ends.
 */
#ifndef YIMA_VERIFIER_CLAIM_H
#define YIMA_VERIFIER_CLAIM_H

#include "yima/verifier/outcome.h"

/*
 * A claim: every code as a dispense of facility under settlement
 * (verify_input_from_claim()).  If any code is rejected the claim is
 * recorded as one void attempt and changes no state; an accepted claim is
 * kept under (facility, settlement), so a retry with the same content
 * returns the first answer (out->status OUTCOME_REPLAYED) and other
 * content is OUTCOME_CONFLICT.  dry_run evaluates only (any transaction,
 * read-only included).  The claim's patient is keyed once, into every
 * item (items[i].patient_mac).  out must have room for n codes
 * (outcome_init()).  Returns 0 or an error (the transaction is then
 * failed).
 */
int claim_settle(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		 verify_input_t *items, size_t n, bool dry_run, outcome_t *out);

/*
 * A cluster partition's codes of a claim decided across partitions
 * (docs/cluster.md): evaluated as claim_settle() evaluates them (in order,
 * each seeing the earlier ones), then applied, or, with void_claim (the
 * claim was rejected, here or in another partition), recorded as void
 * attempts carrying the findings their own evaluation gave.  A code
 * rejected here is never applied: its claim is void whatever void_claim
 * says (out->verdict REJECT tells the caller).  No retry check (the home
 * partition does that before the decision); an accepted claim's records
 * are kept in the claims table as claim_settle() keeps them.  Returns 0
 * or an error.
 */
int claim_record_decided(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
			 verify_input_t *items, size_t n, bool void_claim, outcome_t *out);

/* The content hash claim_settle() keeps for a claim (its patient keyed
 * into every item first): what makes a retry the same claim.  Returns 0
 * or an error. */
int claim_content(ledger_txn_t *txn, verify_input_t *items, size_t n,
		  uint8_t out[LEDGER_HASH_LEN]);

/* Audit: replay a claim's records (the inputs rebuilt from them, patient
 * hashes included) into a scratch ledger the way yimad recorded them.
 * void_claim: the records are void (a decision the replay honours, as a
 * cluster partition recorded a claim another partition rejected; a code
 * rejected by the replay itself is void either way, so a record that was
 * applied where the replay rejects still differs). */
int claim_replay_records(ledger_txn_t *txn, verify_input_t *items, size_t n, bool void_claim,
			 outcome_t *out);

#endif
