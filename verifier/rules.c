/*
 * rules.c - the findings of spec section 4, one function per finding, in
 * the order of the spec's table, so each can be read beside its row.
 *
 * Every rule is a pure function of the rule context (rules.h): the event,
 * its normalized code, the code's state before the event and the catalog,
 * recall and claim facts gathered for it.  BAD_RECORD and MALFORMED never
 * reach here (they stop all further checks: apply.c).
 */
#include <string.h>

#include "rules.h"

static bool fac_eq(const char *a, yima_slice_t f)
{
	return strlen(a) == f.n && memcmp(a, f.p, f.n) == 0;
}

static bool is_type(const rule_ctx_t *c, enum event_type t)
{
	return c->ev->type == t;
}

/* units_left is unknown when the product was not in the catalog as the
 * code was first seen: REUSED, SPLIT_OVERDRAWN and SUBSTITUTED are then
 * not evaluated (spec section 4, units_left). */
static bool units_known(const rule_ctx_t *c)
{
	return c->st.units_known;
}

/* UNKNOWN_PRODUCT: product id not in the catalog. */
static bool rule_unknown_product(const rule_ctx_t *c)
{
	return !c->in_catalog;
}

/* SUBSTITUTED: dispense whose claimed drug differs from the catalog drug
 * of the code's product. */
static bool rule_substituted(const rule_ctx_t *c)
{
	return is_type(c, EV_DISPENSE) && units_known(c) && c->in_catalog &&
	       !yima_slice_eq_cstr(c->ev->drug, c->cat.drug);
}

/* REUSED: dispense at dispensed_at when units_left is 0. */
static bool rule_reused(const rule_ctx_t *c)
{
	return is_type(c, EV_DISPENSE) && units_known(c) &&
	       fac_eq(c->st.dispensed_at, c->ev->facility) && c->st.units_left == 0;
}

/* SPLIT_OVERDRAWN: dispense of more units than units_left, when
 * units_left > 0. */
static bool rule_split_overdrawn(const rule_ctx_t *c)
{
	return is_type(c, EV_DISPENSE) && units_known(c) && c->units_resolved &&
	       c->st.units_left > 0 && c->units > c->st.units_left;
}

/* RETURNED_TO_MARKET: dispensed_at is set and the event (not a refund) is
 * at another facility; or a receive, transfer_in, return or transfer_out
 * at dispensed_at; or a stocktake at dispensed_at when units_left is 0. */
static bool rule_returned_to_market(const rule_ctx_t *c)
{
	const char *at = c->st.dispensed_at;

	if (at[0] == '\0')
		return false;
	if (!fac_eq(at, c->ev->facility))
		return !is_type(c, EV_REFUND);
	switch (c->ev->type) {
	case EV_RECEIVE:
	case EV_TRANSFER_IN:
	case EV_RETURN:
	case EV_TRANSFER_OUT:
		return true;
	case EV_STOCKTAKE:
		return units_known(c) && c->st.units_left == 0;
	default:
		return false;
	}
}

/* EXPIRED: dispense or receive whose calendar date, in the event's own
 * offset, is later than the GS1 expiry date (AI 17 of this scan). */
static bool rule_expired(const rule_ctx_t *c)
{
	int y, m, d;

	if (!(is_type(c, EV_DISPENSE) || is_type(c, EV_RECEIVE)) || !c->code->has_expiry)
		return false;
	yima_time_local_date(&c->ev->time, &y, &m, &d);
	long date = (long)y * 10000 + m * 100 + d;
	long exp = (long)c->code->exp_year * 10000 + c->code->exp_month * 100 + c->code->exp_day;
	return date > exp;
}

/* RECALLED: dispense or receive of a code, product, or product + batch on
 * the recall list. */
static bool rule_recalled(const rule_ctx_t *c)
{
	return (is_type(c, EV_DISPENSE) || is_type(c, EV_RECEIVE)) && c->recalled;
}

/* DUPLICATE_IN_CLAIM: a dispense of a code that an earlier accepted or
 * warned dispense in the same settlement (facility + settlement id)
 * already carries; refunds in between do not undo it. */
static bool rule_duplicate_in_claim(const rule_ctx_t *c)
{
	return is_type(c, EV_DISPENSE) && c->claim_has_dispense;
}

/* REFUND_UNMATCHED: refund with no accepted or warned dispense of the code
 * under the settlement at the facility, or for more units than that
 * dispense left out. */
static bool rule_refund_unmatched(const rule_ctx_t *c)
{
	if (!is_type(c, EV_REFUND))
		return false;
	if (!c->claim_has_dispense)
		return true;
	return c->units_resolved && c->units > c->claim_left_out;
}

/* REFUND_LATE: refund more than the window after its dispense instant. */
static bool rule_refund_late(const rule_ctx_t *c)
{
	if (!is_type(c, EV_REFUND) || !c->claim_has_dispense)
		return false;
	int64_t window = (int64_t)c->refund_window_days * 86400;
	int64_t dsec = c->ev->time.sec - c->claim_dispense_time.sec;
	if (dsec != window)
		return dsec > window;
	return c->ev->time.nsec > c->claim_dispense_time.nsec;
}

/* DESTROYED: any event on a destroyed code. */
static bool rule_destroyed(const rule_ctx_t *c)
{
	return c->st.destroyed;
}

/* NOT_RECEIVED: dispense, return, transfer_out or destroy at F when F is
 * not the holder (never received, or held elsewhere).  The "no reject
 * finding applies" part is in rules_evaluate(). */
static bool rule_not_received(const rule_ctx_t *c)
{
	switch (c->ev->type) {
	case EV_DISPENSE:
	case EV_RETURN:
	case EV_TRANSFER_OUT:
	case EV_DESTROY:
		return !fac_eq(c->st.holder, c->ev->facility);
	default:
		return false;
	}
}

/* OVER_QUANTITY (section 7): a dispense of n units with a patient, of a
 * product with a limit L, when S + n > L: S the patient's units of the
 * drug code in the 30 days up to it (gathered: eval.c).  The "no reject
 * finding applies" part is in rules_evaluate(). */
static bool rule_over_quantity(const rule_ctx_t *c)
{
	return is_type(c, EV_DISPENSE) && c->has_patient && c->in_catalog &&
	       c->cat.max_units_30d > 0 && c->units_resolved &&
	       c->patient_units + c->units > c->cat.max_units_30d;
}

/* ALREADY_HELD: receive or transfer_in while a holder is set (F itself
 * included), unless it is the transfer_in that completes a transfer to F;
 * stocktake at F while another facility holds it. */
static bool rule_already_held(const rule_ctx_t *c)
{
	const code_state_t *st = &c->st;

	switch (c->ev->type) {
	case EV_RECEIVE:
		return st->holder[0] != '\0';
	case EV_TRANSFER_IN:
		return st->holder[0] != '\0' && !fac_eq(st->in_transit_to, c->ev->facility);
	case EV_STOCKTAKE:
		return st->holder[0] != '\0' && !fac_eq(st->holder, c->ev->facility);
	default:
		return false;
	}
}

typedef bool (*rule_fn)(const rule_ctx_t *);

/* The table, in spec order.  BAD_RECORD and MALFORMED are decided before
 * the rules run. */
static const rule_fn rule_table[F_COUNT] = {
	[F_UNKNOWN_PRODUCT] = rule_unknown_product,
	[F_SUBSTITUTED] = rule_substituted,
	[F_REUSED] = rule_reused,
	[F_SPLIT_OVERDRAWN] = rule_split_overdrawn,
	[F_RETURNED_TO_MARKET] = rule_returned_to_market,
	[F_EXPIRED] = rule_expired,
	[F_RECALLED] = rule_recalled,
	[F_DUPLICATE_IN_CLAIM] = rule_duplicate_in_claim,
	[F_REFUND_UNMATCHED] = rule_refund_unmatched,
	[F_REFUND_LATE] = rule_refund_late,
	[F_DESTROYED] = rule_destroyed,
	[F_NOT_RECEIVED] = rule_not_received,
	[F_OVER_QUANTITY] = rule_over_quantity,
	[F_ALREADY_HELD] = rule_already_held,
};

/* Warnings that apply only when no reject finding does. */
static bool only_without_reject(int f)
{
	return f == F_NOT_RECEIVED || f == F_OVER_QUANTITY;
}

finding_set_t rules_evaluate(const rule_ctx_t *c)
{
	finding_set_t set = 0;
	bool reject = false;

	for (int f = 0; f < F_COUNT; f++) {
		if (rule_table[f] == NULL || only_without_reject(f))
			continue;
		if (rule_table[f](c)) {
			set |= FINDING_BIT(f);
			reject |= finding_is_reject((enum finding)f, c->ev->type);
		}
	}
	/* "warnings beside rejects except NOT_RECEIVED"; OVER_QUANTITY "only
	 * when no reject finding applies" (section 7) */
	for (int f = 0; f < F_COUNT && !reject; f++)
		if (only_without_reject(f) && rule_table[f](c))
			set |= FINDING_BIT(f);
	return set;
}

static void fac_set(char dst[FACILITY_MAX + 1], yima_slice_t f)
{
	size_t n = f.n < FACILITY_MAX ? f.n : FACILITY_MAX;
	memcpy(dst, f.p, n);
	dst[n] = '\0';
}

static void apply_dispense(const rule_ctx_t *c, code_state_t *st)
{
	bool used_up;

	if (st->units_known && c->units_resolved) {
		/* rules guarantee units <= units_left for an applied dispense */
		st->units_left -= c->units <= st->units_left ? c->units : st->units_left;
		used_up = st->units_left == 0;
	} else {
		/* units unknown: a whole-pack dispense uses the pack up */
		used_up = !c->ev->has_qty;
	}
	fac_set(st->dispensed_at, c->ev->facility);
	if (used_up)
		st->holder[0] = '\0';
	else
		fac_set(st->holder, c->ev->facility);
}

static void apply_refund(const rule_ctx_t *c, code_state_t *st)
{
	bool whole;

	if (st->units_known && c->units_resolved) {
		uint64_t room = st->pack_units - st->units_left;
		st->units_left += c->units <= room ? c->units : room;
		whole = st->units_left == st->pack_units;
	} else {
		whole = !c->ev->has_qty;
	}
	fac_set(st->holder, c->ev->facility);
	if (whole)
		st->dispensed_at[0] = '\0';
}

void rules_apply_state(const rule_ctx_t *c, code_state_t *st)
{
	const event_t *ev = c->ev;

	switch (ev->type) {
	case EV_RECEIVE:
	case EV_STOCKTAKE:
		fac_set(st->holder, ev->facility);
		break;
	case EV_TRANSFER_OUT:
		st->holder[0] = '\0';
		fac_set(st->in_transit_to, ev->counterparty);
		break;
	case EV_TRANSFER_IN:
		fac_set(st->holder, ev->facility);
		st->in_transit_to[0] = '\0';
		break;
	case EV_RETURN:
		st->holder[0] = '\0';
		break;
	case EV_DISPENSE:
		apply_dispense(c, st);
		break;
	case EV_REFUND:
		apply_refund(c, st);
		break;
	case EV_DESTROY:
		st->destroyed = true;
		break;
	case EV_NONE:
		break;
	}
}
