/*
 * query.h - a code's state and full history (`yima query`, and later
 * GET /v1/codes/{code}).
 */
#ifndef YIMA_QUERY_H
#define YIMA_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "yima/ledger.h"

struct buf;

enum query_format {
	QUERY_JSON,	/* spec section 5 shape */
	QUERY_TEXT,	/* a timeline for a person */
};

/*
 * Look up the code scanned as raw (any form) and append its state and
 * history to out.  Returns 0, YIMA_EMALFORMED (why says why), YIMA_ENOTFOUND
 * (the code is not in the ledger), or a ledger error.
 */
int query_code(ledger_txn_t *txn, const char *raw, size_t n, enum query_format fmt,
	       struct buf *out, char *why, size_t whylen);

#endif
