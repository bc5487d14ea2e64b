/* msgr-builtin.c: lookups in the builtin actor tables and JSON params to CBOR (msgr-builtin.h). */
#include "msgr-builtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "msgr-types.h"
#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cbor.h"
#include "vc/util.h"

#define SCHEMA_DEPTH_MAX 32

#define seterr msgr_types_seterr

/* ------------------------------------------------------------------ lookups */

/* "fil/<n>/<name>" (raw codec, identity multihash): actors version n (n = 1 is version 0). */
static bool identity_actor(const vc_cid_t *code, const char **ret_actor, int *ret_version)
{
    vc_cid_info_t ci;
    char s[64], *end = NULL;
    if (vc_cid_info(code, &ci) < 0 || ci.codec != VC_CID_CODEC_RAW || ci.mh_code != VC_MH_IDENTITY ||
        ci.digest_len >= sizeof(s) || ci.digest_len < 6)
        return false;
    memcpy(s, ci.digest, ci.digest_len);
    s[ci.digest_len] = '\0';
    if (strncmp(s, "fil/", 4) != 0)
        return false;
    long v = strtol(s + 4, &end, 10);
    if (end == s + 4 || *end != '/' || v < 1 || v >= MSGR_BUILTIN_FIRST_BUNDLE)
        return false;
    /* the name as the tables spell it (static storage) */
    for (size_t i = 0; i < msgr_builtin_n_codes; i++)
        if (vc_streq(msgr_builtin_codes[i].actor, end + 1)) {
            *ret_actor = msgr_builtin_codes[i].actor;
            *ret_version = v == 1 ? 0 : (int)v;
            return true;
        }
    return false;
}

bool msgr_builtin_actor_of(const vc_cid_t *code, const char **ret_actor, int *ret_version)
{
    char s[VC_CID_STRLEN_MAX];
    if (code->len == 0 || vc_cid_to_string(code, s) < 0)
        return false;
    for (size_t i = 0; i < msgr_builtin_n_codes; i++)
        if (vc_streq(msgr_builtin_codes[i].cid, s)) {
            *ret_actor = msgr_builtin_codes[i].actor;
            *ret_version = msgr_builtin_codes[i].version;
            return true;
        }
    return identity_actor(code, ret_actor, ret_version);
}

int msgr_builtin_max_version(const char *network)
{
    int max = 0;
    for (size_t i = 0; i < msgr_builtin_n_codes; i++)
        if (vc_streq(msgr_builtin_codes[i].network, network) && msgr_builtin_codes[i].version > max)
            max = msgr_builtin_codes[i].version;
    return max;
}

const msgr_builtin_method_t *msgr_builtin_method(int version, const char *actor, uint64_t num)
{
    if (version < MSGR_BUILTIN_FIRST_BUNDLE)
        version = MSGR_BUILTIN_FIRST_BUNDLE;
    for (size_t i = 0; i < msgr_builtin_n_methods; i++) {
        const msgr_builtin_method_t *m = &msgr_builtin_methods[i];
        if (m->num == num && m->first <= version && version <= m->last && vc_streq(m->actor, actor))
            return m;
    }
    return NULL;
}

/* ------------------------------------------------------------------ JSON params -> CBOR */

/* The end of the schema item starting at s (just past it). */
static const char *schema_skip(const char *s)
{
    while (*s == '?')
        s++;
    if (*s == '[') {
        const char *e = schema_skip(s + 1);
        return *e == ']' ? e + 1 : e;
    }
    if (*s == '{') {
        for (s++; *s && *s != '}';) {
            const char *colon = strchr(s, ':');
            if (!colon)
                return s + strlen(s);
            s = schema_skip(colon + 1);
            if (*s == ',')
                s++;
        }
    }
    return *s ? s + 1 : s;
}

/* Number of fields of the struct schema s ("{...}"). */
static size_t struct_fields(const char *s)
{
    size_t n = 0;
    for (const char *p = s + 1; *p && *p != '}'; n++) {
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        p = schema_skip(colon + 1);
        if (*p == ',')
            p++;
    }
    return n;
}

/* The JSON member of o named like the field (exact name first, then any case, as Go). */
static json_t *member(json_t *o, const char *name, size_t len)
{
    const char *k;
    json_t *v, *fold = NULL;
    json_object_foreach(o, k, v)
    {
        if (strlen(k) != len)
            continue;
        if (strncmp(k, name, len) == 0)
            return v;
        if (!fold && strncasecmp(k, name, len) == 0)
            fold = v;
    }
    return fold;
}

static int encode(const char *s, json_t *j, vc_buf_t *b, const char *path, int depth);

/* A field or element left out (or null where no null is written): Go's zero value. */
static int encode_zero(const char *s, vc_buf_t *b, const char *path, int depth)
{
    switch (*s) {
    case 'A':
        return seterr(-EINVAL, "%s: an address is required", path);
    case 'C':
        return seterr(-EINVAL, "%s: a CID is required", path);
    case 'B':
        return vc_cbor_put_bigint(b, &VC_BIGINT_ZERO);
    case 'U':
    case 'I':
        return vc_cbor_put_uint(b, 0);
    case 'T':
        return vc_cbor_put_bool(b, false);
    case 'S':
        return vc_cbor_put_text(b, "", 0);
    case 'Y':
        return vc_cbor_put_bytes(b, NULL, 0);
    case '[':
        return vc_cbor_put_array(b, 0);
    case '?':
        return vc_cbor_put_null(b);
    case '{':
        return encode(s, NULL, b, path, depth);
    default:
        return 0;
    }
}

static int encode_struct(const char *s, json_t *j, vc_buf_t *b, const char *path, int depth)
{
    if (j && !json_is_object(j))
        return seterr(-EINVAL, "%s: expected an object", path);
    int r = vc_cbor_put_array(b, struct_fields(s));
    for (const char *p = s + 1; r >= 0 && *p && *p != '}';) {
        const char *colon = strchr(p, ':');
        char sub[256];
        snprintf(sub, sizeof(sub), "%s.%.*s", path, (int)(colon - p), p);
        json_t *v = j ? member(j, p, (size_t)(colon - p)) : NULL;
        r = v && !json_is_null(v) ? encode(colon + 1, v, b, sub, depth + 1)
                                  : encode_zero(colon + 1, b, sub, depth + 1);
        p = schema_skip(colon + 1);
        if (*p == ',')
            p++;
    }
    return r;
}

static int encode(const char *s, json_t *j, vc_buf_t *b, const char *path, int depth)
{
    if (depth > SCHEMA_DEPTH_MAX)
        return seterr(-EINVAL, "%s: nested too deep", path);
    switch (*s) {
    case '-': /* abi.EmptyValue: an object (or null) that writes nothing */
        return json_is_object(j) ? 0 : seterr(-EINVAL, "%s: this method takes no params ({} or null)", path);
    case '{':
        return encode_struct(s, j, b, path, depth);
    case '?':
        return json_is_null(j) ? vc_cbor_put_null(b) : encode(s + 1, j, b, path, depth + 1);
    case '[': {
        size_t i;
        json_t *e;
        if (!json_is_array(j))
            return seterr(-EINVAL, "%s: expected an array", path);
        int r = vc_cbor_put_array(b, json_array_size(j));
        json_array_foreach(j, i, e)
        {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (r >= 0)
                r = json_is_null(e) ? encode_zero(s + 1, b, sub, depth + 1)
                                    : encode(s + 1, e, b, sub, depth + 1);
        }
        return r;
    }
    case 'A': {
        vc_address_t a;
        if (!json_is_string(j) || vc_address_from_string(json_string_value(j), &a) < 0)
            return seterr(-EINVAL, "%s: expected an address string", path);
        return vc_cbor_put_address(b, &a);
    }
    case 'B': {
        vc_bigint_t v;
        if (!json_is_string(j) || vc_bigint_from_string(json_string_value(j), &v) < 0)
            return seterr(-EINVAL, "%s: expected a big integer as a decimal string", path);
        return vc_cbor_put_bigint(b, &v);
    }
    case 'U':
        if (!json_is_integer(j) || json_integer_value(j) < 0)
            return seterr(-EINVAL, "%s: expected an unsigned integer", path);
        return vc_cbor_put_uint(b, (uint64_t)json_integer_value(j));
    case 'I':
        if (!json_is_integer(j))
            return seterr(-EINVAL, "%s: expected an integer", path);
        return vc_cbor_put_int(b, json_integer_value(j));
    case 'T':
        if (!json_is_boolean(j))
            return seterr(-EINVAL, "%s: expected true or false", path);
        return vc_cbor_put_bool(b, json_is_true(j));
    case 'S':
        if (!json_is_string(j))
            return seterr(-EINVAL, "%s: expected a string", path);
        return vc_cbor_put_text(b, json_string_value(j), json_string_length(j));
    case 'Y': {
        uint8_t *raw = NULL;
        size_t n = 0;
        if (!json_is_string(j) || vc_base64_decode(json_string_value(j), json_string_length(j), &raw, &n) < 0)
            return seterr(-EINVAL, "%s: expected bytes in base64", path);
        int r = vc_cbor_put_bytes(b, raw, n);
        free(raw);
        return r;
    }
    case 'C': {
        vc_cid_t c;
        if (vc_cid_from_json(j, &c) < 0)
            return seterr(-EINVAL, "%s: expected a CID {\"/\": \"bafy...\"}", path);
        return vc_cbor_put_cid(b, &c);
    }
    default:
        return seterr(-ENOTSUP, "%s: no JSON form known", path);
    }
}

int msgr_builtin_params_from_json(const msgr_builtin_method_t *m, const char *params_json, uint8_t **ret,
                                  size_t *ret_len)
{
    const char *s = msgr_builtin_schemas[m->schema];
    json_error_t jerr;
    vc_buf_t b = {0};
    if (*s == '!')
        return seterr(
            -ENOTSUP,
            "the params of %s method %llu (%s) have no JSON form in venus-c (bit fields, signatures or "
            "maps): send them as CBOR with --params-hex",
            m->actor, (unsigned long long)m->num, m->name);
    json_t *j = json_loads(params_json ? params_json : "", JSON_DECODE_ANY, &jerr);
    if (!j)
        return seterr(-EINVAL, "params are not JSON: %s", jerr.text);
    int r = json_is_null(j) ? encode_zero(s, &b, "params", 0) : encode(s, j, &b, "params", 0);
    json_decref(j);
    if (r == -ENOMEM)
        seterr(r, "out of memory");
    if (r < 0) {
        vc_buf_done(&b);
        return r;
    }
    *ret = (uint8_t *)b.data;
    *ret_len = b.len;
    if (!b.len) {
        vc_buf_done(&b);
        *ret = NULL;
    }
    return 0;
}
