/*
 * cmd_ingest.c - `yima ingest --db DIR FILE.csv|-` (spec section 5).
 */
#include <inttypes.h>
#include <stdio.h>

#include "cmd.h"
#include "progress.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/verifier/ingest.h"

static const char usage[] =
	"usage: yima ingest --db DIR [--create] [--out FILE] [--again] [--refund-window-days N]\n"
	"                   [--batch ROWS] FILE.csv|-\n"
	"Apply scan events (spec section 3 CSV) in order; print one JSON verdict per\n"
	"data row to stdout (or --out FILE), a summary to stderr.  \"line\" in the JSON\n"
	"is the data row number (header and empty lines not counted), as messages say\n"
	"\"data row N (line L)\" with L the line of the file.  A file ingested before\n"
	"(same SHA-256) is refused unless --again; an interrupted ingest of a file\n"
	"resumes after its last committed batch.  DIR must hold a ledger (`yima init`)\n"
	"unless --create.\n"
	"Exit: 0 all rows accepted or warned, 1 some row rejected, 2 usage, no ledger,\n"
	"unreadable input, bad header or file ingested before.\n";

static void print_summary(const ingest_stats_t *st)
{
	fprintf(stderr, "ingest: %" PRIu64 " rows: %" PRIu64 " accept, %" PRIu64 " warn, %" PRIu64 " reject\n",
		st->rows, st->verdicts[VERDICT_ACCEPT], st->verdicts[VERDICT_WARN],
		st->verdicts[VERDICT_REJECT]);
	FINDING_EACH(f)
		if (st->findings[f] > 0)
			fprintf(stderr, "  %-20s %" PRIu64 "\n", finding_name((enum finding)f), st->findings[f]);
}

static int run(const tool_db_t *db, ingest_opts_t *o)
{
	ingest_stats_t st;
	tool_progress_t prog;
	char why[512];

	tool_progress_init(&prog, "rows", &o->progress, &o->progress_arg);
	ledger_t *lg = tool_open_ledger("ingest", db, TOOL_WRITE);
	if (lg == NULL)
		return EXIT_USAGE;
	int rc = ingest_file(lg, o, &st, why, sizeof why);
	ledger_close(lg);
	tool_progress_end(&prog);
	if (st.resumed_after > 0)
		fprintf(stderr, "ingest: resumed after data row %" PRIu64 " (committed by an earlier run)\n",
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
	static const opt_cmd_t cmd = { "ingest", usage, 1, 1, "one FILE.csv or -" };
	tool_db_t db = { 0 };
	const char *out = NULL;
	ingest_opts_t o;
	int first, rc;

	ingest_opts_init(&o);
	const opt_t opts[] = {
		OPT_DB(&db), OPT_CREATE(&db),
		OPT_TEXT("out", &out),
		OPT_BOOL("again", &o.again),
		OPT_NUM32("refund-window-days", &o.refund_window_days, 0, REFUND_WINDOW_DAYS_MAX, "a number of days"),
		OPT_NUM64("batch", &o.batch_rows, 1, 10000000, "a row count"),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	o.path = argv[first];
	o.out = stdout;
	if (out != NULL && (o.out = fopen(out, "w")) == NULL)
		return tool_usage_error("ingest", "%s: cannot write", out);
	rc = run(&db, &o);
	if (o.out != stdout && fclose(o.out) != 0)
		return tool_usage_error("ingest", "%s: write failed", out);
	return rc;
}
