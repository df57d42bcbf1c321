/*
 * coord_batch.c - an event batch through the streams (docs/cluster.md,
 * "Writes"): the node that took it splits it by partition, publishes the
 * part of the batch's home partition first (it holds the batch's content
 * digest, so other content under the same id is a conflict before any
 * other part is published), then the other parts, and answers once its
 * own views have applied them, with the verdicts read from their records.
 */
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

enum entry { ENTRY_NONE, ENTRY_SAME, ENTRY_OTHER };

/* Is (owner, id) in partition k's batches table, and with what content? */
static int batch_entry(view_t *v, const char *owner, const char *id,
		       const uint8_t content[LEDGER_HASH_LEN], enum entry *e, batch_entry_t *be)
{
	ledger_txn_t *txn;
	int rc = ledger_txn_begin(v->lg, false, &txn);

	*e = ENTRY_NONE;
	if (rc < 0)
		return rc;
	rc = ledger_batch_get(txn, yima_slice_cstr(owner), yima_slice_cstr(id), be);
	if (rc == 0)
		*e = be->has_content && memcmp(be->content, content, LEDGER_HASH_LEN) == 0 ? ENTRY_SAME
										  : ENTRY_OTHER;
	ledger_txn_abort(txn);
	return rc == YIMA_ENOTFOUND ? 0 : rc;
}

/* Wait until the part is in the view: applied, and out of the queue of
 * operations waiting for a claim's decision. */
static int wait_entry(view_t *v, uint64_t seq, const char *owner, const char *id,
		      const uint8_t content[LEDGER_HASH_LEN], double deadline, enum entry *e,
		      batch_entry_t *be)
{
	int rc = view_wait(v, seq, deadline);

	while (rc == 0) {
		uint64_t seen = view_applied(v);
		if ((rc = batch_entry(v, owner, id, content, e, be)) < 0 || *e != ENTRY_NONE)
			break;
		if (cluster_now() >= deadline)
			return YIMA_EUNAVAIL;
		view_wait_change(v, seen, deadline);
	}
	return rc;
}

static int part_op(const coord_split_t *sp, unsigned k, const char *owner, const char *id,
		   const uint8_t content[LEDGER_HASH_LEN], bool home, uint8_t **bytes, size_t *len)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;
	Yima__Cluster__V1__EventsPart ep = YIMA__CLUSTER__V1__EVENTS_PART__INIT;
	Yima__Cluster__V1__Input **ev = calloc(sp->count[k] ? sp->count[k] : 1, sizeof *ev);
	int rc;

	if (ev == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0, j = 0; i < sp->n; i++)
		if (sp->part[i] == k)
			ev[j++] = &sp->msg[i];
	ep.owner = (char *)owner;
	ep.batch_id = (char *)id;
	ep.content.data = (uint8_t *)content;
	ep.content.len = LEDGER_HASH_LEN;
	ep.total = (uint32_t)sp->n;
	ep.home = home;
	ep.n_events = sp->count[k];
	ep.events = ev;
	op.op_case = YIMA__CLUSTER__V1__OP__OP_EVENTS;
	op.events = &ep;
	rc = envelope_pack_op(&op, bytes, len);
	free(ev);
	return rc;
}

/* The verdicts of partition k's part, from its records. */
static int read_part(view_t *v, const coord_split_t *sp, unsigned k, const batch_entry_t *be,
		     outcome_t *out)
{
	ledger_txn_t *txn;
	int rc;

	if (be->count != sp->count[k])
		return YIMA_ECORRUPT;
	if ((rc = ledger_txn_begin(v->lg, false, &txn)) < 0)
		return rc;
	for (size_t i = 0, j = 0; i < sp->n && rc == 0; i++) {
		if (sp->part[i] != k)
			continue;
		rc = coord_read_record(txn, be->first_seq + j++, &out->codes[i].r);
	}
	ledger_txn_abort(txn);
	return rc;
}

static int publish_rest(cluster_node_t *n, coord_split_t *sp, const char *owner, const char *id,
			const uint8_t content[LEDGER_HASH_LEN], double deadline, uint64_t *seq)
{
	pub_op_t *ops[CLUSTER_PARTITIONS_MAX] = { NULL };
	int rc = 0;

	for (unsigned k = 0; k < n->P && rc == 0; k++) {
		uint8_t *b;
		size_t len;
		if (k == sp->home || sp->count[k] == 0)
			continue;
		if ((rc = part_op(sp, k, owner, id, content, false, &b, &len)) < 0)
			break;
		if ((ops[k] = pub_op_new(b, len)) == NULL)
			rc = YIMA_ENOMEM;
		else
			publisher_submit(n->pubs[k], ops[k]);
	}
	for (unsigned k = 0; k < n->P; k++) {
		if (ops[k] == NULL)
			continue;
		int r = publisher_wait(n->pubs[k], ops[k], deadline);
		if (r != YIMA_EUNAVAIL) {
			seq[k] = ops[k]->seq;
			pub_op_free(ops[k]);
		}
		if (rc == 0)
			rc = r;
	}
	return rc;
}

static int gather(cluster_node_t *n, coord_split_t *sp, const char *owner, const char *id,
		  const uint8_t content[LEDGER_HASH_LEN], const uint64_t *seq, double deadline,
		  outcome_t *out)
{
	for (unsigned k = 0; k < n->P; k++) {
		enum entry e;
		batch_entry_t be;
		int rc;
		if (sp->count[k] == 0 && k != sp->home)
			continue;
		if ((rc = wait_entry(n->views[k], seq[k], owner, id, content, deadline, &e, &be)) < 0)
			return rc;
		if (e == ENTRY_OTHER) {
			out->status = OUTCOME_CONFLICT;
			return 0;
		}
		if ((rc = read_part(n->views[k], sp, k, &be, out)) < 0)
			return rc;
	}
	return 0;
}

static int run(cluster_node_t *n, coord_split_t *sp, const char *owner, const char *id,
	       const uint8_t content[LEDGER_HASH_LEN], outcome_t *out)
{
	double deadline = cluster_now() + CLUSTER_DEADLINE_S;
	uint64_t *seq = calloc(n->P, sizeof *seq);
	enum entry e;
	batch_entry_t be;
	int rc;

	if (seq == NULL)
		return YIMA_ENOMEM;
	if ((rc = batch_entry(n->views[sp->home], owner, id, content, &e, &be)) < 0)
		goto free_seq;
	if (e == ENTRY_OTHER) {
		out->status = OUTCOME_CONFLICT;
		goto free_seq;
	}
	out->status = e == ENTRY_SAME ? OUTCOME_REPLAYED : OUTCOME_RECORDED;
	if (e == ENTRY_NONE) {
		uint8_t *b;
		size_t len;
		if ((rc = part_op(sp, sp->home, owner, id, content, true, &b, &len)) < 0 ||
		    (rc = node_publish(n, sp->home, b, len, deadline, &seq[sp->home])) < 0 ||
		    (rc = wait_entry(n->views[sp->home], seq[sp->home], owner, id, content, deadline, &e,
				     &be)) < 0)
			goto free_seq;
		if (e == ENTRY_OTHER) {
			out->status = OUTCOME_CONFLICT;
			goto free_seq;
		}
	}
	/* a replay publishes the other parts again: a first attempt whose node
	 * died after the home part left the rest unpublished (copies replay) */
	if ((rc = publish_rest(n, sp, owner, id, content, deadline, seq)) == 0)
		rc = gather(n, sp, owner, id, content, seq, deadline, out);
free_seq:
	free(seq);
	return rc;
}

int cluster_run_batch(cluster_node_t *n, const char *owner, const char *batch_id,
		      const uint8_t content[LEDGER_HASH_LEN], verify_input_t *items, size_t count,
		      outcome_t *out, char *why, size_t whylen)
{
	coord_split_t sp;
	int rc;

	if (count != out->n)
		return YIMA_EINVAL;
	if ((rc = coord_split(n, items, count, cluster_partition_of_batch(owner, batch_id, n->P), false, &sp,
			      why, whylen)) < 0)
		return rc;
	if ((rc = run(n, &sp, owner, batch_id, content, out)) == 0 && out->status != OUTCOME_CONFLICT)
		coord_finish(out, items);
	coord_split_free(&sp);
	return rc;
}
