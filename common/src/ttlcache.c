/* ttlcache.c: four-way set-associative TTL cache of JSON values by string key. */
#include "vc/ttlcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vc/util.h"

#define WAYS 4

typedef struct slot {
    char *key;
    json_t *value;
    int64_t expires_us;
    int64_t refresh_us; /* an expired entry's refresh was handed out until then */
} slot_t;

struct vc_ttlcache {
    pthread_mutex_t lock;
    size_t n_sets, ways;
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
    c->ways = VC_MIN(slots, (size_t)WAYS);
    c->n_sets = slots / c->ways;
    c->ttl_us = ttl_ms * 1000;
    pthread_mutex_init(&c->lock, NULL);
    *ret = c;
    return 0;
}

void vc_ttlcache_clear(vc_ttlcache_t *c)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_sets * c->ways; i++) {
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

/* The first slot of key's set. */
static slot_t *set_for(vc_ttlcache_t *c, const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return &c->slots[(h % c->n_sets) * c->ways];
}

/* key's slot, or NULL (lock held). */
static slot_t *find(vc_ttlcache_t *c, const char *key)
{
    slot_t *set = set_for(c, key);
    for (size_t i = 0; i < c->ways; i++)
        if (set[i].key && strcmp(set[i].key, key) == 0)
            return &set[i];
    return NULL;
}

json_t *vc_ttlcache_get(vc_ttlcache_t *c, const char *key)
{
    json_t *v = NULL;
    pthread_mutex_lock(&c->lock);
    slot_t *s = find(c, key);
    if (s && s->expires_us > vc_now_mono_us())
        v = json_incref(s->value);
    pthread_mutex_unlock(&c->lock);
    return v;
}

json_t *vc_ttlcache_get_refresh(vc_ttlcache_t *c, const char *key, bool *ret_refresh)
{
    json_t *v = NULL;
    int64_t now = vc_now_mono_us();
    *ret_refresh = false;
    pthread_mutex_lock(&c->lock);
    slot_t *s = find(c, key);
    if (s && s->expires_us + c->ttl_us > now) {
        v = json_incref(s->value);
        if (s->expires_us <= now && s->refresh_us <= now) {
            s->refresh_us = now + c->ttl_us;
            *ret_refresh = true;
        }
    }
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
    slot_t *s = find(c, key);
    if (!s) { /* a free slot, else the one that expires first */
        slot_t *set = set_for(c, key);
        s = &set[0];
        for (size_t i = 0; i < c->ways && s->key; i++)
            if (!set[i].key || set[i].expires_us < s->expires_us)
                s = &set[i];
    }
    free(s->key);
    json_decref(s->value);
    s->key = k;
    s->value = json_incref(value);
    s->expires_us = vc_now_mono_us() + c->ttl_us;
    s->refresh_us = 0;
    pthread_mutex_unlock(&c->lock);
}
