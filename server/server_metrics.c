/*
 * server_metrics.c - GET /metrics: Prometheus text exposition of yimad's
 * counters (requests by route and status class, verdicts and findings of
 * recorded events, a request latency histogram, group commits, what the
 * HTTP layer refused, connections, ledger size, the build).  Every
 * family has its HELP and TYPE: `promtool check metrics` passes
 * (tests/integration/test_metrics.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "yima/util/version.h"
#include "http.h"
#include "server_int.h"

/* Upper bounds in seconds: 100 us .. ~3 s, doubling. */
static double bucket_le(int i)
{
	return 0.0001 * (double)(1u << i);
}

void metrics_observe_latency(server_metrics_t *m, double s)
{
	int i = 0;
	while (i < METRICS_BUCKETS && s > bucket_le(i))
		i++;
	m->latency_bucket[i]++;
	m->latency_sum += s;
	m->latency_count++;
}

/* "# HELP name text\n# TYPE name type\n" */
static void family(buf_t *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one unlabelled sample. */
static void single(buf_t *out, const char *name, const char *type, const char *help, uint64_t v)
{
	family(out, name, type, help);
	buf_printf(out, "%s %" PRIu64 "\n", name, v);
}

static void render_http(const server_metrics_t *m, buf_t *out)
{
	family(out, "yimad_http_refused_total", "counter",
	       "Requests and connections the HTTP layer refused or cut off, by reason.");
	for (int i = 0; i < REFUSED_COUNT; i++)
		buf_printf(out, "yimad_http_refused_total{reason=\"%s\"} %" PRIu64 "\n",
			   refusal_name((enum refusal)i), m->refused[i]);
	single(out, "yimad_connections_accepted_total", "counter",
	       "Connections accepted.", m->accepted);
	single(out, "yimad_connections", "gauge",
	       "Connections open now.", m->open);
}

void metrics_render(const server_metrics_t *m, ledger_t *lg, buf_t *out)
{
	static const char *const verdicts[3] = { "accept", "warn", "reject" };
	ledger_txn_t *txn;
	uint64_t cum = 0, events = 0;
	char path[4096];
	struct stat sb;

	family(out, "yimad_build_info", "gauge", "The running yimad's version; always 1.");
	buf_printf(out, "yimad_build_info{version=\"%s\"} 1\n", YIMA_VERSION);
	buf_puts(out, "# HELP yimad_requests_total HTTP requests by route.\n"
		      "# TYPE yimad_requests_total counter\n");
	for (int i = 0; i <= routes_count; i++)
		buf_printf(out, "yimad_requests_total{route=\"%s\"} %" PRIu64 "\n",
			   i < routes_count ? server_routes[i].metric : "other", m->requests[i]);
	buf_puts(out, "# HELP yimad_responses_total HTTP responses by status class.\n"
		      "# TYPE yimad_responses_total counter\n");
	for (int i = 2; i < 6; i++)
		buf_printf(out, "yimad_responses_total{code=\"%dxx\"} %" PRIu64 "\n", i, m->status[i]);
	buf_puts(out, "# HELP yimad_verdicts_total Verdicts of recorded events and claim codes.\n"
		      "# TYPE yimad_verdicts_total counter\n");
	for (int i = 0; i < 3; i++)
		buf_printf(out, "yimad_verdicts_total{verdict=\"%s\"} %" PRIu64 "\n", verdicts[i],
			   m->verdicts[i]);
	buf_puts(out, "# HELP yimad_findings_total Findings of recorded events and claim codes.\n"
		      "# TYPE yimad_findings_total counter\n");
	FINDING_EACH(i)
		buf_printf(out, "yimad_findings_total{finding=\"%s\"} %" PRIu64 "\n",
			   finding_name((enum finding)i), m->findings[i]);
	buf_puts(out, "# HELP yimad_request_seconds Request latency, arrival to answer.\n"
		      "# TYPE yimad_request_seconds histogram\n");
	for (int i = 0; i <= METRICS_BUCKETS; i++) {
		cum += m->latency_bucket[i];
		if (i < METRICS_BUCKETS)
			buf_printf(out, "yimad_request_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
				   bucket_le(i), cum);
		else
			buf_printf(out, "yimad_request_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	buf_printf(out, "yimad_request_seconds_sum %.6f\nyimad_request_seconds_count %" PRIu64 "\n",
		   m->latency_sum, m->latency_count);
	single(out, "yimad_commits_total", "counter",
	       "Group commits of the writer thread.", m->commits);
	single(out, "yimad_committed_requests_total", "counter",
	       "Write requests (batches, claims) carried by group commits.", m->committed_jobs);
	single(out, "yimad_commit_flushes_total", "counter",
	       "Group commits answered after flushing their own meta page (the others rode on the next commit).", m->commit_syncs);
	family(out, "yimad_commit_group_seconds", "gauge",
	       "Recent mean time of a group's apply and commit (the writer flushes a group's meta page at once when a flush takes less than half of it).");
	buf_printf(out, "yimad_commit_group_seconds %.6f\n", m->group_s);
	family(out, "yimad_commit_flush_seconds", "gauge", "Recent mean time of a meta page flush.");
	buf_printf(out, "yimad_commit_flush_seconds %.6f\n", m->flush_s);
	render_http(m, out);
	if (ledger_txn_begin(lg, false, &txn) == 0) {
		events = ledger_event_count(txn);
		ledger_txn_abort(txn);
	}
	single(out, "yimad_ledger_events", "gauge", "Event records in the ledger.", events);
	if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", ledger_dir(lg)) < sizeof path &&
	    stat(path, &sb) == 0)
		buf_printf(out, "# HELP yimad_ledger_bytes Size of the ledger file.\n"
			        "# TYPE yimad_ledger_bytes gauge\nyimad_ledger_bytes %lld\n",
			   (long long)sb.st_size);
}

void metrics_render_cluster(cluster_node_t *node, buf_t *out)
{
	cluster_stats_t st;

	cluster_node_stats(node, &st);
	single(out, "yimad_cluster_published_messages_total", "counter",
	       "Stream messages this node published.", st.published_msgs);
	single(out, "yimad_cluster_published_ops_total", "counter", "Operations in them.",
	       st.published_ops);
	single(out, "yimad_cluster_applied_messages_total", "counter",
	       "Stream messages this node's views applied.", st.applied_msgs);
	family(out, "yimad_cluster_claims_total", "counter", "Claims this node coordinated, by decision.");
	buf_printf(out, "yimad_cluster_claims_total{decision=\"commit\"} %" PRIu64 "\n"
		   "yimad_cluster_claims_total{decision=\"abort\"} %" PRIu64 "\n"
		   "yimad_cluster_claims_total{decision=\"busy\"} %" PRIu64 "\n",
		   st.claims_committed, st.claims_aborted, st.claims_busy);
	single(out, "yimad_cluster_recovered_total", "counter",
	       "Claims left undecided by another node that this node decided.", st.claims_recovered);
	single(out, "yimad_cluster_undecided", "gauge",
	       "Claims prepared in this node's views and not decided yet.", st.undecided);
	single(out, "yimad_cluster_deferred", "gauge",
	       "Operations waiting in this node's views for a decision.", st.deferred);
}
