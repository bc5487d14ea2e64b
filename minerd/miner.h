/*
 * miner.h: the venus-miner service: the mining set (from venus-auth), the mining loop
 * (spec/miner-and-node-api.md A.3), winner counting, warmup and per-miner state. The JSON-RPC
 * API (miner-api.c) and `run` (miner-daemon.c) sit on top.
 *
 * Upstream calls: the chain-node pool (Filecoin.* over HTTP; libvc nodepool: health checks,
 * per-method policies, failover; per-miner calls carry the miner address as seed), venus-gateway (Gateway.WalletSign,
 * Gateway.ComputeProof), venus-auth (REST), optional extra submit nodes. Each miner's work in an
 * epoch runs on a worker thread with its own deadline (MinerOnceTimeout): one slow or broken
 * miner never holds up the others; its error goes to its error ring (address state).
 */
#ifndef MINER_H
#define MINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "miner-store.h"
#include "vc/client.h"
#include "vc/clientset.h"
#include "vc/ha-peers.h"
#include "vc/ha.h"
#include "vc/metrics.h"
#include "vc/nodepool-store.h"
#include "vc/nodepool.h"

#define MINER_VERSION "1.19.0+venus-c"
#define MINER_API_VERSION 66048 /* v1.2.0 */
#define MINER_NODE_API_VERSION 131840 /* the full node must report v2.3.0 */
#define MINER_ERR_RING 20

typedef struct miner miner_t;

typedef struct miner_opts {
    vc_nodepool_t *pool;            /* the chain nodes: every Filecoin.* call goes through it */
    vc_nodepool_store_t *pool_store;/* its settings in the DB (the NodePool* methods); may be NULL */
    vc_client_t *const *submit;     /* fallback SyncSubmitBlock nodes, tried in order after the pool */
    size_t n_submit;
    vc_clientset_t *gateway;        /* every venus-gateway (/rpc/v2), active/active */
    vc_client_t *auth;              /* venus-auth REST */
    miner_store_t *store;
    vc_metrics_t *metrics;          /* may be NULL */
    int64_t propagation_ms;         /* PropagationDelaySecs */
    int64_t once_timeout_ms;        /* MinerOnceTimeout */
    int64_t mpool_select_timeout_ms;/* 0 = none */
    bool recorder;                  /* [Recorder] Enable */
    int64_t record_expire_epochs;   /* 0 = 20160 */
    int64_t record_max_query;       /* 0 = 288 */
    bool insecure_post;             /* INSECURE_POST_VALIDATION=1: no ComputeProof */
    bool no_fork_signaling;         /* DISABLE_FORK_SIGNALING=1 */
    vc_ha_elector_t *elector;       /* NULL: always mine; else only while it leads */
    vc_ha_presence_t *presence;     /* presence heartbeat for `ha status` peers; may be NULL */
} miner_opts_t;

int miner_new(const miner_opts_t *o, miner_t **ret);
/* Stops the loop and the refresher, waits for every worker, frees. */
miner_t *miner_free(miner_t *m);

/* Reads the node's network parameters (name, block delay, smoke height). Call before start. */
int miner_load_network(miner_t *m, char **ret_err);
char miner_net_prefix(const miner_t *m); /* 'f' on mainnet, else 't' */
const char *miner_network_name(const miner_t *m);
int64_t miner_block_delay_s(const miner_t *m);
/* Pulls the miner set and starts the mining loop and the 60 s refresher. */
int miner_start(miner_t *m, char **ret_err);

/* The HA elector (NULL when [HA] Enable = false). */
vc_ha_elector_t *miner_elector(miner_t *m);
/* The node pool's settings store (NULL when none was given). */
vc_nodepool_store_t *miner_pool_store(miner_t *m);
/* The presence heartbeat (may be NULL). */
vc_ha_presence_t *miner_presence(miner_t *m);

/* ---- the mining set (miner-set.c) ---- */

/* A.1 UpdateAddress: re-pulls users (state 1) and their miners from venus-auth; the mining set
 * becomes the miners with OpenMining. *ret = [MinerInfo] of the open ones. limit 0 = 20000. */
int miner_update_address(miner_t *m, int64_t skip, int64_t limit, json_t **ret, char **ret_err);
/* [MinerInfo] of every known miner; user != NULL keeps only that user's miners. */
json_t *miner_list_address(miner_t *m, const char *user);
/* [MinerState] for addrs (empty = all known), user filter as above. */
json_t *miner_states(miner_t *m, const char *const *addrs, size_t n, const char *user);
/* Start / Stop: UpsertMiner in venus-auth, then the set changes. Per-address failures are
 * logged and appended to that miner's error ring; the call succeeds (A.1). */
int miner_set_mining(miner_t *m, const char *const *addrs, size_t n, bool open);
/* True when addr (any spelling) is in the mining set; *ret_user gets its user name. */
bool miner_in_set(miner_t *m, const char *addr, char *ret_user, size_t user_size);
/* True when addr belongs to user among the known miners. */
bool miner_owned_by(miner_t *m, const char *addr, const char *user);
/* Appends "2006-01-02 15:04:05 <msg>" to addr's error ring (no-op for unknown miners). */
void miner_add_error(miner_t *m, const char *addr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- winner count and warmup (miner-winners.c) ---- */

/* A.3.6. addrs empty = the whole mining set. *ret = [CountWinners]. */
int miner_count_winners(miner_t *m, const char *const *addrs, size_t n, int64_t start, int64_t end, json_t **ret,
                        char **ret_err);
/* A.3.7: one ComputeProof over the miner's first active sector. */
int miner_warmup(miner_t *m, const char *addr, char **ret_err);

/* ---- records ---- */
int miner_query_record(miner_t *m, const char *addr, int64_t epoch, int64_t limit, json_t **ret, char **ret_err);

#endif
