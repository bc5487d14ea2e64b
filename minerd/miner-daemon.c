/* miner-daemon.c: `venus-miner init` and `venus-miner run` (spec A.2). */
#define _GNU_SOURCE /* asprintf */
#include "miner-daemon.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miner-api.h"
#include "miner-config.h"
#include "miner.h"
#include "vc/authn.h"
#include "vc/http.h"
#include "vc/log.h"
#include "vc/metrics.h"
#include "vc/nodepool-store.h"
#include "vc/nodepool.h"
#include "vc/notify.h"
#include "vc/util.h"

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("ERROR: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

char *miner_repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? MINER_DEFAULT_REPO : repo);
}

static vc_client_t *node_client(const char *addr, const char *token, int timeout_ms)
{
    const char *eps[] = {addr};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v1", .token = token,
                          .api_namespace = "v1.FullNode", .timeout_ms = timeout_ms};
    vc_client_t *c = NULL;
    return vc_client_new(&o, &c) < 0 ? NULL : c;
}

/* Version().APIVersion of a node's answer; exact: run needs 2.3.0, init only major.minor. */
static int check_api_version(json_t *v, bool exact)
{
    json_int_t api = json_integer_value(json_object_get(v, "APIVersion"));
    json_decref(v);
    bool ok = exact ? api == MINER_NODE_API_VERSION : (api >> 8) == (MINER_NODE_API_VERSION >> 8);
    if (!ok)
        return fail("the chain node's APIVersion is %d.%d.%d; venus-miner needs 2.3.0", (int)((api >> 16) & 0xff),
                    (int)((api >> 8) & 0xff), (int)(api & 0xff));
    return 0;
}

static int check_node_version(vc_client_t *node)
{
    vc_rpc_err_t e = {0};
    json_t *v = NULL;
    int r = vc_client_call(node, "Filecoin.Version", NULL, &v, &e);
    if (r < 0)
        return fail("cannot reach the chain node at %s: %s", vc_client_current(node),
                    *e.message ? e.message : vc_strerror(r));
    return check_api_version(v, false);
}

/* The same through the pool (one healthy node answers). */
static int check_pool_version(vc_nodepool_t *pool)
{
    vc_rpc_err_t e = {0};
    json_t *v = NULL;
    char *node = NULL;
    int r = vc_nodepool_call_ex(pool, "Filecoin.Version", NULL, NULL, &node, &v, &e);
    if (r < 0) {
        fail("cannot reach a chain node%s%s: %s", node ? " at " : "", node ? node : "",
             *e.message ? e.message : vc_strerror(r));
        free(node);
        return 1;
    }
    free(node);
    return check_api_version(v, true);
}

/* ------------------------------------------------------------------ init */

const vc_cli_flag_t miner_init_flags[] = {
    {"api", NULL, VC_FLAG_STRING, "full node API (multiaddr or URL)", NULL, NULL, true},
    {"token", NULL, VC_FLAG_STRING, "token for the full node, the gateway and venus-auth", NULL, NULL, true},
    {"auth-api", NULL, VC_FLAG_STRINGS, "venus-auth URL (repeatable: several instances, tried in order)", NULL, NULL,
     true},
    {"gateway-api", NULL, VC_FLAG_STRINGS, "venus-gateway API (repeatable)", NULL, NULL, true},
    {"slash-filter", NULL, VC_FLAG_STRING, "slash filter store: local (sqlite in the repo) or postgres", "local"},
    {"pg-dsn", NULL, VC_FLAG_STRING, "PostgreSQL DSN (with --slash-filter postgres)"},
    {"mysql-conn", NULL, VC_FLAG_STRING, "not supported: use --slash-filter postgres --pg-dsn", .hidden = true},
    {"listen", NULL, VC_FLAG_STRING, "address to serve the API on", "127.0.0.1:12308"},
    {0},
};

static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (vc_streq(e->d_name, ".") || vc_streq(e->d_name, ".."))
                continue;
            _cleanup_free_ char *p = vc_path_join(path, e->d_name);
            struct stat st;
            if (p && lstat(p, &st) == 0)
                S_ISDIR(st.st_mode) ? remove_tree(p) : unlink(p);
        }
        closedir(d);
    }
    return rmdir(path);
}

int miner_cmd_init(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = miner_repo_path(ctx);
    _cleanup_free_ char *conf_path = NULL;
    const char *sf = vc_cli_string(ctx, "slash-filter");
    vc_client_t *node = NULL;
    vc_conf_t *c = NULL;
    int rc = 1, r;
    bool made = false;

    if (!repo)
        return fail("out of memory");
    if (vc_cli_is_set(ctx, "mysql-conn") || vc_streq(sf, "mysql"))
        return fail("MySQL is not supported by venus-c: use --slash-filter postgres --pg-dsn <dsn>, or local");
    if (!vc_streq(sf, "local") && !vc_streq(sf, "postgres"))
        return fail("--slash-filter must be local or postgres, not '%s'", sf);
    if (vc_streq(sf, "postgres") && vc_strempty(vc_cli_string(ctx, "pg-dsn")))
        return fail("--slash-filter postgres needs --pg-dsn");
    /* 1. the node, and its block delay for PropagationDelaySecs */
    if (!(node = node_client(vc_cli_string(ctx, "api"), vc_cli_string(ctx, "token"), 15000)))
        return fail("invalid --api '%s'", vc_cli_string(ctx, "api"));
    if (check_node_version(node) != 0)
        goto out;
    vc_rpc_err_t e = {0};
    json_t *np = NULL;
    if ((r = vc_client_call(node, "Filecoin.StateGetNetworkParams", NULL, &np, &e)) < 0) {
        fail("StateGetNetworkParams: %s", *e.message ? e.message : vc_strerror(r));
        goto out;
    }
    int64_t bd = json_integer_value(json_object_get(np, "BlockDelaySecs"));
    json_decref(np);
    int64_t pd = bd == 30 ? 12 : bd == 4 ? 1 : bd / 2;
    /* 2. the repo: must not exist */
    if (access(repo, F_OK) == 0) {
        fail("repo at %s already exists: remove it or use another --repo", repo);
        goto out;
    }
    if ((r = vc_mkdir_p(repo, 0700)) < 0) {
        fail("cannot create %s: %s", repo, vc_strerror(r));
        goto out;
    }
    made = true;
    /* 3. the config */
    const char *tok = vc_cli_string(ctx, "token");
    size_t ng = 0;
    const char *const *gws = vc_cli_strings(ctx, "gateway-api", &ng);
    if (!(c = miner_config_defaults()) || !(conf_path = vc_path_join(repo, "config.toml"))) {
        fail("out of memory");
        goto out;
    }
    r = vc_conf_set_int(c, "PropagationDelaySecs", pd);
    r = r ?: vc_conf_set_string(c, "API.ListenAddress", vc_cli_string(ctx, "listen"));
    r = r ?: vc_conf_set_string(c, "FullNode.Addr", vc_cli_string(ctx, "api"));
    r = r ?: vc_conf_set_string(c, "FullNode.Token", tok);
    r = r ?: vc_conf_set_string_array(c, "Gateway.ListenAPI", gws, (long)ng);
    r = r ?: vc_conf_set_string(c, "Gateway.Token", tok);
    size_t na = 0;
    const char *const *auths = vc_cli_strings(ctx, "auth-api", &na);
    r = r ?: (na == 1 ? vc_conf_set_string(c, "Auth.Addr", auths[0])
                      : vc_conf_set_string_array(c, "Auth.Addr", auths, (long)na));
    r = r ?: vc_conf_set_string(c, "Auth.Token", tok);
    r = r ?: vc_conf_set_string(c, "SlashFilter.Type", sf);
    r = r ?: vc_conf_set_string(c, "SlashFilter.Postgres.Dsn", vc_cli_string(ctx, "pg-dsn"));
    miner_config_t cfg = {0};
    char *err = NULL;
    if (r < 0 || (r = miner_config_read(c, &cfg, &err)) < 0) {
        fail("config: %s", err ? err : vc_conf_error(c));
        free(err);
        goto out;
    }
    miner_config_done(&cfg);
    if ((r = vc_conf_save(c, conf_path, 0600)) < 0) {
        fail("cannot write %s: %s", conf_path, vc_strerror(r));
        goto out;
    }
    printf("venus-miner repo initialised at %s (PropagationDelaySecs = %lld)\n", repo, (long long)pd);
    rc = 0;
out:
    if (rc != 0 && made)
        remove_tree(repo);
    vc_conf_free(c);
    vc_client_free(node);
    return rc;
}

/* ------------------------------------------------------------------ run */

const vc_cli_flag_t miner_run_flags[] = {
    {"listen", NULL, VC_FLAG_STRING, "address to serve the API on (overrides API.ListenAddress)"},
    {"nosync", NULL, VC_FLAG_BOOL, "do not wait for the node to be in sync"},
    {"api-max-req-size", NULL, VC_FLAG_INT, "largest API request body in bytes (0 = 16 MiB)"},
    {0},
};

static int verify_token(void *userdata, const char *token, vc_auth_info_t *ret)
{
    return vc_authn_verify(userdata, token, ret);
}

/* Waits until a node of the pool is healthy and the head is above 0 (A.2 run step 3); false
 * when interrupted. */
/* Lease events to the [Notify] URL webhook (only set when one is configured). */
static void notify_leading(int64_t token, void *userdata)
{
    char tb[32];
    snprintf(tb, sizeof(tb), "%lld", (long long)token);
    (void)vc_notify_post(userdata, "became-leader", tb);
}

static void notify_standby(void *userdata)
{
    (void)vc_notify_post(userdata, "stepped-down", "");
}

static bool wait_height(vc_nodepool_t *pool, sigset_t *set)
{
    for (int i = 0;; i++) {
        json_t *h = NULL;
        vc_rpc_err_t e = {0};
        if (vc_nodepool_wait_ready(pool, 1000) == 0 && vc_nodepool_call(pool, "Filecoin.ChainHead", NULL, NULL, &h, &e) == 0 &&
            json_integer_value(json_object_get(h, "Height")) > 0) {
            json_decref(h);
            return true;
        }
        json_decref(h);
        if (i % 10 == 0)
            vc_logkv(VC_LOG_NOTICE, "miner", "waiting for a healthy chain node and the head to pass height 0", NULL);
        struct timespec ts = {1, 0};
        if (sigtimedwait(set, NULL, &ts) > 0)
            return false;
    }
}

/* SyncWait: done when the head is within one block delay of now. */
static bool wait_sync(vc_nodepool_t *pool, int64_t bd_s, sigset_t *set)
{
    for (int i = 0;; i++) {
        json_t *h = NULL;
        vc_rpc_err_t e = {0};
        if (vc_nodepool_wait_ready(pool, 1000) == 0 && vc_nodepool_call(pool, "Filecoin.ChainHead", NULL, NULL, &h, &e) == 0) {
            json_int_t ts = json_integer_value(json_object_get(json_array_get(json_object_get(h, "Blocks"), 0),
                                                               "Timestamp"));
            json_decref(h);
            if (vc_now_real_us() / 1000000 - ts < bd_s * 2)
                return true;
        }
        if (i % 10 == 0)
            vc_logkv(VC_LOG_NOTICE, "miner", "waiting for the node to sync (use --nosync to skip)", NULL);
        struct timespec t = {1, 0};
        if (sigtimedwait(set, NULL, &t) > 0)
            return false;
    }
}

/*
 * The chain-node pool: its settings live in the miner's database (row "miner", or
 * "miner/<HA scope>"); an empty database is seeded with [FullNode] (node "fullnode") and
 * $FULLNODE_API_POOL_INFO. Each attempt is bounded like the single node client was: MinerOnceTimeout
 * + 5 s, at most 60 s (CallTimeout, changeable with `node-pool config`).
 */
static int open_pool(const miner_config_t *cfg, miner_store_t *store, vc_metrics_t *metrics, vc_nodepool_t **ret_pool,
                     vc_nodepool_store_t **ret_store)
{
    vc_nodepool_node_conf_t seed = {.name = "fullnode", .url = cfg->node.addr, .token = cfg->node.token};
    int64_t call_ms = cfg->once_timeout_ms + 5000;
    char *err = NULL;
    int r = vc_nodepool_open(miner_store_db(store), "miner", cfg->ha.scope, &seed,
                             (int)(call_ms > 60000 ? 60000 : call_ms < 1000 ? 1000 : call_ms), metrics, ret_pool,
                             ret_store, &err);
    if (r < 0) {
        fail("chain-node pool: %s", err ? err : vc_strerror(r));
        free(err);
        return 1;
    }
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)vc_nodepool_store_version(*ret_store));
    vc_logkv(VC_LOG_NOTICE, "miner",
             vc_nodepool_store_seeded(*ret_store)
                 ? "chain-node pool seeded from [FullNode] and " VC_NODEPOOL_ENV
                 : "chain-node pool from the database ([FullNode] and " VC_NODEPOOL_ENV " only seed an empty one; "
                   "use `venus-miner node-pool`)",
             "version", v, NULL);
    const char *drift = vc_nodepool_store_seed_drift(*ret_store);
    if (drift)
        vc_logkv(VC_LOG_WARNING, "miner", "chain-node pool: configuration not applied", "why", drift, NULL);
    return 0;
}

/* The network-name guard: the store remembers the network it first ran on. */
static int check_network(miner_store_t *store, const char *name)
{
    char *have = NULL;
    int r = miner_store_kv_get(store, "network_name", &have);
    if (r < 0)
        return fail("cannot read the database: %s", vc_strerror(r));
    if (!have) {
        if ((r = miner_store_kv_set(store, "network_name", name)) < 0)
            return fail("cannot write the database: %s", vc_strerror(r));
        return 0;
    }
    r = vc_streq(have, name) ? 0
                             : fail("network name not match: the database belongs to '%s', the node is on '%s'", have,
                                    name);
    free(have);
    return r;
}

int miner_cmd_run(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = miner_repo_path(ctx);
    _cleanup_free_ char *conf_path = NULL, *token_path = NULL, *api_path = NULL, *dsn = NULL;
    vc_conf_t *conf = NULL;
    miner_config_t cfg = {0};
    miner_store_t *store = NULL;
    vc_client_t *auth = NULL, **submit = NULL;
    vc_nodepool_t *pool = NULL;
    vc_nodepool_store_t *pool_store = NULL;
    vc_clientset_t *gateway = NULL;
    vc_authn_t *authn = NULL;
    vc_ha_elector_t *elector = NULL;
    vc_notify_t *notify = NULL;
    vc_ha_presence_t *presence = NULL;
    miner_t *m = NULL;
    miner_api_t *api = NULL;
    vc_http_server_t *http = NULL;
    vc_metrics_t *metrics = NULL;
    char *err = NULL;
    int rc = 1, r;

    if (!repo || !(conf_path = vc_path_join(repo, "config.toml")) || !(token_path = vc_path_join(repo, "token")) ||
        !(api_path = vc_path_join(repo, "api")))
        return fail("out of memory");
    if ((r = miner_config_load(conf_path, &conf, &err)) < 0) {
        if (r == -ENOENT)
            fail("no config at %s: run `venus-miner init` first (or pass --repo)", conf_path);
        else
            fail("%s", err ? err : vc_strerror(r));
        goto out;
    }
    if (vc_cli_is_set(ctx, "listen") && vc_conf_set_string(conf, "API.ListenAddress", vc_cli_string(ctx, "listen")) < 0)
        goto out;
    if ((r = miner_config_read(conf, &cfg, &err)) < 0) {
        fail("config %s: %s", conf_path, err ? err : vc_strerror(r));
        goto out;
    }
    dsn = vc_streq(cfg.slash_type, "postgres") ? strdup(cfg.pg_dsn)
          : *cfg.sqlite_path                    ? vc_expand_home(cfg.sqlite_path)
                                                : vc_path_join(repo, "miner.db");
    free(err);
    err = NULL;
    if (!dsn || (r = miner_store_open(dsn, &store, &err)) < 0) {
        fail("cannot open the %s database: %s", cfg.slash_type, err ? err : "out of memory");
        goto out;
    }
    metrics = vc_metrics_new("venus_miner");
    if ((r = open_pool(&cfg, store, metrics, &pool, &pool_store)) != 0)
        goto out;
    if (cfg.n_submit && !(submit = calloc(cfg.n_submit, sizeof(*submit))))
        goto out;
    for (size_t i = 0; i < cfg.n_submit; i++)
        if (!(submit[i] = node_client(cfg.submit[i].addr, cfg.submit[i].token, 15000))) {
            fail("invalid SubmitNodes[%zu].Addr '%s'", i, cfg.submit[i].addr);
            goto out;
        }
    vc_client_opts_t go = {.endpoints = (const char *const *)cfg.gateway_urls, .n_endpoints = cfg.n_gateway_urls,
                           .default_path = "/rpc/v2", .token = cfg.gateway_token, .api_namespace = "gateway.IGateway",
                           .timeout_ms = (int)(cfg.once_timeout_ms + 2000)};
    const char *const *auth_eps = (const char *const *)cfg.auth_urls;
    vc_client_opts_t ao = {.endpoints = auth_eps, .n_endpoints = cfg.n_auth_urls, .token = cfg.auth.token,
                           .timeout_ms = 10000};
    /* a signer or prover connected to another gateway: try the next one */
    static const char *const gw_retry[] = {"must have channel", "no connections for this miner", NULL};
    vc_clientset_opts_t gso = {.client = go, .retry_messages = gw_retry};
    if ((r = vc_clientset_new(&gso, &gateway)) < 0 || (r = vc_client_new(&ao, &auth)) < 0) {
        fail("cannot set up the gateway / venus-auth clients: %s", vc_strerror(r));
        goto out;
    }
    vc_authn_opts_t auo = {.token_path = token_path, .auth_urls = auth_eps, .n_auth_urls = cfg.n_auth_urls,
                           .auth_token = cfg.auth.token};
    if ((r = vc_authn_new(&auo, &authn)) < 0) {
        fail("cannot write %s: %s", token_path, vc_strerror(r));
        goto out;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* A.2 run: head > 0, exact API version, network, sync */
    if (!wait_height(pool, &set)) {
        rc = 0;
        goto out;
    }
    if (check_pool_version(pool) != 0)
        goto out;
    /* HA: one active miner per scope; the others follow the chain as standbys */
    if ((r = vc_notify_new(&(vc_notify_options_t){.url = cfg.notify_url, .service = "miner"}, &notify)) < 0) {
        fail("[Notify] URL: %s", vc_strerror(r));
        goto out;
    }
    if ((r = vc_ha_elector_from_settings(miner_store_db(store), "miner", &cfg.ha, notify ? notify_leading : NULL,
                                         notify ? notify_standby : NULL, notify, &elector)) < 0) {
        fail("cannot start the mining lease: %s", vc_strerror(r));
        goto out;
    }
    if (elector) {
        miner_store_set_fence(store, vc_ha_elector_fence, elector);
        vc_logkv(VC_LOG_NOTICE, "ha", "mining lease elector started", "holder", vc_ha_elector_holder(elector),
                 "scope", cfg.ha.scope, NULL);
    }
    /* presence for `ha status` peers: the address is known once the API listens */
    if ((r = vc_ha_presence_start(miner_store_db(store), "miner", elector, NULL, &presence)) < 0) {
        fail("cannot start the presence heartbeat: %s", vc_strerror(r));
        goto out;
    }
    const char *ev = getenv("INSECURE_POST_VALIDATION"), *fs = getenv("DISABLE_FORK_SIGNALING");
    miner_opts_t mo = {.pool = pool, .pool_store = pool_store, .submit = submit, .n_submit = cfg.n_submit, .gateway = gateway, .auth = auth,
                       .store = store, .metrics = metrics, .propagation_ms = cfg.propagation_ms,
                       .once_timeout_ms = cfg.once_timeout_ms, .mpool_select_timeout_ms = cfg.mpool_select_delay_ms,
                       .recorder = cfg.recorder, .record_expire_epochs = cfg.record_expire,
                       .record_max_query = cfg.record_max_query, .insecure_post = ev && vc_streq(ev, "1"),
                       .no_fork_signaling = fs && vc_streq(fs, "1"), .elector = elector,
                       .presence = presence};
    if ((r = miner_new(&mo, &m)) < 0) {
        fail("%s", vc_strerror(r));
        goto out;
    }
    if ((r = miner_load_network(m, &err)) < 0) {
        fail("cannot read the network parameters: %s", err ? err : vc_strerror(r));
        goto out;
    }
    if (check_network(store, miner_network_name(m)) != 0)
        goto out;
    if (!vc_cli_bool(ctx, "nosync") && !wait_sync(pool, miner_block_delay_s(m), &set)) {
        rc = 0;
        goto out;
    }
    if ((r = miner_api_new(m, store, authn, &api)) < 0) {
        fail("%s", vc_strerror(r));
        goto out;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    vc_http_opts_t ho = {.listen = cfg.listen, .threads = (unsigned)(ncpu > 0 ? ncpu : 2),
                         .max_body = (size_t)(vc_cli_int(ctx, "api-max-req-size") > 0 ? vc_cli_int(ctx, "api-max-req-size") : 0)};
    if ((r = vc_http_server_new(&ho, &http)) < 0 || (r = miner_api_mount(api, http)) < 0) {
        fail("%s", vc_strerror(r));
        goto out;
    }
    vc_http_set_auth(http, verify_token, authn);
    if (metrics) {
        vc_metrics_add_process(metrics);
        vc_http_set_metrics(http, metrics);
    }
    if ((r = vc_http_start(http)) < 0) {
        fail("cannot listen on %s: %s", cfg.listen, r == -EADDRINUSE ? "address in use" : vc_strerror(r));
        goto out;
    }
    (void)vc_ha_presence_set_addr(presence, vc_http_bound(http));
    free(err);
    err = NULL;
    if ((r = miner_start(m, &err)) < 0) {
        fail("cannot start mining: %s", err ? err : vc_strerror(r));
        goto out;
    }
    if (vc_write_file_atomic(api_path, vc_http_bound(http), strlen(vc_http_bound(http)), 0600) < 0)
        vc_warning("cannot write %s, ignoring", api_path);
    char npv[24];
    snprintf(npv, sizeof(npv), "%lld", (long long)vc_nodepool_store_version(pool_store));
    vc_logkv(VC_LOG_NOTICE, "service", "venus-miner serving", "listen", vc_http_bound(http), "node_pool_version", npv,
             "network", miner_network_name(m), "db", miner_store_backend(store), "repo", repo, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    vc_logkv(VC_LOG_NOTICE, "service", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    rc = 0;
out:
    if (api_path)
        unlink(api_path);
    vc_http_server_free(http);
    miner_api_free(api);
    miner_free(m);
    vc_ha_presence_free(presence); /* deletes its row; reads the elector's role */
    vc_ha_elector_free(elector);   /* after the loop stopped: releases the lease */
    vc_notify_free(notify);
    vc_nodepool_store_free(pool_store);
    vc_nodepool_free(pool);
    vc_metrics_free(metrics);
    vc_authn_free(authn);
    for (size_t i = 0; submit && i < cfg.n_submit; i++)
        vc_client_free(submit[i]);
    free(submit);
    vc_clientset_free(gateway);
    vc_client_free(auth);
    miner_store_free(store);
    miner_config_done(&cfg);
    vc_conf_free(conf);
    free(err);
    return rc;
}
