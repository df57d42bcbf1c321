/*
 * receipt.c - wire verdicts as counts and as `yima ingest` JSON (see
 * yima/receipt.h).
 */
#include <string.h>

#include "yima/util/hex.h"
#include "yima/util/buf.h"
#include "yima/util/json.h"
#include "yima/client/receipt.h"

bool receipt_verdict(Yima__V1__Verdict w, enum verdict *out)
{
	switch (w) {
	case YIMA__V1__VERDICT__ACCEPT: *out = VERDICT_ACCEPT; return true;
	case YIMA__V1__VERDICT__WARN: *out = VERDICT_WARN; return true;
	case YIMA__V1__VERDICT__REJECT: *out = VERDICT_REJECT; return true;
	default: return false;
	}
}

bool receipt_verdicts_ok(Yima__V1__EventVerdict *const *v, size_t n)
{
	enum verdict x;
	for (size_t i = 0; i < n; i++)
		if (v[i] == NULL || !receipt_verdict(v[i]->verdict, &x))
			return false;
	return true;
}

void receipt_count(receipt_counts_t *c, const Yima__V1__EventVerdict *v)
{
	enum verdict x;
	if (!receipt_verdict(v->verdict, &x))
		return;
	c->events++;
	c->verdicts[x]++;
	for (size_t i = 0; i < v->n_findings; i++) {
		const char *name = v->findings[i];
		enum finding f = finding_parse(name, strlen(name));
		if (f == F_COUNT)
			c->other_findings++;
		else
			c->findings[f]++;
	}
}

void receipt_findings_json(buf_t *b, char *const *names, size_t n)
{
	finding_set_t set = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		enum finding f = finding_parse(names[i], strlen(names[i]));
		if (f == F_COUNT)
			break;
		set |= FINDING_BIT(f);
	}
	if (i == n) {
		finding_set_json(b, set);
		return;
	}
	buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		json_str(b, names[i], strlen(names[i]));
	}
	buf_putc(b, ']');
}

void receipt_event_json(buf_t *b, uint64_t line, const Yima__V1__EventVerdict *v)
{
	enum verdict x = VERDICT_REJECT;

	receipt_verdict(v->verdict, &x);
	buf_printf(b, "{\"line\":%llu,\"index\":%llu,\"code\":", (unsigned long long)line,
		   (unsigned long long)v->index);
	json_str(b, v->code, strlen(v->code));
	buf_printf(b, ",\"verdict\":\"%s\",\"findings\":", verdict_name(x));
	receipt_findings_json(b, v->findings, v->n_findings);
	if (v->reason[0] != '\0') {
		buf_puts(b, ",\"reason\":");
		json_str(b, v->reason, strlen(v->reason));
	}
	buf_puts(b, "}\n");
}

void receipt_hex(buf_t *b, const ProtobufCBinaryData *h)
{
	hex_put(b, h->data, h->len);
}
