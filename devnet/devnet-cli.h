/* devnet-cli.h: the venus-devnet command tree (init, run, chain, state, mpool, send, wallet,
 * admin). */
#ifndef DEVNET_CLI_H
#define DEVNET_CLI_H

#include "vc/cli.h"

extern const vc_cli_cmd_t dn_cli_root;

#endif
