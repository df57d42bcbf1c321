/*
 * yimad_harness.c - see yimad_harness.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "yimad_harness.h"
#include "yima/ledger/ledger.h"

const char *yd_certs(void)
{
	static char dir[512];
	char cmd[2400];

	snprintf(dir, sizeof dir, "%s/test-certs", YIMA_BINARY_DIR);
	/* Several suites may ask at once: one makes them, under a lock. */
	snprintf(cmd, sizeof cmd,
		 "flock %s.lock %s/scripts/certs %s P0001 P0002 reg:REG1 rogue:P0001 "
		 "'subj:twocn:/CN=P0001/CN=P0002' 'subj:twocn-mv:/CN=P0001+CN=P0002' "
		 "'subj:nocn:/O=yima test/OU=P0001' 'subj:badcn:/CN=p-0001' "
		 "'subj:longcn:/CN=P00000000000000000001' "
		 "'regsubj:regname:/CN=Provincial regulator, office 1' "
		 "'regsubj:reg2cn:/CN=REG1/CN=REG2' PLATFORM-AH >/dev/null 2>&1",
		 dir, YIMA_SOURCE_DIR, dir);
	cr_assert_eq(system(cmd), 0, "scripts/certs failed");
	return dir;
}

uint16_t yd_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(uint16_t port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* yimad serves a ledger and never makes one (as `yima init` does): make
 * it here when the test has not. */
static void yd_ledger_make(const char *db)
{
	char why[512];
	ledger_t *lg;

	cr_assert_eq(ledger_open(db, LEDGER_CREATE, &lg, why, sizeof why), 0, "%s", why);
	ledger_close(lg);
}

void yd_start(yd_t *y, const char *db, const char *certs, const char *const *extra)
{
	yd_start_nofile(y, db, certs, extra, 0);
}

void yd_start_nofile(yd_t *y, const char *db, const char *certs, const char *const *extra,
		     unsigned nofile)
{
	char listen[64], a[5][600];
	const char *argv[40];
	int n = 0;

	memset(y, 0, sizeof *y);
	yd_ledger_make(db);
	snprintf(y->db, sizeof y->db, "%s", db);
	snprintf(y->certs, sizeof y->certs, "%s", certs ? certs : "");
	snprintf(y->log, sizeof y->log, "%s.yimad.log", db);
	y->port = yd_free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%u", y->port);
	argv[n++] = YIMA_BINARY_DIR "/yimad";
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--listen";
	argv[n++] = listen;
	if (certs == NULL) {
		argv[n++] = "--insecure-http";
	} else {
		snprintf(a[0], sizeof a[0], "%s/server.crt", certs);
		snprintf(a[1], sizeof a[1], "%s/server.key", certs);
		snprintf(a[2], sizeof a[2], "%s/ca.crt", certs);
		snprintf(a[3], sizeof a[3], "%s/regca.crt", certs);
		argv[n++] = "--tls-cert";
		argv[n++] = a[0];
		argv[n++] = "--tls-key";
		argv[n++] = a[1];
		argv[n++] = "--client-ca";
		argv[n++] = a[2];
		argv[n++] = "--regulator-ca";
		argv[n++] = a[3];
	}
	for (int i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	y->pid = fork();
	cr_assert(y->pid >= 0);
	if (y->pid == 0) {
		/* A failed assertion ends the test process: the server too. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(y->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		struct rlimit rl = { nofile, nofile };
		if (nofile > 0 && setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int st;
		if (port_open(y->port))
			return;
		if (waitpid(y->pid, &st, WNOHANG) == y->pid)
			cr_assert_fail("yimad exited at start (status %d), see %s", st, y->log);
		usleep(10000);
	}
	cr_assert_fail("yimad did not start listening on %u", y->port);
}

int yd_stop(yd_t *y, int sig)
{
	int st = 0;

	if (y->pid <= 0)
		return -1;
	kill(y->pid, sig);
	waitpid(y->pid, &st, 0);
	y->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- client ---------------------------------------------------------------------- */

bool hc_connect(hc_t *h, const yd_t *y, const char *who)
{
	struct sockaddr_in a;
	char path[700];
	int one = 1;

	/* A server that closes on us must fail the request, not the test. */
	signal(SIGPIPE, SIG_IGN);
	memset(h, 0, sizeof *h);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(y->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((h->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return false;
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(h->fd, (struct sockaddr *)&a, sizeof a) != 0)
		goto fail;
	if (y->certs[0] == '\0')
		return true;
	if ((h->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	snprintf(path, sizeof path, "%s/ca.crt", y->certs);
	if (SSL_CTX_load_verify_locations(h->ctx, path, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER, NULL);
	if (who != NULL) {
		snprintf(path, sizeof path, "%s/%s.crt", y->certs, who);
		if (SSL_CTX_use_certificate_file(h->ctx, path, SSL_FILETYPE_PEM) != 1)
			goto fail;
		snprintf(path, sizeof path, "%s/%s.key", y->certs, who);
		if (SSL_CTX_use_PrivateKey_file(h->ctx, path, SSL_FILETYPE_PEM) != 1)
			goto fail;
	}
	if ((h->ssl = SSL_new(h->ctx)) == NULL || SSL_set_fd(h->ssl, h->fd) != 1 ||
	    SSL_connect(h->ssl) != 1)
		goto fail;
	return true;
fail:
	hc_close(h);
	return false;
}

void hc_close(hc_t *h)
{
	if (h->ssl) {
		SSL_shutdown(h->ssl);
		SSL_free(h->ssl);
	}
	SSL_CTX_free(h->ctx);
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	memset(h, 0, sizeof *h);
	h->fd = -1;
}

static bool send_all(hc_t *h, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = h->ssl ? SSL_write(h->ssl, c, (int)(n > (1u << 30) ? 1u << 30 : n))
				   : write(h->fd, c, n);
		if (w <= 0) {
			if (!h->ssl && w < 0 && errno == EINTR)
				continue;
			return false;
		}
		c += w;
		n -= (size_t)w;
	}
	return true;
}

static ssize_t recv_some(hc_t *h, void *p, size_t n)
{
	return h->ssl ? SSL_read(h->ssl, p, (int)n) : read(h->fd, p, n);
}

/* The length of the complete answer at the head of buf (headers, then
 * Content-Length bytes), 0 while it is incomplete. */
static size_t answer_len(const char *buf, size_t len)
{
	const char *eoh = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	size_t clen;

	if (eoh == NULL)
		return 0;
	cl = memmem(buf, (size_t)(eoh - buf) + 2, "\r\nContent-Length:", 17);
	clen = cl ? strtoul(cl + 17, NULL, 10) : 0;
	return (size_t)(eoh + 4 - buf) + clen <= len ? (size_t)(eoh + 4 - buf) + clen : 0;
}

/* Read more into *buf; false on end of stream or error. */
static bool read_more(hc_t *h, char **buf, size_t *len, size_t *cap)
{
	if (*cap - *len < 65536) {
		*cap = *cap ? *cap * 2 : 131072;
		*buf = realloc(*buf, *cap + 1);
		cr_assert(*buf != NULL);
	}
	ssize_t got = recv_some(h, *buf + *len, *cap - *len);
	if (got <= 0)
		return false;
	*len += (size_t)got;
	(*buf)[*len] = '\0';
	return true;
}

bool hc_send(hc_t *h, const void *p, size_t n)
{
	return send_all(h, p, n);
}

bool hc_read(hc_t *h, hc_resp_t *r)
{
	size_t alen, hlen;

	memset(r, 0, sizeof *r);
	while ((alen = h->len ? answer_len(h->buf, h->len) : 0) == 0)
		if (!read_more(h, &h->buf, &h->len, &h->cap))
			return false;
	hlen = (size_t)((char *)memmem(h->buf, h->len, "\r\n\r\n", 4) + 4 - h->buf);
	r->status = atoi(h->buf + 9);
	snprintf(r->head, sizeof r->head, "%.*s", (int)hlen, h->buf);
	r->len = alen - hlen;
	r->body = malloc(r->len + 1);
	cr_assert(r->body != NULL);
	memcpy(r->body, h->buf + hlen, r->len);
	r->body[r->len] = 0;
	memmove(h->buf, h->buf + alen, h->len - alen);
	h->len -= alen;
	return true;
}

bool hc_request(hc_t *h, const char *method, const char *path, const char *ctype,
		const void *body, size_t n, hc_resp_t *r)
{
	char head[1024];
	int hl;

	memset(r, 0, sizeof *r);
	hl = snprintf(head, sizeof head,
		      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sContent-Length: %zu\r\n\r\n", method,
		      path, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", n);
	if (!send_all(h, head, (size_t)hl) || (n > 0 && !send_all(h, body, n)))
		return false;
	return hc_read(h, r);
}

void hc_resp_free(hc_resp_t *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

int hc_once(const yd_t *y, const char *who, const char *method, const char *path,
	    const char *ctype, const void *body, size_t n, hc_resp_t *r)
{
	hc_t h;
	hc_resp_t tmp;
	int status = -1;

	if (!hc_connect(&h, y, who))
		return -1;
	if (hc_request(&h, method, path, ctype, body, n, r ? r : &tmp))
		status = (r ? r : &tmp)->status;
	if (r == NULL)
		hc_resp_free(&tmp);
	hc_close(&h);
	return status;
}

int hc_pipeline(hc_t *h, const void *bytes, size_t n, int want)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, at = 0, alen;
	int answers = 0, ok = 0;

	if (!send_all(h, bytes, n))
		return -1;
	while (answers < want && read_more(h, &buf, &len, &cap)) {
		while (answers < want && (alen = answer_len(buf + at, len - at)) > 0) {
			answers++;
			ok += strncmp(buf + at, "HTTP/1.1 200", 12) == 0;
			at += alen;
		}
	}
	free(buf);
	return ok;
}
