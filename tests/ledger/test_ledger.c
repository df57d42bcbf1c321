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
