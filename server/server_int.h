/*
 * server_int.h - what yimad's files share (server/): the server, its
 * options, a request's identity, writer jobs, metrics, the network
 * threads.
 *
 * Threads: the main thread handles signals; network threads (one per
 * CPU by default, each with its own libevent loop and SO_REUSEPORT
 * listener) run HTTP and TLS (server/http/) and the reads (history, public
 * view, dry runs: server_routes.c); the writer thread (server_writer.c)
 * applies batches and claims in group commits.  They meet only in the job
 * queue, each network thread's done list (mutexes), the "done" event the
 * writer activates and the connection count (an atomic).
 */
#ifndef YIMA_SERVER_INT_H
#define YIMA_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "relay.h"
#include "request.h"
#include "yima/util/buf.h"
#include "yima.pb-c.h"
#include "yima/core/event.h"
#include "yima/core/finding.h"
#include "yima/ledger/ledger.h"
#include "yima/cluster/cluster.h"

typedef struct server_opts {
	const char *db;
	const char *listen;		/* HOST:PORT */
	const char *public_listen;	/* HOST:PORT, server-TLS only, public view */
	const char *tls_cert, *tls_key;
	const char *client_ca;		/* facility certificates */
	const char *regulator_ca;	/* regulator certificates */
	const char *relay;		/* --relay FILE: platforms (relay.h) */
	bool insecure_http;		/* loopback only */
	size_t max_body;
	int timeout_s;			/* a whole request, an answer read, idle */
	int handshake_timeout_s;	/* accept to TLS handshake done */
	int max_conns;			/* 0 = what the descriptor limit allows */
	uint32_t refund_window_days;
	bool quiet;			/* no per-request log lines */
	int threads;			/* network threads, 0 = one per CPU (max 8) */
	const char *log_origin;		/* a new log's origin (NULL: yima.<hostname>) */
	/* a cluster node (docs/cluster.md): NULL nats = single node */
	const char *nats;		/* URL[,URL...] */
	unsigned partitions;
	const char *cluster_name;
	const char *serve;		/* partitions held, NULL = all */
	int cluster_workers;		/* writes in flight at once */
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
	CALLER_REFUSED,		/* a verified certificate whose subject is not
				 * one CN (a facility id, for a facility) */
	CALLER_RELAY,		/* a platform of --relay: acts for the
				 * facilities its patterns match */
};

typedef struct caller {
	enum caller_kind kind;
	char cn[RELAY_CN_MAX + 1];	/* facility id (CALLER_FACILITY), or the
					 * relay's CN */
	const char *refusal;		/* CALLER_REFUSED: why (static text) */
	const relay_entry_t *relay;	/* CALLER_RELAY */
} caller_t;

/* ---- metrics (per network thread, under its mutex) ------------------------- */

#define METRICS_BUCKETS 16

/* What the HTTP layer refuses or cuts off before a handler sees it
 * (issue 9 item 7): each is counted (yimad_http_refused_total) and logged,
 * at most a few lines a second (server_log.c). */
enum refusal {
	REFUSED_BAD_REQUEST,		/* 400: request line or headers do not parse */
	REFUSED_LENGTH_REQUIRED,	/* 411: chunked, or a body without Content-Length */
	REFUSED_BODY_TOO_LARGE,		/* 413: Content-Length over --max-body */
	REFUSED_URI_TOO_LONG,		/* 414 */
	REFUSED_HEADERS_TOO_LARGE,	/* 431 */
	REFUSED_NOT_IMPLEMENTED,	/* 501: unknown method or transfer coding */
	REFUSED_REQUEST_TIMEOUT,	/* 408: not whole within --timeout */
	REFUSED_WRITE_TIMEOUT,		/* the answer not read within --timeout */
	REFUSED_HANDSHAKE_TIMEOUT,	/* no TLS handshake within --handshake-timeout */
	REFUSED_HANDSHAKE_FAILED,	/* TLS handshake failed (certificate, protocol) */
	REFUSED_EVICTED,		/* closed at the cap to make room for a new one */
	REFUSED_CONN_LIMIT,		/* at the cap with nothing to close: not accepted */
	REFUSED_DESCRIPTORS,		/* accept(): out of descriptors */
	REFUSED_COUNT
};

const char *refusal_name(enum refusal r);

typedef struct server_metrics {
	uint64_t requests[16];		/* by route (http.h), then "other" */
	uint64_t status[6];		/* 2xx 3xx 4xx 5xx: index status/100 */
	uint64_t verdicts[3];
	uint64_t findings[F_COUNT];
	uint64_t latency_bucket[METRICS_BUCKETS + 1];	/* +Inf last */
	double latency_sum;
	uint64_t latency_count;
	uint64_t commits, committed_jobs;
	uint64_t refused[REFUSED_COUNT];
	uint64_t accepted;		/* connections */
	uint64_t open;			/* connections open now (gauge) */
	uint64_t commit_syncs;		/* groups answered after their own meta flush */
	double group_s, flush_s;	/* the writer's running means (seconds) */
} server_metrics_t;

void metrics_observe_latency(server_metrics_t *m, double seconds);
void metrics_render(const server_metrics_t *m, ledger_t *lg, buf_t *out);
/* A cluster node's counters (yimad_cluster_*). */
void metrics_render_cluster(cluster_node_t *node, buf_t *out);

/* ---- writer jobs -------------------------------------------------------------- */


typedef struct job {
	struct job *next;
	struct net *owner;		/* the network thread to answer on */
	struct http_conn *conn;		/* the request's, for http_answer_later() */
	caller_t caller;
	request_t request;		/* decoded on the network thread */
	double started;			/* monotonic seconds */
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
/* The writer's counts and running means, into m (commits,
 * committed_jobs, commit_syncs, group_s, flush_s). */
void writer_counts(writer_t *w, server_metrics_t *m);
void job_free(job_t *j);

/* ---- a cluster node's writes (node/server_cluster.c) --------------------------------- */

struct cworkers;
struct server;
/* Start the node (catching up with the streams) and its write workers. */
int server_cluster_setup(struct server *s, char *why, size_t whylen);
void cworkers_submit(struct cworkers *w, job_t *j);
void cworkers_stop(struct cworkers *w);

/* ---- TLS ------------------------------------------------------------------------ */

/* A server context: certificate and key, and (client_ca / regulator_ca
 * non-NULL) client certificates required and verified against them. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca,
			const char *regulator_ca, char *why, size_t whylen);
/* The caller on a TLS connection whose handshake is done. */
void tls_caller(SSL *ssl, X509 *regulator_ca, const relay_table_t *relays, caller_t *c);
/* Why a handshake failed (err from SSL_get_error), for the log: OpenSSL's
 * reason and the verification result, no client data. */
void tls_failure_reason(SSL *ssl, int err, char *out, size_t n);
/* The regulator CA certificate (for telling regulators apart), or NULL. */
X509 *tls_load_cert(const char *path);

double server_now(void);

/* ---- the network threads -------------------------------------------------------- */

struct http_conn;
struct http_listener;
TAILQ_HEAD(conn_list, http_conn);

/* Connection states; each has a list in order of entry, so the oldest
 * (the next deadline, the first to close at the cap) is at its head. */
enum conn_state {
	CS_HANDSHAKE,	/* TLS handshake: deadline --handshake-timeout */
	CS_IDLE,	/* keep-alive, no request begun: closed after --timeout */
	CS_READING,	/* a request begun: whole within --timeout */
	CS_WORKING,	/* a handler (the writer) has it: no deadline */
	CS_WRITING,	/* an answer the client has not read: --timeout */
	CS_LINGER,	/* refused and answered: what follows is read and dropped */
	CS_COUNT
};

/*
 * One network thread: its own event loop, listening sockets (SO_REUSEPORT:
 * the kernel spreads connections over the threads), connections, metrics
 * and the write jobs it waits for.  The shared parts (options, ledger,
 * writer, TLS contexts, regulator CA) are read-only here.
 */
struct net {
	struct server *top;
	server_opts_t o;
	ledger_t *lg;			/* NULL in a cluster node */
	cluster_node_t *node;		/* a cluster node's, else NULL */
	struct cworkers *cworkers;
	X509 *regulator_ca;
	const relay_table_t *relays;
	writer_t *writer;
	SSL_CTX *ctx, *public_ctx;	/* NULL ctx: --insecure-http */
	struct event_base *base;
	struct http_listener *listener, *public_listener;
	struct event *done_ev, *stop_ev, *drain_ev, *tick_ev;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;		/* guards m and the done list */
	server_metrics_t m;
	job_t *done_head, *done_tail;	/* answered by the writer, to send */
	uint64_t inflight;		/* write jobs not answered yet */
	bool draining;
	double drain_started;
	/* the HTTP layer's (server/http/), this thread's only */
	struct conn_list conns[CS_COUNT];
	int reserve_fd;			/* given up to accept() when out of fds */
	uint8_t scratch[16384];		/* what one read() of a TLS socket got, */
	size_t feed_len, feed_off;	/* fed to OpenSSL from here */
	char date[40];			/* "Date: ...\r\n" of this second */
	long date_sec;
	char iso[24];			/* the log's time of this second */
	long iso_sec;
	double log_window;		/* refusal log: this second's start, */
	unsigned log_lines;		/* lines written in it and */
	uint64_t log_dropped;		/* refusals not logged since */
	double emfile_logged;		/* when "out of descriptors" was last logged */
};

struct server {
	server_opts_t o;
	SSL_CTX *ctx, *public_ctx;
	X509 *regulator_ca;
	relay_table_t relays;
	ledger_t *lg;
	writer_t *writer;
	cluster_node_t *node;		/* --nats: the cluster node */
	struct cworkers *cworkers;	/* --nats: its write workers */
	writer_deliver_fn *deliver;
	struct event_base *base;	/* main thread: signals, log flushing */
	struct event *sigterm_ev, *sigint_ev, *flush_ev;
	int nnets;
	struct net *nets;
	int max_conns;			/* the cap over all threads */
	atomic_int nconns;		/* connections open, all threads */
	int guard_fd[2];		/* hold the listen addresses (http_listen.c) */
	BIO_METHOD *bio_method;		/* connections' (http_conn.c) */
};

/* Every network thread's metrics added up, and the writer's counts. */
void server_metrics_sum(struct server *top, server_metrics_t *sum);
/* Count one answered request (network thread). */
void server_count_answer(struct net *n, int route, int status, double seconds);
/* Count and (rate-limited) log one refusal: the status answered (0 for
 * none) and a detail that is no client data (or NULL). */
void server_refused(struct net *n, enum refusal r, int status, const char *detail);
/* The request log line (unless --quiet); path without the code. */
void server_log_request(struct net *n, const char *facility, const char *method,
			const char *path, int status, double seconds);
/* Once a second (network thread): the "n more not logged" line. */
void server_log_tick(struct net *n, double now);

/* ---- the HTTP layer (http_listen.c, http_conn.c) --------------------------------- */

/* "HOST:PORT" or "[V6]:PORT".  Returns 0 or -1. */
int http_split_hostport(const char *hp, char *host, size_t hostlen, uint16_t *port);

/* Check that no other process serves hp and hold the address for this
 * one (top->guard_fd); a port 0 is skipped.  Returns 0 or an error in why. */
int http_guard_address(struct server *top, const char *hp, char *why, size_t whylen);
/* A listening socket of this thread for hp (SO_REUSEPORT among yimad's
 * own threads); *port as in listen_socket(): 0 the first time. */
int http_listen(struct net *n, const char *hp, bool public_listener, uint16_t *port,
		struct http_listener **out, char *why, size_t whylen);
/* Stop accepting (drain); idempotent. */
void http_listener_close(struct http_listener *l);
void http_listener_free(struct http_listener *l);
/* A new connection on fd from a listener; closes fd on failure. */
void http_conn_new(struct net *n, int fd, bool public_listener);
/* Make room for one more connection at the cap: close this thread's
 * oldest idle connection, else the oldest handshake, else the oldest
 * request being read.  Returns false if there was none. */
bool http_conn_evict(struct net *n);
/* Deadlines: close what is past its own (the tick, twice a second). */
void http_conn_sweep(struct net *n, double now);
/* Draining: close idle connections, answer new requests 503. */
void http_conn_drain(struct net *n);
/* Free every connection (the loop has stopped). */
void http_conn_free_all(struct net *n);

#endif
