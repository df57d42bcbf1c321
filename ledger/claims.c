/*
 * claims.c - what makes yimad's writes idempotent: the accepted
 * settlement claims and the received event batches.
 *
 *   claims   str8 facility, str8 settlement -> varint first_seq,
 *            varint count, 32-byte content hash
 *   batches  str8 facility, str8 batch id -> varint first_seq, varint count,
 *            [32-byte content digest] (absent for batches recorded before
 *            the digest existed)
 *
 * Both are rebuilt by `yima audit`'s replay and compared with the stored
 * ones: a claim from its records (they carry the claim flags), a batch
 * from its admin record (KIND_BATCH), which is chained like every other.
 */
#include <string.h>

#include "ledger_int.h"

static int pair_key(buf_t *b, yima_slice_t a, yima_slice_t c)
{
	if (a.n == 0 || a.n > 255 || c.n > 255)
		return YIMA_EINVAL;
	buf_reset(b);
	buf_put_str8(b, a.p, a.n);
	buf_put_str8(b, c.p, c.n);
	return b->oom ? YIMA_ENOMEM : 0;
}

/* The key (a, c) into k, over kbuf's storage. */
static int table_key(yima_slice_t a, yima_slice_t c, uint8_t *kbuf, size_t cap, MDB_val *k)
{
	buf_t key;
	int rc;

	buf_init_fixed(&key, kbuf, cap);
	if ((rc = pair_key(&key, a, c)) < 0)
		return rc;
	k->mv_size = key.len;
	k->mv_data = key.p;
	return 0;
}

static int table_get(ledger_txn_t *txn, enum ledger_db db, yima_slice_t a, yima_slice_t c,
		     rd_t *val)
{
	uint8_t kbuf[2 + 2 * 255];
	MDB_val k, v;
	int rc;

	if (txn->err)
		return txn->err;
	if (ledger_table_absent(txn->lg, db))
		return YIMA_ENOTFOUND;
	/* A pair that cannot be a key (empty facility, a part over 255
	 * bytes) was never stored: the answer is "not found", as for any
	 * absent key, not an error for the caller to interpret. */
	if (table_key(a, c, kbuf, sizeof kbuf, &k) < 0)
		return YIMA_ENOTFOUND;
	if ((rc = mdb_get(txn->mdb, ledger_dbi(txn, db), &k, &v)) != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(rc));
	rd_init(val, v.mv_data, v.mv_size);
	return 0;
}

static int table_put(ledger_txn_t *txn, enum ledger_db db, yima_slice_t a, yima_slice_t c,
		     const buf_t *val)
{
	uint8_t kbuf[2 + 2 * 255];
	MDB_val k, v;
	int rc;

	if (txn->err)
		return txn->err;
	if ((rc = table_key(a, c, kbuf, sizeof kbuf, &k)) < 0)
		return ledger_txn_fail(txn, rc);
	if (val->oom)
		return ledger_txn_fail(txn, YIMA_ENOMEM);
	v.mv_size = val->len;
	v.mv_data = val->p;
	if ((rc = mdb_put(txn->mdb, ledger_dbi(txn, db), &k, &v, 0)) != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	return 0;
}

int ledger_claim_get(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		     claim_entry_t *e)
{
	rd_t r;
	const uint8_t *h;
	int rc;

	memset(e, 0, sizeof *e);
	if ((rc = table_get(txn, DB_CLAIMS, facility, settlement, &r)) < 0)
		return rc;
	e->first_seq = rd_varint(&r);
	e->count = rd_varint(&r);
	h = rd_bytes(&r, LEDGER_HASH_LEN);
	if (h == NULL || r.bad || rd_left(&r) != 0)
		return ledger_txn_fail(txn, YIMA_ECORRUPT);
	memcpy(e->content, h, LEDGER_HASH_LEN);
	return 0;
}

int ledger_claim_put(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		     const claim_entry_t *e)
{
	uint8_t vbuf[2 * 10 + LEDGER_HASH_LEN];
	buf_t v;

	buf_init_fixed(&v, vbuf, sizeof vbuf);
	buf_put_varint(&v, e->first_seq);
	buf_put_varint(&v, e->count);
	buf_put(&v, e->content, LEDGER_HASH_LEN);
	return table_put(txn, DB_CLAIMS, facility, settlement, &v);
}

int ledger_batch_get(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t id,
		     batch_entry_t *e)
{
	rd_t r;
	int rc;

	memset(e, 0, sizeof *e);
	if ((rc = table_get(txn, DB_BATCHES, facility, id, &r)) < 0)
		return rc;
	e->first_seq = rd_varint(&r);
	e->count = rd_varint(&r);
	if (!r.bad && rd_left(&r) == LEDGER_HASH_LEN) {
		e->has_content = true;
		memcpy(e->content, rd_bytes(&r, LEDGER_HASH_LEN), LEDGER_HASH_LEN);
	}
	return r.bad || rd_left(&r) != 0 ? ledger_txn_fail(txn, YIMA_ECORRUPT) : 0;
}

int ledger_batch_put(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t id,
		     const batch_entry_t *e)
{
	uint8_t vbuf[2 * 10 + LEDGER_HASH_LEN];
	buf_t v, body;
	int rc;

	if (txn->err)
		return txn->err;
	if (id.n == 0 || id.n > BATCH_ID_MAX || facility.n == 0 || facility.n > 255)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	buf_init(&body);
	buf_put_str8(&body, facility.p, facility.n);
	buf_put_str8(&body, id.p, id.n);
	buf_put_varint(&body, e->first_seq);
	buf_put_varint(&body, e->count);
	if (e->has_content)
		buf_put(&body, e->content, LEDGER_HASH_LEN);
	rc = body.oom ? ledger_txn_fail(txn, YIMA_ENOMEM)
		      : ledger_admin_append_layout(txn, e->has_content ? ADMIN_LAYOUT_BATCH_DIGEST
								   : ADMIN_LAYOUT_1,
						   KIND_BATCH, &body);
	buf_deinit(&body);
	if (rc < 0)
		return rc;
	buf_init_fixed(&v, vbuf, sizeof vbuf);
	buf_put_varint(&v, e->first_seq);
	buf_put_varint(&v, e->count);
	if (e->has_content)
		buf_put(&v, e->content, LEDGER_HASH_LEN);
	return table_put(txn, DB_BATCHES, facility, id, &v);
}
