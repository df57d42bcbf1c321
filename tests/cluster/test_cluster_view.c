/*
 * test_view.c - partition views without NATS (cluster/view/): stream
 * messages built here and applied to two partition ledgers, as two
 * appliers would, to check the claim protocol's view side (docs/cluster.md):
 * votes and holds, events on a held code deferred until the decision, busy
 * votes, a void decision taken in another partition and honoured by the
 * audit replay, a decision before its prepare, admin changes as barriers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "testutil.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/audit.h"

#define NP 2

static char *dir;
static cluster_node_t node;
static view_t *v[NP];
static uint64_t seq[NP];
static char code_in[NP][2][21];	/* two codes of each partition */

static void find_codes(void)
{
	int have[NP] = { 0 };
	char c[21];

	for (unsigned i = 0; have[0] < 2 || have[1] < 2; i++) {
		snprintf(c, sizeof c, "8100001%013u", i);
		unsigned k = cluster_partition_of_code(c, 20, NP);
		if (have[k] < 2)
			memcpy(code_in[k][have[k]++], c, 21);
	}
}

static void setup(void)
{
	char why[256], path[4096];

	dir = tu_mkdtemp();
	free(tu_write_file(dir, "patient.key",
			   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 65));
	memset(&node, 0, sizeof node);
	node.dir = dir;
	node.P = NP;
	node.o.quiet = true;
	for (unsigned k = 0; k < NP; k++) {
		snprintf(path, sizeof path, "%s/p%03u", dir, k);
		cr_assert_eq(view_open(&node, k, path, &v[k], why, sizeof why), 0, "%s", why);
		seq[k] = 0;
	}
	find_codes();
}

static void teardown(void)
{
	for (unsigned k = 0; k < NP; k++)
		view_close(v[k]);
	tu_rmtree(dir);
	free(dir);
}

/* Apply one message holding the packed op to partition k. */
static void apply(unsigned k, const uint8_t *op, size_t len)
{
	ledger_txn_t *txn;
	buf_t msg;

	buf_init(&msg);
	cr_assert_eq(envelope_header("test", k, &msg), 0);
	envelope_append_op(&msg, op, len);
	cr_assert_eq(ledger_txn_begin(v[k]->lg, true, &txn), 0);
	cr_assert_eq(view_apply_message(v[k], txn, ++seq[k], msg.p, msg.len), 0);
	cr_assert_eq(ledger_txn_commit(txn), 0);
	buf_deinit(&msg);
}

static void apply_op(unsigned k, const Yima__Cluster__V1__Op *op)
{
	uint8_t *b;
	size_t len;
	cr_assert_eq(envelope_pack_op(op, &b, &len), 0);
	apply(k, b, len);
	free(b);
}

static void catalog(unsigned k)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__Admin a = YIMA__CLUSTER__V1__ADMIN__INIT;
	Yima__Cluster__V1__CatalogRow r = YIMA__CLUSTER__V1__CATALOG_ROW__INIT;

	r.product = "8100001";
	r.drug = "DRUGA";
	r.pack_units = 1;
	a.op_case = YIMA__CLUSTER__V1__ADMIN__OP_CATALOG;
	a.catalog = &r;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_ADMIN;
	op.admin = &a;
	apply_op(k, &op);
}

static void recall(unsigned k, const char *code)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__Admin a = YIMA__CLUSTER__V1__ADMIN__INIT;

	a.op_case = YIMA__CLUSTER__V1__ADMIN__OP_RECALL_ADD_KIND;
	a.recall_add_kind = RECALL_CODE;
	a.key = (char *)code;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_ADMIN;
	op.admin = &a;
	apply_op(k, &op);
}

/* An input from the nine CSV fields (fields point into static strings). */
static void input(const char *type, const char *fac, const char *code, const char *drug,
		  const char *stl, verify_input_t *in)
{
	yima_slice_t f[EVENT_NCOLUMNS] = {
		yima_slice_cstr("2026-03-01T10:00:00+08:00"), yima_slice_cstr(fac), yima_slice_cstr(type),
		yima_slice_cstr(code), yima_slice_cstr(drug), yima_slice_cstr(""), yima_slice_cstr(stl),
		yima_slice_cstr(""), yima_slice_cstr(strcmp(type, "receive") == 0 ? "S1" : ""),
	};
	verify_input_from_fields(f, in);
	cr_assert_eq(in->status, 0, "%s", in->reason);
}

/* An events part of one event. */
static void events(unsigned k, const char *batch, const char *type, const char *fac, const char *code)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__EventsPart ep = YIMA__CLUSTER__V1__EVENTS_PART__INIT;
	Yima__Cluster__V1__Input m, *mp = &m;
	Yima__Cluster__V1__Time t;
	verify_input_t in;
	uint8_t content[32] = { 1 };

	input(type, fac, code, "", "", &in);
	envelope_input(&in, 0, &m, &t);
	ep.owner = (char *)fac;
	ep.batch_id = (char *)batch;
	ep.content.data = content;
	ep.content.len = sizeof content;
	ep.total = 1;
	ep.n_events = 1;
	ep.events = &mp;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_EVENTS;
	op.events = &ep;
	apply_op(k, &op);
}

/* A claim of F1 dispensing codes[0..n) (drugs given), to partitions parts. */
static void prepare(uint8_t txnid, const char *stl, const char *const *codes, const char *const *drugs,
		    size_t n, const unsigned *parts, size_t np)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__Prepare p = YIMA__CLUSTER__V1__PREPARE__INIT;
	Yima__Cluster__V1__Input m[4], *mp[4];
	Yima__Cluster__V1__Time t[4];
	verify_input_t in[4];
	uint32_t cp[4], who[NP];
	uint8_t id[TXN_LEN], content[32] = { 7 };

	memset(id, txnid, sizeof id);
	for (size_t i = 0; i < n; i++) {
		input("dispense", "F1", codes[i], drugs[i], stl, &in[i]);
		envelope_input(&in[i], (uint32_t)i, &m[i], &t[i]);
		mp[i] = &m[i];
		cp[i] = cluster_partition_of_code(in[i].code.canon, in[i].code.canon_len, NP);
	}
	for (size_t i = 0; i < np; i++)
		who[i] = parts[i];
	p.txn.data = id;
	p.txn.len = TXN_LEN;
	p.facility = "F1";
	p.settlement = (char *)stl;
	p.content.data = content;
	p.content.len = sizeof content;
	p.home = cluster_partition_of_claim("F1", stl, NP);
	p.n_participants = np;
	p.participants = who;
	p.n_codes = p.n_code_partition = n;
	p.codes = mp;
	p.code_partition = cp;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_PREPARE;
	op.prepare = &p;
	for (size_t i = 0; i < np; i++)
		apply_op(parts[i], &op);
}

static void decide(unsigned k, uint8_t txnid, Yima__Cluster__V1__Decision d)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__Decide dc = YIMA__CLUSTER__V1__DECIDE__INIT;
	uint8_t id[TXN_LEN];

	memset(id, txnid, sizeof id);
	dc.txn.data = id;
	dc.txn.len = TXN_LEN;
	dc.decision = d;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_DECIDE;
	op.decide = &dc;
	apply_op(k, &op);
}

/* The vote partition k stored for txnid (VOTE_NONE if none), and whether
 * it has a decision. */
static int vote_of(unsigned k, uint8_t txnid, bool *decided)
{
	uint8_t key[1 + TXN_LEN];
	yima_slice_t val;
	ledger_txn_t *txn;
	int vote = VOTE_NONE;

	cr_assert_eq(ledger_txn_begin(v[k]->lg, false, &txn), 0);
	memset(key + 1, txnid, TXN_LEN);
	key[0] = AUX_DECIDED;
	*decided = ledger_aux_get(txn, key, sizeof key, &val) == 0;
	key[0] = AUX_PENDING;
	if (ledger_aux_get(txn, key, sizeof key, &val) == 0)
		vote = (uint8_t)val.p[0];
	ledger_txn_abort(txn);
	return vote;
}

static code_state_t state(unsigned k, const char *code)
{
	code_state_t st;
	ledger_txn_t *txn;

	cr_assert_eq(ledger_txn_begin(v[k]->lg, false, &txn), 0);
	ledger_code_get(txn, code, strlen(code), &st);
	ledger_txn_abort(txn);
	return st;
}

static bool batch_recorded(unsigned k, const char *fac, const char *id)
{
	batch_entry_t be;
	ledger_txn_t *txn;

	cr_assert_eq(ledger_txn_begin(v[k]->lg, false, &txn), 0);
	int rc = ledger_batch_get(txn, yima_slice_cstr(fac), yima_slice_cstr(id), &be);
	ledger_txn_abort(txn);
	return rc == 0;
}

static void audit_ok(unsigned k)
{
	char scratch[4096], why[512];
	audit_result_t res;

	snprintf(scratch, sizeof scratch, "%s/audit%u", dir, k);
	cr_assert_eq(audit_ledger(v[k]->lg, scratch, NULL, NULL, &res, why, sizeof why), 0,
		     "partition %u: %s", k, why);
}

static const unsigned both[] = { 0, 1 };

TestSuite(cluster_view, .init = setup, .fini = teardown);

Test(cluster_view, commit_across_partitions_defers_events_on_held_codes)
{
	const char *a = code_in[0][0], *b = code_in[1][0];
	const char *codes[] = { a, b }, *drugs[] = { "DRUGA", "DRUGA" };
	bool d;

	catalog(0);
	catalog(1);
	events(0, "r1", "receive", "F1", a);
	events(1, "r2", "receive", "F1", b);
	prepare(1, "S1", codes, drugs, 2, both, 2);
	cr_assert_eq(vote_of(0, 1, &d), VOTE_ACCEPT);
	cr_assert_eq(vote_of(1, 1, &d), VOTE_ACCEPT);
	/* an upload of the held pack waits; a second claim on it is busy */
	events(0, "late", "stocktake", "F1", a);
	cr_assert(!batch_recorded(0, "F1", "late"), "an event on a held code was applied before the decision");
	prepare(2, "S2", codes, drugs, 1, (const unsigned[]){ 0, 1 }, 2);
	cr_assert_eq(vote_of(0, 2, &d), VOTE_BUSY);
	decide(0, 1, YIMA__CLUSTER__V1__DECISION__COMMIT);
	decide(1, 1, YIMA__CLUSTER__V1__DECISION__COMMIT);
	cr_assert_str_eq(state(0, a).dispensed_at, "F1");
	cr_assert_str_eq(state(1, b).dispensed_at, "F1");
	cr_assert(batch_recorded(0, "F1", "late"), "the deferred event was not applied after the decision");
	cr_assert_eq(state(0, a).events, 3, "receive, claim, the deferred stocktake: in that order");
	decide(0, 2, YIMA__CLUSTER__V1__DECISION__ABORT_BUSY);
	decide(1, 2, YIMA__CLUSTER__V1__DECISION__ABORT_BUSY);
	cr_assert_eq(state(0, a).events, 3, "a busy claim records nothing");
	cr_assert_eq(vote_of(0, 1, &d), VOTE_NONE);
	cr_assert(d, "the decision is remembered");
	audit_ok(0);
	audit_ok(1);
}

Test(cluster_view, a_reject_elsewhere_voids_the_claim_here_and_the_audit_honours_it)
{
	const char *a = code_in[0][0], *b = code_in[1][0];
	const char *codes[] = { a, b }, *drugs[] = { "DRUGA", "WRONG" };
	bool d;

	catalog(0);
	catalog(1);
	events(0, "r1", "receive", "F1", a);
	events(1, "r2", "receive", "F1", b);
	prepare(3, "S3", codes, drugs, 2, both, 2);
	cr_assert_eq(vote_of(0, 3, &d), VOTE_ACCEPT);
	cr_assert_eq(vote_of(1, 3, &d), VOTE_REJECT, "SUBSTITUTED in partition 1");
	decide(0, 3, YIMA__CLUSTER__V1__DECISION__ABORT_REJECT);
	decide(1, 3, YIMA__CLUSTER__V1__DECISION__ABORT_REJECT);
	cr_assert_str_eq(state(0, a).dispensed_at, "", "a void claim changes no state");
	cr_assert_str_eq(state(0, a).holder, "F1");
	cr_assert_eq(state(0, a).events, 2, "the void attempt is recorded");
	audit_ok(0);	/* its only code had no finding: void by a decision taken elsewhere */
	audit_ok(1);
}

Test(cluster_view, a_decision_before_its_prepare_leaves_nothing_held)
{
	const char *a = code_in[0][0];
	const char *codes[] = { a }, *drugs[] = { "DRUGA" };
	bool d;

	catalog(0);
	catalog(1);
	events(0, "r1", "receive", "F1", a);
	decide(0, 4, YIMA__CLUSTER__V1__DECISION__ABORT_BUSY);
	prepare(4, "S4", codes, drugs, 1, (const unsigned[]){ 0 }, 1);
	cr_assert_eq(vote_of(0, 4, &d), VOTE_NONE, "a late prepare is ignored");
	cr_assert_eq(v[0]->holding, 0);
	events(0, "r2", "stocktake", "F1", a);
	cr_assert(batch_recorded(0, "F1", "r2"), "nothing holds the code");
}

Test(cluster_view, one_participant_decides_at_once)
{
	const char *a = code_in[0][0], *a2 = code_in[0][1];
	const char *codes[] = { a, a2 }, *drugs[] = { "DRUGA", "DRUGA" };
	bool d;

	catalog(0);
	events(0, "r1", "receive", "F1", a);
	events(0, "r2", "receive", "F1", a2);
	prepare(5, "S5", codes, drugs, 2, (const unsigned[]){ 0 }, 1);
	cr_assert_eq(vote_of(0, 5, &d), VOTE_NONE);
	cr_assert(d);
	cr_assert_str_eq(state(0, a2).dispensed_at, "F1");
	cr_assert_eq(v[0]->holding, 0);
	audit_ok(0);
}

Test(cluster_view, an_admin_change_waits_for_undecided_claims_and_holds_back_what_follows)
{
	const char *a = code_in[0][0], *c = code_in[0][1], *b = code_in[1][0];
	const char *codes[] = { a, b }, *drugs[] = { "DRUGA", "DRUGA" };

	catalog(0);
	catalog(1);
	events(0, "r1", "receive", "F1", a);
	events(1, "r2", "receive", "F1", b);
	prepare(6, "S6", codes, drugs, 2, both, 2);
	recall(0, c);	/* waits: a claim holds codes here */
	events(0, "r3", "receive", "F2", c);	/* behind the barrier */
	cr_assert(!batch_recorded(0, "F2", "r3"));
	decide(0, 6, YIMA__CLUSTER__V1__DECISION__COMMIT);
	cr_assert(batch_recorded(0, "F2", "r3"));
	cr_assert_eq(state(0, c).applied, false, "the receive saw the recall (RECALLED): rejected");
	audit_ok(0);
}
