/*
 * report.h - the evidence report for one facility and period (`yima
 * report`): a self-contained HTML page an inspector can file or mail.
 *
 * The page holds the totals (events by type, verdicts, findings), the
 * findings over time as an inline SVG chart, the products with the most
 * findings, the patients section (spec section 7: the period's top
 * suspects involving the facility, its OVER_QUANTITY dispenses), and the
 * evidence table: every flagged (warned or rejected)
 * event of the facility in the period with its ledger seq and chain hash,
 * under the ledger head the report was read at, so each row can be
 * checked against the ledger with `yima audit --expect-head`.  No script,
 * no external asset: it renders the same offline, printed, or years later.
 *
 * Streaming: two passes over the event records in one read snapshot.  The
 * first aggregates into fixed-size counters (per type, verdict, finding,
 * chart bucket; a bounded table of products); the second writes the
 * evidence rows as it reads them.  Memory does not grow with the number
 * of events or of flagged rows.
 */
#ifndef YIMA_REPORT_H
#define YIMA_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/ledger/ledger.h"
#include "yima/util/progress.h"

typedef struct report_opts {
	const char *facility;		/* a facility id, [A-Z0-9]{1,20} */
	yima_time_t from, to;		/* the period, both ends inclusive;
					 * chart days are calendar days in
					 * the offset `from` is written in */
	const char *generated_at;	/* shown as is; NULL = not shown */
	const char *ledger_label;	/* how the page names the ledger
					 * (its directory); NULL = not shown */
	yima_progress_fn *progress;	/* NULL = none; items are event
					 * records read over both passes */
	void *progress_arg;
} report_opts_t;

typedef struct report_stats {
	uint64_t events;		/* events of the facility in the period */
	uint64_t flagged;		/* ... warned or rejected: table rows */
	uint64_t ledger_events;		/* event records in the snapshot */
	uint8_t head[LEDGER_HASH_LEN];	/* chain head of the snapshot */
} report_stats_t;

/* At most this many chart bars: a longer period groups days per bar. */
#define REPORT_CHART_BARS 120
/* Distinct products counted for the top-products table; findings on
 * products past this many are counted as "other products". */
#define REPORT_PRODUCTS_MAX 16384
/* Rows of the top-products table. */
#define REPORT_TOP_PRODUCTS 10
/* Rows of the top-suspects table. */
#define REPORT_TOP_SUSPECTS 10

/*
 * Write the report as one HTML document to out.  Returns 0 with *st
 * filled; YIMA_EINVAL if the facility is not a facility id or from is
 * after to; YIMA_EIO if writing failed; YIMA_ENOMEM; or a ledger error.
 * why says which.  On failure out holds a partial page: write to a
 * temporary file and rename it on success.
 */
int report_write(ledger_t *lg, const report_opts_t *o, FILE *out, report_stats_t *st,
		 char *why, size_t whylen);

/*
 * Check an evidence report offline (spec section 8, `yima log verify
 * --report`): the page's checkpoint is signed by vkey (vlen bytes), every
 * evidence row has its entry and inclusion proof, each proof leads to the
 * checkpoint's root, and each row is what its entry says.  Appends a
 * summary line to out.  Returns 0, YIMA_EMISMATCH with why naming the
 * first thing that fails, YIMA_EFORMAT (a malformed vkey) or YIMA_ENOMEM.
 */
struct buf;
int report_verify(const char *html, size_t len, const char *vkey, size_t vlen, struct buf *out,
		  char *why, size_t whylen);

#endif
