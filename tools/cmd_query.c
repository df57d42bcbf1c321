/*
 * cmd_query.c - `yima query --db DIR CODE`: state and history of a code.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "yima/util/buf.h"
#include "cmd.h"
#include "tool.h"
#include "yima/cluster/cluster.h"
#include "yima/util/error.h"
#include "yima/verifier/query.h"

static const char usage[] =
	"usage: yima query --db DIR [--json] CODE\n"
	"(DIR may be a cluster node's directory: the code's partition is read.)\n"
	"The code's state and full history, whichever way it was scanned.  JSON when\n"
	"stdout is not a terminal or with --json, a timeline otherwise.\n"
	"Exit: 0 found, 1 the code does not normalize or is not in the ledger, 2 usage.\n";

int cmd_query(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "query", usage, 1, 1, "one CODE" };
	tool_db_t db = { 0 };
	bool json = !isatty(STDOUT_FILENO);
	const opt_t opts[] = { OPT_DB(&db), OPT_BOOL("json", &json), OPT_END };
	ledger_txn_t *txn;
	char why[512];
	buf_t out;
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	/* a cluster node's directory: the ledger of the code's partition */
	char pdir[4096];
	if (db.dir != NULL && cluster_node_dir_ledger(db.dir, argv[first], pdir, sizeof pdir) == 0)
		db.dir = pdir;
	ledger_t *lg = tool_open_ledger("query", &db, TOOL_READ);
	if (lg == NULL)
		return EXIT_USAGE;
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0) {
		ledger_close(lg);
		return tool_usage_error("query", "%s: %s", db.dir, yima_strerror(rc));
	}
	buf_init(&out);
	const char *code = argv[first];
	rc = query_code(txn, code, strlen(code), json ? QUERY_JSON : QUERY_TEXT, &out, why, sizeof why);
	ledger_txn_abort(txn);
	ledger_close(lg);
	if (rc == 0)
		fwrite(out.p, 1, out.len, stdout);
	buf_deinit(&out);
	if (rc == YIMA_EMALFORMED || rc == YIMA_ENOTFOUND) {
		fprintf(stderr, "yima query: %s\n", why);
		return EXIT_FOUND;
	}
	if (rc < 0) {
		fprintf(stderr, "yima query: %s\n", why);
		return EXIT_USAGE;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}
