/*
 * audit_dir.c - `yima audit --db DIR` on a node's directory (docs/cluster.md,
 * "Audit, rebuild"): every partition ledger audited as a ledger of its
 * own (chain, replay, tables), one line each, and one line for the node:
 * head = SHA-256 over the partition heads in order, so two nodes are
 * compared by one line.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_int.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"
#include "yima/verifier/audit.h"

static int read_partitions(const char *dir, unsigned *p, char *why, size_t whylen)
{
	char path[4096], name[64];
	FILE *f;

	snprintf(path, sizeof path, "%s/cluster", dir);
	if ((f = fopen(path, "r")) == NULL)
		return yima_fail(why, whylen, YIMA_ENOTFOUND, "%s: not a cluster node directory", dir);
	int got = fscanf(f, "name %40s partitions %u", name, p);
	fclose(f);
	if (got != 2 || *p == 0 || *p > CLUSTER_PARTITIONS_MAX)
		return yima_fail(why, whylen, YIMA_ECORRUPT, "%s: not a cluster node file", path);
	return 0;
}

static int audit_one(const char *dir, unsigned k, const char *scratch, cluster_line_fn *line,
		     void *arg, audit_result_t *res, char *why, size_t whylen)
{
	char pdir[4096], sdir[4096], out[600], hex[2 * LEDGER_HASH_LEN + 1];
	ledger_t *lg;
	int rc;

	snprintf(pdir, sizeof pdir, "%s/p%03u", dir, k);
	snprintf(sdir, sizeof sdir, "%s/p%03u", scratch, k);
	if ((rc = ledger_open(pdir, LEDGER_RDONLY, &lg, why, whylen)) < 0) {
		snprintf(out, sizeof out, "p%u FAILED %s", k, why);
		line(arg, out);
		return rc;
	}
	rc = audit_ledger(lg, sdir, NULL, NULL, res, why, whylen);
	ledger_close(lg);
	hex_encode(res->head, LEDGER_HASH_LEN, hex);
	hex[2 * LEDGER_HASH_LEN] = '\0';
	if (rc == 0)
		snprintf(out, sizeof out, "p%u ok records=%" PRIu64 " head=%s", k, res->records, hex);
	else
		snprintf(out, sizeof out, "p%u FAILED %s", k, why);
	line(arg, out);
	return rc;
}

int cluster_audit_dir(const char *dir, const char *scratch, cluster_line_fn *line, void *arg,
		      unsigned *partitions, uint64_t *records, uint8_t head[LEDGER_HASH_LEN],
		      char *why, size_t whylen)
{
	EVP_MD_CTX *md;
	unsigned len = 0;
	int rc, first = 0;
	char w[512];

	*records = 0;
	if ((rc = read_partitions(dir, partitions, why, whylen)) < 0)
		return rc;
	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "SHA-256 unavailable");
	}
	for (unsigned k = 0; k < *partitions; k++) {
		audit_result_t res;
		memset(&res, 0, sizeof res);
		rc = audit_one(dir, k, scratch, line, arg, &res, w, sizeof w);
		if (rc < 0 && first == 0) {
			first = rc;
			yima_fail(why, whylen, rc, "p%u: %s", k, w);
		}
		*records += res.records;
		EVP_DigestUpdate(md, res.head, LEDGER_HASH_LEN);
	}
	EVP_DigestFinal_ex(md, head, &len);
	EVP_MD_CTX_free(md);
	return first;
}

int cluster_node_dir_ledger(const char *dir, const char *raw, char *out, size_t outlen)
{
	code_t c;
	char why[256];
	unsigned p;

	if (!cluster_is_node_dir(dir) || read_partitions(dir, &p, why, sizeof why) < 0 ||
	    code_normalize(raw, strlen(raw), &c, why, sizeof why) < 0)
		return YIMA_ENOTFOUND;
	snprintf(out, outlen, "%s/p%03u", dir, cluster_partition_of_code(c.canon, c.canon_len, p));
	return 0;
}
