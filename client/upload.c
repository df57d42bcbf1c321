/*
 * upload.c - the reader side of `yima upload` (see yima/upload.h): an
 * events CSV cut into batches that go into the spool, then to the sender
 * (upload_send.c).
 *
 * A regular file is hashed first (its SHA-256 names its batches) and read
 * with the ordinary CSV reader.  A pipe, a terminal or a FIFO is read
 * through a csv source that waits for input with poll(): while it waits,
 * it seals the part-filled batch when its time is up and retries sending
 * when a retry is due, so one thread both reads the scans as they come
 * and keeps delivering them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "upload_int.h"
#include "yima/util/hex.h"
#include "yima/core/event_csv.h"
#include "yima/util/csv.h"
#include "yima/util/error.h"

#define ROW_MAX (1u << 20)		/* longer rows travel raw */
#define BATCH_TEXT_MAX (8u << 20)	/* seal a batch whose text passes this */

void upload_opts_init(upload_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->batch_rows = UPLOAD_BATCH_DEFAULT;
	o->idle_ms = UPLOAD_IDLE_MS;
	o->retry_for_ms = (uint64_t)UPLOAD_RETRY_FOR_DEFAULT * 1000;
}

/* The batch id prefix of a regular file: its SHA-256 from the current
 * offset to the end, read with pread() so the offset does not move. */
static int prefix_of_file(struct upload_run *r, int fd, off_t start)
{
	uint8_t buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	off_t off = start;
	int rc = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = yima_fail(r->why, r->whylen, YIMA_ECRYPTO, "OpenSSL: no SHA-256");
		goto free_ctx;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = yima_fail(r->why, r->whylen, YIMA_EIO, "%s: %s", r->source, strerror(errno));
			goto free_ctx;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			rc = yima_fail(r->why, r->whylen, YIMA_ECRYPTO, "OpenSSL: SHA-256 failed");
			goto free_ctx;
		}
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 8) {
		rc = yima_fail(r->why, r->whylen, YIMA_ECRYPTO, "OpenSSL: SHA-256 failed");
		goto free_ctx;
	}
	hex_encode(md, 8, r->prefix);
free_ctx:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int prefix_random(struct upload_run *r)
{
	uint8_t b[8];
	if (RAND_bytes(b, sizeof b) != 1)
		return yima_fail(r->why, r->whylen, YIMA_ECRYPTO, "OpenSSL: no randomness");
	hex_encode(b, 8, r->prefix);
	return 0;
}

/* ---- the batch being filled ---------------------------------------------- */

static int add_row(struct upload_run *r, const csv_row_t *row, bool stream)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct upload_row *rows = realloc(r->rows, cap * sizeof *rows);
		if (rows == NULL)
			return yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
		r->rows = rows;
		r->cap = cap;
	}
	struct upload_row *u = &r->rows[r->n];
	bool raw = row->overlong || row->nfields != EVENT_NCOLUMNS;
	for (size_t i = 0; !raw && i < row->nfields; i++)
		raw = row->field[i].n > 0 && memchr(row->field[i].p, '\0', row->field[i].n) != NULL;
	memset(u, 0, sizeof *u);
	u->line = row->number - 1;	/* the header is row 1 */
	u->raw = raw;
	if (raw) {
		u->raw_off = r->text.len;
		u->raw_len = row->raw.n;
		buf_put(&r->text, row->raw.p, row->raw.n);
	} else {
		for (size_t i = 0; i < EVENT_NCOLUMNS; i++) {
			u->off[i] = r->text.len;
			buf_put(&r->text, row->field[i].p, row->field[i].n);
			buf_putc(&r->text, '\0');
		}
	}
	if (r->text.oom)
		return yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
	if (r->n++ == 0 && stream)
		r->seal_at = upload_now_ms() + r->o->idle_ms;
	return 0;
}

/* Pack the rows waiting into an EventBatch and put it in the spool. */
static int seal(struct upload_run *r)
{
	Yima__V1__EventBatch b = YIMA__V1__EVENT_BATCH__INIT;
	Yima__V1__Event *ev, **evp;
	uint8_t *body = NULL;
	char id[64];
	int rc;

	if (r->n == 0)
		return 0;
	uint64_t first = r->rows[0].line, last = r->rows[r->n - 1].line;
	snprintf(id, sizeof id, "%s-%" PRIu64 "-%" PRIu64, r->prefix, first, last);
	ev = calloc(r->n, sizeof *ev);
	evp = calloc(r->n, sizeof *evp);
	if (ev == NULL || evp == NULL) {
		rc = yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
		goto free_events;
	}
	char *t = (char *)r->text.p;
	for (size_t i = 0; i < r->n; i++) {
		const struct upload_row *u = &r->rows[i];
		yima__v1__event__init(&ev[i]);
		evp[i] = &ev[i];
		if (u->raw) {
			ev[i].raw.data = (uint8_t *)t + u->raw_off;
			ev[i].raw.len = u->raw_len;
			continue;
		}
		/* the nine columns of spec section 3, in the proto's order */
		ev[i].time = t + u->off[0];
		ev[i].facility = t + u->off[1];
		ev[i].type = t + u->off[2];
		ev[i].code = t + u->off[3];
		ev[i].drug = t + u->off[4];
		ev[i].qty = t + u->off[5];
		ev[i].settlement = t + u->off[6];
		ev[i].patient = t + u->off[7];
		ev[i].counterparty = t + u->off[8];
	}
	b.batch_id = id;
	b.n_events = r->n;
	b.events = evp;
	size_t size = yima__v1__event_batch__get_packed_size(&b);
	if ((body = malloc(size)) == NULL) {
		rc = yima_fail(r->why, r->whylen, YIMA_ENOMEM, "out of memory");
		goto free_events;
	}
	yima__v1__event_batch__pack(&b, body);
	spool_meta_t m = {
		.batch_id = yima_slice_cstr(id),
		.source = yima_slice_cstr(r->source),
		.events = r->n,
		.first_line = first,
		.created = (int64_t)time(NULL),
	};
	rc = spool_put(r->sp, &m, body, size, NULL);
	if (rc == YIMA_EEXIST) {	/* a rerun: it waits from before */
		r->st->already_waiting++;
		rc = 0;
	} else if (rc < 0) {
		rc = yima_fail(r->why, r->whylen, rc, "spool: cannot put batch %s: %s", id,
			       yima_strerror(rc));
		goto free_events;
	} else {
		r->st->spooled++;
	}
	r->n = 0;
	buf_reset(&r->text);
free_events:
	free(body);
	free(evp);
	free(ev);
	return rc;
}

static void progress(struct upload_run *r, const csv_reader_t *csv)
{
	if (r->o->progress == NULL)
		return;
	if (csv != NULL)
		r->prog.bytes = csv_reader_offset(csv);
	r->o->progress(r->o->progress_arg, &r->prog);
}

/* ---- streams: rows as they come ------------------------------------------ */

/* The csv source of a pipe or terminal: wait for input, and while
 * waiting, seal a batch whose time is up and retry sending when due.
 * Returns -1 (errno EIO) to stop reading: on an error (r->err), once
 * sending stopped, or when asked to stop. */
static long stream_source(void *ctx, void *p, size_t n)
{
	struct upload_run *r = ctx;
	int fd = r->fd;

	for (;;) {
		if (r->err < 0 || r->sending_stopped || upload_stop_asked(r)) {
			errno = EIO;
			return -1;
		}
		uint64_t now = upload_now_ms(), due = UINT64_MAX;
		if (r->n > 0)
			due = r->seal_at;
		if (r->retry_at != 0 && r->retry_at < due)
			due = r->retry_at;
		int timeout = due == UINT64_MAX ? -1 : due <= now ? 0 : (int)(due - now);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int k = poll(&pfd, 1, timeout);
		if (k < 0 && errno != EINTR)
			return -1;
		if (k > 0) {
			ssize_t got = read(fd, p, n);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return (long)got;
		}
		if (k < 0)
			continue;	/* a signal: look at stop */
		now = upload_now_ms();
		if (r->n > 0 && now >= r->seal_at && (r->err = seal(r)) < 0)
			continue;
		if ((r->err = upload_send(r, false)) < 0)
			continue;
		progress(r, NULL);
	}
}

/* ---- the read loop --------------------------------------------------------- */

static int read_rows(struct upload_run *r, csv_reader_t *csv, bool stream)
{
	csv_row_t row;
	char msg[256];
	bool header = true;
	int rc;

	for (;;) {
		if ((rc = csv_reader_next(csv, &row, msg, sizeof msg)) < 0) {
			if (r->err < 0)
				return r->err;
			if (stream && (r->sending_stopped || upload_stop_asked(r)))
				break;	/* the source stopped reading on purpose */
			return yima_fail(r->why, r->whylen, rc, "%s: after data row %" PRIu64 ": %s",
					 r->source, r->st->rows, msg);
		}
		if (rc == 0)
			break;
		if (header) {
			if (!event_csv_header_ok(&row))
				return yima_fail(r->why, r->whylen, YIMA_EFORMAT,
						 "%s: %s: the header is not "
						 "time,facility,type,code,drug,qty,settlement,patient,counterparty",
						 r->source, csv_row_where(&row, msg, sizeof msg));
			header = false;
			/* what an earlier run left goes first */
			if ((rc = upload_send(r, false)) < 0)
				return rc;
			continue;
		}
		r->st->rows++;
		r->prog.rows++;
		if ((rc = add_row(r, &row, stream)) < 0)
			return rc;
		if (r->n >= r->o->batch_rows || r->text.len >= BATCH_TEXT_MAX ||
		    (stream && upload_now_ms() >= r->seal_at)) {
			if ((rc = seal(r)) < 0)
				return rc;
			if ((rc = upload_send(r, false)) < 0)
				return rc;
			progress(r, csv);
		} else if ((r->st->rows & 1023) == 0) {
			progress(r, csv);
		}
		if (upload_stop_asked(r) && !r->sending_stopped) {
			r->sending_stopped = true;
			r->st->outcome = UPLOAD_INTERRUPTED;
		}
		/* a file is read to its end into the spool whatever happens to
		 * sending, unless asked to stop; a stream is not */
		if (upload_stop_asked(r) || (stream && r->sending_stopped))
			break;
	}
	if (header)
		return yima_fail(r->why, r->whylen, YIMA_EFORMAT, "%s: empty input, no header",
				 r->source);
	return 0;
}

/* Open the input, name its batches, and read it into the spool. */
static int read_input(struct upload_run *r)
{
	FILE *fp = stdin;
	struct stat sb;
	csv_reader_t *csv;
	int rc;

	if (strcmp(r->o->path, "-") != 0 && (fp = fopen(r->o->path, "rb")) == NULL)
		return yima_fail(r->why, r->whylen, YIMA_EIO, "%s: %s", r->o->path, strerror(errno));
	int fd = fileno(fp);
	if (fstat(fd, &sb) != 0) {
		rc = yima_fail(r->why, r->whylen, YIMA_EIO, "%s: %s", r->source, strerror(errno));
		goto close_input;
	}
	bool stream = !S_ISREG(sb.st_mode);
	if (stream) {
		rc = prefix_random(r);
	} else {
		off_t start = lseek(fd, 0, SEEK_CUR);
		if (start < 0)
			start = 0;
		r->prog.total = sb.st_size > start ? (uint64_t)(sb.st_size - start) : 0;
		rc = prefix_of_file(r, fd, start);
	}
	if (rc < 0)
		goto close_input;
	if ((rc = csv_reader_new(fp, ROW_MAX, &csv)) < 0) {
		rc = yima_fail(r->why, r->whylen, rc, "out of memory");
		goto close_input;
	}
	if (stream) {
		r->fd = fd;
		csv_reader_set_source(csv, stream_source, r);
	}
	rc = read_rows(r, csv, stream);
	progress(r, csv);
	csv_reader_free(csv);
close_input:
	if (fp != stdin)
		fclose(fp);
	return rc;
}

int upload_run(spool_t *sp, client_t *cl, const upload_opts_t *o, upload_stats_t *st,
	       char *why, size_t whylen)
{
	struct upload_run r = {
		.sp = sp, .cl = cl, .o = o, .st = st, .why = why, .whylen = whylen,
		.source = o->path,
	};
	spool_stat_t ss;
	char scratch[512];
	int rc = 0;

	memset(st, 0, sizeof *st);
	st->outcome = UPLOAD_DONE;
	buf_init(&r.text);
	buf_init(&r.json);
	if (o->path != NULL) {
		rc = read_input(&r);
		/* what was read goes to the spool even after an error (whose
		 * message stays the one reported) */
		if (rc < 0) {
			r.why = scratch;
			r.whylen = sizeof scratch;
		}
		int rc2 = seal(&r);
		if (rc == 0)
			rc = rc2;
	}
	if (rc == 0 && !r.sending_stopped)
		rc = upload_send(&r, true);
	if (spool_stat(sp, &ss) == 0) {
		st->waiting_batches = ss.batches;
		st->waiting_events = ss.events;
	}
	free(r.rows);
	buf_deinit(&r.text);
	buf_deinit(&r.json);
	spool_storage_deinit(&r.storage);
	return rc;
}
