/*
 * catalog.h - loading a catalog CSV (spec section 2) into the ledger.
 */
#ifndef YIMA_CATALOG_H
#define YIMA_CATALOG_H

#include <stdint.h>

#include "yima/ledger/ledger.h"

/* Called for each bad row: where names it as csv_row_where() does ("data
 * row 4 (line 5)"), reason is one line. */
typedef void (*catalog_bad_fn)(void *arg, const char *where, const char *reason);

typedef struct catalog_stats {
	uint64_t loaded;
	uint64_t bad;
} catalog_stats_t;

/*
 * Load path into the ledger in one transaction.  Bad rows are reported
 * through bad() and skipped; the rest loads.  Returns 0 (check st->bad),
 * YIMA_EFORMAT if the header lacks a required column, YIMA_EIO if the
 * file cannot be read, YIMA_ENOSPACE if the disk is full ("no space left
 * on DIR", nothing of the file applied), or a ledger error; why says
 * which.
 */
int catalog_load_file(ledger_t *lg, const char *path, catalog_bad_fn bad, void *arg,
		      catalog_stats_t *st, char *why, size_t whylen);

#endif
