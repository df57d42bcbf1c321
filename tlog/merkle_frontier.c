/*
 * merkle_frontier.c - appending to an RFC 9162 tree without reading it
 * back: a reusable hasher, the tree's right edge (the frontier) and the
 * fold that rebuilds a hash from the level below a stored one (see
 * yima/tlog/merkle.h).  The ledger appends every record through these.
 */
#include <string.h>

/*
 * The hasher uses OpenSSL's low-level SHA-256 (deprecated in 3.0, kept in
 * 3.x): the ledger hashes two of these per record on ingest's hot path,
 * and EVP's per-digest work (init through the provider, a free and a
 * malloc, a cleanse) costs more than the compression of a 65-byte node:
 * measured (CPU time, this machine) 112 ns a node and 189 ns a 232-byte
 * leaf against 155 and 230 ns with a reused EVP context.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "yima/tlog/merkle.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

int merkle_hasher_init(merkle_hasher_t *h)
{
	h->hashes = 0;
	return 0;
}

void merkle_hasher_deinit(merkle_hasher_t *h)
{
	(void)h;
}

static int merkle_hasher_run(merkle_hasher_t *h, uint8_t prefix, const void *a, size_t alen,
	uint8_t out[MERKLE_HASH_SIZE])
{
	SHA256_CTX c;
	h->hashes++;
	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, &prefix, 1) != 1
	    || SHA256_Update(&c, a, alen) != 1 || SHA256_Final(out, &c) != 1)
		return YIMA_ECRYPTO;
	return 0;
}

int merkle_hasher_leaf(merkle_hasher_t *h, const void *entry, size_t len,
	uint8_t out[MERKLE_HASH_SIZE])
{
	return merkle_hasher_run(h, 0x00, entry, len, out);
}

int merkle_hasher_node(merkle_hasher_t *h, const uint8_t left[MERKLE_HASH_SIZE],
	const uint8_t right[MERKLE_HASH_SIZE], uint8_t out[MERKLE_HASH_SIZE])
{
	uint8_t both[2 * MERKLE_HASH_SIZE];	/* out may alias either */
	memcpy(both, left, MERKLE_HASH_SIZE);
	memcpy(both + MERKLE_HASH_SIZE, right, MERKLE_HASH_SIZE);
	return merkle_hasher_run(h, 0x01, both, sizeof both, out);
}

int merkle_fold(merkle_hasher_t *h, const uint8_t *hashes, size_t count,
	uint8_t out[MERKLE_HASH_SIZE])
{
	merkle_hash_t t[128];
	int rc;
	if (count == 0 || count > 256 || (count & (count - 1)) != 0)
		return YIMA_EINVAL;
	if (count == 1) {
		memcpy(out, hashes, MERKLE_HASH_SIZE);
		return 0;
	}
	for (size_t i = 0; i < count; i += 2)
		if ((rc = merkle_hasher_node(h, hashes + i * MERKLE_HASH_SIZE,
				hashes + (i + 1) * MERKLE_HASH_SIZE, t[i / 2])) < 0)
			return rc;
	for (count /= 2; count > 1; count /= 2)
		for (size_t i = 0; i < count; i += 2)
			if ((rc = merkle_hasher_node(h, t[i], t[i + 1], t[i / 2])) < 0)
				return rc;
	memcpy(out, t[0], MERKLE_HASH_SIZE);
	return 0;
}

void merkle_frontier_init(merkle_frontier_t *f)
{
	memset(f, 0, sizeof *f);
}

int merkle_frontier_append(merkle_frontier_t *f, merkle_hasher_t *h,
	const uint8_t leaf[MERKLE_HASH_SIZE], merkle_node_t out[MERKLE_MAX_APPEND], size_t *n)
{
	uint64_t index = f->size;
	size_t count = 1;
	int rc;
	if (index >= MERKLE_MAX_SIZE)
		return YIMA_EINVAL;
	out[0].level = 0;
	out[0].index = index;
	memcpy(out[0].hash, leaf, MERKLE_HASH_SIZE);
	/* Each trailing one bit of index closes a subtree whose left half is
	 * the frontier's hash at that level (merkle_append reads the same
	 * sibling from a store). */
	for (unsigned l = 0; (index >> l) & 1; l++, count++) {
		merkle_node_t *up = &out[count];
		up->level = l + 1;
		up->index = index >> (l + 1);
		if ((rc = merkle_hasher_node(h, f->h[l], out[count - 1].hash, up->hash)) < 0)
			return rc;
	}
	memcpy(f->h[count - 1], out[count - 1].hash, MERKLE_HASH_SIZE);
	f->size = index + 1;
	*n = count;
	return 0;
}

int merkle_frontier_root(const merkle_frontier_t *f, merkle_hasher_t *h,
	uint8_t out[MERKLE_HASH_SIZE])
{
	int rc, have = 0;
	if (f->size == 0) {
		merkle_empty_root(out);
		return 0;
	}
	/* RFC 9162's MTH splits at the largest power of two first: fold the
	 * decomposition from its smallest (rightmost) subtree up. */
	for (unsigned l = 0; l < 64; l++) {
		if (!((f->size >> l) & 1))
			continue;
		if (!have) {
			memcpy(out, f->h[l], MERKLE_HASH_SIZE);
			have = 1;
		} else if ((rc = merkle_hasher_node(h, f->h[l], out, out)) < 0) {
			return rc;
		}
	}
	return 0;
}

size_t merkle_frontier_encode(const merkle_frontier_t *f, uint8_t *out)
{
	size_t n = 8;
	put_u64be(out, f->size);
	for (unsigned l = 0; l < 64; l++)
		if ((f->size >> l) & 1) {
			memcpy(out + n, f->h[l], MERKLE_HASH_SIZE);
			n += MERKLE_HASH_SIZE;
		}
	return n;
}

int merkle_frontier_decode(const uint8_t *p, size_t len, merkle_frontier_t *f)
{
	size_t n = 8;
	merkle_frontier_init(f);
	if (len < 8)
		return YIMA_EFORMAT;
	f->size = get_u64be(p);
	if (f->size > MERKLE_MAX_SIZE
	    || len != 8 + (size_t)__builtin_popcountll(f->size) * MERKLE_HASH_SIZE)
		return YIMA_EFORMAT;
	for (unsigned l = 0; l < 64; l++)
		if ((f->size >> l) & 1) {
			memcpy(f->h[l], p + n, MERKLE_HASH_SIZE);
			n += MERKLE_HASH_SIZE;
		}
	return 0;
}
