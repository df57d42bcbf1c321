/*
 * suspects.h - resale leads (spec section 7, `yima suspects`): the
 * patients whose dispensed packs came back onto the market, worst first,
 * with the evidence.
 *
 * A record of a code with finding RETURNED_TO_MARKET or REUSED
 * *resurfaces* the code's last applied dispense before it, if that
 * dispense had a patient.  Per patient: the distinct codes resurfaced by
 * a record whose time is in the period (packs), per code its first such
 * record (evidence, by resurfaced seq), the facilities that dispensed
 * those packs to them, and their OVER_QUANTITY dispenses in the period.
 *
 * One read snapshot (writers never wait for it), one sequential pass over
 * the event records; a resurfacing record costs a walk back through its
 * code's history to the dispense.  Memory holds only flagged patients and
 * their evidence, never per event or per code.
 */
#ifndef YIMA_SUSPECTS_H
#define YIMA_SUSPECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/ledger/ledger.h"
#include "yima/util/progress.h"

typedef struct suspects_opts {
	bool has_from, has_to;
	yima_time_t from, to;		/* [from, to): to is excluded */
	uint64_t min_packs;		/* list patients with at least this
					 * many packs (>= 1; the CLI's
					 * default is 2) */
	yima_progress_fn *progress;	/* NULL = none; items are records */
	void *progress_arg;
} suspects_opts_t;

/* One pack of a suspect: its code, the dispense it resurfaced and the
 * first record in the period that resurfaced it.  Strings point into the
 * suspects_t they came from. */
typedef struct suspect_evidence {
	const char *code;		/* canonical, NUL-terminated */
	uint64_t dispense_seq;
	const char *dispensed_at;	/* facility of the dispense */
	uint64_t resurfaced_seq;
	const char *resurfaced_at;	/* facility of the resurfacing record */
	enum finding finding;		/* F_RETURNED_TO_MARKET or F_REUSED */
} suspect_evidence_t;

typedef struct suspect {
	uint8_t patient[LEDGER_MAC_LEN];	/* keyed hash, as stored */
	uint64_t packs;			/* distinct codes = nevidence */
	uint64_t over_quantity;		/* OVER_QUANTITY dispenses in the period */
	uint64_t facilities;		/* distinct dispensed_at of the evidence */
	size_t nevidence;
	const suspect_evidence_t *evidence;	/* by resurfaced_seq */
} suspect_t;

typedef struct suspects_stats {
	uint64_t records;		/* event records read */
	uint64_t resurfacing;		/* resurfacing records in the period */
	uint64_t with_patient;		/* ... whose dispense had a patient */
	uint64_t patients;		/* patients with a resurfaced pack */
	uint64_t over_quantity;		/* OVER_QUANTITY dispenses in the period */
	uint64_t listed;		/* patients with >= min_packs packs */
} suspects_stats_t;

typedef struct suspects suspects_t;

/*
 * Find the suspects of the ledger as txn sees it.  Returns 0 with *out
 * set (free with suspects_free()), YIMA_ENOMEM, or a ledger error; why
 * says which.
 */
int suspects_collect(ledger_txn_t *txn, const suspects_opts_t *o, suspects_t **out,
		     char *why, size_t whylen);
void suspects_free(suspects_t *s);

/* The listed suspects, worst first (packs descending, then over_quantity
 * descending, then patient ascending), and what the run counted. */
size_t suspects_count(const suspects_t *s);
const suspect_t *suspects_get(const suspects_t *s, size_t i);
const suspects_stats_t *suspects_stats(const suspects_t *s);

enum suspects_format {
	SUSPECTS_JSONL,		/* one JSON object per suspect (spec section 7) */
	SUSPECTS_CSV,		/* one row per evidence item, with a header */
};

/* `yima suspects`: collect in one read snapshot of lg and write to out.
 * Returns 0 with *st filled, YIMA_EIO if writing failed, or an error as
 * suspects_collect(); why says which. */
int suspects_write(ledger_t *lg, const suspects_opts_t *o, enum suspects_format fmt, FILE *out,
		   suspects_stats_t *st, char *why, size_t whylen);

#endif
