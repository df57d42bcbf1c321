/*
 * input.c - events made ready for the rules (see yima/verifier/verify.h):
 * parsed by the column rules of spec section 3 and their code normalized
 * (section 1), whichever way they arrived: a CSV row (`yima ingest`), an
 * Event message's nine fields, or one code of a settlement claim.  No
 * ledger access: this runs wherever the request is decoded.
 */
#include <string.h>

#include "yima/core/event_csv.h"
#include "yima/util/error.h"
#include "yima/verifier/verify.h"

void verify_input_normalize(verify_input_t *in)
{
	if (code_normalize(in->ev.code.p, in->ev.code.n, &in->code, in->reason,
			   sizeof in->reason) < 0) {
		in->status = YIMA_EMALFORMED;
		return;
	}
	in->status = 0;
}

void verify_input_from_row(const csv_row_t *row, verify_input_t *in)
{
	memset(in, 0, sizeof *in);
	if (row->nfields >= 4)
		in->code_field = row->field[3];
	if (event_parse_row(row, &in->ev, in->reason, sizeof in->reason) < 0) {
		in->status = YIMA_EBADRECORD;
		in->raw = row->raw;
		if (row->nfields >= 8)
			in->row_patient = row->field[7];
		return;
	}
	verify_input_normalize(in);
}

void verify_input_from_fields(const yima_slice_t fld[EVENT_NCOLUMNS], verify_input_t *in)
{
	memset(in, 0, sizeof *in);
	in->code_field = fld[3];
	if (event_parse_fields(fld, &in->ev, in->reason, sizeof in->reason) < 0) {
		in->status = YIMA_EBADRECORD;
		in->row_patient = fld[7];
		return;
	}
	verify_input_normalize(in);
}

void verify_input_from_claim(const event_claim_t *c, yima_slice_t code, yima_slice_t drug,
			     uint64_t units, verify_input_t *in)
{
	memset(in, 0, sizeof *in);
	in->code_field = code;
	if (event_claim_item(c, code, drug, units, &in->ev, in->reason, sizeof in->reason) < 0) {
		in->status = YIMA_EBADRECORD;
		in->row_patient = c->ev.patient;
		return;
	}
	verify_input_normalize(in);
}
