/*
 * cmd_recall.c - `yima recall add|remove|list --db DIR [ARG]`.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/verifier/recall.h"
#include "yima/cluster/cluster.h"

static const char usage[] =
	"usage: yima recall add|remove --db DIR [--create] CODE|PRODUCT|PRODUCT:BATCH\n"
	"       yima recall list --db DIR\n"
	"       yima recall add|remove --nats URL[,URL...] [--cluster NAME] ARG\n"
	"Exactly 7 or 14 digits is a product id, PRODUCT:BATCH a batch of it, anything\n"
	"else a trace code (any scanned form).  A recall applies to every later\n"
	"receive and dispense (RECALLED).  DIR must hold a ledger (`yima init`) unless\n"
	"--create.  With --nats the change goes to every partition stream of the\n"
	"cluster (docs/cluster.md).  Exit: 0 done, 2 usage, no ledger or bad argument.\n";

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

static int change_cluster(const char *nats, const char *name, bool add, const char *arg)
{
	enum recall_kind kind;
	char key[RECALL_KEY_MAX], why[512];
	cluster_admin_t *a = NULL;
	int rc;

	if (recall_parse_arg(arg, &kind, key, why, sizeof why) < 0)
		return tool_usage_error("recall", "%s: %s", arg, why);
	if ((rc = cluster_admin_open(nats, name, &a, why, sizeof why)) == 0)
		rc = cluster_admin_recall(a, add, kind, key, why, sizeof why);
	cluster_admin_close(a);
	if (rc < 0)
		return tool_usage_error("recall", "%s", why);
	fprintf(stderr, "recall: %s %s in every partition of the cluster\n", add ? "added" : "removed", key);
	return EXIT_OK;
}

int cmd_recall(int argc, char **argv)
{
	static const char *const verbs[] = { "add", "remove", "list", NULL };
	static const opt_cmd_t change = { "recall", usage, 1, 1, "one CODE|PRODUCT|PRODUCT:BATCH" };
	static const opt_cmd_t list = { "recall", usage, 0, 0, NULL };
	tool_db_t db = { 0 };
	const char *nats = NULL, *name = NULL;
	const opt_t change_opts[] = { OPT_DB(&db), OPT_CREATE(&db), OPT_TEXT("nats", &nats),
				      OPT_TEXT("cluster", &name), OPT_END };
	const opt_t list_opts[] = { OPT_DB(&db), OPT_END };
	int verb, first, rc;

	if ((rc = opt_verb("recall", usage, verbs, argc, argv, &verb)) != OPT_GO)
		return rc;
	bool is_list = verb == 2;
	if ((rc = opt_parse(is_list ? &list : &change, is_list ? list_opts : change_opts, argc - 1,
			    argv + 1, &first)) != OPT_GO)
		return rc;
	if (!is_list && nats != NULL)
		return change_cluster(nats, name, verb == 0, argv[1 + first]);
	ledger_t *lg = tool_open_ledger("recall", &db, is_list ? TOOL_READ : TOOL_WRITE);
	if (lg == NULL)
		return EXIT_USAGE;
	rc = is_list ? do_list(lg) : do_change(lg, verb == 0, argv[1 + first]);
	ledger_close(lg);
	return rc;
}
