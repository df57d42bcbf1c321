/*
 * settle_claim.c - claim files to Claim messages and verdicts to JSON
 * (see yima/settle.h), for `yima settle`.
 *
 * The file is read whole with the project's CSV reader; fields are copied
 * into one text arena (NUL-terminated, as protobuf-c strings are) and the
 * message is built over it once the arena stops growing.
 */
#include <stdlib.h>
#include <string.h>

#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "yima/util/csv.h"
#include "yima/util/error.h"
#include "yima/client/receipt.h"
#include "yima/client/claim_file.h"
#include "yima/core/event.h"

enum { C_FACILITY, C_SETTLEMENT, C_TIME, C_PATIENT, C_DRUG, C_CODE, C_UNITS, C_COUNT };

const char *const settle_claim_columns[C_COUNT] = {
	"facility", "settlement", "time", "patient", "drug", "code", "units",
};

#define SHARED 4	/* facility, settlement, time, patient: one per claim */
#define CLAIM_ROW_MAX (64u << 10)

struct row {
	uint64_t line;
	size_t drug, code;	/* offsets in the arena */
	uint64_t units;
};

struct reading {
	const char *name;
	buf_t text;
	size_t shared[SHARED];	/* offsets of the first row's shared fields */
	uint64_t first_line;
	struct row *rows;
	size_t n, cap;
	char *why;
	size_t whylen;
};

static bool header_ok(const csv_row_t *row)
{
	if (row->overlong || row->nfields != C_COUNT)
		return false;
	for (int i = 0; i < C_COUNT; i++)
		if (!yima_slice_eq_cstr(row->field[i], settle_claim_columns[i]))
			return false;
	return true;
}

/* units: empty = 0 = the whole pack, else a whole number without sign of
 * at most EVENT_UNITS_MAX (what yimad accepts as a qty). */
static bool parse_units(yima_slice_t s, uint64_t *out)
{
	*out = 0;
	return s.n == 0 || event_units_parse(s, out) == 0;
}

static size_t put_text(buf_t *b, yima_slice_t s)
{
	size_t off = b->len;
	buf_put(b, s.p, s.n);
	buf_putc(b, '\0');
	return off;
}

static int take_row(struct reading *rd, const csv_row_t *row)
{
	char where[CSV_WHERE_MAX];

	csv_row_where(row, where, sizeof where);
	if (row->overlong || row->nfields != C_COUNT)
		return yima_fail(rd->why, rd->whylen, YIMA_EFORMAT,
				 "%s: %s: %zu fields, a claim row has %d "
				 "(facility,settlement,time,patient,drug,code,units)",
				 rd->name, where, row->nfields, C_COUNT);
	for (int i = 0; i < C_COUNT; i++)
		if (row->field[i].n > 0 && memchr(row->field[i].p, '\0', row->field[i].n) != NULL)
			return yima_fail(rd->why, rd->whylen, YIMA_EFORMAT, "%s: %s: column %s: a NUL byte",
					 rd->name, where, settle_claim_columns[i]);
	if (rd->n == CLAIM_CODES_MAX)
		return yima_fail(rd->why, rd->whylen, YIMA_ETOOBIG, "%s: %s: more than %d codes",
				 rd->name, where, CLAIM_CODES_MAX);
	if (rd->n == 0) {
		rd->first_line = row->line;
		for (int i = 0; i < SHARED; i++)
			rd->shared[i] = put_text(&rd->text, row->field[i]);
	} else {
		for (int i = 0; i < SHARED; i++) {
			const char *first = (const char *)rd->text.p + rd->shared[i];
			if (!rd->text.oom && !yima_slice_eq_cstr(row->field[i], first))
				return yima_fail(rd->why, rd->whylen, YIMA_EFORMAT,
						 "%s: %s: column %s differs from data row 1 (line %llu) (every row "
						 "of a claim has the same facility, settlement, time and patient)",
						 rd->name, where, settle_claim_columns[i],
						 (unsigned long long)rd->first_line);
		}
	}
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 16;
		struct row *rows = realloc(rd->rows, cap * sizeof *rows);
		if (rows == NULL)
			return yima_fail(rd->why, rd->whylen, YIMA_ENOMEM, "out of memory");
		rd->rows = rows;
		rd->cap = cap;
	}
	struct row *r = &rd->rows[rd->n];
	r->line = row->number - 1;	/* the data row */
	if (!parse_units(row->field[C_UNITS], &r->units))
		return yima_fail(rd->why, rd->whylen, YIMA_EFORMAT,
				 "%s: %s: column units: not a whole number from 0 to %u: %.*s", rd->name,
				 where, EVENT_UNITS_MAX, (int)(row->field[C_UNITS].n > 40 ? 40 : row->field[C_UNITS].n),
				 row->field[C_UNITS].p);
	r->drug = put_text(&rd->text, row->field[C_DRUG]);
	r->code = put_text(&rd->text, row->field[C_CODE]);
	if (rd->text.oom)
		return yima_fail(rd->why, rd->whylen, YIMA_ENOMEM, "out of memory");
	rd->n++;
	return 0;
}

static int read_rows(struct reading *rd, FILE *fp)
{
	csv_reader_t *csv;
	csv_row_t row;
	char msg[256];
	bool header = true;
	int rc;

	if ((rc = csv_reader_new(fp, CLAIM_ROW_MAX, &csv)) < 0)
		return yima_fail(rd->why, rd->whylen, rc, "out of memory");
	while ((rc = csv_reader_next(csv, &row, msg, sizeof msg)) == 1) {
		if (header) {
			if (!header_ok(&row)) {
				rc = yima_fail(rd->why, rd->whylen, YIMA_EFORMAT,
					       "%s: %s: the header is not "
					       "facility,settlement,time,patient,drug,code,units",
					       rd->name, csv_row_where(&row, msg, sizeof msg));
				goto free_csv;
			}
			header = false;
			continue;
		}
		if ((rc = take_row(rd, &row)) < 0)
			goto free_csv;
	}
	if (rc < 0) {
		rc = yima_fail(rd->why, rd->whylen, rc, "%s: %s", rd->name, msg);
		goto free_csv;
	}
	if (rd->n == 0)
		rc = yima_fail(rd->why, rd->whylen, YIMA_EFORMAT, "%s: %s", rd->name,
			       header ? "empty, no header" : "no codes: a claim has at least one row");
free_csv:
	csv_reader_free(csv);
	return rc;
}

/* Build the message over the arena: runs of rows with the same drug are
 * one item each. */
static int build(settle_claim_t *c, struct reading *rd)
{
	char *t = (char *)rd->text.p;
	size_t nitems = 0;

	for (size_t i = 0; i < rd->n; i++)
		if (i == 0 || strcmp(t + rd->rows[i].drug, t + rd->rows[i - 1].drug) != 0)
			nitems++;
	c->items = calloc(nitems, sizeof *c->items);
	c->item_ptrs = calloc(nitems, sizeof *c->item_ptrs);
	c->codes = calloc(rd->n, sizeof *c->codes);
	c->code_ptrs = calloc(rd->n, sizeof *c->code_ptrs);
	c->lines = calloc(rd->n, sizeof *c->lines);
	if (c->items == NULL || c->item_ptrs == NULL || c->codes == NULL ||
	    c->code_ptrs == NULL || c->lines == NULL)
		return YIMA_ENOMEM;
	yima__v1__claim__init(&c->msg);
	c->msg.facility = t + rd->shared[C_FACILITY];
	c->msg.settlement = t + rd->shared[C_SETTLEMENT];
	c->msg.time = t + rd->shared[C_TIME];
	c->msg.patient = t + rd->shared[C_PATIENT];
	c->msg.items = c->item_ptrs;
	Yima__V1__ClaimItem *it = NULL;
	for (size_t i = 0; i < rd->n; i++) {
		const struct row *r = &rd->rows[i];
		if (it == NULL || strcmp(it->drug, t + r->drug) != 0) {
			it = &c->items[c->msg.n_items];
			yima__v1__claim_item__init(it);
			it->drug = t + r->drug;
			it->codes = &c->code_ptrs[i];
			c->item_ptrs[c->msg.n_items++] = it;
		}
		yima__v1__claim_code__init(&c->codes[i]);
		c->codes[i].code = t + r->code;
		c->codes[i].units = r->units;
		c->code_ptrs[i] = &c->codes[i];
		it->n_codes++;
		c->lines[i] = r->line;
	}
	c->ncodes = rd->n;
	return 0;
}

int settle_claim_read(FILE *fp, const char *name, settle_claim_t **out, char *why, size_t whylen)
{
	struct reading rd = { .name = name, .why = why, .whylen = whylen };
	settle_claim_t *c = NULL;
	int rc;

	*out = NULL;
	buf_init(&rd.text);
	if ((rc = read_rows(&rd, fp)) < 0)
		goto free_reading;
	if ((c = calloc(1, sizeof *c)) == NULL || (rc = build(c, &rd)) < 0) {
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
		settle_claim_free(c);
		goto free_reading;
	}
	c->text = (char *)rd.text.p;	/* the arena moves into the claim */
	rd.text.p = NULL;
	*out = c;
free_reading:
	free(rd.rows);
	buf_deinit(&rd.text);
	return rc;
}

void settle_claim_free(settle_claim_t *c)
{
	if (c == NULL)
		return;
	free(c->lines);
	free(c->text);
	free(c->items);
	free(c->item_ptrs);
	free(c->codes);
	free(c->code_ptrs);
	free(c);
}

void settle_verdict_json(buf_t *b, const Yima__V1__ClaimVerdict *v)
{
	enum verdict x = VERDICT_REJECT;

	receipt_verdict(v->verdict, &x);
	buf_puts(b, "{\"settlement\":");
	json_str(b, v->settlement, strlen(v->settlement));
	buf_printf(b, ",\"verdict\":\"%s\",\"dry_run\":%s,\"codes\":[", verdict_name(x),
		   v->dry_run ? "true" : "false");
	for (size_t i = 0; i < v->n_codes; i++) {
		const Yima__V1__EventVerdict *cv = v->codes[i];
		enum verdict cx = VERDICT_REJECT;
		receipt_verdict(cv->verdict, &cx);
		buf_puts(b, i ? ",{\"code\":" : "{\"code\":");
		json_str(b, cv->code, strlen(cv->code));
		buf_printf(b, ",\"verdict\":\"%s\",\"findings\":", verdict_name(cx));
		receipt_findings_json(b, cv->findings, cv->n_findings);
		buf_printf(b, ",\"seq\":%llu", (unsigned long long)cv->seq);
		if (cv->seq != 0)
			buf_printf(b, ",\"index\":%llu", (unsigned long long)cv->index);
		if (cv->reason[0] != '\0') {
			buf_puts(b, ",\"reason\":");
			json_str(b, cv->reason, strlen(cv->reason));
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"receipt\":");
	if (v->receipt == NULL) {
		buf_puts(b, "null");
	} else {
		buf_printf(b, "{\"first_seq\":%llu,\"last_seq\":%llu,\"chain_hash\":\"",
			   (unsigned long long)v->receipt->first_seq,
			   (unsigned long long)v->receipt->last_seq);
		receipt_hex(b, &v->receipt->chain_hash);
		buf_printf(b, "\",\"replayed\":%s}", v->receipt->replayed ? "true" : "false");
	}
	buf_puts(b, "}\n");
}
