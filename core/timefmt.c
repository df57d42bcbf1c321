/*
 * timefmt.c - RFC 3339 instants: parsing the `time` column of spec
 * section 3, printing times back the way they were written, and the local
 * calendar date the EXPIRED rule of section 4 compares against.
 *
 * Calendar arithmetic is done here, on the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil / civil_from_days), not with timegm()
 * or mktime(): those depend on the C library, TZ and locale, and the
 * ledger must compute the same instant on every machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "yima/util/error.h"
#include "yima/core/event.h"

#define NSEC_DIGITS 9

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil(). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* A cursor over the time string; positions in messages are 1-based. */
typedef struct tcur {
	const char *s;
	size_t n, i;
} tcur_t;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Read exactly `width` digits as a number; on failure the cursor stays
 * at the start, so the message names where the number should begin. */
static bool tc_digits(tcur_t *c, int width, int *out)
{
	int v = 0;
	for (int k = 0; k < width; k++) {
		size_t i = c->i + (size_t)k;
		if (i >= c->n || !is_digit(c->s[i]))
			return false;
		v = v * 10 + (c->s[i] - '0');
	}
	c->i += (size_t)width;
	*out = v;
	return true;
}

/* Consume one of the bytes in `set`; returns it or 0. */
static char tc_one_of(tcur_t *c, const char *set)
{
	if (c->i >= c->n)
		return 0;
	for (const char *k = set; *k; k++)
		if (c->s[c->i] == *k)
			return c->s[c->i++];
	return 0;
}

static int tc_expected(const tcur_t *c, const char *what, char *why, size_t whylen)
{
	if (c->i >= c->n)
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "not RFC 3339: ends where %s is expected (e.g. "
				 "2026-03-01T09:15:00+08:00)", what);
	return yima_fail(why, whylen, YIMA_EBADRECORD,
			 "not RFC 3339: %s expected at byte %zu", what, c->i + 1);
}

/* The fixed-width part: YYYY-MM-DDThh:mm:ss, syntax only. */
static int tc_datetime(tcur_t *c, int f[6], char *why, size_t whylen)
{
	static const struct { int width; const char *after, *name; } part[6] = {
		{ 4, "-", "4-digit year" },
		{ 2, "-", "2-digit month" },
		{ 2, "Tt", "2-digit day" },
		{ 2, ":", "2-digit hour" },
		{ 2, ":", "2-digit minute" },
		{ 2, "", "2-digit second" },
	};
	static const char *sep_name[6] = { "'-'", "'-'", "'T'", "':'", "':'", "" };
	for (int k = 0; k < 6; k++) {
		if (!tc_digits(c, part[k].width, &f[k]))
			return tc_expected(c, part[k].name, why, whylen);
		if (part[k].after[0] && !tc_one_of(c, part[k].after))
			return tc_expected(c, sep_name[k], why, whylen);
	}
	return 0;
}

/* The calendar and clock ranges: a real instant (spec section 3). */
static int tc_check_ranges(const int f[6], char *why, size_t whylen)
{
	if (f[0] == 0)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "year 0000");
	if (f[1] < 1 || f[1] > 12)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "month %02d", f[1]);
	if (f[2] < 1 || f[2] > days_in_month(f[0], f[1]))
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "day %02d does not exist in %04d-%02d", f[2], f[0], f[1]);
	if (f[3] > 23)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "hour %02d", f[3]);
	if (f[4] > 59)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "minute %02d", f[4]);
	/* A leap second (:60) names no instant of the POSIX time scale the
	 * ledger keeps, so it cannot be represented: rejected. */
	if (f[5] == 60)
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "second 60 (leap second) cannot be represented");
	if (f[5] > 59)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "second %02d", f[5]);
	return 0;
}

/* Optional ".digits": at least one digit, nanoseconds kept, rest dropped. */
static int tc_fraction(tcur_t *c, uint32_t *nsec, char *why, size_t whylen)
{
	*nsec = 0;
	if (!tc_one_of(c, "."))
		return 0;
	size_t first = c->i;
	uint32_t v = 0;
	while (c->i < c->n && is_digit(c->s[c->i])) {
		if (c->i - first < NSEC_DIGITS)
			v = v * 10 + (uint32_t)(c->s[c->i] - '0');
		c->i++;
	}
	if (c->i == first)
		return tc_expected(c, "a fraction digit", why, whylen);
	for (size_t k = c->i - first; k < NSEC_DIGITS; k++)
		v *= 10;
	*nsec = v;
	return 0;
}

/* "Z", "z" or "+hh:mm"/"-hh:mm" ("-00:00" is taken as +00:00). */
static int tc_offset(tcur_t *c, yima_time_t *t, char *why, size_t whylen)
{
	char sign = tc_one_of(c, "Zz+-");
	if (sign == 0)
		return tc_expected(c, "offset (Z or +hh:mm)", why, whylen);
	if (sign == 'Z' || sign == 'z') {
		t->zulu = true;
		t->offset_min = 0;
		return 0;
	}
	int hh, mm;
	if (!tc_digits(c, 2, &hh))
		return tc_expected(c, "2-digit offset hour", why, whylen);
	if (!tc_one_of(c, ":"))
		return tc_expected(c, "':' in the offset", why, whylen);
	if (!tc_digits(c, 2, &mm))
		return tc_expected(c, "2-digit offset minute", why, whylen);
	if (hh > 23)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "offset hour %02d", hh);
	if (mm > 59)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "offset minute %02d", mm);
	t->zulu = false;
	t->offset_min = (int16_t)((sign == '-' ? -1 : 1) * (hh * 60 + mm));
	return 0;
}

int yima_time_parse(const char *s, size_t n, yima_time_t *t, char *why, size_t whylen)
{
	tcur_t c = { s, n, 0 };
	int f[6], rc;
	yima_time_t out = { 0 };

	if (n == 0)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "empty");
	if ((rc = tc_datetime(&c, f, why, whylen)) < 0)
		return rc;
	if ((rc = tc_fraction(&c, &out.nsec, why, whylen)) < 0)
		return rc;
	if ((rc = tc_offset(&c, &out, why, whylen)) < 0)
		return rc;
	if (c.i != n)
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "not RFC 3339: unexpected byte %zu after the offset", c.i + 1);
	if ((rc = tc_check_ranges(f, why, whylen)) < 0)
		return rc;
	int64_t days = days_from_civil(f[0], (unsigned)f[1], (unsigned)f[2]);
	out.sec = days * 86400 + f[3] * 3600 + f[4] * 60 + f[5]
		  - (int64_t)out.offset_min * 60;
	*t = out;
	return 0;
}

/* Local date and second of day of t in its own offset (UTC when zulu).
 * Splits before adding the offset, so no sec value can overflow. */
static void time_local(const yima_time_t *t, int64_t *days, int64_t *sod)
{
	int64_t d = t->sec / 86400, s = t->sec % 86400;
	if (s < 0) {
		s += 86400;
		d--;
	}
	if (!t->zulu)
		s += (int64_t)t->offset_min * 60;
	while (s < 0) {
		s += 86400;
		d--;
	}
	while (s >= 86400) {
		s -= 86400;
		d++;
	}
	*days = d;
	*sod = s;
}

/* Trailing zeros of the fraction are trimmed; at most 9 digits. */
static size_t time_fraction(uint32_t nsec, char out[NSEC_DIGITS + 2])
{
	if (nsec > 999999999u)
		nsec = 999999999u;
	if (nsec == 0)
		return 0;
	int k = snprintf(out, NSEC_DIGITS + 2, ".%09" PRIu32, nsec);
	size_t len = (size_t)k;
	while (len > 1 && out[len - 1] == '0')
		len--;
	out[len] = '\0';
	return len;
}

size_t yima_time_format(const yima_time_t *t, char *buf, size_t n)
{
	int64_t days, sod, y;
	unsigned m, d;
	char frac[NSEC_DIGITS + 2] = "";
	char off[8] = "Z";

	if (n == 0)
		return 0;
	time_local(t, &days, &sod);
	civil_from_days(days, &y, &m, &d);
	time_fraction(t->nsec, frac);
	if (!t->zulu) {
		int o = t->offset_min;
		int a = o < 0 ? -o : o;
		snprintf(off, sizeof off, "%c%02d:%02d", o < 0 ? '-' : '+',
			 (a / 60) % 100, a % 60);
	}
	int k = snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d%s%s",
			 y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
			 (int)(sod % 60), frac, off);
	if (k < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)k < n ? (size_t)k : n - 1;
}

void yima_time_local_date(const yima_time_t *t, int *year, int *month, int *day)
{
	int64_t days, sod, y;
	unsigned m, d;
	time_local(t, &days, &sod);
	civil_from_days(days, &y, &m, &d);
	*year = y > INT32_MAX ? INT32_MAX : y < INT32_MIN ? INT32_MIN : (int)y;
	*month = (int)m;
	*day = (int)d;
}

int yima_time_cmp(const yima_time_t *a, const yima_time_t *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}
