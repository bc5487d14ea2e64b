/*
 * signature.h: Filecoin crypto.Signature {Type, Data}.
 *
 * CBOR: one byte string, type byte || data. JSON (Lotus): {"Type":1,"Data":"<base64>"}, Data
 * null when empty. Types: 1 secp256k1 (65 bytes), 2 BLS (96 bytes), 3 delegated (65 bytes);
 * type 0 appears only in zero values: it can be encoded but decoding rejects it, as Go does.
 */
#ifndef VC_SIGNATURE_H
#define VC_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vc/cbor.h"

typedef enum vc_sig_type {
    VC_SIG_NONE = 0,
    VC_SIG_SECP256K1 = 1,
    VC_SIG_BLS = 2,
    VC_SIG_DELEGATED = 3,
    VC_SIG_TYPE_MAX,
} vc_sig_type_t;

/* cbor-gen's limit for a signature byte string (type byte included). */
#define VC_SIGNATURE_DATA_MAX 199

typedef struct vc_signature {
    uint8_t type;
    uint8_t len;
    uint8_t data[VC_SIGNATURE_DATA_MAX];
} vc_signature_t;

/* Sets type and data. -EINVAL beyond VC_SIGNATURE_DATA_MAX. */
int vc_signature_set(vc_signature_t *s, vc_sig_type_t type, const uint8_t *data, size_t len);

int vc_cbor_put_signature(vc_buf_t *b, const vc_signature_t *s);
/* VC_EPARSE for an empty string or an unknown type, VC_ETOOBIG above the limit. */
int vc_cbor_read_signature(vc_cbor_reader_t *r, vc_signature_t *ret);

json_t *vc_signature_to_json(const vc_signature_t *s);
int vc_signature_from_json(const json_t *j, vc_signature_t *ret);

#endif
