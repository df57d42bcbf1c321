/*
 * test_batch.c - event batches (POST /v1/events) in process, through the
 * path yimad's writer takes (server/request.c's content digest, the
 * mapping, verifier/batch.c): retries of the same content replay the
 * first receipt, other content under a used batch id is a conflict, and
 * ledgers written before batches kept their content still work.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "scenario.h"
#include "testutil.h"
#include "yima/util/error.h"
#include "yima/verifier/audit.h"
#include "yima/verifier/batch.h"

#define T0 "2026-03-01T10:00:00+08:00"

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
static enum outcome_status send_batch(const char *db, const batch_msg_t *m, uint64_t *first,
				      uint64_t *last)
{
	ledger_t *lg;
	ledger_txn_t *txn;
	wire_arena_t a = { NULL };
	verify_input_t *in;
	outcome_t o;
	uint8_t content[LEDGER_HASH_LEN];
	char why[512];

	cr_assert_eq(ledger_open(db, LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	cr_assert_eq(request_batch_content(txn, &m->b, content), 0);
	cr_assert_eq(wire_decode_batch(&m->b, &a, &in), 0);
	cr_assert_eq(outcome_init(&o, m->b.n_events), 0);
	cr_assert_eq(batch_apply(txn, yima_slice_cstr("H1"), yima_slice_cstr(m->b.batch_id), content,
				 in, m->b.n_events, &o), 0);
	*first = o.first_seq;
	*last = o.last_seq;
	cr_assert_eq(ledger_txn_commit(txn), 0);
	ledger_close(lg);
	enum outcome_status st = o.status;
	outcome_deinit(&o);
	wire_arena_free(&a);
	return st;
}

/* Issue 9 item 6: a reused batch id with other content was answered 200
 * and its content silently dropped; now it is a conflict. */
Test(batch, batch_retry_same_content_replays_other_content_conflicts)
{
	char *top, *db = scenario_world(&top);
	batch_msg_t m;
	uint64_t f, l;

	batch_make(&m, "b-1", 3, "PT1");
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_RECORDED);
	cr_assert_eq(f, 1);
	cr_assert_eq(l, 3);
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_REPLAYED, "the same content is a retry");
	cr_assert_eq(f, 1);
	cr_assert_eq(l, 3);
	batch_make(&m, "b-1", 2, "PT1");
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_CONFLICT, "fewer events");
	batch_make(&m, "b-1", 3, "PT2");
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_CONFLICT, "another patient");
	batch_make(&m, "b-1", 3, "PT1");
	m.ev[1].code = m.code[2];
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_CONFLICT, "another code");
	batch_make(&m, "b-1", 3, "PT1");
	m.ev[0].raw.data = (uint8_t *)"a,b";
	m.ev[0].raw.len = 3;
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_CONFLICT, "a raw row instead of fields");
	batch_make(&m, "b-2", 3, "PT1");
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_RECORDED, "another id is another batch");
	cr_assert_eq(f, 4);
	scenario_assert_audit_ok(db);
	free(db);
	tu_rmtree(top);
	free(top);
}

/* The digest is over the fields as sent, length-prefixed: text moved from
 * one field to the next is other content. */
Test(batch, batch_digest_fields_do_not_run_together)
{
	char *top, *db = scenario_world(&top), why[512];
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
	cr_assert_eq(request_batch_content(txn, &a.b, da), 0);
	cr_assert_eq(request_batch_content(txn, &a.b, da2), 0);
	cr_assert_eq(request_batch_content(txn, &b.b, db2), 0);
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
Test(batch, ledger_with_batches_without_digest)
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
	cr_assert_eq(audit_ledger(lg, scratch, NULL, NULL, &res, why, sizeof why), 0, "audit: %s", why);
	ledger_close(lg);
	for (int i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", res.head[i]);
	cr_assert_str_eq(hex, head);
	cr_assert_eq(res.records, 5);

	batch_make(&m, "fd73b63bf6fcf6dd-3-4", 1, "");
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_REPLAYED, "no digest: any retry is a retry");
	cr_assert_eq(f, 3);
	cr_assert_eq(l, 4);
	batch_make(&m, "new-1", 2, "");
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_RECORDED);
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_REPLAYED);
	m.ev[1].counterparty = "S2";
	cr_assert_eq(send_batch(db, &m, &f, &l), OUTCOME_CONFLICT, "a new batch has its digest");
	scenario_assert_audit_ok(db);
	free(cmd);
	free(db);
	tu_rmtree(scratch);
	free(scratch);
	tu_rmtree(top);
	free(top);
}
