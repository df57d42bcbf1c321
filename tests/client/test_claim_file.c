/*
 * test_settle.c - the claim files of `yima settle` (verifier/settle_claim.c,
 * docs/protocol.md "yima settle") and the JSON of a verdict.
 *
 * Good files are checked against a dump of the Claim built from them:
 * "FAC|SETTLEMENT|TIME|PATIENT" then one "DRUG:code/units,code/units" per
 * item, joined by " ; ".  Bad files must be refused with YIMA_EFORMAT (or
 * the stated error) and a message naming the line and the rule.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/client/claim_file.h"

#define HDR "facility,settlement,time,patient,drug,code,units\n"
#define T "2026-03-01T10:00:00+08:00"

static int read_claim(const char *text, size_t n, settle_claim_t **c, char *why, size_t whylen)
{
	FILE *fp = fmemopen((void *)text, n, "r");
	cr_assert_not_null(fp);
	int rc = settle_claim_read(fp, "claim.csv", c, why, whylen);
	fclose(fp);
	return rc;
}

static void dump(const settle_claim_t *c, char *out, size_t n)
{
	const Yima__V1__Claim *m = &c->msg;
	size_t len = (size_t)snprintf(out, n, "%s|%s|%s|%s", m->facility, m->settlement, m->time,
				      m->patient);
	for (size_t i = 0; i < m->n_items; i++) {
		len += (size_t)snprintf(out + len, n - len, " ; %s:", m->items[i]->drug);
		for (size_t k = 0; k < m->items[i]->n_codes; k++)
			len += (size_t)snprintf(out + len, n - len, "%s%s/%llu", k ? "," : "",
						m->items[i]->codes[k]->code,
						(unsigned long long)m->items[i]->codes[k]->units);
	}
}

struct good_case {
	const char *name;
	const char *text;
	const char *want;
	const char *lines;	/* the data row of each code (header and empty
				 * lines not counted), space separated */
};

static struct good_case good_cases[] = {
	{ "units: 10^9, the most a number of units may be",
	  HDR "H1,ST1," T ",PT1,DRUGA,C1,1000000000\n",
	  "H1|ST1|" T "|PT1 ; DRUGA:C1/1000000000", "1" },
	{ "two drugs, units given and empty (empty = the whole pack)",
	  HDR "H1,ST1," T ",PT1,DRUGA,C1,10\nH1,ST1," T ",PT1,DRUGB,C2,\n",
	  "H1|ST1|" T "|PT1 ; DRUGA:C1/10 ; DRUGB:C2/0", "1 2" },
	{ "consecutive rows of one drug are one item; the drug again later is a new item",
	  HDR "H1,ST1," T ",PT1,DRUGA,C1,\nH1,ST1," T ",PT1,DRUGA,C2,5\n"
	      "H1,ST1," T ",PT1,DRUGB,C3,0\nH1,ST1," T ",PT1,DRUGA,C4,1\n",
	  "H1|ST1|" T "|PT1 ; DRUGA:C1/0,C2/5 ; DRUGB:C3/0 ; DRUGA:C4/1", "1 2 3 4" },
	{ "byte order mark, CRLF, quoted code with a comma and a GS byte, empty lines",
	  "\xEF\xBB\xBF" "facility,settlement,time,patient,drug,code,units\r\n\r\n"
	  "H1,ST1," T ",PT1,DRUGA,\"(01)069,x\x1d" "21A\",3\r\n",
	  "H1|ST1|" T "|PT1 ; DRUGA:(01)069,x\x1d" "21A/3", "1" },
	{ "fields are text: the server judges them (a bad time is its BAD_RECORD)",
	  HDR "H1,ST1,yesterday,,,C1,\n",
	  "H1|ST1|yesterday| ; :C1/0", "1" },
};

#define NGOOD (sizeof good_cases / sizeof good_cases[0])

ParameterizedTestParameters(settle, good)
{
	/* Criterion re-executes the test binary, so parameters carry an index
	 * into the table, not pointers into it. */
	static size_t idx[NGOOD];
	for (size_t i = 0; i < NGOOD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NGOOD);
}

ParameterizedTest(size_t *ix, settle, good)
{
	const struct good_case *tc = &good_cases[*ix];
	settle_claim_t *c;
	char why[512], got[1024], lines[256];
	size_t len = 0;

	cr_assert_eq(read_claim(tc->text, strlen(tc->text), &c, why, sizeof why), 0, "%s: %s",
		     tc->name, why);
	dump(c, got, sizeof got);
	cr_assert_str_eq(got, tc->want, "%s", tc->name);
	lines[0] = '\0';
	for (size_t i = 0; i < c->ncodes; i++)
		len += (size_t)snprintf(lines + len, sizeof lines - len, "%s%llu", i ? " " : "",
					(unsigned long long)c->lines[i]);
	cr_assert_str_eq(lines, tc->lines, "%s", tc->name);
	cr_assert(!c->msg.dry_run);
	/* it packs and unpacks to the same claim */
	size_t n = yima__v1__claim__get_packed_size(&c->msg);
	uint8_t *p = malloc(n ? n : 1);
	yima__v1__claim__pack(&c->msg, p);
	Yima__V1__Claim *back = yima__v1__claim__unpack(NULL, n, p);
	cr_assert_not_null(back);
	cr_assert_eq(back->n_items, c->msg.n_items);
	cr_assert_str_eq(back->patient, c->msg.patient);
	yima__v1__claim__free_unpacked(back, NULL);
	free(p);
	settle_claim_free(c);
}

struct bad_case {
	const char *name;
	const char *text;
	size_t len;		/* 0 = strlen */
	int rc;
	const char *why;	/* a substring of the message */
};

static struct bad_case bad_cases[] = {
	{ "empty file", "", 0, YIMA_EFORMAT, "claim.csv: empty, no header" },
	{ "header only", HDR, 0, YIMA_EFORMAT, "no codes" },
	{ "header without units", "facility,settlement,time,patient,drug,code\nH1,ST1," T ",PT1,D,C1\n", 0,
	  YIMA_EFORMAT, "header (line 1): the header is not" },
	{ "header in another order", "settlement,facility,time,patient,drug,code,units\n", 0,
	  YIMA_EFORMAT, "header (line 1): the header is not" },
	{ "events header", "time,facility,type,code,drug,qty,settlement,patient,counterparty\n", 0,
	  YIMA_EFORMAT, "header (line 1): the header is not" },
	{ "six fields", HDR "H1,ST1," T ",PT1,DRUGA,C1\n", 0, YIMA_EFORMAT,
	  "data row 1 (line 2): 6 fields, a claim row has 7" },
	{ "eight fields", HDR "H1,ST1," T ",PT1,DRUGA,C1,1,x\n", 0, YIMA_EFORMAT, "data row 1 (line 2): 8 fields" },
	{ "patient differs", HDR "H1,ST1," T ",PT1,DRUGA,C1,\nH1,ST1," T ",PT2,DRUGA,C2,\n", 0,
	  YIMA_EFORMAT, "data row 2 (line 3): column patient differs from data row 1 (line 2)" },
	{ "facility differs", HDR "H1,ST1," T ",PT1,DRUGA,C1,\n\nH2,ST1," T ",PT1,DRUGA,C2,\n", 0,
	  YIMA_EFORMAT, "data row 2 (line 4): column facility differs from data row 1 (line 2)" },
	{ "settlement differs", HDR "H1,ST1," T ",PT1,DRUGA,C1,\nH1,ST2," T ",PT1,DRUGA,C2,\n", 0,
	  YIMA_EFORMAT, "data row 2 (line 3): column settlement differs" },
	{ "time differs", HDR "H1,ST1," T ",PT1,DRUGA,C1,\nH1,ST1,2026-03-01T10:00:01+08:00,PT1,DRUGA,C2,\n", 0,
	  YIMA_EFORMAT, "data row 2 (line 3): column time differs" },
	{ "negative units", HDR "H1,ST1," T ",PT1,DRUGA,C1,-1\n", 0, YIMA_EFORMAT,
	  "data row 1 (line 2): column units: not a whole number from 0 to 1000000000: -1" },
	{ "fraction units", HDR "H1,ST1," T ",PT1,DRUGA,C1,1.5\n", 0, YIMA_EFORMAT,
	  "column units: not a whole number" },
	{ "signed units", HDR "H1,ST1," T ",PT1,DRUGA,C1,+2\n", 0, YIMA_EFORMAT,
	  "column units: not a whole number" },
	{ "units past 2^64", HDR "H1,ST1," T ",PT1,DRUGA,C1,18446744073709551616\n", 0, YIMA_EFORMAT,
	  "column units: not a whole number" },
	{ "units of a huge number (issue 9: never wrapped)", HDR "H1,ST1," T ",PT1,DRUGA,C1,99999999999999999999999\n",
	  0, YIMA_EFORMAT, "(line 2): column units: not a whole number from 0 to 1000000000" },
	{ "units over 10^9", HDR "H1,ST1," T ",PT1,DRUGA,C1,1000000001\n", 0, YIMA_EFORMAT,
	  "column units: not a whole number from 0 to 1000000000: 1000000001" },
	{ "NUL in a code (a protobuf string cannot hold it)", HDR "H1,ST1," T ",PT1,DRUGA,C\0001,\n",
	  sizeof(HDR "H1,ST1," T ",PT1,DRUGA,C\0001,\n") - 1, YIMA_EFORMAT, "data row 1 (line 2): column code: a NUL byte" },
	{ "unterminated quote runs to the end: one bad row",
	  HDR "H1,ST1," T ",PT1,DRUGA,\"C1,\nH1,ST1," T ",PT1,DRUGA,C2,\n", 0, YIMA_EFORMAT, "data row 1 (line 2): 6 fields" },
};

#define NBAD (sizeof bad_cases / sizeof bad_cases[0])

ParameterizedTestParameters(settle, bad)
{
	static size_t idx[NBAD];
	for (size_t i = 0; i < NBAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NBAD);
}

ParameterizedTest(size_t *ix, settle, bad)
{
	const struct bad_case *tc = &bad_cases[*ix];
	settle_claim_t *c = (settle_claim_t *)1;
	char why[512] = "";
	size_t n = tc->len ? tc->len : strlen(tc->text);

	cr_assert_eq(read_claim(tc->text, n, &c, why, sizeof why), tc->rc, "%s: %s", tc->name, why);
	cr_assert_null(c, "%s: no claim on failure", tc->name);
	cr_assert(strstr(why, tc->why) != NULL, "%s: message \"%s\" lacks \"%s\"", tc->name, why, tc->why);
}

Test(settle, too_many_codes)
{
	buf_t b;
	settle_claim_t *c;
	char why[512];

	buf_init(&b);
	buf_puts(&b, HDR);
	for (int i = 0; i <= CLAIM_CODES_MAX; i++)
		buf_printf(&b, "H1,ST1," T ",PT1,DRUGA,C%d,\n", i);
	cr_assert(!b.oom);
	cr_assert_eq(read_claim((char *)b.p, b.len, &c, why, sizeof why), YIMA_ETOOBIG, "%s", why);
	cr_assert(strstr(why, "more than 10000 codes") != NULL, "%s", why);
	buf_deinit(&b);
}

Test(settle, verdict_json)
{
	char *f1[] = { "REUSED", "SUBSTITUTED" };	/* printed in spec order */
	char *f2[] = { "SOMETHING_NEW" };		/* unknown names pass as sent */
	uint8_t hash[32];
	memset(hash, 0xab, sizeof hash);
	Yima__V1__EventVerdict a = YIMA__V1__EVENT_VERDICT__INIT, b2 = YIMA__V1__EVENT_VERDICT__INIT;
	a.seq = 41;
	a.code = "C\"1";
	a.verdict = YIMA__V1__VERDICT__REJECT;
	a.n_findings = 2;
	a.findings = f1;
	b2.seq = 42;
	b2.code = "C2";
	b2.verdict = YIMA__V1__VERDICT__WARN;
	b2.n_findings = 1;
	b2.findings = f2;
	b2.reason = "why";
	Yima__V1__EventVerdict *codes[] = { &a, &b2 };
	Yima__V1__Receipt r = YIMA__V1__RECEIPT__INIT;
	r.first_seq = 41;
	r.last_seq = 42;
	r.chain_hash.data = hash;
	r.chain_hash.len = 2;
	r.replayed = 1;
	a.index = 52;
	b2.index = 53;
	Yima__V1__ClaimVerdict v = YIMA__V1__CLAIM_VERDICT__INIT;
	v.settlement = "ST1";
	v.verdict = YIMA__V1__VERDICT__REJECT;
	v.n_codes = 2;
	v.codes = codes;
	v.receipt = &r;
	buf_t b;

	buf_init(&b);
	settle_verdict_json(&b, &v);
	buf_putc(&b, '\0');
	cr_assert_str_eq((char *)b.p,
			 "{\"settlement\":\"ST1\",\"verdict\":\"reject\",\"dry_run\":false,\"codes\":["
			 "{\"code\":\"C\\\"1\",\"verdict\":\"reject\",\"findings\":[\"SUBSTITUTED\",\"REUSED\"],\"seq\":41,\"index\":52},"
			 "{\"code\":\"C2\",\"verdict\":\"warn\",\"findings\":[\"SOMETHING_NEW\"],\"seq\":42,\"index\":53,\"reason\":\"why\"}],"
			 "\"receipt\":{\"first_seq\":41,\"last_seq\":42,\"chain_hash\":\"abab\",\"replayed\":true}}\n");
	buf_reset(&b);
	v.receipt = NULL;
	v.dry_run = 1;
	v.n_codes = 0;
	v.verdict = YIMA__V1__VERDICT__ACCEPT;
	settle_verdict_json(&b, &v);
	buf_putc(&b, '\0');
	cr_assert_str_eq((char *)b.p, "{\"settlement\":\"ST1\",\"verdict\":\"accept\",\"dry_run\":true,"
				      "\"codes\":[],\"receipt\":null}\n");
	buf_deinit(&b);
}
