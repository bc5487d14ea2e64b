/*
 * venus-auth REST API against the real daemon: starts `venus-auth run` on 127.0.0.1 port 0
 * with a fresh repo (sqlite, or with --pg a fresh PostgreSQL database) and drives every
 * endpoint of spec/auth-gateway.md A2, its permission rules and its bad-input answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vc-test-db.h"
#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/authn.h"
#include "vc/client.h"
#include "vc/util.h"

static char repo[512], url[128];
static char *admin_token;
static pid_t daemon_pid;
static bool use_pg;

static char *read_file_trim(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (vc_read_file(path, 65536, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
        d[--n] = 0;
    return d;
}

static void start_daemon(void)
{
    char log[600], api[600], tok[600];
    snprintf(repo, sizeof(repo), "%s/repo", vc_test_tmpdir());
    snprintf(log, sizeof(log), "%s/daemon.log", vc_test_tmpdir());
    snprintf(api, sizeof(api), "%s/api", repo);
    snprintf(tok, sizeof(tok), "%s/token", repo);
    const char *bin = getenv("VENUS_AUTH_BIN");
    if (!bin) {
        fprintf(stderr, "VENUS_AUTH_BIN not set\n");
        exit(2);
    }
    const char *dsn = use_pg ? vc_test_db_fresh_dsn(true) : NULL;
    if (use_pg && !dsn)
        exit(77);
    const char *argv_sqlite[] = {bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", NULL};
    const char *argv_pg[] = {bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", "--db-type", "postgres",
                             "--pg-dsn", dsn, NULL};
    daemon_pid = vc_test_spawn(use_pg ? argv_pg : argv_sqlite, log);
    if (daemon_pid <= 0 || !vc_test_wait_file(api, 20000)) {
        fprintf(stderr, "venus-auth did not start; log in %s\n", log);
        exit(2);
    }
    char *bound = read_file_trim(api);
    snprintf(url, sizeof(url), "http://%s", bound);
    free(bound);
    admin_token = read_file_trim(tok);
}

typedef struct resp {
    long status;
    char *body;
    json_t *json;
} resp_t;

static void resp_done(resp_t *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* One REST call with token (NULL = none). */
static resp_t call(const char *token, const char *method, const char *path, const char *body)
{
    const char *eps[] = {url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .retries = -1};
    vc_client_t *c = NULL;
    resp_t r = {0};
    if (vc_client_new(&o, &c) < 0)
        return r;
    size_t len = 0;
    if (vc_client_rest(c, method, path, body, &r.status, &r.body, &len) == 0 && len) {
        json_error_t e;
        r.json = json_loadb(r.body, len, JSON_DECODE_ANY, &e);
    }
    vc_client_free(c);
    return r;
}

static const char *err_of(const resp_t *r)
{
    return json_string_value(json_object_get(r->json, "error"));
}

/* Generates a token for user with perm through the API. Caller frees. */
static char *gen(const char *user, const char *perm)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"perm\":\"%s\",\"extra\":\"\"}", user, perm);
    resp_t r = call(admin_token, "POST", "/genToken", body);
    char *t = r.status == 200 ? strdup(json_string_value(json_object_get(r.json, "token"))) : NULL;
    resp_done(&r);
    return t;
}

static void test_bootstrap_and_middleware(void)
{
    ASSERT_NOTNULL(admin_token);
    vc_auth_info_t info;
    ASSERT_OK(vc_jwt_decode_payload(admin_token, &info));
    ASSERT_STREQ(info.name, "defaultLocalToken");
    ASSERT_STREQ(info.perm, "admin");
    struct stat st;
    char path[600];
    snprintf(path, sizeof(path), "%s/token", repo);
    ASSERT_OK(stat(path, &st));
    ASSERT_EQ(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    ASSERT_OK(stat(path, &st));

    resp_t r = call(NULL, "GET", "/version", NULL);
    ASSERT_EQ(r.status, 401);
    ASSERT_EQ(r.body ? strlen(r.body) : 0, 0);
    resp_done(&r);
    r = call("not-a-jwt", "GET", "/version", NULL);
    ASSERT_EQ(r.status, 401);
    resp_done(&r);
    r = call(admin_token, "GET", "/version", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strncmp(json_string_value(json_object_get(r.json, "Version")), "1.16.0", 6) == 0);
    resp_done(&r);
    /* token as a query value instead of the header */
    char q[2048];
    snprintf(q, sizeof(q), "/version?token=%s", admin_token);
    r = call(NULL, "GET", q, NULL);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
}

static void test_users(void)
{
    resp_t r = call(admin_token, "PUT", "/user/new", "{\"Name\":\"alice\",\"Comment\":\"ops team\",\"State\":1}");
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "name")), "alice");
    ASSERT_EQ(strlen(json_string_value(json_object_get(r.json, "id"))), 36);
    ASSERT_EQ(json_integer_value(json_object_get(r.json, "state")), 1);
    ASSERT_TRUE(json_integer_value(json_object_get(r.json, "createTime")) > 1600000000);
    resp_done(&r);
    /* lowercase keys bind too; omitted State is 0 */
    r = call(admin_token, "PUT", "/user/new", "{\"name\":\"bob\",\"unknown\":42}");
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(json_integer_value(json_object_get(r.json, "state")), 0);
    resp_done(&r);
    r = call(admin_token, "PUT", "/user/new", "{\"Name\":\"alice\"}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "user already exists");
    resp_done(&r);
    r = call(admin_token, "PUT", "/user/new", "{\"Name\":5}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "Name: expected a string");
    resp_done(&r);
    r = call(admin_token, "PUT", "/user/new", "{}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "Name is required");
    resp_done(&r);
    r = call(admin_token, "PUT", "/user/new", "{\"Name\":\"x\"");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);

    r = call(admin_token, "POST", "/user/update", "{\"Name\":\"bob\",\"State\":2,\"Comment\":\"off\"}");
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body ? strlen(r.body) : 0, 0);
    resp_done(&r);
    r = call(admin_token, "GET", "/user?name=bob", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(json_integer_value(json_object_get(r.json, "state")), 2);
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "comment")), "off");
    resp_done(&r);
    r = call(admin_token, "GET", "/user/list?skip=0&limit=10&state=2", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(json_array_size(r.json), 1);
    resp_done(&r);
    r = call(admin_token, "GET", "/user/list?limit=-5", NULL); /* negative limit -> 1000 */
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(json_array_size(r.json), 3); /* defaultLocalToken, alice, bob */
    resp_done(&r);
    r = call(admin_token, "GET", "/user/list?limit=abc", NULL);
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    r = call(admin_token, "GET", "/user/has?name=alice", NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "GET", "/user/has?name=nobody", NULL);
    ASSERT_STREQ(r.body, "false");
    resp_done(&r);
    r = call(admin_token, "POST", "/user/verify", "{\"Names\":[\"alice\",\"bob\"]}");
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(admin_token, "POST", "/user/verify", "{\"Names\":[\"alice\",\"nobody\"]}");
    ASSERT_EQ(r.status, 400);
    ASSERT_TRUE(strstr(err_of(&r), "nobody") != NULL);
    resp_done(&r);

    /* self: a user's own token may read its own record, not others' */
    char *alice = gen("alice", "read");
    ASSERT_NOTNULL(alice);
    r = call(alice, "GET", "/user?name=alice", NULL);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(alice, "GET", "/user?name=bob", NULL);
    ASSERT_EQ(r.status, 400);
    ASSERT_TRUE(strstr(err_of(&r), "Permission Deny") != NULL);
    resp_done(&r);
    r = call(alice, "GET", "/user/list", NULL);
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "need admin prem: Permission Deny");
    resp_done(&r);
    free(alice);
}

static void test_tokens(void)
{
    resp_t r = call(admin_token, "POST", "/genToken", "{\"name\":\"ghost\",\"perm\":\"read\"}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "token must be based on an existing user ghost to generate");
    resp_done(&r);
    r = call(admin_token, "POST", "/genToken", "{\"name\":\"alice\",\"perm\":\"root\"}");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);

    char *t1 = gen("alice", "sign"), *t2 = gen("alice", "write"), *t3 = gen("alice", "sign");
    ASSERT_NOTNULL(t1);
    ASSERT_NOTNULL(t2);
    ASSERT_NOTNULL(t3);
    ASSERT_TRUE(strcmp(t1, t3) != 0); /* same claims, fresh secret per token */

    char body[4200];
    snprintf(body, sizeof(body), "{\"Token\":\"%s\"}", t1);
    r = call(admin_token, "POST", "/verify", body);
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "name")), "alice");
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "perm")), "sign");
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "ext")), "");
    resp_done(&r);

    /* a token signed with another token's secret never verifies: swap the signatures */
    char forged[2048];
    const char *sig2 = strrchr(t2, '.');
    snprintf(forged, sizeof(forged), "%.*s%s", (int)(strrchr(t1, '.') - t1), t1, sig2);
    snprintf(body, sizeof(body), "{\"Token\":\"%s\"}", forged);
    r = call(admin_token, "POST", "/verify", body);
    ASSERT_EQ(r.status, 400); /* no row has that exact token string */
    resp_done(&r);
    /* tampered payload */
    r = call(admin_token, "POST", "/verify", "{\"Token\":\"a.b.c\"}");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    r = call(forged, "GET", "/version", NULL);
    ASSERT_EQ(r.status, 401);
    resp_done(&r);

    r = call(admin_token, "GET", "/token?name=alice", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(json_array_size(r.json), 4); /* read (from test_users), sign, write, sign */
    json_t *ti = json_array_get(r.json, 0);
    ASSERT_STREQ(json_string_value(json_object_get(ti, "custom")), "");
    ASSERT_TRUE(strchr(json_string_value(json_object_get(ti, "createTime")), 'T') != NULL);
    resp_done(&r);
    char q[2048];
    snprintf(q, sizeof(q), "/token?token=%s", t1);
    r = call(admin_token, "GET", q, NULL);
    ASSERT_EQ(json_array_size(r.json), 1);
    resp_done(&r);
    r = call(admin_token, "GET", "/tokens?skip=0&limit=2", NULL);
    ASSERT_EQ(json_array_size(r.json), 2);
    resp_done(&r);
    r = call(admin_token, "GET", "/token", NULL);
    ASSERT_EQ(r.status, 400);
    resp_done(&r);

    /* revocation: the owner may remove its own token; it stops working at once */
    snprintf(body, sizeof(body), "{\"Token\":\"%s\"}", t1);
    r = call(t2, "DELETE", "/token", body);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(t1, "GET", "/version", NULL);
    ASSERT_EQ(r.status, 401);
    resp_done(&r);
    r = call(admin_token, "POST", "/verify", body);
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "get token: record not found");
    resp_done(&r);
    r = call(admin_token, "POST", "/recoverToken", body);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(t1, "GET", "/version", NULL);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    /* someone else's token: denied */
    char *bob = gen("bob", "admin");
    char *bobread = gen("bob", "read");
    r = call(bobread, "DELETE", "/token", body);
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    r = call(t1, "GET", "/version", NULL);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    free(bob);
    free(bobread);
    free(t1);
    free(t2);
    free(t3);
}

static void test_miners_signers(void)
{
    resp_t r = call(admin_token, "POST", "/user/miner/add", "{\"User\":\"alice\",\"Miner\":\"f01000\",\"OpenMining\":true}");
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "POST", "/user/miner/add", "{\"User\":\"alice\",\"Miner\":\"t01000\",\"OpenMining\":false}");
    ASSERT_STREQ(r.body, "false"); /* updated, t-prefix accepted */
    resp_done(&r);
    r = call(admin_token, "POST", "/miner/add-miner", "{\"User\":\"alice\",\"Miner\":\"f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q\",\"OpenMining\":true}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "invalid protocol type");
    resp_done(&r);
    r = call(admin_token, "POST", "/user/miner/add", "{\"User\":\"alice\",\"Miner\":\"f0xyz\",\"OpenMining\":true}");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    r = call(admin_token, "POST", "/user/miner/add", "{\"User\":\"ghost\",\"Miner\":\"f01001\",\"OpenMining\":true}");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    r = call(admin_token, "POST", "/user/miner/add", "{\"User\":\"alice\",\"Miner\":\"f01001\",\"OpenMining\":\"yes\"}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "OpenMining: expected a boolean");
    resp_done(&r);

    r = call(admin_token, "GET", "/user/miner/list?user=alice", NULL);
    ASSERT_EQ(json_array_size(r.json), 1);
    json_t *m = json_array_get(r.json, 0);
    ASSERT_STREQ(json_string_value(json_object_get(m, "Miner")), "f01000");
    ASSERT_STREQ(json_string_value(json_object_get(m, "User")), "alice");
    ASSERT_TRUE(json_is_false(json_object_get(m, "OpenMining")));
    resp_done(&r);
    r = call(admin_token, "GET", "/miner/list-by-user?user=alice", NULL);
    ASSERT_EQ(json_array_size(r.json), 1);
    resp_done(&r);
    r = call(admin_token, "GET", "/user/miner?miner=f01000", NULL);
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "name")), "alice");
    resp_done(&r);
    r = call(admin_token, "GET", "/miner?miner=f01000", NULL);
    ASSERT_STREQ(json_string_value(json_object_get(r.json, "name")), "alice");
    resp_done(&r);
    r = call(admin_token, "GET", "/user/miner/exist?miner=f01000&user=alice", NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "GET", "/miner/has?miner=f01000", NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "GET", "/miner/has-miner?miner=f09999", NULL);
    ASSERT_STREQ(r.body, "false");
    resp_done(&r);

    /* owner rule: bob cannot delete alice's miner */
    char *bob = gen("bob", "write");
    r = call(bob, "POST", "/user/miner/del", "{\"miner\":\"f01000\"}");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    free(bob);

    const char *f1 = "f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q";
    char body[512];
    snprintf(body, sizeof(body), "{\"User\":\"alice\",\"Signers\":[\"%s\"]}", f1);
    r = call(admin_token, "POST", "/user/signer/register", body);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    snprintf(body, sizeof(body), "{\"User\":\"bob\",\"Signers\":[\"t1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q\"]}");
    r = call(admin_token, "POST", "/user/signer/register", body);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(admin_token, "POST", "/user/signer/register", "{\"User\":\"alice\",\"Signers\":[\"f01000\"]}");
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(err_of(&r), "invalid protocol type");
    resp_done(&r);
    char q[512];
    snprintf(q, sizeof(q), "/user/signer?signer=%s", f1);
    r = call(admin_token, "GET", q, NULL);
    ASSERT_EQ(json_array_size(r.json), 2);
    resp_done(&r);
    snprintf(q, sizeof(q), "/user/signer/exist?signer=%s&user=alice", f1);
    r = call(admin_token, "GET", q, NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "GET", "/user/signer/list?user=alice", NULL);
    ASSERT_EQ(json_array_size(r.json), 1);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(r.json, 0), "Signer")), f1);
    resp_done(&r);
    snprintf(body, sizeof(body), "{\"User\":\"bob\",\"Signers\":[\"%s\"]}", f1);
    r = call(admin_token, "POST", "/user/signer/unregister", body);
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    snprintf(q, sizeof(q), "/signer/has?signer=%s", f1);
    r = call(admin_token, "GET", q, NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    snprintf(body, sizeof(body), "{\"signer\":\"%s\"}", f1);
    r = call(admin_token, "POST", "/signer/del", body);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "GET", q, NULL);
    ASSERT_STREQ(r.body, "false");
    resp_done(&r);
}

static void test_ratelimits_and_delete(void)
{
    resp_t r = call(admin_token, "POST", "/user/ratelimit/upsert",
                    "{\"Name\":\"alice\",\"Service\":\"\",\"API\":\"\",\"ReqLimit\":{\"Cap\":100,\"ResetDur\":60000000000}}");
    ASSERT_EQ(r.status, 200);
    const char *id = json_string_value(r.json);
    ASSERT_NOTNULL(id);
    char idbuf[64];
    snprintf(idbuf, sizeof(idbuf), "%s", id);
    resp_done(&r);
    r = call(admin_token, "GET", "/user/ratelimit?name=alice", NULL);
    ASSERT_EQ(json_array_size(r.json), 1);
    json_t *rl = json_array_get(r.json, 0);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(rl, "ReqLimit"), "ResetDur")), 60000000000LL);
    resp_done(&r);
    char body[256];
    snprintf(body, sizeof(body), "{\"Name\":\"alice\",\"Id\":\"%s\",\"ReqLimit\":{\"Cap\":7,\"ResetDur\":1}}", idbuf);
    r = call(admin_token, "POST", "/user/ratelimit/upsert", body);
    ASSERT_STREQ(json_string_value(r.json), idbuf);
    resp_done(&r);
    r = call(admin_token, "POST", "/user/ratelimit/upsert", "{\"Name\":\"alice\",\"ReqLimit\":{\"Cap\":\"x\"}}");
    ASSERT_EQ(r.status, 400);
    resp_done(&r);
    snprintf(body, sizeof(body), "{\"Name\":\"alice\",\"Id\":\"%s\"}", idbuf);
    r = call(admin_token, "POST", "/user/ratelimit/del", body);
    ASSERT_STREQ(json_string_value(r.json), idbuf);
    resp_done(&r);

    /* user delete: soft, cascades to miners and signers, not to tokens */
    char *alice = gen("alice", "read");
    r = call(admin_token, "POST", "/user/del", "{\"Name\":\"alice\"}");
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(admin_token, "GET", "/user/has?name=alice", NULL);
    ASSERT_STREQ(r.body, "false");
    resp_done(&r);
    r = call(admin_token, "GET", "/miner/has?miner=f01000", NULL);
    ASSERT_STREQ(r.body, "false");
    resp_done(&r);
    r = call(alice, "GET", "/version", NULL); /* spec A4: user state is not checked */
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(admin_token, "POST", "/user/recover", "{\"Name\":\"alice\"}");
    ASSERT_EQ(r.status, 200);
    resp_done(&r);
    r = call(admin_token, "GET", "/user/has?name=alice", NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
    r = call(admin_token, "GET", "/miner/has?miner=f01000", NULL);
    ASSERT_STREQ(r.body, "false"); /* miners are not restored */
    resp_done(&r);
    free(alice);
}

static void test_limits_and_metrics(void)
{
    /* oversized body: 413, nothing created */
    size_t big = 17u << 20;
    char *huge = malloc(big + 64);
    memcpy(huge, "{\"Name\":\"", 9);
    memset(huge + 9, 'a', big);
    strcpy(huge + 9 + big, "\"}");
    resp_t r = call(admin_token, "PUT", "/user/new", huge);
    free(huge);
    ASSERT_EQ(r.status, 413);
    resp_done(&r);
    r = call(admin_token, "GET", "/nope", NULL);
    ASSERT_EQ(r.status, 404);
    resp_done(&r);
    r = call(NULL, "GET", "/metrics", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(r.body, "venus_auth_verify_total{result=\"ok\"}") != NULL);
    ASSERT_TRUE(strstr(r.body, "venus_auth_users ") != NULL);
    ASSERT_TRUE(strstr(r.body, "venus_auth_tokens ") != NULL);
    resp_done(&r);
}

static void test_restart_keeps_state(void)
{
    char *before = strdup(admin_token);
    int st = vc_test_stop(daemon_pid, 10000);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char api[600];
    snprintf(api, sizeof(api), "%s/api", repo);
    struct stat sb;
    ASSERT_TRUE(stat(api, &sb) < 0); /* removed on a clean stop */
    free(admin_token);
    bool pg = use_pg;
    use_pg = false; /* reuse the same DSN via the saved config */
    const char *bin = getenv("VENUS_AUTH_BIN");
    const char *argv[] = {bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", NULL};
    char log[600];
    snprintf(log, sizeof(log), "%s/daemon2.log", vc_test_tmpdir());
    daemon_pid = vc_test_spawn(argv, log);
    use_pg = pg;
    ASSERT_TRUE(vc_test_wait_file(api, 20000));
    char *bound = NULL;
    size_t n;
    ASSERT_OK(vc_read_file(api, 1000, &bound, &n));
    snprintf(url, sizeof(url), "http://%s", bound);
    free(bound);
    char tok[600];
    snprintf(tok, sizeof(tok), "%s/token", repo);
    admin_token = read_file_trim(tok);
    ASSERT_STREQ(admin_token, before); /* the same local admin token is kept */
    free(before);
    resp_t r = call(admin_token, "GET", "/user/has?name=bob", NULL);
    ASSERT_STREQ(r.body, "true");
    resp_done(&r);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    use_pg = vc_test_has_flag("--pg");
    start_daemon();
    VC_TEST_RUN(test_bootstrap_and_middleware);
    VC_TEST_RUN(test_users);
    VC_TEST_RUN(test_tokens);
    VC_TEST_RUN(test_miners_signers);
    VC_TEST_RUN(test_ratelimits_and_delete);
    VC_TEST_RUN(test_limits_and_metrics);
    VC_TEST_RUN(test_restart_keeps_state);
    vc_test_stop(daemon_pid, 10000);
    free(admin_token);
    return VC_TEST_DONE();
}
