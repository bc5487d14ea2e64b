/* miner-config.c: config.toml defaults, loading and checking (A.5). */
#define _GNU_SOURCE /* vasprintf */
#include "miner-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc/ha.h"
#include "vc/util.h"

static const char defaults_toml[] =
    "PropagationDelaySecs = 12\n"
    "MpoolSelectDelaySecs = 0\n"
    "MinerOnceTimeout = \"15s\"\n"
    "[API]\n"
    "  ListenAddress = \"" MINER_DEFAULT_LISTEN "\"\n"
    "[FullNode]\n"
    "  Addr = \"/ip4/127.0.0.1/tcp/3453\"\n"
    "  Token = \"\"\n"
    "[Gateway]\n"
    "  ListenAPI = [\"/ip4/127.0.0.1/tcp/45132\"]\n"
    "  Token = \"\"\n"
    "[Auth]\n"
    "  Addr = \"http://127.0.0.1:8989\"\n"
    "  Token = \"\"\n"
    "[SlashFilter]\n"
    "  Type = \"local\"\n"
    "  [SlashFilter.Local]\n"
    "    Path = \"\"\n"
    "  [SlashFilter.Postgres]\n"
    "    Dsn = \"\"\n"
    VC_HA_CONF_DEFAULTS
    "[Recorder]\n"
    "  Enable = false\n"
    "  ExpireEpoch = 0\n"
    "  MaxRecordPerQuery = 0\n";

vc_conf_t *miner_config_defaults(void)
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

int miner_config_load(const char *path, vc_conf_t **ret, char **reterr_msg)
{
    vc_conf_t *def = miner_config_defaults(), *file = vc_conf_new();
    int r;
    if (!def || !file) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = vc_conf_load(file, path)) < 0) {
        set_err(reterr_msg, r, "%s", vc_conf_error(file));
        goto out;
    }
    if ((r = vc_conf_merge(def, file)) < 0) {
        set_err(reterr_msg, r, "%s", vc_conf_error(def));
        goto out;
    }
    *ret = def;
    def = NULL;
out:
    vc_conf_free(def);
    vc_conf_free(file);
    return r;
}

static char *dup_str(vc_conf_t *c, const char *key, int *r)
{
    const char *s = "";
    int rr = vc_conf_get_string(c, key, "", &s);
    if (rr < 0) {
        *r = rr;
        return NULL;
    }
    char *d = strdup(s);
    if (!d)
        *r = -ENOMEM;
    return d;
}

int miner_config_read(vc_conf_t *c, miner_config_t *ret, char **reterr_msg)
{
    miner_config_t m = {0};
    int64_t pd = 0, sd = 0;
    int r = 0;
    if ((r = vc_conf_get_int(c, "PropagationDelaySecs", 12, &pd)) < 0 ||
        (r = vc_conf_get_int(c, "MpoolSelectDelaySecs", 0, &sd)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "MinerOnceTimeout", 15000, &m.once_timeout_ms)) < 0 ||
        (r = vc_conf_get_bool(c, "Recorder.Enable", false, &m.recorder)) < 0 ||
        (r = vc_conf_get_int(c, "Recorder.ExpireEpoch", 0, &m.record_expire)) < 0 ||
        (r = vc_conf_get_int(c, "Recorder.MaxRecordPerQuery", 0, &m.record_max_query)) < 0 ||
        (r = vc_conf_get_string_array(c, "Gateway.ListenAPI", &m.gateway_urls, &m.n_gateway_urls)) < 0 ||
        (r = vc_conf_get_string_array(c, "Auth.Addr", &m.auth_urls, &m.n_auth_urls)) < 0) {
        set_err(reterr_msg, r, "%s", vc_conf_error(c));
        goto fail;
    }
    if (pd < 0 || pd > 3600 || sd < 0 || sd > 3600 || m.once_timeout_ms <= 0 || m.record_expire < 0 ||
        m.record_max_query < 0) {
        r = set_err(reterr_msg, -EINVAL,
                    "PropagationDelaySecs, MpoolSelectDelaySecs (0..3600), MinerOnceTimeout (> 0) and the "
                    "[Recorder] numbers (>= 0) are out of range");
        goto fail;
    }
    m.propagation_ms = pd * 1000;
    m.mpool_select_delay_ms = sd * 1000;
    m.listen = dup_str(c, "API.ListenAddress", &r);
    m.node.addr = dup_str(c, "FullNode.Addr", &r);
    m.node.token = dup_str(c, "FullNode.Token", &r);
    m.gateway_token = dup_str(c, "Gateway.Token", &r);
    m.auth.addr = strdup(m.n_auth_urls ? m.auth_urls[0] : "");
    if (!m.auth.addr)
        r = -ENOMEM;
    m.auth.token = dup_str(c, "Auth.Token", &r);
    m.slash_type = dup_str(c, "SlashFilter.Type", &r);
    m.pg_dsn = dup_str(c, "SlashFilter.Postgres.Dsn", &r);
    m.sqlite_path = dup_str(c, "SlashFilter.Local.Path", &r);
    m.notify_url = dup_str(c, "Notify.URL", &r);
    if (r < 0) {
        set_err(reterr_msg, r, "%s", r == -ENOMEM ? "out of memory" : vc_conf_error(c));
        goto fail;
    }
    json_t *sn = vc_conf_get(c, "SubmitNodes");
    if (sn && !json_is_array(sn)) {
        r = set_err(reterr_msg, VC_ETYPE, "SubmitNodes: expected an array of tables ([[SubmitNodes]])");
        goto fail;
    }
    if (json_array_size(sn)) {
        m.submit = calloc(json_array_size(sn), sizeof(*m.submit));
        if (!m.submit) {
            r = set_err(reterr_msg, -ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(sn); i++) {
            json_t *e = json_array_get(sn, i);
            const char *a = json_string_value(json_object_get(e, "Addr"));
            const char *t = json_string_value(json_object_get(e, "Token"));
            if (!a || !*a) {
                r = set_err(reterr_msg, VC_ETYPE, "SubmitNodes[%zu].Addr: expected a non-empty string", i);
                goto fail;
            }
            m.submit[i].addr = strdup(a);
            m.submit[i].token = strdup(t ? t : "");
            m.n_submit++;
        }
    }
    /* config.Check */
    if (!*m.listen)
        r = set_err(reterr_msg, -EINVAL, "API.ListenAddress is empty");
    else if (!*m.node.addr || !*m.node.token)
        r = set_err(reterr_msg, -EINVAL, "FullNode.Addr and FullNode.Token are required");
    else if (!*m.auth.addr)
        r = set_err(reterr_msg, -EINVAL, "Auth.Addr is required");
    else if (m.n_gateway_urls == 0)
        r = set_err(reterr_msg, -EINVAL, "Gateway.ListenAPI needs at least one address");
    else if (vc_streq(m.slash_type, "mysql"))
        r = set_err(reterr_msg, -EINVAL,
                    "SlashFilter.Type mysql is not supported by venus-c: use \"postgres\" with "
                    "[SlashFilter.Postgres] Dsn, or \"local\"");
    else if (!vc_streq(m.slash_type, "local") && !vc_streq(m.slash_type, "postgres"))
        r = set_err(reterr_msg, -EINVAL, "SlashFilter.Type must be \"local\" or \"postgres\", not \"%s\"",
                    m.slash_type);
    else if (vc_streq(m.slash_type, "postgres") && !*m.pg_dsn)
        r = set_err(reterr_msg, -EINVAL, "SlashFilter.Postgres.Dsn is required with Type = \"postgres\"");
    if (r >= 0) /* (r may hold a count from the reads above) */
        r = vc_ha_settings_read(c, &m.ha, reterr_msg);
    if (r < 0)
        goto fail;
    *ret = m;
    return 0;
fail:
    miner_config_done(&m);
    return r;
}

void miner_config_done(miner_config_t *c)
{
    free(c->listen);
    free(c->notify_url);
    free(c->node.addr);
    free(c->node.token);
    free(c->gateway_urls); /* one allocation */
    free(c->gateway_token);
    free(c->auth.addr);
    free(c->auth_urls); /* one allocation */
    free(c->auth.token);
    for (size_t i = 0; i < c->n_submit; i++) {
        free(c->submit[i].addr);
        free(c->submit[i].token);
    }
    free(c->submit);
    free(c->slash_type);
    free(c->pg_dsn);
    free(c->sqlite_path);
    vc_ha_settings_done(&c->ha);
    memset(c, 0, sizeof(*c));
}
