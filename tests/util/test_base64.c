/*
 * test_base64.c - strict standard base64 (yima/util/base64.h): the RFC 4648
 * section 10 vectors both ways, round trips of every length up to 100, and
 * every non-canonical spelling refused.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "yima/util/error.h"
#include "yima/util/base64.h"

static const char *const rfc4648[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

Test(base64, rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof rfc4648 / sizeof *rfc4648; i++) {
		const char *raw = rfc4648[i][0], *enc = rfc4648[i][1];
		char out[16];
		uint8_t dec[16];
		size_t n = 99, d = 99;
		cr_assert_eq(base64_encoded_len(strlen(raw)), strlen(enc));
		cr_assert_eq(base64_encode(raw, strlen(raw), out, sizeof out, &n), 0);
		cr_assert_str_eq(out, enc);
		cr_assert_eq(n, strlen(enc));
		cr_assert_eq(base64_check(enc, strlen(enc), &d), 0);
		cr_assert_eq(d, strlen(raw));
		cr_assert_eq(base64_decode(enc, strlen(enc), dec, strlen(raw), &d), 0,
			"exactly the decoded length is enough: %s", enc);
		cr_assert_eq(d, strlen(raw));
		cr_assert_arr_eq(dec, raw, d);
	}
}

Test(base64, every_length_round_trips)
{
	uint8_t raw[100], dec[100];
	char enc[140];
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof raw; n++) {
		size_t el, dl;
		cr_assert_eq(base64_encode(raw, n, enc, sizeof enc, &el), 0);
		cr_assert_eq(base64_decode(enc, el, dec, n, &dl), 0, "length %zu", n);
		cr_assert_eq(dl, n);
		cr_assert_arr_eq(dec, raw, n);
		if (n > 0)
			cr_assert_eq(base64_decode(enc, el, dec, n - 1, &dl), YIMA_ETOOBIG);
	}
}

Test(base64, small_buffers)
{
	char out[4];
	cr_assert_eq(base64_encode("f", 1, out, sizeof out, NULL), YIMA_ETOOBIG,
		"4 characters and the NUL need 5");
	cr_assert_eq(base64_encode("", 0, out, 1, NULL), 0);
	cr_assert_str_eq(out, "");
}

/* Criterion re-executes the test binary: the table is handed to the
 * parameterized test as indexes, never as pointers into it. */
static const struct bad_b64 {
	const char *s;
	size_t len;
	const char *why;
} refused[] = {
	{ "Zg=", 3, "length not a multiple of 4" },
	{ "Zg", 2, "padding missing" },
	{ "Zh==", 4, "pad bits not zero (one byte)" },
	{ "Zm9=", 4, "pad bits not zero (two bytes)" },
	{ "Zg==\n", 5, "newline" },
	{ " Zg=", 4, "leading space" },
	{ "Zg= ", 4, "trailing space" },
	{ "Z g=", 4, "inner space" },
	{ "Zg=a", 4, "data after padding" },
	{ "=Zg=", 4, "padding first" },
	{ "Zg==Zg==", 8, "padding in the middle" },
	{ "Z===", 4, "three pads" },
	{ "====", 4, "only padding" },
	{ "ab-_", 4, "URL-safe alphabet" },
	{ "ab*d", 4, "not in the alphabet" },
	{ "Zm9v\0Yg==", 9, "NUL inside" },
};

ParameterizedTestParameters(base64, refused)
{
	static size_t idx[sizeof refused / sizeof *refused];
	for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof *idx);
}

ParameterizedTest(size_t *i, base64, refused)
{
	const struct bad_b64 *c = &refused[*i];
	uint8_t out[16];
	size_t n;
	cr_assert_eq(base64_check(c->s, c->len, &n), YIMA_EFORMAT, "%s", c->why);
	cr_assert_eq(base64_decode(c->s, c->len, out, sizeof out, &n), YIMA_EFORMAT, "%s",
		c->why);
}
