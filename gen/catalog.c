/*
 * catalog.c - the generated catalog (spec section 2) and recall list.
 *
 * Products alternate between 7-digit prefixes (20-digit national codes)
 * and GTIN-14s with a valid GS1 check digit (GS1 codes).  A quarter of the
 * products share a drug code with an earlier one, as several package sizes
 * of one insured drug do.  Names, specs and manufacturers are derived from
 * a hash of the product index when the CSV is written, so only what the
 * simulation needs (id, kind, pack_units, drug) is kept in memory.
 *
 * The recall list names whole products, product batches (lots numbered
 * GEN_RECALL_LOT0 and up, never given to legitimate packs) and single
 * codes (pack numbers 0..GEN_RECALL_CODES-1, reserved).  Legitimate packs
 * never use a recalled product, so RECALLED findings come only from the
 * packs the RECALLED pattern injects.
 */
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "gen_int.h"

static const char *const gen_names[] = {
	"阿莫西林胶囊", "左氧氟沙星片", "阿托伐他汀钙片", "利伐沙班片",
	"恩替卡韦分散片", "甲硝唑片", "头孢呋辛酯片", "醋酸地塞米松片",
	"布洛芬缓释胶囊", "达格列净片", "门冬胰岛素注射液", "连花清瘟胶囊",
	"硝苯地平控释片", "阿司匹林肠溶片", "头孢克肟片", "蒙脱石散",
	"复方甘草片", "苯磺酸氨氯地平片", "瑞舒伐他汀钙片", "缬沙坦胶囊",
	"奥美拉唑肠溶胶囊", "盐酸二甲双胍缓释片", "硫酸氢氯吡格雷片",
	"厄贝沙坦片", "格列美脲片", "阿卡波糖片", "孟鲁司特钠片",
	"盐酸氨溴索口服溶液", "阿奇霉素片", "左甲状腺素钠片", "甲钴胺片",
	"布地奈德混悬液", "雷贝拉唑钠肠溶片", "坎地沙坦酯片",
};
static const char *const gen_strengths[] = {
	"5mg", "10mg", "20mg", "40mg", "100mg", "0.25g", "0.5g", "3ml:300单位",
	"1g", "2.5mg",
};
static const char *const gen_forms[] = { "片", "粒", "袋", "支", "瓶" };
static const char *const gen_makers[] = {
	"齐鲁制药", "恒瑞医药", "扬子江药业", "石药集团", "华北制药",
	"科伦药业", "复星医药", "Pfizer, Inc.", "AstraZeneca \"AZ\"",
};

#define GEN_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* pack_units: 1..100, with the common box sizes 24, 30 and 100 heavy. */
static uint16_t gen_pick_units(gen_rng_t *r)
{
	static const uint16_t sizes[] = {
		1, 2, 5, 6, 7, 10, 12, 14, 20, 24, 28, 30, 36, 48, 50, 60, 100 };
	static const uint8_t weight[] = {
		4, 2, 2, 2, 3, 5, 4, 5, 4, 14, 6, 14, 3, 4, 3, 4, 12 };
	if (gen_rng_chance(r, 0.08))
		return (uint16_t)(1 + gen_rng_below(r, 100));
	uint32_t total = 0, x;
	for (size_t i = 0; i < GEN_NELEM(weight); i++)
		total += weight[i];
	x = gen_rng_below(r, total);
	for (size_t i = 0; i < GEN_NELEM(weight); i++) {
		if (x < weight[i])
			return sizes[i];
		x -= weight[i];
	}
	return 24;
}

static int gen_gtin_check(const char *d13)
{
	int sum = 0;
	for (int i = 0; i < 13; i++)
		sum += (d13[i] - '0') * ((13 - i) % 2 == 1 ? 3 : 1);
	return (10 - sum % 10) % 10;
}

/* Open-addressing set of product ids (as numbers, kind in bit 0). */
typedef struct gen_idset {
	uint64_t *slot;
	size_t mask;
} gen_idset_t;

static bool gen_idset_add(gen_idset_t *s, uint64_t key)
{
	key = key * 2 + 1;	/* never 0, the empty slot */
	for (size_t i = gen_mix(key) & s->mask;; i = (i + 1) & s->mask) {
		if (s->slot[i] == key)
			return false;
		if (s->slot[i] == 0) {
			s->slot[i] = key;
			return true;
		}
	}
}

/* A fresh product id of the given kind, not in the set. */
static void gen_make_id(gen_rng_t *r, gen_idset_t *set, bool gtin, gen_product_t *p)
{
	for (;;) {
		uint64_t v;
		if (!gtin) {
			v = 8000000 + gen_rng_below(r, 1000000);
			snprintf(p->id, sizeof(p->id), "%07llu", (unsigned long long)v);
		} else {
			char d[14];
			d[0] = gen_rng_chance(r, 0.5) ? '0' : '1';
			d[1] = '6';
			d[2] = '9';
			for (int i = 3; i < 13; i++)
				d[i] = (char)('0' + gen_rng_below(r, 10));
			d[13] = (char)('0' + gen_gtin_check(d));
			memcpy(p->id, d, 14);
			p->id[14] = '\0';
			v = strtoull(p->id, NULL, 10);
		}
		if (gen_idset_add(set, v * 2 + gtin))
			break;
	}
	p->id_len = (uint8_t)strlen(p->id);
	p->gtin = gtin;
	p->has_expiry = gtin && !gen_rng_chance(r, 0.1);
	p->has_batch = gtin && !gen_rng_chance(r, 0.05);
	p->has_prod_date = gtin && gen_rng_chance(r, 0.1);
	p->units = gen_pick_units(r);
}

/* Insurance drug code: the 23-character national shape
 * (X + 2 letters + 2 digits + 3 letters + 3 digits + A + 11 digits), and
 * a few short local codes. */
static void gen_make_drug(gen_rng_t *r, char *out, size_t n)
{
	char c[GEN_DRUG_MAX + 1];
	size_t k = 0;
	if (gen_rng_chance(r, 0.03)) {
		size_t len = 6 + gen_rng_below(r, 7);
		for (; k < len; k++)
			c[k] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"[gen_rng_below(r, 34)];
	} else {
		c[k++] = 'X';
		for (int i = 0; i < 2; i++)
			c[k++] = (char)('A' + gen_rng_below(r, 26));
		for (int i = 0; i < 2; i++)
			c[k++] = (char)('0' + gen_rng_below(r, 10));
		for (int i = 0; i < 3; i++)
			c[k++] = (char)('A' + gen_rng_below(r, 8));
		for (int i = 0; i < 3; i++)
			c[k++] = (char)('0' + gen_rng_below(r, 10));
		c[k++] = 'A';
		for (int i = 0; i < 11; i++)
			c[k++] = (char)('0' + gen_rng_below(r, 10));
	}
	c[k] = '\0';
	snprintf(out, n, "%s", c);
}

static int gen_products_make(gen_world_t *w, gen_idset_t *set)
{
	uint32_t n = w->n_products;
	w->products = calloc(n, sizeof(*w->products));
	w->drugs = calloc(n, sizeof(*w->drugs));
	if (w->products == NULL || w->drugs == NULL)
		return YIMA_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		gen_product_t *p = &w->products[i];
		gen_make_id(&w->rng, set, i % 2 == 1, p);
		if (w->n_drugs > 0 && gen_rng_chance(&w->rng, 0.25)) {
			p->drug = gen_rng_below(&w->rng, w->n_drugs);
		} else {
			gen_make_drug(&w->rng, w->drugs[w->n_drugs], sizeof(w->drugs[0]));
			p->drug = w->n_drugs++;
		}
	}
	for (uint32_t i = 0; i < GEN_NELEM(w->unknown); i++) {
		gen_make_id(&w->rng, set, i % 2 == 1, &w->unknown[i]);
		w->unknown[i].drug = gen_rng_below(&w->rng, w->n_drugs);
	}
	w->n_unknown = GEN_NELEM(w->unknown);
	return 0;
}

/* Whole-product recalls only in catalogs big enough to spare them. */
static void gen_recalls_choose_products(gen_world_t *w)
{
	uint32_t n = w->n_products < 20 ? 0 : w->n_products / 100;
	if (w->n_products >= 20 && n == 0)
		n = 1;
	if (n > GEN_NELEM(w->recalled_products))
		n = GEN_NELEM(w->recalled_products);
	while (w->n_recalled_products < n) {
		uint32_t i = gen_rng_below(&w->rng, w->n_products);
		if (w->products[i].recalled)
			continue;
		w->products[i].recalled = true;
		w->recalled_products[w->n_recalled_products++] = i;
	}
}

static int gen_lists_make(gen_world_t *w)
{
	uint32_t n = w->n_products;
	w->normal = malloc(n * sizeof(uint32_t));
	w->expiring = malloc(n * sizeof(uint32_t));
	w->splittable = malloc(n * sizeof(uint32_t));
	if (w->normal == NULL || w->expiring == NULL || w->splittable == NULL)
		return YIMA_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const gen_product_t *p = &w->products[i];
		if (p->recalled)
			continue;
		w->normal[w->n_normal++] = i;
		if (p->has_expiry)
			w->expiring[w->n_expiring++] = i;
		if (p->units >= 2)
			w->splittable[w->n_splittable++] = i;
	}
	return 0;
}

static void gen_recalls_choose_rest(gen_world_t *w)
{
	for (uint32_t tries = 0; tries < 64 && w->n_recall_batches <
	     GEN_NELEM(w->recall_batches) - 1; tries++) {
		uint32_t i = w->normal[gen_rng_below(&w->rng, w->n_normal)];
		bool dup = false;
		if (!w->products[i].has_batch)
			continue;
		for (uint32_t k = 0; k < w->n_recall_batches; k++)
			dup |= w->recall_batches[k].product == i;
		if (dup)
			continue;
		w->recall_batches[w->n_recall_batches].product = i;
		w->recall_batches[w->n_recall_batches].lot =
			(uint16_t)(GEN_RECALL_LOT0 + w->n_recall_batches);
		w->n_recall_batches++;
	}
	for (uint32_t k = 0; k < GEN_RECALL_CODES; k++)
		w->recall_code_product[k] = gen_pick_product(w, w->normal, w->n_normal);
	w->n_recall_codes = GEN_RECALL_CODES;
	w->next_pack_no = GEN_RECALL_CODES;	/* reserved for recalled codes */
}

int gen_catalog_build(gen_world_t *w, char *why, size_t whylen)
{
	gen_idset_t set;
	size_t slots = 64;
	int rc;
	while (slots < 2 * ((size_t)w->n_products + GEN_NELEM(w->unknown)))
		slots *= 2;
	set.mask = slots - 1;
	if ((set.slot = calloc(slots, sizeof(uint64_t))) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "catalog: out of memory");
	rc = gen_products_make(w, &set);
	free(set.slot);
	if (rc == 0) {
		gen_recalls_choose_products(w);
		rc = gen_lists_make(w);
	}
	if (rc < 0)
		return yima_fail(why, whylen, rc, "catalog: out of memory");
	gen_recalls_choose_rest(w);
	return 0;
}

void gen_catalog_free(gen_world_t *w)
{
	free(w->products);
	free(w->drugs);
	free(w->normal);
	free(w->expiring);
	free(w->splittable);
	w->products = NULL;
	w->drugs = NULL;
	w->normal = w->expiring = w->splittable = NULL;
}

/* Popular products first: index n * u^2 puts half the picks in the first
 * quarter of the list. */
uint32_t gen_pick_product(gen_world_t *w, const uint32_t *list, uint32_t n)
{
	double u = gen_rng_unit(&w->rng);
	uint32_t i = (uint32_t)(u * u * n);
	return list[i < n ? i : n - 1];
}

const gen_product_t *gen_pack_product(const gen_world_t *w, const gen_pack_t *p)
{
	if (p->product & GEN_UNKNOWN_BIT)
		return &w->unknown[p->product & ~GEN_UNKNOWN_BIT];
	return &w->products[p->product];
}

static int gen_line_write(FILE *fp, const gen_str_t *s)
{
	if (s->over)
		return YIMA_ETOOBIG;
	return fwrite(s->p, 1, s->len, fp) == s->len ? 0 : YIMA_EIO;
}

static void gen_catalog_row(const gen_world_t *w, uint32_t i, gen_str_t *s)
{
	const gen_product_t *p = &w->products[i];
	uint64_t h = gen_mix(w->seed_mix ^ (0xca7a1000ULL + i));
	char spec[96];
	const char *maker = gen_makers[(h >> 24) % GEN_NELEM(gen_makers)];
	snprintf(spec, sizeof(spec), "%s×%u%s%s",
		 gen_strengths[(h >> 8) % GEN_NELEM(gen_strengths)], p->units,
		 gen_forms[(h >> 16) % GEN_NELEM(gen_forms)],
		 (h >> 40) % 10 == 0 ? ",OTC" : "");
	gen_str_put(s, p->id, p->id_len);
	gen_str_putc(s, ',');
	gen_str_puts(s, w->drugs[p->drug]);
	gen_str_putc(s, ',');
	gen_str_puts(s, gen_names[h % GEN_NELEM(gen_names)]);
	gen_str_putc(s, ',');
	gen_str_csv(s, spec, strlen(spec), false);
	gen_str_putc(s, ',');
	gen_str_putu(s, p->units, 0);
	gen_str_putc(s, ',');
	gen_str_csv(s, maker, strlen(maker), false);
	if (gen_limits_any(w)) {
		gen_str_putc(s, ',');
		if (p->limit_packs > 0)
			gen_str_putu(s, (uint64_t)p->limit_packs * p->units, 0);
	}
	gen_str_putc(s, '\n');
}

/* max_units_30d of 2-5 packs for a share of the products, chosen by a
 * hash (not the PRNG: a world without limits keeps its bytes). */
void gen_limits_assign(gen_world_t *w)
{
	for (uint32_t i = 0; i < w->n_products && w->opts->limit_rate > 0; i++) {
		uint64_t h = gen_mix(w->seed_mix ^ (0x11a17000ULL + i));
		if ((double)(h % 1000000) < w->opts->limit_rate * 1e6)
			w->products[i].limit_packs = (uint8_t)(2 + (h >> 32) % 4);
	}
}

bool gen_limits_any(const gen_world_t *w)
{
	return w->opts->limit_rate > 0 || w->opts->hoarders > 0;
}

int gen_catalog_write(gen_world_t *w, FILE *fp)
{
	static const char head[] = "product_id,drug_code,name,spec,pack_units,manufacturer";
	if (fp == NULL)
		return 0;
	if (fputs(head, fp) == EOF ||
	    fputs(gen_limits_any(w) ? ",max_units_30d\n" : "\n", fp) == EOF)
		return YIMA_EIO;
	for (uint32_t i = 0; i < w->n_products; i++) {
		char buf[512];
		gen_str_t s;
		gen_str_init(&s, buf, sizeof(buf));
		gen_catalog_row(w, i, &s);
		int rc = gen_line_write(fp, &s);
		if (rc < 0)
			return rc;
		w->st->catalog_rows++;
	}
	return 0;
}

static int gen_recall_line(gen_world_t *w, FILE *fp, gen_str_t *s)
{
	gen_str_putc(s, '\n');
	w->st->recall_lines++;
	return gen_line_write(fp, s);
}

int gen_recalls_write(gen_world_t *w, FILE *fp)
{
	char buf[128];
	gen_str_t s;
	int rc = 0;
	if (fp == NULL)
		return 0;
	for (uint32_t k = 0; k < w->n_recalled_products && rc == 0; k++) {
		const gen_product_t *p = &w->products[w->recalled_products[k]];
		gen_str_init(&s, buf, sizeof(buf));
		gen_str_put(&s, p->id, p->id_len);
		rc = gen_recall_line(w, fp, &s);
	}
	for (uint32_t k = 0; k < w->n_recall_batches && rc == 0; k++) {
		const gen_recall_batch_t *b = &w->recall_batches[k];
		gen_str_init(&s, buf, sizeof(buf));
		gen_str_put(&s, w->products[b->product].id, 14);
		gen_str_putc(&s, ':');
		gen_code_batch(w, b->product, b->lot, &s);
		rc = gen_recall_line(w, fp, &s);
	}
	for (uint32_t k = 0; k < w->n_recall_codes && rc == 0; k++) {
		gen_pack_t p;
		memset(&p, 0, sizeof(p));
		p.no = k;
		p.product = w->recall_code_product[k];
		gen_str_init(&s, buf, sizeof(buf));
		gen_code_canon(w, &p, &s);
		rc = gen_recall_line(w, fp, &s);
	}
	return rc;
}
