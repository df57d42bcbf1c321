/*
 * recall_arg.c - classifying a recall list argument (see yima/recall.h).
 */
#include <string.h>

#include "yima/core/code.h"
#include "yima/util/error.h"
#include "yima/verifier/recall.h"

/* A batch (AI 10) is 1-20 characters; the GS1 set is wider than what a
 * command line should carry, so printable ASCII without spaces is it. */
static bool batch_ok(const char *s, size_t n)
{
	if (n == 0 || n > CODE_BATCH_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

int recall_parse_arg(const char *arg, enum recall_kind *kind, char key[RECALL_KEY_MAX],
		     char *why, size_t whylen)
{
	size_t n = strlen(arg);
	const char *colon = strchr(arg, ':');
	code_t c;

	if (code_is_product_id(arg, n)) {
		*kind = RECALL_PRODUCT;
		memcpy(key, arg, n + 1);
		return 0;
	}
	if (colon != NULL && code_is_product_id(arg, (size_t)(colon - arg))) {
		size_t bn = n - (size_t)(colon - arg) - 1;
		if (!batch_ok(colon + 1, bn))
			return yima_fail(why, whylen, YIMA_EINVAL,
					 "%s: batch after ':' must be 1-20 printable characters", arg);
		*kind = RECALL_BATCH;
		memcpy(key, arg, n + 1);
		return 0;
	}
	if (code_normalize(arg, n, &c, why, whylen) < 0)
		return YIMA_EMALFORMED;
	*kind = RECALL_CODE;
	memcpy(key, c.canon, c.canon_len + 1);
	return 0;
}
