/*
 * note.c - the C2SP signed-note text: key names, signing a text and
 * verifying a signed note against one key (see yima/tlog/note.h).
 *
 * Parsing follows the C2SP text and Go's golang.org/x/mod/sumdb/note Open,
 * with one difference where the spec is firmer than Go: every signature
 * line by the expected key (same name and key id) must verify, where Go
 * checks only the first (C2SP: "If the key name and ID match a known key,
 * verifiers MUST verify the signature").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/tlog/note.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"
#include "note_impl.h"
#include "yima/util/utf8.h"

#define NOTE_DASH "\xe2\x80\x94 "	/* U+2014 EM DASH and a space */
#define NOTE_DASH_LEN 4
#define NOTE_SIG_PAYLOAD (4 + NOTE_SIG_SIZE)	/* key id || signature */

/* Decode the code point at s (n > 0 bytes); returns its length, or 0 if
 * the bytes are not valid UTF-8 there. */
static size_t note_next_cp(const char *s, size_t n, uint32_t *cp)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t bad;
	size_t len = utf8_seq_len(u, n, &bad);
	static const uint8_t lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	if (len == 0)
		return 0;
	*cp = u[0] & lead_mask[len];
	for (size_t i = 1; i < len; i++)
		*cp = *cp << 6 | (u[i] & 0x3f);
	return len;
}

/* Unicode White_Space, the set Go's unicode.IsSpace tests. */
static bool note_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0
		|| cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028
		|| cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

bool note_name_valid(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = note_next_cp(name + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == '+' || note_is_space(cp))
			return false;
		i += n;
	}
	return true;
}

bool note_text_valid(const char *s, size_t len, size_t *at)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = note_next_cp(s + i, len - i, &cp);
		if (n == 0 || (cp < 0x20 && cp != '\n')) {
			if (at != NULL)
				*at = i;
			return false;
		}
		i += n;
	}
	return true;
}

int note_sign(const note_signer_t *s, const char *text, size_t len,
	char **out, size_t *outlen, char *why, size_t whylen)
{
	uint8_t payload[NOTE_SIG_PAYLOAD];
	char b64[128];
	size_t at = 0;
	int rc;
	if (!note_text_valid(text, len, &at))
		return yima_fail(why, whylen, YIMA_EFORMAT, "note text: byte %zu is a "
			"control character or not UTF-8", at);
	if (len == 0 || text[len - 1] != '\n')
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"note text must end in a newline");
	if (len > SIZE_MAX / 2)
		return yima_fail(why, whylen, YIMA_ETOOBIG, "note text too long");
	uint32_t id = note_signer_key_id(s);
	payload[0] = (uint8_t)(id >> 24);
	payload[1] = (uint8_t)(id >> 16);
	payload[2] = (uint8_t)(id >> 8);
	payload[3] = (uint8_t)id;
	if ((rc = note_sign_raw(s, text, len, payload + 4)) < 0)
		return yima_fail(why, whylen, rc, "Ed25519 signing failed");
	if ((rc = base64_encode(payload, sizeof payload, b64, sizeof b64, NULL)) < 0)
		return rc;
	const char *name = note_signer_name(s);
	size_t cap = len + 1 + NOTE_DASH_LEN + strlen(name) + 1 + strlen(b64) + 2;
	char *buf = malloc(cap);
	if (buf == NULL)
		return YIMA_ENOMEM;
	memcpy(buf, text, len);
	int n = snprintf(buf + len, cap - len, "\n" NOTE_DASH "%s %s\n", name, b64);
	if (n < 0 || (size_t)n >= cap - len) {
		free(buf);
		return YIMA_ENOMEM;
	}
	*out = buf;
	*outlen = len + (size_t)n;
	return 0;
}

/* Verify the signature carried by one line if it is v's.  *mine is set
 * when it was (and verified).  Returns 0, YIMA_EFORMAT, YIMA_EMISMATCH. */
static int note_check_line(const note_verifier_t *v, const char *text, size_t textlen,
	const char *line, size_t n, unsigned lineno, bool *mine, char *why, size_t whylen)
{
	uint8_t payload[NOTE_SIG_PAYLOAD];
	size_t declen, got;
	*mine = false;
	if (n < NOTE_DASH_LEN || memcmp(line, NOTE_DASH, NOTE_DASH_LEN) != 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "note: signature line %u "
			"does not start with an em dash and a space", lineno);
	const char *name = line + NOTE_DASH_LEN;
	const char *sp = memchr(name, ' ', n - NOTE_DASH_LEN);
	if (sp == NULL || !note_name_valid(name, (size_t)(sp - name)))
		return yima_fail(why, whylen, YIMA_EFORMAT, "note: signature line %u "
			"has no valid key name and space", lineno);
	const char *b64 = sp + 1;
	size_t b64len = (size_t)(line + n - b64);
	if (base64_check(b64, b64len, &declen) < 0 || declen < 5)
		return yima_fail(why, whylen, YIMA_EFORMAT, "note: signature line %u "
			"is not strict base64 of a key id and a signature", lineno);
	/* the key id is in the first 8 characters (6 bytes, or 5 if padded) */
	if (base64_decode(b64, 8, payload, sizeof payload, &got) < 0)
		return YIMA_EFORMAT;
	uint32_t id = (uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16
		| (uint32_t)payload[2] << 8 | payload[3];
	const char *vname = note_verifier_name(v);
	if ((size_t)(sp - name) != strlen(vname) || memcmp(name, vname, strlen(vname)) != 0
	    || id != note_verifier_key_id(v))
		return 0;	/* another key's signature: ignored */
	if (declen != sizeof payload
	    || base64_decode(b64, b64len, payload, sizeof payload, &got) < 0
	    || note_verify_raw(v, text, textlen, payload + 4, got - 4) != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "note: the signature by "
			"%s+%08x (line %u) does not verify", vname, (unsigned)id, lineno);
	*mine = true;
	return 0;
}

/* The signed text ends at the last blank line: returns the offset of the
 * newline that ends the text, or len if there is no blank line. */
static size_t note_split(const char *msg, size_t len)
{
	for (size_t i = len - 1; i > 0; i--)
		if (msg[i] == '\n' && msg[i - 1] == '\n')
			return i - 1;
	return len;
}

int note_open(const note_verifier_t *v, const char *msg, size_t len, size_t *textlen,
	char *why, size_t whylen)
{
	size_t at = 0;
	if (!note_text_valid(msg, len, &at))
		return yima_fail(why, whylen, YIMA_EFORMAT, "note: byte %zu is a control "
			"character or not UTF-8", at);
	size_t split = len == 0 ? len : note_split(msg, len);
	if (split == len)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"note: no blank line before the signatures");
	const char *sigs = msg + split + 2, *end = msg + len;
	if (sigs == end || end[-1] != '\n')
		return yima_fail(why, whylen, YIMA_EFORMAT, "note: the signatures %s",
			sigs == end ? "are missing" : "do not end in a newline");
	unsigned lineno = 0, verified = 0;
	while (sigs < end) {
		const char *nl = memchr(sigs, '\n', (size_t)(end - sigs));
		bool mine;
		if (++lineno > NOTE_MAX_SIGS)
			return yima_fail(why, whylen, YIMA_EFORMAT,
				"note: more than %d signatures", NOTE_MAX_SIGS);
		int rc = note_check_line(v, msg, split + 1, sigs, (size_t)(nl - sigs),
			lineno, &mine, why, whylen);
		if (rc < 0)
			return rc;
		verified += mine;
		sigs = nl + 1;
	}
	if (verified == 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "note: no signature by "
			"%s+%08x", note_verifier_name(v), (unsigned)note_verifier_key_id(v));
	*textlen = split + 1;
	return 0;
}
