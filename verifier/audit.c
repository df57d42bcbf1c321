/*
 * audit.c - chain check, replay and table comparison (see yima/audit.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "yima/verifier/audit.h"
#include "yima/verifier/claim.h"
#include "yima/util/error.h"
#include "yima/verifier/verify.h"

/* Replay commits every so many events: bounded dirty memory. */
#define REPLAY_BATCH 100000

/* The records of one yimad claim, replayed together at its last one. */
struct claim_group {
	size_t n, cap;
	bool void_claim;	/* its records are void (the first one says) */
	verify_input_t *in;
	uint64_t *seq;
	uint8_t (*hash)[LEDGER_HASH_LEN];
};

struct replay {
	ledger_t *scratch;
	struct claim_group claim;
	ledger_txn_t *txn;	/* open write txn on scratch */
	uint64_t in_batch;
	char *why;
	size_t whylen;
	yima_progress_fn *progress;
	void *progress_arg;
	uint64_t total;		/* events in the ledger */
};

static int replay_cycle(struct replay *r)
{
	int rc;
	if (++r->in_batch < REPLAY_BATCH)
		return 0;
	r->in_batch = 0;
	rc = ledger_txn_commit(r->txn);
	r->txn = NULL;
	if (rc == 0)
		rc = ledger_txn_begin(r->scratch, true, &r->txn);
	return rc < 0 ? yima_fail(r->why, r->whylen, rc, "replay ledger: %s", yima_strerror(rc)) : 0;
}

static void input_from_record(const ledger_event_t *e, verify_input_t *in)
{
	memset(in, 0, sizeof *in);
	size_t rn = e->reason.n < sizeof in->reason - 1 ? e->reason.n : sizeof in->reason - 1;
	memcpy(in->reason, e->reason.p, rn);
	if (e->status == REC_BAD) {
		in->status = YIMA_EBADRECORD;
		in->raw = e->raw;
		in->raw_masked = true;
		in->code_field = e->code;
		return;
	}
	in->ev.time = e->time;
	in->ev.type = e->type;
	in->ev.facility = e->facility;
	in->ev.code = e->code;
	in->ev.drug = e->drug;
	in->ev.has_qty = e->has_qty;
	in->ev.qty = e->qty;
	in->ev.settlement = e->settlement;
	in->ev.counterparty = e->counterparty;
	in->has_patient_mac = e->has_patient;
	memcpy(in->patient_mac, e->patient_mac, LEDGER_MAC_LEN);
	in->record_layout = e->layout;
	in->status = e->status == REC_MALFORMED ? YIMA_EMALFORMED : 0;
}

/* Rebuild the code of an applied event: identity from the canonical
 * form, expiry and batch (not part of it) from the record. */
static int code_from_record(const ledger_event_t *e, code_t *c)
{
	char why[VERIFY_REASON_MAX];
	if (code_normalize(e->code.p, e->code.n, c, why, sizeof why) < 0 ||
	    e->batch.n > CODE_BATCH_MAX)
		return YIMA_ECORRUPT;
	c->has_expiry = e->has_expiry;
	c->exp_year = e->exp_year;
	c->exp_month = e->exp_month;
	c->exp_day = e->exp_day;
	memcpy(c->batch, e->batch.p, e->batch.n);
	c->batch[e->batch.n] = '\0';
	c->batch_len = e->batch.n;
	return 0;
}

static void describe(char *out, size_t n, enum verdict v, finding_set_t f)
{
	size_t o = (size_t)snprintf(out, n, "%s", verdict_name(v));
	FINDING_EACH(i) if (o < n)
		if (f & FINDING_BIT(i))
			o += (size_t)snprintf(out + o, n - o, " %s", finding_name((enum finding)i));
}

static int report_diff(struct replay *r, const ledger_event_t *stored)
{
	ledger_event_t again;
	char a[256], b[256];

	if (ledger_event_get(r->txn, stored->seq, &again) < 0)
		return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
				 "event %" PRIu64 ": replay does not reproduce it", stored->seq);
	describe(a, sizeof a, stored->verdict, stored->findings);
	describe(b, sizeof b, again.verdict, again.findings);
	if (strcmp(a, b) != 0)
		return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
				 "event %" PRIu64 ": stored verdict \"%s\", replaying the log gives \"%s\"",
				 stored->seq, a, b);
	if (stored->prev_code_seq != again.prev_code_seq)
		return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
				 "event %" PRIu64 ": history link points to %" PRIu64 ", replay gives %" PRIu64,
				 stored->seq, stored->prev_code_seq, again.prev_code_seq);
	if (stored->prev_patient_seq != again.prev_patient_seq)
		return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
				 "event %" PRIu64 ": patient chain link points to %" PRIu64 ", replay gives %" PRIu64,
				 stored->seq, stored->prev_patient_seq, again.prev_patient_seq);
	return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
			 "event %" PRIu64 ": stored record differs from its replay (units %" PRIu64 " vs %" PRIu64 ")",
			 stored->seq, stored->units, again.units);
}

static int input_for_replay(struct replay *r, const ledger_event_t *e, verify_input_t *in)
{
	input_from_record(e, in);
	if (in->status == 0 && code_from_record(e, &in->code) < 0)
		return yima_fail(r->why, r->whylen, YIMA_ECORRUPT,
				 "event %" PRIu64 ": stored code does not normalize", e->seq);
	if (in->status != YIMA_EBADRECORD)
		in->code_field = in->ev.code;
	return 0;
}

static int claim_push(struct replay *r, const ledger_event_t *e)
{
	struct claim_group *g = &r->claim;
	int rc;

	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		verify_input_t *in = realloc(g->in, cap * sizeof *in);
		if (in != NULL)
			g->in = in;
		uint64_t *seq = realloc(g->seq, cap * sizeof *seq);
		if (seq != NULL)
			g->seq = seq;
		uint8_t (*hash)[LEDGER_HASH_LEN] = realloc(g->hash, cap * sizeof *hash);
		if (hash != NULL)
			g->hash = hash;
		if (in == NULL || seq == NULL || hash == NULL)
			return yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
		g->cap = cap;
	}
	if ((rc = input_for_replay(r, e, &g->in[g->n])) < 0)
		return rc;
	if (g->n == 0)
		g->void_claim = (e->claim & LEDGER_CLAIM_VOID) != 0;
	g->seq[g->n] = e->seq;
	memcpy(g->hash[g->n], e->hash, LEDGER_HASH_LEN);
	g->n++;
	return 0;
}

/* A claim is replayed as yimad recorded it: evaluated whole, then applied
 * or voided whole. */
static int claim_replay(struct replay *r, const ledger_event_t *last)
{
	struct claim_group *g = &r->claim;
	outcome_t out;
	size_t n = g->n;
	int rc;

	memset(&out, 0, sizeof out);
	out.n = n;
	if ((out.codes = calloc(n, sizeof *out.codes)) == NULL)
		return yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
	rc = claim_replay_records(r->txn, g->in, n, g->void_claim, &out);
	g->n = 0;
	if (rc < 0) {
		yima_fail(r->why, r->whylen, rc, "claim ending at event %" PRIu64 ": replay failed: %s",
			  last->seq, yima_strerror(rc));
		goto free_codes;
	}
	for (size_t i = 0; i < n; i++) {
		if (out.codes[i].r.seq == g->seq[i] &&
		    memcmp(out.codes[i].r.hash, g->hash[i], LEDGER_HASH_LEN) == 0)
			continue;
		rc = yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
			       "event %" PRIu64 ": claim record differs from its replay", g->seq[i]);
		goto free_codes;
	}
	rc = replay_cycle(r);
free_codes:
	free(out.codes);
	return rc;
}

static int replay_event(void *arg, const ledger_event_t *e)
{
	struct replay *r = arg;
	verify_input_t in;
	verify_result_t res;
	int rc;

	if (r->progress != NULL && (e->seq % YIMA_PROGRESS_EVERY == 0 || e->seq == r->total))
		r->progress(r->progress_arg, e->seq, e->seq, r->total);
	if (r->claim.n > 0 && !(e->claim & LEDGER_CLAIM_ITEM))
		return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
				 "event %" PRIu64 ": the claim before it has no last record", e->seq);
	if (e->claim & LEDGER_CLAIM_ITEM) {
		if ((rc = claim_push(r, e)) < 0)
			return rc;
		return (e->claim & LEDGER_CLAIM_LAST) ? claim_replay(r, e) : 0;
	}
	if ((rc = input_for_replay(r, e, &in)) < 0)
		return rc;
	if ((rc = verify_apply(r->txn, &in, &res)) < 0)
		return yima_fail(r->why, r->whylen, rc, "event %" PRIu64 ": replay failed: %s", e->seq,
				 yima_strerror(rc));
	if (res.seq != e->seq || memcmp(res.hash, e->hash, LEDGER_HASH_LEN) != 0)
		return report_diff(r, e);
	return replay_cycle(r);
}

static int replay_admin(void *arg, const ledger_admin_t *a)
{
	struct replay *r = arg;
	uint8_t head[LEDGER_HASH_LEN];
	int rc;

	switch (a->kind) {
	case ADMIN_CATALOG:
		rc = ledger_catalog_put(r->txn, &a->cat);
		break;
	case ADMIN_RECALL_ADD:
		rc = ledger_recall_add(r->txn, a->recall, a->key.p, a->key.n);
		break;
	case ADMIN_RECALL_REMOVE:
		rc = ledger_recall_remove(r->txn, a->recall, a->key.p, a->key.n);
		break;
	case ADMIN_REFUND_WINDOW:
		rc = ledger_refund_window_set(r->txn, a->days);
		break;
	case ADMIN_BATCH:
		rc = ledger_batch_put(r->txn, a->facility, a->key, &a->batch);
		break;
	default:
		rc = YIMA_ECORRUPT;
	}
	ledger_head(r->txn, head);
	if (rc < 0 || memcmp(head, a->hash, LEDGER_HASH_LEN) != 0)
		return yima_fail(r->why, r->whylen, YIMA_EMISMATCH,
				 "admin record %" PRIu64 " (after event %" PRIu64 "): replay does not reproduce it",
				 a->seq, a->after_event);
	return 0;
}

static int compare_tables(ledger_txn_t *stored, ledger_t *scratch, char *why, size_t whylen)
{
	ledger_txn_t *t;
	int rc = ledger_txn_begin(scratch, false, &t);
	if (rc < 0)
		return yima_fail(why, whylen, rc, "replay ledger: %s", yima_strerror(rc));
	rc = ledger_tables_compare(stored, t, why, whylen);
	ledger_txn_abort(t);
	return rc;
}

int audit_ledger(ledger_t *lg, const char *scratch_dir, yima_progress_fn *progress,
		 void *progress_arg, audit_result_t *res, char *why, size_t whylen)
{
	static const ledger_walk_fns_t fns = { replay_event, replay_admin };
	struct replay r;
	ledger_txn_t *stored;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	r.why = why;
	r.whylen = whylen;
	r.progress = progress;
	r.progress_arg = progress_arg;
	if ((rc = ledger_txn_begin(lg, false, &stored)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", ledger_dir(lg), yima_strerror(rc));
	r.total = ledger_event_count(stored);
	if ((rc = ledger_open(scratch_dir, LEDGER_CREATE | LEDGER_NOSYNC, &r.scratch, why, whylen)) < 0)
		goto end_stored;
	if ((rc = ledger_txn_begin(r.scratch, true, &r.txn)) < 0) {
		yima_fail(why, whylen, rc, "replay ledger: %s", yima_strerror(rc));
		goto close_scratch;
	}
	rc = ledger_chain_walk(stored, &fns, &r, &res->records, why, whylen);
	if (rc == 0 && r.claim.n > 0)
		rc = yima_fail(why, whylen, YIMA_EMISMATCH, "the last claim has no last record");
	if (rc == 0) {
		rc = ledger_txn_commit(r.txn);
		r.txn = NULL;
		if (rc < 0)
			yima_fail(why, whylen, rc, "replay ledger: %s", yima_strerror(rc));
	}
	if (rc == 0)
		rc = compare_tables(stored, r.scratch, why, whylen);
	ledger_head(stored, res->head);
	ledger_txn_abort(r.txn);
close_scratch:
	ledger_close(r.scratch);
	free(r.claim.in);
	free(r.claim.seq);
	free(r.claim.hash);
end_stored:
	ledger_txn_abort(stored);
	return rc;
}
