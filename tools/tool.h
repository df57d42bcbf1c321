/*
 * tool.h - small helpers shared by the subcommands: the ledger they name
 * with --db (and may create with --create), numbers from flags, the
 * one-line usage error.
 */
#ifndef YIMA_TOOLS_TOOL_H
#define YIMA_TOOLS_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "yima/ledger/ledger.h"

/* The ledger a command works on: --db DIR, and for the commands that
 * write, --create to make it when there is none yet. */
typedef struct tool_db {
	const char *dir;
	bool create;
	const char *log_origin;	/* the log's origin, for a new log */
} tool_db_t;

#define OPT_DB(d) OPT_TEXT("db", &(d)->dir)
/* --create, and --log-origin NAME for the log of a ledger made then */
#define OPT_CREATE(d) OPT_BOOL("create", &(d)->create), OPT_TEXT("log-origin", &(d)->log_origin)

/* How to reach yimad (settle, upload): --server, --cert, --key, --ca and
 * --timeout into a client_opts_t. */
#define OPT_CLIENT(co) \
	OPT_TEXT("server", &(co)->url), OPT_TEXT("cert", &(co)->cert), \
	OPT_TEXT("key", &(co)->key), OPT_TEXT("ca", &(co)->ca), \
	OPT_NUM32("timeout", &(co)->timeout, 1, 3600, "a number of seconds")

enum tool_access {
	TOOL_READ,	/* read-only: the ledger must exist */
	TOOL_WRITE,	/* must exist too, unless db->create */
};

/* Open the ledger or print "yima CMD: reason" (with how to make one when
 * there is none) and return NULL.  TOOL_WRITE also makes sure the ledger
 * has its verifiable log (spec section 8: a new or older ledger gets it
 * now, with --log-origin or yima.<hostname>). */
ledger_t *tool_open_ledger(const char *cmd, const tool_db_t *db, enum tool_access access);

/* Parse a decimal in [min, max]; false if it is not one. */
bool tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Remove a scratch directory and everything in it (best effort). */
void tool_remove_tree(const char *dir);

/* Print "yima CMD: msg" to stderr; returns EXIT_USAGE. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
