/*
 * server_metrics.c - GET /metrics: Prometheus text exposition of yimad's
 * counters (requests by route and status class, verdicts and findings of
 * recorded events, a request latency histogram, group commits, ledger
 * size).
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

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

static const char *const route_names[6] = { "events", "settle", "codes", "metrics", "healthz", "other" };

void metrics_render(const server_metrics_t *m, ledger_t *lg, buf_t *out)
{
	static const char *const verdicts[3] = { "accept", "warn", "reject" };
	ledger_txn_t *txn;
	uint64_t cum = 0, events = 0;
	char path[4096];
	struct stat sb;

	buf_puts(out, "# HELP yimad_requests_total HTTP requests by route.\n"
		      "# TYPE yimad_requests_total counter\n");
	for (int i = 0; i < 6; i++)
		buf_printf(out, "yimad_requests_total{route=\"%s\"} %" PRIu64 "\n", route_names[i],
			   m->requests[i]);
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
	buf_printf(out, "# HELP yimad_commits_total Group commits and the write requests they carried.\n"
		        "# TYPE yimad_commits_total counter\nyimad_commits_total %" PRIu64 "\n"
		        "# TYPE yimad_committed_requests_total counter\n"
		        "yimad_committed_requests_total %" PRIu64 "\n",
		   m->commits, m->committed_jobs);
	if (ledger_txn_begin(lg, false, &txn) == 0) {
		events = ledger_event_count(txn);
		ledger_txn_abort(txn);
	}
	buf_printf(out, "# HELP yimad_ledger_events Event records in the ledger.\n"
		        "# TYPE yimad_ledger_events gauge\nyimad_ledger_events %" PRIu64 "\n", events);
	if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", ledger_dir(lg)) < sizeof path &&
	    stat(path, &sb) == 0)
		buf_printf(out, "# HELP yimad_ledger_bytes Size of the ledger file.\n"
			        "# TYPE yimad_ledger_bytes gauge\nyimad_ledger_bytes %lld\n",
			   (long long)sb.st_size);
}
