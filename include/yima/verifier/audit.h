/*
 * audit.h - `yima audit`: is this ledger what its own log says it is?
 *
 * Three checks, each stopping at the first problem:
 *  1. the hash chain: every record's hash recomputed from the start, seqs
 *     without gaps, stored counters and head equal to what the walk saw;
 *  2. the replay: every event re-verified, in order, into a scratch ledger
 *     from the catalog, recall and setting records chained before it; each
 *     replayed record must hash exactly as the stored one (same verdict,
 *     findings, history link), so a tampered state that changed a verdict
 *     is caught at the event it changed;
 *  3. the derived tables (code states, settlement index, catalog, recall
 *     list) must equal the replayed ones key for key.
 */
#ifndef YIMA_AUDIT_H
#define YIMA_AUDIT_H

#include <stdint.h>

#include "yima/ledger/ledger.h"
#include "yima/util/progress.h"

typedef struct audit_result {
	uint64_t records;		/* event records */
	uint8_t head[LEDGER_HASH_LEN];	/* last chain hash */
} audit_result_t;

/*
 * Audit the ledger.  scratch_dir is an empty directory the replay may use
 * (removed by the caller).  progress (NULL = none) hears of the replay:
 * items and done are event records replayed, total the ledger's events.
 * Returns 0 if every check passed, YIMA_EMISMATCH or YIMA_ECORRUPT with
 * why naming the first problem, or another error.
 */
int audit_ledger(ledger_t *lg, const char *scratch_dir, yima_progress_fn *progress,
		 void *progress_arg, audit_result_t *res, char *why, size_t whylen);

#endif
