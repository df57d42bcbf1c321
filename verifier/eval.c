/*
 * eval.c - evaluating one event (see eval.h): gather what the rules of
 * spec section 4 look at from the ledger, run them (rules.c), and work
 * out the state the event leaves if it is applied.
 */
#include <string.h>

#include "eval.h"
#include "yima/util/error.h"

/* ---- the claim facts: dispenses and refunds under the same settlement ---- */

struct claim_scan {
	uint64_t dispense_seq;
	uint64_t dispensed;
	uint64_t refunded;
};

static int claim_entry(void *arg, yima_slice_t code, const settle_entry_t *e)
{
	struct claim_scan *cs = arg;
	(void)code;
	if (e->verdict == VERDICT_REJECT)
		return 0;
	if (e->type == EV_DISPENSE) {
		if (cs->dispense_seq == 0)
			cs->dispense_seq = e->seq;
		cs->dispensed += e->units;
	} else if (e->type == EV_REFUND) {
		cs->refunded += e->units;
	}
	return 0;
}

static int gather_claim(ledger_txn_t *txn, const verify_input_t *in, rule_ctx_t *c)
{
	struct claim_scan cs = { 0, 0, 0 };
	ledger_event_t d;
	int rc;

	rc = ledger_settle_scan(txn, in->ev.facility, in->ev.settlement,
				yima_slice(in->code.canon, in->code.canon_len), claim_entry, &cs);
	if (rc < 0 || cs.dispense_seq == 0)
		return rc;
	c->claim_has_dispense = true;
	c->claim_left_out = cs.dispensed > cs.refunded ? cs.dispensed - cs.refunded : 0;
	if (in->ev.type == EV_REFUND) {
		if ((rc = ledger_event_get(txn, cs.dispense_seq, &d)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		c->claim_dispense_time = d.time;
		if (!c->units_resolved) {
			c->units = d.units;
			c->units_resolved = d.units > 0;
		}
	}
	return 0;
}

/* The state a code starts from at its first applied event; the history
 * fields (kept from its first event of any verdict) stay. */
static void initial_state(rule_ctx_t *c)
{
	code_state_t hist = c->st;

	memset(&c->st, 0, sizeof c->st);
	c->st.last_seq = hist.last_seq;
	c->st.events = hist.events;
	memcpy(c->st.sold_at, hist.sold_at, sizeof c->st.sold_at);
	c->st.sold_elsewhere_too = hist.sold_elsewhere_too;
	c->st.units_known = c->in_catalog;
	if (c->in_catalog)
		c->st.units_left = c->st.pack_units = c->cat.pack_units;
}

/* The patient's keyed hash: the stored one on replay and for a claim's
 * items (keyed once per claim), else keyed here, once per event. */
static int gather_patient(ledger_txn_t *txn, const verify_input_t *in, rule_ctx_t *c)
{
	if (in->has_patient_mac) {
		c->has_patient = true;
		memcpy(c->patient_mac, in->patient_mac, LEDGER_MAC_LEN);
		return 0;
	}
	if (in->ev.patient.n == 0)
		return 0;
	c->has_patient = true;
	return ledger_patient_mac(txn, in->ev.patient.p, in->ev.patient.n, c->patient_mac);
}

static int gather(ledger_txn_t *txn, const verify_input_t *in, rule_ctx_t *c)
{
	const code_t *code = &in->code;
	enum event_type t = in->ev.type;
	int rc;

	memset(c, 0, sizeof *c);
	c->ev = &in->ev;
	c->code = code;
	c->refund_window_days = ledger_refund_window(txn);
	if ((rc = gather_patient(txn, in, c)) < 0)
		return rc;
	rc = ledger_code_get(txn, code->canon, code->canon_len, &c->st);
	if (rc < 0 && rc != YIMA_ENOTFOUND)
		return rc;
	rc = ledger_catalog_lookup(txn, code->product, code->product_len, &c->cat);
	if (rc < 0 && rc != YIMA_ENOTFOUND)
		return rc;
	c->in_catalog = rc == 0;
	if (!c->st.applied)
		initial_state(c);
	if (t == EV_DISPENSE || t == EV_REFUND) {
		if (in->ev.has_qty) {
			c->units = in->ev.qty;
			c->units_resolved = true;
		} else if (c->in_catalog) {
			c->units = c->cat.pack_units;
			c->units_resolved = true;
		}
		if ((rc = gather_claim(txn, in, c)) < 0)
			return rc;
		if ((rc = quantity_gather(txn, c)) < 0)
			return rc;
	}
	if (t == EV_DISPENSE || t == EV_RECEIVE)
		return ledger_recall_match(txn, code, &c->recalled);
	return 0;
}

/* ---- the rules and the state they leave ------------------------------------ */

static void conclude(verify_eval_t *e)
{
	e->findings = rules_evaluate(&e->c);
	e->verdict = finding_verdict(e->c.ev->type, e->findings);
	e->after = e->c.st;
	if (e->verdict != VERDICT_REJECT) {
		e->after.applied = true;
		rules_apply_state(&e->c, &e->after);
	}
}

int verify_eval(ledger_txn_t *txn, const verify_input_t *in, verify_eval_t *e)
{
	int rc;

	memset(e, 0, sizeof *e);
	if ((rc = gather(txn, in, &e->c)) < 0)
		return rc;
	conclude(e);
	return 0;
}

static struct verify_seen *seen_find(verify_overlay_t *ov, const code_t *code)
{
	for (size_t i = ov->n; i-- > 0;)
		if (ov->seen[i].canon_len == code->canon_len &&
		    memcmp(ov->seen[i].canon, code->canon, code->canon_len) == 0)
			return &ov->seen[i];
	return NULL;
}

int verify_eval_claim(ledger_txn_t *txn, const verify_input_t *in, verify_overlay_t *ov,
		      verify_eval_t *e)
{
	struct verify_seen *prev;
	int rc;

	memset(e, 0, sizeof *e);
	if ((rc = gather(txn, in, &e->c)) < 0)
		return rc;
	/* An earlier code of this claim that stands: its effect is what this
	 * one sees (all codes of a claim share facility and settlement). */
	if ((prev = seen_find(ov, &in->code)) != NULL) {
		e->c.st = prev->st;
		e->c.claim_has_dispense = true;
		e->c.claim_left_out += prev->units;
	}
	/* its patient's earlier items of the drug count (section 7) */
	if (quantity_applies(&e->c))
		e->c.patient_units += quantity_overlay_units(ov, e->c.cat.drug);
	conclude(e);
	if (e->verdict == VERDICT_REJECT)
		return 0;
	if ((rc = quantity_overlay_add(ov, &e->c)) < 0)
		return rc;
	if (prev == NULL) {
		if (ov->n >= ov->cap)
			return YIMA_EINVAL;
		prev = &ov->seen[ov->n++];
		memcpy(prev->canon, in->code.canon, in->code.canon_len);
		prev->canon_len = in->code.canon_len;
		prev->units = 0;
	}
	prev->st = e->after;
	prev->units += e->c.units_resolved ? e->c.units : 0;
	return 0;
}
