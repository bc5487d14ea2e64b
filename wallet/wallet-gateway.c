/* wallet-gateway.c: the gateway sessions (see wallet-gateway.h). */
#include "wallet-gateway.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "vc/client.h"
#include "vc/log.h"
#include "vc/workq.h"
#include "wallet-sign.h"

#define RECENT_IDS 256
#define ID_MAX 64
#define CALL_TIMEOUT_MS 30000
#define SUBSCRIBE_TIMEOUT_MS 15000
#define PAYLOAD_MAX (8 * 1024 * 1024)

typedef struct session {
    struct wallet_gw *gw;
    char *endpoint;
    vc_client_t *client;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    vc_rpc_conn_t *conn; /* current connection (under mu) */
    bool closed;         /* the current channel ended */
    char channel_id[ID_MAX];
    char recent[RECENT_IDS][ID_MAX];
    size_t recent_pos;
} session_t;

struct wallet_gw {
    wallet_ks_t *ks;
    session_t *s;
    size_t n;
    vc_workq_t *wq;
    atomic_bool stop;
    uint8_t sign_bytes[WALLET_SIGN_BYTES_LEN];
    json_t *policy;
    int backoff_min_ms, backoff_max_ms;
};

/* ---- event handling (the connection's reader) ---- */

/* Answers event id with ResponseWalletEvent. The gateway's acknowledgement is not awaited (the
 * reader thread answers here, and only the reader reads answers): the connection logs a refusal. */
static void respond(session_t *s, vc_rpc_conn_t *conn, const char *id, const json_t *payload, const char *error)
{
    _cleanup_free_ char *text = NULL, *b64 = NULL;
    if (payload) {
        text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
        b64 = text ? vc_base64_encode((const uint8_t *)text, strlen(text)) : NULL;
        if (!b64) {
            payload = NULL;
            error = "out of memory";
        }
    }
    json_t *resp = json_pack("{s:s,s:s?,s:s}", "Id", id, "Payload", b64, "Error", error ? error : "");
    if (!resp)
        return;
    int r = vc_rpc_conn_send_call(conn, "Gateway.ResponseWalletEvent", json_pack("[o]", resp));
    if (r < 0)
        vc_logkv(VC_LOG_WARNING, "wallet", "cannot answer a gateway event", "gateway", s->endpoint, "id", id, "error",
                 vc_strerror(r), NULL);
}

/* Base64 JSON payload -> JSON (NULL when absent or undecodable; *bad tells which). */
static json_t *decode_payload(const json_t *p, bool *bad)
{
    _cleanup_free_ uint8_t *raw = NULL;
    size_t len;
    *bad = false;
    if (!p || json_is_null(p))
        return NULL;
    if (!json_is_string(p) || json_string_length(p) > PAYLOAD_MAX ||
        vc_base64_decode(json_string_value(p), json_string_length(p), &raw, &len) < 0) {
        *bad = true;
        return NULL;
    }
    json_t *j = json_loadb((const char *)raw, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        *bad = true;
    return j;
}

static void handle_list(session_t *s, vc_rpc_conn_t *conn, const char *id)
{
    wallet_ks_t *ks = s->gw->ks;
    vc_address_t *v = NULL;
    size_t n = 0;
    char a[VC_ADDRESS_STRLEN_MAX];
    if (wallet_ks_list(ks, &v, &n) < 0) {
        respond(s, conn, id, NULL, "out of memory");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (vc_address_to_string(&v[i], wallet_ks_network(ks), a) > 0)
            json_array_append_new(arr, json_string(a));
    free(v);
    respond(s, conn, id, arr, arr ? NULL : "out of memory");
    json_decref(arr);
}

static void handle_sign(session_t *s, vc_rpc_conn_t *conn, const char *id, const json_t *req)
{
    const char *signer = json_string_value(json_object_get(req, "Signer"));
    const json_t *ts = json_object_get(req, "ToSign");
    _cleanup_free_ uint8_t *data = NULL;
    size_t len = 0;
    wallet_meta_t meta = {0};
    vc_address_t a;
    vc_signature_t sig;
    char err[300];

    if (!signer || vc_address_from_string(signer, &a) < 0) {
        respond(s, conn, id, NULL, "WalletSign: missing or invalid Signer");
        return;
    }
    if (ts && !json_is_null(ts) &&
        (!json_is_string(ts) || vc_base64_decode(json_string_value(ts), json_string_length(ts), &data, &len) < 0)) {
        respond(s, conn, id, NULL, "WalletSign: ToSign is not base64");
        return;
    }
    if (wallet_meta_from_json(json_object_get(req, "Meta"), &meta) < 0) {
        respond(s, conn, id, NULL, "WalletSign: bad Meta");
        return;
    }
    int r = wallet_sign(s->gw->ks, &a, data, len, &meta, s->gw->sign_bytes, &sig, err, sizeof(err));
    if (r < 0) {
        vc_logkv(VC_LOG_INFO, "wallet", "refused a gateway sign request", "gateway", s->endpoint, "signer", signer,
                 "type", meta.type, "error", err, NULL);
        respond(s, conn, id, NULL, err);
    } else {
        json_t *j = vc_signature_to_json(&sig);
        respond(s, conn, id, j, j ? NULL : "out of memory");
        json_decref(j);
    }
    wallet_meta_done(&meta);
}

/* True if id was answered recently on this session; records it otherwise. */
static bool seen_before(session_t *s, const char *id)
{
    bool seen = false;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < RECENT_IDS && !seen; i++)
        seen = strcmp(s->recent[i], id) == 0;
    if (!seen) {
        snprintf(s->recent[s->recent_pos], ID_MAX, "%s", id);
        s->recent_pos = (s->recent_pos + 1) % RECENT_IDS;
    }
    pthread_mutex_unlock(&s->mu);
    return seen;
}

/* Reader thread: each event is answered here, in arrival order. A signature costs tens of
 * microseconds, less than handing the event to another thread and waking it; the answer is sent
 * without waiting (respond), so nothing here waits for the gateway. */
static void on_event(json_t *value, void *ud)
{
    session_t *s = ud;
    const char *id = json_string_value(json_object_get(value, "Id"));
    const char *method = json_string_value(json_object_get(value, "Method"));
    if (!json_is_object(value) || !id || !*id || strlen(id) >= ID_MAX || !method) {
        vc_logkv(VC_LOG_WARNING, "wallet", "malformed gateway event (no Id or Method), dropping", "gateway",
                 s->endpoint, NULL);
        return;
    }
    pthread_mutex_lock(&s->mu);
    vc_rpc_conn_t *conn = s->conn ? vc_rpc_conn_ref(s->conn) : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!conn)
        return;
    bool bad = false;
    json_t *payload = decode_payload(json_object_get(value, "Payload"), &bad);

    if (vc_streq(method, "InitConnect")) {
        const char *ch = json_string_value(json_object_get(payload, "ChannelId"));
        if (!ch || strlen(ch) >= ID_MAX) {
            vc_logkv(VC_LOG_WARNING, "wallet", "InitConnect without a ChannelId, ignoring", "gateway", s->endpoint, NULL);
        } else {
            pthread_mutex_lock(&s->mu);
            if (s->conn == conn && !s->closed)
                snprintf(s->channel_id, ID_MAX, "%s", ch);
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->mu);
            vc_logkv(VC_LOG_NOTICE, "wallet", "registered with the gateway", "gateway", s->endpoint, "channel", ch, NULL);
        }
    } else if (seen_before(s, id)) {
        vc_logkv(VC_LOG_WARNING, "wallet", "gateway event id seen before, not answering twice", "gateway", s->endpoint,
                 "id", id, NULL);
    } else if (bad) {
        respond(s, conn, id, NULL, "payload does not decode (expected base64 JSON)");
    } else if (vc_streq(method, "WalletList")) {
        handle_list(s, conn, id);
    } else if (vc_streq(method, "WalletSign")) {
        if (!json_is_object(payload))
            respond(s, conn, id, NULL, "WalletSign: expected a WalletSignRequest payload");
        else
            handle_sign(s, conn, id, payload);
    } else {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown method '%.100s'", method);
        respond(s, conn, id, NULL, msg);
    }
    json_decref(payload);
    vc_rpc_conn_unref(conn);
}

static void on_channel_close(void *ud)
{
    session_t *s = ud;
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

/* ---- address pushes ---- */

typedef struct push {
    session_t *s;
    vc_rpc_conn_t *conn;
    char channel[ID_MAX];
    char addr[VC_ADDRESS_STRLEN_MAX];
    bool added;
} push_t;

static void run_push(void *arg)
{
    push_t *p = arg;
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    const char *m = p->added ? "Gateway.AddNewAddress" : "Gateway.RemoveAddress";
    int r = vc_rpc_conn_call(p->conn, m, json_pack("[s,[s]]", p->channel, p->addr), CALL_TIMEOUT_MS, &res, &err);
    json_decref(res);
    if (r < 0)
        vc_logkv(VC_LOG_WARNING, "wallet", "gateway address update failed", "gateway", p->s->endpoint, "method", m,
                 "address", p->addr, "error", r == VC_EREMOTE ? err.message : vc_strerror(r), NULL);
    else
        vc_logkv(VC_LOG_INFO, "wallet", p->added ? "address pushed to the gateway" : "address removed from the gateway",
                 "gateway", p->s->endpoint, "address", p->addr, NULL);
    vc_rpc_conn_unref(p->conn);
    free(p);
}

void wallet_gw_address_changed(void *ud, const vc_address_t *a, bool added)
{
    wallet_gw_t *gw = ud;
    char s[VC_ADDRESS_STRLEN_MAX];
    if (!gw || vc_address_to_string(a, wallet_ks_network(gw->ks), s) < 0)
        return;
    for (size_t i = 0; i < gw->n; i++) {
        session_t *ss = &gw->s[i];
        push_t *p = calloc(1, sizeof(*p));
        if (!p)
            return;
        pthread_mutex_lock(&ss->mu);
        if (ss->conn && !ss->closed && ss->channel_id[0]) {
            p->conn = vc_rpc_conn_ref(ss->conn);
            memcpy(p->channel, ss->channel_id, ID_MAX);
        }
        pthread_mutex_unlock(&ss->mu);
        if (!p->conn) {
            free(p);
            continue;
        }
        p->s = ss;
        p->added = added;
        memcpy(p->addr, s, sizeof(s));
        if (vc_workq_submit(gw->wq, run_push, p) < 0) {
            vc_rpc_conn_unref(p->conn);
            free(p);
        }
    }
}

/* ---- session threads ---- */

/* Waits up to ms or until stop; returns true when stopping. */
static bool nap(session_t *s, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->gw->stop))
        if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&s->mu);
    return atomic_load(&s->gw->stop);
}

static void *session_main(void *arg)
{
    session_t *s = arg;
    wallet_gw_t *gw = s->gw;
    int backoff = gw->backoff_min_ms;
    bool told_locked = false;

    while (!atomic_load(&gw->stop)) {
        if (!wallet_ks_unlocked(gw->ks)) {
            if (!told_locked)
                vc_logkv(VC_LOG_NOTICE, "wallet", "wallet is locked: not connecting to the gateway until unlocked",
                         "gateway", s->endpoint, NULL);
            told_locked = true;
            nap(s, 200);
            continue;
        }
        told_locked = false;
        vc_rpc_conn_t *conn = NULL;
        vc_rpc_sub_t *sub = NULL;
        vc_rpc_err_t err = {0};
        char backoff_s[32];
        int r = vc_client_ws_connect(s->client, NULL, &conn);
        if (r == 0) {
            pthread_mutex_lock(&s->mu);
            s->conn = conn;
            s->closed = false;
            s->channel_id[0] = 0;
            pthread_mutex_unlock(&s->mu);
            r = vc_rpc_conn_subscribe(conn, "Gateway.ListenWalletEvent", json_pack("[O]", gw->policy),
                                      SUBSCRIBE_TIMEOUT_MS, on_event, on_channel_close, s, &sub, &err);
        }
        snprintf(backoff_s, sizeof(backoff_s), "%dms", backoff);
        if (r < 0) {
            vc_logkv(VC_LOG_WARNING, "wallet", "cannot register with the gateway, retrying", "gateway", s->endpoint,
                     "error", r == VC_EREMOTE ? err.message : vc_strerror(r), "retry_in", backoff_s, NULL);
        } else {
            vc_logkv(VC_LOG_INFO, "wallet", "listening for gateway wallet events", "gateway", s->endpoint, NULL);
            pthread_mutex_lock(&s->mu);
            while (!s->closed && !atomic_load(&gw->stop))
                pthread_cond_wait(&s->cond, &s->mu);
            bool registered = s->channel_id[0] != 0;
            pthread_mutex_unlock(&s->mu);
            if (registered)
                backoff = gw->backoff_min_ms;
            snprintf(backoff_s, sizeof(backoff_s), "%dms", backoff);
            if (!atomic_load(&gw->stop))
                vc_logkv(VC_LOG_WARNING, "wallet", "gateway session ended, reconnecting", "gateway", s->endpoint,
                         "retry_in", backoff_s, NULL);
        }
        if (sub)
            vc_rpc_sub_free(sub);
        if (conn) {
            vc_rpc_conn_close(conn);
            pthread_mutex_lock(&s->mu);
            s->conn = NULL;
            s->closed = true;
            s->channel_id[0] = 0;
            pthread_mutex_unlock(&s->mu);
            vc_rpc_conn_unref(conn);
        }
        if (nap(s, backoff))
            break;
        backoff = VC_MIN(backoff * 2, gw->backoff_max_ms);
    }
    return NULL;
}

int wallet_gw_start(wallet_ks_t *ks, const wallet_gw_opts_t *o, wallet_gw_t **ret)
{
    wallet_gw_t *gw = calloc(1, sizeof(*gw));
    int r;
    if (!gw)
        return -ENOMEM;
    gw->ks = ks;
    gw->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : 1000;
    gw->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 30000;
    vc_random(gw->sign_bytes, sizeof(gw->sign_bytes));
    _cleanup_free_ char *b64 = vc_base64_encode(gw->sign_bytes, sizeof(gw->sign_bytes));
    json_t *acc = json_array();
    for (size_t i = 0; acc && i < o->n_accounts; i++)
        json_array_append_new(acc, json_string(o->support_accounts[i]));
    gw->policy = b64 && acc ? json_pack("{s:o,s:s}", "SupportAccounts", acc, "SignBytes", b64) : NULL;
    gw->s = calloc(o->n_endpoints ? o->n_endpoints : 1, sizeof(*gw->s));
    if (!gw->policy || !gw->s) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = vc_workq_new(2, 256, &gw->wq)) < 0)
        goto fail;
    for (size_t i = 0; i < o->n_endpoints; i++) {
        session_t *s = &gw->s[i];
        s->gw = gw;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->closed = true;
        gw->n++;
        s->endpoint = strdup(o->endpoints[i]);
        const char *eps[] = {o->endpoints[i]};
        vc_client_opts_t co = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v2", .token = o->token,
                               .api_namespace = "gateway.IGateway", .connect_timeout_ms = 5000};
        if (!s->endpoint) {
            r = -ENOMEM;
            goto fail;
        }
        if ((r = vc_client_new(&co, &s->client)) < 0)
            goto fail;
    }
    for (size_t i = 0; i < gw->n; i++) {
        if (pthread_create(&gw->s[i].thread, NULL, session_main, &gw->s[i]) != 0) {
            r = -EAGAIN;
            goto fail;
        }
        gw->s[i].started = true;
    }
    *ret = gw;
    return 0;
fail:
    wallet_gw_free(gw);
    return r;
}

size_t wallet_gw_registered(wallet_gw_t *gw)
{
    size_t n = 0;
    for (size_t i = 0; gw && i < gw->n; i++) {
        pthread_mutex_lock(&gw->s[i].mu);
        n += gw->s[i].conn && !gw->s[i].closed && gw->s[i].channel_id[0];
        pthread_mutex_unlock(&gw->s[i].mu);
    }
    return n;
}

wallet_gw_t *wallet_gw_free(wallet_gw_t *gw)
{
    if (!gw)
        return NULL;
    atomic_store(&gw->stop, true);
    for (size_t i = 0; i < gw->n; i++) {
        pthread_mutex_lock(&gw->s[i].mu);
        pthread_cond_broadcast(&gw->s[i].cond);
        pthread_mutex_unlock(&gw->s[i].mu);
    }
    for (size_t i = 0; i < gw->n; i++)
        if (gw->s[i].started)
            pthread_join(gw->s[i].thread, NULL);
    vc_workq_free(gw->wq);
    for (size_t i = 0; i < gw->n; i++) {
        vc_client_free(gw->s[i].client);
        free(gw->s[i].endpoint);
        pthread_mutex_destroy(&gw->s[i].mu);
        pthread_cond_destroy(&gw->s[i].cond);
    }
    free(gw->s);
    json_decref(gw->policy);
    free(gw);
    return NULL;
}
