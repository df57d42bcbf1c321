/*
 * upload_int.h - the state of one `yima upload` run, shared by the reader
 * side (upload.c: rows to spooled batches) and the sender side
 * (upload_send.c: spooled batches to yimad, with retries).
 */
#ifndef YIMA_UPLOAD_INT_H
#define YIMA_UPLOAD_INT_H

#include <stdint.h>

#include "yima/util/buf.h"
#include "yima/core/event.h"
#include "yima/client/upload.h"

/* A row waiting in the batch being filled: its fields are NUL-terminated
 * strings at off[] in the run's text arena, or it is raw. */
struct upload_row {
	uint64_t line;			/* data row number */
	size_t off[EVENT_NCOLUMNS];
	size_t raw_off, raw_len;
	bool raw;
};

struct upload_run {
	spool_t *sp;
	client_t *cl;
	const upload_opts_t *o;
	upload_stats_t *st;
	char *why;
	size_t whylen;
	int err;			/* a failure inside the stream source */
	int fd;				/* the stream's descriptor */

	/* the batch being filled */
	char prefix[17];		/* batch id prefix: 16 hex */
	const char *source;		/* "-" or the path */
	buf_t text;
	struct upload_row *rows;
	size_t n, cap;
	uint64_t seal_at;		/* stdin: monotonic ms to seal it by */

	/* sending */
	bool sending_stopped;		/* gave up, refused or interrupted */
	uint64_t fail_since;		/* monotonic ms of the first failure in a
					 * row, 0 = none */
	uint64_t delay;			/* current backoff, ms */
	uint64_t retry_at;		/* monotonic ms of the next try, 0 = now */
	spool_storage_t storage;	/* the batch being sent */
	buf_t json;			/* --out lines of one receipt */
	upload_progress_t prog;
};

/* Monotonic milliseconds. */
uint64_t upload_now_ms(void);

/* True once *o->stop was set. */
static inline bool upload_stop_asked(const struct upload_run *r)
{
	return r->o->stop != NULL && *r->o->stop;
}

/*
 * Send waiting batches, oldest first, while the server takes them.  wait:
 * sleep through backoff until everything is delivered or sending stops;
 * else return as soon as a retry is due later.  Returns 0 (how sending
 * went is in r->st->outcome and r->sending_stopped) or a negative error.
 */
int upload_send(struct upload_run *r, bool wait);

#endif
