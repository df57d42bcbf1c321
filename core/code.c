/*
 * code.c - trace code normalization (spec section 1).
 *
 * Scanners deliver one physical pack in many byte forms; code_normalize()
 * cleans the raw bytes (AIM prefix, full-width ASCII, surrounding
 * whitespace, control bytes) and then reads the result as a national
 * 20-digit code or as a GS1 element string, raw ("01...21...<GS>...") or
 * printed ("(01)...(21)..."), giving the canonical identity the ledger is
 * keyed by and the attributes (expiry, batch) the findings need.
 *
 * It runs once per event on the ingest hot path: no allocation, one pass
 * per stage, the GS1 AI table (gs1_ai.c) looked up by two-digit prefix.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "yima/core/code.h"
#include "yima/util/error.h"
#include "gs1_ai.h"

#define CODE_GS 0x1d		/* FNC1 as scanners transmit it */

/*
 * The cleaned code is copied to the stack.  8192 bytes is more than the
 * largest symbol holds (QR Code version 40: 7089 digits; GS1 DataMatrix:
 * 3116), so any longer string cannot be a scanned code.
 */
#define CODE_CLEAN_MAX 8192

#define CODE_DIGITS20_LEN 20
#define CODE_DIGITS20_PRODUCT 7
#define CODE_GTIN_LEN 14
#define CODE_SERIAL_MAX 20

_Static_assert(CODE_CANON_MAX >= 2 + CODE_GTIN_LEN + 2 + CODE_SERIAL_MAX,
	       "canonical buffer too small");
_Static_assert(CODE_PRODUCT_MAX >= CODE_GTIN_LEN, "product buffer too small");
_Static_assert(CODE_BATCH_MAX >= 20, "batch buffer too small");

/* What the GS1 parse keeps while it walks the elements. */
struct code_gs1 {
	const char *gtin;		/* AI 01, CODE_GTIN_LEN digits */
	const char *serial;		/* AI 21 */
	size_t serial_len;
	const char *batch;		/* AI 10 */
	size_t batch_len;
	bool has_expiry;		/* AI 17 */
	unsigned exp_year, exp_month, exp_day;
	uint64_t seen[(CODE_GS1_SLOTS + 63) / 64];	/* AIs met so far */
};

/* A GS1 element being checked: its AI and where its data lies in s. */
struct code_elem {
	const struct code_gs1_ai *e;
	unsigned ai;
	int ailen;
	size_t aipos;			/* 0-based index of the AI in s */
	size_t v, vlen;			/* data field s[v .. v + vlen) */
};

static bool code_isdigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool code_isalpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The ASCII whitespace of spec section 1: space, TAB, LF, VT, FF, CR. */
static bool code_isspace(unsigned char c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

/* GS1 character set 82: ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z */
static bool code_isset82(unsigned char c)
{
	return c == '!' || c == '"' || (c >= '%' && c <= '?') ||
	       (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z');
}

/* GS1 character set 39: # - / 0-9 A-Z */
static bool code_isset39(unsigned char c)
{
	return c == '#' || c == '-' || c == '/' || code_isdigit(c) ||
	       (c >= 'A' && c <= 'Z');
}

/* base64url (AI 8030); '=' padding is accepted too. */
static bool code_isbase64url(unsigned char c)
{
	return code_isalpha(c) || code_isdigit(c) || c == '-' || c == '_' ||
	       c == '=';
}

static bool code_incset(unsigned cset, unsigned char c)
{
	switch (cset) {
	case CODE_CSET_N:	return code_isdigit(c);
	case CODE_CSET_X:	return code_isset82(c);
	case CODE_CSET_Y:	return code_isset39(c);
	default:		return code_isbase64url(c);
	}
}

static const char *code_csetname(unsigned cset)
{
	switch (cset) {
	case CODE_CSET_N:	return "a digit";
	case CODE_CSET_X:	return "in GS1 character set 82";
	case CODE_CSET_Y:	return "in GS1 character set 39";
	default:		return "base64url";
	}
}

/* "'X'" for a printable character, "byte 0xNN" otherwise, for reasons. */
static const char *code_chardesc(unsigned char c, char buf[16])
{
	if (c == ' ') {
		memcpy(buf, "space", 6);
	} else if (c > 0x20 && c < 0x7f) {
		buf[0] = '\'';
		buf[1] = (char)c;
		buf[2] = '\'';
		buf[3] = '\0';
	} else {
		static const char hex[] = "0123456789ABCDEF";
		memcpy(buf, "byte 0x", 7);
		buf[7] = hex[c >> 4];
		buf[8] = hex[c & 15];
		buf[9] = '\0';
	}
	return buf;
}

/* U+FF01..U+FF5E (EF BC 81..EF BD 9E) -> ASCII 0x21..0x7E, else 0. */
static unsigned char code_fullwidth(unsigned char b1, unsigned char b2)
{
	if (b1 == 0xbc && b2 >= 0x81 && b2 <= 0xbf)
		return (unsigned char)(b2 - 0x60);	/* FF01 -> 0x21 */
	if (b1 == 0xbd && b2 >= 0x80 && b2 <= 0x9e)
		return (unsigned char)(b2 - 0x20);	/* FF40 -> 0x60 */
	return 0;
}

/*
 * Cleaning, spec section 1, in its order: the AIM identifier is looked for
 * in the first three raw bytes only; whitespace is trimmed on the raw
 * bytes, which gives the same result as trimming after the full-width
 * mapping since that mapping neither consumes nor produces whitespace.
 * Other bytes >= 0x80 stay as they are and fail later as "not in the set".
 */
static int code_clean(const char *raw, size_t len, char *buf, size_t *n,
		      char *why, size_t whylen)
{
	const unsigned char *p = (const unsigned char *)(len ? raw : "");	/* raw may be NULL */
	const unsigned char *end = p + len;
	char cb[16];
	size_t o = 0;

	if (len >= 3 && p[0] == ']' && code_isalpha(p[1]) && code_isdigit(p[2]))
		p += 3;
	while (p < end && code_isspace(*p))
		p++;
	while (end > p && code_isspace(end[-1]))
		end--;
	while (p < end) {
		unsigned char c = *p++;
		unsigned char a;

		if (c == 0xef && end - p >= 2 &&
		    (a = code_fullwidth(p[0], p[1])) != 0) {
			c = a;
			p += 2;
		}
		if ((c < 0x20 && c != CODE_GS) || c == 0x7f)
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "control %s at character %zu",
					 code_chardesc(c, cb), o + 1);
		if (o == CODE_CLEAN_MAX)
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "longer than %d characters",
					 CODE_CLEAN_MAX);
		buf[o++] = (char)c;
	}
	if (o == 0)
		return yima_fail(why, whylen, YIMA_EMALFORMED, "empty code");
	*n = o;
	return 0;
}

/*
 * 20-digit: exactly 20 digits once interior spaces are removed.  Returns
 * true and fills out when s is one; else sets *bad to the 0-based index of
 * the first byte that is neither digit nor space (n if none) and *ndigits.
 */
static bool code_digits20(const char *s, size_t n, code_t *out, size_t *bad,
			  size_t *ndigits)
{
	size_t nd = 0;

	*bad = n;
	for (size_t i = 0; i < n; i++) {
		if (code_isdigit((unsigned char)s[i])) {
			if (nd < CODE_DIGITS20_LEN)
				out->canon[nd] = s[i];
			nd++;
		} else if (s[i] != ' ') {
			*bad = i;
			break;
		}
	}
	*ndigits = nd;
	if (*bad != n || nd != CODE_DIGITS20_LEN)
		return false;
	out->kind = CODE_DIGITS20;
	out->canon[nd] = '\0';
	out->canon_len = nd;
	memcpy(out->product, out->canon, CODE_DIGITS20_PRODUCT);
	out->product[CODE_DIGITS20_PRODUCT] = '\0';
	out->product_len = CODE_DIGITS20_PRODUCT;
	return true;
}

static unsigned code_days_in_month(unsigned year, unsigned month)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : dim[month - 1];
}

static unsigned code_num(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/*
 * A date part of a GS1 field (digits already checked).  YY is 20YY, as
 * spec section 1 fixes for AI 17: a pure function has no clock for the
 * GS1 sliding century.  On success *y, *m, *d hold the date, with day 00
 * (YYMMD0 only) resolved to the last day of the month.
 */
static bool code_date(const char *s, unsigned lint, unsigned *y, unsigned *m,
		      unsigned *d)
{
	size_t yl = lint == CODE_LINT_YYYYMMDD ? 4 : 2;

	*y = code_num(s, yl) + (yl == 2 ? 2000 : 0);
	*m = code_num(s + yl, 2);
	*d = code_num(s + yl + 2, 2);
	if (*m < 1 || *m > 12)
		return false;
	if (*d == 0 && lint == CODE_LINT_YYMMD0)
		*d = code_days_in_month(*y, *m);
	return *d >= 1 && *d <= code_days_in_month(*y, *m);
}

/* Smallest and largest data length an AI allows. */
static void code_field_bounds(const struct code_gs1_ai *e, size_t *lo,
			      size_t *hi)
{
	*lo = *hi = 0;
	for (int c = 0; c < CODE_GS1_MAXCOMP && e->comp[c].max; c++) {
		if (!e->comp[c].optional)
			*lo += e->comp[c].min;
		*hi += e->comp[c].max;
	}
}

static int code_field_length(const struct code_elem *el, char *why,
			     size_t whylen)
{
	size_t lo, hi;

	code_field_bounds(el->e, &lo, &hi);
	if (el->vlen > hi)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: AI %0*u too long: %zu characters, "
				 "at most %zu (character %zu)", el->ailen,
				 el->ai, el->vlen, hi, el->v + 1);
	if (el->vlen < lo)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: AI %0*u too short: %zu characters, "
				 "expected %s%zu (character %zu)", el->ailen,
				 el->ai, el->vlen, lo == hi ? "" : "at least ",
				 lo, el->v + 1);
	return yima_fail(why, whylen, YIMA_EMALFORMED,
			 "GS1: AI %0*u: %zu characters is not a valid "
			 "length (character %zu)", el->ailen, el->ai,
			 el->vlen, el->v + 1);
}

/* One part of a data field: character set, then date. */
static int code_field_part(const struct code_elem *el,
			   const struct code_gs1_comp *p, const char *s,
			   size_t at, size_t take, char *why, size_t whylen)
{
	char cb[16];
	unsigned y, m, d;

	for (size_t i = at; i < at + take; i++) {
		if (!code_incset(p->cset, (unsigned char)s[i]))
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "GS1: AI %0*u: %s at character %zu "
					 "is not %s", el->ailen, el->ai,
					 code_chardesc((unsigned char)s[i], cb),
					 i + 1, code_csetname(p->cset));
	}
	/* Only AI 17's date is read (expiry); a skipped AI's date part is
	 * checked for length and character set only, as the spec says. */
	if (p->lint != CODE_LINT_NONE && el->ai == 17 && el->ailen == 2 &&
	    !code_date(s + at, p->lint, &y, &m, &d))
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: AI %0*u date %.*s does not exist "
				 "(character %zu)", el->ailen, el->ai,
				 (int)take, s + at, at + 1);
	return 0;
}

/*
 * A data field against its AI's parts: length and character set for every
 * AI (spec: skipped AIs are checked for length and character set only),
 * plus the date check of AI 17, the one date kept (an impossible expiry
 * date is an error).
 */
static int code_field_check(const struct code_elem *el, const char *s,
			    char *why, size_t whylen)
{
	size_t off = 0;
	int rc;

	if (el->vlen == 0)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: AI %0*u is empty (character %zu)",
				 el->ailen, el->ai, el->v + 1);
	for (int c = 0; c < CODE_GS1_MAXCOMP && el->e->comp[c].max; c++) {
		const struct code_gs1_comp *p = &el->e->comp[c];
		size_t rem = el->vlen - off;
		size_t take = p->min == p->max ? p->min : rem;

		if (rem == 0 && p->optional)
			break;
		if (take > rem || take < p->min || take > p->max)
			return code_field_length(el, why, whylen);
		if ((rc = code_field_part(el, p, s, el->v + off, take, why,
					  whylen)) < 0)
			return rc;
		off += take;
	}
	if (off < el->vlen)
		return code_field_length(el, why, whylen);
	return 0;
}

/* GS1 mod-10: weights 3, 1, 3, ... from the digit next to the check digit. */
static char code_gtin_check(const char *g)
{
	unsigned sum = 0;

	for (int i = 0; i < CODE_GTIN_LEN - 1; i++)
		sum += (unsigned)(g[i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (char)('0' + (10 - sum % 10) % 10);
}

/* Check one element and keep what spec section 1 keeps of it. */
static int code_gs1_element(struct code_gs1 *g, const struct code_elem *el,
			    const char *s, char *why, size_t whylen)
{
	size_t slot = code_gs1_ai_slot(el->e, el->ai);
	const char *v = s + el->v;
	int rc;

	if (g->seen[slot / 64] & (UINT64_C(1) << (slot % 64)))
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: AI %0*u repeated (character %zu)",
				 el->ailen, el->ai, el->aipos + 1);
	g->seen[slot / 64] |= UINT64_C(1) << (slot % 64);
	if ((rc = code_field_check(el, s, why, whylen)) < 0)
		return rc;
	/* AIs are prefix-free, so 1, 10, 17, 21 can only be 01, 10, 17, 21. */
	switch (el->ai) {
	case 1:
		if (v[CODE_GTIN_LEN - 1] != code_gtin_check(v))
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "GS1: AI 01 check digit %c should be "
					 "%c (character %zu)",
					 v[CODE_GTIN_LEN - 1],
					 code_gtin_check(v),
					 el->v + CODE_GTIN_LEN);
		g->gtin = v;
		break;
	case 10:
		g->batch = v;
		g->batch_len = el->vlen;
		break;
	case 17:
		g->has_expiry = true;
		code_date(v, CODE_LINT_YYMMD0, &g->exp_year, &g->exp_month,
			  &g->exp_day);
		break;
	case 21:
		g->serial = v;
		g->serial_len = el->vlen;
		break;
	}
	return 0;
}

/* Why s[i..] does not start with an assigned AI (raw element string). */
static int code_gs1_bad_ai(const char *s, size_t n, size_t i, size_t k,
			   size_t ailen, char *why, size_t whylen)
{
	char cb[16];

	if (k >= ailen)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: unknown AI %.*s (character %zu)",
				 (int)ailen, s + i, i + 1);
	if (i + k == n)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: code ends inside an AI (character %zu)",
				 i + 1);
	return yima_fail(why, whylen, YIMA_EMALFORMED,
			 "GS1: expected an AI digit at character %zu, found %s",
			 i + k + 1, code_chardesc((unsigned char)s[i + k], cb));
}

/*
 * Raw element string: AIs back to back.  A predefined-length field takes
 * its length; any other field runs to the next GS or the end.  A leading
 * GS (FNC1) is ignored; a GS after a predefined-length field is tolerated
 * (encoders emit it), as is one trailing GS; two GS in a row are an error.
 */
static int code_gs1_raw(struct code_gs1 *g, const char *s, size_t n,
			char *why, size_t whylen)
{
	size_t i = 0;
	int rc;

	if (s[0] == CODE_GS)
		i++;
	while (i < n) {
		struct code_elem el;
		size_t k = 0, ailen, lo, hi;

		if (s[i] == CODE_GS)
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "GS1: doubled GS at character %zu",
					 i + 1);
		while (k < 4 && i + k < n &&
		       code_isdigit((unsigned char)s[i + k]))
			k++;
		el.e = code_gs1_ai_find(s + i, k, &el.ai, &ailen);
		if (el.e == NULL)
			return code_gs1_bad_ai(s, n, i, k, ailen, why, whylen);
		el.ailen = (int)ailen;
		el.aipos = i;
		el.v = i + ailen;
		el.vlen = 0;
		if (el.e->fixed) {
			code_field_bounds(el.e, &lo, &hi);
			el.vlen = el.v + hi <= n ? hi : n - el.v;
		} else {
			while (el.v + el.vlen < n &&
			       s[el.v + el.vlen] != CODE_GS)
				el.vlen++;
		}
		if ((rc = code_gs1_element(g, &el, s, why, whylen)) < 0)
			return rc;
		i = el.v + el.vlen;
		if (i < n && s[i] == CODE_GS)
			i++;
	}
	return 0;
}

/*
 * Printed form: "(AI)value" repeated; parentheses only delimit AIs and a
 * value runs to the next '(' or the end.  Spaces are errors anywhere.
 */
static int code_gs1_printed(struct code_gs1 *g, const char *s, size_t n,
			    char *why, size_t whylen)
{
	const char *sp = memchr(s, ' ', n);
	size_t i = 0;
	int rc;

	if (sp != NULL)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: space in printed form at character %zu",
				 (size_t)(sp - s) + 1);
	while (i < n) {		/* s[i] == '(' here */
		struct code_elem el;
		size_t a = i + 1, k = 0, ailen;

		while (k < 5 && a + k < n &&
		       code_isdigit((unsigned char)s[a + k]))
			k++;
		if (k < 2 || k > 4 || a + k == n || s[a + k] != ')')
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "GS1: expected '(' with a 2-4 digit AI"
					 " and ')' at character %zu", i + 1);
		el.e = code_gs1_ai_find(s + a, k, &el.ai, &ailen);
		if (el.e == NULL || ailen != k)
			return yima_fail(why, whylen, YIMA_EMALFORMED,
					 "GS1: unknown AI %.*s (character %zu)",
					 (int)k, s + a, a + 1);
		el.ailen = (int)ailen;
		el.aipos = a;
		el.v = a + k + 1;
		el.vlen = 0;
		while (el.v + el.vlen < n && s[el.v + el.vlen] != '(')
			el.vlen++;
		if ((rc = code_gs1_element(g, &el, s, why, whylen)) < 0)
			return rc;
		i = el.v + el.vlen;
	}
	return 0;
}

static int code_gs1(const char *s, size_t n, code_t *out, char *why,
		    size_t whylen)
{
	struct code_gs1 g;
	size_t o = 0;
	int rc;

	memset(&g, 0, sizeof g);
	rc = s[0] == '(' ? code_gs1_printed(&g, s, n, why, whylen)
			 : code_gs1_raw(&g, s, n, why, whylen);
	if (rc < 0)
		return rc;
	if (g.gtin == NULL)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: missing AI 01 (GTIN)");
	if (g.serial == NULL)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "GS1: missing AI 21 (serial)");
	out->kind = CODE_GS1;
	memcpy(out->canon + o, "01", 2);
	o += 2;
	memcpy(out->canon + o, g.gtin, CODE_GTIN_LEN);
	o += CODE_GTIN_LEN;
	memcpy(out->canon + o, "21", 2);
	o += 2;
	/* The table bounds AI 21 and AI 10 to 20 characters (X..20). */
	memcpy(out->canon + o, g.serial, g.serial_len);
	o += g.serial_len;
	out->canon[o] = '\0';
	out->canon_len = o;
	memcpy(out->product, g.gtin, CODE_GTIN_LEN);
	out->product[CODE_GTIN_LEN] = '\0';
	out->product_len = CODE_GTIN_LEN;
	out->has_expiry = g.has_expiry;
	out->exp_year = (uint16_t)g.exp_year;
	out->exp_month = (uint8_t)g.exp_month;
	out->exp_day = (uint8_t)g.exp_day;
	memcpy(out->batch, g.batch == NULL ? "" : g.batch, g.batch_len);
	out->batch[g.batch_len] = '\0';
	out->batch_len = g.batch_len;
	return 0;
}

/*
 * Neither reading worked: which reason helps the person at the counter?
 * The GS1 one when the string is meant as GS1: printed form, any GS, or
 * starting with AI 01, the GTIN every GS1 drug code carries first (unless
 * it is digits and spaces, a spaced 20-digit code).  The 20-digit one
 * otherwise: "845426148508438476907" is a mistyped 20-digit code, not
 * AI 84, and "8112590178282S452573" not an AI 8112 without AI 01.
 */
static bool code_meant_gs1(const char *s, size_t n, size_t bad20)
{
	if (s[0] == '(' || memchr(s, CODE_GS, n) != NULL)
		return true;
	if (n < 2 || s[0] != '0' || s[1] != '1')
		return false;
	return bad20 < n || memchr(s, ' ', n) == NULL;
}

int code_normalize(const char *raw, size_t len, code_t *out, char *why,
		   size_t whylen)
{
	char s[CODE_CLEAN_MAX];
	size_t n = 0, bad, nd;
	char cb[16];
	int rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((rc = code_clean(raw, len, s, &n, why, whylen)) < 0)
		return rc;
	memset(out, 0, sizeof *out);
	/* Spec: a string that reads as both is a 20-digit code. */
	if (code_digits20(s, n, out, &bad, &nd))
		return 0;
	if ((rc = code_gs1(s, n, out, why, whylen)) == 0)
		return 0;
	if (code_meant_gs1(s, n, bad))
		return rc;
	if (bad < n)
		return yima_fail(why, whylen, YIMA_EMALFORMED,
				 "20-digit: %s at character %zu is not a digit",
				 code_chardesc((unsigned char)s[bad], cb),
				 bad + 1);
	return yima_fail(why, whylen, YIMA_EMALFORMED,
			 "20-digit: %zu digits, expected 20", nd);
}

bool code_is_product_id(const char *s, size_t n)
{
	if (s == NULL || (n != CODE_DIGITS20_PRODUCT && n != CODE_GTIN_LEN))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!code_isdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}
