/* ha-ops.c: the [HA] config section, the Ha* RPC answers, the `ha` CLI group and the lease
 * gauges, shared by every daemon with a lease (contract in ha-ops.h). */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc/ha-ops.h"
#include "vc/log.h"

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

int vc_ha_settings_read(vc_conf_t *c, vc_ha_settings_t *ret, char **reterr_msg)
{
    vc_ha_settings_t s = {0};
    const char *scope = NULL, *holder = NULL, *why = NULL;
    int r;
    if ((r = vc_conf_get_bool(c, "HA.Enable", true, &s.enable)) < 0 ||
        (r = vc_conf_get_string(c, "HA.Scope", "", &scope)) < 0 ||
        (r = vc_conf_get_string(c, "HA.Holder", "", &holder)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "HA.Lease", VC_HA_LEASE_MS_DEFAULT, &s.cfg.lease_ms)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "HA.RenewDeadline", VC_HA_RENEW_DEADLINE_MS_DEFAULT,
                                     &s.cfg.renew_deadline_ms)) < 0 ||
        (r = vc_conf_get_duration_ms(c, "HA.Retry", VC_HA_RETRY_MS_DEFAULT, &s.cfg.retry_ms)) < 0)
        return set_err(reterr_msg, r, "%s", vc_conf_error(c));
    if (strlen(scope) > VC_HA_NAME_MAX)
        return set_err(reterr_msg, -EINVAL, "HA.Scope: at most %d bytes", VC_HA_NAME_MAX);
    if (strlen(holder) > VC_HA_HOLDER_MAX - 10)
        return set_err(reterr_msg, -EINVAL, "HA.Holder: at most %d bytes", VC_HA_HOLDER_MAX - 10);
    if (vc_ha_config_validate(&s.cfg, &s.cfg, &why) < 0)
        return set_err(reterr_msg, -EINVAL, "[HA] Lease, RenewDeadline, Retry: %s", why ? why : "invalid");
    s.scope = strdup(scope);
    s.holder = strdup(holder);
    if (!s.scope || !s.holder) {
        vc_ha_settings_done(&s);
        return set_err(reterr_msg, -ENOMEM, "out of memory");
    }
    *ret = s;
    return 0;
}

void vc_ha_settings_done(vc_ha_settings_t *s)
{
    free(s->scope);
    free(s->holder);
    s->scope = s->holder = NULL;
}

int vc_ha_elector_from_settings(vc_db_t *db, const char *service, const vc_ha_settings_t *settings,
                                void (*on_started_leading)(int64_t token, void *userdata),
                                void (*on_stopped_leading)(void *userdata), void *userdata,
                                vc_ha_elector_t **ret)
{
    *ret = NULL;
    if (!settings->enable)
        return 0;
    vc_ha_elector_options_t o = {.service = service,
                                 .scope = settings->scope,
                                 .holder_base = settings->holder && *settings->holder ? settings->holder : NULL,
                                 .config = settings->cfg,
                                 .on_started_leading = on_started_leading,
                                 .on_stopped_leading = on_stopped_leading,
                                 .userdata = userdata};
    return vc_ha_elector_new(db, &o, ret);
}

/* ---- RPC answers ---- */

const char *vc_ha_role(vc_ha_elector_t *e)
{
    if (!e)
        return "leader";
    return vc_ha_elector_paused(e) ? "paused" : vc_ha_is_leader(e, NULL) ? "leader" : "standby";
}

static const char *elector_role(void *userdata)
{
    return vc_ha_role(userdata);
}

int vc_ha_presence_start(vc_db_t *db, const char *service, vc_ha_elector_t *e, const char *addr,
                         vc_ha_presence_t **ret)
{
    char id[VC_HA_HOLDER_MAX];
    if (!e) {
        int r = vc_ha_holder_id(NULL, id);
        if (r < 0)
            return r;
    }
    vc_ha_presence_options_t o = {.service = service,
                                  .scope = e ? vc_ha_elector_scope(e) : "",
                                  .instance = e ? vc_ha_elector_holder(e) : id,
                                  .addr = addr,
                                  .role = elector_role,
                                  .userdata = e};
    return vc_ha_presence_new(db, &o, ret);
}

/* [{"Holder", "Addr", "Role", "AgeMs", "UpMs"}] of p's live peers, or null without p. */
static int peers_json(vc_ha_presence_t *p, json_t **ret, char **reterr_msg)
{
    if (!p) {
        *ret = json_null();
        return 0;
    }
    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    int r = vc_ha_presence_peers(p, &v, &n);
    if (r < 0)
        return set_err(reterr_msg, r, "peers: %s", vc_strerror(r));
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:I}", "Holder", v[i].instance, "Addr",
                                               v[i].addr, "Role", v[i].role, "AgeMs", (json_int_t)v[i].age_ms,
                                               "UpMs", (json_int_t)v[i].up_ms)) < 0) {
            a = (json_decref(a), NULL);
        }
    free(v);
    if (!a)
        return set_err(reterr_msg, -ENOMEM, "out of memory");
    *ret = a;
    return 0;
}

int vc_ha_status_json(vc_ha_elector_t *e, vc_ha_presence_t *p, vc_db_t *db, json_t **ret, char **reterr_msg)
{
    json_t *peers = NULL;
    int r = peers_json(p, &peers, reterr_msg);
    if (r < 0)
        return r;
    if (!e) {
        if (p)
            *ret = json_pack("{s:b, s:s, s:s, s:o}", "Enabled", 0, "Role", vc_ha_presence_role(p), "Holder",
                             vc_ha_presence_instance(p), "Peers", peers);
        else
            *ret = json_pack("{s:b, s:s, s:o}", "Enabled", 0, "Role", "leader", "Peers", peers);
        return *ret ? 0 : set_err(reterr_msg, -ENOMEM, "out of memory");
    }
    int64_t token = 0;
    bool lead = vc_ha_is_leader(e, &token);
    vc_ha_lease_t l;
    json_t *lease = NULL;
    r = vc_ha_status(db, vc_ha_elector_service(e), vc_ha_elector_scope(e), &l);
    if (r == 0)
        lease = json_pack("{s:s, s:I, s:b, s:I, s:I}", "Holder", l.holder, "Token", (json_int_t)l.token, "Live",
                          l.live, "AgeMs", (json_int_t)l.age_ms, "RemainingMs", (json_int_t)l.remaining_ms);
    else if (r != -ENOENT) {
        json_decref(peers);
        return set_err(reterr_msg, r, "lease status: %s", vc_strerror(r));
    }
    *ret = json_pack("{s:b, s:s, s:s, s:s, s:I, s:o, s:o}", "Enabled", 1, "Role",
                     vc_ha_elector_paused(e) ? "paused" : lead ? "leader" : "standby", "Holder",
                     vc_ha_elector_holder(e), "Scope", vc_ha_elector_scope(e), "Token", (json_int_t)(lead ? token : 0),
                     "Lease", lease ? lease : json_null(), "Peers", peers);
    return *ret ? 0 : set_err(reterr_msg, -ENOMEM, "out of memory");
}

int vc_ha_op_promote(vc_ha_elector_t *e, bool force, const char **reterr_msg)
{
    if (!e) {
        *reterr_msg = "HA is disabled ([HA] Enable = false): this instance always acts";
        return -EINVAL;
    }
    int r = vc_ha_elector_promote(e, force);
    if (r == -EBUSY)
        *reterr_msg = "the lease holder is alive: refusing to promote (use --force to take it anyway)";
    else if (r == -ETIMEDOUT)
        *reterr_msg = "promote: the elector did not answer in time (database slow or unreachable?)";
    else if (r < 0)
        *reterr_msg = "promote failed: the database refused or could not be reached";
    else
        vc_logkv(VC_LOG_NOTICE, "ha", "promoted by the operator", "force", force ? "true" : "false", NULL);
    return r;
}

int vc_ha_op_pause(vc_ha_elector_t *e, bool pause, const char **reterr_msg)
{
    if (!e) {
        *reterr_msg = "HA is disabled ([HA] Enable = false)";
        return -EINVAL;
    }
    if (pause)
        vc_ha_elector_pause(e);
    else
        vc_ha_elector_resume(e);
    vc_logkv(VC_LOG_NOTICE, "ha", pause ? "paused: stepping down" : "resumed", NULL);
    return 0;
}

int vc_ha_rpc(vc_rpc_call_t *call, const json_t *params, json_t **ret, vc_ha_elector_t *e, vc_ha_presence_t *p,
              vc_db_t *db)
{
    const char *m = strrchr(vc_rpc_call_method(call), '.');
    const char *why = NULL;
    m = m ? m + 1 : vc_rpc_call_method(call);
    if (vc_streq(m, "HaStatus")) {
        char *err = NULL;
        int r = vc_ha_status_json(e, p, db, ret, &err);
        if (r < 0)
            r = vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", err ? err : vc_strerror(r));
        free(err);
        return r;
    }
    if (vc_streq(m, "HaPromote")) {
        json_t *f = json_array_get(params, 0);
        if (!json_is_boolean(f))
            return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s' (param: 0): %s",
                                vc_rpc_call_method(call), "expected a boolean (force)");
        return vc_ha_op_promote(e, json_is_true(f), &why) < 0 ? vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", why) : 0;
    }
    if (vc_streq(m, "HaPause") || vc_streq(m, "HaResume"))
        return vc_ha_op_pause(e, vc_streq(m, "HaPause"), &why) < 0 ? vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", why)
                                                                      : 0;
    return vc_rpc_error(call, VC_RPC_APP_ERROR, "unknown HA method %s", vc_rpc_call_method(call));
}

/* ---- metrics ---- */

static double ha_leader(void *userdata)
{
    return vc_ha_is_leader(userdata, NULL) ? 1 : 0;
}

static double ha_token(void *userdata)
{
    int64_t t = 0;
    return vc_ha_is_leader(userdata, &t) ? (double)t : 0;
}

void vc_ha_metrics_register(vc_metrics_t *m, vc_ha_elector_t *e)
{
    if (!m || !e)
        return;
    vc_metrics_gauge_func(m, "ha_leader", "1 while this instance holds its lease.", ha_leader, e, NULL);
    vc_metrics_gauge_func(m, "ha_token", "Fencing token of the lease term held (0: standby).", ha_token, e, NULL);
}

/* ---- CLI ---- */

static int no_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret);
static vc_ha_cli_call_fn cli_call = no_call;

static int no_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    (void)ret;
    json_decref(params);
    return vc_cli_errorf(ctx, "internal error: vc_ha_cli_use was not called (%s)", method);
}

static int cmd_status(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = cli_call(ctx, "HaStatus", NULL, &res);
    if (rc == 0)
        vc_cli_print_json(ctx, res ? res : json_null());
    json_decref(res);
    return rc;
}

static int cmd_promote(vc_cli_ctx_t *ctx)
{
    int rc = cli_call(ctx, "HaPromote", json_pack("[b]", vc_cli_bool(ctx, "force")), NULL);
    if (rc == 0)
        puts("promoted: this instance holds the lease.");
    return rc;
}

static int cmd_pause(vc_cli_ctx_t *ctx)
{
    int rc = cli_call(ctx, "HaPause", NULL, NULL);
    if (rc == 0)
        puts("paused: this instance stepped down and stays standby.");
    return rc;
}

static int cmd_resume(vc_cli_ctx_t *ctx)
{
    int rc = cli_call(ctx, "HaResume", NULL, NULL);
    if (rc == 0)
        puts("resumed: this instance may take the lease again.");
    return rc;
}

static const vc_cli_flag_t promote_flags[] = {
    {"force", NULL, VC_FLAG_BOOL, "take the lease even while its holder is alive (its writes then fail)"},
    {0},
};

static int cmd_not_active(vc_cli_ctx_t *ctx, const char *what)
{
    return vc_cli_errorf(ctx, "this daemon runs active/active: every instance serves and there is no lease to %s",
                         what);
}

static int cmd_active_promote(vc_cli_ctx_t *ctx)
{
    return cmd_not_active(ctx, "promote");
}

static int cmd_active_pause(vc_cli_ctx_t *ctx)
{
    return cmd_not_active(ctx, "pause");
}

static int cmd_active_resume(vc_cli_ctx_t *ctx)
{
    return cmd_not_active(ctx, "resume");
}

const vc_cli_cmd_t vc_ha_cli_active_cmds[] = {
    {.name = "status", .usage = "role (active), instance id, live peers", .nargs = VC_CLI_NO_ARGS, .run = cmd_status},
    {.name = "promote", .usage = "not applicable: active/active", .flags = promote_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_active_promote},
    {.name = "pause", .usage = "not applicable: active/active", .nargs = VC_CLI_NO_ARGS, .run = cmd_active_pause},
    {.name = "resume", .usage = "not applicable: active/active", .nargs = VC_CLI_NO_ARGS, .run = cmd_active_resume},
    {0},
};

const vc_cli_cmd_t vc_ha_cli_cmds[] = {
    {.name = "status", .usage = "role (leader, standby, paused), holder, fencing token, lease age",
     .nargs = VC_CLI_NO_ARGS, .run = cmd_status},
    {.name = "promote", .usage = "take the lease now (the holder must be dead, unless --force)",
     .flags = promote_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_promote},
    {.name = "pause", .usage = "step down and stay standby", .nargs = VC_CLI_NO_ARGS, .run = cmd_pause},
    {.name = "resume", .usage = "allow this instance to lead again", .nargs = VC_CLI_NO_ARGS, .run = cmd_resume},
    {0},
};

void vc_ha_cli_use(vc_ha_cli_call_fn call)
{
    cli_call = call;
}
