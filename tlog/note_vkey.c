/*
 * note_vkey.c - parsing verifier keys into note verifiers (see
 * yima/tlog/note.h).  Strict: a vkey is pasted by people and compared by
 * machines, so there is one spelling of each key and anything else is an
 * error that says which part is wrong.  Also the raw Ed25519 check that
 * note.c runs for each signature by the verifier's key.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "yima/tlog/note.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"
#include "note_impl.h"

struct note_verifier {
	EVP_PKEY *pkey;
	uint32_t id;
	char name[NOTE_NAME_MAX + 1];
};

/* Exactly 8 lowercase hex digits (C2SP: fixed-length lowercase). */
static int note_parse_hex32(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	if (n != 8)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Decode and check the `base64(0x01 || key)` part into pub. */
static int note_parse_vkey_key(const char *b64, size_t n, uint8_t pub[NOTE_PUBKEY_SIZE],
	char *why, size_t whylen)
{
	uint8_t raw[1 + NOTE_PUBKEY_SIZE];
	size_t got;
	size_t declen;
	if (base64_check(b64, n, &declen) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: the key is not strict base64");
	if (declen < 1 || declen > sizeof raw
	    || base64_decode(b64, n, raw, sizeof raw, &got) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: the key is %zu bytes, not 33", declen);
	if (raw[0] != NOTE_ALG_ED25519)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: signature type 0x%02x is not Ed25519 (0x01)", raw[0]);
	if (got != sizeof raw)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: the key is %zu bytes, not 33", got);
	memcpy(pub, raw + 1, NOTE_PUBKEY_SIZE);
	return 0;
}

int note_verifier_new(const char *vkey, size_t len, note_verifier_t **out,
	char *why, size_t whylen)
{
	const char *p1 = memchr(vkey, '+', len);
	const char *p2 = p1 ? memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - vkey)) : NULL;
	uint8_t pub[NOTE_PUBKEY_SIZE];
	uint32_t id, want;
	int rc;
	if (p2 == NULL)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: not <name>+<key id>+<key>");
	size_t namelen = (size_t)(p1 - vkey);
	if (namelen > NOTE_NAME_MAX || !note_name_valid(vkey, namelen))
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: the name is not a valid key name");
	if (note_parse_hex32(p1 + 1, (size_t)(p2 - p1 - 1), &id) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: the key id is not 8 lowercase hex digits");
	rc = note_parse_vkey_key(p2 + 1, len - (size_t)(p2 + 1 - vkey), pub, why, whylen);
	if (rc < 0)
		return rc;
	if ((rc = note_key_id(vkey, namelen, pub, &want)) < 0)
		return rc;
	if (want != id)
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"vkey: key id %08x does not match the name and key (%08x)",
			(unsigned)id, (unsigned)want);
	note_verifier_t *v = calloc(1, sizeof *v);
	if (v == NULL)
		return YIMA_ENOMEM;
	v->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, sizeof pub);
	if (v->pkey == NULL) {
		ERR_clear_error();
		free(v);
		return yima_fail(why, whylen, YIMA_ECRYPTO, "vkey: OpenSSL refused the key");
	}
	v->id = id;
	memcpy(v->name, vkey, namelen);
	*out = v;
	return 0;
}

void note_verifier_free(note_verifier_t *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->pkey);
	free(v);
}

const char *note_verifier_name(const note_verifier_t *v)
{
	return v->name;
}

uint32_t note_verifier_key_id(const note_verifier_t *v)
{
	return v->id;
}

int note_verify_raw(const note_verifier_t *v, const void *msg, size_t len,
	const uint8_t *sig, size_t siglen)
{
	if (siglen != NOTE_SIG_SIZE)
		return YIMA_EMISMATCH;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return YIMA_ENOMEM;
	int rc = YIMA_ECRYPTO;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, v->pkey) == 1) {
		int ok = EVP_DigestVerify(ctx, sig, siglen, msg, len);
		rc = ok == 1 ? 0 : YIMA_EMISMATCH;
	}
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}
