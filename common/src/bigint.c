/* bigint.c: fixed-capacity signed big integers (see bigint.h). */
#include "vc/bigint.h"
#include "vc/util.h"

#define WIDE_LIMBS (2 * VC_BIGINT_LIMBS + 1)

/* ---- magnitude helpers on limb arrays (little-endian, explicit lengths) ---- */

static size_t mag_norm(const uint32_t *a, size_t n)
{
    while (n > 0 && a[n - 1] == 0)
        n--;
    return n;
}

static int mag_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
    if (an != bn)
        return an < bn ? -1 : 1;
    for (size_t i = an; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* out (capacity max(an,bn)+1) = a + b; returns the normalised length. */
static size_t mag_add(const uint32_t *a, size_t an, const uint32_t *b, size_t bn, uint32_t *out)
{
    size_t n = VC_MAX(an, bn);
    uint64_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = carry;
        if (i < an)
            s += a[i];
        if (i < bn)
            s += b[i];
        out[i] = (uint32_t)s;
        carry = s >> 32;
    }
    out[n] = (uint32_t)carry;
    return mag_norm(out, n + 1);
}

/* out = a - b, requires a >= b; out may alias a. */
static size_t mag_sub(const uint32_t *a, size_t an, const uint32_t *b, size_t bn, uint32_t *out)
{
    int64_t borrow = 0;
    for (size_t i = 0; i < an; i++) {
        int64_t s = (int64_t)a[i] - borrow - (i < bn ? (int64_t)b[i] : 0);
        borrow = s < 0;
        out[i] = (uint32_t)(s + (borrow ? ((int64_t)1 << 32) : 0));
    }
    return mag_norm(out, an);
}

/* out (capacity an+bn, must not alias) = a * b. */
static size_t mag_mul(const uint32_t *a, size_t an, const uint32_t *b, size_t bn, uint32_t *out)
{
    memset(out, 0, (an + bn) * sizeof(uint32_t));
    for (size_t i = 0; i < an; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < bn; j++) {
            uint64_t t = (uint64_t)a[i] * b[j] + out[i + j] + carry;
            out[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
        out[i + bn] = (uint32_t)carry;
    }
    return mag_norm(out, an + bn);
}

static size_t mag_bitlen(const uint32_t *a, size_t n)
{
    if (n == 0)
        return 0;
    uint32_t top = a[n - 1];
    size_t bits = 0;
    while (top) {
        bits++;
        top >>= 1;
    }
    return (n - 1) * 32 + bits;
}

/* q (capacity an) = a / b, r (capacity bn) = a % b; b non-zero. Shift-subtract long division,
 * with a fast path for one-limb divisors. q and r must not alias inputs. */
static void mag_divmod(const uint32_t *a, size_t an, const uint32_t *b, size_t bn, uint32_t *q,
                       size_t *qn, uint32_t *r, size_t *rn)
{
    if (an)
        memset(q, 0, an * sizeof(uint32_t));
    if (bn == 1) {
        uint64_t rem = 0;
        for (size_t i = an; i-- > 0;) {
            uint64_t cur = (rem << 32) | a[i];
            q[i] = (uint32_t)(cur / b[0]);
            rem = cur % b[0];
        }
        *qn = mag_norm(q, an);
        r[0] = (uint32_t)rem;
        *rn = mag_norm(r, 1);
        return;
    }
    uint32_t acc[WIDE_LIMBS + 1] = {0};
    size_t accn = 0;
    for (size_t bit = mag_bitlen(a, an); bit-- > 0;) {
        /* acc = acc << 1 | bit */
        uint32_t carry = (a[bit / 32] >> (bit % 32)) & 1;
        for (size_t i = 0; i < accn; i++) {
            uint32_t nc = acc[i] >> 31;
            acc[i] = (acc[i] << 1) | carry;
            carry = nc;
        }
        if (carry)
            acc[accn++] = carry;
        if (mag_cmp(acc, accn, b, bn) >= 0) {
            accn = mag_sub(acc, accn, b, bn, acc);
            q[bit / 32] |= 1u << (bit % 32);
        }
    }
    *qn = mag_norm(q, an);
    memset(r, 0, bn * sizeof(uint32_t));
    memcpy(r, acc, accn * sizeof(uint32_t));
    *rn = accn;
}

/* Stores a magnitude into ret if it fits. */
static int store(const uint32_t *m, size_t n, bool neg, vc_bigint_t *ret)
{
    n = mag_norm(m, n);
    if (n > VC_BIGINT_LIMBS)
        return -ERANGE;
    vc_bigint_t t = VC_BIGINT_ZERO;
    memcpy(t.d, m, n * sizeof(uint32_t));
    t.n = (uint32_t)n;
    t.neg = n > 0 && neg;
    *ret = t;
    return 0;
}

/* ---- conversions ---- */

void vc_bigint_from_u64(uint64_t v, vc_bigint_t *ret)
{
    uint32_t m[2] = {(uint32_t)v, (uint32_t)(v >> 32)};
    (void)store(m, 2, false, ret);
}

void vc_bigint_from_i64(int64_t v, vc_bigint_t *ret)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint32_t m[2] = {(uint32_t)mag, (uint32_t)(mag >> 32)};
    (void)store(m, 2, v < 0, ret);
}

static bool mag_u64(const vc_bigint_t *a, uint64_t *ret)
{
    if (a->n > 2)
        return false;
    uint64_t v = 0;
    if (a->n > 1)
        v = (uint64_t)a->d[1] << 32;
    if (a->n > 0)
        v |= a->d[0];
    *ret = v;
    return true;
}

int vc_bigint_to_u64(const vc_bigint_t *a, uint64_t *ret)
{
    uint64_t v;
    if (a->neg || !mag_u64(a, &v))
        return -ERANGE;
    *ret = v;
    return 0;
}

int vc_bigint_to_i64(const vc_bigint_t *a, int64_t *ret)
{
    uint64_t v;
    if (!mag_u64(a, &v))
        return -ERANGE;
    if (a->neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > INT64_MAX)
            return -ERANGE;
        *ret = (int64_t)v;
    }
    return 0;
}

int vc_bigint_parse(const char *s, size_t len, vc_bigint_t *ret)
{
    uint32_t m[VC_BIGINT_LIMBS + 1] = {0};
    size_t n = 0;
    bool neg = false;

    if (!s)
        return VC_EPARSE;
    if (len > 0 && s[0] == '-') {
        neg = true;
        s++;
        len--;
    }
    if (len == 0)
        return VC_EPARSE;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return VC_EPARSE;
    for (size_t i = 0; i < len; i++) {
        uint64_t carry = (uint64_t)(s[i] - '0');
        for (size_t j = 0; j < n; j++) {
            uint64_t t = (uint64_t)m[j] * 10 + carry;
            m[j] = (uint32_t)t;
            carry = t >> 32;
        }
        if (carry) {
            if (n == VC_BIGINT_LIMBS)
                return -ERANGE;
            m[n++] = (uint32_t)carry;
        }
    }
    return store(m, n, neg, ret);
}

int vc_bigint_from_string(const char *s, vc_bigint_t *ret)
{
    if (!s)
        return VC_EPARSE;
    return vc_bigint_parse(s, strlen(s), ret);
}

int vc_bigint_to_string(const vc_bigint_t *a, char *out, size_t outlen)
{
    char tmp[VC_BIGINT_STRLEN_MAX];
    uint32_t m[VC_BIGINT_LIMBS], q[VC_BIGINT_LIMBS], r[1];
    const uint32_t billion = 1000000000u;
    size_t n = a->n, qn, rn, pos = sizeof(tmp);

    memcpy(m, a->d, n * sizeof(uint32_t));
    tmp[--pos] = '\0';
    if (n == 0)
        tmp[--pos] = '0';
    while (n > 0) {
        mag_divmod(m, n, &billion, 1, q, &qn, r, &rn);
        uint32_t chunk = rn ? r[0] : 0;
        for (int i = 0; i < 9 && (qn > 0 || chunk > 0); i++) {
            tmp[--pos] = (char)('0' + chunk % 10);
            chunk /= 10;
        }
        memcpy(m, q, qn * sizeof(uint32_t));
        n = qn;
    }
    if (a->neg)
        tmp[--pos] = '-';
    size_t len = sizeof(tmp) - 1 - pos;
    if (len + 1 > outlen)
        return -ENOBUFS;
    memcpy(out, tmp + pos, len + 1);
    return (int)len;
}

int vc_bigint_from_be(const uint8_t *b, size_t len, vc_bigint_t *ret)
{
    uint32_t m[VC_BIGINT_LIMBS] = {0};

    while (len > 0 && b[0] == 0) {
        b++;
        len--;
    }
    if (len > VC_BIGINT_LIMBS * 4)
        return -ERANGE;
    for (size_t i = 0; i < len; i++) {
        size_t bit = (len - 1 - i) * 8;
        m[bit / 32] |= (uint32_t)b[i] << (bit % 32);
    }
    return store(m, VC_BIGINT_LIMBS, false, ret);
}

int vc_bigint_to_be(const vc_bigint_t *a, uint8_t *out, size_t outlen)
{
    if (a->neg || (mag_bitlen(a->d, a->n) + 7) / 8 > outlen)
        return -ERANGE;
    for (size_t i = 0; i < outlen; i++) {
        size_t bit = (outlen - 1 - i) * 8;
        out[i] = bit / 32 < a->n ? (uint8_t)(a->d[bit / 32] >> (bit % 32)) : 0;
    }
    return 0;
}

int vc_bigint_from_bytes(const uint8_t *b, size_t len, vc_bigint_t *ret)
{
    vc_bigint_t t;
    int r;

    if (len == 0) {
        *ret = VC_BIGINT_ZERO;
        return 0;
    }
    if (len > VC_BIGINT_BYTES_MAX)
        return VC_ETOOBIG;
    if (b[0] > 1)
        return VC_EPARSE;
    r = vc_bigint_from_be(b + 1, len - 1, &t);
    if (r < 0)
        return r;
    t.neg = b[0] == 1 && t.n > 0;
    *ret = t;
    return 0;
}

int vc_bigint_to_bytes(const vc_bigint_t *a, uint8_t out[VC_BIGINT_BYTES_MAX])
{
    if (a->n == 0)
        return 0;
    size_t mlen = (mag_bitlen(a->d, a->n) + 7) / 8;
    if (1 + mlen > VC_BIGINT_BYTES_MAX)
        return -ERANGE;
    vc_bigint_t mag = *a;
    mag.neg = false;
    out[0] = a->neg ? 1 : 0;
    (void)vc_bigint_to_be(&mag, out + 1, mlen);
    return (int)(1 + mlen);
}

/* ---- arithmetic ---- */

static int add_signed(const vc_bigint_t *a, const vc_bigint_t *b, bool bneg, vc_bigint_t *ret)
{
    uint32_t out[VC_BIGINT_LIMBS + 1];
    size_t n;

    if (a->neg == bneg) {
        n = mag_add(a->d, a->n, b->d, b->n, out);
        return store(out, n, a->neg, ret);
    }
    int c = mag_cmp(a->d, a->n, b->d, b->n);
    if (c >= 0) {
        n = mag_sub(a->d, a->n, b->d, b->n, out);
        return store(out, n, a->neg, ret);
    }
    n = mag_sub(b->d, b->n, a->d, a->n, out);
    return store(out, n, bneg, ret);
}

int vc_bigint_add(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret)
{
    return add_signed(a, b, b->neg, ret);
}

int vc_bigint_sub(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret)
{
    return add_signed(a, b, b->n > 0 && !b->neg, ret);
}

int vc_bigint_mul(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret)
{
    uint32_t out[2 * VC_BIGINT_LIMBS];
    size_t n = mag_mul(a->d, a->n, b->d, b->n, out);
    return store(out, n, a->neg != b->neg, ret);
}

int vc_bigint_divmod(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret_q,
                     vc_bigint_t *ret_r)
{
    uint32_t q[VC_BIGINT_LIMBS + 1], r[VC_BIGINT_LIMBS + 1];
    size_t qn, rn;
    vc_bigint_t tq, tr;

    if (b->n == 0)
        return -EDOM;
    mag_divmod(a->d, a->n, b->d, b->n, q, &qn, r, &rn);
    (void)store(q, qn, a->neg != b->neg, &tq);
    (void)store(r, rn, a->neg, &tr);
    if (ret_q)
        *ret_q = tq;
    if (ret_r)
        *ret_r = tr;
    return 0;
}

int vc_bigint_div(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret)
{
    return vc_bigint_divmod(a, b, ret, NULL);
}

int vc_bigint_mod(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret)
{
    return vc_bigint_divmod(a, b, NULL, ret);
}

int vc_bigint_mul_ratio(const vc_bigint_t *a, const vc_bigint_t *num, const vc_bigint_t *den,
                        vc_bigint_t *ret)
{
    uint32_t prod[2 * VC_BIGINT_LIMBS], q[2 * VC_BIGINT_LIMBS], r[VC_BIGINT_LIMBS];
    size_t pn, qn, rn;

    if (den->n == 0)
        return -EDOM;
    pn = mag_mul(a->d, a->n, num->d, num->n, prod);
    mag_divmod(prod, pn, den->d, den->n, q, &qn, r, &rn);
    return store(q, qn, (a->neg != num->neg) != den->neg, ret);
}

int vc_bigint_shl(const vc_bigint_t *a, unsigned bits, vc_bigint_t *ret)
{
    uint32_t out[VC_BIGINT_LIMBS + 1] = {0};

    if (a->n == 0) {
        *ret = VC_BIGINT_ZERO;
        return 0;
    }
    if (bits > VC_BIGINT_MAX_BITS || mag_bitlen(a->d, a->n) + bits > VC_BIGINT_MAX_BITS)
        return -ERANGE;
    size_t limbs = bits / 32, sh = bits % 32;
    for (size_t i = 0; i < a->n; i++) {
        out[i + limbs] |= a->d[i] << sh;
        if (sh)
            out[i + limbs + 1] |= a->d[i] >> (32 - sh);
    }
    return store(out, VC_BIGINT_LIMBS + 1, a->neg, ret);
}

static void mag_shr(const vc_bigint_t *a, unsigned bits, uint32_t *out, size_t *outn)
{
    size_t limbs = bits / 32, sh = bits % 32, n = 0;
    if (limbs < a->n) {
        n = a->n - limbs;
        for (size_t i = 0; i < n; i++) {
            uint32_t lo = a->d[i + limbs] >> sh;
            uint32_t hi = (sh && i + limbs + 1 < a->n) ? a->d[i + limbs + 1] << (32 - sh) : 0;
            out[i] = lo | hi;
        }
    }
    *outn = mag_norm(out, n);
}

int vc_bigint_shr(const vc_bigint_t *a, unsigned bits, vc_bigint_t *ret)
{
    uint32_t out[VC_BIGINT_LIMBS];
    size_t n;

    if (!a->neg) {
        mag_shr(a, bits, out, &n);
        return store(out, n, false, ret);
    }
    /* floor(-m / 2^k) = -((m - 1) >> k) - 1 */
    vc_bigint_t m = *a, one, t;
    m.neg = false;
    vc_bigint_from_u64(1, &one);
    (void)vc_bigint_sub(&m, &one, &m);
    mag_shr(&m, bits, out, &n);
    (void)store(out, n, false, &t);
    (void)vc_bigint_add(&t, &one, &t);
    t.neg = t.n > 0;
    *ret = t;
    return 0;
}

void vc_bigint_neg(const vc_bigint_t *a, vc_bigint_t *ret)
{
    vc_bigint_t t = *a;
    t.neg = t.n > 0 && !a->neg;
    *ret = t;
}

int vc_bigint_sign(const vc_bigint_t *a)
{
    return a->n == 0 ? 0 : a->neg ? -1 : 1;
}

int vc_bigint_cmp(const vc_bigint_t *a, const vc_bigint_t *b)
{
    int sa = vc_bigint_sign(a), sb = vc_bigint_sign(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    int c = mag_cmp(a->d, a->n, b->d, b->n);
    return sa < 0 ? -c : c;
}

unsigned vc_bigint_bitlen(const vc_bigint_t *a)
{
    return (unsigned)mag_bitlen(a->d, a->n);
}
