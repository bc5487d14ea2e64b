/*
 * auth-config.h: venus-auth's repo and config.toml (spec/auth-gateway.md A8), shared by the
 * daemon (`run`) and the client commands.
 *
 * Repo: --repo, else $VENUS_AUTH_PATH / $SOPHON_AUTH_PATH, else ~/.venus-auth. It holds
 * config.toml (written on first run), token (the defaultLocalToken admin JWT), api (the address
 * the running daemon actually listens on) and, for sqlite, auth.db.
 */
#ifndef AUTH_CONFIG_H
#define AUTH_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vc/cli.h"
#include "vc/client.h"

#define AUTH_DEFAULT_LISTEN "127.0.0.1:8989"
#define AUTH_VERSION "1.16.0+venus-c"

typedef struct auth_config {
    char *listen;
    int64_t read_timeout_ms, write_timeout_ms, idle_timeout_ms;
    char *db_type; /* "sqlite" | "postgres" */
    char *db_dsn;  /* postgres DSN, or sqlite path ("" = <repo>/auth.db) */
    int max_open_conns;
    char *log_level;
    bool metrics_enabled;
    int64_t verify_cache_ms; /* max age of /verify answers (our extension, default 5s) */
} auth_config_t;

void auth_config_done(auth_config_t *c);

/* The repo path from the global flags / env / default; malloc'ed, "~" expanded. */
char *auth_repo_path(vc_cli_ctx_t *ctx);
/* Loads config_path (NULL/"" = <repo>/config.toml) over the defaults. *created tells if the
 * file did not exist and write_if_missing wrote it. Errors name the file and line. */
int auth_config_load(const char *repo, const char *config_path, bool write_if_missing, auth_config_t *ret,
                     bool *ret_created, char **reterr_msg);
/* Writes cfg as <repo>/config.toml. */
int auth_config_save(const char *repo, const auth_config_t *cfg);

/*
 * A REST client for the client commands: the URL is --listen when given, else <repo>/api
 * (written by a running daemon), else the config's Listen; the token is <repo>/token.
 */
int auth_cli_client(vc_cli_ctx_t *ctx, vc_client_t **ret);

#endif
