/*
 * devnet-daemon.h: `venus-devnet init --genesis genesis.toml` and `venus-devnet run`.
 * Repo: --repo, else $VENUS_DEVNET_PATH, else ~/.venus-devnet; it holds devnet.db, token (the
 * local admin JWT) and api (the bound address while running).
 */
#ifndef DEVNET_DAEMON_H
#define DEVNET_DAEMON_H

#include "vc/cli.h"

#define DEVNET_DEFAULT_LISTEN "127.0.0.1:3453"

char *dn_repo_path(vc_cli_ctx_t *ctx);
int dn_cmd_init(vc_cli_ctx_t *ctx);
int dn_cmd_run(vc_cli_ctx_t *ctx);

#endif
