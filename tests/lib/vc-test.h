/*
 * vc-test.h: assertions and helpers for venus-c tests (ctest executables).
 *
 * A test file defines functions `static void test_xxx(void)` and a main():
 *
 *   int main(int argc, char **argv) {
 *       VC_TEST_INIT(argc, argv);
 *       VC_TEST_RUN(test_xxx);
 *       return VC_TEST_DONE();
 *   }
 *
 * A failed assertion prints file:line, the expression and the values, marks the current test
 * failed and returns from the test function (so assertions work only in void functions; use
 * VC_CHECK in helpers that return a value: it records the failure and continues).
 */
#ifndef VC_TEST_H
#define VC_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

extern int vc_test_failed;       /* failures in the current test */
extern int vc_test_total_failed; /* failed tests */
extern int vc_test_count;
extern int vc_test_argc;
extern char **vc_test_argv;

void vc_test_init(int argc, char **argv);
/* Runs fn as test `name` unless filtered out by argv (substring match on any argument that
 * does not start with "-"). */
void vc_test_run(const char *name, void (*fn)(void));
int vc_test_done(void);
/* True if argv contains flag (e.g. "--pg"). */
bool vc_test_has_flag(const char *flag);

#define VC_TEST_INIT(argc, argv) vc_test_init((argc), (argv))
#define VC_TEST_RUN(fn) vc_test_run(#fn, fn)
#define VC_TEST_DONE() vc_test_done()

/* Records a failure at file:line; always returns false (usable in expressions). */
bool vc_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define VC_FAIL_(...) vc_test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define VC_CHECK(cond) ((cond) ? true : VC_FAIL_("check failed: %s", #cond))

#define ASSERT_TRUE(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            VC_FAIL_("expected true: %s", #cond);                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_FALSE(cond) ASSERT_TRUE(!(cond))

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) {                                                                            \
            VC_FAIL_("%s == %s: %lld != %lld", #a, #b, _a, _b);                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_EQ_U64(a, b)                                                                        \
    do {                                                                                           \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                           \
        if (_a != _b) {                                                                            \
            VC_FAIL_("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, _a, _b);                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_NE(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a == _b) {                                                                            \
            VC_FAIL_("%s != %s: both %lld", #a, #b, _a);                                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_GE(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (!(_a >= _b)) {                                                                         \
            VC_FAIL_("%s >= %s: %lld < %lld", #a, #b, _a, _b);                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_LT(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (!(_a < _b)) {                                                                          \
            VC_FAIL_("%s < %s: %lld >= %lld", #a, #b, _a, _b);                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* r >= 0, printing vc_strerror(r) otherwise. */
#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        long long _r = (long long)(expr);                                                          \
        if (_r < 0) {                                                                              \
            VC_FAIL_("%s failed: %lld (%s)", #expr, _r, vc_test_strerror((int)_r));                \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* r < 0 (any error). */
#define ASSERT_ERR(expr)                                                                           \
    do {                                                                                           \
        long long _r = (long long)(expr);                                                          \
        if (_r >= 0) {                                                                             \
            VC_FAIL_("%s should fail, returned %lld", #expr, _r);                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
            VC_FAIL_("%s == %s:\n    '%s'\n != '%s'", #a, #b, _a ? _a : "(null)",               \
                     _b ? _b : "(null)");                                                          \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_MEMEQ(a, b, n)                                                                      \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0) {                                                          \
            VC_FAIL_("%s == %s (%zu bytes) differ", #a, #b, (size_t)(n));                          \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define ASSERT_NOTNULL(p) ASSERT_TRUE((p) != NULL)

const char *vc_test_strerror(int r);

/* The Filecoin vectors file (env VC_VECTORS_FILE), parsed once; aborts the test run if absent. */
json_t *vc_test_vectors(void);

/* A fresh empty directory under $TMPDIR (or /tmp), removed at exit unless VC_TEST_KEEP=1.
 * Returned string is owned by the harness. */
const char *vc_test_tmpdir(void);

/* A DSN for the PostgreSQL test server: env VC_PG_DSN, else the contents of the file named by
 * env VC_PG_DSN_FILE. NULL when neither is set. Owned by the harness. */
const char *vc_test_pg_dsn(void);

#endif
