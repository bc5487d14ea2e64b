/*
 * Tests for ha.c: leases, fencing, the elector. sqlite by default (several pools on one file,
 * as several processes would have, plus real forked processes); PostgreSQL with --pg, which
 * adds a network partition (the leader's role loses CONNECT and its backends are terminated)
 * and a database restart (on a private server started with $VC_PG_FIXTURE).
 *
 * Timing: lease 600 ms, renew deadline 400 ms, retry 100 ms. Bounds on take-over times get
 * SLACK_MS on top of the theoretical value for slow (sanitizer) builds.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc-test-db.h"
#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/db.h"
#include "vc/ha.h"
#include "vc/util.h"

#define SVC "test"
#define LEASE_MS 600
#define RENEW_MS 400
#define RETRY_MS 100
#define SLACK_MS 400

static const vc_ha_config_t fast = {
    .lease_ms = LEASE_MS, .renew_deadline_ms = RENEW_MS, .retry_ms = RETRY_MS};
static bool use_pg;

static int64_t now_ms(void)
{
    return vc_now_mono_us() / 1000;
}

static vc_db_t *open_db(const char *dsn)
{
    return vc_test_db_open(dsn, 4);
}

/* A fresh database with vc_leases and the table fenced writes go to. */
static const char *fresh_dsn(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    if (!dsn) {
        VC_FAIL_("no fresh database");
        return NULL;
    }
    vc_db_t *db = open_db(dsn);
    if (!db)
        return NULL;
    vc_db_conn_t *c;
    int r = vc_ha_ensure_schema(db);
    if (r >= 0 && (r = vc_db_acquire(db, -1, &c)) >= 0) {
        r = vc_db_exec(c,
                       use_pg
                           ? "CREATE TABLE ha_writes (seq BIGSERIAL PRIMARY KEY, token BIGINT, holder TEXT)"
                           : "CREATE TABLE ha_writes (seq INTEGER PRIMARY KEY, token BIGINT, holder TEXT)",
                       VC_DB_NONE);
        vc_db_release(c);
    }
    vc_db_free(db);
    if (r < 0) {
        VC_FAIL_("schema: %s (%s)", vc_strerror(r), vc_db_last_errmsg());
        return NULL;
    }
    return dsn;
}

typedef struct fenced {
    const char *holder;
    int64_t token;
} fenced_t;

static int fenced_write_fn(vc_db_conn_t *c, void *userdata)
{
    const fenced_t *f = userdata;
    int r = vc_ha_check_fence(c, SVC, "", f->holder, f->token);
    if (r < 0)
        return r;
    return vc_db_exec(c, "INSERT INTO ha_writes (token, holder) VALUES (?, ?)",
                      VC_DB_ARGS(VC_DB_INT64(f->token), VC_DB_TEXT(f->holder)));
}

/* An irreversible write guarded by the fence: 1 written, VC_ESTALE refused. */
static int fenced_write(vc_db_t *db, const char *holder, int64_t token)
{
    return vc_db_tx(db, fenced_write_fn, &(fenced_t){holder, token});
}

static int64_t query_int(vc_db_t *db, const char *sql)
{
    vc_db_conn_t *c;
    int64_t v = -1;
    if (vc_db_acquire(db, -1, &c) < 0)
        return -1;
    if (vc_db_query_int64(c, sql, VC_DB_NONE, &v) < 0)
        VC_FAIL_("%s: %s", sql, vc_db_errmsg(c));
    vc_db_release(c);
    return v;
}

/* ---- electors in this process ---- */

typedef struct watch {
    pthread_mutex_t lock;
    int started, stopped;
    int64_t token;
    volatile bool block_start; /* on_started_leading waits while set (a stuck elector thread) */
    volatile bool in_start;
} watch_t;

static void on_started(int64_t token, void *userdata)
{
    watch_t *w = userdata;
    pthread_mutex_lock(&w->lock);
    w->started++;
    w->token = token;
    pthread_mutex_unlock(&w->lock);
    w->in_start = true;
    for (int i = 0; w->block_start && i < 1000; i++)
        vc_sleep_ms(5);
    w->in_start = false;
}

static void on_stopped(void *userdata)
{
    watch_t *w = userdata;
    pthread_mutex_lock(&w->lock);
    w->stopped++;
    pthread_mutex_unlock(&w->lock);
}

static int watch_count(watch_t *w, bool started)
{
    pthread_mutex_lock(&w->lock);
    int n = started ? w->started : w->stopped;
    pthread_mutex_unlock(&w->lock);
    return n;
}

/* Each candidate has its own pool on the database, as separate processes would. */
typedef struct cand {
    vc_db_t *db;
    vc_ha_elector_t *e;
    watch_t w;
} cand_t;

static bool cand_start(cand_t *c, const char *dsn, const char *base, bool paused, bool block)
{
    *c = (cand_t){.w.block_start = block};
    pthread_mutex_init(&c->w.lock, NULL);
    c->db = open_db(dsn);
    if (!c->db)
        return false;
    vc_ha_elector_options_t o = {.service = SVC,
                                 .holder_base = base,
                                 .config = fast,
                                 .start_paused = paused,
                                 .on_started_leading = on_started,
                                 .on_stopped_leading = on_stopped,
                                 .userdata = &c->w};
    int r = vc_ha_elector_new(c->db, &o, &c->e);
    if (r < 0)
        return VC_FAIL_("vc_ha_elector_new: %s", vc_strerror(r));
    return true;
}

static void cand_stop(cand_t *c)
{
    c->w.block_start = false;
    c->e = vc_ha_elector_free(c->e);
    c->db = vc_db_free(c->db);
    pthread_mutex_destroy(&c->w.lock);
}

/* Index of the only leader among n, -1 if none; records a failure when two lead at once. */
static int only_leader(cand_t *c, int n)
{
    int who = -1;
    for (int i = 0; i < n; i++)
        if (c[i].e && vc_ha_is_leader(c[i].e, NULL)) {
            if (who >= 0)
                VC_FAIL_("candidates %d and %d both lead", who, i);
            who = i;
        }
    return who;
}

static int wait_leader(cand_t *c, int n, int64_t timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    do {
        int who = only_leader(c, n);
        if (who >= 0)
            return who;
        vc_sleep_ms(5);
    } while (now_ms() < end);
    return -1;
}

static int64_t token_of(cand_t *c)
{
    int64_t t = -1;
    return vc_ha_is_leader(c->e, &t) ? t : -1;
}

/* ---- tests: configuration and the low-level calls ---- */

static void test_config(void)
{
    vc_ha_config_t c;
    const char *why = NULL;
    ASSERT_OK(vc_ha_config_validate(NULL, &c, NULL));
    ASSERT_EQ(c.lease_ms, 15000);
    ASSERT_EQ(c.renew_deadline_ms, 10000);
    ASSERT_EQ(c.retry_ms, 2000);
    ASSERT_OK(vc_ha_config_validate(&fast, &c, NULL));
    ASSERT_EQ(c.lease_ms, LEASE_MS);
    /* lease > renew deadline */
    ASSERT_EQ(vc_ha_config_validate(&(vc_ha_config_t){1000, 1000, 100}, &c, &why), -EINVAL);
    ASSERT_TRUE(strstr(why, "renew deadline") != NULL);
    ASSERT_EQ(vc_ha_config_validate(&(vc_ha_config_t){.lease_ms = 5000}, &c, NULL), -EINVAL);
    /* renew deadline > 1.2 x retry: 1200 = 1.2 x 1000 is not enough, 1201 is */
    ASSERT_EQ(vc_ha_config_validate(&(vc_ha_config_t){2000, 1200, 1000}, &c, &why), -EINVAL);
    ASSERT_TRUE(strstr(why, "1.2") != NULL);
    ASSERT_OK(vc_ha_config_validate(&(vc_ha_config_t){2000, 1201, 1000}, &c, NULL));
    ASSERT_EQ(vc_ha_config_validate(&(vc_ha_config_t){.retry_ms = 9000}, &c, NULL), -EINVAL);
    ASSERT_EQ(vc_ha_config_validate(&(vc_ha_config_t){-1, 0, 0}, &c, NULL), -EINVAL);
    ASSERT_EQ(vc_ha_config_validate(&(vc_ha_config_t){INT64_MAX, 0, 0}, &c, NULL), -EINVAL);
}

static void test_holder_id(void)
{
    char a[VC_HA_HOLDER_MAX], b[VC_HA_HOLDER_MAX], big[VC_HA_HOLDER_MAX + 8];
    ASSERT_OK(vc_ha_holder_id("messager-1", a));
    ASSERT_OK(vc_ha_holder_id("messager-1", b));
    ASSERT_TRUE(strncmp(a, "messager-1/", 11) == 0 && strlen(a) == 19);
    ASSERT_TRUE(strcmp(a, b) != 0);
    ASSERT_OK(vc_ha_holder_id(NULL, a));
    ASSERT_TRUE(strchr(a, ':') && strchr(a, '/'));
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ASSERT_EQ(vc_ha_holder_id(big, a), -EINVAL);
}

static void test_schema(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    _cleanup_(vc_db_freep) vc_db_t *db = open_db(dsn);
    ASSERT_NOTNULL(db);
    ASSERT_OK(vc_ha_ensure_schema(db));
    ASSERT_OK(vc_ha_ensure_schema(db));
    int v = 0;
    ASSERT_OK(vc_db_schema_version(db, "vc_ha", &v));
    ASSERT_EQ(v, 1);
    vc_ha_lease_t l;
    ASSERT_EQ(vc_ha_status(db, SVC, "", &l), -ENOENT);
    ASSERT_EQ(vc_ha_status(db, "", "", &l), -EINVAL);
    ASSERT_EQ(vc_ha_acquire(db, SVC, "", "", NULL, &l), -EINVAL);
    /* the elector refuses bad options */
    vc_ha_elector_t *e = NULL;
    vc_ha_elector_options_t o = {.service = SVC, .config = {1000, 1000, 100}};
    ASSERT_EQ(vc_ha_elector_new(db, &o, &e), -EINVAL);
    o = (vc_ha_elector_options_t){.service = ""};
    ASSERT_EQ(vc_ha_elector_new(db, &o, &e), -EINVAL);
}

static void test_acquire_renew(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    _cleanup_(vc_db_freep) vc_db_t *db = open_db(dsn);
    ASSERT_NOTNULL(db);
    vc_ha_lease_t l, s;
    ASSERT_OK(vc_ha_acquire(db, SVC, "f01000", "a", &fast, &l));
    ASSERT_EQ(l.token, 1);
    ASSERT_STREQ(l.holder, "a");
    ASSERT_TRUE(l.live);
    ASSERT_EQ(l.expires_at_ms - l.renewed_at_ms, LEASE_MS);
    /* DB clock: vc_db_now_ms and the row agree */
    vc_db_conn_t *c;
    int64_t dbnow;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_OK(vc_db_now_ms(c, &dbnow));
    vc_db_release(c);
    ASSERT_TRUE(dbnow >= l.acquired_at_ms && dbnow < l.expires_at_ms);
    /* another scope is another lease */
    ASSERT_OK(vc_ha_acquire(db, SVC, "f01001", "b", &fast, &s));
    ASSERT_EQ(s.token, 1);
    /* b cannot take a's live lease, nor renew it */
    ASSERT_EQ(vc_ha_acquire(db, SVC, "f01000", "b", &fast, &s), VC_ENOTLEADER);
    ASSERT_EQ(vc_ha_renew(db, SVC, "f01000", "b", 1, &fast, &s), VC_ESTALE);
    /* a renews: same token, later expiry; a wrong token is stale */
    vc_sleep_ms(20);
    ASSERT_OK(vc_ha_renew(db, SVC, "f01000", "a", 1, &fast, &s));
    ASSERT_EQ(s.token, 1);
    ASSERT_TRUE(s.expires_at_ms > l.expires_at_ms);
    ASSERT_EQ(vc_ha_renew(db, SVC, "f01000", "a", 2, &fast, &s), VC_ESTALE);
    /* a re-acquiring its own live lease starts a new term */
    ASSERT_OK(vc_ha_acquire(db, SVC, "f01000", "a", &fast, &l));
    ASSERT_EQ(l.token, 2);
    ASSERT_EQ(vc_ha_renew(db, SVC, "f01000", "a", 1, &fast, &s), VC_ESTALE);
    /* expiry by the DB clock: b takes over after lease_ms, a's term is over */
    vc_sleep_ms(LEASE_MS + 20);
    ASSERT_OK(vc_ha_status(db, SVC, "f01000", &s));
    ASSERT_FALSE(s.live);
    ASSERT_TRUE(s.age_ms >= LEASE_MS && s.remaining_ms <= 0);
    ASSERT_EQ(vc_ha_renew(db, SVC, "f01000", "a", 2, &fast, &s), VC_ESTALE);
    ASSERT_OK(vc_ha_acquire(db, SVC, "f01000", "b", &fast, &l));
    ASSERT_EQ(l.token, 3);
    ASSERT_STREQ(l.holder, "b");
    /* status */
    ASSERT_OK(vc_ha_status(db, SVC, "f01000", &s));
    ASSERT_STREQ(s.holder, "b");
    ASSERT_EQ(s.token, 3);
    ASSERT_TRUE(s.live && s.age_ms >= 0 && s.age_ms < LEASE_MS && s.remaining_ms > 0);
    ASSERT_EQ(s.lease_ms, LEASE_MS);
}

static void test_fence(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    _cleanup_(vc_db_freep) vc_db_t *db = open_db(dsn);
    ASSERT_NOTNULL(db);
    vc_ha_lease_t l;
    ASSERT_EQ(fenced_write(db, "a", 1), VC_ESTALE); /* no row */
    ASSERT_OK(vc_ha_acquire(db, SVC, "", "a", &fast, &l));
    ASSERT_EQ(fenced_write(db, "a", l.token), 1);
    ASSERT_EQ(fenced_write(db, "a", l.token + 1), VC_ESTALE);
    ASSERT_EQ(fenced_write(db, "b", l.token), VC_ESTALE);
    ASSERT_EQ(query_int(db, "SELECT count(*) FROM ha_writes"), 1); /* refused writes rolled back */
    /* released: expired at once, the write is refused */
    ASSERT_EQ(vc_ha_release(db, SVC, "", "b"), 0);
    ASSERT_EQ(vc_ha_release(db, SVC, "", "a"), 1);
    ASSERT_EQ(vc_ha_release(db, SVC, "", "a"), 0);
    ASSERT_EQ(fenced_write(db, "a", l.token), VC_ESTALE);
    vc_ha_lease_t s;
    ASSERT_OK(vc_ha_status(db, SVC, "", &s));
    ASSERT_FALSE(s.live);
    ASSERT_STREQ(s.holder, "a");
    ASSERT_EQ(s.token, l.token);
    /* anyone may take it now, with a new token */
    ASSERT_OK(vc_ha_acquire(db, SVC, "", "b", &fast, &s));
    ASSERT_EQ(s.token, l.token + 1);
    ASSERT_EQ(fenced_write(db, "b", s.token), 1);
    ASSERT_EQ(query_int(db, "SELECT count(*) FROM ha_writes"), 2);
}

static void test_promote(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    _cleanup_(vc_db_freep) vc_db_t *db = open_db(dsn);
    ASSERT_NOTNULL(db);
    vc_ha_lease_t l, p;
    /* no row: promote creates it */
    ASSERT_OK(vc_ha_promote(db, SVC, "", "a", &fast, false, &l));
    ASSERT_EQ(l.token, 1);
    ASSERT_TRUE(l.live);
    /* a live other holder: refused without force, nothing changes */
    ASSERT_EQ(vc_ha_promote(db, SVC, "", "b", &fast, false, &p), -EBUSY);
    ASSERT_EQ(fenced_write(db, "a", 1), 1);
    /* force: b's term, the token moves on, a's writes fail and a cannot renew */
    ASSERT_OK(vc_ha_promote(db, SVC, "", "b", &fast, true, &p));
    ASSERT_STREQ(p.holder, "b");
    ASSERT_EQ(p.token, 2);
    ASSERT_EQ(fenced_write(db, "a", 1), VC_ESTALE);
    ASSERT_EQ(vc_ha_renew(db, SVC, "", "a", 1, &fast, &l), VC_ESTALE);
    ASSERT_EQ(fenced_write(db, "b", 2), 1);
    /* promoting the holder itself is a new term too */
    ASSERT_OK(vc_ha_promote(db, SVC, "", "b", &fast, false, &p));
    ASSERT_EQ(p.token, 3);
    ASSERT_EQ(fenced_write(db, "b", 2), VC_ESTALE);
    /* expired: no force needed */
    vc_sleep_ms(LEASE_MS + 20);
    ASSERT_OK(vc_ha_promote(db, SVC, "", "a", &fast, false, &p));
    ASSERT_EQ(p.token, 4);
    ASSERT_STREQ(p.holder, "a");
}

/* ---- tests: electors in one process ---- */

static void test_electors(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    cand_t c[3];
    for (int i = 0; i < 3; i++)
        ASSERT_TRUE(cand_start(&c[i], dsn, "node", false, false));
    int who = wait_leader(c, 3, LEASE_MS * 4);
    ASSERT_GE(who, 0);
    int64_t tok = token_of(&c[who]);
    ASSERT_GE(tok, 1);
    /* the same base name never gives the same holder id */
    ASSERT_TRUE(strcmp(vc_ha_elector_holder(c[0].e), vc_ha_elector_holder(c[1].e)) != 0);
    ASSERT_TRUE(strncmp(vc_ha_elector_holder(c[0].e), "node/", 5) == 0);
    /* leadership is stable and single over several lease periods (renewals) */
    for (int i = 0; i < 200; i++) {
        ASSERT_EQ(only_leader(c, 3), who);
        vc_sleep_ms(10);
    }
    ASSERT_EQ(token_of(&c[who]), tok);
    ASSERT_EQ(watch_count(&c[who].w, true), 1);
    /* status shows it */
    vc_ha_lease_t s;
    ASSERT_OK(vc_ha_status(c[0].db, SVC, "", &s));
    ASSERT_STREQ(s.holder, vc_ha_elector_holder(c[who].e));
    ASSERT_EQ(s.token, tok);
    ASSERT_TRUE(s.live && s.age_ms <= RETRY_MS + SLACK_MS);
    /* fenced writes: the leader's pass, the others have no term */
    ASSERT_EQ(vc_db_tx(c[who].db, vc_ha_elector_fence, c[who].e), 0);
    ASSERT_EQ(vc_db_tx(c[(who + 1) % 3].db, vc_ha_elector_fence, c[(who + 1) % 3].e), VC_ENOTLEADER);
    /* a leader that shuts down releases: another takes over at once, with a new token */
    int64_t t0 = now_ms();
    cand_stop(&c[who]);
    ASSERT_EQ(c[who].w.stopped, 1);
    int next = wait_leader(c, 3, LEASE_MS + 2 * RETRY_MS + SLACK_MS);
    ASSERT_GE(next, 0);
    int64_t dt = now_ms() - t0;
    printf("# take-over after a released lease: %lld ms\n", (long long)dt);
    ASSERT_LT(dt, 3 * RETRY_MS + SLACK_MS);
    ASSERT_TRUE(token_of(&c[next]) > tok);
    for (int i = 0; i < 3; i++)
        if (c[i].e)
            cand_stop(&c[i]);
}

/* The elector thread stuck (here in a callback that does not return): is_leader turns false at
 * the renew deadline anyway, a standby takes over after the lease, and the stuck one ends its
 * term with on_stopped_leading once it runs again. */
static void test_stuck_thread(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    cand_t c[2];
    ASSERT_TRUE(cand_start(&c[1], dsn, "standby", true, false));
    ASSERT_TRUE(cand_start(&c[0], dsn, "stuck", false, true));
    ASSERT_EQ(wait_leader(c, 2, LEASE_MS * 4), 0);
    int64_t t0 = now_ms(); /* the term began before t0 */
    int64_t tok = token_of(&c[0]);
    vc_ha_elector_resume(c[1].e);
    while (vc_ha_is_leader(c[0].e, NULL) && now_ms() - t0 < 5000)
        vc_sleep_ms(2);
    int64_t dt = now_ms() - t0;
    printf("# stuck leader stops acting after %lld ms (renew deadline %d ms)\n", (long long)dt, RENEW_MS);
    ASSERT_TRUE(dt <= RENEW_MS + 100);         /* <= RENEW_MS but for this thread's own scheduling */
    ASSERT_TRUE(c[0].w.in_start);              /* still stuck */
    ASSERT_EQ(watch_count(&c[0].w, false), 0); /* no callback yet: is_leader alone said it */
    /* the standby takes over once the lease expired by the DB clock */
    ASSERT_EQ(wait_leader(c, 2, LEASE_MS + 2 * RETRY_MS + SLACK_MS), 1);
    ASSERT_TRUE(token_of(&c[1]) > tok);
    ASSERT_EQ(fenced_write(c[0].db, vc_ha_elector_holder(c[0].e), tok), VC_ESTALE);
    c[0].w.block_start = false;
    for (int i = 0; i < 200 && watch_count(&c[0].w, false) == 0; i++)
        vc_sleep_ms(5);
    ASSERT_EQ(watch_count(&c[0].w, false), 1);
    ASSERT_FALSE(vc_ha_is_leader(c[0].e, NULL));
    ASSERT_EQ(only_leader(c, 2), 1);
    cand_stop(&c[0]);
    cand_stop(&c[1]);
}

static void test_pause_resume(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    cand_t c[2];
    ASSERT_TRUE(cand_start(&c[0], dsn, "a", false, false));
    ASSERT_TRUE(cand_start(&c[1], dsn, "b", false, false));
    int who = wait_leader(c, 2, LEASE_MS * 4);
    ASSERT_GE(who, 0);
    int other = 1 - who;
    int64_t tok = token_of(&c[who]);
    /* pause: not leader when pause returns; the lease is released, the other leads soon */
    vc_ha_elector_pause(c[who].e);
    ASSERT_FALSE(vc_ha_is_leader(c[who].e, NULL));
    ASSERT_TRUE(vc_ha_elector_paused(c[who].e));
    int64_t t0 = now_ms();
    ASSERT_EQ(wait_leader(c, 2, 4 * RETRY_MS + SLACK_MS), other);
    printf("# take-over after pause: %lld ms\n", (long long)(now_ms() - t0));
    ASSERT_TRUE(token_of(&c[other]) > tok);
    ASSERT_EQ(watch_count(&c[who].w, false), 1);
    /* both paused: nobody leads, the row is expired, and stays so past a lease period */
    vc_ha_elector_pause(c[other].e);
    ASSERT_EQ(only_leader(c, 2), -1);
    vc_sleep_ms(LEASE_MS + 2 * RETRY_MS);
    ASSERT_EQ(only_leader(c, 2), -1);
    vc_ha_lease_t s;
    ASSERT_OK(vc_ha_status(c[0].db, SVC, "", &s));
    ASSERT_FALSE(s.live);
    int64_t last = s.token;
    /* resume one: it leads with a new token */
    vc_ha_elector_resume(c[who].e);
    ASSERT_FALSE(vc_ha_elector_paused(c[who].e));
    ASSERT_EQ(wait_leader(c, 2, 4 * RETRY_MS + SLACK_MS), who);
    ASSERT_TRUE(token_of(&c[who]) > last);
    cand_stop(&c[0]);
    cand_stop(&c[1]);
}

static void test_elector_promote(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    cand_t c[2];
    ASSERT_TRUE(cand_start(&c[0], dsn, "a", false, false));
    ASSERT_EQ(wait_leader(c, 1, LEASE_MS * 4), 0);
    ASSERT_TRUE(cand_start(&c[1], dsn, "b", true, false)); /* a paused standby */
    int64_t tok = token_of(&c[0]);
    /* refused while a leads */
    ASSERT_EQ(vc_ha_elector_promote(c[1].e, false), -EBUSY);
    ASSERT_EQ(only_leader(c, 2), 0);
    /* forced: b leads at once (and is resumed), a's token is dead at once, a steps down at
     * its next renew */
    ASSERT_OK(vc_ha_elector_promote(c[1].e, true));
    ASSERT_FALSE(vc_ha_elector_paused(c[1].e));
    int64_t btok = -1;
    ASSERT_TRUE(vc_ha_is_leader(c[1].e, &btok));
    ASSERT_EQ(btok, tok + 1);
    ASSERT_EQ(fenced_write(c[0].db, vc_ha_elector_holder(c[0].e), tok), VC_ESTALE);
    int64_t t0 = now_ms();
    while (vc_ha_is_leader(c[0].e, NULL) && now_ms() - t0 < 5000)
        vc_sleep_ms(2);
    ASSERT_LT(now_ms() - t0, RETRY_MS + SLACK_MS);
    ASSERT_EQ(watch_count(&c[0].w, false), 1);
    ASSERT_EQ(fenced_write(c[1].db, vc_ha_elector_holder(c[1].e), btok), 1);
    /* it stays with b (a is a standby now) */
    vc_sleep_ms(LEASE_MS);
    ASSERT_EQ(only_leader(c, 2), 1);
    ASSERT_EQ(token_of(&c[1]), btok);
    cand_stop(&c[0]);
    cand_stop(&c[1]);
}

/* ---- tests: electors in forked processes ---- */

/* Commands from the parent: the child runs until its command pipe closes. Events to the
 * parent, one per line: "H <holder>", "S <token>" (started), "T" (stopped), "R <leader> <r>"
 * (first thing after the process was stopped for longer than a lease: is_leader, and a fenced
 * write with the last token it led with). */
typedef struct child {
    pid_t pid;
    int cmd;    /* write end; closed = stop */
    int events; /* read end */
    char holder[VC_HA_HOLDER_MAX];
    char buf[512];
    size_t len;
} child_t;

static void child_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void child_say(int fd, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0 && write(fd, line, (size_t)VC_MIN(n, (int)sizeof(line) - 1)) < 0)
        _exit(3);
}

static int child_fd; /* for the callbacks */

static void child_started(int64_t token, void *userdata)
{
    child_say(child_fd, "S %lld\n", (long long)token);
}

static void child_stopped(void *userdata)
{
    child_say(child_fd, "T\n");
}

/* Never returns. writer: fenced writes in a loop while leading. */
static void child_main(const char *dsn, int cmd, int events, bool writer)
{
    child_fd = events;
    vc_db_t *db = NULL;
    if (vc_db_open(dsn, &(vc_db_options_t){.max_conns = 3}, &db, NULL) < 0)
        _exit(4);
    vc_ha_elector_t *e = NULL;
    vc_ha_elector_options_t o = {.service = SVC,
                                 .holder_base = "child",
                                 .config = fast,
                                 .on_started_leading = child_started,
                                 .on_stopped_leading = child_stopped};
    if (vc_ha_elector_new(db, &o, &e) < 0)
        _exit(5);
    child_say(events, "H %s\n", vc_ha_elector_holder(e));
    fcntl(cmd, F_SETFL, O_NONBLOCK);
    int64_t last = -1, loop_ms = now_ms();
    for (;;) {
        char ch;
        ssize_t n = read(cmd, &ch, 1);
        if (n == 0)
            break;
        int64_t prev = loop_ms;
        loop_ms = now_ms();
        if (loop_ms - prev > LEASE_MS) { /* this process was stopped */
            int64_t tok = -1;
            bool leader = vc_ha_is_leader(e, &tok);
            int r = fenced_write(db, vc_ha_elector_holder(e), last);
            child_say(events, "R %d %d\n", leader ? 1 : 0, r);
        }
        int64_t tok;
        if (vc_ha_is_leader(e, &tok)) {
            last = tok;
            if (writer)
                (void)fenced_write(db, vc_ha_elector_holder(e), tok);
        }
        vc_sleep_ms(writer ? 1 : 5);
    }
    vc_ha_elector_free(e);
    vc_db_free(db);
    _exit(0); /* not exit(): the harness's atexit handlers belong to the parent */
}

/* The parent's ends of every live child's pipes: a new child closes them, else a command pipe
 * would never read EOF while a sibling still holds its write end. */
static int parent_fds[16];
static size_t n_parent_fds;

static void forget_fd(int fd)
{
    for (size_t i = 0; i < n_parent_fds; i++)
        if (parent_fds[i] == fd) {
            parent_fds[i] = parent_fds[--n_parent_fds];
            return;
        }
}

static bool child_spawn(child_t *ch, const char *dsn, bool writer)
{
    int cmd[2], ev[2];
    *ch = (child_t){.pid = -1, .cmd = -1, .events = -1};
    if (pipe(cmd) < 0 || pipe(ev) < 0)
        return VC_FAIL_("pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return VC_FAIL_("fork");
    if (pid == 0) {
        close(cmd[1]);
        close(ev[0]);
        for (size_t i = 0; i < n_parent_fds; i++)
            close(parent_fds[i]);
        child_main(dsn, cmd[0], ev[1], writer);
    }
    close(cmd[0]);
    close(ev[1]);
    ch->pid = pid;
    ch->cmd = cmd[1];
    ch->events = ev[0];
    if (n_parent_fds + 2 <= VC_ELEMENTSOF(parent_fds)) {
        parent_fds[n_parent_fds++] = ch->cmd;
        parent_fds[n_parent_fds++] = ch->events;
    }
    return true;
}

/* Next event line of ch into line (without '\n'); false on timeout or EOF. */
static bool child_event(child_t *ch, char *line, size_t size, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(ch->buf, '\n', ch->len);
        if (nl) {
            size_t n = (size_t)(nl - ch->buf);
            snprintf(line, size, "%.*s", (int)n, ch->buf);
            memmove(ch->buf, nl + 1, ch->len - n - 1);
            ch->len -= n + 1;
            if (line[0] == 'H')
                snprintf(ch->holder, sizeof(ch->holder), "%.*s", (int)sizeof(ch->holder) - 1, line + 2);
            return true;
        }
        int left = (int)(end - now_ms());
        if (left <= 0 || ch->len == sizeof(ch->buf))
            return false;
        struct pollfd p = {.fd = ch->events, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t k = read(ch->events, ch->buf + ch->len, sizeof(ch->buf) - ch->len);
        if (k <= 0)
            return false;
        ch->len += (size_t)k;
    }
}

/* Waits for an event starting with prefix, skipping others. */
static bool child_expect(child_t *ch, char prefix, char *line, size_t size, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (child_event(ch, line, size, (int)(end - now_ms())))
        if (line[0] == prefix)
            return true;
    return false;
}

/* Closes the command pipe (the child frees its elector and exits) or kills; returns the
 * child's exit status. */
static int child_reap(child_t *ch, bool kill_it)
{
    if (ch->pid <= 0)
        return 0;
    if (kill_it)
        kill(ch->pid, SIGKILL);
    forget_fd(ch->cmd);
    forget_fd(ch->events);
    if (ch->cmd >= 0)
        close(ch->cmd);
    int st = 0;
    waitpid(ch->pid, &st, 0);
    if (ch->events >= 0)
        close(ch->events);
    ch->pid = -1;
    ch->cmd = ch->events = -1;
    return st;
}

/* sqlite only: true when nobody holds the write lock (a stopped process might). */
static bool write_lock_free(const char *dsn)
{
    if (use_pg)
        return true;
    _cleanup_(vc_db_freep) vc_db_t *db = NULL;
    if (vc_db_open(dsn, &(vc_db_options_t){.max_conns = 1, .busy_timeout_ms = -1}, &db, NULL) < 0)
        return false;
    vc_db_conn_t *c;
    if (vc_db_acquire(db, -1, &c) < 0)
        return false;
    bool ok = vc_db_begin(c, VC_DB_READ_COMMITTED) >= 0;
    if (ok)
        (void)vc_db_rollback(c);
    vc_db_release(c);
    return ok;
}

/* A leader process stopped (SIGSTOP) past its deadline: a standby takes over within a lease
 * period; resumed, it reports not-leader at once and its fenced write with the old token fails. */
static void test_sigstop(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    char line[256];
    child_t ch;
    ASSERT_TRUE(child_spawn(&ch, dsn, false));
    bool ok = child_expect(&ch, 'S', line, sizeof(line), 5000);
    if (!ok) {
        child_reap(&ch, true);
        ASSERT_TRUE(ok);
    }
    int64_t child_tok = strtoll(line + 2, NULL, 10);
    cand_t c[1];
    ASSERT_TRUE(cand_start(&c[0], dsn, "parent", false, false));
    vc_sleep_ms(2 * RETRY_MS);
    ASSERT_EQ(only_leader(c, 1), -1);
    /* stop it outside a write transaction: on sqlite a process frozen inside one blocks every
     * writer, so there would be no take-over until it resumes (a documented limitation) */
    int64_t t0 = 0;
    for (int i = 0; i < 50; i++) {
        kill(ch.pid, SIGSTOP);
        t0 = now_ms();
        vc_sleep_ms(5);
        if (write_lock_free(dsn))
            break;
        kill(ch.pid, SIGCONT);
        vc_sleep_ms(20);
    }
    int who = wait_leader(c, 1, LEASE_MS + 2 * RETRY_MS + SLACK_MS);
    int64_t dt = now_ms() - t0;
    int64_t tok = who == 0 ? token_of(&c[0]) : -1;
    printf("# take-over from a stopped leader: %lld ms (lease %d ms)\n", (long long)dt, LEASE_MS);
    vc_sleep_ms(VC_MAX(0, 2 * LEASE_MS - dt)); /* stopped well past its deadline */
    kill(ch.pid, SIGCONT);
    ok = child_expect(&ch, 'R', line, sizeof(line), 5000);
    int st = child_reap(&ch, false);
    ASSERT_EQ(who, 0);
    ASSERT_TRUE(tok > child_tok);
    ASSERT_TRUE(ok);
    int leader = -1, r = 0;
    ASSERT_EQ(sscanf(line, "R %d %d", &leader, &r), 2);
    ASSERT_EQ(leader, 0);
    ASSERT_EQ(r, VC_ESTALE);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ASSERT_EQ(fenced_write(c[0].db, vc_ha_elector_holder(c[0].e), tok), 1);
    ASSERT_EQ(only_leader(c, 1), 0);
    cand_stop(&c[0]);
}

/* Three processes doing fenced writes while leading; the leader is SIGKILLed. A new leader
 * appears within a lease period; in commit order the tokens never go down and no token was
 * used by two holders. */
static void test_forked_writers(void)
{
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    enum { N = 3 };
    child_t ch[N];
    char line[256];
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(child_spawn(&ch[i], dsn, true));
    int leader = -1;
    int64_t end = now_ms() + 5000;
    while (leader < 0 && now_ms() < end)
        for (int i = 0; i < N && leader < 0; i++)
            if (child_event(&ch[i], line, sizeof(line), 10) && line[0] == 'S')
                leader = i;
    if (leader < 0) {
        for (int i = 0; i < N; i++)
            child_reap(&ch[i], true);
        ASSERT_GE(leader, 0);
    }
    vc_sleep_ms(300);
    int64_t t0 = now_ms();
    child_reap(&ch[leader], true);
    int next = -1;
    end = now_ms() + LEASE_MS + 2 * RETRY_MS + SLACK_MS;
    while (next < 0 && now_ms() < end)
        for (int i = 0; i < N && next < 0; i++)
            if (i != leader && child_event(&ch[i], line, sizeof(line), 5) && line[0] == 'S')
                next = i;
    int64_t dt = now_ms() - t0;
    vc_sleep_ms(300);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int st = child_reap(&ch[i], false);
        if (i != leader && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            bad++;
    }
    printf("# take-over from a killed leader process: %lld ms (lease %d ms)\n", (long long)dt, LEASE_MS);
    ASSERT_GE(next, 0);
    ASSERT_EQ(bad, 0);
    _cleanup_(vc_db_freep) vc_db_t *db = open_db(dsn);
    ASSERT_NOTNULL(db);
    int64_t writes = query_int(db, "SELECT count(*) FROM ha_writes");
    printf("# %lld fenced writes by %lld holders\n", (long long)writes,
           (long long)query_int(db, "SELECT count(DISTINCT holder) FROM ha_writes"));
    ASSERT_GE(query_int(db, "SELECT count(DISTINCT holder) FROM ha_writes"), 2);
    ASSERT_EQ(query_int(db, "SELECT count(*) FROM (SELECT token FROM ha_writes GROUP BY token "
                            "HAVING count(DISTINCT holder) > 1) x"),
              0);
    ASSERT_EQ(query_int(db, "SELECT count(*) FROM (SELECT token, LAG(token) OVER (ORDER BY seq) AS prev "
                            "FROM ha_writes) x WHERE prev > token"),
              0);
}

/* ---- PostgreSQL: partition and restart ---- */

static int admin_exec(vc_db_t *db, const char *sql)
{
    vc_db_conn_t *c;
    int r = vc_db_acquire(db, -1, &c);
    if (r < 0)
        return r;
    r = vc_db_exec_script(c, sql);
    if (r < 0)
        VC_FAIL_("%s: %s", sql, vc_db_errmsg(c));
    vc_db_release(c);
    return r;
}

static int admin_execf(vc_db_t *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int admin_execf(vc_db_t *db, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return admin_exec(db, sql);
}

/* The leader's connections are closed (pg_terminate_backend) and cannot come back (its role
 * lost CONNECT): it stops acting by its renew deadline, a standby takes over, and once the
 * network "heals" the old leader's write with its old token is refused. */
static void test_pg_partition(void)
{
    if (!use_pg)
        return;
    const char *dsn = fresh_dsn();
    ASSERT_NOTNULL(dsn);
    _cleanup_(vc_db_freep) vc_db_t *admin = open_db(dsn);
    ASSERT_NOTNULL(admin);
    char role[64], dbname[128] = "", leader_dsn[1024];
    uint32_t rnd;
    vc_random(&rnd, sizeof(rnd));
    snprintf(role, sizeof(role), "vcha_%ld_%08x", (long)getpid(), rnd);
    vc_db_conn_t *conn;
    ASSERT_OK(vc_db_acquire(admin, -1, &conn));
    char *name = NULL;
    int r = vc_db_query_text(conn, "SELECT current_database()", VC_DB_NONE, &name);
    vc_db_release(conn);
    ASSERT_OK(r);
    snprintf(dbname, sizeof(dbname), "%s", name);
    free(name);
    ASSERT_OK(admin_execf(admin, "CREATE ROLE %s LOGIN", role));
    ASSERT_OK(admin_execf(admin,
                          "GRANT SELECT, INSERT, UPDATE ON vc_leases, ha_writes, schema_version TO %s; "
                          "GRANT USAGE ON SEQUENCE ha_writes_seq_seq TO %s; "
                          "GRANT USAGE, CREATE ON SCHEMA public TO %s",
                          role, role, role));
    snprintf(leader_dsn, sizeof(leader_dsn), "%s%suser=%s", dsn, strchr(dsn, '?') ? "&" : "?", role);

    cand_t c[2];
    ASSERT_TRUE(cand_start(&c[0], leader_dsn, "partitioned", false, false));
    ASSERT_OK(vc_db_acquire(c[0].db, -1, &conn));
    r = vc_db_query_text(conn, "SELECT CAST(current_user AS TEXT)", VC_DB_NONE, &name);
    vc_db_release(conn);
    ASSERT_OK(r);
    bool as_role = vc_streq(name, role);
    free(name);
    ASSERT_TRUE(as_role);
    ASSERT_EQ(wait_leader(c, 1, LEASE_MS * 4), 0);
    ASSERT_TRUE(cand_start(&c[1], dsn, "standby", false, false));
    int64_t tok = token_of(&c[0]);
    ASSERT_EQ(fenced_write(c[0].db, vc_ha_elector_holder(c[0].e), tok), 1);

    /* partition */
    ASSERT_OK(admin_execf(admin, "REVOKE CONNECT ON DATABASE %s FROM PUBLIC", dbname));
    int64_t t0 = now_ms();
    ASSERT_OK(admin_execf(
        admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '%s'", role));
    while (vc_ha_is_leader(c[0].e, NULL) && now_ms() - t0 < 5000)
        vc_sleep_ms(2);
    int64_t stop_dt = now_ms() - t0;
    int who = wait_leader(c, 2, LEASE_MS + 2 * RETRY_MS + SLACK_MS);
    int64_t take_dt = now_ms() - t0;
    printf("# partition: leader stops acting after %lld ms, standby leads after %lld ms\n",
           (long long)stop_dt, (long long)take_dt);
    ASSERT_TRUE(stop_dt <= RENEW_MS + 100);
    ASSERT_EQ(who, 1);
    int64_t tok2 = token_of(&c[1]);
    ASSERT_TRUE(tok2 > tok);
    /* the partitioned side cannot write at all */
    ASSERT_ERR(fenced_write(c[0].db, vc_ha_elector_holder(c[0].e), tok));

    /* heal: the old token is refused, the standby keeps leading */
    ASSERT_OK(admin_execf(admin, "GRANT CONNECT ON DATABASE %s TO PUBLIC", dbname));
    ASSERT_EQ(fenced_write(c[0].db, vc_ha_elector_holder(c[0].e), tok), VC_ESTALE);
    vc_sleep_ms(LEASE_MS);
    ASSERT_EQ(only_leader(c, 2), 1);
    ASSERT_EQ(token_of(&c[1]), tok2);
    ASSERT_EQ(fenced_write(c[1].db, vc_ha_elector_holder(c[1].e), tok2), 1);
    ASSERT_TRUE(watch_count(&c[0].w, false) == 1);
    cand_stop(&c[0]);
    cand_stop(&c[1]);
    ASSERT_OK(admin_execf(admin, "DROP OWNED BY %s; DROP ROLE %s", role, role));
}

static int fixture(const char *cmd, const char *state, const char *arg)
{
    const char *script = getenv("VC_PG_FIXTURE");
    const char *argv[] = {"/bin/sh", script, cmd, state, arg, NULL};
    char *out = NULL, *err = NULL;
    int r = vc_test_run_cmd(argv, &out, &err);
    if (r != 0)
        fprintf(stderr, "# pg-fixture %s: exit %d: %s%s\n", cmd, r, out ? out : "", err ? err : "");
    free(out);
    free(err);
    return r;
}

typedef struct restart_job {
    const char *state, *down_s;
    int result;
    atomic_bool done;
} restart_job_t;

static void *restart_thread(void *arg)
{
    restart_job_t *j = arg;
    j->result = fixture("restart", j->state, j->down_s);
    atomic_store(&j->done, true);
    return NULL;
}

/* Restarts the server, down for down_s seconds, watching the candidates meanwhile. A short
 * restart may keep the term; one longer than the renew deadline (must_lose) ends it. Either
 * way one leader afterwards, whose fenced writes pass, and an old token that changed fails. */
static void restart_round(cand_t *c, const char *state, const char *down_s, bool must_lose)
{
    int who = wait_leader(c, 2, LEASE_MS * 4);
    ASSERT_GE(who, 0);
    int64_t tok = token_of(&c[who]);
    int stops = watch_count(&c[who].w, false);
    restart_job_t j = {.state = state, .down_s = down_s};
    pthread_t th;
    int64_t t0 = now_ms(), false_at = -1;
    ASSERT_EQ(pthread_create(&th, NULL, restart_thread, &j), 0);
    while (!atomic_load(&j.done)) {
        if (false_at < 0 && !vc_ha_is_leader(c[who].e, NULL))
            false_at = now_ms() - t0;
        (void)only_leader(c, 2);
        vc_sleep_ms(2);
    }
    pthread_join(th, NULL);
    int64_t restart_ms = now_ms() - t0;
    ASSERT_EQ(j.result, 0);
    int next = wait_leader(c, 2, 20000);
    int64_t tok2 = next >= 0 ? token_of(&c[next]) : -1;
    printf("# database down %s s: restart took %lld ms, leader stopped acting at %lld ms, a leader "
           "%lld ms after it began (token %lld -> %lld)\n",
           down_s, (long long)restart_ms, (long long)false_at, (long long)(now_ms() - t0), (long long)tok,
           (long long)tok2);
    ASSERT_GE(next, 0);
    ASSERT_GE(tok2, tok);
    if (must_lose) {
        ASSERT_TRUE(false_at >= 0 && false_at < restart_ms);
        ASSERT_TRUE(tok2 > tok);
        ASSERT_TRUE(watch_count(&c[who].w, false) > stops);
    }
    for (int i = 0; i < 100; i++) { /* one leader, over more than a lease period */
        ASSERT_EQ(only_leader(c, 2), next);
        vc_sleep_ms(10);
    }
    ASSERT_EQ(fenced_write(c[next].db, vc_ha_elector_holder(c[next].e), token_of(&c[next])), 1);
    if (tok2 != tok)
        ASSERT_EQ(fenced_write(c[who].db, vc_ha_elector_holder(c[who].e), tok), VC_ESTALE);
}

static void restart_case(const char *dsn, const char *state)
{
    _cleanup_(vc_db_freep) vc_db_t *db = open_db(dsn);
    ASSERT_NOTNULL(db);
    ASSERT_OK(vc_ha_ensure_schema(db));
    ASSERT_OK(
        admin_exec(db, "CREATE TABLE ha_writes (seq BIGSERIAL PRIMARY KEY, token BIGINT, holder TEXT)"));
    cand_t c[2];
    ASSERT_TRUE(cand_start(&c[0], dsn, "a", false, false));
    ASSERT_TRUE(cand_start(&c[1], dsn, "b", false, false));
    restart_round(c, state, "0", false);
    if (vc_test_failed == 0)
        restart_round(c, state, "1", true);
    cand_stop(&c[0]);
    cand_stop(&c[1]);
}

/* Database restarts (pg_ctl stop -m fast, start) on a private server, so that the shared fixture
 * stays up for the tests running beside this one. */
static void test_pg_restart(void)
{
    if (!use_pg)
        return;
    if (vc_strempty(getenv("VC_PG_FIXTURE"))) {
        printf("# VC_PG_FIXTURE not set: database restart not tested\n");
        return;
    }
    char state[512], *dsn = NULL;
    snprintf(state, sizeof(state), "%s/pg-private", vc_test_tmpdir());
    ASSERT_EQ(fixture("start", state, NULL), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/pg.dsn", state);
    dsn = vc_read_trimmed(path, 1024);
    if (dsn)
        restart_case(dsn, state);
    else
        VC_FAIL_("no %s", path);
    free(dsn);
    (void)fixture("stop", state, NULL);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    use_pg = vc_test_has_flag("--pg");
    if (use_pg && !vc_test_pg_dsn()) {
        printf("# --pg: no PostgreSQL DSN (set VC_PG_DSN or VC_PG_DSN_FILE); skipping\n");
        return 77;
    }
    printf("# backend: %s\n", use_pg ? "postgres" : "sqlite");
    VC_TEST_RUN(test_config);
    VC_TEST_RUN(test_holder_id);
    VC_TEST_RUN(test_schema);
    VC_TEST_RUN(test_acquire_renew);
    VC_TEST_RUN(test_fence);
    VC_TEST_RUN(test_promote);
    /* forked tests first, while this process has no other threads */
    VC_TEST_RUN(test_sigstop);
    VC_TEST_RUN(test_forked_writers);
    VC_TEST_RUN(test_electors);
    VC_TEST_RUN(test_stuck_thread);
    VC_TEST_RUN(test_pause_resume);
    VC_TEST_RUN(test_elector_promote);
    VC_TEST_RUN(test_pg_partition);
    VC_TEST_RUN(test_pg_restart);
    return VC_TEST_DONE();
}
