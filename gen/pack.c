/*
 * pack.c - one pack's life in the generated world.
 *
 * A pack is a small state machine: `step` is the event it emits next, at
 * the instant the heap holds for it.  gen_pack_step() writes that event
 * (through gen_emit(), which may add a malformed scan or a broken row
 * before it), updates the simulated state exactly as spec section 4 says
 * the ledger will (rejected events change nothing), and plans the next
 * step.
 *
 * Legitimate life: receive from a supplier; maybe a stocktake, transfers
 * (transfer_out, transfer_in at the destination) or a return; then
 * dispenses, whole or split (拆零) in chunks until the units are used up;
 * sometimes a refund within the window, after which the pack can be sold
 * again; packs that expire on the shelf are destroyed.  Nothing in a
 * legitimate life raises a finding.
 *
 * Fraud patterns add their events at one point of that life (the "fraud
 * step", after which the pack carries GEN_PF_DONE); the truth label of
 * the row names the finding the pattern is meant to raise.
 */
#include "yima/core/event.h"
#include "gen_int.h"

#define GEN_DAY 86400
#define GEN_REFUND_MAX (9 * GEN_DAY)	/* inside the 10-day window */

static const char *const gen_truth[GEN_FRAUD_COUNT] = {
	NULL, "REUSED", "RETURNED_TO_MARKET", "SUBSTITUTED", "SPLIT_OVERDRAWN",
	"EXPIRED", "RECALLED", "DUPLICATE_IN_CLAIM", "REFUND_UNMATCHED",
	"REFUND_LATE", "DESTROYED", "UNKNOWN_PRODUCT", "NOT_RECEIVED",
};

static int64_t gen_gap(gen_world_t *w, double mean)
{
	double g = 60 + gen_rng_exp(&w->rng, mean);
	return (int64_t)(g < 60.0 * GEN_DAY ? g : 60.0 * GEN_DAY);
}

static uint32_t gen_other_fac(gen_world_t *w, uint32_t fac)
{
	uint32_t r = gen_rng_below(&w->rng, w->n_fac - 1);
	return r >= fac ? r + 1 : r;
}

/* The local midnight starting day `day`, as a Unix instant. */
static int64_t gen_day_start(int64_t day)
{
	return day * GEN_DAY - GEN_TZ_SEC;
}

static uint16_t gen_units(const gen_world_t *w, const gen_pack_t *p)
{
	return gen_pack_product(w, p)->units;
}

static void gen_split_choose(gen_world_t *w, gen_pack_t *p, bool force)
{
	uint16_t u = gen_units(w, p);
	double share = u >= 10 ? 0.45 : 0.2;
	if (u < 2 || (!force && !gen_rng_chance(&w->rng, share)))
		return;
	p->flags |= GEN_PF_SPLIT;
	if (gen_rng_chance(&w->rng, 0.25))
		p->chunk = (uint16_t)(1 + gen_rng_below(&w->rng, u / 2));
	else
		p->chunk = (uint16_t)(u / (2 + gen_rng_below(&w->rng, 5)));
	if (p->chunk == 0)
		p->chunk = 1;
}

/* Patterns that need something the world may lack fall back to REUSED. */
static enum gen_fraud gen_fraud_fit(gen_world_t *w, enum gen_fraud f)
{
	bool ok = true;
	if (f == GEN_FRAUD_RESOLD)
		ok = w->n_fac >= 2;
	else if (f == GEN_FRAUD_SUBSTITUTED)
		ok = w->n_drugs >= 2;
	else if (f == GEN_FRAUD_OVERDRAWN || f == GEN_FRAUD_DUP_IN_CLAIM)
		ok = w->n_splittable > 0;
	else if (f == GEN_FRAUD_EXPIRED)
		ok = w->n_expiring > 0;
	else if (f == GEN_FRAUD_RECALLED)
		ok = w->next_recall_code < w->n_recall_codes ||
		     w->n_recalled_products > 0 || w->n_recall_batches > 0;
	return ok ? f : GEN_FRAUD_REUSED;
}

/* Which recall-list entry the pack matches: its own code, its product, or
 * its product and batch. */
static void gen_recalled_setup(gen_world_t *w, gen_pack_t *p)
{
	for (;;) {
		uint32_t k = gen_rng_below(&w->rng, 3);
		if (k == 0 && w->next_recall_code < w->n_recall_codes) {
			p->no = w->next_recall_code;
			p->product = w->recall_code_product[w->next_recall_code++];
			return;
		}
		if (k == 1 && w->n_recalled_products > 0) {
			p->product = w->recalled_products[gen_rng_below(&w->rng,
						w->n_recalled_products)];
			return;
		}
		if (k == 2 && w->n_recall_batches > 0) {
			const gen_recall_batch_t *b = &w->recall_batches[
				gen_rng_below(&w->rng, w->n_recall_batches)];
			p->product = b->product;
			p->lot = b->lot;
			return;
		}
	}
}

/* EXPIRED: variant 0 expires 1-3 days after receipt and is dispensed
 * later; variant 1 is received already expired (AI 17 day 00 of the month
 * before, or a day in the last two months). */
static void gen_expired_setup(gen_world_t *w, gen_pack_t *p, int64_t t)
{
	int64_t day = gen_local_day(t);
	p->product = gen_pick_product(w, w->expiring, w->n_expiring);
	p->flags |= GEN_PF_NEAR_EXPIRY;
	p->flags &= (uint16_t)~GEN_PF_EXP_D00;
	if (gen_rng_chance(&w->rng, 0.6)) {	/* variant 0 */
		p->exp_day = (int32_t)(day + 1 + gen_rng_below(&w->rng, 3));
		p->step = GEN_ST_RECEIVE;
		return;
	}
	p->step = GEN_ST_EXPIRED_RECEIVE;
	if (gen_rng_chance(&w->rng, 0.4)) {
		int y, m, d;
		gen_civil_from_days(day, &y, &m, &d);
		p->exp_day = (int32_t)(day - d);	/* last day of last month */
		p->flags |= GEN_PF_EXP_D00;
	} else {
		p->exp_day = (int32_t)(day - 1 - gen_rng_below(&w->rng, 60));
	}
}

void gen_pack_init(gen_world_t *w, gen_pack_t *p, enum gen_fraud f, int64_t t)
{
	f = gen_fraud_fit(w, f);
	p->fraud = (uint8_t)f;
	p->step = GEN_ST_RECEIVE;
	if (f == GEN_FRAUD_RECALLED) {
		gen_recalled_setup(w, p);
		p->step = GEN_ST_RECALLED_RECEIVE;
	} else if (f == GEN_FRAUD_UNKNOWN_PRODUCT) {
		p->product = GEN_UNKNOWN_BIT | gen_rng_below(&w->rng, w->n_unknown);
	} else if (f == GEN_FRAUD_OVERDRAWN || f == GEN_FRAUD_DUP_IN_CLAIM) {
		p->product = gen_pick_product(w, w->splittable, w->n_splittable);
	} else if (f == GEN_FRAUD_NOT_RECEIVED) {
		p->step = GEN_ST_DISPENSE;
	}
	gen_expiry_for_lot(w, p);
	if (f == GEN_FRAUD_EXPIRED)
		gen_expired_setup(w, p, t);
	p->units_left = gen_units(w, p);
	gen_split_choose(w, p, f == GEN_FRAUD_OVERDRAWN || f == GEN_FRAUD_DUP_IN_CLAIM);
	if (f != GEN_FRAUD_NONE)
		return;
	if (gen_pack_product(w, p)->has_expiry && gen_rng_chance(&w->rng, 0.01)) {
		/* expires on the shelf: destroyed, never sold */
		p->exp_day = (int32_t)(gen_local_day(t) + 2 + gen_rng_below(&w->rng, 5));
		p->flags &= (uint16_t)~GEN_PF_EXP_D00;
		p->flags |= GEN_PF_DESTROY_PLAN | GEN_PF_NEAR_EXPIRY;
	} else if (gen_rng_chance(&w->rng, 0.003)) {
		p->flags |= GEN_PF_DESTROY_PLAN;	/* damaged */
	}
}

/* ---- planning: what the pack does next ---- */

static int gen_next(gen_pack_t *p, enum gen_step s, int64_t at, int64_t *next)
{
	p->step = (uint8_t)s;
	*next = at;
	return 1;
}

/* Fraud steps taken while the pack is held. */
static int gen_plan_held_fraud(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next)
{
	switch (p->fraud) {
	case GEN_FRAUD_DESTROYED:
		return gen_next(p, GEN_ST_DESTROY, t + gen_gap(w, w->hold_mean), next);
	case GEN_FRAUD_EXPIRED: {
		int64_t at = gen_day_start(p->exp_day + 2) +
			     gen_rng_below(&w->rng, 12 * 3600) + 8 * 3600;
		int64_t soon = t + gen_gap(w, w->hold_mean);
		return gen_next(p, GEN_ST_EXPIRED_DISPENSE, at > soon ? at : soon, next);
	}
	case GEN_FRAUD_SUBSTITUTED:
		if (!(p->flags & GEN_PF_DISPENSED))
			return gen_next(p, GEN_ST_SUBST, t + gen_gap(w, w->hold_mean), next);
		break;
	case GEN_FRAUD_OVERDRAWN:
		if ((p->flags & GEN_PF_DISPENSED) && p->units_left > 0)
			return gen_next(p, GEN_ST_OVERDRAW, t + gen_gap(w, w->split_mean), next);
		break;
	}
	return 0;
}

/* Held at p->fac, with units left: choose among shelf events and sales. */
static int gen_plan_held(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next)
{
	bool sold = (p->flags & GEN_PF_DISPENSED) != 0;
	if (p->fraud != GEN_FRAUD_NONE && !(p->flags & GEN_PF_DONE) &&
	    gen_plan_held_fraud(w, p, t, next))
		return 1;
	if (p->flags & GEN_PF_DESTROY_PLAN) {
		int64_t at = t + gen_gap(w, w->hold_mean);
		if (p->flags & GEN_PF_NEAR_EXPIRY) {
			int64_t after = gen_day_start(p->exp_day + 1) +
					gen_rng_below(&w->rng, 2 * GEN_DAY);
			at = after > at ? after : at;
		}
		return gen_next(p, GEN_ST_DESTROY, at, next);
	}
	if (p->fraud == GEN_FRAUD_NONE && !sold) {
		double u = gen_rng_unit(&w->rng);
		int64_t soon = t + gen_gap(w, w->hold_mean / 2);
		if (u < 0.08 && !(p->flags & GEN_PF_STOCKTAKEN))
			return gen_next(p, GEN_ST_STOCKTAKE, soon, next);
		if (u < 0.13 && w->n_fac >= 2) {
			p->other = (uint16_t)gen_other_fac(w, p->fac);
			return gen_next(p, GEN_ST_TRANSFER_OUT, soon, next);
		}
		if (u < 0.15)
			return gen_next(p, GEN_ST_RETURN, soon, next);
	}
	if (p->fraud == GEN_FRAUD_NONE && sold && !(p->flags & GEN_PF_STOCKTAKEN) &&
	    gen_rng_chance(&w->rng, 0.03))
		return gen_next(p, GEN_ST_STOCKTAKE, t + gen_gap(w, w->split_mean), next);
	return gen_next(p, GEN_ST_DISPENSE,
			t + gen_gap(w, sold ? w->split_mean : w->hold_mean), next);
}

static int gen_plan_after_dispense(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next)
{
	if (p->fraud == GEN_FRAUD_UNKNOWN_PRODUCT)
		return 0;
	if (p->fraud != GEN_FRAUD_NONE && !(p->flags & GEN_PF_DONE)) {
		switch (p->fraud) {
		case GEN_FRAUD_REFUND_UNMATCHED:
			return gen_next(p, GEN_ST_BAD_REFUND, t + gen_gap(w, 6 * 3600), next);
		case GEN_FRAUD_REFUND_LATE:
			return gen_next(p, GEN_ST_LATE_REFUND, t + 11 * GEN_DAY +
					gen_rng_below(&w->rng, 19 * GEN_DAY), next);
		case GEN_FRAUD_DUP_IN_CLAIM:
			return gen_next(p, GEN_ST_DUP, t + 5 + gen_rng_below(&w->rng, 85), next);
		case GEN_FRAUD_REUSED:
			if (p->units_left == 0)
				return gen_next(p, GEN_ST_REUSE,
						t + 600 + gen_gap(w, w->hold_mean), next);
			break;
		case GEN_FRAUD_RESOLD:
			if (p->units_left == 0) {
				p->other = (uint16_t)gen_other_fac(w, p->fac);
				return gen_next(p, GEN_ST_RESALE_RECEIVE,
						t + 3600 + gen_gap(w, w->hold_mean), next);
			}
			break;
		}
	}
	if (p->fraud == GEN_FRAUD_NONE && gen_rng_chance(&w->rng, 0.02)) {
		double g = 300 + gen_rng_exp(&w->rng, w->hold_mean < 2.0 * GEN_DAY
					     ? w->hold_mean : 2.0 * GEN_DAY);
		return gen_next(p, GEN_ST_REFUND,
				t + (int64_t)(g < GEN_REFUND_MAX ? g : GEN_REFUND_MAX), next);
	}
	if (p->units_left > 0)
		return gen_plan_held(w, p, t, next);
	return 0;
}

/* After the step just emitted at t: 1 with *next and p->step set, or 0
 * when the pack's story is over. */
static int gen_plan(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next)
{
	if (p->planned)
		return gen_planned_next(w, p, t, next);
	switch (p->step) {
	case GEN_ST_RECEIVE:
	case GEN_ST_STOCKTAKE:
	case GEN_ST_TRANSFER_IN:
	case GEN_ST_REFUND:
	case GEN_ST_OVERDRAW:
		return gen_plan_held(w, p, t, next);
	case GEN_ST_TRANSFER_OUT:
		return gen_next(p, GEN_ST_TRANSFER_IN, t + 1800 +
				gen_rng_below(&w->rng, 12 * 3600), next);
	case GEN_ST_DISPENSE:
		return gen_plan_after_dispense(w, p, t, next);
	case GEN_ST_DESTROY:
		if (p->fraud == GEN_FRAUD_DESTROYED)
			return gen_next(p, GEN_ST_POST_DESTROY, t + gen_gap(w, w->hold_mean), next);
		return 0;
	case GEN_ST_RESALE_RECEIVE:
		return gen_next(p, GEN_ST_RESALE_DISPENSE, t + gen_gap(w, w->split_mean), next);
	case GEN_ST_SUBST:
		p->flags |= GEN_PF_SAME_SETT;
		return gen_next(p, GEN_ST_DISPENSE, t + 60 + gen_rng_below(&w->rng, 840), next);
	case GEN_ST_DUP:
	case GEN_ST_BAD_REFUND:
	case GEN_ST_LATE_REFUND:
		return p->units_left > 0 ? gen_plan_held(w, p, t, next) : 0;
	case GEN_ST_EXPIRED_DISPENSE:
		return gen_next(p, GEN_ST_DESTROY, t + gen_gap(w, w->split_mean), next);
	case GEN_ST_RECALLED_RECEIVE:
		return gen_next(p, GEN_ST_RECALLED_DISPENSE, t + gen_gap(w, w->hold_mean), next);
	default:	/* RETURN, REUSE, RESALE_DISPENSE, POST_DESTROY,
			 * EXPIRED_RECEIVE, RECALLED_DISPENSE */
		return 0;
	}
}

/* ---- emitting: the row of each step ---- */

static void gen_row_init(gen_row_t *r, const gen_pack_t *p, int64_t t, int type, uint32_t fac)
{
	*r = (gen_row_t){ .t = t, .fac = fac, .type = type, .pack = p };
}

static void gen_row_sett(gen_row_t *r, const gen_pack_t *p)
{
	r->has_sett = true;
	r->sett_fac = p->sett_fac;
	r->sett_day = p->sett_day;
	r->sett_no = p->sett_no;
	r->patient = p->patient;
}

/* A dispense row of n units at fac; qty is left empty for a whole pack
 * half of the time (spec section 4: empty = pack_units). */
static void gen_row_dispense(gen_world_t *w, gen_row_t *r, gen_pack_t *p, uint32_t fac,
			     uint32_t n, bool join)
{
	const gen_product_t *prod = gen_pack_product(w, p);
	r->type = EV_DISPENSE;
	r->fac = fac;
	r->drug = w->drugs[prod->drug];
	r->qty = n == prod->units && gen_rng_chance(&w->rng, 0.5) ? 0 : n;
	if (join)
		gen_claim_join(w, p, fac, r->t);
	gen_row_sett(r, p);
}

static void gen_emit_dispense(gen_world_t *w, gen_pack_t *p, gen_row_t *r)
{
	uint32_t n = p->units_left;
	if ((p->flags & GEN_PF_SPLIT) && p->chunk < n)
		n = p->chunk;
	gen_row_dispense(w, r, p, p->fac, n, !(p->flags & GEN_PF_SAME_SETT));
	p->flags &= (uint16_t)~GEN_PF_SAME_SETT;
	if (p->fraud == GEN_FRAUD_NOT_RECEIVED && !(p->flags & GEN_PF_DISPENSED))
		r->truth = gen_truth[p->fraud];
	if (p->fraud == GEN_FRAUD_UNKNOWN_PRODUCT)
		r->truth = gen_truth[p->fraud];
	p->flags |= GEN_PF_DISPENSED;
	p->units_left = (uint16_t)(p->units_left - n);
	p->disp_units = (uint16_t)n;
}

static void gen_emit_refund(gen_world_t *w, gen_pack_t *p, gen_row_t *r)
{
	uint32_t n = p->disp_units;
	if (n >= 2 && gen_rng_chance(&w->rng, 0.3))
		n = 1 + gen_rng_below(&w->rng, n - 1);	/* partial */
	r->type = EV_REFUND;
	r->fac = p->sett_fac;
	r->qty = n == gen_units(w, p) && gen_rng_chance(&w->rng, 0.5) ? 0 : n;
	gen_row_sett(r, p);
	p->units_left = (uint16_t)(p->units_left + n);
}

/* REFUND_UNMATCHED: a settlement id never used (a year before the run),
 * the right settlement at another facility, or more units than sold. */
static void gen_emit_bad_refund(gen_world_t *w, gen_pack_t *p, gen_row_t *r)
{
	uint32_t v = gen_rng_below(&w->rng, 3);
	r->type = EV_REFUND;
	gen_row_sett(r, p);
	r->qty = p->disp_units;
	if (v == 1 && w->n_fac >= 2) {
		r->fac = gen_other_fac(w, p->sett_fac);
	} else if (v == 2) {
		r->qty = p->disp_units + 1 + gen_rng_below(&w->rng, 3);
	} else {
		r->sett_day -= 365;
	}
}

/* DESTROYED: a sale, a count or a receipt elsewhere after destruction. */
static void gen_emit_post_destroy(gen_world_t *w, gen_pack_t *p, gen_row_t *r)
{
	uint32_t v = gen_rng_below(&w->rng, 5);
	if (v < 3) {
		gen_row_dispense(w, r, p, p->fac, p->units_left, true);
	} else if (v == 3) {
		r->type = EV_STOCKTAKE;
	} else {
		r->type = EV_RECEIVE;
		r->fac = w->n_fac >= 2 ? gen_other_fac(w, p->fac) : p->fac;
		r->cp_kind = GEN_CP_SUPPLIER;
		r->cp = gen_rng_below(&w->rng, GEN_SUPPLIERS);
	}
}

/* The rows of fraud steps: rejected events, no simulated state change. */
static void gen_emit_fraud(gen_world_t *w, gen_pack_t *p, gen_row_t *r)
{
	const gen_product_t *prod = gen_pack_product(w, p);
	uint32_t drug;
	p->flags |= GEN_PF_DONE;
	r->truth = gen_truth[p->fraud];
	switch (p->step) {
	case GEN_ST_REUSE:
	case GEN_ST_EXPIRED_DISPENSE:
	case GEN_ST_RECALLED_DISPENSE:
		gen_row_dispense(w, r, p, p->fac, prod->units, true);
		break;
	case GEN_ST_RESALE_RECEIVE:
		r->type = EV_RECEIVE;
		r->fac = p->other;
		r->cp_kind = GEN_CP_SUPPLIER;
		r->cp = gen_rng_below(&w->rng, GEN_SUPPLIERS);
		break;
	case GEN_ST_RESALE_DISPENSE:
		gen_row_dispense(w, r, p, p->other, prod->units, true);
		break;
	case GEN_ST_SUBST:
		gen_row_dispense(w, r, p, p->fac, (p->flags & GEN_PF_SPLIT) &&
				 p->chunk < p->units_left ? p->chunk : p->units_left, true);
		drug = gen_rng_below(&w->rng, w->n_drugs - 1);
		r->drug = w->drugs[drug >= prod->drug ? drug + 1 : drug];
		break;
	case GEN_ST_OVERDRAW:
		gen_row_dispense(w, r, p, p->fac, p->units_left + 1 +
				 gen_rng_below(&w->rng, p->chunk), true);
		break;
	case GEN_ST_DUP:
		gen_row_dispense(w, r, p, p->sett_fac, p->disp_units, false);
		break;
	case GEN_ST_BAD_REFUND:
		gen_emit_bad_refund(w, p, r);
		break;
	case GEN_ST_LATE_REFUND:
		r->type = EV_REFUND;
		r->fac = p->sett_fac;
		gen_row_sett(r, p);
		r->qty = p->disp_units;
		break;
	case GEN_ST_POST_DESTROY:
		gen_emit_post_destroy(w, p, r);
		break;
	case GEN_ST_EXPIRED_RECEIVE:
	case GEN_ST_RECALLED_RECEIVE:
		r->type = EV_RECEIVE;
		r->cp_kind = GEN_CP_SUPPLIER;
		r->cp = p->supplier;
		break;
	}
}

/* Write the row of p->step at t and apply its state change. */
static int gen_pack_emit(gen_world_t *w, gen_pack_t *p, int64_t t)
{
	gen_row_t r;
	gen_row_init(&r, p, t, 0, p->fac);
	switch (p->step) {
	case GEN_ST_RECEIVE:
	case GEN_ST_RETURN:
		r.type = p->step == GEN_ST_RECEIVE ? EV_RECEIVE : EV_RETURN;
		r.cp_kind = GEN_CP_SUPPLIER;
		r.cp = p->supplier;
		if (p->fraud == GEN_FRAUD_UNKNOWN_PRODUCT)
			r.truth = gen_truth[p->fraud];
		break;
	case GEN_ST_STOCKTAKE:
		r.type = EV_STOCKTAKE;
		p->flags |= GEN_PF_STOCKTAKEN;
		break;
	case GEN_ST_TRANSFER_OUT:
	case GEN_ST_TRANSFER_IN:
		r.type = p->step == GEN_ST_TRANSFER_OUT ? EV_TRANSFER_OUT : EV_TRANSFER_IN;
		r.fac = p->step == GEN_ST_TRANSFER_OUT ? p->fac : p->other;
		r.cp_kind = GEN_CP_FACILITY;
		r.cp = p->step == GEN_ST_TRANSFER_OUT ? p->other : p->fac;
		if (p->step == GEN_ST_TRANSFER_IN)
			p->fac = p->other;
		break;
	case GEN_ST_DISPENSE:
		gen_emit_dispense(w, p, &r);
		break;
	case GEN_ST_REFUND:
		gen_emit_refund(w, p, &r);
		break;
	case GEN_ST_DESTROY:
		r.type = EV_DESTROY;
		break;
	case GEN_ST_PLAN_DISPENSE:
	case GEN_ST_PLAN_BACK:
	case GEN_ST_PLAN_RESALE:
		gen_planned_row(w, p, &r);
		break;
	default:
		gen_emit_fraud(w, p, &r);
		break;
	}
	return gen_emit(w, &r);
}

int gen_pack_step(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next)
{
	uint64_t before = w->st->rows;
	int rc = gen_pack_emit(w, p, t);
	p->rows += (uint32_t)(w->st->rows - before);
	if (rc < 0)
		return rc;
	if (p->planned && w->row_ok)
		gen_planned_count(w, p);
	return gen_plan(w, p, t, next);
}
