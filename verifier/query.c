/*
 * query.c - a code's state and history, as JSON (spec section 5) or as a
 * timeline for a person.
 *
 * History is read by walking the code's back-linked event records from
 * the state's last_seq, so a lookup costs one B-tree read per event of
 * that code, however large the ledger.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "yima/util/error.h"
#include "yima/verifier/query.h"

/* Collect the code's events, oldest first.  The slices in them point into
 * txn's snapshot. */
static int history_load(ledger_txn_t *txn, const code_state_t *st, struct history *h)
{
	uint64_t seq = st->last_seq;
	size_t n = st->events;

	h->n = 0;
	if (n == 0 || n > SIZE_MAX / sizeof *h->ev)
		return n == 0 ? 0 : YIMA_ECORRUPT;
	if ((h->ev = calloc(n, sizeof *h->ev)) == NULL)
		return YIMA_ENOMEM;
	for (size_t i = n; i-- > 0;) {
		if (seq == 0)
			return YIMA_ECORRUPT;
		int rc = ledger_event_get(txn, seq, &h->ev[i]);
		if (rc < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		h->ev[i].seq = seq;
		if ((rc = ledger_event_index(txn, seq, &h->ev[i].index)) < 0)
			return rc;
		seq = h->ev[i].prev_code_seq;
	}
	h->n = n;
	return seq == 0 ? 0 : YIMA_ECORRUPT;
}

static void json_slice_or_null(buf_t *b, yima_slice_t s)
{
	if (s.n == 0)
		buf_puts(b, "null");
	else
		json_str(b, s.p, s.n);
}

static bool has_units(const ledger_event_t *e)
{
	return (e->type == EV_DISPENSE || e->type == EV_REFUND) && e->units > 0;
}

static void json_event(buf_t *b, const ledger_event_t *e)
{
	char t[48];

	yima_time_format(&e->time, t, sizeof t);
	buf_printf(b, "{\"seq\":%" PRIu64 ",\"index\":%" PRIu64 ",\"time\":\"%s\",\"facility\":", e->seq,
		   e->index, t);
	json_str(b, e->facility.p, e->facility.n);
	buf_printf(b, ",\"type\":\"%s\",\"units\":", event_type_name(e->type));
	if (has_units(e))
		buf_printf(b, "%" PRIu64, e->units);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"settlement\":");
	json_slice_or_null(b, e->settlement);
	buf_printf(b, ",\"verdict\":\"%s\",\"findings\":", verdict_name(e->verdict));
	finding_set_json(b, e->findings);
	buf_putc(b, '}');
}

static void json_state(buf_t *b, const code_state_t *st)
{
	buf_puts(b, "{\"holder\":");
	json_cstr_or_null(b, st->holder, 1);
	buf_puts(b, ",\"in_transit_to\":");
	json_cstr_or_null(b, st->in_transit_to, 1);
	buf_puts(b, ",\"units_left\":");
	if (st->units_known)
		buf_printf(b, "%" PRIu64, st->units_left);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"dispensed_at\":");
	json_cstr_or_null(b, st->dispensed_at, 1);
	buf_printf(b, ",\"destroyed\":%s}", st->destroyed ? "true" : "false");
}

static void render_json(buf_t *b, const code_t *c, const catalog_entry_t *cat,
			const code_state_t *st, const struct history *h)
{
	buf_puts(b, "{\"code\":");
	json_str(b, c->canon, c->canon_len);
	buf_puts(b, ",\"product\":");
	json_str(b, c->product, c->product_len);
	buf_puts(b, ",\"drug\":");
	json_cstr_or_null(b, cat ? cat->drug : NULL, 1);
	buf_puts(b, ",\"state\":");
	json_state(b, st);
	buf_puts(b, ",\"history\":[");
	for (size_t i = 0; i < h->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		json_event(b, &h->ev[i]);
	}
	buf_puts(b, "]}\n");
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

static void render_text(buf_t *b, const code_t *c, const catalog_entry_t *cat,
			const code_state_t *st, const struct history *h)
{
	buf_printf(b, "code     %s\nproduct  %s", c->canon, c->product);
	if (cat != NULL)
		buf_printf(b, "  drug %s  %.*s %.*s  (%" PRIu64 " units a pack)", cat->drug,
			   (int)cat->name.n, cat->name.p, (int)cat->spec.n, cat->spec.p,
			   cat->pack_units);
	else
		buf_puts(b, "  (not in the catalog)");
	buf_printf(b, "\nstate    holder %s, in transit to %s, dispensed at %s, units left ",
		   or_dash(st->holder), or_dash(st->in_transit_to), or_dash(st->dispensed_at));
	if (st->units_known)
		buf_printf(b, "%" PRIu64, st->units_left);
	else
		buf_puts(b, "unknown");
	buf_printf(b, "%s\n\n", st->destroyed ? ", DESTROYED" : "");
	for (size_t i = 0; i < h->n; i++) {
		const ledger_event_t *e = &h->ev[i];
		char t[48];
		yima_time_format(&e->time, t, sizeof t);
		buf_printf(b, "#%-8" PRIu64 " %-25s %-8.*s %-12s", e->seq, t, (int)e->facility.n,
			   e->facility.p, event_type_name(e->type));
		if (has_units(e))
			buf_printf(b, " %4" PRIu64 " u", e->units);
		else
			buf_puts(b, "       ");
		buf_printf(b, "  %-6s", verdict_name(e->verdict));
		FINDING_EACH(f)
			if (e->findings & FINDING_BIT(f))
				buf_printf(b, " %s", finding_name((enum finding)f));
		if (e->settlement.n > 0)
			buf_printf(b, "  [settlement %.*s]", (int)e->settlement.n, e->settlement.p);
		buf_putc(b, '\n');
	}
}

/* A code with only rejected attempts has no applied state yet: show the
 * state it starts from (units from the catalog as it is now). */
static void virtual_state(code_state_t *st, const catalog_entry_t *cat)
{
	if (st->applied)
		return;
	st->units_known = cat != NULL;
	st->units_left = cat ? cat->pack_units : 0;
}

int query_load(ledger_txn_t *txn, const char *raw, size_t n, query_t *q, char *why, size_t whylen)
{
	int rc;

	memset(q, 0, sizeof *q);
	if (code_normalize(raw, n, &q->code, why, whylen) < 0)
		return YIMA_EMALFORMED;
	if ((rc = ledger_code_get(txn, q->code.canon, q->code.canon_len, &q->st)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", q->code.canon,
				 rc == YIMA_ENOTFOUND ? "not in the ledger" : yima_strerror(rc));
	rc = ledger_catalog_get(txn, q->code.product, q->code.product_len, &q->cat);
	if (rc < 0 && rc != YIMA_ENOTFOUND)
		return yima_fail(why, whylen, rc, "catalog: %s", yima_strerror(rc));
	q->in_catalog = rc == 0;
	virtual_state(&q->st, q->in_catalog ? &q->cat : NULL);
	if ((rc = history_load(txn, &q->st, &q->h)) < 0) {
		yima_fail(why, whylen, rc, "%s: history: %s", q->code.canon, yima_strerror(rc));
		query_free(q);
	}
	return rc;
}

void query_free(query_t *q)
{
	free(q->h.ev);
	q->h.ev = NULL;
	q->h.n = 0;
}

int query_code(ledger_txn_t *txn, const char *raw, size_t n, enum query_format fmt,
	       buf_t *out, char *why, size_t whylen)
{
	query_t q;
	int rc;

	if ((rc = query_load(txn, raw, n, &q, why, whylen)) < 0)
		return rc;
	const catalog_entry_t *catp = q.in_catalog ? &q.cat : NULL;
	if (fmt == QUERY_JSON)
		render_json(out, &q.code, catp, &q.st, &q.h);
	else
		render_text(out, &q.code, catp, &q.st, &q.h);
	if (out->oom)
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	query_free(&q);
	return rc;
}
