/*
 * ttlcache.h: a small, bounded, thread-safe cache of JSON answers by string key, each kept for
 * a fixed time (e.g. venus-auth lookups a daemon repeats for every request). Four-way set
 * associative on a hash of the key: fixed memory, O(1); a full set drops the entry that expires
 * first.
 */
#ifndef VC_TTLCACHE_H
#define VC_TTLCACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vc_ttlcache vc_ttlcache_t;

int vc_ttlcache_new(size_t slots, int64_t ttl_ms, vc_ttlcache_t **ret);
vc_ttlcache_t *vc_ttlcache_free(vc_ttlcache_t *c);
/* A new reference to the live value for key, or NULL. */
json_t *vc_ttlcache_get(vc_ttlcache_t *c, const char *key);
/*
 * As vc_ttlcache_get, but an entry expired for less than another TTL is still returned, and
 * then *ret_refresh is set for one caller at a time (again after a TTL if no fresh value came),
 * which should fetch the value anew and put it; the others go on with the old one meanwhile.
 * So the entries every request needs do not all expire at once under load.
 */
json_t *vc_ttlcache_get_refresh(vc_ttlcache_t *c, const char *key, bool *ret_refresh);
/* Stores a reference to value (borrowed: the cache takes its own). */
void vc_ttlcache_put(vc_ttlcache_t *c, const char *key, json_t *value);
void vc_ttlcache_clear(vc_ttlcache_t *c);

#endif
