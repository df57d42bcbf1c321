/*
 * json_read.c - a strict recursive-descent JSON reader (see
 * yima/util/json_read.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/util/json_read.h"

struct jr {
	const char *p, *start, *end;
	int depth;
	char *why;
	size_t whylen;
};

static int jr_fail(struct jr *r, const char *what)
{
	return yima_fail(r->why, r->whylen, YIMA_EFORMAT, "JSON: %s at byte %zu", what,
			 (size_t)(r->p - r->start));
}

static void jr_space(struct jr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int jr_value(struct jr *r, json_value_t *v);

static int jr_hex4(struct jr *r, unsigned *out)
{
	*out = 0;
	if (r->end - r->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *r->p++;
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
		if (d > 15)
			return -1;
		*out = *out * 16 + d;
	}
	return 0;
}

static void jr_utf8(buf_t *b, unsigned cp)
{
	if (cp < 0x80) {
		buf_putc(b, (uint8_t)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (uint8_t)(0xc0 | cp >> 6));
		buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (uint8_t)(0xe0 | cp >> 12));
		buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (uint8_t)(0xf0 | cp >> 18));
		buf_putc(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
		buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

/* \uXXXX, with a surrogate pair as one code point. */
static int jr_unicode(struct jr *r, buf_t *b)
{
	unsigned cp, lo;
	if (jr_hex4(r, &cp) < 0)
		return jr_fail(r, "bad \\u escape");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jr_fail(r, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return jr_fail(r, "lone high surrogate");
		r->p += 2;
		if (jr_hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return jr_fail(r, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	jr_utf8(b, cp);
	return 0;
}

static int jr_string(struct jr *r, char **out, size_t *outlen)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	buf_t b;
	int rc = 0;

	buf_init(&b);
	r->p++;		/* the opening quote */
	while (rc == 0) {
		if (r->p >= r->end) {
			rc = jr_fail(r, "unterminated string");
			break;
		}
		unsigned char c = (unsigned char)*r->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			rc = jr_fail(r, "control character in a string");
		} else if (c != '\\') {
			buf_putc(&b, c);
		} else if (r->p < r->end && *r->p == 'u') {
			r->p++;
			rc = jr_unicode(r, &b);
		} else {
			const char *e = r->p < r->end ? memchr(esc, *r->p, sizeof esc - 1) : NULL;
			if (e == NULL || (e - esc) % 2 != 0)
				rc = jr_fail(r, "bad escape");
			else
				buf_putc(&b, (uint8_t)e[1]);
			r->p++;
		}
	}
	buf_putc(&b, '\0');
	if (rc == 0 && b.oom)
		rc = YIMA_ENOMEM;
	if (rc < 0) {
		buf_deinit(&b);
		return rc;
	}
	*outlen = b.len - 1;
	*out = (char *)b.p;	/* the buffer's bytes are ours now */
	return 0;
}

static int jr_number(struct jr *r, json_value_t *v)
{
	bool whole = true;
	uint64_t n = 0;

	v->kind = JSON_NUM;
	if (r->p < r->end && *r->p == '-') {
		whole = false;
		r->p++;
	}
	if (r->p >= r->end || *r->p < '0' || *r->p > '9' || (*r->p == '0' && r->end - r->p > 1 &&
							     r->p[1] >= '0' && r->p[1] <= '9'))
		return jr_fail(r, "bad number");
	for (; r->p < r->end && *r->p >= '0' && *r->p <= '9'; r->p++) {
		unsigned d = (unsigned)(*r->p - '0');
		if (n > (UINT64_MAX - d) / 10)
			whole = false;
		n = n * 10 + d;
	}
	if (r->p < r->end && *r->p == '.') {
		whole = false;
		if (++r->p >= r->end || *r->p < '0' || *r->p > '9')
			return jr_fail(r, "bad fraction");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		whole = false;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return jr_fail(r, "bad exponent");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	v->is_u64 = whole;
	v->u64 = whole ? n : 0;
	return 0;
}

/* Members of an array or object, grown by doubling. */
static int jr_push(json_value_t *v, size_t *cap, bool obj)
{
	if (v->n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 4;
	json_value_t *items = realloc(v->items, nc * sizeof *items);
	if (items == NULL)
		return YIMA_ENOMEM;
	v->items = items;
	if (obj) {
		char **keys = realloc(v->keys, nc * sizeof *keys);
		if (keys == NULL)
			return YIMA_ENOMEM;
		v->keys = keys;
	}
	*cap = nc;
	return 0;
}

static int jr_members(struct jr *r, json_value_t *v, bool obj)
{
	size_t cap = 0, klen;
	char close = obj ? '}' : ']';
	int rc;

	v->kind = obj ? JSON_OBJ : JSON_ARR;
	if (++r->depth > JSON_READ_DEPTH)
		return jr_fail(r, "nested too deep");
	r->p++;
	jr_space(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return 0;
	}
	for (;;) {
		if ((rc = jr_push(v, &cap, obj)) < 0)
			return rc;
		memset(&v->items[v->n], 0, sizeof v->items[v->n]);
		if (obj) {
			jr_space(r);
			if (r->p >= r->end || *r->p != '"')
				return jr_fail(r, "expected a key");
			if ((rc = jr_string(r, &v->keys[v->n], &klen)) < 0)
				return rc;
			jr_space(r);
			if (r->p >= r->end || *r->p++ != ':') {
				v->n++;	/* the key is freed with the rest */
				return jr_fail(r, "expected ':'");
			}
		}
		rc = jr_value(r, &v->items[v->n]);
		v->n++;
		if (rc < 0)
			return rc;
		jr_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			r->depth--;
			return 0;
		}
		return jr_fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int jr_word(struct jr *r, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return jr_fail(r, "unexpected character");
	r->p += n;
	return 0;
}

static int jr_value(struct jr *r, json_value_t *v)
{
	jr_space(r);
	if (r->p >= r->end)
		return jr_fail(r, "unexpected end");
	switch (*r->p) {
	case '{': return jr_members(r, v, true);
	case '[': return jr_members(r, v, false);
	case '"': v->kind = JSON_STR; return jr_string(r, &v->s, &v->slen);
	case 't': v->kind = JSON_BOOL; v->b = true; return jr_word(r, "true");
	case 'f': v->kind = JSON_BOOL; return jr_word(r, "false");
	case 'n': v->kind = JSON_NULL; return jr_word(r, "null");
	default: return jr_number(r, v);
	}
}

static void jr_free_members(json_value_t *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jr_free_members(&v->items[i]);
		if (v->kind == JSON_OBJ)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
}

void json_value_free(json_value_t *v)
{
	if (v == NULL)
		return;
	jr_free_members(v);
	free(v);
}

int json_read(const char *text, size_t len, json_value_t **out, char *why, size_t whylen)
{
	struct jr r = { text, text, text + len, 0, why, whylen };
	json_value_t *v = calloc(1, sizeof *v);
	int rc;

	*out = NULL;
	if (v == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	rc = jr_value(&r, v);
	if (rc == 0) {
		jr_space(&r);
		if (r.p != r.end)
			rc = jr_fail(&r, "text after the value");
	}
	if (rc < 0) {
		json_value_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

const json_value_t *json_member(const json_value_t *v, const char *key)
{
	if (v == NULL || v->kind != JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}
