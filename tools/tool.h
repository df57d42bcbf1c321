/*
 * tool.h - small helpers shared by the subcommands: opening the ledger
 * with a one-line error, parsing numbers from flags.
 */
#ifndef YIMA_TOOLS_TOOL_H
#define YIMA_TOOLS_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "yima/ledger/ledger.h"

/* Open the ledger at dir or print "yima CMD: reason" and return NULL. */
ledger_t *tool_open_ledger(const char *cmd, const char *dir, bool write);

/* Parse a decimal in [min, max]; false if it is not one. */
bool tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Print "yima CMD: msg" to stderr; returns EXIT_USAGE. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
