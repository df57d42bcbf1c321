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
 *
 * A full disk.  LMDB makes the file as large as the map with ftruncate(),
 * so under MDB_WRITEMAP the file is sparse and a page written where the
 * file system has no block left faults: SIGBUS, the process dies without a
 * word (issue 9).  So every byte the map may be written into is allocated
 * first (posix_fallocate) from the pages in use to the map's end, and the
 * map is never larger than what could be allocated: when the disk cannot
 * hold the whole reserve, the map grows only as far as it can, and a
 * transaction that needs more gets MDB_MAP_FULL (YIMA_ENOSPACE, aborted,
 * nothing of it applied) instead of a fault.  A file with holes that cannot
 * be filled (one left sparse by an older yima) is not written at all.  The
 * reserve is real disk space while a writer runs; the cut at close gives
 * it back.
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

static bool out_of_space(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

/* The map at open: the file as it is (no sparse growth before the first
 * reservation), or LMDB's first megabyte for a new ledger. */
size_t ledger_map_initial(ledger_t *lg)
{
	size_t fsize = data_file_size(lg);
	return fsize > 0 ? fsize : LEDGER_MAP_ROUND;
}

/* lock.mdb is mapped too, and LMDB writes its header and every reader's
 * slot into it: a slot on a page the file system never backed faults the
 * same way (a new ledger on a full disk died in mdb_env_open()).  So the
 * lock file is allocated before LMDB maps it: a new one at 32 KiB (LMDB
 * sizes its reader table to a file that exists: ~500 slots), and when that
 * fails the ledger is not opened; an existing one at its own size (never
 * resized under a process that has it mapped), best effort: its first
 * page, with the header and the first ~60 reader slots, was written when
 * it was made, and a full disk must not stop yimad or a reader. */
#define LOCK_FILE_NEW ((off_t)32 << 10)

int ledger_map_lockfile(ledger_t *lg)
{
	struct stat sb;
	int fd, err;

	if ((fd = open_lock(lg, "lock.mdb")) < 0)
		return 0;	/* not writable here: LMDB says why, if it matters */
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return YIMA_EIO;
	}
	err = posix_fallocate(fd, 0, sb.st_size > 0 ? sb.st_size : LOCK_FILE_NEW);
	close(fd);
	return sb.st_size == 0 && out_of_space(err) ? YIMA_ENOSPACE : 0;
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

/* Allocate data.mdb from `from` towards `to`: the whole range if the file
 * system has room, else as much as it has, in steps halved down to 1 MiB.
 * *end gets where the allocated prefix now ends (from when nothing
 * could be).  Returns 0, or YIMA_EIO for a failure other than space. */
static int map_allocate(int fd, size_t from, size_t to, size_t *end)
{
	size_t step = to > from ? to - from : 0;
	int err;

	*end = from;
	while (*end < to) {
		if (step > to - *end)
			step = to - *end;
		if ((err = posix_fallocate(fd, (off_t)*end, (off_t)step)) == 0) {
			*end += step;
			continue;
		}
		if (!out_of_space(err))
			return YIMA_EIO;
		if (step <= LEDGER_MAP_ROUND)
			break;
		step = step / 2 / LEDGER_MAP_ROUND * LEDGER_MAP_ROUND;
		if (step < LEDGER_MAP_ROUND)
			step = LEDGER_MAP_ROUND;
	}
	return 0;
}

/* Under resize.lock: the map for the next write transaction.  The file
 * as it is must be backed whole (it may have holes an older yima left, or
 * LMDB's first megabyte); the growth beyond it as far as the disk goes. */
static int map_resize(ledger_t *lg, size_t used, size_t mapsize, size_t want)
{
	size_t fsize = data_file_size(lg), end;
	int fd, err, rc;

	if (want < fsize)
		want = fsize;	/* never cut under another writer's map */
	if (mdb_env_get_fd(lg->env, &fd) != 0)
		return YIMA_EIO;
	if (fsize > used && (err = posix_fallocate(fd, (off_t)used, (off_t)(fsize - used))) != 0)
		return out_of_space(err) ? YIMA_ENOSPACE : YIMA_EIO;	/* do not write */
	if ((rc = map_allocate(fd, fsize > used ? fsize : used, want, &end)) < 0)
		return rc;
	if (end < want)
		want = end;	/* the disk is full: no map beyond its blocks */
	lg->alloc_end = want;
	if (want == mapsize)
		return 0;
	pthread_rwlock_wrlock(&lg->maplock);
	rc = mdb_env_set_mapsize(lg->env, want);
	pthread_rwlock_unlock(&lg->maplock);
	return rc ? yima_err_from_mdb(rc) : 0;
}

int ledger_map_reserve(ledger_t *lg)
{
	size_t used = 0, mapsize = 0, reserve, want;
	int rc, lfd;

	if (!(lg->flags & LEDGER_WRITEMAP))
		return 0;
	if ((rc = used_bytes(lg, &used, &mapsize)) < 0)
		return rc;
	reserve = used / 2 > LEDGER_RESERVE_MIN ? used / 2 : LEDGER_RESERVE_MIN;
	bool roomy = mapsize >= used && mapsize - used >= reserve;
	if (roomy && lg->alloc_end >= mapsize)
		return 0;
	want = roomy ? mapsize : round_up(used + 2 * reserve);
	if ((lfd = open_lock(lg, "resize.lock")) < 0)
		return YIMA_EIO;
	if (flock(lfd, LOCK_EX) != 0) {
		close(lfd);
		return YIMA_EIO;
	}
	rc = map_resize(lg, used, mapsize, want);
	close(lfd);	/* releases the lock */
	return rc;
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
