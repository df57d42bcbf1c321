/*
 * ingest.h - applying an events CSV file to the ledger (`yima ingest`).
 *
 * Rows are verified in order and committed in batches; a batch is one
 * write transaction, so a crash loses at most the batch in flight and
 * never half of it.  The JSON line of a row is written only after its
 * batch is durable, so what ingest printed is what the ledger holds.
 */
#ifndef YIMA_INGEST_H
#define YIMA_INGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/core/finding.h"
#include "yima/ledger/ledger.h"
#include "yima/util/progress.h"

typedef struct ingest_stats {
	uint64_t rows;
	uint64_t verdicts[3];		/* by enum verdict */
	uint64_t findings[F_COUNT];
	uint64_t resumed_after;		/* rows skipped: already committed by
					 * an interrupted run of this file */
} ingest_stats_t;

typedef struct ingest_opts {
	const char *path;		/* file, or "-" for standard input */
	FILE *out;			/* JSON lines; NULL = none */
	bool again;			/* ingest a file seen before */
	uint32_t refund_window_days;	/* spec default 10 */
	uint64_t batch_rows;		/* rows per commit (0 = default) */
	yima_progress_fn *progress;	/* NULL = none; items are rows, done
					 * and total input bytes */
	void *progress_arg;
} ingest_opts_t;

void ingest_opts_init(ingest_opts_t *o);

/*
 * Ingest o->path into lg.  Returns 0 when the whole file was applied (rows
 * may still have been rejected: see *st), or:
 *   YIMA_EEXIST   the file's SHA-256 was ingested before (and !o->again)
 *   YIMA_EFORMAT  the header is not the nine columns of spec section 3
 *   YIMA_EIO      the input could not be read
 *   YIMA_ENOSPACE the disk is full ("no space left on DIR": the batch that
 *                 did not fit is not applied)
 *   or a ledger error.  why names the file, line and reason.  Nothing of a
 * refused file is applied; after an I/O or ledger error the batches
 * committed before it stay (and a rerun of the same file resumes after
 * them).  *st counts committed rows only.
 */
int ingest_file(ledger_t *lg, const ingest_opts_t *o, ingest_stats_t *st,
		char *why, size_t whylen);

/* Append the JSON line of spec section 5 for one row to b. */
struct buf;
struct verify_input;
struct verify_result;
void ingest_json_line(struct buf *b, uint64_t line, const struct verify_input *in,
		      const struct verify_result *res);

#endif
