/*
 * upload.h - `yima upload`: events (spec section 3 CSV) to yimad in
 * batches, through the spool, in order and exactly once (spec sections 5
 * and 6, docs/protocol.md).
 *
 * Rows are read in order and cut into batches of opts.batch_rows events
 * (fewer when their text passes 8 MiB, so a batch stays well under yimad's
 * default 16 MiB body limit).  A batch is put in the spool, durably,
 * before it is sent, and deleted from it when its receipt has arrived.
 * Batches are sent in spool order, oldest first, so batches an earlier run
 * left behind go before new ones.
 *
 * Batch ids: `<16 hex of the file's SHA-256>-<first row>-<last row>` (data
 * row numbers), so a rerun of the same file (same --batch) sends the same
 * ids with the same content and yimad records nothing twice, and an id
 * never names two contents (another --batch cuts batches with other ids).
 * Standard input (or any input that is not a regular file) cannot be
 * hashed before it is read: its prefix is 16 random hex digits, kept with
 * the spooled batch like the rest of its id.
 *
 * Standard input is read as rows arrive: a part-filled batch is sealed and
 * sent opts.idle_ms after its first row came in, so a scan piped in
 * reaches the server within a second.  While the server is away, rows keep
 * being read and spooled.
 *
 * Each data row becomes one Event with its nine fields as text; a row that
 * does not have exactly nine fields, is longer than 1 MiB or holds a NUL
 * byte (a protobuf string cannot) travels as Event.raw (its first 4 KiB),
 * which yimad records as a BAD_RECORD attempt, as `yima ingest` would.
 *
 * Failures: a connection error, a timeout, 408, 429 or 5xx is retried
 * after 100 ms, doubling to 5 s, until opts.retry_for has passed since the
 * first failure in a row; then the upload gives up (UPLOAD_GAVE_UP).  Any
 * other answer than 200 is final for its batch (UPLOAD_REFUSED): nothing
 * more is sent, that batch and those after it stay in the spool (to be
 * sent with --flush once the cause is fixed, or dropped).  After giving up
 * or a refusal, the rest of a file is still read into the spool, so the
 * spool holds everything not delivered; standard input stops being read.
 */
#ifndef YIMA_UPLOAD_H
#define YIMA_UPLOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/client/client.h"
#include "yima/client/logcheck.h"
#include "yima/core/limits.h"
#include "yima/client/receipt.h"
#include "yima/client/spool.h"

#define UPLOAD_BATCH_DEFAULT 5000
#define UPLOAD_BATCH_MAX BATCH_EVENTS_MAX	/* yimad's limit per batch */
#define UPLOAD_IDLE_MS 200
#define UPLOAD_RETRY_FOR_DEFAULT 600	/* seconds */

typedef enum upload_outcome {
	UPLOAD_DONE = 0,	/* every batch delivered; the spool is empty */
	UPLOAD_GAVE_UP,		/* the server stayed away: batches wait */
	UPLOAD_REFUSED,		/* a final answer to a batch: it and later ones wait */
	UPLOAD_INTERRUPTED,	/* *opts.stop was set: what was read waits */
	UPLOAD_LOG_FORKED,	/* the server's log is not consistent with the
				 * checkpoint kept (opts.log): nothing more is
				 * sent; that batch and later ones wait */
} upload_outcome_t;

typedef struct upload_progress {
	uint64_t bytes, total;		/* input read; total 0 = unknown */
	uint64_t rows;			/* data rows read */
	uint64_t batches, events;	/* delivered */
} upload_progress_t;

typedef void (*upload_progress_fn)(void *arg, const upload_progress_t *p);

typedef struct upload_opts {
	const char *path;		/* CSV file, "-" = stdin, NULL = only send
					 * what waits (--flush) */
	uint64_t batch_rows;		/* events per batch, 1..UPLOAD_BATCH_MAX */
	unsigned idle_ms;		/* stdin: seal a batch this long after its
					 * first row */
	uint64_t retry_for_ms;		/* give up after failing this long */
	FILE *out;			/* JSON line per event (as `yima ingest`
					 * prints them); NULL = none */
	upload_progress_fn progress;	/* NULL = none */
	void *progress_arg;
	volatile sig_atomic_t *stop;	/* set (by a signal handler) to stop
					 * soon; NULL = never */
	logcheck_t *log;		/* every receipt's checkpoint checked
					 * against it (spec section 8); NULL =
					 * not checked */
} upload_opts_t;

void upload_opts_init(upload_opts_t *o);

typedef struct upload_stats {
	upload_outcome_t outcome;
	uint64_t rows;			/* data rows read from the input */
	uint64_t spooled;		/* batches this run put in the spool */
	uint64_t already_waiting;	/* batches of the input that were waiting
					 * already (a rerun): not spooled twice */
	uint64_t sent;			/* batches delivered (receipt received) */
	uint64_t replayed;		/* of those, ones yimad had already */
	receipt_counts_t counts;	/* verdicts of the delivered events */
	uint64_t waiting_batches;	/* left in the spool at the end */
	uint64_t waiting_events;
	char problem[768];		/* GAVE_UP: the last failure; REFUSED: the
					 * batch, its rows and the answer */
} upload_stats_t;

/*
 * Run an upload (or, with o->path NULL, a flush) through spool sp to the
 * server of cl.  Returns 0 with st->outcome telling how it ended, or a
 * negative error with why naming the file, line or batch and reason:
 * YIMA_EFORMAT (the header is not the nine columns of spec section 3:
 * nothing was spooled; or an answer from the server that does not decode
 * or does not match its batch), YIMA_EIO (the input or --out could not be
 * read or written), or a spool error.  Batches spooled before an error
 * stay in the spool.
 */
int upload_run(spool_t *sp, client_t *cl, const upload_opts_t *o, upload_stats_t *st,
	       char *why, size_t whylen);

#endif
