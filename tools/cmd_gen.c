/*
 * cmd_gen.c - `yima gen`: write a synthetic world (catalog, recall list,
 * events) for tests, demos and benchmarks.  A thin shell over gen_world()
 * (yima/gen.h): parse flags, open the files in --out, print a summary.
 */
#include <errno.h>
#include <getopt.h>
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
"  --start YYYY-MM-DD  first day, times in +08:00 (default 2026-01-05)\n"
"  --fraud-rate F      share of packs given a fraud pattern (default 0.02)\n"
"  --noise-rate F      share of rows with scanner noise (default 0.10)\n"
"  --malformed-rate F  share of rows first scanned malformed (default 0.005)\n"
"  --bad-row-rate F    share of rows first sent broken (default 0.003)\n"
"  --max-live N        packs in flight at most, bounds memory (default 1048576)\n"
"  --canon-out         also write DIR/events.canon: the canonical code of\n"
"                      each row, empty for malformed and bad rows\n"
"  --truth-out         also write DIR/events.truth: the anomaly injected\n"
"                      in each row (a finding name, or - for none)\n"
"  --quiet             no summary on stderr\n"
"  --help              this text\n";

enum {
	OPT_FACILITIES = 256, OPT_PRODUCTS, OPT_DAYS, OPT_EVENTS, OPT_SEED,
	OPT_START, OPT_FRAUD, OPT_NOISE, OPT_MALFORMED, OPT_BAD, OPT_MAX_LIVE,
	OPT_CANON, OPT_TRUTH, OPT_QUIET, OPT_OUT, OPT_HELP,
};

static const struct option gen_longopts[] = {
	{ "out", required_argument, NULL, OPT_OUT },
	{ "facilities", required_argument, NULL, OPT_FACILITIES },
	{ "products", required_argument, NULL, OPT_PRODUCTS },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "start", required_argument, NULL, OPT_START },
	{ "fraud-rate", required_argument, NULL, OPT_FRAUD },
	{ "noise-rate", required_argument, NULL, OPT_NOISE },
	{ "malformed-rate", required_argument, NULL, OPT_MALFORMED },
	{ "bad-row-rate", required_argument, NULL, OPT_BAD },
	{ "max-live", required_argument, NULL, OPT_MAX_LIVE },
	{ "canon-out", no_argument, NULL, OPT_CANON },
	{ "truth-out", no_argument, NULL, OPT_TRUTH },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

typedef struct gen_cli {
	gen_opts_t opts;
	const char *out;
	bool canon, truth, quiet;
} gen_cli_t;

static int gen_bad_value(const char *flag, const char *v)
{
	fprintf(stderr, "yima gen: bad value for --%s: '%s' (see yima gen --help)\n", flag, v);
	return EXIT_USAGE;
}

static bool gen_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool gen_parse_rate(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = v;
	return true;
}

static bool gen_parse_date(const char *s, gen_opts_t *o)
{
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return false;
	o->start_year = y;
	o->start_month = m;
	o->start_day = d;
	return true;
}

/* One flag with its argument; returns 0, or an exit code. */
static int gen_flag(gen_cli_t *c, int opt, const char *arg)
{
	uint64_t v = 0;
	gen_opts_t *o = &c->opts;
	bool ok = true;
	int i = 0;
	while (gen_longopts[i].name != NULL && gen_longopts[i].val != opt)
		i++;
	switch (opt) {
	case OPT_OUT:		c->out = arg; break;
	case OPT_FACILITIES:	ok = gen_parse_u64(arg, 9999, &v); o->facilities = (unsigned)v; break;
	case OPT_PRODUCTS:	ok = gen_parse_u64(arg, 500000, &v); o->products = (unsigned)v; break;
	case OPT_DAYS:		ok = gen_parse_u64(arg, 36500, &v); o->days = (unsigned)v; break;
	case OPT_EVENTS:	ok = gen_parse_u64(arg, 900000000ULL, &o->events); break;
	case OPT_SEED:		ok = gen_parse_u64(arg, UINT64_MAX, &o->seed); break;
	case OPT_START:		ok = gen_parse_date(arg, o); break;
	case OPT_FRAUD:		ok = gen_parse_rate(arg, &o->fraud_rate); break;
	case OPT_NOISE:		ok = gen_parse_rate(arg, &o->noise_rate); break;
	case OPT_MALFORMED:	ok = gen_parse_rate(arg, &o->malformed_rate); break;
	case OPT_BAD:		ok = gen_parse_rate(arg, &o->bad_row_rate); break;
	case OPT_MAX_LIVE:	ok = gen_parse_u64(arg, 1u << 26, &v); o->max_live = (unsigned)v; break;
	case OPT_CANON:		c->canon = true; break;
	case OPT_TRUTH:		c->truth = true; break;
	case OPT_QUIET:		c->quiet = true; break;
	default:
		return EXIT_USAGE;
	}
	return ok ? 0 : gen_bad_value(gen_longopts[i].name, arg);
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

static int gen_run_cli(const gen_cli_t *c)
{
	static const char *const names[] = {
		"catalog.csv", "recalls.txt", "events.csv", "events.canon", "events.truth" };
	const bool want[] = { true, true, true, c->canon, c->truth };
	FILE *fp[5] = { NULL };
	gen_stats_t st;
	char why[256] = "";
	struct timespec t0, t1;
	int rc;

	if (mkdir(c->out, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "yima gen: %s: %s\n", c->out, strerror(errno));
		return EXIT_USAGE;
	}
	for (int i = 0; i < 5; i++) {
		if (want[i] && (fp[i] = gen_open(c->out, names[i])) == NULL) {
			gen_close_all(fp, names, 5, c->out);
			return EXIT_USAGE;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gen_files_t files = { fp[0], fp[1], fp[2], fp[3], fp[4] };
	rc = gen_world(&c->opts, &files, &st, why, sizeof(why));
	bool closed = gen_close_all(fp, names, 5, c->out);
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
	gen_cli_t c;
	char why[256];
	int opt, rc;

	memset(&c, 0, sizeof(c));
	gen_opts_default(&c.opts);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", gen_longopts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(gen_usage, stdout);
			return EXIT_OK;
		}
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "yima gen: %s '%s' (see yima gen --help)\n",
				opt == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
		if ((rc = gen_flag(&c, opt, optarg)) != 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "yima gen: unexpected argument '%s' (see yima gen --help)\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (c.out == NULL) {
		fprintf(stderr, "yima gen: --out DIR is required (see yima gen --help)\n");
		return EXIT_USAGE;
	}
	if (gen_opts_check(&c.opts, why, sizeof(why)) < 0) {
		fprintf(stderr, "yima gen: %s (see yima gen --help)\n", why);
		return EXIT_USAGE;
	}
	return gen_run_cli(&c);
}
