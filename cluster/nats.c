/*
 * nats.c - the node's NATS connection and the partition streams
 * (docs/cluster.md, "Partitions and streams"; what 2.9.10 and nats.c
 * 3.4.1 do: docs/cluster-findings.md).
 *
 * Partition k of cluster NAME is stream YIMA_<NAME>_P<k>, subject
 * yima.<NAME>.p<k>: file storage, no limits (history is never dropped),
 * Discard new, duplicates window 2 minutes, and a description naming P,
 * so that a node of another P meets "a different configuration" and is
 * refused.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_int.h"
#include "yima/util/error.h"

#define JS_STREAM_DIFFERENT_CONFIG 10058

double cluster_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cluster_log(bool quiet, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "yimad: cluster: %s\n", line);
}

void cnats_stream(const cnats_t *c, unsigned k, char *buf, size_t n)
{
	snprintf(buf, n, "YIMA_%s_P%u", c->name, k);
}

void cnats_subject(const cnats_t *c, unsigned k, char *buf, size_t n)
{
	snprintf(buf, n, "yima.%s.p%u", c->name, k);
}

static int nats_fail(char *why, size_t whylen, natsStatus s, const char *what)
{
	return yima_fail(why, whylen, YIMA_EUNAVAIL, "NATS: %s: %s", what, natsStatus_GetText(s));
}

int cnats_connect(cnats_t *c, const char *urls, const char *name, char *why, size_t whylen)
{
	natsOptions *o = NULL;
	char buf[2048], *save = NULL, *tok;
	const char *list[16];
	int n = 0;
	natsStatus s;

	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	if (strlen(urls) >= sizeof buf)
		return yima_fail(why, whylen, YIMA_EINVAL, "--nats: too long");
	/* 3.4.1's natsOptions_SetURL takes one URL: split the list here */
	snprintf(buf, sizeof buf, "%s", urls);
	for (tok = strtok_r(buf, ",", &save); tok != NULL && n < 16; tok = strtok_r(NULL, ",", &save))
		list[n++] = tok;
	if (n == 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "--nats: no URL");
	c->urls = n;
	if ((s = natsOptions_Create(&o)) != NATS_OK)
		return nats_fail(why, whylen, s, "options");
	if ((s = natsOptions_SetServers(o, list, n)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(o, 100)) != NATS_OK ||
	    (s = natsOptions_SetReconnectJitter(o, 50, 50)) != NATS_OK ||
	    (s = natsOptions_SetFailRequestsOnDisconnect(o, true)) != NATS_OK ||
	    (s = natsOptions_SetRetryOnFailedConnect(o, true, NULL, NULL)) != NATS_OK) {
		natsOptions_Destroy(o);
		return nats_fail(why, whylen, s, "options");
	}
	s = natsConnection_Connect(&c->nc, o);
	natsOptions_Destroy(o);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED)
		return nats_fail(why, whylen, s, urls);
	if ((s = natsConnection_JetStream(&c->js, c->nc, NULL)) != NATS_OK) {
		cnats_close(c);
		return nats_fail(why, whylen, s, "JetStream context");
	}
	return 0;
}

void cnats_close(cnats_t *c)
{
	if (c->js != NULL)
		jsCtx_Destroy(c->js);
	if (c->nc != NULL) {
		natsConnection_Close(c->nc);
		natsConnection_Destroy(c->nc);
	}
	c->js = NULL;
	c->nc = NULL;
}

/* JetStream answers once a meta leader is elected (about 10 s after a
 * full restart in 2.9.10). */
static int wait_ready(cnats_t *c, char *why, size_t whylen)
{
	double t0 = cluster_now();
	natsStatus s = NATS_OK;

	while (cluster_now() - t0 < 60) {
		jsAccountInfo *ai = NULL;
		if ((s = js_GetAccountInfo(&ai, c->js, NULL, NULL)) == NATS_OK) {
			jsAccountInfo_Destroy(ai);
			c->max_payload = natsConnection_GetMaxPayload(c->nc);
			return 0;
		}
		nats_Sleep(100);
	}
	return nats_fail(why, whylen, s, "JetStream not ready after 60 s");
}

static int stream_add(cnats_t *c, unsigned k, unsigned partitions, int replicas, char *why,
		      size_t whylen)
{
	char name[96], subject[96], desc[160];
	const char *subjects[1] = { subject };
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	cnats_stream(c, k, name, sizeof name);
	cnats_subject(c, k, subject, sizeof subject);
	snprintf(desc, sizeof desc, "yima cluster %s: partition %u of %u", c->name, k, partitions);
	jsStreamConfig_Init(&sc);
	sc.Name = name;
	sc.Description = desc;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = replicas;
	sc.MaxMsgs = -1;
	sc.MaxBytes = -1;
	sc.Discard = js_DiscardNew;	/* history is never dropped */
	sc.Duplicates = 120LL * 1000000000LL;
	sc.AllowDirect = true;
	for (int tries = 0;; tries++) {
		s = js_AddStream(&si, c->js, &sc, NULL, &jerr);
		jsStreamInfo_Destroy(si);
		si = NULL;
		if (s == NATS_OK)
			return 0;
		if (jerr == JS_STREAM_DIFFERENT_CONFIG)
			return yima_fail(why, whylen, YIMA_EMISMATCH,
					 "stream %s exists with another configuration: not a cluster "
					 "\"%s\" of %u partitions at R=%d (see its description)",
					 name, c->name, partitions, replicas);
		if (tries >= 100)
			return nats_fail(why, whylen, s, name);
		nats_Sleep(200);
	}
}

int cnats_streams(cnats_t *c, unsigned partitions, int replicas, char *why, size_t whylen)
{
	unsigned have = 0;
	int rc;

	if ((rc = wait_ready(c, why, whylen)) < 0)
		return rc;
	/* a cluster that exists has its P in its streams' description */
	if (cnats_discover(c, &have, NULL, 0) == 0 && have != partitions)
		return yima_fail(why, whylen, YIMA_EMISMATCH,
				 "cluster \"%s\" has %u partitions, not %u: a node's --partitions "
				 "must be the cluster's", c->name, have, partitions);
	for (unsigned k = 0; k < partitions; k++)
		if ((rc = stream_add(c, k, partitions, replicas, why, whylen)) < 0)
			return rc;
	return 0;
}

int cnats_discover(cnats_t *c, unsigned *partitions, char *why, size_t whylen)
{
	char name[96];
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	unsigned k, p;
	int rc = 0;

	cnats_stream(c, 0, name, sizeof name);
	for (int tries = 0;; tries++) {
		s = js_GetStreamInfo(&si, c->js, name, NULL, &jerr);
		if (s == NATS_OK || s == NATS_NOT_FOUND || tries >= 50)
			break;
		nats_Sleep(200);
	}
	if (s == NATS_NOT_FOUND)
		return yima_fail(why, whylen, YIMA_ENOTFOUND, "no cluster \"%s\" on these servers (no stream %s)",
				 c->name, name);
	if (s != NATS_OK)
		return nats_fail(why, whylen, s, name);
	if (si->Config == NULL || si->Config->Description == NULL ||
	    sscanf(si->Config->Description, "yima cluster %*s partition %u of %u", &k, &p) != 2 ||
	    p == 0 || p > CLUSTER_PARTITIONS_MAX)
		rc = yima_fail(why, whylen, YIMA_ECORRUPT, "stream %s: not a yima partition stream", name);
	else
		*partitions = p;
	jsStreamInfo_Destroy(si);
	return rc;
}

int cnats_last_seq(cnats_t *c, unsigned k, uint64_t *last)
{
	char name[96];
	jsStreamInfo *si = NULL;
	natsStatus s;

	cnats_stream(c, k, name, sizeof name);
	if ((s = js_GetStreamInfo(&si, c->js, name, NULL, NULL)) != NATS_OK)
		return YIMA_EUNAVAIL;
	*last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return 0;
}
