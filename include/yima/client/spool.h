/*
 * spool.h - the upload spool: event batches waiting for delivery to yimad
 * (`yima upload`, spec section 5, exit 3).
 *
 * A spool is an LMDB environment in a directory of its own.  A batch is put
 * (and committed to disk) before it is sent and deleted when its receipt
 * has arrived, so a batch that left the process is either in the spool or
 * in the ledger, never neither.  Batches are keyed by a u64 that only grows
 * (never reused, even once the spool is empty), which is their delivery
 * order.  Each holds a packed EventBatch (proto/yima.proto) and what the
 * uploader needs to report on it later, perhaps from another run
 * (`yima upload --flush`): when it was spooled, how many events, the data
 * row number of its first event and the input it came from.
 *
 * A batch id waits at most once: putting a batch whose id is already
 * waiting returns YIMA_EEXIST (a rerun of a file that gave up finds its
 * batches already spooled).
 *
 * One writer at a time: spool_open() without SPOOL_RDONLY takes an
 * exclusive lock (flock on DIR/upload.lock) for the life of the handle, so
 * two uploads never send the same spool twice; a reader (--status) does
 * not need it.
 */
#ifndef YIMA_SPOOL_H
#define YIMA_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/util/slice.h"

typedef struct spool spool_t;

enum {
	SPOOL_RDONLY = 1,	/* read only, no lock; the spool must exist */
};

/*
 * The default spool directory: $XDG_STATE_HOME/yima/spool, else
 * $HOME/.local/state/yima/spool.  Returns 0, or YIMA_ENOTFOUND when neither
 * variable is set, YIMA_ETOOBIG when buf (n bytes) is too small.
 */
int spool_default_dir(char *buf, size_t n);

/* mkdir -p dir, with mode 0700 for what it creates.  Returns 0, or
 * YIMA_EIO / YIMA_EINVAL (not a directory) with why. */
int spool_make_dirs(const char *dir, char *why, size_t whylen);

/*
 * Open the spool in dir, creating it and missing parents (mode 0700)
 * unless SPOOL_RDONLY.  Returns 0, YIMA_EBUSY when another process holds
 * the spool, YIMA_ENOTFOUND (read only, no spool there) or another error,
 * with why naming the directory.
 */
int spool_open(const char *dir, unsigned flags, spool_t **out, char *why, size_t whylen);
void spool_close(spool_t *sp);

/* What the spool keeps about a batch besides its bytes. */
typedef struct spool_meta {
	yima_slice_t batch_id;	/* 1..128 bytes, as in the EventBatch */
	yima_slice_t source;	/* the input path, "-" for stdin; <= 4096 bytes */
	uint64_t events;	/* events in the batch */
	uint64_t first_line;	/* data row number of its first event */
	int64_t created;	/* unix seconds when it was spooled */
} spool_meta_t;

/*
 * Put a batch (body: a packed EventBatch, n bytes) at the end of the
 * spool, durably: when this returns 0 the batch survives a crash.  *key_out
 * (may be NULL) is its key.  Returns 0, YIMA_EEXIST if a batch with this
 * id is already waiting (nothing written), YIMA_EINVAL for an empty or
 * overlong id or source, YIMA_ENOSPACE, or another error.
 */
int spool_put(spool_t *sp, const spool_meta_t *m, const void *body, size_t n,
	      uint64_t *key_out);

/* A waiting batch.  The slices and body point into the caller's storage
 * given to spool_next(). */
typedef struct spool_entry {
	uint64_t key;
	spool_meta_t meta;
	const uint8_t *body;
	size_t body_len;
} spool_entry_t;

/* Caller-owned storage for an entry's bytes: zero it before first use,
 * release it with spool_storage_deinit(). */
typedef struct spool_storage {
	uint8_t *p;
	size_t cap;
} spool_storage_t;
void spool_storage_deinit(spool_storage_t *s);

/*
 * The first waiting batch with a key greater than `after` (0: the oldest),
 * copied into *st (grown as needed; e's pointers are valid until *st is
 * reused or released).  Returns 1 with an entry, 0 when there is none,
 * YIMA_ECORRUPT for an entry this code cannot read, or another error.
 */
int spool_next(spool_t *sp, uint64_t after, spool_entry_t *e, spool_storage_t *st);

/* Delete the batch under key, durably.  Returns 0, YIMA_ENOTFOUND or
 * another error. */
int spool_delete(spool_t *sp, uint64_t key);

/* The key of the waiting batch with this id.  Returns 0, YIMA_ENOTFOUND
 * or another error. */
int spool_find(spool_t *sp, yima_slice_t batch_id, uint64_t *key);

/* What waits: number of batches and events, and the oldest batch's
 * spooling time (0 when empty). */
typedef struct spool_stat {
	uint64_t batches;
	uint64_t events;
	int64_t oldest;
} spool_stat_t;

int spool_stat(spool_t *sp, spool_stat_t *st);

#endif
