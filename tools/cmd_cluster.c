/*
 * cmd_cluster.c - `yima cluster rebuild|refund-window`: a node directory
 * rebuilt from the partition streams, and the refund window of a cluster
 * set through them (docs/cluster.md).
 */
#include <stdio.h>

#include "cmd.h"
#include "tool.h"
#include "yima/cluster/cluster.h"
#include "yima/core/limits.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima cluster rebuild --nats URL[,URL...] [--cluster NAME] --partitions P\n"
	"                            --db NEWDIR [--patient-key FILE] [--serve LIST]\n"
	"       yima cluster refund-window --nats URL[,URL...] [--cluster NAME] DAYS\n"
	"rebuild replays every partition stream into NEWDIR (one ledger per partition,\n"
	"as a node keeps them) and stops once it has applied what the streams held\n"
	"when it started; `yima audit --db NEWDIR` then prints the line every node of\n"
	"the cluster prints.  NEWDIR/patient.key (or --patient-key FILE, copied there)\n"
	"is the cluster's patient key.  refund-window publishes a new refund window\n"
	"(spec section 4, REFUND_LATE) to every partition.\n"
	"Exit: 0 done, 2 usage or the cluster could not be reached.\n";

static int rebuild(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "cluster rebuild", usage, 0, 0, NULL };
	cluster_opts_t o;
	uint32_t p = 0;
	char why[512];
	int first, rc;

	cluster_opts_init(&o);
	const opt_t opts[] = { OPT_TEXT("nats", &o.nats), OPT_TEXT("cluster", &o.name),
			       OPT_NUM32("partitions", &p, 1, CLUSTER_PARTITIONS_MAX, "a partition count"),
			       OPT_TEXT("db", &o.db), OPT_TEXT("patient-key", &o.patient_key),
			       OPT_TEXT("serve", &o.serve), OPT_END };
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (o.nats == NULL || o.db == NULL || p == 0)
		return tool_usage_error("cluster rebuild", "--nats, --partitions and --db are required");
	o.partitions = p;
	o.quiet = true;
	if ((rc = cluster_rebuild(&o, why, sizeof why)) < 0)
		return tool_usage_error("cluster rebuild", "%s", why);
	fprintf(stderr, "cluster rebuild: %s holds every partition as the streams have it\n", o.db);
	return EXIT_OK;
}

static int refund_window(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "cluster refund-window", usage, 1, 1, "one DAYS" };
	const char *nats = NULL, *name = NULL;
	const opt_t opts[] = { OPT_TEXT("nats", &nats), OPT_TEXT("cluster", &name), OPT_END };
	cluster_admin_t *a = NULL;
	uint64_t days;
	char why[512];
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (nats == NULL)
		return tool_usage_error("cluster refund-window", "--nats is required");
	if (!tool_parse_u64(argv[first], 0, REFUND_WINDOW_DAYS_MAX, &days))
		return tool_usage_error("cluster refund-window", "not a number of days in 0..%d: %s",
					REFUND_WINDOW_DAYS_MAX, argv[first]);
	if ((rc = cluster_admin_open(nats, name, &a, why, sizeof why)) == 0)
		rc = cluster_admin_refund_window(a, (uint32_t)days, why, sizeof why);
	cluster_admin_close(a);
	if (rc < 0)
		return tool_usage_error("cluster refund-window", "%s", why);
	fprintf(stderr, "cluster: refund window %llu days published to every partition\n",
		(unsigned long long)days);
	return EXIT_OK;
}

int cmd_cluster(int argc, char **argv)
{
	static const char *const verbs[] = { "rebuild", "refund-window", NULL };
	int verb, rc;

	if ((rc = opt_verb("cluster", usage, verbs, argc, argv, &verb)) != OPT_GO)
		return rc;
	return verb == 0 ? rebuild(argc - 1, argv + 1) : refund_window(argc - 1, argv + 1);
}
