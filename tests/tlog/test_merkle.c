/*
 * test_merkle.c - the RFC 9162 tree (yima/tlog/merkle.h) against RFC 9162's
 * own recursive definitions, written out here as plainly as the RFC states
 * them (MTH 2.1.1, PATH 2.1.3.1, PROOF/SUBPROOF 2.1.4.1):
 *
 *  - every (index, size) inclusion proof and every (old, size) consistency
 *    proof for sizes up to 300, generated from a store that was filled by
 *    merkle_append, equal to the reference, verifying, and refused once
 *    tampered with (a flipped byte, a hash dropped or added, another
 *    index, leaf or root).  Not another size with the same root: a proof
 *    for index 0 of 3 also proves index 0 of a 4-leaf tree whose right
 *    half hashes to leaf 2, which the verifier cannot tell apart; the size
 *    is bound to the root by the signed checkpoint, not by the proof;
 *  - random sizes around 10^7 and up to 2^63 over a synthetic tree (filler
 *    leaves with a few marked ones, so any subtree hash is cheap), proofs
 *    again equal to the reference and verifying;
 *  - the published RFC 6962 test tree of 8 leaves (roots and proofs from
 *    github.com/transparency-dev/merkle testdata);
 *  - every call reads O(log n) hashes, and only complete ones.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "yima/tlog/merkle.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"

#define NMAX 300

/* ---- reference: RFC 9162 2.1, straight from the text ---------------- */

static void ref_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
	uint8_t prefix, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	cr_assert(c != NULL);
	cr_assert(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1);
	cr_assert(EVP_DigestUpdate(c, &prefix, 1) == 1);
	cr_assert(EVP_DigestUpdate(c, a, alen) == 1);
	if (blen > 0)
		cr_assert(EVP_DigestUpdate(c, b, blen) == 1);
	cr_assert(EVP_DigestFinal_ex(c, out, NULL) == 1);
	EVP_MD_CTX_free(c);
}

/* A tree the reference can take MTH of: leaf(i) gives leaf i's hash,
 * known() may short-cut a subtree it already knows. */
typedef struct ref_tree {
	void (*leaf)(struct ref_tree *t, uint64_t i, uint8_t out[32]);
	bool (*known)(struct ref_tree *t, uint64_t lo, uint64_t hi, uint8_t out[32]);
	void (*learn)(struct ref_tree *t, uint64_t lo, uint64_t hi, const uint8_t h[32]);
} ref_tree_t;

/* k: the largest power of two smaller than n (n > 1). */
static uint64_t ref_k(uint64_t n)
{
	uint64_t k = 1;
	while (k < n - k)	/* k * 2 < n without overflow */
		k <<= 1;
	return k;
}

/* MTH(D[lo:hi]) = SHA-256(0x01 || MTH(D[lo:lo+k]) || MTH(D[lo+k:hi])). */
static void ref_mth(ref_tree_t *t, uint64_t lo, uint64_t hi, uint8_t out[32])
{
	if (hi - lo == 1) {
		t->leaf(t, lo, out);
		return;
	}
	if (t->known(t, lo, hi, out))
		return;
	uint64_t k = ref_k(hi - lo);
	uint8_t l[32], r[32];
	ref_mth(t, lo, lo + k, l);
	ref_mth(t, lo + k, hi, r);
	ref_sha256(l, 32, r, 32, 0x01, out);
	t->learn(t, lo, hi, out);
}

/* PATH(m, D[lo:hi]), m relative to lo; appends to out, returns count. */
static size_t ref_path(ref_tree_t *t, uint64_t m, uint64_t lo, uint64_t hi,
	merkle_hash_t *out)
{
	uint64_t n = hi - lo;
	if (n == 1)
		return 0;
	uint64_t k = ref_k(n);
	size_t c;
	if (m < k) {
		c = ref_path(t, m, lo, lo + k, out);
		ref_mth(t, lo + k, hi, out[c]);
	} else {
		c = ref_path(t, m - k, lo + k, hi, out);
		ref_mth(t, lo, lo + k, out[c]);
	}
	return c + 1;
}

/* SUBPROOF(m, D[lo:hi], b), m relative to lo. */
static size_t ref_subproof(ref_tree_t *t, uint64_t m, uint64_t lo, uint64_t hi, bool b,
	merkle_hash_t *out)
{
	uint64_t n = hi - lo;
	if (m == n) {
		if (b)
			return 0;
		ref_mth(t, lo, hi, out[0]);
		return 1;
	}
	uint64_t k = ref_k(n);
	size_t c;
	if (m <= k) {
		c = ref_subproof(t, m, lo, lo + k, b, out);
		ref_mth(t, lo + k, hi, out[c]);
	} else {
		c = ref_subproof(t, m - k, lo + k, hi, false, out);
		ref_mth(t, lo, lo + k, out[c]);
	}
	return c + 1;
}

/* PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m <= n. */
static size_t ref_proof(ref_tree_t *t, uint64_t m, uint64_t n, merkle_hash_t *out)
{
	return ref_subproof(t, m, 0, n, true, out);
}

/* ---- a small tree of real entries: D[i] = "entry i" ------------------ */

typedef struct small_tree {
	ref_tree_t ops;
	merkle_hash_t leaves[NMAX];
	merkle_hash_t memo[NMAX + 1][NMAX + 1];
	bool have[NMAX + 1][NMAX + 1];
} small_tree_t;

static small_tree_t small;

static void small_leaf(ref_tree_t *t, uint64_t i, uint8_t out[32])
{
	memcpy(out, ((small_tree_t *)t)->leaves[i], 32);
}

static bool small_known(ref_tree_t *t, uint64_t lo, uint64_t hi, uint8_t out[32])
{
	small_tree_t *s = (small_tree_t *)t;
	if (!s->have[lo][hi])
		return false;
	memcpy(out, s->memo[lo][hi], 32);
	return true;
}

static void small_learn(ref_tree_t *t, uint64_t lo, uint64_t hi, const uint8_t h[32])
{
	small_tree_t *s = (small_tree_t *)t;
	memcpy(s->memo[lo][hi], h, 32);
	s->have[lo][hi] = true;
}

static int entry_text(uint64_t i, char *buf, size_t n)
{
	return snprintf(buf, n, "entry %llu", (unsigned long long)i);
}

static void small_init(void)
{
	memset(&small, 0, sizeof small);
	small.ops.leaf = small_leaf;
	small.ops.known = small_known;
	small.ops.learn = small_learn;
	for (uint64_t i = 0; i < NMAX; i++) {
		char e[32];
		int n = entry_text(i, e, sizeof e);
		ref_sha256((const uint8_t *)e, (size_t)n, NULL, 0, 0x00, small.leaves[i]);
	}
}

/* ---- the store under test: filled by merkle_append ------------------- */

typedef struct store {
	merkle_hash_t *level[64];
	uint64_t count[64];
	uint64_t limit;		/* the tree size the current call is about */
	unsigned long reads;
	bool incomplete;	/* a read asked for a subtree not complete in limit */
} store_t;

static int store_read(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	store_t *s = ctx;
	s->reads++;
	if (level >= 64 || index >= s->count[level]
	    || ((index + 1) << level) > s->limit) {
		s->incomplete = true;
		return YIMA_ENOTFOUND;
	}
	memcpy(out, s->level[level][index], 32);
	return 0;
}

static merkle_reader_t store_reader(store_t *s, uint64_t limit)
{
	s->limit = limit;
	s->reads = 0;
	return (merkle_reader_t){ store_read, s };
}

static void store_fill(store_t *s, uint64_t n)
{
	memset(s, 0, sizeof *s);
	for (unsigned l = 0; l < 10; l++)
		cr_assert((s->level[l] = calloc(NMAX, sizeof(merkle_hash_t))) != NULL);
	for (uint64_t i = 0; i < n; i++) {
		char e[32];
		uint8_t leaf[32];
		merkle_node_t out[MERKLE_MAX_APPEND];
		size_t got = 0;
		int len = entry_text(i, e, sizeof e);
		cr_assert_eq(merkle_leaf_hash(e, (size_t)len, leaf), 0);
		merkle_reader_t r = store_reader(s, i);
		cr_assert_eq(merkle_append(&r, i, leaf, out, &got), 0, "append %llu",
			(unsigned long long)i);
		cr_assert(!s->incomplete, "append %llu read an incomplete subtree",
			(unsigned long long)i);
		cr_assert_eq(got, 1 + (size_t)__builtin_ctzll(~i));
		for (size_t j = 0; j < got; j++) {
			unsigned l = out[j].level;
			cr_assert_eq(l, j);
			cr_assert_eq(out[j].index, s->count[l], "append in order");
			memcpy(s->level[l][s->count[l]++], out[j].hash, 32);
		}
	}
}

static void store_free(store_t *s)
{
	for (unsigned l = 0; l < 64; l++)
		free(s->level[l]);
}

static unsigned bitlen(uint64_t x)
{
	return x == 0 ? 0 : 64u - (unsigned)__builtin_clzll(x);
}

/* ---- tampering: every change must be refused ------------------------- */

static void expect_incl_refused(const uint8_t leaf[32], uint64_t index, uint64_t size,
	const merkle_hash_t *p, size_t len, const uint8_t root[32], const char *what)
{
	char why[200] = "";
	int rc = merkle_verify_inclusion(leaf, index, size, p, len, root, why, sizeof why);
	cr_assert(rc == YIMA_EMISMATCH || rc == YIMA_EINVAL,
		"%s: index %llu size %llu accepted (rc %d)", what,
		(unsigned long long)index, (unsigned long long)size, rc);
	cr_assert(why[0] != '\0', "%s: no reason given", what);
}

static void tamper_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
	const merkle_hash_t *proof, size_t len, const uint8_t root[32], uint64_t salt)
{
	merkle_hash_t p[MERKLE_MAX_PROOF + 1];
	uint8_t bad[32];
	memcpy(p, proof, len * sizeof *p);
	/* a flipped bit in each hash (all of them for small trees) */
	for (size_t i = 0; i < len; i++) {
		if (size > 64 && i != salt % len)
			continue;
		p[i][(salt + i) % 32] ^= (uint8_t)(1u << (salt % 8));
		expect_incl_refused(leaf, index, size, p, len, root, "flipped proof byte");
		p[i][(salt + i) % 32] ^= (uint8_t)(1u << (salt % 8));
	}
	if (len > 0)
		expect_incl_refused(leaf, index, size, p, len - 1, root, "hash dropped");
	memcpy(p[len], leaf, 32);
	expect_incl_refused(leaf, index, size, p, len + 1, root, "hash added");
	if (size <= 64) {
		for (uint64_t other = 0; other < size; other++)
			if (other != index)
				expect_incl_refused(leaf, other, size, p, len, root,
					"other index");
	} else {
		const uint64_t others[] = { index ^ 1, index + 1, index - 1, 0,
			size - 1, salt % size, index ^ (UINT64_C(1) << (salt % 6)) };
		for (size_t i = 0; i < sizeof others / sizeof *others; i++)
			if (others[i] != index && others[i] < size)
				expect_incl_refused(leaf, others[i], size, p, len, root,
					"other index");
	}
	memcpy(bad, leaf, 32);
	bad[salt % 32] ^= 0x80;
	expect_incl_refused(bad, index, size, p, len, root, "other leaf");
	memcpy(bad, root, 32);
	bad[salt % 32] ^= 0x01;
	expect_incl_refused(leaf, index, size, p, len, bad, "other root");
}

static void expect_cons_refused(uint64_t old, uint64_t size, const merkle_hash_t *p,
	size_t len, const uint8_t old_root[32], const uint8_t root[32], const char *what)
{
	char why[200] = "";
	int rc = merkle_verify_consistency(old, size, p, len, old_root, root, why, sizeof why);
	cr_assert(rc == YIMA_EMISMATCH || rc == YIMA_EINVAL,
		"%s: %llu -> %llu accepted (rc %d)", what, (unsigned long long)old,
		(unsigned long long)size, rc);
	cr_assert(why[0] != '\0', "%s: no reason given", what);
}

static void tamper_consistency(uint64_t old, uint64_t size, const merkle_hash_t *proof,
	size_t len, const uint8_t old_root[32], const uint8_t root[32], uint64_t salt)
{
	merkle_hash_t p[MERKLE_MAX_PROOF + 1];
	uint8_t bad[32];
	memcpy(p, proof, len * sizeof *p);
	for (size_t i = 0; i < len; i++) {
		if (size > 64 && i != salt % len)
			continue;
		p[i][(salt * 7 + i) % 32] ^= 0x10;
		expect_cons_refused(old, size, p, len, old_root, root, "flipped proof byte");
		p[i][(salt * 7 + i) % 32] ^= 0x10;
	}
	if (len > 0)
		expect_cons_refused(old, size, p, len - 1, old_root, root, "hash dropped");
	memcpy(p[len], root, 32);
	expect_cons_refused(old, size, p, len + 1, old_root, root, "hash added");
	if (old > 0 && old < size)
		expect_cons_refused(old, size, p, len, root, old_root, "roots swapped");
	memcpy(bad, old_root, 32);
	bad[salt % 32] ^= 0x04;
	expect_cons_refused(old, size, p, len, bad, root, "other old root");
	/* every tree extends the empty one: only old_root is checked then */
	if (old == 0)
		return;
	memcpy(bad, root, 32);
	bad[salt % 32] ^= 0x04;
	expect_cons_refused(old, size, p, len, old_root, bad, "other root");
}

/* ---- exhaustive small trees ------------------------------------------ */

Test(merkle, hashes_are_rfc9162s)
{
	uint8_t h[32], want[32], l[32], r[32];
	/* leaf of the empty entry, and of "\x00" (RFC 6962 test vectors) */
	cr_assert_eq(merkle_leaf_hash("", 0, h), 0);
	ref_sha256((const uint8_t *)"", 0, NULL, 0, 0x00, want);
	cr_assert_arr_eq(h, want, 32);
	merkle_empty_root(h);
	ref_sha256(NULL, 0, NULL, 0, 0x00, want);	/* sanity: differs */
	cr_assert(memcmp(h, want, 32) != 0);
	cr_assert_eq(EVP_Digest("", 0, want, NULL, EVP_sha256(), NULL), 1);
	cr_assert_arr_eq(h, want, 32);
	memset(l, 0xaa, 32);
	memset(r, 0x55, 32);
	cr_assert_eq(merkle_node_hash(l, r, h), 0);
	ref_sha256(l, 32, r, 32, 0x01, want);
	cr_assert_arr_eq(h, want, 32);
	cr_assert_eq(merkle_node_hash(l, r, l), 0, "output may alias an input");
	cr_assert_arr_eq(l, want, 32);
}

Test(merkle, append_builds_every_complete_subtree)
{
	store_t s;
	small_init();
	store_fill(&s, NMAX);
	for (unsigned l = 0; (UINT64_C(1) << l) <= NMAX; l++) {
		cr_assert_eq(s.count[l], NMAX >> l);
		for (uint64_t n = 0; n < s.count[l]; n++) {
			uint8_t want[32];
			ref_mth(&small.ops, n << l, (n + 1) << l, want);
			cr_assert_arr_eq(s.level[l][n], want, 32, "(%u, %llu)", l,
				(unsigned long long)n);
		}
	}
	store_free(&s);
}

Test(merkle, roots_of_every_size)
{
	store_t s;
	uint8_t root[32], want[32];
	small_init();
	store_fill(&s, NMAX);
	merkle_reader_t r = store_reader(&s, 0);
	cr_assert_eq(merkle_root(&r, 0, root), 0);
	merkle_empty_root(want);
	cr_assert_arr_eq(root, want, 32);
	for (uint64_t n = 1; n <= NMAX; n++) {
		r = store_reader(&s, n);
		cr_assert_eq(merkle_root(&r, n, root), 0);
		cr_assert(!s.incomplete);
		cr_assert_leq(s.reads, (unsigned long)__builtin_popcountll(n));
		ref_mth(&small.ops, 0, n, want);
		cr_assert_arr_eq(root, want, 32, "size %llu", (unsigned long long)n);
	}
	store_free(&s);
}

Test(merkle, every_inclusion_proof_up_to_300, .timeout = 120)
{
	store_t s;
	small_init();
	store_fill(&s, NMAX);
	for (uint64_t size = 1; size <= NMAX; size++) {
		uint8_t root[32];
		ref_mth(&small.ops, 0, size, root);
		for (uint64_t i = 0; i < size; i++) {
			merkle_hash_t got[MERKLE_MAX_PROOF], want[MERKLE_MAX_PROOF];
			size_t len = 99;
			char why[200] = "";
			merkle_reader_t r = store_reader(&s, size);
			cr_assert_eq(merkle_prove_inclusion(&r, i, size, got, &len, why,
				sizeof why), 0, "%s", why);
			cr_assert(!s.incomplete);
			cr_assert_leq(s.reads, 2ul * bitlen(size));
			size_t wlen = ref_path(&small.ops, i, 0, size, want);
			cr_assert_eq(len, wlen, "index %llu size %llu",
				(unsigned long long)i, (unsigned long long)size);
			cr_assert_arr_eq(got, want, len * 32, "index %llu size %llu",
				(unsigned long long)i, (unsigned long long)size);
			cr_assert_eq(merkle_verify_inclusion(small.leaves[i], i, size,
				got, len, root, why, sizeof why), 0, "%s", why);
			tamper_inclusion(small.leaves[i], i, size, got, len, root,
				size * 31 + i);
		}
	}
	store_free(&s);
}

Test(merkle, every_consistency_proof_up_to_300, .timeout = 120)
{
	store_t s;
	small_init();
	store_fill(&s, NMAX);
	for (uint64_t size = 1; size <= NMAX; size++) {
		uint8_t root[32];
		ref_mth(&small.ops, 0, size, root);
		for (uint64_t old = 0; old <= size; old++) {
			merkle_hash_t got[MERKLE_MAX_PROOF], want[MERKLE_MAX_PROOF];
			uint8_t old_root[32];
			size_t len = 99, wlen = 0;
			char why[200] = "";
			merkle_reader_t r = store_reader(&s, size);
			cr_assert_eq(merkle_prove_consistency(&r, old, size, got, &len, why,
				sizeof why), 0, "%s", why);
			cr_assert(!s.incomplete);
			cr_assert_leq(s.reads, 2ul * bitlen(size));
			if (old == 0) {
				merkle_empty_root(old_root);
			} else {
				ref_mth(&small.ops, 0, old, old_root);
				wlen = ref_proof(&small.ops, old, size, want);
			}
			cr_assert_eq(len, wlen, "%llu -> %llu", (unsigned long long)old,
				(unsigned long long)size);
			cr_assert_arr_eq(got, want, len * 32, "%llu -> %llu",
				(unsigned long long)old, (unsigned long long)size);
			cr_assert_eq(merkle_verify_consistency(old, size, got, len, old_root,
				root, why, sizeof why), 0, "%llu -> %llu: %s",
				(unsigned long long)old, (unsigned long long)size, why);
			tamper_consistency(old, size, got, len, old_root, root,
				size * 17 + old);
		}
	}
	store_free(&s);
}

Test(merkle, bad_arguments)
{
	store_t s;
	merkle_hash_t p[MERKLE_MAX_PROOF];
	uint8_t h[32] = { 0 };
	size_t len;
	char why[200] = "";
	small_init();
	store_fill(&s, 4);
	merkle_reader_t r = store_reader(&s, 4);
	cr_assert_eq(merkle_prove_inclusion(&r, 4, 4, p, &len, why, sizeof why), YIMA_EINVAL);
	cr_assert(strstr(why, "index 4") != NULL, "%s", why);
	cr_assert_eq(merkle_prove_inclusion(&r, 0, 0, p, &len, why, sizeof why), YIMA_EINVAL);
	cr_assert_eq(merkle_prove_consistency(&r, 5, 4, p, &len, why, sizeof why), YIMA_EINVAL);
	cr_assert_eq(merkle_prove_consistency(&r, 1, MERKLE_MAX_SIZE + 1, p, &len, why,
		sizeof why), YIMA_EINVAL);
	cr_assert_eq(merkle_root(&r, MERKLE_MAX_SIZE + 1, h), YIMA_EINVAL);
	cr_assert_eq(merkle_verify_inclusion(h, 3, 3, p, 0, h, why, sizeof why), YIMA_EINVAL);
	cr_assert_eq(merkle_verify_consistency(4, 3, p, 0, h, h, why, sizeof why), YIMA_EINVAL);
	/* the reader's error comes back unchanged */
	r = store_reader(&s, 4);
	cr_assert_eq(merkle_prove_inclusion(&r, 0, 8, p, &len, why, sizeof why),
		YIMA_ENOTFOUND);
	cr_assert_eq(merkle_root(&r, 8, h), YIMA_ENOTFOUND);
	store_free(&s);
}

/* ---- the published RFC 6962 test tree -------------------------------- */

static void b64hash(const char *s, uint8_t out[32])
{
	size_t n = 0;
	cr_assert_eq(base64_decode(s, strlen(s), out, 32, &n), 0, "%s", s);
	cr_assert_eq(n, 32);
}

/* transparency-dev/merkle testonly.LeafInputs(), and RootHashes(). */
static const char *const ct_leaves[8] = {
	"", "\x00", "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
	"\x50\x51\x52\x53\x54\x55\x56\x57",
	"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
};
static const size_t ct_lens[8] = { 0, 1, 1, 2, 2, 4, 8, 16 };
static const char *const ct_roots_hex[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void hexhash(const char *s, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void ct_store(store_t *s)
{
	memset(s, 0, sizeof *s);
	for (unsigned l = 0; l < 4; l++)
		cr_assert((s->level[l] = calloc(8, sizeof(merkle_hash_t))) != NULL);
	for (uint64_t i = 0; i < 8; i++) {
		uint8_t leaf[32];
		merkle_node_t out[MERKLE_MAX_APPEND];
		size_t got;
		cr_assert_eq(merkle_leaf_hash(ct_leaves[i], ct_lens[i], leaf), 0);
		merkle_reader_t r = store_reader(s, i);
		cr_assert_eq(merkle_append(&r, i, leaf, out, &got), 0);
		for (size_t j = 0; j < got; j++)
			memcpy(s->level[out[j].level][s->count[out[j].level]++], out[j].hash, 32);
	}
}

Test(merkle, rfc6962_test_tree_roots)
{
	store_t s;
	ct_store(&s);
	for (uint64_t n = 0; n <= 8; n++) {
		uint8_t root[32], want[32];
		merkle_reader_t r = store_reader(&s, n);
		hexhash(ct_roots_hex[n], want);
		cr_assert_eq(merkle_root(&r, n, root), 0);
		cr_assert_arr_eq(root, want, 32, "size %llu", (unsigned long long)n);
	}
	store_free(&s);
}

/* The happy-path probes of transparency-dev/merkle testdata/{inclusion,
 * consistency}/{1..4}: our proofs are theirs and verify. */
typedef struct probe {
	uint64_t a, size;	/* index, or old size */
	const char *proof[3];
	size_t len;
} probe_t;

Test(merkle, rfc6962_test_tree_proofs)
{
	static const probe_t incl[] = {
		{ 0, 8, { "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
			"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
			"a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=" }, 3 },
		{ 5, 8, { "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
			"yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
			"037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=" }, 3 },
		{ 2, 3, { "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=" }, 1 },
		{ 1, 5, { "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
			"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
			"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=" }, 3 },
	};
	static const probe_t cons[] = {
		{ 1, 8, { "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
			"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
			"a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=" }, 3 },
		{ 6, 8, { "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
			"yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
			"037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=" }, 3 },
		{ 2, 5, { "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
			"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=" }, 2 },
		{ 6, 7, { "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
			"sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
			"037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=" }, 3 },
	};
	store_t s;
	char why[200];
	ct_store(&s);
	for (size_t c = 0; c < 2 * 4; c++) {
		const probe_t *pr = c < 4 ? &incl[c] : &cons[c - 4];
		merkle_hash_t want[3], got[MERKLE_MAX_PROOF];
		uint8_t root[32], other[32];
		size_t len;
		for (size_t i = 0; i < pr->len; i++)
			b64hash(pr->proof[i], want[i]);
		hexhash(ct_roots_hex[pr->size], root);
		merkle_reader_t r = store_reader(&s, pr->size);
		if (c < 4) {
			cr_assert_eq(merkle_prove_inclusion(&r, pr->a, pr->size, got, &len,
				why, sizeof why), 0);
			cr_assert_eq(merkle_verify_inclusion(s.level[0][pr->a], pr->a,
				pr->size, want, pr->len, root, why, sizeof why), 0, "%s", why);
		} else {
			cr_assert_eq(merkle_prove_consistency(&r, pr->a, pr->size, got, &len,
				why, sizeof why), 0);
			hexhash(ct_roots_hex[pr->a], other);
			cr_assert_eq(merkle_verify_consistency(pr->a, pr->size, want,
				pr->len, other, root, why, sizeof why), 0, "%s", why);
		}
		cr_assert_eq(len, pr->len, "probe %zu", c);
		cr_assert_arr_eq(got, want, len * 32, "probe %zu", c);
	}
	store_free(&s);
}

/* ---- large synthetic trees ------------------------------------------- */

/*
 * Every leaf is the empty entry except a few marked ones ("marked <i>"),
 * so a subtree without a marked leaf has a hash known per level and any
 * subtree hash costs O(marked * depth): trees of 2^63 leaves are cheap
 * and still consistent, with distinct leaves where the proofs look.
 */
#define MARKS 48

typedef struct sparse {
	ref_tree_t ops;
	merkle_hash_t filler[64];
	uint64_t marks[MARKS];
	size_t nmarks;
	unsigned long reads;
} sparse_t;

static bool sparse_marked(const sparse_t *s, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < s->nmarks; i++)
		if (s->marks[i] >= lo && s->marks[i] < hi)
			return true;
	return false;
}

static void sparse_leaf(ref_tree_t *t, uint64_t i, uint8_t out[32])
{
	sparse_t *s = (sparse_t *)t;
	char e[40];
	int n = 0;
	if (sparse_marked(s, i, i + 1))
		n = snprintf(e, sizeof e, "marked %llu", (unsigned long long)i);
	ref_sha256((const uint8_t *)e, (size_t)n, NULL, 0, 0x00, out);
}

static bool sparse_known(ref_tree_t *t, uint64_t lo, uint64_t hi, uint8_t out[32])
{
	sparse_t *s = (sparse_t *)t;
	uint64_t n = hi - lo;
	if ((n & (n - 1)) != 0 || sparse_marked(s, lo, hi))
		return false;
	memcpy(out, s->filler[__builtin_ctzll(n)], 32);
	return true;
}

static void sparse_learn(ref_tree_t *t, uint64_t lo, uint64_t hi, const uint8_t h[32])
{
	(void)t; (void)lo; (void)hi; (void)h;
}

static int sparse_read(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	sparse_t *s = ctx;
	s->reads++;
	ref_mth(&s->ops, index << level, (index + 1) << level, out);
	return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng_next(void)	/* splitmix64: fixed seed, same run each time */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void sparse_init(sparse_t *s, uint64_t size, const uint64_t *must, size_t nmust)
{
	memset(s, 0, sizeof *s);
	s->ops.leaf = sparse_leaf;
	s->ops.known = sparse_known;
	s->ops.learn = sparse_learn;
	for (size_t i = 0; i < nmust; i++)
		s->marks[s->nmarks++] = must[i];
	while (s->nmarks < MARKS)
		s->marks[s->nmarks++] = rng_next() % size;
	ref_sha256((const uint8_t *)"", 0, NULL, 0, 0x00, s->filler[0]);
	for (unsigned l = 1; l < 64; l++)
		ref_sha256(s->filler[l - 1], 32, s->filler[l - 1], 32, 0x01, s->filler[l]);
}

static void large_case(uint64_t size)
{
	uint64_t index = rng_next() % size;
	uint64_t old = 1 + rng_next() % size;
	uint64_t must[3] = { index, old - 1, size - 1 };
	sparse_t s;
	merkle_hash_t got[MERKLE_MAX_PROOF], want[MERKLE_MAX_PROOF];
	uint8_t root[32], old_root[32], leaf[32], ref_root[32];
	size_t len;
	char why[200] = "";
	sparse_init(&s, size, must, 3);
	merkle_reader_t r = { sparse_read, &s };

	cr_assert_eq(merkle_root(&r, size, root), 0);
	ref_mth(&s.ops, 0, size, ref_root);
	cr_assert_arr_eq(root, ref_root, 32, "root of %llu", (unsigned long long)size);

	s.reads = 0;
	cr_assert_eq(merkle_prove_inclusion(&r, index, size, got, &len, why, sizeof why), 0);
	cr_assert_leq(s.reads, 2ul * bitlen(size), "%lu reads", s.reads);
	cr_assert_eq(len, ref_path(&s.ops, index, 0, size, want));
	cr_assert_arr_eq(got, want, len * 32, "index %llu size %llu",
		(unsigned long long)index, (unsigned long long)size);
	s.ops.leaf(&s.ops, index, leaf);
	cr_assert_eq(merkle_verify_inclusion(leaf, index, size, got, len, root, why,
		sizeof why), 0, "%s", why);
	tamper_inclusion(leaf, index, size, got, len, root, index);

	s.reads = 0;
	cr_assert_eq(merkle_prove_consistency(&r, old, size, got, &len, why, sizeof why), 0);
	cr_assert_leq(s.reads, 2ul * bitlen(size), "%lu reads", s.reads);
	cr_assert_eq(len, ref_proof(&s.ops, old, size, want));
	cr_assert_arr_eq(got, want, len * 32, "%llu -> %llu", (unsigned long long)old,
		(unsigned long long)size);
	ref_mth(&s.ops, 0, old, old_root);
	cr_assert_eq(merkle_verify_consistency(old, size, got, len, old_root, root, why,
		sizeof why), 0, "%s", why);
	tamper_consistency(old, size, got, len, old_root, root, old);
}

Test(merkle, random_sizes_around_ten_million, .timeout = 120)
{
	for (int i = 0; i < 40; i++)
		large_case(5000000 + rng_next() % 15000000);
}

Test(merkle, sizes_up_to_two_to_the_63, .timeout = 120)
{
	const uint64_t sizes[] = {
		MERKLE_MAX_SIZE, MERKLE_MAX_SIZE - 1, (UINT64_C(1) << 62) + 1,
		(UINT64_C(1) << 40) - 1, UINT64_C(1) << 32, 10000019,
	};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		large_case(sizes[i]);
	for (int i = 0; i < 20; i++)
		large_case(1 + (rng_next() >> 1));
}

Test(merkle, append_at_large_indexes)
{
	const uint64_t idx[] = { (UINT64_C(1) << 40) - 1, (UINT64_C(1) << 24) + 7,
		MERKLE_MAX_SIZE - 1, 12345678 };
	for (size_t c = 0; c < sizeof idx / sizeof *idx; c++) {
		sparse_t s;
		uint64_t must[1] = { idx[c] };
		merkle_node_t out[MERKLE_MAX_APPEND];
		uint8_t leaf[32], want[32];
		size_t n;
		sparse_init(&s, idx[c] + 1, must, 1);
		merkle_reader_t r = { sparse_read, &s };
		s.ops.leaf(&s.ops, idx[c], leaf);
		cr_assert_eq(merkle_append(&r, idx[c], leaf, out, &n), 0);
		cr_assert_eq(n, 1 + (size_t)__builtin_ctzll(~idx[c]));
		cr_assert_eq(s.reads, n - 1);
		for (size_t j = 0; j < n; j++) {
			uint64_t lo = out[j].index << out[j].level;
			cr_assert_eq(out[j].level, j);
			cr_assert_eq(out[j].index, idx[c] >> j);
			ref_mth(&s.ops, lo, lo + (UINT64_C(1) << out[j].level), want);
			cr_assert_arr_eq(out[j].hash, want, 32);
		}
	}
	sparse_t s;
	merkle_node_t out[MERKLE_MAX_APPEND];
	uint8_t leaf[32] = { 0 };
	size_t n;
	sparse_init(&s, 1, NULL, 0);
	merkle_reader_t r = { sparse_read, &s };
	cr_assert_eq(merkle_append(&r, MERKLE_MAX_SIZE, leaf, out, &n), YIMA_EINVAL);
}
