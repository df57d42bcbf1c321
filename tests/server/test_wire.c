/*
 * test_wire.c - yimad's protobuf mapping (server/wire.c) against the CSV
 * path: a claim's code and an Event decode into exactly the verify input
 * that `yima ingest` makes of a row with the same fields (spec section 6:
 * "Each event gets its verdict as in yima ingest"), broken fields
 * included, with the same reason and the same precedence between them,
 * without the text round trip the server used to make.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"
#include "yima/util/error.h"

#define T0 "2026-03-01T10:00:00+08:00"

/* The input `yima ingest` makes of nine fields. */
static void from_row(const char *const v[EVENT_NCOLUMNS], yima_slice_t f[EVENT_NCOLUMNS],
		     verify_input_t *in)
{
	csv_row_t row;

	for (int k = 0; k < EVENT_NCOLUMNS; k++)
		f[k] = yima_slice_cstr(v[k]);
	memset(&row, 0, sizeof row);
	row.number = row.line = 2;
	row.nfields = EVENT_NCOLUMNS;
	row.field = f;
	row.limit = CSV_ROW_MAX_DEFAULT;
	verify_input_from_row(&row, in);
}

static void assert_same(const verify_input_t *a, const verify_input_t *b, const char *what)
{
	cr_assert_eq(a->status, b->status, "%s: status %d vs %d (%s | %s)", what, a->status,
		     b->status, a->reason, b->reason);
	cr_assert_str_eq(a->reason, b->reason, "%s", what);
	yima_slice_t ca = verify_input_code(a), cb = verify_input_code(b);
	cr_assert(yima_slice_eq(ca, cb), "%s: code %.*s vs %.*s", what, (int)ca.n, ca.p,
		  (int)cb.n, cb.p);
	if (a->status == YIMA_EBADRECORD)
		return;
	cr_assert_eq(a->ev.type, b->ev.type, "%s", what);
	cr_assert_eq(yima_time_cmp(&a->ev.time, &b->ev.time), 0, "%s", what);
	cr_assert_eq(a->ev.time.offset_min, b->ev.time.offset_min, "%s", what);
	cr_assert(yima_slice_eq(a->ev.facility, b->ev.facility), "%s", what);
	cr_assert(yima_slice_eq(a->ev.drug, b->ev.drug), "%s", what);
	cr_assert(yima_slice_eq(a->ev.settlement, b->ev.settlement), "%s", what);
	cr_assert(yima_slice_eq(a->ev.patient, b->ev.patient), "%s", what);
	cr_assert_eq(a->ev.has_qty, b->ev.has_qty, "%s", what);
	cr_assert_eq(a->ev.qty, b->ev.qty, "%s", what);
}

struct claim_case {
	const char *name, *time, *facility, *settlement, *patient, *drug, *code;
	uint64_t units;
};

static char long_field[300];

static void check_claim(const struct claim_case *k)
{
	Yima__V1__ClaimCode cc = YIMA__V1__CLAIM_CODE__INIT, *ccp = &cc;
	Yima__V1__ClaimItem it = YIMA__V1__CLAIM_ITEM__INIT, *itp = &it;
	Yima__V1__Claim c = YIMA__V1__CLAIM__INIT;
	wire_arena_t a = { NULL };
	verify_input_t *got, want;
	yima_slice_t f[EVENT_NCOLUMNS];
	char units[24] = "";

	cc.code = (char *)k->code;
	cc.units = k->units;
	it.drug = (char *)k->drug;
	it.n_codes = 1;
	it.codes = &ccp;
	c.time = (char *)k->time;
	c.facility = (char *)k->facility;
	c.settlement = (char *)k->settlement;
	c.patient = (char *)k->patient;
	c.n_items = 1;
	c.items = &itp;
	cr_assert_eq(wire_decode_claim(&c, &a, &got), 0);
	if (k->units > 0)
		snprintf(units, sizeof units, "%llu", (unsigned long long)k->units);
	const char *v[EVENT_NCOLUMNS] = { k->time, k->facility, "dispense", k->code, k->drug,
					  units, k->settlement, k->patient, "" };
	from_row(v, f, &want);
	assert_same(got, &want, k->name);
	if (got->status == YIMA_EBADRECORD)
		cr_assert(got->raw.n > 0, "%s: a broken code keeps its row as evidence", k->name);
	wire_arena_free(&a);
}

Test(wire, claim_codes_decode_as_ingest_rows)
{
	memset(long_field, 'D', sizeof long_field - 1);
	const struct claim_case cases[] = {
		{ "good, whole pack", T0, "H1", "S1", "PT1", "DRUGA", "81000010000000010001", 0 },
		{ "good, 6 units", T0, "H1", "S1", "PT1", "DRUGA", "]Q181000010000000010001", 6 },
		{ "no patient", T0, "H1", "S1", "", "DRUGA", "81000010000000010001", 0 },
		{ "malformed code", T0, "H1", "S1", "PT1", "DRUGA", "8100001000", 0 },
		{ "empty code", T0, "H1", "S1", "PT1", "DRUGA", "", 0 },
		{ "bad time", "2026-02-30T10:00:00+08:00", "H1", "S1", "PT1", "DRUGA",
		  "81000010000000010001", 0 },
		{ "no drug", T0, "H1", "S1", "PT1", "", "81000010000000010001", 0 },
		{ "long drug", T0, "H1", "S1", "PT1", long_field, "81000010000000010001", 0 },
		{ "no settlement", T0, "H1", "", "PT1", "DRUGA", "81000010000000010001", 0 },
		{ "long settlement", T0, "H1", long_field, "PT1", "DRUGA", "81000010000000010001", 0 },
		{ "units at the bound", T0, "H1", "S1", "PT1", "DRUGA", "81000010000000010001",
		  EVENT_UNITS_MAX },
		{ "units past the bound", T0, "H1", "S1", "PT1", "DRUGA", "81000010000000010001",
		  EVENT_UNITS_MAX + 1ull },
		{ "units that would wrap", T0, "H1", "S1", "PT1", "DRUGA", "81000010000000010001",
		  UINT64_MAX },
		/* several broken fields: the first in column order wins */
		{ "bad time and drug", "yesterday", "H1", "", "PT1", "", "x", 0 },
		{ "no drug, no settlement", T0, "H1", "", "PT1", "", "81000010000000010001", 0 },
		{ "bad facility", T0, "h1", "S1", "PT1", "DRUGA", "81000010000000010001", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_claim(&cases[i]);
}

Test(wire, claim_fields_checked_once_for_every_code)
{
	Yima__V1__ClaimCode cc[3] = { YIMA__V1__CLAIM_CODE__INIT, YIMA__V1__CLAIM_CODE__INIT,
				      YIMA__V1__CLAIM_CODE__INIT };
	Yima__V1__ClaimCode *ccp[3] = { &cc[0], &cc[1], &cc[2] };
	Yima__V1__ClaimItem it[2] = { YIMA__V1__CLAIM_ITEM__INIT, YIMA__V1__CLAIM_ITEM__INIT };
	Yima__V1__ClaimItem *itp[2] = { &it[0], &it[1] };
	Yima__V1__Claim c = YIMA__V1__CLAIM__INIT;
	wire_arena_t a = { NULL };
	verify_input_t *in;

	cc[0].code = "81000010000000010001";
	cc[1].code = "81000010000000020001";
	cc[2].code = "81000020000000010001";
	it[0].drug = "DRUGA";
	it[0].n_codes = 2;
	it[0].codes = ccp;
	it[1].drug = "DRUGB";
	it[1].n_codes = 1;
	it[1].codes = ccp + 2;
	c.time = "2026-13-01T10:00:00+08:00";
	c.facility = "H1";
	c.settlement = "S1";
	c.patient = "PT1";
	c.n_items = 2;
	c.items = itp;
	cr_assert_eq(wire_claim_ncodes(&c), 3);
	cr_assert_eq(wire_decode_claim(&c, &a, &in), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(in[i].status, YIMA_EBADRECORD);
		cr_assert(strstr(in[i].reason, "column time") != NULL, "%s", in[i].reason);
	}
	cr_assert(yima_slice_eq_cstr(verify_input_code(&in[2]), "81000020000000010001"));
	wire_arena_free(&a);
}

Test(wire, events_decode_as_ingest_rows)
{
	const char *rows[][EVENT_NCOLUMNS] = {
		{ T0, "H1", "receive", "81000010000000010001", "", "", "", "", "SUP1" },
		{ T0, "H1", "dispense", "81000010000000010001", "DRUGA", "6", "S1", "PT1", "" },
		{ T0, "H1", "dispense", "81000010000000010001", "DRUGA", "0", "S1", "PT1", "" },
		{ T0, "H1", "transfer_out", "81000010000000010001", "", "", "", "", "h2" },
		{ T0, "H1", "sell", "81000010000000010001", "", "", "", "", "" },
		{ "", "H1", "receive", "81000010000000010001", "", "", "", "", "" },
	};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		Yima__V1__Event e = YIMA__V1__EVENT__INIT, *ep = &e;
		Yima__V1__EventBatch b = YIMA__V1__EVENT_BATCH__INIT;
		wire_arena_t a = { NULL };
		verify_input_t *got, want;
		yima_slice_t f[EVENT_NCOLUMNS];
		char name[32];

		e.time = (char *)rows[r][0];
		e.facility = (char *)rows[r][1];
		e.type = (char *)rows[r][2];
		e.code = (char *)rows[r][3];
		e.drug = (char *)rows[r][4];
		e.qty = (char *)rows[r][5];
		e.settlement = (char *)rows[r][6];
		e.patient = (char *)rows[r][7];
		e.counterparty = (char *)rows[r][8];
		b.batch_id = "B1";
		b.n_events = 1;
		b.events = &ep;
		cr_assert_eq(wire_decode_batch(&b, &a, &got), 0);
		from_row(rows[r], f, &want);
		snprintf(name, sizeof name, "event row %zu", r);
		assert_same(got, &want, name);
		wire_arena_free(&a);
	}
}
