/*
 * claim.c - settlement claims (see yima/verifier/claim.h).
 *
 * A claim is all-or-nothing without a nested transaction (LMDB has none
 * under MDB_WRITEMAP): every code is first evaluated against the ledger
 * plus an overlay of the earlier codes' effect, and only then recorded
 * from those evaluations, either all applied or all as void attempts.
 * Idempotency rests on the claims table: an accepted claim's content hash
 * under (facility, settlement).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "eval.h"
#include "yima/util/error.h"
#include "yima/verifier/claim.h"

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

static void hash_item(EVP_MD_CTX *md, const verify_input_t *in)
{
	const event_t *ev = &in->ev;
	yima_slice_t code = verify_input_code(in);

	hash_u64(md, (uint64_t)(int64_t)in->status);
	if (in->status == YIMA_EBADRECORD) {
		hash_bytes(md, in->raw.p, in->raw.n);
		return;
	}
	hash_u64(md, (uint64_t)ev->time.sec);
	hash_u64(md, ev->time.nsec);
	hash_u64(md, (uint64_t)(int64_t)ev->time.offset_min);
	hash_bytes(md, code.p, code.n);
	hash_bytes(md, ev->drug.p, ev->drug.n);
	hash_u64(md, ev->has_qty ? ev->qty : 0);
	hash_bytes(md, in->has_patient_mac ? in->patient_mac : NULL,
		   in->has_patient_mac ? LEDGER_MAC_LEN : 0);
}

/* What makes two claims "the same content": per code its time, drug,
 * code (canonical, so another scanned form of the same pack is the same),
 * units and patient hash.  Length-prefixed, so fields cannot run into
 * each other. */
static int content_hash(const verify_input_t *items, size_t n, uint8_t out[LEDGER_HASH_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = YIMA_ECRYPTO;
		goto free_md;
	}
	hash_u64(md, n);
	for (size_t i = 0; i < n; i++)
		hash_item(md, &items[i]);
	if (EVP_DigestFinal_ex(md, out, NULL) != 1)
		rc = YIMA_ECRYPTO;
free_md:
	EVP_MD_CTX_free(md);
	return rc;
}

/* A claim has one patient: key it once and give every parsed item the
 * hash (a broken row keys its own raw field when it is recorded). */
static int key_patient(ledger_txn_t *txn, verify_input_t *items, size_t n)
{
	uint8_t mac[LEDGER_MAC_LEN];
	yima_slice_t keyed = yima_slice(NULL, 0);
	int rc;

	for (size_t i = 0; i < n; i++) {
		verify_input_t *in = &items[i];
		if (in->status == YIMA_EBADRECORD || in->has_patient_mac || in->ev.patient.n == 0)
			continue;
		if (!yima_slice_eq(in->ev.patient, keyed)) {
			if ((rc = ledger_patient_mac(txn, in->ev.patient.p, in->ev.patient.n, mac)) < 0)
				return rc;
			keyed = in->ev.patient;
		}
		memcpy(in->patient_mac, mac, LEDGER_MAC_LEN);
		in->has_patient_mac = true;
	}
	return 0;
}

/* ---- evaluating, then recording ---------------------------------------------- */

static int evaluate_all(ledger_txn_t *txn, const verify_input_t *items, size_t n,
			verify_eval_t *ev, outcome_t *out)
{
	verify_overlay_t ov = { 0, n, NULL, 0, NULL };
	int rc = 0;

	ov.seen = calloc(n, sizeof *ov.seen);
	ov.doses = calloc(n, sizeof *ov.doses);
	if (ov.seen == NULL || ov.doses == NULL) {
		rc = YIMA_ENOMEM;
		goto free_ov;
	}
	out->verdict = VERDICT_ACCEPT;
	for (size_t i = 0; i < n && rc == 0; i++) {
		outcome_code_t *c = &out->codes[i];
		memset(&c->r, 0, sizeof c->r);
		if (items[i].status != 0) {
			c->r.verdict = VERDICT_REJECT;
			c->r.findings = FINDING_BIT(items[i].status == YIMA_EBADRECORD ?
						    F_BAD_RECORD : F_MALFORMED);
		} else if ((rc = verify_eval_claim(txn, &items[i], &ov, &ev[i])) == 0) {
			c->r.verdict = ev[i].verdict;
			c->r.findings = ev[i].findings;
		}
		outcome_set_code(out, i, &items[i]);
		if (c->r.verdict > out->verdict)
			out->verdict = c->r.verdict;
	}
free_ov:
	free(ov.seen);
	free(ov.doses);
	return rc;
}

/* The claim's latest code before i with the same canonical code. */
static size_t same_code_before(const verify_input_t *items, size_t i)
{
	const code_t *c = &items[i].code;

	while (i-- > 0)
		if (items[i].status == 0 && items[i].code.canon_len == c->canon_len &&
		    memcmp(items[i].code.canon, c->canon, c->canon_len) == 0)
			return i;
	return SIZE_MAX;
}

/* Record every code from its evaluation: applied when the claim stands,
 * else void attempts carrying the findings the evaluation gave.  A code
 * the claim names twice follows its earlier record (history and state). */
static int record_all(ledger_txn_t *txn, const verify_input_t *items, size_t n,
		      const verify_eval_t *ev, outcome_t *out)
{
	bool rejected = out->verdict == VERDICT_REJECT;
	code_state_t *written = calloc(n, sizeof *written);
	int rc = 0;

	if (written == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		outcome_code_t *c = &out->codes[i];
		verify_claim_mark_t mark = {
			LEDGER_CLAIM_ITEM | (i + 1 == n ? LEDGER_CLAIM_LAST : 0) |
				(rejected ? LEDGER_CLAIM_VOID : 0),
			c->r.findings,
		};
		if (items[i].status != 0) {
			rc = verify_record_attempt(txn, &items[i], mark.flags, &c->r);
			continue;
		}
		size_t j = same_code_before(items, i);
		const code_state_t *base = j != SIZE_MAX ? &written[j] : &ev[i].c.st;
		rc = verify_record(txn, &items[i], &ev[i], &mark, base, &written[i], &c->r);
	}
	free(written);
	return rc;
}

/* A retry of an accepted claim: the first answer, or a conflict. */
static int check_retry(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		       const uint8_t content[LEDGER_HASH_LEN], outcome_t *out, bool *done)
{
	claim_entry_t ce;
	int rc = ledger_claim_get(txn, facility, settlement, &ce);

	*done = rc == 0;
	if (rc == YIMA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (memcmp(ce.content, content, LEDGER_HASH_LEN) != 0) {
		out->status = OUTCOME_CONFLICT;
		return 0;
	}
	return outcome_from_records(txn, ce.first_seq, ce.count, out);
}

/* How a claim is settled: claim_settle() checks retries and decides by
 * its own codes; a cluster partition (claim_record_decided()) and the
 * audit replay of its ledger take a void decision made elsewhere. */
struct settle_mode {
	bool dry_run;
	bool retries;
	bool force_void;
};

static int settle(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		  verify_input_t *items, size_t n, const struct settle_mode *m, outcome_t *out)
{
	bool dry_run = m->dry_run;
	uint8_t content[LEDGER_HASH_LEN];
	verify_eval_t *ev = NULL;
	bool done = false;
	int rc;

	out->status = OUTCOME_RECORDED;
	out->first_seq = out->last_seq = 0;
	memset(out->head, 0, sizeof out->head);
	if (n == 0 || n != out->n)
		return YIMA_EINVAL;
	if ((rc = key_patient(txn, items, n)) < 0)
		return rc;
	/* The content hash is for the claims table: not needed by dry runs. */
	if (!dry_run && (rc = content_hash(items, n, content)) < 0)
		return rc;
	if (!dry_run && m->retries &&
	    ((rc = check_retry(txn, facility, settlement, content, out, &done)) < 0 || done))
		return rc;
	if ((ev = calloc(n, sizeof *ev)) == NULL)
		return YIMA_ENOMEM;
	if ((rc = evaluate_all(txn, items, n, ev, out)) < 0)
		goto free_ev;
	if (m->force_void)
		out->verdict = VERDICT_REJECT;	/* void: decided elsewhere */
	if (dry_run) {
		/* what recording would answer: a rejected claim rejects every code */
		for (size_t i = 0; i < n && out->verdict == VERDICT_REJECT; i++)
			out->codes[i].r.verdict = VERDICT_REJECT;
		goto free_ev;
	}
	if ((rc = record_all(txn, items, n, ev, out)) < 0)
		goto free_ev;
	outcome_set_range(out, txn);
	if (out->verdict != VERDICT_REJECT) {
		claim_entry_t ce = { out->first_seq, n, { 0 } };
		memcpy(ce.content, content, LEDGER_HASH_LEN);
		rc = ledger_claim_put(txn, facility, settlement, &ce);
	}
free_ev:
	free(ev);
	return rc;
}

int claim_settle(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		 verify_input_t *items, size_t n, bool dry_run, outcome_t *out)
{
	struct settle_mode m = { dry_run, true, false };
	return settle(txn, facility, settlement, items, n, &m, out);
}

int claim_record_decided(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
			 verify_input_t *items, size_t n, bool void_claim, outcome_t *out)
{
	struct settle_mode m = { false, false, void_claim };
	return settle(txn, facility, settlement, items, n, &m, out);
}

int claim_content(ledger_txn_t *txn, verify_input_t *items, size_t n,
		  uint8_t out[LEDGER_HASH_LEN])
{
	int rc = key_patient(txn, items, n);
	return rc < 0 ? rc : content_hash(items, n, out);
}

/* The first parsed record names the claim's facility and settlement (a
 * claim whose every code broke section 3 was never accepted, so no key
 * is needed for it). */
int claim_replay_records(ledger_txn_t *txn, verify_input_t *items, size_t n, bool void_claim,
			 outcome_t *out)
{
	struct settle_mode m = { false, false, void_claim };
	yima_slice_t fac = yima_slice("", 0), stl = yima_slice("", 0);

	for (size_t i = 0; i < n; i++) {
		if (items[i].status != YIMA_EBADRECORD) {
			fac = items[i].ev.facility;
			stl = items[i].ev.settlement;
			break;
		}
	}
	return settle(txn, fac, stl, items, n, &m, out);
}
