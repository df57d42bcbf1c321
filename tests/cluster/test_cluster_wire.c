/*
 * test_cluster_wire.c - what must never change between releases of a
 * cluster (docs/cluster.md): where a code, a batch's broken rows and a
 * claim's home live (the values below were computed with Python's hashlib
 * from the documented formula, not with this code), and inputs that cross
 * the streams unchanged: an envelope's input decodes to the input it was
 * made from, its patient only as the keyed hash.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cluster_int.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

Test(cluster_partition, the_documented_formula)
{
	cr_assert_eq(cluster_partition_of_code("81000010000000000000", 20, 16), 4);
	cr_assert_eq(cluster_partition_of_code("0106923112867887210M043SN9ATL", 29, 1000), 549);
	cr_assert_eq(cluster_partition_of_batch("H0001", "b-1", 7), 5);
	cr_assert_eq(cluster_partition_of_claim("P0001", "ST-9", 5), 3);
	cr_assert_eq(cluster_partition_of_code("81000010000000000000", 20, 1), 0);
}

Test(cluster_envelope, an_input_crosses_unchanged)
{
	yima_slice_t f[EVENT_NCOLUMNS] = {
		yima_slice_cstr("2026-03-01T10:00:00.5Z"), yima_slice_cstr("P0001"), yima_slice_cstr("dispense"),
		yima_slice_cstr("]d2(01)06923112867887(17)270101(10)B1(21)X9"), yima_slice_cstr("DRUGA"),
		yima_slice_cstr("3"), yima_slice_cstr("ST-1"), yima_slice_cstr(""), yima_slice_cstr(""),
	};
	verify_input_t in, out;
	Yima__Cluster__V1__Input m, *back;
	Yima__Cluster__V1__Time t;
	uint8_t buf[1024];

	verify_input_from_fields(f, &in);
	cr_assert_eq(in.status, 0, "%s", in.reason);
	in.has_patient_mac = true;
	memset(in.patient_mac, 0xab, sizeof in.patient_mac);
	envelope_input(&in, 7, &m, &t);
	size_t n = yima__cluster__v1__input__pack(&m, buf);
	cr_assert((back = yima__cluster__v1__input__unpack(NULL, n, buf)) != NULL);
	cr_assert_eq(back->index, 7);
	envelope_input_decode(back, &out);
	cr_assert_eq(out.status, 0);
	cr_assert_str_eq(out.code.canon, in.code.canon);
	cr_assert_str_eq(out.code.batch, "B1");
	cr_assert(out.code.has_expiry && out.code.exp_year == 2027);
	cr_assert_eq(out.ev.time.sec, in.ev.time.sec);
	cr_assert_eq(out.ev.time.nsec, 500000000u);
	cr_assert(out.ev.time.zulu);
	cr_assert_eq(out.ev.type, EV_DISPENSE);
	cr_assert(out.ev.has_qty && out.ev.qty == 3);
	cr_assert(yima_slice_eq_cstr(out.ev.settlement, "ST-1"));
	cr_assert(out.has_patient_mac && memcmp(out.patient_mac, in.patient_mac, 32) == 0);
	cr_assert_eq(out.ev.patient.n, 0, "a patient id never travels");
	yima__cluster__v1__input__free_unpacked(back, NULL);
}

Test(cluster_envelope, a_broken_row_travels_as_its_masked_evidence)
{
	verify_input_t in, out;
	Yima__Cluster__V1__Input m;
	Yima__Cluster__V1__Time t;

	memset(&in, 0, sizeof in);
	in.status = YIMA_EBADRECORD;
	snprintf(in.reason, sizeof in.reason, "row has 3 fields, expected 9");
	in.raw = yima_slice_cstr("2026-01-01,P0001,hmac:00ff");
	in.raw_masked = true;
	envelope_input(&in, 0, &m, &t);
	envelope_input_decode(&m, &out);
	cr_assert_eq(out.status, YIMA_EBADRECORD);
	cr_assert(out.raw_masked);
	cr_assert(yima_slice_eq(out.raw, in.raw));
	cr_assert_str_eq(out.reason, in.reason);
}

/* What no node publishes (a type, a quantity, a time no parser gives) is
 * a broken row in every view alike, not an event applied as it comes. */
Test(cluster_envelope, an_input_out_of_range_is_a_broken_row)
{
	Yima__Cluster__V1__Input m = YIMA__CLUSTER__V1__INPUT__INIT;
	Yima__Cluster__V1__Time t = YIMA__CLUSTER__V1__TIME__INIT;
	verify_input_t out;
	static const struct { uint32_t type; uint64_t qty; uint32_t nsec; int32_t off; int ok; } cases[] = {
		{ EV_DISPENSE, 3, 0, 480, 1 },
		{ EV_DESTROY, EVENT_UNITS_MAX, 999999999u, -1439, 1 },
		{ EV_DESTROY + 1, 3, 0, 480, 0 },
		{ 200, 3, 0, 480, 0 },
		{ EV_DISPENSE, (uint64_t)EVENT_UNITS_MAX + 1, 0, 480, 0 },
		{ EV_DISPENSE, UINT64_MAX, 0, 480, 0 },
		{ EV_DISPENSE, 3, 1000000000u, 480, 0 },
		{ EV_DISPENSE, 3, 0, 1440, 0 },
		{ EV_DISPENSE, 3, 0, -1440, 0 },
	};

	m.time = &t;
	m.facility.data = (uint8_t *)"P0001";
	m.facility.len = 5;
	m.code.data = (uint8_t *)"84732108458920025037";
	m.code.len = 20;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		m.type = cases[i].type;
		m.has_qty = true;
		m.qty = cases[i].qty;
		t.sec = 1772416800;
		t.nsec = cases[i].nsec;
		t.offset_min = cases[i].off;
		envelope_input_decode(&m, &out);
		if (cases[i].ok)
			cr_assert_eq(out.status, 0, "case %zu: status %d", i, out.status);
		else
			cr_assert_eq(out.status, YIMA_EBADRECORD, "case %zu: status %d", i, out.status);
	}
}

Test(cluster_keyset, counted)
{
	keyset_t s;

	keyset_init(&s);
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof k, "code%d", i);
		cr_assert_eq(keyset_add(&s, k, strlen(k)), 0);
	}
	cr_assert_eq(keyset_add(&s, "code5", 5), 0);
	keyset_remove(&s, "code5", 5);
	cr_assert(keyset_has(&s, "code5", 5), "held twice, released once");
	keyset_remove(&s, "code5", 5);
	cr_assert(!keyset_has(&s, "code5", 5));
	cr_assert(keyset_has(&s, "code999", 7));
	cr_assert(!keyset_has(&s, "code1000", 8));
	keyset_clear(&s);
}
