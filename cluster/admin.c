/*
 * admin.c - admin changes through the streams (docs/cluster.md, "Admin
 * changes"): `yima catalog load`, `yima recall add|remove` and
 * `yima cluster refund-window` with --nats publish each change to every
 * partition, so every partition has one total order of events and
 * settings.  The views apply them as barriers (view.c).
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_int.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"

struct cluster_admin {
	cnats_t nats;
	unsigned P;
	publisher_t **pubs;
	struct sent {
		unsigned k;
		pub_op_t *op;
	} *sent;		/* submitted, not yet waited for */
	size_t nsent, capsent;
};

unsigned cluster_admin_partitions(const cluster_admin_t *a)
{
	return a->P;
}

int cluster_admin_open(const char *nats, const char *name, cluster_admin_t **out, char *why,
		       size_t whylen)
{
	cluster_admin_t *a = calloc(1, sizeof *a);
	uint8_t r[4];
	char id[80], hex[9];
	int rc;

	*out = NULL;
	if (a == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	if ((rc = cnats_connect(&a->nats, nats, name ? name : "yima", why, whylen)) < 0)
		goto fail;
	for (int tries = 0; tries < 300; tries++) {
		jsAccountInfo *ai = NULL;
		if (js_GetAccountInfo(&ai, a->nats.js, NULL, NULL) == NATS_OK) {
			jsAccountInfo_Destroy(ai);
			break;
		}
		nats_Sleep(100);
	}
	a->nats.max_payload = natsConnection_GetMaxPayload(a->nats.nc);
	if ((rc = cnats_discover(&a->nats, &a->P, why, whylen)) < 0)
		goto fail;
	if (RAND_bytes(r, sizeof r) != 1) {
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "no randomness");
		goto fail;
	}
	hex_encode(r, sizeof r, hex);
	hex[8] = '\0';
	snprintf(id, sizeof id, "admin-%d-%s", (int)getpid(), hex);
	if ((a->pubs = calloc(a->P, sizeof *a->pubs)) == NULL) {
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
		goto fail;
	}
	for (unsigned k = 0; k < a->P; k++)
		if ((rc = publisher_start(&a->nats, k, id, true, 1, &a->pubs[k])) < 0) {
			yima_fail(why, whylen, rc, "cannot start a publisher");
			goto fail;
		}
	*out = a;
	return 0;
fail:
	cluster_admin_close(a);
	return rc;
}

void cluster_admin_close(cluster_admin_t *a)
{
	if (a == NULL)
		return;
	for (unsigned k = 0; a->pubs != NULL && k < a->P; k++)
		publisher_stop(a->pubs[k]);
	cnats_close(&a->nats);
	free(a->pubs);
	free(a->sent);
	free(a);
}

/* Queue op for every partition (in submission order per partition). */
static int submit_all(cluster_admin_t *a, const Yima__Cluster__V1__Admin *ad)
{
	Yima__Cluster__V1__Op op = YIMA__CLUSTER__V1__OP__INIT;

	op.op_case = YIMA__CLUSTER__V1__OP__OP_ADMIN;
	op.admin = (Yima__Cluster__V1__Admin *)ad;
	for (unsigned k = 0; k < a->P; k++) {
		uint8_t *b;
		size_t len;
		int rc = envelope_pack_op(&op, &b, &len);
		if (rc < 0)
			return rc;
		pub_op_t *o = pub_op_new(b, len);
		if (o == NULL)
			return YIMA_ENOMEM;
		if (a->nsent == a->capsent) {
			size_t cap = a->capsent ? a->capsent * 2 : 256;
			struct sent *sn = realloc(a->sent, cap * sizeof *sn);
			if (sn == NULL) {
				pub_op_free(o);
				return YIMA_ENOMEM;
			}
			a->sent = sn;
			a->capsent = cap;
		}
		a->sent[a->nsent].k = k;
		a->sent[a->nsent++].op = o;
		publisher_submit(a->pubs[k], o);
	}
	return 0;
}

/* Wait until every partition acknowledged what was submitted. */
static int flush_all(cluster_admin_t *a, char *why, size_t whylen)
{
	int rc = 0;

	for (size_t i = 0; i < a->nsent; i++) {
		unsigned k = a->sent[i].k;
		int r = publisher_wait(a->pubs[k], a->sent[i].op, cluster_now() + 60);
		if (r != YIMA_EUNAVAIL)
			pub_op_free(a->sent[i].op);
		if (r < 0 && rc == 0)
			rc = yima_fail(why, whylen, r, "partition %u: %s", k, yima_strerror(r));
	}
	a->nsent = 0;
	return rc;
}

struct cat_walk {
	cluster_admin_t *a;
	uint64_t rows;
	int rc;
};

static int on_admin(void *arg, const ledger_admin_t *ad)
{
	struct cat_walk *w = arg;
	Yima__Cluster__V1__Admin m = YIMA__CLUSTER__V1__ADMIN__INIT;
	Yima__Cluster__V1__CatalogRow row = YIMA__CLUSTER__V1__CATALOG_ROW__INIT;

	if (ad->kind != ADMIN_CATALOG)
		return 0;
	row.product = (char *)ad->cat.product;
	row.drug = (char *)ad->cat.drug;
	row.pack_units = ad->cat.pack_units;
	row.max_units_30d = ad->cat.max_units_30d;
	row.name.data = (uint8_t *)ad->cat.name.p;
	row.name.len = ad->cat.name.n;
	row.spec.data = (uint8_t *)ad->cat.spec.p;
	row.spec.len = ad->cat.spec.n;
	m.op_case = YIMA__CLUSTER__V1__ADMIN__OP_CATALOG;
	m.catalog = &row;
	if ((w->rc = submit_all(w->a, &m)) < 0)
		return w->rc;
	w->rows++;
	return 0;
}

static int on_event(void *arg, const ledger_event_t *ev)
{
	(void)arg;
	(void)ev;
	return 0;
}

int cluster_admin_catalog(cluster_admin_t *a, ledger_t *scratch, uint64_t *rows, char *why,
			  size_t whylen)
{
	static const ledger_walk_fns_t fns = { on_event, on_admin };
	struct cat_walk w = { a, 0, 0 };
	ledger_txn_t *txn;
	uint64_t records;
	int rc = ledger_txn_begin(scratch, false, &txn);

	if (rc < 0)
		return yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	rc = ledger_chain_walk(txn, &fns, &w, &records, why, whylen);
	ledger_txn_abort(txn);
	*rows = w.rows;
	if (rc < 0)
		return rc;
	return flush_all(a, why, whylen);
}

int cluster_admin_recall(cluster_admin_t *a, bool add, enum recall_kind k, const char *key,
			 char *why, size_t whylen)
{
	Yima__Cluster__V1__Admin m = YIMA__CLUSTER__V1__ADMIN__INIT;
	int rc;

	m.op_case = add ? YIMA__CLUSTER__V1__ADMIN__OP_RECALL_ADD_KIND
			: YIMA__CLUSTER__V1__ADMIN__OP_RECALL_REMOVE_KIND;
	if (add)
		m.recall_add_kind = (uint32_t)k;
	else
		m.recall_remove_kind = (uint32_t)k;
	m.key = (char *)key;
	if ((rc = submit_all(a, &m)) < 0)
		return yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	return flush_all(a, why, whylen);
}

int cluster_admin_refund_window(cluster_admin_t *a, uint32_t days, char *why, size_t whylen)
{
	Yima__Cluster__V1__Admin m = YIMA__CLUSTER__V1__ADMIN__INIT;
	int rc;

	m.op_case = YIMA__CLUSTER__V1__ADMIN__OP_REFUND_WINDOW_DAYS;
	m.refund_window_days = days;
	if ((rc = submit_all(a, &m)) < 0)
		return yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	return flush_all(a, why, whylen);
}
