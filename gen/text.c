/*
 * text.c - the generator's small tools: PRNG seeding, a bounded string
 * builder, a buffered writer over a caller's FILE, and calendar arithmetic.
 *
 * The writer keeps its own 1 MiB buffer because the generator emits ~100
 * bytes per row at millions of rows a second: one fwrite per megabyte,
 * not per field.  Errors are sticky; gen_world() checks them once at the
 * end (and at every flush).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "yima/util/csv_write.h"
#include "gen_int.h"

void gen_rng_seed(gen_rng_t *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] = z ^ (z >> 31);
	}
}

/* Natural log for x > 0 normal: x = m * 2^e, ln m by the atanh series
 * (m in [1, 2) so |s| <= 1/3 and 12 terms reach double precision).  Own
 * code rather than libm: basic IEEE arithmetic gives the same bits on
 * every platform, libm's log need not. */
double gen_ln(double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof(b));
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	b = (b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	double m;
	memcpy(&m, &b, sizeof(m));
	double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
	for (int k = 1; k < 26; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return e * 0.69314718055994530942 + 2 * sum;
}

/* e^x for |x| <= 4: the Taylor series of e^(x/8), cubed thrice. */
double gen_exp(double x)
{
	double y = x / 8, term = 1, sum = 1;
	for (int k = 1; k < 16; k++) {
		term *= y / k;
		sum += term;
	}
	sum *= sum;
	sum *= sum;
	return sum * sum;
}

double gen_rng_exp(gen_rng_t *r, double mean)
{
	double u = gen_rng_unit(r);	/* [0, 1): 1 - u is in (0, 1] */
	return -gen_ln(1 - u) * mean;
}

void gen_str_put(gen_str_t *s, const void *p, size_t n)
{
	if (n >= s->cap - s->len) {	/* keep room for the NUL */
		s->over = true;
		return;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void gen_str_putc(gen_str_t *s, char c)
{
	gen_str_put(s, &c, 1);
}

void gen_str_puts(gen_str_t *s, const char *z)
{
	gen_str_put(s, z, strlen(z));
}

void gen_str_putu(gen_str_t *s, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < width && n < (int)sizeof(tmp))
		tmp[sizeof(tmp) - 1 - n++] = '0';
	gen_str_put(s, tmp + sizeof(tmp) - n, (size_t)n);
}

void gen_str_csv(gen_str_t *s, const char *p, size_t n, bool force)
{
	/* keep room for the NUL, as gen_str_put() does */
	if (n >= SIZE_MAX / 2 - 1 || csv_field_len(p, n, force) >= s->cap - s->len) {
		s->over = true;
		return;
	}
	s->len += csv_field_write(s->p + s->len, p, n, force);
	s->p[s->len] = '\0';
}

int gen_out_init(gen_out_t *o, FILE *fp, size_t cap)
{
	o->fp = fp;
	o->len = 0;
	o->err = 0;
	o->cap = fp != NULL ? cap : 0;
	o->buf = NULL;
	if (fp != NULL && (o->buf = malloc(cap)) == NULL)
		return YIMA_ENOMEM;
	return 0;
}

int gen_out_flush(gen_out_t *o)
{
	if (o->err == 0 && o->len > 0 && fwrite(o->buf, 1, o->len, o->fp) != o->len)
		o->err = YIMA_EIO;
	o->len = 0;
	return o->err;
}

void gen_out_put(gen_out_t *o, const void *p, size_t n)
{
	if (o->fp == NULL)
		return;
	if (n > o->cap - o->len && gen_out_flush(o) != 0)
		return;
	if (n > o->cap) {	/* larger than the buffer: straight through */
		if (o->err == 0 && fwrite(p, 1, n, o->fp) != n)
			o->err = YIMA_EIO;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void gen_out_deinit(gen_out_t *o)
{
	free(o->buf);
	o->buf = NULL;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t gen_days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void gen_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int gen_days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[(m - 1) % 12];
}
