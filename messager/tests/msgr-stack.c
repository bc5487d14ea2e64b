/* msgr-stack.c: see msgr-stack.h. */
#include "msgr-stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/client.h"
#include "vc/util.h"

const char *auth_bin, *gw_bin, *wallet_bin, *devnet_bin, *msgr_bin, *pg_dsn;
char auth_url[128], gw_url[128], gw_maddr[128], node_url[128], msgr_url[160];
char *auth_admin, *gw_admin, *node_token, *msgr_admin, *wal_tok, *mu_tok;
pid_t auth_pid, gw_pid, wallet_pid, devnet_pid, msgr_pid;

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
    const char *eps[] = {msgr_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .retries = -1, .timeout_ms = 60000};
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
    const char *argv[] = {gw_bin, "--repo", repo, "run", "--auth-url", auth_url, "--auth-token", auth_admin, NULL};
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

/* Filecoin.<method> on the devnet with its admin token; params stolen. */
int dcall(const char *method, json_t *params, json_t **ret)
{
    const char *eps[] = {node_url};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v1", .token = node_token, .retries = -1};
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
