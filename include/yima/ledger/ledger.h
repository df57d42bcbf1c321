/*
 * ledger.h - the append-only, tamper-evident LMDB ledger.
 *
 * One LMDB environment per ledger directory holds:
 *   events   seq (u64 BE, 1, 2, ...) -> event record   (append-only)
 *   admin    (after_event u64 BE, admin seq u64 BE) -> admin record
 *            (catalog rows, recall changes, settings: append-only)
 *   codes    canonical code -> code state (spec section 4) + history head
 *   settle   (facility, settlement, code, seq) -> type, verdict, units
 *   catalog  product id -> drug code, name, spec, pack units
 *   recalls  kind + key -> ""
 *   files    SHA-256 of an ingested file -> rows, time
 *   claims   (facility, settlement) -> accepted yimad claim: its records
 *            and content hash (idempotent retries, 409 on conflict)
 *   batches  (facility, batch id) -> the records of a yimad event batch
 *            (chained as an admin record, so audit covers it)
 *   patients (8-day bucket, patient hash prefix) -> newest record of that
 *            chain (spec section 7: a patient's applied dispenses of
 *            the bucket, back-linked through the records themselves)
 *   meta     layout version, event count, admin count, chain head,
 *            the log's origin, verifier key, tree head and checkpoint
 *   tree, tree_admin  the records as an RFC 9162 Merkle tree (section 8)
 *
 * Every event and admin record carries h = SHA-256(h_prev || record
 * bytes), h_0 = 32 zero bytes, in chain order: admin records made after
 * event k sort between events k and k+1.  Event seqs count event records
 * only (1..N without gaps), so a seq is also "the Nth event ever
 * recorded".  A code's history is a back-linked list through the event
 * records (prev_code_seq), headed by the code state: no per-event index
 * entry, so history costs 8 bytes an event and a lookup walks only that
 * code's records.  docs/ledger.md has the byte layouts.
 *
 * Transactions: one write transaction at a time (LMDB's rule), any number
 * of readers that never wait for it.  Errors inside a transaction are
 * sticky: after the first failure every later call returns that error,
 * so a caller checks once, at commit.  Reads keep the same contract: a
 * read that fails (an LMDB error, a stored value that does not decode, a
 * bad argument) fails the transaction like a failed write; YIMA_ENOTFOUND
 * is an answer, not a failure, and leaves the transaction as it was (a
 * key that could never have been stored, e.g. a part over 255 bytes, is
 * simply not found).  Callbacks' own errors (scan functions) are returned
 * as they are and do not fail the transaction.
 */
#ifndef YIMA_LEDGER_H
#define YIMA_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yima/core/code.h"
#include "yima/core/event.h"
#include "yima/core/finding.h"
#include "yima/util/slice.h"

/* The ledger's layout version, kept in meta: 2 since event records of
 * applied dispenses with a patient carry their patient chain (record
 * layout 2, docs/ledger.md).  A yima refuses a ledger of a later layout;
 * a writer raises an older ledger's to this one, so an older yima, which
 * could not read layout-2 records, refuses it rather than misread it. */
#define LEDGER_LAYOUT 2
#define LEDGER_HASH_LEN 32
#define LEDGER_MAC_LEN 32
#define LEDGER_PROOF_MAX 64	/* hashes in a proof (MERKLE_MAX_PROOF) */

typedef struct ledger ledger_t;
typedef struct ledger_txn ledger_txn_t;

enum ledger_open_flags {
	LEDGER_RDONLY = 1 << 0,	/* read only */
	LEDGER_CREATE = 1 << 1,	/* make a new ledger if there is none: in a
				 * missing directory (one level) or an
				 * empty one; without it, no ledger at dir
				 * is YIMA_ENOTFOUND for every open */
	LEDGER_NOSYNC = 1 << 2,	/* no fsync at commit (scratch ledgers for
				 * audit replay, never for evidence) */
	LEDGER_SMALL_COMMITS = 1 << 3,	/* a writer of many small commits from
					 * several threads (yimad): no
					 * MDB_WRITEMAP (see mapsize.c), and
					 * one flush per commit: a commit is
					 * durable only after the next one or
					 * ledger_sync() (MDB_NOMETASYNC) */
};

/*
 * Open (and with LEDGER_CREATE, initialize) the ledger in dir.  On first
 * initialization a random patient-hash key is written to dir/patient.key
 * (mode 0600); it is never printed.  Returns 0 with *out set, or an error
 * with why filled: YIMA_ENOTFOUND when dir holds no ledger (no
 * dir/data.mdb) and LEDGER_CREATE is not given, YIMA_EEXIST when it is
 * but dir is a directory holding other files.  Free with ledger_close().
 */
int ledger_open(const char *dir, unsigned flags, ledger_t **out,
		char *why, size_t whylen);
void ledger_close(ledger_t *lg);
const char *ledger_dir(const ledger_t *lg);

/* The address range LMDB mapped the ledger file into.  Every slice a read
 * returns points into it, so a fault at an address inside it is a read
 * that the file's own pages sent astray (a corrupt or truncated file),
 * while a fault elsewhere is not (`yima audit` tells them apart).  A
 * read-only ledger's map does not move while it is open.  Returns 0 or a
 * ledger error. */
int ledger_map_range(const ledger_t *lg, const void **base, size_t *len);

/* Flush every committed transaction to disk (LEDGER_SMALL_COMMITS:
 * what makes the last commit durable).  Returns 0 or YIMA_EIO. */
int ledger_sync(ledger_t *lg);

/* Begin a transaction (write or read-only).  Returns 0 or an error. */
int ledger_txn_begin(ledger_t *lg, bool write, ledger_txn_t **out);
/* Commit (durably, unless LEDGER_NOSYNC) and free.  If an earlier call in
 * the transaction failed, aborts instead and returns that error. */
int ledger_txn_commit(ledger_txn_t *txn);
/* Abort and free; NULL is a no-op. */
void ledger_txn_abort(ledger_txn_t *txn);
/* The sticky error of txn (0 if none). */
int ledger_txn_err(const ledger_txn_t *txn);
ledger_t *ledger_txn_ledger(const ledger_txn_t *txn);

/* Counters and chain head as seen by txn. */
uint64_t ledger_event_count(const ledger_txn_t *txn);
uint64_t ledger_admin_count(const ledger_txn_t *txn);
void ledger_head(const ledger_txn_t *txn, uint8_t head[LEDGER_HASH_LEN]);

/* Keyed hash of a patient id with the ledger's key (HMAC-SHA256). */
int ledger_patient_mac(ledger_txn_t *txn, const char *id, size_t n,
		       uint8_t mac[LEDGER_MAC_LEN]);

/* Keyed hash of a content digest (a SHA-256 over request content that may
 * hold patient ids in clear): HMAC-SHA256 with the ledger's key over a
 * fixed tag and the digest, so a stored value gives nothing to guess
 * patient ids against.  Returns 0 or an error (no key: YIMA_EINVAL). */
int ledger_content_mac(ledger_txn_t *txn, const uint8_t digest[LEDGER_HASH_LEN],
		       uint8_t mac[LEDGER_MAC_LEN]);

/* ---- event records ---------------------------------------------------- */

enum rec_status {
	REC_OK = 0,		/* the code normalized; fields are the event */
	REC_MALFORMED = 1,	/* code did not normalize: code = raw field */
	REC_BAD = 2,		/* the row broke section 3: raw row kept */
};

/* Records of a yimad settlement claim (spec section 6): its codes are
 * consecutive records, the last one marked; a claim rejected as a whole
 * has every record marked void (rejected, no state change, even for a
 * code that had no finding of its own).  Audit replays them as one. */
enum ledger_claim_flags {
	LEDGER_CLAIM_ITEM = 1,
	LEDGER_CLAIM_LAST = 2,
	LEDGER_CLAIM_VOID = 4,
};

/* An event record, decoded.  Slices point into the transaction's snapshot
 * (valid until the transaction ends) or, when filled by a caller for
 * ledger_event_append(), into the caller's memory. */
typedef struct ledger_event {
	uint64_t seq;			/* set by append */
	enum rec_status status;
	enum event_type type;
	yima_time_t time;
	yima_slice_t facility;
	yima_slice_t code;		/* canonical, or raw when malformed */
	yima_slice_t drug;
	yima_slice_t settlement;
	yima_slice_t counterparty;
	yima_slice_t batch;		/* AI 10 of the scan, may be empty */
	bool has_expiry;
	uint16_t exp_year;
	uint8_t exp_month, exp_day;
	bool has_qty;
	uint64_t qty;			/* as given (has_qty) */
	uint64_t units;			/* dispense/refund: qty, or pack units
					 * when qty was empty; 0 if unknown */
	bool has_patient;
	uint8_t patient_mac[LEDGER_MAC_LEN];
	enum verdict verdict;
	finding_set_t findings;
	uint64_t prev_code_seq;		/* previous event of the same code */
	/* The patient chains (spec section 7): every applied (accepted or
	 * warned) dispense with a patient is a link of the chain of its
	 * patient and its 8-day bucket of time, newest first.  The caller of
	 * ledger_event_append() sets patient_link and patient_drug; append
	 * sets the rest. */
	uint8_t layout;			/* decoded: 1 or 2.  Append: 0 = as
					 * written now; 1 = layout 1, outside
					 * any chain (audit replay of a record
					 * written before chains existed) */
	bool patient_link;		/* in its patient's chain (layout 2) */
	yima_slice_t patient_drug;	/* the drug code it counts under: its
					 * product's catalog drug code when it
					 * was recorded */
	uint64_t prev_patient_seq;	/* the chain's previous record, 0 none */
	unsigned claim;			/* enum ledger_claim_flags */
	yima_slice_t reason;		/* BAD_RECORD / MALFORMED reason */
	yima_slice_t raw;		/* REC_BAD: the row, at most 4 KiB */
	uint8_t hash[LEDGER_HASH_LEN];	/* set by append / decode */
	uint64_t index;			/* set by append: its entry in the log
					 * (ledger_event_index() for others) */
} ledger_event_t;

/* Append ev as the next event record: assigns ev->seq, chains and stores
 * ev->hash.  The caller sets prev_code_seq (see ledger_code_put()). */
int ledger_event_append(ledger_txn_t *txn, ledger_event_t *ev);

/* Read event seq into *ev.  Every field of *ev is set: on success as
 * stored, with ev->seq = seq (slices into the snapshot); on failure all
 * zero.  Returns 0, YIMA_ENOTFOUND, YIMA_ECORRUPT / YIMA_EVERSION (the
 * transaction then fails), or the transaction's sticky error. */
int ledger_event_get(ledger_txn_t *txn, uint64_t seq, ledger_event_t *ev);

/* Call fn for every event record from seq `from` on, in seq order (a
 * sequential scan).  fn returns 0 to go on, 1 to stop, <0 to fail. */
typedef int (*event_fn)(void *arg, const ledger_event_t *ev);
int ledger_event_scan(ledger_txn_t *txn, uint64_t from, event_fn fn, void *arg);

/* Encode / decode (used by append, get, and audit's byte comparison).
 * ledger_event_encode() appends the record bytes without the hash. */
struct buf;
int ledger_event_encode(const ledger_event_t *ev, struct buf *out);
int ledger_event_decode(const void *val, size_t len, ledger_event_t *ev);

/* ---- per-code state (spec section 4) -------------------------------- */

typedef struct code_state {
	bool applied;		/* an accepted or warned event has set it */
	bool destroyed;
	bool units_known;	/* false: product not in catalog when the
				 * code was first seen */
	uint64_t units_left;
	uint64_t pack_units;	/* units of the whole pack, when known */
	char holder[FACILITY_MAX + 1];		/* "" = none */
	char in_transit_to[FACILITY_MAX + 1];	/* "" = none */
	char dispensed_at[FACILITY_MAX + 1];	/* "" = none */
	uint64_t last_seq;	/* newest event of this code, 0 = none */
	uint64_t events;	/* event records naming this code */
	/* Where dispenses of it were recorded (any verdict): the first
	 * facility, and whether another one followed.  Lets reconciliation
	 * answer RESOLD_ELSEWHERE without walking the history. */
	char sold_at[FACILITY_MAX + 1];
	bool sold_elsewhere_too;
} code_state_t;

/* Get the state of a canonical code.  Returns 0, or YIMA_ENOTFOUND with
 * *st zeroed (a code never seen). */
int ledger_code_get(ledger_txn_t *txn, const char *canon, size_t n, code_state_t *st);
int ledger_code_put(ledger_txn_t *txn, const char *canon, size_t n, const code_state_t *st);

/* ---- patient chains (spec section 7) ------------------------------------ */

/*
 * Call fn for the records of the patient with keyed hash mac whose time
 * may lie in [from_sec, to_sec] (whole seconds since the epoch): the
 * chains of the buckets that range touches, newest first, so every such
 * record is seen whatever order events arrived in (and some of the same
 * buckets outside the range: fn decides on the exact time itself).
 * Records are those ledger_event_append() linked (patient_link); fn sees
 * each with ev->seq set.  fn returns 0 to go on, 1 to stop, <0 to fail.
 * Returns 0 or an error.
 */
typedef int (*patient_fn)(void *arg, const ledger_event_t *ev);
int ledger_patient_walk(ledger_txn_t *txn, const uint8_t mac[LEDGER_MAC_LEN], int64_t from_sec,
			int64_t to_sec, patient_fn fn, void *arg);

/* ---- settlement index ---------------------------------------------------- */

typedef struct settle_entry {
	uint64_t seq;
	enum event_type type;		/* EV_DISPENSE or EV_REFUND */
	enum verdict verdict;
	uint64_t units;
} settle_entry_t;

int ledger_settle_put(ledger_txn_t *txn, yima_slice_t facility,
		      yima_slice_t settlement, yima_slice_t code,
		      const settle_entry_t *e);

/* Call fn for every entry of (facility, settlement[, code]) in seq order;
 * an empty code slice means every code of the settlement.  fn returns 0 to
 * go on, 1 to stop, <0 to fail with that error. */
typedef int (*settle_fn)(void *arg, yima_slice_t code, const settle_entry_t *e);
int ledger_settle_scan(ledger_txn_t *txn, yima_slice_t facility,
		       yima_slice_t settlement, yima_slice_t code,
		       settle_fn fn, void *arg);

/* ---- yimad claims and batches ------------------------------------------ */

/* An accepted settlement claim: records first_seq .. first_seq+count-1. */
typedef struct claim_entry {
	uint64_t first_seq;
	uint64_t count;
	uint8_t content[LEDGER_HASH_LEN];	/* SHA-256 of what was claimed */
} claim_entry_t;

/* Returns 0, YIMA_ENOTFOUND (also for a facility or settlement that cannot
 * be a key: empty facility, over 255 bytes) or a failure. */
int ledger_claim_get(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		     claim_entry_t *e);
int ledger_claim_put(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t settlement,
		     const claim_entry_t *e);


/* An event batch received by yimad: records first_seq .. +count-1, and
 * a digest of what the batch held, so that a retry can be told from other
 * content under the same id.  Batches recorded before the digest existed
 * have none (has_content false): they are still read, and replayed by the
 * audit, in their first form. */
typedef struct batch_entry {
	uint64_t first_seq;
	uint64_t count;
	bool has_content;
	uint8_t content[LEDGER_HASH_LEN];	/* see claim_batch() */
} batch_entry_t;

/* Returns 0, YIMA_ENOTFOUND (as ledger_claim_get()), or a failure. */
int ledger_batch_get(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t id,
		     batch_entry_t *e);
/* Record that the batch (facility, id) became these records: an admin
 * record in the chain plus the lookup entry (with the content digest when
 * e->has_content; without, only to replay a batch recorded before). */
int ledger_batch_put(ledger_txn_t *txn, yima_slice_t facility, yima_slice_t id,
		     const batch_entry_t *e);

/* ---- catalog (spec section 2) ------------------------------------------- */

typedef struct catalog_entry {
	char product[CODE_PRODUCT_MAX + 1];
	char drug[33];
	uint64_t pack_units;
	uint64_t max_units_30d;		/* spec section 7; 0 = no limit */
	yima_slice_t name;
	yima_slice_t spec;
} catalog_entry_t;

/* Look up a product.  name and spec point into the snapshot: valid until
 * the next write in txn or its end. */
int ledger_catalog_get(ledger_txn_t *txn, const char *product, size_t n,
		       catalog_entry_t *e);
/* The same without name and spec, served from a per-transaction cache:
 * the verifier's lookup, once per event. */
int ledger_catalog_lookup(ledger_txn_t *txn, const char *product, size_t n,
			  catalog_entry_t *e);
/* Insert or replace a catalog row; chained as an admin record. */
int ledger_catalog_put(ledger_txn_t *txn, const catalog_entry_t *e);

/* ---- recall list -------------------------------------------------------- */

enum recall_kind {
	RECALL_CODE = 1,	/* key: canonical code */
	RECALL_PRODUCT = 2,	/* key: product id */
	RECALL_BATCH = 3,	/* key: product id ":" batch */
};

/* Add or remove (chained as admin records).  Adding an existing entry or
 * removing a missing one returns YIMA_EEXIST / YIMA_ENOTFOUND and records
 * nothing. */
int ledger_recall_add(ledger_txn_t *txn, enum recall_kind k, const char *key, size_t n);
int ledger_recall_remove(ledger_txn_t *txn, enum recall_kind k, const char *key, size_t n);
/* True if the code, its product, or product + batch is recalled. */
int ledger_recall_match(ledger_txn_t *txn, const code_t *c, bool *hit);
typedef int (*recall_fn)(void *arg, enum recall_kind k, yima_slice_t key);
int ledger_recall_each(ledger_txn_t *txn, recall_fn fn, void *arg);

/* ---- settings chained with the events --------------------------------- */

/* The refund window in force (days), as last recorded; 10 if never set. */
uint32_t ledger_refund_window(ledger_txn_t *txn);
/* Record a new refund window if it differs from the one in force. */
int ledger_refund_window_set(ledger_txn_t *txn, uint32_t days);

/* ---- admin records and walking the chain ------------------------------- */

enum admin_kind {
	ADMIN_CATALOG = 2,
	ADMIN_RECALL_ADD = 3,
	ADMIN_RECALL_REMOVE = 4,
	ADMIN_REFUND_WINDOW = 5,
	ADMIN_BATCH = 6,
};

/* An admin record, decoded (slices point into the snapshot). */
typedef struct ledger_admin {
	uint64_t after_event;		/* made after this many events */
	uint64_t seq;			/* 1, 2, ... among admin records */
	enum admin_kind kind;
	catalog_entry_t cat;		/* ADMIN_CATALOG */
	enum recall_kind recall;	/* ADMIN_RECALL_* */
	yima_slice_t key;
	uint32_t days;			/* ADMIN_REFUND_WINDOW */
	yima_slice_t facility;		/* ADMIN_BATCH (id in key) */
	batch_entry_t batch;
	uint8_t hash[LEDGER_HASH_LEN];
} ledger_admin_t;

typedef struct ledger_walk_fns {
	/* ev->seq and ev->hash set; return 0 to go on, <0 to stop */
	int (*event)(void *arg, const ledger_event_t *ev);
	int (*admin)(void *arg, const ledger_admin_t *a);
} ledger_walk_fns_t;

/*
 * Walk every chained record in chain order, recomputing the hash chain
 * from h_0 and checking sequence numbers and the stored counters and head.
 * Calls fns for each record after it checked.  Returns 0; YIMA_EMISMATCH
 * or YIMA_ECORRUPT with why naming the first broken record; or the error
 * a callback returned.  *records gets the number of event records.
 */
int ledger_chain_walk(ledger_txn_t *txn, const ledger_walk_fns_t *fns, void *arg,
		      uint64_t *records, char *why, size_t whylen);

/* Compare the derived tables (codes, settle, catalog, recalls, claims,
 * batches, patients) of two ledgers key by key.  Returns 0 if identical, YIMA_EMISMATCH with why
 * naming the first difference, or an error. */
int ledger_tables_compare(ledger_txn_t *stored, ledger_txn_t *replayed, char *why, size_t whylen);

/* ---- the verifiable log (spec section 8, docs/log.md) -------------------
 *
 * Every record, event and admin alike, in chain order, is one entry of an
 * RFC 9162 Merkle tree: entry i is the record's stored bytes (its encoding
 * followed by its 32-byte chain hash, as ledger_entry_get gives it).  The
 * ledger keeps an Ed25519 key (DIR/log.key, 0600) and, after every commit
 * that added records, a C2SP checkpoint of the new size signed with it, in
 * the same transaction.  A ledger made before the log gets it on its first
 * write transaction: key made, tree built from its records, checkpoint
 * signed (ledger_txn_begin then fails with the reason in why of
 * ledger_log_start, which tools call first).
 */

/* Make sure the log exists: if the ledger has none, set it up now with
 * origin (NULL: yima.<hostname>).  If it has one whose origin is not
 * origin (non-NULL), YIMA_EEXIST with why.  Returns 0 or an error with
 * why (a key file that cannot be read or made, a broken chain...). */
int ledger_log_start(ledger_t *lg, const char *origin, char *why, size_t whylen);

/* Entries in the log as txn sees it (events + admin records).  Returns 0
 * or YIMA_ENOTFOUND when the ledger has no log yet. */
int ledger_log_size(ledger_txn_t *txn, uint64_t *size);

/* The latest signed checkpoint (a C2SP signed note), or, in a write
 * transaction that added records, one signed now for its size (kept and
 * stored at commit; sign once, after the last record).  *note points into
 * the snapshot or the transaction: valid until it ends.  Returns 0,
 * YIMA_ENOTFOUND (no log yet) or an error. */
int ledger_log_checkpoint(ledger_txn_t *txn, yima_slice_t *note);
/* The log's verifier key (`<name>+<hex id>+<base64>`), same lifetime. */
int ledger_log_vkey(ledger_txn_t *txn, yima_slice_t *vkey);

/* The index of event seq.  Returns 0 or YIMA_ENOTFOUND. */
int ledger_event_index(ledger_txn_t *txn, uint64_t seq, uint64_t *index);
/* Entry index: the stored bytes of its record (valid until txn ends) and
 * whether it is an admin record.  Returns 0, YIMA_ENOTFOUND (past the
 * end, or no log) or YIMA_ECORRUPT. */
int ledger_entry_get(ledger_txn_t *txn, uint64_t index, yima_slice_t *entry, bool *is_admin);

/* MTH of the first size entries (size <= the log's size).  Returns 0 or
 * an error with why. */
int ledger_log_root(ledger_txn_t *txn, uint64_t size, uint8_t root[LEDGER_HASH_LEN],
		    char *why, size_t whylen);
/* An inclusion proof of entry `from` (consistency false) or a consistency
 * proof from size `from` (true) in the tree of size entries, leaf first:
 * O(log size) reads.  Returns 0, YIMA_EINVAL (bad index or sizes, why
 * says which), YIMA_ENOTFOUND (no log) or an error. */
int ledger_log_prove(ledger_txn_t *txn, bool consistency, uint64_t from, uint64_t size,
		     uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN], size_t *len, char *why,
		     size_t whylen);
/* Hashes first..first+count-1 of tree level 8 * tile_level (a tlog-tiles
 * hash tile's contents), all complete in the log.  Returns 0, YIMA_EINVAL,
 * YIMA_ENOTFOUND or YIMA_ECORRUPT. */
int ledger_log_tile_hashes(ledger_txn_t *txn, unsigned tile_level, uint64_t first, size_t count,
			   uint8_t *out);

/* ---- side tables of a cluster view -------------------------------------- */

/* Opaque keys (1..511 bytes) and values in one table, written in the
 * caller's transaction: a cluster node keeps there what its view of a
 * partition stream needs beside the records (the applied stream sequence,
 * held codes, undecided claims, deferred operations: cluster/view.c), so
 * it commits with them.  Not chained, not audited, not compared: it is
 * derived from the streams.  get: 0 with *val into the snapshot (valid
 * until the next write or the end of txn), or YIMA_ENOTFOUND.  del:
 * YIMA_ENOTFOUND when absent (the transaction stays good).  scan: fn for
 * every key starting with prefix, in key order; fn returns 0 to go on, 1
 * to stop, <0 to fail with that error (the transaction stays good). */
int ledger_aux_put(ledger_txn_t *txn, const void *key, size_t kn, const void *val, size_t vn);
int ledger_aux_get(ledger_txn_t *txn, const void *key, size_t kn, yima_slice_t *val);
int ledger_aux_del(ledger_txn_t *txn, const void *key, size_t kn);
typedef int (*aux_fn)(void *arg, yima_slice_t key, yima_slice_t val);
int ledger_aux_scan(ledger_txn_t *txn, const void *prefix, size_t pn, aux_fn fn, void *arg);

/* ---- ingested files ----------------------------------------------------- */

/* How far a file (by SHA-256) was ingested: rows committed, and whether
 * the whole file was.  Returns 0 or YIMA_ENOTFOUND. */
int ledger_file_get(ledger_txn_t *txn, const uint8_t sha[32], uint64_t *rows, bool *complete);
int ledger_file_mark(ledger_txn_t *txn, const uint8_t sha[32], uint64_t rows, bool complete);

#endif
