/*
 * view.c - what a caller may see of a code (see yima/verifier/view.h).
 */
#include <string.h>

#include "yima/verifier/view.h"

static bool applied(const ledger_event_t *e)
{
	return e->status == REC_OK && e->verdict != VERDICT_REJECT;
}

bool view_handled(const query_t *q, view_own_fn *own, void *arg)
{
	for (size_t i = 0; i < q->h.n; i++)
		if (applied(&q->h.ev[i]) && own(arg, q->h.ev[i].facility))
			return true;
	return false;
}

static bool is_facility(void *arg, yima_slice_t f)
{
	return yima_slice_eq_cstr(f, arg);
}

bool view_facility_handled(const query_t *q, const char *facility)
{
	return view_handled(q, is_facility, (void *)facility);
}

void view_redact_for_facility(query_t *q, const char *facility)
{
	view_redact(q, is_facility, (void *)facility);
}

void view_redact(query_t *q, view_own_fn *own, void *arg)
{
	for (size_t i = 0; i < q->h.n; i++) {
		ledger_event_t *e = &q->h.ev[i];
		if (own(arg, e->facility))
			continue;
		e->settlement = yima_slice("", 0);
		e->counterparty = yima_slice("", 0);
		e->has_patient = false;
		memset(e->patient_mac, 0, sizeof e->patient_mac);
		e->raw = yima_slice("", 0);
	}
}

/* Recalled: the code, its product, or the product with a batch it was
 * scanned with (the one asked about, or any recorded in its history). */
static int recalled_any(ledger_txn_t *txn, const query_t *q, bool *hit)
{
	code_t c = q->code;
	int rc;

	if ((rc = ledger_recall_match(txn, &c, hit)) < 0 || *hit)
		return rc;
	for (size_t i = 0; i < q->h.n; i++) {
		const ledger_event_t *e = &q->h.ev[i];
		if (e->status != REC_OK || e->batch.n == 0 || e->batch.n > CODE_BATCH_MAX)
			continue;
		memcpy(c.batch, e->batch.p, e->batch.n);
		c.batch[e->batch.n] = '\0';
		c.batch_len = e->batch.n;
		if ((rc = ledger_recall_match(txn, &c, hit)) < 0 || *hit)
			return rc;
	}
	return 0;
}

/* Units refunded (applied) against the dispense at index d: refunds of
 * the same facility and settlement after it. */
static uint64_t refunded_against(const query_t *q, size_t d)
{
	const ledger_event_t *disp = &q->h.ev[d];
	uint64_t r = 0;

	for (size_t i = d + 1; i < q->h.n; i++) {
		const ledger_event_t *e = &q->h.ev[i];
		if (e->type == EV_REFUND && applied(e) && yima_slice_eq(e->facility, disp->facility) &&
		    yima_slice_eq(e->settlement, disp->settlement))
			r += e->units;
	}
	return r;
}

static bool seen_facility(const query_t *q, size_t upto, yima_slice_t f)
{
	for (size_t i = 0; i < upto; i++)
		if (applied(&q->h.ev[i]) && yima_slice_eq(q->h.ev[i].facility, f))
			return true;
	return false;
}

static const char *public_status(const query_t *q, bool recalled)
{
	const code_state_t *st = &q->st;

	if (st->destroyed)
		return "destroyed";
	if (recalled)
		return "recalled";
	if (st->units_known) {
		if (st->units_left == 0)
			return "dispensed";
		if (st->units_left < st->pack_units)
			return "partly_dispensed";
		return "in_stock";
	}
	return st->dispensed_at[0] ? "dispensed" : "in_stock";
}

int view_public(ledger_txn_t *txn, const query_t *q, view_public_t *v)
{
	uint64_t dispensed = 0, refunded = 0;
	bool recalled = false;
	int rc;

	memset(v, 0, sizeof *v);
	if ((rc = recalled_any(txn, q, &recalled)) < 0)
		return rc;
	if ((v->in_catalog = q->in_catalog)) {
		v->name = q->cat.name;
		v->spec = q->cat.spec;
		v->pack_units = q->cat.pack_units;
	}
	for (size_t i = 0; i < q->h.n; i++) {
		const ledger_event_t *e = &q->h.ev[i];
		if (finding_set_rejects(e->type, e->findings))
			v->any_reject = true;
		if (!applied(e))
			continue;
		if (!seen_facility(q, i, e->facility))
			v->facilities++;
		if (e->type == EV_DISPENSE) {
			dispensed += e->units;
			if (e->units == 0 || refunded_against(q, i) < e->units)
				v->sales++;
		} else if (e->type == EV_REFUND) {
			refunded += e->units;
		}
	}
	v->units_dispensed = dispensed > refunded ? dispensed - refunded : 0;
	v->status = public_status(q, recalled);
	return 0;
}
