/* auth-api.c: venus-auth REST handlers (spec/auth-gateway.md A2-A5). */
#include "auth-api.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "auth-config.h"
#include "vc/gofmt.h"
#include "vc/ha-ops.h"
#include "vc/log.h"
#include "vc/tokcache.h"
#include "vc/util.h"

#define CACHE_SLOTS 4096
#define NAME_MAX_LEN 50
#define LIST_CAP 1000
#define PERM_DENY "Permission Deny"

typedef struct route route_t;
typedef int (*handler_fn)(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body);

struct route {
    const char *method;
    const char *path;
    handler_fn fn;
    auth_api_t *api;
};

struct auth_api {
    auth_store_t *store;
    vc_ha_presence_t *presence; /* NULL: no presence (tests) */
    char max_age[32];
    vc_tokcache_t *cache; /* verified tokens; NULL = no cache */
    route_t *routes;
    size_t n_routes;
    vc_metric_t *m_verify, *m_verify_latency;
};

/* ------------------------------------------------------------------ replies */

static int reply_err(vc_http_response_t *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reply_err(vc_http_response_t *resp, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return vc_http_reply_error(resp, status, "%s", msg);
}

/* Replies 200 with v (stolen). */
static int reply(vc_http_response_t *resp, json_t *v)
{
    if (!v)
        return -ENOMEM;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (!text)
        return -ENOMEM;
    int r = vc_http_reply_json(resp, 200, text);
    free(text);
    return r;
}

/* 200 with an empty body (the Go "Response" helper). */
static int reply_empty(vc_http_response_t *resp)
{
    resp->status = 200;
    return 0;
}

/* Store failures: 400 with the store's reason. */
static int reply_store(vc_http_response_t *resp, int r)
{
    const char *m = auth_store_errmsg();
    if (r == -ENOENT && vc_strempty(m))
        m = "record not found";
    return reply_err(resp, 400, "%s", vc_strempty(m) ? vc_strerror(r) : m);
}

/* ------------------------------------------------------------------ time and JSON shapes */

static json_t *token_json(const auth_token_t *t)
{
    char ts[VC_GOTIME_STRLEN_MAX];
    vc_format_rfc3339nano_local(t->create_ns, ts);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", t->token, "name", t->name, "perm", t->perm, "custom",
                     "", "createTime", ts);
}

static json_t *user_json(const auth_user_t *u)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:I, s:I}", "id", u->id, "name", u->name, "comment",
                     u->comment ? u->comment : "", "state", u->state, "createTime", (json_int_t)u->create_s,
                     "updateTime", (json_int_t)u->update_s);
}

static json_t *miner_json(const auth_miner_t *m)
{
    char c[VC_GOTIME_STRLEN_MAX], u[VC_GOTIME_STRLEN_MAX];
    vc_format_rfc3339nano_local(m->create_ns, c);
    vc_format_rfc3339nano_local(m->update_ns, u);
    return json_pack("{s:s, s:s, s:b, s:s, s:s}", "Miner", m->miner, "User", m->user, "OpenMining", m->open_mining,
                     "CreatedAt", c, "UpdatedAt", u);
}

static json_t *signer_json(const auth_signer_t *s)
{
    char c[VC_GOTIME_STRLEN_MAX], u[VC_GOTIME_STRLEN_MAX];
    vc_format_rfc3339nano_local(s->create_ns, c);
    vc_format_rfc3339nano_local(s->update_ns, u);
    return json_pack("{s:s, s:s, s:s, s:s}", "Signer", s->signer, "User", s->user, "CreatedAt", c, "UpdatedAt", u);
}

static json_t *ratelimit_json(const auth_ratelimit_t *r)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I}}", "Id", r->id, "Name", r->name, "Service",
                     r->service ? r->service : "", "API", r->api ? r->api : "", "ReqLimit", "Cap",
                     (json_int_t)r->cap, "ResetDur", (json_int_t)r->reset_dur_ns);
}

/* ------------------------------------------------------------------ request binding */

/* Case-insensitive key lookup, like Go's encoding/json. */
static json_t *jget(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (v || !json_is_object(obj))
        return v;
    const char *k;
    json_object_foreach(obj, k, v) if (strcasecmp(k, key) == 0) return v;
    return NULL;
}

static const char *form_value(vc_http_request_t *req, const char *key)
{
    char lower[64];
    size_t i;
    const char *v = vc_http_form(req, key);
    if (v)
        return v;
    for (i = 0; key[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)tolower((unsigned char)key[i]);
    lower[i] = 0;
    return vc_http_form(req, lower);
}

/* A string field from the JSON body or the query/form. 0 found, -ENOENT missing, VC_ETYPE. */
static int get_str(json_t *body, vc_http_request_t *req, const char *key, const char **ret)
{
    json_t *v = jget(body, key);
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return VC_ETYPE;
        *ret = json_string_value(v);
        return 0;
    }
    const char *f = form_value(req, key);
    if (!f)
        return -ENOENT;
    *ret = f;
    return 0;
}

static int get_int(json_t *body, vc_http_request_t *req, const char *key, int64_t *ret)
{
    json_t *v = jget(body, key);
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v))
            return VC_ETYPE;
        *ret = json_integer_value(v);
        return 0;
    }
    const char *f = form_value(req, key);
    if (!f)
        return -ENOENT;
    return vc_parse_i64(f, ret) < 0 ? VC_ETYPE : 0;
}

static int get_bool(json_t *body, vc_http_request_t *req, const char *key, bool *ret)
{
    json_t *v = jget(body, key);
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return VC_ETYPE;
        *ret = json_is_true(v);
        return 0;
    }
    const char *f = form_value(req, key);
    if (!f)
        return -ENOENT;
    if (vc_streq(f, "true") || vc_streq(f, "1"))
        *ret = true;
    else if (vc_streq(f, "false") || vc_streq(f, "0"))
        *ret = false;
    else
        return VC_ETYPE;
    return 0;
}

/* Required string: replies 400 itself and returns 1 when missing/invalid. */
static int need_str(json_t *body, vc_http_request_t *req, vc_http_response_t *resp, const char *key,
                    const char **ret)
{
    int r = get_str(body, req, key, ret);
    if (r == VC_ETYPE) {
        reply_err(resp, 400, "%s: expected a string", key);
        return 1;
    }
    if (r < 0 || vc_strempty(*ret)) {
        reply_err(resp, 400, "%s is required", key);
        return 1;
    }
    return 0;
}

static int opt_type_err(vc_http_response_t *resp, const char *key, const char *type)
{
    reply_err(resp, 400, "%s: expected %s", key, type);
    return 1;
}

/* Array of strings (Names, Signers). */
static int need_str_array(json_t *body, vc_http_response_t *resp, const char *key, const char ***ret,
                          size_t *ret_n)
{
    json_t *v = jget(body, key), *e;
    size_t i;
    if (!v || json_is_null(v)) {
        reply_err(resp, 400, "%s is required", key);
        return 1;
    }
    if (!json_is_array(v) || json_array_size(v) > 10000)
        return opt_type_err(resp, key, "an array of strings");
    const char **arr = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!arr)
        return -ENOMEM;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            free(arr);
            return opt_type_err(resp, key, "an array of strings");
        }
        arr[i] = json_string_value(e);
    }
    *ret = arr;
    *ret_n = json_array_size(v);
    return 0;
}

static bool valid_name(const char *name)
{
    return !vc_strempty(name) && strlen(name) <= NAME_MAX_LEN;
}

/* skip / limit as sophon-auth normalises them: skip < 0 -> 0; limit < 0 or > 1000 -> 1000. */
static int paging(vc_http_request_t *req, vc_http_response_t *resp, int64_t *skip, int64_t *limit)
{
    *skip = 0;
    *limit = 0;
    int r = get_int(NULL, req, "skip", skip);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "skip", "an integer");
    r = get_int(NULL, req, "limit", limit);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "limit", "an integer");
    if (*skip < 0)
        *skip = 0;
    if (*limit < 0 || *limit > LIST_CAP)
        *limit = LIST_CAP;
    return 0;
}

/* ------------------------------------------------------------------ permissions */

static bool is_admin(const vc_http_request_t *req)
{
    return (req->auth.perms & VC_PERM_ADMIN) != 0;
}

static bool deny_unless_admin(vc_http_request_t *req, vc_http_response_t *resp)
{
    if (is_admin(req))
        return false;
    reply_err(resp, 400, "need admin prem: " PERM_DENY);
    return true;
}

/* admin, or the caller's token name is the user named in the request */
static bool deny_unless_self(vc_http_request_t *req, vc_http_response_t *resp, const char *user)
{
    if (is_admin(req) || vc_streq(req->auth.name, user))
        return false;
    reply_err(resp, 400, "need admin or self prem: " PERM_DENY);
    return true;
}

/* ------------------------------------------------------------------ verify + cache */

static void cache_forget(auth_api_t *a, const char *token)
{
    if (a->cache)
        vc_tokcache_forget(a->cache, token);
}

static void cache_forget_user(auth_api_t *a, const char *name)
{
    if (a->cache)
        vc_tokcache_forget_name(a->cache, name);
}

static void count_verify(auth_api_t *a, const char *result, int64_t start_us)
{
    vc_counter_inc(vc_metric_with(a->m_verify, result, NULL));
    vc_histogram_observe(vc_metric_with(a->m_verify_latency, NULL), (double)(vc_now_mono_us() - start_us) / 1e6);
}

int auth_api_verify(auth_api_t *a, const char *token, vc_auth_info_t *ret)
{
    int64_t t0 = vc_now_mono_us();
    vc_auth_info_t info;
    if (strlen(token) > VC_TOKEN_MAX) {
        count_verify(a, "malformed", t0);
        return VC_EPARSE;
    }
    if (a->cache && vc_tokcache_get(a->cache, token, ret)) { /* the hot path */
        count_verify(a, "ok", t0);
        return 0;
    }
    int r = vc_jwt_decode_payload(token, &info);
    if (r < 0) {
        count_verify(a, "malformed", t0);
        return r;
    }
    auth_token_t row = {0};
    r = auth_store_token_get(a->store, token, false, &row);
    if (r < 0) {
        count_verify(a, r == -ENOENT ? "not_found" : "error", t0);
        return r;
    }
    uint8_t secret[32];
    if (!row.secret_hex || strlen(row.secret_hex) != 64 || vc_hex_decode(row.secret_hex, 64, secret) < 0) {
        auth_token_done(&row);
        count_verify(a, "error", t0);
        return -EIO;
    }
    auth_token_done(&row);
    r = vc_jwt_verify(token, secret, sizeof(secret), &info);
    sodium_memzero(secret, sizeof(secret));
    if (r < 0) {
        count_verify(a, "failed", t0);
        return r == VC_EPARSE ? r : VC_EVERIFY;
    }
    info.local = false;
    if (a->cache)
        vc_tokcache_put(a->cache, token, &info);
    *ret = info;
    count_verify(a, "ok", t0);
    return 0;
}

int auth_api_gen_token(auth_api_t *a, const char *name, const char *perm, const char *extra, char **ret_token)
{
    uint8_t secret[32];
    char hex[65];
    auth_user_t u = {0};
    int r = auth_store_user_get(a->store, name, &u);
    auth_user_done(&u);
    if (r < 0)
        return r;
    vc_random(secret, sizeof(secret));
    vc_hex_encode(secret, sizeof(secret), hex);
    char *tok = NULL;
    r = vc_jwt_encode(name, perm, extra ? extra : "", secret, sizeof(secret), &tok);
    sodium_memzero(secret, sizeof(secret));
    if (r < 0)
        return r;
    auth_token_t row = {.token = tok, .name = (char *)name, .perm = (char *)perm, .extra = (char *)(extra ? extra : ""),
                        .secret_hex = hex, .create_ns = vc_now_real_us() * 1000};
    r = auth_store_token_add(a->store, &row);
    sodium_memzero(hex, sizeof(hex));
    if (r < 0) {
        free(tok);
        return r;
    }
    *ret_token = tok;
    return 0;
}

/* ------------------------------------------------------------------ handlers: misc & tokens */

static int h_version(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    return reply(resp, json_pack("{s:s}", "Version", AUTH_VERSION));
}

/* GET /ha/status (admin): venus-auth runs active/active over its database, without a lease:
 * {"Enabled": false, "Role": "active", "Holder": <instance id>, "Peers": [...]} (vc/ha-ops.h). */
static int h_ha_status(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    if (deny_unless_admin(req, resp))
        return 0;
    if (!a->presence)
        return reply_err(resp, 503, "presence is not running on this instance");
    json_t *st = NULL;
    char *err = NULL;
    int r = vc_ha_status_json(NULL, a->presence, auth_store_db(a->store), &st, &err);
    if (r < 0) {
        r = reply_err(resp, 500, "ha status: %s", err ? err : vc_strerror(r));
        free(err);
        return r;
    }
    return reply(resp, st);
}

static int h_verify(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *token;
    if (need_str(body, req, resp, "Token", &token))
        return 0;
    vc_auth_info_t info;
    int r = auth_api_verify(a, token, &info);
    if (r == VC_EVERIFY)
        return reply_err(resp, 401, "Verification Failed");
    if (r == -ENOENT)
        return reply_err(resp, 400, "get token: record not found");
    if (r == VC_EPARSE)
        return reply_err(resp, 400, "malformed token");
    if (r < 0)
        return reply_err(resp, 400, "verify token: %s", vc_strerror(r));
    if (a->cache) {
        resp->headers[resp->n_headers][0] = "Cache-Control";
        resp->headers[resp->n_headers++][1] = a->max_age;
    }
    return reply(resp, json_pack("{s:s, s:s, s:s}", "name", info.name, "perm", info.perm, "ext", info.ext));
}

static int h_gen_token(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name, *perm = "", *extra = "";
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "name", &name))
        return 0;
    int r = get_str(body, req, "perm", &perm);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "perm", "a string");
    if (!vc_perm_valid(perm))
        return reply_err(resp, 400, "perm must be one of read, write, sign, admin; got '%s'", perm);
    r = get_str(body, req, "extra", &extra);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "extra", "a string");
    if (r < 0)
        extra = "";
    if (strlen(extra) > 255)
        return reply_err(resp, 400, "extra: longer than 255 bytes");
    char *tok = NULL;
    r = auth_api_gen_token(a, name, perm, extra, &tok);
    if (r == -ENOENT)
        return reply_err(resp, 400, "token must be based on an existing user %s to generate", name);
    if (r < 0)
        return reply_store(resp, r);
    r = reply(resp, json_pack("{s:s}", "token", tok));
    free(tok);
    return r;
}

static int reply_tokens(vc_http_response_t *resp, auth_token_t *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, token_json(&v[i]));
    auth_tokens_free(v, n);
    return reply(resp, arr);
}

static int h_get_token(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *token = NULL, *name = NULL;
    get_str(NULL, req, "token", &token);
    get_str(NULL, req, "name", &name);
    if (!vc_strempty(token)) {
        if (deny_unless_admin(req, resp))
            return 0;
        auth_token_t t = {0};
        int r = auth_store_token_get(a->store, token, false, &t);
        if (r < 0)
            return reply_store(resp, r);
        auth_token_t *one = malloc(sizeof(*one));
        if (!one) {
            auth_token_done(&t);
            return -ENOMEM;
        }
        *one = t;
        return reply_tokens(resp, one, 1);
    }
    if (vc_strempty(name))
        return reply_err(resp, 400, "token or name is required");
    if (deny_unless_self(req, resp, name))
        return 0;
    auth_token_t *v = NULL;
    size_t n = 0;
    int r = auth_store_token_list_by_name(a->store, name, &v, &n);
    if (r < 0)
        return reply_store(resp, r);
    return reply_tokens(resp, v, n);
}

static int h_list_tokens(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    int64_t skip, limit;
    if (deny_unless_admin(req, resp) || paging(req, resp, &skip, &limit))
        return 0;
    auth_token_t *v = NULL;
    size_t n = 0;
    int r = auth_store_token_list(a->store, skip, limit, &v, &n);
    if (r < 0)
        return reply_store(resp, r);
    return reply_tokens(resp, v, n);
}

/* DELETE /token and POST /recoverToken: admin, or the token's own user. */
static int token_set_deleted(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body,
                             bool deleted)
{
    const char *token;
    vc_auth_info_t claims;
    if (need_str(body, req, resp, "Token", &token))
        return 0;
    if (vc_jwt_decode_payload(token, &claims) < 0)
        return reply_err(resp, 400, "malformed token");
    if (!is_admin(req) && !vc_streq(req->auth.name, claims.name))
        return reply_err(resp, 400, "need admin prem or the token owner: " PERM_DENY);
    int r = auth_store_token_set_deleted(a->store, token, deleted);
    if (r < 0)
        return reply_store(resp, r);
    cache_forget(a, token);
    return reply_empty(resp);
}

static int h_remove_token(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    return token_set_deleted(a, req, resp, body, true);
}

static int h_recover_token(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    return token_set_deleted(a, req, resp, body, false);
}

/* ------------------------------------------------------------------ handlers: users */

static int h_user_new(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name, *comment = NULL;
    int64_t state = 0;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "Name", &name))
        return 0;
    if (!valid_name(name))
        return reply_err(resp, 400, "Name: at most %d bytes", NAME_MAX_LEN);
    int r = get_str(body, req, "Comment", &comment);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "Comment", "a string");
    r = get_int(body, req, "State", &state);
    if (r == VC_ETYPE || state < 0 || state > 2)
        return reply_err(resp, 400, "State: expected 0, 1 or 2");
    auth_user_t u = {0};
    r = auth_store_user_create(a->store, name, comment, (int)state, &u);
    if (r < 0)
        return reply_store(resp, r);
    r = reply(resp, user_json(&u));
    auth_user_done(&u);
    return r;
}

static int h_user_update(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name, *comment = NULL;
    int64_t state = 0;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "Name", &name))
        return 0;
    int r = get_str(body, req, "Comment", &comment);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "Comment", "a string");
    if (r < 0)
        comment = NULL;
    r = get_int(body, req, "State", &state);
    if (r == VC_ETYPE || state < 0 || state > 2)
        return reply_err(resp, 400, "State: expected 0, 1 or 2");
    r = auth_store_user_update(a->store, name, comment, (int)state);
    return r < 0 ? reply_store(resp, r) : reply_empty(resp);
}

static int reply_users(vc_http_response_t *resp, auth_user_t *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, user_json(&v[i]));
    auth_users_free(v, n);
    return reply(resp, arr);
}

static int h_user_list(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    int64_t skip, limit, state = 0;
    if (deny_unless_admin(req, resp) || paging(req, resp, &skip, &limit))
        return 0;
    if (get_int(NULL, req, "state", &state) == VC_ETYPE || state < 0 || state > 2)
        return reply_err(resp, 400, "state: expected 0, 1 or 2");
    auth_user_t *v = NULL;
    size_t n = 0;
    int r = auth_store_user_list(a->store, skip, limit, (int)state, &v, &n);
    return r < 0 ? reply_store(resp, r) : reply_users(resp, v, n);
}

static int h_user_get(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name;
    if (need_str(NULL, req, resp, "name", &name) || deny_unless_self(req, resp, name))
        return 0;
    auth_user_t u = {0};
    int r = auth_store_user_get(a->store, name, &u);
    if (r < 0)
        return reply_store(resp, r);
    r = reply(resp, user_json(&u));
    auth_user_done(&u);
    return r;
}

static int h_user_verify(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char **names = NULL;
    size_t n = 0;
    if (deny_unless_admin(req, resp))
        return 0;
    int r = need_str_array(body, resp, "Names", &names, &n);
    if (r)
        return r < 0 ? r : 0;
    r = auth_store_users_verify(a->store, names, n);
    free(names);
    return r < 0 ? reply_store(resp, r) : reply_empty(resp);
}

static int h_user_has(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name;
    if (deny_unless_admin(req, resp) || need_str(NULL, req, resp, "name", &name))
        return 0;
    auth_user_t u = {0};
    int r = auth_store_user_get(a->store, name, &u);
    auth_user_done(&u);
    if (r < 0 && r != -ENOENT)
        return reply_store(resp, r);
    return reply(resp, json_boolean(r == 0));
}

static int h_user_del(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "Name", &name))
        return 0;
    int r = auth_store_user_delete(a->store, name);
    if (r < 0)
        return reply_store(resp, r);
    cache_forget_user(a, name);
    return reply_empty(resp);
}

static int h_user_recover(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "Name", &name))
        return 0;
    int r = auth_store_user_recover(a->store, name);
    return r < 0 ? reply_store(resp, r) : reply_empty(resp);
}

/* ------------------------------------------------------------------ handlers: rate limits */

static int h_ratelimit_get(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name, *id = NULL;
    if (deny_unless_admin(req, resp) || need_str(NULL, req, resp, "name", &name))
        return 0;
    get_str(NULL, req, "id", &id);
    auth_ratelimit_t *v = NULL;
    size_t n = 0;
    int r = auth_store_ratelimit_get(a->store, name, id, &v, &n);
    if (r < 0)
        return reply_store(resp, r);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, ratelimit_json(&v[i]));
    auth_ratelimits_free(v, n);
    return reply(resp, arr);
}

static int h_ratelimit_upsert(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name, *id = "", *service = "", *api = "";
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "Name", &name))
        return 0;
    if (get_str(body, req, "Id", &id) == VC_ETYPE || get_str(body, req, "Service", &service) == VC_ETYPE ||
        get_str(body, req, "API", &api) == VC_ETYPE)
        return reply_err(resp, 400, "Id, Service and API must be strings");
    json_t *rl = jget(body, "ReqLimit");
    json_t *cap = jget(rl, "Cap"), *dur = jget(rl, "ResetDur");
    if ((rl && !json_is_object(rl)) || (cap && !json_is_integer(cap)) || (dur && !json_is_integer(dur)))
        return reply_err(resp, 400, "ReqLimit: expected {\"Cap\":int,\"ResetDur\":nanoseconds}");
    auth_user_t u = {0};
    int r = auth_store_user_get(a->store, name, &u);
    auth_user_done(&u);
    if (r < 0)
        return reply_store(resp, r);
    auth_ratelimit_t row = {.name = (char *)name, .service = (char *)(service ? service : ""),
                            .api = (char *)(api ? api : ""), .cap = json_integer_value(cap),
                            .reset_dur_ns = json_integer_value(dur)};
    if (row.cap < 0 || row.reset_dur_ns < 0)
        return reply_err(resp, 400, "ReqLimit: Cap and ResetDur must not be negative");
    snprintf(row.id, sizeof(row.id), "%s", id ? id : "");
    char out[37];
    r = auth_store_ratelimit_upsert(a->store, &row, out);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_string(out));
}

static int h_ratelimit_del(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *name, *id;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "Name", &name) ||
        need_str(body, req, resp, "Id", &id))
        return 0;
    int r = auth_store_ratelimit_delete(a->store, name, id);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_string(id));
}

/* ------------------------------------------------------------------ handlers: miners */

static int h_user_by_miner(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *miner;
    if (deny_unless_admin(req, resp) || need_str(NULL, req, resp, "miner", &miner))
        return 0;
    auth_user_t u = {0};
    int r = auth_store_user_by_miner(a->store, miner, &u);
    if (r < 0)
        return reply_store(resp, r);
    r = reply(resp, user_json(&u));
    auth_user_done(&u);
    return r;
}

static int h_miner_add(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *user, *miner;
    bool open = true;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "User", &user) ||
        need_str(body, req, resp, "Miner", &miner))
        return 0;
    int r = get_bool(body, req, "OpenMining", &open);
    if (r == VC_ETYPE)
        return opt_type_err(resp, "OpenMining", "a boolean");
    if (r == -ENOENT)
        return reply_err(resp, 400, "OpenMining is required");
    bool created = false;
    r = auth_store_miner_upsert(a->store, user, miner, open, &created);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(created));
}

static int h_miner_exist(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *user, *miner;
    bool yes = false;
    if (need_str(NULL, req, resp, "user", &user) || need_str(NULL, req, resp, "miner", &miner) ||
        deny_unless_self(req, resp, user))
        return 0;
    int r = auth_store_miner_exist_in_user(a->store, user, miner, &yes);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(yes));
}

static int h_miner_list(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *user;
    if (need_str(NULL, req, resp, "user", &user) || deny_unless_self(req, resp, user))
        return 0;
    auth_miner_t *v = NULL;
    size_t n = 0;
    int r = auth_store_miner_list(a->store, user, &v, &n);
    if (r < 0)
        return reply_store(resp, r);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, miner_json(&v[i]));
    auth_miners_free(v, n);
    return reply(resp, arr);
}

static int h_miner_del(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *miner;
    if (need_str(body, req, resp, "miner", &miner))
        return 0;
    if (!is_admin(req)) {
        bool mine = false;
        int r = auth_store_miner_exist_in_user(a->store, req->auth.name, miner, &mine);
        if (r < 0 && r != -ENOENT)
            return reply_store(resp, r);
        if (!mine)
            return reply_err(resp, 400, "miner %s not exist in user %s: " PERM_DENY, miner, req->auth.name);
    }
    bool existed = false;
    int r = auth_store_miner_delete(a->store, miner, &existed);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(existed));
}

static int h_miner_has(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *miner;
    bool yes = false;
    if (deny_unless_admin(req, resp) || need_str(NULL, req, resp, "miner", &miner))
        return 0;
    int r = auth_store_miner_has(a->store, miner, &yes);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(yes));
}

/* ------------------------------------------------------------------ handlers: signers */

static int h_users_by_signer(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *signer;
    if (deny_unless_admin(req, resp) || need_str(NULL, req, resp, "signer", &signer))
        return 0;
    auth_user_t *v = NULL;
    size_t n = 0;
    int r = auth_store_users_by_signer(a->store, signer, &v, &n);
    return r < 0 ? reply_store(resp, r) : reply_users(resp, v, n);
}

static int signer_bulk(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body, bool reg)
{
    const char *user, **signers = NULL;
    size_t n = 0;
    if (deny_unless_admin(req, resp) || need_str(body, req, resp, "User", &user))
        return 0;
    int r = need_str_array(body, resp, "Signers", &signers, &n);
    if (r)
        return r < 0 ? r : 0;
    r = reg ? auth_store_signer_register(a->store, user, signers, n)
            : auth_store_signer_unregister(a->store, user, signers, n);
    free(signers);
    return r < 0 ? reply_store(resp, r) : reply_empty(resp);
}

static int h_signer_register(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    return signer_bulk(a, req, resp, body, true);
}

static int h_signer_unregister(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    return signer_bulk(a, req, resp, body, false);
}

static int h_signer_exist(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *user, *signer;
    bool yes = false;
    if (need_str(NULL, req, resp, "user", &user) || need_str(NULL, req, resp, "signer", &signer) ||
        deny_unless_self(req, resp, user))
        return 0;
    int r = auth_store_signer_exist_in_user(a->store, user, signer, &yes);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(yes));
}

static int h_signer_list(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *user;
    if (need_str(NULL, req, resp, "user", &user) || deny_unless_self(req, resp, user))
        return 0;
    auth_signer_t *v = NULL;
    size_t n = 0;
    int r = auth_store_signer_list(a->store, user, &v, &n);
    if (r < 0)
        return reply_store(resp, r);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, signer_json(&v[i]));
    auth_signers_free(v, n);
    return reply(resp, arr);
}

static int h_signer_has(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *signer;
    bool yes = false;
    if (deny_unless_admin(req, resp) || need_str(NULL, req, resp, "signer", &signer))
        return 0;
    int r = auth_store_signer_has(a->store, signer, &yes);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(yes));
}

static int h_signer_del(auth_api_t *a, vc_http_request_t *req, vc_http_response_t *resp, json_t *body)
{
    const char *signer;
    if (need_str(body, req, resp, "signer", &signer))
        return 0;
    if (!is_admin(req)) {
        bool mine = false;
        int r = auth_store_signer_exist_in_user(a->store, req->auth.name, signer, &mine);
        if (r < 0 && r != -ENOENT)
            return reply_store(resp, r);
        if (!mine)
            return reply_err(resp, 400, "signer %s not exist in user %s: " PERM_DENY, signer, req->auth.name);
    }
    bool deleted = false;
    int r = auth_store_signer_delete(a->store, signer, &deleted);
    return r < 0 ? reply_store(resp, r) : reply(resp, json_boolean(deleted));
}

/* ------------------------------------------------------------------ routing */

static const route_t route_table[] = {
    {"GET", "/version", h_version, NULL},
    {"POST", "/verify", h_verify, NULL},
    {"POST", "/genToken", h_gen_token, NULL},
    {"GET", "/token", h_get_token, NULL},
    {"GET", "/tokens", h_list_tokens, NULL},
    {"DELETE", "/token", h_remove_token, NULL},
    {"POST", "/recoverToken", h_recover_token, NULL},
    {"PUT", "/user/new", h_user_new, NULL},
    {"POST", "/user/update", h_user_update, NULL},
    {"GET", "/user/list", h_user_list, NULL},
    {"GET", "/user", h_user_get, NULL},
    {"POST", "/user/verify", h_user_verify, NULL},
    {"GET", "/user/has", h_user_has, NULL},
    {"POST", "/user/del", h_user_del, NULL},
    {"POST", "/user/recover", h_user_recover, NULL},
    {"GET", "/user/ratelimit", h_ratelimit_get, NULL},
    {"POST", "/user/ratelimit/upsert", h_ratelimit_upsert, NULL},
    {"POST", "/user/ratelimit/del", h_ratelimit_del, NULL},
    {"GET", "/user/miner", h_user_by_miner, NULL},
    {"POST", "/user/miner/add", h_miner_add, NULL},
    {"GET", "/user/miner/exist", h_miner_exist, NULL},
    {"GET", "/user/miner/list", h_miner_list, NULL},
    {"POST", "/user/miner/del", h_miner_del, NULL},
    {"GET", "/miner/has", h_miner_has, NULL},
    {"GET", "/user/signer", h_users_by_signer, NULL},
    {"POST", "/user/signer/register", h_signer_register, NULL},
    {"GET", "/user/signer/exist", h_signer_exist, NULL},
    {"GET", "/user/signer/list", h_signer_list, NULL},
    {"POST", "/user/signer/unregister", h_signer_unregister, NULL},
    {"GET", "/signer/has", h_signer_has, NULL},
    {"POST", "/signer/del", h_signer_del, NULL},
    {"GET", "/ha/status", h_ha_status, NULL},
    /* legacy aliases kept for clients <= v1.6.0 */
    {"GET", "/miner", h_user_by_miner, NULL},
    {"GET", "/miner/has-miner", h_miner_has, NULL},
    {"GET", "/miner/list-by-user", h_miner_list, NULL},
    {"POST", "/miner/add-miner", h_miner_add, NULL},
    {"POST", "/miner/del", h_miner_del, NULL},
};

static bool is_form(vc_http_request_t *req)
{
    const char *ct = vc_http_header(req, "Content-Type");
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

static int dispatch(vc_http_request_t *req, vc_http_response_t *resp, void *userdata)
{
    const route_t *rt = userdata;
    json_t *body = NULL;
    if (req->body_len > 0 && !is_form(req)) {
        json_error_t err;
        body = json_loadb(req->body, req->body_len, 0, &err);
        if (!body)
            return reply_err(resp, 400, "invalid JSON body: %s (at byte %d)", err.text, err.position);
        if (!json_is_object(body)) {
            json_decref(body);
            return reply_err(resp, 400, "the JSON body must be an object");
        }
    }
    int r = rt->fn(rt->api, req, resp, body);
    json_decref(body);
    return r;
}

static int middleware(void *userdata, const char *token, vc_auth_info_t *ret)
{
    return auth_api_verify(userdata, token, ret);
}

static double gauge_tokens(void *ud)
{
    return (double)auth_store_token_count(ud);
}

static double gauge_users(void *ud)
{
    return (double)auth_store_user_count(ud);
}

int auth_api_new(const auth_api_opts_t *opts, auth_api_t **ret)
{
    auth_api_t *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->store = opts->store;
    a->presence = opts->presence;
    snprintf(a->max_age, sizeof(a->max_age), "max-age=%lld", (long long)(opts->verify_cache_ms / 1000));
    if (opts->verify_cache_ms > 0 && vc_tokcache_new(CACHE_SLOTS, opts->verify_cache_ms, &a->cache) < 0) {
        auth_api_free(a);
        return -ENOMEM;
    }
    a->n_routes = VC_ELEMENTSOF(route_table);
    a->routes = malloc(sizeof(route_table));
    if (!a->routes) {
        auth_api_free(a);
        return -ENOMEM;
    }
    memcpy(a->routes, route_table, sizeof(route_table));
    for (size_t i = 0; i < a->n_routes; i++)
        a->routes[i].api = a;
    if (opts->metrics) {
        vc_metrics_counter(opts->metrics, "verify_total", "token verifications by result",
                           (const char *const[]){"result", NULL}, &a->m_verify);
        vc_metrics_histogram(opts->metrics, "verify_duration_seconds", "token verification latency", NULL, NULL, 0,
                             &a->m_verify_latency);
        vc_metrics_gauge_func(opts->metrics, "tokens", "live tokens", gauge_tokens, a->store, NULL);
        vc_metrics_gauge_func(opts->metrics, "users", "live users", gauge_users, a->store, NULL);
        vc_ha_presence_metrics_register(opts->metrics, opts->presence);
    }
    *ret = a;
    return 0;
}

auth_api_t *auth_api_free(auth_api_t *a)
{
    if (!a)
        return NULL;
    vc_tokcache_free(a->cache);
    free(a->routes);
    free(a);
    return NULL;
}

int auth_api_mount(auth_api_t *a, vc_http_server_t *srv)
{
    for (size_t i = 0; i < a->n_routes; i++) {
        int r = vc_http_route(srv, a->routes[i].method, a->routes[i].path, 0, dispatch, &a->routes[i]);
        if (r < 0)
            return r;
    }
    vc_http_set_auth(srv, middleware, a);
    return 0;
}
