/*
 * patient_heads.c - a write transaction's cache of the patient chain
 * heads it moved (patients.c), written back sorted by key.
 *
 * A claim's codes share one patient, so a head is often moved again
 * within minutes: the second and later moves touch only this table.  And
 * every moved head is written to `patients` when the transaction commits
 * (or the cache is full) in key order, where neighbouring keys share
 * their tree pages, rather than where each random key falls as it comes.
 * Reads within the transaction (ledger_patient_walk()) see the cache
 * first.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

#define HEADS_MAX (1u << 18)	/* heads before a write-back: 12 MiB of
				 * slots, at most half full */
#define HEADS_MIN 256		/* slots at first: a claim's few heads */

struct patient_head {
	uint8_t key[PATIENT_KEY_LEN];
	bool used;
	uint64_t seq;
};

struct patient_heads {
	struct patient_head *slot;
	size_t cap, n;
};

static struct patient_head *find(struct patient_heads *h, const uint8_t key[PATIENT_KEY_LEN])
{
	uint64_t x;
	memcpy(&x, key + 2, sizeof x);	/* bucket's low bytes + hash bytes */
	size_t i = (size_t)((x * 0x9e3779b97f4a7c15ULL) >> 40) & (h->cap - 1);
	while (h->slot[i].used && memcmp(h->slot[i].key, key, PATIENT_KEY_LEN) != 0)
		i = (i + 1) & (h->cap - 1);
	return &h->slot[i];
}

bool ledger_heads_get(ledger_txn_t *txn, const uint8_t key[PATIENT_KEY_LEN], uint64_t *seq)
{
	struct patient_heads *h = txn->heads;
	if (h == NULL || h->n == 0)
		return false;
	struct patient_head *e = find(h, key);
	if (!e->used)
		return false;
	*seq = e->seq;
	return true;
}

static int cmp_key(const void *x, const void *y)
{
	return memcmp(((const struct patient_head *)x)->key, ((const struct patient_head *)y)->key,
		      PATIENT_KEY_LEN);
}

int ledger_heads_flush(ledger_txn_t *txn)
{
	struct patient_heads *h = txn->heads;
	size_t n = 0;
	int rc = 0;

	if (h == NULL || h->n == 0)
		return 0;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slot[i].used)
			h->slot[n++] = h->slot[i];	/* n <= i: packs to the front */
	qsort(h->slot, n, sizeof *h->slot, cmp_key);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ledger_patient_head_put(txn->mdb, ledger_dbi(txn, DB_PATIENTS), h->slot[i].key,
					     h->slot[i].seq);
	memset(h->slot, 0, h->cap * sizeof *h->slot);
	h->n = 0;
	return rc;
}

/* Twice the slots (at most half full stays true). */
static int grow(struct patient_heads *h)
{
	struct patient_heads g = { calloc(2 * h->cap, sizeof *h->slot), 2 * h->cap, h->n };

	if (g.slot == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slot[i].used)
			*find(&g, h->slot[i].key) = h->slot[i];
	free(h->slot);
	*h = g;
	return 0;
}

int ledger_heads_set(ledger_txn_t *txn, const uint8_t key[PATIENT_KEY_LEN], uint64_t seq)
{
	struct patient_heads *h = txn->heads;
	int rc;

	if (h == NULL) {
		if ((h = txn->heads = calloc(1, sizeof *h)) == NULL)
			return YIMA_ENOMEM;
		h->cap = HEADS_MIN;
		if ((h->slot = calloc(h->cap, sizeof *h->slot)) == NULL)
			return YIMA_ENOMEM;
	}
	if (h->n >= HEADS_MAX && (rc = ledger_heads_flush(txn)) < 0)
		return rc;
	if (2 * (h->n + 1) > h->cap && (rc = grow(h)) < 0)
		return rc;
	struct patient_head *e = find(h, key);
	if (!e->used) {
		memcpy(e->key, key, PATIENT_KEY_LEN);
		e->used = true;
		h->n++;
	}
	e->seq = seq;
	return 0;
}

void ledger_heads_free(ledger_txn_t *txn)
{
	if (txn->heads != NULL)
		free(txn->heads->slot);
	free(txn->heads);
	txn->heads = NULL;
}
