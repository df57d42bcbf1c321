/*
 * cmd_audit.c - `yima audit --db DIR [--expect-head HEX]`.
 *
 * LMDB trusts its file: a page rewritten by hand, or a file cut short, can
 * send a read to a bad address.  For an audit that is a finding, not a
 * crash: a fault (SIGSEGV/SIGBUS) while LMDB opens the stored ledger, or
 * later at an address inside the stored ledger's map, is reported as a
 * corrupt environment (exit 1).  Any other fault is a failure of the audit
 * itself (a bug, or a signal sent to it): it says nothing about the
 * ledger, so it is reported as such, with exit 2, never as tampering.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yima/util/hex.h"
#include "cmd.h"
#include "progress.h"
#include "tool.h"
#include "yima/verifier/audit.h"
#include "yima/util/error.h"
#include "yima/cluster/cluster.h"

static const char usage[] =
	"usage: yima audit --db DIR [--expect-head HEX] [--log-key VKEY]\n"
	"On a cluster node's directory (docs/cluster.md) every partition ledger is\n"
	"audited, one line each (p<k> ok records=N head=HEX), and the last line is\n"
	"  ok partitions=P records=N head=HEX   (head: SHA-256 of the partition heads)\n"
	"Recompute the hash chain, replay the log into a scratch ledger and compare\n"
	"every stored state and index with the replay; recompute the Merkle tree of\n"
	"the verifiable log from the records, check its stored hashes and that the\n"
	"latest checkpoint is signed by the log's key for exactly that tree (and, with\n"
	"--log-key, that the log's key is VKEY).  On success the last line is\n"
	"  ok records=N head=HEX\n"
	"Exit: 0 ok, 1 a check failed, the environment is corrupt or the head differs\n"
	"from --expect-head (the key from --log-key), 2 usage or no ledger at DIR.\n";

/* What the fault handler knows: set before the audit reads anything, read
 * only by the handler (sig_atomic_t / written before it can run). */
static volatile sig_atomic_t opening;	/* inside ledger_open() of DIR */
static volatile uintptr_t map_base;		/* the stored ledger's map */
static volatile size_t map_len;

static void say(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

/* Async-signal-safe: write(), strlen() and _exit() only. */
static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	char addr[2 + 2 * sizeof(uintptr_t) + 1];
	uintptr_t a = (uintptr_t)si->si_addr;
	bool fault = si->si_code > 0;	/* raised by the kernel, not kill() */

	(void)uctx;
	if (fault && (opening || (map_len > 0 && a - map_base < map_len))) {
		say("yima audit: FAILED: the ledger environment is corrupt "
		    "(a page of the ledger file sent a read astray)\n");
		_exit(EXIT_FOUND);
	}
	addr[0] = '0';
	addr[1] = 'x';
	for (size_t i = 0; i < 2 * sizeof a; i++)
		addr[2 + i] = "0123456789abcdef"[(a >> (4 * (2 * sizeof a - 1 - i))) & 15];
	addr[sizeof addr - 1] = '\0';
	say(sig == SIGBUS ? "yima audit: SIGBUS" : "yima audit: SIGSEGV");
	if (fault) {
		say(" at ");
		say(addr);
		say(", outside the ledger's map: the audit itself failed (a bug in yima, "
		    "please report it)");
	} else {
		say(" sent by another process");
	}
	say("; the audit did not finish and says nothing about the ledger\n");
	_exit(EXIT_USAGE);
}

static void catch_faults(void)
{
	static char altstack[64 * 1024];	/* a stack overflow is a fault too */
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	(void)sigaltstack(&ss, NULL);
	(void)sigaction(SIGSEGV, &sa, NULL);
	(void)sigaction(SIGBUS, &sa, NULL);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb; (void)flag; (void)f;
	return remove(p);
}

/* What the audit checked of the log, on the line before the last. */
static int log_line(ledger_t *lg, const char *want_key)
{
	ledger_txn_t *txn;
	yima_slice_t vkey;
	uint64_t size;
	int rc = ledger_txn_begin(lg, false, &txn);

	if (rc == 0 && (rc = ledger_log_size(txn, &size)) == 0)
		rc = ledger_log_vkey(txn, &vkey);
	if (rc == YIMA_ENOTFOUND && want_key == NULL)
		printf("log: none yet (a ledger from before it; its next write makes it)\n");
	else if (rc == 0 && want_key != NULL && !yima_slice_eq_cstr(vkey, want_key))
		rc = YIMA_EMISMATCH;
	else if (rc == 0)
		printf("log: %" PRIu64 " entries, tree and latest checkpoint check with %.*s\n", size,
		       (int)vkey.n, vkey.p);
	if (txn != NULL)
		ledger_txn_abort(txn);
	if (rc == YIMA_EMISMATCH || (rc == YIMA_ENOTFOUND && want_key != NULL)) {
		printf("FAILED: the log's key is not %s\n", want_key);
		return EXIT_FOUND;
	}
	return rc < 0 && rc != YIMA_ENOTFOUND ? tool_usage_error("audit", "%s", yima_strerror(rc)) : EXIT_OK;
}

static int run(ledger_t *lg, const char *expect, const char *want_key)
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
	hex_encode(res.head, LEDGER_HASH_LEN, head);
	if (expect != NULL && strcasecmp(expect, head) != 0) {
		printf("FAILED: chain head %s differs from the expected %s (ledger truncated or rebuilt)\n",
		       head, expect);
		return EXIT_FOUND;
	}
	if ((rc = log_line(lg, want_key)) != EXIT_OK)
		return rc;
	printf("ok records=%" PRIu64 " head=%s\n", res.records, head);
	return EXIT_OK;
}

static void print_line(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
	fflush(stdout);
}

/* A cluster node's directory: every partition, then the node's line. */
static int run_node(const char *db, const char *expect)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], why[512], head[2 * LEDGER_HASH_LEN + 1];
	uint8_t h[LEDGER_HASH_LEN];
	uint64_t records;
	unsigned p = 0;

	if ((size_t)snprintf(dir, sizeof dir, "%s/yima-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= sizeof dir ||
	    mkdtemp(dir) == NULL)
		return tool_usage_error("audit", "cannot create a scratch directory under %s", tmp ? tmp : "/tmp");
	int rc = cluster_audit_dir(db, dir, print_line, NULL, &p, &records, h, why, sizeof why);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (rc < 0) {
		printf("FAILED: %s\n", why);
		fprintf(stderr, "yima audit: FAILED: %s\n", why);
		return EXIT_FOUND;
	}
	hex_encode(h, LEDGER_HASH_LEN, head);
	if (expect != NULL && strcasecmp(expect, head) != 0) {
		printf("FAILED: head %s differs from the expected %s\n", head, expect);
		return EXIT_FOUND;
	}
	printf("ok partitions=%u records=%" PRIu64 " head=%s\n", p, records, head);
	return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "audit", usage, 0, 0, NULL };
	const char *db = NULL, *expect = NULL, *want_key = NULL;
	const opt_t opts[] = { OPT_TEXT("db", &db), OPT_TEXT("expect-head", &expect),
			       OPT_TEXT("log-key", &want_key), OPT_END };
	char why[512];
	ledger_t *lg;
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (db == NULL)
		return tool_usage_error("audit", "--db DIR is required");
	if (cluster_is_node_dir(db))
		return run_node(db, expect);
	if ((size_t)snprintf(why, sizeof why, "%s/data.mdb", db) >= sizeof why || access(why, F_OK) != 0)
		return tool_usage_error("audit", "%s: no ledger there", db);
	catch_faults();
	opening = 1;
	rc = ledger_open(db, LEDGER_RDONLY, &lg, why, sizeof why);
	if (rc == 0) {
		const void *base;
		size_t len;
		if (ledger_map_range(lg, &base, &len) == 0) {
			map_base = (uintptr_t)base;
			map_len = len;
		}
	}
	opening = 0;
	if (rc < 0) {
		printf("FAILED: %s\n", why);
		fprintf(stderr, "yima audit: FAILED: %s\n", why);
		return EXIT_FOUND;	/* the directory exists: its environment is corrupt */
	}
	rc = run(lg, expect, want_key);
	ledger_close(lg);
	return rc;
}
