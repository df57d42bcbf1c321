/*
 * coord_claim.c - a settlement claim across partitions (docs/cluster.md,
 * "Writes"): a Prepare to every participant, their votes read from this
 * node's views, the decision (a function of the votes alone, so whichever
 * node publishes it, it is the same) to every participant, and the
 * verdicts read from the records the decision made.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "yima/util/error.h"
#include "yima/verifier/claim.h"

/* Partition k's word on claim t: its decision if it has one (*decided),
 * else its vote. */
static int read_vote(view_t *v, const ProtobufCBinaryData *t, enum vote *vote, int *decided)
{
	uint8_t key[1 + TXN_LEN];
	yima_slice_t val;
	ledger_txn_t *txn;
	int rc = ledger_txn_begin(v->lg, false, &txn);

	*vote = VOTE_NONE;
	*decided = -1;
	if (rc < 0)
		return rc;
	memcpy(key + 1, t->data, TXN_LEN);
	key[0] = AUX_DECIDED;
	if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) == 0 && val.n >= 1) {
		*decided = (uint8_t)val.p[0];
	} else if (rc == YIMA_ENOTFOUND) {
		key[0] = AUX_PENDING;
		if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) == 0 && val.n >= 1)
			*vote = (enum vote)(uint8_t)val.p[0];
		if (rc == YIMA_ENOTFOUND)
			rc = 0;
	}
	ledger_txn_abort(txn);
	return rc;
}

/* Publish the same op bytes to each participant; wait for each to be
 * applied by this node's view.  seq[i] gets where it landed. */
static int broadcast(cluster_node_t *n, const uint32_t *parts, size_t np, const uint8_t *bytes,
		     size_t len, double deadline, uint64_t *seq)
{
	pub_op_t **ops = calloc(np, sizeof *ops);
	int rc = 0;

	if (ops == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < np && rc == 0; i++) {
		uint8_t *copy = malloc(len ? len : 1);
		if (copy == NULL || (ops[i] = pub_op_new(copy, len)) == NULL) {
			rc = YIMA_ENOMEM;
			break;
		}
		memcpy(copy, bytes, len);
		publisher_submit(n->pubs[parts[i]], ops[i]);
	}
	for (size_t i = 0; i < np; i++) {
		if (ops[i] == NULL)
			continue;
		int r = publisher_wait(n->pubs[parts[i]], ops[i], deadline);
		if (r != YIMA_EUNAVAIL) {
			seq[i] = ops[i]->seq;
			pub_op_free(ops[i]);
		}
		if (rc == 0)
			rc = r;
	}
	free(ops);
	for (size_t i = 0; i < np && rc == 0; i++)
		rc = view_wait(n->views[parts[i]], seq[i], deadline);
	return rc;
}

static int decide_op(const ProtobufCBinaryData *t, Yima__Cluster__V1__Decision d, uint8_t **b,
		     size_t *len)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__Decide dc = YIMA__CLUSTER__V1__DECIDE__INIT;

	dc.txn = *t;
	dc.decision = d;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_DECIDE;
	op.decide = &dc;
	return envelope_pack_op(&op, b, len);
}

static int drive(cluster_node_t *n, const Yima__Cluster__V1__Prepare *p, const uint8_t *op,
		 size_t len, double deadline, Yima__Cluster__V1__Decision *decision)
{
	size_t np = p->n_participants;
	uint64_t *seq = calloc(np ? np : 1, sizeof *seq);
	enum vote *votes = calloc(np ? np : 1, sizeof *votes);
	uint8_t *dop = NULL;
	size_t dlen;
	int known = -1, rc;
	size_t decided = 0;

	if (seq == NULL || votes == NULL) {
		rc = YIMA_ENOMEM;
		goto free_all;
	}
	if ((rc = broadcast(n, p->participants, np, op, len, deadline, seq)) < 0)
		goto free_all;
	for (size_t i = 0; i < np && rc == 0; i++) {
		int d;
		rc = read_vote(n->views[p->participants[i]], &p->txn, &votes[i], &d);
		if (d >= 0 && known < 0)
			known = d;	/* decided already (another node, earlier) */
		decided += d >= 0;
	}
	if (rc < 0)
		goto free_all;
	*decision = known >= 0 ? (Yima__Cluster__V1__Decision)known : claim_decision(votes, np);
	if (decided == np)
		goto free_all;	/* one participant decides at once (view_claim.c) */
	if ((rc = decide_op(&p->txn, *decision, &dop, &dlen)) == 0)
		rc = broadcast(n, p->participants, np, dop, dlen, deadline, seq);
free_all:
	free(dop);
	free(seq);
	free(votes);
	return rc;
}

int claim_drive(cluster_node_t *n, const uint8_t *prepare, size_t len, double deadline,
		Yima__Cluster__V1__Decision *decision, uint64_t dseq[], char *why, size_t whylen)
{
	Yima__Cluster__V1__Op *op = yima__cluster__v1__op__unpack(NULL, len, prepare);
	int rc;

	(void)dseq;
	if (op == NULL || op->op_case != YIMA__CLUSTER__V1__OP__OP_PREPARE || op->prepare->txn.len != TXN_LEN) {
		if (op != NULL)
			yima__cluster__v1__op__free_unpacked(op, NULL);
		return yima_fail(why, whylen, YIMA_ECORRUPT, "not a prepare");
	}
	for (size_t i = 0; i < op->prepare->n_participants; i++) {
		unsigned k = op->prepare->participants[i];
		if (k >= n->P || n->views[k] == NULL) {
			yima__cluster__v1__op__free_unpacked(op, NULL);
			return yima_fail(why, whylen, YIMA_ENOTFOUND, "partition %u is not served by this node", k);
		}
	}
	rc = drive(n, op->prepare, prepare, len, deadline, decision);
	yima__cluster__v1__op__free_unpacked(op, NULL);
	if (rc < 0)
		yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	return rc;
}
