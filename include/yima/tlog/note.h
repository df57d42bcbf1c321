/*
 * note.h - C2SP signed notes (https://c2sp.org/signed-note) with Ed25519:
 * the log's signing key, its key id and verifier key, signing a note text
 * and verifying a signed note (spec section 8).
 *
 * A signed note is a text ending in a newline, a blank line, and signature
 * lines `— <key name> <base64(key id || signature)>` (U+2014 EM DASH).  An
 * Ed25519 key is known by its name and its key id, the first four bytes
 * (big-endian) of SHA-256(name || 0x0A || 0x01 || 32-byte public key); its
 * verifier key ("vkey") is `<name>+<8 lowercase hex key id>+<base64(0x01 ||
 * public key)>`, all a verifier needs.
 *
 * Keys live in OpenSSL EVP_PKEYs (EVP_PKEY_ED25519); private key material
 * that passes through our buffers is wiped with OPENSSL_cleanse.  The key
 * file (DIR/log.key) is the private key as PEM PKCS#8 ("-----BEGIN PRIVATE
 * KEY-----", what `openssl genpkey -algorithm ed25519` writes), unencrypted
 * and mode 0600, so standard tools can read it; the key name is not in the
 * file (the ledger keeps its origin and passes it in).
 *
 * Errors: YIMA_EFORMAT for text that breaks the formats (with why naming
 * what and where), YIMA_EMISMATCH for a signature that does not verify or a
 * note with no signature by the expected key, YIMA_ECRYPTO for OpenSSL
 * failures, YIMA_ENOMEM.
 */
#ifndef YIMA_CORE_NOTE_H
#define YIMA_CORE_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTE_NAME_MAX 255	/* bytes in a key name of ours (an origin) */
#define NOTE_PUBKEY_SIZE 32
#define NOTE_SEED_SIZE 32
#define NOTE_SIG_SIZE 64
#define NOTE_MAX_SIGS 100	/* C2SP: accept at least 16; Go's note takes 100 */
#define NOTE_ALG_ED25519 0x01
/* name + '+' + 8 hex + '+' + base64 of 33 bytes + NUL */
#define NOTE_VKEY_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

/* An Ed25519 signing key with its name; opaque, from note_signer_*(). */
typedef struct note_signer note_signer_t;
/* A public key with its name, from a vkey; opaque. */
typedef struct note_verifier note_verifier_t;

/*
 * Is name (len bytes) a valid key name: non-empty, valid UTF-8, no control
 * characters, no Unicode white space (Go's unicode.IsSpace set) and no
 * '+'?  Names of our own keys are further limited to NOTE_NAME_MAX bytes.
 */
bool note_name_valid(const char *name, size_t len);

/*
 * Is s (len bytes) valid note text: UTF-8 with no control character other
 * than newline?  If not and at is not NULL, *at is the offset of the first
 * offending byte.
 */
bool note_text_valid(const char *s, size_t len, size_t *at);

/* The Ed25519 key id of (name, public key), as above.  Returns 0 or
 * YIMA_ECRYPTO. */
int note_key_id(const char *name, size_t len, const uint8_t pub[NOTE_PUBKEY_SIZE],
	uint32_t *id);

/*
 * Format the vkey of (name, public key) into out (capacity cap,
 * NUL-terminated; NOTE_VKEY_MAX is always enough).  *outlen (may be NULL)
 * is its length.  Returns 0, YIMA_EINVAL (name not valid or over
 * NOTE_NAME_MAX, with why), YIMA_ETOOBIG (cap too small) or YIMA_ECRYPTO.
 */
int note_vkey_format(const char *name, const uint8_t pub[NOTE_PUBKEY_SIZE],
	char *out, size_t cap, size_t *outlen, char *why, size_t whylen);

/*
 * New signers.  name (NUL-terminated) must be a valid key name of at most
 * NOTE_NAME_MAX bytes (else YIMA_EINVAL); it is copied.  _generate makes a
 * fresh key from OpenSSL's RNG; _from_seed takes the 32-byte RFC 8032
 * private key (the caller wipes its copy); _load reads a key file written
 * by note_signer_save (or openssl genpkey): YIMA_ENOTFOUND if path does not
 * exist, YIMA_EINVAL if it is not a regular file or group or others may
 * read it, YIMA_EFORMAT if it is not an unencrypted Ed25519 PEM private
 * key, YIMA_EIO.  On success *out is the caller's, freed with
 * note_signer_free.
 */
int note_signer_generate(const char *name, note_signer_t **out, char *why, size_t whylen);
int note_signer_from_seed(const char *name, const uint8_t seed[NOTE_SEED_SIZE],
	note_signer_t **out, char *why, size_t whylen);
int note_signer_load(const char *path, const char *name, note_signer_t **out,
	char *why, size_t whylen);

/*
 * Write the private key to a new file at path, mode 0600 (O_CREAT|O_EXCL:
 * never over an existing file, YIMA_EEXIST), fsync'd, and its directory
 * fsync'd so the name survives a crash.  A failed write removes the file.
 * Returns 0, YIMA_EEXIST, YIMA_EIO or YIMA_ECRYPTO, with why.
 */
int note_signer_save(const note_signer_t *s, const char *path, char *why, size_t whylen);

/* note_signer_load, or when path does not exist and create is true,
 * note_signer_generate and note_signer_save: the key file of a log made
 * on first use.  Returns as those. */
int note_signer_open(const char *path, const char *name, bool create, note_signer_t **out,
	char *why, size_t whylen);

/* Wipe and free; NULL is a no-op. */
void note_signer_free(note_signer_t *s);

/* The name (valid while s lives), key id and public key of a signer. */
const char *note_signer_name(const note_signer_t *s);
uint32_t note_signer_key_id(const note_signer_t *s);
void note_signer_public_key(const note_signer_t *s, uint8_t pub[NOTE_PUBKEY_SIZE]);

/* The signer's vkey, as note_vkey_format. */
int note_signer_vkey(const note_signer_t *s, char *out, size_t cap, size_t *outlen);

/*
 * Parse a vkey (len bytes, no trailing newline): `<name>+<hex id>+<base64>`
 * with a valid name, exactly 8 lowercase hex digits, strict base64 of
 * exactly 33 bytes starting with NOTE_ALG_ED25519, and a key id that
 * matches name and key.  On success *out is the caller's (note_verifier_
 * free).  Returns 0, YIMA_EFORMAT with why, YIMA_ECRYPTO or YIMA_ENOMEM.
 */
int note_verifier_new(const char *vkey, size_t len, note_verifier_t **out,
	char *why, size_t whylen);
void note_verifier_free(note_verifier_t *v);
const char *note_verifier_name(const note_verifier_t *v);
uint32_t note_verifier_key_id(const note_verifier_t *v);

/*
 * Sign text (len bytes: valid UTF-8, no control characters but newlines,
 * ending in a newline) as a note with one signature line by s.  On success
 * *out is a malloc'd, NUL-terminated signed note of *outlen bytes, the
 * caller's to free.  Returns 0, YIMA_EFORMAT (bad text, with why),
 * YIMA_ENOMEM or YIMA_ECRYPTO.
 */
int note_sign(const note_signer_t *s, const char *text, size_t len,
	char **out, size_t *outlen, char *why, size_t whylen);

/*
 * Verify the signed note msg (len bytes) against v.  The note must be
 * valid UTF-8 with no control characters but newlines, and end in a
 * signature block after its last blank line: 1 to NOTE_MAX_SIGS lines of
 * `— <valid name> <strict base64 of at least 5 bytes>`.  Signatures by
 * other keys (another name or key id) are ignored; every signature by v
 * must verify and there must be at least one.  On success *textlen is the
 * length of the signed text, msg[0..*textlen) (ending in its newline).
 * Returns 0, YIMA_EFORMAT (malformed, with why), YIMA_EMISMATCH (no
 * signature by v, or one that fails), YIMA_ECRYPTO.
 */
int note_open(const note_verifier_t *v, const char *msg, size_t len, size_t *textlen,
	char *why, size_t whylen);

#endif
