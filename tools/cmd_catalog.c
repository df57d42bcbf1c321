/*
 * cmd_catalog.c - `yima catalog load --db DIR FILE.csv` (spec section 2).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>

#include "cmd.h"
#include "tool.h"
#include "yima/verifier/catalog.h"
#include "yima/util/error.h"
#include "yima/cluster/cluster.h"

static const char usage[] =
	"usage: yima catalog load --db DIR [--create] FILE.csv\n"
	"       yima catalog load --nats URL[,URL...] [--cluster NAME] FILE.csv\n"
	"Load (or reload) the product catalog: product_id,drug_code,name,spec,pack_units\n"
	"and optionally max_units_30d, a patient's limit of the drug code's units in 30\n"
	"days (empty: none); other columns are ignored.  A reload's limits apply to\n"
	"later events only.  Rows with an existing product id replace it.  Bad\n"
	"rows are reported (FILE: data row N (line L): reason) and skipped.  DIR must\n"
	"hold a ledger (`yima init`) unless --create.  With --nats the rows go to every\n"
	"partition stream of the cluster (docs/cluster.md) instead of a local ledger.\n"
	"Exit: 0 loaded, 1 some rows were bad, 2 usage, no ledger or unreadable file.\n";

static void report_bad(void *arg, const char *where, const char *reason)
{
	fprintf(stderr, "%s: %s: %s (row skipped)\n", (const char *)arg, where, reason);
}

/* --nats: the file loaded into a scratch ledger (the same checks), its
 * rows published to every partition. */
static int load_cluster(const char *nats, const char *name, const char *path, catalog_stats_t *st)
{
	char dir[] = "/tmp/yima-catalog-XXXXXX", why[512];
	cluster_admin_t *a = NULL;
	ledger_t *lg = NULL;
	uint64_t rows = 0;
	int rc;

	if (mkdtemp(dir) == NULL)
		return tool_usage_error("catalog", "cannot make a scratch directory in /tmp");
	if ((rc = ledger_open(dir, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why)) == 0 &&
	    (rc = catalog_load_file(lg, path, report_bad, (void *)path, st, why, sizeof why)) == 0 &&
	    (rc = cluster_admin_open(nats, name, &a, why, sizeof why)) == 0)
		rc = cluster_admin_catalog(a, lg, &rows, why, sizeof why);
	cluster_admin_close(a);
	ledger_close(lg);
	tool_remove_tree(dir);
	if (rc < 0)
		return tool_usage_error("catalog", "%s", why);
	fprintf(stderr, "catalog: %" PRIu64 " rows published to every partition of the cluster\n", rows);
	return 0;
}

int cmd_catalog(int argc, char **argv)
{
	static const char *const verbs[] = { "load", NULL };
	static const opt_cmd_t cmd = { "catalog load", usage, 1, 1, "one FILE.csv" };
	tool_db_t db = { 0 };
	const char *nats = NULL, *name = NULL;
	const opt_t opts[] = { OPT_DB(&db), OPT_CREATE(&db), OPT_TEXT("nats", &nats),
			       OPT_TEXT("cluster", &name), OPT_END };
	catalog_stats_t st;
	char why[512];
	int verb, first, rc;

	if ((rc = opt_verb("catalog", usage, verbs, argc, argv, &verb)) != OPT_GO ||
	    (rc = opt_parse(&cmd, opts, argc - 1, argv + 1, &first)) != OPT_GO)
		return rc;
	const char *path = argv[1 + first];
	if (nats != NULL) {
		if ((rc = load_cluster(nats, name, path, &st)) != 0)
			return rc;
		fprintf(stderr, "catalog: %" PRIu64 " rows loaded, %" PRIu64 " bad\n", st.loaded, st.bad);
		return st.bad ? EXIT_FOUND : EXIT_OK;
	}
	ledger_t *lg = tool_open_ledger("catalog", &db, TOOL_WRITE);
	if (lg == NULL)
		return EXIT_USAGE;
	rc = catalog_load_file(lg, path, report_bad, (void *)path, &st, why, sizeof why);
	ledger_close(lg);
	if (rc < 0)
		return tool_usage_error("catalog", "%s", why);
	fprintf(stderr, "catalog: %" PRIu64 " rows loaded, %" PRIu64 " bad\n", st.loaded, st.bad);
	return st.bad ? EXIT_FOUND : EXIT_OK;
}
