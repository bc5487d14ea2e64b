/*
 * msgr-types.c: venus-messager data types and their JSON (contract: msgr-types.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgr-types.h"
#include "vc/gofmt.h"
#include "vc/util.h"

/* Go's zero time.Time in unix seconds (0001-01-01T00:00:00Z). */
#define GO_ZERO_TIME_SEC (-62135596800LL)

/* ---- errors ---- */

static _Thread_local char errbuf[512];

const char *msgr_types_errmsg(void)
{
    return errbuf;
}

int msgr_types_seterr(int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
    return r;
}

#define errf msgr_types_seterr

static const char *jtype(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

/* The encoding/json type error. */
static int type_err(const json_t *v, const char *st, const char *key, const char *gotype)
{
    if (!st)
        return errf(VC_ETYPE, "json: cannot unmarshal %s into Go value of type %s", jtype(v), gotype);
    return errf(VC_ETYPE, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", jtype(v), st, key,
                gotype);
}

/* ---- names ---- */

const char *msgr_msg_state_name(int state)
{
    switch (state) {
    case MSGR_MSG_UNFILL:
        return "UnFillMsg";
    case MSGR_MSG_FILL:
        return "FillMsg";
    case MSGR_MSG_ONCHAIN:
        return "OnChainMsg";
    case MSGR_MSG_FAILED:
        return "Failed";
    case MSGR_MSG_NONCE_CONFLICT:
        return "NonceConflictMsg";
    default:
        return "UnKnown";
    }
}

const char *msgr_addr_state_name(int state, char buf[32])
{
    switch (state) {
    case MSGR_ADDR_ALIVE:
        return "Alive";
    case MSGR_ADDR_REMOVING:
        return "Removing";
    case MSGR_ADDR_REMOVED:
        return "Removed";
    case MSGR_ADDR_FORBIDDEN:
        return "Forbbiden";
    default:
        snprintf(buf, 32, "unknown state %d", state);
        return buf;
    }
}

void msgr_shared_spec_default(msgr_shared_spec_t *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->id = 1;
    ret->sel_msg_num = 20;
    ret->fee.gas_over_estimation = 1.25;
    vc_bigint_from_u64(70000000000000000ULL, &ret->fee.max_fee);
}

/* ---- encoding helpers ---- */

json_t *msgr_time_to_json(int64_t unix_ns)
{
    char buf[VC_GOTIME_STRLEN_MAX];
    if (unix_ns == 0)
        return json_string("0001-01-01T00:00:00Z");
    int n = vc_format_rfc3339nano_local(unix_ns, buf);
    return json_stringn(buf, (size_t)n);
}

json_t *msgr_bigint_to_json(const vc_bigint_t *v)
{
    char buf[VC_BIGINT_STRLEN_MAX];
    if (vc_bigint_to_string(v, buf, sizeof(buf)) < 0)
        return NULL;
    return json_string(buf);
}

json_t *msgr_address_str_to_json(const vc_address_t *a)
{
    char buf[VC_ADDRESS_STRLEN_MAX];
    if (vc_address_is_undef(a))
        return json_string("<empty>");
    if (vc_address_to_string(a, 'f', buf) < 0)
        return NULL;
    return json_string(buf);
}

static json_t *bytes_json(const uint8_t *b, size_t n)
{
    if (!b || n == 0)
        return json_null();
    char *s = vc_base64_encode(b, n);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *cid_json(const vc_cid_t *c)
{
    if (c->len == 0)
        return json_null();
    return vc_cid_to_json(c);
}

static json_t *str_json(const char *s)
{
    return json_string(s ? s : "");
}

/* Adds key: v to o; a NULL v (OOM) makes *ok false. Steals v. */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(o, key, v) < 0)
        *ok = false;
}

static int finish(json_t *o, bool ok, json_t **ret)
{
    if (!ok) {
        json_decref(o);
        return -ENOMEM;
    }
    *ret = o;
    return 0;
}

json_t *msgr_tsk_to_json(const vc_cid_t *cids, size_t n)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(a, vc_cid_to_json(&cids[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static void put_fee(json_t *o, const msgr_fee_spec_t *f, bool *ok)
{
    put(o, "gasOverEstimation", json_real(f->gas_over_estimation), ok);
    put(o, "maxFee", msgr_bigint_to_json(&f->max_fee), ok);
    put(o, "gasFeeCap", msgr_bigint_to_json(&f->gas_fee_cap), ok);
    put(o, "gasOverPremium", json_real(f->gas_over_premium), ok);
    put(o, "baseFee", msgr_bigint_to_json(&f->base_fee), ok);
}

/* ---- decoding helpers: missing / null keys leave *ret alone ---- */

static const json_t *field(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return (v && !json_is_null(v)) ? v : NULL;
}

static int d_i64(const json_t *o, const char *st, const char *key, int64_t *ret)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return type_err(v, st, key, "int64");
    *ret = (int64_t)json_integer_value(v);
    return 0;
}

static int d_u64(const json_t *o, const char *st, const char *key, uint64_t *ret)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return type_err(v, st, key, "uint64");
    if (json_integer_value(v) < 0)
        return errf(-ERANGE, "json: cannot unmarshal number %" JSON_INTEGER_FORMAT
                             " into Go struct field %s.%s of type uint64",
                    json_integer_value(v), st, key);
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

static int d_int(const json_t *o, const char *st, const char *key, int *ret)
{
    int64_t x = *ret;
    int r = d_i64(o, st, key, &x);
    if (r < 0)
        return r;
    if (x < INT32_MIN || x > INT32_MAX)
        return errf(-ERANGE, "json: cannot unmarshal number %" PRId64 " into Go struct field %s.%s of type int",
                    x, st, key);
    *ret = (int)x;
    return 0;
}

static int d_f64(const json_t *o, const char *st, const char *key, double *ret, bool *ret_present)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return type_err(v, st, key, "float64");
    *ret = json_number_value(v);
    if (ret_present)
        *ret_present = true;
    return 0;
}

static int d_bool(const json_t *o, const char *st, const char *key, bool *ret)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return type_err(v, st, key, "bool");
    *ret = json_is_true(v);
    return 0;
}

static int d_str(const json_t *o, const char *st, const char *key, char **ret)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_err(v, st, key, "string");
    char *s = strndup(json_string_value(v), json_string_length(v));
    if (!s)
        return errf(-ENOMEM, "out of memory");
    free(*ret);
    *ret = s;
    return 0;
}

static int d_big(const json_t *o, const char *st, const char *key, vc_bigint_t *ret, bool *ret_present)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_err(v, st, key, "big.Int");
    if (vc_bigint_parse(json_string_value(v), json_string_length(v), ret) < 0)
        return errf(VC_EPARSE, "%s.%s: failed to parse big string: '\"%.64s\"'", st, key, json_string_value(v));
    if (ret_present)
        *ret_present = true;
    return 0;
}

static int parse_addr(const char *s, size_t len, vc_address_t *ret)
{
    if (len == 0 || (len == 7 && memcmp(s, "<empty>", 7) == 0)) {
        memset(ret, 0, sizeof(*ret));
        return 0;
    }
    return vc_address_parse(s, len, ret, NULL);
}

static int d_addr(const json_t *o, const char *st, const char *key, vc_address_t *ret)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_err(v, st, key, "address.Address");
    if (parse_addr(json_string_value(v), json_string_length(v), ret) < 0)
        return errf(VC_EPARSE, "%s.%s: invalid address \"%.128s\"", st, key, json_string_value(v));
    return 0;
}

int msgr_addr_canon(const char *s, char out[VC_ADDRESS_STRLEN_MAX])
{
    vc_address_t a;
    if (vc_strempty(s) || vc_address_from_string(s, &a) < 0 || vc_address_to_string(&a, 'f', out) < 0)
        return errf(-EINVAL, "invalid address \"%.128s\"", s ? s : "");
    return 0;
}

/* An address kept as its canonical "f..." string (NULL when undefined). */
static int d_addr_str(const json_t *o, const char *st, const char *key, char **ret)
{
    vc_address_t a = {0};
    char buf[VC_ADDRESS_STRLEN_MAX];
    int r = d_addr(o, st, key, &a);
    if (r < 0 || vc_address_is_undef(&a))
        return r;
    if (vc_address_to_string(&a, 'f', buf) < 0)
        return errf(VC_EPARSE, "%s.%s: invalid address", st, key);
    char *s = strdup(buf);
    if (!s)
        return errf(-ENOMEM, "out of memory");
    free(*ret);
    *ret = s;
    return 0;
}

static int d_cid(const json_t *o, const char *st, const char *key, vc_cid_t *ret)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "/")))
        return type_err(v, st, key, "cid.Cid");
    if (vc_cid_from_json(v, ret) < 0)
        return errf(VC_EPARSE, "%s.%s: invalid cid \"%.128s\"", st, key,
                    json_string_value(json_object_get(v, "/")));
    return 0;
}

static int d_bytes(const json_t *o, const char *st, const char *key, size_t max, uint8_t **ret, size_t *ret_len)
{
    const json_t *v = field(o, key);
    uint8_t *b;
    size_t n;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_err(v, st, key, "[]uint8");
    if (json_string_length(v) / 4 * 3 > max + 3)
        return errf(VC_ETOOBIG, "%s.%s: more than %zu bytes", st, key, max);
    if (vc_base64_decode(json_string_value(v), json_string_length(v), &b, &n) < 0)
        return errf(VC_EPARSE, "%s.%s: illegal base64 data", st, key);
    if (n > max) {
        free(b);
        return errf(VC_ETOOBIG, "%s.%s: more than %zu bytes", st, key, max);
    }
    if (n == 0) {
        free(b);
        b = NULL;
    }
    free(*ret);
    *ret = b;
    *ret_len = n;
    return 0;
}

static int parse_time(const char *s, int64_t *ret)
{
    vc_gotime_t t;
    int r = vc_gotime_parse_rfc3339(s, &t);
    if (r < 0)
        return r;
    if (t.sec == GO_ZERO_TIME_SEC && t.nsec == 0) {
        *ret = 0;
        return 0;
    }
    if (t.sec <= INT64_MIN / 1000000000LL || t.sec >= INT64_MAX / 1000000000LL)
        return -ERANGE;
    *ret = t.sec * 1000000000LL + t.nsec;
    return 0;
}

static int d_time(const json_t *o, const char *st, const char *key, int64_t *ret, bool *ret_present)
{
    const json_t *v = field(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_err(v, st, key, "time.Time");
    if (parse_time(json_string_value(v), ret) < 0)
        return errf(VC_EPARSE, "%s.%s: invalid RFC3339 time \"%.64s\"", st, key, json_string_value(v));
    if (ret_present)
        *ret_present = true;
    return 0;
}

static int d_uuid(const json_t *o, const char *st, const char *key, char out[37])
{
    char *s = NULL;
    int r = d_str(o, st, key, &s);
    if (r < 0 || !s)
        return r;
    if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        r = errf(VC_EPARSE, "%s.%s: invalid UUID \"%.64s\"", st, key, s);
        free(s);
        return r;
    }
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23)
            continue;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            r = errf(VC_EPARSE, "%s.%s: invalid UUID \"%.64s\"", st, key, s);
            free(s);
            return r;
        }
    }
    for (int i = 0; i < 36; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[36] = '\0';
    free(s);
    return 0;
}

static int need_object(const json_t *j, const char *st)
{
    if (!json_is_object(j))
        return type_err(j, NULL, NULL, st);
    return 0;
}

static int d_fee(const json_t *o, const char *st, msgr_fee_spec_t *f)
{
    int r;
    if ((r = d_f64(o, st, "gasOverEstimation", &f->gas_over_estimation, NULL)) < 0 ||
        (r = d_big(o, st, "maxFee", &f->max_fee, NULL)) < 0 ||
        (r = d_big(o, st, "gasFeeCap", &f->gas_fee_cap, NULL)) < 0 ||
        (r = d_f64(o, st, "gasOverPremium", &f->gas_over_premium, NULL)) < 0 ||
        (r = d_big(o, st, "baseFee", &f->base_fee, NULL)) < 0)
        return r;
    return 0;
}

/* ---- TipSetKey ---- */

int msgr_tsk_to_text(const vc_cid_t *cids, size_t n, char **ret)
{
    vc_buf_t b = {0};
    char s[VC_CID_STRLEN_MAX];
    int r = vc_buf_append_str(&b, "{");
    for (size_t i = 0; i < n && r >= 0; i++) {
        if (vc_cid_to_string(&cids[i], s) < 0) {
            vc_buf_done(&b);
            return -EINVAL;
        }
        r = vc_buf_appendf(&b, " %s", s);
    }
    if (r >= 0)
        r = vc_buf_append_str(&b, " }");
    if (r < 0) {
        vc_buf_done(&b);
        return -ENOMEM;
    }
    *ret = vc_buf_steal(&b);
    return *ret ? 0 : -ENOMEM;
}

int msgr_tsk_from_text(const char *s, vc_cid_t **ret, size_t *ret_n)
{
    vc_cid_t *v = NULL;
    size_t n = 0;
    const char *p = s ? s : "";
    while (*p == ' ')
        p++;
    if (*p == '\0') {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    if (*p != '{')
        return VC_EPARSE;
    p++;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '}')
            break;
        if (*p == '\0') {
            free(v);
            return VC_EPARSE;
        }
        const char *e = p;
        while (*e && *e != ' ' && *e != '}')
            e++;
        vc_cid_t *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            free(v);
            return -ENOMEM;
        }
        v = nv;
        if (vc_cid_parse(p, (size_t)(e - p), &v[n]) < 0) {
            free(v);
            return VC_EPARSE;
        }
        n++;
        p = e;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int msgr_tsk_from_json(const json_t *j, vc_cid_t **ret, size_t *ret_n)
{
    vc_cid_t *v = NULL;
    size_t n;
    if (!j || json_is_null(j)) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    if (!json_is_array(j))
        return VC_ETYPE;
    n = json_array_size(j);
    if (n > 0) {
        v = calloc(n, sizeof(*v));
        if (!v)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int r = vc_cid_from_json(json_array_get(j, i), &v[i]);
        if (r < 0) {
            free(v);
            return r;
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* ---- SendSpec / FeeSpec / SharedSpec ---- */

int msgr_send_spec_to_json(const msgr_send_spec_t *s, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "expireEpoch", json_integer(s->expire_epoch), &ok);
    put(o, "gasOverEstimation", json_real(s->gas_over_estimation), &ok);
    put(o, "maxFee", msgr_bigint_to_json(&s->max_fee), &ok);
    put(o, "gasOverPremium", json_real(s->gas_over_premium), &ok);
    return finish(o, ok, ret);
}

static int send_spec_decode(const json_t *j, msgr_send_spec_t *s)
{
    int r;
    if ((r = need_object(j, "messager.SendSpec")) < 0)
        return r;
    if ((r = d_i64(j, "SendSpec", "expireEpoch", &s->expire_epoch)) < 0 ||
        (r = d_f64(j, "SendSpec", "gasOverEstimation", &s->gas_over_estimation, NULL)) < 0 ||
        (r = d_big(j, "SendSpec", "maxFee", &s->max_fee, NULL)) < 0 ||
        (r = d_f64(j, "SendSpec", "gasOverPremium", &s->gas_over_premium, NULL)) < 0)
        return r;
    return 0;
}

int msgr_send_spec_from_json(const json_t *j, msgr_send_spec_t *ret, bool *ret_present)
{
    msgr_send_spec_t s = {0};
    bool present = j && !json_is_null(j);
    if (present) {
        int r = send_spec_decode(j, &s);
        if (r < 0)
            return r;
    }
    *ret = s;
    if (ret_present)
        *ret_present = present;
    return 0;
}

int msgr_shared_spec_to_json(const msgr_shared_spec_t *s, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "id", json_integer((json_int_t)s->id), &ok);
    put(o, "selMsgNum", json_integer((json_int_t)s->sel_msg_num), &ok);
    put_fee(o, &s->fee, &ok);
    return finish(o, ok, ret);
}

int msgr_shared_spec_from_json(const json_t *j, msgr_shared_spec_t *ret)
{
    msgr_shared_spec_t s = {0};
    int r;
    if ((r = need_object(j, "messager.SharedSpec")) < 0)
        return r;
    if ((r = d_u64(j, "SharedSpec", "id", &s.id)) < 0 || (r = d_u64(j, "SharedSpec", "selMsgNum", &s.sel_msg_num)) < 0 ||
        (r = d_fee(j, "SharedSpec", &s.fee)) < 0)
        return r;
    *ret = s;
    return 0;
}

/* ---- Message ---- */

void msgr_message_init(msgr_message_t *m)
{
    memset(m, 0, sizeof(*m));
    m->receipt.exit_code = -1;
}

void msgr_message_done(msgr_message_t *m)
{
    if (!m)
        return;
    free(m->id);
    vc_message_done(&m->msg);
    free(m->receipt.ret);
    free(m->tsk);
    free(m->wallet_name);
    free(m->error_msg);
    memset(m, 0, sizeof(*m));
}

void msgr_messages_free(msgr_message_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        msgr_message_done(&v[i]);
    free(v);
}

static int set_str(char **dst, const char *s)
{
    char *p = NULL;
    if (s) {
        p = strdup(s);
        if (!p)
            return -ENOMEM;
    }
    free(*dst);
    *dst = p;
    return 0;
}

int msgr_message_set_id(msgr_message_t *m, const char *id)
{
    return set_str(&m->id, id);
}

int msgr_message_set_wallet(msgr_message_t *m, const char *wallet_name)
{
    return set_str(&m->wallet_name, wallet_name);
}

int msgr_message_set_error(msgr_message_t *m, const char *error_msg)
{
    return set_str(&m->error_msg, error_msg);
}

int msgr_message_set_tsk(msgr_message_t *m, const vc_cid_t *cids, size_t n)
{
    vc_cid_t *v = NULL;
    if (n > 0) {
        v = malloc(n * sizeof(*v));
        if (!v)
            return -ENOMEM;
        memcpy(v, cids, n * sizeof(*v));
    }
    free(m->tsk);
    m->tsk = v;
    m->n_tsk = n;
    return 0;
}

int msgr_message_set_return(msgr_message_t *m, const uint8_t *data, size_t len)
{
    uint8_t *p = NULL;
    if (len > 0) {
        p = malloc(len);
        if (!p)
            return -ENOMEM;
        memcpy(p, data, len);
    }
    free(m->receipt.ret);
    m->receipt.ret = p;
    m->receipt.ret_len = len;
    return 0;
}

int msgr_message_copy(const msgr_message_t *m, msgr_message_t *ret)
{
    msgr_message_t t = *m;
    t.id = NULL;
    t.msg.params = NULL;
    t.msg.params_len = 0;
    t.receipt.ret = NULL;
    t.receipt.ret_len = 0;
    t.tsk = NULL;
    t.n_tsk = 0;
    t.wallet_name = NULL;
    t.error_msg = NULL;
    if (msgr_message_set_id(&t, m->id) < 0 || vc_message_set_params(&t.msg, m->msg.params, m->msg.params_len) < 0 ||
        msgr_message_set_return(&t, m->receipt.ret, m->receipt.ret_len) < 0 ||
        msgr_message_set_tsk(&t, m->tsk, m->n_tsk) < 0 || msgr_message_set_wallet(&t, m->wallet_name) < 0 ||
        msgr_message_set_error(&t, m->error_msg) < 0) {
        msgr_message_done(&t);
        return -ENOMEM;
    }
    *ret = t;
    return 0;
}

int msgr_message_to_json(const msgr_message_t *m, int64_t confidence, json_t **ret)
{
    json_t *o = json_object(), *rc, *meta = NULL;
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    if (m->msg.nonce > INT64_MAX || m->msg.method > INT64_MAX || m->msg.version > INT64_MAX) {
        json_decref(o);
        return -ERANGE;
    }
    put(o, "ID", str_json(m->id), &ok);
    put(o, "UnsignedCid", cid_json(&m->unsigned_cid), &ok);
    put(o, "SignedCid", cid_json(&m->signed_cid), &ok);
    put(o, "Version", json_integer((json_int_t)m->msg.version), &ok);
    put(o, "To", msgr_address_str_to_json(&m->msg.to), &ok);
    put(o, "From", msgr_address_str_to_json(&m->msg.from), &ok);
    put(o, "Nonce", json_integer((json_int_t)m->msg.nonce), &ok);
    put(o, "Value", msgr_bigint_to_json(&m->msg.value), &ok);
    put(o, "GasLimit", json_integer(m->msg.gas_limit), &ok);
    put(o, "GasFeeCap", msgr_bigint_to_json(&m->msg.gas_fee_cap), &ok);
    put(o, "GasPremium", msgr_bigint_to_json(&m->msg.gas_premium), &ok);
    put(o, "Method", json_integer((json_int_t)m->msg.method), &ok);
    put(o, "Params", bytes_json(m->msg.params, m->msg.params_len), &ok);
    put(o, "Signature", m->has_signature ? vc_signature_to_json(&m->signature) : json_null(), &ok);
    put(o, "Height", json_integer(m->height), &ok);
    put(o, "Confidence", json_integer(confidence), &ok);
    rc = json_object();
    if (rc) {
        put(rc, "ExitCode", json_integer(m->receipt.exit_code), &ok);
        put(rc, "Return", bytes_json(m->receipt.ret, m->receipt.ret_len), &ok);
        put(rc, "GasUsed", json_integer(m->receipt.gas_used), &ok);
        put(rc, "EventsRoot", json_null(), &ok);
    }
    put(o, "Receipt", rc, &ok);
    put(o, "TipSetKey", msgr_tsk_to_json(m->tsk, m->n_tsk), &ok);
    if (msgr_send_spec_to_json(&m->meta, &meta) < 0)
        meta = NULL;
    put(o, "Meta", meta, &ok);
    put(o, "WalletName", str_json(m->wallet_name), &ok);
    put(o, "State", json_integer(m->state), &ok);
    put(o, "ErrorMsg", str_json(m->error_msg), &ok);
    put(o, "CreatedAt", msgr_time_to_json(m->created_ns), &ok);
    put(o, "UpdatedAt", msgr_time_to_json(m->updated_ns), &ok);
    return finish(o, ok, ret);
}

/* The chain-message keys, shared by Message and types.Message. */
static int chain_fields(const json_t *j, const char *st, vc_message_t *m)
{
    int64_t gl = m->gas_limit;
    int r;
    if ((r = d_u64(j, st, "Version", &m->version)) < 0 || (r = d_addr(j, st, "To", &m->to)) < 0 ||
        (r = d_addr(j, st, "From", &m->from)) < 0 || (r = d_u64(j, st, "Nonce", &m->nonce)) < 0 ||
        (r = d_big(j, st, "Value", &m->value, NULL)) < 0 || (r = d_i64(j, st, "GasLimit", &gl)) < 0 ||
        (r = d_big(j, st, "GasFeeCap", &m->gas_fee_cap, NULL)) < 0 ||
        (r = d_big(j, st, "GasPremium", &m->gas_premium, NULL)) < 0 ||
        (r = d_u64(j, st, "Method", &m->method)) < 0 ||
        (r = d_bytes(j, st, "Params", VC_MESSAGE_PARAMS_MAX, &m->params, &m->params_len)) < 0)
        return r;
    m->gas_limit = gl;
    return 0;
}

int msgr_chain_message_from_json(const json_t *j, vc_message_t *ret)
{
    vc_message_t m = {0};
    int r;
    if ((r = need_object(j, "types.Message")) < 0)
        return r;
    r = chain_fields(j, "Message", &m);
    if (r >= 0 && (vc_address_is_undef(&m.to) || vc_address_is_undef(&m.from)))
        r = errf(-EINVAL, "message %s address is empty", vc_address_is_undef(&m.to) ? "To" : "From");
    if (r < 0) {
        vc_message_done(&m);
        return r;
    }
    *ret = m;
    return 0;
}

int msgr_chain_message_check(const vc_message_t *m)
{
    if (vc_address_is_undef(&m->to))
        return errf(-EINVAL, "message To address is empty");
    if (vc_address_is_undef(&m->from))
        return errf(-EINVAL, "message From address is empty");
    if (vc_bigint_sign(&m->value) < 0)
        return errf(-EINVAL, "message value must not be negative");
    if (vc_bigint_sign(&m->gas_fee_cap) < 0)
        return errf(-EINVAL, "message gas fee cap must not be negative");
    if (vc_bigint_sign(&m->gas_premium) < 0)
        return errf(-EINVAL, "message gas premium must not be negative");
    if (m->gas_limit < 0)
        return errf(-EINVAL, "message gas limit must not be negative");
    if (m->gas_limit > MSGR_GAS_LIMIT_MAX)
        return errf(-EINVAL, "message gas limit %" PRId64 " over limit %lld", m->gas_limit, MSGR_GAS_LIMIT_MAX);
    if (m->nonce > INT64_MAX || m->method > INT64_MAX || m->version > INT64_MAX)
        return errf(-EINVAL, "message nonce, method or version out of range");
    if (m->params_len > VC_MESSAGE_PARAMS_MAX)
        return errf(-EINVAL, "message params larger than %d bytes", VC_MESSAGE_PARAMS_MAX);
    return 0;
}

int msgr_message_from_json(const json_t *j, msgr_message_t *ret, int64_t *ret_confidence)
{
    msgr_message_t m;
    int64_t conf = 0;
    const json_t *v;
    int r;

    msgr_message_init(&m);
    if ((r = need_object(j, "messager.Message")) < 0)
        return r;
    if ((r = d_str(j, "Message", "ID", &m.id)) < 0 || (r = d_cid(j, "Message", "UnsignedCid", &m.unsigned_cid)) < 0 ||
        (r = d_cid(j, "Message", "SignedCid", &m.signed_cid)) < 0 || (r = chain_fields(j, "Message", &m.msg)) < 0)
        goto fail;
    if ((v = field(j, "Signature"))) {
        if (!json_is_object(v)) {
            r = type_err(v, "Message", "Signature", "crypto.Signature");
            goto fail;
        }
        if (vc_signature_from_json(v, &m.signature) < 0) {
            r = errf(VC_EPARSE, "Message.Signature: invalid signature");
            goto fail;
        }
        m.has_signature = true;
    }
    if ((r = d_i64(j, "Message", "Height", &m.height)) < 0 || (r = d_i64(j, "Message", "Confidence", &conf)) < 0)
        goto fail;
    if ((v = field(j, "Receipt"))) {
        if (!json_is_object(v)) {
            r = type_err(v, "Message", "Receipt", "types.MessageReceipt");
            goto fail;
        }
        if ((r = d_i64(v, "MessageReceipt", "ExitCode", &m.receipt.exit_code)) < 0 ||
            (r = d_bytes(v, "MessageReceipt", "Return", VC_MESSAGE_PARAMS_MAX, &m.receipt.ret, &m.receipt.ret_len)) <
                0 ||
            (r = d_i64(v, "MessageReceipt", "GasUsed", &m.receipt.gas_used)) < 0)
            goto fail;
    }
    if ((v = field(j, "TipSetKey"))) {
        r = msgr_tsk_from_json(v, &m.tsk, &m.n_tsk);
        if (r < 0) {
            r = json_is_array(v) ? errf(VC_EPARSE, "Message.TipSetKey: invalid cid")
                                 : type_err(v, "Message", "TipSetKey", "types.TipSetKey");
            goto fail;
        }
    }
    if ((v = field(j, "Meta")) && (r = send_spec_decode(v, &m.meta)) < 0)
        goto fail;
    if ((r = d_str(j, "Message", "WalletName", &m.wallet_name)) < 0 || (r = d_int(j, "Message", "State", &m.state)) < 0 ||
        (r = d_str(j, "Message", "ErrorMsg", &m.error_msg)) < 0 ||
        (r = d_time(j, "Message", "CreatedAt", &m.created_ns, NULL)) < 0 ||
        (r = d_time(j, "Message", "UpdatedAt", &m.updated_ns, NULL)) < 0)
        goto fail;
    *ret = m;
    if (ret_confidence)
        *ret_confidence = conf;
    return 0;
fail:
    msgr_message_done(&m);
    return r;
}

/* ---- Address ---- */

void msgr_address_done(msgr_address_t *a)
{
    if (!a)
        return;
    free(a->addr);
    memset(a, 0, sizeof(*a));
}

void msgr_addresses_free(msgr_address_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        msgr_address_done(&v[i]);
    free(v);
}

int msgr_address_to_json(const msgr_address_t *a, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "id", json_string(a->id), &ok);
    put(o, "addr", json_string(vc_strempty(a->addr) ? "<empty>" : a->addr), &ok);
    put(o, "nonce", json_integer((json_int_t)a->nonce), &ok);
    put(o, "weight", json_integer(a->weight), &ok);
    put(o, "state", json_integer(a->state), &ok);
    put(o, "selMsgNum", json_integer((json_int_t)a->sel_msg_num), &ok);
    put_fee(o, &a->fee, &ok);
    put(o, "isDeleted", json_integer(a->is_deleted), &ok);
    put(o, "createAt", msgr_time_to_json(a->created_ns), &ok);
    put(o, "updateAt", msgr_time_to_json(a->updated_ns), &ok);
    return finish(o, ok, ret);
}

int msgr_address_from_json(const json_t *j, msgr_address_t *ret)
{
    msgr_address_t a = {0};
    int r;
    if ((r = need_object(j, "messager.Address")) < 0)
        return r;
    if ((r = d_uuid(j, "Address", "id", a.id)) < 0 || (r = d_addr_str(j, "Address", "addr", &a.addr)) < 0 ||
        (r = d_u64(j, "Address", "nonce", &a.nonce)) < 0 || (r = d_i64(j, "Address", "weight", &a.weight)) < 0 ||
        (r = d_int(j, "Address", "state", &a.state)) < 0 ||
        (r = d_u64(j, "Address", "selMsgNum", &a.sel_msg_num)) < 0 || (r = d_fee(j, "Address", &a.fee)) < 0 ||
        (r = d_int(j, "Address", "isDeleted", &a.is_deleted)) < 0 ||
        (r = d_time(j, "Address", "createAt", &a.created_ns, NULL)) < 0 ||
        (r = d_time(j, "Address", "updateAt", &a.updated_ns, NULL)) < 0) {
        msgr_address_done(&a);
        return r;
    }
    *ret = a;
    return 0;
}

/* ---- AddressSpec ---- */

void msgr_address_spec_done(msgr_address_spec_t *a)
{
    if (!a)
        return;
    free(a->address);
    memset(a, 0, sizeof(*a));
}

/* A *Str field: decimal attoFIL, parsed only when non-empty. */
static int d_big_str(const json_t *o, const char *st, const char *key, vc_bigint_t *ret, bool *ret_present)
{
    char *s = NULL;
    int r = d_str(o, st, key, &s);
    if (r < 0 || vc_strempty(s)) {
        free(s);
        return r;
    }
    if (vc_bigint_from_string(s, ret) < 0)
        r = errf(VC_EPARSE, "%s.%s: failed to parse big string: '%.64s'", st, key, s);
    else
        *ret_present = true;
    free(s);
    return r;
}

int msgr_address_spec_from_json(const json_t *j, msgr_address_spec_t *ret)
{
    msgr_address_spec_t a = {0};
    int r;
    if ((r = need_object(j, "messager.AddressSpec")) < 0)
        return r;
    if ((r = d_addr_str(j, "AddressSpec", "address", &a.address)) < 0 ||
        (r = d_f64(j, "AddressSpec", "gasOverEstimation", &a.gas_over_estimation, NULL)) < 0 ||
        (r = d_f64(j, "AddressSpec", "gasOverPremium", &a.gas_over_premium, NULL)) < 0 ||
        (r = d_big_str(j, "AddressSpec", "maxFeeStr", &a.max_fee, &a.has_max_fee)) < 0 ||
        (r = d_big_str(j, "AddressSpec", "gasFeeCapStr", &a.gas_fee_cap, &a.has_gas_fee_cap)) < 0 ||
        (r = d_big_str(j, "AddressSpec", "baseFeeStr", &a.base_fee, &a.has_base_fee)) < 0) {
        msgr_address_spec_done(&a);
        return r;
    }
    *ret = a;
    return 0;
}

static json_t *big_str_json(bool present, const vc_bigint_t *v)
{
    return present ? msgr_bigint_to_json(v) : json_string("");
}

int msgr_address_spec_to_json(const msgr_address_spec_t *a, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "address", json_string(vc_strempty(a->address) ? "<empty>" : a->address), &ok);
    put(o, "gasOverEstimation", json_real(a->gas_over_estimation), &ok);
    put(o, "gasOverPremium", json_real(a->gas_over_premium), &ok);
    put(o, "maxFeeStr", big_str_json(a->has_max_fee, &a->max_fee), &ok);
    put(o, "gasFeeCapStr", big_str_json(a->has_gas_fee_cap, &a->gas_fee_cap), &ok);
    put(o, "baseFeeStr", big_str_json(a->has_base_fee, &a->base_fee), &ok);
    return finish(o, ok, ret);
}

/* ---- ActorCfg ---- */

int msgr_actor_cfg_to_json(const msgr_actor_cfg_t *a, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    if (a->method > INT64_MAX) {
        json_decref(o);
        return -ERANGE;
    }
    put(o, "id", json_string(a->id), &ok);
    put(o, "version", json_integer(a->actor_version), &ok);
    put(o, "code", cid_json(&a->code), &ok);
    put(o, "method", json_integer((json_int_t)a->method), &ok);
    put_fee(o, &a->fee, &ok);
    put(o, "createAt", msgr_time_to_json(a->created_ns), &ok);
    put(o, "updateAt", msgr_time_to_json(a->updated_ns), &ok);
    return finish(o, ok, ret);
}

int msgr_actor_cfg_from_json(const json_t *j, msgr_actor_cfg_t *ret)
{
    msgr_actor_cfg_t a = {0};
    int r;
    if ((r = need_object(j, "messager.ActorCfg")) < 0)
        return r;
    if ((r = d_uuid(j, "ActorCfg", "id", a.id)) < 0 || (r = d_i64(j, "ActorCfg", "version", &a.actor_version)) < 0 ||
        (r = d_cid(j, "ActorCfg", "code", &a.code)) < 0 || (r = d_u64(j, "ActorCfg", "method", &a.method)) < 0 ||
        (r = d_fee(j, "ActorCfg", &a.fee)) < 0 || (r = d_time(j, "ActorCfg", "createAt", &a.created_ns, NULL)) < 0 ||
        (r = d_time(j, "ActorCfg", "updateAt", &a.updated_ns, NULL)) < 0)
        return r;
    *ret = a;
    return 0;
}

/* ---- ChangeGasSpecParams ---- */

int msgr_change_gas_spec_from_json(const json_t *j, msgr_change_gas_spec_t *ret)
{
    msgr_change_gas_spec_t c = {0};
    const char *st = "ChangeGasSpecParams";
    int r;
    if ((r = need_object(j, "messager.ChangeGasSpecParams")) < 0)
        return r;
    if ((r = d_f64(j, st, "gasOverEstimation", &c.gas_over_estimation, &c.has_gas_over_estimation)) < 0 ||
        (r = d_big(j, st, "maxFee", &c.max_fee, &c.has_max_fee)) < 0 ||
        (r = d_big(j, st, "gasFeeCap", &c.gas_fee_cap, &c.has_gas_fee_cap)) < 0 ||
        (r = d_f64(j, st, "gasOverPremium", &c.gas_over_premium, &c.has_gas_over_premium)) < 0 ||
        (r = d_big(j, st, "baseFee", &c.base_fee, &c.has_base_fee)) < 0)
        return r;
    *ret = c;
    return 0;
}

int msgr_change_gas_spec_to_json(const msgr_change_gas_spec_t *c, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "gasOverEstimation", c->has_gas_over_estimation ? json_real(c->gas_over_estimation) : json_null(), &ok);
    put(o, "maxFee", c->has_max_fee ? msgr_bigint_to_json(&c->max_fee) : json_null(), &ok);
    put(o, "gasFeeCap", c->has_gas_fee_cap ? msgr_bigint_to_json(&c->gas_fee_cap) : json_null(), &ok);
    put(o, "gasOverPremium", c->has_gas_over_premium ? json_real(c->gas_over_premium) : json_null(), &ok);
    put(o, "baseFee", c->has_base_fee ? msgr_bigint_to_json(&c->base_fee) : json_null(), &ok);
    return finish(o, ok, ret);
}

/* ---- ReplacMessageParams ---- */

void msgr_replace_params_done(msgr_replace_params_t *p)
{
    if (!p)
        return;
    free(p->id);
    memset(p, 0, sizeof(*p));
}

int msgr_replace_params_from_json(const json_t *j, msgr_replace_params_t *ret)
{
    msgr_replace_params_t p = {0};
    const char *st = "ReplacMessageParams";
    int r;
    if ((r = need_object(j, "messager.ReplacMessageParams")) < 0)
        return r;
    if ((r = d_str(j, st, "ID", &p.id)) < 0 || (r = d_bool(j, st, "Auto", &p.auto_)) < 0 ||
        (r = d_big(j, st, "MaxFee", &p.max_fee, NULL)) < 0 || (r = d_i64(j, st, "GasLimit", &p.gas_limit)) < 0 ||
        (r = d_big(j, st, "GasPremium", &p.gas_premium, NULL)) < 0 ||
        (r = d_big(j, st, "GasFeecap", &p.gas_fee_cap, NULL)) < 0 ||
        (r = d_f64(j, st, "GasOverPremium", &p.gas_over_premium, NULL)) < 0) {
        msgr_replace_params_done(&p);
        return r;
    }
    *ret = p;
    return 0;
}

int msgr_replace_params_to_json(const msgr_replace_params_t *p, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "ID", str_json(p->id), &ok);
    put(o, "Auto", json_boolean(p->auto_), &ok);
    put(o, "MaxFee", msgr_bigint_to_json(&p->max_fee), &ok);
    put(o, "GasLimit", json_integer(p->gas_limit), &ok);
    put(o, "GasPremium", msgr_bigint_to_json(&p->gas_premium), &ok);
    put(o, "GasFeecap", msgr_bigint_to_json(&p->gas_fee_cap), &ok);
    put(o, "GasOverPremium", json_real(p->gas_over_premium), &ok);
    return finish(o, ok, ret);
}

/* ---- MsgQueryParams ---- */

void msgr_query_params_done(msgr_query_params_t *q)
{
    if (!q)
        return;
    free(q->states);
    for (size_t i = 0; i < q->n_from; i++)
        free(q->from[i]);
    free(q->from);
    memset(q, 0, sizeof(*q));
}

int msgr_query_params_from_json(const json_t *j, msgr_query_params_t *ret)
{
    msgr_query_params_t q = {0};
    const char *st = "MsgQueryParams";
    const json_t *v;
    int r;
    if ((r = need_object(j, "messager.MsgQueryParams")) < 0)
        return r;
    if ((v = field(j, "State"))) {
        if (!json_is_array(v)) {
            r = type_err(v, st, "State", "[]messager.MessageState");
            goto fail;
        }
        q.states = calloc(json_array_size(v) + 1, sizeof(int));
        if (!q.states) {
            r = errf(-ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);
            if (!json_is_integer(e)) {
                r = type_err(e, st, "State", "messager.MessageState");
                goto fail;
            }
            json_int_t x = json_integer_value(e);
            if (x < INT32_MIN || x > INT32_MAX) {
                r = errf(-ERANGE, "MsgQueryParams.State: %" JSON_INTEGER_FORMAT " out of range", x);
                goto fail;
            }
            q.states[q.n_states++] = (int)x;
        }
    }
    if ((v = field(j, "From"))) {
        if (!json_is_array(v)) {
            r = type_err(v, st, "From", "[]address.Address");
            goto fail;
        }
        q.from = calloc(json_array_size(v) + 1, sizeof(char *));
        if (!q.from) {
            r = errf(-ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);
            vc_address_t a;
            char buf[VC_ADDRESS_STRLEN_MAX];
            if (!json_is_string(e)) {
                r = type_err(e, st, "From", "address.Address");
                goto fail;
            }
            if (parse_addr(json_string_value(e), json_string_length(e), &a) < 0 || vc_address_is_undef(&a) ||
                vc_address_to_string(&a, 'f', buf) < 0) {
                r = errf(VC_EPARSE, "MsgQueryParams.From: invalid address \"%.128s\"", json_string_value(e));
                goto fail;
            }
            if (!(q.from[q.n_from] = strdup(buf))) {
                r = errf(-ENOMEM, "out of memory");
                goto fail;
            }
            q.n_from++;
        }
    }
    if ((r = d_time(j, st, "ByUpdateAt", &q.by_update_at_ns, &q.has_by_update_at)) < 0 ||
        (r = d_bool(j, st, "Asc", &q.asc)) < 0 || (r = d_u64(j, st, "Limit", &q.limit)) < 0 ||
        (r = d_u64(j, st, "Offset", &q.offset)) < 0)
        goto fail;
    *ret = q;
    return 0;
fail:
    msgr_query_params_done(&q);
    return r;
}

int msgr_query_params_to_json(const msgr_query_params_t *q, json_t **ret)
{
    json_t *o = json_object(), *a;
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    a = q->states ? json_array() : json_null();
    for (size_t i = 0; a && q->states && i < q->n_states; i++)
        if (json_array_append_new(a, json_integer(q->states[i])) < 0)
            ok = false;
    put(o, "State", a, &ok);
    a = q->from ? json_array() : json_null();
    for (size_t i = 0; a && q->from && i < q->n_from; i++)
        if (json_array_append_new(a, json_string(q->from[i])) < 0)
            ok = false;
    put(o, "From", a, &ok);
    put(o, "ByUpdateAt", q->has_by_update_at ? msgr_time_to_json(q->by_update_at_ns) : json_null(), &ok);
    put(o, "Asc", json_boolean(q->asc), &ok);
    put(o, "Limit", json_integer((json_int_t)q->limit), &ok);
    put(o, "Offset", json_integer((json_int_t)q->offset), &ok);
    return finish(o, ok, ret);
}

/* ---- QuickSendParams ---- */

void msgr_quick_send_done(msgr_quick_send_t *q)
{
    if (!q)
        return;
    free(q->account);
    free(q->params);
    free(q->params_type);
    memset(q, 0, sizeof(*q));
}

int msgr_quick_send_from_json(const json_t *j, msgr_quick_send_t *ret)
{
    msgr_quick_send_t q = {0};
    const char *st = "QuickSendParams";
    const json_t *v;
    int r;
    if ((r = need_object(j, "messager.QuickSendParams")) < 0)
        return r;
    if ((r = d_addr(j, st, "To", &q.to)) < 0 || (r = d_addr(j, st, "From", &q.from)) < 0 ||
        (r = d_big(j, st, "Val", &q.val, NULL)) < 0 || (r = d_str(j, st, "Account", &q.account)) < 0 ||
        (r = d_big(j, st, "GasPremium", &q.gas_premium, &q.has_gas_premium)) < 0 ||
        (r = d_big(j, st, "GasFeeCap", &q.gas_fee_cap, &q.has_gas_fee_cap)) < 0 ||
        (r = d_u64(j, st, "Method", &q.method)) < 0 || (r = d_str(j, st, "Params", &q.params)) < 0 ||
        (r = d_str(j, st, "ParamsType", &q.params_type)) < 0)
        goto fail;
    if ((v = field(j, "GasLimit"))) {
        if ((r = d_i64(j, st, "GasLimit", &q.gas_limit)) < 0)
            goto fail;
        q.has_gas_limit = true;
    }
    *ret = q;
    return 0;
fail:
    msgr_quick_send_done(&q);
    return r;
}

int msgr_quick_send_to_json(const msgr_quick_send_t *q, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "To", msgr_address_str_to_json(&q->to), &ok);
    put(o, "From", msgr_address_str_to_json(&q->from), &ok);
    put(o, "Val", msgr_bigint_to_json(&q->val), &ok);
    put(o, "Account", str_json(q->account), &ok);
    put(o, "GasPremium", q->has_gas_premium ? msgr_bigint_to_json(&q->gas_premium) : json_null(), &ok);
    put(o, "GasFeeCap", q->has_gas_fee_cap ? msgr_bigint_to_json(&q->gas_fee_cap) : json_null(), &ok);
    put(o, "GasLimit", q->has_gas_limit ? json_integer(q->gas_limit) : json_null(), &ok);
    put(o, "Method", json_integer((json_int_t)q->method), &ok);
    put(o, "Params", str_json(q->params), &ok);
    put(o, "ParamsType", str_json(q->params_type), &ok);
    return finish(o, ok, ret);
}

/* ---- Node ---- */

void msgr_node_done(msgr_node_t *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->url);
    free(n->token);
    memset(n, 0, sizeof(*n));
}

void msgr_nodes_free(msgr_node_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        msgr_node_done(&v[i]);
    free(v);
}

int msgr_node_to_json(const msgr_node_t *n, json_t **ret)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!o)
        return -ENOMEM;
    put(o, "ID", json_string(n->id[0] ? n->id : "00000000-0000-0000-0000-000000000000"), &ok);
    put(o, "Name", str_json(n->name), &ok);
    put(o, "URL", str_json(n->url), &ok);
    put(o, "Token", str_json(n->token), &ok);
    put(o, "Type", json_integer(n->type), &ok);
    put(o, "CreatedAt", msgr_time_to_json(n->created_ns), &ok);
    put(o, "UpdatedAt", msgr_time_to_json(n->updated_ns), &ok);
    return finish(o, ok, ret);
}

int msgr_node_from_json(const json_t *j, msgr_node_t *ret)
{
    msgr_node_t n = {0};
    int r;
    if ((r = need_object(j, "messager.Node")) < 0)
        return r;
    if ((r = d_uuid(j, "Node", "ID", n.id)) < 0 || (r = d_str(j, "Node", "Name", &n.name)) < 0 ||
        (r = d_str(j, "Node", "URL", &n.url)) < 0 || (r = d_str(j, "Node", "Token", &n.token)) < 0 ||
        (r = d_int(j, "Node", "Type", &n.type)) < 0 || (r = d_time(j, "Node", "CreatedAt", &n.created_ns, NULL)) < 0 ||
        (r = d_time(j, "Node", "UpdatedAt", &n.updated_ns, NULL)) < 0) {
        msgr_node_done(&n);
        return r;
    }
    *ret = n;
    return 0;
}
