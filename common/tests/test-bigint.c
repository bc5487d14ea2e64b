/* Tests for bigint.c: against __int128 for small values, identities for large ones. */
#include "vc-test.h"
#include "vc/bigint.h"
#include "vc/util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_big(vc_bigint_t *x, unsigned max_limbs)
{
    *x = VC_BIGINT_ZERO;
    unsigned n = (unsigned)(rnd() % (max_limbs + 1));
    uint8_t be[VC_BIGINT_LIMBS * 4];
    for (unsigned i = 0; i < n * 4; i++)
        be[i] = (uint8_t)rnd();
    (void)vc_bigint_from_be(be, n * 4, x);
    if (rnd() & 1)
        vc_bigint_neg(x, x);
}

static void test_parse_print(void)
{
    static const char *const good[][2] = {
        {"0", "0"}, {"-0", "0"}, {"007", "7"}, {"-1", "-1"},
        {"18446744073709551616", "18446744073709551616"},
        {"-340282366920938463463374607431768211456", "-340282366920938463463374607431768211456"},
        {"1000000000", "1000000000"}, {"999999999999999999", "999999999999999999"},
    };
    static const char *const bad[] = {"", "-", "+1", " 1", "1 ", "1.0", "0x10", "--1", "1e3"};
    vc_bigint_t x;
    char s[VC_BIGINT_STRLEN_MAX];
    for (size_t i = 0; i < VC_ELEMENTSOF(good); i++) {
        ASSERT_OK(vc_bigint_from_string(good[i][0], &x));
        ASSERT_OK(vc_bigint_to_string(&x, s, sizeof(s)));
        ASSERT_STREQ(s, good[i][1]);
    }
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++)
        ASSERT_EQ(vc_bigint_from_string(bad[i], &x), VC_EPARSE);
    /* 2^1024 - 1 fits, 2^1024 does not */
    vc_bigint_t one, max;
    vc_bigint_from_u64(1, &one);
    ASSERT_OK(vc_bigint_shl(&one, 1023, &max));
    ASSERT_EQ(vc_bigint_shl(&one, 1024, &x), -ERANGE);
    ASSERT_OK(vc_bigint_sub(&max, &one, &x));
    ASSERT_OK(vc_bigint_add(&max, &x, &max)); /* 2^1024 - 1 */
    ASSERT_EQ(vc_bigint_bitlen(&max), 1024);
    ASSERT_EQ(vc_bigint_add(&max, &one, &x), -ERANGE);
    int n = vc_bigint_to_string(&max, s, sizeof(s));
    ASSERT_EQ(n, 309);
    ASSERT_OK(vc_bigint_from_string(s, &x));
    ASSERT_EQ(vc_bigint_cmp(&x, &max), 0);
    s[n] = '0';
    s[n + 1] = 0;
    ASSERT_EQ(vc_bigint_from_string(s, &x), -ERANGE);
    ASSERT_EQ(vc_bigint_to_string(&max, s, 10), -ENOBUFS);
    /* the Filecoin byte form caps at 128 bytes */
    uint8_t b[VC_BIGINT_BYTES_MAX];
    ASSERT_EQ(vc_bigint_to_bytes(&max, b), -ERANGE);
}

static void test_int128(void)
{
    for (int iter = 0; iter < 20000; iter++) {
        int64_t a = (int64_t)rnd() >> (rnd() % 63), b = (int64_t)rnd() >> (rnd() % 63);
        vc_bigint_t x, y, r, q, m;
        __int128 want;
        int64_t got;
        vc_bigint_from_i64(a, &x);
        vc_bigint_from_i64(b, &y);

        ASSERT_OK(vc_bigint_mul(&x, &y, &r));
        want = (__int128)a * b;
        char s[64], w[64];
        ASSERT_OK(vc_bigint_to_string(&r, s, sizeof(s)));
        {
            unsigned __int128 mag = want < 0 ? -(unsigned __int128)want : (unsigned __int128)want;
            char tmp[64];
            int p = 63;
            tmp[p] = 0;
            do {
                tmp[--p] = (char)('0' + (int)(mag % 10));
                mag /= 10;
            } while (mag);
            if (want < 0)
                tmp[--p] = '-';
            strcpy(w, tmp + p);
        }
        ASSERT_STREQ(s, w);
        ASSERT_OK(vc_bigint_add(&x, &y, &r));
        ASSERT_OK(vc_bigint_sub(&r, &y, &r));
        ASSERT_OK(vc_bigint_to_i64(&r, &got));
        ASSERT_TRUE(got == a);
        if (b != 0 && !(a == INT64_MIN && b == -1)) {
            ASSERT_OK(vc_bigint_divmod(&x, &y, &q, &m));
            ASSERT_OK(vc_bigint_to_i64(&q, &got));
            ASSERT_TRUE(got == a / b);
            ASSERT_OK(vc_bigint_to_i64(&m, &got));
            ASSERT_TRUE(got == a % b);
        }
        unsigned sh = (unsigned)(rnd() % 70);
        ASSERT_OK(vc_bigint_shr(&x, sh, &r));
        ASSERT_OK(vc_bigint_to_i64(&r, &got));
        ASSERT_TRUE(got == (sh >= 63 ? (a < 0 ? -1 : 0) : (a >> sh))); /* floor shift */
        ASSERT_EQ(vc_bigint_cmp(&x, &y), a < b ? -1 : a > b ? 1 : 0);
        /* byte form round trip */
        uint8_t bytes[VC_BIGINT_BYTES_MAX];
        int n = vc_bigint_to_bytes(&x, bytes);
        ASSERT_OK(n);
        ASSERT_OK(vc_bigint_from_bytes(bytes, (size_t)n, &r));
        ASSERT_EQ(vc_bigint_cmp(&r, &x), 0);
    }
}

static void test_large_identities(void)
{
    for (int iter = 0; iter < 2000; iter++) {
        vc_bigint_t a, b, p, q, r, t;
        random_big(&a, 16);
        random_big(&b, 16);
        ASSERT_OK(vc_bigint_mul(&a, &b, &p));
        if (!vc_bigint_is_zero(&b)) {
            ASSERT_OK(vc_bigint_divmod(&p, &b, &q, &r));
            ASSERT_EQ(vc_bigint_cmp(&q, &a), 0);
            ASSERT_TRUE(vc_bigint_is_zero(&r));
            /* (a*b + a) / b, remainder has the sign of the dividend and |r| < |b| */
            ASSERT_OK(vc_bigint_add(&p, &a, &t));
            ASSERT_OK(vc_bigint_divmod(&t, &b, &q, &r));
            ASSERT_OK(vc_bigint_mul(&q, &b, &p));
            ASSERT_OK(vc_bigint_add(&p, &r, &p));
            ASSERT_EQ(vc_bigint_cmp(&p, &t), 0);
            ASSERT_TRUE(vc_bigint_sign(&r) == 0 || vc_bigint_sign(&r) == vc_bigint_sign(&t));
        }
        char s[VC_BIGINT_STRLEN_MAX];
        ASSERT_OK(vc_bigint_to_string(&a, s, sizeof(s)));
        ASSERT_OK(vc_bigint_from_string(s, &t));
        ASSERT_EQ(vc_bigint_cmp(&t, &a), 0);
        unsigned sh = (unsigned)(rnd() % 300);
        ASSERT_OK(vc_bigint_shl(&a, sh, &t));
        ASSERT_OK(vc_bigint_shr(&t, sh, &t));
        ASSERT_EQ(vc_bigint_cmp(&t, &a), 0);
        /* aliasing: a = a - a */
        t = a;
        ASSERT_OK(vc_bigint_sub(&t, &t, &t));
        ASSERT_TRUE(vc_bigint_is_zero(&t) && !t.neg);
    }
}

static void test_ratio_and_errors(void)
{
    vc_bigint_t a, n, d, r, zero = VC_BIGINT_ZERO, one;
    vc_bigint_from_u64(1, &one);
    /* (2^1000 * 2^1000) / 2^1000 needs a 2000-bit intermediate */
    ASSERT_OK(vc_bigint_shl(&one, 1000, &a));
    ASSERT_EQ(vc_bigint_mul(&a, &a, &r), -ERANGE);
    ASSERT_OK(vc_bigint_mul_ratio(&a, &a, &a, &r));
    ASSERT_EQ(vc_bigint_cmp(&r, &a), 0);
    vc_bigint_from_i64(1000, &a);
    vc_bigint_from_i64(-3, &n);
    vc_bigint_from_i64(7, &d);
    ASSERT_OK(vc_bigint_mul_ratio(&a, &n, &d, &r));
    int64_t v;
    ASSERT_OK(vc_bigint_to_i64(&r, &v));
    ASSERT_EQ(v, -428);
    ASSERT_EQ(vc_bigint_mul_ratio(&a, &n, &zero, &r), -EDOM);
    ASSERT_EQ(vc_bigint_div(&a, &zero, &r), -EDOM);
    /* -1 >> 1 == -1 (floor) */
    vc_bigint_from_i64(-1, &a);
    ASSERT_OK(vc_bigint_shr(&a, 1, &r));
    ASSERT_OK(vc_bigint_to_i64(&r, &v));
    ASSERT_EQ(v, -1);
    /* int64/uint64 limits */
    uint64_t u;
    vc_bigint_from_i64(INT64_MIN, &a);
    ASSERT_OK(vc_bigint_to_i64(&a, &v));
    ASSERT_TRUE(v == INT64_MIN);
    ASSERT_EQ(vc_bigint_to_u64(&a, &u), -ERANGE);
    vc_bigint_from_u64(UINT64_MAX, &a);
    ASSERT_EQ(vc_bigint_to_i64(&a, &v), -ERANGE);
    ASSERT_OK(vc_bigint_to_u64(&a, &u));
    ASSERT_TRUE(u == UINT64_MAX);
    /* byte form: bad sign byte, too long, leading zeros and "-0" accepted */
    uint8_t b[200] = {0};
    ASSERT_EQ(vc_bigint_from_bytes((const uint8_t *)"\x02\x01", 2, &a), VC_EPARSE);
    ASSERT_EQ(vc_bigint_from_bytes(b, 129, &a), VC_ETOOBIG);
    ASSERT_OK(vc_bigint_from_bytes((const uint8_t *)"\x00\x00\x05", 3, &a));
    ASSERT_OK(vc_bigint_to_i64(&a, &v));
    ASSERT_EQ(v, 5);
    ASSERT_OK(vc_bigint_from_bytes((const uint8_t *)"\x01", 1, &a));
    ASSERT_TRUE(vc_bigint_is_zero(&a) && !a.neg);
    /* unsigned big-endian fixed width */
    uint8_t be[4];
    vc_bigint_from_u64(0x010203, &a);
    ASSERT_OK(vc_bigint_to_be(&a, be, 4));
    ASSERT_MEMEQ(be, "\x00\x01\x02\x03", 4);
    ASSERT_EQ(vc_bigint_to_be(&a, be, 2), -ERANGE);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_parse_print);
    VC_TEST_RUN(test_int128);
    VC_TEST_RUN(test_large_identities);
    VC_TEST_RUN(test_ratio_and_errors);
    return VC_TEST_DONE();
}
