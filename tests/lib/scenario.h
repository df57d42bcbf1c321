/*
 * scenario.h - run a small world through the real verifier: a catalog, a
 * recall list and event rows, each row's verdict and findings checked
 * against what the spec says for it.
 */
#ifndef YIMA_TEST_SCENARIO_H
#define YIMA_TEST_SCENARIO_H

#include <stdint.h>

#include "yima/ledger/ledger.h"

/* Catalog shared by the scenarios (spec section 2 format). */
#define SC_CATALOG                                                        \
	"product_id,drug_code,name,spec,pack_units\n"                     \
	"8100001,DRUGA,Amoxicillin,24 caps,24\n"                          \
	"8100002,DRUGB,Aspirin,1 box,1\n"                                 \
	"8100003,DRUGA,Amoxicillin generic,24 caps,24\n"                  \
	"06901234567892,DRUGC,Insulin,10 pens,10\n"

/* 20-digit codes: product 8100001 (24 units), 8100002 (1 unit),
 * 8100003 (same drug as 8100001), 8999999 (not in the catalog). */
#define C1 "81000010000000010001"
#define C2 "81000010000000020001"
#define CB "81000020000000010001"
#define CS "81000030000000010001"
#define CU "89999990000000010001"
#define GTIN "06901234567892"

typedef struct scenario {
	const char *name;
	const char *recalls;	/* ';'-separated `yima recall add` arguments */
	uint32_t refund_window;	/* 0 = default 10 */
	const char *rows;	/* CSV data rows, no header */
	const char *expect;	/* one line per row: "accept", "warn NOT_RECEIVED",
				 * "reject REUSED RETURNED_TO_MARKET" */
} scenario_t;

/* Run sc in a fresh ledger; fails the current test with the first row
 * whose verdict or findings differ.  Returns the ledger directory (for
 * follow-up checks; caller frees and removes it) if keep is set. */
char *scenario_run(const scenario_t *sc, int keep);

/* Open dir, run fn-free checks: the audit passes on it. */
void scenario_assert_audit_ok(const char *dir);

/* A fresh ledger holding SC_CATALOG: returns its path (dir/db) and the
 * directory to remove in *top (both malloc'd). */
char *scenario_world(char **top);

#endif
