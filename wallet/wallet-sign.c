/* wallet-sign.c: the signing rules per MsgMeta.Type (see wallet-sign.h). */
#include "wallet-sign.h"

#include <stdarg.h>
#include <stdio.h>

#include <sodium.h>

#include "vc/blake2b.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/message.h"

static int seterr(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int seterr(char *err, size_t errlen, int r, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

void wallet_meta_done(wallet_meta_t *m)
{
    free(m->extra);
    memset(m, 0, sizeof(*m));
}

int wallet_meta_from_json(const json_t *j, wallet_meta_t *ret)
{
    wallet_meta_t m = {0};
    if (!j || json_is_null(j)) {
        *ret = m;
        return 0;
    }
    if (!json_is_object(j))
        return VC_ETYPE;
    const json_t *t = json_object_get(j, "Type"), *x = json_object_get(j, "Extra");
    if (t && !json_is_null(t)) {
        if (!json_is_string(t))
            return VC_ETYPE;
        if (json_string_length(t) >= sizeof(m.type))
            return VC_EPARSE;
        memcpy(m.type, json_string_value(t), json_string_length(t) + 1);
    }
    if (x && !json_is_null(x)) {
        if (!json_is_string(x))
            return VC_ETYPE;
        if (json_string_length(x) > (size_t)WALLET_TOSIGN_MAX * 4 / 3 + 4)
            return VC_ETOOBIG;
        int r = vc_base64_decode(json_string_value(x), json_string_length(x), &m.extra, &m.extra_len);
        if (r < 0)
            return VC_EPARSE;
    }
    *ret = m;
    return 0;
}

static void put_be64(uint8_t out[8], int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)u;
        u >>= 8;
    }
}

/* A byte string or null (= empty). */
static int read_bytes_or_null(vc_cbor_reader_t *r, const uint8_t **p, size_t *n)
{
    if (vc_cbor_peek_null(r)) {
        *p = NULL;
        *n = 0;
        return vc_cbor_read_null(r);
    }
    return vc_cbor_read_bytes(r, p, n);
}

int wallet_drawrandom_digest(const uint8_t *cbor, size_t len, uint8_t ret[32], char *err, size_t errlen)
{
    vc_cbor_reader_t r;
    uint64_t n;
    const uint8_t *rbase = NULL, *entropy = NULL;
    size_t rbase_len = 0, entropy_len = 0;
    int64_t pers = 0, round = 0;
    unsigned seen = 0;
    int k;

    vc_cbor_reader_init(&r, cbor, len);
    if (vc_cbor_read_map(&r, &n) < 0)
        return seterr(err, errlen, VC_EPARSE, "DrawRandomParams: expected a CBOR map");
    for (uint64_t i = 0; i < n; i++) {
        const char *key;
        size_t kl;
        unsigned bit;
        if (vc_cbor_read_text(&r, &key, &kl) < 0)
            return seterr(err, errlen, VC_EPARSE, "DrawRandomParams: expected a text key");
        if (kl == 5 && memcmp(key, "Rbase", 5) == 0) {
            bit = 1;
            k = read_bytes_or_null(&r, &rbase, &rbase_len);
        } else if (kl == 4 && memcmp(key, "Pers", 4) == 0) {
            bit = 2;
            k = vc_cbor_read_int(&r, &pers);
        } else if (kl == 5 && memcmp(key, "Round", 5) == 0) {
            bit = 4;
            k = vc_cbor_read_int(&r, &round);
        } else if (kl == 7 && memcmp(key, "Entropy", 7) == 0) {
            bit = 8;
            k = read_bytes_or_null(&r, &entropy, &entropy_len);
        } else {
            bit = 0; /* unknown keys are skipped, as Go's decoder does */
            k = vc_cbor_skip(&r);
        }
        if (k < 0)
            return seterr(err, errlen, VC_EPARSE, "DrawRandomParams: bad value for key '%.*s'", (int)VC_MIN(kl, 32),
                          key);
        if (seen & bit)
            return seterr(err, errlen, VC_EPARSE, "DrawRandomParams: duplicate key '%.*s'", (int)kl, key);
        seen |= bit;
    }
    if (vc_cbor_expect_end(&r) < 0)
        return seterr(err, errlen, VC_EPARSE, "DrawRandomParams: trailing bytes");
    if ((seen & 7) != 7)
        return seterr(err, errlen, VC_EPARSE, "DrawRandomParams: Rbase, Pers and Round are required");

    uint8_t be[8], h[32];
    vc_blake2b_t s;
    vc_blake2b_init(&s, 32);
    put_be64(be, pers);
    vc_blake2b_update(&s, be, 8);
    vc_blake2b_256(rbase, rbase_len, h);
    vc_blake2b_update(&s, h, 32);
    put_be64(be, round);
    vc_blake2b_update(&s, be, 8);
    vc_blake2b_update(&s, entropy, entropy_len);
    vc_blake2b_final(&s, ret);
    return 0;
}

int wallet_sign(wallet_ks_t *ks, const vc_address_t *signer, const uint8_t *to_sign, size_t len,
                const wallet_meta_t *meta, const uint8_t *sign_bytes, vc_signature_t *ret, char *err, size_t errlen)
{
    const uint8_t *data = to_sign;
    size_t dlen = len;
    uint8_t digest[32];
    int r;

    if (len > WALLET_TOSIGN_MAX)
        return seterr(err, errlen, VC_ETOOBIG, "data to sign is larger than %d bytes", WALLET_TOSIGN_MAX);
    if (!wallet_ks_has(ks, signer)) {
        char s[VC_ADDRESS_STRLEN_MAX] = "?";
        vc_address_to_string(signer, wallet_ks_network(ks), s);
        return seterr(err, errlen, WALLET_ENOKEY, "key not found for %s", s);
    }
    if (vc_streq(meta->type, "message")) {
        vc_message_t m = {0};
        vc_cid_t cid, given;
        if (!meta->extra_len)
            return seterr(err, errlen, VC_EPARSE, "meta type message needs the message CBOR in Meta.Extra");
        if (vc_message_decode(meta->extra, meta->extra_len, &m) < 0)
            return seterr(err, errlen, VC_EPARSE, "Meta.Extra does not decode as a CBOR message");
        r = vc_message_cid(&m, &cid);
        vc_message_done(&m);
        if (r < 0)
            return seterr(err, errlen, r, "cannot compute the message CID: %s", vc_strerror(r));
        if (vc_cid_from_bytes(to_sign, len, &given) < 0 || !vc_cid_equal(&cid, &given))
            return seterr(err, errlen, VC_EVERIFY, "the data to sign is not the CID of the message in Meta.Extra");
    } else if (vc_streq(meta->type, "drawrandomparam")) {
        if ((r = wallet_drawrandom_digest(to_sign, len, digest, err, errlen)) < 0)
            return r;
        data = digest;
        dlen = sizeof(digest);
    } else if (vc_streq(meta->type, "verifyaddress") && sign_bytes) {
        uint8_t want[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        if (meta->extra_len)
            crypto_hash_sha256_update(&st, meta->extra, meta->extra_len);
        crypto_hash_sha256_update(&st, sign_bytes, WALLET_SIGN_BYTES_LEN);
        crypto_hash_sha256_final(&st, want);
        if (len != sizeof(want) || sodium_memcmp(want, to_sign, sizeof(want)) != 0)
            return seterr(err, errlen, VC_EVERIFY, "verifyaddress: the data to sign is not SHA-256(Extra || SignBytes)");
    }
    r = wallet_ks_sign(ks, signer, data, dlen, ret);
    if (r < 0)
        return seterr(err, errlen, r, "%s", wallet_strerror(r));
    return 0;
}
