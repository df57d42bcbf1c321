/*
 * fuzz_note.c - libFuzzer harness for the signed-note decoders: any bytes
 * are parsed as a vkey (note_verifier_new) and opened as a note signed by
 * Go's published PeterNeumann test key (note_open).
 *
 * Invariants: a parsed vkey has a valid name of at most 255 bytes; an
 * opened note's text ends in a newline followed by the blank line; a
 * refusal is YIMA_EFORMAT or YIMA_EMISMATCH with a non-empty one-line
 * reason that stays inside its buffer.  tests/fuzz/corpus/note/ is the
 * seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yima/tlog/note.h"
#include "yima/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define PETER "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

static void check_why(const char *why, size_t n)
{
	for (size_t i = n; i < n + 8; i++)
		CHECK((unsigned char)why[i] == 0x55);
	CHECK(memchr(why, '\0', n) != NULL);
	CHECK(why[0] != '\0');
	CHECK(strchr(why, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static note_verifier_t *peter;
	const char *s = (const char *)data;
	char why[160 + 8];
	note_verifier_t *v = NULL;
	size_t textlen = 0;
	int rc;

	if (peter == NULL && note_verifier_new(PETER, strlen(PETER), &peter, NULL, 0) != 0)
		abort();
	memset(why, 0x55, sizeof why);
	rc = note_verifier_new(s, size, &v, why, 160);
	if (rc == 0) {
		const char *name = note_verifier_name(v);
		CHECK(strlen(name) <= NOTE_NAME_MAX);
		CHECK(note_name_valid(name, strlen(name)));
		CHECK(size > strlen(name) && s[strlen(name)] == '+');
		note_verifier_free(v);
	} else {
		CHECK(rc == YIMA_EFORMAT);
		check_why(why, 160);
	}
	memset(why, 0x55, sizeof why);
	rc = note_open(peter, s, size, &textlen, why, 160);
	if (rc == 0) {
		CHECK(textlen > 0 && textlen + 1 < size);
		CHECK(s[textlen - 1] == '\n' && s[textlen] == '\n');
	} else {
		CHECK(rc == YIMA_EFORMAT || rc == YIMA_EMISMATCH);
		check_why(why, 160);
	}
	return 0;
}
