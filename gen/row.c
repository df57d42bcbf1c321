/*
 * row.c - writing one events row (spec section 3), and the rows that go
 * wrong before it.
 *
 * gen_emit() writes the row a pack's step produced.  Before it, at the
 * configured rates, it may write the same event scanned as a malformed
 * code (the clean rescan follows, as a cashier rescans a pack the system
 * refused) or sent as a broken record (the corrected row follows).  Each
 * row also gets a line in the optional canon and truth side files.
 *
 * The event type names are spelled out here rather than taken from the
 * verifier: the generator must not depend on the code it is used to test.
 */
#include <string.h>

#include "yima/util/error.h"
#include "yima/core/event.h"
#include "gen_int.h"

enum gen_row_mode { GEN_ROW_OK, GEN_ROW_MALFORMED, GEN_ROW_BAD };

static const char *const gen_type_names[GEN_TYPE_COUNT] = {
	"", "receive", "return", "dispense", "refund",
	"transfer_out", "transfer_in", "stocktake", "destroy",
};

static void gen_put_date(gen_str_t *s, int y, int m, int d)
{
	gen_str_putu(s, (uint64_t)y, 4);
	gen_str_putc(s, '-');
	gen_str_putu(s, (uint64_t)m, 2);
	gen_str_putc(s, '-');
	gen_str_putu(s, (uint64_t)d, 2);
}

/* "YYYY-MM-DDThh:mm:ss" + offset, with the broken variants of
 * GEN_BAD_MONTH13 .. GEN_BAD_NO_OFFSET. */
static void gen_put_datetime(gen_str_t *s, int y, int m, int d, int64_t sod,
			     char t, const char *frac, const char *off, int bad)
{
	int hh = (int)(sod / 3600);
	if (bad == GEN_BAD_MONTH13)
		m = 13;
	if (bad == GEN_BAD_FEB30) {
		m = 2;
		d = 30;
	}
	if (bad == GEN_BAD_HOUR25)
		hh = 25;
	gen_put_date(s, y, m, d);
	gen_str_putc(s, t);
	gen_str_putu(s, (uint64_t)hh, 2);
	gen_str_putc(s, ':');
	gen_str_putu(s, (uint64_t)(sod / 60 % 60), 2);
	gen_str_putc(s, ':');
	gen_str_putu(s, (uint64_t)(sod % 60), 2);
	gen_str_puts(s, frac);
	if (bad != GEN_BAD_NO_OFFSET)
		gen_str_puts(s, off);
}

/* The instant t, normally in +08:00 (date text cached per day); one row
 * in a hundred in another accepted spelling (UTC, fraction, lower case),
 * except near a pack's expiry, where the UTC date could differ. */
static void gen_put_time(gen_world_t *w, int64_t t, bool variety, int bad, gen_str_t *s)
{
	int64_t local = t + GEN_TZ_SEC, day = gen_local_day(t);
	int64_t sod = local - day * 86400;
	int y, m, d;
	if (variety && bad < 0 && gen_rng_chance(&w->rng, 0.01)) {
		static const char *const frac[] = { ".5", ".250", ".000123" };
		uint32_t v = gen_rng_below(&w->rng, 10);
		if (v < 2) {
			gen_civil_from_days(day, &y, &m, &d);
			gen_put_datetime(s, y, m, d, sod, 'T', frac[v], "+08:00", -1);
			return;
		}
		int64_t uday = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
		gen_civil_from_days(uday, &y, &m, &d);
		gen_put_datetime(s, y, m, d, t - uday * 86400, v < 4 ? 't' : 'T', "",
				 v < 4 ? "z" : v < 7 ? "Z" : "+00:00", -1);
		return;
	}
	if (bad >= 0 || day != w->tcache_day) {
		gen_civil_from_days(day, &y, &m, &d);
		if (bad >= 0) {
			gen_put_datetime(s, y, m, d, sod, 'T', "", "+08:00", bad);
			return;
		}
		gen_str_t c;
		gen_str_init(&c, w->tcache, sizeof(w->tcache));
		gen_put_date(&c, y, m, d);
		gen_str_putc(&c, 'T');
		w->tcache_day = day;
	}
	gen_str_put(s, w->tcache, 11);
	gen_str_putu(s, (uint64_t)(sod / 3600), 2);
	gen_str_putc(s, ':');
	gen_str_putu(s, (uint64_t)(sod / 60 % 60), 2);
	gen_str_putc(s, ':');
	gen_str_putu(s, (uint64_t)(sod % 60), 2);
	gen_str_puts(s, "+08:00");
}

static int gen_bad_pick(gen_world_t *w, const gen_row_t *r)
{
	for (;;) {
		int k = (int)gen_rng_below(&w->rng, GEN_BAD_COUNT);
		if (k == GEN_BAD_NO_DRUG && r->type != EV_DISPENSE)
			continue;
		if ((k == GEN_BAD_NO_SETTLEMENT || k == GEN_BAD_QTY) &&
		    r->type != EV_DISPENSE && r->type != EV_REFUND)
			continue;
		return k;
	}
}

static void gen_put_bad_text(gen_world_t *w, int bad, gen_str_t *s)
{
	static const char *const types[] = { "", "dispence", "sale", "transfer", "receipt" };
	static const char *const facs[] = { "h0001", "H-0001", "", "H00010000000000000001" };
	static const char *const qtys[] = { "0", "-2", "2.5", "x3", "+4" };
	if (bad == GEN_BAD_TYPE)
		gen_str_puts(s, types[gen_rng_below(&w->rng, 5)]);
	else if (bad == GEN_BAD_FACILITY)
		gen_str_puts(s, facs[gen_rng_below(&w->rng, 4)]);
	else
		gen_str_puts(s, qtys[gen_rng_below(&w->rng, 5)]);
}

/* Fields drug .. counterparty. */
static void gen_put_tail(gen_world_t *w, const gen_row_t *r, int bad, gen_str_t *s)
{
	gen_str_putc(s, ',');
	if (r->drug != NULL && bad != GEN_BAD_NO_DRUG)
		gen_str_puts(s, r->drug);
	gen_str_putc(s, ',');
	if (bad == GEN_BAD_QTY)
		gen_put_bad_text(w, bad, s);
	else if (r->qty > 0)
		gen_str_putu(s, r->qty, 0);
	gen_str_putc(s, ',');
	if (r->has_sett && bad != GEN_BAD_NO_SETTLEMENT)
		gen_sett_text(w, r->sett_fac, r->sett_day, r->sett_no, s);
	gen_str_putc(s, ',');
	if (r->patient != 0) {
		gen_str_puts(s, "PT");
		gen_str_putu(s, r->patient, 8);
	}
	if (bad == GEN_BAD_FIELDS8)
		return;
	gen_str_putc(s, ',');
	if (r->cp_kind == GEN_CP_SUPPLIER) {
		gen_str_putc(s, 'S');
		gen_str_putu(s, r->cp + 1, 4);
	} else if (r->cp_kind == GEN_CP_FACILITY) {
		gen_str_puts(s, w->fac[r->cp].id);
	}
	if (bad == GEN_BAD_FIELDS10)
		gen_str_puts(s, gen_rng_chance(&w->rng, 0.5) ? "," : ",备注");
}

static void gen_count(gen_world_t *w, const gen_row_t *r, int bad, unsigned noise)
{
	gen_stats_t *st = w->st;
	const unsigned forms = 1u << GEN_NOISE_GS1_RAW | 1u << GEN_NOISE_GS1_HUMAN;
	if (st->rows == 0)
		st->first_time = r->t;
	st->last_time = r->t;
	st->rows++;
	st->by_type[bad == GEN_BAD_TYPE ? 0 : r->type]++;
	if (bad >= 0)
		st->bad[bad]++;
	for (int k = 0; k < GEN_NOISE_COUNT; k++)
		st->noise[k] += (noise >> k) & 1;
	st->noisy_rows += (noise & ~forms) != 0;
}

/* The canon and truth lines of this row. */
static void gen_put_side(gen_world_t *w, const gen_row_t *r, enum gen_row_mode mode)
{
	char buf[96];
	gen_str_t s;
	gen_str_init(&s, buf, sizeof(buf));
	if (w->canon.fp != NULL) {
		if (mode == GEN_ROW_OK)
			gen_code_canon(w, r->pack, &s);
		gen_str_putc(&s, '\n');
		gen_out_put(&w->canon, s.p, s.len);
	}
	if (w->truth.fp != NULL) {
		const char *t = mode == GEN_ROW_MALFORMED ? "MALFORMED"
			      : mode == GEN_ROW_BAD ? "BAD_RECORD"
			      : r->truth != NULL ? r->truth : "-";
		gen_str_init(&s, buf, sizeof(buf));
		gen_str_puts(&s, t);
		gen_str_putc(&s, '\n');
		gen_out_put(&w->truth, s.p, s.len);
	}
}

static int gen_row_write(gen_world_t *w, const gen_row_t *r, enum gen_row_mode mode)
{
	char line[GEN_ROW_MAX], code[1024];
	gen_str_t s, c;
	int bad = -1;
	unsigned noise = 0;
	bool variety = !(r->pack->flags & GEN_PF_NEAR_EXPIRY);

	if (w->st->rows >= w->opts->events)
		return 0;
	if (mode == GEN_ROW_BAD)
		bad = gen_bad_pick(w, r);
	gen_str_init(&c, code, sizeof(code));
	if (mode == GEN_ROW_MALFORMED)
		w->st->malformed[gen_code_malformed(w, r->pack, &c)]++;
	else
		noise = gen_code_scan(w, r->pack,
				      gen_rng_chance(&w->rng, w->opts->noise_rate), &c);
	gen_str_init(&s, line, sizeof(line));
	gen_put_time(w, r->t, variety, bad <= GEN_BAD_NO_OFFSET ? bad : -1, &s);
	gen_str_putc(&s, ',');
	if (bad == GEN_BAD_FACILITY)
		gen_put_bad_text(w, bad, &s);
	else
		gen_str_puts(&s, w->fac[r->fac].id);
	gen_str_putc(&s, ',');
	if (bad == GEN_BAD_TYPE)
		gen_put_bad_text(w, bad, &s);
	else
		gen_str_puts(&s, gen_type_names[r->type]);
	gen_str_putc(&s, ',');
	gen_str_csv(&s, c.p, c.len, (noise & (1u << GEN_NOISE_QUOTED)) != 0);
	gen_put_tail(w, r, bad, &s);
	gen_str_putc(&s, '\n');
	if (s.over || c.over)
		return YIMA_ETOOBIG;	/* a bug: rows are far below GEN_ROW_MAX */
	gen_out_put(&w->ev, s.p, s.len);
	gen_count(w, r, bad, noise);
	gen_put_side(w, r, mode);
	w->row_ok = mode == GEN_ROW_OK;
	return w->ev.err;
}

int gen_emit(gen_world_t *w, const gen_row_t *r)
{
	const gen_opts_t *o = w->opts;
	int rc = 0;
	w->row_ok = false;
	if (w->st->rows >= o->events)
		return 0;
	if (o->malformed_rate > 0 && gen_rng_chance(&w->rng, o->malformed_rate))
		rc = gen_row_write(w, r, GEN_ROW_MALFORMED);
	else if (o->bad_row_rate > 0 && gen_rng_chance(&w->rng, o->bad_row_rate))
		rc = gen_row_write(w, r, GEN_ROW_BAD);
	if (rc == 0)
		rc = gen_row_write(w, r, GEN_ROW_OK);
	return rc;
}
