/* msgr-cli-stub.c: an empty client command list, built only while msgr-cli.c does not exist. */
#include "vc/cli.h"

extern const vc_cli_cmd_t msgr_client_cmds[];
const vc_cli_cmd_t msgr_client_cmds[] = {{0}};
