/*
 * catalog.c - the product catalog (spec section 2) inside the ledger.
 *
 * product id -> str8 drug, varint pack_units, str16 name, str16 spec,
 * [varint max_units_30d] (only a row with a limit has it: a row without
 * one is stored as it always was).  Every put is also chained as an admin
 * record (layout 2 when it has a limit), so a rewritten catalog (which
 * would change verdicts) is caught by the audit like a rewritten event,
 * and a reload's limits apply from its place in the chain on (spec
 * section 7: later events only).
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

int ledger_catalog_get(ledger_txn_t *txn, const char *product, size_t n, catalog_entry_t *e)
{
	rd_t r;
	size_t len;
	const char *p;

	memset(e, 0, sizeof *e);
	if (txn->err)
		return txn->err;
	if (n == 0 || n > CODE_PRODUCT_MAX)
		return YIMA_ENOTFOUND;	/* no such key can be stored */
	MDB_val k = { n, (void *)product }, v;
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_CATALOG), &k, &v);
	if (rc != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(rc));
	memcpy(e->product, product, n);
	rd_init(&r, v.mv_data, v.mv_size);
	p = rd_str8(&r, &len);
	if (p == NULL || len >= sizeof e->drug)
		return ledger_txn_fail(txn, YIMA_ECORRUPT);
	memcpy(e->drug, p, len);
	e->pack_units = rd_varint(&r);
	p = rd_str16(&r, &len);
	e->name = yima_slice(p ? p : "", len);
	p = rd_str16(&r, &len);
	e->spec = yima_slice(p ? p : "", len);
	if (!r.bad && rd_left(&r) > 0 && (e->max_units_30d = rd_varint(&r)) == 0)
		return ledger_txn_fail(txn, YIMA_ECORRUPT);	/* never written: no limit has no field */
	return r.bad || rd_left(&r) ? ledger_txn_fail(txn, YIMA_ECORRUPT) : 0;
}

static size_t cache_slot(const char *product, size_t n)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)product[i]) * 1099511628211ull;
	return (size_t)(h % CATCACHE_SLOTS);
}

int ledger_catalog_lookup(ledger_txn_t *txn, const char *product, size_t n, catalog_entry_t *e)
{
	struct catcache_slot *s;
	int rc;

	if (txn->err)
		return txn->err;
	if (n == 0 || n > CODE_PRODUCT_MAX)
		return YIMA_ENOTFOUND;
	if (txn->catcache == NULL && (txn->catcache = calloc(CATCACHE_SLOTS, sizeof *s)) == NULL)
		return ledger_catalog_get(txn, product, n, e);
	s = &txn->catcache[cache_slot(product, n)];
	if (s->state != 0 && s->plen == n && memcmp(s->product, product, n) == 0) {
		if (s->state == 2)
			return YIMA_ENOTFOUND;
		memset(e, 0, sizeof *e);
		memcpy(e->product, product, n);
		memcpy(e->drug, s->drug, sizeof e->drug);
		e->pack_units = s->pack_units;
		e->max_units_30d = s->max_units_30d;
		e->name = e->spec = yima_slice("", 0);
		return 0;
	}
	rc = ledger_catalog_get(txn, product, n, e);
	if (rc < 0 && rc != YIMA_ENOTFOUND)
		return rc;
	s->state = rc == 0 ? 1 : 2;
	s->plen = (uint8_t)n;
	memcpy(s->product, product, n);
	if (rc == 0) {
		memcpy(s->drug, e->drug, sizeof s->drug);
		s->pack_units = e->pack_units;
		s->max_units_30d = e->max_units_30d;
	}
	return rc;
}

int ledger_catalog_put(ledger_txn_t *txn, const catalog_entry_t *e)
{
	size_t plen = strlen(e->product), dlen = strlen(e->drug);
	buf_t val;
	int rc;

	if (txn->err)
		return txn->err;
	if (plen == 0 || plen > CODE_PRODUCT_MAX || dlen == 0 || dlen > 32 ||
	    e->name.n > 65535 || e->spec.n > 65535)
		return YIMA_EINVAL;
	buf_init(&val);
	buf_put_str8(&val, e->drug, dlen);
	buf_put_varint(&val, e->pack_units);
	buf_put_str16(&val, e->name.p, e->name.n);
	buf_put_str16(&val, e->spec.p, e->spec.n);
	if (e->max_units_30d > 0)
		buf_put_varint(&val, e->max_units_30d);
	if (val.oom) {
		rc = ledger_txn_fail(txn, YIMA_ENOMEM);
		goto free_val;
	}
	MDB_val k = { plen, (void *)e->product }, v = { val.len, val.p };
	if ((rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_CATALOG), &k, &v, 0)) != 0) {
		rc = ledger_txn_fail(txn, yima_err_from_mdb(rc));
		goto free_val;
	}
	if (txn->catcache != NULL)
		memset(txn->catcache, 0, CATCACHE_SLOTS * sizeof *txn->catcache);
	/* the admin body is the product id followed by the stored value */
	buf_t body;
	buf_init(&body);
	buf_put_str8(&body, e->product, plen);
	buf_put(&body, val.p, val.len);
	rc = body.oom ? ledger_txn_fail(txn, YIMA_ENOMEM) :
	     ledger_admin_append_layout(txn, e->max_units_30d > 0 ? ADMIN_LAYOUT_CATALOG_LIMIT : ADMIN_LAYOUT_1,
					KIND_CATALOG, &body);
	buf_deinit(&body);
free_val:
	buf_deinit(&val);
	return rc;
}
