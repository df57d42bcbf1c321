/*
 * progress.h - the progress line of a long command on a terminal
 * (`yima ingest`, `recon`, `audit`, `report`, `gen`): a yima_progress_fn
 * that redraws one line of stderr, only when stderr is a terminal.
 */
#ifndef YIMA_TOOLS_PROGRESS_H
#define YIMA_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "yima/util/progress.h"

typedef struct tool_progress {
	bool on;		/* stderr is a terminal */
	bool drawn;		/* a line is on screen: end it */
	const char *unit;	/* "rows", "records", "events" */
	struct timespec start, last;
	uint64_t last_items;
} tool_progress_t;

/* Start the clock (on is isatty(stderr)) and point a library's progress
 * hook (*fn, *arg) at this line; fn may be NULL (nothing to hook). */
void tool_progress_init(tool_progress_t *p, const char *unit, yima_progress_fn **fn, void **arg);

/* The yima_progress_fn (arg: the tool_progress_t).  Redraws when 100,000
 * items or 0.2 s have passed since the last line, so a terminal sees it
 * move at least every 100,000 items and every second. */
void tool_progress_show(void *arg, uint64_t items, uint64_t done, uint64_t total);

/* End the line (a newline if one was drawn), before the summary. */
void tool_progress_end(tool_progress_t *p);

#endif
