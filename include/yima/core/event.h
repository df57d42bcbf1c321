/*
 * event.h - one scan event, and its parsing from an events CSV row
 * (spec section 3).
 *
 * event_t is the single in-memory form of an event, whichever way it
 * arrived (CSV row, protobuf request, a ledger record being replayed).
 */
#ifndef YIMA_EVENT_H
#define YIMA_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "yima/core/limits.h"
#include "yima/util/slice.h"

enum event_type {
	EV_NONE = 0,
	EV_RECEIVE,
	EV_RETURN,
	EV_DISPENSE,
	EV_REFUND,
	EV_TRANSFER_OUT,
	EV_TRANSFER_IN,
	EV_STOCKTAKE,
	EV_DESTROY,
};

#define EVENT_NCOLUMNS 9

/* An instant as written: UTC seconds + nanoseconds, and the offset it was
 * written with (so it can be printed back the way it came). */
typedef struct yima_time {
	int64_t sec;		/* seconds since 1970-01-01T00:00:00Z */
	uint32_t nsec;		/* 0..999999999 */
	int16_t offset_min;	/* -1439..1439 */
	bool zulu;		/* written as Z rather than +00:00 */
} yima_time_t;

typedef struct event {
	yima_time_t time;
	enum event_type type;
	yima_slice_t facility;
	yima_slice_t code;		/* raw scanned bytes */
	yima_slice_t drug;		/* empty if none */
	bool has_qty;
	uint64_t qty;			/* 1..EVENT_UNITS_MAX */
	yima_slice_t settlement;
	yima_slice_t patient;		/* clear text; hashed before storage */
	yima_slice_t counterparty;
} event_t;

/*
 * A settlement claim's codes as dispense events (yimad, POST /v1/settle):
 * the claim-level columns (time, facility, settlement) are checked once by
 * event_claim_init(), each code's own (drug, units) by event_claim_item(),
 * with the reason and precedence a CSV row of the same fields would give
 * (event_parse_row(), spec section 3), so a claim's code and an uploaded
 * row of the same content become the same record.  Slices point into the
 * caller's memory.
 */
typedef struct event_claim {
	event_t ev;		/* type, time, facility, settlement, patient */
	int head_rc, tail_rc;	/* time or facility; settlement */
	char head_why[192], tail_why[96];
} event_claim_t;

void event_claim_init(event_claim_t *c, yima_slice_t time, yima_slice_t facility,
		      yima_slice_t settlement, yima_slice_t patient);

/* One code: units 0 = the whole pack (no qty).  Returns 0 with *ev set, or
 * YIMA_EBADRECORD with the reason in why (ev->code is set either way). */
int event_claim_item(const event_claim_t *c, yima_slice_t code, yima_slice_t drug,
		     uint64_t units, event_t *ev, char *why, size_t whylen);

/* Parse an RFC 3339 date-time with offset (spec section 3 rules): exactly
 * YYYY-MM-DD[Tt]hh:mm:ss[.f+][Zz|+hh:mm|-hh:mm], nothing around it, a real
 * instant of years 0001-9999 (no leap second: it cannot be represented);
 * fraction digits past 9 are dropped, "-00:00" reads as +00:00.  Returns 0
 * or YIMA_EBADRECORD with the rule in why ("month 13"; no column name). */
int yima_time_parse(const char *s, size_t n, yima_time_t *t, char *why, size_t whylen);

/* Format as RFC 3339 with its own offset ("2026-03-01T09:15:00+08:00", a
 * fraction only when nsec != 0, "Z" when zulu).  buf needs 40 bytes.
 * Returns the length written. */
size_t yima_time_format(const yima_time_t *t, char *buf, size_t n);

/* Order two instants (offsets do not matter): <0, 0, >0. */
int yima_time_cmp(const yima_time_t *a, const yima_time_t *b);

/* The calendar date of t in its own offset. */
void yima_time_local_date(const yima_time_t *t, int *year, int *month, int *day);

/* Event type names as in the CSV ("transfer_out"); NULL for EV_NONE. */
const char *event_type_name(enum event_type t);
enum event_type event_type_parse(const char *s, size_t n);

/* Parse a number of units: one or more ASCII digits (no sign, space,
 * fraction or exponent; leading zeros allowed), at most EVENT_UNITS_MAX.
 * Returns 0 with *out set, YIMA_EFORMAT if s is not a whole number (empty
 * included), YIMA_ETOOBIG if it is larger.  The one parser of every
 * number of units yima reads (events, catalog, claim files). */
int event_units_parse(yima_slice_t s, uint64_t *out);

/* True if s is a facility id: [A-Z0-9]{1,20}. */
bool event_is_facility_id(const char *s, size_t n);

#endif
