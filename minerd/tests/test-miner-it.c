/*
 * test-miner-it.c: venus-miner against real processes: venus-auth, venus-gateway, venus-wallet
 * (holding the three worker keys), venus-devnet in external-mining mode (1 s blocks, miners
 * t01000/t01001/t01002 with 60/30/10 % of the power) and one mock prover per miner.
 *
 * Cases, in order on one running stack:
 *  - 50 epochs of mining: the chain advances, each miner's blocks and summed WinCount are
 *    within statistical bounds of its power, `winner count` over the range equals the blocks
 *    each miner put on chain, ListBlocks and QueryRecord see them;
 *  - `address stop` halts one miner's blocks, and the stop survives a restart of venus-miner;
 *  - the slash filter refuses a block when a conflicting record is already in its database;
 *  - a missing prover shows up in `address state` as an error while the others keep mining, and
 *    a prover that comes back on the second gateway is reached (gateway failover per request);
 *  - bad input: unknown miner, reversed or future epoch ranges;
 *  - primary/standby: a second venus-miner on the same slash-filter database stays standby,
 *    `ha promote` refuses a live holder, `ha pause` hands the lease over, kill -9 of the leader
 *    hands it back within one lease period, and no epoch ever gets two blocks of one miner.
 * With --pg the miner's slash filter runs on PostgreSQL.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "miner-stack.h"
#include "miner-store.h"
#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc-test-db.h"
#include "vc/client.h"
#include "vc/conf.h"
#include "vc/util.h"

#define N_MINERS 3
#define EPOCHS 50

static const int power_pct[N_MINERS] = {60, 30, 10};
static pid_t gw2_pid;
static char gw2_url[128];
static int64_t range_lo, range_hi;  /* heights mined in the first case */

/* ------------------------------------------------------------------ setup */

/* A second venus-gateway (active/active): the miner lists both; a prover may sit on either. */
static void start_gateway2(void)
{
    char repo[600], log[600], path[700], conf[256];
    snprintf(repo, sizeof(repo), "%s/gw2", vc_test_tmpdir());
    vc_mkdir_p(repo, 0700);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    snprintf(conf, sizeof(conf), "[API]\nListenAddress = \"127.0.0.1:0\"\n");
    vc_write_file_atomic(path, conf, strlen(conf), 0600);
    snprintf(log, sizeof(log), "%s/gateway2.log", vc_test_tmpdir());
    const char *argv[] = {gw_bin, "--repo", repo, "run", "--auth-url", auth_url, "--auth-token", auth_admin, NULL};
    gw2_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", repo);
    if (gw2_pid <= 0 || !vc_test_wait_file(path, 20000))
        die("the second venus-gateway did not start");
    char *bound = read_trim(path);
    snprintf(gw2_url, sizeof(gw2_url), "http://%s", bound);
    free(bound);
}

static bool state_has_error(const char *addr, const char *needle)
{
    json_t *st = NULL;
    bool found = false;
    if (mcall_miner("StatesForMining", json_pack("[[s]]", addr), &st, NULL) < 0)
        return false;
    json_t *errs = json_object_get(json_array_get(st, 0), "Err");
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) if (strstr(json_string_value(e) ?: "", needle)) found = true;
    json_decref(st);
    return found;
}

/* ------------------------------------------------------------------ cases */

static void test_mining_shares_and_winner_count(void)
{
    int64_t h0 = head_height();
    ASSERT_TRUE(h0 > 0);
    range_lo = h0 + 3; /* let the loop settle */
    range_hi = range_lo + EPOCHS - 1;
    ASSERT_TRUE(wait_height(range_hi + 1, EPOCHS * 3 + 30));
    int blocks[N_MINERS];
    int64_t wins[N_MINERS];
    count_blocks(range_lo, range_hi, blocks, wins, NULL);
    int64_t total_wins = wins[0] + wins[1] + wins[2];
    fprintf(stderr, "  %d epochs: blocks %d/%d/%d, WinCount %" PRId64 "/%" PRId64 "/%" PRId64 "\n", EPOCHS,
            blocks[0], blocks[1], blocks[2], wins[0], wins[1], wins[2]);
    for (int k = 0; k < N_MINERS; k++) {
        /* blocks: Bernoulli(1 - e^-lambda) per epoch, lambda = 5 * share */
        double p = 1.0 - exp(-5.0 * power_pct[k] / 100.0), mu = EPOCHS * p, sd = sqrt(EPOCHS * p * (1 - p));
        VC_CHECK(fabs(blocks[k] - mu) <= 4 * sd + 2);
        /* WinCount: Poisson(lambda) per epoch, summed */
        double wmu = EPOCHS * 5.0 * power_pct[k] / 100.0;
        VC_CHECK(fabs((double)wins[k] - wmu) <= 4 * sqrt(wmu) + 2);
    }
    VC_CHECK(total_wins > 0);
    VC_CHECK(blocks[0] > blocks[2]);

    /* every win is recorded in the slash filter's table (state Mining at the win, then Success,
     * Error, Timeout or ChainForked); the Success rows are the blocks a node accepted */
    int rows[N_MINERS] = {0}, success[N_MINERS] = {0};
    size_t i;
    json_t *e;
    for (int k = 0; k < N_MINERS; k++) {
        json_t *lb = NULL;
        ASSERT_OK(mcall_miner("ListBlocks", json_pack("[{s:[s], s:i, s:i}]", "Miners", mid[k], "Limit", 1000, "Offset", 0),
                              &lb, NULL));
        json_array_foreach(lb, i, e)
        {
            VC_CHECK(vc_streq(json_string_value(json_object_get(e, "Miner")) ?: "", mid[k]));
            int64_t ep = json_integer_value(json_object_get(e, "Epoch"));
            if (ep < range_lo || ep > range_hi)
                continue;
            rows[k]++;
            if (json_integer_value(json_object_get(e, "MineState")) == MINER_STATE_SUCCESS) {
                success[k]++;
                VC_CHECK(*(json_string_value(json_object_get(e, "Cid")) ?: ""));
            }
        }
        json_decref(lb);
        VC_CHECK(success[k] == blocks[k]);
        VC_CHECK(rows[k] - success[k] <= 3); /* a few late blocks on a loaded machine, no more */
    }

    /* winner count over the same range: epochs start-1..end-1 are reported as start..end */
    json_t *wc = NULL;
    vc_rpc_err_t err = {0};
    ASSERT_OK(mcall_miner("CountWinners", json_pack("[[], I, I]", (json_int_t)(range_lo - 1), (json_int_t)(range_hi - 1)),
                          &wc, &err));
    ASSERT_EQ(json_array_size(wc), (size_t)N_MINERS);
    json_array_foreach(wc, i, e)
    {
        const char *mi = json_string_value(json_object_get(e, "miner"));
        for (int k = 0; k < N_MINERS; k++)
            if (mi && vc_streq(mi, mid[k])) {
                size_t nwin = 0, j;
                json_t *x;
                json_array_foreach(json_object_get(e, "winEpochList"), j, x)
                {
                    VC_CHECK(vc_streq(json_string_value(json_object_get(x, "msg")) ?: "?", ""));
                    int64_t ep = json_integer_value(json_object_get(x, "epoch"));
                    VC_CHECK(ep >= range_lo && ep <= range_hi);
                    if (json_integer_value(json_object_get(x, "winCount")) > 0)
                        nwin++;
                }
                json_int_t tw = json_integer_value(json_object_get(e, "totalWinCount"));
                fprintf(stderr, "  winner count %s: %zu epochs, total %lld (wins recorded %d; on chain %d blocks, %" PRId64
                        ")\n", mi, nwin, tw, rows[k], blocks[k], wins[k]);
                VC_CHECK(nwin == (size_t)rows[k]);
                VC_CHECK(tw >= wins[k]);
                if (rows[k] == blocks[k])
                    VC_CHECK(tw == wins[k]);
            }
    }
    json_decref(wc);

    /* /metrics: blocks per miner and the election time */
    char *mb = miner_metrics();
    ASSERT_NOTNULL(mb);
    VC_CHECK(mb && strstr(mb, "venus_miner_number_of_block{miner_id=\"t01000\"}") != NULL);
    VC_CHECK(mb && strstr(mb, "venus_miner_election_seconds ") != NULL);
    VC_CHECK(mb && strstr(mb, "venus_miner_miners{state=\"open_for_mining\"} 3") != NULL);
    free(mb);

    /* QueryRecord (recorder enabled in the test config) */
    json_t *qr = NULL;
    ASSERT_OK(mcall_miner("QueryRecord", json_pack("[{s:s, s:I, s:i}]", "Miner", mid[0], "Epoch", (json_int_t)range_lo,
                                                   "Limit", 10),
                          &qr, NULL));
    VC_CHECK(json_array_size(qr) >= 5);
    json_t *r0 = json_array_get(qr, 0);
    VC_CHECK(json_is_string(json_object_get(r0, "getBaseInfo")));
    VC_CHECK(vc_streq(json_string_value(json_object_get(r0, "miner")) ?: "", mid[0]));
    json_decref(qr);
    vc_rpc_err_t qe = {0};
    VC_CHECK(mcall_miner("QueryRecord", json_pack("[{s:s, s:i, s:i}]", "Miner", mid[0], "Epoch", 1, "Limit", 1000), NULL,
                         &qe) < 0);
    VC_CHECK(strstr(qe.message, "at most") != NULL);
}

static void test_stop_survives_restart(void)
{
    char *out = NULL;
    ASSERT_EQ(run_cli(&out, "address", "stop", mid[2], NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "stop mining success.") != NULL);
    free(out);
    int64_t from = head_height() + 2;
    ASSERT_TRUE(wait_height(from + 8, 40));
    int blocks[N_MINERS];
    int64_t wins[N_MINERS];
    count_blocks(from, from + 8, blocks, wins, NULL);
    VC_CHECK(blocks[2] == 0);
    VC_CHECK(blocks[0] > 0);

    /* restart: the choice is in venus-auth (OpenMining=false) */
    stop_clean("venus-miner", &miner_pid);
    ASSERT_OK(start_miner());
    out = NULL;
    ASSERT_EQ(run_cli(&out, "address", "state", mid[2], NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "\"IsMining\": false") != NULL);
    free(out);
    from = head_height() + 2;
    ASSERT_TRUE(wait_height(from + 6, 40));
    count_blocks(from, from + 6, blocks, wins, NULL);
    VC_CHECK(blocks[2] == 0);
    VC_CHECK(blocks[0] > 0);

    out = NULL;
    ASSERT_EQ(run_cli(&out, "address", "start", mid[2], NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "start mining success.") != NULL);
    free(out);
    out = NULL;
    ASSERT_EQ(run_cli(&out, "address", "state", mid[2], NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "\"IsMining\": true") != NULL);
    free(out);
}

static void test_slash_filter_refuses_conflict(void)
{
    miner_store_t *st = NULL;
    char *err = NULL;
    ASSERT_OK(miner_store_open(miner_dsn, &st, &err));
    int64_t from = head_height() + 3;
    /* a block "already made" by t01000 at each of 6 coming epochs */
    for (int64_t e = from; e < from + 6; e++) {
        miner_block_t b = {.miner = mid[0], .epoch = e, .parent_epoch = e - 1, .parent_key = "{ fake }",
                           .cid = "bafy2bzacedrfnsaz3ubhnynfjlcyd4mbqctvs4hwdjy4fcgbvm5s4vkn5bqgy",
                           .mine_state = MINER_STATE_SUCCESS};
        ASSERT_OK(miner_store_put_block(st, &b));
    }
    miner_store_free(st);
    ASSERT_TRUE(wait_height(from + 7, 40));
    int blocks[N_MINERS];
    int64_t wins[N_MINERS];
    count_blocks(from, from + 5, blocks, wins, NULL);
    VC_CHECK(blocks[0] == 0);
    VC_CHECK(blocks[1] + blocks[2] > 0);
    VC_CHECK(state_has_error(mid[0], "slash filter"));
    VC_CHECK(state_has_error(mid[0], "double-fork"));
}

static void test_missing_prover(void)
{
    stop_clean("prover", &prover_pid[1]);
    int64_t from = head_height() + 2;
    ASSERT_TRUE(wait_height(from + 8, 40));
    int blocks[N_MINERS];
    int64_t wins[N_MINERS];
    count_blocks(from, from + 8, blocks, wins, NULL);
    VC_CHECK(blocks[1] == 0);
    VC_CHECK(blocks[0] > 0);
    VC_CHECK(state_has_error(mid[1], "ComputeProof"));
    char *out = NULL;
    ASSERT_EQ(run_cli(&out, "address", "state", mid[1], NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "ComputeProof") != NULL);
    free(out);

    /* the prover comes back on the other gateway: the miner's proof requests fail over to it */
    start_prover_on(1, gw2_url);
    from = head_height() + 3;
    ASSERT_TRUE(wait_height(from + 8, 40));
    count_blocks(from, from + 8, blocks, wins, NULL);
    VC_CHECK(blocks[1] > 0);
}

static void test_bad_input(void)
{
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    int64_t h = head_height();
    VC_CHECK(mcall_miner("CountWinners", json_pack("[[], I, I]", (json_int_t)h + 100, (json_int_t)h + 200), NULL, &e) <
             0);
    VC_CHECK(strstr(e.message, "chain head") != NULL);
    VC_CHECK(mcall_miner("CountWinners", json_pack("[[], i, i]", 10, 5), NULL, &e) < 0);
    VC_CHECK(strstr(e.message, "after") != NULL);
    ASSERT_OK(mcall_miner("CountWinners", json_pack("[[s], i, i]", "t09999", 1, 2), &res, NULL));
    VC_CHECK(vc_streq(json_string_value(json_object_get(json_array_get(res, 0), "msg")) ?: "", "miner not exist"));
    json_decref(res);
    VC_CHECK(mcall_miner("StatesForMining", json_pack("[[s]]", "not-an-address"), NULL, &e) < 0);
    VC_CHECK(mcall_miner("WarmupForMiner", json_pack("[s]", "t09999"), NULL, &e) < 0);
    VC_CHECK(strstr(e.message, "not in the mining set") != NULL);
    char *out = NULL;
    ASSERT_EQ(run_cli(&out, "address", "warmup", mid[0], NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "warmup success.") != NULL);
    free(out);
    out = NULL;
    VC_CHECK(run_cli(&out, "winner", "count", "--epoch-start", "9", "--epoch-end") != 0);
    free(out);
    out = NULL;
    ASSERT_EQ(run_cli(&out, "log", "list", NULL, NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "miner") != NULL);
    free(out);

    /* a non-admin token sees only its own miners: user "mu" has none */
    const char *eps[] = {miner_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = mu_tok, .retries = -1};
    vc_client_t *c = NULL;
    ASSERT_OK(vc_client_new(&o, &c));
    res = NULL;
    ASSERT_OK(vc_client_call(c, "Filecoin.ListAddress", NULL, &res, &e));
    VC_CHECK(json_array_size(res) == 0);
    json_decref(res);
    res = NULL;
    ASSERT_OK(vc_client_call(c, "Filecoin.StatesForMining", json_pack("[[s]]", mid[0]), &res, &e));
    VC_CHECK(json_array_size(res) == 0);
    json_decref(res);
    VC_CHECK(vc_client_call(c, "Filecoin.QueryRecord", json_pack("[{s:s, s:i, s:i}]", "Miner", mid[0], "Epoch", 1,
                                                                "Limit", 1),
                            NULL, &e) < 0);
    VC_CHECK(strstr(e.message, "does not belong") != NULL);
    VC_CHECK(vc_client_call(c, "Filecoin.Stop", json_pack("[[s]]", mid[0]), NULL, &e) < 0); /* admin only */
    vc_client_free(c);

    /* init against a node that is not there: an error, and no repo left behind */
    char repo2[700];
    snprintf(repo2, sizeof(repo2), "%s/miner-bad", vc_test_tmpdir());
    const char *iargv[] = {miner_bin,    "--repo",   repo2,      "init",          "--api", "http://127.0.0.1:1",
                           "--token",    "x",        "--auth-api", auth_url,      "--gateway-api", gw_url, NULL};
    char *iout = NULL, *ierr = NULL;
    VC_CHECK(vc_test_run_cmd(iargv, &iout, &ierr) != 0);
    VC_CHECK(ierr && strstr(ierr, "cannot reach the chain node") != NULL);
    VC_CHECK(access(repo2, F_OK) != 0);
    free(iout);
    free(ierr);
}

/* ------------------------------------------------------------------ HA */

static pid_t miner2_pid;
static char miner2_repo[600];

/* A second instance: the same config but its own repo and port, the same slash-filter database
 * (the sqlite file of the first, or the same PostgreSQL database). */
static int start_miner2(void)
{
    char src[700], dst[700], log[600], path[700];
    snprintf(miner2_repo, sizeof(miner2_repo), "%s/miner2", vc_test_tmpdir());
    vc_mkdir_p(miner2_repo, 0700);
    snprintf(src, sizeof(src), "%s/config.toml", miner_repo);
    snprintf(dst, sizeof(dst), "%s/config.toml", miner2_repo);
    vc_conf_t *c = vc_conf_new();
    if (!c || vc_conf_load(c, src) < 0 || vc_conf_set_string(c, "API.ListenAddress", "127.0.0.1:0") < 0 ||
        (!pg_dsn && vc_conf_set_string(c, "SlashFilter.Local.Path", miner_dsn) < 0) || vc_conf_save(c, dst, 0600) < 0) {
        vc_conf_free(c);
        return -1;
    }
    vc_conf_free(c);
    snprintf(log, sizeof(log), "%s/miner2.log", vc_test_tmpdir());
    const char *argv[] = {miner_bin, "--repo", miner2_repo, "run", "--nosync", NULL};
    miner2_pid = vc_test_spawn(argv, log);
    snprintf(path, sizeof(path), "%s/api", miner2_repo);
    return miner2_pid > 0 && vc_test_wait_file(path, 30000) ? 0 : -1;
}

static char *cli_at(const char *repo, const char *a0, const char *a1, const char *a2, int *rc)
{
    const char *argv[] = {miner_bin, "--repo", repo, a0, a1, a2, NULL};
    char *out = NULL, *err = NULL;
    *rc = vc_test_run_cmd(argv, &out, &err);
    if (*rc != 0) {
        free(out);
        return err;
    }
    free(err);
    return out;
}

/* "leader", "standby", "paused" or "" of the instance at repo. */
static void role_of(const char *repo, char out[16])
{
    int rc;
    char *s = cli_at(repo, "ha", "status", NULL, &rc);
    json_t *j = rc == 0 && s ? json_loads(s, 0, NULL) : NULL;
    snprintf(out, 16, "%s", json_string_value(json_object_get(j, "Role")) ?: "");
    json_decref(j);
    free(s);
}

static bool wait_role(const char *repo, const char *want, int timeout_ms)
{
    char r[16];
    for (int t = 0; t < timeout_ms; t += 200) {
        role_of(repo, r);
        if (vc_streq(r, want))
            return true;
        vc_sleep_ms(200);
    }
    return false;
}

/* Blocks of t01000 on chain in [lo, hi]. */
static int blocks0(int64_t lo, int64_t hi)
{
    int blocks[N_MINERS];
    int64_t wins[N_MINERS];
    count_blocks(lo, hi, blocks, wins, NULL);
    return blocks[0];
}

/* Never two blocks of one miner at one epoch: one slash-table row per (miner, epoch), and the
 * chain shows at most one block of each miner per height. */
static void check_one_block_per_epoch(void)
{
    size_t i;
    json_t *e;
    for (int m = 0; m < N_MINERS; m++) {
        json_t *lb = NULL;
        ASSERT_OK(mcall_miner("ListBlocks", json_pack("[{s:[s], s:i, s:i}]", "Miners", mid[m], "Limit", 5000,
                                                      "Offset", 0),
                              &lb, NULL));
        int64_t prev = -1;
        json_array_foreach(lb, i, e)
        {
            int64_t ep = json_integer_value(json_object_get(e, "Epoch"));
            VC_CHECK(ep != prev);
            prev = ep;
        }
        json_decref(lb);
    }
    for (int64_t h = 1; h <= head_height(); h++) {
        json_t *ts = NULL;
        if (dcall("Filecoin.ChainGetTipSetByHeight", json_pack("[I, n]", (json_int_t)h), &ts) < 0)
            continue;
        int n[N_MINERS] = {0};
        json_array_foreach(json_object_get(ts, "Blocks"), i, e)
        {
            for (int m = 0; m < N_MINERS; m++)
                if (vc_streq(json_string_value(json_object_get(e, "Miner")) ?: "", mid[m]) && ++n[m] > 1)
                    VC_FAIL_("two blocks of %s at height %lld", mid[m], (long long)h);
        }
        json_decref(ts);
    }
}

static void test_primary_standby(void)
{
    ASSERT_OK(start_miner2());
    ASSERT_TRUE(wait_role(miner_repo, "leader", 10000));
    ASSERT_TRUE(wait_role(miner2_repo, "standby", 10000));

    /* promote refuses while the holder is alive */
    int rc;
    char *s = cli_at(miner2_repo, "ha", "promote", NULL, &rc);
    VC_CHECK(rc != 0 && s && strstr(s, "alive") != NULL);
    free(s);

    /* pause: the leader steps down, the standby takes over within a lease period, blocks go on */
    s = cli_at(miner_repo, "ha", "pause", NULL, &rc);
    VC_CHECK(rc == 0);
    free(s);
    int64_t t0 = vc_now_mono_us();
    ASSERT_TRUE(wait_role(miner2_repo, "leader", 8000));
    fprintf(stderr, "  takeover after pause: %.1f s\n", (double)(vc_now_mono_us() - t0) / 1e6);
    role_of(miner_repo, (char[16]){0});
    int64_t from = head_height() + 2;
    ASSERT_TRUE(wait_height(from + 6, 30));
    VC_CHECK(blocks0(from, from + 6) > 0);
    s = cli_at(miner_repo, "ha", "resume", NULL, &rc);
    free(s);

    /* kill -9 of the leader: the other takes over within one lease period (2 s here) */
    kill(miner2_pid, SIGKILL);
    waitpid(miner2_pid, NULL, 0);
    miner2_pid = 0;
    t0 = vc_now_mono_us();
    ASSERT_TRUE(wait_role(miner_repo, "leader", 8000));
    double took = (double)(vc_now_mono_us() - t0) / 1e6;
    fprintf(stderr, "  takeover after kill -9: %.1f s\n", took);
    VC_CHECK(took < 2.0 + 1.5);
    from = head_height() + 2;
    ASSERT_TRUE(wait_height(from + 6, 30));
    VC_CHECK(blocks0(from, from + 6) > 0);

    check_one_block_per_epoch();
    /* /metrics shows the role */
    char *mb = miner_metrics();
    VC_CHECK(mb && strstr(mb, "venus_miner_ha_leader 1") != NULL);
    free(mb);
}

/* Active/active gateways: one prover process serves t01000 on both gateways. */
static void test_prover_on_both_gateways(void)
{
    stop_clean("prover", &prover_pid[0]);
    start_prover_both(0, gw2_url);
    char path[700];
    snprintf(path, sizeof(path), "%s/prover0-both.log", vc_test_tmpdir());
    int listening = 0;
    for (int t = 0; t < 100 && listening < 2; t++, vc_sleep_ms(100)) {
        char *log = NULL;
        size_t len = 0;
        listening = 0;
        if (vc_read_file(path, 1 << 20, &log, &len) == 0)
            for (const char *p = log; (p = strstr(p, "listening for proof requests")); p++)
                listening++;
        free(log);
    }
    ASSERT_EQ(listening, 2);
    int64_t from = head_height() + 2;
    ASSERT_TRUE(wait_height(from + 6, 30));
    int blocks[N_MINERS];
    int64_t wins[N_MINERS];
    count_blocks(from, from + 6, blocks, wins, NULL);
    VC_CHECK(blocks[0] > 0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Blocks of any miner of the set on chain in [lo, hi]. */
static int blocks_all(int64_t lo, int64_t hi)
{
    int blocks[N_MINERS], total = 0;
    int64_t wins[N_MINERS];
    count_blocks(lo, hi, blocks, wins, NULL);
    for (int m = 0; m < N_MINERS; m++)
        total += blocks[m];
    return total;
}

/*
 * --ha: 10 faults of the leader over at least 200 epochs, alternately kill -9 (then started
 * again, as systemd would) and SIGSTOP for 3 s (then SIGCONT): after each the standby leads
 * within one lease period (2 s) plus the acquire retry, blocks of the set are on chain again
 * within a few epochs, and at the end no miner has two blocks at one epoch, on chain or in the
 * slash table. Prints the failover times (median, max).
 */
#define HA_FAULTS 10
#define HA_EPOCHS 200

static void test_fault_cycles(void)
{
    int64_t start = head_height(), fo[HA_FAULTS];
    int n_fo = 0, sqlite_blocked = 0;
    for (int c = 0; c < HA_FAULTS && !vc_test_failed; c++) {
        /* spread the faults over HA_EPOCHS epochs */
        ASSERT_TRUE(wait_height(start + (int64_t)c * HA_EPOCHS / HA_FAULTS + 4, 120));
        char role[16];
        role_of(miner_repo, role);
        bool first = vc_streq(role, "leader");
        if (!first && !wait_role(miner2_repo, "leader", 8000)) {
            VC_FAIL_("cycle %d: no leader", c + 1);
            break;
        }
        pid_t *pid = first ? &miner_pid : &miner2_pid;
        const char *other = first ? miner2_repo : miner_repo;
        bool kill9 = c % 2 == 0;
        int64_t t0 = vc_now_mono_us();
        kill(*pid, kill9 ? SIGKILL : SIGSTOP);
        /* On sqlite an instance stopped inside a write transaction holds the file's write lock
         * until it runs again (no other instance can take the lease before the SIGCONT; the
         * README says so); PostgreSQL ends such a transaction and must fail over meanwhile. */
        bool led = wait_role(other, "leader", kill9 || pg_dsn ? 8000 : 3000);
        if (!led && !kill9 && !pg_dsn) {
            kill(*pid, SIGCONT);
            sqlite_blocked++;
            fprintf(stderr, "# fault %d: instance %d was stopped holding the sqlite write lock; resumed\n", c + 1,
                    first ? 1 : 2);
            ASSERT_TRUE(wait_role(other, "leader", 8000));
            continue;
        }
        if (!led) {
            int rc;
            char *st = cli_at(other, "ha", "status", NULL, &rc);
            VC_FAIL_("fault %d: the other instance does not lead; its ha status: %s", c + 1, st ? st : "?");
            free(st);
            if (!kill9)
                kill(*pid, SIGCONT);
            break;
        }
        fo[n_fo++] = (vc_now_mono_us() - t0) / 1000;
        int64_t h = head_height();
        fprintf(stderr, "# fault %d at height %lld: %s instance %d, the other leads after %lld ms\n", c + 1,
                (long long)h, kill9 ? "kill -9 of" : "SIGSTOP of", first ? 1 : 2, (long long)fo[n_fo - 1]);
        VC_CHECK(fo[n_fo - 1] < 2000 + 1500);
        if (kill9) {
            waitpid(*pid, NULL, 0);
            *pid = 0;
            ASSERT_OK(first ? start_miner() : start_miner2());
        } else {
            int64_t left = 3000 - (vc_now_mono_us() - t0) / 1000;
            if (left > 0)
                vc_sleep_ms(left);
            kill(*pid, SIGCONT);
        }
        /* production resumed: blocks of the set within the next epochs */
        ASSERT_TRUE(wait_height(h + 6, 60));
        VC_CHECK(blocks_all(h + 1, h + 6) > 0);
    }
    ASSERT_TRUE(wait_height(start + HA_EPOCHS, 300));
    qsort(fo, (size_t)n_fo, sizeof(fo[0]), cmp_i64);
    if (n_fo)
        fprintf(stderr, "# miner failover over %d faults: median %lld ms, max %lld ms (%d SIGSTOPs held the sqlite lock)\n",
                n_fo, (long long)fo[n_fo / 2], (long long)fo[n_fo - 1], sqlite_blocked);
    ASSERT_TRUE(n_fo >= HA_FAULTS / 2); /* every kill -9 at least */
    check_one_block_per_epoch();
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    if (miner_stack_init(N_MINERS) < 0)
        return 2;
    start_auth();
    start_gateway();
    start_gateway2();
    start_wallet();
    bind_miners();
    start_devnet_external(power_pct);
    for (int i = 0; i < N_MINERS; i++)
        start_prover(i);
    init_miner(node_url, gw2_url);
    if (start_miner() < 0)
        die("venus-miner did not start");
    if (vc_test_has_flag("--ha")) {
        VC_TEST_RUN(test_prover_on_both_gateways);
        VC_TEST_RUN(test_primary_standby);
        if (miner2_pid <= 0 && start_miner2() < 0)
            die("the second venus-miner did not start");
        VC_TEST_RUN(test_fault_cycles);
    } else {
        VC_TEST_RUN(test_mining_shares_and_winner_count);
        VC_TEST_RUN(test_stop_survives_restart);
        VC_TEST_RUN(test_slash_filter_refuses_conflict);
        VC_TEST_RUN(test_missing_prover);
        VC_TEST_RUN(test_bad_input);
        VC_TEST_RUN(test_primary_standby);
    }
    stop_clean("venus-miner", &miner_pid);
    for (int i = 0; i < N_MINERS; i++)
        stop_clean("prover", &prover_pid[i]);
    if (miner2_pid > 0)
        stop_clean("venus-miner (2)", &miner2_pid);
    stop_clean("venus-gateway (2)", &gw2_pid);
    msgr_stack_stop_all();
    free(miner_admin);
    return VC_TEST_DONE();
}
