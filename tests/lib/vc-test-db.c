/* vc-test-db.c: fresh databases per test (see vc-test-db.h). */
#include "vc-test-db.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vc-test.h"
#include "vc/db.h"
#include "vc/util.h"

#define MAX_FRESH 256

static char *fresh[MAX_FRESH];   /* DSNs handed out */
static char *created[MAX_FRESH]; /* pg database names to drop at exit */
static size_t n_fresh, n_created;
static char *base_dsn;
static unsigned counter;

static void drop_all(void)
{
    if (n_created > 0 && base_dsn) {
        vc_db_t *db = NULL;
        if (vc_db_open(base_dsn, &(vc_db_options_t){.max_conns = 1}, &db, NULL) == 0) {
            vc_db_conn_t *c;
            if (vc_db_acquire(db, -1, &c) == 0) {
                for (size_t i = 0; i < n_created; i++) {
                    char sql[160];
                    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", created[i]);
                    if (vc_db_exec_script(c, sql) < 0)
                        fprintf(stderr, "vc-test-db: cannot drop %s: %s\n", created[i], vc_db_errmsg(c));
                }
                vc_db_release(c);
            }
            vc_db_free(db);
        }
    }
    for (size_t i = 0; i < n_created; i++)
        free(created[i]);
    for (size_t i = 0; i < n_fresh; i++)
        free(fresh[i]);
    n_created = n_fresh = 0;
    free(base_dsn);
    base_dsn = NULL;
}

/* base DSN with its database replaced by name. */
static char *with_dbname(const char *dsn, const char *name)
{
    vc_buf_t b = {0};
    const char *scheme = strstr(dsn, "://");
    if (scheme && (strncmp(dsn, "postgres://", 11) == 0 || strncmp(dsn, "postgresql://", 13) == 0)) {
        const char *auth = scheme + 3;
        const char *q = strchr(auth, '?');
        const char *end = q ? q : auth + strlen(auth);
        const char *slash = memchr(auth, '/', (size_t)(end - auth));
        const char *cut = slash ? slash : end;
        if (vc_buf_append(&b, dsn, (size_t)(cut - dsn)) < 0 || vc_buf_appendf(&b, "/%s", name) < 0 ||
            vc_buf_append_str(&b, end) < 0) {
            vc_buf_done(&b);
            return NULL;
        }
    } else if (vc_buf_appendf(&b, "%s dbname=%s", dsn, name) < 0) { /* the last dbname= wins */
        vc_buf_done(&b);
        return NULL;
    }
    return vc_buf_steal(&b);
}

const char *vc_test_db_fresh_dsn(bool pg)
{
    if (n_fresh == 0 && n_created == 0)
        atexit(drop_all);
    if (n_fresh >= MAX_FRESH) {
        fprintf(stderr, "vc-test-db: too many fresh databases\n");
        return NULL;
    }
    char *dsn = NULL;
    if (!pg) {
        vc_buf_t b = {0};
        if (vc_buf_appendf(&b, "sqlite:%s/db-%u.sqlite", vc_test_tmpdir(), counter++) < 0)
            return NULL;
        dsn = vc_buf_steal(&b);
    } else {
        const char *base = vc_test_pg_dsn();
        if (!base)
            return NULL;
        if (!base_dsn && !(base_dsn = strdup(base)))
            return NULL;
        uint32_t rnd;
        vc_random(&rnd, sizeof(rnd));
        char name[64];
        snprintf(name, sizeof(name), "vct_%ld_%u_%08x", (long)getpid(), counter++, rnd);
        vc_db_t *db = NULL;
        char *err = NULL;
        int r = vc_db_open(base, &(vc_db_options_t){.max_conns = 1}, &db, &err);
        if (r < 0) {
            fprintf(stderr, "vc-test-db: cannot connect to '%s': %s\n", base, err ? err : vc_strerror(r));
            free(err);
            return NULL;
        }
        vc_db_conn_t *c;
        r = vc_db_acquire(db, -1, &c);
        if (r == 0) {
            char sql[128];
            snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
            r = vc_db_exec_script(c, sql);
            if (r < 0)
                fprintf(stderr, "vc-test-db: %s: %s\n", sql, vc_db_errmsg(c));
            vc_db_release(c);
        }
        vc_db_free(db);
        if (r < 0)
            return NULL;
        created[n_created] = strdup(name);
        if (!created[n_created])
            return NULL;
        n_created++;
        dsn = with_dbname(base, name);
    }
    if (!dsn)
        return NULL;
    fresh[n_fresh++] = dsn;
    return dsn;
}

vc_db_t *vc_test_db_open(const char *dsn, unsigned max_conns)
{
    vc_db_t *db = NULL;
    char *err = NULL;
    int r = dsn ? vc_db_open(dsn, &(vc_db_options_t){.max_conns = max_conns}, &db, &err) : -EINVAL;
    if (r < 0)
        VC_FAIL_("vc_db_open(%s): %s: %s", dsn ? dsn : "(no DSN)", vc_strerror(r), err ? err : "");
    free(err);
    return db;
}
