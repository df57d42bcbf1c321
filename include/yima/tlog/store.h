/*
 * store.h - keeping an RFC 9162 tree in a key-value store so that any
 * proof costs O(log n) reads and an append O(1) amortized writes (spec
 * section 8; the ledger keeps its tree this way, docs/log.md "Storage").
 *
 * Layout.  Every 4th tree level is stored: level 4s is "slot" s (0..15).
 * Slot 0 holds every leaf hash (32 bytes an entry), slot 1 the complete
 * subtrees of level 4 (2 bytes an entry), slot 2 those of level 8 (the
 * hashes of tlog-tiles' level-1 tiles), and so on.  Each slot's hashes
 * are packed MERKLE_STORE_CHUNK to a value: 127 hashes are 4,064 bytes,
 * so a full value fills one 4 KiB LMDB overflow page (16-byte header)
 * exactly, where a 256-hash tile would take three pages for two pages of
 * data.  A hash of a level in between is folded from at most 8 hashes of
 * the stored level below it (so a proof of ~24 levels hashes ~100 nodes
 * instead of the ~3,000 a tiles-only store needs).
 *
 * The storage is the caller's, through merkle_store_io_t: values keyed by
 * (slot, chunk), each holding 1..127 hashes; only the last chunk of a slot
 * is ever partial, and it is rewritten as it grows.  The caller keeps the
 * frontier (merkle_frontier_encode) with them, in the same transaction.
 */
#ifndef YIMA_TLOG_STORE_H
#define YIMA_TLOG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/tlog/merkle.h"

#define MERKLE_STORE_CHUNK 127	/* hashes in a full value */
#define MERKLE_STORE_STEP 4	/* levels between two stored ones */
#define MERKLE_STORE_SLOTS (64 / MERKLE_STORE_STEP)

typedef struct merkle_store_io {
	/* Value (slot, chunk): *p (valid until the next put, or the end of
	 * the caller's transaction) holds *n hashes.  Returns 0,
	 * YIMA_ENOTFOUND, or another negative error. */
	int (*get)(void *ctx, unsigned slot, uint64_t chunk, const uint8_t **p, size_t *n);
	/* Store value (slot, chunk) of n hashes (replacing it).  Returns 0
	 * or an error. */
	int (*put)(void *ctx, unsigned slot, uint64_t chunk, const uint8_t *p, size_t n);
	void *ctx;
} merkle_store_io_t;

/* An appender: the frontier and, per slot, the last chunk in memory. */
typedef struct merkle_store merkle_store_t;

/*
 * An appender over io for the tree whose frontier is f (NULL: empty).
 * Returns 0 with *out (merkle_store_free), YIMA_ENOMEM or YIMA_ECRYPTO.
 */
int merkle_store_new(const merkle_store_io_t *io, const merkle_frontier_t *f,
	merkle_store_t **out);
void merkle_store_free(merkle_store_t *s);

/* Append entry (len bytes) as the next leaf; *index (may be NULL) gets its
 * index.  A chunk that fills is put.  After a few thousand appends to one
 * store the hashing moves to a worker thread (tlog/store_pipe.c): the
 * frontier and the chunks in memory then lag until merkle_store_sync.
 * Returns 0, YIMA_ECORRUPT (a stored partial chunk that does not fit the
 * frontier), io's errors, YIMA_EINVAL (the tree is full), YIMA_ENOMEM or
 * YIMA_ECRYPTO (errors of hashing done by the worker come back from a
 * later append or the sync). */
int merkle_store_append(merkle_store_t *s, const void *entry, size_t len, uint64_t *index);

/* Bring the frontier and the chunks in memory up to every entry appended
 * (waits for the worker).  Needed before merkle_store_frontier and before
 * reading the store's own hashes (merkle_store_reader with s); flush and
 * root do it themselves.  Returns 0 or an error of the hashing or io. */
int merkle_store_sync(merkle_store_t *s);

/* Entries in the tree, the appended ones included (no sync needed). */
uint64_t merkle_store_size(const merkle_store_t *s);

/* Put every partial chunk appended to since the last flush. */
int merkle_store_flush(merkle_store_t *s);

/* The frontier (after merkle_store_sync). */
const merkle_frontier_t *merkle_store_frontier(const merkle_store_t *s);
int merkle_store_root(merkle_store_t *s, uint8_t out[MERKLE_HASH_SIZE]);

/*
 * Reading.  A merkle_reader_t over io (and over s's chunks in memory, when
 * s is not NULL: an appender's own transaction), rebuilding the levels
 * between stored ones with h.  rd is the reader's state, which must
 * outlive r.
 */
typedef struct merkle_store_rd {
	merkle_store_io_t io;
	merkle_store_t *s;
	merkle_hasher_t *h;
	/* The tree's frontier when known (has_f): its subtrees are answered
	 * from it, which makes a proof of a recent entry (a receipt's) cost
	 * a few reads instead of ~24 folds. */
	bool has_f;
	merkle_frontier_t f;
} merkle_store_rd_t;

void merkle_store_reader(merkle_store_rd_t *rd, merkle_reader_t *r);

/* Hashes first..first+count-1 of stored slot `slot` into out (count * 32
 * bytes).  Returns 0, YIMA_ECORRUPT (missing or short values) or io's
 * error. */
int merkle_store_hashes(const merkle_store_rd_t *rd, unsigned slot, uint64_t first,
	size_t count, uint8_t *out);

/* How many values a tree of size leaves has in all slots. */
uint64_t merkle_store_values(uint64_t size);

/*
 * Checking a stored tree against its entries: feed every entry in order;
 * each leaf hash and stored subtree hash is recomputed and compared.
 * merkle_store_check returns 0, YIMA_EMISMATCH (a stored hash differs or
 * is missing), io's errors or YIMA_ECRYPTO.  f is the checker's
 * frontier, for the caller to compare with the stored one.
 */
typedef struct merkle_store_check merkle_store_check_t;
int merkle_store_check_new(const merkle_store_io_t *io, merkle_store_check_t **out);
int merkle_store_check(merkle_store_check_t *c, const void *entry, size_t len);
const merkle_frontier_t *merkle_store_check_frontier(const merkle_store_check_t *c);
merkle_hasher_t *merkle_store_check_hasher(merkle_store_check_t *c);
void merkle_store_check_free(merkle_store_check_t *c);

#endif
