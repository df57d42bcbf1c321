/*
 * fuzz_proof.c - libFuzzer harness for log_proof_parse() (and through it
 * the JSON reader, util/json_read.c): any bytes are read as the proof JSON
 * `yima log verify --proof` takes.
 *
 * Invariants: a refusal is YIMA_EFORMAT (or YIMA_ENOMEM) with a non-empty
 * one-line reason inside its buffer; what parses prints (log_proof_json)
 * to JSON that parses back to the same proof.
 * tests/fuzz/corpus/proof/ is the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/tlog/proof.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[160 + 8];
	log_proof_t p, q;
	buf_t b;
	int rc;

	memset(why, 0x55, sizeof why);
	rc = log_proof_parse((const char *)data, size, &p, why, 160);
	if (rc != 0) {
		CHECK(rc == YIMA_EFORMAT || rc == YIMA_ENOMEM);
		for (size_t i = 160; i < sizeof why; i++)
			CHECK((unsigned char)why[i] == 0x55);
		CHECK(memchr(why, '\0', 160) != NULL && why[0] != '\0');
		CHECK(strchr(why, '\n') == NULL);
		return 0;
	}
	buf_init(&b);
	log_proof_json(&b, &p);
	CHECK(!b.oom);
	CHECK(log_proof_parse((const char *)b.p, b.len, &q, NULL, 0) == 0);
	CHECK(q.consistency == p.consistency && q.size == p.size && q.from == p.from && q.n == p.n);
	CHECK(memcmp(q.root, p.root, sizeof p.root) == 0 && memcmp(q.hash, p.hash, p.n * sizeof p.hash[0]) == 0);
	buf_deinit(&b);
	return 0;
}
