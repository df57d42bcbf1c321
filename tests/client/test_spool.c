/*
 * test_spool.c - the upload spool (verifier/spool.c) against its contract
 * in yima/spool.h: batches come back in the order they were put, with
 * their bytes and what the spool keeps about them; a delivered batch is
 * gone; everything survives closing and reopening; keys are never reused;
 * a batch id waits once; one writer at a time.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yima/util/error.h"
#include "yima/client/spool.h"

static char *dir;
static char why[512];

static void setup(void)
{
	dir = tu_mkdtemp();
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

TestSuite(spool, .init = setup, .fini = teardown);

static spool_t *open_rw(const char *d)
{
	spool_t *sp;
	cr_assert_eq(spool_open(d, 0, &sp, why, sizeof why), 0, "%s", why);
	return sp;
}

static uint64_t put(spool_t *sp, const char *id, const char *body, size_t n, uint64_t events,
		    uint64_t first_line, int64_t created)
{
	spool_meta_t m = {
		.batch_id = yima_slice_cstr(id),
		.source = yima_slice_cstr("day1.csv"),
		.events = events,
		.first_line = first_line,
		.created = created,
	};
	uint64_t key = 0;
	cr_assert_eq(spool_put(sp, &m, body, n, &key), 0, "put %s", id);
	return key;
}

/* The ids of every waiting batch, oldest first, joined by spaces. */
static void waiting(spool_t *sp, char *out, size_t n)
{
	spool_entry_t e;
	spool_storage_t st = { 0 };
	uint64_t after = 0;
	size_t len = 0;
	int rc;

	out[0] = '\0';
	while ((rc = spool_next(sp, after, &e, &st)) == 1) {
		len += (size_t)snprintf(out + len, n - len, "%s%.*s", len ? " " : "",
					(int)e.meta.batch_id.n, e.meta.batch_id.p);
		cr_assert_gt(e.key, after, "keys grow");
		after = e.key;
	}
	cr_assert_eq(rc, 0);
	spool_storage_deinit(&st);
}

Test(spool, put_next_round_trip)
{
	spool_t *sp = open_rw(dir);
	static const char body[] = "\x0a\x03" "abc\x00\xff tail";	/* NULs kept */
	spool_entry_t e;
	spool_storage_t st = { 0 };

	uint64_t k = put(sp, "f00d-1-100", body, sizeof body - 1, 100, 1, 1767225600);
	cr_assert_eq(spool_next(sp, 0, &e, &st), 1);
	cr_assert_eq(e.key, k);
	cr_assert(yima_slice_eq_cstr(e.meta.batch_id, "f00d-1-100"));
	cr_assert(yima_slice_eq_cstr(e.meta.source, "day1.csv"));
	cr_assert_eq(e.meta.events, 100);
	cr_assert_eq(e.meta.first_line, 1);
	cr_assert_eq(e.meta.created, 1767225600);
	cr_assert_eq(e.body_len, sizeof body - 1);
	cr_assert_eq(memcmp(e.body, body, e.body_len), 0);
	cr_assert_eq(spool_next(sp, e.key, &e, &st), 0, "nothing after the last");
	spool_storage_deinit(&st);
	spool_close(sp);
}

Test(spool, delivery_order_and_delete)
{
	spool_t *sp = open_rw(dir);
	char list[256];

	uint64_t k1 = put(sp, "a-1-2", "x", 1, 2, 1, 10);
	uint64_t k2 = put(sp, "a-3-4", "y", 1, 2, 3, 11);
	uint64_t k3 = put(sp, "a-5-5", "z", 1, 1, 5, 12);
	cr_assert(k1 < k2 && k2 < k3, "keys in put order");
	waiting(sp, list, sizeof list);
	cr_assert_str_eq(list, "a-1-2 a-3-4 a-5-5");

	cr_assert_eq(spool_delete(sp, k2), 0);
	waiting(sp, list, sizeof list);
	cr_assert_str_eq(list, "a-1-2 a-5-5");
	cr_assert_eq(spool_delete(sp, k2), YIMA_ENOTFOUND, "deleted once");

	cr_assert_eq(spool_delete(sp, k1), 0);
	waiting(sp, list, sizeof list);
	cr_assert_str_eq(list, "a-5-5", "the oldest left comes first");
	spool_close(sp);
}

Test(spool, persists_across_reopen_and_keys_never_reused)
{
	spool_t *sp = open_rw(dir);
	char list[256];
	uint64_t k1 = put(sp, "b-1-1", "1", 1, 1, 1, 20);
	put(sp, "b-2-2", "2", 1, 1, 2, 21);
	spool_close(sp);

	sp = open_rw(dir);
	waiting(sp, list, sizeof list);
	cr_assert_str_eq(list, "b-1-1 b-2-2", "both survive a reopen");
	/* deliver everything, then put again: the new key is past the old */
	spool_entry_t e;
	spool_storage_t st = { 0 };
	uint64_t last = 0;
	while (spool_next(sp, 0, &e, &st) == 1) {
		last = e.key;
		cr_assert_eq(spool_delete(sp, e.key), 0);
	}
	spool_storage_deinit(&st);
	spool_close(sp);

	sp = open_rw(dir);
	uint64_t k3 = put(sp, "b-3-3", "3", 1, 1, 3, 22);
	cr_assert_gt(k3, last, "keys only grow, even over an empty spool");
	cr_assert_gt(k3, k1);
	spool_close(sp);
}

Test(spool, batch_id_waits_once)
{
	spool_t *sp = open_rw(dir);
	spool_meta_t m = { .batch_id = yima_slice_cstr("c-1-9"), .source = yima_slice_cstr("-"),
			   .events = 9, .first_line = 1 };
	uint64_t key;
	char list[256];

	cr_assert_eq(spool_put(sp, &m, "one", 3, &key), 0);
	cr_assert_eq(spool_put(sp, &m, "two", 3, NULL), YIMA_EEXIST, "a rerun finds it waiting");
	waiting(sp, list, sizeof list);
	cr_assert_str_eq(list, "c-1-9");

	uint64_t found = 0;
	cr_assert_eq(spool_find(sp, m.batch_id, &found), 0);
	cr_assert_eq(found, key);
	cr_assert_eq(spool_find(sp, yima_slice_cstr("nope"), &found), YIMA_ENOTFOUND);

	/* once delivered, the same id may wait again (a later rerun) */
	cr_assert_eq(spool_delete(sp, key), 0);
	cr_assert_eq(spool_find(sp, m.batch_id, &found), YIMA_ENOTFOUND);
	cr_assert_eq(spool_put(sp, &m, "three", 5, NULL), 0);
	spool_close(sp);
}

Test(spool, bad_ids_refused)
{
	spool_t *sp = open_rw(dir);
	char longid[130];
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	spool_meta_t m = { .batch_id = yima_slice_cstr(""), .source = yima_slice_cstr("-") };

	cr_assert_eq(spool_put(sp, &m, "x", 1, NULL), YIMA_EINVAL, "empty id (protocol: 1..128 bytes)");
	m.batch_id = yima_slice_cstr(longid);
	cr_assert_eq(spool_put(sp, &m, "x", 1, NULL), YIMA_EINVAL, "129-byte id");
	m.batch_id = yima_slice(longid, 128);
	cr_assert_eq(spool_put(sp, &m, "x", 1, NULL), 0, "128 bytes is the limit");
	spool_close(sp);
}

Test(spool, stat_counts_what_waits)
{
	spool_t *sp = open_rw(dir);
	spool_stat_t ss;

	cr_assert_eq(spool_stat(sp, &ss), 0);
	cr_assert_eq(ss.batches, 0);
	cr_assert_eq(ss.oldest, 0);
	put(sp, "d-1", "x", 1, 5000, 1, 300);
	uint64_t k = put(sp, "d-2", "x", 1, 17, 5001, 200);
	put(sp, "d-3", "x", 1, 3, 5018, 400);
	cr_assert_eq(spool_stat(sp, &ss), 0);
	cr_assert_eq(ss.batches, 3);
	cr_assert_eq(ss.events, 5020);
	cr_assert_eq(ss.oldest, 200);
	cr_assert_eq(spool_delete(sp, k), 0);
	cr_assert_eq(spool_stat(sp, &ss), 0);
	cr_assert_eq(ss.batches, 2);
	cr_assert_eq(ss.events, 5003);
	cr_assert_eq(ss.oldest, 300);
	spool_close(sp);
}

Test(spool, one_writer_readers_free)
{
	spool_t *a = open_rw(dir), *b, *r;
	spool_stat_t ss;

	put(a, "e-1", "x", 1, 1, 1, 1);
	cr_assert_eq(spool_open(dir, 0, &b, why, sizeof why), YIMA_EBUSY, "second writer");
	cr_assert(strstr(why, "in use") != NULL, "%s", why);
	cr_assert_eq(spool_open(dir, SPOOL_RDONLY, &r, why, sizeof why), 0, "%s", why);
	cr_assert_eq(spool_stat(r, &ss), 0);
	cr_assert_eq(ss.batches, 1);
	spool_close(r);
	spool_close(a);
	b = open_rw(dir);	/* the lock went with the first handle */
	spool_close(b);
}

Test(spool, creates_parents_and_read_only_needs_a_spool)
{
	char *deep = NULL, *none = NULL;
	spool_t *sp;

	cr_assert(asprintf(&deep, "%s/state/yima/spool", dir) > 0);
	cr_assert(asprintf(&none, "%s/missing", dir) > 0);
	cr_assert_eq(spool_open(none, SPOOL_RDONLY, &sp, why, sizeof why), YIMA_ENOTFOUND);
	sp = open_rw(deep);
	spool_close(sp);
	cr_assert_eq(spool_open(deep, SPOOL_RDONLY, &sp, why, sizeof why), 0, "%s", why);
	spool_close(sp);
	free(deep);
	free(none);
}

Test(spool, default_dir)
{
	char buf[256];
	char *old_state = getenv("XDG_STATE_HOME") ? strdup(getenv("XDG_STATE_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	setenv("XDG_STATE_HOME", "/var/st", 1);
	setenv("HOME", "/home/u", 1);
	cr_assert_eq(spool_default_dir(buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/var/st/yima/spool");
	setenv("XDG_STATE_HOME", "relative", 1);	/* XDG: ignored */
	cr_assert_eq(spool_default_dir(buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u/.local/state/yima/spool");
	unsetenv("XDG_STATE_HOME");
	cr_assert_eq(spool_default_dir(buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u/.local/state/yima/spool");
	cr_assert_eq(spool_default_dir(buf, 8), YIMA_ETOOBIG);
	unsetenv("HOME");
	cr_assert_eq(spool_default_dir(buf, sizeof buf), YIMA_ENOTFOUND);

	if (old_state)
		setenv("XDG_STATE_HOME", old_state, 1);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_state);
	free(old_home);
}
