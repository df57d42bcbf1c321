/*
 * code.h - trace code normalization (spec section 1).
 *
 * A scanner may deliver the same physical pack in many byte forms (AIM
 * prefix, full-width digits from a Chinese IME, GS separators, the printed
 * "(01)...(21)..." form, trailing CR/LF).  code_normalize() maps all of them
 * to one canonical string, the identity the ledger is keyed by, plus the
 * attributes (expiry, batch) that the EXPIRED and RECALLED rules need.
 */
#ifndef YIMA_CODE_H
#define YIMA_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum code_kind {
	CODE_DIGITS20 = 1,	/* national platform 20-digit code */
	CODE_GS1 = 2,		/* GS1 element string: GTIN-14 + serial */
};

#define CODE_CANON_MAX 38	/* "01" + 14 + "21" + 20 */
#define CODE_PRODUCT_MAX 14	/* 7-digit prefix or GTIN-14 */
#define CODE_BATCH_MAX 20

typedef struct code {
	enum code_kind kind;
	char canon[CODE_CANON_MAX + 1];		/* NUL-terminated */
	size_t canon_len;
	char product[CODE_PRODUCT_MAX + 1];	/* digits 1-7, or the GTIN-14 */
	size_t product_len;
	bool has_expiry;			/* AI 17 present */
	uint16_t exp_year;			/* 2000..2099 */
	uint8_t exp_month;			/* 1..12 */
	uint8_t exp_day;			/* 1..31; AI 17 day 00 resolved
						 * to the month's last day */
	char batch[CODE_BATCH_MAX + 1];		/* AI 10, "" when absent */
	size_t batch_len;
} code_t;

/*
 * Normalize raw scanner bytes (len bytes, may contain NUL) into *out.
 * Returns 0, or YIMA_EMALFORMED with a one-line human-readable reason in
 * why (naming the rule and the 1-based character position in the cleaned
 * string, e.g. "GS1: AI 01 check digit is 3, expected 7 (at character
 * 16)").  *out is unspecified on error.  Pure function, no allocation.
 */
int code_normalize(const char *raw, size_t len, code_t *out,
		   char *why, size_t whylen);

/* True if s (n bytes) is exactly 7 or 14 ASCII digits: a product id as the
 * catalog and the recall list use it. */
bool code_is_product_id(const char *s, size_t n);

#endif
