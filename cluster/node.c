/*
 * node.c - a cluster node's life (docs/cluster.md, "Nodes and their
 * views"): its directory, its connection and streams, a publisher per
 * partition, a view and applier per served partition, the recovery
 * thread.
 *
 * DIR/cluster names the cluster and its P ("name NAME" and "partitions
 * P" lines, written on first start); a node refuses a DIR of another
 * cluster or P.  DIR/patient.key is the cluster's patient key, the same
 * file on every node; each partition ledger DIR/p<k> gets a copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_int.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"

void cluster_opts_init(cluster_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->name = "yima";
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CLUSTER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* "0,2,5-7" into served[P]; NULL: all. */
static int parse_serve(const char *list, unsigned P, bool *served, char *why, size_t whylen)
{
	const char *s = list;

	for (unsigned k = 0; k < P; k++)
		served[k] = list == NULL;
	while (list != NULL && *s != '\0') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;
		if (end == s)
			goto bad;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s)
				goto bad;
		}
		if (a > b || b >= P)
			goto bad;
		for (unsigned long k = a; k <= b; k++)
			served[k] = true;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			goto bad;
	}
	return 0;
bad:
	return yima_fail(why, whylen, YIMA_EINVAL, "--serve \"%s\": not a list of partitions 0..%u "
			 "(e.g. 0,2,5-7)", list, P - 1);
}

bool cluster_is_node_dir(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/cluster", dir);
	return access(path, F_OK) == 0;
}

/* Check DIR/cluster against the options, or write it on first start. */
static int dir_setup(cluster_node_t *n, char *why, size_t whylen)
{
	char path[4096], name[64] = "";
	unsigned p = 0;
	FILE *f;

	if (mkdir(n->dir, 0700) != 0 && errno != EEXIST)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", n->dir, strerror(errno));
	snprintf(path, sizeof path, "%s/cluster", n->dir);
	if ((f = fopen(path, "r")) != NULL) {
		int got = fscanf(f, "name %40s partitions %u", name, &p);
		fclose(f);
		if (got != 2)
			return yima_fail(why, whylen, YIMA_ECORRUPT, "%s: not a cluster node file", path);
		if (strcmp(name, n->name) != 0 || p != n->P)
			return yima_fail(why, whylen, YIMA_EMISMATCH,
					 "%s belongs to cluster \"%s\" of %u partitions, not \"%s\" of %u",
					 n->dir, name, p, n->name, n->P);
		return 0;
	}
	if ((f = fopen(path, "w")) == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	fprintf(f, "name %s\npartitions %u\n", n->name, n->P);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	}
	fclose(f);
	return 0;
}

/* The patient key: DIR/patient.key, or (a rebuild) the file named. */
static int key_setup(cluster_node_t *n, char *why, size_t whylen)
{
	char path[4096], cmd[64];
	snprintf(path, sizeof path, "%s/patient.key", n->dir);
	if (access(path, R_OK) == 0)
		return 0;
	if (n->o.patient_key != NULL) {
		FILE *in = fopen(n->o.patient_key, "r"), *out;
		size_t got;
		if (in == NULL)
			return yima_fail(why, whylen, YIMA_EIO, "%s: %s", n->o.patient_key, strerror(errno));
		got = fread(cmd, 1, sizeof cmd, in);
		fclose(in);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (got < 64 || fd < 0 || (out = fdopen(fd, "w")) == NULL) {
			if (fd >= 0)
				close(fd);
			return yima_fail(why, whylen, YIMA_EIO, "%s: cannot copy the patient key", path);
		}
		bool ok = fwrite(cmd, 1, got, out) == got && fflush(out) == 0 && fsync(fd) == 0;
		explicit_bzero(cmd, sizeof cmd);
		if (fclose(out) != 0 || !ok)
			return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
		return 0;
	}
	return yima_fail(why, whylen, YIMA_ENOTFOUND,
			 "%s: missing: every node of a cluster holds the same patient key (copy it from "
			 "another node; a new cluster's: `(umask 077; openssl rand -hex 32 > %s)`)",
			 path, path);
}

static int node_id(cluster_node_t *n)
{
	uint8_t r[4];
	char host[48] = "node", hex[9];

	gethostname(host, sizeof host - 1);
	for (char *c = host; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	if (RAND_bytes(r, sizeof r) != 1)
		return YIMA_ECRYPTO;
	hex_encode(r, sizeof r, hex);
	hex[8] = '\0';
	snprintf(n->id, sizeof n->id, "%s-%d-%s", host, (int)getpid(), hex);
	return 0;
}

static int open_views(cluster_node_t *n, const bool *served, char *why, size_t whylen)
{
	char dir[4096];
	int rc;

	for (unsigned k = 0; k < n->P; k++) {
		if ((rc = publisher_start(&n->nats, k, n->id, n->o.quiet, 2, &n->pubs[k])) < 0)
			return yima_fail(why, whylen, rc, "cannot start a publisher");
		if (!served[k])
			continue;
		snprintf(dir, sizeof dir, "%s/p%03u", n->dir, k);
		if ((rc = view_open(n, k, dir, &n->views[k], why, whylen)) < 0)
			return rc;
		if (cnats_last_seq(&n->nats, k, &n->views[k]->target) < 0)
			n->views[k]->target = 0;
		if ((rc = applier_start(n->views[k])) < 0)
			return yima_fail(why, whylen, rc, "cannot start an applier");
	}
	return 0;
}

static int node_setup(cluster_node_t *n, char *why, size_t whylen)
{
	bool served[CLUSTER_PARTITIONS_MAX];
	int replicas, rc;

	if (!name_ok(n->name))
		return yima_fail(why, whylen, YIMA_EINVAL, "--cluster \"%s\": 1-32 of A-Z a-z 0-9 _ -", n->name);
	if (n->P == 0 || n->P > CLUSTER_PARTITIONS_MAX)
		return yima_fail(why, whylen, YIMA_EINVAL, "--partitions: 1..%d", CLUSTER_PARTITIONS_MAX);
	if ((rc = parse_serve(n->o.serve, n->P, served, why, whylen)) < 0 ||
	    (rc = dir_setup(n, why, whylen)) < 0 || (rc = key_setup(n, why, whylen)) < 0 ||
	    (rc = node_id(n)) < 0)
		return rc;
	if ((rc = cnats_connect(&n->nats, n->o.nats, n->name, why, whylen)) < 0)
		return rc;
	replicas = n->o.replicas > 0 ? n->o.replicas : n->nats.urls >= 3 ? 3 : 1;
	if ((rc = cnats_streams(&n->nats, n->P, replicas, why, whylen)) < 0)
		return rc;
	if ((n->views = calloc(n->P, sizeof *n->views)) == NULL ||
	    (n->pubs = calloc(n->P, sizeof *n->pubs)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	return open_views(n, served, why, whylen);
}

int cluster_node_start(const cluster_opts_t *o, cluster_node_t **out, char *why, size_t whylen)
{
	cluster_node_t *n = calloc(1, sizeof *n);
	int rc;

	*out = NULL;
	if (n == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	n->o = *o;
	n->P = o->partitions;
	snprintf(n->name, sizeof n->name, "%s", o->name ? o->name : "yima");
	if ((n->dir = strdup(o->db)) == NULL) {
		free(n);
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	}
	atomic_init(&n->stop, false);
	if ((rc = node_setup(n, why, whylen)) < 0 || (!o->passive && (rc = recovery_start(n)) < 0)) {
		cluster_node_stop(n);
		return rc;
	}
	*out = n;
	return 0;
}

void cluster_node_stop(cluster_node_t *n)
{
	if (n == NULL)
		return;
	atomic_store(&n->stop, true);
	recovery_stop(n);
	for (unsigned k = 0; n->views != NULL && k < n->P; k++)
		applier_stop(n->views[k]);
	for (unsigned k = 0; n->pubs != NULL && k < n->P; k++)
		publisher_stop(n->pubs[k]);
	for (unsigned k = 0; n->views != NULL && k < n->P; k++)
		view_close(n->views[k]);
	cnats_close(&n->nats);
	free(n->views);
	free(n->pubs);
	free(n->dir);
	free(n);
}

bool cluster_node_caught_up(cluster_node_t *n)
{
	for (unsigned k = 0; k < n->P; k++)
		if (n->views[k] != NULL && view_applied(n->views[k]) < n->views[k]->target)
			return false;
	return true;
}

unsigned cluster_partitions(const cluster_node_t *n)
{
	return n->P;
}

ledger_t *cluster_view_ledger(cluster_node_t *n, unsigned k)
{
	return k < n->P && n->views[k] != NULL ? n->views[k]->lg : NULL;
}

ledger_t *cluster_any_ledger(cluster_node_t *n)
{
	for (unsigned k = 0; k < n->P; k++)
		if (n->views[k] != NULL)
			return n->views[k]->lg;
	return NULL;
}

int node_publish(cluster_node_t *n, unsigned k, uint8_t *bytes, size_t len, double deadline,
		 uint64_t *seq)
{
	pub_op_t *op = pub_op_new(bytes, len);
	int rc;

	if (op == NULL)
		return YIMA_ENOMEM;
	publisher_submit(n->pubs[k], op);
	if ((rc = publisher_wait(n->pubs[k], op, deadline)) == YIMA_EUNAVAIL)
		return rc;	/* the publisher keeps op */
	*seq = op->seq;
	pub_op_free(op);
	return rc;
}

static int count_entry(void *arg, yima_slice_t key, yima_slice_t val)
{
	(void)key;
	(void)val;
	(*(uint64_t *)arg)++;
	return 0;
}

/* Entries of one kind (aux key prefix) in a view, as committed. */
static uint64_t count_aux(view_t *v, char kind)
{
	ledger_txn_t *txn;
	uint64_t n = 0;

	if (ledger_txn_begin(v->lg, false, &txn) < 0)
		return 0;
	ledger_aux_scan(txn, &kind, 1, count_entry, &n);
	ledger_txn_abort(txn);
	return n;
}

void cluster_node_stats(cluster_node_t *n, cluster_stats_t *st)
{
	memset(st, 0, sizeof *st);
	for (unsigned k = 0; k < n->P; k++) {
		uint64_t m, o;
		publisher_counts(n->pubs[k], &m, &o);
		st->published_msgs += m;
		st->published_ops += o;
		if (n->views[k] == NULL)
			continue;
		st->undecided += count_aux(n->views[k], AUX_PENDING);
		st->deferred += count_aux(n->views[k], AUX_QUEUE);
		pthread_mutex_lock(&n->views[k]->mu);
		st->applied_msgs += n->views[k]->msgs;
		pthread_mutex_unlock(&n->views[k]->mu);
	}
	st->claims_committed = atomic_load(&n->committed);
	st->claims_aborted = atomic_load(&n->aborted);
	st->claims_busy = atomic_load(&n->busy);
	st->claims_recovered = atomic_load(&n->recovered);
}

int cluster_rebuild(const cluster_opts_t *o, char *why, size_t whylen)
{
	cluster_opts_t ro = *o;
	cluster_node_t *n;
	int rc;

	ro.passive = true;
	if ((rc = cluster_node_start(&ro, &n, why, whylen)) < 0)
		return rc;
	while (!cluster_node_caught_up(n))
		nats_Sleep(50);
	cluster_node_stop(n);
	return 0;
}
