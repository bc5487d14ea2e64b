/* venus-devnet: a local Filecoin chain for venus-c (see devnet-chain.h). */
#include <stdio.h>

#include "devnet-cli.h"
#include "vc/util.h"

int main(int argc, char **argv)
{
    if (vc_init() < 0) {
        fputs("ERROR: cannot initialise libsodium\n", stderr);
        return 1;
    }
    return vc_cli_run(&dn_cli_root, argc, argv, NULL, NULL, NULL);
}
