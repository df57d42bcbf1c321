/*
 * tree.c - the ledger's records as an RFC 9162 Merkle tree (spec section
 * 8, docs/log.md "Storage"): entry i is the stored bytes (the LMDB value,
 * chain hash included) of the i-th record in chain order, events and
 * admin records alike.
 *
 *   tree        u8 slot, u64 BE chunk -> packed hashes of every 4th tree
 *               level (tlog/store.h: 127 a value, one 4 KiB overflow page)
 *   tree_admin  u64 BE index -> the 16-byte key of the admin record that is
 *               entry index: the way from an index back to its record (an
 *               event's index is its seq plus the admin records before it)
 *   meta "tree" the frontier, so appending reads nothing
 *
 * A write transaction appends through a merkle_store_t (last chunks in
 * memory, a put per 127 records); readers fold hashes from the table.
 */
#include <string.h>

#include "ledger_int.h"
#include "yima/tlog/checkpoint.h"
#include "yima/tlog/tile.h"

struct ledger_tree {
	merkle_store_t *st;
	uint64_t start_size;		/* at the transaction's start */
	bool fresh;			/* the log was set up in this txn */
	char *note;			/* signed in this txn (malloc'd) */
	size_t note_len;
	uint64_t note_size;
};

static void chunk_key(uint8_t key[9], unsigned slot, uint64_t chunk)
{
	key[0] = (uint8_t)slot;
	put_u64be(key + 1, chunk);
}

static int io_get(void *ctx, unsigned slot, uint64_t chunk, const uint8_t **p, size_t *n)
{
	ledger_txn_t *txn = ctx;
	uint8_t key[9];
	MDB_val k = { 9, key }, v;
	int rc;

	if (ledger_table_absent(txn->lg, DB_TREE))
		return YIMA_ENOTFOUND;
	chunk_key(key, slot, chunk);
	if ((rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_TREE), &k, &v)) != 0)
		return yima_err_from_mdb(rc);
	if (v.mv_size == 0 || v.mv_size > MERKLE_STORE_CHUNK * MERKLE_HASH_SIZE ||
	    v.mv_size % MERKLE_HASH_SIZE)
		return YIMA_ECORRUPT;
	*p = v.mv_data;
	*n = v.mv_size / MERKLE_HASH_SIZE;
	return 0;
}

static int io_put(void *ctx, unsigned slot, uint64_t chunk, const uint8_t *p, size_t n)
{
	ledger_txn_t *txn = ctx;
	uint8_t key[9];
	MDB_val k = { 9, key }, v = { n * MERKLE_HASH_SIZE, NULL };
	int rc;

	chunk_key(key, slot, chunk);
	if ((rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_TREE), &k, &v, MDB_RESERVE)) != 0)
		return yima_err_from_mdb(rc);
	memcpy(v.mv_data, p, v.mv_size);
	return 0;
}

static merkle_store_io_t tree_io(ledger_txn_t *txn)
{
	merkle_store_io_t io = { io_get, io_put, txn };
	return io;
}

merkle_hasher_t *ledger_txn_hasher(ledger_txn_t *txn)
{
	return &txn->hasher;	/* a zeroed hasher is an initialized one */
}

/* ---- the write transaction's tree ---------------------------------------- */

static int frontier_load(ledger_txn_t *txn, merkle_frontier_t *f, bool *found)
{
	MDB_val k = { 4, "tree" }, v;
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_META), &k, &v);

	*found = rc == 0;
	merkle_frontier_init(f);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return yima_err_from_mdb(rc);
	if (merkle_frontier_decode(v.mv_data, v.mv_size, f) < 0 || f->size != txn->events + txn->admin)
		return YIMA_ECORRUPT;
	return 0;
}

int ledger_tree_begin(ledger_txn_t *txn, char *why, size_t whylen)
{
	merkle_frontier_t f;
	merkle_store_io_t io = tree_io(txn);
	bool found;
	int rc;

	if ((rc = frontier_load(txn, &f, &found)) < 0)
		return yima_fail(why, whylen, rc, "%s: the stored tree head is corrupt", txn->lg->dir);
	if ((txn->tree = calloc(1, sizeof *txn->tree)) == NULL ||
	    merkle_store_new(&io, &f, &txn->tree->st) < 0)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	txn->tree->start_size = f.size;
	if (found)
		return ledger_log_key(txn, why, whylen);
	/* A ledger from before the log (or a new one): set it up, its tree
	 * built from the records already there, in this transaction. */
	txn->tree->fresh = true;
	return ledger_log_setup(txn, why, whylen);
}

void ledger_tree_free(ledger_txn_t *txn)
{
	if (txn->tree == NULL)
		return;
	merkle_store_free(txn->tree->st);
	free(txn->tree->note);
	free(txn->tree);
	txn->tree = NULL;
}

int ledger_tree_append(ledger_txn_t *txn, const void *entry, size_t len, const uint8_t *admin_key)
{
	uint8_t ikey[8];
	uint64_t index;
	int rc;

	if (txn->err)
		return txn->err;
	if (txn->tree == NULL)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	if ((rc = merkle_store_append(txn->tree->st, entry, len, &index)) < 0)
		return ledger_txn_fail(txn, rc);
	if (admin_key == NULL)
		return 0;
	put_u64be(ikey, index);
	MDB_val k = { 8, ikey }, v = { 16, (void *)admin_key };
	if ((rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_TREE_ADMIN), &k, &v, MDB_APPEND)) != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	return 0;
}

uint64_t ledger_tree_size(const ledger_txn_t *txn)
{
	return txn->tree != NULL ? merkle_store_size(txn->tree->st) : 0;
}

bool ledger_tree_changed(const ledger_txn_t *txn)
{
	return txn->tree != NULL && (txn->tree->fresh || ledger_tree_size(txn) != txn->tree->start_size);
}

int ledger_tree_root(ledger_txn_t *txn, uint8_t root[MERKLE_HASH_SIZE])
{
	return merkle_store_root(txn->tree->st, root);
}

char *ledger_tree_note(ledger_txn_t *txn, size_t *len)
{
	struct ledger_tree *t = txn->tree;
	if (t == NULL || t->note == NULL || t->note_size != ledger_tree_size(txn))
		return NULL;
	*len = t->note_len;
	return t->note;
}

void ledger_tree_note_keep(ledger_txn_t *txn, char *note, size_t len)
{
	free(txn->tree->note);
	txn->tree->note = note;
	txn->tree->note_len = len;
	txn->tree->note_size = ledger_tree_size(txn);
}

int ledger_tree_flush(ledger_txn_t *txn)
{
	uint8_t fr[MERKLE_FRONTIER_MAX];
	int rc;

	if ((rc = merkle_store_flush(txn->tree->st)) < 0)
		return rc;
	MDB_val k = { 4, "tree" }, v = { merkle_frontier_encode(merkle_store_frontier(txn->tree->st), fr), fr };
	rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_META), &k, &v, 0);
	return rc ? yima_err_from_mdb(rc) : 0;
}

/* ---- reading: proofs and tiles -------------------------------------------- */

int ledger_tree_reader(ledger_txn_t *txn, merkle_store_rd_t *rd, merkle_reader_t *r)
{
	bool found;
	int rc;
	rd->io = tree_io(txn);
	rd->s = txn->tree != NULL ? txn->tree->st : NULL;
	if ((rd->h = ledger_txn_hasher(txn)) == NULL)
		return YIMA_ECRYPTO;
	if (rd->s != NULL && (rc = merkle_store_sync(rd->s)) < 0)
		return rc;
	if (rd->s != NULL)
		rd->f = *merkle_store_frontier(rd->s);
	else if (frontier_load(txn, &rd->f, &found) < 0 || !found)
		merkle_frontier_init(&rd->f);
	rd->has_f = rd->f.size > 0;
	merkle_store_reader(rd, r);
	return 0;
}

int ledger_log_tile_hashes(ledger_txn_t *txn, unsigned tile_level, uint64_t first, size_t count,
			   uint8_t *out)
{
	merkle_store_rd_t rd;
	merkle_reader_t r;
	int rc;

	if (tile_level > TILE_MAX_LEVEL / TILE_HEIGHT)
		return YIMA_EINVAL;
	if ((rc = ledger_tree_reader(txn, &rd, &r)) < 0)
		return rc;
	return merkle_store_hashes(&rd, tile_level * (TILE_HEIGHT / MERKLE_STORE_STEP), first, count, out);
}

/* ---- from an index to its record and back -------------------------------- */

int ledger_event_index(ledger_txn_t *txn, uint64_t seq, uint64_t *index)
{
	uint8_t key[16];
	MDB_cursor *c;
	MDB_val k = { 16, key }, v;
	uint64_t before = 0;
	int rc;

	if (seq == 0 || seq > txn->events)
		return YIMA_ENOTFOUND;
	/* the admin records made after fewer than seq events come before it */
	put_u64be(key, seq);
	put_u64be(key + 8, 0);
	if (txn->admin_cur == NULL &&
	    (rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_ADMIN), &txn->admin_cur)) != 0)
		return yima_err_from_mdb(rc);
	c = txn->admin_cur;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0 && k.mv_size == 16)
		before = get_u64be((const uint8_t *)k.mv_data + 8);
	else if (rc == 0)
		rc = MDB_CORRUPTED;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return yima_err_from_mdb(rc);
	*index = seq - 1 + before;
	return 0;
}

/* The admin record at index (returns 1, key filled), or an event (returns
 * 0, *admins_before the admin records before it), or <0. */
static int admin_at(ledger_txn_t *txn, uint64_t index, uint8_t key[16], uint64_t *admins_before)
{
	uint8_t ikey[8];
	MDB_cursor *c;
	MDB_val k = { 8, ikey }, v;
	int rc, found = 0;

	*admins_before = 0;
	if (ledger_table_absent(txn->lg, DB_TREE_ADMIN))
		return YIMA_ENOTFOUND;
	put_u64be(ikey, index);
	if ((rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_TREE_ADMIN), &c)) != 0)
		return yima_err_from_mdb(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == 8 && get_u64be(k.mv_data) == index)
		found = 1;
	else if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0 && v.mv_size != 16)
		rc = MDB_CORRUPTED;
	if (rc == 0 && found)
		memcpy(key, v.mv_data, 16);
	else if (rc == 0)
		*admins_before = get_u64be((const uint8_t *)v.mv_data + 8);
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return yima_err_from_mdb(rc);
	return found;
}

int ledger_entry_get(ledger_txn_t *txn, uint64_t index, yima_slice_t *entry, bool *is_admin)
{
	uint8_t key[16];
	uint64_t before;
	int rc, found;

	if (index >= txn->events + txn->admin)
		return YIMA_ENOTFOUND;
	if ((found = admin_at(txn, index, key, &before)) < 0)
		return found;
	MDB_val k = { 16, key }, v;
	if (found) {
		rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_ADMIN), &k, &v);
	} else {
		put_u64be(key, index - before + 1);	/* the event's seq */
		k.mv_size = 8;
		rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_EVENTS), &k, &v);
	}
	if (rc != 0)
		return rc == MDB_NOTFOUND ? YIMA_ECORRUPT : yima_err_from_mdb(rc);
	*entry = yima_slice(v.mv_data, v.mv_size);
	if (is_admin != NULL)
		*is_admin = found;
	return 0;
}

/* ---- checking the stored tree (ledger_chain_walk, so `yima audit`) -------- */

struct tree_check {
	ledger_txn_t *txn;
	merkle_store_check_t *c;
};

int ledger_tree_check_new(ledger_txn_t *txn, tree_check_t **out, char *why, size_t whylen)
{
	MDB_val k = { 4, "tree" }, v;
	merkle_store_io_t io = tree_io(txn);
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_META), &k, &v);

	*out = NULL;
	if (rc == MDB_NOTFOUND)		/* no log yet */
		return 0;
	if (rc != 0)
		return yima_fail(why, whylen, yima_err_from_mdb(rc), "meta: %s", mdb_strerror(rc));
	if (ledger_table_absent(txn->lg, DB_TREE) || ledger_table_absent(txn->lg, DB_TREE_ADMIN))
		return yima_fail(why, whylen, YIMA_ECORRUPT, "the log's tree tables are missing");
	if ((*out = calloc(1, sizeof **out)) == NULL || merkle_store_check_new(&io, &(*out)->c) < 0)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	(*out)->txn = txn;
	return 0;
}

void ledger_tree_check_free(tree_check_t *c)
{
	if (c != NULL)
		merkle_store_check_free(c->c);
	free(c);
}

/* Each record's hashes as stored, and its index in tree_admin if (and
 * only if) it is an admin record. */
int ledger_tree_check_entry(void *arg, const void *val, size_t len, const uint8_t *admin_key)
{
	tree_check_t *c = arg;
	uint8_t ikey[8];
	int rc;

	put_u64be(ikey, merkle_store_check_frontier(c->c)->size);
	if ((rc = merkle_store_check(c->c, val, len)) < 0)
		return rc;
	MDB_val k = { 8, ikey }, v;
	rc = mdb_get(c->txn->mdb, ledger_dbi(c->txn, DB_TREE_ADMIN), &k, &v);
	if (admin_key == NULL)
		return rc == MDB_NOTFOUND ? 0 : rc == 0 ? YIMA_EMISMATCH : yima_err_from_mdb(rc);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? YIMA_EMISMATCH : yima_err_from_mdb(rc);
	return v.mv_size == 16 && memcmp(v.mv_data, admin_key, 16) == 0 ? 0 : YIMA_EMISMATCH;
}

/* The stored head and value counts are the tree's, and the latest
 * checkpoint is signed by the log's key for exactly this tree. */
int ledger_tree_check_end(tree_check_t *c, char *why, size_t whylen)
{
	const merkle_frontier_t *f = merkle_store_check_frontier(c->c);
	uint8_t enc[MERKLE_FRONTIER_MAX], root[MERKLE_HASH_SIZE];
	MDB_val k = { 4, "tree" }, v;
	MDB_stat st, sa;
	yima_slice_t note, vkey;
	size_t n = merkle_frontier_encode(f, enc);
	int rc;

	if (mdb_get(c->txn->mdb, ledger_dbi(c->txn, DB_META), &k, &v) != 0 || v.mv_size != n ||
	    memcmp(v.mv_data, enc, n) != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the stored tree head is not the one the records give");
	if (mdb_stat(c->txn->mdb, ledger_dbi(c->txn, DB_TREE), &st) != 0 ||
	    mdb_stat(c->txn->mdb, ledger_dbi(c->txn, DB_TREE_ADMIN), &sa) != 0 ||
	    st.ms_entries != merkle_store_values(f->size) || sa.ms_entries != c->txn->admin)
		return yima_fail(why, whylen, YIMA_EMISMATCH,
				 "the tree tables hold other values than a tree of %llu entries has",
				 (unsigned long long)f->size);
	if ((rc = merkle_frontier_root(f, merkle_store_check_hasher(c->c), root)) < 0)
		return yima_fail(why, whylen, rc, "hashing failed");
	if (ledger_log_checkpoint(c->txn, &note) < 0 || ledger_log_vkey(c->txn, &vkey) < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the log has no checkpoint or no verifier key");
	char msg[256];
	if (checkpoint_check(vkey.p, vkey.n, note.p, note.n, f->size, root, msg, sizeof msg) < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH,
				 "the latest checkpoint does not verify against the log's key: %s", msg);
	return 0;
}
