/*
 * note_impl.h - what note.c (the signed-note text) needs of note_key.c (the
 * keys), and nobody else: raw Ed25519 signing and verification.
 */
#ifndef YIMA_CORE_NOTE_IMPL_H
#define YIMA_CORE_NOTE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "yima/tlog/note.h"

/* Ed25519-sign msg (RFC 8032, no pre-hash).  Returns 0 or YIMA_ECRYPTO. */
int note_sign_raw(const note_signer_t *s, const void *msg, size_t len,
	uint8_t sig[NOTE_SIG_SIZE]);

/* Check an Ed25519 signature of msg.  Returns 0, YIMA_EMISMATCH (does not
 * verify, or siglen is not NOTE_SIG_SIZE) or YIMA_ECRYPTO. */
int note_verify_raw(const note_verifier_t *v, const void *msg, size_t len,
	const uint8_t *sig, size_t siglen);

#endif
