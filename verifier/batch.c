/*
 * batch.c - event batches (see yima/verifier/batch.h): idempotent per
 * (facility, batch id) through the batches table, whose entries are
 * chained as admin records so `yima audit` covers them.
 */
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "yima/verifier/batch.h"

/* The first receipt whole, whatever this retry holds. */
static int replay(ledger_txn_t *txn, const batch_entry_t *be, outcome_t *out)
{
	if (be->count > out->n) {
		if (be->count > SIZE_MAX / sizeof *out->codes)
			return YIMA_ECORRUPT;
		outcome_code_t *c = realloc(out->codes, be->count * sizeof *c);
		if (c == NULL)
			return YIMA_ENOMEM;
		out->codes = c;
	}
	out->n = be->count;
	return outcome_from_records(txn, be->first_seq, be->count, out);
}

int batch_apply(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t batch_id,
		const uint8_t content[LEDGER_HASH_LEN], const verify_input_t *items, size_t n,
		outcome_t *out)
{
	batch_entry_t be;
	int rc;

	out->status = OUTCOME_RECORDED;
	out->first_seq = out->last_seq = 0;
	memset(out->head, 0, sizeof out->head);
	if (n != out->n)
		return YIMA_EINVAL;
	rc = ledger_batch_get(txn, facility, batch_id, &be);
	if (rc == 0 && be.has_content && memcmp(be.content, content, LEDGER_HASH_LEN) != 0) {
		out->status = OUTCOME_CONFLICT;
		return 0;
	}
	if (rc == 0)
		return replay(txn, &be, out);
	if (rc != YIMA_ENOTFOUND)
		return rc;
	out->verdict = VERDICT_ACCEPT;
	for (size_t i = 0; i < n; i++) {
		outcome_code_t *c = &out->codes[i];
		if ((rc = verify_apply(txn, &items[i], &c->r)) < 0)
			return rc;
		outcome_set_code(out, i, &items[i]);
		if (c->r.verdict > out->verdict)
			out->verdict = c->r.verdict;
	}
	outcome_set_range(out, txn);
	be.first_seq = out->first_seq;
	be.count = n;
	be.has_content = true;
	memcpy(be.content, content, LEDGER_HASH_LEN);
	return ledger_batch_put(txn, facility, batch_id, &be);
}
