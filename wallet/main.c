/* main.c: venus-wallet entry point: the daemon (`run`) and its command-line client. */
#include <stdio.h>

#include "vc/util.h"
#include "wallet-cli.h"

int main(int argc, char **argv)
{
    if (vc_init() < 0) {
        fprintf(stderr, "ERROR: cannot initialise libsodium\n");
        return 1;
    }
    return vc_cli_run(&wallet_cli_root, argc, argv, NULL, NULL, NULL);
}
