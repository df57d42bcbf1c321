/*
 * test_report_parts.c - the evidence report's pieces that a page check cannot
 * pin down: HTML escaping of hostile ledger text (the period arguments
 * are tests/core/test_timearg.c's), the local day of negative instants, and
 * a small ledger's page (rows in seq order, nothing outside the period).
 * tests/integration/test_report.sh renders a page in Chromium.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/html.h"
#include "report_int.h"
#include "testutil.h"
#include "yima/util/error.h"
#include "yima/verifier/ingest.h"
#include "yima/regulator/report.h"
#include "yima/core/timearg.h"

struct esc_case {
	char in[48];
	size_t n;
	char out[64];
};

ParameterizedTestParameters(report, html_text)
{
	static struct esc_case cases[] = {
		{ "plain 123", 9, "plain 123" },
		{ "<script>alert(1)</script>", 25, "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "a&b\"c'd", 7, "a&amp;b&quot;c&#39;d" },
		{ "tab\there\nline", 13, "tab\there\nline" },
		{ "bel\a nul\0.", 10, "bel\xEF\xBF\xBD nul\xEF\xBF\xBD." },	/* C0 controls */
		{ "del\x7f", 4, "del\xEF\xBF\xBD" },
		{ "c1\xC2\x85", 4, "c1\xEF\xBF\xBD" },				/* U+0085 */
		{ "\xE9\x98\xBF\xE8\x8E\xAB", 6, "\xE9\x98\xBF\xE8\x8E\xAB" },	/* 阿莫 */
		{ "bad\xFF\xC3", 5, "bad\xEF\xBF\xBD\xEF\xBF\xBD" },		/* invalid UTF-8 */
		{ "", 0, "" },
	};
	return cr_make_param_array(struct esc_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct esc_case *c, report, html_text)
{
	buf_t b;
	buf_init(&b);
	html_text(&b, c->in, c->n);
	buf_putc(&b, '\0');
	cr_assert(!b.oom);
	cr_assert_str_eq((const char *)b.p, c->out, "escaping %s", c->out);
	buf_deinit(&b);
}

Test(report, local_day)
{
	yima_time_t t = { .sec = 0 };
	cr_assert_eq(report_local_day(&t, 0), 0);
	cr_assert_eq(report_local_day(&t, -1), -1);	/* 1969-12-31T23:59-00:01 */
	t.sec = -1;
	cr_assert_eq(report_local_day(&t, 0), -1);
	t.sec = -86400;
	cr_assert_eq(report_local_day(&t, 0), -1);
	t.sec = 16 * 3600;				/* 1970-01-02T00:00+08:00 */
	cr_assert_eq(report_local_day(&t, 480), 1);
}

static const char events[] =
	"time,facility,type,code,drug,qty,settlement,patient,counterparty\n"
	/* no catalog: every code is of an UNKNOWN_PRODUCT */
	"2026-03-01T09:00:00+08:00,H1,dispense,12345670000000000001,D1,,S1,,\n"	/* reject */
	"2026-03-02T09:00:00+08:00,H2,dispense,12345670000000000002,D1,,S2,,\n"	/* other facility */
	"2026-03-02T10:00:00+08:00,H1,receive,12345670000000000003,,,,,S0\n"	/* warn */
	"2026-03-05T09:00:00+08:00,H1,dispense,12345670000000000004,D1,,S3,,\n"	/* after the period */
	"2026-03-03T09:00:00+08:00,H1,receive,bad code,,,,,S0\n";		/* MALFORMED */

Test(report, page_of_a_small_ledger)
{
	char *dir = tu_mkdtemp(), *csv = tu_write_file(dir, "e.csv", events, sizeof events - 1);
	char db[4096], why[256], *page = NULL;
	size_t len = 0;
	ledger_t *lg;
	ingest_opts_t io;
	ingest_stats_t is;
	report_opts_t o;
	report_stats_t st;

	snprintf(db, sizeof db, "%s/db", dir);
	cr_assert_eq(ledger_open(db, LEDGER_CREATE, &lg, why, sizeof why), 0, "%s", why);
	ingest_opts_init(&io);
	io.path = csv;
	cr_assert_eq(ingest_file(lg, &io, &is, why, sizeof why), 0, "%s", why);

	memset(&o, 0, sizeof o);
	o.facility = "H1";
	cr_assert_eq(time_arg_parse("2026-03-01", TIME_ARG_START, &o.from, why, sizeof why), 0);
	cr_assert_eq(time_arg_parse("2026-03-03", TIME_ARG_END, &o.to, why, sizeof why), 0);
	FILE *out = open_memstream(&page, &len);
	cr_assert_eq(report_write(lg, &o, out, &st, why, sizeof why), 0, "%s", why);
	fclose(out);
	cr_assert_eq(st.events, 3);
	cr_assert_eq(st.flagged, 3);
	cr_assert_eq(st.ledger_events, 5);
	const char *s1 = strstr(page, "<tr id=\"seq-1\">"), *s3 = strstr(page, "<tr id=\"seq-3\">"),
		   *s5 = strstr(page, "<tr id=\"seq-5\">");
	cr_assert(s1 != NULL && s3 != NULL && s5 != NULL && s1 < s3 && s3 < s5, "rows 1, 3, 5 in seq order");
	cr_assert_not_null(strstr(s5, "bad code"));
	cr_assert_null(strstr(page, "id=\"seq-2\""));
	cr_assert_null(strstr(page, "id=\"seq-4\""));
	cr_assert_not_null(strstr(page, "</html>"));

	o.facility = "h1";
	cr_assert_eq(report_write(lg, &o, stdout, &st, why, sizeof why), YIMA_EINVAL);
	o.facility = "H1";
	o.to = o.from;
	o.from.sec++;
	cr_assert_eq(report_write(lg, &o, stdout, &st, why, sizeof why), YIMA_EINVAL);
	free(page);
	ledger_close(lg);
	tu_rmtree(dir);
	free(dir);
	free(csv);
}
