/*
 * claim.c - settlements (claims) at the generated facilities.
 *
 * A settlement id is the facility id + the local date (YYMMDD) + a
 * counter of that facility's settlements that day ("H00012601060072"),
 * so ids are unique per facility.  Dispenses at a facility within ten
 * minutes of each other join the open claim (up to a few codes, one
 * patient), so a claim carries several codes as real prescriptions do.
 * A pack never joins the claim its previous dispense was in: that would
 * be a DUPLICATE_IN_CLAIM, which only the DUP_IN_CLAIM pattern injects.
 */
#include "gen_int.h"

#define GEN_CLAIM_WINDOW 600	/* seconds a claim stays open for more codes */

uint32_t gen_patient(gen_world_t *w)
{
	if (gen_rng_chance(&w->rng, 0.1))
		return 0;	/* self-pay or no card scanned: empty patient */
	return 10000000u + gen_rng_below(&w->rng, 90000000u);
}

static uint32_t gen_claim_size(gen_rng_t *r)
{
	static const uint8_t size[] = { 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5 };
	return size[gen_rng_below(r, sizeof(size))];
}

void gen_claim_join(gen_world_t *w, gen_pack_t *p, uint32_t fac, int64_t t)
{
	gen_facility_t *f = &w->fac[fac];
	int64_t day = gen_local_day(t);
	bool was_in = p->sett_fac == fac && p->sett_day == f->open_day &&
		      p->sett_no == f->open_no && (p->flags & GEN_PF_DISPENSED);
	if (f->open && day == f->open_day && t - f->open_t <= GEN_CLAIM_WINDOW &&
	    f->open_items < f->open_max && !was_in) {
		f->open_items++;
	} else {
		if (day != f->sett_day) {
			f->sett_day = day;
			f->sett_count = 0;
		}
		f->open = true;
		f->open_t = t;
		f->open_day = day;
		f->open_no = ++f->sett_count;
		f->open_items = 1;
		f->open_max = gen_claim_size(&w->rng);
		f->open_patient = gen_patient(w);
	}
	p->sett_fac = (uint16_t)fac;
	p->sett_day = (int32_t)day;
	p->sett_no = f->open_no;
	p->patient = f->open_patient;
}

void gen_sett_text(const gen_world_t *w, uint32_t fac, int64_t day, uint32_t no,
		   gen_str_t *s)
{
	int y, m, d;
	gen_civil_from_days(day, &y, &m, &d);
	gen_str_puts(s, w->fac[fac].id);
	gen_str_putu(s, (uint64_t)(y % 100), 2);
	gen_str_putu(s, (uint64_t)m, 2);
	gen_str_putu(s, (uint64_t)d, 2);
	gen_str_putu(s, no, 4);
}
