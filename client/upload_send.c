/*
 * upload_send.c - the sender side of `yima upload` (see yima/upload.h):
 * spooled batches to POST /v1/events, oldest first, each deleted from the
 * spool once its receipt is in; retries with backoff on failures that may
 * pass (docs/protocol.md: 408, 429 and 5xx are retryable, other 4xx are
 * final).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "upload_int.h"
#include "yima/util/error.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

uint64_t upload_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

enum sent { SENT, RETRY, REFUSED, FORKED };

/* "batch ID (rows A-B of SOURCE)" for messages. */
static void batch_name(const spool_entry_t *e, char *buf, size_t n)
{
	uint64_t last = e->meta.first_line + (e->meta.events ? e->meta.events - 1 : 0);
	snprintf(buf, n, "batch %.*s (rows %" PRIu64 "-%" PRIu64 " of %.*s)",
		 (int)e->meta.batch_id.n, e->meta.batch_id.p, e->meta.first_line, last,
		 (int)e->meta.source.n, e->meta.source.p);
}

/* The receipt's checkpoint against the log as this client saw it before
 * (client/logcheck.c), and its indexes within it.  Returns 0 (go on), or
 * with *how RETRY (the proof could not be fetched) or FORKED (the log is
 * not what it was: nothing more goes to that server). */
static int check_log(struct upload_run *r, const char *name, const Yima__V1__BatchReceipt *br,
		     enum sent *how)
{
	checkpoint_t cp;
	char msg[1024];
	int rc;

	if (r->o->log == NULL)
		return 0;
	rc = logcheck_note(r->o->log, r->cl, br->checkpoint, strlen(br->checkpoint), &cp, msg, sizeof msg);
	for (size_t i = 0; rc == 0 && i < br->n_verdicts; i++)
		if (br->verdicts[i]->index >= cp.size)
			rc = yima_fail(msg, sizeof msg, YIMA_EMISMATCH, "event %zu's index %" PRIu64
				       " is past the checkpoint's %" PRIu64 " entries", i + 1,
				       br->verdicts[i]->index, cp.size);
	if (rc == YIMA_ENOTFOUND)	/* a server without a log, never seen with one */
		return 0;
	if (rc == YIMA_EIO || rc == YIMA_EMISMATCH) {
		snprintf(r->st->problem, sizeof r->st->problem, "%.200s: %.560s", name, msg);
		*how = rc == YIMA_EIO ? RETRY : FORKED;
		return 0;
	}
	return rc < 0 ? yima_fail(r->why, r->whylen, rc, "%s: %s", name, msg) : 0;
}

/* A 200 answer: check it is this batch's receipt, and the log's
 * checkpoint it carries; print and count its verdicts, then let the batch
 * go. */
static int take_receipt(struct upload_run *r, const spool_entry_t *e, const client_reply_t *rep,
			enum sent *how)
{
	char name[400];
	Yima__V1__BatchReceipt *br = yima__v1__batch_receipt__unpack(NULL, rep->len, rep->body);
	int rc = 0;

	batch_name(e, name, sizeof name);
	if (br == NULL)
		return yima_fail(r->why, r->whylen, YIMA_EFORMAT,
				 "%s: the server's receipt does not decode", name);
	if (!yima_slice_eq_cstr(e->meta.batch_id, br->batch_id) ||
	    br->n_verdicts != e->meta.events || !receipt_verdicts_ok(br->verdicts, br->n_verdicts)) {
		rc = yima_fail(r->why, r->whylen, YIMA_EFORMAT,
			       "%s: the server's receipt does not match the batch (%zu verdicts for %" PRIu64 " events)",
			       name, br->n_verdicts, e->meta.events);
		goto free_receipt;
	}
	if ((rc = check_log(r, name, br, how)) < 0 || *how != SENT)
		goto free_receipt;
	/* --out first, the spool after: a crash between the two prints the
	 * batch again next time rather than never */
	if (r->o->out != NULL) {
		buf_reset(&r->json);
		for (size_t i = 0; i < br->n_verdicts; i++)
			receipt_event_json(&r->json, e->meta.first_line + i, br->verdicts[i]);
		if (r->json.oom) {
			rc = yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
			goto free_receipt;
		}
		if ((r->json.len > 0 && fwrite(r->json.p, 1, r->json.len, r->o->out) != r->json.len) ||
		    fflush(r->o->out) != 0) {
			rc = yima_fail(r->why, r->whylen, YIMA_EIO, "--out: %s", strerror(errno));
			goto free_receipt;
		}
	}
	if ((rc = spool_delete(r->sp, e->key)) < 0) {
		rc = yima_fail(r->why, r->whylen, rc, "spool: cannot delete the delivered %s: %s",
			       name, yima_strerror(rc));
		goto free_receipt;
	}
	for (size_t i = 0; i < br->n_verdicts; i++)
		receipt_count(&r->st->counts, br->verdicts[i]);
	r->st->sent++;
	if (br->receipt != NULL && br->receipt->replayed)
		r->st->replayed++;
	r->prog.batches++;
	r->prog.events += br->n_verdicts;
free_receipt:
	yima__v1__batch_receipt__free_unpacked(br, NULL);
	return rc;
}

static int send_one(struct upload_run *r, const spool_entry_t *e, enum sent *how)
{
	client_reply_t rep;
	char msg[512], name[400];
	int rc = client_request(r->cl, "POST", "/v1/events", e->body, e->body_len, &rep,
				msg, sizeof msg);

	if (rc == YIMA_EIO) {
		snprintf(r->st->problem, sizeof r->st->problem, "%s", msg);
		*how = RETRY;
		return 0;
	}
	if (rc < 0)
		return yima_fail(r->why, r->whylen, rc, "%s", msg);
	if (rep.status == 200) {
		*how = SENT;
		rc = take_receipt(r, e, &rep, how);
	} else {
		client_reply_error(&rep, msg, sizeof msg);
		batch_name(e, name, sizeof name);
		snprintf(r->st->problem, sizeof r->st->problem, "%.360s: %.400s", name, msg);
		*how = client_status_retryable(rep.status) ? RETRY : REFUSED;
	}
	client_reply_deinit(&rep);
	return rc;
}

/* Sleep up to ms, less if a signal comes (the caller looks at stop). */
static void nap(uint64_t ms)
{
	if (poll(NULL, 0, ms > 60000 ? 60000 : (int)ms) < 0 && errno != EINTR)
		return;
}

static void stop_sending(struct upload_run *r, upload_outcome_t why)
{
	r->sending_stopped = true;
	r->st->outcome = why;
}

/* After a failure that may pass: back off, or give up once retry_for has
 * gone by since the first failure in a row. */
static void backoff(struct upload_run *r)
{
	uint64_t now = upload_now_ms();

	if (r->fail_since == 0) {
		r->fail_since = now;
		r->delay = BACKOFF_FIRST_MS;
	} else {
		r->delay = r->delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->delay * 2;
	}
	if (now - r->fail_since >= r->o->retry_for_ms) {
		stop_sending(r, UPLOAD_GAVE_UP);
		return;
	}
	r->retry_at = now + r->delay;
}

int upload_send(struct upload_run *r, bool wait)
{
	spool_entry_t e;
	enum sent how;
	int rc;

	while (!r->sending_stopped) {
		if (upload_stop_asked(r)) {
			stop_sending(r, UPLOAD_INTERRUPTED);
			break;
		}
		uint64_t now = upload_now_ms();
		if (r->retry_at > now) {
			if (!wait)
				return 0;
			nap(r->retry_at - now);
			continue;
		}
		if ((rc = spool_next(r->sp, 0, &e, &r->storage)) < 0)
			return yima_fail(r->why, r->whylen, rc, "spool: %s", yima_strerror(rc));
		if (rc == 0)
			return 0;
		if ((rc = send_one(r, &e, &how)) < 0)
			return rc;
		switch (how) {
		case SENT:
			r->fail_since = r->retry_at = 0;
			r->st->problem[0] = '\0';
			break;
		case RETRY:
			backoff(r);
			break;
		case REFUSED:
			stop_sending(r, UPLOAD_REFUSED);
			break;
		case FORKED:
			stop_sending(r, UPLOAD_LOG_FORKED);
			break;
		}
		if (r->o->progress != NULL)
			r->o->progress(r->o->progress_arg, &r->prog);
	}
	return 0;
}
