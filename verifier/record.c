/*
 * record.c - an evaluated event into the ledger (see eval.h): its record
 * appended to the chain, and the state and settlement index entry it
 * leaves written.
 *
 * Every event becomes exactly one record (spec section 3): accepted and
 * warned events with their findings, rejected ones as attempts that change
 * no state, broken rows as BAD_RECORD attempts.
 */
#define _GNU_SOURCE
#include <string.h>

#include "eval.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"

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
	hex_put(out, mac, LEDGER_MAC_LEN);
	buf_put(out, at + pat.n, raw.n - (size_t)(at - raw.p) - pat.n);
	return out->oom ? YIMA_ENOMEM : 0;
}

static int seal_broken(ledger_txn_t *txn, verify_input_t *in, buf_t *raw)
{
	int rc;

	if (in->raw_masked)
		return 0;
	if ((rc = mask_patient(txn, in, raw)) < 0)
		return rc;
	in->raw = yima_slice((const char *)raw->p, raw->len);
	in->raw_masked = true;
	in->row_patient = yima_slice("", 0);
	return 0;
}

int verify_inputs_seal(ledger_txn_t *txn, verify_input_t *items, size_t n, buf_t *raws)
{
	uint8_t mac[LEDGER_MAC_LEN];
	yima_slice_t keyed = yima_slice(NULL, 0);	/* the id mac holds the hash of */
	int rc;

	for (size_t i = 0; i < n; i++) {
		verify_input_t *in = &items[i];

		buf_reset(&raws[i]);
		if (in->status == YIMA_EBADRECORD) {
			if ((rc = seal_broken(txn, in, &raws[i])) < 0)
				return rc;
			continue;
		}
		if (in->has_patient_mac || in->ev.patient.n == 0)
			continue;
		if (!yima_slice_eq(in->ev.patient, keyed)) {	/* a claim's items share one */
			if ((rc = ledger_patient_mac(txn, in->ev.patient.p, in->ev.patient.n, mac)) < 0)
				return rc;
			keyed = in->ev.patient;
		}
		memcpy(in->patient_mac, mac, LEDGER_MAC_LEN);
		in->has_patient_mac = true;
		in->ev.patient = yima_slice("", 0);
	}
	return 0;
}

static void result_from(const ledger_event_t *rec, verify_result_t *out)
{
	out->seq = rec->seq;
	out->index = rec->index;
	out->verdict = rec->verdict;
	out->findings = rec->findings;
	memcpy(out->hash, rec->hash, LEDGER_HASH_LEN);
}

int verify_record_attempt(ledger_txn_t *txn, const verify_input_t *in, unsigned claim,
			  verify_result_t *out)
{
	ledger_event_t rec;
	buf_t raw;
	int rc;

	memset(out, 0, sizeof *out);
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
	if ((rc = ledger_event_append(txn, &rec)) == 0)
		result_from(&rec, out);
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

/* The code's new state: what the evaluation computed when the record is
 * applied, the base state otherwise; the history fields follow the
 * records whatever their verdict. */
static void next_state(const verify_eval_t *e, const code_state_t *base,
		       const ledger_event_t *rec, code_state_t *st)
{
	*st = rec->verdict != VERDICT_REJECT ? e->after : *base;
	st->last_seq = rec->seq;
	st->events = base->events + 1;
	memcpy(st->sold_at, base->sold_at, sizeof st->sold_at);
	st->sold_elsewhere_too = base->sold_elsewhere_too;
	if (rec->type == EV_DISPENSE)
		note_sold_at(st, rec->facility);
}

static int write_indexes(ledger_txn_t *txn, const verify_input_t *in, const ledger_event_t *rec,
			 const code_state_t *st)
{
	const code_t *code = &in->code;
	int rc = ledger_code_put(txn, code->canon, code->canon_len, st);

	if (rc < 0 || !(rec->type == EV_DISPENSE || rec->type == EV_REFUND))
		return rc;
	settle_entry_t se = { rec->seq, rec->type, rec->verdict, rec->units };
	return ledger_settle_put(txn, in->ev.facility, in->ev.settlement,
				 yima_slice(code->canon, code->canon_len), &se);
}

static void fill_code_fields(const verify_input_t *in, ledger_event_t *rec)
{
	rec->code = yima_slice(in->code.canon, in->code.canon_len);
	rec->batch = yima_slice(in->code.batch, in->code.batch_len);
	rec->has_expiry = in->code.has_expiry;
	rec->exp_year = in->code.exp_year;
	rec->exp_month = in->code.exp_month;
	rec->exp_day = in->code.exp_day;
}

/* The patient, as the evaluation keyed it; an applied dispense with a
 * patient becomes a link of the patient's chain (spec section 7), counted
 * under its product's drug code (always in the catalog: an applied
 * dispense has no UNKNOWN_PRODUCT).  A replayed record keeps the layout
 * it was written in. */
static void fill_chain(const verify_input_t *in, const verify_eval_t *e, ledger_event_t *rec)
{
	rec->has_patient = e->c.has_patient;
	memcpy(rec->patient_mac, e->c.patient_mac, LEDGER_MAC_LEN);
	rec->layout = in->record_layout;
	rec->patient_link = rec->has_patient && rec->type == EV_DISPENSE &&
			    rec->verdict != VERDICT_REJECT && e->c.in_catalog;
	if (rec->patient_link)
		rec->patient_drug = yima_slice_cstr(e->c.cat.drug);
}

int verify_record(ledger_txn_t *txn, const verify_input_t *in, const verify_eval_t *e,
		  const verify_claim_mark_t *mark, const code_state_t *base,
		  code_state_t *written, verify_result_t *out)
{
	ledger_event_t rec;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&rec, 0, sizeof rec);
	rec.status = REC_OK;
	rec.claim = mark ? mark->flags : 0;
	fill_event_fields(in, &rec);
	fill_code_fields(in, &rec);
	rec.units = e->c.units_resolved ? e->c.units : 0;
	if (rec.claim & LEDGER_CLAIM_VOID) {
		rec.findings = mark->findings;
		rec.verdict = VERDICT_REJECT;
	} else {
		rec.findings = e->findings;
		rec.verdict = e->verdict;
	}
	rec.prev_code_seq = base->last_seq;
	fill_chain(in, e, &rec);
	if ((rc = ledger_event_append(txn, &rec)) < 0)
		return rc;
	next_state(e, base, &rec, written);
	if ((rc = write_indexes(txn, in, &rec, written)) < 0)
		return rc;
	result_from(&rec, out);
	return 0;
}
