/*
 * test_yimad.c - the real yimad on loopback, over HTTP and TLS: verdicts
 * over the wire, claims all-or-nothing and idempotent, retried batches
 * recorded once, facility identity from client certificates, bad
 * requests answered and survived, kill -9 losing nothing acknowledged,
 * group commit under concurrent clients, SIGTERM draining.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenario.h"
#include "testutil.h"
#include "yima.pb-c.h"
#include "yima/verifier/audit.h"
#include "yima/verifier/catalog.h"
#include "yima/ledger/ledger.h"
#include "yimad_harness.h"

#define PB "application/x-protobuf"
#define T(d) "2026-03-" d "T10:00:00+08:00"

/* ---- worlds ------------------------------------------------------------------- */

/* A ledger with the scenario catalog and product 8100002 recalled. */
static char *world(void)
{
	char *dir = tu_mkdtemp(), why[512], *db, *cat;
	ledger_t *lg;
	ledger_txn_t *txn;
	catalog_stats_t st;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cat = tu_write_file(dir, "catalog.csv", SC_CATALOG, strlen(SC_CATALOG));
	cr_assert_eq(ledger_open(db, LEDGER_CREATE, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, cat, NULL, NULL, &st, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	cr_assert_eq(ledger_recall_add(txn, RECALL_PRODUCT, "8100002", 7), 0);
	cr_assert_eq(ledger_txn_commit(txn), 0);
	ledger_close(lg);
	free(cat);
	free(dir);
	return db;
}

static uint64_t ledger_events(const char *db)
{
	ledger_t *lg;
	ledger_txn_t *txn;
	char why[512];
	uint64_t n;

	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	n = ledger_event_count(txn);
	ledger_txn_abort(txn);
	ledger_close(lg);
	return n;
}

/* ---- requests ------------------------------------------------------------------ */

static uint8_t *pack_msg(const ProtobufCMessage *m, size_t *n)
{
	*n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = malloc(*n + 1);
	cr_assert(p != NULL);
	protobuf_c_message_pack(m, p);
	return p;
}

/* A batch from CSV data rows without quoting; a row starting with '!' is
 * sent as raw bytes (a row that is not nine fields). */
static uint8_t *batch(const char *id, const char *rows, size_t *n)
{
	Yima__V1__EventBatch b = YIMA__V1__EVENT_BATCH__INIT;
	Yima__V1__Event ev[64], *evp[64];
	char *copy = strdup(rows), *save = NULL, *line;
	char *f[64][9];

	b.batch_id = (char *)id;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t i = b.n_events++;
		cr_assert(i < 64);
		yima__v1__event__init(&ev[i]);
		evp[i] = &ev[i];
		if (line[0] == '!') {
			ev[i].raw.data = (uint8_t *)line + 1;
			ev[i].raw.len = strlen(line + 1);
			continue;
		}
		char *p = line;
		for (int k = 0; k < 9; k++) {
			f[i][k] = strsep(&p, ",");
			if (f[i][k] == NULL)
				f[i][k] = "";
		}
		ev[i].time = f[i][0];
		ev[i].facility = f[i][1];
		ev[i].type = f[i][2];
		ev[i].code = f[i][3];
		ev[i].drug = f[i][4];
		ev[i].qty = f[i][5];
		ev[i].settlement = f[i][6];
		ev[i].patient = f[i][7];
		ev[i].counterparty = f[i][8];
	}
	b.events = evp;
	uint8_t *out = pack_msg(&b.base, n);
	free(copy);
	return out;
}

/* A claim: "DRUG:code/units code ...;DRUG:..." items. */
static uint8_t *claim(const char *fac, const char *stl, const char *time, const char *items,
		      bool dry, size_t *n)
{
	Yima__V1__Claim c = YIMA__V1__CLAIM__INIT;
	Yima__V1__ClaimItem it[8], *itp[8];
	Yima__V1__ClaimCode cc[8][8], *ccp[8][8];
	char *copy = strdup(items), *s1 = NULL, *item;

	c.facility = (char *)fac;
	c.settlement = (char *)stl;
	c.time = (char *)time;
	c.patient = "PATIENT-1";
	c.dry_run = dry;
	for (item = strtok_r(copy, ";", &s1); item; item = strtok_r(NULL, ";", &s1)) {
		size_t i = c.n_items++;
		char *colon = strchr(item, ':'), *s2 = NULL, *code;
		cr_assert(i < 8 && colon);
		*colon = '\0';
		yima__v1__claim_item__init(&it[i]);
		it[i].drug = item;
		for (code = strtok_r(colon + 1, " ", &s2); code; code = strtok_r(NULL, " ", &s2)) {
			size_t k = it[i].n_codes++;
			char *slash = strchr(code, '/');
			cr_assert(k < 8);
			yima__v1__claim_code__init(&cc[i][k]);
			if (slash) {
				*slash = '\0';
				cc[i][k].units = strtoull(slash + 1, NULL, 10);
			}
			cc[i][k].code = code;
			ccp[i][k] = &cc[i][k];
		}
		it[i].codes = ccp[i];
		itp[i] = &it[i];
	}
	c.items = itp;
	uint8_t *out = pack_msg(&c.base, n);
	free(copy);
	return out;
}

static Yima__V1__BatchReceipt *post_batch(const yd_t *y, const char *who, const char *id,
					  const char *rows, int want_status)
{
	size_t n;
	uint8_t *body = batch(id, rows, &n);
	hc_resp_t r;
	int st = hc_once(y, who, "POST", "/v1/events", PB, body, n, &r);
	free(body);
	cr_assert_eq(st, want_status, "POST /v1/events: status %d, want %d", st, want_status);
	Yima__V1__BatchReceipt *rc = NULL;
	if (st == 200) {
		rc = yima__v1__batch_receipt__unpack(NULL, r.len, r.body);
		cr_assert(rc != NULL, "receipt does not decode");
	}
	hc_resp_free(&r);
	return rc;
}

static Yima__V1__ClaimVerdict *post_claim(const yd_t *y, const char *who, const char *fac,
					  const char *stl, const char *items, bool dry,
					  int want_status)
{
	size_t n;
	uint8_t *body = claim(fac, stl, T("05"), items, dry, &n);
	hc_resp_t r;
	int st = hc_once(y, who, "POST", "/v1/settle", PB, body, n, &r);
	free(body);
	cr_assert_eq(st, want_status, "POST /v1/settle %s: status %d, want %d", stl, st, want_status);
	Yima__V1__ClaimVerdict *v = NULL;
	if (st == 200) {
		v = yima__v1__claim_verdict__unpack(NULL, r.len, r.body);
		cr_assert(v != NULL, "verdict does not decode");
	}
	hc_resp_free(&r);
	return v;
}

/* "reject REUSED SPLIT_OVERDRAWN" for a verdict. */
static void describe(const Yima__V1__EventVerdict *v, char *out, size_t n)
{
	static const char *const names[] = { "?", "accept", "warn", "reject" };
	size_t o = (size_t)snprintf(out, n, "%s", names[v->verdict]);
	for (size_t i = 0; i < v->n_findings && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, " %s", v->findings[i]);
}

static void expect_verdict(const Yima__V1__EventVerdict *v, const char *want, const char *what)
{
	char got[256];
	describe(v, got, sizeof got);
	cr_expect_str_eq(got, want, "%s: got \"%s\", want \"%s\"", what, got, want);
}

#define RECV(f, c) T("01") "," f ",receive," c ",,,,,S0001\n"

/* ---- tests ---------------------------------------------------------------------- */

Test(yimad, batch_verdicts_and_retry_records_once)
{
	char *db = world();
	yd_t y;
	const char *rows = RECV("P0001", C1)
		T("02") ",P0001,dispense," C1 ",DRUGA,24,S1,PAT,\n"
		T("03") ",P0001,dispense," C1 ",DRUGA,,S2,PAT,\n"
		"2026-13-01T10:00:00+08:00,P0001,receive," C2 ",,,,,S0001\n"
		"!only,three,fields\n";

	yd_start(&y, db, NULL, NULL);
	Yima__V1__BatchReceipt *r = post_batch(&y, NULL, "b-1", rows, 200);
	cr_assert_eq(r->n_verdicts, 5);
	expect_verdict(r->verdicts[0], "accept", "receive");
	expect_verdict(r->verdicts[1], "accept", "dispense");
	expect_verdict(r->verdicts[2], "reject REUSED", "second dispense");
	expect_verdict(r->verdicts[3], "reject BAD_RECORD", "month 13");
	expect_verdict(r->verdicts[4], "reject BAD_RECORD", "three fields");
	cr_expect(strstr(r->verdicts[3]->reason, "time") != NULL, "reason names the column: %s",
		  r->verdicts[3]->reason);
	cr_expect_str_eq(r->verdicts[0]->code, C1);
	cr_expect_eq(r->receipt->first_seq, 1);
	cr_expect_eq(r->receipt->last_seq, 5);
	cr_expect_eq(r->receipt->chain_hash.len, 32);
	cr_expect(!r->receipt->replayed);

	Yima__V1__BatchReceipt *again = post_batch(&y, NULL, "b-1", rows, 200);
	cr_expect(again->receipt->replayed);
	cr_expect_eq(again->receipt->first_seq, 1);
	cr_expect_eq(again->receipt->last_seq, 5);
	cr_expect(memcmp(again->receipt->chain_hash.data, r->receipt->chain_hash.data, 32) == 0);
	expect_verdict(again->verdicts[2], "reject REUSED", "retried second dispense");
	cr_expect_str_eq(r->verdicts[3]->code, C2, "a BAD_RECORD row's code is its raw field");
	cr_expect_str_eq(again->verdicts[3]->code, C2, "and so it is in the replayed receipt");

	/* The same batch id with other content (here less of it) is a
	 * conflict, answered as a conflicting claim is, and records nothing
	 * (issue 9 item 6: it was 200 and the content silently dropped). */
	size_t n;
	uint8_t *body = batch("b-1", RECV("P0001", C1), &n);
	hc_resp_t e;
	cr_assert_eq(hc_once(&y, NULL, "POST", "/v1/events", PB, body, n, &e), 409);
	Yima__V1__Error *err = yima__v1__error__unpack(NULL, e.len, e.body);
	cr_assert_not_null(err, "a 409 carries an Error");
	cr_expect_eq(err->status, 409);
	cr_expect_str_eq(err->reason, "conflict");
	cr_expect(strstr(err->message, "batch id") != NULL, "%s", err->message);
	yima__v1__error__free_unpacked(err, NULL);
	hc_resp_free(&e);
	free(body);
	/* and the first content again is still a retry */
	Yima__V1__BatchReceipt *third = post_batch(&y, NULL, "b-1", rows, 200);
	cr_expect(third->receipt->replayed);
	cr_expect_eq(third->receipt->last_seq, 5);
	yima__v1__batch_receipt__free_unpacked(third, NULL);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 5, "a retried batch records nothing");
	scenario_assert_audit_ok(db);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	yima__v1__batch_receipt__free_unpacked(again, NULL);
	free(db);
}

Test(yimad, claim_is_all_or_nothing_and_idempotent)
{
	char *db = world();
	yd_t y;

	yd_start(&y, db, NULL, NULL);
	yima__v1__batch_receipt__free_unpacked(post_batch(&y, NULL, "recv", RECV("P0001", C1) RECV("P0001", C2), 200), NULL);

	/* C1 is fine, CU is an unknown product: the claim is rejected whole. */
	Yima__V1__ClaimVerdict *v = post_claim(&y, NULL, "P0001", "S9", "DRUGA:" C1 ";DRUGX:" CU, false, 200);
	cr_expect_eq(v->verdict, YIMA__V1__VERDICT__REJECT);
	cr_assert_eq(v->n_codes, 2);
	expect_verdict(v->codes[0], "reject", "a good code of a rejected claim");
	expect_verdict(v->codes[1], "reject UNKNOWN_PRODUCT", "unknown product");
	cr_expect_eq(v->receipt->first_seq, 3);
	yima__v1__claim_verdict__free_unpacked(v, NULL);

	/* C1 had no finding of its own: the public view records no reject. */
	hc_resp_t pr;
	cr_assert_eq(hc_once(&y, NULL, "GET", "/v1/codes/" C1 "?view=public", NULL, NULL, 0, &pr), 200);
	Yima__V1__PublicCodeView *pub = yima__v1__public_code_view__unpack(NULL, pr.len, pr.body);
	cr_assert(pub != NULL);
	cr_expect(!pub->any_reject, "a code voided with its claim has no reject finding");
	cr_expect_str_eq(pub->status, "in_stock");
	yima__v1__public_code_view__free_unpacked(pub, NULL);
	hc_resp_free(&pr);

	/* Nothing changed: C1 can be sold whole under the same id. */
	v = post_claim(&y, NULL, "P0001", "S9", "DRUGA:" C1, false, 200);
	cr_expect_eq(v->verdict, YIMA__V1__VERDICT__ACCEPT);
	uint64_t seq = v->codes[0]->seq;
	cr_expect_eq(seq, 5);
	yima__v1__claim_verdict__free_unpacked(v, NULL);

	/* The retry returns the first verdict; other content is a conflict. */
	v = post_claim(&y, NULL, "P0001", "S9", "DRUGA:" C1, false, 200);
	cr_expect(v->receipt->replayed);
	cr_expect_eq(v->codes[0]->seq, seq);
	expect_verdict(v->codes[0], "accept", "retry");
	yima__v1__claim_verdict__free_unpacked(v, NULL);
	post_claim(&y, NULL, "P0001", "S9", "DRUGA:" C2, false, 409);

	/* A dry run answers without recording. */
	v = post_claim(&y, NULL, "P0001", "S10", "DRUGA:" C1, true, 200);
	expect_verdict(v->codes[0], "reject REUSED", "dry run of a sold pack");
	cr_expect(v->dry_run);
	cr_expect_null(v->receipt);
	yima__v1__claim_verdict__free_unpacked(v, NULL);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 5);
	scenario_assert_audit_ok(db);
	free(db);
}

Test(yimad, claim_codes_see_the_codes_before_them)
{
	char *db = world();
	yd_t y;

	yd_start(&y, db, NULL, NULL);
	yima__v1__batch_receipt__free_unpacked(post_batch(&y, NULL, "recv", RECV("P0001", C1), 200), NULL);
	/* 20 of 24 units, then 10 more of the same pack in the same claim. */
	for (int dry = 1; dry >= 0; dry--) {
		Yima__V1__ClaimVerdict *v = post_claim(&y, NULL, "P0001", "S1",
						       "DRUGA:" C1 "/20 " C1 "/10", dry, 200);
		/* the claim is rejected whole, dry run or not */
		expect_verdict(v->codes[0], "reject", "first part");
		expect_verdict(v->codes[1], "reject SPLIT_OVERDRAWN DUPLICATE_IN_CLAIM", "second part");
		yima__v1__claim_verdict__free_unpacked(v, NULL);
	}
	/* The rejected claim changed nothing: 24 units are still there. */
	Yima__V1__ClaimVerdict *v = post_claim(&y, NULL, "P0001", "S2", "DRUGA:" C1 "/24", false, 200);
	expect_verdict(v->codes[0], "accept", "whole pack after the void claim");
	yima__v1__claim_verdict__free_unpacked(v, NULL);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	scenario_assert_audit_ok(db);
	free(db);
}

/* OVER_QUANTITY (spec section 7) through both of yimad's writes: a batch
 * event and a claim (dry run and recorded) see the patient's earlier
 * dispenses across both, and a claim's earlier code counts for its later
 * one.  8100001 is given a limit of 30 units per 30 days. */
Test(yimad, over_quantity_in_batches_and_claims)
{
	static const char limits[] = "product_id,drug_code,name,spec,pack_units,max_units_30d\n"
				     "8100001,DRUGA,Amoxicillin,24 caps,24,30\n";
	char *db = world(), why[512], *cat;
	char *dir = strndup(db, strlen(db) - 3);
	ledger_t *lg;
	catalog_stats_t st;
	yd_t y;

	cat = tu_write_file(dir, "limits.csv", limits, sizeof limits - 1);
	cr_assert_eq(ledger_open(db, 0, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, cat, NULL, NULL, &st, why, sizeof why), 0, "%s", why);
	ledger_close(lg);
	yd_start(&y, db, NULL, NULL);
	Yima__V1__BatchReceipt *r = post_batch(&y, NULL, "oq-1",
		RECV("P0001", C1) RECV("P0001", C2) RECV("P0001", "81000010000000030001")
		T("02") ",P0001,dispense," C1 ",DRUGA,,S0,PATIENT-1,\n", 200);
	expect_verdict(r->verdicts[3], "accept", "24 of 30");
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	for (int dry = 1; dry >= 0; dry--) {
		Yima__V1__ClaimVerdict *v = post_claim(&y, NULL, "P0001", "S1",
						       "DRUGA:" C2 "/6 81000010000000030001/1", dry, 200);
		expect_verdict(v->codes[0], "accept", "24 + 6 is the limit, not over it");
		expect_verdict(v->codes[1], "warn OVER_QUANTITY", "the claim's own 6 count");
		yima__v1__claim_verdict__free_unpacked(v, NULL);
	}
	r = post_batch(&y, NULL, "oq-2", T("06") ",P0001,dispense," C2 ",DRUGA,1,S2,PATIENT-1,\n"
					 T("06") ",P0001,dispense," C2 ",DRUGA,1,S3,PATIENT-2,\n", 200);
	expect_verdict(r->verdicts[0], "warn OVER_QUANTITY", "after the recorded claim: 31 + 1");
	expect_verdict(r->verdicts[1], "accept", "another patient");
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	scenario_assert_audit_ok(db);
	free(cat);
	free(dir);
	free(db);
}

/* A claim of n codes of product 8100001 (serials first, first+1, ...) in
 * one item (issue 9 item 1: the audit broke on any accepted claim of 17
 * codes or more). */
static uint8_t *claim_of_n(const char *stl, size_t first, size_t n, size_t *len)
{
	Yima__V1__Claim c = YIMA__V1__CLAIM__INIT;
	Yima__V1__ClaimItem it = YIMA__V1__CLAIM_ITEM__INIT, *itp = &it;
	Yima__V1__ClaimCode *cc = calloc(n, sizeof *cc), **ccp = calloc(n, sizeof *ccp);
	char (*codes)[32] = calloc(n, sizeof *codes);

	cr_assert(cc && ccp && codes);
	c.facility = "P0001";
	c.settlement = (char *)stl;
	c.time = T("05");
	c.patient = "PATIENT-1";
	it.drug = "DRUGA";
	for (size_t i = 0; i < n; i++) {
		snprintf(codes[i], sizeof codes[i], "8100001%013zu", first + i);
		yima__v1__claim_code__init(&cc[i]);
		cc[i].code = codes[i];
		ccp[i] = &cc[i];
	}
	it.n_codes = n;
	it.codes = ccp;
	c.n_items = 1;
	c.items = &itp;
	uint8_t *out = pack_msg(&c.base, len);
	free(cc);
	free(ccp);
	free(codes);
	return out;
}

Test(yimad, claims_of_17_and_1000_codes_audit_clean, .timeout = 120)
{
	static const size_t sizes[] = { 17, 1000 };
	char *db = world(), stl[16];
	yd_t y;

	yd_start(&y, db, NULL, NULL);
	for (size_t k = 0; k < 2; k++) {
		size_t n;
		hc_resp_t r;
		snprintf(stl, sizeof stl, "BIG%zu", sizes[k]);
		uint8_t *body = claim_of_n(stl, 10000 * (k + 1), sizes[k], &n);
		cr_assert_eq(hc_once(&y, NULL, "POST", "/v1/settle", PB, body, n, &r), 200);
		Yima__V1__ClaimVerdict *v = yima__v1__claim_verdict__unpack(NULL, r.len, r.body);
		cr_assert_not_null(v);
		char got[256];
		describe(v->codes[0], got, sizeof got);
		cr_expect_eq(v->verdict, YIMA__V1__VERDICT__WARN, "NOT_RECEIVED only: accepted (%s)", got);
		cr_expect_eq(v->n_codes, sizes[k]);
		yima__v1__claim_verdict__free_unpacked(v, NULL);
		hc_resp_free(&r);
		free(body);
	}
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 17 + 1000);
	scenario_assert_audit_ok(db);
	free(db);
}

struct wire_case {
	const char *facility, *stl, *items, *want;
};

Test(yimad, findings_over_the_wire)
{
	static const struct wire_case cases[] = {
		{ "P0001", "A1", "DRUGA:" C1 "/4", "accept" },
		{ "P0001", "A2", "DRUGB:" CS, "reject SUBSTITUTED" },
		{ "P0001", "A3", "DRUGB:" CB, "reject RECALLED" },
		{ "P0001", "A4", "DRUGX:123", "reject MALFORMED" },
		{ "P0001", "A5", "DRUGX:" CU, "reject UNKNOWN_PRODUCT" },
		{ "P0001", "A6", "DRUGC:(01)" GTIN "(17)250101(10)B1(21)S1", "reject EXPIRED" },
		{ "P0002", "A7", "DRUGA:" C1 "/4", "reject RETURNED_TO_MARKET" },
		{ "P0001", "A8", "DRUGA:" C1 "/20", "accept" },
		{ "P0001", "A9", "DRUGA:" C1 "/1", "reject REUSED" },
		{ "P0002", "A10", "DRUGA:" C2, "warn NOT_RECEIVED" },
		{ "P0001", "A11", "DRUGA:" C2, "reject RETURNED_TO_MARKET" },
		/* ClaimCode.units past 10^9 is BAD_RECORD, not a wrapped or
		 * saturated count (issue 9 item 4) */
		{ "P0001", "A12", "DRUGA:" C2 "/18446744073709551615", "reject BAD_RECORD" },
		{ "P0001", "A13", "DRUGA:" C2 "/1000000001", "reject BAD_RECORD" },
	};
	char *db = world();
	yd_t y;

	yd_start(&y, db, NULL, NULL);
	yima__v1__batch_receipt__free_unpacked(post_batch(&y, NULL, "recv",
		RECV("P0001", C1) RECV("P0001", CS) RECV("P0001", CB), 200), NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct wire_case *c = &cases[i];
		Yima__V1__ClaimVerdict *v = post_claim(&y, NULL, c->facility, c->stl, c->items, false, 200);
		expect_verdict(v->codes[0], c->want, c->stl);
		yima__v1__claim_verdict__free_unpacked(v, NULL);
	}
	/* Batch-only findings. */
	Yima__V1__BatchReceipt *r = post_batch(&y, NULL, "more",
		RECV("P0001", CS)
		T("06") ",P0001,refund," C1 ",DRUGA,4,A404,,\n"
		T("20") ",P0001,refund," C1 ",DRUGA,4,A1,,\n"
		T("06") ",P0001,destroy," CS ",,,,,\n"
		T("07") ",P0001,stocktake," CS ",,,,,\n"
		T("02") ",P0001,bad-type," CS ",,,,,\n"
		T("06") ",P0001,refund," C1 ",DRUGA,99999999999999999999999,A1,,\n", 200);
	expect_verdict(r->verdicts[0], "warn ALREADY_HELD", "receive twice");
	expect_verdict(r->verdicts[1], "reject REFUND_UNMATCHED", "refund of nothing");
	expect_verdict(r->verdicts[2], "reject REFUND_LATE", "refund after 15 days");
	expect_verdict(r->verdicts[3], "accept", "destroy");
	expect_verdict(r->verdicts[4], "reject DESTROYED", "after destroy");
	expect_verdict(r->verdicts[5], "reject BAD_RECORD", "unknown type");
	expect_verdict(r->verdicts[6], "reject BAD_RECORD", "a qty of 23 nines");
	cr_expect(strstr(r->verdicts[6]->reason, "column qty: more than 1000000000 units") != NULL, "%s",
		  r->verdicts[6]->reason);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	scenario_assert_audit_ok(db);
	free(db);
}

Test(yimad, bad_requests_get_their_status_and_the_server_keeps_serving)
{
	static const char *const extra[] = { "--max-body", "4096", NULL };
	char *db = world();
	char big[8192];
	size_t n;
	yd_t y;
	hc_resp_t r;

	memset(big, 'x', sizeof big);
	yd_start(&y, db, NULL, extra);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/events", PB, "\x0a\xff\xff", 3, &r), 400);
	Yima__V1__Error *e = yima__v1__error__unpack(NULL, r.len, r.body);
	cr_assert(e != NULL);
	cr_expect_str_eq(e->reason, "bad_body");
	cr_expect_eq(e->status, 400);
	yima__v1__error__free_unpacked(e, NULL);
	hc_resp_free(&r);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/events", "application/json", "{}", 2, NULL), 415);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/events", NULL, "x", 1, NULL), 415);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/settle", PB, big, sizeof big, NULL), 413);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/v2/nothing", NULL, NULL, 0, NULL), 404);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/v1/events", NULL, NULL, 0, NULL), 405);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/v1/codes/12", NULL, NULL, 0, NULL), 400);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/v1/codes/" C1, NULL, NULL, 0, NULL), 404);
	uint8_t *empty = batch("", RECV("P0001", C1), &n);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/events", PB, empty, n, NULL), 400, "empty batch id");
	free(empty);
	uint8_t *nocodes = claim("P0001", "S1", T("01"), "DRUGA:", false, &n);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/settle", PB, nocodes, n, NULL), 400, "no codes");
	free(nocodes);
	/* A broken request line: the connection is answered or closed, and
	 * the server goes on. */
	hc_t h;
	cr_assert(hc_connect(&h, &y, NULL));
	(void)!write(h.fd, "GARBAGE\r\n\r\n", 11);
	hc_close(&h);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 0, "nothing of a bad request is recorded");
	free(db);
}

Test(yimad, insecure_http_only_on_loopback)
{
	char *dir = tu_mkdtemp(), cmd[1024];
	snprintf(cmd, sizeof cmd, "%s/yimad --db %s/db --listen 0.0.0.0:0 --insecure-http 2>/dev/null",
		 YIMA_BINARY_DIR, dir);
	int st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "refused with exit 2");
	tu_rmtree(dir);
	free(dir);
}

/* The status of one request by who, and its Error reason ("" if none). */
static int status_as(const yd_t *y, const char *who, const char *method, const char *path,
		     const void *body, size_t n, char *reason, size_t rlen)
{
	hc_resp_t r;
	int st = hc_once(y, who, method, path, body ? PB : NULL, body, n, &r);

	reason[0] = '\0';
	if (st >= 400) {
		Yima__V1__Error *e = yima__v1__error__unpack(NULL, r.len, r.body);
		if (e != NULL) {
			snprintf(reason, rlen, "%s", e->reason);
			yima__v1__error__free_unpacked(e, NULL);
		}
	}
	if (st >= 0)
		hc_resp_free(&r);
	return st;
}

/* Issue 9 item 6: a certificate whose subject had two CNs acted as the
 * first.  A client certificate must have exactly one CN, a facility id
 * for a facility; a regulator's one CN may be any name.  Otherwise the
 * handshake completes and every request is 403 bad_certificate. */
Test(yimad, a_certificate_is_one_cn_or_nothing, .timeout = 120)
{
	static const char *const refused[] = { "twocn", "twocn-mv", "nocn", "badcn", "longcn", "reg2cn" };
	const char *certs = yd_certs();
	char *db = world(), reason[64], path[128];
	yd_t y;
	size_t n;

	yd_start(&y, db, certs, NULL);
	uint8_t *body = batch("cn-1", RECV("P0001", C1), &n);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		const char *who = refused[i];
		cr_expect_eq(status_as(&y, who, "POST", "/v1/events", body, n, reason, sizeof reason), 403,
			     "%s: POST /v1/events", who);
		cr_expect_str_eq(reason, "bad_certificate", "%s", who);
		snprintf(path, sizeof path, "/v1/codes/%s?view=public", C1);
		cr_expect_eq(status_as(&y, who, "GET", path, NULL, 0, reason, sizeof reason), 403,
			     "%s: the public view", who);
		cr_expect_eq(status_as(&y, who, "GET", "/healthz", NULL, 0, reason, sizeof reason), 403,
			     "%s: /healthz", who);
		cr_expect_str_eq(reason, "bad_certificate", "%s", who);
	}
	cr_expect_eq(ledger_events(db), 0, "nothing recorded for a refused certificate");
	/* the same batch from P0001's own certificate is recorded */
	cr_expect_eq(status_as(&y, "P0001", "POST", "/v1/events", body, n, reason, sizeof reason), 200);
	/* a regulator's single CN may be any name: it reads every history */
	snprintf(path, sizeof path, "/v1/codes/%s", C1);
	cr_expect_eq(status_as(&y, "regname", "GET", path, NULL, 0, reason, sizeof reason), 200);
	cr_expect_eq(status_as(&y, "regname", "POST", "/v1/events", body, n, reason, sizeof reason), 403);
	cr_expect_str_eq(reason, "read_only");
	free(body);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 1);
	free(db);
}

Test(yimad, a_facility_acts_only_as_itself)
{
	const char *certs = yd_certs();
	char *db = world();
	yd_t y;

	yd_start(&y, db, certs, NULL);
	post_batch(&y, "P0001", "b1", RECV("P0002", C1), 403);
	post_batch(&y, "P0001", "b2", RECV("P0001", C2) RECV("P0002", C1), 403);
	post_claim(&y, "P0001", "P0002", "S1", "DRUGA:" C1, false, 403);
	post_batch(&y, "REG1", "b3", RECV("P0001", C1), 403);
	cr_expect_eq(ledger_events(db), 0, "nothing of a forbidden request is recorded");

	Yima__V1__BatchReceipt *r = post_batch(&y, "P0001", "b4", RECV("P0001", C1), 200);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	/* Same batch id from another facility is another batch. */
	r = post_batch(&y, "P0002", "b4", RECV("P0002", C2), 200);
	cr_expect(!r->receipt->replayed);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	Yima__V1__ClaimVerdict *v = post_claim(&y, "P0001", "P0001", "S1", "DRUGA:" C1 "/4", false, 200);
	expect_verdict(v->codes[0], "accept", "own claim");
	yima__v1__claim_verdict__free_unpacked(v, NULL);

	/* Pipelined requests over TLS, claims answered later by the writer
	 * thread: every one answered in order on the same connection. */
	{
		char *all = NULL;
		size_t alen = 0;
		FILE *m = open_memstream(&all, &alen);
		for (int i = 0; i < 6; i++) {
			char stl[16], items[64];
			size_t n;
			snprintf(stl, sizeof stl, "PIPE%d", i);
			snprintf(items, sizeof items, "DRUGB:81000020000000%06d", i);
			uint8_t *body = claim("P0001", stl, T("05"), items, i % 2, &n);
			fprintf(m, "POST /v1/settle HTTP/1.1\r\nHost: x\r\nContent-Type: " PB
				"\r\nContent-Length: %zu\r\n\r\n", n);
			fwrite(body, 1, n, m);
			fprintf(m, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
			free(body);
		}
		fclose(m);
		hc_t ph;
		cr_assert(hc_connect(&ph, &y, "P0001"));
		cr_expect_eq(hc_pipeline(&ph, all, alen, 12), 12, "12 pipelined answers, all 200");
		hc_close(&ph);
		free(all);
	}

	/* No certificate, or one from a CA yimad does not trust: no service. */
	hc_t h;
	cr_expect(!hc_connect(&h, &y, NULL) ||
		  (hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, NULL) < 0));
	if (h.fd > 0)
		hc_close(&h);
	cr_expect_lt(hc_once(&y, "rogue-P0001", "GET", "/healthz", NULL, NULL, 0, NULL), 0);

	/* History: the handling facility and regulators; public view for all. */
	hc_resp_t resp;
	cr_expect_eq(hc_once(&y, "P0001", "GET", "/v1/codes/" C1, NULL, NULL, 0, NULL), 200);
	cr_expect_eq(hc_once(&y, "P0002", "GET", "/v1/codes/" C1, NULL, NULL, 0, NULL), 403);
	cr_expect_eq(hc_once(&y, "REG1", "GET", "/v1/codes/" C1, NULL, NULL, 0, &resp), 200);
	Yima__V1__CodeHistory *hist = yima__v1__code_history__unpack(NULL, resp.len, resp.body);
	cr_assert(hist != NULL);
	cr_expect_str_eq(hist->code, C1);
	cr_expect_eq(hist->n_history, 2);
	cr_expect_eq(hist->state->units_left, 20);
	cr_expect_str_eq(hist->history[1]->settlement, "S1");
	yima__v1__code_history__free_unpacked(hist, NULL);
	hc_resp_free(&resp);
	/* Issue 9 item 5: a stray stocktake of a pack P0001 holds is applied
	 * (warned ALREADY_HELD) and opens its history to P0002, but not
	 * P0001's settlement ids (docs/decisions.md); P0001 and the regulator
	 * still see them. */
#define C3 "81000010000000030001"
	r = post_batch(&y, "P0001", "b-c3", RECV("P0001", C3), 200);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	r = post_batch(&y, "P0002", "b-stray", T("02") ",P0002,stocktake," C3 ",,,,,\n", 200);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	v = post_claim(&y, "P0001", "P0001", "S9", "DRUGA:" C3 "/4", false, 200);
	yima__v1__claim_verdict__free_unpacked(v, NULL);
	const char *who[] = { "P0002", "P0001", "REG1" };
	const char *want_stl[] = { "", "S9", "S9" };
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(hc_once(&y, who[k], "GET", "/v1/codes/" C3, NULL, NULL, 0, &resp), 200,
			     "%s", who[k]);
		hist = yima__v1__code_history__unpack(NULL, resp.len, resp.body);
		cr_assert(hist != NULL);
		cr_assert_eq(hist->n_history, 3);
		cr_expect_str_eq(hist->history[1]->facility, "P0002");
		cr_expect_str_eq(hist->history[2]->facility, "P0001", "%s sees where", who[k]);
		cr_expect_eq(hist->history[2]->units, 4, "%s sees how many units", who[k]);
		cr_expect_str_eq(hist->history[2]->settlement, want_stl[k], "%s", who[k]);
		yima__v1__code_history__free_unpacked(hist, NULL);
		hc_resp_free(&resp);
	}
	cr_expect_eq(hc_once(&y, "P0002", "GET", "/v1/codes/" C1 "?view=public", NULL, NULL, 0, &resp), 200);
	Yima__V1__PublicCodeView *pub = yima__v1__public_code_view__unpack(NULL, resp.len, resp.body);
	cr_assert(pub != NULL);
	cr_expect_str_eq(pub->product_name, "Amoxicillin");
	cr_expect_eq(pub->sales, 1);
	cr_expect_eq(pub->units_dispensed, 4);
	cr_expect_str_eq(pub->status, "partly_dispensed");
	cr_expect(!pub->any_reject);
	yima__v1__public_code_view__free_unpacked(pub, NULL);
	hc_resp_free(&resp);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 9, "3, the 3 pipelined claims that are not dry runs, and 3 of C3");
	scenario_assert_audit_ok(db);
	free(db);
}

/* kill -9 between sending a batch and reading its receipt, restart, send
 * it again: every batch ends up in the ledger exactly once, and every
 * receipt the client got names the records the ledger holds. */
Test(yimad, kill_9_loses_nothing_acknowledged, .timeout = 120)
{
	enum { BATCHES = 24, PER = 40 };
	char *db = world();
	yd_t y;
	uint8_t hashes[BATCHES][32];
	uint64_t last[BATCHES];

	yd_start(&y, db, NULL, NULL);
	for (int b = 0; b < BATCHES; b++) {
		char id[16], *rows = NULL;
		size_t len = 0, n;
		FILE *m = open_memstream(&rows, &len);
		for (int i = 0; i < PER; i++)
			fprintf(m, T("01") ",P0001,receive,810000100%05d%06d,,,,,S0001\n", b, i);
		fclose(m);
		snprintf(id, sizeof id, "crash-%d", b);
		uint8_t *body = batch(id, rows, &n);
		for (int attempt = 0;; attempt++) {
			hc_t h;
			hc_resp_t r;
			cr_assert(attempt < 5);
			if (!hc_connect(&h, &y, NULL)) {
				yd_start(&y, db, NULL, NULL);
				continue;
			}
			if (b % 4 == 1 && attempt == 0) {
				/* The request is on the wire; the server dies. */
				char head[128];
				int hl = snprintf(head, sizeof head, "POST /v1/events HTTP/1.1\r\nContent-Type: " PB
						  "\r\nContent-Length: %zu\r\n\r\n", n);
				(void)!write(h.fd, head, (size_t)hl);
				(void)!write(h.fd, body, n);
				usleep((useconds_t)(b * 300));
				yd_stop(&y, SIGKILL);
				hc_close(&h);
				yd_start(&y, db, NULL, NULL);
				continue;
			}
			bool ok = hc_request(&h, "POST", "/v1/events", PB, body, n, &r);
			hc_close(&h);
			if (ok && r.status == 200) {
				Yima__V1__BatchReceipt *rc = yima__v1__batch_receipt__unpack(NULL, r.len, r.body);
				cr_assert(rc && rc->n_verdicts == PER);
				last[b] = rc->receipt->last_seq;
				memcpy(hashes[b], rc->receipt->chain_hash.data, 32);
				yima__v1__batch_receipt__free_unpacked(rc, NULL);
				hc_resp_free(&r);
				break;
			}
			hc_resp_free(&r);
		}
		free(body);
		free(rows);
	}
	cr_expect_eq(yd_stop(&y, SIGKILL), 128 + SIGKILL);
	cr_expect_eq(ledger_events(db), BATCHES * PER, "every row exactly once");
	ledger_t *lg;
	ledger_txn_t *txn;
	char why[256];
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	for (int b = 0; b < BATCHES; b++) {
		ledger_event_t e;
		cr_assert_eq(ledger_event_get(txn, last[b], &e), 0);
		cr_expect(memcmp(e.hash, hashes[b], 32) == 0, "batch %d: receipt hash is the record's", b);
	}
	ledger_txn_abort(txn);
	ledger_close(lg);
	scenario_assert_audit_ok(db);
	free(db);
}

/* Eight clients at once: every claim answered and recorded, and commits
 * were shared (group commit). */
Test(yimad, concurrent_claims_share_commits, .timeout = 120)
{
	enum { CLIENTS = 8, CLAIMS = 40 };
	char *db = world();
	yd_t y;
	hc_resp_t r;

	yd_start(&y, db, NULL, NULL);
	for (int c = 0; c < CLIENTS; c++) {
		pid_t pid = fork();
		cr_assert(pid >= 0);
		if (pid > 0)
			continue;
		hc_t h;
		int bad = 0;
		if (!hc_connect(&h, &y, NULL))
			_exit(1);
		for (int i = 0; i < CLAIMS; i++) {
			char stl[32], items[64];
			size_t n;
			snprintf(stl, sizeof stl, "C%d-%d", c, i);
			snprintf(items, sizeof items, "DRUGA:810000100%05d%06d", c, i);
			uint8_t *body = claim("P0001", stl, T("05"), items, false, &n);
			if (!hc_request(&h, "POST", "/v1/settle", PB, body, n, &r) || r.status != 200)
				bad++;
			hc_resp_free(&r);
			free(body);
		}
		hc_close(&h);
		_exit(bad ? 1 : 0);
	}
	for (int c = 0; c < CLIENTS; c++) {
		int st;
		wait(&st);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a client got a non-200 answer");
	}
	cr_assert_eq(hc_once(&y, NULL, "GET", "/metrics", NULL, NULL, 0, &r), 200);
	unsigned long long commits = 0, jobs = 0;
	const char *p = strstr((char *)r.body, "\nyimad_commits_total ");
	const char *q = strstr((char *)r.body, "\nyimad_committed_requests_total ");
	cr_assert(p && q);
	commits = strtoull(p + 21, NULL, 10);
	jobs = strtoull(q + 32, NULL, 10);
	hc_resp_free(&r);
	cr_expect_eq(jobs, CLIENTS * CLAIMS);
	cr_expect_lt(commits, jobs, "group commit: %llu commits for %llu requests", commits, jobs);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), CLIENTS * CLAIMS);
	scenario_assert_audit_ok(db);
	free(db);
}

/* Options from --config apply (here: a small body limit), and a config
 * naming an unknown option is refused. */
Test(yimad, config_file_options)
{
	char *db = world(), *dir = tu_mkdtemp(), arg[600], big[2048];
	static const char text[] = "# test\nmax-body = 1024\nquiet = true\ntimeout = 5\n";
	char *conf = tu_write_file(dir, "yimad.conf", text, strlen(text));
	const char *extra[] = { "--config", conf, NULL };
	yd_t y;

	memset(big, 'x', sizeof big);
	yd_start(&y, db, NULL, extra);
	cr_expect_eq(hc_once(&y, NULL, "POST", "/v1/events", PB, big, sizeof big, NULL), 413);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);

	static const char badtext[] = "no-such-option = 1\n";
	char *bad = tu_write_file(dir, "bad.conf", badtext, strlen(badtext));
	snprintf(arg, sizeof arg, "%s/yimad --db %s --listen 127.0.0.1:0 --insecure-http --config %s 2>/dev/null",
		 YIMA_BINARY_DIR, db, bad);
	int st = system(arg);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "an unknown option in the config is exit 2");
	free(bad);
	free(conf);
	tu_rmtree(dir);
	free(dir);
	free(db);
}

/* Issue 13: a platform named in --relay FILE sends batches and claims for
 * the facilities its patterns match, events of several of them in one
 * batch; a facility outside its patterns is 403 and nothing is recorded;
 * it reads the histories of codes its facilities handled.  Everyone else
 * still acts only as itself. */
Test(yimad, relay_acts_for_its_facilities)
{
	char *dir = tu_mkdtemp(), *db = world(), relay[700];
	const char *certs = yd_certs();
	yd_t y;

	snprintf(relay, sizeof relay, "%s/relay.conf", dir);
	FILE *fp = fopen(relay, "w");
	cr_assert_not_null(fp);
	fputs("# platform  facilities\nPLATFORM-AH P0* H9?\n", fp);
	fclose(fp);
	const char *extra[] = { "--relay", relay, NULL };
	yd_start(&y, db, certs, extra);

	Yima__V1__BatchReceipt *r = post_batch(&y, "PLATFORM-AH", "r-1",
					       RECV("P0001", C1) RECV("P0002", C2), 200);
	cr_expect_eq(r->n_verdicts, 2);
	yima__v1__batch_receipt__free_unpacked(r, NULL);
	post_batch(&y, "PLATFORM-AH", "r-2", RECV("P0001", C3) RECV("H0001", C3), 403);
	cr_expect_eq(ledger_events(db), 2, "nothing of a batch naming another facility");
	Yima__V1__ClaimVerdict *v = post_claim(&y, "PLATFORM-AH", "P0001", "RS1", "DRUGA:" C1 "/4",
					       false, 200);
	expect_verdict(v->codes[0], "accept", "a claim for a facility the relay serves");
	yima__v1__claim_verdict__free_unpacked(v, NULL);
	post_claim(&y, "PLATFORM-AH", "H0001", "RS2", "DRUGA:" C2 "/4", false, 403);
	/* the facilities themselves are unchanged: P0001 may not act as P0002 */
	post_batch(&y, "P0001", "own-1", RECV("P0002", C3), 403);
	cr_expect_eq(hc_once(&y, "PLATFORM-AH", "GET", "/v1/codes/" C1, NULL, NULL, 0, NULL), 200);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	cr_expect_eq(ledger_events(db), 3);
	scenario_assert_audit_ok(db);
	free(db);
	tu_rmtree(dir);
	free(dir);
}

/* A relay file that does not parse stops yimad at start, naming the line. */
Test(yimad, bad_relay_file_refused_at_start)
{
	char *dir = tu_mkdtemp(), cmd[2048], relay[700];

	snprintf(relay, sizeof relay, "%s/relay.conf", dir);
	FILE *fp = fopen(relay, "w");
	cr_assert_not_null(fp);
	fputs("PLATFORM-AH p0*\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof cmd, "%s/yima init --db %s/db >/dev/null 2>&1 && %s/yimad --db %s/db "
		 "--listen 127.0.0.1:0 --insecure-http --relay %s 2>%s/err",
		 YIMA_BINARY_DIR, dir, YIMA_BINARY_DIR, dir, relay, dir);
	int st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "refused with exit 2");
	snprintf(cmd, sizeof cmd, "grep -q 'relay.conf: line 1: \"p0\\*\" is not a facility pattern' %s/err",
		 dir);
	cr_expect_eq(system(cmd), 0, "the message names the file, line and pattern");
	tu_rmtree(dir);
	free(dir);
}
