/*
 * checkpoint.h - C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint):
 * the signed tree head of the log, a signed note whose text is
 *
 *	<origin>\n<tree size, decimal>\n<base64 of the 32-byte root>\n
 *	[extension lines, each non-empty and ending in \n]
 *
 * (spec section 8).  Parsing is strict: a non-empty origin of valid note
 * text, a size with no leading zeros (0 alone is the empty tree) that fits
 * in 64 bits, and a root that is strict base64 of exactly 32 bytes.
 *
 * A yima log's key name is its origin (C2SP: "SHOULD match the origin
 * line"): checkpoint_sign refuses a signer named otherwise, and
 * checkpoint_open checks the origin against the one expected (by default
 * the key's name), so a checkpoint of one log is never taken for
 * another's.
 */
#ifndef YIMA_CORE_CHECKPOINT_H
#define YIMA_CORE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "yima/tlog/merkle.h"
#include "yima/tlog/note.h"

#define CHECKPOINT_ORIGIN_MAX NOTE_NAME_MAX
/* origin, size (20 digits), root (44 characters), three newlines */
#define CHECKPOINT_BODY_MAX (CHECKPOINT_ORIGIN_MAX + 1 + 20 + 1 + 44 + 1)

typedef struct checkpoint {
	char origin[CHECKPOINT_ORIGIN_MAX + 1];	/* NUL-terminated */
	uint64_t size;
	uint8_t root[MERKLE_HASH_SIZE];
	/* Extension lines, each ending in a newline: opaque, not recommended
	 * by C2SP, and never written by yima.  From checkpoint_parse and
	 * checkpoint_open they point into the parsed text (valid while it
	 * lives); ext is NULL when extlen is 0. */
	const char *ext;
	size_t extlen;
} checkpoint_t;

/*
 * Write the checkpoint text into out (capacity cap, NUL-terminated;
 * CHECKPOINT_BODY_MAX + extlen + 1 is always enough) and its length into
 * *len (may be NULL).  Returns 0, YIMA_EINVAL (an empty or invalid origin,
 * or bad extension lines, with why) or YIMA_ETOOBIG (cap too small).
 */
int checkpoint_format(const checkpoint_t *cp, char *out, size_t cap, size_t *len,
	char *why, size_t whylen);

/*
 * Parse a checkpoint text (len bytes: a note's text, ending in its
 * newline) into *cp.  Returns 0, YIMA_EFORMAT or YIMA_ETOOBIG (an origin
 * over CHECKPOINT_ORIGIN_MAX bytes), with why naming the line.
 */
int checkpoint_parse(const char *text, size_t len, checkpoint_t *cp,
	char *why, size_t whylen);

/*
 * Format cp and sign it with s, whose name must be cp->origin (else
 * YIMA_EINVAL).  On success *out is a malloc'd NUL-terminated signed note
 * of *outlen bytes, the caller's to free.  Returns as checkpoint_format
 * and note_sign.
 */
int checkpoint_sign(const note_signer_t *s, const checkpoint_t *cp, char **out,
	size_t *outlen, char *why, size_t whylen);

/*
 * Verify a signed checkpoint (note_open against v) and parse its text into
 * *cp (ext pointing into note).  origin is the log the caller expects;
 * NULL means v's key name, as for every yima log (other logs may differ:
 * Go's checksum database signs "go.sum database tree" as sum.golang.org).
 * Returns 0, the errors of note_open and checkpoint_parse, or
 * YIMA_EMISMATCH when the origin is not the one expected.
 */
int checkpoint_open(const note_verifier_t *v, const char *origin, const char *note,
	size_t len, checkpoint_t *cp, char *why, size_t whylen);

/* A yima log's default origin (spec section 8): "yima.<hostname>", with
 * any byte a key name may not hold (space, control, '+', non-ASCII)
 * written as '-'. */
void checkpoint_default_origin(char out[CHECKPOINT_ORIGIN_MAX + 1]);

/*
 * Verify the signed checkpoint note (len bytes) against the verifier key
 * vkey (vlen bytes) and require it to be of the tree of `size` leaves
 * with root `root` (NULL: any root).  The one-call check of an auditor or
 * a client holding only the vkey.  Returns 0, YIMA_EFORMAT (a malformed
 * vkey or note), YIMA_EMISMATCH (signature, origin, size or root), with
 * why saying which, or YIMA_ECRYPTO / YIMA_ENOMEM.
 */
int checkpoint_check(const char *vkey, size_t vlen, const char *note, size_t len,
	uint64_t size, const uint8_t *root, char *why, size_t whylen);

#endif
