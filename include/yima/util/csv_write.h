/*
 * csv_write.h - the CSV field writer used by every CSV output of yima
 * (`yima recon --format csv`, `yima alerts --format csv`, the raw rows
 * kept for BAD_RECORD requests, the generator's files).
 *
 * RFC 4180: a field is written as is unless it holds a comma, a double
 * quote, CR or LF (or the caller asks for quotes); then it is enclosed in
 * double quotes and every quote inside is doubled.  Bytes are otherwise
 * copied unchanged (no re-encoding): what the CSV reader (yima/csv.h)
 * reads back is exactly the field written.
 */
#ifndef YIMA_CSV_WRITE_H
#define YIMA_CSV_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "yima/util/buf.h"

/* The most bytes csv_field_write() can produce for an n-byte field (every
 * byte a quote, plus the enclosing pair).  n must be below SIZE_MAX / 2. */
#define CSV_FIELD_OUT_MAX(n) (2 * (size_t)(n) + 2)

/* True if the field must be quoted (holds , " CR or LF). */
bool csv_field_needs_quotes(const char *p, size_t n);

/* Exactly the bytes csv_field_write() writes for this field. */
size_t csv_field_len(const char *p, size_t n, bool quote);

/* Write the field into dst, which has room for CSV_FIELD_OUT_MAX(n)
 * bytes; quoted when it needs it or `quote` is set.  Returns the bytes
 * written (no NUL added). */
size_t csv_field_write(char *dst, const char *p, size_t n, bool quote);

/* Append the field to b (b->oom on allocation failure, as every buf_t
 * append). */
void csv_field(buf_t *b, const char *p, size_t n, bool quote);

#endif
