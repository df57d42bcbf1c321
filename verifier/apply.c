/*
 * apply.c - one event through the verifier, on its own (`yima ingest`,
 * event batches): evaluate it against the ledger as the transaction sees
 * it, then record it from that evaluation (eval.c, record.c).
 */
#include "eval.h"
#include "yima/util/error.h"

int verify_apply(ledger_txn_t *txn, const verify_input_t *in, verify_result_t *out)
{
	verify_eval_t e;
	code_state_t written;
	int rc;

	if ((rc = ledger_txn_err(txn)) < 0)
		return rc;
	if (in->status != 0)
		return verify_record_attempt(txn, in, 0, out);
	if ((rc = verify_eval(txn, in, &e)) < 0)
		return rc;
	return verify_record(txn, in, &e, NULL, &e.c.st, &written, out);
}
