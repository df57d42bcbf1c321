/*
 * recon.h - reconciling a facility's own dispense log against the ledger
 * (`yima recon`, spec section 5).
 *
 * Read-only and streaming: the log is read once, row by row; what is kept
 * is one bit per ledger event (which dispenses the log had), the log's
 * facilities and time span, and a fixed-size batch of rows waiting for
 * their code lookups (at most ~60 MiB, see recon.c), so memory is bounded
 * by the ledger, never by the log.
 */
#ifndef YIMA_RECON_H
#define YIMA_RECON_H

#include <stdint.h>
#include <stdio.h>

#include "yima/ledger/ledger.h"
#include "yima/util/progress.h"

enum recon_finding {
	RF_NOT_UPLOADED,
	RF_QTY_MISMATCH,
	RF_DRUG_MISMATCH,
	RF_RESOLD_ELSEWHERE,
	RF_UNLOGGED,
	RF_BAD_RECORD,
	RF_MALFORMED,
	RF_RECORD_FINDING,	/* the matched ledger record's own finding */
	RF_COUNT
};

enum recon_format {
	RECON_JSONL,
	RECON_CSV,
};

typedef struct recon_stats {
	uint64_t rows;			/* data rows read */
	uint64_t dispenses;		/* dispense rows that parsed */
	uint64_t uploaded;		/* ... that matched a ledger dispense */
	uint64_t skipped;		/* rows of other types */
	uint64_t by_kind[RF_COUNT];
	uint64_t by_finding[F_COUNT];	/* RF_RECORD_FINDING, per finding */
	uint64_t findings;		/* lines written */
} recon_stats_t;

typedef struct recon_opts {
	const char *path;		/* the log, or "-" */
	FILE *out;
	enum recon_format format;
	yima_progress_fn *progress;	/* NULL = none; items are log rows,
					 * done and total its bytes */
	void *progress_arg;
} recon_opts_t;

/*
 * Reconcile.  Returns 0 (findings are in *st), YIMA_EFORMAT for a bad
 * header, YIMA_EIO if the log cannot be read or the output written, or a
 * ledger error; why says which.
 */
int recon_run(ledger_t *lg, const recon_opts_t *o, recon_stats_t *st, char *why, size_t whylen);

const char *recon_finding_name(enum recon_finding k);

#endif
