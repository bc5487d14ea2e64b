/* cbor.c: DAG-CBOR encode/decode (see cbor.h for the strictness rules). */
#include "vc/cbor.h"
#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cid.h"

/* ---- encoder ---- */

int vc_cbor_put_head(vc_buf_t *b, unsigned major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    uint8_t m = (uint8_t)(major << 5);

    if (v < 24) {
        h[0] = m | (uint8_t)v;
        n = 1;
    } else if (v <= UINT8_MAX) {
        h[0] = m | 24;
        n = 2;
    } else if (v <= UINT16_MAX) {
        h[0] = m | 25;
        n = 3;
    } else if (v <= UINT32_MAX) {
        h[0] = m | 26;
        n = 5;
    } else {
        h[0] = m | 27;
        n = 9;
    }
    for (size_t i = 1; i < n; i++)
        h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return vc_buf_append(b, h, n);
}

int vc_cbor_put_uint(vc_buf_t *b, uint64_t v)
{
    return vc_cbor_put_head(b, VC_CBOR_UINT, v);
}

int vc_cbor_put_int(vc_buf_t *b, int64_t v)
{
    if (v >= 0)
        return vc_cbor_put_head(b, VC_CBOR_UINT, (uint64_t)v);
    return vc_cbor_put_head(b, VC_CBOR_NEGINT, (uint64_t)(-(v + 1)));
}

int vc_cbor_put_bytes(vc_buf_t *b, const void *data, size_t len)
{
    int r = vc_cbor_put_head(b, VC_CBOR_BYTES, len);
    if (r < 0 || len == 0)
        return r;
    return vc_buf_append(b, data, len);
}

int vc_cbor_put_text(vc_buf_t *b, const char *s, size_t len)
{
    int r = vc_cbor_put_head(b, VC_CBOR_TEXT, len);
    if (r < 0 || len == 0)
        return r;
    return vc_buf_append(b, s, len);
}

int vc_cbor_put_array(vc_buf_t *b, uint64_t count)
{
    return vc_cbor_put_head(b, VC_CBOR_ARRAY, count);
}

int vc_cbor_put_map(vc_buf_t *b, uint64_t count)
{
    return vc_cbor_put_head(b, VC_CBOR_MAP, count);
}

int vc_cbor_put_bool(vc_buf_t *b, bool v)
{
    uint8_t c = v ? 0xf5 : 0xf4;
    return vc_buf_append(b, &c, 1);
}

int vc_cbor_put_null(vc_buf_t *b)
{
    uint8_t c = 0xf6;
    return vc_buf_append(b, &c, 1);
}

int vc_cbor_put_cid(vc_buf_t *b, const vc_cid_t *c)
{
    uint8_t zero = 0;
    int r;

    if (!c || c->len == 0)
        return -EINVAL;
    if ((r = vc_cbor_put_head(b, VC_CBOR_TAG, VC_CBOR_TAG_CID)) < 0 ||
        (r = vc_cbor_put_head(b, VC_CBOR_BYTES, 1u + c->len)) < 0 ||
        (r = vc_buf_append(b, &zero, 1)) < 0)
        return r;
    return vc_buf_append(b, c->bytes, c->len);
}

int vc_cbor_put_bigint(vc_buf_t *b, const vc_bigint_t *v)
{
    uint8_t buf[VC_BIGINT_BYTES_MAX];
    int n = vc_bigint_to_bytes(v, buf);
    if (n < 0)
        return n;
    return vc_cbor_put_bytes(b, buf, (size_t)n);
}

int vc_cbor_put_address(vc_buf_t *b, const vc_address_t *a)
{
    if (!a || a->len == 0)
        return -EINVAL;
    return vc_cbor_put_bytes(b, a->bytes, a->len);
}

/* ---- decoder ---- */

void vc_cbor_reader_init(vc_cbor_reader_t *r, const void *data, size_t len)
{
    r->p = data;
    r->len = data ? len : 0;
    r->pos = 0;
    r->max_depth = VC_CBOR_MAX_DEPTH;
}

int vc_cbor_expect_end(const vc_cbor_reader_t *r)
{
    return r->pos == r->len ? 0 : VC_EPARSE;
}

/* Decodes the head at r->pos without consuming it. Returns the head size. */
static int read_head(const vc_cbor_reader_t *r, unsigned *ret_major, unsigned *ret_ai,
                     uint64_t *ret_v)
{
    size_t avail = r->len - r->pos;
    const uint8_t *p = r->p + r->pos;
    uint64_t v;
    size_t n;

    if (avail == 0)
        return VC_ETRUNC;
    unsigned major = p[0] >> 5, ai = p[0] & 31;
    if (ai < 24) {
        v = ai;
        n = 1;
    } else if (ai <= 27) {
        n = 1 + ((size_t)1 << (ai - 24));
        if (avail < n)
            return VC_ETRUNC;
        v = 0;
        for (size_t i = 1; i < n; i++)
            v = (v << 8) | p[i];
        /* Minimal encoding (the float widths in major 7 are rejected by callers). */
        if (major != VC_CBOR_SIMPLE) {
            if ((ai == 24 && v < 24) || (ai == 25 && v <= UINT8_MAX) ||
                (ai == 26 && v <= UINT16_MAX) || (ai == 27 && v <= UINT32_MAX))
                return VC_EPARSE;
        }
    } else {
        return VC_EPARSE; /* 28-30 reserved, 31 indefinite length / break */
    }
    *ret_major = major;
    *ret_ai = ai;
    *ret_v = v;
    return (int)n;
}

int vc_cbor_peek_major(const vc_cbor_reader_t *r, unsigned *ret_major)
{
    if (r->pos >= r->len)
        return VC_ETRUNC;
    *ret_major = r->p[r->pos] >> 5;
    return 0;
}

bool vc_cbor_peek_null(const vc_cbor_reader_t *r)
{
    return r->pos < r->len && r->p[r->pos] == 0xf6;
}

/* Reads a head of the wanted major type and consumes it. */
static int take_head(vc_cbor_reader_t *r, unsigned want, uint64_t *ret_v)
{
    unsigned major, ai;
    uint64_t v;
    int n = read_head(r, &major, &ai, &v);
    if (n < 0)
        return n;
    if (major != want)
        return VC_ETYPE;
    r->pos += (size_t)n;
    *ret_v = v;
    return 0;
}

int vc_cbor_read_uint(vc_cbor_reader_t *r, uint64_t *ret)
{
    return take_head(r, VC_CBOR_UINT, ret);
}

int vc_cbor_read_int(vc_cbor_reader_t *r, int64_t *ret)
{
    unsigned major, ai;
    uint64_t v;
    int n = read_head(r, &major, &ai, &v);
    if (n < 0)
        return n;
    if (major != VC_CBOR_UINT && major != VC_CBOR_NEGINT)
        return VC_ETYPE;
    if (v > INT64_MAX)
        return -ERANGE;
    r->pos += (size_t)n;
    *ret = major == VC_CBOR_UINT ? (int64_t)v : -1 - (int64_t)v;
    return 0;
}

static bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* Overlongs, surrogates, beyond U+10FFFF. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += n + 1;
    }
    return true;
}

static int read_string(vc_cbor_reader_t *r, unsigned major, const uint8_t **ret, size_t *ret_len)
{
    unsigned m, ai;
    uint64_t v;
    int n = read_head(r, &m, &ai, &v);
    if (n < 0)
        return n;
    if (m != major)
        return VC_ETYPE;
    if (v > r->len - r->pos - (size_t)n)
        return VC_ETRUNC;
    const uint8_t *data = r->p + r->pos + n;
    if (major == VC_CBOR_TEXT && !utf8_valid(data, (size_t)v))
        return VC_EPARSE;
    r->pos += (size_t)n + (size_t)v;
    *ret = data;
    *ret_len = (size_t)v;
    return 0;
}

int vc_cbor_read_bytes(vc_cbor_reader_t *r, const uint8_t **ret, size_t *ret_len)
{
    return read_string(r, VC_CBOR_BYTES, ret, ret_len);
}

int vc_cbor_read_text(vc_cbor_reader_t *r, const char **ret, size_t *ret_len)
{
    const uint8_t *p;
    size_t n;
    int rr = read_string(r, VC_CBOR_TEXT, &p, &n);
    if (rr < 0)
        return rr;
    *ret = (const char *)p;
    *ret_len = n;
    return 0;
}

static int read_container(vc_cbor_reader_t *r, unsigned major, uint64_t per_item,
                          uint64_t *ret_count)
{
    unsigned m, ai;
    uint64_t v;
    int n = read_head(r, &m, &ai, &v);
    if (n < 0)
        return n;
    if (m != major)
        return VC_ETYPE;
    uint64_t left = r->len - r->pos - (size_t)n;
    if (v > left / per_item)
        return VC_ETRUNC;
    r->pos += (size_t)n;
    *ret_count = v;
    return 0;
}

int vc_cbor_read_array(vc_cbor_reader_t *r, uint64_t *ret_count)
{
    return read_container(r, VC_CBOR_ARRAY, 1, ret_count);
}

int vc_cbor_read_map(vc_cbor_reader_t *r, uint64_t *ret_count)
{
    return read_container(r, VC_CBOR_MAP, 2, ret_count);
}

int vc_cbor_read_bool(vc_cbor_reader_t *r, bool *ret)
{
    if (r->pos >= r->len)
        return VC_ETRUNC;
    uint8_t c = r->p[r->pos];
    if (c != 0xf4 && c != 0xf5)
        return VC_ETYPE;
    r->pos++;
    *ret = c == 0xf5;
    return 0;
}

int vc_cbor_read_null(vc_cbor_reader_t *r)
{
    if (r->pos >= r->len)
        return VC_ETRUNC;
    if (r->p[r->pos] != 0xf6)
        return VC_ETYPE;
    r->pos++;
    return 0;
}

int vc_cbor_read_cid(vc_cbor_reader_t *r, vc_cid_t *ret)
{
    vc_cbor_reader_t t = *r;
    const uint8_t *p;
    size_t n;
    uint64_t tag;
    vc_cid_t c;
    int rr;

    if ((rr = take_head(&t, VC_CBOR_TAG, &tag)) < 0)
        return rr;
    if (tag != VC_CBOR_TAG_CID)
        return VC_EPARSE;
    if ((rr = vc_cbor_read_bytes(&t, &p, &n)) < 0)
        return rr == VC_ETYPE ? VC_EPARSE : rr;
    if (n < 1 || p[0] != 0x00)
        return VC_EPARSE;
    rr = vc_cid_from_bytes(p + 1, n - 1, &c);
    if (rr < 0)
        return rr == VC_ETRUNC ? VC_EPARSE : rr;
    *r = t;
    *ret = c;
    return 0;
}

int vc_cbor_read_bigint(vc_cbor_reader_t *r, vc_bigint_t *ret)
{
    vc_cbor_reader_t t = *r;
    const uint8_t *p;
    size_t n;
    vc_bigint_t v;
    int rr;

    if ((rr = vc_cbor_read_bytes(&t, &p, &n)) < 0)
        return rr;
    if ((rr = vc_bigint_from_bytes(p, n, &v)) < 0)
        return rr;
    *r = t;
    *ret = v;
    return 0;
}

int vc_cbor_read_address(vc_cbor_reader_t *r, vc_address_t *ret)
{
    vc_cbor_reader_t t = *r;
    const uint8_t *p;
    size_t n;
    vc_address_t a;
    int rr;

    if ((rr = vc_cbor_read_bytes(&t, &p, &n)) < 0)
        return rr;
    if (n > 64)
        return VC_ETOOBIG;
    if ((rr = vc_address_from_bytes(p, n, &a)) < 0)
        return rr;
    *r = t;
    *ret = a;
    return 0;
}

static int skip(vc_cbor_reader_t *r, unsigned depth)
{
    unsigned major, ai;
    uint64_t v;
    int rr;

    if (depth > r->max_depth)
        return VC_EDEPTH;
    int n = read_head(r, &major, &ai, &v);
    if (n < 0)
        return n;
    switch (major) {
    case VC_CBOR_UINT:
    case VC_CBOR_NEGINT:
        r->pos += (size_t)n;
        return 0;
    case VC_CBOR_BYTES:
    case VC_CBOR_TEXT: {
        const uint8_t *p;
        size_t len;
        return read_string(r, major, &p, &len);
    }
    case VC_CBOR_ARRAY:
    case VC_CBOR_MAP: {
        uint64_t count;
        if ((rr = read_container(r, major, major == VC_CBOR_MAP ? 2 : 1, &count)) < 0)
            return rr;
        if (major == VC_CBOR_MAP)
            count *= 2;
        for (uint64_t i = 0; i < count; i++)
            if ((rr = skip(r, depth + 1)) < 0)
                return rr;
        return 0;
    }
    case VC_CBOR_TAG: {
        vc_cid_t c;
        return vc_cbor_read_cid(r, &c);
    }
    default:
        if (ai >= 20 && ai <= 22) {
            r->pos++;
            return 0;
        }
        return VC_EPARSE;
    }
}

int vc_cbor_skip(vc_cbor_reader_t *r)
{
    size_t start = r->pos;
    int rr = skip(r, 0);
    if (rr < 0)
        r->pos = start; /* keep the "unchanged on error" promise */
    return rr;
}
