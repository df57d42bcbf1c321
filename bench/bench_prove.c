/*
 * bench_prove.c - latency of `yima log prove` work on a loaded ledger
 * (issue 11: p99 < 1 ms at 10 M records): N random inclusion proofs
 * (entry index in the tree of the latest checkpoint's size: the root and
 * the proof read from the stored tree, the JSON rendered) and N random
 * consistency proofs (from a random old size), each in its own read
 * transaction and timed alone; every proof is also verified (untimed)
 * against a root of the tree, so a fast wrong answer cannot pass.
 *
 *   bench_prove DBDIR [N]
 *
 * Output, one line per kind:
 *   prove kind=inclusion|consistency size=S n=N p50_us= p99_us= p999_us= max_us= avg_hashes=
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yima/ledger/ledger.h"
#include "yima/tlog/proof.h"
#include "yima/util/buf.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One proof as `yima log prove` makes it: root, proof, JSON. */
static int prove_one(ledger_t *lg, bool consistency, uint64_t from, uint64_t size, log_proof_t *p,
		     buf_t *out, yima_slice_t *entry)
{
	ledger_txn_t *txn;
	char why[256];
	int rc;

	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0)
		return rc;
	memset(p, 0, sizeof *p);
	p->consistency = consistency;
	p->from = from;
	p->size = size;
	if ((rc = ledger_log_root(txn, size, p->root, why, sizeof why)) == 0 &&
	    (rc = ledger_log_prove(txn, consistency, from, size, p->hash, &p->n, why, sizeof why)) == 0 &&
	    !consistency && (rc = ledger_entry_get(txn, from, entry, NULL)) == 0) {
		/* the entry points into the snapshot: keep a copy for the check */
		char *copy = malloc(entry->n);
		memcpy(copy, entry->p, entry->n);
		entry->p = copy;
	}
	buf_reset(out);
	log_proof_json(out, p);
	ledger_txn_abort(txn);
	if (rc < 0)
		fprintf(stderr, "bench_prove: %s\n", why);
	return rc;
}

static int check(ledger_t *lg, const log_proof_t *p, const yima_slice_t *entry)
{
	ledger_txn_t *txn;
	uint8_t old[LEDGER_HASH_LEN];
	char why[256];
	int rc = ledger_txn_begin(lg, false, &txn);

	if (rc == 0 && p->consistency)
		rc = ledger_log_root(txn, p->from, old, why, sizeof why);
	if (txn != NULL)
		ledger_txn_abort(txn);
	if (rc == 0)
		rc = p->consistency
			? log_proof_check_consistency(p, p->from, old, p->size, p->root, why, sizeof why)
			: log_proof_check_inclusion(p, p->size, p->root, entry->p, entry->n, why, sizeof why);
	if (rc < 0)
		fprintf(stderr, "bench_prove: a proof does not verify: %s\n", why);
	return rc;
}

int main(int argc, char **argv)
{
	ledger_t *lg;
	ledger_txn_t *txn;
	char why[256];
	size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 20000;
	uint64_t size, seed = 88172645463325252ull;
	buf_t out;

	if (argc < 2 || n == 0) {
		fprintf(stderr, "usage: bench_prove DBDIR [N]\n");
		return 2;
	}
	if (ledger_open(argv[1], LEDGER_RDONLY, &lg, why, sizeof why) < 0 ||
	    ledger_txn_begin(lg, false, &txn) < 0) {
		fprintf(stderr, "bench_prove: %s\n", why);
		return 2;
	}
	if (ledger_log_size(txn, &size) < 0 || size == 0) {
		fprintf(stderr, "bench_prove: %s has no log (or an empty one)\n", argv[1]);
		return 2;
	}
	ledger_txn_abort(txn);
	double *lat = calloc(n, sizeof *lat);
	size_t hashes = 0;
	buf_init(&out);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < n; i++) {
			log_proof_t p;
			yima_slice_t entry = { NULL, 0 };
			uint64_t from = k ? 1 + rnd(&seed) % size : rnd(&seed) % size;
			double t0 = now_us();
			if (prove_one(lg, k == 1, from, size, &p, &out, &entry) < 0)
				return 1;
			lat[i] = now_us() - t0;
			hashes += p.n;
			if (check(lg, &p, &entry) < 0)
				return 1;
			free((void *)entry.p);
		}
		qsort(lat, n, sizeof *lat, cmp_double);
		printf("prove kind=%s size=%" PRIu64 " n=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
		       "avg_hashes=%.1f\n", k ? "consistency" : "inclusion", size, n, lat[n / 2],
		       lat[n * 99 / 100], lat[n * 999 / 1000], lat[n - 1], (double)hashes / (double)n);
		hashes = 0;
	}
	buf_deinit(&out);
	ledger_close(lg);
	free(lat);
	return 0;
}
