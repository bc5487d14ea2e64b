/* Tests for crypto.c: secp256k1 sign/recover/verify and the Lotus key export format. */
#include "vc-test.h"
#include "vc/crypto.h"
#include "vc/util.h"

static void test_sign_verify(void)
{
    uint8_t key[32], key2[32], pub[65], rec[65], sig[65], sig2[65];
    vc_address_t a, a2;
    ASSERT_OK(vc_secp256k1_generate(key));
    ASSERT_TRUE(vc_secp256k1_privkey_valid(key));
    ASSERT_OK(vc_secp256k1_generate(key2));
    ASSERT_OK(vc_secp256k1_pubkey(key, pub));
    ASSERT_EQ(pub[0], 0x04);
    ASSERT_OK(vc_secp256k1_address(key, &a));
    ASSERT_OK(vc_secp256k1_address(key2, &a2));
    ASSERT_OK(vc_secp256k1_sign(key, "hello", 5, sig));
    ASSERT_OK(vc_secp256k1_sign(key, "hello", 5, sig2));
    ASSERT_MEMEQ(sig, sig2, 65); /* RFC 6979 */
    ASSERT_TRUE(sig[64] <= 1);
    ASSERT_OK(vc_secp256k1_recover(sig, "hello", 5, rec));
    ASSERT_MEMEQ(rec, pub, 65);
    ASSERT_OK(vc_secp256k1_verify(sig, "hello", 5, &a));
    ASSERT_EQ(vc_secp256k1_verify(sig, "hello", 5, &a2), VC_EVERIFY);
    ASSERT_EQ(vc_secp256k1_verify(sig, "hellO", 5, &a), VC_EVERIFY);
    sig[64] = 7;
    ASSERT_EQ(vc_secp256k1_verify(sig, "hello", 5, &a), VC_EVERIFY);
    memset(sig, 0xff, 64);
    sig[64] = 0;
    ASSERT_EQ(vc_secp256k1_verify(sig, "hello", 5, &a), VC_EVERIFY);

    vc_signature_t s;
    ASSERT_OK(vc_secp256k1_sign(key, "x", 1, sig));
    ASSERT_OK(vc_signature_set(&s, VC_SIG_SECP256K1, sig, 65));
    ASSERT_OK(vc_signature_verify(&s, "x", 1, &a));
    s.len = 64;
    ASSERT_EQ(vc_signature_verify(&s, "x", 1, &a), VC_EVERIFY);
    s.type = VC_SIG_BLS;
    ASSERT_EQ(vc_signature_verify(&s, "x", 1, &a), -EOPNOTSUPP);

    uint8_t zero[32] = {0}, order[32];
    ASSERT_FALSE(vc_secp256k1_privkey_valid(zero));
    ASSERT_EQ(vc_secp256k1_pubkey(zero, pub), -EINVAL);
    ASSERT_EQ(vc_secp256k1_sign(zero, "x", 1, sig), -EINVAL);
    ASSERT_OK(vc_hex_decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 64, order));
    ASSERT_FALSE(vc_secp256k1_privkey_valid(order));
}

static void test_key_export(void)
{
    vc_key_info_t ki = {.type = VC_KEY_SECP256K1}, back;
    char *hex;
    ASSERT_OK(vc_hex_decode("1d969865e189957b9824bd34f26d5cbf357fda1a6d844cbf0c9ab1ed93fa7dbe", 64, ki.key));
    ASSERT_OK(vc_key_info_export(&ki, &hex));
    /* hex of {"Type":"secp256k1","PrivateKey":"<base64>"} as Lotus writes it */
    uint8_t *raw;
    size_t n;
    char want[128], *b64 = vc_base64_encode(ki.key, 32);
    ASSERT_NOTNULL(b64);
    snprintf(want, sizeof(want), "{\"Type\":\"secp256k1\",\"PrivateKey\":\"%s\"}", b64);
    free(b64);
    ASSERT_OK(vc_hex_decode_alloc(hex, &raw, &n));
    ASSERT_EQ(n, strlen(want));
    ASSERT_MEMEQ(raw, want, n);
    free(raw);
    ASSERT_OK(vc_key_info_import(hex, &back));
    ASSERT_EQ(back.type, VC_KEY_SECP256K1);
    ASSERT_MEMEQ(back.key, ki.key, 32);
    free(hex);

    ki.type = VC_KEY_BLS;
    ASSERT_OK(vc_key_info_export(&ki, &hex));
    ASSERT_OK(vc_key_info_import(hex, &back));
    ASSERT_EQ(back.type, VC_KEY_BLS);
    free(hex);

    /* {"Type":"ed25519","PrivateKey":"AA=="} and friends */
    static const char *const bad_json[] = {
        "{\"Type\":\"ed25519\",\"PrivateKey\":\"HZaYZeGJlXuYJL008m1cvzV/2hptEy/DJqx7ZP6fb4=\"}",
        "{\"Type\":\"secp256k1\",\"PrivateKey\":\"AA==\"}",
        "{\"Type\":\"secp256k1\",\"PrivateKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}",
        "{\"Type\":1,\"PrivateKey\":\"AA==\"}",
        "[]",
        "not json",
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(bad_json); i++) {
        size_t l = strlen(bad_json[i]);
        char *h = malloc(2 * l + 1);
        ASSERT_NOTNULL(h);
        vc_hex_encode((const uint8_t *)bad_json[i], l, h);
        int r = vc_key_info_import(h, &back);
        free(h);
        if (r >= 0)
            VC_FAIL_("accepted %s", bad_json[i]);
    }
    ASSERT_ERR(vc_key_info_import("zz", &back));
    ASSERT_ERR(vc_key_info_import("", &back));
    vc_key_info_wipe(&ki);
    ASSERT_EQ(ki.key[0], 0);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    if (vc_init() < 0)
        return 1;
    VC_TEST_RUN(test_sign_verify);
    VC_TEST_RUN(test_key_export);
    return VC_TEST_DONE();
}
