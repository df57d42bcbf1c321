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

#endif
