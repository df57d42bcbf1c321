/*
 * walk.c - walking the hash chain in order (for `yima audit`, and for
 * building and checking the Merkle tree, which has the records in the same
 * order), and comparing the derived tables of two ledgers.
 *
 * Chain order: admin records made after k events (key after_event = k)
 * come between events k and k+1.  Each record's stored hash must equal
 * SHA-256(previous hash || its bytes); seqs must run 1, 2, ... without a
 * gap; the counters and head in `meta` must match what the walk saw.
 */
#include <inttypes.h>
#include <string.h>

#include "ledger_int.h"

struct walker {
	ledger_txn_t *txn;
	const ledger_walk_fns_t *fns;
	void *arg;
	ledger_entry_fn entry;	/* every record's stored bytes, or NULL */
	void *entry_arg;
	MDB_cursor *ev, *ad;
	MDB_val ek, evv, ak, av;
	int erc, arc;		/* cursor state: 0 = positioned */
	uint64_t events, admins;
	uint8_t head[LEDGER_HASH_LEN];
	char *why;
	size_t whylen;
};

static int check_link(struct walker *w, const void *val, size_t len, const char *what, uint64_t seq)
{
	uint8_t h[LEDGER_HASH_LEN];
	int rc;

	if (len < LEDGER_HASH_LEN + 2)
		return yima_fail(w->why, w->whylen, YIMA_ECORRUPT, "%s %" PRIu64 ": record too short", what, seq);
	if ((rc = ledger_chain_hash(w->txn, w->head, val, len - LEDGER_HASH_LEN, h)) < 0)
		return yima_fail(w->why, w->whylen, rc, "%s %" PRIu64 ": hashing failed", what, seq);
	if (memcmp(h, (const uint8_t *)val + len - LEDGER_HASH_LEN, LEDGER_HASH_LEN) != 0)
		return yima_fail(w->why, w->whylen, YIMA_EMISMATCH,
				 "%s %" PRIu64 ": chain hash does not match (record altered, removed or reordered)",
				 what, seq);
	memcpy(w->head, h, LEDGER_HASH_LEN);
	return 0;
}

static int step_event(struct walker *w)
{
	ledger_event_t ev;
	uint64_t seq;
	int rc;

	if (w->ek.mv_size != 8)
		return yima_fail(w->why, w->whylen, YIMA_ECORRUPT, "event after %" PRIu64 ": bad key", w->events);
	seq = get_u64be(w->ek.mv_data);
	if (seq != w->events + 1)
		return yima_fail(w->why, w->whylen, YIMA_EMISMATCH,
				 "event %" PRIu64 ": expected seq %" PRIu64 " (records missing)", seq, w->events + 1);
	if ((rc = check_link(w, w->evv.mv_data, w->evv.mv_size, "event", seq)) < 0)
		return rc;
	if (w->entry != NULL && (rc = w->entry(w->entry_arg, w->evv.mv_data, w->evv.mv_size, NULL)) < 0)
		return yima_fail(w->why, w->whylen, rc, "event %" PRIu64 ": %s", seq,
				 rc == YIMA_EMISMATCH ? "its stored tree hashes differ from the record's"
						      : yima_strerror(rc));
	if ((rc = ledger_event_decode(w->evv.mv_data, w->evv.mv_size, &ev)) < 0)
		return yima_fail(w->why, w->whylen, ledger_txn_fail(w->txn, rc),
				 "event %" PRIu64 ": cannot decode: %s", seq, yima_strerror(rc));
	ev.seq = seq;
	w->events = seq;
	return w->fns && w->fns->event ? w->fns->event(w->arg, &ev) : 0;
}

static int step_admin(struct walker *w)
{
	ledger_admin_t a;
	int rc = ledger_admin_decode(w->ak.mv_data, w->ak.mv_size, w->av.mv_data, w->av.mv_size, &a);

	if (rc < 0)
		return yima_fail(w->why, w->whylen, ledger_txn_fail(w->txn, rc),
				 "admin record after event %" PRIu64 ": cannot decode", w->events);
	if (a.seq != w->admins + 1)
		return yima_fail(w->why, w->whylen, YIMA_EMISMATCH,
				 "admin %" PRIu64 ": expected seq %" PRIu64 " (records missing)", a.seq, w->admins + 1);
	if ((rc = check_link(w, w->av.mv_data, w->av.mv_size, "admin", a.seq)) < 0)
		return rc;
	if (w->entry != NULL &&
	    (rc = w->entry(w->entry_arg, w->av.mv_data, w->av.mv_size, w->ak.mv_data)) < 0)
		return yima_fail(w->why, w->whylen, rc, "admin %" PRIu64 ": %s", a.seq,
				 rc == YIMA_EMISMATCH ? "its stored tree hashes differ from the record's"
						      : yima_strerror(rc));
	w->admins = a.seq;
	return w->fns && w->fns->admin ? w->fns->admin(w->arg, &a) : 0;
}

static bool admin_next_in_order(const struct walker *w)
{
	if (w->arc != 0)
		return false;
	if (w->erc != 0)
		return true;
	/* admin made after k events precedes event k+1 */
	return w->ak.mv_size >= 8 && get_u64be(w->ak.mv_data) < get_u64be(w->ek.mv_data);
}

static int walk_records(struct walker *w)
{
	int rc;

	w->erc = mdb_cursor_get(w->ev, &w->ek, &w->evv, MDB_FIRST);
	w->arc = mdb_cursor_get(w->ad, &w->ak, &w->av, MDB_FIRST);
	while (w->erc == 0 || w->arc == 0) {
		if (admin_next_in_order(w)) {
			if ((rc = step_admin(w)) < 0)
				return rc;
			w->arc = mdb_cursor_get(w->ad, &w->ak, &w->av, MDB_NEXT);
		} else {
			if ((rc = step_event(w)) < 0)
				return rc;
			w->erc = mdb_cursor_get(w->ev, &w->ek, &w->evv, MDB_NEXT);
		}
	}
	if (w->erc != MDB_NOTFOUND || w->arc != MDB_NOTFOUND) {
		rc = w->erc != MDB_NOTFOUND ? w->erc : w->arc;
		return yima_fail(w->why, w->whylen, ledger_txn_fail(w->txn, yima_err_from_mdb(rc)),
				 "reading records: %s", mdb_strerror(rc));
	}
	return 0;
}

static int check_meta(struct walker *w)
{
	ledger_txn_t *t = w->txn;
	if (t->events != w->events || t->admin != w->admins)
		return yima_fail(w->why, w->whylen, YIMA_EMISMATCH,
				 "counters say %" PRIu64 " events and %" PRIu64 " admin records, the chain has %"
				 PRIu64 " and %" PRIu64, t->events, t->admin, w->events, w->admins);
	if (memcmp(t->head, w->head, LEDGER_HASH_LEN) != 0)
		return yima_fail(w->why, w->whylen, YIMA_EMISMATCH, "stored chain head differs from the recomputed one");
	return 0;
}

static int walk_run(struct walker *w, uint64_t *records)
{
	ledger_txn_t *txn = w->txn;
	int rc;

	if (txn->err)
		return yima_fail(w->why, w->whylen, txn->err, "%s", yima_strerror(txn->err));
	if ((rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_EVENTS), &w->ev)) != 0)
		return yima_fail(w->why, w->whylen, ledger_txn_fail(txn, yima_err_from_mdb(rc)),
				 "events: %s", mdb_strerror(rc));
	if ((rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_ADMIN), &w->ad)) != 0) {
		rc = yima_fail(w->why, w->whylen, ledger_txn_fail(txn, yima_err_from_mdb(rc)), "admin: %s",
			       mdb_strerror(rc));
		goto close_ev;
	}
	if ((rc = walk_records(w)) == 0)
		rc = check_meta(w);
	if (records != NULL)
		*records = w->events;
	mdb_cursor_close(w->ad);
close_ev:
	mdb_cursor_close(w->ev);
	return rc;
}

static void walk_init(struct walker *w, ledger_txn_t *txn, char *why, size_t whylen)
{
	memset(w, 0, sizeof *w);
	w->txn = txn;
	w->why = why;
	w->whylen = whylen;
}

int ledger_chain_walk_raw(ledger_txn_t *txn, ledger_entry_fn fn, void *arg, char *why, size_t whylen)
{
	struct walker w;

	walk_init(&w, txn, why, whylen);
	w.entry = fn;
	w.entry_arg = arg;
	return walk_run(&w, NULL);
}

/* With a log, the walk also checks the stored tree against the records
 * and the latest checkpoint against the tree (tree_check.c). */
int ledger_chain_walk(ledger_txn_t *txn, const ledger_walk_fns_t *fns, void *arg,
		      uint64_t *records, char *why, size_t whylen)
{
	struct walker w;
	tree_check_t *chk = NULL;
	int rc;

	*records = 0;
	walk_init(&w, txn, why, whylen);
	w.fns = fns;
	w.arg = arg;
	if ((rc = ledger_tree_check_new(txn, &chk, why, whylen)) < 0)
		return rc;
	if (chk != NULL) {
		w.entry = ledger_tree_check_entry;
		w.entry_arg = chk;
	}
	rc = walk_run(&w, records);
	if (rc == 0 && chk != NULL)
		rc = ledger_tree_check_end(chk, why, whylen);
	ledger_tree_check_free(chk);
	return rc;
}

/* ---- comparing derived tables ----------------------------------------- */

static void key_hex(const MDB_val *k, char *out, size_t cap)
{
	const uint8_t *p = k->mv_data;
	size_t o = 0;
	for (size_t i = 0; i < k->mv_size && o + 3 < cap; i++) {
		uint8_t c = p[i];
		if (c >= 0x21 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c) ;
	}
	out[o < cap ? o : cap - 1] = '\0';
}

/* A table missing on one side (an older ledger) matches an empty one. */
static int compare_absent(ledger_txn_t *a, ledger_txn_t *b, enum ledger_db db, char *why,
			  size_t whylen)
{
	ledger_txn_t *t = ledger_table_absent(a->lg, db) ? b : a;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (ledger_table_absent(t->lg, db))
		return 0;
	if ((rc = mdb_cursor_open(t->mdb, ledger_dbi(t, db), &c)) != 0)
		return yima_fail(why, whylen, yima_err_from_mdb(rc), "%s: %s", ledger_db_names[db],
				 mdb_strerror(rc));
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	return yima_fail(why, whylen, YIMA_EMISMATCH, "table %s: %s", ledger_db_names[db],
			 t == a ? "is stored but no event made it" : "is missing");
}

static int compare_table(ledger_txn_t *a, ledger_txn_t *b, enum ledger_db db, char *why, size_t whylen)
{
	MDB_cursor *ca, *cb;
	MDB_val ka, va, kb, vb;
	char hex[160];
	int ra, rb, rc = 0;

	if (ledger_table_absent(a->lg, db) || ledger_table_absent(b->lg, db))
		return compare_absent(a, b, db, why, whylen);
	if ((ra = mdb_cursor_open(a->mdb, ledger_dbi(a, db), &ca)) != 0)
		return yima_fail(why, whylen, yima_err_from_mdb(ra), "%s: %s", ledger_db_names[db], mdb_strerror(ra));
	if ((rb = mdb_cursor_open(b->mdb, ledger_dbi(b, db), &cb)) != 0) {
		mdb_cursor_close(ca);
		return yima_fail(why, whylen, yima_err_from_mdb(rb), "%s: %s", ledger_db_names[db], mdb_strerror(rb));
	}
	ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
	rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
	for (; ra == 0 && rb == 0; ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT),
				   rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT)) {
		if (ka.mv_size != kb.mv_size || memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0) {
			key_hex(&ka, hex, sizeof hex);
			rc = yima_fail(why, whylen, YIMA_EMISMATCH,
				       "table %s: stored entry %s is not what replaying the log gives",
				       ledger_db_names[db], hex);
			goto close;
		}
		if (va.mv_size != vb.mv_size || memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0) {
			key_hex(&ka, hex, sizeof hex);
			rc = yima_fail(why, whylen, YIMA_EMISMATCH,
				       "table %s: entry %s differs from what replaying the log gives",
				       ledger_db_names[db], hex);
			goto close;
		}
	}
	if (ra == 0 || rb == 0) {
		key_hex(ra == 0 ? &ka : &kb, hex, sizeof hex);
		rc = yima_fail(why, whylen, YIMA_EMISMATCH, "table %s: entry %s %s", ledger_db_names[db], hex,
			       ra == 0 ? "is stored but no event made it" : "is missing");
	} else if (ra != MDB_NOTFOUND || rb != MDB_NOTFOUND) {
		int e = ra != MDB_NOTFOUND ? ra : rb;
		rc = yima_fail(why, whylen, yima_err_from_mdb(e), "table %s: %s", ledger_db_names[db], mdb_strerror(e));
	}
close:
	mdb_cursor_close(ca);
	mdb_cursor_close(cb);
	return rc;
}

int ledger_tables_compare(ledger_txn_t *stored, ledger_txn_t *replayed, char *why, size_t whylen)
{
	static const enum ledger_db tables[] = { DB_CODES, DB_SETTLE, DB_CATALOG, DB_RECALLS,
							 DB_CLAIMS, DB_BATCHES, DB_PATIENTS,
							 DB_PATIENT_LINKS };
	/* A ledger no yima with patient chains has written to has none yet
	 * (they are made on its first write: ledger_patients_migrate()). */
	bool chains = ledger_meta_layout(stored) >= LEDGER_LAYOUT;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		if (!chains && (tables[i] == DB_PATIENTS || tables[i] == DB_PATIENT_LINKS))
			continue;
		int rc = compare_table(stored, replayed, tables[i], why, whylen);
		if (rc < 0)
			return rc;
	}
	return 0;
}
