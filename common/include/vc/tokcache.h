/*
 * tokcache.h: a bounded, thread-safe cache of verified tokens (token -> vc_auth_info_t with an
 * expiry). Direct-mapped on SHA-256 of the token: fixed memory, O(1), a colliding token just
 * replaces the older entry. Used by venus-auth's /verify and by every daemon's verifier (vc_authn).
 */
#ifndef VC_TOKCACHE_H
#define VC_TOKCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "vc/authn.h"

typedef struct vc_tokcache vc_tokcache_t;

/* slots: number of entries (e.g. 4096); ttl_ms: lifetime of an entry (> 0). */
int vc_tokcache_new(size_t slots, int64_t ttl_ms, vc_tokcache_t **ret);
vc_tokcache_t *vc_tokcache_free(vc_tokcache_t *c);
/* True and *ret filled when token has a live entry. */
bool vc_tokcache_get(vc_tokcache_t *c, const char *token, vc_auth_info_t *ret);
void vc_tokcache_put(vc_tokcache_t *c, const char *token, const vc_auth_info_t *info);
void vc_tokcache_forget(vc_tokcache_t *c, const char *token);
/* Drops every entry of a user (the JWT "name" claim). */
void vc_tokcache_forget_name(vc_tokcache_t *c, const char *name);

#endif
