/*
 * testutil.c - helpers shared by the Criterion suites (see testutil.h).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;
	cr_assert(asprintf(&path, "%s/yima-test-XXXXXX", base ? base : "/tmp") > 0);
	cr_assert_not_null(mkdtemp(path), "mkdtemp %s", path);
	return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb; (void)flag; (void)f;
	return remove(p);
}

void tu_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = NULL;
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp, "open %s", path);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	return path;
}
