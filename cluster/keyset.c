/*
 * keyset.c - a counted set of short byte strings (see cluster_int.h): the
 * codes a partition view holds for undecided claims, and those of the
 * operations waiting behind them.  Open addressing with linear probing and
 * tombstones; a key is counted, so two holders of one code need two
 * removals.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"

struct keyset_slot {
	char *key;		/* NULL: empty; TOMB: removed */
	size_t len;
	unsigned count;
};

static char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t key_hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void keyset_init(keyset_t *s)
{
	memset(s, 0, sizeof *s);
}

void keyset_clear(keyset_t *s)
{
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].key != NULL && s->slot[i].key != TOMB)
			free(s->slot[i].key);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

static struct keyset_slot *find(const keyset_t *s, const char *k, size_t n)
{
	if (s->cap == 0)
		return NULL;
	for (size_t i = key_hash(k, n) & (s->cap - 1), probes = 0; probes < s->cap;
	     i = (i + 1) & (s->cap - 1), probes++) {
		struct keyset_slot *sl = &s->slot[i];
		if (sl->key == NULL)
			return NULL;
		if (sl->key != TOMB && sl->len == n && memcmp(sl->key, k, n) == 0)
			return sl;
	}
	return NULL;
}

static int grow(keyset_t *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct keyset_slot *old = s->slot, *nw = calloc(cap, sizeof *nw);
	size_t oldcap = s->cap;

	if (nw == NULL)
		return -1;
	s->slot = nw;
	s->cap = cap;
	s->used = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key == NULL || old[i].key == TOMB)
			continue;
		size_t j = key_hash(old[i].key, old[i].len) & (cap - 1);
		while (nw[j].key != NULL)
			j = (j + 1) & (cap - 1);
		nw[j] = old[i];
		s->used++;
	}
	free(old);
	return 0;
}

int keyset_add(keyset_t *s, const char *k, size_t n)
{
	struct keyset_slot *sl = find(s, k, n);

	if (sl != NULL) {
		sl->count++;
		return 0;
	}
	if ((s->used + 1) * 2 > s->cap && grow(s) < 0)
		return -1;
	size_t i = key_hash(k, n) & (s->cap - 1);
	while (s->slot[i].key != NULL && s->slot[i].key != TOMB)
		i = (i + 1) & (s->cap - 1);
	char *copy = malloc(n ? n : 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, k, n);
	if (s->slot[i].key == NULL)
		s->used++;
	s->slot[i] = (struct keyset_slot){ copy, n, 1 };
	return 0;
}

void keyset_remove(keyset_t *s, const char *k, size_t n)
{
	struct keyset_slot *sl = find(s, k, n);

	if (sl == NULL || --sl->count > 0)
		return;
	free(sl->key);
	sl->key = TOMB;
	sl->len = 0;
}

bool keyset_has(const keyset_t *s, const char *k, size_t n)
{
	return find(s, k, n) != NULL;
}
