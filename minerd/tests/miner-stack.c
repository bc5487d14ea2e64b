/* miner-stack.c: venus-miner integration test setup (see miner-stack.h). */
#include "miner-stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vc-test-db.h"
#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/client.h"
#include "vc/conf.h"
#include "vc/util.h"

const char *miner_bin;
int n_miners;
char mid[MINER_STACK_MAX][16];
pid_t prover_pid[MINER_STACK_MAX], miner_pid;
char miner_repo[600], miner_url[160], *miner_admin, miner_dsn[1024];

int miner_stack_init(int n)
{
    miner_bin = getenv("VENUS_MINER_BIN");
    if (msgr_stack_bins() < 0 || !miner_bin) {
        fprintf(stderr, "VENUS_*_BIN not set\n");
        return -1;
    }
    if (vc_test_has_flag("--pg") && !(pg_dsn = vc_test_pg_dsn())) {
        fprintf(stderr, "no PostgreSQL\n");
        return -1;
    }
    n_miners = n;
    for (int i = 0; i < n; i++)
        snprintf(mid[i], sizeof(mid[i]), "t0%d", 1000 + i);
    make_keys(n);
    return 0;
}

void start_devnet_external(const int *power_pct)
{
    char repo[600], genesis[600], text[8192], log[600], path[700];
    snprintf(repo, sizeof(repo), "%s/devnet", vc_test_tmpdir());
    snprintf(genesis, sizeof(genesis), "%s/genesis.toml", vc_test_tmpdir());
    size_t o = (size_t)snprintf(text, sizeof(text),
                                "NetworkName = \"devnet\"\nBlockTime = \"1s\"\nPropagationDelay = \"1s\"\n\n");
    for (int i = 0; i < n_miners; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o,
                              "[[Accounts]]\nKeyFile = \"%s\"\nBalance = \"1000000000000000000000\"\n\n", key_files[i]);
    for (int i = 0; i < n_miners; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o,
                              "[[Miners]]\nID = %d\nOwner = \"%s\"\nWorker = \"%s\"\nPower = \"%d\"\nSectors = 2\n"
                              "SectorSize = 2048\n\n",
                              1000 + i, addrs[i], addrs[i], power_pct[i] * 1024 * 1024);
    vc_write_file_atomic(genesis, text, strlen(text), 0644);
    const char *init[] = {devnet_bin, "--repo", repo, "init", "--genesis", genesis, NULL};
    char *out = NULL, *err = NULL;
    int rc = vc_test_run_cmd(init, &out, &err);
    if (rc != 0)
        fprintf(stderr, "devnet init: %s %s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
    if (rc != 0)
        die("venus-devnet init");
    snprintf(log, sizeof(log), "%s/devnet.log", vc_test_tmpdir());
    const char *argv[] = {devnet_bin, "--repo", repo,       "run",        "--listen",  "127.0.0.1:0", "--mine",
                          "external", "--auth-url", auth_url, "--auth-token", auth_admin, NULL};
    devnet_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (devnet_pid <= 0 || !vc_test_wait_file(path, 20000))
        die("venus-devnet did not start");
    char *bound = read_trim(path);
    snprintf(node_url, sizeof(node_url), "http://%s", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/token", repo);
    node_token = read_trim(path);
}

void start_prover_on(int i, const char *gw)
{
    char log[600];
    snprintf(log, sizeof(log), "%s/prover%d-%s.log", vc_test_tmpdir(), i, gw == gw_url ? "gw1" : "gw2");
    const char *argv[] = {devnet_bin, "prover", "--gateway", gw, "--token", wal_tok, "--miner", mid[i], NULL};
    prover_pid[i] = vc_test_spawn(argv, log);
    if (prover_pid[i] <= 0)
        die("venus-devnet prover");
}

void start_prover_both(int i, const char *gw2)
{
    char log[600];
    snprintf(log, sizeof(log), "%s/prover%d-both.log", vc_test_tmpdir(), i);
    const char *argv[] = {devnet_bin, "prover", "--gateway", gw_url, "--gateway", gw2, "--token", wal_tok,
                          "--miner", mid[i], NULL};
    prover_pid[i] = vc_test_spawn(argv, log);
    if (prover_pid[i] <= 0)
        die("venus-devnet prover");
}

void start_prover(int i)
{
    start_prover_on(i, gw_url);
}

void bind_miners(void)
{
    for (int i = 0; i < n_miners; i++) {
        char body[256];
        snprintf(body, sizeof(body), "{\"User\":\"wal\",\"Miner\":\"f0%d\",\"OpenMining\":true}", 1000 + i);
        if (rest(auth_url, auth_admin, "POST", "/user/miner/add", body, NULL) != 200)
            die("cannot bind the miners in venus-auth");
    }
}

int run_cli_err(char **out, char **err, const char *const *args)
{
    const char *argv[16] = {miner_bin, "--repo", miner_repo};
    int n = 3;
    for (; args[n - 3] && n < 15; n++)
        argv[n] = args[n - 3];
    argv[n] = NULL;
    char *e = NULL;
    int rc = vc_test_run_cmd(argv, out, &e);
    if (err)
        *err = e;
    else {
        if (rc != 0)
            fprintf(stderr, "  venus-miner %s %s: exit %d: %s\n", args[0], args[1] ? args[1] : "", rc, e ? e : "");
        free(e);
    }
    return rc;
}

int run_cli(char **out, const char *a0, const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *args[] = {a0, a1, a2, a3, a4, NULL};
    return run_cli_err(out, NULL, args);
}

void init_miner(const char *api, const char *gw2)
{
    char path[700];
    snprintf(miner_repo, sizeof(miner_repo), "%s/miner", vc_test_tmpdir());
    /* several venus-auth instances: the first listed is down, the miner fails over to the next */
    const char *argv[24] = {miner_bin, "--repo", miner_repo, "init", "--api", api, "--token", auth_admin,
                            "--auth-api", "http://127.0.0.1:1", "--auth-api", auth_url, "--gateway-api", gw_url,
                            "--listen", "127.0.0.1:0"};
    int n = 16;
    if (gw2) {
        argv[n++] = "--gateway-api";
        argv[n++] = gw2;
    }
    if (pg_dsn) {
        snprintf(miner_dsn, sizeof(miner_dsn), "%s", vc_test_db_fresh_dsn(true));
        argv[n++] = "--slash-filter";
        argv[n++] = "postgres";
        argv[n++] = "--pg-dsn";
        argv[n++] = miner_dsn;
    } else
        snprintf(miner_dsn, sizeof(miner_dsn), "%s/miner.db", miner_repo);
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    int rc = vc_test_run_cmd(argv, &out, &err);
    if (rc != 0)
        fprintf(stderr, "miner init: %s %s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
    if (rc != 0)
        die("venus-miner init");
    /* 1 s blocks: a short per-miner budget, and the recorder on; a 2 s lease (Retry 500 ms:
     * each elector call gets that long, headroom for a loaded PostgreSQL under ASan) */
    snprintf(path, sizeof(path), "%s/config.toml", miner_repo);
    vc_conf_t *c = vc_conf_new();
    if (!c || vc_conf_load(c, path) < 0 || vc_conf_set_duration_ms(c, "MinerOnceTimeout", 800) < 0 ||
        vc_conf_set_bool(c, "Recorder.Enable", true) < 0 || vc_conf_set_duration_ms(c, "HA.Lease", 2000) < 0 ||
        vc_conf_set_duration_ms(c, "HA.RenewDeadline", 1400) < 0 || vc_conf_set_duration_ms(c, "HA.Retry", 500) < 0 ||
        vc_conf_save(c, path, 0600) < 0)
        die("cannot edit the miner's config.toml");
    vc_conf_free(c);
}

int start_miner(void)
{
    static int starts;
    char log[600], path[700];
    snprintf(log, sizeof(log), "%s/miner%d.log", vc_test_tmpdir(), starts++);
    snprintf(path, sizeof(path), "%s/api", miner_repo);
    unlink(path);
    const char *argv[] = {miner_bin, "--repo", miner_repo, "run", "--nosync", NULL};
    miner_pid = vc_test_spawn(argv, log);
    if (miner_pid <= 0 || !vc_test_wait_file(path, 30000))
        return -1;
    char *bound = read_trim(path);
    snprintf(miner_url, sizeof(miner_url), "http://%s/rpc/v0", bound);
    free(bound);
    snprintf(path, sizeof(path), "%s/token", miner_repo);
    free(miner_admin);
    miner_admin = read_trim(path);
    fprintf(stderr, "# venus-miner %s, logs in %s\n", miner_url, vc_test_tmpdir());
    return 0;
}

int mcall_miner(const char *method, json_t *params, json_t **ret, vc_rpc_err_t *err)
{
    const char *eps[] = {miner_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = miner_admin, .retries = -1,
                          .timeout_ms = 120000};
    vc_client_t *c = NULL;
    char full[96];
    snprintf(full, sizeof(full), "Filecoin.%s", method);
    int r = vc_client_new(&o, &c);
    if (r < 0) {
        json_decref(params);
        return r;
    }
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
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

char *miner_metrics(void)
{
    char *mb = NULL, base[200];
    snprintf(base, sizeof(base), "%.*s", (int)(strlen(miner_url) - strlen("/rpc/v0")), miner_url);
    if (rest(base, miner_admin, "GET", "/metrics", NULL, &mb) != 200) {
        free(mb);
        return NULL;
    }
    return mb;
}

/* ------------------------------------------------------------------ chain reads */

int64_t head_height(void)
{
    json_t *h = NULL;
    int64_t v = -1;
    if (dcall("Filecoin.ChainHead", NULL, &h) == 0)
        v = json_integer_value(json_object_get(h, "Height"));
    json_decref(h);
    return v;
}

bool wait_height(int64_t h, int timeout_s)
{
    for (int i = 0; i < timeout_s * 10; i++) {
        if (head_height() >= h)
            return true;
        vc_sleep_ms(100);
    }
    return false;
}

void count_blocks(int64_t lo, int64_t hi, int blocks[MINER_STACK_MAX], int64_t wins[MINER_STACK_MAX],
                  bool *per_height)
{
    memset(blocks, 0, sizeof(int) * MINER_STACK_MAX);
    memset(wins, 0, sizeof(int64_t) * MINER_STACK_MAX);
    for (int64_t h = lo; h <= hi; h++) {
        json_t *ts = NULL;
        if (dcall("Filecoin.ChainGetTipSetByHeight", json_pack("[I, n]", (json_int_t)h), &ts) < 0)
            continue;
        if (json_integer_value(json_object_get(ts, "Height")) == h) {
            size_t i;
            json_t *b;
            json_array_foreach(json_object_get(ts, "Blocks"), i, b)
            {
                const char *mi = json_string_value(json_object_get(b, "Miner"));
                for (int k = 0; mi && k < n_miners; k++)
                    if (vc_streq(mi, mid[k])) {
                        blocks[k]++;
                        wins[k] += json_integer_value(json_object_get(json_object_get(b, "ElectionProof"),
                                                                      "WinCount"));
                        if (per_height)
                            per_height[(h - lo) * n_miners + k] = true;
                    }
            }
        }
        json_decref(ts);
    }
}
