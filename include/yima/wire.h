/*
 * wire.h - yimad's protobuf messages (proto/yima.proto) to and from the
 * library's own types.
 *
 * Requests become verify inputs exactly as CSV rows do (spec section 3):
 * an Event's nine text fields are a row, so a scanner's upload and
 * `yima ingest` of the same rows give the same records.  Answers are
 * packed into a buf_t.  Memory a conversion needs (rendered raw rows,
 * findings arrays) lives in a wire_arena_t freed in one call.
 */
#ifndef YIMA_WIRE_H
#define YIMA_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "yima.pb-c.h"
#include "yima/claim.h"
#include "yima/query.h"

struct buf;

typedef struct wire_arena {
	struct wire_chunk *head;
} wire_arena_t;

void wire_arena_free(wire_arena_t *a);

/* Events or claim codes as verify inputs (n of them, in the arena). */
typedef struct wire_inputs {
	size_t n;
	verify_input_t *in;
} wire_inputs_t;

/* Every event of b; a malformed event is a BAD_RECORD input, never an
 * error.  Returns 0 or YIMA_ENOMEM. */
int wire_batch_inputs(const Yima__V1__EventBatch *b, wire_arena_t *a, wire_inputs_t *out);

/* Every code of every item of c, as dispense events.  Returns 0 or
 * YIMA_ENOMEM. */
int wire_claim_inputs(const Yima__V1__Claim *c, wire_arena_t *a, wire_inputs_t *out);

/* The content digest of a batch (claim_batch()): SHA-256 over what the
 * client sent (each event's nine fields, or its raw bytes, in order,
 * length-prefixed), keyed with the ledger's key (ledger_content_mac()) as
 * it may hold patient ids in clear.  Returns 0 or an error. */
int wire_batch_content(ledger_txn_t *txn, const Yima__V1__EventBatch *b,
		       uint8_t out[LEDGER_HASH_LEN]);

/* Number of codes in a claim (items x codes), saturating. */
size_t wire_claim_ncodes(const Yima__V1__Claim *c);

/* What running a request did, for the service's metrics. */
typedef struct wire_answer {
	enum claim_status status;
	uint64_t verdicts[3];		/* of records made now (not retries, */
	uint64_t findings[F_COUNT];	/* not dry runs), by verdict / finding */
} wire_answer_t;

/* Run a decoded claim (dry or not) or event batch of facility in txn and
 * pack the answer into out: the one path of the writer thread and of dry
 * runs.  A conflicting claim or batch (ans->status CLAIM_CONFLICT) packs
 * nothing.
 * Returns 0 or an error (out is then incomplete). */
int wire_settle(ledger_txn_t *txn, const Yima__V1__Claim *cl, bool dry_run, struct buf *out,
		wire_answer_t *ans);
int wire_batch(ledger_txn_t *txn, const char *facility, const Yima__V1__EventBatch *b,
	       struct buf *out, wire_answer_t *ans);

int wire_pack_batch_receipt(const char *batch_id, const claim_outcome_t *o, struct buf *out);
int wire_pack_claim_verdict(const char *settlement, bool dry_run, const claim_outcome_t *o,
			    struct buf *out);
int wire_pack_error(unsigned status, const char *reason, const char *message, struct buf *out);

/* GET /v1/codes/{code}: the full view, and the public one (which reads
 * the recall list through txn). */
int wire_pack_history(const query_t *q, struct buf *out);
int wire_pack_public(ledger_txn_t *txn, const query_t *q, struct buf *out);

/* True if the facility has a record of the code (may see its history). */
bool wire_history_has_facility(const query_t *q, const char *facility);

#endif
