/*
 * store_pipe.c - hashing a long run of appends in a worker thread.
 *
 * Ingest appends a million records a commit; each costs the tree a leaf
 * hash and, on average, one node hash (~0.3 us of ~5 us a record on this
 * machine, measured: bench/README.md).  After PIPE_AFTER appends in one
 * store, entries are copied into batches of PIPE_BATCH and a worker thread
 * hashes a full batch (leaves, frontier, completed nodes) while the caller
 * fills the next one, so on a second core the tree costs the caller a copy
 * of each entry.  Only the caller touches the storage: it puts the nodes
 * the worker made when it hands over the next batch, and waits for the
 * worker at every point that reads the tree (store_pipe_sync).  Short
 * runs, such as yimad's group commits, never start the thread.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "yima/util/error.h"

/* Batches of 65,536 entries (~17 MiB of copies each, two of them): on a
 * loaded 2-core machine every hand-over may wait a scheduler tick for the
 * other thread, and 10 M records in batches of 1,024 paid ~10,000 of
 * them (measured: 2 M records, medians of 4 at load 5-7, 21.5 s against
 * 28 s for batches of 1,024 and 24 s with no worker). */
#define PIPE_AFTER 4096
#define PIPE_BATCH 65536

static int batch_node(struct pipe_batch *b, const merkle_node_t *node)
{
	if (b->nnodes == b->capnodes) {
		size_t cap = b->capnodes ? b->capnodes * 2 : 256;
		merkle_node_t *n = realloc(b->nodes, cap * sizeof *n);
		if (n == NULL)
			return YIMA_ENOMEM;
		b->nodes = n;
		b->capnodes = cap;
	}
	b->nodes[b->nnodes++] = *node;
	return 0;
}

int store_hash_entry(merkle_store_t *s, merkle_hasher_t *h, const void *entry, size_t len,
		     struct pipe_batch *sink)
{
	merkle_node_t nodes[MERKLE_MAX_APPEND];
	uint8_t leaf[MERKLE_HASH_SIZE];
	size_t n;
	int rc;

	if ((rc = merkle_hasher_leaf(h, entry, len, leaf)) < 0 ||
	    (rc = merkle_frontier_append(&s->f, h, leaf, nodes, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].level % MERKLE_STORE_STEP != 0)
			continue;
		if ((rc = sink ? batch_node(sink, &nodes[i]) : store_tail_put(s, &nodes[i])) < 0)
			return rc;
	}
	return 0;
}

/* Every entry of b, in order (the worker's job, or the caller's at a sync). */
static void batch_hash(merkle_store_t *s, merkle_hasher_t *h, struct pipe_batch *b)
{
	size_t start = 0;
	for (size_t i = 0; i < b->n && b->err == 0; i++) {
		b->err = store_hash_entry(s, h, b->bytes.p + start, b->end[i] - start, b);
		start = b->end[i];
	}
}

static void *worker(void *arg)
{
	merkle_store_t *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->busy && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->busy)
			break;
		pthread_mutex_unlock(&s->mu);
		batch_hash(s, &s->wh, &s->b[1 - s->fill]);
		pthread_mutex_lock(&s->mu);
		s->busy = false;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Put the nodes batch b made (or return the error that stopped it); b is
 * empty again. */
static int put_nodes(merkle_store_t *s, struct pipe_batch *b)
{
	int rc = b->err;

	for (size_t i = 0; rc == 0 && i < b->nnodes; i++)
		rc = store_tail_put(s, &b->nodes[i]);
	b->n = b->nnodes = 0;
	b->err = 0;
	buf_reset(&b->bytes);
	return rc;
}

/* Wait for the worker's batch and put the nodes it made; the batch is
 * empty again.  Returns the batch's error, or a storage error. */
static int take_back(merkle_store_t *s)
{
	struct pipe_batch *b = &s->b[1 - s->fill];

	pthread_mutex_lock(&s->mu);
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return put_nodes(s, b);
}

/* Start the worker; false (and nothing to undo) when it cannot be: the
 * caller then goes on hashing inline. */
static bool pipe_start(merkle_store_t *s)
{
	memset(s->b, 0, sizeof s->b);
	s->fill = 0;
	s->busy = s->stop = false;
	if ((s->b[0].end = calloc(PIPE_BATCH, sizeof *s->b[0].end)) == NULL ||
	    (s->b[1].end = calloc(PIPE_BATCH, sizeof *s->b[1].end)) == NULL)
		goto free_ends;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		goto free_ends;
	if (pthread_cond_init(&s->cv, NULL) != 0)
		goto destroy_mu;
	merkle_hasher_init(&s->wh);
	if (pthread_create(&s->thread, NULL, worker, s) != 0)
		goto destroy_cv;
	s->pipe_on = true;
	return true;
destroy_cv:
	pthread_cond_destroy(&s->cv);
destroy_mu:
	pthread_mutex_destroy(&s->mu);
free_ends:
	free(s->b[0].end);
	free(s->b[1].end);
	return false;
}

int store_pipe_append(merkle_store_t *s, const void *entry, size_t len)
{
	struct pipe_batch *b;
	int rc;

	if (!s->pipe_on && (++s->appends < PIPE_AFTER || !pipe_start(s)))
		return 0;	/* hash it inline */
	b = &s->b[s->fill];
	buf_put(&b->bytes, entry, len);
	if (b->bytes.oom)
		return YIMA_ENOMEM;
	b->end[b->n++] = b->bytes.len;
	if (b->n < PIPE_BATCH)
		return 1;
	if ((rc = take_back(s)) < 0)
		return rc;
	pthread_mutex_lock(&s->mu);
	s->fill = 1 - s->fill;
	s->busy = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 1;
}

int store_pipe_sync(merkle_store_t *s)
{
	struct pipe_batch *b;
	int rc;

	if (!s->pipe_on)
		return 0;
	if ((rc = take_back(s)) < 0)
		return rc;
	b = &s->b[s->fill];	/* the worker is idle: hash the rest here */
	batch_hash(s, &s->h, b);
	return put_nodes(s, b);
}

void store_pipe_stop(merkle_store_t *s)
{
	if (!s->pipe_on)
		return;
	pthread_mutex_lock(&s->mu);
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	for (int i = 0; i < 2; i++) {
		buf_deinit(&s->b[i].bytes);
		free(s->b[i].end);
		free(s->b[i].nodes);
	}
	s->pipe_on = false;
}
