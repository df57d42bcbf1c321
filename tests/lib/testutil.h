/*
 * testutil.h - helpers shared by the Criterion suites.
 */
#ifndef YIMA_TESTUTIL_H
#define YIMA_TESTUTIL_H

#include <stddef.h>

/* Create a fresh empty directory under $TMPDIR (or /tmp); returns a
 * malloc'd path.  Aborts the test on failure. */
char *tu_mkdtemp(void);

/* rm -rf path (best effort). */
void tu_rmtree(const char *path);

/* Write len bytes to a new file at dir/name; returns the malloc'd path. */
char *tu_write_file(const char *dir, const char *name, const char *data, size_t len);

#define TU_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The parameters of a table-driven ParameterizedTest: the indexes of
 * table (Criterion re-executes the test binary, so a parameter must not
 * point into the table).  Needs <criterion/parameterized.h>. */
#define TU_INDEX_PARAMS(suite, name, table)				\
	ParameterizedTestParameters(suite, name)			\
	{								\
		static size_t idx[TU_ARRAY_SIZE(table)];		\
		for (size_t k = 0; k < TU_ARRAY_SIZE(table); k++)	\
			idx[k] = k;					\
		return cr_make_param_array(size_t, idx, TU_ARRAY_SIZE(table)); \
	}

#endif
