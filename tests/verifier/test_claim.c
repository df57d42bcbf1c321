/*
 * test_claim.c - yimad's two writes in process (verifier/claim.c):
 * settlement claims of many codes recorded through claim_settle() and
 * then audited, retries and conflicts, event batches and their retries
 * (same content: the first receipt; other content: a conflict), and a
 * ledger written before batches carried a content digest.
 * The same library path as yimad's writer thread, without HTTP.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "testutil.h"
#include "yima/verifier/audit.h"
#include "yima/verifier/catalog.h"
#include "yima/verifier/claim.h"
#include "yima/util/error.h"
#include "yima/verifier/verify.h"

#define T0 "2026-03-01T10:00:00+08:00"

/* A claim's inputs and the memory their slices point into. */
typedef struct claim_rows {
	size_t n;
	verify_input_t *in;
	yima_slice_t (*f)[EVENT_NCOLUMNS];
	char (*code)[24];
} claim_rows_t;

/* n dispense rows of product 8100001 (24 units, DRUGA), codes first ..
 * first+n-1, each of `units` units ("" = the whole pack). */
static void rows_make(claim_rows_t *c, size_t n, unsigned first, const char *stl,
		      const char *units)
{
	c->n = n;
	c->in = calloc(n, sizeof *c->in);
	c->f = calloc(n, sizeof *c->f);
	c->code = calloc(n, sizeof *c->code);
	cr_assert(c->in && c->f && c->code);
	for (size_t i = 0; i < n; i++) {
		csv_row_t row;
		snprintf(c->code[i], sizeof c->code[i], "8100001%013u", first + (unsigned)i);
		const char *v[EVENT_NCOLUMNS] = { T0, "H1", "dispense", c->code[i], "DRUGA", units,
						  stl, "PT1", "" };
		for (int k = 0; k < EVENT_NCOLUMNS; k++)
			c->f[i][k] = yima_slice_cstr(v[k]);
		memset(&row, 0, sizeof row);
		row.number = row.line = i + 2;
		row.nfields = EVENT_NCOLUMNS;
		row.field = c->f[i];
		row.limit = CSV_ROW_MAX_DEFAULT;
		verify_input_from_row(&row, &c->in[i]);
		cr_assert_eq(c->in[i].status, 0, "row %zu: %s", i, c->in[i].reason);
	}
}

static void rows_free(claim_rows_t *c)
{
	free(c->in);
	free(c->f);
	free(c->code);
}

/* Settle c in one write transaction of the ledger at db. */
static enum outcome_status settle(const char *db, const claim_rows_t *c, const char *stl,
				outcome_t *out)
{
	ledger_t *lg;
	ledger_txn_t *txn;
	char why[512];

	memset(out, 0, sizeof *out);
	out->n = c->n;
	out->codes = calloc(c->n, sizeof *out->codes);
	cr_assert_not_null(out->codes);
	cr_assert_eq(ledger_open(db, LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	cr_assert_eq(claim_settle(txn, yima_slice_cstr("H1"), yima_slice_cstr(stl), c->in, c->n,
				  false, out), 0);
	cr_assert_eq(ledger_txn_commit(txn), 0);
	ledger_close(lg);
	free(out->codes);
	out->codes = NULL;
	return out->status;
}

/* An accepted claim of n codes, then the audit (the regulator's tamper
 * check) must pass: issue 9 item 1, where 17 codes or more broke it. */
static void claim_of(size_t n)
{
	char *top, *db = scenario_world(&top), stl[32];
	claim_rows_t c;
	outcome_t o;

	snprintf(stl, sizeof stl, "ST%zu", n);
	rows_make(&c, n, 1, stl, "");
	cr_assert_eq(settle(db, &c, stl, &o), OUTCOME_RECORDED);
	cr_assert_eq(o.verdict, VERDICT_WARN, "NOT_RECEIVED only: the claim stands");
	cr_assert_eq(o.last_seq - o.first_seq + 1, n);
	scenario_assert_audit_ok(db);
	/* the same claim again: the first verdict, nothing recorded */
	cr_assert_eq(settle(db, &c, stl, &o), OUTCOME_REPLAYED);
	cr_assert_eq(o.last_seq - o.first_seq + 1, n);
	scenario_assert_audit_ok(db);
	rows_free(&c);
	free(db);
	tu_rmtree(top);
	free(top);
}

Test(claim, audit_17_codes) { claim_of(17); }
Test(claim, audit_100_codes) { claim_of(100); }
Test(claim, audit_1000_codes) { claim_of(1000); }

/* A rejected claim of many codes is one void attempt; it audits too. */
Test(claim, rejected_claim_of_40_codes_audits)
{
	char *top, *db = scenario_world(&top);
	claim_rows_t c;
	outcome_t o;

	rows_make(&c, 40, 1, "STR", "30");	/* 30 units of a 24-unit pack: SPLIT_OVERDRAWN */
	cr_assert_eq(settle(db, &c, "STR", &o), OUTCOME_RECORDED);
	cr_assert_eq(o.verdict, VERDICT_REJECT);
	scenario_assert_audit_ok(db);
	rows_free(&c);
	free(db);
	tu_rmtree(top);
	free(top);
}

Test(claim, other_content_under_an_accepted_settlement_is_a_conflict)
{
	char *top, *db = scenario_world(&top);
	claim_rows_t a, b;
	outcome_t o;

	rows_make(&a, 20, 1, "STC", "");
	rows_make(&b, 20, 1, "STC", "2");
	cr_assert_eq(settle(db, &a, "STC", &o), OUTCOME_RECORDED);
	cr_assert_eq(settle(db, &b, "STC", &o), OUTCOME_CONFLICT);
	scenario_assert_audit_ok(db);
	rows_free(&a);
	rows_free(&b);
	free(db);
	tu_rmtree(top);
	free(top);
}
