/*
 * envelope.c - inputs and operations as they travel in the partition
 * streams (proto/cluster.proto).
 *
 * An Input carries what the verifier needs of one event or claimed code
 * and nothing a record would not keep: the patient only as its keyed hash,
 * a broken row's bytes already masked (verify_inputs_seal()).  The view
 * normalizes the scanned code again (the same function, so the same
 * result), as the node that took the request did.
 *
 * A stream message is an Envelope whose ops are appended as already
 * packed bytes: a node packs each operation once, when it is submitted,
 * and the publisher only concatenates them (protobuf's repeated field 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

static ProtobufCBinaryData bin(yima_slice_t s)
{
	ProtobufCBinaryData b = { s.n, (uint8_t *)s.p };
	return b;
}

/* An empty field decodes with a NULL pointer: never handed on as one, so
 * no consumer does arithmetic on NULL (fuzz_envelope found one). */
static yima_slice_t sl(ProtobufCBinaryData b)
{
	return b.len ? yima_slice((const char *)b.data, b.len) : yima_slice("", 0);
}

void envelope_input(const verify_input_t *in, uint32_t index, Yima__Cluster__V1__Input *m,
		    Yima__Cluster__V1__Time *t)
{
	const event_t *ev = &in->ev;

	yima__cluster__v1__input__init(m);
	yima__cluster__v1__time__init(t);
	m->status = in->status;
	m->index = index;
	m->reason = bin(yima_slice_cstr(in->reason));
	m->code_field = bin(in->code_field);
	if (in->status == YIMA_EBADRECORD) {
		m->raw = bin(in->raw);
		return;
	}
	t->sec = ev->time.sec;
	t->nsec = ev->time.nsec;
	t->offset_min = ev->time.offset_min;
	t->zulu = ev->time.zulu;
	m->time = t;
	m->type = (uint32_t)ev->type;
	m->facility = bin(ev->facility);
	m->code = bin(ev->code);
	m->drug = bin(ev->drug);
	m->has_qty = ev->has_qty;
	m->qty = ev->qty;
	m->settlement = bin(ev->settlement);
	m->counterparty = bin(ev->counterparty);
	if (in->has_patient_mac) {
		m->patient_mac.data = (uint8_t *)in->patient_mac;
		m->patient_mac.len = LEDGER_MAC_LEN;
	}
}

/* What the parsers of an event allow (core/event.c, core/timefmt.c):
 * a view takes the stream's inputs as parsed, so it checks the bounds the
 * parsers would have. */
static bool input_in_range(const Yima__Cluster__V1__Input *m)
{
	if (m->type > EV_DESTROY || m->qty > EVENT_UNITS_MAX)
		return false;
	return m->time == NULL || (m->time->nsec < 1000000000u && m->time->offset_min >= -(23 * 60 + 59) &&
				   m->time->offset_min <= 23 * 60 + 59);
}

void envelope_input_decode(const Yima__Cluster__V1__Input *m, verify_input_t *in)
{
	event_t *ev = &in->ev;
	size_t rn = m->reason.len < sizeof in->reason - 1 ? m->reason.len : sizeof in->reason - 1;

	memset(in, 0, sizeof *in);
	if (rn > 0)
		memcpy(in->reason, m->reason.data, rn);
	in->status = m->status;
	in->code_field = sl(m->code_field);
	if (m->status == YIMA_EBADRECORD) {
		in->raw = sl(m->raw);
		in->raw_masked = true;
		return;
	}
	if (!input_in_range(m)) {
		/* a node never publishes this; every view refuses it alike */
		in->status = YIMA_EBADRECORD;
		snprintf(in->reason, sizeof in->reason, "an input out of range on the stream");
		return;
	}
	if (m->time != NULL) {
		ev->time.sec = m->time->sec;
		ev->time.nsec = m->time->nsec;
		ev->time.offset_min = (int16_t)m->time->offset_min;
		ev->time.zulu = m->time->zulu;
	}
	ev->type = (enum event_type)m->type;
	ev->facility = sl(m->facility);
	ev->code = sl(m->code);
	ev->drug = sl(m->drug);
	ev->has_qty = m->has_qty;
	ev->qty = m->qty;
	ev->settlement = sl(m->settlement);
	ev->counterparty = sl(m->counterparty);
	if (m->patient_mac.len == LEDGER_MAC_LEN) {
		in->has_patient_mac = true;
		memcpy(in->patient_mac, m->patient_mac.data, LEDGER_MAC_LEN);
	}
	if (m->status == 0)
		verify_input_normalize(in);
	else
		in->status = YIMA_EMALFORMED;
}

int envelope_pack_op(const Yima__Cluster__V1__Op *op, uint8_t **out, size_t *len)
{
	size_t n = yima__cluster__v1__op__get_packed_size(op);
	uint8_t *p = malloc(n ? n : 1);

	if (p == NULL)
		return YIMA_ENOMEM;
	*len = yima__cluster__v1__op__pack(op, p);
	*out = p;
	return 0;
}

int envelope_header(const char *node, unsigned k, buf_t *out)
{
	Yima__Cluster__V1__Envelope e = YIMA__CLUSTER__V1__ENVELOPE__INIT;
	size_t n;

	e.node = (char *)node;
	e.partition = k;
	n = yima__cluster__v1__envelope__get_packed_size(&e);
	buf_reset(out);
	if (!buf_reserve(out, n))
		return YIMA_ENOMEM;
	out->len = yima__cluster__v1__envelope__pack(&e, out->p);
	return 0;
}

void envelope_append_op(buf_t *out, const uint8_t *op, size_t len)
{
	buf_putc(out, (3 << 3) | 2);	/* field 3, length-delimited */
	buf_put_varint(out, len);
	buf_put(out, op, len);
}
