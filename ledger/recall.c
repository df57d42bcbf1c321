/*
 * recall.c - the recall list: codes, products and product batches whose
 * receipt or dispense is RECALLED (spec section 4).
 *
 * Key: u8 kind + key bytes ("product:batch" for a batch); empty value.
 * Changes are chained as admin records.
 */
#include <string.h>

#include "ledger_int.h"

#define RKEY_MAX 64

static int rkey(uint8_t out[RKEY_MAX], enum recall_kind k, const char *key, size_t n, size_t *len)
{
	if (n == 0 || n + 1 > RKEY_MAX)
		return YIMA_EINVAL;
	out[0] = (uint8_t)k;
	memcpy(out + 1, key, n);
	*len = n + 1;
	return 0;
}

static int recall_change(ledger_txn_t *txn, enum recall_kind k, const char *key, size_t n, bool add)
{
	uint8_t kb[RKEY_MAX];
	size_t klen;
	int rc;

	if (txn->err)
		return txn->err;
	if ((rc = rkey(kb, k, key, n, &klen)) < 0)
		return ledger_txn_fail(txn, rc);
	MDB_val mk = { klen, kb }, mv = { 0, "" };
	if (add)
		rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_RECALLS), &mk, &mv, MDB_NOOVERWRITE);
	else
		rc = mdb_del(txn->mdb, ledger_dbi(txn, DB_RECALLS), &mk, NULL);
	if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND)
		return yima_err_from_mdb(rc);	/* not sticky: nothing changed */
	if (rc != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	txn->recalls = -1;
	buf_t body;
	buf_init(&body);
	buf_putc(&body, (uint8_t)k);
	buf_put_str8(&body, key, n);
	rc = body.oom ? ledger_txn_fail(txn, YIMA_ENOMEM)
		      : ledger_admin_append(txn, add ? KIND_RECALL_ADD : KIND_RECALL_REMOVE, &body);
	buf_deinit(&body);
	return rc;
}

int ledger_recall_add(ledger_txn_t *txn, enum recall_kind k, const char *key, size_t n)
{
	return recall_change(txn, k, key, n, true);
}

int ledger_recall_remove(ledger_txn_t *txn, enum recall_kind k, const char *key, size_t n)
{
	return recall_change(txn, k, key, n, false);
}

static int recall_has(ledger_txn_t *txn, enum recall_kind k, const char *key, size_t n, bool *hit)
{
	uint8_t kb[RKEY_MAX];
	size_t klen;

	if (rkey(kb, k, key, n, &klen) < 0)
		return 0;	/* too long to be on the list */
	MDB_val mk = { klen, kb }, mv;
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_RECALLS), &mk, &mv);
	if (rc == 0)
		*hit = true;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : yima_err_from_mdb(rc);
}

int ledger_recall_match(ledger_txn_t *txn, const code_t *c, bool *hit)
{
	MDB_stat st;
	char pb[CODE_PRODUCT_MAX + 1 + CODE_BATCH_MAX + 1];
	int rc;

	*hit = false;
	if (txn->err)
		return txn->err;
	/* Most ledgers have a short or empty list: skip three lookups. */
	if (txn->recalls < 0) {
		if ((rc = mdb_stat(txn->mdb, ledger_dbi(txn, DB_RECALLS), &st)) != 0)
			return ledger_txn_fail(txn, yima_err_from_mdb(rc));
		txn->recalls = (int64_t)st.ms_entries;
	}
	if (txn->recalls == 0)
		return 0;
	if ((rc = recall_has(txn, RECALL_CODE, c->canon, c->canon_len, hit)) < 0 || *hit)
		return ledger_txn_read(txn, rc);
	if ((rc = recall_has(txn, RECALL_PRODUCT, c->product, c->product_len, hit)) < 0 || *hit)
		return ledger_txn_read(txn, rc);
	if (c->batch_len == 0)
		return 0;
	int n = snprintf(pb, sizeof pb, "%s:%s", c->product, c->batch);
	if (n < 0 || (size_t)n >= sizeof pb)
		return 0;
	return ledger_txn_read(txn, recall_has(txn, RECALL_BATCH, pb, (size_t)n, hit));
}

int ledger_recall_each(ledger_txn_t *txn, recall_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, mrc;
	bool ours = false;	/* a failure of the read, not of fn */

	if (txn->err)
		return txn->err;
	if ((rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_RECALLS), &cur)) != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *p = k.mv_data;
		if (k.mv_size < 2) {
			rc = YIMA_ECORRUPT;
			ours = true;
			break;
		}
		if ((rc = fn(arg, (enum recall_kind)p[0], yima_slice(p + 1, k.mv_size - 1))) != 0)
			break;
	}
	return ledger_scan_end(txn, cur, rc, mrc, ours);
}
