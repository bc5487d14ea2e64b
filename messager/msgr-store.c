/*
 * msgr-store.c: venus-messager's durable state over libvc's db (sqlite or PostgreSQL).
 * Contract and semantics: msgr-store.h; schema: sql/messager/<backend>/.
 *
 * Reads run on a pooled connection in autocommit mode; writes run in vc_db_tx (idempotent
 * callbacks: they may be retried on -EBUSY). On PostgreSQL (READ COMMITTED) the rows a write
 * decides on are locked with SELECT ... FOR UPDATE; sqlite serializes writers (BEGIN
 * IMMEDIATE). Text binds are untyped on PostgreSQL, so SQL never tests a text bind for NULL:
 * optional filters are added to the statement text instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messager_migrations.h"
#include "msgr-store.h"
#include "vc/util.h"

#define STORE_POOL_SIZE 8
#define ERRMSG_MAX 512
/* Spec 4.4 step 3: without FillMsg rows, the max nonce of this many recent OnChainMsg rows. */
#define SYNC_ONCHAIN_WINDOW 50

#define ACTIVE_FROM                                                                                          \
    "EXISTS (SELECT 1 FROM addresses a WHERE a.addr = messages.from_addr AND a.is_deleted = -1 "             \
    "AND a.state = 1)"

struct msgr_store {
    vc_db_t *db;
};

/* ---- errors ---- */

static _Thread_local char errmsg[ERRMSG_MAX];

const char *msgr_store_errmsg(void)
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

static bool is_pg(vc_db_conn_t *c)
{
    return vc_db_conn_backend(c) == VC_DB_POSTGRES;
}

static int acquire(msgr_store_t *s, vc_db_conn_t **ret)
{
    int r = vc_db_acquire(s->db, -1, ret);
    if (r < 0)
        return db_fail(r, "acquire connection");
    return 0;
}

static int run_tx(msgr_store_t *s, const char *what, vc_db_fn_t fn, void *userdata)
{
    clear_err();
    int r = vc_db_tx(s->db, fn, userdata);
    if (r < 0 && errmsg[0] == '\0')
        db_fail(r, what);
    return r;
}

static int exec1(msgr_store_t *s, const char *what, const char *sql, const vc_db_bind_t *b, size_t nb)
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

static int query_count(msgr_store_t *s, const char *what, int64_t *ret, const char *sql, const vc_db_bind_t *b,
                       size_t nb)
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

static int fence_check(vc_db_conn_t *c, const msgr_fence_t *fence)
{
    if (!fence || !fence->check)
        return 0;
    int r = fence->check(c, fence->userdata);
    if (r < 0 && errmsg[0] == '\0')
        fail(r, "fencing check failed: %s", vc_strerror(r));
    return r;
}

static int canon(const char *addr, char out[VC_ADDRESS_STRLEN_MAX])
{
    if (msgr_addr_canon(addr, out) < 0)
        return fail(-EINVAL, "invalid address '%.128s'", addr ? addr : "");
    return 0;
}

static int dup_text(vc_db_rows_t *rows, int col, char **ret)
{
    const char *t = vc_db_col_text(rows, col, NULL);
    *ret = strdup(t ? t : "");
    return *ret ? 0 : -ENOMEM;
}

static int big_col(vc_db_rows_t *rows, int col, vc_bigint_t *ret)
{
    const char *t = vc_db_col_text(rows, col, NULL);
    if (vc_strempty(t)) {
        *ret = VC_BIGINT_ZERO;
        return 0;
    }
    return vc_bigint_from_string(t, ret) < 0 ? VC_EPARSE : 0;
}

static int cid_col(vc_db_rows_t *rows, int col, vc_cid_t *ret)
{
    const char *t = vc_db_col_text(rows, col, NULL);
    memset(ret, 0, sizeof(*ret));
    if (vc_strempty(t))
        return 0;
    return vc_cid_from_string(t, ret) < 0 ? VC_EPARSE : 0;
}

static void uuid_col(vc_db_rows_t *rows, int col, char out[37])
{
    const char *t = vc_db_col_text(rows, col, NULL);
    snprintf(out, 37, "%s", t ? t : "");
}

typedef struct bigstr {
    char s[VC_BIGINT_STRLEN_MAX];
} bigstr_t;

static bigstr_t big_str(const vc_bigint_t *v)
{
    bigstr_t b;
    if (vc_bigint_to_string(v, b.s, sizeof(b.s)) < 0)
        snprintf(b.s, sizeof(b.s), "0");
    return b;
}

typedef struct cidstr {
    char s[VC_CID_STRLEN_MAX];
} cidstr_t;

static cidstr_t cid_str(const vc_cid_t *c)
{
    cidstr_t x;
    x.s[0] = '\0';
    if (c->len > 0 && vc_cid_to_string(c, x.s) < 0)
        x.s[0] = '\0';
    return x;
}

/* NULL for an empty string (a nil CID). */
static const char *nullable(const char *s)
{
    return vc_strempty(s) ? NULL : s;
}

/* Signature JSON for signed_data (NULL when unsigned). *ret malloc'ed. */
static int sig_text(bool has, const vc_signature_t *sig, char **ret)
{
    *ret = NULL;
    if (!has)
        return 0;
    json_t *j = vc_signature_to_json(sig);
    if (!j)
        return -ENOMEM;
    *ret = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return *ret ? 0 : -ENOMEM;
}

/* ---- generic row lists ---- */

typedef int (*row_read_fn)(vc_db_rows_t *rows, void *elem);
typedef void (*elem_done_fn)(void *elem);

static int query_list_c(vc_db_conn_t *c, const char *what, size_t size, row_read_fn read, elem_done_fn done,
                        void **ret, size_t *ret_n, const char *sql, const vc_db_bind_t *b, size_t nb)
{
    vc_db_rows_t *rows = NULL;
    char *v = NULL;
    size_t n = 0, cap = 0;
    int r = vc_db_query(c, sql, b, nb, &rows);
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
            if (r == -ENOMEM)
                db_fail(r, what);
            else
                fail(r, "%s: corrupt row: %s", what, vc_strerror(r));
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
    return r;
}

static int query_list(msgr_store_t *s, const char *what, size_t size, row_read_fn read, elem_done_fn done,
                      void **ret, size_t *ret_n, const char *sql, const vc_db_bind_t *b, size_t nb)
{
    vc_db_conn_t *c;
    int r = acquire(s, &c);
    if (r < 0)
        return r;
    r = query_list_c(c, what, size, read, done, ret, ret_n, sql, b, nb);
    vc_db_release(c);
    return r;
}

static int query_one(msgr_store_t *s, const char *what, size_t size, row_read_fn read, elem_done_fn done,
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

/* A statement built at run time with a growing bind list. */
typedef struct qbuild {
    vc_buf_t sql;
    vc_db_bind_t *b;
    size_t n, cap;
    bool oom;
} qbuild_t;

static void qb_sql(qbuild_t *q, const char *s)
{
    if (vc_buf_append_str(&q->sql, s) < 0)
        q->oom = true;
}

static void qb_bind(qbuild_t *q, vc_db_bind_t v)
{
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        vc_db_bind_t *nb = realloc(q->b, ncap * sizeof(*nb));
        if (!nb) {
            q->oom = true;
            return;
        }
        q->b = nb;
        q->cap = ncap;
    }
    q->b[q->n++] = v;
}

static void qb_done(qbuild_t *q)
{
    vc_buf_done(&q->sql);
    free(q->b);
}

/* ---- open / close ---- */

int msgr_store_open(const char *dsn, msgr_store_t **ret, char **reterr_msg)
{
    vc_db_options_t opts = {.max_conns = STORE_POOL_SIZE};
    msgr_store_t *s;
    int r;

    clear_err();
    r = vc_init();
    if (r < 0)
        return r;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    r = vc_db_open_migrated(dsn, &opts, "messager", messager_migrations, messager_migrations_count, &s->db, reterr_msg);
    if (r < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

msgr_store_t *msgr_store_free(msgr_store_t *s)
{
    if (!s)
        return NULL;
    vc_db_free(s->db);
    free(s);
    return NULL;
}

const char *msgr_store_backend(const msgr_store_t *s)
{
    return vc_db_backend_name(vc_db_backend(s->db));
}

vc_db_t *msgr_store_db(msgr_store_t *s)
{
    return s->db;
}

void msgr_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ================================ messages ================================ */

#define MSG_COLS                                                                                             \
    "id, version, from_addr, nonce, \"to\", value, gas_limit, gas_fee_cap, gas_premium, method, params, "    \
    "signed_data, unsigned_cid, signed_cid, height, receipt_exit_code, receipt_return_value, "               \
    "receipt_gas_used, tipset_key, meta_expire_epoch, meta_gas_over_estimation, meta_max_fee, "              \
    "meta_gas_over_premium, wallet_name, state, error_msg, created_at, updated_at"

static void msg_done_v(void *e)
{
    msgr_message_done(e);
}

static int addr_col(vc_db_rows_t *rows, int col, vc_address_t *ret)
{
    const char *t = vc_db_col_text(rows, col, NULL);
    memset(ret, 0, sizeof(*ret));
    if (vc_strempty(t))
        return 0;
    return vc_address_from_string(t, ret) < 0 ? VC_EPARSE : 0;
}

static int msg_read(vc_db_rows_t *rows, void *e)
{
    msgr_message_t *m = e;
    size_t len;
    const void *p;
    int r;

    msgr_message_init(m);
    if (dup_text(rows, 0, &m->id) < 0)
        return -ENOMEM;
    m->msg.version = (uint64_t)vc_db_col_int64(rows, 1);
    if ((r = addr_col(rows, 2, &m->msg.from)) < 0)
        return r;
    m->msg.nonce = (uint64_t)vc_db_col_int64(rows, 3);
    if ((r = addr_col(rows, 4, &m->msg.to)) < 0 || (r = big_col(rows, 5, &m->msg.value)) < 0)
        return r;
    m->msg.gas_limit = vc_db_col_int64(rows, 6);
    if ((r = big_col(rows, 7, &m->msg.gas_fee_cap)) < 0 || (r = big_col(rows, 8, &m->msg.gas_premium)) < 0)
        return r;
    m->msg.method = (uint64_t)vc_db_col_int64(rows, 9);
    p = vc_db_col_blob(rows, 10, &len);
    if (len > 0 && vc_message_set_params(&m->msg, p, len) < 0)
        return -ENOMEM;
    const char *sig = vc_db_col_text(rows, 11, NULL);
    if (!vc_strempty(sig)) {
        json_t *j = json_loads(sig, 0, NULL);
        r = j ? vc_signature_from_json(j, &m->signature) : VC_EPARSE;
        json_decref(j);
        if (r < 0)
            return VC_EPARSE;
        m->has_signature = true;
    }
    if ((r = cid_col(rows, 12, &m->unsigned_cid)) < 0 || (r = cid_col(rows, 13, &m->signed_cid)) < 0)
        return r;
    m->height = vc_db_col_int64(rows, 14);
    m->receipt.exit_code = vc_db_col_int64(rows, 15);
    p = vc_db_col_blob(rows, 16, &len);
    if (len > 0 && msgr_message_set_return(m, p, len) < 0)
        return -ENOMEM;
    m->receipt.gas_used = vc_db_col_int64(rows, 17);
    if ((r = msgr_tsk_from_text(vc_db_col_text(rows, 18, NULL), &m->tsk, &m->n_tsk)) < 0)
        return r;
    m->meta.expire_epoch = vc_db_col_int64(rows, 19);
    m->meta.gas_over_estimation = vc_db_col_double(rows, 20);
    if ((r = big_col(rows, 21, &m->meta.max_fee)) < 0)
        return r;
    m->meta.gas_over_premium = vc_db_col_double(rows, 22);
    if (dup_text(rows, 23, &m->wallet_name) < 0)
        return -ENOMEM;
    m->state = (int)vc_db_col_int64(rows, 24);
    if (dup_text(rows, 25, &m->error_msg) < 0)
        return -ENOMEM;
    m->created_ns = vc_db_col_int64(rows, 26);
    m->updated_ns = vc_db_col_int64(rows, 27);
    return 0;
}

static int msg_check(const msgr_message_t *m)
{
    if (vc_strempty(m->id))
        return fail(-EINVAL, "empty uid");
    if (strlen(m->id) > MSGR_ID_MAX)
        return fail(-EINVAL, "message id longer than %d characters", MSGR_ID_MAX);
    if (msgr_chain_message_check(&m->msg) < 0)
        return fail(-EINVAL, "%s", msgr_types_errmsg());
    if (m->state < 0 || m->state >= MSGR_MSG_STATE_MAX)
        return fail(-EINVAL, "invalid message state %d", m->state);
    if (m->error_msg && strlen(m->error_msg) > MSGR_ERRMSG_MAX)
        return fail(-EINVAL, "error message longer than %d bytes", MSGR_ERRMSG_MAX);
    return 0;
}

/* Inserts m unless its id exists: 1 inserted, 0 the id is taken (nothing written, no error on
 * the transaction), < 0 error. */
static int msg_insert_c(vc_db_conn_t *c, const msgr_message_t *m, int64_t now)
{
    char from[VC_ADDRESS_STRLEN_MAX], to[VC_ADDRESS_STRLEN_MAX];
    _cleanup_free_ char *sig = NULL, *tsk = NULL;
    int r;

    if (vc_address_to_string(&m->msg.from, 'f', from) < 0 || vc_address_to_string(&m->msg.to, 'f', to) < 0)
        return fail(-EINVAL, "invalid message address");
    if (sig_text(m->has_signature, &m->signature, &sig) < 0 || msgr_tsk_to_text(m->tsk, m->n_tsk, &tsk) < 0)
        return fail(-ENOMEM, "insert message: out of memory");
    bigstr_t value = big_str(&m->msg.value), fee_cap = big_str(&m->msg.gas_fee_cap),
             premium = big_str(&m->msg.gas_premium), max_fee = big_str(&m->meta.max_fee);
    cidstr_t ucid = cid_str(&m->unsigned_cid), scid = cid_str(&m->signed_cid);
    r = vc_db_exec(
        c,
        "INSERT INTO messages (" MSG_COLS ") VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        VC_DB_ARGS(VC_DB_TEXT(m->id), VC_DB_INT64(m->msg.version), VC_DB_TEXT(from),
                   VC_DB_INT64(m->msg.nonce), VC_DB_TEXT(to), VC_DB_TEXT(value.s),
                   VC_DB_INT64(m->msg.gas_limit), VC_DB_TEXT(fee_cap.s), VC_DB_TEXT(premium.s),
                   VC_DB_INT64(m->msg.method),
                   m->msg.params_len ? VC_DB_BLOB(m->msg.params, m->msg.params_len) : VC_DB_NULL,
                   VC_DB_TEXT(sig), VC_DB_TEXT(nullable(ucid.s)), VC_DB_TEXT(nullable(scid.s)),
                   VC_DB_INT64(m->height), VC_DB_INT64(m->receipt.exit_code),
                   m->receipt.ret_len ? VC_DB_BLOB(m->receipt.ret, m->receipt.ret_len) : VC_DB_NULL,
                   VC_DB_INT64(m->receipt.gas_used), VC_DB_TEXT(tsk), VC_DB_INT64(m->meta.expire_epoch),
                   VC_DB_DOUBLE(m->meta.gas_over_estimation), VC_DB_TEXT(max_fee.s),
                   VC_DB_DOUBLE(m->meta.gas_over_premium), VC_DB_TEXT(m->wallet_name ? m->wallet_name : ""),
                   VC_DB_INT64(m->state), VC_DB_TEXT(m->error_msg ? m->error_msg : ""),
                   VC_DB_INT64(m->created_ns ? m->created_ns : now),
                   VC_DB_INT64(m->updated_ns ? m->updated_ns : now)));
    if (r == -EEXIST)
        return fail(r, "duplicate message id");
    if (r < 0)
        return db_fail(r, "insert message");
    return r > 0 ? 1 : 0;
}

/* msg_insert_c where a taken id is an error. */
static int msg_insert_new_c(vc_db_conn_t *c, const msgr_message_t *m, int64_t now)
{
    int r = msg_insert_c(c, m, now);
    if (r == 0)
        return fail(-EEXIST, "duplicate message id");
    return r < 0 ? r : 0;
}

/* Makes addr a live address (creating or reviving it) and returns its state. */
static int addr_ensure_c(vc_db_conn_t *c, const char *addr, int64_t now, bool *ret_created, int *ret_state)
{
    char id[37];
    int64_t st = 0;
    bool created = false;
    /* the usual case, a live address: one read */
    int r = vc_db_query_int64(c, "SELECT state FROM addresses WHERE addr = ? AND is_deleted = -1",
                              VC_DB_ARGS(VC_DB_TEXT(addr)), &st);
    if (r == 0)
        goto out;
    if (r != -ENOENT)
        return db_fail(r, "get address");
    vc_uuid4(id);
    r = vc_db_exec(
        c,
        "INSERT INTO addresses (id, addr, nonce, weight, state, sel_msg_num, is_deleted, created_at, "
        "updated_at) VALUES (?, ?, 0, 0, 1, 0, -1, ?, ?) ON CONFLICT (addr) DO NOTHING",
        VC_DB_ARGS(VC_DB_TEXT(id), VC_DB_TEXT(addr), VC_DB_INT64(now), VC_DB_INT64(now)));
    if (r < 0)
        return db_fail(r, "create address");
    created = r > 0;
    if (!created) {
        /* A soft-deleted row comes back as a fresh address that keeps its nonce. */
        r = vc_db_exec(c,
                       "UPDATE addresses SET is_deleted = -1, state = 1, weight = 0, sel_msg_num = 0, "
                       "gas_over_estimation = 0, max_fee = '0', gas_fee_cap = '0', gas_over_premium = 0, "
                       "base_fee = '0', created_at = ?, updated_at = ? WHERE addr = ? AND is_deleted = 1",
                       VC_DB_ARGS(VC_DB_INT64(now), VC_DB_INT64(now), VC_DB_TEXT(addr)));
        if (r < 0)
            return db_fail(r, "revive address");
        created = r > 0;
    }
    r = vc_db_query_int64(c, "SELECT state FROM addresses WHERE addr = ?", VC_DB_ARGS(VC_DB_TEXT(addr)), &st);
    if (r < 0)
        return db_fail(r, "get address");
out:
    if (ret_created)
        *ret_created = created;
    if (ret_state)
        *ret_state = (int)st;
    return 0;
}

typedef struct push_ctx {
    const msgr_message_t *msgs;
    size_t n;
    int64_t now;
} push_ctx_t;

static int push_tx(vc_db_conn_t *c, void *userdata)
{
    push_ctx_t *x = userdata;
    for (size_t i = 0; i < x->n; i++) {
        const msgr_message_t *m = &x->msgs[i];
        char from[VC_ADDRESS_STRLEN_MAX];
        int state = 0, r;
        if (vc_address_to_string(&m->msg.from, 'f', from) < 0)
            return fail(-EINVAL, "invalid From address");
        /* Consecutive messages of one sender need the address step once. */
        if (i == 0 || !vc_address_equal(&m->msg.from, &x->msgs[i - 1].msg.from)) {
            if ((r = addr_ensure_c(c, from, x->now, NULL, &state)) < 0)
                return r;
            if (state == MSGR_ADDR_FORBIDDEN)
                return fail(-EPERM, "address(%s) is forbidden", from);
        }
        if ((r = msg_insert_new_c(c, m, x->now)) < 0)
            return r;
    }
    return 0;
}

int msgr_store_msg_push(msgr_store_t *s, const msgr_message_t *msgs, size_t n)
{
    clear_err();
    for (size_t i = 0; i < n; i++) {
        int r = msg_check(&msgs[i]);
        if (r < 0)
            return r;
    }
    push_ctx_t x = {.msgs = msgs, .n = n, .now = now_ns()};
    return run_tx(s, "push message", push_tx, &x);
}

/* ---- group commit of pushes ----
 *
 * The usual way: one pass, no savepoints. A savepoint makes sqlite copy every page a message
 * touches to a sub-journal first (about a dozen index pages per message), which cost more than
 * the insert itself. Without them each message must fail before it writes anything, or undo
 * what it wrote: msg_check runs first; a taken id inserts nothing (ON CONFLICT DO NOTHING); the
 * sender's address is made live after its first message is in, and a forbidden sender's
 * message is deleted again. Anything else going wrong with one message (which on PostgreSQL
 * also aborts the transaction) rolls the batch back and runs it again the careful way, each
 * message in a savepoint of its own.
 */

typedef struct sender {
    const vc_address_t *addr;
    int state;
} sender_t;

typedef struct each_ctx {
    const msgr_message_t *const *msgs;
    size_t n;
    msgr_push_result_t *res;
    sender_t *senders; /* made live earlier in this transaction, with their state */
    size_t n_senders;
    bool careful; /* the fast pass met an unexpected error: use savepoints */
    int64_t now;
} each_ctx_t;

/* Errors that belong to the transaction, not to one message: the batch fails (or, on -EBUSY,
 * vc_db_tx runs it again). */
static bool batch_error(int r)
{
    return r == -EBUSY || r == VC_ETRANSPORT || r == -ENOMEM || r == -ETIMEDOUT;
}

static sender_t *find_sender(each_ctx_t *x, const vc_address_t *a)
{
    for (size_t k = 0; k < x->n_senders; k++)
        if (vc_address_equal(x->senders[k].addr, a))
            return &x->senders[k];
    return NULL;
}

static int forbidden(const vc_address_t *a)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(a, 'f', from);
    return fail(-EPERM, "address(%s) is forbidden", from);
}

/* Makes the sender of m live (first message of that sender in this transaction) and returns
 * its state. */
static int sender_ensure_c(vc_db_conn_t *c, each_ctx_t *x, const msgr_message_t *m, int *ret_state)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    int state = 0, r;
    if (vc_address_to_string(&m->msg.from, 'f', from) < 0)
        return fail(-EINVAL, "invalid From address");
    if ((r = addr_ensure_c(c, from, x->now, NULL, &state)) < 0)
        return r;
    x->senders[x->n_senders++] = (sender_t){.addr = &m->msg.from, .state = state};
    *ret_state = state;
    return 0;
}

/* What both passes check first: the message itself, and its sender if already met in this
 * transaction (*ret_known, NULL when not). */
static int push_start(each_ctx_t *x, const msgr_message_t *m, sender_t **ret_known)
{
    clear_err();
    int r = msg_check(m);
    if (r < 0)
        return r;
    *ret_known = find_sender(x, &m->msg.from);
    return *ret_known && (*ret_known)->state == MSGR_ADDR_FORBIDDEN ? forbidden(&m->msg.from) : 0;
}

/* The fast pass over one message: < 0 fails this message alone; a database error on the way
 * sets x->careful (the caller then abandons the pass). */
static int push_fast_c(vc_db_conn_t *c, each_ctx_t *x, const msgr_message_t *m)
{
    sender_t *known = NULL;
    int state = 0, r = push_start(x, m, &known);
    if (r < 0)
        return r;
    r = msg_insert_c(c, m, x->now);
    if (r == 0)
        return fail(-EEXIST, "duplicate message id");
    if (r > 0 && !known && (r = sender_ensure_c(c, x, m, &state)) == 0 && state == MSGR_ADDR_FORBIDDEN) {
        r = vc_db_exec(c, "DELETE FROM messages WHERE id = ?", VC_DB_ARGS(VC_DB_TEXT(m->id)));
        if (r >= 0)
            return forbidden(&m->msg.from);
        db_fail(r, "push message");
    }
    if (r < 0)
        x->careful = true;
    return r < 0 ? r : 0;
}

/* Keeps one message's outcome r (and this thread's error text) in res; returns r. */
static int record(msgr_push_result_t *res, int r)
{
    res->r = r;
    snprintf(res->errmsg, sizeof(res->errmsg), "%s", r < 0 ? errmsg : "");
    return r;
}

static int push_fast_tx(vc_db_conn_t *c, void *userdata)
{
    each_ctx_t *x = userdata;
    x->n_senders = 0;
    for (size_t i = 0; i < x->n; i++) {
        int r = record(&x->res[i], push_fast_c(c, x, x->msgs[i]));
        if (x->careful)
            return batch_error(r) ? r : -ECANCELED;
    }
    return 0;
}

/* The careful pass over one message: the address step, then the insert. */
static int push_one_c(vc_db_conn_t *c, each_ctx_t *x, const msgr_message_t *m)
{
    sender_t *known = NULL;
    int state = 0, r = push_start(x, m, &known);
    if (r < 0)
        return r;
    if (!known && (r = sender_ensure_c(c, x, m, &state)) < 0)
        return r;
    if (state == MSGR_ADDR_FORBIDDEN)
        return forbidden(&m->msg.from);
    return msg_insert_new_c(c, m, x->now);
}

static int push_careful_tx(vc_db_conn_t *c, void *userdata)
{
    each_ctx_t *x = userdata;
    x->n_senders = 0;
    for (size_t i = 0; i < x->n; i++) {
        size_t n_senders = x->n_senders;
        int r = vc_db_exec(c, "SAVEPOINT push_one", VC_DB_NONE);
        if (r < 0)
            return db_fail(r, "push message");
        if ((r = record(&x->res[i], push_one_c(c, x, x->msgs[i]))) < 0) {
            if (batch_error(r))
                return r;
            x->n_senders = n_senders; /* what the savepoint undoes is forgotten too */
            if ((r = vc_db_exec(c, "ROLLBACK TO SAVEPOINT push_one", VC_DB_NONE)) < 0)
                return db_fail(r, "push message");
        }
        if ((r = vc_db_exec(c, "RELEASE SAVEPOINT push_one", VC_DB_NONE)) < 0)
            return db_fail(r, "push message");
    }
    return 0;
}

int msgr_store_msg_push_each(msgr_store_t *s, const msgr_message_t *const *msgs, size_t n,
                             msgr_push_result_t *ret)
{
    clear_err();
    if (n == 0)
        return 0;
    each_ctx_t x = {
        .msgs = msgs, .n = n, .res = ret, .senders = calloc(n, sizeof(*x.senders)), .now = now_ns()};
    int r = x.senders ? run_tx(s, "push message", push_fast_tx, &x)
                      : fail(-ENOMEM, "push message: out of memory");
    if (r == -ECANCELED && x.careful)
        r = run_tx(s, "push message", push_careful_tx, &x);
    free(x.senders);
    if (r < 0)
        for (size_t i = 0; i < n; i++) {
            ret[i].r = r;
            snprintf(ret[i].errmsg, sizeof(ret[i].errmsg), "%s", errmsg);
        }
    return r < 0 ? r : 0;
}

static int insert_tx(vc_db_conn_t *c, void *userdata)
{
    push_ctx_t *x = userdata;
    return msg_insert_new_c(c, x->msgs, x->now);
}

int msgr_store_msg_insert(msgr_store_t *s, const msgr_message_t *m)
{
    clear_err();
    int r = msg_check(m);
    if (r < 0)
        return r;
    push_ctx_t x = {.msgs = m, .n = 1, .now = now_ns()};
    return run_tx(s, "insert message", insert_tx, &x);
}

static int msg_one(msgr_store_t *s, const char *what, msgr_message_t *ret, const char *sql, const vc_db_bind_t *b,
                   size_t nb)
{
    return query_one(s, what, sizeof(msgr_message_t), msg_read, msg_done_v, ret, sql, b, nb);
}

static int msg_list(msgr_store_t *s, const char *what, msgr_message_t **ret, size_t *ret_n, const char *sql,
                    const vc_db_bind_t *b, size_t nb)
{
    void *v = NULL;
    size_t n = 0;
    int r = query_list(s, what, sizeof(msgr_message_t), msg_read, msg_done_v, &v, &n, sql, b, nb);
    if (r < 0)
        return r;
    *ret = v;
    *ret_n = n;
    return 0;
}

int msgr_store_msg_get(msgr_store_t *s, const char *id, msgr_message_t *ret)
{
    clear_err();
    if (!id)
        return fail(-EINVAL, "empty uid");
    return msg_one(s, "get message", ret, "SELECT " MSG_COLS " FROM messages WHERE id = ?",
                   VC_DB_ARGS(VC_DB_TEXT(id)));
}

int msgr_store_msg_has(msgr_store_t *s, const char *id, bool *ret)
{
    int64_t n = 0;
    clear_err();
    if (!id)
        return fail(-EINVAL, "empty uid");
    int r = query_count(s, "has message", &n, "SELECT COUNT(*) FROM messages WHERE id = ?",
                        VC_DB_ARGS(VC_DB_TEXT(id)));
    if (r >= 0)
        *ret = n > 0;
    return r;
}

static int msg_by_cid(msgr_store_t *s, const char *col_sql, const vc_cid_t *c, msgr_message_t *ret)
{
    clear_err();
    if (!c || c->len == 0)
        return fail(-EINVAL, "undefined cid");
    cidstr_t cs = cid_str(c);
    return msg_one(s, "get message", ret, col_sql, VC_DB_ARGS(VC_DB_TEXT(cs.s)));
}

int msgr_store_msg_get_by_signed_cid(msgr_store_t *s, const vc_cid_t *c, msgr_message_t *ret)
{
    return msg_by_cid(s, "SELECT " MSG_COLS " FROM messages WHERE signed_cid = ? ORDER BY updated_at DESC LIMIT 1",
                      c, ret);
}

int msgr_store_msg_get_by_unsigned_cid(msgr_store_t *s, const vc_cid_t *c, msgr_message_t *ret)
{
    return msg_by_cid(s, "SELECT " MSG_COLS " FROM messages WHERE unsigned_cid = ? ORDER BY updated_at DESC LIMIT 1",
                      c, ret);
}

int msgr_store_msg_get_by_from_nonce(msgr_store_t *s, const char *from, uint64_t nonce, msgr_message_t *ret)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(from, f);
    if (r < 0)
        return r;
    /* Rows holding the nonce first, through msg_from_nonce; unfilled rows (whose nonce is a
     * placeholder) only when none does: they are not in that index, and finding them by sender
     * goes through every unfilled row. */
    r = msg_one(s, "get message", ret,
                "SELECT " MSG_COLS " FROM messages WHERE from_addr = ? AND nonce = ? AND state <> 1 "
                "ORDER BY CASE state WHEN 3 THEN 0 WHEN 2 THEN 1 WHEN 5 THEN 2 WHEN 4 THEN 3 ELSE 4 END, "
                "updated_at DESC LIMIT 1",
                VC_DB_ARGS(VC_DB_TEXT(f), VC_DB_INT64(nonce)));
    if (r != -ENOENT)
        return r;
    return msg_one(s, "get message", ret,
                   "SELECT " MSG_COLS " FROM messages WHERE state = 1 AND from_addr = ? AND nonce = ? "
                   "ORDER BY updated_at DESC LIMIT 1",
                   VC_DB_ARGS(VC_DB_TEXT(f), VC_DB_INT64(nonce)));
}

int msgr_store_msg_query(msgr_store_t *s, const msgr_query_params_t *q, msgr_message_t **ret, size_t *ret_n)
{
    qbuild_t b = {0};
    char (*fromv)[VC_ADDRESS_STRLEN_MAX] = NULL;
    int r;

    clear_err();
    if (!q)
        return fail(-EINVAL, "query params are required");
    if (q->limit > INT64_MAX || q->offset > INT64_MAX)
        return fail(-EINVAL, "limit or offset out of range");
    if (q->n_from > 0) {
        fromv = calloc(q->n_from, sizeof(*fromv));
        if (!fromv)
            return fail(-ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < q->n_from; i++)
        if ((r = canon(q->from[i], fromv[i])) < 0)
            goto out;
    /* By sender, the rows are in two indexes: msg_from_state_created (state <> 1) and
     * msg_state_created (state = 1), one branch each. */
    qb_sql(&b, "SELECT * FROM (");
    for (int unfilled = 0; unfilled < (q->n_from > 0 ? 2 : 1); unfilled++) {
        qb_sql(&b, unfilled ? " UNION ALL SELECT " MSG_COLS " FROM messages WHERE state = 1"
                            : "SELECT " MSG_COLS " FROM messages WHERE 1 = 1");
        if (q->n_from > 0) {
            qb_sql(&b, unfilled ? " AND from_addr IN (" : " AND state <> 1 AND from_addr IN (");
            for (size_t i = 0; i < q->n_from; i++) {
                qb_sql(&b, i ? ", ?" : "?");
                qb_bind(&b, VC_DB_TEXT(fromv[i]));
            }
            qb_sql(&b, ")");
        }
        if (q->n_states > 0) {
            qb_sql(&b, " AND state IN (");
            for (size_t i = 0; i < q->n_states; i++) {
                qb_sql(&b, i ? ", ?" : "?");
                qb_bind(&b, VC_DB_INT64(q->states[i]));
            }
            qb_sql(&b, ")");
        }
        if (q->has_by_update_at) {
            qb_sql(&b, " AND updated_at >= ?");
            qb_bind(&b, VC_DB_INT64(q->by_update_at_ns));
        }
    }
    qb_sql(&b, ") m");
    qb_sql(&b, q->asc ? " ORDER BY updated_at ASC, id ASC" : " ORDER BY updated_at DESC, id DESC");
    qb_sql(&b, " LIMIT ? OFFSET ?");
    qb_bind(&b, VC_DB_INT64(q->limit ? (int64_t)q->limit : INT64_MAX));
    qb_bind(&b, VC_DB_INT64((int64_t)q->offset));
    if (b.oom) {
        r = fail(-ENOMEM, "out of memory");
        goto out;
    }
    r = msg_list(s, "list messages", ret, ret_n, b.sql.data, b.b, b.n);
out:
    qb_done(&b);
    free(fromv);
    return r;
}

int msgr_store_msg_list_by_from_state(msgr_store_t *s, const char *from, int state, bool asc, int64_t page_index,
                                      int64_t page_size, int64_t created_before_ns, msgr_message_t **ret,
                                      size_t *ret_n)
{
    qbuild_t b = {0};
    char f[VC_ADDRESS_STRLEN_MAX];
    int r;

    clear_err();
    if (page_index < 1)
        page_index = 1;
    if (page_size < 0)
        page_size = 0;
    qb_sql(&b, "SELECT " MSG_COLS " FROM messages WHERE state = ?");
    qb_bind(&b, VC_DB_INT64(state));
    if (state != MSGR_MSG_UNFILL)
        qb_sql(&b, " AND state <> 1"); /* msg_from_state_created; unfilled rows: msg_state_created */
    if (!vc_strempty(from) && strcmp(from, "<empty>") != 0) {
        if ((r = canon(from, f)) < 0)
            goto out;
        qb_sql(&b, " AND from_addr = ?");
        qb_bind(&b, VC_DB_TEXT(f));
    }
    if (created_before_ns != 0) {
        qb_sql(&b, " AND created_at < ?");
        qb_bind(&b, VC_DB_INT64(created_before_ns));
    }
    qb_sql(&b, asc ? " ORDER BY created_at ASC, id ASC" : " ORDER BY created_at DESC, id DESC");
    qb_sql(&b, " LIMIT ? OFFSET ?");
    qb_bind(&b, VC_DB_INT64(page_size ? page_size : INT64_MAX));
    qb_bind(&b, VC_DB_INT64(page_size ? (page_index - 1) * page_size : 0));
    if (b.oom) {
        r = fail(-ENOMEM, "out of memory");
        goto out;
    }
    r = msg_list(s, "list messages", ret, ret_n, b.sql.data, b.b, b.n);
out:
    qb_done(&b);
    return r;
}

int msgr_store_msg_list_by_address(msgr_store_t *s, const char *from, msgr_message_t **ret, size_t *ret_n)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(from, f);
    if (r < 0)
        return r;
    return msg_list(s, "list messages", ret, ret_n,
                    "SELECT * FROM (SELECT " MSG_COLS " FROM messages WHERE from_addr = ? AND state <> 1 "
                    "UNION ALL SELECT " MSG_COLS " FROM messages WHERE state = 1 AND from_addr = ?) m "
                    "ORDER BY created_at, id",
                    VC_DB_ARGS(VC_DB_TEXT(f), VC_DB_TEXT(f)));
}

int msgr_store_msg_list_by_state(msgr_store_t *s, int state, bool active_only, int64_t limit, msgr_message_t **ret,
                                 size_t *ret_n)
{
    clear_err();
    return msg_list(s, "list messages", ret, ret_n,
                    active_only ? "SELECT " MSG_COLS " FROM messages WHERE state = ? AND " ACTIVE_FROM
                                  " ORDER BY updated_at, id LIMIT ?"
                                : "SELECT " MSG_COLS " FROM messages WHERE state = ? ORDER BY updated_at, id LIMIT ?",
                    VC_DB_ARGS(VC_DB_INT64(state), VC_DB_INT64(limit > 0 ? limit : INT64_MAX)));
}

int msgr_store_msg_list_failed(msgr_store_t *s, const char *const *from, size_t n_from, msgr_message_t **ret,
                               size_t *ret_n)
{
    qbuild_t b = {0};
    char (*fromv)[VC_ADDRESS_STRLEN_MAX] = NULL;
    int r = 0;

    clear_err();
    if (n_from > 0 && !(fromv = calloc(n_from, sizeof(*fromv))))
        return fail(-ENOMEM, "out of memory");
    qb_sql(&b, "SELECT " MSG_COLS " FROM messages WHERE state = 1 AND error_msg <> ''");
    if (n_from > 0) {
        qb_sql(&b, " AND from_addr IN (");
        for (size_t i = 0; i < n_from; i++) {
            if ((r = canon(from[i], fromv[i])) < 0)
                goto out;
            qb_sql(&b, i ? ", ?" : "?");
            qb_bind(&b, VC_DB_TEXT(fromv[i]));
        }
        qb_sql(&b, ")");
    }
    qb_sql(&b, " ORDER BY created_at, id");
    if (b.oom) {
        r = fail(-ENOMEM, "out of memory");
        goto out;
    }
    r = msg_list(s, "list failed messages", ret, ret_n, b.sql.data, b.b, b.n);
out:
    qb_done(&b);
    free(fromv);
    return r;
}

int msgr_store_msg_list_blocked(msgr_store_t *s, const char *from, int64_t created_before_ns, msgr_message_t **ret,
                                size_t *ret_n)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    if (vc_strempty(from) || strcmp(from, "<empty>") == 0)
        return msg_list(s, "list blocked messages", ret, ret_n,
                        "SELECT " MSG_COLS " FROM messages WHERE state IN (1, 2) AND created_at < ? AND " ACTIVE_FROM
                        " ORDER BY created_at, id",
                        VC_DB_ARGS(VC_DB_INT64(created_before_ns)));
    int r = canon(from, f);
    if (r < 0)
        return r;
    return msg_list(s, "list blocked messages", ret, ret_n,
                    "SELECT * FROM (SELECT " MSG_COLS " FROM messages WHERE from_addr = ? AND state = 2 AND "
                    "state <> 1 AND created_at < ? UNION ALL SELECT " MSG_COLS " FROM messages WHERE state = 1 "
                    "AND from_addr = ? AND created_at < ?) m ORDER BY created_at, id",
                    VC_DB_ARGS(VC_DB_TEXT(f), VC_DB_INT64(created_before_ns), VC_DB_TEXT(f),
                               VC_DB_INT64(created_before_ns)));
}

/* Pages of the scan: PostgreSQL results arrive whole, so a large backlog is read in bounded
 * pieces (keyset: after the last row's (created_at, id)). */
#define UNFILLED_SCAN_PAGE 4096

int msgr_store_msg_unfilled_scan(msgr_store_t *s, msgr_unfilled_fn fn, void *userdata)
{
    vc_db_conn_t *c;
    char last_id[MSGR_ID_MAX + 1] = "";
    int64_t last_at = 0;
    int r;
    clear_err();
    if ((r = acquire(s, &c)) < 0)
        return r;
    for (bool first = true;; first = false) {
        vc_db_rows_t *rows = NULL;
        int64_t got = 0;
        r = first ? vc_db_query(c,
                                "SELECT from_addr, id, created_at FROM messages WHERE state = 1 "
                                "ORDER BY created_at DESC, id DESC LIMIT ?",
                                VC_DB_ARGS(VC_DB_INT64(UNFILLED_SCAN_PAGE)), &rows)
                  : vc_db_query(c,
                                "SELECT from_addr, id, created_at FROM messages WHERE state = 1 AND "
                                "(created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?",
                                VC_DB_ARGS(VC_DB_INT64(last_at), VC_DB_TEXT(last_id),
                                           VC_DB_INT64(UNFILLED_SCAN_PAGE)),
                                &rows);
        if (r < 0)
            db_fail(r, "scan unfilled messages");
        while (r >= 0 && (r = vc_db_rows_next(rows)) > 0) {
            const char *id = vc_db_col_text(rows, 1, NULL);
            got++;
            last_at = vc_db_col_int64(rows, 2);
            snprintf(last_id, sizeof(last_id), "%s", id ? id : "");
            if ((r = fn(vc_db_col_text(rows, 0, NULL), id, userdata)) < 0)
                fail(r, "scan unfilled messages: stopped");
        }
        if (r < 0 && errmsg[0] == '\0')
            db_fail(r, "scan unfilled messages");
        vc_db_rows_free(rows);
        if (r < 0 || got < UNFILLED_SCAN_PAGE)
            break;
    }
    vc_db_release(c);
    return r < 0 ? r : 0;
}

int msgr_store_msg_get_unfilled(msgr_store_t *s, const char *from, const char *const *ids, size_t n,
                                msgr_message_t **ret, size_t *ret_n)
{
    qbuild_t b = {0};
    char f[VC_ADDRESS_STRLEN_MAX];
    int r;

    clear_err();
    *ret = NULL;
    *ret_n = 0;
    if (n == 0)
        return 0;
    if (n > MSGR_GET_UNFILLED_MAX)
        return fail(-E2BIG, "at most %d ids", MSGR_GET_UNFILLED_MAX);
    if ((r = canon(from, f)) < 0)
        return r;
    qb_sql(&b, "SELECT " MSG_COLS " FROM messages WHERE id IN (");
    for (size_t i = 0; i < n; i++) {
        qb_sql(&b, i ? ", ?" : "?");
        qb_bind(&b, VC_DB_TEXT(ids[i]));
    }
    /* "+state": by the ids (the primary key), not by a scan of msg_state_created, which sqlite
     * prefers for the order it gives when the list is long */
    qb_sql(&b, ") AND from_addr = ? AND +state = 1 ORDER BY created_at DESC, id DESC");
    qb_bind(&b, VC_DB_TEXT(f));
    r = b.oom ? fail(-ENOMEM, "out of memory") : msg_list(s, "get unfilled messages", ret, ret_n, b.sql.data, b.b, b.n);
    qb_done(&b);
    return r;
}

int msgr_store_msg_list_filled(msgr_store_t *s, const char *from, uint64_t min_nonce, msgr_message_t **ret,
                               size_t *ret_n)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(from, f);
    if (r < 0)
        return r;
    if (min_nonce > INT64_MAX)
        return fail(-EINVAL, "nonce out of range");
    return msg_list(s, "list filled messages", ret, ret_n,
                    "SELECT " MSG_COLS " FROM messages WHERE from_addr = ? AND state = 2 AND state <> 1 AND "
                    "nonce >= ? "
                    "ORDER BY nonce",
                    VC_DB_ARGS(VC_DB_TEXT(f), VC_DB_INT64(min_nonce)));
}

int msgr_store_msg_count_by_state(msgr_store_t *s, int64_t counts[MSGR_MSG_STATE_MAX])
{
    vc_db_conn_t *c;
    vc_db_rows_t *rows = NULL;
    int r;
    clear_err();
    memset(counts, 0, sizeof(int64_t) * MSGR_MSG_STATE_MAX);
    if ((r = acquire(s, &c)) < 0)
        return r;
    r = vc_db_query(c, "SELECT state, COUNT(*) FROM messages GROUP BY state", VC_DB_NONE, &rows);
    while (r >= 0 && (r = vc_db_rows_next(rows)) > 0) {
        int64_t st = vc_db_col_int64(rows, 0);
        if (st >= 0 && st < MSGR_MSG_STATE_MAX)
            counts[st] = vc_db_col_int64(rows, 1);
    }
    if (r < 0)
        db_fail(r, "count messages");
    vc_db_rows_free(rows);
    vc_db_release(c);
    return r < 0 ? r : 0;
}

int msgr_store_msg_pending_by_addr(msgr_store_t *s, msgr_pending_fn fn, void *userdata)
{
    vc_db_conn_t *c;
    vc_db_rows_t *rows = NULL;
    int r;
    clear_err();
    if ((r = acquire(s, &c)) < 0)
        return r;
    r = vc_db_query(c, "SELECT from_addr, 1, COUNT(*) FROM messages WHERE state = 1 GROUP BY from_addr UNION ALL "
                    "SELECT from_addr, 2, COUNT(*) FROM messages WHERE state = 2 AND state <> 1 GROUP BY from_addr",
                    VC_DB_NONE, &rows);
    while (r >= 0 && (r = vc_db_rows_next(rows)) > 0)
        fn(vc_db_col_text(rows, 0, NULL), (int)vc_db_col_int64(rows, 1), vc_db_col_int64(rows, 2), userdata);
    if (r < 0)
        db_fail(r, "count pending messages");
    vc_db_rows_free(rows);
    vc_db_release(c);
    return r < 0 ? r : 0;
}

/* ---- fill ---- */

/* The live address's nonce, its row locked on PostgreSQL. */
static int addr_nonce_locked(vc_db_conn_t *c, const char *addr, int64_t *ret)
{
    int r = vc_db_query_int64(c,
                              is_pg(c) ? "SELECT nonce FROM addresses WHERE addr = ? AND is_deleted = -1 FOR UPDATE"
                                       : "SELECT nonce FROM addresses WHERE addr = ? AND is_deleted = -1",
                              VC_DB_ARGS(VC_DB_TEXT(addr)), ret);
    if (r == -ENOENT)
        return fail(r, "address %s not exists", addr);
    if (r < 0)
        return db_fail(r, "get address nonce");
    return 0;
}

typedef struct fill_ctx {
    const char *from;
    uint64_t expected;
    const msgr_fill_t *fills;
    size_t n;
    const msgr_msg_error_t *errors;
    size_t n_errors;
    const msgr_fence_t *fence;
    int64_t now;
} fill_ctx_t;

static int fill_tx(vc_db_conn_t *c, void *userdata)
{
    fill_ctx_t *x = userdata;
    int64_t nonce;
    int r;

    if ((r = fence_check(c, x->fence)) < 0)
        return r;
    if (x->n > 0) {
        if ((r = addr_nonce_locked(c, x->from, &nonce)) < 0)
            return r;
        if ((uint64_t)nonce != x->expected)
            return fail(-ESTALE, "address %s nonce is %" PRId64 ", expected %" PRIu64, x->from, nonce, x->expected);
    }
    for (size_t i = 0; i < x->n; i++) {
        const msgr_fill_t *f = &x->fills[i];
        _cleanup_free_ char *sig = NULL;
        if (sig_text(true, &f->signature, &sig) < 0)
            return fail(-ENOMEM, "fill: out of memory");
        bigstr_t fc = big_str(&f->gas_fee_cap), gp = big_str(&f->gas_premium);
        cidstr_t uc = cid_str(&f->unsigned_cid), sc = cid_str(&f->signed_cid);
        r = vc_db_exec(c,
                       "UPDATE messages SET nonce = ?, gas_limit = ?, gas_fee_cap = ?, gas_premium = ?, "
                       "signed_data = ?, unsigned_cid = ?, signed_cid = ?, state = 2, error_msg = '', "
                       "updated_at = ? WHERE id = ? AND from_addr = ? AND state = 1",
                       VC_DB_ARGS(VC_DB_INT64(f->nonce), VC_DB_INT64(f->gas_limit), VC_DB_TEXT(fc.s),
                                  VC_DB_TEXT(gp.s), VC_DB_TEXT(sig), VC_DB_TEXT(nullable(uc.s)),
                                  VC_DB_TEXT(nullable(sc.s)), VC_DB_INT64(x->now), VC_DB_TEXT(f->id),
                                  VC_DB_TEXT(x->from)));
        if (r == -EEXIST)
            return fail(r, "nonce %" PRIu64 " of %s is already assigned to another message", f->nonce, x->from);
        if (r < 0)
            return db_fail(r, "fill message");
        if (r == 0)
            return fail(-EINVAL, "message %s is not an unfilled message of %s", f->id, x->from);
    }
    if (x->n > 0) {
        r = vc_db_exec(c, "UPDATE addresses SET nonce = ?, updated_at = ? WHERE addr = ? AND nonce = ?",
                       VC_DB_ARGS(VC_DB_INT64(x->expected + x->n), VC_DB_INT64(x->now), VC_DB_TEXT(x->from),
                                  VC_DB_INT64(x->expected)));
        if (r < 0)
            return db_fail(r, "update address nonce");
        if (r == 0)
            return fail(-ESTALE, "address %s nonce changed during fill", x->from);
    }
    for (size_t i = 0; i < x->n_errors; i++) {
        const char *e = x->errors[i].error_msg ? x->errors[i].error_msg : "";
        r = vc_db_exec(c, "UPDATE messages SET error_msg = ?, updated_at = ? WHERE id = ? AND state = 1",
                       VC_DB_ARGS(VC_DB_TEXTN(e, strnlen(e, MSGR_ERRMSG_MAX)), VC_DB_INT64(x->now),
                                  VC_DB_TEXT(x->errors[i].id)));
        if (r < 0)
            return db_fail(r, "record message error");
    }
    return 0;
}

int msgr_store_msg_fill(msgr_store_t *s, const char *from, uint64_t expected_nonce, const msgr_fill_t *fills,
                        size_t n_fills, const msgr_msg_error_t *errors, size_t n_errors, const msgr_fence_t *fence)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(from, f);
    if (r < 0)
        return r;
    if (expected_nonce > INT64_MAX - (uint64_t)n_fills)
        return fail(-EINVAL, "nonce out of range");
    for (size_t i = 0; i < n_fills; i++) {
        if (vc_strempty(fills[i].id))
            return fail(-EINVAL, "fill %zu: empty uid", i);
        if (fills[i].nonce != expected_nonce + i)
            return fail(-EINVAL, "fill %zu: nonce %" PRIu64 " is not consecutive (expected %" PRIu64 ")", i,
                        fills[i].nonce, expected_nonce + i);
        if (fills[i].gas_limit < 0 || fills[i].gas_limit > MSGR_GAS_LIMIT_MAX)
            return fail(-EINVAL, "fill %zu: gas limit %" PRId64 " out of range", i, fills[i].gas_limit);
        if (fills[i].signed_cid.len == 0 || fills[i].unsigned_cid.len == 0)
            return fail(-EINVAL, "fill %zu: signed and unsigned cids are required", i);
    }
    for (size_t i = 0; i < n_errors; i++)
        if (vc_strempty(errors[i].id))
            return fail(-EINVAL, "error %zu: empty uid", i);
    fill_ctx_t x = {.from = f,
                    .expected = expected_nonce,
                    .fills = fills,
                    .n = n_fills,
                    .errors = errors,
                    .n_errors = n_errors,
                    .fence = fence,
                    .now = now_ns()};
    return run_tx(s, "fill messages", fill_tx, &x);
}

/* ---- nonce sync ---- */

typedef struct sync_ctx {
    const char *addr;
    uint64_t chain_nonce;
    const msgr_fence_t *fence;
    int64_t now;
    uint64_t result;
} sync_ctx_t;

static int sync_tx(vc_db_conn_t *c, void *userdata)
{
    sync_ctx_t *x = userdata;
    int64_t nonce, mx = -1;
    int r;

    if ((r = fence_check(c, x->fence)) < 0)
        return r;
    if ((r = addr_nonce_locked(c, x->addr, &nonce)) < 0)
        return r;
    x->result = (uint64_t)nonce;
    if (x->chain_nonce <= (uint64_t)nonce)
        return 0;
    uint64_t next = x->chain_nonce;
    r = vc_db_query_int64(c,
                          "SELECT MAX(nonce) FROM messages WHERE from_addr = ? AND state = 2 AND state <> 1",
                          VC_DB_ARGS(VC_DB_TEXT(x->addr)), &mx);
    if (r == -ENODATA) {
        mx = -1;
        r = vc_db_query_int64(c,
                              "SELECT MAX(nonce) FROM (SELECT nonce FROM messages WHERE from_addr = ? AND state = 3 "
                              "AND state <> 1 ORDER BY updated_at DESC LIMIT ?) recent",
                              VC_DB_ARGS(VC_DB_TEXT(x->addr), VC_DB_INT64(SYNC_ONCHAIN_WINDOW)), &mx);
        if (r == -ENODATA) {
            mx = -1;
            r = 0;
        }
    }
    if (r < 0)
        return db_fail(r, "max nonce");
    if (mx >= 0 && (uint64_t)mx + 1 > next)
        next = (uint64_t)mx + 1;
    r = vc_db_exec(c, "UPDATE addresses SET nonce = ?, updated_at = ? WHERE addr = ?",
                   VC_DB_ARGS(VC_DB_INT64(next), VC_DB_INT64(x->now), VC_DB_TEXT(x->addr)));
    if (r < 0)
        return db_fail(r, "update address nonce");
    x->result = next;
    return 0;
}

int msgr_store_addr_sync_nonce(msgr_store_t *s, const char *addr, uint64_t chain_nonce, const msgr_fence_t *fence,
                               uint64_t *ret_nonce)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(addr, f);
    if (r < 0)
        return r;
    if (chain_nonce > INT64_MAX)
        return fail(-EINVAL, "nonce out of range");
    sync_ctx_t x = {.addr = f, .chain_nonce = chain_nonce, .fence = fence, .now = now_ns()};
    r = run_tx(s, "sync address nonce", sync_tx, &x);
    if (r >= 0 && ret_nonce)
        *ret_nonce = x.result;
    return r;
}

/* ---- single-row state changes ---- */

/* After an UPDATE ... WHERE id = ? AND state = ? matched nothing: -ENOENT or a state error. */
static int state_mismatch(vc_db_conn_t *c, const char *id, int want)
{
    int64_t st;
    int r = vc_db_query_int64(c, "SELECT state FROM messages WHERE id = ?", VC_DB_ARGS(VC_DB_TEXT(id)), &st);
    if (r == -ENOENT)
        return not_found();
    if (r < 0)
        return db_fail(r, "get message state");
    if (want == MSGR_MSG_FILL && (st == MSGR_MSG_ONCHAIN || st == MSGR_MSG_NONCE_CONFLICT))
        return fail(-EINVAL, "message state(%s) has been final, can not update", msgr_msg_state_name((int)st));
    return fail(-EINVAL, "need %s got %s", msgr_msg_state_name(want), msgr_msg_state_name((int)st));
}

typedef struct replace_ctx {
    const msgr_replace_t *p;
    const msgr_fence_t *fence;
    int64_t now;
} replace_ctx_t;

static int replace_tx(vc_db_conn_t *c, void *userdata)
{
    replace_ctx_t *x = userdata;
    const msgr_replace_t *p = x->p;
    _cleanup_free_ char *sig = NULL;
    int r;
    if ((r = fence_check(c, x->fence)) < 0)
        return r;
    if (sig_text(true, &p->signature, &sig) < 0)
        return fail(-ENOMEM, "replace: out of memory");
    bigstr_t fc = big_str(&p->gas_fee_cap), gp = big_str(&p->gas_premium);
    cidstr_t uc = cid_str(&p->unsigned_cid), sc = cid_str(&p->signed_cid);
    r = vc_db_exec(c,
                   "UPDATE messages SET gas_limit = ?, gas_fee_cap = ?, gas_premium = ?, signed_data = ?, "
                   "unsigned_cid = ?, signed_cid = ?, updated_at = ? WHERE id = ? AND state = 2",
                   VC_DB_ARGS(VC_DB_INT64(p->gas_limit), VC_DB_TEXT(fc.s), VC_DB_TEXT(gp.s), VC_DB_TEXT(sig),
                              VC_DB_TEXT(uc.s), VC_DB_TEXT(sc.s), VC_DB_INT64(x->now), VC_DB_TEXT(p->id)));
    if (r < 0)
        return db_fail(r, "replace message");
    if (r == 0)
        return state_mismatch(c, p->id, MSGR_MSG_FILL);
    return 0;
}

int msgr_store_msg_replace(msgr_store_t *s, const msgr_replace_t *p, const msgr_fence_t *fence)
{
    clear_err();
    if (!p || vc_strempty(p->id))
        return fail(-EINVAL, "empty uid");
    if (p->signed_cid.len == 0 || p->unsigned_cid.len == 0)
        return fail(-EINVAL, "signed and unsigned cids are required");
    if (p->gas_limit < 0 || p->gas_limit > MSGR_GAS_LIMIT_MAX)
        return fail(-EINVAL, "gas limit %" PRId64 " out of range", p->gas_limit);
    replace_ctx_t x = {.p = p, .fence = fence, .now = now_ns()};
    return run_tx(s, "replace message", replace_tx, &x);
}

int msgr_store_msg_mark_failed(msgr_store_t *s, const char *id, const char *error_msg)
{
    int r;
    clear_err();
    if (vc_strempty(id))
        return fail(-EINVAL, "empty uid");
    if (error_msg)
        r = exec1(s, "mark message failed", "UPDATE messages SET state = 4, error_msg = ?, updated_at = ? WHERE id = ?",
                  VC_DB_ARGS(VC_DB_TEXTN(error_msg, strnlen(error_msg, MSGR_ERRMSG_MAX)), VC_DB_INT64(now_ns()),
                             VC_DB_TEXT(id)));
    else
        r = exec1(s, "mark message failed", "UPDATE messages SET state = 4, updated_at = ? WHERE id = ?",
                  VC_DB_ARGS(VC_DB_INT64(now_ns()), VC_DB_TEXT(id)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

int msgr_store_msg_set_state(msgr_store_t *s, const char *id, int state)
{
    clear_err();
    if (vc_strempty(id))
        return fail(-EINVAL, "empty uid");
    if (state < 0 || state >= MSGR_MSG_STATE_MAX)
        return fail(-EINVAL, "invalid message state %d", state);
    int r = exec1(s, "update message state", "UPDATE messages SET state = ?, updated_at = ? WHERE id = ?",
                  VC_DB_ARGS(VC_DB_INT64(state), VC_DB_INT64(now_ns()), VC_DB_TEXT(id)));
    if (r == -EEXIST)
        return fail(r, "another message already holds this nonce");
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

typedef struct errs_ctx {
    const char *const *ids;
    size_t n;
    const char *msg;
    int64_t now;
} errs_ctx_t;

static int errs_tx(vc_db_conn_t *c, void *userdata)
{
    errs_ctx_t *x = userdata;
    int total = 0;
    for (size_t i = 0; i < x->n; i++) {
        int r = vc_db_exec(c, "UPDATE messages SET error_msg = ?, updated_at = ? WHERE id = ?",
                           VC_DB_ARGS(VC_DB_TEXTN(x->msg, strnlen(x->msg, MSGR_ERRMSG_MAX)), VC_DB_INT64(x->now),
                                      VC_DB_TEXT(x->ids[i])));
        if (r < 0)
            return db_fail(r, "set message error");
        total += r;
    }
    return total;
}

int msgr_store_msg_set_errors(msgr_store_t *s, const char *const *ids, size_t n, const char *error_msg)
{
    clear_err();
    for (size_t i = 0; i < n; i++)
        if (vc_strempty(ids[i]))
            return fail(-EINVAL, "empty uid");
    errs_ctx_t x = {.ids = ids, .n = n, .msg = error_msg ? error_msg : "", .now = now_ns()};
    return run_tx(s, "set message errors", errs_tx, &x);
}

int msgr_store_msg_fail_unfilled(msgr_store_t *s, const char *from, const char *error_msg)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(from, f);
    if (r < 0)
        return r;
    if (error_msg)
        return exec1(s, "clear unfilled messages",
                     "UPDATE messages SET state = 4, error_msg = ?, updated_at = ? WHERE from_addr = ? AND state = 1",
                     VC_DB_ARGS(VC_DB_TEXTN(error_msg, strnlen(error_msg, MSGR_ERRMSG_MAX)), VC_DB_INT64(now_ns()),
                                VC_DB_TEXT(f)));
    return exec1(s, "clear unfilled messages",
                 "UPDATE messages SET state = 4, updated_at = ? WHERE from_addr = ? AND state = 1",
                 VC_DB_ARGS(VC_DB_INT64(now_ns()), VC_DB_TEXT(f)));
}

int msgr_store_msg_fail_expired(msgr_store_t *s, int64_t height)
{
    char tail[96];
    clear_err();
    snprintf(tail, sizeof(tail), " reached at height %" PRId64, height);
    return exec1(s, "expire messages",
                 "UPDATE messages SET state = 4, updated_at = ?, "
                 "error_msg = 'message expired: expireEpoch ' || CAST(meta_expire_epoch AS TEXT) || ? "
                 "WHERE state = 1 AND meta_expire_epoch > 0 AND meta_expire_epoch <= ?",
                 VC_DB_ARGS(VC_DB_INT64(now_ns()), VC_DB_TEXT(tail), VC_DB_INT64(height)));
}

typedef struct recover_ctx {
    const char *from;
    uint64_t min_nonce;
    const msgr_fence_t *fence;
    int64_t now;
    char **ids;
    size_t n;
} recover_ctx_t;

static int read_id(vc_db_rows_t *rows, void *e)
{
    return dup_text(rows, 0, (char **)e);
}

static void free_id(void *e)
{
    free(*(char **)e);
}

static int recover_tx(vc_db_conn_t *c, void *userdata)
{
    recover_ctx_t *x = userdata;
    void *v = NULL;
    size_t n = 0;
    int r;
    msgr_strv_free(x->ids, x->n); /* a retried run starts over */
    x->ids = NULL;
    x->n = 0;
    if ((r = fence_check(c, x->fence)) < 0)
        return r;
    r = query_list_c(c, "recover failed messages", sizeof(char *), read_id, free_id, &v, &n,
                     "SELECT id FROM messages WHERE from_addr = ? AND state = 4 AND state <> 1 AND "
                     "signed_cid IS NOT NULL AND signed_data IS NOT NULL AND nonce >= ? ORDER BY nonce",
                     VC_DB_ARGS(VC_DB_TEXT(x->from), VC_DB_INT64(x->min_nonce)));
    if (r < 0)
        return r;
    x->ids = v;
    x->n = n;
    for (size_t i = 0; i < n; i++) {
        r = vc_db_exec(c, "UPDATE messages SET state = 2, updated_at = ? WHERE id = ?",
                       VC_DB_ARGS(VC_DB_INT64(x->now), VC_DB_TEXT(x->ids[i])));
        if (r == -EEXIST)
            return fail(r, "message %s: another message already holds its nonce", x->ids[i]);
        if (r < 0)
            return db_fail(r, "recover failed message");
    }
    return 0;
}

int msgr_store_msg_recover_failed(msgr_store_t *s, const char *from, uint64_t min_nonce, const msgr_fence_t *fence,
                                  char ***ret_ids, size_t *ret_n)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(from, f);
    if (r < 0)
        return r;
    if (min_nonce > INT64_MAX)
        return fail(-EINVAL, "nonce out of range");
    recover_ctx_t x = {.from = f, .min_nonce = min_nonce, .fence = fence, .now = now_ns()};
    r = run_tx(s, "recover failed messages", recover_tx, &x);
    if (r < 0) {
        msgr_strv_free(x.ids, x.n);
        return r;
    }
    *ret_ids = x.ids;
    *ret_n = x.n;
    return 0;
}

typedef struct onchain_ctx {
    const char *id;
    int64_t height;
    const msgr_receipt_t *rc;
    const char *tsk;
    int64_t now;
} onchain_ctx_t;

static int set_onchain_tx(vc_db_conn_t *c, void *userdata)
{
    onchain_ctx_t *x = userdata;
    int r = vc_db_exec(c,
                       "UPDATE messages SET state = 3, height = ?, receipt_exit_code = ?, receipt_return_value = ?, "
                       "receipt_gas_used = ?, tipset_key = ?, updated_at = ? WHERE id = ? AND state = 2",
                       VC_DB_ARGS(VC_DB_INT64(x->height), VC_DB_INT64(x->rc->exit_code),
                                  x->rc->ret_len ? VC_DB_BLOB(x->rc->ret, x->rc->ret_len) : VC_DB_NULL,
                                  VC_DB_INT64(x->rc->gas_used), VC_DB_TEXT(x->tsk), VC_DB_INT64(x->now),
                                  VC_DB_TEXT(x->id)));
    if (r < 0)
        return db_fail(r, "set message on chain");
    if (r == 0)
        return state_mismatch(c, x->id, MSGR_MSG_FILL);
    return 0;
}

int msgr_store_msg_set_onchain(msgr_store_t *s, const char *id, int64_t height, const msgr_receipt_t *receipt,
                               const vc_cid_t *tsk, size_t n_tsk)
{
    _cleanup_free_ char *t = NULL;
    clear_err();
    if (vc_strempty(id) || !receipt)
        return fail(-EINVAL, "id and receipt are required");
    if (msgr_tsk_to_text(tsk, n_tsk, &t) < 0)
        return fail(-EINVAL, "invalid tipset key");
    onchain_ctx_t x = {.id = id, .height = height, .rc = receipt, .tsk = t, .now = now_ns()};
    return run_tx(s, "set message on chain", set_onchain_tx, &x);
}

/* =========================== head processing =========================== */

void msgr_tipset_done(msgr_tipset_t *t)
{
    if (!t)
        return;
    free(t->key);
    free(t->parents);
    free(t->data);
    memset(t, 0, sizeof(*t));
}

void msgr_tipsets_free(msgr_tipset_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        msgr_tipset_done(&v[i]);
    free(v);
}

typedef struct head_ctx {
    const msgr_head_change_t *hc;
    const msgr_fence_t *fence;
    int64_t now;
    msgr_head_result_t res;
} head_ctx_t;

static int head_revert(vc_db_conn_t *c, head_ctx_t *x, int64_t h)
{
    void *v = NULL;
    size_t n = 0;
    int r = vc_db_exec(c,
                       "UPDATE messages SET state = 2, receipt_exit_code = -1, receipt_return_value = NULL, "
                       "receipt_gas_used = 0, height = 0, tipset_key = '{ }', updated_at = ? "
                       "WHERE height = ? AND state = 3 AND " ACTIVE_FROM,
                       VC_DB_ARGS(VC_DB_INT64(x->now), VC_DB_INT64(h)));
    if (r < 0)
        return db_fail(r, "revert messages");
    x->res.reverted += r;
    /* NonceConflict rows observed at h are tracked again unless their nonce is held. */
    r = query_list_c(c, "revert messages", sizeof(char *), read_id, free_id, &v, &n,
                     "SELECT id FROM messages WHERE height = ? AND state = 5 AND " ACTIVE_FROM " ORDER BY id",
                     VC_DB_ARGS(VC_DB_INT64(h)));
    if (r < 0)
        return r;
    char **ids = v;
    for (size_t i = 0; i < n && r >= 0; i++) {
        r = vc_db_exec(c,
                       "UPDATE messages SET state = 2, receipt_exit_code = -1, receipt_return_value = NULL, "
                       "receipt_gas_used = 0, height = 0, tipset_key = '{ }', updated_at = ? WHERE id = ? AND "
                       "NOT EXISTS (SELECT 1 FROM messages m2 WHERE m2.from_addr = messages.from_addr AND "
                       "m2.nonce = messages.nonce AND m2.state IN (2, 3))",
                       VC_DB_ARGS(VC_DB_INT64(x->now), VC_DB_TEXT(ids[i])));
        if (r < 0)
            db_fail(r, "revert messages");
        else
            x->res.reverted += r;
    }
    msgr_strv_free(ids, n);
    if (r < 0)
        return r;
    r = vc_db_exec(c, "DELETE FROM tipset_cache WHERE height = ?", VC_DB_ARGS(VC_DB_INT64(h)));
    return r < 0 ? db_fail(r, "revert tipset cache") : 0;
}

static int head_apply_one(vc_db_conn_t *c, head_ctx_t *x, const msgr_tipset_apply_t *a)
{
    _cleanup_free_ char *tsk = NULL;
    if (msgr_tsk_to_text(a->key, a->n_key, &tsk) < 0)
        return fail(-EINVAL, "invalid tipset key at height %" PRId64, a->height);
    for (size_t i = 0; i < a->n_msgs; i++) {
        const msgr_chain_msg_t *m = &a->msgs[i];
        char from[VC_ADDRESS_STRLEN_MAX];
        vc_db_rows_t *rows = NULL;
        char id[MSGR_ID_MAX + 1];
        bool same;
        int r;
        if (msgr_addr_canon(m->from, from) < 0 || m->nonce > INT64_MAX)
            continue; /* not one of ours */
        cidstr_t cs = cid_str(&m->cid);
        r = vc_db_query_row(c,
                            "SELECT id, signed_cid FROM messages WHERE from_addr = ? AND nonce = ? AND state = 2 "
                            "AND state <> 1 AND " ACTIVE_FROM,
                            VC_DB_ARGS(VC_DB_TEXT(from), VC_DB_INT64(m->nonce)), &rows);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            return db_fail(r, "find filled message");
        snprintf(id, sizeof(id), "%s", vc_db_col_text(rows, 0, NULL));
        same = vc_streq(vc_db_col_text(rows, 1, NULL), cs.s);
        vc_db_rows_free(rows);
        r = vc_db_exec(c,
                       "UPDATE messages SET state = ?, height = ?, receipt_exit_code = ?, receipt_return_value = ?, "
                       "receipt_gas_used = ?, tipset_key = ?, updated_at = ? WHERE id = ?",
                       VC_DB_ARGS(VC_DB_INT64(same ? MSGR_MSG_ONCHAIN : MSGR_MSG_NONCE_CONFLICT),
                                  VC_DB_INT64(a->height), VC_DB_INT64(m->receipt.exit_code),
                                  m->receipt.ret_len ? VC_DB_BLOB(m->receipt.ret, m->receipt.ret_len) : VC_DB_NULL,
                                  VC_DB_INT64(m->receipt.gas_used), VC_DB_TEXT(tsk), VC_DB_INT64(x->now),
                                  VC_DB_TEXT(id)));
        if (r < 0)
            return db_fail(r, "set message on chain");
        if (same)
            x->res.onchain += r;
        else
            x->res.nonce_conflict += r;
    }
    return 0;
}

static int cache_put(vc_db_conn_t *c, const msgr_tipset_t *t)
{
    _cleanup_free_ char *key = NULL, *parents = NULL;
    if (msgr_tsk_to_text(t->key, t->n_key, &key) < 0 || msgr_tsk_to_text(t->parents, t->n_parents, &parents) < 0)
        return fail(-EINVAL, "invalid tipset key at height %" PRId64, t->height);
    int r = vc_db_exec(c,
                       "INSERT INTO tipset_cache (height, tsk, parents, data) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (height) DO UPDATE SET tsk = excluded.tsk, parents = excluded.parents, "
                       "data = excluded.data",
                       VC_DB_ARGS(VC_DB_INT64(t->height), VC_DB_TEXT(key), VC_DB_TEXT(parents), VC_DB_TEXT(t->data)));
    return r < 0 ? db_fail(r, "cache tipset") : 0;
}

static int head_tx(vc_db_conn_t *c, void *userdata)
{
    head_ctx_t *x = userdata;
    const msgr_head_change_t *hc = x->hc;
    int r;
    memset(&x->res, 0, sizeof(x->res));
    if ((r = fence_check(c, x->fence)) < 0)
        return r;
    for (size_t i = 0; i < hc->n_revert; i++)
        if ((r = head_revert(c, x, hc->revert_heights[i])) < 0)
            return r;
    for (size_t i = 0; i < hc->n_apply; i++)
        if ((r = head_apply_one(c, x, &hc->apply[i])) < 0)
            return r;
    for (size_t i = 0; i < hc->n_cache_add; i++)
        if ((r = cache_put(c, &hc->cache_add[i])) < 0)
            return r;
    if (hc->cache_keep > 0) {
        r = vc_db_exec(c,
                       "DELETE FROM tipset_cache WHERE height <= (SELECT height FROM tipset_cache "
                       "ORDER BY height DESC LIMIT 1 OFFSET ?)",
                       VC_DB_ARGS(VC_DB_INT64(hc->cache_keep)));
        if (r < 0)
            return db_fail(r, "trim tipset cache");
    }
    return 0;
}

int msgr_store_head_apply(msgr_store_t *s, const msgr_head_change_t *hc, const msgr_fence_t *fence,
                          msgr_head_result_t *ret)
{
    clear_err();
    if (!hc)
        return fail(-EINVAL, "head change is required");
    head_ctx_t x = {.hc = hc, .fence = fence, .now = now_ns()};
    int r = run_tx(s, "process head change", head_tx, &x);
    if (r >= 0 && ret)
        *ret = x.res;
    return r;
}

static void tipset_done_v(void *e)
{
    msgr_tipset_done(e);
}

static int tipset_read(vc_db_rows_t *rows, void *e)
{
    msgr_tipset_t *t = e;
    int r;
    t->height = vc_db_col_int64(rows, 0);
    if ((r = msgr_tsk_from_text(vc_db_col_text(rows, 1, NULL), &t->key, &t->n_key)) < 0 ||
        (r = msgr_tsk_from_text(vc_db_col_text(rows, 2, NULL), &t->parents, &t->n_parents)) < 0)
        return r;
    if (!vc_db_col_is_null(rows, 3) && dup_text(rows, 3, &t->data) < 0)
        return -ENOMEM;
    return 0;
}

int msgr_store_tipset_list(msgr_store_t *s, int64_t limit, msgr_tipset_t **ret, size_t *ret_n)
{
    void *v = NULL;
    size_t n = 0;
    clear_err();
    int r = query_list(s, "list tipset cache", sizeof(msgr_tipset_t), tipset_read, tipset_done_v, &v, &n,
                       "SELECT height, tsk, parents, data FROM tipset_cache ORDER BY height DESC LIMIT ?",
                       VC_DB_ARGS(VC_DB_INT64(limit > 0 ? limit : INT64_MAX)));
    if (r >= 0) {
        *ret = v;
        *ret_n = n;
    }
    return r;
}

int msgr_store_tipset_clear(msgr_store_t *s)
{
    clear_err();
    int r = exec1(s, "clear tipset cache", "DELETE FROM tipset_cache", VC_DB_NONE);
    return r < 0 ? r : 0;
}

int msgr_store_kv_get(msgr_store_t *s, const char *key, char **ret)
{
    vc_db_conn_t *c;
    clear_err();
    if (vc_strempty(key))
        return fail(-EINVAL, "key is required");
    int r = acquire(s, &c);
    if (r < 0)
        return r;
    r = vc_db_query_text(c, "SELECT v FROM msgr_kv WHERE k = ?", VC_DB_ARGS(VC_DB_TEXT(key)), ret);
    vc_db_release(c);
    if (r == -ENOENT)
        return not_found();
    return r < 0 ? db_fail(r, "get setting") : 0;
}

int msgr_store_kv_set(msgr_store_t *s, const char *key, const char *value)
{
    clear_err();
    if (vc_strempty(key) || !value)
        return fail(-EINVAL, "key and value are required");
    int r = exec1(s, "set setting",
                  "INSERT INTO msgr_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                  VC_DB_ARGS(VC_DB_TEXT(key), VC_DB_TEXT(value)));
    return r < 0 ? r : 0;
}

/* ================================ addresses ================================ */

#define FEE_COLS "gas_over_estimation, max_fee, gas_fee_cap, gas_over_premium, base_fee"
#define ADDR_COLS                                                                                            \
    "id, addr, nonce, weight, state, sel_msg_num, " FEE_COLS ", is_deleted, created_at, updated_at"

static int fee_read(vc_db_rows_t *rows, int col, msgr_fee_spec_t *f)
{
    int r;
    f->gas_over_estimation = vc_db_col_double(rows, col);
    if ((r = big_col(rows, col + 1, &f->max_fee)) < 0 || (r = big_col(rows, col + 2, &f->gas_fee_cap)) < 0)
        return r;
    f->gas_over_premium = vc_db_col_double(rows, col + 3);
    return big_col(rows, col + 4, &f->base_fee);
}

static void addr_done_v(void *e)
{
    msgr_address_done(e);
}

static int addr_read(vc_db_rows_t *rows, void *e)
{
    msgr_address_t *a = e;
    uuid_col(rows, 0, a->id);
    if (dup_text(rows, 1, &a->addr) < 0)
        return -ENOMEM;
    a->nonce = (uint64_t)vc_db_col_int64(rows, 2);
    a->weight = vc_db_col_int64(rows, 3);
    a->state = (int)vc_db_col_int64(rows, 4);
    a->sel_msg_num = (uint64_t)vc_db_col_int64(rows, 5);
    int r = fee_read(rows, 6, &a->fee);
    if (r < 0)
        return r;
    a->is_deleted = (int)vc_db_col_int64(rows, 11);
    a->created_ns = vc_db_col_int64(rows, 12);
    a->updated_ns = vc_db_col_int64(rows, 13);
    return 0;
}

int msgr_store_addr_get(msgr_store_t *s, const char *addr, msgr_address_t *ret)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(addr, f);
    if (r < 0)
        return r;
    return query_one(s, "get address", sizeof(msgr_address_t), addr_read, addr_done_v, ret,
                     "SELECT " ADDR_COLS " FROM addresses WHERE addr = ? AND is_deleted = -1",
                     VC_DB_ARGS(VC_DB_TEXT(f)));
}

int msgr_store_addr_has(msgr_store_t *s, const char *addr, bool *ret)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    int64_t n = 0;
    clear_err();
    int r = canon(addr, f);
    if (r < 0)
        return r;
    r = query_count(s, "has address", &n, "SELECT COUNT(*) FROM addresses WHERE addr = ? AND is_deleted = -1",
                    VC_DB_ARGS(VC_DB_TEXT(f)));
    if (r >= 0)
        *ret = n > 0;
    return r;
}

typedef struct ensure_ctx {
    const char *addr;
    int64_t now;
    bool created;
} ensure_ctx_t;

static int ensure_tx(vc_db_conn_t *c, void *userdata)
{
    ensure_ctx_t *x = userdata;
    return addr_ensure_c(c, x->addr, x->now, &x->created, NULL);
}

int msgr_store_addr_ensure(msgr_store_t *s, const char *addr, bool *ret_created)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(addr, f);
    if (r < 0)
        return r;
    ensure_ctx_t x = {.addr = f, .now = now_ns()};
    r = run_tx(s, "ensure address", ensure_tx, &x);
    if (r >= 0 && ret_created)
        *ret_created = x.created;
    return r;
}

int msgr_store_addr_list(msgr_store_t *s, bool active_only, msgr_address_t **ret, size_t *ret_n)
{
    void *v = NULL;
    size_t n = 0;
    clear_err();
    int r = query_list(s, "list addresses", sizeof(msgr_address_t), addr_read, addr_done_v, &v, &n,
                       active_only ? "SELECT " ADDR_COLS " FROM addresses WHERE is_deleted = -1 AND state = 1 "
                                     "ORDER BY addr"
                                   : "SELECT " ADDR_COLS " FROM addresses WHERE is_deleted = -1 ORDER BY addr",
                       VC_DB_NONE);
    if (r >= 0) {
        *ret = v;
        *ret_n = n;
    }
    return r;
}

int msgr_store_addr_set_nonce(msgr_store_t *s, const char *addr, uint64_t nonce)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    clear_err();
    int r = canon(addr, f);
    if (r < 0)
        return r;
    if (nonce > INT64_MAX)
        return fail(-EINVAL, "nonce out of range");
    return exec1(s, "update nonce", "UPDATE addresses SET nonce = ?, updated_at = ? WHERE addr = ? AND is_deleted = -1",
                 VC_DB_ARGS(VC_DB_INT64(nonce), VC_DB_INT64(now_ns()), VC_DB_TEXT(f)));
}

static int addr_update(msgr_store_t *s, const char *addr, const char *what, const char *set_sql, vc_db_bind_t v,
                       const char *missing)
{
    char f[VC_ADDRESS_STRLEN_MAX], sql[256];
    clear_err();
    int r = canon(addr, f);
    if (r < 0)
        return r;
    snprintf(sql, sizeof(sql), "UPDATE addresses SET %s, updated_at = ? WHERE addr = ? AND is_deleted = -1", set_sql);
    r = exec1(s, what, sql, VC_DB_ARGS(v, VC_DB_INT64(now_ns()), VC_DB_TEXT(f)));
    if (r < 0)
        return r;
    return r == 0 ? fail(-ENOENT, "%s", missing) : 0;
}

int msgr_store_addr_set_sel_msg_num(msgr_store_t *s, const char *addr, uint64_t num)
{
    if (num > INT64_MAX)
        return fail(-EINVAL, "selMsgNum out of range");
    return addr_update(s, addr, "set selMsgNum", "sel_msg_num = ?", VC_DB_INT64(num), "address not exists");
}

int msgr_store_addr_set_state(msgr_store_t *s, const char *addr, int state)
{
    if (state != MSGR_ADDR_ALIVE && state != MSGR_ADDR_FORBIDDEN)
        return fail(-EINVAL, "invalid address state %d", state);
    return addr_update(s, addr, "set address state", "state = ?", VC_DB_INT64(state), "address not exists");
}

int msgr_store_addr_delete(msgr_store_t *s, const char *addr)
{
    return addr_update(s, addr, "delete address", "is_deleted = ?", VC_DB_INT64(1), "record not found");
}

int msgr_store_addr_set_fee(msgr_store_t *s, const msgr_address_spec_t *spec)
{
    char f[VC_ADDRESS_STRLEN_MAX];
    qbuild_t b = {0};
    clear_err();
    if (!spec)
        return fail(-EINVAL, "address spec is required");
    int r = canon(spec->address, f);
    if (r < 0)
        return r;
    bigstr_t mf = big_str(&spec->max_fee), fc = big_str(&spec->gas_fee_cap), bf = big_str(&spec->base_fee);
    if ((spec->has_max_fee && vc_bigint_sign(&spec->max_fee) < 0) ||
        (spec->has_gas_fee_cap && vc_bigint_sign(&spec->gas_fee_cap) < 0) ||
        (spec->has_base_fee && vc_bigint_sign(&spec->base_fee) < 0) || spec->gas_over_estimation < 0 ||
        spec->gas_over_premium < 0)
        return fail(-EINVAL, "fee parameters must not be negative");
    qb_sql(&b, "UPDATE addresses SET updated_at = ?");
    qb_bind(&b, VC_DB_INT64(now_ns()));
    if (spec->gas_over_estimation != 0) {
        qb_sql(&b, ", gas_over_estimation = ?");
        qb_bind(&b, VC_DB_DOUBLE(spec->gas_over_estimation));
    }
    if (spec->gas_over_premium != 0) {
        qb_sql(&b, ", gas_over_premium = ?");
        qb_bind(&b, VC_DB_DOUBLE(spec->gas_over_premium));
    }
    if (spec->has_max_fee) {
        qb_sql(&b, ", max_fee = ?");
        qb_bind(&b, VC_DB_TEXT(mf.s));
    }
    if (spec->has_gas_fee_cap) {
        qb_sql(&b, ", gas_fee_cap = ?");
        qb_bind(&b, VC_DB_TEXT(fc.s));
    }
    if (spec->has_base_fee) {
        qb_sql(&b, ", base_fee = ?");
        qb_bind(&b, VC_DB_TEXT(bf.s));
    }
    qb_sql(&b, " WHERE addr = ? AND is_deleted = -1");
    qb_bind(&b, VC_DB_TEXT(f));
    if (b.oom)
        r = fail(-ENOMEM, "out of memory");
    else
        r = exec1(s, "set fee params", b.sql.data, b.b, b.n);
    qb_done(&b);
    if (r < 0)
        return r;
    return r == 0 ? fail(-ENOENT, "address not exists") : 0;
}

/* ============================== shared params ============================== */

static int shared_read(vc_db_rows_t *rows, void *e)
{
    msgr_shared_spec_t *p = e;
    p->id = (uint64_t)vc_db_col_int64(rows, 0);
    p->sel_msg_num = (uint64_t)vc_db_col_int64(rows, 1);
    return fee_read(rows, 2, &p->fee);
}

static void noop_done(void *e)
{
    (void)e;
}

int msgr_store_shared_get(msgr_store_t *s, msgr_shared_spec_t *ret)
{
    clear_err();
    return query_one(s, "get shared params", sizeof(msgr_shared_spec_t), shared_read, noop_done, ret,
                     "SELECT id, sel_msg_num, " FEE_COLS " FROM shared_params WHERE id = 1", VC_DB_NONE);
}

int msgr_store_shared_set(msgr_store_t *s, const msgr_shared_spec_t *p)
{
    clear_err();
    if (!p)
        return fail(-EINVAL, "shared params are required");
    if (p->sel_msg_num > INT64_MAX)
        return fail(-EINVAL, "selMsgNum out of range");
    bigstr_t mf = big_str(&p->fee.max_fee), fc = big_str(&p->fee.gas_fee_cap), bf = big_str(&p->fee.base_fee);
    int r = exec1(s, "set shared params",
                  "INSERT INTO shared_params (id, sel_msg_num, " FEE_COLS ") VALUES (1, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET sel_msg_num = excluded.sel_msg_num, "
                  "gas_over_estimation = excluded.gas_over_estimation, max_fee = excluded.max_fee, "
                  "gas_fee_cap = excluded.gas_fee_cap, gas_over_premium = excluded.gas_over_premium, "
                  "base_fee = excluded.base_fee",
                  VC_DB_ARGS(VC_DB_INT64(p->sel_msg_num), VC_DB_DOUBLE(p->fee.gas_over_estimation),
                             VC_DB_TEXT(mf.s), VC_DB_TEXT(fc.s), VC_DB_DOUBLE(p->fee.gas_over_premium),
                             VC_DB_TEXT(bf.s)));
    return r < 0 ? r : 0;
}

/* ================================ actor cfg ================================ */

#define ACTOR_COLS "id, actor_v, code, method, " FEE_COLS ", created_at, updated_at"

static int actor_read(vc_db_rows_t *rows, void *e)
{
    msgr_actor_cfg_t *a = e;
    int r;
    uuid_col(rows, 0, a->id);
    a->actor_version = vc_db_col_int64(rows, 1);
    if ((r = cid_col(rows, 2, &a->code)) < 0)
        return r;
    a->method = (uint64_t)vc_db_col_int64(rows, 3);
    if ((r = fee_read(rows, 4, &a->fee)) < 0)
        return r;
    a->created_ns = vc_db_col_int64(rows, 9);
    a->updated_ns = vc_db_col_int64(rows, 10);
    return 0;
}

int msgr_store_actor_cfg_save(msgr_store_t *s, const msgr_actor_cfg_t *a, char ret_id[37])
{
    char id[37];
    clear_err();
    if (!a)
        return fail(-EINVAL, "actor cfg is required");
    if (a->code.len == 0)
        return fail(-EINVAL, "code cid is undefined");
    if (a->method > INT64_MAX)
        return fail(-EINVAL, "method out of range");
    if (a->id[0])
        snprintf(id, sizeof(id), "%s", a->id);
    else
        vc_uuid4(id);
    int64_t now = now_ns();
    cidstr_t code = cid_str(&a->code);
    bigstr_t mf = big_str(&a->fee.max_fee), fc = big_str(&a->fee.gas_fee_cap), bf = big_str(&a->fee.base_fee);
    int r = exec1(s, "save actor cfg",
                  "INSERT INTO actor_cfg (" ACTOR_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET actor_v = excluded.actor_v, code = excluded.code, "
                  "method = excluded.method, gas_over_estimation = excluded.gas_over_estimation, "
                  "max_fee = excluded.max_fee, gas_fee_cap = excluded.gas_fee_cap, "
                  "gas_over_premium = excluded.gas_over_premium, base_fee = excluded.base_fee, "
                  "updated_at = excluded.updated_at",
                  VC_DB_ARGS(VC_DB_TEXT(id), VC_DB_INT64(a->actor_version), VC_DB_TEXT(code.s),
                             VC_DB_INT64(a->method), VC_DB_DOUBLE(a->fee.gas_over_estimation), VC_DB_TEXT(mf.s),
                             VC_DB_TEXT(fc.s), VC_DB_DOUBLE(a->fee.gas_over_premium), VC_DB_TEXT(bf.s),
                             VC_DB_INT64(a->created_ns ? a->created_ns : now), VC_DB_INT64(now)));
    if (r == -EEXIST)
        return fail(r, "actor cfg for code %s method %" PRIu64 " already exists", code.s, a->method);
    if (r < 0)
        return r;
    if (ret_id)
        memcpy(ret_id, id, 37);
    return 0;
}

int msgr_store_actor_cfg_get(msgr_store_t *s, const char *id, msgr_actor_cfg_t *ret)
{
    clear_err();
    if (vc_strempty(id))
        return fail(-EINVAL, "id is required");
    return query_one(s, "get actor cfg", sizeof(msgr_actor_cfg_t), actor_read, noop_done, ret,
                     "SELECT " ACTOR_COLS " FROM actor_cfg WHERE id = ?", VC_DB_ARGS(VC_DB_TEXT(id)));
}

int msgr_store_actor_cfg_get_by_method(msgr_store_t *s, const vc_cid_t *code, uint64_t method,
                                       msgr_actor_cfg_t *ret)
{
    clear_err();
    if (!code || code->len == 0)
        return fail(-EINVAL, "code cid is undefined");
    if (method > INT64_MAX)
        return not_found();
    cidstr_t cs = cid_str(code);
    return query_one(s, "get actor cfg", sizeof(msgr_actor_cfg_t), actor_read, noop_done, ret,
                     "SELECT " ACTOR_COLS " FROM actor_cfg WHERE code = ? AND method = ?",
                     VC_DB_ARGS(VC_DB_TEXT(cs.s), VC_DB_INT64(method)));
}

int msgr_store_actor_cfg_list(msgr_store_t *s, msgr_actor_cfg_t **ret, size_t *ret_n)
{
    void *v = NULL;
    size_t n = 0;
    clear_err();
    int r = query_list(s, "list actor cfg", sizeof(msgr_actor_cfg_t), actor_read, noop_done, &v, &n,
                       "SELECT " ACTOR_COLS " FROM actor_cfg ORDER BY created_at, id", VC_DB_NONE);
    if (r >= 0) {
        *ret = v;
        *ret_n = n;
    }
    return r;
}

int msgr_store_actor_cfg_update(msgr_store_t *s, const char *id, const msgr_change_gas_spec_t *c)
{
    qbuild_t b = {0};
    int r;
    clear_err();
    if (vc_strempty(id) || !c)
        return fail(-EINVAL, "id and params are required");
    bigstr_t mf = big_str(&c->max_fee), fc = big_str(&c->gas_fee_cap), bf = big_str(&c->base_fee);
    qb_sql(&b, "UPDATE actor_cfg SET updated_at = ?");
    qb_bind(&b, VC_DB_INT64(now_ns()));
    if (c->has_gas_over_estimation) {
        qb_sql(&b, ", gas_over_estimation = ?");
        qb_bind(&b, VC_DB_DOUBLE(c->gas_over_estimation));
    }
    if (c->has_max_fee) {
        qb_sql(&b, ", max_fee = ?");
        qb_bind(&b, VC_DB_TEXT(mf.s));
    }
    if (c->has_gas_fee_cap) {
        qb_sql(&b, ", gas_fee_cap = ?");
        qb_bind(&b, VC_DB_TEXT(fc.s));
    }
    if (c->has_gas_over_premium) {
        qb_sql(&b, ", gas_over_premium = ?");
        qb_bind(&b, VC_DB_DOUBLE(c->gas_over_premium));
    }
    if (c->has_base_fee) {
        qb_sql(&b, ", base_fee = ?");
        qb_bind(&b, VC_DB_TEXT(bf.s));
    }
    qb_sql(&b, " WHERE id = ?");
    qb_bind(&b, VC_DB_TEXT(id));
    if (b.oom)
        r = fail(-ENOMEM, "out of memory");
    else
        r = exec1(s, "update actor cfg", b.sql.data, b.b, b.n);
    qb_done(&b);
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

int msgr_store_actor_cfg_delete(msgr_store_t *s, const char *id)
{
    clear_err();
    if (vc_strempty(id))
        return fail(-EINVAL, "id is required");
    int r = exec1(s, "delete actor cfg", "DELETE FROM actor_cfg WHERE id = ?", VC_DB_ARGS(VC_DB_TEXT(id)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}

/* ================================== nodes ================================== */

#define NODE_COLS "id, name, url, token, node_type, created_at, updated_at"

static void node_done_v(void *e)
{
    msgr_node_done(e);
}

static int node_read(vc_db_rows_t *rows, void *e)
{
    msgr_node_t *n = e;
    uuid_col(rows, 0, n->id);
    if (dup_text(rows, 1, &n->name) < 0 || dup_text(rows, 2, &n->url) < 0 || dup_text(rows, 3, &n->token) < 0)
        return -ENOMEM;
    n->type = (int)vc_db_col_int64(rows, 4);
    n->created_ns = vc_db_col_int64(rows, 5);
    n->updated_ns = vc_db_col_int64(rows, 6);
    return 0;
}

int msgr_store_node_save(msgr_store_t *s, const msgr_node_t *n, char ret_id[37])
{
    char id[37];
    clear_err();
    if (!n || vc_strempty(n->name))
        return fail(-EINVAL, "node name is required");
    if (n->id[0] && strcmp(n->id, "00000000-0000-0000-0000-000000000000") != 0)
        snprintf(id, sizeof(id), "%s", n->id);
    else
        vc_uuid4(id);
    int64_t now = now_ns();
    int r = exec1(s, "save node",
                  "INSERT INTO nodes (" NODE_COLS ", is_deleted) VALUES (?, ?, ?, ?, ?, ?, ?, -1) "
                  "ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url, token = excluded.token, "
                  "node_type = excluded.node_type, is_deleted = -1, updated_at = excluded.updated_at",
                  VC_DB_ARGS(VC_DB_TEXT(id), VC_DB_TEXT(n->name), VC_DB_TEXT(n->url ? n->url : ""),
                             VC_DB_TEXT(n->token ? n->token : ""), VC_DB_INT64(n->type),
                             VC_DB_INT64(n->created_ns ? n->created_ns : now), VC_DB_INT64(now)));
    if (r == -EEXIST)
        return fail(r, "node %s already exists", n->name);
    if (r < 0)
        return r;
    if (ret_id)
        memcpy(ret_id, id, 37);
    return 0;
}

int msgr_store_node_get(msgr_store_t *s, const char *name, msgr_node_t *ret)
{
    clear_err();
    if (!name)
        return fail(-EINVAL, "node name is required");
    return query_one(s, "get node", sizeof(msgr_node_t), node_read, node_done_v, ret,
                     "SELECT " NODE_COLS " FROM nodes WHERE name = ? AND is_deleted = -1", VC_DB_ARGS(VC_DB_TEXT(name)));
}

int msgr_store_node_has(msgr_store_t *s, const char *name, bool *ret)
{
    int64_t n = 0;
    clear_err();
    if (!name)
        return fail(-EINVAL, "node name is required");
    int r = query_count(s, "has node", &n, "SELECT COUNT(*) FROM nodes WHERE name = ? AND is_deleted = -1",
                        VC_DB_ARGS(VC_DB_TEXT(name)));
    if (r >= 0)
        *ret = n > 0;
    return r;
}

int msgr_store_node_list(msgr_store_t *s, msgr_node_t **ret, size_t *ret_n)
{
    void *v = NULL;
    size_t n = 0;
    clear_err();
    int r = query_list(s, "list nodes", sizeof(msgr_node_t), node_read, node_done_v, &v, &n,
                       "SELECT " NODE_COLS " FROM nodes WHERE is_deleted = -1 ORDER BY created_at, name", VC_DB_NONE);
    if (r >= 0) {
        *ret = v;
        *ret_n = n;
    }
    return r;
}

int msgr_store_node_delete(msgr_store_t *s, const char *name)
{
    clear_err();
    if (!name)
        return fail(-EINVAL, "node name is required");
    int r = exec1(s, "delete node", "UPDATE nodes SET is_deleted = 1, updated_at = ? WHERE name = ? AND is_deleted = -1",
                  VC_DB_ARGS(VC_DB_INT64(now_ns()), VC_DB_TEXT(name)));
    if (r < 0)
        return r;
    return r == 0 ? not_found() : 0;
}
