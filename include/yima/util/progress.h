/*
 * progress.h - how a long run tells its caller how far it got, so that a
 * terminal can show it (`yima ingest`, `recon`, `audit`, `report`, `gen`).
 *
 * The library calls the function every YIMA_PROGRESS_EVERY items and once
 * more at the end; the caller decides whether and how often to print
 * (tools/progress.c redraws a line at most a few times a second).  The
 * function must not call back into the library.
 */
#ifndef YIMA_PROGRESS_H
#define YIMA_PROGRESS_H

#include <stdint.h>

/* items: rows or records done so far; done of total: how much of the
 * whole that is, in the run's own unit (input bytes, records), total 0
 * when it is not known (a pipe). */
typedef void yima_progress_fn(void *arg, uint64_t items, uint64_t done, uint64_t total);

/* Items between two calls: often enough that a terminal sees a change at
 * least every 100,000 rows and every second even at 10,000 rows/s, rare
 * enough to cost nothing (one indirect call per 8192 rows). */
#define YIMA_PROGRESS_EVERY 8192

#endif
