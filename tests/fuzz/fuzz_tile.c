/*
 * fuzz_tile.c - libFuzzer harness for the tlog-tiles decoders: any bytes
 * are parsed as a tile path (tile_path_parse) and read as an entry bundle
 * (tile_bundle_next).
 *
 * Invariants: a parsed path formats back to exactly the same bytes; a
 * bundle either reads to its exact end, its entries and length prefixes
 * adding up to its size, or is YIMA_EFORMAT.  tests/fuzz/corpus/tile/ is
 * the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/tlog/tile.h"
#include "yima/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[TILE_PATH_MAX];
	size_t len = 0, off = 0, sum = 0, n;
	const uint8_t *e;
	tile_t t;
	int rc;

	if (tile_path_parse((const char *)data, size, &t, NULL, 0) == 0) {
		CHECK(t.width >= 1 && t.width <= TILE_WIDTH && t.level <= TILE_MAX_LEVEL);
		CHECK(tile_path_format(&t, out, sizeof out, &len) == 0);
		CHECK(len == size && memcmp(out, data, size) == 0);
	}
	while ((rc = tile_bundle_next(data, size, &off, &e, &n)) == 1) {
		CHECK(e >= data + 2 && e + n <= data + size);
		sum += 2 + n;
	}
	CHECK(rc == 0 ? sum == size && off == size : rc == YIMA_EFORMAT);
	return 0;
}
