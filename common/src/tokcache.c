/* tokcache.c: direct-mapped TTL cache of verified tokens. */
#include "vc/tokcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "vc/util.h"

typedef struct slot {
    uint8_t key[32];
    int64_t expires_us;
    vc_auth_info_t info;
} slot_t;

struct vc_tokcache {
    pthread_mutex_t lock;
    size_t n;
    int64_t ttl_us;
    slot_t *slots;
};

int vc_tokcache_new(size_t slots, int64_t ttl_ms, vc_tokcache_t **ret)
{
    if (!slots || ttl_ms <= 0)
        return -EINVAL;
    vc_tokcache_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->slots = calloc(slots, sizeof(slot_t));
    if (!c->slots) {
        free(c);
        return -ENOMEM;
    }
    c->n = slots;
    c->ttl_us = ttl_ms * 1000;
    pthread_mutex_init(&c->lock, NULL);
    *ret = c;
    return 0;
}

vc_tokcache_t *vc_tokcache_free(vc_tokcache_t *c)
{
    if (!c)
        return NULL;
    sodium_memzero(c->slots, c->n * sizeof(slot_t));
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
}

static slot_t *slot_for(vc_tokcache_t *c, const char *token, uint8_t key[32])
{
    crypto_hash_sha256(key, (const unsigned char *)token, strlen(token));
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    return &c->slots[h % c->n];
}

bool vc_tokcache_get(vc_tokcache_t *c, const char *token, vc_auth_info_t *ret)
{
    uint8_t key[32];
    slot_t *s = slot_for(c, token, key);
    pthread_mutex_lock(&c->lock);
    bool hit = s->expires_us > vc_now_mono_us() && memcmp(s->key, key, 32) == 0;
    if (hit)
        *ret = s->info;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void vc_tokcache_put(vc_tokcache_t *c, const char *token, const vc_auth_info_t *info)
{
    uint8_t key[32];
    slot_t *s = slot_for(c, token, key);
    pthread_mutex_lock(&c->lock);
    memcpy(s->key, key, 32);
    s->info = *info;
    s->expires_us = vc_now_mono_us() + c->ttl_us;
    pthread_mutex_unlock(&c->lock);
}

void vc_tokcache_forget(vc_tokcache_t *c, const char *token)
{
    uint8_t key[32];
    slot_t *s = slot_for(c, token, key);
    pthread_mutex_lock(&c->lock);
    if (memcmp(s->key, key, 32) == 0)
        s->expires_us = 0;
    pthread_mutex_unlock(&c->lock);
}

void vc_tokcache_forget_name(vc_tokcache_t *c, const char *name)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++)
        if (vc_streq(c->slots[i].info.name, name))
            c->slots[i].expires_us = 0;
    pthread_mutex_unlock(&c->lock);
}
