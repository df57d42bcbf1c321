/*
 * merkle.h - the RFC 9162 (Certificate Transparency v2) Merkle tree over
 * the log's entries: leaf and node hashes, the root of a tree of any size,
 * inclusion and consistency proofs and their verification (spec section 8).
 *
 * Coordinates.  A *complete subtree* (level L, index n) is the perfect
 * subtree over the leaves [n * 2^L, (n + 1) * 2^L); (0, n) is leaf n's
 * hash.  It is complete in a tree of size N when (n + 1) * 2^L <= N, and
 * its hash never changes afterwards, which is what makes it storable.
 * tlog-tiles' hash tiles hold exactly these hashes at the levels 8k
 * (yima/tlog/tile.h turns (L, n) into a tile and an offset).
 *
 * Storage is the caller's: every function that needs earlier hashes asks a
 * merkle_reader_t for complete subtrees only, and never more than
 * O(log N) of them (at most 2 * 64 per call).  Appending leaf i yields the
 * hashes that leaf completes (merkle_append), on average just under two,
 * for the store to keep; the store must be able to give them back.
 *
 * Sizes and indexes are uint64_t, limited to MERKLE_MAX_SIZE (2^63) so that
 * a proof has at most MERKLE_MAX_PROOF hashes and fits a fixed array.
 * Proof hashes are ordered leaf to root, as RFC 9162 sections 2.1.3.1 and
 * 2.1.4.1 build them (the order `yima log prove` prints).
 */
#ifndef YIMA_CORE_MERKLE_H
#define YIMA_CORE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_SIZE 32
#define MERKLE_MAX_SIZE (UINT64_C(1) << 63)
/* ceil(log2 N) + 1 for N <= 2^63: the longest consistency proof; inclusion
 * proofs are at most 63 long. */
#define MERKLE_MAX_PROOF 64
/* 1 + the trailing one bits of the index (< 2^63): 64 at most. */
#define MERKLE_MAX_APPEND 64

typedef uint8_t merkle_hash_t[MERKLE_HASH_SIZE];

/*
 * A source of complete-subtree hashes.  read() fills out with the hash of
 * the complete subtree (level, index) and returns 0, or returns a negative
 * YIMA_E* (typically YIMA_ENOTFOUND or YIMA_EIO), which the calling merkle_
 * function returns unchanged.  It is only ever asked for subtrees complete
 * in the tree the call is about.  ctx is the store's, passed through.
 */
typedef struct merkle_reader {
	int (*read)(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_SIZE]);
	void *ctx;
} merkle_reader_t;

/* A hash that became complete when a leaf was appended. */
typedef struct merkle_node {
	unsigned level;
	uint64_t index;
	merkle_hash_t hash;
} merkle_node_t;

/* SHA-256(0x00 || entry) (RFC 9162 section 2.1.1).  Returns 0 or
 * YIMA_ECRYPTO. */
int merkle_leaf_hash(const void *entry, size_t len, uint8_t out[MERKLE_HASH_SIZE]);

/* SHA-256(0x01 || left || right).  out may alias left or right.  Returns 0
 * or YIMA_ECRYPTO. */
int merkle_node_hash(const uint8_t left[MERKLE_HASH_SIZE],
	const uint8_t right[MERKLE_HASH_SIZE], uint8_t out[MERKLE_HASH_SIZE]);

/* The root of the empty tree, SHA-256 of nothing. */
void merkle_empty_root(uint8_t out[MERKLE_HASH_SIZE]);

/*
 * The root of the tree of the first `size` leaves, from at most 64 reads
 * (one per set bit of size).  Returns 0, YIMA_EINVAL (size over
 * MERKLE_MAX_SIZE), the reader's error, or YIMA_ECRYPTO.
 */
int merkle_root(const merkle_reader_t *r, uint64_t size, uint8_t out[MERKLE_HASH_SIZE]);

/*
 * Leaf `index` was just appended with hash `leaf` (so the tree now has
 * index + 1 leaves).  Fills out[0..*n) with every complete subtree that
 * leaf completes, lowest level first: (0, index) itself, then (l,
 * index >> l) for each trailing one bit of index.  Reads the *n - 1 left
 * siblings, all complete in the tree of `index` leaves.  Returns 0,
 * YIMA_EINVAL (index >= MERKLE_MAX_SIZE), the reader's error or
 * YIMA_ECRYPTO.
 */
int merkle_append(const merkle_reader_t *r, uint64_t index,
	const uint8_t leaf[MERKLE_HASH_SIZE], merkle_node_t out[MERKLE_MAX_APPEND], size_t *n);

/*
 * The inclusion proof of leaf `index` in the tree of `size` leaves (RFC
 * 9162 section 2.1.3.1, PATH), into proof[0..*len).  Returns 0, YIMA_EINVAL
 * (index >= size, or size over MERKLE_MAX_SIZE) with why filled, the
 * reader's error, or YIMA_ECRYPTO.
 */
int merkle_prove_inclusion(const merkle_reader_t *r, uint64_t index, uint64_t size,
	merkle_hash_t proof[MERKLE_MAX_PROOF], size_t *len, char *why, size_t whylen);

/*
 * The consistency proof from the tree of `old_size` leaves to the tree of
 * `size` leaves (RFC 9162 section 2.1.4.1, PROOF), into proof[0..*len).
 * Empty when old_size is 0 or equal to size (nothing to prove; see
 * merkle_verify_consistency).  Returns 0, YIMA_EINVAL (old_size > size, or
 * size over MERKLE_MAX_SIZE) with why filled, the reader's error, or
 * YIMA_ECRYPTO.
 */
int merkle_prove_consistency(const merkle_reader_t *r, uint64_t old_size, uint64_t size,
	merkle_hash_t proof[MERKLE_MAX_PROOF], size_t *len, char *why, size_t whylen);

/*
 * Check that proof[0..len) proves leaf hash `leaf` is entry `index` of the
 * tree of `size` leaves whose root is `root`, by the algorithm of RFC 9162
 * section 2.1.3.2.  Returns 0 when it does; YIMA_EMISMATCH when it does not
 * (a wrong hash, too few or too many hashes, a wrong index or size), with
 * why saying which; YIMA_EINVAL when index >= size or size is over
 * MERKLE_MAX_SIZE; YIMA_ECRYPTO.
 */
int merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH_SIZE], uint64_t index,
	uint64_t size, const merkle_hash_t *proof, size_t len,
	const uint8_t root[MERKLE_HASH_SIZE], char *why, size_t whylen);

/*
 * Check that proof[0..len) proves the tree of `size` leaves with root
 * `root` extends the tree of `old_size` leaves with root `old_root`, by
 * the algorithm of RFC 9162 section 2.1.4.2 for 0 < old_size < size.  The
 * RFC leaves the edges open; here (as in transparency-dev/merkle) equal
 * sizes need an empty proof and equal roots, and old_size 0 needs an empty
 * proof and old_root the empty-tree root (every tree extends the empty
 * one).  Returns 0, YIMA_EMISMATCH with why, YIMA_EINVAL (old_size > size
 * or size over MERKLE_MAX_SIZE), or YIMA_ECRYPTO.
 */
int merkle_verify_consistency(uint64_t old_size, uint64_t size,
	const merkle_hash_t *proof, size_t len,
	const uint8_t old_root[MERKLE_HASH_SIZE], const uint8_t root[MERKLE_HASH_SIZE],
	char *why, size_t whylen);

/* ---- appending without reads: the hasher and the frontier ------------- */

/*
 * The hashes above for a hot path: merkle_leaf_hash and merkle_node_hash
 * go through EVP and allocate a context per call; the ledger hashes two of
 * these per record, so it holds a hasher (merkle_frontier.c has the
 * measurement).  It counts the hashes it made (a proof's cost, for the
 * benchmarks).  Not shared between threads.
 */
typedef struct merkle_hasher {
	uint64_t hashes;	/* made so far */
} merkle_hasher_t;

/* Returns 0 (it cannot fail today; callers check it all the same). */
int merkle_hasher_init(merkle_hasher_t *h);
/* Releases what init took; safe on a zeroed or deinitialized hasher. */
void merkle_hasher_deinit(merkle_hasher_t *h);
/* As merkle_leaf_hash and merkle_node_hash (out may alias left/right). */
int merkle_hasher_leaf(merkle_hasher_t *h, const void *entry, size_t len,
	uint8_t out[MERKLE_HASH_SIZE]);
int merkle_hasher_node(merkle_hasher_t *h, const uint8_t left[MERKLE_HASH_SIZE],
	const uint8_t right[MERKLE_HASH_SIZE], uint8_t out[MERKLE_HASH_SIZE]);

/*
 * The hash of the perfect subtree over count consecutive hashes of one
 * level (hashes[0..count * 32), count a power of two, at most 256): the
 * levels between two stored ones rebuilt.  Returns 0, YIMA_EINVAL (count
 * not a power of two in 1..256) or YIMA_ECRYPTO.
 */
int merkle_fold(merkle_hasher_t *h, const uint8_t *hashes, size_t count,
	uint8_t out[MERKLE_HASH_SIZE]);

/*
 * The right edge of a tree of `size` leaves: for each set bit l of size,
 * the hash of the complete subtree (l, (size >> l) - 1), the subtrees
 * MTH(D[0:size]) is made of.  With it, appending a leaf reads nothing and
 * the root is at most 63 node hashes away: what a store keeps between
 * commits (merkle_frontier_encode).
 */
typedef struct merkle_frontier {
	uint64_t size;
	merkle_hash_t h[64];	/* h[l] meaningful when bit l of size is set */
} merkle_frontier_t;

#define MERKLE_FRONTIER_MAX (8 + 64 * MERKLE_HASH_SIZE)	/* encoded */

/* The empty tree. */
void merkle_frontier_init(merkle_frontier_t *f);

/*
 * Append a leaf (its leaf hash): out[0..*n) gets the complete subtrees it
 * completes, lowest level first, exactly as merkle_append.  Returns 0,
 * YIMA_EINVAL (the tree is at MERKLE_MAX_SIZE) or YIMA_ECRYPTO (f is then
 * unchanged).
 */
int merkle_frontier_append(merkle_frontier_t *f, merkle_hasher_t *h,
	const uint8_t leaf[MERKLE_HASH_SIZE], merkle_node_t out[MERKLE_MAX_APPEND], size_t *n);

/* MTH of the tree (the empty-tree root for size 0).  Returns 0 or
 * YIMA_ECRYPTO. */
int merkle_frontier_root(const merkle_frontier_t *f, merkle_hasher_t *h,
	uint8_t out[MERKLE_HASH_SIZE]);

/* As bytes: size (u64 big-endian), then h[l] for every set bit l of size,
 * lowest first.  out must hold MERKLE_FRONTIER_MAX; returns the length. */
size_t merkle_frontier_encode(const merkle_frontier_t *f, uint8_t *out);
/* Returns 0 or YIMA_EFORMAT (length does not fit the size). */
int merkle_frontier_decode(const uint8_t *p, size_t len, merkle_frontier_t *f);

#endif
