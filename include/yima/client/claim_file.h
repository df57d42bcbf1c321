/*
 * settle.h - the client side of `yima settle` (spec section 6,
 * POST /v1/settle): a claim file read into a Claim message, and a
 * ClaimVerdict as JSON.
 *
 * A claim file is a small CSV (docs/protocol.md, "yima settle"):
 *
 *   facility,settlement,time,patient,drug,code,units
 *
 * one row per claimed code, every row with the same facility, settlement,
 * time and patient; consecutive rows with the same drug form one claim
 * item; units empty or 0 = the whole pack.  The fields travel as text:
 * yimad applies the rules of spec sections 3 and 4 to them, the file only
 * has to be a well-formed claim.
 */
#ifndef YIMA_SETTLE_H
#define YIMA_SETTLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yima.pb-c.h"
#include "yima/core/limits.h"

#define CLAIM_CODES_MAX 10000		/* rows of one claim file */

extern const char *const settle_claim_columns[7];

typedef struct settle_claim {
	Yima__V1__Claim msg;		/* ready to pack; all it points to is
					 * owned by this struct */
	size_t ncodes;			/* codes over all items */
	uint64_t *lines;		/* the data row of each code, in order
					 * (csv_row_where(): header not counted) */
	/* storage behind msg */
	char *text;
	Yima__V1__ClaimItem *items, **item_ptrs;
	Yima__V1__ClaimCode *codes, **code_ptrs;
} settle_claim_t;

/*
 * Read a claim file from fp (name is for messages).  Returns 0 with *out
 * (free with settle_claim_free), YIMA_EFORMAT when the file is not a
 * well-formed claim (why: "claim.csv: data row 2 (line 3): column patient
 * differs from data row 1 (line 2) ..."), YIMA_ETOOBIG over CLAIM_CODES_MAX rows, YIMA_EIO or
 * YIMA_ENOMEM.
 */
int settle_claim_read(FILE *fp, const char *name, settle_claim_t **out, char *why,
		      size_t whylen);
void settle_claim_free(settle_claim_t *c);

struct buf;
/* Append a verdict as one JSON object and a newline:
 * {"settlement":…,"verdict":…,"dry_run":…,"codes":[{"code":…,"verdict":…,
 * "findings":[…],"seq":N[,"reason":…]},…],"receipt":{"first_seq":A,
 * "last_seq":B,"chain_hash":"hex","replayed":…}|null}. */
void settle_verdict_json(struct buf *b, const Yima__V1__ClaimVerdict *v);

#endif
