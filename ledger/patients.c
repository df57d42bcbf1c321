/*
 * patients.c - patient chains (spec section 7: OVER_QUANTITY needs, per
 * patient, the units of their applied dispenses in the last 30 days).
 *
 * Every applied dispense with a patient is a link of its patient's chain:
 * its record (layout 2, record.c) holds the seq of the chain's previous
 * record and the latest time of the chain up to itself (whole seconds,
 * rounded up).  The `patients` table keeps each chain's head:
 *
 *   key   the first 6 bytes of the patient's keyed hash
 *   value 40-bit BE seq of the newest record, 40-bit BE two's-complement
 *         chain max time (10 bytes)
 *
 * So an ingest pays one read of the table per applied dispense with a
 * patient whose head the write transaction does not hold yet (a cache of
 * the heads it moved, patient_heads.c, written back sorted at commit),
 * and ~5 bytes in its record; no entry per event.  A walk reads the patient's records newest first and stops at
 * the first whose chain max is not after the window's start: nothing
 * older can be in the window, however out of time order events arrived.
 * Patients whose hashes share a key prefix share a chain; the walk
 * compares full hashes, so that only costs the other's records a read.
 * The table is derived from the records: `yima audit` rebuilds it by
 * replay and compares it (ledger_tables_compare).
 *
 * Records written before chains existed (layout 1) cannot hold a link:
 * when a yima that keeps chains first writes to such a ledger, it links
 * them (ledger_patients_migrate(), in the transaction that raises the
 * ledger's layout) and keeps their links in `patient_links`:
 *
 *   key   u64 BE seq of a layout-1 record   value  as a `patients` value
 *
 * They count under the drug code their record claims (an applied
 * dispense's claimed drug is its product's, unless SUBSTITUTED could not
 * be judged).  The audit replays them into the same table.
 */
#include <string.h>

#include "ledger_int.h"

/* Sizes measured on the 10 M-event benchmark world (2.6 M patients): an
 * entry costs its bytes plus ~10 of LMDB's, at the ~70% page fill of
 * random inserts, so every byte saved here is ~0.4 bytes an event. */
#define PATIENT_KEY 6		/* 2^48 prefixes: a shared chain is rare */
#define LINK_VAL LEDGER_PATIENT_VAL	/* 40-bit seq, 40-bit signed chain max */
#define SEQ_MAX ((uint64_t)1 << 40)	/* 10^12 events */
#define MAX_ABS ((int64_t)1 << 39)	/* +-17,000 years of seconds: years
					 * 0001-9999 fit */

static void put40(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 5; i++)
		p[i] = (uint8_t)(v >> (32 - 8 * i));
}

static uint64_t get40(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 5; i++)
		v = v << 8 | p[i];
	return v;
}

static void link_decode(const MDB_val *v, uint64_t *seq, int64_t *max)
{
	const uint8_t *p = v->mv_data;
	uint64_t m = get40(p + 5);
	*seq = get40(p);
	*max = m >= (uint64_t)MAX_ABS ? (int64_t)m - 2 * MAX_ABS : (int64_t)m;
}

int ledger_patient_value(uint8_t val[LINK_VAL], uint64_t seq, int64_t max)
{
	if (seq >= SEQ_MAX || max >= MAX_ABS || max < -MAX_ABS)
		return YIMA_ETOOBIG;
	put40(val, seq);
	put40(val + 5, (uint64_t)(max < 0 ? max + 2 * MAX_ABS : max));
	return 0;
}

static int64_t ceil_sec(const yima_time_t *t)
{
	return t->sec + (t->nsec > 0);
}

/* The new head's link (seq) from the old head, when there is one. */
static int link_from(bool found, uint64_t head, int64_t head_max, uint64_t seq,
		     const yima_time_t *t, uint64_t *prev, int64_t *max)
{
	*prev = 0;
	*max = ceil_sec(t);
	if (!found)
		return 0;
	if (head == 0 || head >= seq)
		return YIMA_ECORRUPT;
	*prev = head;
	if (head_max > *max)
		*max = head_max;
	return 0;
}

/* ... from a `patients` value. */
static int link_from_value(const MDB_val *v, uint64_t seq, const yima_time_t *t,
			   uint64_t *prev, int64_t *max)
{
	uint64_t head;
	int64_t head_max;

	if (v->mv_size != LINK_VAL)
		return YIMA_ECORRUPT;
	link_decode(v, &head, &head_max);
	return link_from(true, head, head_max, seq, t, prev, max);
}

/* A layout-1 record's link, kept beside it. */
static int legacy_put(MDB_txn *t, MDB_dbi links, uint64_t seq, uint64_t prev, int64_t max)
{
	uint8_t kb[8], val[LINK_VAL];
	int rc;

	put_u64be(kb, seq);
	if ((rc = ledger_patient_value(val, prev, max)) < 0)
		return rc;
	MDB_val k = { 8, kb }, v = { LINK_VAL, val };
	rc = mdb_put(t, links, &k, &v, MDB_APPEND);
	return rc ? yima_err_from_mdb(rc) : 0;
}

int ledger_patient_link(ledger_txn_t *txn, ledger_event_t *ev, uint64_t seq)
{
	MDB_val k = { PATIENT_KEY, ev->patient_mac }, v;
	uint64_t head = 0;
	int64_t head_max = 0;
	bool found;
	int rc;

	/* The head as this transaction holds it, else as the table does (a
	 * read: the moved head is written back with the others, sorted, at
	 * commit, so no insert lands at a random place in the tree). */
	if (!(found = ledger_heads_get(txn, ev->patient_mac, &head, &head_max))) {
		rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_PATIENTS), &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return yima_err_from_mdb(rc);
		if (rc == 0 && v.mv_size != LINK_VAL)
			return YIMA_ECORRUPT;
		if ((found = rc == 0))
			link_decode(&v, &head, &head_max);
	}
	if ((rc = link_from(found, head, head_max, seq, &ev->time, &ev->prev_patient_seq,
			    &ev->patient_max_sec)) < 0 ||
	    (rc = ledger_heads_set(txn, ev->patient_mac, seq, ev->patient_max_sec)) < 0)
		return rc;
	if (ev->layout == RECORD_LAYOUT_1)
		return legacy_put(txn->mdb, ledger_dbi(txn, DB_PATIENT_LINKS), seq,
				  ev->prev_patient_seq, ev->patient_max_sec);
	return 0;
}

/* ---- linking the records of an older ledger ----------------------------- */

static bool legacy_member(const ledger_event_t *ev)
{
	return ev->layout == RECORD_LAYOUT_1 && ev->status == REC_OK && ev->type == EV_DISPENSE &&
	       ev->verdict != VERDICT_REJECT && ev->has_patient;
}

static int migrate_one(ledger_t *lg, MDB_txn *t, const ledger_event_t *ev, uint64_t seq)
{
	uint8_t val[LINK_VAL];
	MDB_val k = { PATIENT_KEY, (void *)ev->patient_mac }, v;
	uint64_t prev;
	int64_t max;
	int rc;

	rc = mdb_get(t, lg->dbi[DB_PATIENTS], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return yima_err_from_mdb(rc);
	if ((rc = rc == 0 ? link_from_value(&v, seq, &ev->time, &prev, &max)
			  : link_from(false, 0, 0, seq, &ev->time, &prev, &max)) < 0 ||
	    (rc = legacy_put(t, lg->dbi[DB_PATIENT_LINKS], seq, prev, max)) < 0)
		return rc;
	if ((rc = ledger_patient_value(val, seq, max)) < 0)
		return rc;
	MDB_val nv = { LINK_VAL, val };
	rc = mdb_put(t, lg->dbi[DB_PATIENTS], &k, &nv, 0);
	return rc ? yima_err_from_mdb(rc) : 0;
}

int ledger_patients_migrate(ledger_t *lg, MDB_txn *t)
{
	MDB_cursor *cur;
	MDB_val k, v;
	ledger_event_t ev;
	int rc = 0, mrc;

	if ((mrc = mdb_cursor_open(t, lg->dbi[DB_EVENTS], &cur)) != 0)
		return yima_err_from_mdb(mrc);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = YIMA_ECORRUPT;
			break;
		}
		if ((rc = ledger_event_decode(v.mv_data, v.mv_size, &ev)) == 0 && legacy_member(&ev))
			rc = migrate_one(lg, t, &ev, get_u64be(k.mv_data));
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = yima_err_from_mdb(mrc);
	mdb_cursor_close(cur);
	return rc;
}

/* ---- walking a chain ---------------------------------------------------- */

/* The link of record ev at seq: in the record (layout 2) or beside it. */
static int link_of(ledger_txn_t *txn, ledger_event_t *ev, uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;

	if (ev->patient_link)
		return 0;
	if (!legacy_member(ev) || ledger_table_absent(txn->lg, DB_PATIENT_LINKS))
		return YIMA_ECORRUPT;
	put_u64be(kb, seq);
	int rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_PATIENT_LINKS), &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? YIMA_ECORRUPT : yima_err_from_mdb(rc);
	if (v.mv_size != LINK_VAL)
		return YIMA_ECORRUPT;
	link_decode(&v, &ev->prev_patient_seq, &ev->patient_max_sec);
	ev->patient_drug = ev->drug;
	return 0;
}

int ledger_patient_walk(ledger_txn_t *txn, const uint8_t mac[LEDGER_MAC_LEN], int64_t after_sec,
			patient_fn fn, void *arg)
{
	MDB_val k = { PATIENT_KEY, (void *)mac }, v;
	ledger_event_t ev;
	uint64_t seq;
	int64_t max;
	int rc;

	if (txn->err)
		return txn->err;
	if (ledger_table_absent(txn->lg, DB_PATIENTS))
		return 0;	/* a ledger from before patient chains */
	if (!ledger_heads_get(txn, mac, &seq, &max)) {
		rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_PATIENTS), &k, &v);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return yima_err_from_mdb(rc);
		if (v.mv_size != LINK_VAL)
			return YIMA_ECORRUPT;
		link_decode(&v, &seq, &max);
	}
	while (seq != 0 && max > after_sec) {
		if ((rc = ledger_event_get(txn, seq, &ev)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		ev.seq = seq;
		if ((rc = link_of(txn, &ev, seq)) < 0)
			return rc;
		/* a link points back, and the chain max only grows */
		if (ev.prev_patient_seq >= seq || ev.patient_max_sec > max)
			return YIMA_ECORRUPT;
		if ((max = ev.patient_max_sec) <= after_sec)
			break;
		if (memcmp(ev.patient_mac, mac, LEDGER_MAC_LEN) == 0 && (rc = fn(arg, &ev)) != 0)
			return rc < 0 ? rc : 0;
		seq = ev.prev_patient_seq;
	}
	return 0;
}
