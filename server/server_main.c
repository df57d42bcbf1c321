/*
 * server_main.c - yimad's command line and configuration file.
 *
 * Every option can also be given in a file (--config FILE): one
 * "name = value" per line, names as the long options without "--"
 * ("insecure-http = true"), '#' starts a comment.  The command line wins
 * over the file.  Secrets (the TLS key) are named by path, never inline.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "yima/server/server.h"

static const char usage[] =
	"usage: yimad --db DIR --listen HOST:PORT\n"
	"             [--tls-cert F --tls-key F --client-ca F] [--regulator-ca F] [--relay F]\n"
	"             [--public-listen HOST:PORT] [--insecure-http]\n"
	"             [--max-body BYTES] [--timeout SECONDS] [--handshake-timeout SECONDS]\n"
	"             [--max-conns N] [--refund-window-days N] [--log-origin NAME]\n"
	"             [--threads N] [--quiet] [--config FILE]\n"
	"             [--nats URL[,URL...] --partitions P [--cluster NAME] [--serve LIST]\n"
	"              [--cluster-workers N]]\n"
	"\n"
	"The settle-by-code service (spec section 6, docs/protocol.md).  TLS with\n"
	"client certificates: a facility certificate (from --client-ca) acts as the\n"
	"facility of its subject CN, a regulator certificate (--regulator-ca) reads\n"
	"any history, a platform named in --relay FILE (lines `CN pattern...`) acts\n"
	"for the facilities its patterns match.  --insecure-http serves plain HTTP on a loopback address only\n"
	"(development).  --threads: network threads (default one per CPU, at most\n"
	"8).  --timeout: a request must arrive whole, and an answer be read, within\n"
	"it from its first byte (default 30 s); idle connections close after it.\n"
	"--handshake-timeout: the TLS handshake's (10 s).  --max-conns: open\n"
	"connections (default: what the descriptor limit allows); at the cap the\n"
	"oldest idle connection makes room.  --log-origin: the origin of the\n"
	"ledger's verifiable log when yimad makes it (default yima.<hostname>; set\n"
	"once).  One log line per request on stderr,\n"
	"one per refusal of the HTTP layer (a few a second at most).  SIGTERM\n"
	"drains.\n"
	"\n"
	"--nats makes yimad a node of a yima cluster on NATS JetStream (docs/cluster.md):\n"
	"--db DIR is then the node's directory (one ledger per partition, DIR/patient.key\n"
	"the cluster's key), writes go through the partition streams, reads come from\n"
	"this node's views.  --partitions is the cluster's P (fixed for its life),\n"
	"--cluster its name (default yima), --serve the partitions held (default all),\n"
	"--cluster-workers the writes in flight at once (default 64).\n";

enum { O_DB = 1, O_LISTEN, O_PUBLIC, O_CERT, O_KEY, O_CA, O_RCA, O_INSECURE, O_MAXBODY,
       O_TIMEOUT, O_REFUND, O_QUIET, O_CONFIG, O_HELP, O_THREADS, O_HSTIMEOUT, O_MAXCONNS, O_RELAY,
       O_ORIGIN, O_NATS, O_PARTITIONS, O_CLUSTER, O_SERVE, O_CWORKERS };

static const struct option longopts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "public-listen", required_argument, NULL, O_PUBLIC },
	{ "tls-cert", required_argument, NULL, O_CERT },
	{ "tls-key", required_argument, NULL, O_KEY },
	{ "client-ca", required_argument, NULL, O_CA },
	{ "regulator-ca", required_argument, NULL, O_RCA },
	{ "insecure-http", no_argument, NULL, O_INSECURE },
	{ "max-body", required_argument, NULL, O_MAXBODY },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "refund-window-days", required_argument, NULL, O_REFUND },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "help", no_argument, NULL, O_HELP },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "handshake-timeout", required_argument, NULL, O_HSTIMEOUT },
	{ "max-conns", required_argument, NULL, O_MAXCONNS },
	{ "relay", required_argument, NULL, O_RELAY },
	{ "log-origin", required_argument, NULL, O_ORIGIN },
	{ "nats", required_argument, NULL, O_NATS },
	{ "partitions", required_argument, NULL, O_PARTITIONS },
	{ "cluster", required_argument, NULL, O_CLUSTER },
	{ "serve", required_argument, NULL, O_SERVE },
	{ "cluster-workers", required_argument, NULL, O_CWORKERS },
	{ NULL, 0, NULL, 0 },
};

#define REFUND_UNSET UINT32_MAX

static bool parse_num(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

static bool is_true(const char *v)
{
	return v == NULL || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

/* Apply one option; strings are kept (argv, or the config file's copy). */
static int set_option(server_opts_t *o, int id, const char *v, const char *where)
{
	unsigned long long n;

	switch (id) {
	case O_DB: o->db = v; break;
	case O_LISTEN: o->listen = v; break;
	case O_PUBLIC: o->public_listen = v; break;
	case O_CERT: o->tls_cert = v; break;
	case O_KEY: o->tls_key = v; break;
	case O_CA: o->client_ca = v; break;
	case O_RCA: o->regulator_ca = v; break;
	case O_RELAY: o->relay = v; break;
	case O_NATS: o->nats = v; break;
	case O_CLUSTER: o->cluster_name = v; break;
	case O_SERVE: o->serve = v; break;
	case O_PARTITIONS:
		if (!parse_num(v, 1, CLUSTER_PARTITIONS_MAX, &n))
			goto bad;
		o->partitions = (unsigned)n;
		break;
	case O_CWORKERS:
		if (!parse_num(v, 1, 4096, &n))
			goto bad;
		o->cluster_workers = (int)n;
		break;
	case O_INSECURE: o->insecure_http = is_true(v); break;
	case O_QUIET: o->quiet = is_true(v); break;
	case O_ORIGIN: o->log_origin = v; break;
	case O_MAXBODY:
		if (!parse_num(v, 1024, (unsigned long long)1 << 30, &n))
			goto bad;
		o->max_body = (size_t)n;
		break;
	case O_TIMEOUT:
		if (!parse_num(v, 1, 3600, &n))
			goto bad;
		o->timeout_s = (int)n;
		break;
	case O_THREADS:
		if (!parse_num(v, 1, 64, &n))
			goto bad;
		o->threads = (int)n;
		break;
	case O_HSTIMEOUT:
		if (!parse_num(v, 1, 3600, &n))
			goto bad;
		o->handshake_timeout_s = (int)n;
		break;
	case O_MAXCONNS:
		if (!parse_num(v, 1, 1000000, &n))
			goto bad;
		o->max_conns = (int)n;
		break;
	case O_REFUND:
		if (!parse_num(v, 0, REFUND_WINDOW_DAYS_MAX, &n))
			goto bad;
		o->refund_window_days = (uint32_t)n;
		break;
	default:
		fprintf(stderr, "yimad: %s: unknown option\n", where);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "yimad: %s: bad value \"%s\"\n", where, v ? v : "");
	return -1;
}

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Read the config file; its strings live until exit (kept in *keep). */
static int load_config(server_opts_t *o, const char *path, char **keep)
{
	FILE *fp = fopen(path, "r");
	char where[512];
	size_t cap = 0;
	ssize_t len;
	char *line = NULL;
	int lineno = 0, rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "yimad: --config %s: cannot open\n", path);
		return -1;
	}
	/* Read the file whole so option strings can point into it. */
	if ((len = getdelim(&line, &cap, '\0', fp)) < 0) {
		fclose(fp);
		free(line);
		return 0;
	}
	fclose(fp);
	*keep = line;
	for (char *save = NULL, *l = strtok_r(line, "\n", &save); l && rc == 0;
	     l = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(l, '#'), *eq, *name, *val = NULL;
		lineno++;
		if (hash)
			*hash = '\0';
		name = trim(l);
		if (*name == '\0')
			continue;
		if ((eq = strchr(name, '=')) != NULL) {
			*eq = '\0';
			val = trim(eq + 1);
			name = trim(name);
		}
		snprintf(where, sizeof where, "%s: line %d: %s", path, lineno, name);
		int id = 0;
		for (const struct option *op = longopts; op->name; op++)
			if (strcmp(op->name, name) == 0 && op->val != O_CONFIG && op->val != O_HELP)
				id = op->val;
		rc = set_option(o, id, val, where);
	}
	return rc;
}

int server_main(int argc, char **argv)
{
	server_opts_t flags, o;	/* the command line's; the result */
	const char *config = NULL;
	char *keep = NULL;
	char where[64];
	int c, rc;

	/* Full buffering: a log line per request must not cost a write(2)
	 * each; server.c flushes every second and at exit. */
	setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	server_opts_init(&o);
	/* Flags given on the command line: an empty template to merge. */
	memset(&flags, 0, sizeof flags);
	flags.refund_window_days = REFUND_UNSET;	/* 0 days is a value */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == O_HELP) {
			fputs(usage, stdout);
			return 0;
		}
		if (c == O_CONFIG) {
			config = optarg;
			continue;
		}
		snprintf(where, sizeof where, "--%s", longopts[c - 1].name);
		if (c == '?' || set_option(&flags, c, optarg, where) < 0) {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "yimad: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return 2;
	}
	if (config != NULL && load_config(&o, config, &keep) < 0) {
		free(keep);
		return 2;
	}
	/* The command line wins over the config file. */
	if (flags.db) o.db = flags.db;
	if (flags.listen) o.listen = flags.listen;
	if (flags.public_listen) o.public_listen = flags.public_listen;
	if (flags.tls_cert) o.tls_cert = flags.tls_cert;
	if (flags.tls_key) o.tls_key = flags.tls_key;
	if (flags.client_ca) o.client_ca = flags.client_ca;
	if (flags.regulator_ca) o.regulator_ca = flags.regulator_ca;
	if (flags.relay) o.relay = flags.relay;
	if (flags.log_origin) o.log_origin = flags.log_origin;
	if (flags.insecure_http) o.insecure_http = true;
	if (flags.quiet) o.quiet = true;
	if (flags.max_body) o.max_body = flags.max_body;
	if (flags.timeout_s) o.timeout_s = flags.timeout_s;
	if (flags.threads) o.threads = flags.threads;
	if (flags.handshake_timeout_s) o.handshake_timeout_s = flags.handshake_timeout_s;
	if (flags.max_conns) o.max_conns = flags.max_conns;
	if (flags.refund_window_days != REFUND_UNSET)
		o.refund_window_days = flags.refund_window_days;
	if (flags.nats) o.nats = flags.nats;
	if (flags.partitions) o.partitions = flags.partitions;
	if (flags.cluster_name) o.cluster_name = flags.cluster_name;
	if (flags.serve) o.serve = flags.serve;
	if (flags.cluster_workers) o.cluster_workers = flags.cluster_workers;
	if (o.nats != NULL && (o.partitions == 0 || flags.refund_window_days != REFUND_UNSET)) {
		fprintf(stderr, "yimad: --nats needs --partitions P; the refund window of a cluster is "
			"set through its streams (`yima cluster refund-window`), not --refund-window-days\n");
		free(keep);
		return 2;
	}
	if (o.db == NULL || o.listen == NULL) {
		fprintf(stderr, "yimad: --db and --listen are required\n%s", usage);
		free(keep);
		return 2;
	}
	rc = server_run(&o);
	free(keep);
	return rc;
}
