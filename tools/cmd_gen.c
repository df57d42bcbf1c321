/*
 * cmd_gen.c - `yima gen`: write a synthetic world (catalog, recall list,
 * events) for tests, demos and benchmarks.  A thin shell over gen_world()
 * (yima/gen.h): parse flags, open the files in --out, print a summary.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "yima/util/error.h"
#include "yima/gen/gen.h"
#include "cmd.h"
#include "progress.h"
#include "tool.h"
#include "yima/core/timearg.h"

static const char gen_usage[] =
"usage: yima gen --out DIR [options]\n"
"\n"
"Write a synthetic world into DIR (created if missing):\n"
"  DIR/catalog.csv   products (spec section 2, plus a manufacturer column)\n"
"  DIR/recalls.txt   one `yima recall add` argument per line\n"
"  DIR/events.csv    events in time order (spec section 3)\n"
"The output depends only on the options: same seed, same bytes.\n"
"\n"
"options:\n"
"  --facilities N      hospitals and pharmacies (default 8)\n"
"  --products N        catalog rows (default 200)\n"
"  --days N            days the events span (default 30)\n"
"  --events N          data rows to write, exactly (default 100000)\n"
"  --seed N            PRNG seed (default 1)\n"
"  --start DAY         first day (YYYY-MM-DD, or an RFC 3339 instant: its day\n"
"                      in +08:00); times are in +08:00 (default 2026-01-05)\n"
"  --fraud-rate F      share of packs given a fraud pattern (default 0.02)\n"
"  --noise-rate F      share of rows with scanner noise (default 0.10)\n"
"  --malformed-rate F  share of rows first scanned malformed (default 0.005)\n"
"  --bad-row-rate F    share of rows first sent broken (default 0.003)\n"
"  --max-live N        packs in flight at most, bounds memory (default 1048576)\n"
"  --limits F          share of products given a max_units_30d of 2-5 packs\n"
"                      (spec section 7; default 0: no limits column)\n"
"  --hoarders N        patients who buy one limited product at several\n"
"                      facilities within days, over its limit (default 0)\n"
"  --resellers N       patients whose 2-5 packs come back onto the market at\n"
"                      other facilities (default 0)\n"
"  --canon-out         also write DIR/events.canon: the canonical code of\n"
"                      each row, empty for malformed and bad rows\n"
"  --truth-out         also write DIR/events.truth: the anomaly injected\n"
"                      in each row (a finding name, or - for none), and\n"
"                      DIR/patients.truth: the hoarders and resellers\n"
"                      (kind,patient,dispensed,over_limit,returned)\n"
"  --quiet             no summary on stderr\n"
"  --help              this text\n";

typedef struct gen_cli {
	gen_opts_t opts;
	const char *out;
	bool canon, truth, quiet;
	tool_progress_t prog;
} gen_cli_t;

static int gen_take_rate(void *dst, const char *s, char *why, size_t whylen)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return yima_fail(why, whylen, YIMA_EINVAL, "not a share in 0..1: %s", s);
	*(double *)dst = v;
	return 0;
}

/* The first day: a date, or an RFC 3339 instant whose +08:00 day it is. */
static int gen_take_start(void *dst, const char *s, char *why, size_t whylen)
{
	gen_opts_t *o = dst;
	yima_time_t t;
	int rc = time_arg_parse(s, TIME_ARG_START, &t, why, whylen);
	if (rc < 0)
		return rc;
	t.offset_min = TIME_ARG_OFFSET_MIN;
	t.zulu = false;
	yima_time_local_date(&t, &o->start_year, &o->start_month, &o->start_day);
	return 0;
}

static FILE *gen_open(const char *dir, const char *name)
{
	char path[4096];
	FILE *fp;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		fprintf(stderr, "yima gen: %s/%s: path too long\n", dir, name);
		return NULL;
	}
	if ((fp = fopen(path, "wb")) == NULL)
		fprintf(stderr, "yima gen: %s: %s\n", path, strerror(errno));
	return fp;
}

/* Close every file; false (with a message) if any write failed. */
static bool gen_close_all(FILE **fp, const char *const *names, int n, const char *dir)
{
	bool ok = true;
	for (int i = 0; i < n; i++) {
		if (fp[i] != NULL && fclose(fp[i]) != 0) {
			fprintf(stderr, "yima gen: %s/%s: %s\n", dir, names[i], strerror(errno));
			ok = false;
		}
		fp[i] = NULL;
	}
	return ok;
}

static void gen_summary(const gen_cli_t *c, const gen_stats_t *st, double secs)
{
	uint64_t fraud = 0, mal = 0, bad = 0;
	for (int i = 1; i < GEN_FRAUD_COUNT; i++)
		fraud += st->fraud[i];
	for (int i = 0; i < GEN_MAL_COUNT; i++)
		mal += st->malformed[i];
	for (int i = 0; i < GEN_BAD_COUNT; i++)
		bad += st->bad[i];
	fprintf(stderr, "yima gen: %s: %llu rows, %llu packs (%llu with a fraud pattern), "
		"%llu noisy, %llu malformed, %llu bad rows, %llu products, %llu recall lines "
		"in %.1f s\n", c->out, (unsigned long long)st->rows,
		(unsigned long long)st->packs, (unsigned long long)fraud,
		(unsigned long long)st->noisy_rows, (unsigned long long)mal,
		(unsigned long long)bad, (unsigned long long)st->catalog_rows,
		(unsigned long long)st->recall_lines, secs);
}

static int gen_run_cli(gen_cli_t *c)
{
	static const char *const names[] = {
		"catalog.csv", "recalls.txt", "events.csv", "events.canon", "events.truth",
		"patients.truth" };
	const bool want[] = { true, true, true, c->canon, c->truth, c->truth };
	FILE *fp[6] = { NULL };
	gen_stats_t st;
	char why[256] = "";
	struct timespec t0, t1;
	int rc;

	if (mkdir(c->out, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "yima gen: %s: %s\n", c->out, strerror(errno));
		return EXIT_USAGE;
	}
	for (int i = 0; i < 6; i++) {
		if (want[i] && (fp[i] = gen_open(c->out, names[i])) == NULL) {
			gen_close_all(fp, names, 6, c->out);
			return EXIT_USAGE;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gen_files_t files = { fp[0], fp[1], fp[2], fp[3], fp[4], fp[5] };
	rc = gen_world(&c->opts, &files, &st, why, sizeof(why));
	tool_progress_end(&c->prog);
	bool closed = gen_close_all(fp, names, 6, c->out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc < 0) {
		fprintf(stderr, "yima gen: %s: %s\n", c->out, why[0] ? why : yima_strerror(rc));
		return EXIT_USAGE;
	}
	if (!closed)
		return EXIT_USAGE;
	if (!c->quiet)
		gen_summary(c, &st, (double)(t1.tv_sec - t0.tv_sec) +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return EXIT_OK;
}

int cmd_gen(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "gen", gen_usage, 0, 0, NULL };
	gen_cli_t c;
	gen_opts_t *o = &c.opts;
	char why[256];
	int first, rc;

	memset(&c, 0, sizeof(c));
	gen_opts_default(o);
	const opt_t opts[] = {
		OPT_TEXT("out", &c.out),
		OPT_NUM32("facilities", &o->facilities, 0, 9999, "a count"),
		OPT_NUM32("products", &o->products, 0, 500000, "a count"),
		OPT_NUM32("days", &o->days, 0, 36500, "a number of days"),
		OPT_NUM64("events", &o->events, 0, 900000000ULL, "a row count"),
		OPT_NUM64("seed", &o->seed, 0, UINT64_MAX, "a number"),
		OPT_CALL("start", gen_take_start, o),
		OPT_CALL("fraud-rate", gen_take_rate, &o->fraud_rate),
		OPT_CALL("noise-rate", gen_take_rate, &o->noise_rate),
		OPT_CALL("malformed-rate", gen_take_rate, &o->malformed_rate),
		OPT_CALL("bad-row-rate", gen_take_rate, &o->bad_row_rate),
		OPT_NUM32("max-live", &o->max_live, 0, 1u << 26, "a count"),
		OPT_CALL("limits", gen_take_rate, &o->limit_rate),
		OPT_NUM32("hoarders", &o->hoarders, 0, 100000, "a count"),
		OPT_NUM32("resellers", &o->resellers, 0, 100000, "a count"),
		OPT_BOOL("canon-out", &c.canon),
		OPT_BOOL("truth-out", &c.truth),
		OPT_BOOL("quiet", &c.quiet),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (c.out == NULL)
		return tool_usage_error("gen", "--out DIR is required (see --help)");
	if (gen_opts_check(o, why, sizeof(why)) < 0)
		return tool_usage_error("gen", "%s (see --help)", why);
	tool_progress_init(&c.prog, "rows", c.quiet ? NULL : &o->progress, &o->progress_arg);
	return gen_run_cli(&c);
}
