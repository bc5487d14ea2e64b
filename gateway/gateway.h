/*
 * gateway.h: venus-gateway internals (spec/auth-gateway.md part B).
 *
 * Wallets and provers dial in over WebSocket and call Listen{Wallet,Proof,Market}Event; each such
 * call is a gw_chan_t (a "channel" with a ChannelId) through which the gateway pushes
 * RequestEvents. Answers come back through Response*Event and are matched by event Id in the
 * stream's pending map (gw-stream.c). The registry (gw-registry.c) holds who serves which
 * address / miner and routes WalletSign, ComputeProof and SectorsUnsealPiece, with retries on
 * the next connection that holds the address. gw-api.c is the JSON-RPC surface, gw-proxy.c the
 * X-VENUS-API-NAMESPACE reverse proxy, gw-daemon.c `run`, gw-cli.c the client commands.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vc/authn.h"
#include "vc/cli.h"
#include "vc/client.h"
#include "vc/gofmt.h"
#include "vc/ha.h"
#include "vc/http.h"
#include "vc/metrics.h"
#include "vc/rpc.h"
#include "vc/workq.h"

#define GW_VERSION "1.18.0+venus-c"
#define GW_DEFAULT_LISTEN "/ip4/127.0.0.1/tcp/45132"

typedef enum gw_kind {
    GW_WALLET,
    GW_PROOF,
    GW_MARKET,
    GW_KIND_MAX,
} gw_kind_t;

/* ---- configuration (gw-config.c) ---- */

typedef enum gw_host {
    GW_HOST_VENUS,
    GW_HOST_DROPLET,
    GW_HOST_MESSAGER,
    GW_HOST_AUTH,
    GW_HOST_MINER,
    GW_HOST_GATEWAY,
    GW_HOST_MAX,
} gw_host_t;

typedef struct gw_config {
    char *listen;
    char *auth_url;
    char *auth_token;
    char *upstream[GW_HOST_MAX]; /* proxy upstreams from the config (AUTH = auth_url) */
    int64_t timeout_ms[GW_KIND_MAX];
    int64_t clear_interval_ms; /* sweeper period */
    int64_t queue_size;        /* outstanding requests per channel */
    int64_t max_attempts;      /* connections tried per WalletSign / ComputeProof */
    int64_t reverify_ms;       /* WebSocket token re-verification */
    int64_t verify_cache_ms;   /* remote /verify cache TTL */
    char **trusted_accounts;   /* wallet accounts whose BLS / f4 addresses are accepted unverified */
    size_t n_trusted;
    bool metrics_enabled;
} gw_config_t;

/* Loads <repo>/config.toml, writing the default file first when the repo is new
 * (*ret_created). On failure *ret_err may hold a message (malloc'ed). */
int gw_config_load(const char *repo, gw_config_t *ret, bool *ret_created, char **ret_err);
void gw_config_done(gw_config_t *c);
/* "VENUS" -> GW_HOST_VENUS ...; -1 when unknown. */
int gw_host_from_string(const char *s);
const char *gw_host_to_string(gw_host_t h);
/* Repo path from --repo / env / default; malloc'ed. */
char *gw_repo_path(vc_cli_ctx_t *ctx);

/* ---- the gateway state ---- */

typedef struct gw gw_t;
typedef struct gw_chan gw_chan_t;
typedef struct gw_stream gw_stream_t;

struct gw_chan {
    atomic_int refs;
    atomic_bool link_released; /* the rpc channel can no longer call us back */
    gw_t *gw;
    gw_kind_t kind;
    char id[37];                    /* ChannelId */
    char ip[64];                    /* caller's ip:port */
    char account[VC_AUTH_NAME_MAX]; /* token user */
    char create_time[VC_GOTIME_STRLEN_MAX]; /* RFC3339Nano, local time */
    vc_rpc_chan_t *rpc;
    vc_rpc_conn_t *conn; /* borrowed: valid while the link is held */
    /* stream lock */
    int outstanding;
    bool closed;
    /* gw->lock */
    bool registered; /* visible to routing */
    bool detached;
    char **addrs; /* wallet: verified addresses */
    size_t n_addrs;
    char miner[128];     /* proof / market */
    uint8_t *sign_bytes; /* wallet: the policy's SignBytes, for later challenges (immutable) */
    size_t sb_len;
    gw_chan_t *next;     /* gw->chans[kind] */
    gw_chan_t *all_next; /* gw->linked: channels whose link is still held */
};

gw_chan_t *gw_chan_ref(gw_chan_t *c);
gw_chan_t *gw_chan_unref(gw_chan_t *c);

/* ---- event streams (gw-stream.c) ---- */

/* Result of one request on one channel. */
enum {
    GW_OK = 0,
    GW_RESP_ERROR = 1, /* the provider answered with Error */
};

int gw_stream_new(gw_kind_t kind, int64_t timeout_ms, int queue_size, gw_stream_t **ret);
gw_stream_t *gw_stream_free(gw_stream_t *s);
/*
 * Sends Method/payload (borrowed; NULL = null) on ch and waits for the answer. Returns GW_OK
 * with *ret_payload (new reference, JSON-decoded payload; JSON null when none), GW_RESP_ERROR
 * with the provider's Error in errbuf, VC_ECLOSED ("channel closed"), -ETIMEDOUT (the sweeper's
 * message in errbuf) or another negative error (errbuf filled).
 */
int gw_stream_request(gw_stream_t *s, gw_chan_t *ch, const char *method, const json_t *payload,
                      json_t **ret_payload, char *errbuf, size_t errlen);
/* Pushes an event that expects no answer (InitConnect). */
int gw_stream_notify(gw_stream_t *s, gw_chan_t *ch, const char *method, const json_t *payload);
/* Delivers a ResponseEvent from user caller (admin: any request). -ENOENT for an unknown (or
 * already answered) id, VC_EPARSE for a payload that is not base64, VC_EPERM when the request was
 * sent to another user's connection (the request stays pending). */
int gw_stream_respond(gw_stream_t *s, const char *id, const char *payload_b64, const char *error,
                      const char *caller, bool admin);
/* Fails every request waiting on ch ("channel closed") and wakes slot waiters. */
void gw_stream_chan_closed(gw_stream_t *s, gw_chan_t *ch);
/* Fails requests older than the stream's timeout; returns how many. */
int gw_stream_sweep(gw_stream_t *s);
int gw_stream_outstanding(gw_stream_t *s, gw_chan_t *ch);
size_t gw_stream_pending(gw_stream_t *s);

/* ---- gateway (gw-registry.c) ---- */

typedef struct gw_metrics {
    vc_metrics_t *reg;
    vc_metric_t *requests;    /* counter {method, result} */
    vc_metric_t *latency;     /* histogram {method} */
    vc_metric_t *registers;   /* counter {kind} */
    vc_metric_t *unregisters; /* counter {kind} */
    vc_metric_t *retries;     /* counter {method} */
} gw_metrics_t;

struct gw {
    gw_config_t *cfg;
    vc_client_t *auth; /* venus-auth REST client */
    vc_workq_t *jobs;  /* registration jobs */
    gw_stream_t *streams[GW_KIND_MAX];
    uint8_t rand[32]; /* gatewayRand for verifyaddress */
    pthread_mutex_t lock;
    gw_chan_t *chans[GW_KIND_MAX];
    gw_chan_t *linked;
    struct gw_account *accounts; /* wallet accounts and their support sets */
    gw_metrics_t m;
    pthread_t sweeper;
    bool sweeper_started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
};

int gw_new(gw_config_t *cfg, vc_metrics_t *metrics, gw_t **ret);
gw_t *gw_free(gw_t *gw);
/* Call from vc_rpc_set_conn_hooks' on_close: releases channels of the connection. */
void gw_conn_closed(vc_rpc_conn_t *conn, void *userdata);

/* The Listen*Event flows. Return 0 with the channel opened, or set an RPC error. */
int gw_listen_wallet(gw_t *gw, vc_rpc_call_t *call, const json_t *policy);
int gw_listen_miner(gw_t *gw, gw_kind_t kind, vc_rpc_call_t *call, const char *miner);
/* Response*Event: -ENOENT etc. with the message in errbuf. */
int gw_respond(gw_t *gw, gw_kind_t kind, const vc_auth_info_t *caller, const json_t *resp, char *errbuf,
               size_t errlen);

int gw_support_new_account(gw_t *gw, const char *caller, const char *chan_id, const char *account,
                           char *errbuf, size_t errlen);
int gw_add_address(gw_t *gw, const char *caller, const char *chan_id, const json_t *addrs, char *errbuf,
                   size_t errlen);
int gw_remove_address(gw_t *gw, const char *caller, const char *chan_id, const json_t *addrs, char *errbuf,
                      size_t errlen);

bool gw_wallet_has(gw_t *gw, const char *addr, const char *const *accounts, size_t n);
/* Routes WalletSign; *ret is the Signature JSON. */
int gw_wallet_sign(gw_t *gw, const char *addr, const char *const *accounts, size_t n, const char *to_sign_b64,
                   const json_t *meta, json_t **ret, char *errbuf, size_t errlen);
/* Routes a proof/market request by miner. */
int gw_miner_request(gw_t *gw, gw_kind_t kind, const char *miner, const char *method, const json_t *payload,
                     json_t **ret, char *errbuf, size_t errlen);

/* Listings (new references). */
json_t *gw_list_wallets(gw_t *gw, const char *only_account);
json_t *gw_list_miners(gw_t *gw, gw_kind_t kind);
json_t *gw_miner_state(gw_t *gw, gw_kind_t kind, const char *miner); /* NULL when none */
json_t *gw_market_states(gw_t *gw);
/* Registered connections of kind (wallets, provers, markets). */
size_t gw_count_conns(gw_t *gw, gw_kind_t kind);

/* ---- JSON-RPC (gw-api.c) ---- */
int gw_api_register(vc_rpc_server_t *rpc);

/* ---- reverse proxy (gw-proxy.c) ---- */
typedef struct gw_proxy gw_proxy_t;
int gw_proxy_new(const gw_config_t *cfg, gw_proxy_t **ret);
gw_proxy_t *gw_proxy_free(gw_proxy_t *p);
/* RegisterReverse: url NULL/"" unsets. -EINVAL for an unknown host key. */
int gw_proxy_set(gw_proxy_t *p, const char *host_key, const char *url);
/* The vc_http interceptor (userdata = the proxy). */
int gw_proxy_intercept(vc_http_request_t *req, vc_http_response_t *resp, void *userdata);

/* What RPC methods reach through vc_rpc_call_userdata. */
typedef struct gw_ctx {
    gw_t *gw;
    gw_proxy_t *proxy;
    /* instance id for Gateway.HaStatus ("<hostname>:<pid>/<rand>", vc_ha_holder_id): gateways
     * run active/active without a database, so there is no lease and no presence table */
    char holder[VC_HA_HOLDER_MAX];
} gw_ctx_t;

/* ---- commands ---- */
int gw_cmd_run(vc_cli_ctx_t *ctx);
extern const vc_cli_cmd_t gw_cli_root;
/* vc_ha_cli_call_fn for the `ha` group (Gateway.<method>); main() passes it to vc_ha_cli_use. */
int gw_cli_ha_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret);

#endif
