/*
 * coord_settle.c - cluster_run_claim(): a claim's Prepare made here, driven
 * to its decision (coord_claim.c), and its answer read from the records
 * the decision made in each participant; dry runs evaluated in the views.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/claim.h"

/* This attempt's id: SHA-256 over the node, a counter and the content. */
static void attempt_id(cluster_node_t *n, const coord_split_t *sp, uint8_t out[TXN_LEN])
{
	uint64_t c = atomic_fetch_add(&n->counter, 1);
	unsigned len = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	memset(out, 0, TXN_LEN);
	if (md == NULL)
		return;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, n->id, strlen(n->id) + 1);
	EVP_DigestUpdate(md, &c, sizeof c);
	EVP_DigestUpdate(md, sp->content, sizeof sp->content);
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
}

static int prepare_op(cluster_node_t *n, const coord_split_t *sp, const char *facility,
		      const char *settlement, const uint8_t txn[TXN_LEN], uint8_t **b, size_t *len)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__Prepare p = YIMA__CLUSTER__V1__PREPARE__INIT;
	Yima__Cluster__V1__Input **codes = calloc(sp->n ? sp->n : 1, sizeof *codes);
	uint32_t *parts = calloc(sp->n ? sp->n : 1, sizeof *parts), *who = calloc(n->P, sizeof *who);
	int rc = YIMA_ENOMEM;

	if (codes == NULL || parts == NULL || who == NULL)
		goto free_all;
	for (size_t i = 0; i < sp->n; i++) {
		codes[i] = &sp->msg[i];
		parts[i] = sp->part[i];
	}
	for (unsigned k = 0; k < n->P; k++)
		if (sp->count[k] > 0 || k == sp->home)
			who[p.n_participants++] = k;
	p.txn.data = (uint8_t *)txn;
	p.txn.len = TXN_LEN;
	p.facility = (char *)facility;
	p.settlement = (char *)settlement;
	p.content.data = (uint8_t *)sp->content;
	p.content.len = LEDGER_HASH_LEN;
	p.home = sp->home;
	p.participants = who;
	p.n_codes = p.n_code_partition = sp->n;
	p.codes = codes;
	p.code_partition = parts;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_PREPARE;
	op.prepare = &p;
	rc = envelope_pack_op(&op, b, len);
free_all:
	free(codes);
	free(parts);
	free(who);
	return rc;
}

/* The records attempt t made in partition k, into the codes there. */
static int read_decided(view_t *v, const coord_split_t *sp, unsigned k, const uint8_t *t,
			outcome_t *out)
{
	uint8_t key[1 + TXN_LEN];
	yima_slice_t val;
	ledger_txn_t *txn;
	uint64_t first = 0, count = 0;
	int rc = ledger_txn_begin(v->lg, false, &txn);

	if (rc < 0)
		return rc;
	key[0] = AUX_DECIDED;
	memcpy(key + 1, t, TXN_LEN);
	if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) == 0 && val.n == 17) {
		first = get_u64be((const uint8_t *)val.p + 1);
		count = get_u64be((const uint8_t *)val.p + 9);
		if (count != sp->count[k])
			rc = YIMA_ECORRUPT;
	} else if (rc == 0) {
		rc = YIMA_ECORRUPT;
	}
	for (size_t i = 0, j = 0; i < sp->n && rc == 0; i++)
		if (sp->part[i] == k)
			rc = coord_read_record(txn, first + j++, &out->codes[i].r);
	ledger_txn_abort(txn);
	return rc;
}

/* A replay: the attempt the home accepted first (aux "S"). */
static int first_attempt(cluster_node_t *n, const coord_split_t *sp, const char *facility,
			 const char *settlement, uint8_t t[TXN_LEN])
{
	buf_t k;
	yima_slice_t val;
	ledger_txn_t *txn;
	int rc = ledger_txn_begin(n->views[sp->home]->lg, false, &txn);

	if (rc < 0)
		return rc;
	buf_init(&k);
	buf_putc(&k, AUX_SETTLED);
	buf_puts(&k, facility);
	buf_putc(&k, 0);
	buf_puts(&k, settlement);
	rc = k.oom ? YIMA_ENOMEM : ledger_aux_get(txn, k.p, k.len, &val);
	if (rc == 0 && val.n == LEDGER_HASH_LEN + TXN_LEN)
		memcpy(t, val.p + LEDGER_HASH_LEN, TXN_LEN);
	else if (rc == 0)
		rc = YIMA_ECORRUPT;
	buf_deinit(&k);
	ledger_txn_abort(txn);
	return rc;
}

static int answer(cluster_node_t *n, const coord_split_t *sp, const char *facility,
		  const char *settlement, const uint8_t t[TXN_LEN], Yima__Cluster__V1__Decision d,
		  outcome_t *out)
{
	uint8_t first[TXN_LEN];
	int rc = 0;

	out->status = OUTCOME_RECORDED;
	switch (d) {
	case YIMA__CLUSTER__V1__DECISION__ABORT_BUSY:
		atomic_fetch_add(&n->busy, 1);
		return YIMA_EBUSY;
	case YIMA__CLUSTER__V1__DECISION__CONFLICT:
		out->status = OUTCOME_CONFLICT;
		return 0;
	case YIMA__CLUSTER__V1__DECISION__REPLAY:
		out->status = OUTCOME_REPLAYED;
		if ((rc = first_attempt(n, sp, facility, settlement, first)) < 0)
			return rc;
		t = first;
		break;
	case YIMA__CLUSTER__V1__DECISION__COMMIT:
		atomic_fetch_add(&n->committed, 1);
		break;
	default:
		atomic_fetch_add(&n->aborted, 1);
		break;
	}
	for (unsigned k = 0; k < n->P && rc == 0; k++)
		if (sp->count[k] > 0)
			rc = read_decided(n->views[k], sp, k, t, out);
	return rc;
}

static int dry_run(cluster_node_t *n, const coord_split_t *sp, const char *facility,
		   const char *settlement, verify_input_t *items, outcome_t *out)
{
	verify_input_t *sub = calloc(sp->n ? sp->n : 1, sizeof *sub);
	int rc = sub ? 0 : YIMA_ENOMEM;

	out->status = OUTCOME_RECORDED;
	for (unsigned k = 0; k < n->P && rc == 0; k++) {
		size_t m = 0;
		outcome_t o;
		ledger_txn_t *txn;
		if (sp->count[k] == 0)
			continue;
		for (size_t i = 0; i < sp->n; i++)
			if (sp->part[i] == k)
				sub[m++] = items[i];
		if ((rc = outcome_init(&o, m)) < 0 || (rc = ledger_txn_begin(n->views[k]->lg, false, &txn)) < 0)
			break;
		rc = claim_settle(txn, yima_slice_cstr(facility), yima_slice_cstr(settlement), sub, m, true, &o);
		for (size_t i = 0, j = 0; i < sp->n && rc == 0; i++)
			if (sp->part[i] == k)
				out->codes[i].r = o.codes[j++].r;
		ledger_txn_abort(txn);
		outcome_deinit(&o);
	}
	free(sub);
	coord_finish(out, items);
	for (size_t i = 0; i < out->n && out->verdict == VERDICT_REJECT; i++)
		out->codes[i].r.verdict = VERDICT_REJECT;
	return rc;
}

int cluster_run_claim(cluster_node_t *n, const char *facility, const char *settlement,
		      verify_input_t *items, size_t count, bool dry, outcome_t *out, char *why,
		      size_t whylen)
{
	unsigned home = cluster_partition_of_claim(facility, settlement, n->P);
	Yima__Cluster__V1__Decision d = YIMA__CLUSTER__V1__DECISION__DECISION_NONE;
	coord_split_t sp;
	uint8_t t[TXN_LEN], *op = NULL;
	size_t len;
	int rc;

	if (count == 0 || count != out->n)
		return YIMA_EINVAL;
	if ((rc = coord_split(n, items, count, home, !dry, &sp, why, whylen)) < 0)
		return rc;
	if (dry) {
		rc = dry_run(n, &sp, facility, settlement, items, out);
		goto free_split;
	}
	attempt_id(n, &sp, t);
	if ((rc = prepare_op(n, &sp, facility, settlement, t, &op, &len)) < 0 ||
	    (rc = claim_drive(n, op, len, cluster_now() + CLUSTER_DEADLINE_S, &d, NULL, why, whylen)) < 0 ||
	    (rc = answer(n, &sp, facility, settlement, t, d, out)) < 0 || out->status == OUTCOME_CONFLICT)
		goto free_split;
	coord_finish(out, items);
free_split:
	free(op);
	coord_split_free(&sp);
	return rc;
}
