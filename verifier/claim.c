/*
 * claim.c - settlement claims and event batches for yimad (see claim.h).
 *
 * A claim is all-or-nothing without a nested transaction (LMDB has none
 * under MDB_WRITEMAP): its codes are first evaluated against the ledger
 * plus an overlay of the earlier codes' effect, and only then recorded,
 * either all applied (their verdicts are then the evaluated ones) or all
 * as void attempts.  Idempotency rests on two tables: an accepted claim's
 * content hash under (facility, settlement), and each batch's records
 * and content digest under (facility, batch id).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "yima/claim.h"
#include "yima/error.h"

/* ---- content of a claim ----------------------------------------------------- */

static void hash_bytes(EVP_MD_CTX *md, const void *p, size_t n)
{
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	EVP_DigestUpdate(md, len, sizeof len);
	if (n > 0)
		EVP_DigestUpdate(md, p, n);
}

/* Integers little-endian, whatever the host: the hash is kept in the
 * claims table (and compared on every retry and by the audit), so it must
 * not change with the machine; little-endian is what every ledger written
 * so far (on x86) holds. */
static void hash_u64(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	hash_bytes(md, le, sizeof le);
}

/* What makes two claims "the same content": per code its time, drug,
 * code (canonical, so another scanned form of the same pack is the same),
 * units and patient hash.  Length-prefixed, so fields cannot run into
 * each other. */
static int content_hash(ledger_txn_t *txn, const verify_input_t *items, size_t n,
			uint8_t out[LEDGER_HASH_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t mac[LEDGER_MAC_LEN];
	yima_slice_t keyed = yima_slice(NULL, 0);
	int rc = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = YIMA_ECRYPTO;
		goto free_md;
	}
	hash_u64(md, n);
	for (size_t i = 0; i < n; i++) {
		const verify_input_t *in = &items[i];
		const event_t *ev = &in->ev;

		hash_u64(md, (uint64_t)(int64_t)in->status);
		if (in->status == YIMA_EBADRECORD) {
			hash_bytes(md, in->raw.p, in->raw.n);
			continue;
		}
		hash_u64(md, (uint64_t)ev->time.sec);
		hash_u64(md, ev->time.nsec);
		hash_u64(md, (uint64_t)(int64_t)ev->time.offset_min);
		yima_slice_t code = verify_input_code(in);
		hash_bytes(md, code.p, code.n);
		hash_bytes(md, ev->drug.p, ev->drug.n);
		hash_u64(md, ev->has_qty ? ev->qty : 0);
		if (in->has_patient_mac) {
			hash_bytes(md, in->patient_mac, LEDGER_MAC_LEN);
		} else if (ev->patient.n > 0) {
			/* a claim's codes share one patient: key it once */
			if (!yima_slice_eq(ev->patient, keyed) &&
			    (rc = ledger_patient_mac(txn, ev->patient.p, ev->patient.n, mac)) < 0)
				goto free_md;
			keyed = ev->patient;
			hash_bytes(md, mac, LEDGER_MAC_LEN);
		} else {
			hash_bytes(md, "", 0);
		}
	}
	if (EVP_DigestFinal_ex(md, out, NULL) != 1)
		rc = YIMA_ECRYPTO;
free_md:
	EVP_MD_CTX_free(md);
	return rc;
}

/* ---- answers rebuilt from records (retries) --------------------------------- */

static int outcome_from_records(ledger_txn_t *txn, uint64_t first, uint64_t count,
				claim_outcome_t *out)
{
	ledger_event_t e;
	int rc;

	out->status = CLAIM_REPLAYED;
	out->verdict = VERDICT_ACCEPT;
	if (count != out->n)
		return YIMA_EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		claim_code_result_t *c = &out->codes[i];
		if ((rc = ledger_event_get(txn, first + i, &e)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		c->r.seq = e.seq;
		c->r.verdict = e.verdict;
		c->r.findings = e.findings;
		memcpy(c->r.hash, e.hash, LEDGER_HASH_LEN);
		c->code = e.code;
		c->reason = e.reason;
		if (e.verdict > out->verdict)
			out->verdict = e.verdict;
		memcpy(out->head, e.hash, LEDGER_HASH_LEN);
	}
	out->first_seq = count ? first : 0;
	out->last_seq = count ? first + count - 1 : 0;
	return 0;
}

static void set_code(claim_code_result_t *c, const verify_input_t *in)
{
	c->code = verify_input_code(in);
	c->reason = in->status != 0 ? yima_slice_cstr(in->reason) : yima_slice("", 0);
}

static void set_range(claim_outcome_t *out, ledger_txn_t *txn)
{
	if (out->n == 0) {
		ledger_head(txn, out->head);
		return;
	}
	out->first_seq = out->codes[0].r.seq;
	out->last_seq = out->codes[out->n - 1].r.seq;
	memcpy(out->head, out->codes[out->n - 1].r.hash, LEDGER_HASH_LEN);
}

/* ---- claims --------------------------------------------------------------------- */

static int evaluate_all(ledger_txn_t *txn, const verify_input_t *items, size_t n,
			claim_outcome_t *out)
{
	verify_overlay_t ov = { 0, n, NULL };
	int rc = 0;

	if (n > 0 && (ov.seen = calloc(n, sizeof *ov.seen)) == NULL)
		return YIMA_ENOMEM;
	out->verdict = VERDICT_ACCEPT;
	for (size_t i = 0; i < n && rc == 0; i++) {
		claim_code_result_t *c = &out->codes[i];
		rc = verify_evaluate(txn, &items[i], &ov, &c->r);
		set_code(c, &items[i]);
		if (c->r.verdict > out->verdict)
			out->verdict = c->r.verdict;
	}
	free(ov.seen);
	return rc;
}

/* Record every code: applied when the claim stands, else void attempts
 * carrying the findings the evaluation gave. */
static int record_all(ledger_txn_t *txn, const verify_input_t *items, size_t n,
		      claim_outcome_t *out)
{
	bool rejected = out->verdict == VERDICT_REJECT;
	verify_result_t r;
	int rc;

	for (size_t i = 0; i < n; i++) {
		claim_code_result_t *c = &out->codes[i];
		verify_claim_mark_t mark = {
			LEDGER_CLAIM_ITEM | (i + 1 == n ? LEDGER_CLAIM_LAST : 0) |
				(rejected ? LEDGER_CLAIM_VOID : 0),
			c->r.findings,
		};
		if ((rc = verify_apply_claim(txn, &items[i], &mark, &r)) < 0)
			return rc;
		/* Evaluation and application run the same rules on the same
		 * state: a difference is a bug, and must not be recorded.  (A
		 * void record is rejected whatever its own findings.) */
		if (r.findings != c->r.findings || (!rejected && r.verdict != c->r.verdict))
			return YIMA_ECORRUPT;
		c->r = r;
	}
	return 0;
}

static int settle(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		  const verify_input_t *items, size_t n, bool dry_run, bool check_retry,
		  claim_outcome_t *out)
{
	claim_entry_t ce;
	uint8_t content[LEDGER_HASH_LEN];
	int rc;

	out->status = CLAIM_RECORDED;
	out->first_seq = out->last_seq = 0;
	memset(out->head, 0, sizeof out->head);
	if (n == 0 || n != out->n)
		return YIMA_EINVAL;
	/* The content hash is for the claims table: not needed by dry runs. */
	if (!dry_run && (rc = content_hash(txn, items, n, content)) < 0)
		return rc;
	if (!dry_run && check_retry) {
		rc = ledger_claim_get(txn, facility, settlement, &ce);
		if (rc == 0 && memcmp(ce.content, content, LEDGER_HASH_LEN) != 0) {
			out->status = CLAIM_CONFLICT;
			return 0;
		}
		if (rc == 0)
			return outcome_from_records(txn, ce.first_seq, ce.count, out);
		if (rc != YIMA_ENOTFOUND)
			return rc;
	}
	if ((rc = evaluate_all(txn, items, n, out)) < 0)
		return rc;
	if (dry_run) {
		/* Answer what recording would answer: a rejected claim
		 * rejects every code. */
		for (size_t i = 0; i < n && out->verdict == VERDICT_REJECT; i++)
			out->codes[i].r.verdict = VERDICT_REJECT;
		return 0;
	}
	if ((rc = record_all(txn, items, n, out)) < 0)
		return rc;
	set_range(out, txn);
	if (out->verdict == VERDICT_REJECT)
		return 0;
	memcpy(ce.content, content, LEDGER_HASH_LEN);
	ce.first_seq = out->first_seq;
	ce.count = n;
	return ledger_claim_put(txn, facility, settlement, &ce);
}

int claim_settle(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		 const verify_input_t *items, size_t n, bool dry_run, claim_outcome_t *out)
{
	return settle(txn, facility, settlement, items, n, dry_run, true, out);
}

/* The first applied record names the claim's facility and settlement
 * (a claim whose every code broke section 3 was never accepted, so no
 * key is needed for it). */
int claim_replay_records(ledger_txn_t *txn, const verify_input_t *items, size_t n,
			 claim_outcome_t *out)
{
	yima_slice_t fac = yima_slice("", 0), stl = yima_slice("", 0);

	for (size_t i = 0; i < n; i++) {
		if (items[i].status != YIMA_EBADRECORD) {
			fac = items[i].ev.facility;
			stl = items[i].ev.settlement;
			break;
		}
	}
	return settle(txn, fac, stl, items, n, false, false, out);
}

/* ---- event batches ----------------------------------------------------------- */

int claim_batch(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t batch_id,
		const uint8_t content[LEDGER_HASH_LEN], const verify_input_t *items, size_t n,
		claim_outcome_t *out)
{
	batch_entry_t be;
	int rc;

	out->status = CLAIM_RECORDED;
	out->first_seq = out->last_seq = 0;
	memset(out->head, 0, sizeof out->head);
	if (n != out->n)
		return YIMA_EINVAL;
	rc = ledger_batch_get(txn, facility, batch_id, &be);
	if (rc == 0 && be.has_content && memcmp(be.content, content, LEDGER_HASH_LEN) != 0) {
		out->status = CLAIM_CONFLICT;
		return 0;
	}
	if (rc == 0) {
		/* A retry: the first receipt whole. */
		if (be.count > out->n) {
			claim_code_result_t *c = realloc(out->codes, be.count * sizeof *c);
			if (c == NULL)
				return YIMA_ENOMEM;
			out->codes = c;
		}
		out->n = be.count;
		return outcome_from_records(txn, be.first_seq, be.count, out);
	}
	if (rc != YIMA_ENOTFOUND)
		return rc;
	out->verdict = VERDICT_ACCEPT;
	for (size_t i = 0; i < n; i++) {
		claim_code_result_t *c = &out->codes[i];
		if ((rc = verify_apply(txn, &items[i], &c->r)) < 0)
			return rc;
		set_code(c, &items[i]);
		if (c->r.verdict > out->verdict)
			out->verdict = c->r.verdict;
	}
	set_range(out, txn);
	be.first_seq = out->first_seq;
	be.count = n;
	be.has_content = true;
	memcpy(be.content, content, LEDGER_HASH_LEN);
	return ledger_batch_put(txn, facility, batch_id, &be);
}
