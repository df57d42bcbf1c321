/*
 * rules.h - the findings table of spec section 4 as code (rules.c), and
 * the state changes of its "event at F" table.  Private to verifier/.
 */
#ifndef YIMA_RULES_H
#define YIMA_RULES_H

#include "yima/verifier/verify.h"

/* Everything the rules look at for one event, gathered beforehand so the
 * rules themselves are pure functions of this struct. */
typedef struct rule_ctx {
	const event_t *ev;
	const code_t *code;
	code_state_t st;		/* state before the event (initial state
					 * if no applied event set it yet) */
	bool in_catalog;		/* product in the catalog now */
	catalog_entry_t cat;
	bool units_resolved;		/* dispense/refund: n is known */
	uint64_t units;			/* n: qty, or pack units if qty empty */
	bool recalled;			/* code, product or batch recalled */
	bool claim_has_dispense;	/* an applied dispense of this code in
					 * (facility, settlement) */
	uint64_t claim_left_out;	/* its units minus applied refunds */
	yima_time_t claim_dispense_time;
	uint32_t refund_window_days;
	bool has_patient;		/* the event names a patient: */
	uint8_t patient_mac[LEDGER_MAC_LEN];	/* their keyed hash */
	/* OVER_QUANTITY (spec section 7), gathered for a dispense with a
	 * patient of a product with a limit (cat.max_units_30d > 0): the
	 * units, net of refunds, of the patient's applied dispenses of the
	 * drug code in the 30 days up to the event, claim items included;
	 * counted only as far as it decides the rule (quantity.c) */
	uint64_t patient_units;
} rule_ctx_t;

/* The window of spec section 7: (t - 30 days, t]. */
#define RULES_OQ_WINDOW_SEC 2592000

/* All findings that apply (NOT_RECEIVED and OVER_QUANTITY only when no
 * reject applies). */
finding_set_t rules_evaluate(const rule_ctx_t *c);

/* The state after an accepted or warned event (spec section 4 table). */
void rules_apply_state(const rule_ctx_t *c, code_state_t *st);

#endif
