/*
 * coord.h - what the coordinator's files share (private to cluster/): a
 * write split by partition, and reading its answer back from the views.
 */
#ifndef YIMA_CLUSTER_COORD_H
#define YIMA_CLUSTER_COORD_H

#include "cluster_int.h"
#include "yima/util/buf.h"

typedef struct coord_split {
	size_t n;
	unsigned home;
	unsigned *part;			/* n: each item's partition */
	size_t *count;			/* P: items per partition */
	Yima__Cluster__V1__Input *msg;	/* n: each item on the wire */
	Yima__Cluster__V1__Time *time;	/* n */
	buf_t *raw;			/* n: masked evidence rows */
	uint8_t content[LEDGER_HASH_LEN];	/* a claim's content hash */
} coord_split_t;

/* Seal items (patient keyed, broken rows masked: verify_inputs_seal()),
 * give each its partition (its code's, else home) and its wire form; a
 * claim (claim true) gets its content hash.  YIMA_ENOTFOUND when this node
 * does not serve a partition the write needs (why says which). */
int coord_split(cluster_node_t *n, verify_input_t *items, size_t count, unsigned home, bool claim,
		coord_split_t *sp, char *why, size_t whylen);
void coord_split_free(coord_split_t *sp);

/* A record's verdict, findings, seq and hash into r. */
int coord_read_record(ledger_txn_t *txn, uint64_t seq, verify_result_t *r);

/* The answer's printed codes (from the items), worst verdict and range. */
void coord_finish(outcome_t *out, const verify_input_t *items);

#endif
