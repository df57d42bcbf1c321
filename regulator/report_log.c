/*
 * report_log.c - the evidence report as verifiable evidence (spec section
 * 8): the page embeds the signed checkpoint of the snapshot it was read
 * from, the log's verifier key, and for every evidence row its entry (the
 * record's stored bytes, base64), index and inclusion proof; and
 * report_verify checks all of it offline from the page and the verifier
 * key alone.
 *
 * What is proven for each row: its entry is in the tree the checkpoint
 * signs (RFC 9162 inclusion), and the row, as the page shows it, is what
 * that entry says (the row is rendered again from the decoded entry and
 * must be in the page byte for byte).  Every evidence row must have its
 * entry.  The section, one line per entry:
 *
 *   <pre id="log-checkpoint">CHECKPOINT (HTML-escaped)</pre>
 *   <tr class="log-entry" id="entry-S"><td class="num">S</td>
 *     <td class="num">INDEX</td><td><code class="b64">ENTRY</code></td>
 *     <td><code class="proof">HEX HEX ...</code></td></tr>
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "yima/tlog/checkpoint.h"
#include "yima/tlog/proof.h"
#include "yima/util/base64.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"
#include "yima/util/html.h"

/* ---- writing ------------------------------------------------------------- */

struct section {
	ledger_txn_t *txn;
	const report_opts_t *o;
	uint64_t last, size;
	buf_t *b;
	int (*flush)(void *);
	void *arg;
	char why[256];
};

static int entry_row(void *arg, const ledger_event_t *ev)
{
	struct section *s = arg;
	uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
	yima_slice_t e;
	uint64_t index;
	size_t n, b64;
	int rc;

	if (ev->seq > s->last)
		return 1;
	if (!report_in_evidence(s->o, ev))
		return 0;
	if ((rc = ledger_event_index(s->txn, ev->seq, &index)) < 0 ||
	    (rc = ledger_entry_get(s->txn, index, &e, NULL)) < 0 ||
	    (rc = ledger_log_prove(s->txn, false, index, s->size, proof, &n, s->why, sizeof s->why)) < 0)
		return rc;
	buf_printf(s->b, "<tr class=\"log-entry\" id=\"entry-%" PRIu64 "\"><td class=\"num\">%" PRIu64
		   "</td><td class=\"num\">%" PRIu64 "</td><td><code class=\"b64\">", ev->seq, ev->seq, index);
	b64 = base64_encoded_len(e.n);
	if (!buf_reserve(s->b, b64 + 1))
		return YIMA_ENOMEM;
	base64_encode(e.p, e.n, (char *)s->b->p + s->b->len, b64 + 1, &b64);
	s->b->len += b64;
	buf_puts(s->b, "</code></td><td><code class=\"proof\">");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(s->b, ' ');
		hex_put(s->b, proof[i], LEDGER_HASH_LEN);
	}
	buf_puts(s->b, "</code></td></tr>\n");
	return s->flush(s->arg);
}

static void section_head(struct section *s, yima_slice_t note, yima_slice_t vkey)
{
	buf_t *b = s->b;
	buf_puts(b, "<h2>Verifiable log</h2>\n<p>Every ledger record is an entry of an append-only "
		    "Merkle tree (RFC 9162) whose head the ledger signs after every commit (a C2SP "
		    "checkpoint).  Below: the checkpoint of the snapshot this page was read from, the "
		    "key that checks it, and for each evidence row its entry (the record's bytes), "
		    "index and inclusion proof.  With nothing but this page and the verifier key, "
		    "<code>yima log verify --vkey VKEY --report THIS.html</code> checks every signature "
		    "and proof and that each row is what its entry says; docs/log.md shows the same "
		    "checks with openssl and a few lines of Python.  Obtain the verifier key from the "
		    "ledger's operator, not from this page.</p>\n<dl class=\"meta\">\n"
		    "<dt>Verifier key</dt><dd><code id=\"log-vkey\">");
	html_text(b, vkey.p, vkey.n);
	buf_puts(b, "</code></dd>\n<dt>Checkpoint</dt><dd><pre id=\"log-checkpoint\">");
	html_text(b, note.p, note.n);
	buf_puts(b, "</pre></dd>\n</dl>\n<table id=\"log-entries\"><thead><tr><th>seq</th><th>index</th>"
		    "<th>entry (base64)</th><th>inclusion proof (SHA-256, leaf first)</th></tr></thead>\n"
		    "<tbody>\n");
}

int report_log_section(ledger_txn_t *txn, const report_opts_t *o, uint64_t first, uint64_t last,
		       buf_t *b, int (*flush)(void *arg), void *arg)
{
	struct section s = { txn, o, last, 0, b, flush, arg, "" };
	yima_slice_t note, vkey;
	int rc;

	if (ledger_log_size(txn, &s.size) == YIMA_ENOTFOUND) {
		buf_puts(b, "<h2>Verifiable log</h2>\n<p id=\"log-none\">This ledger has no verifiable log "
			    "yet (it was written before it; its next write makes it).</p>\n");
		return 0;
	}
	if ((rc = ledger_log_checkpoint(txn, &note)) < 0 || (rc = ledger_log_vkey(txn, &vkey)) < 0)
		return rc;
	section_head(&s, note, vkey);
	if (last > 0 && (rc = ledger_event_scan(txn, first, entry_row, &s)) < 0)
		return rc;
	buf_puts(b, "</tbody></table>\n");
	return flush(arg);
}

/* ---- checking --------------------------------------------------------------- */

/* The text between open and the next close, HTML entities undone. */
static int between(const char *html, size_t len, const char *open, const char *close, buf_t *out)
{
	static const char *const ents[][2] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&#39;", "'" },
	};
	const char *p = memmem(html, len, open, strlen(open)), *end;
	if (p == NULL)
		return -1;
	p += strlen(open);
	if ((end = memmem(p, len - (size_t)(p - html), close, strlen(close))) == NULL)
		return -1;
	while (p < end) {
		size_t i = 0;
		while (*p == '&' && i < 5 && strncmp(p, ents[i][0], strlen(ents[i][0])) != 0)
			i++;
		if (*p == '&' && i < 5) {
			buf_putc(out, (uint8_t)ents[i][1][0]);
			p += strlen(ents[i][0]);
		} else {
			buf_putc(out, (uint8_t)*p++);
		}
	}
	return out->oom ? YIMA_ENOMEM : 0;
}

/* One log-entry row, parsed: seq, index, entry bytes and proof. */
struct entry {
	uint64_t seq, index;
	uint8_t *bytes;
	size_t n;
	log_proof_t proof;
};

static const char *field(const char *p, const char *end, const char *tag)
{
	const char *q = memmem(p, (size_t)(end - p), tag, strlen(tag));
	return q ? q + strlen(tag) : NULL;
}

static int parse_entry(const char *p, const char *end, struct entry *e)
{
	const char *b64, *b64end, *pr;
	char *x;

	memset(e, 0, sizeof *e);
	if ((p = field(p, end, "<td class=\"num\">")) == NULL)
		return -1;
	e->seq = strtoull(p, &x, 10);
	if ((p = field(x, end, "<td class=\"num\">")) == NULL)
		return -1;
	e->index = strtoull(p, &x, 10);
	if ((b64 = field(x, end, "<code class=\"b64\">")) == NULL ||
	    (b64end = memchr(b64, '<', (size_t)(end - b64))) == NULL ||
	    (pr = field(b64end, end, "<code class=\"proof\">")) == NULL)
		return -1;
	size_t cap = (size_t)(b64end - b64);
	if ((e->bytes = malloc(cap + 1)) == NULL ||
	    base64_decode(b64, cap, e->bytes, cap + 1, &e->n) < 0)
		return -1;
	while (pr < end && *pr != '<') {
		if (e->proof.n == MERKLE_MAX_PROOF || end - pr < 64 ||
		    hex_decode(pr, 64, e->proof.hash[e->proof.n++], 32) < 0)
			return -1;
		pr += 64;
		if (*pr == ' ')
			pr++;
	}
	e->proof.from = e->index;
	return 0;
}

/* The entry is in the checkpoint's tree and decodes to the row shown. */
static int check_entry(const char *html, size_t len, const checkpoint_t *cp, struct entry *e,
		       char *why, size_t whylen)
{
	ledger_event_t ev;
	char msg[256];
	buf_t row;
	int rc;

	e->proof.size = cp->size;
	memcpy(e->proof.root, cp->root, sizeof cp->root);
	if (log_proof_check_inclusion(&e->proof, cp->size, cp->root, e->bytes, e->n, msg, sizeof msg) < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "seq %" PRIu64 " (entry %" PRIu64 "): %s",
				 e->seq, e->index, msg);
	if (ledger_event_decode(e->bytes, e->n, &ev) < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "entry %" PRIu64 " is not an event record",
				 e->index);
	ev.seq = e->seq;
	buf_init(&row);
	report_evidence_row(&row, &ev);
	rc = row.oom ? YIMA_ENOMEM : memmem(html, len, row.p, row.len) != NULL ? 0
		: yima_fail(why, whylen, YIMA_EMISMATCH, "the evidence row of seq %" PRIu64
			    " is not what its entry %" PRIu64 " says", e->seq, e->index);
	buf_deinit(&row);
	return rc;
}

static int open_cp(const char *html, size_t len, const char *vkey, size_t vlen, checkpoint_t *cp,
		   buf_t *note, char *why, size_t whylen)
{
	note_verifier_t *v;
	char msg[256];
	int rc;

	if (between(html, len, "<pre id=\"log-checkpoint\">", "</pre>", note) < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the page holds no checkpoint");
	if ((rc = note_verifier_new(vkey, vlen, &v, why, whylen)) < 0)
		return rc;
	rc = checkpoint_open(v, NULL, (char *)note->p, note->len, cp, msg, sizeof msg);
	note_verifier_free(v);
	return rc < 0 ? yima_fail(why, whylen, YIMA_EMISMATCH, "the page's checkpoint: %s", msg) : 0;
}

int report_verify(const char *html, size_t len, const char *vkey, size_t vlen, buf_t *out,
		  char *why, size_t whylen)
{
	const char *p = html, *end = html + len;
	uint64_t rows = 0, proven = 0;
	checkpoint_t cp;
	buf_t note;
	int rc;

	buf_init(&note);
	if ((rc = open_cp(html, len, vkey, vlen, &cp, &note, why, whylen)) < 0)
		goto done;
	for (const char *q = html; (q = memmem(q, (size_t)(end - q), "<tr id=\"seq-", 12)) != NULL; q += 12)
		rows++;
	while (rc == 0 && (p = memmem(p, (size_t)(end - p), "<tr class=\"log-entry\"", 21)) != NULL) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct entry e;
		if (eol == NULL)
			eol = end;
		if (parse_entry(p, eol, &e) < 0)
			rc = yima_fail(why, whylen, YIMA_EMISMATCH, "log entry %" PRIu64 " of the page is malformed",
				       proven + 1);
		else if ((rc = check_entry(html, len, &cp, &e, why, whylen)) == 0)
			proven++;
		free(e.bytes);
		p = eol;
	}
	if (rc == 0 && proven != rows)
		rc = yima_fail(why, whylen, YIMA_EMISMATCH, "%" PRIu64 " evidence rows, %" PRIu64
			       " with an entry and proof", rows, proven);
	if (rc == 0)
		buf_printf(out, "ok report: %" PRIu64 " evidence rows, each an entry of the log %s of size %"
			   PRIu64 " (checkpoint signed by the key given)\n", proven, cp.origin, cp.size);
done:
	buf_deinit(&note);
	return rc;
}
