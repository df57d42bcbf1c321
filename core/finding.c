/*
 * finding.c - names of findings and verdicts, as printed and parsed.
 */
#include <string.h>

#include "yima/util/buf.h"
#include "yima/core/finding.h"

static const char *const names[F_COUNT] = {
	[F_BAD_RECORD] = "BAD_RECORD",
	[F_MALFORMED] = "MALFORMED",
	[F_UNKNOWN_PRODUCT] = "UNKNOWN_PRODUCT",
	[F_SUBSTITUTED] = "SUBSTITUTED",
	[F_REUSED] = "REUSED",
	[F_SPLIT_OVERDRAWN] = "SPLIT_OVERDRAWN",
	[F_RETURNED_TO_MARKET] = "RETURNED_TO_MARKET",
	[F_EXPIRED] = "EXPIRED",
	[F_RECALLED] = "RECALLED",
	[F_DUPLICATE_IN_CLAIM] = "DUPLICATE_IN_CLAIM",
	[F_REFUND_UNMATCHED] = "REFUND_UNMATCHED",
	[F_REFUND_LATE] = "REFUND_LATE",
	[F_DESTROYED] = "DESTROYED",
	[F_NOT_RECEIVED] = "NOT_RECEIVED",
	[F_ALREADY_HELD] = "ALREADY_HELD",
	[F_OVER_QUANTITY] = "OVER_QUANTITY",
};

const enum finding finding_order[F_COUNT] = {
	F_BAD_RECORD, F_MALFORMED, F_UNKNOWN_PRODUCT, F_SUBSTITUTED, F_REUSED,
	F_SPLIT_OVERDRAWN, F_RETURNED_TO_MARKET, F_EXPIRED, F_RECALLED,
	F_DUPLICATE_IN_CLAIM, F_REFUND_UNMATCHED, F_REFUND_LATE, F_DESTROYED,
	F_NOT_RECEIVED, F_OVER_QUANTITY, F_ALREADY_HELD,
};

int finding_rank(enum finding f)
{
	for (int k = 0; k < F_COUNT; k++)
		if (finding_order[k] == f)
			return k;
	return F_COUNT;
}

const char *finding_name(enum finding f)
{
	return (unsigned)f < F_COUNT ? names[f] : NULL;
}

enum finding finding_parse(const char *s, size_t n)
{
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(names[f]) == n && memcmp(names[f], s, n) == 0)
			return (enum finding)f;
	return F_COUNT;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ACCEPT: return "accept";
	case VERDICT_WARN: return "warn";
	case VERDICT_REJECT: return "reject";
	}
	return "?";
}

void finding_set_json(buf_t *b, finding_set_t f)
{
	bool first = true;
	buf_putc(b, '[');
	FINDING_EACH(i) {
		if (!(f & FINDING_BIT(i)))
			continue;
		buf_printf(b, "%s\"%s\"", first ? "" : ",", names[i]);
		first = false;
	}
	buf_putc(b, ']');
}

bool finding_is_reject(enum finding f, enum event_type t)
{
	switch (f) {
	case F_UNKNOWN_PRODUCT:
		return t == EV_DISPENSE;
	case F_NOT_RECEIVED:
	case F_OVER_QUANTITY:
	case F_ALREADY_HELD:
		return false;
	default:
		return true;
	}
}

bool finding_set_rejects(enum event_type t, finding_set_t f)
{
	for (int i = 0; i < F_COUNT; i++)
		if ((f & FINDING_BIT(i)) && finding_is_reject((enum finding)i, t))
			return true;
	return false;
}

enum verdict finding_verdict(enum event_type t, finding_set_t f)
{
	if (finding_set_rejects(t, f))
		return VERDICT_REJECT;
	return f ? VERDICT_WARN : VERDICT_ACCEPT;
}
