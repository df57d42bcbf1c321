/*
 * slice.h - a borrowed byte string (pointer + length).
 *
 * Input fields may hold NUL bytes (a binary file fed to ingest), so the
 * parsers pass text around as slices, never as C strings.  A slice never
 * owns its bytes: its lifetime is that of whatever it points into, which
 * every function returning one states in its contract.
 */
#ifndef YIMA_SLICE_H
#define YIMA_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct yima_slice {
	const char *p;
	size_t n;
} yima_slice_t;

static inline yima_slice_t yima_slice(const char *p, size_t n)
{
	yima_slice_t s = { p, n };
	return s;
}

static inline yima_slice_t yima_slice_cstr(const char *s)
{
	return yima_slice(s, s ? strlen(s) : 0);
}

static inline bool yima_slice_eq(yima_slice_t a, yima_slice_t b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool yima_slice_eq_cstr(yima_slice_t a, const char *s)
{
	return yima_slice_eq(a, yima_slice_cstr(s));
}

#endif
