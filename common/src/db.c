/*
 * db.c: the backend-independent half of db.h: DSN parsing, the connection pool, error
 * messages, transactions with retry, `?` rewriting, migrations and the DB clock.
 */
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "db-internal.h"
#include "vc/log.h"
#include "vc/util.h"

struct vc_db {
    vc_db_backend_t backend;
    const db_ops_t *ops;
    char *target; /* what the backend's connect() gets */
    vc_db_options_t opts;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    vc_db_conn_t *idle;
    unsigned total;      /* open connections plus ones being opened */
    uint64_t tx_retries; /* under lock */
    /* sqlite: one writing transaction at a time inside this process. Without it concurrent
     * BEGIN IMMEDIATE calls meet SQLITE_BUSY and sleep in sqlite's busy handler (1-100 ms steps),
     * which made contended writes slow; the file lock still guards other processes. */
    pthread_mutex_t sqlite_writer;
    /* sqlite file databases: a thread with a connection of its own checkpoints the WAL each
     * time commits added opts.wal_checkpoint_pages frames to it (vc_db_wal_grew). */
    vc_db_conn_t *ckpt_conn;
    pthread_t ckpt_thread;
    bool ckpt_wanted, ckpt_stop; /* under lock; ckpt_cond */
    int wal_seen, ckpt_due;      /* under lock: the WAL's size at the last commit, and when due */
    uint64_t ckpt_runs;          /* under lock: checkpoints done (tests) */
    pthread_cond_t ckpt_cond;
};

/* Set while this thread holds some pool's sqlite_writer: a nested vc_db_tx then skips the lock
 * (and meets the file lock's busy timeout as before) instead of hanging. */
static _Thread_local bool holds_sqlite_writer;

static _Thread_local char thread_errmsg[DB_ERRMSG_MAX];

/* ---- errors ---- */

int vc_db_set_error(vc_db_conn_t *c, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
    memcpy(thread_errmsg, c->errmsg, sizeof(thread_errmsg));
    return r;
}

void vc_db_clear_error(vc_db_conn_t *c)
{
    c->errmsg[0] = 0;
}

const char *vc_db_errmsg(const vc_db_conn_t *c)
{
    return c ? c->errmsg : "";
}

const char *vc_db_last_errmsg(void)
{
    return thread_errmsg;
}

static void set_reterr(char **reterr_msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reterr(char **reterr_msg, const char *fmt, ...)
{
    char buf[DB_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    memcpy(thread_errmsg, buf, sizeof(thread_errmsg));
    if (reterr_msg)
        *reterr_msg = strdup(buf);
}

/* ---- DSN ---- */

static const char *const pg_keywords[] = {
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "service",
    "sslmode",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "channel_binding",
};

static bool is_pg_keyvalue(const char *dsn)
{
    while (*dsn == ' ' || *dsn == '\t')
        dsn++;
    size_t n = 0;
    while (dsn[n] == '_' || isalpha((unsigned char)dsn[n]))
        n++;
    const char *p = dsn + n;
    while (*p == ' ')
        p++;
    if (n == 0 || *p != '=')
        return false;
    for (size_t i = 0; i < VC_ELEMENTSOF(pg_keywords); i++)
        if (strlen(pg_keywords[i]) == n && strncmp(pg_keywords[i], dsn, n) == 0)
            return true;
    return false;
}

/* *ret_target points into dsn. */
static int parse_dsn(const char *dsn, vc_db_backend_t *ret, const char **ret_target)
{
    if (vc_strempty(dsn))
        return -EINVAL;
    if (strncmp(dsn, "postgres://", 11) == 0 || strncmp(dsn, "postgresql://", 13) == 0 ||
        is_pg_keyvalue(dsn)) {
        *ret = VC_DB_POSTGRES;
        *ret_target = dsn;
        return 0;
    }
    const char *t = dsn;
    if (strncmp(t, "sqlite:", 7) == 0) {
        t += 7;
        if (strncmp(t, "//", 2) == 0)
            t += 2;
    }
    if (!*t)
        return -EINVAL;
    *ret = VC_DB_SQLITE;
    *ret_target = t;
    return 0;
}

int vc_db_dsn_backend(const char *dsn, vc_db_backend_t *ret)
{
    const char *t;
    vc_db_backend_t b;
    int r = parse_dsn(dsn, &b, &t);
    if (r < 0)
        return r;
    *ret = b;
    return 0;
}

const char *vc_db_backend_name(vc_db_backend_t b)
{
    return b == VC_DB_POSTGRES ? "postgres" : b == VC_DB_SQLITE ? "sqlite" : "unknown";
}

vc_db_backend_t vc_db_backend(const vc_db_t *db)
{
    return db->backend;
}

vc_db_backend_t vc_db_conn_backend(const vc_db_conn_t *c)
{
    return c->backend;
}

/* ---- pool ---- */

static void close_conn(vc_db_conn_t *c)
{
    c->ops->close(c);
}

/*
 * Under a steady write load a PASSIVE checkpoint never lets the WAL start over (new frames keep
 * coming while it copies), so "the WAL is past the mark" would stay true and wake the thread at
 * every commit: hundreds of checkpoints, each with its fsync, per second. Instead the thread is
 * woken once per wal_checkpoint_pages new frames; a smaller size than last time means the WAL
 * started over.
 */
bool vc_db_wal_grew(vc_db_t *db, int pages)
{
    int at = db->opts.wal_checkpoint_pages;
    pthread_mutex_lock(&db->lock);
    if (pages < db->wal_seen || db->ckpt_due <= 0)
        db->ckpt_due = at;
    db->wal_seen = pages;
    if (pages >= db->ckpt_due && !db->ckpt_wanted) {
        db->ckpt_wanted = true;
        db->ckpt_due = pages + at;
        pthread_cond_signal(&db->ckpt_cond);
    }
    pthread_mutex_unlock(&db->lock);
    return pages >= 8 * at;
}

/*
 * One round: PASSIVE checkpoints copy the WAL into the database while writers go on, each
 * catching up with what was written during the one before (a few at most). Under a steady load
 * that never lets the WAL start over (it restarts only when a writer begins with all of it
 * copied); the committing connection's own checkpoint at 8 times the mark (vc_db_wal_grew) does
 * that, copying only what this thread has not. Making writers wait for a checkpoint here more
 * often (one fsync, ~10-20 ms on a VM disk) doubled the p99 of PushMessage.
 */
#define CKPT_LEFT_SMALL 64
#define CKPT_TRIES 4

static int ckpt_round(vc_db_t *db)
{
    int left = 0, r = 0;
    for (int i = 0; i < CKPT_TRIES && r >= 0; i++) {
        r = db->ops->checkpoint(db->ckpt_conn, &left);
        if (left <= CKPT_LEFT_SMALL)
            break;
    }
    return r;
}

static void *ckpt_main(void *arg)
{
    vc_db_t *db = arg;
    pthread_mutex_lock(&db->lock);
    for (;;) {
        while (!db->ckpt_wanted && !db->ckpt_stop)
            pthread_cond_wait(&db->ckpt_cond, &db->lock);
        if (db->ckpt_stop)
            break;
        db->ckpt_wanted = false;
        pthread_mutex_unlock(&db->lock);
        int r = ckpt_round(db);
        if (r < 0)
            vc_debug("db: WAL checkpoint: %s", vc_db_errmsg(db->ckpt_conn));
        pthread_mutex_lock(&db->lock);
        db->ckpt_runs++;
    }
    pthread_mutex_unlock(&db->lock);
    return NULL;
}

/* sqlite file databases: the checkpoint thread and its connection (without, sqlite's own
 * autocheckpoint stays on). */
static int ckpt_start(vc_db_t *db, char *err, size_t errlen)
{
    if (db->opts.wal_checkpoint_pages <= 0 || !db->ops->checkpoint)
        return 0;
    vc_db_options_t o = db->opts;
    o.wal_checkpoint_pages = -1; /* its own commits (none) need no hook */
    int r = db->ops->connect(db, db->target, &o, &db->ckpt_conn, err, errlen);
    if (r < 0)
        return r;
    if (pthread_create(&db->ckpt_thread, NULL, ckpt_main, db) != 0) {
        close_conn(db->ckpt_conn);
        db->ckpt_conn = NULL;
        return -EAGAIN;
    }
    return 0;
}

static void ckpt_stop(vc_db_t *db)
{
    if (!db->ckpt_conn)
        return;
    pthread_mutex_lock(&db->lock);
    db->ckpt_stop = true;
    pthread_cond_signal(&db->ckpt_cond);
    pthread_mutex_unlock(&db->lock);
    pthread_join(db->ckpt_thread, NULL);
    close_conn(db->ckpt_conn);
    db->ckpt_conn = NULL;
}

int vc_db_open(const char *dsn, const vc_db_options_t *opts, vc_db_t **ret, char **reterr_msg)
{
    vc_db_backend_t backend;
    const char *target;
    if (parse_dsn(dsn, &backend, &target) < 0) {
        set_reterr(reterr_msg, "invalid database DSN '%s'", dsn ? dsn : "");
        return -EINVAL;
    }
    vc_db_t *db = calloc(1, sizeof(*db));
    if (!db)
        return -ENOMEM;
    db->backend = backend;
    db->ops = backend == VC_DB_POSTGRES ? &vc_db_pg_ops : &vc_db_sqlite_ops;
    db->target = strdup(target);
    if (!db->target) {
        free(db);
        return -ENOMEM;
    }
    if (opts)
        db->opts = *opts;
    if (db->opts.max_conns == 0)
        db->opts.max_conns = 8;
    if (db->opts.acquire_timeout_ms <= 0)
        db->opts.acquire_timeout_ms = 10000;
    if (db->opts.busy_timeout_ms == 0)
        db->opts.busy_timeout_ms = 5000;
    if (db->opts.connect_timeout_ms <= 0)
        db->opts.connect_timeout_ms = 10000;
    if (db->opts.pg_idle_tx_timeout_ms == 0)
        db->opts.pg_idle_tx_timeout_ms = 5000;
    if (db->opts.tx_max_retries == 0)
        db->opts.tx_max_retries = 10;
    if (db->opts.isolation >= VC_DB_ISOLATION_MAX)
        db->opts.isolation = VC_DB_READ_COMMITTED;
    if (db->opts.stmt_cache_size == 0)
        db->opts.stmt_cache_size = 64;
    if (db->opts.wal_checkpoint_pages == 0)
        db->opts.wal_checkpoint_pages = 4000;
    if (backend != VC_DB_SQLITE)
        db->opts.wal_checkpoint_pages = -1;
    if (backend == VC_DB_SQLITE && (strstr(target, ":memory:") || strstr(target, "mode=memory"))) {
        db->opts.max_conns = 1; /* every connection would be a different database */
        db->opts.wal_checkpoint_pages = -1;
    }

    vc_cond_init_monotonic(&db->cond);
    pthread_cond_init(&db->ckpt_cond, NULL);
    pthread_mutex_init(&db->lock, NULL);
    pthread_mutex_init(&db->sqlite_writer, NULL);

    /* Open one connection now: a bad DSN fails here, and sqlite's WAL switch happens once. */
    char err[DB_ERRMSG_MAX] = "";
    vc_db_conn_t *c = NULL;
    int r = db->ops->connect(db, db->target, &db->opts, &c, err, sizeof(err));
    if (r < 0)
        goto fail;
    db->idle = c;
    db->total = 1;
    if ((r = ckpt_start(db, err, sizeof(err))) < 0)
        goto fail;
    *ret = db;
    return 0;
fail:
    set_reterr(reterr_msg, "%s", err[0] ? err : vc_strerror(r));
    vc_db_free(db);
    return r;
}

vc_db_t *vc_db_free(vc_db_t *db)
{
    if (!db)
        return NULL;
    ckpt_stop(db);
    pthread_mutex_lock(&db->lock);
    vc_db_conn_t *c = db->idle;
    db->idle = NULL;
    pthread_mutex_unlock(&db->lock);
    while (c) {
        vc_db_conn_t *next = c->next;
        close_conn(c);
        db->total--;
        c = next;
    }
    if (db->total != 0)
        vc_debug("db: pool freed with %u connections still acquired", db->total);
    pthread_mutex_destroy(&db->lock);
    pthread_mutex_destroy(&db->sqlite_writer);
    pthread_cond_destroy(&db->cond);
    pthread_cond_destroy(&db->ckpt_cond);
    free(db->target);
    free(db);
    return NULL;
}

int vc_db_acquire(vc_db_t *db, int64_t timeout_ms, vc_db_conn_t **ret)
{
    struct timespec deadline;
    vc_deadline_mono(&deadline, timeout_ms < 0 ? db->opts.acquire_timeout_ms : timeout_ms);
    vc_db_conn_t *c = NULL;
    bool create = false;

    pthread_mutex_lock(&db->lock);
    for (;;) {
        if (db->idle) {
            c = db->idle;
            db->idle = c->next;
            c->next = NULL;
            break;
        }
        if (db->total < db->opts.max_conns) {
            db->total++;
            create = true;
            break;
        }
        int rc = pthread_cond_timedwait(&db->cond, &db->lock, &deadline);
        if (rc == ETIMEDOUT && !db->idle && db->total >= db->opts.max_conns) {
            pthread_mutex_unlock(&db->lock);
            snprintf(thread_errmsg, sizeof(thread_errmsg), "timed out waiting for a database connection");
            return -ETIMEDOUT;
        }
    }
    pthread_mutex_unlock(&db->lock);

    int r = 0;
    if (create) {
        char err[DB_ERRMSG_MAX] = "";
        r = db->ops->connect(db, db->target, &db->opts, &c, err, sizeof(err));
        if (r < 0)
            snprintf(thread_errmsg, sizeof(thread_errmsg), "%s", err[0] ? err : vc_strerror(r));
    } else if (c->broken) {
        r = c->ops->reset(c);
        if (r < 0) {
            close_conn(c);
            c = NULL;
        }
    }
    if (r < 0) {
        pthread_mutex_lock(&db->lock);
        db->total--;
        pthread_cond_signal(&db->cond);
        pthread_mutex_unlock(&db->lock);
        return r;
    }
    vc_db_clear_error(c);
    *ret = c;
    return 0;
}

void vc_db_release(vc_db_conn_t *c)
{
    if (!c)
        return;
    vc_db_t *db = c->db;
    if (!c->broken && c->ops->in_tx(c))
        (void)c->ops->exec_script(c, "ROLLBACK");
    pthread_mutex_lock(&db->lock);
    if (c->broken) {
        /* Drop it; the next acquire opens a fresh connection. */
        db->total--;
        pthread_cond_signal(&db->cond);
        pthread_mutex_unlock(&db->lock);
        close_conn(c);
        return;
    }
    c->next = db->idle;
    db->idle = c;
    pthread_cond_signal(&db->cond);
    pthread_mutex_unlock(&db->lock);
}

/* ---- statements ---- */

int vc_db_exec(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n)
{
    if (!sql)
        return -EINVAL;
    return c->ops->exec(c, sql, binds, n);
}

int vc_db_exec_script(vc_db_conn_t *c, const char *sql)
{
    if (!sql)
        return -EINVAL;
    return c->ops->exec_script(c, sql);
}

int vc_db_query(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, vc_db_rows_t **ret)
{
    if (!sql)
        return -EINVAL;
    return c->ops->query(c, sql, binds, n, ret);
}

int vc_db_rows_next(vc_db_rows_t *r)
{
    return r->conn->ops->next(r);
}

vc_db_rows_t *vc_db_rows_free(vc_db_rows_t *r)
{
    if (r)
        r->conn->ops->rows_free(r);
    return NULL;
}

int vc_db_query_row(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, vc_db_rows_t **ret)
{
    vc_db_rows_t *rows;
    int r = vc_db_query(c, sql, binds, n, &rows);
    if (r < 0)
        return r;
    r = vc_db_rows_next(rows);
    if (r <= 0) {
        vc_db_rows_free(rows);
        return r < 0 ? r : -ENOENT;
    }
    *ret = rows;
    return 0;
}

int vc_db_query_int64(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, int64_t *ret)
{
    _cleanup_(vc_db_rows_freep) vc_db_rows_t *rows = NULL;
    int r = vc_db_query_row(c, sql, binds, n, &rows);
    if (r < 0)
        return r;
    if (vc_db_col_is_null(rows, 0))
        return -ENODATA;
    *ret = vc_db_col_int64(rows, 0);
    return 0;
}

int vc_db_query_text(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, char **ret)
{
    _cleanup_(vc_db_rows_freep) vc_db_rows_t *rows = NULL;
    int r = vc_db_query_row(c, sql, binds, n, &rows);
    if (r < 0)
        return r;
    if (vc_db_col_is_null(rows, 0))
        return -ENODATA;
    size_t len;
    const char *t = vc_db_col_text(rows, 0, &len);
    char *s = malloc(len + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s, t, len);
    s[len] = 0;
    *ret = s;
    return 0;
}

int vc_db_col_count(vc_db_rows_t *r)
{
    return r->conn->ops->col_count(r);
}

bool vc_db_col_is_null(vc_db_rows_t *r, int col)
{
    return r->conn->ops->is_null(r, col);
}

int64_t vc_db_col_int64(vc_db_rows_t *r, int col)
{
    return r->conn->ops->col_int64(r, col);
}

double vc_db_col_double(vc_db_rows_t *r, int col)
{
    return r->conn->ops->col_double(r, col);
}

bool vc_db_col_bool(vc_db_rows_t *r, int col)
{
    return r->conn->ops->col_bool(r, col);
}

const char *vc_db_col_text(vc_db_rows_t *r, int col, size_t *ret_len)
{
    return r->conn->ops->col_text(r, col, ret_len);
}

const void *vc_db_col_blob(vc_db_rows_t *r, int col, size_t *ret_len)
{
    return r->conn->ops->col_blob(r, col, ret_len);
}

/* ---- transactions ---- */

/* Transaction control; on sqlite through the statement cache (no parse per transaction). */
static int tx_exec(vc_db_conn_t *c, const char *sql)
{
    int r = c->backend == VC_DB_SQLITE ? c->ops->exec(c, sql, NULL, 0) : c->ops->exec_script(c, sql);
    return r < 0 ? r : 0;
}

int vc_db_begin(vc_db_conn_t *c, vc_db_isolation_t iso)
{
    const char *sql;
    if (c->backend == VC_DB_SQLITE)
        sql = "BEGIN IMMEDIATE";
    else if (iso == VC_DB_SERIALIZABLE)
        sql = "BEGIN ISOLATION LEVEL SERIALIZABLE";
    else
        sql = "BEGIN ISOLATION LEVEL READ COMMITTED";
    return tx_exec(c, sql);
}

int vc_db_commit(vc_db_conn_t *c)
{
    /* COMMIT of a pg transaction that already failed silently rolls back: report it. */
    if (c->ops->tx_failed(c)) {
        char saved[DB_ERRMSG_MAX];
        memcpy(saved, c->errmsg, sizeof(saved));
        (void)c->ops->exec_script(c, "ROLLBACK");
        return vc_db_set_error(c, -EIO, "transaction rolled back: an earlier statement failed (%s)", saved);
    }
    return tx_exec(c, "COMMIT");
}

int vc_db_rollback(vc_db_conn_t *c)
{
    return tx_exec(c, "ROLLBACK");
}

static void backoff(unsigned attempt)
{
    int64_t cap = 5LL << VC_MIN(attempt, 7u);
    if (cap > 500)
        cap = 500;
    uint32_t rnd;
    vc_random(&rnd, sizeof(rnd));
    vc_sleep_ms(cap / 2 + (int64_t)(rnd % (uint32_t)(cap / 2 + 1)));
}

int vc_db_tx_iso(vc_db_t *db, vc_db_isolation_t iso, vc_db_fn_t fn, void *userdata)
{
    bool transport_retried = false;
    for (unsigned attempt = 0;; attempt++) {
        vc_db_conn_t *c;
        int r = vc_db_acquire(db, -1, &c);
        if (r < 0)
            return r;
        bool serialize = c->backend == VC_DB_SQLITE && !holds_sqlite_writer;
        if (serialize) {
            pthread_mutex_lock(&db->sqlite_writer);
            holds_sqlite_writer = true;
        }
        r = vc_db_begin(c, iso);
        bool begun = r >= 0;
        if (begun) {
            r = fn(c, userdata);
            if (r >= 0) {
                int k = vc_db_commit(c);
                if (k < 0)
                    r = k;
            } else {
                /* Keep fn's message: rollback must not overwrite it. */
                char saved[DB_ERRMSG_MAX];
                memcpy(saved, c->errmsg, sizeof(saved));
                (void)vc_db_rollback(c);
                memcpy(c->errmsg, saved, sizeof(saved));
                memcpy(thread_errmsg, saved, sizeof(saved));
            }
        }
        if (serialize) {
            holds_sqlite_writer = false;
            pthread_mutex_unlock(&db->sqlite_writer);
        }
        vc_db_release(c);
        /* A pooled pg connection may have died while idle (server restart, failover): if BEGIN
         * itself hit that, nothing ran, so try once more on a fresh connection. */
        if (r == VC_ETRANSPORT && !begun && !transport_retried) {
            transport_retried = true;
            continue;
        }
        if (r != -EBUSY || attempt >= db->opts.tx_max_retries)
            return r;
        pthread_mutex_lock(&db->lock);
        db->tx_retries++;
        pthread_mutex_unlock(&db->lock);
        backoff(attempt);
    }
}

uint64_t vc_db_tx_retries(vc_db_t *db)
{
    pthread_mutex_lock(&db->lock);
    uint64_t n = db->tx_retries;
    pthread_mutex_unlock(&db->lock);
    return n;
}

uint64_t vc_db_checkpoints(vc_db_t *db)
{
    pthread_mutex_lock(&db->lock);
    uint64_t n = db->ckpt_runs;
    pthread_mutex_unlock(&db->lock);
    return n;
}

int vc_db_tx(vc_db_t *db, vc_db_fn_t fn, void *userdata)
{
    return vc_db_tx_iso(db, db->opts.isolation, fn, userdata);
}

int vc_db_run(vc_db_t *db, vc_db_fn_t fn, void *userdata)
{
    vc_db_conn_t *c;
    int r = vc_db_acquire(db, -1, &c);
    if (r < 0)
        return r;
    r = fn(c, userdata);
    vc_db_release(c);
    return r;
}

int vc_db_now_ms(vc_db_conn_t *c, int64_t *ret)
{
    const char *sql = c->backend == VC_DB_POSTGRES
                          ? "SELECT CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT)"
                          : "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";
    return vc_db_query_int64(c, sql, VC_DB_NONE, ret);
}

/* ---- `?` -> $n ---- */

static bool ident_char(char ch)
{
    return ch == '_' || ch == '$' || isalnum((unsigned char)ch) || (unsigned char)ch >= 0x80;
}

/* Length of a dollar-quote tag ($$ or $name$) at s, 0 if none. */
static size_t dollar_tag(const char *s)
{
    if (s[0] != '$')
        return 0;
    size_t i = 1;
    if (s[i] == '$')
        return 2;
    if (!(s[i] == '_' || isalpha((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80))
        return 0;
    while (s[i] == '_' || isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
        i++;
    return s[i] == '$' ? i + 1 : 0;
}

int vc_db_rewrite_placeholders(const char *sql, char **ret, size_t *ret_count)
{
    vc_buf_t b = {0};
    size_t count = 0, n = strlen(sql), i = 0;
    int r = vc_buf_reserve(&b, n + 16);
    if (r < 0)
        return r;
    while (i < n) {
        char ch = sql[i];
        size_t start = i;
        if (ch == '\'' || ch == '"') {
            /* E'...' strings take backslash escapes. */
            bool esc = ch == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                       (i < 2 || !ident_char(sql[i - 2]));
            i++;
            while (i < n) {
                if (esc && sql[i] == '\\' && i + 1 < n) {
                    i += 2;
                    continue;
                }
                if (sql[i] == ch) {
                    if (i + 1 < n && sql[i + 1] == ch) { /* doubled quote */
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
        } else if (ch == '-' && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n')
                i++;
        } else if (ch == '/' && sql[i + 1] == '*') {
            int depth = 1;
            i += 2;
            while (i < n && depth > 0) {
                if (sql[i] == '/' && sql[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (sql[i] == '*' && sql[i + 1] == '/') {
                    depth--;
                    i += 2;
                } else
                    i++;
            }
        } else if (ch == '$' && (i == 0 || !ident_char(sql[i - 1])) && dollar_tag(sql + i) > 0) {
            size_t tl = dollar_tag(sql + i);
            const char *end = NULL;
            for (size_t j = i + tl; j + tl <= n; j++)
                if (strncmp(sql + j, sql + i, tl) == 0) {
                    end = sql + j;
                    break;
                }
            i = end ? (size_t)(end - sql) + tl : n;
        } else if (ch == '?') {
            count++;
            r = vc_buf_appendf(&b, "$%zu", count);
            if (r < 0)
                goto fail;
            i++;
            continue;
        } else
            i++;
        r = vc_buf_append(&b, sql + start, i - start);
        if (r < 0)
            goto fail;
    }
    *ret = vc_buf_steal(&b);
    if (!*ret)
        return -ENOMEM;
    *ret_count = count;
    return 0;
fail:
    vc_buf_done(&b);
    return r;
}

/* ---- migrations ---- */

#define MIGRATION_LOCK_KEY 0x76656e7573LL /* "venus" */
#define MIGRATION_FILE_MAX (16u << 20)

static int cmp_migration(const void *a, const void *b)
{
    const vc_db_migration_t *x = *(const vc_db_migration_t *const *)a;
    const vc_db_migration_t *y = *(const vc_db_migration_t *const *)b;
    return (x->version > y->version) - (x->version < y->version);
}

static int current_version(vc_db_conn_t *c, const char *component, int *ret)
{
    int64_t v = 0;
    int r = vc_db_query_int64(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version WHERE component = ?",
                              VC_DB_ARGS(VC_DB_TEXT(component)), &v);
    if (r < 0)
        return r;
    *ret = (int)v;
    return 0;
}

static const char schema_version_sql[] = "CREATE TABLE IF NOT EXISTS schema_version ("
                                         "component TEXT NOT NULL, "
                                         "version INTEGER NOT NULL, "
                                         "name TEXT NOT NULL, "
                                         "applied_at_ms BIGINT NOT NULL, "
                                         "PRIMARY KEY (component, version))";

/* One step: in one transaction, apply the next migration if any. Returns 1 applied, 0 up to
 * date, < 0 error (message in *reterr_msg). */
static int migrate_step(vc_db_conn_t *c, const char *component, const vc_db_migration_t *const *m, size_t n,
                        char **reterr_msg)
{
    int known = n ? m[n - 1]->version : 0;
    int r = c->ops->exec_script(c, c->backend == VC_DB_SQLITE ? "BEGIN EXCLUSIVE" : "BEGIN");
    if (r < 0) {
        set_reterr(reterr_msg, "migrations: cannot begin: %s", c->errmsg);
        return r;
    }
    r = vc_db_exec(c, schema_version_sql, VC_DB_NONE);
    if (r < 0) {
        set_reterr(reterr_msg, "migrations: cannot create schema_version: %s", c->errmsg);
        goto rollback;
    }
    int cur;
    r = current_version(c, component, &cur);
    if (r < 0) {
        set_reterr(reterr_msg, "migrations: cannot read schema_version: %s", c->errmsg);
        goto rollback;
    }
    if (cur > known) {
        set_reterr(reterr_msg,
                   "database schema of '%s' is at version %d, newer than this binary knows (%d): "
                   "refusing to run; upgrade the binary",
                   component, cur, known);
        r = -EPROTO;
        goto rollback;
    }
    const vc_db_migration_t *next = NULL;
    for (size_t i = 0; i < n && !next; i++)
        if (m[i]->version > cur)
            next = m[i];
    if (!next) {
        r = vc_db_commit(c);
        if (r < 0) {
            set_reterr(reterr_msg, "migrations: commit failed: %s", c->errmsg);
            goto rollback;
        }
        return 0;
    }
    r = vc_db_exec_script(c, next->sql);
    if (r < 0) {
        set_reterr(reterr_msg, "migration %s %03d_%s failed: %s", component, next->version, next->name,
                   c->errmsg);
        goto rollback;
    }
    int64_t now = vc_now_real_us() / 1000;
    r = vc_db_exec(c,
                   "INSERT INTO schema_version (component, version, name, applied_at_ms) VALUES (?, ?, ?, ?)",
                   VC_DB_ARGS(VC_DB_TEXT(component), VC_DB_INT64(next->version), VC_DB_TEXT(next->name),
                              VC_DB_INT64(now)));
    if (r < 0) {
        set_reterr(reterr_msg, "migration %s %03d_%s: cannot record it: %s", component, next->version,
                   next->name, c->errmsg);
        goto rollback;
    }
    r = vc_db_commit(c);
    if (r < 0) {
        set_reterr(reterr_msg, "migration %s %03d_%s: commit failed: %s", component, next->version,
                   next->name, c->errmsg);
        goto rollback;
    }
    vc_debug("db: applied migration %s %03d_%s", component, next->version, next->name);
    return 1;
rollback:
    if (c->ops->in_tx(c))
        (void)c->ops->exec_script(c, "ROLLBACK");
    return r;
}

int vc_db_open_migrated(const char *dsn, const vc_db_options_t *opts, const char *component,
                        const vc_db_migration_t *list, size_t n, vc_db_t **ret, char **reterr_msg)
{
    vc_db_t *db = NULL;
    int r = vc_db_open(dsn, opts, &db, reterr_msg);
    if (r < 0)
        return r;
    if ((r = vc_db_migrate(db, component, list, n, reterr_msg)) < 0) {
        vc_db_free(db);
        return r;
    }
    *ret = db;
    return 0;
}

int vc_db_migrate(vc_db_t *db, const char *component, const vc_db_migration_t *list, size_t n,
                  char **reterr_msg)
{
    if (!component)
        component = "default";
    _cleanup_free_ const vc_db_migration_t **m = calloc(n ? n : 1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (list[i].backend == db->backend)
            m[k++] = &list[i];
    qsort(m, k, sizeof(*m), cmp_migration);
    for (size_t i = 0; i < k; i++) {
        if (m[i]->version <= 0 || !m[i]->sql || !m[i]->name ||
            (i > 0 && m[i]->version == m[i - 1]->version)) {
            set_reterr(reterr_msg, "migrations: invalid or duplicate version %d", m[i]->version);
            return -EINVAL;
        }
    }

    vc_db_conn_t *c;
    int r = vc_db_acquire(db, -1, &c);
    if (r < 0) {
        set_reterr(reterr_msg, "migrations: no database connection: %s", vc_db_last_errmsg());
        return r;
    }
    if (db->backend == VC_DB_POSTGRES) {
        r = vc_db_exec(c, "SELECT pg_advisory_lock(?)", VC_DB_ARGS(VC_DB_INT64(MIGRATION_LOCK_KEY)));
        if (r < 0) {
            set_reterr(reterr_msg, "migrations: cannot take the advisory lock: %s", c->errmsg);
            vc_db_release(c);
            return r;
        }
    }
    int applied = 0;
    unsigned busy = 0;
    for (;;) {
        r = migrate_step(c, component, m, k, reterr_msg);
        if (r == -EBUSY && busy++ < 20) {
            if (reterr_msg) {
                free(*reterr_msg);
                *reterr_msg = NULL;
            }
            backoff(busy);
            continue;
        }
        if (r <= 0)
            break;
        applied++;
    }
    if (db->backend == VC_DB_POSTGRES && !c->broken)
        (void)vc_db_exec(c, "SELECT pg_advisory_unlock(?)", VC_DB_ARGS(VC_DB_INT64(MIGRATION_LOCK_KEY)));
    vc_db_release(c);
    return r < 0 ? r : applied;
}

static void free_migrations(vc_db_migration_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)m[i].name);
        free((char *)m[i].sql);
    }
    free(m);
}

/* "NNN_name.sql" -> version, malloc'ed name. 0 if the file name does not match. */
static int parse_migration_name(const char *file, int *ret_version, char **ret_name)
{
    size_t len = strlen(file), d = 0;
    while (isdigit((unsigned char)file[d]))
        d++;
    if (d == 0 || d > 9 || file[d] != '_' || len < d + 6 || strcmp(file + len - 4, ".sql") != 0)
        return 0;
    int v = 0;
    for (size_t i = 0; i < d; i++)
        v = v * 10 + (file[i] - '0');
    char *name = strndup(file + d + 1, len - d - 5);
    if (!name)
        return -ENOMEM;
    *ret_version = v;
    *ret_name = name;
    return 1;
}

int vc_db_migrate_dir(vc_db_t *db, const char *component, const char *dir, char **reterr_msg)
{
    vc_buf_t path = {0};
    int r = vc_buf_appendf(&path, "%s/%s", dir, vc_db_backend_name(db->backend));
    if (r < 0)
        return r;
    DIR *d = opendir(path.data);
    if (!d) {
        r = -errno;
        set_reterr(reterr_msg, "migrations: cannot open '%s': %s", path.data, vc_strerror(r));
        vc_buf_done(&path);
        return r;
    }
    vc_db_migration_t *m = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int version;
        char *name;
        r = parse_migration_name(de->d_name, &version, &name);
        if (r < 0)
            goto out;
        if (r == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            vc_db_migration_t *nm = realloc(m, ncap * sizeof(*m));
            if (!nm) {
                free(name);
                r = -ENOMEM;
                goto out;
            }
            m = nm;
            cap = ncap;
        }
        vc_buf_t file = {0};
        char *sql = NULL;
        size_t sql_len;
        r = vc_buf_appendf(&file, "%s/%s", path.data, de->d_name);
        if (r >= 0)
            r = vc_read_file(file.data, MIGRATION_FILE_MAX, &sql, &sql_len);
        if (r < 0) {
            set_reterr(reterr_msg, "migrations: cannot read '%s': %s", file.data ? file.data : de->d_name,
                       vc_strerror(r));
            vc_buf_done(&file);
            free(name);
            goto out;
        }
        vc_buf_done(&file);
        m[n++] = (vc_db_migration_t){.backend = db->backend, .version = version, .name = name, .sql = sql};
    }
    r = vc_db_migrate(db, component, m, n, reterr_msg);
out:
    closedir(d);
    free_migrations(m, n);
    vc_buf_done(&path);
    return r;
}

int vc_db_schema_version(vc_db_t *db, const char *component, int *ret)
{
    vc_db_conn_t *c;
    int r = vc_db_acquire(db, -1, &c);
    if (r < 0)
        return r;
    int64_t exists = 0;
    r = vc_db_query_int64(
        c,
        db->backend == VC_DB_POSTGRES
            ? "SELECT CAST(to_regclass('schema_version') IS NOT NULL AS INTEGER)"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        VC_DB_NONE, &exists);
    int v = 0;
    if (r >= 0 && exists)
        r = current_version(c, component ? component : "default", &v);
    vc_db_release(c);
    if (r < 0)
        return r;
    *ret = v;
    return 0;
}
