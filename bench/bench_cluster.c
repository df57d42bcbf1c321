/*
 * bench_cluster.c - load generator for `scripts/bench cluster` (issue 13):
 * event uploads and settlement claims against one or more yimad
 * (plain HTTP on loopback), spread over their URLs, with the CPU time of
 * named processes over the measured window.
 *
 *   events   POST /v1/events: batches of --batch receives of fresh codes,
 *            one facility per connection
 *   settle   POST /v1/settle: claims of 1-3 of the codes the events phase
 *            received (so they are accepted), several partitions each
 *
 * Each phase warms up for a second, then counts for --seconds: answers
 * (200 only), their latencies (send to complete answer) and, per --cpu
 * LABEL=PID, the process's user + system time from /proc; a yimad's is
 * also split into its views (threads named yima-apply) and the rest (its
 * front door: HTTP, workers, publishers, the NATS client).  One line per
 * phase on stdout.
 */
static const char usage[] =
	"usage: bench_cluster --url HOST:PORT [--url ...] [--phases events,settle]\n"
	"                     [--seconds S] [--conns C] [--batch B] [--nonce N]\n"
	"                     [--cpu LABEL=PID]...\n";

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "yima.pb-c.h"

#define FACS 4
#define MAXURL 8
#define MAXCPU 16
#define MAXCONN 512
#define LAT_MAX 2000000

enum phase { P_EVENTS, P_SETTLE };

struct bench;
struct conn {
	struct bench *b;
	struct bufferevent *bev;
	int fac;
	double sent;
	bool busy;
};

struct bench {
	struct event_base *base;
	uint16_t port[MAXURL];
	int nurl, conns, batch;
	double seconds;
	uint64_t nonce;
	enum phase phase;
	double t_start, t_measure, t_end;
	bool stopping;
	int inflight;
	uint64_t received[FACS];	/* codes sent in receive batches */
	uint64_t sold[FACS];		/* codes claimed */
	uint64_t seq;
	uint64_t ok, err, units;	/* answered in the window: answers, errors, events or claims */
	/* CPU at the window's start and end, and when each was read: the end
	 * is read on the tick that ends the window, before the requests in
	 * flight drain, so CPU and answers cover the same seconds */
	double cpu_v0[MAXCPU], cpu_r0[MAXCPU], cpu_v1[MAXCPU], cpu_r1[MAXCPU], t_cpu0, t_cpu1;
	double *lat;
	size_t nlat;
	struct conn c[MAXCONN];
	const char *cpu_label[MAXCPU];
	int cpu_pid[MAXCPU], ncpu;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void code_of(const struct bench *b, int fac, uint64_t i, char out[21])
{
	/* product 8100001, then nonce, facility and index in 13 digits */
	snprintf(out, 21, "8100001%03" PRIu64 "%1d%09" PRIu64, b->nonce % 1000, fac, i % 1000000000);
}

/* ---- CPU from /proc ------------------------------------------------------------- */

/* utime + stime of every thread of pid, split into threads named yima-apply
 * (views) and the others. */
static void cpu_of(int pid, double *views, double *rest)
{
	char path[64], buf[1024];
	DIR *d;
	struct dirent *e;
	double hz = (double)sysconf(_SC_CLK_TCK);

	*views = *rest = 0;
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof buf, "/proc/%d/task/%s/stat", pid, e->d_name);
		if ((f = fopen(buf, "r")) == NULL)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
		unsigned long ut = 0, st = 0;
		if (lp == NULL || rp == NULL ||
		    sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
			continue;
		double s = (double)(ut + st) / hz;
		if (strncmp(lp + 1, "yima-apply", 10) == 0)
			*views += s;
		else
			*rest += s;
	}
	closedir(d);
}

static void cpu_snap(const struct bench *b, double v[MAXCPU], double r[MAXCPU])
{
	for (int i = 0; i < b->ncpu; i++)
		cpu_of(b->cpu_pid[i], &v[i], &r[i]);
}

/* ---- requests ----------------------------------------------------------------------- */

static size_t events_body(struct bench *b, struct conn *c, uint8_t **out)
{
	Yima__V1__EventBatch eb = YIMA__V1__EVENT_BATCH__INIT;
	Yima__V1__Event *ev = calloc((size_t)b->batch, sizeof *ev), **evp = calloc((size_t)b->batch, sizeof *evp);
	char (*codes)[21] = calloc((size_t)b->batch, 21), fac[8], id[64];
	size_t n = 0;

	snprintf(fac, sizeof fac, "F%d", c->fac);
	snprintf(id, sizeof id, "B%" PRIu64 "-%" PRIu64, b->nonce, b->seq++);
	for (int i = 0; i < b->batch; i++) {
		yima__v1__event__init(&ev[i]);
		code_of(b, c->fac, b->received[c->fac]++, codes[i]);
		ev[i].time = "2026-03-01T09:00:00+08:00";
		ev[i].facility = fac;
		ev[i].type = "receive";
		ev[i].code = codes[i];
		ev[i].counterparty = "S0001";
		evp[i] = &ev[i];
	}
	eb.batch_id = id;
	eb.n_events = (size_t)b->batch;
	eb.events = evp;
	n = yima__v1__event_batch__get_packed_size(&eb);
	*out = malloc(n);
	yima__v1__event_batch__pack(&eb, *out);
	free(ev);
	free(evp);
	free(codes);
	return n;
}

static size_t settle_body(struct bench *b, struct conn *c, uint8_t **out)
{
	Yima__V1__Claim cl = YIMA__V1__CLAIM__INIT;
	Yima__V1__ClaimItem it = YIMA__V1__CLAIM_ITEM__INIT, *itp = &it;
	Yima__V1__ClaimCode cc[3], *ccp[3];
	char codes[3][21], fac[8], stl[64];
	int n = 1 + (int)(b->seq % 3);

	snprintf(fac, sizeof fac, "F%d", c->fac);
	snprintf(stl, sizeof stl, "S%" PRIu64 "-%" PRIu64, b->nonce, b->seq++);
	for (int i = 0; i < n; i++) {
		code_of(b, c->fac, b->sold[c->fac]++ % (b->received[c->fac] ? b->received[c->fac] : 1), codes[i]);
		yima__v1__claim_code__init(&cc[i]);
		cc[i].code = codes[i];
		ccp[i] = &cc[i];
	}
	it.drug = "DRUGA";
	it.n_codes = (size_t)n;
	it.codes = ccp;
	cl.facility = fac;
	cl.settlement = stl;
	cl.time = "2026-03-02T10:00:00+08:00";
	cl.patient = "P-BENCH";
	cl.n_items = 1;
	cl.items = &itp;
	*out = malloc(512);
	return yima__v1__claim__pack(&cl, *out);
}

static void send_next(struct conn *c)
{
	struct bench *b = c->b;
	uint8_t *body = NULL;
	size_t n = b->phase == P_EVENTS ? events_body(b, c, &body) : settle_body(b, c, &body);

	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
			    "Content-Length: %zu\r\n\r\n", b->phase == P_EVENTS ? "/v1/events" : "/v1/settle", n);
	evbuffer_add(bufferevent_get_output(c->bev), body, n);
	free(body);
	c->sent = now_s();
	c->busy = true;
	b->inflight++;
}

static void done(struct conn *c, bool ok)
{
	struct bench *b = c->b;
	double t = now_s();

	c->busy = false;
	b->inflight--;
	if (t >= b->t_measure && t < b->t_end) {	/* by when it was answered */
		if (ok) {
			b->ok++;
			b->units += b->phase == P_EVENTS ? (uint64_t)b->batch : 1;
			if (b->nlat < LAT_MAX)
				b->lat[b->nlat++] = t - c->sent;
		} else {
			b->err++;
		}
	}
	if (t < b->t_end && !b->stopping)
		send_next(c);
	else if (b->inflight == 0)
		event_base_loopexit(b->base, NULL);
}

/* One whole answer in the input? (status line, Content-Length, body) */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		size_t len = evbuffer_get_length(in);
		struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0 || !c->busy)
			return;
		char head[1024];
		size_t hn = (size_t)end.pos + 4 < sizeof head - 1 ? (size_t)end.pos + 4 : sizeof head - 1;
		evbuffer_copyout(in, head, hn);
		head[hn] = '\0';
		char *cl = strcasestr(head, "content-length:");
		size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
		if (len < (size_t)end.pos + 4 + body)
			return;
		int status = atoi(head + 9);
		evbuffer_drain(in, (size_t)end.pos + 4 + body);
		done(c, status == 200);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		fprintf(stderr, "bench_cluster: connection lost\n");
		if (c->busy)
			done(c, false);
	}
}

static struct bufferevent *connect_one(struct bench *b, struct conn *c, uint16_t port)
{
	struct sockaddr_in a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	evutil_make_socket_nonblocking(fd);
	struct bufferevent *bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, on_read, NULL, on_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return bev;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;
	return (a > c) - (a < c);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	(void)fd;
	(void)what;
	if (!b->stopping && now_s() >= b->t_end) {
		cpu_snap(b, b->cpu_v1, b->cpu_r1);
		b->t_cpu1 = now_s();
		b->stopping = true;
	}
}

static int run_phase(struct bench *b, enum phase ph)
{
	struct timeval tv = { 0, 100000 };
	struct event *tick;

	b->phase = ph;
	b->ok = b->err = b->units = 0;
	b->nlat = 0;
	b->stopping = false;
	b->t_start = now_s();
	b->t_measure = b->t_start + 1.0;
	b->t_end = b->t_measure + b->seconds;
	for (int i = 0; i < b->conns; i++) {
		struct conn *c = &b->c[i];
		c->b = b;
		c->fac = i % FACS;
		if ((c->bev = connect_one(b, c, b->port[i % b->nurl])) == NULL) {
			fprintf(stderr, "bench_cluster: cannot connect to port %u\n", b->port[i % b->nurl]);
			return -1;
		}
		send_next(c);
	}
	tick = event_new(b->base, -1, EV_PERSIST, on_tick, b);
	event_add(tick, &tv);
	while (now_s() < b->t_measure)
		event_base_loop(b->base, EVLOOP_ONCE);
	cpu_snap(b, b->cpu_v0, b->cpu_r0);
	b->t_cpu0 = now_s();
	event_base_dispatch(b->base);
	event_free(tick);
	double window = b->seconds, scale = window / (b->t_cpu1 - b->t_cpu0);
	qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
	printf("phase=%s rate=%.0f unit=%s ok=%" PRIu64 " errors=%" PRIu64 " p50_ms=%.2f p99_ms=%.2f",
	       ph == P_EVENTS ? "events" : "settle", (double)b->units / window,
	       ph == P_EVENTS ? "events/s" : "claims/s", b->ok, b->err,
	       b->nlat ? b->lat[b->nlat / 2] * 1e3 : 0.0, b->nlat ? b->lat[b->nlat * 99 / 100] * 1e3 : 0.0);
	for (int i = 0; i < b->ncpu; i++)
		printf(" cpu_%s=%.3f cpu_%s_views=%.3f", b->cpu_label[i],
		       ((b->cpu_v1[i] + b->cpu_r1[i]) - (b->cpu_v0[i] + b->cpu_r0[i])) * scale,
		       b->cpu_label[i], (b->cpu_v1[i] - b->cpu_v0[i]) * scale);
	printf(" window_s=%.1f\n", window);
	fflush(stdout);
	for (int i = 0; i < b->conns; i++)
		bufferevent_free(b->c[i].bev);
	return 0;
}

static int parse(int argc, char **argv, struct bench *b, char *phases, size_t plen)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' }, { "phases", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' }, { "conns", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' }, { "nonce", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'C' }, { NULL, 0, NULL, 0 },
	};
	int o;
	char *eq;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'u':
			if (b->nurl < MAXURL && (eq = strrchr(optarg, ':')) != NULL)
				b->port[b->nurl++] = (uint16_t)atoi(eq + 1);
			break;
		case 'p': snprintf(phases, plen, "%s", optarg); break;
		case 's': b->seconds = atof(optarg); break;
		case 'c': b->conns = atoi(optarg); break;
		case 'b': b->batch = atoi(optarg); break;
		case 'n': b->nonce = strtoull(optarg, NULL, 10); break;
		case 'C':
			if (b->ncpu < MAXCPU && (eq = strchr(optarg, '=')) != NULL) {
				*eq = '\0';
				b->cpu_label[b->ncpu] = optarg;
				b->cpu_pid[b->ncpu++] = atoi(eq + 1);
			}
			break;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (b->nurl == 0 || b->conns < 1 || b->conns > MAXCONN || b->batch < 1) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	char phases[64] = "events,settle";

	b.seconds = 5;
	b.conns = 32;
	b.batch = 500;
	b.nonce = (uint64_t)time(NULL);
	if (parse(argc, argv, &b, phases, sizeof phases) < 0)
		return 2;
	if ((b.lat = calloc(LAT_MAX, sizeof *b.lat)) == NULL || (b.base = event_base_new()) == NULL)
		return 2;
	if (strstr(phases, "events") && run_phase(&b, P_EVENTS) < 0)
		return 1;
	if (strstr(phases, "settle") && run_phase(&b, P_SETTLE) < 0)
		return 1;
	event_base_free(b.base);
	free(b.lat);
	return 0;
}
