/*
 * auth-store.c: venus-auth's durable state over libvc's db (sqlite or PostgreSQL).
 * Contract and semantics: auth-store.h; schema: sql/auth/<backend>/.
 *
 * Reads run on a pooled connection in autocommit mode; writes that touch more than one row or
 * check before writing run in vc_db_tx (idempotent callbacks: they may be retried on -EBUSY).
 * Booleans are written as TRUE/FALSE literals or VC_DB_BOOL binds and tested with `NOT col`,
 * which means the same on sqlite (INTEGER 0/1) and PostgreSQL (BOOLEAN).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth-store.h"
#include "auth_migrations.h"
#include "vc/address.h"
#include "vc/db.h"
#include "vc/util.h"

#define STORE_POOL_SIZE 8
#define ERRMSG_MAX 512

struct auth_store {
    vc_db_t *db;
};

/* ---- errors ---- */

static _Thread_local char errmsg[ERRMSG_MAX];

const char *auth_store_errmsg(void)
{
    return errmsg;
}

static void clear_err(void)
{
    errmsg[0] = '\0';
}

static int fail(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
    va_end(ap);
    return r;
}

/* A database (or allocation) failure while doing `what`. */
static int db_fail(int r, const char *what)
{
    const char *m = vc_db_last_errmsg();
    if (r == -ENOMEM)
        return fail(r, "%s: out of memory", what);
    if (!vc_strempty(m))
        return fail(r, "%s: %s", what, m);
    return fail(r, "%s: %s", what, vc_strerror(r));
}

static int not_found(void)
{
    return fail(-ENOENT, "record not found");
}

/* ---- helpers ---- */

static int64_t now_ns(void)
{
    return vc_now_real_us() * 1000;
}

static int64_t now_s(void)
{
    return vc_now_real_us() / 1000000;
}

static int acquire(auth_store_t *s, vc_db_conn_t **ret)
{
    int r = vc_db_acquire(s->db, -1, ret);
    if (r < 0)
        return db_fail(r, "acquire connection");
    return 0;
}

/* vc_db_tx that always leaves a message on failure (BEGIN/COMMIT errors do not pass fn). */
static int run_tx(auth_store_t *s, const char *what, vc_db_fn_t fn, void *userdata)
{
    clear_err();
    int r = vc_db_tx(s->db, fn, userdata);
    if (r < 0 && errmsg[0] == '\0')
        db_fail(r, what);
    return r;
}

/* One statement in autocommit mode; returns the rows affected. */
static int exec1(auth_store_t *s, const char *what, const char *sql, const vc_db_bind_t *b, size_t nb)
{
    vc_db_conn_t *c;
    int r = acquire(s, &c);
    if (r < 0)
        return r;
    r = vc_db_exec(c, sql, b, nb);
    if (r < 0)
        db_fail(r, what);
    vc_db_release(c);
    return r;
}

/* First column of the first row as an integer (a COUNT). */
static int query_count(auth_store_t *s, const char *what, int64_t *ret, const char *sql,
                       const vc_db_bind_t *b, size_t nb)
{
    vc_db_conn_t *c;
    int64_t v = 0;
    int r = acquire(s, &c);
    if (r < 0)
        return r;
    r = vc_db_query_int64(c, sql, b, nb, &v);
    vc_db_release(c);
    if (r < 0)
        return db_fail(r, what);
    *ret = v;
    return 0;
}

static int query_exists(auth_store_t *s, const char *what, bool *ret, const char *sql, const vc_db_bind_t *b,
                        size_t nb)
{
    int64_t n = 0;
    int r = query_count(s, what, &n, sql, b, nb);
    if (r < 0)
        return r;
    *ret = n > 0;
    return 0;
}

static int dup_col(vc_db_rows_t *rows, int col, char **ret)
{
    const char *t = vc_db_col_text(rows, col, NULL);
    *ret = strdup(t ? t : "");
    return *ret ? 0 : -ENOMEM;
}

/* "f" + stored address. */
static int dup_addr_col(vc_db_rows_t *rows, int col, char **ret)
{
    const char *t = vc_db_col_text(rows, col, NULL);
    size_t n = t ? strlen(t) : 0;
    char *p = malloc(n + 2);
    if (!p)
        return -ENOMEM;
    p[0] = 'f';
    memcpy(p + 1, t ? t : "", n + 1);
    *ret = p;
    return 0;
}

#define PROTO_BIT(p) (1u << (p))
#define PROTO_ANY (PROTO_BIT(VC_ADDR_PROTOCOL_MAX) - 1)

/* Validates address s (network 'f' or 't') and writes its stored form (canonical, without the
 * network letter) to out. Protocols outside `allowed` give -EINVAL "invalid protocol type". */
static int addr_stored(const char *s, unsigned allowed, char out[VC_ADDRESS_STRLEN_MAX])
{
    vc_address_t a;
    char buf[VC_ADDRESS_STRLEN_MAX];

    if (vc_strempty(s) || vc_address_from_string(s, &a) < 0)
        return fail(-EINVAL, "invalid address '%s'", s ? s : "");
    if (!(allowed & PROTO_BIT(vc_address_protocol(&a))))
        return fail(-EINVAL, "invalid protocol type");
    int n = vc_address_to_string(&a, 'f', buf);
    if (n < 1)
        return fail(-EINVAL, "invalid address '%s'", s);
    memcpy(out, buf + 1, (size_t)n); /* includes the NUL */
    return 0;
}

/* Checks that user is live, locking its row on PostgreSQL so a concurrent delete waits. */
static int check_live_user(vc_db_conn_t *c, const char *user)
{
    int64_t one;
    const char *sql = vc_db_conn_backend(c) == VC_DB_POSTGRES
                          ? "SELECT 1 FROM users WHERE name = ? AND NOT is_deleted FOR SHARE"
                          : "SELECT 1 FROM users WHERE name = ? AND NOT is_deleted";
    int r = vc_db_query_int64(c, sql, VC_DB_ARGS(VC_DB_TEXT(user)), &one);
    if (r == -ENOENT)
        return -ENOENT;
    if (r < 0)
        return db_fail(r, "get user");
    return 0;
}

/* ---- generic row lists ---- */

typedef int (*row_read_fn)(vc_db_rows_t *rows, void *elem);
typedef void (*elem_done_fn)(void *elem);

/* Runs sql and reads every row into a malloc'ed array of `size`-byte elements (NULL if none).
 * read leaves a partly-filled element freeable by done. */
static int query_list(auth_store_t *s, const char *what, size_t size, row_read_fn read, elem_done_fn done,
                      void **ret, size_t *ret_n, const char *sql, const vc_db_bind_t *b, size_t nb)
{
    vc_db_conn_t *c;
    vc_db_rows_t *rows = NULL;
    char *v = NULL;
    size_t n = 0, cap = 0;

    int r = acquire(s, &c);
    if (r < 0)
        return r;
    r = vc_db_query(c, sql, b, nb, &rows);
    if (r < 0) {
        db_fail(r, what);
        goto out;
    }
    while ((r = vc_db_rows_next(rows)) > 0) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char *nv = realloc(v, ncap * size);
            if (!nv) {
                r = db_fail(-ENOMEM, what);
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        void *e = v + n * size;
        memset(e, 0, size);
        r = read(rows, e);
        if (r < 0) {
            done(e);
            db_fail(r, what);
            goto out;
        }
        n++;
    }
    if (r < 0) {
        db_fail(r, what);
        goto out;
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
    n = 0;
    r = 0;
out:
    for (size_t i = 0; i < n; i++)
        done(v + i * size);
    free(v);
    vc_db_rows_free(rows);
    vc_db_release(c);
    return r;
}

/* As query_list for a lookup by a unique key: the row goes to *ret (size bytes), -ENOENT
 * "record not found" if there is none. */
static int query_one(auth_store_t *s, const char *what, size_t size, row_read_fn read, elem_done_fn done,
                     void *ret, const char *sql, const vc_db_bind_t *b, size_t nb)
{
    void *v = NULL;
    size_t n = 0;
    int r = query_list(s, what, size, read, done, &v, &n, sql, b, nb);
    if (r < 0)
        return r;
    if (n == 0)
        return not_found();
    memcpy(ret, v, size);
    for (size_t i = 1; i < n; i++)
        done((char *)v + i * size);
    free(v);
    return 0;
}

static void pagination(int64_t *skip, int64_t *limit)
{
    if (*skip < 0)
        *skip = 0;
    if (*limit <= 0)
        *limit = INT64_MAX;
}

/* ---- open / close ---- */

int auth_store_open(const char *dsn, auth_store_t **ret, char **reterr_msg)
{
    vc_db_options_t opts = {.max_conns = STORE_POOL_SIZE};
    auth_store_t *s;
    int r;

    clear_err();
    r = vc_init();
    if (r < 0)
        return r;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    r = vc_db_open_migrated(dsn, &opts, "auth", auth_migrations, auth_migrations_count, &s->db, reterr_msg);
    if (r < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

auth_store_t *auth_store_free(auth_store_t *s)
{
    if (!s)
        return NULL;
    vc_db_free(s->db);
    free(s);
    return NULL;
}

const char *auth_store_backend(const auth_store_t *s)
{
    return vc_db_backend_name(vc_db_backend(s->db));
}

vc_db_t *auth_store_db(auth_store_t *s)
{
    return s->db;
}

/* ---- tokens ---- */

#define TOKEN_COLS "token, name, perm, extra, secret, create_ns, is_deleted"

void auth_token_done(auth_token_t *t)
{
    if (!t)
        return;
    free(t->token);
    free(t->name);
    free(t->perm);
    free(t->extra);
    free(t->secret_hex);
    memset(t, 0, sizeof(*t));
}

void auth_tokens_free(auth_token_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        auth_token_done(&v[i]);
    free(v);
}

static void token_done_v(void *e)
{
    auth_token_done(e);
}

static int token_read(vc_db_rows_t *rows, void *e)
{
    auth_token_t *t = e;
    if (dup_col(rows, 0, &t->token) < 0 || dup_col(rows, 1, &t->name) < 0 || dup_col(rows, 2, &t->perm) < 0 ||
        dup_col(rows, 3, &t->extra) < 0 || dup_col(rows, 4, &t->secret_hex) < 0)
        return -ENOMEM;
    t->create_ns = vc_db_col_int64(rows, 5);
    t->deleted = vc_db_col_bool(rows, 6);
    return 0;
}

int auth_store_token_add(auth_store_t *s, const auth_token_t *t)
{
    clear_err();
    if (!t || vc_strempty(t->token) || vc_strempty(t->name) || !t->perm || vc_strempty(t->secret_hex))
        return fail(-EINVAL, "token, name, perm and secret are required");
    int r = exec1(s, "add token",
                  "INSERT INTO tokens (token, name, perm, secret, extra, create_ns, is_deleted) "
                  "VALUES (?, ?, ?, ?, ?, ?, FALSE)",
                  VC_DB_ARGS(VC_DB_TEXT(t->token), VC_DB_TEXT(t->name), VC_DB_TEXT(t->perm),
                             VC_DB_TEXT(t->secret_hex), VC_DB_TEXT(t->extra ? t->extra : ""),
                             VC_DB_INT64(t->create_ns)));
    if (r == -EEXIST)
        return fail(r, "token already exists");
    return r < 0 ? r : 0;
}

int auth_store_token_get(auth_store_t *s, const char *token, bool include_deleted, auth_token_t *ret)
{
    clear_err();
    if (!token)
        return fail(-EINVAL, "token is required");
    return query_one(s, "get token", sizeof(auth_token_t), token_read, token_done_v, ret,
                     include_deleted ? "SELECT " TOKEN_COLS " FROM tokens WHERE token = ?"
                                     : "SELECT " TOKEN_COLS " FROM tokens WHERE token = ? AND NOT is_deleted",
                     VC_DB_ARGS(VC_DB_TEXT(token)));
}

int auth_store_token_list(auth_store_t *s, int64_t skip, int64_t limit, auth_token_t **ret, size_t *ret_n)
{
    void *v = NULL;
    clear_err();
    pagination(&skip, &limit);
    int r = query_list(s, "list tokens", sizeof(auth_token_t), token_read, token_done_v, &v, ret_n,
                       "SELECT " TOKEN_COLS " FROM tokens WHERE NOT is_deleted ORDER BY name, token "
                       "LIMIT ? OFFSET ?",
                       VC_DB_ARGS(VC_DB_INT64(limit), VC_DB_INT64(skip)));
    if (r >= 0)
        *ret = v;
    return r;
}

int auth_store_token_list_by_name(auth_store_t *s, const char *name, auth_token_t **ret, size_t *ret_n)
{
    void *v = NULL;
    clear_err();
    if (!name)
        return fail(-EINVAL, "name is required");
    int r = query_list(s, "list tokens", sizeof(auth_token_t), token_read, token_done_v, &v, ret_n,
                       "SELECT " TOKEN_COLS " FROM tokens WHERE name = ? AND NOT is_deleted "
                       "ORDER BY create_ns, token",
                       VC_DB_ARGS(VC_DB_TEXT(name)));
    if (r >= 0)
        *ret = v;
    return r;
}

int auth_store_token_set_deleted(auth_store_t *s, const char *token, bool deleted)
{
    clear_err();
    if (!token)
        return fail(-EINVAL, "token is required");
    int r = exec1(s, deleted ? "delete token" : "recover token",
                  "UPDATE tokens SET is_deleted = ? WHERE token = ?",
                  VC_DB_ARGS(VC_DB_BOOL(deleted), VC_DB_TEXT(token)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

int auth_store_token_has_perm(auth_store_t *s, const char *name, const char *perm, bool *ret)
{
    clear_err();
    if (!name || !perm)
        return fail(-EINVAL, "name and perm are required");
    return query_exists(s, "find token", ret,
                        "SELECT COUNT(*) FROM tokens WHERE name = ? AND perm = ? AND NOT is_deleted",
                        VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_TEXT(perm)));
}

int64_t auth_store_token_count(auth_store_t *s)
{
    int64_t n = 0;
    clear_err();
    int r =
        query_count(s, "count tokens", &n, "SELECT COUNT(*) FROM tokens WHERE NOT is_deleted", VC_DB_NONE);
    return r < 0 ? r : n;
}

/* ---- users ---- */

#define USER_COLS "id, name, comment, state, create_s, update_s"

void auth_user_done(auth_user_t *u)
{
    if (!u)
        return;
    free(u->name);
    free(u->comment);
    memset(u, 0, sizeof(*u));
}

void auth_users_free(auth_user_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        auth_user_done(&v[i]);
    free(v);
}

static void user_done_v(void *e)
{
    auth_user_done(e);
}

static int user_read(vc_db_rows_t *rows, void *e)
{
    auth_user_t *u = e;
    const char *id = vc_db_col_text(rows, 0, NULL);
    snprintf(u->id, sizeof(u->id), "%s", id ? id : "");
    if (dup_col(rows, 1, &u->name) < 0 || dup_col(rows, 2, &u->comment) < 0)
        return -ENOMEM;
    u->state = (int)vc_db_col_int64(rows, 3);
    u->create_s = vc_db_col_int64(rows, 4);
    u->update_s = vc_db_col_int64(rows, 5);
    return 0;
}

typedef struct user_create_ctx {
    const char *id;
    const char *name;
    const char *comment;
    int state;
    int64_t now;
} user_create_ctx_t;

static int user_create_tx(vc_db_conn_t *c, void *userdata)
{
    user_create_ctx_t *x = userdata;
    /* A soft-deleted user of that name is replaced (the name is unique). */
    int r = vc_db_exec(c, "DELETE FROM users WHERE name = ? AND is_deleted", VC_DB_ARGS(VC_DB_TEXT(x->name)));
    if (r < 0)
        return db_fail(r, "create user");
    r = vc_db_exec(c,
                   "INSERT INTO users (id, name, comment, state, create_s, update_s, is_deleted) "
                   "VALUES (?, ?, ?, ?, ?, ?, FALSE)",
                   VC_DB_ARGS(VC_DB_TEXT(x->id), VC_DB_TEXT(x->name), VC_DB_TEXT(x->comment),
                              VC_DB_INT64(x->state), VC_DB_INT64(x->now), VC_DB_INT64(x->now)));
    if (r == -EEXIST)
        return fail(r, "user already exists");
    if (r < 0)
        return db_fail(r, "create user");
    return 0;
}

int auth_store_user_create(auth_store_t *s, const char *name, const char *comment, int state,
                           auth_user_t *ret)
{
    char id[37];
    clear_err();
    if (vc_strempty(name))
        return fail(-EINVAL, "user name is required");
    vc_uuid4(id);
    user_create_ctx_t x = {
        .id = id, .name = name, .comment = comment ? comment : "", .state = state, .now = now_s()};
    int r = run_tx(s, "create user", user_create_tx, &x);
    if (r < 0)
        return r;
    if (ret) {
        auth_user_t u = {.state = state, .create_s = x.now, .update_s = x.now};
        memcpy(u.id, id, sizeof(u.id));
        u.name = strdup(name);
        u.comment = strdup(x.comment);
        if (!u.name || !u.comment) {
            auth_user_done(&u);
            return fail(-ENOMEM, "create user: out of memory");
        }
        *ret = u;
    }
    return 0;
}

int auth_store_user_get(auth_store_t *s, const char *name, auth_user_t *ret)
{
    clear_err();
    if (!name)
        return fail(-EINVAL, "user name is required");
    return query_one(s, "get user", sizeof(auth_user_t), user_read, user_done_v, ret,
                     "SELECT " USER_COLS " FROM users WHERE name = ? AND NOT is_deleted",
                     VC_DB_ARGS(VC_DB_TEXT(name)));
}

int auth_store_user_update(auth_store_t *s, const char *name, const char *comment, int state)
{
    clear_err();
    if (!name)
        return fail(-EINVAL, "user name is required");
    int r = exec1(s, "update user",
                  "UPDATE users SET comment = COALESCE(?, comment), "
                  "state = CASE WHEN ? = 0 THEN state ELSE ? END, update_s = ? "
                  "WHERE name = ? AND NOT is_deleted",
                  VC_DB_ARGS(VC_DB_TEXT(comment), VC_DB_INT64(state), VC_DB_INT64(state),
                             VC_DB_INT64(now_s()), VC_DB_TEXT(name)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

int auth_store_user_list(auth_store_t *s, int64_t skip, int64_t limit, int state, auth_user_t **ret,
                         size_t *ret_n)
{
    void *v = NULL;
    clear_err();
    pagination(&skip, &limit);
    int r =
        query_list(s, "list users", sizeof(auth_user_t), user_read, user_done_v, &v, ret_n,
                   "SELECT " USER_COLS " FROM users WHERE NOT is_deleted AND (? = 0 OR state = ?) "
                   "ORDER BY create_s, name LIMIT ? OFFSET ?",
                   VC_DB_ARGS(VC_DB_INT64(state), VC_DB_INT64(state), VC_DB_INT64(limit), VC_DB_INT64(skip)));
    if (r >= 0)
        *ret = v;
    return r;
}

typedef struct user_delete_ctx {
    const char *name;
    int64_t now_s;
    int64_t now_ns;
} user_delete_ctx_t;

static int user_delete_tx(vc_db_conn_t *c, void *userdata)
{
    user_delete_ctx_t *x = userdata;
    int r =
        vc_db_exec(c, "UPDATE users SET is_deleted = TRUE, update_s = ? WHERE name = ? AND NOT is_deleted",
                   VC_DB_ARGS(VC_DB_INT64(x->now_s), VC_DB_TEXT(x->name)));
    if (r < 0)
        return db_fail(r, "delete user");
    if (r == 0)
        return not_found();
    r = vc_db_exec(c, "UPDATE miners SET deleted = TRUE, update_ns = ? WHERE user_name = ? AND NOT deleted",
                   VC_DB_ARGS(VC_DB_INT64(x->now_ns), VC_DB_TEXT(x->name)));
    if (r < 0)
        return db_fail(r, "delete user's miners");
    r = vc_db_exec(c, "UPDATE signers SET deleted = TRUE, update_ns = ? WHERE user_name = ? AND NOT deleted",
                   VC_DB_ARGS(VC_DB_INT64(x->now_ns), VC_DB_TEXT(x->name)));
    if (r < 0)
        return db_fail(r, "delete user's signers");
    return 0;
}

int auth_store_user_delete(auth_store_t *s, const char *name)
{
    clear_err();
    if (!name)
        return fail(-EINVAL, "user name is required");
    int64_t ns = now_ns();
    user_delete_ctx_t x = {.name = name, .now_s = ns / 1000000000, .now_ns = ns};
    return run_tx(s, "delete user", user_delete_tx, &x);
}

int auth_store_user_recover(auth_store_t *s, const char *name)
{
    clear_err();
    if (!name)
        return fail(-EINVAL, "user name is required");
    int r = exec1(s, "recover user",
                  "UPDATE users SET is_deleted = FALSE, update_s = ? WHERE name = ? AND is_deleted",
                  VC_DB_ARGS(VC_DB_INT64(now_s()), VC_DB_TEXT(name)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

int auth_store_users_verify(auth_store_t *s, const char *const *names, size_t n)
{
    vc_db_conn_t *c;
    clear_err();
    int r = acquire(s, &c);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        int64_t one;
        r = vc_db_query_int64(c, "SELECT 1 FROM users WHERE name = ? AND NOT is_deleted",
                              VC_DB_ARGS(VC_DB_TEXT(names[i] ? names[i] : "")), &one);
        if (r == -ENOENT) {
            fail(r, "verify %s: record not found", names[i] ? names[i] : "");
            break;
        }
        if (r < 0) {
            db_fail(r, "verify users");
            break;
        }
    }
    vc_db_release(c);
    return r < 0 ? r : 0;
}

int64_t auth_store_user_count(auth_store_t *s)
{
    int64_t n = 0;
    clear_err();
    int r = query_count(s, "count users", &n, "SELECT COUNT(*) FROM users WHERE NOT is_deleted", VC_DB_NONE);
    return r < 0 ? r : n;
}

/* ---- miners ---- */

#define MINER_COLS "miner, user_name, open_mining, create_ns, update_ns"

void auth_miner_done(auth_miner_t *m)
{
    if (!m)
        return;
    free(m->miner);
    free(m->user);
    memset(m, 0, sizeof(*m));
}

void auth_miners_free(auth_miner_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        auth_miner_done(&v[i]);
    free(v);
}

static void miner_done_v(void *e)
{
    auth_miner_done(e);
}

static int miner_read(vc_db_rows_t *rows, void *e)
{
    auth_miner_t *m = e;
    if (dup_addr_col(rows, 0, &m->miner) < 0 || dup_col(rows, 1, &m->user) < 0)
        return -ENOMEM;
    m->open_mining = vc_db_col_bool(rows, 2);
    m->create_ns = vc_db_col_int64(rows, 3);
    m->update_ns = vc_db_col_int64(rows, 4);
    return 0;
}

typedef struct miner_upsert_ctx {
    const char *user;
    const char *miner_in;
    const char *miner; /* stored form */
    bool open_mining;
    int64_t now;
    bool created;
} miner_upsert_ctx_t;

static int miner_upsert_tx(vc_db_conn_t *c, void *userdata)
{
    miner_upsert_ctx_t *x = userdata;
    int64_t create_ns;
    int r = check_live_user(c, x->user);
    if (r == -ENOENT)
        return fail(r, "can't bind miner:%s to not exist user:%s", x->miner_in, x->user);
    if (r < 0)
        return r;
    /* A new or revived row gets create_ns = now: that is how "created" is told apart. */
    r = vc_db_query_int64(
        c,
        "INSERT INTO miners (miner, user_name, open_mining, create_ns, update_ns, deleted) "
        "VALUES (?, ?, ?, ?, ?, FALSE) "
        "ON CONFLICT (miner) DO UPDATE SET user_name = excluded.user_name, "
        "open_mining = excluded.open_mining, "
        "create_ns = CASE WHEN miners.deleted THEN excluded.create_ns ELSE miners.create_ns END, "
        "update_ns = excluded.update_ns, deleted = FALSE "
        "RETURNING create_ns",
        VC_DB_ARGS(VC_DB_TEXT(x->miner), VC_DB_TEXT(x->user), VC_DB_BOOL(x->open_mining), VC_DB_INT64(x->now),
                   VC_DB_INT64(x->now)),
        &create_ns);
    if (r < 0)
        return db_fail(r, "upsert miner");
    x->created = create_ns == x->now;
    return 0;
}

int auth_store_miner_upsert(auth_store_t *s, const char *user, const char *miner, bool open_mining,
                            bool *ret_created)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    if (vc_strempty(user))
        return fail(-EINVAL, "user is required");
    int r = addr_stored(miner, PROTO_BIT(VC_ADDR_ID), stored);
    if (r < 0)
        return r;
    miner_upsert_ctx_t x = {
        .user = user, .miner_in = miner, .miner = stored, .open_mining = open_mining, .now = now_ns()};
    r = run_tx(s, "upsert miner", miner_upsert_tx, &x);
    if (r < 0)
        return r;
    if (ret_created)
        *ret_created = x.created;
    return 0;
}

int auth_store_user_by_miner(auth_store_t *s, const char *miner, auth_user_t *ret)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = addr_stored(miner, PROTO_ANY, stored);
    if (r < 0)
        return r;
    return query_one(s, "get user by miner", sizeof(auth_user_t), user_read, user_done_v, ret,
                     "SELECT u.id, u.name, u.comment, u.state, u.create_s, u.update_s "
                     "FROM miners m JOIN users u ON u.name = m.user_name "
                     "WHERE m.miner = ? AND NOT m.deleted AND NOT u.is_deleted",
                     VC_DB_ARGS(VC_DB_TEXT(stored)));
}

int auth_store_miner_exist_in_user(auth_store_t *s, const char *user, const char *miner, bool *ret)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    if (!user)
        return fail(-EINVAL, "user is required");
    int r = addr_stored(miner, PROTO_ANY, stored);
    if (r < 0)
        return r;
    return query_exists(s, "find miner", ret,
                        "SELECT COUNT(*) FROM miners WHERE miner = ? AND user_name = ? AND NOT deleted",
                        VC_DB_ARGS(VC_DB_TEXT(stored), VC_DB_TEXT(user)));
}

int auth_store_miner_has(auth_store_t *s, const char *miner, bool *ret)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = addr_stored(miner, PROTO_ANY, stored);
    if (r < 0)
        return r;
    return query_exists(s, "find miner", ret, "SELECT COUNT(*) FROM miners WHERE miner = ? AND NOT deleted",
                        VC_DB_ARGS(VC_DB_TEXT(stored)));
}

int auth_store_miner_list(auth_store_t *s, const char *user, auth_miner_t **ret, size_t *ret_n)
{
    void *v = NULL;
    clear_err();
    if (!user)
        return fail(-EINVAL, "user is required");
    int r = query_list(s, "list miners", sizeof(auth_miner_t), miner_read, miner_done_v, &v, ret_n,
                       "SELECT " MINER_COLS " FROM miners WHERE user_name = ? AND NOT deleted "
                       "ORDER BY create_ns, miner",
                       VC_DB_ARGS(VC_DB_TEXT(user)));
    if (r >= 0)
        *ret = v;
    return r;
}

int auth_store_miner_delete(auth_store_t *s, const char *miner, bool *ret_existed)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = addr_stored(miner, PROTO_ANY, stored);
    if (r < 0)
        return r;
    r = exec1(s, "delete miner",
              "UPDATE miners SET deleted = TRUE, update_ns = ? WHERE miner = ? AND NOT deleted",
              VC_DB_ARGS(VC_DB_INT64(now_ns()), VC_DB_TEXT(stored)));
    if (r < 0)
        return r;
    if (ret_existed)
        *ret_existed = r > 0;
    return 0;
}

/* ---- signers ---- */

#define SIGNER_COLS "signer, user_name, create_ns, update_ns"
#define SIGNER_PROTOS (PROTO_BIT(VC_ADDR_SECP256K1) | PROTO_BIT(VC_ADDR_BLS) | PROTO_BIT(VC_ADDR_DELEGATED))

void auth_signer_done(auth_signer_t *m)
{
    if (!m)
        return;
    free(m->signer);
    free(m->user);
    memset(m, 0, sizeof(*m));
}

void auth_signers_free(auth_signer_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        auth_signer_done(&v[i]);
    free(v);
}

static void signer_done_v(void *e)
{
    auth_signer_done(e);
}

static int signer_read(vc_db_rows_t *rows, void *e)
{
    auth_signer_t *m = e;
    if (dup_addr_col(rows, 0, &m->signer) < 0 || dup_col(rows, 1, &m->user) < 0)
        return -ENOMEM;
    m->create_ns = vc_db_col_int64(rows, 2);
    m->update_ns = vc_db_col_int64(rows, 3);
    return 0;
}

/* Validates every signer into one malloc'ed array of stored forms. */
static int signers_stored(const char *const *signers, size_t n, unsigned allowed,
                          char (**ret)[VC_ADDRESS_STRLEN_MAX])
{
    char(*v)[VC_ADDRESS_STRLEN_MAX] = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return fail(-ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int r = addr_stored(signers[i], allowed, v[i]);
        if (r < 0) {
            free(v);
            return r;
        }
    }
    *ret = v;
    return 0;
}

typedef struct signers_ctx {
    const char *user;
    const char *const *signers_in;
    char (*signers)[VC_ADDRESS_STRLEN_MAX];
    size_t n;
    int64_t now;
} signers_ctx_t;

static int signer_register_tx(vc_db_conn_t *c, void *userdata)
{
    signers_ctx_t *x = userdata;
    int r = check_live_user(c, x->user);
    if (r == -ENOENT)
        return fail(r, "can't bind signer:%s to not exist user:%s", x->n ? x->signers_in[0] : "", x->user);
    if (r < 0)
        return r;
    for (size_t i = 0; i < x->n; i++) {
        r = vc_db_exec(
            c,
            "INSERT INTO signers (user_name, signer, create_ns, update_ns, deleted) "
            "VALUES (?, ?, ?, ?, FALSE) "
            "ON CONFLICT (user_name, signer) DO UPDATE SET "
            "create_ns = CASE WHEN signers.deleted THEN excluded.create_ns ELSE signers.create_ns END, "
            "update_ns = excluded.update_ns, deleted = FALSE",
            VC_DB_ARGS(VC_DB_TEXT(x->user), VC_DB_TEXT(x->signers[i]), VC_DB_INT64(x->now),
                       VC_DB_INT64(x->now)));
        if (r < 0)
            return db_fail(r, "register signer");
    }
    return 0;
}

int auth_store_signer_register(auth_store_t *s, const char *user, const char *const *signers, size_t n)
{
    char(*stored)[VC_ADDRESS_STRLEN_MAX] = NULL;
    clear_err();
    if (vc_strempty(user))
        return fail(-EINVAL, "user is required");
    int r = signers_stored(signers, n, SIGNER_PROTOS, &stored);
    if (r < 0)
        return r;
    signers_ctx_t x = {.user = user, .signers_in = signers, .signers = stored, .n = n, .now = now_ns()};
    r = run_tx(s, "register signers", signer_register_tx, &x);
    free(stored);
    return r < 0 ? r : 0;
}

static int signer_unregister_tx(vc_db_conn_t *c, void *userdata)
{
    signers_ctx_t *x = userdata;
    for (size_t i = 0; i < x->n; i++) {
        int r = vc_db_exec(c,
                           "UPDATE signers SET deleted = TRUE, update_ns = ? "
                           "WHERE user_name = ? AND signer = ? AND NOT deleted",
                           VC_DB_ARGS(VC_DB_INT64(x->now), VC_DB_TEXT(x->user), VC_DB_TEXT(x->signers[i])));
        if (r < 0)
            return db_fail(r, "unregister signer");
    }
    return 0;
}

int auth_store_signer_unregister(auth_store_t *s, const char *user, const char *const *signers, size_t n)
{
    char(*stored)[VC_ADDRESS_STRLEN_MAX] = NULL;
    clear_err();
    if (!user)
        return fail(-EINVAL, "user is required");
    int r = signers_stored(signers, n, PROTO_ANY, &stored);
    if (r < 0)
        return r;
    signers_ctx_t x = {.user = user, .signers_in = signers, .signers = stored, .n = n, .now = now_ns()};
    r = run_tx(s, "unregister signers", signer_unregister_tx, &x);
    free(stored);
    return r < 0 ? r : 0;
}

int auth_store_signer_exist_in_user(auth_store_t *s, const char *user, const char *signer, bool *ret)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    if (!user)
        return fail(-EINVAL, "user is required");
    int r = addr_stored(signer, PROTO_ANY, stored);
    if (r < 0)
        return r;
    return query_exists(s, "find signer", ret,
                        "SELECT COUNT(*) FROM signers WHERE signer = ? AND user_name = ? AND NOT deleted",
                        VC_DB_ARGS(VC_DB_TEXT(stored), VC_DB_TEXT(user)));
}

int auth_store_signer_has(auth_store_t *s, const char *signer, bool *ret)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = addr_stored(signer, PROTO_ANY, stored);
    if (r < 0)
        return r;
    return query_exists(s, "find signer", ret,
                        "SELECT COUNT(*) FROM signers WHERE signer = ? AND NOT deleted",
                        VC_DB_ARGS(VC_DB_TEXT(stored)));
}

int auth_store_signer_list(auth_store_t *s, const char *user, auth_signer_t **ret, size_t *ret_n)
{
    void *v = NULL;
    clear_err();
    if (!user)
        return fail(-EINVAL, "user is required");
    int r = query_list(s, "list signers", sizeof(auth_signer_t), signer_read, signer_done_v, &v, ret_n,
                       "SELECT " SIGNER_COLS " FROM signers WHERE user_name = ? AND NOT deleted "
                       "ORDER BY create_ns, signer",
                       VC_DB_ARGS(VC_DB_TEXT(user)));
    if (r >= 0)
        *ret = v;
    return r;
}

int auth_store_users_by_signer(auth_store_t *s, const char *signer, auth_user_t **ret, size_t *ret_n)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    void *v = NULL;
    clear_err();
    int r = addr_stored(signer, PROTO_ANY, stored);
    if (r < 0)
        return r;
    r = query_list(s, "get users by signer", sizeof(auth_user_t), user_read, user_done_v, &v, ret_n,
                   "SELECT u.id, u.name, u.comment, u.state, u.create_s, u.update_s "
                   "FROM signers g JOIN users u ON u.name = g.user_name "
                   "WHERE g.signer = ? AND NOT g.deleted AND NOT u.is_deleted ORDER BY u.create_s, u.name",
                   VC_DB_ARGS(VC_DB_TEXT(stored)));
    if (r >= 0)
        *ret = v;
    return r;
}

int auth_store_signer_delete(auth_store_t *s, const char *signer, bool *ret_deleted)
{
    char stored[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = addr_stored(signer, PROTO_ANY, stored);
    if (r < 0)
        return r;
    r = exec1(s, "delete signer",
              "UPDATE signers SET deleted = TRUE, update_ns = ? WHERE signer = ? AND NOT deleted",
              VC_DB_ARGS(VC_DB_INT64(now_ns()), VC_DB_TEXT(stored)));
    if (r < 0)
        return r;
    if (ret_deleted)
        *ret_deleted = r > 0;
    return 0;
}

/* ---- rate limits ---- */

#define RATELIMIT_COLS "id, name, service, api, cap, reset_dur_ns"

void auth_ratelimit_done(auth_ratelimit_t *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->service);
    free(r->api);
    memset(r, 0, sizeof(*r));
}

void auth_ratelimits_free(auth_ratelimit_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        auth_ratelimit_done(&v[i]);
    free(v);
}

static void ratelimit_done_v(void *e)
{
    auth_ratelimit_done(e);
}

static int ratelimit_read(vc_db_rows_t *rows, void *e)
{
    auth_ratelimit_t *l = e;
    const char *id = vc_db_col_text(rows, 0, NULL);
    snprintf(l->id, sizeof(l->id), "%s", id ? id : "");
    if (dup_col(rows, 1, &l->name) < 0 || dup_col(rows, 2, &l->service) < 0 || dup_col(rows, 3, &l->api) < 0)
        return -ENOMEM;
    l->cap = vc_db_col_int64(rows, 4);
    l->reset_dur_ns = vc_db_col_int64(rows, 5);
    return 0;
}

int auth_store_ratelimit_get(auth_store_t *s, const char *name, const char *id, auth_ratelimit_t **ret,
                             size_t *ret_n)
{
    void *v = NULL;
    int r;
    clear_err();
    if (!name)
        return fail(-EINVAL, "name is required");
    if (vc_strempty(id))
        r = query_list(
            s, "get rate limits", sizeof(auth_ratelimit_t), ratelimit_read, ratelimit_done_v, &v, ret_n,
            "SELECT " RATELIMIT_COLS " FROM user_rate_limits WHERE name = ? ORDER BY service, api, id",
            VC_DB_ARGS(VC_DB_TEXT(name)));
    else
        r = query_list(s, "get rate limits", sizeof(auth_ratelimit_t), ratelimit_read, ratelimit_done_v, &v,
                       ret_n, "SELECT " RATELIMIT_COLS " FROM user_rate_limits WHERE name = ? AND id = ?",
                       VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_TEXT(id)));
    if (r >= 0)
        *ret = v;
    return r;
}

int auth_store_ratelimit_upsert(auth_store_t *s, const auth_ratelimit_t *l, char ret_id[37])
{
    char id[37];
    clear_err();
    if (!l || vc_strempty(l->name))
        return fail(-EINVAL, "name is required");
    if (l->id[0])
        snprintf(id, sizeof(id), "%s", l->id);
    else
        vc_uuid4(id);
    int r = exec1(s, "upsert rate limit",
                  "INSERT INTO user_rate_limits (id, name, service, api, cap, reset_dur_ns) "
                  "VALUES (?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET name = excluded.name, service = excluded.service, "
                  "api = excluded.api, cap = excluded.cap, reset_dur_ns = excluded.reset_dur_ns",
                  VC_DB_ARGS(VC_DB_TEXT(id), VC_DB_TEXT(l->name), VC_DB_TEXT(l->service ? l->service : ""),
                             VC_DB_TEXT(l->api ? l->api : ""), VC_DB_INT64(l->cap),
                             VC_DB_INT64(l->reset_dur_ns)));
    if (r < 0)
        return r;
    if (ret_id)
        memcpy(ret_id, id, sizeof(id));
    return 0;
}

int auth_store_ratelimit_delete(auth_store_t *s, const char *name, const char *id)
{
    clear_err();
    if (vc_strempty(name) || vc_strempty(id))
        return fail(-EINVAL, "name and id are required");
    int r = exec1(s, "delete rate limit", "DELETE FROM user_rate_limits WHERE name = ? AND id = ?",
                  VC_DB_ARGS(VC_DB_TEXT(name), VC_DB_TEXT(id)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}
