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
#include "yima/audit.h"
#include "yima/catalog.h"
#include "yima/claim.h"
#include "yima/error.h"
#include "yima/verify.h"
#include "yima/wire.h"

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

static char *world(char **top)
{
	char *dir = tu_mkdtemp(), why[512], *db, *cat;
	ledger_t *lg;
	catalog_stats_t st;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cat = tu_write_file(dir, "catalog.csv", SC_CATALOG, strlen(SC_CATALOG));
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, cat, NULL, NULL, &st, why, sizeof why), 0, "%s", why);
	ledger_close(lg);
	free(cat);
	*top = dir;
	return db;
}

/* Settle c in one write transaction of the ledger at db. */
static enum claim_status settle(const char *db, const claim_rows_t *c, const char *stl,
				claim_outcome_t *out)
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
	char *top, *db = world(&top), stl[32];
	claim_rows_t c;
	claim_outcome_t o;

	snprintf(stl, sizeof stl, "ST%zu", n);
	rows_make(&c, n, 1, stl, "");
	cr_assert_eq(settle(db, &c, stl, &o), CLAIM_RECORDED);
	cr_assert_eq(o.verdict, VERDICT_WARN, "NOT_RECEIVED only: the claim stands");
	cr_assert_eq(o.last_seq - o.first_seq + 1, n);
	scenario_assert_audit_ok(db);
	/* the same claim again: the first verdict, nothing recorded */
	cr_assert_eq(settle(db, &c, stl, &o), CLAIM_REPLAYED);
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
	char *top, *db = world(&top);
	claim_rows_t c;
	claim_outcome_t o;

	rows_make(&c, 40, 1, "STR", "30");	/* 30 units of a 24-unit pack: SPLIT_OVERDRAWN */
	cr_assert_eq(settle(db, &c, "STR", &o), CLAIM_RECORDED);
	cr_assert_eq(o.verdict, VERDICT_REJECT);
	scenario_assert_audit_ok(db);
	rows_free(&c);
	free(db);
	tu_rmtree(top);
	free(top);
}

Test(claim, other_content_under_an_accepted_settlement_is_a_conflict)
{
	char *top, *db = world(&top);
	claim_rows_t a, b;
	claim_outcome_t o;

	rows_make(&a, 20, 1, "STC", "");
	rows_make(&b, 20, 1, "STC", "2");
	cr_assert_eq(settle(db, &a, "STC", &o), CLAIM_RECORDED);
	cr_assert_eq(settle(db, &b, "STC", &o), CLAIM_CONFLICT);
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
	char *top, *db = world(&top), why[512], hex[2 * LEDGER_HASH_LEN + 1];
	claim_rows_t c;
	claim_outcome_t o;
	claim_entry_t ce;
	ledger_t *lg;
	ledger_txn_t *txn;

	rows_make_for(&c, 2, 1, "KAT", "", "");
	cr_assert_eq(settle(db, &c, "KAT", &o), CLAIM_RECORDED);
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
	char *top, *db = world(&top), stl[301];
	claim_rows_t c;
	claim_outcome_t o;

	memset(stl, 'S', 300);
	stl[300] = '\0';
	rows_make_for(&c, 3, 1, stl, "", "PT1");
	cr_assert_eq(c.in[0].status, YIMA_EBADRECORD);
	cr_assert_eq(settle(db, &c, stl, &o), CLAIM_RECORDED);
	cr_assert_eq(o.verdict, VERDICT_REJECT);
	cr_assert_eq(settle(db, &c, stl, &o), CLAIM_RECORDED, "a rejected claim is no retry");
	scenario_assert_audit_ok(db);
	rows_free(&c);
	free(db);
	tu_rmtree(top);
	free(top);
}

/* ---- event batches ------------------------------------------------------------ */

/* A batch of n receive rows as the client sends it. */
typedef struct batch_msg {
	Yima__V1__EventBatch b;
	Yima__V1__Event ev[8], *evp[8];
	char code[8][24];
} batch_msg_t;

static void batch_make(batch_msg_t *m, const char *id, size_t n, const char *patient)
{
	yima__v1__event_batch__init(&m->b);
	m->b.batch_id = (char *)id;
	m->b.n_events = n;
	m->b.events = m->evp;
	for (size_t i = 0; i < n; i++) {
		snprintf(m->code[i], sizeof m->code[i], "8100001%013zu", 500 + i);
		yima__v1__event__init(&m->ev[i]);
		m->ev[i].time = T0;
		m->ev[i].facility = "H1";
		m->ev[i].type = "receive";
		m->ev[i].code = m->code[i];
		m->ev[i].drug = "";
		m->ev[i].qty = "";
		m->ev[i].settlement = "";
		m->ev[i].patient = (char *)patient;
		m->ev[i].counterparty = "S1";
		m->evp[i] = &m->ev[i];
	}
}

/* Run the batch through the writer's path in one transaction; the
 * first_seq .. last_seq of the answer in *first, *last. */
static enum claim_status send_batch(const char *db, const batch_msg_t *m, uint64_t *first,
				    uint64_t *last)
{
	ledger_t *lg;
	ledger_txn_t *txn;
	wire_arena_t a = { NULL };
	wire_inputs_t in;
	claim_outcome_t o;
	uint8_t content[LEDGER_HASH_LEN];
	char why[512];

	cr_assert_eq(ledger_open(db, LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	cr_assert_eq(wire_batch_content(txn, &m->b, content), 0);
	cr_assert_eq(wire_batch_inputs(&m->b, &a, &in), 0);
	memset(&o, 0, sizeof o);
	o.n = in.n;
	o.codes = calloc(in.n, sizeof *o.codes);
	cr_assert_eq(claim_batch(txn, yima_slice_cstr("H1"), yima_slice_cstr(m->b.batch_id), content,
				 in.in, in.n, &o), 0);
	*first = o.first_seq;
	*last = o.last_seq;
	cr_assert_eq(ledger_txn_commit(txn), 0);
	ledger_close(lg);
	free(o.codes);
	wire_arena_free(&a);
	return o.status;
}

/* Issue 9 item 6: a reused batch id with other content was answered 200
 * and its content silently dropped; now it is a conflict. */
Test(claim, batch_retry_same_content_replays_other_content_conflicts)
{
	char *top, *db = world(&top);
	batch_msg_t m;
	uint64_t f, l;

	batch_make(&m, "b-1", 3, "PT1");
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_RECORDED);
	cr_assert_eq(f, 1);
	cr_assert_eq(l, 3);
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_REPLAYED, "the same content is a retry");
	cr_assert_eq(f, 1);
	cr_assert_eq(l, 3);
	batch_make(&m, "b-1", 2, "PT1");
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_CONFLICT, "fewer events");
	batch_make(&m, "b-1", 3, "PT2");
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_CONFLICT, "another patient");
	batch_make(&m, "b-1", 3, "PT1");
	m.ev[1].code = m.code[2];
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_CONFLICT, "another code");
	batch_make(&m, "b-1", 3, "PT1");
	m.ev[0].raw.data = (uint8_t *)"a,b";
	m.ev[0].raw.len = 3;
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_CONFLICT, "a raw row instead of fields");
	batch_make(&m, "b-2", 3, "PT1");
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_RECORDED, "another id is another batch");
	cr_assert_eq(f, 4);
	scenario_assert_audit_ok(db);
	free(db);
	tu_rmtree(top);
	free(top);
}

/* The digest is over the fields as sent, length-prefixed: text moved from
 * one field to the next is other content. */
Test(claim, batch_digest_fields_do_not_run_together)
{
	char *top, *db = world(&top), why[512];
	batch_msg_t a, b;
	uint8_t da[LEDGER_HASH_LEN], db2[LEDGER_HASH_LEN], da2[LEDGER_HASH_LEN];
	ledger_t *lg;
	ledger_txn_t *txn;

	batch_make(&a, "x", 1, "PT1");
	batch_make(&b, "x", 1, "PT1");
	a.ev[0].drug = "AB";
	a.ev[0].qty = "";
	b.ev[0].drug = "A";
	b.ev[0].qty = "B";
	cr_assert_eq(ledger_open(db, LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(wire_batch_content(txn, &a.b, da), 0);
	cr_assert_eq(wire_batch_content(txn, &a.b, da2), 0);
	cr_assert_eq(wire_batch_content(txn, &b.b, db2), 0);
	cr_assert(memcmp(da, da2, sizeof da) == 0, "the same content, the same digest");
	cr_assert(memcmp(da, db2, sizeof da) != 0);
	ledger_txn_abort(txn);
	ledger_close(lg);
	free(db);
	tu_rmtree(top);
	free(top);
}

/* A ledger written before batches had a digest (tests/fixtures/
 * ledger-v1-batches): it opens, audits clean with its old head, and a
 * retry of its batches gets the first receipt (nothing to compare with). */
Test(claim, ledger_with_batches_without_digest)
{
	static const char head[] = "79804adc7c38d18fd307266e993d5fd47417dc7d4ec55cde10bdc02a68d86cb2";
	char *top = tu_mkdtemp(), *db, *cmd, why[512], hex[2 * LEDGER_HASH_LEN + 1];
	char *scratch = tu_mkdtemp();
	batch_msg_t m;
	uint64_t f, l;
	ledger_t *lg;
	audit_result_t res;

	cr_assert(asprintf(&db, "%s/db", top) > 0);
	cr_assert(asprintf(&cmd, "mkdir -p %s && gzip -dc %s/tests/fixtures/ledger-v1-batches/data.mdb.gz > %s/data.mdb",
			   db, YIMA_SOURCE_DIR, db) > 0);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(audit_ledger(lg, scratch, &res, why, sizeof why), 0, "audit: %s", why);
	ledger_close(lg);
	for (int i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", res.head[i]);
	cr_assert_str_eq(hex, head);
	cr_assert_eq(res.records, 5);

	batch_make(&m, "fd73b63bf6fcf6dd-3-4", 1, "");
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_REPLAYED, "no digest: any retry is a retry");
	cr_assert_eq(f, 3);
	cr_assert_eq(l, 4);
	batch_make(&m, "new-1", 2, "");
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_RECORDED);
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_REPLAYED);
	m.ev[1].counterparty = "S2";
	cr_assert_eq(send_batch(db, &m, &f, &l), CLAIM_CONFLICT, "a new batch has its digest");
	scenario_assert_audit_ok(db);
	free(cmd);
	free(db);
	tu_rmtree(scratch);
	free(scratch);
	tu_rmtree(top);
	free(top);
}
