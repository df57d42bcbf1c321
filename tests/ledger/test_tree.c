/*
 * test_tree.c - the ledger as a verifiable log (spec section 8): a real
 * ledger of events with admin records interleaved, written in several
 * commits, against a reference tree computed here from the entries alone:
 *
 *  - every record is entry i, its stored bytes, in chain order; an
 *    event's index and an index's record map both ways;
 *  - for every size up to ~260 the root is the reference MTH, and every
 *    inclusion proof (index, size) and consistency proof (old, size)
 *    verifies against the reference roots; random ones on a larger ledger;
 *  - a checkpoint signed by the log's key after every commit, of exactly
 *    the committed size and root;
 *  - a ledger written before the log (tests/fixtures/ledger-v1-batches)
 *    opens read-only without one, gets it on ledger_log_start and audits
 *    clean;
 *  - the audit refuses a stored tree hash flipped, a checkpoint changed,
 *    one signed by another key, and an extra stored value.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "yima/ledger/ledger.h"
#include "yima/tlog/checkpoint.h"
#include "yima/tlog/merkle.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/audit.h"
#include "yima/verifier/verify.h"

/* ---- a small real ledger ----------------------------------------------- */

/* Event i through the verifier (so the audit's replay agrees with it). */
static void add_event(ledger_txn_t *txn, uint64_t i)
{
	char code[32], fac[8], t[40];
	yima_slice_t f[EVENT_NCOLUMNS];
	verify_input_t in;
	verify_result_t res;
	uint64_t index, before = ledger_event_count(txn) + ledger_admin_count(txn);

	snprintf(code, sizeof code, "8100001%013llu", (unsigned long long)i);
	snprintf(fac, sizeof fac, "H%u", (unsigned)(i % 7));
	snprintf(t, sizeof t, "2026-03-01T10:%02u:%02u+08:00", (unsigned)(i / 60 % 60), (unsigned)(i % 60));
	for (int c = 0; c < EVENT_NCOLUMNS; c++)
		f[c] = yima_slice("", 0);
	f[0] = yima_slice_cstr(t);
	f[1] = yima_slice_cstr(fac);
	f[2] = yima_slice_cstr("receive");
	f[3] = yima_slice_cstr(code);
	verify_input_from_fields(f, &in);
	cr_assert_eq(verify_apply(txn, &in, &res), 0);
	cr_assert_eq(res.index, before, "an event's index is the entries before it");
	cr_assert_eq(ledger_event_index(txn, res.seq, &index), 0);
	cr_assert_eq(index, before);
}

static void add_admin(ledger_txn_t *txn, uint64_t i)
{
	char key[8];
	snprintf(key, sizeof key, "81000%02u", (unsigned)(i % 100));
	if (i % 2 == 0) {
		catalog_entry_t e;
		memset(&e, 0, sizeof e);
		snprintf(e.product, sizeof e.product, "%s", key);
		snprintf(e.drug, sizeof e.drug, "DRUG%llu", (unsigned long long)i);
		e.pack_units = 1 + i;
		e.name = yima_slice_cstr("name");
		e.spec = yima_slice_cstr("spec");
		cr_assert_eq(ledger_catalog_put(txn, &e), 0);
	} else {
		cr_assert_eq(ledger_refund_window_set(txn, (uint32_t)(11 + i)), 0);
	}
}

/* n entries in commits of `per` entries; entry i is an admin record when
 * admin(i).  Checks the checkpoint after every commit with check_cp. */
static void fill(ledger_t *lg, uint64_t n, uint64_t per, bool (*admin)(uint64_t),
		 void (*check_cp)(ledger_t *, uint64_t))
{
	ledger_txn_t *txn = NULL;
	for (uint64_t i = 0; i < n; i++) {
		if (txn == NULL)
			cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
		if (admin(i))
			add_admin(txn, i);
		else
			add_event(txn, i);
		if ((i + 1) % per == 0 || i + 1 == n) {
			cr_assert_eq(ledger_txn_commit(txn), 0);
			txn = NULL;
			if (check_cp != NULL)
				check_cp(lg, i + 1);
		}
	}
}

static bool some_admin(uint64_t i)
{
	return i % 11 == 3 || i % 29 == 0 || (i > 100 && i < 106);
}

static bool few_admin(uint64_t i)
{
	return i % 1000 == 7;
}

static ledger_t *new_ledger(char **dir)
{
	char why[512];
	ledger_t *lg;
	*dir = tu_mkdtemp();
	cr_assert_eq(ledger_open(*dir, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_log_start(lg, "yima.test/tree", why, sizeof why), 0, "%s", why);
	return lg;
}

/* ---- the reference: RFC 9162 MTH from the entries ------------------------ */

typedef struct ref {
	uint64_t n;
	merkle_hash_t *leaf;
} ref_t;

static void ref_load(ledger_t *lg, ref_t *r)
{
	ledger_txn_t *txn;
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_log_size(txn, &r->n), 0);
	r->leaf = calloc(r->n, sizeof *r->leaf);
	for (uint64_t i = 0; i < r->n; i++) {
		yima_slice_t e;
		cr_assert_eq(ledger_entry_get(txn, i, &e, NULL), 0, "entry %llu", (unsigned long long)i);
		cr_assert_eq(merkle_leaf_hash(e.p, e.n, r->leaf[i]), 0);
	}
	ledger_txn_abort(txn);
}

static void ref_mth(const ref_t *r, uint64_t lo, uint64_t hi, uint8_t out[32])
{
	if (hi - lo == 1) {
		memcpy(out, r->leaf[lo], 32);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < hi - lo)
		k *= 2;
	uint8_t a[32], b[32];
	ref_mth(r, lo, lo + k, a);
	ref_mth(r, lo + k, hi, b);
	cr_assert_eq(merkle_node_hash(a, b, out), 0);
}

static void ref_root(const ref_t *r, uint64_t size, uint8_t out[32])
{
	if (size == 0)
		merkle_empty_root(out);
	else
		ref_mth(r, 0, size, out);
}

/* ---- the tests -------------------------------------------------------- */

/* Every record is the entry at its index, and back. */
static void check_entries(ledger_t *lg)
{
	ledger_txn_t *txn;
	uint64_t n, events = 0;
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_log_size(txn, &n), 0);
	cr_assert_eq(n, ledger_event_count(txn) + ledger_admin_count(txn));
	for (uint64_t i = 0; i < n; i++) {
		yima_slice_t e;
		bool admin;
		ledger_event_t ev;
		cr_assert_eq(ledger_entry_get(txn, i, &e, &admin), 0);
		cr_assert_eq(admin, some_admin(i), "entry %llu", (unsigned long long)i);
		if (admin)
			continue;
		events++;
		uint64_t idx;
		cr_assert_eq(ledger_event_index(txn, events, &idx), 0);
		cr_assert_eq(idx, i, "event %llu is entry %llu", (unsigned long long)events,
			     (unsigned long long)idx);
		cr_assert_eq(ledger_event_decode(e.p, e.n, &ev), 0, "entry %llu is an event record",
			     (unsigned long long)i);
		cr_assert_eq(ledger_event_get(txn, events, &ev), 0);
		cr_assert_eq(memcmp(ev.hash, e.p + e.n - 32, 32), 0, "the entry ends in its chain hash");
	}
	yima_slice_t e;
	cr_assert_eq(ledger_entry_get(txn, n, &e, NULL), YIMA_ENOTFOUND);
	ledger_txn_abort(txn);
}

static void check_cp_at(ledger_t *lg, uint64_t size)
{
	ledger_txn_t *txn;
	yima_slice_t note, vkey;
	uint8_t root[32];
	char why[256];
	ref_t r;

	ref_load(lg, &r);
	cr_assert_eq(r.n, size);
	ref_root(&r, size, root);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_log_checkpoint(txn, &note), 0);
	cr_assert_eq(ledger_log_vkey(txn, &vkey), 0);
	cr_assert_eq(checkpoint_check(vkey.p, vkey.n, note.p, note.n, size, root, why, sizeof why), 0,
		     "after the commit to %llu entries: %s", (unsigned long long)size, why);
	cr_assert(strncmp(note.p, "yima.test/tree\n", 15) == 0);
	ledger_txn_abort(txn);
	free(r.leaf);
}

Test(tree, every_proof_of_a_real_ledger)
{
	char *dir, why[256];
	ledger_t *lg = new_ledger(&dir);
	merkle_hash_t (*roots)[1] = NULL;
	uint8_t p[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
	ref_t r;
	size_t len;

	fill(lg, 260, 37, some_admin, check_cp_at);
	check_entries(lg);
	ref_load(lg, &r);
	roots = calloc(r.n + 1, sizeof *roots);
	for (uint64_t s = 0; s <= r.n; s++)
		ref_root(&r, s, roots[s][0]);
	ledger_txn_t *txn;
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	for (uint64_t size = 1; size <= r.n; size++) {
		uint8_t root[32];
		cr_assert_eq(ledger_log_root(txn, size, root, why, sizeof why), 0, "%s", why);
		cr_assert_eq(memcmp(root, roots[size][0], 32), 0, "root of size %llu", (unsigned long long)size);
		for (uint64_t i = 0; i < size; i++) {
			cr_assert_eq(ledger_log_prove(txn, false, i, size, p, &len, why, sizeof why), 0, "%s", why);
			cr_assert_eq(merkle_verify_inclusion(r.leaf[i], i, size, (const merkle_hash_t *)p, len,
							     roots[size][0], why, sizeof why), 0,
				     "inclusion %llu in %llu: %s", (unsigned long long)i,
				     (unsigned long long)size, why);
		}
		for (uint64_t m = 0; m <= size; m++) {
			cr_assert_eq(ledger_log_prove(txn, true, m, size, p, &len, why, sizeof why), 0, "%s", why);
			cr_assert_eq(merkle_verify_consistency(m, size, (const merkle_hash_t *)p, len,
							       roots[m][0], roots[size][0], why, sizeof why), 0,
				     "consistency %llu to %llu: %s", (unsigned long long)m,
				     (unsigned long long)size, why);
		}
	}
	cr_assert_eq(ledger_log_prove(txn, false, 5, r.n + 1, p, &len, why, sizeof why), YIMA_EINVAL,
		     "a size past the log is refused");
	cr_assert_eq(ledger_log_prove(txn, false, r.n, r.n, p, &len, why, sizeof why), YIMA_EINVAL);
	ledger_txn_abort(txn);
	free(roots);
	free(r.leaf);
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
}

Test(tree, random_proofs_of_a_larger_ledger)
{
	char *dir, why[256];
	ledger_t *lg = new_ledger(&dir);
	uint8_t p[LEDGER_PROOF_MAX][LEDGER_HASH_LEN], root[32], old[32];
	ledger_txn_t *txn;
	ref_t r;
	size_t len;

	fill(lg, 40000, 9000, few_admin, NULL);
	ref_load(lg, &r);
	srand(7);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	for (int k = 0; k < 300; k++) {
		uint64_t size = 1 + (uint64_t)rand() % r.n, i = (uint64_t)rand() % size;
		uint64_t m = (uint64_t)rand() % (size + 1);
		cr_assert_eq(ledger_log_root(txn, size, root, why, sizeof why), 0);
		cr_assert_eq(ledger_log_prove(txn, false, i, size, p, &len, why, sizeof why), 0);
		cr_assert_eq(merkle_verify_inclusion(r.leaf[i], i, size, (const merkle_hash_t *)p, len, root,
						     why, sizeof why), 0, "%s", why);
		cr_assert_eq(ledger_log_root(txn, m, old, why, sizeof why), 0);
		cr_assert_eq(ledger_log_prove(txn, true, m, size, p, &len, why, sizeof why), 0);
		cr_assert_eq(merkle_verify_consistency(m, size, (const merkle_hash_t *)p, len, old, root,
						       why, sizeof why), 0, "%s", why);
	}
	ref_root(&r, r.n, old);
	cr_assert_eq(ledger_log_root(txn, r.n, root, why, sizeof why), 0);
	cr_assert_eq(memcmp(root, old, 32), 0, "the whole tree's root is the reference MTH");
	/* a tile of level 0 is the leaf hashes; of level 1 the level-8 hashes */
	uint8_t tile[256 * 32], h[32];
	cr_assert_eq(ledger_log_tile_hashes(txn, 0, 256 * 3, 256, tile), 0);
	cr_assert_eq(memcmp(tile, r.leaf[256 * 3], 256 * 32), 0);
	cr_assert_eq(ledger_log_tile_hashes(txn, 1, 0, 156, tile), 0);
	ref_mth(&r, 256 * 155, 256 * 156, h);
	cr_assert_eq(memcmp(tile + 155 * 32, h, 32), 0);
	cr_assert_neq(ledger_log_tile_hashes(txn, 1, 0, 157, tile), 0, "hash 156 of level 8 is not complete");
	ledger_txn_abort(txn);
	check_cp_at(lg, r.n);
	free(r.leaf);
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
}

/* In a write transaction, proofs and the checkpoint see its own appends,
 * also past the appends after which a worker thread hashes (store_pipe.c:
 * 4,096) and in the middle of one of its batches. */
Test(tree, proofs_inside_the_writing_transaction)
{
	char *dir, why[256];
	ledger_t *lg = new_ledger(&dir);
	uint8_t p[LEDGER_PROOF_MAX][LEDGER_HASH_LEN], root[32];
	ledger_txn_t *txn;
	yima_slice_t note, vkey, e;
	size_t len;

	fill(lg, 300, 300, some_admin, NULL);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	for (uint64_t i = 300; i < 6500; i++)
		add_event(txn, i);
	cr_assert_eq(ledger_log_checkpoint(txn, &note), 0);
	cr_assert_eq(ledger_log_vkey(txn, &vkey), 0);
	cr_assert_eq(ledger_log_root(txn, 6500, root, why, sizeof why), 0);
	cr_assert_eq(checkpoint_check(vkey.p, vkey.n, note.p, note.n, 6500, root, why, sizeof why), 0, "%s", why);
	for (uint64_t i = 0; i < 6500; i += 97) {
		uint8_t leaf[32];
		cr_assert_eq(ledger_entry_get(txn, i, &e, NULL), 0);
		cr_assert_eq(merkle_leaf_hash(e.p, e.n, leaf), 0);
		cr_assert_eq(ledger_log_prove(txn, false, i, 6500, p, &len, why, sizeof why), 0, "%s", why);
		cr_assert_eq(merkle_verify_inclusion(leaf, i, 6500, (const merkle_hash_t *)p, len, root, why,
						     sizeof why), 0, "%s", why);
	}
	char *kept = strndup(note.p, note.n);
	cr_assert_eq(ledger_txn_commit(txn), 0);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_log_checkpoint(txn, &note), 0);
	cr_assert(note.n == strlen(kept) && memcmp(note.p, kept, note.n) == 0,
		  "the checkpoint given out before commit is the one stored");
	ledger_txn_abort(txn);
	free(kept);
	check_cp_at(lg, 6500);
	/* appends after a read in the middle of the worker's batches */
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	for (uint64_t i = 6500; i < 12000; i++) {
		add_event(txn, i);
		if (i == 9999)
			cr_assert_eq(ledger_log_root(txn, 10000, root, why, sizeof why), 0);
	}
	cr_assert_eq(ledger_txn_commit(txn), 0);
	check_cp_at(lg, 12000);
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
}

static int audit_dir(const char *db, char *why, size_t n)
{
	ledger_t *lg;
	audit_result_t res;
	char *scratch = tu_mkdtemp();
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, n), 0, "%s", why);
	int rc = audit_ledger(lg, scratch, NULL, NULL, &res, why, n);
	ledger_close(lg);
	tu_rmtree(scratch);
	free(scratch);
	return rc;
}

Test(tree, a_ledger_from_before_the_log_gets_one)
{
	char *top = tu_mkdtemp(), *db, *cmd, why[512];
	ledger_t *lg;
	ledger_txn_t *txn;
	uint64_t n;
	struct stat st;

	cr_assert(asprintf(&db, "%s/db", top) > 0);
	cr_assert(asprintf(&cmd, "mkdir -p %s && gzip -dc %s/tests/fixtures/ledger-v1-batches/data.mdb.gz > %s/data.mdb",
			   db, YIMA_SOURCE_DIR, db) > 0);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_log_size(txn, &n), YIMA_ENOTFOUND, "no log yet");
	ledger_txn_abort(txn);
	ledger_close(lg);
	cr_assert_eq(audit_dir(db, why, sizeof why), 0, "before: %s", why);

	cr_assert_eq(ledger_open(db, 0, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_log_start(lg, "yima.old", why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_log_start(lg, "yima.other", why, sizeof why), YIMA_EEXIST);
	cr_assert(strstr(why, "yima.old") != NULL, "%s", why);
	cr_assert_eq(ledger_log_start(lg, NULL, why, sizeof why), 0, "%s", why);
	ledger_close(lg);
	free(cmd);
	cr_assert(asprintf(&cmd, "%s/log.key", db) > 0);
	cr_assert_eq(stat(cmd, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(audit_dir(db, why, sizeof why), 0, "after: %s", why);

	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_log_size(txn, &n), 0);
	cr_assert_eq(n, ledger_event_count(txn) + ledger_admin_count(txn));
	cr_assert_eq(n, 5 + 4, "5 events, a catalog row and three batches");
	yima_slice_t note;
	cr_assert_eq(ledger_log_checkpoint(txn, &note), 0);
	cr_assert(strncmp(note.p, "yima.old\n9\n", 11) == 0, "%.*s", (int)note.n, note.p);
	ledger_txn_abort(txn);
	ledger_close(lg);
	free(cmd);
	free(db);
	tu_rmtree(top);
	free(top);
}

/* ---- tampering ---------------------------------------------------------- */

typedef void (*tamper_fn)(MDB_txn *t, MDB_dbi meta, MDB_dbi tree, const char *dir);

static void tamper(const char *dir, tamper_fn fn)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi meta, tree;
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, (size_t)1 << 34);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &t), 0);
	cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
	cr_assert_eq(mdb_dbi_open(t, "tree", 0, &tree), 0);
	fn(t, meta, tree, dir);
	cr_assert_eq(mdb_txn_commit(t), 0);
	mdb_env_close(env);
}

static void flip_leaf(MDB_txn *t, MDB_dbi meta, MDB_dbi tree, const char *dir)
{
	uint8_t key[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 1 }, copy[127 * 32];
	MDB_val k = { 9, key }, v;
	(void)meta; (void)dir;
	cr_assert_eq(mdb_get(t, tree, &k, &v), 0);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[40 * 32 + 5] ^= 1;
	v.mv_data = copy;
	cr_assert_eq(mdb_put(t, tree, &k, &v, 0), 0);
}

static void extra_value(MDB_txn *t, MDB_dbi meta, MDB_dbi tree, const char *dir)
{
	uint8_t key[9] = { 9, 0, 0, 0, 0, 0, 0, 0, 0 }, h[32] = { 0 };
	MDB_val k = { 9, key }, v = { 32, h };
	(void)meta; (void)dir;
	cr_assert_eq(mdb_put(t, tree, &k, &v, 0), 0);
}

static void checkpoint_put(MDB_txn *t, MDB_dbi meta, const char *note)
{
	MDB_val k = { 10, "checkpoint" }, v = { strlen(note), (void *)note };
	cr_assert_eq(mdb_put(t, meta, &k, &v, 0), 0);
}

/* The size one less: a changed checkpoint whose signature fails. */
static void edit_checkpoint(MDB_txn *t, MDB_dbi meta, MDB_dbi tree, const char *dir)
{
	MDB_val k = { 10, "checkpoint" }, v;
	char note[1024];
	(void)tree; (void)dir;
	cr_assert_eq(mdb_get(t, meta, &k, &v), 0);
	cr_assert(v.mv_size < sizeof note);
	memcpy(note, v.mv_data, v.mv_size);
	note[v.mv_size] = '\0';
	char *nl = strchr(note, '\n');
	cr_assert(nl != NULL && nl[1] == '3');
	nl[1] = '2';	/* 300 -> 200 */
	checkpoint_put(t, meta, note);
}

/* A good signature by another key of the same name, on the true root. */
static void foreign_checkpoint(MDB_txn *t, MDB_dbi meta, MDB_dbi tree, const char *dir)
{
	MDB_val k = { 10, "checkpoint" }, v;
	note_signer_t *s;
	checkpoint_t cp;
	char *note, text[1024], why[256];
	size_t len;
	(void)tree; (void)dir;
	cr_assert_eq(mdb_get(t, meta, &k, &v), 0);
	memcpy(text, v.mv_data, v.mv_size);
	cr_assert_eq(checkpoint_parse(text, (size_t)(strstr(text, "\n\n") + 1 - text), &cp, why, sizeof why), 0);
	cr_assert_eq(note_signer_generate("yima.test/tree", &s, why, sizeof why), 0);
	cr_assert_eq(checkpoint_sign(s, &cp, &note, &len, why, sizeof why), 0);
	checkpoint_put(t, meta, note);
	free(note);
	note_signer_free(s);
}

Test(tree, audit_refuses_a_tampered_tree_or_checkpoint)
{
	static const struct {
		tamper_fn fn;
		const char *says;
	} cases[] = {
		{ flip_leaf, "tree hashes differ" },
		{ extra_value, "tree tables hold other values" },
		{ edit_checkpoint, "checkpoint does not verify" },
		{ foreign_checkpoint, "checkpoint does not verify" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char *dir, why[512];
		ledger_t *lg = new_ledger(&dir);
		fill(lg, 300, 100, some_admin, NULL);
		ledger_close(lg);
		cr_assert_eq(audit_dir(dir, why, sizeof why), 0, "%s", why);
		tamper(dir, cases[c].fn);
		cr_assert_eq(audit_dir(dir, why, sizeof why), YIMA_EMISMATCH, "case %zu: %s", c, why);
		cr_assert(strstr(why, cases[c].says) != NULL, "case %zu: %s", c, why);
		tu_rmtree(dir);
		free(dir);
	}
}
