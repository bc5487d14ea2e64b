/* msgr-daemon.c: `venus-messager run`: config, store, upstream clients, service, API, HTTP. */
#define _GNU_SOURCE /* asprintf */
#include "msgr-daemon.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msgr-api.h"
#include "msgr-config.h"
#include "msgr-service.h"
#include "vc/authn.h"
#include "vc/client.h"
#include "vc/http.h"
#include "vc/log.h"
#include "vc/metrics.h"
#include "vc/nodepool-store.h"
#include "vc/nodepool.h"
#include "vc/util.h"

const vc_cli_flag_t msgr_run_flags[] = {
    {"listen", NULL, VC_FLAG_STRING, "address to serve the API on (multiaddr or host:port)", MSGR_DEFAULT_LISTEN},
    {"node-url", NULL, VC_FLAG_STRING, "chain node address (multiaddr or URL)"},
    {"node-token", NULL, VC_FLAG_STRING, "chain node token"},
    {"gateway-url", NULL, VC_FLAG_STRINGS, "venus-gateway address (repeatable)"},
    {"gateway-token", NULL, VC_FLAG_STRING, "venus-gateway token"},
    {"auth-url", NULL, VC_FLAG_STRING, "venus-auth URL (several: comma-separated, tried in order)"},
    {"auth-token", NULL, VC_FLAG_STRING, "token for venus-auth (also the node and gateway token unless given)"},
    {"db-type", NULL, VC_FLAG_STRING, "sqlite or postgres"},
    {"pg-dsn", NULL, VC_FLAG_STRING, "PostgreSQL DSN (with --db-type postgres)"},
    {"mysql-dsn", NULL, VC_FLAG_STRING, "not supported: use --db-type postgres --pg-dsn", .hidden = true},
    {"disable-push", NULL, VC_FLAG_BOOL, "neither process heads nor push messages (a read-only instance)"},
    {0},
};

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

char *msgr_repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? MSGR_DEFAULT_REPO : repo);
}

static char *path_in(const char *repo, const char *file)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", repo, file) < 0 ? NULL : p;
}

/* The run flags laid over the config (spec 7: --auth-token sets the node, gateway and jwt
 * tokens at once; the specific flags win). */
static int apply_flags(vc_cli_ctx_t *ctx, vc_conf_t *c)
{
    int r = 0;
    if (vc_cli_is_set(ctx, "listen"))
        r = r ?: vc_conf_set_string(c, "api.Address", vc_cli_string(ctx, "listen"));
    if (vc_cli_is_set(ctx, "auth-token")) {
        const char *t = vc_cli_string(ctx, "auth-token");
        r = r ?: vc_conf_set_string(c, "jwt.token", t);
        r = r ?: vc_conf_set_string(c, "node.token", t);
        r = r ?: vc_conf_set_string(c, "gateway.token", t);
    }
    if (vc_cli_is_set(ctx, "auth-url"))
        r = r ?: vc_conf_set_string(c, "jwt.authURL", vc_cli_string(ctx, "auth-url"));
    if (vc_cli_is_set(ctx, "node-url"))
        r = r ?: vc_conf_set_string(c, "node.url", vc_cli_string(ctx, "node-url"));
    if (vc_cli_is_set(ctx, "node-token"))
        r = r ?: vc_conf_set_string(c, "node.token", vc_cli_string(ctx, "node-token"));
    if (vc_cli_is_set(ctx, "gateway-url"))
        r = r ?: vc_conf_set_string_array(c, "gateway.url", vc_cli_strings(ctx, "gateway-url", NULL), -1);
    if (vc_cli_is_set(ctx, "gateway-token"))
        r = r ?: vc_conf_set_string(c, "gateway.token", vc_cli_string(ctx, "gateway-token"));
    if (vc_cli_is_set(ctx, "db-type"))
        r = r ?: vc_conf_set_string(c, "db.type", vc_cli_string(ctx, "db-type"));
    if (vc_cli_is_set(ctx, "pg-dsn"))
        r = r ?: vc_conf_set_string(c, "db.postgres.dsn", vc_cli_string(ctx, "pg-dsn"));
    if (vc_cli_bool(ctx, "disable-push")) {
        r = r ?: vc_conf_set_bool(c, "messageService.skipPushMessage", true);
        r = r ?: vc_conf_set_bool(c, "messageService.skipProcessHead", true);
    }
    return r;
}

/* The HTTP token check: vc_authn keeps every positive answer for its cache TTL (5 s), so a
 * request with a known token costs a hash and a lookup, not a JWT parse and an HMAC. */
static int verify_token(void *userdata, const char *token, vc_auth_info_t *ret)
{
    return vc_authn_verify(userdata, token, ret);
}

/* /metrics: per-state message counts (msgr_messages{state=".."} as gauges read at render). */
typedef struct state_gauge {
    msgr_store_t *store;
    int state;
} state_gauge_t;

static double count_state(void *userdata)
{
    state_gauge_t *g = userdata;
    int64_t counts[MSGR_MSG_STATE_MAX] = {0};
    return msgr_store_msg_count_by_state(g->store, counts) < 0 ? -1 : (double)counts[g->state];
}

/* /metrics: the service's counters, one reader for all of them (by field offset). */
typedef struct stat_counter {
    msgr_service_t *svc;
    size_t offset; /* of a uint64_t in msgr_service_stats_t */
} stat_counter_t;

static double read_stat(void *userdata)
{
    stat_counter_t *c = userdata;
    msgr_service_stats_t st;
    msgr_service_stats(c->svc, &st);
    uint64_t v;
    memcpy(&v, (const char *)&st + c->offset, sizeof(v));
    return (double)v;
}

static const struct {
    const char *name, *help;
    size_t offset;
} stat_counters[] = {
    {"push_batches_total", "Group commits of pushed messages.", offsetof(msgr_service_stats_t, push_batches)},
    {"push_messages_total", "Pushed messages written by the group commits.",
     offsetof(msgr_service_stats_t, push_msgs)},
    {"extra_node_pushes_total", "Batches an extra node (nodes table) accepted.",
     offsetof(msgr_service_stats_t, node_pushes)},
    {"extra_node_push_errors_total", "Batches an extra node refused or could not be reached for.",
     offsetof(msgr_service_stats_t, node_push_errors)},
    {"extra_node_dropped_total", "Batches dropped because an extra node's queue was full.",
     offsetof(msgr_service_stats_t, node_dropped)},
};
#define N_STAT_COUNTERS (sizeof(stat_counters) / sizeof(stat_counters[0]))

static double address_num(void *userdata)
{
    msgr_address_t *v = NULL;
    size_t n = 0;
    if (msgr_store_addr_list(userdata, true, &v, &n) < 0)
        return -1;
    msgr_addresses_free(v, n);
    return (double)n;
}

/* /metrics: UnFillMsg/FillMsg messages of active addresses pushed more than 5 minutes ago (as
 * ListBlockedMessage; upstream's blocked_five_minutes_msgs, summed over addresses). */
static double blocked_five_minutes(void *userdata)
{
    msgr_message_t *v = NULL;
    size_t n = 0;
    int64_t before_ns = vc_now_real_us() * 1000 - INT64_C(5) * 60 * 1000000000;
    if (msgr_store_msg_list_blocked(userdata, NULL, before_ns, &v, &n) < 0)
        return -1;
    msgr_messages_free(v, n);
    return (double)n;
}

/*
 * The chain-node pool: its settings live in the messager's database (row "messager", or
 * "messager/<HA scope>"); an empty database is seeded with [node] (node "node") and
 * $FULLNODE_API_POOL_INFO. Each attempt is bounded by EstimateMessageTimeout + 5 s (CallTimeout,
 * changeable with `node-pool config`). 0, or the exit code after printing why.
 */
static int open_pool(const msgr_config_t *cfg, msgr_store_t *store, vc_metrics_t *metrics, vc_nodepool_t **ret_pool,
                     vc_nodepool_store_t **ret_store)
{
    vc_nodepool_node_conf_t seed = {.name = "node", .url = cfg->node_url, .token = cfg->node_token};
    int64_t call_ms = cfg->estimate_timeout_ms + 5000;
    char *err = NULL;
    int r = vc_nodepool_open(msgr_store_db(store), "messager", cfg->ha.scope, &seed,
                             (int)(call_ms > 120000 ? 120000 : call_ms), metrics, ret_pool, ret_store, &err);
    if (r < 0) {
        fail("chain-node pool: %s", err ? err : vc_strerror(r));
        free(err);
        return 1;
    }
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)vc_nodepool_store_version(*ret_store));
    vc_logkv(VC_LOG_NOTICE, "service",
             vc_nodepool_store_seeded(*ret_store)
                 ? "chain-node pool seeded from [node] and " VC_NODEPOOL_ENV
                 : "chain-node pool from the database ([node] and " VC_NODEPOOL_ENV " only seed an empty one; "
                   "use `venus-messager node-pool`)",
             "version", v, NULL);
    const char *drift = vc_nodepool_store_seed_drift(*ret_store);
    if (drift)
        vc_logkv(VC_LOG_WARNING, "service", "chain-node pool: configuration not applied", "why", drift, NULL);
    return 0;
}

int msgr_cmd_run(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = msgr_repo_path(ctx);
    _cleanup_free_ char *conf_path = NULL, *token_path = NULL, *api_path = NULL, *dsn = NULL;
    vc_conf_t *conf = NULL;
    msgr_config_t cfg = {0};
    msgr_store_t *store = NULL;
    vc_client_t *auth = NULL;
    vc_nodepool_t *pool = NULL;
    vc_nodepool_store_t *pool_store = NULL;
    vc_clientset_t *gateway = NULL;
    char **auth_urls = NULL;
    vc_authn_t *authn = NULL;
    msgr_service_t *svc = NULL;
    vc_notify_t *notify = NULL;
    msgr_api_t *api = NULL;
    vc_http_server_t *http = NULL;
    vc_metrics_t *metrics = NULL;
    state_gauge_t gauges[MSGR_MSG_STATE_MAX];
    stat_counter_t counters[N_STAT_COUNTERS];
    char *err = NULL;
    bool existed = false;
    int rc = 1, r;

    if (!repo)
        return fail("out of memory");
    if (vc_cli_is_set(ctx, "mysql-dsn"))
        return fail("MySQL is not supported by venus-c: use --db-type postgres --pg-dsn <dsn>");
    if ((r = vc_mkdir_p(repo, 0700)) < 0)
        return fail("cannot create %s: %s", repo, vc_strerror(r));
    conf_path = path_in(repo, "config.toml");
    token_path = path_in(repo, "token");
    api_path = path_in(repo, "api");
    if (!conf_path || !token_path || !api_path)
        return fail("out of memory");
    if ((r = msgr_config_load(conf_path, &conf, &existed, &err)) < 0) {
        fail("%s: %s", conf_path, err ? err : vc_strerror(r));
        goto out;
    }
    if ((r = apply_flags(ctx, conf)) < 0) {
        fail("%s", vc_conf_error(conf));
        goto out;
    }
    if ((r = msgr_config_read(conf, &cfg, &err)) < 0) {
        fail("config: %s", err ? err : vc_strerror(r));
        goto out;
    }
    if (vc_strempty(cfg.auth_token)) {
        fail("token is empty: set [jwt] token or --auth-token (this service's venus-auth token)");
        goto out;
    }
    if (!existed && (r = vc_conf_save(conf, conf_path, 0600)) < 0)
        vc_warning("cannot write %s: %s, ignoring", conf_path, vc_strerror(r));

    /* store */
    if (vc_streq(cfg.db_type, "postgres"))
        dsn = strdup(cfg.pg_dsn);
    else if (!vc_strempty(cfg.sqlite_file))
        dsn = vc_expand_home(cfg.sqlite_file);
    else
        dsn = path_in(repo, "message.db");
    if (!dsn || (r = msgr_store_open(dsn, &store, &err)) < 0) {
        fail("cannot open the %s database: %s", cfg.db_type, err ? err : "out of memory");
        goto out;
    }

    /* upstream clients */
    vc_client_opts_t go = {.endpoints = (const char *const *)cfg.gateway_urls, .n_endpoints = cfg.n_gateway_urls,
                           .default_path = "/rpc/v2", .token = cfg.gateway_token,
                           .timeout_ms = (int)(cfg.sign_timeout_ms + 2000)};
    static const char *const gw_retry[] = {"must have channel", NULL}; /* the wallet is on another gateway */
    vc_clientset_opts_t gso = {.client = go, .retry_messages = gw_retry};
    /* [jwt] authURL may list several venus-auth instances: "http://a:8989,http://b:8989" */
    size_t n_auth = 0;
    if ((r = vc_strv_split(cfg.auth_url, ',', &auth_urls, &n_auth)) < 0 || n_auth == 0) {
        fail("[jwt] authURL (--auth-url) is empty: give the venus-auth URL(s)");
        goto out;
    }
    const char *const *auth_eps = (const char *const *)auth_urls;
    vc_client_opts_t ao = {.endpoints = auth_eps, .n_endpoints = n_auth, .token = cfg.auth_token, .timeout_ms = 5000};
    if ((cfg.n_gateway_urls && (r = vc_clientset_new(&gso, &gateway)) < 0) ||
        (r = vc_client_new(&ao, &auth)) < 0) {
        fail("cannot set up the upstream clients: %s", vc_strerror(r));
        goto out;
    }
    vc_authn_opts_t auo = {.token_path = token_path,
                           .auth_urls = auth_eps,
                           .n_auth_urls = n_auth,
                           .auth_token = cfg.auth_token};
    if ((r = vc_authn_new(&auo, &authn)) < 0) {
        fail("cannot write %s: %s", token_path, vc_strerror(r));
        goto out;
    }
    metrics = vc_metrics_new("venus_messager");
    if ((rc = open_pool(&cfg, store, metrics, &pool, &pool_store)) != 0)
        goto out;
    rc = 1;
    msgr_service_opts_t so = {.store = store,
                              .pool = pool,
                              .gateway = gateway,
                              .auth = auth,
                              .stable_ms = cfg.stable_ms,
                              .select_concurrency = cfg.select_concurrency,
                              .skip_process_head = cfg.skip_process_head,
                              .skip_push = cfg.skip_push_message,
                              .multi_node = cfg.enable_multi_node,
                              .metrics = metrics,
                              .ha = &cfg.ha,
                              .ha_addresses = cfg.ha_addresses};
    /* [Notify] URL: lease events to a webhook (off when empty) */
    if ((r = vc_notify_new(&(vc_notify_options_t){.url = cfg.notify_url, .service = "messager"}, &notify)) < 0) {
        fail("[Notify] URL: %s", vc_strerror(r));
        goto out;
    }
    so.notify = notify;
    if ((r = msgr_service_new(&so, &svc)) < 0 || (r = msgr_api_new(svc, pool_store, authn, &api)) < 0) {
        fail("%s", vc_strerror(r));
        goto out;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    vc_http_opts_t ho = {.listen = cfg.listen, .threads = (unsigned)(ncpu > 0 ? ncpu : 2)};
    if ((r = vc_http_server_new(&ho, &http)) < 0 || (r = msgr_api_mount(api, http)) < 0) {
        fail("%s", vc_strerror(r));
        goto out;
    }
    vc_http_set_auth(http, verify_token, authn);
    if (metrics) {
        static const char *const names[MSGR_MSG_STATE_MAX] = {"msgs_unknown", "num_of_unfill_msg", "num_of_fill_msg",
                                                              "msgs_onchain", "num_of_failed_msg",
                                                              "msgs_nonce_conflict"};
        vc_metrics_add_process(metrics);
        for (int i = 0; i < MSGR_MSG_STATE_MAX; i++) {
            gauges[i] = (state_gauge_t){.store = store, .state = i};
            vc_metrics_gauge_func(metrics, names[i], "Messages in this state.", count_state, &gauges[i], NULL);
        }
        vc_metrics_gauge_func(metrics, "address_num", "Active addresses.", address_num, store, NULL);
        vc_metrics_gauge_func(metrics, "blocked_five_minutes_msgs",
                              "Unsigned or signed messages not on chain 5 minutes after their push.",
                              blocked_five_minutes, store, NULL);
        for (size_t i = 0; i < N_STAT_COUNTERS; i++) {
            counters[i] = (stat_counter_t){.svc = svc, .offset = stat_counters[i].offset};
            vc_metrics_counter_func(metrics, stat_counters[i].name, stat_counters[i].help, read_stat,
                                    &counters[i], NULL);
        }
        vc_http_set_metrics(http, metrics);
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((r = vc_http_start(http)) < 0) {
        fail("cannot listen on %s: %s", cfg.listen, r == -EADDRINUSE ? "address in use" : vc_strerror(r));
        goto out;
    }
    if ((r = msgr_service_start(svc, vc_http_bound(http))) < 0) {
        fail("cannot start the service: %s", *msgr_service_errmsg() ? msgr_service_errmsg() : vc_strerror(r));
        goto out;
    }
    vc_ha_metrics_register(metrics, msgr_service_elector(svc));
    vc_ha_presence_metrics_register(metrics, msgr_service_presence(svc));
    if (vc_write_file_atomic(api_path, vc_http_bound(http), strlen(vc_http_bound(http)), 0600) < 0)
        vc_warning("cannot write %s, ignoring", api_path);
    vc_logkv(VC_LOG_NOTICE, "service", "venus-messager serving", "listen", vc_http_bound(http), "node", cfg.node_url,
             "db", msgr_store_backend(store), "repo", repo, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    vc_logkv(VC_LOG_NOTICE, "service", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    rc = 0;
out:
    if (api_path)
        unlink(api_path);
    msgr_service_stop_pushes(svc); /* pushes taken get their answer while HTTP still serves */
    vc_http_server_free(http);
    msgr_api_free(api);
    msgr_service_free(svc);
    vc_notify_free(notify);
    vc_nodepool_store_free(pool_store); /* its follower sets node_pool_* gauges: before metrics */
    vc_nodepool_free(pool);
    vc_metrics_free(metrics);
    vc_authn_free(authn);
    vc_clientset_free(gateway);
    vc_client_free(auth);
    msgr_store_free(store);
    msgr_config_done(&cfg);
    free(auth_urls);
    vc_conf_free(conf);
    free(err);
    return rc;
}
