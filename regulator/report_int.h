/*
 * report_int.h - what the evidence report's parts share (private to
 * verifier/report*.c): the counters the first pass fills, and the page
 * sections drawn from them.
 */
#ifndef YIMA_REPORT_INT_H
#define YIMA_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "yima/util/buf.h"
#include "yima/regulator/report.h"

/* The page's font stacks (CSS and SVG): Latin first, then the CJK fonts
 * of Linux (Noto/Source Han, WenQuanYi), macOS and Windows, so Chinese
 * names render with glyphs wherever one of them is installed. */
#define REPORT_FONTS "system-ui,'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei'," \
		     "'PingFang SC','Microsoft YaHei',sans-serif"
#define REPORT_FONTS_MONO "ui-monospace,'DejaVu Sans Mono','Noto Sans Mono CJK SC'," \
			  "'WenQuanYi Micro Hei Mono',monospace"

/* One product's findings; id "" marks a free slot. */
typedef struct report_product {
	char id[CODE_PRODUCT_MAX + 1];
	uint64_t flagged;		/* flagged events of it */
	uint64_t findings;		/* findings on them */
} report_product_t;

typedef struct report_agg {
	uint64_t events, flagged;
	uint64_t by_type[EV_DESTROY + 1];
	uint64_t by_verdict[VERDICT_REJECT + 1];
	uint64_t by_finding[F_COUNT];

	/* the chart: bar b covers local days first_day + b * days_per_bar
	 * onwards, days counted in offset_min (the offset of `from`) */
	int64_t first_day;
	int16_t offset_min;
	uint32_t days_per_bar, nbars;
	uint64_t bars[REPORT_CHART_BARS][F_COUNT];

	/* products: open addressing, at most half full */
	report_product_t *products;
	size_t cap, nproducts;
	uint64_t other_flagged, other_findings;	/* past REPORT_PRODUCTS_MAX */
	uint64_t no_product;			/* flagged with a malformed code */

	uint64_t first_seq, last_seq;		/* of the flagged events */

	/* the facility's OVER_QUANTITY dispenses in the period, by seq */
	uint64_t *oq_seqs;
	size_t noq, capoq;
} report_agg_t;

/* The local day number (days since 1970-01-01) of t in offset_min. */
int64_t report_local_day(const yima_time_t *t, int16_t offset_min);

/* Append the findings-over-time chart (an <svg> and its legend). */
void report_chart(buf_t *b, const report_agg_t *a);

/* Append the patients section (report_patients.c): the period's top
 * suspects involving the facility and its OVER_QUANTITY dispenses, each
 * record linked to its evidence row.  Returns 0 or a ledger error. */
int report_patients(buf_t *b, ledger_txn_t *txn, const report_opts_t *o, const report_agg_t *a);

/* Colour of a finding in the chart and legend ("#rrggbb"). */
const char *report_finding_colour(enum finding f);

/* Is ev a row of the evidence table (the facility's, in the period,
 * flagged)? */
bool report_in_evidence(const report_opts_t *o, const ledger_event_t *ev);

/* Append ev's row of the evidence table: one line, the same bytes
 * whenever the same record is shown (report_verify renders it again). */
void report_evidence_row(buf_t *b, const ledger_event_t *ev);

/* The verifiable-log section (report_log.c): the checkpoint of the
 * snapshot, its verifier key, how to check the page, and for every
 * evidence row (seqs first..last) its entry, index and inclusion proof.
 * flush(arg) is called as b grows.  Returns 0 or an error. */
int report_log_section(ledger_txn_t *txn, const report_opts_t *o, uint64_t first, uint64_t last,
		       buf_t *b, int (*flush)(void *arg), void *arg);

#endif
