/*
 * wallet-sign.h: what the wallet signs for a WalletSign request, by MsgMeta.Type.
 *
 *   "message"          toSign must be the binary CID of the unsigned Message whose CBOR is in
 *                      Meta.Extra; anything else is refused. The CID bytes are signed.
 *   "block"            the bytes as given (block header signing bytes).
 *   "drawrandomparam"  toSign is the CBOR map {"Rbase":bytes,"Pers":int,"Round":int,
 *                      "Entropy":bytes}; the digest blake2b-256(int64_BE(Pers) ||
 *                      blake2b-256(Rbase) || int64_BE(Round) || Entropy) is signed.
 *   "verifyaddress"    the gateway's ownership challenge. When the caller passes the wallet's
 *                      SignBytes (gateway sessions), toSign must equal SHA-256(Extra ||
 *                      SignBytes), so a gateway cannot use the challenge to get arbitrary bytes
 *                      signed; the bytes are then signed as given.
 *   anything else      the bytes as given.
 * secp256k1 signing hashes with blake2b-256 inside (vc_secp256k1_sign).
 */
#ifndef WALLET_SIGN_H
#define WALLET_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wallet-keystore.h"

#define WALLET_SIGN_BYTES_LEN 32
#define WALLET_TOSIGN_MAX (4 * 1024 * 1024)

/* A parsed MsgMeta. extra is malloc'ed (NULL when absent). */
typedef struct wallet_meta {
    char type[32];
    uint8_t *extra;
    size_t extra_len;
} wallet_meta_t;

void wallet_meta_done(wallet_meta_t *m);
/* {"Type":"message","Extra":"<b64>"|null}; null meta = type "". VC_ETYPE / VC_EPARSE. */
int wallet_meta_from_json(const json_t *j, wallet_meta_t *ret);

/* The DrawRandomParams digest of cbor (VC_EPARSE with a reason in err). */
int wallet_drawrandom_digest(const uint8_t *cbor, size_t len, uint8_t ret[32], char *err, size_t errlen);

/*
 * Applies the rules above and signs with signer's key. sign_bytes (may be NULL) enables the
 * verifyaddress check. On failure err holds one line for the caller (e.g. "wallet is locked").
 */
int wallet_sign(wallet_ks_t *ks, const vc_address_t *signer, const uint8_t *to_sign, size_t len,
                const wallet_meta_t *meta, const uint8_t *sign_bytes, vc_signature_t *ret, char *err, size_t errlen);

#endif
