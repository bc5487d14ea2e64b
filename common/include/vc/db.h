/*
 * db.h: one SQL API over sqlite3 and PostgreSQL (libpq).
 *
 * A vc_db_t is a thread-safe connection pool opened from a DSN:
 *   "sqlite:<path>" or a plain path                      -> sqlite (WAL, busy_timeout,
 *                                                           foreign_keys=ON, synchronous=NORMAL;
 *                                                           WAL checkpoints on a pool thread)
 *   "postgres://..." / "postgresql://..." or a libpq "key=value" string (starting with a libpq
 *   keyword such as host=, hostaddr=, port=, dbname=, user=, service=)  -> PostgreSQL
 *
 * SQL text uses `?` placeholders on both backends; for PostgreSQL they are rewritten to $1..$n
 * (a `?` inside '...', E'...', "...", $tag$...$tag$ or a comment is left alone). PostgreSQL's
 * jsonb operators ?, ?| and ?& therefore cannot be written as operators: use jsonb_exists(),
 * jsonb_exists_any(), jsonb_exists_all().
 *
 * Binds are passed as an array with the VC_DB_ARGS(...) macro, which expands to the two
 * arguments `binds, n`:
 *
 *   r = vc_db_exec(c, "UPDATE t SET name = ? WHERE id = ?",
 *                  VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_INT64(id)));     // r = rows affected
 *   r = vc_db_query(c, "SELECT id, data FROM t", VC_DB_NONE, &rows);
 *   while ((r = vc_db_rows_next(rows)) > 0) { vc_db_col_int64(rows, 0); ... }
 *   rows = vc_db_rows_free(rows);
 *
 * "Last insert id" is not portable: use `INSERT ... RETURNING id` with vc_db_query_int64() on
 * both backends (sqlite >= 3.35 has RETURNING; Debian 12 ships 3.40).
 *
 * Errors are negative: -EEXIST unique/primary-key violation (sqlite SQLITE_CONSTRAINT_UNIQUE /
 * PRIMARYKEY, pg 23505); -EBUSY sqlite BUSY/LOCKED, pg 40001 serialization failure, 40P01
 * deadlock, 55P03 lock not available (vc_db_tx retries these); VC_ETRANSPORT connection lost;
 * -EINVAL bad arguments (wrong bind count, several statements given to vc_db_exec, ...);
 * -ETIMEDOUT pool acquire timeout; -EIO any other database error. The database's message is
 * kept on the connection (vc_db_errmsg) and in a per-thread copy (vc_db_last_errmsg), which
 * survives the connection's release (useful after vc_db_tx).
 *
 * Library code: nothing here logs above debug.
 */
#ifndef VC_DB_H
#define VC_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum vc_db_backend {
    VC_DB_SQLITE,
    VC_DB_POSTGRES,
    VC_DB_BACKEND_MAX,
} vc_db_backend_t;

/* Transaction isolation for PostgreSQL; sqlite transactions are always serializable (one
 * writer, BEGIN IMMEDIATE). READ COMMITTED is the pool default: it is PostgreSQL's default, it
 * never fails with serialization errors, and our writers rely on row locks (UPDATE ... WHERE,
 * SELECT ... FOR UPDATE) plus unique keys. SERIALIZABLE is for multi-row invariants (e.g. the
 * HA lease); its 40001 failures come back as -EBUSY and vc_db_tx retries them. */
typedef enum vc_db_isolation {
    VC_DB_READ_COMMITTED,
    VC_DB_SERIALIZABLE,
    VC_DB_ISOLATION_MAX,
} vc_db_isolation_t;

typedef enum vc_db_type {
    VC_DB_T_NULL,
    VC_DB_T_INT64,
    VC_DB_T_DOUBLE,
    VC_DB_T_BOOL,
    VC_DB_T_TEXT,
    VC_DB_T_BLOB,
    VC_DB_T_MAX,
} vc_db_type_t;

/* One bound value. Text and blob pointers are borrowed for the duration of the call. */
typedef struct vc_db_bind {
    vc_db_type_t type;
    int64_t i;     /* INT64, BOOL */
    double d;      /* DOUBLE */
    const void *p; /* TEXT, BLOB (may be NULL when len == 0) */
    size_t len;
} vc_db_bind_t;

#define VC_DB_NULL ((vc_db_bind_t){.type = VC_DB_T_NULL})
#define VC_DB_INT64(v) ((vc_db_bind_t){.type = VC_DB_T_INT64, .i = (int64_t)(v)})
#define VC_DB_DOUBLE(v) ((vc_db_bind_t){.type = VC_DB_T_DOUBLE, .d = (double)(v)})
#define VC_DB_BOOL(v) ((vc_db_bind_t){.type = VC_DB_T_BOOL, .i = (v) ? 1 : 0})
/* NUL-terminated text; a NULL pointer binds SQL NULL. */
#define VC_DB_TEXT(s) vc_db_bind_text_(s)
/* Text with explicit length (need not be NUL-terminated; must not contain NUL for pg). */
#define VC_DB_TEXTN(s, n) ((vc_db_bind_t){.type = VC_DB_T_TEXT, .p = (s), .len = (n)})
/* Bytes (any content, NULs included). A NULL pointer with n == 0 binds an empty blob. */
#define VC_DB_BLOB(b, n) ((vc_db_bind_t){.type = VC_DB_T_BLOB, .p = (b), .len = (n)})

static inline vc_db_bind_t vc_db_bind_text_(const char *s)
{
    if (!s)
        return VC_DB_NULL;
    return (vc_db_bind_t){.type = VC_DB_T_TEXT, .p = s, .len = strlen(s)};
}

/* VC_DB_ARGS(b1, b2, ...) expands to `const vc_db_bind_t *binds, size_t n` arguments (the array
 * is a compound literal living until the end of the enclosing block). VC_DB_NONE: no binds. */
#define VC_DB_BINDARR_(...) ((const vc_db_bind_t[]){VC_DB_NULL, __VA_ARGS__})
#define VC_DB_ARGS(...)                                                                                      \
    (VC_DB_BINDARR_(__VA_ARGS__) + 1), (sizeof(VC_DB_BINDARR_(__VA_ARGS__)) / sizeof(vc_db_bind_t) - 1)
#define VC_DB_NONE NULL, (size_t)0

typedef struct vc_db vc_db_t;           /* pool */
typedef struct vc_db_conn vc_db_conn_t; /* one connection, used by one thread at a time */
typedef struct vc_db_rows vc_db_rows_t; /* a result being stepped through */

typedef struct vc_db_options {
    unsigned max_conns;          /* pool size; 0 = 8 (sqlite ":memory:" forces 1) */
    int64_t acquire_timeout_ms;  /* vc_db_tx / vc_db_run wait for a connection; 0 = 10000 */
    int64_t busy_timeout_ms;     /* sqlite busy_timeout; 0 = 5000, < 0 = none */
    int64_t connect_timeout_ms;  /* pg connect timeout; 0 = 10000 */
    /* pg: a session idle inside a transaction this long is ended by the server, releasing its
     * locks (a stopped or stuck process must not block other instances); 0 = 5000, < 0 = none */
    int64_t pg_idle_tx_timeout_ms;
    unsigned tx_max_retries;     /* vc_db_tx retries on -EBUSY; 0 = 10 */
    vc_db_isolation_t isolation; /* vc_db_tx default (pg only); default READ COMMITTED */
    unsigned stmt_cache_size;    /* prepared statements cached per sqlite connection; 0 = 64 */
    /* sqlite file databases: each time commits add this many pages to the WAL, a thread of
     * the pool checkpoints it (PASSIVE), so committing transactions rarely copy the WAL back or
     * wait for its fsyncs; at 8 times as many the committing connection checkpoints too, which
     * lets the WAL start over (under a steady load a PASSIVE checkpoint alone never does).
     * 0 = 4000 (16 MB of 4 KiB pages); < 0 = none: sqlite's own autocheckpoint (1000 pages,
     * on the committing connection). */
    int wal_checkpoint_pages;
} vc_db_options_t;

/* Opens a pool (opts may be NULL for defaults) and checks the database by opening one
 * connection. Errors: -EINVAL bad DSN, VC_ETRANSPORT pg unreachable, -EIO sqlite open failure.
 * On failure *reterr_msg (optional) gets a malloc'ed message. */
int vc_db_open(const char *dsn, const vc_db_options_t *opts, vc_db_t **ret, char **reterr_msg);
/* Closes every connection; all must have been released. Returns NULL. */
vc_db_t *vc_db_free(vc_db_t *db);
static inline void vc_db_freep(vc_db_t **p)
{
    if (*p)
        vc_db_free(*p);
}

vc_db_backend_t vc_db_backend(const vc_db_t *db);
vc_db_backend_t vc_db_conn_backend(const vc_db_conn_t *c);
const char *vc_db_backend_name(vc_db_backend_t b); /* "sqlite" / "postgres" */
/* Picks the backend a DSN names, without connecting. -EINVAL if empty. */
int vc_db_dsn_backend(const char *dsn, vc_db_backend_t *ret);

/* Pool. Acquire waits up to timeout_ms (< 0: the pool's acquire_timeout_ms) and returns
 * -ETIMEDOUT if no connection frees up. A pg connection found broken is reset here (and on
 * release); VC_ETRANSPORT if it cannot be. Release rolls back an open transaction. */
int vc_db_acquire(vc_db_t *db, int64_t timeout_ms, vc_db_conn_t **ret);
void vc_db_release(vc_db_conn_t *c);

/* Message of the last error on this connection ("" if none). Valid until the next call. */
const char *vc_db_errmsg(const vc_db_conn_t *c);
/* This thread's copy of the last error message of any connection. */
const char *vc_db_last_errmsg(void);

/* Runs one statement that returns no rows we care about (rows are stepped through and
 * dropped). Returns the number of rows affected (INSERT/UPDATE/DELETE; 0 for others).
 * More than one statement is an error (sqlite -EINVAL, pg -EIO from the server). */
int vc_db_exec(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n);
/* Runs several ';'-separated statements without binds (migrations, schema setup). */
int vc_db_exec_script(vc_db_conn_t *c, const char *sql);

/* Runs a query; step with vc_db_rows_next. Several results may be open at once on one
 * connection (pg fetches results whole; sqlite steps lazily). Free before releasing c. */
int vc_db_query(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, vc_db_rows_t **ret);
/* 1 = a row is current, 0 = no more rows, < 0 error. */
int vc_db_rows_next(vc_db_rows_t *r);
vc_db_rows_t *vc_db_rows_free(vc_db_rows_t *r);
static inline void vc_db_rows_freep(vc_db_rows_t **p)
{
    if (*p)
        vc_db_rows_free(*p);
}
/* Like vc_db_query, then steps once: -ENOENT (and nothing returned) if there is no row. */
int vc_db_query_row(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n,
                    vc_db_rows_t **ret);
/* First column of the first row: -ENOENT no row, -ENODATA the value is NULL. */
int vc_db_query_int64(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, int64_t *ret);
/* As above; *ret is malloc'ed and NUL-terminated. */
int vc_db_query_text(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t n, char **ret);

/* Column getters on the current row, by 0-based index. NULL or out-of-range columns read as
 * 0 / 0.0 / false / NULL pointer with length 0. Returned pointers are valid until the next
 * vc_db_rows_next or vc_db_rows_free. Text is NUL-terminated. Blobs read bytea columns in
 * binary (pg hex output decoded); on other column types they return the value's bytes. */
int vc_db_col_count(vc_db_rows_t *r);
bool vc_db_col_is_null(vc_db_rows_t *r, int col);
int64_t vc_db_col_int64(vc_db_rows_t *r, int col);
double vc_db_col_double(vc_db_rows_t *r, int col);
bool vc_db_col_bool(vc_db_rows_t *r, int col);
const char *vc_db_col_text(vc_db_rows_t *r, int col, size_t *ret_len);
const void *vc_db_col_blob(vc_db_rows_t *r, int col, size_t *ret_len);

/* Explicit transactions on one connection (vc_db_tx is usually what you want). begin uses
 * BEGIN IMMEDIATE on sqlite and BEGIN ISOLATION LEVEL <iso> on pg. */
int vc_db_begin(vc_db_conn_t *c, vc_db_isolation_t iso);
int vc_db_commit(vc_db_conn_t *c);
int vc_db_rollback(vc_db_conn_t *c);

/*
 * Transaction with retry: acquires a connection, BEGINs, runs fn(conn, userdata), COMMITs when
 * fn returns >= 0 and ROLLBACKs when it returns < 0. When fn, BEGIN or COMMIT fail with -EBUSY
 * the whole transaction is retried (up to tx_max_retries times, jittered exponential backoff
 * from 5 ms, capped at 500 ms). fn MUST therefore be idempotent: it may run several times and
 * only the last run's writes are kept; it must not have side effects outside the database (or
 * must reset them at its start). fn must not call vc_db_begin/commit/rollback itself.
 * A VC_ETRANSPORT from BEGIN (a pooled pg connection that died while idle) is retried once on
 * a fresh connection; transport errors after BEGIN are returned (the commit state is unknown).
 * Returns fn's (non-negative) result after COMMIT, else the error.
 */
typedef int (*vc_db_fn_t)(vc_db_conn_t *c, void *userdata);
int vc_db_tx(vc_db_t *db, vc_db_fn_t fn, void *userdata);
int vc_db_tx_iso(vc_db_t *db, vc_db_isolation_t iso, vc_db_fn_t fn, void *userdata);
/* How many times vc_db_tx retried a transaction on -EBUSY since the pool opened (metrics). */
uint64_t vc_db_tx_retries(vc_db_t *db);
/* sqlite: the virtual-machine steps of every statement this thread has run, in total. Tests
 * compare it before and after a call to bound the rows a query visits (a scan where an index
 * lookup was meant shows as thousands of steps), whatever the clock says. */
uint64_t vc_db_sqlite_vm_steps(void);
/* sqlite file databases: WAL checkpoint rounds run by the pool's checkpoint thread (metrics). */
uint64_t vc_db_checkpoints(vc_db_t *db);
/* Acquire, fn(conn, userdata) in autocommit mode, release. Returns fn's result. */
int vc_db_run(vc_db_t *db, vc_db_fn_t fn, void *userdata);

/* The database's clock in ms since the epoch (pg: clock_timestamp(); sqlite: the host clock
 * via julianday('now')). The HA lease compares times in DB time. */
int vc_db_now_ms(vc_db_conn_t *c, int64_t *ret);

/*
 * Migrations: numbered scripts NNN_name.sql per backend. Every migration whose version is above
 * the schema_version table's max(version) for `component` is applied in its own transaction
 * together with its schema_version row (component, version, name, applied_at_ms). The table is
 * created if absent; it is shared by components (so several daemons can share one database).
 * Concurrent migrators are serialized by pg_advisory_lock (pg) or BEGIN EXCLUSIVE (sqlite).
 * If the database is at a version above the newest migration known for this backend, nothing
 * runs and -EPROTO is returned with a message ("database schema ... is newer ...").
 * Returns the number of migrations applied. component NULL = "default".
 */
typedef struct vc_db_migration {
    vc_db_backend_t backend;
    int version; /* > 0, unique per backend */
    const char *name;
    const char *sql;
} vc_db_migration_t;

/* Applies the migrations of db's backend from list (other backends' entries are ignored). */
int vc_db_migrate(vc_db_t *db, const char *component, const vc_db_migration_t *list, size_t n,
                  char **reterr_msg);
/* vc_db_open + vc_db_migrate of component: the daemons' stores open this way. On failure
 * nothing stays open (*ret untouched) and *reterr_msg explains. */
int vc_db_open_migrated(const char *dsn, const vc_db_options_t *opts, const char *component,
                        const vc_db_migration_t *list, size_t n, vc_db_t **ret, char **reterr_msg);
/* Reads <dir>/<sqlite|postgres>/NNN_name.sql at run time and applies them. */
int vc_db_migrate_dir(vc_db_t *db, const char *component, const char *dir, char **reterr_msg);
/* Current schema version of component (0 if none/no table). */
int vc_db_schema_version(vc_db_t *db, const char *component, int *ret);

/* Rewrites `?` placeholders to $1..$n (PostgreSQL). *ret malloc'ed; *ret_count = placeholders.
 * Exposed for tests and fuzzing. */
int vc_db_rewrite_placeholders(const char *sql, char **ret, size_t *ret_count);

#endif
