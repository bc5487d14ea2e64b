/* msgr-stack.c: see msgr-stack.h. */
#include "msgr-stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/util.h"

const char *auth_bin, *gw_bin, *wallet_bin, *devnet_bin, *msgr_bin, *pg_dsn;
char auth_url[128], gw_url[128], gw_maddr[128], node_url[128], msgr_url[160];
const char *daemon_auth_urls, *daemon_node_url, *daemon_gw_url;
char *auth_admin, *gw_admin, *node_token, *msgr_admin, *wal_tok, *mu_tok;
pid_t auth_pid, gw_pid, wallet_pid, devnet_pid, msgr_pid;
int n_keys;
uint8_t keys[MSGR_STACK_KEYS][32];
char addrs[MSGR_STACK_KEYS][VC_ADDRESS_STRLEN_MAX], bob[VC_ADDRESS_STRLEN_MAX];
char key_files[MSGR_STACK_KEYS][600];

_Noreturn void die(const char *what)
{
    fprintf(stderr, "setup failed: %s (logs in %s)\n", what, vc_test_tmpdir());
    exit(2);
}

char *read_trim(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (vc_read_file(path, 65536, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
        d[--n] = 0;
    return d;
}

long rest(const char *base, const char *token, const char *method, const char *path, const char *body,
                 char **ret_body)
{
    const char *eps[] = {base};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .retries = -1};
    vc_client_t *c = NULL;
    long status = 0;
    char *b = NULL;
    size_t len = 0;
    if (vc_client_new(&o, &c) == 0 && vc_client_rest(c, method, path, body, &status, &b, &len) == 0 && ret_body)
        *ret_body = b;
    else
        free(b);
    vc_client_free(c);
    return status;
}

char *gen_token(const char *user, const char *perm)
{
    char body[256], *ans = NULL;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"perm\":\"%s\",\"extra\":\"\"}", user, perm);
    if (rest(auth_url, auth_admin, "POST", "/genToken", body, &ans) != 200) {
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

/* Message.<method> on the messager with token; params stolen. */
int mcall(const char *token, const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err)
{
    return mcall_at(msgr_url, token, method, params, ret, err, 60000);
}

int mcall_at(const char *url, const char *token, const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err,
             int timeout_ms)
{
    const char *eps[] = {url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .retries = -1, .timeout_ms = timeout_ms};
    vc_client_t *c = NULL;
    char full[128];
    snprintf(full, sizeof(full), "Message.%s", method);
    int r = vc_client_new(&o, &c);
    if (r < 0) {
        json_decref(params);
        return r;
    }
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    r = vc_client_call(c, full, params, &res, &e);
    vc_client_free(c);
    if (err)
        *err = e;
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return r;
}

void start_auth(void)
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
    if (rest(auth_url, auth_admin, "PUT", "/user/new", "{\"Name\":\"wal\",\"State\":1}", NULL) != 200 ||
        rest(auth_url, auth_admin, "PUT", "/user/new", "{\"Name\":\"mu\",\"State\":1}", NULL) != 200)
        die("cannot create the users");
    wal_tok = gen_token("wal", "sign");
    mu_tok = gen_token("mu", "write");
    if (!wal_tok || !mu_tok)
        die("cannot create the tokens");
}

void start_gateway(void)
{
    char repo[600], log[600], path[700], conf[256];
    snprintf(repo, sizeof(repo), "%s/gw", vc_test_tmpdir());
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    snprintf(conf, sizeof(conf), "[API]\nListenAddress = \"127.0.0.1:0\"\n");
    vc_write_file_atomic(path, conf, strlen(conf), 0600);
    snprintf(log, sizeof(log), "%s/gateway.log", vc_test_tmpdir());
    const char *argv[] = {gw_bin,      "--repo",   repo, "run", "--auth-url", daemon_auth_urls ? daemon_auth_urls : auth_url,
                          "--auth-token", auth_admin, NULL};
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
}

int dcall(const char *method, json_t *params, json_t **ret)
{
    return dcall_at(node_url, node_token, method, params, ret);
}

int dcall_at(const char *url, const char *token, const char *method, json_t *params, json_t **ret)
{
    const char *eps[] = {url};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v1", .token = token, .retries = -1};
    vc_client_t *c = NULL;
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    int r = vc_client_new(&o, &c);
    if (r < 0) {
        json_decref(params);
        return r;
    }
    r = vc_client_call(c, method, params, &res, &e);
    vc_client_free(c);
    if (r < 0)
        fprintf(stderr, "  %s: %s\n", method, e.message);
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return r;
}

int push_id(json_t *msg, char id[64])
{
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    int r = mcall(wal_tok, "PushMessage", json_pack("[o, n]", msg), &res, &err);
    if (r < 0)
        fprintf(stderr, "  PushMessage: %s\n", err.message);
    snprintf(id, 64, "%s", json_string_value(res) ? json_string_value(res) : "");
    json_decref(res);
    return r;
}

void stop_clean(const char *name, pid_t *pid)
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

void make_keys(int n)
{
    vc_address_t a;
    n_keys = n;
    for (int i = 0; i < n; i++) {
        vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
        memset(keys[i], 0x11 * (i % 15 + 1), 32);
        keys[i][31] = (uint8_t)i;
        memcpy(ki.key, keys[i], 32);
        vc_secp256k1_address(ki.key, &a);
        vc_address_to_string(&a, 'f', addrs[i]);
        char *exp = NULL;
        if (vc_key_info_export(&ki, &exp) < 0)
            die("key export");
        snprintf(key_files[i], sizeof(key_files[i]), "%s/sender%d.key", vc_test_tmpdir(), i);
        vc_write_file_atomic(key_files[i], exp, strlen(exp), 0600);
        free(exp);
    }
    uint8_t other[32];
    vc_secp256k1_generate(other);
    vc_secp256k1_address(other, &a);
    vc_address_to_string(&a, 'f', bob);
}

void start_wallet(void)
{
    char repo[600], log[600], path[700], conf[4096], pw[700];
    snprintf(repo, sizeof(repo), "%s/wallet", vc_test_tmpdir());
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    snprintf(conf, sizeof(conf),
             "[API]\n  ListenAddress = \"127.0.0.1:0\"\n[APIRegisterHub]\n  RegisterAPI = [\"%s\"]\n"
             "  Token = \"%s\"\n  SupportAccounts = [\"wal\"]\n[Wallet]\n  Network = \"mainnet\"\n",
             gw_maddr, wal_tok);
    vc_write_file_atomic(path, conf, strlen(conf), 0600);
    snprintf(pw, sizeof(pw), "%s/pass", vc_test_tmpdir());
    vc_write_file_atomic(pw, "passphrase", 10, 0600);
    snprintf(log, sizeof(log), "%s/wallet.log", vc_test_tmpdir());
    const char *argv[] = {wallet_bin, "--repo", repo, "--password-file", pw, "run", NULL};
    wallet_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (wallet_pid <= 0 || !vc_test_wait_file(path, 20000))
        die("venus-wallet did not start");
    for (int i = 0; i < n_keys; i++) {
        vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
        memcpy(ki.key, keys[i], 32);
        char *hex = NULL, kf[700];
        vc_key_info_export(&ki, &hex);
        snprintf(kf, sizeof(kf), "%s/wallet-key%d.hex", vc_test_tmpdir(), i);
        vc_write_file_atomic(kf, hex, strlen(hex), 0600);
        free(hex);
        const char *iargv[] = {wallet_bin, "--repo", repo, "import", kf, NULL};
        char *out = NULL, *err = NULL;
        if (vc_test_run_cmd(iargv, &out, &err) != 0)
            die("venus-wallet import");
        free(out);
        free(err);
    }
    /* wait until venus-auth knows every signer of user wal (RegisterSigners through the gateway) */
    for (int k = 0; k < n_keys; k++) {
        char q[1280]; /* gcc sizes addrs[k] as the rest of addrs */
        bool ok = false;
        snprintf(q, sizeof(q), "/user/signer/exist?signer=%s&user=wal", addrs[k]);
        for (int i = 0; i < 300 && !ok; i++) {
            char *ans = NULL;
            ok = rest(auth_url, auth_admin, "GET", q, NULL, &ans) == 200 && ans && strncmp(ans, "true", 4) == 0;
            free(ans);
            if (!ok)
                vc_sleep_ms(100);
        }
        if (!ok)
            die("a wallet signer never reached venus-auth");
    }
}

/* init + run of a devnet on <tmp>/<name> from <tmp>/genesis.toml; its log <tmp>/<name>.log. */
void start_devnet_copy(const char *name, char url[128], char **ret_token, pid_t *ret_pid)
{
    char repo[600], genesis[600], log[600], path[700];
    snprintf(repo, sizeof(repo), "%s/%s", vc_test_tmpdir(), name);
    snprintf(genesis, sizeof(genesis), "%s/genesis.toml", vc_test_tmpdir());
    const char *init[] = {devnet_bin, "--repo", repo, "init", "--genesis", genesis, NULL};
    char *out = NULL, *err = NULL;
    int rc = vc_test_run_cmd(init, &out, &err);
    if (rc != 0)
        fprintf(stderr, "devnet init: %s %s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
    if (rc != 0)
        die("venus-devnet init");
    snprintf(log, sizeof(log), "%s/%s.log", vc_test_tmpdir(), name);
    const char *argv[] = {devnet_bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", NULL};
    *ret_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (*ret_pid <= 0 || !vc_test_wait_file(path, 20000))
        die("venus-devnet did not start");
    char *bound = read_trim(path);
    snprintf(url, 128, "http://%s", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/token", repo);
    *ret_token = read_trim(path);
}

void start_devnet(void)
{
    char genesis[600], text[16384], wfile[600], waddr[VC_ADDRESS_STRLEN_MAX];
    vc_key_info_t wk = {.type = VC_KEY_SECP256K1};
    vc_address_t wa;
    char *wexp = NULL;
    vc_secp256k1_generate(wk.key);
    vc_secp256k1_address(wk.key, &wa);
    vc_address_to_string(&wa, 't', waddr);
    vc_key_info_export(&wk, &wexp);
    snprintf(wfile, sizeof(wfile), "%s/worker.key", vc_test_tmpdir());
    vc_write_file_atomic(wfile, wexp, strlen(wexp), 0600);
    free(wexp);
    snprintf(genesis, sizeof(genesis), "%s/genesis.toml", vc_test_tmpdir());
    size_t o = (size_t)snprintf(text, sizeof(text),
                                "NetworkName = \"devnet\"\nBlockTime = \"200ms\"\nPropagationDelay = \"20ms\"\n\n");
    for (int i = 0; i < n_keys; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o,
                              "[[Accounts]]\nKeyFile = \"%s\"\nBalance = \"1000000000000000000000\"\n\n", key_files[i]);
    snprintf(text + o, sizeof(text) - o,
             "[[Accounts]]\nKeyFile = \"%s\"\nBalance = \"1000000000000000000\"\n\n"
             "[[Miners]]\nID = 1000\nOwner = \"%s\"\nWorker = \"%s\"\nPower = \"10995116277760\"\n"
             "Sectors = 2\nSectorSize = 2048\n",
             wfile, waddr, waddr);
    vc_write_file_atomic(genesis, text, strlen(text), 0644);
    start_devnet_copy("devnet", node_url, &node_token, &devnet_pid);
}

/* The messager's repo (config: 100 ms head stability, 8 addresses selected at once whatever the
 * CPU count) and argv, on PostgreSQL with --pg. */
pid_t spawn_messager_in(const char *name, const char *extra_conf, const char *log_name, char log[600])
{
    char repo[600], path[700], conf[2048];
    snprintf(repo, sizeof(repo), "%s/%s", vc_test_tmpdir(), name);
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    snprintf(conf, sizeof(conf),
             "[api]\n  Address = \"127.0.0.1:0\"\n[messageService]\n  WaitingChainHeadStableDuration = \"100ms\"\n"
             "  SelectConcurrency = 8\n%s",
             extra_conf ? extra_conf : "");
    vc_write_file_atomic(path, conf, strlen(conf), 0600);
    snprintf(path, sizeof(path), "%s/api", repo);
    unlink(path);
    snprintf(log, 600, "%s/%s", vc_test_tmpdir(), log_name);
    const char *argv[24] = {msgr_bin,      "--repo",     repo,      "run",          "--node-url",
                            daemon_node_url ? daemon_node_url : node_url,
                            "--node-token", node_token, "--auth-url", daemon_auth_urls ? daemon_auth_urls : auth_url,
                            "--auth-token", auth_admin,
                            "--gateway-url", daemon_gw_url ? daemon_gw_url : gw_url, "--gateway-token", gw_admin, NULL};
    if (pg_dsn) {
        argv[16] = "--db-type";
        argv[17] = "postgres";
        argv[18] = "--pg-dsn";
        argv[19] = pg_dsn;
        argv[20] = NULL;
    }
    return vc_test_spawn(argv, log);
}

pid_t spawn_messager(const char *log_name, char log[600])
{
    return spawn_messager_in("messager", NULL, log_name, log);
}

int start_messager_in(const char *name, const char *extra_conf, pid_t *ret_pid, char url[160], char **ret_token)
{
    static int starts;
    char log_name[200], log[600], path[700];
    snprintf(log_name, sizeof(log_name), "%s-%d.log", name, starts++);
    *ret_pid = spawn_messager_in(name, extra_conf, log_name, log);
    snprintf(path, sizeof(path), "%s/%s/api", vc_test_tmpdir(), name);
    if (*ret_pid <= 0 || !vc_test_wait_file(path, 20000))
        return -1;
    char *bound = read_trim(path);
    snprintf(url, 160, "http://%s/rpc/v0", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/%s/token", vc_test_tmpdir(), name);
    free(*ret_token);
    *ret_token = read_trim(path);
    fprintf(stderr, "# %s %s, log %s\n", name, url, log);
    return 0;
}

int start_messager(void)
{
    return start_messager_in("messager", NULL, &msgr_pid, msgr_url, &msgr_admin);
}

int msgr_stack_bins(void)
{
    auth_bin = getenv("VENUS_AUTH_BIN");
    gw_bin = getenv("VENUS_GATEWAY_BIN");
    wallet_bin = getenv("VENUS_WALLET_BIN");
    devnet_bin = getenv("VENUS_DEVNET_BIN");
    msgr_bin = getenv("VENUS_MESSAGER_BIN");
    if (!auth_bin || !gw_bin || !wallet_bin || !devnet_bin || !msgr_bin) {
        fprintf(stderr, "VENUS_{AUTH,GATEWAY,WALLET,DEVNET,MESSAGER}_BIN not set\n");
        return -1;
    }
    return 0;
}

void msgr_stack_stop_all(void)
{
    stop_clean("venus-messager", &msgr_pid);
    stop_clean("venus-devnet", &devnet_pid);
    stop_clean("venus-wallet", &wallet_pid);
    stop_clean("venus-gateway", &gw_pid);
    stop_clean("venus-auth", &auth_pid);
    free(auth_admin);
    free(gw_admin);
    free(node_token);
    free(msgr_admin);
    free(wal_tok);
    free(mu_tok);
}

int msgr_pool_cli(const char *name, char **out, const char *a0, const char *a1, const char *a2, const char *a3,
                  const char *a4, const char *a5)
{
    char repo[600];
    snprintf(repo, sizeof(repo), "%s/%s", vc_test_tmpdir(), name);
    const char *argv[] = {msgr_bin, "--repo", repo, "node-pool", a0, a1, a2, a3, a4, a5, NULL};
    char *err = NULL;
    *out = NULL;
    int rc = vc_test_run_cmd(argv, out, &err);
    if (rc != 0)
        fprintf(stderr, "# node-pool %s: %s", a0, err ? err : "\n");
    free(err);
    return rc;
}

json_t *msgr_pool_node(const char *name, const char *node, json_t **ret_list)
{
    char *out = NULL;
    *ret_list = NULL;
    if (msgr_pool_cli(name, &out, "list", "--json", NULL, NULL, NULL, NULL) == 0)
        *ret_list = json_loads(out ? out : "", 0, NULL);
    free(out);
    size_t k;
    json_t *n;
    json_array_foreach(json_object_get(*ret_list, "Nodes"), k, n) if (vc_streq(
        json_string_value(json_object_get(n, "Name")), node)) return n;
    return NULL;
}

bool msgr_pool_wait(const char *name, const char *node, bool want, int timeout_ms)
{
    for (int t = 0; t <= timeout_ms; t += 250) {
        json_t *l = NULL, *n = msgr_pool_node(name, node, &l);
        bool ok = n && json_is_true(json_object_get(n, "Enabled")) == want;
        json_decref(l);
        if (ok)
            return true;
        vc_sleep_ms(250);
    }
    return false;
}
