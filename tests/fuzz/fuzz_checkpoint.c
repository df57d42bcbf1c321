/*
 * fuzz_checkpoint.c - libFuzzer harness for checkpoint_parse(): any bytes
 * are parsed as a C2SP checkpoint body.
 *
 * Invariants: what parses formats back to exactly the same bytes (one
 * spelling per checkpoint); a refusal is YIMA_EFORMAT or YIMA_ETOOBIG with
 * a non-empty one-line reason inside its buffer.
 * tests/fuzz/corpus/checkpoint/ is the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/tlog/checkpoint.h"
#include "yima/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[160 + 8];
	checkpoint_t cp;
	int rc;

	memset(why, 0x55, sizeof why);
	rc = checkpoint_parse((const char *)data, size, &cp, why, 160);
	if (rc != 0) {
		CHECK(rc == YIMA_EFORMAT || rc == YIMA_ETOOBIG);
		for (size_t i = 160; i < sizeof why; i++)
			CHECK((unsigned char)why[i] == 0x55);
		CHECK(memchr(why, '\0', 160) != NULL && why[0] != '\0');
		CHECK(strchr(why, '\n') == NULL);
		return 0;
	}
	size_t cap = CHECKPOINT_BODY_MAX + cp.extlen + 1, len = 0;
	char *out = malloc(cap);
	CHECK(out != NULL);
	CHECK(checkpoint_format(&cp, out, cap, &len, NULL, 0) == 0);
	CHECK(len == size && memcmp(out, data, size) == 0);
	free(out);
	return 0;
}
