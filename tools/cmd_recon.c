/*
 * cmd_recon.c - `yima recon --db DIR LOG.csv`: a facility's dispense log
 * against the ledger (spec section 5).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/regulator/recon.h"

static const char usage[] =
	"usage: yima recon --db DIR [--format jsonl|csv] [--out FILE] LOG.csv|-\n"
	"Reconcile a facility's dispense log (spec section 3 CSV; rows other than\n"
	"dispense are skipped) against the ledger, read-only.  One finding per line:\n"
	"NOT_UPLOADED, QTY_MISMATCH, DRUG_MISMATCH, the matched record's findings,\n"
	"RESOLD_ELSEWHERE, BAD_RECORD/MALFORMED (by log line), UNLOGGED (by ledger seq).\n"
	"Exit: 0 nothing found, 1 findings, 2 usage or unreadable input.\n";

static void progress(void *arg, uint64_t bytes, uint64_t total, uint64_t rows)
{
	(void)arg; (void)total;
	fprintf(stderr, "\r%" PRIu64 " rows, %" PRIu64 " MiB ", rows, bytes >> 20);
	fflush(stderr);
}

static void summary(const recon_stats_t *st)
{
	fprintf(stderr, "recon: %" PRIu64 " rows, %" PRIu64 " dispenses (%" PRIu64 " other rows skipped), "
		"%" PRIu64 " uploaded (%.1f%%), %" PRIu64 " findings\n", st->rows, st->dispenses,
		st->skipped, st->uploaded,
		st->dispenses ? 100.0 * (double)st->uploaded / (double)st->dispenses : 100.0, st->findings);
	for (int k = 0; k < RF_COUNT; k++)
		if (k != RF_RECORD_FINDING && st->by_kind[k])
			fprintf(stderr, "  %-20s %" PRIu64 "\n", recon_finding_name((enum recon_finding)k), st->by_kind[k]);
	for (int f = 0; f < F_COUNT; f++)
		if (st->by_finding[f])
			fprintf(stderr, "  %-20s %" PRIu64 "  (matched record)\n", finding_name((enum finding)f),
				st->by_finding[f]);
}

int cmd_recon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL;
	recon_opts_t o;
	recon_stats_t st;
	char why[512];
	int c;

	memset(&o, 0, sizeof o);
	o.format = RECON_JSONL;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				o.format = RECON_CSV;
			else if (strcmp(optarg, "jsonl") != 0)
				return tool_usage_error("recon", "--format: jsonl or csv, not %s", optarg);
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return tool_usage_error("recon", "expected one LOG.csv or - (see --help)");
	o.path = argv[optind];
	o.out = stdout;
	if (isatty(STDERR_FILENO))
		o.progress = progress;
	ledger_t *lg = tool_open_ledger("recon", db, false);
	if (lg == NULL)
		return EXIT_USAGE;
	if (out != NULL && (o.out = fopen(out, "w")) == NULL) {
		ledger_close(lg);
		return tool_usage_error("recon", "%s: cannot write", out);
	}
	int rc = recon_run(lg, &o, &st, why, sizeof why);
	ledger_close(lg);
	if (o.progress)
		fputc('\n', stderr);
	if (o.out != stdout && fclose(o.out) != 0 && rc == 0)
		return tool_usage_error("recon", "%s: write failed", out);
	if (rc < 0) {
		fprintf(stderr, "yima recon: %s\n", why);
		return EXIT_USAGE;
	}
	summary(&st);
	return st.findings ? EXIT_FOUND : EXIT_OK;
}
