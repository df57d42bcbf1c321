/*
 * store_int.h - what tlog/store.c (the tree's storage) and
 * tlog/store_pipe.c (hashing in a worker thread) share.  Private to tlog/.
 */
#ifndef YIMA_TLOG_STORE_INT_H
#define YIMA_TLOG_STORE_INT_H

#include <pthread.h>

#include "yima/tlog/store.h"
#include "yima/util/buf.h"

#define CHUNK_BYTES (MERKLE_STORE_CHUNK * MERKLE_HASH_SIZE)

/* The last chunk of one slot, as appending fills it. */
struct store_tail {
	uint64_t chunk;
	unsigned n;
	bool loaded, dirty;
	uint8_t h[CHUNK_BYTES];
};

/* Entries handed to the worker, and the stored-level nodes they made. */
struct pipe_batch {
	buf_t bytes;			/* the entries, back to back */
	size_t *end;			/* end offset of each */
	size_t n;
	merkle_node_t *nodes;
	size_t nnodes, capnodes;
	int err;
};

struct merkle_store {
	merkle_store_io_t io;
	merkle_hasher_t h;		/* the caller's */
	merkle_frontier_t f;		/* the worker's while it runs */
	uint64_t size;			/* entries appended (f may lag) */
	uint64_t appends;		/* in this store's life */
	struct store_tail tail[MERKLE_STORE_SLOTS];

	/* the pipe (store_pipe.c) */
	bool pipe_on;			/* the worker runs */
	bool busy, stop;		/* under mu */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	merkle_hasher_t wh;		/* the worker's */
	struct pipe_batch b[2];
	int fill;			/* the caller fills b[fill] */
};

/* Hash entry into the frontier with h; the stored-level nodes it completes
 * go to sink (a batch), or straight into the tails (sink NULL). */
int store_hash_entry(merkle_store_t *s, merkle_hasher_t *h, const void *entry, size_t len,
		     struct pipe_batch *sink);
/* Put a stored-level node into its slot's last chunk. */
int store_tail_put(merkle_store_t *s, const merkle_node_t *node);

/* Append through the pipe (starting it after enough appends); 1 when the
 * entry was taken, 0 when the caller should hash it inline. */
int store_pipe_append(merkle_store_t *s, const void *entry, size_t len);
/* Wait for the worker and bring the frontier and the tails up to every
 * entry appended. */
int store_pipe_sync(merkle_store_t *s);
/* Stop the worker (after store_pipe_sync, or dropping its work). */
void store_pipe_stop(merkle_store_t *s);

#endif
