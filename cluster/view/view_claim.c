/*
 * view_claim.c - a partition's part in a claim across partitions
 * (docs/cluster.md, "Writes"): prepare, vote, hold; decide, record,
 * release.
 *
 * A Prepare carries the whole claim; this partition evaluates the codes
 * that fall in it (in claim order, each seeing the earlier ones, exactly
 * as claim_settle() evaluates a claim on one node) and stores its vote
 * (aux "P" + the claim attempt's id): accept or reject, and then its codes
 * are held until the decision, so nothing can change what it evaluated;
 * busy when a code is held already (or an admin change waits), holding
 * nothing, since waiting could deadlock two claims holding each other's
 * codes in different partitions; at the home partition, replay or
 * conflict when (facility, settlement) was accepted before (aux "S").  A
 * Decide records the codes (applied on commit, void attempts on a reject
 * anywhere: claim_record_decided()), releases them and remembers the
 * decision (aux "D"), so a late or repeated prepare or decision of the
 * same attempt changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/claim.h"

/* The decision the votes make: a replay or conflict at the home first,
 * then busy (nothing was evaluated there), then reject. */
Yima__Cluster__V1__Decision claim_decision(const enum vote *votes, size_t n)
{
	bool busy = false, reject = false;

	for (size_t i = 0; i < n; i++) {
		if (votes[i] == VOTE_REPLAY)
			return YIMA__CLUSTER__V1__DECISION__REPLAY;
		if (votes[i] == VOTE_CONFLICT)
			return YIMA__CLUSTER__V1__DECISION__CONFLICT;
		busy = busy || votes[i] == VOTE_BUSY || votes[i] == VOTE_NONE;
		reject = reject || votes[i] == VOTE_REJECT;
	}
	if (busy)
		return YIMA__CLUSTER__V1__DECISION__ABORT_BUSY;
	return reject ? YIMA__CLUSTER__V1__DECISION__ABORT_REJECT : YIMA__CLUSTER__V1__DECISION__COMMIT;
}

void settle_key(const char *facility, const char *settlement, buf_t *out)
{
	buf_reset(out);
	buf_putc(out, 0x01);	/* no canonical code starts with it */
	buf_puts(out, facility);
	buf_putc(out, 0);
	buf_puts(out, settlement);
}

int prepare_inputs(const Yima__Cluster__V1__Prepare *p, unsigned k, verify_input_t **items,
		   size_t *n)
{
	*n = 0;
	*items = calloc(p->n_codes ? p->n_codes : 1, sizeof **items);
	if (*items == NULL)
		return YIMA_ENOMEM;
	if (p->n_code_partition != p->n_codes)
		return 0;	/* not a claim this version made: nothing here */
	for (size_t i = 0; i < p->n_codes; i++)
		if (p->code_partition[i] == k)
			envelope_input_decode(p->codes[i], &(*items)[(*n)++]);
	return 0;
}

static void txn_key(char kind, const ProtobufCBinaryData *t, uint8_t key[1 + TXN_LEN])
{
	key[0] = (uint8_t)kind;
	memcpy(key + 1, t->data, TXN_LEN);
}

/* The keys the claim holds here: its codes, and at the home the settle
 * key (so a second attempt of the same settlement is busy meanwhile). */
static int claim_keys(const view_t *v, const Yima__Cluster__V1__Prepare *p,
		      const verify_input_t *items, size_t n, keylist_t *keys)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (items[i].status == 0)
			rc = keys_push(keys, items[i].code.canon, items[i].code.canon_len);
	if (rc == 0 && p->home == v->k) {
		buf_t sk;
		buf_init(&sk);
		settle_key(p->facility, p->settlement, &sk);
		rc = sk.oom ? YIMA_ENOMEM : keys_push(keys, (const char *)sk.p, sk.len);
		buf_deinit(&sk);
	}
	return rc;
}

static bool any_held(const view_t *v, const keylist_t *keys)
{
	for (size_t i = 0; i < keys->n; i++)
		if (keyset_has(&v->held, keys->k[i], keys->len[i]) ||
		    keyset_has(&v->queued, keys->k[i], keys->len[i]))
			return true;
	return false;
}

/* accept or reject, by this partition's codes alone */
static int evaluate(ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p, verify_input_t *items,
		    size_t n, enum vote *vote)
{
	outcome_t out;
	int rc;

	*vote = VOTE_ACCEPT;
	if (n == 0)
		return 0;
	if ((rc = outcome_init(&out, n)) < 0)
		return rc;
	rc = claim_settle(txn, yima_slice_cstr(p->facility), yima_slice_cstr(p->settlement), items, n,
			  true, &out);
	if (rc == 0 && out.verdict == VERDICT_REJECT)
		*vote = VOTE_REJECT;
	outcome_deinit(&out);
	return rc;
}

static int home_vote(ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p, enum vote *vote)
{
	buf_t sk;
	yima_slice_t val;
	int rc;

	buf_init(&sk);
	buf_putc(&sk, AUX_SETTLED);
	buf_puts(&sk, p->facility);
	buf_putc(&sk, 0);
	buf_puts(&sk, p->settlement);
	if (sk.oom) {
		buf_deinit(&sk);
		return YIMA_ENOMEM;
	}
	rc = ledger_aux_get(txn, sk.p, sk.len, &val);
	buf_deinit(&sk);
	if (rc == YIMA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	*vote = val.n >= LEDGER_HASH_LEN && p->content.len == LEDGER_HASH_LEN &&
			memcmp(val.p, p->content.data, LEDGER_HASH_LEN) == 0
		? VOTE_REPLAY : VOTE_CONFLICT;
	return 0;
}

static int store_pending(ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p, enum vote vote,
			 bool holding)
{
	size_t n = yima__cluster__v1__prepare__get_packed_size(p);
	uint8_t key[1 + TXN_LEN], *val = malloc(n + 2);
	int rc;

	if (val == NULL)
		return YIMA_ENOMEM;
	val[0] = (uint8_t)vote;
	val[1] = holding ? 1 : 0;
	yima__cluster__v1__prepare__pack(p, val + 2);
	txn_key(AUX_PENDING, &p->txn, key);
	rc = ledger_aux_put(txn, key, sizeof key, val, n + 2);
	free(val);
	return rc;
}

int view_claim_prepare(view_t *v, ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p)
{
	uint8_t key[1 + TXN_LEN];
	yima_slice_t val;
	verify_input_t *items = NULL;
	keylist_t keys = { 0, NULL, NULL };
	enum vote vote = VOTE_NONE;
	size_t n = 0;
	int rc;

	if (p->txn.len != TXN_LEN || p->facility == NULL || p->settlement == NULL)
		return 0;
	txn_key(AUX_DECIDED, &p->txn, key);
	if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) != YIMA_ENOTFOUND)
		return rc;	/* decided already (or a failure) */
	txn_key(AUX_PENDING, &p->txn, key);
	if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) != YIMA_ENOTFOUND)
		return rc;	/* a copy of a prepare we have */
	if ((rc = prepare_inputs(p, v->k, &items, &n)) < 0 || (rc = claim_keys(v, p, items, n, &keys)) < 0)
		goto free_items;
	if (v->barriers > 0 || any_held(v, &keys))
		vote = VOTE_BUSY;
	else if (p->home == v->k && (rc = home_vote(txn, p, &vote)) < 0)
		goto free_items;
	if (vote == VOTE_NONE && (rc = evaluate(txn, p, items, n, &vote)) < 0)
		goto free_items;
	bool holding = vote == VOTE_ACCEPT || vote == VOTE_REJECT;
	if (holding) {
		for (size_t i = 0; i < keys.n && rc == 0; i++)
			if (keyset_add(&v->held, keys.k[i], keys.len[i]) < 0)
				rc = YIMA_ENOMEM;
		v->holding++;
	}
	if (rc == 0)
		rc = store_pending(txn, p, vote, holding);
	if (rc == 0 && p->n_participants == 1) {
		/* the only participant: its vote is the decision, taken now
		 * (every node alike), one round instead of two */
		Yima__Cluster__V1__Decide d = YIMA__CLUSTER__V1__DECIDE__INIT;
		d.txn = p->txn;
		d.decision = claim_decision(&vote, 1);
		if ((rc = view_claim_decide(v, txn, &d)) == 0)
			rc = view_drain(v, txn);
	}
free_items:
	keys_free(&keys);
	free(items);
	return rc;
}

/* Record this partition's codes as decided; *first: the first record. */
static int record(ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p, verify_input_t *items,
		  size_t n, bool void_claim, uint64_t *first)
{
	outcome_t out;
	int rc;

	if (n == 0)
		return 0;
	if ((rc = outcome_init(&out, n)) < 0)
		return rc;
	rc = claim_record_decided(txn, yima_slice_cstr(p->facility), yima_slice_cstr(p->settlement),
				  items, n, void_claim, &out);
	*first = out.first_seq;
	outcome_deinit(&out);
	return rc;
}

static int remember(ledger_txn_t *txn, const ProtobufCBinaryData *t, Yima__Cluster__V1__Decision d,
		    uint64_t first, uint64_t count)
{
	uint8_t key[1 + TXN_LEN], val[17];

	txn_key(AUX_DECIDED, t, key);
	val[0] = (uint8_t)d;
	put_u64be(val + 1, first);
	put_u64be(val + 9, count);
	return ledger_aux_put(txn, key, sizeof key, val, sizeof val);
}

static int settled(ledger_txn_t *txn, const Yima__Cluster__V1__Prepare *p)
{
	buf_t k;
	uint8_t val[LEDGER_HASH_LEN + TXN_LEN] = { 0 };
	int rc;

	buf_init(&k);
	buf_putc(&k, AUX_SETTLED);
	buf_puts(&k, p->facility);
	buf_putc(&k, 0);
	buf_puts(&k, p->settlement);
	if (p->content.len == LEDGER_HASH_LEN)
		memcpy(val, p->content.data, LEDGER_HASH_LEN);
	memcpy(val + LEDGER_HASH_LEN, p->txn.data, TXN_LEN);
	rc = k.oom ? YIMA_ENOMEM : ledger_aux_put(txn, k.p, k.len, val, sizeof val);
	buf_deinit(&k);
	return rc;
}

/* Decide a claim we hold a prepare of (its aux "P" value, copied). */
static int decide_pending(view_t *v, ledger_txn_t *txn, const uint8_t *pv, size_t pn,
			  const Yima__Cluster__V1__Decide *d)
{
	Yima__Cluster__V1__Prepare *p = yima__cluster__v1__prepare__unpack(NULL, pn - 2, pv + 2);
	verify_input_t *items = NULL;
	keylist_t keys = { 0, NULL, NULL };
	uint64_t first = 0, count = 0;
	size_t n = 0;
	int rc;

	if (p == NULL)
		return YIMA_ECORRUPT;
	if ((rc = prepare_inputs(p, v->k, &items, &n)) < 0)
		goto free_p;
	if (pv[1]) {	/* holding: release, and record */
		if ((rc = claim_keys(v, p, items, n, &keys)) < 0)
			goto free_p;
		for (size_t i = 0; i < keys.n; i++)
			keyset_remove(&v->held, keys.k[i], keys.len[i]);
		v->holding--;
		if (d->decision == YIMA__CLUSTER__V1__DECISION__COMMIT ||
		    d->decision == YIMA__CLUSTER__V1__DECISION__ABORT_REJECT) {
			count = n;
			rc = record(txn, p, items, n, d->decision != YIMA__CLUSTER__V1__DECISION__COMMIT, &first);
		}
		if (rc == 0 && p->home == v->k && d->decision == YIMA__CLUSTER__V1__DECISION__COMMIT)
			rc = settled(txn, p);
	}
	if (rc == 0)
		rc = remember(txn, &d->txn, d->decision, first, count);
	if (rc == 0) {
		uint8_t key[1 + TXN_LEN];
		txn_key(AUX_PENDING, &d->txn, key);
		rc = ledger_aux_del(txn, key, sizeof key);
	}
free_p:
	keys_free(&keys);
	free(items);
	yima__cluster__v1__prepare__free_unpacked(p, NULL);
	return rc;
}

int view_claim_decide(view_t *v, ledger_txn_t *txn, const Yima__Cluster__V1__Decide *d)
{
	uint8_t key[1 + TXN_LEN], *pv;
	yima_slice_t val;
	int rc;

	if (d->txn.len != TXN_LEN)
		return 0;
	txn_key(AUX_DECIDED, &d->txn, key);
	if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) != YIMA_ENOTFOUND)
		return rc;	/* a second decision: the first one stands */
	txn_key(AUX_PENDING, &d->txn, key);
	rc = ledger_aux_get(txn, key, sizeof key, &val);
	if (rc == YIMA_ENOTFOUND)	/* before its prepare: a late prepare is ignored */
		return remember(txn, &d->txn, d->decision, 0, 0);
	if (rc < 0)
		return rc;
	if (val.n < 2 || (pv = malloc(val.n)) == NULL)
		return val.n < 2 ? YIMA_ECORRUPT : YIMA_ENOMEM;
	memcpy(pv, val.p, val.n);
	rc = decide_pending(v, txn, pv, val.n, d);
	free(pv);
	return rc;
}
