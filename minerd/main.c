/* venus-miner: block production for many miners (see miner.h). */
#include <stdio.h>

#include "miner-daemon.h"
#include "vc/util.h"

int main(int argc, char **argv)
{
    if (vc_init() < 0) {
        fputs("ERROR: cannot initialise libsodium\n", stderr);
        return 1;
    }
    return miner_cli_main(argc, argv);
}
