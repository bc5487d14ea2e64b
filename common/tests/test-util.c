/* Tests for util.c and log.c. */
#include <sys/wait.h>
#include <unistd.h>

#include "vc-test.h"
#include "vc/log.h"
#include "vc/util.h"

static void test_hex(void)
{
    uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
    char out[9];
    uint8_t back[4];
    vc_hex_encode(in, 4, out);
    ASSERT_STREQ(out, "0001abff");
    ASSERT_OK(vc_hex_decode("0001ABff", 8, back));
    ASSERT_MEMEQ(in, back, 4);
    ASSERT_EQ(vc_hex_decode("0g", 2, back), VC_EPARSE);
    ASSERT_EQ(vc_hex_decode("abc", 3, back), VC_EPARSE);
}

static void test_base64(void)
{
    const uint8_t in[] = "hai";
    char *s = vc_base64_encode(in, 3);
    ASSERT_STREQ(s, "aGFp");
    free(s);
    s = vc_base64_encode((const uint8_t *)"\xfb\xff", 2);
    ASSERT_STREQ(s, "+/8=");
    free(s);
    s = vc_base64url_encode((const uint8_t *)"\xfb\xff", 2);
    ASSERT_STREQ(s, "-_8");
    free(s);
    uint8_t *out;
    size_t n;
    ASSERT_OK(vc_base64_decode("+/8=", 4, &out, &n));
    ASSERT_EQ(n, 2);
    ASSERT_MEMEQ(out, "\xfb\xff", 2);
    free(out);
    ASSERT_EQ(vc_base64_decode("+/8", 3, &out, &n), VC_EPARSE);
    ASSERT_EQ(vc_base64_decode("a*==", 4, &out, &n), VC_EPARSE);
    ASSERT_EQ(vc_base64url_decode("+/8", 3, &out, &n), VC_EPARSE);
    ASSERT_OK(vc_base64url_decode("-_8", 3, &out, &n));
    ASSERT_EQ(n, 2);
    free(out);
    ASSERT_OK(vc_base64_decode("", 0, &out, &n));
    ASSERT_EQ(n, 0);
    free(out);
}

static void test_parse(void)
{
    uint64_t u;
    int64_t i;
    ASSERT_OK(vc_parse_u64("18446744073709551615", &u));
    ASSERT_TRUE(u == UINT64_MAX);
    ASSERT_EQ(vc_parse_u64("18446744073709551616", &u), -ERANGE);
    ASSERT_EQ(vc_parse_u64("-1", &u), VC_EPARSE);
    ASSERT_EQ(vc_parse_u64("", &u), VC_EPARSE);
    ASSERT_EQ(vc_parse_u64("1 ", &u), VC_EPARSE);
    ASSERT_OK(vc_parse_i64("-9223372036854775808", &i));
    ASSERT_TRUE(i == INT64_MIN);
    ASSERT_EQ(vc_parse_i64("9223372036854775808", &i), -ERANGE);
    ASSERT_OK(vc_parse_duration_ms("1m30s", &i));
    ASSERT_EQ(i, 90000);
    ASSERT_OK(vc_parse_duration_ms("250ms", &i));
    ASSERT_EQ(i, 250);
    ASSERT_OK(vc_parse_duration_ms("1.5s", &i));
    ASSERT_EQ(i, 1500);
    ASSERT_OK(vc_parse_duration_ms("15", &i));
    ASSERT_EQ(i, 15000);
    ASSERT_EQ(vc_parse_duration_ms("5x", &i), VC_EPARSE);
    ASSERT_EQ(vc_parse_duration_ms("s", &i), VC_EPARSE);
}

static void test_buf(void)
{
    vc_buf_t b = {0};
    for (int k = 0; k < 1000; k++)
        ASSERT_OK(vc_buf_appendf(&b, "%d,", k));
    ASSERT_TRUE(b.len > 3000);
    ASSERT_TRUE(strncmp(b.data, "0,1,2,", 6) == 0);
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    size_t before = b.len;
    ASSERT_OK(vc_buf_appendf(&b, "%s", big));
    ASSERT_EQ(b.len, before + 599);
    char *s = vc_buf_steal(&b);
    ASSERT_NOTNULL(s);
    ASSERT_EQ(b.len, 0);
    free(s);
}

static void test_files(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/a/b/c", vc_test_tmpdir());
    ASSERT_OK(vc_mkdir_p(path, 0700));
    snprintf(path, sizeof(path), "%s/a/b/c/f", vc_test_tmpdir());
    ASSERT_OK(vc_write_file_atomic(path, "hello", 5, 0600));
    char *data;
    size_t n;
    ASSERT_OK(vc_read_file(path, 100, &data, &n));
    ASSERT_EQ(n, 5);
    ASSERT_STREQ(data, "hello");
    free(data);
    ASSERT_EQ(vc_read_file(path, 4, &data, &n), -EFBIG);
    ASSERT_EQ(vc_read_file("/nonexistent/x", 4, &data, &n), -ENOENT);
}

static void test_repo_files(void)
{
    char *p = vc_path_join(vc_test_tmpdir(), "api");
    ASSERT_NOTNULL(p);
    ASSERT_TRUE(vc_read_trimmed(p, 100) == NULL);
    ASSERT_OK(vc_write_file_atomic(p, "127.0.0.1:8989 \n\n", 16, 0600));
    char *v = vc_read_trimmed(p, 100);
    ASSERT_STREQ(v, "127.0.0.1:8989");
    free(v);
    ASSERT_TRUE(vc_read_trimmed(p, 4) == NULL); /* larger than allowed */
    free(p);
}

static void test_strerror_and_uuid(void)
{
    ASSERT_STREQ(vc_strerror(VC_ECHECKSUM), "checksum mismatch");
    ASSERT_STREQ(vc_strerror(-ENOENT), "No such file or directory");
    char u[37], v[37];
    vc_uuid4(u);
    vc_uuid4(v);
    ASSERT_EQ(strlen(u), 36);
    ASSERT_TRUE(u[14] == '4');
    ASSERT_TRUE(strcmp(u, v) != 0);
    /* across refills of the per-thread pool: well formed and distinct */
    static char many[100][37];
    for (int i = 0; i < 100; i++) {
        vc_uuid4(many[i]);
        ASSERT_EQ(strspn(many[i], "0123456789abcdef-"), 36);
        ASSERT_TRUE(many[i][8] == '-' && many[i][13] == '-' && many[i][18] == '-' && many[i][23] == '-');
        ASSERT_TRUE(many[i][14] == '4' && strchr("89ab", many[i][19]));
        for (int k = 0; k < i; k++)
            ASSERT_TRUE(strcmp(many[i], many[k]) != 0);
    }
    /* a forked child does not repeat the parent's next UUID */
    int fds[2];
    ASSERT_OK(pipe(fds));
    pid_t pid = fork();
    if (pid == 0) {
        vc_uuid4(u);
        _exit(write(fds[1], u, 37) == 37 ? 0 : 1);
    }
    ASSERT_TRUE(pid > 0);
    vc_uuid4(v);
    ASSERT_EQ(read(fds[0], u, 37), 37);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    ASSERT_TRUE(strcmp(u, v) != 0);
}

/* UUIDv7: well formed, the first 48 bits the Unix milliseconds, later ids sort after earlier
 * ones (from one millisecond to the next), distinct within one millisecond. */
static void test_uuid7(void)
{
    char a[37], b[37];
    int64_t before = vc_now_real_us() / 1000;
    vc_uuid7(a);
    int64_t after = vc_now_real_us() / 1000;
    ASSERT_EQ(strlen(a), 36);
    ASSERT_EQ(strspn(a, "0123456789abcdef-"), 36);
    ASSERT_TRUE(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    ASSERT_TRUE(a[14] == '7' && strchr("89ab", a[19]));
    char hex[13];
    memcpy(hex, a, 8);
    memcpy(hex + 8, a + 9, 4);
    hex[12] = 0;
    int64_t ms = (int64_t)strtoull(hex, NULL, 16);
    ASSERT_TRUE(ms >= before && ms <= after);
    vc_sleep_ms(2);
    vc_uuid7(b);
    ASSERT_TRUE(strcmp(a, b) < 0);
    static char many[200][37];
    for (int i = 0; i < 200; i++) {
        vc_uuid7(many[i]);
        for (int k = 0; k < i; k++)
            ASSERT_TRUE(strcmp(many[i], many[k]) != 0);
        if (i)
            ASSERT_TRUE(memcmp(many[i], many[i - 1], 13) >= 0); /* the time part never goes back */
    }
}

static void test_log_levels(void)
{
    vc_log_level_t l;
    ASSERT_OK(vc_log_level_from_string("WARN", &l));
    ASSERT_EQ(l, VC_LOG_WARNING);
    ASSERT_ERR(vc_log_level_from_string("loud", &l));
    char path[512];
    snprintf(path, sizeof(path), "%s/log.txt", vc_test_tmpdir());
    ASSERT_OK(vc_log_set_file(path));
    vc_log_set_level(VC_LOG_INFO);
    vc_debug("hidden %d", 1);
    vc_logkv(VC_LOG_INFO, "test", "hello", "miner", "f01000", "note", "two words", NULL);
    vc_log_set_json(true);
    vc_logkv(VC_LOG_WARNING, "test", "quote\"d", "k", "v", NULL);
    vc_log_set_json(false);
    ASSERT_EQ(vc_log_errno(VC_LOG_ERROR, -ENOENT, "open %s", "x"), -ENOENT);
    vc_log_set_file(NULL);
    char *data;
    ASSERT_OK(vc_read_file(path, 1 << 16, &data, NULL));
    ASSERT_TRUE(strstr(data, "hidden") == NULL);
    ASSERT_TRUE(strstr(data, "test: hello miner=f01000 note=\"two words\"") != NULL);
    ASSERT_TRUE(strstr(data, "\"msg\":\"quote\\\"d\",\"k\":\"v\"}") != NULL);
    ASSERT_TRUE(strstr(data, "open x: No such file or directory") != NULL);
    free(data);
}

static void test_strv_split(void)
{
    char **v = NULL;
    size_t n = 9;
    ASSERT_OK(vc_strv_split(" http://a:1 ,http://b:2,, c ", ',', &v, &n));
    ASSERT_EQ(n, 3u);
    ASSERT_STREQ(v[0], "http://a:1");
    ASSERT_STREQ(v[1], "http://b:2");
    ASSERT_STREQ(v[2], "c");
    ASSERT_TRUE(v[3] == NULL);
    free(v);
    ASSERT_OK(vc_strv_split("", ',', &v, &n));
    ASSERT_EQ(n, 0u);
    ASSERT_TRUE(v[0] == NULL);
    free(v);
    ASSERT_OK(vc_strv_split(NULL, ',', &v, NULL));
    ASSERT_TRUE(v[0] == NULL);
    free(v);
    ASSERT_OK(vc_strv_split("one", ',', &v, &n));
    ASSERT_EQ(n, 1u);
    ASSERT_STREQ(v[0], "one");
    free(v);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_hex);
    VC_TEST_RUN(test_base64);
    VC_TEST_RUN(test_parse);
    VC_TEST_RUN(test_buf);
    VC_TEST_RUN(test_files);
    VC_TEST_RUN(test_repo_files);
    VC_TEST_RUN(test_strerror_and_uuid);
    VC_TEST_RUN(test_uuid7);
    VC_TEST_RUN(test_log_levels);
    VC_TEST_RUN(test_strv_split);
    return VC_TEST_DONE();
}
