/*
 * nodepool-store.h: a chain-node pool's settings kept in the daemon's database, changed at run
 * time by operators (the `node-pool` RPC methods and CLI), and followed by every instance that
 * shares the database.
 *
 * One row per service in table vc_nodepool_settings (component "vc_nodepool" of schema_version,
 * created by its own embedded migration, sqlite and PostgreSQL):
 *   service TEXT PRIMARY KEY, version BIGINT (1, 2, ... one step per change), settings TEXT
 *   (vc_nodepool_settings_json with tokens), updated_at_ms BIGINT.
 *
 * Start (vc_nodepool_store_new): the row, when there is one, is applied to the pool and wins
 * over the daemon's configuration. Without a row, the settings are seeded from the pool's
 * current options, the daemon's configured nodes (opts.seeds) and, with opts.seed_from_env,
 * $FULLNODE_API_POOL_INFO (an entry whose URL is already among the seeds is skipped), then saved
 * as version 1 (insert-if-absent: of two instances starting together, one seed wins and both
 * apply it).
 *
 * Changes (add / set / remove / policy / config): one transaction reads the row (locked), edits
 * the settings, validates the result as the pool would (vc_nodepool_check_settings) and writes
 * it with version + 1; only after the commit is it applied to the live pool. A refused change
 * writes nothing, leaves the pool as it was, returns -EINVAL (-ENOENT / -EEXIST for a missing /
 * taken node name, or a method without a policy of its own to drop) and a message for the
 * operator in *reterr_msg. The last node of a pool cannot be removed (add another one first).
 *
 * Following: a thread re-reads the row every opts.follow_ms and applies it when its version
 * differs from the one applied last, so a standby instance (or any instance sharing the
 * database) picks up an operator's change without a restart. With opts.metrics it also sets,
 * each period and after each change (names get the registry's prefix):
 *   node_pool_node_enabled{node}  1 / 0 (a removed node: 0)
 *   node_pool_node_height{node}   the node's head at its last heartbeat
 *   node_pool_best_height, node_pool_settings_version
 *
 * RPC (vc_nodepool_store_rpc) shapes, methods "<Namespace>.NodePool<Op>":
 *   NodePoolList   []                                   -> list object (below); read permission
 *   NodePoolAdd    [{"Name", "URL", "Token"?}]          -> change result; admin from here on
 *   NodePoolSet    [{"Name", "URL"?, "Token"?}]         (absent: unchanged)
 *   NodePoolRemove ["name"]
 *   NodePoolPolicy [{"Method", "Policy"?, "Timeout"?, "NoHang"?}]
 *                  Method: a full name ("Filecoin.ChainHead"), a short one ("ChainHead" gets
 *                  "Filecoin."), or "default" for DefaultMethod; Policy null or absent drops the
 *                  method's entry (the built-in default or DefaultMethod applies again).
 *   NodePoolConfig [{"MaxSyncBehind": 3, "HeartbeatInterval": "2s", ...}]   ({}: no change)
 *                  keys are the pool's option keys (case-insensitive); durations as "5s"
 * list object:   vc_nodepool_status (BestHeight, HeadNode, Seeds, Nodes[...]) plus
 *                "Version" (applied) and "Settings" (vc_nodepool_settings_json without tokens)
 * change result: {"Version": n, "Settings": settings without tokens}
 *
 * Library code: logs at debug level only; the daemon logs what it reports.
 */
#ifndef VC_NODEPOOL_STORE_H
#define VC_NODEPOOL_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "vc/db.h"
#include "vc/metrics.h"
#include "vc/authn.h"
#include "vc/nodepool.h"
#include "vc/rpc.h"

#define VC_NODEPOOL_STORE_FOLLOW_MS 3000
#define VC_NODEPOOL_STORE_SERVICE_MAX 128

typedef struct vc_nodepool_store vc_nodepool_store_t;

typedef struct vc_nodepool_store_opts {
    const char *service;                  /* row key, 1..VC_NODEPOOL_STORE_SERVICE_MAX: "miner" */
    const vc_nodepool_node_conf_t *seeds; /* the daemon's configured nodes (seed only) */
    size_t n_seeds;
    bool seed_from_env;    /* seed also from $FULLNODE_API_POOL_INFO */
    int follow_ms;         /* re-read period; 0 = VC_NODEPOOL_STORE_FOLLOW_MS; < 0 = no thread */
    vc_metrics_t *metrics; /* may be NULL */
} vc_nodepool_store_opts_t;

/* Creates the table if needed, loads or seeds the settings, applies them to pool (borrowed: it
 * must outlive the store) and starts the follower. On error nothing is left running, and
 * *reterr_msg (optional) says why ("FULLNODE_API_POOL_INFO: entry 2: ...", "database: ..."). */
int vc_nodepool_store_new(vc_db_t *db, vc_nodepool_t *pool, const vc_nodepool_store_opts_t *opts,
                          vc_nodepool_store_t **ret, char **reterr_msg);
/* A daemon's pool in one step: vc_nodepool_new (defaults, call_timeout_ms > 0 as CallTimeout),
 * then vc_nodepool_store_new for the row "<base>" or, with a non-empty scope, "<base>/<scope>",
 * seeded with seed (skipped when its url is empty) and $FULLNODE_API_POOL_INFO. On error both
 * are NULL and *reterr_msg (malloc'ed) says why. */
int vc_nodepool_open(vc_db_t *db, const char *base, const char *scope, const vc_nodepool_node_conf_t *seed,
                     int call_timeout_ms, vc_metrics_t *metrics, vc_nodepool_t **ret_pool,
                     vc_nodepool_store_t **ret_store, char **reterr_msg);
/* Stops the follower. Accepts NULL; returns NULL. */
vc_nodepool_store_t *vc_nodepool_store_free(vc_nodepool_store_t *s);

/* True when this start saved the seed (no row existed); false when a stored row was applied. */
bool vc_nodepool_store_seeded(const vc_nodepool_store_t *s);
/* When a stored row was applied: how the configured nodes (opts.seeds) differ from it (a node
 * missing, another URL, another token; tokens are not shown), ending with the `node-pool`
 * command that would change it; NULL when they agree. Owned by the store. */
const char *vc_nodepool_store_seed_drift(const vc_nodepool_store_t *s);
/* The version applied to the pool last. */
int64_t vc_nodepool_store_version(vc_nodepool_store_t *s);
/* One follower step now: 1 when a different version was applied, 0 when unchanged (or no row),
 * < 0 on a database error or a stored row the pool refuses (kept: the pool stays as it was). */
int vc_nodepool_store_sync(vc_nodepool_store_t *s);

/* Changes (see the top). *ret_version (may be NULL) gets the new version. */
int vc_nodepool_store_add(vc_nodepool_store_t *s, const vc_nodepool_node_conf_t *node, int64_t *ret_version,
                          char **reterr_msg);
/* url / token NULL: unchanged ("" clears the token). */
int vc_nodepool_store_set(vc_nodepool_store_t *s, const char *name, const char *url, const char *token,
                          int64_t *ret_version, char **reterr_msg);
int vc_nodepool_store_remove(vc_nodepool_store_t *s, const char *name, int64_t *ret_version, char **reterr_msg);
/* method: as in NodePoolPolicy; m NULL drops the entry (not for "default"). */
int vc_nodepool_store_policy(vc_nodepool_store_t *s, const char *method, const vc_nodepool_method_t *m,
                             int64_t *ret_version, char **reterr_msg);
/* options: an object of option keys as in NodePoolConfig. */
int vc_nodepool_store_config(vc_nodepool_store_t *s, const json_t *options, int64_t *ret_version,
                             char **reterr_msg);

/* The list object (see the top). */
int vc_nodepool_store_list(vc_nodepool_store_t *s, json_t **ret);

/* Runs NodePool<Op> (the part of method after its last '.') with its params array (borrowed).
 * -EINVAL with *reterr_msg for bad params or a refused change; -ENOSYS for another method. */
int vc_nodepool_store_rpc(vc_nodepool_store_t *s, const char *method, const json_t *params, json_t **ret,
                          char **reterr_msg);
/* True for the NodePool methods that change settings (they need admin permission). */
bool vc_nodepool_store_rpc_writes(const char *method);
/* The whole JSON-RPC method for a daemon's table: vc_nodepool_store_rpc on the call's method and
 * params, its error as an application error, and a notice in the log (under subsystem, with
 * the new settings version and the caller) for a change. s NULL: "this instance has no
 * chain-node pool". */
int vc_nodepool_store_rpc_answer(vc_nodepool_store_t *s, vc_rpc_call_t *call, json_t *params, json_t **ret,
                                 const char *subsystem);
/* The six method-table entries (names, permissions, param counts) for namespace ns, each
 * answered by fn, a daemon wrapper around vc_nodepool_store_rpc (List is read-only and fast). */
#define VC_NODEPOOL_RPC_METHODS(ns, fn)                                                                               \
    {ns ".NodePoolList", VC_PERM_READ, 0, (fn), VC_RPC_FAST}, {ns ".NodePoolAdd", VC_PERM_ADMIN, 1, (fn), 0},          \
        {ns ".NodePoolSet", VC_PERM_ADMIN, 1, (fn), 0}, {ns ".NodePoolRemove", VC_PERM_ADMIN, 1, (fn), 0},             \
        {ns ".NodePoolPolicy", VC_PERM_ADMIN, 1, (fn), 0}, {ns ".NodePoolConfig", VC_PERM_ADMIN, 1, (fn), 0}

#endif
