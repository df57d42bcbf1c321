/*
 * csv_write.c - RFC 4180 field quoting (see csv_write.h).
 */
#include <stdint.h>
#include <string.h>

#include "yima/util/csv_write.h"

bool csv_field_needs_quotes(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
			return true;
	return false;
}

size_t csv_field_len(const char *p, size_t n, bool quote)
{
	size_t quotes = 0;

	if (!quote && !csv_field_needs_quotes(p, n))
		return n;
	for (size_t i = 0; i < n; i++)
		quotes += p[i] == '"';
	return n + quotes + 2;
}

size_t csv_field_write(char *dst, const char *p, size_t n, bool quote)
{
	char *o = dst;
	size_t from = 0;

	if (!quote && !csv_field_needs_quotes(p, n)) {
		if (n > 0)
			memcpy(o, p, n);
		return n;
	}
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '"')
			continue;
		memcpy(o, p + from, i + 1 - from);	/* through the quote */
		o += i + 1 - from;
		*o++ = '"';				/* doubled */
		from = i + 1;
	}
	if (n > from)
		memcpy(o, p + from, n - from);
	o += n - from;
	*o++ = '"';
	return (size_t)(o - dst);
}

void csv_field(buf_t *b, const char *p, size_t n, bool quote)
{
	if (n >= SIZE_MAX / 2 - 1) {
		b->oom = true;
		return;
	}
	if (!buf_reserve(b, CSV_FIELD_OUT_MAX(n)))
		return;
	b->len += csv_field_write((char *)b->p + b->len, p ? p : "", n, quote);
}
