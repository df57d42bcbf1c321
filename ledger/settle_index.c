/*
 * settle.c - the settlement index: (facility, settlement, code, seq) ->
 * the event's type, verdict and units.
 *
 * It answers, without reading event records: is there an applied dispense
 * of this code in this claim (DUPLICATE_IN_CLAIM, refund matching), how
 * many units were refunded against it, and which records a facility's
 * dispense log line matches (reconciliation).  Keys are length-prefixed
 * components, so a (facility, settlement) or (facility, settlement, code)
 * prefix is one contiguous key range.
 *
 * Value: u8 type, u8 verdict, varint units.
 */
#include <string.h>

#include "ledger_int.h"

#define KEY_MAX 511	/* LMDB's default key size limit */

static int key_build(buf_t *b, yima_slice_t fac, yima_slice_t stl, yima_slice_t code)
{
	if (fac.n > 255 || stl.n > 255 || code.n > 255)
		return YIMA_EINVAL;
	buf_reset(b);
	buf_put_str8(b, fac.p, fac.n);
	buf_put_str8(b, stl.p, stl.n);
	if (code.n > 0)
		buf_put_str8(b, code.p, code.n);
	if (b->oom)
		return YIMA_ENOMEM;
	return b->len + 8 <= KEY_MAX ? 0 : YIMA_ETOOBIG;
}

int ledger_settle_put(ledger_txn_t *txn, yima_slice_t fac, yima_slice_t stl,
		      yima_slice_t code, const settle_entry_t *e)
{
	buf_t *b = &txn->scratch;
	uint8_t val[12];
	size_t vlen = 0;
	int rc;

	if (txn->err)
		return txn->err;
	if (code.n == 0)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	if ((rc = key_build(b, fac, stl, code)) < 0)
		return ledger_txn_fail(txn, rc);
	buf_put_u64be(b, e->seq);
	if (b->oom)
		return ledger_txn_fail(txn, YIMA_ENOMEM);
	val[vlen++] = (uint8_t)e->type;
	val[vlen++] = (uint8_t)e->verdict;
	uint64_t u = e->units;
	while (u >= 0x80) {
		val[vlen++] = (uint8_t)(u | 0x80);
		u >>= 7;
	}
	val[vlen++] = (uint8_t)u;
	MDB_val k = { b->len, b->p }, v = { vlen, val };
	rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_SETTLE), &k, &v, 0);
	return rc ? ledger_txn_fail(txn, yima_err_from_mdb(rc)) : 0;
}

/* Split a key found under the (facility, settlement) prefix of plen
 * bytes into its code and seq. */
static int key_split(const MDB_val *k, size_t plen, yima_slice_t *code, uint64_t *seq)
{
	const uint8_t *p = k->mv_data;
	if (k->mv_size < plen + 1 + 8)
		return YIMA_ECORRUPT;
	size_t cn = p[plen];
	if (k->mv_size != plen + 1 + cn + 8)
		return YIMA_ECORRUPT;
	*code = yima_slice((const char *)p + plen + 1, cn);
	*seq = get_u64be(p + plen + 1 + cn);
	return 0;
}

static int val_decode(const MDB_val *v, settle_entry_t *e)
{
	rd_t r;
	rd_init(&r, v->mv_data, v->mv_size);
	e->type = rd_u8(&r);
	e->verdict = rd_u8(&r);
	e->units = rd_varint(&r);
	return r.bad || rd_left(&r) ? YIMA_ECORRUPT : 0;
}

int ledger_settle_scan(ledger_txn_t *txn, yima_slice_t fac, yima_slice_t stl,
		       yima_slice_t code, settle_fn fn, void *arg)
{
	uint8_t prefix[KEY_MAX];
	buf_t kb;
	size_t plen, flen;
	int rc, mrc;

	if (txn->err)
		return txn->err;
	buf_init_fixed(&kb, prefix, sizeof prefix);
	if ((rc = key_build(&kb, fac, stl, code)) < 0)
		return ledger_txn_fail(txn, rc);
	plen = kb.len;
	flen = 2 + fac.n + stl.n;	/* the (facility, settlement) part */
	if (txn->settle_cur == NULL &&
	    (mrc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_SETTLE), &txn->settle_cur)) != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(mrc));
	MDB_cursor *cur = txn->settle_cur;
	MDB_val k = { plen, prefix }, v;
	rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		yima_slice_t c;
		settle_entry_t e;
		if ((rc = key_split(&k, flen, &c, &e.seq)) < 0 || (rc = val_decode(&v, &e)) < 0)
			return ledger_txn_fail(txn, rc);
		if ((rc = fn(arg, c, &e)) != 0)
			break;
	}
	if (rc == 1)
		rc = 0;
	else if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = ledger_txn_fail(txn, yima_err_from_mdb(mrc));
	return rc;
}
