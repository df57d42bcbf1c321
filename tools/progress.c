/*
 * progress.c - one progress line on stderr for the long commands (see
 * progress.h): a bar when the total is known, the count and the rate.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

#define REDRAW_ITEMS 100000
#define REDRAW_SECONDS 0.2
#define BAR 24

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void tool_progress_init(tool_progress_t *p, const char *unit, yima_progress_fn **fn, void **arg)
{
	if (fn != NULL) {
		*fn = tool_progress_show;
		*arg = p;
	}
	p->on = isatty(STDERR_FILENO);
	p->drawn = false;
	p->unit = unit;
	p->last_items = 0;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof digits, "%" PRIu64, v), o = 0;
	for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

void tool_progress_show(void *arg, uint64_t items, uint64_t done, uint64_t total)
{
	tool_progress_t *p = arg;
	struct timespec now;
	char count[32], rate[32];

	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && items - p->last_items < REDRAW_ITEMS && since(&p->last, &now) < REDRAW_SECONDS)
		return;
	double secs = since(&p->start, &now);
	grouped(items, count, sizeof count);
	grouped(secs > 0 ? (uint64_t)((double)items / secs) : 0, rate, sizeof rate);
	if (total > 0) {
		double share = done >= total ? 1.0 : (double)done / (double)total;
		int fill = (int)(share * BAR);
		fprintf(stderr, "\r[%.*s%*s] %3d%%  %s %s  %s %s/s  ", fill, "########################",
			BAR - fill, "", (int)(share * 100), count, p->unit, rate, p->unit);
	} else {
		fprintf(stderr, "\r%s %s  %s %s/s  ", count, p->unit, rate, p->unit);
	}
	fflush(stderr);
	p->drawn = true;
	p->last = now;
	p->last_items = items;
}

void tool_progress_end(tool_progress_t *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}
