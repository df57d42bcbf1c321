/*
 * merkle_verify.c - checking inclusion and consistency proofs, step by step
 * as RFC 9162 sections 2.1.3.2 and 2.1.4.2 write them (see
 * yima/tlog/merkle.h).  This is all a client or an offline verifier needs
 * of the tree: no storage, a leaf hash, sizes, roots and the proof.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "yima/tlog/merkle.h"
#include "yima/util/error.h"

/* Right-shift fn and sn together until fn's low bit is set or fn is 0
 * (the RFC's step for a right edge that is not a right child). */
static void merkle_skip_edge(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

static int merkle_same(const uint8_t a[MERKLE_HASH_SIZE], const uint8_t b[MERKLE_HASH_SIZE])
{
	return CRYPTO_memcmp(a, b, MERKLE_HASH_SIZE) == 0;
}

int merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH_SIZE], uint64_t index,
	uint64_t size, const merkle_hash_t *proof, size_t len,
	const uint8_t root[MERKLE_HASH_SIZE], char *why, size_t whylen)
{
	if (size > MERKLE_MAX_SIZE || index >= size)
		return yima_fail(why, whylen, YIMA_EINVAL,
			"index %llu is not in a tree of size %llu",
			(unsigned long long)index, (unsigned long long)size);
	uint64_t fn = index, sn = size - 1;
	merkle_hash_t r;
	int rc;
	memcpy(r, leaf, MERKLE_HASH_SIZE);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return yima_fail(why, whylen, YIMA_EMISMATCH,
				"inclusion proof has %zu hashes, more than index %llu "
				"in size %llu needs", len, (unsigned long long)index,
				(unsigned long long)size);
		if ((fn & 1) || fn == sn) {
			rc = merkle_node_hash(proof[i], r, r);
			merkle_skip_edge(&fn, &sn);
		} else {
			rc = merkle_node_hash(r, proof[i], r);
		}
		if (rc < 0)
			return rc;
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"inclusion proof has %zu hashes, fewer than index %llu "
			"in size %llu needs", len, (unsigned long long)index,
			(unsigned long long)size);
	if (!merkle_same(r, root))
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"inclusion proof of index %llu leads to another root than "
			"the tree of size %llu has", (unsigned long long)index,
			(unsigned long long)size);
	return 0;
}

/* The sizes the RFC algorithm does not cover: equal sizes, and an empty
 * old tree, which every tree extends.  Returns 0 or YIMA_EMISMATCH. */
static int merkle_consistency_edge(uint64_t old_size, uint64_t size, size_t len,
	const uint8_t old_root[MERKLE_HASH_SIZE], const uint8_t root[MERKLE_HASH_SIZE],
	char *why, size_t whylen)
{
	merkle_hash_t empty;
	merkle_empty_root(empty);
	if (len != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"consistency proof from size %llu to %llu must be empty, "
			"it has %zu hashes", (unsigned long long)old_size,
			(unsigned long long)size, len);
	if (old_size == size && !merkle_same(old_root, root))
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"two different roots for the same size %llu",
			(unsigned long long)size);
	if (old_size == 0 && !merkle_same(old_root, empty))
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"the old root is not the empty tree's root, as size 0 needs");
	return 0;
}

/* RFC 9162 2.1.4.2 steps 2-6: run path[0..n) (the proof, with the old root
 * in front when old_size is a power of two) into fr and sr.  Returns 0,
 * YIMA_EMISMATCH (too many hashes) or YIMA_ECRYPTO. */
static int merkle_run_consistency(uint64_t old_size, uint64_t size,
	const uint8_t *const path[], size_t n, uint8_t fr[MERKLE_HASH_SIZE],
	uint8_t sr[MERKLE_HASH_SIZE], uint64_t *sn_out)
{
	uint64_t fn = old_size - 1, sn = size - 1;
	int rc = 0;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, path[0], MERKLE_HASH_SIZE);
	memcpy(sr, path[0], MERKLE_HASH_SIZE);
	for (size_t i = 1; i < n && rc == 0; i++) {
		if (sn == 0)
			return YIMA_EMISMATCH;
		if ((fn & 1) || fn == sn) {
			rc = merkle_node_hash(path[i], fr, fr);
			if (rc == 0)
				rc = merkle_node_hash(path[i], sr, sr);
			merkle_skip_edge(&fn, &sn);
		} else {
			rc = merkle_node_hash(sr, path[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	*sn_out = sn;
	return rc;
}

int merkle_verify_consistency(uint64_t old_size, uint64_t size,
	const merkle_hash_t *proof, size_t len,
	const uint8_t old_root[MERKLE_HASH_SIZE], const uint8_t root[MERKLE_HASH_SIZE],
	char *why, size_t whylen)
{
	int rc;
	if (size > MERKLE_MAX_SIZE || old_size > size)
		return yima_fail(why, whylen, YIMA_EINVAL,
			"no consistency from size %llu to size %llu",
			(unsigned long long)old_size, (unsigned long long)size);
	if (old_size == 0 || old_size == size)
		return merkle_consistency_edge(old_size, size, len, old_root, root,
			why, whylen);
	if (len == 0 || len > MERKLE_MAX_PROOF)
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"consistency proof from size %llu to %llu has %zu hashes",
			(unsigned long long)old_size, (unsigned long long)size, len);
	/* Step 2: an old tree that is a complete subtree is not sent. */
	const uint8_t *path[MERKLE_MAX_PROOF + 1];
	size_t n = 0;
	if ((old_size & (old_size - 1)) == 0)
		path[n++] = old_root;
	for (size_t i = 0; i < len; i++)
		path[n++] = proof[i];
	merkle_hash_t fr, sr;
	uint64_t sn;
	rc = merkle_run_consistency(old_size, size, path, n, fr, sr, &sn);
	if (rc == YIMA_EMISMATCH || (rc == 0 && sn != 0))
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"consistency proof from size %llu to %llu has %s hashes "
			"(%zu)", (unsigned long long)old_size,
			(unsigned long long)size, rc < 0 ? "too many" : "too few", len);
	if (rc < 0)
		return rc;
	if (!merkle_same(fr, old_root))
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"consistency proof does not lead to the old root (size %llu)",
			(unsigned long long)old_size);
	if (!merkle_same(sr, root))
		return yima_fail(why, whylen, YIMA_EMISMATCH,
			"consistency proof does not lead to the new root (size %llu)",
			(unsigned long long)size);
	return 0;
}
