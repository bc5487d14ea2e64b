/*
 * Tests for auth-cli.c: the command tree, local validation, error reporting, and every client
 * command against a fake venus-auth (vc_http with canned answers) to check the request each
 * sends and the exact lines it prints.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "auth-cli.h"
#include "vc-test.h"
#include "vc/http.h"
#include "vc/util.h"

typedef struct res {
    int rc;
    char out[16384];
    char err[4096];
} res_t;

static res_t R;

/* Runs venus-auth with the NULL-terminated args; output lands in R. */
static int cli(const char *a0, ...)
{
    char *argv[40] = {(char *)"venus-auth"};
    int argc = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 39; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    char *ob = NULL, *eb = NULL;
    size_t on = 0, en = 0;
    FILE *out = open_memstream(&ob, &on), *err = open_memstream(&eb, &en);
    R.rc = vc_cli_run(&auth_cli_root, argc, argv, NULL, out, err);
    fclose(out);
    fclose(err);
    snprintf(R.out, sizeof(R.out), "%s", ob ? ob : "");
    snprintf(R.err, sizeof(R.err), "%s", eb ? eb : "");
    free(ob);
    free(eb);
    return R.rc;
}

#define ASSERT_CONTAINS(hay, needle)                                                                         \
    do {                                                                                                     \
        if (!strstr((hay), (needle))) {                                                                      \
            VC_FAIL_("'%s' not found in:\n%s", (needle), (hay));                                             \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)
#define ASSERT_NOT_CONTAINS(hay, needle)                                                                     \
    do {                                                                                                     \
        if (strstr((hay), (needle))) {                                                                       \
            VC_FAIL_("'%s' unexpectedly found in:\n%s", (needle), (hay));                                    \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

static void test_help(void)
{
    static const char *const top[] = {"run", "token", "user", "miner", "signer"};
    ASSERT_EQ(cli("--help", NULL), 0);
    for (size_t i = 0; i < VC_ELEMENTSOF(top); i++) {
        char line[64];
        snprintf(line, sizeof(line), "\n   %s ", top[i]);
        ASSERT_CONTAINS(R.out, line);
    }
    ASSERT_CONTAINS(R.out, "venus-auth");
    ASSERT_CONTAINS(R.out, "--repo value");
    ASSERT_CONTAINS(R.out, "(default: \"~/.venus-auth\") [$VENUS_AUTH_PATH, $SOPHON_AUTH_PATH]");
    ASSERT_CONTAINS(R.out, "--listen value");
    ASSERT_CONTAINS(R.out, "(default: \"127.0.0.1:8989\")");
    ASSERT_CONTAINS(R.out, "--config value, -c value");

    static const struct {
        const char *path[3];
        const char *subs[11];
    } trees[] = {
        {{"token"}, {"gen", "get", "list", "rm", "recover"}},
        {{"user"},
         {"add", "get", "update", "active", "list", "delete", "recover", "rate-limit", "miner", "signer"}},
        {{"user", "rate-limit"}, {"add", "update", "get", "del"}},
        {{"user", "miner"}, {"add", "exist", "list", "delete"}},
        {{"user", "signer"}, {"register", "exist", "list", "unregister"}},
        {{"miner"}, {"has"}},
        {{"signer"}, {"has", "del"}},
    };
    for (size_t t = 0; t < VC_ELEMENTSOF(trees); t++) {
        if (trees[t].path[1])
            cli(trees[t].path[0], trees[t].path[1], "--help", NULL);
        else
            cli(trees[t].path[0], "--help", NULL);
        ASSERT_EQ(R.rc, 0);
        for (size_t i = 0; trees[t].subs[i]; i++) {
            char line[64];
            snprintf(line, sizeof(line), "\n   %s ", trees[t].subs[i]);
            ASSERT_CONTAINS(R.out, line);
        }
    }
    ASSERT_EQ(cli("run", "--help", NULL), 0);
    ASSERT_CONTAINS(R.out, "--db-type value");
    ASSERT_CONTAINS(R.out, "--pg-dsn value");
    ASSERT_NOT_CONTAINS(R.out, "mysql");
    ASSERT_EQ(cli("--version", NULL), 0);
    ASSERT_STREQ(R.out, "venus-auth version 1.16.0+venus-c\n");
}

/* Validation that happens before any request: an unreachable --listen proves it. */
static void test_local_validation(void)
{
    const char *dir = vc_test_tmpdir();
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "token", "gen", "alice", NULL), 1);
    ASSERT_STREQ(R.err, "Required flag \"perm\" not set\n");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "token", "gen", "--perm", "root", "alice", NULL),
              1);
    ASSERT_CONTAINS(R.err, "ERROR: `perm` flag invalid: 'root'");
    ASSERT_NOT_CONTAINS(R.err, "cannot reach");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "token", "gen", "--perm", "Admin", "alice", NULL),
              1);
    ASSERT_CONTAINS(R.err, "`perm` flag invalid");

    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "signer", "del",
                  "f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q", NULL),
              1);
    ASSERT_STREQ(R.err,
                 "ERROR: --really-do-it must be specified for this action to have an effect; you have been "
                 "warned\n");

    ASSERT_EQ(
        cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "rate-limit", "add", "alice", "10", "5x", NULL),
        1);
    ASSERT_CONTAINS(R.err, "ERROR: invalid duration '5x'");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "rate-limit", "add", "alice", "10",
                  "1h:20m", NULL),
              1);
    ASSERT_CONTAINS(R.err, "ERROR: invalid duration '1h:20m'");
    ASSERT_EQ(
        cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "rate-limit", "add", "alice", "10", "0s", NULL),
        1);
    ASSERT_STREQ(R.err, "ERROR: reset duration must be positive\n");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "rate-limit", "add", "--", "alice", "10",
                  "-1h", NULL),
              1);
    ASSERT_STREQ(R.err, "ERROR: reset duration must be positive\n");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "rate-limit", "add", "alice", "ten", "1h",
                  NULL),
              1);
    ASSERT_CONTAINS(R.err, "ERROR: invalid request limit amount 'ten'");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "rate-limit", "update", "--", "alice",
                  "id", "-3", "1h", NULL),
              1);
    ASSERT_CONTAINS(R.err, "ERROR: invalid request limit amount '-3'");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "miner", "has", "x01000", NULL), 1);
    ASSERT_CONTAINS(R.err, "ERROR: invalid address 'x01000'");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "miner", "exist", "f01000", NULL), 1);
    ASSERT_STREQ(R.err, "Required flag \"user\" not set\n");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "add", NULL), 1);
    ASSERT_CONTAINS(R.err, "Incorrect Usage");
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "token", "get", NULL), 1);
    ASSERT_STREQ(R.err, "ERROR: give --name or --token\n");
}

static void test_unreachable(void)
{
    const char *dir = vc_test_tmpdir();
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "user", "get", "alice", NULL), 1);
    ASSERT_CONTAINS(R.err, "ERROR: cannot reach venus-auth at http://127.0.0.1:1");
    ASSERT_CONTAINS(R.err, "Connection refused");
    ASSERT_EQ(strlen(R.out), 0);
    ASSERT_EQ(cli("--repo", dir, "--listen", "127.0.0.1:1", "token", "gen", "--perm", "admin", "alice", NULL),
              1);
    ASSERT_CONTAINS(R.err, "ERROR: cannot reach venus-auth at http://127.0.0.1:1: ");
}

/* ---- fake venus-auth ---- */

typedef struct canned {
    const char *method, *path;
    int status;
    const char *body;
} canned_t;

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static canned_t answers[16];
static size_t n_answers;
static char last_method[16], last_path[64], last_body[1024], last_query[512];
static char calls[1024]; /* "METHOD path;" for each request */

static void expect(const char *method, const char *path, int status, const char *body)
{
    pthread_mutex_lock(&fake_lock);
    answers[n_answers++] = (canned_t){method, path, status, body};
    pthread_mutex_unlock(&fake_lock);
}

static void fake_reset(void)
{
    pthread_mutex_lock(&fake_lock);
    n_answers = 0;
    calls[0] = last_body[0] = last_query[0] = last_path[0] = 0;
    pthread_mutex_unlock(&fake_lock);
}

static int fake_handler(vc_http_request_t *req, vc_http_response_t *resp, void *userdata)
{
    static const char *const keys[] = {"name", "token", "skip",  "limit", "state",
                                       "id",   "user",  "miner", "signer"};
    pthread_mutex_lock(&fake_lock);
    snprintf(last_method, sizeof(last_method), "%s", req->method);
    snprintf(last_path, sizeof(last_path), "%s", req->path);
    snprintf(last_body, sizeof(last_body), "%.*s", (int)req->body_len, req->body ? req->body : "");
    last_query[0] = 0;
    for (size_t i = 0; i < VC_ELEMENTSOF(keys); i++) {
        const char *v = vc_http_query(req, keys[i]);
        if (v) {
            size_t n = strlen(last_query);
            snprintf(last_query + n, sizeof(last_query) - n, "%s%s=%s", n ? "&" : "", keys[i], v);
        }
    }
    size_t n = strlen(calls);
    snprintf(calls + n, sizeof(calls) - n, "%s %s;", req->method, req->path);
    int r = vc_http_reply_error(resp, 404, "no canned answer for %s %s", req->method, req->path);
    for (size_t i = 0; i < n_answers; i++)
        if (vc_streq(answers[i].method, req->method) && vc_streq(answers[i].path, req->path)) {
            r = vc_http_reply_json(resp, answers[i].status, answers[i].body);
            answers[i].method = ""; /* used once */
            break;
        }
    pthread_mutex_unlock(&fake_lock);
    return r;
}

static int fake_auth(void *userdata, const char *token, vc_auth_info_t *ret)
{
    if (!vc_streq(token, "admin-token"))
        return VC_EVERIFY;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->name, sizeof(ret->name), "defaultLocalToken");
    snprintf(ret->perm, sizeof(ret->perm), "admin");
    ret->perms = vc_perm_expand("admin");
    return 0;
}

static vc_http_server_t *fake;
static char fake_repo[512];

static int fake_start(void)
{
    static const char *const paths[] = {"/genToken",
                                        "/token",
                                        "/tokens",
                                        "/recoverToken",
                                        "/user/new",
                                        "/user/update",
                                        "/user/list",
                                        "/user",
                                        "/user/has",
                                        "/user/del",
                                        "/user/recover",
                                        "/user/ratelimit",
                                        "/user/ratelimit/upsert",
                                        "/user/ratelimit/del",
                                        "/user/miner/add",
                                        "/user/miner/exist",
                                        "/user/miner/list",
                                        "/user/miner/del",
                                        "/miner/has",
                                        "/user/signer/register",
                                        "/user/signer/exist",
                                        "/user/signer/list",
                                        "/user/signer/unregister",
                                        "/signer/has",
                                        "/signer/del"};
    vc_http_opts_t o = {.listen = "127.0.0.1:0", .threads = 1};
    int r = vc_http_server_new(&o, &fake);
    for (size_t i = 0; r >= 0 && i < VC_ELEMENTSOF(paths); i++)
        r = vc_http_route(fake, NULL, paths[i], 0, fake_handler, NULL);
    if (r < 0)
        return r;
    vc_http_set_auth(fake, fake_auth, NULL);
    if ((r = vc_http_start(fake)) < 0)
        return r;
    /* a repo as `run` leaves it: token and api files */
    snprintf(fake_repo, sizeof(fake_repo), "%s/repo", vc_test_tmpdir());
    char path[600];
    const char *bound = vc_http_bound(fake);
    if ((r = vc_mkdir_p(fake_repo, 0700)) < 0)
        return r;
    snprintf(path, sizeof(path), "%s/token", fake_repo);
    if ((r = vc_write_file_atomic(path, "admin-token\n", 12, 0600)) < 0)
        return r;
    snprintf(path, sizeof(path), "%s/api", fake_repo);
    return vc_write_file_atomic(path, bound, strlen(bound), 0600);
}

#define RUN(...) cli("--repo", fake_repo, __VA_ARGS__, NULL)

static void test_token_cmds(void)
{
    fake_reset();
    expect("POST", "/genToken", 200, "{\"token\":\"eyJ.a.b\"}");
    ASSERT_EQ(RUN("token", "gen", "--perm", "sign", "--extra", "x<y", "alice"), 0);
    ASSERT_STREQ(R.out, "generate token success: eyJ.a.b\n");
    ASSERT_STREQ(last_body, "{\"name\":\"alice\",\"perm\":\"sign\",\"extra\":\"x\\u003cy\"}");

    fake_reset();
    expect("GET", "/token", 200,
           "[{\"token\":\"eyJ.a.b\",\"name\":\"alice\",\"perm\":\"sign\",\"custom\":\"\","
           "\"createTime\":\"2021-03-30T17:02:32.347018+08:00\"}]");
    ASSERT_EQ(RUN("token", "get", "--name", "alice"), 0);
    ASSERT_STREQ(last_query, "name=alice");
    ASSERT_STREQ(R.out,
                 "name:        alice\nperm:        sign\ncreate time: 2021-03-30 17:02:32.347018 +0800 CST\n"
                 "token:       eyJ.a.b\n\n");

    fake_reset();
    expect("GET", "/tokens", 200,
           "[{\"token\":\"eyJ.a.b\",\"name\":\"alice\",\"perm\":\"sign\",\"createTime\":\"2021-03-30T17:02:"
           "32+08:00\"},"
           "{\"token\":\"eyJ.c.d\",\"name\":\"a-much-longer-name\",\"perm\":\"admin\","
           "\"createTime\":\"2022-01-02T03:04:05.5+08:00\"}]");
    ASSERT_EQ(RUN("token", "list", "--limit", "5"), 0);
    ASSERT_STREQ(last_query, "skip=0&limit=5");
    ASSERT_STREQ(R.out, "num  name                  perm     createTime             token\n"
                        "1    alice                 sign     2021-03-30 17:02:32    eyJ.a.b\n"
                        "2    a-much-longer-name    admin    2022-01-02 03:04:05    eyJ.c.d\n");

    fake_reset();
    expect("DELETE", "/token", 200, "");
    ASSERT_EQ(RUN("token", "rm", "eyJ.a.b"), 0);
    ASSERT_STREQ(R.out, "remove token success: eyJ.a.b\n");
    ASSERT_STREQ(last_body, "{\"Token\":\"eyJ.a.b\"}");
    fake_reset();
    expect("POST", "/recoverToken", 200, "");
    ASSERT_EQ(RUN("token", "recover", "eyJ.a.b"), 0);
    ASSERT_STREQ(R.out, "recover token success: eyJ.a.b\n");

    /* server error -> one ERROR line, exit 1 */
    fake_reset();
    expect("POST", "/genToken", 400,
           "{\"error\":\"token must be based on an existing user bob to generate\"}");
    ASSERT_EQ(RUN("token", "gen", "--perm", "read", "bob"), 1);
    ASSERT_STREQ(R.err, "ERROR: token must be based on an existing user bob to generate\n");
    ASSERT_STREQ(R.out, "");
}

static void test_user_cmds(void)
{
    const char *user =
        "{\"id\":\"0b7c4f1e-1111-4222-8333-944445555666\",\"name\":\"alice\",\"comment\":\"hi\","
        "\"state\":1,\"createTime\":1662605450,\"updateTime\":1662609050}";
    fake_reset();
    expect("PUT", "/user/new", 200, user);
    ASSERT_EQ(RUN("user", "add", "--comment", "hi", "alice"), 0);
    ASSERT_STREQ(last_body, "{\"Name\":\"alice\",\"Comment\":\"hi\",\"State\":1}");
    ASSERT_STREQ(
        R.out, "Add user success: 0b7c4f1e-1111-4222-8333-944445555666, next can add miner for this user\n");
    fake_reset();
    expect("PUT", "/user/new", 200, user);
    ASSERT_EQ(RUN("user", "add", "--state", "2", "bob"), 0);
    ASSERT_STREQ(last_body, "{\"Name\":\"bob\",\"State\":2}");

    fake_reset();
    expect("GET", "/user", 200, user);
    ASSERT_EQ(RUN("user", "get", "alice"), 0);
    ASSERT_STREQ(last_query, "name=alice");
    ASSERT_STREQ(R.out,
                 "name: alice\nstate enabled \t// 2: disable, 1: enable\ncomment: hi\n"
                 "createTime: Thu, 08 Sep 2022 10:50:50 CST\nupdateTime: Thu, 08 Sep 2022 11:50:50 CST\n\n");

    fake_reset();
    expect("POST", "/user/update", 200, "");
    ASSERT_EQ(RUN("user", "update", "--name", "alice", "--state", "2"), 0);
    ASSERT_STREQ(last_body, "{\"Name\":\"alice\",\"State\":2}");
    ASSERT_STREQ(R.out, "update user success\n");
    fake_reset();
    expect("POST", "/user/update", 200, "");
    ASSERT_EQ(RUN("user", "active", "alice"), 0);
    ASSERT_STREQ(last_body, "{\"Name\":\"alice\",\"State\":1}");
    ASSERT_STREQ(R.out, "active user success\n");

    fake_reset();
    expect("GET", "/user/list", 200,
           "[{\"id\":\"1\",\"name\":\"alice\",\"comment\":\"\",\"state\":1,\"createTime\":1662605450,"
           "\"updateTime\":1662605450},{\"id\":\"2\",\"name\":\"bob\",\"comment\":\"c\",\"state\":2,"
           "\"createTime\":0,\"updateTime\":0}]");
    expect("GET", "/user/miner/list", 200,
           "[{\"Miner\":\"f01000\",\"User\":\"alice\",\"OpenMining\":true,\"CreatedAt\":\"2022-09-08T10:50:"
           "50+08:00\","
           "\"UpdatedAt\":\"2022-09-08T10:50:50+08:00\"},{\"Miner\":\"f01001\",\"User\":\"alice\","
           "\"OpenMining\":false,"
           "\"CreatedAt\":\"2022-09-08T10:50:50+08:00\",\"UpdatedAt\":\"2022-09-08T10:50:50+08:00\"}]");
    expect("GET", "/user/miner/list", 200, "[]");
    ASSERT_EQ(RUN("user", "list"), 0);
    ASSERT_STREQ(calls, "GET /user/list;GET /user/miner/list;GET /user/miner/list;");
    ASSERT_STREQ(R.out,
                 "number: 1\nname: alice\nstate: enabled\nminers: [f01000 f01001]\n"
                 "createTime: Thu, 08 Sep 2022 10:50:50 CST\nupdateTime: Thu, 08 Sep 2022 10:50:50 CST\n\n"
                 "number: 2\nname: bob\nstate: disabled\ncomment: c\n"
                 "createTime: Thu, 01 Jan 1970 08:00:00 CST\nupdateTime: Thu, 01 Jan 1970 08:00:00 CST\n\n");

    fake_reset();
    expect("GET", "/user/has", 200, "true");
    expect("POST", "/user/del", 200, "");
    ASSERT_EQ(RUN("user", "delete", "alice"), 0);
    ASSERT_STREQ(last_body, "{\"Name\":\"alice\"}");
    ASSERT_STREQ(R.out, "remove user success\n");
    fake_reset();
    expect("GET", "/user/has", 200, "false");
    ASSERT_EQ(RUN("user", "delete", "nobody"), 1);
    ASSERT_STREQ(R.err, "ERROR: not found user\n");
    fake_reset();
    expect("POST", "/user/recover", 200, "");
    ASSERT_EQ(RUN("user", "recover", "alice"), 0);
    ASSERT_STREQ(R.out, "recover user success\n");
}

static void test_ratelimit_cmds(void)
{
    fake_reset();
    expect("GET", "/user/ratelimit", 200, "[]");
    expect("POST", "/user/ratelimit/upsert", 200, "\"dee7e326-1\"");
    ASSERT_EQ(RUN("user", "rate-limit", "add", "alice", "100", "1h30m"), 0);
    ASSERT_STREQ(last_body, "{\"Id\":\"\",\"Name\":\"alice\",\"Service\":\"\",\"API\":\"\","
                            "\"ReqLimit\":{\"Cap\":100,\"ResetDur\":5400000000000}}");
    ASSERT_STREQ(R.out, "upsert user rate limit success:\tdee7e326-1\n");

    const char *one = "[{\"Id\":\"dee7e326-1\",\"Name\":\"alice\",\"Service\":\"\",\"API\":\"\","
                      "\"ReqLimit\":{\"Cap\":100,\"ResetDur\":5400000000000}}]";
    fake_reset();
    expect("GET", "/user/ratelimit", 200, one);
    ASSERT_EQ(RUN("user", "rate-limit", "add", "alice", "100", "1h"), 1);
    ASSERT_STREQ(R.err, "ERROR: user rate limit:dee7e326-1 exists\n");

    fake_reset();
    expect("GET", "/user/ratelimit", 200, one);
    ASSERT_EQ(RUN("user", "rate-limit", "get", "alice"), 0);
    ASSERT_STREQ(R.out, "user:alice, limit id:dee7e326-1, request limit amount:100, duration:1.50(h)\n");
    fake_reset();
    expect("GET", "/user/ratelimit", 200, "[]");
    ASSERT_EQ(RUN("user", "rate-limit", "get", "bob"), 0);
    ASSERT_STREQ(R.out, "user have no request rate limit\n");

    fake_reset();
    expect("GET", "/user/ratelimit", 200, one);
    expect("POST", "/user/ratelimit/upsert", 200, "\"dee7e326-1\"");
    ASSERT_EQ(RUN("user", "rate-limit", "update", "alice", "dee7e326-1", "20", "2m10s"), 0);
    ASSERT_STREQ(last_body, "{\"Id\":\"dee7e326-1\",\"Name\":\"alice\",\"Service\":\"\",\"API\":\"\","
                            "\"ReqLimit\":{\"Cap\":20,\"ResetDur\":130000000000}}");
    ASSERT_STREQ(R.out, "upsert user rate limit success:\tdee7e326-1\n");
    fake_reset();
    expect("GET", "/user/ratelimit", 200, "[]");
    ASSERT_EQ(RUN("user", "rate-limit", "update", "alice", "nope", "20", "2m"), 1);
    ASSERT_STREQ(R.err, "ERROR: user rate limit:nope NOT exists\n");

    fake_reset();
    expect("GET", "/user/ratelimit", 200, one);
    expect("POST", "/user/ratelimit/del", 200, "\"dee7e326-1\"");
    ASSERT_EQ(RUN("user", "rate-limit", "del", "alice", "dee7e326-1"), 0);
    ASSERT_STREQ(last_body, "{\"Name\":\"alice\",\"Id\":\"dee7e326-1\"}");
    ASSERT_STREQ(R.out, "delete rate limit success, dee7e326-1\n");
    fake_reset();
    expect("GET", "/user/ratelimit", 200, "[]");
    ASSERT_EQ(RUN("user", "rate-limit", "del", "alice", "gone"), 0);
    ASSERT_STREQ(last_query, "name=alice&id=gone");
    ASSERT_STREQ(R.out, "user:alice, rate-limit-id:gone Not exits\n");
}

static void test_miner_signer_cmds(void)
{
    const char *f1 = "f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q";
    fake_reset();
    expect("POST", "/user/miner/add", 200, "true");
    ASSERT_EQ(RUN("user", "miner", "add", "alice", "f01000"), 0);
    ASSERT_STREQ(last_body, "{\"User\":\"alice\",\"Miner\":\"f01000\",\"OpenMining\":true}");
    ASSERT_STREQ(R.out, "create user:alice miner:f01000 success.\n");
    fake_reset();
    expect("POST", "/user/miner/add", 200, "false");
    ASSERT_EQ(RUN("user", "miner", "add", "--openMining=false", "alice", "f01000"), 0);
    ASSERT_STREQ(last_body, "{\"User\":\"alice\",\"Miner\":\"f01000\",\"OpenMining\":false}");
    ASSERT_STREQ(R.out, "update user:alice miner:f01000 success.\n");

    fake_reset();
    expect("GET", "/user/miner/exist", 200, "true");
    ASSERT_EQ(RUN("user", "miner", "exist", "--user", "alice", "t01000"), 0);
    ASSERT_STREQ(last_query, "user=alice&miner=f01000");
    ASSERT_STREQ(R.out, "true\n");

    fake_reset();
    expect("GET", "/user", 200, "{\"id\":\"1\",\"name\":\"alice\",\"state\":1}");
    expect("GET", "/user/miner/list", 200,
           "[{\"Miner\":\"f01000\",\"User\":\"alice\",\"OpenMining\":true,\"CreatedAt\":\"2022-09-08T10:50:"
           "50.1+08:00\","
           "\"UpdatedAt\":\"2022-09-08T10:50:50+08:00\"}]");
    ASSERT_EQ(RUN("user", "miner", "list", "alice"), 0);
    ASSERT_STREQ(R.out, "user: alice, miner count:1\n"
                        "idx  miner   openMining  create-time                    \n"
                        "0    f01000  true        Thu, 08 Sep 2022 10:50:50 CST  \n");
    fake_reset();
    expect("GET", "/user", 400, "{\"error\":\"record not found\"}");
    ASSERT_EQ(RUN("user", "miner", "list", "zed"), 1);
    ASSERT_STREQ(R.err, "ERROR: list user:zed miner failed: record not found\n");

    fake_reset();
    expect("POST", "/user/miner/del", 200, "true");
    ASSERT_EQ(RUN("user", "miner", "delete", "f01000"), 0);
    ASSERT_STREQ(last_body, "{\"miner\":\"f01000\"}");
    ASSERT_STREQ(R.out, "remove miner:f01000 success.\n");
    fake_reset();
    expect("POST", "/user/miner/del", 200, "false");
    ASSERT_EQ(RUN("user", "miner", "delete", "f01000"), 0);
    ASSERT_STREQ(R.out, "miner:f01000 not exists.\n");

    fake_reset();
    expect("POST", "/user/signer/register", 200, "");
    ASSERT_EQ(RUN("user", "signer", "register", "alice", f1), 0);
    ASSERT_STREQ(last_body,
                 "{\"User\":\"alice\",\"Signers\":[\"f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q\"]}");
    ASSERT_STREQ(R.out,
                 "register signer address:f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q success for alice.\n");
    fake_reset();
    expect("GET", "/user/signer/exist", 200, "false");
    ASSERT_EQ(RUN("user", "signer", "exist", "--user", "alice", f1), 0);
    ASSERT_STREQ(R.out, "false\n");
    fake_reset();
    expect("GET", "/user", 200, "{\"id\":\"1\",\"name\":\"alice\",\"state\":1}");
    expect("GET", "/user/signer/list", 200,
           "[{\"Signer\":\"f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q\",\"User\":\"alice\","
           "\"CreatedAt\":\"2022-09-08T02:50:50Z\",\"UpdatedAt\":\"2022-09-08T02:50:50Z\"}]");
    ASSERT_EQ(RUN("user", "signer", "list", "alice"), 0);
    ASSERT_STREQ(R.out, "user: alice, signer count:1\n"
                        "idx  signer                                     create-time                    \n"
                        "0    f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q  Thu, 08 Sep 2022 02:50:50 UTC  \n");
    fake_reset();
    expect("POST", "/user/signer/unregister", 200, "");
    ASSERT_EQ(RUN("user", "signer", "unregister", "--user", "alice", f1), 0);
    ASSERT_STREQ(R.out, "unregister signers: f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q of alice success.\n");

    fake_reset();
    expect("GET", "/miner/has", 200, "true");
    ASSERT_EQ(RUN("miner", "has", "f01000"), 0);
    ASSERT_STREQ(last_query, "miner=f01000");
    ASSERT_STREQ(R.out, "true\n");
    fake_reset();
    expect("GET", "/signer/has", 200, "true");
    ASSERT_EQ(RUN("signer", "has", f1), 0);
    ASSERT_STREQ(R.out, "true\n");
    fake_reset();
    expect("POST", "/signer/del", 200, "true");
    ASSERT_EQ(RUN("signer", "del", "--really-do-it", f1), 0);
    ASSERT_STREQ(last_body, "{\"signer\":\"f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q\"}");
    ASSERT_STREQ(R.out, "delete success\n");
}

static void test_unauthorized(void)
{
    char path[600];
    fake_reset();
    snprintf(path, sizeof(path), "%s/token", fake_repo);
    ASSERT_OK(vc_write_file_atomic(path, "stale-token\n", 12, 0600));
    ASSERT_EQ(RUN("miner", "has", "f01000"), 1);
    ASSERT_CONTAINS(R.err, "(401 Unauthorized): the token in ");
    ASSERT_CONTAINS(R.err, "/repo/token is not accepted");
    unlink(path);
    ASSERT_EQ(RUN("miner", "has", "f01000"), 1);
    ASSERT_CONTAINS(R.err, "(401 Unauthorized): no token in ");
    ASSERT_OK(vc_write_file_atomic(path, "admin-token\n", 12, 0600));
    /* --listen given explicitly wins over <repo>/api */
    ASSERT_EQ(RUN("--listen", "127.0.0.1:1", "miner", "has", "f01000"), 1);
    ASSERT_CONTAINS(R.err, "cannot reach venus-auth at http://127.0.0.1:1");
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    /* Times print in the local zone: pin one with a name and a non-zero offset. */
    setenv("TZ", "CST-8", 1);
    tzset();
    unsetenv("VENUS_AUTH_PATH");
    unsetenv("SOPHON_AUTH_PATH");
    VC_TEST_RUN(test_help);
    VC_TEST_RUN(test_local_validation);
    VC_TEST_RUN(test_unreachable);
    if (fake_start() < 0) {
        fprintf(stderr, "cannot start the fake venus-auth\n");
        return 1;
    }
    VC_TEST_RUN(test_token_cmds);
    VC_TEST_RUN(test_user_cmds);
    VC_TEST_RUN(test_ratelimit_cmds);
    VC_TEST_RUN(test_miner_signer_cmds);
    VC_TEST_RUN(test_unauthorized);
    fake = vc_http_server_free(fake);
    return VC_TEST_DONE();
}
