/* miner-daemon.h: `venus-miner init` and `run`, and the repo path every command shares. */
#ifndef MINER_DAEMON_H
#define MINER_DAEMON_H

#include "vc/cli.h"

extern const vc_cli_flag_t miner_init_flags[];
extern const vc_cli_flag_t miner_run_flags[];

/* --repo (or $VENUS_MINER_PATH / $SOPHON_MINER_PATH), ~ expanded. malloc'ed. */
char *miner_repo_path(vc_cli_ctx_t *ctx);
int miner_cmd_init(vc_cli_ctx_t *ctx);
int miner_cmd_run(vc_cli_ctx_t *ctx);
/* The whole CLI (main). */
int miner_cli_main(int argc, char **argv);

#endif
