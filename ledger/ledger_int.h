/*
 * ledger_int.h - what the ledger's own files share: the environment and
 * transaction structs, the sub-database handles, the admin record kinds.
 * Nothing outside ledger/ (and audit) includes this.
 */
#ifndef YIMA_LEDGER_INT_H
#define YIMA_LEDGER_INT_H

#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "yima/util/buf.h"
#include "yima/util/lmdb_err.h"
#include "yima/util/error.h"
#include "yima/ledger/ledger.h"
#include "yima/tlog/merkle.h"
#include "yima/tlog/note.h"
#include "yima/tlog/store.h"

enum ledger_db {
	DB_META,
	DB_EVENTS,
	DB_ADMIN,
	DB_CODES,
	DB_SETTLE,
	DB_CATALOG,
	DB_RECALLS,
	DB_FILES,
	DB_CLAIMS,
	DB_BATCHES,
	DB_PATIENTS,
	DB_PATIENT_LINKS,
	DB_TREE,		/* tree.c: stored tree hashes */
	DB_TREE_ADMIN,		/* tree.c: index -> admin record key */
	DB_AUX,		/* a cluster view's side tables (aux.c) */
	DB_COUNT
};

extern const char *const ledger_db_names[DB_COUNT];

struct ledger {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	unsigned flags;
	bool has_key;
	uint8_t mac_key[32];
	EVP_MD *sha256;
	EVP_MAC *hmac;
	char *dir;
	int writers_fd;		/* flock(LOCK_SH) while this process may write */
	/* LMDB forbids changing the map size while any transaction of the
	 * process is open: read transactions hold this shared, a resize
	 * takes it exclusive (yimad reads on one thread, writes on another). */
	pthread_rwlock_t maplock;
	/* Tables a read-only open did not find (a ledger written before they
	 * existed: claims, batches): read as empty. */
	unsigned absent;
	/* MDB_WRITEMAP: data.mdb is allocated up to here (mapsize.c). */
	size_t alloc_end;
	/* The verifiable log (log.c): the signing key once the log exists,
	 * the origin asked for by ledger_log_start(), and why the last
	 * setting up of the log failed (it runs inside ledger_txn_begin). */
	note_signer_t *signer;
	char origin_wanted[NOTE_NAME_MAX + 1];
	char log_why[256];
};

static inline bool ledger_table_absent(const ledger_t *lg, int db)
{
	return (lg->absent >> db) & 1u;
}

/* Internal open flag: this process maps with MDB_WRITEMAP (mapsize.c). */
#define LEDGER_WRITEMAP (1u << 16)

size_t ledger_map_initial(ledger_t *lg);
int ledger_map_writer_register(ledger_t *lg);
/* Before LMDB maps lock.mdb: back it with disk blocks.  YIMA_ENOSPACE when
 * a new lock file cannot be. */
int ledger_map_lockfile(ledger_t *lg);
/* Before a write transaction: grow the map to leave room for it, every
 * byte of it allocated on disk.  YIMA_ENOSPACE when not even the file as
 * it is can be backed. */
int ledger_map_reserve(ledger_t *lg);
/* At close: cut the file to the pages in use if no other writer is open. */
void ledger_map_shrink(ledger_t *lg);

/* A direct-mapped cache of catalog lookups for one transaction: the
 * catalog is small and read for every event.  Cleared on any catalog
 * write in the transaction. */
#define CATCACHE_SLOTS 4096

struct catcache_slot {
	uint8_t state;			/* 0 empty, 1 present, 2 absent */
	uint8_t plen;
	char product[CODE_PRODUCT_MAX];
	char drug[33];
	uint64_t pack_units;
	uint64_t max_units_30d;
};

struct ledger_txn {
	ledger_t *lg;
	MDB_txn *mdb;
	bool write;
	bool map_locked;		/* holds lg->maplock shared */
	int err;			/* sticky: the first failure wins */
	bool meta_dirty;
	uint64_t events;		/* event records so far */
	uint64_t admin;			/* admin records so far */
	uint32_t refund_window;		/* days, as last recorded */
	uint8_t head[LEDGER_HASH_LEN];	/* chain head */
	EVP_MD_CTX *md;
	EVP_MAC_CTX *mac;		/* keyed once, reinitialized per use */
	MDB_cursor *settle_cur;		/* reused by every settlement scan */
	struct patient_heads *heads;	/* patient chain heads read or moved
					 * (patient_heads.c); lazily made */
	MDB_cursor *admin_cur;		/* reused by ledger_event_index */
	int64_t recalls;		/* entries on the recall list, -1 unknown */
	struct catcache_slot *catcache;	/* lazily allocated */
	buf_t scratch;			/* encoding buffer, reused */
	struct ledger_tree *tree;	/* write txns: the Merkle tree (tree.c) */
	merkle_hasher_t hasher;		/* lazily initialized (tree.c) */
};

/* Event record layouts (byte 0 of an event record): 1 as first written;
 * 2 the same with the patient chain fields (record.c), written for an
 * applied dispense with a patient.  Every other event record is still
 * written in layout 1, byte for byte as before. */
enum {
	RECORD_LAYOUT_1 = 1,
	RECORD_LAYOUT_PATIENT = 2,
};

/* The layout byte of a `codes` value (codes.c). */
#define CODES_LAYOUT 1

/* Record kinds: byte 1 of every chained record (byte 0 is the layout). */
enum rec_kind {
	KIND_EVENT = 1,
	KIND_CATALOG = 2,
	KIND_RECALL_ADD = 3,
	KIND_RECALL_REMOVE = 4,
	KIND_REFUND_WINDOW = 5,
	KIND_BATCH = 6,
};


/* The end of a cursor scan (closes cur): rc is what the loop ended with,
 * mrc the cursor's last return, ours whether rc is the ledger's own failure
 * (a record that did not decode).  A cursor error or our failure fails the
 * transaction; a callback's error or stop (rc > 0: 0) is returned as is. */
int ledger_scan_end(ledger_txn_t *txn, MDB_cursor *cur, int rc, int mrc, bool ours);

/* Record a failure in txn (if none yet) and return the sticky error. */
static inline int ledger_txn_fail(ledger_txn_t *txn, int err)
{
	if (txn->err == 0)
		txn->err = err;
	return txn->err;
}

/* The end of a read: YIMA_ENOTFOUND is an answer and leaves txn as it
 * was; any other error is a failed read and, as a failed write does, fails
 * the transaction (the contract of ledger.h holds for reads too). */
static inline int ledger_txn_read(ledger_txn_t *txn, int rc)
{
	if (rc < 0 && rc != YIMA_ENOTFOUND)
		return ledger_txn_fail(txn, rc);
	return rc;
}

static inline MDB_dbi ledger_dbi(const ledger_txn_t *txn, enum ledger_db db)
{
	return txn->lg->dbi[db];
}

/* Patient chains (patients.c): a chain per (bucket of time, patient).
 * The bucket of an instant's seconds; the `patients` key of a bucket and
 * a patient hash (its first 6 bytes); writing a head. */
#define PATIENT_BUCKET_SEC (8 * 86400)
#define PATIENT_KEY_LEN 10
int64_t ledger_patient_bucket(int64_t sec);
void ledger_patient_key(uint8_t key[PATIENT_KEY_LEN], int64_t bucket, const uint8_t *mac);
int ledger_patient_head_put(MDB_txn *t, MDB_dbi dbi, const uint8_t key[PATIENT_KEY_LEN], uint64_t seq);

/* Make ev, about to be appended as event seq, the head of its (bucket,
 * patient) chain: sets its prev_patient_seq.  A record kept in layout 1
 * (ev->layout == RECORD_LAYOUT_1: the audit replaying a record written
 * before chains existed) has its link in `patient_links` instead. */
int ledger_patient_link(ledger_txn_t *txn, ledger_event_t *ev, uint64_t seq);

/* The heads a write transaction moved (patient_heads.c), by `patients`
 * key: get (false: not moved here), set (to be written back), flush
 * (write them back in key order and forget them; at commit, or when the
 * cache is full), free. */
bool ledger_heads_get(ledger_txn_t *txn, const uint8_t key[PATIENT_KEY_LEN], uint64_t *seq);
int ledger_heads_set(ledger_txn_t *txn, const uint8_t key[PATIENT_KEY_LEN], uint64_t seq);
int ledger_heads_flush(ledger_txn_t *txn);
void ledger_heads_free(ledger_txn_t *txn);

/* A ledger opened for writing whose layout predates patient chains: link
 * its records into chains (patient_links) in t, before anything else is
 * written (patients.c).  Returns 0 or an error. */
int ledger_patients_migrate(ledger_t *lg, MDB_txn *t);

/* The layout version stored in meta (1 if none). */
uint8_t ledger_meta_layout(ledger_txn_t *txn);

/* h = SHA-256(prev || bytes) */
int ledger_chain_hash(ledger_txn_t *txn, const uint8_t prev[LEDGER_HASH_LEN],
		      const void *bytes, size_t n, uint8_t out[LEDGER_HASH_LEN]);

/* Admin record layouts (byte 0 of an admin record).  1: every kind as
 * first written.  2: the layout-1 body followed by a field added later:
 * a KIND_BATCH record's 32-byte content digest, a KIND_CATALOG record's
 * varint max_units_30d (a row with a limit).  Everything else is still
 * written in layout 1, so its bytes (and the chain over them) never
 * change; a batch recorded before the digest existed, or a catalog row
 * without a limit, stays layout 1 and is replayed as such. */
enum {
	ADMIN_LAYOUT_1 = 1,
	ADMIN_LAYOUT_BATCH_DIGEST = 2,
	ADMIN_LAYOUT_CATALOG_LIMIT = 2,
};

/* Append an admin record whose body (after layout and kind bytes) the
 * caller encoded into body; chains it.  ledger_admin_append() writes
 * layout 1. */
int ledger_admin_append(ledger_txn_t *txn, enum rec_kind kind, const buf_t *body);
int ledger_admin_append_layout(ledger_txn_t *txn, uint8_t layout, enum rec_kind kind,
			       const buf_t *body);
int ledger_admin_decode(const void *key, size_t klen, const void *val,
			size_t vlen, ledger_admin_t *a);

/* ---- the Merkle tree and the signed log (tree.c, log.c, tree_check.c) ---- */

/* The transaction's hasher, initialized on first use; NULL on failure. */
merkle_hasher_t *ledger_txn_hasher(ledger_txn_t *txn);
/* Write transactions: load the tree's frontier, or set the log up (a
 * ledger without one: ledger_log_setup).  Freed by ledger_tree_free. */
int ledger_tree_begin(ledger_txn_t *txn, char *why, size_t whylen);
void ledger_tree_free(ledger_txn_t *txn);
/* Append the record just stored (its LMDB value) as the next entry;
 * admin_key (16 bytes) when it is an admin record.  Sticky errors. */
int ledger_tree_append(ledger_txn_t *txn, const void *entry, size_t len, const uint8_t *admin_key);
uint64_t ledger_tree_size(const ledger_txn_t *txn);
bool ledger_tree_changed(const ledger_txn_t *txn);
int ledger_tree_root(ledger_txn_t *txn, uint8_t root[MERKLE_HASH_SIZE]);
char *ledger_tree_note(ledger_txn_t *txn, size_t *len);
void ledger_tree_note_keep(ledger_txn_t *txn, char *note, size_t len);
int ledger_tree_flush(ledger_txn_t *txn);
/* A reader of the stored tree (and of txn's own appends); rd must outlive
 * r.  Returns 0 or YIMA_ECRYPTO. */
int ledger_tree_reader(ledger_txn_t *txn, merkle_store_rd_t *rd, merkle_reader_t *r);

/* log.c: load the key of a log that exists; set the log up in txn; at
 * commit, flush the tree and sign a checkpoint. */
int ledger_log_key(ledger_txn_t *txn, char *why, size_t whylen);
int ledger_log_setup(ledger_txn_t *txn, char *why, size_t whylen);
int ledger_log_commit(ledger_txn_t *txn);

/* walk.c: every record in chain order with its stored bytes (the chain
 * checked on the way); admin_key is NULL for an event. */
typedef int (*ledger_entry_fn)(void *arg, const void *val, size_t len, const uint8_t *admin_key);
int ledger_chain_walk_raw(ledger_txn_t *txn, ledger_entry_fn fn, void *arg, char *why, size_t whylen);

/* tree.c: the stored tree against the records, for the walk. */
typedef struct tree_check tree_check_t;
int ledger_tree_check_new(ledger_txn_t *txn, tree_check_t **out, char *why, size_t whylen);
int ledger_tree_check_entry(void *chk, const void *val, size_t len, const uint8_t *admin_key);
int ledger_tree_check_end(tree_check_t *c, char *why, size_t whylen);
void ledger_tree_check_free(tree_check_t *c);


#endif
