/*
 * cluster.h - yima as a cluster on NATS JetStream (docs/cluster.md): the
 * code space split into P partitions, one JetStream stream each (the
 * source of truth), every node's partition ledgers deterministic views of
 * them, writes published to the streams and answered from the views.
 *
 * A node (cluster_node_start()) serves yimad's writes through
 * cluster_run_batch() / cluster_run_claim(), which block the calling
 * thread until the answer is known (yimad calls them from worker threads),
 * and its reads from cluster_view_ledger().  The other entry points are
 * for `yima`: admin changes published to every partition, rebuilding a
 * node directory from the streams, auditing one.
 */
#ifndef YIMA_CLUSTER_H
#define YIMA_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "yima/ledger/ledger.h"
#include "yima/verifier/outcome.h"

#define CLUSTER_PARTITIONS_MAX 1024
#define CLUSTER_NAME_MAX 32

typedef struct cluster_opts {
	const char *db;		/* the node directory */
	const char *nats;	/* URL[,URL...] */
	const char *name;	/* cluster name ([A-Za-z0-9_-]{1,32}); NULL = "yima" */
	unsigned partitions;	/* P */
	const char *serve;	/* "0,2,5-7": partitions this node holds; NULL = all */
	int replicas;		/* of each stream; 0 = 3 with three or more URLs, else 1 */
	const char *patient_key;	/* rebuild: copy this file to DIR/patient.key */
	bool quiet;		/* no log lines on stderr */
	bool passive;		/* apply only: never decide others' claims (rebuild) */
} cluster_opts_t;

void cluster_opts_init(cluster_opts_t *o);

typedef struct cluster_node cluster_node_t;

/*
 * Start a node: open or make the node directory (DIR/cluster names the
 * cluster and P, DIR/patient.key must be the cluster's key), connect,
 * create the streams if missing (refusing a cluster whose P differs),
 * open a ledger per served partition and start its applier, which first
 * catches up with the stream.  Returns 0 with *out set, or an error with
 * why filled.  Free with cluster_node_stop().
 */
int cluster_node_start(const cluster_opts_t *o, cluster_node_t **out, char *why, size_t whylen);
void cluster_node_stop(cluster_node_t *n);

/* True when every served view has applied what its stream held when the
 * node started (or later): the node answers from current views. */
bool cluster_node_caught_up(cluster_node_t *n);

unsigned cluster_partitions(const cluster_node_t *n);
/* The ledger of partition k, or NULL when this node does not serve it. */
ledger_t *cluster_view_ledger(cluster_node_t *n, unsigned k);
/* Some served partition's ledger (for keying patient ids), never NULL. */
ledger_t *cluster_any_ledger(cluster_node_t *n);

/* The partition of a canonical code, of a batch's rows without one, and
 * a claim's home partition (docs/cluster.md, "Partitions"). */
unsigned cluster_partition_of_code(const char *canon, size_t n, unsigned partitions);
unsigned cluster_partition_of_batch(const char *owner, const char *batch_id, unsigned partitions);
unsigned cluster_partition_of_claim(const char *facility, const char *settlement,
				    unsigned partitions);

/*
 * An event batch through the streams: split by partition, published, and
 * answered from the views once applied (out->codes in batch order, seqs
 * per partition).  items are sealed here (verify_inputs_seal()).  content
 * is the batch's keyed digest.  Returns 0 with out->status RECORDED,
 * REPLAYED or CONFLICT; YIMA_EUNAVAIL when the streams or views did not
 * answer within the node's deadline (a retry is safe); YIMA_ENOTFOUND
 * when a partition it needs is not served here (why says which); or
 * another error.
 */
int cluster_run_batch(cluster_node_t *n, const char *owner, const char *batch_id,
		      const uint8_t content[LEDGER_HASH_LEN], verify_input_t *items, size_t count,
		      outcome_t *out, char *why, size_t whylen);

/*
 * A settlement claim through the streams (prepare, votes, decision):
 * all-or-nothing across partitions.  Returns 0 with out filled (status
 * RECORDED, REPLAYED or CONFLICT); YIMA_EBUSY when a code is held by
 * another undecided claim (nothing recorded: retry); YIMA_EUNAVAIL,
 * YIMA_ENOTFOUND as above.  A dry run evaluates in the views without
 * publishing.
 */
int cluster_run_claim(cluster_node_t *n, const char *facility, const char *settlement,
		      verify_input_t *items, size_t count, bool dry_run, outcome_t *out,
		      char *why, size_t whylen);

/* Counters for /metrics. */
typedef struct cluster_stats {
	uint64_t published_msgs, published_ops;
	uint64_t applied_msgs;
	uint64_t claims_committed, claims_aborted, claims_busy, claims_recovered;
	uint64_t undecided;	/* claims prepared and not decided, all views */
	uint64_t deferred;	/* operations waiting for a decision, all views */
} cluster_stats_t;
void cluster_node_stats(cluster_node_t *n, cluster_stats_t *st);

/* ---- `yima` --------------------------------------------------------------- */

/* An admin change, published to every partition of the cluster (whose P
 * is read from its streams). */
typedef struct cluster_admin cluster_admin_t;
int cluster_admin_open(const char *nats, const char *name, cluster_admin_t **out, char *why,
		       size_t whylen);
/* Publish every catalog row of a ledger's chain (a scratch ledger the
 * catalog file was loaded into): *rows gets their number. */
int cluster_admin_catalog(cluster_admin_t *a, ledger_t *scratch, uint64_t *rows, char *why,
			  size_t whylen);
int cluster_admin_recall(cluster_admin_t *a, bool add, enum recall_kind k, const char *key,
			 char *why, size_t whylen);
int cluster_admin_refund_window(cluster_admin_t *a, uint32_t days, char *why, size_t whylen);
unsigned cluster_admin_partitions(const cluster_admin_t *a);
void cluster_admin_close(cluster_admin_t *a);

/* Replay the streams into a node directory until every served view has
 * applied what its stream held when it started, then stop. */
int cluster_rebuild(const cluster_opts_t *o, char *why, size_t whylen);

/* Is dir a node directory (holding DIR/cluster)? */
bool cluster_is_node_dir(const char *dir);
/* The partition ledger of a node directory that holds the code scanned as
 * raw: 0 with out set, or YIMA_ENOTFOUND (not a node directory, or a code
 * that does not normalize: the caller reads it as a plain ledger). */
int cluster_node_dir_ledger(const char *dir, const char *raw, char *out, size_t outlen);

/* Audit every partition ledger of a node directory: line() gets
 * "p<k> ok records=N head=HEX" (or the failure) per partition; *records
 * and head the totals (head = SHA-256 over the partition heads in order).
 * scratch: an empty directory for the replays.  Returns 0 when every
 * partition passed, else the first failure's error. */
typedef void cluster_line_fn(void *arg, const char *line);
int cluster_audit_dir(const char *dir, const char *scratch, cluster_line_fn *line, void *arg,
		      unsigned *partitions, uint64_t *records, uint8_t head[LEDGER_HASH_LEN],
		      char *why, size_t whylen);

#endif
