/*
 * wire.c - protobuf requests to verify inputs, results to protobuf
 * answers (see wire.h): a mapping, with no ledger access.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "wire.h"
#include "yima/util/csv_write.h"

/* ---- arena ------------------------------------------------------------------ */

struct wire_chunk {
	struct wire_chunk *next;
	max_align_t data[];
};

void *wire_arena_alloc(wire_arena_t *a, size_t n)
{
	struct wire_chunk *c;

	if (n > SIZE_MAX - sizeof *c)
		return NULL;
	if ((c = calloc(1, sizeof *c + n)) == NULL)
		return NULL;
	c->next = a->head;
	a->head = c;
	return c->data;
}

static void *arena_array(wire_arena_t *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return wire_arena_alloc(a, n * size);
}

void wire_arena_free(wire_arena_t *a)
{
	struct wire_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---- requests ----------------------------------------------------------------- */

/* The row as CSV (RFC 4180 quoting), kept as a BAD_RECORD's evidence. */
static yima_slice_t render_row(wire_arena_t *a, const yima_slice_t *f, size_t nf)
{
	size_t cap = 1;
	char *p, *o;

	for (size_t i = 0; i < nf; i++) {
		size_t n = f[i].n < CSV_RAW_KEEP ? f[i].n : CSV_RAW_KEEP;
		cap += CSV_FIELD_OUT_MAX(n) + 1;
	}
	if ((p = wire_arena_alloc(a, cap)) == NULL)
		return yima_slice("", 0);
	o = p;
	for (size_t i = 0; i < nf; i++) {
		size_t n = f[i].n < CSV_RAW_KEEP ? f[i].n : CSV_RAW_KEEP;
		if (i > 0)
			*o++ = ',';
		o += csv_field_write(o, f[i].p, n, false);
	}
	size_t len = (size_t)(o - p);
	return yima_slice(p, len < CSV_RAW_KEEP ? len : CSV_RAW_KEEP);
}

static yima_slice_t sl(const char *s)
{
	return s ? yima_slice_cstr(s) : yima_slice("", 0);
}

/* Nine fields by the column rules; a broken event keeps them rendered as
 * a CSV row for its evidence. */
static void input_from_fields(wire_arena_t *a, const yima_slice_t *f, verify_input_t *in)
{
	verify_input_from_fields(f, in);
	if (in->status == YIMA_EBADRECORD)
		in->raw = render_row(a, f, EVENT_NCOLUMNS);
}

static char *arena_copy(wire_arena_t *a, const void *p, size_t n)
{
	char *c = wire_arena_alloc(a, n + 1);
	if (c != NULL && n > 0)
		memcpy(c, p, n);
	return c;
}

/* A row the client could not split into nine fields travels as bytes: it
 * is split here by the CSV reader, so its reason is the one ingest gives. */
static int input_from_raw(wire_arena_t *a, const ProtobufCBinaryData *raw, verify_input_t *in)
{
	size_t n = raw->len < CSV_RAW_KEEP ? raw->len : CSV_RAW_KEEP;
	char *copy = arena_copy(a, raw->data, n);
	csv_reader_t *r = NULL;
	csv_row_t row;
	char why[128];
	FILE *fp;
	int rc;

	if (copy == NULL)
		return YIMA_ENOMEM;
	memset(in, 0, sizeof *in);
	in->status = YIMA_EBADRECORD;
	in->raw = yima_slice(copy, n);
	snprintf(in->reason, sizeof in->reason, "row is not nine fields");
	if (n == 0 || (fp = fmemopen(copy, n, "r")) == NULL)
		return 0;
	if (csv_reader_new(fp, CSV_ROW_MAX_DEFAULT, &r) == 0 &&
	    csv_reader_next(r, &row, why, sizeof why) == 1 && !row.overlong) {
		yima_slice_t *f = arena_array(a, row.nfields ? row.nfields : 1, sizeof *f);
		rc = f ? 0 : YIMA_ENOMEM;
		for (size_t i = 0; rc == 0 && i < row.nfields; i++) {
			char *p = arena_copy(a, row.field[i].p, row.field[i].n);
			if (p == NULL)
				rc = YIMA_ENOMEM;
			else
				f[i] = yima_slice(p, row.field[i].n);
		}
		if (rc == 0) {
			row.field = f;
			row.raw = in->raw;
			verify_input_from_row(&row, in);
			if (in->status == YIMA_EBADRECORD)
				in->raw = yima_slice(copy, n);
		}
	}
	csv_reader_free(r);
	fclose(fp);
	return 0;
}

int wire_decode_batch(const Yima__V1__EventBatch *b, wire_arena_t *a, verify_input_t **in)
{
	yima_slice_t f[EVENT_NCOLUMNS];

	if ((*in = arena_array(a, b->n_events ? b->n_events : 1, sizeof **in)) == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < b->n_events; i++) {
		const Yima__V1__Event *e = b->events[i];
		if (e->raw.len > 0) {
			if (input_from_raw(a, &e->raw, &(*in)[i]) < 0)
				return YIMA_ENOMEM;
			continue;
		}
		f[0] = sl(e->time);
		f[1] = sl(e->facility);
		f[2] = sl(e->type);
		f[3] = sl(e->code);
		f[4] = sl(e->drug);
		f[5] = sl(e->qty);
		f[6] = sl(e->settlement);
		f[7] = sl(e->patient);
		f[8] = sl(e->counterparty);
		input_from_fields(a, f, &(*in)[i]);
	}
	return 0;
}

size_t wire_claim_ncodes(const Yima__V1__Claim *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_items; i++) {
		if (c->items[i]->n_codes > SIZE_MAX - n)
			return SIZE_MAX;
		n += c->items[i]->n_codes;
	}
	return n;
}

/* ---- a batch's content ---------------------------------------------------------- */

static void digest_bytes(EVP_MD_CTX *md, const void *p, size_t n)
{
	uint8_t len[8];

	put_u64be(len, n);	/* length-prefixed: fields cannot run together */
	EVP_DigestUpdate(md, len, sizeof len);
	if (n > 0)
		EVP_DigestUpdate(md, p, n);
}

static void digest_str(EVP_MD_CTX *md, const char *s)
{
	digest_bytes(md, s ? s : "", s ? strlen(s) : 0);
}

int wire_batch_digest(const Yima__V1__EventBatch *b, uint8_t out[LEDGER_HASH_LEN])
{
	static const char tag[] = "yima batch v1";
	uint8_t n[8];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = YIMA_ECRYPTO;
		goto free_md;
	}
	EVP_DigestUpdate(md, tag, sizeof tag);
	put_u64be(n, b->n_events);
	EVP_DigestUpdate(md, n, sizeof n);
	for (size_t i = 0; i < b->n_events; i++) {
		const Yima__V1__Event *e = b->events[i];
		if (e->raw.len > 0) {
			EVP_DigestUpdate(md, "R", 1);
			digest_bytes(md, e->raw.data, e->raw.len);
			continue;
		}
		EVP_DigestUpdate(md, "F", 1);
		const char *f[EVENT_NCOLUMNS] = { e->time, e->facility, e->type, e->code, e->drug,
						  e->qty, e->settlement, e->patient, e->counterparty };
		for (int k = 0; k < EVENT_NCOLUMNS; k++)
			digest_str(md, f[k]);
	}
	if (EVP_DigestFinal_ex(md, out, NULL) != 1)
		rc = YIMA_ECRYPTO;
free_md:
	EVP_MD_CTX_free(md);
	return rc;
}

/* A broken claim code's evidence: the row `yima ingest` would have read
 * for it (only then are its units printed). */
static yima_slice_t claim_row(wire_arena_t *a, const Yima__V1__Claim *c,
			      const Yima__V1__ClaimItem *it, const Yima__V1__ClaimCode *cc)
{
	char units[24] = "";
	yima_slice_t f[EVENT_NCOLUMNS];

	if (cc->units > 0)
		snprintf(units, sizeof units, "%" PRIu64, (uint64_t)cc->units);
	f[0] = sl(c->time);
	f[1] = sl(c->facility);
	f[2] = yima_slice_cstr("dispense");
	f[3] = sl(cc->code);
	f[4] = sl(it->drug);
	f[5] = yima_slice_cstr(units);
	f[6] = sl(c->settlement);
	f[7] = sl(c->patient);
	f[8] = yima_slice("", 0);
	return render_row(a, f, EVENT_NCOLUMNS);
}

int wire_decode_claim(const Yima__V1__Claim *c, wire_arena_t *a, verify_input_t **in)
{
	size_t n = wire_claim_ncodes(c), k = 0;
	event_claim_t head;

	if ((*in = arena_array(a, n ? n : 1, sizeof **in)) == NULL)
		return YIMA_ENOMEM;
	event_claim_init(&head, sl(c->time), sl(c->facility), sl(c->settlement), sl(c->patient));
	for (size_t i = 0; i < c->n_items; i++) {
		const Yima__V1__ClaimItem *it = c->items[i];
		for (size_t j = 0; j < it->n_codes; j++, k++) {
			const Yima__V1__ClaimCode *cc = it->codes[j];
			verify_input_t *vi = &(*in)[k];
			verify_input_from_claim(&head, sl(cc->code), sl(it->drug), cc->units, vi);
			if (vi->status == YIMA_EBADRECORD)
				vi->raw = claim_row(a, c, it, cc);
		}
	}
	return 0;
}

/* ---- answers -------------------------------------------------------------------- */

static Yima__V1__Verdict verdict_wire(enum verdict v)
{
	switch (v) {
	case VERDICT_ACCEPT:
		return YIMA__V1__VERDICT__ACCEPT;
	case VERDICT_WARN:
		return YIMA__V1__VERDICT__WARN;
	default:
		return YIMA__V1__VERDICT__REJECT;
	}
}

static char *arena_str(wire_arena_t *a, yima_slice_t s)
{
	return arena_copy(a, s.p, s.n);
}

static int findings_wire(wire_arena_t *a, finding_set_t f, size_t *n, char ***names)
{
	*n = 0;
	*names = arena_array(a, F_COUNT, sizeof **names);
	if (*names == NULL)
		return YIMA_ENOMEM;
	FINDING_EACH(i)
		if (f & FINDING_BIT(i))
			(*names)[(*n)++] = (char *)finding_name((enum finding)i);
	return 0;
}

static int pack(const ProtobufCMessage *m, buf_t *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	if (!buf_reserve(out, n))
		return YIMA_ENOMEM;
	protobuf_c_message_pack(m, out->p + out->len);
	out->len += n;
	return 0;
}

int wire_pack_append(const ProtobufCMessage *m, buf_t *out)
{
	return pack(m, out);
}

static int verdicts_wire(wire_arena_t *a, const outcome_t *o, size_t *n,
			 Yima__V1__EventVerdict ***out)
{
	Yima__V1__EventVerdict *v = arena_array(a, o->n ? o->n : 1, sizeof *v);
	*out = arena_array(a, o->n ? o->n : 1, sizeof **out);
	*n = o->n;
	if (v == NULL || *out == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < o->n; i++) {
		const outcome_code_t *c = &o->codes[i];
		yima__v1__event_verdict__init(&v[i]);
		v[i].seq = c->r.seq;
		v[i].index = c->r.index;
		v[i].verdict = verdict_wire(c->r.verdict);
		if ((v[i].code = arena_str(a, c->code)) == NULL ||
		    (v[i].reason = arena_str(a, c->reason)) == NULL ||
		    findings_wire(a, c->r.findings, &v[i].n_findings, &v[i].findings) < 0)
			return YIMA_ENOMEM;
		(*out)[i] = &v[i];
	}
	return 0;
}

static void receipt_wire(const outcome_t *o, Yima__V1__Receipt *r)
{
	yima__v1__receipt__init(r);
	r->first_seq = o->first_seq;
	r->last_seq = o->last_seq;
	r->chain_hash.data = (uint8_t *)o->head;
	r->chain_hash.len = LEDGER_HASH_LEN;
	r->replayed = o->status == OUTCOME_REPLAYED;
}

int wire_pack_batch_receipt(const char *batch_id, const outcome_t *o, buf_t *out)
{
	Yima__V1__BatchReceipt m = YIMA__V1__BATCH_RECEIPT__INIT;
	Yima__V1__Receipt r;
	wire_arena_t a = { NULL };
	int rc;

	receipt_wire(o, &r);
	m.batch_id = (char *)batch_id;
	m.receipt = &r;
	if ((rc = verdicts_wire(&a, o, &m.n_verdicts, &m.verdicts)) == 0)
		rc = pack(&m.base, out);
	wire_arena_free(&a);
	return rc;
}

int wire_pack_claim_verdict(const char *settlement, bool dry_run, const outcome_t *o,
			    buf_t *out)
{
	Yima__V1__ClaimVerdict m = YIMA__V1__CLAIM_VERDICT__INIT;
	Yima__V1__Receipt r;
	wire_arena_t a = { NULL };
	int rc;

	m.settlement = (char *)settlement;
	m.verdict = verdict_wire(o->verdict);
	m.dry_run = dry_run;
	if (!dry_run) {
		receipt_wire(o, &r);
		m.receipt = &r;
	}
	if ((rc = verdicts_wire(&a, o, &m.n_codes, &m.codes)) == 0)
		rc = pack(&m.base, out);
	wire_arena_free(&a);
	return rc;
}

int wire_pack_error(unsigned status, const char *reason, const char *message, buf_t *out)
{
	Yima__V1__Error m = YIMA__V1__ERROR__INIT;

	m.status = status;
	m.reason = (char *)reason;
	m.message = (char *)message;
	return pack(&m.base, out);
}

/* ---- code history and public view ----------------------------------------------- */

int wire_pack_history(const query_t *q, buf_t *out)
{
	Yima__V1__CodeHistory m = YIMA__V1__CODE_HISTORY__INIT;
	Yima__V1__CodeState st = YIMA__V1__CODE_STATE__INIT;
	wire_arena_t a = { NULL };
	size_t n = q->h.n;
	Yima__V1__HistoryEntry *h = arena_array(&a, n ? n : 1, sizeof *h);
	Yima__V1__HistoryEntry **hp = arena_array(&a, n ? n : 1, sizeof *hp);
	char (*times)[40] = arena_array(&a, n ? n : 1, sizeof *times);
	int rc = YIMA_ENOMEM;

	if (h == NULL || hp == NULL || times == NULL)
		goto free_arena;
	m.code = (char *)q->code.canon;
	m.product = (char *)q->code.product;
	m.drug = q->in_catalog ? (char *)q->cat.drug : "";
	st.holder = (char *)q->st.holder;
	st.in_transit_to = (char *)q->st.in_transit_to;
	st.units_known = q->st.units_known;
	st.units_left = q->st.units_left;
	st.dispensed_at = (char *)q->st.dispensed_at;
	st.destroyed = q->st.destroyed;
	m.state = &st;
	for (size_t i = 0; i < n; i++) {
		const ledger_event_t *e = &q->h.ev[i];
		yima__v1__history_entry__init(&h[i]);
		h[i].seq = e->seq;
		h[i].index = e->index;
		yima_time_format(&e->time, times[i], sizeof times[i]);
		h[i].time = times[i];
		h[i].type = (char *)(event_type_name(e->type) ? event_type_name(e->type) : "");
		h[i].has_units = (e->type == EV_DISPENSE || e->type == EV_REFUND) && e->units > 0;
		h[i].units = e->units;
		h[i].verdict = verdict_wire(e->verdict);
		h[i].chain_hash.data = (uint8_t *)e->hash;
		h[i].chain_hash.len = LEDGER_HASH_LEN;
		if ((h[i].facility = arena_str(&a, e->facility)) == NULL ||
		    (h[i].settlement = arena_str(&a, e->settlement)) == NULL ||
		    findings_wire(&a, e->findings, &h[i].n_findings, &h[i].findings) < 0)
			goto free_arena;
		hp[i] = &h[i];
	}
	m.n_history = n;
	m.history = hp;
	rc = pack(&m.base, out);
free_arena:
	wire_arena_free(&a);
	return rc;
}

int wire_pack_public(const query_t *q, const view_public_t *v, buf_t *out)
{
	Yima__V1__PublicCodeView m = YIMA__V1__PUBLIC_CODE_VIEW__INIT;
	wire_arena_t a = { NULL };
	int rc = YIMA_ENOMEM;

	m.code = (char *)q->code.canon;
	if (v->in_catalog) {
		if ((m.product_name = arena_str(&a, v->name)) == NULL ||
		    (m.product_spec = arena_str(&a, v->spec)) == NULL)
			goto free_arena;
		m.pack_units = v->pack_units;
	}
	m.units_dispensed = v->units_dispensed;
	m.sales = v->sales;
	m.facilities = v->facilities;
	m.status = (char *)v->status;
	m.any_reject = v->any_reject;
	rc = pack(&m.base, out);
free_arena:
	wire_arena_free(&a);
	return rc;
}
