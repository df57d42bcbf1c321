/*
 * mapsize.c - sizing the memory map of a writing process.
 *
 * Writers map the ledger with MDB_WRITEMAP: dirty pages are written in
 * place instead of being malloc'd, copied and looked up in a dirty list,
 * which made ingest ~40% faster (bench/README.md).  The price is that
 * LMDB sizes the file to the map size (ftruncate), so the map is kept just
 * large enough: before each write transaction it grows to leave at least
 * LEDGER_RESERVE_MIN (or half the data, if larger) free, and when the last
 * writing process closes the ledger the file is cut back to the pages in
 * use.  Readers map without WRITEMAP and never change the file.
 *
 * A writer of many small commits (yimad, LEDGER_SMALL_COMMITS) maps
 * without WRITEMAP: there every commit's msync() of a shared, writable map
 * costs a TLB shootdown per dirty page across the process's threads (a
 * third of yimad's CPU in a profile), while pwrite() + fdatasync() of a
 * few pages does not; its map is the fixed 1 TiB of readers.
 *
 * Several processes may write (yimad, `yima recall add`): a resize never
 * makes the file smaller than it is (another writer may have mapped that
 * far), is done under an exclusive lock on DIR/resize.lock, and the final
 * cut happens only when no other writer holds DIR/writers.lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_int.h"

#define LEDGER_RESERVE_MIN ((size_t)1 << 30)	/* 1 GiB: a 256 MiB batch
						 * plus its copy-on-write pages */
#define LEDGER_MAP_ROUND ((size_t)1 << 20)

static int open_lock(const ledger_t *lg, const char *name)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", lg->dir, name) >= sizeof path)
		return -1;
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

static size_t data_file_size(const ledger_t *lg)
{
	char path[4096];
	struct stat sb;
	if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", lg->dir) >= sizeof path ||
	    stat(path, &sb) != 0)
		return 0;
	return (size_t)sb.st_size;
}

static size_t round_up(size_t v)
{
	return (v + LEDGER_MAP_ROUND - 1) / LEDGER_MAP_ROUND * LEDGER_MAP_ROUND;
}

size_t ledger_map_initial(ledger_t *lg)
{
	size_t fsize = data_file_size(lg);
	size_t min = (size_t)64 << 20;
	return round_up(fsize > min ? fsize : min);
}

int ledger_map_writer_register(ledger_t *lg)
{
	lg->writers_fd = open_lock(lg, "writers.lock");
	if (lg->writers_fd < 0 || flock(lg->writers_fd, LOCK_SH) != 0)
		return YIMA_EIO;
	return 0;
}

static int used_bytes(ledger_t *lg, size_t *used, size_t *mapsize)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(lg->env, &info)) != 0 || (rc = mdb_env_stat(lg->env, &st)) != 0)
		return yima_err_from_mdb(rc);
	*used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	*mapsize = info.me_mapsize;
	return 0;
}

int ledger_map_reserve(ledger_t *lg)
{
	size_t used = 0, mapsize = 0, reserve, want, fsize;
	int rc, lfd;

	if (!(lg->flags & LEDGER_WRITEMAP))
		return 0;
	if ((rc = used_bytes(lg, &used, &mapsize)) < 0)
		return rc;
	reserve = used / 2 > LEDGER_RESERVE_MIN ? used / 2 : LEDGER_RESERVE_MIN;
	if (mapsize >= used && mapsize - used >= reserve)
		return 0;
	if ((lfd = open_lock(lg, "resize.lock")) < 0)
		return YIMA_EIO;
	if (flock(lfd, LOCK_EX) != 0) {
		close(lfd);
		return YIMA_EIO;
	}
	want = round_up(used + 2 * reserve);
	fsize = data_file_size(lg);
	if (want < fsize)
		want = fsize;	/* never cut under another writer's map */
	pthread_rwlock_wrlock(&lg->maplock);
	rc = mdb_env_set_mapsize(lg->env, want);
	pthread_rwlock_unlock(&lg->maplock);
	close(lfd);	/* releases the lock */
	return rc ? yima_err_from_mdb(rc) : 0;
}

int ledger_map_range(const ledger_t *lg, const void **base, size_t *len)
{
	MDB_envinfo info;
	int rc = mdb_env_info(lg->env, &info);

	*base = NULL;
	*len = 0;
	if (rc != 0)
		return yima_err_from_mdb(rc);
	*base = info.me_mapaddr;
	*len = info.me_mapsize;
	return 0;
}

void ledger_map_shrink(ledger_t *lg)
{
	int lfd;

	if (!(lg->flags & LEDGER_WRITEMAP) || lg->writers_fd < 0)
		return;
	/* Only the last writer may cut the file: another one may still be
	 * mapped beyond the pages in use. */
	if (flock(lg->writers_fd, LOCK_EX | LOCK_NB) != 0)
		return;
	if ((lfd = open_lock(lg, "resize.lock")) >= 0) {
		if (flock(lfd, LOCK_EX) == 0)
			(void)mdb_env_set_mapsize(lg->env, 1);	/* rounds up to the pages in use */
		close(lfd);
	}
}
