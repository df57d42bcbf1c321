/*
 * test_timearg.c - times on the command line (core/timearg.c): RFC 3339
 * as in spec section 3, or a plain date naming a day in +08:00, its first
 * instant for a start and its last for an inclusive end (timearg.h).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "testutil.h"
#include "yima/core/timearg.h"
#include "yima/util/error.h"

static const struct {
	const char *arg;
	enum time_arg_end end;
	const char *same_as;	/* the RFC 3339 instant it must equal */
	int offset_min;
} good[] = {
	/* a date is a day in +08:00: first instant as a start... */
	{ "2026-03-01", TIME_ARG_START, "2026-02-28T16:00:00Z", 480 },
	/* ...and its last instant as an inclusive end */
	{ "2026-03-01", TIME_ARG_END, "2026-03-01T15:59:59.999999999Z", 480 },
	{ "2024-02-29", TIME_ARG_START, "2024-02-28T16:00:00Z", 480 },
	/* RFC 3339 stays what it says, whichever end */
	{ "2026-03-01T10:00:00-05:30", TIME_ARG_START, "2026-03-01T15:30:00Z", -330 },
	{ "2026-03-01T10:00:00-05:30", TIME_ARG_END, "2026-03-01T15:30:00Z", -330 },
	{ "2026-01-06T00:00:00z", TIME_ARG_END, "2026-01-06T00:00:00Z", 0 },
};

TU_INDEX_PARAMS(timearg, good, good)
ParameterizedTest(size_t *i, timearg, good)
{
	yima_time_t t, want;
	char why[256];

	cr_assert_eq(time_arg_parse(good[*i].arg, good[*i].end, &t, why, sizeof why), 0, "%s: %s",
		     good[*i].arg, why);
	cr_assert_eq(yima_time_parse(good[*i].same_as, strlen(good[*i].same_as), &want, why, sizeof why), 0);
	cr_assert_eq(yima_time_cmp(&t, &want), 0, "%s", good[*i].arg);
	cr_assert_eq(t.offset_min, good[*i].offset_min, "%s", good[*i].arg);
}

static const struct {
	const char *arg;
	const char *says;	/* in the message */
} bad[] = {
	{ "2026-02-30", "day 30" },		/* not a real day */
	{ "2026-13-01", "month 13" },
	{ "2026-3-01", "want RFC 3339" },	/* neither form */
	{ "2026-03-01T10:00:00", "offset" },	/* RFC 3339 needs its offset */
	{ "yesterday", "yesterday" },
	{ "", "want RFC 3339" },
	{ "2026-03-01 ", "want RFC 3339" },
};

TU_INDEX_PARAMS(timearg, bad, bad)
ParameterizedTest(size_t *i, timearg, bad)
{
	yima_time_t t;
	char why[256];

	cr_assert_eq(time_arg_parse(bad[*i].arg, TIME_ARG_START, &t, why, sizeof why), YIMA_EINVAL,
		     "%s", bad[*i].arg);
	cr_assert(strstr(why, bad[*i].says) != NULL, "%s: %s", bad[*i].arg, why);
}
