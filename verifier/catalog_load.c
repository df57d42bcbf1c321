/*
 * catalog_load.c - a catalog CSV (spec section 2) into the ledger.
 *
 * Columns are found by name in the header, so extra columns (the example
 * has `manufacturer`) are ignored wherever they stand.  `max_units_30d`
 * (spec section 7) is optional: a file without it loads as before, and
 * its rows have no limit.  All rows of a file
 * go in one transaction: a catalog is small, and a half-loaded catalog
 * would give half the codes the wrong verdicts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/verifier/catalog.h"
#include "yima/util/csv.h"
#include "yima/util/error.h"
#include "yima/core/event.h"

enum { COL_PRODUCT, COL_DRUG, COL_NAME, COL_SPEC, COL_UNITS, COL_LIMIT, NCOLS };
#define NREQUIRED COL_LIMIT	/* the columns before it must be there */
static const char *const col_names[NCOLS] = {
	"product_id", "drug_code", "name", "spec", "pack_units", "max_units_30d",
};

/* GS1 mod-10 over the first 13 digits of a GTIN-14. */
static bool gtin14_ok(const char *s)
{
	int sum = 0;
	for (int i = 0; i < 13; i++)
		sum += (s[i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (10 - sum % 10) % 10 == s[13] - '0';
}

static bool is_drug_code(yima_slice_t s)
{
	if (s.n == 0 || s.n > 32)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!((s.p[i] >= 'A' && s.p[i] <= 'Z') || (s.p[i] >= '0' && s.p[i] <= '9')))
			return false;
	return true;
}

/* pack_units and max_units_30d: a whole number from 1 to EVENT_UNITS_MAX
 * (10^9: no pack holds more), through the one units parser. */
static bool parse_units(yima_slice_t s, uint64_t *out)
{
	uint64_t v;
	if (event_units_parse(s, &v) < 0 || v < 1)
		return false;
	*out = v;
	return true;
}

static int row_to_entry(const csv_row_t *row, const int col[NCOLS], catalog_entry_t *e,
			char *why, size_t whylen)
{
	int need = 0;
	for (int i = 0; i < NCOLS; i++)
		if (col[i] + 1 > need)
			need = col[i] + 1;
	if (row->overlong)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "row too long");
	if (row->nfields < (size_t)need)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "%zu fields, expected at least %d",
				 row->nfields, need);
	yima_slice_t prod = row->field[col[COL_PRODUCT]], drug = row->field[col[COL_DRUG]];
	memset(e, 0, sizeof *e);
	if (!code_is_product_id(prod.p, prod.n))
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "column product_id: not a 7-digit prefix or a GTIN-14");
	memcpy(e->product, prod.p, prod.n);
	if (prod.n == 14 && !gtin14_ok(e->product))
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "column product_id: GTIN-14 check digit is wrong");
	if (!is_drug_code(drug))
		return yima_fail(why, whylen, YIMA_EBADRECORD, "column drug_code: not [A-Z0-9]{1,32}");
	memcpy(e->drug, drug.p, drug.n);
	if (!parse_units(row->field[col[COL_UNITS]], &e->pack_units))
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "column pack_units: not a whole number from 1 to %u", EVENT_UNITS_MAX);
	yima_slice_t limit = col[COL_LIMIT] >= 0 ? row->field[col[COL_LIMIT]] : yima_slice("", 0);
	if (limit.n > 0 && !parse_units(limit, &e->max_units_30d))
		return yima_fail(why, whylen, YIMA_EBADRECORD,
				 "column max_units_30d: not empty or a whole number from 1 to %u",
				 EVENT_UNITS_MAX);
	e->name = row->field[col[COL_NAME]];
	e->spec = row->field[col[COL_SPEC]];
	if (e->name.n > 65535 || e->spec.n > 65535)
		return yima_fail(why, whylen, YIMA_EBADRECORD, "column name or spec: longer than 65535 bytes");
	return 0;
}

static int header_columns(const csv_row_t *row, int col[NCOLS], char *why, size_t whylen)
{
	for (int i = 0; i < NCOLS; i++) {
		col[i] = -1;
		for (size_t f = 0; f < row->nfields; f++)
			if (yima_slice_eq_cstr(row->field[f], col_names[i])) {
				col[i] = (int)f;
				break;
			}
		if (col[i] < 0 && i < NREQUIRED)
			return yima_fail(why, whylen, YIMA_EFORMAT, "header (line %llu): no column %s",
					 (unsigned long long)row->line, col_names[i]);
	}
	return 0;
}

static int load_rows(ledger_txn_t *txn, csv_reader_t *csv, const int col[NCOLS],
		     catalog_bad_fn bad, void *arg, catalog_stats_t *st,
		     const char *path, char *why, size_t whylen)
{
	csv_row_t row;
	catalog_entry_t e;
	char msg[256], where[CSV_WHERE_MAX];
	int rc;

	while ((rc = csv_reader_next(csv, &row, msg, sizeof msg)) > 0) {
		csv_row_where(&row, where, sizeof where);
		if (row_to_entry(&row, col, &e, msg, sizeof msg) < 0) {
			st->bad++;
			if (bad != NULL)
				bad(arg, where, msg);
			continue;
		}
		if ((rc = ledger_catalog_put(txn, &e)) < 0)
			return rc == YIMA_ENOSPACE ? rc
			       : yima_fail(why, whylen, rc, "%s: %s: %s", path, where, yima_strerror(rc));
		st->loaded++;
	}
	if (rc < 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, msg);
	return 0;
}

int catalog_load_file(ledger_t *lg, const char *path, catalog_bad_fn bad, void *arg,
		      catalog_stats_t *st, char *why, size_t whylen)
{
	FILE *fp;
	csv_reader_t *csv = NULL;
	ledger_txn_t *txn = NULL;
	csv_row_t row;
	int col[NCOLS];
	char msg[256];
	int rc;

	memset(st, 0, sizeof *st);
	if ((fp = fopen(path, "rb")) == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	if ((rc = csv_reader_new(fp, 0, &csv)) < 0) {
		yima_fail(why, whylen, rc, "out of memory");
		goto close_file;
	}
	if ((rc = csv_reader_next(csv, &row, msg, sizeof msg)) <= 0) {
		rc = yima_fail(why, whylen, rc < 0 ? YIMA_EIO : YIMA_EFORMAT, "%s: %s", path,
			       rc < 0 ? msg : "empty file, no header");
		goto free_csv;
	}
	if ((rc = header_columns(&row, col, msg, sizeof msg)) < 0) {
		yima_fail(why, whylen, rc, "%s: %s", path, msg);
		goto free_csv;
	}
	if ((rc = ledger_txn_begin(lg, true, &txn)) < 0) {
		yima_fail(why, whylen, rc, "%s: %s", ledger_dir(lg), yima_strerror(rc));
		goto no_space;
	}
	if ((rc = load_rows(txn, csv, col, bad, arg, st, path, why, whylen)) < 0) {
		ledger_txn_abort(txn);
		goto no_space;
	}
	if ((rc = ledger_txn_commit(txn)) < 0)
		yima_fail(why, whylen, rc, "%s: commit: %s", ledger_dir(lg), yima_strerror(rc));
no_space:
	/* one transaction: a full disk applies none of the file */
	if (rc == YIMA_ENOSPACE) {
		yima_fail(why, whylen, rc, "no space left on %s: %s was not loaded (nothing of it applied)",
			  ledger_dir(lg), path);
		st->loaded = 0;
	}
free_csv:
	csv_reader_free(csv);
close_file:
	fclose(fp);
	return rc;
}
