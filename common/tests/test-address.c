/* Tests for address.c, base32 and varints. */
#include "vc-test.h"
#include "vc/address.h"
#include "vc/base32.h"
#include "vc/util.h"
#include "vc/varint.h"

static void test_base32(void)
{
    uint8_t out[16];
    char s[32];
    ASSERT_EQ(vc_base32_encode((const uint8_t *)"foobar", 6, s), 10);
    ASSERT_STREQ(s, "mzxw6ytboi");
    ASSERT_EQ(vc_base32_decode("mzxw6ytboi", 10, out, sizeof(out)), 6);
    ASSERT_MEMEQ(out, "foobar", 6);
    ASSERT_EQ(vc_base32_decode("MZXW6YTBOI", 10, out, sizeof(out)), VC_EPARSE);
    ASSERT_EQ(vc_base32_decode("mzxw6ytboi=", 11, out, sizeof(out)), VC_EPARSE);
    ASSERT_EQ(vc_base32_decode("my", 2, out, sizeof(out)), 1);
    ASSERT_EQ(vc_base32_decode("mz", 2, out, sizeof(out)), VC_EPARSE); /* non-zero pad bits */
    ASSERT_EQ(vc_base32_decode("m", 1, out, sizeof(out)), VC_EPARSE);  /* impossible length */
    ASSERT_EQ(vc_base32_decode("mzxw6ytboi", 10, out, 5), -ENOBUFS);
    ASSERT_EQ(vc_base32_decode("", 0, out, 0), 0);
}

static void test_varint(void)
{
    uint8_t b[10];
    uint64_t v;
    ASSERT_EQ(vc_uvarint_encode(300, b), 2);
    ASSERT_EQ(vc_uvarint_decode(b, 2, &v), 2);
    ASSERT_EQ(v, 300);
    ASSERT_EQ(vc_uvarint_decode(b, 1, &v), VC_ETRUNC);
    ASSERT_EQ(vc_uvarint_decode((const uint8_t *)"\x80\x00", 2, &v), VC_EPARSE);
    ASSERT_EQ(vc_uvarint_encode((uint64_t)INT64_MAX, b), 9);
    ASSERT_EQ(vc_uvarint_decode(b, 9, &v), 9);
    ASSERT_TRUE(v == (uint64_t)INT64_MAX);
    ASSERT_EQ(vc_uvarint_encode(UINT64_MAX, b), 10);
    ASSERT_EQ(vc_uvarint_decode(b, 10, &v), -ERANGE);
}

static void test_id(void)
{
    vc_address_t a;
    char s[VC_ADDRESS_STRLEN_MAX];
    uint64_t id;
    ASSERT_OK(vc_address_from_string("t09223372036854775807", &a));
    ASSERT_OK(vc_address_id(&a, &id));
    ASSERT_TRUE(id == (uint64_t)INT64_MAX);
    ASSERT_EQ(vc_address_from_string("t09223372036854775808", &a), -ERANGE);
    ASSERT_EQ(vc_address_from_string("f018446744073709551616", &a), -ERANGE);
    ASSERT_EQ(vc_address_from_string("f0-1", &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_string("f0+1", &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_string("f0", &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_string("f0 1", &a), VC_EPARSE);
    ASSERT_EQ(vc_address_new_id((uint64_t)INT64_MAX + 1, &a), -ERANGE);
    /* leading zeros: accepted like go-address (strconv.ParseUint), canonical output drops them */
    ASSERT_OK(vc_address_from_string("f00042", &a));
    ASSERT_EQ(vc_address_to_string(&a, 'f', s), 4);
    ASSERT_STREQ(s, "f042");
    /* byte form rules: minimal varint, exact length */
    ASSERT_EQ(vc_address_from_bytes((const uint8_t *)"\x00\x80\x00", 3, &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_bytes((const uint8_t *)"\x00\x01\x01", 3, &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_bytes((const uint8_t *)"\x00\x80", 2, &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_bytes((const uint8_t *)"\x00", 1, &a), VC_EPARSE);
    ASSERT_EQ(vc_address_from_bytes((const uint8_t *)"", 0, &a), VC_EPARSE);
}

static void test_reject(void)
{
    static const char *const bad[] = {
        "",
        "f",
        "f1",
        "x01024",
        "F01024",
        "f5abc",
        "t15IHQ5IBZWKI2B4EP2F46AVLKRQZHPQGTGA7PDRQ",      /* upper case */
        "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrr",      /* checksum */
        "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdr",       /* length */
        "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq1",     /* '1' not in alphabet */
        "t2gfvuyh7v2sx3patm5k23wdzmhyhtmqctasbr24y",      /* checksum (go-address) */
        "t0banananananannnnnnnnn",
        "t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4",
        "f432",                                          /* no 'f' separator */
        "f4f77777777x32lpna",                            /* empty namespace */
        "f432f77777777x32lpnb",                          /* checksum */
        "f49223372036854775808f77777777x32lpna",         /* namespace range */
    };
    vc_address_t a;
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++)
        if (vc_address_from_string(bad[i], &a) >= 0)
            VC_FAIL_("'%s' accepted", bad[i]);
    char longs[200];
    memset(longs, 'a', sizeof(longs) - 1);
    longs[0] = 'f';
    longs[1] = '3';
    longs[199] = 0;
    ASSERT_EQ(vc_address_from_string(longs, &a), VC_ETOOBIG);
    ASSERT_ERR(vc_address_parse("f01", 0, &a, NULL));
    ASSERT_ERR(vc_address_from_string(NULL, &a));
}

static void test_round_trip(void)
{
    uint8_t pub[65] = {0x04}, bls[48], sub[54];
    vc_address_t a, b;
    char s[VC_ADDRESS_STRLEN_MAX];
    char net;
    for (size_t i = 1; i < 65; i++)
        pub[i] = (uint8_t)i;
    memset(bls, 0xab, sizeof(bls));
    memset(sub, 0x5a, sizeof(sub));

    vc_address_t all[6];
    ASSERT_OK(vc_address_new_id(1234, &all[0]));
    ASSERT_OK(vc_address_new_secp256k1(pub, 65, &all[1]));
    ASSERT_OK(vc_address_new_actor((const uint8_t *)"x", 1, &all[2]));
    ASSERT_OK(vc_address_new_bls(bls, 48, &all[3]));
    ASSERT_OK(vc_address_new_delegated(10, sub, 20, &all[4]));
    ASSERT_OK(vc_address_new_delegated((uint64_t)INT64_MAX, sub, 54, &all[5]));
    ASSERT_EQ(vc_address_new_delegated(10, sub, 55, &a), -EINVAL);
    ASSERT_EQ(vc_address_new_secp256k1(pub, 64, &a), -EINVAL);
    for (size_t i = 0; i < VC_ELEMENTSOF(all); i++) {
        int n = vc_address_to_string(&all[i], 't', s);
        ASSERT_OK(n);
        ASSERT_TRUE((size_t)n == strlen(s) && n <= 115);
        ASSERT_OK(vc_address_parse(s, (size_t)n, &b, &net));
        ASSERT_EQ(net, 't');
        ASSERT_TRUE(vc_address_equal(&all[i], &b));
        ASSERT_OK(vc_address_from_bytes(all[i].bytes, all[i].len, &b));
        ASSERT_TRUE(vc_address_equal(&all[i], &b));
        /* every single-character change is rejected or decodes to a different address */
        for (int k = 2; k < n; k++) {
            char saved = s[k];
            s[k] = saved == 'a' ? 'b' : 'a';
            if (vc_address_parse(s, (size_t)n, &b, NULL) == 0 && vc_address_equal(&b, &all[i]))
                VC_FAIL_("mutated '%s' decodes to the same address", s);
            s[k] = saved;
        }
    }
    uint64_t ns;
    const uint8_t *p;
    size_t plen;
    ASSERT_OK(vc_address_delegated(&all[4], &ns, &p, &plen));
    ASSERT_EQ(ns, 10);
    ASSERT_EQ(plen, 20);
    ASSERT_EQ(vc_address_delegated(&all[0], &ns, &p, &plen), -EINVAL);
    ASSERT_EQ(vc_address_to_string(&all[0], 'x', s), -EINVAL);
    vc_address_t undef = {0};
    ASSERT_EQ(vc_address_to_string(&undef, 'f', s), -EINVAL);
    ASSERT_TRUE(vc_address_compare(&all[0], &all[1]) < 0);
    ASSERT_EQ(vc_address_compare(&all[2], &all[2]), 0);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_base32);
    VC_TEST_RUN(test_varint);
    VC_TEST_RUN(test_id);
    VC_TEST_RUN(test_reject);
    VC_TEST_RUN(test_round_trip);
    return VC_TEST_DONE();
}
