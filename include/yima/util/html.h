/*
 * html.h - HTML text escaping for the evidence report (`yima report`).
 *
 * Everything the report prints from the ledger (codes as scanned, drug
 * codes, settlement ids) is untrusted text: it goes through html_text(),
 * which makes it inert in element content and in quoted attribute values.
 */
#ifndef YIMA_HTML_H
#define YIMA_HTML_H

#include <stddef.h>

#include "yima/util/buf.h"

/* Append s (n bytes, any content) escaped for HTML text or a quoted
 * attribute: & < > " ' become character references; invalid UTF-8 and
 * control bytes other than TAB and LF become U+FFFD (a control character
 * is a parse error in HTML even as a reference). */
void html_text(buf_t *b, const char *s, size_t n);

#endif
