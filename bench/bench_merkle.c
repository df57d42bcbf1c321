/*
 * bench_merkle.c - the cost of the RFC 9162 tree itself, with hashes in
 * memory: the floor under which no ledger storage of the tree can go.
 *
 *   bench_merkle [LEAVES [PROOFS]]	(defaults 10,000,000 and 100,000)
 *
 * Appends LEAVES synthetic 200-byte entries (leaf hash + merkle_append,
 * the per-record work of the ledger), then times PROOFS random inclusion
 * proofs and as many consistency proofs at the full size, each generated
 * and verified, from two readers: one holding every complete subtree
 * (2 hashes a leaf), and one holding only the hash tiles (levels 0, 8,
 * 16, ...: 32 bytes a leaf) that rebuilds the levels between from the
 * tile, as a tlog-tiles store does.
 *
 * Output, one line per measure:
 *   merkle append leaves=N ns_per_leaf=T
 *   merkle prove reader=all|tiles kind=inclusion|consistency p50_us=.. p99_us=.. max_us=..
 *   merkle verify kind=inclusion|consistency p50_us=.. p99_us=..
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yima/tlog/merkle.h"
#include "yima/tlog/tile.h"

typedef struct tree {
	merkle_hash_t *h[64];
	uint64_t n[64];
	uint64_t size;
} tree_t;

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int all_read(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	tree_t *t = ctx;
	if (level >= 64 || index >= t->n[level])
		return -4;
	memcpy(out, t->h[level][index], 32);
	return 0;
}

/* Only tile levels are looked at; the rest is rebuilt from the tile. */
static int tiles_read(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	tree_t *t = ctx;
	tile_t tile;
	unsigned start, count;
	tile_for_hash(level, index, &tile, &start, &count);
	unsigned w = tile_width(tile.level, tile.index, t->size);
	if (w < tile.width)
		return -4;
	tile.width = (uint16_t)w;
	const uint8_t *data = t->h[tile.level * 8][tile.index * 256];
	return tile_hash(&tile, data, (size_t)w * 32, level, index, out, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, double *us, size_t n)
{
	qsort(us, n, sizeof *us, cmp_double);
	printf("%s p50_us=%.2f p99_us=%.2f max_us=%.2f\n", what, us[n / 2],
		us[n * 99 / 100], us[n - 1]);
}

static void build(tree_t *t, uint64_t leaves)
{
	merkle_reader_t r = { all_read, t };
	uint8_t entry[200];
	memset(t, 0, sizeof *t);
	for (unsigned l = 0; l < 64 && (leaves >> l) > 0; l++)
		if ((t->h[l] = malloc(((leaves >> l) + 1) * 32)) == NULL)
			exit(1);
	memset(entry, 0xab, sizeof entry);
	double t0 = now_us();
	for (uint64_t i = 0; i < leaves; i++) {
		merkle_node_t out[MERKLE_MAX_APPEND];
		uint8_t leaf[32];
		size_t k;
		memcpy(entry, &i, sizeof i);
		if (merkle_leaf_hash(entry, sizeof entry, leaf) < 0
		    || merkle_append(&r, i, leaf, out, &k) < 0)
			exit(1);
		for (size_t j = 0; j < k; j++)
			memcpy(t->h[out[j].level][t->n[out[j].level]++], out[j].hash, 32);
	}
	t->size = leaves;
	printf("merkle append leaves=%llu ns_per_leaf=%.0f\n", (unsigned long long)leaves,
		(now_us() - t0) * 1e3 / (double)leaves);
}

static void prove(tree_t *t, merkle_reader_t *r, const char *name, size_t proofs,
	double *gen, double *ver, int consistency)
{
	uint8_t root[32], old_root[32];
	merkle_hash_t p[MERKLE_MAX_PROOF];
	char why[200];
	merkle_root(r, t->size, root);
	srand(42);
	for (size_t i = 0; i < proofs; i++) {
		uint64_t x = ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % t->size;
		size_t len;
		double a = now_us();
		int rc = consistency
			? merkle_prove_consistency(r, x + 1, t->size, p, &len, why, sizeof why)
			: merkle_prove_inclusion(r, x, t->size, p, &len, why, sizeof why);
		double b = now_us();
		if (consistency && rc == 0)
			rc = merkle_root(r, x + 1, old_root);
		double c = now_us();
		if (rc == 0)
			rc = consistency
				? merkle_verify_consistency(x + 1, t->size, p, len, old_root,
					root, why, sizeof why)
				: merkle_verify_inclusion(t->h[0][x], x, t->size, p, len, root,
					why, sizeof why);
		if (rc != 0) {
			fprintf(stderr, "%s proof %llu failed: %s\n", name,
				(unsigned long long)x, why);
			exit(1);
		}
		gen[i] = b - a;
		ver[i] = now_us() - c;
	}
}

int main(int argc, char **argv)
{
	uint64_t leaves = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	size_t proofs = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	tree_t t;
	double *gen = malloc(proofs * sizeof *gen), *ver = malloc(proofs * sizeof *ver);
	if (leaves == 0 || proofs == 0 || gen == NULL || ver == NULL)
		return 2;
	build(&t, leaves);
	static const char *const kinds[2] = { "inclusion", "consistency" };
	for (int k = 0; k < 2; k++) {
		char what[128];
		merkle_reader_t all = { all_read, &t }, tiles = { tiles_read, &t };
		prove(&t, &all, "all", proofs, gen, ver, k);
		snprintf(what, sizeof what, "merkle prove reader=all kind=%s", kinds[k]);
		report(what, gen, proofs);
		snprintf(what, sizeof what, "merkle verify kind=%s", kinds[k]);
		report(what, ver, proofs);
		prove(&t, &tiles, "tiles", proofs, gen, ver, k);
		snprintf(what, sizeof what, "merkle prove reader=tiles kind=%s", kinds[k]);
		report(what, gen, proofs);
	}
	return 0;
}
