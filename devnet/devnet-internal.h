/*
 * devnet-internal.h: the chain's in-memory model, shared by the devnet-*.c files.
 *
 * Model. Everything lives in memory and is mirrored in sqlite (devnet-store.c): each change
 * (epoch close, push, revert) is built aside, written in one transaction, and only then linked
 * into memory, so a failed write changes nothing.
 *   - dn_state_t: an immutable actor table, content-addressed by its devnet state root (CID of
 *     its CBOR). Tipsets share states (a tipset without messages keeps its parent's).
 *   - dn_tipset_t: blocks sorted by ticket; `state` = the parent state (ParentStateRoot);
 *     `exec_state` / `receipts` = after executing the tipset's messages, computed when the
 *     tipset becomes the head (Filecoin executes a tipset's messages in its child).
 *   - c->main[h]: the main chain by height (NULL = null round); c->head its top.
 * Locking: c->lock guards everything; c->close_lock serialises epoch closes and reverts with
 * their notifications (taken before c->lock).
 */
#ifndef DEVNET_INTERNAL_H
#define DEVNET_INTERNAL_H

#include <pthread.h>

#include "devnet-chain.h"
#include "vc/blockheader.h"
#include "vc/db.h"
#include "vc/util.h"

/* Constants of spec B.4 (mainnet values unless noted). */
#define DN_BLOCK_GAS_LIMIT 10000000000LL
#define DN_BLOCK_GAS_TARGET 5000000000LL
#define DN_INITIAL_BASE_FEE 100000000
#define DN_MIN_BASE_FEE 100
#define DN_BASE_FEE_DENOM 8
#define DN_BLOCK_MSG_LIMIT 10000
#define DN_MIN_GAS_PREMIUM 100000
#define DN_MAX_MSG_SIZE (64 * 1024)
#define DN_MAX_NONCE_GAP 4
#define DN_MAX_ACTOR_PENDING 1000
#define DN_MPOOL_SIZE_HIGH 30000
#define DN_RBF_PERCENT 125
#define DN_NETWORK_VERSION 21
#define DN_FIRST_ACCOUNT_ID 100
#define DN_BURNT_FUNDS_ID 99
/* Devnet rule: every executed message uses this much gas (or its GasLimit, then exit 7). */
#define DN_GAS_PER_MESSAGE 1000000

/* Exit codes (go-state-types exitcode). */
#define DN_EXIT_OK 0
#define DN_EXIT_SENDER_INVALID 1
#define DN_EXIT_SENDER_STATE_INVALID 2
#define DN_EXIT_INSUFFICIENT_FUNDS 6
#define DN_EXIT_OUT_OF_GAS 7
#define DN_EXIT_INVALID_METHOD 22

typedef enum dn_actor_kind {
    DN_ACTOR_ACCOUNT,
    DN_ACTOR_MINER,
    DN_ACTOR_BURNT, /* f099, an account without key */
    DN_ACTOR_KIND_MAX,
} dn_actor_kind_t;

typedef struct dn_actor {
    uint64_t id;
    dn_actor_kind_t kind;
    vc_address_t key; /* accounts: f1/f3; undefined for miners and f099 */
    vc_bigint_t balance;
    uint64_t nonce;
} dn_actor_t;

typedef struct dn_state {
    vc_cid_t root;
    size_t n;
    dn_actor_t *a; /* sorted by id */
} dn_state_t;

typedef struct dn_msg {
    vc_signed_message_t sm;
    vc_cid_t cid;  /* unsigned message CID */
    vc_cid_t scid; /* signed CID (== cid for BLS) */
    bool bls;
    size_t size;   /* signed CBOR length */
    bool pending;  /* in the mpool */
    int64_t added_us;
    vc_address_t from_key; /* key address of the sender, resolved at push (pool grouping) */
} dn_msg_t;

struct dn_tipset;

typedef struct dn_block {
    vc_cid_t cid;
    uint8_t *cbor;
    size_t cbor_len;
    vc_block_header_t h; /* owned, decoded from cbor */
    dn_msg_t **bls, **secp;
    size_t n_bls, n_secp;
    struct dn_tipset *ts;
} dn_block_t;

typedef struct dn_receipt {
    int64_t exit_code;
    int64_t gas_used;
} dn_receipt_t;

typedef struct dn_tipset {
    int64_t height;
    size_t n;
    dn_block_t **blocks; /* sorted by ticket */
    struct dn_tipset *parent;
    vc_bigint_t weight;
    bool main;
    dn_state_t *state;   /* ParentStateRoot */
    dn_msg_t **msgs;     /* execution order, deduplicated */
    size_t n_msgs;
    dn_state_t *exec_state; /* NULL until executed */
    vc_cid_t exec_receipts_root;
    dn_receipt_t *receipts; /* n_msgs entries once executed */
} dn_tipset_t;

/* Open-addressing map from a CID to an object. */
typedef struct dn_cidmap_entry {
    vc_cid_t key;
    void *val;
} dn_cidmap_entry_t;

typedef struct dn_cidmap {
    dn_cidmap_entry_t *e;
    size_t cap, n;
} dn_cidmap_t;

void *dn_cidmap_get(const dn_cidmap_t *m, const vc_cid_t *k);
int dn_cidmap_put(dn_cidmap_t *m, const vc_cid_t *k, void *val);
void dn_cidmap_done(dn_cidmap_t *m);

typedef struct dn_sub {
    uint64_t id;
    dn_head_fn fn;
    void *userdata;
} dn_sub_t;

/* A head change being delivered: reverted tipsets (old head down) then applied ones. */
typedef struct dn_changes {
    dn_tipset_t **rev, **app;
    size_t n_rev, n_app;
} dn_changes_t;

struct dn_chain {
    pthread_mutex_t lock;
    pthread_mutex_t close_lock;
    pthread_cond_t cond; /* wakes the epoch loop (stop, pause, block time) */
    vc_db_t *db;
    char *repo;

    /* genesis parameters (accounts live in the genesis state) */
    char network_name[64];
    char net; /* 'f' or 't' */
    int64_t block_time_ms;
    int64_t propagation_ms;
    uint64_t genesis_ts;
    dn_genesis_miner_t *miners;
    size_t n_miners;

    dn_cidmap_t blocks, msgs, tipsets, states; /* msgs: by cid and by scid */
    dn_tipset_t **all_ts;
    size_t n_all_ts, cap_all_ts;
    dn_tipset_t **main; /* by height */
    size_t cap_main;
    dn_tipset_t *head, *genesis;

    dn_msg_t **pool;
    size_t n_pool, cap_pool;
    struct dn_pool_index *pool_index; /* (sender, nonce) -> message and per-sender counts */

    dn_block_t **pend; /* external mode: submitted blocks waiting for their epoch */
    size_t n_pend;

    int64_t epoch; /* next epoch to close */
    dn_mine_mode_t mode;
    bool paused, stopping, running;
    int64_t clock_base_ms, clock_base_h; /* epoch h closes at base_ms + (h - base_h) * block time */
    uint64_t fork_counter;

    dn_sub_t *subs;
    size_t n_subs;
    uint64_t next_sub_id;
    /* held by dn_notify while it calls subscribers (outside lock) and by dn_chain_unsubscribe:
     * once unsubscribe returns, no callback of that subscriber is running or will run */
    pthread_mutex_t notify_lock;

    /* the gas premium estimate for (premium_head, premium_nblocks): a batch estimate asks it per
     * message, and it reads up to 2 x nblocks tipsets of messages (thousands each) */
    const dn_tipset_t *premium_head;
    int64_t premium_height;
    uint64_t premium_nblocks;
    vc_bigint_t premium;
};

/* ---- devnet-chain.c helpers ---- */
void dn_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
dn_tipset_t *dn_find_tipset(dn_chain_t *c, const vc_cid_t *tsk, size_t n);
json_t *dn_tipset_json(dn_chain_t *c, const dn_tipset_t *ts);
json_t *dn_tsk_json(const dn_tipset_t *ts);
json_t *dn_msg_json(dn_chain_t *c, const dn_msg_t *m);         /* unsigned Message with CID */
json_t *dn_signed_msg_json(dn_chain_t *c, const dn_msg_t *m);  /* SignedMessage */
json_t *dn_big_json(const vc_bigint_t *v);
json_t *dn_addr_json(dn_chain_t *c, const vc_address_t *a);
int dn_register_tipset(dn_chain_t *c, dn_tipset_t *ts);
void dn_tipset_free(dn_tipset_t *ts);
void dn_block_free(dn_block_t *b);
void dn_msg_free(dn_msg_t *m);
int dn_total_power(dn_chain_t *c, vc_bigint_t *ret);
const dn_genesis_miner_t *dn_find_miner(dn_chain_t *c, const vc_address_t *a);
/* RegisteredSealProof (V1_1) of a sector size: 2 KiB -> 5 ... 64 GiB -> 9. */
int64_t dn_seal_proof_type(uint64_t sector_size);
/* SealedCID (CommR) of sector `number` of genesis miner m (devnet: no real sealing): a
 * fil-commitment-sealed CID over blake2b-256("devnet/s" || be64(miner id) || be64(number)).
 * MinerGetBaseInfo and StateSectorGetInfo both use it, so they agree. */
void dn_sector_sealed_cid(const dn_genesis_miner_t *m, uint64_t number, vc_cid_t *ret);
int64_t dn_now_ms(void);

/* ---- state (devnet-state.c) ---- */
const dn_actor_t *dn_state_find(const dn_state_t *s, const vc_address_t *a);
int dn_state_encode(const dn_state_t *s, vc_buf_t *out);
int dn_state_decode(const uint8_t *p, size_t len, dn_state_t **ret);
dn_state_t *dn_state_dup(const dn_state_t *s);
void dn_state_free(dn_state_t *s);
/* Sets root from the CBOR. */
int dn_state_seal(dn_state_t *s);
/* Adds an account with a new ID (keeps a sorted). Returns the actor (pointer into s). */
dn_actor_t *dn_state_add_account(dn_state_t *s, const vc_address_t *key);
dn_actor_t *dn_state_find_mut(dn_state_t *s, const vc_address_t *a);
/* The state in the map (interned), taking ownership of s; returns the shared one. */
dn_state_t *dn_state_intern(dn_chain_t *c, dn_state_t *s, bool *ret_new);
int dn_receipts_encode(const dn_receipt_t *r, size_t n, vc_buf_t *out, vc_cid_t *ret_root);
int dn_receipts_decode(const uint8_t *p, size_t len, dn_receipt_t **ret, size_t *ret_n);
/* Executes ts's messages on ts->state (base fee = ts's ParentBaseFee, premiums to each
 * message's first including block's miner). Results are new (not interned) objects. */
int dn_execute(dn_chain_t *c, const dn_tipset_t *ts, dn_state_t **ret_state, dn_receipt_t **ret_receipts);
/* Weight(ts) of B.3.5. */
int dn_weight(dn_chain_t *c, const dn_tipset_t *ts, vc_bigint_t *ret);
/* ParentBaseFee of a child of ts (classic rule of B.3.5). */
int dn_next_base_fee(const dn_tipset_t *ts, vc_bigint_t *ret);
/* Ensures ts->exec_state / receipts (executes if needed; does not persist). */
int dn_ensure_exec(dn_chain_t *c, dn_tipset_t *ts, bool *ret_new);
/* Messages root: V6 empty TxMeta, else the CID of CBOR [[bls cids], [secp cids]] (devnet). */
void dn_messages_root(dn_msg_t *const *bls, size_t n_bls, dn_msg_t *const *secp, size_t n_secp, vc_cid_t *ret);
void dn_empty_amt_cid(vc_cid_t *ret);
void dn_beacon_data(int64_t round, uint8_t out[32]);
/* Execution order of a tipset's messages (fills ts->msgs). */
int dn_tipset_collect_msgs(dn_tipset_t *ts);
/* Sorts blocks by ticket (B.2). */
void dn_tipset_sort(dn_tipset_t *ts);

/* ---- store (devnet-store.c) ---- */
int dn_store_open(dn_chain_t *c, const char *path, bool create, char **err);
int dn_store_load(dn_chain_t *c, char **err);
int dn_store_write_genesis(dn_chain_t *c, const char *genesis_json, const dn_tipset_t *ts, const dn_state_t *st, char **err);
/* One transaction: new tipsets (with blocks, their messages and states), exec results of
 * `exec` tipsets, main-chain flags from c->main after the change, head, pool changes. */
typedef struct dn_write {
    dn_tipset_t **new_ts;
    size_t n_new_ts;
    dn_tipset_t **exec_ts;
    size_t n_exec_ts;
    dn_tipset_t **off_main, **on_main;
    size_t n_off_main, n_on_main;
    const dn_tipset_t *head;
    dn_msg_t **msgs_add; /* messages to insert (if absent) */
    size_t n_msgs_add;
    dn_msg_t **pool_add;
    size_t n_pool_add;
    dn_msg_t **pool_del;
    size_t n_pool_del;
} dn_write_t;
int dn_store_write(dn_chain_t *c, const dn_write_t *w, char **err);

/* ---- mpool (devnet-mpool.c) ---- */
/* Pending messages of one sender (key address). */
size_t dn_pool_sender_count(dn_chain_t *c, const vc_address_t *key);
void dn_pool_index_free(dn_chain_t *c);
/* Messages of the pool selectable on top of the head (greedy by premium, nonce order per sender,
 * block limits). *ret malloc'ed. */
int dn_mpool_select(dn_chain_t *c, dn_msg_t ***ret, size_t *ret_n);
/* Removes from the pool (memory only) what the new head's exec state made stale; collects them. */
int dn_mpool_prune(dn_chain_t *c, dn_msg_t ***ret_del, size_t *ret_n);
int dn_pool_add(dn_chain_t *c, dn_msg_t *m);
void dn_pool_remove(dn_chain_t *c, dn_msg_t *m);
/* State the pool checks against: the head's exec state. */
dn_state_t *dn_pool_state(dn_chain_t *c);

/* ---- mining (devnet-mine.c) ---- */
void dn_notify(dn_chain_t *c, const dn_changes_t *ch);

#endif
