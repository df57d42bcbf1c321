/*
 * relay.h - platforms that upload for other facilities (issue 13): in
 * China most facilities send their scans through their vendor's or their
 * province's platform.  A certificate named in yimad's --relay FILE may
 * send batches and claims for the facilities its patterns match, and
 * events of several of them in one batch; everyone else still acts only
 * as itself.  Private to server/.
 *
 * FILE: one relay a line, `CN pattern...`, e.g. `PLATFORM-AH P* H*`; `#`
 * starts a comment, blank lines are skipped.  A CN is 1..64 printable
 * ASCII bytes without space; a pattern is a facility id with `*` (any
 * run) and `?` (one character) wildcards, at most 20 bytes.
 */
#ifndef YIMA_SERVER_RELAY_H
#define YIMA_SERVER_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "yima/core/limits.h"

#define RELAY_CN_MAX 64
#define RELAY_PATTERNS_MAX 64

typedef struct relay_entry {
	char cn[RELAY_CN_MAX + 1];
	size_t npat;
	char pat[RELAY_PATTERNS_MAX][FACILITY_MAX + 1];
} relay_entry_t;

typedef struct relay_table {
	size_t n;
	relay_entry_t *e;
} relay_table_t;

/* Load FILE into *t (zeroed first).  Returns 0, or YIMA_EFORMAT / YIMA_EIO
 * with why naming the file, line and rule.  Free with relay_free(). */
int relay_load(const char *path, relay_table_t *t, char *why, size_t whylen);
void relay_free(relay_table_t *t);

/* The relay whose CN is cn (n bytes), or NULL. */
const relay_entry_t *relay_find(const relay_table_t *t, const char *cn, size_t n);

/* True if the relay may act as facility (a valid facility id matching one
 * of its patterns). */
bool relay_may_act_as(const relay_entry_t *e, const char *facility, size_t n);

#endif
