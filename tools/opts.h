/*
 * opts.h - a subcommand's flags as a table, read by one parser
 * (tools/opts.c): every command answers --help, names a bad flag or value
 * and counts its arguments the same way, and says in a table, not in a
 * getopt loop, what it takes.
 */
#ifndef YIMA_TOOLS_OPTS_H
#define YIMA_TOOLS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_kind {
	OPT_STR,	/* const char **: the value as given */
	OPT_FLAG,	/* bool *: set true; takes no value */
	OPT_U64,	/* uint64_t *: a decimal in [min, max] */
	OPT_U32,	/* uint32_t *: likewise (max <= UINT32_MAX) */
	OPT_TIME_START,	/* yima_time_t *: time_arg_parse(), TIME_ARG_START */
	OPT_TIME_END,	/* yima_time_t *: time_arg_parse(), TIME_ARG_END */
	OPT_FN,		/* fn(dst, value, why, whylen) reads it */
};

typedef int opt_fn(void *dst, const char *value, char *why, size_t whylen);

typedef struct opt {
	const char *name;	/* long name without "--"; NULL ends a table */
	enum opt_kind kind;
	void *dst;
	uint64_t min, max;	/* OPT_U64, OPT_U32 */
	const char *what;	/* the value, for messages: "a number of days" */
	opt_fn *fn;		/* OPT_FN: 0, or <0 with why filled */
	bool *seen;		/* set true when given; may be NULL */
} opt_t;

typedef struct opt_cmd {
	const char *name;	/* as messages say it: "ingest", "recall add" */
	const char *usage;	/* the --help text, printed to stdout */
	int min_args, max_args;	/* positional arguments; max -1: no limit */
	const char *args;	/* them, for the count message: "one FILE.csv or -" */
} opt_cmd_t;

/* Table rows, one per kind (designated, so the rest is zero). */
#define OPT_TEXT(n, d) { .name = (n), .kind = OPT_STR, .dst = (d) }
#define OPT_BOOL(n, d) { .name = (n), .kind = OPT_FLAG, .dst = (d) }
#define OPT_NUM64(n, d, lo, hi, w) \
	{ .name = (n), .kind = OPT_U64, .dst = (d), .min = (lo), .max = (hi), .what = (w) }
#define OPT_NUM32(n, d, lo, hi, w) \
	{ .name = (n), .kind = OPT_U32, .dst = (d), .min = (lo), .max = (hi), .what = (w) }
#define OPT_FROM(n, d, s) { .name = (n), .kind = OPT_TIME_START, .dst = (d), .seen = (s) }
#define OPT_TO(n, d, s) { .name = (n), .kind = OPT_TIME_END, .dst = (d), .seen = (s) }
#define OPT_CALL(n, f, d) { .name = (n), .kind = OPT_FN, .dst = (d), .fn = (f) }
#define OPT_END { .name = NULL }

#define OPT_GO (-1)

/*
 * Parse argv[1..argc) (argv[0] is the command's name) by the table; flags
 * and arguments may mix, "--" ends the flags.  Returns OPT_GO with *first
 * the index of the first positional argument, or the exit code to return
 * now: EXIT_OK after printing --help, EXIT_USAGE after a one-line message
 * ("yima ingest: --batch: not a row count in 1..10000000: x").
 */
int opt_parse(const opt_cmd_t *cmd, const opt_t *opts, int argc, char **argv, int *first);

/*
 * Commands with a verb first ("catalog load", "recall add"): find argv[1]
 * in verbs (NULL-terminated).  Returns OPT_GO with *which its index (parse
 * the rest with opt_parse(argc - 1, argv + 1)), or an exit code: EXIT_OK
 * after printing the usage for --help, EXIT_USAGE for no or another verb.
 */
int opt_verb(const char *name, const char *usage, const char *const *verbs, int argc, char **argv,
	     int *which);

#endif
