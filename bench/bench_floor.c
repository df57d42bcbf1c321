/*
 * bench_floor.c - the plain-LMDB floor that `yima ingest` is compared to.
 *
 *   bench_floor EVENTS.csv DBDIR [CANON]
 *
 * The definition: "the rate of a plain LMDB loop that replays the
 * same sequence of canonical codes with the minimal work (append the
 * event, read-modify-write the code's state, one settlement index put;
 * synced commits of 100,000 events)".  Nothing here can be made cheaper
 * without dropping durability or one of those three writes, so an ingest
 * rate is judged by its distance to this one.
 *
 * Untimed: read EVENTS.csv (the raw row bytes, the facility and the
 * settlement of every data row; a small local RFC 4180 splitter, so the
 * floor does not depend on the product's parser) and the canonical code
 * of every row from CANON (default: EVENTS.csv with .csv replaced by
 * .canon, as `yima gen --canon-out` writes it; an empty line is a
 * malformed or broken row, which gets no code state).
 *
 * Timed: a fresh environment in DBDIR (64 GiB map, default flags: synced
 * commits), and per row: an MDB_APPEND put of the raw row under an 8-byte
 * big-endian sequence number; mdb_get + mdb_put of a 32-byte state under
 * the canonical code; when the row has a settlement, one put of
 * facility + settlement + code into a settlement index.  A commit every
 * 100,000 rows and at the end.
 *
 * Output, one line:
 *   floor events=N seconds=S events_per_s=R bytes_per_event=B
 * with B = (me_last_pgno + 1) * page size / N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_BATCH 100000
#define FLOOR_MAPSIZE (64ULL << 30)
#define FLOOR_KEY_MAX 511	/* LMDB's default key limit */

typedef struct floor_row {
	uint64_t off;		/* row bytes in the events file */
	uint32_t len;
	uint32_t fac_off;	/* relative to off */
	uint32_t sett_off;
	uint16_t fac_len, sett_len;
	uint64_t canon_off;	/* in the canon file */
	uint32_t canon_len;
} floor_row_t;

typedef struct floor_in {
	char *ev, *canon;
	size_t ev_len, canon_len;
	floor_row_t *rows;
	size_t n, cap;
} floor_in_t;

/* The 32-byte code state the loop reads and rewrites. */
typedef struct floor_state {
	uint64_t last_seq;
	uint32_t events;
	uint32_t units_left;
	char holder[16];
} floor_state_t;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_floor: %s: %s\n", what, detail);
	exit(2);
}

static void mdb_check(int rc, const char *what)
{
	if (rc != MDB_SUCCESS)
		die(what, mdb_strerror(rc));
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf;
	size_t got = 0;
	if (fd < 0 || fstat(fd, &st) != 0)
		die(path, strerror(errno));
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		die(path, "out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k <= 0)
			die(path, k < 0 ? strerror(errno) : "short read");
		got += (size_t)k;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Field bounds without surrounding quotes (facility and settlement never
 * hold quotes themselves). */
static void field_set(const char *row, const char *fs, const char *fe,
		      uint32_t *off, uint16_t *len)
{
	if (fe - fs >= 2 && *fs == '"' && fe[-1] == '"') {
		fs++;
		fe--;
	}
	*off = (uint32_t)(fs - row);
	*len = (uint16_t)(fe - fs < 65535 ? fe - fs : 65535);
}

/* One row starting at p; returns the start of the next. */
static const char *split_row(const char *p, const char *e, floor_row_t *r, const char *base)
{
	const char *row = p, *fs = p;
	int field = 0;
	bool quoted = false;
	memset(r, 0, sizeof(*r));
	for (; p < e; p++) {
		if (quoted) {
			if (*p == '"' && p + 1 < e && p[1] == '"')
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == ',' || *p == '\n') {
			const char *fe = (*p == '\n' && p > fs && p[-1] == '\r') ? p - 1 : p;
			if (field == 1)
				field_set(row, fs, fe, &r->fac_off, &r->fac_len);
			else if (field == 6)
				field_set(row, fs, fe, &r->sett_off, &r->sett_len);
			field++;
			fs = p + 1;
			if (*p == '\n')
				break;
		}
	}
	const char *end = p;
	if (end > row && end[-1] == '\r')
		end--;
	r->off = (uint64_t)(row - base);
	r->len = (uint32_t)(end - row);
	return p < e ? p + 1 : e;
}

static void load_events(floor_in_t *in, const char *path)
{
	const char *p, *e;
	in->ev = slurp(path, &in->ev_len);
	p = in->ev;
	e = p + in->ev_len;
	p = memchr(p, '\n', in->ev_len);	/* skip the header */
	if (p == NULL)
		die(path, "no header line");
	p++;
	while (p < e) {
		if (*p == '\n' || (*p == '\r' && p + 1 < e && p[1] == '\n')) {
			p += *p == '\r' ? 2 : 1;	/* empty lines are not rows */
			continue;
		}
		if (in->n == in->cap) {
			in->cap = in->cap ? in->cap * 2 : 1 << 16;
			in->rows = realloc(in->rows, in->cap * sizeof(*in->rows));
			if (in->rows == NULL)
				die(path, "out of memory");
		}
		p = split_row(p, e, &in->rows[in->n++], in->ev);
	}
}

static void load_canon(floor_in_t *in, const char *path)
{
	size_t i = 0;
	const char *p, *e;
	in->canon = slurp(path, &in->canon_len);
	p = in->canon;
	e = p + in->canon_len;
	while (p < e && i < in->n) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		in->rows[i].canon_off = (uint64_t)(p - in->canon);
		in->rows[i].canon_len = (uint32_t)(nl - p);
		i++;
		p = nl + 1;
	}
	if (i != in->n || p < e)
		die(path, "line count differs from the events rows");
}

typedef struct floor_db {
	MDB_env *env;
	MDB_dbi events, codes, settle;
} floor_db_t;

static void db_open(floor_db_t *db, const char *dir)
{
	char path[4096];
	struct stat st;
	MDB_txn *txn;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die(dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == 0)
		die(dir, "holds an environment already; the floor needs a fresh one");
	mdb_check(mdb_env_create(&db->env), "mdb_env_create");
	mdb_check(mdb_env_set_mapsize(db->env, FLOOR_MAPSIZE), "mdb_env_set_mapsize");
	mdb_check(mdb_env_set_maxdbs(db->env, 4), "mdb_env_set_maxdbs");
	mdb_check(mdb_env_open(db->env, dir, 0, 0644), "mdb_env_open");
	mdb_check(mdb_txn_begin(db->env, NULL, 0, &txn), "mdb_txn_begin");
	mdb_check(mdb_dbi_open(txn, "events", MDB_CREATE, &db->events), "open events");
	mdb_check(mdb_dbi_open(txn, "codes", MDB_CREATE, &db->codes), "open codes");
	mdb_check(mdb_dbi_open(txn, "settle", MDB_CREATE, &db->settle), "open settle");
	mdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
}

/* Append len bytes to a key of n bytes, truncating at FLOOR_KEY_MAX. */
static size_t key_add(char *k, size_t n, const void *p, size_t len)
{
	if (len > FLOOR_KEY_MAX - n)
		len = FLOOR_KEY_MAX - n;
	memcpy(k + n, p, len);
	return n + len;
}

/* The three writes of one row. */
static void replay_row(const floor_in_t *in, const floor_db_t *db, MDB_txn *txn, uint64_t seq)
{
	const floor_row_t *r = &in->rows[seq];
	const char *row = in->ev + r->off, *canon = in->canon + r->canon_off;
	unsigned char k8[8];
	for (int i = 0; i < 8; i++)
		k8[i] = (unsigned char)(seq >> (56 - 8 * i));
	MDB_val key = { 8, k8 }, val = { r->len, (void *)row };
	mdb_check(mdb_put(txn, db->events, &key, &val, MDB_APPEND), "put event");
	if (r->canon_len == 0)
		return;	/* malformed or broken row: no code state */

	floor_state_t st;
	key = (MDB_val){ r->canon_len, (void *)canon };
	int rc = mdb_get(txn, db->codes, &key, &val);
	if (rc == MDB_SUCCESS && val.mv_size == sizeof(st)) {
		memcpy(&st, val.mv_data, sizeof(st));
	} else {
		if (rc != MDB_NOTFOUND)
			mdb_check(rc, "get code");
		memset(&st, 0, sizeof(st));
		st.units_left = 24;
	}
	st.last_seq = seq;
	st.events++;
	st.units_left -= st.units_left > 0;
	memcpy(st.holder, row + r->fac_off, r->fac_len < sizeof(st.holder) ? r->fac_len : sizeof(st.holder));
	val = (MDB_val){ sizeof(st), &st };
	mdb_check(mdb_put(txn, db->codes, &key, &val, 0), "put code");
	if (r->sett_len == 0)
		return;

	char sk[FLOOR_KEY_MAX];
	size_t n = key_add(sk, 0, row + r->fac_off, r->fac_len);
	n = key_add(sk, n, "", 1);
	n = key_add(sk, n, row + r->sett_off, r->sett_len);
	n = key_add(sk, n, "", 1);
	n = key_add(sk, n, canon, r->canon_len);
	key = (MDB_val){ n, sk };
	val = (MDB_val){ 8, k8 };
	mdb_check(mdb_put(txn, db->settle, &key, &val, 0), "put settlement");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double replay(const floor_in_t *in, const floor_db_t *db)
{
	MDB_txn *txn = NULL;
	double t0 = now_s();
	for (uint64_t seq = 0; seq < in->n; seq++) {
		if (txn == NULL)
			mdb_check(mdb_txn_begin(db->env, NULL, 0, &txn), "mdb_txn_begin");
		replay_row(in, db, txn, seq);
		if ((seq + 1) % FLOOR_BATCH == 0) {
			mdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
			txn = NULL;
		}
	}
	if (txn != NULL)
		mdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	floor_in_t in;
	floor_db_t db;
	char canon_path[4096];
	MDB_envinfo info;
	MDB_stat st;

	if (argc < 3 || argc > 4 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: bench_floor EVENTS.csv DBDIR [CANON]\n"
			"  CANON defaults to EVENTS.csv with .csv replaced by .canon\n"
			"  (yima gen --canon-out writes it).\n");
		return 2;
	}
	if (argc == 4) {
		snprintf(canon_path, sizeof(canon_path), "%s", argv[3]);
	} else {
		size_t n = strlen(argv[1]);
		if (n > 4 && strcmp(argv[1] + n - 4, ".csv") == 0)
			n -= 4;
		snprintf(canon_path, sizeof(canon_path), "%.*s.canon", (int)n, argv[1]);
	}
	memset(&in, 0, sizeof(in));
	memset(&db, 0, sizeof(db));
	load_events(&in, argv[1]);
	load_canon(&in, canon_path);
	if (in.n == 0)
		die(argv[1], "no data rows");
	db_open(&db, argv[2]);

	double secs = replay(&in, &db);

	mdb_check(mdb_env_info(db.env, &info), "mdb_env_info");
	mdb_check(mdb_env_stat(db.env, &st), "mdb_env_stat");
	double bytes = (double)(info.me_last_pgno + 1) * st.ms_psize;
	printf("floor events=%zu seconds=%.3f events_per_s=%.0f bytes_per_event=%.1f\n",
	       in.n, secs, (double)in.n / secs, bytes / (double)in.n);
	mdb_env_close(db.env);
	free(in.rows);
	free(in.ev);
	free(in.canon);
	return 0;
}
