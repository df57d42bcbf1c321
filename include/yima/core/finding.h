/*
 * finding.h - the findings and verdicts of spec section 4.
 *
 * Findings of one event travel as a bit set (finding_set_t), stored as
 * such (u16) in every ledger record: a finding's enum value is its bit,
 * and a value never changes, so an old ledger reads back the findings it
 * stored.  The first fifteen were numbered in the order of the spec's
 * table; a finding added later takes the next free bit, wherever the
 * table puts it.  Anything that prints or lists findings goes through
 * finding_order[] (FINDING_EACH), the table's order (spec section 5).
 */
#ifndef YIMA_FINDING_H
#define YIMA_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/core/event.h"

enum finding {
	F_BAD_RECORD,
	F_MALFORMED,
	F_UNKNOWN_PRODUCT,
	F_SUBSTITUTED,
	F_REUSED,
	F_SPLIT_OVERDRAWN,
	F_RETURNED_TO_MARKET,
	F_EXPIRED,
	F_RECALLED,
	F_DUPLICATE_IN_CLAIM,
	F_REFUND_UNMATCHED,
	F_REFUND_LATE,
	F_DESTROYED,
	F_NOT_RECEIVED,
	F_ALREADY_HELD,
	F_OVER_QUANTITY,	/* section 7; in the table between NOT_RECEIVED
				 * and ALREADY_HELD */
	F_COUNT
};

typedef uint16_t finding_set_t;

#define FINDING_BIT(f) ((finding_set_t)(1u << (f)))

_Static_assert(F_COUNT <= 16, "findings are stored as a 16-bit set");

/* Every finding once, in the order of spec section 4's table. */
extern const enum finding finding_order[F_COUNT];

/* The place of f in table order (0 = BAD_RECORD): for sorting. */
int finding_rank(enum finding f);

/* for (each finding f in table order): FINDING_EACH(f) { ... } */
#define FINDING_EACH(f)                                                    \
	for (int f##_k = 0, f = (int)finding_order[0]; f##_k < F_COUNT;   \
	     f = (int)finding_order[++f##_k < F_COUNT ? f##_k : 0])

enum verdict {
	VERDICT_ACCEPT = 0,
	VERDICT_WARN = 1,
	VERDICT_REJECT = 2,
};

/* "BAD_RECORD", ...; NULL if out of range. */
const char *finding_name(enum finding f);
/* Parse a finding name; returns F_COUNT if unknown. */
enum finding finding_parse(const char *s, size_t n);
/* Append f as a JSON array of names in spec order: ["REUSED",...]. */
struct buf;
void finding_set_json(struct buf *b, finding_set_t f);

/* The severity column of spec section 4's table: true if f rejects an
 * event of type t (UNKNOWN_PRODUCT rejects a dispense only). */
bool finding_is_reject(enum finding f, enum event_type t);

/* The verdict of an event of type t with findings f: reject if any
 * finding rejects it, else warn if any finding, else accept. */
enum verdict finding_verdict(enum event_type t, finding_set_t f);

/* True if any finding of f rejects an event of type t. */
bool finding_set_rejects(enum event_type t, finding_set_t f);

/* "accept" / "warn" / "reject". */
const char *verdict_name(enum verdict v);

#endif
