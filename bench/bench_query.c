/*
 * bench_query.c - latency of `yima query` work on a loaded ledger: for
 * N codes picked from a canon file (yima gen --canon-out), normalize the
 * code, read its state and walk its whole history, render the JSON.  Each
 * lookup is timed alone; prints percentiles in microseconds.
 *
 *   bench_query DBDIR EVENTS.canon [N]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/query.h"

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

/* Reservoir-sample n non-empty lines of the canon file. */
static char **sample_codes(const char *path, size_t n, size_t *got)
{
	FILE *fp = fopen(path, "r");
	char line[128];
	uint64_t seen = 0, rng = 88172645463325252ull;
	char **codes = calloc(n, sizeof *codes);

	*got = 0;
	if (fp == NULL || codes == NULL) {
		if (fp)
			fclose(fp);
		free(codes);
		return NULL;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		seen++;
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		size_t slot = *got < n ? (*got)++ : (size_t)(rng % seen);
		if (slot < n) {
			free(codes[slot]);
			codes[slot] = strdup(line);
		}
	}
	fclose(fp);
	return codes;
}

int main(int argc, char **argv)
{
	ledger_t *lg;
	ledger_txn_t *txn;
	char why[256];
	size_t n = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 10000, got;
	buf_t out;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_query DBDIR EVENTS.canon [N]\n");
		return 2;
	}
	char **codes = sample_codes(argv[2], n, &got);
	if (codes == NULL || got == 0) {
		fprintf(stderr, "bench_query: no codes in %s\n", argv[2]);
		return 2;
	}
	if (ledger_open(argv[1], LEDGER_RDONLY, &lg, why, sizeof why) < 0) {
		fprintf(stderr, "bench_query: %s\n", why);
		return 2;
	}
	double *lat = calloc(got, sizeof *lat);
	uint64_t events = 0, missing = 0;
	buf_init(&out);
	for (size_t i = 0; i < got; i++) {
		double t0 = now_us();
		if (ledger_txn_begin(lg, false, &txn) < 0)
			return 2;
		buf_reset(&out);
		int rc = query_code(txn, codes[i], strlen(codes[i]), QUERY_JSON, &out, why, sizeof why);
		ledger_txn_abort(txn);
		lat[i] = now_us() - t0;
		if (rc < 0)
			missing++;
		for (size_t j = 0; j < out.len; j++)
			events += out.p[j] == '{';
	}
	qsort(lat, got, sizeof *lat, cmp_double);
	printf("query lookups=%zu missing=%" PRIu64 " avg_history=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
	       got, missing, (double)events / (double)got - 2, lat[got / 2], lat[got * 99 / 100],
	       lat[got * 999 / 1000], lat[got - 1]);
	buf_deinit(&out);
	ledger_close(lg);
	for (size_t i = 0; i < got; i++)
		free(codes[i]);
	free(codes);
	free(lat);
	return 0;
}
