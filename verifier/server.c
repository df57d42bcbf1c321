/*
 * server.c - yimad's network thread: listeners, routing, the reads it
 * answers itself (history, public view, dry runs, metrics), handing writes
 * to the writer thread, answers, request log, and draining on SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/buffer.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "server_int.h"
#include "yima/claim.h"
#include "yima/error.h"
#include "yima/query.h"
#include "yima/server.h"
#include "yima/wire.h"

#define BATCH_EVENTS_MAX 100000
#define CLAIM_CODES_MAX 10000

enum route { R_EVENTS, R_SETTLE, R_CODES, R_METRICS, R_HEALTHZ, R_OTHER };

struct server {
	server_opts_t o;
	struct event_base *base;
	struct evhttp *http, *public_http;
	struct evhttp_bound_socket *sock, *public_sock;
	SSL_CTX *ctx, *public_ctx;
	X509 *regulator_ca;
	ledger_t *lg;
	writer_t *writer;
	struct event *done_ev, *sigterm_ev, *sigint_ev, *flush_ev, *drain_ev;
	server_metrics_t m;
	uint64_t inflight;		/* write jobs not answered yet */
	bool draining;
	double drain_started;
};

double server_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void server_opts_init(server_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->max_body = (size_t)16 << 20;
	o->timeout_s = 30;
	o->refund_window_days = 10;
}

/* ---- answers -------------------------------------------------------------------- */

static const char *method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

/* One line per request: what a log collector needs, no request data
 * (codes and patient ids stay out of logs). */
static void log_request(struct server *s, struct evhttp_request *req, const char *facility,
			int status, double seconds)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	const char *uri = evhttp_request_get_uri(req);
	size_t plen = uri ? strcspn(uri, "?") : 0;

	if (s->o.quiet)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* /v1/codes/{code}: the code is not logged either */
	if (uri && strncmp(uri, "/v1/codes/", 10) == 0)
		plen = 9;
	fprintf(stderr, "%s yimad request facility=%s method=%s path=%.*s status=%d ms=%.3f\n", ts,
		facility && facility[0] ? facility : "-", method_name(req), (int)(plen > 200 ? 200 : plen),
		uri ? uri : "", status, seconds * 1000.0);
}

static const char *status_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void reply(struct server *s, struct evhttp_request *req, enum route r, double t0,
		  const char *facility, int status, const char *ctype, const void *body, size_t n)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	double dt = server_now() - t0;

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (n > 0)
		evbuffer_add(out, body, n);
	evhttp_send_reply(req, status, status_phrase(status), NULL);
	s->m.requests[r]++;
	s->m.status[status / 100 < 6 ? status / 100 : 5]++;
	metrics_observe_latency(&s->m, dt);
	log_request(s, req, facility, status, dt);
}

static void reply_error(struct server *s, struct evhttp_request *req, enum route r, double t0,
			const char *facility, int status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

static void reply_error(struct server *s, struct evhttp_request *req, enum route r, double t0,
			const char *facility, int status, const char *reason, const char *fmt, ...)
{
	char msg[512];
	buf_t b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_init(&b);
	if (wire_pack_error((unsigned)status, reason, msg, &b) < 0)
		buf_reset(&b);
	reply(s, req, r, t0, facility, status, "application/x-protobuf", b.p, b.len);
	buf_deinit(&b);
}

#define PROTO_CT "application/x-protobuf"

/* ---- request checks ------------------------------------------------------------ */

static bool is_protobuf(struct evhttp_request *req)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	size_t n = strlen(PROTO_CT);

	return ct != NULL && strncasecmp(ct, PROTO_CT, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body, contiguous, or NULL after answering 413/415. */
static const uint8_t *post_body(struct server *s, struct evhttp_request *req, enum route r,
				double t0, const caller_t *c, size_t *n)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);

	*n = evbuffer_get_length(in);
	if (!is_protobuf(req)) {
		reply_error(s, req, r, t0, c->cn, 415, "wrong_content_type",
			    "Content-Type must be " PROTO_CT);
		return NULL;
	}
	if (*n > s->o.max_body) {
		reply_error(s, req, r, t0, c->cn, 413, "body_too_large",
			    "body of %zu bytes is over the limit of %zu", *n, s->o.max_body);
		return NULL;
	}
	const uint8_t *p = evbuffer_pullup(in, -1);
	return p != NULL || *n == 0 ? (p ? p : (const uint8_t *)"") : NULL;
}

static bool caller_may_write(struct server *s, struct evhttp_request *req, enum route r,
			     double t0, const caller_t *c)
{
	if (c->kind == CALLER_REGULATOR) {
		reply_error(s, req, r, t0, NULL, 403, "read_only", "regulator certificates read only");
		return false;
	}
	if (c->kind == CALLER_NONE) {
		reply_error(s, req, r, t0, NULL, 401, "no_client_certificate",
			    "a facility client certificate is required");
		return false;
	}
	return true;
}

static job_t *job_new(enum job_kind kind, struct evhttp_request *req, const caller_t *c,
		      double t0, enum route r)
{
	job_t *j = calloc(1, sizeof *j);
	if (j == NULL)
		return NULL;
	j->kind = kind;
	j->req = req;
	j->caller = *c;
	j->started = t0;
	j->route = r;
	buf_init(&j->body);
	return j;
}

static void submit(struct server *s, job_t *j)
{
	s->inflight++;
	writer_submit(s->writer, j);
}

/* ---- POST /v1/events ------------------------------------------------------------- */

/* The facility a batch acts as: the certificate's; every event naming a
 * facility must name that one.  Returns false after answering. */
static bool batch_facility(struct server *s, struct evhttp_request *req, double t0,
			   const caller_t *c, const Yima__V1__EventBatch *b, char *fac)
{
	const char *want = c->kind == CALLER_FACILITY ? c->cn : NULL;

	for (size_t i = 0; i < b->n_events; i++) {
		const char *f = b->events[i]->facility;
		if (f == NULL || f[0] == '\0')
			continue;
		if (want == NULL)
			want = f;
		if (strcmp(f, want) != 0) {
			reply_error(s, req, R_EVENTS, t0, c->cn, 403, "forbidden_facility",
				    "event %zu names facility \"%.20s\", the caller is \"%.20s\"", i + 1, f,
				    want);
			return false;
		}
	}
	if (want == NULL || !event_is_facility_id(want, strlen(want))) {
		reply_error(s, req, R_EVENTS, t0, NULL, 400, "bad_body",
			    "the batch names no valid facility id");
		return false;
	}
	snprintf(fac, FACILITY_MAX + 1, "%s", want);
	return true;
}

static void on_events(struct server *s, struct evhttp_request *req, double t0, const caller_t *c)
{
	Yima__V1__EventBatch *b;
	const uint8_t *body;
	size_t n, idlen;
	job_t *j;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(s, req, R_EVENTS, t0, NULL, 405, "method_not_allowed", "use POST");
		return;
	}
	if (!caller_may_write(s, req, R_EVENTS, t0, c) ||
	    (body = post_body(s, req, R_EVENTS, t0, c, &n)) == NULL)
		return;
	if ((b = yima__v1__event_batch__unpack(NULL, n, body)) == NULL) {
		reply_error(s, req, R_EVENTS, t0, c->cn, 400, "bad_body",
			    "body (%zu bytes) does not decode as yima.v1.EventBatch", n);
		return;
	}
	idlen = strlen(b->batch_id);
	if (idlen == 0 || idlen > LEDGER_BATCH_ID_MAX || b->n_events == 0 ||
	    b->n_events > BATCH_EVENTS_MAX) {
		reply_error(s, req, R_EVENTS, t0, c->cn, 400, "bad_body",
			    "%s", idlen == 0 || idlen > LEDGER_BATCH_ID_MAX
			    ? "batch_id must be 1 to 128 bytes"
			    : "a batch holds 1 to 100000 events");
		goto free_batch;
	}
	if ((j = job_new(JOB_BATCH, req, c, t0, R_EVENTS)) == NULL) {
		reply_error(s, req, R_EVENTS, t0, c->cn, 503, "internal", "out of memory");
		goto free_batch;
	}
	if (!batch_facility(s, req, t0, c, b, j->facility)) {
		job_free(j);
		goto free_batch;
	}
	j->batch = b;
	submit(s, j);
	return;
free_batch:
	yima__v1__event_batch__free_unpacked(b, NULL);
}

/* ---- POST /v1/settle ------------------------------------------------------------ */

static void settle_dry_run(struct server *s, struct evhttp_request *req, double t0,
			   const Yima__V1__Claim *cl)
{
	wire_arena_t a = { NULL };
	wire_inputs_t in;
	claim_outcome_t o;
	ledger_txn_t *txn = NULL;
	buf_t b;
	int rc;

	memset(&o, 0, sizeof o);
	buf_init(&b);
	if ((rc = wire_claim_inputs(cl, &a, &in)) < 0)
		goto fail;
	o.n = in.n;
	if ((o.codes = calloc(in.n, sizeof *o.codes)) == NULL) {
		rc = YIMA_ENOMEM;
		goto fail;
	}
	if ((rc = ledger_txn_begin(s->lg, false, &txn)) < 0 ||
	    (rc = claim_settle(txn, yima_slice_cstr(cl->facility), yima_slice_cstr(cl->settlement),
			       in.in, in.n, true, &o)) < 0 ||
	    (rc = wire_pack_claim_verdict(cl->settlement, true, &o, &b)) < 0)
		goto fail;
	reply(s, req, R_SETTLE, t0, cl->facility, 200, PROTO_CT, b.p, b.len);
	goto done;
fail:
	reply_error(s, req, R_SETTLE, t0, cl->facility, 503, "ledger_error", "%s", yima_strerror(rc));
done:
	ledger_txn_abort(txn);
	free(o.codes);
	wire_arena_free(&a);
	buf_deinit(&b);
}

static void on_settle(struct server *s, struct evhttp_request *req, double t0, const caller_t *c)
{
	Yima__V1__Claim *cl;
	const uint8_t *body;
	size_t n, ncodes;
	job_t *j;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(s, req, R_SETTLE, t0, NULL, 405, "method_not_allowed", "use POST");
		return;
	}
	if (!caller_may_write(s, req, R_SETTLE, t0, c) ||
	    (body = post_body(s, req, R_SETTLE, t0, c, &n)) == NULL)
		return;
	if ((cl = yima__v1__claim__unpack(NULL, n, body)) == NULL) {
		reply_error(s, req, R_SETTLE, t0, c->cn, 400, "bad_body",
			    "body (%zu bytes) does not decode as yima.v1.Claim", n);
		return;
	}
	ncodes = wire_claim_ncodes(cl);
	if (c->kind == CALLER_FACILITY && strcmp(cl->facility, c->cn) != 0) {
		reply_error(s, req, R_SETTLE, t0, c->cn, 403, "forbidden_facility",
			    "claim names facility \"%.20s\", the caller is \"%s\"", cl->facility, c->cn);
	} else if (!event_is_facility_id(cl->facility, strlen(cl->facility))) {
		reply_error(s, req, R_SETTLE, t0, NULL, 400, "bad_body",
			    "claim facility is not a facility id ([A-Z0-9]{1,20})");
	} else if (ncodes == 0 || ncodes > CLAIM_CODES_MAX) {
		reply_error(s, req, R_SETTLE, t0, cl->facility, 400, "bad_body",
			    "a claim holds 1 to %d codes (this one %zu)", CLAIM_CODES_MAX, ncodes);
	} else if (cl->dry_run) {
		settle_dry_run(s, req, t0, cl);
	} else if ((j = job_new(JOB_CLAIM, req, c, t0, R_SETTLE)) == NULL) {
		reply_error(s, req, R_SETTLE, t0, cl->facility, 503, "internal", "out of memory");
	} else {
		snprintf(j->facility, sizeof j->facility, "%s", cl->facility);
		j->claim = cl;
		submit(s, j);
		return;
	}
	yima__v1__claim__free_unpacked(cl, NULL);
}

/* ---- GET /v1/codes/{code} ------------------------------------------------------ */

static bool wants_public(const char *query)
{
	struct evkeyvalq q;
	const char *v;
	bool pub = false;

	if (query == NULL)
		return false;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(query, &q) == 0 && (v = evhttp_find_header(&q, "view")) != NULL)
		pub = strcmp(v, "public") == 0;
	evhttp_clear_headers(&q);
	return pub;
}

static void on_code(struct server *s, struct evhttp_request *req, double t0, const caller_t *c,
		    const char *enc, bool public_only, bool pub)
{
	char why[256];
	char *raw;
	size_t n;
	query_t q;
	ledger_txn_t *txn;
	buf_t b;
	int rc;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(s, req, R_CODES, t0, c->cn, 405, "method_not_allowed", "use GET");
		return;
	}
	if (public_only && !pub) {
		reply_error(s, req, R_CODES, t0, NULL, 403, "not_handled",
			    "this address serves only ?view=public");
		return;
	}
	if ((raw = evhttp_uridecode(enc, 0, &n)) == NULL) {
		reply_error(s, req, R_CODES, t0, c->cn, 400, "malformed_code", "code does not decode");
		return;
	}
	buf_init(&b);
	if ((rc = ledger_txn_begin(s->lg, false, &txn)) < 0) {
		reply_error(s, req, R_CODES, t0, c->cn, 503, "ledger_error", "%s", yima_strerror(rc));
		goto free_raw;
	}
	rc = query_load(txn, raw, n, &q, why, sizeof why);
	if (rc == YIMA_EMALFORMED) {
		reply_error(s, req, R_CODES, t0, c->cn, 400, "malformed_code", "%s", why);
	} else if (rc == YIMA_ENOTFOUND) {
		reply_error(s, req, R_CODES, t0, c->cn, 404, "not_found", "code not in the ledger");
	} else if (rc < 0) {
		reply_error(s, req, R_CODES, t0, c->cn, 503, "ledger_error", "%s", why);
	} else {
		if (!pub && c->kind == CALLER_FACILITY && !wire_history_has_facility(&q, c->cn))
			reply_error(s, req, R_CODES, t0, c->cn, 403, "not_handled",
				    "facility %s has no record of this code", c->cn);
		else if (!pub && c->kind == CALLER_NONE)
			reply_error(s, req, R_CODES, t0, NULL, 401, "no_client_certificate",
				    "the full history needs a facility or regulator certificate");
		else if ((rc = pub ? wire_pack_public(txn, &q, &b) : wire_pack_history(&q, &b)) < 0)
			reply_error(s, req, R_CODES, t0, c->cn, 503, "internal", "%s", yima_strerror(rc));
		else
			reply(s, req, R_CODES, t0, c->cn, 200, PROTO_CT, b.p, b.len);
		query_free(&q);
	}
	ledger_txn_abort(txn);
free_raw:
	free(raw);
	buf_deinit(&b);
}

/* ---- routing ------------------------------------------------------------------------ */

static void dispatch(struct server *s, struct evhttp_request *req, bool public_only)
{
	double t0 = server_now();
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	const char *query = u ? evhttp_uri_get_query(u) : NULL;
	caller_t c;

	if (s->draining) {
		reply_error(s, req, R_OTHER, t0, NULL, 503, "shutting_down", "yimad is stopping");
		return;
	}
	memset(&c, 0, sizeof c);
	if (public_only)
		c.kind = CALLER_NONE;
	else if (s->o.insecure_http)
		c.kind = CALLER_TRUSTED;
	else
		tls_caller(req, s->regulator_ca, &c);
	if (path == NULL)
		path = "";
	if (strncmp(path, "/v1/codes/", 10) == 0 && path[10] != '\0') {
		on_code(s, req, t0, &c, path + 10, public_only, wants_public(query));
	} else if (public_only) {
		reply_error(s, req, R_OTHER, t0, NULL, 404, "not_found", "no such path");
	} else if (strcmp(path, "/v1/events") == 0) {
		on_events(s, req, t0, &c);
	} else if (strcmp(path, "/v1/settle") == 0) {
		on_settle(s, req, t0, &c);
	} else if (strcmp(path, "/metrics") == 0) {
		buf_t b;
		buf_init(&b);
		writer_counts(s->writer, &s->m.commits, &s->m.committed_jobs);
		metrics_render(&s->m, s->lg, &b);
		reply(s, req, R_METRICS, t0, c.cn, 200, "text/plain; version=0.0.4", b.p, b.len);
		buf_deinit(&b);
	} else if (strcmp(path, "/healthz") == 0) {
		reply(s, req, R_HEALTHZ, t0, c.cn, 200, "text/plain", "ok\n", 3);
	} else {
		reply_error(s, req, R_OTHER, t0, c.cn, 404, "not_found", "no such path");
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	dispatch(arg, req, false);
}

static void on_public_request(struct evhttp_request *req, void *arg)
{
	dispatch(arg, req, true);
}

/* Finished write jobs: answer them (network thread). */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	job_t *j, *next;

	(void)fd;
	(void)what;
	for (j = writer_take_done(s->writer); j != NULL; j = next) {
		next = j->next;
		for (int i = 0; i < 3; i++)
			s->m.verdicts[i] += j->verdicts[i];
		for (int i = 0; i < F_COUNT; i++)
			s->m.findings[i] += j->findings[i];
		reply(s, j->req, (enum route)j->route, j->started, j->facility, j->status, PROTO_CT,
		      j->body.p, j->body.len);
		s->inflight--;
		job_free(j);
	}
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fflush(stderr);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	(void)fd;
	(void)what;
	if (s->inflight == 0 || server_now() - s->drain_started > s->o.timeout_s)
		event_base_loopexit(s->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct timeval tick = { 0, 50000 };

	(void)what;
	if (s->draining)
		return;
	fprintf(stderr, "yimad: signal %d: draining %llu request(s) in flight\n", (int)sig,
		(unsigned long long)s->inflight);
	s->draining = true;
	s->drain_started = server_now();
	if (s->sock != NULL)
		evhttp_del_accept_socket(s->http, s->sock);
	if (s->public_sock != NULL)
		evhttp_del_accept_socket(s->public_http, s->public_sock);
	s->sock = s->public_sock = NULL;
	event_add(s->drain_ev, &tick);
}

static int split_hostport(const char *hp, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(hp, ':');
	const char *h = hp;
	size_t n;
	char *end;
	long p;

	if (colon == NULL)
		return -1;
	n = (size_t)(colon - hp);
	if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') {
		h = hp + 1;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end != '\0' || p < 0 || p > 65535 || end == colon + 1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* True when every address the host resolves to is loopback. */
static bool host_is_loopback(const char *host)
{
	struct addrinfo hints, *res, *ai;
	bool loop = true;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)ai->ai_addr;
			loop = loop && (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const void *)ai->ai_addr;
			loop = loop && IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		} else {
			loop = false;
		}
	}
	freeaddrinfo(res);
	return loop;
}

static struct evhttp *http_new(struct server *s, void (*cb)(struct evhttp_request *, void *))
{
	struct evhttp *h = evhttp_new(s->base);
	if (h == NULL)
		return NULL;
	evhttp_set_gencb(h, cb, s);
	evhttp_set_timeout(h, s->o.timeout_s);
	/* A backstop: libevent refuses (413) a body over the limit before
	 * buffering it all; post_body() answers the exact limit itself. */
	evhttp_set_max_body_size(h, (ev_ssize_t)s->o.max_body + 1);
	evhttp_set_max_headers_size(h, 64 * 1024);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
					   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	return h;
}

static int bind_listener(struct evhttp *h, const char *hp, struct evhttp_bound_socket **out,
			 char *why, size_t whylen)
{
	char host[256];
	uint16_t port;

	if (split_hostport(hp, host, sizeof host, &port) < 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "listen address \"%s\": want HOST:PORT", hp);
	if ((*out = evhttp_bind_socket_with_handle(h, host, port)) == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "cannot listen on %s: %s", hp, strerror(errno));
	/* Answers leave as several TLS records; with Nagle on, the second
	 * waits for the client's delayed ACK (40 ms).  Accepted sockets
	 * inherit the option from the listener (Linux). */
	int one = 1;
	setsockopt(evhttp_bound_socket_get_fd(*out), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

static int server_setup(struct server *s, char *why, size_t whylen)
{
	char host[256];
	uint16_t port;
	ledger_txn_t *txn;
	int rc;

	if (s->o.insecure_http) {
		if (split_hostport(s->o.listen, host, sizeof host, &port) < 0 || !host_is_loopback(host))
			return yima_fail(why, whylen, YIMA_EINVAL,
					 "--insecure-http serves only a loopback address, not \"%s\"",
					 s->o.listen);
	} else {
		if (!s->o.tls_cert || !s->o.tls_key || !s->o.client_ca)
			return yima_fail(why, whylen, YIMA_EINVAL,
					 "TLS needs --tls-cert, --tls-key and --client-ca (or --insecure-http on loopback)");
		if ((s->ctx = tls_server_ctx(s->o.tls_cert, s->o.tls_key, s->o.client_ca,
					     s->o.regulator_ca, why, whylen)) == NULL)
			return YIMA_ECRYPTO;
		if (s->o.regulator_ca && (s->regulator_ca = tls_load_cert(s->o.regulator_ca)) == NULL)
			return yima_fail(why, whylen, YIMA_ECRYPTO, "--regulator-ca %s: no certificate",
					 s->o.regulator_ca);
	}
	if ((rc = ledger_open(s->o.db, LEDGER_CREATE | LEDGER_SMALL_COMMITS, &s->lg, why, whylen)) < 0)
		return rc;
	if ((rc = ledger_txn_begin(s->lg, true, &txn)) < 0 ||
	    (ledger_refund_window_set(txn, s->o.refund_window_days), (rc = ledger_txn_commit(txn))) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", s->o.db, yima_strerror(rc));
	if (evthread_use_pthreads() != 0 || (s->base = event_base_new()) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: cannot start");
	if ((s->done_ev = event_new(s->base, -1, EV_READ | EV_PERSIST, on_done, s)) == NULL ||
	    (s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_signal, s)) == NULL ||
	    (s->sigint_ev = evsignal_new(s->base, SIGINT, on_signal, s)) == NULL ||
	    (s->flush_ev = event_new(s->base, -1, EV_PERSIST, on_flush, s)) == NULL ||
	    (s->drain_ev = event_new(s->base, -1, EV_PERSIST, on_drain_tick, s)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	struct timeval sec = { 1, 0 };
	event_add(s->done_ev, NULL);
	event_add(s->sigterm_ev, NULL);
	event_add(s->sigint_ev, NULL);
	event_add(s->flush_ev, &sec);
	if ((s->http = http_new(s, on_request)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	if (s->ctx != NULL)
		tls_attach(s->http, s->ctx);
	if ((rc = bind_listener(s->http, s->o.listen, &s->sock, why, whylen)) < 0)
		return rc;
	if (s->o.public_listen != NULL) {
		if (!s->o.tls_cert || !s->o.tls_key)
			return yima_fail(why, whylen, YIMA_EINVAL, "--public-listen needs --tls-cert and --tls-key");
		if ((s->public_ctx = tls_server_ctx(s->o.tls_cert, s->o.tls_key, NULL, NULL, why,
						    whylen)) == NULL)
			return YIMA_ECRYPTO;
		if ((s->public_http = http_new(s, on_public_request)) == NULL)
			return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
		tls_attach(s->public_http, s->public_ctx);
		if ((rc = bind_listener(s->public_http, s->o.public_listen, &s->public_sock, why,
					whylen)) < 0)
			return rc;
	}
	return writer_start(s->lg, s->done_ev, &s->writer) < 0
		       ? yima_fail(why, whylen, YIMA_ENOMEM, "cannot start the writer thread")
		       : 0;
}

static void server_teardown(struct server *s)
{
	writer_stop(s->writer);
	if (s->http)
		evhttp_free(s->http);
	if (s->public_http)
		evhttp_free(s->public_http);
	struct event *evs[] = { s->done_ev, s->sigterm_ev, s->sigint_ev, s->flush_ev, s->drain_ev };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	if (s->base)
		event_base_free(s->base);
	SSL_CTX_free(s->ctx);
	SSL_CTX_free(s->public_ctx);
	X509_free(s->regulator_ca);
	ledger_close(s->lg);
	fflush(stderr);
}

/* Run until SIGTERM/SIGINT; returns the exit code. */
int server_run(const server_opts_t *o)
{
	struct server s;
	char why[512];
	int rc;

	memset(&s, 0, sizeof s);
	s.o = *o;
	signal(SIGPIPE, SIG_IGN);
	/* Every client holds a socket: take all the descriptors allowed. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((rc = server_setup(&s, why, sizeof why)) < 0) {
		fprintf(stderr, "yimad: %s\n", why);
		server_teardown(&s);
		return 2;
	}
	fprintf(stderr, "yimad: serving %s on %s%s%s%s\n", o->db, o->listen,
		o->insecure_http ? " (insecure HTTP, loopback)" : " (TLS, client certificates)",
		o->public_listen ? ", public view on " : "", o->public_listen ? o->public_listen : "");
	fflush(stderr);
	event_base_dispatch(s.base);
	server_teardown(&s);
	fprintf(stderr, "yimad: stopped\n");
	return 0;
}
