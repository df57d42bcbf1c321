/*
 * verify.h - the verifier: findings of spec section 4 for one event, and
 * applying the event to the ledger.
 *
 * Callable for one event or many inside one write transaction (ingest
 * batches, a settlement claim's items): each call sees the effect of the
 * ones before it in the same transaction.
 */
#ifndef YIMA_VERIFY_H
#define YIMA_VERIFY_H

#include "yima/core/code.h"
#include "yima/util/csv.h"
#include "yima/core/event.h"
#include "yima/core/finding.h"
#include "yima/ledger/ledger.h"

#define VERIFY_REASON_MAX 256

/* One event ready for the rules: parsed, its code normalized.  Its slices
 * point into what it was built from (the CSV row, a request's arena, the
 * snapshot a replayed record came from), which must outlive it, and never
 * into the input itself: an input may be copied or moved (an array of them
 * grown with realloc) freely. */
typedef struct verify_input {
	int status;		/* 0, YIMA_EBADRECORD or YIMA_EMALFORMED */
	event_t ev;		/* valid unless YIMA_EBADRECORD */
	code_t code;		/* valid when status == 0 */
	char reason[VERIFY_REASON_MAX];	/* why BAD_RECORD / MALFORMED */
	yima_slice_t raw;	/* YIMA_EBADRECORD: the raw row */
	yima_slice_t row_patient;	/* YIMA_EBADRECORD: the 8th field, if
					 * any, masked in the stored raw row */
	yima_slice_t code_field;	/* the code as given (4th field, or the
					 * stored one on replay); may be empty */
	bool raw_masked;	/* replay: raw already has its patient masked */
	bool has_patient_mac;	/* replay: the stored HMAC, not ev.patient */
	uint8_t patient_mac[LEDGER_MAC_LEN];
	uint8_t record_layout;	/* replay: the stored record's layout (1:
				 * written before patient chains); 0 now */
} verify_input_t;

/* What ingest prints as "code": the canonical form once the code
 * normalized, else the field as given.  A function, not a stored slice:
 * a slice into in->code would make verify_input_t point into itself, and
 * an array of inputs could then not be moved (realloc) or copied. */
static inline yima_slice_t verify_input_code(const verify_input_t *in)
{
	if (in->status == 0)
		return yima_slice(in->code.canon, in->code.canon_len);
	return in->code_field;
}

typedef struct verify_result {
	uint64_t seq;			/* ledger sequence of the record */
	enum verdict verdict;
	finding_set_t findings;
	uint8_t hash[LEDGER_HASH_LEN];	/* chain hash of the record */
	uint64_t index;			/* its entry in the log (spec section 8) */
} verify_result_t;

/* Parse a CSV data row and normalize its code into *in (no ledger access).
 * Never fails: a bad row or code is recorded in in->status/reason. */
void verify_input_from_row(const csv_row_t *row, verify_input_t *in);

/* The same from an Event message's nine fields (spec section 3's column
 * order).  A bad event gets in->raw empty: the caller renders the fields
 * as its evidence row (they are not one contiguous row). */
void verify_input_from_fields(const yima_slice_t fld[EVENT_NCOLUMNS], verify_input_t *in);

/* One code of a settlement claim (event_claim_init() checked the claim's
 * own fields once): a dispense of units (0 = the whole pack).  A bad one
 * gets in->raw empty, as above. */
void verify_input_from_claim(const event_claim_t *c, yima_slice_t code, yima_slice_t drug,
			     uint64_t units, verify_input_t *in);

/* Make items fit to leave this process (a cluster node publishes inputs
 * to the partition streams): each patient id keyed into patient_mac (and
 * the clear id dropped; consecutive items of one id, as a claim's are,
 * keyed once), a broken row's raw bytes masked as a record keeps them,
 * into raws[i] (items[i].raw then points into it, which must outlive
 * items).  Returns 0 or an error. */
struct buf;
int verify_inputs_seal(ledger_txn_t *txn, verify_input_t *items, size_t n, struct buf *raws);

/* Normalize in->ev.code (status must be 0 on entry; sets MALFORMED). */
void verify_input_normalize(verify_input_t *in);

/*
 * Evaluate the rules for in against the ledger as txn sees it, append the
 * event record (every event gets one: accepted, warned or rejected) and,
 * unless rejected, apply the state change of spec section 4.  Returns 0
 * with *out filled, or a ledger error (the transaction is then failed).
 */
int verify_apply(ledger_txn_t *txn, const verify_input_t *in, verify_result_t *out);

#endif
