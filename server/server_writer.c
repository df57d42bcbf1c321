/*
 * server_writer.c - yimad's writer thread: group commit.
 *
 * Every write request (an event batch, a claim that is not a dry run)
 * becomes a job.  The thread takes all jobs waiting, applies them in
 * arrival order in one LMDB write transaction and commits once, so one
 * fsync serves as many requests as arrived during the previous commit;
 * answers are packed inside the transaction and released to the network
 * thread only once the commit is on disk (see writer_main and
 * flusher_main), so nothing is acknowledged that is not.  A job that fails for a reason of its own (out
 * of memory) is answered with an error and the group is redone without
 * it, so no partial job is ever committed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"
#include "yima/verifier/claim.h"
#include "yima/util/error.h"
#include "wire.h"

struct writer {
	ledger_t *lg;
	writer_deliver_fn *deliver;	/* hands an answered job to its thread */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job_t *in_head, *in_tail;
	bool stop;
	uint64_t commits, jobs, syncs;
	/* running means (seconds) of a group's apply and commit, and of a
	 * meta page flush: see writer_main */
	double group_s, sync_s;
	/* the flusher: committed groups waiting for their meta page flush */
	pthread_t flusher;
	pthread_cond_t fcv;
	job_t *fq_head, *fq_tail;
	uint64_t fq_groups;		/* groups in it */
	uint64_t fq_last;		/* the number of the last commit in it */
	uint64_t committed;		/* commits made, numbered from 1 */
	uint64_t durable;		/* every commit up to this one is on disk */
	bool fstop;
};

void job_free(job_t *j)
{
	if (j == NULL)
		return;
	request_free(&j->request);
	buf_deinit(&j->body);
	free(j);
}

static void job_reset(job_t *j)
{
	buf_reset(&j->body);
	j->status = 0;
	memset(j->verdicts, 0, sizeof j->verdicts);
	memset(j->findings, 0, sizeof j->findings);
}

static void job_error(job_t *j, int status, const char *reason, const char *msg)
{
	job_reset(j);
	j->status = status;
	if (wire_pack_error((unsigned)status, reason, msg, &j->body) < 0)
		buf_reset(&j->body);
}

/* One job inside the group's transaction: its answer, or 409, packed. */
static int run_job(ledger_txn_t *txn, job_t *j)
{
	request_result_t ans;
	int rc;

	job_reset(j);
	rc = request_run(txn, &j->request, &j->body, &ans);
	if (rc < 0)
		return rc;
	if (ans.status == OUTCOME_CONFLICT) {
		job_error(j, 409, "conflict", j->request.kind == REQUEST_BATCH
			  ? "batch id already recorded with other content"
			  : "settlement id already accepted with other content");
		return 0;
	}
	j->status = 200;
	j->result = ans;
	memcpy(j->verdicts, ans.verdicts, sizeof j->verdicts);
	memcpy(j->findings, ans.findings, sizeof j->findings);
	return 0;
}

/* The group's checkpoint (signed once) and proofs, into the answers of
 * the jobs that were recorded; nothing is signed for a group without one. */
static int seal_group(ledger_txn_t *txn, job_t *list)
{
	request_seal_t seal = { NULL, 0 };
	int rc = 0;

	for (job_t *j = list; j != NULL && rc == 0; j = j->next) {
		if (j->left_out || j->status != 200)
			continue;
		if (seal.checkpoint == NULL && (rc = request_seal_begin(txn, &seal)) < 0)
			break;
		rc = request_seal(txn, &seal, &j->request, &j->result, &j->body);
	}
	request_seal_end(&seal);
	return rc;
}

/* Apply the group in one transaction.  Returns 0 (every job answered), or
 * the first job that failed on its own (to be answered and left out). */
static job_t *run_group_once(writer_t *w, job_t *list, int *err)
{
	ledger_txn_t *txn;
	job_t *j;
	int rc;

	*err = 0;
	if ((rc = ledger_txn_begin(w->lg, true, &txn)) < 0) {
		*err = rc;
		return NULL;
	}
	for (j = list; j != NULL; j = j->next) {
		if (j->left_out)
			continue;	/* failed on its own in an earlier attempt */
		if ((rc = run_job(txn, j)) < 0) {
			ledger_txn_abort(txn);
			if (rc == YIMA_ENOMEM || rc == YIMA_EINVAL || rc == YIMA_ETOOBIG) {
				job_error(j, 500, "internal", yima_strerror(rc));
				j->left_out = true;
				return j;
			}
			*err = rc;
			return NULL;
		}
	}
	if ((rc = seal_group(txn, list)) < 0) {
		ledger_txn_abort(txn);
		*err = rc;
		return NULL;
	}
	if ((rc = ledger_txn_commit(txn)) < 0)
		*err = rc;
	return NULL;
}

/* Returns true when the group was committed. */
static bool run_group(writer_t *w, job_t *list)
{
	job_t *failed;
	int err;

	while ((failed = run_group_once(w, list, &err)) != NULL)
		;
	if (err < 0) {
		/* The ledger itself failed (disk full, I/O): nothing of the
		 * group was committed; every job is told to retry. */
		for (job_t *j = list; j != NULL; j = j->next)
			job_error(j, 503, "ledger_error", yima_strerror(err));
		return false;
	}
	return true;
}

/* Hand answered jobs to the network threads that own them. */
static void release(writer_t *w, job_t *list)
{
	job_t *next;

	for (job_t *j = list; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		w->deliver(j);
	}
}

static void fail_all(job_t *list, int err)
{
	for (job_t *j = list; j != NULL; j = j->next)
		job_error(j, 503, "ledger_error", yima_strerror(err));
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An exponentially weighted mean: recent groups count most. */
static void ewma(double *mean, double x)
{
	*mean = *mean == 0 ? x : 0.8 * *mean + 0.2 * x;
}

/* Give committed groups to the flusher. */
static void to_flusher(writer_t *w, job_t *list, uint64_t groups)
{
	job_t *tail = list;

	if (list == NULL)
		return;
	while (tail->next != NULL)
		tail = tail->next;
	pthread_mutex_lock(&w->mu);
	if (w->fq_tail != NULL)
		w->fq_tail->next = list;
	else
		w->fq_head = list;
	w->fq_tail = tail;
	w->fq_groups += groups;
	w->fq_last = w->committed;
	pthread_cond_signal(&w->fcv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * The flusher thread: one ledger_sync() (fdatasync) for every committed
 * group waiting, then their answers.  It runs beside the writer, so a
 * flush overlaps the next group's work instead of delaying it; groups
 * committed while a flush runs share the next one.  A group a later
 * commit has already made durable needs none.
 */
static void *flusher_main(void *arg)
{
	writer_t *w = arg;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->fq_head == NULL && !w->fstop)
			pthread_cond_wait(&w->fcv, &w->mu);
		job_t *list = w->fq_head;
		uint64_t last = w->fq_last, groups = w->fq_groups;
		bool durable = w->durable >= last;
		w->fq_head = w->fq_tail = NULL;
		w->fq_groups = 0;
		pthread_mutex_unlock(&w->mu);
		if (list == NULL)
			break;	/* stopping, and nothing waits */
		if (!durable) {
			double t0 = mono();
			int rc = ledger_sync(w->lg);
			pthread_mutex_lock(&w->mu);
			ewma(&w->sync_s, mono() - t0);
			if (rc >= 0 && w->durable < last)
				w->durable = last;
			w->syncs += rc >= 0 ? groups : 0;
			pthread_mutex_unlock(&w->mu);
			if (rc < 0)
				fail_all(list, rc);
		}
		release(w, list);
	}
	return NULL;
}

/* A group was committed: count it; every earlier commit is on disk now
 * (this commit's flush came after their meta pages were written). */
static void committed(writer_t *w, job_t *list, double seconds)
{
	pthread_mutex_lock(&w->mu);
	ewma(&w->group_s, seconds);
	w->commits++;
	for (job_t *j = list; j != NULL; j = j->next)
		w->jobs++;
	if (w->durable < w->committed)
		w->durable = w->committed;
	w->committed++;
	pthread_mutex_unlock(&w->mu);
}

/* Whether a group's meta page should be flushed at once: when that costs
 * less than half a group, or nothing else waits (no next commit soon). */
static bool flush_now(writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	bool now = 2 * w->sync_s < w->group_s || w->in_head == NULL;
	pthread_mutex_unlock(&w->mu);
	return now;
}

/*
 * The ledger does not flush a commit's meta page (LEDGER_SMALL_COMMITS,
 * MDB_NOMETASYNC): a commit is durable once the next commit's flush or an
 * explicit ledger_sync() has run.  Holding a group's answers for the next
 * commit saves a flush but makes its clients wait a whole group longer;
 * flushing at once costs a flush (issue 14: fdatasync 0.2 ms against a
 * 1.6 ms commit cycle here, and answering after the group's own flush
 * gave +20% claims/s).  So a committed group goes to the flusher thread
 * (which flushes while the writer goes on with the next group) when a
 * flush takes less than half a group, as measured while running, or when
 * nothing else waits; on a disk whose flush costs about a whole commit,
 * it rides on the next commit as before.  Either way no answer leaves
 * before its group is on disk.
 */
static void *writer_main(void *arg)
{
	writer_t *w = arg;
	job_t *list, *held = NULL;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->in_head == NULL && !w->stop && held == NULL)
			pthread_cond_wait(&w->cv, &w->mu);
		list = w->in_head;
		w->in_head = w->in_tail = NULL;
		bool stop = w->stop;
		pthread_mutex_unlock(&w->mu);

		if (list == NULL && held == NULL && stop)
			break;
		if (list == NULL) {
			/* Nothing new: the held group is flushed now. */
			to_flusher(w, held, 1);
			held = NULL;
			continue;
		}
		double t0 = mono();
		if (!run_group(w, list)) {
			release(w, list);	/* 503s: nothing was committed */
			continue;
		}
		committed(w, list, mono() - t0);
		release(w, held);	/* this commit flushed its meta page */
		held = NULL;
		if (flush_now(w))
			to_flusher(w, list, 1);
		else
			held = list;
	}
	pthread_mutex_lock(&w->mu);
	w->fstop = true;
	pthread_cond_signal(&w->fcv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int writer_start(ledger_t *lg, writer_deliver_fn *deliver, writer_t **out)
{
	writer_t *w = calloc(1, sizeof *w);

	*out = NULL;
	if (w == NULL)
		return YIMA_ENOMEM;
	w->lg = lg;
	w->deliver = deliver;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		goto free_w;
	if (pthread_cond_init(&w->cv, NULL) != 0)
		goto destroy_mu;
	if (pthread_cond_init(&w->fcv, NULL) != 0)
		goto destroy_cv;
	if (pthread_create(&w->flusher, NULL, flusher_main, w) != 0)
		goto destroy_fcv;
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		goto stop_flusher;
	*out = w;
	return 0;
stop_flusher:
	pthread_mutex_lock(&w->mu);
	w->fstop = true;
	pthread_cond_signal(&w->fcv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->flusher, NULL);
destroy_fcv:
	pthread_cond_destroy(&w->fcv);
destroy_cv:
	pthread_cond_destroy(&w->cv);
destroy_mu:
	pthread_mutex_destroy(&w->mu);
free_w:
	free(w);
	return YIMA_ENOMEM;
}

void writer_submit(writer_t *w, job_t *j)
{
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->in_tail != NULL)
		w->in_tail->next = j;
	else
		w->in_head = j;
	w->in_tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void writer_counts(writer_t *w, server_metrics_t *m)
{
	pthread_mutex_lock(&w->mu);
	m->commits = w->commits;
	m->committed_jobs = w->jobs;
	m->commit_syncs = w->syncs;
	m->group_s = w->group_s;
	m->flush_s = w->sync_s;
	pthread_mutex_unlock(&w->mu);
}

void writer_stop(writer_t *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);	/* it stops the flusher when done */
	pthread_join(w->flusher, NULL);
	pthread_cond_destroy(&w->fcv);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
