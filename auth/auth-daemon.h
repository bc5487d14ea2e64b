/*
 * auth-daemon.h: `venus-auth run`: loads the repo and config, opens the store, bootstraps the
 * defaultLocalToken admin token into <repo>/token, serves the REST API until SIGINT/SIGTERM.
 */
#ifndef AUTH_DAEMON_H
#define AUTH_DAEMON_H

#include "vc/cli.h"

/* Flags it reads: global --repo, --listen, --config; its own --db-type, --pg-dsn (alias
 * --mysql-dsn is refused with a clear error). Returns the process exit code. */
int auth_cmd_run(vc_cli_ctx_t *ctx);

#endif
