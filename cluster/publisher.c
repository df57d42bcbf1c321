/*
 * publisher.c - one thread per partition that publishes this node's
 * operations for it (docs/cluster.md, "Messages").
 *
 * Group publishing, as yimad groups commits: while a message is in
 * flight, everything submitted meanwhile waits, and goes out together in
 * the next message (up to the servers' max_payload).  A node keeps two
 * messages in flight per partition (two threads take from one queue): an
 * operation that arrives just after a message left need not wait for its
 * whole round trip; `yima`'s admin publisher keeps one, so the rows of a
 * catalog stay in file order.  At R=3 a 2-core box
 * saturates at 20-44 k messages a second (docs/cluster-findings.md), so
 * one message per event or per claim would not scale; one message in
 * flight per partition and node lets the batch grow with the load.
 *
 * A message's id is <node id>-<partition>-<n>, the node id holding a
 * random part drawn at start, so an id is never reused by a restarted
 * node inside the 2-minute duplicate window; a publish that fails is
 * retried with the same id, so one that was stored but not acknowledged is
 * stored once.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

struct publisher {
	cnats_t *nats;
	unsigned k;
	char subject[96];
	char node_id[80];
	bool quiet;
	int nthreads;		/* messages in flight at once */
	pthread_t thread[PUBLISHER_THREADS_MAX];
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* work arrived / stop */
	pthread_cond_t done;	/* an op was acknowledged */
	pub_op_t *head, *tail;
	bool stop;
	uint64_t n;		/* messages published */
	uint64_t ops;
};

pub_op_t *pub_op_new(uint8_t *bytes, size_t len)
{
	pub_op_t *op = calloc(1, sizeof *op);
	if (op == NULL) {
		free(bytes);
		return NULL;
	}
	op->bytes = bytes;
	op->len = len;
	return op;
}

void pub_op_free(pub_op_t *op)
{
	if (op == NULL)
		return;
	free(op->bytes);
	free(op);
}

/* Take what waits, up to one message's worth (at least one op). */
static pub_op_t *take(publisher_t *p, size_t limit)
{
	pub_op_t *first = p->head, *last = first;
	size_t total = first->len + 16;

	while (last->next != NULL && total + last->next->len + 16 <= limit) {
		last = last->next;
		total += last->len + 16;
	}
	p->head = last->next;
	if (p->head == NULL)
		p->tail = NULL;
	last->next = NULL;
	return first;
}

/* Publish one message until it is acknowledged or the node stops;
 * returns its stream sequence, 0 when stopping. */
static uint64_t publish(publisher_t *p, const buf_t *msg, const char *id)
{
	unsigned backoff = 5;

	for (;;) {
		jsPubOptions po;
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.MaxWait = 2000;
		natsStatus s = js_Publish(&pa, p->nats->js, p->subject, msg->p, (int)msg->len, &po, &jerr);
		if (s == NATS_OK) {
			uint64_t seq = pa->Sequence;
			jsPubAck_Destroy(pa);
			return seq;
		}
		pthread_mutex_lock(&p->mu);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			return 0;
		if (backoff == 5 || backoff >= 500)
			cluster_log(p->quiet, "p%u: publish %s: %s (jerr %d), retrying", p->k, id,
				    natsStatus_GetText(s), (int)jerr);
		nats_Sleep(backoff);
		backoff = backoff < 500 ? backoff * 2 : 500;
	}
}

static void finish(publisher_t *p, pub_op_t *list, uint64_t seq, int err)
{
	pub_op_t *next;

	pthread_mutex_lock(&p->mu);
	for (pub_op_t *op = list; op != NULL; op = next) {
		next = op->next;
		op->next = NULL;
		op->seq = seq;
		op->err = err;
		op->done = true;
		if (op->abandoned)
			pub_op_free(op);
	}
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
}

static void *publisher_main(void *arg)
{
	publisher_t *p = arg;
	buf_t msg;
	char id[128];
	size_t limit = p->nats->max_payload > 0 ? (size_t)p->nats->max_payload : (size_t)1 << 20;

	pthread_setname_np(pthread_self(), "yima-pub");

	buf_init(&msg);
	limit = limit > CLUSTER_ENVELOPE_SLACK ? limit - CLUSTER_ENVELOPE_SLACK : limit;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pub_op_t *list = take(p, limit);
		uint64_t n = ++p->n;
		pthread_mutex_unlock(&p->mu);

		int err = envelope_header(p->node_id, p->k, &msg);
		size_t count = 0;
		for (pub_op_t *op = list; op != NULL && err == 0; op = op->next, count++)
			envelope_append_op(&msg, op->bytes, op->len);
		if (err == 0 && msg.oom)
			err = YIMA_ENOMEM;
		if (err == 0 && msg.len > limit + CLUSTER_ENVELOPE_SLACK / 2)
			err = YIMA_ETOOBIG;	/* one op over the servers' max_payload */
		uint64_t seq = 0;
		if (err == 0) {
			snprintf(id, sizeof id, "%s-%u-%llu", p->node_id, p->k, (unsigned long long)n);
			if ((seq = publish(p, &msg, id)) == 0)
				err = YIMA_EUNAVAIL;
		}
		pthread_mutex_lock(&p->mu);
		p->ops += count;
		pthread_mutex_unlock(&p->mu);
		finish(p, list, seq, err);
	}
	buf_deinit(&msg);
	nats_ReleaseThreadMemory();
	return NULL;
}

/* Stop and join the first n threads. */
static void publisher_join(publisher_t *p, int n)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < n; i++)
		pthread_join(p->thread[i], NULL);
}

int publisher_start(cnats_t *c, unsigned k, const char *node_id, bool quiet, int nthreads,
		    publisher_t **out)
{
	publisher_t *p = calloc(1, sizeof *p);

	*out = NULL;
	if (p == NULL)
		return YIMA_ENOMEM;
	p->nats = c;
	p->k = k;
	p->quiet = quiet;
	cnats_subject(c, k, p->subject, sizeof p->subject);
	snprintf(p->node_id, sizeof p->node_id, "%s", node_id);
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto free_p;
	if (pthread_cond_init(&p->cv, NULL) != 0)
		goto destroy_mu;
	if (pthread_cond_init(&p->done, NULL) != 0)
		goto destroy_cv;
	p->nthreads = nthreads < 1 ? 1 : nthreads > PUBLISHER_THREADS_MAX ? PUBLISHER_THREADS_MAX : nthreads;
	for (int i = 0; i < p->nthreads; i++)
		if (pthread_create(&p->thread[i], NULL, publisher_main, p) != 0) {
			publisher_join(p, i);
			goto destroy_done;
		}
	*out = p;
	return 0;
destroy_done:
	pthread_cond_destroy(&p->done);
destroy_cv:
	pthread_cond_destroy(&p->cv);
destroy_mu:
	pthread_mutex_destroy(&p->mu);
free_p:
	free(p);
	return YIMA_ENOMEM;
}

void publisher_submit(publisher_t *p, pub_op_t *op)
{
	op->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->stop) {
		op->done = true;
		op->err = YIMA_EUNAVAIL;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	if (p->tail != NULL)
		p->tail->next = op;
	else
		p->head = op;
	p->tail = op;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static struct timespec abs_deadline(double deadline)
{
	struct timespec ts;
	double left = deadline - cluster_now();

	clock_gettime(CLOCK_REALTIME, &ts);
	if (left < 0)
		left = 0;
	ts.tv_sec += (time_t)left;
	ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int publisher_wait(publisher_t *p, pub_op_t *op, double deadline)
{
	struct timespec ts = abs_deadline(deadline);
	int rc;

	pthread_mutex_lock(&p->mu);
	while (!op->done && cluster_now() < deadline)
		pthread_cond_timedwait(&p->done, &p->mu, &ts);
	if (!op->done) {
		op->abandoned = true;	/* the publisher frees it */
		pthread_mutex_unlock(&p->mu);
		return YIMA_EUNAVAIL;
	}
	rc = op->err;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void publisher_counts(publisher_t *p, uint64_t *msgs, uint64_t *ops)
{
	pthread_mutex_lock(&p->mu);
	*msgs = p->n;
	*ops = p->ops;
	pthread_mutex_unlock(&p->mu);
}

void publisher_stop(publisher_t *p)
{
	pub_op_t *op, *next;

	if (p == NULL)
		return;
	publisher_join(p, p->nthreads);
	/* ops never sent: their waiters are told, or they are freed */
	for (op = p->head; op != NULL; op = next) {
		next = op->next;
		op->done = true;
		op->err = YIMA_EUNAVAIL;
		if (op->abandoned)
			pub_op_free(op);
	}
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
