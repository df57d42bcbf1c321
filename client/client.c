/*
 * client.c - the synchronous HTTP client of `yima upload` and `yima settle`
 * (see yima/client.h), on libevent's evhttp.
 *
 * Each request runs the event base until its answer (or failure) callback
 * has fired, then returns.  The connection is kept for the next request;
 * it is thrown away and made anew after any failure and whenever the
 * server closed it (evhttp's close callback), never reconnected in place:
 * a fresh SSL object per connection is simpler to reason about than
 * reusing one after SSL_clear().
 *
 * The caller must ignore SIGPIPE: a write to a connection the server
 * just closed would otherwise kill the process (libevent writes with
 * plain write()/writev(), without MSG_NOSIGNAL).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "yima.pb-c.h"
#include "yima/client/client.h"
#include "yima/util/error.h"

#define HOST_MAX 256

struct client {
	struct event_base *base;
	SSL_CTX *ctx;			/* NULL for http:// */
	struct evhttp_connection *conn;	/* NULL until needed, or after a failure */
	bool conn_used;			/* an answer came over it: keep-alive */
	bool conn_closed;		/* the close callback fired */
	char host[HOST_MAX];		/* as in the URL, without brackets */
	char addr[NI_MAXHOST];		/* what it resolved to, numeric */
	char host_header[HOST_MAX + 8];	/* host[:port] as in the URL */
	uint16_t port;
	bool host_is_ip;
	unsigned timeout;
	int alert;			/* the last fatal TLS alert the server
					 * sent on this connection, or -1 */
	unsigned handshake_closes;	/* fresh connections in a row the
					 * server closed in the TLS handshake */
};

/* The OpenSSL error queue as one line (emptied). */
static void ssl_errors(char *buf, size_t n)
{
	unsigned long e;
	size_t len = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof one);
		int k = snprintf(buf + len, n - len, "%s%s", len ? "; " : "", one);
		if (k < 0 || (size_t)k >= n - len)
			break;
		len += (size_t)k;
	}
	if (len == 0)
		snprintf(buf, n, "unknown OpenSSL error");
	ERR_clear_error();
}

/* ---- URL ------------------------------------------------------------------ */

static bool is_loopback(const char *host)
{
	unsigned char a[16];

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	return false;
}

static bool is_ip(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int parse_url(client_t *cl, const char *url, bool *tls, char *why, size_t whylen)
{
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
	int rc = 0;

	if (u == NULL)
		return yima_fail(why, whylen, YIMA_EINVAL, "--server %s: not a URL", url);
	const char *scheme = evhttp_uri_get_scheme(u), *host = evhttp_uri_get_host(u);
	const char *path = evhttp_uri_get_path(u);
	int port = evhttp_uri_get_port(u);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		rc = yima_fail(why, whylen, YIMA_EINVAL, "--server %s: not http:// or https://", url);
		goto free_uri;
	}
	*tls = strcasecmp(scheme, "https") == 0;
	if (host == NULL || host[0] == '\0' || evhttp_uri_get_userinfo(u) != NULL ||
	    (path != NULL && path[0] != '\0' && strcmp(path, "/") != 0) ||
	    evhttp_uri_get_query(u) != NULL || evhttp_uri_get_fragment(u) != NULL) {
		rc = yima_fail(why, whylen, YIMA_EINVAL,
			       "--server %s: expected scheme://host:port and nothing else", url);
		goto free_uri;
	}
	if (port == 0 || port > 65535) {
		rc = yima_fail(why, whylen, YIMA_EINVAL, "--server %s: bad port", url);
		goto free_uri;
	}
	cl->port = port < 0 ? (*tls ? 443 : 80) : (uint16_t)port;
	size_t len = strlen(host);
	if (len >= HOST_MAX) {
		rc = yima_fail(why, whylen, YIMA_EINVAL, "--server %s: host name too long", url);
		goto free_uri;
	}
	snprintf(cl->host_header, sizeof cl->host_header, port < 0 ? "%s" : "%s:%d", host, port);
	if (host[0] == '[' && len >= 2) {	/* IPv6 literal: connect without brackets */
		host++;
		len -= 2;
	}
	memcpy(cl->host, host, len);
	cl->host[len] = '\0';
	cl->host_is_ip = is_ip(cl->host);
	if (!*tls && !is_loopback(cl->host))
		rc = yima_fail(why, whylen, YIMA_EINVAL,
			       "--server %s: http:// only to a loopback address (use https://)", url);
free_uri:
	evhttp_uri_free(u);
	return rc;
}

/* ---- setup ------------------------------------------------------------- */

/*
 * A TLS failure that retrying cannot mend: the configuration is wrong on
 * one side (issue 12: `yima upload` must stop at once, not retry it as if
 * the network were down).  These are the fatal alerts a server sends when
 * it will not accept this client as it is set up (RFC 8446 section 6.2),
 * and the errors OpenSSL raises here for the same reasons.
 */
static const struct {
	int desc;
	const char *name, *hint;
} config_alerts[] = {
	{ SSL_AD_CERTIFICATE_REQUIRED, "certificate required",
	  "it wants a client certificate: give --cert and --key" },
	{ SSL_AD_UNKNOWN_CA, "unknown CA",
	  "it does not accept --cert: is it signed by the CA yimad trusts (--client-ca)?" },
	{ SSL_AD_BAD_CERTIFICATE, "bad certificate", "it does not accept --cert" },
	{ SSL_AD_UNSUPPORTED_CERTIFICATE, "unsupported certificate", "it does not accept --cert" },
	{ SSL_AD_CERTIFICATE_UNKNOWN, "certificate unknown", "it does not accept --cert" },
	{ SSL_AD_ACCESS_DENIED, "access denied", "it does not accept --cert" },
	{ SSL_AD_CERTIFICATE_EXPIRED, "certificate expired", "--cert has expired: get a new one" },
	{ SSL_AD_CERTIFICATE_REVOKED, "certificate revoked", "--cert was revoked: get a new one" },
	{ SSL_AD_PROTOCOL_VERSION, "protocol version", "no TLS version both sides accept" },
	{ SSL_AD_HANDSHAKE_FAILURE, "handshake failure", "no TLS parameters both sides accept" },
	{ SSL_AD_INSUFFICIENT_SECURITY, "insufficient security", "no cipher both sides accept" },
};

/* The entry of config_alerts for desc, or -1. */
static int config_alert(int desc)
{
	for (size_t i = 0; i < sizeof config_alerts / sizeof config_alerts[0]; i++)
		if (config_alerts[i].desc == desc)
			return (int)i;
	return -1;
}

static bool alert_is_config(int desc)
{
	return config_alert(desc) >= 0;
}

static bool reason_is_config(int reason)
{
	if (reason >= SSL_AD_REASON_OFFSET)	/* an alert the peer sent */
		return alert_is_config(reason - SSL_AD_REASON_OFFSET);
	return reason == SSL_R_CERTIFICATE_VERIFY_FAILED || reason == SSL_R_WRONG_VERSION_NUMBER ||
	       reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE;
}

/* Keep the server's fatal alerts: with TLS 1.3 a refused client
 * certificate is told only after our request went out, and evhttp then
 * reports a closed connection without the reason. */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
	client_t *cl = SSL_get_app_data(ssl);
	bool read_alert = (where & SSL_CB_ALERT) && (where & SSL_CB_READ);
	if (read_alert && cl != NULL && (ret >> 8) == SSL3_AL_FATAL)
		cl->alert = ret & 0xff;
}

static int tls_setup(client_t *cl, const client_opts_t *o, char *why, size_t whylen)
{
	char err[512];

	if ((cl->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_errors(err, sizeof err);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "TLS: %s", err);
	}
	if (SSL_CTX_set_min_proto_version(cl->ctx, TLS1_2_VERSION) != 1) {
		ssl_errors(err, sizeof err);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "TLS: %s", err);
	}
	SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_info_callback(cl->ctx, on_tls_info);
	if (o->ca != NULL ? SSL_CTX_load_verify_locations(cl->ctx, o->ca, NULL) != 1
			  : SSL_CTX_set_default_verify_paths(cl->ctx) != 1) {
		ssl_errors(err, sizeof err);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "--ca %s: %s",
				 o->ca ? o->ca : "(system)", err);
	}
	if (o->cert == NULL)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(cl->ctx, o->cert) != 1) {
		ssl_errors(err, sizeof err);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "--cert %s: %s", o->cert, err);
	}
	if (SSL_CTX_use_PrivateKey_file(cl->ctx, o->key, SSL_FILETYPE_PEM) != 1) {
		ssl_errors(err, sizeof err);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "--key %s: %s", o->key, err);
	}
	if (SSL_CTX_check_private_key(cl->ctx) != 1) {
		ssl_errors(err, sizeof err);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "--key %s does not match --cert %s",
				 o->key, o->cert);
	}
	return 0;
}

int client_new(const client_opts_t *o, client_t **out, char *why, size_t whylen)
{
	client_t *cl;
	bool tls = false;
	int rc;

	*out = NULL;
	if (o->url == NULL)
		return yima_fail(why, whylen, YIMA_EINVAL, "--server URL is required");
	if ((o->cert == NULL) != (o->key == NULL))
		return yima_fail(why, whylen, YIMA_EINVAL, "--cert and --key go together");
	if ((cl = calloc(1, sizeof *cl)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	cl->timeout = o->timeout ? o->timeout : CLIENT_TIMEOUT_DEFAULT;
	cl->alert = -1;
	if ((rc = parse_url(cl, o->url, &tls, why, whylen)) < 0)
		goto free_client;
	if (!tls && (o->cert != NULL || o->ca != NULL)) {
		rc = yima_fail(why, whylen, YIMA_EINVAL,
			       "--cert/--key/--ca need an https:// server");
		goto free_client;
	}
	if (tls && (rc = tls_setup(cl, o, why, whylen)) < 0)
		goto free_client;
	if ((cl->base = event_base_new()) == NULL) {
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "libevent: no event base");
		goto free_client;
	}
	*out = cl;
	return 0;
free_client:
	client_free(cl);
	return rc;
}

static void conn_drop(client_t *cl)
{
	if (cl->conn != NULL)
		evhttp_connection_free(cl->conn);	/* frees its bufferevent and SSL */
	cl->conn = NULL;
	cl->conn_used = false;
	cl->conn_closed = false;
}

void client_free(client_t *cl)
{
	if (cl == NULL)
		return;
	conn_drop(cl);
	if (cl->base != NULL)
		event_base_free(cl->base);
	SSL_CTX_free(cl->ctx);
	free(cl);
}

/* ---- the connection ------------------------------------------------------ */

static void on_close(struct evhttp_connection *conn, void *arg)
{
	client_t *cl = arg;
	(void)conn;
	cl->conn_closed = true;
}

/* Resolve the host here rather than in libevent (which would do the
 * same blocking getaddrinfo()), so a name that does not resolve gets its
 * own message; evhttp then connects to the address. */
static int resolve(client_t *cl, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(cl->host, NULL, &hints, &ai);

	if (rc != 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: cannot resolve %s: %s", cl->host_header,
				 cl->host, gai_strerror(rc));
	rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, cl->addr, sizeof cl->addr, NULL, 0,
			 NI_NUMERICHOST);
	freeaddrinfo(ai);
	if (rc != 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: cannot resolve %s: %s", cl->host_header,
				 cl->host, gai_strerror(rc));
	return 0;
}

static int conn_open(client_t *cl, char *why, size_t whylen)
{
	struct bufferevent *bev;
	char err[512];
	int rc;

	if ((rc = resolve(cl, why, whylen)) < 0)
		return rc;

	if (cl->ctx != NULL) {
		SSL *ssl = SSL_new(cl->ctx);
		if (ssl == NULL) {
			ssl_errors(err, sizeof err);
			return yima_fail(why, whylen, YIMA_ECRYPTO, "TLS: %s", err);
		}
		cl->alert = -1;
		SSL_set_app_data(ssl, cl);
		/* a host name is sent (SNI) and checked against the
		 * certificate; an IP address is checked against its IP
		 * subject alternative names (no SNI: RFC 6066) */
		if (cl->host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), cl->host) != 1
				   : SSL_set_tlsext_host_name(ssl, cl->host) != 1 ||
				     SSL_set1_host(ssl, cl->host) != 1) {
			SSL_free(ssl);
			ssl_errors(err, sizeof err);
			return yima_fail(why, whylen, YIMA_ECRYPTO, "TLS: %s", err);
		}
		bev = bufferevent_openssl_socket_new(cl->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(ssl);
			return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: no bufferevent");
		}
		/* a peer that closes without close_notify is an ordinary EOF:
		 * HTTP framing (Content-Length) says whether the answer is whole */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else if ((bev = bufferevent_socket_new(cl->base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: no bufferevent");
	}
	/* the connection owns bev (and its SSL) once it exists */
	cl->conn = evhttp_connection_base_bufferevent_new(cl->base, NULL, bev, cl->addr, cl->port);
	if (cl->conn == NULL) {
		bufferevent_free(bev);
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: no connection");
	}
	evhttp_connection_set_timeout(cl->conn, (int)cl->timeout);
	evhttp_connection_set_max_body_size(cl->conn, CLIENT_BODY_MAX);
	evhttp_connection_set_retries(cl->conn, 0);
	evhttp_connection_set_closecb(cl->conn, on_close, cl);
	/* a server that answers before reading the whole body (413) and
	 * closes, or a TLS alert (no client certificate) after our write
	 * failed: read what it said rather than report the broken pipe */
	evhttp_connection_set_flags(cl->conn, EVHTTP_CON_READ_ON_WRITE_ERROR);
	cl->conn_used = false;
	cl->conn_closed = false;
	return 0;
}

/* ---- one exchange -------------------------------------------------------- */

struct exchange {
	client_t *cl;
	client_reply_t *rep;
	bool done;
	bool failed;
	bool connect_failed;	/* no connection at all */
	bool tls_config;	/* TLS failed the way a retry cannot mend */
	enum evhttp_request_error err;
	int sock_err;
	int rc;			/* YIMA_ENOMEM copying the answer */
	char tls[512];		/* TLS failure detail, if any */
};

/* What went wrong in TLS, from the bufferevent's saved errors and the
 * certificate check. */
static void tls_detail(struct exchange *x)
{
	struct bufferevent *bev;
	unsigned long e;
	size_t len = 0;

	x->tls[0] = '\0';
	if (x->cl->ctx == NULL || x->cl->conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(x->cl->conn)) == NULL)
		return;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	x->tls_config = vr != X509_V_OK;
	if (vr != X509_V_OK) {
		int k = snprintf(x->tls, sizeof x->tls, "server certificate: %s",
				 X509_verify_cert_error_string(vr));
		len = k > 0 && (size_t)k < sizeof x->tls ? (size_t)k : 0;
	}
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		char one[256];
		if (ERR_GET_LIB(e) == 0)	/* an errno the bufferevent saved */
			continue;
		x->tls_config |= ERR_GET_LIB(e) == ERR_LIB_SSL && reason_is_config(ERR_GET_REASON(e));
		ERR_error_string_n(e, one, sizeof one);
		int k = snprintf(x->tls + len, sizeof x->tls - len, "%s%s", len ? "; " : "", one);
		if (k < 0 || (size_t)k >= sizeof x->tls - len)
			break;
		len += (size_t)k;
	}
	ERR_clear_error();
}

static void on_error(enum evhttp_request_error err, void *arg)
{
	struct exchange *x = arg;
	x->sock_err = EVUTIL_SOCKET_ERROR();
	x->failed = true;
	x->err = err;
	tls_detail(x);
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct exchange *x = arg;

	x->done = true;
	event_base_loopbreak(x->cl->base);
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		/* evhttp answers a connect that failed (refused, timed out)
		 * with the request itself, no status and no error callback;
		 * errno is gone by then (its reset shut the socket down) */
		if (!x->failed) {
			x->connect_failed = true;
			tls_detail(x);
		}
		x->failed = true;
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	client_reply_t *rep = x->rep;
	if ((rep->body = malloc(len + 1)) == NULL) {
		x->rc = YIMA_ENOMEM;
		return;
	}
	if (len > 0 && evbuffer_remove(in, rep->body, len) != (int)len) {
		x->rc = YIMA_ENOMEM;
		return;
	}
	rep->body[len] = '\0';
	rep->len = len;
	rep->status = evhttp_request_get_response_code(req);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	rep->protobuf = ct != NULL && strncasecmp(ct, CLIENT_CONTENT_TYPE, strlen(CLIENT_CONTENT_TYPE)) == 0;
	const char *phrase = evhttp_request_get_response_code_line(req);
	snprintf(rep->phrase, sizeof rep->phrase, "%s", phrase ? phrase : "");
	x->cl->conn_used = true;
	x->cl->handshake_closes = 0;
}

/*
 * evhttp reports a connection that failed before it was up (refused, timed
 * out, or closed by the server during the TLS handshake) without saying
 * which.  Only then, to tell the person which, try a plain TCP connect to
 * the same address: errno of the connect, ETIMEDOUT, or 0 if it connects.
 */
static int probe_tcp(const client_t *cl)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	char port[8];
	int err = ETIMEDOUT;

	snprintf(port, sizeof port, "%u", (unsigned)cl->port);
	if (getaddrinfo(cl->addr, port, &hints, &ai) != 0)
		return EINVAL;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		goto free_ai;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		err = 0;
	} else if (errno != EINPROGRESS) {
		err = errno;
	} else {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t len = sizeof err;
		if (poll(&p, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
	}
	close(fd);
free_ai:
	freeaddrinfo(ai);
	return err;
}

static const char *err_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT: return "timed out";
	case EVREQ_HTTP_EOF: return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER: return "bad answer header";
	case EVREQ_HTTP_BUFFER_ERROR: return "connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL: return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG: return "answer too large";
	}
	return "failed";
}

static int exchange_fail(client_t *cl, const struct exchange *x, char *why, size_t whylen)
{
	char detail[600];
	bool config = x->tls_config || alert_is_config(cl->alert);
	int e;

	/* A server that is up (TCP connects) and closes fresh connections in
	 * the TLS handshake refuses this client: with TLS 1.3 its alert may
	 * be lost to the reset of the request we had sent.  Once may be a
	 * restart; twice in a row is how it is set up. */
	e = x->connect_failed && x->tls[0] == '\0' && cl->alert < 0 ? probe_tcp(cl) : -1;
	bool closed = e == 0 && cl->ctx != NULL;
	cl->handshake_closes = closed ? cl->handshake_closes + 1 : 0;
	config |= closed && cl->handshake_closes >= 2;

	int a = config_alert(cl->alert);
	if (a >= 0)
		snprintf(detail, sizeof detail, "TLS: the server refused the connection (alert \"%s\"): %s",
			 config_alerts[a].name, config_alerts[a].hint);
	else if (cl->alert >= 0)
		snprintf(detail, sizeof detail, "TLS: the server ended the connection (alert \"%s\")",
			 SSL_alert_desc_string_long(cl->alert));
	else if (e > 0)
		snprintf(detail, sizeof detail, "cannot connect to %.200s port %u: %s", cl->addr,
			 (unsigned)cl->port, strerror(e));
	else if (e == 0)
		snprintf(detail, sizeof detail, "%s", cl->ctx != NULL ?
			 "the server closed the connection during the TLS handshake (no client "
			 "certificate, or one its CA did not sign?)" : "the server closed the connection");
	else if (x->tls[0] != '\0')
		snprintf(detail, sizeof detail, "TLS: %s", x->tls);
	else if (x->sock_err != 0 && x->err != EVREQ_HTTP_TIMEOUT)
		snprintf(detail, sizeof detail, "%s (%s)", err_name(x->err),
			 evutil_socket_error_to_string(x->sock_err));
	else
		snprintf(detail, sizeof detail, "%s", err_name(x->err));
	return yima_fail(why, whylen, config ? YIMA_ETLS : YIMA_EIO, "%s%s: %s%s",
			 cl->ctx ? "https://" : "http://", cl->host_header, detail,
			 config ? " (a TLS configuration error: not retried)" : "");
}

/* One try on the current connection (opened if needed).  *stale: it
 * failed because a kept-alive connection (one that had carried an answer)
 * turned out closed, so the request never reached the server. */
static int exchange_once(client_t *cl, enum evhttp_cmd_type cmd, const char *path,
			 const void *body, size_t n, client_reply_t *rep, bool *stale,
			 char *why, size_t whylen)
{
	struct exchange x = { .cl = cl, .rep = rep };
	struct evhttp_request *req;
	int rc;

	/* let evhttp see a close the server made while we were away */
	if (cl->conn != NULL && event_base_loop(cl->base, EVLOOP_NONBLOCK) < 0)
		conn_drop(cl);
	if (cl->conn != NULL && cl->conn_closed)
		conn_drop(cl);
	if (cl->conn == NULL && (rc = conn_open(cl, why, whylen)) < 0)
		return rc;
	bool reused = cl->conn_used;
	*stale = false;
	if ((req = evhttp_request_new(on_done, &x)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", cl->host_header) != 0 ||
	    evhttp_add_header(h, "Accept", CLIENT_CONTENT_TYPE) != 0 ||
	    (body != NULL && evhttp_add_header(h, "Content-Type", CLIENT_CONTENT_TYPE) != 0) ||
	    (body != NULL && n > 0 &&
	     evbuffer_add(evhttp_request_get_output_buffer(req), body, n) != 0)) {
		evhttp_request_free(req);
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	}
	/* evhttp owns req from here, success or not */
	if (evhttp_make_request(cl->conn, req, cmd, path) != 0) {
		conn_drop(cl);
		return yima_fail(why, whylen, YIMA_EIO, "%s: cannot send the request", cl->host_header);
	}
	while (!x.done)
		if (event_base_dispatch(cl->base) != 0 || (!x.done && !event_base_got_break(cl->base)))
			break;
	if (!x.done) {	/* the loop ran dry: should not happen, but never hang */
		conn_drop(cl);
		return yima_fail(why, whylen, YIMA_EIO, "%s: no answer", cl->host_header);
	}
	if (x.rc < 0 || x.failed) {
		client_reply_deinit(rep);
		conn_drop(cl);
		if (x.rc < 0)
			return yima_fail(why, whylen, x.rc, "out of memory");
		/* a timeout is not that: the server may be working on it */
		*stale = reused && (x.connect_failed || x.err == EVREQ_HTTP_EOF ||
				    x.err == EVREQ_HTTP_BUFFER_ERROR);
		return exchange_fail(cl, &x, why, whylen);
	}
	return 0;
}

int client_request(client_t *cl, const char *method, const char *path, const void *body,
		   size_t n, client_reply_t *rep, char *why, size_t whylen)
{
	enum evhttp_cmd_type cmd;
	bool stale = false;

	memset(rep, 0, sizeof *rep);
	if (strcmp(method, "GET") == 0)
		cmd = EVHTTP_REQ_GET;
	else if (strcmp(method, "POST") == 0)
		cmd = EVHTTP_REQ_POST;
	else
		return yima_fail(why, whylen, YIMA_EINVAL, "method %s: not GET or POST", method);
	int rc = exchange_once(cl, cmd, path, body, n, rep, &stale, why, whylen);
	/* a kept-alive connection the server closed under us: once more on
	 * a new one */
	if (rc == YIMA_EIO && (stale || cl->handshake_closes == 1))
		rc = exchange_once(cl, cmd, path, body, n, rep, &stale, why, whylen);
	return rc;
}

void client_reply_deinit(client_reply_t *rep)
{
	free(rep->body);
	memset(rep, 0, sizeof *rep);
}

bool client_status_retryable(int status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

void client_reply_error(const client_reply_t *rep, char *buf, size_t n)
{
	Yima__V1__Error *e = NULL;

	if (rep->protobuf)
		e = yima__v1__error__unpack(NULL, rep->len, rep->body);
	if (e != NULL) {
		snprintf(buf, n, "%d %s: %s", rep->status, e->reason, e->message);
		yima__v1__error__free_unpacked(e, NULL);
		return;
	}
	/* not an Error: the status line and the first line of a text body
	 * (printable bytes only; an HTML page is left out) */
	size_t k = 0;
	char text[200];
	for (size_t i = 0; i < rep->len && k < sizeof text - 1; i++) {
		unsigned char c = rep->body[i];
		if (c == '\n' || c == '\r')
			break;
		text[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	text[k] = '\0';
	bool show = k > 0 && text[0] != '<';
	snprintf(buf, n, "%d%s%s%s%s", rep->status, rep->phrase[0] ? " " : "", rep->phrase,
		 show ? ": " : "", show ? text : "");
}
