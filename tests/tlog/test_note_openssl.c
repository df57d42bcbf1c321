/*
 * test_note_openssl.c - our Ed25519 signatures and key ids checked against
 * an independent implementation, the `openssl` command: the same key file
 * must give the same signature bytes (Ed25519 is deterministic), the same
 * public key and the same C2SP key id, both ways round (a key we saved,
 * and a key `openssl genpkey` made).
 *
 * Without an `openssl` command the suite cannot run: it exits 77, which
 * CTest reports as skipped, never as passed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "yima/tlog/note.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"
#include "testutil.h"

#define TEXT "yima.test\n7\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n"

/* Run a shell command built from fmt; it must succeed. */
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof cmd);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* Read exactly want bytes from the end of a file. */
static void tail_bytes(const char *dir, const char *name, uint8_t *out, size_t want)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "rb");
	cr_assert(fp != NULL, "%s", path);
	cr_assert_eq(fseek(fp, -(long)want, SEEK_END), 0, "%s is short", path);
	cr_assert_eq(fread(out, 1, want, fp), want);
	fclose(fp);
}

/* Our note's signature line decoded: key id and the 64 signature bytes. */
static void note_sig(const char *msg, uint32_t *id, uint8_t sig[64])
{
	const char *sp = strrchr(msg, ' ');
	uint8_t raw[68];
	size_t n;
	cr_assert(sp != NULL);
	cr_assert_eq(base64_decode(sp + 1, strlen(sp + 1) - 1, raw, sizeof raw, &n), 0);
	cr_assert_eq(n, 68);
	*id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	memcpy(sig, raw + 4, 64);
}

/* Compare everything openssl can tell us about dir/log.key with signer s. */
static void cross_check(const char *dir, note_signer_t *s)
{
	char *msg = NULL, why[200] = "";
	size_t len;
	uint8_t ours[64], theirs[64], pub[32], opub[32], idbytes[32];
	uint32_t id;
	char *text = tu_write_file(dir, "text", TEXT, strlen(TEXT));
	free(text);
	sh("cd '%s' && openssl pkeyutl -sign -rawin -inkey log.key -in text -out sig", dir);
	sh("cd '%s' && openssl pkey -in log.key -pubout -outform DER -out pub.der", dir);
	sh("cd '%s' && { printf 'yima.test\\n\\001'; tail -c 32 pub.der; } "
		"| openssl dgst -sha256 -binary > id.bin", dir);
	tail_bytes(dir, "sig", theirs, 64);
	tail_bytes(dir, "pub.der", opub, 32);
	tail_bytes(dir, "id.bin", idbytes, 32);

	cr_assert_eq(note_sign(s, TEXT, strlen(TEXT), &msg, &len, why, sizeof why), 0);
	note_sig(msg, &id, ours);
	note_signer_public_key(s, pub);
	cr_assert_arr_eq(pub, opub, 32, "public key differs from openssl's");
	cr_assert_arr_eq(ours, theirs, 64, "signature differs from openssl pkeyutl's");
	cr_assert_eq(id, (uint32_t)idbytes[0] << 24 | (uint32_t)idbytes[1] << 16
		| (uint32_t)idbytes[2] << 8 | idbytes[3], "key id differs from openssl dgst's");
	cr_assert_eq(id, note_signer_key_id(s));
	free(msg);
}

Test(note_openssl, our_key_file_signs_as_openssl_does)
{
	char *dir = tu_mkdtemp(), path[1024], why[200] = "";
	note_signer_t *s = NULL;
	snprintf(path, sizeof path, "%s/log.key", dir);
	cr_assert_eq(note_signer_generate("yima.test", &s, why, sizeof why), 0);
	cr_assert_eq(note_signer_save(s, path, why, sizeof why), 0, "%s", why);
	cross_check(dir, s);
	note_signer_free(s);
	tu_rmtree(dir);
	free(dir);
}

Test(note_openssl, openssl_key_loads_and_its_signature_verifies)
{
	char *dir = tu_mkdtemp(), path[1024], why[200] = "";
	note_signer_t *s = NULL;
	note_verifier_t *v = NULL;
	char vkey[NOTE_VKEY_MAX];
	snprintf(path, sizeof path, "%s/log.key", dir);
	sh("cd '%s' && umask 077 && openssl genpkey -algorithm ed25519 -out log.key", dir);
	cr_assert_eq(note_signer_load(path, "yima.test", &s, why, sizeof why), 0, "%s", why);
	cross_check(dir, s);

	/* a note whose signature line openssl made verifies with our vkey */
	uint8_t raw[68], sig[64];
	char b64[100], *msg = NULL;
	size_t tl;
	tail_bytes(dir, "sig", sig, 64);
	uint32_t id = note_signer_key_id(s);
	raw[0] = (uint8_t)(id >> 24); raw[1] = (uint8_t)(id >> 16);
	raw[2] = (uint8_t)(id >> 8); raw[3] = (uint8_t)id;
	memcpy(raw + 4, sig, 64);
	cr_assert_eq(base64_encode(raw, sizeof raw, b64, sizeof b64, NULL), 0);
	cr_assert(asprintf(&msg, "%s\n\xe2\x80\x94 yima.test %s\n", TEXT, b64) > 0);
	cr_assert_eq(note_signer_vkey(s, vkey, sizeof vkey, NULL), 0);
	cr_assert_eq(note_verifier_new(vkey, strlen(vkey), &v, why, sizeof why), 0);
	cr_assert_eq(note_open(v, msg, strlen(msg), &tl, why, sizeof why), 0, "%s", why);
	free(msg);
	note_verifier_free(v);
	note_signer_free(s);
	tu_rmtree(dir);
	free(dir);
}

int main(int argc, char *argv[])
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: no openssl command to cross-check Ed25519 against\n");
		return 77;
	}
	struct criterion_test_set *tests = criterion_initialize();
	int result = 0;
	if (criterion_handle_args(argc, argv, true))
		result = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return result;
}
