/*
 * miner-store.h: venus-miner's database (sqlite `<repo>/miner.db` or PostgreSQL): the slash
 * filter's mined-block records (spec/miner-and-node-api.md A.4, table miner_blocks, unique
 * (miner, epoch)), the per-epoch mining records (A.1 QueryRecord, A.5 mine-recorder) and a small
 * key/value table (network name guard).
 *
 * All functions are thread-safe (pool of connections); each write is one transaction.
 * Errors: negative errno / VC_E* codes; MINER_EFAULT (-EEXIST) for a refused block.
 */
#ifndef MINER_STORE_H
#define MINER_STORE_H

#include <errno.h>
#include <jansson.h>

#include "vc/db.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct miner_store miner_store_t;

/* A block the slash filter refuses (would be a consensus fault). */
#define MINER_EFAULT (-EEXIST)

typedef enum miner_mine_state {
    MINER_STATE_MINING = 0,
    MINER_STATE_SUCCESS = 1,
    MINER_STATE_TIMEOUT = 2,
    MINER_STATE_CHAIN_FORKED = 3,
    MINER_STATE_ERROR = 4,
} miner_mine_state_t;

/* One row of miner_blocks. Strings are owned (miner_block_done frees them). */
typedef struct miner_block {
    char *miner;          /* address string as the miner prints it, e.g. "t01000" */
    int64_t epoch;
    int64_t parent_epoch;
    char *parent_key;     /* Venus TipSetKey.String(): "{ bafy.. bafy.. }", "" when unknown */
    char *cid;            /* block CID string, "" when no header was made */
    int64_t winning_at_ms; /* unix ms the win was detected, 0 = NULL */
    int mine_state;       /* miner_mine_state_t */
    int64_t consuming;    /* ms spent, informational */
} miner_block_t;

void miner_block_done(miner_block_t *b);
void miner_blocks_free(miner_block_t *v, size_t n);

/* dsn: a file path (sqlite, WAL) or a postgres:// / "host=..." DSN. Runs the migrations of
 * sql/miner. */
int miner_store_open(const char *dsn, miner_store_t **ret, char **reterr_msg);
miner_store_t *miner_store_free(miner_store_t *s);
const char *miner_store_backend(const miner_store_t *s); /* "sqlite" / "postgres" */
/* This thread's message for the last failed miner_store_* call ("" after a success). */
const char *miner_store_errmsg(void);

/*
 * Upsert on (miner, epoch), as A.4.2 PutBlock: inserts when absent (never for TIMEOUT: a
 * timeout with no row is a no-op); otherwise updates parent_epoch, mine_state, parent_key (when
 * b->parent_key is non-empty), cid (when b->cid is non-empty), winning_at (when non-zero) and
 * consuming. A recorded non-empty cid is never replaced by a different one: that returns
 * MINER_EFAULT and changes nothing.
 */
int miner_store_put_block(miner_store_t *s, const miner_block_t *b);

/* *ret = a row for (miner, epoch) exists with a non-empty cid (A.4 HasBlock). */
int miner_store_has_block(miner_store_t *s, const char *miner, int64_t epoch, bool *ret);

/*
 * The slash filter before a broadcast, atomically (one transaction; serialisable on
 * PostgreSQL, so two instances sharing the database cannot both pass for one epoch):
 *  - double-fork: a different non-empty cid recorded for (miner, epoch);
 *  - time-offset: a different cid recorded for (miner, parent_key);
 *  - parent-grinding: a cid recorded for (miner, epoch = parent_epoch) that is not one of
 *    parent_cids;
 * then records b (cid set, state MINING) so that later checks see it. On a fault returns
 * MINER_EFAULT with *ret_fault = the message (malloc'ed), e.g.
 * "produced block would trigger 'time-offset mining faults' consensus fault; miner: t01000; bh: bafy.., other: bafy..",
 * "produced block would trigger 'parent-grinding fault' consensus fault; miner: ..; bh: ..; expected parent: ..",
 * "produced block would trigger double-fork mining faults consensus fault; miner: ..; bh: ..; other: ..".
 * Calling it again with the same cid passes (idempotent).
 */
int miner_store_claim_block(miner_store_t *s, const miner_block_t *b, const char *const *parent_cids,
                            size_t n_parents, char **ret_fault);

/* A claimed block that no node accepted (every node answered with an error, so it was never
 * published): clears its cid and sets state ERROR, so that the miner may build another block on
 * the same parents. A no-op when the recorded cid differs. */
int miner_store_release_block(miner_store_t *s, const char *miner, int64_t epoch, const char *cid);

/* HA fencing: fn(c, userdata) runs first inside every claim transaction (on its connection c);
 * a negative answer (VC_ENOTLEADER, VC_ESTALE) aborts the claim, which then returns it. Set once
 * at start-up (vc_ha_elector_fence fits). */
typedef int (*miner_store_fence_fn)(vc_db_conn_t *c, void *userdata);
void miner_store_set_fence(miner_store_t *s, miner_store_fence_fn fn, void *userdata);
/* The pool (the lease table lives in the same database). */
vc_db_t *miner_store_db(miner_store_t *s);

/* ORDER BY epoch DESC, miner; miners NULL/empty = all; limit <= 0 = no limit. */
int miner_store_list_blocks(miner_store_t *s, const char *const *miners, size_t n_miners, int64_t limit,
                            int64_t offset, miner_block_t **ret, size_t *ret_n);

/* Mining records (A.5 mine-recorder): one JSON object of string -> string per (miner, epoch),
 * merged key by key on every call (kv: an object whose values are strings; borrowed). */
int miner_store_record_merge(miner_store_t *s, const char *miner, int64_t epoch, const json_t *kv);
/* The records of miner for epoch in [epoch, epoch+limit), ascending, each object augmented with
 * "miner" and "epoch" (a decimal string): a new JSON array. limit 0 means 1 (as QueryRecord);
 * a negative limit is -EINVAL; the caller enforces MaxRecordPerQuery. */
int miner_store_record_query(miner_store_t *s, const char *miner, int64_t epoch, int64_t limit, json_t **ret);
/* Deletes records with epoch < before; *ret_deleted (optional) gets the count. */
int miner_store_record_expire(miner_store_t *s, int64_t before, int64_t *ret_deleted);

/* Small settings (e.g. "network_name"). get: *ret malloc'ed, NULL when absent. */
int miner_store_kv_get(miner_store_t *s, const char *key, char **ret);
int miner_store_kv_set(miner_store_t *s, const char *key, const char *value);

#endif
