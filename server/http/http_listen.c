/*
 * http_listen.c - yimad's listening sockets: holding the address against
 * other processes, one SO_REUSEPORT socket per network thread, accepting
 * under the connection cap, and running out of descriptors gracefully.
 *
 * SO_REUSEPORT lets yimad's own threads share a port, but it would let a
 * second yimad (same user) join it too, and the kernel would then spread
 * requests over two ledgers (issue 12).  So before listening, yimad binds
 * a probe socket to the address without SO_REUSEPORT: if anyone listens
 * there, that fails and yimad refuses to start.  Two yimads starting at
 * the same instant could both pass the probe; an abstract Unix socket
 * named after the address, held for the process's life, closes that gap
 * (the second cannot bind it).
 *
 * Accepting (issue 9 item 3): at the cap (--max-conns, below the
 * descriptor limit) a new connection takes the place of the oldest idle
 * one, else of the oldest still in its handshake or request (under a slow
 * client flood, those are the flood's); if this thread has none, the new
 * one is closed.  accept() failing for want of descriptors gives up a
 * reserved descriptor to take the connection and close it, and pauses
 * accepting for 100 ms, so it cannot spin; it is logged once a second.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http_int.h"
#include "yima/util/error.h"

#define ACCEPT_BATCH 64		/* connections taken per wakeup */
#define LISTEN_BACKLOG 4096

struct http_listener {
	struct net *n;
	int fd;
	bool public_listener;
	struct event *ev, *resume;
};

int http_split_hostport(const char *hp, char *host, size_t hostlen, uint16_t *port)
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

static int resolve(const char *hp, uint16_t port_override, struct addrinfo **res, char *why,
		   size_t whylen)
{
	char host[256], serv[8];
	struct addrinfo hints;
	uint16_t port;
	int rc;

	if (http_split_hostport(hp, host, sizeof host, &port) < 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "listen address \"%s\": want HOST:PORT", hp);
	snprintf(serv, sizeof serv, "%u", port_override ? port_override : port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, serv, &hints, res)) != 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "listen address %s: %s", hp, gai_strerror(rc));
	return 0;
}

static uint16_t addr_port(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
					       : ((const struct sockaddr_in *)sa)->sin_port);
}

/* The lock: an abstract Unix socket "yimad <numeric address> <port>". */
static int guard_lock(const struct addrinfo *ai, int *out, char *why, size_t whylen, const char *hp)
{
	struct sockaddr_un un;
	char num[INET6_ADDRSTRLEN];
	int fd, len;

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(num, sizeof num, "?");
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	len = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "yimad %s %u", num,
		       addr_port(ai->ai_addr));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return yima_fail(why, whylen, YIMA_EIO, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
							    (size_t)len)) != 0) {
		int e = errno;
		close(fd);
		return yima_fail(why, whylen, YIMA_EBUSY, "%s: %s", hp,
				 e == EADDRINUSE ? "another yimad is serving (or starting on) this address"
						 : strerror(e));
	}
	*out = fd;
	return 0;
}

/* Is anyone listening on the address?  A bind without SO_REUSEPORT fails
 * if so (SO_REUSEADDR still passes sockets left in TIME_WAIT). */
static int guard_probe(const struct addrinfo *ai, char *why, size_t whylen, const char *hp)
{
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return yima_fail(why, whylen, YIMA_EIO, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		rc = yima_fail(why, whylen, errno == EADDRINUSE ? YIMA_EBUSY : YIMA_EIO,
			       "cannot listen on %s: %s", hp,
			       errno == EADDRINUSE ? "the address is in use by another process"
						   : strerror(errno));
	close(fd);
	return rc;
}

int http_guard_address(struct server *top, const char *hp, char *why, size_t whylen)
{
	struct addrinfo *res;
	int slot = top->guard_fd[0] < 0 ? 0 : 1, rc;

	if ((rc = resolve(hp, 0, &res, why, whylen)) < 0)
		return rc;
	if (addr_port(res->ai_addr) != 0 &&
	    ((rc = guard_lock(res, &top->guard_fd[slot], why, whylen, hp)) < 0 ||
	     (rc = guard_probe(res, why, whylen, hp)) < 0)) {
		freeaddrinfo(res);
		return rc;
	}
	freeaddrinfo(res);
	return 0;
}

/*
 * A listening socket for hp, one per network thread: SO_REUSEPORT lets
 * each thread have its own and the kernel spread connections over them.
 * *port is 0 for the first (a port 0 in hp is then chosen by the kernel
 * and written back for the others).
 */
static int listen_socket(const char *hp, uint16_t *port, int defer_s, int *out, char *why,
			 size_t whylen)
{
	struct addrinfo *res = NULL;
	int fd, one = 1, rc;

	*out = -1;
	if ((rc = resolve(hp, *port, &res, why, whylen)) < 0)
		return rc;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* Accepted sockets inherit TCP_NODELAY (Linux): an answer is one
	 * write and must not wait for the client's delayed ACK.
	 * TCP_DEFER_ACCEPT: a connection is accepted once its first bytes
	 * have come (or after the handshake deadline), so one that sends
	 * nothing holds no descriptor. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof defer_s) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
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
			*port = addr_port((struct sockaddr *)&ss);
	}
	*out = fd;
	return 0;
}

/* ---- accepting ---------------------------------------------------------------------- */

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http_listener *l = arg;

	(void)fd;
	(void)what;
	if (l->fd >= 0)
		event_add(l->ev, NULL);
}

/* Stop accepting for a moment: what waits stays in the kernel's queue. */
static void pause_accepting(struct http_listener *l, long usec)
{
	struct timeval pause = { 0, usec };

	event_del(l->ev);
	event_add(l->resume, &pause);
}

/* Out of descriptors: take the waiting connection with the reserved one
 * and close it, and pause for a moment. */
static void out_of_descriptors(struct http_listener *l)
{
	struct net *n = l->n;
	int fd;

	server_refused(n, REFUSED_DESCRIPTORS, 0, "accept(): out of file descriptors");
	if (n->reserve_fd >= 0) {
		close(n->reserve_fd);
		if ((fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
		n->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	pause_accepting(l, 100000);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct http_listener *l = arg;
	struct net *n = l->n;
	int fd;

	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		/* At the cap a new connection takes an older one's place; if
		 * none may be closed, it waits in the queue a little. */
		if (atomic_load(&n->top->nconns) >= n->top->max_conns && !http_conn_evict(n)) {
			server_refused(n, REFUSED_CONN_LIMIT, 0,
				       "at the cap with nothing to close: accepting paused 50 ms");
			pause_accepting(l, 50000);
			return;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			http_conn_new(n, fd, l->public_listener);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			out_of_descriptors(l);
		return;		/* EAGAIN: nothing more waits */
	}
}

int http_listen(struct net *n, const char *hp, bool public_listener, uint16_t *port,
		struct http_listener **out, char *why, size_t whylen)
{
	struct http_listener *l = calloc(1, sizeof *l);
	int rc;

	*out = l;
	if (l == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	l->n = n;
	l->fd = -1;
	l->public_listener = public_listener;
	if ((rc = listen_socket(hp, port, n->o.handshake_timeout_s, &l->fd, why, whylen)) < 0)
		return rc;
	if ((l->ev = event_new(n->base, l->fd, EV_READ | EV_PERSIST, on_accept, l)) == NULL ||
	    (l->resume = evtimer_new(n->base, on_resume, l)) == NULL || event_add(l->ev, NULL) != 0)
		return yima_fail(why, whylen, YIMA_ENOMEM, "libevent: cannot listen on %s", hp);
	return 0;
}

void http_listener_close(struct http_listener *l)
{
	if (l == NULL || l->fd < 0)
		return;
	event_del(l->ev);
	event_del(l->resume);
	close(l->fd);
	l->fd = -1;
}

void http_listener_free(struct http_listener *l)
{
	if (l == NULL)
		return;
	http_listener_close(l);
	if (l->ev)
		event_free(l->ev);
	if (l->resume)
		event_free(l->resume);
	free(l);
}
