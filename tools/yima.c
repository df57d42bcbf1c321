/*
 * yima.c - the `yima` command: dispatch to a subcommand (tools/cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "yima/util/version.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "init", cmd_init, "make a new, empty ledger (init --db DIR)" },
	{ "catalog", cmd_catalog, "load the product catalog (catalog load --db DIR FILE.csv)" },
	{ "ingest", cmd_ingest, "apply an events CSV to the ledger, one JSON verdict per row" },
	{ "query", cmd_query, "a code's state and full history" },
	{ "recall", cmd_recall, "add, remove or list recalled codes, products and batches" },
	{ "recon", cmd_recon, "reconcile a facility's dispense log against the ledger" },
	{ "alerts", cmd_alerts, "recorded findings by facility, finding and period, or their counts" },
	{ "report", cmd_report, "a facility's evidence report for a period, as one HTML page" },
	{ "suspects", cmd_suspects, "patients whose dispensed packs came back onto the market" },
	{ "patient-key", cmd_patient_key, "the keyed hash of a patient id, as suspects shows it" },
	{ "upload", cmd_upload, "send events to yimad in batches, through a local spool" },
	{ "settle", cmd_settle, "send a settlement claim to yimad and print its verdict" },
	{ "log", cmd_log, "the verifiable log: checkpoint, verifier key, proofs, offline checks" },
	{ "audit", cmd_audit, "recompute the hash chain and replay the ledger to check it" },
	{ "cluster", cmd_cluster, "rebuild a node directory from a cluster's streams, set its refund window" },
	{ "gen", cmd_gen, "generate a sample world (catalog, recalls, events)" },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: yima COMMAND [ARGS]   (yima help COMMAND, or yima COMMAND --help)\n"
		    "       yima --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(fp, "\nExit: 0 success, 1 problems found, 2 usage, system or unreadable input,\n"
		    "3 upload gave up (the spool keeps the rest).  Manual: man yima.\n");
}

/* The subcommand named name, run on argv (argv[0] its name); -1 if none. */
static int run(const char *name, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].fn(argc, argv);
	fprintf(stderr, "yima: unknown command '%s'\n", name);
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static char help_flag[] = "--help";

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("yima %s\n", YIMA_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    (strcmp(argv[1], "help") == 0 && argc == 2)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {	/* yima help CMD = yima CMD --help */
		char *help_argv[] = { argv[2], help_flag, NULL };
		return run(argv[2], 2, help_argv);
	}
	return run(argv[1], argc - 1, argv + 1);
}
