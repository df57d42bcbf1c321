/*
 * cmd_suspects.c - `yima suspects --db DIR [--from T] [--to T]
 * [--min-packs N] [--format jsonl|csv]`: resale leads (spec section 7).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "progress.h"
#include "tool.h"
#include "yima/core/limits.h"
#include "yima/regulator/suspects.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima suspects --db DIR [--from TIME] [--to TIME] [--min-packs N] [--format jsonl|csv]\n"
	"Patients whose dispensed packs came back onto the market (a later record of the\n"
	"code RETURNED_TO_MARKET or REUSED), worst first: one JSON line each with their\n"
	"keyed hash, packs, OVER_QUANTITY dispenses, facilities and evidence (--format\n"
	"csv: one row per evidence item).  Resurfacing records (and OVER_QUANTITY\n"
	"dispenses) count when their time is in [--from, --to): TIME is RFC 3339 with\n"
	"offset or a date YYYY-MM-DD, that day's start in +08:00; --to is excluded.\n"
	"--min-packs (default 2): the fewest distinct resurfaced packs listed.\n"
	"`yima patient-key` gives the hash of a named patient.  Summary on stderr.\n"
	"Exit: 0, or 2 usage.\n";

static int take_format(void *dst, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "csv") == 0)
		*(enum suspects_format *)dst = SUSPECTS_CSV;
	else if (strcmp(v, "jsonl") == 0)
		*(enum suspects_format *)dst = SUSPECTS_JSONL;
	else
		return yima_fail(why, whylen, YIMA_EINVAL, "jsonl or csv, not %s", v);
	return 0;
}

static void summary(const suspects_stats_t *st)
{
	fprintf(stderr, "suspects: %" PRIu64 " listed of %" PRIu64 " patients with resurfaced packs; %"
		PRIu64 " resurfacing records in the period (%" PRIu64 " of a patient's dispense), %" PRIu64
		" OVER_QUANTITY dispenses; %" PRIu64 " records read\n",
		st->listed, st->patients, st->resurfacing, st->with_patient, st->over_quantity,
		st->records);
}

int cmd_suspects(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "suspects", usage, 0, 0, NULL };
	tool_db_t db = { 0 };
	enum suspects_format fmt = SUSPECTS_JSONL;
	suspects_opts_t o;
	suspects_stats_t st;
	tool_progress_t prog;
	char why[512];
	int first, rc;

	memset(&o, 0, sizeof o);
	o.min_packs = 2;
	const opt_t opts[] = {
		OPT_DB(&db),
		OPT_FROM("from", &o.from, &o.has_from),
		/* [from, to): an exclusive end, so a date is its first instant */
		OPT_FROM("to", &o.to, &o.has_to),
		OPT_NUM64("min-packs", &o.min_packs, 1, EVENT_UNITS_MAX, "a number of packs"),
		OPT_CALL("format", take_format, &fmt),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	tool_progress_init(&prog, "records", &o.progress, &o.progress_arg);
	ledger_t *lg = tool_open_ledger("suspects", &db, TOOL_READ);
	if (lg == NULL)
		return EXIT_USAGE;
	rc = suspects_write(lg, &o, fmt, stdout, &st, why, sizeof why);
	ledger_close(lg);
	tool_progress_end(&prog);
	if (rc < 0)
		return tool_usage_error("suspects", "%s", why);
	summary(&st);
	return EXIT_OK;
}
