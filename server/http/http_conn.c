/*
 * http_conn.c - one client connection of yimad: the TLS handshake,
 * reading requests (parsed by http_request.c), writing answers, deadlines
 * and the cap on connections.
 *
 * Lean on purpose (issue 14): the socket is registered once with the
 * event loop, edge-triggered for reading and writing, and never again
 * (evhttp and bufferevents cost about four epoll_ctl calls a request).
 * TLS runs over a small BIO of our own: what arrives is read with one
 * read() into the thread's scratch buffer and fed to OpenSSL; what
 * OpenSSL writes lands in the connection's wire buffer, and everything
 * answered in one wakeup (pipelined answers too) goes out as one
 * SSL_write, so one TLS record and one write() per answer where the
 * bufferevent path sent two of each.  Buffers stay with the connection
 * between requests; headers are built without printf.
 *
 * Deadlines do not restart per byte (issue 9 item 3): the handshake must
 * be done --handshake-timeout after accept, a request whole --timeout
 * after its first byte, an answer read --timeout after it was written,
 * and an idle keep-alive connection is closed after --timeout.  The lists
 * in struct net keep each state's connections in order of entry, so the
 * twice-a-second sweep looks only at their heads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "http_int.h"

static void conn_serve(http_conn_t *c);

void http_conn_set_state(http_conn_t *c, enum conn_state st, double now)
{
	TAILQ_REMOVE(&c->n->conns[c->state], c, link);
	c->state = st;
	c->since = now;
	TAILQ_INSERT_TAIL(&c->n->conns[st], c, link);
}

/* ---- the BIO between OpenSSL and the socket ------------------------------------ */

/* Reads take what the last read() put in the thread's scratch buffer;
 * writes append to the connection's wire buffer.  Neither makes a system
 * call, so when they happen is up to conn_read() and conn_flush(). */
static int cbio_write(BIO *b, const char *p, int len)
{
	http_conn_t *c = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	buf_put(&c->wire, p, (size_t)len);
	return c->wire.oom ? -1 : len;
}

static int cbio_read(BIO *b, char *p, int len)
{
	http_conn_t *c = BIO_get_data(b);
	struct net *n = c->n;
	size_t left = n->feed_len - n->feed_off, k = (size_t)len < left ? (size_t)len : left;

	BIO_clear_retry_flags(b);
	if (k == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	memcpy(p, n->scratch + n->feed_off, k);
	n->feed_off += k;
	return (int)k;
}

static long cbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int cbio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

BIO_METHOD *http_bio_method_new(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "yimad conn");

	if (m == NULL || BIO_meth_set_write(m, cbio_write) != 1 ||
	    BIO_meth_set_read(m, cbio_read) != 1 || BIO_meth_set_ctrl(m, cbio_ctrl) != 1 ||
	    BIO_meth_set_create(m, cbio_create) != 1) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

/* ---- opening and closing ---------------------------------------------------------- */

static void conn_event(evutil_socket_t fd, short what, void *arg)
{
	http_conn_t *c = arg;

	(void)fd;
	if (what & EV_READ)
		c->in_drained = false;	/* an edge: there is something to read */
	conn_serve(c);
}

static bool conn_tls_init(http_conn_t *c, SSL_CTX *ctx)
{
	BIO *bio;

	if ((c->ssl = SSL_new(ctx)) == NULL)
		return false;
	if ((bio = BIO_new(c->n->top->bio_method)) == NULL)
		return false;
	BIO_set_data(bio, c);
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_accept_state(c->ssl);
	return true;
}

void http_conn_new(struct net *n, int fd, bool public_listener)
{
	http_conn_t *c = calloc(1, sizeof *c);
	SSL_CTX *ctx = public_listener ? n->public_ctx : n->ctx;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->n = n;
	c->fd = fd;
	c->public_listener = public_listener;
	c->caller.kind = public_listener || ctx != NULL ? CALLER_NONE : CALLER_TRUSTED;
	buf_init(&c->in);
	buf_init(&c->url);
	buf_init(&c->body);
	buf_init(&c->out);
	buf_init(&c->wire);
	buf_init(&c->ans);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->state = ctx != NULL ? CS_HANDSHAKE : CS_IDLE;
	c->since = server_now();
	TAILQ_INSERT_TAIL(&n->conns[c->state], c, link);
	atomic_fetch_add(&n->top->nconns, 1);
	pthread_mutex_lock(&n->mu);
	n->m.accepted++;
	pthread_mutex_unlock(&n->mu);
	/* Registered once, for both directions, edge-triggered: epoll reports
	 * what is already readable when it is added. */
	if ((ctx != NULL && !conn_tls_init(c, ctx)) ||
	    (c->ev = event_new(n->base, fd, EV_READ | EV_WRITE | EV_PERSIST | EV_ET, conn_event,
			       c)) == NULL ||
	    event_add(c->ev, NULL) != 0) {
		http_conn_close(c);
		return;
	}
	/* Its first bytes are there (TCP_DEFER_ACCEPT): take them now, so a
	 * ClientHello that is not whole marks a slow client at once. */
	conn_serve(c);
}

static void conn_free(http_conn_t *c)
{
	if (c->ev != NULL)
		event_free(c->ev);
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	buf_deinit(&c->in);
	buf_deinit(&c->url);
	buf_deinit(&c->body);
	buf_deinit(&c->out);
	buf_deinit(&c->wire);
	buf_deinit(&c->ans);
	free(c);
}

/* Close now: whatever is unwritten is dropped.  Never called for a
 * connection a handler has (CS_WORKING): its answer is still to come. */
void http_conn_close(http_conn_t *c)
{
	TAILQ_REMOVE(&c->n->conns[c->state], c, link);
	atomic_fetch_sub(&c->n->top->nconns, 1);
	conn_free(c);
}

/* ---- reading ----------------------------------------------------------------------- */

enum { IO_AGAIN = 0, IO_OK = 1, IO_CLOSED = -1 };

/* Plain HTTP: read into c->in.  A short read means the socket is empty
 * (edge-triggered: new data will wake us). */
static int conn_read_plain(http_conn_t *c)
{
	ssize_t r;

	if (!buf_reserve(&c->in, HTTP_READ_CHUNK))
		return IO_CLOSED;
	size_t room = c->in.cap - c->in.len;
	while ((r = read(c->fd, c->in.p + c->in.len, room)) < 0 && errno == EINTR)
		;
	if (r > 0) {
		c->in.len += (size_t)r;
		c->in_drained = (size_t)r < room;
		return IO_OK;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->in_drained = true;
		return IO_AGAIN;
	}
	c->eof = true;
	return IO_CLOSED;
}

/* The handshake's end: who is calling (once per connection). */
static void conn_handshake_done(http_conn_t *c)
{
	if (!c->public_listener)
		tls_caller(c->ssl, c->n->regulator_ca, c->n->relays, &c->caller);
	http_conn_set_state(c, CS_IDLE, server_now());
}

/* A failed handshake: counted and logged, except a connection that sent
 * nothing at all (a port probe, a load balancer's check). */
static void conn_handshake_failed(http_conn_t *c, int err)
{
	char why[200];

	if (BIO_number_read(SSL_get_rbio(c->ssl)) > 0) {
		tls_failure_reason(c->ssl, err, why, sizeof why);
		server_refused(c->n, REFUSED_HANDSHAKE_FAILED, 0, why);
	}
	ERR_clear_error();
	/* Send the alert OpenSSL wrote (no client certificate, an unknown
	 * CA, ...) before the connection closes: it is how the client learns
	 * that retrying will not help (yima upload stops at once on it). */
	if (c->wire.len > 0) {
		(void)!write(c->fd, c->wire.p, c->wire.len);
		buf_reset(&c->wire);
	}
}

/* Feed what the scratch buffer holds to OpenSSL: the handshake, then
 * every whole record into c->in.  Everything fed is consumed (read-ahead
 * takes it into OpenSSL's buffer) unless the connection fails. */
static int conn_pump_tls(http_conn_t *c)
{
	int r, err;

	if (c->state == CS_HANDSHAKE) {
		if ((r = SSL_do_handshake(c->ssl)) != 1) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ)
				return IO_AGAIN;
			conn_handshake_failed(c, err);
			return IO_CLOSED;
		}
		conn_handshake_done(c);
	}
	for (;;) {
		if (!buf_reserve(&c->in, HTTP_READ_CHUNK))
			return IO_CLOSED;
		size_t room = c->in.cap - c->in.len;
		r = SSL_read(c->ssl, c->in.p + c->in.len, room > INT_MAX ? INT_MAX : (int)room);
		if (r > 0) {
			c->in.len += (size_t)r;
			continue;
		}
		err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			return IO_OK;
		ERR_clear_error();
		if (err == SSL_ERROR_ZERO_RETURN)
			c->eof = true;	/* close_notify: answer what came, then close */
		return err == SSL_ERROR_ZERO_RETURN ? IO_OK : IO_CLOSED;
	}
}

static int conn_read_tls(http_conn_t *c)
{
	struct net *n = c->n;
	ssize_t r;

	while ((r = read(c->fd, n->scratch, sizeof n->scratch)) < 0 && errno == EINTR)
		;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->in_drained = true;
		return IO_AGAIN;
	}
	if (r <= 0) {
		c->eof = true;
		if (c->state == CS_HANDSHAKE)
			conn_handshake_failed(c, SSL_ERROR_SYSCALL);
		return IO_CLOSED;
	}
	c->in_drained = (size_t)r < sizeof n->scratch;
	n->feed_len = (size_t)r;
	n->feed_off = 0;
	r = conn_pump_tls(c);
	n->feed_len = n->feed_off = 0;
	return (int)r;
}

/* ---- writing ----------------------------------------------------------------------- */

/* Put what waits in c->out on the wire: one SSL_write (one record for
 * answers up to 16 KiB), one write().  Returns IO_OK when all is
 * written, IO_AGAIN when the socket is full, IO_CLOSED on failure. */
static int conn_flush(http_conn_t *c)
{
	buf_t *w = c->ssl ? &c->wire : &c->out;
	size_t *off = c->ssl ? &c->wire_off : &c->out_off;
	ssize_t r;

	if (c->ssl != NULL && c->out.len > 0) {
		if (c->out.len > INT_MAX || SSL_write(c->ssl, c->out.p, (int)c->out.len) != (int)c->out.len) {
			ERR_clear_error();
			return IO_CLOSED;
		}
		buf_reset(&c->out);
	}
	while (*off < w->len) {
		r = write(c->fd, w->p + *off, w->len - *off);
		if (r > 0) {
			*off += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? IO_AGAIN : IO_CLOSED;
	}
	buf_reset(w);
	*off = 0;
	return IO_OK;
}

/* Release a buffer a large request or answer grew (kept otherwise). */
static void trim(buf_t *b)
{
	if (b->cap > HTTP_KEEP_MAX && b->len == 0) {
		buf_deinit(b);
		buf_init(b);
	}
}

static const char *const weekdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", made once a second. */
static const char *date_header(struct net *n)
{
	time_t now = time(NULL);
	struct tm tm;

	if ((long)now != n->date_sec && gmtime_r(&now, &tm) != NULL) {
		n->date_sec = (long)now;
		strftime(n->date, sizeof n->date, "Date: ---, %d --- %Y %H:%M:%S GMT\r\n", &tm);
		memcpy(n->date + 6, weekdays[tm.tm_wday % 7], 3);
		memcpy(n->date + 14, months[tm.tm_mon % 12], 3);
	}
	return n->date;
}

static void put_str(buf_t *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void put_uint(buf_t *b, size_t v)
{
	char d[24];
	int i = (int)sizeof d;

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	buf_put(b, d + i, sizeof d - (size_t)i);
}

void http_conn_put_answer(http_conn_t *c, int status, const char *ctype, const void *body,
			  size_t n)
{
	buf_t *o = &c->out;
	const char *phrase = http_status_str((enum http_status)status);

	if (status < 100 || status > 999)
		status = 500;
	buf_reserve(o, 160 + (c->head ? 0 : n));
	put_str(o, "HTTP/1.1 ");
	put_uint(o, (size_t)status);
	buf_putc(o, ' ');
	put_str(o, phrase);
	put_str(o, "\r\n");
	put_str(o, date_header(c->n));
	put_str(o, "Content-Type: ");
	put_str(o, ctype);
	if (c->cache_control != NULL) {
		put_str(o, "\r\nCache-Control: ");
		put_str(o, c->cache_control);
		c->cache_control = NULL;
	}
	put_str(o, "\r\nContent-Length: ");
	put_uint(o, n);
	put_str(o, c->close_after ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
	if (!c->head && n > 0)
		buf_put(o, body, n);
}

/* ---- serving --------------------------------------------------------------------- */

enum { PARSE_MORE, PARSE_NEXT, PARSE_STOP };

/* Parse what c->in holds.  PARSE_NEXT: a request was answered, more may
 * follow; PARSE_STOP: a handler has it, or it was refused; PARSE_MORE:
 * everything buffered is consumed. */
static int conn_parse(http_conn_t *c)
{
	size_t len = c->in.len - c->in_off, used;
	enum http_errno e;

	used = http_parser_execute(&c->parser, &http_request_settings,
				   (const char *)c->in.p + c->in_off, len);
	c->in_off += used;
	if (c->in_off == c->in.len) {
		c->in_off = 0;
		buf_reset(&c->in);
		trim(&c->in);
	}
	e = HTTP_PARSER_ERRNO(&c->parser);
	if (e == HPE_PAUSED) {
		http_parser_pause(&c->parser, 0);
		int rc = http_request_dispatch(c);
		http_request_reset(c);
		return rc == HTTP_LATER || c->close_after ? PARSE_STOP : PARSE_NEXT;
	}
	if (e != HPE_OK) {
		http_request_refuse_parse(c, e);
		return PARSE_STOP;
	}
	return PARSE_MORE;
}

/* Closing after an answer: close_notify, then either close, or (after a
 * refusal, when the client may still be sending) stop writing and read
 * and drop what comes for a while, so that the client reads the answer
 * instead of a reset. */
static bool conn_end(http_conn_t *c)
{
	if (c->ssl != NULL && c->state != CS_HANDSHAKE) {
		SSL_shutdown(c->ssl);
		ERR_clear_error();
		(void)!write(c->fd, c->wire.p, c->wire.len);
		buf_reset(&c->wire);
	}
	if (!c->linger || shutdown(c->fd, SHUT_WR) != 0) {
		http_conn_close(c);
		return false;
	}
	http_conn_set_state(c, CS_LINGER, server_now());
	return true;
}

/* After a wakeup's work: write, then put the connection in the state
 * that sets its deadline.  Returns false if it was closed. */
static bool conn_settle(http_conn_t *c)
{
	int r = conn_flush(c);
	enum conn_state want;

	if (r == IO_CLOSED) {
		http_conn_close(c);
		return false;
	}
	if (r == IO_OK && c->close_after && c->state != CS_WORKING)
		return conn_end(c);
	if (c->state == CS_HANDSHAKE || c->state == CS_WORKING)
		return true;
	if (r == IO_AGAIN)
		want = CS_WRITING;
	else
		want = c->in_request ? CS_READING : CS_IDLE;
	if (want != c->state)
		http_conn_set_state(c, want, server_now());
	trim(&c->out);
	trim(&c->wire);
	return true;
}

/* CS_LINGER: drop what arrives; close at its end, or after 1 MiB. */
static void conn_linger(http_conn_t *c)
{
	ssize_t r = 0;

	for (int i = 0; i < 64; i++) {
		r = read(c->fd, c->n->scratch, sizeof c->n->scratch);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
	}
	if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		http_conn_close(c);
}

static void conn_serve(http_conn_t *c)
{
	int answered = 0, r;

	if (c->state == CS_LINGER) {
		conn_linger(c);
		return;
	}
	if (c->state == CS_WRITING && (r = conn_flush(c)) != IO_OK) {
		if (r == IO_CLOSED)
			http_conn_close(c);
		return;		/* still full: nothing else until it drains */
	}
	for (;;) {
		if (c->state == CS_WORKING || c->close_after)
			break;
		if (c->in.len > c->in_off && c->state != CS_HANDSHAKE) {
			r = conn_parse(c);
			if (r == PARSE_NEXT && ++answered >= HTTP_BATCH_MAX) {
				/* fairness: the rest on the next loop pass */
				event_active(c->ev, EV_WRITE, 0);
				break;
			}
			if (r != PARSE_MORE)
				continue;
		}
		if (c->eof) {
			/* the client closed: answer what came, then close */
			if (c->in_request || c->state == CS_HANDSHAKE) {
				http_conn_close(c);
				return;
			}
			c->close_after = true;
			break;
		}
		if (c->in_drained)
			break;
		r = c->ssl ? conn_read_tls(c) : conn_read_plain(c);
		if (r == IO_CLOSED && !c->eof) {
			http_conn_close(c);
			return;
		}
	}
	conn_settle(c);
}

void http_answer_later(struct http_conn *c, int status, const char *content_type,
		       const void *body, size_t n, const char *facility)
{
	http_conn_set_state(c, CS_IDLE, server_now());
	http_conn_finish(c, status, content_type, body, n, facility);
	conn_serve(c);
}

/* ---- the cap, deadlines, draining -------------------------------------------------- */

/* A handshake that has not had a whole ClientHello yet (yimad has said
 * nothing although what had arrived was read at accept): what a slow
 * client looks like.  A real client's first flight arrives in one piece,
 * and with TCP_DEFER_ACCEPT it is there when the connection is accepted. */
static bool handshake_stalled(const http_conn_t *c)
{
	return c->ssl != NULL && BIO_number_written(SSL_get_wbio(c->ssl)) == 0;
}

static http_conn_t *first_stalled(struct net *n)
{
	http_conn_t *c;

	TAILQ_FOREACH(c, &n->conns[CS_HANDSHAKE], link)
		if (handshake_stalled(c))
			return c;
	return NULL;
}

/* The head of a state's list if it has been there at least min seconds. */
static http_conn_t *oldest(struct net *n, enum conn_state st, double min, double now)
{
	http_conn_t *c = TAILQ_FIRST(&n->conns[st]);
	return c != NULL && now - c->since >= min ? c : NULL;
}

/*
 * Which connection makes room at the cap: one lingering after a refusal,
 * the oldest connection idle for a second or more, the oldest handshake
 * stalled before its ClientHello, the oldest request being read for more
 * than a moment, the oldest connection idle for more than a moment.  A
 * request or idleness younger than HTTP_GRACE_S is left alone: it may be
 * a normal client a few milliseconds from done.  If nothing may be
 * closed, accepting waits (http_listen.c).
 */
bool http_conn_evict(struct net *n)
{
	double now = server_now();
	http_conn_t *c;

	if ((c = oldest(n, CS_LINGER, 0, now)) == NULL && (c = oldest(n, CS_IDLE, 1.0, now)) == NULL &&
	    (c = first_stalled(n)) == NULL &&
	    (c = oldest(n, CS_READING, HTTP_GRACE_S, now)) == NULL &&
	    (c = oldest(n, CS_IDLE, HTTP_GRACE_S, now)) == NULL)
		return false;
	if (c->state == CS_HANDSHAKE || c->state == CS_READING)
		server_refused(n, REFUSED_EVICTED, 0, c->state == CS_HANDSHAKE ? "in the handshake"
									 : "reading a request");
	http_conn_close(c);
	return true;
}

static double state_timeout(const struct net *n, enum conn_state st)
{
	switch (st) {
	case CS_HANDSHAKE:
		return n->o.handshake_timeout_s;
	case CS_WORKING:
		return -1;
	case CS_LINGER:
		return HTTP_LINGER_S;
	default:
		return n->o.timeout_s;
	}
}

static void conn_expire(http_conn_t *c)
{
	switch (c->state) {
	case CS_HANDSHAKE:
		server_refused(c->n, REFUSED_HANDSHAKE_TIMEOUT, 0, NULL);
		break;
	case CS_READING:
		/* 408, best effort, and close */
		http_request_refuse(c, 408, REFUSED_REQUEST_TIMEOUT, NULL);
		conn_flush(c);
		break;
	case CS_WRITING:
		server_refused(c->n, REFUSED_WRITE_TIMEOUT, 0, NULL);
		break;
	default:
		break;
	}
	http_conn_close(c);
}

void http_conn_sweep(struct net *n, double now)
{
	for (int st = 0; st < CS_COUNT; st++) {
		double limit = state_timeout(n, (enum conn_state)st);
		http_conn_t *c;
		if (limit < 0)
			continue;
		while ((c = TAILQ_FIRST(&n->conns[st])) != NULL && now - c->since >= limit)
			conn_expire(c);
	}
}

void http_conn_drain(struct net *n)
{
	http_conn_t *c;

	while ((c = TAILQ_FIRST(&n->conns[CS_IDLE])) != NULL)
		http_conn_close(c);
	while ((c = TAILQ_FIRST(&n->conns[CS_HANDSHAKE])) != NULL)
		http_conn_close(c);
}

void http_conn_free_all(struct net *n)
{
	http_conn_t *c;

	for (int st = 0; st < CS_COUNT; st++)
		while ((c = TAILQ_FIRST(&n->conns[st])) != NULL) {
			TAILQ_REMOVE(&n->conns[st], c, link);
			atomic_fetch_sub(&n->top->nconns, 1);
			conn_free(c);
		}
}
