/*
 * Tests for db.c, db-sqlite.c, db-pg.c. Runs against sqlite by default and against PostgreSQL
 * with --pg (DSN from vc_test_pg_dsn(); every test gets its own fresh database).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testdb_migrations.h"
#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/db.h"
#include "vc/util.h"

static bool use_pg;

/* The test schema: $VC_TEST_SRC/sql (set by ctest), else next to this source file. */
static const char *sql_dir(void)
{
    static char buf[4096];
    const char *src = getenv("VC_TEST_SRC");
    if (src)
        snprintf(buf, sizeof(buf), "%s/sql", src);
    else {
        const char *slash = strrchr(__FILE__, '/');
        snprintf(buf, sizeof(buf), "%.*s/sql", slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
    }
    return buf;
}

/* A pool on a fresh database with the test schema applied (unless migrate is false). */
static vc_db_t *fresh_db(const vc_db_options_t *opts, bool migrate)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    if (!dsn) {
        VC_FAIL_("no fresh database");
        return NULL;
    }
    vc_db_t *db = NULL;
    char *err = NULL;
    int r = vc_db_open(dsn, opts, &db, &err);
    if (r < 0) {
        VC_FAIL_("vc_db_open(%s): %s: %s", dsn, vc_strerror(r), err ? err : "");
        free(err);
        return NULL;
    }
    if (migrate) {
        r = vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, &err);
        if (r < 0) {
            VC_FAIL_("migrate: %s: %s", vc_strerror(r), err ? err : "");
            free(err);
            return vc_db_free(db);
        }
    }
    return db;
}

static int64_t count_rows(vc_db_t *db, const char *sql)
{
    vc_db_conn_t *c;
    int64_t n = -1;
    if (vc_db_acquire(db, -1, &c) < 0)
        return -1;
    if (vc_db_query_int64(c, sql, VC_DB_NONE, &n) < 0)
        n = -1;
    vc_db_release(c);
    return n;
}

static void test_dsn(void)
{
    vc_db_backend_t b;
    ASSERT_OK(vc_db_dsn_backend("sqlite:/tmp/x.db", &b));
    ASSERT_EQ(b, VC_DB_SQLITE);
    ASSERT_OK(vc_db_dsn_backend("/var/lib/x.db", &b));
    ASSERT_EQ(b, VC_DB_SQLITE);
    ASSERT_OK(vc_db_dsn_backend("postgres://u@h/db", &b));
    ASSERT_EQ(b, VC_DB_POSTGRES);
    ASSERT_OK(vc_db_dsn_backend("postgresql://u@h:5432/db?sslmode=disable", &b));
    ASSERT_EQ(b, VC_DB_POSTGRES);
    ASSERT_OK(vc_db_dsn_backend("host=127.0.0.1 dbname=x", &b));
    ASSERT_EQ(b, VC_DB_POSTGRES);
    ASSERT_OK(vc_db_dsn_backend("dbname = x", &b));
    ASSERT_EQ(b, VC_DB_POSTGRES);
    ASSERT_OK(vc_db_dsn_backend("hostel.db", &b));
    ASSERT_EQ(b, VC_DB_SQLITE);
    ASSERT_EQ(vc_db_dsn_backend("", &b), -EINVAL);
    ASSERT_EQ(vc_db_dsn_backend("sqlite:", &b), -EINVAL);
    ASSERT_STREQ(vc_db_backend_name(VC_DB_POSTGRES), "postgres");
}

static void test_open_close(void)
{
    vc_db_t *db = fresh_db(NULL, false);
    ASSERT_NOTNULL(db);
    ASSERT_EQ(vc_db_backend(db), use_pg ? VC_DB_POSTGRES : VC_DB_SQLITE);
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_EQ(vc_db_conn_backend(c), vc_db_backend(db));
    int64_t v = 0;
    ASSERT_OK(vc_db_query_int64(c, "SELECT 1 + 1", VC_DB_NONE, &v));
    ASSERT_EQ(v, 2);
    vc_db_release(c);
    db = vc_db_free(db);
    ASSERT_TRUE(db == NULL);

    /* Unreachable server: a clear transport error. */
    char *err = NULL;
    int r = vc_db_open("postgresql://postgres@127.0.0.1:1/nope?connect_timeout=2", NULL, &db, &err);
    ASSERT_EQ(r, VC_ETRANSPORT);
    ASSERT_NOTNULL(err);
    ASSERT_TRUE(strstr(err, "cannot connect") != NULL);
    free(err);
    /* sqlite file in a directory that does not exist. */
    err = NULL;
    r = vc_db_open("sqlite:/nonexistent-dir/x/y.db", NULL, &db, &err);
    ASSERT_EQ(r, -EIO);
    ASSERT_NOTNULL(err);
    free(err);
    ASSERT_EQ(vc_db_open("", NULL, &db, NULL), -EINVAL);
}

static void test_binds(void)
{
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, true);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    const uint8_t blob[] = {0x00, 0x01, 0x00, 0xff, 0x5c, 0x78, 0x27, 0x00};
    const char *uni = "h\xc3\xa9llo \xe2\x9c\x93 \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x9a\x80 '?' \"q\"";
    int r = vc_db_exec(c, "INSERT INTO items (name, data, score, flag, n) VALUES (?, ?, ?, ?, ?)",
                       VC_DB_ARGS(VC_DB_TEXT(uni), VC_DB_BLOB(blob, sizeof(blob)), VC_DB_DOUBLE(3.25),
                                  VC_DB_BOOL(true), VC_DB_INT64(INT64_MIN)));
    ASSERT_EQ(r, 1);
    r = vc_db_exec(c, "INSERT INTO items (name, data, score, flag, n) VALUES (?, ?, ?, ?, ?)",
                   VC_DB_ARGS(VC_DB_TEXTN("abcdef", 3), VC_DB_BLOB(NULL, 0), VC_DB_DOUBLE(-1e300),
                              VC_DB_BOOL(false), VC_DB_INT64(INT64_MAX)));
    ASSERT_EQ(r, 1);
    r = vc_db_exec(c, "INSERT INTO items (name, data, score, flag, n) VALUES (?, ?, ?, ?, ?)",
                   VC_DB_ARGS(VC_DB_TEXT(""), VC_DB_NULL, VC_DB_NULL, VC_DB_NULL, VC_DB_TEXT(NULL)));
    ASSERT_EQ(r, 1);

    _cleanup_(vc_db_rows_freep) vc_db_rows_t *rows = NULL;
    ASSERT_OK(
        vc_db_query(c, "SELECT name, data, score, flag, n, id FROM items ORDER BY id", VC_DB_NONE, &rows));
    ASSERT_EQ(vc_db_col_count(rows), 6);
    ASSERT_EQ(vc_db_rows_next(rows), 1);
    size_t len;
    ASSERT_STREQ(vc_db_col_text(rows, 0, &len), uni);
    ASSERT_EQ(len, strlen(uni));
    const void *p = vc_db_col_blob(rows, 1, &len);
    ASSERT_EQ(len, sizeof(blob));
    ASSERT_MEMEQ(p, blob, sizeof(blob));
    ASSERT_TRUE(vc_db_col_double(rows, 2) == 3.25);
    ASSERT_TRUE(vc_db_col_bool(rows, 3));
    ASSERT_TRUE(vc_db_col_int64(rows, 4) == INT64_MIN);
    ASSERT_FALSE(vc_db_col_is_null(rows, 1));

    ASSERT_EQ(vc_db_rows_next(rows), 1);
    ASSERT_STREQ(vc_db_col_text(rows, 0, NULL), "abc");
    p = vc_db_col_blob(rows, 1, &len);
    ASSERT_NOTNULL(p); /* empty, not NULL */
    ASSERT_EQ(len, 0);
    ASSERT_FALSE(vc_db_col_is_null(rows, 1));
    ASSERT_TRUE(vc_db_col_double(rows, 2) == -1e300);
    ASSERT_FALSE(vc_db_col_bool(rows, 3));
    ASSERT_TRUE(vc_db_col_int64(rows, 4) == INT64_MAX);

    ASSERT_EQ(vc_db_rows_next(rows), 1);
    ASSERT_STREQ(vc_db_col_text(rows, 0, &len), "");
    ASSERT_EQ(len, 0);
    for (int i = 1; i <= 4; i++)
        ASSERT_TRUE(vc_db_col_is_null(rows, i));
    ASSERT_TRUE(vc_db_col_blob(rows, 1, &len) == NULL);
    ASSERT_EQ(len, 0);
    ASSERT_TRUE(vc_db_col_text(rows, 4, NULL) == NULL);
    ASSERT_EQ(vc_db_col_int64(rows, 4), 0);
    ASSERT_FALSE(vc_db_col_bool(rows, 3));
    ASSERT_TRUE(vc_db_col_is_null(rows, 99)); /* out of range */
    ASSERT_EQ(vc_db_rows_next(rows), 0);
    ASSERT_EQ(vc_db_rows_next(rows), 0);
    rows = vc_db_rows_free(rows);

    /* Binds in WHERE, NULL comparison, blob equality. */
    int64_t v = 0;
    ASSERT_OK(vc_db_query_int64(c, "SELECT count(*) FROM items WHERE data = ?",
                                VC_DB_ARGS(VC_DB_BLOB(blob, sizeof(blob))), &v));
    ASSERT_EQ(v, 1);
    ASSERT_OK(
        vc_db_query_int64(c, "SELECT count(*) FROM items WHERE n IS NULL AND flag IS NULL", VC_DB_NONE, &v));
    ASSERT_EQ(v, 1);
    /* Rows affected. */
    r = vc_db_exec(c, "UPDATE items SET n = ? WHERE n IS NOT NULL", VC_DB_ARGS(VC_DB_INT64(7)));
    ASSERT_EQ(r, 2);
    r = vc_db_exec(c, "DELETE FROM items WHERE name = ?", VC_DB_ARGS(VC_DB_TEXT("nope")));
    ASSERT_EQ(r, 0);
    vc_db_release(c);
}

static void test_query_helpers(void)
{
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, true);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    int64_t id1 = 0, id2 = 0, v;
    /* RETURNING instead of "last insert id". */
    ASSERT_OK(vc_db_query_int64(c, "INSERT INTO items (name) VALUES (?) RETURNING id",
                                VC_DB_ARGS(VC_DB_TEXT("a")), &id1));
    ASSERT_OK(vc_db_query_int64(c, "INSERT INTO items (name) VALUES (?) RETURNING id",
                                VC_DB_ARGS(VC_DB_TEXT("b")), &id2));
    ASSERT_TRUE(id2 > id1);
    ASSERT_EQ(vc_db_query_int64(c, "SELECT id FROM items WHERE name = ?", VC_DB_ARGS(VC_DB_TEXT("zz")), &v),
              -ENOENT);
    ASSERT_EQ(vc_db_query_int64(c, "SELECT MAX(n) FROM items", VC_DB_NONE, &v), -ENODATA);
    char *s = NULL;
    ASSERT_OK(vc_db_query_text(c, "SELECT name FROM items WHERE id = ?", VC_DB_ARGS(VC_DB_INT64(id2)), &s));
    ASSERT_STREQ(s, "b");
    free(s);
    vc_db_rows_t *rows = NULL;
    ASSERT_EQ(vc_db_query_row(c, "SELECT id FROM items WHERE id < 0", VC_DB_NONE, &rows), -ENOENT);
    ASSERT_OK(vc_db_query_row(c, "SELECT id, name FROM items ORDER BY id", VC_DB_NONE, &rows));
    ASSERT_EQ(vc_db_col_int64(rows, 0), id1);
    rows = vc_db_rows_free(rows);
    /* The same SQL twice at once (the sqlite statement cache must not hand out a busy one). */
    vc_db_rows_t *r1 = NULL, *r2 = NULL;
    ASSERT_OK(vc_db_query(c, "SELECT id FROM items ORDER BY id", VC_DB_NONE, &r1));
    ASSERT_OK(vc_db_query(c, "SELECT id FROM items ORDER BY id", VC_DB_NONE, &r2));
    ASSERT_EQ(vc_db_rows_next(r1), 1);
    ASSERT_EQ(vc_db_rows_next(r2), 1);
    ASSERT_EQ(vc_db_rows_next(r2), 1);
    ASSERT_EQ(vc_db_col_int64(r1, 0), id1);
    ASSERT_EQ(vc_db_col_int64(r2, 0), id2);
    vc_db_rows_free(r1);
    vc_db_rows_free(r2);
    int64_t now = 0;
    ASSERT_OK(vc_db_now_ms(c, &now));
    int64_t local = vc_now_real_us() / 1000;
    ASSERT_LT(llabs(now - local), 5000);
    vc_db_release(c);
}

static int insert_dup(vc_db_conn_t *c, void *ud)
{
    int r = vc_db_exec(c, "INSERT INTO items (name) VALUES (?)", VC_DB_ARGS(VC_DB_TEXT("x1")));
    if (r < 0)
        return r;
    r = vc_db_exec(c, "INSERT INTO items (name) VALUES (?)", VC_DB_ARGS(VC_DB_TEXT("dup")));
    if (r < 0)
        return r;
    return 0;
}

static void test_unique_violation(void)
{
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, true);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name) VALUES ('dup')", VC_DB_NONE), 1);
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name) VALUES ('dup')", VC_DB_NONE), -EEXIST);
    ASSERT_TRUE(strlen(vc_db_errmsg(c)) > 0);
    /* Primary key violation too. */
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO counter (id, n) VALUES (1, 5)", VC_DB_NONE), -EEXIST);
    vc_db_release(c);
    /* In a transaction: nothing of it stays. */
    ASSERT_EQ(vc_db_tx(db, insert_dup, NULL), -EEXIST);
    ASSERT_TRUE(strstr(vc_db_last_errmsg(), use_pg ? "duplicate" : "UNIQUE") != NULL);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name = 'x1'"), 0);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items"), 1);
}

static int insert_then_fail(vc_db_conn_t *c, void *ud)
{
    int *calls = ud;
    (*calls)++;
    int r = vc_db_exec(c, "INSERT INTO items (name) VALUES ('gone')", VC_DB_NONE);
    if (r < 0)
        return r;
    return -EINVAL;
}

static int insert_ok(vc_db_conn_t *c, void *ud)
{
    int r = vc_db_exec(c, "INSERT INTO items (name) VALUES ('kept')", VC_DB_NONE);
    return r < 0 ? r : 42;
}

/* Swallows a failed statement: pg aborts the transaction, so COMMIT must not claim success. */
static int swallow_error(vc_db_conn_t *c, void *ud)
{
    (void)vc_db_exec(c, "INSERT INTO items (name) VALUES ('sw')", VC_DB_NONE);
    (void)vc_db_exec(c, "INSERT INTO items (name) VALUES ('kept')", VC_DB_NONE);
    return 0;
}

static void test_tx_rollback(void)
{
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, true);
    ASSERT_NOTNULL(db);
    int calls = 0;
    ASSERT_EQ(vc_db_tx(db, insert_then_fail, &calls), -EINVAL);
    ASSERT_EQ(calls, 1); /* not retried: only -EBUSY is */
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items"), 0);
    ASSERT_EQ(vc_db_tx(db, insert_ok, NULL), 42);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name = 'kept'"), 1);
    int r = vc_db_tx(db, swallow_error, NULL);
    if (use_pg) {
        ASSERT_EQ(r, -EIO);
        ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name = 'sw'"), 0);
    } else {
        ASSERT_EQ(r, 0); /* sqlite rolls back just the failed statement */
        ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name = 'sw'"), 1);
    }

    /* Releasing a connection mid-transaction rolls it back. */
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_OK(vc_db_begin(c, VC_DB_READ_COMMITTED));
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name) VALUES ('abandoned')", VC_DB_NONE), 1);
    vc_db_release(c);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name = 'abandoned'"), 0);
    /* Explicit commit / rollback. */
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_OK(vc_db_begin(c, VC_DB_SERIALIZABLE));
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name) VALUES ('rb')", VC_DB_NONE), 1);
    ASSERT_OK(vc_db_rollback(c));
    ASSERT_OK(vc_db_begin(c, VC_DB_READ_COMMITTED));
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name) VALUES ('cm')", VC_DB_NONE), 1);
    ASSERT_OK(vc_db_commit(c));
    vc_db_release(c);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name IN ('rb', 'cm')"), 1);
}

/* ---- contention: two threads, read-modify-write of one counter ---- */

typedef struct contend {
    vc_db_t *db;
    int64_t hold_ms;
    int64_t start_delay_ms;
    int attempts;
    int result;
} contend_t;

static int bump_slowly(vc_db_conn_t *c, void *ud)
{
    contend_t *t = ud;
    t->attempts++;
    int64_t n;
    int r = vc_db_query_int64(c, "SELECT n FROM counter WHERE id = 1", VC_DB_NONE, &n);
    if (r < 0)
        return r;
    vc_sleep_ms(t->hold_ms);
    r = vc_db_exec(c, "UPDATE counter SET n = ? WHERE id = 1", VC_DB_ARGS(VC_DB_INT64(n + 1)));
    return r < 0 ? r : 0;
}

static void *contend_thread(void *arg)
{
    contend_t *t = arg;
    vc_sleep_ms(t->start_delay_ms);
    t->result = vc_db_tx_iso(t->db, VC_DB_SERIALIZABLE, bump_slowly, t);
    return NULL;
}

static void test_tx_retry_busy(void)
{
    /* sqlite: a busy_timeout shorter than A's transaction, which B must nevertheless wait out
     * (in-process writers are serialized); pg: SERIALIZABLE makes the second writer fail with
     * 40001 and be retried. */
    vc_db_options_t o = {.busy_timeout_ms = 20, .tx_max_retries = 30};
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(&o, true);
    ASSERT_NOTNULL(db);
    contend_t a = {.db = db, .hold_ms = 300, .start_delay_ms = 0};
    contend_t b = {.db = db, .hold_ms = 0, .start_delay_ms = 100};
    pthread_t ta, tb;
    ASSERT_EQ(pthread_create(&ta, NULL, contend_thread, &a), 0);
    ASSERT_EQ(pthread_create(&tb, NULL, contend_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ASSERT_OK(a.result);
    ASSERT_OK(b.result);
    if (use_pg) {
        ASSERT_GE(vc_db_tx_retries(db), 1); /* someone was retried */
        ASSERT_GE(a.attempts, 2);           /* A's write hit 40001 after B committed */
    } else {
        /* sqlite: writers of one process queue on the pool's writer lock, never on the file
         * lock's busy handler: B waited for A (300 ms, longer than busy_timeout) with no retry. */
        ASSERT_EQ(vc_db_tx_retries(db), 0);
        ASSERT_EQ(a.attempts, 1);
        ASSERT_EQ(b.attempts, 1);
    }
    ASSERT_EQ(count_rows(db, "SELECT n FROM counter WHERE id = 1"), 2); /* no lost update */

    /* sqlite: a second writer's BEGIN fails fast with -EBUSY while the lock is held. */
    if (!use_pg) {
        vc_db_conn_t *c, *c2;
        ASSERT_OK(vc_db_acquire(db, -1, &c));
        ASSERT_OK(vc_db_acquire(db, -1, &c2));
        ASSERT_OK(vc_db_begin(c, VC_DB_SERIALIZABLE));
        ASSERT_EQ(vc_db_begin(c2, VC_DB_SERIALIZABLE), -EBUSY);
        ASSERT_OK(vc_db_rollback(c));
        vc_db_release(c2);
        vc_db_release(c);
    }
}

/* ---- pool: 8 threads x 200 transactions ---- */

#define POOL_THREADS 8
#define POOL_OPS 200

typedef struct pool_worker {
    vc_db_t *db;
    int id;
    int op;
    int errors;
} pool_worker_t;

static int pool_op(vc_db_conn_t *c, void *ud)
{
    pool_worker_t *w = ud;
    char name[64];
    snprintf(name, sizeof(name), "t%d-%d", w->id, w->op);
    int r = vc_db_exec(c, "INSERT INTO items (name, n) VALUES (?, ?)",
                       VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_INT64(w->op)));
    if (r < 0)
        return r;
    r = vc_db_exec(c, "UPDATE counter SET n = n + 1 WHERE id = 1", VC_DB_NONE);
    return r < 0 ? r : 0;
}

static void *pool_thread(void *arg)
{
    pool_worker_t *w = arg;
    for (w->op = 0; w->op < POOL_OPS; w->op++) {
        int r = vc_db_tx(w->db, pool_op, w);
        if (r < 0) {
            fprintf(stderr, "  worker %d op %d: %s: %s\n", w->id, w->op, vc_strerror(r), vc_db_last_errmsg());
            w->errors++;
        }
    }
    return NULL;
}

static void test_pool_threads(void)
{
    vc_db_options_t o = {.max_conns = 4, .busy_timeout_ms = 10000};
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(&o, true);
    ASSERT_NOTNULL(db);
    pthread_t th[POOL_THREADS];
    pool_worker_t w[POOL_THREADS];
    for (int i = 0; i < POOL_THREADS; i++) {
        w[i] = (pool_worker_t){.db = db, .id = i};
        ASSERT_EQ(pthread_create(&th[i], NULL, pool_thread, &w[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < POOL_THREADS; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
    }
    ASSERT_EQ(errors, 0);
    ASSERT_EQ(count_rows(db, "SELECT n FROM counter WHERE id = 1"), POOL_THREADS * POOL_OPS);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items"), POOL_THREADS * POOL_OPS);
}

/* sqlite: the pool's own thread checkpoints the WAL (the main file grows while the pool is
 * open); committing connections do not. */
static void test_wal_checkpoint_thread(void)
{
    if (use_pg)
        return;
    vc_db_options_t o = {.wal_checkpoint_pages = 20};
    const char *dsn = vc_test_db_fresh_dsn(false), *path = dsn ? strchr(dsn, ':') + 1 : NULL;
    _cleanup_(vc_db_freep) vc_db_t *db = NULL;
    ASSERT_NOTNULL(dsn);
    ASSERT_OK(vc_db_open(dsn, &o, &db, NULL));
    ASSERT_GE(vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, NULL), 0);
    struct stat st0, st;
    ASSERT_OK(stat(path, &st0));
    char blob[2000];
    memset(blob, 'x', sizeof(blob));
    for (int i = 0; i < 100; i++) {
        vc_db_conn_t *c;
        char name[32];
        snprintf(name, sizeof(name), "ckpt-%d", i);
        ASSERT_OK(vc_db_acquire(db, -1, &c));
        ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name, data) VALUES (?, ?)",
                             VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_BLOB(blob, sizeof(blob)))), 1);
        vc_db_release(c);
    }
    /* 100 rows of 2 kB are on their way to the main file, written by the checkpoint thread
     * (sqlite alone would wait for 1000 pages of WAL) */
    for (int i = 0; i < 400; i++) {
        ASSERT_OK(stat(path, &st));
        if (st.st_size >= st0.st_size + 100 * 2000 / 2)
            break;
        vc_sleep_ms(5);
    }
    ASSERT_GE(st.st_size, st0.st_size + 100 * 2000 / 2);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items"), 100);
}

/* Under a steady write load with readers always around: one checkpoint round per
 * wal_checkpoint_pages new WAL frames, not one per commit once the WAL is past the mark (a
 * PASSIVE checkpoint never lets it start over under such a load: that made hundreds of rounds,
 * each with its fsync, per second); the WAL stays within 8 times the mark. */
typedef struct {
    vc_db_t *db;
    atomic_bool stop;
    atomic_int reads;
} ckpt_load_t;

static void *ckpt_reader(void *arg)
{
    ckpt_load_t *x = arg;
    while (!atomic_load(&x->stop)) {
        if (count_rows(x->db, "SELECT count(*) FROM items") >= 0)
            atomic_fetch_add(&x->reads, 1);
    }
    return NULL;
}

static int insert_2k(vc_db_conn_t *c, void *userdata)
{
    static char blob[2000];
    memset(blob, 'y', sizeof(blob));
    for (int k = 0; k < 4; k++) {
        char name[40];
        snprintf(name, sizeof(name), "load-%d-%d", *(int *)userdata, k);
        int r = vc_db_exec(c, "INSERT INTO items (name, data) VALUES (?, ?)",
                           VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_BLOB(blob, sizeof(blob))));
        if (r < 0)
            return r;
    }
    return 0;
}

static void test_wal_checkpoint_steady_load(void)
{
    if (use_pg)
        return;
    enum { AT = 1000, TXS = 1500 };
    vc_db_options_t o = {.wal_checkpoint_pages = AT};
    const char *dsn = vc_test_db_fresh_dsn(false), *path = dsn ? strchr(dsn, ':') + 1 : NULL;
    _cleanup_(vc_db_freep) vc_db_t *db = NULL;
    ASSERT_NOTNULL(dsn);
    ASSERT_OK(vc_db_open(dsn, &o, &db, NULL));
    ASSERT_GE(vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, NULL), 0);
    char wal[600];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    ckpt_load_t x = {.db = db};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, ckpt_reader, &x), 0);
    off_t wal_max = 0;
    for (int i = 0; i < TXS; i++) {
        ASSERT_OK(vc_db_tx(db, insert_2k, &i));
        usleep(500); /* a steady load the checkpoint thread keeps up with */
        struct stat st;
        if (stat(wal, &st) == 0 && st.st_size > wal_max)
            wal_max = st.st_size;
    }
    atomic_store(&x.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t rounds = vc_db_checkpoints(db);
    /* 1500 commits of 4 x 2 kB, ~12 frames each: ~18,000 frames, a round per AT of them (a
     * round per commit past the mark would be hundreds) */
    fprintf(stderr, "# %d commits, %d reads: %llu checkpoint rounds, WAL at most %lld bytes\n", TXS, atomic_load(&x.reads),
            (unsigned long long)rounds, (long long)wal_max);
    ASSERT_TRUE(rounds >= 8);
    ASSERT_TRUE(rounds <= 30);
    ASSERT_TRUE(wal_max <= 9 * AT * (4096 + 24) + 32);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM items WHERE name LIKE 'load-%'"), 4 * TXS);
}

static void test_acquire_timeout(void)
{
    vc_db_options_t o = {.max_conns = 1};
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(&o, false);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c, *c2;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    int64_t t0 = vc_now_mono_us();
    ASSERT_EQ(vc_db_acquire(db, 50, &c2), -ETIMEDOUT);
    ASSERT_GE(vc_now_mono_us() - t0, 45000);
    vc_db_release(c);
    ASSERT_OK(vc_db_acquire(db, 50, &c2));
    ASSERT_TRUE(c2 == c);
    vc_db_release(c2);
}

/* ---- migrations ---- */

static void test_migrations(void)
{
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, false);
    ASSERT_NOTNULL(db);
    int v = -1;
    ASSERT_OK(vc_db_schema_version(db, "test", &v));
    ASSERT_EQ(v, 0);
    char *err = NULL;
    int r = vc_db_migrate_dir(db, "test", sql_dir(), &err);
    if (r < 0) {
        VC_FAIL_("migrate_dir: %s", err ? err : "");
        free(err);
        return;
    }
    ASSERT_EQ(r, 2);
    ASSERT_EQ(vc_db_migrate_dir(db, "test", sql_dir(), NULL), 0); /* idempotent */
    ASSERT_EQ(vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, NULL), 0);
    ASSERT_OK(vc_db_schema_version(db, "test", &v));
    ASSERT_EQ(v, 2);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM schema_version WHERE component = 'test'"), 2);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM notes"), 0);
    ASSERT_EQ(count_rows(db, "SELECT n FROM counter"), 0); /* 001's INSERT ran exactly once */
    /* Another component in the same database has its own version. */
    ASSERT_OK(vc_db_schema_version(db, "other", &v));
    ASSERT_EQ(v, 0);

    /* A database newer than the binary: refuse, say why. */
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_EQ(vc_db_exec(c,
                         "INSERT INTO schema_version (component, version, name, applied_at_ms) "
                         "VALUES ('test', 7, 'future', 0)",
                         VC_DB_NONE),
              1);
    vc_db_release(c);
    err = NULL;
    r = vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, &err);
    ASSERT_EQ(r, -EPROTO);
    ASSERT_NOTNULL(err);
    ASSERT_TRUE(strstr(err, "newer than this binary") != NULL);
    free(err);

    /* Missing directory. */
    err = NULL;
    ASSERT_EQ(vc_db_migrate_dir(db, "x", "/nonexistent", &err), -ENOENT);
    free(err);
}

/* vc_db_open_migrated: opened and migrated, or nothing open and the reason. */
static void test_open_migrated(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    ASSERT_NOTNULL(dsn);
    vc_db_options_t o = {.max_conns = 2};
    vc_db_t *db = NULL;
    char *err = NULL;
    ASSERT_OK(vc_db_open_migrated(dsn, &o, "test", testdb_migrations, testdb_migrations_count, &db, &err));
    int v = 0;
    ASSERT_OK(vc_db_schema_version(db, "test", &v));
    ASSERT_EQ(v, 2);
    vc_db_free(db);
    const vc_db_migration_t bad[] = {
        {VC_DB_SQLITE, 9, "bad", "INSERT INTO nope VALUES (1);"},
        {VC_DB_POSTGRES, 9, "bad", "INSERT INTO nope VALUES (1);"},
    };
    db = NULL;
    ASSERT_ERR(vc_db_open_migrated(dsn, &o, "other", bad, 2, &db, &err));
    ASSERT_TRUE(db == NULL);
    ASSERT_TRUE(err && strstr(err, "009_bad") != NULL);
    free(err);
}

static void test_migrations_embedded(void)
{
    ASSERT_EQ(testdb_migrations_count, 4);
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, false);
    ASSERT_NOTNULL(db);
    /* Apply only 001 first, then everything: 002 alone is applied next. */
    vc_db_migration_t first[2];
    size_t k = 0;
    for (size_t i = 0; i < testdb_migrations_count; i++)
        if (testdb_migrations[i].version == 1)
            first[k++] = testdb_migrations[i];
    ASSERT_EQ(k, 2);
    ASSERT_STREQ(first[0].name, "init");
    ASSERT_EQ(vc_db_migrate(db, "test", first, k, NULL), 1);
    ASSERT_EQ(vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, NULL), 1);
    ASSERT_EQ(vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, NULL), 0);
    int v;
    ASSERT_OK(vc_db_schema_version(db, "test", &v));
    ASSERT_EQ(v, 2);

    /* A failing migration leaves nothing behind. */
    const vc_db_migration_t bad[] = {
        {VC_DB_SQLITE, 3, "bad", "CREATE TABLE t3 (x INT); INSERT INTO nope VALUES (1);"},
        {VC_DB_POSTGRES, 3, "bad", "CREATE TABLE t3 (x INT); INSERT INTO nope VALUES (1);"},
    };
    char *err = NULL;
    ASSERT_EQ(vc_db_migrate(db, "test", bad, 2, &err), -EIO);
    ASSERT_NOTNULL(err);
    ASSERT_TRUE(strstr(err, "003_bad") != NULL);
    free(err);
    ASSERT_OK(vc_db_schema_version(db, "test", &v));
    ASSERT_EQ(v, 2);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM t3"), -1); /* table does not exist */
}

typedef struct migrator {
    const char *dsn;
    int result;
} migrator_t;

static void *migrate_thread(void *arg)
{
    migrator_t *m = arg;
    vc_db_t *db = NULL;
    m->result = vc_db_open(m->dsn, NULL, &db, NULL);
    if (m->result < 0)
        return NULL;
    m->result = vc_db_migrate(db, "test", testdb_migrations, testdb_migrations_count, NULL);
    vc_db_free(db);
    return NULL;
}

static void test_concurrent_migrators(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    ASSERT_NOTNULL(dsn);
    /* Two independent pools (as two processes would be) on the same fresh database. */
    migrator_t m[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        m[i] = (migrator_t){.dsn = dsn};
        ASSERT_EQ(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ASSERT_OK(m[i].result);
        total += m[i].result;
    }
    ASSERT_EQ(total, 2);
    _cleanup_(vc_db_freep) vc_db_t *db = NULL;
    ASSERT_OK(vc_db_open(dsn, NULL, &db, NULL));
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM schema_version"), 2);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM counter"), 1);
}

/* ---- placeholders ---- */

static void check_rewrite(const char *in, const char *want, size_t want_n)
{
    char *out = NULL;
    size_t n = 0;
    ASSERT_OK(vc_db_rewrite_placeholders(in, &out, &n));
    if (strcmp(out, want) != 0 || n != want_n)
        VC_FAIL_("rewrite '%s' -> '%s' (%zu), want '%s' (%zu)", in, out, n, want, want_n);
    free(out);
}

static void test_rewrite(void)
{
    check_rewrite("SELECT 1", "SELECT 1", 0);
    check_rewrite("SELECT ?, ?", "SELECT $1, $2", 2);
    check_rewrite("SELECT '?', ?", "SELECT '?', $1", 1);
    check_rewrite("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1);
    check_rewrite("SELECT E'\\'?', ?", "SELECT E'\\'?', $1", 1);
    check_rewrite("SELECT \"a?\" FROM t WHERE x = ?", "SELECT \"a?\" FROM t WHERE x = $1", 1);
    check_rewrite("SELECT $$ ? $$, $tag$ ?'$ $tag$, ?", "SELECT $$ ? $$, $tag$ ?'$ $tag$, $1", 1);
    check_rewrite("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2);
    check_rewrite("SELECT /* a /* nested? */ ? */ ?", "SELECT /* a /* nested? */ ? */ $1", 1);
    check_rewrite("SELECT x::text, ?", "SELECT x::text, $1", 1);
    check_rewrite("SELECT 'unterminated ?", "SELECT 'unterminated ?", 0);
    check_rewrite("?", "$1", 1);

    /* And for real on the backend. */
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, false);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    _cleanup_(vc_db_rows_freep) vc_db_rows_t *rows = NULL;
    ASSERT_OK(
        vc_db_query_row(c, "SELECT '?', ?, 'a''?b' /* ? */ -- ?\n", VC_DB_ARGS(VC_DB_TEXT("v")), &rows));
    ASSERT_STREQ(vc_db_col_text(rows, 0, NULL), "?");
    ASSERT_STREQ(vc_db_col_text(rows, 1, NULL), "v");
    ASSERT_STREQ(vc_db_col_text(rows, 2, NULL), "a'?b");
    vc_db_release(c);
}

static void test_bad_sql(void)
{
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(NULL, true);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_EQ(vc_db_exec(c, "SELEC 1", VC_DB_NONE), -EIO);
    ASSERT_TRUE(strstr(vc_db_errmsg(c), "syntax error") != NULL);
    ASSERT_STREQ(vc_db_last_errmsg(), vc_db_errmsg(c));
    vc_db_rows_t *rows = NULL;
    ASSERT_EQ(vc_db_query(c, "SELECT nope FROM items", VC_DB_NONE, &rows), -EIO);
    ASSERT_TRUE(strstr(vc_db_errmsg(c), "nope") != NULL);
    /* Wrong number of binds. */
    ASSERT_EQ(vc_db_exec(c, "SELECT ?, ?", VC_DB_ARGS(VC_DB_INT64(1))), -EINVAL);
    ASSERT_TRUE(strstr(vc_db_errmsg(c), "placeholders") != NULL);
    /* Several statements are for vc_db_exec_script. */
    ASSERT_ERR(vc_db_exec(c, "SELECT 1; SELECT 2", VC_DB_NONE));
    ASSERT_OK(vc_db_exec_script(c, "CREATE TABLE s1 (x INT); INSERT INTO s1 VALUES (1); "));
    ASSERT_EQ(vc_db_exec_script(c, "INSERT INTO s1 VALUES (2); BOGUS;"), -EIO);
    ASSERT_TRUE(strlen(vc_db_errmsg(c)) > 0);
    /* Not-null violation is a plain -EIO. */
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO items (name) VALUES (?)", VC_DB_ARGS(VC_DB_NULL)), -EIO);
    /* Foreign keys are enforced on both backends. */
    ASSERT_EQ(vc_db_exec(c, "INSERT INTO notes (id, item_id) VALUES (1, 999)", VC_DB_NONE), -EIO);
    /* The connection still works. */
    int64_t v;
    ASSERT_OK(vc_db_query_int64(c, "SELECT 5", VC_DB_NONE, &v));
    ASSERT_EQ(v, 5);
    vc_db_release(c);
}

static int select_one(vc_db_conn_t *c, void *ud)
{
    int64_t v = 0;
    int r = vc_db_query_int64(c, "SELECT 1", VC_DB_NONE, &v);
    return r < 0 ? r : (int)v;
}

/* pg only: a connection killed under us is reported as a transport error and replaced. */
static void test_pg_broken_connection(void)
{
    if (!use_pg)
        return;
    vc_db_options_t o = {.max_conns = 2};
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(&o, false);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *c, *killer;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    ASSERT_OK(vc_db_acquire(db, -1, &killer));
    int64_t pid = 0, ok = 0;
    ASSERT_OK(vc_db_query_int64(c, "SELECT pg_backend_pid()", VC_DB_NONE, &pid));
    ASSERT_OK(vc_db_query_int64(killer, "SELECT CAST(pg_terminate_backend(CAST(? AS INTEGER)) AS INTEGER)",
                                VC_DB_ARGS(VC_DB_INT64(pid)), &ok));
    ASSERT_EQ(ok, 1);
    vc_db_release(killer);
    vc_sleep_ms(100);
    int64_t v;
    ASSERT_EQ(vc_db_query_int64(c, "SELECT 1", VC_DB_NONE, &v), VC_ETRANSPORT);
    vc_db_release(c);
    /* An idle pooled connection killed behind the pool's back: vc_db_tx retries BEGIN once. */
    vc_db_t *one = NULL;
    ASSERT_OK(vc_db_open(vc_test_pg_dsn(), &(vc_db_options_t){.max_conns = 1}, &one, NULL));
    ASSERT_OK(vc_db_acquire(one, -1, &c));
    ASSERT_OK(vc_db_query_int64(c, "SELECT pg_backend_pid()", VC_DB_NONE, &pid));
    vc_db_release(c);
    ASSERT_OK(vc_db_acquire(db, -1, &killer));
    ASSERT_OK(vc_db_query_int64(killer, "SELECT CAST(pg_terminate_backend(CAST(? AS INTEGER)) AS INTEGER)",
                                VC_DB_ARGS(VC_DB_INT64(pid)), &ok));
    vc_db_release(killer);
    vc_sleep_ms(100);
    int r = vc_db_tx(one, select_one, NULL);
    vc_db_free(one);
    ASSERT_EQ(r, 1);
    /* The pool hands out working connections again. */
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(vc_db_acquire(db, -1, &c));
        ASSERT_OK(vc_db_query_int64(c, "SELECT 1", VC_DB_NONE, &v));
        vc_db_release(c);
    }
}

/*
 * pg only: a connection left idle inside a transaction (its process stopped or stuck) is ended by
 * the server after pg_idle_tx_timeout_ms, so its row locks do not block another writer forever;
 * the stuck side then sees a transport error and its write is gone.
 */
static void test_pg_idle_tx_timeout(void)
{
    if (!use_pg)
        return;
    vc_db_options_t o = {.max_conns = 2, .pg_idle_tx_timeout_ms = 300};
    _cleanup_(vc_db_freep) vc_db_t *db = fresh_db(&o, true);
    ASSERT_NOTNULL(db);
    vc_db_conn_t *stuck, *other;
    ASSERT_OK(vc_db_acquire(db, -1, &stuck));
    ASSERT_OK(vc_db_acquire(db, -1, &other));
    ASSERT_EQ(vc_db_exec(other, "INSERT INTO counter (id, n) VALUES (7, 0)", VC_DB_NONE), 1);
    ASSERT_OK(vc_db_begin(stuck, VC_DB_READ_COMMITTED));
    ASSERT_EQ(vc_db_exec(stuck, "UPDATE counter SET n = 1 WHERE id = 7", VC_DB_NONE), 1);
    /* the other writer waits for the row lock, at most until the stuck session is ended */
    int64_t t0 = vc_now_mono_us();
    ASSERT_EQ(vc_db_exec(other, "UPDATE counter SET n = 2 WHERE id = 7", VC_DB_NONE), 1);
    int64_t waited_ms = (vc_now_mono_us() - t0) / 1000;
    ASSERT_TRUE(waited_ms >= 250 && waited_ms < 5000);
    ASSERT_EQ(vc_db_commit(stuck), VC_ETRANSPORT);
    vc_db_release(stuck);
    int64_t n = -1;
    ASSERT_OK(vc_db_query_int64(other, "SELECT n FROM counter WHERE id = 7", VC_DB_NONE, &n));
    ASSERT_EQ(n, 2);
    vc_db_release(other);
    /* the default (5 s) is on every session */
    _cleanup_(vc_db_freep) vc_db_t *dflt = fresh_db(NULL, false);
    ASSERT_NOTNULL(dflt);
    char *v = NULL;
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(dflt, -1, &c));
    ASSERT_OK(vc_db_query_text(c, "SHOW idle_in_transaction_session_timeout", VC_DB_NONE, &v));
    ASSERT_STREQ(v, "5s");
    free(v);
    vc_db_release(c);
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
    VC_TEST_RUN(test_dsn);
    VC_TEST_RUN(test_open_close);
    VC_TEST_RUN(test_binds);
    VC_TEST_RUN(test_query_helpers);
    VC_TEST_RUN(test_unique_violation);
    VC_TEST_RUN(test_tx_rollback);
    VC_TEST_RUN(test_tx_retry_busy);
    VC_TEST_RUN(test_pool_threads);
    VC_TEST_RUN(test_acquire_timeout);
    VC_TEST_RUN(test_wal_checkpoint_thread);
    VC_TEST_RUN(test_wal_checkpoint_steady_load);
    VC_TEST_RUN(test_migrations);
    VC_TEST_RUN(test_migrations_embedded);
    VC_TEST_RUN(test_open_migrated);
    VC_TEST_RUN(test_concurrent_migrators);
    VC_TEST_RUN(test_rewrite);
    VC_TEST_RUN(test_bad_sql);
    VC_TEST_RUN(test_pg_broken_connection);
    VC_TEST_RUN(test_pg_idle_tx_timeout);
    return VC_TEST_DONE();
}
