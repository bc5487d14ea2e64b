/* blake2b.c: BLAKE2b as specified in RFC 7693 (sections 2 and 3), written from the RFC. */
#include "vc/blake2b.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const uint64_t iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static inline uint64_t rotr64(uint64_t x, unsigned n)
{
    return (x >> n) | (x << (64 - n));
}

static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The mixing function G (RFC 7693 section 3.1). */
#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        v[a] = v[a] + v[b] + (x);                                                                  \
        v[d] = rotr64(v[d] ^ v[a], 32);                                                            \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr64(v[b] ^ v[c], 24);                                                            \
        v[a] = v[a] + v[b] + (y);                                                                  \
        v[d] = rotr64(v[d] ^ v[a], 16);                                                            \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr64(v[b] ^ v[c], 63);                                                            \
    } while (0)

/* Compression function F (section 3.2). */
static void compress(vc_blake2b_t *s, const uint8_t block[VC_BLAKE2B_BLOCKBYTES], bool last)
{
    uint64_t m[16], v[16];

    for (int i = 0; i < 16; i++)
        m[i] = load64_le(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = iv[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    if (last)
        v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const uint8_t *sg = sigma[r];
        G(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
        G(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
        G(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
        G(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
        G(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
        G(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
        G(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
        G(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
    }
    for (int i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
}

static void add_counter(vc_blake2b_t *s, uint64_t n)
{
    s->t[0] += n;
    if (s->t[0] < n)
        s->t[1]++;
}

int vc_blake2b_init(vc_blake2b_t *s, size_t outlen)
{
    if (!s || outlen < 1 || outlen > VC_BLAKE2B_OUTBYTES_MAX)
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    memcpy(s->h, iv, sizeof(iv));
    /* Parameter block: digest length, key length 0, fanout 1, depth 1. */
    s->h[0] ^= 0x01010000ULL ^ (uint64_t)outlen;
    s->outlen = outlen;
    return 0;
}

void vc_blake2b_update(vc_blake2b_t *s, const void *in, size_t len)
{
    const uint8_t *p = in;

    while (len > 0) {
        /* Keep the last block buffered: it must be compressed with the final flag. */
        if (s->buflen == VC_BLAKE2B_BLOCKBYTES) {
            add_counter(s, VC_BLAKE2B_BLOCKBYTES);
            compress(s, s->buf, false);
            s->buflen = 0;
        }
        size_t n = VC_BLAKE2B_BLOCKBYTES - s->buflen;
        if (n > len)
            n = len;
        memcpy(s->buf + s->buflen, p, n);
        s->buflen += n;
        p += n;
        len -= n;
    }
}

void vc_blake2b_final(vc_blake2b_t *s, uint8_t *out)
{
    uint8_t full[VC_BLAKE2B_OUTBYTES_MAX];

    add_counter(s, s->buflen);
    memset(s->buf + s->buflen, 0, VC_BLAKE2B_BLOCKBYTES - s->buflen);
    compress(s, s->buf, true);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            full[8 * i + j] = (uint8_t)(s->h[i] >> (8 * j));
    memcpy(out, full, s->outlen);
}

int vc_blake2b(const void *in, size_t len, uint8_t *out, size_t outlen)
{
    vc_blake2b_t s;
    int r = vc_blake2b_init(&s, outlen);
    if (r < 0)
        return r;
    vc_blake2b_update(&s, in, len);
    vc_blake2b_final(&s, out);
    return 0;
}

void vc_blake2b_256(const void *in, size_t len, uint8_t out[32])
{
    (void)vc_blake2b(in, len, out, 32);
}

void vc_blake2b_160(const void *in, size_t len, uint8_t out[20])
{
    (void)vc_blake2b(in, len, out, 20);
}
