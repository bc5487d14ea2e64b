/* venus-messager: the message pool manager (see msgr-service.h). */
#include <stdio.h>

#include "msgr-daemon.h"
#include "vc/util.h"

int main(int argc, char **argv)
{
    if (vc_init() < 0) {
        fputs("ERROR: cannot initialise libsodium\n", stderr);
        return 1;
    }
    return msgr_cli_main(argc, argv);
}
