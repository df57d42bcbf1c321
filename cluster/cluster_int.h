/*
 * cluster_int.h - what the cluster layer's files share (private to
 * cluster/): the NATS connection and streams, the per-partition
 * publishers, the partition views and their appliers, the node.
 *
 * Threads of a node: one publisher per partition (publisher.c), one
 * applier per served partition (applier.c), the recovery thread
 * (recovery.c), and the callers of cluster_run_*() (yimad's workers),
 * which block on publisher and view conditions.  libnats's own threads
 * only deliver messages.
 */
#ifndef YIMA_CLUSTER_INT_H
#define YIMA_CLUSTER_INT_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cluster.pb-c.h"
#include "yima/cluster/cluster.h"
#include "yima/verifier/verify.h"

/* How long a write waits for the streams and views before it answers
 * 503 (a NATS leader election takes 4-9 s: docs/cluster-findings.md). */
#define CLUSTER_DEADLINE_S 20.0
/* An undecided claim older than this is decided by any node. */
#define CLUSTER_RECOVER_AFTER_S 2.0
/* Room a message keeps below the server's max_payload for its header. */
#define CLUSTER_ENVELOPE_SLACK 1024

double cluster_now(void);
/* Log one line on stderr (unless quiet): "yimad: cluster: ..." */
void cluster_log(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- keyset.c: a counted set of codes ------------------------------------- */

typedef struct keyset {
	struct keyset_slot *slot;
	size_t cap, used;
} keyset_t;

void keyset_init(keyset_t *s);
void keyset_clear(keyset_t *s);
int keyset_add(keyset_t *s, const char *k, size_t n);		/* 0 or -1 (memory) */
void keyset_remove(keyset_t *s, const char *k, size_t n);	/* one count */
bool keyset_has(const keyset_t *s, const char *k, size_t n);

/* ---- nats.c: connection and streams --------------------------------------- */

typedef struct cnats {
	natsConnection *nc;
	jsCtx *js;
	char name[CLUSTER_NAME_MAX + 1];
	int64_t max_payload;
	int urls;		/* how many were given */
} cnats_t;

int cnats_connect(cnats_t *c, const char *urls, const char *name, char *why, size_t whylen);
void cnats_close(cnats_t *c);
void cnats_stream(const cnats_t *c, unsigned k, char *buf, size_t n);
void cnats_subject(const cnats_t *c, unsigned k, char *buf, size_t n);
/* Create the P streams if missing (replicas each), or check that those
 * there are this cluster's: a P that differs is refused.  Waits (up to
 * about a minute) for JetStream to be ready. */
int cnats_streams(cnats_t *c, unsigned partitions, int replicas, char *why, size_t whylen);
/* P of an existing cluster, from its streams. */
int cnats_discover(cnats_t *c, unsigned *partitions, char *why, size_t whylen);
/* The last sequence stored in partition k's stream. */
int cnats_last_seq(cnats_t *c, unsigned k, uint64_t *last);

/* ---- envelope.c: inputs and operations on the wire ------------------------ */

/* One Input message from a sealed input (slices point into in). */
void envelope_input(const verify_input_t *in, uint32_t index, Yima__Cluster__V1__Input *m,
		    Yima__Cluster__V1__Time *t);
/* A verify input from an Input message (slices point into m); the code
 * normalized again. */
void envelope_input_decode(const Yima__Cluster__V1__Input *m, verify_input_t *in);
/* Pack an Op into malloc'd bytes.  Returns 0 or YIMA_ENOMEM. */
int envelope_pack_op(const Yima__Cluster__V1__Op *op, uint8_t **out, size_t *len);
/* The envelope header (node, partition) for ops appended after it as
 * field 3: the bytes of a whole Envelope message. */
int envelope_header(const char *node, unsigned k, struct buf *out);
void envelope_append_op(struct buf *out, const uint8_t *op, size_t len);

/* ---- publisher.c: one per partition ----------------------------------------- */

/* An operation waiting to be published.  Owned by its submitter until
 * publisher_wait() returns 0; after a timeout the publisher frees it. */
typedef struct pub_op {
	struct pub_op *next;
	uint8_t *bytes;
	size_t len;
	uint64_t seq;		/* its message's stream sequence, once acked */
	int err;
	bool done, abandoned;
} pub_op_t;

typedef struct publisher publisher_t;

#define PUBLISHER_THREADS_MAX 4
int publisher_start(cnats_t *c, unsigned k, const char *node_id, bool quiet, int nthreads,
		    publisher_t **out);
/* Queue op (bytes taken over: freed with the op). */
void publisher_submit(publisher_t *p, pub_op_t *op);
/* Wait for op's acknowledgement until deadline (cluster_now() seconds).
 * 0: op->seq set, the caller frees op (pub_op_free()); YIMA_EUNAVAIL: the
 * publisher keeps and frees op; or op->err. */
int publisher_wait(publisher_t *p, pub_op_t *op, double deadline);
void publisher_stop(publisher_t *p);
pub_op_t *pub_op_new(uint8_t *bytes, size_t len);
void pub_op_free(pub_op_t *op);
void publisher_counts(publisher_t *p, uint64_t *msgs, uint64_t *ops);

/* ---- view.c, view_claim.c: a partition ledger as a view of its stream ------ */

enum vote {
	VOTE_NONE = 0,
	VOTE_ACCEPT = 1,
	VOTE_REJECT = 2,
	VOTE_BUSY = 3,
	VOTE_REPLAY = 4,
	VOTE_CONFLICT = 5,
};

struct qop;

typedef struct view {
	struct cluster_node *node;
	unsigned k;
	ledger_t *lg;
	pthread_mutex_t mu;		/* guards applied, target, cv */
	pthread_cond_t cv;
	uint64_t applied;		/* last stream sequence committed */
	uint64_t target;		/* stream's last seq when the applier began */
	uint64_t msgs;			/* messages applied (stats) */
	bool failed;			/* a commit failed: state reloaded */
	/* the applier thread's own (mirrored in the aux table) */
	keyset_t held;			/* codes (and settle keys) of undecided claims */
	keyset_t queued;		/* codes of deferred operations */
	unsigned holding;		/* undecided claims holding codes */
	unsigned barriers;		/* admin operations deferred */
	struct qop *queue, *queue_tail;
	pthread_t thread;
	bool started;
	natsSubscription *sub;
} view_t;

int view_open(struct cluster_node *node, unsigned k, const char *dir, view_t **out, char *why,
	      size_t whylen);
void view_close(view_t *v);
/* Rebuild the in-memory state from the aux table (at open, after a failed
 * commit). */
int view_state_load(view_t *v, char *why, size_t whylen);
/* Apply one stream message (an Envelope) in txn. */
int view_apply_message(view_t *v, ledger_txn_t *txn, uint64_t seq, const void *data, size_t len);
/* Wait until the view applied seq, or deadline.  0 or YIMA_EUNAVAIL. */
int view_wait(view_t *v, uint64_t seq, double deadline);
/* Wait for the next commit after the one seen (or deadline). */
void view_wait_change(view_t *v, uint64_t seen, double deadline);
uint64_t view_applied(view_t *v);

/* Aux keys. */
#define AUX_APPLIED "A"
#define AUX_PENDING 'P'		/* + txn: vote, holding, Prepare bytes */
#define AUX_DECIDED 'D'		/* + txn: decision, first_seq, count */
#define AUX_QUEUE 'Q'		/* + seq, index: a deferred Op */
#define AUX_SETTLED 'S'		/* + facility NUL settlement: content, txn */
#define TXN_LEN 32

/* The decision the votes make: a replay or conflict at the home first,
 * then busy (nothing was evaluated there), then reject, else commit. */
Yima__Cluster__V1__Decision claim_decision(const enum vote *votes, size_t n);

int view_claim_prepare(view_t *v, ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p);
int view_claim_decide(view_t *v, ledger_txn_t *txn, const Yima__Cluster__V1__Decide *d);
/* Apply what waited and can go now (after a decision). */
int view_drain(view_t *v, ledger_txn_t *txn);
/* The keys a claim holds in partition k: its codes there, and at the
 * home its settle key.  Fills keys (caller frees with keys_free()). */
typedef struct keylist {
	size_t n;
	char **k;
	size_t *len;
} keylist_t;
void keys_free(keylist_t *l);
int keys_push(keylist_t *l, const char *k, size_t n);
void settle_key(const char *facility, const char *settlement, struct buf *out);

/* The inputs of a Prepare that fall in partition k, in claim order
 * (items[n], malloc'd; slices into p). */
int prepare_inputs(const Yima__Cluster__V1__Prepare *p, unsigned k, verify_input_t **items,
		   size_t *n);

/* ---- applier.c ---------------------------------------------------------------- */

int applier_start(view_t *v);
void applier_stop(view_t *v);

/* ---- the node ------------------------------------------------------------------ */

struct cluster_node {
	cluster_opts_t o;
	char *dir;
	char name[CLUSTER_NAME_MAX + 1];
	char id[80];			/* node id in message ids: host-pid-random */
	cnats_t nats;
	unsigned P;
	view_t **views;			/* P entries, NULL where not served */
	publisher_t **pubs;		/* P entries */
	atomic_bool stop;
	atomic_uint_fast64_t counter;	/* claim attempts made here */
	atomic_uint_fast64_t committed, aborted, busy, recovered;
	pthread_t recovery;
	bool recovery_started;
};

/* Publish one op to partition k and wait for its sequence (bytes taken
 * over).  0, YIMA_EUNAVAIL or an error. */
int node_publish(cluster_node_t *n, unsigned k, uint8_t *bytes, size_t len, double deadline,
		 uint64_t *seq);

/* recovery.c: decide claims whose coordinator went away. */
int recovery_start(cluster_node_t *n);
void recovery_stop(cluster_node_t *n);
/* Decide claim txn from its Prepare: publish the prepare to every
 * participant (copies are ignored), read the votes, publish the decision.
 * *decision gets it.  Used by coordinators and recovery alike. */
int claim_drive(cluster_node_t *n, const uint8_t *prepare, size_t len, double deadline,
		Yima__Cluster__V1__Decision *decision, uint64_t dseq[], char *why, size_t whylen);

#endif
