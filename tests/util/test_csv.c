/*
 * test_csv.c - the streaming CSV reader (verifier/csv.c) against spec
 * section 3 and the contract in yima/csv.h.
 *
 * The main table feeds bytes through fmemopen() and compares a compact dump
 * of every row: "number:line[field][field]" plus " U" (unterminated) and
 * " O" (overlong), rows joined by "\n".  In the dump, bytes < 0x20 and
 * '\', '[', ']' are escaped (\n, \r, \0, \xHH, \\, \[, \]).  Each case cites
 * the rule it checks.  Then come the cases a table cannot hold: rows that
 * straddle the read window, truncation of raw, endless input, read errors,
 * the byte tap.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yima/util/csv.h"
#include "yima/util/error.h"
#include "yima/util/csv_write.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define IN(s) s, sizeof(s) - 1	/* a literal with its length (NULs allowed) */

/* --- dumping rows ------------------------------------------------------ */

typedef struct dump {
	char *p;
	size_t len;
	FILE *fp;
} dump_t;

static void dump_bytes(FILE *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		switch (c) {
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\0': fputs("\\0", out); break;
		case '\\': case '[': case ']':
			fputc('\\', out);
			fputc(c, out);
			break;
		default:
			if (c < 0x20)
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
	}
}

static void dump_row(FILE *out, const csv_row_t *row, bool with_raw, uint64_t shift)
{
	fprintf(out, "%llu:%llu", (unsigned long long)(row->number - shift),
		(unsigned long long)(row->line - shift));
	for (size_t i = 0; i < row->nfields; i++) {
		fputc('[', out);
		dump_bytes(out, row->field[i].p, row->field[i].n);
		fputc(']', out);
	}
	if (row->unterminated)
		fputs(" U", out);
	if (row->overlong)
		fputs(" O", out);
	if (with_raw) {
		fputs(" raw=", out);
		dump_bytes(out, row->raw.p, row->raw.n);
	}
}

/* Read all of in[0..len) and return the dump (malloc'd) of the rows after
 * the first `skip` (numbers and lines shifted down by skip); checks the
 * invariants every row must keep on the way. */
static char *read_rows(const char *in, size_t len, size_t row_max, bool with_raw,
		       uint64_t skip)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	cr_assert_not_null(out);
	/* fmemopen() refuses size 0 on some libcs: read /dev/null instead. */
	FILE *fp = len ? fmemopen((void *)in, len, "r") : fopen("/dev/null", "r");
	cr_assert_not_null(fp);
	csv_reader_t *r;
	cr_assert_eq(csv_reader_new(fp, row_max, &r), 0);
	csv_row_t row;
	char why[128];
	int rc;
	uint64_t last = 0;
	bool first = true;
	while ((rc = csv_reader_next(r, &row, why, sizeof why)) == 1) {
		cr_assert_eq(row.number, last + 1, "rows are numbered 1, 2, ...");
		cr_assert_leq(row.raw.n, CSV_RAW_KEEP);
		cr_assert(!row.overlong || row.nfields == 0);
		last = row.number;
		if (row.number <= skip)
			continue;
		if (!first)
			fputc('\n', out);
		first = false;
		dump_row(out, &row, with_raw, skip);
	}
	cr_assert_eq(rc, 0, "end of input, not an error: %s", why);
	cr_assert_eq(csv_reader_next(r, &row, why, sizeof why), 0,
		     "end of input stays the end");
	cr_assert_eq(csv_reader_offset(r), (uint64_t)len, "every byte consumed");
	csv_reader_free(r);
	fclose(fp);
	fclose(out);
	return text;
}

static char *read_all(const char *in, size_t len, size_t row_max, bool with_raw)
{
	return read_rows(in, len, row_max, with_raw, 0);
}

/* --- the table --------------------------------------------------------- */

struct csv_case {
	const char *rule;	/* spec section 3 / csv.h rule checked */
	const char *in;
	size_t len;
	size_t row_max;		/* 0 = default */
	const char *want;
};

static const struct csv_case csv_cases[] = {
	{ "rows end with LF", IN("a,b\nc,d\n"), 0, "1:1[a][b]\n2:2[c][d]" },
	{ "rows end with CRLF", IN("a,b\r\nc,d\r\n"), 0, "1:1[a][b]\n2:2[c][d]" },
	{ "last row needs no terminator", IN("a,b\nc"), 0, "1:1[a][b]\n2:2[c]" },
	{ "mixed LF and CRLF", IN("a\r\nb\nc\r\n"), 0, "1:1[a]\n2:2[b]\n3:3[c]" },
	{ "empty input has no rows", IN(""), 0, "" },
	{ "empty lines are skipped and not numbered",
	  IN("a\n\n\nb\n"), 0, "1:1[a]\n2:4[b]" },
	{ "empty CRLF lines are skipped too",
	  IN("\r\na\r\n\r\nb\r\n\r\n"), 0, "1:2[a]\n2:4[b]" },
	{ "only empty lines: no rows", IN("\n\r\n\n"), 0, "" },
	{ "a line holding a space is a one-field row",
	  IN("a\n \nb\n"), 0, "1:1[a]\n2:2[ ]\n3:3[b]" },
	{ "a UTF-8 BOM at the very start is dropped",
	  IN("\xEF\xBB\xBFtime,x\n"), 0, "1:1[time][x]" },
	{ "a BOM alone is no row", IN("\xEF\xBB\xBF"), 0, "" },
	{ "a BOM elsewhere is data",
	  IN("a\n\xEF\xBB\xBF" "b\n"), 0, "1:1[a]\n2:2[\xEF\xBB\xBF" "b]" },
	{ "empty fields", IN(",,\n"), 0, "1:1[][][]" },
	{ "trailing comma at EOF is an empty last field", IN("a,"), 0, "1:1[a][]" },
	{ "a quoted empty field makes a row, not an empty line",
	  IN("\"\"\n"), 0, "1:1[]" },
	{ "RFC 4180: a quoted field holds commas",
	  IN("\"a,b\",c\n"), 0, "1:1[a,b][c]" },
	{ "RFC 4180: \"\" inside quotes is one quote",
	  IN("\"x\"\"y\",z\n"), 0, "1:1[x\"y][z]" },
	{ "RFC 4180: a field of one quote", IN("\"\"\"\"\n"), 0, "1:1[\"]" },
	{ "RFC 4180: doubled quote at the end", IN("\"a\"\"\"\n"), 0, "1:1[a\"]" },
	{ "Python csv: text after the closing quote joins the field",
	  IN("\"abc\"def,g\n"), 0, "1:1[abcdef][g]" },
	{ "Python csv: a later quote after the close is literal",
	  IN("\"a\"b\"c\"\n"), 0, "1:1[ab\"c\"]" },
	{ "Python csv: a quote inside an unquoted field is literal",
	  IN("ab\"c,d\n"), 0, "1:1[ab\"c][d]" },
	{ "Python csv: a quote after a leading space is literal",
	  IN("a, \"b\"\n"), 0, "1:1[a][ \"b\"]" },
	{ "Python csv: space after the closing quote is kept",
	  IN("\"a\" ,b\n"), 0, "1:1[a ][b]" },
	{ "a quoted field may span lines; line counts physical lines",
	  IN("\"a\nb\",c\nd\n"), 0, "1:1[a\\nb][c]\n2:3[d]" },
	{ "a CRLF inside a quoted field stays CRLF",
	  IN("\"a\r\nb\"\r\nc\r\n"), 0, "1:1[a\\r\\nb]\n2:3[c]" },
	{ "empty lines inside quotes are data",
	  IN("\"\n\n\",x\ny\n"), 0, "1:1[\\n\\n][x]\n2:4[y]" },
	{ "a lone CR is data, not a row end (rows end with LF or CRLF)",
	  IN("a\rb,c\n"), 0, "1:1[a\\rb][c]" },
	{ "a lone CR at EOF is data", IN("a\r"), 0, "1:1[a\\r]" },
	{ "a lone CR at row start is data", IN("\rx\n"), 0, "1:1[\\rx]" },
	{ "a lone CR after a closing quote is data",
	  IN("\"a\"\rb\n"), 0, "1:1[a\\rb]" },
	{ "CR CR LF: the first CR is data", IN("a\r\r\n"), 0, "1:1[a\\r]" },
	{ "CRLF after a closing quote ends the row",
	  IN("\"a\"\r\nb\n"), 0, "1:1[a]\n2:2[b]" },
	{ "an unterminated quote runs to EOF: the rest is one row",
	  IN("h\na,\"b\nc,d\r\ne\n"), 0, "1:1[h]\n2:2[a][b\\nc,d\\r\\ne\\n] U" },
	{ "an unterminated quote at the last byte", IN("a,\""), 0, "1:1[a][] U" },
	{ "binary input: NUL bytes are data",
	  IN("a\0b,\0\n\0\n"), 0, "1:1[a\\0b][\\0]\n2:2[\\0]" },
	{ "binary input: invalid UTF-8 is data",
	  IN("\xff\xfe,\x80\n"), 0, "1:1[\xff\xfe][\x80]" },
	{ "a row of row_max bytes is not overlong",
	  IN("123456789\n"), 9, "1:1[123456789]" },
	{ "the terminator does not count toward row_max",
	  IN("abc\r\nd\n"), 3, "1:1[abc]\n2:2[d]" },
	{ "a row over row_max is one overlong row, the next row is intact",
	  IN("1234567890\nab\n"), 9, "1:1 O\n2:2[ab]" },
	{ "an overlong row ends where its quotes close",
	  IN("\"1234\n5678\n9\",x\nab\n"), 8, "1:1 O\n2:4[ab]" },
	{ "an overlong quoted row with doubled quotes",
	  IN("\"\"\"\"\"\"\"\"\"\"\nab\n"), 8, "1:1 O\n2:2[ab]" },
	{ "an overlong unterminated row runs to EOF",
	  IN("x\n\"abcdefg\nhij"), 4, "1:1[x]\n2:2 U O" },
};

ParameterizedTestParameters(csv, table)
{
	/* Criterion re-executes the test binary, so parameters carry an index
	 * into csv_cases, not pointers to it. */
	static size_t idx[ARRAY_SIZE(csv_cases)];
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, ARRAY_SIZE(idx));
}

ParameterizedTest(size_t *i, csv, table)
{
	const struct csv_case *c = &csv_cases[*i];
	char *got = read_all(c->in, c->len, c->row_max, false);
	cr_assert_str_eq(got, c->want, "%s", c->rule);
	free(got);
}

/* --- raw bytes ---------------------------------------------------------- */

struct raw_case {
	const char *rule;
	const char *in;
	size_t len;
	size_t row_max;
	const char *want;
};

static const struct raw_case raw_cases[] = {
	{ "raw is the row as read, quotes included, without LF",
	  IN("\"a\"\"b\",c\n"), 0, "1:1[a\"b][c] raw=\"a\"\"b\",c" },
	{ "raw drops a final CRLF",
	  IN("a,b\r\n"), 0, "1:1[a][b] raw=a,b" },
	{ "raw keeps CRLF inside quotes",
	  IN("\"a\r\nb\"\r\n"), 0, "1:1[a\\r\\nb] raw=\"a\\r\\nb\"" },
	{ "raw keeps a lone CR at EOF",
	  IN("a\r"), 0, "1:1[a\\r] raw=a\\r" },
	{ "raw does not hold the BOM",
	  IN("\xEF\xBB\xBFx\n"), 0, "1:1[x] raw=x" },
	{ "raw of an overlong row is its first bytes",
	  IN("abcdefgh\n"), 4, "1:1 O raw=abcdefgh" },
	{ "raw of an unterminated row runs to EOF",
	  IN("a,\"b\nc"), 0, "1:1[a][b\\nc] U raw=a,\"b\\nc" },
};

ParameterizedTestParameters(csv, raw)
{
	static size_t idx[ARRAY_SIZE(raw_cases)];
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, ARRAY_SIZE(idx));
}

ParameterizedTest(size_t *i, csv, raw)
{
	const struct raw_case *c = &raw_cases[*i];
	char *got = read_all(c->in, c->len, c->row_max, true);
	cr_assert_str_eq(got, c->want, "%s", c->rule);
	free(got);
}

/* --- cases built in code ------------------------------------------------ */

/* Open a reader over a heap buffer; *fp and the reader are the caller's. */
static csv_reader_t *open_buf(const char *buf, size_t len, size_t row_max, FILE **fp)
{
	*fp = fmemopen((void *)buf, len, "r");
	cr_assert_not_null(*fp);
	csv_reader_t *r;
	cr_assert_eq(csv_reader_new(*fp, row_max, &r), 0);
	return r;
}

/* csv.h: "raw ... at most CSV_RAW_KEEP"; the fields stay whole. */
Test(csv, raw_truncated_fields_whole)
{
	size_t n = 10000;
	char *in = malloc(n + 3);
	memset(in, 'x', n);
	memcpy(in + n, ",y\n", 3);
	FILE *fp;
	csv_reader_t *r = open_buf(in, n + 3, 0, &fp);
	csv_row_t row;
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert_eq(row.nfields, 2);
	cr_assert_eq(row.field[0].n, n);
	cr_assert_eq(row.raw.n, CSV_RAW_KEEP);
	cr_assert_eq(row.size, n + 2);
	cr_assert_eq(memcmp(row.raw.p, in, CSV_RAW_KEEP), 0);
	cr_assert(yima_slice_eq_cstr(row.field[1], "y"));
	csv_reader_free(r);
	fclose(fp);
	free(in);
}

/* Rows with multi-line quoted fields, written across several read windows
 * (64 KiB doubling to 1 MiB): every row, field and line number must
 * survive the seams. */
Test(csv, rows_straddle_read_windows)
{
	char *text = NULL;
	size_t len = 0;
	FILE *w = open_memstream(&text, &len);
	cr_assert_not_null(w);
	const int nrows = 60000;
	for (int i = 0; i < nrows; i++)
		fprintf(w, "%d,\"q\"\"%d\r\nz\",%s\r\n%s", i, i,
			i % 3 ? "plain" : "", i % 7 ? "" : "\n");
	fclose(w);
	cr_assert_gt(len, 1u << 20, "spans five windows: 64 KiB, 128 KiB, ... 1 MiB");

	FILE *fp;
	csv_reader_t *r = open_buf(text, len, 0, &fp);
	csv_row_t row;
	char want[64];
	uint64_t line = 1;
	for (int i = 0; i < nrows; i++) {
		cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1, "row %d", i);
		cr_assert_eq(row.number, (uint64_t)i + 1);
		cr_assert_eq(row.line, line, "row %d", i);
		cr_assert_eq(row.nfields, 3);
		snprintf(want, sizeof want, "%d", i);
		cr_assert(yima_slice_eq_cstr(row.field[0], want), "row %d", i);
		snprintf(want, sizeof want, "q\"%d\r\nz", i);
		cr_assert(yima_slice_eq_cstr(row.field[1], want), "row %d", i);
		cr_assert(yima_slice_eq_cstr(row.field[2], i % 3 ? "plain" : ""));
		line += 2 + (i % 7 ? 0 : 1);
	}
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 0);
	cr_assert_eq(csv_reader_offset(r), len);
	csv_reader_free(r);
	fclose(fp);
	free(text);
}

/* The reader resumes mid-row when its read window runs out: wherever the
 * window ends inside these inputs, they read the same.  csv.c's first
 * window is 64 KiB, so a one-line filler puts the seam at each byte in
 * turn (the libFuzzer harness checks the same for every corpus input). */
#define FIRST_WINDOW (64u << 10)

Test(csv, same_rows_wherever_the_window_ends)
{
	static const struct { const char *in; size_t len; size_t row_max; } tricky[] = {
		{ IN("a,\"b\"\"c\"d,e\r\n\r\nf\n"), 0 },
		{ IN("\"x\r\ny\"\r\n\"\"\"\"\r\n"), 0 },
		{ IN("a\rb\r\r\n\"q\"\rz\r"), 0 },
		{ IN("\n\n\r\n \r\n,,\"\",\n"), 0 },
		{ IN("h\n\"open\nquote,\"\"x"), 0 },
		{ IN("\"1234\n5678\n9\",x\nab\n\"cd\"\"ef\"\r\n"), 8 },
		{ IN("abcdefghij\r\nk\r\n\"lmnopqrst\r\n"), 8 },
	};
	for (size_t t = 0; t < ARRAY_SIZE(tricky); t++) {
		char *want = read_all(tricky[t].in, tricky[t].len, tricky[t].row_max, true);
		for (size_t cut = 0; cut <= tricky[t].len; cut++) {
			size_t fill = FIRST_WINDOW - cut;
			char *buf = malloc(fill + tricky[t].len);
			cr_assert_not_null(buf);
			memset(buf, 'F', fill - 1);
			buf[fill - 1] = '\n';
			memcpy(buf + fill, tricky[t].in, tricky[t].len);
			char *got = read_rows(buf, fill + tricky[t].len,
					      tricky[t].row_max, true, 1);
			cr_assert_str_eq(got, want, "input %zu, window ends after byte %zu",
					 t, cut);
			free(got);
			free(buf);
		}
		free(want);
	}
}

/* An endless-looking input with no newline (a binary file): one overlong
 * row, and memory stays bounded by row_max (fopencookie feeds 24 MiB). */
typedef struct gen {
	uint64_t left;
} gen_t;

static ssize_t gen_read(void *c, char *buf, size_t n)
{
	gen_t *g = c;
	if (n > g->left)
		n = (size_t)g->left;
	memset(buf, 'a', n);
	g->left -= n;
	return (ssize_t)n;
}

Test(csv, huge_row_without_newline_is_one_overlong_row)
{
	gen_t g = { 24u << 20 };
	cookie_io_functions_t io = { .read = gen_read };
	FILE *fp = fopencookie(&g, "r", io);
	cr_assert_not_null(fp);
	csv_reader_t *r;
	cr_assert_eq(csv_reader_new(fp, 1u << 20, &r), 0);
	csv_row_t row;
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert(row.overlong);
	cr_assert_eq(row.nfields, 0);
	cr_assert_eq(row.size, 24u << 20);
	cr_assert_eq(row.limit, 1u << 20);
	cr_assert_eq(row.raw.n, CSV_RAW_KEEP);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 0);
	csv_reader_free(r);
	fclose(fp);
}

/* csv.h: CSV_FIELDS_MAX bounds the field table; more is overlong. */
Test(csv, too_many_fields_is_overlong)
{
	size_t n = CSV_FIELDS_MAX;	/* n commas = n + 1 fields */
	char *in = malloc(n + 3);
	memset(in, ',', n);
	memcpy(in + n, "\nx", 2);
	FILE *fp;
	csv_reader_t *r = open_buf(in, n + 2, 0, &fp);
	csv_row_t row;
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert(row.overlong);
	cr_assert_eq(row.nfields, 0);
	cr_assert_lt(row.size, row.limit, "overlong for its fields, not bytes");
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert_eq(row.nfields, 1);
	csv_reader_free(r);
	fclose(fp);
	free(in);

	/* exactly CSV_FIELDS_MAX fields is fine */
	in = malloc(n);
	memset(in, ',', n - 1);
	r = open_buf(in, n - 1, 0, &fp);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert(!row.overlong);
	cr_assert_eq(row.nfields, CSV_FIELDS_MAX);
	csv_reader_free(r);
	fclose(fp);
	free(in);
}

/* csv.h: "YIMA_EIO on a read error (why filled)", and it is sticky. */
static ssize_t fail_read(void *c, char *buf, size_t n)
{
	(void)c; (void)buf; (void)n;
	errno = EIO;
	return -1;
}

Test(csv, read_error_is_eio)
{
	cookie_io_functions_t io = { .read = fail_read };
	FILE *fp = fopencookie(NULL, "r", io);
	cr_assert_not_null(fp);
	csv_reader_t *r;
	cr_assert_eq(csv_reader_new(fp, 0, &r), 0);
	csv_row_t row;
	char why[128] = "";
	cr_assert_eq(csv_reader_next(r, &row, why, sizeof why), YIMA_EIO);
	cr_assert_neq(why[0], '\0');
	cr_assert_eq(csv_reader_next(r, &row, why, sizeof why), YIMA_EIO);
	csv_reader_free(r);
	fclose(fp);
}

/* csv.h: the tap sees every byte once, BOM included (spec section 5 hashes
 * the file as read). */
struct tap_acc {
	char buf[64];
	size_t n, calls;
};

static void tap_fn(void *ctx, const void *p, size_t n)
{
	struct tap_acc *a = ctx;
	cr_assert_leq(a->n + n, sizeof a->buf);
	memcpy(a->buf + a->n, p, n);
	a->n += n;
	a->calls++;
}

Test(csv, tap_sees_every_byte)
{
	static const char in[] = "\xEF\xBB\xBFh\n\"a\nb\"\n";
	struct tap_acc acc = { .n = 0 };
	FILE *fp;
	csv_reader_t *r = open_buf(in, sizeof in - 1, 0, &fp);
	csv_reader_set_tap(r, tap_fn, &acc);
	csv_row_t row;
	while (csv_reader_next(r, &row, NULL, 0) == 1)
		;
	cr_assert_eq(acc.n, sizeof in - 1);
	cr_assert_eq(memcmp(acc.buf, in, acc.n), 0);
	csv_reader_free(r);
	fclose(fp);
}

/* csv.h: offset counts bytes consumed, for a progress bar. */
Test(csv, offset_moves_with_rows)
{
	static const char in[] = "ab\ncd\n";
	FILE *fp;
	csv_reader_t *r = open_buf(in, sizeof in - 1, 0, &fp);
	csv_row_t row;
	cr_assert_eq(csv_reader_offset(r), 0);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert_eq(csv_reader_offset(r), 3);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert_eq(csv_reader_offset(r), 6);
	csv_reader_free(r);
	fclose(fp);
}

/* --- a source with short reads (a pipe: `yima upload -`) ---------------- */

struct chunks {
	const char *const *part;	/* what each call returns, NULL = end */
	size_t next;
	size_t calls;
};

static long chunk_source(void *ctx, void *p, size_t n)
{
	struct chunks *c = ctx;
	const char *s = c->part[c->next];
	c->calls++;
	if (s == NULL)
		return 0;
	size_t len = strlen(s);
	cr_assert_leq(len, n);
	memcpy(p, s, len);
	c->next++;
	return (long)len;
}

/* csv.h: every complete row is returned before the source is asked again,
 * a row split across reads is whole, a BOM split across reads is dropped. */
Test(csv, source_rows_as_they_arrive)
{
	static const char *const parts[] = { "\xEF", "\xBB\xBF" "h1,h2\nr", "1,\"x\n", "y\"\n", "a,b\n",
					     NULL };
	struct chunks c = { .part = parts };
	csv_reader_t *r;
	csv_row_t row;

	cr_assert_eq(csv_reader_new(NULL, 0, &r), 0);
	csv_reader_set_source(r, chunk_source, &c);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert_eq(row.nfields, 2);
	cr_assert(yima_slice_eq_cstr(row.field[0], "h1"), "the BOM is dropped");
	cr_assert_eq(c.calls, 2, "the header comes before the third read");
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert(yima_slice_eq_cstr(row.field[1], "x\ny"));
	cr_assert_eq(c.calls, 4);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert(yima_slice_eq_cstr(row.field[0], "a"));
	cr_assert_eq(c.calls, 5, "a,b came whole: no read past it yet");
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 0);
	csv_reader_free(r);
}

static long failing_source(void *ctx, void *p, size_t n)
{
	(void)ctx; (void)p; (void)n;
	errno = EIO;
	return -1;
}

Test(csv, source_error_is_sticky_eio)
{
	csv_reader_t *r;
	csv_row_t row;
	char why[128];

	cr_assert_eq(csv_reader_new(NULL, 0, &r), 0);
	csv_reader_set_source(r, failing_source, NULL);
	cr_assert_eq(csv_reader_next(r, &row, why, sizeof why), YIMA_EIO);
	cr_assert(strstr(why, "read error") != NULL, "%s", why);
	cr_assert_eq(csv_reader_next(r, &row, why, sizeof why), YIMA_EIO);
	csv_reader_free(r);
}

/* ---- the writer (util/csv_write.c) ------------------------------------ */

struct wcase {
	const char *in;
	size_t n;
	bool quote;
	const char *out;
	size_t outn;
};

/* RFC 4180 section 2, rules 5-7: quotes only when a field holds a comma,
 * a quote, CR or LF (or when asked); a quote inside is doubled; other
 * bytes (a NUL included) pass unchanged. */
static const struct wcase wcases[] = {
	{ IN("abc"), false, IN("abc") },
	{ IN(""), false, IN("") },
	{ IN(""), true, IN("\"\"") },
	{ IN("abc"), true, IN("\"abc\"") },
	{ IN("S,1"), false, IN("\"S,1\"") },
	{ IN("S\"2"), false, IN("\"S\"\"2\"") },
	{ IN("\"\""), false, IN("\"\"\"\"\"\"") },
	{ IN("S\n3"), false, IN("\"S\n3\"") },
	{ IN("S\r3"), false, IN("\"S\r3\"") },
	{ IN(" lead and trail "), false, IN(" lead and trail ") },
	{ IN("a\0b"), false, IN("a\0b") },
};

Test(csv_write, fields)
{
	for (size_t i = 0; i < ARRAY_SIZE(wcases); i++) {
		const struct wcase *c = &wcases[i];
		buf_t b;
		buf_init(&b);
		csv_field(&b, c->in, c->n, c->quote);
		cr_assert(!b.oom);
		cr_assert_eq(b.len, c->outn, "case %zu: %zu bytes, want %zu", i, b.len, c->outn);
		cr_assert(b.len == 0 || memcmp(b.p, c->out, c->outn) == 0, "case %zu: %.*s", i,
			  (int)b.len, (char *)b.p);
		cr_assert_eq(csv_field_len(c->in, c->n, c->quote), c->outn, "case %zu: length", i);
		buf_deinit(&b);
	}
}

/* What the writer writes, the reader reads back: every byte value in
 * every position, in a row of several fields. */
Test(csv_write, round_trip_through_the_reader)
{
	char fields[4][300];
	size_t lens[4];
	buf_t b;
	csv_reader_t *r;
	csv_row_t row;

	for (int f = 0; f < 4; f++) {
		lens[f] = f == 3 ? 0 : 256 + (size_t)f;
		for (size_t i = 0; i < lens[f]; i++)
			fields[f][i] = (char)((i * (size_t)(f + 7)) & 0xff);
	}
	buf_init(&b);
	for (int f = 0; f < 4; f++) {
		if (f > 0)
			buf_putc(&b, ',');
		csv_field(&b, fields[f], lens[f], false);
	}
	buf_puts(&b, "\r\n");
	cr_assert(!b.oom);
	FILE *fp = fmemopen(b.p, b.len, "r");
	cr_assert_not_null(fp);
	cr_assert_eq(csv_reader_new(fp, 0, &r), 0);
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 1);
	cr_assert_eq(row.nfields, 4);
	for (int f = 0; f < 4; f++) {
		cr_assert_eq(row.field[f].n, lens[f], "field %d", f);
		cr_assert(memcmp(row.field[f].p, fields[f], lens[f]) == 0, "field %d", f);
	}
	cr_assert_eq(csv_reader_next(r, &row, NULL, 0), 0);
	csv_reader_free(r);
	fclose(fp);
	buf_deinit(&b);
}
