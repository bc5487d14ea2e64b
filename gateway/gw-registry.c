/*
 * gw-registry.c: who is connected and what they serve; registration flows (spec B4.1-B4.3) and
 * routing with retries.
 *
 * Locks: gw->lock guards the channel lists, wallet accounts and each channel's addrs/miner/
 * registered/detached; a stream's lock guards its pending map and channels' outstanding/closed.
 * Never call into venus-auth, a stream or the metrics registry while holding gw->lock.
 *
 * Channel lifetime: a gw_chan_t holds one "link" reference while the RPC layer may still call
 * its on_close; that reference is dropped exactly once, by on_close or, when the channel was
 * closed by us (a failed registration) and on_close will never come, by the connection's close
 * hook (gw_conn_closed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "gateway.h"
#include "vc/address.h"
#include "vc/crypto.h"
#include "vc/gofmt.h"
#include "vc/log.h"
#include "vc/signature.h"
#include "vc/util.h"

#include <sodium.h>

typedef struct gw_account {
    struct gw_account *next;
    char name[VC_AUTH_NAME_MAX];
    char **support;
    size_t n_support;
} gw_account_t;

static const char *const kind_names[GW_KIND_MAX] = {"wallet", "proof", "market"};

/* ---- small helpers ---- */

static bool strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
    if (strv_has(*v, *n, s))
        return 0;
    char **nv = realloc(*v, (*n + 1) * sizeof(char *));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return -ENOMEM;
    (*n)++;
    return 1;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void count_result(gw_t *gw, const char *method, const char *result)
{
    vc_counter_inc(vc_metric_with(gw->m.requests, method, result, NULL));
}

/* ---- channels ---- */

gw_chan_t *gw_chan_ref(gw_chan_t *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

gw_chan_t *gw_chan_unref(gw_chan_t *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return NULL;
    strv_free(c->addrs, c->n_addrs);
    free(c->sign_bytes);
    vc_rpc_chan_unref(c->rpc);
    free(c);
    return NULL;
}

static gw_account_t *find_account(gw_t *gw, const char *name)
{
    for (gw_account_t *a = gw->accounts; a; a = a->next)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* Takes ch out of routing; fails what waits on it. Idempotent. */
static void detach(gw_t *gw, gw_chan_t *ch)
{
    bool was_registered;
    pthread_mutex_lock(&gw->lock);
    if (ch->detached) {
        pthread_mutex_unlock(&gw->lock);
        return;
    }
    ch->detached = true;
    was_registered = ch->registered;
    ch->registered = false;
    bool listed = false;
    for (gw_chan_t **pp = &gw->chans[ch->kind]; *pp; pp = &(*pp)->next)
        if (*pp == ch) {
            *pp = ch->next;
            listed = true;
            break;
        }
    if (ch->kind == GW_WALLET) { /* drop the account with its last connection */
        bool left = false;
        for (gw_chan_t *o = gw->chans[GW_WALLET]; o; o = o->next)
            if (strcmp(o->account, ch->account) == 0)
                left = true;
        if (!left)
            for (gw_account_t **pp = &gw->accounts; *pp; pp = &(*pp)->next)
                if (strcmp((*pp)->name, ch->account) == 0) {
                    gw_account_t *a = *pp;
                    *pp = a->next;
                    strv_free(a->support, a->n_support);
                    free(a);
                    break;
                }
    }
    pthread_mutex_unlock(&gw->lock);
    gw_stream_chan_closed(gw->streams[ch->kind], ch);
    if (was_registered) {
        vc_counter_inc(vc_metric_with(gw->m.unregisters, kind_names[ch->kind], NULL));
        vc_logkv(VC_LOG_INFO, "gateway", "connection gone", "kind", kind_names[ch->kind], "account",
                 ch->account, "channel", ch->id, "ip", ch->ip, NULL);
    }
    if (listed)
        gw_chan_unref(ch); /* the list's reference; the caller still holds one */
}

/* Drops the link reference once. */
static void release_link(gw_t *gw, gw_chan_t *ch, bool unlink)
{
    if (atomic_exchange(&ch->link_released, true))
        return;
    if (unlink) {
        pthread_mutex_lock(&gw->lock);
        for (gw_chan_t **pp = &gw->linked; *pp; pp = &(*pp)->all_next)
            if (*pp == ch) {
                *pp = ch->all_next;
                break;
            }
        pthread_mutex_unlock(&gw->lock);
    }
    gw_chan_unref(ch);
}

static void on_chan_close(vc_rpc_chan_t *rpc, void *userdata)
{
    gw_chan_t *ch = userdata;
    detach(ch->gw, ch);
    release_link(ch->gw, ch, true);
}

void gw_conn_closed(vc_rpc_conn_t *conn, void *userdata)
{
    gw_t *gw = userdata;
    for (;;) {
        gw_chan_t *victim = NULL;
        pthread_mutex_lock(&gw->lock);
        for (gw_chan_t **pp = &gw->linked; *pp; pp = &(*pp)->all_next)
            if ((*pp)->conn == conn) {
                victim = *pp;
                *pp = victim->all_next;
                break;
            }
        pthread_mutex_unlock(&gw->lock);
        if (!victim)
            return;
        detach(gw, victim);
        release_link(gw, victim, false);
    }
}

/* We end the channel (failed registration): xrpc.ch.close to the provider. */
static void close_chan(gw_t *gw, gw_chan_t *ch)
{
    detach(gw, ch);
    vc_rpc_chan_close(ch->rpc);
}

/* Opens the RPC channel of call and a gw_chan_t around it, listed (not yet routable).
 * Returns the channel with one reference for the caller. */
static int open_chan(gw_t *gw, gw_kind_t kind, vc_rpc_call_t *call, gw_chan_t **ret)
{
    gw_chan_t *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return -ENOMEM;
    atomic_init(&ch->refs, 3); /* link, list, caller */
    atomic_init(&ch->link_released, false);
    ch->gw = gw;
    ch->kind = kind;
    vc_uuid4(ch->id);
    snprintf(ch->ip, sizeof(ch->ip), "%s", vc_rpc_call_remote(call) ? vc_rpc_call_remote(call) : "");
    snprintf(ch->account, sizeof(ch->account), "%s", vc_rpc_call_auth(call)->name);
    vc_format_rfc3339nano_local(vc_now_real_us() * 1000, ch->create_time); /* Go's time.Time JSON */
    ch->conn = vc_rpc_call_conn(call);
    int r = vc_rpc_chan_open(call, on_chan_close, ch, &ch->rpc);
    if (r < 0) {
        free(ch);
        return r;
    }
    pthread_mutex_lock(&gw->lock);
    ch->all_next = gw->linked;
    gw->linked = ch;
    ch->next = gw->chans[kind];
    gw->chans[kind] = ch;
    pthread_mutex_unlock(&gw->lock);
    *ret = ch;
    return 0;
}

/* ---- venus-auth calls ---- */

static void auth_error_text(long status, const char *body, char *errbuf, size_t errlen)
{
    json_error_t e;
    json_t *j = body ? json_loads(body, JSON_DECODE_ANY, &e) : NULL;
    const char *msg = json_string_value(json_object_get(j, "error"));
    snprintf(errbuf, errlen, "response code is : %ld, msg:%s", status, msg ? msg : (body ? body : ""));
    json_decref(j);
}

static int auth_post(gw_t *gw, const char *path, json_t *body, char *errbuf, size_t errlen)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char *answer = NULL;
    long status = 0;
    size_t len = 0;
    if (!gw->auth) {
        free(text);
        return 0; /* no venus-auth configured (tests of the RPC layer only) */
    }
    int r = text ? vc_client_rest(gw->auth, "POST", path, text, &status, &answer, &len) : -ENOMEM;
    free(text);
    if (r < 0)
        snprintf(errbuf, errlen, "venus-auth unreachable: %s", vc_strerror(r));
    else if (status != 200) {
        auth_error_text(status, answer, errbuf, errlen);
        r = VC_EREMOTE;
    }
    free(answer);
    return r;
}

static int auth_verify_users(gw_t *gw, char **names, size_t n, char *errbuf, size_t errlen)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(names[i]));
    return auth_post(gw, "/user/verify", json_pack("{s:o}", "Names", arr), errbuf, errlen);
}

/* f1, f3 and f4 only, as sophon-gateway registers. Errors are logged. */
static void auth_register_signers(gw_t *gw, const char *user, char **addrs, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        vc_address_t a;
        if (vc_address_from_string(addrs[i], &a) < 0)
            continue;
        vc_addr_protocol_t p = vc_address_protocol(&a);
        if (p == VC_ADDR_SECP256K1 || p == VC_ADDR_BLS || p == VC_ADDR_DELEGATED)
            json_array_append_new(arr, json_string(addrs[i]));
    }
    if (!json_array_size(arr)) {
        json_decref(arr);
        return;
    }
    char err[512];
    if (auth_post(gw, "/user/signer/register", json_pack("{s:s, s:o}", "User", user, "Signers", arr), err,
                  sizeof(err)) < 0)
        vc_logkv(VC_LOG_WARNING, "gateway", "register signers failed, ignoring", "user", user, "error", err,
                 NULL);
}

static int auth_miner_exist(gw_t *gw, const char *user, const char *miner, char *errbuf, size_t errlen)
{
    if (!gw->auth)
        return 0;
    char *eu = vc_url_escape(user), *em = vc_url_escape(miner);
    char path[1024];
    snprintf(path, sizeof(path), "/user/miner/exist?miner=%s&user=%s", em ? em : "", eu ? eu : "");
    free(eu);
    free(em);
    char *answer = NULL;
    long status = 0;
    size_t len = 0;
    int r = vc_client_rest(gw->auth, "GET", path, NULL, &status, &answer, &len);
    if (r < 0)
        snprintf(errbuf, errlen, "venus-auth unreachable: %s", vc_strerror(r));
    else if (status != 200) {
        auth_error_text(status, answer, errbuf, errlen);
        r = VC_EREMOTE;
    } else if (!answer || strncmp(answer, "true", 4) != 0) {
        snprintf(errbuf, errlen, "miner:%s not exist in user:%s, please bind it on 'sophon-auth'", miner,
                 user);
        r = -ENOENT;
    }
    free(answer);
    return r;
}

/* ---- gateway object ---- */

static double count_accounts(void *ud)
{
    gw_t *gw = ud;
    double n = 0;
    pthread_mutex_lock(&gw->lock);
    for (gw_account_t *a = gw->accounts; a; a = a->next)
        n++;
    pthread_mutex_unlock(&gw->lock);
    return n;
}

static double count_wallet_addrs(void *ud)
{
    gw_t *gw = ud;
    double n = 0;
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *c = gw->chans[GW_WALLET]; c; c = c->next)
        if (c->registered)
            n += (double)c->n_addrs;
    pthread_mutex_unlock(&gw->lock);
    return n;
}

size_t gw_count_conns(gw_t *gw, gw_kind_t kind)
{
    size_t n = 0;
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *c = gw->chans[kind]; c; c = c->next)
        if (c->registered)
            n++;
    pthread_mutex_unlock(&gw->lock);
    return n;
}

static double count_wallet_conns(void *ud)
{
    return (double)gw_count_conns(ud, GW_WALLET);
}
static double count_proof_conns(void *ud)
{
    return (double)gw_count_conns(ud, GW_PROOF);
}
static double count_market_conns(void *ud)
{
    return (double)gw_count_conns(ud, GW_MARKET);
}

static double count_miners(void *ud)
{
    json_t *l = gw_list_miners(ud, GW_PROOF);
    double n = (double)json_array_size(l);
    json_decref(l);
    return n;
}

static int setup_metrics(gw_t *gw, vc_metrics_t *m)
{
    gw->m.reg = m;
    if (!m)
        return 0;
    static const double lat_buckets[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,   1,     5,    30};
    int r;
    if ((r = vc_metrics_counter(m, "requests_total", "Routed requests by method and result.",
                                VC_LABELS("method", "result"), &gw->m.requests)) < 0 ||
        (r = vc_metrics_histogram(m, "request_duration_seconds",
                                  "Latency of routed requests (wallet_sign, ...).", VC_LABELS("method"),
                                  lat_buckets, VC_ELEMENTSOF(lat_buckets), &gw->m.latency)) < 0 ||
        (r = vc_metrics_counter(m, "register_total", "Registered connections by kind.", VC_LABELS("kind"),
                                &gw->m.registers)) < 0 ||
        (r = vc_metrics_counter(m, "unregister_total", "Connections gone by kind.", VC_LABELS("kind"),
                                &gw->m.unregisters)) < 0 ||
        (r = vc_metrics_counter(m, "retries_total", "Requests retried on another connection.",
                                VC_LABELS("method"), &gw->m.retries)) < 0 ||
        (r = vc_metrics_gauge_func(m, "wallet_num", "Connected wallet accounts.", count_accounts, gw, NULL)) <
            0 ||
        (r = vc_metrics_gauge_func(m, "wallet_address_num", "Addresses served by wallet connections.",
                                   count_wallet_addrs, gw, NULL)) < 0 ||
        (r = vc_metrics_gauge_func(m, "wallet_conn_num", "Wallet connections.", count_wallet_conns, gw,
                                   NULL)) < 0 ||
        (r = vc_metrics_gauge_func(m, "miner_num", "Miners with a prover connected.", count_miners, gw,
                                   NULL)) < 0 ||
        (r = vc_metrics_gauge_func(m, "miner_conn_num", "Prover connections.", count_proof_conns, gw, NULL)) <
            0 ||
        (r = vc_metrics_gauge_func(m, "market_conn_num", "Market connections.", count_market_conns, gw,
                                   NULL)) < 0)
        return r;
    return 0;
}

static void *sweeper_main(void *arg)
{
    gw_t *gw = arg;
    pthread_mutex_lock(&gw->stop_lock);
    while (!gw->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + gw->cfg->clear_interval_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&gw->stop_cond, &gw->stop_lock, &ts);
        if (gw->stopping)
            break;
        pthread_mutex_unlock(&gw->stop_lock);
        for (int k = 0; k < GW_KIND_MAX; k++) {
            int n = gw_stream_sweep(gw->streams[k]);
            if (n > 0)
                vc_logkv(VC_LOG_WARNING, "gateway", "requests timed out", "stream", kind_names[k], NULL);
        }
        pthread_mutex_lock(&gw->stop_lock);
    }
    pthread_mutex_unlock(&gw->stop_lock);
    return NULL;
}

int gw_new(gw_config_t *cfg, vc_metrics_t *metrics, gw_t **ret)
{
    gw_t *gw = calloc(1, sizeof(*gw));
    int r;
    if (!gw)
        return -ENOMEM;
    gw->cfg = cfg;
    pthread_mutex_init(&gw->lock, NULL);
    pthread_mutex_init(&gw->stop_lock, NULL);
    pthread_cond_init(&gw->stop_cond, NULL);
    vc_random(gw->rand, sizeof(gw->rand));
    for (int k = 0; k < GW_KIND_MAX; k++)
        if ((r = gw_stream_new(k, cfg->timeout_ms[k], (int)cfg->queue_size, &gw->streams[k])) < 0)
            goto fail;
    if (!vc_strempty(cfg->auth_url)) {
        /* Auth.URL may list several venus-auth instances, comma-separated */
        char **eps = NULL;
        size_t n = 0;
        if ((r = vc_strv_split(cfg->auth_url, ',', &eps, &n)) < 0)
            goto fail;
        vc_client_opts_t co = {.endpoints = (const char *const *)eps,
                               .n_endpoints = n,
                               .token = cfg->auth_token,
                               .api_namespace = "auth.IAuthClient",
                               .timeout_ms = 10000};
        r = n ? vc_client_new(&co, &gw->auth) : -EINVAL;
        free(eps);
        if (r < 0)
            goto fail;
    }
    if ((r = vc_workq_new(1, 1024, &gw->jobs)) < 0 || (r = setup_metrics(gw, metrics)) < 0)
        goto fail;
    if (pthread_create(&gw->sweeper, NULL, sweeper_main, gw) != 0) {
        r = -EAGAIN;
        goto fail;
    }
    gw->sweeper_started = true;
    *ret = gw;
    return 0;
fail:
    gw_free(gw);
    return r;
}

gw_t *gw_free(gw_t *gw)
{
    if (!gw)
        return NULL;
    if (gw->sweeper_started) {
        pthread_mutex_lock(&gw->stop_lock);
        gw->stopping = true;
        pthread_cond_broadcast(&gw->stop_cond);
        pthread_mutex_unlock(&gw->stop_lock);
        pthread_join(gw->sweeper, NULL);
    }
    gw->jobs = vc_workq_free(gw->jobs);
    /* channels still listed (the RPC server is gone, so no callbacks come any more) */
    while (gw->linked) {
        gw_chan_t *ch = gw->linked;
        gw->linked = ch->all_next;
        detach(gw, ch);
        release_link(gw, ch, false);
    }
    while (gw->accounts) {
        gw_account_t *a = gw->accounts;
        gw->accounts = a->next;
        strv_free(a->support, a->n_support);
        free(a);
    }
    for (int k = 0; k < GW_KIND_MAX; k++)
        gw->streams[k] = gw_stream_free(gw->streams[k]);
    vc_client_free(gw->auth);
    pthread_cond_destroy(&gw->stop_cond);
    pthread_mutex_destroy(&gw->stop_lock);
    pthread_mutex_destroy(&gw->lock);
    free(gw);
    return NULL;
}

/* ---- wallet registration ---- */

static bool trusted_for_unverifiable(gw_t *gw, const char *account)
{
    for (size_t i = 0; i < gw->cfg->n_trusted; i++)
        if (strcmp(gw->cfg->trusted_accounts[i], account) == 0)
            return true;
    return false;
}

/*
 * The verifyaddress challenge for one address over ch. 0 when the address is proven (or
 * accepted as trusted), -EOPNOTSUPP when it cannot be verified and the account is not trusted,
 * another negative error when the wallet failed the challenge. errbuf says why.
 */
static int verify_address(gw_t *gw, gw_chan_t *ch, const char *addr, const uint8_t *sign_bytes, size_t sb_len,
                          char *errbuf, size_t errlen)
{
    vc_address_t a;
    int r = vc_address_from_string(addr, &a);
    if (r < 0) {
        snprintf(errbuf, errlen, "invalid address %s: %s", addr, vc_strerror(r));
        return r;
    }
    vc_addr_protocol_t proto = vc_address_protocol(&a);
    bool unverifiable = proto == VC_ADDR_BLS || proto == VC_ADDR_DELEGATED;
    if (proto != VC_ADDR_SECP256K1 && !unverifiable) {
        snprintf(errbuf, errlen, "address %s cannot sign (protocol %d)", addr, (int)proto);
        return -EOPNOTSUPP;
    }
    if (unverifiable && !trusted_for_unverifiable(gw, ch->account)) {
        snprintf(errbuf, errlen,
                 "address %s: %s signatures cannot be verified by this gateway (no BLS/delegated verifier); "
                 "list wallet account '%s' in [Wallet] TrustUnverifiableKeyAccounts to accept it unverified",
                 addr, proto == VC_ADDR_BLS ? "BLS" : "delegated", ch->account);
        return -EOPNOTSUPP;
    }
    /* ToSign = sha256(gatewayRand || SignBytes), Meta {verifyaddress, Extra: gatewayRand} */
    uint8_t digest[32];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, gw->rand, sizeof(gw->rand));
    if (sb_len)
        crypto_hash_sha256_update(&st, sign_bytes, sb_len);
    crypto_hash_sha256_final(&st, digest);
    char *to_sign = vc_base64_encode(digest, sizeof(digest));
    char *extra = vc_base64_encode(gw->rand, sizeof(gw->rand));
    json_t *req = json_pack("{s:s, s:s?, s:{s:s, s:s?}}", "Signer", addr, "ToSign", to_sign, "Meta", "Type",
                            "verifyaddress", "Extra", extra);
    free(to_sign);
    free(extra);
    if (!req) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    json_t *res = NULL;
    char err[512];
    r = gw_stream_request(gw->streams[GW_WALLET], ch, "WalletSign", req, &res, err, sizeof(err));
    json_decref(req);
    if (r != GW_OK) {
        snprintf(errbuf, errlen, "verify address %s: %s", addr, err);
        return r < 0 ? r : -EIO;
    }
    vc_signature_t sig;
    r = vc_signature_from_json(res, &sig);
    json_decref(res);
    if (r < 0) {
        snprintf(errbuf, errlen, "verify address %s: the wallet answered with no valid signature", addr);
        return VC_EVERIFY;
    }
    if (unverifiable) {
        int want = proto == VC_ADDR_BLS ? VC_SIG_BLS : VC_SIG_DELEGATED;
        if (sig.type != want) {
            snprintf(errbuf, errlen, "verify address %s: signature type %d does not match", addr, sig.type);
            return VC_EVERIFY;
        }
        vc_logkv(VC_LOG_NOTICE, "gateway", "accepted an unverifiable address (trusted account)", "account",
                 ch->account, "address", addr, NULL);
        return 0;
    }
    if (vc_signature_verify(&sig, digest, sizeof(digest), &a) < 0) {
        snprintf(errbuf, errlen, "verify address %s: signature does not match the address", addr);
        return VC_EVERIFY;
    }
    return 0;
}

typedef struct wallet_job {
    gw_t *gw;
    gw_chan_t *ch;
    char **support; /* SupportAccounts + wallet account */
    size_t n_support;
    uint8_t *sign_bytes;
    size_t sb_len;
} wallet_job_t;

static void wallet_job_free(wallet_job_t *j)
{
    gw_chan_unref(j->ch);
    strv_free(j->support, j->n_support);
    free(j->sign_bytes);
    free(j);
}

static void wallet_register_job(void *arg)
{
    wallet_job_t *j = arg;
    gw_t *gw = j->gw;
    gw_chan_t *ch = j->ch;
    char err[1024];
    json_t *list = NULL;
    char **verified = NULL;
    size_t n_verified = 0;

    int r = gw_stream_request(gw->streams[GW_WALLET], ch, "WalletList", NULL, &list, err, sizeof(err));
    if (r != GW_OK) {
        vc_logkv(VC_LOG_WARNING, "gateway", "wallet registration failed: WalletList", "account", ch->account,
                 "channel", ch->id, "error", err, NULL);
        goto fail;
    }
    if (!json_is_array(list) && !json_is_null(list)) {
        vc_logkv(VC_LOG_WARNING, "gateway", "wallet registration failed: WalletList answer is not a list",
                 "account", ch->account, "channel", ch->id, NULL);
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *addr = json_string_value(v);
        if (!addr) {
            vc_logkv(VC_LOG_WARNING, "gateway", "wallet registration failed: non-string address", "account",
                     ch->account, "channel", ch->id, NULL);
            goto fail;
        }
        r = verify_address(gw, ch, addr, j->sign_bytes, j->sb_len, err, sizeof(err));
        if (r == -EOPNOTSUPP) { /* refused, the rest of the wallet still registers */
            vc_logkv(VC_LOG_WARNING, "gateway", "refusing address", "account", ch->account, "channel", ch->id,
                     "error", err, NULL);
            continue;
        }
        if (r < 0) {
            vc_logkv(VC_LOG_WARNING, "gateway", "wallet registration failed: address check", "account",
                     ch->account, "channel", ch->id, "error", err, NULL);
            goto fail;
        }
        if (strv_add(&verified, &n_verified, addr) < 0)
            goto fail;
    }

    /* record: the connection and the account's support set */
    char **accounts = NULL;
    size_t n_accounts = 0;
    pthread_mutex_lock(&gw->lock);
    if (ch->detached) {
        pthread_mutex_unlock(&gw->lock);
        goto fail;
    }
    gw_account_t *a = find_account(gw, ch->account);
    if (!a && (a = calloc(1, sizeof(*a)))) {
        snprintf(a->name, sizeof(a->name), "%s", ch->account);
        a->next = gw->accounts;
        gw->accounts = a;
    }
    bool oom = !a;
    for (size_t k = 0; a && k < j->n_support; k++)
        if (strv_add(&a->support, &a->n_support, j->support[k]) < 0)
            oom = true;
    ch->addrs = verified;
    ch->n_addrs = n_verified;
    verified = NULL;
    ch->registered = !oom;
    for (size_t k = 0; a && k < a->n_support; k++)
        strv_add(&accounts, &n_accounts, a->support[k]);
    char **addrs = NULL;
    size_t n_addrs = 0;
    for (size_t k = 0; k < ch->n_addrs; k++)
        strv_add(&addrs, &n_addrs, ch->addrs[k]);
    pthread_mutex_unlock(&gw->lock);
    if (oom) {
        strv_free(accounts, n_accounts);
        strv_free(addrs, n_addrs);
        goto fail;
    }
    for (size_t k = 0; k < n_accounts; k++)
        auth_register_signers(gw, accounts[k], addrs, n_addrs);
    strv_free(accounts, n_accounts);
    strv_free(addrs, n_addrs);

    json_t *cc = json_pack("{s:s}", "ChannelId", ch->id);
    gw_stream_notify(gw->streams[GW_WALLET], ch, "InitConnect", cc);
    json_decref(cc);
    vc_counter_inc(vc_metric_with(gw->m.registers, "wallet", NULL));
    vc_logkv(VC_LOG_INFO, "gateway", "wallet registered", "account", ch->account, "channel", ch->id, "ip",
             ch->ip, NULL);
    json_decref(list);
    wallet_job_free(j);
    return;
fail:
    strv_free(verified, n_verified);
    json_decref(list);
    close_chan(gw, ch);
    wallet_job_free(j);
}

int gw_listen_wallet(gw_t *gw, vc_rpc_call_t *call, const json_t *policy)
{
    const vc_auth_info_t *auth = vc_rpc_call_auth(call);
    json_t *sa = json_object_get(policy, "SupportAccounts");
    json_t *sb = json_object_get(policy, "SignBytes");
    if (!json_is_object(policy) || (sa && !json_is_array(sa) && !json_is_null(sa)) ||
        (sb && !json_is_string(sb) && !json_is_null(sb)))
        return vc_rpc_error(
            call, VC_RPC_PARSE_ERROR,
            "unmarshaling params for 'Gateway.ListenWalletEvent' (param: *types.WalletRegisterPolicy): "
            "expected {\"SupportAccounts\":[...],\"SignBytes\":\"<base64>\"}");
    wallet_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->gw = gw;
    size_t i;
    json_t *v;
    json_array_foreach(sa, i, v)
    {
        if (!json_is_string(v) || vc_strempty(json_string_value(v))) {
            wallet_job_free(j);
            return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "SupportAccounts must hold non-empty strings");
        }
        if (strv_add(&j->support, &j->n_support, json_string_value(v)) < 0) {
            wallet_job_free(j);
            return -ENOMEM;
        }
    }
    if (strv_add(&j->support, &j->n_support, auth->name) < 0 ||
        (json_is_string(sb) &&
         vc_base64_decode(json_string_value(sb), json_string_length(sb), &j->sign_bytes, &j->sb_len) < 0)) {
        wallet_job_free(j);
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "SignBytes is not base64");
    }
    if (j->sb_len > 4096) {
        wallet_job_free(j);
        return vc_rpc_error(call, 1, "SignBytes longer than 4096 bytes");
    }
    /* VerifyUsers first: an error fails the call. The local admin token's name is not a
     * venus-auth user, so it is not asked about. */
    char err[768];
    char **names = NULL;
    size_t n_names = 0;
    for (size_t k = 0; k < j->n_support; k++)
        if (!(auth->local && strcmp(j->support[k], auth->name) == 0))
            strv_add(&names, &n_names, j->support[k]);
    int r = n_names ? auth_verify_users(gw, names, n_names, err, sizeof(err)) : 0;
    strv_free(names, n_names);
    if (r < 0) {
        wallet_job_free(j);
        vc_logkv(VC_LOG_WARNING, "gateway", "wallet refused: verify users", "account", auth->name, "error",
                 err, NULL);
        return vc_rpc_error(call, 1, "verify users failed: %s", err);
    }
    gw_chan_t *ch;
    if ((r = open_chan(gw, GW_WALLET, call, &ch)) < 0) {
        wallet_job_free(j);
        return r;
    }
    j->ch = ch;                                              /* the caller's reference goes to the job */
    if (j->sb_len && (ch->sign_bytes = malloc(j->sb_len))) { /* set before anyone can find ch */
        memcpy(ch->sign_bytes, j->sign_bytes, j->sb_len);
        ch->sb_len = j->sb_len;
    }
    if (vc_workq_submit(gw->jobs, wallet_register_job, j) < 0) {
        close_chan(gw, ch);
        wallet_job_free(j);
    }
    return 0;
}

/* ---- proof / market registration ---- */

int gw_listen_miner(gw_t *gw, gw_kind_t kind, vc_rpc_call_t *call, const char *miner)
{
    const vc_auth_info_t *auth = vc_rpc_call_auth(call);
    vc_address_t a;
    if (vc_strempty(miner) || vc_address_from_string(miner, &a) < 0)
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "invalid miner address '%s'", miner ? miner : "");
    char err[768];
    int r = auth->local && (auth->perms & VC_PERM_ADMIN)
                ? 0
                : auth_miner_exist(gw, auth->name, miner, err, sizeof(err));
    if (r < 0) {
        vc_logkv(VC_LOG_WARNING, "gateway", "prover refused", "kind", kind_names[kind], "miner", miner,
                 "user", auth->name, "error", err, NULL);
        if (r == -ENOENT)
            return vc_rpc_error(call, 1, "verify miner:%s failed:%s", miner, err);
        return vc_rpc_error(call, 1, "verify miner:%s failed:%s", miner, err);
    }
    gw_chan_t *ch;
    if ((r = open_chan(gw, kind, call, &ch)) < 0)
        return r;
    pthread_mutex_lock(&gw->lock);
    snprintf(ch->miner, sizeof(ch->miner), "%s", miner);
    ch->registered = !ch->detached;
    pthread_mutex_unlock(&gw->lock);
    json_t *cc = json_pack("{s:s}", "ChannelId", ch->id);
    gw_stream_notify(gw->streams[kind], ch, "InitConnect", cc);
    json_decref(cc);
    vc_counter_inc(vc_metric_with(gw->m.registers, kind_names[kind], NULL));
    vc_logkv(VC_LOG_INFO, "gateway", "prover registered", "kind", kind_names[kind], "miner", miner, "user",
             auth->name, "channel", ch->id, "ip", ch->ip, NULL);
    gw_chan_unref(ch);
    return 0;
}

/* ---- responses ---- */

int gw_respond(gw_t *gw, gw_kind_t kind, const vc_auth_info_t *caller, const json_t *resp, char *errbuf,
               size_t errlen)
{
    json_t *jid = json_object_get(resp, "Id");
    json_t *jp = json_object_get(resp, "Payload");
    json_t *je = json_object_get(resp, "Error");
    if (!json_is_object(resp) || !json_is_string(jid) || (jp && !json_is_string(jp) && !json_is_null(jp)) ||
        (je && !json_is_string(je) && !json_is_null(je))) {
        snprintf(errbuf, errlen,
                 "malformed ResponseEvent: expected {\"Id\":\"<uuid>\",\"Payload\":\"<base64>\","
                 "\"Error\":\"\"}");
        return VC_EPARSE;
    }
    const char *id = json_string_value(jid);
    int r = gw_stream_respond(gw->streams[kind], id, json_string_value(jp), json_string_value(je),
                              caller->name, (caller->perms & VC_PERM_ADMIN) != 0);
    if (r == -ENOENT)
        snprintf(errbuf, errlen, "request id %s not exit", id);
    else if (r == VC_EPERM)
        snprintf(errbuf, errlen, "request id %s was not sent to a connection of user %s", id, caller->name);
    else if (r == VC_EPARSE)
        snprintf(errbuf, errlen, "response %s: Payload is not base64", id);
    if (r < 0)
        vc_logkv(VC_LOG_NOTICE, "gateway", "response rejected", "stream", kind_names[kind], "user",
                 caller->name, "error", errbuf, NULL);
    return r;
}

/* ---- wallet management while connected ---- */

/* The caller's wallet channel with that id, referenced; NULL with errbuf set. */
static gw_chan_t *find_wallet_chan(gw_t *gw, const char *caller, const char *chan_id, char *errbuf,
                                   size_t errlen)
{
    gw_chan_t *found = NULL;
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *c = gw->chans[GW_WALLET]; c; c = c->next)
        if (c->registered && strcmp(c->id, chan_id) == 0 && strcmp(c->account, caller) == 0)
            found = gw_chan_ref(c);
    pthread_mutex_unlock(&gw->lock);
    if (!found)
        snprintf(errbuf, errlen, "no connect found for wallet %s and channelID %s", caller, chan_id);
    return found;
}

int gw_support_new_account(gw_t *gw, const char *caller, const char *chan_id, const char *account,
                           char *errbuf, size_t errlen)
{
    if (vc_strempty(account)) {
        snprintf(errbuf, errlen, "empty account");
        return -EINVAL;
    }
    gw_chan_t *ch = find_wallet_chan(gw, caller, chan_id, errbuf, errlen);
    if (!ch)
        return -ENOENT;
    char **addrs = NULL;
    size_t n = 0;
    int r = 0;
    pthread_mutex_lock(&gw->lock);
    gw_account_t *a = find_account(gw, caller);
    if (a)
        r = strv_add(&a->support, &a->n_support, account);
    for (size_t i = 0; i < ch->n_addrs; i++)
        strv_add(&addrs, &n, ch->addrs[i]);
    pthread_mutex_unlock(&gw->lock);
    if (r >= 0)
        auth_register_signers(gw, account, addrs, n);
    strv_free(addrs, n);
    gw_chan_unref(ch);
    if (r < 0)
        snprintf(errbuf, errlen, "out of memory");
    return r < 0 ? r : 0;
}

static int addr_list(const json_t *addrs, char *errbuf, size_t errlen)
{
    if (!json_is_array(addrs)) {
        snprintf(errbuf, errlen, "expected a list of addresses");
        return VC_EPARSE;
    }
    size_t i;
    json_t *v;
    json_array_foreach(addrs, i, v)
    {
        vc_address_t a;
        if (!json_is_string(v) || vc_address_from_string(json_string_value(v), &a) < 0) {
            snprintf(errbuf, errlen, "invalid address at index %zu", i);
            return VC_EPARSE;
        }
    }
    return 0;
}

int gw_add_address(gw_t *gw, const char *caller, const char *chan_id, const json_t *addrs, char *errbuf,
                   size_t errlen)
{
    int r = addr_list(addrs, errbuf, errlen);
    if (r < 0)
        return r;
    gw_chan_t *ch = find_wallet_chan(gw, caller, chan_id, errbuf, errlen);
    if (!ch)
        return -ENOENT;
    /* the same challenge as at registration: the wallet checks it against its SignBytes */
    size_t i;
    json_t *v;
    char **ok = NULL;
    size_t n_ok = 0;
    json_array_foreach(addrs, i, v)
    {
        r = verify_address(gw, ch, json_string_value(v), ch->sign_bytes, ch->sb_len, errbuf, errlen);
        if (r < 0)
            goto out;
        strv_add(&ok, &n_ok, json_string_value(v));
    }
    char **accounts = NULL;
    size_t n_accounts = 0;
    pthread_mutex_lock(&gw->lock);
    for (size_t k = 0; k < n_ok; k++)
        strv_add(&ch->addrs, &ch->n_addrs, ok[k]);
    gw_account_t *a = find_account(gw, caller);
    for (size_t k = 0; a && k < a->n_support; k++)
        strv_add(&accounts, &n_accounts, a->support[k]);
    pthread_mutex_unlock(&gw->lock);
    for (size_t k = 0; k < n_accounts; k++)
        auth_register_signers(gw, accounts[k], ok, n_ok);
    strv_free(accounts, n_accounts);
    r = 0;
out:
    strv_free(ok, n_ok);
    gw_chan_unref(ch);
    return r;
}

/* Address strings equal up to the network prefix ("f1.." == "t1.."): the Go gateway compares
 * decoded addresses, so a devnet caller's "t" spelling must match a wallet's "f" one. */
static bool addr_eq(const char *a, const char *b)
{
    if ((a[0] == 'f' || a[0] == 't') && (b[0] == 'f' || b[0] == 't'))
        return strcmp(a + 1, b + 1) == 0;
    return strcmp(a, b) == 0;
}

static bool addr_has(char *const *v, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (addr_eq(v[i], addr))
            return true;
    return false;
}

int gw_remove_address(gw_t *gw, const char *caller, const char *chan_id, const json_t *addrs, char *errbuf,
                      size_t errlen)
{
    int r = addr_list(addrs, errbuf, errlen);
    if (r < 0)
        return r;
    gw_chan_t *ch = find_wallet_chan(gw, caller, chan_id, errbuf, errlen);
    if (!ch)
        return -ENOENT;
    size_t i;
    json_t *v;
    pthread_mutex_lock(&gw->lock);
    json_array_foreach(addrs, i, v)
    {
        const char *s = json_string_value(v);
        for (size_t k = 0; k < ch->n_addrs; k++)
            if (addr_eq(ch->addrs[k], s)) {
                free(ch->addrs[k]);
                ch->addrs[k] = ch->addrs[--ch->n_addrs];
                break;
            }
    }
    pthread_mutex_unlock(&gw->lock);
    gw_chan_unref(ch);
    return 0;
}

/* ---- routing ---- */

/* Under gw->lock: does wallet channel c serve addr for one of accounts? */
static bool wallet_matches(gw_t *gw, gw_chan_t *c, const char *addr, const char *const *accounts, size_t n)
{
    if (!c->registered || !addr_has(c->addrs, c->n_addrs, addr))
        return false;
    gw_account_t *a = find_account(gw, c->account);
    if (!a)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strv_has(a->support, a->n_support, accounts[i]))
            return true;
    return false;
}

bool gw_wallet_has(gw_t *gw, const char *addr, const char *const *accounts, size_t n)
{
    bool has = false;
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *c = gw->chans[GW_WALLET]; c && !has; c = c->next)
        has = wallet_matches(gw, c, addr, accounts, n);
    pthread_mutex_unlock(&gw->lock);
    return has;
}

typedef struct cand {
    gw_chan_t *ch;
    int load;
} cand_t;

static int cand_cmp(const void *a, const void *b)
{
    return ((const cand_t *)a)->load - ((const cand_t *)b)->load;
}

/* Tries the candidates (least loaded first) until one answers; see gateway.h. */
static int route(gw_t *gw, gw_kind_t kind, cand_t *c, size_t n, const char *method, const char *metric,
                 const json_t *payload, json_t **ret, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        c[i].load = gw_stream_outstanding(gw->streams[kind], c[i].ch);
    /* rotate equal loads so that idle connections share the work */
    static atomic_uint rr;
    if (n > 1) {
        unsigned shift = atomic_fetch_add(&rr, 1) % (unsigned)n;
        for (unsigned s = 0; s < shift; s++) {
            cand_t first = c[0];
            memmove(c, c + 1, (n - 1) * sizeof(*c));
            c[n - 1] = first;
        }
    }
    qsort(c, n, sizeof(*c), cand_cmp);
    size_t attempts = VC_MIN(n, (size_t)gw->cfg->max_attempts);
    vc_buf_t fails = {0};
    int r = -EIO, last_status = 0;
    char err[1024];
    int64_t t0 = vc_now_mono_us();
    for (size_t i = 0; i < attempts; i++) {
        if (i > 0)
            vc_counter_inc(vc_metric_with(gw->m.retries, metric, NULL));
        r = gw_stream_request(gw->streams[kind], c[i].ch, method, payload, ret, err, sizeof(err));
        if (r == GW_OK)
            break;
        last_status = r;
        vc_logkv(VC_LOG_WARNING, "gateway", "request failed on a connection", "method", method, "account",
                 c[i].ch->account, "channel", c[i].ch->id, "error", err, NULL);
        vc_buf_appendf(&fails, "%s%s %s channel %s (%s): %s", i ? "; " : "",
                       kind == GW_WALLET ? "wallet" : "prover", c[i].ch->account, c[i].ch->id, c[i].ch->ip,
                       err);
    }
    if (r == GW_OK) {
        vc_histogram_observe(vc_metric_with(gw->m.latency, metric, NULL),
                             (double)(vc_now_mono_us() - t0) / 1e6);
        count_result(gw, metric, "ok");
    } else {
        if (attempts == 1 && last_status == GW_RESP_ERROR)
            snprintf(errbuf, errlen, "%s", err); /* the provider's own answer, as the Go gateway returns it */
        else
            snprintf(errbuf, errlen, "all request failed: %s: tried %zu of %zu connection(s): %s", method,
                     attempts, n, fails.data ? fails.data : "");
        count_result(gw, metric, last_status == -ETIMEDOUT ? "timeout" : "error");
        r = r < 0 ? r : -EIO;
    }
    vc_buf_done(&fails);
    for (size_t i = 0; i < n; i++)
        gw_chan_unref(c[i].ch);
    return r;
}

int gw_wallet_sign(gw_t *gw, const char *addr, const char *const *accounts, size_t n, const char *to_sign_b64,
                   const json_t *meta, json_t **ret, char *errbuf, size_t errlen)
{
    cand_t *c = NULL;
    size_t nc = 0, cap = 0;
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *ch = gw->chans[GW_WALLET]; ch; ch = ch->next) {
        if (!wallet_matches(gw, ch, addr, accounts, n))
            continue;
        if (nc == cap) {
            cap = cap ? cap * 2 : 4;
            cand_t *nv = realloc(c, cap * sizeof(*c));
            if (!nv)
                break;
            c = nv;
        }
        c[nc++].ch = gw_chan_ref(ch);
    }
    pthread_mutex_unlock(&gw->lock);
    if (!nc) {
        free(c);
        count_result(gw, "wallet_sign", "no_channel");
        snprintf(errbuf, errlen, "send request must have channel");
        return -ENOENT;
    }
    json_t *payload = json_pack("{s:s, s:s, s:O}", "Signer", addr, "ToSign", to_sign_b64, "Meta", meta);
    int r = payload ? route(gw, GW_WALLET, c, nc, "WalletSign", "wallet_sign", payload, ret, errbuf, errlen)
                    : -ENOMEM;
    if (!payload)
        for (size_t i = 0; i < nc; i++)
            gw_chan_unref(c[i].ch);
    json_decref(payload);
    free(c);
    return r;
}

int gw_miner_request(gw_t *gw, gw_kind_t kind, const char *miner, const char *method, const json_t *payload,
                     json_t **ret, char *errbuf, size_t errlen)
{
    cand_t *c = NULL;
    size_t nc = 0, cap = 0;
    const char *metric = kind == GW_PROOF ? "compute_proof" : "sectors_unseal_piece";
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *ch = gw->chans[kind]; ch; ch = ch->next) {
        if (!ch->registered || strcmp(ch->miner, miner) != 0)
            continue;
        if (nc == cap) {
            cap = cap ? cap * 2 : 4;
            cand_t *nv = realloc(c, cap * sizeof(*c));
            if (!nv)
                break;
            c = nv;
        }
        c[nc++].ch = gw_chan_ref(ch);
    }
    pthread_mutex_unlock(&gw->lock);
    if (!nc) {
        free(c);
        count_result(gw, metric, "no_channel");
        snprintf(errbuf, errlen, "no connections for this miner %s", miner);
        return -ENOENT;
    }
    int r = route(gw, kind, c, nc, method, metric, payload, ret, errbuf, errlen);
    free(c);
    return r;
}

/* ---- listings ---- */

static json_t *connect_state(gw_t *gw, gw_chan_t *c, int load)
{
    json_t *addrs = json_null();
    if (c->kind == GW_WALLET) {
        addrs = json_array();
        for (size_t i = 0; i < c->n_addrs; i++)
            json_array_append_new(addrs, json_string(c->addrs[i]));
    }
    return json_pack("{s:o, s:s, s:s, s:i, s:s}", "Addrs", addrs, "ChannelId", c->id, "Ip", c->ip,
                     "RequestCount", load, "CreateTime", c->create_time);
}

/* Registered channels of kind, referenced, in a malloc'ed array. */
static gw_chan_t **snapshot(gw_t *gw, gw_kind_t kind, size_t *ret_n)
{
    size_t n = 0;
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *c = gw->chans[kind]; c; c = c->next)
        n += c->registered;
    gw_chan_t **v = calloc(n + 1, sizeof(*v));
    n = 0;
    for (gw_chan_t *c = gw->chans[kind]; v && c; c = c->next)
        if (c->registered)
            v[n++] = gw_chan_ref(c);
    pthread_mutex_unlock(&gw->lock);
    *ret_n = n;
    return v;
}

static void snapshot_free(gw_chan_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gw_chan_unref(v[i]);
    free(v);
}

json_t *gw_list_wallets(gw_t *gw, const char *only_account)
{
    size_t n;
    gw_chan_t **v = snapshot(gw, GW_WALLET, &n);
    int *loads = calloc(n + 1, sizeof(int));
    for (size_t i = 0; loads && i < n; i++)
        loads[i] = gw_stream_outstanding(gw->streams[GW_WALLET], v[i]);
    json_t *out = json_array();
    pthread_mutex_lock(&gw->lock);
    for (gw_account_t *a = gw->accounts; a; a = a->next) {
        if (only_account && strcmp(a->name, only_account) != 0)
            continue;
        json_t *sup = json_array(), *states = json_array();
        for (size_t i = 0; i < a->n_support; i++)
            json_array_append_new(sup, json_string(a->support[i]));
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i]->account, a->name) == 0)
                json_array_append_new(states, connect_state(gw, v[i], loads ? loads[i] : 0));
        json_array_append_new(out, json_pack("{s:s, s:o, s:o}", "Account", a->name, "SupportAccounts", sup,
                                             "ConnectStates", states));
    }
    pthread_mutex_unlock(&gw->lock);
    free(loads);
    snapshot_free(v, n);
    if (only_account) {
        json_t *one = json_incref(json_array_get(out, 0));
        json_decref(out);
        return one;
    }
    if (!json_array_size(out)) {
        json_decref(out);
        return json_null();
    }
    return out;
}

json_t *gw_list_miners(gw_t *gw, gw_kind_t kind)
{
    json_t *out = json_array();
    pthread_mutex_lock(&gw->lock);
    for (gw_chan_t *c = gw->chans[kind]; c; c = c->next) {
        if (!c->registered)
            continue;
        bool dup = false;
        size_t i;
        json_t *v;
        json_array_foreach(out, i, v) dup = dup || strcmp(json_string_value(v), c->miner) == 0;
        if (!dup)
            json_array_append_new(out, json_string(c->miner));
    }
    pthread_mutex_unlock(&gw->lock);
    return out;
}

json_t *gw_miner_state(gw_t *gw, gw_kind_t kind, const char *miner)
{
    size_t n;
    gw_chan_t **v = snapshot(gw, kind, &n);
    json_t *conns = json_array();
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->miner, miner) == 0)
            json_array_append_new(conns,
                                  connect_state(gw, v[i], gw_stream_outstanding(gw->streams[kind], v[i])));
    snapshot_free(v, n);
    size_t cnt = json_array_size(conns);
    if (!cnt) {
        json_decref(conns);
        return NULL;
    }
    return json_pack("{s:o, s:i}", "Connections", conns, "ConnectionCount", (int)cnt);
}

json_t *gw_market_states(gw_t *gw)
{
    json_t *miners = gw_list_miners(gw, GW_MARKET), *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(miners, i, m)
    {
        json_t *st = gw_miner_state(gw, GW_MARKET, json_string_value(m));
        if (st)
            json_array_append_new(out, json_pack("{s:O, s:o}", "Addr", m, "Conn", st));
    }
    json_decref(miners);
    return out;
}
