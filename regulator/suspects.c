/*
 * suspects.c - finding the suspects of spec section 7 (see
 * yima/regulator/suspects.h): one pass over the event records in one read
 * snapshot, then grouping in memory.
 *
 * The pass keeps two things only: the patients met (keyed hash and their
 * OVER_QUANTITY dispenses in the period), in an open-addressing table
 * keyed by the hash's first bytes (already uniform), and one compact item
 * per resurfacing record whose dispense had a patient (codes and
 * facilities interned).  Grouping sorts the items by (patient, code,
 * resurfaced seq), keeps each code's first, and ranks the patients.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "yima/regulator/suspects.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

struct patient {
	uint8_t mac[LEDGER_MAC_LEN];
	uint64_t oq;
};

/* One resurfacing record whose dispense had a patient. */
struct item {
	uint32_t pat;		/* index into pats */
	uint32_t code;		/* offset of the NUL-terminated code in codes */
	uint32_t dfac, rfac;	/* indexes into facs */
	uint8_t finding;
	uint64_t dseq, rseq;
};

typedef char facility_t[FACILITY_MAX + 1];

struct suspects {
	suspects_stats_t st;
	struct patient *pats;
	size_t npats, cappats;
	uint32_t *pslots;	/* pats index + 1; 0 empty; power of 2 */
	size_t npslots;
	struct item *items;
	size_t nitems, capitems;
	buf_t codes;
	facility_t *facs;
	size_t nfacs, capfacs;
	suspect_evidence_t *evidence;
	suspect_t *list;
	size_t nlist;
	/* during the pass */
	ledger_txn_t *txn;
	const suspects_opts_t *o;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 256;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / size)
		return YIMA_ENOMEM;
	void *q = realloc(*p, n * size);
	if (q == NULL)
		return YIMA_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- patients ----------------------------------------------------------- */

static size_t mac_slot(const uint8_t *mac, size_t nslots)
{
	uint64_t h;
	memcpy(&h, mac, sizeof h);	/* a keyed hash: its bytes are uniform */
	return (size_t)h & (nslots - 1);
}

static int pslots_grow(struct suspects *s)
{
	size_t n = s->npslots ? s->npslots * 2 : 1024;
	uint32_t *t = calloc(n, sizeof *t);

	if (t == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < s->npats; i++) {
		size_t k = mac_slot(s->pats[i].mac, n);
		while (t[k] != 0)
			k = (k + 1) & (n - 1);
		t[k] = (uint32_t)i + 1;
	}
	free(s->pslots);
	s->pslots = t;
	s->npslots = n;
	return 0;
}

/* The patient's index, added if new. */
static int patient_of(struct suspects *s, const uint8_t *mac, uint32_t *idx)
{
	int rc;

	if ((s->npats + 1) * 2 > s->npslots && (rc = pslots_grow(s)) < 0)
		return rc;
	size_t k = mac_slot(mac, s->npslots);
	for (; s->pslots[k] != 0; k = (k + 1) & (s->npslots - 1))
		if (memcmp(s->pats[s->pslots[k] - 1].mac, mac, LEDGER_MAC_LEN) == 0) {
			*idx = s->pslots[k] - 1;
			return 0;
		}
	if (s->npats >= UINT32_MAX - 1)
		return YIMA_ENOMEM;
	if ((rc = grow((void **)&s->pats, &s->cappats, s->npats + 1, sizeof *s->pats)) < 0)
		return rc;
	memcpy(s->pats[s->npats].mac, mac, LEDGER_MAC_LEN);
	s->pats[s->npats].oq = 0;
	s->pslots[k] = (uint32_t)s->npats + 1;
	*idx = (uint32_t)s->npats++;
	return 0;
}

/* A facility's index (few facilities: a linear search from the last one
 * found is enough). */
static int facility_of(struct suspects *s, yima_slice_t f, uint32_t *idx)
{
	int rc;

	if (f.n > FACILITY_MAX)
		return YIMA_ECORRUPT;
	for (size_t i = s->nfacs; i-- > 0;)
		if (strlen(s->facs[i]) == f.n && memcmp(s->facs[i], f.p, f.n) == 0) {
			*idx = (uint32_t)i;
			return 0;
		}
	if ((rc = grow((void **)&s->facs, &s->capfacs, s->nfacs + 1, sizeof *s->facs)) < 0)
		return rc;
	memcpy(s->facs[s->nfacs], f.p, f.n);
	s->facs[s->nfacs][f.n] = '\0';
	*idx = (uint32_t)s->nfacs++;
	return 0;
}

/* ---- the pass ------------------------------------------------------------ */

static bool in_period(const suspects_opts_t *o, const yima_time_t *t)
{
	return (!o->has_from || yima_time_cmp(t, &o->from) >= 0) &&
	       (!o->has_to || yima_time_cmp(t, &o->to) < 0);
}

/* The code's last applied dispense before ev, back through its history;
 * *found false when there is none. */
static int dispense_before(ledger_txn_t *txn, const ledger_event_t *ev, ledger_event_t *d, bool *found)
{
	uint64_t seq = ev->prev_code_seq;
	int rc;

	*found = false;
	while (seq != 0) {
		if ((rc = ledger_event_get(txn, seq, d)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		d->seq = seq;
		if (d->status == REC_OK && d->type == EV_DISPENSE && d->verdict != VERDICT_REJECT) {
			*found = true;
			return 0;
		}
		if (d->prev_code_seq >= seq)
			return YIMA_ECORRUPT;
		seq = d->prev_code_seq;
	}
	return 0;
}

static int add_item(struct suspects *s, const ledger_event_t *ev, const ledger_event_t *d)
{
	struct item it;
	int rc;

	memset(&it, 0, sizeof it);
	if ((rc = patient_of(s, d->patient_mac, &it.pat)) < 0 ||
	    (rc = facility_of(s, d->facility, &it.dfac)) < 0 ||
	    (rc = facility_of(s, ev->facility, &it.rfac)) < 0)
		return rc;
	if (s->codes.len > UINT32_MAX - ev->code.n - 1)
		return YIMA_ENOMEM;
	it.code = (uint32_t)s->codes.len;
	buf_put(&s->codes, ev->code.p, ev->code.n);
	buf_putc(&s->codes, '\0');
	if (s->codes.oom)
		return YIMA_ENOMEM;
	it.finding = (ev->findings & FINDING_BIT(F_REUSED)) ? F_REUSED : F_RETURNED_TO_MARKET;
	it.dseq = d->seq;
	it.rseq = ev->seq;
	if ((rc = grow((void **)&s->items, &s->capitems, s->nitems + 1, sizeof *s->items)) < 0)
		return rc;
	s->items[s->nitems++] = it;
	return 0;
}

static int on_record(void *arg, const ledger_event_t *ev)
{
	struct suspects *s = arg;
	const finding_set_t resurfacing = FINDING_BIT(F_RETURNED_TO_MARKET) | FINDING_BIT(F_REUSED);
	ledger_event_t d;
	bool found;
	uint32_t p;
	int rc;

	s->st.records++;
	if (s->o->progress != NULL && ev->seq % YIMA_PROGRESS_EVERY == 0)
		s->o->progress(s->o->progress_arg, ev->seq, ev->seq, ledger_event_count(s->txn));
	if (ev->status != REC_OK || !(ev->findings & (resurfacing | FINDING_BIT(F_OVER_QUANTITY))) ||
	    !in_period(s->o, &ev->time))
		return 0;
	if ((ev->findings & FINDING_BIT(F_OVER_QUANTITY)) && ev->type == EV_DISPENSE && ev->has_patient) {
		if ((rc = patient_of(s, ev->patient_mac, &p)) < 0)
			return rc;
		s->pats[p].oq++;
		s->st.over_quantity++;
	}
	if (!(ev->findings & resurfacing))
		return 0;
	s->st.resurfacing++;
	if ((rc = dispense_before(s->txn, ev, &d, &found)) < 0 || !found || !d.has_patient)
		return rc;
	s->st.with_patient++;
	return add_item(s, ev, &d);
}

/* ---- grouping --------------------------------------------------------------- */

static int cmp_items(const void *x, const void *y, void *arg)
{
	const struct item *a = x, *b = y;
	const char *codes = arg;
	if (a->pat != b->pat)
		return a->pat < b->pat ? -1 : 1;
	int c = strcmp(codes + a->code, codes + b->code);
	if (c != 0)
		return c;
	return a->rseq < b->rseq ? -1 : a->rseq > b->rseq;
}

static int cmp_rseq(const void *x, const void *y)
{
	const suspect_evidence_t *a = x, *b = y;
	return a->resurfaced_seq < b->resurfaced_seq ? -1 : a->resurfaced_seq > b->resurfaced_seq;
}

static int cmp_suspects(const void *x, const void *y)
{
	const suspect_t *a = x, *b = y;
	if (a->packs != b->packs)
		return a->packs > b->packs ? -1 : 1;
	if (a->over_quantity != b->over_quantity)
		return a->over_quantity > b->over_quantity ? -1 : 1;
	return memcmp(a->patient, b->patient, LEDGER_MAC_LEN);
}

static uint64_t count_facilities(const suspect_evidence_t *ev, size_t n)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < i && ev[j].dispensed_at != ev[i].dispensed_at)
			j++;	/* interned: the same facility is the same pointer */
		k += j == i;
	}
	return k;
}

/* Items [from, to) are one patient's, sorted by code then rseq: keep each
 * code's first, and list the patient if they reach min_packs. */
static void group_one(struct suspects *s, size_t from, size_t to, size_t *nev)
{
	suspect_evidence_t *ev = s->evidence + *nev;
	const char *codes = (const char *)s->codes.p;
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		const struct item *it = &s->items[i];
		if (i > from && strcmp(codes + it->code, codes + it[-1].code) == 0)
			continue;
		ev[n++] = (suspect_evidence_t){ codes + it->code, it->dseq,
						s->facs[it->dfac], it->rseq, s->facs[it->rfac],
						(enum finding)it->finding };
	}
	s->st.patients++;
	if (n < s->o->min_packs)
		return;
	qsort(ev, n, sizeof *ev, cmp_rseq);
	suspect_t *sp = &s->list[s->nlist++];
	memcpy(sp->patient, s->pats[s->items[from].pat].mac, LEDGER_MAC_LEN);
	sp->packs = n;
	sp->over_quantity = s->pats[s->items[from].pat].oq;
	sp->facilities = count_facilities(ev, n);
	sp->nevidence = n;
	sp->evidence = ev;
	*nev += n;
}

static int group(struct suspects *s)
{
	size_t nev = 0;

	if (s->nitems == 0)
		return 0;
	s->evidence = calloc(s->nitems, sizeof *s->evidence);
	s->list = calloc(s->nitems, sizeof *s->list);
	if (s->evidence == NULL || s->list == NULL)
		return YIMA_ENOMEM;
	qsort_r(s->items, s->nitems, sizeof *s->items, cmp_items, s->codes.p);
	for (size_t i = 0, j; i < s->nitems; i = j) {
		for (j = i + 1; j < s->nitems && s->items[j].pat == s->items[i].pat; j++)
			;
		group_one(s, i, j, &nev);
	}
	qsort(s->list, s->nlist, sizeof *s->list, cmp_suspects);
	s->st.listed = s->nlist;
	return 0;
}

/* ---- the API ------------------------------------------------------------- */

int suspects_collect(ledger_txn_t *txn, const suspects_opts_t *o, suspects_t **out,
		     char *why, size_t whylen)
{
	struct suspects *s;
	int rc;

	*out = NULL;
	if (o->min_packs < 1)
		return yima_fail(why, whylen, YIMA_EINVAL, "min packs must be at least 1");
	if ((s = calloc(1, sizeof *s)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	buf_init(&s->codes);
	s->txn = txn;
	s->o = o;
	if ((rc = ledger_event_scan(txn, 1, on_record, s)) < 0 || (rc = group(s)) < 0) {
		suspects_free(s);
		return yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	}
	s->txn = NULL;
	s->o = NULL;
	*out = s;
	return 0;
}

void suspects_free(suspects_t *s)
{
	if (s == NULL)
		return;
	free(s->pats);
	free(s->pslots);
	free(s->items);
	free(s->facs);
	free(s->evidence);
	free(s->list);
	buf_deinit(&s->codes);
	free(s);
}

size_t suspects_count(const suspects_t *s)
{
	return s->nlist;
}

const suspect_t *suspects_get(const suspects_t *s, size_t i)
{
	return i < s->nlist ? &s->list[i] : NULL;
}

const suspects_stats_t *suspects_stats(const suspects_t *s)
{
	return &s->st;
}
