/* db-internal.h: what db.c shares with its backends (db-sqlite.c, db-pg.c). Private. */
#ifndef VC_DB_INTERNAL_H
#define VC_DB_INTERNAL_H

#include <stdarg.h>

#include "vc/db.h"

#define DB_ERRMSG_MAX 1024

typedef struct db_ops db_ops_t;

struct vc_db_conn {
    vc_db_t *db;
    const db_ops_t *ops;
    vc_db_backend_t backend;
    bool broken;             /* connection lost: reset before reuse */
    struct vc_db_conn *next; /* idle list */
    char errmsg[DB_ERRMSG_MAX];
};

/* Backends embed this first in their rows struct. */
struct vc_db_rows {
    vc_db_conn_t *conn;
};

struct db_ops {
    /* Allocates a connection (with the vc_db_conn_t embedded first) and connects. */
    int (*connect)(vc_db_t *db, const char *target, const vc_db_options_t *opts, vc_db_conn_t **ret,
                   char *errbuf, size_t errlen);
    void (*close)(vc_db_conn_t *c);
    /* Makes a broken connection usable again (pg: PQreset); 0 or VC_ETRANSPORT. */
    int (*reset)(vc_db_conn_t *c);
    bool (*in_tx)(vc_db_conn_t *c);
    /* In a transaction that an error has aborted (pg); COMMIT would silently roll back. */
    bool (*tx_failed)(vc_db_conn_t *c);
    int (*exec)(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n);
    int (*exec_script)(vc_db_conn_t *c, const char *sql);
    int (*query)(vc_db_conn_t *c, const char *sql, const vc_db_bind_t *b, size_t n, vc_db_rows_t **ret);
    int (*next)(vc_db_rows_t *r);
    void (*rows_free)(vc_db_rows_t *r);
    int (*col_count)(vc_db_rows_t *r);
    bool (*is_null)(vc_db_rows_t *r, int col);
    int64_t (*col_int64)(vc_db_rows_t *r, int col);
    double (*col_double)(vc_db_rows_t *r, int col);
    bool (*col_bool)(vc_db_rows_t *r, int col);
    const char *(*col_text)(vc_db_rows_t *r, int col, size_t *ret_len);
    const void *(*col_blob)(vc_db_rows_t *r, int col, size_t *ret_len);
    /* sqlite (NULL for pg): a PASSIVE WAL checkpoint; *ret_left (optional) gets the number of
     * WAL frames it could not copy yet (written meanwhile, or still read by older snapshots). */
    int (*checkpoint)(vc_db_conn_t *c, int *ret_left);
};

extern const db_ops_t vc_db_sqlite_ops;
extern const db_ops_t vc_db_pg_ops;

/* Records an error message on c (and in the thread's copy) and returns r. */
int vc_db_set_error(vc_db_conn_t *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vc_db_clear_error(vc_db_conn_t *c);
/* sqlite: a commit left the WAL at pages pages (the backend's WAL hook); true asks the backend
 * to checkpoint right there (the checkpoint thread fell far behind). */
bool vc_db_wal_grew(vc_db_t *db, int pages);

#endif
