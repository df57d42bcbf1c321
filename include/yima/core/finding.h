/*
 * finding.h - the findings and verdicts of spec section 4.
 *
 * The enum order is the order of the spec's findings table, which is also
 * the order findings are printed in (spec section 5).  Findings of one
 * event travel as a bit set (finding_set_t), stored as such in the ledger.
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
	F_COUNT
};

typedef uint16_t finding_set_t;

#define FINDING_BIT(f) ((finding_set_t)(1u << (f)))

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
