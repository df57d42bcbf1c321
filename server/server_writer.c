/*
 * server_writer.c - yimad's writer thread: group commit.
 *
 * Every write request (an event batch, a claim that is not a dry run)
 * becomes a job.  The thread takes all jobs waiting, applies them in
 * arrival order in one LMDB write transaction and commits once, so one
 * fsync serves as many requests as arrived during the previous commit;
 * answers are packed inside the transaction and released to the network
 * thread only once the commit is on disk (see writer_main: a commit is
 * flushed with the next one), so nothing is acknowledged that is not.  A job that fails for a reason of its own (out of
 * memory) is answered with an error and the group is redone without it,
 * so no partial job is ever committed.
 */
#include <stdlib.h>
#include <string.h>

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
	uint64_t commits, jobs;
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
	/* the group's checkpoint (signed once) and proofs, into the answers */
	for (j = list; j != NULL; j = j->next) {
		if (j->left_out || j->status != 200)
			continue;
		if ((rc = request_seal(txn, &j->request, &j->result, &j->body)) < 0) {
			ledger_txn_abort(txn);
			*err = rc;
			return NULL;
		}
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
static void release(writer_t *w, job_t *list, bool committed)
{
	job_t *j, *next;

	if (list == NULL)
		return;
	if (committed) {
		pthread_mutex_lock(&w->mu);
		w->commits++;
		for (j = list; j != NULL; j = j->next)
			w->jobs++;
		pthread_mutex_unlock(&w->mu);
	}
	for (j = list; j != NULL; j = next) {
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

/*
 * The ledger flushes once per commit (LEDGER_SMALL_COMMITS): a group's
 * commit makes the group before it durable.  So a group is answered when
 * the next group's commit returns, or, when no more work is waiting, after
 * an explicit sync: commits overlap with the flush of their predecessor
 * instead of paying two flushes each.
 */
static void *writer_main(void *arg)
{
	writer_t *w = arg;
	job_t *list, *held = NULL;
	bool held_ok = false;
	int rc;

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
			/* Nothing new: make the held group durable now. */
			if (held_ok && (rc = ledger_sync(w->lg)) < 0) {
				fail_all(held, rc);
				held_ok = false;
			}
			release(w, held, held_ok);
			held = NULL;
			continue;
		}
		bool ok = run_group(w, list);
		/* This commit flushed the held group's meta page too. */
		release(w, held, held_ok);
		held = list;
		held_ok = ok;
	}
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
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		goto destroy_cv;
	*out = w;
	return 0;
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

void writer_counts(writer_t *w, uint64_t *commits, uint64_t *jobs)
{
	pthread_mutex_lock(&w->mu);
	*commits = w->commits;
	*jobs = w->jobs;
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
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
