/*
 * auth-cli.h: the venus-auth command tree (spec/auth-gateway.md A7): global flags, `run` (the
 * daemon, auth-daemon.c) and the client commands token / user / miner / signer, which call the
 * REST API of a running daemon (A2) with the admin token from <repo>/token.
 *
 * Client commands print exactly the Go CLI's lines on success; failures print one line
 * "ERROR: <message>" on stderr and exit 1.
 */
#ifndef AUTH_CLI_H
#define AUTH_CLI_H

#include "vc/cli.h"

extern const vc_cli_cmd_t auth_cli_root;

#endif
