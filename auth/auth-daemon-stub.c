/* auth-daemon-stub.c: TEMPORARY stand-in for auth-daemon.c so the CLI links on its own.
 * The integrator drops this file when auth-daemon.c lands. */
#include "auth-daemon.h"

int auth_cmd_run(vc_cli_ctx_t *ctx)
{
    return vc_cli_errorf(ctx, "venus-auth run: the daemon is not built in this tree");
}
