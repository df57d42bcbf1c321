/*
 * spool.c - the upload spool (see yima/spool.h): batches waiting for
 * yimad, in an LMDB environment of their own.
 *
 * Three tables:
 *   batches  u64 key (big-endian, so byte order is delivery order) ->
 *            [u8 layout][u64 created][u64 events][u64 first_line]
 *            [str8 batch_id][str16 source][packed EventBatch]
 *   ids      batch_id -> u64 key (a batch id waits at most once)
 *   meta     "next" -> the next key (keys are never reused)
 *
 * A plain environment (no WRITEMAP, default sync): every put and delete is
 * one committed, fsynced transaction, which is the whole point of a spool.
 * Batches are a few hundred KiB and delivery is network bound, so the
 * fsync per batch costs nothing that matters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "yima/core/limits.h"
#include "yima/util/buf.h"
#include "yima/util/lmdb_err.h"
#include "yima/util/error.h"
#include "yima/client/spool.h"

#define SPOOL_LAYOUT 1
#define SPOOL_MAPSIZE ((size_t)1 << 36)	/* 64 GiB of address space; the
					 * file grows only with use */
#define SPOOL_ID_MAX BATCH_ID_MAX
#define SPOOL_SOURCE_MAX 4096
#define SPOOL_HEAD 25			/* layout + three u64 */
#define LOCK_FILE "upload.lock"

enum { T_BATCHES, T_IDS, T_META, T_COUNT };
static const char *const table_names[T_COUNT] = { "batches", "ids", "meta" };

struct spool {
	MDB_env *env;
	MDB_dbi dbi[T_COUNT];
	int lock_fd;
	char *dir;
};

static int fail_mdb(char *why, size_t whylen, const char *dir, int rc)
{
	return yima_fail(why, whylen, yima_err_from_mdb(rc), "%s: %s", dir, mdb_strerror(rc));
}

int spool_default_dir(char *buf, size_t n)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int len;

	/* XDG: a relative $XDG_STATE_HOME is invalid and must be ignored */
	if (state != NULL && state[0] == '/')
		len = snprintf(buf, n, "%s/yima/spool", state);
	else if (home != NULL && home[0] != '\0')
		len = snprintf(buf, n, "%s/.local/state/yima/spool", home);
	else
		return YIMA_ENOTFOUND;
	return len < 0 || (size_t)len >= n ? YIMA_ETOOBIG : 0;
}

int spool_make_dirs(const char *dir, char *why, size_t whylen)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof path)
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: bad directory path", dir);
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
		path[i] = c;
	}
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: not a directory", dir);
	return 0;
}

static int take_lock(spool_t *sp, char *why, size_t whylen)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", sp->dir, LOCK_FILE) >= sizeof path)
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: path too long", sp->dir);
	if ((sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			return yima_fail(why, whylen, YIMA_EBUSY,
					 "%s: in use by another yima upload", sp->dir);
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	}
	return 0;
}

static int tables_open(spool_t *sp, bool rdonly, char *why, size_t whylen)
{
	MDB_txn *t;
	int rc = mdb_txn_begin(sp->env, NULL, rdonly ? MDB_RDONLY : 0, &t);
	if (rc != 0)
		return fail_mdb(why, whylen, sp->dir, rc);
	for (int i = 0; i < T_COUNT; i++) {
		rc = mdb_dbi_open(t, table_names[i], rdonly ? 0 : MDB_CREATE, &sp->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			mdb_txn_abort(t);
			return yima_fail(why, whylen, YIMA_ENOTFOUND, "%s: not a yima spool", sp->dir);
		}
		if (rc != 0) {
			mdb_txn_abort(t);
			return fail_mdb(why, whylen, sp->dir, rc);
		}
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return fail_mdb(why, whylen, sp->dir, rc);
	return 0;
}

int spool_open(const char *dir, unsigned flags, spool_t **out, char *why, size_t whylen)
{
	bool rdonly = flags & SPOOL_RDONLY;
	spool_t *sp;
	int rc;

	*out = NULL;
	if (rdonly) {
		struct stat sb;
		if (stat(dir, &sb) != 0)
			return yima_fail(why, whylen, errno == ENOENT ? YIMA_ENOTFOUND : YIMA_EIO,
					 "%s: %s", dir, strerror(errno));
	} else if ((rc = spool_make_dirs(dir, why, whylen)) < 0) {
		return rc;
	}
	if ((sp = calloc(1, sizeof *sp)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	sp->lock_fd = -1;
	if ((sp->dir = strdup(dir)) == NULL) {
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
		goto close_spool;
	}
	if (!rdonly && (rc = take_lock(sp, why, whylen)) < 0)
		goto close_spool;
	if ((rc = mdb_env_create(&sp->env)) != 0) {
		sp->env = NULL;
		rc = fail_mdb(why, whylen, dir, rc);
		goto close_spool;
	}
	if ((rc = mdb_env_set_maxdbs(sp->env, T_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(sp->env, SPOOL_MAPSIZE)) != 0 ||
	    (rc = mdb_env_open(sp->env, dir, MDB_NOTLS | (rdonly ? MDB_RDONLY : 0), 0600)) != 0) {
		rc = fail_mdb(why, whylen, dir, rc);
		goto close_spool;
	}
	if ((rc = tables_open(sp, rdonly, why, whylen)) < 0)
		goto close_spool;
	*out = sp;
	return 0;
close_spool:
	spool_close(sp);
	return rc;
}

void spool_close(spool_t *sp)
{
	if (sp == NULL)
		return;
	if (sp->env != NULL)
		mdb_env_close(sp->env);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);	/* releases the flock */
	free(sp->dir);
	free(sp);
}

/* ---- put / delete ------------------------------------------------------- */

static int next_key(spool_t *sp, MDB_txn *t, uint64_t *key)
{
	MDB_val k = { 4, "next" }, v;
	uint8_t b[8];
	int rc = mdb_get(t, sp->dbi[T_META], &k, &v);

	if (rc == MDB_NOTFOUND)
		*key = 1;
	else if (rc != 0)
		return yima_err_from_mdb(rc);
	else if (v.mv_size != 8)
		return YIMA_ECORRUPT;
	else
		*key = get_u64be(v.mv_data);
	put_u64be(b, *key + 1);
	v.mv_size = 8;
	v.mv_data = b;
	rc = mdb_put(t, sp->dbi[T_META], &k, &v, 0);
	return rc ? yima_err_from_mdb(rc) : 0;
}

static void encode_value(buf_t *b, const spool_meta_t *m, const void *body, size_t n)
{
	buf_putc(b, SPOOL_LAYOUT);
	buf_put_u64be(b, (uint64_t)m->created);
	buf_put_u64be(b, m->events);
	buf_put_u64be(b, m->first_line);
	buf_put_str8(b, m->batch_id.p, m->batch_id.n);
	buf_put_str16(b, m->source.p, m->source.n);
	buf_put(b, body, n);
}

int spool_put(spool_t *sp, const spool_meta_t *m, const void *body, size_t n, uint64_t *key_out)
{
	MDB_txn *t;
	MDB_val k, v;
	uint8_t kb[8];
	uint64_t key = 0;
	buf_t val;
	int rc;

	if (m->batch_id.n == 0 || m->batch_id.n > SPOOL_ID_MAX || m->source.n > SPOOL_SOURCE_MAX)
		return YIMA_EINVAL;
	buf_init(&val);
	encode_value(&val, m, body, n);
	if (val.oom) {
		rc = YIMA_ENOMEM;
		goto free_val;
	}
	if ((rc = mdb_txn_begin(sp->env, NULL, 0, &t)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto free_val;
	}
	if ((rc = next_key(sp, t, &key)) < 0)
		goto abort_txn;
	put_u64be(kb, key);
	/* the id first: NOOVERWRITE tells us whether it already waits */
	k.mv_size = m->batch_id.n;
	k.mv_data = (void *)m->batch_id.p;
	v.mv_size = 8;
	v.mv_data = kb;
	if ((rc = mdb_put(t, sp->dbi[T_IDS], &k, &v, MDB_NOOVERWRITE)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	k.mv_size = 8;
	k.mv_data = kb;
	v.mv_size = val.len;
	v.mv_data = val.p;
	if ((rc = mdb_put(t, sp->dbi[T_BATCHES], &k, &v, MDB_APPEND)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	if ((rc = mdb_txn_commit(t)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto free_val;
	}
	if (key_out != NULL)
		*key_out = key;
	buf_deinit(&val);
	return 0;
abort_txn:
	mdb_txn_abort(t);
free_val:
	buf_deinit(&val);
	return rc;
}

/* Split a stored value; false if it is not one this layout wrote. */
static bool decode_value(const MDB_val *v, spool_entry_t *e)
{
	rd_t r;
	size_t n;

	rd_init(&r, v->mv_data, v->mv_size);
	if (rd_u8(&r) != SPOOL_LAYOUT)
		return false;
	e->meta.created = (int64_t)rd_u64be(&r);
	e->meta.events = rd_u64be(&r);
	e->meta.first_line = rd_u64be(&r);
	const char *id = rd_str8(&r, &n);
	e->meta.batch_id = yima_slice(id, n);
	const char *src = rd_str16(&r, &n);
	e->meta.source = yima_slice(src, n);
	if (r.bad || e->meta.batch_id.n == 0)
		return false;
	e->body = r.p;
	e->body_len = rd_left(&r);
	return true;
}

int spool_delete(spool_t *sp, uint64_t key)
{
	MDB_txn *t;
	MDB_val k, v;
	uint8_t kb[8];
	spool_entry_t e;
	int rc;

	put_u64be(kb, key);
	k.mv_size = 8;
	k.mv_data = kb;
	if ((rc = mdb_txn_begin(sp->env, NULL, 0, &t)) != 0)
		return yima_err_from_mdb(rc);
	if ((rc = mdb_get(t, sp->dbi[T_BATCHES], &k, &v)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	if (!decode_value(&v, &e)) {
		rc = YIMA_ECORRUPT;
		goto abort_txn;
	}
	MDB_val ik = { e.meta.batch_id.n, (void *)e.meta.batch_id.p };
	/* the id entry goes with it; a missing one is no reason to keep
	 * a delivered batch */
	rc = mdb_del(t, sp->dbi[T_IDS], &ik, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	if ((rc = mdb_del(t, sp->dbi[T_BATCHES], &k, NULL)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	rc = mdb_txn_commit(t);
	return rc ? yima_err_from_mdb(rc) : 0;
abort_txn:
	mdb_txn_abort(t);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

void spool_storage_deinit(spool_storage_t *s)
{
	free(s->p);
	s->p = NULL;
	s->cap = 0;
}

int spool_next(spool_t *sp, uint64_t after, spool_entry_t *e, spool_storage_t *st)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[8];
	int rc;

	if (after == UINT64_MAX)
		return 0;
	put_u64be(kb, after + 1);
	k.mv_size = 8;
	k.mv_data = kb;
	if ((rc = mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &t)) != 0)
		return yima_err_from_mdb(rc);
	if ((rc = mdb_cursor_open(t, sp->dbi[T_BATCHES], &cur)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND) {
		rc = 0;
		goto close_cursor;
	}
	if (rc != 0) {
		rc = yima_err_from_mdb(rc);
		goto close_cursor;
	}
	if (k.mv_size != 8) {
		rc = YIMA_ECORRUPT;
		goto close_cursor;
	}
	/* copy out: the entry must outlive this read transaction */
	if (st->cap < v.mv_size) {
		uint8_t *p = realloc(st->p, v.mv_size);
		if (p == NULL) {
			rc = YIMA_ENOMEM;
			goto close_cursor;
		}
		st->p = p;
		st->cap = v.mv_size;
	}
	memcpy(st->p, v.mv_data, v.mv_size);
	MDB_val copy = { v.mv_size, st->p };
	e->key = get_u64be(k.mv_data);
	rc = decode_value(&copy, e) ? 1 : YIMA_ECORRUPT;
close_cursor:
	mdb_cursor_close(cur);
abort_txn:
	mdb_txn_abort(t);
	return rc;
}

int spool_find(spool_t *sp, yima_slice_t batch_id, uint64_t *key)
{
	MDB_txn *t;
	MDB_val k = { batch_id.n, (void *)batch_id.p }, v;
	int rc;

	if (batch_id.n == 0 || batch_id.n > SPOOL_ID_MAX)
		return YIMA_ENOTFOUND;
	if ((rc = mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &t)) != 0)
		return yima_err_from_mdb(rc);
	rc = mdb_get(t, sp->dbi[T_IDS], &k, &v);
	if (rc != 0)
		rc = yima_err_from_mdb(rc);
	else if (v.mv_size != 8)
		rc = YIMA_ECORRUPT;
	else
		*key = get_u64be(v.mv_data);
	mdb_txn_abort(t);
	return rc;
}

int spool_stat(spool_t *sp, spool_stat_t *st)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	spool_entry_t e;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &t)) != 0)
		return yima_err_from_mdb(rc);
	if ((rc = mdb_cursor_open(t, sp->dbi[T_BATCHES], &cur)) != 0) {
		rc = yima_err_from_mdb(rc);
		goto abort_txn;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!decode_value(&v, &e)) {
			rc = YIMA_ECORRUPT;
			goto close_cursor;
		}
		if (st->batches == 0 || e.meta.created < st->oldest)
			st->oldest = e.meta.created;
		st->batches++;
		st->events += e.meta.events;
	}
	rc = rc == MDB_NOTFOUND ? 0 : yima_err_from_mdb(rc);
close_cursor:
	mdb_cursor_close(cur);
abort_txn:
	mdb_txn_abort(t);
	return rc;
}
