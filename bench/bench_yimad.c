/*
 * bench_yimad.c - load generator for yimad (issue 4's benchmark).
 *
 * Builds (once) a ledger holding N received codes across four facilities,
 * starts the real yimad on loopback with TLS and client certificates, and
 * drives it from one libevent loop over many keep-alive connections:
 *
 *   settle    claims of 1-3 never-sold codes (accepted, durably committed)
 *   lookup    GET /v1/codes/{code} as a regulator, random codes
 *   tiles     GET /tile/0/<N>: full level-0 hash tiles of the verifiable
 *             log (8 KiB each), random N, as a facility (spec section 8)
 *   healthz   GET /healthz: the HTTP + TLS floor of this machine, measured
 *             in the same run, that the others are compared with
 *
 * Each phase warms up for a second, then counts requests and their
 * latencies (send to complete answer) for SECONDS.  RUNS rounds are
 * interleaved; medians are printed last.
 *
 *   bench_yimad [--codes N] [--seconds S] [--runs R] [--conns C]
 *               [--depth D] [--server-threads N] [--dir DIR] [--insecure]
 *
 * --depth D pipelines D requests on each connection (HTTP/1.1 allows it;
 * yimad answers them in order).
 */
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

/* ---- the server ------------------------------------------------------------------------ */

static uint16_t free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return 0;
	close(fd);
	return ntohs(a.sin_port);
}

static pid_t start_yimad(const char *dir, uint16_t port, bool insecure, int threads)
{
	char db[600], listen[64], cert[700], key[700], ca[700], rca[700], nt[16];
	pid_t pid;

	snprintf(db, sizeof db, "%s/db", dir);
	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	snprintf(cert, sizeof cert, "%s/pki/server.crt", dir);
	snprintf(key, sizeof key, "%s/pki/server.key", dir);
	snprintf(ca, sizeof ca, "%s/pki/ca.crt", dir);
	snprintf(rca, sizeof rca, "%s/pki/regca.crt", dir);
	snprintf(nt, sizeof nt, "%d", threads);
	if ((pid = fork()) != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (insecure)
		execl(YIMA_BINARY_DIR "/yimad", "yimad", "--db", db, "--listen", listen, "--quiet",
		      "--threads", nt, "--insecure-http", (char *)NULL);
	else
		execl(YIMA_BINARY_DIR "/yimad", "yimad", "--db", db, "--listen", listen, "--quiet",
		      "--threads", nt, "--tls-cert", cert, "--tls-key", key, "--client-ca", ca, "--regulator-ca", rca,
		      (char *)NULL);
	_exit(127);
}

static bool wait_port(uint16_t port)
{
	for (int i = 0; i < 500; i++) {
		struct sockaddr_in a;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_port = htons(port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return true;
		usleep(20000);
	}
	return false;
}

/* ---- the load ------------------------------------------------------------------------- */

enum phase { P_SETTLE, P_LOOKUP, P_TILES, P_HEALTHZ, P_COUNT };
static const char *const phase_names[] = { "settle", "lookup", "tiles", "healthz" };

struct bench;

/* One keep-alive connection with one request in flight.  The client is a
 * bare bufferevent writing prepared HTTP/1.1 requests and reading answers
 * by Content-Length: evhttp's client would cost the shared CPU as much as
 * the server it measures. */
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
	uint16_t port;
	bool insecure;
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
		fprintf(stderr, "bench_yimad: connection lost (%s%s: %s)\n", (what & BEV_EVENT_EOF) ? "eof" : "error", (what & BEV_EVENT_READING) ? " reading" : " writing", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
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
	a.sin_port = htons(b->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	evutil_make_socket_nonblocking(fd);
	if (b->insecure) {
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
	uint64_t errors;
};

static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] * 1000.0;
}

static struct result run_phase(struct bench *b, enum phase ph, double seconds)
{
	struct result r;

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
	event_base_dispatch(b->base);
	qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
	r.rps = (double)b->done / seconds;
	r.p50 = pct(b->lat, b->nlat, 0.50);
	r.p99 = pct(b->lat, b->nlat, 0.99);
	r.p999 = pct(b->lat, b->nlat, 0.999);
	r.errors = b->errors;
	printf("run %d %-8s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  p999 %6.2f ms  errors %" PRIu64 "\n",
	       b->run, phase_names[ph], r.rps, r.p50, r.p99, r.p999, r.errors);
	fflush(stdout);
	return r;
}

static int cmp_res(const void *x, const void *y)
{
	double a = ((const struct result *)x)->rps, c = ((const struct result *)y)->rps;
	return a < c ? -1 : a > c;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "codes", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' }, { "conns", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' }, { "insecure", no_argument, NULL, 'i' },
		{ "depth", required_argument, NULL, 'p' },
		{ "server-threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b;
	const char *dir = "/tmp/yima-bench-yimad";
	double seconds = 5;
	int runs = 3, opt, server_threads = 2;
	struct result res[P_COUNT][16];
	char cmd[1200];

	memset(&b, 0, sizeof b);
	b.ncodes = 1000000;
	b.nconns = 64;
	b.depth = 1;
	b.rng = 0x9E3779B97F4A7C15ull;
	b.nonce = time(NULL);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': b.ncodes = strtoull(optarg, NULL, 10); break;
		case 's': seconds = atof(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'c': b.nconns = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'i': b.insecure = true; break;
		case 'p': b.depth = atoi(optarg); break;
		case 't': server_threads = atoi(optarg); break;
		default: return 2;
		}
	}
	if (runs < 1 || runs > 16 || b.nconns < 1 || b.ncodes < 1000 || seconds <= 0 ||
	    b.depth < 1 || b.depth > DEPTH_MAX)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (build_ledger(dir, b.ncodes) < 0)
		return 2;
	snprintf(cmd, sizeof cmd, "%s/scripts/certs %s/pki F0 F1 F2 F3 reg:REG1 >/dev/null 2>&1",
		 YIMA_SOURCE_DIR, dir);
	if (system(cmd) != 0)
		return 2;
	b.port = free_port();
	pid_t pid = start_yimad(dir, b.port, b.insecure, server_threads);
	if (pid < 0 || !wait_port(b.port)) {
		fprintf(stderr, "bench_yimad: yimad did not start\n");
		return 2;
	}
	for (int f = 0; f < FACILITIES; f++) {
		char who[8];
		snprintf(who, sizeof who, "F%d", f);
		b.ctx[f] = client_ctx(dir, who);
	}
	b.ctx[FACILITIES] = client_ctx(dir, "REG1");
	b.caplat = 4u << 20;
	b.lat = malloc(b.caplat * sizeof *b.lat);
	b.base = event_base_new();
	b.conns = calloc((size_t)b.nconns, sizeof *b.conns);
	if (b.lat == NULL || b.base == NULL || b.conns == NULL)
		return 2;
	/* Codes already sold by an earlier bench on this ledger: start after
	 * them, so every claim is a first sale. */
	snprintf(cmd, sizeof cmd, "%s/sold", dir);
	FILE *sold = fopen(cmd, "r");
	if (sold) {
		for (int f = 0; f < FACILITIES; f++)
			if (fscanf(sold, "%" SCNu64, &b.next_code[f]) != 1)
				b.next_code[f] = 0;
		fclose(sold);
	}
	printf("bench_yimad: %" PRIu64 " codes, %d connections x %d in flight, %s, yimad --threads %d, "
	       "%.0f s per phase, %d runs\n", b.ncodes, b.nconns, b.depth,
	       b.insecure ? "plain HTTP" : "TLS 1.3 + client certificates", server_threads, seconds, runs);
	for (b.run = 1; b.run <= runs; b.run++) {
		for (int ph = 0; ph < P_COUNT; ph++) {
			/* Fresh connections per phase: regulator ones for lookups. */
			for (int i = 0; i < b.nconns; i++) {
				struct conn *c = &b.conns[i];
				if (c->bev)
					bufferevent_free(c->bev);
				c->b = &b;
				c->fac = i % FACILITIES;
				c->bev = connect_one(&b, c, b.ctx[ph == P_LOOKUP ? FACILITIES : c->fac]);
				if (c->bev == NULL)
					return 2;
			}
			res[ph][b.run - 1] = run_phase(&b, (enum phase)ph, seconds);
		}
	}
	sold = fopen(cmd, "w");
	if (sold) {
		for (int f = 0; f < FACILITIES; f++)
			fprintf(sold, "%" PRIu64 "\n", b.next_code[f]);
		fclose(sold);
	}
	for (int ph = 0; ph < P_COUNT; ph++)
		qsort(res[ph], (size_t)runs, sizeof res[ph][0], cmp_res);
	struct result *m[P_COUNT];
	for (int ph = 0; ph < P_COUNT; ph++)
		m[ph] = &res[ph][runs / 2];
	for (int ph = 0; ph < P_COUNT; ph++)
		printf("median %-8s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  p999 %6.2f ms\n",
		       phase_names[ph], m[ph]->rps, m[ph]->p50, m[ph]->p99, m[ph]->p999);
	printf("yimad settle_per_s=%.0f settle_p99_ms=%.2f lookup_per_s=%.0f lookup_p99_ms=%.2f "
	       "tiles_per_s=%.0f tiles_p99_ms=%.2f healthz_per_s=%.0f settle_vs_healthz=%.2f "
	       "lookup_vs_healthz=%.2f tiles_vs_healthz=%.2f\n",
	       m[P_SETTLE]->rps, m[P_SETTLE]->p99, m[P_LOOKUP]->rps, m[P_LOOKUP]->p99, m[P_TILES]->rps,
	       m[P_TILES]->p99, m[P_HEALTHZ]->rps, m[P_SETTLE]->rps / m[P_HEALTHZ]->rps,
	       m[P_LOOKUP]->rps / m[P_HEALTHZ]->rps, m[P_TILES]->rps / m[P_HEALTHZ]->rps);
	for (int i = 0; i < b.nconns; i++)
		if (b.conns[i].bev)
			bufferevent_free(b.conns[i].bev);
	for (int f = 0; f <= FACILITIES; f++)
		SSL_CTX_free(b.ctx[f]);
	event_base_free(b.base);
	free(b.conns);
	free(b.lat);
	kill(pid, SIGTERM);
	int st = 0;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_yimad: yimad exited with status %d\n", st);
		return 1;
	}
	return 0;
}
