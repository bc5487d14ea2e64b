/*
 * nodepool.h: a pool of chain nodes (Lotus/Venus full nodes) for venus-messager and venus-miner.
 *
 * A pool holds up to VC_NODEPOOL_MAX_NODES named nodes {name, url, token}. Every node gets a
 * heartbeat (ChainHead, SyncState, NetPeers; NetPubsubScores when a peer minimum is set) every
 * heartbeat_ms; a node is *disabled* while
 *   - it has not answered a heartbeat yet, or its last heartbeat failed,
 *   - its head is more than max_sync_behind epochs below the best head of the pool (or its own
 *     SyncState target is that far ahead of its head: it is still syncing),
 *   - it has fewer than min_block_peers / min_message_peers peers in the /fil/blocks/ and
 *     /fil/msgs/ gossip topics (from NetPubsubScores; a node without that method counts every
 *     NetPeers entry for both),
 *   - its last max_call_errors calls failed in transport (refused, reset, timed out, non-JSON
 *     HTTP answer); the next good heartbeat clears this,
 * and enabled again by the first heartbeat that finds it healthy. Disabled nodes get no calls.
 *
 * Calls (vc_nodepool_call) are scheduled by the method's policy (vc_nodepool_method_t: the
 * per-method table, then built-in defaults, then opts.default_method):
 *   OneByIndexAsc / OneByIndexDesc   enabled nodes in list order / reverse list order
 *   OneByIdRound                     round robin over the enabled nodes, one step per call
 *   OneByChainHeadDesc               highest head first (ties: list order)
 *   OneByMessagePeersDesc / OneByBlockPeersDesc   most topic peers first
 *   OneBySeedRound (default)         a call with a seed (e.g. the sender address) goes to the node
 *                                    the seed is bound to; a new seed, or one whose node is
 *                                    disabled or gone, is bound round robin to an enabled node and
 *                                    stays there (so pushes for one address reach one node in
 *                                    nonce order); a seed whose call succeeded on a fallback node
 *                                    is re-bound to it. Without a seed: round robin.
 *   AllWithFirstSucceed              sent to every enabled node at once; the first success is
 *                                    returned (the other answers are dropped), else the most
 *                                    telling failure (application error before transport error).
 * A "One*" call moves on to the next node of its order (each node at most once) on
 *   - a transport error (the node's error count goes up and it is probed at once),
 *   - an error whose message says "block not found" (or "tipset not found", "ipld: could not
 *     find") when the call carries a tipset key, an epoch or a CID (a node that has not seen
 *     the block yet),
 *   - an error saying "actor not found" when the call carries an address,
 * and returns any other answer, success or application error, as it is. Each attempt is bounded
 * by the method's timeout_ms (0: opts.call_timeout_ms); a node that runs over it counts as a
 * transport failure. When no node is enabled, a no_hang method fails at once with
 * -EHOSTUNREACH; any other waits up to its timeout for one to become enabled.
 *
 * Head changes: vc_nodepool_subscribe_heads keeps one Filecoin.ChainNotify subscription (over
 * WebSocket) on an enabled node with the highest head. When that node is disabled, removed or
 * its channel ends, the subscription is closed and opened again on another enabled node; the
 * first notification of every subscription (ChainNotify's [{"Type":"current",...}]) is passed
 * with fresh = true so the consumer can reconcile from it.
 *
 * Settings are hot: nodes, options and the method table change at run time (thread-safe), take
 * effect at the next call or heartbeat, and round-trip through one JSON object
 * (vc_nodepool_settings_json / vc_nodepool_apply_settings) that a daemon stores in its DB:
 *
 *   {"Nodes": [{"Name": "n1", "URL": "/ip4/127.0.0.1/tcp/1234", "Token": "..."}],
 *    "HeartbeatInterval": "5s", "HeartbeatTimeout": "3s", "MaxSyncBehind": 2,
 *    "MinBlockPeers": 0, "MinMessagePeers": 0, "MaxCallErrors": 3, "CallTimeout": "30s",
 *    "MaxSeeds": 65536,
 *    "DefaultMethod": {"Policy": "OneBySeedRound", "Timeout": "0s", "NoHang": false},
 *    "Methods": {"Filecoin.MpoolPush": {"Policy": "OneBySeedRound", "Timeout": "10s", "NoHang": true}}}
 *
 * Durations are Go-style strings ("500ms", "5s", "1m30s"). Endpoints without a path get
 * /rpc/v1. TCP connects give up after 3 s (or the attempt's timeout when shorter). The pool logs at debug
 * level only (STYLE rule 19); vc_nodepool_status is the place to look, and what a `node-pool list` command or
 * /metrics shows.
 */
#ifndef VC_NODEPOOL_H
#define VC_NODEPOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vc/rpc.h"

#define VC_NODEPOOL_MAX_NODES 64
#define VC_NODEPOOL_NAME_MAX 64     /* name length without the NUL */
#define VC_NODEPOOL_MAX_METHODS 512 /* per-method entries set at run time */
#define VC_NODEPOOL_ENV "FULLNODE_API_POOL_INFO"
#define VC_NODEPOOL_DEFAULT_PATH "/rpc/v1"

typedef struct vc_nodepool vc_nodepool_t;

typedef enum vc_nodepool_policy {
    VC_NODEPOOL_ONE_BY_INDEX_ASC,
    VC_NODEPOOL_ONE_BY_INDEX_DESC,
    VC_NODEPOOL_ONE_BY_ID_ROUND,
    VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC,
    VC_NODEPOOL_ONE_BY_MESSAGE_PEERS_DESC,
    VC_NODEPOOL_ONE_BY_BLOCK_PEERS_DESC,
    VC_NODEPOOL_ONE_BY_SEED_ROUND,
    VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED,
    VC_NODEPOOL_POLICY_MAX,
} vc_nodepool_policy_t;

/* "OneByIndexAsc", ... (the names above); NULL for an invalid value. */
const char *vc_nodepool_policy_to_string(vc_nodepool_policy_t p);
/* Case-insensitive; -EINVAL for an unknown name. */
int vc_nodepool_policy_from_string(const char *s, vc_nodepool_policy_t *ret);

typedef struct vc_nodepool_method {
    vc_nodepool_policy_t policy;
    int timeout_ms; /* per attempt on one node; 0 = opts.call_timeout_ms */
    bool no_hang;   /* no enabled node: fail at once instead of waiting up to the timeout */
} vc_nodepool_method_t;

typedef struct vc_nodepool_opts {
    int heartbeat_ms;         /* 100 .. 1 h, default 5000 */
    int heartbeat_timeout_ms; /* each heartbeat call, 100 .. 10 min, default 3000 */
    int max_sync_behind;      /* epochs, 0 .. 1000000, default 2 */
    int min_block_peers;      /* default 0 (no minimum) */
    int min_message_peers;    /* default 0 */
    int max_call_errors;      /* consecutive transport failures that disable, 1 .. 1000, default 3 */
    int call_timeout_ms;      /* default attempt timeout, 100 .. 1 h, default 30000 */
    int max_seeds;            /* seed bindings kept, least recently used dropped, 1 .. 1<<24, 65536 */
    vc_nodepool_method_t default_method; /* default {OneBySeedRound, 0, false} */
} vc_nodepool_opts_t;

/* The defaults above. */
void vc_nodepool_opts_init(vc_nodepool_opts_t *ret);

/* A node as configured. name: 1..VC_NODEPOOL_NAME_MAX of [A-Za-z0-9._-], not all digits;
 * url: "http(s)://host:port[/path]", "ws(s)://...", "host:port" or a multiaddr; token may be
 * NULL or "". */
typedef struct vc_nodepool_node_conf {
    char *name;
    char *url;
    char *token;
} vc_nodepool_node_conf_t;

void vc_nodepool_node_confs_free(vc_nodepool_node_conf_t *nodes, size_t n);

/*
 * Parses FULLNODE_API_POOL_INFO: comma-separated "token:address[:name]" entries, e.g.
 *   "eyJ...:/ip4/10.0.0.1/tcp/1234:main,eyJ...:/ip4/10.0.0.2/tcp/1234:backup"
 * The token ends at the first ':' (it may be empty). A trailing ":name" is taken as the name
 * when it is a valid name (so not all digits: "http://h:1234" keeps 1234 as its port); nodes
 * without one are called "node<N>" (N = 1-based position). Blanks around entries are ignored.
 * On error returns -EINVAL and, when reterr_msg is not NULL, a malloc'ed message naming the
 * entry (never the token), e.g. "entry 2: bad address '/ip4/x/tcp'". On success the caller
 * owns *ret_nodes (vc_nodepool_node_confs_free).
 */
int vc_nodepool_parse_info(const char *s, vc_nodepool_node_conf_t **ret_nodes, size_t *ret_n,
                           char **reterr_msg);

/* opts may be NULL (defaults). Starts the heartbeat thread; the pool starts empty. */
int vc_nodepool_new(const vc_nodepool_opts_t *opts, vc_nodepool_t **ret);
/* Ends the subscription, waits for calls in flight on the pool's threads, frees. Calls made by
 * other threads must have returned. Accepts NULL. */
vc_nodepool_t *vc_nodepool_free(vc_nodepool_t *p);

/* Adds a node at the end (disabled until its first heartbeat, which runs at once). -EEXIST for
 * a name in use, -EINVAL for a bad name or url, -E2BIG beyond VC_NODEPOOL_MAX_NODES. */
int vc_nodepool_add(vc_nodepool_t *p, const vc_nodepool_node_conf_t *node);
/* -ENOENT when absent. Calls in flight on that node finish. */
int vc_nodepool_remove(vc_nodepool_t *p, const char *name);
/* Adds, or replaces the url/token of the node of that name in place (a replaced node starts
 * over: disabled until its next heartbeat). Setting the same url and token is a no-op. */
int vc_nodepool_set(vc_nodepool_t *p, const vc_nodepool_node_conf_t *node);
/* Adds the nodes of $FULLNODE_API_POOL_INFO (unset or empty: nothing). Returns the number
 * added, or a negative error with *reterr_msg as from vc_nodepool_parse_info (or "node 'x':
 * name in use"); no node is added then. */
int vc_nodepool_add_from_env(vc_nodepool_t *p, char **reterr_msg);

/* -EINVAL (nothing changed) when a value is out of range. */
int vc_nodepool_set_opts(vc_nodepool_t *p, const vc_nodepool_opts_t *opts);
void vc_nodepool_get_opts(vc_nodepool_t *p, vc_nodepool_opts_t *ret);
/* Sets (m != NULL) or drops (m == NULL) the entry of a full method name ("Filecoin.MpoolPush").
 * -E2BIG beyond VC_NODEPOOL_MAX_METHODS entries, -EINVAL for a bad value. */
int vc_nodepool_set_method(vc_nodepool_t *p, const char *method, const vc_nodepool_method_t *m);
/* The effective setting for a method: its entry, else the built-in default, else
 * opts.default_method. Built-in: ChainHead, MinerGetBaseInfo, MinerCreateBlock, MpoolSelects
 * OneByChainHeadDesc; SyncSubmitBlock AllWithFirstSucceed; StateWaitMsg 10 min timeout. */
void vc_nodepool_get_method(vc_nodepool_t *p, const char *method, vc_nodepool_method_t *ret);

/* The settings object shown above. Tokens are included only when with_tokens (to store it);
 * a copy for display leaves them out. */
int vc_nodepool_settings_json(vc_nodepool_t *p, bool with_tokens, json_t **ret);
/*
 * Applies a settings object: every key is optional; a missing option gets its default; when
 * "Nodes" is present the pool becomes exactly that list in that order (unchanged nodes keep
 * their state, changed ones are replaced, absent ones removed); "Methods", when present,
 * replaces every per-method entry. Everything is validated first: on error nothing changes,
 * -EINVAL is returned and *reterr_msg (if not NULL) is a malloc'ed message such as
 * "Methods.Filecoin.ChainHead.Policy: unknown policy 'Fastest'".
 */
int vc_nodepool_apply_settings(vc_nodepool_t *p, const json_t *settings, char **reterr_msg);
/* The validation of vc_nodepool_apply_settings alone (no pool touched): 0, or -EINVAL with
 * *reterr_msg as there. For a change that is stored first and applied after its commit. */
int vc_nodepool_check_settings(const json_t *settings, char **reterr_msg);

/*
 * JSON-RPC call through the pool (see the top of this file). params is stolen (NULL = []).
 * seed (may be NULL) binds the call to a node under OneBySeedRound, e.g. the sender address of
 * a push. Returns 0 with *ret_result (new reference); VC_EREMOTE with *ret_err for an error
 * answer; VC_EHTTP / VC_ETRANSPORT when every node tried failed in transport;
 * -EHOSTUNREACH (ret_err->message "no healthy chain node") when no node is enabled.
 */
int vc_nodepool_call(vc_nodepool_t *p, const char *method, json_t *params, const char *seed,
                     json_t **ret_result, vc_rpc_err_t *ret_err);
/* The same; *ret_node (may be NULL) gets the malloc'ed name of the node whose answer is
 * returned (NULL when none answered). */
int vc_nodepool_call_ex(vc_nodepool_t *p, const char *method, json_t *params, const char *seed,
                        char **ret_node, json_t **ret_result, vc_rpc_err_t *ret_err);

/* What became of a call besides its answer (vc_nodepool_call_report). */
typedef struct vc_nodepool_report {
    char node[VC_NODEPOOL_NAME_MAX + 1]; /* the node whose answer is returned ("" when none) */
    unsigned tried;                      /* nodes the call was sent to */
    unsigned unanswered;                 /* of those, the ones that gave no JSON-RPC answer
                                          * (transport failure, HTTP error, timeout): they may
                                          * have acted on the call all the same */
} vc_nodepool_report_t;
/* The same with a report (ret_report may be NULL). A failure with unanswered == 0 means every
 * node tried answered with an error, or none was tried: no node acted on the call (e.g. a block
 * nobody published). AllWithFirstSucceed returns at the first success, so a success's counts
 * cover the answers in by then; a failure's cover every node. */
int vc_nodepool_call_report(vc_nodepool_t *p, const char *method, json_t *params, const char *seed,
                            vc_nodepool_report_t *ret_report, json_t **ret_result, vc_rpc_err_t *ret_err);

/*
 * Head changes. fn(changes, node, fresh, userdata) runs on the subscription's connection
 * thread, one call at a time, with the borrowed ChainNotify value (an array of
 * {"Type": "current"|"apply"|"revert", "Val": tipset}); fresh is true for the first value of
 * every (re)subscription. fn may call vc_nodepool_call and vc_nodepool_status, but not
 * vc_nodepool_unsubscribe_heads or vc_nodepool_free. -EBUSY when a subscription exists.
 */
typedef void (*vc_nodepool_head_fn)(json_t *changes, const char *node, bool fresh, void *userdata);
int vc_nodepool_subscribe_heads(vc_nodepool_t *p, vc_nodepool_head_fn fn, void *userdata);
/* Closes the subscription; fn is not called any more once this returns. */
void vc_nodepool_unsubscribe_heads(vc_nodepool_t *p);

/* Waits until at least one node is enabled: 0, or -ETIMEDOUT. */
int vc_nodepool_wait_ready(vc_nodepool_t *p, int timeout_ms);

/*
 * {"BestHeight": n, "HeadNode": name|null, "Seeds": bound seeds,
 *  "Nodes": [{"Name", "URL", "Enabled", "Reason" ("" when enabled), "Height", "SyncTarget",
 *             "Peers", "BlockPeers", "MessagePeers" (-1 = unknown), "Calls", "Errors"
 *             (transport failures), "ConsecutiveErrors", "LastHeartbeat" (unix ms, 0 = never),
 *             "HeartbeatError", "Seeds"}]}
 * Tokens are never shown.
 */
int vc_nodepool_status(vc_nodepool_t *p, json_t **ret);

#endif
