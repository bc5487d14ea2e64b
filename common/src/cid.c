/* cid.c: binary and string CIDv1. */
#include "vc/cid.h"
#include "vc/base32.h"
#include "vc/blake2b.h"
#include "vc/util.h"
#include "vc/varint.h"

int vc_cid_new(uint64_t codec, uint64_t mh_code, const uint8_t *digest, size_t len,
               vc_cid_t *ret)
{
    vc_cid_t c = {0};
    size_t n = 0;

    if (len > VC_CID_DIGEST_MAX || codec > INT64_MAX || mh_code > INT64_MAX ||
        (!digest && len > 0))
        return -EINVAL;
    n += vc_uvarint_encode(1, c.bytes + n);
    n += vc_uvarint_encode(codec, c.bytes + n);
    n += vc_uvarint_encode(mh_code, c.bytes + n);
    n += vc_uvarint_encode(len, c.bytes + n);
    if (len)
        memcpy(c.bytes + n, digest, len);
    c.len = (uint8_t)(n + len);
    *ret = c;
    return 0;
}

void vc_cid_sum_dagcbor(const void *data, size_t len, vc_cid_t *ret)
{
    uint8_t h[32];
    vc_blake2b_256(data, len, h);
    (void)vc_cid_new(VC_CID_CODEC_DAG_CBOR, VC_MH_BLAKE2B_256, h, sizeof(h), ret);
}

/* Parses the header fields; returns bytes used or an error. */
static int parse(const uint8_t *b, size_t len, vc_cid_info_t *info)
{
    uint64_t v[4];
    size_t pos = 0;

    if (len >= 2 && b[0] == 0x12 && b[1] == 0x20)
        return -EOPNOTSUPP; /* CIDv0: a bare sha2-256 multihash */
    for (int i = 0; i < 4; i++) {
        int n = vc_uvarint_decode(b + pos, len - pos, &v[i]);
        if (n < 0)
            return n == -ERANGE ? VC_EPARSE : n;
        pos += (size_t)n;
        if (i == 0 && v[0] != 1)
            return -EOPNOTSUPP;
    }
    if (v[3] > VC_CID_DIGEST_MAX)
        return VC_ETOOBIG;
    if (v[3] > len - pos)
        return VC_ETRUNC;
    info->version = v[0];
    info->codec = v[1];
    info->mh_code = v[2];
    info->digest = b + pos;
    info->digest_len = (size_t)v[3];
    return (int)(pos + v[3]);
}

int vc_cid_read(const uint8_t *b, size_t len, vc_cid_t *ret, size_t *ret_used)
{
    vc_cid_info_t info;
    if (!b)
        return VC_ETRUNC;
    int n = parse(b, len, &info);
    if (n < 0)
        return n;
    if ((size_t)n > VC_CID_BYTES_MAX)
        return VC_ETOOBIG;
    vc_cid_t c = {0};
    memcpy(c.bytes, b, (size_t)n);
    c.len = (uint8_t)n;
    *ret = c;
    if (ret_used)
        *ret_used = (size_t)n;
    return 0;
}

int vc_cid_from_bytes(const uint8_t *b, size_t len, vc_cid_t *ret)
{
    vc_cid_t c;
    size_t used;
    int r = vc_cid_read(b, len, &c, &used);
    if (r < 0)
        return r;
    if (used != len)
        return VC_EPARSE;
    *ret = c;
    return 0;
}

int vc_cid_info(const vc_cid_t *c, vc_cid_info_t *ret)
{
    vc_cid_info_t info;
    int n = parse(c->bytes, c->len, &info);
    if (n < 0)
        return n;
    if ((size_t)n != c->len)
        return VC_EPARSE;
    *ret = info;
    return 0;
}

int vc_cid_parse(const char *s, size_t len, vc_cid_t *ret)
{
    uint8_t buf[VC_CID_BYTES_MAX];

    if (!s || len == 0)
        return VC_EPARSE;
    if (len == 46 && s[0] == 'Q' && s[1] == 'm')
        return -EOPNOTSUPP;
    if (s[0] != 'b')
        return len > 0 && s[0] == 'z' ? -EOPNOTSUPP : VC_EPARSE;
    if (len - 1 > VC_CID_STRLEN_MAX)
        return VC_ETOOBIG;
    int n = vc_base32_decode(s + 1, len - 1, buf, sizeof(buf));
    if (n == -ENOBUFS)
        return VC_ETOOBIG;
    if (n < 0)
        return n;
    return vc_cid_from_bytes(buf, (size_t)n, ret);
}

int vc_cid_from_string(const char *s, vc_cid_t *ret)
{
    if (!s)
        return VC_EPARSE;
    return vc_cid_parse(s, strlen(s), ret);
}

int vc_cid_to_string(const vc_cid_t *c, char out[VC_CID_STRLEN_MAX])
{
    if (!c || c->len == 0 || c->len > VC_CID_BYTES_MAX)
        return -EINVAL;
    out[0] = 'b';
    return (int)(1 + vc_base32_encode(c->bytes, c->len, out + 1));
}

bool vc_cid_equal(const vc_cid_t *a, const vc_cid_t *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

int vc_cid_compare(const vc_cid_t *a, const vc_cid_t *b)
{
    int c = memcmp(a->bytes, b->bytes, VC_MIN(a->len, b->len));
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

json_t *vc_cid_to_json(const vc_cid_t *c)
{
    char s[VC_CID_STRLEN_MAX];
    if (vc_cid_to_string(c, s) < 0)
        return NULL;
    return json_pack("{s:s}", "/", s);
}

int vc_cid_from_json(const json_t *j, vc_cid_t *ret)
{
    if (!json_is_object(j) || json_object_size(j) != 1)
        return VC_ETYPE;
    const json_t *s = json_object_get(j, "/");
    if (!json_is_string(s))
        return VC_ETYPE;
    return vc_cid_parse(json_string_value(s), json_string_length(s), ret);
}
