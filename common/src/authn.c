/* authn.c: venus JWT (HS256) encode/verify, permission expansion, local + remote verifier. */
#include "vc/authn.h"

#include <jansson.h>
#include <jwt.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>

#include "vc/client.h"
#include "vc/log.h"
#include "vc/tokcache.h"
#include "vc/util.h"

#define JWT_HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" /* {"alg":"HS256","typ":"JWT"} */
#define CACHE_SLOTS 1024

unsigned vc_perm_expand(const char *perm)
{
    if (vc_streq(perm, "admin"))
        return VC_PERM_ALL;
    if (vc_streq(perm, "sign"))
        return VC_PERM_READ | VC_PERM_WRITE | VC_PERM_SIGN;
    if (vc_streq(perm, "write"))
        return VC_PERM_READ | VC_PERM_WRITE;
    if (vc_streq(perm, "read"))
        return VC_PERM_READ;
    return 0;
}

const char *vc_perm_name(unsigned bit)
{
    switch (bit) {
    case VC_PERM_READ:
        return "read";
    case VC_PERM_WRITE:
        return "write";
    case VC_PERM_SIGN:
        return "sign";
    case VC_PERM_ADMIN:
        return "admin";
    default:
        return NULL;
    }
}

bool vc_perm_valid(const char *perm)
{
    return vc_perm_expand(perm) != 0;
}

static void hs256(const uint8_t *key, size_t keylen, const char *data, size_t len, uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&st, out);
}

int vc_jwt_encode(const char *name, const char *perm, const char *ext, const uint8_t *secret, size_t secret_len,
                  char **ret)
{
    /* jansson keeps insertion order: exactly {"name","perm","ext"} like gbrlsnchs/jwt writes */
    json_t *payload = json_pack("{s:s, s:s, s:s}", "name", name, "perm", perm, "ext", ext ? ext : "");
    char *ptext = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!ptext)
        return -ENOMEM;
    char *p64 = vc_base64url_encode((const uint8_t *)ptext, strlen(ptext));
    free(ptext);
    if (!p64)
        return -ENOMEM;
    vc_buf_t b = {0};
    int r = vc_buf_appendf(&b, "%s.%s", JWT_HEADER_B64, p64);
    free(p64);
    if (r < 0) {
        vc_buf_done(&b);
        return r;
    }
    uint8_t mac[32];
    hs256(secret, secret_len, b.data, b.len, mac);
    char *s64 = vc_base64url_encode(mac, sizeof(mac));
    if (!s64) {
        vc_buf_done(&b);
        return -ENOMEM;
    }
    r = vc_buf_appendf(&b, ".%s", s64);
    free(s64);
    if (r < 0) {
        vc_buf_done(&b);
        return r;
    }
    *ret = vc_buf_steal(&b);
    return *ret ? 0 : -ENOMEM;
}

static int copy_claim(json_t *o, const char *key, char *out, size_t outlen)
{
    json_t *v = json_object_get(o, key);
    out[0] = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= outlen)
        return VC_EPARSE;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* {"name","perm","ext"} (a JWT payload or a /verify answer) into *ret. */
static int claims_parse(const char *text, size_t len, vc_auth_info_t *ret)
{
    json_error_t err;
    json_t *o = json_loadb(text, len, 0, &err);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return VC_EPARSE;
    }
    vc_auth_info_t info = {0};
    int r = copy_claim(o, "name", info.name, sizeof(info.name));
    if (r == 0)
        r = copy_claim(o, "perm", info.perm, sizeof(info.perm));
    if (r == 0)
        r = copy_claim(o, "ext", info.ext, sizeof(info.ext));
    json_decref(o);
    if (r < 0)
        return r;
    info.perms = vc_perm_expand(info.perm);
    *ret = info;
    return 0;
}

int vc_jwt_decode_payload(const char *token, vc_auth_info_t *ret)
{
    if (!token || strlen(token) > VC_TOKEN_MAX)
        return VC_EPARSE;
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return VC_EPARSE;
    uint8_t *raw;
    size_t n;
    int r = vc_base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &raw, &n);
    if (r < 0)
        return VC_EPARSE;
    r = claims_parse((const char *)raw, n, ret);
    free(raw);
    return r;
}

/* The header must say HS256 (rejects "none" and every other algorithm before libjwt sees it). */
static int check_header(const char *token)
{
    const char *d1 = strchr(token, '.');
    uint8_t *raw;
    size_t n;
    if (!d1 || vc_base64url_decode(token, (size_t)(d1 - token), &raw, &n) < 0)
        return VC_EPARSE;
    json_error_t err;
    json_t *h = json_loadb((const char *)raw, n, 0, &err);
    free(raw);
    if (!h || !json_is_object(h)) {
        json_decref(h);
        return VC_EPARSE;
    }
    bool ok = vc_streq(json_string_value(json_object_get(h, "alg")), "HS256");
    json_decref(h);
    return ok ? 0 : VC_EVERIFY;
}

int vc_jwt_verify(const char *token, const uint8_t *secret, size_t secret_len, vc_auth_info_t *ret)
{
    vc_auth_info_t info;
    int r = vc_jwt_decode_payload(token, &info);
    if (r < 0)
        return r;
    r = check_header(token);
    if (r < 0)
        return r;
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, secret, (int)secret_len) != 0 || !jwt) {
        jwt_free(jwt);
        return VC_EVERIFY;
    }
    bool ok = jwt_get_alg(jwt) == JWT_ALG_HS256;
    jwt_free(jwt);
    if (!ok)
        return VC_EVERIFY;
    *ret = info;
    return 0;
}

const char *vc_authn_extract_token(const char *authorization, const char *form_token)
{
    if (vc_strempty(authorization)) {
        if (vc_strempty(form_token))
            return NULL;
        return form_token;
    }
    if (strncmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *t = authorization + 7;
    return *t ? t : NULL;
}

/* ---- verifier ---- */

struct vc_authn {
    uint8_t secret[32];
    char *local_token;
    vc_client_t *remote;
    vc_tokcache_t *cache; /* positive answers, local and remote; NULL = no cache */
};

/* The secret in <token_path>.key: read, or made and written (0600) when there is none. A file
 * of another size is an error (a truncated or foreign file must not silently rotate it). */
static int load_secret(const char *token_path, uint8_t secret[32])
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s.key", token_path) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    char *data = NULL;
    size_t len = 0;
    int r = vc_read_file(path, 64, &data, &len);
    if (r == 0) {
        if (len == 32)
            memcpy(secret, data, 32);
        else
            r = -EBADMSG;
        sodium_memzero(data, len);
        free(data);
        if (r < 0)
            vc_error("%s holds %zu bytes, not a 32-byte token secret: remove it to make a new one", path, len);
        return r;
    }
    if (r != -ENOENT && r != -EFBIG)
        return r;
    if (r == -EFBIG) {
        vc_error("%s is not a 32-byte token secret: remove it to make a new one", path);
        return -EBADMSG;
    }
    vc_random(secret, 32);
    return vc_write_file_atomic(path, (const char *)secret, 32, 0600);
}

int vc_authn_new(const vc_authn_opts_t *opts, vc_authn_t **ret)
{
    vc_authn_t *a = calloc(1, sizeof(*a));
    int r;
    if (!a)
        return -ENOMEM;
    if (opts->token_path) {
        if ((r = load_secret(opts->token_path, a->secret)) < 0)
            goto fail;
    } else
        vc_random(a->secret, sizeof(a->secret));
    int ttl = opts->cache_ttl_ms == 0 ? 5000 : opts->cache_ttl_ms;
    r = vc_jwt_encode(opts->local_name ? opts->local_name : "defaultLocalToken", "admin", "", a->secret,
                      sizeof(a->secret), &a->local_token);
    if (r < 0)
        goto fail;
    if (opts->token_path) {
        r = vc_write_file_atomic(opts->token_path, a->local_token, strlen(a->local_token), 0600);
        if (r < 0)
            goto fail;
    }
    if (opts->n_auth_urls) {
        vc_client_opts_t co = {
            .endpoints = opts->auth_urls,
            .n_endpoints = opts->n_auth_urls,
            .token = opts->auth_token,
            .api_namespace = "auth.IAuthClient",
            .timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 5000,
            .retries = -1,
        };
        r = vc_client_new(&co, &a->remote);
        if (r < 0)
            goto fail;
    }
    if (ttl > 0 && (r = vc_tokcache_new(CACHE_SLOTS, ttl, &a->cache)) < 0)
        goto fail;
    *ret = a;
    return 0;
fail:
    vc_authn_free(a);
    return r;
}

vc_authn_t *vc_authn_free(vc_authn_t *a)
{
    if (!a)
        return NULL;
    sodium_memzero(a->secret, sizeof(a->secret));
    free(a->local_token);
    vc_client_free(a->remote);
    vc_tokcache_free(a->cache);
    free(a);
    return NULL;
}

const char *vc_authn_local_token(const vc_authn_t *a)
{
    return a->local_token;
}

static int remote_verify(vc_authn_t *a, const char *token, vc_auth_info_t *ret)
{
    json_t *body = json_pack("{s:s}", "Token", token);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return -ENOMEM;
    long status = 0;
    char *resp = NULL;
    size_t len = 0;
    int r = vc_client_rest(a->remote, "POST", "/verify", text, &status, &resp, &len);
    free(text);
    if (r < 0)
        return r;
    if (status == 401 || status == 400) {
        vc_debug("authn: venus-auth refused token: %s", resp ? resp : "");
        free(resp);
        return VC_EVERIFY;
    }
    if (status != 200) {
        free(resp);
        return VC_EHTTP;
    }
    r = claims_parse(resp, len, ret);
    free(resp);
    return r;
}

static int verify(vc_authn_t *a, const char *token, vc_auth_info_t *ret, bool use_cache)
{
    vc_auth_info_t info;
    if (a->cache && use_cache && vc_tokcache_get(a->cache, token, ret))
        return 0;
    int r = vc_jwt_verify(token, a->secret, sizeof(a->secret), &info);
    if (r == 0) {
        info.local = true;
        if (a->cache)
            vc_tokcache_put(a->cache, token, &info);
        *ret = info;
        return 0;
    }
    if (r == VC_EPARSE || !a->remote)
        return r;
    r = remote_verify(a, token, &info);
    if (a->cache) {
        if (r == 0)
            vc_tokcache_put(a->cache, token, &info);
        else if (r == VC_EVERIFY)
            vc_tokcache_forget(a->cache, token);
    }
    if (r == 0)
        *ret = info;
    return r;
}

int vc_authn_verify(vc_authn_t *a, const char *token, vc_auth_info_t *ret)
{
    return verify(a, token, ret, true);
}

int vc_authn_reverify(vc_authn_t *a, const char *token, vc_auth_info_t *ret)
{
    return verify(a, token, ret, false);
}

void vc_authn_forget(vc_authn_t *a, const char *token)
{
    if (a->cache)
        vc_tokcache_forget(a->cache, token);
}
