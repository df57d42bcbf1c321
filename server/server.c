/*
 * server.c - yimad's threads and their lives: setting up the ledger, TLS,
 * the writer and the network threads, handing writer answers back to the
 * thread that owns their connection, counting, draining on SIGTERM.
 *
 * What is served is in server_routes.c; the HTTP layer in server/http/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "http_int.h"
#include "notify.h"
#include "server_int.h"
#include "yima/server/server.h"
#include "yima/util/error.h"

#define PROTO_CT "application/x-protobuf"

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
	o->handshake_timeout_s = 10;
	o->refund_window_days = REFUND_WINDOW_DAYS_DEFAULT;
	o->cluster_workers = 64;
}

void server_count_answer(struct net *n, int route, int status, double seconds)
{
	pthread_mutex_lock(&n->mu);
	n->m.requests[route >= 0 && route <= routes_count ? route : routes_count]++;
	n->m.status[status / 100 < 6 ? status / 100 : 5]++;
	metrics_observe_latency(&n->m, seconds);
	pthread_mutex_unlock(&n->mu);
}

/* Every network thread's metrics added up, and the writer's counts. */
void server_metrics_sum(struct server *top, server_metrics_t *sum)
{
	memset(sum, 0, sizeof *sum);
	for (int t = 0; t < top->nnets; t++) {
		struct net *n = &top->nets[t];
		pthread_mutex_lock(&n->mu);
		for (int i = 0; i <= routes_count; i++)
			sum->requests[i] += n->m.requests[i];
		for (int i = 0; i < 6; i++)
			sum->status[i] += n->m.status[i];
		for (int i = 0; i < 3; i++)
			sum->verdicts[i] += n->m.verdicts[i];
		for (int i = 0; i < F_COUNT; i++)
			sum->findings[i] += n->m.findings[i];
		for (int i = 0; i <= METRICS_BUCKETS; i++)
			sum->latency_bucket[i] += n->m.latency_bucket[i];
		for (int i = 0; i < REFUSED_COUNT; i++)
			sum->refused[i] += n->m.refused[i];
		sum->latency_sum += n->m.latency_sum;
		sum->latency_count += n->m.latency_count;
		sum->accepted += n->m.accepted;
		pthread_mutex_unlock(&n->mu);
	}
	sum->open = (uint64_t)atomic_load(&top->nconns);
	if (top->writer != NULL)
		writer_counts(top->writer, sum);
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
	struct net *n = arg;
	job_t *j, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&n->mu);
	j = n->done_head;
	n->done_head = n->done_tail = NULL;
	for (job_t *k = j; k != NULL; k = k->next) {
		for (int i = 0; i < 3; i++)
			n->m.verdicts[i] += k->verdicts[i];
		for (int i = 0; i < F_COUNT; i++)
			n->m.findings[i] += k->findings[i];
	}
	pthread_mutex_unlock(&n->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		n->inflight--;
		http_answer_later(j->conn, j->status, PROTO_CT, j->body.p, j->body.len, j->request.facility);
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

/* Twice a second: deadlines, and the log's count of what it left out. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct net *n = arg;
	double now = server_now();

	(void)fd;
	(void)what;
	http_conn_sweep(n, now);
	server_log_tick(n, now);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct net *n = arg;
	(void)fd;
	(void)what;
	if ((n->inflight == 0 && TAILQ_EMPTY(&n->conns[CS_WRITING])) ||
	    server_now() - n->drain_started > n->o.timeout_s)
		event_base_loopexit(n->base, NULL);
}

/* A network thread stops accepting, closes idle connections, answers
 * what it has in flight (new requests on open connections get 503), then
 * leaves its loop. */
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
	http_listener_close(n->listener);
	http_listener_close(n->public_listener);
	http_conn_drain(n);
	event_add(n->drain_ev, &tick);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *top = arg;

	(void)what;
	fprintf(stderr, "yimad: signal %d: draining\n", (int)sig);
	server_notify_stopping();
	for (int t = 0; t < top->nnets; t++)
		event_active(top->nets[t].stop_ev, EV_READ, 0);
	event_base_loopexit(top->base, NULL);
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

static int net_setup(struct server *top, struct net *n, uint16_t *port, uint16_t *public_port,
		     char *why, size_t whylen)
{
	struct timeval half = { 0, 500000 };
	int rc;

	n->top = top;
	n->o = top->o;
	n->lg = top->lg;
	n->node = top->node;
	n->cworkers = top->cworkers;
	n->regulator_ca = top->regulator_ca;
	n->relays = &top->relays;
	n->writer = top->writer;
	n->ctx = top->ctx;
	n->public_ctx = top->public_ctx;
	n->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (int st = 0; st < CS_COUNT; st++)
		TAILQ_INIT(&n->conns[st]);
	if ((n->base = event_base_new()) == NULL ||
	    (n->done_ev = event_new(n->base, -1, EV_READ | EV_PERSIST, on_done, n)) == NULL ||
	    (n->stop_ev = event_new(n->base, -1, EV_READ, on_stop, n)) == NULL ||
	    (n->drain_ev = event_new(n->base, -1, EV_PERSIST, on_drain_tick, n)) == NULL ||
	    (n->tick_ev = event_new(n->base, -1, EV_PERSIST, on_tick, n)) == NULL ||
	    event_add(n->done_ev, NULL) != 0 || event_add(n->stop_ev, NULL) != 0 ||
	    event_add(n->tick_ev, &half) != 0)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	if ((rc = http_listen(n, n->o.listen, false, port, &n->listener, why, whylen)) < 0)
		return rc;
	if (n->o.public_listen == NULL)
		return 0;
	return http_listen(n, n->o.public_listen, true, public_port, &n->public_listener, why, whylen);
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

	/* jobs answered after a drain timed out: nobody to send them to */
	for (j = n->done_head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	if (n->base != NULL)
		http_conn_free_all(n);
	http_listener_free(n->listener);
	http_listener_free(n->public_listener);
	struct event *evs[] = { n->done_ev, n->stop_ev, n->drain_ev, n->tick_ev };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	if (n->base)
		event_base_free(n->base);
	if (n->reserve_fd >= 0)
		close(n->reserve_fd);
	pthread_mutex_destroy(&n->mu);
}

static int tls_setup(struct server *s, char *why, size_t whylen)
{
	char host[256];
	uint16_t port;
	int rc;

	if (s->o.insecure_http) {
		if (http_split_hostport(s->o.listen, host, sizeof host, &port) < 0 ||
		    !host_is_loopback(host))
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
	/* loaded in both modes, so a file that does not parse stops yimad */
	if (s->o.relay && (rc = relay_load(s->o.relay, &s->relays, why, whylen)) < 0)
		return rc;
	if ((s->bio_method = http_bio_method_new()) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	if (s->o.public_listen == NULL)
		return 0;
	if (!s->o.tls_cert || !s->o.tls_key)
		return yima_fail(why, whylen, YIMA_EINVAL, "--public-listen needs --tls-cert and --tls-key");
	s->public_ctx = tls_server_ctx(s->o.tls_cert, s->o.tls_key, NULL, NULL, why, whylen);
	return s->public_ctx ? 0 : YIMA_ECRYPTO;
}

/* Descriptors yimad keeps besides its connections: the ledger, the event
 * loops, listeners, reserve descriptors, and a margin. */
static int fds_reserved(int threads)
{
	return 32 + 8 * threads;
}

/*
 * The cap on connections: --max-conns, or all the descriptor limit leaves
 * (yimad raises its soft limit to the hard one first).  A cap the limit
 * cannot hold is refused rather than met by failing accepts later.
 */
static int conn_cap(struct server *s, char *why, size_t whylen)
{
	struct rlimit rl;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return yima_fail(why, whylen, YIMA_EIO, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000 ? 1000000 : (long)rl.rlim_cur;
	room -= fds_reserved(s->o.threads);
	if (room < 8)
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "the descriptor limit (%ld) leaves no room for connections",
				 (long)rl.rlim_cur);
	if (s->o.max_conns > room)
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "--max-conns %d: the descriptor limit (%ld) allows at most %ld",
				 s->o.max_conns, (long)rl.rlim_cur, room);
	s->max_conns = s->o.max_conns > 0 ? s->o.max_conns : (int)room;
	return 0;
}

static int ledger_setup(struct server *s, char *why, size_t whylen)
{
	ledger_txn_t *txn;
	int rc;

	/* no LEDGER_CREATE: a mistyped db must not start an empty ledger */
	if ((rc = ledger_open(s->o.db, LEDGER_SMALL_COMMITS, &s->lg, why, whylen)) < 0) {
		size_t n = strlen(why);
		if (rc == YIMA_ENOTFOUND)
			snprintf(why + n, whylen - n, "; make one with `yima init --db %s`", s->o.db);
		return rc;
	}
	/* the verifiable log exists before the first request (spec section 8) */
	if ((rc = ledger_log_start(s->lg, s->o.log_origin, why, whylen)) < 0)
		return rc;
	if ((rc = ledger_txn_begin(s->lg, true, &txn)) < 0 ||
	    (ledger_refund_window_set(txn, s->o.refund_window_days), (rc = ledger_txn_commit(txn))) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", s->o.db, yima_strerror(rc));
	return 0;
}

static int server_setup(struct server *s, char *why, size_t whylen)
{
	uint16_t port = 0, public_port = 0;
	struct timeval sec = { 1, 0 };
	int rc;

	if ((rc = conn_cap(s, why, whylen)) < 0 || (rc = tls_setup(s, why, whylen)) < 0 ||
	    (rc = http_guard_address(s, s->o.listen, why, whylen)) < 0 ||
	    (s->o.public_listen && (rc = http_guard_address(s, s->o.public_listen, why, whylen)) < 0))
		return rc;
	s->deliver = deliver;
	if ((rc = s->o.nats ? server_cluster_setup(s, why, whylen) : ledger_setup(s, why, whylen)) < 0)
		return rc;
	if (evthread_use_pthreads() != 0 || (s->base = event_base_new()) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: cannot start");
	if ((s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_signal, s)) == NULL ||
	    (s->sigint_ev = evsignal_new(s->base, SIGINT, on_signal, s)) == NULL ||
	    (s->flush_ev = event_new(s->base, -1, EV_PERSIST, on_flush, s)) == NULL ||
	    event_add(s->sigterm_ev, NULL) != 0 || event_add(s->sigint_ev, NULL) != 0 ||
	    event_add(s->flush_ev, &sec) != 0)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: out of memory");
	if (s->node == NULL && writer_start(s->lg, deliver, &s->writer) < 0)
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
	cworkers_stop(s->cworkers);
	cluster_node_stop(s->node);
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
	relay_free(&s->relays);
	BIO_meth_free(s->bio_method);
	if (s->node == NULL)
		ledger_close(s->lg);
	for (int i = 0; i < 2; i++)
		if (s->guard_fd[i] >= 0)
			close(s->guard_fd[i]);
	fflush(stderr);
}

int server_run(const server_opts_t *o)
{
	struct server s;
	char why[512];
	int rc;

	memset(&s, 0, sizeof s);
	s.o = *o;
	s.guard_fd[0] = s.guard_fd[1] = -1;
	atomic_init(&s.nconns, 0);
	if (s.o.threads <= 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		s.o.threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	}
	signal(SIGPIPE, SIG_IGN);
	http_parser_set_max_header_size(HTTP_HEADERS_MAX);
	if ((rc = server_setup(&s, why, sizeof why)) < 0) {
		fprintf(stderr, "yimad: %s\n", why);
		server_teardown(&s);
		return 2;
	}
	fprintf(stderr, "yimad: serving %s on %s%s%s%s, %d network thread(s), at most %d connections\n",
		o->db, o->listen,
		o->insecure_http ? " (insecure HTTP, loopback)" : " (TLS, client certificates)",
		o->public_listen ? ", public view on " : "", o->public_listen ? o->public_listen : "",
		s.nnets, s.max_conns);
	fflush(stderr);
	server_notify_ready(o, s.nnets);
	event_base_dispatch(s.base);
	server_teardown(&s);
	fprintf(stderr, "yimad: stopped\n");
	return 0;
}
