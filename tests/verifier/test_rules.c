/*
 * test_rules.c - every finding of spec section 4, triggered and
 * near-missed, through the real verifier and ledger (scenario.c).  Each
 * scenario names the table row it checks; expectations come from the
 * spec's text, one line per event row, and every scenario's ledger must
 * then pass the audit.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "scenario.h"

#define R(t, f, ty, c, d, q, s, p, cp) t "," f "," ty "," c "," d "," q "," s "," p "," cp "\n"
#define D(n) "2026-03-" #n "T10:00:00+08:00"
#define GS1(exp, batch, serial) "(01)" GTIN "(17)" exp "(10)" batch "(21)" serial

static scenario_t scenarios[] = {
	{ "REUSED: four dispenses of 6 from a 24-unit pack at one facility pass, a fifth is REUSED",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST1", "PT1", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST2", "PT2", "")
	  R(D(03), "H1", "dispense", C1, "DRUGA", "6", "ST3", "PT3", "")
	  R(D(04), "H1", "dispense", C1, "DRUGA", "6", "ST4", "PT4", "")
	  R(D(05), "H1", "dispense", C1, "DRUGA", "6", "ST5", "PT5", ""),
	  "accept\naccept\naccept\naccept\naccept\nreject REUSED" },

	{ "RETURNED_TO_MARKET: a dispensed pack at another facility, and receive/stocktake back at the dispenser",
	  NULL, 0,
	  R(D(01), "H1", "receive", CB, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", CB, "DRUGB", "", "ST1", "PT1", "")
	  R(D(03), "P2", "receive", CB, "", "", "", "", "S9")
	  R(D(03), "P2", "dispense", CB, "DRUGB", "", "ST9", "PT9", "")
	  R(D(04), "H1", "stocktake", CB, "", "", "", "", "")
	  R(D(04), "H1", "receive", CB, "", "", "", "", "S1")
	  R(D(05), "H1", "refund", CB, "", "", "ST1", "PT1", "")
	  R(D(06), "P2", "dispense", CB, "DRUGB", "", "ST10", "PT2", ""),
	  "accept\naccept\nreject RETURNED_TO_MARKET\nreject RETURNED_TO_MARKET\n"
	  "reject RETURNED_TO_MARKET\nreject RETURNED_TO_MARKET\naccept\nwarn NOT_RECEIVED" },

	{ "SPLIT_OVERDRAWN: more units than left, when some are left; an empty qty is the whole pack",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "20", "ST1", "", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST2", "", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "4", "ST3", "", "")
	  R(D(01), "H1", "receive", C2, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C2, "DRUGA", "1", "ST4", "", "")
	  R(D(02), "H1", "dispense", C2, "DRUGA", "", "ST5", "", ""),
	  "accept\naccept\nreject SPLIT_OVERDRAWN\naccept\naccept\naccept\nreject SPLIT_OVERDRAWN" },

	{ "SUBSTITUTED: claimed drug differs from the catalog's; a shared drug code is not substitution",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGB", "6", "ST1", "", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(01), "H1", "receive", CS, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", CS, "DRUGA", "6", "ST2", "", ""),
	  "accept\nreject SUBSTITUTED\naccept\naccept\naccept" },

	{ "UNKNOWN_PRODUCT: reject on dispense, warn otherwise",
	  NULL, 0,
	  R(D(01), "H1", "receive", CU, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", CU, "DRUGA", "1", "ST1", "", "")
	  R(D(03), "H1", "transfer_out", CU, "", "", "", "", "H2")
	  R(D(04), "H2", "transfer_in", CU, "", "", "", "", "H1")
	  R(D(05), "H2", "stocktake", CU, "", "", "", "", ""),
	  "warn UNKNOWN_PRODUCT\nreject UNKNOWN_PRODUCT\nwarn UNKNOWN_PRODUCT\n"
	  "warn UNKNOWN_PRODUCT\nwarn UNKNOWN_PRODUCT" },

	{ "EXPIRED: calendar date in the event's own offset after AI 17; day 00 is the month's last day",
	  NULL, 0,
	  R("2026-02-28T23:59:00+08:00", "H1", "receive", GS1("260228", "L1", "A1"), "", "", "", "", "S1")
	  R("2026-03-01T00:30:00+08:00", "H1", "dispense", GS1("260228", "L1", "A1"), "DRUGC", "1", "ST1", "", "")
	  R("2026-02-28T20:00:00-05:00", "H1", "dispense", GS1("260228", "L1", "A1"), "DRUGC", "1", "ST2", "", "")
	  R("2026-02-28T12:00:00+08:00", "H1", "receive", GS1("260200", "L1", "A2"), "", "", "", "", "S1")
	  R("2026-03-01T12:00:00+08:00", "H1", "dispense", GS1("260200", "L1", "A2"), "DRUGC", "1", "ST3", "", "")
	  R("2028-02-29T10:00:00+08:00", "H1", "receive", "(01)" GTIN "(17)280200(21)A4", "", "", "", "", "S1")
	  R("2028-03-01T10:00:00+08:00", "H1", "dispense", "(01)" GTIN "(17)280200(21)A4", "DRUGC", "1", "ST4", "", "")
	  R("2028-03-01T10:00:00+08:00", "H1", "stocktake", "(01)" GTIN "(17)280200(21)A4", "", "", "", "", ""),
	  "accept\nreject EXPIRED\naccept\naccept\nreject EXPIRED\naccept\nreject EXPIRED\naccept" },

	{ "RECALLED: code, product, product + batch; only on receive and dispense",
	  "8100002;" GTIN ":L9;" C2, 0,
	  R(D(01), "H1", "receive", CB, "", "", "", "", "S1")
	  R(D(01), "H1", "stocktake", CB, "", "", "", "", "")
	  R(D(01), "H1", "receive", GS1("301231", "L9", "B1"), "", "", "", "", "S1")
	  R(D(01), "H1", "receive", GS1("301231", "L8", "B2"), "", "", "", "", "S1")
	  R(D(01), "H1", "receive", C2, "", "", "", "", "S1")
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", CB, "DRUGB", "", "ST1", "", ""),
	  "reject RECALLED\naccept\nreject RECALLED\naccept\nreject RECALLED\naccept\nreject RECALLED" },

	{ "DUPLICATE_IN_CLAIM: same code twice in one settlement, still a duplicate after a refund",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(03), "H1", "refund", C1, "", "6", "ST1", "", "")
	  R(D(03), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(03), "H1", "dispense", C1, "DRUGA", "6", "ST2", "", "")
	  R(D(04), "H2", "dispense", C1, "DRUGA", "6", "ST1", "", ""),
	  "accept\naccept\nreject DUPLICATE_IN_CLAIM\naccept\nreject DUPLICATE_IN_CLAIM\naccept\n"
	  "reject RETURNED_TO_MARKET" },

	{ "REFUND_UNMATCHED: no dispense in the claim, another facility, or more than was left out",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "refund", C1, "", "6", "ST1", "", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "10", "ST1", "", "")
	  R(D(03), "H1", "refund", C1, "", "4", "ST1", "", "")
	  R(D(03), "H1", "refund", C1, "", "7", "ST1", "", "")
	  R(D(03), "H2", "refund", C1, "", "6", "ST1", "", "")
	  R(D(04), "H1", "refund", C1, "", "6", "ST1", "", "")
	  R(D(04), "H1", "refund", C1, "", "1", "ST1", "", "")
	  R(D(04), "H1", "refund", C1, "", "", "ST2", "", ""),
	  "accept\nreject REFUND_UNMATCHED\naccept\naccept\nreject REFUND_UNMATCHED\n"
	  "reject REFUND_UNMATCHED\naccept\nreject REFUND_UNMATCHED\nreject REFUND_UNMATCHED" },

	{ "REFUND_LATE: more than 10 days after the dispense instant; exactly 10 days is in time",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R("2026-03-12T10:00:00+08:00", "H1", "refund", C1, "", "2", "ST1", "", "")
	  R("2026-03-12T02:00:01Z", "H1", "refund", C1, "", "2", "ST1", "", "")
	  R(D(20), "H1", "refund", C1, "", "100", "ST1", "", ""),
	  "accept\naccept\naccept\nreject REFUND_LATE\nreject REFUND_UNMATCHED REFUND_LATE" },

	{ "REFUND_LATE: --refund-window-days 30 lets a 20-day refund through",
	  NULL, 30,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(01), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(21), "H1", "refund", C1, "", "6", "ST1", "", ""),
	  "accept\naccept\naccept" },

	{ "DESTROYED: any event on a destroyed code",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "destroy", C1, "", "", "", "", "")
	  R(D(03), "H1", "stocktake", C1, "", "", "", "", "")
	  R(D(03), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(03), "H1", "destroy", C1, "", "", "", "", "")
	  R(D(01), "H1", "receive", C2, "", "", "", "", "S1")
	  R(D(02), "H2", "destroy", C2, "", "", "", "", ""),
	  "accept\naccept\nreject DESTROYED\nreject DESTROYED\nreject DESTROYED\naccept\nwarn NOT_RECEIVED" },

	{ "NOT_RECEIVED: dispense, return, transfer_out, destroy by a facility that does not hold it",
	  NULL, 0,
	  R(D(01), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(01), "H1", "return", C2, "", "", "", "", "S1")
	  R(D(01), "H1", "transfer_out", CS, "", "", "", "", "H2")
	  R(D(02), "H2", "receive", CB, "", "", "", "", "S1")
	  R(D(02), "H2", "dispense", CB, "DRUGB", "", "ST2", "", "")
	  R(D(02), "H2", "dispense", C2, "DRUGB", "", "ST3", "", ""),
	  "warn NOT_RECEIVED\nwarn NOT_RECEIVED\nwarn NOT_RECEIVED\naccept\naccept\nreject SUBSTITUTED" },

	{ "ALREADY_HELD and transfers: completing transfer_in is clean, others warn; stocktake elsewhere warns",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H2", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "stocktake", C1, "", "", "", "", "")
	  R(D(03), "H1", "transfer_out", C1, "", "", "", "", "H3")
	  R(D(03), "H1", "stocktake", C1, "", "", "", "", "")
	  R(D(04), "H3", "transfer_in", C1, "", "", "", "", "H1")
	  R(D(05), "H4", "transfer_in", C1, "", "", "", "", "H3")
	  R(D(05), "H4", "transfer_in", C2, "", "", "", "", "H3")
	  R(D(06), "H4", "return", C1, "", "", "", "", "S1")
	  R(D(07), "H1", "receive", C1, "", "", "", "", "S1"),
	  "accept\nwarn ALREADY_HELD\nwarn ALREADY_HELD\nwarn ALREADY_HELD\naccept\naccept\naccept\n"
	  "warn ALREADY_HELD\naccept\naccept\naccept" },

	{ "RETURNED_TO_MARKET at the dispensing facility: receive, transfer_out, return; stocktake only at 0 units",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "6", "ST1", "", "")
	  R(D(02), "H1", "stocktake", C1, "", "", "", "", "")
	  R(D(03), "H1", "transfer_out", C1, "", "", "", "", "H2")
	  R(D(03), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(03), "H1", "return", C1, "", "", "", "", "S1")
	  R(D(04), "H1", "dispense", C1, "DRUGA", "6", "ST2", "", "")
	  R(D(04), "H1", "refund", C1, "", "6", "ST2", "", "")
	  R(D(05), "H2", "stocktake", C1, "", "", "", "", "")
	  R(D(05), "H2", "transfer_in", C1, "", "", "", "", "H1"),
	  "accept\naccept\naccept\nreject RETURNED_TO_MARKET\nreject RETURNED_TO_MARKET ALREADY_HELD\n"
	  "reject RETURNED_TO_MARKET\naccept\naccept\nreject RETURNED_TO_MARKET ALREADY_HELD\n"
	  "reject RETURNED_TO_MARKET ALREADY_HELD" },

	{ "MALFORMED and BAD_RECORD stop further checks; qty is ignored on other types",
	  NULL, 0,
	  R(D(01), "H1", "receive", "8100001000000001000", "", "", "", "", "S1")
	  R("2026-13-01T10:00:00+08:00", "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(01), "H1", "dispense", C1, "DRUGA", "6", "", "", "")
	  R(D(01), "H1", "dispense", C1, "", "6", "ST1", "", "")
	  R(D(01), "H1", "sell", C1, "DRUGA", "6", "ST1", "", "")
	  D(01) ",H1,receive," C1 ",,,,\n"
	  R(D(01), "H1", "receive", "", "", "", "", "", "S1")
	  R(D(01), "H1", "dispense", C1, "DRUGA", "0", "ST1", "", "")
	  R(D(01), "H1", "receive", C1, "", "abc", "", "", "S1")
	  R(D(01), "H1", "transfer_out", C1, "", "", "", "", "h2")
	  R(D(01), "h1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", "]d2\xef\xbc\x98\xef\xbc\x91\xef\xbc\x90\xef\xbc\x90\xef\xbc\x90"
	    "\xef\xbc\x90\xef\xbc\x91" "0000000010001\r", "DRUGA", "6", "ST1", "PT1", ""),
	  "reject MALFORMED\nreject BAD_RECORD\nreject BAD_RECORD\nreject BAD_RECORD\nreject BAD_RECORD\n"
	  "reject BAD_RECORD\nreject MALFORMED\nreject BAD_RECORD\naccept\nreject BAD_RECORD\n"
	  "reject BAD_RECORD\naccept" },

	{ "a rejected event changes no state; both GS1 forms are the same pack",
	  NULL, 0,
	  R(D(01), "H1", "receive", C1, "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", C1, "DRUGB", "24", "ST1", "", "")
	  R(D(02), "H1", "dispense", C1, "DRUGA", "24", "ST2", "", "")
	  R(D(03), "H2", "receive", C1, "", "", "", "", "S1")
	  R(D(01), "H1", "receive", GS1("301231", "L1", "Z9"), "", "", "", "", "S1")
	  R(D(02), "H1", "dispense", "\"\x1d" "01" GTIN "1730123110L1\x1d" "21Z9\"", "DRUGC", "10", "ST3", "", ""),
	  "accept\nreject SUBSTITUTED\naccept\nreject RETURNED_TO_MARKET\naccept\naccept" },
};

#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* Criterion may re-exec the test binary for each case, so a parameter
 * must not be a pointer: pass the index into the table. */
ParameterizedTestParameters(rules, scenario)
{
	static size_t idx[NSCENARIOS];
	for (size_t i = 0; i < NSCENARIOS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NSCENARIOS);
}

ParameterizedTest(size_t *i, rules, scenario)
{
	scenario_run(&scenarios[*i], 0);
}
