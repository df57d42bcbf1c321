/*
 * patients.c - patient chains (spec section 7: OVER_QUANTITY needs, per
 * patient, the units of their applied dispenses of the last 30 days).
 *
 * Time is cut into buckets of PATIENT_BUCKET_SEC (8 days), by each
 * event's own time.  Every applied dispense with a patient is a link of
 * the chain of (its bucket, its patient): its record (layout 2,
 * record.c) holds the seq of the chain's previous record, and the
 * `patients` table keeps each chain's head:
 *
 *   key    u32 BE bucket (+ 2^31), the first 6 bytes of the patient's
 *          keyed hash
 *   value  40-bit BE seq of the chain's newest record
 *
 * A walk for an event at t reads the chains of the at most five buckets
 * that (t - 30 days, t] touches, and so finds every dispense in the
 * window exactly, in whatever time order events arrived, reading only
 * the patient's dispenses of those buckets.
 *
 * Why buckets: the table's keys are uniformly random hashes, so a head
 * per patient alone would be read and rewritten all over the table by
 * every commit (on the 10 M benchmark that was 130 MB rewritten per
 * commit, a quarter of the ingest time).  Keyed by bucket first, the
 * heads an ingest moves are those of the last days, a small part of the
 * table, and their pages stay in memory.  A write transaction also keeps
 * the heads it moved (patient_heads.c) and writes them back sorted.
 *
 * Patients whose hashes share the 6-byte prefix share a chain; the walk
 * compares full hashes.  The table is derived from the records: `yima
 * audit` rebuilds it by replay and compares it (ledger_tables_compare).
 *
 * Records written before chains existed (layout 1) cannot hold a link:
 * when a yima that keeps chains first writes to such a ledger, it links
 * them (ledger_patients_migrate(), in the transaction that raises the
 * ledger's layout) and keeps their links in `patient_links`:
 *
 *   key    u64 BE seq of a layout-1 record   value  40-bit BE prev seq
 *
 * They count under the drug code their record claims (an applied
 * dispense's claimed drug is its product's, unless SUBSTITUTED could not
 * be judged).  The audit replays them into the same table.
 */
#include <string.h>

#include "ledger_int.h"

#define SEQ_MAX ((uint64_t)1 << 40)	/* 10^12 events */
#define LINK_VAL 5

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

int64_t ledger_patient_bucket(int64_t sec)
{
	return sec >= 0 ? sec / PATIENT_BUCKET_SEC : -((-sec + PATIENT_BUCKET_SEC - 1) / PATIENT_BUCKET_SEC);
}

void ledger_patient_key(uint8_t key[PATIENT_KEY_LEN], int64_t bucket, const uint8_t *mac)
{
	uint32_t b = (uint32_t)((int64_t)bucket + ((int64_t)1 << 31));	/* years 1-9999 fit */
	key[0] = (uint8_t)(b >> 24);
	key[1] = (uint8_t)(b >> 16);
	key[2] = (uint8_t)(b >> 8);
	key[3] = (uint8_t)b;
	memcpy(key + 4, mac, PATIENT_KEY_LEN - 4);
}

int ledger_patient_head_put(MDB_txn *t, MDB_dbi dbi, const uint8_t key[PATIENT_KEY_LEN], uint64_t seq)
{
	uint8_t val[LINK_VAL];
	if (seq >= SEQ_MAX)
		return YIMA_ETOOBIG;
	put40(val, seq);
	MDB_val k = { PATIENT_KEY_LEN, (void *)key }, v = { LINK_VAL, val };
	int rc = mdb_put(t, dbi, &k, &v, 0);
	return rc ? yima_err_from_mdb(rc) : 0;
}

/* The head of a chain in the table: 0 when there is none. */
static int head_read(MDB_txn *t, MDB_dbi dbi, const uint8_t key[PATIENT_KEY_LEN], uint64_t *seq)
{
	MDB_val k = { PATIENT_KEY_LEN, (void *)key }, v;
	int rc = mdb_get(t, dbi, &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return yima_err_from_mdb(rc);
	if (v.mv_size != LINK_VAL)
		return YIMA_ECORRUPT;
	*seq = get40(v.mv_data);
	return 0;
}

/* The head as the transaction holds it, else as the table does. */
static int head_get(ledger_txn_t *txn, const uint8_t key[PATIENT_KEY_LEN], uint64_t *seq)
{
	if (ledger_heads_get(txn, key, seq))
		return 0;
	if (ledger_table_absent(txn->lg, DB_PATIENTS)) {
		*seq = 0;	/* a ledger from before patient chains */
		return 0;
	}
	return head_read(txn->mdb, ledger_dbi(txn, DB_PATIENTS), key, seq);
}

/* A layout-1 record's link, kept beside it. */
static int legacy_put(MDB_txn *t, MDB_dbi links, uint64_t seq, uint64_t prev)
{
	uint8_t kb[8], val[LINK_VAL];
	put_u64be(kb, seq);
	put40(val, prev);
	MDB_val k = { 8, kb }, v = { LINK_VAL, val };
	int rc = mdb_put(t, links, &k, &v, MDB_APPEND);
	return rc ? yima_err_from_mdb(rc) : 0;
}

int ledger_patient_link(ledger_txn_t *txn, ledger_event_t *ev, uint64_t seq)
{
	uint8_t key[PATIENT_KEY_LEN];
	uint64_t head;
	int rc;

	if (seq >= SEQ_MAX)
		return YIMA_ETOOBIG;
	ledger_patient_key(key, ledger_patient_bucket(ev->time.sec), ev->patient_mac);
	if ((rc = head_get(txn, key, &head)) < 0)
		return rc;
	if (head >= seq)
		return YIMA_ECORRUPT;
	ev->prev_patient_seq = head;
	if ((rc = ledger_heads_set(txn, key, seq)) < 0)
		return rc;
	if (ev->layout == RECORD_LAYOUT_1)
		return legacy_put(txn->mdb, ledger_dbi(txn, DB_PATIENT_LINKS), seq, head);
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
	uint8_t key[PATIENT_KEY_LEN];
	uint64_t head;
	int rc;

	ledger_patient_key(key, ledger_patient_bucket(ev->time.sec), ev->patient_mac);
	if ((rc = head_read(t, lg->dbi[DB_PATIENTS], key, &head)) < 0 ||
	    (rc = legacy_put(t, lg->dbi[DB_PATIENT_LINKS], seq, head)) < 0)
		return rc;
	return ledger_patient_head_put(t, lg->dbi[DB_PATIENTS], key, seq);
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

/* ---- walking a patient's chains ------------------------------------------ */

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
	ev->prev_patient_seq = get40(v.mv_data);
	ev->patient_drug = ev->drug;
	return 0;
}

/* One bucket's chain, newest first. */
static int walk_bucket(ledger_txn_t *txn, const uint8_t mac[LEDGER_MAC_LEN], int64_t bucket,
		       patient_fn fn, void *arg)
{
	uint8_t key[PATIENT_KEY_LEN];
	ledger_event_t ev;
	uint64_t seq;
	int rc;

	ledger_patient_key(key, bucket, mac);
	if ((rc = head_get(txn, key, &seq)) < 0)
		return rc;
	while (seq != 0) {
		if ((rc = ledger_event_get(txn, seq, &ev)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		ev.seq = seq;
		if ((rc = link_of(txn, &ev, seq)) < 0)
			return rc;
		/* a link points back, within its bucket */
		if (ev.prev_patient_seq >= seq || ledger_patient_bucket(ev.time.sec) != bucket)
			return YIMA_ECORRUPT;
		if (memcmp(ev.patient_mac, mac, LEDGER_MAC_LEN) == 0 && (rc = fn(arg, &ev)) != 0)
			return rc;
		seq = ev.prev_patient_seq;
	}
	return 0;
}

int ledger_patient_walk(ledger_txn_t *txn, const uint8_t mac[LEDGER_MAC_LEN], int64_t from_sec,
			int64_t to_sec, patient_fn fn, void *arg)
{
	int rc = 0;

	if (txn->err)
		return txn->err;
	for (int64_t b = ledger_patient_bucket(to_sec); b >= ledger_patient_bucket(from_sec) && rc == 0; b--)
		rc = walk_bucket(txn, mac, b, fn, arg);
	return rc < 0 ? rc : 0;
}
