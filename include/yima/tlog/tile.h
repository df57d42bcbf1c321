/*
 * tile.h - C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the static
 * layout in which the log serves its tree, and in which a store may keep
 * it (spec section 8).
 *
 * A hash tile at level L, index N holds up to 256 consecutive tree hashes
 * of tree level 8L: hash i (0..255) is MTH(D[(N*256 + i) * 256^L :
 * (N*256 + i + 1) * 256^L]), i.e. the complete subtree (8L, N*256 + i) of
 * yima/tlog/merkle.h.  A full tile has 256 (8,192 bytes); the rightmost
 * tiles of a tree of size s are partial, with floor(s / 256^L) mod 256
 * hashes.  Hashes of the 7 tree levels between two tile levels are not
 * stored: they are rebuilt from the tile (tile_hash).
 *
 * An entry bundle holds the entries of level-0 tile N, each as a
 * big-endian uint16 length and its bytes; an entry is therefore at most
 * 65,535 bytes.
 *
 * Paths, relative to the log's prefix: tile/<L>/<N>[.p/<W>] and
 * tile/entries/<N>[.p/<W>], where N is written in 3-digit groups, all but
 * the last prefixed with x (1234067 is x001/x234/067), and .p/<W> (W in
 * 1..255) marks a partial tile of width W.
 */
#ifndef YIMA_CORE_TILE_H
#define YIMA_CORE_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/tlog/merkle.h"

#define TILE_HEIGHT 8
#define TILE_WIDTH 256		/* hashes or entries in a full tile */
#define TILE_MAX_LEVEL 63
#define TILE_ENTRY_MAX 65535	/* bytes in one entry of a bundle */
#define TILE_PATH_MAX 64	/* longest path + NUL ("tile/entries/x018/.../615.p/255") */

typedef struct tile {
	bool entries;		/* an entry bundle, else a hash tile */
	uint8_t level;		/* L, 0..63 (0 for bundles) */
	uint64_t index;		/* N */
	uint16_t width;		/* W, 1..256; 256 is a full tile */
} tile_t;

/*
 * Write t's path into out (capacity cap, NUL-terminated; TILE_PATH_MAX is
 * always enough), its length into *len (may be NULL).  Returns 0,
 * YIMA_EINVAL (level over 63, width not 1..256, a bundle with a level) or
 * YIMA_ETOOBIG.
 */
int tile_path_format(const tile_t *t, char *out, size_t cap, size_t *len);

/*
 * Parse a path (len bytes, no leading slash, no query) into *t.  Strict:
 * only the canonical spelling tile_path_format writes is accepted (no
 * leading zeros in L or W, no x000 leading group, exactly 3 digits a
 * group, N within 64 bits, W in 1..255).  Returns 0 or YIMA_EFORMAT with
 * why.
 */
int tile_path_parse(const char *path, size_t len, tile_t *t, char *why, size_t whylen);

/*
 * Where the complete subtree (level, n) is: the hash tile t (width set to
 * the least width that holds it) and, in it, the 2^(level % 8) hashes
 * start..start+count-1 whose subtree root it is (one hash, count 1, when
 * level is a multiple of 8: that is where a store writes it).  level must
 * be 0..63 and (n + 1) << level must not overflow (a subtree of a tree of
 * at most 2^63 leaves).
 */
void tile_for_hash(unsigned level, uint64_t n, tile_t *t, unsigned *start,
	unsigned *count);

/*
 * The hash of the complete subtree (level, n) from the data of hash tile t
 * (len bytes: exactly t->width hashes).  Returns 0, YIMA_EINVAL (t is not
 * the tile tile_for_hash names, or too narrow, or len is not its size,
 * with why) or YIMA_ECRYPTO.
 */
int tile_hash(const tile_t *t, const uint8_t *data, size_t len, unsigned level,
	uint64_t n, uint8_t out[MERKLE_HASH_SIZE], char *why, size_t whylen);

/* The width of hash tile (level, index), or of entry bundle index with
 * level 0, in a tree of size leaves: 0 when it has nothing yet, 256 when
 * full, else the partial width. */
unsigned tile_width(unsigned level, uint64_t index, uint64_t size);

/*
 * Append entry (n bytes) to the bundle out[0..*len) of capacity cap, as a
 * big-endian uint16 length and the bytes; *len grows by n + 2.  Returns 0
 * or YIMA_ETOOBIG (n over TILE_ENTRY_MAX, or no room), out unchanged then.
 */
int tile_bundle_append(uint8_t *out, size_t cap, size_t *len, const void *entry, size_t n);

/*
 * Read the entry at *off of bundle data[0..len): *entry points into data
 * (valid while data is) for *n bytes, and *off moves past it.  Returns 1
 * with an entry, 0 at the end, YIMA_EFORMAT when the bundle is cut short.
 */
int tile_bundle_next(const uint8_t *data, size_t len, size_t *off,
	const uint8_t **entry, size_t *n);

/*
 * Check that bundle data[0..len) is exactly the entries level-0 hash tile
 * tile[0..tlen) hashes: as many entries as hashes, each entry's leaf hash
 * equal to its hash.  Returns 0, YIMA_EFORMAT (malformed bundle or tile
 * size), YIMA_EMISMATCH (a count or hash that differs, with why) or
 * YIMA_ECRYPTO.
 */
int tile_bundle_check(const uint8_t *data, size_t len, const uint8_t *tile, size_t tlen,
	char *why, size_t whylen);

#endif
