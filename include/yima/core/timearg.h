/*
 * timearg.h - a time given on a command line (--from, --to, --start ...):
 * the one parser every yima command uses for them.
 *
 * Accepted: an RFC 3339 instant with offset, as in the events CSV (spec
 * section 3: "2026-01-06T09:00:00+08:00", "2026-01-06T01:00:00Z"), or a
 * plain date YYYY-MM-DD, which names that calendar day in China Standard
 * Time (+08:00, the users' time zone; no daylight saving there).  Where
 * the date lands in the day depends on which end of a period it is:
 *
 *   TIME_ARG_START  its first instant, YYYY-MM-DDT00:00:00+08:00
 *                   (--from; also an exclusive --to such as suspects')
 *   TIME_ARG_END    its last instant, YYYY-MM-DDT23:59:59.999999999+08:00
 *                   (an inclusive --to: alerts, report), so
 *                   "--from D --to D" is the whole day D
 */
#ifndef YIMA_TIMEARG_H
#define YIMA_TIMEARG_H

#include <stddef.h>

#include "yima/core/event.h"

#define TIME_ARG_OFFSET_MIN (8 * 60)	/* +08:00 for plain dates */

enum time_arg_end {
	TIME_ARG_START,
	TIME_ARG_END,
};

/*
 * Parse s (NUL-terminated) into *t.  Returns 0, or YIMA_EINVAL with why
 * saying what is wrong and what is accepted ("2026-13-01: month 13; want
 * RFC 3339 (2026-03-01T09:15:00+08:00) or a date YYYY-MM-DD").
 */
int time_arg_parse(const char *s, enum time_arg_end end, yima_time_t *t, char *why, size_t whylen);

#endif
