/*
 * msgr-store.h: venus-messager's durable state (messages, addresses, shared params, actor fee
 * configs, extra nodes, the head tracker's tipset cache) over libvc's db (sqlite or
 * PostgreSQL), spec/messager.md sections 4 and 6. Schema: sql/messager/<backend>/.
 *
 * Every function is thread-safe (the store holds a connection pool) and every write is one
 * transaction: on error nothing changed. Errors: -ENOENT (no such row: "record not found"),
 * -EEXIST (duplicate), -EINVAL (bad argument or a row in the wrong state), -EPERM (forbidden
 * address), -ESTALE (the address nonce moved: a concurrent or stale filler), the fence's own
 * error (VC_ENOTLEADER / VC_ESTALE), VC_ETRANSPORT / -EIO (database). msgr_store_errmsg()
 * explains the last failure on this thread.
 *
 * Addresses are given as strings ('f' or 't', any protocol) and stored / returned with the 'f'
 * prefix. Times are unix nanoseconds; writes stamp updated_at with the host clock.
 *
 * HA fencing: every write that must only be done by the leader (msgr_store_msg_fill,
 * msgr_store_addr_sync_nonce, msgr_store_head_apply, msgr_store_msg_replace,
 * msgr_store_msg_recover_failed) takes an optional msgr_fence_t. Its check runs first inside
 * the same transaction, on the transaction's connection; returning < 0 rolls everything back
 * and the error is returned (the service passes vc_ha_check_fence with the token of the term
 * the work started in: msgr-service.c, "HA terms"). NULL = no check (HA disabled). The UNIQUE index on (from_addr, nonce) for FillMsg/OnChainMsg rows
 * is the last guard: a second signed message for one nonce fails with -EEXIST.
 */
#ifndef MSGR_STORE_H
#define MSGR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msgr-types.h"
#include "vc/db.h"

typedef struct msgr_store msgr_store_t;

/* Runs inside a write transaction before its first write; < 0 aborts it. Must be idempotent
 * (the transaction may be retried on -EBUSY). */
typedef struct msgr_fence {
    int (*check)(vc_db_conn_t *c, void *userdata);
    void *userdata;
} msgr_fence_t;

/* Opens dsn (sqlite path / "sqlite:<path>" / postgres URL or key=value DSN) and applies the
 * embedded migrations (component "messager"). *reterr_msg (malloc'ed) explains a failure. */
int msgr_store_open(const char *dsn, msgr_store_t **ret, char **reterr_msg);
msgr_store_t *msgr_store_free(msgr_store_t *s);
const char *msgr_store_backend(const msgr_store_t *s); /* "sqlite" / "postgres" */
vc_db_t *msgr_store_db(msgr_store_t *s);              /* for the lease module / metrics */
const char *msgr_store_errmsg(void);

/* ================================ messages ================================ */

/*
 * PushMessage's write (spec 4.1 step 3-4), one transaction for all n messages: for each From,
 * the address row is created if missing (state Alive, nonce 0) or revived if soft-deleted; a
 * Forbidden address fails with -EPERM "address(<addr>) is forbidden"; then each message is
 * inserted as given (state, nonce and times as set by the caller; created/updated 0 = now).
 * -EEXIST "duplicate message id" for an id already present. -EINVAL for an empty id, an id
 * longer than MSGR_ID_MAX, or a message failing msgr_chain_message_check.
 */
int msgr_store_msg_push(msgr_store_t *s, const msgr_message_t *msgs, size_t n);
/* One message's outcome in msgr_store_msg_push_each. */
typedef struct msgr_push_result {
    int r;            /* 0, or the error msgr_store_msg_push would give this message alone */
    char errmsg[512]; /* its msgr_store_errmsg() text ("" on success) */
} msgr_push_result_t;

/*
 * Group commit of pushes: the n messages go into ONE transaction, each in a savepoint of its
 * own, so each succeeds or fails alone exactly as msgr_store_msg_push(s, msgs[i], 1) would
 * (same checks, address handling and errors: a duplicate id or a forbidden sender fails that
 * message only) while the batch pays a single commit. ret[i] gets the outcome of msgs[i].
 * Returns 0 once the transaction committed, whatever the single outcomes; or the error that
 * failed the whole batch (database lost, busy past the retries, ...): nothing was written and
 * every ret[i] carries that error.
 */
int msgr_store_msg_push_each(msgr_store_t *s, const msgr_message_t *const *msgs, size_t n,
                             msgr_push_result_t *ret);
/* Inserts one message as is (no address handling): tests, imports. */
int msgr_store_msg_insert(msgr_store_t *s, const msgr_message_t *m);

int msgr_store_msg_get(msgr_store_t *s, const char *id, msgr_message_t *ret);
int msgr_store_msg_has(msgr_store_t *s, const char *id, bool *ret);
int msgr_store_msg_get_by_signed_cid(msgr_store_t *s, const vc_cid_t *c, msgr_message_t *ret);
int msgr_store_msg_get_by_unsigned_cid(msgr_store_t *s, const vc_cid_t *c, msgr_message_t *ret);
/* Several rows may match (UnFill rows have nonce 0): the one holding the nonce wins (OnChain,
 * then Fill, then NonceConflict, Failed, UnFill), newest update first. */
int msgr_store_msg_get_by_from_nonce(msgr_store_t *s, const char *from, uint64_t nonce, msgr_message_t *ret);

/* ListMessage (MsgQueryParams, spec 3.5): from IN, state IN, updated_at >= ByUpdateAt;
 * ORDER BY updated_at DESC (ASC when Asc: upstream adds no ORDER BY then), id; Limit/Offset 0 =
 * none. */
int msgr_store_msg_query(msgr_store_t *s, const msgr_query_params_t *q, msgr_message_t **ret, size_t *ret_n);
/* ListMessageByFromState: from NULL/"" = any; ORDER BY created_at ASC/DESC; page_index is
 * 1-based (0 treated as 1), page_size 0 = no limit; created_before_ns != 0 adds
 * created_at < created_before_ns. */
int msgr_store_msg_list_by_from_state(msgr_store_t *s, const char *from, int state, bool asc, int64_t page_index,
                                      int64_t page_size, int64_t created_before_ns, msgr_message_t **ret,
                                      size_t *ret_n);
/* ListMessageByAddress: every row of from, by created_at. */
int msgr_store_msg_list_by_address(msgr_store_t *s, const char *from, msgr_message_t **ret, size_t *ret_n);
/* Rows in state, oldest update first; active_only keeps rows of live Alive addresses;
 * limit 0 = none. (UpdateAllFilledMessage: state FillMsg, active_only.) */
int msgr_store_msg_list_by_state(msgr_store_t *s, int state, bool active_only, int64_t limit, msgr_message_t **ret,
                                 size_t *ret_n);
/* ListFailedMessage: UnFillMsg rows with a non-empty error_msg, of the given addresses
 * (n_from 0 = all), by created_at. */
int msgr_store_msg_list_failed(msgr_store_t *s, const char *const *from, size_t n_from, msgr_message_t **ret,
                               size_t *ret_n);
/* ListBlockedMessage: FillMsg/UnFillMsg rows created before created_before_ns, of from (NULL
 * = every active address), by created_at. */
int msgr_store_msg_list_blocked(msgr_store_t *s, const char *from, int64_t created_before_ns, msgr_message_t **ret,
                                size_t *ret_n);
/* Selection candidates (spec 4.4 step 6), read once per round for every sender (one scan of
 * msg_state_created, which holds the sender: per-sender queries over unfilled rows scan it too):
 * fn(from, id) for every UnFillMsg row, newest first (created_at, id); fn returning < 0 stops
 * the scan, which returns that value. The rows themselves are then read per sender with
 * msgr_store_msg_get_unfilled. */
typedef int (*msgr_unfilled_fn)(const char *from, const char *id, void *userdata);
int msgr_store_msg_unfilled_scan(msgr_store_t *s, msgr_unfilled_fn fn, void *userdata);
/* The rows among ids (at most MSGR_GET_UNFILLED_MAX) that are still UnFillMsg rows of from,
 * newest first. */
#define MSGR_GET_UNFILLED_MAX 1000
int msgr_store_msg_get_unfilled(msgr_store_t *s, const char *from, const char *const *ids, size_t n,
                                msgr_message_t **ret, size_t *ret_n);
/* toPush: FillMsg rows of from with nonce >= min_nonce, by nonce. */
int msgr_store_msg_list_filled(msgr_store_t *s, const char *from, uint64_t min_nonce, msgr_message_t **ret,
                               size_t *ret_n);
/* Per-state counts (metrics): counts[state] for state 0..MSGR_MSG_STATE_MAX-1. */
int msgr_store_msg_count_by_state(msgr_store_t *s, int64_t counts[MSGR_MSG_STATE_MAX]);
/* fn(from, state, count) for every sender with UnFillMsg (1) or FillMsg (2) rows. */
typedef void (*msgr_pending_fn)(const char *from, int state, int64_t count, void *userdata);
int msgr_store_msg_pending_by_addr(msgr_store_t *s, msgr_pending_fn fn, void *userdata);

/* One message's nonce assignment (spec 4.4 step 8). */
typedef struct msgr_fill {
    const char *id;
    uint64_t nonce; /* must be expected_nonce + index */
    int64_t gas_limit;
    vc_bigint_t gas_fee_cap;
    vc_bigint_t gas_premium;
    vc_cid_t unsigned_cid;
    vc_cid_t signed_cid;
    vc_signature_t signature;
} msgr_fill_t;

/* An error_msg for a message that stays UnFillMsg (estimate/sign failure). */
typedef struct msgr_msg_error {
    const char *id;
    const char *error_msg;
} msgr_msg_error_t;

/*
 * The selection round's write (spec 4.4 step 9), one transaction:
 *   fence check; the address row of `from` is locked and its nonce must equal expected_nonce
 *   (-ESTALE "address nonce is N, expected M" otherwise: another filler won, re-read);
 *   each fill i must have nonce expected_nonce + i and name an UnFillMsg row of `from`
 *   (-EINVAL otherwise); it gets nonce, gas, signature, cids, state FillMsg and an empty
 *   error_msg; the address nonce becomes expected_nonce + n_fills (if n_fills > 0);
 *   each error is written to its message's error_msg if it is still UnFillMsg.
 * A duplicate (from, nonce) among live signed rows fails with -EEXIST.
 */
int msgr_store_msg_fill(msgr_store_t *s, const char *from, uint64_t expected_nonce, const msgr_fill_t *fills,
                        size_t n_fills, const msgr_msg_error_t *errors, size_t n_errors, const msgr_fence_t *fence);

/*
 * Spec 4.4 step 3, one transaction: if chain_nonce > the address nonce, the nonce becomes
 * chain_nonce, or max(nonce of FillMsg rows) + 1 if larger (without FillMsg rows: the max over
 * the 50 most recently updated OnChainMsg rows). The nonce never moves backwards here.
 * *ret_nonce (optional) gets the resulting address nonce. -ENOENT if the address is unknown.
 */
int msgr_store_addr_sync_nonce(msgr_store_t *s, const char *addr, uint64_t chain_nonce, const msgr_fence_t *fence,
                               uint64_t *ret_nonce);

/* Replace (spec 4.7): new gas values, signature and cids for a FillMsg row, same nonce.
 * -ENOENT unknown id; -EINVAL "need FillMsg got <State>" otherwise. */
typedef struct msgr_replace {
    const char *id;
    int64_t gas_limit;
    vc_bigint_t gas_fee_cap;
    vc_bigint_t gas_premium;
    vc_cid_t unsigned_cid;
    vc_cid_t signed_cid;
    vc_signature_t signature;
} msgr_replace_t;
int msgr_store_msg_replace(msgr_store_t *s, const msgr_replace_t *r, const msgr_fence_t *fence);

/* MarkBadMessage: state FailedMsg whatever the state; error_msg replaced when not NULL.
 * -ENOENT unknown id. The address nonce is not touched. */
int msgr_store_msg_mark_failed(msgr_store_t *s, const char *id, const char *error_msg);
/* UpdateMessageStateByID: raw state write (0..5, else -EINVAL). -ENOENT unknown id. */
int msgr_store_msg_set_state(msgr_store_t *s, const char *id, int state);
/* error_msg only (push errors of a batch; ids that do not exist are skipped). Returns the
 * number of rows updated. */
int msgr_store_msg_set_errors(msgr_store_t *s, const char *const *ids, size_t n, const char *error_msg);
/* ClearUnFillMessage: every UnFillMsg row of from -> FailedMsg (error_msg when not NULL).
 * Returns the count. */
int msgr_store_msg_fail_unfilled(msgr_store_t *s, const char *from, const char *error_msg);
/* expireEpoch enforcement (spec 10): every UnFillMsg row with 0 < meta_expire_epoch <= height
 * -> FailedMsg with ErrorMsg "message expired: expireEpoch <e> reached at height <h>".
 * Returns the count. */
int msgr_store_msg_fail_expired(msgr_store_t *s, int64_t height);
/* RecoverFailedMsg: FailedMsg rows of from with a signature and nonce >= min_nonce ->
 * FillMsg; *ret_ids (malloc'ed array of malloc'ed strings, NULL if none) gets their ids. */
int msgr_store_msg_recover_failed(msgr_store_t *s, const char *from, uint64_t min_nonce, const msgr_fence_t *fence,
                                  char ***ret_ids, size_t *ret_n);
void msgr_strv_free(char **v, size_t n);
/* UpdateFilledMessageByID / UpdateAllFilledMessage: a FillMsg row found on chain through
 * StateSearchMsg -> OnChainMsg with receipt, height and tipset key. -EINVAL if the row is not
 * FillMsg ("message state(<s>) has been final, can not update" for OnChain/NonceConflict). */
int msgr_store_msg_set_onchain(msgr_store_t *s, const char *id, int64_t height, const msgr_receipt_t *receipt,
                               const vc_cid_t *tsk, size_t n_tsk);

/* =========================== head processing (4.6) =========================== */

/* A message found in the parent messages of an applied tipset. */
typedef struct msgr_chain_msg {
    const char *from; /* any network letter */
    uint64_t nonce;
    vc_cid_t cid;     /* the CID as on chain (compared with our signed_cid) */
    msgr_receipt_t receipt;
} msgr_chain_msg_t;

/* The messages included in one tipset (the inclusion tipset P). */
typedef struct msgr_tipset_apply {
    int64_t height;
    const vc_cid_t *key;
    size_t n_key;
    const msgr_chain_msg_t *msgs;
    size_t n_msgs;
} msgr_tipset_apply_t;

/* A cached (processed) tipset. */
typedef struct msgr_tipset {
    int64_t height;
    vc_cid_t *key;
    size_t n_key;
    vc_cid_t *parents;
    size_t n_parents;
    char *data; /* optional TipSet JSON, NULL if none */
} msgr_tipset_t;
void msgr_tipset_done(msgr_tipset_t *t);
void msgr_tipsets_free(msgr_tipset_t *v, size_t n);

typedef struct msgr_head_change {
    const int64_t *revert_heights; /* reverted inclusion heights */
    size_t n_revert;
    const msgr_tipset_apply_t *apply;
    size_t n_apply;
    const msgr_tipset_t *cache_add; /* tipsets now processed */
    size_t n_cache_add;
    int64_t cache_keep; /* > 0: keep only the cache_keep highest cached tipsets (upstream ~900) */
} msgr_head_change_t;

typedef struct msgr_head_result {
    int64_t reverted;       /* rows moved back to FillMsg */
    int64_t onchain;        /* rows now OnChainMsg */
    int64_t nonce_conflict; /* rows now NonceConflictMsg */
} msgr_head_result_t;

/*
 * One transaction for one head change:
 *   reverts: OnChainMsg and NonceConflictMsg rows of active addresses with height in
 *   revert_heights go back to FillMsg (receipt {-1, NULL, 0}, height 0, tipset_key "{ }"),
 *   and the cache entries at or above the lowest reverted height are removed;
 *   applies: for each chain message whose From is an active address, the FillMsg row with that
 *   (from, nonce) becomes OnChainMsg when its signed_cid equals cid, else NonceConflictMsg,
 *   with the receipt, height and key of the apply entry; messages without a FillMsg row are
 *   ignored;
 *   cache: cache_add rows are upserted by height, then trimmed to cache_keep.
 * (Upstream reverts only OnChainMsg rows; a NonceConflict observed in a reverted tipset is
 * undone too, so the message is tracked again.)
 */
int msgr_store_head_apply(msgr_store_t *s, const msgr_head_change_t *hc, const msgr_fence_t *fence,
                          msgr_head_result_t *ret);

/* The cached tipsets, highest first (limit 0 = all). */
int msgr_store_tipset_list(msgr_store_t *s, int64_t limit, msgr_tipset_t **ret, size_t *ret_n);
int msgr_store_tipset_clear(msgr_store_t *s);

/* Small settings ("network_name"): get gives -ENOENT when absent; *ret malloc'ed. */
int msgr_store_kv_get(msgr_store_t *s, const char *key, char **ret);
int msgr_store_kv_set(msgr_store_t *s, const char *key, const char *value);

/* ================================ addresses ================================ */

/* Live (not deleted) address, any state. -ENOENT "record not found". */
int msgr_store_addr_get(msgr_store_t *s, const char *addr, msgr_address_t *ret);
int msgr_store_addr_has(msgr_store_t *s, const char *addr, bool *ret);
/* Creates a live Alive address with nonce 0 if there is none (a soft-deleted row is revived
 * with its nonce kept and its other settings reset). *ret_created (optional). */
int msgr_store_addr_ensure(msgr_store_t *s, const char *addr, bool *ret_created);
/* Live addresses by addr; active_only = state Alive only (ListActiveAddress). */
int msgr_store_addr_list(msgr_store_t *s, bool active_only, msgr_address_t **ret, size_t *ret_n);
/* UpdateNonce: raw overwrite (no error if the address is missing: returns 0 rows). */
int msgr_store_addr_set_nonce(msgr_store_t *s, const char *addr, uint64_t nonce);
int msgr_store_addr_set_sel_msg_num(msgr_store_t *s, const char *addr, uint64_t num);
/* SetFeeParams: floats applied when != 0, big ints when has_*. -ENOENT "address not exists". */
int msgr_store_addr_set_fee(msgr_store_t *s, const msgr_address_spec_t *spec);
/* ForbiddenAddress / ActiveAddress: MSGR_ADDR_FORBIDDEN / MSGR_ADDR_ALIVE. -ENOENT. */
int msgr_store_addr_set_state(msgr_store_t *s, const char *addr, int state);
/* DeleteAddress: soft delete (the row and its nonce are kept; messages are kept). -ENOENT. */
int msgr_store_addr_delete(msgr_store_t *s, const char *addr);

/* ============================== shared params ============================== */

int msgr_store_shared_get(msgr_store_t *s, msgr_shared_spec_t *ret);
/* Replaces the whole row (id forced to 1). */
int msgr_store_shared_set(msgr_store_t *s, const msgr_shared_spec_t *spec);

/* ================================ actor cfg ================================ */

/* SaveActorCfg: -EINVAL "code cid is undefined"; an empty id gets a new uuid (written back
 * to ret_id if given); upsert by id; -EEXIST if another row has (code, method). */
int msgr_store_actor_cfg_save(msgr_store_t *s, const msgr_actor_cfg_t *a, char ret_id[37]);
int msgr_store_actor_cfg_get(msgr_store_t *s, const char *id, msgr_actor_cfg_t *ret);
int msgr_store_actor_cfg_get_by_method(msgr_store_t *s, const vc_cid_t *code, uint64_t method,
                                       msgr_actor_cfg_t *ret);
int msgr_store_actor_cfg_list(msgr_store_t *s, msgr_actor_cfg_t **ret, size_t *ret_n);
/* UpdateActorCfg: only present fields change. -ENOENT. */
int msgr_store_actor_cfg_update(msgr_store_t *s, const char *id, const msgr_change_gas_spec_t *c);
int msgr_store_actor_cfg_delete(msgr_store_t *s, const char *id);

/* ================================== nodes ================================== */

/* SaveNode: upsert by id (empty id = new uuid); -EEXIST if another live node has the name. */
int msgr_store_node_save(msgr_store_t *s, const msgr_node_t *n, char ret_id[37]);
int msgr_store_node_get(msgr_store_t *s, const char *name, msgr_node_t *ret);
int msgr_store_node_has(msgr_store_t *s, const char *name, bool *ret);
int msgr_store_node_list(msgr_store_t *s, msgr_node_t **ret, size_t *ret_n);
/* Soft delete by name; -ENOENT "record not found". */
int msgr_store_node_delete(msgr_store_t *s, const char *name);

#endif
