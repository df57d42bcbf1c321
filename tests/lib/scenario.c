/*
 * scenario.c - see scenario.h.  Drives the same library path as `yima
 * ingest`: catalog_load_file, recall_parse_arg + ledger_recall_add, then
 * csv_reader -> verify_input_from_row -> verify_apply, row by row.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "scenario.h"
#include "testutil.h"
#include "yima/verifier/audit.h"
#include "yima/verifier/catalog.h"
#include "yima/util/csv.h"
#include "yima/util/error.h"
#include "yima/verifier/recall.h"
#include "yima/verifier/verify.h"

static void load_catalog(ledger_t *lg, const char *dir)
{
	catalog_stats_t st;
	char why[256];
	char *path = tu_write_file(dir, "catalog.csv", SC_CATALOG, strlen(SC_CATALOG));
	cr_assert_eq(catalog_load_file(lg, path, NULL, NULL, &st, why, sizeof why), 0, "%s", why);
	cr_assert_eq(st.bad, 0);
	free(path);
}

static void add_recalls(ledger_t *lg, const char *list)
{
	char *copy, *save = NULL, why[256], key[RECALL_KEY_MAX];
	enum recall_kind kind;
	ledger_txn_t *txn;

	if (list == NULL)
		return;
	copy = strdup(list);
	cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
	for (char *a = strtok_r(copy, ";", &save); a; a = strtok_r(NULL, ";", &save)) {
		cr_assert_eq(recall_parse_arg(a, &kind, key, why, sizeof why), 0, "%s: %s", a, why);
		cr_assert_eq(ledger_recall_add(txn, kind, key, strlen(key)), 0);
	}
	cr_assert_eq(ledger_txn_commit(txn), 0);
	free(copy);
}

static void describe(buf_t *b, const verify_result_t *r)
{
	buf_puts(b, verdict_name(r->verdict));
	FINDING_EACH(f)
		if (r->findings & FINDING_BIT(f))
			buf_printf(b, " %s", finding_name((enum finding)f));
}

static void run_rows(ledger_t *lg, const scenario_t *sc)
{
	buf_t text, got;
	csv_reader_t *csv;
	csv_row_t row;
	char msg[256];
	const char *exp = sc->expect;
	uint64_t n = 0;

	buf_init(&text);
	buf_puts(&text, "time,facility,type,code,drug,qty,settlement,patient,counterparty\n");
	buf_puts(&text, sc->rows);
	FILE *fp = fmemopen(text.p, text.len, "r");
	cr_assert_not_null(fp);
	cr_assert_eq(csv_reader_new(fp, 0, &csv), 0);
	cr_assert_eq(csv_reader_next(csv, &row, msg, sizeof msg), 1);
	buf_init(&got);
	while (csv_reader_next(csv, &row, msg, sizeof msg) == 1) {
		verify_input_t in;
		verify_result_t res;
		ledger_txn_t *txn;
		n++;
		verify_input_from_row(&row, &in);
		cr_assert_eq(ledger_txn_begin(lg, true, &txn), 0);
		if (sc->refund_window)
			cr_assert_eq(ledger_refund_window_set(txn, sc->refund_window), 0);
		cr_assert_eq(verify_apply(txn, &in, &res), 0, "%s row %llu", sc->name, (unsigned long long)n);
		cr_assert_eq(ledger_txn_commit(txn), 0);
		buf_reset(&got);
		describe(&got, &res);
		buf_putc(&got, '\0');
		const char *eol = strchr(exp, '\n');
		size_t elen = eol ? (size_t)(eol - exp) : strlen(exp);
		cr_assert(elen > 0, "%s: no expectation for row %llu", sc->name, (unsigned long long)n);
		cr_expect(strlen((char *)got.p) == elen && memcmp(got.p, exp, elen) == 0,
			  "%s: row %llu: expected \"%.*s\", got \"%s\" (%s)", sc->name,
			  (unsigned long long)n, (int)elen, exp, (char *)got.p, in.reason);
		exp = eol ? eol + 1 : exp + elen;
	}
	cr_assert_eq(*exp, '\0', "%s: more expectations than rows", sc->name);
	csv_reader_free(csv);
	fclose(fp);
	buf_deinit(&text);
	buf_deinit(&got);
}

char *scenario_run(const scenario_t *sc, int keep)
{
	char *dir = tu_mkdtemp(), *db = NULL, why[256];
	ledger_t *lg;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	load_catalog(lg, dir);
	add_recalls(lg, sc->recalls);
	run_rows(lg, sc);
	ledger_close(lg);
	scenario_assert_audit_ok(db);
	if (keep) {
		free(dir);
		return db;
	}
	tu_rmtree(dir);
	free(dir);
	free(db);
	return NULL;
}

void scenario_assert_audit_ok(const char *dir)
{
	ledger_t *lg;
	audit_result_t res;
	char why[512], *scratch = tu_mkdtemp();

	cr_assert_eq(ledger_open(dir, LEDGER_RDONLY, &lg, why, sizeof why), 0, "%s", why);
	cr_expect_eq(audit_ledger(lg, scratch, NULL, NULL, &res, why, sizeof why), 0, "audit: %s", why);
	ledger_close(lg);
	tu_rmtree(scratch);
	free(scratch);
}

char *scenario_world(char **top)
{
	char *dir = tu_mkdtemp(), why[512], *db, *cat;
	ledger_t *lg;
	catalog_stats_t st;

	cr_assert(asprintf(&db, "%s/db", dir) > 0);
	cat = tu_write_file(dir, "catalog.csv", SC_CATALOG, strlen(SC_CATALOG));
	cr_assert_eq(ledger_open(db, LEDGER_CREATE | LEDGER_NOSYNC, &lg, why, sizeof why), 0, "%s", why);
	cr_assert_eq(catalog_load_file(lg, cat, NULL, NULL, &st, why, sizeof why), 0, "%s", why);
	ledger_close(lg);
	free(cat);
	*top = dir;
	return db;
}
