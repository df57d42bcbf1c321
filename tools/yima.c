/*
 * yima.c - the `yima` command: dispatch to a subcommand (tools/cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "catalog", cmd_catalog, "load the product catalog (catalog load --db DIR FILE.csv)" },
	{ "ingest", cmd_ingest, "apply an events CSV to the ledger, one JSON verdict per row" },
	{ "query", cmd_query, "a code's state and full history" },
	{ "recall", cmd_recall, "add, remove or list recalled codes, products and batches" },
	{ "recon", cmd_recon, "reconcile a facility's dispense log against the ledger" },
	{ "alerts", cmd_alerts, "recorded findings by facility, finding and period, or their counts" },
	{ "report", cmd_report, "a facility's evidence report for a period, as one HTML page" },
	{ "upload", cmd_upload, "send events to yimad in batches, through a local spool" },
	{ "settle", cmd_settle, "send a settlement claim to yimad and print its verdict" },
	{ "audit", cmd_audit, "recompute the hash chain and replay the ledger to check it" },
	{ "gen", cmd_gen, "generate a sample world (catalog, recalls, events)" },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: yima COMMAND [ARGS]   (yima COMMAND --help for more)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "yima: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
