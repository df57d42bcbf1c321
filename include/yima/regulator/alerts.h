/*
 * alerts.h - recorded findings for regulators (`yima alerts`): the flagged
 * events filtered by facility, finding and time range, or their counts
 * grouped by facility and finding (who is the worst offender this month).
 */
#ifndef YIMA_ALERTS_H
#define YIMA_ALERTS_H

#include <stdbool.h>
#include <stdio.h>

#include "yima/ledger/ledger.h"

typedef struct alerts_query {
	const char *facility;		/* NULL = any */
	finding_set_t findings;		/* 0 = any finding */
	bool has_from, has_to;
	yima_time_t from, to;		/* inclusive instants */
	bool counts;			/* group by facility and finding */
	bool csv;			/* CSV instead of JSON lines */
} alerts_query_t;

/* Write the alerts matching q to out.  *matched gets the number of
 * flagged events that matched.  Returns 0, YIMA_EIO on an output error, or
 * a ledger error (why filled). */
int alerts_run(ledger_t *lg, const alerts_query_t *q, FILE *out, uint64_t *matched,
	       char *why, size_t whylen);

#endif
