/*
 * patient_heads.c - a write transaction's cache of patient chain heads
 * (patients.c): the `patients` entries it read or moved, in memory.
 *
 * Why: a `patients` lookup is a descent of a B-tree whose keys are
 * uniformly random hashes, so every level is a cache miss; on the 10 M
 * benchmark that cost more than the rest of the chain.  A claim's codes
 * share one patient, so most heads are moved again within minutes: here
 * the second and later moves touch only this table; and every moved head
 * is written back sorted by key when the transaction commits (or the
 * table is full), where neighbouring keys share their tree pages, rather
 * than inserted or rewritten where a random key falls.  Reads
 * within the transaction (ledger_patient_walk()) see the cache first.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

#define HEADS_MAX (1u << 19)	/* heads before a write-back: 16 MiB of
				 * slots at most half full */

struct patient_head {
	uint64_t key;		/* the 6-byte prefix, big-endian; 0 = empty */
	uint64_t seq;
	int64_t max;
};

struct patient_heads {
	struct patient_head *slot;
	size_t cap, n;
};

/* Keys are hash bytes: never 0 in practice, but 0 marks a free slot, so
 * the prefix's bit 63 is set (6 bytes use bits 0-47 only). */
static uint64_t key_of(const uint8_t *prefix)
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = k << 8 | prefix[i];
	return k | (uint64_t)1 << 63;
}

static struct patient_head *find(struct patient_heads *h, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 40) & (h->cap - 1);
	while (h->slot[i].key != 0 && h->slot[i].key != key)
		i = (i + 1) & (h->cap - 1);
	return &h->slot[i];
}

bool ledger_heads_get(ledger_txn_t *txn, const uint8_t *prefix, uint64_t *seq, int64_t *max)
{
	struct patient_heads *h = txn->heads;
	if (h == NULL || h->n == 0)
		return false;
	struct patient_head *e = find(h, key_of(prefix));
	if (e->key == 0)
		return false;
	*seq = e->seq;
	*max = e->max;
	return true;
}

static int cmp_key(const void *x, const void *y)
{
	const struct patient_head *a = x, *b = y;
	return a->key < b->key ? -1 : a->key > b->key;
}

/* Write the heads back, in key order, and empty the cache. */
int ledger_heads_flush(ledger_txn_t *txn)
{
	struct patient_heads *h = txn->heads;
	size_t n = 0;
	int rc = 0;

	if (h == NULL || h->n == 0)
		return 0;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slot[i].key != 0)
			h->slot[n++] = h->slot[i];	/* n <= i: packs to the front */
	qsort(h->slot, n, sizeof *h->slot, cmp_key);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t kb[8], val[16];
		put_u64be(kb, h->slot[i].key);
		if ((rc = ledger_patient_value(val, h->slot[i].seq, h->slot[i].max)) < 0)
			break;
		MDB_val k = { 6, kb + 2 }, v = { LEDGER_PATIENT_VAL, val };
		if ((rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_PATIENTS), &k, &v, 0)) != 0)
			rc = yima_err_from_mdb(rc);
	}
	memset(h->slot, 0, h->cap * sizeof *h->slot);
	h->n = 0;
	return rc;
}

int ledger_heads_set(ledger_txn_t *txn, const uint8_t *prefix, uint64_t seq, int64_t max)
{
	struct patient_heads *h = txn->heads;
	int rc;

	if (h == NULL) {
		if ((h = txn->heads = calloc(1, sizeof *h)) == NULL)
			return YIMA_ENOMEM;
		h->cap = 2 * (size_t)HEADS_MAX;
		if ((h->slot = calloc(h->cap, sizeof *h->slot)) == NULL)
			return YIMA_ENOMEM;
	}
	if (h->n >= HEADS_MAX && (rc = ledger_heads_flush(txn)) < 0)
		return rc;
	struct patient_head *e = find(h, key_of(prefix));
	if (e->key == 0) {
		e->key = key_of(prefix);
		h->n++;
	}
	e->seq = seq;
	e->max = max;
	return 0;
}

void ledger_heads_free(ledger_txn_t *txn)
{
	if (txn->heads != NULL)
		free(txn->heads->slot);
	free(txn->heads);
	txn->heads = NULL;
}
