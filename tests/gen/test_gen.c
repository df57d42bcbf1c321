/*
 * test_gen.c - the world generator (gen/, yima/gen.h).
 *
 * Worlds are written to memory (open_memstream) and read back with a
 * small RFC 4180 splitter local to this file: the generator's output is
 * checked against spec sections 2 and 3 independently of verifier/csv.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "yima/gen/gen.h"
#include "testutil.h"

typedef struct world {
	char *buf[5];		/* catalog, recalls, events, canon, truth */
	size_t len[5];
	gen_stats_t st;
} world_t;

enum { W_CAT, W_REC, W_EV, W_CANON, W_TRUTH };

static void world_make(const gen_opts_t *o, world_t *w)
{
	FILE *fp[5];
	char why[256] = "";
	memset(w, 0, sizeof(*w));
	for (int i = 0; i < 5; i++)
		cr_assert_not_null(fp[i] = open_memstream(&w->buf[i], &w->len[i]));
	gen_files_t files = { fp[0], fp[1], fp[2], fp[3], fp[4], NULL };
	int rc = gen_world(o, &files, &w->st, why, sizeof(why));
	cr_assert_eq(rc, 0, "gen_world: %d %s", rc, why);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(fclose(fp[i]), 0);
}

static void world_free(world_t *w)
{
	for (int i = 0; i < 5; i++)
		free(w->buf[i]);
}

static void small_opts(gen_opts_t *o, uint64_t events)
{
	gen_opts_default(o);
	o->events = events;
	o->products = 60;
	o->facilities = 6;
}

/* ---- a minimal RFC 4180 row splitter ---- */

#define MAXF 12
#define MAXFLEN 512

typedef struct row {
	int nf;				/* fields seen (may exceed MAXF) */
	char f[MAXF][MAXFLEN];		/* unquoted, NUL-terminated */
	size_t fl[MAXF];
} row_t;

static void row_putc(row_t *r, char c)
{
	if (r->nf < MAXF && r->fl[r->nf] + 1 < MAXFLEN) {
		r->f[r->nf][r->fl[r->nf]++] = c;
		r->f[r->nf][r->fl[r->nf]] = '\0';
	}
}

/* Next non-empty row from [*p, e); false at the end. */
static bool row_next(const char **p, const char *e, row_t *r)
{
	const char *s = *p;
	while (s < e && (*s == '\n' || (*s == '\r' && s + 1 < e && s[1] == '\n')))
		s += *s == '\r' ? 2 : 1;
	if (s >= e)
		return false;
	memset(r, 0, sizeof(*r));
	bool quoted = false, at_start = true;
	for (; s < e; s++) {
		char c = *s;
		if (quoted) {
			if (c == '"' && s + 1 < e && s[1] == '"')
				row_putc(r, *s++);
			else if (c == '"')
				quoted = false;
			else
				row_putc(r, c);
			continue;
		}
		if (c == '"' && at_start) {
			quoted = true;
			at_start = false;
		} else if (c == ',') {
			r->nf++;
			at_start = true;
		} else if (c == '\n' || (c == '\r' && s + 1 < e && s[1] == '\n')) {
			s += c == '\r' ? 2 : 1;
			break;
		} else {
			row_putc(r, c);
			at_start = false;
		}
	}
	r->nf++;
	*p = s;
	return true;
}

/* Lines of a side file (canon, truth). */
static size_t count_lines(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

static const char EV_HEAD[] = "time,facility,type,code,drug,qty,settlement,patient,counterparty\n";

/* ---- determinism ---- */

Test(gen, same_seed_same_bytes)
{
	gen_opts_t o;
	world_t a, b;
	small_opts(&o, 3000);
	world_make(&o, &a);
	world_make(&o, &b);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(a.len[i], b.len[i], "output %d differs in length", i);
		cr_assert(memcmp(a.buf[i], b.buf[i], a.len[i]) == 0, "output %d differs", i);
	}
	world_free(&a);
	world_free(&b);
}

Test(gen, other_seed_other_bytes)
{
	gen_opts_t o;
	world_t a, b;
	small_opts(&o, 3000);
	world_make(&o, &a);
	o.seed = 2;
	world_make(&o, &b);
	cr_assert(a.len[W_EV] != b.len[W_EV] ||
		  memcmp(a.buf[W_EV], b.buf[W_EV], a.len[W_EV]) != 0);
	cr_assert(a.len[W_CAT] != b.len[W_CAT] ||
		  memcmp(a.buf[W_CAT], b.buf[W_CAT], a.len[W_CAT]) != 0);
	world_free(&a);
	world_free(&b);
}

/* ---- row count, header, fields ---- */

static uint64_t count_rows(const world_t *w, uint64_t *not9)
{
	const char *p = w->buf[W_EV], *e = p + w->len[W_EV];
	row_t r;
	uint64_t n = 0;
	cr_assert(row_next(&p, e, &r), "no header");
	*not9 = 0;
	while (row_next(&p, e, &r)) {
		n++;
		*not9 += r.nf != 9;
	}
	return n;
}

Test(gen, exact_row_count)
{
	static const uint64_t counts[] = { 0, 1, 7, 999, 12345 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		gen_opts_t o;
		world_t w;
		uint64_t not9;
		small_opts(&o, counts[i]);
		world_make(&o, &w);
		cr_assert_eq(count_rows(&w, &not9), counts[i]);
		cr_assert_eq(w.st.rows, counts[i]);
		cr_assert_eq(count_lines(w.buf[W_CANON], w.len[W_CANON]), counts[i]);
		cr_assert_eq(count_lines(w.buf[W_TRUTH], w.len[W_TRUTH]), counts[i]);
		world_free(&w);
	}
}

Test(gen, header_and_nine_fields)
{
	gen_opts_t o;
	world_t w;
	uint64_t not9;
	small_opts(&o, 5000);
	o.bad_row_rate = 0;	/* broken rows are the only ones allowed 8 or 10 */
	world_make(&o, &w);
	cr_assert(w.len[W_EV] > sizeof(EV_HEAD));
	cr_assert(memcmp(w.buf[W_EV], EV_HEAD, sizeof(EV_HEAD) - 1) == 0, "spec section 3 header");
	cr_assert_eq(count_rows(&w, &not9), 5000);
	cr_assert_eq(not9, 0, "spec section 3: every row has exactly nine fields");
	world_free(&w);
}

Test(gen, only_bad_rows_break_the_field_count)
{
	gen_opts_t o;
	world_t w;
	uint64_t not9;
	small_opts(&o, 20000);
	o.bad_row_rate = 0.05;
	world_make(&o, &w);
	count_rows(&w, &not9);
	cr_assert_gt(not9, 0);
	cr_assert_eq(not9, w.st.bad[GEN_BAD_FIELDS8] + w.st.bad[GEN_BAD_FIELDS10]);
	world_free(&w);
}

/* ---- coverage of types, noise, fraud ---- */

static int type_index(const char *s)
{
	static const char *const names[] = { "receive", "return", "dispense", "refund",
		"transfer_out", "transfer_in", "stocktake", "destroy" };
	for (int i = 0; i < 8; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

Test(gen, every_type_and_noise_in_20000_rows)
{
	gen_opts_t o;
	world_t w;
	row_t r;
	uint64_t seen[8] = { 0 };
	gen_opts_default(&o);
	o.events = 20000;
	world_make(&o, &w);
	const char *p = w.buf[W_EV], *e = p + w.len[W_EV];
	row_next(&p, e, &r);
	while (row_next(&p, e, &r)) {
		int t = type_index(r.f[2]);
		if (t >= 0)
			seen[t]++;
	}
	for (int t = 0; t < 8; t++)
		cr_assert_gt(seen[t], 0, "event type %d never written", t + 1);
	for (int t = 1; t < GEN_TYPE_COUNT; t++)
		cr_assert_gt(w.st.by_type[t], 0);
	for (int k = 0; k < GEN_NOISE_COUNT; k++)
		cr_assert_gt(w.st.noise[k], 0, "noise %s never applied", gen_noise_name(k));
	/* and the bytes show it */
	cr_assert_not_null(memmem(w.buf[W_EV], w.len[W_EV], "\x1d", 1), "GS separator");
	cr_assert_not_null(memmem(w.buf[W_EV], w.len[W_EV], "\xef\xbc", 2), "full-width");
	cr_assert_not_null(memmem(w.buf[W_EV], w.len[W_EV], "(01)", 4), "printed GS1");
	cr_assert_not_null(memmem(w.buf[W_EV], w.len[W_EV], "\r\"", 2), "CR inside quotes");
	double noisy = (double)w.st.noisy_rows / (double)w.st.rows;
	cr_assert(noisy > 0.07 && noisy < 0.13, "noise rate %.3f, asked 0.10", noisy);
	world_free(&w);
}

Test(gen, every_fraud_pattern_malformed_and_bad_kind)
{
	gen_opts_t o;
	world_t w;
	gen_opts_default(&o);
	o.events = 30000;
	o.fraud_rate = 0.5;
	o.malformed_rate = 0.05;
	o.bad_row_rate = 0.05;
	world_make(&o, &w);
	for (int f = 1; f < GEN_FRAUD_COUNT; f++) {
		const char *name = gen_fraud_name(f);
		char line[64];
		cr_assert_gt(w.st.fraud[f], 0, "pattern %s never injected", name);
		snprintf(line, sizeof(line), "\n%s\n", name);
		cr_assert_not_null(memmem(w.buf[W_TRUTH], w.len[W_TRUTH], line, strlen(line)),
				   "no row labelled %s", name);
	}
	for (int k = 0; k < GEN_MAL_COUNT; k++)
		cr_assert_gt(w.st.malformed[k], 0, "malformed %s never", gen_malformed_name(k));
	for (int k = 0; k < GEN_BAD_COUNT; k++)
		cr_assert_gt(w.st.bad[k], 0, "bad record %s never", gen_bad_name(k));
	world_free(&w);
}

Test(gen, fraud_rate_is_the_share_of_packs)
{
	gen_opts_t o;
	world_t w;
	uint64_t fraud = 0;
	gen_opts_default(&o);
	o.events = 50000;
	world_make(&o, &w);
	for (int f = 1; f < GEN_FRAUD_COUNT; f++)
		fraud += w.st.fraud[f];
	double share = (double)fraud / (double)w.st.packs;
	cr_assert(share > 0.012 && share < 0.03, "fraud share %.4f, asked 0.02", share);
	cr_assert_eq(w.st.fraud[GEN_FRAUD_NONE] + fraud, w.st.packs);
	world_free(&w);
}

/* ---- side files ---- */

Test(gen, canon_empty_exactly_for_malformed_and_bad_rows)
{
	gen_opts_t o;
	world_t w;
	small_opts(&o, 20000);
	o.malformed_rate = 0.02;
	o.bad_row_rate = 0.02;
	world_make(&o, &w);
	const char *c = w.buf[W_CANON], *t = w.buf[W_TRUTH];
	const char *ce = c + w.len[W_CANON], *te = t + w.len[W_TRUTH];
	uint64_t empty = 0, flagged = 0;
	while (c < ce && t < te) {
		const char *cn = memchr(c, '\n', (size_t)(ce - c));
		const char *tn = memchr(t, '\n', (size_t)(te - t));
		cr_assert(cn && tn);
		bool is_empty = cn == c;
		bool is_flag = (tn - t == 9 && memcmp(t, "MALFORMED", 9) == 0) ||
			       (tn - t == 10 && memcmp(t, "BAD_RECORD", 10) == 0);
		cr_assert_eq(is_empty, is_flag);
		if (!is_empty) {	/* 20 digits, or 01 + GTIN-14 + 21 + serial */
			size_t n = (size_t)(cn - c);
			cr_assert(n == 20 || (n >= 19 && n <= 38 && memcmp(c, "01", 2) == 0 &&
					      memcmp(c + 16, "21", 2) == 0), "%.*s", (int)n, c);
		}
		empty += is_empty;
		flagged += is_flag;
		c = cn + 1;
		t = tn + 1;
	}
	uint64_t mal = 0, bad = 0;
	for (int k = 0; k < GEN_MAL_COUNT; k++)
		mal += w.st.malformed[k];
	for (int k = 0; k < GEN_BAD_COUNT; k++)
		bad += w.st.bad[k];
	cr_assert_eq(flagged, mal + bad);
	cr_assert_gt(empty, 0);
	world_free(&w);
}

/* ---- time order ---- */

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* Unix seconds of a well-formed row time; false for the broken ones. */
static bool parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return false;
	if (mo > 12 || h > 23 || (mo == 2 && d > 29))
		return false;
	const char *z = s + n;
	if (*z == '.')
		while (*++z >= '0' && *z <= '9')
			;
	int off = 0;
	if (*z == 'Z' || *z == 'z')
		off = 0;
	else if ((*z == '+' || *z == '-') && strlen(z) == 6)
		off = (*z == '-' ? -1 : 1) * (atoi(z + 1) * 60 + atoi(z + 4)) * 60;
	else
		return false;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return true;
}

Test(gen, rows_in_time_order_within_the_days)
{
	gen_opts_t o;
	world_t w;
	row_t r;
	int64_t last = INT64_MIN, t;
	uint64_t parsed = 0;
	small_opts(&o, 20000);
	o.days = 10;
	world_make(&o, &w);
	const char *p = w.buf[W_EV], *e = p + w.len[W_EV];
	row_next(&p, e, &r);
	while (row_next(&p, e, &r)) {
		if (!parse_time(r.f[0], &t))
			continue;
		cr_assert_geq(t, last, "row time %s goes back", r.f[0]);
		last = t;
		parsed++;
	}
	cr_assert_gt(parsed, 19000);
	int64_t start = days_from_civil(2026, 1, 5) * 86400 - 8 * 3600;
	cr_assert_geq(w.st.first_time, start);
	/* paced to fill the days: the last row lands near the end */
	cr_assert(w.st.last_time > start + 8 * 86400 && w.st.last_time < start + 12 * 86400,
		  "last row %lld s after the start", (long long)(w.st.last_time - start));
	world_free(&w);
}

/* ---- catalog and recall list ---- */

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool gtin_ok(const char *g)
{
	int sum = 0;
	for (int i = 0; i < 13; i++)
		sum += (g[i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (10 - sum % 10) % 10 == g[13] - '0';
}

Test(gen, catalog_rows_follow_spec_section_2)
{
	gen_opts_t o;
	world_t w;
	row_t r;
	int gtins = 0, prefixes = 0, rows = 0, quoted = 0;
	small_opts(&o, 10);
	o.products = 400;
	world_make(&o, &w);
	const char *p = w.buf[W_CAT], *e = p + w.len[W_CAT];
	cr_assert(row_next(&p, e, &r));
	cr_assert_eq(r.nf, 6);
	cr_assert_str_eq(r.f[0], "product_id");
	cr_assert_str_eq(r.f[1], "drug_code");
	cr_assert_str_eq(r.f[4], "pack_units");
	while (row_next(&p, e, &r)) {
		size_t n = strlen(r.f[0]);
		rows++;
		cr_assert_eq(r.nf, 6);
		cr_assert((n == 7 || n == 14) && all_digits(r.f[0], n), "product id %s", r.f[0]);
		if (n == 14) {
			cr_assert(gtin_ok(r.f[0]), "GTIN-14 %s: bad check digit", r.f[0]);
			gtins++;
		} else {
			prefixes++;
		}
		size_t dl = strlen(r.f[1]);
		cr_assert(dl >= 1 && dl <= 32 && strspn(r.f[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == dl,
			  "drug code %s", r.f[1]);
		int units = atoi(r.f[4]);
		cr_assert(units >= 1 && units <= 100, "pack_units %s", r.f[4]);
		quoted += strchr(r.f[3], ',') != NULL || strchr(r.f[5], '"') != NULL;
	}
	cr_assert_eq(rows, 400);
	cr_assert_eq(w.st.catalog_rows, 400);
	cr_assert_gt(gtins, 100);
	cr_assert_gt(prefixes, 100);
	cr_assert_gt(quoted, 0, "some fields need CSV quoting");
	cr_assert_not_null(memmem(w.buf[W_CAT], w.len[W_CAT], "\"\"", 2), "a doubled quote");
	world_free(&w);
}

Test(gen, recall_lines_are_recall_add_arguments)
{
	gen_opts_t o;
	world_t w;
	small_opts(&o, 10);
	o.products = 300;
	world_make(&o, &w);
	char *save = NULL, *buf = strndup(w.buf[W_REC], w.len[W_REC]);
	int lines = 0, products = 0, batches = 0, codes = 0;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(l);
		char *colon = strchr(l, ':');
		lines++;
		if ((n == 7 || n == 14) && all_digits(l, n))
			products++;
		else if (colon != NULL && colon - l == 14 && all_digits(l, 14))
			batches++;
		else if ((n == 20 && all_digits(l, 20)) || (memcmp(l, "01", 2) == 0 && l[16] == '2'))
			codes++;
		else
			cr_assert_fail("recall line %s", l);
	}
	cr_assert_eq((uint64_t)lines, w.st.recall_lines);
	cr_assert_gt(products, 0);
	cr_assert_gt(batches, 0);
	cr_assert_gt(codes, 0);
	free(buf);
	world_free(&w);
}

/* ---- errors ---- */

Test(gen, bad_options_are_einval)
{
	gen_opts_t o;
	char why[128];
	FILE *fp = fopen("/dev/null", "w");
	gen_files_t files = { NULL, NULL, fp, NULL, NULL, NULL };
	cr_assert_not_null(fp);
	gen_opts_default(&o);
	o.facilities = 0;
	cr_assert_eq(gen_world(&o, &files, NULL, why, sizeof(why)), YIMA_EINVAL);
	cr_assert(strstr(why, "facilities") != NULL, "%s", why);
	gen_opts_default(&o);
	o.start_month = 2;
	o.start_day = 30;
	cr_assert_eq(gen_world(&o, &files, NULL, why, sizeof(why)), YIMA_EINVAL);
	gen_opts_default(&o);
	o.noise_rate = 1.5;
	cr_assert_eq(gen_world(&o, &files, NULL, why, sizeof(why)), YIMA_EINVAL);
	gen_opts_default(&o);
	files.events = NULL;
	cr_assert_eq(gen_world(&o, &files, NULL, why, sizeof(why)), YIMA_EINVAL);
	fclose(fp);
}

Test(gen, write_failure_is_eio)
{
	gen_opts_t o;
	char why[128];
	FILE *fp = fopen("/dev/full", "w");
	if (fp == NULL)
		cr_skip_test("no /dev/full");
	gen_files_t files = { NULL, NULL, fp, NULL, NULL, NULL };
	small_opts(&o, 50000);
	cr_assert_eq(gen_world(&o, &files, NULL, why, sizeof(why)), YIMA_EIO);
	fclose(fp);
}

Test(gen, small_pool_still_bounded_and_exact)
{
	gen_opts_t o;
	world_t w;
	uint64_t not9;
	small_opts(&o, 20000);
	o.max_live = 64;
	world_make(&o, &w);
	cr_assert_leq(w.st.max_live_seen, 64);
	cr_assert_eq(count_rows(&w, &not9), 20000);
	world_free(&w);
}

Test(gen, files_on_disk)
{
	char *dir = tu_mkdtemp();
	char path[512];
	gen_opts_t o;
	small_opts(&o, 1000);
	snprintf(path, sizeof(path), "%s/events.csv", dir);
	FILE *ev = fopen(path, "wb");
	cr_assert_not_null(ev);
	gen_files_t files = { NULL, NULL, ev, NULL, NULL, NULL };
	char why[128];
	cr_assert_eq(gen_world(&o, &files, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(fclose(ev), 0);
	FILE *in = fopen(path, "rb");
	char head[sizeof(EV_HEAD)];
	cr_assert_eq(fread(head, 1, sizeof(EV_HEAD) - 1, in), sizeof(EV_HEAD) - 1);
	cr_assert(memcmp(head, EV_HEAD, sizeof(EV_HEAD) - 1) == 0);
	fclose(in);
	tu_rmtree(dir);
	free(dir);
}

/* Spec section 7's patients (issue 10): limits in the catalog only when
 * asked for, and hoarders and resellers whose truth adds up: each
 * hoarder's over-limit sales and each reseller's returned packs are rows
 * labelled in events.truth, as patients.truth counts them. */
Test(gen, limits_hoarders_and_resellers)
{
	gen_opts_t o;
	world_t w;
	char *people = NULL;
	size_t plen = 0;
	char why[256] = "";

	small_opts(&o, 30000);
	world_make(&o, &w);
	static const char head[] = "product_id,drug_code,name,spec,pack_units,manufacturer\n";
	static const char head_limits[] = "product_id,drug_code,name,spec,pack_units,manufacturer,"
					  "max_units_30d\n";
	cr_assert(strncmp(w.buf[W_CAT], head, sizeof head - 1) == 0,
		  "no limits asked for: the catalog is as before");
	world_free(&w);

	o.limit_rate = 0.3;
	o.hoarders = 4;
	o.resellers = 5;
	FILE *fp[6];
	memset(&w, 0, sizeof(w));
	for (int i = 0; i < 5; i++)
		cr_assert_not_null(fp[i] = open_memstream(&w.buf[i], &w.len[i]));
	cr_assert_not_null(fp[5] = open_memstream(&people, &plen));
	gen_files_t files = { fp[0], fp[1], fp[2], fp[3], fp[4], fp[5] };
	cr_assert_eq(gen_world(&o, &files, &w.st, why, sizeof(why)), 0, "%s", why);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(fclose(fp[i]), 0);
	cr_assert(strncmp(w.buf[W_CAT], head_limits, sizeof head_limits - 1) == 0);
	unsigned over = 0, back = 0, hoarders = 0, resellers = 0, d, ov, rt;
	char kind[16], id[16];
	const char *p = strchr(people, '\n') + 1;
	while (sscanf(p, "%15[a-z],%15[A-Z0-9],%u,%u,%u", kind, id, &d, &ov, &rt) == 5) {
		bool h = strcmp(kind, "hoarder") == 0;
		hoarders += h;
		resellers += !h;
		cr_assert(h ? ov >= 1 && rt == 0 : ov == 0 && rt == d && d >= 2, "%s %s", kind, id);
		cr_assert(strncmp(id, h ? "PT0100000" : "PT0200000", 9) == 0, "%s", id);
		over += ov;
		back += rt;
		p = strchr(p, '\n') + 1;
	}
	cr_assert_eq(hoarders, 4);
	cr_assert_eq(resellers, 5);
	unsigned t_over = 0, t_back = 0;
	for (const char *l = w.buf[W_TRUTH]; l && *l; l = strchr(l, '\n') + 1) {
		t_over += strncmp(l, "OVER_QUANTITY\n", 14) == 0;
		t_back += strncmp(l, "RETURNED_TO_MARKET\n", 19) == 0;
	}
	cr_assert_eq(t_over, over, "every over-limit sale labelled");
	cr_assert_geq(t_back, back, "every return labelled (resales and RESOLD packs too)");
	free(people);
	world_free(&w);
}
