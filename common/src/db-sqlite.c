/* db-sqlite.c: the sqlite3 backend of db.h, with a per-connection prepared statement cache. */
#include <limits.h>
#include <stdio.h>

#include <sqlite3.h>

#include "db-internal.h"
#include "vc/util.h"

typedef struct stmt_entry {
    char *sql;
    uint64_t hash;
    sqlite3_stmt *st;
    bool in_use;
    uint64_t last_used;
} stmt_entry_t;

typedef struct sq_conn {
    vc_db_conn_t base;
    sqlite3 *db;
    stmt_entry_t *cache;
    size_t cache_len, cache_cap;
    uint64_t tick;
} sq_conn_t;

typedef struct sq_rows {
    vc_db_rows_t base;
    sqlite3_stmt *st;
    stmt_entry_t *entry; /* NULL: st is not cached and is finalized on free */
    size_t entry_idx;
    bool done;
} sq_rows_t;

static sq_conn_t *SQ(vc_db_conn_t *c)
{
    return (sq_conn_t *)c;
}

static int map_error(vc_db_conn_t *c, int rc)
{
    sqlite3 *db = SQ(c)->db;
    int xrc = db ? sqlite3_extended_errcode(db) : rc;
    int r;
    if (xrc == SQLITE_CONSTRAINT_UNIQUE || xrc == SQLITE_CONSTRAINT_PRIMARYKEY)
        r = -EEXIST;
    else if ((xrc & 0xff) == SQLITE_BUSY || (xrc & 0xff) == SQLITE_LOCKED)
        r = -EBUSY;
    else if ((xrc & 0xff) == SQLITE_NOMEM)
        r = -ENOMEM;
    else
        r = -EIO;
    return vc_db_set_error(c, r, "sqlite: %s (code %d)", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), xrc);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static bool only_space(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ';')
            return false;
    return true;
}

static int prepare_raw(vc_db_conn_t *c, const char *sql, sqlite3_stmt **ret)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(SQ(c)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK)
        return map_error(c, rc);
    if (!st)
        return vc_db_set_error(c, -EINVAL, "empty SQL statement");
    if (!only_space(tail)) {
        sqlite3_finalize(st);
        return vc_db_set_error(c, -EINVAL, "more than one SQL statement given (use vc_db_exec_script)");
    }
    *ret = st;
    return 0;
}

/* Gets a statement for sql, from the cache when possible. *ret_entry is NULL for an uncached
 * statement (the caller finalizes it). */
static int prepare(vc_db_conn_t *c, const char *sql, sqlite3_stmt **ret, stmt_entry_t **ret_entry,
                   size_t *ret_idx)
{
    sq_conn_t *s = SQ(c);
    uint64_t h = hash_str(sql);
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < s->cache_len; i++) {
        stmt_entry_t *e = &s->cache[i];
        if (e->hash == h && strcmp(e->sql, sql) == 0 && !e->in_use) {
            e->in_use = true;
            e->last_used = ++s->tick;
            *ret = e->st;
            *ret_entry = e;
            *ret_idx = i;
            return 0;
        }
        if (!e->in_use && (victim == SIZE_MAX || e->last_used < s->cache[victim].last_used))
            victim = i;
    }
    sqlite3_stmt *st = NULL;
    int r = prepare_raw(c, sql, &st);
    if (r < 0)
        return r;
    size_t idx;
    if (s->cache_len < s->cache_cap)
        idx = s->cache_len;
    else if (victim != SIZE_MAX)
        idx = victim;
    else
        goto uncached;
    char *copy = strdup(sql);
    if (!copy)
        goto uncached;
    if (idx == s->cache_len)
        s->cache_len++;
    else {
        sqlite3_finalize(s->cache[idx].st);
        free(s->cache[idx].sql);
    }
    s->cache[idx] = (stmt_entry_t){.sql = copy, .hash = h, .st = st, .in_use = true, .last_used = ++s->tick};
    *ret = st;
    *ret_entry = &s->cache[idx];
    *ret_idx = idx;
    return 0;
uncached:
    *ret = st;
    *ret_entry = NULL;
    *ret_idx = SIZE_MAX;
    return 0;
}

/* VM steps of the statements this thread ran (vc_db_sqlite_vm_steps). */
static _Thread_local uint64_t vm_steps;

uint64_t vc_db_sqlite_vm_steps(void)
{
    return vm_steps;
}

static void unprepare(sqlite3_stmt *st, stmt_entry_t *e)
{
    vm_steps += (uint64_t)sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
    if (!e) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    e->in_use = false;
}

static int bind_all(vc_db_conn_t *c, sqlite3_stmt *st, const vc_db_bind_t *b, size_t n, bool copy)
{
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want != n)
        return vc_db_set_error(c, -EINVAL, "statement has %d placeholders but %zu values were bound", want,
                               n);
    sqlite3_destructor_type d = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
    for (size_t i = 0; i < n; i++) {
        int idx = (int)i + 1, rc;
        switch (b[i].type) {
        case VC_DB_T_NULL:
            rc = sqlite3_bind_null(st, idx);
            break;
        case VC_DB_T_INT64:
        case VC_DB_T_BOOL:
            rc = sqlite3_bind_int64(st, idx, b[i].i);
            break;
        case VC_DB_T_DOUBLE:
            rc = sqlite3_bind_double(st, idx, b[i].d);
            break;
        case VC_DB_T_TEXT:
            rc = sqlite3_bind_text64(st, idx, b[i].p ? b[i].p : "", b[i].len, d, SQLITE_UTF8);
            break;
        case VC_DB_T_BLOB:
            if (b[i].len == 0)
                rc = sqlite3_bind_zeroblob(st, idx, 0);
            else
                rc = sqlite3_bind_blob64(st, idx, b[i].p, b[i].len, d);
            break;
        default:
            return vc_db_set_error(c, -EINVAL, "bind %zu: unknown type %d", i + 1, (int)b[i].type);
        }
        if (rc == SQLITE_TOOBIG)
            return vc_db_set_error(c, VC_ETOOBIG, "bind %zu: value too large", i + 1);
        if (rc != SQLITE_OK)
            return map_error(c, rc);
    }
    return 0;
}

/* After each commit: tell the pool how big the WAL is (it checkpoints on a thread of its own). */
static int wal_hook(void *userdata, sqlite3 *db, const char *name, int pages)
{
    if (vc_db_wal_grew(userdata, pages))
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static int sq_checkpoint(vc_db_conn_t *c, int *ret_left)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(SQ(c)->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (ret_left)
        *ret_left = log > done ? log - done : 0;
    return rc == SQLITE_OK ? 0 : map_error(c, rc);
}

static int sq_connect(vc_db_t *db, const char *target, const vc_db_options_t *opts, vc_db_conn_t **ret,
                      char *errbuf, size_t errlen)
{
    sq_conn_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.db = db;
    s->base.ops = &vc_db_sqlite_ops;
    s->base.backend = VC_DB_SQLITE;
    s->cache_cap = opts->stmt_cache_size;
    if (s->cache_cap) {
        s->cache = calloc(s->cache_cap, sizeof(*s->cache));
        if (!s->cache) {
            free(s);
            return -ENOMEM;
        }
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(target, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "sqlite: cannot open '%s': %s", target,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sqlite3_close_v2(s->db);
        free(s->cache);
        free(s);
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if (opts->busy_timeout_ms > 0)
        sqlite3_busy_timeout(s->db, (int)VC_MIN(opts->busy_timeout_ms, INT_MAX));
    bool mem = strstr(target, ":memory:") || strstr(target, "mode=memory");
    const char *pragmas = mem ? "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
                              : "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;";
    char *err = NULL;
    rc = sqlite3_exec(s->db, pragmas, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "sqlite: setting up '%s': %s", target, err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        sqlite3_close_v2(s->db);
        free(s->cache);
        free(s);
        return (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
    }
    if (!mem && opts->wal_checkpoint_pages > 0)
        sqlite3_wal_hook(s->db, wal_hook, db); /* replaces sqlite's autocheckpoint */
    *ret = &s->base;
    return 0;
}

static void sq_close(vc_db_conn_t *c)
{
    sq_conn_t *s = SQ(c);
    for (size_t i = 0; i < s->cache_len; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    free(s->cache);
    sqlite3_close_v2(s->db);
    free(s);
}

static int sq_reset(vc_db_conn_t *c)
{
    return 0;
}

static bool sq_in_tx(vc_db_conn_t *c)
{
    return !sqlite3_get_autocommit(SQ(c)->db);
}

static bool sq_tx_failed(vc_db_conn_t *c)
{
    return false;
}

static int sq_exec(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n)
{
    sqlite3_stmt *st = NULL;
    stmt_entry_t *e = NULL;
    size_t idx = 0;
    int r = prepare(c, sql, &st, &e, &idx);
    if (r < 0)
        return r;
    r = bind_all(c, st, b, n, false);
    if (r < 0)
        goto out;
    sqlite3_int64 before = sqlite3_total_changes64(SQ(c)->db);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        r = map_error(c, rc);
        goto out;
    }
    if (sqlite3_total_changes64(SQ(c)->db) == before)
        r = 0;
    else
        r = (int)VC_MIN(sqlite3_changes64(SQ(c)->db), (sqlite3_int64)INT_MAX);
out:
    unprepare(st, e);
    return r;
}

static int sq_exec_script(vc_db_conn_t *c, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(SQ(c)->db, sql, NULL, NULL, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK)
        return map_error(c, rc);
    return 0;
}

static int sq_query(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n, vc_db_rows_t **ret)
{
    sq_rows_t *rows = calloc(1, sizeof(*rows));
    if (!rows)
        return vc_db_set_error(c, -ENOMEM, "out of memory");
    int r = prepare(c, sql, &rows->st, &rows->entry, &rows->entry_idx);
    if (r < 0) {
        free(rows);
        return r;
    }
    r = bind_all(c, rows->st, b, n, true);
    if (r < 0) {
        unprepare(rows->st, rows->entry);
        free(rows);
        return r;
    }
    rows->base.conn = c;
    *ret = &rows->base;
    return 0;
}

static int sq_next(vc_db_rows_t *r)
{
    sq_rows_t *s = (sq_rows_t *)r;
    if (s->done)
        return 0;
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return 1;
    s->done = true;
    if (rc == SQLITE_DONE)
        return 0;
    return map_error(r->conn, rc);
}

static void sq_rows_free(vc_db_rows_t *r)
{
    sq_rows_t *s = (sq_rows_t *)r;
    unprepare(s->st, s->entry);
    free(s);
}

static sqlite3_stmt *ST(vc_db_rows_t *r)
{
    return ((sq_rows_t *)r)->st;
}

static bool col_ok(vc_db_rows_t *r, int col)
{
    sq_rows_t *s = (sq_rows_t *)r;
    return !s->done && col >= 0 && col < sqlite3_data_count(s->st);
}

static int sq_col_count(vc_db_rows_t *r)
{
    return sqlite3_column_count(ST(r));
}

static bool sq_is_null(vc_db_rows_t *r, int col)
{
    return !col_ok(r, col) || sqlite3_column_type(ST(r), col) == SQLITE_NULL;
}

static int64_t sq_col_int64(vc_db_rows_t *r, int col)
{
    return col_ok(r, col) ? sqlite3_column_int64(ST(r), col) : 0;
}

static double sq_col_double(vc_db_rows_t *r, int col)
{
    return col_ok(r, col) ? sqlite3_column_double(ST(r), col) : 0.0;
}

static bool sq_col_bool(vc_db_rows_t *r, int col)
{
    return col_ok(r, col) && sqlite3_column_int64(ST(r), col) != 0;
}

static const char *sq_col_text(vc_db_rows_t *r, int col, size_t *ret_len)
{
    const char *p = NULL;
    size_t len = 0;
    if (!sq_is_null(r, col)) {
        p = (const char *)sqlite3_column_text(ST(r), col);
        len = p ? (size_t)sqlite3_column_bytes(ST(r), col) : 0;
    }
    if (ret_len)
        *ret_len = len;
    return p;
}

static const void *sq_col_blob(vc_db_rows_t *r, int col, size_t *ret_len)
{
    const void *p = NULL;
    size_t len = 0;
    if (!sq_is_null(r, col)) {
        p = sqlite3_column_blob(ST(r), col);
        len = (size_t)sqlite3_column_bytes(ST(r), col);
        if (!p)
            p = "";
    }
    if (ret_len)
        *ret_len = len;
    return p;
}

const db_ops_t vc_db_sqlite_ops = {
    .connect = sq_connect,
    .close = sq_close,
    .reset = sq_reset,
    .in_tx = sq_in_tx,
    .tx_failed = sq_tx_failed,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .query = sq_query,
    .next = sq_next,
    .rows_free = sq_rows_free,
    .col_count = sq_col_count,
    .is_null = sq_is_null,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_bool = sq_col_bool,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .checkpoint = sq_checkpoint,
};
