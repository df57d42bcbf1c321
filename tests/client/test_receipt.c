/*
 * test_receipt.c - wire verdicts as `yima upload` prints and counts them
 * (verifier/receipt.c): the JSON line must be byte for byte what
 * `yima ingest` prints for the same verdict (spec section 5), so the two
 * outputs can be compared with diff.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/ingest.h"
#include "yima/client/receipt.h"
#include "yima/verifier/verify.h"

/* The ingest line and the upload line of one verdict, side by side. */
static void same_line(uint64_t line, const char *code, size_t code_len, enum verdict v,
		      finding_set_t f, const char *reason)
{
	verify_input_t in;
	verify_result_t res;
	buf_t a, b;
	char *names[F_COUNT];
	size_t n = 0;
	char codez[256];

	memset(&in, 0, sizeof in);
	memset(&res, 0, sizeof res);
	if (reason != NULL) {
		in.status = YIMA_EBADRECORD;
		in.code_field = yima_slice(code, code_len);
		strncpy(in.reason, reason, sizeof in.reason - 1);
	} else {	/* a code that normalized prints its canonical form */
		cr_assert_lt(code_len, sizeof in.code.canon);
		memcpy(in.code.canon, code, code_len);
		in.code.canon_len = code_len;
	}
	res.verdict = v;
	res.findings = f;
	for (int i = F_COUNT - 1; i >= 0; i--)	/* any order on the wire */
		if (f & FINDING_BIT(i))
			names[n++] = (char *)finding_name((enum finding)i);

	Yima__V1__EventVerdict ev = YIMA__V1__EVENT_VERDICT__INIT;
	cr_assert_lt(code_len, sizeof codez);
	memcpy(codez, code, code_len);
	codez[code_len] = '\0';
	ev.code = codez;
	ev.verdict = v == VERDICT_ACCEPT ? YIMA__V1__VERDICT__ACCEPT
		   : v == VERDICT_WARN ? YIMA__V1__VERDICT__WARN : YIMA__V1__VERDICT__REJECT;
	ev.n_findings = n;
	ev.findings = names;
	if (reason != NULL)
		ev.reason = (char *)reason;

	buf_init(&a);
	buf_init(&b);
	ingest_json_line(&a, line, &in, &res);
	receipt_event_json(&b, line, &ev);
	buf_putc(&a, '\0');
	buf_putc(&b, '\0');
	cr_assert_str_eq((char *)b.p, (char *)a.p);
	buf_deinit(&a);
	buf_deinit(&b);
}

Test(receipt, json_line_as_ingest_prints_it)
{
	same_line(1, "84542610355258035134", 20, VERDICT_ACCEPT, 0, NULL);
	same_line(7, "84542610355258035134", 20, VERDICT_WARN, FINDING_BIT(F_NOT_RECEIVED), NULL);
	same_line(12, "(01)069\"x\x1d", 10, VERDICT_REJECT,
		  FINDING_BIT(F_SUBSTITUTED) | FINDING_BIT(F_REUSED) | FINDING_BIT(F_EXPIRED), NULL);
	same_line(99, "", 0, VERDICT_REJECT, FINDING_BIT(F_BAD_RECORD), "9 fields expected, found 4");
	same_line(100, "\xff\xfe", 2, VERDICT_REJECT, FINDING_BIT(F_MALFORMED), "bad \"bytes\"");
}

Test(receipt, verdicts_checked_and_counted)
{
	char *f[] = { "REUSED", "RECALLED", "FROM_THE_FUTURE" };
	Yima__V1__EventVerdict a = YIMA__V1__EVENT_VERDICT__INIT, b = YIMA__V1__EVENT_VERDICT__INIT;
	Yima__V1__EventVerdict *both[] = { &a, &b };
	receipt_counts_t c;
	enum verdict v;

	a.verdict = YIMA__V1__VERDICT__ACCEPT;
	b.verdict = YIMA__V1__VERDICT__VERDICT_UNSPECIFIED;
	cr_assert(!receipt_verdict(b.verdict, &v), "an unspecified verdict is no verdict");
	cr_assert(!receipt_verdicts_ok(both, 2));
	b.verdict = YIMA__V1__VERDICT__REJECT;
	b.n_findings = 3;
	b.findings = f;
	cr_assert(receipt_verdicts_ok(both, 2));

	memset(&c, 0, sizeof c);
	receipt_count(&c, &a);
	receipt_count(&c, &b);
	cr_assert_eq(c.events, 2);
	cr_assert_eq(c.verdicts[VERDICT_ACCEPT], 1);
	cr_assert_eq(c.verdicts[VERDICT_REJECT], 1);
	cr_assert_eq(c.findings[F_REUSED], 1);
	cr_assert_eq(c.findings[F_RECALLED], 1);
	cr_assert_eq(c.other_findings, 1);
}
