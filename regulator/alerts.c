/*
 * alerts.c - recorded findings, listed or counted (see yima/alerts.h).
 *
 * One sequential pass over the event records in a read snapshot: the
 * writer is never blocked, and the cost is a scan of the log, which is
 * what an inspector's monthly question is.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "yima/regulator/alerts.h"
#include "yima/util/error.h"
#include "yima/util/csv_write.h"

struct fac_counts {
	char facility[FACILITY_MAX + 1];
	uint64_t n[F_COUNT];
};

struct alerts {
	const alerts_query_t *q;
	FILE *out;
	buf_t b;
	uint64_t matched;
	struct fac_counts *fc;
	size_t nfc, capfc;
};

static bool wanted(const alerts_query_t *q, const ledger_event_t *ev)
{
	if (ev->findings == 0 || ev->status == REC_BAD)
		return false;
	if (q->findings && !(ev->findings & q->findings))
		return false;
	if (q->facility && !yima_slice_eq_cstr(ev->facility, q->facility))
		return false;
	if (q->has_from && yima_time_cmp(&ev->time, &q->from) < 0)
		return false;
	return !(q->has_to && yima_time_cmp(&ev->time, &q->to) > 0);
}

static int count(struct alerts *a, const ledger_event_t *ev)
{
	size_t i;
	for (i = 0; i < a->nfc; i++)
		if (yima_slice_eq_cstr(ev->facility, a->fc[i].facility))
			break;
	if (i == a->nfc) {
		if (ev->facility.n > FACILITY_MAX)
			return 0;
		if (a->nfc == a->capfc) {
			size_t cap = a->capfc ? a->capfc * 2 : 16;
			struct fac_counts *fc = realloc(a->fc, cap * sizeof *fc);
			if (fc == NULL)
				return YIMA_ENOMEM;
			a->fc = fc;
			a->capfc = cap;
		}
		memset(&a->fc[i], 0, sizeof a->fc[i]);
		memcpy(a->fc[i].facility, ev->facility.p, ev->facility.n);
		a->nfc++;
	}
	for (int f = 0; f < F_COUNT; f++)
		if (ev->findings & FINDING_BIT(f))
			a->fc[i].n[f]++;
	return 0;
}

static void list_one(struct alerts *a, const ledger_event_t *ev)
{
	buf_t *b = &a->b;
	char t[48];
	bool first = true;

	yima_time_format(&ev->time, t, sizeof t);
	if (a->q->csv) {
		/* code and settlement always quoted, as `yima recon` writes them */
		buf_printf(b, "%" PRIu64 ",%s,", ev->seq, t);
		csv_field(b, ev->facility.p, ev->facility.n, false);
		buf_printf(b, ",%s,", event_type_name(ev->type));
		csv_field(b, ev->code.p, ev->code.n, true);
		buf_putc(b, ',');
		csv_field(b, ev->settlement.p, ev->settlement.n, true);
		buf_printf(b, ",%s,", verdict_name(ev->verdict));
		FINDING_EACH(f)
			if (ev->findings & FINDING_BIT(f)) {
				buf_printf(b, "%s%s", first ? "" : " ", finding_name((enum finding)f));
				first = false;
			}
		buf_putc(b, '\n');
		return;
	}
	buf_printf(b, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"facility\":", ev->seq, t);
	json_str(b, ev->facility.p, ev->facility.n);
	buf_printf(b, ",\"type\":\"%s\",\"code\":", event_type_name(ev->type));
	json_str(b, ev->code.p, ev->code.n);
	buf_puts(b, ",\"settlement\":");
	if (ev->settlement.n)
		json_str(b, ev->settlement.p, ev->settlement.n);
	else
		buf_puts(b, "null");
	buf_printf(b, ",\"verdict\":\"%s\",\"findings\":", verdict_name(ev->verdict));
	finding_set_json(b, ev->findings);
	buf_puts(b, "}\n");
}

static int on_event(void *arg, const ledger_event_t *ev)
{
	struct alerts *a = arg;
	if (!wanted(a->q, ev))
		return 0;
	a->matched++;
	if (a->q->counts)
		return count(a, ev);
	list_one(a, ev);
	if (a->b.len > (1u << 20)) {
		if (a->b.oom || fwrite(a->b.p, 1, a->b.len, a->out) != a->b.len)
			return YIMA_EIO;
		buf_reset(&a->b);
	}
	return 0;
}

static int cmp_rows(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;	/* {count, facility index, finding} */
	if (a[0] != b[0])
		return a[0] > b[0] ? -1 : 1;
	/* ties: facility, then the findings table's order */
	int ra = finding_rank((enum finding)a[2]), rb = finding_rank((enum finding)b[2]);
	return a[1] != b[1] ? (a[1] < b[1] ? -1 : 1) : (ra < rb ? -1 : ra > rb);
}

/* Counts, worst first. */
static int write_counts(struct alerts *a)
{
	size_t n = 0;
	uint64_t (*rows)[3] = calloc(a->nfc * F_COUNT + 1, sizeof *rows);

	if (rows == NULL)
		return YIMA_ENOMEM;
	for (size_t i = 0; i < a->nfc; i++)
		for (int f = 0; f < F_COUNT; f++)
			if (a->fc[i].n[f]) {
				rows[n][0] = a->fc[i].n[f];
				rows[n][1] = i;
				rows[n++][2] = (uint64_t)f;
			}
	qsort(rows, n, sizeof *rows, cmp_rows);
	if (a->q->csv)
		buf_puts(&a->b, "facility,finding,count\n");
	for (size_t r = 0; r < n; r++) {
		const char *fac = a->fc[rows[r][1]].facility, *fn = finding_name((enum finding)rows[r][2]);
		if (a->q->csv) {
			csv_field(&a->b, fac, strlen(fac), false);
			buf_printf(&a->b, ",%s,%" PRIu64 "\n", fn, rows[r][0]);
		} else {
			buf_printf(&a->b, "{\"facility\":\"%s\",\"finding\":\"%s\",\"count\":%" PRIu64 "}\n",
				   fac, fn, rows[r][0]);
		}
	}
	free(rows);
	return 0;
}

int alerts_run(ledger_t *lg, const alerts_query_t *q, FILE *out, uint64_t *matched,
	       char *why, size_t whylen)
{
	struct alerts a;
	ledger_txn_t *txn;
	int rc;

	memset(&a, 0, sizeof a);
	a.q = q;
	a.out = out;
	buf_init(&a.b);
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", ledger_dir(lg), yima_strerror(rc));
	if (q->csv && !q->counts)
		buf_puts(&a.b, "seq,time,facility,type,code,settlement,verdict,findings\n");
	rc = ledger_event_scan(txn, 1, on_event, &a);
	ledger_txn_abort(txn);
	if (rc == 0 && q->counts)
		rc = write_counts(&a);
	if (rc == 0 && (a.b.oom || (a.b.len > 0 && fwrite(a.b.p, 1, a.b.len, out) != a.b.len) ||
			fflush(out) != 0))
		rc = YIMA_EIO;
	if (rc < 0)
		yima_fail(why, whylen, rc, "%s", yima_strerror(rc));
	*matched = a.matched;
	free(a.fc);
	buf_deinit(&a.b);
	return rc;
}
