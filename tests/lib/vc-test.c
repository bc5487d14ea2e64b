/* vc-test.c: the test harness behind vc-test.h. */
#include "vc-test.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc/util.h"

int vc_test_failed;
int vc_test_total_failed;
int vc_test_count;
int vc_test_argc;
char **vc_test_argv;

static char *tmpdir;
static char *pg_dsn;
static json_t *vectors;

bool vc_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    vc_test_failed++;
    return false;
}

const char *vc_test_strerror(int r)
{
    return vc_strerror(r);
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (vc_streq(de->d_name, ".") || vc_streq(de->d_name, ".."))
                    continue;
                size_t n = strlen(path) + strlen(de->d_name) + 2;
                char *child = malloc(n);
                if (!child)
                    continue;
                snprintf(child, n, "%s/%s", path, de->d_name);
                rm_rf(child);
                free(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else
        unlink(path);
}

static void cleanup(void)
{
    if (tmpdir && (getenv("VC_TEST_KEEP") || vc_test_total_failed))
        fprintf(stderr, "# kept %s (logs, databases) for inspection\n", tmpdir);
    else if (tmpdir)
        rm_rf(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
    free(pg_dsn);
    pg_dsn = NULL;
    json_decref(vectors);
    vectors = NULL;
}

void vc_test_init(int argc, char **argv)
{
    vc_test_argc = argc;
    vc_test_argv = argv;
    if (vc_init() < 0) {
        fprintf(stderr, "vc_init failed\n");
        exit(1);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(cleanup);
}

bool vc_test_has_flag(const char *flag)
{
    for (int i = 1; i < vc_test_argc; i++)
        if (vc_streq(vc_test_argv[i], flag))
            return true;
    return false;
}

static bool selected(const char *name)
{
    bool any = false;
    for (int i = 1; i < vc_test_argc; i++) {
        if (vc_test_argv[i][0] == '-')
            continue;
        any = true;
        if (strstr(name, vc_test_argv[i]))
            return true;
    }
    return !any;
}

void vc_test_run(const char *name, void (*fn)(void))
{
    if (!selected(name))
        return;
    vc_test_failed = 0;
    vc_test_count++;
    int64_t t0 = vc_now_mono_us();
    fn();
    int64_t ms = (vc_now_mono_us() - t0) / 1000;
    if (vc_test_failed) {
        vc_test_total_failed++;
        printf("not ok %d - %s (%lld ms)\n", vc_test_count, name, (long long)ms);
    } else
        printf("ok %d - %s (%lld ms)\n", vc_test_count, name, (long long)ms);
}

int vc_test_done(void)
{
    printf("1..%d\n# %d passed, %d failed\n", vc_test_count, vc_test_count - vc_test_total_failed,
           vc_test_total_failed);
    return vc_test_total_failed ? 1 : 0;
}

json_t *vc_test_vectors(void)
{
    if (vectors)
        return vectors;
    const char *path = getenv("VC_VECTORS_FILE");
    json_error_t err;
    if (!path) {
        fprintf(stderr, "VC_VECTORS_FILE is not set (run the test through ctest)\n");
        exit(2);
    }
    vectors = json_load_file(path, 0, &err);
    if (!vectors) {
        fprintf(stderr, "cannot load vectors '%s': %s (line %d)\n", path, err.text, err.line);
        exit(2);
    }
    return vectors;
}

const char *vc_test_tmpdir(void)
{
    if (tmpdir)
        return tmpdir;
    const char *base = getenv("TMPDIR");
    if (vc_strempty(base))
        base = "/tmp";
    size_t n = strlen(base) + 32;
    tmpdir = malloc(n);
    if (!tmpdir)
        abort();
    snprintf(tmpdir, n, "%s/vctest-XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
    return tmpdir;
}

const char *vc_test_pg_dsn(void)
{
    if (pg_dsn)
        return pg_dsn;
    const char *env = getenv("VC_PG_DSN");
    if (!vc_strempty(env)) {
        pg_dsn = strdup(env);
        return pg_dsn;
    }
    const char *file = getenv("VC_PG_DSN_FILE");
    if (vc_strempty(file))
        return NULL;
    char *data = NULL;
    size_t len = 0;
    if (vc_read_file(file, 4096, &data, &len) < 0)
        return NULL;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
        data[--len] = 0;
    pg_dsn = data;
    return pg_dsn;
}
