/*
 * test_json_read.c - the strict JSON reader (yima/util/json_read.h, RFC
 * 8259): values and escapes as the RFC gives them, numbers kept as whole
 * numbers only when they are, and every malformed input refused with the
 * byte offset.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "yima/util/error.h"
#include "yima/util/json_read.h"

static json_value_t *ok(const char *s)
{
	json_value_t *v;
	char why[160];
	cr_assert_eq(json_read(s, strlen(s), &v, why, sizeof why), 0, "%s: %s", s, why);
	return v;
}

Test(json_read, values_and_escapes)
{
	json_value_t *v = ok(" {\"a\": [1, 0, 18446744073709551615, 18446744073709551616, -1, 2.5, 1e3],"
			     " \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", \"t\": true,"
			     " \"f\": false, \"n\": null, \"o\": {}} ");
	const json_value_t *a = json_member(v, "a"), *s = json_member(v, "s");
	cr_assert(a != NULL && a->kind == JSON_ARR && a->n == 7);
	cr_expect(a->items[0].is_u64 && a->items[0].u64 == 1);
	cr_expect(a->items[1].is_u64 && a->items[1].u64 == 0);
	cr_expect(a->items[2].is_u64 && a->items[2].u64 == UINT64_MAX);
	for (int i = 3; i < 7; i++)
		cr_expect(a->items[i].kind == JSON_NUM && !a->items[i].is_u64, "item %d", i);
	cr_assert(s != NULL && s->kind == JSON_STR);
	cr_expect_eq(s->slen, strlen("x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80"));
	cr_expect_eq(memcmp(s->s, "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80", s->slen), 0);
	cr_expect(json_member(v, "t")->b && !json_member(v, "f")->b);
	cr_expect_eq(json_member(v, "n")->kind, JSON_NULL);
	cr_expect_eq(json_member(v, "o")->n, 0);
	cr_expect_null(json_member(v, "missing"));
	json_value_free(v);
}

Test(json_read, malformed_inputs_are_refused)
{
	static const char *const bad[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "-", "1.", "1e",
		"\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\x01\"", "tru",
		"nul", "[1] x", "{\"a\":1}{}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_value_t *v = NULL;
		char why[160] = "";
		cr_expect_eq(json_read(bad[i], strlen(bad[i]), &v, why, sizeof why), YIMA_EFORMAT, "%s", bad[i]);
		cr_expect_null(v);
		cr_expect(strstr(why, "at byte") != NULL, "%s: %s", bad[i], why);
	}
}
