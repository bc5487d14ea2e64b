/*
 * test-msgr-pool: venus-messager's chain-node pool against real venus-devnet processes: the
 * messager starts on one devnet ("node"); `node-pool add` puts a second devnet of the same
 * genesis in the pool ("lagger"); its block production is paused until it is more than
 * MaxSyncBehind epochs behind (the pool disables it, the messager keeps answering and its
 * selected head keeps moving), then it catches up at a faster block time (enabled again).
 * A pool that is seeded once ignores [node] on a restart (the stored row wins).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msgr-stack.h"
#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/util.h"

static char lag_url[128];
static char *lag_token;
static pid_t lag_pid;

static int64_t height_at(const char *url, const char *token)
{
    json_t *h = NULL;
    int64_t v = -1;
    if (dcall_at(url, token, "Filecoin.ChainHead", NULL, &h) == 0)
        v = json_integer_value(json_object_get(h, "Height"));
    json_decref(h);
    return v;
}

static int devnet_rpc(const char *method, json_t *params)
{
    return dcall_at(lag_url, lag_token, method, params, NULL);
}

static void test_lagging_node(void)
{
    char *out = NULL;
    ASSERT_EQ(msgr_pool_cli("messager", &out, "config", "HeartbeatInterval", "300ms", "MaxSyncBehind", "8", NULL), 0);
    free(out);
    ASSERT_EQ(msgr_pool_cli("messager", &out, "add", "lagger", lag_url, "--token", lag_token, NULL), 0);
    free(out);
    /* the copy started a little later: let it catch up first */
    ASSERT_OK(devnet_rpc("Filecoin.DevnetSetBlockTime", json_pack("[i]", 50)));
    for (int t = 0; t < 200 && height_at(lag_url, lag_token) < height_at(node_url, node_token); t++)
        vc_sleep_ms(50);
    ASSERT_OK(devnet_rpc("Filecoin.DevnetSetBlockTime", json_pack("[i]", 200)));
    ASSERT_TRUE(msgr_pool_wait("messager", "lagger", true, 15000));

    /* it stops producing: more than 8 epochs behind the best head -> disabled */
    ASSERT_OK(devnet_rpc("Filecoin.DevnetPause", json_pack("[b]", 1)));
    ASSERT_TRUE(msgr_pool_wait("messager", "lagger", false, 15000));
    json_t *l = NULL, *n = msgr_pool_node("messager", "lagger", &l);
    ASSERT_TRUE(n != NULL);
    char *dump = json_dumps(n, JSON_COMPACT);
    fprintf(stderr, "# lagger disabled: %s\n", dump ? dump : "");
    free(dump);
    json_decref(l);
    ASSERT_TRUE(msgr_pool_wait("messager", "node", true, 5000));
    /* the messager keeps following the chain through the healthy node */
    json_t *v = NULL;
    ASSERT_OK(mcall(msgr_admin, "Version", NULL, &v, NULL));
    json_decref(v);

    /* it catches up (fast blocks, then the normal pace again): enabled again */
    ASSERT_OK(devnet_rpc("Filecoin.DevnetSetBlockTime", json_pack("[i]", 20)));
    ASSERT_OK(devnet_rpc("Filecoin.DevnetPause", json_pack("[b]", 0)));
    for (int t = 0; t < 400 && height_at(lag_url, lag_token) < height_at(node_url, node_token); t++)
        vc_sleep_ms(25);
    ASSERT_OK(devnet_rpc("Filecoin.DevnetSetBlockTime", json_pack("[i]", 200)));
    ASSERT_TRUE(msgr_pool_wait("messager", "lagger", true, 15000));
    ASSERT_TRUE(msgr_pool_wait("messager", "node", true, 15000));
}

/* A restart with another --node-url keeps the stored pool (both nodes with their URLs, the
 * tuned options); a bad request changes nothing. */
static void test_stored_pool_wins(void)
{
    stop_clean("venus-messager", &msgr_pid);
    daemon_node_url = "http://127.0.0.1:9";
    ASSERT_OK(start_messager());
    daemon_node_url = NULL;
    json_t *l = NULL;
    ASSERT_TRUE(msgr_pool_node("messager", "lagger", &l) != NULL);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(l, "Settings"), "MaxSyncBehind")), 8);
    json_decref(l);
    json_t *n = msgr_pool_node("messager", "node", &l);
    ASSERT_TRUE(n && strstr(json_string_value(json_object_get(n, "URL")) ?: "", node_url + strlen("http://")));
    json_decref(l);
    ASSERT_TRUE(msgr_pool_wait("messager", "node", true, 15000));
    char *out = NULL;
    ASSERT_EQ(msgr_pool_cli("messager", &out, "remove", "nosuchnode", NULL, NULL, NULL, NULL), 1);
    free(out);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    signal(SIGPIPE, SIG_IGN);
    if (msgr_stack_bins() < 0)
        return 2;
    make_keys(1);
    start_auth();
    start_gateway();
    start_wallet();
    start_devnet();
    start_devnet_copy("lagger", lag_url, &lag_token, &lag_pid);
    if (start_messager() < 0)
        die("venus-messager did not start");
    VC_TEST_RUN(test_lagging_node);
    VC_TEST_RUN(test_stored_pool_wins);
    stop_clean("venus-devnet (lagger)", &lag_pid);
    free(lag_token);
    msgr_stack_stop_all();
    return VC_TEST_DONE();
}
