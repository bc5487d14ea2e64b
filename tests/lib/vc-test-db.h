/*
 * vc-test-db.h: database isolation for tests.
 *
 * vc_test_db_fresh_dsn(pg) gives a DSN naming a brand-new empty database:
 *   - sqlite: a new file under vc_test_tmpdir();
 *   - pg: a database "vct_<pid>_<n>_<random>" created on the server of vc_test_pg_dsn() (the
 *     ctest fixture "pg" provides it through VC_PG_DSN_FILE) and dropped (WITH (FORCE)) at exit.
 * So every test (and every re-run, and other daemons' tests on the same server) starts clean.
 * Returns NULL when pg is requested but no server DSN is configured, or on failure (message on
 * stderr). The string is owned by the harness.
 */
#ifndef VC_TEST_DB_H
#define VC_TEST_DB_H

#include <stdbool.h>

const char *vc_test_db_fresh_dsn(bool pg);

struct vc_db;
/* vc_db_open(dsn) with a pool of max_conns connections; on failure a test failure is recorded
 * (with the reason) and NULL returned. */
struct vc_db *vc_test_db_open(const char *dsn, unsigned max_conns);

#endif
