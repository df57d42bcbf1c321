/*
 * test_catalog.c - loading a catalog CSV (verifier/catalog_load.c, spec
 * section 2): good rows load, each bad row is reported with its line and
 * reason and skipped, the rest loads.  The numbers of the catalog
 * (pack_units) are bounded, never wrapped (issue 9 item 4).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yima/verifier/catalog.h"
#include "yima/util/error.h"
#include "yima/core/event.h"

struct bad_seen {
	char lines[32][160];
	size_t n;
};

static void on_bad(void *arg, const char *where, const char *reason)
{
	struct bad_seen *b = arg;
	if (b->n < 32)
		snprintf(b->lines[b->n++], sizeof b->lines[0], "%s %s", where, reason);
}

/* pack_units of product in the ledger at db, 0 if absent. */
static uint64_t units_of(ledger_t *lg, const char *product)
{
	ledger_txn_t *txn;
	catalog_entry_t e;
	uint64_t u = 0;

	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	if (ledger_catalog_get(txn, product, strlen(product), &e) == 0)
		u = e.pack_units;
	ledger_txn_abort(txn);
	return u;
}

Test(catalog, pack_units_bounded_never_wrapped)
{
	static const char text[] =
		"product_id,drug_code,name,spec,pack_units\n"
		"8100001,DRUGA,A,1 box,24\n"				/* 2 */
		"8100002,DRUGA,A,1 box,1000000000\n"			/* 3: 10^9, the bound */
		"8100003,DRUGA,A,1 box,1000000001\n"			/* 4 */
		"8100004,DRUGA,A,1 box,99999999999999999999999\n"	/* 5 */
		"8100005,DRUGA,A,1 box,18446744073709551617\n"		/* 6: 2^64 + 1 */
		"8100006,DRUGA,A,1 box,0\n"				/* 7 */
		"8100007,DRUGA,A,1 box,-3\n"				/* 8 */
		"8100008,DRUGA,A,1 box,\n"				/* 9 */
		"8100009,DRUGA,A,1 box,000000000000012\n";		/* 10: leading zeros */
	char *dir = tu_mkdtemp(), *db, why[256];
	char *path = tu_write_file(dir, "catalog.csv", text, sizeof text - 1);
	struct bad_seen bad = { .n = 0 };
	catalog_stats_t st;
	ledger_t *lg;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, path, on_bad, &bad, &st, why, sizeof why), 0, "%s", why);
	cr_expect_eq(st.loaded, 3);
	cr_expect_eq(st.bad, 6);
	cr_assert_eq(bad.n, 6);
	static const char *const want_lines[] = { "(line 4) ", "(line 5) ", "(line 6) ", "(line 7) ",
						  "(line 8) ", "(line 9) " };
	for (size_t i = 0; i < bad.n; i++) {
		cr_expect(strstr(bad.lines[i], want_lines[i]) != NULL, "%s", bad.lines[i]);
		cr_expect(strstr(bad.lines[i], "column pack_units: not a whole number from 1 to 1000000000"),
			  "%s", bad.lines[i]);
	}
	cr_expect_eq(units_of(lg, "8100001"), 24);
	cr_expect_eq(units_of(lg, "8100002"), EVENT_UNITS_MAX);
	cr_expect_eq(units_of(lg, "8100004"), 0, "a huge number loads nothing");
	cr_expect_eq(units_of(lg, "8100005"), 0, "2^64 + 1 does not wrap to 1");
	cr_expect_eq(units_of(lg, "8100009"), 12);
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
	free(db);
	free(path);
}

/* The one parser of numbers of units (event.h): digits only, at most
 * 10^9, checked at every digit so no input wraps. */
Test(catalog, units_parser)
{
	static const struct { const char *s; int rc; uint64_t v; } cases[] = {
		{ "0", 0, 0 }, { "1", 0, 1 }, { "1000000000", 0, 1000000000 },
		{ "0001000000000", 0, 1000000000 }, { "1000000001", YIMA_ETOOBIG, 0 },
		{ "4294967296", YIMA_ETOOBIG, 0 }, { "18446744073709551616", YIMA_ETOOBIG, 0 },
		{ "99999999999999999999999", YIMA_ETOOBIG, 0 }, { "", YIMA_EFORMAT, 0 },
		{ "-1", YIMA_EFORMAT, 0 }, { "+1", YIMA_EFORMAT, 0 }, { "1 ", YIMA_EFORMAT, 0 },
		{ "1e3", YIMA_EFORMAT, 0 }, { "99999999999999999999x", YIMA_EFORMAT, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t v = 77;
		int rc = event_units_parse(yima_slice_cstr(cases[i].s), &v);
		cr_expect_eq(rc, cases[i].rc, "\"%s\": rc %d", cases[i].s, rc);
		if (rc == 0)
			cr_expect_eq(v, cases[i].v, "\"%s\"", cases[i].s);
	}
}

/* max_units_30d of product (0: no limit or absent). */
static uint64_t limit_of(ledger_t *lg, const char *product)
{
	ledger_txn_t *txn;
	catalog_entry_t e;
	uint64_t u = 0;

	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	if (ledger_catalog_get(txn, product, strlen(product), &e) == 0)
		u = e.max_units_30d;
	ledger_txn_abort(txn);
	return u;
}

/* Spec sections 2 and 7: an optional max_units_30d column found by its
 * header name, a whole number >= 1, empty = no limit; a bad value is a
 * bad row; a reload replaces the row (its limit too); a catalog without
 * the column loads as before. */
Test(catalog, max_units_30d)
{
	static const char text[] =
		"max_units_30d,product_id,drug_code,name,spec,pack_units,manufacturer\n"
		"60,8100001,DRUGA,A,1 box,24,M\n"			/* 2 */
		",8100002,DRUGA,A,1 box,24,M\n"				/* 3: no limit */
		"0,8100003,DRUGA,A,1 box,24,M\n"			/* 4: bad */
		"1000000001,8100004,DRUGA,A,1 box,24,M\n"		/* 5: bad */
		"2.5,8100005,DRUGA,A,1 box,24,M\n"			/* 6: bad */
		"1000000000,8100006,DRUGA,A,1 box,24,M\n"		/* 7: 10^9 */
		"0048,8100007,DRUGA,A,1 box,24,M\n";			/* 8 */
	static const char reload[] =
		"product_id,drug_code,name,spec,pack_units\n"
		"8100001,DRUGA,A,1 box,24\n";
	char *dir = tu_mkdtemp(), *db, why[256];
	char *path = tu_write_file(dir, "catalog.csv", text, sizeof text - 1);
	char *path2 = tu_write_file(dir, "reload.csv", reload, sizeof reload - 1);
	struct bad_seen bad = { .n = 0 };
	catalog_stats_t st;
	ledger_t *lg;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, path, on_bad, &bad, &st, why, sizeof why), 0, "%s", why);
	cr_expect_eq(st.loaded, 4);
	cr_assert_eq(st.bad, 3);
	static const char *const want_lines[] = { "(line 4) ", "(line 5) ", "(line 6) " };
	for (size_t i = 0; i < bad.n; i++) {
		cr_expect(strstr(bad.lines[i], want_lines[i]) != NULL, "%s", bad.lines[i]);
		cr_expect(strstr(bad.lines[i], "column max_units_30d"), "%s", bad.lines[i]);
	}
	cr_expect_eq(limit_of(lg, "8100001"), 60);
	cr_expect_eq(limit_of(lg, "8100002"), 0);
	cr_expect_eq(units_of(lg, "8100003"), 0, "a bad limit loads nothing of its row");
	cr_expect_eq(limit_of(lg, "8100006"), EVENT_UNITS_MAX);
	cr_expect_eq(limit_of(lg, "8100007"), 48);
	cr_assert_eq(catalog_load_file(lg, path2, on_bad, &bad, &st, why, sizeof why), 0, "%s", why);
	cr_expect_eq(st.loaded, 1);
	cr_expect_eq(limit_of(lg, "8100001"), 0, "a reload without the column removes the limit");
	cr_expect_eq(units_of(lg, "8100001"), 24);
	cr_expect_eq(limit_of(lg, "8100007"), 48, "rows not reloaded keep theirs");
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
	free(db);
	free(path);
	free(path2);
}
