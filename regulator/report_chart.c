/*
 * report_chart.c - the evidence report's "findings over time" chart: one
 * bar per day (or per N days for a long period), stacked by finding, as
 * inline SVG with a <title> on each segment for its count, and an HTML
 * legend.  Static markup only: it renders without script, and in print.
 */
#include <inttypes.h>
#include <string.h>

#include "yima/util/html.h"
#include "report_int.h"

#define W 960		/* the viewBox */
#define H 300
#define ML 60		/* margins: room for the y labels and the dates */
#define MR 12
#define MT 12
#define MB 40

/*
 * One colour per finding of spec section 4, in its table order, told apart
 * also with colour-blind eyes as far as 16 colours can be: Paul Tol's
 * "muted" scheme (designed for it, 9 colours and its pale grey) and the
 * six of Okabe and Ito's that stand apart from those (orange, vermillion,
 * blue, yellow, black, reddish purple).  Colour is never the only cue: every segment has
 * its finding's name and count as a tooltip, and the legend lists them in
 * stacking order (docs/decisions.md).
 */
static const char *const colours[F_COUNT] = {
	[F_BAD_RECORD] = "#BBBBBB",		/* Tol pale grey */
	[F_MALFORMED] = "#DDCC77",		/* Tol sand */
	[F_UNKNOWN_PRODUCT] = "#88CCEE",	/* Tol cyan */
	[F_SUBSTITUTED] = "#AA4499",		/* Tol purple */
	[F_REUSED] = "#CC6677",			/* Tol rose */
	[F_SPLIT_OVERDRAWN] = "#882255",	/* Tol wine */
	[F_RETURNED_TO_MARKET] = "#D55E00",	/* Okabe-Ito vermillion */
	[F_EXPIRED] = "#332288",		/* Tol indigo */
	[F_RECALLED] = "#117733",		/* Tol green */
	[F_DUPLICATE_IN_CLAIM] = "#44AA99",	/* Tol teal */
	[F_REFUND_UNMATCHED] = "#999933",	/* Tol olive */
	[F_REFUND_LATE] = "#0072B2",		/* Okabe-Ito blue */
	[F_DESTROYED] = "#000000",		/* Okabe-Ito black */
	[F_NOT_RECEIVED] = "#E69F00",		/* Okabe-Ito orange */
	[F_ALREADY_HELD] = "#F0E442",		/* Okabe-Ito yellow */
	[F_OVER_QUANTITY] = "#CC79A7",		/* Okabe-Ito reddish purple */
};

const char *report_finding_colour(enum finding f)
{
	return (unsigned)f < F_COUNT ? colours[f] : "#cccccc";
}

/* A step of 1, 2 or 5 x 10^k such that four steps reach max. */
static uint64_t axis_step(uint64_t max)
{
	uint64_t step = 1;
	for (;;) {
		static const uint64_t m[3] = { 1, 2, 5 };
		for (int i = 0; i < 3; i++)
			if (step * m[i] * 4 >= max)
				return step * m[i];
		if (step > UINT64_MAX / 100)
			return step * 10;
		step *= 10;
	}
}

static void bar_date(const report_agg_t *a, uint32_t bar, int *y, int *m, int *d)
{
	int64_t day = a->first_day + (int64_t)bar * a->days_per_bar;
	yima_time_t t = { .sec = day * 86400 - (int64_t)a->offset_min * 60, .offset_min = a->offset_min };
	yima_time_local_date(&t, y, m, d);
}

static void axes(buf_t *b, const report_agg_t *a, uint64_t step, double barw)
{
	const double ph = H - MT - MB;

	for (int k = 0; k <= 4; k++) {
		double y = MT + ph - ph * k / 4.0;
		buf_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">%" PRIu64 "</text>\n",
			   ML, y, W - MR, y, ML - 6, y + 4, step * (uint64_t)k);
	}
	buf_printf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n",
		   ML, H - MB, W - MR, H - MB);
	uint32_t every = (a->nbars + 7) / 8;
	for (uint32_t i = 0; i < a->nbars; i += every) {
		int y, m, d;
		bar_date(a, i, &y, &m, &d);
		buf_printf(b, "<text class=\"date\" x=\"%.1f\" y=\"%d\" font-size=\"12\">%04d-%02d-%02d</text>\n",
			   ML + barw * i, H - MB + 16, y, m, d);
	}
}

static void bars(buf_t *b, const report_agg_t *a, uint64_t top, double barw)
{
	const double ph = H - MT - MB, gap = barw > 6 ? barw * 0.15 : 0;

	for (uint32_t i = 0; i < a->nbars; i++) {
		double y = H - MB;
		int yy, mm, dd;
		bar_date(a, i, &yy, &mm, &dd);
		FINDING_EACH(f) {
			uint64_t n = a->bars[i][f];
			if (n == 0)
				continue;
			double h = ph * (double)n / (double)top;
			y -= h;
			buf_printf(b, "<rect class=\"bar\" data-finding=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
				      "height=\"%.2f\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"><title>%04d-%02d-%02d%s %s: %" PRIu64 "</title></rect>\n",
				   finding_name((enum finding)f), ML + barw * i + gap / 2, y, barw - gap, h,
				   colours[f], yy, mm, dd, a->days_per_bar > 1 ? " (+)" : "",
				   finding_name((enum finding)f), n);
		}
	}
}

void report_chart(buf_t *b, const report_agg_t *a)
{
	uint64_t max = 0;
	const double barw = (double)(W - ML - MR) / a->nbars;

	for (uint32_t i = 0; i < a->nbars; i++) {
		uint64_t sum = 0;
		for (int f = 0; f < F_COUNT; f++)
			sum += a->bars[i][f];
		if (sum > max)
			max = sum;
	}
	uint64_t step = axis_step(max);
	if (a->days_per_bar == 1)
		buf_puts(b, "<p>Findings per day");
	else
		buf_printf(b, "<p>Findings per %" PRIu32 " days", a->days_per_bar);
	int off = a->offset_min < 0 ? -a->offset_min : a->offset_min;
	buf_printf(b, " (an event with two findings counts in both), days in UTC%c%02d:%02d.</p>\n",
		   a->offset_min < 0 ? '-' : '+', off / 60, off % 60);
	buf_printf(b, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		      "height=\"%d\" role=\"img\" aria-label=\"findings over time\" "
		      "font-family=\"" REPORT_FONTS "\">\n", W, H, W, H);
	axes(b, a, step, barw);
	bars(b, a, step * 4, barw);
	if (max == 0)
		buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"16\" fill=\"#666\">"
			      "no findings in this period</text>\n", (W + ML) / 2, H / 2);
	buf_puts(b, "</svg>\n<ul class=\"legend\" id=\"legend\">\n");
	FINDING_EACH(f)
		if (a->by_finding[f]) {
			buf_printf(b, "<li><span class=\"swatch\" style=\"background:%s\"></span>", colours[f]);
			html_text(b, finding_name((enum finding)f), strlen(finding_name((enum finding)f)));
			buf_printf(b, " %" PRIu64 "</li>\n", a->by_finding[f]);
		}
	buf_puts(b, "</ul>\n");
}
