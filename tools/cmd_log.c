/*
 * cmd_log.c - `yima log checkpoint|vkey|prove|verify` (spec section 8):
 * the ledger's verifiable log from the command line.  checkpoint, vkey
 * and prove read a ledger; verify reads only files and a verifier key,
 * offline, and exits 1 when a signature or proof does not verify.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tool.h"
#include "yima/regulator/report.h"
#include "yima/tlog/checkpoint.h"
#include "yima/tlog/proof.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

static const char usage[] =
	"usage: yima log checkpoint --db DIR\n"
	"       yima log vkey --db DIR\n"
	"       yima log prove --db DIR --index I [--size N] [--entry-out FILE]\n"
	"       yima log prove --db DIR --consistency M [--size N]\n"
	"       yima log verify --vkey VKEY --checkpoint FILE\n"
	"                       [--entry FILE --proof FILE.json\n"
	"                        | --old-checkpoint FILE --proof FILE.json]\n"
	"       yima log verify --vkey VKEY --report FILE.html\n"
	"The ledger as a transparency log (docs/log.md): every record is an entry of\n"
	"an RFC 9162 Merkle tree, and each commit leaves a C2SP checkpoint signed with\n"
	"the ledger's key.  checkpoint prints the latest one, vkey the verifier key\n"
	"that checks it.  prove prints an inclusion proof of entry I, or a consistency\n"
	"proof from size M, in the tree of size N (default: the latest checkpoint's)\n"
	"as JSON {\"size\":N,\"index\":I|\"old_size\":M,\"root\":HEX,\"proof\":[HEX,...]};\n"
	"--entry-out writes entry I's bytes to FILE.  verify needs nothing but VKEY\n"
	"(the key itself, or a file holding it) and the files: a checkpoint's\n"
	"signature; with --entry and --proof, that the entry is in that checkpoint's\n"
	"tree; with --old-checkpoint and --proof, that the checkpoint's tree extends\n"
	"the old one's; with --report, every record an evidence report embeds.\n"
	"Exit: 0 ok, 1 a signature or proof does not verify, 2 usage, no log, or\n"
	"unreadable input.\n";

#define NOTE_FILE_MAX (64 * 1024)

static int read_text(const char *path, buf_t *b, size_t max)
{
	char why[512];
	if (buf_read_file(b, path, max, why, sizeof why) < 0)
		return tool_usage_error("log", "%s", why);
	return 0;
}

/* ---- checkpoint, vkey --------------------------------------------------- */

static int show(tool_db_t *db, bool vkey)
{
	ledger_t *lg = tool_open_ledger("log", db, TOOL_READ);
	ledger_txn_t *txn;
	yima_slice_t s;
	int rc;

	if (lg == NULL)
		return EXIT_USAGE;
	if ((rc = ledger_txn_begin(lg, false, &txn)) == 0) {
		rc = vkey ? ledger_log_vkey(txn, &s) : ledger_log_checkpoint(txn, &s);
		if (rc == 0)
			printf("%.*s%s", (int)s.n, s.p, vkey ? "\n" : "");
		ledger_txn_abort(txn);
	}
	ledger_close(lg);
	if (rc == YIMA_ENOTFOUND)
		return tool_usage_error("log", "%s: this ledger has no log yet (written before it; any "
					"write, or yima init --db DIR, makes it)", db->dir);
	return rc < 0 ? tool_usage_error("log", "%s: %s", db->dir, yima_strerror(rc)) : EXIT_OK;
}

/* ---- prove ----------------------------------------------------------------- */

struct prove_args {
	tool_db_t db;
	uint64_t index, old, size;
	bool has_index, has_old, has_size;
	const char *entry_out;
};

static int write_entry(ledger_txn_t *txn, const struct prove_args *a)
{
	yima_slice_t e;
	FILE *fp;
	int rc = ledger_entry_get(txn, a->index, &e, NULL);

	if (rc < 0)
		return tool_usage_error("log", "entry %" PRIu64 ": %s", a->index, yima_strerror(rc));
	if ((fp = fopen(a->entry_out, "wb")) == NULL || fwrite(e.p, 1, e.n, fp) != e.n || fclose(fp) != 0)
		return tool_usage_error("log", "%s: cannot write", a->entry_out);
	return EXIT_OK;
}

static int prove_in(ledger_txn_t *txn, const struct prove_args *a)
{
	log_proof_t p;
	char why[512];
	buf_t out;
	int rc;

	memset(&p, 0, sizeof p);
	p.consistency = a->has_old;
	p.from = a->has_old ? a->old : a->index;
	if ((rc = ledger_log_size(txn, &p.size)) < 0)
		return tool_usage_error("log", "%s: this ledger has no log yet", a->db.dir);
	if (a->has_size)
		p.size = a->size;
	if ((rc = ledger_log_root(txn, p.size, p.root, why, sizeof why)) < 0 ||
	    (rc = ledger_log_prove(txn, p.consistency, p.from, p.size, p.hash, &p.n, why, sizeof why)) < 0)
		return tool_usage_error("log", "%s", why);
	if (a->entry_out != NULL && (rc = write_entry(txn, a)) != EXIT_OK)
		return rc;
	buf_init(&out);
	log_proof_json(&out, &p);
	buf_putc(&out, '\n');
	rc = fwrite(out.p, 1, out.len, stdout) == out.len ? EXIT_OK : EXIT_USAGE;
	buf_deinit(&out);
	return rc;
}

static int prove(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "log prove", usage, 0, 0, NULL };
	struct prove_args a = { 0 };
	const opt_t opts[] = {
		OPT_DB(&a.db),
		{ .name = "index", .kind = OPT_U64, .dst = &a.index, .max = UINT64_MAX,
		  .what = "an entry index", .seen = &a.has_index },
		{ .name = "consistency", .kind = OPT_U64, .dst = &a.old, .max = UINT64_MAX,
		  .what = "a tree size", .seen = &a.has_old },
		{ .name = "size", .kind = OPT_U64, .dst = &a.size, .max = UINT64_MAX,
		  .what = "a tree size", .seen = &a.has_size },
		OPT_TEXT("entry-out", &a.entry_out),
		OPT_END,
	};
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (a.has_index == a.has_old)
		return tool_usage_error("log prove", "give one of --index I and --consistency M");
	if (a.entry_out != NULL && !a.has_index)
		return tool_usage_error("log prove", "--entry-out goes with --index");
	ledger_t *lg = tool_open_ledger("log", &a.db, TOOL_READ);
	ledger_txn_t *txn;
	if (lg == NULL)
		return EXIT_USAGE;
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0) {
		ledger_close(lg);
		return tool_usage_error("log", "%s", yima_strerror(rc));
	}
	rc = prove_in(txn, &a);
	ledger_txn_abort(txn);
	ledger_close(lg);
	return rc;
}

/* ---- verify ----------------------------------------------------------------- */

struct verify_args {
	const char *vkey, *checkpoint, *old, *entry, *proof, *report;
	buf_t key;
};

/* VKEY is the key itself, or a file holding it (one line). */
static int load_vkey(struct verify_args *a)
{
	char why[512];
	note_verifier_t *v;

	buf_init(&a->key);
	if (note_verifier_new(a->vkey, strlen(a->vkey), &v, why, sizeof why) == 0) {
		note_verifier_free(v);
		buf_puts(&a->key, a->vkey);
		return 0;
	}
	if (buf_read_file(&a->key, a->vkey, 4096, NULL, 0) < 0)
		return tool_usage_error("log verify", "--vkey %s: %s", a->vkey, why);
	while (a->key.len > 0 && (a->key.p[a->key.len - 1] == '\n' || a->key.p[a->key.len - 1] == '\r'))
		a->key.len--;
	if (note_verifier_new((char *)a->key.p, a->key.len, &v, why, sizeof why) < 0)
		return tool_usage_error("log verify", "--vkey %s: %s", a->vkey, why);
	note_verifier_free(v);
	return 0;
}

static int failed(const char *what, const char *why)
{
	printf("FAILED: %s: %s\n", what, why);
	return EXIT_FOUND;
}

/* A checkpoint file, verified: its size and root. */
static int open_checkpoint(const struct verify_args *a, const char *path, checkpoint_t *cp, buf_t *text)
{
	note_verifier_t *v;
	char why[512];
	int rc;

	if ((rc = read_text(path, text, NOTE_FILE_MAX)) != 0)
		return rc;
	if (note_verifier_new((char *)a->key.p, a->key.len, &v, why, sizeof why) < 0)
		return tool_usage_error("log verify", "%s", why);
	rc = checkpoint_open(v, NULL, (char *)text->p, text->len, cp, why, sizeof why);
	note_verifier_free(v);
	if (rc == YIMA_EMISMATCH || rc == YIMA_EFORMAT) {
		printf("FAILED: checkpoint %s: %s\n", path, why);
		return EXIT_FOUND;
	}
	return rc < 0 ? tool_usage_error("log verify", "%s: %s", path, why) : 0;
}

static int verify_proof(const struct verify_args *a, const checkpoint_t *cp)
{
	buf_t pj, other;
	log_proof_t p;
	checkpoint_t old;
	char why[512];
	int rc;

	buf_init(&pj);
	buf_init(&other);
	if ((rc = read_text(a->proof, &pj, 1 << 20)) != 0)
		goto done;
	if (log_proof_parse((char *)pj.p, pj.len, &p, why, sizeof why) < 0) {
		rc = tool_usage_error("log verify", "%s: %s", a->proof, why);
		goto done;
	}
	if (a->entry != NULL) {
		if ((rc = read_text(a->entry, &other, 1 << 20)) != 0)
			goto done;
		rc = log_proof_check_inclusion(&p, cp->size, cp->root, other.p, other.len, why, sizeof why);
		rc = rc < 0 ? failed("entry is not in the checkpoint's tree", why) : EXIT_OK;
		if (rc == EXIT_OK)
			printf("ok entry %" PRIu64 " is in the tree of size %" PRIu64 "\n", p.from, cp->size);
		goto done;
	}
	if ((rc = open_checkpoint(a, a->old, &old, &other)) != 0)
		goto done;
	rc = log_proof_check_consistency(&p, old.size, old.root, cp->size, cp->root, why, sizeof why);
	rc = rc < 0 ? failed("the checkpoints are not consistent", why) : EXIT_OK;
	if (rc == EXIT_OK)
		printf("ok the tree of size %" PRIu64 " extends the tree of size %" PRIu64 "\n", cp->size,
		       old.size);
done:
	buf_deinit(&pj);
	buf_deinit(&other);
	return rc;
}

static int verify_report(const struct verify_args *a)
{
	buf_t html, out;
	char why[512];
	int rc;

	buf_init(&html);
	buf_init(&out);
	if ((rc = read_text(a->report, &html, (size_t)1 << 30)) == 0) {
		rc = report_verify((char *)html.p, html.len, (char *)a->key.p, a->key.len, &out, why,
				   sizeof why);
		if (out.len > 0)
			fwrite(out.p, 1, out.len, stdout);
		if (rc == YIMA_EMISMATCH)
			rc = failed(a->report, why);
		else if (rc < 0)
			rc = tool_usage_error("log verify", "%s: %s", a->report, why);
	}
	buf_deinit(&html);
	buf_deinit(&out);
	return rc;
}

static int verify(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "log verify", usage, 0, 0, NULL };
	struct verify_args a = { 0 };
	const opt_t opts[] = {
		OPT_TEXT("vkey", &a.vkey), OPT_TEXT("checkpoint", &a.checkpoint),
		OPT_TEXT("old-checkpoint", &a.old), OPT_TEXT("entry", &a.entry),
		OPT_TEXT("proof", &a.proof), OPT_TEXT("report", &a.report), OPT_END,
	};
	checkpoint_t cp;
	buf_t text;
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (a.vkey == NULL)
		return tool_usage_error("log verify", "--vkey VKEY is required");
	if ((a.report != NULL) == (a.checkpoint != NULL) || (a.entry != NULL && a.old != NULL) ||
	    ((a.entry != NULL || a.old != NULL) != (a.proof != NULL)))
		return tool_usage_error("log verify", "give --checkpoint [--entry F | --old-checkpoint F] "
					"[--proof F], or --report F (see --help)");
	if ((rc = load_vkey(&a)) != 0)
		return rc;
	buf_init(&text);
	if (a.report != NULL)
		rc = verify_report(&a);
	else if ((rc = open_checkpoint(&a, a.checkpoint, &cp, &text)) == 0 && a.proof != NULL)
		rc = verify_proof(&a, &cp);
	else if (rc == 0)
		printf("ok checkpoint of %s, size %" PRIu64 "\n", cp.origin, cp.size);
	buf_deinit(&text);
	buf_deinit(&a.key);
	return rc;
}

int cmd_log(int argc, char **argv)
{
	static const char *const verbs[] = { "checkpoint", "vkey", "prove", "verify", NULL };
	static const opt_cmd_t show_cmd = { "log", usage, 0, 0, NULL };
	tool_db_t db = { 0 };
	const opt_t show_opts[] = { OPT_DB(&db), OPT_END };
	int verb, first, rc;

	if ((rc = opt_verb("log", usage, verbs, argc, argv, &verb)) != OPT_GO)
		return rc;
	if (verb == 2)
		return prove(argc - 1, argv + 1);
	if (verb == 3)
		return verify(argc - 1, argv + 1);
	if ((rc = opt_parse(&show_cmd, show_opts, argc - 1, argv + 1, &first)) != OPT_GO)
		return rc;
	return show(&db, verb == 1);
}
