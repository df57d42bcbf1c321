/*
 * json.h - the JSON string writer used by every JSON output of yima.
 *
 * Output is built with buf_t appends; this module only does the part that
 * is easy to get wrong: string escaping, with invalid UTF-8 replaced by
 * U+FFFD (spec section 5: the raw field of a malformed row is printed "as
 * JSON with invalid UTF-8 replaced by U+FFFD").  Why not a JSON library:
 * the ones packaged for Debian (jansson, json-c, yajl) either reject
 * invalid UTF-8 or build a DOM per value; ingest prints one small object
 * per row on its hot path and needs neither.
 */
#ifndef YIMA_JSON_H
#define YIMA_JSON_H

#include <stddef.h>

#include "yima/util/buf.h"

/* Append s (n bytes, any content) as a quoted, escaped JSON string. */
void json_str(buf_t *b, const char *s, size_t n);
/* json_str of a NUL-terminated string, or null when s is NULL or "" and
 * empty_is_null is set. */
void json_cstr_or_null(buf_t *b, const char *s, int empty_is_null);

#endif
