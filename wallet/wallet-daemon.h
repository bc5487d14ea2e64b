/*
 * wallet-daemon.h: `venus-wallet run` and the pieces the CLI shares with it.
 *
 * Repo (--repo, env VENUS_WALLET_PATH, default ~/.venus_wallet): config.toml, keystore/, token
 * (local admin token, rewritten each start), api (the bound address while running).
 *
 * config.toml (written with these defaults on first run):
 *   [API]            ListenAddress = "/ip4/127.0.0.1/tcp/5678/http"
 *   [APIRegisterHub] RegisterAPI = [] (multiaddrs or URLs), Token = "", SupportAccounts = []
 *   [Wallet]         Network = "mainnet" ("testnet" prints t-addresses)
 *
 * Passphrase at start: --password-file, else env VENUS_WALLET_PASSWORD, else a prompt when
 * stdin is a terminal; otherwise the daemon starts locked (and, with no keystore yet,
 * uninitialised: the first `venus-wallet unlock` sets the passphrase).
 */
#ifndef WALLET_DAEMON_H
#define WALLET_DAEMON_H

#include <stdbool.h>

#include "vc/cli.h"

#define WALLET_DEFAULT_LISTEN "/ip4/127.0.0.1/tcp/5678/http"
#define WALLET_PASSWORD_ENV "VENUS_WALLET_PASSWORD"

char *wallet_repo_path(vc_cli_ctx_t *ctx);
/*
 * The passphrase from --password-file, env, or a no-echo prompt on /dev/tty (twice when
 * confirm). Returns 1 with *ret (malloc'ed) set, 0 when no source is available (no flag, no
 * env, no terminal), negative on error (message printed).
 */
int wallet_read_passphrase(vc_cli_ctx_t *ctx, bool confirm, char **ret);
void wallet_passphrase_free(char *p);

int wallet_cmd_run(vc_cli_ctx_t *ctx);

#endif
