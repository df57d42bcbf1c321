/*
 * server_cluster.c - yimad as a cluster node (--nats, docs/cluster.md):
 * write jobs go to a pool of worker threads instead of the writer thread;
 * each worker runs its job through the cluster (request_run_cluster():
 * published to the partition streams, answered from the views), blocking
 * while the streams and views work, and hands the answer back to the
 * network thread as the writer does.  Many jobs are in flight at once:
 * the publishers coalesce what they carry per partition.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"
#include "wire.h"
#include "yima/util/error.h"

struct cworkers {
	cluster_node_t *node;
	writer_deliver_fn *deliver;
	pthread_t *th;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job_t *head, *tail;
	bool stop;
};

static void job_answer(job_t *j, int status, const char *reason, const char *msg)
{
	buf_reset(&j->body);
	j->status = status;
	if (wire_pack_error((unsigned)status, reason, msg, &j->body) < 0)
		buf_reset(&j->body);
}

static void run(struct cworkers *w, job_t *j)
{
	request_result_t res;
	char why[256] = "";
	int rc = request_run_cluster(w->node, &j->request, &j->body, &res, why, sizeof why);

	if (rc == YIMA_EBUSY)
		job_answer(j, 503, "busy", "a code of this claim is held by another claim being decided: retry");
	else if (rc == YIMA_ENOTFOUND)
		job_answer(j, 503, "partition_elsewhere", why);
	else if (rc == YIMA_EUNAVAIL)
		job_answer(j, 503, "unavailable", "the cluster did not answer in time: retry (nothing is recorded twice)");
	else if (rc < 0)
		job_answer(j, 503, "ledger_error", why[0] ? why : yima_strerror(rc));
	else if (res.status == OUTCOME_CONFLICT)
		job_answer(j, 409, "conflict", j->request.kind == REQUEST_BATCH
			   ? "batch id already recorded with other content"
			   : "settlement id already accepted with other content");
	else {
		j->status = 200;
		memcpy(j->verdicts, res.verdicts, sizeof j->verdicts);
		memcpy(j->findings, res.findings, sizeof j->findings);
	}
}

static void *worker_main(void *arg)
{
	struct cworkers *w = arg;

	pthread_setname_np(pthread_self(), "yima-work");

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		job_t *j = w->head;
		if (j != NULL) {
			w->head = j->next;
			if (w->head == NULL)
				w->tail = NULL;
		}
		pthread_mutex_unlock(&w->mu);
		if (j == NULL)
			break;
		j->next = NULL;
		run(w, j);
		w->deliver(j);
	}
	return NULL;
}

static int cworkers_start(cluster_node_t *node, writer_deliver_fn *deliver, int n, struct cworkers **out)
{
	struct cworkers *w = calloc(1, sizeof *w);

	*out = NULL;
	if (w == NULL || (w->th = calloc((size_t)n, sizeof *w->th)) == NULL) {
		free(w);
		return YIMA_ENOMEM;
	}
	w->node = node;
	w->deliver = deliver;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	for (; w->n < n; w->n++)
		if (pthread_create(&w->th[w->n], NULL, worker_main, w) != 0)
			break;
	*out = w;
	return w->n > 0 ? 0 : YIMA_ENOMEM;
}

void cworkers_submit(struct cworkers *w, job_t *j)
{
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Finish every submitted job, then stop the workers. */
void cworkers_stop(struct cworkers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->n; i++)
		pthread_join(w->th[i], NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->th);
	free(w);
}

int server_cluster_setup(struct server *s, char *why, size_t whylen)
{
	cluster_opts_t co;
	int rc;

	cluster_opts_init(&co);
	co.db = s->o.db;
	co.nats = s->o.nats;
	co.partitions = s->o.partitions;
	co.serve = s->o.serve;
	co.quiet = false;
	if (s->o.cluster_name != NULL)
		co.name = s->o.cluster_name;
	if ((rc = cluster_node_start(&co, &s->node, why, whylen)) < 0)
		return rc;
	fprintf(stderr, "yimad: cluster \"%s\": catching up with the streams\n", co.name);
	fflush(stderr);
	while (!cluster_node_caught_up(s->node))
		usleep(20000);
	s->lg = NULL;
	return cworkers_start(s->node, s->deliver, s->o.cluster_workers, &s->cworkers) < 0
		? yima_fail(why, whylen, YIMA_ENOMEM, "cannot start the cluster workers") : 0;
}
