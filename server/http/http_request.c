/*
 * http_request.c - a request as it arrives on a connection: the
 * callbacks of the HTTP/1.1 parser, what the layer refuses itself
 * (400, 411, 413, 414, 431, 501, 408), and handing a whole request to its
 * route's handler.
 *
 * Parsing is nodejs's http-parser 2.9 (Debian's libhttp-parser-dev), not
 * our own: request-smuggling cases (Content-Length with
 * Transfer-Encoding, duplicate lengths, bare CR/LF, obsolete line
 * folding, header size) are what a small hand parser gets wrong, and
 * this one has had them fixed over a decade of node.js in production; it
 * does not allocate and takes data in any pieces, so it costs little.
 * The layer reads three headers (Content-Type, Transfer-Encoding, Expect)
 * and the parser's Content-Length and keep-alive.  Bodies are
 * Content-Length only: a chunked body is refused with 411 (send a
 * length), another transfer coding with 501.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"
#include "wire.h"

#define PROTO_CT "application/x-protobuf"

static http_conn_t *conn_of(http_parser *p)
{
	return p->data;
}

static int on_message_begin(http_parser *p)
{
	http_conn_t *c = conn_of(p);

	c->in_request = true;
	/* the request deadline runs from its first byte */
	http_conn_set_state(c, CS_READING, server_now());
	return 0;
}

static int refuse_cb(http_conn_t *c, int status, enum refusal why, const char *detail)
{
	c->refuse = status;
	c->refuse_why = why;
	c->refuse_detail = detail;
	return -1;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	http_conn_t *c = conn_of(p);

	if (c->url.len + len > HTTP_URL_MAX)
		return refuse_cb(c, 414, REFUSED_URI_TOO_LONG, NULL);
	buf_put(&c->url, at, len);
	return c->url.oom ? refuse_cb(c, 503, REFUSED_BAD_REQUEST, "out of memory") : 0;
}

static enum hdr header_kind(const char *name, size_t len)
{
	static const struct { const char *name; enum hdr kind; } known[] = {
		{ "content-type", HDR_CONTENT_TYPE },
		{ "transfer-encoding", HDR_TRANSFER_ENCODING },
		{ "expect", HDR_EXPECT },
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i].name) == len && strncasecmp(name, known[i].name, len) == 0)
			return known[i].kind;
	return HDR_OTHER;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	http_conn_t *c = conn_of(p);

	if (c->in_value) {	/* a new header begins */
		c->in_value = false;
		c->field_len = 0;
	}
	/* names longer than the buffer are none of the three we read */
	if (c->field_len + len < sizeof c->field)
		memcpy(c->field + c->field_len, at, len);
	c->field_len += len;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	http_conn_t *c = conn_of(p);
	struct hval *v;

	if (!c->in_value) {
		c->in_value = true;
		c->hdr = c->field_len < sizeof c->field ? header_kind(c->field, c->field_len) : HDR_OTHER;
		if (c->hdr != HDR_OTHER) {
			v = &c->hv[c->hdr];
			v->set = true;	/* a repeated header: its last value */
			v->len = 0;
		}
	}
	if (c->hdr == HDR_OTHER)
		return 0;
	v = &c->hv[c->hdr];
	/* a longer value is no value we accept: keep it too long to match */
	if (v->len + len < sizeof v->v)
		memcpy(v->v + v->len, at, len);
	v->len = v->len + len < sizeof v->v ? v->len + len : sizeof v->v;
	return 0;
}

/* The value, NUL-terminated, or NULL when absent or too long. */
static const char *hval(http_conn_t *c, enum hdr h)
{
	struct hval *v = &c->hv[h];

	if (!v->set || v->len >= sizeof v->v)
		return NULL;
	v->v[v->len] = '\0';
	return v->v;
}

static int on_headers_complete(http_parser *p)
{
	http_conn_t *c = conn_of(p);
	const char *te = hval(c, HDR_TRANSFER_ENCODING), *expect = hval(c, HDR_EXPECT);

	c->in_value = false;
	if (c->hv[HDR_TRANSFER_ENCODING].set)
		return te != NULL && strcasecmp(te, "chunked") == 0
			       ? refuse_cb(c, 411, REFUSED_LENGTH_REQUIRED, "a chunked body")
			       : refuse_cb(c, 501, REFUSED_NOT_IMPLEMENTED, "a transfer coding");
	if (p->flags & F_CONTENTLENGTH) {
		if (p->content_length > c->n->o.max_body)
			return refuse_cb(c, 413, REFUSED_BODY_TOO_LARGE, "Content-Length over --max-body");
	} else if (p->method == HTTP_POST || p->method == HTTP_PUT) {
		return refuse_cb(c, 411, REFUSED_LENGTH_REQUIRED, "a body without Content-Length");
	}
	c->keep_alive = http_should_keep_alive(p) != 0;
	/* A client that waits for leave to send its body gets it now. */
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    (p->flags & F_CONTENTLENGTH) && p->content_length > 0)
		buf_put(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	http_conn_t *c = conn_of(p);

	buf_put(&c->body, at, len);
	return c->body.oom ? refuse_cb(c, 503, REFUSED_BAD_REQUEST, "out of memory") : 0;
}

static int on_message_complete(http_parser *p)
{
	conn_of(p)->in_request = false;
	/* one request at a time: the connection answers it, then goes on */
	http_parser_pause(p, 1);
	return 0;
}

const http_parser_settings http_request_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void http_request_reset(http_conn_t *c)
{
	buf_reset(&c->url);
	buf_reset(&c->body);
	if (c->body.cap > HTTP_KEEP_MAX) {
		buf_deinit(&c->body);
		buf_init(&c->body);
	}
	memset(c->hv, 0, sizeof c->hv);
	c->field_len = 0;
	c->in_value = false;
	c->refuse = 0;
}

/* ---- answers -------------------------------------------------------------------- */

bool http_is_protobuf(const char *ct)
{
	static const char *const types[] = { "application/x-protobuf", "application/protobuf" };

	for (size_t i = 0; ct != NULL && i < sizeof types / sizeof types[0]; i++) {
		size_t n = strlen(types[i]);
		if (strncasecmp(ct, types[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

void http_error(http_answer_t *ans, int status, const char *reason, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_reset(ans->body);
	ans->status = status;
	ans->content_type = PROTO_CT;
	if (wire_pack_error((unsigned)status, reason, msg, ans->body) < 0)
		buf_reset(ans->body);
}

static const char *verb_name(enum http_verb v)
{
	static const char *const names[] = { "GET", "POST", "HEAD", "PUT", "DELETE", "OTHER" };
	return names[v];
}

static enum http_verb verb_of(unsigned method)
{
	switch (method) {
	case HTTP_GET: return HTTP_VERB_GET;
	case HTTP_POST: return HTTP_VERB_POST;
	case HTTP_HEAD: return HTTP_VERB_HEAD;
	case HTTP_PUT: return HTTP_VERB_PUT;
	case HTTP_DELETE: return HTTP_VERB_DELETE;
	default: return HTTP_VERB_OTHER;
	}
}

void http_conn_finish(http_conn_t *c, int status, const char *ctype, const void *body, size_t n,
		      const char *facility)
{
	double dt = server_now() - c->started;
	const char *path = c->route < routes_count ? server_routes[c->route].path
			   : c->url.len > 0 ? (const char *)c->url.p : "-";

	http_conn_put_answer(c, status, ctype, body, n);
	server_count_answer(c->n, c->route, status, dt);
	server_log_request(c->n, facility && facility[0] ? facility : c->caller.cn,
			   verb_name((enum http_verb)c->verb), path, status, dt);
}

int http_request_dispatch(http_conn_t *c)
{
	struct net *n = c->n;
	http_answer_t ans = { .status = 500, .content_type = "text/plain", .body = &c->ans };
	http_req_t req;
	char *path, *query;
	int route;

	buf_putc(&c->url, '\0');
	if (c->url.oom) {
		http_request_refuse(c, 503, REFUSED_BAD_REQUEST, "out of memory");
		return HTTP_DONE;
	}
	path = (char *)c->url.p;
	if ((query = strchr(path, '?')) != NULL)
		*query++ = '\0';
	c->started = server_now();
	c->verb = verb_of(c->parser.method);
	c->head = c->verb == HTTP_VERB_HEAD;
	c->close_after = !c->keep_alive || n->draining;
	buf_reset(&c->ans);
	route = route_find(path, c->public_listener);
	c->route = route < 0 ? routes_count : route;
	if (n->draining) {
		http_error(&ans, 503, "shutting_down", "yimad is stopping");
	} else if (route < 0) {
		http_error(&ans, 404, "not_found", "no such path");
	} else if (c->caller.kind == CALLER_REFUSED) {
		/* a certificate that is not one CN (a facility id, for a
		 * facility): nothing is served, and the answer says why */
		http_error(&ans, 403, "bad_certificate", "%s", c->caller.refusal);
	} else {
		req = (http_req_t){
			.verb = (enum http_verb)c->verb,
			.method = verb_name((enum http_verb)c->verb),
			.path = path,
			.query = query,
			.content_type = hval(c, HDR_CONTENT_TYPE),
			.body = c->body.p ? c->body.p : (const uint8_t *)"",
			.body_len = c->body.len,
			.caller = &c->caller,
			.public_listener = c->public_listener,
			.started = c->started,
			.conn = c,
		};
		if (server_routes[route].handler(n, &req, &ans) == HTTP_LATER) {
			http_conn_set_state(c, CS_WORKING, c->started);
			return HTTP_LATER;
		}
	}
	c->cache_control = ans.status == 200 ? ans.cache_control : NULL;
	http_conn_finish(c, ans.status, ans.content_type, c->ans.p, c->ans.len, ans.facility);
	return HTTP_DONE;
}

/* ---- refusals -------------------------------------------------------------------- */

static const char *refusal_reason(int status)
{
	switch (status) {
	case 408: return "request_timeout";
	case 411: return "length_required";
	case 413: return "body_too_large";
	case 414: return "uri_too_long";
	case 431: return "headers_too_large";
	case 501: return "not_implemented";
	case 503: return "internal";
	default: return "bad_request";
	}
}

void http_request_refuse(http_conn_t *c, int status, enum refusal why, const char *detail)
{
	http_answer_t ans = { .body = &c->ans };

	server_refused(c->n, why, status, detail);
	http_error(&ans, status, refusal_reason(status), "%s",
		   status == 413 ? "the body is over the server's limit (--max-body)"
		   : status == 411 ? "send the body with a Content-Length"
		   : status == 408 ? "the request did not arrive within the server's deadline"
				   : "the request was refused by the HTTP layer");
	c->close_after = true;
	c->linger = why != REFUSED_REQUEST_TIMEOUT;
	c->head = false;
	c->route = routes_count;
	c->started = c->since;
	http_conn_put_answer(c, status, ans.content_type, c->ans.p, c->ans.len);
	server_count_answer(c->n, c->route, status, server_now() - c->started);
}

void http_request_refuse_parse(http_conn_t *c, enum http_errno e)
{
	const char *detail = http_errno_description(e);

	if (c->refuse != 0) {
		http_request_refuse(c, c->refuse, c->refuse_why, c->refuse_detail);
		return;
	}
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		http_request_refuse(c, 431, REFUSED_HEADERS_TOO_LARGE, NULL);
		break;
	case HPE_INVALID_METHOD:
	case HPE_INVALID_TRANSFER_ENCODING:
		http_request_refuse(c, 501, REFUSED_NOT_IMPLEMENTED, detail);
		break;
	default:
		http_request_refuse(c, 400, REFUSED_BAD_REQUEST, detail);
	}
}
