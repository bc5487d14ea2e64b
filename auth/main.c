/* main.c: venus-auth entry point: the daemon (`run`) and its command-line client. */
#include "auth-cli.h"
#include "vc/ha-ops.h"
#include "vc/util.h"

int main(int argc, char **argv)
{
    if (vc_init() < 0) {
        fprintf(stderr, "ERROR: cannot initialise libsodium\n");
        return 1;
    }
    vc_ha_cli_use(auth_cli_ha_call);
    return vc_cli_run(&auth_cli_root, argc, argv, NULL, NULL, NULL);
}
