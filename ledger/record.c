/*
 * record.c - event records: their byte layout, appending and reading.
 *
 * Layout 1 (all integers LEB128 varints unless noted; str8 = u8 length +
 * bytes, str16 = u16 BE length + bytes):
 *
 *   u8 layout(1)  u8 kind(1=event)  u8 status  u8 type  u8 verdict
 *   u8 flags(1 qty, 2 expiry, 4 patient, 8 zulu, 16 text, 32 claim item,
 *            64 last item of its claim, 128 claim rejected as a whole)
 *   u16 BE findings
 *   zigzag sec  nsec  zigzag offset_min  prev_code_seq  units  [qty]
 *   str8 facility  str16 code  str8 drug  str8 settlement
 *   str8 counterparty  str8 batch  [u16 BE year, u8 month, u8 day]
 *   [32-byte patient HMAC]  [str16 reason  str16 raw]
 *   32-byte chain hash = SHA-256(previous hash || all bytes above)
 *
 * Layout 2 is layout 1 with the patient chain link (spec section 7,
 * docs/ledger.md) after `units [qty]`:
 *
 *   varint (prev_patient_seq << 1 | 1 if patient_drug differs from drug)
 *   [str8 patient_drug]                 (when it differs from drug)
 *
 * It is written only for an applied dispense with a patient (a link of
 * the patient's chain); every other record stays layout 1, byte for byte.
 * Both layouts are read; nothing is ever rewritten in place.
 */
#include <string.h>

#include "ledger_int.h"

enum {
	RF_QTY = 1,
	RF_EXPIRY = 2,
	RF_PATIENT = 4,
	RF_ZULU = 8,
	RF_TEXT = 16,	/* reason and raw present (attempts that broke rules) */
	RF_CLAIM = 32,	/* one code of a yimad settlement claim */
	RF_CLAIM_LAST = 64,
	RF_CLAIM_VOID = 128,
};

#define RAW_KEEP 4096

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

int ledger_event_encode(const ledger_event_t *ev, buf_t *b)
{
	uint8_t flags = (ev->has_qty ? RF_QTY : 0) | (ev->has_expiry ? RF_EXPIRY : 0) |
			(ev->has_patient ? RF_PATIENT : 0) | (ev->time.zulu ? RF_ZULU : 0) |
			(ev->reason.n || ev->raw.n ? RF_TEXT : 0) |
			((ev->claim & LEDGER_CLAIM_ITEM) ? RF_CLAIM : 0) |
			((ev->claim & LEDGER_CLAIM_LAST) ? RF_CLAIM_LAST : 0) |
			((ev->claim & LEDGER_CLAIM_VOID) ? RF_CLAIM_VOID : 0);

	bool chain = ev->layout == RECORD_LAYOUT_PATIENT;
	bool drug_differs = chain && !yima_slice_eq(ev->patient_drug, ev->drug);

	if (ev->facility.n > 255 || ev->drug.n > 255 || ev->settlement.n > 255 ||
	    ev->counterparty.n > 255 || ev->batch.n > 255 || ev->patient_drug.n > 255 ||
	    (chain && !ev->has_patient))
		return YIMA_EINVAL;
	buf_putc(b, chain ? RECORD_LAYOUT_PATIENT : RECORD_LAYOUT_1);
	buf_putc(b, KIND_EVENT);
	buf_putc(b, (uint8_t)ev->status);
	buf_putc(b, (uint8_t)ev->type);
	buf_putc(b, (uint8_t)ev->verdict);
	buf_putc(b, flags);
	buf_put_u16be(b, ev->findings);
	buf_put_varint(b, zigzag(ev->time.sec));
	buf_put_varint(b, ev->time.nsec);
	buf_put_varint(b, zigzag(ev->time.offset_min));
	buf_put_varint(b, ev->prev_code_seq);
	buf_put_varint(b, ev->units);
	if (ev->has_qty)
		buf_put_varint(b, ev->qty);
	if (chain) {
		buf_put_varint(b, ev->prev_patient_seq << 1 | drug_differs);
		if (drug_differs)
			buf_put_str8(b, ev->patient_drug.p, ev->patient_drug.n);
	}
	buf_put_str8(b, ev->facility.p, ev->facility.n);
	buf_put_str16(b, ev->code.p, min_size(ev->code.n, RAW_KEEP));
	buf_put_str8(b, ev->drug.p, ev->drug.n);
	buf_put_str8(b, ev->settlement.p, ev->settlement.n);
	buf_put_str8(b, ev->counterparty.p, ev->counterparty.n);
	buf_put_str8(b, ev->batch.p, ev->batch.n);
	if (ev->has_expiry) {
		buf_put_u16be(b, ev->exp_year);
		buf_putc(b, ev->exp_month);
		buf_putc(b, ev->exp_day);
	}
	if (ev->has_patient)
		buf_put(b, ev->patient_mac, LEDGER_MAC_LEN);
	if (flags & RF_TEXT) {
		buf_put_str16(b, ev->reason.p, min_size(ev->reason.n, RAW_KEEP));
		buf_put_str16(b, ev->raw.p, min_size(ev->raw.n, RAW_KEEP));
	}
	return b->oom ? YIMA_ENOMEM : 0;
}

static yima_slice_t rd_slice8(rd_t *r)
{
	size_t n;
	const char *p = rd_str8(r, &n);
	return yima_slice(p ? p : "", n);
}

static yima_slice_t rd_slice16(rd_t *r)
{
	size_t n;
	const char *p = rd_str16(r, &n);
	return yima_slice(p ? p : "", n);
}

int ledger_event_decode(const void *val, size_t len, ledger_event_t *ev)
{
	rd_t r;
	uint64_t v;

	memset(ev, 0, sizeof *ev);
	if (len < LEDGER_HASH_LEN + 8)
		return YIMA_ECORRUPT;
	rd_init(&r, val, len - LEDGER_HASH_LEN);
	ev->layout = rd_u8(&r);
	if (ev->layout != RECORD_LAYOUT_1 && ev->layout != RECORD_LAYOUT_PATIENT)
		return YIMA_EVERSION;
	if (rd_u8(&r) != KIND_EVENT)
		return YIMA_ECORRUPT;
	ev->status = rd_u8(&r);
	ev->type = rd_u8(&r);
	ev->verdict = rd_u8(&r);
	uint8_t flags = rd_u8(&r);
	ev->findings = rd_u16be(&r);
	ev->time.sec = unzigzag(rd_varint(&r));
	v = rd_varint(&r);
	ev->time.nsec = (uint32_t)v;
	ev->time.offset_min = (int16_t)unzigzag(rd_varint(&r));
	ev->time.zulu = flags & RF_ZULU;
	ev->claim = ((flags & RF_CLAIM) ? LEDGER_CLAIM_ITEM : 0) |
		    ((flags & RF_CLAIM_LAST) ? LEDGER_CLAIM_LAST : 0) |
		    ((flags & RF_CLAIM_VOID) ? LEDGER_CLAIM_VOID : 0);
	ev->prev_code_seq = rd_varint(&r);
	ev->units = rd_varint(&r);
	ev->has_qty = flags & RF_QTY;
	if (ev->has_qty)
		ev->qty = rd_varint(&r);
	bool drug_differs = false;
	if (ev->layout == RECORD_LAYOUT_PATIENT) {
		uint64_t link = rd_varint(&r);
		ev->patient_link = true;
		ev->prev_patient_seq = link >> 1;
		drug_differs = link & 1;
		if (drug_differs)
			ev->patient_drug = rd_slice8(&r);
	}
	ev->facility = rd_slice8(&r);
	ev->code = rd_slice16(&r);
	ev->drug = rd_slice8(&r);
	if (ev->patient_link && !drug_differs)
		ev->patient_drug = ev->drug;
	ev->settlement = rd_slice8(&r);
	ev->counterparty = rd_slice8(&r);
	ev->batch = rd_slice8(&r);
	ev->has_expiry = flags & RF_EXPIRY;
	if (ev->has_expiry) {
		ev->exp_year = rd_u16be(&r);
		ev->exp_month = rd_u8(&r);
		ev->exp_day = rd_u8(&r);
	}
	ev->has_patient = flags & RF_PATIENT;
	if (ev->has_patient) {
		const uint8_t *p = rd_bytes(&r, LEDGER_MAC_LEN);
		if (p != NULL)
			memcpy(ev->patient_mac, p, LEDGER_MAC_LEN);
	}
	if (flags & RF_TEXT) {
		ev->reason = rd_slice16(&r);
		ev->raw = rd_slice16(&r);
	} else {
		ev->reason = ev->raw = yima_slice("", 0);
	}
	if (r.bad || rd_left(&r) != 0 || v > 999999999 || ev->status > REC_BAD ||
	    ev->type > EV_DESTROY || ev->verdict > VERDICT_REJECT ||
	    (ev->patient_link && !ev->has_patient))
		return YIMA_ECORRUPT;
	memcpy(ev->hash, (const uint8_t *)val + len - LEDGER_HASH_LEN, LEDGER_HASH_LEN);
	return 0;
}

int ledger_event_append(ledger_txn_t *txn, ledger_event_t *ev)
{
	uint8_t kbuf[8];
	int rc;

	if (txn->err)
		return txn->err;
	ev->seq = txn->events + 1;
	/* a link of its patient's chain: in the record (layout 2), or
	 * beside it for a record replayed as written before chains existed
	 * (layout 1) */
	if (ev->patient_link && ev->status == REC_OK && ev->has_patient) {
		if (ev->layout != RECORD_LAYOUT_1)
			ev->layout = RECORD_LAYOUT_PATIENT;
		if ((rc = ledger_patient_link(txn, ev, ev->seq)) < 0)
			return ledger_txn_fail(txn, rc);
	} else {
		ev->layout = RECORD_LAYOUT_1;
	}
	if (ev->layout == RECORD_LAYOUT_1)
		ev->patient_link = false;
	buf_reset(&txn->scratch);
	if ((rc = ledger_event_encode(ev, &txn->scratch)) < 0)
		return ledger_txn_fail(txn, rc);
	if (!buf_reserve(&txn->scratch, LEDGER_HASH_LEN))
		return ledger_txn_fail(txn, YIMA_ENOMEM);
	if ((rc = ledger_chain_hash(txn, txn->head, txn->scratch.p, txn->scratch.len, ev->hash)) < 0)
		return ledger_txn_fail(txn, rc);
	buf_put(&txn->scratch, ev->hash, LEDGER_HASH_LEN);

	put_u64be(kbuf, ev->seq);
	MDB_val k = { 8, kbuf }, v = { txn->scratch.len, txn->scratch.p };
	rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_EVENTS), &k, &v, MDB_APPEND);
	if (rc != 0)
		return ledger_txn_fail(txn, yima_err_from_mdb(rc));
	ev->index = ledger_tree_size(txn);
	if ((rc = ledger_tree_append(txn, txn->scratch.p, txn->scratch.len, NULL)) < 0)
		return rc;
	txn->events = ev->seq;
	memcpy(txn->head, ev->hash, LEDGER_HASH_LEN);
	txn->meta_dirty = true;
	return 0;
}

int ledger_event_get(ledger_txn_t *txn, uint64_t seq, ledger_event_t *ev)
{
	uint8_t kbuf[8];
	MDB_val k = { 8, kbuf }, v;
	int rc;

	memset(ev, 0, sizeof *ev);	/* every output set, whatever happens */
	if (txn->err)
		return txn->err;
	put_u64be(kbuf, seq);
	if ((rc = mdb_get(txn->mdb, ledger_dbi(txn, DB_EVENTS), &k, &v)) != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(rc));
	if ((rc = ledger_event_decode(v.mv_data, v.mv_size, ev)) < 0) {
		memset(ev, 0, sizeof *ev);
		return ledger_txn_read(txn, rc);
	}
	ev->seq = seq;
	return 0;
}

int ledger_event_scan(ledger_txn_t *txn, uint64_t from, event_fn fn, void *arg)
{
	uint8_t kbuf[8];
	MDB_cursor *cur;
	ledger_event_t ev;
	int rc = 0, mrc;
	bool ours = false;	/* a failure of the scan, not of fn */

	if (txn->err)
		return txn->err;
	if ((mrc = mdb_cursor_open(txn->mdb, ledger_dbi(txn, DB_EVENTS), &cur)) != 0)
		return ledger_txn_read(txn, yima_err_from_mdb(mrc));
	put_u64be(kbuf, from);
	MDB_val k = { 8, kbuf }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = k.mv_size == 8 ? ledger_event_decode(v.mv_data, v.mv_size, &ev) : YIMA_ECORRUPT;
		if (rc < 0) {
			ours = true;
			break;
		}
		ev.seq = get_u64be(k.mv_data);
		if ((rc = fn(arg, &ev)) != 0)
			break;
	}
	return ledger_scan_end(txn, cur, rc, mrc, ours);
}
