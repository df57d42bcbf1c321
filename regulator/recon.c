/*
 * recon.c - a facility's dispense log against the ledger (yima/recon.h).
 *
 * One pass over the log: each dispense row is looked up by (facility,
 * settlement, canonical code) in the settlement index; the matched ledger
 * dispenses are marked in a bitmap over event seqs.  Then one sequential
 * pass over the ledger's events reports the dispenses of the log's
 * facilities, inside the log's time span, that no log row matched.
 *
 * RESOLD_ELSEWHERE needs the code's state, a lookup in the codes table by
 * a key that is random from one log row to the next: done one row at a
 * time it was nearly half the run (perf, the 10 M-row benchmark log of
 * bench/README.md): cache and TLB misses over a table of 230 MB.  So those lookups are batched:
 * the rows' other findings go to the output buffer as they are read, each
 * dispense row notes where its RESOLD_ELSEWHERE line belongs, and every
 * RESOLD_BATCH rows the codes are looked up in about key order
 * (neighbouring lookups share their B-tree path and leaf) and the lines are put in their places.
 * Output order is unchanged; memory stays bounded by the batch.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yima/core/event_csv.h"
#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "yima/util/csv.h"
#include "yima/util/error.h"
#include "yima/regulator/recon.h"
#include "yima/verifier/verify.h"
#include "yima/util/csv_write.h"

static const char *const kind_names[RF_COUNT] = {
	[RF_NOT_UPLOADED] = "NOT_UPLOADED",
	[RF_QTY_MISMATCH] = "QTY_MISMATCH",
	[RF_DRUG_MISMATCH] = "DRUG_MISMATCH",
	[RF_RESOLD_ELSEWHERE] = "RESOLD_ELSEWHERE",
	[RF_UNLOGGED] = "UNLOGGED",
	[RF_BAD_RECORD] = "BAD_RECORD",
	[RF_MALFORMED] = "MALFORMED",
	[RF_RECORD_FINDING] = "RECORD_FINDING",
};

const char *recon_finding_name(enum recon_finding k)
{
	return (unsigned)k < RF_COUNT ? kind_names[k] : "?";
}

/* The log's facilities: a small open-addressing set. */
struct facset {
	char (*slot)[FACILITY_MAX + 1];
	size_t cap, n;
};

static uint64_t fac_hash(yima_slice_t f)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < f.n; i++)
		h = (h ^ (uint8_t)f.p[i]) * 1099511628211ull;
	return h;
}

static bool facset_has(const struct facset *s, yima_slice_t f)
{
	if (s->cap == 0)
		return false;
	for (size_t i = fac_hash(f) % s->cap;; i = (i + 1) % s->cap) {
		if (s->slot[i][0] == '\0')
			return false;
		if (strlen(s->slot[i]) == f.n && memcmp(s->slot[i], f.p, f.n) == 0)
			return true;
	}
}

static int facset_add(struct facset *s, yima_slice_t f)
{
	if (f.n == 0 || f.n > FACILITY_MAX || facset_has(s, f))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		struct facset g = { NULL, s->cap ? s->cap * 2 : 64, 0 };
		if ((g.slot = calloc(g.cap, sizeof *g.slot)) == NULL)
			return YIMA_ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i][0] != '\0')
				facset_add(&g, yima_slice_cstr(s->slot[i]));
		free(s->slot);
		*s = g;
	}
	size_t i = fac_hash(f) % s->cap;
	while (s->slot[i][0] != '\0')
		i = (i + 1) % s->cap;
	memcpy(s->slot[i], f.p, f.n);
	s->slot[i][f.n] = '\0';
	s->n++;
	return 0;
}

/* A dispense row waiting for its RESOLD_ELSEWHERE answer. */
struct pending {
	char code[CODE_CANON_MAX + 1];
	char facility[FACILITY_MAX + 1];
	uint8_t code_len, fac_len;
	uint64_t line;
	size_t out_end;		/* r->out.len after the row's other findings */
	size_t stl_off, stl_len;	/* the settlement, in r->stl */
};

/* The lookups want B-tree locality, not exact key order: a sort on the
 * first 16 bytes of the code, a nibble each (exact for digits), puts
 * neighbours on one leaf together, and sorting 16-byte items beats
 * comparing codes through pointers (that sort was 13% of the run). */
struct sort_item {
	uint64_t key;
	uint32_t idx;
};

/* Rows per batch of code lookups.  The gain comes from several lookups
 * landing on one leaf page: on the 10 M-row benchmark (2.75 M codes, 56 k
 * leaf pages) 32 Ki rows gained 2%, 256 Ki rows 15% of the whole run
 * (bench/README.md).  The batch costs 24 MiB, plus what it holds back: */
#define RESOLD_BATCH 262144
#define HOLD_MAX (16u << 20)	/* output or settlement bytes held back
				 * before a batch is resolved early */

struct recon {
	ledger_txn_t *txn;
	const recon_opts_t *o;
	recon_stats_t *st;
	uint8_t *seen;		/* bit per event seq: matched by a log row */
	uint64_t nseq;
	struct facset facs;
	bool have_span;
	yima_time_t from, to;
	buf_t out;
	struct pending *pend;	/* RESOLD_BATCH entries */
	struct sort_item *order;	/* pend sorted by code */
	size_t npend;
	buf_t stl;		/* the pending rows' settlements */
	buf_t line;		/* one RESOLD_ELSEWHERE line */
	uint64_t size;		/* of the log, 0 if not a regular file */
};

/* ---- output ------------------------------------------------------------ */

static void emit_to(struct recon *r, buf_t *b, const char *finding, uint64_t line, uint64_t seq,
		    yima_slice_t code, yima_slice_t settlement, const char *reason)
{

	r->st->findings++;
	if (r->o->format == RECON_CSV) {
		buf_printf(b, "%s,", finding);
		if (line)
			buf_printf(b, "%" PRIu64, line);
		buf_putc(b, ',');
		if (seq)
			buf_printf(b, "%" PRIu64, seq);
		buf_putc(b, ',');
		/* text columns always quoted, as since the first release */
		csv_field(b, code.p, code.n, true);
		buf_putc(b, ',');
		csv_field(b, settlement.p, settlement.n, true);
		buf_putc(b, ',');
		csv_field(b, reason ? reason : "", reason ? strlen(reason) : 0, true);
		buf_putc(b, '\n');
		return;
	}
	buf_printf(b, "{\"finding\":\"%s\",", finding);
	if (line)
		buf_printf(b, "\"line\":%" PRIu64 ",", line);
	else
		buf_printf(b, "\"seq\":%" PRIu64 ",", seq);
	buf_puts(b, "\"code\":");
	json_str(b, code.p ? code.p : "", code.n);
	buf_puts(b, ",\"settlement\":");
	if (settlement.n > 0)
		json_str(b, settlement.p, settlement.n);
	else
		buf_puts(b, "null");
	/* The spec's shape exactly: a broken row's reason is in the CSV
	 * format's last column and on stderr's summary, not here. */
	(void)reason;
	buf_puts(b, "}\n");
}

static void emit(struct recon *r, const char *finding, uint64_t line, uint64_t seq,
		 yima_slice_t code, yima_slice_t settlement, const char *reason)
{
	emit_to(r, &r->out, finding, line, seq, code, settlement, reason);
}

static int flush(struct recon *r)
{
	if (r->out.oom)
		return YIMA_ENOMEM;
	if (r->out.len > 0 && fwrite(r->out.p, 1, r->out.len, r->o->out) != r->out.len)
		return YIMA_EIO;
	buf_reset(&r->out);
	return 0;
}

/* ---- one log row --------------------------------------------------------- */

#define MATCH_MAX 16

/* The ledger dispenses under one (facility, settlement, code). */
struct match {
	struct recon *r;
	uint64_t n;
	size_t kept;
	uint64_t seq[MATCH_MAX];
	bool applied[MATCH_MAX];
};

static int match_entry(void *arg, yima_slice_t code, const settle_entry_t *e)
{
	struct match *m = arg;
	(void)code;
	if (e->type != EV_DISPENSE)
		return 0;
	m->n++;
	/* the log has this claim line: none of its records is UNLOGGED */
	if (e->seq < m->r->nseq)
		m->r->seen[e->seq / 8] |= (uint8_t)(1u << (e->seq % 8));
	if (m->kept < MATCH_MAX) {
		m->seq[m->kept] = e->seq;
		m->applied[m->kept++] = e->verdict != VERDICT_REJECT;
	}
	return 0;
}

/* ---- RESOLD_ELSEWHERE, in batches ---------------------------------------- */

static uint64_t sort_key(const struct pending *p)
{
	uint64_t k = 0;
	for (size_t i = 0; i < 16; i++)
		k = k << 4 | (i < p->code_len ? (uint64_t)(((uint8_t)p->code[i] - '0') & 15) : 0);
	return k;
}

static int cmp_items(const void *x, const void *y)
{
	const struct sort_item *a = x, *b = y;
	return (a->key > b->key) - (a->key < b->key);
}

/* Does the code have a dispense at another facility than the row's?  The
 * code state keeps the first dispensing facility and whether a second one
 * followed (ledger.h), so this is one lookup per distinct code. */
static int lookup_batch(struct recon *r, bool *yes)
{
	code_state_t st;
	const struct pending *prev = NULL;
	bool found = false;
	int rc;

	for (size_t i = 0; i < r->npend; i++) {
		r->order[i].key = sort_key(&r->pend[i]);
		r->order[i].idx = (uint32_t)i;
	}
	qsort(r->order, r->npend, sizeof *r->order, cmp_items);
	for (size_t i = 0; i < r->npend; i++) {
		const struct pending *p = &r->pend[r->order[i].idx];
		if (prev == NULL || prev->code_len != p->code_len || memcmp(prev->code, p->code, p->code_len) != 0) {
			rc = ledger_code_get(r->txn, p->code, p->code_len, &st);
			if (rc < 0 && rc != YIMA_ENOTFOUND)
				return rc;
			found = rc == 0;
			prev = p;
		}
		yes[r->order[i].idx] = found && (st.sold_elsewhere_too ||
			(st.sold_at[0] != '\0' && !yima_slice_eq_cstr(yima_slice(p->facility, p->fac_len), st.sold_at)));
	}
	return 0;
}

/* Answer the pending rows and write the output held for them, with each
 * RESOLD_ELSEWHERE line right after its row's other findings. */
static int resolve_batch(struct recon *r)
{
	bool *yes;
	size_t at = 0;
	int rc = 0;

	if (r->npend == 0)
		return 0;
	if (r->stl.oom || (yes = calloc(r->npend, sizeof *yes)) == NULL)
		return YIMA_ENOMEM;
	if ((rc = lookup_batch(r, yes)) < 0)
		goto free_yes;
	for (size_t i = 0; i < r->npend; i++) {
		const struct pending *p = &r->pend[i];
		if (!yes[i])
			continue;
		if (p->out_end > at && fwrite(r->out.p + at, 1, p->out_end - at, r->o->out) != p->out_end - at) {
			rc = YIMA_EIO;
			goto free_yes;
		}
		at = p->out_end;
		buf_reset(&r->line);
		emit_to(r, &r->line, kind_names[RF_RESOLD_ELSEWHERE], p->line, 0,
			yima_slice(p->code, p->code_len), yima_slice((const char *)r->stl.p + p->stl_off, p->stl_len),
			NULL);
		r->st->by_kind[RF_RESOLD_ELSEWHERE]++;
		if (r->line.oom || fwrite(r->line.p, 1, r->line.len, r->o->out) != r->line.len) {
			rc = r->line.oom ? YIMA_ENOMEM : YIMA_EIO;
			goto free_yes;
		}
	}
	if (r->out.len > at && fwrite(r->out.p + at, 1, r->out.len - at, r->o->out) != r->out.len - at)
		rc = YIMA_EIO;
	buf_reset(&r->out);
	buf_reset(&r->stl);
	r->npend = 0;
free_yes:
	free(yes);
	return rc;
}

/* Hold the row for the next batch of lookups. */
static int defer_resold(struct recon *r, const verify_input_t *in, uint64_t line)
{
	struct pending *p = &r->pend[r->npend++];

	memcpy(p->code, in->code.canon, in->code.canon_len);
	p->code_len = (uint8_t)in->code.canon_len;
	memcpy(p->facility, in->ev.facility.p, in->ev.facility.n);
	p->fac_len = (uint8_t)in->ev.facility.n;
	p->line = line;
	p->out_end = r->out.len;
	p->stl_off = r->stl.len;
	p->stl_len = in->ev.settlement.n;
	buf_put(&r->stl, in->ev.settlement.p, in->ev.settlement.n);
	if (r->npend == RESOLD_BATCH || r->out.len > HOLD_MAX || r->stl.len > HOLD_MAX)
		return resolve_batch(r);
	return 0;
}

static bool log_units(ledger_txn_t *txn, const verify_input_t *in, uint64_t *units)
{
	catalog_entry_t cat;
	if (in->ev.has_qty) {
		*units = in->ev.qty;
		return true;
	}
	if (ledger_catalog_lookup(txn, in->code.product, in->code.product_len, &cat) == 0) {
		*units = cat.pack_units;
		return true;
	}
	return false;
}

static bool same_units(ledger_txn_t *txn, const verify_input_t *in, const ledger_event_t *rec)
{
	uint64_t units;
	return log_units(txn, in, &units) ? units == rec->units : !rec->has_qty;
}

/* Pick the record a log line is compared with: one that agrees with it
 * (a log that holds a rejected duplicate as its own line matches that
 * attempt), else the applied dispense, else the last attempt. */
static int pick_match(struct recon *r, const verify_input_t *in, const struct match *m,
		      ledger_event_t *rec)
{
	size_t pick = m->kept - 1;
	bool have_applied = false;
	int rc;

	for (size_t i = 0; i < m->kept; i++) {
		if ((rc = ledger_event_get(r->txn, m->seq[i], rec)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		if (same_units(r->txn, in, rec) && yima_slice_eq(in->ev.drug, rec->drug))
			return 0;
		if (m->applied[i] && !have_applied) {
			pick = i;
			have_applied = true;
		}
	}
	rc = ledger_event_get(r->txn, m->seq[pick], rec);
	return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
}

static int compare_matched(struct recon *r, const verify_input_t *in, uint64_t line,
			   const struct match *m)
{
	ledger_event_t rec;
	yima_slice_t code = yima_slice(in->code.canon, in->code.canon_len), stl = in->ev.settlement;
	int rc = pick_match(r, in, m, &rec);

	if (rc < 0)
		return rc;
	if (!same_units(r->txn, in, &rec)) {
		emit(r, kind_names[RF_QTY_MISMATCH], line, 0, code, stl, NULL);
		r->st->by_kind[RF_QTY_MISMATCH]++;
	}
	if (!yima_slice_eq(in->ev.drug, rec.drug)) {
		emit(r, kind_names[RF_DRUG_MISMATCH], line, 0, code, stl, NULL);
		r->st->by_kind[RF_DRUG_MISMATCH]++;
	}
	FINDING_EACH(f) {
		if (!(rec.findings & FINDING_BIT(f)))
			continue;
		emit(r, finding_name((enum finding)f), line, 0, code, stl, NULL);
		r->st->by_kind[RF_RECORD_FINDING]++;
		r->st->by_finding[f]++;
	}
	return 0;
}

static int check_dispense(struct recon *r, const verify_input_t *in, uint64_t line)
{
	yima_slice_t code = yima_slice(in->code.canon, in->code.canon_len);
	struct match m;
	int rc;

	memset(&m, 0, sizeof m);
	m.r = r;
	rc = ledger_settle_scan(r->txn, in->ev.facility, in->ev.settlement, code, match_entry, &m);
	if (rc < 0)
		return rc;
	if (m.n == 0) {
		emit(r, kind_names[RF_NOT_UPLOADED], line, 0, code, in->ev.settlement, NULL);
		r->st->by_kind[RF_NOT_UPLOADED]++;
	} else {
		r->st->uploaded++;
		if ((rc = compare_matched(r, in, line, &m)) < 0)
			return rc;
	}
	return defer_resold(r, in, line);
}

static void widen_span(struct recon *r, const yima_time_t *t)
{
	if (!r->have_span || yima_time_cmp(t, &r->from) < 0)
		r->from = *t;
	if (!r->have_span || yima_time_cmp(t, &r->to) > 0)
		r->to = *t;
	r->have_span = true;
}

static int check_row(struct recon *r, const csv_row_t *row, uint64_t line)
{
	verify_input_t in;
	int rc;

	/* Most of a stock log is not dispenses: skip those on the type
	 * field alone, without parsing the row or normalizing its code. */
	if (row->nfields == EVENT_NCOLUMNS) {
		enum event_type t = event_type_parse(row->field[2].p, row->field[2].n);
		if (t != EV_NONE && t != EV_DISPENSE) {
			r->st->skipped++;
			return 0;
		}
	}
	verify_input_from_row(row, &in);
	if (in.status == YIMA_EBADRECORD) {
		enum event_type t = row->nfields >= 3 ? event_type_parse(row->field[2].p, row->field[2].n) : EV_NONE;
		if (t != EV_NONE && t != EV_DISPENSE) {
			r->st->skipped++;
			return 0;
		}
		yima_slice_t stl = row->nfields >= 7 ? row->field[6] : yima_slice("", 0);
		emit(r, kind_names[RF_BAD_RECORD], line, 0, verify_input_code(&in), stl, in.reason);
		r->st->by_kind[RF_BAD_RECORD]++;
		return 0;
	}
	if (in.ev.type != EV_DISPENSE) {
		r->st->skipped++;
		return 0;
	}
	r->st->dispenses++;
	widen_span(r, &in.ev.time);
	if ((rc = facset_add(&r->facs, in.ev.facility)) < 0)
		return rc;
	if (in.status == YIMA_EMALFORMED) {
		emit(r, kind_names[RF_MALFORMED], line, 0, verify_input_code(&in), in.ev.settlement, in.reason);
		r->st->by_kind[RF_MALFORMED]++;
		return 0;
	}
	return check_dispense(r, &in, line);
}

/* ---- the ledger side ---------------------------------------------------- */

static int unlogged_event(void *arg, const ledger_event_t *ev)
{
	struct recon *r = arg;

	if (ev->type != EV_DISPENSE || ev->status != REC_OK)
		return 0;
	if (ev->seq < r->nseq && (r->seen[ev->seq / 8] & (1u << (ev->seq % 8))))
		return 0;
	if (!facset_has(&r->facs, ev->facility) || yima_time_cmp(&ev->time, &r->from) < 0 ||
	    yima_time_cmp(&ev->time, &r->to) > 0)
		return 0;
	emit(r, kind_names[RF_UNLOGGED], 0, ev->seq, ev->code, ev->settlement, NULL);
	r->st->by_kind[RF_UNLOGGED]++;
	return r->out.len > (1u << 20) && flush(r) < 0 ? YIMA_EIO : 0;
}

/* ---- driver ------------------------------------------------------------------ */

static int read_log(struct recon *r, FILE *fp, char *why, size_t whylen)
{
	csv_reader_t *csv;
	csv_row_t row;
	char msg[256];
	uint64_t line = 0;
	int rc;

	if ((rc = csv_reader_new(fp, 0, &csv)) < 0)
		return yima_fail(why, whylen, rc, "out of memory");
	if ((rc = csv_reader_next(csv, &row, msg, sizeof msg)) <= 0 || !event_csv_header_ok(&row)) {
		rc = rc < 0 ? yima_fail(why, whylen, YIMA_EIO, "%s: %s", r->o->path, msg)
		   : rc == 0 ? yima_fail(why, whylen, YIMA_EFORMAT, "%s: empty file, no header", r->o->path)
			    : yima_fail(why, whylen, YIMA_EFORMAT,
					"%s: %s: header must be exactly time,facility,type,code,drug,qty,settlement,patient,counterparty",
					r->o->path, csv_row_where(&row, msg, sizeof msg));
		goto free_csv;
	}
	while ((rc = csv_reader_next(csv, &row, msg, sizeof msg)) > 0) {
		line++;
		r->st->rows++;
		if ((rc = check_row(r, &row, line)) < 0) {
			yima_fail(why, whylen, rc, "%s: %s: %s", r->o->path, csv_row_where(&row, msg, sizeof msg),
				  yima_strerror(rc));
			goto free_csv;
		}
		if (r->npend == 0 && r->out.len > (1u << 20) && (rc = flush(r)) < 0) {
			yima_fail(why, whylen, rc, "output: %s", yima_strerror(rc));
			goto free_csv;
		}
		if (r->o->progress != NULL && line % YIMA_PROGRESS_EVERY == 0)
			r->o->progress(r->o->progress_arg, line, csv_reader_offset(csv), r->size);
	}
	if (r->o->progress != NULL)
		r->o->progress(r->o->progress_arg, line, csv_reader_offset(csv), r->size);
	if (rc < 0)
		yima_fail(why, whylen, YIMA_EIO, "%s: %s", r->o->path, msg);
	else if ((rc = resolve_batch(r)) < 0)
		yima_fail(why, whylen, rc, "%s", rc == YIMA_EIO ? "output: write failed" : yima_strerror(rc));
free_csv:
	csv_reader_free(csv);
	return rc;
}

int recon_run(ledger_t *lg, const recon_opts_t *o, recon_stats_t *st, char *why, size_t whylen)
{
	struct recon r;
	FILE *fp;
	int rc;

	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	r.o = o;
	r.st = st;
	buf_init(&r.out);
	buf_init(&r.stl);
	buf_init(&r.line);
	bool std = strcmp(o->path, "-") == 0;
	if ((fp = std ? stdin : fopen(o->path, "rb")) == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: cannot open", o->path);
	struct stat sb;
	if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode))
		r.size = (uint64_t)sb.st_size;
	if ((rc = ledger_txn_begin(lg, false, &r.txn)) < 0) {
		yima_fail(why, whylen, rc, "%s: %s", ledger_dir(lg), yima_strerror(rc));
		goto close_log;
	}
	r.nseq = ledger_event_count(r.txn) + 1;
	r.seen = calloc(r.nseq / 8 + 1, 1);
	r.pend = malloc(RESOLD_BATCH * sizeof *r.pend);
	r.order = malloc(RESOLD_BATCH * sizeof *r.order);
	if (r.seen == NULL || r.pend == NULL || r.order == NULL) {
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
		goto free_seen;
	}
	if (o->format == RECON_CSV)
		buf_puts(&r.out, "finding,line,seq,code,settlement,reason\n");
	if ((rc = read_log(&r, fp, why, whylen)) < 0)
		goto free_seen;
	if (r.have_span && (rc = ledger_event_scan(r.txn, 1, unlogged_event, &r)) < 0) {
		yima_fail(why, whylen, rc, "%s: reading events: %s", ledger_dir(lg), yima_strerror(rc));
		goto free_seen;
	}
	if ((rc = flush(&r)) < 0 || fflush(o->out) != 0)
		rc = yima_fail(why, whylen, YIMA_EIO, "output: write failed");
free_seen:
	free(r.seen);
	free(r.pend);
	free(r.order);
	ledger_txn_abort(r.txn);
close_log:
	if (!std)
		fclose(fp);
	free(r.facs.slot);
	buf_deinit(&r.out);
	buf_deinit(&r.stl);
	buf_deinit(&r.line);
	return rc;
}
