/*
 * test-nodepool-store.c: node-pool settings in the database: seeding from the configuration and
 * $FULLNODE_API_POOL_INFO, the stored row winning at the next start, operator changes (stored,
 * then applied; refused ones change nothing), two instances sharing one database (the follower
 * step, concurrent changes from both), the RPC shapes and the metrics. sqlite by default,
 * PostgreSQL with --pg.
 *
 * Nodes point at 127.0.0.1 ports nothing listens on: the pools stay disabled, which is all the
 * settings need. The follower thread is off (follow_ms < 0); its step, vc_nodepool_store_sync,
 * is called directly, so nothing here waits on a clock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/db.h"
#include "vc/nodepool-store.h"
#include "vc/util.h"

#define SVC "miner"

static bool use_pg;

static vc_db_t *open_db(const char *dsn)
{
    return vc_test_db_open(dsn, 4);
}

/* One daemon instance: its pool and its store on db. */
typedef struct inst {
    vc_nodepool_t *pool;
    vc_nodepool_store_t *store;
} inst_t;

static const vc_nodepool_node_conf_t main_node = {.name = "fullnode", .url = "http://127.0.0.1:1",
                                                  .token = "main-secret"};

static int inst_start(inst_t *in, vc_db_t *db, const vc_nodepool_node_conf_t *seed, vc_metrics_t *metrics,
                      char **err)
{
    *in = (inst_t){0};
    int r = vc_nodepool_new(NULL, &in->pool);
    if (r < 0)
        return r;
    vc_nodepool_store_opts_t o = {.service = SVC, .seeds = seed, .n_seeds = seed ? 1 : 0, .seed_from_env = true,
                                  .follow_ms = -1, .metrics = metrics};
    r = vc_nodepool_store_new(db, in->pool, &o, &in->store, err);
    if (r < 0)
        in->pool = vc_nodepool_free(in->pool);
    return r;
}

static void inst_stop(inst_t *in)
{
    in->store = vc_nodepool_store_free(in->store);
    in->pool = vc_nodepool_free(in->pool);
}

/* The stored row: its version and settings text (malloc'ed). */
static int64_t row(vc_db_t *db, char **ret_text)
{
    vc_db_conn_t *c = NULL;
    int64_t v = -1;
    if (vc_db_acquire(db, -1, &c) < 0)
        return -1;
    if (vc_db_query_int64(c, "SELECT version FROM vc_nodepool_settings WHERE service = ?",
                          VC_DB_ARGS(VC_DB_TEXT(SVC)), &v) < 0)
        v = -1;
    if (ret_text && vc_db_query_text(c, "SELECT settings FROM vc_nodepool_settings WHERE service = ?",
                                     VC_DB_ARGS(VC_DB_TEXT(SVC)), ret_text) < 0)
        *ret_text = NULL;
    vc_db_release(c);
    return v;
}

/* Node names of a pool, comma-separated, in order. */
static void names(vc_nodepool_t *p, char out[256])
{
    json_t *s = NULL, *n;
    size_t i, o = 0;
    out[0] = 0;
    if (vc_nodepool_settings_json(p, false, &s) < 0)
        return;
    json_array_foreach(json_object_get(s, "Nodes"), i, n) o += (size_t)snprintf(
        out + o, 256 - o, "%s%s", i ? "," : "", json_string_value(json_object_get(n, "Name")) ?: "?");
    json_decref(s);
}

static bool names_are(vc_nodepool_t *p, const char *want)
{
    char nm[256];
    names(p, nm);
    if (vc_streq(nm, want))
        return true;
    fprintf(stderr, "  nodes '%s', want '%s'\n", nm, want);
    return false;
}

static json_t *settings_of(vc_nodepool_t *p)
{
    json_t *s = NULL;
    return vc_nodepool_settings_json(p, true, &s) < 0 ? NULL : s;
}

/* ------------------------------------------------------------------ cases */

static void test_seed_then_row_wins(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_NOTNULL(db);
    char *err = NULL;
    inst_t a, b;

    /* a bad $FULLNODE_API_POOL_INFO: the start fails, says why, stores nothing, shows no token */
    setenv(VC_NODEPOOL_ENV, "secret:/ip4/127.0.0.1/tcp", 1);
    ASSERT_EQ(inst_start(&a, db, &main_node, NULL, &err), -EINVAL);
    ASSERT_STREQ(err, "FULLNODE_API_POOL_INFO: entry 1: bad address '/ip4/127.0.0.1/tcp'");
    ASSERT_EQ(row(db, NULL), -1);
    /* a name taken by the configured node */
    setenv(VC_NODEPOOL_ENV, "t:/ip4/127.0.0.1/tcp/2:fullnode", 1);
    ASSERT_EQ(inst_start(&a, db, &main_node, NULL, &err), -EINVAL);
    ASSERT_STREQ(err, "node pool settings from the configuration and FULLNODE_API_POOL_INFO: Nodes[1].Name: "
                      "duplicate 'fullnode'");
    ASSERT_EQ(row(db, NULL), -1);

    /* seed: the configured node, then the env's (the one repeating the configured URL skipped) */
    setenv(VC_NODEPOOL_ENV, "tok2:/ip4/127.0.0.1/tcp/2:px, tok3:http://127.0.0.1:1:again", 1);
    ASSERT_OK(inst_start(&a, db, &main_node, NULL, &err));
    ASSERT_TRUE(vc_nodepool_store_seeded(a.store));
    ASSERT_TRUE(vc_nodepool_store_seed_drift(a.store) == NULL);
    ASSERT_EQ(vc_nodepool_store_version(a.store), 1);
    ASSERT_TRUE(names_are(a.pool, "fullnode,px"));
    char *text = NULL;
    ASSERT_EQ(row(db, &text), 1);
    ASSERT_TRUE(text && strstr(text, "main-secret") && strstr(text, "tok2")); /* the row keeps tokens */
    free(text);
    inst_stop(&a);

    /* the next start: the row wins over another configuration and env */
    setenv(VC_NODEPOOL_ENV, "tok9:/ip4/127.0.0.1/tcp/9:other", 1);
    vc_nodepool_node_conf_t other = {.name = "fullnode", .url = "http://127.0.0.1:7"};
    ASSERT_OK(inst_start(&b, db, &other, NULL, &err));
    ASSERT_FALSE(vc_nodepool_store_seeded(b.store));
    /* ... and says so, with the command that would apply the configuration */
    ASSERT_STREQ(vc_nodepool_store_seed_drift(b.store),
                 "the configured node 'fullnode' is http://127.0.0.1:7 but the stored pool has http://127.0.0.1:1: "
                 "the stored one is used (change it with `node-pool set fullnode --url http://127.0.0.1:7`)");
    ASSERT_EQ(vc_nodepool_store_version(b.store), 1);
    ASSERT_TRUE(names_are(b.pool, "fullnode,px"));
    json_t *s = settings_of(b.pool);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(s, "Nodes"), 0), "URL")),
                 "http://127.0.0.1:1");
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(s, "Nodes"), 0), "Token")),
                 "main-secret");
    json_decref(s);
    inst_stop(&b);
    unsetenv(VC_NODEPOOL_ENV);
    /* the same node: nothing to say; another token (not shown); a name the row lacks */
    ASSERT_OK(inst_start(&b, db, &main_node, NULL, &err));
    ASSERT_TRUE(vc_nodepool_store_seed_drift(b.store) == NULL);
    inst_stop(&b);
    vc_nodepool_node_conf_t retok = main_node;
    retok.token = "new-secret";
    ASSERT_OK(inst_start(&b, db, &retok, NULL, &err));
    ASSERT_STREQ(vc_nodepool_store_seed_drift(b.store),
                 "the configured token of node 'fullnode' differs from the stored one: the stored one is used "
                 "(change it with `node-pool set fullnode --token ...`)");
    inst_stop(&b);
    vc_nodepool_node_conf_t renamed = {.name = "n9", .url = "http://127.0.0.1:9"};
    ASSERT_OK(inst_start(&b, db, &renamed, NULL, &err));
    ASSERT_STREQ(vc_nodepool_store_seed_drift(b.store),
                 "the configured node 'n9' (http://127.0.0.1:9) is not in the stored pool: the stored pool is used "
                 "(add it with `node-pool add n9 http://127.0.0.1:9`)");
    inst_stop(&b);

    /* a row someone broke by hand: the start refuses with a clear message */
    vc_db_conn_t *c = NULL;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_OK(vc_db_exec(c, "UPDATE vc_nodepool_settings SET settings = '{\"MaxSyncBehind\": \"x\"}'", VC_DB_NONE));
    vc_db_release(c);
    ASSERT_ERR(inst_start(&b, db, &main_node, NULL, &err));
    ASSERT_STREQ(err, "stored node pool settings (version 1): MaxSyncBehind: expected a non-negative integer");
    free(err);
    vc_db_free(db);
}

/* A refused change: the message, the same row and the same live settings as before. call
 * names the message variable e_ (declared here). */
#define ASSERT_REFUSED(db, in, call, code, msg)                                                    \
    do {                                                                                           \
        char *before = NULL, *after = NULL, *e_ = NULL;                                            \
        int64_t v0 = row(db, &before);                                                             \
        json_t *s0 = settings_of((in)->pool);                                                      \
        int r_ = (call);                                                                           \
        int64_t v1 = row(db, &after);                                                              \
        json_t *s1 = settings_of((in)->pool);                                                      \
        bool same = v0 == v1 && before && after && vc_streq(before, after) && json_equal(s0, s1);  \
        free(before);                                                                              \
        free(after);                                                                               \
        json_decref(s0);                                                                           \
        json_decref(s1);                                                                           \
        if (r_ != (code) || !e_ || !vc_streq(e_, (msg)) || !same) {                                \
            VC_FAIL_("%s: got %d '%s' (unchanged: %d), want %d '%s'", #call, r_, e_ ? e_ : "",    \
                     same, (code), (msg));                                                         \
            free(e_);                                                                              \
            return;                                                                                \
        }                                                                                          \
        free(e_);                                                                                  \
    } while (0)

static void test_changes(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_NOTNULL(db);
    char *err = NULL;
    inst_t a;
    ASSERT_OK(inst_start(&a, db, &main_node, NULL, &err));
    int64_t v = 0;

    vc_nodepool_node_conf_t n2 = {.name = "n2", .url = "/ip4/127.0.0.1/tcp/2", .token = "t2"};
    ASSERT_OK(vc_nodepool_store_add(a.store, &n2, &v, &err));
    ASSERT_EQ(v, 2);
    ASSERT_EQ(row(db, NULL), 2);
    ASSERT_EQ(vc_nodepool_store_version(a.store), 2);
    ASSERT_TRUE(names_are(a.pool, "fullnode,n2"));

    ASSERT_OK(vc_nodepool_store_set(a.store, "n2", "http://127.0.0.1:3", NULL, &v, &err));
    ASSERT_EQ(v, 3);
    json_t *s = settings_of(a.pool), *n = json_array_get(json_object_get(s, "Nodes"), 1);
    ASSERT_STREQ(json_string_value(json_object_get(n, "URL")), "http://127.0.0.1:3");
    ASSERT_STREQ(json_string_value(json_object_get(n, "Token")), "t2"); /* kept */
    json_decref(s);

    vc_nodepool_method_t m = {.policy = VC_NODEPOOL_ONE_BY_INDEX_DESC, .timeout_ms = 1500, .no_hang = true};
    ASSERT_OK(vc_nodepool_store_policy(a.store, "ChainHead", &m, &v, &err));
    ASSERT_EQ(v, 4);
    vc_nodepool_method_t got;
    vc_nodepool_get_method(a.pool, "Filecoin.ChainHead", &got);
    ASSERT_EQ(got.policy, VC_NODEPOOL_ONE_BY_INDEX_DESC);
    ASSERT_EQ(got.timeout_ms, 1500);
    ASSERT_TRUE(got.no_hang);
    m = (vc_nodepool_method_t){.policy = VC_NODEPOOL_ONE_BY_ID_ROUND, .timeout_ms = 20000};
    ASSERT_OK(vc_nodepool_store_policy(a.store, "default", &m, &v, &err));
    vc_nodepool_opts_t o;
    vc_nodepool_get_opts(a.pool, &o);
    ASSERT_EQ(o.default_method.policy, VC_NODEPOOL_ONE_BY_ID_ROUND);
    ASSERT_EQ(o.default_method.timeout_ms, 20000);
    ASSERT_OK(vc_nodepool_store_policy(a.store, "Filecoin.ChainHead", NULL, &v, &err)); /* back to built-in */
    vc_nodepool_get_method(a.pool, "Filecoin.ChainHead", &got);
    ASSERT_EQ(got.policy, VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC);

    json_t *cfg = json_pack("{s:s, s:i, s:s}", "maxsyncbehind", "4", "MinBlockPeers", 1, "HeartbeatInterval", "2s");
    ASSERT_OK(vc_nodepool_store_config(a.store, cfg, &v, &err));
    json_decref(cfg);
    ASSERT_EQ(v, 7);
    vc_nodepool_get_opts(a.pool, &o);
    ASSERT_EQ(o.max_sync_behind, 4);
    ASSERT_EQ(o.min_block_peers, 1);
    ASSERT_EQ(o.heartbeat_ms, 2000);
    ASSERT_EQ(o.default_method.policy, VC_NODEPOOL_ONE_BY_ID_ROUND); /* other settings stay */
    cfg = json_object();
    ASSERT_OK(vc_nodepool_store_config(a.store, cfg, &v, &err)); /* nothing to change: no new version */
    json_decref(cfg);
    ASSERT_EQ(v, 7);
    ASSERT_EQ(row(db, NULL), 7);

    /* refused: nothing stored, nothing applied */
    vc_nodepool_node_conf_t dup = {.name = "n2", .url = "/ip4/127.0.0.1/tcp/5"};
    ASSERT_REFUSED(db, &a, vc_nodepool_store_add(a.store, &dup, NULL, &e_), -EEXIST,
                   "a node named 'n2' exists already (node-pool set changes it)");
    vc_nodepool_node_conf_t badurl = {.name = "n3", .url = "nowhere"};
    ASSERT_REFUSED(db, &a, vc_nodepool_store_add(a.store, &badurl, NULL, &e_), -EINVAL,
                   "node 'n3': URL: expected a URL, host:port or multiaddr");
    vc_nodepool_node_conf_t badname = {.name = "12", .url = "/ip4/127.0.0.1/tcp/5"};
    ASSERT_REFUSED(db, &a, vc_nodepool_store_add(a.store, &badname, NULL, &e_), -EINVAL,
                   "node '12': Name: expected 1..64 of [A-Za-z0-9._-], not all digits");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_set(a.store, "n9", "http://127.0.0.1:4", NULL, NULL, &e_), -ENOENT,
                   "no node named 'n9'");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_set(a.store, "n2", NULL, NULL, NULL, &e_), -EINVAL,
                   "nothing to change for 'n2': give a URL or a token");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_remove(a.store, "n9", NULL, &e_), -ENOENT, "no node named 'n9'");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_policy(a.store, "Chain Head", &m, NULL, &e_), -EINVAL,
                   "bad method name 'Chain Head'");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_policy(a.store, "default", NULL, NULL, &e_), -EINVAL,
                   "the default policy cannot be dropped, only set");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_policy(a.store, "MpoolPush", NULL, NULL, &e_), -ENOENT,
                   "Filecoin.MpoolPush has no policy of its own to drop");
    cfg = json_pack("{s:i, s:s}", "MaxSyncBehind", 9, "Fastness", "1");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_config(a.store, cfg, NULL, &e_), -EINVAL,
                   "unknown option 'Fastness' (options: HeartbeatInterval, HeartbeatTimeout, MaxSyncBehind, "
                   "MinBlockPeers, MinMessagePeers, MaxCallErrors, CallTimeout, MaxSeeds)");
    json_decref(cfg);
    cfg = json_pack("{s:s}", "MaxSyncBehind", "lots");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_config(a.store, cfg, NULL, &e_), -EINVAL,
                   "MaxSyncBehind: expected an integer, not 'lots'");
    json_decref(cfg);
    cfg = json_pack("{s:s}", "HeartbeatInterval", "1ms");
    ASSERT_REFUSED(db, &a, vc_nodepool_store_config(a.store, cfg, NULL, &e_), -EINVAL,
                   "HeartbeatInterval: out of range");
    json_decref(cfg);

    ASSERT_OK(vc_nodepool_store_remove(a.store, "fullnode", &v, &err));
    ASSERT_EQ(v, 8);
    ASSERT_TRUE(names_are(a.pool, "n2"));
    ASSERT_REFUSED(db, &a, vc_nodepool_store_remove(a.store, "n2", NULL, &e_), -EINVAL,
                   "'n2' is the last node of the pool: add another one first");

    /* a restart applies the last version as it was left */
    inst_stop(&a);
    ASSERT_OK(inst_start(&a, db, &main_node, NULL, &err));
    ASSERT_EQ(vc_nodepool_store_version(a.store), 8);
    ASSERT_TRUE(names_are(a.pool, "n2"));
    vc_nodepool_get_opts(a.pool, &o);
    ASSERT_EQ(o.max_sync_behind, 4);
    ASSERT_EQ(o.default_method.policy, VC_NODEPOOL_ONE_BY_ID_ROUND);
    inst_stop(&a);
    free(err);
    vc_db_free(db);
}

static void test_two_instances(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    vc_db_t *db1 = open_db(dsn), *db2 = open_db(dsn); /* two processes' pools */
    ASSERT_TRUE(db1 && db2);
    char *err = NULL;
    inst_t a, b;
    ASSERT_OK(inst_start(&a, db1, &main_node, NULL, &err));
    ASSERT_OK(inst_start(&b, db2, &main_node, NULL, &err));
    ASSERT_TRUE(vc_nodepool_store_seeded(a.store));
    ASSERT_FALSE(vc_nodepool_store_seeded(b.store));

    /* a change on a reaches b at b's next follower step, once */
    vc_nodepool_node_conf_t n2 = {.name = "n2", .url = "/ip4/127.0.0.1/tcp/2"};
    ASSERT_OK(vc_nodepool_store_add(a.store, &n2, NULL, &err));
    ASSERT_TRUE(names_are(b.pool, "fullnode"));
    ASSERT_EQ(vc_nodepool_store_sync(b.store), 1);
    ASSERT_TRUE(names_are(b.pool, "fullnode,n2"));
    ASSERT_EQ(vc_nodepool_store_version(b.store), 2);
    ASSERT_EQ(vc_nodepool_store_sync(b.store), 0);
    ASSERT_EQ(vc_nodepool_store_sync(a.store), 0);

    /* b changes before following a's next change: b edits the stored row, so both land */
    vc_nodepool_node_conf_t n3 = {.name = "n3", .url = "/ip4/127.0.0.1/tcp/3"};
    vc_nodepool_node_conf_t n4 = {.name = "n4", .url = "/ip4/127.0.0.1/tcp/4"};
    ASSERT_OK(vc_nodepool_store_add(a.store, &n3, NULL, &err));
    ASSERT_OK(vc_nodepool_store_add(b.store, &n4, NULL, &err));
    ASSERT_TRUE(names_are(b.pool, "fullnode,n2,n3,n4"));
    ASSERT_EQ(vc_nodepool_store_sync(a.store), 1);
    ASSERT_TRUE(names_are(a.pool, "fullnode,n2,n3,n4"));
    ASSERT_EQ(vc_nodepool_store_sync(b.store), 0); /* its own change is applied already */

    /* the same row, whatever the instance: settings equal */
    json_t *sa = settings_of(a.pool), *sb = settings_of(b.pool);
    ASSERT_TRUE(json_equal(sa, sb));
    json_decref(sa);
    json_decref(sb);

    /* a row deleted by hand: the next change starts from the live settings, versions keep growing */
    vc_db_conn_t *c = NULL;
    ASSERT_OK(vc_db_acquire(db1, -1, &c));
    ASSERT_OK(vc_db_exec(c, "DELETE FROM vc_nodepool_settings", VC_DB_NONE));
    vc_db_release(c);
    ASSERT_EQ(vc_nodepool_store_sync(b.store), 0);
    int64_t v = 0;
    ASSERT_OK(vc_nodepool_store_remove(b.store, "n3", &v, &err));
    ASSERT_EQ(v, 5);
    ASSERT_EQ(vc_nodepool_store_sync(a.store), 1);
    ASSERT_TRUE(names_are(a.pool, "fullnode,n2,n4"));
    inst_stop(&a);
    inst_stop(&b);
    free(err);
    vc_db_free(db1);
    vc_db_free(db2);
}

/* The follower thread: a change made on one instance shows on the other without a call to it
 * (waited for with a generous bound; nothing is asserted about how fast). */
static void test_follower_thread(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    vc_db_t *db1 = open_db(dsn), *db2 = open_db(dsn);
    ASSERT_TRUE(db1 && db2);
    char *err = NULL;
    inst_t a, b = {0};
    ASSERT_OK(inst_start(&a, db1, &main_node, NULL, &err));
    ASSERT_OK(vc_nodepool_new(NULL, &b.pool));
    vc_nodepool_store_opts_t o = {.service = SVC, .seeds = &main_node, .n_seeds = 1, .follow_ms = 50};
    ASSERT_OK(vc_nodepool_store_new(db2, b.pool, &o, &b.store, &err));
    vc_nodepool_node_conf_t n2 = {.name = "n2", .url = "/ip4/127.0.0.1/tcp/2"};
    ASSERT_OK(vc_nodepool_store_add(a.store, &n2, NULL, &err));
    for (int i = 0; i < 1000 && vc_nodepool_store_version(b.store) < 2; i++)
        vc_sleep_ms(10);
    ASSERT_TRUE(names_are(b.pool, "fullnode,n2"));
    inst_stop(&a);
    inst_stop(&b);
    free(err);
    vc_db_free(db1);
    vc_db_free(db2);
}

typedef struct writer {
    vc_nodepool_store_t *store;
    int id, n, failed;
} writer_t;

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "w%d-%d", w->id, i);
        vc_nodepool_node_conf_t c = {.name = name, .url = "/ip4/127.0.0.1/tcp/9"};
        char *err = NULL;
        if (vc_nodepool_store_add(w->store, &c, NULL, &err) < 0) {
            fprintf(stderr, "writer %d: %s\n", w->id, err ? err : "?");
            w->failed++;
        }
        free(err);
    }
    return NULL;
}

/* Two instances adding nodes at once: every change lands, one version each. */
static void test_concurrent_changes(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    vc_db_t *db1 = open_db(dsn), *db2 = open_db(dsn);
    ASSERT_TRUE(db1 && db2);
    char *err = NULL;
    inst_t a, b;
    ASSERT_OK(inst_start(&a, db1, &main_node, NULL, &err));
    ASSERT_OK(inst_start(&b, db2, &main_node, NULL, &err));
    writer_t w[2] = {{.store = a.store, .id = 1, .n = 15}, {.store = b.store, .id = 2, .n = 15}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(w[0].failed + w[1].failed, 0);
    ASSERT_EQ(row(db1, NULL), 31);
    ASSERT_OK(vc_nodepool_store_sync(a.store));
    ASSERT_OK(vc_nodepool_store_sync(b.store));
    json_t *sa = settings_of(a.pool), *sb = settings_of(b.pool);
    ASSERT_EQ(json_array_size(json_object_get(sa, "Nodes")), 31);
    ASSERT_TRUE(json_equal(sa, sb));
    json_decref(sa);
    json_decref(sb);
    inst_stop(&a);
    inst_stop(&b);
    free(err);
    vc_db_free(db1);
    vc_db_free(db2);
}

static void test_rpc_shapes_and_metrics(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_NOTNULL(db);
    vc_metrics_t *metrics = vc_metrics_new("venus_miner");
    char *err = NULL;
    inst_t a;
    ASSERT_OK(inst_start(&a, db, &main_node, metrics, &err));
    json_t *res = NULL, *p;

    ASSERT_TRUE(vc_nodepool_store_rpc_writes("Filecoin.NodePoolAdd"));
    ASSERT_TRUE(vc_nodepool_store_rpc_writes("Filecoin.NodePoolConfig"));
    ASSERT_FALSE(vc_nodepool_store_rpc_writes("Filecoin.NodePoolList"));
    ASSERT_FALSE(vc_nodepool_store_rpc_writes("Filecoin.ChainHead"));

    p = json_pack("[{s:s, s:s, s:s}]", "Name", "n2", "URL", "/ip4/127.0.0.1/tcp/2", "Token", "rpc-secret");
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolAdd", p, &res, &err));
    json_decref(p);
    ASSERT_EQ(json_integer_value(json_object_get(res, "Version")), 2);
    ASSERT_EQ(json_array_size(json_object_get(json_object_get(res, "Settings"), "Nodes")), 2);
    char *dump = json_dumps(res, 0);
    ASSERT_TRUE(dump && !strstr(dump, "rpc-secret") && !strstr(dump, "main-secret"));
    free(dump);
    json_decref(res);

    p = json_pack("[{s:s, s:s, s:s, s:b}]", "Method", "MpoolPush", "Policy", "onebyindexasc", "Timeout", "10s",
                  "NoHang", 1);
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolPolicy", p, &res, &err));
    json_decref(p);
    json_t *mp = json_object_get(json_object_get(json_object_get(res, "Settings"), "Methods"), "Filecoin.MpoolPush");
    ASSERT_STREQ(json_string_value(json_object_get(mp, "Policy")), "OneByIndexAsc");
    ASSERT_STREQ(json_string_value(json_object_get(mp, "Timeout")), "10s");
    ASSERT_TRUE(json_is_true(json_object_get(mp, "NoHang")));
    json_decref(res);

    /* a bad policy name: refused with the list of names, no new version */
    p = json_pack("[{s:s, s:s}]", "Method", "ChainHead", "Policy", "Fastest");
    ASSERT_EQ(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolPolicy", p, &res, &err), -EINVAL);
    json_decref(p);
    ASSERT_STREQ(err, "unknown policy 'Fastest' (one of OneByIndexAsc, OneByIndexDesc, OneByIdRound, "
                      "OneByChainHeadDesc, OneByMessagePeersDesc, OneByBlockPeersDesc, OneBySeedRound, "
                      "AllWithFirstSucceed)");
    ASSERT_EQ(vc_nodepool_store_version(a.store), 3);
    p = json_pack("[{s:s, s:s}]", "Method", "ChainHead", "Timeout", "20s");
    ASSERT_EQ(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolPolicy", p, &res, &err), -EINVAL);
    json_decref(p);
    ASSERT_STREQ(err, "Timeout and NoHang go with a Policy (without one the method's entry is dropped)");
    p = json_pack("[{s:s, s:s, s:s}]", "Method", "ChainHead", "Policy", "OneByIndexAsc", "Timeout", "forever");
    ASSERT_EQ(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolPolicy", p, &res, &err), -EINVAL);
    json_decref(p);
    ASSERT_STREQ(err, "Timeout: expected a duration up to 1h such as \"10s\", not 'forever'");
    p = json_pack("[s]", "x");
    ASSERT_EQ(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolAdd", p, &res, &err), -EINVAL);
    ASSERT_EQ(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolFly", p, &res, &err), -ENOSYS);
    json_decref(p);
    ASSERT_EQ(vc_nodepool_store_version(a.store), 3);

    p = json_pack("[{s:s, s:s}]", "Name", "n2", "Token", "new-secret");
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolSet", p, &res, &err));
    json_decref(p);
    json_decref(res);
    p = json_pack("[{s:i}]", "MaxCallErrors", 5);
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolConfig", p, &res, &err));
    json_decref(p);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(res, "Settings"), "MaxCallErrors")), 5);
    json_decref(res);
    p = json_pack("[{s:s, s:n}]", "Method", "MpoolPush", "Policy");
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolPolicy", p, &res, &err));
    json_decref(p);
    ASSERT_EQ(json_object_size(json_object_get(json_object_get(res, "Settings"), "Methods")), 0);
    json_decref(res);

    /* list: per-node status, the version, the settings; never a token */
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolList", NULL, &res, &err));
    ASSERT_EQ(json_integer_value(json_object_get(res, "Version")), 6);
    json_t *nodes = json_object_get(res, "Nodes");
    ASSERT_EQ(json_array_size(nodes), 2);
    json_t *n0 = json_array_get(nodes, 0);
    ASSERT_STREQ(json_string_value(json_object_get(n0, "Name")), "fullnode");
    ASSERT_TRUE(json_is_boolean(json_object_get(n0, "Enabled")));
    ASSERT_TRUE(json_is_integer(json_object_get(n0, "Height")));
    ASSERT_TRUE(json_is_string(json_object_get(n0, "Reason")));
    ASSERT_TRUE(json_is_integer(json_object_get(res, "BestHeight")));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(res, "Settings"), "MaxCallErrors")), 5);
    dump = json_dumps(res, 0);
    ASSERT_TRUE(dump && !strstr(dump, "secret"));
    free(dump);
    json_decref(res);

    p = json_pack("[s]", "n2");
    ASSERT_OK(vc_nodepool_store_rpc(a.store, "Filecoin.NodePoolRemove", p, &res, &err));
    json_decref(p);
    json_decref(res);

    /* metrics: both nodes known, the removed one reads 0; the version */
    vc_buf_t b = {0};
    ASSERT_OK(vc_metrics_render(metrics, &b));
    const char *text = b.data ? b.data : "";
    VC_CHECK(strstr(text, "venus_miner_node_pool_node_enabled{node=\"fullnode\"} 0") != NULL);
    VC_CHECK(strstr(text, "venus_miner_node_pool_node_enabled{node=\"n2\"} 0") != NULL);
    VC_CHECK(strstr(text, "venus_miner_node_pool_node_height{node=\"fullnode\"} 0") != NULL);
    VC_CHECK(strstr(text, "venus_miner_node_pool_settings_version 7") != NULL);
    VC_CHECK(strstr(text, "venus_miner_node_pool_best_height ") != NULL);
    vc_buf_done(&b);
    inst_stop(&a);
    vc_metrics_free(metrics);
    free(err);
    vc_db_free(db);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    use_pg = vc_test_has_flag("--pg");
    if (use_pg && !vc_test_pg_dsn()) {
        printf("# --pg: no PostgreSQL DSN (set VC_PG_DSN or VC_PG_DSN_FILE); skipping\n");
        return 0;
    }
    unsetenv(VC_NODEPOOL_ENV);
    VC_TEST_RUN(test_seed_then_row_wins);
    VC_TEST_RUN(test_changes);
    VC_TEST_RUN(test_two_instances);
    VC_TEST_RUN(test_follower_thread);
    VC_TEST_RUN(test_concurrent_changes);
    VC_TEST_RUN(test_rpc_shapes_and_metrics);
    return VC_TEST_DONE();
}
