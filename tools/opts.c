/*
 * opts.c - the one flag parser of the yima subcommands (see opts.h): a
 * table of flags becomes a getopt_long() table, each value is read by its
 * kind, and every mistake gets one line naming the command and the flag.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "opts.h"
#include "tool.h"
#include "yima/core/timearg.h"

#define OPTS_MAX 32

/* Read one flag's value into its destination; 0 or EXIT_USAGE. */
static int opt_take(const opt_cmd_t *cmd, const opt_t *o, const char *v)
{
	char why[320];
	uint64_t n;

	switch (o->kind) {
	case OPT_STR: *(const char **)o->dst = v; break;
	case OPT_FLAG: *(bool *)o->dst = true; break;
	case OPT_U64:
	case OPT_U32:
		if (!tool_parse_u64(v, o->min, o->max, &n))
			return tool_usage_error(cmd->name, "--%s: not %s in %llu..%llu: %s", o->name,
						o->what ? o->what : "a number", (unsigned long long)o->min,
						(unsigned long long)o->max, v);
		if (o->kind == OPT_U64)
			*(uint64_t *)o->dst = n;
		else
			*(uint32_t *)o->dst = (uint32_t)n;
		break;
	case OPT_TIME_START:
	case OPT_TIME_END:
		if (time_arg_parse(v, o->kind == OPT_TIME_END ? TIME_ARG_END : TIME_ARG_START, o->dst,
				   why, sizeof why) < 0)
			return tool_usage_error(cmd->name, "--%s %s", o->name, why);
		break;
	case OPT_FN:
		if (o->fn(o->dst, v, why, sizeof why) < 0)
			return tool_usage_error(cmd->name, "--%s: %s", o->name, why);
		break;
	}
	if (o->seen != NULL)
		*o->seen = true;
	return 0;
}

static int opt_count_args(const opt_cmd_t *cmd, int n, char **rest)
{
	if (n >= cmd->min_args && (cmd->max_args < 0 || n <= cmd->max_args))
		return OPT_GO;
	if (cmd->max_args == 0)
		return tool_usage_error(cmd->name, "unexpected argument %s (see --help)", rest[0]);
	return tool_usage_error(cmd->name, "expected %s (see --help)", cmd->args ? cmd->args : "no argument");
}

int opt_parse(const opt_cmd_t *cmd, const opt_t *opts, int argc, char **argv, int *first)
{
	struct option lo[OPTS_MAX + 2];
	int n = 0, c, rc;

	for (; opts[n].name != NULL && n < OPTS_MAX; n++)
		lo[n] = (struct option){ opts[n].name, opts[n].kind == OPT_FLAG ? no_argument
										  : required_argument, NULL, n };
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(cmd->usage, stdout);
			return EXIT_OK;
		}
		if (c == '?' || c == ':')
			return tool_usage_error(cmd->name, "%s %s (see --help)",
						c == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
		if ((rc = opt_take(cmd, &opts[c], optarg)) != 0)
			return rc;
	}
	*first = optind;
	return opt_count_args(cmd, argc - optind, argv + optind);
}

int opt_verb(const char *name, const char *usage, const char *const *verbs, int argc, char **argv,
	     int *which)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	for (int i = 0; argc >= 2 && verbs[i] != NULL; i++) {
		if (strcmp(argv[1], verbs[i]) == 0) {
			*which = i;
			return OPT_GO;
		}
	}
	char list[128];
	size_t n = 0;
	list[0] = '\0';
	for (int i = 0; verbs[i] != NULL && n < sizeof list; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", verbs[i]);
	if (argc < 2)
		return tool_usage_error(name, "expected an action: %s (see --help)", list);
	return tool_usage_error(name, "unknown action '%s': %s (see --help)", argv[1], list);
}
