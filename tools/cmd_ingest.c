/*
 * cmd_ingest.c - `yima ingest --db DIR FILE.csv|-` (spec section 5).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "tool.h"
#include "yima/error.h"
#include "yima/ingest.h"

static const char usage[] =
	"usage: yima ingest --db DIR [--out FILE] [--again] [--refund-window-days N]\n"
	"                   [--batch ROWS] FILE.csv|-\n"
	"Apply scan events (spec section 3 CSV) in order; print one JSON verdict per\n"
	"data row to stdout (or --out FILE), a summary to stderr.  A file ingested\n"
	"before (same SHA-256) is refused unless --again; an interrupted ingest of a\n"
	"file resumes after its last committed batch.\n"
	"Exit: 0 all rows accepted or warned, 1 some row rejected, 2 usage, unreadable\n"
	"input, bad header or file ingested before.\n";

struct progress {
	bool on;
	struct timespec start;
};

static void show_progress(void *arg, uint64_t bytes, uint64_t total, uint64_t rows)
{
	struct progress *p = arg;
	struct timespec now;
	int width = 30, fill = 0;

	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
	double rate = secs > 0 ? (double)rows / secs : 0;
	if (total > 0)
		fill = (int)((double)bytes / (double)total * width);
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r[%.*s%*s] %" PRIu64 " rows  %.0f rows/s ", fill,
		"##############################", width - fill, "", rows, rate);
	fflush(stderr);
}

static void print_summary(const ingest_stats_t *st)
{
	fprintf(stderr, "ingest: %" PRIu64 " rows: %" PRIu64 " accept, %" PRIu64 " warn, %" PRIu64 " reject\n",
		st->rows, st->verdicts[VERDICT_ACCEPT], st->verdicts[VERDICT_WARN],
		st->verdicts[VERDICT_REJECT]);
	for (int f = 0; f < F_COUNT; f++)
		if (st->findings[f] > 0)
			fprintf(stderr, "  %-20s %" PRIu64 "\n", finding_name((enum finding)f), st->findings[f]);
}

static int run(const char *db, ingest_opts_t *o)
{
	ingest_stats_t st;
	struct progress prog = { isatty(STDERR_FILENO), { 0, 0 } };
	char why[512];

	clock_gettime(CLOCK_MONOTONIC, &prog.start);
	o->progress = show_progress;
	o->progress_arg = &prog;
	ledger_t *lg = tool_open_ledger("ingest", db, true);
	if (lg == NULL)
		return EXIT_USAGE;
	int rc = ingest_file(lg, o, &st, why, sizeof why);
	ledger_close(lg);
	if (prog.on)
		fputc('\n', stderr);
	if (st.resumed_after > 0)
		fprintf(stderr, "ingest: resumed after row %" PRIu64 " (committed by an earlier run)\n",
			st.resumed_after);
	if (rc < 0) {
		fprintf(stderr, "yima ingest: %s\n", why);
		if (st.rows > 0)
			print_summary(&st);
		return EXIT_USAGE;
	}
	print_summary(&st);
	return st.verdicts[VERDICT_REJECT] > 0 ? EXIT_FOUND : EXIT_OK;
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "again", no_argument, NULL, 'a' },
		{ "refund-window-days", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL;
	ingest_opts_t o;
	uint64_t v;
	int c;

	ingest_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'a': o.again = true; break;
		case 'w':
			if (!tool_parse_u64(optarg, 0, LEDGER_REFUND_WINDOW_MAX, &v))
				return tool_usage_error("ingest", "--refund-window-days: not a number of days: %s", optarg);
			o.refund_window_days = (uint32_t)v;
			break;
		case 'b':
			if (!tool_parse_u64(optarg, 1, 10000000, &v))
				return tool_usage_error("ingest", "--batch: not a row count: %s", optarg);
			o.batch_rows = v;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return tool_usage_error("ingest", "expected one FILE.csv or - (see --help)");
	o.path = argv[optind];
	o.out = stdout;
	if (out != NULL && (o.out = fopen(out, "w")) == NULL)
		return tool_usage_error("ingest", "%s: cannot write", out);
	int rc = run(db, &o);
	if (o.out != stdout && fclose(o.out) != 0)
		return tool_usage_error("ingest", "%s: write failed", out);
	return rc;
}
