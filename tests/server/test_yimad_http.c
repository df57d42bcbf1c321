/*
 * test_yimad_http.c - yimad's HTTP layer against the real binary: what it
 * refuses itself (411, 413, 414, 431, 501, 400) is answered, logged
 * without client data and counted; deadlines that do not restart per
 * byte; keep-alive, pipelining, HTTP/1.0, Expect; one TLS record per
 * answer; both protobuf media types; /healthz on the public listener;
 * failed handshakes counted and logged; a second server on a taken
 * address refused; a connection cap that must fit the descriptor limit;
 * the metrics' HELP, TYPE and build info.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "yima.pb-c.h"
#include "yimad_harness.h"
#include "yima/util/version.h"

#define PB "application/x-protobuf"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *new_db(void)
{
	char *dir = tu_mkdtemp(), *db;
	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	free(dir);
	return db;
}

/* GET /metrics as text (malloc'd). */
static char *metrics(const yd_t *y, const char *who)
{
	hc_resp_t r;
	cr_assert_eq(hc_once(y, who, "GET", "/metrics", NULL, NULL, 0, &r), 200);
	return (char *)r.body;
}

/* The value of one sample ("name{labels}"), -1 if absent. */
static double sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; (p = strstr(p, name)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static char *read_log(const yd_t *y)
{
	FILE *fp = fopen(y->log, "r");
	char *text = NULL;
	size_t cap = 0;
	cr_assert(fp != NULL);
	if (getdelim(&text, &cap, '\0', fp) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(fp);
	return text;
}

/* One answer to raw bytes on a fresh connection (plain or TLS as who). */
static int raw_status(const yd_t *y, const char *who, const char *bytes, size_t n, hc_resp_t *r)
{
	hc_t h;
	int st = -1;
	cr_assert(hc_connect(&h, y, who));
	if (hc_send(&h, bytes, n) && hc_read(&h, r))
		st = r->status;
	hc_close(&h);
	return st;
}

static void expect_refusal(const yd_t *y, const char *bytes, int want, const char *reason)
{
	hc_resp_t r;
	int st = raw_status(y, NULL, bytes, strlen(bytes), &r);
	cr_expect_eq(st, want, "%s: status %d, want %d", reason, st, want);
	cr_expect(strstr(r.head, "Connection: close") != NULL, "%s: the connection is closed", reason);
	Yima__V1__Error *e = yima__v1__error__unpack(NULL, r.len, r.body);
	cr_expect(e != NULL && strcmp(e->reason, reason) == 0, "%s: an Error with its reason", reason);
	if (e)
		yima__v1__error__free_unpacked(e, NULL);
	hc_resp_free(&r);
}

Test(yimad_http, refusals_are_answered_logged_and_counted)
{
	static const char *const extra[] = { "--max-body", "4096", NULL };
	char *db = new_db(), *big = malloc(80000), req[90000];
	yd_t y;
	hc_resp_t r;

	yd_start(&y, db, NULL, extra);
	expect_refusal(&y, "POST /v1/settle HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "3\r\nabc\r\n0\r\n\r\n", 411, "length_required");
	expect_refusal(&y, "POST /v1/settle HTTP/1.1\r\nContent-Type: " PB "\r\n\r\n", 411,
		       "length_required");
	expect_refusal(&y, "POST /v1/settle HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
		       "not_implemented");
	expect_refusal(&y, "BREW /pot HTTP/1.1\r\n\r\n", 501, "not_implemented");
	expect_refusal(&y, "GET /healthz HTTP/1.1\r\nX-Secret-Header value\r\n\r\n", 400,
		       "bad_request");
	memset(big, 'A', 79999);
	big[79999] = '\0';
	snprintf(req, sizeof req, "GET /%.9000s HTTP/1.1\r\n\r\n", big);
	expect_refusal(&y, req, 414, "uri_too_long");
	snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nX-Secret: %s\r\n\r\n", big);
	expect_refusal(&y, req, 431, "headers_too_large");
	/* 413 comes before the body is sent: the server does not wait for it */
	expect_refusal(&y, "POST /v1/settle HTTP/1.1\r\nContent-Type: " PB
			   "\r\nContent-Length: 5000\r\n\r\n", 413, "body_too_large");
	free(big);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, &r), 200, "still serving");
	hc_resp_free(&r);

	char *m = metrics(&y, NULL);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"length_required\"}"), 2);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"not_implemented\"}"), 2);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"bad_request\"}"), 1);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"uri_too_long\"}"), 1);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"headers_too_large\"}"), 1);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"body_too_large\"}"), 1);
	free(m);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	char *log = read_log(&y);
	cr_expect(strstr(log, "yimad refused reason=length_required") != NULL, "411 logged");
	cr_expect(strstr(log, "yimad refused reason=body_too_large") != NULL, "413 logged");
	cr_expect(strstr(log, "yimad refused reason=headers_too_large") != NULL, "431 logged");
	cr_expect(strstr(log, "AAAAAAAA") == NULL && strstr(log, "Secret") == NULL &&
		  strstr(log, "BREW") == NULL && strstr(log, "pot") == NULL,
		  "no client data in the log");
	free(log);
	free(db);
}

/* A connection trickling one byte every 300 ms is closed when its
 * deadline comes, not kept open by each byte. */
static double trickle_until_closed(const yd_t *y, const char *bytes, double give_up)
{
	hc_t h;
	double t0 = now_s();
	size_t n = strlen(bytes);

	cr_assert(hc_connect(&h, y, NULL));
	for (size_t i = 0; now_s() - t0 < give_up; i = n ? (i + 1) % n : 0) {
		struct pollfd p = { h.fd, POLLIN, 0 };
		if (poll(&p, 1, 300) > 0) {
			char buf[512];
			if (read(h.fd, buf, sizeof buf) <= 0)
				break;	/* closed (after a 408, if any) */
			continue;
		}
		if (n > 0 && write(h.fd, bytes + i, 1) != 1)
			break;
	}
	hc_close(&h);
	return now_s() - t0;
}

Test(yimad_http, deadlines_do_not_restart_per_byte, .timeout = 60)
{
	static const char *const extra[] = { "--timeout", "2", "--handshake-timeout", "1", NULL };
	char *db = new_db();
	yd_t y;

	yd_start(&y, db, NULL, extra);
	double t = trickle_until_closed(&y, "GET /healthz HTTP/1.1\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 10);
	cr_expect(t >= 1.8 && t < 3.5, "a trickled request is cut at its 2 s deadline (%.1f s)", t);
	/* an idle keep-alive connection is closed after --timeout too */
	hc_t h;
	hc_resp_t r;
	char c;
	cr_assert(hc_connect(&h, &y, NULL));
	cr_assert(hc_request(&h, "GET", "/healthz", NULL, NULL, 0, &r));
	hc_resp_free(&r);
	double t0 = now_s();
	cr_expect_eq(read(h.fd, &c, 1), 0, "closed");
	t = now_s() - t0;
	hc_close(&h);
	cr_expect(t >= 1.8 && t < 3.5, "an idle connection is closed after 2 s (%.1f s)", t);
	char *m = metrics(&y, NULL);
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"request_timeout\"}"), 1);
	free(m);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);

	/* the handshake's own deadline, over TLS */
	yd_start(&y, db, yd_certs(), extra);
	yd_t plain = y;
	plain.certs[0] = '\0';		/* raw bytes of a ClientHello, slowly */
	t = trickle_until_closed(&plain, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 10);
	cr_expect(t >= 0.8 && t < 2.5, "a trickled handshake is cut at 1 s (%.1f s)", t);
	m = metrics(&y, "REG1");
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"handshake_timeout\"}"), 1);
	free(m);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	char *log = read_log(&y);
	cr_expect(strstr(log, "reason=request_timeout") != NULL, "the timeout is logged");
	cr_expect(strstr(log, "reason=handshake_timeout") != NULL, "the handshake timeout is logged");
	free(log);
	free(db);
}

Test(yimad_http, keep_alive_pipelining_http10_and_expect)
{
	char *db = new_db();
	yd_t y;
	hc_t h;
	hc_resp_t r;

	yd_start(&y, db, NULL, NULL);
	cr_assert(hc_connect(&h, &y, NULL));
	const char three[] = "GET /healthz HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n"
			     "GET /healthz HTTP/1.1\r\n\r\n";
	cr_assert(hc_send(&h, three, sizeof three - 1));
	int want[] = { 200, 404, 200 };
	for (int i = 0; i < 3; i++) {
		cr_assert(hc_read(&h, &r), "answer %d", i);
		cr_expect_eq(r.status, want[i], "pipelined answers in order");
		cr_expect(strstr(r.head, "\r\nDate: ") != NULL, "a Date header");
		cr_expect(strstr(r.head, "Connection: close") == NULL, "kept alive");
		hc_resp_free(&r);
	}
	/* Expect: 100-continue gets its interim answer before the body */
	const char ask[] = "POST /v1/settle HTTP/1.1\r\nContent-Type: " PB
			   "\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
	cr_assert(hc_send(&h, ask, sizeof ask - 1));
	cr_assert(hc_read(&h, &r));
	cr_expect_eq(r.status, 100);
	hc_resp_free(&r);
	cr_assert(hc_send(&h, "\x0a\xff\xff", 3));
	cr_assert(hc_read(&h, &r));
	cr_expect_eq(r.status, 400, "the body was read: it does not decode");
	hc_resp_free(&r);
	/* HEAD: the length, no body: the GET's answer follows the headers */
	char both[512];
	size_t got = 0;
	const char headget[] = "HEAD /healthz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n";
	cr_assert(hc_send(&h, headget, sizeof headget - 1));
	while (got < sizeof both - 1) {
		struct pollfd pf = { h.fd, POLLIN, 0 };
		ssize_t k;
		if (poll(&pf, 1, 500) <= 0 || (k = read(h.fd, both + got, sizeof both - 1 - got)) <= 0)
			break;
		got += (size_t)k;
	}
	both[got] = '\0';
	char *second = strstr(both, "\r\n\r\nHTTP/1.1 200 OK\r\n");
	cr_expect(strncmp(both, "HTTP/1.1 200 OK\r\n", 17) == 0 && second != NULL,
		  "HEAD's headers, then at once the GET's answer: %s", both);
	cr_expect(got > 3 && strcmp(both + got - 7, "\r\n\r\nok\n") == 0, "one body, the GET's");
	hc_close(&h);

	/* HTTP/1.0 without keep-alive: answered, then closed */
	cr_assert(hc_connect(&h, &y, NULL));
	cr_assert(hc_send(&h, "GET /healthz HTTP/1.0\r\n\r\n", 25));
	cr_assert(hc_read(&h, &r));
	cr_expect_eq(r.status, 200);
	cr_expect(strstr(r.head, "Connection: close") != NULL);
	hc_resp_free(&r);
	char c;
	cr_expect_eq(read(h.fd, &c, 1), 0, "closed after an HTTP/1.0 answer");
	hc_close(&h);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	free(db);
}

/* Count whole TLS records in raw bytes; false if they do not parse. */
static int tls_records(const uint8_t *p, size_t n, size_t *total)
{
	int records = 0;
	size_t at = 0;
	while (at + 5 <= n) {
		size_t len = ((size_t)p[at + 3] << 8) | p[at + 4];
		if (p[at] != 0x17 || at + 5 + len > n)
			return -1;
		at += 5 + len;
		records++;
	}
	*total = at;
	return at == n ? records : -1;
}

Test(yimad_http, one_tls_record_per_answer_and_both_protobuf_types)
{
	char *db = new_db();
	yd_t y;
	hc_t h;
	hc_resp_t r;
	uint8_t raw[65536];
	size_t got = 0, total = 0;

	yd_start(&y, db, yd_certs(), NULL);
	cr_assert(hc_connect(&h, &y, "P0001"));
	/* the first answer through OpenSSL (it also takes the session tickets) */
	cr_assert(hc_request(&h, "GET", "/healthz", NULL, NULL, 0, &r));
	hc_resp_free(&r);
	const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	cr_assert_eq(SSL_write(h.ssl, req, sizeof req - 1), (int)sizeof req - 1);
	/* the answer's ciphertext, as it comes off the socket */
	double t0 = now_s();
	while (now_s() - t0 < 2) {
		struct pollfd p = { h.fd, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0) {
			if (got > 0)
				break;
			continue;
		}
		ssize_t k = read(h.fd, raw + got, sizeof raw - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	cr_expect_eq(tls_records(raw, got, &total), 1,
		     "one application-data record for a whole answer (%zu bytes)", got);
	hc_close(&h);

	/* application/protobuf, the registered type, is accepted like x-protobuf */
	Yima__V1__Claim cl = YIMA__V1__CLAIM__INIT;
	Yima__V1__ClaimItem it = YIMA__V1__CLAIM_ITEM__INIT, *itp = &it;
	Yima__V1__ClaimCode cc = YIMA__V1__CLAIM_CODE__INIT, *ccp = &cc;
	uint8_t body[256];
	cc.code = "81000010000000010001";
	it.drug = "DRUGA";
	it.n_codes = 1;
	it.codes = &ccp;
	cl.facility = "P0001";
	cl.settlement = "S1";
	cl.time = "2026-03-01T10:00:00+08:00";
	cl.patient = "PT1";
	cl.dry_run = true;
	cl.n_items = 1;
	cl.items = &itp;
	size_t n = yima__v1__claim__pack(&cl, body);
	cr_expect_eq(hc_once(&y, "P0001", "POST", "/v1/settle", "application/protobuf", body, n, NULL), 200);
	cr_expect_eq(hc_once(&y, "P0001", "POST", "/v1/settle", "application/x-protobuf; proto=yima.v1.Claim",
			     body, n, NULL), 200);
	cr_expect_eq(hc_once(&y, "P0001", "POST", "/v1/settle", "application/json", body, n, NULL), 415);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	free(db);
}

Test(yimad_http, healthz_on_the_public_listener_and_failed_handshakes)
{
	char *db = new_db(), pub[64];
	uint16_t port = yd_free_port();
	yd_t y, p;

	snprintf(pub, sizeof pub, "127.0.0.1:%u", port);
	const char *extra[] = { "--public-listen", pub, NULL };
	yd_start(&y, db, yd_certs(), extra);
	p = y;
	p.port = port;
	cr_expect_eq(hc_once(&p, NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200,
		     "/healthz on the public listener, no client certificate");
	cr_expect_eq(hc_once(&p, NULL, "GET", "/metrics", NULL, NULL, 0, NULL), 404,
		     "but not the metrics");
	cr_expect_eq(hc_once(&p, NULL, "GET", "/v1/codes/81000010000000010001", NULL, NULL, 0, NULL), 403,
		     "nor the full history");

	/* no certificate, and one from a CA yimad does not trust */
	cr_expect_lt(hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 0);
	cr_expect_lt(hc_once(&y, "rogue-P0001", "GET", "/healthz", NULL, NULL, 0, NULL), 0);
	/* a port probe sends nothing: not a failed handshake */
	hc_t h;
	yd_t plain = y;
	plain.certs[0] = '\0';
	cr_assert(hc_connect(&h, &plain, NULL));
	hc_close(&h);
	usleep(200000);
	char *m = metrics(&y, "REG1");
	cr_expect_eq(sample(m, "yimad_http_refused_total{reason=\"handshake_failed\"}"), 2);
	free(m);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	char *log = read_log(&y);
	cr_expect(strstr(log, "reason=handshake_failed detail=\"") != NULL, "failed handshakes logged");
	free(log);
	free(db);
}

Test(yimad_http, a_second_server_on_a_taken_address_is_refused, .timeout = 60)
{
	char *db = new_db(), *db2 = new_db(), cmd[1400], *out = NULL;
	yd_t y;
	size_t cap = 0;

	yd_start(&y, db, NULL, NULL);
	/* a server that does not refuse would run on: timeout ends it (124) */
	snprintf(cmd, sizeof cmd, "timeout 10 %s/yimad --db %s --listen 127.0.0.1:%u --insecure-http 2>&1",
		 YIMA_BINARY_DIR, db2, y.port);
	FILE *fp = popen(cmd, "r");
	cr_assert(fp != NULL);
	if (getdelim(&out, &cap, '\0', fp) < 0)
		out = strdup("");
	int st = pclose(fp);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "refused, exit 2 (status %d)", st);
	cr_expect(strstr(out, "another yimad") != NULL || strstr(out, "in use") != NULL,
		  "and says why: %s", out);
	free(out);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200, "the first serves on");
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);

	/* any other process listening there */
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(y.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0);
	snprintf(cmd, sizeof cmd, "timeout 10 %s/yimad --db %s --listen 127.0.0.1:%u --insecure-http 2>/dev/null",
		 YIMA_BINARY_DIR, db2, y.port);
	st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2,
		  "refused beside another process, even one with SO_REUSEPORT (status %d)", st);
	close(fd);
	free(db);
	free(db2);
}

/* The family of a sample: its name, or a histogram's base name. */
static void family_of(const char *text, const char *line, char *name, size_t cap)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	size_t n = strcspn(line, "{ ");
	char type[200];

	cr_assert(n < cap);
	memcpy(name, line, n);
	name[n] = '\0';
	for (size_t i = 0; i < 3; i++) {
		size_t k = strlen(suffixes[i]);
		if (n <= k || strcmp(name + n - k, suffixes[i]) != 0)
			continue;
		snprintf(type, sizeof type, "# TYPE %.*s histogram\n", (int)(n - k), name);
		if (strstr(text, type) != NULL)
			name[n - k] = '\0';
	}
}

/* Every sample's family has HELP and TYPE; the build's version is there.
 * (tests/integration/test_metrics.sh runs promtool on the same text.) */
Test(yimad_http, metrics_have_help_type_and_build_info)
{
	char *db = new_db(), want[64];
	yd_t y;
	int samples = 0;

	yd_start(&y, db, NULL, NULL);
	char *m = metrics(&y, NULL), *copy = strdup(m);
	snprintf(want, sizeof want, "yimad_build_info{version=\"%s\"}", YIMA_VERSION);
	cr_expect_eq(sample(m, want), 1, "build info: %s", want);
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128], help[160], type[160];
		if (l[0] == '#')
			continue;
		family_of(m, l, name, sizeof name);
		snprintf(help, sizeof help, "# HELP %s ", name);
		snprintf(type, sizeof type, "# TYPE %s ", name);
		cr_expect(strstr(m, help) != NULL, "%s has HELP", name);
		cr_expect(strstr(m, type) != NULL, "%s has TYPE", name);
		samples++;
	}
	cr_expect_gt(samples, 50);
	free(copy);
	free(m);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	free(db);
}

/* A cap the descriptor limit cannot hold is refused at start, not met by
 * failing accepts later; one it can hold is taken. */
Test(yimad_http, max_conns_must_fit_the_descriptor_limit)
{
	char *db = new_db(), cmd[1200];

	snprintf(cmd, sizeof cmd, "ulimit -n 256 && %s/yimad --db %s --listen 127.0.0.1:0 "
		 "--insecure-http --max-conns 5000 2>/dev/null", YIMA_BINARY_DIR, db);
	int st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "--max-conns 5000 with 256 descriptors: exit 2");
	static const char *const extra[] = { "--max-conns", "100", NULL };
	yd_t y;
	yd_start_nofile(&y, db, NULL, extra, 256);
	cr_expect_eq(hc_once(&y, NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
	cr_expect_eq(yd_stop(&y, SIGTERM), 0);
	free(db);
}
