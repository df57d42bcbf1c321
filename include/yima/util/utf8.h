/*
 * utf8.h - the one UTF-8 sequence decoder, shared by the JSON and HTML
 * writers: both print ledger bytes (raw scanned codes, broken rows) that
 * may be any bytes, and both replace invalid UTF-8 with U+FFFD the same way.
 */
#ifndef YIMA_UTF8_H
#define YIMA_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT "\xEF\xBF\xBD"	/* U+FFFD, 3 bytes */

/*
 * Decode the UTF-8 sequence at s (n >= 1 bytes).  Returns its length (1-4)
 * if valid, else sets *bad to the length of the "maximal subpart" to
 * replace with a single U+FFFD (Unicode 15 section 3.9, what Python's
 * errors="replace" does) and returns 0.  Second-byte ranges exclude
 * overlong forms, surrogates and code points above U+10FFFF.
 */
size_t utf8_seq_len(const uint8_t *s, size_t n, size_t *bad);

#endif
