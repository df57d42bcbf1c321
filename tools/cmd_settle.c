/*
 * cmd_settle.c - `yima settle` (spec section 6, docs/protocol.md "yima
 * settle"): send one claim file to yimad and print its verdict.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "cmd.h"
#include "tool.h"
#include "yima/client/client.h"
#include "yima/util/error.h"
#include "yima/client/receipt.h"
#include "yima/client/claim_file.h"
#include "yima/client/logcheck.h"
#include "yima/client/spool.h"

static const char usage[] =
	"usage: yima settle --server URL [--cert FILE --key FILE] [--ca FILE] [--dry-run]\n"
	"                   [--json] [--timeout SECONDS] [--state DIR] [--log-key VKEY]\n"
	"                   CLAIM.csv|-\n"
	"Send one settlement claim to yimad (POST /v1/settle) and print its verdict:\n"
	"the settlement's verdict, then per code its verdict, findings and ledger\n"
	"record, and the receipt (records and chain hash).  CLAIM is a CSV with the\n"
	"header facility,settlement,time,patient,drug,code,units and one row per code,\n"
	"every row with the same facility, settlement, time and patient; consecutive\n"
	"rows with the same drug form one item; units empty or 0 = the whole pack.\n"
	"  --dry-run   verify only: nothing is recorded\n"
	"  --json      print the verdict as one JSON object\n"
	"  --state DIR where the server's log key and latest checkpoint are kept\n"
	"              (default $XDG_STATE_HOME/yima or ~/.local/state/yima)\n"
	"  --log-key VKEY  the server's log key (`yima log vkey` there); without it the\n"
	"              kept one, or the server's own on first contact\n"
	"A verdict carries the server's signed log checkpoint and each record's\n"
	"inclusion proof: the checkpoint must verify with the key and extend the one\n"
	"kept (a consistency proof from the server), and every proof must hold.\n"
	"A 503 answer (a cluster's busy or late answer) is retried a few times over\n"
	"about 1.5 s.  Exit: 0 accepted or warned, 1 rejected, 409 conflict (another claim was\n"
	"accepted under this settlement id), or a log that does not check (the server\n"
	"rewrote its history: both checkpoints named), 2 usage, bad claim file, server\n"
	"unreachable, TLS configuration error or any other error answer.\n";

static void print_person(const Yima__V1__ClaimVerdict *v, const settle_claim_t *c)
{
	enum verdict x = VERDICT_REJECT;
	buf_t hex;

	receipt_verdict(v->verdict, &x);
	printf("settlement %s: %s%s\n", v->settlement, verdict_name(x),
	       v->dry_run ? " (dry run: nothing recorded)" : "");
	for (size_t i = 0; i < v->n_codes; i++) {
		const Yima__V1__EventVerdict *cv = v->codes[i];
		enum verdict cx = VERDICT_REJECT;
		receipt_verdict(cv->verdict, &cx);
		printf("  %-40s %-6s", cv->code, verdict_name(cx));
		for (size_t f = 0; f < cv->n_findings; f++)
			printf("%s%s", f ? "," : " ", cv->findings[f]);
		if (cv->reason[0] != '\0')
			printf(" (%s)", cv->reason);
		if (cv->seq != 0)
			printf("  seq %" PRIu64, cv->seq);
		if (i < c->ncodes)
			printf("  [data row %" PRIu64 "]", c->lines[i]);
		putchar('\n');
	}
	if (v->receipt != NULL) {
		buf_init(&hex);
		receipt_hex(&hex, &v->receipt->chain_hash);
		printf("receipt: records %" PRIu64 "..%" PRIu64 ", chain hash %.*s%s\n",
		       v->receipt->first_seq, v->receipt->last_seq, (int)hex.len, hex.p ? (char *)hex.p : "",
		       v->receipt->replayed ? " (a retry: the first verdict, recorded once)" : "");
		buf_deinit(&hex);
	}
}

struct settle_log {
	const char *state, *vkey;
	logcheck_t *lc;
	client_t *cl;
};

/* The verdict's checkpoint and proofs against what this client saw of the
 * server's log before.  Returns 0 to go on, or an exit code. */
static int check_log(struct settle_log *sl, const Yima__V1__ClaimVerdict *v)
{
	char why[1400];
	int rc = logcheck_claim(sl->lc, sl->cl, v, why, sizeof why);

	if (logcheck_pinned_now(sl->lc) != NULL)
		fprintf(stderr, "settle: trusting the log key %s from now on (first contact; compare it "
			"with `yima log vkey` at the server)\n", logcheck_pinned_now(sl->lc));
	if (rc == 0 || rc == YIMA_ENOTFOUND)
		return 0;
	if (rc == YIMA_EMISMATCH) {
		fprintf(stderr, "yima settle: THE SERVER'S LOG DOES NOT CHECK: %s\n", why);
		return EXIT_FOUND;
	}
	return tool_usage_error("settle", "checking the server's log: %s", why);
}

static int print_verdict(const client_reply_t *rep, const settle_claim_t *c, bool json,
			 struct settle_log *sl)
{
	Yima__V1__ClaimVerdict *v = yima__v1__claim_verdict__unpack(NULL, rep->len, rep->body);
	enum verdict x;
	int rc;

	if (v == NULL || !receipt_verdict(v->verdict, &x) ||
	    !receipt_verdicts_ok(v->codes, v->n_codes)) {
		if (v != NULL)
			yima__v1__claim_verdict__free_unpacked(v, NULL);
		return tool_usage_error("settle", "the server's verdict does not decode");
	}
	if ((rc = check_log(sl, v)) != 0) {
		yima__v1__claim_verdict__free_unpacked(v, NULL);
		return rc;
	}
	if (json) {
		buf_t b;
		buf_init(&b);
		settle_verdict_json(&b, v);
		if (b.oom || fwrite(b.p, 1, b.len, stdout) != b.len)
			rc = tool_usage_error("settle", "cannot write the verdict");
		else
			rc = x == VERDICT_REJECT ? EXIT_FOUND : EXIT_OK;
		buf_deinit(&b);
	} else {
		print_person(v, c);
		rc = x == VERDICT_REJECT ? EXIT_FOUND : EXIT_OK;
	}
	yima__v1__claim_verdict__free_unpacked(v, NULL);
	return rc;
}

static int settle(const client_opts_t *co, settle_claim_t *c, bool json, struct settle_log *sl)
{
	client_t *cl;
	client_reply_t rep;
	uint8_t *body;
	char why[1024];
	int rc;

	if ((rc = client_new(co, &cl, why, sizeof why)) < 0)
		return tool_usage_error("settle", "%s", why);
	if ((rc = logcheck_open(sl->state, co->url, sl->vkey, &sl->lc, why, sizeof why)) < 0) {
		client_free(cl);
		return tool_usage_error("settle", "%s", why);
	}
	sl->cl = cl;
	size_t n = yima__v1__claim__get_packed_size(&c->msg);
	if ((body = malloc(n ? n : 1)) == NULL) {
		client_free(cl);
		return tool_usage_error("settle", "out of memory");
	}
	yima__v1__claim__pack(&c->msg, body);
	signal(SIGPIPE, SIG_IGN);
	/* 503: a cluster's claim whose code another claim holds (busy), or a
	 * cluster that did not answer in time: nothing was recorded twice, a
	 * retry is safe (docs/cluster.md); a few, 50 ms doubling to 0.8 s */
	for (unsigned wait_ms = 50;; wait_ms *= 2) {
		rc = client_request(cl, "POST", "/v1/settle", body, n, &rep, why, sizeof why);
		if (rc < 0 || rep.status != 503 || wait_ms > 800)
			break;
		client_reply_deinit(&rep);
		usleep(wait_ms * 1000);
	}
	free(body);
	if (rc < 0) {
		client_free(cl);
		logcheck_free(sl->lc);
		return tool_usage_error("settle", "%s", why);
	}
	if (rep.status == 200) {
		rc = print_verdict(&rep, c, json, sl);
	} else {
		client_reply_error(&rep, why, sizeof why);
		if (rep.status == 409) {
			fprintf(stderr, "yima settle: conflict: settlement %s was accepted with other "
				"content (%s)\n", c->msg.settlement, why);
			rc = EXIT_FOUND;
		} else {
			rc = tool_usage_error("settle", "the server refused the claim: %s", why);
		}
	}
	client_reply_deinit(&rep);
	client_free(cl);
	logcheck_free(sl->lc);
	return rc;
}

int cmd_settle(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "settle", usage, 1, 1, "one CLAIM file or -" };
	client_opts_t co = { 0 };
	bool dry_run = false, json = false;
	struct settle_log sl = { 0 };
	char state[4096];
	const opt_t opts[] = {
		OPT_CLIENT(&co),
		OPT_BOOL("dry-run", &dry_run),
		OPT_BOOL("json", &json),
		OPT_TEXT("state", &sl.state),
		OPT_TEXT("log-key", &sl.vkey),
		OPT_END,
	};
	settle_claim_t *c;
	char why[1024];
	int first, rc;

	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	if (co.url == NULL)
		return tool_usage_error("settle", "--server URL is required");
	if (sl.state == NULL) {
		/* beside the default spool: $XDG_STATE_HOME/yima */
		char *slash;
		if (spool_default_dir(state, sizeof state) < 0 || (slash = strrchr(state, '/')) == NULL)
			return tool_usage_error("settle", "no --state DIR and no $XDG_STATE_HOME or $HOME");
		*slash = '\0';
		sl.state = state;
	}
	const char *path = argv[first];
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (fp == NULL)
		return tool_usage_error("settle", "%s: cannot read", path);
	rc = settle_claim_read(fp, path, &c, why, sizeof why);
	if (fp != stdin)
		fclose(fp);
	if (rc < 0)
		return tool_usage_error("settle", "%s", why);
	c->msg.dry_run = dry_run;
	rc = settle(&co, c, json, &sl);
	settle_claim_free(c);
	return rc;
}
