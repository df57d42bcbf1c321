/*
 * wire.h - yimad's protobuf messages (proto/yima.proto) to and from the
 * verifier's own types: a pure mapping, private to server/.
 *
 * Requests decode straight into verify inputs, by the column rules of
 * spec section 3 applied to the message's fields (no text round trip), so
 * a scanner's upload and `yima ingest` of the same rows give the same
 * records.  Answers are packed into a buf_t.  Memory a conversion needs
 * (evidence rows of broken events, findings arrays) lives in a
 * wire_arena_t freed in one call.
 */
#ifndef YIMA_SERVER_WIRE_H
#define YIMA_SERVER_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "yima.pb-c.h"
#include "yima/verifier/outcome.h"
#include "yima/verifier/query.h"
#include "yima/verifier/view.h"

struct buf;

typedef struct wire_arena {
	struct wire_chunk *head;
} wire_arena_t;

void *wire_arena_alloc(wire_arena_t *a, size_t n);
void wire_arena_free(wire_arena_t *a);

/* Every event of b as a verify input (in[b->n_events], in the arena); a
 * broken event is a BAD_RECORD input with its evidence row, never an
 * error.  Slices point into b and the arena.  Returns 0 or YIMA_ENOMEM. */
int wire_decode_batch(const Yima__V1__EventBatch *b, wire_arena_t *a, verify_input_t **in);

/* Every code of every item of c as a dispense (the claim's own fields
 * checked once).  Returns 0 or YIMA_ENOMEM. */
int wire_decode_claim(const Yima__V1__Claim *c, wire_arena_t *a, verify_input_t **in);

/* The digest of what a batch holds, as sent (each event's nine fields or
 * its raw bytes, in order, length-prefixed): SHA-256, unkeyed, so it may
 * not be stored as it is (request_batch_content() keys it).  Returns 0 or
 * YIMA_ECRYPTO. */
int wire_batch_digest(const Yima__V1__EventBatch *b, uint8_t out[LEDGER_HASH_LEN]);

/* Number of codes in a claim (items x codes), saturating. */
size_t wire_claim_ncodes(const Yima__V1__Claim *c);

int wire_pack_batch_receipt(const char *batch_id, const outcome_t *o, struct buf *out);
int wire_pack_claim_verdict(const char *settlement, bool dry_run, const outcome_t *o,
			    struct buf *out);
/* Append m packed to out (an answer packed before it gets more fields:
 * protobuf merges concatenated messages).  Returns 0 or YIMA_ENOMEM. */
int wire_pack_append(const ProtobufCMessage *m, struct buf *out);
int wire_pack_error(unsigned status, const char *reason, const char *message, struct buf *out);

/* GET /v1/codes/{code}: the full view, and the public one. */
int wire_pack_history(const query_t *q, struct buf *out);
int wire_pack_public(const query_t *q, const view_public_t *v, struct buf *out);

#endif
