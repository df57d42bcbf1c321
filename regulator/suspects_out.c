/*
 * suspects_out.c - `yima suspects`' output (spec section 7): one JSON
 * line per suspect, or with --format csv one row per evidence item, from
 * one read snapshot (suspects.c finds them).
 */
#include <inttypes.h>
#include <string.h>

#include "yima/regulator/suspects.h"
#include "yima/util/buf.h"
#include "yima/util/csv_write.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"
#include "yima/util/json.h"

#define FLUSH_AT (1u << 20)

static void put_json(buf_t *b, const suspect_t *sp)
{
	buf_puts(b, "{\"patient\":\"");
	hex_put(b, sp->patient, LEDGER_MAC_LEN);
	buf_printf(b, "\",\"packs\":%" PRIu64 ",\"over_quantity\":%" PRIu64 ",\"facilities\":%" PRIu64
		      ",\"evidence\":[", sp->packs, sp->over_quantity, sp->facilities);
	for (size_t i = 0; i < sp->nevidence; i++) {
		const suspect_evidence_t *e = &sp->evidence[i];
		buf_puts(b, i ? ",{\"code\":" : "{\"code\":");
		json_str(b, e->code, strlen(e->code));
		buf_printf(b, ",\"dispense_seq\":%" PRIu64 ",\"dispensed_at\":", e->dispense_seq);
		json_str(b, e->dispensed_at, strlen(e->dispensed_at));
		buf_printf(b, ",\"resurfaced_seq\":%" PRIu64 ",\"resurfaced_at\":", e->resurfaced_seq);
		json_str(b, e->resurfaced_at, strlen(e->resurfaced_at));
		buf_printf(b, ",\"finding\":\"%s\"}", finding_name(e->finding));
	}
	buf_puts(b, "]}\n");
}

static const char csv_head[] = "patient,packs,over_quantity,facilities,code,dispense_seq,"
			       "dispensed_at,resurfaced_seq,resurfaced_at,finding\n";

static void put_csv(buf_t *b, const suspect_t *sp)
{
	for (size_t i = 0; i < sp->nevidence; i++) {
		const suspect_evidence_t *e = &sp->evidence[i];
		hex_put(b, sp->patient, LEDGER_MAC_LEN);
		buf_printf(b, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", sp->packs, sp->over_quantity,
			   sp->facilities);
		csv_field(b, e->code, strlen(e->code), false);
		buf_printf(b, ",%" PRIu64 ",", e->dispense_seq);
		csv_field(b, e->dispensed_at, strlen(e->dispensed_at), false);
		buf_printf(b, ",%" PRIu64 ",", e->resurfaced_seq);
		csv_field(b, e->resurfaced_at, strlen(e->resurfaced_at), false);
		buf_printf(b, ",%s\n", finding_name(e->finding));
	}
}

static int flush(buf_t *b, FILE *out, size_t at)
{
	if (b->oom)
		return YIMA_ENOMEM;
	if (b->len >= at && b->len > 0) {
		if (fwrite(b->p, 1, b->len, out) != b->len)
			return YIMA_EIO;
		buf_reset(b);
	}
	return 0;
}

static int write_all(const suspects_t *s, enum suspects_format fmt, FILE *out)
{
	buf_t b;
	int rc = 0;

	buf_init(&b);
	if (fmt == SUSPECTS_CSV)
		buf_puts(&b, csv_head);
	for (size_t i = 0; i < suspects_count(s) && rc == 0; i++) {
		if (fmt == SUSPECTS_CSV)
			put_csv(&b, suspects_get(s, i));
		else
			put_json(&b, suspects_get(s, i));
		rc = flush(&b, out, FLUSH_AT);
	}
	if (rc == 0 && ((rc = flush(&b, out, 0)) == 0) && fflush(out) != 0)
		rc = YIMA_EIO;
	buf_deinit(&b);
	return rc;
}

int suspects_write(ledger_t *lg, const suspects_opts_t *o, enum suspects_format fmt, FILE *out,
		   suspects_stats_t *st, char *why, size_t whylen)
{
	ledger_txn_t *txn;
	suspects_t *s = NULL;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", ledger_dir(lg), yima_strerror(rc));
	if ((rc = suspects_collect(txn, o, &s, why, whylen)) < 0)
		goto end_txn;
	*st = *suspects_stats(s);
	if ((rc = write_all(s, fmt, out)) < 0)
		yima_fail(why, whylen, rc, "%s", rc == YIMA_EIO ? "write failed" : yima_strerror(rc));
	suspects_free(s);
end_txn:
	ledger_txn_abort(txn);
	return rc;
}
