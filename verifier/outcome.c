/*
 * outcome.c - the answers of yimad's writes (see yima/verifier/outcome.h).
 */
#include <stdlib.h>
#include <string.h>

#include "yima/util/error.h"
#include "yima/verifier/outcome.h"

int outcome_init(outcome_t *o, size_t n)
{
	memset(o, 0, sizeof *o);
	o->n = n;
	o->codes = calloc(n ? n : 1, sizeof *o->codes);
	return o->codes ? 0 : YIMA_ENOMEM;
}

void outcome_deinit(outcome_t *o)
{
	free(o->codes);
	o->codes = NULL;
	o->n = 0;
}

int outcome_from_records(ledger_txn_t *txn, uint64_t first, uint64_t count, outcome_t *o)
{
	ledger_event_t e;
	int rc;

	o->status = OUTCOME_REPLAYED;
	o->verdict = VERDICT_ACCEPT;
	if (count != o->n)
		return YIMA_EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		outcome_code_t *c = &o->codes[i];
		if ((rc = ledger_event_get(txn, first + i, &e)) < 0)
			return rc == YIMA_ENOTFOUND ? YIMA_ECORRUPT : rc;
		c->r.seq = first + i;
		if ((rc = ledger_event_index(txn, first + i, &c->r.index)) < 0)
			return rc;
		c->r.verdict = e.verdict;
		c->r.findings = e.findings;
		memcpy(c->r.hash, e.hash, LEDGER_HASH_LEN);
		c->code = e.code;
		c->reason = e.reason;
		if (e.verdict > o->verdict)
			o->verdict = e.verdict;
		memcpy(o->head, e.hash, LEDGER_HASH_LEN);
	}
	o->first_seq = count ? first : 0;
	o->last_seq = count ? first + count - 1 : 0;
	return 0;
}

void outcome_set_code(outcome_t *o, size_t i, const verify_input_t *in)
{
	o->codes[i].code = verify_input_code(in);
	o->codes[i].reason = in->status != 0 ? yima_slice_cstr(in->reason) : yima_slice("", 0);
}

void outcome_set_range(outcome_t *o, ledger_txn_t *txn)
{
	if (o->n == 0) {
		ledger_head(txn, o->head);
		return;
	}
	o->first_seq = o->codes[0].r.seq;
	o->last_seq = o->codes[o->n - 1].r.seq;
	memcpy(o->head, o->codes[o->n - 1].r.hash, LEDGER_HASH_LEN);
}
