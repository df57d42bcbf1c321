/*
 * yimad_harness.h - start the real yimad on loopback and talk HTTP/1.1 to
 * it (plain or TLS with a client certificate), for the integration suites.
 *
 * The client is deliberately small and blocking, and writes exactly the
 * bytes it is given, so tests can send what no well-behaved client would
 * (wrong content types, garbage, oversized bodies).
 */
#ifndef YIMA_TEST_YIMAD_HARNESS_H
#define YIMA_TEST_YIMAD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

typedef struct yd {
	pid_t pid;
	uint16_t port;
	char db[512];
	char certs[512];	/* "" = --insecure-http */
	char log[600];
} yd_t;

/* Test PKI (scripts/certs) in a directory shared by the suite's tests:
 * facilities P0001 P0002, regulator REG1, a rogue P0001; and certificates
 * with odd subjects from the facility CA: twocn (CN=P0001, CN=P0002),
 * twocn-mv (CN=P0001+CN=P0002, one RDN), nocn, badcn (CN=p-0001), longcn
 * (21 characters); from the regulator CA:
 * regname (CN=Provincial regulator, office 1), reg2cn (CN=REG1, CN=REG2). */
const char *yd_certs(void);

/* Start yimad on db (created if missing), TLS when certs != NULL.  extra:
 * more arguments, NULL-terminated list, may be NULL.  Waits until it
 * accepts connections. */
void yd_start(yd_t *y, const char *db, const char *certs, const char *const *extra);
/* The same with its descriptor limit (soft and hard) set to nofile. */
void yd_start_nofile(yd_t *y, const char *db, const char *certs, const char *const *extra,
		     unsigned nofile);
/* A free loopback port (for --public-listen). */
uint16_t yd_free_port(void);
/* Send sig and wait; returns the exit status (or 128+signal). */
int yd_stop(yd_t *y, int sig);

typedef struct hc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *buf;		/* received, not yet returned by hc_read() */
	size_t len, cap;
} hc_t;

/* Connect to the server; who = client certificate name in certs (NULL:
 * none), certs NULL = plain HTTP.  Returns false if the connection or
 * the TLS handshake failed. */
bool hc_connect(hc_t *h, const yd_t *y, const char *who);
void hc_close(hc_t *h);

typedef struct hc_resp {
	int status;
	char head[2048];	/* status line and headers, NUL-terminated */
	uint8_t *body;
	size_t len;
} hc_resp_t;

/* One request on the connection; returns false on a transport failure. */
bool hc_request(hc_t *h, const char *method, const char *path, const char *ctype,
		const void *body, size_t n, hc_resp_t *r);
void hc_resp_free(hc_resp_t *r);

/* Send bytes as they are; false on a transport failure. */
bool hc_send(hc_t *h, const void *p, size_t n);
/* Read one answer (headers and Content-Length body); false if the
 * connection ended first. */
bool hc_read(hc_t *h, hc_resp_t *r);

/* Write bytes (several requests, pipelined) at once, then read until
 * want answers came; returns how many of them were 200. */
int hc_pipeline(hc_t *h, const void *bytes, size_t n, int want);

/* Connect as who, send one request, close.  Returns the status (-1 on a
 * transport failure); the body in *r if r != NULL. */
int hc_once(const yd_t *y, const char *who, const char *method, const char *path,
	    const char *ctype, const void *body, size_t n, hc_resp_t *r);

#endif
