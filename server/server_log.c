/*
 * server_log.c - yimad's log lines on stderr (journald): one per request
 * (unless --quiet) and one per refusal of the HTTP layer, never request
 * content, codes or patient data.
 *
 * Refusals are logged even with --quiet, but at most REFUSAL_LINES a
 * second per network thread, and running out of descriptors at most once
 * a second: under a flood of bad or slow clients the log grows by a few
 * lines a second, not by one per connection (the earlier accept loop
 * logged 33.6 million lines in a minute, issue 9 item 3).  What was not
 * logged is counted in a line once a second, and every refusal is in
 * yimad_http_refused_total.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

#define REFUSAL_LINES 10

static const char *const refusal_names[REFUSED_COUNT] = {
	[REFUSED_BAD_REQUEST] = "bad_request",
	[REFUSED_LENGTH_REQUIRED] = "length_required",
	[REFUSED_BODY_TOO_LARGE] = "body_too_large",
	[REFUSED_URI_TOO_LONG] = "uri_too_long",
	[REFUSED_HEADERS_TOO_LARGE] = "headers_too_large",
	[REFUSED_NOT_IMPLEMENTED] = "not_implemented",
	[REFUSED_REQUEST_TIMEOUT] = "request_timeout",
	[REFUSED_WRITE_TIMEOUT] = "write_timeout",
	[REFUSED_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[REFUSED_HANDSHAKE_FAILED] = "handshake_failed",
	[REFUSED_EVICTED] = "evicted",
	[REFUSED_CONN_LIMIT] = "connection_limit",
	[REFUSED_DESCRIPTORS] = "out_of_descriptors",
};

const char *refusal_name(enum refusal r)
{
	return (unsigned)r < REFUSED_COUNT ? refusal_names[r] : "?";
}

/* "2026-03-01T10:15:00Z", made once a second. */
static const char *log_time(struct net *n)
{
	time_t now = time(NULL);
	struct tm tm;

	if ((long)now != n->iso_sec && gmtime_r(&now, &tm) != NULL) {
		n->iso_sec = (long)now;
		strftime(n->iso, sizeof n->iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	return n->iso;
}

/* Printable ASCII only, at most 200 bytes: a path cannot forge lines. */
static void put_clean(char *out, size_t n, const char *s)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < n && i < 200; i++)
		out[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
	out[i] = '\0';
}

void server_log_request(struct net *n, const char *facility, const char *method,
			const char *path, int status, double seconds)
{
	char clean[256];

	if (n->o.quiet)
		return;
	put_clean(clean, sizeof clean, path);
	fprintf(stderr, "%s yimad request facility=%s method=%s path=%s status=%d ms=%.3f\n",
		log_time(n), facility && facility[0] ? facility : "-", method, clean, status,
		seconds * 1000.0);
}

void server_refused(struct net *n, enum refusal r, int status, const char *detail)
{
	double now = server_now();

	pthread_mutex_lock(&n->mu);
	n->m.refused[r]++;
	pthread_mutex_unlock(&n->mu);
	if (r == REFUSED_DESCRIPTORS) {
		if (now - n->emfile_logged < 1.0) {
			n->log_dropped++;
			return;
		}
		n->emfile_logged = now;
	} else {
		if (now - n->log_window >= 1.0) {
			n->log_window = now;
			n->log_lines = 0;
		}
		if (n->log_lines >= REFUSAL_LINES) {
			n->log_dropped++;
			return;
		}
		n->log_lines++;
	}
	char st[24] = "";
	if (status > 0)
		snprintf(st, sizeof st, " status=%d", status);
	fprintf(stderr, "%s yimad refused reason=%s%s%s%s%s\n", log_time(n), refusal_name(r), st,
		detail ? " detail=\"" : "", detail ? detail : "", detail ? "\"" : "");
}

void server_log_tick(struct net *n, double now)
{
	if (n->log_dropped == 0 || now - n->log_window < 1.0)
		return;
	fprintf(stderr, "%s yimad refused: %llu more refusals in the last seconds not logged "
		"(counted in yimad_http_refused_total)\n", log_time(n), (unsigned long long)n->log_dropped);
	n->log_dropped = 0;
}
