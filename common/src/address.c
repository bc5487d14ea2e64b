/* address.c: Filecoin address parsing and encoding. */
#include "vc/address.h"
#include "vc/base32.h"
#include "vc/blake2b.h"
#include "vc/util.h"
#include "vc/varint.h"

#include <inttypes.h>
#include <stdio.h>

#define MAX_ADDRESS_STRING 115
#define MAX_INT64_DIGITS 19

static void checksum(const uint8_t *bytes, size_t len, uint8_t out[VC_ADDRESS_CHECKSUM_LEN])
{
    (void)vc_blake2b(bytes, len, out, VC_ADDRESS_CHECKSUM_LEN);
}

/* Validates a byte form; on success copies it into ret. */
int vc_address_from_bytes(const uint8_t *b, size_t len, vc_address_t *ret)
{
    uint64_t v;
    int n;

    if (!b || len < 2 || len > VC_ADDRESS_BYTES_MAX)
        return VC_EPARSE;
    const uint8_t *payload = b + 1;
    size_t plen = len - 1;
    switch (b[0]) {
    case VC_ADDR_ID:
        n = vc_uvarint_decode(payload, plen, &v);
        if (n < 0)
            return n == -ERANGE ? -ERANGE : VC_EPARSE;
        if ((size_t)n != plen)
            return VC_EPARSE;
        if (v > INT64_MAX)
            return -ERANGE;
        break;
    case VC_ADDR_SECP256K1:
    case VC_ADDR_ACTOR:
        if (plen != VC_ADDRESS_PAYLOAD_HASH_LEN)
            return VC_EPARSE;
        break;
    case VC_ADDR_BLS:
        if (plen != VC_ADDRESS_BLS_PUBKEY_LEN)
            return VC_EPARSE;
        break;
    case VC_ADDR_DELEGATED:
        n = vc_uvarint_decode(payload, plen, &v);
        if (n < 0)
            return n == -ERANGE ? -ERANGE : VC_EPARSE;
        if (v > INT64_MAX)
            return -ERANGE;
        if (plen - (size_t)n > VC_ADDRESS_SUBADDRESS_MAX)
            return VC_EPARSE;
        break;
    default:
        return VC_EPARSE;
    }
    memset(ret, 0, sizeof(*ret));
    ret->len = (uint8_t)len;
    memcpy(ret->bytes, b, len);
    return 0;
}

/* Strict decimal for IDs/namespaces: 1..19 digits, value <= INT64_MAX. Leading zeros allowed
 * (go-address uses strconv.ParseUint, which accepts them). */
static int parse_decimal(const char *s, size_t len, uint64_t *ret)
{
    uint64_t v = 0;

    if (len == 0)
        return VC_EPARSE;
    if (len > MAX_INT64_DIGITS) {
        for (size_t i = 0; i < len; i++)
            if (s[i] < '0' || s[i] > '9')
                return VC_EPARSE;
        return -ERANGE;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return VC_EPARSE;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits fit in uint64 */
    }
    if (v > INT64_MAX)
        return -ERANGE;
    *ret = v;
    return 0;
}

int vc_address_parse(const char *s, size_t len, vc_address_t *ret, char *ret_network)
{
    uint8_t raw[VC_ADDRESS_BYTES_MAX + VC_ADDRESS_CHECKSUM_LEN];
    uint8_t buf[VC_ADDRESS_BYTES_MAX + VC_ADDRESS_CHECKSUM_LEN];
    uint8_t cks[VC_ADDRESS_CHECKSUM_LEN];
    vc_address_t a;
    uint64_t v;
    size_t hdr = 1, b32_off = 2;
    int r, n;

    if (!s || len < 3)
        return VC_EPARSE;
    if (len > MAX_ADDRESS_STRING)
        return VC_ETOOBIG;
    if (s[0] != 'f' && s[0] != 't')
        return VC_EPARSE;
    if (s[1] < '0' || s[1] > '4')
        return VC_EPARSE;
    uint8_t proto = (uint8_t)(s[1] - '0');
    buf[0] = proto;

    if (proto == VC_ADDR_ID) {
        r = parse_decimal(s + 2, len - 2, &v);
        if (r < 0)
            return r;
        r = vc_address_new_id(v, &a);
        if (r < 0)
            return r;
        goto done;
    }
    if (proto == VC_ADDR_DELEGATED) {
        const char *f = memchr(s + 2, 'f', len - 2);
        if (!f)
            return VC_EPARSE;
        r = parse_decimal(s + 2, (size_t)(f - s) - 2, &v);
        if (r < 0)
            return r;
        hdr += vc_uvarint_encode(v, buf + 1);
        b32_off = (size_t)(f - s) + 1;
    }

    r = vc_base32_decode(s + b32_off, len - b32_off, raw, sizeof(raw));
    if (r == -ENOBUFS)
        return VC_EPARSE;
    if (r < 0)
        return r;
    n = r;
    if (n < VC_ADDRESS_CHECKSUM_LEN)
        return VC_EPARSE;
    size_t plen = (size_t)n - VC_ADDRESS_CHECKSUM_LEN;
    if (hdr + plen > VC_ADDRESS_BYTES_MAX)
        return VC_EPARSE;
    memcpy(buf + hdr, raw, plen);
    /* Lengths first (go-address reports a bad length before a bad checksum). */
    r = vc_address_from_bytes(buf, hdr + plen, &a);
    if (r < 0)
        return r;
    checksum(buf, hdr + plen, cks);
    if (memcmp(cks, raw + plen, VC_ADDRESS_CHECKSUM_LEN) != 0)
        return VC_ECHECKSUM;
done:
    *ret = a;
    if (ret_network)
        *ret_network = s[0];
    return 0;
}

int vc_address_from_string(const char *s, vc_address_t *ret)
{
    if (!s)
        return VC_EPARSE;
    return vc_address_parse(s, strlen(s), ret, NULL);
}

int vc_address_to_string(const vc_address_t *a, char network, char out[VC_ADDRESS_STRLEN_MAX])
{
    uint8_t raw[VC_ADDRESS_BYTES_MAX + VC_ADDRESS_CHECKSUM_LEN];
    vc_address_t chk;
    uint64_t v;
    size_t o = 2, hdr = 1;
    int n;

    if (!a || (network != 'f' && network != 't'))
        return -EINVAL;
    /* Re-validate: a caller may have filled the struct by hand. */
    if (vc_address_from_bytes(a->bytes, a->len, &chk) < 0)
        return -EINVAL;
    out[0] = network;
    out[1] = (char)('0' + a->bytes[0]);
    switch (a->bytes[0]) {
    case VC_ADDR_ID:
        (void)vc_uvarint_decode(a->bytes + 1, a->len - 1u, &v);
        n = snprintf(out + 2, VC_ADDRESS_STRLEN_MAX - 2, "%" PRIu64, v);
        return n + 2;
    case VC_ADDR_DELEGATED:
        n = vc_uvarint_decode(a->bytes + 1, a->len - 1u, &v);
        hdr += (size_t)n;
        o += (size_t)snprintf(out + 2, VC_ADDRESS_STRLEN_MAX - 2, "%" PRIu64 "f", v);
        break;
    default:
        break;
    }
    size_t plen = a->len - hdr;
    memcpy(raw, a->bytes + hdr, plen);
    checksum(a->bytes, a->len, raw + plen);
    o += vc_base32_encode(raw, plen + VC_ADDRESS_CHECKSUM_LEN, out + o);
    return (int)o;
}

int vc_address_new_id(uint64_t id, vc_address_t *ret)
{
    if (id > INT64_MAX)
        return -ERANGE;
    memset(ret, 0, sizeof(*ret));
    ret->bytes[0] = VC_ADDR_ID;
    ret->len = (uint8_t)(1 + vc_uvarint_encode(id, ret->bytes + 1));
    return 0;
}

static int new_hashed(uint8_t proto, const uint8_t *data, size_t len, vc_address_t *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->bytes[0] = proto;
    vc_blake2b_160(data, len, ret->bytes + 1);
    ret->len = 1 + VC_ADDRESS_PAYLOAD_HASH_LEN;
    return 0;
}

int vc_address_new_secp256k1(const uint8_t *pubkey, size_t len, vc_address_t *ret)
{
    if (!pubkey || len != 65 || pubkey[0] != 0x04)
        return -EINVAL;
    return new_hashed(VC_ADDR_SECP256K1, pubkey, len, ret);
}

int vc_address_new_actor(const uint8_t *data, size_t len, vc_address_t *ret)
{
    if (!data && len > 0)
        return -EINVAL;
    return new_hashed(VC_ADDR_ACTOR, data, len, ret);
}

int vc_address_new_bls(const uint8_t *pubkey, size_t len, vc_address_t *ret)
{
    if (!pubkey || len != VC_ADDRESS_BLS_PUBKEY_LEN)
        return -EINVAL;
    memset(ret, 0, sizeof(*ret));
    ret->bytes[0] = VC_ADDR_BLS;
    memcpy(ret->bytes + 1, pubkey, len);
    ret->len = (uint8_t)(1 + len);
    return 0;
}

int vc_address_new_delegated(uint64_t ns, const uint8_t *sub, size_t sublen, vc_address_t *ret)
{
    if (ns > INT64_MAX)
        return -ERANGE;
    if (sublen > VC_ADDRESS_SUBADDRESS_MAX || (!sub && sublen > 0))
        return -EINVAL;
    memset(ret, 0, sizeof(*ret));
    ret->bytes[0] = VC_ADDR_DELEGATED;
    size_t n = vc_uvarint_encode(ns, ret->bytes + 1);
    if (sublen)
        memcpy(ret->bytes + 1 + n, sub, sublen);
    ret->len = (uint8_t)(1 + n + sublen);
    return 0;
}

int vc_address_id(const vc_address_t *a, uint64_t *ret)
{
    uint64_t v;
    if (a->len < 2 || a->bytes[0] != VC_ADDR_ID)
        return -EINVAL;
    int n = vc_uvarint_decode(a->bytes + 1, a->len - 1u, &v);
    if (n < 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

int vc_address_delegated(const vc_address_t *a, uint64_t *ret_ns, const uint8_t **ret_sub,
                         size_t *ret_sublen)
{
    uint64_t v;
    if (a->len < 2 || a->bytes[0] != VC_ADDR_DELEGATED)
        return -EINVAL;
    int n = vc_uvarint_decode(a->bytes + 1, a->len - 1u, &v);
    if (n < 0)
        return -EINVAL;
    *ret_ns = v;
    *ret_sub = a->bytes + 1 + n;
    *ret_sublen = a->len - 1u - (size_t)n;
    return 0;
}

bool vc_address_equal(const vc_address_t *a, const vc_address_t *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

int vc_address_compare(const vc_address_t *a, const vc_address_t *b)
{
    size_t n = VC_MIN(a->len, b->len);
    int c = memcmp(a->bytes, b->bytes, n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}
