/*
 * cmd_report.c - `yima report --db DIR --facility F --from T --to T --out
 * FILE`: the evidence report of one facility and period, as a
 * self-contained HTML page (yima/report.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/regulator/report.h"

static const char usage[] =
	"usage: yima report --db DIR --facility F --from TIME --to TIME --out FILE.html|-\n"
	"Write a self-contained HTML evidence report for facility F over the period\n"
	"(both ends included): totals, findings per day as a chart, the products with\n"
	"the most findings, and every flagged (warned or rejected) event with its ledger\n"
	"seq and chain hash, under the ledger head it was read at (check it with\n"
	"`yima audit --expect-head`).  TIME is RFC 3339 with offset, or a date\n"
	"YYYY-MM-DD meaning that whole day in +08:00.\n"
	"Exit: 0 written, 2 usage, unreadable ledger or write error.\n";

/* Write the page to path via a temporary file renamed into place, so a
 * failed run never leaves a half report that looks whole. */
static int write_file(ledger_t *lg, const report_opts_t *o, const char *path, report_stats_t *st)
{
	char tmp[4096], why[512];
	FILE *fp;
	int rc;

	if (strcmp(path, "-") == 0) {
		if ((rc = report_write(lg, o, stdout, st, why, sizeof why)) < 0)
			return tool_usage_error("report", "%s", why);
		return EXIT_OK;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp)
		return tool_usage_error("report", "%s: path too long", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return tool_usage_error("report", "%s: cannot write", tmp);
	rc = report_write(lg, o, fp, st, why, sizeof why);
	if (fclose(fp) != 0 && rc == 0)
		rc = yima_fail(why, sizeof why, YIMA_EIO, "write failed");
	if (rc == 0 && rename(tmp, path) != 0)
		rc = yima_fail(why, sizeof why, YIMA_EIO, "cannot rename %s to %s", tmp, path);
	if (rc < 0) {
		unlink(tmp);
		return tool_usage_error("report", "%s: %s", path, why);
	}
	return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "facility", required_argument, NULL, 'F' },
		{ "from", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL;
	bool has_from = false, has_to = false;
	char why[256], now[32];
	report_opts_t o;
	report_stats_t st;
	int c;

	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'F': o.facility = optarg; break;
		case 'o': out = optarg; break;
		case 'a':
		case 'b':
			if (report_period_parse(optarg, c == 'b', c == 'a' ? &o.from : &o.to, why, sizeof why) < 0)
				return tool_usage_error("report", "--%s %s: %s", c == 'a' ? "from" : "to", optarg, why);
			*(c == 'a' ? &has_from : &has_to) = true;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return tool_usage_error("report", "unexpected argument %s", argv[optind]);
	if (o.facility == NULL || !has_from || !has_to || out == NULL)
		return tool_usage_error("report", "--facility, --from, --to and --out are required (see --help)");
	if (!event_is_facility_id(o.facility, strlen(o.facility)))
		return tool_usage_error("report", "--facility %s: not a facility id ([A-Z0-9]{1,20})", o.facility);
	if (yima_time_cmp(&o.from, &o.to) > 0)
		return tool_usage_error("report", "--from is after --to");
	time_t t = time(NULL);
	struct tm tm;
	if (gmtime_r(&t, &tm) != NULL && strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		o.generated_at = now;
	o.ledger_label = db;
	ledger_t *lg = tool_open_ledger("report", db, false);
	if (lg == NULL)
		return EXIT_USAGE;
	int rc = write_file(lg, &o, out, &st);
	ledger_close(lg);
	if (rc == EXIT_OK)
		fprintf(stderr, "report: %s: %" PRIu64 " events, %" PRIu64 " flagged, ledger of %" PRIu64
			" events\n", o.facility, st.events, st.flagged, st.ledger_events);
	return rc;
}
