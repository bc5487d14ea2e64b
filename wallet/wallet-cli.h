/*
 * wallet-cli.h: the venus-wallet command tree.
 *
 * Rule: every command except `run` and `verify` is a client of the running daemon's local
 * JSON-RPC API (address from --api or <repo>/api, token from --token or <repo>/token). The
 * keystore is only ever touched by the daemon, so there is one writer and one place where the
 * passphrase lives. `verify` needs no key and works offline.
 */
#ifndef WALLET_CLI_H
#define WALLET_CLI_H

#include "vc/cli.h"

extern const vc_cli_cmd_t wallet_cli_root;

#endif
