/*
 * test_client.c - the HTTP client of yima upload/settle (verifier/client.c)
 * against its contract in yima/client.h: which URLs it takes, and how it
 * behaves with a server that keeps connections, closes them, refuses,
 * answers an error, says nothing, or breaks off an answer.  The server
 * here is a few lines of plain sockets in a thread, so each behaviour is
 * exact; the real yimad is exercised by tests/integration/test_upload.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "yima.pb-c.h"
#include "yima/client/client.h"
#include "yima/util/error.h"

/* --- URLs ------------------------------------------------------------------ */

struct url_case {
	const char *url;
	const char *cert, *key;
	int rc;
	const char *why;	/* substring of the message, for failures */
};

static const struct url_case url_cases[] = {
	{ "https://yimad.example:8443", NULL, NULL, 0, NULL },
	{ "https://127.0.0.1:8443/", NULL, NULL, 0, NULL },
	{ "https://yimad.example", NULL, NULL, 0, NULL },	/* port 443 */
	{ "http://127.0.0.1:8080", NULL, NULL, 0, NULL },
	{ "http://127.9.9.9:8080", NULL, NULL, 0, NULL },	/* all of 127/8 */
	{ "http://localhost:8080", NULL, NULL, 0, NULL },
	{ "http://[::1]:8080", NULL, NULL, 0, NULL },
	{ "HTTPS://yimad.example:1", NULL, NULL, 0, NULL },
	{ "http://10.1.2.3:8080", NULL, NULL, YIMA_EINVAL, "http:// only to a loopback address" },
	{ "http://yimad.example:8080", NULL, NULL, YIMA_EINVAL, "loopback" },
	{ "http://[::2]:8080", NULL, NULL, YIMA_EINVAL, "loopback" },
	{ "ftp://yimad.example:21", NULL, NULL, YIMA_EINVAL, "not http:// or https://" },
	{ "yimad.example:8443", NULL, NULL, YIMA_EINVAL, "" },
	{ "https://yimad.example:8443/v1", NULL, NULL, YIMA_EINVAL, "scheme://host:port and nothing else" },
	{ "https://me@yimad.example:8443", NULL, NULL, YIMA_EINVAL, "nothing else" },
	{ "https://yimad.example:8443?x=1", NULL, NULL, YIMA_EINVAL, "nothing else" },
	{ "https://yimad.example:0", NULL, NULL, YIMA_EINVAL, "bad port" },
	{ "https://yimad.example:70000", NULL, NULL, YIMA_EINVAL, "" },
	{ "https://:8443", NULL, NULL, YIMA_EINVAL, "" },
	{ "https://yimad.example:8443", "c.pem", NULL, YIMA_EINVAL, "--cert and --key go together" },
	{ "http://127.0.0.1:8080", "c.pem", "k.pem", YIMA_EINVAL, "need an https:// server" },
	{ "https://yimad.example:8443", "/nonexistent/c.pem", "/nonexistent/k.pem", YIMA_ECRYPTO, "--cert /nonexistent/c.pem" },
};

#define NURL (sizeof url_cases / sizeof url_cases[0])

ParameterizedTestParameters(client, url)
{
	/* Criterion re-executes the test binary: indexes, not pointers */
	static size_t idx[NURL];
	for (size_t i = 0; i < NURL; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NURL);
}

ParameterizedTest(size_t *ix, client, url)
{
	const struct url_case *tc = &url_cases[*ix];
	client_opts_t o = { .url = tc->url, .cert = tc->cert, .key = tc->key };
	client_t *cl = (client_t *)1;
	char why[512] = "";

	int rc = client_new(&o, &cl, why, sizeof why);
	cr_assert_eq(rc, tc->rc, "%s: %d %s", tc->url, rc, why);
	if (rc == 0) {
		client_free(cl);
	} else {
		cr_assert_null(cl);
		cr_assert(strstr(why, tc->why) != NULL, "%s: \"%s\" lacks \"%s\"", tc->url, why, tc->why);
	}
}

Test(client, retryable_statuses)
{
	/* docs/protocol.md: 408/429/5xx are retryable, other 4xx final */
	cr_assert(client_status_retryable(408));
	cr_assert(client_status_retryable(429));
	cr_assert(client_status_retryable(500));
	cr_assert(client_status_retryable(503));
	cr_assert(!client_status_retryable(200));
	cr_assert(!client_status_retryable(400));
	cr_assert(!client_status_retryable(403));
	cr_assert(!client_status_retryable(409));
	cr_assert(!client_status_retryable(413));
}

/* --- a scripted server ------------------------------------------------------ */

enum fake_mode {
	FAKE_KEEPALIVE,		/* answer every request, keep the connection */
	FAKE_CLOSE_AFTER_ONE,	/* answer one request per connection, then close */
	FAKE_ERROR_503,		/* answer 503 with an Error */
	FAKE_SILENT,		/* read the request, never answer */
	FAKE_SHORT,		/* promise 100 bytes, send 10, close */
};

struct fake {
	enum fake_mode mode;
	int lfd;
	uint16_t port;
	int conns;		/* connections to serve before the thread ends */
	int accepts, requests;
	char head[2048];	/* the last request's header block */
	pthread_t th;
};

/* Read one request (headers and Content-Length body); false at EOF. */
static bool read_request(struct fake *f, int fd, size_t *body_len)
{
	char buf[65536];
	size_t len = 0;
	char *end;

	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	size_t hlen = (size_t)(end - buf) + 4;
	snprintf(f->head, sizeof f->head, "%.*s", (int)hlen, buf);
	const char *cl = strcasestr(f->head, "Content-Length:");
	size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
	while (len - hlen < want) {
		ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
	*body_len = want;
	return true;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		c += k;
		n -= (size_t)k;
	}
}

static void answer(struct fake *f, int fd, size_t body_len)
{
	char out[512];
	int n;

	switch (f->mode) {
	case FAKE_KEEPALIVE:
	case FAKE_CLOSE_AFTER_ONE: {
		char body[64];
		int bn = snprintf(body, sizeof body, "got %zu", body_len);
		n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
			     "Content-Length: %d\r\n\r\n%s", bn, body);
		send_all(fd, out, (size_t)n);
		break;
	}
	case FAKE_ERROR_503: {
		Yima__V1__Error e = YIMA__V1__ERROR__INIT;
		uint8_t pb[128];
		e.status = 503;
		e.reason = "shutting_down";
		e.message = "the server is stopping";
		size_t pn = yima__v1__error__pack(&e, pb);
		n = snprintf(out, sizeof out, "HTTP/1.1 503 Service Unavailable\r\n"
			     "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n", pn);
		send_all(fd, out, (size_t)n);
		send_all(fd, pb, pn);
		break;
	}
	case FAKE_SILENT:
		break;
	case FAKE_SHORT:
		n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
		send_all(fd, out, (size_t)n);
		break;
	}
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	size_t body_len;

	for (int c = 0; c < f->conns; c++) {
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		__atomic_add_fetch(&f->accepts, 1, __ATOMIC_SEQ_CST);
		while (read_request(f, fd, &body_len)) {
			__atomic_add_fetch(&f->requests, 1, __ATOMIC_SEQ_CST);
			answer(f, fd, body_len);
			if (f->mode == FAKE_CLOSE_AFTER_ONE || f->mode == FAKE_SHORT)
				break;
		}
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode, int conns)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;

	memset(f, 0, sizeof *f);
	f->mode = mode;
	f->conns = conns;
	cr_assert((f->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(f->lfd, 8), 0);
	cr_assert_eq(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
	f->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&f->th, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);	/* ends a blocked accept() */
	pthread_join(f->th, NULL);
	close(f->lfd);
}

static client_t *client_to(uint16_t port, unsigned timeout)
{
	char url[64], why[512];
	client_t *cl;
	snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
	client_opts_t o = { .url = url, .timeout = timeout };
	signal(SIGPIPE, SIG_IGN);	/* the client's contract */
	cr_assert_eq(client_new(&o, &cl, why, sizeof why), 0, "%s", why);
	return cl;
}

Test(client, keep_alive_reuses_the_connection)
{
	struct fake f;
	client_reply_t rep;
	char why[512];

	fake_start(&f, FAKE_KEEPALIVE, 1);
	client_t *cl = client_to(f.port, 5);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(client_request(cl, "POST", "/v1/events", "abcde", 5, &rep, why, sizeof why), 0,
			     "%s", why);
		cr_assert_eq(rep.status, 200);
		cr_assert(rep.protobuf);
		cr_assert_eq(rep.len, 5);
		cr_assert_str_eq((char *)rep.body, "got 5");
		client_reply_deinit(&rep);
	}
	cr_assert(strstr(f.head, "POST /v1/events HTTP/1.1\r\n") == f.head, "%s", f.head);
	cr_assert(strcasestr(f.head, "\r\nContent-Type: application/x-protobuf\r\n") != NULL, "%s", f.head);
	char host[64];
	snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%u\r\n", f.port);
	cr_assert(strstr(f.head, host) != NULL, "%s", f.head);
	client_free(cl);
	fake_stop(&f);
	cr_assert_eq(f.accepts, 1, "one connection for three requests");
	cr_assert_eq(f.requests, 3);
}

Test(client, reconnects_after_the_server_closed)
{
	struct fake f;
	client_reply_t rep;
	char why[512];

	fake_start(&f, FAKE_CLOSE_AFTER_ONE, 3);
	client_t *cl = client_to(f.port, 5);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(client_request(cl, "GET", "/healthz", NULL, 0, &rep, why, sizeof why), 0,
			     "request %d: %s", i, why);
		cr_assert_eq(rep.status, 200);
		cr_assert_str_eq((char *)rep.body, "got 0");
		client_reply_deinit(&rep);
		if (i == 1)
			usleep(100 * 1000);	/* the close arrives while idle */
	}
	client_free(cl);
	fake_stop(&f);
	cr_assert_eq(f.accepts, 3);
	cr_assert_eq(f.requests, 3, "no request sent twice to the server");
}

Test(client, refused_is_retryable_eio)
{
	struct fake f;
	client_reply_t rep;
	char why[512];

	fake_start(&f, FAKE_KEEPALIVE, 0);	/* learn a free port ... */
	uint16_t port = f.port;
	fake_stop(&f);				/* ... and close it */
	client_t *cl = client_to(port, 5);
	cr_assert_eq(client_request(cl, "POST", "/v1/events", "x", 1, &rep, why, sizeof why), YIMA_EIO);
	cr_assert(strstr(why, "refused") != NULL, "%s", why);
	cr_assert_null(rep.body);
	client_free(cl);
}

Test(client, error_answer_is_a_reply)
{
	struct fake f;
	client_reply_t rep;
	char why[512], msg[256];

	fake_start(&f, FAKE_ERROR_503, 1);
	client_t *cl = client_to(f.port, 5);
	cr_assert_eq(client_request(cl, "POST", "/v1/settle", "x", 1, &rep, why, sizeof why), 0, "%s", why);
	cr_assert_eq(rep.status, 503);
	cr_assert(client_status_retryable(rep.status));
	client_reply_error(&rep, msg, sizeof msg);
	cr_assert_str_eq(msg, "503 shutting_down: the server is stopping");
	client_reply_deinit(&rep);
	client_free(cl);
	fake_stop(&f);

	/* a text answer (not an Error) is shown by its first line */
	client_reply_t text = { .status = 404, .body = (uint8_t *)"no such\npage", .len = 12 };
	client_reply_error(&text, msg, sizeof msg);
	cr_assert_str_eq(msg, "404: no such");
}

Test(client, silent_server_times_out)
{
	struct fake f;
	client_reply_t rep;
	char why[512];

	fake_start(&f, FAKE_SILENT, 1);
	client_t *cl = client_to(f.port, 1);
	cr_assert_eq(client_request(cl, "POST", "/v1/events", "x", 1, &rep, why, sizeof why), YIMA_EIO);
	cr_assert(strstr(why, "timed out") != NULL, "%s", why);
	client_free(cl);
	fake_stop(&f);
}

Test(client, broken_answer_is_eio)
{
	struct fake f;
	client_reply_t rep;
	char why[512];

	fake_start(&f, FAKE_SHORT, 1);
	client_t *cl = client_to(f.port, 5);
	cr_assert_eq(client_request(cl, "POST", "/v1/events", "x", 1, &rep, why, sizeof why), YIMA_EIO,
		     "a cut answer is no answer: %s", why);
	client_free(cl);
	fake_stop(&f);
}

Test(client, bad_method)
{
	client_reply_t rep;
	char why[512];
	client_t *cl = client_to(9, 1);
	cr_assert_eq(client_request(cl, "DELETE", "/", NULL, 0, &rep, why, sizeof why), YIMA_EINVAL);
	client_free(cl);
}
