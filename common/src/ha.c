/*
 * ha.c: leases with fencing tokens and the elector thread (contract in ha.h).
 *
 * SQL is the same text on both backends (times are bound BIGINT ms read from vc_db_now_ms in
 * the same transaction) except the row locks PostgreSQL needs (FOR SHARE / FOR UPDATE).
 * Reading "now" before the guarded UPDATE is safe: under BEGIN IMMEDIATE (sqlite) nothing can
 * change in between, and on PostgreSQL a value made stale by a lock wait only makes the UPDATE
 * more conservative (it sees the lease as live longer, and writes an earlier expiry than the
 * holder's local deadline still precedes, since that deadline is taken before the call).
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ha-internal.h"
#include "vc/ha.h"
#include "vc/log.h"

#define JITTER_PERCENT 20

static const char lease_table_sql[] = "CREATE TABLE IF NOT EXISTS vc_leases ("
                                      "service TEXT NOT NULL, "
                                      "scope TEXT NOT NULL, "
                                      "holder TEXT NOT NULL, "
                                      "token BIGINT NOT NULL CHECK (token > 0), "
                                      "lease_ms BIGINT NOT NULL, "
                                      "acquired_at_ms BIGINT NOT NULL, "
                                      "renewed_at_ms BIGINT NOT NULL, "
                                      "expires_at_ms BIGINT NOT NULL, "
                                      "PRIMARY KEY (service, scope))";

static const vc_db_migration_t migrations[] = {
    {VC_DB_SQLITE, 1, "leases", lease_table_sql},
    {VC_DB_POSTGRES, 1, "leases", lease_table_sql},
};

/* ---- config and names ---- */

int vc_ha_config_validate(const vc_ha_config_t *cfg, vc_ha_config_t *ret, const char **reterr_why)
{
    vc_ha_config_t c = cfg ? *cfg : (vc_ha_config_t){0};
    const char *why = NULL;
    if (c.lease_ms == 0)
        c.lease_ms = VC_HA_LEASE_MS_DEFAULT;
    if (c.renew_deadline_ms == 0)
        c.renew_deadline_ms = VC_HA_RENEW_DEADLINE_MS_DEFAULT;
    if (c.retry_ms == 0)
        c.retry_ms = VC_HA_RETRY_MS_DEFAULT;
    if (c.lease_ms < 0 || c.renew_deadline_ms < 0 || c.retry_ms < 0)
        why = "lease, renew deadline and retry period must be positive";
    else if (c.lease_ms > INT32_MAX || c.renew_deadline_ms > INT32_MAX || c.retry_ms > INT32_MAX)
        why = "lease and renew deadline must be below 24 days";
    else if (c.lease_ms <= c.renew_deadline_ms)
        why = "lease duration must be greater than the renew deadline";
    else if (c.renew_deadline_ms * 10 <= c.retry_ms * 12)
        why = "renew deadline must be greater than 1.2 x the retry period";
    if (why) {
        if (reterr_why)
            *reterr_why = why;
        return -EINVAL;
    }
    *ret = c;
    return 0;
}

int vc_ha_holder_id(const char *base, char ret[VC_HA_HOLDER_MAX])
{
    char def[VC_HA_HOLDER_MAX];
    if (vc_strempty(base)) {
        char host[64] = "";
        if (gethostname(host, sizeof(host)) < 0 || !host[0])
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = 0;
        snprintf(def, sizeof(def), "%s:%ld", host, (long)getpid());
        base = def;
    }
    if (strlen(base) + 10 > VC_HA_HOLDER_MAX)
        return -EINVAL;
    uint32_t rnd;
    vc_random(&rnd, sizeof(rnd));
    int n = snprintf(ret, VC_HA_HOLDER_MAX, "%s/%08x", base, rnd);
    return n < 0 || n >= VC_HA_HOLDER_MAX ? -EINVAL : 0; /* checked above: never */
}

static bool valid_name(const char *s, bool may_be_empty)
{
    return s && (may_be_empty || *s) && strlen(s) <= VC_HA_NAME_MAX;
}

static bool valid_args(const char *service, const char *scope, const char *holder)
{
    return valid_name(service, false) && valid_name(scope, true) &&
           (!holder || (*holder && strlen(holder) < VC_HA_HOLDER_MAX));
}

/* ---- rows ---- */

typedef struct op {
    const char *service, *scope, *holder;
    int64_t token;
    int64_t lease_ms;
    bool force;
    vc_ha_lease_t lease; /* out */
} op_t;

static bool is_pg(vc_db_conn_t *c)
{
    return vc_db_conn_backend(c) == VC_DB_POSTGRES;
}

/* Reads the row (locked with `lock` on PostgreSQL: "", " FOR SHARE", " FOR UPDATE"), then the
 * DB clock. -ENOENT when absent. */
static int read_lease(vc_db_conn_t *c, const char *service, const char *scope, const char *lock,
                      vc_ha_lease_t *ret)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT holder, token, lease_ms, acquired_at_ms, renewed_at_ms, expires_at_ms FROM vc_leases "
             "WHERE service = ? AND scope = ?%s",
             is_pg(c) ? lock : "");
    _cleanup_(vc_db_rows_freep) vc_db_rows_t *rows = NULL;
    int r = vc_db_query_row(c, sql, VC_DB_ARGS(VC_DB_TEXT(service), VC_DB_TEXT(scope)), &rows);
    if (r < 0)
        return r;
    vc_ha_lease_t l = {0};
    const char *h = vc_db_col_text(rows, 0, NULL);
    snprintf(l.holder, sizeof(l.holder), "%s", h ? h : "");
    l.token = vc_db_col_int64(rows, 1);
    l.lease_ms = vc_db_col_int64(rows, 2);
    l.acquired_at_ms = vc_db_col_int64(rows, 3);
    l.renewed_at_ms = vc_db_col_int64(rows, 4);
    l.expires_at_ms = vc_db_col_int64(rows, 5);
    r = vc_db_now_ms(c, &l.db_now_ms);
    if (r < 0)
        return r;
    l.age_ms = l.db_now_ms - l.renewed_at_ms;
    l.remaining_ms = l.expires_at_ms - l.db_now_ms;
    l.live = l.remaining_ms > 0;
    *ret = l;
    return 0;
}

/* fn results that are not errors but not a success either (so the transaction commits). */
enum {
    OP_DONE = 0,
    OP_REFUSED = 1,
};

/*
 * The writes. Each returns the number of rows changed.
 *
 * take_row starts a new term for x->holder, guarded as in spec/ha.md 1c: only when the row is
 * ours or expired, unless `any` (promote, which decided under its row lock).
 */
static int take_row(vc_db_conn_t *c, op_t *x, int64_t now, bool any)
{
    return vc_db_exec(c,
                      "UPDATE vc_leases SET holder = ?, token = token + 1, lease_ms = ?, acquired_at_ms = ?, "
                      "renewed_at_ms = ?, expires_at_ms = ? "
                      "WHERE service = ? AND scope = ? AND (? OR holder = ? OR expires_at_ms <= ?)",
                      VC_DB_ARGS(VC_DB_TEXT(x->holder), VC_DB_INT64(x->lease_ms), VC_DB_INT64(now),
                                 VC_DB_INT64(now), VC_DB_INT64(now + x->lease_ms), VC_DB_TEXT(x->service),
                                 VC_DB_TEXT(x->scope), VC_DB_BOOL(any), VC_DB_TEXT(x->holder),
                                 VC_DB_INT64(now)));
}

/* First term ever: token 1. 1 inserted, 0 someone else inserted first. */
static int insert_row(vc_db_conn_t *c, op_t *x, int64_t now)
{
    return vc_db_exec(c,
                      "INSERT INTO vc_leases (service, scope, holder, token, lease_ms, acquired_at_ms, "
                      "renewed_at_ms, expires_at_ms) VALUES (?, ?, ?, 1, ?, ?, ?, ?) "
                      "ON CONFLICT (service, scope) DO NOTHING",
                      VC_DB_ARGS(VC_DB_TEXT(x->service), VC_DB_TEXT(x->scope), VC_DB_TEXT(x->holder),
                                 VC_DB_INT64(x->lease_ms), VC_DB_INT64(now), VC_DB_INT64(now),
                                 VC_DB_INT64(now + x->lease_ms)));
}

static int acquire_row(vc_db_conn_t *c, op_t *x, int64_t now)
{
    int r = take_row(c, x, now, false);
    return r == 0 ? insert_row(c, x, now) : r;
}

/* Extends our live term only. */
static int renew_row(vc_db_conn_t *c, op_t *x, int64_t now)
{
    return vc_db_exec(c,
                      "UPDATE vc_leases SET lease_ms = ?, renewed_at_ms = ?, expires_at_ms = ? "
                      "WHERE service = ? AND scope = ? AND holder = ? AND token = ? AND expires_at_ms > ?",
                      VC_DB_ARGS(VC_DB_INT64(x->lease_ms), VC_DB_INT64(now), VC_DB_INT64(now + x->lease_ms),
                                 VC_DB_TEXT(x->service), VC_DB_TEXT(x->scope), VC_DB_TEXT(x->holder),
                                 VC_DB_INT64(x->token), VC_DB_INT64(now)));
}

/* Our live lease expires now. */
static int expire_row(vc_db_conn_t *c, op_t *x, int64_t now)
{
    return vc_db_exec(c,
                      "UPDATE vc_leases SET expires_at_ms = ? "
                      "WHERE service = ? AND scope = ? AND holder = ? AND expires_at_ms > ?",
                      VC_DB_ARGS(VC_DB_INT64(now), VC_DB_TEXT(x->service), VC_DB_TEXT(x->scope),
                                 VC_DB_TEXT(x->holder), VC_DB_INT64(now)));
}

/* Reads the DB clock and runs write at that time. No row changed: returns `none`. Else, with
 * read_back, reads the row into x->lease and returns OP_DONE; without, returns the count. */
static int write_at_db_now(vc_db_conn_t *c, op_t *x, int (*write)(vc_db_conn_t *, op_t *, int64_t), int none,
                           bool read_back)
{
    int64_t now;
    int r = vc_db_now_ms(c, &now);
    if (r < 0 || (r = write(c, x, now)) < 0)
        return r;
    if (r == 0)
        return none;
    if (!read_back)
        return r;
    r = read_lease(c, x->service, x->scope, "", &x->lease);
    return r < 0 ? r : OP_DONE;
}

static int acquire_fn(vc_db_conn_t *c, void *userdata)
{
    return write_at_db_now(c, userdata, acquire_row, OP_REFUSED, true);
}

static int renew_fn(vc_db_conn_t *c, void *userdata)
{
    return write_at_db_now(c, userdata, renew_row, VC_ESTALE, true);
}

/* 1 released, 0 not ours. */
static int release_fn(vc_db_conn_t *c, void *userdata)
{
    return write_at_db_now(c, userdata, expire_row, 0, false);
}

static int promote_fn(vc_db_conn_t *c, void *userdata)
{
    op_t *x = userdata;
    vc_ha_lease_t cur;
    int r = read_lease(c, x->service, x->scope, " FOR UPDATE", &cur);
    if (r == -ENOENT) {
        int64_t now;
        r = vc_db_now_ms(c, &now);
        if (r < 0)
            return r;
        r = insert_row(c, x, now);
        if (r < 0)
            return r;
        if (r == 0) /* a first acquirer won the race: look again */
            return -EBUSY;
    } else if (r < 0)
        return r;
    else if (cur.live && !vc_streq(cur.holder, x->holder) && !x->force)
        return OP_REFUSED;
    else if ((r = take_row(c, x, cur.db_now_ms, true)) < 0)
        return r;
    r = read_lease(c, x->service, x->scope, "", &x->lease);
    return r < 0 ? r : OP_DONE;
}

/* ---- bounded transactions (acquire, renew and the elector's release) ---- */

static int set_timeouts(vc_db_conn_t *c, int64_t budget_ms)
{
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)VC_MAX(budget_ms, 1));
    return vc_db_exec(c,
                      "SELECT set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true), "
                      "set_config('idle_in_transaction_session_timeout', ?, true)",
                      VC_DB_ARGS(VC_DB_TEXT(v), VC_DB_TEXT(v), VC_DB_TEXT(v)));
}

static int set_busy_timeout(vc_db_conn_t *c, int64_t ms)
{
    char sql[48];
    snprintf(sql, sizeof(sql), "PRAGMA busy_timeout = %lld", (long long)ms);
    return vc_db_exec_script(c, sql);
}

/*
 * vc_ha_run_bounded (ha-internal.h). sqlite's busy_timeout is the connection's: it is lowered
 * for the call and put back before the connection returns to the pool.
 */
int vc_ha_run_bounded(vc_db_t *db, int64_t budget_ms, vc_db_fn_t fn, void *userdata)
{
    vc_db_conn_t *c;
    budget_ms = VC_MAX(budget_ms, 1);
    int r = vc_db_acquire(db, budget_ms, &c);
    if (r < 0)
        return r;
    int64_t busy = -1;
    if (!is_pg(c) && vc_db_query_int64(c, "PRAGMA busy_timeout", VC_DB_NONE, &busy) >= 0 &&
        set_busy_timeout(c, budget_ms) < 0)
        busy = -1;
    r = vc_db_begin(c, VC_DB_READ_COMMITTED);
    if (r >= 0 && is_pg(c))
        r = set_timeouts(c, budget_ms);
    if (r >= 0) {
        r = fn(c, userdata);
        if (r >= 0) {
            int k = vc_db_commit(c);
            if (k < 0)
                r = k;
        } else
            (void)vc_db_rollback(c);
    }
    if (busy >= 0)
        (void)set_busy_timeout(c, busy);
    vc_db_release(c);
    return r;
}

/* ---- low-level API ---- */

int vc_ha_ensure_schema(vc_db_t *db)
{
    char *err = NULL;
    int r = vc_db_migrate(db, "vc_ha", migrations, VC_ELEMENTSOF(migrations), &err);
    if (r < 0)
        vc_debug("ha: cannot create vc_leases: %s", err ? err : vc_strerror(r));
    free(err);
    return r < 0 ? r : 0;
}

/* Validates x's names and cfg, runs fn on x (bounded: one try within retry_ms; else vc_db_tx,
 * retried on -EBUSY), maps OP_REFUSED to `refused` and hands the lease out. */
static int run_op(vc_db_t *db, op_t *x, const vc_ha_config_t *cfg, vc_db_fn_t fn, bool bounded, int refused,
                  vc_ha_lease_t *ret)
{
    vc_ha_config_t c;
    if (!valid_args(x->service, x->scope, x->holder) || !x->holder)
        return -EINVAL;
    int r = vc_ha_config_validate(cfg, &c, NULL);
    if (r < 0)
        return r;
    x->lease_ms = c.lease_ms;
    r = bounded ? vc_ha_run_bounded(db, c.retry_ms, fn, x) : vc_db_tx(db, fn, x);
    if (r < 0)
        return r;
    if (r == OP_REFUSED)
        return refused;
    if (ret)
        *ret = x->lease;
    return 0;
}

int vc_ha_acquire(vc_db_t *db, const char *service, const char *scope, const char *holder,
                  const vc_ha_config_t *cfg, vc_ha_lease_t *ret)
{
    op_t x = {.service = service, .scope = scope, .holder = holder};
    return run_op(db, &x, cfg, acquire_fn, true, VC_ENOTLEADER, ret);
}

int vc_ha_renew(vc_db_t *db, const char *service, const char *scope, const char *holder, int64_t token,
                const vc_ha_config_t *cfg, vc_ha_lease_t *ret)
{
    op_t x = {.service = service, .scope = scope, .holder = holder, .token = token};
    return run_op(db, &x, cfg, renew_fn, true, VC_ESTALE, ret);
}

int vc_ha_release(vc_db_t *db, const char *service, const char *scope, const char *holder)
{
    if (!valid_args(service, scope, holder) || !holder)
        return -EINVAL;
    op_t x = {.service = service, .scope = scope, .holder = holder};
    int r = vc_db_tx(db, release_fn, &x);
    return r < 0 ? r : r > 0;
}

static int status_fn(vc_db_conn_t *c, void *userdata)
{
    op_t *x = userdata;
    return read_lease(c, x->service, x->scope, "", &x->lease);
}

int vc_ha_status(vc_db_t *db, const char *service, const char *scope, vc_ha_lease_t *ret)
{
    if (!valid_args(service, scope, NULL))
        return -EINVAL;
    op_t x = {.service = service, .scope = scope};
    int r = vc_db_run(db, status_fn, &x);
    if (r < 0)
        return r;
    *ret = x.lease;
    return 0;
}

int vc_ha_promote(vc_db_t *db, const char *service, const char *scope, const char *holder,
                  const vc_ha_config_t *cfg, bool force, vc_ha_lease_t *ret)
{
    op_t x = {.service = service, .scope = scope, .holder = holder, .force = force};
    return run_op(db, &x, cfg, promote_fn, false, -EBUSY, ret);
}

/* The lease row (locked as lock says) when it is live and holder's with token; VC_ESTALE when
 * it is not (or absent). */
static int read_own_lease(vc_db_conn_t *c, const char *service, const char *scope, const char *lock,
                          const char *holder, int64_t token, vc_ha_lease_t *l)
{
    int r = read_lease(c, service, scope, lock, l);
    if (r == -ENOENT)
        return VC_ESTALE;
    if (r < 0)
        return r;
    return l->live && l->token == token && vc_streq(l->holder, holder) ? 0 : VC_ESTALE;
}

int vc_ha_check_fence(vc_db_conn_t *c, const char *service, const char *scope, const char *holder,
                      int64_t token)
{
    if (!c || !valid_args(service, scope, holder) || !holder)
        return -EINVAL;
    vc_ha_lease_t l;
    int r;
    /* PostgreSQL: the transaction's idle timeout is set to what is left of the lease before the
     * row is locked (FOR SHARE, which makes a takeover wait), so that a process stopped at any
     * point after taking that lock loses it when the lease ends, not later */
    if (is_pg(c)) {
        if ((r = read_own_lease(c, service, scope, "", holder, token, &l)) != 0)
            return r;
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)l.remaining_ms);
        r = vc_db_exec(c, "SELECT set_config('idle_in_transaction_session_timeout', ?, true)",
                       VC_DB_ARGS(VC_DB_TEXT(v)));
        if (r < 0)
            return r;
    }
    return read_own_lease(c, service, scope, " FOR SHARE", holder, token, &l);
}

/* ---- elector ---- */

struct vc_ha_elector {
    vc_db_t *db;
    char service[VC_HA_NAME_MAX + 1];
    char scope[VC_HA_NAME_MAX + 1];
    char holder[VC_HA_HOLDER_MAX];
    vc_ha_config_t cfg;
    void (*on_started)(int64_t token, void *userdata);
    void (*on_stopped)(void *userdata);
    void *userdata;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC; the thread waits on it */
    pthread_cond_t done; /* CLOCK_MONOTONIC; promote callers wait on it */
    bool stop, paused;
    /* in_term: a term started (callbacks); leading: is_leader may say true until deadline_us,
     * cleared at once by pause/free, by the thread when the term ends. */
    bool in_term, leading;
    int64_t token;
    int64_t deadline_us; /* boot_us() clock */
    uint64_t promote_req, promote_done;
    bool promote_force;
    int promote_result;
};

/* Runs also while the process is stopped or the host suspended (CLOCK_MONOTONIC does not count
 * suspend on Linux), so a deadline passes in real time. */
static int64_t boot_us(void)
{
    struct timespec ts;
#ifdef CLOCK_BOOTTIME
    if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#endif
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct timespec mono_after(int64_t ms)
{
    int64_t us = vc_now_mono_us() + ms * 1000; /* CLOCK_MONOTONIC, as the condvars */
    return (struct timespec){.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
}

static int64_t jittered(int64_t ms)
{
    uint32_t rnd;
    vc_random(&rnd, sizeof(rnd));
    return ms + (int64_t)(rnd % (uint32_t)(ms * JITTER_PERCENT / 100 + 1));
}

/* The thread's DB calls, made without e->lock. */
static int elector_release(vc_ha_elector_t *e)
{
    op_t x = {.service = e->service, .scope = e->scope, .holder = e->holder};
    int r = vc_ha_run_bounded(e->db, e->cfg.retry_ms, release_fn, &x);
    if (r < 0)
        vc_debug("ha: release of %s/%s by %s failed, it will expire: %s", e->service, e->scope, e->holder,
                 vc_strerror(r));
    return r;
}

/* Called with e->lock held; drops it around the DB call and the callback. */
static void start_term(vc_ha_elector_t *e, int64_t token, int64_t deadline_us)
{
    e->in_term = e->leading = true;
    e->token = token;
    e->deadline_us = deadline_us;
    vc_debug("ha: %s/%s: %s leads with token %lld", e->service, e->scope, e->holder, (long long)token);
    pthread_mutex_unlock(&e->lock);
    if (e->on_started)
        e->on_started(token, e->userdata);
    pthread_mutex_lock(&e->lock);
}

static void end_term(vc_ha_elector_t *e, bool release)
{
    e->in_term = e->leading = false;
    vc_debug("ha: %s/%s: %s stops leading (token %lld)", e->service, e->scope, e->holder,
             (long long)e->token);
    pthread_mutex_unlock(&e->lock);
    if (release)
        (void)elector_release(e);
    if (e->on_stopped)
        e->on_stopped(e->userdata);
    pthread_mutex_lock(&e->lock);
}

/* A term's renew. Returns how long to wait before the next step. */
static int64_t renew_step(vc_ha_elector_t *e)
{
    int64_t rd_us = e->cfg.renew_deadline_ms * 1000;
    int64_t t0 = boot_us();
    if (!e->leading || t0 >= e->deadline_us) {
        end_term(e, false);
        return e->cfg.retry_ms;
    }
    op_t x = {.service = e->service,
              .scope = e->scope,
              .holder = e->holder,
              .token = e->token,
              .lease_ms = e->cfg.lease_ms};
    int64_t budget = VC_MIN(e->cfg.retry_ms, (e->deadline_us - t0) / 1000);
    pthread_mutex_unlock(&e->lock);
    int r = vc_ha_run_bounded(e->db, budget, renew_fn, &x);
    pthread_mutex_lock(&e->lock);
    int64_t now = boot_us();
    if (e->stop || e->paused)
        return 0; /* the loop ends the term */
    if (r >= 0 && e->leading && now < e->deadline_us) {
        e->deadline_us = t0 + rd_us;
        return e->cfg.retry_ms;
    }
    if (r == VC_ESTALE || !e->leading || now >= e->deadline_us) {
        /* lost, or renewed too late: this term is over whatever the row says */
        end_term(e, false);
        return e->cfg.retry_ms;
    }
    vc_debug("ha: %s/%s: renew failed, retrying: %s", e->service, e->scope, vc_strerror(r));
    return VC_MIN(e->cfg.retry_ms, (e->deadline_us - now) / 1000 + 1);
}

static int64_t acquire_step(vc_ha_elector_t *e)
{
    int64_t t0 = boot_us();
    op_t x = {.service = e->service, .scope = e->scope, .holder = e->holder, .lease_ms = e->cfg.lease_ms};
    pthread_mutex_unlock(&e->lock);
    int r = vc_ha_run_bounded(e->db, e->cfg.retry_ms, acquire_fn, &x);
    pthread_mutex_lock(&e->lock);
    if (r == OP_DONE) {
        int64_t deadline = t0 + e->cfg.renew_deadline_ms * 1000;
        if (!e->stop && !e->paused && boot_us() < deadline) {
            start_term(e, x.lease.token, deadline);
            return e->cfg.retry_ms;
        }
        pthread_mutex_unlock(&e->lock);
        (void)elector_release(e);
        pthread_mutex_lock(&e->lock);
    } else if (r < 0)
        vc_debug("ha: %s/%s: acquire failed: %s", e->service, e->scope, vc_strerror(r));
    return jittered(e->cfg.retry_ms);
}

static void promote_step(vc_ha_elector_t *e)
{
    uint64_t gen = e->promote_req;
    bool force = e->promote_force;
    int64_t t0 = boot_us();
    vc_ha_lease_t l;
    pthread_mutex_unlock(&e->lock);
    int r = vc_ha_promote(e->db, e->service, e->scope, e->holder, &e->cfg, force, &l);
    pthread_mutex_lock(&e->lock);
    if (r >= 0) {
        int64_t deadline = t0 + e->cfg.renew_deadline_ms * 1000;
        e->paused = false;
        if (e->in_term)
            end_term(e, false); /* the old token is dead: a new term */
        if (!e->stop && !e->paused && boot_us() < deadline)
            start_term(e, l.token, deadline);
        else {
            r = e->stop || e->paused ? -ECANCELED : -ETIMEDOUT;
            pthread_mutex_unlock(&e->lock);
            (void)elector_release(e);
            pthread_mutex_lock(&e->lock);
        }
    }
    e->promote_result = r;
    e->promote_done = gen;
    pthread_cond_broadcast(&e->done);
}

static void *elector_main(void *arg)
{
    vc_ha_elector_t *e = arg;
    pthread_mutex_lock(&e->lock);
    while (!e->stop) {
        if (e->promote_req != e->promote_done) {
            promote_step(e);
            continue;
        }
        if (e->paused) {
            if (e->in_term)
                end_term(e, true);
            else
                pthread_cond_wait(&e->wake, &e->lock);
            continue;
        }
        int64_t wait_ms = e->in_term ? renew_step(e) : acquire_step(e);
        if (wait_ms > 0 && !e->stop && !e->paused && e->promote_req == e->promote_done) {
            struct timespec ts = mono_after(wait_ms);
            (void)pthread_cond_timedwait(&e->wake, &e->lock, &ts);
        }
    }
    if (e->in_term)
        end_term(e, true);
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

static void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

int vc_ha_elector_new(vc_db_t *db, const vc_ha_elector_options_t *o, vc_ha_elector_t **ret)
{
    const char *scope = o && o->scope ? o->scope : "";
    if (!db || !o || !valid_args(o->service, scope, NULL))
        return -EINVAL;
    vc_ha_config_t cfg;
    int r = vc_ha_config_validate(&o->config, &cfg, NULL);
    if (r < 0)
        return r;
    r = vc_ha_ensure_schema(db);
    if (r < 0)
        return r;
    vc_ha_elector_t *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    r = vc_ha_holder_id(o->holder_base, e->holder);
    if (r < 0) {
        free(e);
        return r;
    }
    e->db = db;
    snprintf(e->service, sizeof(e->service), "%s", o->service);
    snprintf(e->scope, sizeof(e->scope), "%s", scope);
    e->cfg = cfg;
    e->on_started = o->on_started_leading;
    e->on_stopped = o->on_stopped_leading;
    e->userdata = o->userdata;
    e->paused = o->start_paused;
    pthread_mutex_init(&e->lock, NULL);
    cond_init_mono(&e->wake);
    cond_init_mono(&e->done);
    r = -pthread_create(&e->thread, NULL, elector_main, e);
    if (r < 0) {
        pthread_cond_destroy(&e->done);
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return r;
    }
    *ret = e;
    return 0;
}

vc_ha_elector_t *vc_ha_elector_free(vc_ha_elector_t *e)
{
    if (!e)
        return NULL;
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    e->leading = false;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    pthread_cond_destroy(&e->done);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    free(e);
    return NULL;
}

bool vc_ha_is_leader(vc_ha_elector_t *e, int64_t *ret_token)
{
    pthread_mutex_lock(&e->lock);
    bool yes = e->leading && boot_us() < e->deadline_us;
    int64_t token = e->token;
    pthread_mutex_unlock(&e->lock);
    if (yes && ret_token)
        *ret_token = token;
    return yes;
}

const char *vc_ha_elector_holder(const vc_ha_elector_t *e)
{
    return e->holder;
}

const char *vc_ha_elector_service(const vc_ha_elector_t *e)
{
    return e->service;
}

const char *vc_ha_elector_scope(const vc_ha_elector_t *e)
{
    return e->scope;
}

void vc_ha_elector_pause(vc_ha_elector_t *e)
{
    pthread_mutex_lock(&e->lock);
    e->paused = true;
    e->leading = false;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}

void vc_ha_elector_resume(vc_ha_elector_t *e)
{
    pthread_mutex_lock(&e->lock);
    e->paused = false;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}

bool vc_ha_elector_paused(vc_ha_elector_t *e)
{
    pthread_mutex_lock(&e->lock);
    bool p = e->paused;
    pthread_mutex_unlock(&e->lock);
    return p;
}

int vc_ha_elector_promote(vc_ha_elector_t *e, bool force)
{
    if (pthread_equal(pthread_self(), e->thread))
        return -EDEADLK;
    pthread_mutex_lock(&e->lock);
    uint64_t gen = ++e->promote_req;
    e->promote_force = force;
    pthread_cond_signal(&e->wake);
    struct timespec ts = mono_after(e->cfg.lease_ms + e->cfg.retry_ms);
    while (e->promote_done < gen)
        if (pthread_cond_timedwait(&e->done, &e->lock, &ts) == ETIMEDOUT)
            break;
    int r = e->promote_done >= gen ? e->promote_result : -ETIMEDOUT;
    pthread_mutex_unlock(&e->lock);
    return r;
}

int vc_ha_elector_fence(vc_db_conn_t *c, void *elector)
{
    vc_ha_elector_t *e = elector;
    int64_t token;
    if (!e)
        return -EINVAL;
    if (!vc_ha_is_leader(e, &token))
        return VC_ENOTLEADER;
    return vc_ha_check_fence(c, e->service, e->scope, e->holder, token);
}
