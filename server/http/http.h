/*
 * http.h - what a route's handler sees of yimad's HTTP layer, and all it
 * needs to answer (server/http/ is the layer, server_routes.c the
 * routes).
 *
 * A route is a row of the table in server_routes.c: a path (exact, or a
 * prefix), which listeners serve it, a name for the metrics and a
 * handler.  The transport has read the whole request (headers and a
 * Content-Length body, within the request deadline) before it calls the
 * handler, on the network thread that owns the connection.  The handler
 * either fills the answer and returns HTTP_DONE, or keeps the request's
 * connection (req->conn) and returns HTTP_LATER, and then answers exactly
 * once with http_answer_later() on the same network thread (the writer's
 * answers come back that way).  Until then the connection reads nothing
 * more (pipelined requests wait, in order).
 *
 * Adding a route: write the handler in its own file, add a row to the
 * table; nothing in the transport changes.
 */
#ifndef YIMA_SERVER_HTTP_H
#define YIMA_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/util/buf.h"

struct net;
struct http_conn;
struct caller;

enum http_verb { HTTP_VERB_GET, HTTP_VERB_POST, HTTP_VERB_HEAD, HTTP_VERB_PUT,
		 HTTP_VERB_DELETE, HTTP_VERB_OTHER };

/* One request.  Every pointer is valid until the handler returns (keep
 * what an HTTP_LATER answer needs: the body is not kept). */
typedef struct http_req {
	enum http_verb verb;
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* as sent (not percent-decoded), no query */
	const char *query;		/* after '?', or NULL */
	const char *content_type;	/* the header's value, or NULL */
	const uint8_t *body;		/* Content-Length bytes (never NULL) */
	size_t body_len;
	const struct caller *caller;	/* who the certificate says is calling */
	bool public_listener;		/* arrived on --public-listen */
	double started;			/* monotonic seconds, request complete */
	struct http_conn *conn;		/* for http_answer_later() */
} http_req_t;

/* The answer a handler fills.  body is empty on entry and belongs to the
 * connection (kept between requests: no allocation per answer). */
typedef struct http_answer {
	int status;
	const char *content_type;	/* static storage */
	buf_t *body;
	const char *facility;		/* for the request log: who acted, or NULL */
	const char *cache_control;	/* a Cache-Control header (static), or NULL */
} http_answer_t;

enum { HTTP_DONE = 0, HTTP_LATER = 1 };

typedef int http_handler_fn(struct net *n, const http_req_t *req, http_answer_t *ans);

enum route_flags {
	ROUTE_PREFIX = 1 << 0,	/* path is a prefix (e.g. "/v1/codes/") */
	ROUTE_PUBLIC = 1 << 1,	/* also served on --public-listen */
};

typedef struct http_route {
	const char *path;
	unsigned flags;
	const char *metric;	/* yimad_requests_total{route=...} */
	http_handler_fn *handler;
} http_route_t;

/* The table (server_routes.c) and its length; the route index is the
 * metrics' index, and routes_count is "other" (no route). */
extern const http_route_t server_routes[];
extern const int routes_count;
#define ROUTES_MAX 15

/* The first route serving path on this kind of listener, or -1. */
int route_find(const char *path, bool public_listener);

/* Answer a request a handler returned HTTP_LATER for.  The body is
 * copied; facility as in http_answer_t.  If the client went away in the
 * meantime, the answer is dropped and the connection's memory freed. */
void http_answer_later(struct http_conn *c, int status, const char *content_type,
		       const void *body, size_t n, const char *facility);

/* Fill ans with a protobuf Error (spec section 6): status, a machine
 * reason and a message naming what and where. */
void http_error(http_answer_t *ans, int status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Whether ctype is a protobuf media type: application/x-protobuf or the
 * registered application/protobuf, parameters allowed. */
bool http_is_protobuf(const char *ctype);

#endif
