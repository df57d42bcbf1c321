/*
 * cmd_audit.c - `yima audit --db DIR [--expect-head HEX]`.
 *
 * LMDB trusts its file: a page rewritten by hand can send a read to a bad
 * address.  For an audit that is a finding, not a crash: SIGSEGV/SIGBUS
 * while auditing is reported as a corrupt environment (exit 1).
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
#include "tool.h"
#include "yima/verifier/audit.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima audit --db DIR [--expect-head HEX]\n"
	"Recompute the hash chain, replay the log into a scratch ledger and compare\n"
	"every stored state and index with the replay.  On success the last line is\n"
	"  ok records=N head=HEX\n"
	"Exit: 0 ok, 1 a check failed, the environment is corrupt or the head differs\n"
	"from --expect-head, 2 usage or no ledger at DIR.\n";

static void on_fault(int sig)
{
	static const char msg[] = "yima audit: FAILED: the ledger environment is corrupt "
				  "(invalid page reached while reading)\n";
	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
	_exit(EXIT_FOUND);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb; (void)flag; (void)f;
	return remove(p);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int run(ledger_t *lg, const char *expect)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], why[512], head[2 * LEDGER_HASH_LEN + 1];
	audit_result_t res;

	if ((size_t)snprintf(dir, sizeof dir, "%s/yima-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= sizeof dir ||
	    mkdtemp(dir) == NULL)
		return tool_usage_error("audit", "cannot create a scratch directory under %s", tmp ? tmp : "/tmp");
	tool_progress_t prog;
	yima_progress_fn *fn;
	void *arg;
	tool_progress_init(&prog, "records", &fn, &arg);
	int rc = audit_ledger(lg, dir, fn, arg, &res, why, sizeof why);
	tool_progress_end(&prog);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (rc < 0) {
		printf("FAILED: %s\n", why);
		fprintf(stderr, "yima audit: FAILED: %s\n", why);
		return EXIT_FOUND;
	}
	hex(res.head, LEDGER_HASH_LEN, head);
	if (expect != NULL && strcasecmp(expect, head) != 0) {
		printf("FAILED: chain head %s differs from the expected %s (ledger truncated or rebuilt)\n",
		       head, expect);
		return EXIT_FOUND;
	}
	printf("ok records=%" PRIu64 " head=%s\n", res.records, head);
	return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "audit", usage, 0, 0, NULL };
	const char *db = NULL, *expect = NULL;
	const opt_t opts[] = { OPT_TEXT("db", &db), OPT_TEXT("expect-head", &expect), OPT_END };
	char why[512];
	ledger_t *lg;
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (db == NULL)
		return tool_usage_error("audit", "--db DIR is required");
	if ((size_t)snprintf(why, sizeof why, "%s/data.mdb", db) >= sizeof why || access(why, F_OK) != 0)
		return tool_usage_error("audit", "%s: no ledger there", db);
	signal(SIGSEGV, on_fault);
	signal(SIGBUS, on_fault);
	rc = ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why);
	if (rc < 0) {
		printf("FAILED: %s\n", why);
		fprintf(stderr, "yima audit: FAILED: %s\n", why);
		return EXIT_FOUND;	/* the directory exists: its environment is corrupt */
	}
	rc = run(lg, expect);
	ledger_close(lg);
	return rc;
}
