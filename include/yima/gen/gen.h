/*
 * gen.h - the synthetic-world generator: sample catalog, recall list and
 * events CSV for tests, demos and the ingest benchmarks.
 *
 * gen_world() simulates packs moving through a set of hospitals (H0001..)
 * and pharmacies (P0001..): received from suppliers (S0001..), counted,
 * transferred, returned, dispensed whole or split (拆零), refunded and
 * destroyed, as spec sections 2-4 describe them.  A configurable share of
 * packs carries a fraud pattern, injected as the event sequence that fraud
 * produces (a second sale of a used-up pack, a resale at another facility,
 * ...); a share of rows carries scanner noise in the code field; a share of
 * rows is malformed (bad code) or broken (bad record), each followed by the
 * rescan or the corrected row a real system would send next.
 *
 * The output is a pure function of the options: same options and seed, same
 * bytes, on any platform (no libm, no rand()).  The generator never reads anything (it does not use the product's
 * normalizer or CSV reader) and streams: memory is bounded by
 * opts->max_live packs in flight, whatever the number of events.
 */
#ifndef YIMA_GEN_H
#define YIMA_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/util/progress.h"

/* Fraud patterns, each injected as real event sequences (spec section 4
 * names the finding each one should raise). */
enum gen_fraud {
	GEN_FRAUD_NONE = 0,
	GEN_FRAUD_REUSED,		/* a used-up pack dispensed again, same facility */
	GEN_FRAUD_RESOLD,		/* a dispensed pack received and sold at another facility */
	GEN_FRAUD_SUBSTITUTED,		/* dispense claims another drug code */
	GEN_FRAUD_OVERDRAWN,		/* split dispense of more units than are left */
	GEN_FRAUD_EXPIRED,		/* receive or dispense after the AI 17 date */
	GEN_FRAUD_RECALLED,		/* code, product or batch on the recall list */
	GEN_FRAUD_DUP_IN_CLAIM,		/* same code twice in one settlement */
	GEN_FRAUD_REFUND_UNMATCHED,	/* refund no dispense backs */
	GEN_FRAUD_REFUND_LATE,		/* refund after the 10-day window */
	GEN_FRAUD_DESTROYED,		/* an event on a destroyed pack */
	GEN_FRAUD_UNKNOWN_PRODUCT,	/* product id not in the catalog */
	GEN_FRAUD_NOT_RECEIVED,		/* dispense without any receipt */
	GEN_FRAUD_COUNT
};

/* Scanner noise and code forms, counted per row (a row may carry several). */
enum gen_noise {
	GEN_NOISE_AIM = 0,		/* ]d2 ]Q3 ]C1 ]e0 prefix */
	GEN_NOISE_FULLWIDTH,		/* digits/letters as U+FF10.. */
	GEN_NOISE_LEADING_WS,		/* spaces or TAB before the code */
	GEN_NOISE_TRAILING_WS,		/* space, TAB, CR, LF after the code */
	GEN_NOISE_CRLF,			/* field holds CR or LF (needs quoting) */
	GEN_NOISE_INNER_SPACE,		/* spaces inside a 20-digit code */
	GEN_NOISE_GS1_RAW,		/* GS1 raw element string with GS */
	GEN_NOISE_GS1_LEADING_GS,	/* raw element string led by GS (FNC1) */
	GEN_NOISE_GS1_HUMAN,		/* printed (01)...(21)... form */
	GEN_NOISE_GS1_ORDER,		/* AIs not in the usual 01,17,10,21 order */
	GEN_NOISE_QUOTED,		/* code field quoted without need */
	GEN_NOISE_COUNT
};

/* Malformed code variants (spec section 1: MALFORMED). */
enum gen_malformed {
	GEN_MAL_DIGITS19 = 0,		/* 20-digit code missing a digit */
	GEN_MAL_DIGITS21,		/* 20-digit code with a digit too many */
	GEN_MAL_LETTER,			/* letter O typed for digit 0 */
	GEN_MAL_CHECK_DIGIT,		/* GTIN-14 with a wrong check digit */
	GEN_MAL_UNKNOWN_AI,		/* an AI GS1 does not assign */
	GEN_MAL_LONG_SERIAL,		/* AI 21 over 20 characters */
	GEN_MAL_BAD_DATE,		/* AI 17 month 13 */
	GEN_MAL_NO_SERIAL,		/* AI 21 missing */
	GEN_MAL_DOUBLE_GS,		/* two GS in a row */
	GEN_MAL_SPACE_PRINTED,		/* space inside the printed form */
	GEN_MAL_CONTROL,		/* a control byte (BEL) in the code */
	GEN_MAL_EMPTY,			/* empty code field */
	GEN_MAL_COUNT
};

/* Broken rows (spec section 3: BAD_RECORD). */
enum gen_bad {
	GEN_BAD_MONTH13 = 0,		/* time with month 13 */
	GEN_BAD_FEB30,			/* time on 30 February */
	GEN_BAD_HOUR25,			/* time with hour 25 */
	GEN_BAD_NO_OFFSET,		/* time without UTC offset */
	GEN_BAD_TYPE,			/* unknown event type */
	GEN_BAD_NO_SETTLEMENT,		/* dispense without settlement */
	GEN_BAD_NO_DRUG,		/* dispense without drug */
	GEN_BAD_QTY,			/* qty 0, negative, fractional or text */
	GEN_BAD_FIELDS8,		/* eight fields */
	GEN_BAD_FIELDS10,		/* ten fields */
	GEN_BAD_FACILITY,		/* facility id outside [A-Z0-9]{1,20} */
	GEN_BAD_COUNT
};

#define GEN_TYPE_COUNT 9	/* index = enum event_type of yima/event.h */

typedef struct gen_opts {
	unsigned facilities;	/* >= 1; about a third are hospitals */
	unsigned products;	/* catalog rows, >= 1 */
	unsigned days;		/* time span the events cover, >= 1 */
	uint64_t events;	/* data rows written, exactly */
	uint64_t seed;
	int start_year, start_month, start_day;	/* first day, +08:00 */
	double fraud_rate;	/* share of packs given a fraud pattern */
	double noise_rate;	/* share of rows with scanner noise */
	double malformed_rate;	/* share of rows scanned as a malformed code
				 * (a clean rescan follows) */
	double bad_row_rate;	/* share of rows sent broken (a corrected
				 * row follows) */
	unsigned max_live;	/* packs in flight at most: bounds memory
				 * (80 bytes each) */
	/* Spec section 7 (all 0 by default: the world is as before). */
	double limit_rate;	/* share of products given a max_units_30d
				 * (2-5 packs); the catalog gains the column
				 * when any product has one */
	unsigned hoarders;	/* patients buying one limited product at
				 * several facilities until over its limit */
	unsigned resellers;	/* patients whose 2-5 packs come back onto
				 * the market at other facilities */
	yima_progress_fn *progress;	/* NULL = none; items and done are
					 * rows written, total events */
	void *progress_arg;
} gen_opts_t;

/* Where the world goes.  events is required; the others may be NULL.
 *   canon: one line per data row of events, the canonical code the row's
 *          code should normalize to (spec section 1), empty when the row
 *          is malformed or a bad record.  Feeds bench_floor.
 *   truth: one line per data row, the anomaly injected into that row: "-"
 *          for a legitimate row, else a finding name of spec section 4
 *          ("REUSED", "MALFORMED", "BAD_RECORD", ...).  Only the injected
 *          cause is named; consequences (a later NOT_RECEIVED after a
 *          rejected receive) are not.  A hoarder's over-limit dispense is
 *          "OVER_QUANTITY", a reseller's pack coming back
 *          "RETURNED_TO_MARKET".
 *   patients: the planted patients, CSV "kind,patient,dispensed,
 *          over_limit,returned": hoarder or reseller, the patient id as
 *          in the events, and how many of their dispenses, over-limit
 *          dispenses and returned packs the events hold. */
typedef struct gen_files {
	FILE *catalog;
	FILE *recalls;
	FILE *events;
	FILE *canon;
	FILE *truth;
	FILE *patients;
} gen_files_t;

/* What was written, for summaries and tests. */
typedef struct gen_stats {
	uint64_t rows;				/* data rows in events */
	uint64_t packs;				/* packs simulated */
	uint64_t by_type[GEN_TYPE_COUNT];	/* rows per event type
						 * (0: unknown type) */
	uint64_t fraud[GEN_FRAUD_COUNT];	/* packs per pattern */
	uint64_t noise[GEN_NOISE_COUNT];	/* rows per noise kind */
	uint64_t malformed[GEN_MAL_COUNT];	/* rows per malformed kind */
	uint64_t bad[GEN_BAD_COUNT];		/* rows per bad-record kind */
	uint64_t noisy_rows;			/* rows with any noise */
	uint64_t catalog_rows;
	uint64_t recall_lines;
	int64_t first_time, last_time;		/* Unix seconds of the rows */
	uint64_t max_live_seen;			/* peak packs in flight */
} gen_stats_t;

/* Defaults: 8 facilities, 200 products, 30 days, 100000 events, seed 1,
 * start 2026-01-05, fraud 2%, noise 10%, malformed 0.5%, bad rows 0.3%,
 * at most 1 Mi packs in flight. */
void gen_opts_default(gen_opts_t *opts);

/* Check opts as gen_world() does, before any output exists.  Returns 0 or
 * YIMA_EINVAL with the rule broken in why ("days must be 1..36500"). */
int gen_opts_check(const gen_opts_t *opts, char *why, size_t whylen);

/*
 * Generate the world described by opts into files (spec section 2 catalog
 * with an extra `manufacturer` column; recall list, one `yima recall add`
 * argument per line; spec section 3 events in time order).  stats may be
 * NULL.  The FILEs are written, not flushed beyond what fwrite does, and
 * not closed: the caller owns them and must check fclose().
 * Returns 0, YIMA_EINVAL (bad option, why says which), YIMA_ENOMEM or
 * YIMA_EIO (a write failed).
 */
int gen_world(const gen_opts_t *opts, const gen_files_t *files,
	      gen_stats_t *stats, char *why, size_t whylen);

/* Names for reports: "REUSED", "aim_prefix", "digits19", "month13", ...
 * Static storage; "?" for an out-of-range value. */
const char *gen_fraud_name(enum gen_fraud f);
const char *gen_noise_name(enum gen_noise n);
const char *gen_malformed_name(enum gen_malformed m);
const char *gen_bad_name(enum gen_bad b);

#endif
