/*
 * log.c - the ledger as a signed transparency log (spec section 8,
 * docs/log.md): its origin and Ed25519 key (DIR/log.key, tlog/note.h),
 * setting the log up on a ledger that has none (a new one, or one written
 * before the log: its tree built from the records already there), and a
 * C2SP checkpoint signed at every commit that grows the tree, stored in
 * the same transaction, so the latest checkpoint always covers exactly
 * the committed records.
 *
 * meta: "log_origin" (the origin, also the key's name), "log_vkey" (the
 * verifier key, so readers need no private key), "checkpoint" (the latest
 * signed note), "tree" (tree.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"
#include "yima/tlog/checkpoint.h"

_Static_assert(LEDGER_PROOF_MAX == MERKLE_MAX_PROOF && LEDGER_HASH_LEN == MERKLE_HASH_SIZE,
	       "ledger.h's proof sizes are merkle.h's");

static int meta_text(ledger_txn_t *txn, const char *name, yima_slice_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_META), &k, &v);

	*out = yima_slice(NULL, 0);	/* never read unset, whatever rc says */
	if (rc != 0)
		return yima_err_from_mdb(rc);
	*out = yima_slice(v.mv_data, v.mv_size);
	return 0;
}

static int meta_set(ledger_txn_t *txn, const char *name, const void *p, size_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v = { n, (void *)p };
	int rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_META), &k, &v, 0);
	return rc ? yima_err_from_mdb(rc) : 0;
}

/* DIR/log.key as the key named origin; made only when setting up. */
static int log_signer(ledger_t *lg, const char *origin, bool make, char *why, size_t whylen)
{
	char path[4096];
	int rc;

	if (lg->signer != NULL)
		return 0;
	if ((size_t)snprintf(path, sizeof path, "%s/log.key", lg->dir) >= sizeof path)
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: path too long", lg->dir);
	rc = note_signer_open(path, origin, make, &lg->signer, why, whylen);
	if (rc == YIMA_ENOTFOUND)
		return yima_fail(why, whylen, rc, "%s: the log's signing key is missing; restore it from "
				 "a backup (a new key would not verify the checkpoints given out)", path);
	return rc;
}

/* The key of a log that exists, for a write transaction (tree.c). */
int ledger_log_key(ledger_txn_t *txn, char *why, size_t whylen)
{
	char origin[NOTE_NAME_MAX + 1];
	yima_slice_t o;

	if (txn->lg->signer != NULL)
		return 0;
	if (meta_text(txn, "log_origin", &o) < 0 || o.n == 0 || o.n > NOTE_NAME_MAX)
		return yima_fail(why, whylen, YIMA_ECORRUPT, "%s: the log's origin is missing", txn->lg->dir);
	memcpy(origin, o.p, o.n);
	origin[o.n] = '\0';
	return log_signer(txn->lg, origin, false, why, whylen);
}

static int build_entry(void *arg, const void *val, size_t len, const uint8_t *admin_key)
{
	return ledger_tree_append(arg, val, len, admin_key);
}

int ledger_log_setup(ledger_txn_t *txn, char *why, size_t whylen)
{
	ledger_t *lg = txn->lg;
	char origin[NOTE_NAME_MAX + 1], vkey[NOTE_VKEY_MAX];
	size_t vlen;
	int rc;

	if (lg->origin_wanted[0] != '\0')
		snprintf(origin, sizeof origin, "%s", lg->origin_wanted);
	else
		checkpoint_default_origin(origin);
	if ((rc = log_signer(lg, origin, true, why, whylen)) < 0)
		return rc;
	if ((rc = note_signer_vkey(lg->signer, vkey, sizeof vkey, &vlen)) < 0 ||
	    (rc = meta_set(txn, "log_origin", origin, strlen(origin))) < 0 ||
	    (rc = meta_set(txn, "log_vkey", vkey, vlen)) < 0)
		return yima_fail(why, whylen, rc, "%s: setting up the log: %s", lg->dir, yima_strerror(rc));
	/* every record already there, in chain order (the chain checked on
	 * the way: a broken ledger gets no signed tree) */
	if ((rc = ledger_chain_walk_raw(txn, build_entry, txn, why, whylen)) < 0)
		return rc;
	return txn->err < 0 ? yima_fail(why, whylen, txn->err, "%s: building the tree: %s", lg->dir,
					 yima_strerror(txn->err)) : 0;
}

/* A checkpoint of the transaction's tree as it is now, kept in the txn. */
static int log_sign(ledger_txn_t *txn, yima_slice_t *note)
{
	checkpoint_t cp;
	char *p, why[256];
	size_t len;
	int rc;

	if ((p = ledger_tree_note(txn, &len)) != NULL) {
		*note = yima_slice(p, len);
		return 0;
	}
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", note_signer_name(txn->lg->signer));
	cp.size = ledger_tree_size(txn);
	if ((rc = ledger_tree_root(txn, cp.root)) < 0 ||
	    (rc = checkpoint_sign(txn->lg->signer, &cp, &p, &len, why, sizeof why)) < 0)
		return rc;
	ledger_tree_note_keep(txn, p, len);
	*note = yima_slice(p, len);
	return 0;
}

int ledger_log_commit(ledger_txn_t *txn)
{
	yima_slice_t note;
	int rc;

	if (!ledger_tree_changed(txn))
		return 0;
	if ((rc = ledger_tree_flush(txn)) < 0 || (rc = log_sign(txn, &note)) < 0)
		return rc;
	return meta_set(txn, "checkpoint", note.p, note.n);
}

int ledger_log_checkpoint(ledger_txn_t *txn, yima_slice_t *note)
{
	int rc;

	if (txn->err)
		return txn->err;
	if (!ledger_tree_changed(txn))
		return meta_text(txn, "checkpoint", note);
	return (rc = log_sign(txn, note)) < 0 ? ledger_txn_fail(txn, rc) : 0;
}

int ledger_log_vkey(ledger_txn_t *txn, yima_slice_t *vkey)
{
	return meta_text(txn, "log_vkey", vkey);
}

int ledger_log_size(ledger_txn_t *txn, uint64_t *size)
{
	yima_slice_t origin;
	int rc = meta_text(txn, "log_origin", &origin);
	*size = txn->events + txn->admin;
	return rc;
}

int ledger_log_start(ledger_t *lg, const char *origin, char *why, size_t whylen)
{
	ledger_txn_t *txn;
	yima_slice_t have;
	int rc;

	if (origin != NULL && (strlen(origin) > NOTE_NAME_MAX || !note_name_valid(origin, strlen(origin))))
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "log origin \"%s\": not a key name (1-255 bytes of UTF-8, no spaces, no '+')",
				 origin);
	snprintf(lg->origin_wanted, sizeof lg->origin_wanted, "%s", origin ? origin : "");
	lg->log_why[0] = '\0';
	if ((rc = ledger_txn_begin(lg, true, &txn)) < 0)
		return yima_fail(why, whylen, rc, "%s", lg->log_why[0] ? lg->log_why : yima_strerror(rc));
	if (origin != NULL && meta_text(txn, "log_origin", &have) == 0 && !yima_slice_eq_cstr(have, origin)) {
		ledger_txn_abort(txn);
		return yima_fail(why, whylen, YIMA_EEXIST, "%s: the log's origin is %.*s; it is set once, "
				 "when the log is made", lg->dir, (int)have.n, have.p);
	}
	if ((rc = ledger_txn_commit(txn)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", lg->dir, yima_strerror(rc));
	return 0;
}

/* ---- proofs ----------------------------------------------------------- */

static int log_reader(ledger_txn_t *txn, uint64_t size, merkle_store_rd_t *rd, merkle_reader_t *r,
		      char *why, size_t whylen)
{
	uint64_t have;
	int rc = ledger_log_size(txn, &have);

	if (rc == YIMA_ENOTFOUND)
		return yima_fail(why, whylen, rc, "this ledger has no log yet (it gets one on its next write)");
	if (rc == 0 && size > have)
		return yima_fail(why, whylen, YIMA_EINVAL, "size %llu is over the log's %llu entries",
				 (unsigned long long)size, (unsigned long long)have);
	if (rc == 0)
		rc = ledger_tree_reader(txn, rd, r);
	return rc < 0 ? yima_fail(why, whylen, rc, "%s", yima_strerror(rc)) : 0;
}

int ledger_log_root(ledger_txn_t *txn, uint64_t size, uint8_t root[LEDGER_HASH_LEN],
		    char *why, size_t whylen)
{
	merkle_store_rd_t rd;
	merkle_reader_t r;
	int rc;

	if ((rc = log_reader(txn, size, &rd, &r, why, whylen)) < 0)
		return rc;
	if ((rc = merkle_root(&r, size, root)) < 0)
		return yima_fail(why, whylen, rc, "reading the tree: %s", yima_strerror(rc));
	return 0;
}

int ledger_log_prove(ledger_txn_t *txn, bool consistency, uint64_t from, uint64_t size,
		     uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN], size_t *len, char *why,
		     size_t whylen)
{
	merkle_store_rd_t rd;
	merkle_reader_t r;
	int rc;

	if ((rc = log_reader(txn, size, &rd, &r, why, whylen)) < 0)
		return rc;
	rc = consistency ? merkle_prove_consistency(&r, from, size, proof, len, why, whylen)
			 : merkle_prove_inclusion(&r, from, size, proof, len, why, whylen);
	if (rc < 0 && rc != YIMA_EINVAL)
		return yima_fail(why, whylen, rc, "reading the tree: %s", yima_strerror(rc));
	return rc;
}
