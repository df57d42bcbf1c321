/*
 * base64.h - standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /,
 * '=' padding), the encoding of C2SP signed notes, verifier keys and
 * checkpoint root hashes.
 *
 * Decoding is strict, because the same bytes must have one spelling in a
 * signed text: no whitespace, length a multiple of 4, padding only at the
 * end and only as much as needed, and the unused bits of the last symbol
 * zero (RFC 4648 section 3.5 lets a decoder reject non-zero pad bits).
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock do the conversion; the checks
 * around them are ours (EVP_DecodeBlock alone accepts "QQ=A" and " QQ==").
 */
#ifndef YIMA_UTIL_BASE64_H
#define YIMA_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes, without a terminating NUL:
 * 4 * ceil(n / 3).  Returns 0 if that does not fit in a size_t. */
size_t base64_encoded_len(size_t n);

/*
 * Encode n bytes at in into out (capacity cap), NUL-terminated.  On
 * success *outlen (may be NULL) is the length without the NUL.  Returns 0,
 * YIMA_ETOOBIG if cap < base64_encoded_len(n) + 1 or n is over INT_MAX / 4
 * (OpenSSL takes an int), or YIMA_ECRYPTO.  out is untouched on error.
 */
int base64_encode(const void *in, size_t n, char *out, size_t cap, size_t *outlen);

/*
 * Check that s (n bytes, not NUL-terminated) is strict base64 as described
 * above, and give the decoded length in *declen (may be NULL).  Returns 0
 * or YIMA_EFORMAT.  Decodes nothing: for checking text whose bytes are not
 * needed (the signatures of unknown keys in a note).
 */
int base64_check(const char *s, size_t n, size_t *declen);

/*
 * Decode the strict base64 s (n bytes) into out (capacity cap).  On
 * success *outlen is the decoded length.  Returns 0, YIMA_EFORMAT (not
 * strict base64), YIMA_ETOOBIG (decoded length over cap, or n over
 * INT_MAX) or YIMA_ECRYPTO.  On error out may hold partial output.
 */
int base64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen);

#endif
