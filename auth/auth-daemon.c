/* auth-daemon.c: `venus-auth run`. */
#include "auth-daemon.h"

#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "auth-api.h"
#include "auth-config.h"
#include "auth-store.h"
#include "vc/authn.h"
#include "vc/ha-peers.h"
#include "vc/http.h"
#include "vc/log.h"
#include "vc/metrics.h"
#include "vc/util.h"

#define LOCAL_USER "defaultLocalToken"

/*
 * Makes sure <repo>/token holds a live admin token of defaultLocalToken. Unlike sophon-auth,
 * a user whose admin token was deleted does not stop the daemon: a new token is made.
 */
static int bootstrap_local_token(auth_api_t *api, auth_store_t *store, const char *repo)
{
    _cleanup_free_ char *path = vc_path_join(repo, "token");
    _cleanup_free_ char *cur = NULL;
    vc_auth_info_t info;
    size_t len = 0;
    int r;
    if (!path)
        return -ENOMEM;
    if (vc_read_file(path, 64 * 1024, &cur, &len) == 0) {
        while (len > 0 && (cur[len - 1] == '\n' || cur[len - 1] == ' '))
            cur[--len] = 0;
        if (auth_api_verify(api, cur, &info) == 0 && (info.perms & VC_PERM_ADMIN))
            return 0; /* still valid */
    }
    /* reuse a live admin token of the local user if there is one */
    auth_token_t *v = NULL;
    size_t n = 0;
    r = auth_store_token_list_by_name(store, LOCAL_USER, &v, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (vc_streq(v[i].perm, "admin")) {
            r = vc_write_file_atomic(path, v[i].token, strlen(v[i].token), 0600);
            auth_tokens_free(v, n);
            return r;
        }
    auth_tokens_free(v, n);
    auth_user_t u = {0};
    if (auth_store_user_get(store, LOCAL_USER, &u) == -ENOENT) {
        r = auth_store_user_create(store, LOCAL_USER, "local admin token of this venus-auth", 1, &u);
        if (r < 0 && r != -EEXIST)
            return r;
    }
    auth_user_done(&u);
    char *tok = NULL;
    r = auth_api_gen_token(api, LOCAL_USER, "admin", "", &tok);
    if (r < 0)
        return r;
    r = vc_write_file_atomic(path, tok, strlen(tok), 0600);
    free(tok);
    if (r == 0)
        vc_logkv(VC_LOG_NOTICE, "auth", "wrote the local admin token", "path", path, NULL);
    return r;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ERROR: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int auth_cmd_run(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = auth_repo_path(ctx);
    _cleanup_free_ char *dsn = NULL, *api_path = NULL, *errmsg = NULL;
    auth_config_t cfg = {0};
    auth_store_t *store = NULL;
    auth_api_t *api = NULL;
    vc_ha_presence_t *presence = NULL;
    vc_http_server_t *http = NULL;
    vc_metrics_t *metrics = NULL;
    bool created = false;
    int rc = 1, r;

    if (!repo)
        return fail("%s", "out of memory");
    mallopt(M_ARENA_MAX, 2); /* a small daemon: do not grow one malloc arena per thread */
    if (vc_cli_is_set(ctx, "mysql-dsn"))
        return fail("%s", "MySQL is not supported by venus-c; use --db-type postgres --pg-dsn <dsn> or sqlite");
    r = vc_mkdir_p(repo, 0700);
    if (r < 0)
        return fail("cannot create the repo: %s", vc_strerror(r));
    r = auth_config_load(repo, vc_cli_string(ctx, "config"), true, &cfg, &created, &errmsg);
    if (r < 0)
        return fail("%s", errmsg ? errmsg : vc_strerror(r));
    bool dirty = false;
    if (vc_cli_is_set(ctx, "listen")) {
        free(cfg.listen);
        cfg.listen = strdup(vc_cli_string(ctx, "listen"));
    }
    if (vc_cli_is_set(ctx, "db-type")) {
        free(cfg.db_type);
        cfg.db_type = strdup(vc_cli_string(ctx, "db-type"));
        dirty = true;
    }
    if (vc_cli_is_set(ctx, "pg-dsn")) {
        free(cfg.db_dsn);
        cfg.db_dsn = strdup(vc_cli_string(ctx, "pg-dsn"));
        dirty = true;
    }
    if (!cfg.listen || !cfg.db_type || !cfg.db_dsn) {
        rc = fail("%s", "out of memory");
        goto out;
    }
    vc_log_level_t lvl;
    if (vc_log_level_from_string(cfg.log_level, &lvl) == 0)
        vc_log_set_level(lvl);
    else if (vc_streq(cfg.log_level, "trace"))
        vc_log_set_level(VC_LOG_DEBUG);

    if (vc_streq(cfg.db_type, "sqlite")) {
        dsn = vc_strempty(cfg.db_dsn) ? vc_path_join(repo, "auth.db") : strdup(cfg.db_dsn);
    } else if (vc_streq(cfg.db_type, "postgres")) {
        if (vc_strempty(cfg.db_dsn)) {
            rc = fail("%s", "DB.Type is postgres but no DSN is set (config DB.DSN or --pg-dsn)");
            goto out;
        }
        dsn = strdup(cfg.db_dsn);
    } else {
        rc = fail("unknown DB.Type '%s' (use sqlite or postgres)", cfg.db_type);
        goto out;
    }
    /* flags that choose the database are remembered in <repo>/config.toml (never in a file
     * given with --config, which stays the operator's) */
    if (dirty && vc_strempty(vc_cli_string(ctx, "config")) && (r = auth_config_save(repo, &cfg)) < 0)
        vc_log_errno(VC_LOG_WARNING, r, "cannot save %s/config.toml, ignoring", repo);

    free(errmsg);
    errmsg = NULL;
    r = auth_store_open(dsn, &store, &errmsg);
    if (r < 0) {
        rc = fail("cannot open the database: %s", errmsg ? errmsg : vc_strerror(r));
        goto out;
    }
    if (cfg.metrics_enabled) {
        metrics = vc_metrics_new("venus_auth");
        if (metrics)
            vc_metrics_add_process(metrics);
    }
    /* active/active: no lease, but a presence row so `ha status` on any instance lists all */
    char instance[VC_HA_HOLDER_MAX];
    vc_ha_presence_options_t po = {.service = "auth", .instance = instance};
    if ((r = vc_ha_holder_id(NULL, instance)) < 0 || (r = vc_ha_presence_new(auth_store_db(store), &po, &presence)) < 0) {
        rc = fail("cannot start the presence heartbeat: %s", vc_strerror(r));
        goto out;
    }
    auth_api_opts_t ao = {.store = store, .metrics = metrics, .verify_cache_ms = cfg.verify_cache_ms,
                          .presence = presence};
    if ((r = auth_api_new(&ao, &api)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    r = bootstrap_local_token(api, store, repo);
    if (r < 0) {
        rc = fail("cannot write the local admin token: %s", auth_store_errmsg()[0] ? auth_store_errmsg()
                                                                                     : vc_strerror(r));
        goto out;
    }

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    vc_http_opts_t ho = {.listen = cfg.listen, .threads = (unsigned)(ncpu > 0 ? ncpu : 2),
                         .conn_timeout_s = (unsigned)VC_MAX(cfg.idle_timeout_ms / 1000, 1)};
    if ((r = vc_http_server_new(&ho, &http)) < 0 || (r = auth_api_mount(api, http)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    if (metrics)
        vc_http_set_metrics(http, metrics);

    /* block the signals we wait for before any server thread starts */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    r = vc_http_start(http);
    if (r < 0) {
        rc = fail("cannot listen: %s", r == -EADDRINUSE ? "address in use or not available" : vc_strerror(r));
        goto out;
    }
    (void)vc_ha_presence_set_addr(presence, vc_http_bound(http));
    api_path = vc_path_join(repo, "api");
    if (!api_path || vc_write_file_atomic(api_path, vc_http_bound(http), strlen(vc_http_bound(http)), 0600) < 0)
        vc_warning("cannot write %s/api, ignoring", repo);
    vc_logkv(VC_LOG_NOTICE, "auth", "venus-auth serving", "listen", vc_http_bound(http), "db",
             auth_store_backend(store), "repo", repo, "version", AUTH_VERSION, NULL);
    if (created)
        vc_logkv(VC_LOG_NOTICE, "auth", "wrote the default config", "repo", repo, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    vc_logkv(VC_LOG_NOTICE, "auth", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    rc = 0;
out:
    if (api_path)
        unlink(api_path);
    vc_http_server_free(http);
    auth_api_free(api);
    vc_ha_presence_free(presence); /* deletes this instance's row */
    auth_store_free(store);
    vc_metrics_free(metrics);
    auth_config_done(&cfg);
    return rc;
}
