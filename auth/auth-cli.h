/*
 * auth-cli.h: the venus-auth command tree (spec/auth-gateway.md A7): global flags, `run` (the
 * daemon, auth-daemon.c) and the client commands token / user / miner / signer, which call the
 * REST API of a running daemon (A2) with the admin token from <repo>/token.
 *
 * `ha status` (vc/ha-ops.h vc_ha_cli_active_cmds) prints GET /ha/status: venus-auth is
 * active/active, so `ha promote|pause|resume` exit 1 with one line saying there is no lease.
 * main() passes auth_cli_ha_call to vc_ha_cli_use before vc_cli_run.
 *
 * Client commands print exactly the Go CLI's lines on success; failures print one line
 * "ERROR: <message>" on stderr and exit 1.
 */
#ifndef AUTH_CLI_H
#define AUTH_CLI_H

#include "vc/cli.h"

extern const vc_cli_cmd_t auth_cli_root;

/* vc_ha_cli_call_fn for the `ha` group: "HaStatus" is GET /ha/status. */
int auth_cli_ha_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret);

#endif
