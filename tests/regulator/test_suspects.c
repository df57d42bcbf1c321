/*
 * test_suspects.c - `yima suspects` (spec section 7) on a small world
 * whose answer is worked out by hand from the spec: which dispense a
 * resurfacing record resurfaces (the code's last applied one before it,
 * if it had a patient), evidence per code (the first resurfacing record
 * in the period, ordered by resurfaced_seq), packs, over_quantity in the
 * period, facilities, the order (packs, then over_quantity descending,
 * then patient ascending), --min-packs, [--from, --to), and the CSV form.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yima/core/timearg.h"
#include "yima/regulator/report.h"
#include "yima/regulator/suspects.h"
#include "yima/util/buf.h"
#include "yima/util/hex.h"
#include "yima/verifier/catalog.h"
#include "yima/verifier/ingest.h"

#define A(n) "810000100000000000" #n	/* 24 units, DRUGA, limit 24 */
#define B(n) "810000200000000000" #n	/* 1 unit, DRUGB, no limit */
#define T(d) "2026-03-" #d "T10:00:00+08:00"
#define RCV(t, f, c) t "," f ",receive," c ",,,,,S1\n"
#define DSP(t, f, c, d, s, p) t "," f ",dispense," c "," d ",," s "," p ",\n"

static const char catalog[] =
	"product_id,drug_code,name,spec,pack_units,max_units_30d\n"
	"8100001,DRUGA,Amoxicillin,24 caps,24,24\n"
	"8100002,DRUGB,Aspirin,1 box,1,\n";

static const char events[] =
	"time,facility,type,code,drug,qty,settlement,patient,counterparty\n"
	RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "P2", A(03))	/* 1-3 */
	RCV(T(01), "P2", A(04)) RCV(T(01), "H1", B(01)) RCV(T(01), "H1", B(02))	/* 4-6 */
	DSP(T(02), "H1", A(01), "DRUGA", "ST1", "PT1")		/* 7 */
	DSP(T(02), "P2", A(03), "DRUGA", "ST2", "PT1")		/* 8: OVER_QUANTITY */
	DSP(T(02), "H1", B(01), "DRUGB", "ST3", "PT2")		/* 9 */
	DSP(T(02), "H1", B(02), "DRUGB", "ST4", "PT2")		/* 10 */
	DSP(T(02), "H1", A(02), "DRUGA", "ST5", "")		/* 11: no patient */
	RCV(T(04), "P3", A(01))					/* 12: RTM of 7 */
	DSP(T(05), "P3", A(01), "DRUGA", "ST6", "PT9")		/* 13: RTM of 7 again */
	DSP(T(05), "P2", A(03), "DRUGA", "ST7", "PT9")		/* 14: REUSED of 8 */
	RCV(T(06), "P4", B(01)) RCV(T(06), "P4", B(02))		/* 15, 16: RTM of 9, 10 */
	RCV(T(07), "P4", A(02))					/* 17: of 11, no patient */
	DSP(T(02), "P2", A(04), "DRUGA", "ST8", "PT3")		/* 18 */
	T(03) ",P2,refund," A(04) ",,,ST8,PT3,\n"		/* 19: whole again */
	DSP(T(03), "P2", A(04), "DRUGA", "ST9", "PT4")		/* 20 */
	RCV(T(09), "P5", A(04))					/* 21: RTM of 20, not 18 */
	RCV(T(01), "H1", B(03)) RCV(T(01), "H1", B(04))		/* 22, 23 */
	DSP(T(02), "H1", B(03), "DRUGB", "ST10", "PT5")		/* 24 */
	DSP(T(02), "H1", B(04), "DRUGB", "ST11", "PT5")		/* 25 */
	RCV(T(06), "P4", B(03)) RCV(T(06), "P4", B(04));	/* 26, 27: RTM */

static char *dir, *db;
static ledger_t *lg;
static char hash[6][65];	/* PT1..PT5 by number */

static void setup(void)
{
	char why[256], *cat, *ev;
	ingest_opts_t io;
	ingest_stats_t is;
	catalog_stats_t cs;
	ledger_txn_t *txn;

	dir = tu_mkdtemp();
	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cat = tu_write_file(dir, "catalog.csv", catalog, sizeof catalog - 1);
	ev = tu_write_file(dir, "events.csv", events, sizeof events - 1);
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, cat, NULL, NULL, &cs, why, sizeof why), 0, "%s", why);
	ingest_opts_init(&io);
	io.path = ev;
	cr_assert_eq(ingest_file(lg, &io, &is, why, sizeof why), 0, "%s", why);
	cr_assert_eq(is.rows, 27);
	cr_assert_eq(is.findings[F_OVER_QUANTITY], 1);
	cr_assert_eq(is.findings[F_REUSED], 1);
	cr_assert_eq(is.findings[F_RETURNED_TO_MARKET], 8);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	for (int i = 1; i <= 5; i++) {
		char id[4];
		uint8_t mac[LEDGER_MAC_LEN];
		snprintf(id, sizeof id, "PT%d", i);
		cr_assert_eq(ledger_patient_mac(txn, id, 3, mac), 0);
		hex_encode(mac, sizeof mac, hash[i]);
	}
	ledger_txn_abort(txn);
	free(cat);
	free(ev);
}

static void teardown(void)
{
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
	free(db);
}

TestSuite(suspects, .init = setup, .fini = teardown);

/* Run suspects; the output with each patient's hash written "<PTn>". */
static char *run(const char *from, const char *to, uint64_t min_packs, enum suspects_format fmt,
		 suspects_stats_t *st)
{
	suspects_opts_t o;
	char why[256], *out = NULL;
	size_t len = 0;

	memset(&o, 0, sizeof o);
	o.min_packs = min_packs;
	if (from != NULL)
		cr_assert_eq(time_arg_parse(from, TIME_ARG_START, &o.from, why, sizeof why), 0);
	if (to != NULL)
		cr_assert_eq(time_arg_parse(to, TIME_ARG_START, &o.to, why, sizeof why), 0);
	o.has_from = from != NULL;
	o.has_to = to != NULL;
	FILE *fp = open_memstream(&out, &len);
	cr_assert_eq(suspects_write(lg, &o, fmt, fp, st, why, sizeof why), 0, "%s", why);
	fclose(fp);
	for (int i = 1; i <= 5; i++) {
		char *at, name[8];
		snprintf(name, sizeof name, "<PT%d>", i);
		while ((at = strstr(out, hash[i])) != NULL) {
			memcpy(at, name, 5);
			memmove(at + 5, at + 64, strlen(at + 64) + 1);
		}
	}
	return out;
}

#define EV(c, ds, df, rs, rf, f) \
	"{\"code\":\"" c "\",\"dispense_seq\":" #ds ",\"dispensed_at\":\"" df "\",\"resurfaced_seq\":" #rs \
	",\"resurfaced_at\":\"" rf "\",\"finding\":\"" f "\"}"
#define RTM "RETURNED_TO_MARKET"

static const char pt1[] = "{\"patient\":\"<PT1>\",\"packs\":2,\"over_quantity\":1,\"facilities\":2,\"evidence\":["
	EV(A(01), 7, "H1", 12, "P3", RTM) "," EV(A(03), 8, "P2", 14, "P2", "REUSED") "]}\n";
static const char pt2[] = "{\"patient\":\"<PT2>\",\"packs\":2,\"over_quantity\":0,\"facilities\":1,\"evidence\":["
	EV(B(01), 9, "H1", 15, "P4", RTM) "," EV(B(02), 10, "H1", 16, "P4", RTM) "]}\n";
static const char pt5[] = "{\"patient\":\"<PT5>\",\"packs\":2,\"over_quantity\":0,\"facilities\":1,\"evidence\":["
	EV(B(03), 24, "H1", 26, "P4", RTM) "," EV(B(04), 25, "H1", 27, "P4", RTM) "]}\n";
static const char pt4[] = "{\"patient\":\"<PT4>\",\"packs\":1,\"over_quantity\":0,\"facilities\":1,\"evidence\":["
	EV(A(04), 20, "P2", 21, "P5", RTM) "]}\n";

/* PT2 and PT5 tie on packs and over_quantity: the lower hash first. */
static void expect_tied(const char *first_of_ties[2])
{
	bool two_first = strcmp(hash[2], hash[5]) < 0;
	first_of_ties[0] = two_first ? pt2 : pt5;
	first_of_ties[1] = two_first ? pt5 : pt2;
}

Test(suspects, whole_ledger_worst_first)
{
	suspects_stats_t st;
	const char *tie[2];
	char *got = run(NULL, NULL, 2, SUSPECTS_JSONL, &st);
	char want[4096];

	expect_tied(tie);
	snprintf(want, sizeof want, "%s%s%s", pt1, tie[0], tie[1]);
	cr_expect_str_eq(got, want);
	cr_expect_eq(st.records, 27);
	cr_expect_eq(st.resurfacing, 9);
	cr_expect_eq(st.with_patient, 8, "the resurfacing of a dispense without a patient counts for no one");
	cr_expect_eq(st.patients, 4);
	cr_expect_eq(st.listed, 3);
	cr_expect_eq(st.over_quantity, 1);
	free(got);

	got = run(NULL, NULL, 1, SUSPECTS_JSONL, &st);
	snprintf(want, sizeof want, "%s%s%s%s", pt1, tie[0], tie[1], pt4);
	cr_expect_str_eq(got, want, "min-packs 1 adds PT4, whose pack's last applied dispense was theirs");
	free(got);
	got = run(NULL, NULL, 3, SUSPECTS_JSONL, &st);
	cr_expect_str_eq(got, "");
	free(got);
}

Test(suspects, period_from_inclusive_to_exclusive)
{
	suspects_stats_t st;
	char *got, want[4096];

	/* from 03-05: A01's first resurfacing in the period is 13, not 12;
	 * PT1's OVER_QUANTITY dispense (03-02) is outside: all three tie */
	got = run("2026-03-05", NULL, 2, SUSPECTS_JSONL, &st);
	const char *p1 = "{\"patient\":\"<PT1>\",\"packs\":2,\"over_quantity\":0,\"facilities\":2,\"evidence\":["
		EV(A(01), 7, "H1", 13, "P3", RTM) "," EV(A(03), 8, "P2", 14, "P2", "REUSED") "]}\n";
	const char *order[3] = { p1, pt2, pt5 };
	const char *h[3] = { hash[1], hash[2], hash[5] };
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (strcmp(h[j], h[i]) < 0) {
				const char *t = h[i]; h[i] = h[j]; h[j] = t;
				t = order[i]; order[i] = order[j]; order[j] = t;
			}
	snprintf(want, sizeof want, "%s%s%s", order[0], order[1], order[2]);
	cr_expect_str_eq(got, want);
	cr_expect_eq(st.over_quantity, 0);
	free(got);

	/* to is excluded: record 12 at exactly 03-04T10:00 is out, then in */
	got = run(NULL, T(04), 1, SUSPECTS_JSONL, &st);
	cr_expect_str_eq(got, "");
	free(got);
	got = run(T(04), "2026-03-04T10:00:00.000000001+08:00", 1, SUSPECTS_JSONL, &st);
	cr_expect_str_eq(got, "{\"patient\":\"<PT1>\",\"packs\":1,\"over_quantity\":0,\"facilities\":1,"
			      "\"evidence\":[" EV(A(01), 7, "H1", 12, "P3", RTM) "]}\n");
	free(got);
}

Test(suspects, csv_one_row_per_evidence_item)
{
	suspects_stats_t st;
	char *got = run(NULL, "2026-03-06", 1, SUSPECTS_CSV, &st);

	cr_expect_str_eq(got, "patient,packs,over_quantity,facilities,code,dispense_seq,dispensed_at,"
			      "resurfaced_seq,resurfaced_at,finding\n"
			      "<PT1>,2,1,2," A(01) ",7,H1,12,P3," RTM "\n"
			      "<PT1>,2,1,2," A(03) ",8,P2,14,P2,REUSED\n");
	free(got);
}

/* The evidence report's patients section: the suspects that involve the
 * facility, and its OVER_QUANTITY dispenses, linked to the evidence rows
 * the page lists (and only to those). */
Test(suspects, report_patients_section)
{
	report_opts_t o;
	report_stats_t rs;
	char why[256], *page = NULL;
	size_t len = 0;

	memset(&o, 0, sizeof o);
	o.facility = "P2";
	cr_assert_eq(time_arg_parse("2026-03-01", TIME_ARG_START, &o.from, why, sizeof why), 0);
	cr_assert_eq(time_arg_parse("2026-03-31", TIME_ARG_END, &o.to, why, sizeof why), 0);
	FILE *fp = open_memstream(&page, &len);
	cr_assert_eq(report_write(lg, &o, fp, &rs, why, sizeof why), 0, "%s", why);
	fclose(fp);
	const char *sec = strstr(page, "<h2>Patients</h2>"), *evid = strstr(page, "<h2>Evidence");
	cr_assert(sec != NULL && evid != NULL && sec < evid);
	char *part = strndup(sec, (size_t)(evid - sec));
	/* PT1: A03 was dispensed (8, flagged OVER_QUANTITY) and came back
	 * (14, REUSED) at P2: both linked; A01's records are H1's and P3's */
	cr_expect_not_null(strstr(part, hash[1]));
	cr_expect_not_null(strstr(part, "dispensed <a href=\"#seq-8\">8</a> at P2, back "
					"<a href=\"#seq-14\">14</a> at P2 (REUSED)"));
	cr_expect_not_null(strstr(part, "dispensed 7 at H1, back 12 at P3 (" RTM ")"));
	/* PT2 and PT5: nothing of theirs passed through P2 */
	cr_expect_null(strstr(part, hash[2]));
	cr_expect_null(strstr(part, hash[5]));
	cr_expect_not_null(strstr(part, "<h3>Over-quantity dispenses (1)</h3>"));
	cr_expect_not_null(strstr(part, "<td class=\"num\"><a href=\"#seq-8\">8</a></td>"));
	cr_expect_not_null(strstr(page, "<tr id=\"seq-8\">"), "the row the link points to");
	cr_expect_not_null(strstr(page, "<tr id=\"seq-14\">"));
	free(part);
	free(page);
}
