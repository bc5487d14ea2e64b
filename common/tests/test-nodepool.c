/*
 * test-nodepool.c: the chain-node pool against tiny in-test JSON-RPC nodes (for what a devnet
 * cannot show: peer counts, sync targets, slow and failing answers) and against two real
 * venus-devnet processes from one genesis (lag, "tipset not found", a killed node, head
 * subscription failover). VENUS_DEVNET_BIN comes from common/tests/nodepool.cmake.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/http.h"
#include "vc/nodepool.h"
#include "vc/rpc.h"
#include "vc/util.h"

/* ------------------------------------------------------------------ in-test nodes */

typedef struct fake {
    char name[32];
    char url[80];
    vc_http_server_t *http;
    vc_rpc_server_t *rpc;
    _Atomic long height, target;
    _Atomic int peers, block_peers, msg_peers;
    _Atomic int block_nf, actor_nf, sleep_ms;
    _Atomic int calls; /* every method but the heartbeat ones */
} fake_t;

static fake_t *fake_of(vc_rpc_call_t *call)
{
    return vc_rpc_call_userdata(call);
}

static int f_chain_head(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_pack("{s:[], s:[], s:I}", "Cids", "Blocks", "Height", (json_int_t)fake_of(call)->height);
    return *ret ? 0 : -ENOMEM;
}

static int f_sync_state(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    fake_t *f = fake_of(call);
    *ret = json_pack("{s:[{s:{s:I}, s:i}], s:i}", "ActiveSyncs", "Target", "Height",
                     (json_int_t)(f->target ? f->target : f->height), "Stage", 4, "VMApplied", 0);
    return *ret ? 0 : -ENOMEM;
}

static int f_net_peers(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_array();
    for (int i = 0; *ret && i < fake_of(call)->peers; i++)
        json_array_append_new(*ret, json_pack("{s:s, s:[]}", "ID", "12D3KooWpeer", "Addrs"));
    return *ret ? 0 : -ENOMEM;
}

/* Peer i is in /fil/blocks/ when i < block_peers and in /fil/msgs/ when i < msg_peers. */
static int f_pubsub_scores(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    fake_t *f = fake_of(call);
    *ret = json_array();
    for (int i = 0; *ret && i < VC_MAX(f->block_peers, f->msg_peers); i++) {
        json_t *topics = json_object();
        if (i < f->block_peers)
            json_object_set_new(topics, "/fil/blocks/devnet", json_object());
        if (i < f->msg_peers)
            json_object_set_new(topics, "/fil/msgs/devnet", json_object());
        json_array_append_new(*ret, json_pack("{s:s, s:{s:f, s:o}}", "ID", "12D3KooWpeer", "Score", "Score",
                                              1.0, "Topics", topics));
    }
    return *ret ? 0 : -ENOMEM;
}

static int answer_name(vc_rpc_call_t *call, json_t **ret)
{
    fake_t *f = fake_of(call);
    f->calls++;
    *ret = json_string(f->name);
    return *ret ? 0 : -ENOMEM;
}

static int f_who(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return answer_name(call, ret);
}

static int f_get_tipset(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    if (fake_of(call)->block_nf) {
        fake_of(call)->calls++;
        return vc_rpc_error(call, 1, "load tipset: blockstore: block not found");
    }
    return answer_name(call, ret);
}

static int f_get_actor(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    if (fake_of(call)->actor_nf) {
        fake_of(call)->calls++;
        return vc_rpc_error(call, 1, "resolution lookup failed: actor not found");
    }
    return answer_name(call, ret);
}

static int f_not_found(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    fake_of(call)->calls++;
    return vc_rpc_error(call, 1, "block not found");
}

static int f_fail(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    fake_of(call)->calls++;
    return vc_rpc_error(call, 1, "boom");
}

static int f_sleep(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_sleep_ms(fake_of(call)->sleep_ms);
    return answer_name(call, ret);
}

/* A node with sleep_ms set sleeps, then answers; one without refuses at once. */
static int f_slow_or_fail(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    if (fake_of(call)->sleep_ms)
        return f_sleep(call, params, ret);
    return f_fail(call, params, ret);
}

static const vc_rpc_method_t fake_methods[] = {
    {"Filecoin.ChainHead", 0, 0, f_chain_head, VC_RPC_FAST},
    {"Filecoin.SyncState", 0, 0, f_sync_state, VC_RPC_FAST},
    {"Filecoin.NetPeers", 0, 0, f_net_peers, VC_RPC_FAST},
    {"Filecoin.NetPubsubScores", 0, 0, f_pubsub_scores, VC_RPC_FAST},
    {"Filecoin.ChainGetTipSet", 0, 1, f_get_tipset, VC_RPC_FAST},
    {"Filecoin.StateGetActor", 0, 2, f_get_actor, VC_RPC_FAST},
    {"Test.Who", 0, 0, f_who, VC_RPC_FAST},
    {"Test.Seed", 0, 0, f_who, VC_RPC_FAST}, /* the same answer under other names, so each name */
    {"Test.All", 0, 0, f_who, VC_RPC_FAST},  /* can have a policy of its own */
    {"Test.NotFound", 0, 1, f_not_found, VC_RPC_FAST},
    {"Test.Fail", 0, 0, f_fail, VC_RPC_FAST},
    {"Test.Sleep", 0, 0, f_sleep, 0},
    {"Test.SlowOrFail", 0, 0, f_slow_or_fail, 0},
    {"Test.SlowOrFail2", 0, 0, f_slow_or_fail, 0},
};

static fake_t *fake_start(const char *name, long height)
{
    fake_t *f = calloc(1, sizeof(*f));
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = 2};
    vc_rpc_opts_t ro = {.userdata = f, .permissive = true, .min_workers = 2};
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->height = height;
    f->peers = 3;
    if (vc_http_server_new(&ho, &f->http) < 0 || vc_rpc_server_new(&ro, &f->rpc) < 0 ||
        vc_rpc_register(f->rpc, fake_methods, VC_ELEMENTSOF(fake_methods)) < 0 ||
        vc_rpc_mount(f->rpc, f->http, "/rpc/v1", NULL) < 0 || vc_http_start(f->http) < 0) {
        fprintf(stderr, "fake node %s did not start\n", name);
        exit(2);
    }
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/rpc/v1", vc_http_port(f->http));
    return f;
}

/* Stops serving (the port then refuses: a dead node); fake_free releases it. */
static void fake_stop(fake_t *f)
{
    if (f->http) {
        vc_http_stop(f->http);
        f->http = vc_http_server_free(f->http);
        f->rpc = vc_rpc_server_free(f->rpc);
    }
}

static void fake_free(fake_t *f)
{
    if (f) {
        fake_stop(f);
        free(f);
    }
}

/* ------------------------------------------------------------------ pool helpers */

static vc_nodepool_t *pool_new(void)
{
    vc_nodepool_opts_t o;
    vc_nodepool_t *p = NULL;
    vc_nodepool_opts_init(&o);
    o.heartbeat_ms = 100;
    o.heartbeat_timeout_ms = 1000;
    o.call_timeout_ms = 3000;
    if (vc_nodepool_new(&o, &p) < 0)
        exit(2);
    return p;
}

static int add_node(vc_nodepool_t *p, const char *name, const char *url, const char *token)
{
    vc_nodepool_node_conf_t c = {.name = (char *)name, .url = (char *)url, .token = (char *)token};
    return vc_nodepool_add(p, &c);
}

static void set_policy(vc_nodepool_t *p, const char *method, vc_nodepool_policy_t pol, int timeout_ms,
                       bool no_hang)
{
    vc_nodepool_method_t m = {.policy = pol, .timeout_ms = timeout_ms, .no_hang = no_hang};
    if (vc_nodepool_set_method(p, method, &m) < 0)
        exit(2);
}

/* A copy of one node's status object (NULL when absent). */
static json_t *node_status(vc_nodepool_t *p, const char *name)
{
    json_t *st = NULL, *n, *found = NULL;
    size_t i;
    if (vc_nodepool_status(p, &st) < 0)
        return NULL;
    json_array_foreach(json_object_get(st, "Nodes"), i, n) {
        if (vc_streq(json_string_value(json_object_get(n, "Name")), name))
            found = json_incref(n);
    }
    json_decref(st);
    return found;
}

static long long node_int(vc_nodepool_t *p, const char *name, const char *key)
{
    json_t *n = node_status(p, name);
    long long v = n ? (long long)json_integer_value(json_object_get(n, key)) : -999;
    json_decref(n);
    return v;
}

/* Waits until the node's Enabled flag is want (and, if reason is set, its Reason contains it). */
static bool wait_enabled(vc_nodepool_t *p, const char *name, bool want, const char *reason, int timeout_ms)
{
    int64_t end = vc_now_mono_us() + (int64_t)timeout_ms * 1000;
    do {
        json_t *n = node_status(p, name);
        const char *why = json_string_value(json_object_get(n, "Reason"));
        bool ok = n && json_is_true(json_object_get(n, "Enabled")) == want &&
                  (!reason || (why && strstr(why, reason)));
        json_decref(n);
        if (ok)
            return true;
        vc_sleep_ms(20);
    } while (vc_now_mono_us() < end);
    json_t *n = node_status(p, name);
    char *d = n ? json_dumps(n, JSON_COMPACT) : NULL;
    fprintf(stderr, "node %s never became %s (%s): %s\n", name, want ? "enabled" : "disabled",
            reason ? reason : "", d ? d : "absent");
    free(d);
    json_decref(n);
    return false;
}

/* Calls method and returns who answered (the fake's name, malloc'ed) or NULL; *ret_r the code. */
static char *call_who(vc_nodepool_t *p, const char *method, json_t *params, const char *seed, int *ret_r)
{
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    char *node = NULL;
    int r = vc_nodepool_call_ex(p, method, params, seed, &node, &res, &err);
    if (ret_r)
        *ret_r = r;
    char *who = r == 0 && json_is_string(res) ? strdup(json_string_value(res)) : NULL;
    if (who && (!node || strcmp(node, who) != 0)) { /* the pool must name the node that answered */
        VC_FAIL_("answer from %s but ret_node %s", who, node ? node : "(null)");
        free(who);
        who = NULL;
    }
    free(node);
    json_decref(res);
    return who;
}

static bool who_is(vc_nodepool_t *p, const char *method, const char *seed, const char *want)
{
    char *who = call_who(p, method, NULL, seed, NULL);
    bool ok = who && strcmp(who, want) == 0;
    if (!ok)
        fprintf(stderr, "%s: expected %s, got %s\n", method, want, who ? who : "(error)");
    free(who);
    return ok;
}

/* ------------------------------------------------------------------ FULLNODE_API_POOL_INFO */

static void test_parse_info(void)
{
    vc_nodepool_node_conf_t *n = NULL;
    size_t cnt = 0;
    char *err = NULL;
    ASSERT_OK(vc_nodepool_parse_info("tok1:/ip4/127.0.0.1/tcp/1234:main, tok2:/ip4/127.0.0.1/tcp/1235 ,"
                                     ":http://127.0.0.1:1236,t4:http://127.0.0.1:1237/rpc/v0:b-4",
                                     &n, &cnt, &err));
    ASSERT_EQ(cnt, 4);
    ASSERT_STREQ(n[0].name, "main");
    ASSERT_STREQ(n[0].token, "tok1");
    ASSERT_STREQ(n[0].url, "/ip4/127.0.0.1/tcp/1234");
    ASSERT_STREQ(n[1].name, "node2");
    ASSERT_STREQ(n[1].url, "/ip4/127.0.0.1/tcp/1235");
    ASSERT_STREQ(n[2].name, "node3"); /* ":1236" is the port, not a name */
    ASSERT_STREQ(n[2].token, "");
    ASSERT_STREQ(n[2].url, "http://127.0.0.1:1236");
    ASSERT_STREQ(n[3].name, "b-4");
    ASSERT_STREQ(n[3].url, "http://127.0.0.1:1237/rpc/v0");
    vc_nodepool_node_confs_free(n, cnt);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "empty node list"},
        {"a:/ip4/127.0.0.1/tcp/1,,b:/ip4/127.0.0.1/tcp/2", "entry 2: empty"},
        {"no-colon-here", "entry 1: expected token:address[:name]"},
        {"secret:", "entry 1: missing address"},
        {"a:/ip4/127.0.0.1/tcp/1, secret:/ip4/127.0.0.1/tcp", "entry 2: bad address '/ip4/127.0.0.1/tcp'"},
        {"secret:garbage://x", "entry 1: bad address 'garbage://x'"},
        {"a:/ip4/127.0.0.1/tcp/1:x,b:/ip4/127.0.0.1/tcp/2:x", "entry 2: duplicate name 'x'"},
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++) {
        n = NULL;
        ASSERT_EQ(vc_nodepool_parse_info(bad[i].in, &n, &cnt, &err), -EINVAL);
        ASSERT_TRUE(n == NULL);
        ASSERT_STREQ(err, bad[i].msg);
        ASSERT_TRUE(strstr(err, "secret") == NULL); /* tokens never reach messages */
    }
    free(err);
}

static void test_env(void)
{
    fake_t *a = fake_start("a", 10), *b = fake_start("b", 10);
    vc_nodepool_t *p = pool_new();
    char env[256], *err = NULL;
    snprintf(env, sizeof(env), "tok:%s:a,tok:%s", a->url, b->url);
    setenv(VC_NODEPOOL_ENV, env, 1);
    ASSERT_EQ(vc_nodepool_add_from_env(p, &err), 2);
    ASSERT_OK(vc_nodepool_wait_ready(p, 5000));
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "node2", true, NULL, 5000));
    /* the same names again: refused as a whole, with a clear message */
    ASSERT_EQ(vc_nodepool_add_from_env(p, &err), -EINVAL);
    ASSERT_STREQ(err, "node 'a': name in use");
    setenv(VC_NODEPOOL_ENV, "tok:/ip4/127.0.0.1/tcp/1:z,bad", 1);
    ASSERT_EQ(vc_nodepool_add_from_env(p, &err), -EINVAL);
    ASSERT_STREQ(err, "entry 2: expected token:address[:name]");
    ASSERT_EQ(node_int(p, "z", "Height"), -999);
    unsetenv(VC_NODEPOOL_ENV);
    ASSERT_EQ(vc_nodepool_add_from_env(p, &err), 0);
    free(err);
    vc_nodepool_free(p);
    fake_free(a);
    fake_free(b);
}

/* ------------------------------------------------------------------ settings */

static void test_settings(void)
{
    vc_nodepool_t *p = pool_new();
    vc_nodepool_method_t m;
    vc_nodepool_policy_t pol;
    char *err = NULL;
    json_t *s = NULL, *s2 = NULL;

    for (int i = 0; i < VC_NODEPOOL_POLICY_MAX; i++) {
        ASSERT_OK(
            vc_nodepool_policy_from_string(vc_nodepool_policy_to_string((vc_nodepool_policy_t)i), &pol));
        ASSERT_EQ(pol, i);
    }
    ASSERT_OK(vc_nodepool_policy_from_string("onebyseedround", &pol));
    ASSERT_EQ(vc_nodepool_policy_from_string("Fastest", &pol), -EINVAL);

    vc_nodepool_get_method(p, "Filecoin.ChainHead", &m);
    ASSERT_EQ(m.policy, VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC);
    vc_nodepool_get_method(p, "Filecoin.SyncSubmitBlock", &m);
    ASSERT_EQ(m.policy, VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED);
    vc_nodepool_get_method(p, "Filecoin.MpoolPush", &m);
    ASSERT_EQ(m.policy, VC_NODEPOOL_ONE_BY_SEED_ROUND);
    set_policy(p, "Filecoin.ChainHead", VC_NODEPOOL_ONE_BY_INDEX_DESC, 1500, true);
    vc_nodepool_get_method(p, "Filecoin.ChainHead", &m);
    ASSERT_EQ(m.policy, VC_NODEPOOL_ONE_BY_INDEX_DESC);
    ASSERT_EQ(m.timeout_ms, 1500);
    ASSERT_TRUE(m.no_hang);
    ASSERT_OK(vc_nodepool_set_method(p, "Filecoin.ChainHead", NULL));
    vc_nodepool_get_method(p, "Filecoin.ChainHead", &m);
    ASSERT_EQ(m.policy, VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC);
    m.policy = VC_NODEPOOL_POLICY_MAX;
    ASSERT_EQ(vc_nodepool_set_method(p, "X", &m), -EINVAL);

    const char *text =
        "{\"Nodes\": [{\"Name\": \"n1\", \"URL\": \"/ip4/127.0.0.1/tcp/1\", \"Token\": \"s3cr3t-tok\"},"
        "           {\"Name\": \"n2\", \"URL\": \"http://127.0.0.1:2\"}],"
        " \"HeartbeatInterval\": \"1s\", \"MaxSyncBehind\": 5, \"MinBlockPeers\": 2,"
        " \"CallTimeout\": \"1m30s\", \"MaxSeeds\": 10,"
        " \"DefaultMethod\": {\"Policy\": \"OneByIndexAsc\"},"
        " \"Methods\": {\"Filecoin.MpoolPush\": {\"Policy\": \"OneBySeedRound\", \"Timeout\": \"250ms\","
        " \"NoHang\": true}}}";
    json_t *in = json_loads(text, 0, NULL);
    ASSERT_NOTNULL(in);
    ASSERT_OK(vc_nodepool_apply_settings(p, in, &err));
    json_decref(in);
    vc_nodepool_opts_t o;
    vc_nodepool_get_opts(p, &o);
    ASSERT_EQ(o.heartbeat_ms, 1000);
    ASSERT_EQ(o.heartbeat_timeout_ms, 3000); /* absent: the default */
    ASSERT_EQ(o.max_sync_behind, 5);
    ASSERT_EQ(o.min_block_peers, 2);
    ASSERT_EQ(o.call_timeout_ms, 90000);
    ASSERT_EQ(o.max_seeds, 10);
    ASSERT_EQ(o.default_method.policy, VC_NODEPOOL_ONE_BY_INDEX_ASC);
    vc_nodepool_get_method(p, "Filecoin.MpoolPush", &m);
    ASSERT_EQ(m.timeout_ms, 250);
    ASSERT_TRUE(m.no_hang);
    vc_nodepool_get_method(p, "Filecoin.Other", &m);
    ASSERT_EQ(m.policy, VC_NODEPOOL_ONE_BY_INDEX_ASC);

    /* display copy without tokens, stored copy with; the stored copy round-trips */
    ASSERT_OK(vc_nodepool_settings_json(p, false, &s));
    ASSERT_TRUE(json_object_get(json_array_get(json_object_get(s, "Nodes"), 0), "Token") == NULL);
    json_decref(s);
    ASSERT_OK(vc_nodepool_settings_json(p, true, &s));
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(s, "Nodes"), 0), "Token")),
                 "s3cr3t-tok");
    ASSERT_STREQ(json_string_value(json_object_get(s, "CallTimeout")), "90s");
    ASSERT_OK(vc_nodepool_check_settings(s, &err));
    ASSERT_OK(vc_nodepool_apply_settings(p, s, &err));
    ASSERT_OK(vc_nodepool_settings_json(p, true, &s2));
    ASSERT_TRUE(json_equal(s, s2));
    json_decref(s2);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"{\"Methods\": {\"Filecoin.ChainHead\": {\"Policy\": \"Fastest\"}}}",
         "Methods.Filecoin.ChainHead.Policy: unknown policy 'Fastest'"},
        {"{\"HeartbeatInterval\": 5}", "HeartbeatInterval: expected a duration such as \"5s\" or \"500ms\""},
        {"{\"HeartbeatInterval\": \"1ms\"}", "HeartbeatInterval: out of range"},
        {"{\"MaxCallErrors\": 0}", "MaxCallErrors: out of range"},
        {"{\"MaxSyncBehind\": -1}", "MaxSyncBehind: expected a non-negative integer"},
        {"{\"Bogus\": 1}", "unknown key 'Bogus'"},
        {"{\"Nodes\": [{\"Name\": \"123\", \"URL\": \"/ip4/127.0.0.1/tcp/1\"}]}",
         "Nodes[0].Name: expected 1..64 of [A-Za-z0-9._-], not all digits"},
        {"{\"Nodes\": [{\"Name\": \"a\", \"URL\": \"nowhere\"}]}",
         "Nodes[0].URL: expected a URL, host:port or multiaddr"},
        {"{\"Nodes\": [{\"Name\": \"a\", \"URL\": \"/ip4/127.0.0.1/tcp/1\"}, {\"Name\": \"a\", \"URL\": "
         "\"/ip4/127.0.0.1/tcp/2\"}]}",
         "Nodes[1].Name: duplicate 'a'"},
        {"{\"DefaultMethod\": {\"Policy\": \"OneByIndexAsc\", \"Timeout\": \"2h\"}}",
         "DefaultMethod.Timeout: at most 1h"},
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++) {
        in = json_loads(bad[i].in, 0, NULL);
        ASSERT_NOTNULL(in);
        ASSERT_EQ(vc_nodepool_check_settings(in, &err), -EINVAL); /* the same verdict, no pool */
        ASSERT_STREQ(err, bad[i].msg);
        ASSERT_EQ(vc_nodepool_apply_settings(p, in, &err), -EINVAL);
        json_decref(in);
        ASSERT_STREQ(err, bad[i].msg);
        ASSERT_OK(vc_nodepool_settings_json(p, true, &s2)); /* nothing changed */
        ASSERT_TRUE(json_equal(s, s2));
        json_decref(s2);
    }
    json_decref(s);

    /* "Nodes" replaces the list: n2 goes, n1 keeps its place, n3 comes */
    in = json_loads("{\"Nodes\": [{\"Name\": \"n3\", \"URL\": \"/ip4/127.0.0.1/tcp/3\"},"
                    " {\"Name\": \"n1\", \"URL\": \"/ip4/127.0.0.1/tcp/1\", \"Token\": \"s3cr3t-tok\"}]}",
                    0, NULL);
    ASSERT_OK(vc_nodepool_apply_settings(p, in, &err));
    json_decref(in);
    ASSERT_OK(vc_nodepool_status(p, &s));
    ASSERT_EQ(json_array_size(json_object_get(s, "Nodes")), 2);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(s, "Nodes"), 0), "Name")),
                 "n3");
    char *dump = json_dumps(s, JSON_COMPACT);
    ASSERT_TRUE(strstr(dump, "s3cr3t-tok") == NULL); /* status never shows tokens */
    free(dump);
    json_decref(s);

    vc_nodepool_node_conf_t c = {.name = "n1", .url = "/ip4/127.0.0.1/tcp/9"};
    ASSERT_EQ(vc_nodepool_add(p, &c), -EEXIST);
    ASSERT_OK(vc_nodepool_set(p, &c));
    ASSERT_EQ(vc_nodepool_remove(p, "n9"), -ENOENT);
    c.name = "bad name";
    ASSERT_EQ(vc_nodepool_add(p, &c), -EINVAL);
    free(err);
    vc_nodepool_free(p);
}

/* ------------------------------------------------------------------ scheduling */

static void test_policies(void)
{
    fake_t *f[3] = {fake_start("a", 10), fake_start("b", 12), fake_start("c", 11)};
    int bp[3] = {1, 5, 2}, mp[3] = {5, 1, 3};
    vc_nodepool_t *p = pool_new();
    vc_nodepool_opts_t o;
    vc_nodepool_get_opts(p, &o);
    o.max_sync_behind = 10;
    o.min_block_peers = o.min_message_peers = 1; /* topic peer counts come from NetPubsubScores */
    ASSERT_OK(vc_nodepool_set_opts(p, &o));
    for (int i = 0; i < 3; i++) {
        f[i]->block_peers = bp[i];
        f[i]->msg_peers = mp[i];
        ASSERT_OK(add_node(p, f[i]->name, f[i]->url, NULL));
    }
    for (int i = 0; i < 3; i++)
        ASSERT_TRUE(wait_enabled(p, f[i]->name, true, NULL, 5000));
    ASSERT_EQ(node_int(p, "b", "BlockPeers"), 5);
    ASSERT_EQ(node_int(p, "a", "MessagePeers"), 5);
    ASSERT_EQ(node_int(p, "c", "Peers"), 3);

    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_INDEX_ASC, 0, false);
    ASSERT_TRUE(who_is(p, "Test.Who", NULL, "a"));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_INDEX_DESC, 0, false);
    ASSERT_TRUE(who_is(p, "Test.Who", NULL, "c"));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC, 0, false);
    ASSERT_TRUE(who_is(p, "Test.Who", NULL, "b"));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_MESSAGE_PEERS_DESC, 0, false);
    ASSERT_TRUE(who_is(p, "Test.Who", NULL, "a"));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_BLOCK_PEERS_DESC, 0, false);
    ASSERT_TRUE(who_is(p, "Test.Who", NULL, "b"));

    /* round robin: three calls in a row reach three different nodes, in id order */
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_ID_ROUND, 0, false);
    char *w[6];
    for (int i = 0; i < 6; i++)
        w[i] = call_who(p, "Test.Who", NULL, NULL, NULL);
    for (int i = 0; i < 6; i++)
        ASSERT_NOTNULL(w[i]);
    ASSERT_TRUE(strcmp(w[0], w[1]) && strcmp(w[1], w[2]) && strcmp(w[0], w[2]));
    for (int i = 3; i < 6; i++)
        ASSERT_STREQ(w[i], w[i - 3]);
    int next = (w[0][0] - 'a' + 1) % 3;
    ASSERT_EQ(w[1][0], 'a' + next);
    for (int i = 0; i < 6; i++)
        free(w[i]);

    /* seed binding: one seed stays on one node; many seeds spread over all of them */
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_SEED_ROUND, 0, false);
    char *first = call_who(p, "Test.Who", NULL, "t1sender", NULL);
    ASSERT_NOTNULL(first);
    for (int i = 0; i < 20; i++)
        if (!who_is(p, "Test.Who", "t1sender", first)) {
            free(first);
            ASSERT_TRUE(false);
        }
    int per[3] = {0};
    for (int i = 0; i < 30; i++) {
        char seed[32];
        snprintf(seed, sizeof(seed), "t1seed%d", i);
        char *who = call_who(p, "Test.Who", NULL, seed, NULL);
        if (who)
            per[who[0] - 'a']++;
        free(who);
    }
    ASSERT_TRUE(per[0] >= 5 && per[1] >= 5 && per[2] >= 5);
    json_t *st = NULL;
    ASSERT_OK(vc_nodepool_status(p, &st));
    ASSERT_EQ(json_integer_value(json_object_get(st, "Seeds")), 31);
    json_decref(st);
    free(first);

    /* AllWithFirstSucceed: every node gets the call */
    int before[3];
    for (int i = 0; i < 3; i++)
        before[i] = f[i]->calls;
    set_policy(p, "Test.Who", VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 0, false);
    char *any = call_who(p, "Test.Who", NULL, NULL, NULL);
    ASSERT_NOTNULL(any);
    free(any);
    for (int i = 0;
         i < 50 && (f[0]->calls == before[0] || f[1]->calls == before[1] || f[2]->calls == before[2]); i++)
        vc_sleep_ms(20);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(f[i]->calls, before[i] + 1);
    /* ... and an error from all of them comes back as the application error */
    set_policy(p, "Test.Fail", VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 0, false);
    vc_rpc_err_t err = {0};
    json_t *res = NULL;
    ASSERT_EQ(vc_nodepool_call(p, "Test.Fail", NULL, NULL, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "boom");

    vc_nodepool_free(p);
    for (int i = 0; i < 3; i++)
        fake_free(f[i]);
}

/* A small seed table keeps the most recent seeds; a seed moves off a disabled node for good. */
static void test_seed_limit(void)
{
    fake_t *a = fake_start("a", 1), *b = fake_start("b", 1);
    vc_nodepool_t *p = pool_new();
    vc_nodepool_opts_t o;
    vc_nodepool_get_opts(p, &o);
    o.max_seeds = 4;
    ASSERT_OK(vc_nodepool_set_opts(p, &o));
    ASSERT_OK(add_node(p, "a", a->url, NULL));
    ASSERT_OK(add_node(p, "b", b->url, NULL));
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "b", true, NULL, 5000));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_SEED_ROUND, 0, false);
    for (int i = 0; i < 10; i++) {
        char seed[16];
        snprintf(seed, sizeof(seed), "s%d", i);
        free(call_who(p, "Test.Who", NULL, seed, NULL));
    }
    json_t *st = NULL;
    ASSERT_OK(vc_nodepool_status(p, &st));
    ASSERT_EQ(json_integer_value(json_object_get(st, "Seeds")), 4);
    json_decref(st);

    /* a seed whose node is disabled moves, and stays on its new node when the old one is back */
    char *home = call_who(p, "Test.Who", NULL, "t1nonce", NULL);
    ASSERT_NOTNULL(home);
    fake_t *hf = home[0] == 'a' ? a : b, *of = home[0] == 'a' ? b : a;
    const char *other = of->name;
    of->height = 100;
    ASSERT_TRUE(wait_enabled(p, home, false, "behind", 5000));
    ASSERT_TRUE(who_is(p, "Test.Who", "t1nonce", other));
    hf->height = 100;
    ASSERT_TRUE(wait_enabled(p, home, true, NULL, 5000));
    ASSERT_TRUE(who_is(p, "Test.Who", "t1nonce", other));
    free(home);
    vc_nodepool_free(p);
    fake_free(a);
    fake_free(b);
}

/* ------------------------------------------------------------------ health */

static void test_health(void)
{
    fake_t *a = fake_start("a", 100), *b = fake_start("b", 100);
    vc_nodepool_t *p = pool_new();
    vc_nodepool_opts_t o;
    ASSERT_OK(add_node(p, "a", a->url, NULL));
    ASSERT_OK(add_node(p, "b", b->url, NULL));
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "b", true, NULL, 5000));

    /* behind the best by more than MaxSyncBehind (2), then caught up */
    b->height = 97;
    ASSERT_TRUE(wait_enabled(p, "b", false, "head 97 is 3 behind the best 100", 5000));
    b->height = 98;
    ASSERT_TRUE(wait_enabled(p, "b", true, NULL, 5000));
    /* its own sync target far ahead: still syncing */
    a->target = 150;
    ASSERT_TRUE(wait_enabled(p, "a", false, "syncing: head 100, target 150", 5000));
    a->target = 0;
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));

    /* peer minimums (a hot setting): a has no block peers, b no message peers */
    a->block_peers = 0;
    a->msg_peers = 4;
    b->block_peers = 4;
    b->msg_peers = 1;
    vc_nodepool_get_opts(p, &o);
    o.min_block_peers = 1;
    o.min_message_peers = 2;
    ASSERT_OK(vc_nodepool_set_opts(p, &o));
    ASSERT_TRUE(wait_enabled(p, "a", false, "block peers 0 < 1", 5000));
    ASSERT_TRUE(wait_enabled(p, "b", false, "message peers 1 < 2", 5000));
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_INDEX_ASC, 500, true);
    ASSERT_EQ(vc_nodepool_call(p, "Test.Who", NULL, NULL, &res, &err), -EHOSTUNREACH);
    ASSERT_STREQ(err.message, "no healthy chain node");
    a->block_peers = 3;
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));
    o.min_message_peers = 0;
    ASSERT_OK(vc_nodepool_set_opts(p, &o));
    ASSERT_TRUE(wait_enabled(p, "b", true, NULL, 5000));

    /* a node that stops answering heartbeats */
    fake_stop(b);
    ASSERT_TRUE(wait_enabled(p, "b", false, "heartbeat failed: ChainHead", 5000));
    ASSERT_TRUE(node_int(p, "b", "LastHeartbeat") > 0);
    vc_nodepool_free(p);
    fake_free(a);
    fake_free(b);
}

/* ------------------------------------------------------------------ retries */

typedef struct adder {
    vc_nodepool_t *p;
    const char *url;
} adder_t;

static void *add_later(void *arg)
{
    adder_t *a = arg;
    vc_sleep_ms(300);
    add_node(a->p, "b", a->url, NULL);
    return NULL;
}

static void test_retries(void)
{
    fake_t *a = fake_start("a", 10), *b = fake_start("b", 10);
    vc_nodepool_t *p = pool_new();
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    char *node = NULL;
    int r;
    ASSERT_OK(add_node(p, "a", a->url, NULL));
    ASSERT_OK(add_node(p, "b", b->url, NULL));
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "b", true, NULL, 5000));
    static const char *const asc[] = {"Filecoin.ChainGetTipSet", "Filecoin.StateGetActor", "Test.NotFound",
                                      "Test.Fail", "Test.Who"};
    for (size_t i = 0; i < VC_ELEMENTSOF(asc); i++)
        set_policy(p, asc[i], VC_NODEPOOL_ONE_BY_INDEX_ASC, 0, false);

    /* "block not found" for a call carrying a tipset key: the next node answers */
    a->block_nf = 1;
    json_t *tsk =
        json_pack("[[{s:s}]]", "/", "bafy2bzaceaxm23epjsmh75yvzcecsrbavlmkcxnva66bkdebdcnyw3bjrc74u");
    int ac = a->calls, bc = b->calls;
    char *who = call_who(p, "Filecoin.ChainGetTipSet", tsk, NULL, &r);
    ASSERT_STREQ(who, "b");
    free(who);
    ASSERT_EQ(a->calls, ac + 1);
    ASSERT_EQ(b->calls, bc + 1);
    /* the same error for a call without a tipset, epoch or CID is final */
    ac = a->calls, bc = b->calls;
    ASSERT_EQ(vc_nodepool_call_ex(p, "Test.NotFound", json_pack("[i]", 7), NULL, &node, &res, &err),
              VC_EREMOTE);
    ASSERT_STREQ(err.message, "block not found");
    ASSERT_STREQ(node, "a");
    free(node);
    ASSERT_EQ(a->calls, ac + 1);
    ASSERT_EQ(b->calls, bc);

    /* "actor not found" for a call carrying an address: retried; without one: final */
    a->actor_nf = 1;
    who = call_who(p, "Filecoin.StateGetActor", json_pack("[s, []]", "t01000"), NULL, &r);
    ASSERT_STREQ(who, "b");
    free(who);
    ASSERT_EQ(vc_nodepool_call(p, "Filecoin.StateGetActor", json_pack("[s, []]", "hello"), NULL, &res, &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "actor not found") != NULL);

    /* an application error is never retried */
    ac = a->calls, bc = b->calls;
    ASSERT_EQ(vc_nodepool_call(p, "Test.Fail", NULL, NULL, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "boom");
    ASSERT_EQ(a->calls, ac + 1);
    ASSERT_EQ(b->calls, bc);

    /* a node slower than the method's timeout counts as a transport failure */
    a->sleep_ms = 2000;
    set_policy(p, "Test.Sleep", VC_NODEPOOL_ONE_BY_INDEX_ASC, 300, false);
    int64_t t0 = vc_now_mono_us();
    who = call_who(p, "Test.Sleep", NULL, NULL, &r);
    ASSERT_STREQ(who, "b");
    free(who);
    ASSERT_LT(vc_now_mono_us() - t0, 1500000);
    ASSERT_GE(node_int(p, "a", "Errors"), 1);

    /* a dead node: the call goes on to the next one, the node is disabled */
    fake_stop(a);
    who = call_who(p, "Test.Who", NULL, NULL, &r);
    ASSERT_STREQ(who, "b");
    free(who);
    ASSERT_TRUE(wait_enabled(p, "a", false, "heartbeat failed", 5000));
    ASSERT_TRUE(who_is(p, "Test.Who", NULL, "b"));

    /* no node: NoHang fails at once, otherwise the call waits for one to come */
    ASSERT_OK(vc_nodepool_remove(p, "a"));
    ASSERT_OK(vc_nodepool_remove(p, "b"));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_INDEX_ASC, 500, true);
    t0 = vc_now_mono_us();
    ASSERT_EQ(vc_nodepool_call(p, "Test.Who", NULL, NULL, &res, &err), -EHOSTUNREACH);
    ASSERT_LT(vc_now_mono_us() - t0, 200000);
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_INDEX_ASC, 5000, false);
    pthread_t th;
    adder_t ad = {.p = p, .url = b->url};
    pthread_create(&th, NULL, add_later, &ad);
    t0 = vc_now_mono_us();
    who = call_who(p, "Test.Who", NULL, NULL, &r);
    pthread_join(th, NULL);
    ASSERT_STREQ(who, "b");
    free(who);
    ASSERT_GE(vc_now_mono_us() - t0, 250000);
    vc_nodepool_free(p);
    fake_free(a);
    fake_free(b);
}

/* The report: which node answered, and whether a failed call may still have been acted on. */
static void test_report(void)
{
    fake_t *a = fake_start("a", 10), *b = fake_start("b", 10);
    vc_nodepool_t *p = pool_new();
    vc_nodepool_report_t rep;
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    ASSERT_OK(add_node(p, "a", a->url, NULL));
    ASSERT_OK(add_node(p, "b", b->url, NULL));
    ASSERT_TRUE(wait_enabled(p, "a", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "b", true, NULL, 5000));
    set_policy(p, "Test.Fail", VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 0, false);
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_INDEX_ASC, 0, false);
    set_policy(p, "Test.SlowOrFail", VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 300, false);
    set_policy(p, "Test.SlowOrFail2", VC_NODEPOOL_ONE_BY_INDEX_ASC, 300, false);

    /* every node refused: nothing was done anywhere */
    ASSERT_EQ(vc_nodepool_call_report(p, "Test.Fail", NULL, NULL, &rep, &res, &err), VC_EREMOTE);
    ASSERT_EQ(rep.tried, 2);
    ASSERT_EQ(rep.unanswered, 0);
    ASSERT_TRUE(vc_streq(rep.node, "a") || vc_streq(rep.node, "b"));
    ASSERT_OK(vc_nodepool_call_report(p, "Test.Who", NULL, NULL, &rep, &res, &err));
    json_decref(res);
    ASSERT_STREQ(rep.node, "a");
    ASSERT_EQ(rep.tried, 1);
    ASSERT_EQ(rep.unanswered, 0);

    /* a timed out (it may have acted), b refused: the refusal is returned, the report says 1 */
    a->sleep_ms = 1500;
    ASSERT_EQ(vc_nodepool_call_report(p, "Test.SlowOrFail", NULL, NULL, &rep, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "boom");
    ASSERT_EQ(rep.tried, 2);
    ASSERT_EQ(rep.unanswered, 1);
    ASSERT_EQ(vc_nodepool_call_report(p, "Test.SlowOrFail2", NULL, NULL, &rep, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(rep.node, "b");
    ASSERT_EQ(rep.tried, 2);
    ASSERT_EQ(rep.unanswered, 1);

    /* no node at all: nothing sent */
    ASSERT_OK(vc_nodepool_remove(p, "a"));
    ASSERT_OK(vc_nodepool_remove(p, "b"));
    set_policy(p, "Test.Fail", VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 0, true);
    ASSERT_EQ(vc_nodepool_call_report(p, "Test.Fail", NULL, NULL, &rep, &res, &err), -EHOSTUNREACH);
    ASSERT_EQ(rep.tried, 0);
    ASSERT_EQ(rep.unanswered, 0);
    ASSERT_STREQ(rep.node, "");
    vc_nodepool_free(p);
    fake_free(a);
    fake_free(b);
}

/* ------------------------------------------------------------------ hot changes under load */

typedef struct load {
    vc_nodepool_t *p;
    atomic_bool stop;
    atomic_int ok, unreachable, other;
} load_t;

static void *load_main(void *arg)
{
    load_t *l = arg;
    static const char *const methods[] = {"Test.Who", "Test.Seed", "Test.All"};
    for (unsigned i = 0; !l->stop; i++) {
        char seed[32];
        json_t *res = NULL;
        vc_rpc_err_t err = {0};
        snprintf(seed, sizeof(seed), "t1load%u", i % 50);
        int r = vc_nodepool_call(l->p, methods[i % 3], NULL, seed, &res, &err);
        json_decref(res);
        if (r == 0)
            l->ok++;
        else if (r == -EHOSTUNREACH)
            l->unreachable++;
        else if (l->other++ == 0) /* the in-test nodes stay up: a removed node finishes its calls */
            fprintf(stderr, "%s: %s (%s)\n", methods[i % 3], vc_strerror(r), err.message);
    }
    return NULL;
}

static void on_head_noop(json_t *changes, const char *node, bool fresh, void *userdata)
{
}

static void test_hot_changes(void)
{
    fake_t *f[3] = {fake_start("a", 5), fake_start("b", 5), fake_start("c", 5)};
    vc_nodepool_t *p = pool_new();
    load_t l = {.p = p};
    pthread_t th[4];
    for (int i = 0; i < 3; i++)
        ASSERT_OK(add_node(p, f[i]->name, f[i]->url, NULL));
    ASSERT_OK(vc_nodepool_wait_ready(p, 5000));
    set_policy(p, "Test.Who", VC_NODEPOOL_ONE_BY_ID_ROUND, 1000, true);
    set_policy(p, "Test.Seed", VC_NODEPOOL_ONE_BY_SEED_ROUND, 1000, true);
    set_policy(p, "Test.All", VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 1000, true);
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, load_main, &l);
    int64_t end = vc_now_mono_us() + 2000000;
    for (unsigned i = 0; vc_now_mono_us() < end; i++) {
        fake_t *x = f[i % 3];
        char name[16];
        snprintf(name, sizeof(name), "x%u", i % 5);
        vc_nodepool_node_conf_t c = {.name = name, .url = x->url};
        (void)vc_nodepool_add(p, &c);
        c.url = f[(i + 1) % 3]->url;
        (void)vc_nodepool_set(p, &c);
        if (i % 3 == 0)
            (void)vc_nodepool_remove(p, f[i % 3]->name);
        else
            (void)add_node(p, f[i % 3]->name, f[i % 3]->url, NULL);
        if (i % 4 == 0)
            (void)vc_nodepool_remove(p, name);
        if (i % 7 == 0) {
            json_t *s = NULL;
            if (vc_nodepool_settings_json(p, true, &s) == 0)
                (void)vc_nodepool_apply_settings(p, s, NULL);
            json_decref(s);
        }
        if (i % 5 == 0) {
            (void)vc_nodepool_subscribe_heads(p, on_head_noop, NULL);
            vc_sleep_ms(3);
            vc_nodepool_unsubscribe_heads(p);
        }
        json_t *st = NULL;
        if (vc_nodepool_status(p, &st) == 0)
            json_decref(st);
        vc_sleep_ms(5);
    }
    l.stop = true;
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    printf("  hot changes: %d calls ok, %d without a node, %d other\n", l.ok, l.unreachable, l.other);
    ASSERT_GE(l.ok, 50);
    ASSERT_EQ(l.other, 0);
    vc_nodepool_free(p);
    for (int i = 0; i < 3; i++)
        fake_free(f[i]);
}

/* ------------------------------------------------------------------ real devnets */

typedef struct devnet {
    char name[8];
    char repo[600];
    char url[128];
    char *token;
    pid_t pid;
} devnet_t;

static devnet_t dn[2];
static const char *devnet_bin;
static bool devnets_ok;

#define BLOCK_TIME_MS 400

static int dn_call(devnet_t *d, const char *method, json_t *params, json_t **ret)
{
    const char *eps[] = {d->url};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .token = d->token, .retries = -1, .timeout_ms = 5000};
    vc_client_t *c = NULL;
    vc_rpc_err_t err = {0};
    json_t *res = NULL;
    int r = vc_client_new(&o, &c);
    if (r == 0)
        r = vc_client_call(c, method, params, &res, &err);
    else
        json_decref(params);
    vc_client_free(c);
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return r;
}

static long dn_height(devnet_t *d)
{
    json_t *h = NULL;
    long v = dn_call(d, "Filecoin.ChainHead", NULL, &h) == 0
                 ? (long)json_integer_value(json_object_get(h, "Height"))
                 : -1;
    json_decref(h);
    return v;
}

static void dn_pause(devnet_t *d, bool paused)
{
    if (dn_call(d, "Filecoin.DevnetPause", json_pack("[b]", paused), NULL) < 0)
        VC_FAIL_("DevnetPause on %s failed", d->name);
}

static char *read_trim(const char *path)
{
    char *s = vc_read_trimmed(path, 65536);
    return s;
}

static bool devnet_start(devnet_t *d, const char *name, const char *genesis)
{
    char log[700], api[700], tok[700], bt[32];
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->repo, sizeof(d->repo), "%s/%s", vc_test_tmpdir(), name);
    const char *init[] = {devnet_bin, "--repo", d->repo, "init", "--genesis", genesis, NULL};
    char *out = NULL, *err = NULL;
    int rc = vc_test_run_cmd(init, &out, &err);
    if (rc != 0)
        fprintf(stderr, "venus-devnet init: %s %s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
    if (rc != 0)
        return false;
    snprintf(log, sizeof(log), "%s/%s.log", vc_test_tmpdir(), name);
    snprintf(api, sizeof(api), "%s/api", d->repo);
    snprintf(tok, sizeof(tok), "%s/token", d->repo);
    snprintf(bt, sizeof(bt), "%dms", BLOCK_TIME_MS);
    const char *argv[] = {devnet_bin,    "--repo",       d->repo, "run", "--listen",
                          "127.0.0.1:0", "--block-time", bt,      NULL};
    d->pid = vc_test_spawn(argv, log);
    if (d->pid <= 0 || !vc_test_wait_file(api, 20000)) {
        fprintf(stderr, "venus-devnet did not start, see %s\n", log);
        return false;
    }
    char *bound = read_trim(api);
    snprintf(d->url, sizeof(d->url), "http://%s/rpc/v1", bound ? bound : "");
    free(bound);
    d->token = read_trim(tok);
    return d->token != NULL;
}

/* Two devnets from one genesis (a miner owned by a fresh key), each mining its own chain. */
static bool devnets_start(void)
{
    uint8_t key[VC_SECP256K1_PRIVKEY_LEN];
    vc_address_t a;
    char addr[VC_ADDRESS_STRLEN_MAX], genesis[600], text[2048];
    devnet_bin = getenv("VENUS_DEVNET_BIN");
    if (!devnet_bin) {
        fprintf(stderr, "VENUS_DEVNET_BIN is not set (see common/tests/nodepool.cmake)\n");
        return false;
    }
    if (vc_secp256k1_generate(key) < 0 || vc_secp256k1_address(key, &a) < 0 ||
        vc_address_to_string(&a, 't', addr) < 0)
        return false;
    snprintf(genesis, sizeof(genesis), "%s/genesis.toml", vc_test_tmpdir());
    snprintf(text, sizeof(text),
             "NetworkName = \"devnet\"\nBlockTime = \"%dms\"\nPropagationDelay = \"20ms\"\n\n"
             "[[Accounts]]\nAddress = \"%s\"\nBalance = \"1000000000000000000\"\n\n"
             "[[Miners]]\nID = 1000\nOwner = \"%s\"\nWorker = \"%s\"\nPower = \"10995116277760\"\n"
             "Sectors = 2\nSectorSize = 2048\n",
             BLOCK_TIME_MS, addr, addr, addr);
    if (vc_write_file_atomic(genesis, text, strlen(text), 0644) < 0)
        return false;
    return devnet_start(&dn[0], "d1", genesis) && devnet_start(&dn[1], "d2", genesis);
}

/* Pauses the devnet that is ahead until the other one has caught up (started at different
 * times, or after a pause, their heads differ by a few epochs). */
static bool devnets_align(void)
{
    long h0 = dn_height(&dn[0]), h1 = dn_height(&dn[1]);
    if (h0 < 0 || h1 < 0)
        return false;
    devnet_t *ahead = h0 > h1 ? &dn[0] : &dn[1], *behind = h0 > h1 ? &dn[1] : &dn[0];
    long target = VC_MAX(h0, h1);
    if (h0 == h1)
        return true;
    dn_pause(ahead, true);
    int64_t end = vc_now_mono_us() + 10000000;
    while (dn_height(behind) < target && vc_now_mono_us() < end)
        vc_sleep_ms(20);
    dn_pause(ahead, false);
    return dn_height(behind) >= target;
}

static vc_nodepool_t *devnet_pool(void)
{
    vc_nodepool_t *p = pool_new();
    for (int i = 0; i < 2; i++)
        if (add_node(p, dn[i].name, dn[i].url, dn[i].token) < 0)
            exit(2);
    return p;
}

static void test_devnet_retries(void)
{
    ASSERT_TRUE(devnets_ok);
    ASSERT_TRUE(devnets_align());
    vc_nodepool_t *p = devnet_pool();
    json_t *res = NULL, *head = NULL;
    vc_rpc_err_t err = {0};
    char *node = NULL;
    ASSERT_TRUE(wait_enabled(p, "d1", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "d2", true, NULL, 5000));
    set_policy(p, "Filecoin.ChainGetTipSet", VC_NODEPOOL_ONE_BY_INDEX_ASC, 0, false);
    set_policy(p, "Filecoin.ChainGetTipSetByHeight", VC_NODEPOOL_ONE_BY_INDEX_ASC, 0, false);
    set_policy(p, "Filecoin.MpoolGetNonce", VC_NODEPOOL_ONE_BY_INDEX_ASC, 0, false);

    /* d1 stops making blocks, so d2's next head is one d1 has not seen: d1 says "tipset not
     * found", d2 answers */
    dn_pause(&dn[0], true);
    long h1 = dn_height(&dn[0]);
    for (int i = 0; i < 100 && dn_height(&dn[1]) <= h1; i++)
        vc_sleep_ms(20);
    int r = dn_call(&dn[1], "Filecoin.ChainHead", NULL, &head);
    dn_pause(&dn[0], false);
    ASSERT_OK(r);
    ASSERT_TRUE(json_integer_value(json_object_get(head, "Height")) > h1);
    json_t *cids = json_object_get(head, "Cids");
    long long c1 = node_int(p, "d1", "Calls"), c2 = node_int(p, "d2", "Calls");
    ASSERT_OK(
        vc_nodepool_call_ex(p, "Filecoin.ChainGetTipSet", json_pack("[O]", cids), NULL, &node, &res, &err));
    ASSERT_STREQ(node, "d2");
    ASSERT_EQ(node_int(p, "d1", "Calls"), c1 + 1);
    ASSERT_EQ(node_int(p, "d2", "Calls"), c2 + 1);
    ASSERT_TRUE(json_equal(json_object_get(res, "Cids"), cids));
    free(node);
    json_decref(res);
    json_decref(head);

    /* an application error from d1 is final: d2 never sees the call */
    c1 = node_int(p, "d1", "Calls");
    c2 = node_int(p, "d2", "Calls");
    ASSERT_EQ(vc_nodepool_call_ex(p, "Filecoin.ChainGetTipSetByHeight", json_pack("[i, []]", 100000000), NULL,
                                  &node, &res, &err),
              VC_EREMOTE);
    ASSERT_STREQ(node, "d1");
    free(node);
    ASSERT_TRUE(strstr(err.message, "greater than") != NULL);
    ASSERT_EQ(node_int(p, "d1", "Calls"), c1 + 1);
    ASSERT_EQ(node_int(p, "d2", "Calls"), c2);

    /* "actor not found" about an address: both nodes are asked before the error comes back */
    ASSERT_EQ(vc_nodepool_call(p, "Filecoin.MpoolGetNonce", json_pack("[s]", "t0999"), NULL, &res, &err),
              VC_EREMOTE);
    ASSERT_STREQ(err.message, "actor not found");
    ASSERT_EQ(node_int(p, "d1", "Calls"), c1 + 2);
    ASSERT_EQ(node_int(p, "d2", "Calls"), c2 + 1);
    vc_nodepool_free(p);
}

static void test_devnet_sync_behind(void)
{
    ASSERT_TRUE(devnets_ok);
    ASSERT_TRUE(devnets_align());
    vc_nodepool_t *p = devnet_pool();
    ASSERT_TRUE(wait_enabled(p, "d1", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "d2", true, NULL, 5000));

    dn_pause(&dn[1], true); /* d2 stops making blocks: it falls behind */
    ASSERT_TRUE(wait_enabled(p, "d2", false, "behind the best", 8000));
    ASSERT_TRUE(wait_enabled(p, "d1", true, NULL, 100));
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    char *node = NULL;
    ASSERT_OK(vc_nodepool_call_ex(p, "Filecoin.ChainHead", NULL, NULL, &node, &res, &err));
    ASSERT_STREQ(node, "d1");
    free(node);
    json_decref(res);

    /* d2 catches up while d1 waits, and is enabled again */
    dn_pause(&dn[0], true);
    dn_pause(&dn[1], false);
    bool back = wait_enabled(p, "d2", true, NULL, 8000);
    dn_pause(&dn[0], false);
    ASSERT_TRUE(back);
    vc_nodepool_free(p);
}

typedef struct heads {
    pthread_mutex_t lock;
    int n, fresh, after_fresh, bad;
    char fresh_node[VC_NODEPOOL_NAME_MAX + 1];
    char last_node[VC_NODEPOOL_NAME_MAX + 1];
} heads_t;

static void on_head(json_t *changes, const char *node, bool fresh, void *userdata)
{
    heads_t *h = userdata;
    const char *type = json_string_value(json_object_get(json_array_get(changes, 0), "Type"));
    pthread_mutex_lock(&h->lock);
    h->n++;
    if (fresh) {
        h->fresh++;
        h->after_fresh = 0;
        snprintf(h->fresh_node, sizeof(h->fresh_node), "%s", node);
        h->bad += !vc_streq(type, "current");
    } else {
        h->after_fresh++;
        h->bad += !vc_streq(node, h->fresh_node); /* never a value from an older subscription */
    }
    snprintf(h->last_node, sizeof(h->last_node), "%s", node);
    pthread_mutex_unlock(&h->lock);
}

/* Waits for a fresh subscription on a node other than not_on (NULL = any) and n values after it. */
static bool wait_heads(heads_t *h, const char *not_on, int n, char ret_node[VC_NODEPOOL_NAME_MAX + 1])
{
    int64_t end = vc_now_mono_us() + 10000000;
    while (vc_now_mono_us() < end) {
        pthread_mutex_lock(&h->lock);
        bool ok = h->fresh && (!not_on || strcmp(h->fresh_node, not_on) != 0) && h->after_fresh >= n;
        if (ok)
            snprintf(ret_node, VC_NODEPOOL_NAME_MAX + 1, "%s", h->fresh_node);
        pthread_mutex_unlock(&h->lock);
        if (ok)
            return true;
        vc_sleep_ms(20);
    }
    fprintf(stderr, "head subscription: fresh=%d on %s, %d after\n", h->fresh, h->fresh_node, h->after_fresh);
    return false;
}

static void test_devnet_failover(void)
{
    ASSERT_TRUE(devnets_ok);
    ASSERT_TRUE(devnets_align());
    vc_nodepool_t *p = devnet_pool();
    heads_t h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char first[VC_NODEPOOL_NAME_MAX + 1], second[VC_NODEPOOL_NAME_MAX + 1];
    ASSERT_TRUE(wait_enabled(p, "d1", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(p, "d2", true, NULL, 5000));
    ASSERT_OK(vc_nodepool_subscribe_heads(p, on_head, &h));
    ASSERT_EQ(vc_nodepool_subscribe_heads(p, on_head, &h), -EBUSY);
    ASSERT_TRUE(wait_heads(&h, NULL, 2, first));
    json_t *st = NULL;
    ASSERT_OK(vc_nodepool_status(p, &st));
    ASSERT_STREQ(json_string_value(json_object_get(st, "HeadNode")), first);
    json_decref(st);

    /* a second pool whose heartbeat is too slow to notice the kill below: its calls find out */
    vc_nodepool_opts_t o;
    vc_nodepool_t *slow = NULL;
    vc_nodepool_opts_init(&o);
    o.heartbeat_ms = 600000;
    ASSERT_OK(vc_nodepool_new(&o, &slow));
    for (int i = 0; i < 2; i++)
        ASSERT_OK(add_node(slow, dn[i].name, dn[i].url, dn[i].token));
    ASSERT_TRUE(wait_enabled(slow, "d1", true, NULL, 5000));
    ASSERT_TRUE(wait_enabled(slow, "d2", true, NULL, 5000));

    /* kill the subscription's node; a call that tries it first goes on to the other one */
    devnet_t *victim = vc_streq(first, "d1") ? &dn[0] : &dn[1];
    const char *survivor = vc_streq(first, "d1") ? "d2" : "d1";
    set_policy(slow, "Filecoin.ChainHead",
               victim == &dn[0] ? VC_NODEPOOL_ONE_BY_INDEX_ASC : VC_NODEPOOL_ONE_BY_INDEX_DESC, 0, false);
    kill(victim->pid, SIGKILL);
    vc_test_stop(victim->pid, 2000);
    victim->pid = 0;
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    char *node = NULL;
    ASSERT_OK(vc_nodepool_call_ex(slow, "Filecoin.ChainHead", NULL, NULL, &node, &res, &err));
    ASSERT_STREQ(node, survivor);
    free(node);
    json_decref(res);
    ASSERT_EQ(node_int(slow, first, "Errors"), 1);
    ASSERT_EQ(node_int(slow, first, "ConsecutiveErrors"), 1);
    vc_nodepool_free(slow);

    /* the subscription moves to the survivor, starting with a fresh "current" */
    ASSERT_TRUE(wait_heads(&h, first, 2, second));
    ASSERT_STREQ(second, survivor);
    ASSERT_TRUE(wait_enabled(p, first, false, "heartbeat failed", 5000));
    ASSERT_OK(vc_nodepool_status(p, &st));
    ASSERT_STREQ(json_string_value(json_object_get(st, "HeadNode")), survivor);
    json_decref(st);
    vc_nodepool_unsubscribe_heads(p);
    pthread_mutex_lock(&h.lock);
    int n = h.n, bad = h.bad;
    pthread_mutex_unlock(&h.lock);
    ASSERT_EQ(bad, 0);
    vc_sleep_ms(2 * BLOCK_TIME_MS);
    pthread_mutex_lock(&h.lock);
    ASSERT_EQ(h.n, n); /* nothing after unsubscribe */
    pthread_mutex_unlock(&h.lock);
    vc_nodepool_free(p);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    VC_TEST_RUN(test_parse_info);
    VC_TEST_RUN(test_env);
    VC_TEST_RUN(test_settings);
    VC_TEST_RUN(test_policies);
    VC_TEST_RUN(test_seed_limit);
    VC_TEST_RUN(test_health);
    VC_TEST_RUN(test_retries);
    VC_TEST_RUN(test_report);
    VC_TEST_RUN(test_hot_changes);
    devnets_ok = devnets_start();
    VC_TEST_RUN(test_devnet_retries);
    VC_TEST_RUN(test_devnet_sync_behind);
    VC_TEST_RUN(test_devnet_failover);
    for (int i = 0; i < 2; i++) {
        if (dn[i].pid > 0)
            vc_test_stop(dn[i].pid, 5000);
        free(dn[i].token);
    }
    return VC_TEST_DONE();
}
