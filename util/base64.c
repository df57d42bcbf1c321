/*
 * base64.c - strict standard base64 over OpenSSL's block coders (see
 * yima/util/base64.h for the rules and why they are strict).
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "yima/util/error.h"
#include "yima/util/base64.h"

/* The 6-bit value of an alphabet character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t base64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);
	if (groups > SIZE_MAX / 4)
		return 0;
	return groups * 4;
}

int base64_encode(const void *in, size_t n, char *out, size_t cap, size_t *outlen)
{
	size_t need = base64_encoded_len(n);
	if (n > INT_MAX / 4 || (need == 0 && n != 0) || cap <= need)
		return YIMA_ETOOBIG;
	int got = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	if (got < 0 || (size_t)got != need)
		return YIMA_ECRYPTO;
	if (outlen != NULL)
		*outlen = need;
	return 0;
}

int base64_check(const char *s, size_t n, size_t *declen)
{
	if (n % 4 != 0)
		return YIMA_EFORMAT;
	size_t pad = 0;
	if (n > 0 && s[n - 1] == '=')
		pad = (s[n - 2] == '=') ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++)
		if (b64_value((unsigned char)s[i]) < 0)
			return YIMA_EFORMAT;
	/* The last symbol before the padding carries 4 (pad 2) or 2 (pad 1)
	 * bits that encode nothing: they must be zero for one spelling. */
	if (pad > 0) {
		int last = b64_value((unsigned char)s[n - pad - 1]);
		int unused = (pad == 2) ? 0x0f : 0x03;
		if (last & unused)
			return YIMA_EFORMAT;
	}
	if (declen != NULL)
		*declen = n / 4 * 3 - pad;
	return 0;
}

/* EVP_DecodeBlock over whole 4-char groups known to be valid; writes
 * exactly 3 bytes per group. */
static int b64_decode_groups(const char *s, size_t n, uint8_t *out)
{
	if (n == 0)
		return 0;
	int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3)
		return YIMA_ECRYPTO;
	return 0;
}

int base64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t declen;
	int rc = base64_check(s, n, &declen);
	if (rc < 0)
		return rc;
	if (n > INT_MAX || declen > cap)
		return YIMA_ETOOBIG;
	if (n == 0 || s[n - 1] != '=') {
		rc = b64_decode_groups(s, n, out);
	} else {
		/* EVP_DecodeBlock writes the padding as zero bytes; decode the
		 * last group aside so out needs only declen bytes. */
		uint8_t last[3];
		rc = b64_decode_groups(s, n - 4, out);
		if (rc == 0)
			rc = b64_decode_groups(s + n - 4, 4, last);
		if (rc == 0)
			memcpy(out + (n - 4) / 4 * 3, last, declen - (n - 4) / 4 * 3);
	}
	if (rc < 0)
		return rc;
	*outlen = declen;
	return 0;
}
