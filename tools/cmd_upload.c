/*
 * cmd_upload.c - `yima upload` (spec section 5, docs/protocol.md): events
 * to yimad through the spool; --flush, --status and --drop on the spool.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/client/upload.h"

static const char usage[] =
	"usage: yima upload --server URL [--cert FILE --key FILE] [--ca FILE] [--spool DIR]\n"
	"                   [--retry-for SECONDS] [--batch ROWS] [--timeout SECONDS]\n"
	"                   [--log-key VKEY] [--out FILE] FILE.csv|-\n"
	"       yima upload --flush --server URL [...] [--spool DIR]\n"
	"       yima upload --status [--spool DIR]\n"
	"       yima upload --drop BATCH_ID [--spool DIR]\n"
	"Send scan events (spec section 3 CSV) to yimad in batches of --batch rows\n"
	"(default 5000).  Every batch is written to the spool (default\n"
	"$XDG_STATE_HOME/yima/spool or ~/.local/state/yima/spool) before it is sent and\n"
	"leaves it when its receipt arrives; batches go in order, oldest first, and\n"
	"exactly once (a rerun of a file sends the same batch ids, recorded once).\n"
	"With -, rows are read from standard input as they come; a part-filled batch is\n"
	"sent 200 ms after its first row.  Connection errors, timeouts, 408, 429 and 5xx\n"
	"are retried (100 ms doubling to 5 s) for --retry-for seconds (default 600); a\n"
	"TLS configuration error (certificate not trusted or not for this host, client\n"
	"certificate refused, protocol version) is not: it stops the upload at once.\n"
	"  --server URL    https://host:port (http:// only to a loopback address)\n"
	"  --cert, --key   the facility's client certificate and key (PEM)\n"
	"  --ca FILE       CA certificates that sign the server's (default: system)\n"
	"  --out FILE      one JSON line per event, as `yima ingest` prints them\n"
	"  --log-key VKEY  the server's log key (`yima log vkey` there); without it the\n"
	"                  key kept in the spool, or the server's own on first contact\n"
	"Every receipt carries the server's signed log checkpoint: it must verify with\n"
	"the key and extend the one kept in the spool (DIR/log-HOST_PORT.state) by a\n"
	"consistency proof from the server; one that does not (a rewritten history)\n"
	"stops the upload with both checkpoints named (exit 1).\n"
	"  --flush         send what waits in the spool, read no input\n"
	"  --status        print what waits in the spool\n"
	"  --drop ID       remove a waiting batch that the server refuses\n"
	"Summary (batches, events, verdicts, findings) on stderr.\n"
	"Exit: 0 everything delivered (whatever the verdicts), 1 the server refused a\n"
	"batch (4xx other than 408/429: it and the batches after it stay in the spool)\n"
	"or its log is not consistent with what it showed before,\n"
	"2 usage, unreadable input, bad header, TLS configuration or system error, 3 gave\n"
	"up or interrupted:\n"
	"the spool keeps what was not delivered (send it with --flush).\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGINT/SIGTERM ask the upload to stop (without SA_RESTART, so a wait
 * returns); SIGPIPE must not kill us when the server closes a socket. */
static void signals_setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct progress {
	bool on;
	struct timespec start;
};

static void show_progress(void *arg, const upload_progress_t *p)
{
	struct progress *pr = arg;
	int width = 30, fill = 0;

	if (!pr->on)
		return;
	if (p->total > 0)
		fill = (int)((double)p->bytes / (double)p->total * width);
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r[%.*s%*s] %" PRIu64 " rows read  %" PRIu64 " events in %" PRIu64
		" batches delivered ", fill, "##############################", width - fill, "",
		p->rows, p->events, p->batches);
	fflush(stderr);
}

static void format_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "%" PRId64, t);
}

static void print_summary(const upload_stats_t *st, bool read_input)
{
	const receipt_counts_t *c = &st->counts;

	if (read_input)
		fprintf(stderr, "upload: %" PRIu64 " rows read, %" PRIu64 " batches spooled%s",
			st->rows, st->spooled, st->already_waiting ? "" : "\n");
	if (read_input && st->already_waiting)
		fprintf(stderr, " (%" PRIu64 " more were waiting already)\n", st->already_waiting);
	fprintf(stderr, "upload: %" PRIu64 " batches delivered (%" PRIu64 " replayed), %" PRIu64
		" events: %" PRIu64 " accept, %" PRIu64 " warn, %" PRIu64 " reject\n",
		st->sent, st->replayed, c->events, c->verdicts[VERDICT_ACCEPT],
		c->verdicts[VERDICT_WARN], c->verdicts[VERDICT_REJECT]);
	FINDING_EACH(f)
		if (c->findings[f] > 0)
			fprintf(stderr, "  %-20s %" PRIu64 "\n", finding_name((enum finding)f), c->findings[f]);
	if (c->other_findings > 0)
		fprintf(stderr, "  %-20s %" PRIu64 "\n", "(other)", c->other_findings);
}

static int report_end(const upload_stats_t *st, const char *dir, const char *server)
{
	char waits[4600];

	snprintf(waits, sizeof waits, "%" PRIu64 " batch%s (%" PRIu64 " events) wait%s in the spool %s",
		 st->waiting_batches, st->waiting_batches == 1 ? "" : "es", st->waiting_events,
		 st->waiting_batches == 1 ? "s" : "", dir);
	switch (st->outcome) {
	case UPLOAD_DONE:
		return EXIT_OK;
	case UPLOAD_REFUSED:
		fprintf(stderr, "yima upload: refused: %s\n", st->problem);
		fprintf(stderr, "yima upload: nothing more was sent; %s: fix the cause and run "
			"`yima upload --flush --spool %s --server %s`, or remove the refused batch "
			"with `yima upload --drop ID --spool %s`\n", waits, dir, server, dir);
		return EXIT_FOUND;
	case UPLOAD_GAVE_UP:
		fprintf(stderr, "yima upload: gave up: %s\n", st->problem);
		fprintf(stderr, "yima upload: %s; send them with `yima upload --flush --spool %s --server %s`\n",
			waits, dir, server);
		return EXIT_GAVE_UP;
	case UPLOAD_INTERRUPTED:
		fprintf(stderr, "yima upload: interrupted; %s\n", waits);
		return EXIT_GAVE_UP;
	case UPLOAD_LOG_FORKED:
		fprintf(stderr, "yima upload: THE SERVER'S LOG IS NOT WHAT IT WAS: %s\n", st->problem);
		fprintf(stderr, "yima upload: nothing more was sent to %s; %s\n", server, waits);
		return EXIT_FOUND;
	}
	return EXIT_USAGE;
}

static int do_status(const char *dir)
{
	spool_t *sp;
	spool_stat_t ss;
	char why[512], when[64];
	int rc = spool_open(dir, SPOOL_RDONLY, &sp, why, sizeof why);

	if (rc == YIMA_ENOTFOUND) {
		printf("spool %s: nothing waits\n", dir);
		return EXIT_OK;
	}
	if (rc < 0)
		return tool_usage_error("upload", "%s", why);
	rc = spool_stat(sp, &ss);
	spool_close(sp);
	if (rc < 0)
		return tool_usage_error("upload", "%s: %s", dir, yima_strerror(rc));
	if (ss.batches == 0) {
		printf("spool %s: nothing waits\n", dir);
		return EXIT_OK;
	}
	format_time(ss.oldest, when, sizeof when);
	printf("spool %s: %" PRIu64 " batch%s, %" PRIu64 " events waiting; oldest spooled %s\n",
	       dir, ss.batches, ss.batches == 1 ? "" : "es", ss.events, when);
	return EXIT_OK;
}

static int do_drop(const char *dir, const char *id)
{
	spool_t *sp;
	spool_entry_t e;
	spool_storage_t st = { 0 };
	uint64_t key;
	char why[512];
	int rc;

	if ((rc = spool_open(dir, 0, &sp, why, sizeof why)) < 0)
		return tool_usage_error("upload", "%s", why);
	if ((rc = spool_find(sp, yima_slice_cstr(id), &key)) < 0) {
		spool_close(sp);
		return tool_usage_error("upload", "%s: batch %s: %s", dir, id,
					rc == YIMA_ENOTFOUND ? "not waiting" : yima_strerror(rc));
	}
	rc = spool_next(sp, key - 1, &e, &st);
	if (rc == 1 && e.key == key)
		fprintf(stderr, "upload: dropping batch %s: %" PRIu64 " events, rows %" PRIu64 "-%" PRIu64
			" of %.*s, never delivered\n", id, e.meta.events, e.meta.first_line,
			e.meta.first_line + e.meta.events - 1, (int)e.meta.source.n, e.meta.source.p);
	spool_storage_deinit(&st);
	rc = spool_delete(sp, key);
	spool_close(sp);
	if (rc < 0)
		return tool_usage_error("upload", "%s: batch %s: %s", dir, id, yima_strerror(rc));
	return EXIT_OK;
}

static int do_upload(const char *dir, const client_opts_t *co, upload_opts_t *o, const char *logkey)
{
	spool_t *sp;
	client_t *cl;
	logcheck_t *lc;
	upload_stats_t st;
	struct progress prog = { isatty(STDERR_FILENO), { 0, 0 } };
	char why[1024];
	int rc;

	if ((rc = client_new(co, &cl, why, sizeof why)) < 0)
		return tool_usage_error("upload", "%s", why);
	if ((rc = spool_open(dir, 0, &sp, why, sizeof why)) < 0 ||
	    (rc = logcheck_open(dir, co->url, logkey, &lc, why, sizeof why)) < 0) {
		if (rc != 0 && sp != NULL)
			spool_close(sp);
		client_free(cl);
		return tool_usage_error("upload", "%s", why);
	}
	o->log = lc;
	signals_setup();
	stop_flag = 0;
	o->stop = &stop_flag;
	clock_gettime(CLOCK_MONOTONIC, &prog.start);
	o->progress = show_progress;
	o->progress_arg = &prog;
	rc = upload_run(sp, cl, o, &st, why, sizeof why);
	if (logcheck_pinned_now(lc) != NULL)
		fprintf(stderr, "upload: trusting the log key %s of %s from now on (first contact; compare "
			"it with `yima log vkey` at the server)\n", logcheck_pinned_now(lc), co->url);
	logcheck_free(lc);
	spool_close(sp);
	client_free(cl);
	if (prog.on)
		fputc('\n', stderr);
	print_summary(&st, o->path != NULL);
	if (rc < 0) {
		fprintf(stderr, "yima upload: %s\n", why);
		if (st.waiting_batches > 0)
			fprintf(stderr, "yima upload: %" PRIu64 " batches (%" PRIu64 " events) wait in the spool %s\n",
				st.waiting_batches, st.waiting_events, dir);
		return EXIT_USAGE;
	}
	return report_end(&st, dir, co->url);
}

int cmd_upload(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "upload", usage, 0, 1, NULL };
	client_opts_t co = { 0 };
	upload_opts_t o;
	const char *dir = NULL, *out = NULL, *drop = NULL, *logkey = NULL;
	bool flush = false, status = false;
	char defdir[4096];
	int first, rc;

	upload_opts_init(&o);
	uint64_t retry_for = o.retry_for_ms / 1000;
	const opt_t opts[] = {
		OPT_CLIENT(&co),
		OPT_TEXT("spool", &dir),
		OPT_NUM64("retry-for", &retry_for, 0, 365 * 86400, "a number of seconds"),
		OPT_NUM64("batch", &o.batch_rows, 1, UPLOAD_BATCH_MAX, "a row count"),
		OPT_TEXT("out", &out),
		OPT_BOOL("flush", &flush),
		OPT_BOOL("status", &status),
		OPT_TEXT("drop", &drop),
		OPT_TEXT("log-key", &logkey),
		OPT_END,
	};
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	o.retry_for_ms = retry_for * 1000;
	if ((int)flush + (int)status + (drop != NULL) > 1)
		return tool_usage_error("upload", "--flush, --status and --drop go alone");
	if (dir == NULL) {
		if (spool_default_dir(defdir, sizeof defdir) < 0)
			return tool_usage_error("upload", "no --spool DIR and no $XDG_STATE_HOME or $HOME");
		dir = defdir;
	}
	bool takes_file = !flush && !status && drop == NULL;
	if (takes_file ? first != argc - 1 : first != argc)
		return tool_usage_error("upload", takes_file ? "expected one FILE.csv or - (see --help)"
							     : "no FILE with --flush, --status or --drop");
	if (status)
		return do_status(dir);
	if (drop != NULL)
		return do_drop(dir, drop);
	if (co.url == NULL)
		return tool_usage_error("upload", "--server URL is required");
	o.path = takes_file ? argv[first] : NULL;
	if (out != NULL && (o.out = fopen(out, "w")) == NULL)
		return tool_usage_error("upload", "%s: cannot write", out);
	rc = do_upload(dir, &co, &o, logkey);
	if (o.out != NULL && fclose(o.out) != 0 && rc != EXIT_USAGE)
		return tool_usage_error("upload", "%s: write failed", out);
	return rc;
}
