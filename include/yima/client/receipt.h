/*
 * receipt.h - what the clients (`yima upload`, `yima settle`) make of
 * yimad's answers: the wire verdicts (proto/yima.proto EventVerdict) as
 * counts and as the JSON `yima ingest` prints (spec section 5).
 */
#ifndef YIMA_RECEIPT_H
#define YIMA_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima.pb-c.h"
#include "yima/core/finding.h"

/* Verdict and findings counts over many events or codes. */
typedef struct receipt_counts {
	uint64_t events;
	uint64_t verdicts[3];		/* by enum verdict */
	uint64_t findings[F_COUNT];
	uint64_t other_findings;	/* names this yima does not know */
} receipt_counts_t;

/* The verdict of the wire enum; false if it is not accept, warn or
 * reject (an answer that carries one is not to be trusted). */
bool receipt_verdict(Yima__V1__Verdict w, enum verdict *out);

/* True if every verdict in v[0..n) is accept, warn or reject. */
bool receipt_verdicts_ok(Yima__V1__EventVerdict *const *v, size_t n);

/* Count one verdict (checked with receipt_verdicts_ok). */
void receipt_count(receipt_counts_t *c, const Yima__V1__EventVerdict *v);

struct buf;
/* Append findings as a JSON array: in spec order when every name is
 * known (as finding_set_json prints them), else as the server sent them. */
void receipt_findings_json(struct buf *b, char *const *names, size_t n);

/* Append the JSON line `yima ingest` prints for data row `line`:
 * {"line":N,"code":…,"verdict":…,"findings":[…]} with "reason" when the
 * server gave one, and a newline. */
void receipt_event_json(struct buf *b, uint64_t line, const Yima__V1__EventVerdict *v);

/* Append bytes as lowercase hex (a chain hash). */
void receipt_hex(struct buf *b, const ProtobufCBinaryData *h);

#endif
