/*
 * report_patients.c - the evidence report's patients section (spec
 * section 7): the period's top suspects that involve the facility (it
 * dispensed a pack to them that came back, or a pack of theirs came back
 * at it), and the facility's OVER_QUANTITY dispenses in the period.
 * Patients appear only as their keyed hashes.  Every record the page's
 * evidence table lists is linked to its row (#seq-N), so an inspector
 * goes from a lead to the records that make it.
 */
#include <inttypes.h>
#include <string.h>

#include "yima/regulator/suspects.h"
#include "yima/util/hex.h"
#include "yima/util/html.h"
#include "report_int.h"

/* Is record seq a row of the evidence table (this facility, the period,
 * flagged)? */
static int listed(ledger_txn_t *txn, const report_opts_t *o, uint64_t seq, bool *yes)
{
	ledger_event_t ev;
	int rc = ledger_event_get(txn, seq, &ev);

	*yes = false;
	if (rc < 0)
		return rc;
	*yes = ev.status != REC_BAD && ev.findings != 0 &&
	       yima_slice_eq_cstr(ev.facility, o->facility) &&
	       yima_time_cmp(&ev.time, &o->from) >= 0 && yima_time_cmp(&ev.time, &o->to) <= 0;
	return 0;
}

static int put_seq(buf_t *b, ledger_txn_t *txn, const report_opts_t *o, uint64_t seq)
{
	bool yes;
	int rc = listed(txn, o, seq, &yes);

	if (rc < 0)
		return rc;
	if (yes)
		buf_printf(b, "<a href=\"#seq-%" PRIu64 "\">%" PRIu64 "</a>", seq, seq);
	else
		buf_printf(b, "%" PRIu64, seq);
	return 0;
}

static void put_patient(buf_t *b, const uint8_t mac[LEDGER_MAC_LEN])
{
	char hex[2 * LEDGER_MAC_LEN + 1];
	hex_encode(mac, LEDGER_MAC_LEN, hex);
	buf_printf(b, "<code class=\"hash\" title=\"%s\"><span>%.*s</span>%s</code>", hex,
		   2 * LEDGER_MAC_LEN - 8, hex, hex + 2 * LEDGER_MAC_LEN - 8);
}

static bool involves(const suspect_t *sp, const char *facility)
{
	for (size_t i = 0; i < sp->nevidence; i++)
		if (strcmp(sp->evidence[i].dispensed_at, facility) == 0 ||
		    strcmp(sp->evidence[i].resurfaced_at, facility) == 0)
			return true;
	return false;
}

/* The facilities that dispensed the suspect's packs, each once. */
static void put_facilities(buf_t *b, const suspect_t *sp)
{
	for (size_t i = 0; i < sp->nevidence; i++) {
		size_t j = 0;
		while (j < i && strcmp(sp->evidence[j].dispensed_at, sp->evidence[i].dispensed_at) != 0)
			j++;
		if (j < i)
			continue;
		buf_puts(b, i ? ", " : "");
		html_text(b, sp->evidence[i].dispensed_at, strlen(sp->evidence[i].dispensed_at));
	}
}

static int suspect_row(buf_t *b, ledger_txn_t *txn, const report_opts_t *o, const suspect_t *sp,
		       size_t rank)
{
	int rc = 0;

	buf_printf(b, "<tr><td class=\"num\">%zu</td><td>", rank);
	put_patient(b, sp->patient);
	buf_printf(b, "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64 "</td><td>",
		   sp->packs, sp->over_quantity);
	put_facilities(b, sp);
	buf_puts(b, "</td><td><ul class=\"packs\">");
	for (size_t i = 0; i < sp->nevidence && rc == 0; i++) {
		const suspect_evidence_t *e = &sp->evidence[i];
		buf_puts(b, "<li><code>");
		html_text(b, e->code, strlen(e->code));
		buf_puts(b, "</code>: dispensed ");
		if ((rc = put_seq(b, txn, o, e->dispense_seq)) < 0)
			break;
		buf_puts(b, " at ");
		html_text(b, e->dispensed_at, strlen(e->dispensed_at));
		buf_puts(b, ", back ");
		if ((rc = put_seq(b, txn, o, e->resurfaced_seq)) < 0)
			break;
		buf_puts(b, " at ");
		html_text(b, e->resurfaced_at, strlen(e->resurfaced_at));
		buf_printf(b, " (%s)</li>", finding_name(e->finding));
	}
	buf_puts(b, "</ul></td></tr>\n");
	return rc;
}

static int suspects_table(buf_t *b, ledger_txn_t *txn, const report_opts_t *o)
{
	suspects_opts_t so;
	suspects_t *s;
	char why[256];
	size_t shown = 0;
	int rc;

	memset(&so, 0, sizeof so);
	so.has_from = so.has_to = true;
	so.from = o->from;
	so.to = o->to;		/* the report's period includes its end */
	if (++so.to.nsec == 1000000000) {
		so.to.nsec = 0;
		so.to.sec++;
	}
	so.min_packs = 2;
	if ((rc = suspects_collect(txn, &so, &s, why, sizeof why)) < 0)
		return rc;
	buf_printf(b, "<h3>Top suspects</h3>\n<p>Patients with two or more packs that came back onto "
		      "the market in the period, where this facility dispensed one of them or took one "
		      "back in, worst first (at most %d; <code>yima suspects</code> lists them all).</p>\n"
		      "<table id=\"suspects\"><thead><tr><th>#</th><th>patient (keyed hash)</th><th>packs</th>"
		      "<th>over-quantity dispenses</th><th>dispensed at</th><th>packs: dispensed, back "
		      "(seq)</th></tr></thead><tbody>\n", REPORT_TOP_SUSPECTS);
	for (size_t i = 0; i < suspects_count(s) && shown < REPORT_TOP_SUSPECTS && rc == 0; i++)
		if (involves(suspects_get(s, i), o->facility))
			rc = suspect_row(b, txn, o, suspects_get(s, i), ++shown);
	if (shown == 0)
		buf_puts(b, "<tr><td colspan=\"6\">none in this period</td></tr>\n");
	buf_puts(b, "</tbody></table>\n");
	suspects_free(s);
	return rc;
}

static int oq_row(buf_t *b, ledger_txn_t *txn, uint64_t seq)
{
	ledger_event_t ev;
	char t[48];
	int rc = ledger_event_get(txn, seq, &ev);

	if (rc < 0)
		return rc;
	buf_printf(b, "<tr><td class=\"num\"><a href=\"#seq-%" PRIu64 "\">%" PRIu64 "</a></td><td class=\"t\">",
		   seq, seq);
	html_text(b, t, yima_time_format(&ev.time, t, sizeof t));
	buf_puts(b, "</td><td>");
	if (ev.has_patient)
		put_patient(b, ev.patient_mac);
	buf_puts(b, "</td><td class=\"mono\">");
	html_text(b, ev.code.p, ev.code.n);
	buf_puts(b, "</td><td class=\"mono\">");
	html_text(b, ev.drug.p, ev.drug.n);
	buf_printf(b, "</td><td class=\"num\">%" PRIu64 "</td></tr>\n", ev.units);
	return 0;
}

int report_patients(buf_t *b, ledger_txn_t *txn, const report_opts_t *o, const report_agg_t *a)
{
	int rc;

	buf_puts(b, "<h2>Patients</h2>\n");
	if ((rc = suspects_table(b, txn, o)) < 0)
		return rc;
	buf_printf(b, "<h3>Over-quantity dispenses (%zu)</h3>\n<p>Dispenses of this facility in the "
		      "period that took a patient over the product's limit of units per 30 days, "
		      "across all facilities (OVER_QUANTITY).</p>\n<table id=\"over-quantity\"><thead><tr>"
		      "<th>seq</th><th>time</th><th>patient (keyed hash)</th><th>code</th><th>drug</th>"
		      "<th>units</th></tr></thead><tbody>\n", a->noq);
	for (size_t i = 0; i < a->noq && rc == 0; i++)
		rc = oq_row(b, txn, a->oq_seqs[i]);
	if (a->noq == 0)
		buf_puts(b, "<tr><td colspan=\"6\">none in this period</td></tr>\n");
	buf_puts(b, "</tbody></table>\n");
	return rc;
}
