/*
 * test_quantity.c - OVER_QUANTITY, spec section 7, edge by edge, through
 * the real verifier and ledger: catalog loads (and reloads), `yima
 * ingest`'s row path and yimad's claim path (dry runs too).  The expected
 * verdicts are worked out from the spec's text, one line per event or
 * claimed code; every ledger must then pass the audit (which replays the
 * verdicts and compares the patient chains).
 *
 * Section 7: a dispense of n units with a patient, of a product with a
 * limit L (max_units_30d), when no reject finding applies, gets
 * OVER_QUANTITY if S + n > L; S sums the patient's applied dispenses of
 * the drug code recorded before it, net of refunds against them, whose
 * time is in (t - 30 days, t].
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "testutil.h"
#include "yima/util/buf.h"
#include "yima/util/csv.h"
#include "yima/verifier/catalog.h"
#include "yima/verifier/claim.h"
#include "yima/verifier/verify.h"

#define HEAD "product_id,drug_code,name,spec,pack_units,max_units_30d\n"
/* 8100001 and 8100003 share DRUGA with limits 48 and 60; 8100002
 * (DRUGB) has none. */
#define CAT HEAD                                                          \
	"8100001,DRUGA,Amoxicillin,24 caps,24,48\n"                       \
	"8100002,DRUGB,Aspirin,1 box,1,\n"                                \
	"8100003,DRUGA,Amoxicillin generic,24 caps,24,60\n"
#define CAT_NOLIMIT HEAD                                                  \
	"8100001,DRUGA,Amoxicillin,24 caps,24,\n"                         \
	"8100002,DRUGB,Aspirin,1 box,1,\n"                                \
	"8100003,DRUGA,Amoxicillin generic,24 caps,24,\n"
/* a catalog without the column (spec section 2: old catalogs) */
#define CAT_OLD "product_id,drug_code,name,spec,pack_units\n"             \
	"8100001,DRUGA,Amoxicillin,24 caps,24\n"

#define A(n) "810000100000000000" #n	/* 8100001, 24 units, DRUGA, L 48 */
#define X(n) "810000300000000000" #n	/* 8100003, 24 units, DRUGA, L 60 */
#define B(n) "810000200000000000" #n	/* 8100002, 1 unit, DRUGB, none */

#define R(t, f, ty, c, d, q, s, p) t "," f "," ty "," c "," d "," q "," s "," p ",\n"
#define RCV(t, f, c) t "," f ",receive," c ",,,,,S1\n"
#define DSP(t, f, c, q, s, p) R(t, f, "dispense", c, "DRUGA", q, s, p)
#define REF(t, f, c, q, s, p) R(t, f, "refund", c, "", q, s, p)
#define T(d) "2026-03-" #d "T10:00:00+08:00"

enum step_kind { ROWS, CATALOG, CLAIM, DRY_CLAIM };

typedef struct step {
	enum step_kind kind;
	const char *text;	/* rows, a catalog, or a claim as dispense rows
				 * of one time, facility, settlement, patient */
	const char *expect;	/* one line per row or claimed code */
} step_t;

typedef struct qcase {
	const char *name;
	step_t steps[6];
} qcase_t;

static const qcase_t cases[] = {
	{ "exactly at the limit is not over; one unit more is",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "P2", A(02)) RCV(T(01), "P3", A(03))
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
	      DSP(T(03), "P2", A(02), "", "ST2", "PT1")
	      DSP(T(04), "P3", A(03), "1", "ST3", "PT1")
	      DSP(T(04), "P3", A(03), "1", "ST4", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\nwarn OVER_QUANTITY\nwarn OVER_QUANTITY" } } },

	{ "the window (t - 30 days, t]: open start, closed end, to the nanosecond",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      RCV(T(01), "H1", A(04)) RCV(T(01), "H1", A(05))
	      DSP("2026-03-01T10:00:00.5+08:00", "H1", A(01), "", "ST1", "PT1")
	      DSP("2026-03-01T10:00:00.5+08:00", "H1", A(02), "", "ST2", "PT1")
	      /* exactly 30 days after both: outside the open start */
	      DSP("2026-03-31T10:00:00.5+08:00", "H1", A(03), "1", "ST3", "PT1")
	      /* a nanosecond less than 30 days after: both inside (48); the
	       * one recorded before at 10:00:00.5 is after t: outside */
	      DSP("2026-03-31T10:00:00.499999999+08:00", "H1", A(03), "1", "ST4", "PT1")
	      /* the closed end: a dispense at the same instant counts */
	      DSP("2026-03-31T10:00:00.499999999+08:00", "H1", A(04), "", "ST5", "PT2")
	      DSP("2026-03-31T02:00:00.499999999Z", "H1", A(05), "", "ST6", "PT2")
	      DSP("2026-03-31T02:00:00.499999999Z", "H1", A(03), "1", "ST7", "PT2"),
	      "accept\naccept\naccept\naccept\naccept\n"
	      "accept\naccept\naccept\nwarn OVER_QUANTITY\naccept\naccept\nwarn OVER_QUANTITY" } } },

	/* the ledger keeps chains per 8 days of time (docs/ledger.md); the
	 * window's open start exactly on an edge of those: 2026-02-12T00:00Z */
	{ "the window's start on an edge of the ledger's 8-day buckets",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV("2026-02-01T00:00:00Z", "H1", A(01)) RCV("2026-02-01T00:00:00Z", "H1", A(02))
	      RCV("2026-02-01T00:00:00Z", "H1", A(03)) RCV("2026-02-01T00:00:00Z", "H1", A(04))
	      DSP("2026-02-11T23:59:59.999999999Z", "H1", A(01), "24", "ST1", "PT1")
	      DSP("2026-02-12T00:00:00Z", "H1", A(02), "24", "ST2", "PT1")
	      DSP("2026-02-12T00:00:00.000000001Z", "H1", A(03), "24", "ST3", "PT1")
	      /* (Feb 12 00:00, Mar 14 00:00]: only ST3 (24), in the bucket
	       * that starts at the window's excluded start */
	      DSP("2026-03-14T08:00:00+08:00", "H1", A(04), "24", "ST4", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\naccept\nwarn OVER_QUANTITY\naccept" } } },

	{ "events out of time order: a later-dated dispense recorded first does not hide older ones",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      RCV(T(01), "H1", A(04)) RCV(T(01), "H1", A(05))
	      DSP("2026-03-10T10:00:00+08:00", "H1", A(01), "", "ST1", "PT1")
	      /* (Mar 20, Apr 19]: nothing */
	      DSP("2026-04-19T10:00:00+08:00", "H1", A(02), "", "ST2", "PT1")
	      /* (Feb 10, Mar 12]: Mar 10 (24); Apr 19 is after t */
	      DSP("2026-03-12T10:00:00+08:00", "H1", A(03), "", "ST3", "PT1")
	      /* (Mar 10, Apr 9]: Mar 12 (24), Mar 10 is at the open start */
	      DSP("2026-04-09T10:00:00+08:00", "H1", A(04), "1", "ST4", "PT1")
	      /* (Mar 11, Apr 10]: Mar 12 and Apr 9: 24 + 1 + 23 = 48 */
	      DSP("2026-04-10T10:00:00+08:00", "H1", A(04), "23", "ST5", "PT1")
	      /* (Mar 21, Apr 20]: Apr 9, Apr 10, Apr 19: 1 + 23 + 24 = 48, + 1 */
	      DSP("2026-04-20T10:00:00+08:00", "H1", A(05), "1", "ST6", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\n"
	      "accept\naccept\naccept\naccept\naccept\nwarn OVER_QUANTITY" } } },

	{ "instants before 1970 (negative seconds in the chain) count the same",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV("1969-12-01T10:00:00+08:00", "H1", A(01)) RCV("1969-12-01T10:00:00+08:00", "H1", A(02))
	      RCV("1969-12-01T10:00:00+08:00", "H1", A(03))
	      DSP("1969-12-02T10:00:00.5+08:00", "H1", A(01), "", "ST1", "PT1")
	      DSP("1969-12-03T10:00:00+08:00", "H1", A(02), "", "ST2", "PT1")
	      DSP("1970-01-01T07:59:59.5+08:00", "H1", A(03), "1", "ST3", "PT1")
	      DSP("1970-01-01T10:00:00.5+08:00", "H1", A(03), "1", "ST4", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\nwarn OVER_QUANTITY\naccept" } } },

	{ "refunds net out; a rejected refund does not",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
	      DSP(T(02), "H1", A(02), "", "ST2", "PT1")
	      REF(T(03), "H1", A(01), "12", "ST1", "PT1")
	      DSP(T(04), "H1", A(03), "12", "ST3", "PT1")
	      DSP(T(04), "H1", A(03), "1", "ST4", "PT1")
	      /* a refund more than 10 days after its dispense is late */
	      REF(T(20), "H1", A(02), "24", "ST2", "PT1")
	      DSP(T(20), "H1", A(03), "1", "ST5", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\naccept\naccept\nwarn OVER_QUANTITY\n"
	      "reject REFUND_LATE\nwarn OVER_QUANTITY" } } },

	{ "a refund of another patient's dispense counts for that patient, not for this one",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      RCV(T(01), "H1", A(04)) RCV(T(01), "H1", A(05))
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
	      DSP(T(02), "H1", A(02), "", "ST2", "PT2")
	      /* refunds PT2's dispense, though its row names PT1 */
	      REF(T(03), "H1", A(02), "", "ST2", "PT1")
	      DSP(T(04), "H1", A(03), "", "ST3", "PT1")
	      DSP(T(04), "H1", A(02), "1", "ST4", "PT1")
	      DSP(T(05), "H1", A(04), "", "ST5", "PT2")
	      DSP(T(05), "H1", A(05), "", "ST6", "PT2")
	      DSP(T(05), "H1", A(02), "1", "ST7", "PT2"),
	      "accept\naccept\naccept\naccept\naccept\n"
	      "accept\naccept\naccept\naccept\nwarn OVER_QUANTITY\naccept\naccept\nwarn OVER_QUANTITY" } } },

	{ "a split pack across patients: each counts the units they got",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      DSP(T(02), "H1", A(01), "12", "ST1", "PT1")
	      DSP(T(02), "H1", A(01), "12", "ST2", "PT2")
	      DSP(T(03), "H1", A(02), "", "ST3", "PT1")
	      DSP(T(04), "H1", A(03), "12", "ST4", "PT1")
	      DSP(T(04), "H1", A(03), "1", "ST5", "PT1")
	      DSP(T(04), "H1", A(03), "11", "ST6", "PT2"),
	      "accept\naccept\naccept\naccept\naccept\naccept\naccept\nwarn OVER_QUANTITY\naccept" } } },

	{ "several products of one drug code count together, each against its own limit",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "P2", X(01)) RCV(T(01), "H1", A(02))
	      RCV(T(01), "P2", X(02)) RCV(T(01), "H1", B(01))
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
	      DSP(T(02), "P2", X(01), "", "ST2", "PT1")
	      DSP(T(03), "H1", A(02), "1", "ST3", "PT1")
	      DSP(T(03), "P2", X(02), "11", "ST4", "PT1")
	      DSP(T(03), "P2", X(02), "1", "ST5", "PT1")
	      R(T(03), "H1", "dispense", B(01), "DRUGB", "", "ST6", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\n"
	      "accept\naccept\nwarn OVER_QUANTITY\naccept\nwarn OVER_QUANTITY\naccept" } } },

	{ "a claim's earlier codes count for its later ones, in a dry run and recorded",
	  { { CATALOG, CAT, NULL },
	    { ROWS, RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
		    RCV(T(01), "H1", A(04)),
	      "accept\naccept\naccept\naccept" },
	    { DRY_CLAIM,
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1") DSP(T(02), "H1", A(02), "", "ST1", "PT1")
	      DSP(T(02), "H1", A(03), "1", "ST1", "PT1"),
	      "accept\naccept\nwarn OVER_QUANTITY" },
	    { CLAIM,
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1") DSP(T(02), "H1", A(02), "", "ST1", "PT1")
	      DSP(T(02), "H1", A(03), "1", "ST1", "PT1"),
	      "accept\naccept\nwarn OVER_QUANTITY" },
	    /* the recorded claim counts for the next one: 49 + 1 */
	    { DRY_CLAIM, DSP(T(03), "H1", A(04), "1", "ST2", "PT1"), "warn OVER_QUANTITY" },
	    { ROWS, DSP(T(03), "H1", A(04), "1", "ST3", "PT2"), "accept" } } },

	{ "a catalog reload changes the limit for later events only",
	  { { CATALOG, CAT_NOLIMIT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
	      DSP(T(02), "H1", A(02), "", "ST2", "PT1")
	      DSP(T(02), "H1", A(03), "1", "ST3", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\naccept" },
	    { CATALOG, CAT, NULL },
	    /* the dispenses made without a limit still count: 49 + 1 */
	    { ROWS, DSP(T(03), "H1", A(03), "1", "ST4", "PT1"), "warn OVER_QUANTITY" },
	    { CATALOG, CAT_OLD, NULL },
	    { ROWS, DSP(T(03), "H1", A(03), "1", "ST5", "PT1"), "accept" } } },

	{ "no patient, no finding; and dispenses without one never count",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      DSP(T(02), "H1", A(01), "", "ST1", "")
	      DSP(T(02), "H1", A(02), "", "ST2", "")
	      DSP(T(02), "H1", A(03), "1", "ST3", "")
	      DSP(T(02), "H1", A(03), "23", "ST4", "PT1"),
	      "accept\naccept\naccept\naccept\naccept\naccept\naccept" } } },

	{ "a rejected dispense is never OVER_QUANTITY and never counts",
	  { { CATALOG, CAT, NULL },
	    { ROWS,
	      RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
	      RCV(T(01), "H1", A(04)) RCV(T(01), "H1", A(05)) RCV(T(01), "H1", A(06))
	      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
	      DSP(T(02), "H1", A(02), "", "ST2", "PT1")
	      /* over the limit, but REUSED: reject, no OVER_QUANTITY */
	      DSP(T(02), "H1", A(01), "", "ST3", "PT1")
	      R(T(02), "H1", "dispense", A(03), "DRUGB", "1", "ST4", "PT1")
	      /* more than the pack holds: rejected, and it does not count */
	      DSP(T(02), "H1", A(03), "30", "ST5", "PT2")
	      DSP(T(02), "H1", A(03), "24", "ST6", "PT2"),
	      "accept\naccept\naccept\naccept\naccept\naccept\n"
	      "accept\naccept\nreject REUSED\nreject SUBSTITUTED\nreject SPLIT_OVERDRAWN\naccept" },
	    /* a claim rejected as a whole changes nothing: its code that had
	     * no finding of its own does not count for PT3 either */
	    { CLAIM, DSP(T(03), "H1", A(04), "", "ST7", "PT3") DSP(T(03), "H1", A(01), "", "ST7", "PT3"),
	      "reject\nreject REUSED" },
	    { ROWS, DSP(T(03), "H1", A(05), "", "ST8", "PT3") DSP(T(03), "H1", A(06), "", "ST9", "PT3"),
	      "accept\naccept" } } },
};

#define NCASES (sizeof cases / sizeof cases[0])

static void load_catalog(ledger_t *lg, const char *dir, const char *text)
{
	catalog_stats_t st;
	char why[256];
	char *path = tu_write_file(dir, "catalog.csv", text, strlen(text));
	cr_assert_eq(catalog_load_file(lg, path, NULL, NULL, &st, why, sizeof why), 0, "%s", why);
	cr_assert_eq(st.bad, 0);
	free(path);
}

static void describe(buf_t *b, const verify_result_t *r)
{
	buf_puts(b, verdict_name(r->verdict));
	FINDING_EACH(f)
		if (r->findings & FINDING_BIT(f))
			buf_printf(b, " %s", finding_name((enum finding)f));
	buf_putc(b, '\n');
}

/* The step's text as CSV rows (header added); their inputs. */
typedef struct rows {
	buf_t text;
	FILE *fp;
	csv_reader_t *csv;
	size_t n;
	verify_input_t in[16];
} rows_t;

static void rows_read(rows_t *r, const char *text)
{
	csv_row_t row;
	char msg[256];

	memset(r, 0, sizeof *r);
	buf_init(&r->text);
	buf_puts(&r->text, "time,facility,type,code,drug,qty,settlement,patient,counterparty\n");
	buf_puts(&r->text, text);
	cr_assert_not_null(r->fp = fmemopen(r->text.p, r->text.len, "r"));
	cr_assert_eq(csv_reader_new(r->fp, 0, &r->csv), 0);
	cr_assert_eq(csv_reader_next(r->csv, &row, msg, sizeof msg), 1);
}

static void run_rows(ledger_t *lg, const char *text, buf_t *got)
{
	rows_t r;
	csv_row_t row;
	char msg[256];

	rows_read(&r, text);
	while (csv_reader_next(r.csv, &row, msg, sizeof msg) == 1) {
		verify_input_t in;
		verify_result_t res;
		ledger_txn_t *txn;
		verify_input_from_row(&row, &in);
		cr_assert_eq(in.status, 0, "%s", in.reason);
		cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
		cr_assert_eq(verify_apply(txn, &in, &res), 0);
		cr_assert_eq(ledger_txn_commit(txn), 0);
		describe(got, &res);
	}
	csv_reader_free(r.csv);
	fclose(r.fp);
	buf_deinit(&r.text);
}

/* A claim: every row a dispense of the first row's time, facility,
 * settlement and patient (yimad's POST /v1/settle). */
static void run_claim(ledger_t *lg, const char *text, bool dry, buf_t *got)
{
	static yima_slice_t f[16][EVENT_NCOLUMNS];
	static char store[16][EVENT_NCOLUMNS][64];	/* a row's fields last only
							 * until the next row */
	verify_input_t in[16];
	event_claim_t c;
	outcome_t o;
	ledger_txn_t *txn;
	rows_t r;
	csv_row_t row;
	char msg[256];
	size_t n = 0;

	rows_read(&r, text);
	while (csv_reader_next(r.csv, &row, msg, sizeof msg) == 1 && n < 16) {
		for (int k = 0; k < EVENT_NCOLUMNS; k++) {
			cr_assert_lt(row.field[k].n, sizeof store[n][k]);
			memcpy(store[n][k], row.field[k].p, row.field[k].n);
			f[n][k] = yima_slice(store[n][k], row.field[k].n);
		}
		n++;
	}
	event_claim_init(&c, f[0][0], f[0][1], f[0][6], f[0][7]);
	for (size_t i = 0; i < n; i++) {
		uint64_t units = 0;
		if (f[i][5].n > 0)
			cr_assert_eq(event_units_parse(f[i][5], &units), 0);
		verify_input_from_claim(&c, f[i][3], f[i][4], units, &in[i]);
		cr_assert_eq(in[i].status, 0, "%s", in[i].reason);
	}
	cr_assert_eq(outcome_init(&o, n), 0);
	cr_assert_eq(ledger_txn_begin(lg, !dry, &txn), 0);
	cr_assert_eq(claim_settle(txn, f[0][1], f[0][6], in, n, dry, &o), 0);
	cr_assert_eq(o.status, OUTCOME_RECORDED);
	for (size_t i = 0; i < n; i++)
		describe(got, &o.codes[i].r);
	if (dry)
		ledger_txn_abort(txn);
	else
		cr_assert_eq(ledger_txn_commit(txn), 0);
	outcome_deinit(&o);
	csv_reader_free(r.csv);
	fclose(r.fp);
	buf_deinit(&r.text);
}

ParameterizedTestParameters(quantity, edge)
{
	static size_t idx[NCASES];
	for (size_t i = 0; i < NCASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NCASES);
}

ParameterizedTest(size_t *i, quantity, edge)
{
	const qcase_t *qc = &cases[*i];
	char *dir = tu_mkdtemp(), *db = NULL, why[256];
	ledger_t *lg;
	buf_t got;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	for (size_t s = 0; s < 6 && qc->steps[s].text != NULL; s++) {
		const step_t *st = &qc->steps[s];
		buf_init(&got);
		if (st->kind == CATALOG)
			load_catalog(lg, dir, st->text);
		else if (st->kind == ROWS)
			run_rows(lg, st->text, &got);
		else
			run_claim(lg, st->text, st->kind == DRY_CLAIM, &got);
		buf_putc(&got, '\0');
		if (st->expect != NULL) {
			size_t el = strlen(st->expect);
			cr_expect(got.len == el + 2 && memcmp(got.p, st->expect, el) == 0,
				  "%s, step %zu:\nexpected:\n%s\ngot:\n%s", qc->name, s + 1, st->expect,
				  (char *)got.p);
		}
		buf_deinit(&got);
	}
	ledger_close(lg);
	scenario_assert_audit_ok(db);
	tu_rmtree(dir);
	free(dir);
	free(db);
}

/* As a yima from before patient chains left a ledger: every record in
 * layout 1 (ledger_event_append() writes a chain link in layout 1 only for
 * the audit's replay of such a record: in.record_layout = 1), no chain
 * tables, meta layout 1. */
static void older_writer(const char *db, const char *top, const char *rows)
{
	char why[512], msg[256];
	ledger_t *lg;
	rows_t r;
	csv_row_t row;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;

	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	load_catalog(lg, top, CAT_OLD);
	rows_read(&r, rows);
	while (csv_reader_next(r.csv, &row, msg, sizeof msg) == 1) {
		verify_input_t in;
		verify_result_t res;
		ledger_txn_t *txn;
		verify_input_from_row(&row, &in);
		in.record_layout = 1;
		cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
		cr_assert_eq(verify_apply(txn, &in, &res), 0);
		cr_assert_eq(ledger_txn_commit(txn), 0);
	}
	csv_reader_free(r.csv);
	fclose(r.fp);
	buf_deinit(&r.text);
	ledger_close(lg);
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, (size_t)1 << 34);
	cr_assert_eq(mdb_env_open(env, db, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &t), 0);
	cr_assert_eq(mdb_dbi_open(t, "patients", 0, &dbi), 0);
	cr_assert_eq(mdb_drop(t, dbi, 1), 0);
	cr_assert_eq(mdb_dbi_open(t, "patient_links", 0, &dbi), 0);
	cr_assert_eq(mdb_drop(t, dbi, 1), 0);
	cr_assert_eq(mdb_dbi_open(t, "meta", 0, &dbi), 0);
	MDB_val k = { 6, "layout" }, v = { 1, "\x01" };
	cr_assert_eq(mdb_put(t, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(t), 0);
	mdb_env_close(env);
}

/* A ledger written before patient chains audits clean read-only as it is;
 * on its first write its records join their patients' chains, so its
 * dispenses count for later ones (24 + 24 + 1 > 48, across the upgrade),
 * and the audit replays it all. */
Test(quantity, ledger_written_before_patient_chains)
{
	char *top = tu_mkdtemp(), *db, why[512];
	ledger_t *lg;
	buf_t got;

	cr_assert(asprintf(&db, "%s/db", top) > 0);
	older_writer(db, top, RCV(T(01), "H1", A(01)) RCV(T(01), "H1", A(02)) RCV(T(01), "H1", A(03))
			      DSP(T(02), "H1", A(01), "", "ST1", "PT1")
			      DSP(T(02), "H1", A(02), "", "ST2", "PT2")
			      REF(T(03), "H1", A(02), "", "ST2", "PT2")
			      DSP(T(03), "H1", A(02), "", "ST3", "PT1"));
	scenario_assert_audit_ok(db);
	cr_assert_eq(ledger_open(db, LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	load_catalog(lg, top, CAT);
	buf_init(&got);
	run_rows(lg, DSP(T(04), "H1", A(03), "1", "ST4", "PT2") DSP(T(04), "H1", A(03), "1", "ST5", "PT1"),
		 &got);
	buf_putc(&got, '\0');
	cr_expect_str_eq((char *)got.p, "accept\nwarn OVER_QUANTITY\n");
	buf_deinit(&got);
	ledger_close(lg);
	scenario_assert_audit_ok(db);
	free(db);
	tu_rmtree(top);
	free(top);
}
