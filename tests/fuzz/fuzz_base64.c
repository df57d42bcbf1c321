/*
 * fuzz_base64.c - libFuzzer harness for the strict base64 decoder: any
 * bytes are checked and decoded.
 *
 * Invariants: base64_check and base64_decode agree; what decodes encodes
 * back to exactly the same text (one spelling per byte string); a
 * refusal is YIMA_EFORMAT.  tests/fuzz/corpus/base64/ is the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "yima/util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t declen = 0, got = 0, elen = 0;
	int rc = base64_check(s, size, &declen);
	if (rc != 0) {
		CHECK(rc == YIMA_EFORMAT);
		uint8_t tmp[8];
		CHECK(base64_decode(s, size, tmp, sizeof tmp, &got) == YIMA_EFORMAT);
		return 0;
	}
	uint8_t *raw = malloc(declen + 1);
	char *back = malloc(size + 1);
	CHECK(raw != NULL && back != NULL);
	CHECK(base64_decode(s, size, raw, declen, &got) == 0 && got == declen);
	CHECK(base64_encode(raw, got, back, size + 1, &elen) == 0);
	CHECK(elen == size && memcmp(back, s, size) == 0);
	free(raw);
	free(back);
	return 0;
}
