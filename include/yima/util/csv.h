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

#include "yima/util/slice.h"

#define CSV_RAW_KEEP 4096		/* bytes of a row kept as evidence */
#define CSV_ROW_MAX_DEFAULT (16u << 20)	/* longer rows become `overlong` */
#define CSV_FIELDS_MAX 65536		/* a row with more fields is `overlong`
					 * too: keeps the field table bounded */

typedef struct csv_reader csv_reader_t;

typedef struct csv_row {
	uint64_t number;	/* 1-based among non-empty rows, header included */
	uint64_t line;		/* 1-based physical line where the row starts */
	size_t nfields;
	const yima_slice_t *field;	/* nfields unquoted fields */
	yima_slice_t raw;	/* the row's bytes as read, without the final
				 * line terminator, at most CSV_RAW_KEEP */
	uint64_t size;		/* bytes of the whole row as read, without the
				 * final line terminator (raw keeps at most
				 * CSV_RAW_KEEP of them) */
	size_t limit;		/* the reader's row_max, for messages */
	bool overlong;		/* size > limit, or more than CSV_FIELDS_MAX
				 * fields: nfields is 0 */
	bool unterminated;	/* ended inside a quoted field at EOF */
} csv_row_t;

/*
 * Create a reader over fp (not closed by the reader).  row_max bounds the
 * bytes of one row (0 = CSV_ROW_MAX_DEFAULT).  To hash every byte of the
 * input as it is read (the file SHA-256 of spec section 5, also for stdin,
 * which cannot be read twice), set a tap with csv_reader_set_tap().
 * Returns 0 or YIMA_ENOMEM.
 */
int csv_reader_new(FILE *fp, size_t row_max, csv_reader_t **out);
void csv_reader_free(csv_reader_t *r);

/*
 * A tap sees every byte the reader takes from fp, in order and exactly once,
 * a byte order mark included.  Bytes are tapped when read, which may be up
 * to 1 MiB ahead of the rows returned so far; once csv_reader_next() has
 * returned 0, the whole input has been tapped.  Set it before the first
 * csv_reader_next(); fn must not call back into the reader.
 */
typedef void csv_tap_fn(void *ctx, const void *p, size_t n);
void csv_reader_set_tap(csv_reader_t *r, csv_tap_fn *fn, void *ctx);

/*
 * Read the next non-empty row into *row.  Returns 1 with a row, 0 at end of
 * input, YIMA_EIO on a read error or YIMA_ENOMEM (why filled); errors are
 * sticky.  The slices in *row point into the reader and stay valid until
 * the next call or csv_reader_free().
 */
int csv_reader_next(csv_reader_t *r, csv_row_t *row, char *why, size_t whylen);

/*
 * A source replaces fread(fp) (fp is then not read, and may be NULL): it
 * reads up to n bytes into p and returns how many (> 0), 0 at end of
 * input, or -1 with errno set.  Unlike fread(), it may return fewer bytes
 * than asked without being at the end: the reader returns every complete
 * row it holds before it asks again, so rows from a pipe come out as they
 * arrive (`yima upload -` waits for them with poll()).  Set it before the
 * first csv_reader_next().
 */
typedef long csv_source_fn(void *ctx, void *p, size_t n);
void csv_reader_set_source(csv_reader_t *r, csv_source_fn *fn, void *ctx);

/* Bytes consumed so far (for a progress bar). */
uint64_t csv_reader_offset(const csv_reader_t *r);

/*
 * Where a row is, the way every yima message names a place in a CSV file
 * (all of them have a header row): "header (line L)" for the first row,
 * else "data row N (line L)", N the data row number that the JSON outputs
 * call "line" (1-based; header and empty lines not counted) and L the
 * physical line of the file the row starts on (they differ by the header,
 * by empty lines and by quoted fields spanning lines).  Writes at most n
 * bytes (CSV_WHERE_MAX is always enough) and returns buf.
 */
#define CSV_WHERE_MAX 64
const char *csv_row_where(const csv_row_t *row, char *buf, size_t n);

#endif
