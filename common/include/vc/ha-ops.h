/*
 * ha-ops.h: what every daemon with a lease (vc/ha.h) shares around its elector: the [HA]
 * section of config.toml, the answers of the JSON-RPC methods <ns>.HaStatus / HaPromote /
 * HaPause / HaResume, the `ha status|promote|pause|resume` CLI commands, and the /metrics
 * gauges ha_leader and ha_token. One wording for every daemon, so an operator sees the same
 * thing from `venus-miner ha status` and `venus-messager ha status`.
 *
 * Config (keys in section "HA"; these are the defaults):
 *   [HA]
 *     Enable = true          # false: this instance always acts (one instance per scope only!)
 *     Scope = ""             # lease scope: instances with the same scope elect one leader
 *     Holder = ""            # holder id base ("" = <hostname>:<pid>); a random suffix is added
 *     Lease = "15s"
 *     RenewDeadline = "10s"
 *     Retry = "2s"
 */
#ifndef VC_HA_OPS_H
#define VC_HA_OPS_H

#include <stdbool.h>

#include <jansson.h>

#include "vc/cli.h"
#include "vc/conf.h"
#include "vc/db.h"
#include "vc/ha-peers.h"
#include "vc/ha.h"
#include "vc/metrics.h"
#include "vc/authn.h"
#include "vc/rpc.h"

/* The [HA] section above as TOML text, for a daemon's defaults. */
#define VC_HA_CONF_DEFAULTS                                                                                     \
    "[HA]\n"                                                                                                    \
    "  Enable = true\n"                                                                                         \
    "  Scope = \"\"\n"                                                                                          \
    "  Holder = \"\"\n"                                                                                         \
    "  Lease = \"15s\"\n"                                                                                       \
    "  RenewDeadline = \"10s\"\n"                                                                               \
    "  Retry = \"2s\"\n"

typedef struct vc_ha_settings {
    bool enable;
    char *scope;  /* malloc'ed, never NULL after a successful read */
    char *holder; /* malloc'ed, "" = default */
    vc_ha_config_t cfg;
} vc_ha_settings_t;

/* Reads and validates [HA] (missing keys take the defaults). On error -EINVAL / VC_ETYPE /
 * -ENOMEM and *reterr_msg (malloc'ed) names the key. */
int vc_ha_settings_read(vc_conf_t *c, vc_ha_settings_t *ret, char **reterr_msg);
void vc_ha_settings_done(vc_ha_settings_t *s);

/* Starts an elector for service on db from the settings (callbacks as in
 * vc_ha_elector_options_t, may be NULL). *ret stays NULL when settings->enable is false. */
int vc_ha_elector_from_settings(vc_db_t *db, const char *service, const vc_ha_settings_t *settings,
                                void (*on_started_leading)(int64_t token, void *userdata),
                                void (*on_stopped_leading)(void *userdata), void *userdata,
                                vc_ha_elector_t **ret);

/*
 * HaStatus: {"Enabled", "Role": "leader"|"standby"|"paused", "Holder", "Scope", "Token",
 * "Lease": {"Holder", "Token", "Live", "AgeMs", "RemainingMs"} | null, "Peers"}. e NULL (HA
 * disabled, or an active/active daemon) answers {"Enabled": false, "Role", "Holder", "Peers"}
 * with the role and instance id of p ("Role": "leader" and no "Holder" when p is NULL too).
 * "Peers" lists the live presence rows of p's service and scope, this instance included:
 * [{"Holder", "Addr", "Role", "AgeMs" (since its last heartbeat), "UpMs"}], null without p.
 * On a DB error: the error and a message.
 */
int vc_ha_status_json(vc_ha_elector_t *e, vc_ha_presence_t *p, vc_db_t *db, json_t **ret, char **reterr_msg);

/* The whole JSON-RPC method <Namespace>.HaStatus / HaPromote [force] / HaPause / HaResume
 * (chosen by the method name after its last '.'), for a daemon's table entry: errors answered
 * as application errors with the texts above, a non-boolean force as a params error. */
int vc_ha_rpc(vc_rpc_call_t *call, const json_t *params, json_t **ret, vc_ha_elector_t *e, vc_ha_presence_t *p,
              vc_db_t *db);
/* The four method-table entries (names, permissions, param counts) for namespace ns ("Message",
 * "Filecoin"), each answered by fn, a daemon wrapper that calls vc_ha_rpc. */
#define VC_HA_RPC_METHODS(ns, fn)                                                                                     \
    {ns ".HaStatus", VC_PERM_READ, 0, (fn), 0}, {ns ".HaPromote", VC_PERM_ADMIN, 1, (fn), 0},                          \
        {ns ".HaPause", VC_PERM_ADMIN, 0, (fn), 0}, {ns ".HaResume", VC_PERM_ADMIN, 0, (fn), 0}
/* "leader", "standby" or "paused" for e; "leader" when e is NULL (HA disabled: always acts). */
const char *vc_ha_role(vc_ha_elector_t *e);
/* Presence for a daemon with a lease elector: instance = e's holder id, role = vc_ha_role(e),
 * scope = e's scope. e NULL (HA disabled): a fresh vc_ha_holder_id, role "leader", scope "".
 * addr may be NULL (set it later with vc_ha_presence_set_addr). e must outlive *ret. */
int vc_ha_presence_start(vc_db_t *db, const char *service, vc_ha_elector_t *e, const char *addr,
                         vc_ha_presence_t **ret);
/* HaPromote / HaPause / HaResume. On error *reterr_msg (static text) says why, in the words
 * the CLI prints ("the lease holder is alive: ... --force ..."). */
int vc_ha_op_promote(vc_ha_elector_t *e, bool force, const char **reterr_msg);
int vc_ha_op_pause(vc_ha_elector_t *e, bool pause, const char **reterr_msg);

/* Registers the gauges ha_leader (1 while leading) and ha_token (the term's token, 0 as
 * standby); nothing when e is NULL. */
void vc_ha_metrics_register(vc_metrics_t *m, vc_ha_elector_t *e);

/*
 * The `ha` command group of a daemon CLI (use as .subcommands = vc_ha_cli_cmds): status
 * (prints the HaStatus JSON), promote [--force], pause, resume. They call through the daemon
 * CLI's own JSON-RPC helper, given once before vc_cli_run with vc_ha_cli_use:
 * call(ctx, "HaStatus", params (stolen), &ret or NULL) adds the namespace, reports errors with
 * vc_cli_errorf and returns the exit code. It is a process-wide setting: one CLI process
 * serves one daemon, as every CLI here does.
 */
typedef int (*vc_ha_cli_call_fn)(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret);
extern const vc_cli_cmd_t vc_ha_cli_cmds[];
/* The same group for active/active daemons (venus-auth, venus-gateway): status as above;
 * promote, pause and resume exit 1 at once with one line saying there is no lease to steer. */
extern const vc_cli_cmd_t vc_ha_cli_active_cmds[];
void vc_ha_cli_use(vc_ha_cli_call_fn call);

#endif
