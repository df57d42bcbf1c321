/*
 * cmd_patient_key.c - `yima patient-key --db DIR ID...`: the keyed hash of
 * each patient id, as the ledger stores it and `yima suspects` shows it
 * (spec section 5), one lowercase hex hash per line in argument order, so
 * a regulator with a lawful request can match a named person to a suspect
 * line.  The key itself is never printed.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tool.h"
#include "yima/util/error.h"
#include "yima/util/hex.h"

static const char usage[] =
	"usage: yima patient-key --db DIR ID...\n"
	"Print each patient ID's keyed hash (HMAC-SHA256 with the ledger's patient key),\n"
	"as the ledger stores it and `yima suspects` shows it: one lowercase hex hash per\n"
	"line, in argument order.  The key is never printed.\n"
	"Exit: 0, or 2 usage (no ledger, no key, an empty ID).\n";

int cmd_patient_key(int argc, char **argv)
{
	static const opt_cmd_t cmd = { "patient-key", usage, 1, -1, "one or more patient IDs" };
	tool_db_t db = { 0 };
	uint8_t mac[LEDGER_MAC_LEN];
	char hex[2 * LEDGER_MAC_LEN + 1];
	ledger_txn_t *txn;
	int first, rc;

	const opt_t opts[] = { OPT_DB(&db), OPT_END };
	if ((rc = opt_parse(&cmd, opts, argc, argv, &first)) != OPT_GO)
		return rc;
	for (int i = first; i < argc; i++)
		if (argv[i][0] == '\0')
			return tool_usage_error("patient-key", "argument %d: an empty patient ID (no patient)",
						i - first + 1);
	ledger_t *lg = tool_open_ledger("patient-key", &db, TOOL_READ);
	if (lg == NULL)
		return EXIT_USAGE;
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0) {
		ledger_close(lg);
		return tool_usage_error("patient-key", "%s: %s", db.dir, yima_strerror(rc));
	}
	for (int i = first; i < argc && rc == 0; i++) {
		if ((rc = ledger_patient_mac(txn, argv[i], strlen(argv[i]), mac)) < 0)
			break;
		hex_encode(mac, sizeof mac, hex);
		printf("%s\n", hex);
	}
	ledger_txn_abort(txn);
	ledger_close(lg);
	if (rc < 0)
		return tool_usage_error("patient-key", "%s: %s", db.dir,
					rc == YIMA_EINVAL ? "no patient key (patient.key) in the ledger directory"
							  : yima_strerror(rc));
	if (fflush(stdout) != 0)
		return tool_usage_error("patient-key", "write failed");
	return EXIT_OK;
}
