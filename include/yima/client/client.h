/*
 * client.h - a small synchronous HTTP/1.1 client for yimad (spec section
 * 6, docs/protocol.md): POST or GET a protobuf body, get the status and
 * the answer's bytes.
 *
 * Built on libevent's evhttp with an OpenSSL bufferevent for https; the
 * event loop runs only inside client_request(), until the answer is in,
 * so from the caller's view a request is one blocking call.  One
 * connection is kept open between requests (HTTP keep-alive) and opened
 * again when the server closed it.
 *
 * TLS: the server's certificate must chain to the CA file given (--ca), or
 * to the system's trust store when none is given; TLS 1.2 at least.  The
 * certificate must also match the URL's host: its DNS names when the URL
 * names a host (SNI is sent), its IP addresses when the URL holds one (as
 * curl and browsers check it).  The client certificate (--cert, --key) is
 * what identifies the facility.
 *
 * http:// is accepted only for a loopback address (127.0.0.0/8, ::1,
 * localhost): it is yimad's development mode, which refuses any other
 * listen address anyway, and nothing should travel in clear elsewhere.
 */
#ifndef YIMA_CLIENT_H
#define YIMA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_TIMEOUT_DEFAULT 30	/* seconds, as yimad's --timeout */
#define CLIENT_BODY_MAX (256u << 20)	/* larger answers are refused */
#define CLIENT_CONTENT_TYPE "application/x-protobuf"

typedef struct client_opts {
	const char *url;	/* http://host[:port] or https://host[:port], no path */
	const char *cert;	/* client certificate chain, PEM; https only */
	const char *key;	/* its private key, PEM */
	const char *ca;		/* CA certificates (PEM) for the server; NULL = system */
	uint32_t timeout;	/* seconds for connect, send and answer; 0 = default */
} client_opts_t;

typedef struct client client_t;

/*
 * Check the URL and load the certificates; no connection is made yet.
 * Returns 0, YIMA_EINVAL (bad URL, http:// to a non-loopback host, --cert
 * without --key, certificates on http://) or YIMA_ECRYPTO (a file that
 * does not load, a key that does not match its certificate), why saying
 * which.  Free with client_free().
 */
int client_new(const client_opts_t *o, client_t **out, char *why, size_t whylen);
void client_free(client_t *cl);

/* An answer.  body is malloc'd (NUL-terminated past len, for text
 * bodies), freed by client_reply_deinit(). */
typedef struct client_reply {
	int status;		/* HTTP status */
	uint8_t *body;
	size_t len;
	bool protobuf;		/* Content-Type was application/x-protobuf */
	char phrase[64];	/* the status line's reason phrase */
} client_reply_t;

void client_reply_deinit(client_reply_t *rep);

/*
 * Send method ("GET" or "POST") path (e.g. "/v1/events") with body (n
 * bytes, Content-Type application/x-protobuf; NULL/0 for none) and wait for
 * the answer.  Returns 0 with *rep filled whatever the HTTP status, or
 * YIMA_EIO when the exchange failed: connection refused, TLS handshake or
 * certificate check failed, timeout, connection closed before a whole
 * answer; why says which, and the caller may retry.  YIMA_EINVAL for a bad
 * method; YIMA_ENOMEM.  A request that fails on a kept-alive connection
 * the server had closed is sent once more on a new one, so requests must
 * be safe to repeat (yimad's writes are idempotent, docs/protocol.md).
 */
int client_request(client_t *cl, const char *method, const char *path, const void *body,
		   size_t n, client_reply_t *rep, char *why, size_t whylen);

/* True for the statuses a request may be retried after: 408, 429, 5xx. */
bool client_status_retryable(int status);

/*
 * Describe a 4xx/5xx answer for a person: "403 forbidden_facility: line
 * ..." from the Error message it carries (docs/protocol.md, Errors), or the
 * status and the first bytes of a text body.
 */
void client_reply_error(const client_reply_t *rep, char *buf, size_t n);

#endif
