/*
 * venus-gateway against real daemons: starts venus-auth and venus-gateway on 127.0.0.1 port 0,
 * then plays the wallet and prover sides itself over WebSocket (ListenWalletEvent /
 * ListenProofEvent, answered with Response*Event) with the secp256k1 keys of the vectors file,
 * and the messager / miner side over HTTP with the gateway's local admin token.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/authn.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/http.h"
#include "vc/rpc.h"
#include "vc/signature.h"
#include "vc/util.h"
#include "vc/workq.h"

static char auth_url[128], gw_url[128], gw_ws[160], gw_ws_v1[160];
static char *auth_admin, *gw_admin, *wallet_tok, *wallet2_tok, *prover_tok;
static pid_t auth_pid, gw_pid;
static uint8_t keys[2][32];
static char addrs[2][VC_ADDRESS_STRLEN_MAX];
static vc_workq_t *pool;
static uint8_t sign_bytes[32]; /* every fake wallet's SignBytes */

/* ---------------------------------------------------------------- helpers */

static char *read_trim(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (vc_read_file(path, 65536, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
        d[--n] = 0;
    return d;
}

/* REST call to venus-auth with the admin token; returns the status, *ret_body malloc'ed. */
static long auth_rest(const char *method, const char *path, const char *body, char **ret_body)
{
    const char *eps[] = {auth_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = auth_admin, .retries = -1};
    vc_client_t *c = NULL;
    long status = 0;
    char *b = NULL;
    size_t len = 0;
    if (vc_client_new(&o, &c) == 0 && vc_client_rest(c, method, path, body, &status, &b, &len) == 0 &&
        ret_body)
        *ret_body = b;
    else
        free(b);
    vc_client_free(c);
    return status;
}

static char *gen_token(const char *user, const char *perm)
{
    char body[256], *ans = NULL;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"perm\":\"%s\",\"extra\":\"\"}", user, perm);
    if (auth_rest("POST", "/genToken", body, &ans) != 200) {
        free(ans);
        return NULL;
    }
    json_t *j = json_loads(ans, 0, NULL);
    free(ans);
    char *t = strdup(json_string_value(json_object_get(j, "token")));
    json_decref(j);
    return t;
}

/* JSON-RPC over HTTP to the gateway (path "/rpc/v2" or "/rpc/v1"). */
static int gw_call(const char *token, const char *path, const char *method, json_t *params, json_t **ret,
                   vc_rpc_err_t *err)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", gw_url, path);
    const char *eps[] = {url};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .token = token, .retries = -1, .timeout_ms = 60000};
    vc_client_t *c = NULL;
    int r = vc_client_new(&o, &c);
    if (r < 0) {
        json_decref(params);
        return r;
    }
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    r = vc_client_call(c, method, params, &res, &e);
    vc_client_free(c);
    if (err)
        *err = e;
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return r;
}

static bool wait_until(bool (*cond)(void *), void *arg, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (cond(arg))
            return true;
        vc_sleep_ms(20);
    }
    return cond(arg);
}

/* ---------------------------------------------------------------- fake wallet / prover */

typedef enum { MODE_OK, MODE_BAD_SIGN, MODE_ERROR } wallet_mode_t;

typedef struct provider {
    const char *stream; /* "Wallet" or "Proof" */
    vc_rpc_conn_t *conn;
    vc_rpc_sub_t *sub;
    wallet_mode_t mode;
    int delay_ms;      /* before answering WalletSign / ComputeProof */
    size_t nkeys;      /* keys[0..nkeys) */
    atomic_int signs;  /* WalletSign answered */
    atomic_int proofs; /* ComputeProof answered */
    atomic_bool closed;
    atomic_bool dead; /* stop answering */
    pthread_mutex_t lock;
    char chan_id[37];
    atomic_int inflight;    /* jobs running */
    const char *extra_addr; /* a BLS address listed too, "signed" with a dummy type-2 signature */
    char last_sign_id[64];  /* Id of the last WalletSign (not a challenge) */
    atomic_int concurrent, max_concurrent; /* WalletSign being worked on */
} provider_t;

typedef struct job {
    provider_t *p;
    json_t *ev;
} job_t;

static json_t *b64_json(const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = vc_base64_encode((const uint8_t *)t, strlen(t));
    json_t *s = json_string(b);
    free(t);
    free(b);
    return s;
}

static json_t *decode_payload(json_t *ev)
{
    const char *p = json_string_value(json_object_get(ev, "Payload"));
    if (!p)
        return NULL;
    uint8_t *raw = NULL;
    size_t n = 0;
    if (vc_base64_decode(p, strlen(p), &raw, &n) < 0)
        return NULL;
    json_t *j = json_loadb((const char *)raw, n, JSON_DECODE_ANY, NULL);
    free(raw);
    return j;
}

/* ToSign of a verifyaddress challenge must be SHA-256(Extra || SignBytes). */
static bool challenge_ok(json_t *pl, const uint8_t *msg, size_t n)
{
    const char *ex = json_string_value(json_object_get(json_object_get(pl, "Meta"), "Extra"));
    uint8_t *extra = NULL, d[32];
    size_t el = 0;
    if (!ex || n != 32 || vc_base64_decode(ex, strlen(ex), &extra, &el) < 0)
        return false;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, extra, el);
    crypto_hash_sha256_update(&st, sign_bytes, sizeof(sign_bytes));
    crypto_hash_sha256_final(&st, d);
    free(extra);
    return memcmp(d, msg, 32) == 0;
}

static void answer(provider_t *p, const char *id, json_t *payload, const char *error)
{
    json_t *resp = json_pack("{s:s, s:o, s:s}", "Id", id, "Payload",
                             payload ? b64_json(payload) : json_null(), "Error", error ? error : "");
    char method[64];
    snprintf(method, sizeof(method), "Gateway.Response%sEvent", p->stream);
    vc_rpc_err_t err;
    json_t *res = NULL;
    vc_rpc_conn_call(p->conn, method, json_pack("[o]", resp), 10000, &res, &err);
    json_decref(res);
}

static void run_job(void *arg)
{
    job_t *j = arg;
    provider_t *p = j->p;
    const char *method = json_string_value(json_object_get(j->ev, "Method"));
    const char *id = json_string_value(json_object_get(j->ev, "Id"));
    json_t *pl = decode_payload(j->ev);
    if (vc_streq(method, "InitConnect")) {
        pthread_mutex_lock(&p->lock);
        snprintf(p->chan_id, sizeof(p->chan_id), "%s", json_string_value(json_object_get(pl, "ChannelId")));
        pthread_mutex_unlock(&p->lock);
    } else if (vc_streq(method, "WalletList")) {
        json_t *l = json_array();
        for (size_t i = 0; i < p->nkeys; i++)
            json_array_append_new(l, json_string(addrs[i]));
        if (p->extra_addr)
            json_array_append_new(l, json_string(p->extra_addr));
        answer(p, id, l, NULL);
        json_decref(l);
    } else if (vc_streq(method, "WalletSign")) {
        const char *signer = json_string_value(json_object_get(pl, "Signer"));
        const char *ts = json_string_value(json_object_get(pl, "ToSign"));
        const char *mt = json_string_value(json_object_get(json_object_get(pl, "Meta"), "Type"));
        bool challenge = vc_streq(mt, "verifyaddress");
        if (!challenge) {
            pthread_mutex_lock(&p->lock);
            snprintf(p->last_sign_id, sizeof(p->last_sign_id), "%s", id);
            pthread_mutex_unlock(&p->lock);
        }
        if (!challenge && p->delay_ms) {
            int now = atomic_fetch_add(&p->concurrent, 1) + 1;
            int m = atomic_load(&p->max_concurrent);
            while (now > m && !atomic_compare_exchange_weak(&p->max_concurrent, &m, now))
                ;
            vc_sleep_ms(p->delay_ms);
            atomic_fetch_sub(&p->concurrent, 1);
        }
        if (atomic_load(&p->dead))
            goto out;
        if (p->extra_addr && vc_streq(signer, p->extra_addr)) {
            uint8_t dummy[96] = {1};
            vc_signature_t s;
            vc_signature_set(&s, VC_SIG_BLS, dummy, sizeof(dummy));
            json_t *sj = vc_signature_to_json(&s);
            answer(p, id, sj, NULL);
            json_decref(sj);
            goto out;
        }
        int k = -1;
        for (size_t i = 0; i < p->nkeys; i++)
            if (vc_streq(signer, addrs[i]))
                k = (int)i;
        uint8_t *msg = NULL;
        size_t n = 0;
        if (k < 0 || !ts || vc_base64_decode(ts, strlen(ts), &msg, &n) < 0) {
            answer(p, id, NULL, "key not found");
        } else if (challenge && !challenge_ok(pl, msg, n)) { /* as venus-wallet checks it */
            answer(p, id, NULL, "verifyaddress: the data to sign is not SHA-256(Extra || SignBytes)");
        } else if (p->mode == MODE_ERROR && !challenge) {
            answer(p, id, NULL, "wallet is locked");
        } else {
            uint8_t sig[65];
            int use = p->mode == MODE_BAD_SIGN ? 1 - k : k;
            vc_secp256k1_sign(keys[use], msg, n, sig);
            vc_signature_t s;
            vc_signature_set(&s, VC_SIG_SECP256K1, sig, sizeof(sig));
            json_t *sj = vc_signature_to_json(&s);
            if (!challenge)
                atomic_fetch_add(&p->signs, 1);
            answer(p, id, sj, NULL);
            json_decref(sj);
        }
        free(msg);
    } else if (vc_streq(method, "SectorsUnsealPiece")) {
        json_t *st = json_string(json_integer_value(json_object_get(pl, "Sid")) == 7 &&
                                         vc_streq(json_string_value(json_object_get(pl, "Dest")), "/tmp/x")
                                     ? "finished"
                                     : "failed");
        answer(p, id, st, NULL);
        json_decref(st);
    } else if (vc_streq(method, "ComputeProof")) {
        if (p->delay_ms)
            vc_sleep_ms(p->delay_ms);
        if (atomic_load(&p->dead))
            goto out;
        atomic_fetch_add(&p->proofs, 1);
        json_t *proof = json_pack("[{s:i, s:s}]", "PoStProof", 8, "ProofBytes", "AQID");
        if (json_integer_value(json_object_get(pl, "Height")) != 10101)
            answer(p, id, NULL, "unexpected height");
        else
            answer(p, id, proof, NULL);
        json_decref(proof);
    }
out:
    json_decref(pl);
    json_decref(j->ev);
    atomic_fetch_sub(&p->inflight, 1);
    free(j);
}

/* Runs on the connection's reader: answering needs a call, so it goes to the pool. */
static void on_event(json_t *value, void *ud)
{
    provider_t *p = ud;
    job_t *j = calloc(1, sizeof(*j));
    j->p = p;
    j->ev = json_incref(value);
    atomic_fetch_add(&p->inflight, 1);
    vc_workq_submit(pool, run_job, j);
}

static void on_sub_close(void *ud)
{
    provider_t *p = ud;
    atomic_store(&p->closed, true);
}

/* Connects and subscribes. Returns 0, or the subscription error (err filled). */
static int provider_start(provider_t *p, const char *stream, const char *token, json_t *policy,
                          vc_rpc_err_t *err)
{
    pthread_mutex_init(&p->lock, NULL);
    p->stream = stream;
    const char *eps[] = {gw_ws};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .retries = -1};
    vc_client_t *c = NULL;
    int r = vc_client_new(&o, &c);
    if (r < 0)
        return r;
    r = vc_client_ws_connect(c, NULL, &p->conn);
    vc_client_free(c);
    if (r < 0) {
        json_decref(policy);
        return r;
    }
    char method[64];
    snprintf(method, sizeof(method), "Gateway.Listen%sEvent", stream);
    return vc_rpc_conn_subscribe(p->conn, method, json_pack("[o]", policy), 10000, on_event, on_sub_close, p,
                                 &p->sub, err);
}

static void provider_stop(provider_t *p)
{
    if (p->conn)
        vc_rpc_conn_close(p->conn);
    while (atomic_load(&p->inflight) > 0)
        vc_sleep_ms(10);
    vc_rpc_sub_free(p->sub);
    p->sub = NULL;
    if (p->conn)
        vc_rpc_conn_unref(p->conn);
    p->conn = NULL;
    pthread_mutex_destroy(&p->lock);
}

static json_t *wallet_policy(const char *account)
{
    char *b = vc_base64_encode(sign_bytes, sizeof(sign_bytes));
    json_t *p = account ? json_pack("{s:[s], s:s}", "SupportAccounts", account, "SignBytes", b)
                        : json_pack("{s:[], s:s}", "SupportAccounts", "SignBytes", b);
    free(b);
    return p;
}

static bool has_chan_id(void *arg)
{
    provider_t *p = arg;
    pthread_mutex_lock(&p->lock);
    bool ok = p->chan_id[0] != 0;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static bool is_closed(void *arg)
{
    return atomic_load(&((provider_t *)arg)->closed);
}

static int wallet_has(const char *addr, const char *account)
{
    json_t *res = NULL;
    int r =
        gw_call(gw_admin, "/rpc/v2", "Gateway.WalletHas", json_pack("[s, [s]]", addr, account), &res, NULL);
    int v = r < 0 ? r : json_is_true(res);
    json_decref(res);
    return v;
}

/* WalletSign through the gateway; 0 when the signature verifies against addr. */
static int sign_and_verify(const char *addr, const char *account, const char *text, vc_rpc_err_t *err)
{
    char *b = vc_base64_encode((const uint8_t *)text, strlen(text));
    json_t *res = NULL;
    int r = gw_call(gw_admin, "/rpc/v2", "Gateway.WalletSign",
                    json_pack("[s, [s], s, {s:s, s:n}]", addr, account, b, "Type", "message", "Extra"), &res,
                    err);
    free(b);
    if (r < 0)
        return r;
    vc_signature_t s;
    vc_address_t a;
    r = vc_signature_from_json(res, &s);
    json_decref(res);
    if (r < 0 || (r = vc_address_from_string(addr, &a)) < 0)
        return r;
    return vc_signature_verify(&s, text, strlen(text), &a);
}

/* ---------------------------------------------------------------- setup */

static void start_daemons(void)
{
    char repo[600], log[600], path[700];
    const char *abin = getenv("VENUS_AUTH_BIN"), *gbin = getenv("VENUS_GATEWAY_BIN");
    if (!abin || !gbin) {
        fprintf(stderr, "VENUS_AUTH_BIN / VENUS_GATEWAY_BIN not set\n");
        exit(2);
    }
    snprintf(repo, sizeof(repo), "%s/auth", vc_test_tmpdir());
    snprintf(log, sizeof(log), "%s/auth.log", vc_test_tmpdir());
    const char *aargv[] = {abin, "--repo", repo, "run", "--listen", "127.0.0.1:0", NULL};
    auth_pid = vc_test_spawn(aargv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (auth_pid <= 0 || !vc_test_wait_file(path, 20000)) {
        fprintf(stderr, "venus-auth did not start; log in %s\n", log);
        exit(2);
    }
    char *bound = read_trim(path);
    snprintf(auth_url, sizeof(auth_url), "http://%s", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/token", repo);
    auth_admin = read_trim(path);

    /* users, tokens, a miner binding */
    const char *users[] = {"walletuser", "walletuser2", "prover", "msgr"};
    for (size_t i = 0; i < VC_ELEMENTSOF(users); i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"Name\":\"%s\",\"State\":1}", users[i]);
        if (auth_rest("PUT", "/user/new", body, NULL) != 200) {
            fprintf(stderr, "cannot create user %s\n", users[i]);
            exit(2);
        }
    }
    wallet_tok = gen_token("walletuser", "sign");
    wallet2_tok = gen_token("walletuser2", "sign");
    prover_tok = gen_token("prover", "write");
    if (auth_rest("POST", "/user/miner/add", "{\"User\":\"prover\",\"Miner\":\"f01000\",\"OpenMining\":true}",
                  NULL) != 200) {
        fprintf(stderr, "cannot bind the miner\n");
        exit(2);
    }

    /* the gateway, with short timeouts and a fast re-verification */
    snprintf(repo, sizeof(repo), "%s/gw", vc_test_tmpdir());
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "[API]\nListenAddress = \"127.0.0.1:0\"\n[Auth]\nURL = \"%s\"\nToken = \"%s\"\n"
             "ReverifyInterval = \"300ms\"\nVerifyCacheTTL = \"200ms\"\n"
             "[Request]\nWalletTimeout = \"3s\"\nProofTimeout = \"3s\"\nClearInterval = "
             "\"100ms\"\nMaxAttempts = 3\n"
             "[Wallet]\nTrustUnverifiableKeyAccounts = [\"walletuser2\"]\n",
             auth_url, auth_admin);
    vc_write_file_atomic(path, conf, strlen(conf), 0600);
    snprintf(log, sizeof(log), "%s/gateway.log", vc_test_tmpdir());
    const char *gargv[] = {gbin, "--repo", repo, "run", NULL};
    gw_pid = vc_test_spawn(gargv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (gw_pid <= 0 || !vc_test_wait_file(path, 20000)) {
        fprintf(stderr, "venus-gateway did not start; log in %s\n", log);
        exit(2);
    }
    bound = read_trim(path);
    snprintf(gw_url, sizeof(gw_url), "http://%s", bound);
    snprintf(gw_ws, sizeof(gw_ws), "ws://%s/rpc/v2", bound);
    snprintf(gw_ws_v1, sizeof(gw_ws_v1), "ws://%s/rpc/v1", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/token", repo);
    gw_admin = read_trim(path);
    fprintf(stderr, "# auth %s, gateway %s, logs in %s\n", auth_url, gw_url, vc_test_tmpdir());
}

static void load_keys(void)
{
    const char *vf = getenv("VC_VECTORS_FILE");
    json_t *v = vf ? json_load_file(vf, 0, NULL) : NULL;
    json_t *ks = json_object_get(v, "keys");
    if (json_array_size(ks) < 2) {
        fprintf(stderr, "VC_VECTORS_FILE has no keys\n");
        exit(2);
    }
    for (size_t i = 0; i < 2; i++) {
        json_t *k = json_array_get(ks, i);
        vc_hex_decode(json_string_value(json_object_get(k, "privateKeyHex")), 64, keys[i]);
        snprintf(addrs[i], sizeof(addrs[i]), "%s", json_string_value(json_object_get(k, "mainnet")));
        vc_address_t a;
        char s[VC_ADDRESS_STRLEN_MAX];
        vc_secp256k1_address(keys[i], &a);
        vc_address_to_string(&a, 'f', s);
        if (strcmp(s, addrs[i]) != 0) {
            fprintf(stderr, "vector key %zu does not give %s\n", i, addrs[i]);
            exit(2);
        }
    }
    json_decref(v);
}

/* ---------------------------------------------------------------- tests */

static void test_verify_users_failure(void)
{
    provider_t p = {0};
    vc_rpc_err_t err = {0};
    int r = provider_start(&p, "Wallet", wallet_tok, wallet_policy("nosuchuser"), &err);
    ASSERT_EQ(r, VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "verify users") != NULL);
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 0);
    provider_stop(&p);
}

static void test_bad_signer_not_registered(void)
{
    provider_t p = {.mode = MODE_BAD_SIGN, .nkeys = 2};
    vc_rpc_err_t err = {0};
    ASSERT_OK(provider_start(&p, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(is_closed, &p, 5000)); /* xrpc.ch.close after the failed challenge */
    ASSERT_FALSE(has_chan_id(&p));
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 0);
    json_t *res = NULL;
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.ListWalletInfo", NULL, &res, NULL));
    ASSERT_TRUE(json_is_null(res));
    json_decref(res);
    provider_stop(&p);
}

static void test_listen_over_http_refused(void)
{
    vc_rpc_err_t err = {0};
    int r = gw_call(wallet_tok, "/rpc/v2", "Gateway.ListenWalletEvent", json_pack("[o]", wallet_policy(NULL)),
                    NULL, &err);
    ASSERT_TRUE(r < 0);
    ASSERT_TRUE(strstr(err.message, "no out channel support") != NULL);
}

static void test_register_has_sign(void)
{
    provider_t p = {.nkeys = 2};
    vc_rpc_err_t err = {0};
    ASSERT_OK(provider_start(&p, "Wallet", wallet_tok, wallet_policy("msgr"), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 1);
    ASSERT_EQ(wallet_has(addrs[1], "msgr"), 1);
    ASSERT_EQ(wallet_has(addrs[0], "walletuser2"), 0);
    ASSERT_EQ(wallet_has("f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", "walletuser"), 0);
    /* v1 parameter order */
    json_t *res = NULL;
    ASSERT_OK(gw_call(gw_admin, "/rpc/v1", "Gateway.WalletHas", json_pack("[s, s]", "walletuser", addrs[1]),
                      &res, NULL));
    ASSERT_TRUE(json_is_true(res));
    json_decref(res);
    /* signing through the gateway verifies against the vector key's address */
    ASSERT_OK(sign_and_verify(addrs[0], "walletuser", "hello filecoin", &err));
    ASSERT_OK(sign_and_verify(addrs[1], "msgr", "second key", &err));
    char *b = vc_base64_encode((const uint8_t *)"v1", 2);
    ASSERT_OK(gw_call(gw_admin, "/rpc/v1", "Gateway.WalletSign",
                      json_pack("[s, s, s, {s:s}]", "walletuser", addrs[0], b, "Type", "block"), &res, &err));
    free(b);
    vc_signature_t s;
    vc_address_t a;
    ASSERT_OK(vc_signature_from_json(res, &s));
    json_decref(res);
    ASSERT_OK(vc_address_from_string(addrs[0], &a));
    ASSERT_OK(vc_signature_verify(&s, "v1", 2, &a));
    /* no wallet for this account */
    ASSERT_TRUE(sign_and_verify(addrs[0], "walletuser2", "x", &err) < 0);
    ASSERT_TRUE(strstr(err.message, "send request must have channel") != NULL);
    /* admin only */
    ASSERT_TRUE(gw_call(wallet_tok, "/rpc/v2", "Gateway.WalletHas",
                        json_pack("[s, [s]]", addrs[0], "walletuser"), NULL, &err) < 0);
    ASSERT_TRUE(strstr(err.message, "missing permission") != NULL);

    /* listings and venus-auth bookkeeping */
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.ListWalletInfoByWallet", json_pack("[s]", "walletuser"),
                      &res, NULL));
    ASSERT_STREQ(json_string_value(json_object_get(res, "Account")), "walletuser");
    ASSERT_EQ(json_array_size(json_object_get(res, "SupportAccounts")), 2);
    json_t *cs = json_array_get(json_object_get(res, "ConnectStates"), 0);
    ASSERT_STREQ(json_string_value(json_object_get(cs, "ChannelId")), p.chan_id);
    ASSERT_EQ(json_array_size(json_object_get(cs, "Addrs")), 2);
    json_decref(res);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.ListWalletInfoByWallet", json_pack("[s]", "nobody"),
                        NULL, &err) < 0);
    ASSERT_STREQ(err.message, "wallet nobody not exit");
    char q[256], *ans = NULL;
    snprintf(q, sizeof(q), "/user/signer/exist?signer=%s&user=msgr", addrs[1]);
    ASSERT_EQ(auth_rest("GET", q, NULL, &ans), 200);
    ASSERT_TRUE(ans && strncmp(ans, "true", 4) == 0);
    free(ans);

    /* RemoveAddress / AddNewAddress over the same connection */
    vc_rpc_err_t e2;
    json_t *r2 = NULL;
    ASSERT_OK(vc_rpc_conn_call(p.conn, "Gateway.RemoveAddress", json_pack("[s, [s]]", p.chan_id, addrs[1]),
                               5000, &r2, &e2));
    json_decref(r2);
    ASSERT_EQ(wallet_has(addrs[1], "walletuser"), 0);
    ASSERT_OK(vc_rpc_conn_call(p.conn, "Gateway.AddNewAddress", json_pack("[s, [s]]", p.chan_id, addrs[1]),
                               5000, &r2, &e2));
    json_decref(r2);
    ASSERT_EQ(wallet_has(addrs[1], "walletuser"), 1);
    /* SupportNewAccount: the new account can use the wallet */
    ASSERT_OK(vc_rpc_conn_call(p.conn, "Gateway.SupportNewAccount",
                               json_pack("[s, s]", p.chan_id, "walletuser2"), 5000, &r2, &e2));
    json_decref(r2);
    ASSERT_EQ(wallet_has(addrs[0], "walletuser2"), 1);
    /* someone else's channel id */
    ASSERT_TRUE(vc_rpc_conn_call(p.conn, "Gateway.AddNewAddress",
                                 json_pack("[s, [s]]", "00000000-0000-4000-8000-000000000000", addrs[1]),
                                 5000, &r2, &e2) < 0);
    ASSERT_TRUE(strstr(e2.message, "no connect found") != NULL);

    /* disconnect: gone from routing */
    provider_stop(&p);
    for (int i = 0; i < 100 && wallet_has(addrs[0], "walletuser") == 1; i++)
        vc_sleep_ms(20);
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 0);
}

typedef struct signer_arg {
    int n;
    atomic_int *ok;
    atomic_int *failed;
    int idx;
} signer_arg_t;

static void *signer_main(void *arg)
{
    signer_arg_t *a = arg;
    for (int i = 0; i < a->n; i++) {
        char text[64];
        snprintf(text, sizeof(text), "msg %d/%d", a->idx, i);
        vc_rpc_err_t err = {0};
        if (sign_and_verify(addrs[i % 2], "walletuser", text, &err) == 0)
            atomic_fetch_add(a->ok, 1);
        else {
            fprintf(stderr, "  sign failed: %s\n", err.message);
            atomic_fetch_add(a->failed, 1);
        }
    }
    return NULL;
}

/* Two wallets hold the same keys; one dies mid-stream; every request completes on the other. */
static void test_failover_two_wallets(void)
{
    provider_t a = {.nkeys = 2, .delay_ms = 30}, b = {.nkeys = 2, .delay_ms = 5};
    vc_rpc_err_t err;
    ASSERT_OK(provider_start(&a, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_OK(provider_start(&b, "Wallet", wallet2_tok, wallet_policy("walletuser"), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &a, 5000));
    ASSERT_TRUE(wait_until(has_chan_id, &b, 5000));

    enum { THREADS = 6, PER = 15 };
    atomic_int ok = 0, failed = 0;
    pthread_t th[THREADS];
    signer_arg_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (signer_arg_t){.n = PER, .ok = &ok, .failed = &failed, .idx = i};
        pthread_create(&th[i], NULL, signer_main, &args[i]);
    }
    /* kill wallet a while requests are queued on it */
    for (int i = 0; i < 250 && atomic_load(&a.signs) < 3; i++)
        vc_sleep_ms(20);
    ASSERT_TRUE(atomic_load(&a.signs) >= 3);
    atomic_store(&a.dead, true);
    vc_rpc_conn_close(a.conn);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "# wallet a signed %d, wallet b %d, ok %d, failed %d\n", atomic_load(&a.signs),
            atomic_load(&b.signs), atomic_load(&ok), atomic_load(&failed));
    ASSERT_EQ(atomic_load(&failed), 0);
    ASSERT_EQ(atomic_load(&ok), THREADS * PER);
    ASSERT_TRUE(atomic_load(&b.signs) > 0);
    provider_stop(&a);

    /* a wallet that answers with an error: retried on b, the error names the failed wallet
     * only when nothing succeeds */
    provider_t c = {.nkeys = 2, .mode = MODE_ERROR};
    ASSERT_OK(provider_start(&c, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &c, 5000));
    for (int i = 0; i < 6; i++)
        ASSERT_OK(sign_and_verify(addrs[0], "walletuser", "retry me", &err));
    provider_stop(&b);
    for (int i = 0; i < 100 && wallet_has(addrs[0], "walletuser2") == 1; i++)
        vc_sleep_ms(20);
    ASSERT_TRUE(sign_and_verify(addrs[0], "walletuser", "no good wallet", &err) < 0);
    ASSERT_TRUE(strstr(err.message, "wallet is locked") != NULL);
    provider_stop(&c);
}

/* 40 concurrent signs on one wallet: at most 30 outstanding on its connection, all complete. */
static void test_queue_bound(void)
{
    provider_t p = {.nkeys = 2, .delay_ms = 150};
    vc_rpc_err_t err;
    ASSERT_OK(provider_start(&p, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    enum { N = 40 };
    atomic_int ok = 0, failed = 0;
    pthread_t th[N];
    signer_arg_t args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (signer_arg_t){.n = 1, .ok = &ok, .failed = &failed, .idx = 100 + i};
        pthread_create(&th[i], NULL, signer_main, &args[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "# at most %d signs outstanding on the wallet\n", atomic_load(&p.max_concurrent));
    ASSERT_EQ(atomic_load(&ok), N);
    ASSERT_TRUE(atomic_load(&p.max_concurrent) <= 30);
    ASSERT_TRUE(atomic_load(&p.max_concurrent) >= 20);
    provider_stop(&p);
}

static void *sign_bg(void *arg)
{
    vc_rpc_err_t err;
    *(int *)arg = sign_and_verify(addrs[0], "walletuser", "answered over http", &err);
    return NULL;
}

static bool has_sign_id(void *arg)
{
    provider_t *p = arg;
    pthread_mutex_lock(&p->lock);
    bool ok = p->last_sign_id[0] != 0;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

/* A request answered over a separate HTTP POST, by the right user only, and only once; then a
 * wallet that never answers: the request times out (sweeper) and the error says so. */
static void test_sign_timeout(void)
{
    provider_t p = {.nkeys = 1};
    vc_rpc_err_t err;
    ASSERT_OK(provider_start(&p, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    atomic_store(&p.dead, true);

    int bg = 1;
    pthread_t th;
    pthread_create(&th, NULL, sign_bg, &bg);
    bool got = wait_until(has_sign_id, &p, 5000);
    uint8_t sig[65];
    vc_secp256k1_sign(keys[0], "answered over http", 18, sig);
    vc_signature_t vs;
    vc_signature_set(&vs, VC_SIG_SECP256K1, sig, sizeof(sig));
    json_t *sj = vc_signature_to_json(&vs);
    json_t *resp = json_pack("{s:s, s:o, s:s}", "Id", p.last_sign_id, "Payload", b64_json(sj), "Error", "");
    json_decref(sj);
    int r_other =
        gw_call(wallet2_tok, "/rpc/v2", "Gateway.ResponseWalletEvent", json_pack("[O]", resp), NULL, &err);
    bool other_msg = strstr(err.message, "not sent to a connection of user walletuser2") != NULL;
    int r_ok =
        gw_call(wallet_tok, "/rpc/v2", "Gateway.ResponseWalletEvent", json_pack("[O]", resp), NULL, &err);
    int r_again =
        gw_call(wallet_tok, "/rpc/v2", "Gateway.ResponseWalletEvent", json_pack("[O]", resp), NULL, &err);
    bool again_msg = strstr(err.message, "not exit") != NULL;
    json_decref(resp);
    pthread_join(th, NULL);
    ASSERT_TRUE(got);
    ASSERT_TRUE(r_other < 0 && other_msg);
    ASSERT_OK(r_ok);
    ASSERT_TRUE(r_again < 0 && again_msg);
    ASSERT_OK(bg);

    int64_t t0 = vc_now_mono_us();
    ASSERT_TRUE(sign_and_verify(addrs[0], "walletuser", "hang", &err) < 0);
    int64_t ms = (vc_now_mono_us() - t0) / 1000;
    ASSERT_TRUE(ms >= 2900 && ms < 8000);
    ASSERT_TRUE(strstr(err.message, "timer clean this request") != NULL);
    provider_stop(&p);
}

static void test_compute_proof(void)
{
    provider_t p = {0};
    vc_rpc_err_t err = {0};
    /* a miner not bound to the token's user is refused */
    ASSERT_EQ(provider_start(&p, "Proof", prover_tok, json_pack("{s:s}", "MinerAddress", "f01001"), &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "not exist in user:prover") != NULL);
    provider_stop(&p);

    provider_t q = {0};
    ASSERT_OK(provider_start(&q, "Proof", prover_tok, json_pack("{s:s}", "MinerAddress", "f01000"), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &q, 5000));
    json_t *res = NULL;
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.ListConnectedMiners", NULL, &res, NULL));
    ASSERT_EQ(json_array_size(res), 1);
    ASSERT_STREQ(json_string_value(json_array_get(res, 0)), "f01000");
    json_decref(res);
    ASSERT_OK(
        gw_call(gw_admin, "/rpc/v2", "Gateway.ListMinerConnection", json_pack("[s]", "f01000"), &res, NULL));
    ASSERT_EQ(json_integer_value(json_object_get(res, "ConnectionCount")), 1);
    ASSERT_TRUE(
        json_is_null(json_object_get(json_array_get(json_object_get(res, "Connections"), 0), "Addrs")));
    json_decref(res);
    json_t *sectors =
        json_pack("[{s:i, s:i, s:n, s:{s:s}}]", "SealProof", 8, "SectorNumber", 9, "SectorKey", "SealedCID",
                  "/", "bafy2bzacedswlcz5ddgqnyo3sak3jmhmkxashisnlpq6ujgyhe4mlobzpnhs6");
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.ComputeProof",
                      json_pack("[s, o, s, i, i]", "f01000", sectors, "AQID", 10101, 21), &res, &err));
    ASSERT_EQ(json_array_size(res), 1);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(res, 0), "ProofBytes")), "AQID");
    json_decref(res);
    ASSERT_EQ(atomic_load(&q.proofs), 1);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.ComputeProof",
                        json_pack("[s, [], s, i, i]", "f01002", "AQID", 1, 21), NULL, &err) < 0);
    ASSERT_STREQ(err.message, "no connections for this miner f01002");
    provider_stop(&q);
}

static void test_market_unseal(void)
{
    provider_t p = {0};
    vc_rpc_err_t err = {0};
    ASSERT_OK(provider_start(&p, "Market", prover_tok, json_pack("{s:s}", "Miner", "f01000"), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    json_t *res = NULL;
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.ListMarketConnectionsState", NULL, &res, NULL));
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(res, 0), "Addr")), "f01000");
    json_decref(res);
    json_t *cid = json_pack("{s:s}", "/", "bafy2bzacedswlcz5ddgqnyo3sak3jmhmkxashisnlpq6ujgyhe4mlobzpnhs6");
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.SectorsUnsealPiece",
                      json_pack("[s, o, i, i, i, s]", "f01000", cid, 7, 0, 2032, "/tmp/x"), &res, &err));
    ASSERT_STREQ(json_string_value(res), "finished");
    json_decref(res);
    provider_stop(&p);
    provider_t q = {0};
    ASSERT_EQ(provider_start(&q, "Market", wallet_tok, json_pack("{s:s}", "Miner", "f01000"), &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "not exist in user:walletuser") != NULL);
    provider_stop(&q);
}

/* BLS addresses cannot be verified: refused unless the account is trusted in the config. */
static void test_unverifiable_addresses(void)
{
    uint8_t pub[48];
    vc_random(pub, sizeof(pub));
    vc_address_t a;
    char f3[VC_ADDRESS_STRLEN_MAX];
    ASSERT_OK(vc_address_new_bls(pub, sizeof(pub), &a));
    ASSERT_OK(vc_address_to_string(&a, 'f', f3));
    provider_t p = {.nkeys = 1, .extra_addr = f3};
    vc_rpc_err_t err;
    ASSERT_OK(provider_start(&p, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 1); /* the rest of the wallet registers */
    ASSERT_EQ(wallet_has(f3, "walletuser"), 0);
    /* and AddNewAddress says why */
    json_t *res = NULL;
    ASSERT_TRUE(vc_rpc_conn_call(p.conn, "Gateway.AddNewAddress", json_pack("[s, [s]]", p.chan_id, f3), 5000,
                                 &res, &err) < 0);
    ASSERT_TRUE(strstr(err.message, "cannot be verified") != NULL);
    provider_stop(&p);
    /* walletuser2 is listed in [Wallet] TrustUnverifiableKeyAccounts */
    provider_t q = {.nkeys = 1, .extra_addr = f3};
    ASSERT_OK(provider_start(&q, "Wallet", wallet2_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &q, 5000));
    ASSERT_EQ(wallet_has(f3, "walletuser2"), 1);
    provider_stop(&q);
}

/* An in-process JSON-RPC server standing in for an upstream with WebSocket support. */
static int m_echo(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_incref(json_array_get(params, 0));
    return 0;
}
static const vc_rpc_method_t echo_methods[] = {{"Up.Echo", 0, 1, m_echo, 0}};

static void test_proxy(void)
{
    /* unknown header: 400 */
    char *body = NULL;
    long status = 0;
    size_t len = 0;
    const char *eps[] = {gw_url};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .token = auth_admin, .api_namespace = "foo.Bar", .retries = -1};
    vc_client_t *c = NULL;
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_rest(c, "GET", "/user/has?name=walletuser", NULL, &status, &body, &len));
    ASSERT_EQ(status, 400);
    ASSERT_TRUE(strstr(body, "invalid venus proxy header") != NULL);
    free(body);
    vc_client_free(c);
    /* auth.IAuthClient goes to venus-auth, with the caller's own token (gateway auth skipped) */
    o.api_namespace = "auth.IAuthClient";
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_rest(c, "GET", "/user/has?name=walletuser", NULL, &status, &body, &len));
    ASSERT_EQ(status, 200);
    ASSERT_TRUE(strncmp(body, "true", 4) == 0);
    free(body);
    ASSERT_OK(vc_client_rest(c, "POST", "/user/verify", "{\"Names\":[\"nosuch\"]}", &status, &body, &len));
    ASSERT_EQ(status, 400);
    free(body);
    vc_client_free(c);
    /* a known key with no upstream */
    o.api_namespace = "miner.MinerAPI";
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_rest(c, "GET", "/rpc/v0", NULL, &status, &body, &len));
    ASSERT_EQ(status, 400);
    ASSERT_TRUE(strstr(body, "host key(MINER) : no reverse proxy registered") != NULL);
    free(body);
    vc_client_free(c);

    /* RegisterReverse MINER -> an upstream with HTTP and WebSocket JSON-RPC */
    vc_http_server_t *up = NULL;
    vc_rpc_server_t *rpc = NULL;
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = 2};
    vc_rpc_opts_t ro = {.permissive = true};
    ASSERT_OK(vc_http_server_new(&ho, &up));
    ASSERT_OK(vc_rpc_server_new(&ro, &rpc));
    ASSERT_OK(vc_rpc_register(rpc, echo_methods, 1));
    ASSERT_OK(vc_rpc_mount(rpc, up, "/rpc/v0", NULL));
    ASSERT_OK(vc_http_start(up));
    char upurl[128];
    snprintf(upurl, sizeof(upurl), "/ip4/127.0.0.1/tcp/%u", vc_http_port(up));
    json_t *res = NULL;
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.RegisterReverse", json_pack("[s, s]", "MINER", upurl),
                      &res, NULL));
    json_decref(res);
    char mu[200];
    snprintf(mu, sizeof(mu), "%s/rpc/v0", gw_url);
    const char *meps[] = {mu};
    vc_client_opts_t mo = {.endpoints = meps,
                           .n_endpoints = 1,
                           .token = "not-checked-by-the-gateway",
                           .api_namespace = "miner.MinerAPI",
                           .retries = -1};
    ASSERT_OK(vc_client_new(&mo, &c));
    vc_rpc_err_t err;
    ASSERT_OK(vc_client_call(c, "Up.Echo", json_pack("[s]", "over http"), &res, &err));
    ASSERT_STREQ(json_string_value(res), "over http");
    json_decref(res);
    vc_rpc_conn_t *conn = NULL;
    ASSERT_OK(vc_client_ws_connect(c, NULL, &conn));
    for (int i = 0; i < 20; i++) {
        ASSERT_OK(vc_rpc_conn_call(conn, "Up.Echo", json_pack("[i]", i), 5000, &res, &err));
        ASSERT_EQ(json_integer_value(res), i);
        json_decref(res);
    }
    vc_rpc_conn_close(conn);
    vc_rpc_conn_unref(conn);
    vc_client_free(c);
    /* unset */
    ASSERT_OK(gw_call(gw_admin, "/rpc/v2", "Gateway.RegisterReverse", json_pack("[s, s]", "MINER", ""), &res,
                      NULL));
    json_decref(res);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.RegisterReverse", json_pack("[s, s]", "BOGUS", ""),
                        NULL, &err) < 0);
    vc_http_stop(up);
    vc_rpc_server_free(rpc);
    vc_http_server_free(up);
    /* the gateway namespace is the gateway itself */
    char gwu[200];
    snprintf(gwu, sizeof(gwu), "%s/rpc/v2", gw_url);
    const char *geps[] = {gwu};
    vc_client_opts_t go = {.endpoints = geps,
                           .n_endpoints = 1,
                           .token = gw_admin,
                           .api_namespace = "gateway.IGateway",
                           .retries = -1};
    ASSERT_OK(vc_client_new(&go, &c));
    ASSERT_OK(vc_client_call(c, "Gateway.Version", NULL, &res, &err));
    ASSERT_TRUE(strncmp(json_string_value(json_object_get(res, "Version")), "1.18.0", 6) == 0);
    json_decref(res);
    vc_client_free(c);
}

static void test_bad_input(void)
{
    vc_rpc_err_t err;
    json_t *res = NULL;
    ASSERT_TRUE(gw_call(wallet_tok, "/rpc/v2", "Gateway.ResponseWalletEvent",
                        json_pack("[{s:s, s:n, s:s}]", "Id", "3f1e0b4e-0000-4000-8000-000000000001",
                                  "Payload", "Error", ""),
                        NULL, &err) < 0);
    ASSERT_STREQ(err.message, "request id 3f1e0b4e-0000-4000-8000-000000000001 not exit");
    ASSERT_TRUE(gw_call(wallet_tok, "/rpc/v2", "Gateway.ResponseProofEvent", json_pack("[s]", "garbage"),
                        NULL, &err) < 0);
    ASSERT_TRUE(gw_call(wallet_tok, "/rpc/v2", "Gateway.ResponseWalletEvent",
                        json_pack("[{s:i, s:i}]", "Id", 5, "Payload", 7), NULL, &err) < 0);
    ASSERT_TRUE(gw_call(wallet_tok, "/rpc/v2", "Gateway.ResponseWalletEvent",
                        json_pack("[{s:s, s:s}]", "Id", "x", "Payload", "!!notbase64"), NULL, &err) < 0);
    ASSERT_TRUE(
        gw_call(gw_admin, "/rpc/v2", "Gateway.WalletSign",
                json_pack("[s, [s], s, {s:s}]", "notanaddress", "walletuser", "AA==", "Type", "message"),
                NULL, &err) < 0);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.WalletSign",
                        json_pack("[s, [i], s, {s:s}]", addrs[0], 3, "AA==", "Type", "message"), NULL,
                        &err) < 0);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.WalletSign",
                        json_pack("[s, [s], s, s]", addrs[0], "walletuser", "%%%", "meta"), NULL, &err) < 0);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.ComputeProof",
                        json_pack("[s, s, s, s, s]", "f01000", "a", "b", "c", "d"), NULL, &err) < 0);
    ASSERT_TRUE(gw_call(gw_admin, "/rpc/v2", "Gateway.SectorsUnsealPiece",
                        json_pack("[s, i, i, i, i, i]", "f01000", 1, 2, 3, 4, 5), NULL, &err) < 0);
    /* a wallet answering an unknown id and a malformed payload over its own session */
    provider_t p = {.nkeys = 1};
    ASSERT_OK(provider_start(&p, "Wallet", wallet_tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    ASSERT_TRUE(vc_rpc_conn_call(p.conn, "Gateway.ResponseWalletEvent", json_pack("[[]]"), 5000, &res, &err) <
                0);
    ASSERT_TRUE(vc_rpc_conn_call(p.conn, "Gateway.AddNewAddress", json_pack("[s, s]", p.chan_id, "x"), 5000,
                                 &res, &err) < 0);
    ASSERT_TRUE(vc_rpc_conn_call(p.conn, "Gateway.NoSuchMethod", NULL, 5000, &res, &err) < 0);
    /* still serving, and the wallet still works */
    ASSERT_OK(sign_and_verify(addrs[0], "walletuser", "after bad input", &err));
    provider_stop(&p);
    /* raw garbage over HTTP */
    const char *eps[] = {gw_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = gw_admin, .retries = -1};
    vc_client_t *c = NULL;
    char *body = NULL;
    long status = 0;
    size_t len = 0;
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_rest(c, "POST", "/rpc/v2", "{\"jsonrpc\":\"2.0\",\"method\":", &status, &body, &len));
    ASSERT_TRUE(body && strstr(body, "-32700") != NULL);
    free(body);
    ASSERT_OK(vc_client_rest(c, "GET", "/healthcheck", NULL, &status, &body, &len));
    ASSERT_EQ(status, 200);
    free(body);
    ASSERT_OK(vc_client_rest(c, "GET", "/metrics", NULL, &status, &body, &len));
    ASSERT_EQ(status, 200);
    ASSERT_TRUE(strstr(body, "gateway_requests_total{method=\"wallet_sign\",result=\"ok\"}") != NULL);
    ASSERT_TRUE(strstr(body, "gateway_wallet_conn_num") != NULL);
    ASSERT_TRUE(strstr(body, "gateway_retries_total{method=\"wallet_sign\"}") != NULL);
    free(body);
    vc_client_free(c);
    ASSERT_TRUE(vc_test_alive(gw_pid));
}

/* Deleting the wallet's token in venus-auth closes its session. */
static void test_token_revocation(void)
{
    char *tok = gen_token("walletuser", "sign");
    ASSERT_NOTNULL(tok);
    provider_t p = {.nkeys = 1};
    vc_rpc_err_t err;
    ASSERT_OK(provider_start(&p, "Wallet", tok, wallet_policy(NULL), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &p, 5000));
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 1);
    char body[4096];
    snprintf(body, sizeof(body), "{\"Token\":\"%s\"}", tok);
    ASSERT_EQ(auth_rest("DELETE", "/token", body, NULL), 200);
    int64_t t0 = vc_now_mono_us();
    ASSERT_TRUE(wait_until(is_closed, &p, 6000));
    fprintf(stderr, "# session closed %lld ms after the revocation\n",
            (long long)(vc_now_mono_us() - t0) / 1000);
    for (int i = 0; i < 100 && wallet_has(addrs[0], "walletuser") == 1; i++)
        vc_sleep_ms(20);
    ASSERT_EQ(wallet_has(addrs[0], "walletuser"), 0);
    provider_stop(&p);
    /* and the token no longer opens new sessions */
    ASSERT_TRUE(gw_call(tok, "/rpc/v2", "Gateway.Version", NULL, NULL, &err) < 0);
    free(tok);
}

static void test_cli(void)
{
    char repo[600];
    snprintf(repo, sizeof(repo), "%s/gw", vc_test_tmpdir());
    const char *bin = getenv("VENUS_GATEWAY_BIN");
    provider_t q = {0};
    vc_rpc_err_t err;
    ASSERT_OK(provider_start(&q, "Proof", prover_tok, json_pack("{s:s}", "MinerAddress", "f01000"), &err));
    ASSERT_TRUE(wait_until(has_chan_id, &q, 5000));
    char *out = NULL, *errout = NULL;
    const char *a1[] = {bin, "--repo", repo, "miner", "list", NULL};
    ASSERT_EQ(vc_test_run_cmd(a1, &out, &errout), 0);
    ASSERT_STREQ(out, "f01000\n");
    free(out);
    free(errout);
    const char *a2[] = {bin, "--repo", repo, "miner", "state", "f01000", NULL};
    ASSERT_EQ(vc_test_run_cmd(a2, &out, &errout), 0);
    ASSERT_TRUE(strncmp(out, "{\n \t\"Connections\": [\n \t\t{\n \t\t\t\"Addrs\": null,", 42) == 0);
    free(out);
    free(errout);
    const char *a3[] = {
        bin, "--repo", repo, "proxy", "set", "--type", "DROPLET", "--url", "/ip4/127.0.0.1/tcp/1", NULL};
    ASSERT_EQ(vc_test_run_cmd(a3, &out, &errout), 0);
    ASSERT_STREQ(out, "set DROPLET to /ip4/127.0.0.1/tcp/1 success\n");
    free(out);
    free(errout);
    const char *a4[] = {bin, "--repo", repo, "wallet", "list", NULL};
    ASSERT_EQ(vc_test_run_cmd(a4, &out, &errout), 0);
    ASSERT_STREQ(out, "null\n");
    free(out);
    free(errout);
    /* ha status: active/active, this instance's id, the connections it serves */
    const char *a5[] = {bin, "--repo", repo, "ha", "status", NULL};
    ASSERT_EQ(vc_test_run_cmd(a5, &out, &errout), 0);
    json_t *st = json_loads(out, 0, NULL);
    ASSERT_TRUE(st != NULL);
    ASSERT_TRUE(json_is_false(json_object_get(st, "Enabled")));
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "active");
    const char *holder = json_string_value(json_object_get(st, "Holder"));
    ASSERT_TRUE(holder && strchr(holder, ':') && strchr(holder, '/'));
    ASSERT_TRUE(json_is_null(json_object_get(st, "Peers")));
    json_t *conns = json_object_get(st, "Connections");
    ASSERT_EQ(json_integer_value(json_object_get(conns, "Provers")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(conns, "Wallets")), 0);
    json_decref(st);
    free(out);
    free(errout);
    const char *a6[] = {bin, "--repo", repo, "ha", "promote", NULL};
    ASSERT_EQ(vc_test_run_cmd(a6, &out, &errout), 1);
    ASSERT_TRUE(errout && strstr(errout, "active/active") != NULL);
    free(out);
    free(errout);
    provider_stop(&q);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    vc_random(sign_bytes, sizeof(sign_bytes));
    load_keys();
    start_daemons();
    vc_workq_new(2, 64, &pool);
    VC_TEST_RUN(test_verify_users_failure);
    VC_TEST_RUN(test_bad_signer_not_registered);
    VC_TEST_RUN(test_listen_over_http_refused);
    VC_TEST_RUN(test_register_has_sign);
    VC_TEST_RUN(test_unverifiable_addresses);
    VC_TEST_RUN(test_failover_two_wallets);
    VC_TEST_RUN(test_queue_bound);
    VC_TEST_RUN(test_sign_timeout);
    VC_TEST_RUN(test_compute_proof);
    VC_TEST_RUN(test_market_unseal);
    VC_TEST_RUN(test_proxy);
    VC_TEST_RUN(test_bad_input);
    VC_TEST_RUN(test_token_revocation);
    VC_TEST_RUN(test_cli);
    pool = vc_workq_free(pool);
    int gst = vc_test_stop(gw_pid, 10000);
    vc_test_stop(auth_pid, 10000);
    if (!(WIFEXITED(gst) && WEXITSTATUS(gst) == 0)) {
        fprintf(stderr, "venus-gateway did not exit cleanly (status %d)\n", gst);
        vc_test_total_failed++;
    }
    return VC_TEST_DONE();
}
