/*
 * view.h - what a caller may see of a code (GET /v1/codes/{code}, spec
 * section 6): who may read its history, and the public view's counts.
 */
#ifndef YIMA_VERIFIER_VIEW_H
#define YIMA_VERIFIER_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "yima/verifier/query.h"

/* The public view: no facility, settlement or patient data. */
typedef struct view_public {
	bool in_catalog;
	yima_slice_t name, spec;	/* into the snapshot, when in_catalog */
	uint64_t pack_units;
	uint64_t units_dispensed;	/* applied dispenses minus refunds */
	uint64_t sales;			/* applied dispenses not fully refunded */
	uint64_t facilities;		/* facilities with an applied event */
	const char *status;		/* in_stock, partly_dispensed, dispensed,
					 * destroyed, recalled */
	bool any_reject;		/* a reject finding was recorded */
} view_public_t;

/* Compute the public view of a loaded code (reads the recall list through
 * txn).  A split pack sold in four parts is one pack in four sales.
 * Returns 0 or a ledger error. */
int view_public(ledger_txn_t *txn, const query_t *q, view_public_t *v);

/* Which facilities a caller speaks for: a facility for itself, a relay
 * platform for those its patterns match.  True if f is one of them. */
typedef bool view_own_fn(void *arg, yima_slice_t f);

/* True if one of the caller's facilities has an applied event of the code:
 * such a caller may read its history; a rejected attempt does not open
 * another facility's history to it. */
bool view_handled(const query_t *q, view_own_fn *own, void *arg);

/* The same for one facility. */
bool view_facility_handled(const query_t *q, const char *facility);

/*
 * The history as a facility that handled the code may see it
 * (docs/decisions.md, "What a facility sees of a code"): its own events
 * whole; of other facilities' events what a returned-pack check needs
 * (when, where, what kind of event, how many units, the verdict and
 * findings, the chain hash), not their settlement ids or counterparties.
 * Patient hashes and raw rows are never part of a history answer.
 * Blanks those fields of the events of facilities the caller does not
 * speak for, in place; regulators get q as it is.
 */
void view_redact(query_t *q, view_own_fn *own, void *arg);

/* The same for one facility. */
void view_redact_for_facility(query_t *q, const char *facility);

#endif
