/*
 * fuzz_code.c - libFuzzer harness for code_normalize() (spec section 1).
 *
 * Any byte string goes in; the harness aborts when an invariant breaks:
 * a normalized code has a well-formed canonical form (20 digits, or "01" +
 * GTIN-14 with a valid check digit + "21" + 1-20 characters of GS1 set 82)
 * that normalizes to itself, with product, batch and expiry consistent;
 * a rejected code has YIMA_EMALFORMED and a non-empty one-line reason that
 * stays inside its buffer.  tests/fuzz/corpus/code/ is the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/core/code.h"
#include "yima/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static int isdig(char c)
{
	return c >= '0' && c <= '9';
}

static int isset82(char c)
{
	return strchr("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "_abcdefghijklmnopqrstuvwxyz", c) != NULL && c != '\0';
}

static void check_gtin(const char *g)
{
	unsigned sum = 0;

	for (int i = 0; i < 14; i++)
		CHECK(isdig(g[i]));
	for (int i = 0; i < 13; i++)
		sum += (unsigned)(g[i] - '0') * (i % 2 == 0 ? 3 : 1);
	CHECK(g[13] - '0' == (int)((10 - sum % 10) % 10));
}

static void check_code(const code_t *c)
{
	CHECK(c->canon_len <= CODE_CANON_MAX);
	CHECK(strlen(c->canon) == c->canon_len);
	CHECK(strlen(c->product) == c->product_len);
	CHECK(strlen(c->batch) == c->batch_len);
	CHECK(c->batch_len <= CODE_BATCH_MAX);
	for (size_t i = 0; i < c->batch_len; i++)
		CHECK(isset82(c->batch[i]));
	if (c->kind == CODE_DIGITS20) {
		CHECK(c->canon_len == 20);
		for (size_t i = 0; i < 20; i++)
			CHECK(isdig(c->canon[i]));
		CHECK(c->product_len == 7);
		CHECK(memcmp(c->product, c->canon, 7) == 0);
		CHECK(!c->has_expiry && c->batch_len == 0);
		return;
	}
	CHECK(c->kind == CODE_GS1);
	CHECK(c->canon_len >= 19);
	CHECK(memcmp(c->canon, "01", 2) == 0);
	check_gtin(c->canon + 2);
	CHECK(memcmp(c->canon + 16, "21", 2) == 0);
	for (size_t i = 18; i < c->canon_len; i++)
		CHECK(isset82(c->canon[i]));
	CHECK(c->product_len == 14);
	CHECK(memcmp(c->product, c->canon + 2, 14) == 0);
	if (c->has_expiry) {
		CHECK(c->exp_year >= 2000 && c->exp_year <= 2099);
		CHECK(c->exp_month >= 1 && c->exp_month <= 12);
		CHECK(c->exp_day >= 1 && c->exp_day <= 31);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[96 + 8];
	code_t a, b;
	int rc;

	memset(why, 0x55, sizeof why);
	rc = code_normalize((const char *)data, size, &a, why, 96);
	for (size_t i = 96; i < sizeof why; i++)
		CHECK((unsigned char)why[i] == 0x55);
	if (rc != 0) {
		CHECK(rc == YIMA_EMALFORMED);
		CHECK(memchr(why, '\0', 96) != NULL);
		CHECK(why[0] != '\0');
		CHECK(strchr(why, '\n') == NULL);
		return 0;
	}
	check_code(&a);
	rc = code_normalize(a.canon, a.canon_len, &b, why, 96);
	CHECK(rc == 0);
	CHECK(strcmp(a.canon, b.canon) == 0);
	/* Spec section 1: a GS1 code whose canonical form is 20 digits (a
	 * two-digit serial) reads back as a 20-digit code. */
	CHECK(a.kind == b.kind || (a.kind == CODE_GS1 && a.canon_len == 20));
	return 0;
}
