/*
 * query.h - a code's state and full history (`yima query`, and later
 * GET /v1/codes/{code}).
 */
#ifndef YIMA_QUERY_H
#define YIMA_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "yima/ledger/ledger.h"

struct buf;

enum query_format {
	QUERY_JSON,	/* spec section 5 shape */
	QUERY_TEXT,	/* a timeline for a person */
};

/* A code's state and history, loaded (slices point into txn's snapshot). */
struct history {
	ledger_event_t *ev;	/* oldest first */
	size_t n;
};

typedef struct query {
	code_t code;
	code_state_t st;
	bool in_catalog;
	catalog_entry_t cat;
	struct history h;
} query_t;

/* Load what query_code() prints; free with query_free().  Same errors. */
int query_load(ledger_txn_t *txn, const char *raw, size_t n, query_t *q, char *why, size_t whylen);
void query_free(query_t *q);

/*
 * Look up the code scanned as raw (any form) and append its state and
 * history to out.  Returns 0, YIMA_EMALFORMED (why says why), YIMA_ENOTFOUND
 * (the code is not in the ledger), or a ledger error.
 */
int query_code(ledger_txn_t *txn, const char *raw, size_t n, enum query_format fmt,
	       struct buf *out, char *why, size_t whylen);

#endif
