/*
 * limits.h - the one home of yima's limits that more than one layer
 * enforces: what a request, a batch, a claim and a setting may hold.  The
 * clients check them before sending, the server on receipt, the ledger
 * where they bound its keys.
 */
#ifndef YIMA_CORE_LIMITS_H
#define YIMA_CORE_LIMITS_H

#define FACILITY_MAX 20			/* a facility id: [A-Z0-9]{1,20} */
#define EVENT_FIELD_MAX 255		/* drug, settlement, counterparty:
					 * longer is BAD_RECORD (ledger keys
					 * must stay bounded) */
#define BATCH_ID_MAX 128		/* EventBatch.batch_id: 1..128 bytes */
#define BATCH_EVENTS_MAX 100000		/* events in one POST /v1/events */
#define CLAIM_CODES_MAX 10000		/* codes in one claim (POST /v1/settle,
					 * a `yima settle` file) */
/* The most units one number may say: a qty, a catalog pack_units (and
 * max_units_30d), a claimed code's units.  10^9: no pack holds more, and
 * sums of them (units left, refunded, dispensed in 30 days) stay far from
 * 2^64 (docs/decisions.md). */
#define EVENT_UNITS_MAX 1000000000u
#define REFUND_WINDOW_DAYS_DEFAULT 10	/* spec section 4, REFUND_LATE */
#define REFUND_WINDOW_DAYS_MAX 36500	/* --refund-window-days 0..36500: 100
					 * years, its instants far inside int64
					 * seconds */

#endif
