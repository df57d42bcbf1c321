/*
 * http_int.h - the HTTP layer's own parts (http_conn.c, http_request.c,
 * http_listen.c): a connection and what its request parser fills.
 *
 * A connection lives on one network thread.  Its socket is registered
 * once, edge-triggered for reading and writing, and never re-registered:
 * the connection reads until the socket has nothing more (or until a
 * handler keeps a request), and writes each answer with one SSL_write
 * (one TLS record) from a buffer it keeps.  Its state list in struct net
 * (server_int.h) orders it by the time it entered that state, which is
 * how deadlines and the cap find the oldest.
 */
#ifndef YIMA_SERVER_HTTP_INT_H
#define YIMA_SERVER_HTTP_INT_H

#include <http_parser.h>

#include "http.h"
#include "server_int.h"

#define HTTP_URL_MAX 8192		/* longer: 414 */
#define HTTP_HEADERS_MAX (64 * 1024)	/* request line and headers: else 431 */
#define HTTP_VALUE_MAX 256		/* the header values we read */
#define HTTP_KEEP_MAX (256 * 1024)	/* buffers over this are freed after use */
#define HTTP_READ_CHUNK 16384
#define HTTP_BATCH_MAX 64		/* requests answered per wakeup before yielding */

#define HTTP_LINGER_S 2.0		/* reading what follows a refused request */
#define HTTP_GRACE_S 0.25		/* a connection this young is not closed at the cap */

/* The headers the layer reads; the others are skipped. */
enum hdr { HDR_CONTENT_TYPE, HDR_TRANSFER_ENCODING, HDR_EXPECT, HDR_OTHER };

struct hval {
	char v[HTTP_VALUE_MAX];
	size_t len;			/* sizeof v: too long */
	bool set;
};

typedef struct http_conn {
	TAILQ_ENTRY(http_conn) link;	/* in n->conns[state] */
	struct net *n;
	int fd;
	SSL *ssl;			/* NULL: plain HTTP */
	struct event *ev;
	bool public_listener;
	enum conn_state state;
	double since;			/* entered state */
	caller_t caller;		/* from the certificate, once per connection */

	/* reading */
	http_parser parser;
	buf_t in;			/* received, parsed up to in_off */
	size_t in_off;
	bool in_drained;		/* the last read saw the socket empty */
	bool eof;			/* the client closed its side */
	/* the request being parsed */
	bool in_request;		/* begun, not complete */
	buf_t url, body;
	enum hdr hdr;			/* the header whose value is arriving */
	char field[32];			/* a header name as it arrives */
	size_t field_len;
	bool in_value;
	struct hval hv[HDR_OTHER];
	int refuse;			/* set by a callback: status to refuse with */
	enum refusal refuse_why;
	const char *refuse_detail;	/* static text for the log */
	bool keep_alive;

	/* answering */
	buf_t out;			/* answers not yet written (plain: from out_off) */
	size_t out_off;
	buf_t wire;			/* TLS records not yet written, from wire_off */
	size_t wire_off;
	buf_t ans;			/* a handler's answer body */
	bool close_after;		/* close once out is written */
	bool linger;			/* and read what follows for a while first */
	int route;			/* the request in flight (metrics) */
	int verb;
	double started;
	bool head;			/* HEAD: no body in the answer */
	const char *cache_control;	/* of the answer being written, or NULL */
} http_conn_t;

/* http_request.c: the parser's callbacks, and turning a parsed request
 * into a handler call or a refusal. */
extern const http_parser_settings http_request_settings;
void http_request_reset(http_conn_t *c);
/* A whole request arrived: route and answer it (or hand it to a
 * handler).  Returns HTTP_DONE or HTTP_LATER. */
int http_request_dispatch(http_conn_t *c);
/* Refuse the request being read with status (answer, then close);
 * detail for the log (no client data) or NULL. */
void http_request_refuse(http_conn_t *c, int status, enum refusal why, const char *detail);
/* The parser stopped on e: refuse with what fits. */
void http_request_refuse_parse(http_conn_t *c, enum http_errno e);
/* Answer the request in flight: c->out, metrics, request log. */
void http_conn_finish(http_conn_t *c, int status, const char *ctype, const void *body, size_t n,
		      const char *facility);

/* http_conn.c */
void http_conn_set_state(http_conn_t *c, enum conn_state st, double now);
/* Append an answer (status line, headers, body) to c->out: one record. */
void http_conn_put_answer(http_conn_t *c, int status, const char *ctype, const void *body,
			  size_t n);
void http_conn_close(http_conn_t *c);
/* The BIO method of connections (one per server). */
BIO_METHOD *http_bio_method_new(void);

#endif
