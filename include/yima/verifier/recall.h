/*
 * recall.h - what a `yima recall` argument names (spec section 5):
 * exactly 7 or 14 digits is a product id, PRODUCT:BATCH a batch of it,
 * anything else a code, normalized like a scan.
 */
#ifndef YIMA_RECALL_H
#define YIMA_RECALL_H

#include <stddef.h>

#include "yima/ledger/ledger.h"

#define RECALL_KEY_MAX 64

/* Classify arg; key gets the stored form (canonical code, product id, or
 * "product:batch").  Returns 0, or YIMA_EMALFORMED / YIMA_EINVAL with
 * why filled. */
int recall_parse_arg(const char *arg, enum recall_kind *kind, char key[RECALL_KEY_MAX],
		     char *why, size_t whylen);

#endif
