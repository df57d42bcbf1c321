/*
 * applier.c - one thread per served partition: reads the stream in order
 * and applies it to the view (docs/cluster.md, "Nodes and their views").
 *
 * An ordered consumer from applied + 1 and no consumer state on the
 * servers: the view's own sequence is the only cursor.  The rules the
 * 2.9 client needs (docs/cluster-findings.md, section 3): a sequence at
 * or below the applied one is a re-delivery and is skipped; a gap
 * re-creates the consumer at applied + 1; a consumer that has delivered
 * nothing for a second while the stream holds more is re-created too.
 * Messages that arrived together are applied in one transaction (group
 * commit: a view needs no flush per commit, the stream keeps what it
 * applied).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "yima/util/error.h"

#define APPLY_BATCH 256		/* messages per transaction at most */
#define SYNC_EVERY_S 5.0	/* flush the view now and then (bounded replay) */

struct applier_state {
	view_t *v;
	char stream[96], subject[96];
	double progress;	/* last apply or re-creation */
	double synced;
};

static void sub_close(view_t *v)
{
	if (v->sub != NULL) {
		natsSubscription_Unsubscribe(v->sub);
		natsSubscription_Destroy(v->sub);
		v->sub = NULL;
	}
}

static void sub_open(struct applier_state *a)
{
	view_t *v = a->v;
	jsSubOptions so;
	natsStatus s;

	sub_close(v);
	while (!atomic_load(&v->node->stop)) {
		jsSubOptions_Init(&so);
		so.Stream = a->stream;
		so.Ordered = true;
		so.Config.DeliverPolicy = js_DeliverByStartSequence;
		so.Config.OptStartSeq = view_applied(v) + 1;
		if ((s = js_SubscribeSync(&v->sub, v->node->nats.js, a->subject, NULL, &so, NULL)) == NATS_OK)
			break;
		v->sub = NULL;
		nats_Sleep(200);
	}
	a->progress = cluster_now();
}

static uint64_t msg_seq(natsMsg *m)
{
	jsMsgMetaData *md = NULL;
	uint64_t seq = 0;

	if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
		seq = md->Sequence.Stream;
		jsMsgMetaData_Destroy(md);
	}
	return seq;
}

/* Apply the messages in one transaction.  Returns the count applied, or
 * -1 after a gap (re-create), -2 after a failure (state reloaded). */
static int apply_batch(struct applier_state *a, natsMsg **m, int n)
{
	view_t *v = a->v;
	ledger_txn_t *txn;
	uint64_t applied = view_applied(v), last = applied;
	int rc, done = 0, gap = 0;
	char why[256];

	if ((rc = ledger_txn_begin(v->lg, true, &txn)) < 0)
		goto failed;
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t seq = msg_seq(m[i]);
		if (seq <= last)
			continue;	/* re-delivered */
		if (seq != last + 1) {
			gap = 1;
			break;
		}
		rc = view_apply_message(v, txn, seq, natsMsg_GetData(m[i]), (size_t)natsMsg_GetDataLength(m[i]));
		last = seq;
		done++;
	}
	if (rc == 0 && done == 0) {
		ledger_txn_abort(txn);
		return gap ? -1 : 0;
	}
	if (rc < 0 || (rc = ledger_txn_commit(txn)) < 0) {
		if (rc < 0)
			ledger_txn_abort(txn);
		goto failed;
	}
	pthread_mutex_lock(&v->mu);
	v->applied = last;
	v->msgs += (uint64_t)done;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	a->progress = cluster_now();
	return gap ? -1 : done;
failed:
	cluster_log(v->node->o.quiet, "p%u: applying after %llu failed: %s; reloading", v->k,
		    (unsigned long long)applied, yima_strerror(rc));
	if (view_state_load(v, why, sizeof why) < 0)
		cluster_log(v->node->o.quiet, "%s", why);
	nats_Sleep(500);
	return -2;
}

/* No message for a while: if the stream holds more, the consumer stalled. */
static void check_stalled(struct applier_state *a)
{
	uint64_t last;

	if (cluster_now() - a->progress < 1.0)
		return;
	if (cnats_last_seq(&a->v->node->nats, a->v->k, &last) == 0 && last > view_applied(a->v))
		sub_open(a);
	else
		a->progress = cluster_now();
}

static void step(struct applier_state *a)
{
	view_t *v = a->v;
	natsMsg *m[APPLY_BATCH];
	int n = 0, pending = 0;
	natsStatus s = natsSubscription_NextMsg(&m[0], v->sub, 100);

	if (s == NATS_TIMEOUT) {
		check_stalled(a);
		return;
	}
	if (s != NATS_OK) {
		sub_open(a);
		return;
	}
	n = 1;
	/* what arrived meanwhile goes in the same transaction */
	while (n < APPLY_BATCH && natsSubscription_GetPending(v->sub, &pending, NULL) == NATS_OK &&
	       pending > 0 && natsSubscription_NextMsg(&m[n], v->sub, 1) == NATS_OK)
		n++;
	int r = apply_batch(a, m, n);
	for (int i = 0; i < n; i++)
		natsMsg_Destroy(m[i]);
	if (r < 0)
		sub_open(a);
	if (cluster_now() - a->synced > SYNC_EVERY_S) {
		ledger_sync(v->lg);
		a->synced = cluster_now();
	}
}

static void *applier_main(void *arg)
{
	struct applier_state a;

	pthread_setname_np(pthread_self(), "yima-apply");

	memset(&a, 0, sizeof a);
	a.v = arg;
	cnats_stream(&a.v->node->nats, a.v->k, a.stream, sizeof a.stream);
	cnats_subject(&a.v->node->nats, a.v->k, a.subject, sizeof a.subject);
	a.synced = cluster_now();
	sub_open(&a);
	while (!atomic_load(&a.v->node->stop) && a.v->sub != NULL)
		step(&a);
	sub_close(a.v);
	nats_ReleaseThreadMemory();
	return NULL;
}

int applier_start(view_t *v)
{
	if (pthread_create(&v->thread, NULL, applier_main, v) != 0)
		return YIMA_ENOMEM;
	v->started = true;
	return 0;
}

void applier_stop(view_t *v)
{
	if (v == NULL || !v->started)
		return;
	pthread_join(v->thread, NULL);	/* node->stop is set: it leaves within 0.1 s */
	v->started = false;
}
