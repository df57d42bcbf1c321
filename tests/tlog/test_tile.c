/*
 * test_tile.c - C2SP tlog-tiles (yima/tlog/tile.h): tile paths both ways
 * and every non-canonical path refused, widths against the spec's worked
 * example (a tree of 70,000), every complete subtree of a 65,836-leaf tree
 * found in and rebuilt from its tile, proofs served from tiles alone, and
 * entry bundles written, read, cut short and checked against their tile.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "yima/tlog/merkle.h"
#include "yima/tlog/tile.h"
#include "yima/util/error.h"

/* ---- paths ------------------------------------------------------------ */

static const struct path_case {
	tile_t t;
	const char *path;
} paths[] = {
	{ { false, 0, 0, 256 }, "tile/0/000" },
	{ { false, 0, 1, 256 }, "tile/0/001" },
	{ { false, 3, 1234067, 256 }, "tile/3/x001/x234/067" },	/* the spec's example */
	{ { false, 63, 999, 255 }, "tile/63/999.p/255" },
	{ { false, 1, 1000, 1 }, "tile/1/x001/000.p/1" },
	{ { false, 2, 1000000, 17 }, "tile/2/x001/x000/000.p/17" },
	{ { true, 0, 0, 256 }, "tile/entries/000" },
	{ { true, 0, 273, 112 }, "tile/entries/273.p/112" },
	{ { true, 0, UINT64_MAX, 255 },
	  "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255" },
};

ParameterizedTestParameters(tile, path_both_ways)
{
	static size_t idx[sizeof paths / sizeof *paths];
	for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof *idx);
}

ParameterizedTest(size_t *i, tile, path_both_ways)
{
	const struct path_case *c = &paths[*i];
	char out[TILE_PATH_MAX], why[200] = "";
	size_t len;
	tile_t t;
	cr_assert_eq(tile_path_format(&c->t, out, sizeof out, &len), 0);
	cr_assert_str_eq(out, c->path);
	cr_assert_eq(len, strlen(c->path));
	cr_assert_eq(tile_path_parse(c->path, strlen(c->path), &t, why, sizeof why), 0,
		"%s: %s", c->path, why);
	cr_assert_eq(t.entries, c->t.entries);
	cr_assert_eq(t.level, c->t.level);
	cr_assert_eq(t.index, c->t.index);
	cr_assert_eq(t.width, c->t.width);
}

static const char *const bad_paths[] = {
	"", "tile", "tile/", "tile/0", "tile/0/", "/tile/0/000", "Tile/0/000",
	"tile/00/000",			/* leading zero in L */
	"tile/64/000", "tile/-1/000", "tile/+1/000", "tile/1a/000",
	"tile/0/0", "tile/0/00", "tile/0/0000", "tile/0/00a", "tile/0/ 000",
	"tile/0/x000/001",		/* a leading zero group */
	"tile/0/001/002",		/* a group without its x */
	"tile/0/x001",			/* an x group last */
	"tile/0/x001/",
	"tile/0/x1/000", "tile/0/x0001/000", "tile/0/xx001/000", "tile/0/X001/000",
	"tile/0/000/",
	"tile/0/000.p", "tile/0/000.p/", "tile/0/000.p/0", "tile/0/000.p/256",
	"tile/0/000.p/05", "tile/0/000.p/5/", "tile/0/000.p/1000", "tile/0/000.q/5",
	"tile/0/000p/5", "tile/0/x001.p/5/000",
	"tile/entries/000.p/256", "tile/entry/000", "tile/data/000", "tile/8/0/000",
	"tile/0/x018/x446/x744/x073/x709/x551/616",	/* 2^64 */
	"tile/0/x001/x234/067x", "tile/0/000?x=1",
};

ParameterizedTestParameters(tile, path_refused)
{
	static size_t idx[sizeof bad_paths / sizeof *bad_paths];
	for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof *idx);
}

ParameterizedTest(size_t *i, tile, path_refused)
{
	const char *p = bad_paths[*i];
	char why[200] = "";
	tile_t t;
	cr_assert_eq(tile_path_parse(p, strlen(p), &t, why, sizeof why), YIMA_EFORMAT,
		"accepted \"%s\"", p);
	cr_assert(strncmp(why, "tile path: ", 11) == 0, "%s", why);
}

Test(tile, random_paths_round_trip)
{
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;	/* xorshift64 */
		tile_t t = { (x & 1) != 0, 0, x >> (x % 64), (uint16_t)(1 + (x >> 8) % 256) }, u;
		if (!t.entries)
			t.level = (uint8_t)((x >> 20) % 64);
		char out[TILE_PATH_MAX], why[200];
		size_t len;
		cr_assert_eq(tile_path_format(&t, out, sizeof out, &len), 0);
		cr_assert_eq(tile_path_parse(out, len, &u, why, sizeof why), 0, "%s: %s", out, why);
		cr_assert(u.entries == t.entries && u.level == t.level && u.index == t.index
			&& u.width == t.width, "%s", out);
	}
}

Test(tile, path_format_refuses)
{
	char out[TILE_PATH_MAX];
	tile_t t = { false, 64, 0, 256 };
	cr_assert_eq(tile_path_format(&t, out, sizeof out, NULL), YIMA_EINVAL);
	t = (tile_t){ false, 0, 0, 0 };
	cr_assert_eq(tile_path_format(&t, out, sizeof out, NULL), YIMA_EINVAL);
	t = (tile_t){ false, 0, 0, 257 };
	cr_assert_eq(tile_path_format(&t, out, sizeof out, NULL), YIMA_EINVAL);
	t = (tile_t){ true, 1, 0, 256 };
	cr_assert_eq(tile_path_format(&t, out, sizeof out, NULL), YIMA_EINVAL);
	t = (tile_t){ false, 0, 1234067, 256 };
	cr_assert_eq(tile_path_format(&t, out, 20, NULL), YIMA_ETOOBIG);
	cr_assert_eq(tile_path_format(&t, out, 21, NULL), 0);
}

/* ---- widths ----------------------------------------------------------- */

Test(tile, widths_of_the_spec_example)
{
	/* "a tree of size 70,000 will be represented by 273 full level 0
	 * tiles, one partial level 0 tile of width 112, one full level 1
	 * tile, one partial level 1 tile of width 17, and one partial level
	 * 2 tile of width 1" */
	for (uint64_t n = 0; n < 273; n++)
		cr_assert_eq(tile_width(0, n, 70000), 256);
	cr_assert_eq(tile_width(0, 273, 70000), 112);
	cr_assert_eq(tile_width(0, 274, 70000), 0);
	cr_assert_eq(tile_width(1, 0, 70000), 256);
	cr_assert_eq(tile_width(1, 1, 70000), 17);
	cr_assert_eq(tile_width(1, 2, 70000), 0);
	cr_assert_eq(tile_width(2, 0, 70000), 1);
	cr_assert_eq(tile_width(3, 0, 70000), 0);
	/* "a tree of size 256 ... a full level 0 tile and a partial level 1
	 * tile of width 1" */
	cr_assert_eq(tile_width(0, 0, 256), 256);
	cr_assert_eq(tile_width(0, 1, 256), 0);
	cr_assert_eq(tile_width(1, 0, 256), 1);
	cr_assert_eq(tile_width(0, 0, 0), 0);
	cr_assert_eq(tile_width(7, 0, UINT64_MAX), 255);
	cr_assert_eq(tile_width(8, 0, UINT64_MAX), 0);
	cr_assert_eq(tile_width(0, UINT64_MAX, UINT64_MAX), 0);
	cr_assert_eq(tile_width(0, UINT64_MAX / 256, UINT64_MAX), 255);
}

/* ---- a real tree kept as tiles ---------------------------------------- */

#define TREE (256 * 256 + 300)

typedef struct levels {
	merkle_hash_t *h[20];
	uint64_t n[20];
} levels_t;

static levels_t tree;

static int levels_read(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	levels_t *l = ctx;
	if (level >= 20 || index >= l->n[level])
		return YIMA_ENOTFOUND;
	memcpy(out, l->h[level][index], 32);
	return 0;
}

/* Build every complete subtree of TREE leaves ("entry <i>") by appending. */
static void tree_build(void)
{
	merkle_reader_t r = { levels_read, &tree };
	memset(&tree, 0, sizeof tree);
	for (unsigned l = 0; l < 20; l++)
		cr_assert((tree.h[l] = calloc((TREE >> l) + 1, 32)) != NULL);
	for (uint64_t i = 0; i < TREE; i++) {
		char e[32];
		uint8_t leaf[32];
		merkle_node_t out[MERKLE_MAX_APPEND];
		size_t k;
		int len = snprintf(e, sizeof e, "entry %llu", (unsigned long long)i);
		cr_assert_eq(merkle_leaf_hash(e, (size_t)len, leaf), 0);
		cr_assert_eq(merkle_append(&r, i, leaf, out, &k), 0);
		for (size_t j = 0; j < k; j++)
			memcpy(tree.h[out[j].level][tree.n[out[j].level]++], out[j].hash, 32);
	}
}

/* The tile data a tile store holds for (level, index) at size TREE: the
 * level-8L hashes of the tile, as many as the tree has. */
static const uint8_t *tile_data(unsigned level, uint64_t index, size_t *len)
{
	unsigned w = tile_width(level, index, TREE);
	*len = (size_t)w * 32;
	return (const uint8_t *)tree.h[level * 8][index * 256];
}

Test(tile, every_hash_of_a_tree_from_its_tile)
{
	tree_build();
	unsigned long checked = 0;
	for (unsigned level = 0; level < 17; level++)
		for (uint64_t n = 0; n < tree.n[level]; n++) {
			tile_t t;
			unsigned start, count;
			uint8_t h[32];
			size_t len;
			char why[200] = "";
			tile_for_hash(level, n, &t, &start, &count);
			cr_assert_eq(t.level, level / 8);
			cr_assert_eq(count, 1u << (level % 8));
			cr_assert_eq((t.index * 256 + start) << (level / 8 * 8), n << level,
				"the tile's hashes start where the subtree does");
			const uint8_t *data = tile_data(t.level, t.index, &len);
			cr_assert_geq(len / 32, t.width, "(%u, %llu) beyond its tile", level,
				(unsigned long long)n);
			tile_t have = t;
			have.width = (uint16_t)(len / 32);
			cr_assert_eq(tile_hash(&have, data, len, level, n, h, why, sizeof why), 0,
				"%s", why);
			cr_assert_arr_eq(h, tree.h[level][n], 32, "(%u, %llu)", level,
				(unsigned long long)n);
			checked++;
		}
	cr_assert_eq(checked, 2ul * TREE - (unsigned long)__builtin_popcountll(TREE));
}

/* A reader that has nothing but tiles, as a client that fetched them. */
static int tiles_read(void *ctx, unsigned level, uint64_t n, uint8_t out[32])
{
	tile_t t;
	unsigned start, count;
	size_t len;
	(void)ctx;
	tile_for_hash(level, n, &t, &start, &count);
	const uint8_t *data = tile_data(t.level, t.index, &len);
	t.width = (uint16_t)(len / 32);
	return tile_hash(&t, data, len, level, n, out, NULL, 0);
}

Test(tile, proofs_from_tiles_alone)
{
	tree_build();
	merkle_reader_t tiles = { tiles_read, NULL }, all = { levels_read, &tree };
	uint8_t root[32], want[32];
	char why[200] = "";
	cr_assert_eq(merkle_root(&tiles, TREE, root), 0);
	cr_assert_eq(merkle_root(&all, TREE, want), 0);
	cr_assert_arr_eq(root, want, 32);
	for (uint64_t i = 0; i < TREE; i += 997) {
		merkle_hash_t p[MERKLE_MAX_PROOF];
		size_t len;
		cr_assert_eq(merkle_prove_inclusion(&tiles, i, TREE, p, &len, why, sizeof why), 0);
		cr_assert_eq(merkle_verify_inclusion(tree.h[0][i], i, TREE, p, len, root, why,
			sizeof why), 0, "%s", why);
		uint8_t old_root[32];
		cr_assert_eq(merkle_root(&all, i + 1, old_root), 0);
		cr_assert_eq(merkle_prove_consistency(&tiles, i + 1, TREE, p, &len, why,
			sizeof why), 0);
		cr_assert_eq(merkle_verify_consistency(i + 1, TREE, p, len, old_root, root,
			why, sizeof why), 0, "%s", why);
	}
}

Test(tile, tile_hash_refuses_the_wrong_tile)
{
	uint8_t data[256 * 32] = { 0 }, h[32];
	char why[200] = "";
	tile_t t = { false, 0, 0, 256 };
	cr_assert_eq(tile_hash(&t, data, sizeof data, 3, 1, h, why, sizeof why), 0);
	cr_assert_eq(tile_hash(&t, data, sizeof data, 3, 32, h, why, sizeof why), YIMA_EINVAL,
		"hash (3, 32) starts at 256: the next tile");
	cr_assert(strstr(why, "(3, 32)") != NULL, "%s", why);
	cr_assert_eq(tile_hash(&t, data, sizeof data - 1, 0, 0, h, why, sizeof why), YIMA_EINVAL);
	cr_assert_eq(tile_hash(&t, data, sizeof data, 8, 0, h, why, sizeof why), YIMA_EINVAL,
		"level 8 is in tile level 1");
	t.width = 15;
	cr_assert_eq(tile_hash(&t, data, 15 * 32, 3, 1, h, why, sizeof why), YIMA_EINVAL,
		"hashes 8..15 need width 16");
	t.width = 16;
	cr_assert_eq(tile_hash(&t, data, 16 * 32, 3, 1, h, why, sizeof why), 0);
	t.entries = true;
	cr_assert_eq(tile_hash(&t, data, 16 * 32, 3, 1, h, why, sizeof why), YIMA_EINVAL);
	t = (tile_t){ false, 0, 0, 256 };
	cr_assert_eq(tile_hash(&t, data, sizeof data, 64, 0, h, why, sizeof why), YIMA_EINVAL);
}

/* ---- entry bundles ---------------------------------------------------- */

Test(tile, bundle_write_read)
{
	static uint8_t buf[70000 + 16], big[TILE_ENTRY_MAX + 1];
	const uint8_t *e;
	size_t len = 0, off = 0, n;
	memset(big, 'b', sizeof big);
	cr_assert_eq(tile_bundle_append(buf, sizeof buf, &len, "", 0), 0);
	cr_assert_eq(tile_bundle_append(buf, sizeof buf, &len, "a", 1), 0);
	cr_assert_eq(tile_bundle_append(buf, sizeof buf, &len, big, TILE_ENTRY_MAX), 0);
	cr_assert_eq(len, 2 + 3 + 2 + TILE_ENTRY_MAX);
	cr_assert_eq(buf[2], 0x00);
	cr_assert_eq(buf[3], 0x01, "big-endian uint16 length");
	cr_assert_eq(buf[5], 0xff);
	cr_assert_eq(buf[6], 0xff);
	size_t before = len;
	cr_assert_eq(tile_bundle_append(buf, sizeof buf, &len, big, TILE_ENTRY_MAX + 1),
		YIMA_ETOOBIG);
	cr_assert_eq(tile_bundle_append(buf, len + 2, &len, "x", 1), YIMA_ETOOBIG, "no room");
	cr_assert_eq(len, before);
	cr_assert_eq(tile_bundle_next(buf, len, &off, &e, &n), 1);
	cr_assert_eq(n, 0);
	cr_assert_eq(tile_bundle_next(buf, len, &off, &e, &n), 1);
	cr_assert(n == 1 && e[0] == 'a');
	cr_assert_eq(tile_bundle_next(buf, len, &off, &e, &n), 1);
	cr_assert_eq(n, TILE_ENTRY_MAX);
	cr_assert_eq(tile_bundle_next(buf, len, &off, &e, &n), 0);
	/* cut short inside a length or an entry (2 and 5 are entry ends) */
	static const size_t cuts[] = { 1, 3, 4, 6, 7, 100 };
	for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
		size_t o = 0;
		int rc;
		while ((rc = tile_bundle_next(buf, cuts[c], &o, &e, &n)) == 1)
			;
		cr_assert_eq(rc, YIMA_EFORMAT, "cut at %zu", cuts[c]);
	}
	off = 0;
	cr_assert_eq(tile_bundle_next(buf, len - 1, &off, &e, &n), 1);
	cr_assert_eq(tile_bundle_next(buf, len - 1, &off, &e, &n), 1);
	cr_assert_eq(tile_bundle_next(buf, len - 1, &off, &e, &n), YIMA_EFORMAT);
}

/* A bundle of w entries "entry <i>" from first, and its level-0 tile. */
static size_t bundle_and_tile(uint64_t first, unsigned w, uint8_t *bundle, size_t cap,
	uint8_t *tile)
{
	size_t len = 0;
	for (unsigned i = 0; i < w; i++) {
		char e[32];
		int n = snprintf(e, sizeof e, "entry %llu", (unsigned long long)(first + i));
		cr_assert_eq(tile_bundle_append(bundle, cap, &len, e, (size_t)n), 0);
		cr_assert_eq(merkle_leaf_hash(e, (size_t)n, tile + (size_t)i * 32), 0);
	}
	return len;
}

Test(tile, bundle_against_its_tile)
{
	static uint8_t bundle[256 * 24], tile[256 * 32];
	char why[200] = "";
	size_t len = bundle_and_tile(512, 256, bundle, sizeof bundle, tile);
	cr_assert_eq(tile_bundle_check(bundle, len, tile, sizeof tile, why, sizeof why), 0,
		"%s", why);
	/* the tree's own level-0 tile 2 agrees too */
	tree_build();
	cr_assert_arr_eq(tile, tree.h[0][512], sizeof tile);
	bundle[100] ^= 1;
	cr_assert_eq(tile_bundle_check(bundle, len, tile, sizeof tile, why, sizeof why),
		YIMA_EMISMATCH);
	bundle[100] ^= 1;
	cr_assert_eq(tile_bundle_check(bundle, len, tile, 255 * 32, why, sizeof why),
		YIMA_EMISMATCH, "one entry too many");
	size_t shorter = bundle_and_tile(512, 255, bundle, sizeof bundle, tile);
	cr_assert_eq(tile_bundle_check(bundle, shorter, tile, sizeof tile, why, sizeof why),
		YIMA_EMISMATCH, "one entry missing");
	cr_assert(strstr(why, "255 entries") != NULL, "%s", why);
	cr_assert_eq(tile_bundle_check(bundle, shorter - 1, tile, 255 * 32, why, sizeof why),
		YIMA_EFORMAT, "cut short");
	cr_assert_eq(tile_bundle_check(bundle, shorter, tile, 0, why, sizeof why), YIMA_EFORMAT);
	cr_assert_eq(tile_bundle_check(bundle, shorter, tile, 31, why, sizeof why), YIMA_EFORMAT);
}
