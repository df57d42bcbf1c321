/*
 * tiles.h - the verifiable log's read API (spec section 8) as plain
 * handlers, apart from any HTTP layer: a method, path, query and caller
 * in; a status, content type, cache policy and body out.
 *
 *   GET /checkpoint                   the latest signed checkpoint (text)
 *   GET /tile/<L>/<N>[.p/<W>]         C2SP tlog-tiles hash tiles, height 8
 *   GET /tile/entries/<N>[.p/<W>]     entry bundles: regulators only
 *   GET /v1/log/consistency?old=M[&new=N]   a ConsistencyProof (protobuf)
 *   GET /v1/log/vkey                  the log's verifier key (text)
 *
 * Everything but entry bundles goes to every caller with a valid
 * certificate and on --public-listen: hashes and signed heads reveal
 * nothing but that records exist (clients and witnesses need them to
 * check the log); entry bundles are the records themselves.  Full tiles
 * never change: Cache-Control: public, max-age=31536000, immutable
 * (bundles: private, as they are not for everyone); a partial tile's
 * bytes never change either but it is superseded by a wider one soon, so
 * a minute; the checkpoint, the key's answer and proofs carrying the
 * latest checkpoint: no-cache.  Reads run in a read transaction of their
 * own: they never wait for the writer.
 */
#ifndef YIMA_SERVER_TILES_H
#define YIMA_SERVER_TILES_H

#include <stdbool.h>

#include "server_int.h"
#include "yima/util/buf.h"

typedef struct log_answer {
	int status;			/* 200, or 4xx/5xx */
	const char *content_type;	/* 200 */
	const char *cache_control;	/* 200 */
	const char *reason;		/* not 200: machine-readable */
	char message[256];		/* not 200: for a person */
	buf_t body;			/* 200: the answer (caller frees) */
} log_answer_t;

/* Is path one of the log API's? */
bool log_api_path(const char *path);

/* Answer a request of the log API (get: it is a GET or HEAD).  a->body is
 * initialized here; the caller buf_deinit()s it. */
void log_api_serve(ledger_t *lg, bool get, const char *path, const char *query,
		   enum caller_kind who, log_answer_t *a);

#endif
