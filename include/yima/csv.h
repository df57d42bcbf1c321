/*
 * csv.h - a streaming RFC 4180 reader (spec section 3).
 *
 * One reader serves every CSV input of yima (catalogs, event files, dispense
 * logs).  It reads through a fixed-size window, so memory stays bounded
 * whatever the file size: a row longer than the reader's row limit (an
 * unterminated quote that runs to end of file, a binary file with no
 * newline) is still returned as exactly one row, flagged `overlong`, with
 * its fields dropped but its first bytes kept for the error record.
 *
 * Quoting follows RFC 4180 as Python's csv module reads it by default:
 * a quoted field may span lines and "" inside it is one quote; a quote
 * inside an unquoted field is a literal character; text after a closing
 * quote is appended to the field; an unterminated quote runs to end of
 * input.  Rows end with LF or CRLF; empty lines are skipped and do not
 * count as rows.  A UTF-8 byte order mark at the very start is dropped.
 */
#ifndef YIMA_CSV_H
#define YIMA_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/slice.h"

#define CSV_RAW_KEEP 4096		/* bytes of a row kept as evidence */
#define CSV_ROW_MAX_DEFAULT (16u << 20)	/* longer rows become `overlong` */

typedef struct csv_reader csv_reader_t;

typedef struct csv_row {
	uint64_t number;	/* 1-based among non-empty rows, header included */
	uint64_t line;		/* 1-based physical line where the row starts */
	size_t nfields;
	const yima_slice_t *field;	/* nfields unquoted fields */
	yima_slice_t raw;	/* the row's bytes as read, without the final
				 * line terminator, at most CSV_RAW_KEEP */
	bool overlong;		/* row exceeded the limit: nfields is 0 */
	bool unterminated;	/* ended inside a quoted field at EOF */
} csv_row_t;

/*
 * Create a reader over fp (not closed by the reader).  row_max bounds the
 * bytes of one row (0 = CSV_ROW_MAX_DEFAULT).  If sha256 is true the reader
 * also hashes every byte it consumes (see csv_reader_sha256()).
 * Returns 0 or YIMA_ENOMEM.
 */
int csv_reader_new(FILE *fp, size_t row_max, csv_reader_t **out);
void csv_reader_free(csv_reader_t *r);

/*
 * Read the next non-empty row into *row.  Returns 1 with a row, 0 at end of
 * input, YIMA_EIO on a read error (why filled).  The slices in *row point
 * into the reader and stay valid until the next call or csv_reader_free().
 */
int csv_reader_next(csv_reader_t *r, csv_row_t *row, char *why, size_t whylen);

/* Bytes consumed so far (for a progress bar). */
uint64_t csv_reader_offset(const csv_reader_t *r);

#endif
