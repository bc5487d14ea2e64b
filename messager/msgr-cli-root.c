/* msgr-cli-root.c: venus-messager's root command: global --repo, `run`, then the client
 * commands of msgr-cli.c (msgr_client_cmds, an array ending with {0}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgr-api.h"
#include "msgr-cli.h"
#include "vc/ha-ops.h"
#include "msgr-config.h"
#include "msgr-daemon.h"

static const vc_cli_cmd_t own_cmds[] = {
    {.name = "run", .usage = "run the venus-messager daemon", .flags = msgr_run_flags, .nargs = VC_CLI_NO_ARGS,
     .run = msgr_cmd_run},
};

static const vc_cli_flag_t root_flags[] = {
    {"repo", NULL, VC_FLAG_STRING, "repo path", MSGR_DEFAULT_REPO, MSGR_REPO_ENV},
    {0},
};

int msgr_cli_main(int argc, char **argv)
{
    size_t n_own = sizeof(own_cmds) / sizeof(own_cmds[0]), n_client = 0;
    while (msgr_client_cmds[n_client].name)
        n_client++;
    vc_cli_cmd_t *all = calloc(n_own + n_client + 1, sizeof(*all));
    if (!all) {
        fputs("ERROR: out of memory\n", stderr);
        return 1;
    }
    memcpy(all, own_cmds, sizeof(own_cmds));
    memcpy(all + n_own, msgr_client_cmds, n_client * sizeof(*all));
    vc_cli_cmd_t root = {
        .name = "venus-messager",
        .usage = "message pool manager: nonce assignment, gas estimation, signing and publishing",
        .version = MSGR_VERSION,
        .flags = root_flags,
        .subcommands = all,
    };
    vc_ha_cli_use(msgr_cli_call);
    int rc = vc_cli_run(&root, argc, argv, NULL, NULL, NULL);
    free(all);
    return rc;
}
