/* msgr-config.c: config.toml defaults, loading and typed reading (spec section 8). */
#define _GNU_SOURCE /* vasprintf */
#include "msgr-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgr-types.h"
#include "vc/util.h"

static const char defaults_toml[] =
    "[api]\n"
    "  Address = \"" MSGR_DEFAULT_LISTEN "\"\n"
    "[db]\n"
    "  type = \"sqlite\"\n"
    "  [db.sqlite]\n"
    "    debug = false\n"
    "    file = \"\"\n"
    "  [db.postgres]\n"
    "    dsn = \"\"\n"
    "[gateway]\n"
    "  token = \"\"\n"
    "  url = [\"/ip4/127.0.0.1/tcp/45132\"]\n"
VC_HA_CONF_DEFAULTS
    "[jwt]\n"
    "  authURL = \"http://127.0.0.1:8989\"\n"
    "  token = \"\"\n"
    "[log]\n"
    "  level = \"info\"\n"
    "  path = \"\"\n"
    "[messageService]\n"
    "  DefaultTimeout = \"1s\"\n"
    "  EstimateMessageTimeout = \"30s\"\n"
    "  SignMessageTimeout = \"3s\"\n"
    "  WaitingChainHeadStableDuration = \"8s\"\n"
    "  SelectConcurrency = 0\n"
    "  skipProcessHead = false\n"
    "  skipPushMessage = false\n"
    "[node]\n"
    "  token = \"\"\n"
    "  url = \"/ip4/127.0.0.1/tcp/3453\"\n"
    "[publisher]\n"
    "  cacheReleasePeriod = 0\n"
    "  concurrency = 5\n"
    "  enableMultiNode = true\n"
    "  enablePubsub = false\n"
    "[rateLimit]\n"
    "  redis = \"\"\n";

vc_conf_t *msgr_config_defaults(void)
{
    vc_conf_t *c = vc_conf_new();
    if (c && vc_conf_parse(c, "defaults", defaults_toml, sizeof(defaults_toml) - 1) < 0)
        c = vc_conf_free(c);
    return c;
}

static int set_err(char **reterr_msg, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(char **reterr_msg, int r, const char *fmt, ...)
{
    if (reterr_msg) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(reterr_msg, fmt, ap) < 0)
            *reterr_msg = NULL;
        va_end(ap);
    }
    return r;
}

int msgr_config_load(const char *path, vc_conf_t **ret, bool *ret_existed, char **reterr_msg)
{
    vc_conf_t *def = msgr_config_defaults(), *file = vc_conf_new();
    bool existed = false;
    int r = 0;
    if (!def || !file) {
        r = -ENOMEM;
        goto out;
    }
    r = vc_conf_load(file, path);
    if (r == -ENOENT) {
        r = 0;
    } else if (r < 0) {
        r = set_err(reterr_msg, r, "%s", vc_conf_error(file));
        goto out;
    } else {
        existed = true;
        if ((r = vc_conf_merge(def, file)) < 0) {
            r = set_err(reterr_msg, r, "%s", vc_conf_error(def));
            goto out;
        }
    }
    *ret = def;
    def = NULL;
    if (ret_existed)
        *ret_existed = existed;
out:
    vc_conf_free(def);
    vc_conf_free(file);
    return r;
}

static int get_str(vc_conf_t *c, const char *key, char **out, char **reterr_msg)
{
    const char *v = NULL;
    int r = vc_conf_get_string(c, key, "", &v);
    if (r < 0)
        return set_err(reterr_msg, r, "%s", vc_conf_error(c));
    *out = strdup(v);
    return *out ? 0 : -ENOMEM;
}

static int get_dur(vc_conf_t *c, const char *key, int64_t def_ms, int64_t *out, char **reterr_msg)
{
    int r = vc_conf_get_duration_ms(c, key, def_ms, out);
    if (r < 0)
        return set_err(reterr_msg, r, "%s", vc_conf_error(c));
    if (*out <= 0)
        *out = def_ms;
    return 0;
}

int msgr_config_read(vc_conf_t *c, msgr_config_t *ret, char **reterr_msg)
{
    msgr_config_t m = {0};
    int r;
    if ((r = get_str(c, "api.Address", &m.listen, reterr_msg)) < 0 ||
        (r = get_str(c, "db.type", &m.db_type, reterr_msg)) < 0 ||
        (r = get_str(c, "db.postgres.dsn", &m.pg_dsn, reterr_msg)) < 0 ||
        (r = get_str(c, "db.sqlite.file", &m.sqlite_file, reterr_msg)) < 0 ||
        (r = get_str(c, "node.url", &m.node_url, reterr_msg)) < 0 ||
        (r = get_str(c, "node.token", &m.node_token, reterr_msg)) < 0 ||
        (r = get_str(c, "gateway.token", &m.gateway_token, reterr_msg)) < 0 ||
        (r = get_str(c, "jwt.authURL", &m.auth_url, reterr_msg)) < 0 ||
        (r = get_str(c, "jwt.token", &m.auth_token, reterr_msg)) < 0 ||
        (r = get_str(c, "Notify.URL", &m.notify_url, reterr_msg)) < 0)
        goto fail;
    r = vc_conf_get_string_array(c, "gateway.url", &m.gateway_urls, &m.n_gateway_urls);
    if (r < 0) {
        r = set_err(reterr_msg, r, "%s", vc_conf_error(c));
        goto fail;
    }
    if ((r = get_dur(c, "messageService.DefaultTimeout", 1000, &m.default_timeout_ms, reterr_msg)) < 0 ||
        (r = get_dur(c, "messageService.EstimateMessageTimeout", 30000, &m.estimate_timeout_ms, reterr_msg)) < 0 ||
        (r = get_dur(c, "messageService.SignMessageTimeout", 3000, &m.sign_timeout_ms, reterr_msg)) < 0 ||
        (r = get_dur(c, "messageService.WaitingChainHeadStableDuration", 8000, &m.stable_ms, reterr_msg)) < 0)
        goto fail;
    int64_t conc = 0;
    if ((r = vc_conf_get_int(c, "messageService.SelectConcurrency", 0, &conc)) < 0 || conc < 0 || conc > 64) {
        r = set_err(reterr_msg, r < 0 ? r : -ERANGE, "[messageService] SelectConcurrency must be 0 (one per CPU) .. 64%s%s",
                    r < 0 ? ": " : "", r < 0 ? vc_conf_error(c) : "");
        goto fail;
    }
    m.select_concurrency = (unsigned)conc;
    if ((r = vc_conf_get_bool(c, "messageService.skipProcessHead", false, &m.skip_process_head)) < 0 ||
        (r = vc_conf_get_bool(c, "messageService.skipPushMessage", false, &m.skip_push_message)) < 0 ||
        (r = vc_conf_get_bool(c, "publisher.enableMultiNode", true, &m.enable_multi_node)) < 0) {
        r = set_err(reterr_msg, r, "%s", vc_conf_error(c));
        goto fail;
    }
    if (!vc_streq(m.db_type, "sqlite") && !vc_streq(m.db_type, "postgres")) {
        r = set_err(reterr_msg, -EINVAL, "[db] type must be \"sqlite\" or \"postgres\", not \"%s\"", m.db_type);
        goto fail;
    }
    if (vc_streq(m.db_type, "postgres") && vc_strempty(m.pg_dsn)) {
        r = set_err(reterr_msg, -EINVAL, "[db] type \"postgres\" needs [db.postgres] dsn (or --pg-dsn)");
        goto fail;
    }
    if ((r = vc_ha_settings_read(c, &m.ha, reterr_msg)) < 0)
        goto fail;
    if ((r = vc_conf_get_string_array(c, "HA.Addresses", &m.ha_addresses, &m.n_ha_addresses)) < 0) {
        r = set_err(reterr_msg, r, "%s", vc_conf_error(c));
        goto fail;
    }
    for (size_t i = 0; i < m.n_ha_addresses; i++) {
        char canon[VC_ADDRESS_STRLEN_MAX];
        /* canonical = the same string with an 'f' network prefix: rewritten in place */
        if (msgr_addr_canon(m.ha_addresses[i], canon) < 0 || strlen(canon) != strlen(m.ha_addresses[i])) {
            r = set_err(reterr_msg, -EINVAL, "[HA] Addresses: invalid address '%.128s'", m.ha_addresses[i]);
            goto fail;
        }
        memcpy(m.ha_addresses[i], canon, strlen(canon));
    }
    if (m.n_ha_addresses && vc_strempty(m.ha.scope)) {
        r = set_err(reterr_msg, -EINVAL, "[HA] Addresses needs a Scope naming the group (the other groups use other "
                                          "scopes)");
        goto fail;
    }
    *ret = m;
    return 0;
fail:
    msgr_config_done(&m);
    return r;
}

void msgr_config_done(msgr_config_t *c)
{
    if (!c)
        return;
    free(c->listen);
    free(c->db_type);
    free(c->pg_dsn);
    free(c->sqlite_file);
    free(c->ha_addresses); /* one allocation */
    vc_ha_settings_done(&c->ha);
    free(c->node_url);
    free(c->node_token);
    free(c->gateway_urls);
    free(c->gateway_token);
    free(c->auth_url);
    free(c->auth_token);
    free(c->notify_url);
    memset(c, 0, sizeof(*c));
}
