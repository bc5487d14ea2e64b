/*
 * nodepool-cli.h: the `node-pool` command group of the daemons that hold a chain-node pool
 * (venus-miner, venus-messager), talking to the NodePool* methods of nodepool-store.h.
 *
 * A daemon's CLI adds
 *     static const vc_cli_cmd_t node_pool_cmds[] = VC_NODEPOOL_CLI_CMDS(cmd_node_pool);
 *     {.name = "node-pool", .usage = VC_NODEPOOL_CLI_USAGE, .subcommands = node_pool_cmds},
 * with
 *     static int cmd_node_pool(vc_cli_ctx_t *ctx) { return vc_nodepool_cli_run(ctx, call); }
 * where call(ctx, "NodePoolList", params, &ret) sends the method in the daemon's namespace and,
 * on failure, prints one "ERROR: ..." line and returns non-zero.
 *
 *   list [--json]                         table: name, url, enabled, head, behind, peers, errors,
 *                                         last error (or the list object as JSON)
 *   add <name> <url> [--token T]          <url>: http(s)://host:port[/path], host:port or multiaddr
 *   set <name> [--url U] [--token T]
 *   remove <name>                         not the last node
 *   policy                                the default and per-method policies
 *   policy <method> <policy> [--timeout D] [--no-hang]    method "default": every other method
 *   policy <method> --reset               back to the built-in default / the default policy
 *   config                                the options
 *   config <option> <value> [...]         e.g. config MaxSyncBehind 3 HeartbeatInterval 2s
 */
#ifndef VC_NODEPOOL_CLI_H
#define VC_NODEPOOL_CLI_H

#include <jansson.h>

#include "vc/cli.h"
#include "vc/util.h"

typedef int (*vc_nodepool_cli_call_fn)(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret);

/* Runs the node-pool subcommand named by vc_cli_command(ctx). params given to call are stolen. */
int vc_nodepool_cli_run(vc_cli_ctx_t *ctx, vc_nodepool_cli_call_fn call);

/* The tables the commands print, from a NodePoolList object (appended to out). */
int vc_nodepool_cli_format_list(const json_t *list, vc_buf_t *out);
int vc_nodepool_cli_format_policies(const json_t *settings, vc_buf_t *out);
int vc_nodepool_cli_format_options(const json_t *settings, vc_buf_t *out);

extern const vc_cli_flag_t vc_nodepool_cli_list_flags[];
extern const vc_cli_flag_t vc_nodepool_cli_add_flags[];
extern const vc_cli_flag_t vc_nodepool_cli_set_flags[];
extern const vc_cli_flag_t vc_nodepool_cli_policy_flags[];

#define VC_NODEPOOL_CLI_USAGE "chain-node pool: nodes, health, scheduling policies (hot, stored in the database)"

#define VC_NODEPOOL_CLI_POLICY_HELP                                                                                  \
    "Policies: OneByIndexAsc, OneByIndexDesc, OneByIdRound, OneByChainHeadDesc, OneByMessagePeersDesc, "            \
    "OneByBlockPeersDesc, OneBySeedRound (the default: one node per seed, e.g. a sender or miner address), "        \
    "AllWithFirstSucceed. Built-in (until set here): ChainHead, MinerGetBaseInfo, MinerCreateBlock and "            \
    "MpoolSelects OneByChainHeadDesc; SyncSubmitBlock AllWithFirstSucceed; StateWaitMsg a 10m timeout. "            \
    "<method> may be short (ChainHead = Filecoin.ChainHead); \"default\" sets the policy of every other method."

#define VC_NODEPOOL_CLI_CONFIG_HELP                                                                                  \
    "Options (defaults): HeartbeatInterval (5s), HeartbeatTimeout (3s), MaxSyncBehind (2 epochs behind the best "   \
    "head disables a node), MinBlockPeers (0), MinMessagePeers (0), MaxCallErrors (3 transport failures in a row "  \
    "disable a node until its next good heartbeat), CallTimeout (30s per attempt), MaxSeeds (65536)."

#define VC_NODEPOOL_CLI_CMDS(run_fn)                                                                                    \
    {                                                                                                                \
        {.name = "list", .usage = "chain nodes: enabled, head, how far behind, peers, errors",                      \
         .flags = vc_nodepool_cli_list_flags, .nargs = VC_CLI_NO_ARGS, .run = (run_fn)},                               \
        {.name = "add", .usage = "add a chain node", .args_usage = "<name> <url>",                                  \
         .flags = vc_nodepool_cli_add_flags, .nargs = 2, .run = (run_fn)},                                             \
        {.name = "set", .usage = "change a node's URL or token", .args_usage = "<name>",                            \
         .flags = vc_nodepool_cli_set_flags, .nargs = 1, .run = (run_fn)},                                             \
        {.name = "remove", .aliases = "rm", .usage = "remove a chain node", .args_usage = "<name>", .nargs = 1,    \
         .run = (run_fn)},                                                                                              \
        {.name = "policy", .usage = "show, set or reset the scheduling policy of a method",                          \
         .args_usage = "[<method> [<policy>]]", .description = VC_NODEPOOL_CLI_POLICY_HELP,                         \
         .flags = vc_nodepool_cli_policy_flags, .run = (run_fn)},                                                      \
        {.name = "config", .usage = "show or set pool options", .args_usage = "[<option> <value>]...",              \
         .description = VC_NODEPOOL_CLI_CONFIG_HELP, .run = (run_fn)},                                                  \
        {0},                                                                                                         \
    }

#endif
