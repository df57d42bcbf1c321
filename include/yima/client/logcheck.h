/*
 * logcheck.h - a client's watch over yimad's verifiable log (spec section
 * 8, docs/log.md "What each party can verify").
 *
 * `yima upload` and `yima settle` keep, per server, the log's verifier key
 * and the latest checkpoint they accepted, in a state file
 * (DIR/log-<host>_<port>.state: the vkey on the first line, then the
 * checkpoint note).  Every checkpoint a receipt or verdict carries must be
 * signed by that key and consistent with the one kept: same size, same
 * root; a larger one, an RFC 9162 consistency proof from the old size,
 * fetched from the server (GET /v1/log/consistency?old=M&new=N), must
 * verify; a smaller one must be a prefix of the kept one the same way.
 * Then the larger of the two is kept.  A server that shows two
 * checkpoints that are not consistent has rewritten or forked its history:
 * the check fails with both named, and the new one is saved beside the
 * state (DIR/log-<host>_<port>.fork-<size>) as evidence.
 *
 * The key: --log-key VKEY (from the operator: `yima log vkey`), or, when
 * neither the option nor the state has one, the server's own (GET
 * /v1/log/vkey) on first contact (trust on first use: the tools say so).
 */
#ifndef YIMA_CLIENT_LOGCHECK_H
#define YIMA_CLIENT_LOGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima.pb-c.h"
#include "yima/client/client.h"
#include "yima/tlog/checkpoint.h"

typedef struct logcheck logcheck_t;

/*
 * The state for server url in dir (made, mode 0700, with missing parents).
 * vkey: the key to trust (NULL: the state's, or the server's on first
 * contact); one that differs from the state's is YIMA_EEXIST.  Returns 0
 * with *out (logcheck_free), or YIMA_EINVAL / YIMA_EIO / YIMA_EFORMAT with
 * why.
 */
int logcheck_open(const char *dir, const char *url, const char *vkey, logcheck_t **out,
		  char *why, size_t whylen);
void logcheck_free(logcheck_t *lc);

/* The state file's path (for messages). */
const char *logcheck_path(const logcheck_t *lc);

/* The key, when it was taken from the server in this run (trust on first
 * use, for the tool to say so), else NULL. */
const char *logcheck_pinned_now(const logcheck_t *lc);

/*
 * A checkpoint note (len bytes; empty: the server gave none) from cl's
 * server: checked as above and kept.  On success *cp (may be NULL) is the
 * checkpoint (valid until the next call).  Returns 0; YIMA_ENOTFOUND when
 * the server gave none and none was ever kept (a server without a log);
 * YIMA_EMISMATCH when it does not verify or is not consistent, with why
 * naming both checkpoints; YIMA_EIO when the proof could not be fetched
 * (retry later: nothing was kept); YIMA_ENOMEM.
 */
int logcheck_note(logcheck_t *lc, client_t *cl, const char *note, size_t len, checkpoint_t *cp,
		  char *why, size_t whylen);

/*
 * An inclusion proof from a claim verdict, against the checkpoint cp
 * accepted for it: its size is cp's, its entry hashes up to cp's root at
 * its index, and its index is want_index.  Returns 0 or YIMA_EMISMATCH
 * with why.
 */
int logcheck_inclusion(const checkpoint_t *cp, const Yima__V1__InclusionProof *p, uint64_t want_index,
		       char *why, size_t whylen);

/*
 * A claim verdict (not a dry run): its checkpoint as logcheck_note, and
 * an inclusion proof for every code's record, at that record's index, in
 * that checkpoint's tree.  Returns as logcheck_note (YIMA_ENOTFOUND: the
 * server has no log), or YIMA_EMISMATCH for a missing or failing proof.
 */
int logcheck_claim(logcheck_t *lc, client_t *cl, const Yima__V1__ClaimVerdict *v, char *why,
		   size_t whylen);

#endif
