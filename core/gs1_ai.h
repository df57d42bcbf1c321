/*
 * gs1_ai.h - the GS1 Application Identifier table (private to verifier/).
 *
 * code.c parses GS1 element strings (spec section 1) against this table:
 * which AIs the GS1 General Specifications assign, how many digits the AI
 * itself has, whether its data field has a predefined length (so no GS is
 * needed after it), and the parts of the data field with their length,
 * character set and, for dates, the date format.
 */
#ifndef YIMA_GS1_AI_H
#define YIMA_GS1_AI_H

#include <stddef.h>
#include <stdint.h>

enum code_cset {
	CODE_CSET_N = 1,	/* digits */
	CODE_CSET_X,		/* GS1 character set 82 */
	CODE_CSET_Y,		/* GS1 character set 39 */
	CODE_CSET_Z,		/* base64url (AI 8030) */
};

enum code_lint {
	CODE_LINT_NONE = 0,
	CODE_LINT_YYMMD0,	/* YYMMDD, day 00 = last day of the month */
	CODE_LINT_YYMMDD,	/* YYMMDD, a real day */
	CODE_LINT_YYYYMMDD,	/* YYYYMMDD, a real day */
};

#define CODE_GS1_MAXCOMP 5

/* One part of a data field: min..max characters of cset.  Only the last
 * part may vary in length; optional parts may be absent when the data ends
 * before them.  max == 0 ends the list. */
struct code_gs1_comp {
	uint8_t cset;		/* enum code_cset */
	uint8_t min, max;
	uint8_t optional;
	uint8_t lint;		/* enum code_lint */
};

/* One AI or a run of AIs sharing a format (e.g. 3100..3105). */
struct code_gs1_ai {
	uint16_t lo, hi;	/* AI numbers, lo..hi, hi - lo <= 9 */
	uint8_t ailen;		/* digits in the AI: 2, 3 or 4 */
	uint8_t fixed;		/* predefined length: no GS after it */
	struct code_gs1_comp comp[CODE_GS1_MAXCOMP];
};

/* Bound for code_gs1_ai_slot() values. */
#define CODE_GS1_SLOTS (232 * 10)

/*
 * Find the AI that starts the n digits at s (n may be more than the AI
 * needs; the AI's length follows from its first two digits, as GS1
 * designs it).  Returns the table entry and sets *ai to the AI number, or
 * returns NULL when s does not start with an assigned AI.  *ailen is set
 * to the number of digits the AI would have (2 when the first two digits
 * start no assigned AI, or when fewer than 2 digits are there), so the
 * caller can name the unknown AI.  The entry lives in static storage.
 */
const struct code_gs1_ai *code_gs1_ai_find(const char *s, size_t n,
					   unsigned *ai, size_t *ailen);

/* A number below CODE_GS1_SLOTS that is distinct for every assigned AI,
 * for finding repeated AIs with a bitmap. */
size_t code_gs1_ai_slot(const struct code_gs1_ai *e, unsigned ai);

#endif
