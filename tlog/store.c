/*
 * store.c - an RFC 9162 tree kept as packed chunks of every 4th level in
 * the caller's key-value store: appending, reading hashes back for proofs
 * and tiles, and checking a stored tree against its entries (see
 * yima/tlog/store.h for the layout and why).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "yima/util/error.h"

int merkle_store_new(const merkle_store_io_t *io, const merkle_frontier_t *f,
	merkle_store_t **out)
{
	merkle_store_t *s = calloc(1, sizeof *s);
	int rc;
	*out = NULL;
	if (s == NULL)
		return YIMA_ENOMEM;
	if ((rc = merkle_hasher_init(&s->h)) < 0) {
		free(s);
		return rc;
	}
	s->io = *io;
	if (f != NULL)
		s->f = *f;
	s->size = s->f.size;
	*out = s;
	return 0;
}

void merkle_store_free(merkle_store_t *s)
{
	if (s == NULL)
		return;
	store_pipe_stop(s);
	merkle_hasher_deinit(&s->h);
	free(s);
}

int merkle_store_sync(merkle_store_t *s)
{
	return store_pipe_sync(s);
}

uint64_t merkle_store_size(const merkle_store_t *s)
{
	return s->size;
}

const merkle_frontier_t *merkle_store_frontier(const merkle_store_t *s)
{
	return &s->f;
}

int merkle_store_root(merkle_store_t *s, uint8_t out[MERKLE_HASH_SIZE])
{
	int rc = store_pipe_sync(s);
	return rc < 0 ? rc : merkle_frontier_root(&s->f, &s->h, out);
}

static int tail_write(merkle_store_t *s, struct store_tail *t, unsigned slot)
{
	int rc = s->io.put(s->io.ctx, slot, t->chunk, t->h, t->n);
	if (rc == 0)
		t->dirty = false;
	return rc;
}

/* Make t the chunk that hash `index` goes into, loading the partial chunk
 * an earlier transaction left. */
static int tail_move(merkle_store_t *s, struct store_tail *t, unsigned slot, uint64_t index)
{
	uint64_t chunk = index / MERKLE_STORE_CHUNK;
	const uint8_t *p;
	size_t n;
	int rc;

	if (t->loaded && t->chunk == chunk)
		return 0;
	if (t->loaded && t->dirty && (rc = tail_write(s, t, slot)) < 0)
		return rc;
	t->loaded = true;
	t->chunk = chunk;
	t->n = 0;
	if (index % MERKLE_STORE_CHUNK == 0)
		return 0;
	if ((rc = s->io.get(s->io.ctx, slot, chunk, &p, &n)) < 0)
		return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
	if (n > MERKLE_STORE_CHUNK)
		return YIMA_ECORRUPT;
	memcpy(t->h, p, n * MERKLE_HASH_SIZE);
	t->n = (unsigned)n;
	return 0;
}

int store_tail_put(merkle_store_t *s, const merkle_node_t *node)
{
	unsigned slot = node->level / MERKLE_STORE_STEP;
	struct store_tail *t = &s->tail[slot];
	unsigned off = (unsigned)(node->index % MERKLE_STORE_CHUNK);
	int rc;

	if ((rc = tail_move(s, t, slot, node->index)) < 0)
		return rc;
	if (t->n != off)
		return YIMA_ECORRUPT;
	memcpy(t->h + (size_t)off * MERKLE_HASH_SIZE, node->hash, MERKLE_HASH_SIZE);
	t->n++;
	t->dirty = true;
	return t->n == MERKLE_STORE_CHUNK ? tail_write(s, t, slot) : 0;
}

int merkle_store_append(merkle_store_t *s, const void *entry, size_t len, uint64_t *index)
{
	int rc;

	if (s->size >= MERKLE_MAX_SIZE)
		return YIMA_EINVAL;
	if ((rc = store_pipe_append(s, entry, len)) < 0)
		return rc;
	if (rc == 0 && (rc = store_hash_entry(s, &s->h, entry, len, NULL)) < 0)
		return rc;
	if (index != NULL)
		*index = s->size;
	s->size++;
	return 0;
}

int merkle_store_flush(merkle_store_t *s)
{
	int rc = store_pipe_sync(s);
	if (rc < 0)
		return rc;
	for (unsigned slot = 0; slot < MERKLE_STORE_SLOTS; slot++) {
		struct store_tail *t = &s->tail[slot];
		if (t->loaded && t->dirty && (rc = tail_write(s, t, slot)) < 0)
			return rc;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

int merkle_store_hashes(const merkle_store_rd_t *rd, unsigned slot, uint64_t first,
	size_t count, uint8_t *out)
{
	if (slot >= MERKLE_STORE_SLOTS)
		return YIMA_EINVAL;
	while (count > 0) {
		uint64_t chunk = first / MERKLE_STORE_CHUNK;
		size_t off = (size_t)(first % MERKLE_STORE_CHUNK), take = MERKLE_STORE_CHUNK - off;
		const struct store_tail *t = rd->s != NULL ? &rd->s->tail[slot] : NULL;
		const uint8_t *p;
		size_t have;
		int rc;

		if (take > count)
			take = count;
		if (t != NULL && t->loaded && t->chunk == chunk) {
			p = t->h;
			have = t->n;
		} else if ((rc = rd->io.get(rd->io.ctx, slot, chunk, &p, &have)) < 0) {
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		}
		if (off + take > have)
			return YIMA_ECORRUPT;
		memcpy(out, p + off * MERKLE_HASH_SIZE, take * MERKLE_HASH_SIZE);
		out += take * MERKLE_HASH_SIZE;
		first += take;
		count -= take;
	}
	return 0;
}

/* A complete subtree of level l: folded from 2^(l mod 4) hashes of the
 * stored level l - l mod 4. */
static int store_read(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_SIZE])
{
	const merkle_store_rd_t *rd = ctx;
	uint8_t h[8 * MERKLE_HASH_SIZE];
	unsigned d = level % MERKLE_STORE_STEP;
	size_t count = (size_t)1 << d;
	int rc;

	if (level >= 64)
		return YIMA_EINVAL;
	if (rd->has_f && ((rd->f.size >> level) & 1) && index == (rd->f.size >> level) - 1) {
		memcpy(out, rd->f.h[level], MERKLE_HASH_SIZE);
		return 0;
	}
	if ((rc = merkle_store_hashes(rd, level / MERKLE_STORE_STEP, index << d, count, h)) < 0)
		return rc;
	return merkle_fold(rd->h, h, count, out);
}

void merkle_store_reader(merkle_store_rd_t *rd, merkle_reader_t *r)
{
	r->read = store_read;
	r->ctx = rd;
}

uint64_t merkle_store_values(uint64_t size)
{
	uint64_t n = 0;
	for (unsigned slot = 0; slot < MERKLE_STORE_SLOTS; slot++)
		n += ((size >> (MERKLE_STORE_STEP * slot)) + MERKLE_STORE_CHUNK - 1) / MERKLE_STORE_CHUNK;
	return n;
}

/* ---- checking ------------------------------------------------------------ */

struct merkle_store_check {
	merkle_store_io_t io;
	merkle_hasher_t h;
	merkle_frontier_t f;
	struct {			/* the stored chunk in use, per slot */
		bool have;
		uint64_t chunk;
		const uint8_t *p;
		size_t n;
	} c[MERKLE_STORE_SLOTS];
};

int merkle_store_check_new(const merkle_store_io_t *io, merkle_store_check_t **out)
{
	merkle_store_check_t *c = calloc(1, sizeof *c);
	int rc;
	*out = NULL;
	if (c == NULL)
		return YIMA_ENOMEM;
	if ((rc = merkle_hasher_init(&c->h)) < 0) {
		free(c);
		return rc;
	}
	c->io = *io;
	*out = c;
	return 0;
}

void merkle_store_check_free(merkle_store_check_t *c)
{
	if (c == NULL)
		return;
	merkle_hasher_deinit(&c->h);
	free(c);
}

const merkle_frontier_t *merkle_store_check_frontier(const merkle_store_check_t *c)
{
	return &c->f;
}

merkle_hasher_t *merkle_store_check_hasher(merkle_store_check_t *c)
{
	return &c->h;
}

static int check_node(merkle_store_check_t *c, const merkle_node_t *node)
{
	unsigned slot = node->level / MERKLE_STORE_STEP;
	uint64_t chunk = node->index / MERKLE_STORE_CHUNK;
	size_t off = (size_t)(node->index % MERKLE_STORE_CHUNK);
	int rc;

	if (!c->c[slot].have || c->c[slot].chunk != chunk) {
		if ((rc = c->io.get(c->io.ctx, slot, chunk, &c->c[slot].p, &c->c[slot].n)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_EMISMATCH : rc;
		c->c[slot].have = true;
		c->c[slot].chunk = chunk;
	}
	if (off >= c->c[slot].n ||
	    memcmp(c->c[slot].p + off * MERKLE_HASH_SIZE, node->hash, MERKLE_HASH_SIZE) != 0)
		return YIMA_EMISMATCH;
	return 0;
}

int merkle_store_check(merkle_store_check_t *c, const void *entry, size_t len)
{
	merkle_node_t nodes[MERKLE_MAX_APPEND];
	uint8_t leaf[MERKLE_HASH_SIZE];
	size_t n;
	int rc;

	if ((rc = merkle_hasher_leaf(&c->h, entry, len, leaf)) < 0 ||
	    (rc = merkle_frontier_append(&c->f, &c->h, leaf, nodes, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].level % MERKLE_STORE_STEP == 0 && (rc = check_node(c, &nodes[i])) < 0)
			return rc;
	return 0;
}
