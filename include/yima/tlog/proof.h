/*
 * proof.h - inclusion and consistency proofs as the JSON `yima log prove`
 * prints and `yima log verify` reads (spec section 8):
 *
 *   {"size":N,"index":I,"root":"<hex>","proof":["<hex>",...]}
 *   {"size":N,"old_size":M,"root":"<hex>","proof":["<hex>",...]}
 *
 * root is the tree's root at size N; hashes are lowercase hex, leaf first.
 */
#ifndef YIMA_TLOG_PROOF_H
#define YIMA_TLOG_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/tlog/merkle.h"

struct buf;

typedef struct log_proof {
	bool consistency;		/* else inclusion */
	uint64_t size;
	uint64_t from;			/* index, or old_size */
	uint8_t root[MERKLE_HASH_SIZE];
	size_t n;
	merkle_hash_t hash[MERKLE_MAX_PROOF];
} log_proof_t;

/* Append p as one JSON object (no newline). */
void log_proof_json(struct buf *b, const log_proof_t *p);

/* Read one from JSON text.  Returns 0 or YIMA_EFORMAT with why (what is
 * missing or malformed), YIMA_ENOMEM. */
int log_proof_parse(const char *text, size_t len, log_proof_t *p, char *why, size_t whylen);

/*
 * Check p against the signed tree head it claims (size and root, from a
 * verified checkpoint): an inclusion proof for an entry of len bytes, or
 * a consistency proof from the tree (old_size, old_root).  Returns 0,
 * YIMA_EMISMATCH with why (another size or root, or a proof that does not
 * verify), YIMA_EINVAL or YIMA_ECRYPTO.
 */
int log_proof_check_inclusion(const log_proof_t *p, uint64_t size, const uint8_t root[MERKLE_HASH_SIZE],
	const void *entry, size_t len, char *why, size_t whylen);
int log_proof_check_consistency(const log_proof_t *p, uint64_t old_size,
	const uint8_t old_root[MERKLE_HASH_SIZE], uint64_t size, const uint8_t root[MERKLE_HASH_SIZE],
	char *why, size_t whylen);

#endif
