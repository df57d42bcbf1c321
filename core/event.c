/*
 * event.c - an events CSV row to an event_t, by the column rules of spec
 * section 3 (see yima/event.h).
 *
 * Columns are checked in file order and the first broken rule is the
 * reason, worded as "column <name>: <rule>" so a person can fix the row.
 * Everything a row can hold is untrusted bytes (NUL, invalid UTF-8), so
 * field contents are quoted into messages escaped and cut short.
 */
#include <stdio.h>
#include <string.h>

#include "yima/core/event_csv.h"
#include "yima/util/error.h"
#include "yima/core/event.h"

#define QUOTE_MAX 32	/* bytes of a field shown in a reason */

const char *const event_csv_columns[EVENT_NCOLUMNS] = {
	"time", "facility", "type", "code", "drug",
	"qty", "settlement", "patient", "counterparty",
};

enum {
	COL_TIME, COL_FACILITY, COL_TYPE, COL_CODE, COL_DRUG,
	COL_QTY, COL_SETTLEMENT, COL_PATIENT, COL_COUNTERPARTY,
};

static const char *const type_names[] = {
	[EV_RECEIVE] = "receive",
	[EV_RETURN] = "return",
	[EV_DISPENSE] = "dispense",
	[EV_REFUND] = "refund",
	[EV_TRANSFER_OUT] = "transfer_out",
	[EV_TRANSFER_IN] = "transfer_in",
	[EV_STOCKTAKE] = "stocktake",
	[EV_DESTROY] = "destroy",
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

const char *event_type_name(enum event_type t)
{
	if ((unsigned)t == EV_NONE || (unsigned)t >= NTYPES)
		return NULL;
	return type_names[t];
}

enum event_type event_type_parse(const char *s, size_t n)
{
	for (unsigned t = EV_NONE + 1; t < NTYPES; t++)
		if (strlen(type_names[t]) == n && memcmp(type_names[t], s, n) == 0)
			return (enum event_type)t;
	return EV_NONE;
}

static bool is_facility_byte(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool event_is_facility_id(const char *s, size_t n)
{
	if (n == 0 || n > FACILITY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_facility_byte(s[i]))
			return false;
	return true;
}

bool event_csv_header_ok(const csv_row_t *row)
{
	if (row->overlong || row->unterminated || row->nfields != EVENT_NCOLUMNS)
		return false;
	for (size_t i = 0; i < EVENT_NCOLUMNS; i++)
		if (!yima_slice_eq_cstr(row->field[i], event_csv_columns[i]))
			return false;
	return true;
}

/* Write s as a quoted, escaped, possibly shortened C string into out. */
static const char *quote_field(yima_slice_t s, char *out, size_t outlen)
{
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; i < s.n && i < QUOTE_MAX && o + 6 < outlen; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (s.n > QUOTE_MAX && o + 5 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static int col_fail(char *why, size_t whylen, int col, const char *rule)
{
	return yima_fail(why, whylen, YIMA_EBADRECORD, "column %s: %s",
			 event_csv_columns[col], rule);
}

/* The shape of the row: not overlong, quotes closed, nine fields. */
static int check_shape(const csv_row_t *row, char *why, size_t whylen)
{
	if (row->overlong) {
		if (row->size > row->limit)
			return yima_fail(why, whylen, YIMA_EBADRECORD,
					 "row longer than %zu bytes", row->limit);
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "row has more than %d fields", CSV_FIELDS_MAX);
	}
	if (row->unterminated && row->nfields != EVENT_NCOLUMNS)
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "%d fields expected, found %zu (a quote is not "
				 "closed and runs to end of file)",
				 EVENT_NCOLUMNS, row->nfields);
	if (row->unterminated)
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "a quote is not closed and runs to end of file");
	if (row->nfields != EVENT_NCOLUMNS)
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "%d fields expected, found %zu",
				 EVENT_NCOLUMNS, row->nfields);
	return 0;
}

static int parse_time(yima_slice_t f, event_t *ev, char *why, size_t whylen)
{
	char rule[160];
	if (yima_time_parse(f.p, f.n, &ev->time, rule, sizeof rule) < 0)
		return col_fail(why, whylen, COL_TIME, rule);
	return 0;
}

/* A facility id, [A-Z0-9]{1,20}; shared by facility and counterparty. */
static int parse_facility(yima_slice_t f, int col, char *why, size_t whylen)
{
	char rule[96];
	if (f.n == 0)
		return col_fail(why, whylen, col, "empty (a facility id is required)");
	if (f.n > FACILITY_MAX) {
		snprintf(rule, sizeof rule, "facility id longer than %d characters",
			 FACILITY_MAX);
		return col_fail(why, whylen, col, rule);
	}
	for (size_t i = 0; i < f.n; i++) {
		if (!is_facility_byte(f.p[i])) {
			snprintf(rule, sizeof rule, "byte %zu of the facility id is "
				 "not A-Z or 0-9", i + 1);
			return col_fail(why, whylen, col, rule);
		}
	}
	return 0;
}

static int parse_type(yima_slice_t f, event_t *ev, char *why, size_t whylen)
{
	char q[QUOTE_MAX * 4 + 8], rule[sizeof q + 32];
	ev->type = event_type_parse(f.p, f.n);
	if (ev->type != EV_NONE)
		return 0;
	if (f.n == 0)
		return col_fail(why, whylen, COL_TYPE, "empty (an event type is required)");
	snprintf(rule, sizeof rule, "unknown type %s",
		 quote_field(f, q, sizeof q));
	return col_fail(why, whylen, COL_TYPE, rule);
}

/* drug, settlement, counterparty: bounded so ledger keys stay bounded. */
static int check_len(yima_slice_t f, int col, char *why, size_t whylen)
{
	char rule[64];
	if (f.n <= EVENT_FIELD_MAX)
		return 0;
	snprintf(rule, sizeof rule, "longer than %d bytes", EVENT_FIELD_MAX);
	return col_fail(why, whylen, col, rule);
}

/* Required on some types: "required for dispense". */
static int check_required(yima_slice_t f, int col, enum event_type t,
			  char *why, size_t whylen)
{
	char rule[64];
	if (f.n > 0)
		return 0;
	snprintf(rule, sizeof rule, "required for %s", event_type_name(t));
	return col_fail(why, whylen, col, rule);
}

int event_units_parse(yima_slice_t s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.n == 0)
		return YIMA_EFORMAT;
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] - (unsigned)'0' > 9)
			return YIMA_EFORMAT;
	for (size_t i = 0; i < s.n; i++) {
		v = v * 10 + ((unsigned char)s.p[i] - (unsigned)'0');
		if (v > EVENT_UNITS_MAX)	/* checked every digit: never wraps */
			return YIMA_ETOOBIG;
	}
	*out = v;
	return 0;
}

/* qty on dispense/refund: empty = whole pack, else a positive whole
 * number of at most EVENT_UNITS_MAX. */
static int qty_too_big(char *why, size_t whylen)
{
	char rule[80];

	snprintf(rule, sizeof rule, "more than %u units", EVENT_UNITS_MAX);
	return col_fail(why, whylen, COL_QTY, rule);
}

static int parse_qty(yima_slice_t f, event_t *ev, char *why, size_t whylen)
{
	uint64_t v = 0;
	int rc;

	if (f.n == 0)
		return 0;
	if ((rc = event_units_parse(f, &v)) == YIMA_EFORMAT)
		return col_fail(why, whylen, COL_QTY, "not a positive whole number");
	if (rc == YIMA_ETOOBIG)
		return qty_too_big(why, whylen);
	if (v == 0)
		return col_fail(why, whylen, COL_QTY,
				"not a positive whole number (0)");
	ev->has_qty = true;
	ev->qty = v;
	return 0;
}

/* The per-type columns: drug, qty, settlement, counterparty. */
static int parse_rest(const yima_slice_t *fld, event_t *ev, char *why, size_t whylen)
{
	int rc;
	bool money = ev->type == EV_DISPENSE || ev->type == EV_REFUND;

	/* ev->code is set: an empty one is for code_normalize() (MALFORMED) */
	ev->drug = fld[COL_DRUG];
	if (ev->type == EV_DISPENSE &&
	    (rc = check_required(ev->drug, COL_DRUG, ev->type, why, whylen)) < 0)
		return rc;
	if ((rc = check_len(ev->drug, COL_DRUG, why, whylen)) < 0)
		return rc;
	if (money && (rc = parse_qty(fld[COL_QTY], ev, why, whylen)) < 0)
		return rc;
	ev->settlement = fld[COL_SETTLEMENT];
	if (money && (rc = check_required(ev->settlement, COL_SETTLEMENT,
					  ev->type, why, whylen)) < 0)
		return rc;
	if ((rc = check_len(ev->settlement, COL_SETTLEMENT, why, whylen)) < 0)
		return rc;
	ev->patient = fld[COL_PATIENT];
	ev->counterparty = fld[COL_COUNTERPARTY];
	if (ev->type == EV_TRANSFER_OUT)
		return parse_facility(ev->counterparty, COL_COUNTERPARTY, why, whylen);
	return check_len(ev->counterparty, COL_COUNTERPARTY, why, whylen);
}

/* The column rules on nine fields whose shape is already right. */
static int parse_fields(const yima_slice_t *fld, event_t *ev, char *why, size_t whylen)
{
	int rc;

	if ((rc = parse_time(fld[COL_TIME], ev, why, whylen)) < 0)
		return rc;
	ev->facility = fld[COL_FACILITY];
	if ((rc = parse_facility(ev->facility, COL_FACILITY, why, whylen)) < 0)
		return rc;
	if ((rc = parse_type(fld[COL_TYPE], ev, why, whylen)) < 0)
		return rc;
	return parse_rest(fld, ev, why, whylen);
}

int event_parse_row(const csv_row_t *row, event_t *ev, char *why, size_t whylen)
{
	int rc;
	memset(ev, 0, sizeof *ev);
	if (!row->overlong && row->nfields > COL_CODE)
		ev->code = row->field[COL_CODE];	/* shown even when bad */
	if ((rc = check_shape(row, why, whylen)) < 0)
		return rc;
	return parse_fields(row->field, ev, why, whylen);
}

int event_parse_fields(const yima_slice_t fld[EVENT_NCOLUMNS], event_t *ev, char *why,
		       size_t whylen)
{
	memset(ev, 0, sizeof *ev);
	ev->code = fld[COL_CODE];
	return parse_fields(fld, ev, why, whylen);
}

/* ---- a settlement claim's codes as dispenses ---------------------------------- */

void event_claim_init(event_claim_t *c, yima_slice_t time, yima_slice_t facility,
		      yima_slice_t settlement, yima_slice_t patient)
{
	memset(c, 0, sizeof *c);
	c->ev.type = EV_DISPENSE;
	c->ev.facility = facility;
	c->ev.settlement = settlement;
	c->ev.patient = patient;
	/* the columns before drug, then the one after qty (spec section 3's
	 * order decides which reason a row with several broken fields gets) */
	if ((c->head_rc = parse_time(time, &c->ev, c->head_why, sizeof c->head_why)) == 0)
		c->head_rc = parse_facility(facility, COL_FACILITY, c->head_why,
					    sizeof c->head_why);
	if ((c->tail_rc = check_required(settlement, COL_SETTLEMENT, EV_DISPENSE, c->tail_why,
					 sizeof c->tail_why)) == 0)
		c->tail_rc = check_len(settlement, COL_SETTLEMENT, c->tail_why, sizeof c->tail_why);
}

static int claim_fail(int rc, const char *reason, char *why, size_t whylen)
{
	return yima_fail(why, whylen, rc, "%s", reason);
}

int event_claim_item(const event_claim_t *c, yima_slice_t code, yima_slice_t drug,
		     uint64_t units, event_t *ev, char *why, size_t whylen)
{
	int rc;

	*ev = c->ev;
	ev->code = code;
	ev->drug = drug;
	if (c->head_rc < 0)
		return claim_fail(c->head_rc, c->head_why, why, whylen);
	if ((rc = check_required(drug, COL_DRUG, EV_DISPENSE, why, whylen)) < 0 ||
	    (rc = check_len(drug, COL_DRUG, why, whylen)) < 0)
		return rc;
	if (units > EVENT_UNITS_MAX)
		return qty_too_big(why, whylen);
	if (units > 0) {
		ev->has_qty = true;
		ev->qty = units;
	}
	if (c->tail_rc < 0)
		return claim_fail(c->tail_rc, c->tail_why, why, whylen);
	return 0;
}
