/*
 * db-pg.c: the PostgreSQL (libpq) backend of db.h.
 *
 * Statements go through PQexecParams (unnamed statement: Parse/Bind/Execute in one round trip).
 * Parameters: int64 as int8, double as float8, bool as bool, text untyped (the server infers the
 * type from context, so text can feed jsonb, numeric, timestamptz, ... columns), blobs as bytea
 * in binary format. Results come back in text format; bytea columns are hex-decoded on demand.
 */
#include <limits.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "db-internal.h"
#include "vc/log.h"
#include "vc/util.h"

/* From catalog/pg_type_d.h (server headers are not a dependency). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_FLOAT8 701

typedef struct pg_conn {
    vc_db_conn_t base;
    PGconn *pg;
    int64_t idle_tx_timeout_ms; /* the session's idle_in_transaction_session_timeout; 0 = none */
} pg_conn_t;

typedef struct pg_rows {
    vc_db_rows_t base;
    PGresult *res;
    int row; /* current row; -1 before the first next() */
    int nrows, ncols;
    uint8_t **decoded; /* per column, bytea of the current row, decoded lazily */
    size_t *decoded_len;
} pg_rows_t;

static PGconn *PG(vc_db_conn_t *c)
{
    return ((pg_conn_t *)c)->pg;
}

static void notice_processor(void *arg, const char *message)
{
    vc_debug("db: postgres notice: %s", message);
}

/*
 * Every session: hex bytea output, and an idle-in-transaction timeout, so that a process stopped
 * (SIGSTOP, a frozen VM) or stuck in the middle of a transaction loses it and its locks instead
 * of blocking every other instance's writes to the same rows forever. Our transactions are short
 * runs of statements with no waiting between them; a bounded transaction (vc/ha.h) sets a
 * shorter value of its own.
 */
static int setup_session(vc_db_conn_t *c)
{
    PQsetNoticeProcessor(PG(c), notice_processor, NULL);
    char sql[128];
    snprintf(sql, sizeof(sql), "SET bytea_output = 'hex'; SET idle_in_transaction_session_timeout = %lld",
             (long long)((pg_conn_t *)c)->idle_tx_timeout_ms);
    PGresult *res = PQexec(PG(c), sql);
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        c->broken = PQstatus(PG(c)) != CONNECTION_OK;
        return vc_db_set_error(c, VC_ETRANSPORT, "postgres: session setup failed: %s", PQerrorMessage(PG(c)));
    }
    return 0;
}

static bool transport_state(const char *st)
{
    return st && (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
                  strcmp(st, "57P03") == 0);
}

/* Maps a failed result (res may be NULL) to an error and records the message. */
static int map_error(vc_db_conn_t *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (vc_strempty(msg))
        msg = PQerrorMessage(PG(c));
    int r;
    if (PQstatus(PG(c)) != CONNECTION_OK || transport_state(state)) {
        c->broken = true;
        r = VC_ETRANSPORT;
    } else if (state && strcmp(state, "23505") == 0)
        r = -EEXIST;
    else if (state &&
             (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0))
        r = -EBUSY;
    else
        r = -EIO;
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    return vc_db_set_error(c, r, "postgres: %.*s%s%s%s", (int)len, msg, state ? " (SQLSTATE " : "",
                           state ? state : "", state ? ")" : "");
}

static int pg_connect(vc_db_t *db, const char *target, const vc_db_options_t *opts, vc_db_conn_t **ret,
                      char *errbuf, size_t errlen)
{
    pg_conn_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->base.db = db;
    p->base.ops = &vc_db_pg_ops;
    p->base.backend = VC_DB_POSTGRES;
    p->idle_tx_timeout_ms = VC_MAX(opts->pg_idle_tx_timeout_ms, 0);
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%lld", (long long)VC_MAX(2, (opts->connect_timeout_ms + 999) / 1000));
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {target, timeout, NULL};
    p->pg = PQconnectdbParams(keys, vals, 1);
    if (!p->pg) {
        free(p);
        return -ENOMEM;
    }
    if (PQstatus(p->pg) != CONNECTION_OK) {
        const char *m = PQerrorMessage(p->pg);
        size_t len = strlen(m);
        while (len > 0 && m[len - 1] == '\n')
            len--;
        snprintf(errbuf, errlen, "postgres: cannot connect: %.*s", (int)len, m);
        PQfinish(p->pg);
        free(p);
        return VC_ETRANSPORT;
    }
    int r = setup_session(&p->base);
    if (r < 0) {
        snprintf(errbuf, errlen, "%s", p->base.errmsg);
        PQfinish(p->pg);
        free(p);
        return r;
    }
    *ret = &p->base;
    return 0;
}

static void pg_close(vc_db_conn_t *c)
{
    PQfinish(PG(c));
    free(c);
}

static int pg_reset(vc_db_conn_t *c)
{
    PQreset(PG(c));
    if (PQstatus(PG(c)) != CONNECTION_OK) {
        c->broken = true;
        return vc_db_set_error(c, VC_ETRANSPORT, "postgres: reconnect failed: %s", PQerrorMessage(PG(c)));
    }
    c->broken = false;
    return setup_session(c);
}

static bool pg_in_tx(vc_db_conn_t *c)
{
    PGTransactionStatusType t = PQtransactionStatus(PG(c));
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static bool pg_tx_failed(vc_db_conn_t *c)
{
    return PQtransactionStatus(PG(c)) == PQTRANS_INERROR;
}

typedef struct params {
    Oid *types;
    const char **values;
    int *lengths;
    int *formats;
    char *scratch; /* 32 bytes per parameter for numbers */
    char **owned;  /* text copies */
} params_t;

static void params_done(params_t *p, size_t n)
{
    if (p->owned)
        for (size_t i = 0; i < n; i++)
            free(p->owned[i]);
    free(p->types);
    free(p->values);
    free(p->lengths);
    free(p->formats);
    free(p->scratch);
    free(p->owned);
}

static int params_build(vc_db_conn_t *c, const vc_db_bind_t *b, size_t n, params_t *p)
{
    *p = (params_t){0};
    if (n == 0)
        return 0;
    if (n > 65535)
        return vc_db_set_error(c, -EINVAL, "too many parameters (%zu)", n);
    p->types = calloc(n, sizeof(*p->types));
    p->values = calloc(n, sizeof(*p->values));
    p->lengths = calloc(n, sizeof(*p->lengths));
    p->formats = calloc(n, sizeof(*p->formats));
    p->scratch = calloc(n, 32);
    p->owned = calloc(n, sizeof(*p->owned));
    if (!p->types || !p->values || !p->lengths || !p->formats || !p->scratch || !p->owned)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        char *num = p->scratch + 32 * i;
        switch (b[i].type) {
        case VC_DB_T_NULL:
            p->values[i] = NULL;
            break;
        case VC_DB_T_INT64:
            p->types[i] = OID_INT8;
            snprintf(num, 32, "%lld", (long long)b[i].i);
            p->values[i] = num;
            break;
        case VC_DB_T_BOOL:
            p->types[i] = OID_BOOL;
            p->values[i] = b[i].i ? "t" : "f";
            break;
        case VC_DB_T_DOUBLE:
            p->types[i] = OID_FLOAT8;
            if (b[i].d != b[i].d)
                snprintf(num, 32, "NaN");
            else if (b[i].d > 1.7976931348623157e308)
                snprintf(num, 32, "Infinity");
            else if (b[i].d < -1.7976931348623157e308)
                snprintf(num, 32, "-Infinity");
            else
                snprintf(num, 32, "%.17g", b[i].d);
            p->values[i] = num;
            break;
        case VC_DB_T_TEXT:
            if (b[i].len > 0 && memchr(b[i].p, 0, b[i].len)) {
                params_done(p, n);
                *p = (params_t){0};
                return vc_db_set_error(c, -EINVAL, "bind %zu: text contains a NUL byte (use a blob)", i + 1);
            }
            p->owned[i] = malloc(b[i].len + 1);
            if (!p->owned[i])
                goto oom;
            if (b[i].len)
                memcpy(p->owned[i], b[i].p, b[i].len);
            p->owned[i][b[i].len] = 0;
            p->values[i] = p->owned[i];
            break;
        case VC_DB_T_BLOB:
            if (b[i].len > INT_MAX) {
                params_done(p, n);
                *p = (params_t){0};
                return vc_db_set_error(c, VC_ETOOBIG, "bind %zu: blob too large", i + 1);
            }
            p->types[i] = OID_BYTEA;
            p->values[i] = b[i].len ? b[i].p : "";
            p->lengths[i] = (int)b[i].len;
            p->formats[i] = 1;
            break;
        default:
            params_done(p, n);
            *p = (params_t){0};
            return vc_db_set_error(c, -EINVAL, "bind %zu: unknown type %d", i + 1, (int)b[i].type);
        }
    }
    return 0;
oom:
    params_done(p, n);
    *p = (params_t){0};
    return vc_db_set_error(c, -ENOMEM, "out of memory");
}

/* Rewrites, binds and runs sql; *ret is a successful result (PQclear it). */
static int run(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n, PGresult **ret)
{
    char *q = NULL;
    size_t count = 0;
    int r = vc_db_rewrite_placeholders(sql, &q, &count);
    if (r < 0)
        return vc_db_set_error(c, r, "cannot parse SQL placeholders");
    if (count != n) {
        free(q);
        return vc_db_set_error(c, -EINVAL, "statement has %zu placeholders but %zu values were bound", count,
                               n);
    }
    params_t p;
    r = params_build(c, b, n, &p);
    if (r < 0) {
        free(q);
        return r;
    }
    PGresult *res = PQexecParams(PG(c), q, (int)n, p.types, p.values, p.lengths, p.formats, 0);
    params_done(&p, n);
    free(q);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        r = map_error(c, res);
        PQclear(res);
        return r;
    }
    *ret = res;
    return 0;
}

static int pg_exec(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n)
{
    PGresult *res = NULL;
    int r = run(c, sql, b, n, &res);
    if (r < 0)
        return r;
    const char *t = PQcmdTuples(res);
    int64_t v = 0;
    if (!vc_strempty(t) && vc_parse_i64(t, &v) < 0)
        v = 0;
    PQclear(res);
    return (int)VC_MIN(v, (int64_t)INT_MAX);
}

static int pg_exec_script(vc_db_conn_t *c, const char *sql)
{
    PGresult *res = PQexec(PG(c), sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        int r = map_error(c, res);
        PQclear(res);
        return r;
    }
    PQclear(res);
    return 0;
}

static int pg_query(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n, vc_db_rows_t **ret)
{
    PGresult *res = NULL;
    int r = run(c, sql, b, n, &res);
    if (r < 0)
        return r;
    pg_rows_t *rows = calloc(1, sizeof(*rows));
    if (!rows) {
        PQclear(res);
        return vc_db_set_error(c, -ENOMEM, "out of memory");
    }
    rows->base.conn = c;
    rows->res = res;
    rows->row = -1;
    rows->nrows = PQntuples(res);
    rows->ncols = PQnfields(res);
    if (rows->ncols > 0) {
        rows->decoded = calloc((size_t)rows->ncols, sizeof(*rows->decoded));
        rows->decoded_len = calloc((size_t)rows->ncols, sizeof(*rows->decoded_len));
        if (!rows->decoded || !rows->decoded_len) {
            free(rows->decoded);
            free(rows->decoded_len);
            free(rows);
            PQclear(res);
            return vc_db_set_error(c, -ENOMEM, "out of memory");
        }
    }
    *ret = &rows->base;
    return 0;
}

static void drop_decoded(pg_rows_t *p)
{
    for (int i = 0; i < p->ncols; i++) {
        free(p->decoded[i]);
        p->decoded[i] = NULL;
        p->decoded_len[i] = 0;
    }
}

static int pg_next(vc_db_rows_t *r)
{
    pg_rows_t *p = (pg_rows_t *)r;
    drop_decoded(p);
    if (p->row < p->nrows)
        p->row++;
    return p->row < p->nrows ? 1 : 0;
}

static void pg_rows_free(vc_db_rows_t *r)
{
    pg_rows_t *p = (pg_rows_t *)r;
    drop_decoded(p);
    free(p->decoded);
    free(p->decoded_len);
    PQclear(p->res);
    free(p);
}

static const char *value(vc_db_rows_t *r, int col)
{
    pg_rows_t *p = (pg_rows_t *)r;
    if (p->row < 0 || p->row >= p->nrows || col < 0 || col >= p->ncols)
        return NULL;
    if (PQgetisnull(p->res, p->row, col))
        return NULL;
    return PQgetvalue(p->res, p->row, col);
}

static int pg_col_count(vc_db_rows_t *r)
{
    return ((pg_rows_t *)r)->ncols;
}

static bool pg_is_null(vc_db_rows_t *r, int col)
{
    return value(r, col) == NULL;
}

static int64_t pg_col_int64(vc_db_rows_t *r, int col)
{
    const char *v = value(r, col);
    if (!v)
        return 0;
    if (v[0] == 't')
        return 1;
    if (v[0] == 'f')
        return 0;
    return strtoll(v, NULL, 10);
}

static double pg_col_double(vc_db_rows_t *r, int col)
{
    const char *v = value(r, col);
    return v ? strtod(v, NULL) : 0.0;
}

static bool pg_col_bool(vc_db_rows_t *r, int col)
{
    const char *v = value(r, col);
    if (!v)
        return false;
    if (v[0] == 't')
        return true;
    if (v[0] == 'f')
        return false;
    return strtod(v, NULL) != 0.0;
}

static const char *pg_col_text(vc_db_rows_t *r, int col, size_t *ret_len)
{
    pg_rows_t *p = (pg_rows_t *)r;
    const char *v = value(r, col);
    if (ret_len)
        *ret_len = v ? (size_t)PQgetlength(p->res, p->row, col) : 0;
    return v;
}

static const void *pg_col_blob(vc_db_rows_t *r, int col, size_t *ret_len)
{
    pg_rows_t *p = (pg_rows_t *)r;
    const char *v = value(r, col);
    size_t len = v ? (size_t)PQgetlength(p->res, p->row, col) : 0;
    const void *out = v;
    if (v && PQftype(p->res, col) == OID_BYTEA) {
        if (!p->decoded[col]) {
            uint8_t *d = NULL;
            size_t dlen = 0;
            if (len >= 2 && v[0] == '\\' && v[1] == 'x' && vc_hex_decode_alloc(v + 2, &d, &dlen) == 0) {
                p->decoded[col] = d;
                p->decoded_len[col] = dlen;
            } else {
                /* Not hex output (bytea_output changed?): hand back the raw text. */
                if (ret_len)
                    *ret_len = len;
                return v;
            }
        }
        out = p->decoded[col];
        len = p->decoded_len[col];
    }
    if (ret_len)
        *ret_len = len;
    return out;
}

const db_ops_t vc_db_pg_ops = {
    .connect = pg_connect,
    .close = pg_close,
    .reset = pg_reset,
    .in_tx = pg_in_tx,
    .tx_failed = pg_tx_failed,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .query = pg_query,
    .next = pg_next,
    .rows_free = pg_rows_free,
    .col_count = pg_col_count,
    .is_null = pg_is_null,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_bool = pg_col_bool,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
};
