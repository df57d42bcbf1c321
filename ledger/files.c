/*
 * files.c - which input files were ingested (by SHA-256), so a file fed
 * twice is refused instead of doubling every event (spec section 5), and
 * an interrupted ingest of a file resumes after its last committed batch.
 * Value: varint rows, varint unix time, u8 complete.  Not chained: it
 * guards input, it is not evidence.
 */
#include <time.h>

#include "ledger_int.h"

int ledger_file_get(ledger_txn_t *txn, const uint8_t sha[32], uint64_t *rows, bool *complete)
{
	MDB_val k = { 32, (void *)sha }, v;
	rd_t r;

	*rows = 0;
	*complete = false;
	if (txn->err)
		return txn->err;
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_FILES), &k, &v);
	if (rc != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(rc));
	rd_init(&r, v.mv_data, v.mv_size);
	*rows = rd_varint(&r);
	(void)rd_varint(&r);
	*complete = rd_u8(&r) != 0;
	return r.bad ? ledger_txn_fail(txn, YIMA_ECORRUPT) : 0;
}

int ledger_file_mark(ledger_txn_t *txn, const uint8_t sha[32], uint64_t rows, bool complete)
{
	buf_t b;
	int rc;

	if (txn->err)
		return txn->err;
	buf_init(&b);
	buf_put_varint(&b, rows);
	buf_put_varint(&b, (uint64_t)time(NULL));
	buf_putc(&b, complete ? 1 : 0);
	if (b.oom) {
		buf_deinit(&b);
		return ledger_txn_fail(txn, YIMA_ENOMEM);
	}
	MDB_val k = { 32, (void *)sha }, v = { b.len, b.p };
	rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_FILES), &k, &v, 0);
	buf_deinit(&b);
	return rc ? ledger_txn_fail(txn, yima_err_from_mdb(rc)) : 0;
}
