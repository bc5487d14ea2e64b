/*
 * e2e-gateway-wallet: the real daemons together, no stand-ins.
 *
 * venus-auth (users "wal" and "mu", miner f01000 bound to "mu"), venus-gateway (--auth-url /
 * --auth-token, short re-verification), two venus-wallet daemons (own repo and passphrase each)
 * holding the same secp256k1 key of the vectors file and registered with the gateway as user
 * "wal", and `venus-devnet prover` for miner t01000. The test plays the messager / miner side:
 *   - Gateway.WalletHas / WalletSign (block and message meta) verify against the vector key and
 *     equal a local RFC 6979 signature;
 *   - one wallet is SIGKILLed while 4 threads sign 200 times: every request succeeds;
 *   - ComputeProof reaches the devnet prover;
 *   - X-VENUS-API-NAMESPACE routing to venus-auth, and 400 for an unknown namespace;
 *   - deleting the wallets' token in venus-auth closes the surviving session within
 *     ReverifyInterval + VerifyCacheTTL;
 * and every daemon still running at the end exits cleanly on SIGTERM (status 0, so no ASan/LSan
 * report in sanitizer builds).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/message.h"
#include "vc/rpc.h"
#include "vc/signature.h"
#include "vc/util.h"

#define REVERIFY_MS 1000
#define CACHE_TTL_MS 500

static const char *auth_bin, *gw_bin, *wallet_bin, *devnet_bin;
static char auth_url[128], gw_url[128], gw_maddr[128];
static char *auth_admin, *gw_admin, *wal_tok, *mu_tok;
static pid_t auth_pid, gw_pid, wallet_pid[2], prover_pid;
static char wallet_repo[2][600];
static uint8_t key[32];
static char addr[VC_ADDRESS_STRLEN_MAX];

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

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "setup failed: %s (logs in %s)\n", what, vc_test_tmpdir());
    exit(2);
}

/* REST call to `base` with `token` and an optional namespace header; returns the status. */
static long rest(const char *base, const char *token, const char *ns, const char *method, const char *path,
                 const char *body, char **ret_body)
{
    const char *eps[] = {base};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .token = token, .api_namespace = ns, .retries = -1};
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

static long auth_rest(const char *method, const char *path, const char *body, char **ret_body)
{
    return rest(auth_url, auth_admin, NULL, method, path, body, ret_body);
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
    const char *t = json_string_value(json_object_get(j, "token"));
    char *s = t ? strdup(t) : NULL;
    json_decref(j);
    return s;
}

/* JSON-RPC over HTTP to the gateway's /rpc/v2 with the gateway admin token. */
static int gw_call(const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/rpc/v2", gw_url);
    const char *eps[] = {url};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .token = gw_admin, .retries = -1, .timeout_ms = 60000};
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

/* Number of the gateway's wallet connections of account "wal" that list addr (-1 on error). */
static int wallet_conns(void)
{
    json_t *res = NULL;
    if (gw_call("Gateway.ListWalletInfo", NULL, &res, NULL) < 0)
        return -1;
    int n = 0;
    size_t i, k;
    json_t *w, *cs;
    json_array_foreach(res, i, w)
    {
        if (!vc_streq(json_string_value(json_object_get(w, "Account")), "wal"))
            continue;
        json_array_foreach(json_object_get(w, "ConnectStates"), k, cs)
        {
            size_t m;
            json_t *a;
            json_array_foreach(json_object_get(cs, "Addrs"), m, a) if (vc_streq(json_string_value(a), addr))
                n++;
        }
    }
    json_decref(res);
    return n;
}

/* gateway_retries_total{method="wallet_sign"} from /metrics (-1 if absent). */
static long sign_retries(void)
{
    char *m = NULL;
    long n = -1;
    if (rest(gw_url, NULL, NULL, "GET", "/metrics", NULL, &m) == 200 && m) {
        const char *k = "gateway_retries_total{method=\"wallet_sign\"} ";
        const char *p = strstr(m, k);
        if (p)
            n = strtol(p + strlen(k), NULL, 10);
    }
    free(m);
    return n;
}

/* RequestCount of the oldest wallet connection (wallet 0 registered first), -1 on error. */
static long oldest_conn_load(void)
{
    json_t *res = NULL;
    if (gw_call("Gateway.ListWalletInfo", NULL, &res, NULL) < 0)
        return -1;
    long load = -1;
    const char *oldest = NULL;
    size_t i, k;
    json_t *w, *cs;
    json_array_foreach(res, i, w) json_array_foreach(json_object_get(w, "ConnectStates"), k, cs)
    {
        const char *t = json_string_value(json_object_get(cs, "CreateTime"));
        if (t && (!oldest || strcmp(t, oldest) < 0)) { /* RFC 3339 UTC, same day: sorts as text */
            oldest = t;
            load = (long)json_integer_value(json_object_get(cs, "RequestCount"));
        }
    }
    json_decref(res);
    return load;
}

static bool wait_conns(int want, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        if (wallet_conns() == want)
            return true;
        vc_sleep_ms(50);
    }
    return wallet_conns() == want;
}

/* WalletSign through the gateway; the Signature in *ret. */
static int gw_sign(const uint8_t *data, size_t len, json_t *meta, vc_signature_t *ret, vc_rpc_err_t *err)
{
    char *b = vc_base64_encode(data, len);
    json_t *res = NULL;
    int r = gw_call("Gateway.WalletSign", json_pack("[s, [s], s, o]", addr, "wal", b, meta), &res, err);
    free(b);
    if (r < 0)
        return r;
    r = vc_signature_from_json(res, ret);
    json_decref(res);
    return r;
}

static int verify_sig(const vc_signature_t *s, const uint8_t *data, size_t len)
{
    vc_address_t a;
    int r = vc_address_from_string(addr, &a);
    return r < 0 ? r : vc_signature_verify(s, data, len, &a);
}

/* ---------------------------------------------------------------- setup */

static void load_key(void)
{
    json_t *k = json_array_get(json_object_get(vc_test_vectors(), "keys"), 0);
    const char *hex = json_string_value(json_object_get(k, "privateKeyHex"));
    const char *f = json_string_value(json_object_get(k, "mainnet"));
    if (!hex || !f || vc_hex_decode(hex, 64, key) < 0)
        die("no key in the vectors file");
    snprintf(addr, sizeof(addr), "%s", f);
}

static void start_auth(void)
{
    char repo[600], log[600], path[700];
    snprintf(repo, sizeof(repo), "%s/auth", vc_test_tmpdir());
    snprintf(log, sizeof(log), "%s/auth.log", vc_test_tmpdir());
    const char *argv[] = {auth_bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", NULL};
    auth_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (auth_pid <= 0 || !vc_test_wait_file(path, 20000))
        die("venus-auth did not start");
    char *bound = read_trim(path);
    snprintf(auth_url, sizeof(auth_url), "http://%s", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/token", repo);
    auth_admin = read_trim(path);

    if (auth_rest("PUT", "/user/new", "{\"Name\":\"wal\",\"State\":1}", NULL) != 200 ||
        auth_rest("PUT", "/user/new", "{\"Name\":\"mu\",\"State\":1}", NULL) != 200)
        die("cannot create the users");
    wal_tok = gen_token("wal", "sign");
    mu_tok = gen_token("mu", "write");
    if (!wal_tok || !mu_tok)
        die("cannot create the tokens");
    if (auth_rest("POST", "/user/miner/add", "{\"User\":\"mu\",\"Miner\":\"f01000\",\"OpenMining\":true}",
                  NULL) != 200)
        die("cannot bind f01000 to mu");
}

static void start_gateway(void)
{
    char repo[600], log[600], path[700], conf[512];
    snprintf(repo, sizeof(repo), "%s/gw", vc_test_tmpdir());
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    snprintf(conf, sizeof(conf),
             "[API]\nListenAddress = \"127.0.0.1:0\"\n[Auth]\nReverifyInterval = \"%dms\"\nVerifyCacheTTL = "
             "\"%dms\"\n",
             REVERIFY_MS, CACHE_TTL_MS);
    if (vc_write_file_atomic(path, conf, strlen(conf), 0600) < 0)
        die("cannot write the gateway config");
    snprintf(log, sizeof(log), "%s/gateway.log", vc_test_tmpdir());
    const char *argv[] = {gw_bin,   "--repo",       repo,       "run", "--auth-url",
                          auth_url, "--auth-token", auth_admin, NULL};
    gw_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (gw_pid <= 0 || !vc_test_wait_file(path, 20000))
        die("venus-gateway did not start");
    char *bound = read_trim(path);
    snprintf(gw_url, sizeof(gw_url), "http://%s", bound);
    const char *colon = strrchr(bound, ':');
    snprintf(gw_maddr, sizeof(gw_maddr), "/ip4/127.0.0.1/tcp/%s", colon ? colon + 1 : "0");
    free(bound);
    snprintf(path, sizeof(path), "%s/token", repo);
    gw_admin = read_trim(path);
    fprintf(stderr, "# auth %s, gateway %s, logs in %s\n", auth_url, gw_url, vc_test_tmpdir());
}

/* A venus-wallet with its own repo and passphrase, registering with the gateway as "wal"; the
 * vector key is imported through its CLI once it runs (pushed to the gateway by AddNewAddress
 * when the session is already up, listed in WalletList otherwise). */
static void start_wallet(int i)
{
    char *repo = wallet_repo[i], log[600], path[700], conf[4096], pw[700], pass[32];
    snprintf(repo, sizeof(wallet_repo[i]), "%s/wallet%d", vc_test_tmpdir(), i);
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    snprintf(conf, sizeof(conf),
             "[API]\n  ListenAddress = \"127.0.0.1:0\"\n[APIRegisterHub]\n  RegisterAPI = [\"%s\"]\n"
             "  Token = \"%s\"\n  SupportAccounts = [\"wal\"]\n[Wallet]\n  Network = \"mainnet\"\n",
             gw_maddr, wal_tok);
    if (vc_write_file_atomic(path, conf, strlen(conf), 0600) < 0)
        die("cannot write a wallet config");
    snprintf(pw, sizeof(pw), "%s/pass", vc_test_tmpdir());
    snprintf(pw + strlen(pw), sizeof(pw) - strlen(pw), "%d", i);
    snprintf(pass, sizeof(pass), "passphrase-%d", i);
    if (vc_write_file_atomic(pw, pass, strlen(pass), 0600) < 0)
        die("cannot write a password file");
    snprintf(log, sizeof(log), "%s/wallet%d.log", vc_test_tmpdir(), i);
    const char *argv[] = {wallet_bin, "--repo", repo, "--password-file", pw, "run", NULL};
    wallet_pid[i] = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (wallet_pid[i] <= 0 || !vc_test_wait_file(path, 20000))
        die("venus-wallet did not start");

    vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
    memcpy(ki.key, key, 32);
    char *hex = NULL, kf[700];
    if (vc_key_info_export(&ki, &hex) < 0)
        die("vc_key_info_export");
    snprintf(kf, sizeof(kf), "%s/key%d.hex", vc_test_tmpdir(), i);
    if (vc_write_file_atomic(kf, hex, strlen(hex), 0600) < 0)
        die("cannot write the key file");
    free(hex);
    vc_key_info_wipe(&ki);
    const char *iargv[] = {wallet_bin, "--repo", repo, "import", kf, NULL};
    char *out = NULL, *err = NULL;
    int rc = vc_test_run_cmd(iargv, &out, &err);
    if (rc != 0 || !out || !strstr(out, addr)) {
        fprintf(stderr, "import: rc %d out '%s' err '%s'\n", rc, out ? out : "", err ? err : "");
        die("venus-wallet import");
    }
    free(out);
    free(err);
}

/* ---------------------------------------------------------------- tests */

static void test_registered(void)
{
    ASSERT_TRUE(wait_conns(2, 20000));
    json_t *res = NULL;
    ASSERT_OK(gw_call("Gateway.WalletHas", json_pack("[s, [s]]", addr, "wal"), &res, NULL));
    ASSERT_TRUE(json_is_true(res));
    json_decref(res);
    ASSERT_OK(gw_call("Gateway.WalletHas", json_pack("[s, [s]]", addr, "mu"), &res, NULL));
    ASSERT_TRUE(json_is_false(res));
    json_decref(res);
    /* venus-auth learnt the signer (RegisterSigners) */
    char q[256], *ans = NULL;
    snprintf(q, sizeof(q), "/user/signer/exist?signer=%s&user=wal", addr);
    ASSERT_EQ(auth_rest("GET", q, NULL, &ans), 200);
    ASSERT_TRUE(ans && strncmp(ans, "true", 4) == 0);
    free(ans);
}

static void test_sign_block(void)
{
    static const uint8_t data[] = "block header signing bytes";
    vc_signature_t s;
    vc_rpc_err_t err = {0};
    int r = gw_sign(data, sizeof(data) - 1, json_pack("{s:s}", "Type", "block"), &s, &err);
    if (r < 0)
        fprintf(stderr, "  WalletSign: %s\n", err.message);
    ASSERT_OK(r);
    ASSERT_EQ(s.type, VC_SIG_SECP256K1);
    ASSERT_EQ(s.len, VC_SECP256K1_SIG_LEN);
    ASSERT_OK(verify_sig(&s, data, sizeof(data) - 1));
    uint8_t mine[VC_SECP256K1_SIG_LEN];
    ASSERT_OK(vc_secp256k1_sign(key, data, sizeof(data) - 1, mine));
    ASSERT_MEMEQ(s.data, mine, sizeof(mine)); /* RFC 6979: deterministic */
    /* and not over other bytes */
    ASSERT_ERR(verify_sig(&s, (const uint8_t *)"other", 5));
}

static void test_sign_message(void)
{
    json_t *mj =
        json_object_get(json_array_get(json_object_get(vc_test_vectors(), "messages"), 0), "message");
    vc_message_t m = {0};
    ASSERT_OK(vc_message_from_json(mj, &m));
    ASSERT_OK(vc_address_from_string(addr, &m.from));
    vc_buf_t cbor = {0};
    vc_cid_t cid;
    ASSERT_OK(vc_message_encode(&m, &cbor));
    ASSERT_OK(vc_message_cid(&m, &cid));
    char *extra = vc_base64_encode((const uint8_t *)cbor.data, cbor.len);
    vc_signature_t s, mine;
    vc_rpc_err_t err = {0};
    int r = gw_sign(cid.bytes, cid.len, json_pack("{s:s, s:s}", "Type", "message", "Extra", extra), &s, &err);
    if (r < 0)
        fprintf(stderr, "  WalletSign message: %s\n", err.message);
    int r2 = vc_message_sign_secp256k1(&m, key, &mine);
    /* toSign that is not the CID of Extra is refused by the wallet, through the gateway */
    static const uint8_t junk[] = "not the cid";
    vc_signature_t bad;
    int r3 = gw_sign(junk, sizeof(junk) - 1, json_pack("{s:s, s:s}", "Type", "message", "Extra", extra), &bad,
                     &err);
    free(extra);
    vc_buf_done(&cbor);
    vc_message_done(&m);
    ASSERT_OK(r);
    ASSERT_OK(r2);
    ASSERT_OK(verify_sig(&s, cid.bytes, cid.len));
    ASSERT_EQ(s.len, mine.len);
    ASSERT_MEMEQ(s.data, mine.data, mine.len);
    ASSERT_TRUE(r3 < 0);
    ASSERT_TRUE(strstr(err.message, "not the CID of the message") != NULL);
}

typedef struct signer_arg {
    int idx, n;
    atomic_int *done, *failed;
} signer_arg_t;

static void *signer_main(void *arg)
{
    signer_arg_t *a = arg;
    for (int i = 0; i < a->n; i++) {
        char text[64];
        int len = snprintf(text, sizeof(text), "failover %d/%d", a->idx, i);
        vc_signature_t s;
        vc_rpc_err_t err = {0};
        int r = gw_sign((const uint8_t *)text, (size_t)len, json_pack("{s:s}", "Type", "block"), &s, &err);
        if (r == 0)
            r = verify_sig(&s, (const uint8_t *)text, (size_t)len);
        if (r < 0) {
            fprintf(stderr, "  sign %d/%d failed: %d %s\n", a->idx, i, r, err.message);
            atomic_fetch_add(a->failed, 1);
        }
        atomic_fetch_add(a->done, 1);
    }
    return NULL;
}

/* SIGKILL one wallet while 4 threads sign: every request completes (on the other wallet). */
static void test_kill_wallet_midstream(void)
{
    enum { THREADS = 4, PER = 50 };
    ASSERT_EQ(wallet_conns(), 2);
    long retries0 = sign_retries();
    atomic_int done = 0, failed = 0;
    pthread_t th[THREADS];
    signer_arg_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (signer_arg_t){.idx = i, .n = PER, .done = &done, .failed = &failed};
        pthread_create(&th[i], NULL, signer_main, &args[i]);
    }
    /* after a quarter of the requests, kill wallet 0 as soon as the gateway has requests out on it */
    for (int i = 0; i < 1500 && atomic_load(&done) < THREADS * PER / 4; i++)
        vc_sleep_ms(10);
    for (int i = 0; i < 200 && atomic_load(&done) < THREADS * PER * 3 / 4 && oldest_conn_load() <= 0; i++)
        ;
    int at_kill = atomic_load(&done);
    kill(wallet_pid[0], SIGKILL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int st = vc_test_stop(wallet_pid[0], 5000); /* reaps it */
    wallet_pid[0] = 0;
    /* requests in flight on the killed wallet were retried on the other one (usually some are) */
    fprintf(stderr,
            "# killed wallet 0 after %d of %d signs (status %d); failed %d; retried by the gateway %ld\n",
            at_kill, THREADS * PER, st, atomic_load(&failed), sign_retries() - retries0);
    ASSERT_TRUE(at_kill < THREADS * PER);
    ASSERT_EQ(atomic_load(&done), THREADS * PER);
    ASSERT_EQ(atomic_load(&failed), 0);
    ASSERT_TRUE(wait_conns(1, 5000));
    /* still serving */
    vc_signature_t s;
    vc_rpc_err_t err;
    ASSERT_OK(gw_sign((const uint8_t *)"after", 5, json_pack("{s:s}", "Type", "block"), &s, &err));
    ASSERT_OK(verify_sig(&s, (const uint8_t *)"after", 5));
}

static bool miner_listed(void)
{
    json_t *res = NULL;
    bool ok = false;
    if (gw_call("Gateway.ListConnectedMiners", NULL, &res, NULL) == 0) {
        size_t i;
        json_t *m;
        json_array_foreach(res, i, m)
        {
            const char *s = json_string_value(m);
            if (s && strcmp(s + 1, "01000") == 0)
                ok = true;
        }
    }
    json_decref(res);
    return ok;
}

static void test_compute_proof(void)
{
    char log[600];
    snprintf(log, sizeof(log), "%s/prover.log", vc_test_tmpdir());
    const char *argv[] = {devnet_bin, "prover",  "--gateway", gw_url, "--token",
                          mu_tok,     "--miner", "t01000",    NULL};
    prover_pid = vc_test_spawn(argv, log);
    ASSERT_TRUE(prover_pid > 0);
    bool listed = false;
    for (int i = 0; i < 400 && !(listed = miner_listed()); i++)
        vc_sleep_ms(50);
    ASSERT_TRUE(listed);
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    int r = gw_call("Gateway.ComputeProof", json_pack("[s, [], s, i, i]", "t01000", "AQIDBA==", 1234, 21),
                    &res, &err);
    if (r < 0)
        fprintf(stderr, "  ComputeProof: %s\n", err.message);
    ASSERT_OK(r);
    char *want64 = vc_base64_encode((const uint8_t *)"valid proof", 11);
    json_t *want = json_pack("[{s:i, s:s}]", "PoStProof", 0, "ProofBytes", want64);
    free(want64);
    bool eq = json_equal(res, want);
    if (!eq) {
        char *got = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "  ComputeProof answered %s\n", got);
        free(got);
    }
    json_decref(want);
    json_decref(res);
    ASSERT_TRUE(eq);
    /* a miner nobody proves for */
    ASSERT_TRUE(gw_call("Gateway.ComputeProof", json_pack("[s, [], s, i, i]", "t01001", "AQID", 1, 21), NULL,
                        &err) < 0);
}

static void test_proxy_header(void)
{
    char *direct = NULL, *proxied = NULL, *bad = NULL;
    ASSERT_EQ(rest(auth_url, auth_admin, NULL, "GET", "/version", NULL, &direct), 200);
    long st = rest(gw_url, auth_admin, "auth.IAuthClient", "GET", "/version", NULL, &proxied);
    long st_bad = rest(gw_url, auth_admin, "nosuch.Namespace", "GET", "/version", NULL, &bad);
    bool same = direct && proxied && strstr(proxied, "\"Version\"") && strcmp(direct, proxied) == 0;
    bool bad_msg = bad && strstr(bad, "invalid venus proxy header") != NULL;
    /* a venus-auth route the gateway does not have, with venus-auth's own admin token */
    char *u = NULL;
    long st_user = rest(gw_url, auth_admin, "auth.IAuthClient", "GET", "/user/has?name=wal", NULL, &u);
    bool has = u && strncmp(u, "true", 4) == 0;
    free(direct);
    free(proxied);
    free(bad);
    free(u);
    ASSERT_EQ(st, 200);
    ASSERT_TRUE(same);
    ASSERT_EQ(st_bad, 400);
    ASSERT_TRUE(bad_msg);
    ASSERT_EQ(st_user, 200);
    ASSERT_TRUE(has);
}

/* Deleting the wallets' token in venus-auth closes the surviving wallet's session. */
static void test_revoke_token(void)
{
    ASSERT_EQ(wallet_conns(), 1);
    char body[4096];
    snprintf(body, sizeof(body), "{\"Token\":\"%s\"}", wal_tok);
    ASSERT_EQ(auth_rest("DELETE", "/token", body, NULL), 200);
    int64_t t0 = vc_now_mono_us();
    int bound = REVERIFY_MS + CACHE_TTL_MS;
    bool gone = wait_conns(0, bound + 4000);
    int ms = (int)((vc_now_mono_us() - t0) / 1000);
    fprintf(stderr, "# wallet session gone %d ms after the revocation (bound %d ms + 250 ms slack)\n", ms,
            bound);
    ASSERT_TRUE(gone);
    ASSERT_LT(ms, bound + 250);
    /* the wallet keeps trying with the dead token and stays out */
    vc_sleep_ms(1500);
    ASSERT_EQ(wallet_conns(), 0);
    json_t *res = NULL;
    ASSERT_OK(gw_call("Gateway.WalletHas", json_pack("[s, [s]]", addr, "wal"), &res, NULL));
    ASSERT_TRUE(json_is_false(res));
    json_decref(res);
    ASSERT_TRUE(vc_test_alive(wallet_pid[1]));
}

static void stop_clean(const char *name, pid_t *pid)
{
    if (*pid <= 0)
        return;
    int st = vc_test_stop(*pid, 15000);
    *pid = 0;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fprintf(stderr, "%s did not exit cleanly (status %d)\n", name, st);
        vc_test_total_failed++;
    }
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    signal(SIGPIPE, SIG_IGN);
    auth_bin = getenv("VENUS_AUTH_BIN");
    gw_bin = getenv("VENUS_GATEWAY_BIN");
    wallet_bin = getenv("VENUS_WALLET_BIN");
    devnet_bin = getenv("VENUS_DEVNET_BIN");
    if (!auth_bin || !gw_bin || !wallet_bin || !devnet_bin) {
        fprintf(stderr, "VENUS_AUTH_BIN / VENUS_GATEWAY_BIN / VENUS_WALLET_BIN / VENUS_DEVNET_BIN not set\n");
        return 2;
    }
    load_key();
    start_auth();
    start_gateway();
    start_wallet(0);
    start_wallet(1);
    VC_TEST_RUN(test_registered);
    if (!vc_test_total_failed) {
        VC_TEST_RUN(test_sign_block);
        VC_TEST_RUN(test_sign_message);
        VC_TEST_RUN(test_kill_wallet_midstream);
        VC_TEST_RUN(test_compute_proof);
        VC_TEST_RUN(test_proxy_header);
        VC_TEST_RUN(test_revoke_token);
    }
    stop_clean("venus-devnet prover", &prover_pid);
    stop_clean("venus-wallet 1", &wallet_pid[1]);
    if (wallet_pid[0] > 0)
        stop_clean("venus-wallet 0", &wallet_pid[0]);
    stop_clean("venus-gateway", &gw_pid);
    stop_clean("venus-auth", &auth_pid);
    free(auth_admin);
    free(gw_admin);
    free(wal_tok);
    free(mu_tok);
    return VC_TEST_DONE();
}
