/*
 * gen_int.h - internals of the world generator (private to gen/).
 *
 * The generator is a discrete-event simulation: every pack in flight sits in
 * a min-heap keyed by the instant of its next event; the main loop (world.c)
 * pops the earliest, lets the pack emit that event (pack.c) and pushes it
 * back with its next one, while new deliveries arrive at a rate steered so
 * the requested number of rows spans the requested days.  Events therefore
 * come out in time order with memory bounded by the packs in flight.
 *
 *   world.c    options, the heap and pack pool, arrivals, gen_world()
 *   pack.c     one pack's life: legitimate flows and fraud patterns
 *   claim.c    settlements: claims per facility
 *   row.c      one events row: fields, times, quoting, bad records
 *   scan.c     code forms a scanner delivers: noise and malformed codes
 *   catalog.c  products, drug codes, recall list, the catalog CSV
 *   text.c     buffered output, string builder, calendar, PRNG seeding
 *   names.c    report names of the enums in yima/gen.h
 */
#ifndef YIMA_GEN_INT_H
#define YIMA_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yima/gen/gen.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 (no rand(): the output must
 * be the same on every libc). ---- */

typedef struct gen_rng {
	uint64_t s[4];
} gen_rng_t;

void gen_rng_seed(gen_rng_t *r, uint64_t seed);

static inline uint64_t gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_rng_next(gen_rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t out = gen_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return out;
}

/* Stateless 64-bit mix (splitmix64 finalizer): derives per-product and
 * per-pack attributes without storing them. */
static inline uint64_t gen_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Uniform in [0, n), n >= 1 (multiply-shift; bias below 2^-32). */
static inline uint32_t gen_rng_below(gen_rng_t *r, uint32_t n)
{
	return (uint32_t)(((gen_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double gen_rng_unit(gen_rng_t *r)
{
	return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

static inline bool gen_rng_chance(gen_rng_t *r, double p)
{
	return gen_rng_unit(r) < p;
}

/* Exponential with the given mean. */
double gen_rng_exp(gen_rng_t *r, double mean);
/* ln x (x > 0, normal) and e^x (|x| <= 4) from basic IEEE arithmetic, so
 * the output does not depend on the platform's libm. */
double gen_ln(double x);
double gen_exp(double x);

/* ---- text: a bounded string builder and a buffered FILE writer ---- */

/* Appends past cap are dropped and set `over`; callers size buffers so
 * that never happens and treat it as a bug (YIMA_ETOOBIG). */
typedef struct gen_str {
	char *p;
	size_t len, cap;
	bool over;
} gen_str_t;

static inline void gen_str_init(gen_str_t *s, char *buf, size_t cap)
{
	s->p = buf;
	s->len = 0;
	s->cap = cap;
	s->over = false;
	if (cap > 0)
		buf[0] = '\0';
}

void gen_str_put(gen_str_t *s, const void *p, size_t n);
void gen_str_putc(gen_str_t *s, char c);
void gen_str_puts(gen_str_t *s, const char *z);
/* Decimal, zero-padded to at least width digits. */
void gen_str_putu(gen_str_t *s, uint64_t v, int width);
/* An RFC 4180 field: quoted when it holds , " CR or LF, or when force. */
void gen_str_csv(gen_str_t *s, const char *p, size_t n, bool force);

typedef struct gen_out {
	FILE *fp;		/* NULL: output discarded */
	char *buf;
	size_t len, cap;
	int err;		/* sticky YIMA_EIO */
} gen_out_t;

int gen_out_init(gen_out_t *o, FILE *fp, size_t cap);
void gen_out_put(gen_out_t *o, const void *p, size_t n);
int gen_out_flush(gen_out_t *o);
void gen_out_deinit(gen_out_t *o);

/* ---- calendar (proleptic Gregorian; days since 1970-01-01) ---- */

int64_t gen_days_from_civil(int y, int m, int d);
void gen_civil_from_days(int64_t days, int *y, int *m, int *d);
int gen_days_in_month(int y, int m);

#define GEN_TZ_SEC (8 * 3600)	/* every facility writes +08:00 */

/* Local (+08:00) day number of a Unix instant. */
static inline int64_t gen_local_day(int64_t t)
{
	int64_t x = t + GEN_TZ_SEC;
	return x >= 0 ? x / 86400 : -((-x + 86399) / 86400);
}

/* ---- the world ---- */

#define GEN_ID_MAX 14		/* product id: 7 digits or GTIN-14 */
#define GEN_DRUG_MAX 32
#define GEN_BATCH_MAX 20
#define GEN_SERIAL_MAX 20
#define GEN_SUPPLIERS 8
#define GEN_ROW_MAX 4096	/* one events row, noise included */
#define GEN_RECALL_CODES 8
#define GEN_RECALL_LOT0 60000	/* lots at and above: recall-only batches */
#define GEN_UNKNOWN_BIT 0x80000000u	/* pack.product: index into unknown[] */

typedef struct gen_product {
	char id[GEN_ID_MAX + 1];
	uint8_t id_len;		/* 7 or 14 */
	bool gtin;		/* GS1 codes; else 20-digit codes */
	bool has_expiry;	/* prints AI 17 */
	bool has_batch;		/* prints AI 10 */
	bool has_prod_date;	/* prints AI 11 (skipped by the normalizer) */
	bool recalled;		/* the whole product is on the recall list */
	uint8_t limit_packs;	/* max_units_30d = limit_packs * units; 0 none */
	uint16_t units;		/* pack_units */
	uint32_t drug;		/* index into world drugs */
} gen_product_t;

typedef struct gen_recall_batch {
	uint32_t product;
	uint16_t lot;
} gen_recall_batch_t;

/* An open claim (settlement) at a facility: dispenses within a few minutes
 * of each other join it, so claims carry several codes. */
typedef struct gen_facility {
	char id[8];		/* H0001 / P0001 */
	int64_t sett_day;	/* local day of sett_count */
	uint32_t sett_count;	/* settlements opened on sett_day */
	bool open;
	int64_t open_t;
	int64_t open_day;
	uint32_t open_no;
	uint32_t open_items, open_max;
	uint32_t open_patient;	/* 0: no patient id on the claim */
} gen_facility_t;

/* Which event a pack emits next. */
enum gen_step {
	GEN_ST_RECEIVE = 1,
	GEN_ST_STOCKTAKE,
	GEN_ST_TRANSFER_OUT,
	GEN_ST_TRANSFER_IN,
	GEN_ST_RETURN,
	GEN_ST_DISPENSE,
	GEN_ST_REFUND,
	GEN_ST_DESTROY,
	/* fraud steps: the event the pattern adds; rejected by the verifier,
	 * so they change no simulated state */
	GEN_ST_REUSE,
	GEN_ST_RESALE_RECEIVE,
	GEN_ST_RESALE_DISPENSE,
	GEN_ST_SUBST,
	GEN_ST_OVERDRAW,
	GEN_ST_DUP,
	GEN_ST_BAD_REFUND,
	GEN_ST_LATE_REFUND,
	GEN_ST_POST_DESTROY,
	GEN_ST_EXPIRED_RECEIVE,
	GEN_ST_EXPIRED_DISPENSE,
	GEN_ST_RECALLED_RECEIVE,
	GEN_ST_RECALLED_DISPENSE,
	/* planted patients (people.c) */
	GEN_ST_PLAN_DISPENSE,
	GEN_ST_PLAN_BACK,
	GEN_ST_PLAN_RESALE,
};

enum gen_pack_flag {
	GEN_PF_SPLIT = 1 << 0,		/* dispensed in chunks (拆零) */
	GEN_PF_DISPENSED = 1 << 1,	/* some units were dispensed once */
	GEN_PF_NEAR_EXPIRY = 1 << 2,	/* expiry within the run: keep +08:00 */
	GEN_PF_EXP_D00 = 1 << 3,	/* AI 17 printed with day 00 */
	GEN_PF_DONE = 1 << 4,		/* the fraud step was emitted */
	GEN_PF_DESTROY_PLAN = 1 << 5,	/* legit: expires, then destroyed */
	GEN_PF_SAME_SETT = 1 << 6,	/* next dispense corrects the last claim */
	GEN_PF_STOCKTAKEN = 1 << 7,
};

typedef struct gen_pack {
	uint64_t no;		/* pack number: the serial derives from it */
	uint32_t product;	/* catalog index, or GEN_UNKNOWN_BIT | index */
	int32_t exp_day;	/* effective expiry (local day number) */
	int32_t sett_day;	/* settlement of the last dispense ... */
	uint32_t sett_no;
	uint32_t patient;
	uint32_t rows;		/* rows emitted for this pack */
	uint16_t sett_fac;	/* ... at this facility */
	uint16_t lot;
	uint16_t flags;		/* enum gen_pack_flag */
	uint16_t units_left;
	uint16_t chunk;		/* units per split dispense */
	uint16_t disp_units;	/* units of the last dispense */
	uint16_t fac;		/* facility holding (or last holding) it */
	uint16_t other;		/* transfer destination / resale facility */
	uint8_t step;		/* enum gen_step */
	uint8_t fraud;		/* enum gen_fraud */
	uint8_t supplier;
	uint32_t planned;	/* 1 + index into world planned[], 0 none */
} gen_pack_t;

/* A planted patient (people.c) and what of their plan was written. */
enum { GEN_PERSON_HOARDER = 1, GEN_PERSON_RESELLER = 2 };

typedef struct gen_person {
	uint32_t patient;	/* printed as 8 digits */
	uint8_t kind;
	uint32_t dispensed, over, returned;
} gen_person_t;

/* One planted pack's story: sold at t at fac to the person; a reseller's
 * comes back at back_fac at back_t, and is maybe sold there again. */
typedef struct gen_planned {
	int64_t t, back_t;	/* back_t 0: it does not come back */
	uint32_t person;
	uint16_t fac, back_fac;
	bool over;		/* a hoarder's sale over the limit */
	bool resale;
} gen_planned_t;

typedef struct gen_heap_ent {
	int64_t t;
	uint64_t ord;		/* push order: makes ties deterministic */
	uint32_t idx;
} gen_heap_ent_t;

typedef struct gen_world {
	const gen_opts_t *opts;
	gen_stats_t *st;
	gen_rng_t rng;
	uint64_t seed_mix;	/* seeds the stateless attribute hashes */

	int64_t start_t, end_t, span;	/* Unix seconds */
	int64_t start_day;		/* local day number */
	double hold_mean, split_mean;	/* lifecycle gaps, seconds */

	gen_product_t *products;
	uint32_t n_products;
	char (*drugs)[GEN_DRUG_MAX + 1];
	uint32_t n_drugs;
	uint32_t *normal;	/* products legit packs may use */
	uint32_t n_normal;
	uint32_t *expiring;	/* normal GS1 products printing AI 17 */
	uint32_t n_expiring;
	uint32_t *splittable;	/* normal products with pack_units >= 2 */
	uint32_t n_splittable;
	gen_product_t unknown[8];	/* product ids not in the catalog */
	uint32_t n_unknown;
	uint32_t recalled_products[8];
	uint32_t n_recalled_products;
	gen_recall_batch_t recall_batches[4];
	uint32_t n_recall_batches;
	uint32_t recall_code_product[GEN_RECALL_CODES];	/* pack no = index */
	uint32_t n_recall_codes, next_recall_code;

	gen_facility_t *fac;
	uint32_t n_fac, n_hospitals;

	gen_pack_t *packs;	/* pool of max_live */
	uint32_t *free_idx;
	uint32_t n_free;
	gen_heap_ent_t *heap;
	uint32_t heap_n;
	uint64_t order;
	uint64_t next_pack_no;

	double next_arrival;	/* Unix seconds */
	double fraud_arrival_p;	/* chance an arrival is one fraud pack */
	uint64_t finished_packs, finished_rows;
	int64_t now;

	gen_person_t *people;
	uint32_t n_people;
	gen_planned_t *planned;
	uint32_t n_planned;
	bool row_ok;		/* the last gen_emit() wrote its row */

	gen_out_t ev, canon, truth;
	/* time text cache: the local day last formatted */
	int64_t tcache_day;
	char tcache[12];
} gen_world_t;

/* catalog.c */
int gen_catalog_build(gen_world_t *w, char *why, size_t whylen);
void gen_catalog_free(gen_world_t *w);
int gen_catalog_write(gen_world_t *w, FILE *fp);
int gen_recalls_write(gen_world_t *w, FILE *fp);
uint32_t gen_pick_product(gen_world_t *w, const uint32_t *list, uint32_t n);
const gen_product_t *gen_pack_product(const gen_world_t *w, const gen_pack_t *p);

/* scan.c: what a scanner delivers for a pack */
void gen_code_canon(const gen_world_t *w, const gen_pack_t *p, gen_str_t *s);
void gen_code_batch(const gen_world_t *w, uint32_t product, uint16_t lot, gen_str_t *s);
/* The scanned form; noisy adds 1-2 noise kinds.  Returns a mask of
 * 1 << enum gen_noise. */
unsigned gen_code_scan(gen_world_t *w, const gen_pack_t *p, bool noisy, gen_str_t *s);
enum gen_malformed gen_code_malformed(gen_world_t *w, const gen_pack_t *p, gen_str_t *s);
void gen_expiry_for_lot(const gen_world_t *w, gen_pack_t *p);

/* row.c: one events row */
enum gen_cp { GEN_CP_NONE = 0, GEN_CP_SUPPLIER, GEN_CP_FACILITY };

typedef struct gen_row {
	int64_t t;
	uint32_t fac;		/* facility index */
	int type;		/* enum event_type */
	const gen_pack_t *pack;
	const char *drug;	/* NULL: empty */
	uint32_t qty;		/* 0: empty */
	bool has_sett;
	uint16_t sett_fac;
	int64_t sett_day;
	uint32_t sett_no;
	uint32_t patient;	/* 0: empty */
	int cp_kind;		/* enum gen_cp */
	uint32_t cp;
	const char *truth;	/* finding injected here, NULL: legitimate */
} gen_row_t;

/* Write the row (maybe preceded by a malformed scan or a broken copy, per
 * the rates).  Rows beyond opts->events are dropped.  Returns 0 or a
 * YIMA_E* error. */
int gen_emit(gen_world_t *w, const gen_row_t *r);

/* claim.c: settlements */
/* Put the pack's dispense at facility fac, instant t, into a claim: the
 * open one or a new one.  Sets p->sett_* and p->patient. */
void gen_claim_join(gen_world_t *w, gen_pack_t *p, uint32_t fac, int64_t t);
void gen_sett_text(const gen_world_t *w, uint32_t fac, int64_t day, uint32_t no,
		   gen_str_t *s);
uint32_t gen_patient(gen_world_t *w);

/* people.c: planted patients; world.c: gen_plant() puts a pack made
 * outside the arrival process into the pool and the heap at t. */
int gen_plant(gen_world_t *w, const gen_pack_t *p, int64_t t);
int gen_people_plan(gen_world_t *w);
void gen_people_free(gen_world_t *w);
int gen_planned_next(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next);
void gen_planned_row(gen_world_t *w, gen_pack_t *p, gen_row_t *r);
void gen_planned_count(gen_world_t *w, const gen_pack_t *p);
int gen_people_write(gen_world_t *w, FILE *fp);
/* catalog.c: which products have a limit (opts->limit_rate), by a hash
 * of the seed and the product, so the default world is unchanged */
void gen_limits_assign(gen_world_t *w);
bool gen_limits_any(const gen_world_t *w);

/* pack.c */
/* Set up a new pack: the caller has set no, product, lot, fac and
 * supplier; f may change the product (a recalled, unknown, splittable or
 * expiring one), the expiry and the first step.  t is its arrival. */
void gen_pack_init(gen_world_t *w, gen_pack_t *p, enum gen_fraud f, int64_t t);
/* Emit the pack's step at t; on 1 *next holds its next instant, on 0 the
 * pack is finished; < 0 is an error. */
int gen_pack_step(gen_world_t *w, gen_pack_t *p, int64_t t, int64_t *next);

#endif
