/*
 * server_int.h - what yimad's files share (verifier/server*.c): the
 * server, its options, a request's identity, writer jobs, metrics.
 *
 * Threads: the main thread handles signals; network threads (one per
 * CPU by default, each with its own libevent loop and SO_REUSEPORT
 * listener) run HTTP, TLS and the reads (history, public view, dry runs);
 * the writer thread (server_writer.c) applies batches and claims in group
 * commits.  They meet only in the job queue, each network thread's done
 * list (mutexes) and the "done" event the writer activates.
 */
#ifndef YIMA_SERVER_INT_H
#define YIMA_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "request.h"
#include "yima/util/buf.h"
#include "yima.pb-c.h"
#include "yima/core/event.h"
#include "yima/core/finding.h"
#include "yima/ledger/ledger.h"

typedef struct server_opts {
	const char *db;
	const char *listen;		/* HOST:PORT */
	const char *public_listen;	/* HOST:PORT, server-TLS only, public view */
	const char *tls_cert, *tls_key;
	const char *client_ca;		/* facility certificates */
	const char *regulator_ca;	/* regulator certificates */
	bool insecure_http;		/* loopback only */
	size_t max_body;
	int timeout_s;
	uint32_t refund_window_days;
	bool quiet;			/* no per-request log lines */
	int threads;			/* network threads, 0 = one per CPU (max 8) */
	const char *log_origin;		/* a new log's origin (NULL: yima.<hostname>) */
} server_opts_t;

void server_opts_init(server_opts_t *o);

/* Serve until SIGTERM/SIGINT drained; returns the exit code. */
int server_run(const server_opts_t *o);

/* Who is calling: from the client certificate (or trusted, insecure). */
enum caller_kind {
	CALLER_NONE,		/* public listener, or no certificate */
	CALLER_FACILITY,
	CALLER_REGULATOR,
	CALLER_TRUSTED,		/* --insecure-http: acts as what it says */
};

typedef struct caller {
	enum caller_kind kind;
	char cn[FACILITY_MAX + 1];	/* facility id (CALLER_FACILITY) */
} caller_t;

/* ---- metrics (per network thread, under its mutex) ------------------------- */

#define METRICS_BUCKETS 16

typedef struct server_metrics {
	uint64_t requests[6];		/* by route, see server.c */
	uint64_t status[6];		/* 2xx 3xx 4xx 5xx: index status/100 */
	uint64_t verdicts[3];
	uint64_t findings[F_COUNT];
	uint64_t latency_bucket[METRICS_BUCKETS + 1];	/* +Inf last */
	double latency_sum;
	uint64_t latency_count;
	uint64_t commits, committed_jobs;
} server_metrics_t;

void metrics_observe_latency(server_metrics_t *m, double seconds);
void metrics_render(const server_metrics_t *m, ledger_t *lg, buf_t *out);

/* ---- writer jobs -------------------------------------------------------------- */

enum job_kind { JOB_BATCH, JOB_CLAIM };

typedef struct job {
	struct job *next;
	struct net *owner;		/* the network thread to answer on */
	enum job_kind kind;
	struct evhttp_request *req;
	caller_t caller;
	request_t request;		/* decoded on the network thread */
	double started;			/* monotonic seconds */
	int route;
	/* filled by the writer */
	bool left_out;			/* failed on its own: not in the commit */
	request_result_t result;	/* what it did, for request_seal() */
	int status;
	buf_t body;
	uint64_t verdicts[3];
	uint64_t findings[F_COUNT];
} job_t;

typedef struct writer writer_t;

/* Called on the writer thread for every answered job, in order. */
typedef void writer_deliver_fn(job_t *j);

/* Start the writer thread. */
int writer_start(ledger_t *lg, writer_deliver_fn *deliver, writer_t **out);
void writer_submit(writer_t *w, job_t *j);
/* Finish (and deliver) every submitted job, then stop the thread. */
void writer_stop(writer_t *w);
void writer_counts(writer_t *w, uint64_t *commits, uint64_t *jobs);
void job_free(job_t *j);

/* ---- TLS ------------------------------------------------------------------------ */

/* A server context: certificate and key, and (client_ca / regulator_ca
 * non-NULL) client certificates required and verified against them. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca,
			const char *regulator_ca, char *why, size_t whylen);
/* Make evhttp wrap every accepted connection in TLS with ctx. */
void tls_attach(struct evhttp *http, SSL_CTX *ctx);
/* The caller of a request on a TLS connection. */
void tls_caller(struct evhttp_request *req, X509 *regulator_ca, caller_t *c);
/* The regulator CA certificate (for telling regulators apart), or NULL. */
X509 *tls_load_cert(const char *path);

double server_now(void);

#endif
