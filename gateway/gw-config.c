/* gw-config.c: venus-gateway repo path and config.toml (spec B7, plus our [Request] and
 * [Wallet] tables, which the Go gateway ignores when it reads the file). */
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "gateway.h"
#include "vc/conf.h"
#include "vc/util.h"

static const char *const host_names[GW_HOST_MAX] = {
    [GW_HOST_VENUS] = "VENUS", [GW_HOST_DROPLET] = "DROPLET", [GW_HOST_MESSAGER] = "MESSAGER",
    [GW_HOST_AUTH] = "AUTH",   [GW_HOST_MINER] = "MINER",     [GW_HOST_GATEWAY] = "GATEWAY",
};

/* Config keys of the proxy upstreams (AUTH comes from Auth.URL). */
static const char *const host_keys[GW_HOST_MAX] = {
    [GW_HOST_VENUS] = "Node",
    [GW_HOST_DROPLET] = "Droplet",
    [GW_HOST_MESSAGER] = "Messager",
    [GW_HOST_MINER] = "Miner",
};

int gw_host_from_string(const char *s)
{
    for (int i = 0; i < GW_HOST_MAX; i++)
        if (s && strcmp(s, host_names[i]) == 0)
            return i;
    return -1;
}

const char *gw_host_to_string(gw_host_t h)
{
    return h < GW_HOST_MAX ? host_names[h] : "?";
}

char *gw_repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? "~/.venus-gateway" : repo);
}

void gw_config_done(gw_config_t *c)
{
    free(c->listen);
    free(c->auth_url);
    free(c->auth_token);
    for (int i = 0; i < GW_HOST_MAX; i++)
        free(c->upstream[i]);
    free(c->trusted_accounts);
    memset(c, 0, sizeof(*c));
}

/* The default file, in sophon-gateway's order (B7), then our additions. */
static vc_conf_t *defaults(void)
{
    vc_conf_t *c = vc_conf_new();
    if (!c)
        return NULL;
    vc_conf_set_string(c, "API.ListenAddress", GW_DEFAULT_LISTEN);
    vc_conf_set_string(c, "Auth.URL", "http://127.0.0.1:8989");
    vc_conf_set_string(c, "Auth.Token", "");
    vc_conf_set_bool(c, "Metrics.Enabled", false);
    vc_conf_set_string(c, "Metrics.Exporter.Type", "prometheus");
    vc_conf_set_string(c, "Metrics.Exporter.Prometheus.EndPoint", "/ip4/0.0.0.0/tcp/4569");
    vc_conf_set_string(c, "Metrics.Exporter.Prometheus.Namespace", "gateway");
    vc_conf_set_string(c, "Metrics.Exporter.Prometheus.Path", "/debug/metrics");
    vc_conf_set_string(c, "Metrics.Exporter.Prometheus.RegistryType", "define");
    vc_conf_set_duration_ms(c, "Metrics.Exporter.Prometheus.ReportingPeriod", 10000);
    vc_conf_set_string(c, "Metrics.Exporter.Graphite.Host", "127.0.0.1");
    vc_conf_set_int(c, "Metrics.Exporter.Graphite.Port", 4569);
    vc_conf_set_string(c, "Metrics.Exporter.Graphite.Namespace", "gateway");
    vc_conf_set_duration_ms(c, "Metrics.Exporter.Graphite.ReportingPeriod", 10000);
    vc_conf_set_bool(c, "Trace.JaegerTracingEnabled", false);
    vc_conf_set_double(c, "Trace.ProbabilitySampler", 1.0);
    vc_conf_set_string(c, "Trace.JaegerEndpoint", "");
    vc_conf_set_string(c, "Trace.ServerName", "sophon-gateway");
    vc_conf_set_string(c, "RateLimit.Redis", "");
    /* venus-c additions */
    vc_conf_set_duration_ms(c, "Request.WalletTimeout", 5 * 60000);
    vc_conf_set_duration_ms(c, "Request.ProofTimeout", 5 * 60000);
    vc_conf_set_duration_ms(c, "Request.MarketTimeout", 7 * 3600000LL);
    vc_conf_set_duration_ms(c, "Request.ClearInterval", 1000);
    vc_conf_set_int(c, "Request.QueueSize", 30);
    vc_conf_set_int(c, "Request.MaxAttempts", 3);
    vc_conf_set_duration_ms(c, "Auth.ReverifyInterval", 60000);
    vc_conf_set_duration_ms(c, "Auth.VerifyCacheTTL", 5000);
    vc_conf_set_string_array(c, "Wallet.TrustUnverifiableKeyAccounts", (const char *const[]){NULL}, -1);
    return c;
}

static int take_string(vc_conf_t *c, const char *key, char **out)
{
    const char *v = NULL;
    int r = vc_conf_get_string(c, key, "", &v);
    if (r < 0)
        return r;
    *out = strdup(v ? v : "");
    return *out ? 0 : -ENOMEM;
}

int gw_config_load(const char *repo, gw_config_t *ret, bool *ret_created, char **ret_err)
{
    char path[4096];
    vc_conf_t *c = defaults(), *file = NULL;
    gw_config_t cfg = {0};
    bool created = false;
    int r = 0;
    if (!c)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    struct stat st;
    if (stat(path, &st) == 0) {
        file = vc_conf_new();
        if (!file || vc_conf_load(file, path) < 0) {
            if (ret_err)
                *ret_err = strdup(file ? vc_conf_error(file) : "out of memory");
            r = VC_EPARSE;
            goto out;
        }
        if ((r = vc_conf_merge(c, file)) < 0)
            goto out;
    } else {
        if ((r = vc_mkdir_p(repo, 0700)) == 0)
            r = vc_conf_save(c, path, 0600);
        if (r < 0) {
            if (ret_err) {
                char msg[4200];
                snprintf(msg, sizeof(msg), "write %s: %s", path, vc_strerror(r));
                *ret_err = strdup(msg);
            }
            goto out;
        }
        created = true;
    }
    if ((r = take_string(c, "API.ListenAddress", &cfg.listen)) < 0 ||
        (r = take_string(c, "Auth.URL", &cfg.auth_url)) < 0 ||
        (r = take_string(c, "Auth.Token", &cfg.auth_token)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "Request.WalletTimeout", 300000, &cfg.timeout_ms[GW_WALLET])) < 0 ||
        (r = vc_conf_get_duration_ms(c, "Request.ProofTimeout", 300000, &cfg.timeout_ms[GW_PROOF])) < 0 ||
        (r = vc_conf_get_duration_ms(c, "Request.MarketTimeout", 7 * 3600000LL, &cfg.timeout_ms[GW_MARKET])) <
            0 ||
        (r = vc_conf_get_duration_ms(c, "Request.ClearInterval", 1000, &cfg.clear_interval_ms)) < 0 ||
        (r = vc_conf_get_int(c, "Request.QueueSize", 30, &cfg.queue_size)) < 0 ||
        (r = vc_conf_get_int(c, "Request.MaxAttempts", 3, &cfg.max_attempts)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "Auth.ReverifyInterval", 60000, &cfg.reverify_ms)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "Auth.VerifyCacheTTL", 5000, &cfg.verify_cache_ms)) < 0 ||
        (r = vc_conf_get_bool(c, "Metrics.Enabled", false, &cfg.metrics_enabled)) < 0 ||
        (r = vc_conf_get_string_array(c, "Wallet.TrustUnverifiableKeyAccounts", &cfg.trusted_accounts,
                                      &cfg.n_trusted)) < 0)
        goto conf_err;
    for (int h = 0; h < GW_HOST_MAX; h++) {
        if (!host_keys[h])
            continue;
        /* accepted at the top level and under [API] */
        char key[64];
        const char *v = NULL;
        snprintf(key, sizeof(key), "API.%s", host_keys[h]);
        if ((r = vc_conf_get_string(c, key, "", &v)) < 0 ||
            (vc_strempty(v) && (r = vc_conf_get_string(c, host_keys[h], "", &v)) < 0))
            goto conf_err;
        if (!vc_strempty(v) && !(cfg.upstream[h] = strdup(v))) {
            r = -ENOMEM;
            goto out;
        }
    }
    if (cfg.queue_size < 1 || cfg.queue_size > 100000 || cfg.max_attempts < 1 || cfg.clear_interval_ms < 10) {
        if (ret_err)
            *ret_err = strdup("Request.QueueSize must be 1..100000, Request.MaxAttempts >= 1, "
                              "Request.ClearInterval >= 10ms");
        r = -EINVAL;
        goto out;
    }
    if (!vc_strempty(cfg.auth_url) && !(cfg.upstream[GW_HOST_AUTH] = strdup(cfg.auth_url))) {
        r = -ENOMEM;
        goto out;
    }
    *ret = cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (ret_created)
        *ret_created = created;
    goto out;
conf_err:
    if (ret_err) {
        char msg[4200];
        snprintf(msg, sizeof(msg), "%s: %s", path, vc_conf_error(c));
        *ret_err = strdup(msg);
    }
out:
    gw_config_done(&cfg);
    vc_conf_free(file);
    vc_conf_free(c);
    return r;
}
