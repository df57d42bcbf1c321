/*
 * recovery.c - claims whose coordinator went away (docs/cluster.md, "A
 * coordinator that dies").
 *
 * Twice a second the thread lists every served view's undecided prepares
 * (aux "P"); one this node has seen undecided for 2 s (its own clock: what
 * it then does is deterministic) is driven to its decision from the
 * prepare the stream holds: published again to every participant (a
 * participant that has it ignores the copy; one that never got it votes
 * now), votes read, decision published.  Several nodes may do so at once:
 * the decision is a function of the votes, and a participant keeps the
 * first decision it gets.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "yima/util/error.h"

struct seen {
	uint8_t txn[TXN_LEN];
	double first;
	bool still;		/* listed in this round */
};

struct scan {
	struct seen *s;
	size_t n, cap;
	uint8_t (*due)[TXN_LEN];
	unsigned *due_k;
	size_t ndue, capdue;
	unsigned k;
	double now;
};

static int note(void *arg, yima_slice_t key, yima_slice_t val)
{
	struct scan *sc = arg;
	size_t i;

	(void)val;
	if (key.n != 1 + TXN_LEN)
		return 0;
	for (i = 0; i < sc->n && memcmp(sc->s[i].txn, key.p + 1, TXN_LEN) != 0; i++)
		;
	if (i == sc->n) {
		if (sc->n == sc->cap) {
			size_t cap = sc->cap ? sc->cap * 2 : 64;
			struct seen *s = realloc(sc->s, cap * sizeof *s);
			if (s == NULL)
				return 1;
			sc->s = s;
			sc->cap = cap;
		}
		memcpy(sc->s[i].txn, key.p + 1, TXN_LEN);
		sc->s[i].first = sc->now;
		sc->n++;
	}
	sc->s[i].still = true;
	if (sc->now - sc->s[i].first >= CLUSTER_RECOVER_AFTER_S) {
		if (sc->ndue == sc->capdue) {
			size_t cap = sc->capdue ? sc->capdue * 2 : 16;
			uint8_t (*d)[TXN_LEN] = realloc(sc->due, cap * sizeof *d);
			unsigned *dk = d ? realloc(sc->due_k, cap * sizeof *dk) : NULL;
			if (d != NULL)
				sc->due = d;
			if (dk == NULL)
				return 1;
			sc->due_k = dk;
			sc->capdue = cap;
		}
		memcpy(sc->due[sc->ndue], key.p + 1, TXN_LEN);
		sc->due_k[sc->ndue++] = sc->k;
		sc->s[i].first = sc->now;	/* next try in 2 s if this one fails */
	}
	return 0;
}

/* The stored prepare of txn in view v, as an Op to publish again. */
static int stored_op(view_t *v, const uint8_t *t, uint8_t **op, size_t *len)
{
	uint8_t key[1 + TXN_LEN];
	yima_slice_t val;
	ledger_txn_t *txn;
	int rc = ledger_txn_begin(v->lg, false, &txn);

	if (rc < 0)
		return rc;
	key[0] = AUX_PENDING;
	memcpy(key + 1, t, TXN_LEN);
	if ((rc = ledger_aux_get(txn, key, sizeof key, &val)) == 0) {
		Yima__Cluster__V1__Prepare *p =
			val.n >= 2 ? yima__cluster__v1__prepare__unpack(NULL, val.n - 2, (const uint8_t *)val.p + 2) : NULL;
		Yima__Cluster__V1__Op o = YIMA__CLUSTER__V1__OP__INIT;
		if (p == NULL) {
			rc = YIMA_ECORRUPT;
		} else {
			o.op_case = YIMA__CLUSTER__V1__OP__OP_PREPARE;
			o.prepare = p;
			rc = envelope_pack_op(&o, op, len);
			yima__cluster__v1__prepare__free_unpacked(p, NULL);
		}
	}
	ledger_txn_abort(txn);
	return rc;
}

static void recover(cluster_node_t *n, struct scan *sc)
{
	for (size_t i = 0; i < sc->ndue && !atomic_load(&n->stop); i++) {
		uint8_t *op = NULL;
		size_t len;
		char why[256];
		Yima__Cluster__V1__Decision d;
		if (stored_op(n->views[sc->due_k[i]], sc->due[i], &op, &len) < 0)
			continue;	/* decided meanwhile */
		if (claim_drive(n, op, len, cluster_now() + CLUSTER_DEADLINE_S, &d, NULL, why, sizeof why) == 0) {
			atomic_fetch_add(&n->recovered, 1);
			cluster_log(n->o.quiet, "p%u: decided a claim left undecided (decision %d)", sc->due_k[i],
				    (int)d);
		} else {
			cluster_log(n->o.quiet, "p%u: an undecided claim: %s", sc->due_k[i], why);
		}
		free(op);
	}
}

static void round_once(cluster_node_t *n, struct scan *sc)
{
	char p = AUX_PENDING;

	sc->now = cluster_now();
	sc->ndue = 0;
	for (size_t i = 0; i < sc->n; i++)
		sc->s[i].still = false;
	for (unsigned k = 0; k < n->P; k++) {
		ledger_txn_t *txn;
		if (n->views[k] == NULL || ledger_txn_begin(n->views[k]->lg, false, &txn) < 0)
			continue;
		sc->k = k;
		ledger_aux_scan(txn, &p, 1, note, sc);
		ledger_txn_abort(txn);
	}
	/* forget what is decided */
	size_t j = 0;
	for (size_t i = 0; i < sc->n; i++)
		if (sc->s[i].still)
			sc->s[j++] = sc->s[i];
	sc->n = j;
	recover(n, sc);
}

static void *recovery_main(void *arg)
{
	cluster_node_t *n = arg;
	struct scan sc;

	pthread_setname_np(pthread_self(), "yima-recover");

	memset(&sc, 0, sizeof sc);
	while (!atomic_load(&n->stop)) {
		round_once(n, &sc);
		for (int i = 0; i < 5 && !atomic_load(&n->stop); i++)
			nats_Sleep(100);
	}
	free(sc.s);
	free(sc.due);
	free(sc.due_k);
	nats_ReleaseThreadMemory();
	return NULL;
}

int recovery_start(cluster_node_t *n)
{
	if (pthread_create(&n->recovery, NULL, recovery_main, n) != 0)
		return YIMA_ENOMEM;
	n->recovery_started = true;
	return 0;
}

void recovery_stop(cluster_node_t *n)
{
	if (n->recovery_started)
		pthread_join(n->recovery, NULL);
	n->recovery_started = false;
}
