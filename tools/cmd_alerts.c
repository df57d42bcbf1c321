/*
 * cmd_alerts.c - `yima alerts --db DIR [filters]`: recorded findings.
 */
#include <getopt.h>
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
	"finding, worst first.  TIME is RFC 3339 with offset; both ends inclusive.\n"
	"Exit: 0 nothing matched, 1 alerts found, 2 usage.\n";

int cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "facility", required_argument, NULL, 'F' },
		{ "finding", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'b' },
		{ "counts", no_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	alerts_query_t q;
	char why[256];
	enum finding f;
	int c;

	memset(&q, 0, sizeof q);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'F': q.facility = optarg; break;
		case 'f':
			if ((f = finding_parse(optarg, strlen(optarg))) == F_COUNT)
				return tool_usage_error("alerts", "--finding: unknown finding %s", optarg);
			q.findings |= FINDING_BIT(f);
			break;
		case 'a':
		case 'b':
			if (yima_time_parse(optarg, strlen(optarg), c == 'a' ? &q.from : &q.to, why, sizeof why) < 0)
				return tool_usage_error("alerts", "--%s: %s", c == 'a' ? "from" : "to", why);
			if (c == 'a')
				q.has_from = true;
			else
				q.has_to = true;
			break;
		case 'c': q.counts = true; break;
		case 'o':
			if (strcmp(optarg, "csv") == 0)
				q.csv = true;
			else if (strcmp(optarg, "jsonl") != 0 && strcmp(optarg, "json") != 0)
				return tool_usage_error("alerts", "--format: jsonl or csv, not %s", optarg);
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return tool_usage_error("alerts", "unexpected argument %s", argv[optind]);
	ledger_t *lg = tool_open_ledger("alerts", db, false);
	if (lg == NULL)
		return EXIT_USAGE;
	uint64_t matched = 0;
	int rc = alerts_run(lg, &q, stdout, &matched, why, sizeof why);
	ledger_close(lg);
	if (rc < 0)
		return tool_usage_error("alerts", "%s", why);
	fprintf(stderr, "alerts: %" PRIu64 " flagged events matched\n", matched);
	return matched ? EXIT_FOUND : EXIT_OK;
}
