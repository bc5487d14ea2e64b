/*
 * miner-cli.c: venus-miner's command tree (spec A.2): init, run, and the client commands that
 * call the daemon at <repo>/api with <repo>/token and print what sophon-miner prints
 * (json.MarshalIndent with tabs, the fixed success lines). Failures: one "ERROR: ..." line, exit 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner-config.h"
#include "miner-daemon.h"
#include "miner.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/conf.h"
#include "vc/ha-ops.h"
#include "vc/log.h"
#include "vc/nodepool-cli.h"
#include "vc/util.h"

/* ------------------------------------------------------------------ talking to the daemon */

static char *repo_file(const char *repo, const char *file)
{
    _cleanup_free_ char *p = vc_path_join(repo, file);
    char *d = p ? vc_read_trimmed(p, 64 * 1024) : NULL;
    if (d && !*d) {
        free(d);
        return NULL;
    }
    return d;
}

static int call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    _cleanup_free_ char *repo = miner_repo_path(ctx);
    _cleanup_free_ char *api = NULL, *token = NULL;
    vc_client_t *c = NULL;
    if (!repo) {
        json_decref(params);
        return vc_cli_errorf(ctx, "out of memory");
    }
    if (!(api = repo_file(repo, "api"))) {
        json_decref(params);
        return vc_cli_errorf(ctx, "no %s/api: is `venus-miner run` running with this --repo?", repo);
    }
    token = repo_file(repo, "token");
    const char *eps[] = {api};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v0", .token = token,
                          .api_namespace = "miner.MinerAPI", .timeout_ms = 600000, .retries = -1};
    int r = vc_client_new(&o, &c);
    if (r < 0) {
        json_decref(params);
        return vc_cli_errorf(ctx, "bad daemon address in %s/api: %s", repo, vc_strerror(r));
    }
    char full[96];
    snprintf(full, sizeof(full), "Filecoin.%s", method);
    vc_rpc_err_t err = {0};
    json_t *res = NULL;
    r = vc_client_call(c, full, params, &res, &err);
    if (r < 0) {
        int rc;
        if (r == VC_EREMOTE)
            rc = vc_cli_errorf(ctx, "%s", err.message);
        else if (r == VC_EHTTP && err.code == 401)
            rc = vc_cli_errorf(ctx, "venus-miner at %s refused the token in %s/token (401): it is rewritten at every "
                               "`venus-miner run`", vc_client_current(c), repo);
        else if (r == VC_EHTTP)
            rc = vc_cli_errorf(ctx, "venus-miner at %s answered HTTP %d", vc_client_current(c), err.code);
        else
            rc = vc_cli_errorf(ctx, "cannot reach venus-miner at %s (%s); is `venus-miner run` running?",
                               vc_client_current(c), vc_strerror(r));
        vc_client_free(c);
        return rc;
    }
    vc_client_free(c);
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

static int call_print(vc_cli_ctx_t *ctx, const char *method, json_t *params)
{
    json_t *res = NULL;
    int rc = call(ctx, method, params, &res);
    if (rc == 0)
        vc_cli_print_json(ctx, res ? res : json_null());
    json_decref(res);
    return rc;
}

/* The positional args as a JSON array of addresses, each checked. */
static int addr_args(vc_cli_ctx_t *ctx, size_t from, json_t **ret)
{
    json_t *arr = json_array();
    for (const char *a; arr && (a = vc_cli_arg(ctx, from)); from++) {
        vc_address_t x;
        if (vc_address_from_string(a, &x) < 0) {
            json_decref(arr);
            return vc_cli_errorf(ctx, "invalid miner address '%s'", a);
        }
        json_array_append_new(arr, json_string(a));
    }
    if (!arr)
        return vc_cli_errorf(ctx, "out of memory");
    *ret = arr;
    return 0;
}

/* ------------------------------------------------------------------ commands */

static int cmd_stop(vc_cli_ctx_t *ctx)
{
    return call(ctx, "Shutdown", NULL, NULL);
}

static int cmd_version(vc_cli_ctx_t *ctx)
{
    json_t *v = NULL;
    int rc = call(ctx, "Version", NULL, &v);
    if (rc != 0)
        return rc;
    printf("Daemon:  %s\nLocal: venus-miner version %s\n", json_string_value(json_object_get(v, "Version")) ?: "?",
           MINER_VERSION);
    json_decref(v);
    return 0;
}

static int cmd_address_list(vc_cli_ctx_t *ctx)
{
    return call_print(ctx, "ListAddress", NULL);
}

static int cmd_address_update(vc_cli_ctx_t *ctx)
{
    int64_t skip = vc_cli_int(ctx, "skip"), limit = vc_cli_int(ctx, "limit");
    if (skip < 0 || limit < 0)
        return vc_cli_errorf(ctx, "--skip and --limit must not be negative");
    return call_print(ctx, "UpdateAddress", json_pack("[I, I]", (json_int_t)skip, (json_int_t)limit));
}

static int cmd_address_state(vc_cli_ctx_t *ctx)
{
    json_t *a = NULL;
    int rc = addr_args(ctx, 0, &a);
    return rc ? rc : call_print(ctx, "StatesForMining", json_pack("[o]", a));
}

static int start_stop(vc_cli_ctx_t *ctx, bool start)
{
    json_t *a = NULL;
    int rc = addr_args(ctx, 0, &a);
    if (rc == 0 && json_array_size(a) == 0) {
        json_decref(a);
        return vc_cli_errorf(ctx, "give at least one miner address");
    }
    if (rc == 0 && (rc = call(ctx, start ? "Start" : "Stop", json_pack("[o]", a), NULL)) == 0)
        puts(start ? "start mining success." : "stop mining success.");
    return rc;
}

static int cmd_address_start(vc_cli_ctx_t *ctx)
{
    return start_stop(ctx, true);
}

static int cmd_address_stop(vc_cli_ctx_t *ctx)
{
    return start_stop(ctx, false);
}

static int cmd_address_warmup(vc_cli_ctx_t *ctx)
{
    vc_address_t x;
    const char *a = vc_cli_arg(ctx, 0);
    if (vc_address_from_string(a, &x) < 0)
        return vc_cli_errorf(ctx, "invalid miner address '%s'", a ? a : "");
    _cleanup_free_ char *repo = miner_repo_path(ctx);
    _cleanup_free_ char *api = repo ? repo_file(repo, "api") : NULL;
    if (!api)
        return vc_cli_errorf(ctx, "no %s/api: is `venus-miner run` running with this --repo?", repo ? repo : "");
    /* upstream prints the failure and still exits 0 */
    json_t *res = NULL;
    _cleanup_free_ char *token = repo_file(repo, "token");
    const char *eps[] = {api};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v0", .token = token,
                          .timeout_ms = 600000, .retries = -1};
    vc_client_t *c = NULL;
    vc_rpc_err_t err = {0};
    int r = vc_client_new(&o, &c);
    if (r == 0)
        r = vc_client_call(c, "Filecoin.WarmupForMiner", json_pack("[s]", a), &res, &err);
    vc_client_free(c);
    json_decref(res);
    if (r < 0)
        printf("warmup failed:  %s\n", *err.message ? err.message : vc_strerror(r));
    else
        puts("warmup success.");
    return 0;
}

static int cmd_winner_count(vc_cli_ctx_t *ctx)
{
    json_t *a = NULL;
    int64_t s = vc_cli_int(ctx, "epoch-start"), e = vc_cli_int(ctx, "epoch-end");
    if (s < 0 || e < 0)
        return vc_cli_errorf(ctx, "--epoch-start and --epoch-end must not be negative");
    if (s > e)
        return vc_cli_errorf(ctx, "--epoch-start %" PRId64 " is after --epoch-end %" PRId64, s, e);
    int rc = addr_args(ctx, 0, &a);
    return rc ? rc : call_print(ctx, "CountWinners", json_pack("[o, I, I]", a, (json_int_t)s, (json_int_t)e));
}

static int cmd_record_query(vc_cli_ctx_t *ctx)
{
    vc_address_t x;
    int64_t epoch;
    const char *a = vc_cli_arg(ctx, 0), *ep = vc_cli_arg(ctx, 1);
    if (vc_address_from_string(a, &x) < 0)
        return vc_cli_errorf(ctx, "invalid miner address '%s'", a ? a : "");
    if (vc_parse_i64(ep, &epoch) < 0 || epoch < 0)
        return vc_cli_errorf(ctx, "invalid epoch '%s'", ep ? ep : "");
    int64_t limit = vc_cli_int(ctx, "limit");
    if (limit < 0)
        return vc_cli_errorf(ctx, "--limit must not be negative");
    return call_print(ctx, "QueryRecord",
                      json_pack("[{s:s, s:I, s:I}]", "Miner", a, "Epoch", (json_int_t)epoch, "Limit", (json_int_t)limit));
}

static int cmd_log_list(vc_cli_ctx_t *ctx)
{
    json_t *res = NULL;
    int rc = call(ctx, "LogList", NULL, &res);
    size_t i;
    json_t *x;
    json_array_foreach(res, i, x) puts(json_string_value(x) ?: "");
    json_decref(res);
    return rc;
}

static int cmd_log_set_level(vc_cli_ctx_t *ctx)
{
    const char *level = vc_cli_arg(ctx, 0);
    vc_log_level_t l;
    if (vc_log_level_from_string(level, &l) < 0)
        return vc_cli_errorf(ctx, "unrecognized level: \"%s\"", level ? level : "");
    size_t ns = 0;
    const char *const *sys = vc_cli_strings(ctx, "system", &ns);
    json_t *all = NULL;
    if (ns == 0) {
        int rc = call(ctx, "LogList", NULL, &all);
        if (rc != 0)
            return rc;
    }
    size_t n = ns ? ns : json_array_size(all);
    for (size_t i = 0; i < n; i++) {
        const char *s = ns ? sys[i] : json_string_value(json_array_get(all, i));
        int rc = call(ctx, "LogSetLevel", json_pack("[s, s]", s ? s : "", level), NULL);
        if (rc != 0) {
            json_decref(all);
            return rc;
        }
    }
    json_decref(all);
    return 0;
}

static int cmd_node_pool(vc_cli_ctx_t *ctx)
{
    return vc_nodepool_cli_run(ctx, call);
}

/* ------------------------------------------------------------------ the tree */

static const vc_cli_flag_t update_flags[] = {
    {"skip", NULL, VC_FLAG_INT, "users to skip", "0"},
    {"limit", NULL, VC_FLAG_INT, "users to read (0 = all)", "0"},
    {0},
};

static const vc_cli_cmd_t address_cmds[] = {
    {.name = "list", .usage = "list every miner known from venus-auth", .nargs = VC_CLI_NO_ARGS,
     .run = cmd_address_list},
    {.name = "update", .usage = "re-read the miners from venus-auth", .flags = update_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_address_update},
    {.name = "state", .usage = "mining state and recent errors of miners", .args_usage = "[addr...]",
     .run = cmd_address_state},
    {.name = "start", .usage = "start mining (persisted in venus-auth)", .args_usage = "<addr...>", .min_args = 1,
     .run = cmd_address_start},
    {.name = "stop", .usage = "stop mining (persisted in venus-auth)", .args_usage = "<addr...>", .min_args = 1,
     .run = cmd_address_stop},
    {.name = "warmup", .usage = "run one winning PoSt for a miner", .args_usage = "<addr>", .nargs = 1,
     .run = cmd_address_warmup},
    {0},
};

static const vc_cli_flag_t winner_flags[] = {
    {"epoch-start", NULL, VC_FLAG_INT, "first epoch", NULL, NULL, true},
    {"epoch-end", NULL, VC_FLAG_INT, "last epoch (at most the chain head)", NULL, NULL, true},
    {0},
};

static const vc_cli_cmd_t winner_cmds[] = {
    {.name = "count", .usage = "count the rounds miners won in past epochs (reported as epoch+1)",
     .args_usage = "[addr...]", .flags = winner_flags, .run = cmd_winner_count},
    {0},
};

static const vc_cli_flag_t record_flags[] = {
    {"limit", NULL, VC_FLAG_INT, "number of epochs from <epoch>", "1"},
    {0},
};

static const vc_cli_cmd_t record_cmds[] = {
    {.name = "query", .usage = "per-epoch mining records (needs [Recorder] Enable = true)",
     .args_usage = "<miner> <epoch>", .flags = record_flags, .nargs = 2, .run = cmd_record_query},
    {0},
};

static const vc_cli_flag_t level_flags[] = {
    {"system", NULL, VC_FLAG_STRINGS, "subsystem (repeatable; default: all)"},
    {0},
};

static const vc_cli_cmd_t log_cmds[] = {
    {.name = "list", .usage = "list the log subsystems", .nargs = VC_CLI_NO_ARGS, .run = cmd_log_list},
    {.name = "set-level", .usage = "set the log level", .args_usage = "<debug|info|warn|error>", .flags = level_flags,
     .nargs = 1, .run = cmd_log_set_level},
    {0},
};

static const vc_cli_cmd_t node_pool_cmds[] = VC_NODEPOOL_CLI_CMDS(cmd_node_pool);

static const vc_cli_cmd_t cmds[] = {
    {.name = "init", .usage = "create a venus-miner repo", .flags = miner_init_flags, .nargs = VC_CLI_NO_ARGS,
     .run = miner_cmd_init},
    {.name = "run", .usage = "run the venus-miner daemon", .flags = miner_run_flags, .nargs = VC_CLI_NO_ARGS,
     .run = miner_cmd_run},
    {.name = "stop", .usage = "stop the running daemon", .nargs = VC_CLI_NO_ARGS, .run = cmd_stop},
    {.name = "address", .usage = "manage the mining set", .subcommands = address_cmds},
    {.name = "winner", .usage = "winner statistics", .subcommands = winner_cmds},
    {.name = "record", .usage = "mining records", .subcommands = record_cmds},
    {.name = "log", .usage = "daemon logging", .subcommands = log_cmds},
    {.name = "ha", .usage = "primary/standby: role and lease", .subcommands = vc_ha_cli_cmds},
    {.name = "node-pool", .usage = VC_NODEPOOL_CLI_USAGE, .subcommands = node_pool_cmds},
    {.name = "version", .usage = "daemon and local versions", .nargs = VC_CLI_NO_ARGS, .run = cmd_version},
    {0},
};

static const vc_cli_flag_t root_flags[] = {
    {"repo", "miner-repo", VC_FLAG_STRING, "repo path", MINER_DEFAULT_REPO,
     "VENUS_MINER_PATH,SOPHON_MINER_PATH"},
    {0},
};

int miner_cli_main(int argc, char **argv)
{
    vc_cli_cmd_t root = {
        .name = "venus-miner",
        .usage = "block production for many miners: election, winning PoSt, slash filter",
        .version = MINER_VERSION,
        .flags = root_flags,
        .subcommands = cmds,
    };
    vc_ha_cli_use(call);
    return vc_cli_run(&root, argc, argv, NULL, NULL, NULL);
}
