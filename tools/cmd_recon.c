/*
 * cmd_recon.c - `yima recon --db DIR LOG.csv`: a facility's dispense log
 * against the ledger (spec section 5).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "progress.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/regulator/recon.h"

static const char usage[] =
	"usage: yima recon --db DIR [--format jsonl|csv] [--out FILE] LOG.csv|-\n"
	"Reconcile a facility's dispense log (spec section 3 CSV; rows other than\n"
	"dispense are skipped) against the ledger, read-only.  One finding per line:\n"
	"NOT_UPLOADED, QTY_MISMATCH, DRUG_MISMATCH, the matched record's findings,\n"
	"RESOLD_ELSEWHERE, BAD_RECORD/MALFORMED (\"line\": the log's data row number,\n"
	"header and empty lines not counted), UNLOGGED (by ledger seq).\n"
	"Exit: 0 nothing found, 1 findings, 2 usage or unreadable input.\n";

static void summary(const recon_stats_t *st)
{
	fprintf(stderr, "recon: %" PRIu64 " rows, %" PRIu64 " dispenses (%" PRIu64 " other rows skipped), "
		"%" PRIu64 " uploaded (%.1f%%), %" PRIu64 " findings\n", st->rows, st->dispenses,
		st->skipped, st->uploaded,
		st->dispenses ? 100.0 * (double)st->uploaded / (double)st->dispenses : 100.0, st->findings);
	for (int k = 0; k < RF_COUNT; k++)
		if (k != RF_RECORD_FINDING && st->by_kind[k])
			fprintf(stderr, "  %-20s %" PRIu64 "\n", recon_finding_name((enum recon_finding)k), st->by_kind[k]);
	FINDING_EACH(f)
		if (st->by_finding[f])
			fprintf(stderr, "  %-20s %" PRIu64 "  (matched record)\n", finding_name((enum finding)f),
				st->by_finding[f]);
}

static int take_format(void *dst, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "csv") == 0)
		*(enum recon_format *)dst = RECON_CSV;
	else if (strcmp(v, "jsonl") != 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "jsonl or csv, not %s", v);
	return 0;
}

int cmd_recon(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "recon", usage, 1, 1, "one LOG.csv or -" };
	tool_db_t db = { 0 };
	const char *out = NULL;
	recon_opts_t o;
	recon_stats_t st;
	tool_progress_t prog;
	char why[512];
	int first, rc;

	memset(&o, 0, sizeof o);
	o.format = RECON_JSONL;
	const opt_t opts[] = {
		OPT_DB(&db),
		OPT_CALL("format", take_format, &o.format),
		OPT_TEXT("out", &out),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	o.path = argv[first];
	o.out = stdout;
	tool_progress_init(&prog, "rows", &o.progress, &o.progress_arg);
	ledger_t *lg = tool_open_ledger("recon", &db, TOOL_READ);
	if (lg == NULL)
		return EXIT_USAGE;
	if (out != NULL && (o.out = fopen(out, "w")) == NULL) {
		ledger_close(lg);
		return tool_usage_error("recon", "%s: cannot write", out);
	}
	rc = recon_run(lg, &o, &st, why, sizeof why);
	ledger_close(lg);
	tool_progress_end(&prog);
	if (o.out != stdout && fclose(o.out) != 0 && rc == 0)
		return tool_usage_error("recon", "%s: write failed", out);
	if (rc < 0) {
		fprintf(stderr, "yima recon: %s\n", why);
		return EXIT_USAGE;
	}
	summary(&st);
	return st.findings ? EXIT_FOUND : EXIT_OK;
}
