/*
 * event_csv.h - an events CSV row (spec section 3) to an event_t.
 *
 * Kept apart from event.h so that what only stores events (the ledger)
 * does not see the CSV reader.
 */
#ifndef YIMA_CORE_EVENT_CSV_H
#define YIMA_CORE_EVENT_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "yima/core/event.h"
#include "yima/util/csv.h"

/* The header the spec requires, in order. */
extern const char *const event_csv_columns[EVENT_NCOLUMNS];

/* True if the row's fields are exactly event_csv_columns. */
bool event_csv_header_ok(const csv_row_t *row);

/*
 * Parse a data row into *ev.  Returns 0, or YIMA_EBADRECORD with a reason in
 * why naming the column and rule ("column time: month 13").  The slices in
 * *ev point into the row (see csv_reader_next() for their lifetime).
 * An empty code is not BAD_RECORD: it is left for code_normalize() to call
 * MALFORMED.  qty is checked only on dispense and refund.  On failure *ev
 * is partly filled; ev->code is the code field whenever the row has at
 * least four fields (spec section 5 prints it), else empty.
 */
int event_parse_row(const csv_row_t *row, event_t *ev, char *why, size_t whylen);


/* The rules of event_parse_row() on nine fields given one by one (a
 * request's Event message), without a row's shape to check: ev->code is
 * the code field whatever the outcome. */
int event_parse_fields(const yima_slice_t fld[EVENT_NCOLUMNS], event_t *ev, char *why,
		       size_t whylen);

#endif
