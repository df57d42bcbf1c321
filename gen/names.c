/*
 * names.c - report names of the generator's fraud patterns, noise kinds,
 * malformed codes and bad records (yima/gen.h).  A fraud pattern is named
 * after the spec section 4 finding it is injected to raise.
 */
#include "yima/gen/gen.h"

#define GEN_NAME(tab, i) \
	((unsigned)(i) < sizeof(tab) / sizeof((tab)[0]) ? (tab)[i] : "?")

const char *gen_fraud_name(enum gen_fraud f)
{
	static const char *const t[GEN_FRAUD_COUNT] = {
		"NONE", "REUSED", "RETURNED_TO_MARKET", "SUBSTITUTED",
		"SPLIT_OVERDRAWN", "EXPIRED", "RECALLED", "DUPLICATE_IN_CLAIM",
		"REFUND_UNMATCHED", "REFUND_LATE", "DESTROYED", "UNKNOWN_PRODUCT",
		"NOT_RECEIVED",
	};
	return GEN_NAME(t, f);
}

const char *gen_noise_name(enum gen_noise n)
{
	static const char *const t[GEN_NOISE_COUNT] = {
		"aim_prefix", "fullwidth", "leading_ws", "trailing_ws", "cr_lf",
		"inner_space", "gs1_raw", "gs1_leading_gs", "gs1_printed",
		"gs1_ai_order", "quoted",
	};
	return GEN_NAME(t, n);
}

const char *gen_malformed_name(enum gen_malformed m)
{
	static const char *const t[GEN_MAL_COUNT] = {
		"digits19", "digits21", "letter", "check_digit", "unknown_ai",
		"long_serial", "bad_date", "no_serial", "double_gs",
		"space_printed", "control_byte", "empty",
	};
	return GEN_NAME(t, m);
}

const char *gen_bad_name(enum gen_bad b)
{
	static const char *const t[GEN_BAD_COUNT] = {
		"month13", "feb30", "hour25", "no_offset", "unknown_type",
		"no_settlement", "no_drug", "bad_qty", "fields8", "fields10",
		"bad_facility",
	};
	return GEN_NAME(t, b);
}
