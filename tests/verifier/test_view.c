/*
 * test_view.c - the public view and history access of a code
 * (verifier/view.c), in process: the counts spec section 6 names (a
 * split pack sold in four parts is one pack in four sales), the status,
 * any_reject, and which facility may read the history.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "testutil.h"
#include "yima/util/error.h"
#include "yima/verifier/view.h"

#define T(d) "2026-03-0" #d "T10:00:00+08:00"

/* Run rows (each expectation given), then compute the public view of
 * code in the ledger left behind. */
static void view_of(const scenario_t *sc, const char *code, const char *recall,
		    view_public_t *v, bool *h2_handled, char name[64])
{
	char *db = scenario_run(sc, 1), why[256];
	ledger_t *lg;
	ledger_txn_t *txn;
	query_t q;

	cr_assert_eq(ledger_open(db, recall ? 0 : LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	if (recall != NULL) {
		cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
		cr_assert_eq(ledger_recall_add(txn, RECALL_PRODUCT, recall, strlen(recall)), 0);
		cr_assert_eq(ledger_txn_commit(txn), 0);
	}
	cr_assert_eq(ledger_txn_begin(lg, false, &txn), 0);
	cr_assert_eq(query_load(txn, code, strlen(code), &q, why, sizeof why), 0, "%s", why);
	cr_assert_eq(view_public(txn, &q, v), 0);
	*h2_handled = view_facility_handled(&q, "H2");
	snprintf(name, 64, "%.*s", (int)v->name.n, v->name.p);	/* v->name dies with txn */
	query_free(&q);
	ledger_txn_abort(txn);
	ledger_close(lg);
	free(db);
}

Test(view, split_pack_is_one_pack_in_four_sales)
{
	const scenario_t sc = {
		"four sales", NULL, 0,
		T(1) ",H1,receive," C1 ",,,,,SUP\n"
		T(2) ",H1,dispense," C1 ",DRUGA,6,S1,PT1,\n"
		T(2) ",H1,dispense," C1 ",DRUGA,6,S2,PT2,\n"
		T(3) ",H1,dispense," C1 ",DRUGA,6,S3,PT3,\n"
		T(3) ",H1,dispense," C1 ",DRUGA,6,S4,PT4,\n",
		"accept\naccept\naccept\naccept\naccept",
	};
	view_public_t v;
	char name[64];
	bool h2;

	view_of(&sc, C1, NULL, &v, &h2, name);
	cr_assert(v.in_catalog);
	cr_assert_str_eq(name, "Amoxicillin");
	cr_assert_eq(v.pack_units, 24);
	cr_assert_eq(v.units_dispensed, 24);
	cr_assert_eq(v.sales, 4);
	cr_assert_eq(v.facilities, 1);
	cr_assert_str_eq(v.status, "dispensed");
	cr_assert(!v.any_reject);
	cr_assert(!h2, "H2 never handled it");
}

Test(view, refunded_sale_does_not_count_and_rejects_show)
{
	const scenario_t sc = {
		"refund and reject", NULL, 0,
		T(1) ",H1,receive," C1 ",,,,,SUP\n"
		T(2) ",H1,dispense," C1 ",DRUGA,6,S1,PT1,\n"
		T(2) ",H1,refund," C1 ",,6,S1,PT1,\n"
		T(3) ",H1,dispense," C1 ",DRUGA,6,S2,PT2,\n"
		T(4) ",H2,receive," C1 ",,,,,SUP\n",
		"accept\naccept\naccept\naccept\nreject RETURNED_TO_MARKET ALREADY_HELD",
	};
	view_public_t v;
	char name[64];
	bool h2;

	view_of(&sc, C1, NULL, &v, &h2, name);
	cr_assert_eq(v.units_dispensed, 6);
	cr_assert_eq(v.sales, 1, "the refunded dispense is not a sale");
	cr_assert_eq(v.facilities, 1, "a rejected attempt is not handling");
	cr_assert_str_eq(v.status, "partly_dispensed");
	cr_assert(v.any_reject);
	cr_assert(!h2, "a rejected attempt does not open the history to H2");
}

Test(view, recalled_product_and_second_facility)
{
	const scenario_t sc = {
		"transfer", NULL, 0,
		T(1) ",H1,receive," C1 ",,,,,SUP\n"
		T(2) ",H1,transfer_out," C1 ",,,,,H2\n"
		T(3) ",H2,transfer_in," C1 ",,,,,H1\n",
		"accept\naccept\naccept",
	};
	view_public_t v;
	char name[64];
	bool h2;

	view_of(&sc, C1, "8100001", &v, &h2, name);
	cr_assert_str_eq(v.status, "recalled");
	cr_assert_eq(v.facilities, 2);
	cr_assert_eq(v.sales, 0);
	cr_assert(h2);
}
