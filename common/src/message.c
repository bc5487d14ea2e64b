/* message.c: Message, SignedMessage and Signature encodings. */
#include "vc/message.h"
#include "vc/util.h"

/* ---- signature ---- */

int vc_signature_set(vc_signature_t *s, vc_sig_type_t type, const uint8_t *data, size_t len)
{
    if (len > VC_SIGNATURE_DATA_MAX || (unsigned)type > UINT8_MAX || (!data && len > 0))
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    s->type = (uint8_t)type;
    s->len = (uint8_t)len;
    if (len)
        memcpy(s->data, data, len);
    return 0;
}

int vc_cbor_put_signature(vc_buf_t *b, const vc_signature_t *s)
{
    int r = vc_cbor_put_head(b, VC_CBOR_BYTES, 1u + s->len);
    if (r < 0)
        return r;
    if ((r = vc_buf_append(b, &s->type, 1)) < 0)
        return r;
    return s->len ? vc_buf_append(b, s->data, s->len) : 0;
}

int vc_cbor_read_signature(vc_cbor_reader_t *r, vc_signature_t *ret)
{
    vc_cbor_reader_t t = *r;
    const uint8_t *p;
    size_t n;
    int rr;

    if ((rr = vc_cbor_read_bytes(&t, &p, &n)) < 0)
        return rr;
    if (n == 0)
        return VC_EPARSE;
    if (n - 1 > VC_SIGNATURE_DATA_MAX)
        return VC_ETOOBIG;
    if (p[0] < VC_SIG_SECP256K1 || p[0] >= VC_SIG_TYPE_MAX)
        return VC_EPARSE;
    (void)vc_signature_set(ret, (vc_sig_type_t)p[0], p + 1, n - 1);
    *r = t;
    return 0;
}

/* base64 string or null for a byte slice. */
static json_t *bytes_to_json(const uint8_t *data, size_t len)
{
    if (len == 0)
        return json_null();
    _cleanup_free_ char *s = vc_base64_encode(data, len);
    if (!s)
        return NULL;
    return json_string(s);
}

/* null or a base64 string; *ret is malloc'ed (NULL for empty). */
static int bytes_from_json(const json_t *j, size_t max, uint8_t **ret, size_t *ret_len)
{
    uint8_t *out;
    size_t n;
    int r;

    if (!j || json_is_null(j)) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    if (!json_is_string(j))
        return VC_ETYPE;
    if (json_string_length(j) / 4 * 3 > max)
        return VC_ETOOBIG;
    r = vc_base64_decode(json_string_value(j), json_string_length(j), &out, &n);
    if (r < 0)
        return r;
    if (n == 0) {
        free(out);
        out = NULL;
    }
    *ret = out;
    *ret_len = n;
    return 0;
}

json_t *vc_signature_to_json(const vc_signature_t *s)
{
    json_t *data = bytes_to_json(s->data, s->len);
    if (!data)
        return NULL;
    return json_pack("{s:i,s:o}", "Type", (json_int_t)s->type, "Data", data);
}

int vc_signature_from_json(const json_t *j, vc_signature_t *ret)
{
    _cleanup_free_ uint8_t *data = NULL;
    size_t n;
    int r;

    if (!json_is_object(j))
        return VC_ETYPE;
    const json_t *t = json_object_get(j, "Type");
    if (!json_is_integer(t))
        return VC_ETYPE;
    json_int_t type = json_integer_value(t);
    if (type < 0 || type > UINT8_MAX)
        return -ERANGE;
    r = bytes_from_json(json_object_get(j, "Data"), VC_SIGNATURE_DATA_MAX, &data, &n);
    if (r < 0)
        return r;
    if (n > VC_SIGNATURE_DATA_MAX)
        return VC_ETOOBIG;
    return vc_signature_set(ret, (vc_sig_type_t)type, data, n);
}

/* ---- message ---- */

void vc_message_done(vc_message_t *m)
{
    if (!m)
        return;
    free(m->params);
    memset(m, 0, sizeof(*m));
}

void vc_signed_message_done(vc_signed_message_t *sm)
{
    if (!sm)
        return;
    vc_message_done(&sm->message);
    memset(&sm->signature, 0, sizeof(sm->signature));
}

int vc_message_set_params(vc_message_t *m, const uint8_t *data, size_t len)
{
    uint8_t *p = NULL;
    if (len > 0) {
        if (!data)
            return -EINVAL;
        p = malloc(len);
        if (!p)
            return -ENOMEM;
        memcpy(p, data, len);
    }
    free(m->params);
    m->params = p;
    m->params_len = len;
    return 0;
}

int vc_message_copy(const vc_message_t *m, vc_message_t *ret)
{
    vc_message_t t = *m;
    t.params = NULL;
    t.params_len = 0;
    int r = vc_message_set_params(&t, m->params, m->params_len);
    if (r < 0)
        return r;
    *ret = t;
    return 0;
}

int vc_message_encode(const vc_message_t *m, vc_buf_t *out)
{
    int r;
    if (vc_address_is_undef(&m->to) || vc_address_is_undef(&m->from))
        return -EINVAL;
    if ((r = vc_cbor_put_array(out, 10)) < 0 || (r = vc_cbor_put_uint(out, m->version)) < 0 ||
        (r = vc_cbor_put_address(out, &m->to)) < 0 ||
        (r = vc_cbor_put_address(out, &m->from)) < 0 ||
        (r = vc_cbor_put_uint(out, m->nonce)) < 0 || (r = vc_cbor_put_bigint(out, &m->value)) < 0 ||
        (r = vc_cbor_put_int(out, m->gas_limit)) < 0 ||
        (r = vc_cbor_put_bigint(out, &m->gas_fee_cap)) < 0 ||
        (r = vc_cbor_put_bigint(out, &m->gas_premium)) < 0 ||
        (r = vc_cbor_put_uint(out, m->method)) < 0 ||
        (r = vc_cbor_put_bytes(out, m->params, m->params_len)) < 0)
        return r;
    return 0;
}

int vc_message_read(vc_cbor_reader_t *r, vc_message_t *ret)
{
    vc_cbor_reader_t t = *r;
    vc_message_t m = {0};
    const uint8_t *params;
    uint64_t count;
    int rr;

    if ((rr = vc_cbor_read_array(&t, &count)) < 0)
        return rr;
    if (count != 10)
        return VC_EPARSE;
    if ((rr = vc_cbor_read_uint(&t, &m.version)) < 0 || (rr = vc_cbor_read_address(&t, &m.to)) < 0 ||
        (rr = vc_cbor_read_address(&t, &m.from)) < 0 || (rr = vc_cbor_read_uint(&t, &m.nonce)) < 0 ||
        (rr = vc_cbor_read_bigint(&t, &m.value)) < 0 ||
        (rr = vc_cbor_read_int(&t, &m.gas_limit)) < 0 ||
        (rr = vc_cbor_read_bigint(&t, &m.gas_fee_cap)) < 0 ||
        (rr = vc_cbor_read_bigint(&t, &m.gas_premium)) < 0 ||
        (rr = vc_cbor_read_uint(&t, &m.method)) < 0 ||
        (rr = vc_cbor_read_bytes(&t, &params, &m.params_len)) < 0)
        return rr;
    if (m.params_len > VC_MESSAGE_PARAMS_MAX)
        return VC_ETOOBIG;
    size_t plen = m.params_len;
    m.params_len = 0;
    if ((rr = vc_message_set_params(&m, params, plen)) < 0)
        return rr;
    *r = t;
    *ret = m;
    return 0;
}

int vc_message_decode(const uint8_t *data, size_t len, vc_message_t *ret)
{
    vc_cbor_reader_t r;
    vc_message_t m;
    int rr;

    vc_cbor_reader_init(&r, data, len);
    if ((rr = vc_message_read(&r, &m)) < 0)
        return rr;
    if ((rr = vc_cbor_expect_end(&r)) < 0) {
        vc_message_done(&m);
        return rr;
    }
    *ret = m;
    return 0;
}

int vc_message_cid(const vc_message_t *m, vc_cid_t *ret)
{
    vc_buf_t b = {0};
    int r = vc_message_encode(m, &b);
    if (r >= 0)
        vc_cid_sum_dagcbor(b.data, b.len, ret);
    vc_buf_done(&b);
    return r < 0 ? r : 0;
}

int vc_signed_message_encode(const vc_signed_message_t *sm, vc_buf_t *out)
{
    int r;
    if ((r = vc_cbor_put_array(out, 2)) < 0 || (r = vc_message_encode(&sm->message, out)) < 0)
        return r;
    return vc_cbor_put_signature(out, &sm->signature);
}

int vc_signed_message_read(vc_cbor_reader_t *r, vc_signed_message_t *ret)
{
    vc_cbor_reader_t t = *r;
    vc_signed_message_t sm = {0};
    uint64_t count;
    int rr;

    if ((rr = vc_cbor_read_array(&t, &count)) < 0)
        return rr;
    if (count != 2)
        return VC_EPARSE;
    if ((rr = vc_message_read(&t, &sm.message)) < 0)
        return rr;
    if ((rr = vc_cbor_read_signature(&t, &sm.signature)) < 0) {
        vc_message_done(&sm.message);
        return rr;
    }
    *r = t;
    *ret = sm;
    return 0;
}

int vc_signed_message_decode(const uint8_t *data, size_t len, vc_signed_message_t *ret)
{
    vc_cbor_reader_t r;
    vc_signed_message_t sm;
    int rr;

    vc_cbor_reader_init(&r, data, len);
    if ((rr = vc_signed_message_read(&r, &sm)) < 0)
        return rr;
    if ((rr = vc_cbor_expect_end(&r)) < 0) {
        vc_signed_message_done(&sm);
        return rr;
    }
    *ret = sm;
    return 0;
}

int vc_signed_message_cid(const vc_signed_message_t *sm, vc_cid_t *ret)
{
    if (sm->signature.type == VC_SIG_BLS)
        return vc_message_cid(&sm->message, ret);
    vc_buf_t b = {0};
    int r = vc_signed_message_encode(sm, &b);
    if (r >= 0)
        vc_cid_sum_dagcbor(b.data, b.len, ret);
    vc_buf_done(&b);
    return r < 0 ? r : 0;
}

/* ---- JSON ---- */

static json_t *bigint_to_json(const vc_bigint_t *v)
{
    char s[VC_BIGINT_STRLEN_MAX];
    if (vc_bigint_to_string(v, s, sizeof(s)) < 0)
        return NULL;
    return json_string(s);
}

static json_t *address_to_json(const vc_address_t *a, char network)
{
    char s[VC_ADDRESS_STRLEN_MAX];
    if (vc_address_to_string(a, network, s) < 0)
        return NULL;
    return json_string(s);
}

int vc_message_to_json(const vc_message_t *m, char network, bool with_cid, json_t **ret)
{
    vc_cid_t cid;
    int r;

    if (network != 'f' && network != 't')
        return -EINVAL;
    if (vc_address_is_undef(&m->to) || vc_address_is_undef(&m->from))
        return -EINVAL;
    if (m->version > INT64_MAX || m->nonce > INT64_MAX || m->method > INT64_MAX)
        return -ERANGE;
    json_t *o = json_pack("{s:I,s:o?,s:o?,s:I,s:o?,s:I,s:o?,s:o?,s:I,s:o?}", "Version",
                          (json_int_t)m->version, "To", address_to_json(&m->to, network), "From",
                          address_to_json(&m->from, network), "Nonce", (json_int_t)m->nonce,
                          "Value", bigint_to_json(&m->value), "GasLimit",
                          (json_int_t)m->gas_limit, "GasFeeCap", bigint_to_json(&m->gas_fee_cap),
                          "GasPremium", bigint_to_json(&m->gas_premium), "Method",
                          (json_int_t)m->method, "Params",
                          bytes_to_json(m->params, m->params_len));
    if (!o)
        return -ENOMEM;
    /* "o?" turns a failed conversion into null; the fields above never legitimately are. */
    if (json_is_null(json_object_get(o, "To")) || json_is_null(json_object_get(o, "Value")) ||
        json_is_null(json_object_get(o, "From")) ||
        json_is_null(json_object_get(o, "GasFeeCap")) ||
        json_is_null(json_object_get(o, "GasPremium")) ||
        (m->params_len > 0 && json_is_null(json_object_get(o, "Params")))) {
        json_decref(o);
        return -ENOMEM;
    }
    if (with_cid) {
        if ((r = vc_message_cid(m, &cid)) < 0) {
            json_decref(o);
            return r;
        }
        if (json_object_set_new(o, "CID", vc_cid_to_json(&cid)) < 0) {
            json_decref(o);
            return -ENOMEM;
        }
    }
    *ret = o;
    return 0;
}

static int json_u64(const json_t *o, const char *key, uint64_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!j) {
        *ret = 0;
        return 0;
    }
    if (!json_is_integer(j))
        return VC_ETYPE;
    json_int_t v = json_integer_value(j);
    if (v < 0)
        return -ERANGE;
    *ret = (uint64_t)v;
    return 0;
}

static int json_i64(const json_t *o, const char *key, int64_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!j) {
        *ret = 0;
        return 0;
    }
    if (!json_is_integer(j))
        return VC_ETYPE;
    *ret = (int64_t)json_integer_value(j);
    return 0;
}

static int json_bigint(const json_t *o, const char *key, vc_bigint_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!j || json_is_null(j)) {
        *ret = VC_BIGINT_ZERO;
        return 0;
    }
    if (!json_is_string(j))
        return VC_ETYPE;
    return vc_bigint_parse(json_string_value(j), json_string_length(j), ret);
}

static int json_address(const json_t *o, const char *key, vc_address_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!json_is_string(j))
        return VC_ETYPE;
    return vc_address_parse(json_string_value(j), json_string_length(j), ret, NULL);
}

int vc_message_from_json(const json_t *j, vc_message_t *ret)
{
    vc_message_t m = {0};
    int r;

    if (!json_is_object(j))
        return VC_ETYPE;
    if ((r = json_u64(j, "Version", &m.version)) < 0 || (r = json_address(j, "To", &m.to)) < 0 ||
        (r = json_address(j, "From", &m.from)) < 0 || (r = json_u64(j, "Nonce", &m.nonce)) < 0 ||
        (r = json_bigint(j, "Value", &m.value)) < 0 ||
        (r = json_i64(j, "GasLimit", &m.gas_limit)) < 0 ||
        (r = json_bigint(j, "GasFeeCap", &m.gas_fee_cap)) < 0 ||
        (r = json_bigint(j, "GasPremium", &m.gas_premium)) < 0 ||
        (r = json_u64(j, "Method", &m.method)) < 0)
        return r;
    if ((r = bytes_from_json(json_object_get(j, "Params"), VC_MESSAGE_PARAMS_MAX, &m.params,
                             &m.params_len)) < 0)
        return r;
    *ret = m;
    return 0;
}

int vc_signed_message_to_json(const vc_signed_message_t *sm, char network, bool with_cid,
                              json_t **ret)
{
    json_t *msg = NULL, *sig, *o;
    vc_cid_t cid;
    int r;

    if ((r = vc_message_to_json(&sm->message, network, false, &msg)) < 0)
        return r;
    sig = vc_signature_to_json(&sm->signature);
    if (!sig) {
        json_decref(msg);
        return -ENOMEM;
    }
    o = json_pack("{s:o,s:o}", "Message", msg, "Signature", sig);
    if (!o)
        return -ENOMEM;
    if (with_cid) {
        if ((r = vc_signed_message_cid(sm, &cid)) < 0) {
            json_decref(o);
            return r;
        }
        if (json_object_set_new(o, "CID", vc_cid_to_json(&cid)) < 0) {
            json_decref(o);
            return -ENOMEM;
        }
    }
    *ret = o;
    return 0;
}

int vc_signed_message_from_json(const json_t *j, vc_signed_message_t *ret)
{
    vc_signed_message_t sm = {0};
    int r;

    if (!json_is_object(j))
        return VC_ETYPE;
    if ((r = vc_signature_from_json(json_object_get(j, "Signature"), &sm.signature)) < 0)
        return r;
    if ((r = vc_message_from_json(json_object_get(j, "Message"), &sm.message)) < 0)
        return r;
    *ret = sm;
    return 0;
}
