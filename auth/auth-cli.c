/* auth-cli.c: venus-auth's command tree and REST client commands (spec/auth-gateway.md A2, A7). */
#include "auth-cli.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth-config.h"
#include "auth-daemon.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/gofmt.h"
#include "vc/ha-ops.h"
#include "vc/netaddr.h"
#include "vc/util.h"

#define MAX_ANSWER_SHOWN 200

/* ---------------------------------------------------------------------------------------------
 * Talking to the daemon
 */

typedef struct session {
    vc_cli_ctx_t *ctx;
    vc_client_t *client;
} session_t;

static void session_done(session_t *s)
{
    s->client = vc_client_free(s->client);
}

/* Why nobody answered at url ("http://host:port..."): a plain TCP connect tells refused /
 * unreachable / timed out apart, which the HTTP layer does not report. */
static void unreachable_reason(const char *url, char *buf, size_t size)
{
    const char *host = strstr(url, "://");
    char hostport[300];
    struct sockaddr_storage sa;
    socklen_t salen;
    int fd, err = 0;

    snprintf(buf, size, "no answer");
    host = host ? host + 3 : url;
    snprintf(hostport, sizeof(hostport), "%.*s", (int)strcspn(host, "/"), host);
    if (vc_netaddr_parse_listen(hostport, &sa, &salen) < 0) {
        snprintf(buf, size, "cannot resolve '%.200s'", hostport);
        return;
    }
    fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n = poll(&p, 1, 3000);
            socklen_t len = sizeof(err);
            if (n == 0)
                err = ETIMEDOUT;
            else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    close(fd);
    if (err)
        snprintf(buf, size, "%s", strerror(err));
    else
        snprintf(buf, size, "the connection was accepted but no HTTP answer came back (timeout or reset)");
}

/* Message of an error answer: {"error":"..."} or, failing that, the start of the body. */
static void error_text(const char *body, size_t len, char *buf, size_t size)
{
    json_t *j = body && len ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
    const char *msg = json_is_object(j) ? json_string_value(json_object_get(j, "error")) : NULL;
    if (msg)
        snprintf(buf, size, "%s", msg);
    else if (len)
        snprintf(buf, size, "%.*s", (int)VC_MIN(len, (size_t)MAX_ANSWER_SHOWN), body);
    else
        buf[0] = 0;
    json_decref(j);
}

static int report_401(session_t *s, const char *msg)
{
    _cleanup_free_ char *repo = auth_repo_path(s->ctx);
    char path[4096];
    const char *url = vc_client_current(s->client);
    snprintf(path, sizeof(path), "%s/token", repo ? repo : "<repo>");
    if (access(path, R_OK) != 0)
        return vc_cli_errorf(s->ctx,
                             "venus-auth at %s refused the request (401 Unauthorized): no token in %s "
                             "(`venus-auth run` writes it; use the daemon's --repo)",
                             url, path);
    return vc_cli_errorf(
        s->ctx,
        "venus-auth at %s refused the request (401 Unauthorized): the token in %s is not accepted%s%s", url,
        path, vc_strempty(msg) ? "" : ": ", msg ? msg : "");
}

/*
 * One REST call. body (may be NULL) is consumed and sent as compact JSON with Go's escaping.
 * On HTTP 200 *ret (when not NULL) receives the decoded answer. Every failure is printed here
 * as one "ERROR: ..." line (server errors prefixed with what, when given) and the exit code 1
 * is returned; 0 on success.
 */
static int call(session_t *s, const char *what, const char *method, const char *path_query, json_t *body,
                json_t **ret)
{
    _cleanup_free_ char *answer = NULL;
    vc_buf_t jb = {0};
    size_t len = 0;
    long status = 0;
    int r;

    if (!s->client) {
        r = auth_cli_client(s->ctx, &s->client);
        if (r < 0) {
            json_decref(body);
            return vc_cli_errorf(s->ctx, "cannot set up the venus-auth client: %s", vc_strerror(r));
        }
    }
    if (body) {
        r = vc_json_format_go(&jb, body, NULL, NULL);
        json_decref(body);
        if (r < 0) {
            vc_buf_done(&jb);
            return vc_cli_errorf(s->ctx, "encode request: %s", vc_strerror(r));
        }
    }
    r = vc_client_rest(s->client, method, path_query, body ? jb.data : NULL, &status, &answer, &len);
    vc_buf_done(&jb);
    if (r == VC_ETRANSPORT || r == -EIO) {
        char reason[256];
        unreachable_reason(vc_client_current(s->client), reason, sizeof(reason));
        return vc_cli_errorf(s->ctx, "cannot reach venus-auth at %s: %s", vc_client_current(s->client),
                             reason);
    }
    if (r < 0)
        return vc_cli_errorf(s->ctx, "%s %s: %s", method, path_query, vc_strerror(r));

    char msg[1024];
    if (status == 401) {
        error_text(answer, len, msg, sizeof(msg));
        return report_401(s, msg);
    }
    if (status != 200) {
        error_text(answer, len, msg, sizeof(msg));
        if (vc_strempty(msg))
            snprintf(msg, sizeof(msg), "venus-auth answered HTTP %ld to %s %s", status, method, path_query);
        return what ? vc_cli_errorf(s->ctx, "%s: %s", what, msg) : vc_cli_errorf(s->ctx, "%s", msg);
    }
    if (!ret)
        return 0;
    json_error_t jerr;
    json_t *j = len ? json_loadb(answer, len, JSON_DECODE_ANY, &jerr) : NULL;
    if (!j)
        return vc_cli_errorf(s->ctx, "unexpected answer from venus-auth to %s %s: '%.*s'", method, path_query,
                             (int)VC_MIN(len, (size_t)MAX_ANSWER_SHOWN), answer ? answer : "");
    *ret = j;
    return 0;
}

/* "path?k1=v1&k2=v2" with escaped values; pairs (key, value) end with NULL; NULL values are
 * left out. malloc'ed, NULL on OOM. */
static char *query(const char *path, ...)
{
    vc_buf_t b = {0};
    va_list ap;
    int r = vc_buf_append_str(&b, path);
    bool first = true;

    va_start(ap, path);
    for (const char *k; r >= 0 && (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        if (!v)
            continue;
        char *e = vc_url_escape(v);
        r = e ? vc_buf_appendf(&b, "%c%s=%s", first ? '?' : '&', k, e) : -ENOMEM;
        free(e);
        first = false;
    }
    va_end(ap);
    if (r < 0) {
        vc_buf_done(&b);
        return NULL;
    }
    return vc_buf_steal(&b);
}

static int oom(vc_cli_ctx_t *ctx)
{
    return vc_cli_errorf(ctx, "out of memory");
}

/* GET path_query expecting a JSON bool. */
static int get_bool(session_t *s, const char *path_query, bool *ret)
{
    json_t *j = NULL;
    int rc = call(s, NULL, "GET", path_query, NULL, &j);
    if (rc)
        return rc;
    if (!json_is_boolean(j)) {
        json_decref(j);
        return vc_cli_errorf(s->ctx, "unexpected answer from venus-auth to GET %s: want true or false",
                             path_query);
    }
    *ret = json_is_true(j);
    json_decref(j);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Reading answers (Go's encoding/json matches keys case-insensitively; so do we)
 */

static json_t *jget(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (v || !json_is_object(o))
        return v;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)o, k, val) if (strcasecmp(k, key) == 0) return val;
    return NULL;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(jget(o, key));
    return s ? s : "";
}

static int64_t jint(const json_t *o, const char *key)
{
    json_t *v = jget(o, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

static bool jbool(const json_t *o, const char *key)
{
    return json_is_true(jget(o, key));
}

/* An RFC3339 timestamp from the API shown with a Go layout, in its own zone as Go does after
 * decoding; the raw text when it does not parse. */
static const char *show_time(const char *rfc3339, const char *layout, char out[VC_GOTIME_STRLEN_MAX])
{
    vc_gotime_t t;
    if (vc_gotime_parse_rfc3339(rfc3339, &t) < 0 ||
        vc_gotime_format(&t, layout, out, VC_GOTIME_STRLEN_MAX) < 0)
        snprintf(out, VC_GOTIME_STRLEN_MAX, "%s", rfc3339);
    return out;
}

/* time.Unix(sec, 0).Format(time.RFC1123), local zone. */
static const char *show_unix(int64_t sec, char out[VC_GOTIME_STRLEN_MAX])
{
    vc_gotime_t t;
    vc_gotime_local(sec, 0, &t);
    if (vc_gotime_format(&t, VC_GOTIME_RFC1123, out, VC_GOTIME_STRLEN_MAX) < 0)
        out[0] = 0;
    return out;
}

static const char *user_state_str(int64_t state)
{
    return state == 1 ? "enabled" : state == 2 ? "disabled" : "unknown state";
}

/* Parses a Filecoin address and writes it back with the mainnet 'f' prefix (the Go CLI runs
 * with address.CurrentNetwork = Mainnet). */
static int normalize_addr(vc_cli_ctx_t *ctx, const char *s, char out[VC_ADDRESS_STRLEN_MAX])
{
    vc_address_t a;
    int r = vc_address_from_string(s, &a);
    if (r >= 0)
        r = vc_address_to_string(&a, 'f', out);
    if (r < 0)
        return vc_cli_errorf(ctx, "invalid address '%s': %s", s, vc_strerror(r));
    return 0;
}

static int print_bool(vc_cli_ctx_t *ctx, bool b)
{
    fprintf(vc_cli_out(ctx), "%s\n", b ? "true" : "false");
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * ha (vc/ha-ops.h)
 */

int auth_cli_ha_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_decref(params);
    if (!vc_streq(method, "HaStatus"))
        return vc_cli_errorf(ctx, "venus-auth has no %s: it runs active/active", method);
    json_t *ans = NULL;
    int rc = call(&s, "ha status", "GET", "/ha/status", NULL, &ans);
    if (rc == 0 && ret)
        *ret = ans;
    else
        json_decref(ans);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * token
 */

static bool perm_valid(const char *perm)
{
    return vc_streq(perm, "read") || vc_streq(perm, "write") || vc_streq(perm, "sign") ||
           vc_streq(perm, "admin");
}

static int cmd_token_gen(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_arg(ctx, 0), *perm = vc_cli_string(ctx, "perm");
    json_t *ans = NULL;

    if (!perm_valid(perm))
        return vc_cli_errorf(ctx, "`perm` flag invalid: '%s' (want read, write, sign or admin)", perm);
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "name", name, "perm", perm, "extra", vc_cli_string(ctx, "extra"));
    if (!body)
        return oom(ctx);
    int rc = call(&s, NULL, "POST", "/genToken", body, &ans);
    if (rc)
        return rc;
    const char *tk = json_is_string(ans) ? json_string_value(ans) : jstr(ans, "token");
    fprintf(vc_cli_out(ctx), "generate token success: %s\n", tk);
    json_decref(ans);
    return 0;
}

static int cmd_token_get(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_string(ctx, "name"), *token = vc_cli_string(ctx, "token");
    json_t *ans = NULL, *v;
    size_t i;

    if (!*name && !*token)
        return vc_cli_errorf(ctx, "give --name or --token");
    _cleanup_free_ char *pq =
        query("/token", "name", *name ? name : NULL, "token", *token ? token : NULL, NULL);
    if (!pq)
        return oom(ctx);
    int rc = call(&s, NULL, "GET", pq, NULL, &ans);
    if (rc)
        return rc;
    FILE *out = vc_cli_out(ctx);
    json_array_foreach(ans, i, v)
    {
        char tbuf[VC_GOTIME_STRLEN_MAX];
        fprintf(out, "name:        %s\n", jstr(v, "name"));
        fprintf(out, "perm:        %s\n", jstr(v, "perm"));
        fprintf(out, "create time: %s\n", show_time(jstr(v, "createTime"), VC_GOTIME_STRING, tbuf));
        fprintf(out, "token:       %s\n\n", jstr(v, "token"));
    }
    json_decref(ans);
    return 0;
}

static int cmd_token_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    char skip[24], limit[24];
    json_t *ans = NULL, *v;
    size_t i;
    int r = 0;

    if (!tw)
        return oom(ctx);
    snprintf(skip, sizeof(skip), "%" PRIu64, vc_cli_uint(ctx, "skip"));
    snprintf(limit, sizeof(limit), "%" PRIu64, vc_cli_uint(ctx, "limit"));
    _cleanup_free_ char *pq = query("/tokens", "skip", skip, "limit", limit, NULL);
    if (!pq)
        return oom(ctx);
    int rc = call(&s, NULL, "GET", pq, NULL, &ans);
    if (rc)
        return rc;
    r = vc_tabwriter_write(tw, "num\tname\t\tperm\t\tcreateTime\t\ttoken\n");
    json_array_foreach(ans, i, v)
    {
        char tbuf[VC_GOTIME_STRLEN_MAX];
        if (r >= 0)
            r = vc_tabwriter_printf(
                tw, "%zu\t%s\t\t%s\t\t%s\t\t%s\n", i + 1, jstr(v, "name"), jstr(v, "perm"),
                show_time(jstr(v, "createTime"), VC_GOTIME_DATETIME, tbuf), jstr(v, "token"));
    }
    json_decref(ans);
    if (r >= 0)
        r = vc_tabwriter_flush_file(tw, vc_cli_out(ctx));
    return r < 0 ? oom(ctx) : 0;
}

static int token_change(vc_cli_ctx_t *ctx, const char *method, const char *path, const char *done)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *tk = vc_cli_arg(ctx, 0);
    json_t *body = json_pack("{s:s}", "Token", tk);
    if (!body)
        return oom(ctx);
    int rc = call(&s, NULL, method, path, body, NULL);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "%s token success: %s\n", done, tk);
    return 0;
}

static int cmd_token_rm(vc_cli_ctx_t *ctx)
{
    return token_change(ctx, "DELETE", "/token", "remove");
}

static int cmd_token_recover(vc_cli_ctx_t *ctx)
{
    return token_change(ctx, "POST", "/recoverToken", "recover");
}

/* ---------------------------------------------------------------------------------------------
 * user
 */

static int cmd_user_add(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL;
    json_t *body = json_pack("{s:s}", "Name", vc_cli_arg(ctx, 0));
    if (!body)
        return oom(ctx);
    if (vc_cli_is_set(ctx, "comment"))
        json_object_set_new(body, "Comment", json_string(vc_cli_string(ctx, "comment")));
    json_object_set_new(body, "State", json_integer(vc_cli_int(ctx, "state")));
    int rc = call(&s, NULL, "PUT", "/user/new", body, &ans);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "Add user success: %s, next can add miner for this user\n", jstr(ans, "id"));
    json_decref(ans);
    return 0;
}

static int cmd_user_get(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    _cleanup_free_ char *pq = query("/user", "name", vc_cli_arg(ctx, 0), NULL);
    char t1[VC_GOTIME_STRLEN_MAX], t2[VC_GOTIME_STRLEN_MAX];
    json_t *u = NULL;
    if (!pq)
        return oom(ctx);
    int rc = call(&s, NULL, "GET", pq, NULL, &u);
    if (rc)
        return rc;
    FILE *out = vc_cli_out(ctx);
    fprintf(out, "name: %s\n", jstr(u, "name"));
    fprintf(out, "state %s \t// 2: disable, 1: enable\n", user_state_str(jint(u, "state")));
    fprintf(out, "comment: %s\n", jstr(u, "comment"));
    fprintf(out, "createTime: %s\n", show_unix(jint(u, "createTime"), t1));
    fprintf(out, "updateTime: %s\n\n", show_unix(jint(u, "updateTime"), t2));
    json_decref(u);
    return 0;
}

static int user_update(vc_cli_ctx_t *ctx, const char *name, bool with_comment, int64_t state,
                       const char *done)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *body = json_pack("{s:s}", "Name", name);
    if (!body)
        return oom(ctx);
    if (with_comment)
        json_object_set_new(body, "Comment", json_string(vc_cli_string(ctx, "comment")));
    json_object_set_new(body, "State", json_integer(state));
    int rc = call(&s, NULL, "POST", "/user/update", body, NULL);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "%s\n", done);
    return 0;
}

static int cmd_user_update(vc_cli_ctx_t *ctx)
{
    return user_update(ctx, vc_cli_string(ctx, "name"), vc_cli_is_set(ctx, "comment"),
                       vc_cli_is_set(ctx, "state") ? vc_cli_int(ctx, "state") : 0, "update user success");
}

static int cmd_user_active(vc_cli_ctx_t *ctx)
{
    return user_update(ctx, vc_cli_arg(ctx, 0), false, 1, "active user success");
}

static int cmd_user_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char skip[24], limit[24], state[24];
    json_t *users = NULL, *u;
    size_t i;
    int rc;

    snprintf(skip, sizeof(skip), "%" PRIu64, vc_cli_uint(ctx, "skip"));
    snprintf(limit, sizeof(limit), "%" PRIu64, vc_cli_uint(ctx, "limit"));
    snprintf(state, sizeof(state), "%" PRId64, vc_cli_is_set(ctx, "state") ? vc_cli_int(ctx, "state") : 0);
    _cleanup_free_ char *pq = query("/user/list", "skip", skip, "limit", limit, "state", state, NULL);
    if (!pq)
        return oom(ctx);
    if ((rc = call(&s, NULL, "GET", pq, NULL, &users)))
        return rc;
    FILE *out = vc_cli_out(ctx);
    json_array_foreach(users, i, u)
    {
        const char *name = jstr(u, "name");
        char t1[VC_GOTIME_STRLEN_MAX], t2[VC_GOTIME_STRLEN_MAX];
        json_t *miners = NULL, *m;
        size_t k;
        char *mq = query("/user/miner/list", "user", name, NULL);
        if (!mq) {
            json_decref(users);
            return oom(ctx);
        }
        rc = call(&s, NULL, "GET", mq, NULL, &miners);
        free(mq);
        if (rc) {
            json_decref(users);
            return rc;
        }
        fprintf(out, "number: %zu\n", i + 1);
        fprintf(out, "name: %s\n", name);
        fprintf(out, "state: %s\n", user_state_str(jint(u, "state")));
        if (json_array_size(miners) > 0) {
            fputs("miners: [", out);
            json_array_foreach(miners, k, m) fprintf(out, "%s%s", k ? " " : "", jstr(m, "Miner"));
            fputs("]\n", out);
        }
        if (*jstr(u, "comment"))
            fprintf(out, "comment: %s\n", jstr(u, "comment"));
        fprintf(out, "createTime: %s\n", show_unix(jint(u, "createTime"), t1));
        fprintf(out, "updateTime: %s\n\n", show_unix(jint(u, "updateTime"), t2));
        json_decref(miners);
    }
    json_decref(users);
    return 0;
}

static int cmd_user_delete(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_arg(ctx, 0);
    _cleanup_free_ char *pq = query("/user/has", "name", name, NULL);
    bool has = false;
    int rc;
    if (!pq)
        return oom(ctx);
    if ((rc = get_bool(&s, pq, &has)))
        return rc;
    if (!has)
        return vc_cli_errorf(ctx, "not found user");
    json_t *body = json_pack("{s:s}", "Name", name);
    if (!body)
        return oom(ctx);
    if ((rc = call(&s, NULL, "POST", "/user/del", body, NULL)))
        return rc;
    fprintf(vc_cli_out(ctx), "remove user success\n");
    return 0;
}

static int cmd_user_recover(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *body = json_pack("{s:s}", "Name", vc_cli_arg(ctx, 0));
    if (!body)
        return oom(ctx);
    int rc = call(&s, NULL, "POST", "/user/recover", body, NULL);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "recover user success\n");
    return 0;
}

/* ---- user rate-limit ---- */

/* <amount> <duration> as the Go CLI checks them: a uint64 amount (kept within int64, the type
 * the API stores) and a positive Go duration. */
static int parse_limit(vc_cli_ctx_t *ctx, const char *amount, const char *dur, int64_t *ret_cap,
                       int64_t *ret_ns)
{
    uint64_t cap;
    int64_t ns;
    if (vc_parse_u64(amount, &cap) < 0 || cap > (uint64_t)INT64_MAX)
        return vc_cli_errorf(ctx, "invalid request limit amount '%s': want an integer from 0 to %" PRId64,
                             amount, INT64_MAX);
    int r = vc_parse_duration_go(dur, &ns);
    if (r < 0)
        return vc_cli_errorf(ctx, "invalid duration '%s': %s", dur,
                             r == -ERANGE ? "too large" : "want a Go duration such as 2h, 1h20m or 2m10s");
    if (ns <= 0)
        return vc_cli_errorf(ctx, "reset duration must be positive");
    *ret_cap = (int64_t)cap;
    *ret_ns = ns;
    return 0;
}

/* GET /user/ratelimit?name=&id= into *ret (an array). */
static int get_limits(session_t *s, const char *name, const char *id, json_t **ret)
{
    _cleanup_free_ char *pq = query("/user/ratelimit", "name", name, "id", id, NULL);
    if (!pq)
        return oom(s->ctx);
    return call(s, NULL, "GET", pq, NULL, ret);
}

static int upsert_limit(session_t *s, const char *id, const char *name, int64_t cap, int64_t ns)
{
    json_t *ans = NULL;
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I}}", "Id", id, "Name", name, "Service", "",
                             "API", "", "ReqLimit", "Cap", (json_int_t)cap, "ResetDur", (json_int_t)ns);
    if (!body)
        return oom(s->ctx);
    int rc = call(s, NULL, "POST", "/user/ratelimit/upsert", body, &ans);
    if (rc)
        return rc;
    fprintf(vc_cli_out(s->ctx), "upsert user rate limit success:\t%s\n",
            json_is_string(ans) ? json_string_value(ans) : id);
    json_decref(ans);
    return 0;
}

static int cmd_ratelimit_add(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_arg(ctx, 0);
    json_t *limits = NULL;
    int64_t cap, ns;
    int rc;

    if ((rc = parse_limit(ctx, vc_cli_arg(ctx, 1), vc_cli_arg(ctx, 2), &cap, &ns)))
        return rc;
    if ((rc = get_limits(&s, name, NULL, &limits)))
        return rc;
    if (json_array_size(limits) > 0) {
        rc = vc_cli_errorf(ctx, "user rate limit:%s exists", jstr(json_array_get(limits, 0), "Id"));
        json_decref(limits);
        return rc;
    }
    json_decref(limits);
    return upsert_limit(&s, vc_cli_string(ctx, "id"), name, cap, ns);
}

static int cmd_ratelimit_update(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_arg(ctx, 0), *id = vc_cli_arg(ctx, 1);
    json_t *limits = NULL;
    int64_t cap, ns;
    int rc;

    if ((rc = parse_limit(ctx, vc_cli_arg(ctx, 2), vc_cli_arg(ctx, 3), &cap, &ns)))
        return rc;
    if ((rc = get_limits(&s, name, id, &limits)))
        return rc;
    size_t n = json_array_size(limits);
    json_decref(limits);
    if (n == 0)
        return vc_cli_errorf(ctx, "user rate limit:%s NOT exists", id);
    return upsert_limit(&s, id, name, cap, ns);
}

static int cmd_ratelimit_get(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *limits = NULL, *l;
    size_t i;
    int rc = get_limits(&s, vc_cli_arg(ctx, 0), NULL, &limits);
    if (rc)
        return rc;
    FILE *out = vc_cli_out(ctx);
    if (json_array_size(limits) == 0)
        fprintf(out, "user have no request rate limit\n");
    json_array_foreach(limits, i, l)
    {
        json_t *req = jget(l, "ReqLimit");
        int64_t dur = jint(req, "ResetDur");
        const int64_t hour = 3600LL * 1000000000LL;
        double hours = (double)(dur / hour) + (double)(dur % hour) / 3.6e12; /* Duration.Hours() */
        fprintf(out, "user:%s, limit id:%s, request limit amount:%" PRId64 ", duration:%.2f(h)\n",
                jstr(l, "Name"), jstr(l, "Id"), jint(req, "Cap"), hours);
    }
    json_decref(limits);
    return 0;
}

static int cmd_ratelimit_del(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_arg(ctx, 0), *id = vc_cli_arg(ctx, 1);
    json_t *limits = NULL, *ans = NULL;
    int rc;

    if ((rc = get_limits(&s, name, id, &limits)))
        return rc;
    size_t n = json_array_size(limits);
    json_decref(limits);
    if (n == 0) {
        fprintf(vc_cli_out(ctx), "user:%s, rate-limit-id:%s Not exits\n", name, id);
        return 0;
    }
    json_t *body = json_pack("{s:s, s:s}", "Name", name, "Id", id);
    if (!body)
        return oom(ctx);
    if ((rc = call(&s, NULL, "POST", "/user/ratelimit/del", body, &ans)))
        return rc;
    fprintf(vc_cli_out(ctx), "delete rate limit success, %s\n",
            json_is_string(ans) ? json_string_value(ans) : id);
    json_decref(ans);
    return 0;
}

/* ---- user miner ---- */

static int cmd_user_miner_add(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *user = vc_cli_arg(ctx, 0), *miner = vc_cli_arg(ctx, 1);
    json_t *ans = NULL;
    json_t *body = json_pack("{s:s, s:s, s:b}", "User", user, "Miner", miner, "OpenMining",
                             (int)vc_cli_bool(ctx, "openMining"));
    if (!body)
        return oom(ctx);
    int rc = call(&s, NULL, "POST", "/user/miner/add", body, &ans);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "%s user:%s miner:%s success.\n", json_is_true(ans) ? "create" : "update", user,
            miner);
    json_decref(ans);
    return 0;
}

static int cmd_user_miner_exist(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    bool exist = false;
    int rc;
    if ((rc = normalize_addr(ctx, vc_cli_arg(ctx, 0), addr)))
        return rc;
    _cleanup_free_ char *pq =
        query("/user/miner/exist", "user", vc_cli_string(ctx, "user"), "miner", addr, NULL);
    if (!pq)
        return oom(ctx);
    if ((rc = get_bool(&s, pq, &exist)))
        return rc;
    return print_bool(ctx, exist);
}

/* Checks that user exists (GET /user), for the list commands' "list user:%s ... failed" error. */
static int check_user(session_t *s, const char *user, const char *what)
{
    char prefix[300];
    json_t *u = NULL;
    _cleanup_free_ char *pq = query("/user", "name", user, NULL);
    if (!pq)
        return oom(s->ctx);
    snprintf(prefix, sizeof(prefix), "list user:%s %s failed", user, what);
    int rc = call(s, prefix, "GET", pq, NULL, &u);
    json_decref(u);
    return rc;
}

static int cmd_user_miner_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new(0, 0, 2, ' ');
    const char *user = vc_cli_arg(ctx, 0);
    json_t *miners = NULL, *m;
    size_t i;
    int rc, r;

    if (!tw)
        return oom(ctx);
    if ((rc = check_user(&s, user, "miner")))
        return rc;
    _cleanup_free_ char *pq = query("/user/miner/list", "user", user, NULL);
    if (!pq)
        return oom(ctx);
    if ((rc = call(&s, NULL, "GET", pq, NULL, &miners)))
        return rc;
    fprintf(vc_cli_out(ctx), "user: %s, miner count:%zu\n", user, json_array_size(miners));
    if (json_array_size(miners) == 0) {
        json_decref(miners);
        return 0;
    }
    r = vc_tabwriter_write(tw, "idx\tminer\topenMining\tcreate-time\t\n");
    json_array_foreach(miners, i, m)
    {
        char tbuf[VC_GOTIME_STRLEN_MAX];
        if (r >= 0)
            r = vc_tabwriter_printf(tw, "%zu\t%s\t%s\t%s\t\n", i, jstr(m, "Miner"),
                                    jbool(m, "OpenMining") ? "true" : "false",
                                    show_time(jstr(m, "CreatedAt"), VC_GOTIME_RFC1123, tbuf));
    }
    json_decref(miners);
    if (r >= 0)
        r = vc_tabwriter_flush_file(tw, vc_cli_out(ctx));
    return r < 0 ? oom(ctx) : 0;
}

static int cmd_user_miner_delete(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *miner = vc_cli_arg(ctx, 0);
    char prefix[300];
    json_t *ans = NULL;
    json_t *body = json_pack("{s:s}", "miner", miner);
    if (!body)
        return oom(ctx);
    snprintf(prefix, sizeof(prefix), "delete miner:%s failed", miner);
    int rc = call(&s, prefix, "POST", "/user/miner/del", body, &ans);
    if (rc)
        return rc;
    if (json_is_true(ans))
        fprintf(vc_cli_out(ctx), "remove miner:%s success.\n", miner);
    else
        fprintf(vc_cli_out(ctx), "miner:%s not exists.\n", miner);
    json_decref(ans);
    return 0;
}

/* ---- user signer ---- */

static int signers_change(vc_cli_ctx_t *ctx, const char *path, const char *user, const char *signer,
                          const char *what)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    int rc;
    if ((rc = normalize_addr(ctx, signer, addr)))
        return rc;
    json_t *body = json_pack("{s:s, s:[s]}", "User", user, "Signers", addr);
    if (!body)
        return oom(ctx);
    return call(&s, what, "POST", path, body, NULL);
}

static int cmd_user_signer_register(vc_cli_ctx_t *ctx)
{
    const char *user = vc_cli_arg(ctx, 0), *signer = vc_cli_arg(ctx, 1);
    int rc = signers_change(ctx, "/user/signer/register", user, signer, NULL);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "register signer address:%s success for %s.\n", signer, user);
    return 0;
}

static int cmd_user_signer_unregister(vc_cli_ctx_t *ctx)
{
    const char *user = vc_cli_string(ctx, "user"), *signer = vc_cli_arg(ctx, 0);
    char what[300];
    snprintf(what, sizeof(what), "unregister signer:%s failed", signer);
    int rc = signers_change(ctx, "/user/signer/unregister", user, signer, what);
    if (rc)
        return rc;
    fprintf(vc_cli_out(ctx), "unregister signers: %s of %s success.\n", signer, user);
    return 0;
}

static int cmd_user_signer_exist(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    bool exist = false;
    int rc;
    if ((rc = normalize_addr(ctx, vc_cli_arg(ctx, 0), addr)))
        return rc;
    _cleanup_free_ char *pq =
        query("/user/signer/exist", "user", vc_cli_string(ctx, "user"), "signer", addr, NULL);
    if (!pq)
        return oom(ctx);
    if ((rc = get_bool(&s, pq, &exist)))
        return rc;
    return print_bool(ctx, exist);
}

static int cmd_user_signer_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new(0, 0, 2, ' ');
    const char *user = vc_cli_arg(ctx, 0);
    json_t *signers = NULL, *v;
    size_t i;
    int rc, r;

    if (!tw)
        return oom(ctx);
    if ((rc = check_user(&s, user, "signer")))
        return rc;
    _cleanup_free_ char *pq = query("/user/signer/list", "user", user, NULL);
    if (!pq)
        return oom(ctx);
    if ((rc = call(&s, NULL, "GET", pq, NULL, &signers)))
        return rc;
    fprintf(vc_cli_out(ctx), "user: %s, signer count:%zu\n", user, json_array_size(signers));
    if (json_array_size(signers) == 0) {
        json_decref(signers);
        return 0;
    }
    r = vc_tabwriter_write(tw, "idx\tsigner\tcreate-time\t\n");
    json_array_foreach(signers, i, v)
    {
        char tbuf[VC_GOTIME_STRLEN_MAX];
        if (r >= 0)
            r = vc_tabwriter_printf(tw, "%zu\t%s\t%s\t\n", i, jstr(v, "Signer"),
                                    show_time(jstr(v, "CreatedAt"), VC_GOTIME_RFC1123, tbuf));
    }
    json_decref(signers);
    if (r >= 0)
        r = vc_tabwriter_flush_file(tw, vc_cli_out(ctx));
    return r < 0 ? oom(ctx) : 0;
}

/* ---------------------------------------------------------------------------------------------
 * miner / signer
 */

static int has_addr(vc_cli_ctx_t *ctx, const char *path, const char *key)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    bool has = false;
    int rc;
    if ((rc = normalize_addr(ctx, vc_cli_arg(ctx, 0), addr)))
        return rc;
    _cleanup_free_ char *pq = query(path, key, addr, NULL);
    if (!pq)
        return oom(ctx);
    if ((rc = get_bool(&s, pq, &has)))
        return rc;
    return print_bool(ctx, has);
}

static int cmd_miner_has(vc_cli_ctx_t *ctx)
{
    return has_addr(ctx, "/miner/has", "miner");
}

static int cmd_signer_has(vc_cli_ctx_t *ctx)
{
    return has_addr(ctx, "/signer/has", "signer");
}

static int cmd_signer_del(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    json_t *ans = NULL;
    int rc;

    if (!vc_cli_bool(ctx, "really-do-it"))
        return vc_cli_errorf(ctx, "--really-do-it must be specified for this action to have an effect; "
                                  "you have been warned");
    if ((rc = normalize_addr(ctx, vc_cli_arg(ctx, 0), addr)))
        return rc;
    json_t *body = json_pack("{s:s}", "signer", addr);
    if (!body)
        return oom(ctx);
    if ((rc = call(&s, NULL, "POST", "/signer/del", body, &ans)))
        return rc;
    json_decref(ans);
    fprintf(vc_cli_out(ctx), "delete success\n");
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The tree
 */

static const vc_cli_flag_t global_flags[] = {
    {.name = "config",
     .aliases = "c",
     .type = VC_FLAG_STRING,
     .usage = "config file path, instead of <repo>/config.toml"},
    {.name = "repo",
     .type = VC_FLAG_STRING,
     .usage = "repo path",
     .def = "~/.venus-auth",
     .env = "VENUS_AUTH_PATH,SOPHON_AUTH_PATH"},
    {.name = "listen",
     .type = VC_FLAG_STRING,
     .usage = "address venus-auth listens on (run) or is reached at (client commands)",
     .def = AUTH_DEFAULT_LISTEN},
    {0},
};

static const vc_cli_flag_t run_flags[] = {
    {.name = "db-type", .type = VC_FLAG_STRING, .usage = "which db to use. sqlite/postgres"},
    {.name = "pg-dsn", .type = VC_FLAG_STRING, .usage = "postgres connection string"},
    {.name = "mysql-dsn", .type = VC_FLAG_STRING, .usage = "not supported: use --pg-dsn", .hidden = true},
    {0},
};

/* token */
static const vc_cli_flag_t token_gen_flags[] = {
    {.name = "perm",
     .type = VC_FLAG_STRING,
     .usage = "permission for API auth (read, write, sign, admin)",
     .required = true},
    {.name = "extra", .type = VC_FLAG_STRING, .usage = "custom string in JWT payload"},
    {0},
};
static const vc_cli_flag_t token_get_flags[] = {
    {.name = "name", .type = VC_FLAG_STRING},
    {.name = "token", .type = VC_FLAG_STRING},
    {0},
};
static const vc_cli_flag_t token_list_flags[] = {
    {.name = "skip", .type = VC_FLAG_UINT, .def = "0"},
    {.name = "limit", .type = VC_FLAG_UINT, .usage = "max value:1000", .def = "20"},
    {0},
};
static const vc_cli_cmd_t token_cmds[] = {
    {.name = "gen",
     .usage = "generate token",
     .args_usage = "[name]",
     .flags = token_gen_flags,
     .nargs = 1,
     .run = cmd_token_gen},
    {.name = "get",
     .usage = "get token",
     .flags = token_get_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_token_get},
    {.name = "list",
     .usage = "list token info",
     .flags = token_list_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_token_list},
    {.name = "rm", .usage = "remove token", .args_usage = "[token]", .nargs = 1, .run = cmd_token_rm},
    {.name = "recover",
     .usage = "recover deleted token",
     .args_usage = "[token]",
     .nargs = 1,
     .run = cmd_token_recover},
    {0},
};

/* user rate-limit */
static const vc_cli_flag_t ratelimit_add_flags[] = {
    {.name = "id", .type = VC_FLAG_STRING, .usage = "rate limit id to update"},
    {0},
};
static const vc_cli_cmd_t ratelimit_cmds[] = {
    {.name = "add",
     .usage = "add user request rate limit",
     .flags = ratelimit_add_flags,
     .args_usage = "<name> <limitAmount> <duration(2h, 1h20m, 2m10s)>",
     .nargs = 3,
     .run = cmd_ratelimit_add},
    {.name = "update",
     .usage = "update user request rate limit",
     .args_usage = "<name> <rate-limit-id> <limitAmount> <duration(2h, 1h20m, 2m10s)>",
     .nargs = 4,
     .run = cmd_ratelimit_update},
    {.name = "get",
     .usage = "get user request rate limit",
     .args_usage = "<name>",
     .nargs = 1,
     .run = cmd_ratelimit_get},
    {.name = "del",
     .usage = "delete user request rate limit",
     .args_usage = "<name> <rate-limit-id>",
     .nargs = 2,
     .run = cmd_ratelimit_del},
    {0},
};

/* user miner */
static const vc_cli_flag_t user_miner_add_flags[] = {
    {.name = "openMining", .type = VC_FLAG_BOOL, .usage = "false/true", .def = "true"},
    {0},
};
static const vc_cli_flag_t user_flag_required[] = {
    {.name = "user", .type = VC_FLAG_STRING, .required = true},
    {0},
};
static const vc_cli_cmd_t user_miner_cmds[] = {
    {.name = "add",
     .usage = "Add miner for specified user",
     .args_usage = "<user> <miner>",
     .flags = user_miner_add_flags,
     .nargs = 2,
     .run = cmd_user_miner_add},
    {.name = "exist",
     .usage = "Check if miner exist in the user",
     .args_usage = "<miner>",
     .flags = user_flag_required,
     .nargs = 1,
     .run = cmd_user_miner_exist},
    {.name = "list",
     .usage = "List of miners for the specified user",
     .args_usage = "<user>",
     .nargs = 1,
     .run = cmd_user_miner_list},
    {.name = "delete",
     .usage = "Delete miner",
     .args_usage = "<miner>",
     .nargs = 1,
     .run = cmd_user_miner_delete},
    {0},
};

/* user signer */
static const vc_cli_cmd_t user_signer_cmds[] = {
    {.name = "register",
     .usage = "Add signer address for specified user",
     .args_usage = "<user> <signer address>",
     .nargs = 2,
     .run = cmd_user_signer_register},
    {.name = "exist",
     .usage = "Check if signer address exists",
     .args_usage = "<signer address>",
     .flags = user_flag_required,
     .nargs = 1,
     .run = cmd_user_signer_exist},
    {.name = "list",
     .usage = "List of signer address for the specified user",
     .args_usage = "<user>",
     .nargs = 1,
     .run = cmd_user_signer_list},
    {.name = "unregister",
     .usage = "Unregister signer",
     .args_usage = "<signer address>",
     .flags = user_flag_required,
     .nargs = 1,
     .run = cmd_user_signer_unregister},
    {0},
};

/* user */
static const vc_cli_flag_t user_add_flags[] = {
    {.name = "comment", .type = VC_FLAG_STRING},
    {.name = "state",
     .type = VC_FLAG_INT,
     .usage = "1-enabled,2-disabled. if set to 2, the user cannot access the chain service normally",
     .def = "1"},
    {0},
};
static const vc_cli_flag_t user_update_flags[] = {
    {.name = "name", .type = VC_FLAG_STRING, .required = true},
    {.name = "comment", .type = VC_FLAG_STRING},
    {.name = "state", .type = VC_FLAG_INT, .usage = "2:disabled, 1:enabled"},
    {0},
};
static const vc_cli_flag_t user_list_flags[] = {
    {.name = "skip", .type = VC_FLAG_UINT},
    {.name = "limit", .type = VC_FLAG_UINT, .def = "20"},
    {.name = "state", .type = VC_FLAG_INT, .usage = "2:disabled, 1:enabled, not-set:[show all]"},
    {0},
};
static const vc_cli_cmd_t user_cmds[] = {
    {.name = "add",
     .usage = "Add user",
     .args_usage = "<name>",
     .flags = user_add_flags,
     .nargs = 1,
     .run = cmd_user_add},
    {.name = "get", .usage = "Get user by name", .args_usage = "<name>", .nargs = 1, .run = cmd_user_get},
    {.name = "update",
     .usage = "Update user",
     .flags = user_update_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_user_update},
    {.name = "active", .usage = "Active user", .args_usage = "<name>", .nargs = 1, .run = cmd_user_active},
    {.name = "list",
     .usage = "User list",
     .flags = user_list_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_user_list},
    {.name = "delete", .usage = "Delete user", .args_usage = "<name>", .nargs = 1, .run = cmd_user_delete},
    {.name = "recover",
     .usage = "recover deleted user",
     .args_usage = "<name>",
     .nargs = 1,
     .run = cmd_user_recover},
    {.name = "rate-limit",
     .usage = "sub cmds for managing user request limits",
     .subcommands = ratelimit_cmds},
    {.name = "miner", .usage = "Sub commands for managing user miners", .subcommands = user_miner_cmds},
    {.name = "signer",
     .usage = "Sub commands for managing user signed accounts",
     .subcommands = user_signer_cmds},
    {0},
};

/* miner, signer */
static const vc_cli_cmd_t miner_cmds[] = {
    {.name = "has",
     .usage = "Check if miner exists",
     .args_usage = "<miner>",
     .nargs = 1,
     .run = cmd_miner_has},
    {0},
};
static const vc_cli_flag_t signer_del_flags[] = {
    {.name = "really-do-it",
     .type = VC_FLAG_BOOL,
     .usage = "must be specified for the action to take effect"},
    {0},
};
static const vc_cli_cmd_t signer_cmds[] = {
    {.name = "has",
     .usage = "Check if signer exists",
     .args_usage = "<signer>",
     .nargs = 1,
     .run = cmd_signer_has},
    {.name = "del",
     .usage = "Delete signer of all user",
     .args_usage = "<signer>",
     .flags = signer_del_flags,
     .nargs = 1,
     .run = cmd_signer_del},
    {0},
};

static const vc_cli_cmd_t root_cmds[] = {
    {.name = "run",
     .usage = "run venus-auth daemon",
     .flags = run_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = auth_cmd_run},
    {.name = "token", .usage = "token command", .subcommands = token_cmds},
    {.name = "user", .usage = "user command", .subcommands = user_cmds},
    {.name = "miner", .usage = "miner command", .subcommands = miner_cmds},
    {.name = "signer", .usage = "signer command", .subcommands = signer_cmds},
    {.name = "ha", .usage = "active/active: this instance and its live peers", .subcommands = vc_ha_cli_active_cmds},
    {0},
};

const vc_cli_cmd_t auth_cli_root = {
    .name = "venus-auth",
    .usage = "token, user, miner and signer service for Venus chain services",
    .version = AUTH_VERSION,
    .flags = global_flags,
    .subcommands = root_cmds,
};
