/*
 * admin.c - admin records: catalog rows, recall changes and settings,
 * chained with the events so that `yima audit` covers them too.
 *
 * Key: after_event (u64 BE) + admin seq (u64 BE): an admin record made
 * after event k sorts, in chain order, between events k and k+1.
 * Value: u8 layout, u8 kind, body, 32-byte chain hash.
 *   KIND_CATALOG        str8 product, str8 drug, varint pack_units,
 *                       str16 name, str16 spec; in layout 2 then varint
 *                       max_units_30d (>= 1; layout 1: no limit)
 *   KIND_RECALL_ADD/_REMOVE  u8 recall kind, str8 key
 *   KIND_REFUND_WINDOW  varint days
 *   KIND_BATCH          str8 facility, str8 batch id, varint first_seq,
 *                       varint count; in layout 2 then the 32-byte
 *                       content digest (layout 1: batches recorded
 *                       before it existed)
 * Every other kind is layout 1 (ledger_int.h).
 */
#include <string.h>

#include "ledger_int.h"

int ledger_admin_append(ledger_txn_t *txn, enum rec_kind kind, const buf_t *body)
{
	return ledger_admin_append_layout(txn, ADMIN_LAYOUT_1, kind, body);
}

int ledger_admin_append_layout(ledger_txn_t *txn, uint8_t layout, enum rec_kind kind,
			       const buf_t *body)
{
	uint8_t key[16], hash[LEDGER_HASH_LEN];
	buf_t rec;
	int rc;

	if (txn->err)
		return txn->err;
	buf_init(&rec);
	buf_putc(&rec, layout);
	buf_putc(&rec, (uint8_t)kind);
	buf_put(&rec, body->p, body->len);
	if (rec.oom) {
		rc = YIMA_ENOMEM;
		goto free_rec;
	}
	if ((rc = ledger_chain_hash(txn, txn->head, rec.p, rec.len, hash)) < 0)
		goto free_rec;
	buf_put(&rec, hash, sizeof hash);
	if (rec.oom) {
		rc = YIMA_ENOMEM;
		goto free_rec;
	}
	put_u64be(key, txn->events);
	put_u64be(key + 8, txn->admin + 1);
	MDB_val k = { 16, key }, v = { rec.len, rec.p };
	if ((rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_ADMIN), &k, &v, MDB_APPEND)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto free_rec;
	}
	if ((rc = ledger_tree_append(txn, rec.p, rec.len, key)) < 0)
		goto free_rec;
	txn->admin++;
	memcpy(txn->head, hash, LEDGER_HASH_LEN);
	txn->meta_dirty = true;
free_rec:
	buf_deinit(&rec);
	return rc < 0 ? ledger_txn_fail(txn, rc) : 0;
}

static bool copy_str(rd_t *r, char *out, size_t cap)
{
	size_t n;
	const char *p = rd_str8(r, &n);
	if (p == NULL || n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int body_decode(rd_t *r, uint8_t layout, ledger_admin_t *a)
{
	size_t n;
	const char *p;

	switch (a->kind) {
	case ADMIN_CATALOG:
		if (!copy_str(r, a->cat.product, sizeof a->cat.product) ||
		    !copy_str(r, a->cat.drug, sizeof a->cat.drug))
			return YIMA_ECORRUPT;
		a->cat.pack_units = rd_varint(r);
		p = rd_str16(r, &n);
		a->cat.name = yima_slice(p ? p : "", n);
		p = rd_str16(r, &n);
		a->cat.spec = yima_slice(p ? p : "", n);
		if (layout == ADMIN_LAYOUT_CATALOG_LIMIT && (a->cat.max_units_30d = rd_varint(r)) == 0)
			return YIMA_ECORRUPT;
		return 0;
	case ADMIN_RECALL_ADD:
	case ADMIN_RECALL_REMOVE:
		a->recall = rd_u8(r);
		p = rd_str8(r, &n);
		a->key = yima_slice(p ? p : "", n);
		return 0;
	case ADMIN_REFUND_WINDOW: {
		uint64_t days = rd_varint(r);
		if (days > UINT32_MAX)	/* never written: no silent truncation */
			return YIMA_ECORRUPT;
		a->days = (uint32_t)days;
		return 0;
	}
	case ADMIN_BATCH:
		p = rd_str8(r, &n);
		a->facility = yima_slice(p ? p : "", n);
		p = rd_str8(r, &n);
		a->key = yima_slice(p ? p : "", n);
		a->batch.first_seq = rd_varint(r);
		a->batch.count = rd_varint(r);
		if (layout == ADMIN_LAYOUT_BATCH_DIGEST) {
			const uint8_t *d = rd_bytes(r, LEDGER_HASH_LEN);
			if (d == NULL)
				return YIMA_ECORRUPT;
			a->batch.has_content = true;
			memcpy(a->batch.content, d, LEDGER_HASH_LEN);
		}
		return 0;
	default:
		return YIMA_ECORRUPT;
	}
}

int ledger_admin_decode(const void *key, size_t klen, const void *val,
			size_t vlen, ledger_admin_t *a)
{
	rd_t r;
	int rc;

	memset(a, 0, sizeof *a);
	if (klen != 16 || vlen < 2 + LEDGER_HASH_LEN)
		return YIMA_ECORRUPT;
	a->after_event = get_u64be(key);
	a->seq = get_u64be((const uint8_t *)key + 8);
	rd_init(&r, val, vlen - LEDGER_HASH_LEN);
	uint8_t layout = rd_u8(&r);
	a->kind = (enum admin_kind)rd_u8(&r);
	if (layout != ADMIN_LAYOUT_1 &&
	    !(layout == ADMIN_LAYOUT_BATCH_DIGEST && a->kind == ADMIN_BATCH) &&
	    !(layout == ADMIN_LAYOUT_CATALOG_LIMIT && a->kind == ADMIN_CATALOG))
		return YIMA_EVERSION;
	if ((rc = body_decode(&r, layout, a)) < 0)
		return rc;
	if (r.bad || rd_left(&r) != 0)
		return YIMA_ECORRUPT;
	memcpy(a->hash, (const uint8_t *)val + vlen - LEDGER_HASH_LEN, LEDGER_HASH_LEN);
	return 0;
}

/* ---- refund window setting ---------------------------------------------- */

uint32_t ledger_refund_window(ledger_txn_t *txn)
{
	return txn->refund_window;
}

int ledger_refund_window_set(ledger_txn_t *txn, uint32_t days)
{
	buf_t body;
	int rc;

	if (txn->err)
		return txn->err;
	if (days == txn->refund_window)
		return 0;
	buf_init(&body);
	buf_put_varint(&body, days);
	rc = body.oom ? ledger_txn_fail(txn, YIMA_ENOMEM) : ledger_admin_append(txn, KIND_REFUND_WINDOW, &body);
	buf_deinit(&body);
	if (rc == 0) {
		txn->refund_window = days;
		txn->meta_dirty = true;
	}
	return rc;
}
