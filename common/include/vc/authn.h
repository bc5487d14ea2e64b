/*
 * authn.h: venus JWT tokens and the permission model.
 *
 * Tokens are HS256 JWS compact strings with header {"alg":"HS256","typ":"JWT"} and payload
 * {"name":"<user>","perm":"<read|write|sign|admin>","ext":"<extra>"} in exactly that order,
 * base64url without padding, no expiry (spec/auth-gateway.md A4). A perm expands into a set:
 * admin > sign > write > read (A3); any other perm string expands to nothing.
 *
 * A vc_authn_t is what every daemon puts in front of its API: a process-local secret whose
 * admin token is written to <repo>/token (the daemon's CLI reads it), and optionally a list of
 * venus-auth URLs asked with POST /verify when the local check fails; positive remote answers
 * are cached for a short TTL. vc_authn_verify is thread-safe.
 */
#ifndef VC_AUTHN_H
#define VC_AUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    VC_PERM_READ = 1u << 0,
    VC_PERM_WRITE = 1u << 1,
    VC_PERM_SIGN = 1u << 2,
    VC_PERM_ADMIN = 1u << 3,
    VC_PERM_ALL = VC_PERM_READ | VC_PERM_WRITE | VC_PERM_SIGN | VC_PERM_ADMIN,
};

#define VC_AUTH_NAME_MAX 256
#define VC_AUTH_EXT_MAX 1024
#define VC_TOKEN_MAX 8192

typedef struct vc_auth_info {
    char name[VC_AUTH_NAME_MAX]; /* JWT "name" claim */
    char perm[16];               /* JWT "perm" claim as sent ("" when not a known perm) */
    char ext[VC_AUTH_EXT_MAX];   /* JWT "ext" claim */
    unsigned perms;              /* expanded VC_PERM_* set */
    bool local;                  /* verified with the process-local secret */
} vc_auth_info_t;

/* "admin" -> VC_PERM_ALL, "sign" -> READ|WRITE|SIGN, ...; unknown -> 0. */
unsigned vc_perm_expand(const char *perm);
/* Name of one permission bit ("read", "write", "sign", "admin"), NULL otherwise. */
const char *vc_perm_name(unsigned perm_bit);
/* True for exactly "read", "write", "sign", "admin". */
bool vc_perm_valid(const char *perm);

/* Encodes a token signed with secret. *ret is malloc'ed. */
int vc_jwt_encode(const char *name, const char *perm, const char *ext, const uint8_t *secret,
                  size_t secret_len, char **ret);
/* Decodes the payload without verifying (what venus-auth does before its DB lookup).
 * Fails with VC_EPARSE on anything but three base64url parts and a JSON object payload. */
int vc_jwt_decode_payload(const char *token, vc_auth_info_t *ret);
/* Verifies alg == HS256 and the HMAC with secret (libjwt), then decodes the payload.
 * VC_EVERIFY on a bad signature, wrong or "none" alg; VC_EPARSE on malformed tokens. */
int vc_jwt_verify(const char *token, const uint8_t *secret, size_t secret_len,
                  vc_auth_info_t *ret);

/*
 * Extracts the token from an "Authorization" header value or, when the header is absent, from
 * a `token` form/query value (treated as "Bearer <token>"), exactly as venus AuthMux does.
 * Returns a pointer into one of the inputs, or NULL when there is none or the header does not
 * start with "Bearer " (both mean HTTP 401).
 */
const char *vc_authn_extract_token(const char *authorization, const char *form_token);

typedef struct vc_authn vc_authn_t;

typedef struct vc_authn_opts {
    /* Path of the token file to write the local admin token to (mode 0600); NULL = none. The
     * secret that signs it is kept next to it in <token_path>.key (32 random bytes, 0600, made
     * at the first start), so the token stays valid across restarts: clients configured with it
     * (a node token stored in a daemon's chain-node pool, scripts) go on working. Deleting the
     * .key file rotates it at the next start. Without token_path the secret lives in memory. */
    const char *token_path;
    /* Name in the local admin token; default "defaultLocalToken". */
    const char *local_name;
    /* Remote venus-auth base URLs (tried in order on transport errors) and this service's
     * token for calling them; NULL / 0 = no remote verification. */
    const char *const *auth_urls;
    size_t n_auth_urls;
    const char *auth_token;
    /* Positive results are cached this long (default 5000 ms; <0 disables): a remote answer
     * spares a call to venus-auth, a local one the JWT parse and HMAC that every request would
     * otherwise pay. A token venus-auth stops accepting is honoured for at most this long. */
    int cache_ttl_ms;
    int timeout_ms; /* per remote call, default 5000 */
} vc_authn_opts_t;

/* Creates the verifier with a fresh random local secret and writes the local admin token. */
int vc_authn_new(const vc_authn_opts_t *opts, vc_authn_t **ret);
vc_authn_t *vc_authn_free(vc_authn_t *a);
/* The local admin token (owned by a). */
const char *vc_authn_local_token(const vc_authn_t *a);
/* The cache, then the local check, then remote venus-auth /verify. VC_EVERIFY when rejected,
 * VC_ETRANSPORT when no auth server answered. */
int vc_authn_verify(vc_authn_t *a, const char *token, vc_auth_info_t *ret);
/* Like vc_authn_verify but bypasses the cache (WebSocket re-verification). */
int vc_authn_reverify(vc_authn_t *a, const char *token, vc_auth_info_t *ret);
/* Drops a token from the cache (e.g. after a revocation notice). */
void vc_authn_forget(vc_authn_t *a, const char *token);

#endif
