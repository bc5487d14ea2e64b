/* auth-config.c: venus-auth repo path, config.toml defaults/load/save, CLI client. */
#include "auth-config.h"

#include <stdio.h>
#include <sys/stat.h>

#include "vc/conf.h"
#include "vc/log.h"
#include "vc/util.h"

void auth_config_done(auth_config_t *c)
{
    free(c->listen);
    free(c->db_type);
    free(c->db_dsn);
    free(c->log_level);
    memset(c, 0, sizeof(*c));
}

char *auth_repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? "~/.venus-auth" : repo);
}

/* The defaults, in the order sophon-auth writes its config. */
static vc_conf_t *defaults(void)
{
    vc_conf_t *c = vc_conf_new();
    if (!c)
        return NULL;
    vc_conf_set_string(c, "Listen", AUTH_DEFAULT_LISTEN);
    vc_conf_set_duration_ms(c, "ReadTimeout", 60000);
    vc_conf_set_duration_ms(c, "WriteTimeout", 60000);
    vc_conf_set_duration_ms(c, "IdleTimeout", 60000);
    vc_conf_set_duration_ms(c, "VerifyCacheMaxAge", 5000);
    vc_conf_set_string(c, "Log.LogLevel", "info");
    vc_conf_set_int(c, "Log.Type", 0);
    vc_conf_set_bool(c, "Log.HookSwitch", false);
    vc_conf_set_string(c, "DB.Type", "sqlite");
    vc_conf_set_string(c, "DB.DSN", "");
    vc_conf_set_int(c, "DB.MaxOpenConns", 16);
    vc_conf_set_bool(c, "Metrics.Enabled", true);
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

int auth_config_load(const char *repo, const char *config_path, bool write_if_missing, auth_config_t *ret,
                     bool *ret_created, char **reterr_msg)
{
    _cleanup_free_ char *path = vc_strempty(config_path) ? vc_path_join(repo, "config.toml") : strdup(config_path);
    vc_conf_t *c = defaults(), *file = NULL;
    auth_config_t cfg = {0};
    bool created = false;
    int r = 0;
    if (!path || !c) {
        vc_conf_free(c);
        return -ENOMEM;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        file = vc_conf_new();
        if (!file || vc_conf_load(file, path) < 0) {
            if (reterr_msg)
                *reterr_msg = strdup(file ? vc_conf_error(file) : "out of memory");
            r = VC_EPARSE;
            goto out;
        }
        r = vc_conf_merge(c, file);
        if (r < 0)
            goto out;
    } else if (write_if_missing) {
        r = vc_mkdir_p(repo, 0700);
        if (r == 0)
            r = vc_conf_save(c, path, 0600);
        if (r < 0) {
            if (reterr_msg) {
                char msg[600];
                snprintf(msg, sizeof(msg), "write %s: %s", path, vc_strerror(r));
                *reterr_msg = strdup(msg);
            }
            goto out;
        }
        created = true;
    }
    int64_t conns = 16;
    if ((r = take_string(c, "Listen", &cfg.listen)) < 0 || (r = take_string(c, "DB.Type", &cfg.db_type)) < 0 ||
        (r = take_string(c, "DB.DSN", &cfg.db_dsn)) < 0 || (r = take_string(c, "Log.LogLevel", &cfg.log_level)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "ReadTimeout", 60000, &cfg.read_timeout_ms)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "WriteTimeout", 60000, &cfg.write_timeout_ms)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "IdleTimeout", 60000, &cfg.idle_timeout_ms)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "VerifyCacheMaxAge", 5000, &cfg.verify_cache_ms)) < 0 ||
        (r = vc_conf_get_int(c, "DB.MaxOpenConns", 16, &conns)) < 0 ||
        (r = vc_conf_get_bool(c, "Metrics.Enabled", true, &cfg.metrics_enabled)) < 0) {
        if (reterr_msg) {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s: %s", path, vc_conf_error(c));
            *reterr_msg = strdup(msg);
        }
        auth_config_done(&cfg);
        goto out;
    }
    if (conns < 1 || conns > 1024) {
        if (reterr_msg)
            *reterr_msg = strdup("DB.MaxOpenConns: must be between 1 and 1024");
        auth_config_done(&cfg);
        r = -EINVAL;
        goto out;
    }
    cfg.max_open_conns = (int)conns;
    *ret = cfg;
    if (ret_created)
        *ret_created = created;
out:
    vc_conf_free(file);
    vc_conf_free(c);
    return r;
}

int auth_config_save(const char *repo, const auth_config_t *cfg)
{
    _cleanup_free_ char *path = vc_path_join(repo, "config.toml");
    vc_conf_t *c = defaults();
    int r;
    if (!path || !c) {
        vc_conf_free(c);
        return -ENOMEM;
    }
    vc_conf_set_string(c, "Listen", cfg->listen);
    vc_conf_set_duration_ms(c, "ReadTimeout", cfg->read_timeout_ms);
    vc_conf_set_duration_ms(c, "WriteTimeout", cfg->write_timeout_ms);
    vc_conf_set_duration_ms(c, "IdleTimeout", cfg->idle_timeout_ms);
    vc_conf_set_duration_ms(c, "VerifyCacheMaxAge", cfg->verify_cache_ms);
    vc_conf_set_string(c, "Log.LogLevel", cfg->log_level);
    vc_conf_set_string(c, "DB.Type", cfg->db_type);
    vc_conf_set_string(c, "DB.DSN", cfg->db_dsn);
    vc_conf_set_int(c, "DB.MaxOpenConns", cfg->max_open_conns);
    vc_conf_set_bool(c, "Metrics.Enabled", cfg->metrics_enabled);
    r = vc_conf_save(c, path, 0600);
    vc_conf_free(c);
    return r;
}

/* A small file of the repo (token, api), trimmed; NULL when absent. */
static char *repo_file(const char *repo, const char *name)
{
    _cleanup_free_ char *p = vc_path_join(repo, name);
    return vc_read_trimmed(p, 64 * 1024);
}

int auth_cli_client(vc_cli_ctx_t *ctx, vc_client_t **ret)
{
    _cleanup_free_ char *repo = auth_repo_path(ctx);
    _cleanup_free_ char *token = NULL, *listen = NULL;
    auth_config_t cfg = {0};
    if (!repo)
        return -ENOMEM;
    token = repo_file(repo, "token");
    if (vc_cli_is_set(ctx, "listen"))
        listen = strdup(vc_cli_string(ctx, "listen"));
    else if (!(listen = repo_file(repo, "api"))) {
        if (auth_config_load(repo, vc_cli_string(ctx, "config"), false, &cfg, NULL, NULL) == 0) {
            listen = cfg.listen;
            cfg.listen = NULL;
        }
        auth_config_done(&cfg);
    }
    if (!listen)
        listen = strdup(AUTH_DEFAULT_LISTEN);
    if (!listen)
        return -ENOMEM;
    const char *eps[] = {listen};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .api_namespace = "auth.IAuthClient",
                          .timeout_ms = 30000, .retries = -1};
    return vc_client_new(&o, ret);
}
