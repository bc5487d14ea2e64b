/* devnet-prover.h: `venus-devnet prover --gateway URL --token T --miner t01000`. */
#ifndef DEVNET_PROVER_H
#define DEVNET_PROVER_H

#include "vc/cli.h"

int dn_cmd_prover(vc_cli_ctx_t *ctx);

#endif
