/*
 * crypto.h: secp256k1 keys and signatures the Filecoin way, and the Lotus key export format.
 *
 * Signing: RFC 6979 deterministic, low-S, recoverable ECDSA (libsecp256k1) over
 * blake2b-256(message bytes); the signature is 65 bytes r || s || v with v the recovery id (0/1).
 * Verification recovers the public key and compares its f1 address with the expected one (this
 * is how Filecoin verifies; there is no public key on chain). For messages the signed bytes are
 * the binary CID of the unsigned message.
 *
 * BLS keys can be imported/exported but not used: BLS operations return -EOPNOTSUPP.
 * Call vc_init() (libsodium) before generating keys. The libsecp256k1 context is created once,
 * thread-safely, on first use.
 */
#ifndef VC_CRYPTO_H
#define VC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/address.h"
#include "vc/message.h"
#include "vc/signature.h"

#define VC_SECP256K1_PRIVKEY_LEN 32
#define VC_SECP256K1_PUBKEY_LEN 65
#define VC_SECP256K1_SIG_LEN 65

bool vc_secp256k1_privkey_valid(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN]);
/* Random valid key (libsodium randomness). */
int vc_secp256k1_generate(uint8_t ret_key[VC_SECP256K1_PRIVKEY_LEN]);
/* Uncompressed public key 04 || X || Y. -EINVAL for an invalid private key. */
int vc_secp256k1_pubkey(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN],
                        uint8_t ret_pub[VC_SECP256K1_PUBKEY_LEN]);
/* f1 address of a private key. */
int vc_secp256k1_address(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN], vc_address_t *ret);
int vc_secp256k1_sign(const uint8_t key[VC_SECP256K1_PRIVKEY_LEN], const void *msg, size_t len,
                      uint8_t ret_sig[VC_SECP256K1_SIG_LEN]);
/* Public key that produced sig over msg. VC_EVERIFY if none can be recovered. */
int vc_secp256k1_recover(const uint8_t sig[VC_SECP256K1_SIG_LEN], const void *msg, size_t len,
                         uint8_t ret_pub[VC_SECP256K1_PUBKEY_LEN]);
/* 0 if sig over msg was made by the key of the f1 address addr, else VC_EVERIFY. */
int vc_secp256k1_verify(const uint8_t sig[VC_SECP256K1_SIG_LEN], const void *msg, size_t len,
                        const vc_address_t *addr);

/* Verifies a typed signature against an address: secp256k1 as above; BLS and delegated return
 * -EOPNOTSUPP; other types VC_EVERIFY. */
int vc_signature_verify(const vc_signature_t *sig, const void *msg, size_t len,
                        const vc_address_t *addr);

/* Signs a message for the secp256k1 key: signature over the message CID bytes. */
int vc_message_sign_secp256k1(const vc_message_t *m, const uint8_t key[VC_SECP256K1_PRIVKEY_LEN],
                              vc_signature_t *ret);
/* Verifies sm->signature over sm->message's CID against sm->message.from. */
int vc_signed_message_verify(const vc_signed_message_t *sm);

/* ---- Lotus key export: hex(JSON {"Type":"secp256k1"|"bls","PrivateKey":"<base64>"}) ---- */
typedef enum vc_key_type {
    VC_KEY_SECP256K1,
    VC_KEY_BLS,
    VC_KEY_TYPE_MAX,
} vc_key_type_t;

typedef struct vc_key_info {
    vc_key_type_t type;
    uint8_t key[32];
} vc_key_info_t;

/* "secp256k1" / "bls". */
const char *vc_key_type_to_string(vc_key_type_t t);
int vc_key_type_from_string(const char *s, vc_key_type_t *ret);
/* *ret is a malloc'ed NUL-terminated hex string. */
int vc_key_info_export(const vc_key_info_t *ki, char **ret);
/* Accepts the hex export (any case). VC_EPARSE / VC_ETYPE / -EINVAL (bad secp256k1 key). */
int vc_key_info_import(const char *hex, vc_key_info_t *ret);
/* Wipes the key material. */
void vc_key_info_wipe(vc_key_info_t *ki);

#endif
