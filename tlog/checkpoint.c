/*
 * checkpoint.c - the C2SP tlog-checkpoint body: format, strict parse, and
 * signing and verifying it as a signed note (see yima/tlog/checkpoint.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yima/tlog/checkpoint.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"

/* Are ext[0..n) zero or more non-empty lines of note text, each ending in
 * a newline? */
static int checkpoint_ext_valid(const char *ext, size_t n)
{
	if (n == 0)
		return 1;
	if (ext == NULL || ext[n - 1] != '\n' || !note_text_valid(ext, n, NULL))
		return 0;
	for (size_t i = 0; i < n; i++)	/* no empty line */
		if (ext[i] == '\n' && (i == 0 || ext[i - 1] == '\n'))
			return 0;
	return 1;
}

int checkpoint_format(const checkpoint_t *cp, char *out, size_t cap, size_t *len,
	char *why, size_t whylen)
{
	size_t olen = strnlen(cp->origin, sizeof cp->origin);
	char root[48];
	if (olen == 0 || olen > CHECKPOINT_ORIGIN_MAX || memchr(cp->origin, '\n', olen)
	    || !note_text_valid(cp->origin, olen, NULL))
		return yima_fail(why, whylen, YIMA_EINVAL,
			"checkpoint origin is empty, too long or not one line of text");
	if (!checkpoint_ext_valid(cp->ext, cp->extlen))
		return yima_fail(why, whylen, YIMA_EINVAL,
			"checkpoint extension lines must be non-empty lines of text");
	if (cp->extlen > INT32_MAX)	/* for %.*s */
		return yima_fail(why, whylen, YIMA_ETOOBIG, "checkpoint extensions too long");
	if (base64_encode(cp->root, MERKLE_HASH_SIZE, root, sizeof root, NULL) < 0)
		return YIMA_ECRYPTO;
	int n = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n%.*s", cp->origin, cp->size,
		root, (int)cp->extlen, cp->extlen ? cp->ext : "");
	if (n < 0 || (size_t)n >= cap)
		return yima_fail(why, whylen, YIMA_ETOOBIG, "checkpoint buffer too small");
	if (len != NULL)
		*len = (size_t)n;
	return 0;
}

/* The line starting at *p (before end): sets *line and *n and moves *p
 * past its newline.  Returns 0, or -1 when no newline ends it. */
static int checkpoint_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		return -1;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl + 1;
	return 0;
}

/* Decimal with no sign, no leading zero (but "0"), fitting in 64 bits. */
static int checkpoint_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int checkpoint_parse(const char *text, size_t len, checkpoint_t *cp,
	char *why, size_t whylen)
{
	const char *p = text, *end = text + len, *line;
	size_t n, got;
	memset(cp, 0, sizeof *cp);
	if (checkpoint_line(&p, end, &line, &n) < 0 || n == 0
	    || !note_text_valid(line, n, NULL))
		return yima_fail(why, whylen, YIMA_EFORMAT,
			"checkpoint line 1: no origin");
	if (n > CHECKPOINT_ORIGIN_MAX)
		return yima_fail(why, whylen, YIMA_ETOOBIG, "checkpoint line 1: the "
			"origin is %zu bytes, over %d", n, CHECKPOINT_ORIGIN_MAX);
	memcpy(cp->origin, line, n);
	if (checkpoint_line(&p, end, &line, &n) < 0 || checkpoint_size(line, n, &cp->size) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "checkpoint line 2: the tree "
			"size is not a decimal number without leading zeros");
	if (checkpoint_line(&p, end, &line, &n) < 0 || n != 44
	    || base64_decode(line, n, cp->root, sizeof cp->root, &got) < 0
	    || got != MERKLE_HASH_SIZE)
		return yima_fail(why, whylen, YIMA_EFORMAT, "checkpoint line 3: the root "
			"is not base64 of 32 bytes");
	if (!checkpoint_ext_valid(p, (size_t)(end - p)))
		return yima_fail(why, whylen, YIMA_EFORMAT, "checkpoint: extension lines "
			"must be non-empty lines ending in a newline");
	cp->ext = p < end ? p : NULL;
	cp->extlen = (size_t)(end - p);
	return 0;
}

int checkpoint_sign(const note_signer_t *s, const checkpoint_t *cp, char **out,
	size_t *outlen, char *why, size_t whylen)
{
	if (strcmp(note_signer_name(s), cp->origin) != 0)
		return yima_fail(why, whylen, YIMA_EINVAL, "key name %s is not the "
			"checkpoint origin %s", note_signer_name(s), cp->origin);
	if (cp->extlen > SIZE_MAX - CHECKPOINT_BODY_MAX - 1)
		return YIMA_ETOOBIG;
	size_t cap = CHECKPOINT_BODY_MAX + cp->extlen + 1, len;
	char *body = malloc(cap);
	if (body == NULL)
		return YIMA_ENOMEM;
	int rc = checkpoint_format(cp, body, cap, &len, why, whylen);
	if (rc == 0)
		rc = note_sign(s, body, len, out, outlen, why, whylen);
	free(body);
	return rc;
}

int checkpoint_open(const note_verifier_t *v, const char *origin, const char *note,
	size_t len, checkpoint_t *cp, char *why, size_t whylen)
{
	size_t textlen;
	if (origin == NULL)
		origin = note_verifier_name(v);
	int rc = note_open(v, note, len, &textlen, why, whylen);
	if (rc < 0)
		return rc;
	if ((rc = checkpoint_parse(note, textlen, cp, why, whylen)) < 0)
		return rc;
	if (strcmp(cp->origin, origin) != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "checkpoint of log %s, "
			"not of %s", cp->origin, origin);
	return 0;
}

int checkpoint_check(const char *vkey, size_t vlen, const char *note, size_t len,
	uint64_t size, const uint8_t *root, char *why, size_t whylen)
{
	note_verifier_t *v;
	checkpoint_t cp;
	int rc = note_verifier_new(vkey, vlen, &v, why, whylen);
	if (rc < 0)
		return rc;
	rc = checkpoint_open(v, NULL, note, len, &cp, why, whylen);
	note_verifier_free(v);
	if (rc < 0)
		return rc;
	if (cp.size != size)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "checkpoint of size %" PRIu64
			", the tree has %" PRIu64 " entries", cp.size, size);
	if (root != NULL && memcmp(cp.root, root, MERKLE_HASH_SIZE) != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "checkpoint root is not the "
			"tree's root at size %" PRIu64, size);
	return 0;
}

void checkpoint_default_origin(char out[CHECKPOINT_ORIGIN_MAX + 1])
{
	char host[200];
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '+' || (unsigned char)*p >= 0x7f)
			*p = '-';
	snprintf(out, CHECKPOINT_ORIGIN_MAX + 1, "yima.%s", host);
}
