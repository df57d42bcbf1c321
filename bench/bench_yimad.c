/*
 * bench_yimad.c - load generator for yimad (issues 4 and 14).
 *
 * Builds (once) a ledger holding N received codes across four facilities,
 * and drives one or more servers on loopback, with TLS 1.3 and client
 * certificates, from one libevent loop over many keep-alive connections:
 *
 *   settle    claims of 1-3 never-sold codes (accepted, durably committed)
 *   lookup    GET /v1/codes/{code} as a regulator, random codes
 *   tiles     GET /tile/0/<N>: full level-0 hash tiles of the verifiable log
 *             (8 KiB each), random N, as a facility (spec section 8)
 *   healthz   GET /healthz: the HTTP + TLS floor of the server
 *
 * The servers: the build's yimad (or others named by --yimad, e.g. the
 * code before a change beside the code after it, started in turn for each
 * run on the same ledger), nginx (--nginx: Debian's, bench/nginx.conf.in,
 * the same certificates and CAs, `return 200`: the yardstick, measured in
 * the same run by the same load generator), or a server already running
 * (--url, --no-spawn).  Each phase warms up for a second, then counts
 * requests, their latencies (send to complete answer) and the server's CPU
 * time (user + system, from /proc, nginx's workers included) for SECONDS.
 * RUNS rounds are interleaved; medians are printed last.
 */
static const char usage[] =
	"usage: bench_yimad [--codes N] [--seconds S] [--runs R] [--conns C] [--depth D]\n"
	"                   [--server-threads N] [--dir DIR] [--insecure]\n"
	"                   [--yimad PATH[=LABEL]]... [--nginx]\n"
	"       bench_yimad --no-spawn --url https://127.0.0.1:PORT [--phases LIST] [...]\n"
	"\n"
	"--depth D pipelines D requests on each connection.  --yimad (repeatable,\n"
	"default the build's yimad) names the yimad binaries to compare;\n"
	"--nginx adds nginx's `return 200` beside them (healthz phase only).\n"
	"--url with --no-spawn drives a server already running, with this\n"
	"bench's PKI (DIR/pki) and, for settle and lookup, a yimad on DIR/db;\n"
	"--phases (settle,lookup,tiles,healthz) picks what to send it.\n";

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "yima.pb-c.h"
#include "yima/verifier/catalog.h"
#include "yima/util/error.h"
#include "yima/verifier/verify.h"
#include "yima/tlog/tile.h"

#define FACILITIES 4
#define PRODUCT "8100001"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Code i (i < 10^13): product + 13-digit serial. */
static void code_of(uint64_t i, char out[21])
{
	snprintf(out, 21, PRODUCT "%013" PRIu64, i % UINT64_C(10000000000000));
}

/* ---- the pre-loaded ledger ------------------------------------------------------ */

static int build_ledger(const char *dir, uint64_t ncodes)
{
	char db[600], marker[700], cat[700], why[512];
	struct stat sb;
	ledger_t *lg;
	ledger_txn_t *txn = NULL;
	catalog_stats_t st;
	int rc;

	snprintf(db, sizeof db, "%s/db", dir);
	snprintf(marker, sizeof marker, "%s/ready-%" PRIu64, dir, ncodes);
	if (stat(marker, &sb) == 0)
		return 0;
	snprintf(cat, sizeof cat, "rm -rf '%s' && mkdir -p '%s'", db, dir);
	if (system(cat) != 0)
		return -1;
	snprintf(cat, sizeof cat, "%s/catalog.csv", dir);
	FILE *fp = fopen(cat, "w");
	if (fp == NULL)
		return -1;
	fprintf(fp, "product_id,drug_code,name,spec,pack_units\n" PRODUCT ",DRUGA,Bench,1 box,1\n");
	fclose(fp);
	fprintf(stderr, "bench_yimad: loading %" PRIu64 " received codes into %s\n", ncodes, db);
	if ((rc = ledger_open(db, LEDGER_CREATE, &lg, why, sizeof why)) < 0 ||
	    (rc = catalog_load_file(lg, cat, NULL, NULL, &st, why, sizeof why)) < 0) {
		fprintf(stderr, "bench_yimad: %s\n", why);
		return -1;
	}
	for (uint64_t i = 0; i < ncodes && rc == 0; i++) {
		char code[21], fac[8], row[256];
		verify_input_t in;
		verify_result_t res;
		yima_slice_t f[9];
		csv_row_t r;

		if (txn == NULL && (rc = ledger_txn_begin(lg, true, &txn)) < 0)
			break;
		code_of(i, code);
		snprintf(fac, sizeof fac, "F%u", (unsigned)(i % FACILITIES));
		snprintf(row, sizeof row, "2026-03-01T09:00:00+08:00");
		f[0] = yima_slice_cstr(row);
		f[1] = yima_slice_cstr(fac);
		f[2] = yima_slice_cstr("receive");
		f[3] = yima_slice_cstr(code);
		f[4] = f[5] = f[6] = f[7] = yima_slice("", 0);
		f[8] = yima_slice_cstr("S0001");
		memset(&r, 0, sizeof r);
		r.nfields = 9;
		r.field = f;
		verify_input_from_row(&r, &in);
		rc = verify_apply(txn, &in, &res);
		if (rc == 0 && (i + 1) % 200000 == 0) {
			rc = ledger_txn_commit(txn);
			txn = NULL;
		}
	}
	if (txn != NULL)
		rc = rc == 0 ? ledger_txn_commit(txn) : (ledger_txn_abort(txn), rc);
	ledger_close(lg);
	if (rc < 0) {
		fprintf(stderr, "bench_yimad: loading: %s\n", yima_strerror(rc));
		return -1;
	}
	fp = fopen(marker, "w");
	if (fp)
		fclose(fp);
	return 0;
}

/* ---- the servers ------------------------------------------------------------------------ */

static uint16_t free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

enum target_kind { T_YIMAD, T_NGINX, T_EXTERNAL };

/* A server the load is driven against: a yimad binary (started for each
 * run on the bench ledger), nginx (started once, bench/nginx.conf.in) or
 * a server already running (--url, --no-spawn). */
enum phase { P_SETTLE, P_LOOKUP, P_TILES, P_HEALTHZ, P_COUNT };
static const char *const phase_names[] = { "settle", "lookup", "tiles", "healthz" };

struct target {
	enum target_kind kind;
	const char *label;
	const char *path;		/* yimad binary */
	uint16_t port;
	bool insecure;
	pid_t pid;
	bool phases[P_COUNT];
};

static pid_t spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (log != NULL && freopen(log, "a", stderr) == NULL)
		_exit(127);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static pid_t start_yimad(const struct target *t, const char *dir, int threads)
{
	char db[600], listen[64], cert[700], key[700], ca[700], rca[700], nt[16], log[700];
	const char *argv[24];
	int n = 0;

	snprintf(db, sizeof db, "%s/db", dir);
	snprintf(listen, sizeof listen, "127.0.0.1:%u", t->port);
	snprintf(cert, sizeof cert, "%s/pki/server.crt", dir);
	snprintf(key, sizeof key, "%s/pki/server.key", dir);
	snprintf(ca, sizeof ca, "%s/pki/ca.crt", dir);
	snprintf(rca, sizeof rca, "%s/pki/regca.crt", dir);
	snprintf(nt, sizeof nt, "%d", threads);
	snprintf(log, sizeof log, "%s/yimad-%s.log", dir, t->label);
	argv[n++] = t->path;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--quiet";
	argv[n++] = "--threads";
	argv[n++] = nt;
	if (t->insecure) {
		argv[n++] = "--insecure-http";
	} else {
		argv[n++] = "--tls-cert";
		argv[n++] = cert;
		argv[n++] = "--tls-key";
		argv[n++] = key;
		argv[n++] = "--client-ca";
		argv[n++] = ca;
		argv[n++] = "--regulator-ca";
		argv[n++] = rca;
	}
	argv[n] = NULL;
	return spawn(argv, log);
}

/* Copy src to dst replacing each @NAME@ of vars (name, value pairs). */
static int fill_template(const char *src, const char *dst, const char *const *vars)
{
	FILE *in = fopen(src, "r"), *out = in ? fopen(dst, "w") : NULL;
	char line[1024];
	int rc = 0;

	if (out == NULL) {
		if (in)
			fclose(in);
		return -1;
	}
	while (fgets(line, sizeof line, in) != NULL) {
		char *p = line, *at;
		while ((at = strchr(p, '@')) != NULL) {
			size_t i;
			fwrite(p, 1, (size_t)(at - p), out);
			for (i = 0; vars[i] != NULL; i += 2)
				if (strncmp(at + 1, vars[i], strlen(vars[i])) == 0 &&
				    at[1 + strlen(vars[i])] == '@')
					break;
			if (vars[i] == NULL) {
				fputc('@', out);
				p = at + 1;
				continue;
			}
			fputs(vars[i + 1], out);
			p = at + 2 + strlen(vars[i]);
		}
		fputs(p, out);
	}
	if (ferror(in) || fclose(out) != 0)
		rc = -1;
	fclose(in);
	return rc;
}

/* nginx with bench/nginx.conf.in: the same PKI, both client CAs. */
static pid_t start_nginx(const struct target *t, const char *dir, int workers)
{
	char pki[700], conf[700], port[16], nw[16], cmd[2200];
	const char *vars[] = { "PORT", port, "PKI", pki, "DIR", dir, "WORKERS", nw, NULL };

	snprintf(pki, sizeof pki, "%s/pki", dir);
	snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
	snprintf(port, sizeof port, "%u", t->port);
	snprintf(nw, sizeof nw, "%d", workers);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/nginx-tmp' && cat '%s/ca.crt' '%s/regca.crt' > '%s/nginx-cas.crt'",
		 dir, pki, pki, dir);
	if (system(cmd) != 0 || fill_template(YIMA_SOURCE_DIR "/bench/nginx.conf.in", conf, vars) < 0)
		return -1;
	const char *argv[] = { t->path, "-p", dir, "-c", conf, NULL };
	return spawn(argv, NULL);
}

static bool wait_port(uint16_t port, pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		struct sockaddr_in a;
		int st, fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_port = htons(port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return true;
		if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid)
			return false;
		usleep(20000);
	}
	return false;
}

/* Stop a server; true when it exited cleanly (0, or nginx's SIGQUIT). */
static bool stop_server(pid_t pid, int sig)
{
	int st = 0;

	if (pid <= 0)
		return true;
	kill(pid, sig);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* CPU seconds (user + system) of pid and its children processes (nginx
 * workers), from /proc. */
static double proc_cpu(pid_t pid)
{
	long tick = sysconf(_SC_CLK_TCK);
	double total = 0;
	DIR *d;
	struct dirent *e;

	if (pid <= 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024], *rp;
		unsigned long long ut, stime;
		int ppid, self;
		FILE *fp;
		size_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		self = atoi(buf);
		/* fields after the command name, which may hold spaces */
		if ((rp = strrchr(buf, ')')) == NULL ||
		    sscanf(rp + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ppid, &ut,
			   &stime) != 3)
			continue;
		if (self == pid || ppid == pid)
			total += (double)(ut + stime) / (double)tick;
	}
	closedir(d);
	return total;
}

/* ---- the load ------------------------------------------------------------------------- */


struct bench;

/* One keep-alive connection with --depth requests in flight.  The client
 * is a bare bufferevent writing prepared HTTP/1.1 requests and reading
 * answers by Content-Length: evhttp's client would cost the shared CPU as
 * much as the server it measures. */
#define DEPTH_MAX 16

struct conn {
	struct bench *b;
	struct bufferevent *bev;
	int fac;
	double sent[DEPTH_MAX];		/* send times of the requests in flight */
	int head, inflight;		/* oldest in sent[], how many */
};

struct bench {
	struct event_base *base;
	enum phase phase;
	const struct target *t;
	int nconns;
	struct conn *conns;
	SSL_CTX *ctx[FACILITIES + 1];	/* facilities, then the regulator */
	double t_start, t_measure, t_end;
	uint64_t next_code[FACILITIES];	/* per facility: next unsold index */
	uint64_t ncodes;
	uint64_t seq;			/* settlements sent */
	time_t nonce;			/* settlement ids differ between runs */
	uint64_t done, errors;
	double *lat;
	size_t nlat, caplat;
	uint64_t rng;
	int run;
	int depth;			/* requests in flight per connection */
};

static uint64_t rnd(struct bench *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static void send_next(struct conn *c);

static void finish(struct conn *c, bool ok)
{
	struct bench *b = c->b;
	double t = now_s(), sent = c->sent[c->head];

	c->head = (c->head + 1) % DEPTH_MAX;
	c->inflight--;
	if (!ok) {
		if (t >= b->t_measure && t < b->t_end)
			b->errors++;
	} else if (sent >= b->t_measure && t < b->t_end) {
		b->done++;
		if (b->nlat < b->caplat)
			b->lat[b->nlat++] = t - sent;
	}
	if (t >= b->t_end) {
		for (int i = 0; i < b->nconns; i++)
			if (b->conns[i].inflight > 0)
				return;
		event_base_loopexit(b->base, NULL);
		return;
	}
	send_next(c);
}

/* An answer is complete when its headers and Content-Length bytes are in. */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (c->inflight > 0) {
		struct evbuffer_ptr eoh = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		char head[1024];
		size_t hlen, clen = 0;
		const char *cl;

		if (eoh.pos < 0)
			return;
		hlen = (size_t)eoh.pos + 4;
		if (hlen >= sizeof head) {
			finish(c, false);
			return;
		}
		evbuffer_copyout(in, head, hlen);
		head[hlen] = '\0';
		if ((cl = strcasestr(head, "\r\nContent-Length:")) != NULL)
			clen = strtoul(cl + 17, NULL, 10);
		if (evbuffer_get_length(in) < hlen + clen)
			return;
		evbuffer_drain(in, hlen + clen);
		if (strncmp(head + 9, "200", 3) != 0 && c->b->errors < 3)
			fprintf(stderr, "bench_yimad: answer %.40s\n", head);
		finish(c, strncmp(head + 9, "200", 3) == 0);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		fprintf(stderr, "bench_yimad: connection lost (%s%s: %s)\n",
			(what & BEV_EVENT_EOF) ? "eof" : "error",
			(what & BEV_EVENT_READING) ? " reading" : " writing",
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		while (c->inflight > 0)
			finish(c, false);
	}
}

static size_t settle_body(struct bench *b, struct conn *c, uint8_t *buf)
{
	Yima__V1__Claim cl = YIMA__V1__CLAIM__INIT;
	Yima__V1__ClaimItem it = YIMA__V1__CLAIM_ITEM__INIT, *itp = &it;
	Yima__V1__ClaimCode cc[3], *ccp[3];
	char codes[3][21], fac[8], stl[48];
	int n = 1 + (int)(b->seq % 3);

	snprintf(fac, sizeof fac, "F%d", c->fac);
	snprintf(stl, sizeof stl, "R%ld-%d-%" PRIu64, (long)b->nonce, b->run, b->seq++);
	for (int i = 0; i < n; i++) {
		uint64_t k = b->next_code[c->fac]++;
		code_of((k * FACILITIES + (uint64_t)c->fac) % b->ncodes, codes[i]);
		yima__v1__claim_code__init(&cc[i]);
		cc[i].code = codes[i];
		ccp[i] = &cc[i];
	}
	it.drug = "DRUGA";
	it.n_codes = (size_t)n;
	it.codes = ccp;
	cl.facility = fac;
	cl.settlement = stl;
	cl.time = "2026-03-02T10:00:00+08:00";
	cl.patient = "P-BENCH";
	cl.n_items = 1;
	cl.items = &itp;
	return yima__v1__claim__pack(&cl, buf);
}

static void send_next(struct conn *c)
{
	struct bench *b = c->b;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t body[512];
	char code[21];
	size_t n;

	c->sent[(c->head + c->inflight) % DEPTH_MAX] = now_s();
	c->inflight++;
	switch (b->phase) {
	case P_SETTLE:
		n = settle_body(b, c, body);
		evbuffer_add_printf(out, "POST /v1/settle HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				    "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n", n);
		evbuffer_add(out, body, n);
		break;
	case P_LOOKUP:
		code_of(rnd(b) % b->ncodes, code);
		evbuffer_add_printf(out, "GET /v1/codes/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", code);
		break;
	case P_TILES: {
		/* the ledger holds at least ncodes entries: these tiles are full */
		tile_t t = { false, 0, rnd(b) % (b->ncodes / TILE_WIDTH), TILE_WIDTH };
		char path[TILE_PATH_MAX];
		tile_path_format(&t, path, sizeof path, NULL);
		evbuffer_add_printf(out, "GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
		break;
	}
	default:
		evbuffer_add_printf(out, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	}
}

static SSL_CTX *client_ctx(const char *dir, const char *who)
{
	char path[700];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	snprintf(path, sizeof path, "%s/pki/ca.crt", dir);
	SSL_CTX_load_verify_locations(ctx, path, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	snprintf(path, sizeof path, "%s/pki/%s.crt", dir, who);
	if (SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		goto fail;
	snprintf(path, sizeof path, "%s/pki/%s.key", dir, who);
	if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static struct bufferevent *connect_one(struct bench *b, struct conn *c, SSL_CTX *ctx)
{
	struct sockaddr_in a;
	struct bufferevent *bev;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(b->t->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	evutil_make_socket_nonblocking(fd);
	if (b->t->insecure) {
		bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	} else {
		SSL *ssl = SSL_new(ctx);
		if (ssl == NULL)
			return NULL;
		bev = bufferevent_openssl_socket_new(b->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	if (bev == NULL)
		return NULL;
	bufferevent_setcb(bev, on_read, NULL, on_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return bev;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;
	return a < c ? -1 : a > c;
}

struct result {
	double rps, p50, p99, p999;
	double cpu_us;			/* server CPU per request, microseconds */
	uint64_t errors;
};

static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] * 1000.0;
}

/* Fresh connections (regulator ones for lookups), then one phase: a warm
 * second, then SECONDS measured.  Returns false if a connection failed. */
static bool run_phase(struct bench *b, enum phase ph, double seconds, struct result *r)
{
	double cpu0 = 0, cpu1;

	for (int i = 0; i < b->nconns; i++) {
		struct conn *c = &b->conns[i];
		if (c->bev)
			bufferevent_free(c->bev);
		c->b = b;
		c->fac = i % FACILITIES;
		c->bev = connect_one(b, c, b->ctx[ph == P_LOOKUP ? FACILITIES : c->fac]);
		if (c->bev == NULL)
			return false;
	}
	b->phase = ph;
	b->done = b->errors = 0;
	b->nlat = 0;
	b->t_start = now_s();
	b->t_measure = b->t_start + 1.0;
	b->t_end = b->t_measure + seconds;
	for (int i = 0; i < b->nconns; i++) {
		b->conns[i].head = b->conns[i].inflight = 0;
		for (int d = 0; d < b->depth; d++)
			send_next(&b->conns[i]);
	}
	/* Server CPU is counted from the end of the warm-up second. */
	struct timeval warm = { 1, 0 };
	event_base_loopexit(b->base, &warm);
	event_base_dispatch(b->base);
	cpu0 = proc_cpu(b->t->pid);
	event_base_dispatch(b->base);
	cpu1 = proc_cpu(b->t->pid);
	qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
	r->rps = (double)b->done / seconds;
	r->p50 = pct(b->lat, b->nlat, 0.50);
	r->p99 = pct(b->lat, b->nlat, 0.99);
	r->p999 = pct(b->lat, b->nlat, 0.999);
	r->cpu_us = b->done && b->t->pid > 0 ? (cpu1 - cpu0) * 1e6 / (double)b->done : 0;
	r->errors = b->errors;
	printf("run %d %-8s %-8s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  p999 %6.2f ms  cpu %5.1f us/req  errors %" PRIu64 "\n",
	       b->run, b->t->label, phase_names[ph], r->rps, r->p50, r->p99, r->p999, r->cpu_us, r->errors);
	fflush(stdout);
	return true;
}

static int cmp_res(const void *x, const void *y)
{
	double a = ((const struct result *)x)->rps, c = ((const struct result *)y)->rps;
	return a < c ? -1 : a > c;
}

/* ---- the runs ------------------------------------------------------------------------- */

struct opts {
	const char *dir;
	double seconds;
	int runs, server_threads;
	bool nginx;
	int ntargets;
	struct target targets[4];
};

static int add_target(struct opts *o, enum target_kind kind, const char *label, const char *path)
{
	if (o->ntargets >= 4)
		return -1;
	struct target *t = &o->targets[o->ntargets++];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->label = label;
	t->path = path;
	for (int ph = 0; ph < P_COUNT; ph++)
		t->phases[ph] = kind != T_NGINX || ph == P_HEALTHZ;
	return 0;
}

/* --yimad PATH[=LABEL] */
static int opt_yimad(struct opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	if (eq)
		*eq = '\0';
	return add_target(o, T_YIMAD, eq ? eq + 1 : "yimad", arg);
}

/* --url http[s]://127.0.0.1:PORT: a server already running, with the
 * bench's PKI and ledger (docs: bench/README.md). */
static int opt_url(struct opts *o, const char *url)
{
	bool tls = strncmp(url, "https://", 8) == 0;
	const char *hp = url + (tls ? 8 : 7), *colon = strrchr(hp, ':');

	if ((!tls && strncmp(url, "http://", 7) != 0) || colon == NULL ||
	    strncmp(hp, "127.0.0.1:", 10) != 0 || add_target(o, T_EXTERNAL, "external", NULL) < 0)
		return -1;
	o->targets[o->ntargets - 1].port = (uint16_t)atoi(colon + 1);
	o->targets[o->ntargets - 1].insecure = !tls;
	return 0;
}

/* --phases settle,lookup,healthz for the --url target. */
static int opt_phases(struct opts *o, const char *list)
{
	if (o->ntargets == 0 || o->targets[o->ntargets - 1].kind != T_EXTERNAL)
		return -1;
	struct target *t = &o->targets[o->ntargets - 1];
	for (int ph = 0; ph < P_COUNT; ph++)
		t->phases[ph] = strstr(list, phase_names[ph]) != NULL;
	return 0;
}

static int parse_opts(int argc, char **argv, struct bench *b, struct opts *o)
{
	static const struct option opts[] = {
		{ "codes", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' }, { "conns", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' }, { "insecure", no_argument, NULL, 'i' },
		{ "depth", required_argument, NULL, 'p' },
		{ "server-threads", required_argument, NULL, 't' },
		{ "yimad", required_argument, NULL, 'y' }, { "nginx", no_argument, NULL, 'x' },
		{ "url", required_argument, NULL, 'u' }, { "phases", required_argument, NULL, 'h' },
		{ "no-spawn", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	bool insecure = false, no_spawn = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int rc = 0;
		switch (opt) {
		case 'n': b->ncodes = strtoull(optarg, NULL, 10); break;
		case 's': o->seconds = atof(optarg); break;
		case 'r': o->runs = atoi(optarg); break;
		case 'c': b->nconns = atoi(optarg); break;
		case 'd': o->dir = optarg; break;
		case 'i': insecure = true; break;
		case 'p': b->depth = atoi(optarg); break;
		case 't': o->server_threads = atoi(optarg); break;
		case 'y': rc = opt_yimad(o, optarg); break;
		case 'x': o->nginx = true; break;
		case 'u': rc = opt_url(o, optarg); break;
		case 'h': rc = opt_phases(o, optarg); break;
		case 'N': no_spawn = true; break;
		default: return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (no_spawn != (o->ntargets > 0 && o->targets[0].kind == T_EXTERNAL) ||
	    (no_spawn && o->ntargets != 1))
		return -1;	/* --no-spawn goes with one --url, and only */
	if (o->ntargets == 0)
		add_target(o, T_YIMAD, "yimad", YIMA_BINARY_DIR "/yimad");
	for (int i = 0; i < o->ntargets; i++)
		o->targets[i].insecure = o->targets[i].insecure || insecure;
	if (o->nginx && add_target(o, T_NGINX, "nginx", "/usr/sbin/nginx") < 0)
		return -1;
	return o->runs < 1 || o->runs > 16 || b->nconns < 1 || b->ncodes < 1000 ||
	       o->seconds <= 0 || b->depth < 1 || b->depth > DEPTH_MAX ? -1 : 0;
}

/* The next unsold code per facility, kept between benches on one ledger
 * (every claim a first sale). */
static void sold_io(struct bench *b, const char *dir, bool save)
{
	char path[700];
	FILE *fp;

	snprintf(path, sizeof path, "%s/sold", dir);
	if ((fp = fopen(path, save ? "w" : "r")) == NULL)
		return;
	for (int f = 0; f < FACILITIES; f++) {
		if (save)
			fprintf(fp, "%" PRIu64 "\n", b->next_code[f]);
		else if (fscanf(fp, "%" SCNu64, &b->next_code[f]) != 1)
			b->next_code[f] = 0;
	}
	fclose(fp);
}

static bool target_start(struct target *t, const struct opts *o)
{
	if (t->kind == T_EXTERNAL)
		return wait_port(t->port, 0);
	t->port = free_port();
	t->pid = t->kind == T_YIMAD ? start_yimad(t, o->dir, o->server_threads)
				    : start_nginx(t, o->dir, o->server_threads);
	if (t->pid > 0 && wait_port(t->port, t->pid))
		return true;
	fprintf(stderr, "bench_yimad: %s did not start (see %s)\n", t->label, o->dir);
	return false;
}

/* One run: every target's phases (yimad started for it and stopped after,
 * so two yimads never share the ledger). */
static int run_once(struct bench *b, struct opts *o, struct result res[][P_COUNT][16])
{
	for (int i = 0; i < o->ntargets; i++) {
		struct target *t = &o->targets[i];
		if (t->kind == T_YIMAD && !target_start(t, o))
			return -1;
		b->t = t;
		for (int ph = 0; ph < P_COUNT; ph++)
			if (t->phases[ph] && !run_phase(b, (enum phase)ph, o->seconds, &res[i][ph][b->run - 1])) {
				fprintf(stderr, "bench_yimad: cannot connect to %s\n", t->label);
				return -1;
			}
		if (t->kind == T_YIMAD) {
			for (int c = 0; c < b->nconns; c++) {
				if (b->conns[c].bev)
					bufferevent_free(b->conns[c].bev);
				b->conns[c].bev = NULL;
			}
			if (!stop_server(t->pid, SIGTERM)) {
				fprintf(stderr, "bench_yimad: %s did not exit cleanly\n", t->label);
				return -1;
			}
			t->pid = 0;
		}
	}
	return 0;
}

static void report(const struct opts *o, struct result res[][P_COUNT][16])
{
	const struct result *m[4][P_COUNT] = { { NULL } }, *ng = NULL;

	for (int i = 0; i < o->ntargets; i++)
		for (int ph = 0; ph < P_COUNT; ph++) {
			if (!o->targets[i].phases[ph])
				continue;
			qsort(res[i][ph], (size_t)o->runs, sizeof res[i][ph][0], cmp_res);
			m[i][ph] = &res[i][ph][o->runs / 2];
			printf("median %-8s %-8s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  p999 %6.2f ms  cpu %5.1f us/req\n",
			       o->targets[i].label, phase_names[ph], m[i][ph]->rps, m[i][ph]->p50,
			       m[i][ph]->p99, m[i][ph]->p999, m[i][ph]->cpu_us);
			if (o->targets[i].kind == T_NGINX)
				ng = m[i][ph];
		}
	for (int i = 0; i < o->ntargets; i++) {
		if (o->targets[i].kind == T_NGINX)
			continue;
		printf("%s", o->targets[i].label);
		for (int ph = 0; ph < P_COUNT; ph++)
			if (m[i][ph] != NULL)
				printf(" %s_per_s=%.0f %s_p99_ms=%.2f %s_cpu_us=%.1f", phase_names[ph], m[i][ph]->rps,
				       phase_names[ph], m[i][ph]->p99, phase_names[ph], m[i][ph]->cpu_us);
		for (int ph = 0; ph < P_COUNT && ng != NULL; ph++)
			if (m[i][ph] != NULL)
				printf(" %s_vs_nginx=%.2f", phase_names[ph], m[i][ph]->rps / ng->rps);
		printf("\n");
	}
	if (ng != NULL)
		printf("nginx healthz_per_s=%.0f healthz_p99_ms=%.2f healthz_cpu_us=%.1f\n", ng->rps, ng->p99,
		       ng->cpu_us);
}

static void describe_targets(const struct bench *b, const struct opts *o)
{
	printf("bench_yimad: %" PRIu64 " codes, %d connections x %d in flight, %s, --threads/workers %d, "
	       "%.0f s per phase, %d runs; servers:", b->ncodes, b->nconns, b->depth,
	       o->targets[0].insecure ? "plain HTTP" : "TLS 1.3 + client certificates", o->server_threads,
	       o->seconds, o->runs);
	for (int i = 0; i < o->ntargets; i++)
		printf(" %s (%s)", o->targets[i].label,
		       o->targets[i].path ? o->targets[i].path : "already running");
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct result res[4][P_COUNT][16];
	struct bench b;
	struct opts o;
	char cmd[1200];
	int rc = 0;

	memset(&b, 0, sizeof b);
	memset(&o, 0, sizeof o);
	o.dir = "/tmp/yima-bench-yimad";
	o.seconds = 5;
	o.runs = 3;
	o.server_threads = 2;
	b.ncodes = 1000000;
	b.nconns = 64;
	b.depth = 1;
	b.rng = 0x9E3779B97F4A7C15ull;
	b.nonce = time(NULL);
	if (parse_opts(argc, argv, &b, &o) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.targets[0].kind != T_EXTERNAL && build_ledger(o.dir, b.ncodes) < 0)
		return 2;
	snprintf(cmd, sizeof cmd, "%s/scripts/certs %s/pki F0 F1 F2 F3 reg:REG1 >/dev/null 2>&1",
		 YIMA_SOURCE_DIR, o.dir);
	if (system(cmd) != 0)
		return 2;
	for (int f = 0; f < FACILITIES; f++) {
		char who[8];
		snprintf(who, sizeof who, "F%d", f);
		b.ctx[f] = client_ctx(o.dir, who);
	}
	b.ctx[FACILITIES] = client_ctx(o.dir, "REG1");
	b.caplat = 4u << 20;
	b.lat = malloc(b.caplat * sizeof *b.lat);
	b.base = event_base_new();
	b.conns = calloc((size_t)b.nconns, sizeof *b.conns);
	if (b.lat == NULL || b.base == NULL || b.conns == NULL)
		return 2;
	sold_io(&b, o.dir, false);
	describe_targets(&b, &o);
	for (int i = 0; i < o.ntargets && rc == 0; i++)
		if (o.targets[i].kind != T_YIMAD && !target_start(&o.targets[i], &o))
			rc = 1;
	for (b.run = 1; b.run <= o.runs && rc == 0; b.run++)
		rc = run_once(&b, &o, res) < 0;
	sold_io(&b, o.dir, true);
	if (rc == 0)
		report(&o, res);
	for (int i = 0; i < b.nconns; i++)
		if (b.conns[i].bev)
			bufferevent_free(b.conns[i].bev);
	for (int i = 0; i < o.ntargets; i++)
		if (o.targets[i].pid > 0 && !stop_server(o.targets[i].pid, o.targets[i].kind == T_NGINX ? SIGQUIT : SIGTERM))
			rc = 1;
	for (int f = 0; f <= FACILITIES; f++)
		SSL_CTX_free(b.ctx[f]);
	event_base_free(b.base);
	free(b.conns);
	free(b.lat);
	return rc;
}
