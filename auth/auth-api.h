/*
 * auth-api.h: venus-auth's REST API (spec/auth-gateway.md A2) on libvc's HTTP server:
 * every path with its legacy aliases, Go-style request binding (JSON keys case-insensitive,
 * query/form values), the admin / self / owner permission rules, and the token verifier the
 * middleware and POST /verify share (with an in-process cache invalidated on revocation).
 */
#ifndef AUTH_API_H
#define AUTH_API_H

#include <stdint.h>

#include "auth-store.h"
#include "vc/authn.h"
#include "vc/ha-peers.h"
#include "vc/http.h"
#include "vc/metrics.h"

typedef struct auth_api auth_api_t;

typedef struct auth_api_opts {
    auth_store_t *store;
    vc_metrics_t *metrics;   /* may be NULL */
    int64_t verify_cache_ms; /* cache lifetime and the max-age told to clients; 0 = no cache */
    vc_ha_presence_t *presence; /* this instance's presence row (GET /ha/status); may be NULL */
} auth_api_opts_t;

int auth_api_new(const auth_api_opts_t *opts, auth_api_t **ret);
auth_api_t *auth_api_free(auth_api_t *a);
/* Registers every route and the authentication middleware on srv. */
int auth_api_mount(auth_api_t *a, vc_http_server_t *srv);

/* Verifies a token the way /verify does: payload decodes, a live row exists, and its own
 * secret's HMAC matches. -ENOENT (no live row), VC_EVERIFY (HMAC mismatch), VC_EPARSE. */
int auth_api_verify(auth_api_t *a, const char *token, vc_auth_info_t *ret);

/* Makes a token for name (a live user) with a fresh 32-byte secret and stores it. */
int auth_api_gen_token(auth_api_t *a, const char *name, const char *perm, const char *extra, char **ret_token);

#endif
