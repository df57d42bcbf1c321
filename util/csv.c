/*
 * csv.c - the streaming RFC 4180 reader of spec section 3 (see yima/csv.h).
 *
 * Every CSV input of yima goes through here, on the ingest hot path, so the
 * reader is built for throughput and bounded memory:
 *
 *   - input is read with fread() into one window of CSV_READ_BUF (1 MiB),
 *     which starts at 64 KiB and doubles while the input fills it;
 *   - a resumable state machine walks the window once, so a row may straddle
 *     any number of refills; runs of ordinary bytes are found with a class
 *     table (unquoted) or memchr() (quoted) and copied with one memcpy();
 *   - fields are unquoted into one row buffer that grows up to row_max and
 *     is reused for every row; fields are slices into it, no per-field
 *     allocation;
 *   - a row over row_max bytes (or CSV_FIELDS_MAX fields) stops being stored
 *     but is still read to its end, quotes respected, and returned once as
 *     `overlong` with its first CSV_RAW_KEEP bytes.
 *
 * So memory is row_max + CSV_READ_BUF + CSV_RAW_KEEP + the field table
 * (at most CSV_FIELDS_MAX slices), whatever the file size.
 *
 * Quoting is Python's csv module, default dialect, non-strict, with one
 * deliberate difference: a lone CR (not followed by LF) is data, not a line
 * end, because spec section 3 says rows end with LF or CRLF.  Python would
 * split the row there; users' tools never write a bare CR as a terminator,
 * and a CR inside a scanned code is something the code normalizer should
 * see and judge (spec section 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/csv.h"
#include "yima/util/error.h"

#define CSV_READ_BUF (1u << 20)	/* fread window: large reads, few syscalls */
#define CSV_READ_BUF0 (64u << 10)	/* first window: small files stay small */
#define CSV_ROW_BUF0 4096u	/* first size of the row buffer */
#define CSV_FIELDS0 16u		/* first size of the field table */

/* Where the state machine is inside the current row. */
enum csv_state {
	ST_ROW_START,	/* no byte of this row consumed yet */
	ST_FIELD_START,	/* at the first byte of a field */
	ST_UNQUOTED,	/* inside an unquoted field (or after a closing quote) */
	ST_QUOTED,	/* inside a quoted field */
	ST_QUOTE_SEEN,	/* a quote inside a quoted field: "" or the close */
	ST_CR,		/* a CR outside quotes: CRLF ends the row, else data */
};

struct csv_reader {
	FILE *fp;
	size_t row_max;
	csv_tap_fn *tap;
	void *tap_ctx;
	csv_source_fn *src;	/* NULL: fread(fp) */
	void *src_ctx;

	/* read window */
	char *in;
	size_t in_pos, in_len, in_cap;
	uint64_t in_base;	/* file offset of in[0] */
	bool at_start;		/* nothing read yet: a BOM may follow */
	bool eof;
	int err;		/* sticky: first read/allocation error */

	/* counters over the whole input */
	uint64_t rows;		/* non-empty rows returned */
	uint64_t lfs;		/* LF bytes consumed (physical lines ended) */

	/* the row being read */
	enum csv_state st;
	uint64_t row_line;
	uint64_t row_size;	/* bytes consumed for this row, terminator too */
	bool overlong;
	char *buf;		/* unquoted field bytes */
	size_t blen, bcap;
	yima_slice_t *fld;	/* while reading, .n is the field's start in buf */
	size_t nf, fcap;
	size_t rawn;
	char raw[CSV_RAW_KEEP];
};

/* Byte classes outside quotes: the bytes that end an unquoted run. */
static const unsigned char csv_special[256] = {
	[','] = 1, ['\n'] = 1, ['\r'] = 1,
};

int csv_reader_new(FILE *fp, size_t row_max, csv_reader_t **out)
{
	*out = NULL;
	csv_reader_t *r = calloc(1, sizeof *r);
	if (r == NULL)
		return YIMA_ENOMEM;
	r->fp = fp;
	r->row_max = row_max ? row_max : CSV_ROW_MAX_DEFAULT;
	r->at_start = true;
	r->bcap = r->row_max < CSV_ROW_BUF0 ? r->row_max : CSV_ROW_BUF0;
	r->fcap = CSV_FIELDS0;
	r->in_cap = CSV_READ_BUF0;
	r->in = malloc(r->in_cap);
	r->buf = malloc(r->bcap);
	r->fld = malloc(r->fcap * sizeof *r->fld);
	if (r->in == NULL || r->buf == NULL || r->fld == NULL) {
		csv_reader_free(r);
		return YIMA_ENOMEM;
	}
	*out = r;
	return 0;
}

void csv_reader_free(csv_reader_t *r)
{
	if (r == NULL)
		return;
	free(r->in);
	free(r->buf);
	free(r->fld);
	free(r);
}

void csv_reader_set_tap(csv_reader_t *r, csv_tap_fn *fn, void *ctx)
{
	r->tap = fn;
	r->tap_ctx = ctx;
}

void csv_reader_set_source(csv_reader_t *r, csv_source_fn *fn, void *ctx)
{
	r->src = fn;
	r->src_ctx = ctx;
}

/* Read from the source into the window: at the very start, at least the
 * three bytes of a possible BOM (or up to the end), so a BOM is never
 * split; otherwise whatever one call gives.  Returns the count, or -1. */
static long csv_read_source(csv_reader_t *r)
{
	size_t got = 0;
	do {
		long n = r->src(r->src_ctx, r->in + got, r->in_cap - got);
		if (n < 0)
			return -1;
		if (n == 0) {
			r->eof = true;
			break;
		}
		got += (size_t)n;
	} while (r->at_start && got < 3);
	return (long)got;
}

uint64_t csv_reader_offset(const csv_reader_t *r)
{
	return r->in_base + r->in_pos;
}

/* Each full window doubles the next, up to CSV_READ_BUF: a big input is
 * soon read in 1 MiB pieces, a small one never pays for them.  Nothing
 * points into the window (fields and raw are copies), so it may move; if
 * it cannot grow, the smaller window still works. */
static void csv_window_grow(csv_reader_t *r)
{
	size_t cap = r->in_cap * 2 < CSV_READ_BUF ? r->in_cap * 2 : CSV_READ_BUF;
	char *in = realloc(r->in, cap);
	if (in != NULL) {
		r->in = in;
		r->in_cap = cap;
	}
}

/* Refill the window (it is empty).  Drops a UTF-8 BOM at the very start. */
static int csv_fill(csv_reader_t *r, char *why, size_t whylen)
{
	/* Only a window the last read filled grows: a source that gives a
	 * few bytes at a time (a pipe, a scanner) or the read that finds
	 * the end never makes it grow. */
	bool full = r->in_len == r->in_cap;
	r->in_base += r->in_len;
	r->in_pos = r->in_len = 0;
	if (full && r->in_cap < CSV_READ_BUF)
		csv_window_grow(r);
	size_t got;
	if (r->src != NULL) {
		long n = csv_read_source(r);
		if (n < 0) {
			int e = errno;
			r->err = YIMA_EIO;
			return yima_fail(why, whylen, YIMA_EIO, "read error: %s",
					 e ? strerror(e) : "unknown");
		}
		got = (size_t)n;
	} else if ((got = fread(r->in, 1, r->in_cap, r->fp)) < r->in_cap) {
		if (ferror(r->fp)) {
			int e = errno;
			r->err = YIMA_EIO;
			return yima_fail(why, whylen, YIMA_EIO, "read error: %s",
					 e ? strerror(e) : "unknown");
		}
		r->eof = true;
	}
	r->in_len = got;
	if (got > 0 && r->tap != NULL)
		r->tap(r->tap_ctx, r->in, got);
	if (r->at_start) {
		r->at_start = false;
		/* fread() returns short only at EOF and a source is read to
		 * three bytes first, so a BOM is never split. */
		if (got >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0)
			r->in_pos = 3;
	}
	return 0;
}

/* Start a new row; the row's first byte is about to be consumed. */
static void csv_row_begin(csv_reader_t *r)
{
	r->row_line = r->lfs + 1;
	r->row_size = 0;
	r->overlong = false;
	r->blen = 0;
	r->nf = 0;
	r->rawn = 0;
}

/* Grow the row buffer for n more bytes, up to row_max; beyond, the row is
 * overlong (field bytes never exceed the row's bytes). */
static void csv_buf_room(csv_reader_t *r, size_t n)
{
	if (n > r->row_max || r->blen > r->row_max - n) {
		r->overlong = true;
		return;
	}
	size_t need = r->blen + n;
	size_t cap = r->bcap > r->row_max / 2 ? r->row_max : r->bcap * 2;
	if (cap < need)
		cap = need;
	char *nb = realloc(r->buf, cap);
	if (nb == NULL) {
		r->err = YIMA_ENOMEM;
		r->overlong = true;
		return;
	}
	r->buf = nb;
	r->bcap = cap;
}

/* Append unquoted bytes to the current field. */
static inline void csv_emit(csv_reader_t *r, const char *s, size_t n)
{
	if (r->overlong)
		return;
	if (n > r->bcap - r->blen) {
		csv_buf_room(r, n);
		if (r->overlong)
			return;
	}
	memcpy(r->buf + r->blen, s, n);
	r->blen += n;
}

/* Open a new field at the current end of the row buffer. */
static void csv_field_begin(csv_reader_t *r)
{
	if (r->overlong)
		return;
	if (r->nf == r->fcap) {
		if (r->fcap >= CSV_FIELDS_MAX) {
			r->overlong = true;
			return;
		}
		size_t cap = r->fcap * 2 > CSV_FIELDS_MAX ? CSV_FIELDS_MAX : r->fcap * 2;
		yima_slice_t *nf = realloc(r->fld, cap * sizeof *nf);
		if (nf == NULL) {
			r->err = YIMA_ENOMEM;
			r->overlong = true;
			return;
		}
		r->fld = nf;
		r->fcap = cap;
	}
	r->fld[r->nf].p = NULL;
	r->fld[r->nf].n = r->blen;
	r->nf++;
}

/* Account bytes [from, to) of the window to the current row: its size and
 * the first CSV_RAW_KEEP bytes kept as evidence. */
static void csv_take(csv_reader_t *r, const char *from, const char *to)
{
	size_t n = (size_t)(to - from);
	if (r->rawn < CSV_RAW_KEEP) {
		size_t k = CSV_RAW_KEEP - r->rawn;
		if (k > n)
			k = n;
		memcpy(r->raw + r->rawn, from, k);
		r->rawn += k;
	}
	r->row_size += n;
}

/* Count LFs in [p, end): a quoted field may span lines. */
static uint64_t csv_count_lf(const char *p, const char *end)
{
	uint64_t k = 0;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/*
 * Handle one of ',' '\n' '\r' met outside quotes at *pp.  Returns true when
 * the byte was an LF that ended the row (consumed).
 */
static inline bool csv_special_byte(csv_reader_t *r, const char **pp)
{
	const char *p = *pp;
	*pp = p + 1;
	switch (*p) {
	case ',':
		csv_field_begin(r);
		r->st = ST_FIELD_START;
		return false;
	case '\r':
		r->st = ST_CR;
		return false;
	default:	/* '\n' */
		r->lfs++;
		return true;
	}
}

/*
 * Walk the window from in_pos until the current row ends (returns true,
 * LF consumed) or the window is used up (returns false).  The state lives in
 * r, so the next call resumes exactly where this one stopped.
 */
static bool csv_scan(csv_reader_t *r)
{
	const char *p = r->in + r->in_pos, *end = r->in + r->in_len;
	const char *seg = p;	/* start of this row's bytes in the window */
	bool done = false;

	while (p < end && !done) {
		switch (r->st) {
		case ST_ROW_START:
			csv_row_begin(r);
			csv_field_begin(r);
			seg = p;
			r->st = ST_FIELD_START;
			/* fall through */
		case ST_FIELD_START:
			if (*p == '"') {
				p++;
				r->st = ST_QUOTED;
				break;
			}
			if (csv_special[(unsigned char)*p]) {
				done = csv_special_byte(r, &p);
				break;
			}
			r->st = ST_UNQUOTED;
			/* fall through */
		case ST_UNQUOTED: {
			const char *q = p;
			while (q < end && !csv_special[(unsigned char)*q])
				q++;
			csv_emit(r, p, (size_t)(q - p));
			p = q;
			if (p < end)
				done = csv_special_byte(r, &p);
			break;
		}
		case ST_QUOTED: {
			const char *q = memchr(p, '"', (size_t)(end - p));
			const char *run_end = q ? q : end;
			r->lfs += csv_count_lf(p, run_end);
			csv_emit(r, p, (size_t)(run_end - p));
			p = run_end;
			if (q != NULL) {
				p++;
				r->st = ST_QUOTE_SEEN;
			}
			break;
		}
		case ST_QUOTE_SEEN:
			if (*p == '"') {	/* "" is one quote */
				csv_emit(r, p, 1);
				p++;
				r->st = ST_QUOTED;
			} else if (csv_special[(unsigned char)*p]) {
				done = csv_special_byte(r, &p);
			} else {
				/* text after the closing quote joins the field */
				r->st = ST_UNQUOTED;
			}
			break;
		case ST_CR:
			if (*p == '\n') {
				p++;
				r->lfs++;
				done = true;
			} else {
				/* a lone CR is data (see the file head) */
				csv_emit(r, "\r", 1);
				r->st = ST_UNQUOTED;
			}
			break;
		}
	}
	if (r->st != ST_ROW_START || done)
		csv_take(r, seg, p);
	r->in_pos = (size_t)(p - r->in);
	return done;
}

/* Turn the field table from start offsets into slices over buf. */
static void csv_fields_finish(csv_reader_t *r)
{
	size_t end = r->blen;
	for (size_t i = r->nf; i-- > 0;) {
		size_t start = r->fld[i].n;
		r->fld[i].p = r->buf + start;
		r->fld[i].n = end - start;
		end = start;
	}
}

/* Fill *row from the finished row; term = bytes of its line terminator. */
static void csv_row_out(csv_reader_t *r, csv_row_t *row, size_t term)
{
	uint64_t content = r->row_size - term;
	if (content > r->row_max)
		r->overlong = true;
	row->number = ++r->rows;
	row->line = r->row_line;
	row->size = content;
	row->limit = r->row_max;
	row->overlong = r->overlong;
	row->unterminated = (r->st == ST_QUOTED);
	if (r->overlong) {
		row->nfields = 0;
		row->field = r->fld;
	} else {
		csv_fields_finish(r);
		row->nfields = r->nf;
		row->field = r->fld;
	}
	row->raw = yima_slice(r->raw, content < r->rawn ? (size_t)content : r->rawn);
	r->st = ST_ROW_START;
}

/* The row ended with an LF: an empty line is skipped (returns false). */
static bool csv_row_end_lf(csv_reader_t *r, csv_row_t *row)
{
	size_t term = (r->st == ST_CR) ? 2 : 1;
	if (r->row_size == term) {
		r->st = ST_ROW_START;	/* empty line: zero bytes before LF/CRLF */
		return false;
	}
	csv_row_out(r, row, term);
	return true;
}

/* End of input inside a row: a pending CR is data; a quote may be open. */
static void csv_row_end_eof(csv_reader_t *r, csv_row_t *row)
{
	if (r->st == ST_CR)
		csv_emit(r, "\r", 1);
	csv_row_out(r, row, 0);
}

int csv_reader_next(csv_reader_t *r, csv_row_t *row, char *why, size_t whylen)
{
	memset(row, 0, sizeof *row);
	for (;;) {
		if (r->err)
			return yima_fail(why, whylen, r->err, "%s",
					 yima_strerror(r->err));
		if (r->in_pos == r->in_len) {
			if (r->eof) {
				if (r->st == ST_ROW_START)
					return 0;
				csv_row_end_eof(r, row);
				return r->err ? yima_fail(why, whylen, r->err, "%s",
							  yima_strerror(r->err)) : 1;
			}
			int rc = csv_fill(r, why, whylen);
			if (rc < 0)
				return rc;
			continue;
		}
		if (csv_scan(r) && !r->err && csv_row_end_lf(r, row))
			return 1;
	}
}

const char *csv_row_where(const csv_row_t *row, char *buf, size_t n)
{
	if (row->number <= 1)
		snprintf(buf, n, "header (line %llu)", (unsigned long long)row->line);
	else
		snprintf(buf, n, "data row %llu (line %llu)", (unsigned long long)(row->number - 1),
			 (unsigned long long)row->line);
	return buf;
}
