/*
 * devnet-prover.c: `venus-devnet prover`: a mock winning-PoSt prover. It registers a miner with
 * a venus-gateway (Gateway.ListenProofEvent) and answers every ComputeProof with the proof bytes
 * "valid proof", which venus-devnet accepts (it does not verify PoSt). Reconnects with backoff.
 */
#include "devnet-prover.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "vc/address.h"
#include "vc/client.h"
#include "vc/log.h"
#include "vc/rpc.h"
#include "vc/util.h"

#define MOCK_PROOF "valid proof"

typedef struct prover {
    vc_rpc_conn_t *conn;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool closed;
} prover_t;

/* One RequestEvent to answer. Events arrive on the connection's reader thread, which must not
 * wait for the answer to Gateway.ResponseProofEvent (it is the one reading it), so each event
 * is answered on a short-lived thread of its own, which holds only its own copy of the event
 * and a connection reference (the prover_t lives on the connection loop's stack). */
typedef struct job {
    vc_rpc_conn_t *conn;
    char id[64];
    char method[64];
} job_t;

static void *answer(void *arg)
{
    job_t *j = arg;
    json_t *resp;
    if (vc_streq(j->method, "ComputeProof")) {
        char *proof64 = vc_base64_encode((const uint8_t *)MOCK_PROOF, strlen(MOCK_PROOF));
        json_t *payload = json_pack("[{s:i, s:s}]", "PoStProof", 0, "ProofBytes", proof64 ? proof64 : "");
        char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
        char *text64 = text ? vc_base64_encode((const uint8_t *)text, strlen(text)) : NULL;
        resp = json_pack("{s:s, s:s?, s:s}", "Id", j->id, "Payload", text64, "Error", "");
        free(proof64);
        json_decref(payload);
        free(text);
        free(text64);
    } else
        resp = json_pack("{s:s, s:n, s:s}", "Id", j->id, "Payload", "Error", "venus-devnet prover: unsupported method");
    vc_rpc_err_t err;
    json_t *res = NULL;
    int r = resp ? vc_rpc_conn_call(j->conn, "Gateway.ResponseProofEvent", json_pack("[o]", resp), 30000, &res, &err)
                 : -ENOMEM;
    json_decref(res);
    if (r == 0)
        vc_logkv(VC_LOG_INFO, "prover", "answered", "method", j->method, "id", j->id, NULL);
    else
        vc_logkv(VC_LOG_WARNING, "prover", "cannot answer the gateway", "id", j->id, "error",
                 r == VC_EREMOTE ? err.message : vc_strerror(r), NULL);
    vc_rpc_conn_unref(j->conn);
    free(j);
    return NULL;
}

static void on_event(json_t *v, void *userdata)
{
    prover_t *p = userdata;
    const char *id = json_string_value(json_object_get(v, "Id"));
    const char *method = json_string_value(json_object_get(v, "Method"));
    if (!id || !method || strlen(id) >= 64 || strlen(method) >= 64) {
        vc_logkv(VC_LOG_WARNING, "prover", "malformed event from the gateway, ignoring", NULL);
        return;
    }
    if (vc_streq(method, "InitConnect")) {
        vc_logkv(VC_LOG_NOTICE, "prover", "registered with the gateway", NULL);
        return;
    }
    job_t *j = calloc(1, sizeof(*j));
    pthread_t t;
    if (!j)
        return;
    j->conn = vc_rpc_conn_ref(p->conn);
    snprintf(j->id, sizeof(j->id), "%s", id);
    snprintf(j->method, sizeof(j->method), "%s", method);
    if (pthread_create(&t, NULL, answer, j) != 0) {
        vc_rpc_conn_unref(j->conn);
        free(j);
        return;
    }
    pthread_detach(t);
}

static void on_close(void *userdata)
{
    prover_t *p = userdata;
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* One gateway's connection loop: ListenProofEvent for the miner, reconnecting with backoff. */
typedef struct gw_loop {
    const char *gw, *token, *miner;
    pthread_t thread;
    bool started;
} gw_loop_t;

static void *serve_gateway(void *arg)
{
    gw_loop_t *g = arg;
    const char *eps[] = {g->gw};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v2", .token = g->token,
                          .api_namespace = "gateway.IGateway", .connect_timeout_ms = 5000};
    vc_client_t *c;
    if (vc_client_new(&o, &c) < 0)
        return NULL;
    int backoff = 1000;
    while (!stop) {
        prover_t p = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
        vc_rpc_sub_t *sub = NULL;
        vc_rpc_err_t err = {0};
        int r = vc_client_ws_connect(c, NULL, &p.conn);
        if (r == 0) {
            r = vc_rpc_conn_subscribe(p.conn, "Gateway.ListenProofEvent",
                                      json_pack("[{s:s}]", "MinerAddress", g->miner), 10000, on_event, on_close, &p,
                                      &sub, &err);
            if (r == 0) {
                backoff = 1000;
                vc_logkv(VC_LOG_NOTICE, "prover", "listening for proof requests", "miner", g->miner, "gateway", g->gw,
                         NULL);
                pthread_mutex_lock(&p.lock);
                while (!p.closed && !stop) {
                    struct timespec ts;
                    clock_gettime(CLOCK_REALTIME, &ts);
                    ts.tv_sec += 1;
                    pthread_cond_timedwait(&p.cond, &p.lock, &ts);
                }
                pthread_mutex_unlock(&p.lock);
            } else
                vc_logkv(VC_LOG_WARNING, "prover", "ListenProofEvent refused", "gateway", g->gw, "error",
                         r == VC_EREMOTE ? err.message : vc_strerror(r), NULL);
            vc_rpc_conn_close(p.conn);
            vc_rpc_sub_free(sub);
            vc_rpc_conn_unref(p.conn);
        } else
            vc_logkv(VC_LOG_WARNING, "prover", "cannot reach the gateway", "gateway", g->gw, "error", vc_strerror(r),
                     NULL);
        for (int waited = 0; !stop && waited < backoff; waited += 100)
            vc_sleep_ms(100);
        backoff = backoff < 30000 ? backoff * 2 : 30000;
    }
    vc_client_free(c);
    return NULL;
}

/* Connects to every --gateway (active/active gateways: a proof request may come from any). */
int dn_cmd_prover(vc_cli_ctx_t *ctx)
{
    size_t n_gw = 0;
    const char *const *gws = vc_cli_strings(ctx, "gateway", &n_gw);
    const char *token = vc_cli_string(ctx, "token"), *miner = vc_cli_string(ctx, "miner");
    vc_address_t ma;
    if (vc_address_from_string(miner, &ma) < 0 || vc_address_protocol(&ma) != VC_ADDR_ID)
        return vc_cli_errorf(ctx, "--miner must be an ID address such as t01000");
    if (n_gw == 0 || n_gw > 16)
        return vc_cli_errorf(ctx, "--gateway: give 1 to 16 gateways");
    for (size_t i = 0; i < n_gw; i++) {
        const char *eps[] = {gws[i]};
        vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v2"};
        vc_client_t *c = NULL;
        if (vc_client_new(&o, &c) < 0)
            return vc_cli_errorf(ctx, "bad gateway address '%s'", gws[i]);
        vc_client_free(c);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    gw_loop_t loops[16] = {{0}};
    for (size_t i = 0; i < n_gw; i++) {
        loops[i] = (gw_loop_t){.gw = gws[i], .token = token, .miner = miner};
        loops[i].started = pthread_create(&loops[i].thread, NULL, serve_gateway, &loops[i]) == 0;
        if (!loops[i].started)
            stop = 1;
    }
    while (!stop)
        vc_sleep_ms(100);
    for (size_t i = 0; i < n_gw; i++)
        if (loops[i].started)
            pthread_join(loops[i].thread, NULL);
    return 0;
}
