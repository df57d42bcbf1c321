/*
 * request.c - yimad's write requests, decoded once and run (see
 * request.h): the path a batch or claim takes from the network thread to
 * the verifier and back into an answer.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/batch.h"
#include "yima/verifier/claim.h"
#include "yima/cluster/cluster.h"

int request_from_batch(request_t *r, Yima__V1__EventBatch *b, const char *facility)
{
	memset(r, 0, sizeof *r);
	r->kind = REQUEST_BATCH;
	r->batch = b;
	r->n = b->n_events;
	snprintf(r->facility, sizeof r->facility, "%s", facility);
	if (wire_decode_batch(b, &r->arena, &r->in) < 0) {
		request_free(r);
		return YIMA_ENOMEM;
	}
	return 0;
}

int request_from_claim(request_t *r, Yima__V1__Claim *c)
{
	memset(r, 0, sizeof *r);
	r->kind = REQUEST_CLAIM;
	r->claim = c;
	r->dry_run = c->dry_run;
	r->n = wire_claim_ncodes(c);
	snprintf(r->facility, sizeof r->facility, "%s", c->facility);
	if (wire_decode_claim(c, &r->arena, &r->in) < 0) {
		request_free(r);
		return YIMA_ENOMEM;
	}
	return 0;
}

void request_free(request_t *r)
{
	if (r->batch != NULL)
		yima__v1__event_batch__free_unpacked(r->batch, NULL);
	if (r->claim != NULL)
		yima__v1__claim__free_unpacked(r->claim, NULL);
	wire_arena_free(&r->arena);
	memset(r, 0, sizeof *r);
}

int request_batch_content(ledger_txn_t *txn, const Yima__V1__EventBatch *b,
			  uint8_t out[LEDGER_HASH_LEN])
{
	uint8_t digest[LEDGER_HASH_LEN];
	int rc = wire_batch_digest(b, digest);

	return rc < 0 ? rc : ledger_content_mac(txn, digest, out);
}

static void count_outcome(const outcome_t *o, request_result_t *res)
{
	for (size_t i = 0; i < o->n; i++) {
		res->verdicts[o->codes[i].r.verdict]++;
		for (int f = 0; f < F_COUNT; f++)
			if (o->codes[i].r.findings & FINDING_BIT(f))
				res->findings[f]++;
	}
}

/* The answer to r from its outcome: counted into res, packed into out
 * (nothing packed for a conflict, which the caller answers with 409). */
static int answer_outcome(const request_t *r, const outcome_t *o, buf_t *out,
			  request_result_t *res)
{
	res->status = o->status;
	if (o->status == OUTCOME_CONFLICT)
		return 0;
	if (o->status == OUTCOME_RECORDED && !r->dry_run)
		count_outcome(o, res);
	return r->kind == REQUEST_BATCH
		? wire_pack_batch_receipt(r->batch->batch_id, o, out)
		: wire_pack_claim_verdict(r->claim->settlement, r->dry_run, o, out);
}

static int run_outcome(ledger_txn_t *txn, request_t *r, outcome_t *o)
{
	yima_slice_t fac = yima_slice_cstr(r->facility);
	uint8_t content[LEDGER_HASH_LEN];
	int rc;

	if (r->kind == REQUEST_BATCH) {
		if ((rc = request_batch_content(txn, r->batch, content)) < 0)
			return rc;
		return batch_apply(txn, fac, yima_slice_cstr(r->batch->batch_id), content, r->in,
				   r->n, o);
	}
	return claim_settle(txn, fac, yima_slice_cstr(r->claim->settlement), r->in, r->n,
			    r->dry_run, o);
}

int request_run(ledger_txn_t *txn, request_t *r, buf_t *out, request_result_t *res)
{
	outcome_t o;
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = outcome_init(&o, r->n)) < 0)
		return rc;
	if ((rc = run_outcome(txn, r, &o)) < 0)
		goto free_outcome;
	res->first_seq = o.first_seq;
	res->count = o.n;
	rc = answer_outcome(r, &o, out, res);
free_outcome:
	outcome_deinit(&o);
	return rc;
}

static int cluster_outcome(cluster_node_t *node, request_t *r, outcome_t *o, char *why,
			   size_t whylen)
{
	uint8_t content[LEDGER_HASH_LEN];
	ledger_txn_t *txn;
	int rc;

	if (r->kind == REQUEST_CLAIM)
		return cluster_run_claim(node, r->facility, r->claim->settlement, r->in, r->n, r->dry_run,
					 o, why, whylen);
	if ((rc = ledger_txn_begin(cluster_any_ledger(node), false, &txn)) < 0)
		return rc;
	rc = request_batch_content(txn, r->batch, content);
	ledger_txn_abort(txn);
	if (rc < 0)
		return rc;
	return cluster_run_batch(node, r->facility, r->batch->batch_id, content, r->in, r->n, o, why,
				 whylen);
}

int request_run_cluster(cluster_node_t *node, request_t *r, buf_t *out, request_result_t *res,
			char *why, size_t whylen)
{
	outcome_t o;
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = outcome_init(&o, r->n)) < 0)
		return rc;
	if ((rc = cluster_outcome(node, r, &o, why, whylen)) < 0)
		goto free_outcome;
	rc = answer_outcome(r, &o, out, res);
free_outcome:
	outcome_deinit(&o);
	return rc;
}

/* Record seq's entry and inclusion proof in the tree of size entries. */
static int proof_of(ledger_txn_t *txn, uint64_t seq, uint64_t size, wire_arena_t *a,
		    Yima__V1__InclusionProof *p)
{
	uint8_t (*h)[LEDGER_HASH_LEN] = wire_arena_alloc(a, LEDGER_PROOF_MAX * LEDGER_HASH_LEN);
	ProtobufCBinaryData *hp = wire_arena_alloc(a, LEDGER_PROOF_MAX * sizeof *hp);
	yima_slice_t entry;
	size_t n;
	char why[256];
	int rc;

	yima__v1__inclusion_proof__init(p);
	if (h == NULL || hp == NULL)
		return YIMA_ENOMEM;
	if ((rc = ledger_event_index(txn, seq, &p->index)) < 0 ||
	    (rc = ledger_entry_get(txn, p->index, &entry, NULL)) < 0 ||
	    (rc = ledger_log_prove(txn, false, p->index, size, h, &n, why, sizeof why)) < 0)
		return rc;
	p->size = size;
	p->entry.data = (uint8_t *)entry.p;
	p->entry.len = entry.n;
	for (size_t i = 0; i < n; i++)
		hp[i] = (ProtobufCBinaryData){ LEDGER_HASH_LEN, h[i] };
	p->hashes = hp;
	p->n_hashes = n;
	return 0;
}

static int seal_claim(ledger_txn_t *txn, const request_seal_t *seal, const request_result_t *res,
		      buf_t *out)
{
	Yima__V1__ClaimVerdict m = YIMA__V1__CLAIM_VERDICT__INIT;
	wire_arena_t a = { NULL };
	int rc = 0;

	m.checkpoint = seal->checkpoint;
	m.n_proofs = res->first_seq ? res->count : 0;
	m.proofs = wire_arena_alloc(&a, (m.n_proofs ? m.n_proofs : 1) * sizeof *m.proofs);
	Yima__V1__InclusionProof *p = wire_arena_alloc(&a, (m.n_proofs ? m.n_proofs : 1) * sizeof *p);
	if (m.proofs == NULL || p == NULL)
		rc = YIMA_ENOMEM;
	for (size_t i = 0; rc == 0 && i < m.n_proofs; i++) {
		m.proofs[i] = &p[i];
		rc = proof_of(txn, res->first_seq + i, seal->size, &a, &p[i]);
	}
	if (rc == 0)
		rc = wire_pack_append(&m.base, out);
	wire_arena_free(&a);
	return rc;
}

int request_seal_begin(ledger_txn_t *txn, request_seal_t *seal)
{
	yima_slice_t note;
	int rc;

	seal->checkpoint = NULL;
	if ((rc = ledger_log_checkpoint(txn, &note)) < 0 || (rc = ledger_log_size(txn, &seal->size)) < 0)
		return rc;
	if ((seal->checkpoint = strndup(note.p, note.n)) == NULL)
		return YIMA_ENOMEM;
	return 0;
}

void request_seal_end(request_seal_t *seal)
{
	free(seal->checkpoint);
	seal->checkpoint = NULL;
}

int request_seal(ledger_txn_t *txn, const request_seal_t *seal, const request_t *r,
		 const request_result_t *res, buf_t *out)
{
	if (res->status == OUTCOME_CONFLICT || r->dry_run)
		return 0;
	if (r->kind == REQUEST_CLAIM)
		return seal_claim(txn, seal, res, out);
	Yima__V1__BatchReceipt m = YIMA__V1__BATCH_RECEIPT__INIT;
	m.checkpoint = seal->checkpoint;
	return wire_pack_append(&m.base, out);
}
