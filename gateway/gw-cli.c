/* gw-cli.c: the venus-gateway command line (spec B6): `run` and the client commands. */
#include <stdio.h>
#include <unistd.h>

#include "gateway.h"
#include "vc/conf.h"
#include "vc/ha-ops.h"
#include "vc/util.h"

/* Endpoint: --listen, else <repo>/api, else the config's API.ListenAddress. */
static char *endpoint_of(vc_cli_ctx_t *ctx, const char *repo)
{
    if (vc_cli_is_set(ctx, "listen"))
        return strdup(vc_cli_string(ctx, "listen"));
    char path[4096], *d = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/api", repo);
    if (vc_read_file(path, 4096, &d, &n) == 0) {
        while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
            d[--n] = 0;
        if (n)
            return d;
    }
    free(d);
    vc_conf_t *c = vc_conf_new();
    const char *v = NULL;
    char *out = NULL;
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    if (c && vc_conf_load(c, path) == 0 && vc_conf_get_string(c, "API.ListenAddress", "", &v) == 1 &&
        !vc_strempty(v))
        out = strdup(v);
    vc_conf_free(c);
    return out ? out : strdup(GW_DEFAULT_LISTEN);
}

/* Calls method; on success *ret is the result. Errors are printed; returns the exit code. */
static int call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    _cleanup_free_ char *repo = gw_repo_path(ctx);
    _cleanup_free_ char *ep = repo ? endpoint_of(ctx, repo) : NULL;
    _cleanup_free_ char *token = NULL;
    char path[4096];
    size_t n = 0;
    if (!ep) {
        json_decref(params);
        return vc_cli_errorf(ctx, "out of memory");
    }
    snprintf(path, sizeof(path), "%s/token", repo);
    if (vc_read_file(path, VC_TOKEN_MAX, &token, &n) == 0)
        while (n && (token[n - 1] == '\n' || token[n - 1] == ' '))
            token[--n] = 0;
    const char *eps[] = {ep};
    vc_client_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v2", .token = token, .retries = -1};
    vc_client_t *c = NULL;
    int r = vc_client_new(&o, &c);
    if (r < 0) {
        json_decref(params);
        return vc_cli_errorf(ctx, "%s: %s", ep, vc_strerror(r));
    }
    vc_rpc_err_t err = {0};
    r = vc_client_call(c, method, params, ret, &err);
    vc_client_free(c);
    if (r == VC_EREMOTE)
        return vc_cli_errorf(ctx, "%s", err.message);
    if (r == VC_EHTTP && err.code == 401)
        return vc_cli_errorf(ctx, "the gateway at %s refused the token in %s (401 Unauthorized)", ep, path);
    if (r < 0)
        return vc_cli_errorf(ctx, "cannot reach the gateway at %s: %s", ep, vc_strerror(r));
    return 0;
}

int gw_cli_ha_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    char full[64];
    snprintf(full, sizeof(full), "Gateway.%s", method);
    json_t *res = NULL;
    int rc = call(ctx, full, params, &res);
    if (rc == 0 && ret)
        *ret = res;
    else
        json_decref(res);
    return rc;
}

/* json.MarshalIndent(v, " ", "\t") and a newline. */
static int print_json(vc_cli_ctx_t *ctx, const json_t *v)
{
    vc_buf_t b = {0};
    int r = vc_json_format_go(&b, v, " ", "\t");
    if (r < 0)
        return r;
    fprintf(vc_cli_out(ctx), "%s\n", b.data ? b.data : "null");
    vc_buf_done(&b);
    return 0;
}

static int cmd_wallet_list(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = call(ctx, "Gateway.ListWalletInfo", NULL, &res);
    if (rc)
        return rc;
    rc = print_json(ctx, res);
    json_decref(res);
    return rc;
}

static int cmd_wallet_state(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = call(ctx, "Gateway.ListWalletInfoByWallet", json_pack("[s]", vc_cli_arg(ctx, 0)), &res);
    if (rc)
        return rc;
    rc = print_json(ctx, res);
    json_decref(res);
    return rc;
}

static int cmd_wallet_list_support(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL, *out = json_array();
    int rc = call(ctx, "Gateway.ListWalletInfo", NULL, &res);
    if (rc) {
        json_decref(out);
        return rc;
    }
    size_t i, k;
    json_t *w, *a;
    json_array_foreach(res, i, w)
    {
        json_array_foreach(json_object_get(w, "SupportAccounts"), k,
                           a) if (vc_streq(json_string_value(a), vc_cli_arg(ctx, 0)))
        {
            json_array_append(out, w);
            break;
        }
    }
    rc = print_json(ctx, json_array_size(out) ? out : json_null());
    json_decref(out);
    json_decref(res);
    return rc;
}

static int cmd_miner_list(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = call(ctx, "Gateway.ListConnectedMiners", NULL, &res);
    if (rc)
        return rc;
    size_t i;
    json_t *m;
    json_array_foreach(res, i, m) fprintf(vc_cli_out(ctx), "%s\n", json_string_value(m));
    json_decref(res);
    return 0;
}

static int cmd_miner_state(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = call(ctx, "Gateway.ListMinerConnection", json_pack("[s]", vc_cli_arg(ctx, 0)), &res);
    if (rc)
        return rc;
    rc = print_json(ctx, res);
    json_decref(res);
    return rc;
}

static int cmd_market_list(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = call(ctx, "Gateway.ListMarketConnectionsState", NULL, &res);
    if (rc)
        return rc;
    rc = print_json(ctx, res);
    json_decref(res);
    return rc;
}

static int cmd_proxy_set(vc_cli_ctx_t *ctx)
{
    const char *type = vc_cli_string(ctx, "type"), *url = vc_cli_string(ctx, "url");
    if (gw_host_from_string(type) < 0)
        return vc_cli_errorf(ctx, "invalid --type %s (use AUTH, VENUS, MESSAGER, MINER or DROPLET)", type);
    json_t *res = NULL;
    int rc = call(ctx, "Gateway.RegisterReverse", json_pack("[s, s]", type, url), &res);
    json_decref(res);
    if (rc)
        return rc;
    if (vc_strempty(url))
        fprintf(vc_cli_out(ctx), "unset %s success\n", type);
    else
        fprintf(vc_cli_out(ctx), "set %s to %s success\n", type, url);
    return 0;
}

static const vc_cli_flag_t run_flags[] = {
    {.name = "auth-url", .type = VC_FLAG_STRING, .usage = "venus-auth url (overrides Auth.URL; several: comma-separated)"},
    {.name = "auth-token", .type = VC_FLAG_STRING, .usage = "venus-auth token (overrides Auth.Token)"},
    {.name = "jaeger-proxy",
     .type = VC_FLAG_STRING,
     .usage = "accepted for compatibility and ignored: venus-c has no tracing",
     .env = "SOPHON_GATEWAY_JAEGER_PROXY,VENUS_GATEWAY_JAEGER_PROXY"},
    {.name = "trace-sampler",
     .type = VC_FLAG_STRING,
     .usage = "accepted for compatibility",
     .def = "1.0",
     .env = "SOPHON_GATEWAY_TRACE_SAMPLER,VENUS_GATEWAY_TRACE_SAMPLER"},
    {.name = "trace-node-name",
     .type = VC_FLAG_STRING,
     .usage = "accepted for compatibility",
     .def = "sophon-gateway"},
    {.name = "rate-limit-redis", .type = VC_FLAG_STRING, .usage = "accepted for compatibility and ignored", .hidden = true},
    {0},
};

static const vc_cli_cmd_t wallet_cmds[] = {
    {.name = "list", .usage = "list wallet connection", .nargs = VC_CLI_NO_ARGS, .run = cmd_wallet_list},
    {.name = "state",
     .usage = "list the wallet connection of an account",
     .args_usage = "<wallet-account>",
     .nargs = 1,
     .run = cmd_wallet_state},
    {.name = "list-support",
     .usage = "list the wallets that support an account",
     .args_usage = "<account>",
     .nargs = 1,
     .run = cmd_wallet_list_support},
    {0},
};

static const vc_cli_cmd_t miner_cmds[] = {
    {.name = "list", .usage = "list miners", .nargs = VC_CLI_NO_ARGS, .run = cmd_miner_list},
    {.name = "state",
     .usage = "list the connections of a miner",
     .args_usage = "<miner>",
     .nargs = 1,
     .run = cmd_miner_state},
    {0},
};

static const vc_cli_cmd_t market_cmds[] = {
    {.name = "list", .usage = "list market connections", .nargs = VC_CLI_NO_ARGS, .run = cmd_market_list},
    {0},
};

static const vc_cli_flag_t proxy_set_flags[] = {
    {.name = "type",
     .type = VC_FLAG_STRING,
     .usage = "AUTH, VENUS, MESSAGER, MINER or DROPLET",
     .required = true},
    {.name = "url", .type = VC_FLAG_STRING, .usage = "upstream url or multiaddr (empty unsets)"},
    {0},
};

static const vc_cli_cmd_t proxy_cmds[] = {
    {.name = "set",
     .usage = "set a reverse proxy upstream",
     .flags = proxy_set_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_proxy_set},
    {0},
};

static const vc_cli_cmd_t root_cmds[] = {
    {.name = "run",
     .usage = "start the venus-gateway daemon",
     .flags = run_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = gw_cmd_run},
    {.name = "wallet", .usage = "wallet cmds", .subcommands = wallet_cmds},
    {.name = "miner", .usage = "miner cmds", .subcommands = miner_cmds},
    {.name = "market", .usage = "market cmds", .subcommands = market_cmds},
    {.name = "proxy", .usage = "reverse proxy cmds", .subcommands = proxy_cmds},
    {.name = "ha", .usage = "active/active: this instance and its connections", .subcommands = vc_ha_cli_active_cmds},
    {0},
};

static const vc_cli_flag_t global_flags[] = {
    {.name = "listen",
     .type = VC_FLAG_STRING,
     .usage = "listen address (multiaddr or host:port)",
     .def = GW_DEFAULT_LISTEN},
    {.name = "repo",
     .type = VC_FLAG_STRING,
     .usage = "repo directory",
     .def = "~/.venus-gateway",
     .env = "VENUS_GATEWAY_PATH,SOPHON_GATEWAY_PATH,SOPHON_GATEWAY"},
    {0},
};

const vc_cli_cmd_t gw_cli_root = {
    .name = "venus-gateway",
    .usage = "venus-gateway for proxy incoming wallet and proof",
    .version = GW_VERSION,
    .flags = global_flags,
    .subcommands = root_cmds,
};
