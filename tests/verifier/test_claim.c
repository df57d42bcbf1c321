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
	char **raw;		/* each row as CSV text (a BAD_RECORD's evidence) */
} claim_rows_t;

/* n dispense rows of product 8100001 (24 units, DRUGA), codes first ..
 * first+n-1, each of `units` units ("" = the whole pack), for `patient`;
 * rows that break section 3 are BAD_RECORD inputs. */
static void rows_make_for(claim_rows_t *c, size_t n, unsigned first, const char *stl,
			  const char *units, const char *patient)
{
	c->n = n;
	c->in = calloc(n, sizeof *c->in);
	c->f = calloc(n, sizeof *c->f);
	c->code = calloc(n, sizeof *c->code);
	c->raw = calloc(n, sizeof *c->raw);
	cr_assert(c->in && c->f && c->code && c->raw);
	for (size_t i = 0; i < n; i++) {
		csv_row_t row;
		snprintf(c->code[i], sizeof c->code[i], "8100001%013u", first + (unsigned)i);
		const char *v[EVENT_NCOLUMNS] = { T0, "H1", "dispense", c->code[i], "DRUGA", units,
						  stl, patient, "" };
		for (int k = 0; k < EVENT_NCOLUMNS; k++)
			c->f[i][k] = yima_slice_cstr(v[k]);
		memset(&row, 0, sizeof row);
		row.number = row.line = i + 2;
		row.nfields = EVENT_NCOLUMNS;
		row.field = c->f[i];
		row.limit = CSV_ROW_MAX_DEFAULT;
		cr_assert(asprintf(&c->raw[i], "%s,H1,dispense,%s,DRUGA,%s,%s,%s,", T0, c->code[i], units,
				   stl, patient) > 0);
		row.raw = yima_slice_cstr(c->raw[i]);
		verify_input_from_row(&row, &c->in[i]);
	}
}

/* The same for patient PT1, every row a good one. */
static void rows_make(claim_rows_t *c, size_t n, unsigned first, const char *stl,
		      const char *units)
{
	rows_make_for(c, n, first, stl, units, "PT1");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(c->in[i].status, 0, "row %zu: %s", i, c->in[i].reason);
}

static void rows_free(claim_rows_t *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->raw[i]);
	free(c->raw);
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

/* The content hash kept in the claims table must not depend on the host's
 * byte order (issue 14 item 4): a known answer, computed independently
 * (Python: struct '<Q' integers, '>Q' length prefixes) for two codes
 * without a patient.  Every ledger written on x86 holds this form. */
Test(claim, content_hash_is_the_same_on_every_host)
{
	static const char want[] = "402ac3b589f1ed90338650652ebe719daed6f89bd72f0f33072613d18dda4728";
	char *top, *db = scenario_world(&top), why[512], hex[2 * LEDGER_HASH_LEN + 1];
	claim_rows_t c;
	outcome_t o;
	claim_entry_t ce;
	ledger_t *lg;
	ledger_txn_t *txn;

	rows_make_for(&c, 2, 1, "KAT", "", "");
	cr_assert_eq(settle(db, &c, "KAT", &o), OUTCOME_RECORDED);
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(ledger_claim_get(txn, yima_slice_cstr("H1"), yima_slice_cstr("KAT"), &ce), 0);
	for (int i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", ce.content[i]);
	cr_expect_str_eq(hex, want);
	ledger_txn_abort(txn);
	ledger_close(lg);
	rows_free(&c);
	free(db);
	tu_rmtree(top);
	free(top);
}

/* A settlement id too long to be a key is a BAD_RECORD claim, recorded as
 * a rejected attempt; looking it up is "not found", never an error taken
 * to mean it (issue 14 item 4: no EINVAL read as not found). */
Test(claim, settlement_too_long_to_be_a_key)
{
	char *top, *db = scenario_world(&top), stl[301];
	claim_rows_t c;
	outcome_t o;

	memset(stl, 'S', 300);
	stl[300] = '\0';
	rows_make_for(&c, 3, 1, stl, "", "PT1");
	cr_assert_eq(c.in[0].status, YIMA_EBADRECORD);
	cr_assert_eq(settle(db, &c, stl, &o), OUTCOME_RECORDED);
	cr_assert_eq(o.verdict, VERDICT_REJECT);
	cr_assert_eq(settle(db, &c, stl, &o), OUTCOME_RECORDED, "a rejected claim is no retry");
	scenario_assert_audit_ok(db);
	rows_free(&c);
	free(db);
	tu_rmtree(top);
	free(top);
}
