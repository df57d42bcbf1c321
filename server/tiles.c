/*
 * tiles.c - the verifiable log's read API: checkpoint, tlog-tiles hash
 * tiles and entry bundles, consistency proofs and the verifier key (see
 * tiles.h for the routes, who may read what and the cache policy).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiles.h"
#include "wire.h"
#include "yima/tlog/tile.h"
#include "yima/util/error.h"

#define CACHE_FOREVER "public, max-age=31536000, immutable"
#define CACHE_FOREVER_PRIVATE "private, max-age=31536000, immutable"
#define CACHE_SHORT "public, max-age=60"
#define CACHE_NONE "no-cache"
#define OCTETS "application/octet-stream"
#define TEXT "text/plain; charset=utf-8"

bool log_api_path(const char *path)
{
	return strcmp(path, "/checkpoint") == 0 || strncmp(path, "/tile/", 6) == 0 ||
	       strncmp(path, "/v1/log/", 8) == 0;
}

static void fail(log_answer_t *a, int status, const char *reason, const char *msg)
{
	a->status = status;
	a->reason = reason;
	snprintf(a->message, sizeof a->message, "%s", msg);
}

static void ok(log_answer_t *a, const char *ctype, const char *cache)
{
	a->status = a->body.oom ? 500 : 200;
	a->content_type = ctype;
	a->cache_control = cache;
	if (a->body.oom)
		fail(a, 500, "internal", "out of memory");
}

static void ledger_fail(log_answer_t *a, int rc)
{
	if (rc == YIMA_ENOTFOUND)
		fail(a, 404, "no_log", "this ledger has no log yet");
	else
		fail(a, 503, "ledger_error", yima_strerror(rc));
}

/* A hash tile: the first W hashes of tile (L, N), if the tree has them. */
static void hash_tile(ledger_txn_t *txn, const tile_t *t, uint64_t size, log_answer_t *a)
{
	unsigned have = tile_width(t->level, t->index, size);
	size_t n = (size_t)t->width * MERKLE_HASH_SIZE;
	int rc;

	if (have < t->width) {
		fail(a, 404, "not_found", "the tree has no such tile yet");
		return;
	}
	if (!buf_reserve(&a->body, n)) {
		fail(a, 500, "internal", "out of memory");
		return;
	}
	if ((rc = ledger_log_tile_hashes(txn, t->level, t->index * TILE_WIDTH, t->width,
					 a->body.p)) < 0) {
		ledger_fail(a, rc);
		return;
	}
	a->body.len = n;
	ok(a, OCTETS, t->width == TILE_WIDTH ? CACHE_FOREVER : CACHE_SHORT);
}

/* An entry bundle: entries N*256 .. N*256+W-1. */
static void entry_bundle(ledger_txn_t *txn, const tile_t *t, uint64_t size, log_answer_t *a)
{
	yima_slice_t e;
	int rc;

	if (tile_width(0, t->index, size) < t->width) {
		fail(a, 404, "not_found", "the tree has no such entries yet");
		return;
	}
	for (uint64_t i = t->index * TILE_WIDTH; i < t->index * TILE_WIDTH + t->width; i++) {
		if ((rc = ledger_entry_get(txn, i, &e, NULL)) < 0) {
			ledger_fail(a, rc);
			return;
		}
		if (!buf_reserve(&a->body, e.n + 2)) {
			fail(a, 500, "internal", "out of memory");
			return;
		}
		if (tile_bundle_append(a->body.p, a->body.cap, &a->body.len, e.p, e.n) < 0) {
			fail(a, 500, "internal", "an entry is over 65,535 bytes");
			return;
		}
	}
	ok(a, OCTETS, t->width == TILE_WIDTH ? CACHE_FOREVER_PRIVATE : "private, max-age=60");
}

/* name=<decimal> in a query string; false when absent. */
static int query_u64(const char *q, const char *name, uint64_t *v)
{
	size_t n = strlen(name);
	for (const char *p = q; p != NULL && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		char *end;
		if (p[n + 1] < '0' || p[n + 1] > '9')
			return -1;
		*v = strtoull(p + n + 1, &end, 10);
		return (*end == '\0' || *end == '&') ? 1 : -1;
	}
	return 0;
}

static void consistency(ledger_txn_t *txn, const char *query, uint64_t size, log_answer_t *a)
{
	Yima__V1__ConsistencyProof m = YIMA__V1__CONSISTENCY_PROOF__INIT;
	uint8_t h[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
	ProtobufCBinaryData hp[LEDGER_PROOF_MAX];
	yima_slice_t note;
	char why[256], *cp;
	size_t n;
	int rc, has_new = query ? query_u64(query, "new", &m.size) : 0;

	if (query == NULL || query_u64(query, "old", &m.old_size) != 1 || has_new < 0) {
		fail(a, 400, "bad_query", "give old=M and optionally new=N (decimal tree sizes)");
		return;
	}
	if (!has_new)
		m.size = size;
	if ((rc = ledger_log_prove(txn, true, m.old_size, m.size, h, &n, why, sizeof why)) < 0) {
		fail(a, rc == YIMA_EINVAL ? 400 : 503, rc == YIMA_EINVAL ? "bad_query" : "ledger_error", why);
		return;
	}
	if ((rc = ledger_log_checkpoint(txn, &note)) < 0 || (cp = strndup(note.p, note.n)) == NULL) {
		ledger_fail(a, rc < 0 ? rc : YIMA_ENOMEM);
		return;
	}
	for (size_t i = 0; i < n; i++)
		hp[i] = (ProtobufCBinaryData){ LEDGER_HASH_LEN, h[i] };
	m.hashes = hp;
	m.n_hashes = n;
	m.checkpoint = cp;
	if (wire_pack_append(&m.base, &a->body) < 0)
		a->body.oom = true;
	free(cp);
	ok(a, "application/x-protobuf", CACHE_NONE);
}

static void show(ledger_txn_t *txn, bool checkpoint, log_answer_t *a)
{
	yima_slice_t s;
	int rc = checkpoint ? ledger_log_checkpoint(txn, &s) : ledger_log_vkey(txn, &s);

	if (rc < 0) {
		ledger_fail(a, rc);
		return;
	}
	buf_put(&a->body, s.p, s.n);
	if (!checkpoint)
		buf_putc(&a->body, '\n');
	ok(a, TEXT, CACHE_NONE);
}

static void route(ledger_txn_t *txn, const char *path, const char *query, enum caller_kind who,
		  uint64_t size, log_answer_t *a)
{
	tile_t t;
	char why[200];

	if (strcmp(path, "/checkpoint") == 0 || strcmp(path, "/v1/log/vkey") == 0)
		show(txn, path[1] == 'c', a);
	else if (strcmp(path, "/v1/log/consistency") == 0)
		consistency(txn, query, size, a);
	else if (strncmp(path, "/tile/", 6) != 0 ||
		 tile_path_parse(path + 1, strlen(path + 1), &t, why, sizeof why) < 0)
		fail(a, 404, "not_found", "no such path");
	else if (!t.entries)
		hash_tile(txn, &t, size, a);
	else if (who != CALLER_REGULATOR && who != CALLER_TRUSTED)
		fail(a, 403, "regulators_only", "entry bundles are served to regulators only");
	else
		entry_bundle(txn, &t, size, a);
}

void log_api_serve(ledger_t *lg, bool get, const char *path, const char *query,
		   enum caller_kind who, log_answer_t *a)
{
	ledger_txn_t *txn;
	uint64_t size;
	int rc;

	memset(a, 0, sizeof *a);
	buf_init(&a->body);
	if (!get) {
		fail(a, 405, "method_not_allowed", "use GET");
		return;
	}
	if ((rc = ledger_txn_begin(lg, false, &txn)) < 0) {
		ledger_fail(a, rc);
		return;
	}
	if ((rc = ledger_log_size(txn, &size)) < 0)
		ledger_fail(a, rc);
	else
		route(txn, path, query, who, size, a);
	ledger_txn_abort(txn);
	if (a->status != 200)
		buf_reset(&a->body);
}
