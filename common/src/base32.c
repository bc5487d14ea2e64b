/* base32.c: strict lowercase RFC 4648 base32 without padding, and uvarints. */
#include "vc/base32.h"
#include "vc/util.h"
#include "vc/varint.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

size_t vc_base32_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return o;
}

static int b32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int vc_base32_decode(const char *in, size_t len, uint8_t *out, size_t out_cap)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    /* A final group of 1, 3 or 6 characters cannot come from whole bytes. */
    switch (len % 8) {
    case 1:
    case 3:
    case 6:
        return VC_EPARSE;
    default:
        break;
    }
    if (len / 8 * 5 + 4 > (size_t)INT32_MAX)
        return VC_ETOOBIG;
    if ((len * 5) / 8 > out_cap)
        return -ENOBUFS;
    for (size_t i = 0; i < len; i++) {
        int v = b32_value(in[i]);
        if (v < 0)
            return VC_EPARSE;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero padding. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return VC_EPARSE;
    return (int)o;
}

size_t vc_uvarint_encode(uint64_t v, uint8_t out[VC_UVARINT_LEN_MAX])
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

int vc_uvarint_decode(const uint8_t *in, size_t len, uint64_t *ret)
{
    uint64_t v = 0;

    for (size_t i = 0; i < 9; i++) {
        if (i >= len)
            return VC_ETRUNC;
        uint8_t b = in[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return VC_EPARSE; /* trailing zero group: not minimal */
            *ret = v;
            return (int)i + 1;
        }
    }
    return -ERANGE;
}
