/*
 * ingest.c - an events CSV file into the ledger (see yima/ingest.h).
 *
 * The file's SHA-256 identifies it: a regular file is hashed before
 * anything is applied, so a file seen before is refused whole; standard
 * input from a pipe is hashed as it streams and recorded at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "yima/core/event_csv.h"
#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "yima/util/csv.h"
#include "yima/util/error.h"
#include "yima/verifier/ingest.h"
#include "yima/verifier/verify.h"

/* A commit every 1,000,000 rows or 256 MiB of input, whichever first.
 * Code states are keyed by code, so every batch rewrites most pages of
 * that table whatever its size: fewer, larger batches cut the bytes
 * written per event (at 10 M events, 100,000-row batches ran at 80 k
 * events/s, 1,000,000-row batches at 141 k; bench/README.md).  A crash
 * redoes at most one batch, and a rerun of the file resumes after the
 * last committed one. */
#define INGEST_BATCH_DEFAULT 1000000
#define INGEST_BATCH_BYTES ((uint64_t)256 << 20)

void ingest_opts_init(ingest_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->refund_window_days = REFUND_WINDOW_DAYS_DEFAULT;
	o->batch_rows = INGEST_BATCH_DEFAULT;
}

/* ---- input and its hash -------------------------------------------------- */

struct input {
	FILE *fp;		/* what the CSV reader reads */
	FILE *under;		/* the file or stdin */
	uint64_t size;
	EVP_MD_CTX *md;
	uint8_t sha[32];
};

static int hash_regular(struct input *in, const char *name, char *why, size_t whylen)
{
	static const size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	unsigned len = 0;
	size_t got;

	if (buf == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	if (EVP_DigestInit_ex(in->md, EVP_sha256(), NULL) != 1)
		goto crypto;
	while ((got = fread(buf, 1, chunk, in->under)) > 0)
		if (EVP_DigestUpdate(in->md, buf, got) != 1)
			goto crypto;
	free(buf);
	if (ferror(in->under) || fseeko(in->under, 0, SEEK_SET) != 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", name, strerror(errno));
	if (EVP_DigestFinal_ex(in->md, in->sha, &len) != 1)
		return yima_fail(why, whylen, YIMA_ECRYPTO, "%s: SHA-256 failed", name);
	return 0;
crypto:
	free(buf);
	return yima_fail(why, whylen, YIMA_ECRYPTO, "%s: SHA-256 failed", name);
}

/*
 * A pipe cannot be read twice, yet a file seen before must be refused
 * before anything of it is applied (spec section 5): copy it to an
 * unlinked temporary file (under $TMPDIR) while hashing, then read that.
 * Disk, not memory, holds it, so any size streams.
 */
static int spool_pipe(struct input *in, const char *path, char *why, size_t whylen)
{
	static const size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	unsigned len = 0;
	size_t got;
	int rc = 0;

	if (buf == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	if ((in->fp = tmpfile()) == NULL) {
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: temporary copy: %s", path, strerror(errno));
		goto free_buf;
	}
	if (EVP_DigestInit_ex(in->md, EVP_sha256(), NULL) != 1) {
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "SHA-256 failed");
		goto free_buf;
	}
	while ((got = fread(buf, 1, chunk, in->under)) > 0) {
		if (EVP_DigestUpdate(in->md, buf, got) != 1) {
			rc = yima_fail(why, whylen, YIMA_ECRYPTO, "SHA-256 failed");
			goto free_buf;
		}
		if (fwrite(buf, 1, got, in->fp) != got) {
			rc = yima_fail(why, whylen, YIMA_EIO, "%s: temporary copy: %s", path,
				       strerror(errno));
			goto free_buf;
		}
		in->size += got;
	}
	if (ferror(in->under)) {
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
		goto free_buf;
	}
	if (fflush(in->fp) != 0 || fseeko(in->fp, 0, SEEK_SET) != 0) {
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: temporary copy: %s", path, strerror(errno));
		goto free_buf;
	}
	if (EVP_DigestFinal_ex(in->md, in->sha, &len) != 1) {
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "SHA-256 failed");
		goto free_buf;
	}
free_buf:
	free(buf);
	return rc;
}

static int input_open(struct input *in, const char *path, char *why, size_t whylen)
{
	struct stat sb;
	bool std = strcmp(path, "-") == 0;

	memset(in, 0, sizeof *in);
	in->under = std ? stdin : fopen(path, "rb");
	if (in->under == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	if ((in->md = EVP_MD_CTX_new()) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	if (fstat(fileno(in->under), &sb) != 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return yima_fail(why, whylen, YIMA_EIO, "%s: is a directory", path);
	if (S_ISREG(sb.st_mode) && ftello(in->under) == 0) {
		in->size = (uint64_t)sb.st_size;
		in->fp = in->under;
		return hash_regular(in, path, why, whylen);
	}
	return spool_pipe(in, path, why, whylen);
}

static void input_close(struct input *in)
{
	if (in->fp != NULL && in->fp != in->under)
		fclose(in->fp);
	if (in->under != NULL && in->under != stdin)
		fclose(in->under);
	EVP_MD_CTX_free(in->md);
}

/* ---- output ---------------------------------------------------------------- */

void ingest_json_line(buf_t *b, uint64_t line, const verify_input_t *in,
		      const verify_result_t *res)
{
	buf_printf(b, "{\"line\":%llu,\"index\":%llu,\"code\":", (unsigned long long)line,
		   (unsigned long long)res->index);
	yima_slice_t code = verify_input_code(in);
	json_str(b, code.p ? code.p : "", code.n);
	buf_printf(b, ",\"verdict\":\"%s\",\"findings\":", verdict_name(res->verdict));
	finding_set_json(b, res->findings);
	if (in->status != 0) {
		buf_puts(b, ",\"reason\":");
		json_str(b, in->reason, strlen(in->reason));
	}
	buf_puts(b, "}\n");
}

/* The stats of a committed batch into the run's. */
static void stats_merge(ingest_stats_t *st, const ingest_stats_t *batch)
{
	st->rows += batch->rows;
	for (int v = 0; v < 3; v++)
		st->verdicts[v] += batch->verdicts[v];
	for (int f = 0; f < F_COUNT; f++)
		st->findings[f] += batch->findings[f];
}

static void stats_add(ingest_stats_t *st, const verify_result_t *res)
{
	st->rows++;
	st->verdicts[res->verdict]++;
	for (int f = 0; f < F_COUNT; f++)
		if (res->findings & FINDING_BIT(f))
			st->findings[f]++;
}

/* ---- the batch loop -------------------------------------------------------- */

struct run {
	ledger_t *lg;
	const ingest_opts_t *o;
	ingest_stats_t *st;
	struct input in;
	csv_reader_t *csv;
	buf_t out;
	uint64_t rows_done;	/* data rows read, committed or skipped */
	uint64_t skip;		/* rows to skip (resume) */
	char *why;
	size_t whylen;
};

static int check_seen(struct run *r)
{
	ledger_txn_t *txn;
	uint64_t rows;
	bool complete;
	int rc;

	if ((rc = ledger_txn_begin(r->lg, false, &txn)) < 0)
		return yima_fail(r->why, r->whylen, rc, "%s: %s", ledger_dir(r->lg), yima_strerror(rc));
	rc = ledger_file_get(txn, r->in.sha, &rows, &complete);
	ledger_txn_abort(txn);
	if (rc == YIMA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return yima_fail(r->why, r->whylen, rc, "%s: %s", ledger_dir(r->lg), yima_strerror(rc));
	if (r->o->again)
		return 0;
	if (complete)
		return yima_fail(r->why, r->whylen, YIMA_EEXIST,
				 "%s: this file (same SHA-256) was ingested before; use --again to ingest it again",
				 r->o->path);
	r->skip = rows;
	r->st->resumed_after = rows;
	return 0;
}

static int read_header(struct run *r)
{
	csv_row_t row;
	char msg[256], where[CSV_WHERE_MAX];
	int rc = csv_reader_next(r->csv, &row, msg, sizeof msg);

	if (rc < 0)
		return yima_fail(r->why, r->whylen, YIMA_EIO, "%s: %s", r->o->path, msg);
	if (rc == 0)
		return yima_fail(r->why, r->whylen, YIMA_EFORMAT, "%s: empty file, no header", r->o->path);
	if (!event_csv_header_ok(&row))
		return yima_fail(r->why, r->whylen, YIMA_EFORMAT,
				 "%s: %s: header must be exactly time,facility,type,code,drug,qty,settlement,patient,counterparty",
				 r->o->path, csv_row_where(&row, where, sizeof where));
	return 0;
}

/* A batch that could not be applied for want of space: say where, and
 * what stays (spec section 5: one line, exit 2; nothing of it applied). */
static int no_space(struct run *r, uint64_t first_row)
{
	return yima_fail(r->why, r->whylen, YIMA_ENOSPACE,
			 "no space left on %s: %s rows from %llu on were not applied; the %llu rows "
			 "before them are committed, and ingesting the file again resumes there",
			 ledger_dir(r->lg), r->o->path, (unsigned long long)first_row,
			 (unsigned long long)(first_row - 1));
}

/* Apply up to batch_rows rows in one transaction.  Returns 1 if more input
 * may follow, 0 at end of input, <0 on error.  Stats and JSON lines count
 * only once the batch is committed. */
static int run_batch(struct run *r)
{
	ledger_txn_t *txn;
	csv_row_t row;
	verify_input_t vin;
	verify_result_t res;
	ingest_stats_t bst;
	char msg[256];
	uint64_t n = 0, start = csv_reader_offset(r->csv), first = r->rows_done + 1;
	int more = 1, rc;

	buf_reset(&r->out);
	memset(&bst, 0, sizeof bst);
	if (first <= r->skip)
		first = r->skip + 1;
	if ((rc = ledger_txn_begin(r->lg, true, &txn)) < 0)
		return rc == YIMA_ENOSPACE ? no_space(r, first)
		       : yima_fail(r->why, r->whylen, rc, "%s: %s", ledger_dir(r->lg), yima_strerror(rc));
	if ((rc = ledger_refund_window_set(txn, r->o->refund_window_days)) < 0)
		goto ledger_error;
	while (n < r->o->batch_rows && csv_reader_offset(r->csv) - start < INGEST_BATCH_BYTES) {
		if ((more = csv_reader_next(r->csv, &row, msg, sizeof msg)) <= 0)
			break;
		r->rows_done++;
		if (r->o->progress != NULL && r->rows_done % YIMA_PROGRESS_EVERY == 0)
			r->o->progress(r->o->progress_arg, r->rows_done, csv_reader_offset(r->csv), r->in.size);
		if (r->rows_done <= r->skip)
			continue;
		verify_input_from_row(&row, &vin);
		if ((rc = verify_apply(txn, &vin, &res)) < 0)
			goto ledger_error;
		if (r->o->out != NULL)
			ingest_json_line(&r->out, r->rows_done, &vin, &res);
		stats_add(&bst, &res);
		n++;
	}
	if (more < 0) {
		ledger_txn_abort(txn);
		return yima_fail(r->why, r->whylen, YIMA_EIO, "%s: after data row %llu: %s", r->o->path,
				 (unsigned long long)r->rows_done, msg);
	}
	if ((rc = ledger_file_mark(txn, r->in.sha, r->rows_done, more == 0)) < 0)
		goto ledger_error;
	if (r->out.oom) {
		rc = YIMA_ENOMEM;
		goto ledger_error;
	}
	if ((rc = ledger_txn_commit(txn)) < 0)
		return rc == YIMA_ENOSPACE ? no_space(r, first)
		       : yima_fail(r->why, r->whylen, rc, "%s: commit: %s", ledger_dir(r->lg), yima_strerror(rc));
	/* only now, with the batch durable, say what it held */
	stats_merge(r->st, &bst);
	if (r->o->out != NULL && r->out.len > 0 &&
	    (fwrite(r->out.p, 1, r->out.len, r->o->out) != r->out.len || fflush(r->o->out) != 0))
		return yima_fail(r->why, r->whylen, YIMA_EIO, "output: %s", strerror(errno));
	if (r->o->progress != NULL)
		r->o->progress(r->o->progress_arg, r->rows_done, csv_reader_offset(r->csv), r->in.size);
	return more;
ledger_error:
	ledger_txn_abort(txn);
	if (rc == YIMA_ENOSPACE)
		return no_space(r, first);
	return yima_fail(r->why, r->whylen, rc, "%s: data row %llu: %s", r->o->path,
			 (unsigned long long)r->rows_done, yima_strerror(rc));
}

int ingest_file(ledger_t *lg, const ingest_opts_t *o, ingest_stats_t *st,
		char *why, size_t whylen)
{
	struct run r;
	int rc;

	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	r.lg = lg;
	r.o = o;
	r.st = st;
	r.why = why;
	r.whylen = whylen;
	buf_init(&r.out);
	if ((rc = input_open(&r.in, o->path, why, whylen)) < 0)
		goto close_input;
	if ((rc = check_seen(&r)) < 0)
		goto close_input;
	if ((rc = csv_reader_new(r.in.fp, 0, &r.csv)) < 0) {
		yima_fail(why, whylen, rc, "out of memory");
		goto close_input;
	}
	if ((rc = read_header(&r)) < 0)
		goto free_csv;
	while ((rc = run_batch(&r)) > 0)
		;
free_csv:
	csv_reader_free(r.csv);
close_input:
	input_close(&r.in);
	buf_deinit(&r.out);
	return rc;
}
