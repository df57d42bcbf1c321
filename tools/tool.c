/*
 * tool.c - helpers shared by the subcommands (see tool.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"

ledger_t *tool_open_ledger(const char *cmd, const tool_db_t *db, enum tool_access access)
{
	unsigned flags = access == TOOL_READ ? LEDGER_RDONLY : db->create ? LEDGER_CREATE : 0;
	ledger_t *lg;
	char why[512];
	int rc;

	if (db->dir == NULL) {
		tool_usage_error(cmd, "--db DIR is required");
		return NULL;
	}
	if ((rc = ledger_open(db->dir, flags, &lg, why, sizeof why)) == 0) {
		if (access == TOOL_READ || ledger_log_start(lg, db->log_origin, why, sizeof why) == 0)
			return lg;
		ledger_close(lg);
		tool_usage_error(cmd, "%s", why);
		return NULL;
	}
	if (rc == YIMA_ENOTFOUND && access == TOOL_WRITE)
		tool_usage_error(cmd, "%s; make one with `yima init --db %s` (or add --create)", why,
				 db->dir);
	else
		tool_usage_error(cmd, "%s", why);
	return NULL;
}

bool tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "yima %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

void tool_remove_tree(const char *dir)
{
	(void)nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}
