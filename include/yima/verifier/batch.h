/*
 * batch.h - an event batch (yimad's POST /v1/events, spec section 6):
 * every event applied in order as by `yima ingest`, idempotent per
 * (facility, batch id).
 */
#ifndef YIMA_VERIFIER_BATCH_H
#define YIMA_VERIFIER_BATCH_H

#include "yima/verifier/outcome.h"

/* Apply the batch in txn.  content is the batch's keyed digest (what the
 * client sent), stored with it.  A batch id seen before for this facility
 * with the same content is a retry: the first receipt whole (out->codes,
 * from outcome_init(), may be reallocated and out->n changed to the first
 * batch's size; status OUTCOME_REPLAYED); with other content it is
 * OUTCOME_CONFLICT and nothing is recorded.  A batch recorded before
 * contents were kept cannot be compared: any retry gets its first
 * receipt.  Returns 0 or an error. */
int batch_apply(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t batch_id,
		const uint8_t content[LEDGER_HASH_LEN], const verify_input_t *items, size_t n,
		outcome_t *out);

#endif
