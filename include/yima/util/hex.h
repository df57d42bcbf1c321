/*
 * hex.h - lowercase hexadecimal, the one encoder for hashes, keys and
 * patient hashes wherever yima prints or reads them.
 */
#ifndef YIMA_UTIL_HEX_H
#define YIMA_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Write n bytes as 2n lowercase hex digits and a NUL into out (2n+1
 * bytes). */
void hex_encode(const uint8_t *p, size_t n, char *out);

/* Append n bytes as 2n lowercase hex digits to b. */
void hex_put(struct buf *b, const uint8_t *p, size_t n);

/* Decode exactly 2*n hex digits (either case) from s (slen bytes) into
 * out[n].  Returns 0, or -1 when slen != 2n or a byte is not a digit. */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);

#endif
