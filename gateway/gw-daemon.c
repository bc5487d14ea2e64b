/* gw-daemon.c: `venus-gateway run`. */
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "gateway.h"
#include "vc/authn.h"
#include "vc/log.h"
#include "vc/metrics.h"
#include "vc/util.h"

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

static int http_auth(void *ud, const char *token, vc_auth_info_t *ret)
{
    return vc_authn_verify(ud, token, ret);
}

static int replace(char **dst, const char *v)
{
    char *n = strdup(v);
    if (!n)
        return -ENOMEM;
    free(*dst);
    *dst = n;
    return 0;
}

int gw_cmd_run(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = gw_repo_path(ctx);
    _cleanup_free_ char **auth_urls = NULL;
    _cleanup_free_ char *errmsg = NULL;
    char path[4096];
    gw_config_t cfg = {0};
    vc_authn_t *authn = NULL;
    vc_metrics_t *metrics = NULL;
    vc_http_server_t *http = NULL;
    vc_rpc_server_t *rpc = NULL;
    gw_proxy_t *proxy = NULL;
    gw_t *gw = NULL;
    bool created = false, api_written = false;
    int rc = 1, r;

    if (!repo)
        return fail("out of memory");
    mallopt(M_ARENA_MAX, 4);
    if ((r = vc_mkdir_p(repo, 0700)) < 0)
        return fail("cannot create the repo %s: %s", repo, vc_strerror(r));
    if ((r = gw_config_load(repo, &cfg, &created, &errmsg)) < 0)
        return fail("%s", errmsg ? errmsg : vc_strerror(r));
    /* flags override the file (not persisted, as sophon-gateway) */
    if ((vc_cli_is_set(ctx, "listen") && replace(&cfg.listen, vc_cli_string(ctx, "listen")) < 0) ||
        (vc_cli_is_set(ctx, "auth-url") &&
         (replace(&cfg.auth_url, vc_cli_string(ctx, "auth-url")) < 0 ||
          replace(&cfg.upstream[GW_HOST_AUTH], vc_cli_string(ctx, "auth-url")) < 0)) ||
        (vc_cli_is_set(ctx, "auth-token") &&
         replace(&cfg.auth_token, vc_cli_string(ctx, "auth-token")) < 0)) {
        rc = fail("out of memory");
        goto out;
    }
    if (vc_cli_is_set(ctx, "jaeger-proxy") || vc_cli_is_set(ctx, "rate-limit-redis"))
        vc_logkv(VC_LOG_NOTICE, "gateway", "tracing and Redis rate limiting are not part of venus-c, ignoring",
                 NULL);
    if (vc_strempty(cfg.auth_token)) {
        rc = fail("the venus-auth token is required: set Auth.Token in %s/config.toml or pass --auth-token",
                  repo);
        goto out;
    }
    if (vc_strempty(cfg.auth_url)) {
        rc = fail("the venus-auth URL is required: set Auth.URL in %s/config.toml or pass --auth-url", repo);
        goto out;
    }

    /* Auth.URL may list several venus-auth instances ("http://a:8989,http://b:8989"): tokens are
     * verified with each in turn on transport errors; the auth.IAuthClient proxy uses the first */
    size_t n_auth = 0;
    if (vc_strv_split(cfg.auth_url, ',', &auth_urls, &n_auth) < 0 || n_auth == 0 ||
        replace(&cfg.upstream[GW_HOST_AUTH], auth_urls[0]) < 0) {
        rc = fail(n_auth == 0 ? "Auth.URL (--auth-url) lists no URL" : "out of memory");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/token", repo);
    vc_authn_opts_t ao = {.token_path = path,
                          .auth_urls = (const char *const *)auth_urls,
                          .n_auth_urls = n_auth,
                          .auth_token = cfg.auth_token,
                          .cache_ttl_ms = cfg.verify_cache_ms > 0 ? (int)cfg.verify_cache_ms : -1};
    if ((r = vc_authn_new(&ao, &authn)) < 0) {
        rc = fail("cannot write the local admin token to %s: %s", path, vc_strerror(r));
        goto out;
    }
    metrics = vc_metrics_new("gateway");
    if (metrics)
        vc_metrics_add_process(metrics);
    if ((r = gw_new(&cfg, metrics, &gw)) < 0 || (r = gw_proxy_new(&cfg, &proxy)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    static gw_ctx_t gctx;
    gctx.gw = gw;
    gctx.proxy = proxy;
    if ((r = vc_ha_holder_id(NULL, gctx.holder)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    vc_rpc_opts_t ro = {.userdata = &gctx,
                        .authn = authn,
                        .reverify_interval_ms = cfg.reverify_ms > 0 ? (int)cfg.reverify_ms : -1};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    vc_http_opts_t ho = {
        .listen = cfg.listen, .threads = (unsigned)(ncpu > 0 ? VC_MAX(ncpu, 2) : 2), .conn_timeout_s = 120};
    if ((r = vc_rpc_server_new(&ro, &rpc)) < 0 || (r = gw_api_register(rpc)) < 0 ||
        (r = vc_http_server_new(&ho, &http)) < 0 ||
        (r = vc_rpc_mount(rpc, http, "/rpc/v2", (void *)(uintptr_t)2)) < 0 ||
        (r = vc_rpc_mount(rpc, http, "/rpc/v1", (void *)(uintptr_t)1)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    vc_rpc_set_conn_hooks(rpc, NULL, gw_conn_closed, gw);
    vc_http_set_auth(http, http_auth, authn);
    vc_http_set_interceptor(http, gw_proxy_intercept, proxy);
    if (metrics)
        vc_http_set_metrics(http, metrics);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((r = vc_http_start(http)) < 0) {
        rc = fail("cannot listen on %s: %s", cfg.listen,
                  r == -EADDRINUSE ? "address in use or not available" : vc_strerror(r));
        goto out;
    }
    snprintf(path, sizeof(path), "%s/api", repo);
    if (vc_write_file_atomic(path, vc_http_bound(http), strlen(vc_http_bound(http)), 0600) < 0)
        vc_warning("cannot write %s, ignoring", path);
    else
        api_written = true;
    vc_logkv(VC_LOG_NOTICE, "gateway", "venus-gateway serving", "listen", vc_http_bound(http), "auth",
             cfg.auth_url, "repo", repo, "version", GW_VERSION, NULL);
    if (created)
        vc_logkv(VC_LOG_NOTICE, "gateway", "wrote the default config", "repo", repo, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    vc_logkv(VC_LOG_NOTICE, "gateway", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    rc = 0;
out:
    if (api_written) {
        snprintf(path, sizeof(path), "%s/api", repo);
        unlink(path);
    }
    if (http)
        vc_http_stop(http);
    vc_rpc_server_free(rpc);
    vc_http_server_free(http);
    gw_free(gw);
    gw_proxy_free(proxy);
    vc_authn_free(authn);
    vc_metrics_free(metrics);
    gw_config_done(&cfg);
    return rc;
}
