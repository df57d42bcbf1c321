/*
 * cmd.h - the subcommands of the `yima` binary.
 *
 * Each cmd_<name>() parses its own flags, calls libyima and maps the result
 * to an exit code (spec section 5): 0 success, 1 problems found where
 * finding them is the command's job, 2 usage/system/unreadable input,
 * 3 upload gave up with a non-empty spool.  No product logic lives here.
 */
#ifndef YIMA_TOOLS_CMD_H
#define YIMA_TOOLS_CMD_H

enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1,
	EXIT_USAGE = 2,
	EXIT_GAVE_UP = 3,
};

int cmd_init(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_recall(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_recon(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_upload(int argc, char **argv);
int cmd_settle(int argc, char **argv);
int cmd_suspects(int argc, char **argv);
int cmd_patient_key(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_cluster(int argc, char **argv);

#endif
