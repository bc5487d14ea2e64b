/*
 * ha-peers.c: presence rows and the heartbeat thread (contract in ha-peers.h).
 *
 * SQL is the same text on both backends; times are BIGINT ms read from vc_db_now_ms inside the
 * transaction. The upsert is INSERT ... ON CONFLICT DO UPDATE (sqlite >= 3.24, PostgreSQL).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "ha-internal.h"
#include "vc/ha-peers.h"
#include "vc/log.h"

static const char peers_table_sql[] = "CREATE TABLE IF NOT EXISTS vc_peers ("
                                      "service TEXT NOT NULL, "
                                      "scope TEXT NOT NULL, "
                                      "instance TEXT NOT NULL, "
                                      "addr TEXT NOT NULL, "
                                      "role TEXT NOT NULL, "
                                      "heartbeat_ms BIGINT NOT NULL CHECK (heartbeat_ms > 0), "
                                      "started_at_ms BIGINT NOT NULL, "
                                      "last_seen_ms BIGINT NOT NULL, "
                                      "PRIMARY KEY (service, scope, instance))";

static const vc_db_migration_t migrations[] = {
    {VC_DB_SQLITE, 1, "peers", peers_table_sql},
    {VC_DB_POSTGRES, 1, "peers", peers_table_sql},
};

#define STR_(x) #x
#define STR(x) STR_(x)

/* "Live" as SQL, on a row's own heartbeat; binds: now. */
#define LIVE_SQL "last_seen_ms + heartbeat_ms * " STR(VC_HA_PEER_MISSED) " > ?"

int vc_ha_peers_ensure_schema(vc_db_t *db)
{
    char *err = NULL;
    int r = vc_db_migrate(db, "vc_ha_peers", migrations, VC_ELEMENTSOF(migrations), &err);
    if (r < 0)
        vc_debug("ha-peers: cannot create vc_peers: %s", err ? err : vc_strerror(r));
    free(err);
    return r < 0 ? r : 0;
}

/* ---- validation ---- */

/* Non-empty unless may_be_empty, shorter than size, no control characters. */
static bool valid_text(const char *s, size_t size, bool may_be_empty)
{
    if (!s || (!may_be_empty && !*s))
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n + 1 >= size)
            return false;
    return true;
}

static bool valid_key(const char *service, const char *scope, const char *instance)
{
    return valid_text(service, VC_HA_NAME_MAX + 1, false) && valid_text(scope, VC_HA_NAME_MAX + 1, true) &&
           (!instance || valid_text(instance, VC_HA_HOLDER_MAX, false));
}

static int64_t heartbeat_of(int64_t ms)
{
    return ms == 0 ? VC_HA_PEER_HEARTBEAT_MS_DEFAULT : ms;
}

static bool valid_heartbeat(int64_t ms)
{
    return ms >= VC_HA_PEER_HEARTBEAT_MS_MIN && ms <= VC_HA_PEER_HEARTBEAT_MS_MAX;
}

/* ---- rows ---- */

typedef struct beat_op {
    vc_ha_peer_beat_t b; /* scope, addr filled, heartbeat resolved */
    int64_t live;        /* out */
} beat_op_t;

static int count_live(vc_db_conn_t *c, const char *service, const char *scope, int64_t now, int64_t *ret)
{
    return vc_db_query_int64(c, "SELECT count(*) FROM vc_peers WHERE service = ? AND scope = ? AND " LIVE_SQL,
                             VC_DB_ARGS(VC_DB_TEXT(service), VC_DB_TEXT(scope), VC_DB_INT64(now)), ret);
}

static int beat_fn(vc_db_conn_t *c, void *userdata)
{
    beat_op_t *x = userdata;
    const vc_ha_peer_beat_t *b = &x->b;
    int64_t now;
    int r = vc_db_now_ms(c, &now);
    if (r < 0)
        return r;
    r = vc_db_exec(c,
                   "INSERT INTO vc_peers (service, scope, instance, addr, role, heartbeat_ms, started_at_ms, "
                   "last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (service, scope, instance) DO UPDATE SET addr = excluded.addr, "
                   "role = excluded.role, heartbeat_ms = excluded.heartbeat_ms, last_seen_ms = excluded.last_seen_ms",
                   VC_DB_ARGS(VC_DB_TEXT(b->service), VC_DB_TEXT(b->scope), VC_DB_TEXT(b->instance),
                              VC_DB_TEXT(b->addr), VC_DB_TEXT(b->role), VC_DB_INT64(b->heartbeat_ms), VC_DB_INT64(now),
                              VC_DB_INT64(now)));
    if (r < 0)
        return r;
    r = vc_db_exec(c, "DELETE FROM vc_peers WHERE last_seen_ms < ?", VC_DB_ARGS(VC_DB_INT64(now - VC_HA_PEER_PRUNE_MS)));
    if (r < 0)
        return r;
    return count_live(c, b->service, b->scope, now, &x->live);
}

int vc_ha_peer_beat(vc_db_t *db, const vc_ha_peer_beat_t *b, int64_t budget_ms)
{
    if (!db || !b)
        return -EINVAL;
    beat_op_t x = {.b = *b};
    x.b.scope = b->scope ? b->scope : "";
    x.b.addr = b->addr ? b->addr : "";
    x.b.heartbeat_ms = heartbeat_of(b->heartbeat_ms);
    if (!valid_key(x.b.service, x.b.scope, x.b.instance) || !x.b.instance ||
        !valid_text(x.b.addr, VC_HA_PEER_ADDR_MAX, true) || !valid_text(x.b.role, VC_HA_PEER_ROLE_MAX, false) ||
        !valid_heartbeat(x.b.heartbeat_ms))
        return -EINVAL;
    int r = vc_ha_run_bounded(db, budget_ms > 0 ? budget_ms : x.b.heartbeat_ms, beat_fn, &x);
    return r < 0 ? r : (int)VC_MIN(x.live, (int64_t)INT32_MAX);
}

typedef struct key_op {
    const char *service, *scope, *instance;
    vc_ha_peer_t *v; /* list out */
    size_t n;
} key_op_t;

static int leave_fn(vc_db_conn_t *c, void *userdata)
{
    key_op_t *x = userdata;
    return vc_db_exec(c, "DELETE FROM vc_peers WHERE service = ? AND scope = ? AND instance = ?",
                      VC_DB_ARGS(VC_DB_TEXT(x->service), VC_DB_TEXT(x->scope), VC_DB_TEXT(x->instance)));
}

int vc_ha_peer_leave(vc_db_t *db, const char *service, const char *scope, const char *instance, int64_t budget_ms)
{
    key_op_t x = {.service = service, .scope = scope ? scope : "", .instance = instance};
    if (!db || !instance || !valid_key(x.service, x.scope, instance))
        return -EINVAL;
    int r = vc_ha_run_bounded(db, budget_ms > 0 ? budget_ms : VC_HA_PEER_HEARTBEAT_MS_DEFAULT, leave_fn, &x);
    return r < 0 ? r : r > 0;
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static int list_fn(vc_db_conn_t *c, void *userdata)
{
    key_op_t *x = userdata;
    int64_t now;
    int r = vc_db_now_ms(c, &now);
    if (r < 0)
        return r;
    _cleanup_(vc_db_rows_freep) vc_db_rows_t *rows = NULL;
    r = vc_db_query(c,
                    "SELECT instance, addr, role, heartbeat_ms, started_at_ms, last_seen_ms FROM vc_peers "
                    "WHERE service = ? AND scope = ? AND " LIVE_SQL " ORDER BY instance LIMIT " STR(
                        VC_HA_PEERS_MAX),
                    VC_DB_ARGS(VC_DB_TEXT(x->service), VC_DB_TEXT(x->scope), VC_DB_INT64(now)), &rows);
    if (r < 0)
        return r;
    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    while ((r = vc_db_rows_next(rows)) > 0) {
        vc_ha_peer_t *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            r = -ENOMEM;
            break;
        }
        v = nv;
        vc_ha_peer_t *p = &v[n++];
        copy_text(p->instance, sizeof(p->instance), vc_db_col_text(rows, 0, NULL));
        copy_text(p->addr, sizeof(p->addr), vc_db_col_text(rows, 1, NULL));
        copy_text(p->role, sizeof(p->role), vc_db_col_text(rows, 2, NULL));
        p->heartbeat_ms = vc_db_col_int64(rows, 3);
        p->started_at_ms = vc_db_col_int64(rows, 4);
        p->last_seen_ms = vc_db_col_int64(rows, 5);
        p->age_ms = VC_MAX(now - p->last_seen_ms, (int64_t)0);
        p->up_ms = VC_MAX(now - p->started_at_ms, (int64_t)0);
    }
    if (r < 0) {
        free(v);
        return r;
    }
    free(x->v); /* a previous run of this callback, if any */
    x->v = v;
    x->n = n;
    return 0;
}

int vc_ha_peers_list(vc_db_t *db, const char *service, const char *scope, vc_ha_peer_t **ret, size_t *ret_n)
{
    key_op_t x = {.service = service, .scope = scope ? scope : ""};
    if (!db || !ret || !ret_n || !valid_key(x.service, x.scope, NULL))
        return -EINVAL;
    int r = vc_db_run(db, list_fn, &x);
    if (r < 0) {
        free(x.v);
        return r;
    }
    *ret = x.v;
    *ret_n = x.n;
    return (int)x.n;
}

/* ---- the heartbeat thread ---- */

struct vc_ha_presence {
    vc_db_t *db;
    char service[VC_HA_NAME_MAX + 1];
    char scope[VC_HA_NAME_MAX + 1];
    char instance[VC_HA_HOLDER_MAX];
    int64_t heartbeat_ms;
    const char *(*role)(void *userdata);
    void *userdata;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    char addr[VC_HA_PEER_ADDR_MAX];
    bool stop, kick;
    _Atomic int64_t live;
};

const char *vc_ha_presence_role(vc_ha_presence_t *p)
{
    const char *r = p->role ? p->role(p->userdata) : NULL;
    return r ? r : "active";
}

static void *presence_main(void *arg)
{
    vc_ha_presence_t *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        char addr[VC_HA_PEER_ADDR_MAX];
        memcpy(addr, p->addr, sizeof(addr));
        p->kick = false;
        pthread_mutex_unlock(&p->lock);
        vc_ha_peer_beat_t b = {.service = p->service,
                               .scope = p->scope,
                               .instance = p->instance,
                               .addr = addr,
                               .role = vc_ha_presence_role(p),
                               .heartbeat_ms = p->heartbeat_ms};
        int r = vc_ha_peer_beat(p->db, &b, p->heartbeat_ms);
        if (r >= 0)
            atomic_store(&p->live, (int64_t)r);
        else
            vc_debug("ha-peers: %s/%s: heartbeat of %s failed: %s", p->service, p->scope, p->instance,
                     vc_strerror(r));
        pthread_mutex_lock(&p->lock);
        if (p->stop || p->kick)
            continue;
        int64_t us = vc_now_mono_us() + p->heartbeat_ms * 1000;
        struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
        while (!p->stop && !p->kick && pthread_cond_timedwait(&p->wake, &p->lock, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int vc_ha_presence_new(vc_db_t *db, const vc_ha_presence_options_t *o, vc_ha_presence_t **ret)
{
    const char *scope = o && o->scope ? o->scope : "";
    const char *addr = o && o->addr ? o->addr : "";
    if (!db || !o || !ret || !o->instance || !valid_key(o->service, scope, o->instance) ||
        !valid_text(addr, VC_HA_PEER_ADDR_MAX, true) || !valid_heartbeat(heartbeat_of(o->heartbeat_ms)))
        return -EINVAL;
    int r = vc_ha_peers_ensure_schema(db);
    if (r < 0)
        return r;
    vc_ha_presence_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->db = db;
    copy_text(p->service, sizeof(p->service), o->service);
    copy_text(p->scope, sizeof(p->scope), scope);
    copy_text(p->instance, sizeof(p->instance), o->instance);
    copy_text(p->addr, sizeof(p->addr), addr);
    p->heartbeat_ms = heartbeat_of(o->heartbeat_ms);
    p->role = o->role;
    p->userdata = o->userdata;
    atomic_init(&p->live, -1);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_condattr_destroy(&ca);
    r = -pthread_create(&p->thread, NULL, presence_main, p);
    if (r < 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return r;
    }
    *ret = p;
    return 0;
}

vc_ha_presence_t *vc_ha_presence_free(vc_ha_presence_t *p)
{
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    int r = vc_ha_peer_leave(p->db, p->service, p->scope, p->instance, p->heartbeat_ms);
    if (r < 0)
        vc_debug("ha-peers: %s/%s: %s could not delete its row, it will expire: %s", p->service, p->scope,
                 p->instance, vc_strerror(r));
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
}

int vc_ha_presence_set_addr(vc_ha_presence_t *p, const char *addr)
{
    if (!p || !valid_text(addr, VC_HA_PEER_ADDR_MAX, true))
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    copy_text(p->addr, sizeof(p->addr), addr);
    p->kick = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

const char *vc_ha_presence_instance(const vc_ha_presence_t *p)
{
    return p->instance;
}

int vc_ha_presence_peers(vc_ha_presence_t *p, vc_ha_peer_t **ret, size_t *ret_n)
{
    return vc_ha_peers_list(p->db, p->service, p->scope, ret, ret_n);
}

int64_t vc_ha_presence_live(vc_ha_presence_t *p)
{
    return atomic_load(&p->live);
}

static double ha_peers(void *userdata)
{
    int64_t n = vc_ha_presence_live(userdata);
    return n < 0 ? 0 : (double)n;
}

void vc_ha_presence_metrics_register(vc_metrics_t *m, vc_ha_presence_t *p)
{
    if (!m || !p)
        return;
    vc_metrics_gauge_func(m, "ha_peers", "Live instances of this service seen by the last heartbeat (this one included).",
                          ha_peers, p, NULL);
}
