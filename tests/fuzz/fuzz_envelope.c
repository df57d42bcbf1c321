/*
 * fuzz_envelope.c - libFuzzer harness for what a cluster view takes from
 * its stream: any bytes as one NATS message of partition 0 of a
 * one-partition node (an Envelope of operations: event parts, prepares,
 * decisions, admin changes), applied by view_apply_message() inside a
 * write transaction that is then aborted.
 *
 * The stream is written by nodes, not by clients, but a view must never
 * crash on what it reads there: every node would crash on the same
 * message, forever.  Invariant: no crash, no sanitizer report, no leak;
 * the view is reopened for every input so that its memory (holds, the
 * wait queue) matches the aborted ledger.  tests/fuzz/corpus/envelope/ is
 * the seed corpus (envelopes of each operation, made with the proto).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static char dir[] = "/tmp/yima-fuzz-envelope-XXXXXX";
static cluster_node_t node;

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_dir(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A node directory with its patient key, made once per process. */
static void setup(void)
{
	static const char key[] = "00112233445566778899aabbccddeeff"
				  "00112233445566778899aabbccddeeff\n";
	char path[4096];
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	atexit(remove_dir);
	snprintf(path, sizeof path, "%s/patient.key", dir);
	CHECK((fp = fopen(path, "w")) != NULL);
	CHECK(fwrite(key, 1, sizeof key - 1, fp) == sizeof key - 1);
	CHECK(fclose(fp) == 0);
	node.dir = dir;
	node.P = 1;
	node.o.quiet = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char path[4096], why[256];
	ledger_txn_t *txn;
	view_t *v;

	if (!ready) {
		setup();
		ready = 1;
	}
	snprintf(path, sizeof path, "%s/p000", dir);
	CHECK(view_open(&node, 0, path, &v, why, sizeof why) == 0);
	CHECK(ledger_txn_begin(v->lg, true, &txn) == 0);
	(void)view_apply_message(v, txn, 1, data, size);	/* an error is an answer too */
	ledger_txn_abort(txn);
	view_close(v);
	return 0;
}
