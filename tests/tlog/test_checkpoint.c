/*
 * test_checkpoint.c - C2SP tlog-checkpoint (yima/tlog/checkpoint.h):
 * published bodies parsed and formatted back byte for byte (the C2SP
 * example, Go's tlog FormatTree golden), real checkpoints of Go's checksum
 * database verified with its published key, strict parsing table-driven,
 * and signing and opening with the origin bound to the key.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "yima/tlog/checkpoint.h"
#include "yima/tlog/merkle.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"

static void roundtrip(const char *text)
{
	checkpoint_t cp;
	char out[CHECKPOINT_BODY_MAX + 64], why[200] = "";
	size_t len;
	cr_assert_eq(checkpoint_parse(text, strlen(text), &cp, why, sizeof why), 0,
		"%s: %s", text, why);
	cr_assert_eq(checkpoint_format(&cp, out, sizeof out, &len, why, sizeof why), 0, "%s", why);
	cr_assert_str_eq(out, text);
	cr_assert_eq(len, strlen(text));
}

Test(checkpoint, c2sp_example_body)
{
	const char *text = "example.com/behind-the-sofa\n20852163\n"
		"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	checkpoint_t cp;
	char why[200];
	cr_assert_eq(checkpoint_parse(text, strlen(text), &cp, why, sizeof why), 0);
	cr_assert_str_eq(cp.origin, "example.com/behind-the-sofa");
	cr_assert_eq(cp.size, 20852163);
	cr_assert_eq(cp.root[0], 0x0a);	/* 'C' 's' -> 000010 101100 */
	cr_assert_eq(cp.extlen, 0);
	cr_assert_null(cp.ext);
	roundtrip(text);
}

Test(checkpoint, go_format_tree_golden)
{
	/* golang.org/x/mod/sumdb/tlog TestFormatTree: n = 123456789012, the
	 * root is RecordHash("hello world"), i.e. our leaf hash */
	const char *golden = "go.sum database tree\n123456789012\n"
		"TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";
	checkpoint_t cp = { .size = UINT64_C(123456789012) };
	char out[CHECKPOINT_BODY_MAX + 1], why[200] = "";
	strcpy(cp.origin, "go.sum database tree");
	cr_assert_eq(merkle_leaf_hash("hello world", 11, cp.root), 0);
	cr_assert_eq(checkpoint_format(&cp, out, sizeof out, NULL, why, sizeof why), 0, "%s", why);
	cr_assert_str_eq(out, golden);
	roundtrip(golden);
}

/* sum.golang.org's verifier key, as golang.org/x/mod's gosumcheck pins it,
 * and signed trees it served (copied from public posts and tests). */
#define SUMDB_VKEY "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

Test(checkpoint, real_go_checksum_database_checkpoints)
{
	static const struct { const char *note; uint64_t size; } cases[] = {
		{ "go.sum database tree\n15368405\n/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=\n\n"
		  "\xe2\x80\x94 sum.golang.org Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3"
		  "LzmWk/p96Ybf295EjwdSwlzgijq5WA9d1Ded7owM=\n", 15368405 },
		{ "go.sum database tree\n63512409\nF7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=\n\n"
		  "\xe2\x80\x94 sum.golang.org Az3gri1OBHKT87Xj8UXU8zjoHGy/X+7Nl94f8TZkELVaasolmGA"
		  "pUsWqwVG9vE6hgqYb/ph/w2vdkLIVRH7bMB/FPQ4=\n", 63512409 },
		{ "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n"
		  "\xe2\x80\x94 sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/ak"
		  "vkMdlUErfcZz7l/R3cVtYspg3dxXABkGZZKdsQ8=\n", 65209736 },
	};
	note_verifier_t *v = NULL;
	char why[200] = "";
	cr_assert_eq(note_verifier_new(SUMDB_VKEY, strlen(SUMDB_VKEY), &v, why, sizeof why), 0,
		"%s", why);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		checkpoint_t cp;
		const char *n = cases[i].note;
		cr_assert_eq(checkpoint_open(v, "go.sum database tree", n, strlen(n), &cp, why,
			sizeof why), 0, "case %zu: %s", i, why);
		cr_assert_eq(cp.size, cases[i].size);
		/* the key's name is not this log's origin: the default refuses */
		cr_assert_eq(checkpoint_open(v, NULL, n, strlen(n), &cp, why, sizeof why),
			YIMA_EMISMATCH);
		cr_assert(strstr(why, "go.sum database tree") != NULL, "%s", why);
	}
	/* one size changed: the signature no longer holds */
	char *forged = strdup(cases[0].note);
	forged[strlen("go.sum database tree\n15368")] = '5';
	checkpoint_t cp;
	cr_assert_eq(checkpoint_open(v, "go.sum database tree", forged, strlen(forged), &cp,
		why, sizeof why), YIMA_EMISMATCH);
	free(forged);
	note_verifier_free(v);
}

/* C2SP tlog-checkpoint "Note text": each line's rule broken once.  Handed
 * to the parameterized test as indexes (Criterion re-executes the binary). */
static const struct bad_case {
	const char *why;
	const char *text;
	int rc;
} strict_cases[] = {
	{ "empty text", "", YIMA_EFORMAT },
	{ "empty origin", "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "no size", "o\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "leading zero", "o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "00", "o\n00\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "sign", "o\n+1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "hex size", "o\n0x1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "space in size", "o\n1 \nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", YIMA_EFORMAT },
	{ "2^64", "o\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  YIMA_EFORMAT },
	{ "root 31 bytes", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", YIMA_EFORMAT },
	{ "root 33 bytes", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", YIMA_EFORMAT },
	{ "root pad bits", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", YIMA_EFORMAT },
	{ "root unpadded", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", YIMA_EFORMAT },
	{ "root url-safe", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A=\n", YIMA_EFORMAT },
	{ "no final newline", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", YIMA_EFORMAT },
	{ "empty extension", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", YIMA_EFORMAT },
	{ "unended extension", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nx", YIMA_EFORMAT },
	{ "control in origin", "o\to\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  YIMA_EFORMAT },
	{ "bad UTF-8 origin", "o\xc0\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  YIMA_EFORMAT },
};

ParameterizedTestParameters(checkpoint, strict_parse)
{
	static size_t idx[sizeof strict_cases / sizeof *strict_cases];
	for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof *idx);
}

ParameterizedTest(size_t *i, checkpoint, strict_parse)
{
	const struct bad_case *c = &strict_cases[*i];
	checkpoint_t cp;
	char why[200] = "";
	cr_assert_eq(checkpoint_parse(c->text, strlen(c->text), &cp, why, sizeof why), c->rc,
		"%s", c->why);
	cr_assert(strncmp(why, "checkpoint", 10) == 0, "%s: %s", c->why, why);
}

Test(checkpoint, edges_that_parse)
{
	char text[CHECKPOINT_BODY_MAX + 64], why[200] = "";
	checkpoint_t cp;
	roundtrip("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
	roundtrip("o\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	roundtrip("例子.cn/账本\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nextension one\n"
		"\xe2\x80\x94 two\n");
	/* extension lines come back pointing into the text */
	const char *t = "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nx\ny\n";
	cr_assert_eq(checkpoint_parse(t, strlen(t), &cp, why, sizeof why), 0);
	cr_assert_eq(cp.ext, t + strlen(t) - 4);
	cr_assert_eq(cp.extlen, 4);
	/* the longest origin, and one byte more */
	memset(text, 'o', CHECKPOINT_ORIGIN_MAX + 1);
	strcpy(text + CHECKPOINT_ORIGIN_MAX + 1,
		"\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	cr_assert_eq(checkpoint_parse(text, strlen(text), &cp, why, sizeof why), YIMA_ETOOBIG);
	cr_assert_eq(checkpoint_parse(text + 1, strlen(text + 1), &cp, why, sizeof why), 0);
	cr_assert_eq(strlen(cp.origin), CHECKPOINT_ORIGIN_MAX);
}

Test(checkpoint, format_refuses)
{
	checkpoint_t cp = { .size = 1 };
	char out[CHECKPOINT_BODY_MAX + 1], small[20], why[200];
	cr_assert_eq(checkpoint_format(&cp, out, sizeof out, NULL, why, sizeof why), YIMA_EINVAL,
		"empty origin");
	strcpy(cp.origin, "two\nlines");
	cr_assert_eq(checkpoint_format(&cp, out, sizeof out, NULL, why, sizeof why), YIMA_EINVAL);
	strcpy(cp.origin, "yima.test");
	cp.ext = "no newline";
	cp.extlen = strlen(cp.ext);
	cr_assert_eq(checkpoint_format(&cp, out, sizeof out, NULL, why, sizeof why), YIMA_EINVAL);
	cp.ext = "a\n\nb\n";
	cp.extlen = strlen(cp.ext);
	cr_assert_eq(checkpoint_format(&cp, out, sizeof out, NULL, why, sizeof why), YIMA_EINVAL);
	cp.ext = NULL;
	cp.extlen = 0;
	cr_assert_eq(checkpoint_format(&cp, small, sizeof small, NULL, why, sizeof why),
		YIMA_ETOOBIG);
}

Test(checkpoint, sign_and_open)
{
	note_signer_t *s = NULL, *other = NULL;
	note_verifier_t *v = NULL, *ov = NULL;
	char vkey[NOTE_VKEY_MAX], why[200] = "";
	char *note = NULL;
	size_t len;
	checkpoint_t cp = { .size = 300 }, got;
	strcpy(cp.origin, "yima.pharmacy-7");
	memset(cp.root, 0x5a, sizeof cp.root);
	cr_assert_eq(note_signer_generate("yima.pharmacy-7", &s, why, sizeof why), 0);
	cr_assert_eq(note_signer_generate("yima.pharmacy-8", &other, why, sizeof why), 0);
	cr_assert_eq(checkpoint_sign(other, &cp, &note, &len, why, sizeof why), YIMA_EINVAL,
		"a key named for another log");
	cr_assert_eq(checkpoint_sign(s, &cp, &note, &len, why, sizeof why), 0, "%s", why);
	cr_assert(strncmp(note, "yima.pharmacy-7\n300\nWlpa", 24) == 0, "%s", note);
	cr_assert(strstr(note, "\n\n\xe2\x80\x94 yima.pharmacy-7 ") != NULL, "%s", note);
	cr_assert_eq(note_signer_vkey(s, vkey, sizeof vkey, NULL), 0);
	cr_assert_eq(note_verifier_new(vkey, strlen(vkey), &v, why, sizeof why), 0);
	cr_assert_eq(checkpoint_open(v, NULL, note, len, &got, why, sizeof why), 0, "%s", why);
	cr_assert_str_eq(got.origin, cp.origin);
	cr_assert_eq(got.size, 300);
	cr_assert_arr_eq(got.root, cp.root, 32);
	/* another log's key does not open it */
	cr_assert_eq(note_signer_vkey(other, vkey, sizeof vkey, NULL), 0);
	cr_assert_eq(note_verifier_new(vkey, strlen(vkey), &ov, why, sizeof why), 0);
	cr_assert_eq(checkpoint_open(ov, NULL, note, len, &got, why, sizeof why), YIMA_EMISMATCH);
	/* a signed note that is not a checkpoint */
	char *notcp = NULL;
	size_t nlen;
	cr_assert_eq(note_sign(s, "hello\n", 6, &notcp, &nlen, why, sizeof why), 0);
	cr_assert_eq(checkpoint_open(v, NULL, notcp, nlen, &got, why, sizeof why), YIMA_EFORMAT);
	free(notcp);
	free(note);
	note_verifier_free(v);
	note_verifier_free(ov);
	note_signer_free(s);
	note_signer_free(other);
}
