/*
 * logcheck.c - a client's watch over yimad's verifiable log: the pinned
 * key and latest checkpoint per server in a state file, every new
 * checkpoint checked against it with a consistency proof from the server
 * (see yima/client/logcheck.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yima/client/logcheck.h"
#include "yima/client/spool.h"
#include "yima/tlog/proof.h"
#include "yima/util/base64.h"
#include "yima/util/buf.h"
#include "yima/util/error.h"

struct logcheck {
	char path[4096];
	char vkey[NOTE_VKEY_MAX];
	bool tofu;			/* vkey taken from the server now */
	buf_t kept;			/* the kept checkpoint note (len 0: none) */
	checkpoint_t cp;		/* it, parsed (ext into kept) */
	buf_t cur;			/* the last one checked */
};

/* DIR/log-<host>_<port>.state from https://host:port. */
static int state_path(const char *dir, const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	char name[256];
	size_t n = 0;

	for (p = p ? p + 3 : url; *p && *p != '/' && n + 1 < sizeof name; p++)
		name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '.' || *p == '-' ? *p : '_';
	name[n] = '\0';
	return (size_t)snprintf(out, cap, "%s/log-%s.state", dir, name) < cap ? 0 : YIMA_ETOOBIG;
}

static int keep(logcheck_t *lc, const char *note, size_t n, char *why, size_t whylen)
{
	note_verifier_t *v;
	int rc;

	buf_reset(&lc->kept);
	buf_put(&lc->kept, note, n);
	if (lc->kept.oom)
		return YIMA_ENOMEM;
	if ((rc = note_verifier_new(lc->vkey, strlen(lc->vkey), &v, why, whylen)) < 0)
		return rc;
	rc = checkpoint_open(v, NULL, (char *)lc->kept.p, lc->kept.len, &lc->cp, why, whylen);
	note_verifier_free(v);
	return rc;
}

static int state_load(logcheck_t *lc, char *why, size_t whylen)
{
	buf_t b;
	char msg[256];
	int rc;

	buf_init(&b);
	if (access(lc->path, F_OK) != 0) {
		buf_deinit(&b);
		return 0;
	}
	if ((rc = buf_read_file(&b, lc->path, 64 * 1024, why, whylen)) < 0)
		goto done;
	const char *nl = memchr(b.p, '\n', b.len);
	size_t vlen = nl ? (size_t)(nl - (char *)b.p) : 0;
	if (nl == NULL || vlen == 0 || vlen >= sizeof lc->vkey) {
		rc = yima_fail(why, whylen, YIMA_EFORMAT, "%s: no verifier key on its first line", lc->path);
		goto done;
	}
	memcpy(lc->vkey, b.p, vlen);
	lc->vkey[vlen] = '\0';
	if (b.len > vlen + 1 && (rc = keep(lc, nl + 1, b.len - vlen - 1, msg, sizeof msg)) < 0)
		rc = yima_fail(why, whylen, YIMA_EFORMAT, "%s: the kept checkpoint: %s", lc->path, msg);
done:
	buf_deinit(&b);
	return rc;
}

/* Write path atomically: a temporary file, fsync'd, renamed over it. */
static int write_file(const char *path, const void *a, size_t an, const void *b, size_t bn)
{
	char tmp[4200];
	int fd, ok;

	snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return YIMA_EIO;
	ok = write(fd, a, an) == (ssize_t)an && (bn == 0 || write(fd, b, bn) == (ssize_t)bn) &&
	     fsync(fd) == 0;
	ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	return ok ? 0 : YIMA_EIO;
}

static int state_save(logcheck_t *lc, char *why, size_t whylen)
{
	char head[NOTE_VKEY_MAX + 1];
	int n = snprintf(head, sizeof head, "%s\n", lc->vkey);

	if (write_file(lc->path, head, (size_t)n, lc->kept.p, lc->kept.len) < 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: cannot write: %s", lc->path, strerror(errno));
	return 0;
}

int logcheck_open(const char *dir, const char *url, const char *vkey, logcheck_t **out,
		  char *why, size_t whylen)
{
	logcheck_t *lc = calloc(1, sizeof *lc);
	note_verifier_t *v;
	int rc;

	*out = NULL;
	if (lc == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	buf_init(&lc->kept);
	buf_init(&lc->cur);
	if ((rc = spool_make_dirs(dir, why, whylen)) < 0)
		goto fail;
	if ((rc = state_path(dir, url, lc->path, sizeof lc->path)) < 0) {
		yima_fail(why, whylen, rc, "%s: path too long", dir);
		goto fail;
	}
	if ((rc = state_load(lc, why, whylen)) < 0)
		goto fail;
	if (vkey != NULL && (rc = note_verifier_new(vkey, strlen(vkey), &v, why, whylen)) < 0)
		goto fail;
	if (vkey != NULL)
		note_verifier_free(v);
	if (vkey != NULL && lc->vkey[0] != '\0' && strcmp(vkey, lc->vkey) != 0) {
		rc = yima_fail(why, whylen, YIMA_EEXIST, "%s pins the log key %s, not %s (remove the file to "
			       "trust another key)", lc->path, lc->vkey, vkey);
		goto fail;
	}
	if (vkey != NULL)
		snprintf(lc->vkey, sizeof lc->vkey, "%s", vkey);
	*out = lc;
	return 0;
fail:
	logcheck_free(lc);
	return rc;
}

void logcheck_free(logcheck_t *lc)
{
	if (lc == NULL)
		return;
	buf_deinit(&lc->kept);
	buf_deinit(&lc->cur);
	free(lc);
}

const char *logcheck_path(const logcheck_t *lc)
{
	return lc->path;
}

const char *logcheck_pinned_now(const logcheck_t *lc)
{
	return lc->tofu ? lc->vkey : NULL;
}

/* ---- talking to the server ------------------------------------------------ */

static int fetch_vkey(logcheck_t *lc, client_t *cl, char *why, size_t whylen)
{
	client_reply_t rep;
	note_verifier_t *v;
	char msg[256];
	int rc = client_request(cl, "GET", "/v1/log/vkey", NULL, 0, &rep, msg, sizeof msg);

	if (rc < 0)
		return yima_fail(why, whylen, rc, "fetching the log's key: %s", msg);
	size_t n = rep.len;
	while (n > 0 && (rep.body[n - 1] == '\n' || rep.body[n - 1] == '\r'))
		n--;
	if (rep.status != 200 || n >= sizeof lc->vkey ||
	    note_verifier_new((char *)rep.body, n, &v, msg, sizeof msg) < 0) {
		client_reply_deinit(&rep);
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the server gave no valid log key");
	}
	note_verifier_free(v);
	memcpy(lc->vkey, rep.body, n);
	lc->vkey[n] = '\0';
	lc->tofu = true;
	client_reply_deinit(&rep);
	return 0;
}

/* The consistency proof from size lo to hi, from the server, verified. */
static int prove_from_server(client_t *cl, const checkpoint_t *lo, const checkpoint_t *hi,
			     char *why, size_t whylen)
{
	char path[96], msg[256];
	client_reply_t rep;
	merkle_hash_t h[MERKLE_MAX_PROOF];
	Yima__V1__ConsistencyProof *p;
	int rc;

	snprintf(path, sizeof path, "/v1/log/consistency?old=%" PRIu64 "&new=%" PRIu64, lo->size, hi->size);
	if ((rc = client_request(cl, "GET", path, NULL, 0, &rep, msg, sizeof msg)) < 0)
		return yima_fail(why, whylen, rc, "fetching a consistency proof: %s", msg);
	if (rep.status != 200) {
		client_reply_error(&rep, msg, sizeof msg);
		client_reply_deinit(&rep);
		return yima_fail(why, whylen, client_status_retryable(rep.status) ? YIMA_EIO : YIMA_EMISMATCH,
				 "the server cannot prove it: %s", msg);
	}
	p = yima__v1__consistency_proof__unpack(NULL, rep.len, rep.body);
	client_reply_deinit(&rep);
	rc = p == NULL || p->old_size != lo->size || p->size != hi->size || p->n_hashes > MERKLE_MAX_PROOF;
	for (size_t i = 0; !rc && i < p->n_hashes; i++) {
		rc = p->hashes[i].len != MERKLE_HASH_SIZE;
		if (!rc)
			memcpy(h[i], p->hashes[i].data, MERKLE_HASH_SIZE);
	}
	if (!rc)
		rc = merkle_verify_consistency(lo->size, hi->size, (const merkle_hash_t *)h, p->n_hashes,
					       lo->root, hi->root, msg, sizeof msg) < 0;
	else
		snprintf(msg, sizeof msg, "the server's proof is malformed");
	if (p != NULL)
		yima__v1__consistency_proof__free_unpacked(p, NULL);
	return rc ? yima_fail(why, whylen, YIMA_EMISMATCH, "%s", msg) : 0;
}

/* Both checkpoints, for a person, and the new one saved as evidence. */
static int forked(logcheck_t *lc, const checkpoint_t *now, const char *reason, char *why, size_t whylen)
{
	char a[48], b[48], ev[4300];
	size_t n;

	base64_encode(lc->cp.root, MERKLE_HASH_SIZE, a, sizeof a, &n);
	base64_encode(now->root, MERKLE_HASH_SIZE, b, sizeof b, &n);
	snprintf(ev, sizeof ev, "%.4000s.fork-%" PRIu64, lc->path, now->size);
	(void)write_file(ev, lc->cur.p, lc->cur.len, NULL, 0);
	return yima_fail(why, whylen, YIMA_EMISMATCH,
			 "the server's log is not consistent with what it showed before: checkpoint %s size %"
			 PRIu64 " root %s (kept in %s) and checkpoint size %" PRIu64 " root %s (saved in %s): "
			 "%s.  The server has rewritten or forked its history; keep both files as evidence",
			 lc->cp.origin, lc->cp.size, a, lc->path, now->size, b, ev, reason);
}

int logcheck_note(logcheck_t *lc, client_t *cl, const char *note, size_t len, checkpoint_t *cp,
		  char *why, size_t whylen)
{
	note_verifier_t *v;
	checkpoint_t now;
	char msg[512];
	int rc;

	if (len == 0)
		return lc->kept.len == 0 ? YIMA_ENOTFOUND
			: yima_fail(why, whylen, YIMA_EMISMATCH, "the server gave no checkpoint, having "
				    "given one before (%s size %" PRIu64 ")", lc->cp.origin, lc->cp.size);
	if (lc->vkey[0] == '\0' && (rc = fetch_vkey(lc, cl, why, whylen)) < 0)
		return rc;
	buf_reset(&lc->cur);
	buf_put(&lc->cur, note, len);
	if (lc->cur.oom || (rc = note_verifier_new(lc->vkey, strlen(lc->vkey), &v, why, whylen)) < 0)
		return lc->cur.oom ? YIMA_ENOMEM : rc;
	rc = checkpoint_open(v, NULL, (char *)lc->cur.p, lc->cur.len, &now, msg, sizeof msg);
	note_verifier_free(v);
	if (rc < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the server's checkpoint does not verify with "
				 "the log key %s: %s", lc->vkey, msg);
	if (lc->kept.len > 0) {
		if (now.size == lc->cp.size)
			rc = memcmp(now.root, lc->cp.root, MERKLE_HASH_SIZE) == 0 ? 0
				: yima_fail(msg, sizeof msg, YIMA_EMISMATCH, "same size, another root");
		else
			rc = now.size > lc->cp.size ? prove_from_server(cl, &lc->cp, &now, msg, sizeof msg)
						    : prove_from_server(cl, &now, &lc->cp, msg, sizeof msg);
		if (rc == YIMA_EMISMATCH)
			return forked(lc, &now, msg, why, whylen);
		if (rc < 0)
			return yima_fail(why, whylen, rc, "%s", msg);
	}
	if (cp != NULL)
		*cp = now;
	if (lc->kept.len > 0 && now.size <= lc->cp.size)
		return lc->tofu ? state_save(lc, why, whylen) : 0;
	if ((rc = keep(lc, note, len, msg, sizeof msg)) < 0)
		return yima_fail(why, whylen, rc, "%s", msg);
	return state_save(lc, why, whylen);
}

int logcheck_inclusion(const checkpoint_t *cp, const Yima__V1__InclusionProof *p, uint64_t want_index,
		       char *why, size_t whylen)
{
	log_proof_t lp;
	char msg[256];

	memset(&lp, 0, sizeof lp);
	lp.size = p->size;
	lp.from = p->index;
	memcpy(lp.root, cp->root, MERKLE_HASH_SIZE);
	if (p->index != want_index || p->n_hashes > MERKLE_MAX_PROOF)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "the inclusion proof is for entry %" PRIu64
				 ", the record is entry %" PRIu64, p->index, want_index);
	for (lp.n = 0; lp.n < p->n_hashes; lp.n++) {
		if (p->hashes[lp.n].len != MERKLE_HASH_SIZE)
			return yima_fail(why, whylen, YIMA_EMISMATCH, "a proof hash is not 32 bytes");
		memcpy(lp.hash[lp.n], p->hashes[lp.n].data, MERKLE_HASH_SIZE);
	}
	if (log_proof_check_inclusion(&lp, cp->size, cp->root, p->entry.data, p->entry.len, msg, sizeof msg) < 0)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "entry %" PRIu64 " is not in the checkpoint's tree: %s",
				 p->index, msg);
	return 0;
}

int logcheck_claim(logcheck_t *lc, client_t *cl, const Yima__V1__ClaimVerdict *v, char *why, size_t whylen)
{
	checkpoint_t cp;
	int rc;

	if (v->dry_run)
		return 0;
	if ((rc = logcheck_note(lc, cl, v->checkpoint, strlen(v->checkpoint), &cp, why, whylen)) < 0)
		return rc;
	if (v->n_proofs != v->n_codes)
		return yima_fail(why, whylen, YIMA_EMISMATCH, "%zu inclusion proofs for %zu codes",
				 v->n_proofs, v->n_codes);
	for (size_t i = 0; i < v->n_codes; i++) {
		if (v->proofs[i]->size != cp.size)
			return yima_fail(why, whylen, YIMA_EMISMATCH, "code %zu: a proof for size %" PRIu64
					 ", the checkpoint's is %" PRIu64, i + 1, v->proofs[i]->size, cp.size);
		if ((rc = logcheck_inclusion(&cp, v->proofs[i], v->codes[i]->index, why, whylen)) < 0)
			return rc;
	}
	return 0;
}
