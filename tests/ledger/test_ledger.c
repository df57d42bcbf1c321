/*
 * test_ledger.c - the ledger's own contracts: record round trip, the hash
 * chain and audit catching a state, a record or a catalog row changed
 * behind the log's back, recall arguments, JSON escaping.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "scenario.h"
#include "testutil.h"
#include "yima/verifier/audit.h"
#include "yima/util/error.h"
#include "yima/verifier/recall.h"

#define ROWS \
	"2026-03-01T10:00:00+08:00,H1,receive," C1 ",,,,,S1\n" \
	"2026-03-02T10:00:00+08:00,H1,dispense," C1 ",DRUGA,6,ST1,PT1,\n" \
	"2026-03-02T10:00:00+08:00,H1,dispense," C1 ",DRUGA,6,ST1,PT1,\n"

static const scenario_t base = { "base", NULL, 0, ROWS, "accept\naccept\nreject DUPLICATE_IN_CLAIM" };

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

Test(ledger, record_round_trip)
{
	ledger_event_t a, b;
	buf_t buf;

	memset(&a, 0, sizeof a);
	a.status = REC_OK;
	a.type = EV_DISPENSE;
	a.time = (yima_time_t){ 1772330400, 5, 480, false };
	a.facility = yima_slice_cstr("H1");
	a.code = yima_slice_cstr(C1);
	a.drug = yima_slice_cstr("DRUGA");
	a.settlement = yima_slice_cstr("ST1");
	a.has_qty = true;
	a.qty = a.units = 6;
	a.has_patient = true;
	memset(a.patient_mac, 0xab, sizeof a.patient_mac);
	a.verdict = VERDICT_WARN;
	a.findings = FINDING_BIT(F_NOT_RECEIVED);
	a.prev_code_seq = 77;
	buf_init(&buf);
	cr_assert_eq(ledger_event_encode(&a, &buf), 0);
	buf_put(&buf, "0123456789abcdef0123456789abcdef", 32);	/* the hash */
	cr_assert_eq(ledger_event_decode(buf.p, buf.len, &b), 0);
	cr_expect_eq(b.time.sec, a.time.sec);
	cr_expect_eq(b.time.nsec, 5);
	cr_expect_eq(b.time.offset_min, 480);
	cr_expect(yima_slice_eq(b.code, a.code) && yima_slice_eq(b.drug, a.drug));
	cr_expect_eq(b.units, 6);
	cr_expect_eq(b.prev_code_seq, 77);
	cr_expect_eq(b.findings, a.findings);
	cr_expect_eq(memcmp(b.patient_mac, a.patient_mac, 32), 0);
	/* any truncation is caught, never read past the end */
	for (size_t n = 0; n < buf.len; n++)
		cr_expect_neq(ledger_event_decode(buf.p, n, &b), 0, "truncated to %zu bytes decoded", n);
	buf_deinit(&buf);
}

/* Layout 2: a link of a patient chain (spec section 7) keeps its back
 * link and, when it differs from the claimed drug, the drug code it
 * counts under; everything else stays layout 1. */
Test(ledger, record_round_trip_patient_chain)
{
	ledger_event_t a, b;
	buf_t buf;

	memset(&a, 0, sizeof a);
	a.status = REC_OK;
	a.type = EV_DISPENSE;
	a.time = (yima_time_t){ 1772330400, 5, 480, false };
	a.facility = yima_slice_cstr("H1");
	a.code = yima_slice_cstr(C1);
	a.drug = yima_slice_cstr("DRUGA");
	a.settlement = yima_slice_cstr("ST1");
	a.units = 24;
	a.has_patient = true;
	memset(a.patient_mac, 0xcd, sizeof a.patient_mac);
	for (int differs = 0; differs < 2; differs++) {
		a.layout = 2;
		a.patient_link = true;
		a.patient_drug = yima_slice_cstr(differs ? "DRUGX" : "DRUGA");
		a.prev_patient_seq = 123456789;
		buf_init(&buf);
		cr_assert_eq(ledger_event_encode(&a, &buf), 0);
		cr_expect_eq(buf.p[0], 2);
		buf_put(&buf, "0123456789abcdef0123456789abcdef", 32);
		cr_assert_eq(ledger_event_decode(buf.p, buf.len, &b), 0);
		cr_expect_eq(b.layout, 2);
		cr_expect(b.patient_link);
		cr_expect_eq(b.prev_patient_seq, 123456789);
		cr_expect(yima_slice_eq(b.patient_drug, a.patient_drug));
		cr_expect(yima_slice_eq(b.drug, a.drug));
		for (size_t n = 0; n < buf.len; n++)
			cr_expect_neq(ledger_event_decode(buf.p, n, &b), 0, "truncated to %zu bytes", n);
		buf_deinit(&buf);
	}
	/* a link without a patient is never written */
	a.has_patient = false;
	buf_init(&buf);
	cr_expect_eq(ledger_event_encode(&a, &buf), YIMA_EINVAL);
	buf_deinit(&buf);
	a.has_patient = true;
	/* not a link: layout 1, as before chains */
	a.layout = 0;
	a.patient_link = false;
	buf_init(&buf);
	cr_assert_eq(ledger_event_encode(&a, &buf), 0);
	cr_expect_eq(buf.p[0], 1);
	buf_deinit(&buf);
}

/* The patient chain heads are derived from the records: a head moved
 * behind the log's back is caught by the audit's replay. */
Test(ledger, audit_catches_a_patient_chain_changed_behind_the_log)
{
	char why[512];
	char *db = scenario_run(&base, 1);
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t val[5];

	cr_expect_eq(audit_dir(db, why, sizeof why), 0, "%s", why);
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, (size_t)1 << 34);
	cr_assert_eq(mdb_env_open(env, db, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &t), 0);
	cr_assert_eq(mdb_dbi_open(t, "patients", 0, &dbi), 0);
	cr_assert_eq(mdb_cursor_open(t, dbi, &c), 0);
	cr_assert_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0, "PT1's dispense heads a chain");
	cr_assert_eq(v.mv_size, 5);
	memcpy(val, v.mv_data, 5);
	val[4] ^= 1;	/* another head seq (40 bits, big-endian) */
	v.mv_data = val;
	cr_assert_eq(mdb_cursor_put(c, &k, &v, MDB_CURRENT), 0);
	mdb_cursor_close(c);
	cr_assert_eq(mdb_txn_commit(t), 0);
	mdb_env_close(env);
	cr_expect_eq(audit_dir(db, why, sizeof why), YIMA_EMISMATCH);
	cr_expect(strstr(why, "patients") != NULL, "%s", why);
	tu_rmtree(db);
	free(db);
}

Test(ledger, audit_passes_and_counts_events_only)
{
	char why[512];
	char *db = scenario_run(&base, 1);
	cr_assert_eq(audit_dir(db, why, sizeof why), 0, "%s", why);
	tu_rmtree(db);
	free(db);
}

Test(ledger, audit_catches_a_state_changed_behind_the_log)
{
	char why[512];
	ledger_t *lg;
	ledger_txn_t *txn;
	code_state_t st;
	char *db = scenario_run(&base, 1);

	cr_assert_eq(ledger_open(db, 0, &lg, why, sizeof why), 0);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	cr_assert_eq(ledger_code_get(txn, C1, strlen(C1), &st), 0);
	cr_assert_eq(st.units_left, 18);
	st.units_left = 24;	/* "un-sell" six tablets */
	cr_assert_eq(ledger_code_put(txn, C1, strlen(C1), &st), 0);
	cr_assert_eq(ledger_txn_commit(txn), 0);
	ledger_close(lg);
	cr_expect_eq(audit_dir(db, why, sizeof why), YIMA_EMISMATCH);
	cr_expect(strstr(why, "codes") != NULL, "%s", why);
	tu_rmtree(db);
	free(db);
}

/* A ledger written before yimad's tables existed opens read-only and
 * audits clean: the missing tables read as empty. */
Test(ledger, older_ledger_without_claims_and_batches_tables)
{
	static const char *const gone[] = { "claims", "batches" };
	char why[512];
	char *db = scenario_run(&base, 1);
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	ledger_t *lg;
	ledger_txn_t *txn;
	claim_entry_t ce;

	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	mdb_env_set_mapsize(env, (size_t)1 << 34);
	cr_assert_eq(mdb_env_open(env, db, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &t), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(mdb_dbi_open(t, gone[i], 0, &dbi), 0);
		cr_assert_eq(mdb_drop(t, dbi, 1), 0);
	}
	cr_assert_eq(mdb_txn_commit(t), 0);
	mdb_env_close(env);

	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_expect_eq(ledger_claim_get(txn, yima_slice_cstr("P0001"), yima_slice_cstr("S1"), &ce),
		     YIMA_ENOTFOUND);
	ledger_txn_abort(txn);
	ledger_close(lg);
	cr_expect_eq(audit_dir(db, why, sizeof why), 0, "%s", why);
	tu_rmtree(db);
	free(db);
}

Test(ledger, catalog_reload_is_chained_and_audits_clean)
{
	char why[512];
	ledger_t *lg;
	ledger_txn_t *txn;
	catalog_entry_t e;
	char *db = scenario_run(&base, 1);

	/* a catalog reload goes through the chain: the audit replays it */
	cr_assert_eq(ledger_open(db, 0, &lg, why, sizeof why), 0);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	cr_assert_eq(ledger_catalog_get(txn, "8100001", 7, &e), 0);
	e.pack_units = 30;
	cr_assert_eq(ledger_catalog_put(txn, &e), 0);
	cr_assert_eq(ledger_txn_commit(txn), 0);
	ledger_close(lg);
	/* chained, so the audit replays it and agrees */
	cr_expect_eq(audit_dir(db, why, sizeof why), 0, "%s", why);
	tu_rmtree(db);
	free(db);
}

Test(recall, argument_kinds)
{
	enum recall_kind k;
	char key[RECALL_KEY_MAX], why[256];

	cr_assert_eq(recall_parse_arg("8100001", &k, key, why, sizeof why), 0);
	cr_expect_eq(k, RECALL_PRODUCT);
	cr_assert_eq(recall_parse_arg(GTIN, &k, key, why, sizeof why), 0);
	cr_expect_eq(k, RECALL_PRODUCT);
	cr_assert_eq(recall_parse_arg(GTIN ":L9", &k, key, why, sizeof why), 0);
	cr_expect_eq(k, RECALL_BATCH);
	cr_expect_str_eq(key, GTIN ":L9");
	cr_assert_eq(recall_parse_arg("]d2" C1, &k, key, why, sizeof why), 0);
	cr_expect_eq(k, RECALL_CODE);
	cr_expect_str_eq(key, C1);
	cr_assert_eq(recall_parse_arg("(01)" GTIN "(21)X1", &k, key, why, sizeof why), 0);
	cr_expect_str_eq(key, "01" GTIN "21X1");
	cr_expect_eq(recall_parse_arg("12345", &k, key, why, sizeof why), YIMA_EMALFORMED);
}

Test(json, escapes_and_replaces_invalid_utf8)
{
	buf_t b;
	buf_init(&b);
	json_str(&b, "a\"b\\c\n\x01\xe4\xb8\xad\xff\xe4\xb8z", 14);
	buf_putc(&b, '\0');
	cr_expect_str_eq((char *)b.p, "\"a\\\"b\\\\c\\n\\u0001\xe4\xb8\xad\xef\xbf\xbd\xef\xbf\xbdz\"");
	buf_deinit(&b);
}

/* ---- the sticky-error contract holds for reads (issue 14 item 4) -------- */

/* Overwrite the stored state of C1 with bytes that do not decode. */
static void break_code_state(const char *db)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_val k = { strlen(C1), (void *)C1 }, v = { 1, (void *)"\xff" };

	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	mdb_env_set_mapsize(env, (size_t)1 << 34);
	cr_assert_eq(mdb_env_open(env, db, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &t), 0);
	cr_assert_eq(mdb_dbi_open(t, "codes", 0, &dbi), 0);
	cr_assert_eq(mdb_put(t, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(t), 0);
	mdb_env_close(env);
}

static int count_one(void *arg, const ledger_event_t *ev)
{
	(void)ev;
	(*(int *)arg)++;
	return 0;
}

static int recall_one(void *arg, enum recall_kind k, yima_slice_t key)
{
	(void)k; (void)key;
	(*(int *)arg)++;
	return 0;
}

static int settle_one(void *arg, yima_slice_t code, const settle_entry_t *e)
{
	(void)code; (void)e;
	(*(int *)arg)++;
	return 0;
}

/* Every read of txn returns err, and calls no callback. */
static void every_read_returns(ledger_txn_t *txn, int err)
{
	ledger_event_t ev;
	code_state_t st;
	catalog_entry_t ce;
	claim_entry_t cl;
	batch_entry_t be;
	code_t code;
	bool hit, complete;
	uint64_t rows;
	uint8_t sha[32] = { 0 }, mac[32];
	int calls = 0;
	char why[128];

	cr_assert_eq(code_normalize(C1, strlen(C1), &code, why, sizeof why), 0);
	cr_expect_eq(ledger_event_get(txn, 1, &ev), err, "event_get");
	cr_expect_eq(ledger_event_scan(txn, 1, count_one, &calls), err, "event_scan");
	cr_expect_eq(ledger_code_get(txn, C2, strlen(C2), &st), err, "code_get");
	cr_expect_eq(ledger_catalog_get(txn, "8100001", 7, &ce), err, "catalog_get");
	cr_expect_eq(ledger_catalog_lookup(txn, "8100001", 7, &ce), err, "catalog_lookup");
	cr_expect_eq(ledger_recall_match(txn, &code, &hit), err, "recall_match");
	cr_expect_eq(ledger_recall_each(txn, recall_one, &calls), err, "recall_each");
	cr_expect_eq(ledger_settle_scan(txn, yima_slice_cstr("H1"), yima_slice_cstr("ST1"),
					yima_slice("", 0), settle_one, &calls), err, "settle_scan");
	cr_expect_eq(ledger_claim_get(txn, yima_slice_cstr("H1"), yima_slice_cstr("ST1"), &cl), err,
		     "claim_get");
	cr_expect_eq(ledger_batch_get(txn, yima_slice_cstr("H1"), yima_slice_cstr("b"), &be), err,
		     "batch_get");
	cr_expect_eq(ledger_file_get(txn, sha, &rows, &complete), err, "file_get");
	cr_expect_eq(ledger_patient_mac(txn, "PT1", 3, mac), err, "patient_mac");
	cr_expect_eq(calls, 0, "no callback runs in a failed transaction");
	cr_expect_eq(ledger_txn_err(txn), err);
}

Test(ledger, a_failed_read_fails_the_transaction)
{
	char why[512];
	char *db = scenario_run(&base, 1);
	ledger_t *lg;
	ledger_txn_t *txn;
	code_state_t st;
	bool hit;
	code_t code;

	break_code_state(db);
	cr_assert_eq(ledger_open(db, 0, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	/* a write that would otherwise commit */
	cr_assert_eq(ledger_recall_add(txn, RECALL_PRODUCT, "8100003", 7), 0);
	/* not found is an answer, not a failure */
	cr_assert_eq(ledger_code_get(txn, CU, strlen(CU), &st), YIMA_ENOTFOUND);
	cr_assert_eq(ledger_txn_err(txn), 0);
	cr_assert_eq(ledger_code_get(txn, C1, strlen(C1), &st), YIMA_ECORRUPT);
	every_read_returns(txn, YIMA_ECORRUPT);
	cr_assert_eq(ledger_txn_commit(txn), YIMA_ECORRUPT, "commit keeps the read's error");
	/* nothing of the transaction was committed */
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(code_normalize(CS, strlen(CS), &code, why, sizeof why), 0);
	cr_assert_eq(ledger_recall_match(txn, &code, &hit), 0);
	cr_expect(!hit, "the recall added before the failed read was not committed");
	/* the same in a read transaction */
	cr_assert_eq(ledger_code_get(txn, C1, strlen(C1), &st), YIMA_ECORRUPT);
	every_read_returns(txn, YIMA_ECORRUPT);
	ledger_txn_abort(txn);
	ledger_close(lg);
	tu_rmtree(db);
	free(db);
}

/* A bad argument to a read is a failed read too. */
Test(ledger, a_bad_read_argument_fails_the_transaction)
{
	char why[512];
	char *db = scenario_run(&base, 1);
	ledger_t *lg;
	ledger_txn_t *txn;
	code_state_t st;

	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_code_get(txn, "", 0, &st), YIMA_EINVAL);
	every_read_returns(txn, YIMA_EINVAL);
	ledger_txn_abort(txn);
	ledger_close(lg);
	tu_rmtree(db);
	free(db);
}

/* ledger_event_get() sets every output: the seq too (it was left as the
 * caller had it), and all zero when there is no such record. */
Test(ledger, event_get_sets_every_output)
{
	char why[512];
	char *db = scenario_run(&base, 1);
	ledger_t *lg;
	ledger_txn_t *txn;
	ledger_event_t ev, zero;

	memset(&zero, 0, sizeof zero);
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	memset(&ev, 0x5a, sizeof ev);
	cr_assert_eq(ledger_event_get(txn, 2, &ev), 0);
	cr_expect_eq(ev.seq, 2);
	cr_expect_eq(ev.type, EV_DISPENSE);
	cr_expect_eq(ev.prev_code_seq, 1);
	cr_expect_eq(ev.claim, 0);
	cr_expect(yima_slice_eq_cstr(ev.reason, "") && yima_slice_eq_cstr(ev.raw, ""));
	memset(&ev, 0x5a, sizeof ev);
	cr_assert_eq(ledger_event_get(txn, 99, &ev), YIMA_ENOTFOUND);
	cr_expect(memcmp(&ev, &zero, sizeof ev) == 0, "no such record: every field zero");
	cr_expect_eq(ledger_txn_err(txn), 0, "not found leaves the transaction as it was");
	ledger_txn_abort(txn);
	ledger_close(lg);
	tu_rmtree(db);
	free(db);
}

/* A key that could never be stored is not found: the answer, not an
 * EINVAL that callers had to read as "not found". */
Test(ledger, impossible_keys_are_not_found)
{
	char why[512], stl[301];
	char *db = scenario_run(&base, 1);
	ledger_t *lg;
	ledger_txn_t *txn;
	claim_entry_t ce;
	batch_entry_t be;

	memset(stl, 'S', 300);
	stl[300] = '\0';
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_expect_eq(ledger_claim_get(txn, yima_slice_cstr("H1"), yima_slice_cstr(stl), &ce), YIMA_ENOTFOUND);
	cr_expect_eq(ledger_claim_get(txn, yima_slice_cstr(""), yima_slice_cstr("S1"), &ce), YIMA_ENOTFOUND);
	cr_expect_eq(ledger_batch_get(txn, yima_slice_cstr("H1"), yima_slice_cstr(stl), &be), YIMA_ENOTFOUND);
	cr_expect_eq(ledger_txn_err(txn), 0);
	ledger_txn_abort(txn);
	ledger_close(lg);
	tu_rmtree(db);
	free(db);
}
