/*
 * cmd_catalog.c - `yima catalog load --db DIR FILE.csv` (spec section 2).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tool.h"
#include "yima/verifier/catalog.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima catalog load --db DIR FILE.csv\n"
	"Load (or reload) the product catalog: product_id,drug_code,name,spec,pack_units\n"
	"(extra columns ignored).  Rows with an existing product id replace it.\n"
	"Bad rows are reported (file:line: reason) and skipped.\n"
	"Exit: 0 loaded, 1 some rows were bad, 2 usage or unreadable file.\n";

struct bad_ctx {
	const char *path;
};

static void report_bad(void *arg, uint64_t line, const char *reason)
{
	struct bad_ctx *c = arg;
	fprintf(stderr, "%s:%" PRIu64 ": %s (row skipped)\n", c->path, line, reason);
}

int cmd_catalog(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	int c;

	if (argc >= 2 && strcmp(argv[1], "load") == 0) {
		argc--;
		argv++;
	} else if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return EXIT_OK;
	} else {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return tool_usage_error("catalog", "expected one FILE.csv (see --help)");
	ledger_t *lg = tool_open_ledger("catalog", db, true);
	if (lg == NULL)
		return EXIT_USAGE;
	struct bad_ctx ctx = { argv[optind] };
	catalog_stats_t st;
	char why[512];
	int rc = catalog_load_file(lg, argv[optind], report_bad, &ctx, &st, why, sizeof why);
	ledger_close(lg);
	if (rc < 0) {
		fprintf(stderr, "yima catalog: %s\n", why);
		return EXIT_USAGE;
	}
	fprintf(stderr, "catalog: %" PRIu64 " rows loaded, %" PRIu64 " bad\n", st.loaded, st.bad);
	return st.bad ? EXIT_FOUND : EXIT_OK;
}
