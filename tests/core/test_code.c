/*
 * test_code.c - trace code normalization against spec section 1.
 *
 * Table-driven: each case names the rule of spec section 1 it checks.  The
 * accepted cases give the canonical code and attributes; the rejected ones
 * give a word or two the reason must contain (the rule that failed, and
 * the character where that matters).  Raw strings are byte arrays with an
 * explicit length (sizeof - 1), so NUL bytes inside them are tested too.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "yima/core/code.h"
#include "yima/util/error.h"

/* A GTIN-14 with a valid check digit (4), and the same with a wrong one. */
#define GTIN "06924174940464"
#define GTIN_BAD "06924174940465"
#define D20 "84542614858438476907"

struct ok_case {
	char rule[96];
	char raw[256];
	size_t len;
	enum code_kind kind;
	char canon[CODE_CANON_MAX + 1];
	int y, m, d;		/* AI 17; y == 0: none */
	char batch[CODE_BATCH_MAX + 1];
};

struct bad_case {
	char rule[96];
	char raw[256];
	size_t len;
	char want[2][48];	/* substrings the reason must contain */
};

#define OK20(r, in, out) \
	{ .rule = r, .raw = in, .len = sizeof(in) - 1, \
	  .kind = CODE_DIGITS20, .canon = out }
#define OKGS(r, in, out, yy, mm, dd, b) \
	{ .rule = r, .raw = in, .len = sizeof(in) - 1, .kind = CODE_GS1, \
	  .canon = out, .y = yy, .m = mm, .d = dd, .batch = b }
#define BAD(r, in, w1, w2) \
	{ .rule = r, .raw = in, .len = sizeof(in) - 1, .want = { w1, w2 } }

ParameterizedTestParameters(code, accepted)
{
	static struct ok_case cases[] = {
	/* 20-digit */
	OK20("s1 20-digit: exactly 20 digits", D20, D20),
	OK20("s1 20-digit: interior spaces removed", "8454 2614 8584 3847 6907", D20),
	OK20("s1 20-digit: uneven interior spaces", "845 42614858438 47 6907", D20),
	OK20("s1 20-digit: several spaces in a row", "8454  26148584384  76907", D20),
	OK20("s1 reads as 20 digits and GS1: 20-digit wins",
	     "01" GTIN "2112", "01" GTIN "2112"),
	/* AIM symbology identifier */
	OK20("s1 cleaning: AIM ]d2 dropped", "]d2" D20, D20),
	OK20("s1 cleaning: AIM ]Q3 dropped", "]Q3" D20, D20),
	OK20("s1 cleaning: AIM ]C1 dropped", "]C1" D20, D20),
	OK20("s1 cleaning: AIM ]e0 dropped", "]e0" D20, D20),
	OK20("s1 cleaning: AIM, then whitespace stripped", "]Q1  " D20 "\r\n", D20),
	OK20("s1 cleaning: AIM before full-width digits",
	     "]d1８４５４２６１４８５８４３８４７６９０７", D20),
	OKGS("s1 cleaning: AIM before a GS1 element string",
	     "]e0" "01" GTIN "1727060021X64KOCZP5R\n",
	     "01" GTIN "21X64KOCZP5R", 2027, 6, 30, ""),
	OKGS("s1 cleaning: AIM, GS1 printed form", "]Q3(01)" GTIN "(21)A",
	     "01" GTIN "21A", 0, 0, 0, ""),
	/* full-width */
	OK20("s1 cleaning: full-width digits",
	     "８４５４２６１４８５８４３８４７６９０７", D20),
	OK20("s1 cleaning: mixed full-width and ASCII digits",
	     "84５４2614８58438476907", D20),
	OK20("s1 cleaning: full-width digits with interior spaces",
	     "８４５４２ ６１４８５８４３８ ４７６９０７", D20),
	OKGS("s1 cleaning: full-width parentheses and letters, printed form",
	     "（０１）１６９４５９７９８６３８２３（２１）ＮＣＧ０７ＱＬ５８Ｚ \n",
	     "011694597986382321NCG07QL58Z", 0, 0, 0, ""),
	OKGS("s1 cleaning: full-width printed form with 17 and 10",
	     "（０１）１６９４５９７９８６３８２３（２１）ＡＵ５Ｕ０１５３ＥＸ"
	     "（１７）２７１１２４（１０）Ｂ４ＵＶＳＩＰＧ",
	     "011694597986382321AU5U0153EX", 2027, 11, 24, "B4UVSIPG"),
	OKGS("s1 cleaning: full-width raw element string",
	     "０１０６９２４１７４９４０４６４２１ＡＢＣ", "01" GTIN "21ABC",
	     0, 0, 0, ""),
	OKGS("s1 cleaning: full-width ! (U+FF01) and z map to ASCII",
	     "(01)" GTIN "(21)！ｚ", "01" GTIN "21!z", 0, 0, 0, ""),
	/* whitespace */
	OK20("s1 cleaning: leading space", " " D20, D20),
	OK20("s1 cleaning: leading TAB", "\t" D20, D20),
	OK20("s1 cleaning: leading LF", "\n" D20, D20),
	OK20("s1 cleaning: leading VT", "\v" D20, D20),
	OK20("s1 cleaning: leading FF", "\f" D20, D20),
	OK20("s1 cleaning: leading CR", "\r" D20, D20),
	OK20("s1 cleaning: trailing space", D20 " ", D20),
	OK20("s1 cleaning: trailing TAB", D20 "\t", D20),
	OK20("s1 cleaning: trailing LF", D20 "\n", D20),
	OK20("s1 cleaning: trailing VT", D20 "\v", D20),
	OK20("s1 cleaning: trailing FF", D20 "\f", D20),
	OK20("s1 cleaning: trailing CR", D20 "\r", D20),
	OK20("s1 cleaning: all whitespace kinds both ends",
	     " \t\n\v\f\r" D20 "\r\n\v\f\t ", D20),
	OKGS("s1 cleaning: whitespace stripped before the leading GS",
	     " \x1d" "01" GTIN "1730020021JF3KGAN3A2",
	     "01" GTIN "21JF3KGAN3A2", 2030, 2, 28, ""),
	/* GS1 raw element string */
	OKGS("s1 GS1 raw: 01 and 21", "01" GTIN "21ABC", "01" GTIN "21ABC",
	     0, 0, 0, ""),
	OKGS("s1 GS1 raw: 10 ended by GS",
	     "01169533213190891727091810B3NBDWC3\x1d" "21BQV3E9TL",
	     "011695332131908921BQV3E9TL", 2027, 9, 18, "B3NBDWC3"),
	OKGS("s1 GS1 raw: 21 ended by GS, then 17 and 10",
	     "011695332131908921XZU367H2\x1d" "1729111710B693TI6X",
	     "011695332131908921XZU367H2", 2029, 11, 17, "B693TI6X"),
	OKGS("s1 GS1 raw: leading FNC1/GS ignored",
	     "\x1d" "01" GTIN "21ABC", "01" GTIN "21ABC", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: GS after a predefined-length field tolerated",
	     "01" GTIN "\x1d" "17270600\x1d" "21ABC", "01" GTIN "21ABC",
	     2027, 6, 30, ""),
	OKGS("s1 GS1 raw: one trailing GS tolerated",
	     "01" GTIN "21ABC\x1d", "01" GTIN "21ABC", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: CR LF and space after the trailing GS stripped",
	     "\x1d" "01" GTIN "21LQMM59YYPQW4\x1d" "1728082310B0Y5UZJE\r\n ",
	     "01" GTIN "21LQMM59YYPQW4", 2028, 8, 23, "B0Y5UZJE"),
	OKGS("s1 GS1 raw: serial of 20 characters", "01" GTIN "2112345678901234567890",
	     "01" GTIN "2112345678901234567890", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: serial of 1 character", "01" GTIN "21A",
	     "01" GTIN "21A", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: serial uses all of set 82's punctuation",
	     "01" GTIN "21!\"%&'()*+,-./:;<=>?_",
	     "01" GTIN "21!\"%&'()*+,-./:;<=>?_", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: batch of 20 characters",
	     "01" GTIN "10ABCDEFGHIJKLMNOPQRST\x1d" "21A", "01" GTIN "21A",
	     0, 0, 0, "ABCDEFGHIJKLMNOPQRST"),
	OKGS("s1 GS1 raw: skipped 11 13 15 16 30 240 241 422",
	     "01" GTIN "11250531" "13250600" "15270100" "16270131"
	     "3012\x1d" "240A-1/B\x1d" "241X\x1d" "422156\x1d" "21S1",
	     "01" GTIN "21S1", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: skipped 4-digit 3103 (6 digits, no GS needed)",
	     "01" GTIN "3103001234" "21S1", "01" GTIN "21S1", 0, 0, 0, ""),
	OKGS("s1 GS1 raw: skipped company-internal 91-99",
	     "01" GTIN "91abc\x1d" "99?!\x1d" "21S1", "01" GTIN "21S1", 0, 0, 0, ""),
	/* GS1 printed form */
	OKGS("s1 GS1 printed: 01 17 10 21",
	     "(01)16953321319089(17)270918(10)B3NBDWC3(21)BQV3E9TL",
	     "011695332131908921BQV3E9TL", 2027, 9, 18, "B3NBDWC3"),
	OKGS("s1 GS1 printed: any order of AIs",
	     "(01)06990084766555(21)TTE799TE5J(17)271108(10)BP9M5AU9\n",
	     "010699008476655521TTE799TE5J", 2027, 11, 8, "BP9M5AU9"),
	OKGS("s1 GS1 printed: skipped 11 13 15 16 30 240 241 422",
	     "(01)" GTIN "(11)250531(13)250600(15)270100(16)270131(30)12"
	     "(240)A-1/B(241)X(422)156(21)S1", "01" GTIN "21S1", 0, 0, 0, ""),
	/* Skipped AIs are checked for length and character set only: their
	 * date parts are not read, so a date that does not exist passes. */
	OKGS("s1 GS1: skipped AIs 11 13 15 16 7003 with impossible dates",
	     "(01)" GTIN "(11)250230(13)250431(15)230229(16)231300(7003)2702001200(21)X",
	     "01" GTIN "21X", 0, 0, 0, ""),
	OKGS("s1 GS1 printed: skipped 7003 (date and time), 8008 optional parts",
	     "(01)" GTIN "(7003)2702281230(8008)27022812(21)S1",
	     "01" GTIN "21S1", 0, 0, 0, ""),
	OKGS("s1 GS1 printed: ')' is set 82, only '(' ends a value",
	     "(01)" GTIN "(21)A)B", "01" GTIN "21A)B", 0, 0, 0, ""),
	/* AI 17 dates */
	OKGS("s1 AI 17: day 00 is the last day (Feb, leap year 2024)",
	     "(01)" GTIN "(17)240200(21)X", "01" GTIN "21X", 2024, 2, 29, ""),
	OKGS("s1 AI 17: day 00 is the last day (Feb, 2023)",
	     "(01)" GTIN "(17)230200(21)X", "01" GTIN "21X", 2023, 2, 28, ""),
	OKGS("s1 AI 17: day 00 is the last day (Feb 2000, leap)",
	     "(01)" GTIN "(17)000200(21)X", "01" GTIN "21X", 2000, 2, 29, ""),
	OKGS("s1 AI 17: day 00 is the last day (April)",
	     "(01)" GTIN "(17)250400(21)X", "01" GTIN "21X", 2025, 4, 30, ""),
	OKGS("s1 AI 17: day 00 is the last day (March 2030)",
	     "(01)06946695299326(21)O1J3J6JHTD3S(17)300300(10)BLQG93P8",
	     "010694669529932621O1J3J6JHTD3S", 2030, 3, 31, "BLQG93P8"),
	OKGS("s1 AI 17: 29 February of a leap year exists",
	     "(01)" GTIN "(17)280229(21)X", "01" GTIN "21X", 2028, 2, 29, ""),
	OKGS("s1 AI 17: years are 20YY", "(01)" GTIN "(17)991231(21)X",
	     "01" GTIN "21X", 2099, 12, 31, ""),
	};
	return cr_make_param_array(struct ok_case, cases,
				   sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct ok_case *c, code, accepted)
{
	code_t out;
	char why[128] = "";
	int rc = code_normalize(c->raw, c->len, &out, why, sizeof why);

	cr_assert_eq(rc, 0, "%s: rc %d (%s)", c->rule, rc, why);
	cr_assert_eq(out.kind, c->kind, "%s: kind %d", c->rule, out.kind);
	if (c->canon[0] != '\0') {
		cr_assert_str_eq(out.canon, c->canon, "%s", c->rule);
		cr_assert_eq(out.canon_len, strlen(c->canon), "%s", c->rule);
	}
	if (c->kind == CODE_DIGITS20) {
		cr_assert_eq(out.product_len, 7, "%s", c->rule);
		cr_assert_eq(strncmp(out.product, out.canon, 7), 0, "%s", c->rule);
		cr_assert_not(out.has_expiry, "%s", c->rule);
	} else {
		cr_assert_eq(out.product_len, 14, "%s", c->rule);
		cr_assert_eq(strncmp(out.product, out.canon + 2, 14), 0,
			     "%s", c->rule);
	}
	cr_assert_eq(out.product[out.product_len], '\0', "%s", c->rule);
	cr_assert_eq(out.has_expiry, c->y != 0, "%s", c->rule);
	if (c->y != 0) {
		cr_assert_eq(out.exp_year, c->y, "%s", c->rule);
		cr_assert_eq(out.exp_month, c->m, "%s", c->rule);
		cr_assert_eq(out.exp_day, c->d, "%s", c->rule);
	}
	cr_assert_str_eq(out.batch, c->batch, "%s", c->rule);
	cr_assert_eq(out.batch_len, strlen(c->batch), "%s", c->rule);
}

ParameterizedTestParameters(code, rejected)
{
	static struct bad_case cases[] = {
	/* cleaning */
	BAD("s1 MALFORMED: empty input", "", "empty", ""),
	BAD("s1 MALFORMED: only whitespace", " \t\r\n", "empty", ""),
	BAD("s1 MALFORMED: only an AIM identifier", "]d2", "empty", ""),
	BAD("s1 cleaning: AIM only as the first three raw bytes (space first)",
	    " ]d2" D20, "']'", "character 1"),
	BAD("s1 cleaning: AIM not recognized later", "8454]d22614858438476907",
	    "']'", "character 5"),
	BAD("s1 cleaning: AIM needs a letter", "]22" D20, "']'", "character 1"),
	BAD("s1 cleaning: AIM needs a digit", "]dd" D20, "']'", "character 1"),
	BAD("s1 cleaning: full-width AIM is not an AIM",
	    "］ｄ２" D20, "']'", "character 1"),
	BAD("s1 cleaning: interior TAB is a control byte",
	    "84542\t614858438476907", "control byte 0x09", "character 6"),
	BAD("s1 cleaning: interior LF is a control byte",
	    "8454 2614\n8584 3847 6907", "control byte 0x0A", "character 10"),
	BAD("s1 cleaning: interior CR is a control byte",
	    "01" GTIN "\r21ABC", "control byte 0x0D", "character 17"),
	BAD("s1 cleaning: DEL is a control byte", D20 "\x7f",
	    "control byte 0x7F", "character 21"),
	BAD("s1 cleaning: ESC in GS1 data", "01" GTIN "21AB\x1b" "C",
	    "control byte 0x1B", "character 21"),
	BAD("s1 cleaning: NUL inside", "8454261485\0" "8438476907",
	    "control byte 0x00", "character 11"),
	BAD("s1 cleaning: NUL at the end is not whitespace", D20 "\0",
	    "control byte 0x00", "character 21"),
	BAD("s1 cleaning: NUL at the start", "\0" D20,
	    "control byte 0x00", "character 1"),
	BAD("s1 cleaning: control byte position counts full-width as one",
	    "８４５\x01", "control byte 0x01", "character 4"),
	BAD("s1 MALFORMED: non-ASCII byte (e-acute)", D20 "\xc3\xa9",
	    "0xC3", "character 21"),
	BAD("s1 cleaning: ideographic space U+3000 is not stripped",
	    D20 "\xe3\x80\x80", "0xE3", "character 21"),
	BAD("s1 cleaning: U+FF00 is outside the full-width range",
	    D20 "\xef\xbc\x80", "0xEF", "character 21"),
	BAD("s1 cleaning: U+FF5F is outside the full-width range",
	    D20 "\xef\xbd\x9f", "0xEF", "character 21"),
	BAD("s1 cleaning: full-width tilde maps to '~', not in set 82",
	    "(01)" GTIN "(21)A～", "'~'", "set 82"),
	BAD("s1 cleaning: truncated UTF-8 at the end", D20 "\xef\xbc",
	    "0xEF", "character 21"),
	/* 20-digit */
	BAD("s1 20-digit: 21 digits", "845426148508438476907",
	    "20-digit", "21 digits, expected 20"),
	BAD("s1 20-digit: 19 digits", "8455894090393550725",
	    "20-digit", "19 digits"),
	BAD("s1 20-digit: 19 digits with spaces", "8455 8940 9039 3550 725",
	    "20-digit", "19 digits"),
	BAD("s1 20-digit: a letter", "885X8940438920348980",
	    "20-digit", "'X' at character 4"),
	BAD("s1 20-digit: only U+0020 is removed inside (no TAB)",
	    "8454\t2614858438476907", "control byte 0x09", "character 5"),
	BAD("s1 20-digit: a full-width space is not a space",
	    "8454\xe3\x80\x80" "2614858438476907", "20-digit", "0xE3"),
	/* GS handling */
	BAD("s1 GS1: doubled GS between fields",
	    "01" GTIN "10AB\x1d\x1d" "21X", "doubled GS", "character 22"),
	BAD("s1 GS1: doubled GS after a predefined-length field",
	    "01" GTIN "\x1d\x1d" "21X", "doubled GS", "character 18"),
	BAD("s1 GS1: doubled leading GS", "\x1d\x1d" "01" GTIN "21X",
	    "doubled GS", "character 2"),
	BAD("s1 GS1: doubled trailing GS", "01" GTIN "21X\x1d\x1d",
	    "doubled GS", "character 21"),
	BAD("s1 GS1: GS alone", "\x1d", "missing AI 01", ""),
	BAD("s1 GS1: GS inside a predefined-length field",
	    "01069241\x1d" "74940464" "21X", "AI 01", "0x1D at character 9"),
	BAD("s1 GS1: GS is not part of the printed form",
	    "(01)" GTIN "(21)AB\x1d", "AI 21", "0x1D"),
	BAD("s1 GS1: no leading GS before the printed form",
	    "\x1d(01)" GTIN "(21)AB", "AI digit", "character 2"),
	/* AI 01 */
	BAD("s1 GS1: AI 01 bad check digit (printed)", "(01)" GTIN_BAD "(21)X",
	    "check digit 5 should be 4", "character 18"),
	BAD("s1 GS1: AI 01 bad check digit (raw)",
	    "01069318356824601730011910BZJRXLDJ\x1d" "214WJGSGTV02",
	    "check digit 0 should be 5", "character 16"),
	BAD("s1 GS1: AI 01 of 13 digits",
	    "(01)0694669529932(17)290919(21)51F2MX52AM58",
	    "AI 01 too short", "character 5"),
	BAD("s1 GS1: AI 01 of 15 digits", "(01)" GTIN "1(21)X",
	    "AI 01 too long", ""),
	BAD("s1 GS1: AI 01 with a letter", "(01)0692417494046A(21)X",
	    "AI 01", "'A' at character 18 is not a digit"),
	BAD("s1 GS1: raw string cut inside AI 01", "0106924174",
	    "AI 01 too short", "8 characters"),
	/* unknown and repeated AIs */
	BAD("s1 GS1: unassigned AI 19 (raw)",
	    "0106964189708963190635401729082410BB4472QK\x1d" "21VRZ7VN9F0U",
	    "unknown AI 19", "character 17"),
	BAD("s1 GS1: unassigned AI 19 (printed)",
	    "(01)" GTIN "(19)330207(21)X", "unknown AI 19", "character 20"),
	BAD("s1 GS1: unassigned AI 3106", "(01)" GTIN "(3106)123456(21)X",
	    "unknown AI 3106", ""),
	BAD("s1 GS1: unassigned 4-digit AI 3106 (raw)",
	    "01" GTIN "3106123456" "21X", "unknown AI 3106", "character 17"),
	BAD("s1 GS1: AI with too many digits (011)", "(011)" GTIN "(21)X",
	    "unknown AI 011", ""),
	BAD("s1 GS1: AI 3100 written as 310", "(01)" GTIN "(310)123456(21)X",
	    "unknown AI 310", ""),
	BAD("s1 GS1: AI 17 repeated",
	    "(01)" GTIN "(17)270600(17)270600(21)X", "AI 17 repeated",
	    "character 30"),
	BAD("s1 GS1: AI 17 repeated (raw)",
	    "01" GTIN "17270600" "17270600" "21X", "AI 17 repeated",
	    "character 25"),
	BAD("s1 GS1: AI 21 repeated",
	    "01" GTIN "21A\x1d" "21B", "AI 21 repeated", "character 21"),
	BAD("s1 GS1: AI 01 repeated", "(01)" GTIN "(21)X(01)" GTIN,
	    "AI 01 repeated", ""),
	BAD("s1 GS1: skipped AI 11 repeated",
	    "(01)" GTIN "(11)250101(11)250101(21)X", "AI 11 repeated", ""),
	/* impossible dates */
	BAD("s1 GS1: AI 17 date 270230 does not exist",
	    "01" GTIN "17270230" "21X", "AI 17 date 270230 does not exist",
	    "character 19"),
	BAD("s1 GS1: AI 17 29 February outside a leap year",
	    "(01)" GTIN "(17)270229(21)X", "date 270229", ""),
	BAD("s1 GS1: AI 17 month 13", "(01)" GTIN "(17)271300(21)X",
	    "date 271300", ""),
	BAD("s1 GS1: AI 17 month 00", "(01)" GTIN "(17)270001(21)X",
	    "date 270001", ""),
	BAD("s1 GS1: AI 17 day 31 of April", "(01)" GTIN "(17)270431(21)X",
	    "date 270431", ""),
	BAD("s1 GS1: AI 17 day 32", "(01)" GTIN "(17)270132(21)X",
	    "date 270132", ""),
	/* skipped AIs: length and character set */
	BAD("s1 GS1: AI 11 of 5 digits (raw, end)", "01" GTIN "21X\x1d" "1125053",
	    "AI 11 too short", "5 characters, expected 6"),
	BAD("s1 GS1: AI 11 with a letter", "(01)" GTIN "(11)2505A1(21)X",
	    "AI 11", "not a digit"),
	BAD("s1 GS1: AI 13 of 7 digits", "(01)" GTIN "(13)2505011(21)X",
	    "AI 13 too long", "at most 6"),
	BAD("s1 GS1: AI 15 of 4 digits", "(01)" GTIN "(15)2701(21)X",
	    "AI 15 too short", ""),
	BAD("s1 GS1: AI 16 with a letter", "(01)" GTIN "(16)27O131(21)X",
	    "AI 16", "'O' at character 25 is not a digit"),
	BAD("s1 GS1: AI 30 of 9 digits", "(01)" GTIN "(30)123456789(21)X",
	    "AI 30 too long", "at most 8"),
	BAD("s1 GS1: AI 30 with a letter", "01" GTIN "3012A\x1d" "21X",
	    "AI 30", "not a digit"),
	BAD("s1 GS1: AI 30 empty", "(01)" GTIN "(30)(21)X", "AI 30 is empty", ""),
	BAD("s1 GS1: AI 240 of 31 characters",
	    "(01)" GTIN "(240)ABCDEFGHIJKLMNOPQRSTUVWXYZ01234(21)X",
	    "AI 240 too long", "at most 30"),
	BAD("s1 GS1: AI 240 with '#' (not set 82)", "(01)" GTIN "(240)A#B(21)X",
	    "AI 240", "'#'"),
	BAD("s1 GS1: AI 241 with '@' (not set 82)", "01" GTIN "241A@\x1d" "21X",
	    "AI 241", "set 82"),
	BAD("s1 GS1: AI 422 of 2 digits", "(01)" GTIN "(422)15(21)X",
	    "AI 422 too short", ""),
	BAD("s1 GS1: AI 422 without GS (not a predefined length)",
	    "01" GTIN "422156" "21X", "AI 422 too long", ""),
	BAD("s1 GS1: AI 422 with a letter", "(01)" GTIN "(422)15A(21)X",
	    "AI 422", "not a digit"),
	BAD("s1 GS1: AI 3103 of 5 digits", "(01)" GTIN "(3103)12345(21)X",
	    "AI 3103 too short", ""),
	BAD("s1 GS1: skipped AI 8008 cut inside an optional part",
	    "(01)" GTIN "(8008)270228123(21)X", "AI 8008",
	    "9 characters is not a valid length"),
	BAD("s1 GS1: skipped AI 8030 (base64url) with '!'",
	    "(01)" GTIN "(21)X(8030)AB!C", "AI 8030", "base64url"),
	/* serial and batch */
	BAD("s1 GS1: AI 21 of 21 characters",
	    "01" GTIN "21123456789012345678901",
	    "AI 21 too long: 21 characters, at most 20", ""),
	BAD("s1 GS1: AI 21 of 21 characters (printed)",
	    "(01)06984350336559(11)250531(17)280907(10)BUZW96XO"
	    "(21)6UARPIIYXXXXXXXXXXXXX", "AI 21 too long", "character 55"),
	BAD("s1 GS1: AI 21 empty (printed)", "(01)" GTIN "(21)(17)270600",
	    "AI 21 is empty", ""),
	BAD("s1 GS1: AI 21 empty (raw, at the end)", "01" GTIN "21",
	    "AI 21 is empty", ""),
	BAD("s1 GS1: AI 21 with a space (raw)", "01" GTIN "21AB CD",
	    "AI 21", "space at character 21"),
	BAD("s1 GS1: AI 21 with '~'", "(01)" GTIN "(21)A~B", "AI 21", "set 82"),
	BAD("s1 GS1: AI 10 of 21 characters",
	    "(01)" GTIN "(10)ABCDEFGHIJKLMNOPQRSTU(21)X", "AI 10 too long", ""),
	BAD("s1 GS1: AI 10 without GS swallows AI 21",
	    "01069466952993261727112810BDRYM3WB21X", "missing AI 21", ""),
	/* required AIs */
	BAD("s1 GS1: missing AI 01", "(21)ABC(17)270600", "missing AI 01", ""),
	BAD("s1 GS1: missing AI 21", "(01)" GTIN "(17)270600",
	    "missing AI 21", ""),
	BAD("s1 GS1: missing AI 21 (raw)", "01" GTIN "17270600",
	    "missing AI 21", ""),
	/* printed form */
	BAD("s1 GS1: space in the printed form", "(01)" GTIN " (21)X",
	    "space in printed form", "character 19"),
	BAD("s1 GS1: space inside a printed value", "(01)" GTIN "(21)A B",
	    "space in printed form", "character 24"),
	BAD("s1 GS1: space inside the printed AI", "(01)" GTIN "( 21)X",
	    "space in printed form", ""),
	BAD("s1 GS1: unclosed AI", "(01" GTIN, "')'", "character 1"),
	BAD("s1 GS1: empty AI", "()" GTIN, "')'", "character 1"),
	BAD("s1 GS1: one-digit AI", "(1)" GTIN, "')'", "character 1"),
	BAD("s1 GS1: five-digit AI", "(01)" GTIN "(12345)6", "')'",
	    "character 19"),
	/* raw form structure */
	BAD("s1 GS1: raw string ends inside an AI", "01" GTIN "21A\x1d" "3",
	    "ends inside an AI", ""),
	BAD("s1 GS1: raw string with a letter where an AI starts",
	    "01" GTIN "AB", "AI digit", "character 17"),
	BAD("s1 GS1: raw string, digits only, bad check digit",
	    "01" GTIN_BAD "2112345", "check digit", ""),
	/* limits */
	BAD("s1 GS1: skipped AI 91 longer than its 90 characters",
	    "01" GTIN "21X\x1d" "91"
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789012345678901234567890123456789",
	    "AI 91 too long", ""),
	};
	return cr_make_param_array(struct bad_case, cases,
				   sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *c, code, rejected)
{
	code_t out;
	char why[160] = "x";
	int rc = code_normalize(c->raw, c->len, &out, why, sizeof why);

	cr_assert_eq(rc, YIMA_EMALFORMED, "%s: rc %d, canon %s", c->rule, rc,
		     rc == 0 ? out.canon : "-");
	cr_assert_neq(why[0], '\0', "%s: empty reason", c->rule);
	cr_assert_null(strchr(why, '\n'), "%s: reason is one line", c->rule);
	for (int i = 0; i < 2; i++) {
		cr_assert_not_null(strstr(why, c->want[i]),
				   "%s: reason \"%s\" lacks \"%s\"", c->rule,
				   why, c->want[i]);
	}
}

/* s1 GS1: both forms (and the scanned variants) give one canonical code. */
Test(code, forms_agree)
{
	static const char *forms[] = {
		"(01)16953321319089(17)270918(10)B3NBDWC3(21)BQV3E9TL",
		"01169533213190891727091810B3NBDWC3\x1d" "21BQV3E9TL",
		"\x1d" "01169533213190891727091810B3NBDWC3\x1d" "21BQV3E9TL\r",
		"]e001169533213190891727091810B3NBDWC3\x1d" "21BQV3E9TL",
		"011695332131908921BQV3E9TL\x1d" "1727091810B3NBDWC3",
		"（０１）１６９５３３２１３１９０８９（１７）２７０９１８"
		"（１０）Ｂ３ＮＢＤＷＣ３（２１）ＢＱＶ３Ｅ９ＴＬ",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		code_t out;
		char why[128];
		int rc = code_normalize(forms[i], strlen(forms[i]), &out, why,
					sizeof why);

		cr_assert_eq(rc, 0, "form %zu: %s", i, why);
		cr_assert_str_eq(out.canon, "011695332131908921BQV3E9TL");
		cr_assert_str_eq(out.product, "16953321319089");
		cr_assert_str_eq(out.batch, "B3NBDWC3");
		cr_assert(out.has_expiry && out.exp_year == 2027 &&
			  out.exp_month == 9 && out.exp_day == 18);
	}
}

/* A canonical code normalizes to itself. */
Test(code, canonical_is_fixed_point)
{
	static const char *raws[] = {
		"]d2８４５４２６１４８５８４３８４７６９０７",
		"(01)06990084766555(21)TTE799TE5J(17)271108(10)BP9M5AU9",
		"01" GTIN "21!\"%&'()*+,-./:;<=>?_",
	};
	for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++) {
		code_t a, b;
		char why[128];

		cr_assert_eq(code_normalize(raws[i], strlen(raws[i]), &a, why,
					    sizeof why), 0, "%s", why);
		cr_assert_eq(code_normalize(a.canon, a.canon_len, &b, why,
					    sizeof why), 0, "%s", why);
		cr_assert_str_eq(a.canon, b.canon);
		cr_assert_str_eq(a.product, b.product);
	}
}

/* spec s1 MALFORMED reasons are bounded by the caller's buffer. */
Test(code, reason_buffer_bounded)
{
	code_t out;
	char why[8];

	memset(why, 'z', sizeof why);
	cr_assert_eq(code_normalize("(01)" GTIN_BAD "(21)X", 23, &out, why,
				    sizeof why), YIMA_EMALFORMED);
	cr_assert_eq(why[sizeof why - 1], '\0');
	cr_assert_eq(strncmp(why, "GS1: AI", 7), 0);
	cr_assert_eq(code_normalize("x", 1, &out, NULL, 0), YIMA_EMALFORMED);
	cr_assert_eq(code_normalize("x", 1, &out, why, 0), YIMA_EMALFORMED);
	cr_assert_eq(why[0], 'G');	/* untouched */
}

/* An input longer than any symbol holds is refused, not overrun. */
Test(code, very_long_input)
{
	static char big[20000];
	code_t out;
	char why[128];

	memset(big, '7', sizeof big);
	cr_assert_eq(code_normalize(big, sizeof big, &out, why, sizeof why),
		     YIMA_EMALFORMED);
	cr_assert_not_null(strstr(why, "longer than"), "%s", why);
	/* Whitespace around a code does not count against the limit. */
	memset(big, ' ', sizeof big);
	memcpy(big + 9000, D20, 20);
	cr_assert_eq(code_normalize(big, sizeof big, &out, why, sizeof why), 0,
		     "%s", why);
	cr_assert_str_eq(out.canon, D20);
}

struct pid_case {
	char rule[64];
	char s[24];
	size_t n;
	bool want;
};

#define PID(r, str, w) { .rule = r, .s = str, .n = sizeof(str) - 1, .want = w }

ParameterizedTestParameters(code, product_id)
{
	static struct pid_case cases[] = {
	PID("s5 recall: 7 digits is a product id", "8454261", true),
	PID("s5 recall: 14 digits is a product id", GTIN, true),
	PID("s5 recall: 6 digits is not", "845426", false),
	PID("s5 recall: 8 digits is not", "84542614", false),
	PID("s5 recall: 13 digits is not", "0692417494046", false),
	PID("s5 recall: 20 digits is a code", D20, false),
	PID("s5 recall: a letter is not", "845426X", false),
	PID("s5 recall: full-width digits are not", "８４５", false),
	PID("s5 recall: empty is not", "", false),
	};
	return cr_make_param_array(struct pid_case, cases,
				   sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct pid_case *c, code, product_id)
{
	cr_assert_eq(code_is_product_id(c->s, c->n), c->want, "%s", c->rule);
}

Test(code, product_id_null)
{
	cr_assert_not(code_is_product_id(NULL, 7));
}
