/*
 * test-miner-pool-it.c: venus-miner's chain-node pool against real processes: venus-auth,
 * venus-gateway, venus-wallet, venus-devnet (external mining, 1 s blocks, one miner t01000 with
 * all the power, so it wins nearly every epoch) and a mock prover.
 *
 * The miner gets two chain nodes fed the same chain: two TCP forwarders in front of the one
 * devnet, "fullnode" from [FullNode] (given to `init --api`) and "backup" from
 * FULLNODE_API_POOL_INFO. Cases, in order on one running stack:
 *  - the pool is seeded from both; `node-pool config` (hot) tunes it for 1 s blocks; both nodes
 *    get calls and the miner mines;
 *  - the [FullNode] node goes down: the pool disables it (list, /metrics) and blocks keep coming
 *    through "backup"; it comes back and is enabled again;
 *  - `node-pool add / policy / remove` through the CLI change the running daemon; a bad policy
 *    name and a non-admin token are refused and change nothing; a restart (with the env still
 *    naming "backup") keeps the stored settings, and mining goes on.
 * With --pg the miner's database (slash filter and pool settings) is PostgreSQL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner-stack.h"
#include "vc-test-proxy.h"
#include "vc-test.h"
#include "vc/client.h"
#include "vc/util.h"

static vc_test_proxy_t *px_main, *px_backup;
static char main_url[64], backup_url[64];

/* ------------------------------------------------------------------ helpers */

/* `venus-miner node-pool <args>`: exit code; stdout / stderr into *out / *err (malloc'ed). */
static int pool_cli(char **out, char **err, const char *a0, const char *a1, const char *a2, const char *a3,
                    const char *a4, const char *a5)
{
    const char *args[] = {"node-pool", a0, a1, a2, a3, a4, a5, NULL};
    *out = *err = NULL;
    return run_cli_err(out, err, args);
}

/* The NodePoolList object through the CLI's --json. */
static json_t *pool_list(void)
{
    char *out = NULL, *err = NULL;
    json_t *j = NULL;
    if (pool_cli(&out, &err, "list", "--json", NULL, NULL, NULL, NULL) == 0)
        j = json_loads(out ? out : "", 0, NULL);
    else
        fprintf(stderr, "  node-pool list: %s\n", err ? err : "");
    free(out);
    free(err);
    return j;
}

static json_t *node_of(json_t *list, const char *name)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(list, "Nodes"), i, n) if (vc_streq(json_string_value(json_object_get(n, "Name")),
                                                                          name)) return n;
    return NULL;
}

/* Node names in order, comma-separated. */
static void names_of(json_t *list, char out[256])
{
    size_t i, o = 0;
    json_t *n;
    out[0] = 0;
    json_array_foreach(json_object_get(list, "Nodes"), i, n) o += (size_t)snprintf(
        out + o, 256 - o, "%s%s", i ? "," : "", json_string_value(json_object_get(n, "Name")) ?: "?");
}

/* Waits until node name's Enabled is want (the pool's heartbeat decides). */
static bool wait_enabled(const char *name, bool want, int timeout_ms)
{
    for (int t = 0; t <= timeout_ms; t += 250) {
        json_t *l = pool_list();
        json_t *n = node_of(l, name);
        bool ok = n && json_is_true(json_object_get(n, "Enabled")) == want;
        json_decref(l);
        if (ok)
            return true;
        vc_sleep_ms(250);
    }
    fprintf(stderr, "  node %s never became %s\n", name, want ? "enabled" : "disabled");
    return false;
}

static int64_t version_now(void)
{
    json_t *l = pool_list();
    int64_t v = json_integer_value(json_object_get(l, "Version"));
    json_decref(l);
    return v;
}

/* t01000's blocks on chain over the next n epochs. */
static int blocks_next(int n)
{
    int blocks[MINER_STACK_MAX];
    int64_t wins[MINER_STACK_MAX];
    int64_t from = head_height() + 2;
    if (!wait_height(from + n, n * 3 + 20))
        return -1;
    count_blocks(from, from + n - 1, blocks, wins, NULL);
    return blocks[0];
}

/* ------------------------------------------------------------------ cases */

static void test_seeded_and_mining(void)
{
    json_t *l = pool_list();
    char nm[256];
    ASSERT_NOTNULL(l);
    names_of(l, nm);
    ASSERT_STREQ(nm, "fullnode,backup");
    ASSERT_EQ(json_integer_value(json_object_get(l, "Version")), 1);
    char *dump = json_dumps(l, 0);
    VC_CHECK(dump && !strstr(dump, node_token)); /* tokens are never shown */
    free(dump);
    json_decref(l);

    /* 1 s blocks: heartbeats every second and more tolerance (heads are sampled at different times) */
    char *out = NULL, *err = NULL;
    ASSERT_EQ(pool_cli(&out, &err, "config", "HeartbeatInterval", "1s", "MaxSyncBehind", "4", NULL), 0);
    VC_CHECK(out && strstr(out, "options set (settings version 2).") != NULL);
    free(out);
    free(err);
    ASSERT_EQ(pool_cli(&out, &err, "config", NULL, NULL, NULL, NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "HeartbeatInterval  1s\n") && strstr(out, "MaxSyncBehind      4\n"));
    free(out);
    free(err);

    ASSERT_TRUE(wait_enabled("fullnode", true, 15000));
    ASSERT_TRUE(wait_enabled("backup", true, 15000));
    int b = blocks_next(8);
    fprintf(stderr, "  both nodes up: %d blocks in 8 epochs\n", b);
    VC_CHECK(b >= 4);

    /* the table, and calls on both nodes (block submits go to every node) */
    ASSERT_EQ(pool_cli(&out, &err, "list", NULL, NULL, NULL, NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "NAME      URL") && strstr(out, "ENABLED  HEAD  BEHIND  PEERS  ERRORS  LAST ERROR"));
    VC_CHECK(out && strstr(out, "\nfullnode  ") && strstr(out, "\nbackup    "));
    free(out);
    free(err);
    l = pool_list();
    VC_CHECK(json_integer_value(json_object_get(node_of(l, "fullnode"), "Calls")) > 0);
    VC_CHECK(json_integer_value(json_object_get(node_of(l, "backup"), "Calls")) > 0);
    json_decref(l);
}

static void test_node_down_keeps_mining(void)
{
    vc_test_proxy_down(px_main);
    int64_t t0 = vc_now_mono_us();
    ASSERT_TRUE(wait_enabled("fullnode", false, 15000));
    fprintf(stderr, "  [FullNode] down: disabled after %.1f s\n", (double)(vc_now_mono_us() - t0) / 1e6);
    int b = blocks_next(8);
    fprintf(stderr, "  [FullNode] down: %d blocks in 8 epochs\n", b);
    VC_CHECK(b >= 4);
    json_t *l = pool_list();
    json_t *n = node_of(l, "fullnode");
    VC_CHECK(n && !json_is_true(json_object_get(n, "Enabled")));
    VC_CHECK(n && *(json_string_value(json_object_get(n, "Reason")) ?: ""));
    VC_CHECK(json_is_true(json_object_get(node_of(l, "backup"), "Enabled")));
    json_decref(l);
    char *mb = miner_metrics();
    VC_CHECK(mb && strstr(mb, "venus_miner_node_pool_node_enabled{node=\"fullnode\"} 0\n") != NULL);
    VC_CHECK(mb && strstr(mb, "venus_miner_node_pool_node_enabled{node=\"backup\"} 1\n") != NULL);
    VC_CHECK(mb && strstr(mb, "venus_miner_node_pool_node_height{node=\"backup\"} ") != NULL &&
             !strstr(mb, "venus_miner_node_pool_node_height{node=\"backup\"} 0\n"));
    free(mb);

    ASSERT_OK(vc_test_proxy_up(px_main));
    ASSERT_TRUE(wait_enabled("fullnode", true, 15000));
}

static void test_cli_changes_survive_restart(void)
{
    char *out = NULL, *err = NULL, nm[256];
    int64_t v0 = version_now();
    ASSERT_TRUE(v0 >= 2);

    /* add a node that is down: it is listed, disabled, and mining goes on */
    ASSERT_EQ(pool_cli(&out, &err, "add", "dead", "http://127.0.0.1:1", "--token", "x", NULL), 0);
    VC_CHECK(out && strstr(out, "node 'dead' added") != NULL);
    free(out);
    free(err);
    ASSERT_TRUE(wait_enabled("dead", false, 10000));

    ASSERT_EQ(pool_cli(&out, &err, "policy", "ChainHead", "OneByIndexDesc", "--timeout", "5s", NULL), 0);
    free(out);
    free(err);
    ASSERT_EQ(version_now(), v0 + 2);

    /* a bad policy name: refused with a clear message, nothing changes */
    ASSERT_EQ(pool_cli(&out, &err, "policy", "ChainHead", "Fastest", NULL, NULL, NULL), 1);
    VC_CHECK(err && strstr(err, "ERROR: unknown policy 'Fastest' (one of OneByIndexAsc") != NULL);
    free(out);
    free(err);
    ASSERT_EQ(version_now(), v0 + 2);
    ASSERT_EQ(pool_cli(&out, &err, "policy", NULL, NULL, NULL, NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "Filecoin.ChainHead  OneByIndexDesc  5s") != NULL);
    free(out);
    free(err);

    /* a write token may list but not change */
    const char *eps[] = {miner_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = mu_tok, .retries = -1};
    vc_client_t *c = NULL;
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
    ASSERT_OK(vc_client_new(&o, &c));
    VC_CHECK(vc_client_call(c, "Filecoin.NodePoolList", NULL, &res, &e) == 0);
    json_decref(res);
    res = NULL;
    VC_CHECK(vc_client_call(c, "Filecoin.NodePoolRemove", json_pack("[s]", "dead"), &res, &e) < 0);
    VC_CHECK(strstr(e.message, "missing permission") != NULL);
    vc_client_free(c);
    ASSERT_EQ(version_now(), v0 + 2);

    ASSERT_EQ(pool_cli(&out, &err, "remove", "backup", NULL, NULL, NULL, NULL), 0);
    free(out);
    free(err);
    json_t *l = pool_list();
    names_of(l, nm);
    json_decref(l);
    ASSERT_STREQ(nm, "fullnode,dead");

    /* restart (FULLNODE_API_POOL_INFO still names "backup"): the stored settings win */
    stop_clean("venus-miner", &miner_pid);
    ASSERT_OK(start_miner());
    l = pool_list();
    ASSERT_NOTNULL(l);
    names_of(l, nm);
    ASSERT_STREQ(nm, "fullnode,dead");
    ASSERT_EQ(json_integer_value(json_object_get(l, "Version")), v0 + 3);
    json_t *ch = json_object_get(json_object_get(json_object_get(l, "Settings"), "Methods"), "Filecoin.ChainHead");
    VC_CHECK(vc_streq(json_string_value(json_object_get(ch, "Policy")), "OneByIndexDesc"));
    VC_CHECK(vc_streq(json_string_value(json_object_get(ch, "Timeout")), "5s"));
    VC_CHECK(json_integer_value(json_object_get(json_object_get(l, "Settings"), "MaxSyncBehind")) == 4);
    json_decref(l);
    ASSERT_TRUE(wait_enabled("fullnode", true, 15000));
    int b = blocks_next(6);
    fprintf(stderr, "  after the restart: %d blocks in 6 epochs\n", b);
    VC_CHECK(b >= 3);

    /* the last node cannot go */
    ASSERT_EQ(pool_cli(&out, &err, "remove", "dead", NULL, NULL, NULL, NULL), 0);
    free(out);
    free(err);
    ASSERT_EQ(pool_cli(&out, &err, "remove", "fullnode", NULL, NULL, NULL, NULL), 1);
    VC_CHECK(err && strstr(err, "last node") != NULL);
    free(out);
    free(err);
    ASSERT_EQ(pool_cli(&out, &err, "--help", NULL, NULL, NULL, NULL, NULL), 0);
    VC_CHECK(out && strstr(out, "list") && strstr(out, "policy") && strstr(out, "config"));
    free(out);
    free(err);
}

int main(int argc, char **argv)
{
    static const int power[] = {100};
    VC_TEST_INIT(argc, argv);
    if (miner_stack_init(1) < 0)
        return 2;
    start_auth();
    start_gateway();
    start_wallet();
    bind_miners();
    start_devnet_external(power);
    start_prover(0);
    if (!(px_main = vc_test_proxy_start(node_url)) || !(px_backup = vc_test_proxy_start(node_url)))
        die("TCP forwarders");
    snprintf(main_url, sizeof(main_url), "http://127.0.0.1:%u", vc_test_proxy_port(px_main));
    snprintf(backup_url, sizeof(backup_url), "http://127.0.0.1:%u", vc_test_proxy_port(px_backup));
    init_miner(main_url, NULL);
    char env[1024];
    snprintf(env, sizeof(env), "%s:%s:backup", node_token, backup_url);
    setenv("FULLNODE_API_POOL_INFO", env, 1);
    if (start_miner() < 0)
        die("venus-miner did not start");
    VC_TEST_RUN(test_seeded_and_mining);
    VC_TEST_RUN(test_node_down_keeps_mining);
    VC_TEST_RUN(test_cli_changes_survive_restart);
    stop_clean("venus-miner", &miner_pid);
    stop_clean("prover", &prover_pid[0]);
    msgr_stack_stop_all();
    vc_test_proxy_free(px_main);
    vc_test_proxy_free(px_backup);
    free(miner_admin);
    return VC_TEST_DONE();
}
