/*
 * fuzz_wire.c - libFuzzer harness for yimad's request decoding: any body
 * is unpacked as an EventBatch and as a Claim (protobuf-c), and what
 * decodes goes through wire_batch_inputs() / wire_claim_inputs(), the
 * mapping of request fields onto section 3 rows.
 *
 * Invariants: every event or claimed code becomes exactly one input; an
 * input is either parsed (status 0, a normalized code), MALFORMED or
 * BAD_RECORD with a non-empty reason; a BAD_RECORD keeps at most 4 KiB of
 * raw row.  tests/fuzz/corpus/wire/ is the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void check_inputs(const verify_input_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const verify_input_t *in = &w[i];
		CHECK(in->status == 0 || in->status == YIMA_EMALFORMED ||
		      in->status == YIMA_EBADRECORD);
		if (in->status != 0)
			CHECK(memchr(in->reason, '\0', sizeof in->reason) != NULL && in->reason[0] != '\0');
		if (in->status == 0)
			CHECK(in->code.canon_len > 0 && verify_input_code(in).n == in->code.canon_len);
		if (in->status == YIMA_EBADRECORD)
			CHECK(in->raw.n <= CSV_RAW_KEEP);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Yima__V1__EventBatch *b = yima__v1__event_batch__unpack(NULL, size, data);
	Yima__V1__Claim *c = yima__v1__claim__unpack(NULL, size, data);
	wire_arena_t a = { NULL };
	verify_input_t *w;

	if (b != NULL && b->n_events <= BATCH_EVENTS_MAX) {
		CHECK(wire_decode_batch(b, &a, &w) == 0);
		check_inputs(w, b->n_events);
	}
	if (c != NULL && wire_claim_ncodes(c) <= CLAIM_CODES_MAX) {
		CHECK(wire_decode_claim(c, &a, &w) == 0);
		check_inputs(w, wire_claim_ncodes(c));
	}
	wire_arena_free(&a);
	if (b != NULL)
		yima__v1__event_batch__free_unpacked(b, NULL);
	if (c != NULL)
		yima__v1__claim__free_unpacked(c, NULL);
	return 0;
}
