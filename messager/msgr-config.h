/*
 * msgr-config.h: venus-messager's repo and config.toml (spec/messager.md section 8).
 *
 * Repo: --repo, else $VENUS_MESSAGER_PATH, else ~/.venus-messager. It holds config.toml,
 * token (the local admin JWT, rewritten at every run), api (the bound address while running)
 * and message.db (sqlite).
 *
 * The config is the upstream file layout (go-toml keys, Durations as strings) with venus-c
 * additions: [db] type "postgres" and [db.postgres] dsn, [db.sqlite] file (so several instances
 * on one host can share one sqlite file) and [HA] (vc/ha-ops.h). A missing file gets the defaults; the
 * `run` flags override them and the effective config is written back.
 */
#ifndef MSGR_CONFIG_H
#define MSGR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/conf.h"
#include "vc/ha-ops.h"

#define MSGR_DEFAULT_LISTEN "/ip4/127.0.0.1/tcp/39812"
#define MSGR_DEFAULT_REPO "~/.venus-messager"
#define MSGR_REPO_ENV "VENUS_MESSAGER_PATH"

typedef struct msgr_config {
    char *listen;                 /* [api] Address */
    char *db_type;                /* "sqlite" | "postgres" */
    char *pg_dsn;                 /* [db.postgres] dsn */
    char *sqlite_file;            /* [db.sqlite] file ("" = <repo>/message.db) */
    char *node_url, *node_token;  /* [node] */
    char **gateway_urls;          /* [gateway] url (NULL-terminated vector, one allocation) */
    size_t n_gateway_urls;
    char *gateway_token;
    char *auth_url, *auth_token;  /* [jwt] authURL / token */
    int64_t default_timeout_ms;   /* [messageService] DefaultTimeout */
    int64_t estimate_timeout_ms;  /* EstimateMessageTimeout */
    int64_t sign_timeout_ms;      /* SignMessageTimeout */
    int64_t stable_ms;            /* WaitingChainHeadStableDuration */
    unsigned select_concurrency;  /* SelectConcurrency: addresses selected at once, 0 = one per CPU */
    bool skip_process_head, skip_push_message;
    bool enable_multi_node; /* [publisher] enableMultiNode: push to the nodes table too */
    vc_ha_settings_t ha;    /* [HA]: one active sender per scope (vc/ha-ops.h) */
    char **ha_addresses;    /* [HA] Addresses: the group's senders, canonical (NULL-terminated) */
    size_t n_ha_addresses;
    char *notify_url;       /* [Notify] URL: webhook for lease events (vc/notify.h), "" = off */
} msgr_config_t;

/* The defaults of section 8 as a config tree. NULL on OOM. */
vc_conf_t *msgr_config_defaults(void);
/* Defaults with <path> laid over them (a missing file is not an error: *ret_existed false).
 * On failure (VC_EPARSE, ...) *reterr_msg (malloc'ed) explains. */
int msgr_config_load(const char *path, vc_conf_t **ret, bool *ret_existed, char **reterr_msg);
/* Reads the typed values out of the tree (timeouts <= 0 reset to the defaults). */
int msgr_config_read(vc_conf_t *c, msgr_config_t *ret, char **reterr_msg);
void msgr_config_done(msgr_config_t *c);

#endif
