/*
 * batch.h - an event batch (yimad's POST /v1/events, spec section 6):
 * every event applied in order as by `yima ingest`, idempotent per
 * (facility, batch id).
 */
#ifndef YIMA_VERIFIER_BATCH_H
#define YIMA_VERIFIER_BATCH_H

#include "yima/verifier/outcome.h"

/* Apply the batch in txn.  A batch id seen before for this facility
 * returns the first receipt whole (out->codes, from outcome_init(), may
 * be reallocated and out->n changed to the first batch's size; status
 * OUTCOME_REPLAYED).  Returns 0 or an error. */
int batch_apply(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t batch_id,
		const verify_input_t *items, size_t n, outcome_t *out);

#endif
