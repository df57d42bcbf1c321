/*
 * aux.c - a cluster view's side tables (ledger.h): opaque keys and values
 * committed with the records, so the view's own state moves atomically
 * with the ledger.  Not chained, not audited: the streams are the evidence.
 */
#include <string.h>

#include "ledger_int.h"

int ledger_aux_put(ledger_txn_t *txn, const void *key, size_t kn, const void *val, size_t vn)
{
	MDB_val k = { kn, (void *)key }, v = { vn, (void *)val };
	int rc;

	if (txn->err)
		return txn->err;
	if (kn == 0 || kn > 511)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_AUX), &k, &v, 0);
	return rc ? ledger_txn_fail(txn, yima_err_from_mdb(rc)) : 0;
}

int ledger_aux_get(ledger_txn_t *txn, const void *key, size_t kn, yima_slice_t *val)
{
	MDB_val k = { kn, (void *)key }, v;
	int rc;

	*val = yima_slice(NULL, 0);
	if (txn->err)
		return txn->err;
	if (kn == 0 || kn > 511 || ledger_table_absent(txn->lg, DB_AUX))
		return YIMA_ENOTFOUND;
	rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_AUX), &k, &v);
	if (rc != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(rc));
	*val = yima_slice(v.mv_data, v.mv_size);
	return 0;
}

int ledger_aux_del(ledger_txn_t *txn, const void *key, size_t kn)
{
	MDB_val k = { kn, (void *)key };
	int rc;

	if (txn->err)
		return txn->err;
	if (kn == 0 || kn > 511)
		return YIMA_ENOTFOUND;
	rc = mdb_del(txn->mdb, ledger_dbi(txn, DB_AUX), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return YIMA_ENOTFOUND;
	return rc ? ledger_txn_fail(txn, yima_err_from_mdb(rc)) : 0;
}

int ledger_aux_scan(ledger_txn_t *txn, const void *prefix, size_t pn, aux_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { pn, (void *)prefix }, v;
	int rc, op = MDB_SET_RANGE;

	if (txn->err)
		return txn->err;
	if (ledger_table_absent(txn->lg, DB_AUX))
		return 0;
	if ((rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_AUX), &cur)) != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	if (pn == 0)
		op = MDB_FIRST;
	while ((rc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size < pn || memcmp(k.mv_data, prefix, pn) != 0)
			break;
		int r = fn(arg, yima_slice(k.mv_data, k.mv_size), yima_slice(v.mv_data, v.mv_size));
		if (r != 0) {
			mdb_cursor_close(cur);
			return r < 0 ? r : 0;
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	return 0;
}
