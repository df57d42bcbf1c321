/*
 * tile_bundle.c - tlog-tiles entry bundles: each entry as a big-endian
 * uint16 length and its bytes; writing, reading and checking a bundle
 * against its level-0 hash tile (see yima/tlog/tile.h).
 */
#include <string.h>

#include "yima/tlog/tile.h"
#include "yima/util/error.h"

int tile_bundle_append(uint8_t *out, size_t cap, size_t *len, const void *entry, size_t n)
{
	if (n > TILE_ENTRY_MAX || *len > cap || cap - *len < n + 2)
		return YIMA_ETOOBIG;
	out[*len] = (uint8_t)(n >> 8);
	out[*len + 1] = (uint8_t)n;
	if (n > 0)
		memcpy(out + *len + 2, entry, n);
	*len += n + 2;
	return 0;
}

int tile_bundle_next(const uint8_t *data, size_t len, size_t *off,
	const uint8_t **entry, size_t *n)
{
	if (*off == len)
		return 0;
	if (*off > len || len - *off < 2)
		return YIMA_EFORMAT;
	size_t size = (size_t)data[*off] << 8 | data[*off + 1];
	if (len - *off - 2 < size)
		return YIMA_EFORMAT;
	*entry = data + *off + 2;
	*n = size;
	*off += 2 + size;
	return 1;
}

int tile_bundle_check(const uint8_t *data, size_t len, const uint8_t *tile, size_t tlen,
	char *why, size_t whylen)
{
	size_t off = 0, i = 0, n;
	const uint8_t *entry;
	int rc;
	if (tlen == 0 || tlen % MERKLE_HASH_SIZE != 0
	    || tlen > (size_t)TILE_WIDTH * MERKLE_HASH_SIZE)
		return yima_fail(why, whylen, YIMA_EFORMAT, "a hash tile of %zu bytes", tlen);
	size_t want = tlen / MERKLE_HASH_SIZE;
	while ((rc = tile_bundle_next(data, len, &off, &entry, &n)) == 1) {
		uint8_t h[MERKLE_HASH_SIZE];
		if (i == want)
			return yima_fail(why, whylen, YIMA_EMISMATCH,
				"the bundle has more than the tile's %zu entries", want);
		if ((rc = merkle_leaf_hash(entry, n, h)) < 0)
			return rc;
		if (memcmp(h, tile + i * MERKLE_HASH_SIZE, MERKLE_HASH_SIZE) != 0)
			return yima_fail(why, whylen, YIMA_EMISMATCH,
				"entry %zu of the bundle does not hash to the tile's", i);
		i++;
	}
	if (rc < 0)
		return yima_fail(why, whylen, rc, "the bundle is cut short after %zu "
			"entries", i);
	if (i != want)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the bundle has %zu entries, "
			"the tile %zu hashes", i, want);
	return 0;
}
