/*
 * miner-config.h: venus-miner's repo and config.toml (spec/miner-and-node-api.md A.5).
 *
 * Repo: --repo, else $VENUS_MINER_PATH (or $SOPHON_MINER_PATH), else ~/.venus-miner. It holds
 * config.toml, token (local admin JWT, rewritten at each run), api (the bound address while
 * running) and miner.db (sqlite slash filter and records).
 *
 * The upstream keys are kept; [SlashFilter] Type is "local" (sqlite in the repo) or "postgres"
 * with [SlashFilter.Postgres] Dsn (a venus-c addition replacing MySQL, which is refused).
 */
#ifndef MINER_CONFIG_H
#define MINER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/conf.h"
#include "vc/ha-ops.h"

#define MINER_DEFAULT_LISTEN "/ip4/127.0.0.1/tcp/12308"
#define MINER_DEFAULT_REPO "~/.venus-miner"

typedef struct miner_node_cfg {
    char *addr, *token;
} miner_node_cfg_t;

typedef struct miner_config {
    int64_t propagation_ms;         /* PropagationDelaySecs * 1000 */
    int64_t mpool_select_delay_ms;  /* MpoolSelectDelaySecs * 1000 */
    int64_t once_timeout_ms;        /* MinerOnceTimeout */
    char *listen;                   /* [API] ListenAddress */
    miner_node_cfg_t node;          /* [FullNode] */
    char **gateway_urls;            /* [Gateway] ListenAPI */
    size_t n_gateway_urls;
    char *gateway_token;
    miner_node_cfg_t auth;          /* [Auth] (addr: the first of auth_urls) */
    char **auth_urls;               /* [Auth] Addr: one URL or a list (several venus-auth) */
    size_t n_auth_urls;
    miner_node_cfg_t *submit;       /* [[SubmitNodes]] */
    size_t n_submit;
    char *slash_type;               /* "local" | "postgres" */
    char *pg_dsn;
    char *sqlite_path;              /* [SlashFilter.Local] Path ("" = <repo>/miner.db) */
    vc_ha_settings_t ha;            /* [HA]: one active miner per scope (a lease; vc/ha-ops.h) */
    char *notify_url;               /* [Notify] URL: webhook for lease events (vc/notify.h), "" = off */
    bool recorder;
    int64_t record_expire, record_max_query;
} miner_config_t;

vc_conf_t *miner_config_defaults(void);
/* Defaults with <path> laid over them; -ENOENT when the file is missing. */
int miner_config_load(const char *path, vc_conf_t **ret, char **reterr_msg);
/* Typed values + config.Check (A.5 notes). */
int miner_config_read(vc_conf_t *c, miner_config_t *ret, char **reterr_msg);
void miner_config_done(miner_config_t *c);

#endif
