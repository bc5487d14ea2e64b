/* nodepool-cli.c: the `node-pool` commands (contract in nodepool-cli.h). */
#include "vc/nodepool-cli.h"

#include <inttypes.h>
#include <stdio.h>

const vc_cli_flag_t vc_nodepool_cli_list_flags[] = {
    {"json", NULL, VC_FLAG_BOOL, "print the daemon's answer (status, settings without tokens) as JSON"},
    {0},
};

const vc_cli_flag_t vc_nodepool_cli_add_flags[] = {
    {"token", NULL, VC_FLAG_STRING, "the node's API token"},
    {0},
};

const vc_cli_flag_t vc_nodepool_cli_set_flags[] = {
    {"url", NULL, VC_FLAG_STRING, "new URL, host:port or multiaddr"},
    {"token", NULL, VC_FLAG_STRING, "new API token (\"\" for none)"},
    {0},
};

const vc_cli_flag_t vc_nodepool_cli_policy_flags[] = {
    {"timeout", NULL, VC_FLAG_DURATION, "per-attempt timeout on one node (0: the pool's CallTimeout)", "0s"},
    {"no-hang", NULL, VC_FLAG_BOOL, "fail at once when no node is healthy instead of waiting up to the timeout"},
    {"reset", NULL, VC_FLAG_BOOL, "drop the method's own policy"},
    {0},
};

/* ------------------------------------------------------------------ tables */

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int vc_nodepool_cli_format_list(const json_t *list, vc_buf_t *out)
{
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    json_int_t best = json_integer_value(json_object_get(list, "BestHeight"));
    const char *head = json_string_value(json_object_get(list, "HeadNode"));
    char best_s[24] = "unknown";
    if (best >= 0)
        snprintf(best_s, sizeof(best_s), "%" JSON_INTEGER_FORMAT, best);
    int r = vc_buf_appendf(out, "settings version %" JSON_INTEGER_FORMAT ", best height %s, head subscription: %s\n",
                           json_integer_value(json_object_get(list, "Version")), best_s, head ? head : "none");
    if (!tw || r < 0)
        return -ENOMEM;
    r = vc_tabwriter_row(tw, "NAME", "URL", "ENABLED", "HEAD", "BEHIND", "PEERS", "ERRORS", "LAST ERROR", NULL);
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(list, "Nodes"), i, n)
    {
        char height[24] = "-", behind[24] = "-", peers[24] = "-", errors[24];
        bool seen = json_integer_value(json_object_get(n, "LastHeartbeat")) > 0;
        json_int_t h = json_integer_value(json_object_get(n, "Height"));
        json_int_t p = json_integer_value(json_object_get(n, "Peers"));
        bool enabled = json_is_true(json_object_get(n, "Enabled"));
        if (seen && h > 0) {
            snprintf(height, sizeof(height), "%" JSON_INTEGER_FORMAT, h);
            snprintf(behind, sizeof(behind), "%" JSON_INTEGER_FORMAT, best > h ? best - h : 0);
        }
        if (seen && p >= 0)
            snprintf(peers, sizeof(peers), "%" JSON_INTEGER_FORMAT, p);
        snprintf(errors, sizeof(errors), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(n, "Errors")));
        const char *last = *str(n, "HeartbeatError") ? str(n, "HeartbeatError") : enabled ? "" : str(n, "Reason");
        r = r ?: vc_tabwriter_row(tw, str(n, "Name"), str(n, "URL"), enabled ? "yes" : "no", height, behind, peers,
                                  errors, last, NULL);
    }
    return r ?: vc_tabwriter_flush(tw, out);
}

static int policy_row(vc_tabwriter_t *tw, const char *name, const json_t *m)
{
    return vc_tabwriter_row(tw, name, str(m, "Policy"), *str(m, "Timeout") ? str(m, "Timeout") : "0s",
                            json_is_true(json_object_get(m, "NoHang")) ? "true" : "false", NULL);
}

int vc_nodepool_cli_format_policies(const json_t *settings, vc_buf_t *out)
{
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    if (!tw)
        return -ENOMEM;
    int r = vc_tabwriter_row(tw, "METHOD", "POLICY", "TIMEOUT", "NOHANG", NULL);
    r = r ?: policy_row(tw, "default", json_object_get(settings, "DefaultMethod"));
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)json_object_get(settings, "Methods"), k, m)
    {
        r = r ?: policy_row(tw, k, m);
    }
    return r ?: vc_tabwriter_flush(tw, out);
}

int vc_nodepool_cli_format_options(const json_t *settings, vc_buf_t *out)
{
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    if (!tw)
        return -ENOMEM;
    int r = vc_tabwriter_row(tw, "OPTION", "VALUE", NULL);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)settings, k, v)
    {
        char buf[32];
        if (vc_streq(k, "Nodes") || vc_streq(k, "Methods") || vc_streq(k, "DefaultMethod"))
            continue;
        if (json_is_integer(v))
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(buf, sizeof(buf), "%s", json_string_value(v) ? json_string_value(v) : "?");
        r = r ?: vc_tabwriter_row(tw, k, buf, NULL);
    }
    return r ?: vc_tabwriter_flush(tw, out);
}

/* ------------------------------------------------------------------ commands */

static int print_buf(vc_cli_ctx_t *ctx, vc_buf_t *b, int r)
{
    if (r >= 0 && b->len)
        fwrite(b->data, 1, b->len, vc_cli_out(ctx));
    vc_buf_done(b);
    return r < 0 ? vc_cli_errorf(ctx, "%s", vc_strerror(r)) : 0;
}

/* A change: the daemon's answer is {"Version", "Settings"}; prints "<what> (settings version N)." */
static int change(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call, const char *method, json_t *params,
                  const char *what)
{
    json_t *res = NULL;
    if (!params)
        return vc_cli_errorf(ctx, "out of memory");
    int rc = call(ctx, method, params, &res);
    if (rc == 0)
        fprintf(vc_cli_out(ctx), "%s (settings version %" JSON_INTEGER_FORMAT ").\n", what,
                json_integer_value(json_object_get(res, "Version")));
    json_decref(res);
    return rc;
}

static int cmd_list(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call)
{
    json_t *res = NULL;
    int rc = call(ctx, "NodePoolList", json_array(), &res);
    if (rc != 0)
        return rc;
    if (vc_cli_bool(ctx, "json"))
        rc = vc_cli_print_json(ctx, res);
    else {
        vc_buf_t b = {0};
        rc = print_buf(ctx, &b, vc_nodepool_cli_format_list(res, &b));
    }
    json_decref(res);
    return rc;
}

/* Prints a table of the settings (from NodePoolList). */
static int show_settings(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call, int (*format)(const json_t *, vc_buf_t *))
{
    json_t *res = NULL;
    int rc = call(ctx, "NodePoolList", json_array(), &res);
    if (rc == 0) {
        vc_buf_t b = {0};
        rc = print_buf(ctx, &b, format(json_object_get(res, "Settings"), &b));
    }
    json_decref(res);
    return rc;
}

static int cmd_policy(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call)
{
    const char *method = vc_cli_arg(ctx, 0), *pol = vc_cli_arg(ctx, 1);
    bool reset = vc_cli_bool(ctx, "reset");
    char what[320];
    if (vc_cli_nargs(ctx) > 2)
        return vc_cli_errorf(ctx, "too many arguments: give <method> <policy>");
    if (!method) {
        if (reset || vc_cli_is_set(ctx, "timeout") || vc_cli_is_set(ctx, "no-hang"))
            return vc_cli_errorf(ctx, "which method? give <method> first");
        return show_settings(ctx, call, vc_nodepool_cli_format_policies);
    }
    if (reset && pol)
        return vc_cli_errorf(ctx, "--reset drops the policy of %s: give no <policy> with it", method);
    if (!reset && !pol)
        return vc_cli_errorf(ctx, "give the policy for %s (see --help), or --reset", method);
    if (reset) {
        snprintf(what, sizeof(what), "policy of %.256s reset", method);
        return change(ctx, call, "NodePoolPolicy", json_pack("[{s:s, s:n}]", "Method", method, "Policy"), what);
    }
    char tmo[32];
    snprintf(tmo, sizeof(tmo), "%" PRId64 "ms", vc_cli_duration_ms(ctx, "timeout"));
    snprintf(what, sizeof(what), "policy of %.256s set to %.32s", method, pol);
    return change(ctx, call, "NodePoolPolicy",
                  json_pack("[{s:s, s:s, s:s, s:b}]", "Method", method, "Policy", pol, "Timeout", tmo, "NoHang",
                            vc_cli_bool(ctx, "no-hang")),
                  what);
}

static int cmd_config(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call)
{
    size_t n = vc_cli_nargs(ctx);
    if (n == 0)
        return show_settings(ctx, call, vc_nodepool_cli_format_options);
    if (n % 2)
        return vc_cli_errorf(ctx, "give <option> <value> pairs (e.g. MaxSyncBehind 3)");
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i += 2)
        if (json_object_set_new(o, vc_cli_arg(ctx, i), json_string(vc_cli_arg(ctx, i + 1))) < 0) {
            json_decref(o);
            o = NULL;
        }
    return change(ctx, call, "NodePoolConfig", o ? json_pack("[o]", o) : NULL, "options set");
}

int vc_nodepool_cli_run(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call)
{
    const char *cmd = vc_cli_command(ctx)->name, *a0 = vc_cli_arg(ctx, 0);
    char what[160];
    if (vc_streq(cmd, "list"))
        return cmd_list(ctx, call);
    if (vc_streq(cmd, "add")) {
        snprintf(what, sizeof(what), "node '%.64s' added", a0);
        return change(ctx, call, "NodePoolAdd",
                      json_pack("[{s:s, s:s, s:s}]", "Name", a0, "URL", vc_cli_arg(ctx, 1), "Token",
                                vc_cli_string(ctx, "token")),
                      what);
    }
    if (vc_streq(cmd, "set")) {
        json_t *o = json_pack("{s:s}", "Name", a0);
        if (vc_cli_is_set(ctx, "url"))
            json_object_set_new(o, "URL", json_string(vc_cli_string(ctx, "url")));
        if (vc_cli_is_set(ctx, "token"))
            json_object_set_new(o, "Token", json_string(vc_cli_string(ctx, "token")));
        snprintf(what, sizeof(what), "node '%.64s' updated", a0);
        return change(ctx, call, "NodePoolSet", o ? json_pack("[o]", o) : NULL, what);
    }
    if (vc_streq(cmd, "remove")) {
        snprintf(what, sizeof(what), "node '%.64s' removed", a0);
        return change(ctx, call, "NodePoolRemove", json_pack("[s]", a0), what);
    }
    if (vc_streq(cmd, "policy"))
        return cmd_policy(ctx, call);
    if (vc_streq(cmd, "config"))
        return cmd_config(ctx, call);
    return vc_cli_errorf(ctx, "unknown node-pool command '%s'", cmd);
}
