/*
 * test-nodepool-cli.c: the `node-pool` commands end to end in one process: the CLI's requests go
 * straight to vc_nodepool_store_rpc of a real store (sqlite) instead of over HTTP; plus the list
 * table from a made-up status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/nodepool-cli.h"
#include "vc/nodepool-store.h"
#include "vc/util.h"

static vc_nodepool_store_t *store;

/* The daemon side: the store's RPC; errors printed as the daemons' CLIs do. */
static int call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    char *err = NULL, full[64];
    snprintf(full, sizeof(full), "Filecoin.%s", method);
    int r = vc_nodepool_store_rpc(store, full, params, ret, &err);
    json_decref(params);
    int rc = r < 0 ? vc_cli_errorf(ctx, "%s", err ? err : vc_strerror(r)) : 0;
    free(err);
    return rc;
}

static int cmd_node_pool(vc_cli_ctx_t *ctx)
{
    return vc_nodepool_cli_run(ctx, call);
}

static const vc_cli_cmd_t node_pool_cmds[] = VC_NODEPOOL_CLI_CMDS(cmd_node_pool);
static const vc_cli_cmd_t cmds[] = {
    {.name = "node-pool", .usage = VC_NODEPOOL_CLI_USAGE, .subcommands = node_pool_cmds},
    {0},
};
static const vc_cli_cmd_t root = {.name = "venus-test", .subcommands = cmds};

/* Runs `venus-test node-pool <args...>` (NULL-terminated); *out / *err malloc'ed. */
static int run_v(char **out, char **err, va_list ap)
{
    char *argv[16] = {"venus-test", "node-pool"};
    int argc = 2;
    for (char *a; argc < 15 && (a = va_arg(ap, char *));)
        argv[argc++] = a;
    size_t ol = 0, el = 0;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = vc_cli_run(&root, argc, argv, NULL, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

static bool has(const char *s, const char *needle)
{
    if (!needle || (s && strstr(s, needle)))
        return true;
    fprintf(stderr, "  '%s' not in:\n%s\n", needle, s ? s : "(null)");
    return false;
}

/* Runs the command (args NULL-terminated): true when it exits with rc, its stdout contains
 * want_out and its stderr want_err (NULL: anything). */
static bool expect(int rc, const char *want_out, const char *want_err, ...)
{
    char *out = NULL, *err = NULL;
    va_list ap;
    va_start(ap, want_err);
    int got = run_v(&out, &err, ap);
    va_end(ap);
    bool ok = got == rc && has(out, want_out) && has(err, want_err);
    if (got != rc)
        fprintf(stderr, "  exit %d, want %d: %s%s\n", got, rc, out ? out : "", err ? err : "");
    free(out);
    free(err);
    return ok;
}

static void test_commands(void)
{
    vc_db_t *db = NULL;
    vc_nodepool_t *pool = NULL;
    char *err = NULL;
    ASSERT_OK(vc_db_open(vc_test_db_fresh_dsn(false), NULL, &db, &err));
    ASSERT_OK(vc_nodepool_new(NULL, &pool));
    vc_nodepool_node_conf_t seed = {.name = "fullnode", .url = "http://127.0.0.1:1", .token = "tok"};
    vc_nodepool_store_opts_t o = {.service = "test", .seeds = &seed, .n_seeds = 1, .follow_ms = -1};
    ASSERT_OK(vc_nodepool_store_new(db, pool, &o, &store, &err));

    VC_CHECK(expect(0, "settings version 1, best height unknown, head subscription: none\n", NULL, "list", NULL));
    VC_CHECK(expect(0, "NAME      URL                 ENABLED  HEAD  BEHIND  PEERS  ERRORS  LAST ERROR\n"
                       "fullnode  http://127.0.0.1:1  no       -     -       -      ",
                    NULL, "list", NULL));
    VC_CHECK(expect(0, "node 'n2' added (settings version 2).\n", NULL, "add", "n2", "/ip4/127.0.0.1/tcp/2",
                    "--token", "t2", NULL));
    VC_CHECK(expect(1, NULL, "ERROR: a node named 'n2' exists already (node-pool set changes it)\n", "add", "n2",
                    "/ip4/127.0.0.1/tcp/3", NULL));
    VC_CHECK(expect(0, "node 'n2' updated (settings version 3).\n", NULL, "set", "n2", "--url",
                    "http://127.0.0.1:3", NULL));

    /* a bad policy name: refused, nothing changes */
    VC_CHECK(expect(1, NULL, "ERROR: unknown policy 'Fastest' (one of OneByIndexAsc, ", "policy", "ChainHead",
                    "Fastest", NULL));
    VC_CHECK(vc_nodepool_store_version(store) == 3);
    VC_CHECK(expect(0, "policy of ChainHead set to OneByIndexDesc (settings version 4).\n", NULL, "policy",
                    "ChainHead", "OneByIndexDesc", "--timeout", "5s", "--no-hang", NULL));
    VC_CHECK(expect(0,
                    "METHOD              POLICY          TIMEOUT  NOHANG\n"
                    "default             OneBySeedRound  0s       false\n"
                    "Filecoin.ChainHead  OneByIndexDesc  5s       true\n",
                    NULL, "policy", NULL));
    VC_CHECK(expect(1, NULL, "ERROR: give the policy for ChainHead (see --help), or --reset\n", "policy",
                    "ChainHead", NULL));
    VC_CHECK(expect(0, "policy of ChainHead reset (settings version 5).\n", NULL, "policy", "ChainHead", "--reset",
                    NULL));

    VC_CHECK(expect(0, "options set (settings version 6).\n", NULL, "config", "MaxSyncBehind", "4",
                    "HeartbeatInterval", "2s", NULL));
    VC_CHECK(expect(0, "OPTION             VALUE\nHeartbeatInterval  2s\n", NULL, "config", NULL));
    VC_CHECK(expect(0, "MaxSyncBehind      4\n", NULL, "config", NULL));
    VC_CHECK(expect(1, NULL, "ERROR: give <option> <value> pairs (e.g. MaxSyncBehind 3)\n", "config",
                    "MaxSyncBehind", NULL));
    VC_CHECK(expect(1, NULL, "ERROR: MaxSyncBehind: expected a non-negative integer\n", "config", "--",
                    "MaxSyncBehind", "-1", NULL));

    VC_CHECK(expect(0, "node 'fullnode' removed (settings version 7).\n", NULL, "remove", "fullnode", NULL));
    VC_CHECK(expect(1, NULL, "ERROR: 'n2' is the last node of the pool: add another one first\n", "rm", "n2", NULL));
    VC_CHECK(expect(0, "\"Version\": 7", NULL, "list", "--json", NULL));
    VC_CHECK(expect(0, "\"URL\": \"http://127.0.0.1:3\"", NULL, "list", "--json", NULL));
    VC_CHECK(expect(0, "AllWithFirstSucceed", NULL, "policy", "--help", NULL));
    VC_CHECK(expect(0, "--no-hang", NULL, "policy", "--help", NULL));
    json_t *l = NULL;
    ASSERT_OK(vc_nodepool_store_list(store, &l));
    char *dump = json_dumps(l, 0);
    VC_CHECK(dump && !strstr(dump, "\"t2\"") && !strstr(dump, "\"tok\"")); /* no token */
    free(dump);
    json_decref(l);

    store = vc_nodepool_store_free(store);
    vc_nodepool_free(pool);
    vc_db_free(db);
    free(err);
}

static void test_list_table(void)
{
    json_t *list = json_loads(
        "{\"Version\": 9, \"BestHeight\": 120, \"HeadNode\": \"a\", \"Nodes\": ["
        "{\"Name\": \"a\", \"URL\": \"http://10.0.0.1:1234/rpc/v1\", \"Enabled\": true, \"Reason\": \"\","
        " \"Height\": 120, \"Peers\": 7, \"Errors\": 0, \"LastHeartbeat\": 1, \"HeartbeatError\": \"\"},"
        "{\"Name\": \"lagging\", \"URL\": \"http://10.0.0.2:1234/rpc/v1\", \"Enabled\": false,"
        " \"Reason\": \"head 110 is 10 behind 120\", \"Height\": 110, \"Peers\": -1, \"Errors\": 2,"
        " \"LastHeartbeat\": 1, \"HeartbeatError\": \"\"},"
        "{\"Name\": \"down\", \"URL\": \"http://10.0.0.3:1234/rpc/v1\", \"Enabled\": false, \"Reason\": \"x\","
        " \"Height\": 0, \"Peers\": -1, \"Errors\": 5, \"LastHeartbeat\": 0,"
        " \"HeartbeatError\": \"ChainHead: connection refused\"}]}",
        0, NULL);
    ASSERT_NOTNULL(list);
    vc_buf_t b = {0};
    ASSERT_OK(vc_nodepool_cli_format_list(list, &b));
    json_decref(list);
    ASSERT_STREQ(b.data, "settings version 9, best height 120, head subscription: a\n"
                         "NAME     URL                          ENABLED  HEAD  BEHIND  PEERS  ERRORS  LAST ERROR\n"
                         "a        http://10.0.0.1:1234/rpc/v1  yes      120   0       7      0       \n"
                         "lagging  http://10.0.0.2:1234/rpc/v1  no       110   10      -      2       head 110 is 10 "
                         "behind 120\n"
                         "down     http://10.0.0.3:1234/rpc/v1  no       -     -       -      5       ChainHead: "
                         "connection refused\n");
    vc_buf_done(&b);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    unsetenv(VC_NODEPOOL_ENV);
    VC_TEST_RUN(test_commands);
    VC_TEST_RUN(test_list_table);
    return VC_TEST_DONE();
}
