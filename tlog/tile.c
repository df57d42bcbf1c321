/*
 * tile.c - tlog-tiles paths and coordinates: which tile holds which tree
 * hash, how wide a tile is at a given tree size, and rebuilding a hash of
 * the levels between two tile levels (see yima/tlog/tile.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "yima/tlog/tile.h"
#include "yima/util/error.h"

/* Print at out[*at..cap); once out of room (*at >= cap) later calls do
 * nothing, so the caller checks once. */
__attribute__((format(printf, 4, 5)))
static void tile_put(char *out, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	if (*at >= cap)
		return;
	va_start(ap, fmt);
	int w = vsnprintf(out + *at, cap - *at, fmt, ap);
	va_end(ap);
	*at = w < 0 ? cap : *at + (size_t)w;
}

int tile_path_format(const tile_t *t, char *out, size_t cap, size_t *len)
{
	unsigned groups[7];	/* 2^64 has 20 digits: 7 groups of 3 */
	size_t ng = 0, at = 0;
	uint64_t n = t->index;
	if (t->level > TILE_MAX_LEVEL || t->width < 1 || t->width > TILE_WIDTH
	    || (t->entries && t->level != 0))
		return YIMA_EINVAL;
	do {
		groups[ng++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n > 0);
	if (t->entries)
		tile_put(out, cap, &at, "tile/entries/");
	else
		tile_put(out, cap, &at, "tile/%u/", (unsigned)t->level);
	while (ng > 1)
		tile_put(out, cap, &at, "x%03u/", groups[--ng]);
	tile_put(out, cap, &at, "%03u", groups[0]);
	if (t->width < TILE_WIDTH)
		tile_put(out, cap, &at, ".p/%u", (unsigned)t->width);
	if (at >= cap)
		return YIMA_ETOOBIG;
	if (len != NULL)
		*len = at;
	return 0;
}

/* A decimal in [min, max] with no leading zero, over all of s[0..n). */
static int tile_decimal(const char *s, size_t n, unsigned min, unsigned max, unsigned *out)
{
	unsigned v = 0;
	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Three digits exactly. */
static int tile_group(const char *s, const char *end, unsigned *out)
{
	if (end - s < 3)
		return -1;
	*out = 0;
	for (int i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

/* N as x-groups and a last group, then an optional .p/<W> and the end. */
static int tile_parse_index(const char *p, const char *end, tile_t *t)
{
	uint64_t n = 0;
	unsigned g, w;
	for (int first = 1;; first = 0) {
		int x = p < end && *p == 'x';
		if (tile_group(p + x, end, &g) < 0 || (x && first && g == 0))
			return -1;
		if (n > (UINT64_MAX - g) / 1000)
			return -1;
		n = n * 1000 + g;
		p += x + 3;
		if (!x)
			break;
		if (p >= end || *p++ != '/')
			return -1;
	}
	t->index = n;
	t->width = TILE_WIDTH;
	if (p == end)
		return 0;
	if (end - p < 4 || memcmp(p, ".p/", 3) != 0
	    || tile_decimal(p + 3, (size_t)(end - p - 3), 1, TILE_WIDTH - 1, &w) < 0)
		return -1;
	t->width = (uint16_t)w;
	return 0;
}

int tile_path_parse(const char *path, size_t len, tile_t *t, char *why, size_t whylen)
{
	const char *p = path, *end = path + len;
	unsigned level = 0;
	memset(t, 0, sizeof *t);
	if (len < 5 || memcmp(p, "tile/", 5) != 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "tile path: not tile/...");
	p += 5;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	if (slash == NULL)
		return yima_fail(why, whylen, YIMA_EFORMAT, "tile path: no tile index");
	if ((size_t)(slash - p) == 7 && memcmp(p, "entries", 7) == 0)
		t->entries = true;
	else if (tile_decimal(p, (size_t)(slash - p), 0, TILE_MAX_LEVEL, &level) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "tile path: level \"%.*s\" "
			"is not 0..63 without leading zeros", (int)(slash - p), p);
	t->level = (uint8_t)level;
	if (tile_parse_index(slash + 1, end, t) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "tile path: \"%.*s\" is not "
			"an index in x-prefixed 3-digit groups with an optional .p/<1..255>",
			(int)(end - slash - 1), slash + 1);
	return 0;
}

void tile_for_hash(unsigned level, uint64_t n, tile_t *t, unsigned *start,
	unsigned *count)
{
	unsigned k = level % TILE_HEIGHT;
	uint64_t first = n << k;	/* its first hash at the tile's level */
	t->entries = false;
	t->level = (uint8_t)(level / TILE_HEIGHT);
	t->index = first / TILE_WIDTH;
	*start = (unsigned)(first % TILE_WIDTH);
	*count = 1u << k;
	t->width = (uint16_t)(*start + *count);
}

int tile_hash(const tile_t *t, const uint8_t *data, size_t len, unsigned level,
	uint64_t n, uint8_t out[MERKLE_HASH_SIZE], char *why, size_t whylen)
{
	merkle_hash_t h[TILE_WIDTH / 2];
	unsigned start, count;
	tile_t want;
	int rc;
	if (level > TILE_MAX_LEVEL)
		return yima_fail(why, whylen, YIMA_EINVAL, "level %u is over 63", level);
	tile_for_hash(level, n, &want, &start, &count);
	if (t->entries || t->level != want.level || t->index != want.index
	    || t->width < want.width || t->width > TILE_WIDTH
	    || len != (size_t)t->width * MERKLE_HASH_SIZE)
		return yima_fail(why, whylen, YIMA_EINVAL, "hash (%u, %llu) is not in "
			"a tile (%u, %llu) of %u hashes and %zu bytes", level,
			(unsigned long long)n, (unsigned)t->level,
			(unsigned long long)t->index, (unsigned)t->width, len);
	if (count == 1) {
		memcpy(out, data + (size_t)start * MERKLE_HASH_SIZE, MERKLE_HASH_SIZE);
		return 0;
	}
	/* the perfect subtree over count tile hashes, level by level */
	for (unsigned i = 0; i < count; i += 2) {
		const uint8_t *l = data + (size_t)(start + i) * MERKLE_HASH_SIZE;
		if ((rc = merkle_node_hash(l, l + MERKLE_HASH_SIZE, h[i / 2])) < 0)
			return rc;
	}
	for (count /= 2; count > 1; count /= 2)
		for (unsigned i = 0; i < count; i += 2)
			if ((rc = merkle_node_hash(h[i], h[i + 1], h[i / 2])) < 0)
				return rc;
	memcpy(out, h[0], MERKLE_HASH_SIZE);
	return 0;
}

unsigned tile_width(unsigned level, uint64_t index, uint64_t size)
{
	/* hashes at tree level 8 * level; none when 256^level > size */
	if (level >= 8)
		return 0;
	uint64_t count = size >> (TILE_HEIGHT * level);
	if (index > count / TILE_WIDTH)
		return 0;
	uint64_t left = count - index * TILE_WIDTH;
	return left >= TILE_WIDTH ? TILE_WIDTH : (unsigned)left;
}
