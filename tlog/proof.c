/*
 * proof.c - proofs as JSON and their check against a checkpoint's tree
 * head (see yima/tlog/proof.h).
 */
#include <inttypes.h>
#include <string.h>

#include "yima/tlog/proof.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"
#include "yima/util/json_read.h"

void log_proof_json(buf_t *b, const log_proof_t *p)
{
	buf_printf(b, "{\"size\":%" PRIu64 ",\"%s\":%" PRIu64 ",\"root\":\"", p->size,
		   p->consistency ? "old_size" : "index", p->from);
	hex_put(b, p->root, MERKLE_HASH_SIZE);
	buf_puts(b, "\",\"proof\":[");
	for (size_t i = 0; i < p->n; i++) {
		buf_puts(b, i ? ",\"" : "\"");
		hex_put(b, p->hash[i], MERKLE_HASH_SIZE);
		buf_putc(b, '"');
	}
	buf_puts(b, "]}");
}

static int hash_of(const json_value_t *v, uint8_t out[MERKLE_HASH_SIZE])
{
	if (v == NULL || v->kind != JSON_STR || v->slen != 2 * MERKLE_HASH_SIZE)
		return -1;
	return hex_decode(v->s, v->slen, out, MERKLE_HASH_SIZE);
}

static int proof_fields(const json_value_t *j, log_proof_t *p, char *why, size_t whylen)
{
	const json_value_t *size = json_member(j, "size"), *idx = json_member(j, "index");
	const json_value_t *old = json_member(j, "old_size"), *list = json_member(j, "proof");

	if (size == NULL || size->kind != JSON_NUM || !size->is_u64)
		return yima_fail(why, whylen, YIMA_EFORMAT, "proof: no \"size\"");
	if ((idx == NULL) == (old == NULL))
		return yima_fail(why, whylen, YIMA_EFORMAT, "proof: needs one of \"index\" and \"old_size\"");
	p->consistency = old != NULL;
	if (!p->consistency)
		old = idx;
	if (old->kind != JSON_NUM || !old->is_u64)
		return yima_fail(why, whylen, YIMA_EFORMAT, "proof: \"%s\" is not a number",
				 p->consistency ? "old_size" : "index");
	p->size = size->u64;
	p->from = old->u64;
	if (hash_of(json_member(j, "root"), p->root) < 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "proof: \"root\" is not 64 hex digits");
	if (list == NULL || list->kind != JSON_ARR || list->n > MERKLE_MAX_PROOF)
		return yima_fail(why, whylen, YIMA_EFORMAT, "proof: \"proof\" is not a list of at most 64 hashes");
	for (p->n = 0; p->n < list->n; p->n++)
		if (hash_of(&list->items[p->n], p->hash[p->n]) < 0)
			return yima_fail(why, whylen, YIMA_EFORMAT, "proof: hash %zu is not 64 hex digits", p->n);
	return 0;
}

int log_proof_parse(const char *text, size_t len, log_proof_t *p, char *why, size_t whylen)
{
	json_value_t *j;
	int rc = json_read(text, len, &j, why, whylen);

	memset(p, 0, sizeof *p);
	if (rc < 0)
		return rc;
	rc = j->kind == JSON_OBJ ? proof_fields(j, p, why, whylen)
				 : yima_fail(why, whylen, YIMA_EFORMAT, "proof: not a JSON object");
	json_value_free(j);
	return rc;
}

static int same_head(const log_proof_t *p, uint64_t size, const uint8_t root[MERKLE_HASH_SIZE],
		     char *why, size_t whylen)
{
	if (p->size != size)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the proof is for size %" PRIu64
				 ", the checkpoint's size is %" PRIu64, p->size, size);
	if (memcmp(p->root, root, MERKLE_HASH_SIZE) != 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the proof's root is not the checkpoint's");
	return 0;
}

int log_proof_check_inclusion(const log_proof_t *p, uint64_t size, const uint8_t root[MERKLE_HASH_SIZE],
	const void *entry, size_t len, char *why, size_t whylen)
{
	uint8_t leaf[MERKLE_HASH_SIZE];
	int rc;
	if (p->consistency)
		return yima_fail(why, whylen, YIMA_EINVAL, "a consistency proof, not an inclusion proof");
	if ((rc = same_head(p, size, root, why, whylen)) < 0 || (rc = merkle_leaf_hash(entry, len, leaf)) < 0)
		return rc;
	rc = merkle_verify_inclusion(leaf, p->from, size, (const merkle_hash_t *)p->hash, p->n, root, why,
				     whylen);
	return rc == YIMA_EINVAL ? YIMA_EMISMATCH : rc;
}

int log_proof_check_consistency(const log_proof_t *p, uint64_t old_size,
	const uint8_t old_root[MERKLE_HASH_SIZE], uint64_t size, const uint8_t root[MERKLE_HASH_SIZE],
	char *why, size_t whylen)
{
	int rc;
	if (!p->consistency)
		return yima_fail(why, whylen, YIMA_EINVAL, "an inclusion proof, not a consistency proof");
	if ((rc = same_head(p, size, root, why, whylen)) < 0)
		return rc;
	if (p->from != old_size)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the proof is from size %" PRIu64
				 ", the old checkpoint's size is %" PRIu64, p->from, old_size);
	rc = merkle_verify_consistency(old_size, size, (const merkle_hash_t *)p->hash, p->n, old_root, root,
				       why, whylen);
	return rc == YIMA_EINVAL ? YIMA_EMISMATCH : rc;
}
