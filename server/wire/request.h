/*
 * request.h - a write request of yimad (POST /v1/events, POST /v1/settle)
 * decoded on the network thread and run by the writer thread (or, for a
 * dry run, on the network thread in a read transaction): one decode, one
 * evaluation per code.  Private to server/.
 */
#ifndef YIMA_SERVER_REQUEST_H
#define YIMA_SERVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "relay.h"
#include "wire.h"

enum request_kind {
	REQUEST_BATCH,
	REQUEST_CLAIM,
};

typedef struct request {
	enum request_kind kind;
	char facility[RELAY_CN_MAX + 1];	/* a claim's facility; a batch's
					 * owner: its facility, or the relay
					 * that sent it (the batch id's scope) */
	bool dry_run;
	Yima__V1__EventBatch *batch;	/* owned: the inputs point into it */
	Yima__V1__Claim *claim;
	wire_arena_t arena;
	size_t n;
	verify_input_t *in;		/* n inputs, in the arena */
} request_t;

/* Take ownership of an unpacked message and decode it into r (zeroed
 * first).  facility is the batch's (checked by the caller); a claim names
 * its own.  Returns 0 or YIMA_ENOMEM (r is then freed). */
int request_from_batch(request_t *r, Yima__V1__EventBatch *b, const char *facility);
int request_from_claim(request_t *r, Yima__V1__Claim *c);
void request_free(request_t *r);

/* The content of a batch as the batches table keeps it: its digest keyed
 * with the ledger's key (it may hold patient ids in clear), so a retry
 * can be told from other content under the same id.  Returns 0 or an
 * error. */
int request_batch_content(ledger_txn_t *txn, const Yima__V1__EventBatch *b,
			  uint8_t out[LEDGER_HASH_LEN]);

/* What running a request did, for the service's metrics. */
typedef struct request_result {
	enum outcome_status status;
	uint64_t verdicts[3];		/* of records made now (not retries, */
	uint64_t findings[F_COUNT];	/* not dry runs), by verdict / finding */
	uint64_t first_seq, count;	/* the event records it answers for */
} request_result_t;

/* Run r through a cluster node (yimad --nats): published to the partition
 * streams and answered from the views (cluster.h).  Returns 0 with out
 * packed (nothing for a conflict, as request_run()), or the cluster's
 * error: YIMA_EBUSY, YIMA_EUNAVAIL, YIMA_ENOTFOUND (why says which). */
struct cluster_node;
int request_run_cluster(struct cluster_node *node, request_t *r, struct buf *out,
			request_result_t *res, char *why, size_t whylen);

/* Run r in txn (a write transaction, or any for a dry run) and pack its
 * answer into out.  A conflict (res->status OUTCOME_CONFLICT) packs
 * nothing.  Returns 0 or an error (out is then incomplete). */
int request_run(ledger_txn_t *txn, request_t *r, struct buf *out, request_result_t *res);

/*
 * After every request of a group ran, in the same write transaction: the
 * signed checkpoint that will cover their records (signed once for the
 * group, stored at commit) and the tree's size, taken once for the group
 * by request_seal_begin() (request_seal_end() frees them); then for each
 * request, request_seal() appends to r's packed answer out the checkpoint
 * and, for a claim, each record's inclusion proof in it, as further fields
 * of the same message (protobuf merges concatenated messages).  Nothing
 * for a dry run or a conflict.  Return 0 or an error.
 */
typedef struct request_seal {
	char *checkpoint;	/* the signed note, NUL-terminated */
	uint64_t size;		/* the tree size it covers */
} request_seal_t;

int request_seal_begin(ledger_txn_t *txn, request_seal_t *seal);
void request_seal_end(request_seal_t *seal);
int request_seal(ledger_txn_t *txn, const request_seal_t *seal, const request_t *r,
		 const request_result_t *res, struct buf *out);

#endif
