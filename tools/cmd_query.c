/*
 * cmd_query.c - `yima query --db DIR CODE`: state and history of a code.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "yima/util/buf.h"
#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/verifier/query.h"

static const char usage[] =
	"usage: yima query --db DIR [--json] CODE\n"
	"The code's state and full history, whichever way it was scanned.  JSON when\n"
	"stdout is not a terminal or with --json, a timeline otherwise.\n"
	"Exit: 0 found, 1 the code does not normalize or is not in the ledger, 2 usage.\n";

int cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	bool json = !isatty(STDOUT_FILENO);
	ledger_txn_t *txn;
	char why[512];
	buf_t out;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return tool_usage_error("query", "expected one CODE (see --help)");
	ledger_t *lg = tool_open_ledger("query", db, false);
	if (lg == NULL)
		return EXIT_USAGE;
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0) {
		ledger_close(lg);
		return tool_usage_error("query", "%s: %s", db, yima_strerror(rc));
	}
	buf_init(&out);
	const char *code = argv[optind];
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
