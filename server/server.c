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
#include <unistd.h>

#include <event2/buffer.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "server_int.h"
#include "yima/verifier/claim.h"
#include "yima/util/error.h"
#include "yima/verifier/query.h"
#include "yima/server/server.h"
#include "tiles.h"
#include "wire.h"


enum route { R_EVENTS, R_SETTLE, R_CODES, R_METRICS, R_HEALTHZ, R_OTHER };

struct server;

/*
 * One network thread: its own event loop, HTTP servers and listening
 * sockets (SO_REUSEPORT: the kernel spreads connections over the
 * threads), its metrics, and the write jobs it waits for.  The shared
 * parts (options, ledger, writer, regulator CA) are read-only here.
 */
struct net {
	struct server *top;
	server_opts_t o;
	ledger_t *lg;
	X509 *regulator_ca;
	writer_t *writer;
	struct event_base *base;
	struct evhttp *http, *public_http;
	struct evhttp_bound_socket *sock, *public_sock;
	struct event *done_ev, *stop_ev, *drain_ev;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;		/* guards m and the done list */
	server_metrics_t m;
	job_t *done_head, *done_tail;	/* answered by the writer, to send */
	uint64_t inflight;		/* write jobs not answered yet */
	bool draining;
	double drain_started;
};

static void metrics_sum(struct server *top, server_metrics_t *sum);

struct server {
	server_opts_t o;
	SSL_CTX *ctx, *public_ctx;
	X509 *regulator_ca;
	ledger_t *lg;
	writer_t *writer;
	struct event_base *base;	/* main thread: signals, log flushing */
	struct event *sigterm_ev, *sigint_ev, *flush_ev;
	int nnets;
	struct net *nets;
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
	o->refund_window_days = REFUND_WINDOW_DAYS_DEFAULT;
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
static void log_request(struct net *s, struct evhttp_request *req, const char *facility,
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

static void reply(struct net *s, struct evhttp_request *req, enum route r, double t0,
		  const char *facility, int status, const char *ctype, const void *body, size_t n)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	double dt = server_now() - t0;

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (n > 0)
		evbuffer_add(out, body, n);
	evhttp_send_reply(req, status, status_phrase(status), NULL);
	pthread_mutex_lock(&s->mu);
	s->m.requests[r]++;
	s->m.status[status / 100 < 6 ? status / 100 : 5]++;
	metrics_observe_latency(&s->m, dt);
	pthread_mutex_unlock(&s->mu);
	log_request(s, req, facility, status, dt);
}

static void reply_error(struct net *s, struct evhttp_request *req, enum route r, double t0,
			const char *facility, int status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

static void reply_error(struct net *s, struct evhttp_request *req, enum route r, double t0,
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
static const uint8_t *post_body(struct net *s, struct evhttp_request *req, enum route r,
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

static bool caller_may_write(struct net *s, struct evhttp_request *req, enum route r,
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

static job_t *job_new(struct net *s, struct evhttp_request *req, const caller_t *c,
		      double t0, enum route r)
{
	job_t *j = calloc(1, sizeof *j);
	if (j == NULL)
		return NULL;
	j->owner = s;
	j->req = req;
	j->caller = *c;
	j->started = t0;
	j->route = r;
	buf_init(&j->body);
	return j;
}

static void submit(struct net *s, job_t *j)
{
	s->inflight++;
	writer_submit(s->writer, j);
}

/* ---- POST /v1/events ------------------------------------------------------------- */

/* The facility a batch acts as: the certificate's; every event naming a
 * facility must name that one.  Returns false after answering. */
static bool batch_facility(struct net *s, struct evhttp_request *req, double t0,
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

static void on_events(struct net *s, struct evhttp_request *req, double t0, const caller_t *c)
{
	Yima__V1__EventBatch *b;
	char fac[FACILITY_MAX + 1];
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
	if (idlen == 0 || idlen > BATCH_ID_MAX || b->n_events == 0 ||
	    b->n_events > BATCH_EVENTS_MAX) {
		reply_error(s, req, R_EVENTS, t0, c->cn, 400, "bad_body",
			    "%s", idlen == 0 || idlen > BATCH_ID_MAX
			    ? "batch_id must be 1 to 128 bytes"
			    : "a batch holds 1 to 100000 events");
		goto free_batch;
	}
	if (!batch_facility(s, req, t0, c, b, fac))
		goto free_batch;
	if ((j = job_new(s, req, c, t0, R_EVENTS)) == NULL) {
		reply_error(s, req, R_EVENTS, t0, c->cn, 503, "internal", "out of memory");
		goto free_batch;
	}
	if (request_from_batch(&j->request, b, fac) < 0) {	/* frees b */
		reply_error(s, req, R_EVENTS, t0, c->cn, 503, "internal", "out of memory");
		job_free(j);
		return;
	}
	submit(s, j);
	return;
free_batch:
	yima__v1__event_batch__free_unpacked(b, NULL);
}

/* ---- POST /v1/settle ------------------------------------------------------------ */

static void settle_dry_run(struct net *s, struct evhttp_request *req, double t0,
			   request_t *r)
{
	ledger_txn_t *txn = NULL;
	request_result_t res;
	buf_t b;
	int rc;

	buf_init(&b);
	if ((rc = ledger_txn_begin(s->lg, false, &txn)) < 0 ||
	    (rc = request_run(txn, r, &b, &res)) < 0)
		reply_error(s, req, R_SETTLE, t0, r->facility, 503, "ledger_error", "%s",
			    yima_strerror(rc));
	else
		reply(s, req, R_SETTLE, t0, r->facility, 200, PROTO_CT, b.p, b.len);
	ledger_txn_abort(txn);
	buf_deinit(&b);
}

/* A decoded claim: run at once when dry, else handed to the writer. */
static void settle_claim(struct net *s, struct evhttp_request *req, double t0,
			 const caller_t *c, Yima__V1__Claim *cl)
{
	request_t r;
	job_t *j;

	if (request_from_claim(&r, cl) < 0) {	/* frees cl */
		reply_error(s, req, R_SETTLE, t0, c->cn, 503, "internal", "out of memory");
		return;
	}
	if (r.dry_run) {
		settle_dry_run(s, req, t0, &r);
		request_free(&r);
		return;
	}
	if ((j = job_new(s, req, c, t0, R_SETTLE)) == NULL) {
		reply_error(s, req, R_SETTLE, t0, r.facility, 503, "internal", "out of memory");
		request_free(&r);
		return;
	}
	j->request = r;
	submit(s, j);
}

static void on_settle(struct net *s, struct evhttp_request *req, double t0, const caller_t *c)
{
	Yima__V1__Claim *cl;
	const uint8_t *body;
	size_t n, ncodes;

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
	} else {
		settle_claim(s, req, t0, c, cl);
		return;
	}
	yima__v1__claim__free_unpacked(cl, NULL);
}

/* ---- GET /v1/codes/{code} ------------------------------------------------------ */

static int pack_public(ledger_txn_t *txn, const query_t *q, buf_t *out)
{
	view_public_t v;
	int rc = view_public(txn, q, &v);

	return rc < 0 ? rc : wire_pack_public(q, &v, out);
}

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

static void on_code(struct net *s, struct evhttp_request *req, double t0, const caller_t *c,
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
		if (!pub && c->kind == CALLER_FACILITY && !view_facility_handled(&q, c->cn))
			reply_error(s, req, R_CODES, t0, c->cn, 403, "not_handled",
				    "facility %s has no record of this code", c->cn);
		else if (!pub && c->kind == CALLER_NONE)
			reply_error(s, req, R_CODES, t0, NULL, 401, "no_client_certificate",
				    "the full history needs a facility or regulator certificate");
		else if ((rc = pub ? pack_public(txn, &q, &b) : wire_pack_history(&q, &b)) < 0)
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

/* ---- the verifiable log's read API (tiles.c) ------------------------------------------ */

static void on_log(struct net *s, struct evhttp_request *req, double t0, const caller_t *c,
		   const char *path, const char *query)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	log_answer_t a;

	log_api_serve(s->lg, cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD, path, query, c->kind, &a);
	if (a.status != 200) {
		reply_error(s, req, R_OTHER, t0, c->cn, a.status, a.reason, "%s", a.message);
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", a.cache_control);
		reply(s, req, R_OTHER, t0, c->cn, 200, a.content_type, a.body.p, a.body.len);
	}
	buf_deinit(&a.body);
}

/* ---- routing ------------------------------------------------------------------------ */

static void dispatch(struct net *s, struct evhttp_request *req, bool public_only)
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
	} else if (log_api_path(path)) {
		on_log(s, req, t0, &c, path, query);
	} else if (public_only) {
		reply_error(s, req, R_OTHER, t0, NULL, 404, "not_found", "no such path");
	} else if (strcmp(path, "/v1/events") == 0) {
		on_events(s, req, t0, &c);
	} else if (strcmp(path, "/v1/settle") == 0) {
		on_settle(s, req, t0, &c);
	} else if (strcmp(path, "/metrics") == 0) {
		server_metrics_t sum;
		buf_t b;
		buf_init(&b);
		metrics_sum(s->top, &sum);
		metrics_render(&sum, s->lg, &b);
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

/* Every network thread's metrics added up, and the writer's counts. */
static void metrics_sum(struct server *top, server_metrics_t *sum)
{
	memset(sum, 0, sizeof *sum);
	for (int t = 0; t < top->nnets; t++) {
		struct net *n = &top->nets[t];
		pthread_mutex_lock(&n->mu);
		for (int i = 0; i < 6; i++) {
			sum->requests[i] += n->m.requests[i];
			sum->status[i] += n->m.status[i];
		}
		for (int i = 0; i < 3; i++)
			sum->verdicts[i] += n->m.verdicts[i];
		for (int i = 0; i < F_COUNT; i++)
			sum->findings[i] += n->m.findings[i];
		for (int i = 0; i <= METRICS_BUCKETS; i++)
			sum->latency_bucket[i] += n->m.latency_bucket[i];
		sum->latency_sum += n->m.latency_sum;
		sum->latency_count += n->m.latency_count;
		pthread_mutex_unlock(&n->mu);
	}
	writer_counts(top->writer, &sum->commits, &sum->committed_jobs);
}

/* Writer thread: an answered job goes back to its network thread. */
static void deliver(job_t *j)
{
	struct net *n = j->owner;

	pthread_mutex_lock(&n->mu);
	if (n->done_tail != NULL)
		n->done_tail->next = j;
	else
		n->done_head = j;
	n->done_tail = j;
	pthread_mutex_unlock(&n->mu);
	event_active(n->done_ev, EV_READ, 0);
}

/* Finished write jobs: answer them (network thread). */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct net *s = arg;
	job_t *j, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&s->mu);
	j = s->done_head;
	s->done_head = s->done_tail = NULL;
	for (job_t *k = j; k != NULL; k = k->next) {
		for (int i = 0; i < 3; i++)
			s->m.verdicts[i] += k->verdicts[i];
		for (int i = 0; i < F_COUNT; i++)
			s->m.findings[i] += k->findings[i];
	}
	pthread_mutex_unlock(&s->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		reply(s, j->req, (enum route)j->route, j->started, j->request.facility, j->status, PROTO_CT,
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
	struct net *n = arg;
	(void)fd;
	(void)what;
	if (n->inflight == 0 || server_now() - n->drain_started > n->o.timeout_s)
		event_base_loopexit(n->base, NULL);
}

/* A network thread stops accepting, answers what it has in flight (new
 * requests on open connections get 503), then leaves its loop. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct net *n = arg;
	struct timeval tick = { 0, 50000 };

	(void)fd;
	(void)what;
	if (n->draining)
		return;
	n->draining = true;
	n->drain_started = server_now();
	if (n->sock != NULL)
		evhttp_del_accept_socket(n->http, n->sock);
	if (n->public_sock != NULL)
		evhttp_del_accept_socket(n->public_http, n->public_sock);
	n->sock = n->public_sock = NULL;
	event_add(n->drain_ev, &tick);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *top = arg;

	(void)what;
	fprintf(stderr, "yimad: signal %d: draining\n", (int)sig);
	for (int t = 0; t < top->nnets; t++)
		event_active(top->nets[t].stop_ev, EV_READ, 0);
	event_base_loopexit(top->base, NULL);
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

static struct evhttp *http_new(struct net *n, void (*cb)(struct evhttp_request *, void *))
{
	struct evhttp *h = evhttp_new(n->base);
	if (h == NULL)
		return NULL;
	evhttp_set_gencb(h, cb, n);
	evhttp_set_timeout(h, n->o.timeout_s);
	/* A backstop: libevent refuses (413) a body over the limit before
	 * buffering it all; post_body() answers the exact limit itself. */
	evhttp_set_max_body_size(h, (ev_ssize_t)n->o.max_body + 1);
	evhttp_set_max_headers_size(h, 64 * 1024);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
					   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	return h;
}

/*
 * A listening socket for hp, one per network thread: SO_REUSEPORT lets
 * each thread have its own and the kernel spread connections over them.
 * *port is 0 for the first (a port 0 in hp is then chosen by the kernel
 * and written back for the others).
 */
static int listen_socket(const char *hp, uint16_t *port, int *out, char *why, size_t whylen)
{
	char host[256], serv[8];
	struct addrinfo hints, *res = NULL;
	uint16_t want;
	int fd = -1, one = 1, rc;

	*out = -1;
	if (split_hostport(hp, host, sizeof host, &want) < 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "listen address \"%s\": want HOST:PORT", hp);
	snprintf(serv, sizeof serv, "%u", *port ? *port : want);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "listen address %s: %s", hp, gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* Answers leave as several TLS records; with Nagle on, the second
	 * waits for the client's delayed ACK (40 ms).  Accepted sockets
	 * inherit the option from the listener (Linux). */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		rc = yima_fail(why, whylen, YIMA_EIO, "cannot listen on %s: %s", hp, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return rc;
	}
	freeaddrinfo(res);
	if (*port == 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							       : ((struct sockaddr_in *)&ss)->sin_port);
	}
	*out = fd;
	return 0;
}

static int net_listen(struct evhttp *h, const char *hp, uint16_t *port,
		      struct evhttp_bound_socket **sock, char *why, size_t whylen)
{
	int fd, rc;

	if ((rc = listen_socket(hp, port, &fd, why, whylen)) < 0)
		return rc;
	if ((*sock = evhttp_accept_socket_with_handle(h, fd)) == NULL) {
		close(fd);
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: cannot listen on %s", hp);
	}
	return 0;
}

static int net_setup(struct server *top, struct net *n, uint16_t *port, uint16_t *public_port,
		     char *why, size_t whylen)
{
	int rc;

	n->top = top;
	n->o = top->o;
	n->lg = top->lg;
	n->regulator_ca = top->regulator_ca;
	n->writer = top->writer;
	if ((n->base = event_base_new()) == NULL ||
	    (n->done_ev = event_new(n->base, -1, EV_READ | EV_PERSIST, on_done, n)) == NULL ||
	    (n->stop_ev = event_new(n->base, -1, EV_READ, on_stop, n)) == NULL ||
	    (n->drain_ev = event_new(n->base, -1, EV_PERSIST, on_drain_tick, n)) == NULL ||
	    (n->http = http_new(n, on_request)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	event_add(n->done_ev, NULL);
	event_add(n->stop_ev, NULL);
	if (top->ctx != NULL)
		tls_attach(n->http, top->ctx);
	if ((rc = net_listen(n->http, n->o.listen, port, &n->sock, why, whylen)) < 0)
		return rc;
	if (n->o.public_listen == NULL)
		return 0;
	if ((n->public_http = http_new(n, on_public_request)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	tls_attach(n->public_http, top->public_ctx);
	return net_listen(n->public_http, n->o.public_listen, public_port, &n->public_sock, why,
			  whylen);
}

static void *net_main(void *arg)
{
	struct net *n = arg;
	event_base_dispatch(n->base);
	return NULL;
}

static void net_teardown(struct net *n)
{
	job_t *j, *next;

	if (n->http)
		evhttp_free(n->http);
	if (n->public_http)
		evhttp_free(n->public_http);
	struct event *evs[] = { n->done_ev, n->stop_ev, n->drain_ev };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	if (n->base)
		event_base_free(n->base);
	/* jobs answered after a drain timed out: nobody to send them to */
	for (j = n->done_head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&n->mu);
}

static int tls_setup(struct server *s, char *why, size_t whylen)
{
	char host[256];
	uint16_t port;

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
	if (s->o.public_listen == NULL)
		return 0;
	if (!s->o.tls_cert || !s->o.tls_key)
		return yima_fail(why, whylen, YIMA_EINVAL, "--public-listen needs --tls-cert and --tls-key");
	s->public_ctx = tls_server_ctx(s->o.tls_cert, s->o.tls_key, NULL, NULL, why, whylen);
	return s->public_ctx ? 0 : YIMA_ECRYPTO;
}

static int server_setup(struct server *s, char *why, size_t whylen)
{
	uint16_t port = 0, public_port = 0;
	ledger_txn_t *txn;
	int rc;

	if ((rc = tls_setup(s, why, whylen)) < 0)
		return rc;
	if ((rc = ledger_open(s->o.db, LEDGER_CREATE | LEDGER_SMALL_COMMITS, &s->lg, why, whylen)) < 0)
		return rc;
	/* the verifiable log exists before the first request (spec section 8) */
	if ((rc = ledger_log_start(s->lg, s->o.log_origin, why, whylen)) < 0)
		return rc;
	if ((rc = ledger_txn_begin(s->lg, true, &txn)) < 0 ||
	    (ledger_refund_window_set(txn, s->o.refund_window_days), (rc = ledger_txn_commit(txn))) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", s->o.db, yima_strerror(rc));
	if (evthread_use_pthreads() != 0 || (s->base = event_base_new()) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: cannot start");
	if ((s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_signal, s)) == NULL ||
	    (s->sigint_ev = evsignal_new(s->base, SIGINT, on_signal, s)) == NULL ||
	    (s->flush_ev = event_new(s->base, -1, EV_PERSIST, on_flush, s)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	struct timeval sec = { 1, 0 };
	event_add(s->sigterm_ev, NULL);
	event_add(s->sigint_ev, NULL);
	event_add(s->flush_ev, &sec);
	if (writer_start(s->lg, deliver, &s->writer) < 0)
		return yima_fail(why, whylen, YIMA_ENOMEM, "cannot start the writer thread");
	if ((s->nets = calloc((size_t)s->o.threads, sizeof *s->nets)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	for (int t = 0; t < s->o.threads; t++) {
		if (pthread_mutex_init(&s->nets[t].mu, NULL) != 0)
			return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
		s->nnets++;
		if ((rc = net_setup(s, &s->nets[t], &port, &public_port, why, whylen)) < 0)
			return rc;
	}
	for (int t = 0; t < s->nnets; t++) {
		if (pthread_create(&s->nets[t].thread, NULL, net_main, &s->nets[t]) != 0)
			return yima_fail(why, whylen, YIMA_ENOMEM, "cannot start a network thread");
		s->nets[t].started = true;
	}
	return 0;
}

static void server_teardown(struct server *s)
{
	/* Network threads first (they drain), then the writer, whose last
	 * answers may still be handed to them, then their memory. */
	for (int t = 0; t < s->nnets; t++) {
		if (!s->nets[t].started)
			continue;
		event_active(s->nets[t].stop_ev, EV_READ, 0);
		pthread_join(s->nets[t].thread, NULL);
	}
	writer_stop(s->writer);
	for (int t = 0; t < s->nnets; t++)
		net_teardown(&s->nets[t]);
	free(s->nets);
	struct event *evs[] = { s->sigterm_ev, s->sigint_ev, s->flush_ev };
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

int server_run(const server_opts_t *o)
{
	struct server s;
	char why[512];
	int rc;

	memset(&s, 0, sizeof s);
	s.o = *o;
	if (s.o.threads <= 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		s.o.threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	}
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
	fprintf(stderr, "yimad: serving %s on %s%s%s%s, %d network thread(s)\n", o->db, o->listen,
		o->insecure_http ? " (insecure HTTP, loopback)" : " (TLS, client certificates)",
		o->public_listen ? ", public view on " : "", o->public_listen ? o->public_listen : "",
		s.nnets);
	fflush(stderr);
	event_base_dispatch(s.base);
	server_teardown(&s);
	fprintf(stderr, "yimad: stopped\n");
	return 0;
}
