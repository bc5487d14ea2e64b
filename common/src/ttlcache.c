/* ttlcache.c: direct-mapped TTL cache of JSON values by string key. */
#include "vc/ttlcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vc/util.h"

typedef struct slot {
    char *key;
    json_t *value;
    int64_t expires_us;
} slot_t;

struct vc_ttlcache {
    pthread_mutex_t lock;
    size_t n;
    int64_t ttl_us;
    slot_t *slots;
};

int vc_ttlcache_new(size_t slots, int64_t ttl_ms, vc_ttlcache_t **ret)
{
    if (!slots || ttl_ms <= 0)
        return -EINVAL;
    vc_ttlcache_t *c = calloc(1, sizeof(*c));
    if (!c || !(c->slots = calloc(slots, sizeof(slot_t)))) {
        free(c);
        return -ENOMEM;
    }
    c->n = slots;
    c->ttl_us = ttl_ms * 1000;
    pthread_mutex_init(&c->lock, NULL);
    *ret = c;
    return 0;
}

void vc_ttlcache_clear(vc_ttlcache_t *c)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++) {
        free(c->slots[i].key);
        json_decref(c->slots[i].value);
        c->slots[i] = (slot_t){0};
    }
    pthread_mutex_unlock(&c->lock);
}

vc_ttlcache_t *vc_ttlcache_free(vc_ttlcache_t *c)
{
    if (!c)
        return NULL;
    vc_ttlcache_clear(c);
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
}

static slot_t *slot_for(vc_ttlcache_t *c, const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return &c->slots[h % c->n];
}

json_t *vc_ttlcache_get(vc_ttlcache_t *c, const char *key)
{
    json_t *v = NULL;
    pthread_mutex_lock(&c->lock);
    slot_t *s = slot_for(c, key);
    if (s->key && s->expires_us > vc_now_mono_us() && strcmp(s->key, key) == 0)
        v = json_incref(s->value);
    pthread_mutex_unlock(&c->lock);
    return v;
}

void vc_ttlcache_put(vc_ttlcache_t *c, const char *key, json_t *value)
{
    char *k = strdup(key);
    if (!k || !value) {
        free(k);
        return;
    }
    pthread_mutex_lock(&c->lock);
    slot_t *s = slot_for(c, key);
    free(s->key);
    json_decref(s->value);
    s->key = k;
    s->value = json_incref(value);
    s->expires_us = vc_now_mono_us() + c->ttl_us;
    pthread_mutex_unlock(&c->lock);
}
