/*
 * view.c - a partition ledger as a deterministic view of its stream
 * (docs/cluster.md, "Nodes and their views").
 *
 * Each stream message is applied in order, in a write transaction that
 * also stores the message's sequence (aux "A"), so a restart resumes
 * exactly where it stopped.  Everything the view does is a function of the
 * stream: events go through batch_apply() as yimad applies them, claims
 * through prepare and decide (view_claim.c), admin rows as the ledger
 * records them.  What cannot go yet waits in a queue kept in the same
 * transaction (aux "Q"):
 *  - an event batch part with a code held by an undecided claim, or by an
 *    operation already waiting, waits (and holds its own codes for those
 *    after it), and goes right after the decision that frees it;
 *  - an admin change waits while any claim holds codes or anything waits,
 *    and everything after it waits behind it (a barrier), so a claim is
 *    never evaluated under one catalog and recorded under another.
 * The held and waiting codes are also kept in memory (keysets), rebuilt
 * from the aux table at open and after a failed commit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_int.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"
#include "yima/verifier/batch.h"

/* A deferred operation. */
struct qop {
	struct qop *next;
	uint64_t seq;
	uint32_t idx;
	bool admin;
	uint8_t *bytes;
	size_t len;
	keylist_t keys;
};

/* ---- keys ---------------------------------------------------------------------- */

void keys_free(keylist_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->k[i]);
	free(l->k);
	free(l->len);
	memset(l, 0, sizeof *l);
}

int keys_push(keylist_t *l, const char *k, size_t n)
{
	char **kk = realloc(l->k, (l->n + 1) * sizeof *kk);
	if (kk == NULL)
		return YIMA_ENOMEM;
	l->k = kk;
	size_t *ll = realloc(l->len, (l->n + 1) * sizeof *ll);
	if (ll == NULL)
		return YIMA_ENOMEM;
	l->len = ll;
	if ((l->k[l->n] = malloc(n ? n : 1)) == NULL)
		return YIMA_ENOMEM;
	memcpy(l->k[l->n], k, n);
	l->len[l->n++] = n;
	return 0;
}

static bool keys_busy(const view_t *v, const keylist_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (keyset_has(&v->held, l->k[i], l->len[i]) || keyset_has(&v->queued, l->k[i], l->len[i]))
			return true;
	return false;
}

static int keys_into(keyset_t *s, const keylist_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (keyset_add(s, l->k[i], l->len[i]) < 0)
			return YIMA_ENOMEM;
	return 0;
}

/* The canonical codes of an events part (its rows without one hold
 * nothing). */
static int events_keys(const Yima__Cluster__V1__EventsPart *e, keylist_t *l)
{
	verify_input_t in;
	int rc;

	for (size_t i = 0; i < e->n_events; i++) {
		envelope_input_decode(e->events[i], &in);
		if (in.status == 0 && (rc = keys_push(l, in.code.canon, in.code.canon_len)) < 0)
			return rc;
	}
	return 0;
}

/* ---- the queue ----------------------------------------------------------------- */

static void qop_free(struct qop *q)
{
	if (q == NULL)
		return;
	keys_free(&q->keys);
	free(q->bytes);
	free(q);
}

static void queue_key(uint64_t seq, uint32_t idx, uint8_t key[13])
{
	key[0] = AUX_QUEUE;
	put_u64be(key + 1, seq);
	for (int i = 0; i < 4; i++)
		key[9 + i] = (uint8_t)(idx >> (24 - 8 * i));
}

static void queue_append(view_t *v, struct qop *q)
{
	q->next = NULL;
	if (v->queue_tail != NULL)
		v->queue_tail->next = q;
	else
		v->queue = q;
	v->queue_tail = q;
	if (q->admin)
		v->barriers++;
}

/* Defer op (its packed bytes) with its keys. */
static int defer(view_t *v, ledger_txn_t *txn, uint64_t seq, uint32_t idx, bool admin,
		 const Yima__Cluster__V1__Op *op, keylist_t *keys)
{
	struct qop *q = calloc(1, sizeof *q);
	uint8_t key[13];
	int rc;

	if (q == NULL)
		return YIMA_ENOMEM;
	q->seq = seq;
	q->idx = idx;
	q->admin = admin;
	q->keys = *keys;
	memset(keys, 0, sizeof *keys);
	if ((rc = envelope_pack_op(op, &q->bytes, &q->len)) < 0 || (rc = keys_into(&v->queued, &q->keys)) < 0) {
		qop_free(q);
		return rc;
	}
	queue_key(seq, idx, key);
	queue_append(v, q);
	return ledger_aux_put(txn, key, sizeof key, q->bytes, q->len);
}

/* ---- events and admin -------------------------------------------------------- */

static int apply_events(ledger_txn_t *txn, const Yima__Cluster__V1__EventsPart *e)
{
	verify_input_t *items = calloc(e->n_events ? e->n_events : 1, sizeof *items);
	outcome_t out;
	int rc;

	if (items == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < e->n_events; i++)
		envelope_input_decode(e->events[i], &items[i]);
	if ((rc = outcome_init(&out, e->n_events)) == 0) {
		uint8_t content[LEDGER_HASH_LEN] = { 0 };
		if (e->content.len == LEDGER_HASH_LEN)
			memcpy(content, e->content.data, LEDGER_HASH_LEN);
		rc = batch_apply(txn, yima_slice_cstr(e->owner), yima_slice_cstr(e->batch_id), content,
				 items, e->n_events, &out);
		outcome_deinit(&out);
	}
	free(items);
	return rc;
}

static int apply_admin(ledger_txn_t *txn, const Yima__Cluster__V1__Admin *a)
{
	catalog_entry_t ce;
	const char *key = a->key ? a->key : "";
	int rc;

	switch (a->op_case) {
	case YIMA__CLUSTER__V1__ADMIN__OP_CATALOG:
		memset(&ce, 0, sizeof ce);
		ce.max_units_30d = a->catalog->max_units_30d;
		snprintf(ce.product, sizeof ce.product, "%s", a->catalog->product);
		snprintf(ce.drug, sizeof ce.drug, "%s", a->catalog->drug);
		ce.pack_units = a->catalog->pack_units;
		ce.name = yima_slice((const char *)a->catalog->name.data, a->catalog->name.len);
		ce.spec = yima_slice((const char *)a->catalog->spec.data, a->catalog->spec.len);
		return ledger_catalog_put(txn, &ce);
	case YIMA__CLUSTER__V1__ADMIN__OP_RECALL_ADD_KIND:
		rc = ledger_recall_add(txn, (enum recall_kind)a->recall_add_kind, key, strlen(key));
		return rc == YIMA_EEXIST ? 0 : rc;	/* already on the list: nothing */
	case YIMA__CLUSTER__V1__ADMIN__OP_RECALL_REMOVE_KIND:
		rc = ledger_recall_remove(txn, (enum recall_kind)a->recall_remove_kind, key, strlen(key));
		return rc == YIMA_ENOTFOUND ? 0 : rc;
	case YIMA__CLUSTER__V1__ADMIN__OP_REFUND_WINDOW_DAYS:
		return ledger_refund_window_set(txn, a->refund_window_days);
	default:
		return 0;	/* an admin op this version does not know: nothing */
	}
}

static int apply_op(view_t *v, ledger_txn_t *txn, uint64_t seq, uint32_t idx,
		    const Yima__Cluster__V1__Op *op)
{
	keylist_t keys = { 0, NULL, NULL };
	int rc = 0;

	switch (op->op_case) {
	case YIMA__CLUSTER__V1__OP__OP_EVENTS:
		if ((rc = events_keys(op->events, &keys)) < 0)
			break;
		if (v->barriers > 0 || keys_busy(v, &keys))
			rc = defer(v, txn, seq, idx, false, op, &keys);
		else
			rc = apply_events(txn, op->events);
		break;
	case YIMA__CLUSTER__V1__OP__OP_ADMIN:
		if (v->holding > 0 || v->queue != NULL)
			rc = defer(v, txn, seq, idx, true, op, &keys);
		else
			rc = apply_admin(txn, op->admin);
		break;
	case YIMA__CLUSTER__V1__OP__OP_PREPARE:
		rc = view_claim_prepare(v, txn, op->prepare);
		break;
	case YIMA__CLUSTER__V1__OP__OP_DECIDE:
		if ((rc = view_claim_decide(v, txn, op->decide)) == 0)
			rc = view_drain(v, txn);
		break;
	default:
		break;
	}
	keys_free(&keys);
	return rc;
}

/* Apply what waited, in order, as far as it can go now.  An event part
 * goes when no undecided claim holds its codes and nothing kept before it
 * shares one; an admin change when no claim holds codes and nothing is
 * kept before it; the rest stays, in order. */
int view_drain(view_t *v, ledger_txn_t *txn)
{
	struct qop *q = v->queue, *next, *kept = NULL, *kept_tail = NULL;
	keyset_t before;
	bool barrier = false;	/* an admin change stays: all after it stay */
	int rc = 0;

	if (q == NULL)
		return 0;
	keyset_init(&before);
	keyset_clear(&v->queued);
	v->queue = v->queue_tail = NULL;
	v->barriers = 0;
	for (; q != NULL; q = next) {
		next = q->next;
		bool go = rc == 0 && !barrier;
		if (go && q->admin)
			go = v->holding == 0 && kept == NULL;
		for (size_t i = 0; go && i < q->keys.n; i++)
			go = !keyset_has(&v->held, q->keys.k[i], q->keys.len[i]) &&
			     !keyset_has(&before, q->keys.k[i], q->keys.len[i]);
		if (go) {
			Yima__Cluster__V1__Op *op = yima__cluster__v1__op__unpack(NULL, q->len, q->bytes);
			uint8_t key[13];
			if (op != NULL) {
				rc = q->admin ? apply_admin(txn, op->admin) : apply_events(txn, op->events);
				yima__cluster__v1__op__free_unpacked(op, NULL);
			}
			queue_key(q->seq, q->idx, key);
			if (rc == 0)
				ledger_aux_del(txn, key, sizeof key);
			qop_free(q);
			continue;
		}
		if (keys_into(&before, &q->keys) < 0 || keys_into(&v->queued, &q->keys) < 0)
			rc = YIMA_ENOMEM;
		if (kept_tail != NULL)
			kept_tail->next = q;
		else
			kept = q;
		kept_tail = q;
		q->next = NULL;
		if (q->admin) {
			v->barriers++;
			barrier = true;
		}
	}
	v->queue = kept;
	v->queue_tail = kept_tail;
	keyset_clear(&before);
	return rc < 0 ? rc : ledger_txn_err(txn);
}

/* ---- messages -------------------------------------------------------------------- */

int view_apply_message(view_t *v, ledger_txn_t *txn, uint64_t seq, const void *data, size_t len)
{
	Yima__Cluster__V1__Envelope *e = yima__cluster__v1__envelope__unpack(NULL, len, data);
	uint8_t be[8];
	int rc = 0;

	if (e == NULL) {
		/* every node skips it alike: the stream is the same for all */
		cluster_log(v->node->o.quiet, "p%u: message %llu does not decode, skipped", v->k,
			    (unsigned long long)seq);
	} else {
		for (size_t i = 0; i < e->n_ops && rc == 0; i++)
			rc = apply_op(v, txn, seq, (uint32_t)i, e->ops[i]);
		yima__cluster__v1__envelope__free_unpacked(e, NULL);
	}
	put_u64be(be, seq);
	if (rc == 0)
		rc = ledger_aux_put(txn, AUX_APPLIED, 1, be, sizeof be);
	return rc;
}

/* ---- state ---------------------------------------------------------------------- */

static void state_reset(view_t *v)
{
	struct qop *q, *next;

	for (q = v->queue; q != NULL; q = next) {
		next = q->next;
		qop_free(q);
	}
	v->queue = v->queue_tail = NULL;
	keyset_clear(&v->held);
	keyset_clear(&v->queued);
	v->holding = 0;
	v->barriers = 0;
}

static int load_pending(void *arg, yima_slice_t key, yima_slice_t val)
{
	view_t *v = arg;
	Yima__Cluster__V1__Prepare *p;
	verify_input_t *items = NULL;
	keylist_t keys = { 0, NULL, NULL };
	size_t n = 0;
	int rc = 0;

	(void)key;
	if (val.n < 2 || val.p[1] == 0)
		return 0;	/* not holding */
	if ((p = yima__cluster__v1__prepare__unpack(NULL, val.n - 2, (const uint8_t *)val.p + 2)) == NULL)
		return YIMA_ECORRUPT;
	if ((rc = prepare_inputs(p, v->k, &items, &n)) == 0) {
		for (size_t i = 0; i < n && rc == 0; i++)
			if (items[i].status == 0)
				rc = keys_push(&keys, items[i].code.canon, items[i].code.canon_len);
		if (rc == 0 && p->home == v->k) {
			buf_t sk;
			buf_init(&sk);
			settle_key(p->facility, p->settlement, &sk);
			rc = sk.oom ? YIMA_ENOMEM : keys_push(&keys, (const char *)sk.p, sk.len);
			buf_deinit(&sk);
		}
	}
	if (rc == 0 && (rc = keys_into(&v->held, &keys)) == 0)
		v->holding++;
	keys_free(&keys);
	free(items);
	yima__cluster__v1__prepare__free_unpacked(p, NULL);
	return rc;
}

static int load_queued(void *arg, yima_slice_t key, yima_slice_t val)
{
	view_t *v = arg;
	struct qop *q;
	Yima__Cluster__V1__Op *op;
	int rc = 0;

	if (key.n != 13 || (q = calloc(1, sizeof *q)) == NULL)
		return key.n != 13 ? YIMA_ECORRUPT : YIMA_ENOMEM;
	q->seq = get_u64be((const uint8_t *)key.p + 1);
	for (int i = 0; i < 4; i++)
		q->idx = q->idx << 8 | (uint8_t)key.p[9 + i];
	if ((q->bytes = malloc(val.n ? val.n : 1)) == NULL ||
	    (op = yima__cluster__v1__op__unpack(NULL, val.n, (const uint8_t *)val.p)) == NULL) {
		qop_free(q);
		return YIMA_ECORRUPT;
	}
	memcpy(q->bytes, val.p, val.n);
	q->len = val.n;
	q->admin = op->op_case == YIMA__CLUSTER__V1__OP__OP_ADMIN;
	if (op->op_case == YIMA__CLUSTER__V1__OP__OP_EVENTS)
		rc = events_keys(op->events, &q->keys);
	yima__cluster__v1__op__free_unpacked(op, NULL);
	if (rc == 0 && (rc = keys_into(&v->queued, &q->keys)) == 0) {
		queue_append(v, q);
		return 0;
	}
	qop_free(q);
	return rc;
}

int view_state_load(view_t *v, char *why, size_t whylen)
{
	ledger_txn_t *txn;
	yima_slice_t val;
	char p = AUX_PENDING, q = AUX_QUEUE;
	int rc;

	state_reset(v);
	if ((rc = ledger_txn_begin(v->lg, false, &txn)) < 0)
		return yima_fail(why, whylen, rc, "p%u: %s", v->k, yima_strerror(rc));
	v->applied = 0;
	if (ledger_aux_get(txn, AUX_APPLIED, 1, &val) == 0 && val.n == 8)
		v->applied = get_u64be((const uint8_t *)val.p);
	if ((rc = ledger_aux_scan(txn, &p, 1, load_pending, v)) == 0)
		rc = ledger_aux_scan(txn, &q, 1, load_queued, v);
	ledger_txn_abort(txn);
	if (rc < 0)
		return yima_fail(why, whylen, rc, "p%u: view state: %s", v->k, yima_strerror(rc));
	return 0;
}

/* ---- open, close, waiting ----------------------------------------------------------- */

/* The partition ledger gets the node's key file `name` (the cluster's
 * patient key; the log's signing key) before it is made, so every node
 * keys and signs alike.  A missing optional one is left to the ledger. */
static int copy_key(const char *from, const char *dir, const char *name, bool optional, char *why,
		    size_t whylen)
{
	char path[4096], buf[512];
	int in, out;
	ssize_t n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (access(path, F_OK) == 0 || (optional && access(from, F_OK) != 0))
		return 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", dir, strerror(errno));
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", from, strerror(errno));
	n = read(in, buf, sizeof buf);
	close(in);
	if (n < 32 || n == (ssize_t)sizeof buf)
		return yima_fail(why, whylen, YIMA_ECORRUPT, "%s: not a key file", from);
	if ((out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	bool ok = write(out, buf, (size_t)n) == n && fsync(out) == 0;
	explicit_bzero(buf, sizeof buf);
	if (close(out) != 0 || !ok)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

int view_open(struct cluster_node *node, unsigned k, const char *dir, view_t **out, char *why,
	      size_t whylen)
{
	view_t *v = calloc(1, sizeof *v);
	char key[4096];
	int rc;

	*out = NULL;
	if (v == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	v->node = node;
	v->k = k;
	keyset_init(&v->held);
	keyset_init(&v->queued);
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	snprintf(key, sizeof key, "%s/patient.key", node->dir);
	if ((rc = copy_key(key, dir, "patient.key", false, why, whylen)) < 0)
		goto fail;
	snprintf(key, sizeof key, "%s/log.key", node->dir);
	if ((rc = copy_key(key, dir, "log.key", true, why, whylen)) < 0)
		goto fail;
	/* A view needs no flush per commit: the stream holds what it applied,
	 * and a view that lost its last commits re-applies them (docs/cluster.md). */
	if ((rc = ledger_open(dir, LEDGER_CREATE | LEDGER_SMALL_COMMITS | LEDGER_NOSYNC, &v->lg, why,
			      whylen)) < 0)
		goto fail;
	/* each partition its own log, named alike on every node */
	snprintf(key, sizeof key, "%s.yima-cluster/p%u", node->name, k);
	if ((rc = ledger_log_start(v->lg, key, why, whylen)) < 0 ||
	    (rc = view_state_load(v, why, whylen)) < 0)
		goto fail;
	*out = v;
	return 0;
fail:
	view_close(v);
	return rc;
}

void view_close(view_t *v)
{
	if (v == NULL)
		return;
	state_reset(v);
	if (v->lg != NULL) {
		ledger_sync(v->lg);
		ledger_close(v->lg);
	}
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

uint64_t view_applied(view_t *v)
{
	pthread_mutex_lock(&v->mu);
	uint64_t a = v->applied;
	pthread_mutex_unlock(&v->mu);
	return a;
}

static void timed_wait(view_t *v, double deadline)
{
	struct timespec ts;
	double left = deadline - cluster_now();

	if (left > 0.1)
		left = 0.1;	/* wake now and then: the node may be stopping */
	if (left < 0)
		left = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(left * 1e9);
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&v->cv, &v->mu, &ts);
}

int view_wait(view_t *v, uint64_t seq, double deadline)
{
	int rc = 0;

	pthread_mutex_lock(&v->mu);
	while (v->applied < seq) {
		if (cluster_now() >= deadline || atomic_load(&v->node->stop)) {
			rc = YIMA_EUNAVAIL;
			break;
		}
		timed_wait(v, deadline);
	}
	pthread_mutex_unlock(&v->mu);
	return rc;
}

void view_wait_change(view_t *v, uint64_t seen, double deadline)
{
	pthread_mutex_lock(&v->mu);
	if (v->applied == seen && cluster_now() < deadline)
		timed_wait(v, deadline);
	pthread_mutex_unlock(&v->mu);
}
