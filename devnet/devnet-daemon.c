/* devnet-daemon.c: `venus-devnet init` and `venus-devnet run`. */
#include "devnet-daemon.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "devnet-api.h"
#include "devnet-chain.h"
#include "vc/authn.h"
#include "vc/http.h"
#include "vc/log.h"
#include "vc/metrics.h"
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

char *dn_repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? "~/.venus-devnet" : repo);
}

int dn_cmd_init(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = dn_repo_path(ctx);
    dn_genesis_t g = {0};
    char *err = NULL;
    const char *gpath = vc_cli_string(ctx, "genesis");
    if (!repo)
        return fail("out of memory");
    int r = dn_genesis_load(gpath, &g, &err);
    if (r < 0) {
        fail("genesis %s: %s", gpath, err ? err : vc_strerror(r));
        free(err);
        return 1;
    }
    r = vc_mkdir_p(repo, 0700);
    if (r < 0) {
        dn_genesis_done(&g);
        return fail("cannot create %s: %s", repo, vc_strerror(r));
    }
    r = dn_chain_init(repo, &g, &err);
    dn_genesis_done(&g);
    if (r == -EEXIST) {
        free(err);
        return fail("%s already holds a chain; use another --repo or remove it", repo);
    }
    if (r < 0) {
        fail("init: %s", err ? err : vc_strerror(r));
        free(err);
        return 1;
    }
    printf("initialised venus-devnet in %s\n", repo);
    return 0;
}

static int verify_token(void *userdata, const char *token, vc_auth_info_t *ret)
{
    return vc_authn_verify(userdata, token, ret);
}

typedef struct runner {
    dn_chain_t *chain;
    dn_mine_mode_t mode;
    int result;
} runner_t;

static void *run_chain(void *arg)
{
    runner_t *r = arg;
    r->result = dn_chain_run(r->chain, r->mode);
    return NULL;
}

/* /metrics: the head and the clock's epoch (epoch - height - 1 = null rounds behind the clock). */
static double chain_height(void *userdata)
{
    return (double)dn_chain_height(userdata);
}

static double chain_epoch(void *userdata)
{
    return (double)dn_chain_epoch(userdata);
}

int dn_cmd_run(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = dn_repo_path(ctx);
    _cleanup_free_ char *token_path = NULL, *api_path = NULL;
    const char *mine = vc_cli_string(ctx, "mine");
    const char *listen = vc_cli_string(ctx, "listen");
    dn_chain_t *chain = NULL;
    dn_api_t *api = NULL;
    vc_authn_t *authn = NULL;
    vc_http_server_t *http = NULL;
    vc_metrics_t *metrics = NULL;
    runner_t runner = {0};
    pthread_t thread;
    bool running = false;
    char *err = NULL;
    int rc = 1, r;

    if (!repo)
        return fail("out of memory");
    if (!vc_streq(mine, "self") && !vc_streq(mine, "external"))
        return fail("--mine must be 'self' or 'external', not '%s'", mine);
    r = dn_chain_open(repo, &chain, &err);
    if (r < 0) {
        fail("cannot open the chain in %s: %s (run `venus-devnet init --genesis <file>` first)", repo,
             err ? err : vc_strerror(r));
        free(err);
        return 1;
    }
    if (vc_cli_is_set(ctx, "block-time"))
        dn_chain_set_block_time_ms(chain, vc_cli_duration_ms(ctx, "block-time"));

    /* the local admin token, and venus-auth tokens when an auth server is configured */
    token_path = vc_path_join(repo, "token");
    size_t n_urls = 0;
    const char *const *urls = vc_cli_strings(ctx, "auth-url", &n_urls);
    vc_authn_opts_t ao = {.token_path = token_path, .auth_urls = urls, .n_auth_urls = n_urls,
                          .auth_token = vc_cli_string(ctx, "auth-token")};
    if (n_urls && vc_strempty(ao.auth_token)) {
        rc = fail("--auth-url needs --auth-token (this node's token for venus-auth)");
        goto out;
    }
    if ((r = vc_authn_new(&ao, &authn)) < 0) {
        rc = fail("cannot write %s: %s", token_path, vc_strerror(r));
        goto out;
    }
    if ((r = dn_api_new(chain, authn, &api)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    vc_http_opts_t ho = {.listen = listen, .threads = (unsigned)(ncpu > 0 ? ncpu : 2)};
    if ((r = vc_http_server_new(&ho, &http)) < 0 || (r = dn_api_mount(api, http)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    vc_http_set_auth(http, verify_token, authn);
    metrics = vc_metrics_new("venus_devnet");
    if (metrics) {
        vc_metrics_add_process(metrics);
        vc_metrics_gauge_func(metrics, "chain_height", "Height of the head tipset.", chain_height, chain, NULL);
        vc_metrics_gauge_func(metrics, "chain_epoch", "Epoch being collected (head height + 1 plus null rounds).",
                              chain_epoch, chain, NULL);
        vc_http_set_metrics(http, metrics);
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((r = vc_http_start(http)) < 0) {
        rc = fail("cannot listen on %s: %s", listen, r == -EADDRINUSE ? "address in use" : vc_strerror(r));
        goto out;
    }
    runner.chain = chain;
    runner.mode = vc_streq(mine, "self") ? DN_MINE_SELF : DN_MINE_EXTERNAL;
    if (pthread_create(&thread, NULL, run_chain, &runner) != 0) {
        rc = fail("cannot start the epoch thread");
        goto out;
    }
    running = true;
    api_path = vc_path_join(repo, "api");
    if (!api_path || vc_write_file_atomic(api_path, vc_http_bound(http), strlen(vc_http_bound(http)), 0600) < 0)
        vc_warning("cannot write %s/api, ignoring", repo);
    char height[32];
    snprintf(height, sizeof(height), "%lld", (long long)dn_chain_height(chain));
    vc_logkv(VC_LOG_NOTICE, "devnet", "venus-devnet serving", "listen", vc_http_bound(http), "network",
             dn_chain_network_name(chain), "mine", mine, "height", height, "repo", repo, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    vc_logkv(VC_LOG_NOTICE, "devnet", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    rc = 0;
out:
    if (api_path)
        unlink(api_path);
    vc_http_server_free(http);
    if (running) {
        dn_chain_stop(chain);
        pthread_join(thread, NULL);
    }
    dn_api_free(api);
    vc_authn_free(authn);
    vc_metrics_free(metrics);
    dn_chain_free(chain);
    return rc;
}
