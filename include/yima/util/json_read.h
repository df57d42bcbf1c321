/*
 * json_read.h - a small, strict JSON reader (RFC 8259) for the documents
 * yima reads back: proofs printed by `yima log prove`, the evidence a
 * report embeds, a client's saved checkpoint state.  A tree of values;
 * strings decoded to UTF-8 (\u escapes and surrogate pairs), numbers kept
 * as non-negative integers when they are (the only numbers yima writes).
 * Bounded: at most JSON_READ_DEPTH levels of nesting.
 */
#ifndef YIMA_UTIL_JSON_READ_H
#define YIMA_UTIL_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_READ_DEPTH 32

enum json_kind { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

typedef struct json_value {
	enum json_kind kind;
	bool b;				/* JSON_BOOL */
	bool is_u64;			/* JSON_NUM: a whole number in 0..2^64-1 */
	uint64_t u64;
	char *s;			/* JSON_STR: NUL-terminated (may hold NULs) */
	size_t slen;
	size_t n;			/* JSON_ARR / JSON_OBJ: members */
	struct json_value *items;	/* n values */
	char **keys;			/* JSON_OBJ: n keys, NUL-terminated */
} json_value_t;

/*
 * Parse text[0..len) (one value, white space around it allowed).  On
 * success *out is the caller's (json_value_free).  Returns 0, YIMA_EFORMAT
 * with why naming the byte offset, or YIMA_ENOMEM.
 */
int json_read(const char *text, size_t len, json_value_t **out, char *why, size_t whylen);
void json_value_free(json_value_t *v);

/* The member key of object v (the first one), or NULL (also when v is not
 * an object). */
const json_value_t *json_member(const json_value_t *v, const char *key);

#endif
