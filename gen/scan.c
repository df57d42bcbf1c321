/*
 * scan.c - a pack's trace code and the byte forms a scanner delivers.
 *
 * Identity (spec section 1): a 20-digit code is the product's 7-digit
 * prefix + a 9-digit serial + 4 verification digits; a GS1 code is
 * GTIN-14 + AI 21 serial, with expiry (AI 17), batch (AI 10) and sometimes
 * a production date (AI 11, which the normalizer skips) as attributes.
 * Serials come from the pack number through a keyed bijection onto 10^9
 * (20-digit) or 36^8 (GS1) values, so no two packs share a code and
 * nothing has to be remembered to avoid it.
 *
 * Forms: GS1 codes are written as the raw element string (variable-length
 * fields ended by GS, 0x1D) or the printed "(01)...(21)..." form.  Noise,
 * on a share of rows, adds what keyboard-wedge scanners and Chinese input
 * methods add: AIM prefixes, full-width characters, surrounding
 * whitespace and CR/LF, spaces inside 20-digit codes, a leading GS and
 * AIs out of the usual order.  Every noisy form still normalizes to the
 * canonical code; gen_code_malformed() makes forms that must not.
 */
#include <string.h>

#include "gen_int.h"

#define GEN_M9 1000000000ULL
#define GEN_M36_8 2821109907456ULL	/* 36^8 */
static const char gen_b36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

typedef struct gen_parts {
	const gen_product_t *prod;
	char serial[GEN_SERIAL_MAX + 8];	/* GS1 AI 21, or the 13 digits
						 * after a 7-digit prefix */
	size_t serial_len;
	char exp[7];		/* YYMMDD, "" when none */
	char made[7];		/* AI 11 YYMMDD, "" when none */
	char batch[GEN_BATCH_MAX + 1];
	size_t batch_len;
} gen_parts_t;

/* One element of a GS1 string. */
typedef struct gen_elem {
	const char *ai;
	const char *data;
	size_t len;
	bool var;		/* variable length: GS unless last */
} gen_elem_t;

void gen_code_batch(const gen_world_t *w, uint32_t product, uint16_t lot, gen_str_t *s)
{
	uint64_t h = gen_mix(w->seed_mix ^ ((uint64_t)product << 20) ^ lot ^ 0xba7c0000000ULL);
	gen_str_putc(s, 'B');
	for (int i = 0; i < 7; i++, h /= 36)
		gen_str_putc(s, gen_b36[h % 36]);
}

/* Expiry of a normal lot: 540..1079 days after the lot was made (lots are
 * 20 days apart from the start day); recall-only lots expire 600 days after
 * the end of the run.  A fifth of the lots print day 00. */
void gen_expiry_for_lot(const gen_world_t *w, gen_pack_t *p)
{
	uint64_t h = gen_mix(w->seed_mix ^ ((uint64_t)p->product << 24) ^ p->lot ^ 0xe4b1ULL);
	int64_t base = p->lot >= GEN_RECALL_LOT0
		? w->start_day + w->span / 86400 + 60
		: w->start_day + (int64_t)p->lot * 20;
	int64_t day = base + 540 + (int64_t)(h % 540);
	p->flags &= (uint16_t)~GEN_PF_EXP_D00;
	if ((h >> 32) % 5 == 0) {
		int y, m, d;
		gen_civil_from_days(day, &y, &m, &d);
		day += gen_days_in_month(y, m) - d;
		p->flags |= GEN_PF_EXP_D00;
	}
	p->exp_day = (int32_t)day;
}

static void gen_yymmdd(int64_t day, bool d00, char out[7])
{
	int y, m, d;
	gen_civil_from_days(day, &y, &m, &d);
	if (d00)
		d = 0;
	out[0] = (char)('0' + (y / 10) % 10);
	out[1] = (char)('0' + y % 10);
	out[2] = (char)('0' + m / 10);
	out[3] = (char)('0' + m % 10);
	out[4] = (char)('0' + d / 10);
	out[5] = (char)('0' + d % 10);
	out[6] = '\0';
}

/* A bijection of [0, m) for m <= 2^bits: an invertible mix of bits-bit
 * words (xor-shift and odd multiply are bijective modulo 2^bits), walked
 * until it lands below m.  Unique serials that look random, not like a
 * counter. */
static uint64_t gen_permute(uint64_t x, uint64_t m, int bits, uint64_t key)
{
	uint64_t mask = (1ULL << bits) - 1;
	do {
		x = (x ^ key) & mask;
		x = (x * 0x9e3779b97f4a7c15ULL) & mask;
		x ^= x >> (bits / 2);
		x = (x * 0xd6e8feb86659fd93ULL) & mask;
		x ^= x >> (bits / 3);
	} while (x >= m);
	return x;
}

/* AI 21: 8 unique base-36 characters, then 0-4 (rarely up to 12) more,
 * a few of them from the rest of the GS1 character set. */
static void gen_serial_gs1(const gen_world_t *w, uint64_t no, gen_parts_t *cp)
{
	static const char odd[] = "-._/abcxyz-.%";
	uint64_t v = gen_permute(no, GEN_M36_8, 42, w->seed_mix);
	uint64_t h = gen_mix(w->seed_mix ^ no ^ 0x5e71a1ULL);
	size_t n = 0, extra = h % 5;
	for (int i = 0; i < 8; i++, v /= 36)
		cp->serial[n++] = gen_b36[v % 36];
	h >>= 3;
	if (h % 100 == 0)
		extra = 5 + (h >> 7) % 8;
	h = gen_mix(h);
	for (size_t i = 0; i < extra; i++, h /= 36)
		cp->serial[n++] = gen_b36[h % 36];
	h = gen_mix(h);
	if (extra > 0 && h % 50 == 0)		/* other GS1 characters */
		cp->serial[n - 1] = odd[(h >> 8) % (sizeof(odd) - 1)];
	else if (extra > 0 && h % 500 == 1)	/* needs CSV quoting */
		cp->serial[n - 1] = (h >> 8) % 2 ? ',' : '"';
	cp->serial_len = n;
	cp->serial[n] = '\0';
}

static void gen_parts(const gen_world_t *w, const gen_pack_t *p, gen_parts_t *cp)
{
	const gen_product_t *prod = gen_pack_product(w, p);
	memset(cp, 0, sizeof(*cp));
	cp->prod = prod;
	if (!prod->gtin) {
		uint64_t s9 = gen_permute(p->no, GEN_M9, 30, w->seed_mix >> 7);
		uint64_t v4 = gen_mix(w->seed_mix ^ p->no ^ 0x7e41f4ULL) % 10000;
		uint64_t v = s9 * 10000 + v4;
		for (int i = 12; i >= 0; i--, v /= 10)
			cp->serial[i] = (char)('0' + v % 10);
		cp->serial_len = 13;
		return;
	}
	gen_serial_gs1(w, p->no, cp);
	if (prod->has_expiry)
		gen_yymmdd(p->exp_day, (p->flags & GEN_PF_EXP_D00) != 0, cp->exp);
	if (prod->has_prod_date)
		gen_yymmdd(p->exp_day - 730, false, cp->made);
	if (prod->has_batch) {
		gen_str_t b;
		gen_str_init(&b, cp->batch, sizeof(cp->batch));
		gen_code_batch(w, p->product, p->lot, &b);
		cp->batch_len = b.len;
	}
}

void gen_code_canon(const gen_world_t *w, const gen_pack_t *p, gen_str_t *s)
{
	gen_parts_t cp;
	gen_parts(w, p, &cp);
	if (!cp.prod->gtin) {
		gen_str_put(s, cp.prod->id, 7);
		gen_str_put(s, cp.serial, cp.serial_len);
		return;
	}
	gen_str_puts(s, "01");
	gen_str_put(s, cp.prod->id, 14);
	gen_str_puts(s, "21");
	gen_str_put(s, cp.serial, cp.serial_len);
}

/* The elements in the usual order 01, 11, 17, 10, 21. */
static size_t gen_elems(const gen_parts_t *cp, gen_elem_t *e)
{
	size_t n = 0;
	e[n++] = (gen_elem_t){ "01", cp->prod->id, 14, false };
	if (cp->made[0])
		e[n++] = (gen_elem_t){ "11", cp->made, 6, false };
	if (cp->exp[0])
		e[n++] = (gen_elem_t){ "17", cp->exp, 6, false };
	if (cp->batch_len)
		e[n++] = (gen_elem_t){ "10", cp->batch, cp->batch_len, true };
	e[n++] = (gen_elem_t){ "21", cp->serial, cp->serial_len, true };
	return n;
}

/* A permutation other than the identity (n >= 2). */
static void gen_shuffle(gen_rng_t *r, gen_elem_t *e, size_t n)
{
	for (;;) {
		bool moved = false;
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = gen_rng_below(r, (uint32_t)i + 1);
			gen_elem_t t = e[i];
			e[i] = e[j];
			e[j] = t;
			moved |= j != i;
		}
		if (moved)
			return;
	}
}

static void gen_put_raw(gen_str_t *s, const gen_elem_t *e, size_t n, bool lead_gs)
{
	if (lead_gs)
		gen_str_putc(s, 0x1d);
	for (size_t i = 0; i < n; i++) {
		gen_str_puts(s, e[i].ai);
		gen_str_put(s, e[i].data, e[i].len);
		if (e[i].var && i + 1 < n)
			gen_str_putc(s, 0x1d);
	}
}

static void gen_put_human(gen_str_t *s, const gen_elem_t *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gen_str_putc(s, '(');
		gen_str_puts(s, e[i].ai);
		gen_str_putc(s, ')');
		gen_str_put(s, e[i].data, e[i].len);
	}
}

/* 20 digits with spaces inside: groups of 4, or 1-3 single spaces. */
static void gen_put_spaced(gen_rng_t *r, gen_str_t *s, const char *d)
{
	if (gen_rng_chance(r, 0.4)) {
		for (int i = 0; i < 20; i++) {
			if (i > 0 && i % 4 == 0)
				gen_str_putc(s, ' ');
			gen_str_putc(s, d[i]);
		}
		return;
	}
	uint32_t mask = 0, k = 1 + gen_rng_below(r, 3);
	for (uint32_t i = 0; i < k; i++)
		mask |= 1u << (1 + gen_rng_below(r, 19));
	for (int i = 0; i < 20; i++) {
		if (mask & (1u << i))
			gen_str_puts(s, gen_rng_chance(r, 0.8) ? " " : "  ");
		gen_str_putc(s, d[i]);
	}
}

/* Full-width forms U+FF01..U+FF5E of ASCII 0x21..0x7E, as UTF-8; all of
 * the body, or (one time in five) a random part of it.  GS and spaces
 * stay as they are. */
static void gen_put_fullwidth(gen_rng_t *r, gen_str_t *s, const char *p, size_t n)
{
	bool some = gen_rng_chance(r, 0.2);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c > 0x7e || (some && gen_rng_chance(r, 0.5))) {
			gen_str_putc(s, (char)c);
			continue;
		}
		unsigned cp = 0xff01u + (c - 0x21u);
		char u[3] = { (char)(0xe0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3f)),
			      (char)(0x80 | (cp & 0x3f)) };
		gen_str_put(s, u, 3);
	}
}

/* Pick 1-2 noise kinds that apply to this code kind. */
static unsigned gen_noise_pick(gen_rng_t *r, bool gtin)
{
	static const uint8_t d20[] = { GEN_NOISE_AIM, GEN_NOISE_FULLWIDTH,
		GEN_NOISE_LEADING_WS, GEN_NOISE_TRAILING_WS, GEN_NOISE_TRAILING_WS,
		GEN_NOISE_INNER_SPACE, GEN_NOISE_INNER_SPACE, GEN_NOISE_QUOTED };
	static const uint8_t gs1[] = { GEN_NOISE_AIM, GEN_NOISE_FULLWIDTH,
		GEN_NOISE_LEADING_WS, GEN_NOISE_TRAILING_WS, GEN_NOISE_TRAILING_WS,
		GEN_NOISE_GS1_LEADING_GS, GEN_NOISE_GS1_ORDER, GEN_NOISE_GS1_ORDER,
		GEN_NOISE_QUOTED };
	const uint8_t *k = gtin ? gs1 : d20;
	uint32_t n = gtin ? sizeof(gs1) : sizeof(d20);
	unsigned mask = 1u << k[gen_rng_below(r, n)];
	if (gen_rng_chance(r, 0.3))
		mask |= 1u << k[gen_rng_below(r, n)];
	return mask;
}

static unsigned gen_put_body(gen_world_t *w, const gen_parts_t *cp, unsigned mask,
			     gen_str_t *body)
{
	gen_elem_t e[5];
	size_t n;
	if (!cp->prod->gtin) {
		char d[21];
		memcpy(d, cp->prod->id, 7);
		memcpy(d + 7, cp->serial, 13);
		d[20] = '\0';
		if (mask & (1u << GEN_NOISE_INNER_SPACE))
			gen_put_spaced(&w->rng, body, d);
		else
			gen_str_put(body, d, 20);
		return mask;
	}
	n = gen_elems(cp, e);
	if (mask & (1u << GEN_NOISE_GS1_ORDER))
		gen_shuffle(&w->rng, e, n);
	if ((mask & (1u << GEN_NOISE_GS1_LEADING_GS)) || gen_rng_chance(&w->rng, 0.45)) {
		gen_put_raw(body, e, n, (mask & (1u << GEN_NOISE_GS1_LEADING_GS)) != 0);
		return mask | 1u << GEN_NOISE_GS1_RAW;
	}
	gen_put_human(body, e, n);
	return mask | 1u << GEN_NOISE_GS1_HUMAN;
}

unsigned gen_code_scan(gen_world_t *w, const gen_pack_t *p, bool noisy, gen_str_t *s)
{
	static const char *const aim[] = { "]d2", "]Q3", "]C1", "]e0" };
	static const char *const lead[] = { " ", "  ", "\t", " \t" };
	static const char *const trail[] = { " ", "  ", "\t", "\r", "\n", "\r\n", " \r\n" };
	gen_parts_t cp;
	char bbuf[256];
	gen_str_t body;
	unsigned mask = 0;

	gen_parts(w, p, &cp);
	if (noisy)
		mask = gen_noise_pick(&w->rng, cp.prod->gtin);
	gen_str_init(&body, bbuf, sizeof(bbuf));
	mask = gen_put_body(w, &cp, mask, &body);
	if (mask & (1u << GEN_NOISE_AIM))
		gen_str_puts(s, aim[gen_rng_below(&w->rng, 4)]);
	if (mask & (1u << GEN_NOISE_LEADING_WS))
		gen_str_puts(s, lead[gen_rng_below(&w->rng, 4)]);
	if (mask & (1u << GEN_NOISE_FULLWIDTH))
		gen_put_fullwidth(&w->rng, s, body.p, body.len);
	else
		gen_str_put(s, body.p, body.len);
	if (mask & (1u << GEN_NOISE_TRAILING_WS)) {
		const char *t = trail[gen_rng_below(&w->rng, 7)];
		gen_str_puts(s, t);
		if (strpbrk(t, "\r\n") != NULL)
			mask |= 1u << GEN_NOISE_CRLF;
	}
	if (body.over)
		s->over = true;
	return mask;
}

static enum gen_malformed gen_mal_pick(gen_rng_t *r, bool gtin)
{
	static const uint8_t d20[] = { GEN_MAL_DIGITS19, GEN_MAL_DIGITS19,
		GEN_MAL_DIGITS21, GEN_MAL_DIGITS21, GEN_MAL_LETTER, GEN_MAL_CONTROL,
		GEN_MAL_EMPTY };
	static const uint8_t gs1[] = { GEN_MAL_CHECK_DIGIT, GEN_MAL_CHECK_DIGIT,
		GEN_MAL_UNKNOWN_AI, GEN_MAL_LONG_SERIAL, GEN_MAL_BAD_DATE,
		GEN_MAL_NO_SERIAL, GEN_MAL_DOUBLE_GS, GEN_MAL_SPACE_PRINTED,
		GEN_MAL_CONTROL, GEN_MAL_EMPTY };
	if (gtin)
		return (enum gen_malformed)gs1[gen_rng_below(r, sizeof(gs1))];
	return (enum gen_malformed)d20[gen_rng_below(r, sizeof(d20))];
}

static void gen_mal_digits(gen_world_t *w, const gen_parts_t *cp,
			   enum gen_malformed k, gen_str_t *s)
{
	char d[24];
	size_t n = 20;
	/* position >= 1: the code keeps its leading 8, which starts no GS1
	 * string holding AI 01, so it cannot turn into a valid GS1 code */
	size_t at = 1 + gen_rng_below(&w->rng, 19);
	memcpy(d, cp->prod->id, 7);
	memcpy(d + 7, cp->serial, 13);
	if (k == GEN_MAL_DIGITS19) {
		memmove(d + at, d + at + 1, n - at - 1);
		n--;
	} else if (k == GEN_MAL_DIGITS21) {
		memmove(d + at + 1, d + at, n - at);
		d[at] = (char)('0' + gen_rng_below(&w->rng, 10));
		n++;
	} else {
		char *z = memchr(d + 1, '0', 19);
		*(z != NULL ? z : d + at) = 'O';
	}
	gen_str_put(s, d, n);
}

/* A GS1 malformation on a copy of the parts and elements. */
static void gen_mal_gs1(gen_world_t *w, gen_parts_t *cp, enum gen_malformed k, gen_str_t *s)
{
	gen_elem_t e[6];
	char gtin[15], date[7];
	size_t n;
	bool human = k == GEN_MAL_UNKNOWN_AI || k == GEN_MAL_SPACE_PRINTED ||
		     (k != GEN_MAL_DOUBLE_GS && gen_rng_chance(&w->rng, 0.5));
	memcpy(gtin, cp->prod->id, 15);
	n = gen_elems(cp, e);
	if (k == GEN_MAL_CHECK_DIGIT) {
		gtin[13] = (char)('0' + (gtin[13] - '0' + 1 + gen_rng_below(&w->rng, 9)) % 10);
		e[0].data = gtin;
	} else if (k == GEN_MAL_UNKNOWN_AI) {
		e[n++] = (gen_elem_t){ gen_rng_chance(&w->rng, 0.5) ? "19" : "14", "7A", 2, true };
	} else if (k == GEN_MAL_LONG_SERIAL) {
		while (cp->serial_len < 21 + gen_rng_below(&w->rng, 4))
			cp->serial[cp->serial_len++] = 'X';
		e[n - 1].len = cp->serial_len;
	} else if (k == GEN_MAL_BAD_DATE) {
		int64_t day = w->start_day + 700;
		gen_yymmdd(day, false, date);
		date[2] = '1';
		date[3] = '3';
		memmove(&e[2], &e[1], (n - 1) * sizeof(e[0]));
		e[1] = (gen_elem_t){ "17", date, 6, false };
		n++;
		for (size_t i = 2; i < n; i++)	/* drop the real AI 17 */
			if (strcmp(e[i].ai, "17") == 0)
				memmove(&e[i], &e[i + 1], (--n - i) * sizeof(e[0]));
	} else if (k == GEN_MAL_NO_SERIAL) {
		n--;
	}
	if (human) {
		gen_put_human(s, e, n);
		if (k == GEN_MAL_SPACE_PRINTED) {	/* after the first ')' */
			char *c = memchr(s->p, ')', s->len);
			size_t at = (size_t)(c - s->p) + 1;
			gen_str_putc(s, ' ');
			memmove(s->p + at + 1, s->p + at, s->len - at - 1);
			s->p[at] = ' ';
		}
		return;
	}
	if (k == GEN_MAL_DOUBLE_GS) {	/* serial first: a GS must follow it */
		gen_elem_t t = e[n - 1];
		memmove(&e[2], &e[1], (n - 2) * sizeof(e[0]));
		e[1] = t;
		gen_put_raw(s, e, 2, false);
		gen_str_putc(s, 0x1d);
		gen_str_putc(s, 0x1d);
		gen_put_raw(s, e + 2, n - 2, false);
		if (n == 2)
			gen_str_puts(s, "10LOT1");
		return;
	}
	gen_put_raw(s, e, n, false);
}

enum gen_malformed gen_code_malformed(gen_world_t *w, const gen_pack_t *p, gen_str_t *s)
{
	gen_parts_t cp;
	enum gen_malformed k;
	size_t from = s->len;
	gen_parts(w, p, &cp);
	k = gen_mal_pick(&w->rng, cp.prod->gtin);
	switch (k) {
	case GEN_MAL_EMPTY:
		if (gen_rng_chance(&w->rng, 0.3))
			gen_str_puts(s, "   ");
		return k;
	case GEN_MAL_DIGITS19:
	case GEN_MAL_DIGITS21:
	case GEN_MAL_LETTER:
		gen_mal_digits(w, &cp, k, s);
		return k;
	case GEN_MAL_CONTROL:
		if (cp.prod->gtin) {
			gen_elem_t e[5];
			gen_put_human(s, e, gen_elems(&cp, e));
		} else {
			gen_str_put(s, cp.prod->id, 7);
			gen_str_put(s, cp.serial, cp.serial_len);
		}
		if (s->len - from >= 2 && !s->over) {	/* BEL inside */
			size_t at = from + 1 + gen_rng_below(&w->rng, (uint32_t)(s->len - from - 1));
			gen_str_putc(s, 0x07);
			memmove(s->p + at + 1, s->p + at, s->len - at - 1);
			s->p[at] = 0x07;
		}
		return k;
	default:
		gen_mal_gs1(w, &cp, k, s);
		return k;
	}
}
