/*
 * patients.c - patient chains (spec section 7: OVER_QUANTITY needs, per
 * patient, the units of their applied dispenses in the last 30 days).
 *
 * Every applied dispense with a patient is a link of its patient's chain:
 * its record (layout 2, record.c) holds the seq of the chain's previous
 * record and the latest time of the chain up to itself (whole seconds,
 * rounded up).  The `patients` table keeps each chain's head:
 *
 *   key   the first PATIENT_KEY bytes of the patient's keyed hash
 *   value u64 BE seq of the newest record, i64 BE its chain max time
 *
 * So an ingest pays one table read and one in-place rewrite per applied
 * dispense with a patient, and ~5 bytes in its record; no entry per
 * event.  A walk reads the patient's records newest first and stops at
 * the first whose chain max is not after the window's start: nothing
 * older can be in the window, however out of time order events arrived.
 * Patients whose hashes share a key prefix share a chain; the walk
 * compares full hashes, so that only costs the other's records a read.
 * The table is derived from the records: `yima audit` rebuilds it by
 * replay and compares it (ledger_tables_compare).
 */
#include <string.h>

#include "ledger_int.h"

#define PATIENT_KEY 8		/* 2^64 prefixes: shared chains stay rare */
#define PATIENT_VAL 16

static void head_decode(const MDB_val *v, uint64_t *seq, int64_t *max)
{
	*seq = get_u64be(v->mv_data);
	*max = (int64_t)get_u64be((const uint8_t *)v->mv_data + 8);
}

static int64_t ceil_sec(const yima_time_t *t)
{
	return t->sec + (t->nsec > 0);
}

/* Link ev (not yet appended: seq is the next one) into its chain: set
 * its back-link and chain max from the head, and make it the head. */
int ledger_patient_link(ledger_txn_t *txn, ledger_event_t *ev, uint64_t seq)
{
	uint8_t val[PATIENT_VAL];
	MDB_val k = { PATIENT_KEY, ev->patient_mac }, v;
	int rc;

	if (txn->patient_cur == NULL &&
	    (rc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_PATIENTS), &txn->patient_cur)) != 0)
		return yima_err_from_mdb(rc);
	ev->prev_patient_seq = 0;
	ev->patient_max_sec = ceil_sec(&ev->time);
	rc = mdb_cursor_get(txn->patient_cur, &k, &v, MDB_SET_KEY);
	if (rc == 0) {
		uint64_t prev;
		int64_t max;
		if (v.mv_size != PATIENT_VAL)
			return YIMA_ECORRUPT;
		head_decode(&v, &prev, &max);
		if (prev == 0 || prev >= seq)
			return YIMA_ECORRUPT;
		ev->prev_patient_seq = prev;
		if (max > ev->patient_max_sec)
			ev->patient_max_sec = max;
	} else if (rc != MDB_NOTFOUND) {
		return yima_err_from_mdb(rc);
	}
	put_u64be(val, seq);
	put_u64be(val + 8, (uint64_t)ev->patient_max_sec);
	MDB_val nv = { PATIENT_VAL, val };
	/* the same size in place: the common case, a patient seen before */
	rc = mdb_cursor_put(txn->patient_cur, &k, &nv, rc == 0 ? MDB_CURRENT : 0);
	return rc ? yima_err_from_mdb(rc) : 0;
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
	rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_PATIENTS), &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return yima_err_from_mdb(rc);
	if (v.mv_size != PATIENT_VAL)
		return YIMA_ECORRUPT;
	head_decode(&v, &seq, &max);
	while (seq != 0 && max > after_sec) {
		if ((rc = ledger_event_get(txn, seq, &ev)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		ev.seq = seq;
		/* a link points back, and the chain max only grows */
		if (!ev.patient_link || ev.prev_patient_seq >= seq || ev.patient_max_sec > max)
			return YIMA_ECORRUPT;
		if ((max = ev.patient_max_sec) <= after_sec)
			break;
		if (memcmp(ev.patient_mac, mac, LEDGER_MAC_LEN) == 0 && (rc = fn(arg, &ev)) != 0)
			return rc < 0 ? rc : 0;
		seq = ev.prev_patient_seq;
	}
	return 0;
}
