/*
 * codes.c - per-code state (spec section 4), keyed by canonical code.
 *
 * Value layout 1: u8 layout, u8 flags (1 applied, 2 destroyed, 4 units
 * known, 8 sold at a second facility), varints units_left, pack_units,
 * last_seq, events, then str8 holder, in_transit_to, dispensed_at,
 * sold_at.  Small (typically ~25 bytes), so
 * one state lookup per event stays in a few cached B-tree pages.
 */
#include <string.h>

#include "ledger_int.h"

enum {
	CF_APPLIED = 1,
	CF_DESTROYED = 2,
	CF_UNITS_KNOWN = 4,
	CF_SOLD_MULTI = 8,
};

static void put_fac(buf_t *b, const char *s)
{
	buf_put_str8(b, s, strlen(s));
}

static bool get_fac(rd_t *r, char out[FACILITY_MAX + 1])
{
	size_t n;
	const char *p = rd_str8(r, &n);
	if (p == NULL || n > FACILITY_MAX)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int state_decode(const void *val, size_t len, code_state_t *st)
{
	rd_t r;

	memset(st, 0, sizeof *st);
	rd_init(&r, val, len);
	if (rd_u8(&r) != CODES_LAYOUT)
		return YIMA_ECORRUPT;
	uint8_t flags = rd_u8(&r);
	st->applied = flags & CF_APPLIED;
	st->destroyed = flags & CF_DESTROYED;
	st->units_known = flags & CF_UNITS_KNOWN;
	st->sold_elsewhere_too = flags & CF_SOLD_MULTI;
	st->units_left = rd_varint(&r);
	st->pack_units = rd_varint(&r);
	st->last_seq = rd_varint(&r);
	st->events = rd_varint(&r);
	if (!get_fac(&r, st->holder) || !get_fac(&r, st->in_transit_to) ||
	    !get_fac(&r, st->dispensed_at) || !get_fac(&r, st->sold_at) || r.bad || rd_left(&r) != 0)
		return YIMA_ECORRUPT;
	return 0;
}

int ledger_code_get(ledger_txn_t *txn, const char *canon, size_t n, code_state_t *st)
{
	memset(st, 0, sizeof *st);
	if (txn->err)
		return txn->err;
	if (n == 0 || n > 511)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	MDB_val k = { n, (void *)canon }, v;
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_CODES), &k, &v);
	if (rc != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(rc));
	return ledger_txn_read(txn, state_decode(v.mv_data, v.mv_size, st));
}

int ledger_code_put(ledger_txn_t *txn, const char *canon, size_t n, const code_state_t *st)
{
	uint8_t flags = (st->applied ? CF_APPLIED : 0) | (st->destroyed ? CF_DESTROYED : 0) |
			(st->units_known ? CF_UNITS_KNOWN : 0) | (st->sold_elsewhere_too ? CF_SOLD_MULTI : 0);
	buf_t *b = &txn->scratch;

	if (txn->err)
		return txn->err;
	if (n == 0 || n > 511)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	buf_reset(b);
	buf_putc(b, CODES_LAYOUT);
	buf_putc(b, flags);
	buf_put_varint(b, st->units_left);
	buf_put_varint(b, st->pack_units);
	buf_put_varint(b, st->last_seq);
	buf_put_varint(b, st->events);
	put_fac(b, st->holder);
	put_fac(b, st->in_transit_to);
	put_fac(b, st->dispensed_at);
	put_fac(b, st->sold_at);
	if (b->oom)
		return ledger_txn_fail(txn, YIMA_ENOMEM);
	MDB_val k = { n, (void *)canon }, v = { b->len, b->p };
	int rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_CODES), &k, &v, 0);
	return rc ? ledger_txn_fail(txn, yima_err_from_mdb(rc)) : 0;
}
