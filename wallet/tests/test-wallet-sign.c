/* Signing rules per MsgMeta.Type, with the trustwallet-signer vector of the vectors file. */
#include <stdio.h>

#include <sodium.h>

#include "vc-test.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/message.h"
#include "wallet-sign.h"

static wallet_ks_t *ks;
static vc_address_t signer;
static json_t *vec; /* the trustwallet-signer vector */

static void setup(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/ks", vc_test_tmpdir());
    wallet_ks_opts_t o = {.dir = dir, .opslimit = crypto_pwhash_OPSLIMIT_MIN, .memlimit = crypto_pwhash_MEMLIMIT_MIN};
    ASSERT_OK(wallet_ks_open(&o, &ks));
    ASSERT_OK(wallet_ks_unlock(ks, "pw", 2));
    json_t *msgs = json_object_get(vc_test_vectors(), "messages");
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) if (vc_streq(json_string_value(json_object_get(m, "name")), "trustwallet-signer")) vec = m;
    ASSERT_NOTNULL(vec);
    vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
    ASSERT_OK(vc_hex_decode(json_string_value(json_object_get(vec, "privateKeyHex")), 64, ki.key));
    ASSERT_OK(wallet_ks_import(ks, &ki, &signer));
    char s[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(&signer, 'f', s);
    ASSERT_STREQ(s, json_string_value(json_object_get(json_object_get(vec, "message"), "From")));
}

static void msg_bytes(uint8_t **cbor, size_t *cbor_len, vc_cid_t *cid)
{
    VC_CHECK(vc_hex_decode_alloc(json_string_value(json_object_get(vec, "cbor")), cbor, cbor_len) == 0);
    VC_CHECK(vc_cid_from_string(json_string_value(json_object_get(vec, "cid")), cid) == 0);
}

static void test_message(void)
{
    _cleanup_free_ uint8_t *cbor = NULL;
    size_t len;
    vc_cid_t cid;
    vc_signature_t sig;
    char err[256];
    msg_bytes(&cbor, &len, &cid);
    wallet_meta_t meta = {.type = "message", .extra = cbor, .extra_len = len};
    ASSERT_OK(wallet_sign(ks, &signer, cid.bytes, cid.len, &meta, NULL, &sig, err, sizeof(err)));
    _cleanup_free_ char *b64 = vc_base64_encode(sig.data, sig.len);
    ASSERT_STREQ(b64, json_string_value(json_object_get(json_object_get(vec, "signed"), "signatureBase64")));

    /* a CID that is not the message's is refused */
    vc_cid_t other = cid;
    other.bytes[other.len - 1] ^= 1;
    ASSERT_EQ(wallet_sign(ks, &signer, other.bytes, other.len, &meta, NULL, &sig, err, sizeof(err)), VC_EVERIFY);
    ASSERT_STREQ(err, "the data to sign is not the CID of the message in Meta.Extra");
    /* no Extra, or an Extra that is not a message */
    wallet_meta_t bare = {.type = "message"};
    ASSERT_EQ(wallet_sign(ks, &signer, cid.bytes, cid.len, &bare, NULL, &sig, err, sizeof(err)), VC_EPARSE);
    uint8_t junk[] = {0x83, 1, 2, 3};
    wallet_meta_t bad = {.type = "message", .extra = junk, .extra_len = sizeof(junk)};
    ASSERT_EQ(wallet_sign(ks, &signer, cid.bytes, cid.len, &bad, NULL, &sig, err, sizeof(err)), VC_EPARSE);
    /* an address the wallet does not hold */
    vc_address_t nobody;
    ASSERT_OK(vc_address_from_string("f1rletqqhinhagw6nxjcr4kbfws25thgt7owzuruy", &nobody));
    ASSERT_EQ(wallet_sign(ks, &nobody, cid.bytes, cid.len, &meta, NULL, &sig, err, sizeof(err)), WALLET_ENOKEY);
}

static void test_block_and_other(void)
{
    vc_signature_t sig;
    char err[256];
    const char *types[] = {"block", "", "unknown", "dealproposal"};
    for (size_t i = 0; i < VC_ELEMENTSOF(types); i++) {
        wallet_meta_t m = {0};
        snprintf(m.type, sizeof(m.type), "%s", types[i]);
        ASSERT_OK(wallet_sign(ks, &signer, (const uint8_t *)"header", 6, &m, NULL, &sig, err, sizeof(err)));
        ASSERT_OK(vc_secp256k1_verify(sig.data, "header", 6, &signer));
    }
}

static void put_params(vc_buf_t *b, const uint8_t *rbase, size_t rl, int64_t pers, int64_t round, const uint8_t *ent,
                       size_t el)
{
    vc_cbor_put_map(b, 4);
    vc_cbor_put_text(b, "Rbase", 5);
    vc_cbor_put_bytes(b, rbase, rl);
    vc_cbor_put_text(b, "Pers", 4);
    vc_cbor_put_int(b, pers);
    vc_cbor_put_text(b, "Round", 5);
    vc_cbor_put_int(b, round);
    vc_cbor_put_text(b, "Entropy", 7);
    vc_cbor_put_bytes(b, ent, el);
}

static void test_drawrandomparam(void)
{
    uint8_t rbase[32], ent[] = {0x44, 0x00, 0xe8, 0x07}, d[32], want[32];
    vc_buf_t b = {0};
    vc_signature_t sig;
    char err[256];
    for (int i = 0; i < 32; i++)
        rbase[i] = (uint8_t)i;
    put_params(&b, rbase, 32, 2, 10101, ent, sizeof(ent));
    /* golden computed with Python's hashlib: blake2b-256(be64(2) || blake2b-256(rbase) || be64(10101) || ent) */
    ASSERT_OK(vc_hex_decode("ac6ab61bf49ede3d3bcee47910a27faf1155d91b129c2f93823cd0e7549c36d5", 64, want));
    ASSERT_OK(wallet_drawrandom_digest((const uint8_t *)b.data, b.len, d, err, sizeof(err)));
    ASSERT_MEMEQ(d, want, 32);
    wallet_meta_t m = {.type = "drawrandomparam"};
    ASSERT_OK(wallet_sign(ks, &signer, (const uint8_t *)b.data, b.len, &m, NULL, &sig, err, sizeof(err)));
    ASSERT_OK(vc_secp256k1_verify(sig.data, d, 32, &signer)); /* the digest is what is signed */
    ASSERT_ERR(vc_secp256k1_verify(sig.data, b.data, b.len, &signer));
    vc_buf_done(&b);

    /* empty rbase, negative round, null entropy */
    ASSERT_OK(vc_hex_decode("176c401e45e5c09be148a624071a9d5ce0e8e4d0072b60fb200d667427ce8d8e", 64, want));
    vc_cbor_put_map(&b, 4);
    vc_cbor_put_text(&b, "Rbase", 5);
    vc_cbor_put_bytes(&b, NULL, 0);
    vc_cbor_put_text(&b, "Pers", 4);
    vc_cbor_put_int(&b, 1);
    vc_cbor_put_text(&b, "Round", 5);
    vc_cbor_put_int(&b, -1);
    vc_cbor_put_text(&b, "Entropy", 7);
    vc_cbor_put_null(&b);
    ASSERT_OK(wallet_drawrandom_digest((const uint8_t *)b.data, b.len, d, err, sizeof(err)));
    ASSERT_MEMEQ(d, want, 32);
    vc_buf_done(&b);

    /* malformed: not a map, missing key, duplicate key, trailing bytes, wrong type */
    uint8_t arr[] = {0x80};
    ASSERT_EQ(wallet_drawrandom_digest(arr, 1, d, err, sizeof(err)), VC_EPARSE);
    vc_cbor_put_map(&b, 1);
    vc_cbor_put_text(&b, "Pers", 4);
    vc_cbor_put_int(&b, 1);
    ASSERT_EQ(wallet_drawrandom_digest((const uint8_t *)b.data, b.len, d, err, sizeof(err)), VC_EPARSE);
    ASSERT_STREQ(err, "DrawRandomParams: Rbase, Pers and Round are required");
    vc_buf_done(&b);
    vc_cbor_put_map(&b, 2);
    vc_cbor_put_text(&b, "Pers", 4);
    vc_cbor_put_int(&b, 1);
    vc_cbor_put_text(&b, "Pers", 4);
    vc_cbor_put_int(&b, 1);
    ASSERT_EQ(wallet_drawrandom_digest((const uint8_t *)b.data, b.len, d, err, sizeof(err)), VC_EPARSE);
    vc_buf_done(&b);
    put_params(&b, rbase, 32, 2, 1, ent, 1);
    vc_buf_append(&b, "\x00", 1);
    ASSERT_EQ(wallet_drawrandom_digest((const uint8_t *)b.data, b.len, d, err, sizeof(err)), VC_EPARSE);
    vc_buf_done(&b);
    vc_cbor_put_map(&b, 1);
    vc_cbor_put_text(&b, "Rbase", 5);
    vc_cbor_put_int(&b, 1);
    ASSERT_EQ(wallet_drawrandom_digest((const uint8_t *)b.data, b.len, d, err, sizeof(err)), VC_EPARSE);
    vc_buf_done(&b);
}

static void test_verifyaddress(void)
{
    uint8_t sign_bytes[32], rand[32], challenge[32];
    vc_signature_t sig;
    char err[256];
    vc_random(sign_bytes, 32);
    vc_random(rand, 32);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, rand, 32);
    crypto_hash_sha256_update(&st, sign_bytes, 32);
    crypto_hash_sha256_final(&st, challenge);
    wallet_meta_t m = {.type = "verifyaddress", .extra = rand, .extra_len = 32};
    ASSERT_OK(wallet_sign(ks, &signer, challenge, 32, &m, sign_bytes, &sig, err, sizeof(err)));
    ASSERT_OK(vc_secp256k1_verify(sig.data, challenge, 32, &signer));
    /* arbitrary bytes under the verifyaddress label are refused on a gateway session */
    ASSERT_EQ(wallet_sign(ks, &signer, (const uint8_t *)"anything", 8, &m, sign_bytes, &sig, err, sizeof(err)),
              VC_EVERIFY);
    /* without session SignBytes (local API) they are signed as given */
    ASSERT_OK(wallet_sign(ks, &signer, (const uint8_t *)"anything", 8, &m, NULL, &sig, err, sizeof(err)));
}

static void test_meta_json(void)
{
    wallet_meta_t m;
    json_t *j = json_pack("{s:s,s:s}", "Type", "block", "Extra", "aGFp");
    ASSERT_OK(wallet_meta_from_json(j, &m));
    ASSERT_STREQ(m.type, "block");
    ASSERT_EQ(m.extra_len, 3);
    wallet_meta_done(&m);
    json_decref(j);
    j = json_pack("{s:s,s:n}", "Type", "message", "Extra");
    ASSERT_OK(wallet_meta_from_json(j, &m));
    ASSERT_TRUE(m.extra == NULL);
    json_decref(j);
    j = json_pack("{s:i}", "Type", 3);
    ASSERT_EQ(wallet_meta_from_json(j, &m), VC_ETYPE);
    json_decref(j);
    j = json_pack("{s:s,s:s}", "Type", "block", "Extra", "!!");
    ASSERT_EQ(wallet_meta_from_json(j, &m), VC_EPARSE);
    json_decref(j);
    ASSERT_OK(wallet_meta_from_json(json_null(), &m));
    ASSERT_STREQ(m.type, "");
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    VC_TEST_RUN(setup);
    if (!vc_test_total_failed) {
        VC_TEST_RUN(test_message);
        VC_TEST_RUN(test_block_and_other);
        VC_TEST_RUN(test_drawrandomparam);
        VC_TEST_RUN(test_verifyaddress);
        VC_TEST_RUN(test_meta_json);
    }
    wallet_ks_free(ks);
    return VC_TEST_DONE();
}
