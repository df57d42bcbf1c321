/*
 * cmd_init.c - `yima init --db DIR`: make a new, empty ledger.  The
 * commands that write a ledger refuse a DIR without one (unless
 * --create), so that a mistyped --db does not start a second ledger.
 */
#include <stdio.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima init --db DIR [--log-origin NAME]\n"
	"Make a new, empty ledger in DIR: a missing DIR is created (one level, mode\n"
	"0700), an existing one must be empty.  The ledger's patient-hash key is made\n"
	"with it (DIR/patient.key, mode 0600, never printed), and the signing key of\n"
	"its verifiable log (DIR/log.key, 0600), whose checkpoints name NAME as their\n"
	"origin (default yima.<hostname>; set once).  A DIR that already holds a\n"
	"ledger is left as it is (an older one gets its log).  Commands that write a\n"
	"ledger (catalog load,\n"
	"recall add|remove, ingest) refuse a DIR without one unless given --create.\n"
	"Exit: 0 made or already there, 2 usage, or DIR cannot hold a new ledger.\n";

int cmd_init(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "init", usage, 0, 0, NULL };
	tool_db_t db = { 0 };
	const opt_t opts[] = { OPT_DB(&db), OPT_TEXT("log-origin", &db.log_origin), OPT_END };
	ledger_t *lg;
	char why[512];
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (db.dir == NULL)
		return tool_usage_error("init", "--db DIR is required");
	if (ledger_open(db.dir, 0, &lg, why, sizeof why) == 0) {
		rc = ledger_log_start(lg, db.log_origin, why, sizeof why);
		ledger_close(lg);
		if (rc < 0)
			return tool_usage_error("init", "%s", why);
		fprintf(stderr, "init: %s already holds a ledger; left as it is\n", db.dir);
		return EXIT_OK;
	}
	if ((rc = ledger_open(db.dir, LEDGER_CREATE, &lg, why, sizeof why)) < 0)
		return tool_usage_error("init", "%s", why);
	rc = ledger_log_start(lg, db.log_origin, why, sizeof why);
	ledger_close(lg);
	if (rc < 0)
		return tool_usage_error("init", "%s", why);
	fprintf(stderr, "init: a new ledger in %s\n", db.dir);
	return EXIT_OK;
}
