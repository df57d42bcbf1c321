/*
 * buf.c - growable byte buffer and bounds-checked reader (see buf.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/error.h"

void buf_init(buf_t *b)
{
	memset(b, 0, sizeof *b);
}

void buf_init_fixed(buf_t *b, void *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->oom = false;
	b->fixed = true;
}

void buf_deinit(buf_t *b)
{
	if (!b->fixed)
		free(b->p);
	memset(b, 0, sizeof *b);
}

bool buf_reserve(buf_t *b, size_t n)
{
	if (b->oom)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (b->fixed || n > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + n;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void buf_put(buf_t *b, const void *p, size_t n)
{
	if (n == 0 || !buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void buf_putc(buf_t *b, uint8_t c)
{
	if (!buf_reserve(b, 1))
		return;
	b->p[b->len++] = c;
}

void buf_puts(buf_t *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_put(b, small, (size_t)n);
		return;
	}
	if (!buf_reserve(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_put_varint(buf_t *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf_put(b, tmp, n);
}

void buf_put_u16be(buf_t *b, uint16_t v)
{
	uint8_t tmp[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	buf_put(b, tmp, 2);
}

void put_u64be(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t get_u64be(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void buf_put_u64be(buf_t *b, uint64_t v)
{
	uint8_t tmp[8];
	put_u64be(tmp, v);
	buf_put(b, tmp, 8);
}

void buf_put_str8(buf_t *b, const void *p, size_t n)
{
	if (n > 255) {
		b->oom = true;	/* a caller bug: limits are checked upstream */
		return;
	}
	buf_putc(b, (uint8_t)n);
	buf_put(b, p, n);
}

void buf_put_str16(buf_t *b, const void *p, size_t n)
{
	if (n > 65535) {
		b->oom = true;
		return;
	}
	buf_put_u16be(b, (uint16_t)n);
	buf_put(b, p, n);
}

const uint8_t *rd_bytes(rd_t *r, size_t n)
{
	if (r->bad || n > rd_left(r)) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

uint8_t rd_u8(rd_t *r)
{
	const uint8_t *p = rd_bytes(r, 1);
	return p ? p[0] : 0;
}

uint16_t rd_u16be(rd_t *r)
{
	const uint8_t *p = rd_bytes(r, 2);
	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint64_t rd_u64be(rd_t *r)
{
	const uint8_t *p = rd_bytes(r, 8);
	return p ? get_u64be(p) : 0;
}

uint64_t rd_varint(rd_t *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c = rd_u8(r);
		if (r->bad)
			return 0;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

const char *rd_str8(rd_t *r, size_t *n)
{
	*n = rd_u8(r);
	const uint8_t *p = rd_bytes(r, *n);
	if (p == NULL)
		*n = 0;
	return (const char *)p;
}

const char *rd_str16(rd_t *r, size_t *n)
{
	*n = rd_u16be(r);
	const uint8_t *p = rd_bytes(r, *n);
	if (p == NULL)
		*n = 0;
	return (const char *)p;
}

int buf_read_file(buf_t *b, const char *path, size_t max, char *why, size_t whylen)
{
	bool std = strcmp(path, "-") == 0;
	FILE *fp = std ? stdin : fopen(path, "rb");
	size_t start = b->len, got;
	int rc = 0;

	if (fp == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	do {
		if (!buf_reserve(b, 65536)) {
			rc = yima_fail(why, whylen, YIMA_ENOMEM, "%s: out of memory", path);
			break;
		}
		got = fread(b->p + b->len, 1, 65536, fp);
		b->len += got;
		if (b->len - start > max)
			rc = yima_fail(why, whylen, YIMA_ETOOBIG, "%s: over %zu bytes", path, max);
	} while (rc == 0 && got > 0);
	if (rc == 0 && ferror(fp))
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	if (!std)
		fclose(fp);
	return rc;
}
