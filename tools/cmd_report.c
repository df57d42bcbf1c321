/*
 * cmd_report.c - `yima report --db DIR --facility F --from T --to T --out
 * FILE`: the evidence report of one facility and period, as a
 * self-contained HTML page (yima/report.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
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
	"YYYY-MM-DD, a day in +08:00: --from starts at its first instant, --to ends\n"
	"at its last, so --from D --to D is the whole day D.\n"
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
	static const opt_cmd_t cmd = { "report", usage, 0, 0, NULL };
	tool_db_t db = { 0 };
	const char *out = NULL;
	bool has_from = false, has_to = false;
	char now[32];
	report_opts_t o;
	report_stats_t st;
	tool_progress_t prog;
	int first, rc;

	memset(&o, 0, sizeof o);
	const opt_t opts[] = {
		OPT_DB(&db),
		OPT_TEXT("facility", &o.facility),
		OPT_FROM("from", &o.from, &has_from),
		OPT_TO("to", &o.to, &has_to),
		OPT_TEXT("out", &out),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
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
	o.ledger_label = db.dir;
	tool_progress_init(&prog, "records", &o.progress, &o.progress_arg);
	ledger_t *lg = tool_open_ledger("report", &db, TOOL_READ);
	if (lg == NULL)
		return EXIT_USAGE;
	rc = write_file(lg, &o, out, &st);
	ledger_close(lg);
	tool_progress_end(&prog);
	if (rc == EXIT_OK)
		fprintf(stderr, "report: %s: %" PRIu64 " events, %" PRIu64 " flagged, ledger of %" PRIu64
			" events\n", o.facility, st.events, st.flagged, st.ledger_events);
	return rc;
}
