/*
 * msgr-cli.h: venus-messager's client commands (spec/messager.md section 7): msg, address,
 * share-params, node, log, send, swarm. They talk JSON-RPC (`Message.*` on /rpc/v0) to a running
 * daemon and print what the Go CLI (sophon-messager) prints.
 *
 * The root command (defined with the daemon) must carry the global string flag "repo"; the daemon
 * address is --api (every client command has it), else <repo>/api, else the config's [api]
 * Address, else MSGR_CLI_DEFAULT_API; the token is <repo>/token.
 */
#ifndef MSGR_CLI_H
#define MSGR_CLI_H

#include "vc/cli.h"

#define MSGR_CLI_DEFAULT_REPO "~/.venus-messager"
#define MSGR_CLI_DEFAULT_API "/ip4/127.0.0.1/tcp/39812"

/* The top-level client command groups, ending with {0}. */
extern const vc_cli_cmd_t msgr_client_cmds[];

/* Message.<method> on the daemon (params stolen, *ret optional); the failure is printed and the
 * exit code returned (what vc_ha_cli_use wants). */
int msgr_cli_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret);

#endif
