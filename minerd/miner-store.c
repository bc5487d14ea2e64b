/*
 * miner-store.c: venus-miner's database over libvc's db (sqlite or PostgreSQL).
 * Contract and semantics: miner-store.h; schema: sql/miner/<backend>/.
 *
 * Reads run on a pooled connection in autocommit mode; writes run in vc_db_tx (idempotent
 * callbacks: they may be retried on -EBUSY).
 *  - put_block runs READ COMMITTED on PostgreSQL and locks the (miner, epoch) row with
 *    SELECT ... FOR UPDATE; an insert that loses a race (ON CONFLICT DO NOTHING, 0 rows) is
 *    retried as -EBUSY and then sees the winner's row.
 *  - claim_block runs SERIALIZABLE on PostgreSQL: its checks read rows that may not exist yet
 *    (same epoch, same parents), which row locks cannot cover; two claims that would both pass
 *    conflict, one gets 40001 (-EBUSY), vc_db_tx_iso retries it and the retry sees the other's
 *    row. Its insert uses ON CONFLICT DO NOTHING too, so the only -EEXIST it returns is the
 *    fault (MINER_EFAULT) and never a unique violation.
 *  - sqlite serializes writers (BEGIN IMMEDIATE), across processes too.
 * Text binds are untyped on PostgreSQL, so SQL never tests a text bind for NULL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner-store.h"
#include "miner_migrations.h"
#include "vc/db.h"
#include "vc/util.h"

#define STORE_POOL_SIZE 8
#define ERRMSG_MAX 512
/* Column sizes of sophon-miner's MySQL table (A.4.2), kept as input limits. */
#define MINER_ADDR_MAX 256
#define CID_MAX 256
#define PARENT_KEY_MAX 2048
/* Bounds on caller-sized inputs. */
#define LIST_MINERS_MAX 10000
#define RECORD_JSON_MAX (64 * 1024)
#define KV_KEY_MAX 256
#define KV_VALUE_MAX (64 * 1024)

#define FAULT_PREFIX "produced block would trigger "
/* Holds the longest fault message (three bounded CIDs and a miner address). */
#define FAULT_MSG_MAX 2048

#define BLOCK_COLS "miner, epoch, parent_epoch, parent_key, cid, winning_at, mine_state, consuming"

struct miner_store {
    vc_db_t *db;
    miner_store_fence_fn fence; /* HA: checked inside every claim transaction */
    void *fence_ud;
};

void miner_store_set_fence(miner_store_t *s, miner_store_fence_fn fn, void *userdata)
{
    s->fence = fn;
    s->fence_ud = userdata;
}

vc_db_t *miner_store_db(miner_store_t *s)
{
    return s->db;
}

/* ---- errors ---- */

static _Thread_local char errmsg[ERRMSG_MAX];

const char *miner_store_errmsg(void)
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

/* ---- helpers ---- */

static bool is_pg(vc_db_conn_t *c)
{
    return vc_db_conn_backend(c) == VC_DB_POSTGRES;
}

static int acquire(miner_store_t *s, vc_db_conn_t **ret)
{
    int r = vc_db_acquire(s->db, -1, ret);
    if (r < 0)
        return db_fail(r, "acquire connection");
    return 0;
}

static int run_tx(miner_store_t *s, vc_db_isolation_t iso, const char *what, vc_db_fn_t fn, void *userdata)
{
    int r = vc_db_tx_iso(s->db, iso, fn, userdata);
    if (r < 0 && errmsg[0] == '\0')
        db_fail(r, what);
    return r;
}

/* One statement in autocommit mode; returns the rows affected. */
static int exec1(miner_store_t *s, const char *what, const char *sql, const vc_db_bind_t *b, size_t nb)
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

static int check_text(const char *what, const char *v, size_t max, bool required)
{
    if (required && vc_strempty(v))
        return fail(-EINVAL, "%s is required", what);
    if (v && strlen(v) > max)
        return fail(-EINVAL, "%s longer than %zu bytes", what, max);
    return 0;
}

static int check_block(const miner_block_t *b)
{
    int r;
    if (!b)
        return fail(-EINVAL, "block is required");
    if ((r = check_text("miner", b->miner, MINER_ADDR_MAX, true)) < 0 ||
        (r = check_text("cid", b->cid, CID_MAX, false)) < 0 ||
        (r = check_text("parent key", b->parent_key, PARENT_KEY_MAX, false)) < 0)
        return r;
    if (b->mine_state < MINER_STATE_MINING || b->mine_state > MINER_STATE_ERROR)
        return fail(-EINVAL, "invalid mine state %d", b->mine_state);
    return 0;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static int dup_text(vc_db_rows_t *rows, int col, char **ret)
{
    *ret = strdup(str_or_empty(vc_db_col_text(rows, col, NULL)));
    return *ret ? 0 : -ENOMEM;
}

/* ---- open / close ---- */

int miner_store_open(const char *dsn, miner_store_t **ret, char **reterr_msg)
{
    vc_db_options_t opts = {.max_conns = STORE_POOL_SIZE};
    miner_store_t *s;
    int r;

    clear_err();
    r = vc_init();
    if (r < 0)
        return r;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    r = vc_db_open_migrated(dsn, &opts, "miner", miner_migrations, miner_migrations_count, &s->db, reterr_msg);
    if (r < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

miner_store_t *miner_store_free(miner_store_t *s)
{
    if (!s)
        return NULL;
    vc_db_free(s->db);
    free(s);
    return NULL;
}

const char *miner_store_backend(const miner_store_t *s)
{
    return vc_db_backend_name(vc_db_backend(s->db));
}

void miner_block_done(miner_block_t *b)
{
    if (!b)
        return;
    free(b->miner);
    free(b->parent_key);
    free(b->cid);
    b->miner = b->parent_key = b->cid = NULL;
}

void miner_blocks_free(miner_block_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        miner_block_done(&v[i]);
    free(v);
}

/* ================================ miner_blocks ================================ */

/* What a write needs of the current (miner, epoch) row. */
typedef struct cur_row {
    bool found;
    char *parent_key;
    char *cid;
    int64_t winning_at_ms;
} cur_row_t;

static void cur_row_done(cur_row_t *row)
{
    free(row->parent_key);
    free(row->cid);
    *row = (cur_row_t){0};
}

/* Reads (and on PostgreSQL locks) the row of (miner, epoch); ret->found false when absent. */
static int cur_row_get(vc_db_conn_t *c, const char *miner, int64_t epoch, cur_row_t *ret)
{
    vc_db_rows_t *rows = NULL;
    int r = vc_db_query_row(c,
                            is_pg(c) ? "SELECT parent_key, cid, winning_at FROM miner_blocks "
                                       "WHERE miner = ? AND epoch = ? FOR UPDATE"
                                     : "SELECT parent_key, cid, winning_at FROM miner_blocks "
                                       "WHERE miner = ? AND epoch = ?",
                            VC_DB_ARGS(VC_DB_TEXT(miner), VC_DB_INT64(epoch)), &rows);
    *ret = (cur_row_t){0};
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return db_fail(r, "read block");
    r = 0;
    ret->found = true;
    ret->winning_at_ms = vc_db_col_int64(rows, 2);
    if (dup_text(rows, 0, &ret->parent_key) < 0 || dup_text(rows, 1, &ret->cid) < 0) {
        cur_row_done(ret);
        r = fail(-ENOMEM, "read block: out of memory");
    }
    vc_db_rows_free(rows);
    return r;
}

/*
 * Writes b over the current row by the PutBlock rules (parent_key, cid and winning_at kept when
 * b leaves them empty), or inserts it. An insert that finds the row already there (another
 * writer's, invisible to this transaction) returns -EBUSY so that vc_db_tx retries and sees it.
 */
static int block_write(vc_db_conn_t *c, const cur_row_t *row, const miner_block_t *b)
{
    const char *parent_key = !vc_strempty(b->parent_key) ? b->parent_key : str_or_empty(row->parent_key);
    const char *cid = !vc_strempty(b->cid) ? b->cid : str_or_empty(row->cid);
    int64_t winning_at = b->winning_at_ms ? b->winning_at_ms : row->winning_at_ms;
    vc_db_bind_t win = winning_at ? VC_DB_INT64(winning_at) : VC_DB_NULL;
    int r;

    if (row->found) {
        r = vc_db_exec(c,
                       "UPDATE miner_blocks SET parent_epoch = ?, parent_key = ?, cid = ?, winning_at = ?, "
                       "mine_state = ?, consuming = ? WHERE miner = ? AND epoch = ?",
                       VC_DB_ARGS(VC_DB_INT64(b->parent_epoch), VC_DB_TEXT(parent_key), VC_DB_TEXT(cid), win,
                                  VC_DB_INT64(b->mine_state), VC_DB_INT64(b->consuming), VC_DB_TEXT(b->miner),
                                  VC_DB_INT64(b->epoch)));
        return r < 0 ? db_fail(r, "update block") : 0;
    }
    r = vc_db_exec(c,
                   "INSERT INTO miner_blocks (" BLOCK_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (miner, epoch) DO NOTHING",
                   VC_DB_ARGS(VC_DB_TEXT(b->miner), VC_DB_INT64(b->epoch), VC_DB_INT64(b->parent_epoch),
                              VC_DB_TEXT(parent_key), VC_DB_TEXT(cid), win, VC_DB_INT64(b->mine_state),
                              VC_DB_INT64(b->consuming)));
    if (r < 0)
        return db_fail(r, "insert block");
    return r == 0 ? -EBUSY : 0;
}

static int put_tx(vc_db_conn_t *c, void *userdata)
{
    const miner_block_t *b = userdata;
    cur_row_t row;
    int r;

    clear_err();
    if ((r = cur_row_get(c, b->miner, b->epoch, &row)) < 0)
        return r;
    if (!row.found && b->mine_state == MINER_STATE_TIMEOUT)
        r = 0; /* a timeout never creates a row */
    else if (row.found && !vc_strempty(b->cid) && !vc_strempty(row.cid) && strcmp(b->cid, row.cid) != 0)
        r = fail(MINER_EFAULT, "miner %s epoch %" PRId64 " already has block %s, refusing %s", b->miner,
                 b->epoch, row.cid, b->cid);
    else
        r = block_write(c, &row, b);
    cur_row_done(&row);
    return r;
}

int miner_store_put_block(miner_store_t *s, const miner_block_t *b)
{
    clear_err();
    int r = check_block(b);
    if (r < 0)
        return r;
    r = run_tx(s, VC_DB_READ_COMMITTED, "put block", put_tx, (void *)b);
    return r < 0 ? r : 0;
}

int miner_store_has_block(miner_store_t *s, const char *miner, int64_t epoch, bool *ret)
{
    vc_db_conn_t *c;
    int64_t n = 0;
    clear_err();
    int r = check_text("miner", miner, MINER_ADDR_MAX, true);
    if (r < 0 || (r = acquire(s, &c)) < 0)
        return r;
    r = vc_db_query_int64(c, "SELECT COUNT(*) FROM miner_blocks WHERE miner = ? AND epoch = ? AND cid <> ''",
                          VC_DB_ARGS(VC_DB_TEXT(miner), VC_DB_INT64(epoch)), &n);
    vc_db_release(c);
    if (r < 0)
        return db_fail(r, "has block");
    *ret = n > 0;
    return 0;
}

int miner_store_release_block(miner_store_t *s, const char *miner, int64_t epoch, const char *cid)
{
    clear_err();
    int r = check_text("miner", miner, MINER_ADDR_MAX, true);
    if (r == 0)
        r = check_text("cid", cid, CID_MAX, true);
    if (r < 0)
        return r;
    return exec1(s, "release block",
                 "UPDATE miner_blocks SET cid = '', mine_state = 4 WHERE miner = ? AND epoch = ? AND cid = ?",
                 VC_DB_ARGS(VC_DB_TEXT(miner), VC_DB_INT64(epoch), VC_DB_TEXT(cid)));
}

/* ---- slash filter ---- */

typedef struct claim_ctx {
    miner_store_t *s;
    const miner_block_t *b;
    const char *const *parents;
    size_t n_parents;
    char *fault; /* set by the last run when it found a fault */
} claim_ctx_t;

static int fault(claim_ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fault(claim_ctx_t *x, const char *fmt, ...)
{
    char msg[FAULT_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    x->fault = strdup(msg);
    if (!x->fault)
        return fail(-ENOMEM, "slash filter: out of memory");
    return fail(MINER_EFAULT, "%s", msg);
}

static bool in_parents(const claim_ctx_t *x, const char *cid)
{
    for (size_t i = 0; i < x->n_parents; i++)
        if (vc_streq(x->parents[i], cid))
            return true;
    return false;
}

/* The cid a query finds, NULL when none; -errno on failure. */
static int query_cid(vc_db_conn_t *c, const char *what, const char *sql, const vc_db_bind_t *b, size_t nb,
                     char **ret)
{
    int r = vc_db_query_text(c, sql, b, nb, ret);
    if (r == -ENOENT) {
        *ret = NULL;
        return 0;
    }
    return r < 0 ? db_fail(r, what) : 0;
}

static int claim_check(vc_db_conn_t *c, claim_ctx_t *x, const cur_row_t *row)
{
    const miner_block_t *b = x->b;
    _cleanup_free_ char *other = NULL;
    int r;

    if (row->found && !vc_strempty(row->cid) && strcmp(row->cid, b->cid) != 0)
        return fault(x,
                     FAULT_PREFIX "double-fork mining faults consensus fault; miner: %s; bh: %s; other: %s",
                     b->miner, b->cid, row->cid);
    if (!vc_strempty(b->parent_key)) {
        r = query_cid(
            c, "time-offset check",
            "SELECT cid FROM miner_blocks WHERE miner = ? AND parent_key = ? AND cid <> '' AND cid <> ? "
            "ORDER BY epoch LIMIT 1",
            VC_DB_ARGS(VC_DB_TEXT(b->miner), VC_DB_TEXT(b->parent_key), VC_DB_TEXT(b->cid)), &other);
        if (r < 0)
            return r;
        if (other)
            return fault(
                x, FAULT_PREFIX "'time-offset mining faults' consensus fault; miner: %s; bh: %s, other: %s",
                b->miner, b->cid, other);
    }
    r = query_cid(c, "parent-grinding check",
                  "SELECT cid FROM miner_blocks WHERE miner = ? AND epoch = ? AND cid <> ''",
                  VC_DB_ARGS(VC_DB_TEXT(b->miner), VC_DB_INT64(b->parent_epoch)), &other);
    if (r < 0)
        return r;
    if (other && !in_parents(x, other))
        return fault(
            x, FAULT_PREFIX "'parent-grinding fault' consensus fault; miner: %s; bh: %s; expected parent: %s",
            b->miner, b->cid, other);
    return 0;
}

static int claim_tx(vc_db_conn_t *c, void *userdata)
{
    claim_ctx_t *x = userdata;
    cur_row_t row;
    int r;

    clear_err();
    free(x->fault);
    x->fault = NULL;
    if (x->s->fence && (r = x->s->fence(c, x->s->fence_ud)) < 0)
        return fail(r, "not the leader: the mining lease is held elsewhere or our term is over");
    if ((r = cur_row_get(c, x->b->miner, x->b->epoch, &row)) < 0)
        return r;
    r = claim_check(c, x, &row);
    /* A re-claim of the recorded block leaves its row (and a later state) alone. */
    if (r >= 0 && !(row.found && vc_streq(row.cid, x->b->cid))) {
        miner_block_t nb = *x->b;
        nb.mine_state = MINER_STATE_MINING;
        r = block_write(c, &row, &nb);
    }
    cur_row_done(&row);
    return r;
}

int miner_store_claim_block(miner_store_t *s, const miner_block_t *b, const char *const *parent_cids,
                            size_t n_parents, char **ret_fault)
{
    claim_ctx_t x = {.s = s, .b = b, .parents = parent_cids, .n_parents = n_parents};
    clear_err();
    int r = check_block(b);
    if (r < 0)
        return r;
    if (vc_strempty(b->cid))
        return fail(-EINVAL, "claim needs the block cid");
    if (b->parent_epoch >= b->epoch)
        return fail(-EINVAL, "parent epoch %" PRId64 " is not below epoch %" PRId64, b->parent_epoch,
                    b->epoch);
    if (n_parents > 0 && !parent_cids)
        return fail(-EINVAL, "parent cids are required");
    r = run_tx(s, VC_DB_SERIALIZABLE, "claim block", claim_tx, &x);
    if (r == MINER_EFAULT && x.fault) {
        if (ret_fault)
            *ret_fault = x.fault;
        else
            free(x.fault);
        return r;
    }
    free(x.fault);
    if (r == MINER_EFAULT) /* not a fault: a database unique violation (never expected) */
        return fail(-EIO, "claim block: unexpected unique violation");
    return r < 0 ? r : 0;
}

/* ---- list ---- */

static int block_read(vc_db_rows_t *rows, miner_block_t *b)
{
    *b = (miner_block_t){0};
    if (dup_text(rows, 0, &b->miner) < 0 || dup_text(rows, 3, &b->parent_key) < 0 ||
        dup_text(rows, 4, &b->cid) < 0) {
        miner_block_done(b);
        return -ENOMEM;
    }
    b->epoch = vc_db_col_int64(rows, 1);
    b->parent_epoch = vc_db_col_int64(rows, 2);
    b->winning_at_ms = vc_db_col_int64(rows, 5);
    b->mine_state = (int)vc_db_col_int64(rows, 6);
    b->consuming = vc_db_col_int64(rows, 7);
    return 0;
}

static int blocks_collect(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *binds, size_t nb,
                          miner_block_t **ret, size_t *ret_n)
{
    vc_db_rows_t *rows = NULL;
    miner_block_t *v = NULL;
    size_t n = 0, cap = 0;
    int r = vc_db_query(c, sql, binds, nb, &rows);
    if (r < 0) {
        db_fail(r, "list blocks");
        goto out;
    }
    while ((r = vc_db_rows_next(rows)) > 0) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            miner_block_t *nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                r = fail(-ENOMEM, "list blocks: out of memory");
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        if (block_read(rows, &v[n]) < 0) {
            r = fail(-ENOMEM, "list blocks: out of memory");
            goto out;
        }
        n++;
    }
    if (r < 0) {
        db_fail(r, "list blocks");
        goto out;
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
    n = 0;
    r = 0;
out:
    miner_blocks_free(v, n);
    vc_db_rows_free(rows);
    return r;
}

int miner_store_list_blocks(miner_store_t *s, const char *const *miners, size_t n_miners, int64_t limit,
                            int64_t offset, miner_block_t **ret, size_t *ret_n)
{
    vc_buf_t sql = {0};
    vc_db_bind_t *binds = NULL;
    size_t nb = 0;
    vc_db_conn_t *c;
    int r;

    clear_err();
    if (offset < 0)
        return fail(-EINVAL, "negative offset");
    if (n_miners > LIST_MINERS_MAX)
        return fail(-EINVAL, "more than %d miners", LIST_MINERS_MAX);
    if (n_miners > 0 && !miners)
        return fail(-EINVAL, "miners are required");
    binds = calloc(n_miners + 2, sizeof(*binds));
    if (!binds || vc_buf_append_str(&sql, "SELECT " BLOCK_COLS " FROM miner_blocks") < 0) {
        r = fail(-ENOMEM, "list blocks: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_miners; i++) {
        if ((r = check_text("miner", miners[i], MINER_ADDR_MAX, true)) < 0)
            goto out;
        if (vc_buf_append_str(&sql, i == 0 ? " WHERE miner IN (?" : ", ?") < 0) {
            r = fail(-ENOMEM, "list blocks: out of memory");
            goto out;
        }
        binds[nb++] = VC_DB_TEXT(miners[i]);
    }
    if (vc_buf_append_str(&sql, n_miners ? ")" : "") < 0 ||
        vc_buf_append_str(&sql, " ORDER BY epoch DESC, miner LIMIT ? OFFSET ?") < 0) {
        r = fail(-ENOMEM, "list blocks: out of memory");
        goto out;
    }
    binds[nb++] = VC_DB_INT64(limit > 0 ? limit : INT64_MAX);
    binds[nb++] = VC_DB_INT64(offset);
    if ((r = acquire(s, &c)) < 0)
        goto out;
    r = blocks_collect(c, sql.data, binds, nb, ret, ret_n);
    vc_db_release(c);
out:
    vc_buf_done(&sql);
    free(binds);
    return r;
}

/* ================================ mine records ================================ */

int miner_store_record_merge(miner_store_t *s, const char *miner, int64_t epoch, const json_t *kv)
{
    const char *key;
    json_t *val;
    _cleanup_free_ char *text = NULL;
    vc_db_conn_t *c;
    int r;

    clear_err();
    if ((r = check_text("miner", miner, MINER_ADDR_MAX, true)) < 0)
        return r;
    if (!json_is_object(kv))
        return fail(-EINVAL, "record must be a JSON object");
    json_object_foreach((json_t *)kv, key, val) if (!json_is_string(val)) return fail(
        -EINVAL, "record value of '%.64s' is not a string", key);
    text = json_dumps(kv, JSON_COMPACT);
    if (!text)
        return fail(-ENOMEM, "merge record: out of memory");
    if (strlen(text) > RECORD_JSON_MAX)
        return fail(-EINVAL, "record larger than %d bytes", RECORD_JSON_MAX);
    if ((r = acquire(s, &c)) < 0)
        return r;
    /* One statement: the merge is atomic on both backends. */
    r = vc_db_exec(c,
                   is_pg(c) ? "INSERT INTO mine_records (miner, epoch, data) VALUES (?, ?, ?) "
                              "ON CONFLICT (miner, epoch) DO UPDATE "
                              "SET data = (mine_records.data::jsonb || excluded.data::jsonb)::text"
                            : "INSERT INTO mine_records (miner, epoch, data) VALUES (?, ?, ?) "
                              "ON CONFLICT (miner, epoch) DO UPDATE "
                              "SET data = json_patch(mine_records.data, excluded.data)",
                   VC_DB_ARGS(VC_DB_TEXT(miner), VC_DB_INT64(epoch), VC_DB_TEXT(text)));
    if (r < 0)
        db_fail(r, "merge record");
    vc_db_release(c);
    return r < 0 ? r : 0;
}

/* Appends one stored record, augmented with "miner" and "epoch", to arr. */
static int record_append(json_t *arr, const char *miner, int64_t epoch, const char *data)
{
    char num[24];
    json_t *o = json_loads(str_or_empty(data), 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return fail(VC_EPARSE, "query records: record of epoch %" PRId64 " is not a JSON object", epoch);
    }
    snprintf(num, sizeof(num), "%" PRId64, epoch);
    if (json_object_set_new(o, "miner", json_string(miner)) < 0 ||
        json_object_set_new(o, "epoch", json_string(num)) < 0 || json_array_append_new(arr, o) < 0)
        return fail(-ENOMEM, "query records: out of memory");
    return 0;
}

int miner_store_record_query(miner_store_t *s, const char *miner, int64_t epoch, int64_t limit, json_t **ret)
{
    vc_db_rows_t *rows = NULL;
    json_t *arr = NULL;
    vc_db_conn_t *c;
    int r;

    clear_err();
    if ((r = check_text("miner", miner, MINER_ADDR_MAX, true)) < 0)
        return r;
    if (limit < 0)
        return fail(-EINVAL, "negative limit");
    if (limit == 0) /* as QueryRecord: Limit 0 means 1 */
        limit = 1;
    int64_t end = epoch > INT64_MAX - limit ? INT64_MAX : epoch + limit;
    arr = json_array();
    if (!arr)
        return fail(-ENOMEM, "query records: out of memory");
    if ((r = acquire(s, &c)) < 0)
        goto out;
    r = vc_db_query(c,
                    "SELECT epoch, data FROM mine_records WHERE miner = ? AND epoch >= ? AND epoch < ? "
                    "ORDER BY epoch",
                    VC_DB_ARGS(VC_DB_TEXT(miner), VC_DB_INT64(epoch), VC_DB_INT64(end)), &rows);
    if (r < 0)
        db_fail(r, "query records");
    while (r >= 0 && (r = vc_db_rows_next(rows)) > 0)
        r = record_append(arr, miner, vc_db_col_int64(rows, 0), vc_db_col_text(rows, 1, NULL));
    if (r < 0 && errmsg[0] == '\0')
        db_fail(r, "query records");
    vc_db_rows_free(rows);
    vc_db_release(c);
    if (r >= 0) {
        *ret = arr;
        arr = NULL;
        r = 0;
    }
out:
    json_decref(arr);
    return r;
}

int miner_store_record_expire(miner_store_t *s, int64_t before, int64_t *ret_deleted)
{
    clear_err();
    int r = exec1(s, "expire records", "DELETE FROM mine_records WHERE epoch < ?",
                  VC_DB_ARGS(VC_DB_INT64(before)));
    if (r < 0)
        return r;
    if (ret_deleted)
        *ret_deleted = r;
    return 0;
}

/* ================================ settings ================================ */

int miner_store_kv_get(miner_store_t *s, const char *key, char **ret)
{
    vc_db_conn_t *c;
    char *v = NULL;
    clear_err();
    int r = check_text("key", key, KV_KEY_MAX, true);
    if (r < 0 || (r = acquire(s, &c)) < 0)
        return r;
    r = vc_db_query_text(c, "SELECT v FROM miner_kv WHERE k = ?", VC_DB_ARGS(VC_DB_TEXT(key)), &v);
    vc_db_release(c);
    if (r < 0 && r != -ENOENT)
        return db_fail(r, "get setting");
    *ret = v;
    return 0;
}

int miner_store_kv_set(miner_store_t *s, const char *key, const char *value)
{
    clear_err();
    int r = check_text("key", key, KV_KEY_MAX, true);
    if (r < 0)
        return r;
    if (!value)
        return fail(-EINVAL, "value is required");
    if ((r = check_text("value", value, KV_VALUE_MAX, false)) < 0)
        return r;
    r = exec1(s, "set setting",
              "INSERT INTO miner_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
              VC_DB_ARGS(VC_DB_TEXT(key), VC_DB_TEXT(value)));
    return r < 0 ? r : 0;
}
