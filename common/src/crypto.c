/* crypto.c: secp256k1 via libsecp256k1, key export format. */
#include "vc/crypto.h"
#include "vc/blake2b.h"
#include "vc/util.h"

#include <pthread.h>

#include <jansson.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_create(void)
{
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx) {
        uint8_t seed[32];
        randombytes_buf(seed, sizeof(seed));
        /* Side-channel blinding; failure only loses the blinding, so it is ignored. */
        if (secp256k1_context_randomize(ctx, seed) != 1)
            seed[0] = 0;
        sodium_memzero(seed, sizeof(seed));
    }
}

static secp256k1_context *get_ctx(void)
{
    (void)pthread_once(&ctx_once, ctx_create);
    return ctx;
}

bool vc_secp256k1_privkey_valid(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN])
{
    secp256k1_context *c = get_ctx();
    return c && key && secp256k1_ec_seckey_verify(c, key) == 1;
}

int vc_secp256k1_generate(uint8_t ret_key[VC_SECP256K1_PRIVKEY_LEN])
{
    uint8_t k[VC_SECP256K1_PRIVKEY_LEN];

    if (!get_ctx())
        return -ENOMEM;
    for (int tries = 0; tries < 128; tries++) {
        randombytes_buf(k, sizeof(k));
        if (vc_secp256k1_privkey_valid(k)) {
            memcpy(ret_key, k, sizeof(k));
            sodium_memzero(k, sizeof(k));
            return 0;
        }
    }
    sodium_memzero(k, sizeof(k));
    return -EIO; /* practically impossible: randomness is broken */
}

int vc_secp256k1_pubkey(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN],
                        uint8_t ret_pub[VC_SECP256K1_PUBKEY_LEN])
{
    secp256k1_context *c = get_ctx();
    secp256k1_pubkey pk;
    size_t n = VC_SECP256K1_PUBKEY_LEN;

    if (!c)
        return -ENOMEM;
    if (!key || secp256k1_ec_pubkey_create(c, &pk, key) != 1)
        return -EINVAL;
    secp256k1_ec_pubkey_serialize(c, ret_pub, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
    return 0;
}

int vc_secp256k1_address(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN], vc_address_t *ret)
{
    uint8_t pub[VC_SECP256K1_PUBKEY_LEN];
    int r = vc_secp256k1_pubkey(key, pub);
    if (r < 0)
        return r;
    return vc_address_new_secp256k1(pub, sizeof(pub), ret);
}

int vc_secp256k1_sign(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN], const void *msg, size_t len,
                      uint8_t ret_sig[VC_SECP256K1_SIG_LEN])
{
    secp256k1_context *c = get_ctx();
    secp256k1_ecdsa_recoverable_signature sig;
    uint8_t h[32];
    int recid;

    if (!c)
        return -ENOMEM;
    if (!key || (!msg && len > 0))
        return -EINVAL;
    vc_blake2b_256(msg, len, h);
    /* NULL nonce function = RFC 6979; libsecp256k1 always produces low-S. */
    if (secp256k1_ecdsa_sign_recoverable(c, &sig, h, key, NULL, NULL) != 1)
        return -EINVAL;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(c, ret_sig, &recid, &sig);
    ret_sig[64] = (uint8_t)recid;
    return 0;
}

int vc_secp256k1_recover(const uint8_t sig[VC_SECP256K1_SIG_LEN], const void *msg, size_t len,
                         uint8_t ret_pub[VC_SECP256K1_PUBKEY_LEN])
{
    secp256k1_context *c = get_ctx();
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pk;
    uint8_t h[32];
    size_t n = VC_SECP256K1_PUBKEY_LEN;

    if (!c)
        return -ENOMEM;
    if (!sig || (!msg && len > 0))
        return -EINVAL;
    if (sig[64] > 3)
        return VC_EVERIFY;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, sig, sig[64]) != 1)
        return VC_EVERIFY;
    vc_blake2b_256(msg, len, h);
    if (secp256k1_ecdsa_recover(c, &pk, &rs, h) != 1)
        return VC_EVERIFY;
    secp256k1_ec_pubkey_serialize(c, ret_pub, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
    return 0;
}

int vc_secp256k1_verify(const uint8_t sig[VC_SECP256K1_SIG_LEN], const void *msg, size_t len,
                        const vc_address_t *addr)
{
    uint8_t pub[VC_SECP256K1_PUBKEY_LEN];
    vc_address_t got;
    int r = vc_secp256k1_recover(sig, msg, len, pub);
    if (r < 0)
        return r;
    if ((r = vc_address_new_secp256k1(pub, sizeof(pub), &got)) < 0)
        return r;
    return vc_address_equal(&got, addr) ? 0 : VC_EVERIFY;
}

int vc_signature_verify(const vc_signature_t *sig, const void *msg, size_t len,
                        const vc_address_t *addr)
{
    switch (sig->type) {
    case VC_SIG_SECP256K1:
        if (sig->len != VC_SECP256K1_SIG_LEN)
            return VC_EVERIFY;
        return vc_secp256k1_verify(sig->data, msg, len, addr);
    case VC_SIG_BLS:
    case VC_SIG_DELEGATED:
        return -EOPNOTSUPP;
    default:
        return VC_EVERIFY;
    }
}

int vc_message_sign_secp256k1(const vc_message_t *m, const uint8_t key[VC_SECP256K1_PRIVKEY_LEN],
                              vc_signature_t *ret)
{
    uint8_t sig[VC_SECP256K1_SIG_LEN];
    vc_cid_t cid;
    int r;

    if ((r = vc_message_cid(m, &cid)) < 0)
        return r;
    if ((r = vc_secp256k1_sign(key, cid.bytes, cid.len, sig)) < 0)
        return r;
    return vc_signature_set(ret, VC_SIG_SECP256K1, sig, sizeof(sig));
}

int vc_signed_message_verify(const vc_signed_message_t *sm)
{
    vc_cid_t cid;
    int r = vc_message_cid(&sm->message, &cid);
    if (r < 0)
        return r;
    return vc_signature_verify(&sm->signature, cid.bytes, cid.len, &sm->message.from);
}

/* ---- key export ---- */

static const char *const key_type_names[VC_KEY_TYPE_MAX] = {
    [VC_KEY_SECP256K1] = "secp256k1",
    [VC_KEY_BLS] = "bls",
};

const char *vc_key_type_to_string(vc_key_type_t t)
{
    return (unsigned)t < VC_KEY_TYPE_MAX ? key_type_names[t] : NULL;
}

int vc_key_type_from_string(const char *s, vc_key_type_t *ret)
{
    for (unsigned i = 0; i < VC_KEY_TYPE_MAX; i++)
        if (vc_streq(s, key_type_names[i])) {
            *ret = (vc_key_type_t)i;
            return 0;
        }
    return VC_EPARSE;
}

int vc_key_info_export(const vc_key_info_t *ki, char **ret)
{
    const char *type = vc_key_type_to_string(ki->type);
    _cleanup_free_ char *b64 = NULL;
    char *js, *hex;

    if (!type)
        return -EINVAL;
    if (ki->type == VC_KEY_SECP256K1 && !vc_secp256k1_privkey_valid(ki->key))
        return -EINVAL;
    b64 = vc_base64_encode(ki->key, sizeof(ki->key));
    if (!b64)
        return -ENOMEM;
    json_t *o = json_pack("{s:s,s:s}", "Type", type, "PrivateKey", b64);
    sodium_memzero(b64, strlen(b64));
    if (!o)
        return -ENOMEM;
    js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!js)
        return -ENOMEM;
    size_t n = strlen(js);
    hex = malloc(2 * n + 1);
    if (hex)
        vc_hex_encode((const uint8_t *)js, n, hex);
    sodium_memzero(js, n);
    free(js);
    if (!hex)
        return -ENOMEM;
    *ret = hex;
    return 0;
}

int vc_key_info_import(const char *hex, vc_key_info_t *ret)
{
    _cleanup_free_ uint8_t *raw = NULL;
    _cleanup_free_ uint8_t *key = NULL;
    size_t rawlen, keylen;
    vc_key_info_t ki = {0};
    json_error_t err;
    int r;

    if (!hex || strlen(hex) > 4096)
        return VC_EPARSE;
    if ((r = vc_hex_decode_alloc(hex, &raw, &rawlen)) < 0)
        return r;
    json_t *o = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &err);
    sodium_memzero(raw, rawlen);
    if (!o)
        return VC_EPARSE;
    const json_t *t = json_object_get(o, "Type"), *pk = json_object_get(o, "PrivateKey");
    if (!json_is_string(t) || !json_is_string(pk)) {
        r = VC_ETYPE;
        goto out;
    }
    if ((r = vc_key_type_from_string(json_string_value(t), &ki.type)) < 0)
        goto out;
    if ((r = vc_base64_decode(json_string_value(pk), json_string_length(pk), &key, &keylen)) < 0)
        goto out;
    if (keylen != sizeof(ki.key)) {
        sodium_memzero(key, keylen);
        r = VC_EPARSE;
        goto out;
    }
    memcpy(ki.key, key, keylen);
    sodium_memzero(key, keylen);
    if (ki.type == VC_KEY_SECP256K1 && !vc_secp256k1_privkey_valid(ki.key)) {
        r = -EINVAL;
        goto out;
    }
    *ret = ki;
    r = 0;
out:
    vc_key_info_wipe(&ki);
    json_decref(o);
    return r;
}

void vc_key_info_wipe(vc_key_info_t *ki)
{
    if (ki)
        sodium_memzero(ki, sizeof(*ki));
}
