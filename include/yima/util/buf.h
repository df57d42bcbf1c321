/*
 * buf.h - a growable byte buffer with a sticky allocation error.
 *
 * Encoders append to a buf_t without checking each call; the first failed
 * allocation sets buf->oom and later appends are no-ops, so the caller
 * checks once at the end (the Knot DNS sticky-error habit).
 */
#ifndef YIMA_BUF_H
#define YIMA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool oom;
	bool fixed;	/* caller's storage: never reallocated, overflow = oom */
} buf_t;

void buf_init(buf_t *b);
/* A buffer over caller storage (e.g. on the stack) that never grows:
 * appending past cap sets oom.  buf_deinit() is not needed. */
void buf_init_fixed(buf_t *b, void *p, size_t cap);
void buf_deinit(buf_t *b);
static inline void buf_reset(buf_t *b) { b->len = 0; b->oom = false; }
/* Make room for n more bytes; returns false (and sets oom) on failure. */
bool buf_reserve(buf_t *b, size_t n);
void buf_put(buf_t *b, const void *p, size_t n);
void buf_putc(buf_t *b, uint8_t c);
void buf_puts(buf_t *b, const char *s);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append the whole file at path ("-": standard input), at most max bytes.
 * Returns 0, or YIMA_EIO / YIMA_ETOOBIG / YIMA_ENOMEM with why naming it. */
int buf_read_file(buf_t *b, const char *path, size_t max, char *why, size_t whylen);

/* LEB128 unsigned varint and the length-prefixed strings of the ledger's
 * record layouts. */
void buf_put_varint(buf_t *b, uint64_t v);
void buf_put_u16be(buf_t *b, uint16_t v);
void buf_put_u64be(buf_t *b, uint64_t v);
void buf_put_str8(buf_t *b, const void *p, size_t n);	/* n <= 255 */
void buf_put_str16(buf_t *b, const void *p, size_t n);	/* n <= 65535 */

/* A bounds-checked reader over a byte range: any read past the end sets
 * `bad` and returns zeros, so a decoder checks once at the end. */
typedef struct rd {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
} rd_t;

static inline void rd_init(rd_t *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
	r->bad = false;
}
uint8_t rd_u8(rd_t *r);
uint16_t rd_u16be(rd_t *r);
uint64_t rd_u64be(rd_t *r);
uint64_t rd_varint(rd_t *r);
/* Returns a pointer into the range and sets *n; NULL and bad on overrun. */
const uint8_t *rd_bytes(rd_t *r, size_t n);
const char *rd_str8(rd_t *r, size_t *n);
const char *rd_str16(rd_t *r, size_t *n);
static inline size_t rd_left(const rd_t *r) { return (size_t)(r->end - r->p); }

void put_u64be(uint8_t *p, uint64_t v);
uint64_t get_u64be(const uint8_t *p);

#endif
