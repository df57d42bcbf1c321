/*
 * cmd_alerts.c - `yima alerts --db DIR [filters]`: recorded findings.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tool.h"
#include "yima/regulator/alerts.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima alerts --db DIR [--facility F] [--finding NAME]... [--from TIME] [--to TIME]\n"
	"                   [--counts] [--format jsonl|csv]\n"
	"List recorded events with findings (JSON lines: seq, time, facility, type, code,\n"
	"settlement, verdict, findings), or with --counts the number per facility and\n"
	"finding, worst first.  TIME is RFC 3339 with offset or a date YYYY-MM-DD, a\n"
	"day in +08:00 (--from: its start; --to: its end); both ends inclusive.\n"
	"Exit: 0 nothing matched, 1 alerts found, 2 usage.\n";

static int take_finding(void *dst, const char *v, char *why, size_t whylen)
{
	enum finding f = finding_parse(v, strlen(v));
	if (f == F_COUNT)
		return yima_fail(why, whylen, YIMA_EINVAL, "unknown finding %s", v);
	((alerts_query_t *)dst)->findings |= FINDING_BIT(f);
	return 0;
}

static int take_format(void *dst, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "csv") == 0)
		*(bool *)dst = true;
	else if (strcmp(v, "jsonl") != 0 && strcmp(v, "json") != 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "jsonl or csv, not %s", v);
	return 0;
}

int cmd_alerts(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "alerts", usage, 0, 0, NULL };
	tool_db_t db = { 0 };
	alerts_query_t q;
	char why[256];
	int first, rc;

	memset(&q, 0, sizeof q);
	const opt_t opts[] = {
		OPT_DB(&db),
		OPT_TEXT("facility", &q.facility),
		OPT_CALL("finding", take_finding, &q),
		OPT_FROM("from", &q.from, &q.has_from),
		OPT_TO("to", &q.to, &q.has_to),
		OPT_BOOL("counts", &q.counts),
		OPT_CALL("format", take_format, &q.csv),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	ledger_t *lg = tool_open_ledger("alerts", &db, TOOL_READ);
	if (lg == NULL)
		return EXIT_USAGE;
	uint64_t matched = 0;
	rc = alerts_run(lg, &q, stdout, &matched, why, sizeof why);
	ledger_close(lg);
	if (rc < 0)
		return tool_usage_error("alerts", "%s", why);
	fprintf(stderr, "alerts: %" PRIu64 " flagged events matched\n", matched);
	return matched ? EXIT_FOUND : EXIT_OK;
}
