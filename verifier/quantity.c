/*
 * quantity.c - what OVER_QUANTITY looks at (spec section 7): S, the units
 * of one patient's applied dispenses of one drug code, net of the units
 * refunded against them, whose time lies in (t - 30 days, t].
 *
 * The ledger walks the patient's chains of applied dispenses of the time
 * buckets the window touches (ledger_patient_walk()); refunds are found through the settlement index
 * (a refund is against the applied dispense of its facility, settlement
 * and code: there is at most one).  Only a dispense of a product with a
 * limit pays for this; a claim adds its own earlier items (eval.c).
 */
#include <string.h>

#include "eval.h"
#include "yima/util/error.h"

struct window {
	ledger_txn_t *txn;
	const char *drug;	/* the drug code counted */
	yima_time_t t;		/* this event's time */
	uint64_t sum;
	uint64_t enough;	/* a sum that decides it: S + n > L */
};

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* (t - 30 days, t], as instants */
static bool in_window(const yima_time_t *x, const yima_time_t *t)
{
	int64_t start = t->sec - RULES_OQ_WINDOW_SEC;

	if (x->sec < start || (x->sec == start && x->nsec <= t->nsec))
		return false;
	return yima_time_cmp(x, t) <= 0;
}

struct refunds {
	uint64_t after_seq;	/* the dispense */
	uint64_t units;
};

static int refund_entry(void *arg, yima_slice_t code, const settle_entry_t *e)
{
	struct refunds *r = arg;
	(void)code;
	if (e->type == EV_REFUND && e->verdict != VERDICT_REJECT && e->seq > r->after_seq)
		r->units = add_sat(r->units, e->units);
	return 0;
}

static int count_dispense(void *arg, const ledger_event_t *d)
{
	struct window *w = arg;
	struct refunds r = { d->seq, 0 };
	int rc;

	if (!yima_slice_eq_cstr(d->patient_drug, w->drug) || !in_window(&d->time, &w->t))
		return 0;
	rc = ledger_settle_scan(w->txn, d->facility, d->settlement, d->code, refund_entry, &r);
	if (rc < 0)
		return rc;
	if (d->units > r.units)
		w->sum = add_sat(w->sum, d->units - r.units);
	return w->sum >= w->enough;	/* 1: the answer is known, stop */
}

bool quantity_applies(const rule_ctx_t *c)
{
	return c->ev->type == EV_DISPENSE && c->has_patient && c->in_catalog &&
	       c->cat.max_units_30d > 0;
}

/* The walk stops as soon as the sum decides the rule (S >= L - n + 1),
 * so its work is bounded by the limit as well as by the window, however
 * many dispenses one patient has. */
int quantity_gather(ledger_txn_t *txn, rule_ctx_t *c)
{
	struct window w = { txn, c->cat.drug, c->ev->time, 0, 0 };
	int rc;

	c->patient_units = 0;
	if (!quantity_applies(c) || !c->units_resolved || c->units > c->cat.max_units_30d)
		return 0;	/* n > L: over whatever S is */
	w.enough = c->cat.max_units_30d - c->units + 1;
	rc = ledger_patient_walk(txn, c->patient_mac, c->ev->time.sec - RULES_OQ_WINDOW_SEC,
				 c->ev->time.sec, count_dispense, &w);
	if (rc < 0)
		return rc;
	c->patient_units = w.sum;
	return 0;
}

/* ---- a claim's own earlier items --------------------------------------- */

uint64_t quantity_overlay_units(const verify_overlay_t *ov, const char *drug)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < ov->ndoses; i++)
		if (strcmp(ov->doses[i].drug, drug) == 0)
			sum = add_sat(sum, ov->doses[i].units);
	return sum;
}

int quantity_overlay_add(verify_overlay_t *ov, const rule_ctx_t *c)
{
	struct verify_dose *d;

	if (c->ev->type != EV_DISPENSE || !c->has_patient || !c->in_catalog || !c->units_resolved)
		return 0;
	for (size_t i = 0; i < ov->ndoses; i++) {
		d = &ov->doses[i];
		if (strcmp(d->drug, c->cat.drug) == 0) {
			d->units = add_sat(d->units, c->units);
			return 0;
		}
	}
	if (ov->ndoses >= ov->cap)
		return YIMA_EINVAL;
	d = &ov->doses[ov->ndoses++];
	memcpy(d->drug, c->cat.drug, sizeof d->drug);
	d->units = c->units;
	return 0;
}
