/*
 * cmd_recall.c - `yima recall add|remove|list --db DIR [ARG]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/verifier/recall.h"

static const char usage[] =
	"usage: yima recall add|remove --db DIR CODE|PRODUCT|PRODUCT:BATCH\n"
	"       yima recall list --db DIR\n"
	"Exactly 7 or 14 digits is a product id, PRODUCT:BATCH a batch of it, anything\n"
	"else a trace code (any scanned form).  A recall applies to every later\n"
	"receive and dispense (RECALLED).  Exit: 0 done, 2 usage or bad argument.\n";

static int print_entry(void *arg, enum recall_kind k, yima_slice_t key)
{
	(void)arg;
	(void)k;
	printf("%.*s\n", (int)key.n, key.p);
	return 0;
}

static int do_list(ledger_t *lg)
{
	ledger_txn_t *txn;
	int rc = ledger_txn_begin(lg, false, &txn);
	if (rc == 0) {
		rc = ledger_recall_each(txn, print_entry, NULL);
		ledger_txn_abort(txn);
	}
	if (rc < 0)
		return tool_usage_error("recall", "%s", yima_strerror(rc));
	return EXIT_OK;
}

static int do_change(ledger_t *lg, bool add, const char *arg)
{
	enum recall_kind kind;
	char key[RECALL_KEY_MAX], why[512];
	ledger_txn_t *txn;
	int rc;

	if (recall_parse_arg(arg, &kind, key, why, sizeof why) < 0)
		return tool_usage_error("recall", "%s: %s", arg, why);
	if ((rc = ledger_txn_begin(lg, true, &txn)) < 0)
		return tool_usage_error("recall", "%s", yima_strerror(rc));
	rc = add ? ledger_recall_add(txn, kind, key, strlen(key))
		 : ledger_recall_remove(txn, kind, key, strlen(key));
	if (rc == YIMA_EEXIST || rc == YIMA_ENOTFOUND) {
		ledger_txn_abort(txn);
		fprintf(stderr, "recall: %s %s\n", key, add ? "is already on the list" : "is not on the list");
		return EXIT_OK;
	}
	if (rc == 0)
		rc = ledger_txn_commit(txn);
	else
		ledger_txn_abort(txn);
	if (rc < 0)
		return tool_usage_error("recall", "%s", yima_strerror(rc));
	fprintf(stderr, "recall: %s %s\n", add ? "added" : "removed", key);
	return EXIT_OK;
}

int cmd_recall(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *verb;
	int c;

	if (argc < 2 || argv[1][0] == '-') {
		bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		fputs(usage, help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	verb = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	bool list = strcmp(verb, "list") == 0;
	bool add = strcmp(verb, "add") == 0;
	if (!list && !add && strcmp(verb, "remove") != 0)
		return tool_usage_error("recall", "unknown action '%s' (add, remove, list)", verb);
	if (optind != argc - (list ? 0 : 1))
		return tool_usage_error("recall", list ? "list takes no argument" : "expected one CODE|PRODUCT|PRODUCT:BATCH");
	ledger_t *lg = tool_open_ledger("recall", db, !list);
	if (lg == NULL)
		return EXIT_USAGE;
	int rc = list ? do_list(lg) : do_change(lg, add, argv[optind]);
	ledger_close(lg);
	return rc;
}
