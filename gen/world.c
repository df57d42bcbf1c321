/*
 * world.c - gen_world(): options, facilities, the pack pool and heap, and
 * the arrival process that drives the simulation (see gen_int.h).
 *
 * Pacing.  The caller asks for N rows over D days.  Deliveries (1-20 packs
 * of one product and batch, from one supplier, to one facility) arrive as
 * a Poisson process whose rate is re-steered at every arrival: the base
 * rate (N rows / rows per pack / span) times e^lag, where lag measures how
 * far the rows written trail the straight line from 0 at the start to N
 * at the end (in units of 2% of N, clamped to +-3).  So the rows fill the
 * days roughly evenly whatever N and D are, and the run stops at exactly N
 * rows near the end of the span, leaving packs on shelves as a real
 * cut-off would.  Lifecycle gaps scale with D
 * (a pack waits about a sixth of the span, at most 4 days, before its
 * first sale), so short runs still show whole lives.
 *
 * Memory is the pool of opts->max_live packs plus the heap over it; when
 * the pool is full, arrivals wait until a pack's life ends.
 */
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "gen_int.h"

#define GEN_OUT_BUF (1u << 20)

static const uint8_t gen_delivery_size[] = { 1, 2, 3, 4, 5, 6, 8, 10, 12, 20 };
static const uint8_t gen_delivery_weight[] = { 40, 15, 10, 8, 6, 5, 5, 5, 3, 3 };

void gen_opts_default(gen_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->facilities = 8;
	o->products = 200;
	o->days = 30;
	o->events = 100000;
	o->seed = 1;
	o->start_year = 2026;
	o->start_month = 1;
	o->start_day = 5;
	o->fraud_rate = 0.02;
	o->noise_rate = 0.10;
	o->malformed_rate = 0.005;
	o->bad_row_rate = 0.003;
	o->max_live = 1u << 20;
}

static bool gen_rate_ok(double r)
{
	return r >= 0.0 && r <= 1.0;	/* false for NaN too */
}

int gen_opts_check(const gen_opts_t *o, char *why, size_t whylen)
{
	if (o->facilities < 1 || o->facilities > 9999)
		return yima_fail(why, whylen, YIMA_EINVAL, "facilities must be 1..9999");
	if (o->products < 1 || o->products > 500000)
		return yima_fail(why, whylen, YIMA_EINVAL, "products must be 1..500000");
	if (o->days < 1 || o->days > 36500)
		return yima_fail(why, whylen, YIMA_EINVAL, "days must be 1..36500");
	/* serials are unique below 10^9 packs: rows + packs in flight */
	if (o->events > 900000000ULL)
		return yima_fail(why, whylen, YIMA_EINVAL, "events must be at most 900000000");
	if (o->start_year < 2000 || o->start_year > 2070 || o->start_month < 1 ||
	    o->start_month > 12 || o->start_day < 1 ||
	    o->start_day > gen_days_in_month(o->start_year, o->start_month))
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "start must be a real date in 2000..2070");
	if (!gen_rate_ok(o->fraud_rate) || !gen_rate_ok(o->noise_rate) ||
	    !gen_rate_ok(o->malformed_rate) || !gen_rate_ok(o->bad_row_rate) ||
	    o->malformed_rate + o->bad_row_rate > 0.5)
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "rates must be 0..1 (malformed + bad rows at most 0.5)");
	if (o->max_live < 16 || o->max_live > (1u << 26))
		return yima_fail(why, whylen, YIMA_EINVAL, "max_live must be 16..2^26");
	if (!gen_rate_ok(o->limit_rate) || o->hoarders > 100000 || o->resellers > 100000 ||
	    6 * ((uint64_t)o->hoarders + o->resellers) > o->max_live / 2)
		return yima_fail(why, whylen, YIMA_EINVAL,
				 "limit rate must be 0..1, hoarders and resellers 0..100000 "
				 "(6 packs each at most half of max_live)");
	return 0;
}

/* ---- the heap of packs in flight, by (instant, push order) ---- */

static bool gen_ent_less(const gen_heap_ent_t *a, const gen_heap_ent_t *b)
{
	return a->t < b->t || (a->t == b->t && a->ord < b->ord);
}

static void gen_heap_push(gen_world_t *w, int64_t t, uint32_t idx)
{
	gen_heap_ent_t e = { t, w->order++, idx };
	uint32_t i = w->heap_n++;
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (!gen_ent_less(&e, &w->heap[up]))
			break;
		w->heap[i] = w->heap[up];
		i = up;
	}
	w->heap[i] = e;
	if (w->heap_n > w->st->max_live_seen)
		w->st->max_live_seen = w->heap_n;
}

static gen_heap_ent_t gen_heap_pop(gen_world_t *w)
{
	gen_heap_ent_t top = w->heap[0], last = w->heap[--w->heap_n];
	uint32_t i = 0, n = w->heap_n;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && gen_ent_less(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!gen_ent_less(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (n > 0)
		w->heap[i] = last;
	return top;
}

/* ---- arrivals ---- */

static double gen_delivery_mean(void)
{
	double sum = 0, wsum = 0;
	for (size_t i = 0; i < sizeof(gen_delivery_size); i++) {
		sum += (double)gen_delivery_size[i] * gen_delivery_weight[i];
		wsum += gen_delivery_weight[i];
	}
	return sum / wsum;
}

static uint32_t gen_delivery_pick(gen_rng_t *r)
{
	uint32_t total = 0, x;
	for (size_t i = 0; i < sizeof(gen_delivery_weight); i++)
		total += gen_delivery_weight[i];
	x = gen_rng_below(r, total);
	for (size_t i = 0; i < sizeof(gen_delivery_weight); i++) {
		if (x < gen_delivery_weight[i])
			return gen_delivery_size[i];
		x -= gen_delivery_weight[i];
	}
	return 1;
}

/* Hospitals receive three times what pharmacies do. */
static uint32_t gen_fac_pick(gen_world_t *w)
{
	uint32_t nh = w->n_hospitals, np = w->n_fac - nh;
	uint32_t x = gen_rng_below(&w->rng, 3 * nh + np);
	return x < 3 * nh ? x / 3 : nh + (x - 3 * nh);
}

/* Packs per second: the base rate that yields N rows over the span,
 * steered by how far the rows written so far lag or lead the straight
 * line from 0 at the start to N at the end (see the file comment). */
static double gen_pack_rate(const gen_world_t *w)
{
	double e = w->finished_packs >= 100
		? (double)w->finished_rows / (double)w->finished_packs : 3.0;
	double n = (double)w->opts->events, span = (double)w->span;
	double base = n / (e * span);
	double due = n * (double)(w->now - w->start_t) / span;
	double lag = (due - (double)w->st->rows) / (0.02 * n + 50);
	if (lag > 3)
		lag = 3;
	if (lag < -3)
		lag = -3;
	return base * gen_exp(lag);
}

int gen_plant(gen_world_t *w, const gen_pack_t *tmpl, int64_t t)
{
	if (w->n_free == 0)
		return YIMA_ENOMEM;
	uint32_t idx = w->free_idx[--w->n_free];
	w->packs[idx] = *tmpl;
	w->packs[idx].no = w->next_pack_no++;
	w->st->packs++;
	gen_heap_push(w, t, idx);
	return 0;
}

static void gen_pack_add(gen_world_t *w, gen_pack_t *tmpl, enum gen_fraud f, int64_t t)
{
	uint32_t idx = w->free_idx[--w->n_free];
	gen_pack_t *p = &w->packs[idx];
	*p = *tmpl;
	p->no = w->next_pack_no++;
	gen_pack_init(w, p, f, t);
	w->st->packs++;
	w->st->fraud[p->fraud]++;
	gen_heap_push(w, t, idx);
}

/* One delivery, or one fraud pack, at the next arrival instant. */
static void gen_arrive(gen_world_t *w)
{
	int64_t t = (int64_t)w->next_arrival;
	gen_pack_t tmpl;
	if (t < w->now)
		t = w->now;
	w->now = t;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.fac = (uint16_t)gen_fac_pick(w);
	tmpl.supplier = (uint8_t)gen_rng_below(&w->rng, GEN_SUPPLIERS);
	tmpl.product = gen_pick_product(w, w->normal, w->n_normal);
	int64_t lot = (gen_local_day(t) - w->start_day) / 20 - gen_rng_below(&w->rng, 3);
	tmpl.lot = (uint16_t)(lot > 0 ? lot : 0);
	if (gen_rng_chance(&w->rng, w->fraud_arrival_p)) {
		gen_pack_add(w, &tmpl, (enum gen_fraud)(1 + gen_rng_below(&w->rng,
							GEN_FRAUD_COUNT - 1)), t);
	} else {
		uint32_t m = gen_delivery_pick(&w->rng);
		for (uint32_t i = 0; i < m && w->n_free > 0; i++) {
			gen_pack_add(w, &tmpl, GEN_FRAUD_NONE, t);
			t += 2 + gen_rng_below(&w->rng, 20);	/* scanned one by one */
		}
	}
	double packs_per_arrival = gen_delivery_mean() * (1 - w->fraud_arrival_p) +
				   w->fraud_arrival_p;
	w->next_arrival = (double)w->now +
		gen_rng_exp(&w->rng, packs_per_arrival / gen_pack_rate(w));
}

/* ---- the run ---- */

static int gen_run(gen_world_t *w)
{
	uint64_t tick = YIMA_PROGRESS_EVERY;

	while (w->st->rows < w->opts->events) {
		if (w->opts->progress != NULL && w->st->rows >= tick) {
			w->opts->progress(w->opts->progress_arg, w->st->rows, w->st->rows, w->opts->events);
			tick = w->st->rows + YIMA_PROGRESS_EVERY;
		}
		if (w->n_free > 0 && (w->heap_n == 0 ||
				      w->next_arrival <= (double)w->heap[0].t)) {
			gen_arrive(w);
			continue;
		}
		gen_heap_ent_t e = gen_heap_pop(w);
		gen_pack_t *p = &w->packs[e.idx];
		int64_t next = e.t;
		w->now = e.t;
		int rc = gen_pack_step(w, p, e.t, &next);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			gen_heap_push(w, next > e.t ? next : e.t, e.idx);
			continue;
		}
		w->finished_packs++;
		w->finished_rows += p->rows;
		w->free_idx[w->n_free++] = e.idx;
	}
	return 0;
}

static int gen_setup(gen_world_t *w)
{
	const gen_opts_t *o = w->opts;
	uint32_t cap = o->max_live;
	double f = o->fraud_rate, m = gen_delivery_mean();

	w->start_day = gen_days_from_civil(o->start_year, o->start_month, o->start_day);
	w->start_t = w->start_day * 86400 - GEN_TZ_SEC;
	w->span = (int64_t)o->days * 86400;
	w->end_t = w->start_t + w->span;
	w->hold_mean = (double)w->span / 6;
	w->hold_mean = w->hold_mean < 3600 ? 3600 : w->hold_mean > 4 * 86400 ? 4 * 86400 : w->hold_mean;
	w->split_mean = (double)w->span / 20;
	w->split_mean = w->split_mean < 1200 ? 1200 : w->split_mean > 86400 ? 86400 : w->split_mean;
	/* a fraud arrival is one pack, a normal one m on average: this makes
	 * fraud_rate the share of packs */
	w->fraud_arrival_p = f >= 1.0 ? 1.0 : f * m / (1 - f + f * m);
	w->now = w->start_t;
	w->next_arrival = (double)w->start_t + 60;
	w->tcache_day = INT64_MIN;

	w->n_products = o->products;
	w->n_fac = o->facilities;
	w->n_hospitals = (o->facilities + 2) / 3;
	w->fac = calloc(w->n_fac, sizeof(*w->fac));
	w->packs = malloc((size_t)cap * sizeof(*w->packs));
	w->free_idx = malloc((size_t)cap * sizeof(*w->free_idx));
	w->heap = malloc((size_t)cap * sizeof(*w->heap));
	if (w->fac == NULL || w->packs == NULL || w->free_idx == NULL || w->heap == NULL)
		return YIMA_ENOMEM;
	for (uint32_t i = 0; i < w->n_fac; i++) {
		bool h = i < w->n_hospitals;
		/* facilities <= 9999 (gen_opts_check); the modulo tells the
		 * compiler so, for -Wformat-truncation at -O3 */
		snprintf(w->fac[i].id, sizeof(w->fac[i].id), "%c%04u", h ? 'H' : 'P',
			 (h ? i + 1 : i - w->n_hospitals + 1) % 10000u);
		w->fac[i].sett_day = INT64_MIN;
	}
	for (uint32_t i = 0; i < cap; i++)
		w->free_idx[i] = cap - 1 - i;
	w->n_free = cap;
	return 0;
}

static void gen_teardown(gen_world_t *w)
{
	free(w->fac);
	free(w->packs);
	free(w->free_idx);
	free(w->heap);
	gen_people_free(w);
	gen_out_deinit(&w->ev);
	gen_out_deinit(&w->canon);
	gen_out_deinit(&w->truth);
}

static int gen_write_all(gen_world_t *w, const gen_files_t *files)
{
	static const char head[] =
		"time,facility,type,code,drug,qty,settlement,patient,counterparty\n";
	int rc;
	gen_limits_assign(w);
	if ((rc = gen_people_plan(w)) < 0 ||
	    (rc = gen_catalog_write(w, files->catalog)) < 0 ||
	    (rc = gen_recalls_write(w, files->recalls)) < 0)
		return rc;
	gen_out_put(&w->ev, head, sizeof(head) - 1);
	if ((rc = gen_run(w)) < 0)
		return rc;
	if ((rc = gen_out_flush(&w->ev)) < 0 || (rc = gen_out_flush(&w->canon)) < 0 ||
	    (rc = gen_out_flush(&w->truth)) < 0)
		return rc;
	return gen_people_write(w, files->patients);
}

int gen_world(const gen_opts_t *opts, const gen_files_t *files,
	      gen_stats_t *stats, char *why, size_t whylen)
{
	gen_world_t w;
	gen_stats_t local;
	int rc;

	if (opts == NULL || files == NULL || files->events == NULL)
		return yima_fail(why, whylen, YIMA_EINVAL, "no options or no events file");
	if ((rc = gen_opts_check(opts, why, whylen)) < 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.opts = opts;
	w.st = stats != NULL ? stats : &local;
	memset(w.st, 0, sizeof(*w.st));
	gen_rng_seed(&w.rng, opts->seed);
	w.seed_mix = gen_mix(opts->seed ^ 0x79696d6167656eULL);

	if ((rc = gen_out_init(&w.ev, files->events, GEN_OUT_BUF)) < 0 ||
	    (rc = gen_out_init(&w.canon, files->canon, GEN_OUT_BUF)) < 0 ||
	    (rc = gen_out_init(&w.truth, files->truth, GEN_OUT_BUF)) < 0 ||
	    (rc = gen_setup(&w)) < 0) {
		yima_fail(why, whylen, rc, "out of memory for %u packs in flight",
			  opts->max_live);
		goto teardown;
	}
	if ((rc = gen_catalog_build(&w, why, whylen)) < 0)
		goto teardown;
	if ((rc = gen_write_all(&w, files)) < 0)
		yima_fail(why, whylen, rc, "%s", rc == YIMA_EIO ? "write failed"
			  : "generated row too long (a bug)");
	gen_catalog_free(&w);
teardown:
	gen_teardown(&w);
	return rc;
}
