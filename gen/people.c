/*
 * people.c - patients planted in the generated world (spec section 7):
 * hoarders, who buy one limited product at several facilities within days
 * until they are over its max_units_30d, and resellers, whose packs come
 * back onto the market elsewhere a few days after they bought them.
 *
 * Each planted dispense is a pack of its own, received at its facility
 * shortly before and sold whole to the planted patient on a settlement of
 * their own; a reseller's pack is then received at another facility (a
 * RETURNED_TO_MARKET) and half the time sold there again.  Planted
 * patient ids are PT01000000.. (hoarders) and PT02000000.. (resellers),
 * apart from everyone else's PT10000000..PT99999999.  The truth: each over-limit dispense
 * and each return is labelled in events.truth, and patients.truth lists
 * each planted patient with what was written of their plan (a run cut at
 * --events rows may end before all of it).
 */
#include <stdlib.h>
#include <string.h>

#include "yima/core/event.h"
#include "yima/util/error.h"
#include "gen_int.h"

#define GEN_HOARDER_ID0 1000000u
#define GEN_RESELLER_ID0 2000000u

static uint32_t person_add(gen_world_t *w, uint8_t kind, uint32_t id)
{
	gen_person_t *q = &w->people[w->n_people];
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->patient = id;
	return w->n_people++;
}

/* One planted pack, received at fac before its sale at t. */
static int plant(gen_world_t *w, uint32_t person, uint32_t product, uint16_t fac, int64_t t,
		 int64_t gap, gen_planned_t *pl)
{
	gen_pack_t p;
	int64_t recv = t - gap / 4 - (int64_t)gen_rng_below(&w->rng, (uint32_t)(gap / 2 + 1));

	memset(&p, 0, sizeof(p));
	p.product = product;
	p.fac = fac;
	p.supplier = (uint8_t)gen_rng_below(&w->rng, GEN_SUPPLIERS);
	int64_t lot = (gen_local_day(t) - w->start_day) / 20;
	p.lot = (uint16_t)(lot > 0 ? lot : 0);
	p.step = GEN_ST_RECEIVE;
	gen_expiry_for_lot(w, &p);
	p.units_left = w->products[product].units;
	pl->t = t;
	pl->person = person;
	pl->fac = fac;
	w->planned[w->n_planned] = *pl;
	p.planned = ++w->n_planned;
	return gen_plant(w, &p, recv > w->start_t ? recv : w->start_t);
}

/* Sales every 0.5-1.5 gaps from early enough that the plan fits the run */
static int64_t plan_start(gen_world_t *w)
{
	return w->start_t + (int64_t)((double)w->span * (0.05 + 0.5 * gen_rng_unit(&w->rng)));
}

static int64_t plan_gap(const gen_world_t *w)
{
	int64_t g = w->span / 30;
	return g < 600 ? 600 : g > 86400 ? 86400 : g;
}

static int plan_hoarder(gen_world_t *w, uint32_t h)
{
	uint32_t person = person_add(w, GEN_PERSON_HOARDER, GEN_HOARDER_ID0 + h);
	uint32_t product = gen_pick_product(w, w->normal, w->n_normal);
	gen_product_t *prod = &w->products[product];
	int64_t t = plan_start(w), gap = plan_gap(w);
	uint32_t base = gen_rng_below(&w->rng, w->n_fac);
	int rc = 0;

	if (prod->limit_packs == 0)
		prod->limit_packs = (uint8_t)(2 + gen_rng_below(&w->rng, 4));
	/* packs 0..limit_packs-1 reach the limit exactly; every one after
	 * that is over it */
	uint32_t k = prod->limit_packs + 1u + gen_rng_below(&w->rng, 2);
	for (uint32_t i = 0; i < k && rc == 0; i++) {
		gen_planned_t pl = { .over = i >= prod->limit_packs };
		rc = plant(w, person, product, (uint16_t)((base + i) % w->n_fac), t, gap, &pl);
		t += gap / 2 + (int64_t)gen_rng_below(&w->rng, (uint32_t)gap);
	}
	return rc;
}

static int plan_reseller(gen_world_t *w, uint32_t r)
{
	uint32_t person = person_add(w, GEN_PERSON_RESELLER, GEN_RESELLER_ID0 + r);
	uint32_t k = 2 + gen_rng_below(&w->rng, 4), base = gen_rng_below(&w->rng, w->n_fac);
	int64_t t = plan_start(w), gap = plan_gap(w);
	int rc = 0;

	for (uint32_t i = 0; i < k && rc == 0; i++) {
		uint16_t fac = (uint16_t)((base + i) % w->n_fac);
		gen_planned_t pl = { .back_t = t + gap / 4 + (int64_t)gen_rng_below(&w->rng, (uint32_t)(3 * gap)),
				     .back_fac = (uint16_t)(w->n_fac >= 2 ? (fac + 1 + gen_rng_below(&w->rng,
									w->n_fac - 1)) % w->n_fac : fac),
				     .resale = gen_rng_chance(&w->rng, 0.5) };
		rc = plant(w, person, gen_pick_product(w, w->normal, w->n_normal), fac, t, gap, &pl);
		t += gap / 2 + (int64_t)gen_rng_below(&w->rng, (uint32_t)gap);
	}
	return rc;
}

int gen_people_plan(gen_world_t *w)
{
	const gen_opts_t *o = w->opts;
	size_t people = (size_t)o->hoarders + o->resellers;
	int rc = 0;

	if (people == 0)
		return 0;
	w->people = calloc(people, sizeof(*w->people));
	w->planned = calloc(6 * people, sizeof(*w->planned));	/* 6 packs at most */
	if (w->people == NULL || w->planned == NULL)
		return YIMA_ENOMEM;
	for (uint32_t h = 0; h < o->hoarders && rc == 0; h++)
		rc = plan_hoarder(w, h);
	for (uint32_t r = 0; r < o->resellers && rc == 0; r++)
		rc = plan_reseller(w, r);
	return rc;
}

void gen_people_free(gen_world_t *w)
{
	free(w->people);
	free(w->planned);
}

/* ---- the planted pack's steps ------------------------------------------ */

int gen_planned_next(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next)
{
	const gen_planned_t *pl = &w->planned[p->planned - 1];

	switch (p->step) {
	case GEN_ST_RECEIVE:
		p->step = GEN_ST_PLAN_DISPENSE;
		*next = pl->t;
		return 1;
	case GEN_ST_PLAN_DISPENSE:
		if (pl->back_t == 0)
			return 0;
		p->step = GEN_ST_PLAN_BACK;
		*next = pl->back_t;
		return 1;
	case GEN_ST_PLAN_BACK:
		if (!pl->resale)
			return 0;
		p->step = GEN_ST_PLAN_RESALE;
		*next = t + 600 + gen_rng_below(&w->rng, (uint32_t)plan_gap(w));
		return 1;
	default:
		return 0;
	}
}

/* The sale to the planted patient on a settlement of their own: the
 * facility's open claim is closed before and after it. */
static void own_claim(gen_world_t *w, gen_pack_t *p, uint32_t fac, int64_t t, uint32_t patient)
{
	gen_facility_t *f = &w->fac[fac];
	f->open = false;
	gen_claim_join(w, p, fac, t);
	f->open = false;
	p->patient = patient;
}

/* A whole-pack sale at fac on the settlement gen_claim_join() gave it. */
static void sale(gen_world_t *w, gen_pack_t *p, gen_row_t *r, uint32_t fac)
{
	r->type = EV_DISPENSE;
	r->fac = fac;
	r->drug = w->drugs[gen_pack_product(w, p)->drug];
	r->qty = gen_rng_chance(&w->rng, 0.5) ? 0 : gen_pack_product(w, p)->units;
	r->has_sett = true;
	r->sett_fac = p->sett_fac;
	r->sett_day = p->sett_day;
	r->sett_no = p->sett_no;
	r->patient = p->patient;
}

void gen_planned_row(gen_world_t *w, gen_pack_t *p, gen_row_t *r)
{
	const gen_planned_t *pl = &w->planned[p->planned - 1];

	if (p->step == GEN_ST_PLAN_DISPENSE) {
		own_claim(w, p, pl->fac, r->t, w->people[pl->person].patient);
		sale(w, p, r, pl->fac);
		r->truth = pl->over ? "OVER_QUANTITY" : NULL;
		p->units_left = 0;
	} else if (p->step == GEN_ST_PLAN_BACK) {
		r->type = EV_RECEIVE;
		r->fac = pl->back_fac;
		r->cp_kind = GEN_CP_SUPPLIER;
		r->cp = gen_rng_below(&w->rng, GEN_SUPPLIERS);
		r->truth = "RETURNED_TO_MARKET";
	} else {	/* GEN_ST_PLAN_RESALE: sold again, to someone else */
		gen_claim_join(w, p, pl->back_fac, r->t);
		sale(w, p, r, pl->back_fac);
		/* sold again where it was first sold (one facility): REUSED */
		r->truth = pl->back_fac == pl->fac ? "REUSED" : "RETURNED_TO_MARKET";
	}
}

/* What of the plan was written: called after the step's row went out. */
void gen_planned_count(gen_world_t *w, const gen_pack_t *p)
{
	const gen_planned_t *pl = &w->planned[p->planned - 1];
	gen_person_t *q = &w->people[pl->person];

	if (p->step == GEN_ST_PLAN_DISPENSE) {
		q->dispensed++;
		q->over += pl->over;
	} else if (p->step == GEN_ST_PLAN_BACK) {
		q->returned++;
	}
}

int gen_people_write(gen_world_t *w, FILE *fp)
{
	static const char head[] = "kind,patient,dispensed,over_limit,returned\n";
	if (fp == NULL)
		return 0;
	if (fputs(head, fp) == EOF)
		return YIMA_EIO;
	for (uint32_t i = 0; i < w->n_people; i++) {
		const gen_person_t *q = &w->people[i];
		if (fprintf(fp, "%s,PT%08u,%u,%u,%u\n",
			    q->kind == GEN_PERSON_HOARDER ? "hoarder" : "reseller", q->patient,
			    q->dispensed, q->over, q->returned) < 0)
			return YIMA_EIO;
	}
	return 0;
}
