/*
 * report.c - the evidence report for one facility and period
 * (yima/report.h): the two passes over the ledger and the page around
 * them.  The chart is drawn by report_chart.c.
 *
 * Pass 1 counts (totals, chart bars, products) and notes the seq range of
 * the flagged events; the page head, totals, chart and top products are
 * written from those counters; pass 2 re-reads only that seq range in the
 * same snapshot and writes one evidence row per flagged event, flushing
 * every MiB.  Both passes see the same snapshot, so the head printed is
 * the head of exactly the records the page shows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/hex.h"
#include "yima/util/buf.h"
#include "yima/util/html.h"
#include "report_int.h"
#include "yima/util/error.h"

#define FLUSH_AT (1u << 20)

struct report {
	const report_opts_t *o;
	ledger_txn_t *txn;
	FILE *out;
	buf_t b;
	report_agg_t a;
	int err;		/* output error seen while flushing */
	uint64_t base, total;	/* progress: records before this pass, all */
};

/* Every YIMA_PROGRESS_EVERY records of a pass, tell the caller. */
static void progress_at(const struct report *r, uint64_t seq)
{
	if (r->o->progress != NULL && seq % YIMA_PROGRESS_EVERY == 0)
		r->o->progress(r->o->progress_arg, r->base + seq, r->base + seq, r->total);
}

/* ---- pass 1: counting ------------------------------------------------- */

int64_t report_local_day(const yima_time_t *t, int16_t offset_min)
{
	int64_t s = t->sec + (int64_t)offset_min * 60;
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

static bool in_report(const report_opts_t *o, const ledger_event_t *ev)
{
	return ev->status != REC_BAD && yima_slice_eq_cstr(ev->facility, o->facility) &&
	       yima_time_cmp(&ev->time, &o->from) >= 0 && yima_time_cmp(&ev->time, &o->to) <= 0;
}

/* The product id of a canonical code (spec section 1): a 20-digit code's
 * first 7 digits, else the GTIN-14 of "01" + GTIN + "21" + serial. */
static size_t product_of(const ledger_event_t *ev, const char **p)
{
	yima_slice_t c = ev->code;
	bool digits = c.n == 20;

	for (size_t i = 0; digits && i < c.n; i++)
		digits = c.p[i] >= '0' && c.p[i] <= '9';
	if (ev->status != REC_OK || (!digits && c.n < 19))
		return 0;
	*p = digits ? c.p : c.p + 2;
	return digits ? 7 : 14;
}

static uint64_t product_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

static report_product_t *product_slot(report_product_t *t, size_t cap, const char *p, size_t n)
{
	size_t i = product_hash(p, n) & (cap - 1);
	while (t[i].id[0] != '\0' && !(strlen(t[i].id) == n && memcmp(t[i].id, p, n) == 0))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int product_grow(report_agg_t *a)
{
	size_t cap = a->cap ? a->cap * 2 : 1024;
	report_product_t *t = calloc(cap, sizeof *t);

	if (t == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < a->cap; i++)
		if (a->products[i].id[0] != '\0')
			*product_slot(t, cap, a->products[i].id, strlen(a->products[i].id)) = a->products[i];
	free(a->products);
	a->products = t;
	a->cap = cap;
	return 0;
}

static int count_product(report_agg_t *a, const ledger_event_t *ev, unsigned nfindings)
{
	const char *p = NULL;
	size_t n = product_of(ev, &p);
	report_product_t *e;
	int rc;

	if (n == 0) {
		a->no_product++;
		return 0;
	}
	if ((a->nproducts + 1) * 2 > a->cap && a->nproducts < REPORT_PRODUCTS_MAX &&
	    (rc = product_grow(a)) < 0)
		return rc;
	e = product_slot(a->products, a->cap, p, n);
	if (e->id[0] == '\0') {
		if (a->nproducts == REPORT_PRODUCTS_MAX) {
			a->other_flagged++;
			a->other_findings += nfindings;
			return 0;
		}
		memcpy(e->id, p, n);
		e->id[n] = '\0';
		a->nproducts++;
	}
	e->flagged++;
	e->findings += nfindings;
	return 0;
}

/* An OVER_QUANTITY dispense of the facility, for the patients section. */
static int note_oq(report_agg_t *a, uint64_t seq)
{
	if (a->noq == a->capoq) {
		size_t cap = a->capoq ? a->capoq * 2 : 64;
		uint64_t *p = realloc(a->oq_seqs, cap * sizeof *p);
		if (p == NULL)
			return YIMA_ENOMEM;
		a->oq_seqs = p;
		a->capoq = cap;
	}
	a->oq_seqs[a->noq++] = seq;
	return 0;
}

static int count_event(void *arg, const ledger_event_t *ev)
{
	struct report *r = arg;
	report_agg_t *a = &r->a;
	unsigned nf = 0;
	int rc;

	progress_at(r, ev->seq);
	if (!in_report(r->o, ev))
		return 0;
	a->events++;
	a->by_type[ev->type]++;
	a->by_verdict[ev->verdict]++;
	if (ev->findings == 0)		/* accept: nothing else to count */
		return 0;
	/* flagged: warn or reject, i.e. at least one finding (section 4) */
	int64_t day = report_local_day(&ev->time, a->offset_min) - a->first_day;
	uint32_t bar = day < 0 ? 0 : (uint32_t)(day / a->days_per_bar);
	if (bar >= a->nbars)
		bar = a->nbars - 1;
	for (int f = 0; f < F_COUNT; f++)
		if (ev->findings & FINDING_BIT(f)) {
			a->by_finding[f]++;
			a->bars[bar][f]++;
			nf++;
		}
	if (a->flagged++ == 0)
		a->first_seq = ev->seq;
	a->last_seq = ev->seq;
	if ((ev->findings & FINDING_BIT(F_OVER_QUANTITY)) && (rc = note_oq(a, ev->seq)) < 0)
		return rc;
	return count_product(a, ev, nf);
}

static void chart_setup(report_agg_t *a, const report_opts_t *o)
{
	a->offset_min = o->from.zulu ? 0 : o->from.offset_min;
	a->first_day = report_local_day(&o->from, a->offset_min);
	uint64_t days = (uint64_t)(report_local_day(&o->to, a->offset_min) - a->first_day) + 1;
	a->days_per_bar = (uint32_t)((days + REPORT_CHART_BARS - 1) / REPORT_CHART_BARS);
	a->nbars = (uint32_t)((days + a->days_per_bar - 1) / a->days_per_bar);
}

/* ---- the page ------------------------------------------------------------ */

static int flush(struct report *r, size_t at)
{
	if (r->b.oom)
		return r->err = YIMA_ENOMEM;
	if (r->b.len >= at && r->b.len > 0) {
		if (fwrite(r->b.p, 1, r->b.len, r->out) != r->b.len)
			return r->err = YIMA_EIO;
		buf_reset(&r->b);
	}
	return 0;
}

/*
 * A chain hash shortened on screen to its first and last 8 hex digits, yet
 * whole in the page: in the title (shown on hover) and in the text, so a
 * copy takes all 64 digits; only CSS hides the middle (.hash span).
 */
static void put_hash(buf_t *b, const uint8_t *h, const char *id)
{
	char hex[2 * LEDGER_HASH_LEN + 1];

	hex_encode(h, LEDGER_HASH_LEN, hex);
	buf_puts(b, "<code class=\"hash\"");
	if (id != NULL)
		buf_printf(b, " id=\"%s\"", id);
	buf_printf(b, " title=\"%s\"><span>%.*s</span>%s</code>", hex, 2 * LEDGER_HASH_LEN - 8, hex,
		   hex + 2 * LEDGER_HASH_LEN - 8);
}

static void put_time(buf_t *b, const yima_time_t *t)
{
	char s[48];
	size_t n = yima_time_format(t, s, sizeof s);
	html_text(b, s, n);
}

static void put_cstr(buf_t *b, const char *s)
{
	html_text(b, s, strlen(s));
}

/* Fonts: Latin from the system's UI font, Chinese (drug and product names)
 * from the first CJK font present: Noto/Source Han on most Linux systems,
 * WenQuanYi on Debian (fonts-wqy-microhei), PingFang on macOS, YaHei on
 * Windows.  Without one, every name would be a row of boxes. */
static const char style[] =
	"body{font-family:" REPORT_FONTS ";margin:2em;color:#222;max-width:1200px}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}"
	"table{border-collapse:collapse;font-size:.9em}"
	"th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
	"th{background:#f0f0f0}td.num{text-align:right}td.t{white-space:nowrap}"
	"code,.mono{font-family:" REPORT_FONTS_MONO ";font-size:.85em;word-break:break-all}"
	".hash{white-space:nowrap;word-break:normal}"
	".hash span{display:inline-block;max-width:9ch;overflow:hidden;text-overflow:ellipsis;"
	"vertical-align:bottom}"
	".v-reject{color:#a00;font-weight:bold}.v-warn{color:#a60}"
	"dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
	"dl.meta dt{font-weight:bold}dl.meta dd{margin:0}"
	".totals{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}"
	"ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4em 1.2em}"
	".swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}"
	"ul.packs{margin:0;padding-left:1.2em}"
	"@media print{body{margin:0}}";

static void page_head(struct report *r, const uint8_t head[LEDGER_HASH_LEN], uint64_t nev)
{
	buf_t *b = &r->b;
	const report_opts_t *o = r->o;

	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<title>yima evidence report: ");
	put_cstr(b, o->facility);
	buf_puts(b, "</title>\n<style>");
	buf_puts(b, style);
	buf_puts(b, "</style>\n</head>\n<body>\n<h1>Evidence report: facility <span id=\"facility\">");
	put_cstr(b, o->facility);
	buf_puts(b, "</span></h1>\n<dl class=\"meta\" id=\"meta\">\n<dt>Period</dt><dd>");
	put_time(b, &o->from);
	buf_puts(b, " to ");
	put_time(b, &o->to);
	buf_puts(b, " (both included)</dd>\n");
	if (o->ledger_label != NULL) {
		buf_puts(b, "<dt>Ledger</dt><dd class=\"mono\">");
		put_cstr(b, o->ledger_label);
		buf_puts(b, "</dd>\n");
	}
	buf_printf(b, "<dt>Ledger events</dt><dd id=\"ledger-events\">%" PRIu64 "</dd>\n"
		      "<dt>Ledger head</dt><dd>", nev);
	put_hash(b, head, "ledger-head");
	buf_puts(b, "</dd>\n");
	if (o->generated_at != NULL) {
		buf_puts(b, "<dt>Generated</dt><dd>");
		put_cstr(b, o->generated_at);
		buf_puts(b, "</dd>\n");
	}
	buf_puts(b, "</dl>\n<p>Every row of the evidence table is a record of the ledger above: "
		    "its seq and its chain hash <i>h</i> = SHA-256(<i>h</i> of the record before || record). "
		    "<code>yima audit --db DIR --expect-head HEAD</code> recomputes the whole chain and "
		    "exits 0 only if the ledger still ends in this head, i.e. holds every record shown here "
		    "unchanged.  Hashes show their first and last 8 hex digits; hovering shows the whole "
		    "value and copying takes all 64.</p>\n");
}

static void count_row(buf_t *b, const char *name, uint64_t n)
{
	buf_puts(b, "<tr><td>");
	put_cstr(b, name);
	buf_printf(b, "</td><td class=\"num\">%" PRIu64 "</td></tr>\n", n);
}

static void totals(struct report *r)
{
	const report_agg_t *a = &r->a;
	buf_t *b = &r->b;

	buf_printf(b, "<h2>Totals</h2>\n<p>%" PRIu64 " events of the facility in the period, %" PRIu64
		      " flagged (warned or rejected).</p>\n<div class=\"totals\">\n"
		      "<table id=\"by-type\"><thead><tr><th>event type</th><th>events</th></tr></thead><tbody>\n",
		   a->events, a->flagged);
	for (int t = EV_RECEIVE; t <= EV_DESTROY; t++)
		count_row(b, event_type_name((enum event_type)t), a->by_type[t]);
	buf_puts(b, "</tbody></table>\n<table id=\"by-verdict\"><thead><tr><th>verdict</th><th>events</th>"
		    "</tr></thead><tbody>\n");
	for (int v = VERDICT_ACCEPT; v <= VERDICT_REJECT; v++)
		count_row(b, verdict_name((enum verdict)v), a->by_verdict[v]);
	buf_puts(b, "</tbody></table>\n<table id=\"by-finding\"><thead><tr><th>finding</th><th>events</th>"
		    "</tr></thead><tbody>\n");
	FINDING_EACH(f)
		if (a->by_finding[f])
			count_row(b, finding_name((enum finding)f), a->by_finding[f]);
	if (a->flagged == 0)
		buf_puts(b, "<tr><td colspan=\"2\">no findings</td></tr>\n");
	buf_puts(b, "</tbody></table>\n</div>\n");
}

static int cmp_products(const void *x, const void *y)
{
	const report_product_t *p = x, *q = y;
	if (p->findings != q->findings)
		return p->findings > q->findings ? -1 : 1;
	if (p->flagged != q->flagged)
		return p->flagged > q->flagged ? -1 : 1;
	return strcmp(p->id, q->id);
}

static int top_products(struct report *r)
{
	report_agg_t *a = &r->a;
	buf_t *b = &r->b;
	size_t n = 0;
	int rc;

	/* pack the used slots to the front: the table is not probed again */
	for (size_t i = 0; i < a->cap; i++)
		if (a->products[i].id[0] != '\0')
			a->products[n++] = a->products[i];
	if (n > 1)	/* products is NULL when nothing was flagged */
		qsort(a->products, n, sizeof *a->products, cmp_products);
	buf_puts(b, "<h2>Top products by findings</h2>\n<table id=\"top-products\"><thead><tr><th>#</th>"
		    "<th>product</th><th>name</th><th>drug</th><th>flagged events</th><th>findings</th>"
		    "</tr></thead><tbody>\n");
	for (size_t i = 0; i < n && i < REPORT_TOP_PRODUCTS; i++) {
		const report_product_t *p = &a->products[i];
		catalog_entry_t cat;
		rc = ledger_catalog_get(r->txn, p->id, strlen(p->id), &cat);
		if (rc < 0 && rc != YIMA_ENOTFOUND)
			return rc;
		buf_printf(b, "<tr><td class=\"num\">%zu</td><td class=\"mono\">", i + 1);
		put_cstr(b, p->id);
		buf_puts(b, "</td><td>");
		if (rc == 0)
			html_text(b, cat.name.p, cat.name.n);
		else
			buf_puts(b, "<i>not in the catalog</i>");
		buf_puts(b, "</td><td class=\"mono\">");
		if (rc == 0)
			put_cstr(b, cat.drug);
		buf_printf(b, "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64 "</td></tr>\n",
			   p->flagged, p->findings);
	}
	if (n == 0)
		buf_puts(b, "<tr><td colspan=\"6\">no flagged events with a product</td></tr>\n");
	buf_puts(b, "</tbody></table>\n");
	if (a->other_flagged)
		buf_printf(b, "<p>%" PRIu64 " flagged events (%" PRIu64 " findings) on products past the first %d "
			      "distinct ones are not ranked.</p>\n",
			   a->other_flagged, a->other_findings, REPORT_PRODUCTS_MAX);
	if (a->no_product)
		buf_printf(b, "<p>Flagged events with a malformed code (no product): %" PRIu64 ".</p>\n",
			   a->no_product);
	return 0;
}

/* ---- pass 2: the evidence rows ---------------------------------------------- */

static void evidence_head(struct report *r)
{
	buf_printf(&r->b, "<h2>Evidence: flagged events (%" PRIu64 ")</h2>\n"
			  "<table id=\"evidence\"><thead><tr><th>seq</th><th>time</th><th>type</th>"
			  "<th>code</th><th>drug</th><th>units</th><th>settlement</th><th>verdict</th>"
			  "<th>findings</th><th>chain hash</th></tr></thead>\n<tbody>\n", r->a.flagged);
}

void report_evidence_row(buf_t *b, const ledger_event_t *ev)
{
	buf_printf(b, "<tr id=\"seq-%" PRIu64 "\"><td class=\"num\">%" PRIu64 "</td><td class=\"t\">", ev->seq, ev->seq);
	put_time(b, &ev->time);
	buf_printf(b, "</td><td>%s</td><td class=\"mono\">", event_type_name(ev->type));
	html_text(b, ev->code.p, ev->code.n);
	buf_puts(b, "</td><td class=\"mono\">");
	html_text(b, ev->drug.p, ev->drug.n);
	buf_puts(b, "</td><td class=\"num\">");
	if ((ev->type == EV_DISPENSE || ev->type == EV_REFUND) && ev->units)
		buf_printf(b, "%" PRIu64, ev->units);
	buf_puts(b, "</td><td class=\"mono\">");
	html_text(b, ev->settlement.p, ev->settlement.n);
	buf_printf(b, "</td><td class=\"v-%s\">%s</td><td>", verdict_name(ev->verdict), verdict_name(ev->verdict));
	const char *sep = "";
	FINDING_EACH(f)
		if (ev->findings & FINDING_BIT(f)) {
			buf_printf(b, "%s%s", sep, finding_name((enum finding)f));
			sep = " ";
		}
	buf_puts(b, "</td><td>");
	put_hash(b, ev->hash, NULL);
	buf_puts(b, "</td></tr>\n");
}

bool report_in_evidence(const report_opts_t *o, const ledger_event_t *ev)
{
	return in_report(o, ev) && ev->findings != 0;
}

static int evidence_row(void *arg, const ledger_event_t *ev)
{
	struct report *r = arg;

	if (ev->seq > r->a.last_seq)
		return 1;
	progress_at(r, ev->seq);
	if (!report_in_evidence(r->o, ev))
		return 0;
	report_evidence_row(&r->b, ev);
	return flush(r, FLUSH_AT);
}

static int flush_cb(void *arg)
{
	return flush(arg, FLUSH_AT);
}

/* ---- driver ------------------------------------------------------------------ */

static int write_page(struct report *r, report_stats_t *st)
{
	int rc;

	/* pass 2 reads at most as many records as pass 1: 2N bounds it */
	r->total = 2 * st->ledger_events;
	if ((rc = ledger_event_scan(r->txn, 1, count_event, r)) < 0)
		return rc;
	r->base = st->ledger_events - r->a.first_seq + 1;
	r->total = st->ledger_events + (r->a.flagged ? r->a.last_seq - r->a.first_seq + 1 : 0);
	page_head(r, st->head, st->ledger_events);
	totals(r);
	buf_puts(&r->b, "<h2>Findings over time</h2>\n");
	report_chart(&r->b, &r->a);
	if ((rc = top_products(r)) < 0 || (rc = report_patients(&r->b, r->txn, r->o, &r->a)) < 0)
		return rc;
	evidence_head(r);
	if (flush(r, 0) < 0)
		return r->err;
	if (r->a.flagged && (rc = ledger_event_scan(r->txn, r->a.first_seq, evidence_row, r)) < 0)
		return r->err ? r->err : rc;
	buf_puts(&r->b, "</tbody></table>\n");
	if (r->a.flagged == 0)
		buf_puts(&r->b, "<p>No flagged events in this period.</p>\n");
	if ((rc = report_log_section(r->txn, r->o, r->a.first_seq, r->a.flagged ? r->a.last_seq : 0,
				     &r->b, flush_cb, r)) < 0)
		return r->err ? r->err : rc;
	buf_puts(&r->b, "<footer><p>Written by <code>yima report</code> from one read snapshot of "
			"the ledger.</p></footer>\n</body>\n</html>\n");
	if (flush(r, 0) < 0 || fflush(r->out) != 0)
		return r->err ? r->err : YIMA_EIO;
	st->events = r->a.events;
	st->flagged = r->a.flagged;
	return 0;
}

int report_write(ledger_t *lg, const report_opts_t *o, FILE *out, report_stats_t *st,
		 char *why, size_t whylen)
{
	struct report r;
	int rc;

	memset(st, 0, sizeof *st);
	if (o->facility == NULL || !event_is_facility_id(o->facility, strlen(o->facility)))
		return yima_fail(why, whylen, YIMA_EINVAL, "facility must be a facility id ([A-Z0-9]{1,20})");
	if (yima_time_cmp(&o->from, &o->to) > 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "the period ends before it starts");
	memset(&r, 0, sizeof r);
	r.o = o;
	r.out = out;
	buf_init(&r.b);
	chart_setup(&r.a, o);
	if ((rc = ledger_txn_begin(lg, false, &r.txn)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", ledger_dir(lg), yima_strerror(rc));
	st->ledger_events = ledger_event_count(r.txn);
	ledger_head(r.txn, st->head);
	if ((rc = write_page(&r, st)) < 0)
		yima_fail(why, whylen, rc, "%s", rc == YIMA_EIO ? "write failed" : yima_strerror(rc));
	ledger_txn_abort(r.txn);
	free(r.a.products);
	free(r.a.oq_seqs);
	buf_deinit(&r.b);
	return rc;
}
