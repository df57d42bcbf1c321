/*
 * server_routes.c - what yimad serves (spec section 6): the route table
 * and its handlers: event batches and claims (handed to the writer
 * thread), code history and the public view, dry runs, metrics, health.
 *
 * A handler sees the request as http.h gives it and fills the answer;
 * the HTTP layer (server/http/) does the rest.  A new route is a new row.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http.h"
#include "server_int.h"
#include "tiles.h"
#include "wire.h"
#include "yima/util/error.h"
#include "yima/verifier/query.h"
#include "yima/verifier/view.h"

#define PROTO_CT "application/x-protobuf"

/* ---- request checks ------------------------------------------------------------ */

/* A POST of a protobuf body, else false after answering 405/415.  (The
 * HTTP layer has refused a body over --max-body already: 413.) */
static bool post_protobuf(const http_req_t *req, http_answer_t *ans)
{
	if (req->verb != HTTP_VERB_POST) {
		http_error(ans, 405, "method_not_allowed", "use POST");
		return false;
	}
	if (!http_is_protobuf(req->content_type)) {
		http_error(ans, 415, "wrong_content_type",
			   "Content-Type must be application/x-protobuf (or application/protobuf)");
		return false;
	}
	return true;
}

static bool caller_may_write(const caller_t *c, http_answer_t *ans)
{
	if (c->kind == CALLER_REGULATOR) {
		http_error(ans, 403, "read_only", "regulator certificates read only");
		return false;
	}
	if (c->kind == CALLER_NONE) {
		http_error(ans, 401, "no_client_certificate", "a facility client certificate is required");
		return false;
	}
	return true;
}

static job_t *job_new(struct net *n, const http_req_t *req)
{
	job_t *j = calloc(1, sizeof *j);
	if (j == NULL)
		return NULL;
	j->owner = n;
	j->conn = req->conn;
	j->caller = *req->caller;
	j->started = req->started;
	buf_init(&j->body);
	return j;
}

static int submit(struct net *n, job_t *j)
{
	n->inflight++;
	if (n->node != NULL)
		cworkers_submit(n->cworkers, j);	/* a cluster node: server_cluster.c */
	else
		writer_submit(n->writer, j);
	return HTTP_LATER;
}

/* ---- POST /v1/events ------------------------------------------------------------- */

/* May the caller act as facility f?  A facility as itself, a relay as the
 * facilities its patterns match (relay.h). */
static bool may_act_as(const caller_t *c, const char *f)
{
	if (c->kind == CALLER_RELAY)
		return relay_may_act_as(c->relay, f, strlen(f));
	return c->kind != CALLER_FACILITY || strcmp(f, c->cn) == 0;
}

/* A relay's batch: every event naming a facility must name one it may act
 * for; the batch belongs to the relay (its id is the relay's to choose). */
static bool relay_batch(const caller_t *c, const Yima__V1__EventBatch *b, char *owner,
			http_answer_t *ans)
{
	for (size_t i = 0; i < b->n_events; i++) {
		const char *f = b->events[i]->facility;
		if (f != NULL && f[0] != '\0' && !may_act_as(c, f)) {
			http_error(ans, 403, "forbidden_facility",
				   "event %zu names facility \"%.20s\", which relay %s does not serve", i + 1,
				   f, c->cn);
			return false;
		}
	}
	snprintf(owner, RELAY_CN_MAX + 1, "%s", c->cn);
	return true;
}

/* The owner of a batch: the certificate's facility, every event naming a
 * facility naming that one (a relay's: relay_batch()).  Returns false
 * after answering. */
static bool batch_facility(const caller_t *c, const Yima__V1__EventBatch *b, char *fac,
			   http_answer_t *ans)
{
	const char *want = c->kind == CALLER_FACILITY ? c->cn : NULL;

	if (c->kind == CALLER_RELAY)
		return relay_batch(c, b, fac, ans);
	for (size_t i = 0; i < b->n_events; i++) {
		const char *f = b->events[i]->facility;
		if (f == NULL || f[0] == '\0')
			continue;
		if (want == NULL)
			want = f;
		if (strcmp(f, want) != 0) {
			http_error(ans, 403, "forbidden_facility",
				   "event %zu names facility \"%.20s\", the caller is \"%.20s\"", i + 1, f, want);
			return false;
		}
	}
	if (want == NULL || !event_is_facility_id(want, strlen(want))) {
		http_error(ans, 400, "bad_body", "the batch names no valid facility id");
		return false;
	}
	snprintf(fac, RELAY_CN_MAX + 1, "%s", want);	/* fac: the owner buffer */
	return true;
}

static int on_events(struct net *n, const http_req_t *req, http_answer_t *ans)
{
	Yima__V1__EventBatch *b;
	char fac[RELAY_CN_MAX + 1];
	size_t idlen;
	job_t *j;

	if (!post_protobuf(req, ans) || !caller_may_write(req->caller, ans))
		return HTTP_DONE;
	if ((b = yima__v1__event_batch__unpack(NULL, req->body_len, req->body)) == NULL) {
		http_error(ans, 400, "bad_body", "body (%zu bytes) does not decode as yima.v1.EventBatch",
			   req->body_len);
		return HTTP_DONE;
	}
	idlen = strlen(b->batch_id);
	if (idlen == 0 || idlen > BATCH_ID_MAX || b->n_events == 0 ||
	    b->n_events > BATCH_EVENTS_MAX) {
		http_error(ans, 400, "bad_body", "%s", idlen == 0 || idlen > BATCH_ID_MAX
			   ? "batch_id must be 1 to 128 bytes" : "a batch holds 1 to 100000 events");
		goto free_batch;
	}
	if (!batch_facility(req->caller, b, fac, ans))
		goto free_batch;
	if ((j = job_new(n, req)) == NULL) {
		http_error(ans, 503, "internal", "out of memory");
		goto free_batch;
	}
	if (request_from_batch(&j->request, b, fac) < 0) {	/* frees b */
		http_error(ans, 503, "internal", "out of memory");
		job_free(j);
		return HTTP_DONE;
	}
	return submit(n, j);
free_batch:
	yima__v1__event_batch__free_unpacked(b, NULL);
	return HTTP_DONE;
}

/* ---- POST /v1/settle ------------------------------------------------------------ */

static void settle_dry_run(struct net *n, request_t *r, http_answer_t *ans)
{
	ledger_txn_t *txn = NULL;
	request_result_t res;
	int rc;

	if ((rc = ledger_txn_begin(n->lg, false, &txn)) < 0 ||
	    (rc = request_run(txn, r, ans->body, &res)) < 0) {
		http_error(ans, 503, "ledger_error", "%s", yima_strerror(rc));
	} else {
		ans->status = 200;
		ans->content_type = PROTO_CT;
	}
	ledger_txn_abort(txn);
}

/* A checked claim, decoded once: answered at once when dry, else handed
 * to the writer. */
static int settle_claim(struct net *n, const http_req_t *req, Yima__V1__Claim *cl,
			http_answer_t *ans)
{
	request_t r;
	job_t *j;

	if (request_from_claim(&r, cl) < 0) {	/* frees cl */
		http_error(ans, 503, "internal", "out of memory");
		return HTTP_DONE;
	}
	if (r.dry_run && n->node == NULL) {
		settle_dry_run(n, &r, ans);
		request_free(&r);
		return HTTP_DONE;
	}
	if ((j = job_new(n, req)) == NULL) {
		http_error(ans, 503, "internal", "out of memory");
		request_free(&r);
		return HTTP_DONE;
	}
	j->request = r;
	return submit(n, j);
}

static int on_settle(struct net *n, const http_req_t *req, http_answer_t *ans)
{
	const caller_t *c = req->caller;
	Yima__V1__Claim *cl;
	size_t ncodes;

	if (!post_protobuf(req, ans) || !caller_may_write(c, ans))
		return HTTP_DONE;
	if ((cl = yima__v1__claim__unpack(NULL, req->body_len, req->body)) == NULL) {
		http_error(ans, 400, "bad_body", "body (%zu bytes) does not decode as yima.v1.Claim",
			   req->body_len);
		return HTTP_DONE;
	}
	ncodes = wire_claim_ncodes(cl);
	if (!may_act_as(c, cl->facility)) {
		http_error(ans, 403, "forbidden_facility", "claim names facility \"%.20s\", the caller is \"%s\"",
			   cl->facility, c->cn);
	} else if (!event_is_facility_id(cl->facility, strlen(cl->facility))) {
		http_error(ans, 400, "bad_body", "claim facility is not a facility id ([A-Z0-9]{1,20})");
	} else if (ncodes == 0 || ncodes > CLAIM_CODES_MAX) {
		http_error(ans, 400, "bad_body", "a claim holds 1 to %d codes (this one %zu)",
			   CLAIM_CODES_MAX, ncodes);
	} else {
		return settle_claim(n, req, cl, ans);
	}
	yima__v1__claim__free_unpacked(cl, NULL);
	return HTTP_DONE;
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

static int pack_public(ledger_txn_t *txn, const query_t *q, buf_t *out)
{
	view_public_t v;
	int rc = view_public(txn, q, &v);

	return rc < 0 ? rc : wire_pack_public(q, &v, out);
}

/* A loaded code's answer: the public view to anyone, the history to
 * regulators whole and to a facility that handled the code without other
 * facilities' settlement ids and counterparties (verifier/view.h). */
static bool caller_owns(void *arg, yima_slice_t f)
{
	const caller_t *c = arg;
	char fac[FACILITY_MAX + 1];

	if (f.n > FACILITY_MAX)
		return false;
	memcpy(fac, f.p, f.n);
	fac[f.n] = '\0';
	return may_act_as(c, fac);
}

static void code_answer(ledger_txn_t *txn, query_t *q, const caller_t *c, bool pub,
			http_answer_t *ans)
{
	bool facing = !pub && (c->kind == CALLER_FACILITY || c->kind == CALLER_RELAY);
	int rc;

	if (facing && !view_handled(q, caller_owns, (void *)c)) {
		http_error(ans, 403, "not_handled", "facility %s has no record of this code", c->cn);
		return;
	}
	if (!pub && c->kind == CALLER_NONE) {
		http_error(ans, 401, "no_client_certificate",
			   "the full history needs a facility or regulator certificate");
		return;
	}
	if (facing)
		view_redact(q, caller_owns, (void *)c);
	if ((rc = pub ? pack_public(txn, q, ans->body) : wire_pack_history(q, ans->body)) < 0)
		http_error(ans, 503, "internal", "%s", yima_strerror(rc));
	else {
		ans->status = 200;
		ans->content_type = PROTO_CT;
	}
}

/* The ledger that holds the code scanned as raw: a cluster node's view of
 * its partition (NULL, answered 503, when this node does not serve it). */
static ledger_t *code_ledger(struct net *n, const char *raw, size_t len, http_answer_t *ans)
{
	code_t c;
	char why[128];
	ledger_t *lg;

	if (n->node == NULL)
		return n->lg;
	if (code_normalize(raw, len, &c, why, sizeof why) < 0)
		return cluster_any_ledger(n->node);	/* query_load() says why */
	unsigned k = cluster_partition_of_code(c.canon, c.canon_len, cluster_partitions(n->node));
	if ((lg = cluster_view_ledger(n->node, k)) == NULL)
		http_error(ans, 503, "partition_elsewhere", "partition %u is not served by this node", k);
	return lg;
}

static int on_code(struct net *n, const http_req_t *req, http_answer_t *ans)
{
	ledger_t *lg;
	const char *enc = req->path + strlen("/v1/codes/");
	bool pub = wants_public(req->query);
	char why[256];
	char *raw;
	size_t len;
	query_t q;
	ledger_txn_t *txn;
	int rc;

	if (req->verb != HTTP_VERB_GET) {
		http_error(ans, 405, "method_not_allowed", "use GET");
		return HTTP_DONE;
	}
	if (req->public_listener && !pub) {
		http_error(ans, 403, "not_handled", "this address serves only ?view=public");
		return HTTP_DONE;
	}
	if (*enc == '\0' || (raw = evhttp_uridecode(enc, 0, &len)) == NULL) {
		http_error(ans, 400, "malformed_code", "code does not decode");
		return HTTP_DONE;
	}
	if ((lg = code_ledger(n, raw, len, ans)) == NULL)
		goto free_raw;
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0) {
		http_error(ans, 503, "ledger_error", "%s", yima_strerror(rc));
		goto free_raw;
	}
	rc = query_load(txn, raw, len, &q, why, sizeof why);
	if (rc == YIMA_EMALFORMED) {
		http_error(ans, 400, "malformed_code", "%s", why);
	} else if (rc == YIMA_ENOTFOUND) {
		http_error(ans, 404, "not_found", "code not in the ledger");
	} else if (rc < 0) {
		http_error(ans, 503, "ledger_error", "%s", why);
	} else {
		code_answer(txn, &q, req->caller, pub, ans);
		query_free(&q);
	}
	ledger_txn_abort(txn);
free_raw:
	free(raw);
	return HTTP_DONE;
}

/* ---- GET /metrics, GET /healthz ----------------------------------------------------- */

static int on_metrics(struct net *n, const http_req_t *req, http_answer_t *ans)
{
	server_metrics_t sum;

	if (req->verb != HTTP_VERB_GET) {
		http_error(ans, 405, "method_not_allowed", "use GET");
		return HTTP_DONE;
	}
	server_metrics_sum(n->top, &sum);
	metrics_render(&sum, n->node ? cluster_any_ledger(n->node) : n->lg, ans->body);
	if (n->node != NULL)
		metrics_render_cluster(n->node, ans->body);
	ans->status = 200;
	ans->content_type = "text/plain; version=0.0.4";
	return HTTP_DONE;
}

static int on_healthz(struct net *n, const http_req_t *req, http_answer_t *ans)
{
	(void)n;
	(void)req;
	buf_put(ans->body, "ok\n", 3);
	ans->status = 200;
	ans->content_type = "text/plain";
	return HTTP_DONE;
}

/* ---- the verifiable log's read API (tiles.c, spec section 8) ------------------------- */

static int on_log(struct net *n, const http_req_t *req, http_answer_t *ans)
{
	log_answer_t a;

	log_api_serve(n->lg, req->verb == HTTP_VERB_GET || req->verb == HTTP_VERB_HEAD, req->path,
		      req->query, req->caller->kind, &a);
	if (a.status != 200) {
		http_error(ans, a.status, a.reason, "%s", a.message);
	} else {
		buf_put(ans->body, a.body.p, a.body.len);
		ans->status = 200;
		ans->content_type = a.content_type;
		ans->cache_control = a.cache_control;
	}
	buf_deinit(&a.body);
	return HTTP_DONE;
}

/* ---- the table ------------------------------------------------------------------------ */

const http_route_t server_routes[] = {
	{ "/v1/events", 0, "events", on_events },
	{ "/v1/settle", 0, "settle", on_settle },
	{ "/v1/codes/", ROUTE_PREFIX | ROUTE_PUBLIC, "codes", on_code },
	{ "/metrics", 0, "metrics", on_metrics },
	{ "/healthz", ROUTE_PUBLIC, "healthz", on_healthz },
	{ "/checkpoint", ROUTE_PUBLIC, "checkpoint", on_log },
	{ "/tile/", ROUTE_PREFIX | ROUTE_PUBLIC, "tiles", on_log },
	{ "/v1/log/", ROUTE_PREFIX | ROUTE_PUBLIC, "log_proofs", on_log },
};
const int routes_count = (int)(sizeof server_routes / sizeof server_routes[0]);

_Static_assert(sizeof server_routes / sizeof server_routes[0] <= ROUTES_MAX,
	       "metrics count at most ROUTES_MAX routes");

int route_find(const char *path, bool public_listener)
{
	for (int i = 0; i < routes_count; i++) {
		const http_route_t *r = &server_routes[i];
		size_t n = strlen(r->path);
		if (public_listener && !(r->flags & ROUTE_PUBLIC))
			continue;
		if ((r->flags & ROUTE_PREFIX) ? strncmp(path, r->path, n) == 0 : strcmp(path, r->path) == 0)
			return i;
	}
	return -1;
}
