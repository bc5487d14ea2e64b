/* Tests for blake2b.c: RFC 7693 vector and agreement with libsodium. */
#include <sodium.h>

#include "vc-test.h"
#include "vc/blake2b.h"
#include "vc/util.h"

static void test_rfc7693(void)
{
    /* RFC 7693 appendix A: BLAKE2b-512("abc") */
    static const char want[] = "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                               "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
    uint8_t out[64];
    char hex[129];
    ASSERT_OK(vc_blake2b("abc", 3, out, 64));
    vc_hex_encode(out, 64, hex);
    ASSERT_STREQ(hex, want);
}

static void test_sizes(void)
{
    uint8_t out[65];
    ASSERT_EQ(vc_blake2b("x", 1, out, 0), -EINVAL);
    ASSERT_EQ(vc_blake2b("x", 1, out, 65), -EINVAL);
    ASSERT_OK(vc_blake2b("x", 1, out, 1));
    ASSERT_OK(vc_blake2b(NULL, 0, out, 4));
}

static void test_vs_sodium(void)
{
    static const size_t outlens[] = {16, 20, 32, 64};
    static const size_t lens[] = {0, 1, 3, 127, 128, 129, 255, 256, 257, 1000, 4096};
    uint8_t data[4096];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);

    for (size_t o = 0; o < VC_ELEMENTSOF(outlens); o++)
        for (size_t l = 0; l < VC_ELEMENTSOF(lens); l++) {
            uint8_t a[64], b[64], c[64];
            ASSERT_OK(vc_blake2b(data, lens[l], a, outlens[o]));
            ASSERT_EQ(crypto_generichash(b, outlens[o], data, lens[l], NULL, 0), 0);
            ASSERT_MEMEQ(a, b, outlens[o]);
            /* incremental in odd chunks */
            vc_blake2b_t s;
            ASSERT_OK(vc_blake2b_init(&s, outlens[o]));
            for (size_t off = 0; off < lens[l];) {
                size_t n = VC_MIN((size_t)37, lens[l] - off);
                vc_blake2b_update(&s, data + off, n);
                off += n;
            }
            vc_blake2b_final(&s, c);
            ASSERT_MEMEQ(a, c, outlens[o]);
        }
}

static void test_checksum_len(void)
{
    /* a 4-byte digest is not a prefix of a longer one (output length is hashed in) */
    uint8_t a[4], b[32];
    ASSERT_OK(vc_blake2b("abc", 3, a, 4));
    ASSERT_OK(vc_blake2b("abc", 3, b, 32));
    ASSERT_TRUE(memcmp(a, b, 4) != 0);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    if (vc_init() < 0)
        return 1;
    VC_TEST_RUN(test_rfc7693);
    VC_TEST_RUN(test_sizes);
    VC_TEST_RUN(test_vs_sodium);
    VC_TEST_RUN(test_checksum_len);
    return VC_TEST_DONE();
}
