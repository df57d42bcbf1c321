/*
 * coord.c - the coordinator's common steps (see coord.h): a write split
 * by partition with every input sealed, and its answer read back.
 */
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "yima/util/error.h"
#include "yima/verifier/claim.h"

void coord_split_free(coord_split_t *sp)
{
	for (size_t i = 0; sp->raw != NULL && i < sp->n; i++)
		buf_deinit(&sp->raw[i]);
	free(sp->raw);
	free(sp->part);
	free(sp->count);
	free(sp->msg);
	free(sp->time);
	memset(sp, 0, sizeof *sp);
}

static int seal(cluster_node_t *n, verify_input_t *items, coord_split_t *sp, bool claim)
{
	ledger_txn_t *txn;
	int rc = ledger_txn_begin(n->views[sp->home]->lg, false, &txn);

	if (rc < 0)
		return rc;
	rc = verify_inputs_seal(txn, items, sp->n, sp->raw);
	if (rc == 0 && claim)
		rc = claim_content(txn, items, sp->n, sp->content);
	ledger_txn_abort(txn);
	return rc;
}

int coord_split(cluster_node_t *n, verify_input_t *items, size_t count, unsigned home, bool claim,
		coord_split_t *sp, char *why, size_t whylen)
{
	int rc;

	memset(sp, 0, sizeof *sp);
	sp->n = count;
	sp->home = home;
	if ((sp->part = calloc(count ? count : 1, sizeof *sp->part)) == NULL ||
	    (sp->count = calloc(n->P, sizeof *sp->count)) == NULL ||
	    (sp->msg = calloc(count ? count : 1, sizeof *sp->msg)) == NULL ||
	    (sp->time = calloc(count ? count : 1, sizeof *sp->time)) == NULL ||
	    (sp->raw = calloc(count ? count : 1, sizeof *sp->raw)) == NULL) {
		coord_split_free(sp);
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		buf_init(&sp->raw[i]);
		sp->part[i] = items[i].status == 0
			? cluster_partition_of_code(items[i].code.canon, items[i].code.canon_len, n->P)
			: home;
		sp->count[sp->part[i]]++;
	}
	for (unsigned k = 0; k < n->P; k++)
		if ((sp->count[k] > 0 || k == home) && n->views[k] == NULL) {
			coord_split_free(sp);
			return yima_fail(why, whylen, YIMA_ENOTFOUND, "partition %u is not served by this node", k);
		}
	if ((rc = seal(n, items, sp, claim)) < 0) {
		coord_split_free(sp);
		return yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	}
	for (size_t i = 0; i < count; i++)
		envelope_input(&items[i], (uint32_t)i, &sp->msg[i], &sp->time[i]);
	return 0;
}

int coord_read_record(ledger_txn_t *txn, uint64_t seq, verify_result_t *r)
{
	ledger_event_t e;
	int rc = ledger_event_get(txn, seq, &e);

	if (rc < 0)
		return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
	r->seq = seq;
	r->verdict = e.verdict;
	r->findings = e.findings;
	memcpy(r->hash, e.hash, LEDGER_HASH_LEN);
	return 0;
}

void coord_finish(outcome_t *out, const verify_input_t *items)
{
	out->verdict = VERDICT_ACCEPT;
	out->first_seq = out->last_seq = 0;
	for (size_t i = 0; i < out->n; i++) {
		outcome_set_code(out, i, &items[i]);
		if (out->codes[i].r.verdict > out->verdict)
			out->verdict = out->codes[i].r.verdict;
		uint64_t s = out->codes[i].r.seq;
		if (s != 0 && (out->first_seq == 0 || s < out->first_seq))
			out->first_seq = s;
		if (s > out->last_seq) {
			out->last_seq = s;
			memcpy(out->head, out->codes[i].r.hash, LEDGER_HASH_LEN);
		}
	}
}
