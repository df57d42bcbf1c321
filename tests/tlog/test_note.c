/*
 * test_note.c - C2SP signed notes with Ed25519 (yima/tlog/note.h):
 *
 *  - the published vectors: Go's golang.org/x/mod/sumdb/note tests (the
 *    PeterNeumann key, whose seed is public, and EnochRoot's signature)
 *    and the C2SP signed-note example, reproduced byte for byte;
 *  - Go's malformed notes and vkey manglings refused;
 *  - key names, tampering, unknown and foreign signatures;
 *  - the key file: PEM PKCS#8, mode 0600, O_EXCL, refused when readable by
 *    others, not Ed25519 or not a key.
 * The cross-check against `openssl pkeyutl` is test_note_openssl.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "yima/tlog/note.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"
#include "testutil.h"

/* Go's note tests: the PeterNeumann key is published as
 * PRIVATE+KEY+PeterNeumann+c74f20a3+<base64(0x01 || seed)>. */
#define PETER_SKEY64 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT "If you think cryptography is the answer to your problem,\n" \
	"then you don't know what your problem is.\n"
#define PETER_SIG "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcE" \
	"lZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define ENOCH_SIG "\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n" \
	"2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

static note_signer_t *peter(void)
{
	uint8_t raw[33];
	size_t n;
	note_signer_t *s = NULL;
	char why[200] = "";
	cr_assert_eq(base64_decode(PETER_SKEY64, strlen(PETER_SKEY64), raw, sizeof raw, &n), 0);
	cr_assert_eq(n, 33);
	cr_assert_eq(raw[0], 0x01);
	cr_assert_eq(note_signer_from_seed("PeterNeumann", raw + 1, &s, why, sizeof why), 0,
		"%s", why);
	OPENSSL_cleanse(raw, sizeof raw);
	return s;
}

static note_verifier_t *verifier(const char *vkey)
{
	note_verifier_t *v = NULL;
	char why[200] = "";
	cr_assert_eq(note_verifier_new(vkey, strlen(vkey), &v, why, sizeof why), 0,
		"%s: %s", vkey, why);
	return v;
}

static int open_str(const note_verifier_t *v, const char *msg, size_t *textlen,
	char *why, size_t whylen)
{
	size_t tl = 0;
	int rc = note_open(v, msg, strlen(msg), textlen ? textlen : &tl, why, whylen);
	return rc;
}

Test(note, go_vectors_peter_neumann)
{
	note_signer_t *s = peter();
	char vkey[NOTE_VKEY_MAX], why[200] = "";
	char *msg = NULL;
	size_t len = 0, textlen = 0;
	cr_assert_eq(note_signer_key_id(s), 0xc74f20a3);
	cr_assert_eq(note_signer_vkey(s, vkey, sizeof vkey, &len), 0);
	cr_assert_str_eq(vkey, PETER_VKEY);
	cr_assert_eq(len, strlen(PETER_VKEY));
	cr_assert_eq(note_sign(s, GO_TEXT, strlen(GO_TEXT), &msg, &len, why, sizeof why), 0,
		"%s", why);
	cr_assert_str_eq(msg, GO_TEXT "\n" PETER_SIG, "Ed25519 is deterministic: "
		"the signature must be Go's");
	cr_assert_eq(len, strlen(msg));
	note_verifier_t *v = verifier(PETER_VKEY);
	cr_assert_eq(note_verifier_key_id(v), 0xc74f20a3);
	cr_assert_str_eq(note_verifier_name(v), "PeterNeumann");
	cr_assert_eq(note_open(v, msg, len, &textlen, why, sizeof why), 0, "%s", why);
	cr_assert_eq(textlen, strlen(GO_TEXT));
	free(msg);
	note_verifier_free(v);
	note_signer_free(s);
}

Test(note, go_vectors_two_signers)
{
	note_verifier_t *p = verifier(PETER_VKEY), *e = verifier(ENOCH_VKEY);
	const char *msg = GO_TEXT "\n" PETER_SIG ENOCH_SIG;
	char why[200] = "";
	size_t tl;
	cr_assert_eq(note_verifier_key_id(e), 0xaf0cfe78);
	cr_assert_eq(open_str(p, msg, &tl, why, sizeof why), 0, "%s", why);
	cr_assert_eq(tl, strlen(GO_TEXT));
	cr_assert_eq(open_str(e, msg, &tl, why, sizeof why), 0, "Enoch's own: %s", why);
	/* Go's duplicated verified and unverified signatures: accepted */
	const char *dup = GO_TEXT "\n" PETER_SIG PETER_SIG ENOCH_SIG ENOCH_SIG;
	cr_assert_eq(open_str(p, dup, NULL, why, sizeof why), 0, "%s", why);
	note_verifier_free(p);
	note_verifier_free(e);
}

Test(note, c2sp_example)
{
	note_verifier_t *v = verifier(
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
	const char *msg = "This is an example message.\n\n\xe2\x80\x94 example.com/foo "
		"Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmR"
		"KuwHjG1Yu72IneyaQM=\n";
	char why[200] = "";
	size_t tl;
	cr_assert_eq(open_str(v, msg, &tl, why, sizeof why), 0, "%s", why);
	cr_assert_eq(tl, strlen("This is an example message.\n"));
	note_verifier_free(v);
}

Test(note, go_malformed_notes)
{
	note_verifier_t *v = verifier(PETER_VKEY);
	char *bad_name = NULL, *extra = NULL, *no_nl = NULL, *ctl = NULL, *ff = NULL;
	char *many = NULL;
	char why[200];
	cr_assert(asprintf(&bad_name, "%s\n\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVB"
		"tiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		GO_TEXT) > 0);
	cr_assert(asprintf(&extra, "%s\n%sUnexpected line.\n", GO_TEXT, PETER_SIG) > 0);
	cr_assert(asprintf(&no_nl, "%s\n%.*s", GO_TEXT, (int)strlen(PETER_SIG) - 1,
		PETER_SIG) > 0);
	cr_assert(asprintf(&ctl, "\x01%s\n%s", GO_TEXT, PETER_SIG) > 0);
	cr_assert(asprintf(&ff, "\xff%s\n%s", GO_TEXT, PETER_SIG) > 0);
	size_t sl = strlen(PETER_SIG), base = strlen(GO_TEXT) + 1;
	cr_assert((many = malloc(base + 101 * sl + 1)) != NULL);
	memcpy(many, GO_TEXT "\n", base);
	for (int i = 0; i < 101; i++)
		memcpy(many + base + (size_t)i * sl, PETER_SIG, sl);
	many[base + 101 * sl] = '\0';
	const char *cases[] = { GO_TEXT, GO_TEXT "\n", no_nl, ctl, ff, bad_name, extra,
		many, "", "\n\n", GO_TEXT "\n- PeterNeumann AAAAAAAA\n",
		GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcEl"
		"ZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n",
		GO_TEXT "\n\xe2\x80\x94 PeterNeumann AAAA\n" };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		why[0] = '\0';
		cr_assert_eq(open_str(v, cases[i], NULL, why, sizeof why), YIMA_EFORMAT,
			"case %zu", i);
		cr_assert(strncmp(why, "note: ", 6) == 0, "case %zu: %s", i, why);
	}
	/* 100 signatures are still fine */
	many[base + 100 * sl] = '\0';
	cr_assert_eq(open_str(v, many, NULL, why, sizeof why), 0, "%s", why);
	free(bad_name); free(extra); free(no_nl); free(ctl); free(ff); free(many);
	note_verifier_free(v);
}

Test(note, signatures_that_fail)
{
	note_verifier_t *p = verifier(PETER_VKEY);
	char why[200];
	char *ins = NULL;
	/* Go's invalid signature: 4 characters inserted, still base64 */
	cr_assert(asprintf(&ins, "%s\n%.60sABCD%s", GO_TEXT, PETER_SIG, PETER_SIG + 60) > 0);
	cr_assert_eq(open_str(p, ins, NULL, why, sizeof why), YIMA_EMISMATCH);
	cr_assert(strstr(why, "PeterNeumann+c74f20a3") != NULL, "%s", why);
	/* a good signature and a bad one by the same key: refused */
	char *two = NULL;
	cr_assert(asprintf(&two, "%s\n%s%s", GO_TEXT, PETER_SIG, strchr(ins, '\n') + 2) > 0);
	cr_assert_eq(open_str(p, two, NULL, why, sizeof why), YIMA_EMISMATCH, "%s", two);
	/* only other keys' signatures */
	cr_assert_eq(open_str(p, GO_TEXT "\n" ENOCH_SIG, NULL, why, sizeof why),
		YIMA_EMISMATCH);
	cr_assert(strstr(why, "no signature by PeterNeumann+c74f20a3") != NULL, "%s", why);
	/* the text changed by one character */
	const char *changed = "If you think cryptography is the answer to your problem,\n"
		"then you don't know what your problem is!\n\n" PETER_SIG;
	cr_assert_eq(open_str(p, changed, NULL, why, sizeof why), YIMA_EMISMATCH);
	free(ins);
	free(two);
	note_verifier_free(p);
}

Test(note, signature_under_another_name_or_id_is_ignored)
{
	note_verifier_t *p = verifier(PETER_VKEY);
	char why[200];
	/* Peter's signature under Enoch's name: unknown key, so ignored, and
	 * with no other signature the note is refused. */
	const char *renamed = GO_TEXT "\n\xe2\x80\x94 EnochRoot x08go/ZJkuBS9UG/SffcvIAQxVBti"
		"FupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
	cr_assert_eq(open_str(p, renamed, NULL, why, sizeof why), YIMA_EMISMATCH);
	/* and a second, valid signature line makes it pass */
	char *both = NULL;
	cr_assert(asprintf(&both, "%s%s", renamed, PETER_SIG) > 0);
	cr_assert_eq(open_str(p, both, NULL, why, sizeof why), 0, "%s", why);
	free(both);
	note_verifier_free(p);
}

Test(note, go_vkey_manglings_refused)
{
	const char *vk = PETER_VKEY;
	size_t n = strlen(vk);
	char buf[NOTE_VKEY_MAX];
	note_verifier_t *v = NULL;
	char why[200];
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			cr_assert_neq(note_verifier_new(vk + i, j - i, &v, why, sizeof why), 0,
				"substring [%zu, %zu) accepted", i, j);
		}
	memcpy(buf, vk, n + 1);
	for (size_t i = 0; i < n; i++) {
		buf[i]++;
		cr_assert_neq(note_verifier_new(buf, n, &v, why, sizeof why), 0,
			"byte %zu + 1 accepted: %s", i, buf);
		buf[i]--;
	}
	/* Go's wrong-length key and unknown algorithm, each with its key id */
	const char *bad[] = {
		"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
		"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		PETER_VKEY "\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why[0] = '\0';
		cr_assert_eq(note_verifier_new(bad[i], strlen(bad[i]), &v, why, sizeof why),
			YIMA_EFORMAT, "%s", bad[i]);
		cr_assert(strncmp(why, "vkey: ", 6) == 0, "%s", why);
	}
}

Test(note, key_names)
{
	const char *good[] = { "yima.pharmacy-7", "example.com/log42", "例子.cn/账本",
		"a", "x\x7fy" };
	const char *bad[] = { "", "a b", "a+b", "a\tb", "a\nb", "a\xc2\xa0" "b",
		"a\xe3\x80\x80" "b", "a\xe2\x80\xa8" "b", "\xff", "a\xc3", "\x01" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		cr_assert(note_name_valid(good[i], strlen(good[i])), "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert(!note_name_valid(bad[i], strlen(bad[i])), "case %zu", i);
	note_signer_t *s = NULL;
	char why[200], longname[NOTE_NAME_MAX + 2];
	cr_assert_eq(note_signer_generate("bad name", &s, why, sizeof why), YIMA_EINVAL);
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	cr_assert_eq(note_signer_generate(longname, &s, why, sizeof why), YIMA_EINVAL);
	longname[NOTE_NAME_MAX] = '\0';
	cr_assert_eq(note_signer_generate(longname, &s, why, sizeof why), 0, "%s", why);
	char vkey[NOTE_VKEY_MAX];
	cr_assert_eq(note_signer_vkey(s, vkey, sizeof vkey, NULL), 0, "longest name fits");
	note_signer_free(s);
}

Test(note, generated_key_round_trip_and_tampering)
{
	note_signer_t *s = NULL, *other = NULL;
	char vkey[NOTE_VKEY_MAX], ovkey[NOTE_VKEY_MAX], why[200] = "";
	char *msg = NULL;
	size_t len, tl;
	const char *text = "yima.test\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	cr_assert_eq(note_signer_generate("yima.test", &s, why, sizeof why), 0, "%s", why);
	cr_assert_eq(note_signer_generate("yima.test", &other, why, sizeof why), 0);
	cr_assert_eq(note_signer_vkey(s, vkey, sizeof vkey, NULL), 0);
	cr_assert_eq(note_signer_vkey(other, ovkey, sizeof ovkey, NULL), 0);
	cr_assert_str_neq(vkey, ovkey);
	cr_assert_eq(note_sign(s, text, strlen(text), &msg, &len, why, sizeof why), 0);
	note_verifier_t *v = verifier(vkey), *ov = verifier(ovkey);
	cr_assert_eq(note_open(v, msg, len, &tl, why, sizeof why), 0, "%s", why);
	cr_assert_eq(tl, strlen(text));
	/* another key with the same name: its id differs, so the signature is
	 * someone else's and the note has none by it */
	cr_assert_eq(note_open(ov, msg, len, &tl, why, sizeof why), YIMA_EMISMATCH);
	/* every byte of the text and of the signature matters */
	for (size_t i = 0; i < len - 1; i++) {
		if (msg[i] == '\n' || (unsigned char)msg[i] >= 0x80)
			continue;
		char save = msg[i];
		msg[i] = save == 'A' ? 'B' : 'A';
		int rc = note_open(v, msg, len, &tl, why, sizeof why);
		cr_assert(rc == YIMA_EMISMATCH || rc == YIMA_EFORMAT,
			"byte %zu changed, accepted", i);
		msg[i] = save;
	}
	cr_assert_eq(note_open(v, msg, len, &tl, why, sizeof why), 0);
	free(msg);
	/* texts that cannot be signed */
	const char *bad[] = { "", "no newline", "tab\there\n", "\xc3\x28\n" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(note_sign(s, bad[i], strlen(bad[i]), &msg, &len, why, sizeof why),
			YIMA_EFORMAT, "case %zu", i);
	note_verifier_free(v);
	note_verifier_free(ov);
	note_signer_free(s);
	note_signer_free(other);
}

Test(note, key_file_save_and_load)
{
	char *dir = tu_mkdtemp(), *path = NULL, why[300] = "";
	note_signer_t *s = NULL, *back = NULL;
	struct stat st;
	char vkey[NOTE_VKEY_MAX], vkey2[NOTE_VKEY_MAX];
	cr_assert(asprintf(&path, "%s/log.key", dir) > 0);
	cr_assert_eq(note_signer_load(path, "yima.test", &back, why, sizeof why),
		YIMA_ENOTFOUND);
	cr_assert_eq(note_signer_generate("yima.test", &s, why, sizeof why), 0);
	cr_assert_eq(note_signer_save(s, path, why, sizeof why), 0, "%s", why);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	FILE *fp = fopen(path, "r");
	char head[64] = "";
	cr_assert(fp != NULL && fgets(head, sizeof head, fp) != NULL);
	fclose(fp);
	cr_assert_str_eq(head, "-----BEGIN PRIVATE KEY-----\n");
	cr_assert_eq(note_signer_save(s, path, why, sizeof why), YIMA_EEXIST);
	cr_assert_eq(note_signer_load(path, "yima.test", &back, why, sizeof why), 0, "%s", why);
	cr_assert_eq(note_signer_vkey(s, vkey, sizeof vkey, NULL), 0);
	cr_assert_eq(note_signer_vkey(back, vkey2, sizeof vkey2, NULL), 0);
	cr_assert_str_eq(vkey, vkey2);
	/* the loaded key signs what the saved key's vkey verifies */
	char *msg = NULL;
	size_t len, tl;
	cr_assert_eq(note_sign(back, "hello\n", 6, &msg, &len, why, sizeof why), 0);
	note_verifier_t *v = verifier(vkey);
	cr_assert_eq(note_open(v, msg, len, &tl, why, sizeof why), 0, "%s", why);
	free(msg);
	note_verifier_free(v);
	note_signer_free(back);
	/* readable by others: refused, and the message says how to fix it */
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(note_signer_load(path, "yima.test", &back, why, sizeof why), YIMA_EINVAL);
	cr_assert(strstr(why, "chmod 600") != NULL, "%s", why);
	note_signer_free(s);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

/* Write a PEM private key of another type, or junk, and try to load it. */
static void expect_load_refused(const char *dir, const char *name, const char *data,
	size_t n, int want)
{
	char *path = tu_write_file(dir, name, data, n);
	note_signer_t *s = NULL;
	char why[300] = "";
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(note_signer_load(path, "yima.test", &s, why, sizeof why), want,
		"%s: %s", name, why);
	cr_assert(s == NULL);
	free(path);
}

Test(note, key_file_wrong_contents)
{
	char *dir = tu_mkdtemp();
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	cr_assert(x != NULL && bio != NULL);
	cr_assert_eq(PEM_write_bio_PrivateKey(bio, x, NULL, NULL, 0, NULL, NULL), 1);
	long n = BIO_get_mem_data(bio, &pem);
	expect_load_refused(dir, "x25519.key", pem, (size_t)n, YIMA_EFORMAT);
	BIO_free(bio);
	EVP_PKEY_free(x);
	/* the same key encrypted: we never prompt for a passphrase */
	bio = BIO_new(BIO_s_mem());
	x = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cr_assert_eq(PEM_write_bio_PrivateKey(bio, x, EVP_aes_256_cbc(), NULL, 0, NULL,
		"passphrase"), 1);
	n = BIO_get_mem_data(bio, &pem);
	expect_load_refused(dir, "encrypted.key", pem, (size_t)n, YIMA_EFORMAT);
	BIO_free(bio);
	EVP_PKEY_free(x);
	expect_load_refused(dir, "junk.key", "not a key\n", 10, YIMA_EFORMAT);
	expect_load_refused(dir, "empty.key", "", 0, YIMA_EFORMAT);
	char big[5000];
	memset(big, 'A', sizeof big);
	expect_load_refused(dir, "big.key", big, sizeof big, YIMA_EFORMAT);
	note_signer_t *s = NULL;
	char why[200];
	cr_assert_eq(note_signer_load(dir, "yima.test", &s, why, sizeof why), YIMA_EINVAL,
		"a directory is not a key file");
	tu_rmtree(dir);
	free(dir);
}
