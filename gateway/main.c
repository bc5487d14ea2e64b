/* main.c: venus-gateway entry point: the daemon (`run`) and its command-line client. */
#include <stdio.h>

#include "gateway.h"
#include "vc/ha-ops.h"
#include "vc/util.h"

int main(int argc, char **argv)
{
    if (vc_init() < 0) {
        fprintf(stderr, "ERROR: cannot initialise libsodium\n");
        return 1;
    }
    vc_ha_cli_use(gw_cli_ha_call);
    return vc_cli_run(&gw_cli_root, argc, argv, NULL, NULL, NULL);
}
