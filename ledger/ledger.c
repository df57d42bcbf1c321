/*
 * ledger.c - the LMDB environment, its transactions and the chain head.
 *
 * Opening creates the sub-databases and the patient-hash key; a
 * transaction loads the counters and chain head from `meta` and writes
 * them back at commit, so every commit is one atomic step from one
 * consistent chain head to the next.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ledger_int.h"
#include "yima/util/hex.h"

const char *const ledger_db_names[DB_COUNT] = {
	[DB_META] = "meta",
	[DB_EVENTS] = "events",
	[DB_ADMIN] = "admin",
	[DB_CODES] = "codes",
	[DB_SETTLE] = "settle",
	[DB_CATALOG] = "catalog",
	[DB_RECALLS] = "recalls",
	[DB_FILES] = "files",
	[DB_CLAIMS] = "claims",
	[DB_BATCHES] = "batches",
	[DB_PATIENTS] = "patients",
	[DB_PATIENT_LINKS] = "patient_links",
	[DB_TREE] = "tree",
	[DB_TREE_ADMIN] = "tree_admin",
	[DB_AUX] = "aux",
};

/* 1 TiB of address space: LMDB maps it but the file only grows with use;
 * a ledger of 10^9 events at ~200 bytes each still fits. */
#define LEDGER_MAPSIZE ((size_t)1 << 40)
#define KEY_FILE "patient.key"

/* ---- patient key ------------------------------------------------------ */

static int key_create(const char *path, uint8_t key[32], char *why, size_t whylen)
{
	char hex[65];
	int fd;

	if (RAND_bytes(key, 32) != 1)
		return yima_fail(why, whylen, YIMA_ECRYPTO, "%s: no randomness for the patient key", path);
	hex_encode(key, 32, hex);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	hex[64] = '\n';
	if (write(fd, hex, 65) != 65 || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		goto fail;
	}
	OPENSSL_cleanse(hex, sizeof hex);
	return close(fd) == 0 ? 0 : yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
fail:
	OPENSSL_cleanse(hex, sizeof hex);
	return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
}

static int key_load(const char *path, uint8_t key[32], char *why, size_t whylen)
{
	char hex[66];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return yima_fail(why, whylen, errno == ENOENT ? YIMA_ENOTFOUND : YIMA_EIO,
				 "%s: %s", path, strerror(errno));
	ssize_t n = read(fd, hex, sizeof hex);
	close(fd);
	int rc = 0;
	if (n < 64) {
		rc = yima_fail(why, whylen, YIMA_ECORRUPT, "%s: too short", path);
		goto wipe;
	}
	if (hex_decode(hex, 64, key, 32) < 0)
		rc = yima_fail(why, whylen, YIMA_ECORRUPT, "%s: not hex", path);
wipe:
	OPENSSL_cleanse(hex, sizeof hex);
	return rc;
}

static int key_setup(ledger_t *lg, char *why, size_t whylen)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", lg->dir, KEY_FILE) >= sizeof path)
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: path too long", lg->dir);
	int rc = key_load(path, lg->mac_key, why, whylen);
	if (rc == YIMA_ENOTFOUND && !(lg->flags & LEDGER_RDONLY))
		rc = key_create(path, lg->mac_key, why, whylen);
	if (rc == YIMA_ENOTFOUND)	/* read-only: hashing is not needed */
		return 0;
	if (rc == 0)
		lg->has_key = true;
	return rc;
}

/* ---- open / close ----------------------------------------------------- */

static int env_open(ledger_t *lg, char *why, size_t whylen)
{
	unsigned envflags = MDB_NOTLS;
	int rc;

	size_t mapsize = LEDGER_MAPSIZE;

	if (lg->flags & LEDGER_RDONLY) {
		envflags |= MDB_RDONLY;
	} else if (!(lg->flags & LEDGER_SMALL_COMMITS)) {
		/* writers map with WRITEMAP and a managed size: mapsize.c */
		lg->flags |= LEDGER_WRITEMAP;
		envflags |= MDB_WRITEMAP;
		mapsize = ledger_map_initial(lg);
	}
	if (lg->flags & LEDGER_NOSYNC)
		envflags |= MDB_NOSYNC | MDB_MAPASYNC;
	else if ((lg->flags & LEDGER_SMALL_COMMITS) && !(lg->flags & LEDGER_RDONLY))
		/* Data pages are flushed at commit, the meta page with the
		 * next commit's flush: integrity holds, and the caller
		 * acknowledges a commit only after that (or ledger_sync()). */
		envflags |= MDB_NOMETASYNC;
	if ((rc = mdb_env_create(&lg->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(lg->env, DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(lg->env, mapsize)) != 0 ||
	    (rc = mdb_env_set_maxreaders(lg->env, 256)) != 0)
		goto fail;
	/* Every writer registers, so that a WRITEMAP writer closing never
	 * cuts the file under another one. */
	if (!(lg->flags & LEDGER_RDONLY) && ledger_map_writer_register(lg) < 0)
		return yima_fail(why, whylen, YIMA_EIO, "%s: cannot lock writers.lock: %s", lg->dir,
				 strerror(errno));
	if (ledger_map_lockfile(lg) == YIMA_ENOSPACE)
		return yima_fail(why, whylen, YIMA_ENOSPACE, "no space left on %s", lg->dir);
	if ((rc = mdb_env_open(lg->env, lg->dir, envflags, 0600)) != 0)
		goto fail;
	/* Back the map with disk blocks before anything is written through
	 * it (dbs_open() writes): mapsize.c. */
	if ((lg->flags & LEDGER_WRITEMAP) && (rc = ledger_map_reserve(lg)) < 0)
		return rc == YIMA_ENOSPACE ? yima_fail(why, whylen, rc, "no space left on %s", lg->dir)
		       : yima_fail(why, whylen, rc, "%s: %s", lg->dir, yima_strerror(rc));
	return 0;
fail:
	if (yima_err_from_mdb(rc) == YIMA_ENOSPACE)
		return yima_fail(why, whylen, YIMA_ENOSPACE, "no space left on %s", lg->dir);
	return yima_fail(why, whylen, yima_err_from_mdb(rc), "%s: %s", lg->dir, mdb_strerror(rc));
}

static int dbs_open(ledger_t *lg, char *why, size_t whylen)
{
	MDB_txn *t;
	bool rdonly = lg->flags & LEDGER_RDONLY;
	int rc;

	/* room for this transaction: it may link an older ledger's patient
	 * chains (ledger_patients_migrate()) */
	if (!rdonly && (rc = ledger_map_reserve(lg)) < 0)
		return yima_fail(why, whylen, rc, "%s: %s", lg->dir, yima_strerror(rc));
	if ((rc = mdb_txn_begin(lg->env, NULL, rdonly ? MDB_RDONLY : 0, &t)) != 0)
		goto fail;
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(t, ledger_db_names[i], rdonly ? 0 : MDB_CREATE, &lg->dbi[i]);
		if (rc == MDB_NOTFOUND && rdonly &&
		    (i == DB_CLAIMS || i == DB_BATCHES || i == DB_PATIENTS || i == DB_PATIENT_LINKS ||
		     i == DB_TREE || i == DB_TREE_ADMIN || i == DB_AUX)) {
			/* Added later (yimad, patient chains, the log, the
			 * cluster): older ledgers have no such table. */
			lg->absent |= 1u << i;
			continue;
		}
		if (rc != 0) {
			mdb_txn_abort(t);
			if (rc == MDB_NOTFOUND)
				return yima_fail(why, whylen, YIMA_ENOTFOUND,
						 "%s: not a yima ledger (no %s table)", lg->dir, ledger_db_names[i]);
			goto fail;
		}
	}
	/* The layout version: checked on every open; a writer raises an
	 * older one to this yima's (ledger.h says why). */
	MDB_val k = { 6, "layout" }, v;
	uint8_t ver = LEDGER_LAYOUT;
	rc = mdb_get(t, lg->dbi[DB_META], &k, &v);
	bool older = rc == 0 && v.mv_size == 1 && *(uint8_t *)v.mv_data < LEDGER_LAYOUT;
	if (!rdonly && (rc == MDB_NOTFOUND || older)) {
		/* records written before patient chains join them first */
		if (older && (rc = ledger_patients_migrate(lg, t)) < 0) {
			mdb_txn_abort(t);
			return yima_fail(why, whylen, rc, "%s: linking patient chains: %s", lg->dir,
					 yima_strerror(rc));
		}
		v.mv_size = 1;
		v.mv_data = &ver;
		rc = mdb_put(t, lg->dbi[DB_META], &k, &v, 0);
	} else if (rc == 0 && (v.mv_size != 1 || *(uint8_t *)v.mv_data > LEDGER_LAYOUT)) {
		mdb_txn_abort(t);
		return yima_fail(why, whylen, YIMA_EVERSION, "%s: ledger layout newer than this yima", lg->dir);
	} else if (rc == MDB_NOTFOUND) {
		rc = 0;	/* empty read-only ledger */
	}
	if (rc != 0) {
		mdb_txn_abort(t);
		goto fail;
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		goto fail;
	return 0;
fail:
	if (yima_err_from_mdb(rc) == YIMA_ENOSPACE)
		return yima_fail(why, whylen, YIMA_ENOSPACE, "no space left on %s", lg->dir);
	return yima_fail(why, whylen, yima_err_from_mdb(rc), "%s: %s", lg->dir, mdb_strerror(rc));
}

/* Files an interrupted creation may leave before data.mdb exists. */
static bool own_file(const char *name)
{
	static const char *const own[] = { ".", "..", "writers.lock", "lock.mdb", KEY_FILE, "log.key" };
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strcmp(name, own[i]) == 0)
			return true;
	return false;
}

/* True when dir holds nothing but what own_file() names. */
static int dir_is_fresh(const char *dir, bool *fresh, char *why, size_t whylen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", dir, strerror(errno));
	*fresh = true;
	while (*fresh && (e = readdir(d)) != NULL)
		*fresh = own_file(e->d_name);
	closedir(d);
	return 0;
}

/*
 * What is at dir decides what an open may do.  A ledger (dir/data.mdb)
 * opens with any flags.  Without one, only LEDGER_CREATE makes one, and
 * only in a missing directory (one level is made) or an empty one: a
 * mistyped --db must not start a second, empty ledger, and a directory
 * that holds other files is not turned into a ledger (docs/decisions.md).
 */
static int dir_check(const char *dir, unsigned flags, char *why, size_t whylen)
{
	char path[4096];
	struct stat sb;
	bool fresh = false;
	int rc;

	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT)
			return yima_fail(why, whylen, YIMA_EIO, "%s: %s", dir, strerror(errno));
		if (!(flags & LEDGER_CREATE))
			return yima_fail(why, whylen, YIMA_ENOTFOUND, "%s: no ledger there (no such directory)", dir);
		if (mkdir(dir, 0700) != 0)
			return yima_fail(why, whylen, YIMA_EIO, "%s: %s", dir, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(sb.st_mode))
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: not a directory", dir);
	if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", dir) >= sizeof path)
		return yima_fail(why, whylen, YIMA_EINVAL, "%s: path too long", dir);
	if (stat(path, &sb) == 0)
		return 0;
	if (errno != ENOENT)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	if (!(flags & LEDGER_CREATE))
		return yima_fail(why, whylen, YIMA_ENOTFOUND, "%s: no ledger there (no data.mdb)", dir);
	if ((rc = dir_is_fresh(dir, &fresh, why, whylen)) < 0)
		return rc;
	if (!fresh)
		return yima_fail(why, whylen, YIMA_EEXIST,
				 "%s: holds other files and no ledger; a new ledger goes in a new or empty directory",
				 dir);
	return 0;
}

int ledger_open(const char *dir, unsigned flags, ledger_t **out, char *why, size_t whylen)
{
	ledger_t *lg;
	int rc;

	*out = NULL;
	if ((rc = dir_check(dir, flags, why, whylen)) < 0)
		return rc;
	if ((lg = calloc(1, sizeof *lg)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	lg->flags = flags;
	lg->writers_fd = -1;
	if (pthread_rwlock_init(&lg->maplock, NULL) != 0) {
		free(lg);
		return yima_fail(why, whylen, YIMA_ENOMEM, "%s: out of memory", dir);
	}
	if ((lg->dir = strdup(dir)) == NULL) {
		rc = yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
		goto free_lg;
	}
	lg->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	lg->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (lg->sha256 == NULL || lg->hmac == NULL) {
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "OpenSSL: SHA-256/HMAC unavailable");
		goto free_lg;
	}
	if ((rc = env_open(lg, why, whylen)) < 0)
		goto free_lg;
	if ((rc = dbs_open(lg, why, whylen)) < 0)
		goto free_lg;
	if ((rc = key_setup(lg, why, whylen)) < 0)
		goto free_lg;
	*out = lg;
	return 0;
free_lg:
	ledger_close(lg);
	return rc;
}

void ledger_close(ledger_t *lg)
{
	if (lg == NULL)
		return;
	if (lg->env != NULL) {
		ledger_map_shrink(lg);
		mdb_env_close(lg->env);
	}
	if (lg->writers_fd >= 0)
		close(lg->writers_fd);
	EVP_MD_free(lg->sha256);
	EVP_MAC_free(lg->hmac);
	OPENSSL_cleanse(lg->mac_key, sizeof lg->mac_key);
	note_signer_free(lg->signer);
	pthread_rwlock_destroy(&lg->maplock);
	free(lg->dir);
	free(lg);
}

int ledger_sync(ledger_t *lg)
{
	int rc = mdb_env_sync(lg->env, 1);
	return rc ? yima_err_from_mdb(rc) : 0;
}

const char *ledger_dir(const ledger_t *lg)
{
	return lg->dir;
}

/* ---- transactions ------------------------------------------------------ */

uint8_t ledger_meta_layout(ledger_txn_t *txn)
{
	MDB_val k = { 6, "layout" }, v;
	if (mdb_get(txn->mdb, ledger_dbi(txn, DB_META), &k, &v) != 0 || v.mv_size != 1)
		return 1;
	return *(uint8_t *)v.mv_data;
}

static uint64_t meta_u64(MDB_txn *t, MDB_dbi dbi, const char *name, uint64_t dflt)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	if (mdb_get(t, dbi, &k, &v) != 0 || v.mv_size != 8)
		return dflt;
	return get_u64be(v.mv_data);
}

static int meta_load(ledger_txn_t *txn)
{
	MDB_dbi dbi = ledger_dbi(txn, DB_META);
	MDB_val k = { 4, "head" }, v;

	txn->events = meta_u64(txn->mdb, dbi, "events", 0);
	txn->admin = meta_u64(txn->mdb, dbi, "admin", 0);
	txn->refund_window = (uint32_t)meta_u64(txn->mdb, dbi, "refund_window", REFUND_WINDOW_DAYS_DEFAULT);
	int rc = mdb_get(txn->mdb, dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(txn->head, 0, sizeof txn->head);
		return 0;
	}
	if (rc != 0)
		return yima_err_from_mdb(rc);
	if (v.mv_size != LEDGER_HASH_LEN)
		return YIMA_ECORRUPT;
	memcpy(txn->head, v.mv_data, LEDGER_HASH_LEN);
	return 0;
}

static int meta_put(ledger_txn_t *txn, const char *name, const void *p, size_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v = { n, (void *)p };
	int rc = mdb_put(txn->mdb, ledger_dbi(txn, DB_META), &k, &v, 0);
	return rc ? yima_err_from_mdb(rc) : 0;
}

static int meta_store(ledger_txn_t *txn)
{
	uint8_t b[8];
	int rc;

	put_u64be(b, txn->events);
	if ((rc = meta_put(txn, "events", b, 8)) < 0)
		return rc;
	put_u64be(b, txn->admin);
	if ((rc = meta_put(txn, "admin", b, 8)) < 0)
		return rc;
	put_u64be(b, txn->refund_window);
	if ((rc = meta_put(txn, "refund_window", b, 8)) < 0)
		return rc;
	return meta_put(txn, "head", txn->head, LEDGER_HASH_LEN);
}

int ledger_txn_begin(ledger_t *lg, bool write, ledger_txn_t **out)
{
	ledger_txn_t *txn;
	int rc;

	*out = NULL;
	if (write && (lg->flags & LEDGER_RDONLY))
		return YIMA_EINVAL;
	if ((txn = calloc(1, sizeof *txn)) == NULL)
		return YIMA_ENOMEM;
	txn->lg = lg;
	txn->write = write;
	txn->recalls = -1;
	buf_init(&txn->scratch);
	if ((txn->md = EVP_MD_CTX_new()) == NULL) {
		rc = YIMA_ENOMEM;
		goto free_txn;
	}
	if (write && (rc = ledger_map_reserve(lg)) < 0)
		goto free_txn;
	if (!write) {
		pthread_rwlock_rdlock(&lg->maplock);
		txn->map_locked = true;
	}
	rc = mdb_txn_begin(lg->env, NULL, write ? 0 : MDB_RDONLY, &txn->mdb);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the file: adopt its size, with no
		 * transaction of ours open. */
		if (txn->map_locked)
			pthread_rwlock_unlock(&lg->maplock);
		pthread_rwlock_wrlock(&lg->maplock);
		rc = mdb_env_set_mapsize(lg->env, 0);
		pthread_rwlock_unlock(&lg->maplock);
		if (txn->map_locked)
			pthread_rwlock_rdlock(&lg->maplock);
		if (rc == 0)
			rc = mdb_txn_begin(lg->env, NULL, write ? 0 : MDB_RDONLY, &txn->mdb);
	}
	if (rc != 0) {
		rc = yima_err_from_mdb(rc);
		goto free_txn;
	}
	if ((rc = meta_load(txn)) < 0)
		goto abort_mdb;
	/* every write transaction carries the tree (and sets the log up on
	 * a ledger that has none: why kept for ledger_log_start) */
	if (write && (rc = ledger_tree_begin(txn, lg->log_why, sizeof lg->log_why)) < 0)
		goto abort_mdb;
	*out = txn;
	return 0;
abort_mdb:
	mdb_txn_abort(txn->mdb);
free_txn:
	if (txn->map_locked)
		pthread_rwlock_unlock(&lg->maplock);
	ledger_tree_free(txn);
	merkle_hasher_deinit(&txn->hasher);
	EVP_MD_CTX_free(txn->md);
	buf_deinit(&txn->scratch);
	free(txn);
	return rc;
}

/* Read-only cursors must be closed before their transaction ends. */
static void txn_close_cursors(ledger_txn_t *txn)
{
	if (txn->settle_cur != NULL && !txn->write)
		mdb_cursor_close(txn->settle_cur);
	if (txn->admin_cur != NULL && !txn->write)
		mdb_cursor_close(txn->admin_cur);
	txn->settle_cur = txn->admin_cur = NULL;
}

static void txn_free(ledger_txn_t *txn)
{
	if (txn->map_locked)
		pthread_rwlock_unlock(&txn->lg->maplock);
	EVP_MD_CTX_free(txn->md);
	EVP_MAC_CTX_free(txn->mac);
	ledger_tree_free(txn);
	merkle_hasher_deinit(&txn->hasher);
	free(txn->catcache);
	ledger_heads_free(txn);
	buf_deinit(&txn->scratch);
	free(txn);
}

int ledger_txn_commit(ledger_txn_t *txn)
{
	int rc = txn->err;

	if (rc == 0 && txn->write)
		rc = ledger_heads_flush(txn);
	if (rc == 0 && txn->write && txn->tree != NULL)
		rc = ledger_log_commit(txn);	/* tree, and a signed checkpoint */
	if (rc == 0 && txn->write && txn->meta_dirty)
		rc = meta_store(txn);
	txn_close_cursors(txn);
	if (rc < 0) {
		mdb_txn_abort(txn->mdb);
		txn_free(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn->mdb);	/* frees the MDB txn either way */
	txn_free(txn);
	return rc ? yima_err_from_mdb(rc) : 0;
}

void ledger_txn_abort(ledger_txn_t *txn)
{
	if (txn == NULL)
		return;
	txn_close_cursors(txn);
	mdb_txn_abort(txn->mdb);
	txn_free(txn);
}

int ledger_txn_err(const ledger_txn_t *txn)
{
	return txn->err;
}

ledger_t *ledger_txn_ledger(const ledger_txn_t *txn)
{
	return txn->lg;
}

uint64_t ledger_event_count(const ledger_txn_t *txn)
{
	return txn->events;
}

uint64_t ledger_admin_count(const ledger_txn_t *txn)
{
	return txn->admin;
}

void ledger_head(const ledger_txn_t *txn, uint8_t head[LEDGER_HASH_LEN])
{
	memcpy(head, txn->head, LEDGER_HASH_LEN);
}

/* ---- hashing ------------------------------------------------------------ */

int ledger_chain_hash(ledger_txn_t *txn, const uint8_t prev[LEDGER_HASH_LEN],
		      const void *bytes, size_t n, uint8_t out[LEDGER_HASH_LEN])
{
	unsigned int len = 0;
	if (EVP_DigestInit_ex(txn->md, txn->lg->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(txn->md, prev, LEDGER_HASH_LEN) != 1 ||
	    EVP_DigestUpdate(txn->md, bytes, n) != 1 ||
	    EVP_DigestFinal_ex(txn->md, out, &len) != 1 || len != LEDGER_HASH_LEN)
		return YIMA_ECRYPTO;
	return 0;
}

static EVP_MAC_CTX *mac_keyed(ledger_t *lg)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(lg->hmac);

	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, lg->mac_key, sizeof lg->mac_key, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int ledger_patient_mac(ledger_txn_t *txn, const char *id, size_t n, uint8_t mac[LEDGER_MAC_LEN])
{
	size_t len = 0;

	if (txn->err)
		return txn->err;
	if (!txn->lg->has_key)
		return ledger_txn_fail(txn, YIMA_EINVAL);
	/* Keying (two SHA-256 blocks and a provider fetch) once per
	 * transaction; each id then costs a re-init with the same key. */
	if (txn->mac == NULL && (txn->mac = mac_keyed(txn->lg)) == NULL)
		return ledger_txn_fail(txn, YIMA_ECRYPTO);
	if (EVP_MAC_init(txn->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(txn->mac, (const unsigned char *)id, n) != 1 ||
	    EVP_MAC_final(txn->mac, mac, &len, LEDGER_MAC_LEN) != 1 || len != LEDGER_MAC_LEN)
		return ledger_txn_fail(txn, YIMA_ECRYPTO);
	return 0;
}

int ledger_content_mac(ledger_txn_t *txn, const uint8_t digest[LEDGER_HASH_LEN],
		       uint8_t mac[LEDGER_MAC_LEN])
{
	/* the tag (NUL included) keeps these apart from patient-id MACs */
	static const char tag[] = "yima content digest v1";
	uint8_t msg[sizeof tag + LEDGER_HASH_LEN];

	memcpy(msg, tag, sizeof tag);
	memcpy(msg + sizeof tag, digest, LEDGER_HASH_LEN);
	return ledger_patient_mac(txn, (const char *)msg, sizeof msg, mac);
}

int ledger_scan_end(ledger_txn_t *txn, MDB_cursor *cur, int rc, int mrc, bool ours)
{
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND) {
		rc = yima_err_from_mdb(mrc);
		ours = true;
	}
	mdb_cursor_close(cur);
	if (ours)
		return ledger_txn_fail(txn, rc);
	return rc < 0 ? rc : 0;
}
