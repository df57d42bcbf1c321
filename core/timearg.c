/*
 * timearg.c - times given on a command line: RFC 3339, or a plain date
 * meaning a day in +08:00 (yima/core/timearg.h).  The instant itself is
 * read by yima_time_parse(), so a date goes through the same calendar
 * checks as the events' `time` column.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "yima/core/timearg.h"
#include "yima/util/error.h"

static bool is_plain_date(const char *s, size_t n)
{
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

int time_arg_parse(const char *s, enum time_arg_end end, yima_time_t *t, char *why, size_t whylen)
{
	char full[64], rule[192];
	size_t n = strlen(s);
	const char *in = s;

	if (is_plain_date(s, n)) {
		n = (size_t)snprintf(full, sizeof full, "%sT%s+%02d:%02d", s,
				     end == TIME_ARG_END ? "23:59:59.999999999" : "00:00:00",
				     TIME_ARG_OFFSET_MIN / 60, TIME_ARG_OFFSET_MIN % 60);
		in = full;
	}
	if (yima_time_parse(in, n, t, rule, sizeof rule) < 0)
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "%s: %s; want RFC 3339 (2026-03-01T09:15:00+08:00) or a date "
				 "YYYY-MM-DD (a day in +08:00)", s, rule);
	return 0;
}
