/*
 * msgr-daemon.h: `venus-messager run` (spec/messager.md sections 1, 7, 8) and the repo path.
 * Repo: --repo, else $VENUS_MESSAGER_PATH, else ~/.venus-messager (msgr-config.h).
 */
#ifndef MSGR_DAEMON_H
#define MSGR_DAEMON_H

#include "vc/cli.h"

/* The expanded repo path (malloc'ed), NULL on OOM. */
char *msgr_repo_path(vc_cli_ctx_t *ctx);
int msgr_cmd_run(vc_cli_ctx_t *ctx);
extern const vc_cli_flag_t msgr_run_flags[];

/* The root command tree: `run` plus msgr_client_cmds (msgr-cli.c). */
int msgr_cli_main(int argc, char **argv);

#endif
