/*
 * apply.c - one event through the verifier: gather what the rules need
 * from the ledger, evaluate them (rules.c), append the record, and apply
 * the state change when the event is not rejected.
 *
 * Every event becomes exactly one record (spec section 3): accepted and
 * warned events with their findings, rejected ones as attempts that change
 * no state, broken rows as BAD_RECORD attempts.
 */
#define _GNU_SOURCE
#include <string.h>

#include "buf.h"
#include "rules.h"
#include "yima/error.h"

enum verdict verify_verdict(enum event_type type, finding_set_t f)
{
	bool any = false;
	for (int i = 0; i < F_COUNT; i++) {
		if (!(f & FINDING_BIT(i)))
			continue;
		if (i == F_BAD_RECORD || i == F_MALFORMED || rules_is_reject((enum finding)i, type))
			return VERDICT_REJECT;
		any = true;
	}
	return any ? VERDICT_WARN : VERDICT_ACCEPT;
}

void verify_input_normalize(verify_input_t *in)
{
	in->code_field = in->ev.code;
	if (code_normalize(in->ev.code.p, in->ev.code.n, &in->code, in->reason,
			   sizeof in->reason) < 0) {
		in->status = YIMA_EMALFORMED;
		return;
	}
	in->status = 0;
}

void verify_input_from_row(const csv_row_t *row, verify_input_t *in)
{
	memset(in, 0, sizeof *in);
	if (row->nfields >= 4)
		in->code_field = row->field[3];
	if (event_parse_row(row, &in->ev, in->reason, sizeof in->reason) < 0) {
		in->status = YIMA_EBADRECORD;
		in->raw = row->raw;
		if (row->nfields >= 8)
			in->row_patient = row->field[7];
		return;
	}
	verify_input_normalize(in);
}

/* ---- gathering the rule context ----------------------------------------- */

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

static int gather(ledger_txn_t *txn, const verify_input_t *in, rule_ctx_t *c)
{
	const code_t *code = &in->code;
	enum event_type t = in->ev.type;
	int rc;

	memset(c, 0, sizeof *c);
	c->ev = &in->ev;
	c->code = code;
	c->refund_window_days = ledger_refund_window(txn);
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
	}
	if (t == EV_DISPENSE || t == EV_RECEIVE)
		return ledger_recall_match(txn, code, &c->recalled);
	return 0;
}

/* ---- records -------------------------------------------------------------- */

static int fill_patient(ledger_txn_t *txn, const verify_input_t *in, ledger_event_t *rec)
{
	if (in->has_patient_mac) {
		rec->has_patient = true;
		memcpy(rec->patient_mac, in->patient_mac, LEDGER_MAC_LEN);
		return 0;
	}
	if (in->ev.patient.n == 0)
		return 0;
	rec->has_patient = true;
	return ledger_patient_mac(txn, in->ev.patient.p, in->ev.patient.n,
				  rec->patient_mac);
}

static void fill_event_fields(const verify_input_t *in, ledger_event_t *rec)
{
	const event_t *ev = &in->ev;

	rec->type = ev->type;
	rec->time = ev->time;
	rec->facility = ev->facility;
	rec->drug = ev->drug;
	rec->settlement = ev->settlement;
	rec->counterparty = ev->counterparty;
	rec->has_qty = ev->has_qty;
	rec->qty = ev->qty;
}

/* A broken row keeps its raw bytes as evidence, but never a patient id in
 * clear: where the row had a patient field, its bytes are replaced by the
 * field's keyed hash ("hmac:" + hex). */
static int mask_patient(ledger_txn_t *txn, const verify_input_t *in, buf_t *out)
{
	uint8_t mac[LEDGER_MAC_LEN];
	yima_slice_t raw = in->raw, pat = in->row_patient;
	const char *at;
	int rc;

	if (pat.n == 0 || raw.n == 0 || (at = memmem(raw.p, raw.n, pat.p, pat.n)) == NULL) {
		buf_put(out, raw.p, raw.n);
		return out->oom ? YIMA_ENOMEM : 0;
	}
	if ((rc = ledger_patient_mac(txn, pat.p, pat.n, mac)) < 0)
		return rc;
	buf_put(out, raw.p, (size_t)(at - raw.p));
	buf_puts(out, "hmac:");
	for (int i = 0; i < LEDGER_MAC_LEN; i++)
		buf_printf(out, "%02x", mac[i]);
	buf_put(out, at + pat.n, raw.n - (size_t)(at - raw.p) - pat.n);
	return out->oom ? YIMA_ENOMEM : 0;
}

static int append_attempt(ledger_txn_t *txn, const verify_input_t *in, unsigned claim,
			  verify_result_t *out)
{
	ledger_event_t rec;
	buf_t raw;
	int rc;

	memset(&rec, 0, sizeof rec);
	buf_init(&raw);
	rec.claim = claim;
	rec.reason = yima_slice_cstr(in->reason);
	rec.verdict = VERDICT_REJECT;
	if (in->status == YIMA_EBADRECORD) {
		rec.status = REC_BAD;
		rec.findings = FINDING_BIT(F_BAD_RECORD);
		if (in->raw_masked)
			buf_put(&raw, in->raw.p, in->raw.n);
		else if ((rc = mask_patient(txn, in, &raw)) < 0)
			goto free_raw;
		rec.raw = yima_slice((const char *)raw.p, raw.len);
		/* the code field as written, so a receipt can be rebuilt */
		rec.code = in->code_field;
	} else {
		rec.status = REC_MALFORMED;
		rec.findings = FINDING_BIT(F_MALFORMED);
		fill_event_fields(in, &rec);
		rec.code = in->ev.code;
		if ((rc = fill_patient(txn, in, &rec)) < 0)
			goto free_raw;
	}
	if ((rc = ledger_event_append(txn, &rec)) == 0) {
		out->seq = rec.seq;
		out->verdict = rec.verdict;
		out->findings = rec.findings;
		memcpy(out->hash, rec.hash, LEDGER_HASH_LEN);
	}
free_raw:
	buf_deinit(&raw);
	return rc;
}

static void note_sold_at(code_state_t *st, yima_slice_t f)
{
	if (st->sold_at[0] == '\0' && f.n <= FACILITY_MAX) {
		memcpy(st->sold_at, f.p, f.n);
		st->sold_at[f.n] = '\0';
	} else if (!yima_slice_eq_cstr(f, st->sold_at)) {
		st->sold_elsewhere_too = true;
	}
}

static int update_indexes(ledger_txn_t *txn, const verify_input_t *in, const rule_ctx_t *c,
			  const ledger_event_t *rec)
{
	code_state_t st = c->st;
	const code_t *code = &in->code;

	if (rec->verdict != VERDICT_REJECT) {
		st.applied = true;
		rules_apply_state(c, &st);
	}
	st.last_seq = rec->seq;
	st.events++;
	if (rec->type == EV_DISPENSE)
		note_sold_at(&st, in->ev.facility);
	int rc = ledger_code_put(txn, code->canon, code->canon_len, &st);
	if (rc < 0 || !(rec->type == EV_DISPENSE || rec->type == EV_REFUND))
		return rc;
	settle_entry_t e = { rec->seq, rec->type, rec->verdict, rec->units };
	return ledger_settle_put(txn, in->ev.facility, in->ev.settlement,
				 yima_slice(code->canon, code->canon_len), &e);
}

/* One event: evaluate (or take the findings of a claim rejected as a
 * whole), append its record, apply it unless rejected. */
static int apply_one(ledger_txn_t *txn, const verify_input_t *in, const verify_claim_mark_t *mark,
		     verify_result_t *out)
{
	unsigned claim = mark ? mark->flags : 0;
	rule_ctx_t c;
	ledger_event_t rec;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = ledger_txn_err(txn)) < 0)
		return rc;
	if (in->status != 0)
		return append_attempt(txn, in, claim, out);
	if ((rc = gather(txn, in, &c)) < 0)
		return rc;

	memset(&rec, 0, sizeof rec);
	rec.status = REC_OK;
	rec.claim = claim;
	fill_event_fields(in, &rec);
	rec.code = yima_slice(in->code.canon, in->code.canon_len);
	rec.batch = yima_slice(in->code.batch, in->code.batch_len);
	rec.has_expiry = in->code.has_expiry;
	rec.exp_year = in->code.exp_year;
	rec.exp_month = in->code.exp_month;
	rec.exp_day = in->code.exp_day;
	rec.units = c.units_resolved ? c.units : 0;
	if (claim & LEDGER_CLAIM_VOID) {
		rec.findings = mark->findings;
		rec.verdict = VERDICT_REJECT;
	} else {
		rec.findings = rules_evaluate(&c);
		rec.verdict = verify_verdict(rec.type, rec.findings);
	}
	rec.prev_code_seq = c.st.last_seq;
	if ((rc = fill_patient(txn, in, &rec)) < 0)
		return rc;
	if ((rc = ledger_event_append(txn, &rec)) < 0)
		return rc;
	if ((rc = update_indexes(txn, in, &c, &rec)) < 0)
		return rc;
	out->seq = rec.seq;
	out->verdict = rec.verdict;
	out->findings = rec.findings;
	memcpy(out->hash, rec.hash, LEDGER_HASH_LEN);
	return 0;
}

int verify_apply(ledger_txn_t *txn, const verify_input_t *in, verify_result_t *out)
{
	return apply_one(txn, in, NULL, out);
}

int verify_apply_claim(ledger_txn_t *txn, const verify_input_t *in,
		       const verify_claim_mark_t *mark, verify_result_t *out)
{
	return apply_one(txn, in, mark, out);
}

/* ---- evaluating a claim without writing ----------------------------------- */

static struct verify_seen *seen_find(verify_overlay_t *ov, const code_t *code)
{
	for (size_t i = ov->n; i-- > 0;)
		if (ov->seen[i].canon_len == code->canon_len &&
		    memcmp(ov->seen[i].canon, code->canon, code->canon_len) == 0)
			return &ov->seen[i];
	return NULL;
}

int verify_evaluate(ledger_txn_t *txn, const verify_input_t *in, verify_overlay_t *ov,
		    verify_result_t *out)
{
	struct verify_seen *prev;
	rule_ctx_t c;
	int rc;

	memset(out, 0, sizeof *out);
	if (in->status != 0) {
		out->verdict = VERDICT_REJECT;
		out->findings = FINDING_BIT(in->status == YIMA_EBADRECORD ? F_BAD_RECORD : F_MALFORMED);
		return 0;
	}
	if ((rc = gather(txn, in, &c)) < 0)
		return rc;
	/* An earlier applied code of this claim: its effect is what this one
	 * sees (all codes of a claim share facility and settlement). */
	if ((prev = seen_find(ov, &in->code)) != NULL) {
		c.st = prev->st;
		c.claim_has_dispense = true;
		c.claim_left_out += prev->units;
	}
	out->findings = rules_evaluate(&c);
	out->verdict = verify_verdict(in->ev.type, out->findings);
	if (out->verdict == VERDICT_REJECT)
		return 0;
	if (prev == NULL) {
		if (ov->n >= ov->cap)
			return YIMA_EINVAL;
		prev = &ov->seen[ov->n++];
		memcpy(prev->canon, in->code.canon, in->code.canon_len);
		prev->canon_len = in->code.canon_len;
		prev->units = 0;
	}
	prev->st = c.st;
	prev->st.applied = true;
	rules_apply_state(&c, &prev->st);
	prev->units += c.units_resolved ? c.units : 0;
	return 0;
}
