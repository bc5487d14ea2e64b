/*
 * msgr-service.h: venus-messager's service core (spec/messager.md section 4): ingest, head
 * tracking from the node's ChainNotify, the per-address selection round after the stable-head
 * delay, signing through venus-gateway, publishing with MpoolBatchPushUntrusted, expiry, and
 * the upstream helpers the API needs (venus-auth signer lookups, StateAccountKey, WalletHas).
 *
 * Chain nodes: every node call goes through the pool (vc/nodepool.h): pushes carry the sender
 * address as seed, so one address's messages reach one node in nonce order; heads come from
 * the pool's ChainNotify subscription, which moves to a healthy node when its node fails.
 *
 * One head thread owns chain tracking and selection (rounds are serialized); API calls run on
 * the RPC workers and only touch the store and the upstream clients, all thread-safe.
 *
 * HA (DESIGN.md section 5, issue 8): with opts.ha enabled the service runs an elector on the
 * store's database (service "messager", the configured scope). Only the lease holder processes
 * heads, assigns nonces, signs and pushes; every one of its writes that assigns or changes a
 * nonce or a signature (nonce sync, fill, head apply, replace, recover) carries the fencing
 * token of the term the work started in and is refused by the database once that term is over.
 * A standby accepts pushes (they only add unfilled rows) and serves reads.
 * Group mode ([HA] Addresses non-empty, with a Scope per group): the instances of each scope
 * elect one sender that selects, signs and pushes only the group's addresses, and all instances
 * of every group elect one head processor (service "messager-head"), so several senders share
 * the work and one writer tracks the chain. Groups must not overlap (the expected-nonce check
 * and the UNIQUE (from, nonce) index still refuse a second filler). A new leader
 * processes the current head at once: its first round re-pushes the stored signed messages
 * (FillMsg rows, the same bytes) before selecting new ones; a nonce is never signed again.
 *
 * Errors: negative errno / VC_E*; msgr_service_errmsg() gives this thread's last error text,
 * already in the upstream wording where one exists ("address(<a>) is forbidden", ...).
 */
#ifndef MSGR_SERVICE_H
#define MSGR_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "msgr-pushq.h"
#include "msgr-store.h"
#include "msgr-types.h"
#include "vc/client.h"
#include "vc/clientset.h"
#include "vc/ha-ops.h"
#include "vc/metrics.h"
#include "vc/notify.h"
#include "vc/nodepool.h"

typedef struct msgr_service msgr_service_t;

typedef struct msgr_service_opts {
    msgr_store_t *store;  /* borrowed */
    vc_nodepool_t *pool;  /* the chain nodes (vc/nodepool.h), borrowed */
    vc_clientset_t *gateway; /* every venus-gateway (/rpc/v2, "Gateway."), borrowed; NULL = cannot sign */
    vc_client_t *auth;    /* venus-auth REST, borrowed; NULL = no accounts (signer checks fail) */
    int64_t stable_ms;    /* WaitingChainHeadStableDuration */
    unsigned select_concurrency; /* addresses selected at once in a round; 0 = one per CPU */
    bool skip_process_head, skip_push;
    bool multi_node; /* enableMultiNode: publish to the nodes table too (msgr-fanout.h) */
    vc_metrics_t *metrics;      /* may be NULL: address_pending_msgs{address,state} */
    const vc_ha_settings_t *ha; /* [HA]; NULL or not enabled: this instance always leads */
    char **ha_addresses;        /* [HA] Addresses (canonical 'f' strings, NULL-terminated; NULL or
                                 * empty: every address); non-empty = group mode */
    vc_notify_t *notify;        /* lease events go there (vc/notify.h), borrowed; NULL = off */
} msgr_service_opts_t;

int msgr_service_new(const msgr_service_opts_t *opts, msgr_service_t **ret);
/* Reads the network parameters, starts the elector (with [HA] Enable), the presence heartbeat
 * (vc/ha-peers.h: instance = the elector's holder id, advertising api_addr, NULL = "") and the
 * head thread. */
int msgr_service_start(msgr_service_t *s, const char *api_addr);
/* The elector once started; NULL without HA. */
vc_ha_elector_t *msgr_service_elector(msgr_service_t *s);
/* The presence once started (NULL before). */
vc_ha_presence_t *msgr_service_presence(msgr_service_t *s);
/* Stops the head thread (if running) and frees. */
msgr_service_t *msgr_service_free(msgr_service_t *s);

const char *msgr_service_errmsg(void);
msgr_store_t *msgr_service_store(msgr_service_t *s);

/* The last head height seen (ChainNotify, else ChainHead on demand); for Confidence. */
int64_t msgr_service_head_height(msgr_service_t *s);
int64_t msgr_service_block_delay_ms(msgr_service_t *s);
/* Number of selection rounds run so far (tests, metrics). */
uint64_t msgr_service_rounds(msgr_service_t *s);

/* Counters for /metrics. */
typedef struct msgr_service_stats {
    uint64_t push_batches, push_msgs;                     /* group commits of pushes, messages in them */
    uint64_t node_pushes, node_push_errors, node_dropped; /* extra nodes (msgr_fanout_stats_t) */
} msgr_service_stats_t;
void msgr_service_stats(msgr_service_t *s, msgr_service_stats_t *ret);

/* Node call helper: Filecoin.<method> through the pool (no seed); the remote's error text in
 * msgr_service_errmsg(). */
int msgr_service_node_call(msgr_service_t *s, const char *method, json_t *params, json_t **ret);

/* venus-auth REST GET with the service token; *ret is the parsed JSON body (200 only). */
int msgr_service_auth_get(msgr_service_t *s, const char *path_query, json_t **ret);
/* venus-auth: the users a signer is bound to (GET /user/signer?signer=). *ret is a
 * NULL-terminated vector (one allocation, free() it). */
int msgr_service_signer_users(msgr_service_t *s, const char *signer, char ***ret, size_t *ret_n);
/* venus-auth GET /user/signer/exist?user=&signer=. */
int msgr_service_signer_exist(msgr_service_t *s, const char *user, const char *signer, bool *ret);
/* An ID address is replaced by its key address (StateAccountKey); others are left alone. */
int msgr_service_resolve_from(msgr_service_t *s, vc_address_t *addr);
/* Gateway.WalletHas(addr, accounts) for the accounts bound to addr. */
int msgr_service_wallet_has(msgr_service_t *s, const char *addr, bool *ret);
/* The two above answered from the lookup cache only: -EWOULDBLOCK when venus-auth or the
 * gateway would have to be asked (for threads that must not wait). */
int msgr_service_signer_exist_cached(msgr_service_t *s, const char *user, const char *signer, bool *ret);
int msgr_service_wallet_has_cached(msgr_service_t *s, const char *addr, bool *ret);

/* Shutdown, before the API stops serving: new pushes are refused ("shutting down", nothing
 * stored) and every push already taken is committed and answered with its id, so that no client
 * gets an error for a message that was stored after all. NULL-safe. */
void msgr_service_stop_pushes(msgr_service_t *s);

/* Ingest (spec 4.1 steps 2-4): id NULL = a new UUIDv7 (time-ordered, so that the id index grows
 * at its end; upstream makes UUIDv4). The From must already be resolved and checked. msg is
 * copied; Nonce forced to 0. ret_id (optional) gets the id. The write is group
 * committed with the pushes running at the same time (msgr-pushq.h); it returns once the
 * message is in the database. */
int msgr_service_push(msgr_service_t *s, const char *id, const vc_message_t *msg, const msgr_send_spec_t *meta,
                      const char *wallet_name, char ret_id[MSGR_ID_MAX + 1]);
/*
 * msgr_service_push in two steps, for callers that must not wait for the write: check (with
 * may_block false the wallet lookup comes from the cache only, -EWOULDBLOCK asking to call
 * again where waiting is allowed), then queue, which returns at once; done(userdata, m, r,
 * errmsg) runs on the writer thread once the message is committed or failed, unless queueing
 * fails (-ENOMEM, -ESHUTDOWN). m->id is the message's id.
 */
int msgr_service_push_check(msgr_service_t *s, const char *id, const vc_message_t *msg, bool may_block);
int msgr_service_push_queue(msgr_service_t *s, const char *id, const vc_message_t *msg, const msgr_send_spec_t *meta,
                            const char *wallet_name, msgr_pushq_done_fn done, void *userdata);

/* Filled-message resync through StateSearchMsg (spec 4.8): one row / every FillMsg row of
 * active addresses (returns the count that became OnChainMsg). */
int msgr_service_update_filled(msgr_service_t *s, const char *id);
int msgr_service_update_all_filled(msgr_service_t *s);
/* Pushes the stored signed FillMsg row to the node now. -ENOENT unknown id. */
int msgr_service_republish(msgr_service_t *s, const char *id);

/* RecoverFailedMsg (spec 4.7): StateGetActor(addr, []); when the address nonce is not behind
 * the actor nonce, every signed FailedMsg row with nonce >= the actor nonce becomes FillMsg.
 * *ret_ids (NULL when none; msgr_strv_free) gets their ids. */
int msgr_service_recover_failed(msgr_service_t *s, const char *addr, char ***ret_ids, size_t *ret_n);
/* ReplaceMessage (spec 4.7, with the spec 10 fixes): new fees for a FillMsg row (auto: node
 * estimate with the RBF floor and the MaxFee cap; manual: the given values, checked), re-signed
 * through the gateway, saved and pushed at once. *ret gets the new signed CID. */
int msgr_service_replace(msgr_service_t *s, const msgr_replace_params_t *p, vc_cid_t *ret);
/* Send (spec 4.1 step 5) after the API's signer check: builds the message from QuickSendParams
 * (ParamsType "hex", or "json" typed by the method of the To actor's code: msgr-builtin.h) and
 * pushes it with no meta and an empty WalletName. From must already be resolved. */
int msgr_service_send(msgr_service_t *s, const msgr_quick_send_t *q, char ret_id[MSGR_ID_MAX + 1]);

#endif
