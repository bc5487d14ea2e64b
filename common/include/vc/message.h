/*
 * message.h: Filecoin Message and SignedMessage (chain/types) in CBOR and Lotus JSON.
 *
 * CBOR: Message = array(10) [Version, To, From, Nonce, Value, GasLimit, GasFeeCap, GasPremium,
 * Method, Params]; SignedMessage = array(2) [Message, Signature]. Decoding is strict (exact
 * field count and types, no trailing bytes).
 * CIDs: Message CID = CIDv1 dag-cbor blake2b-256 of its CBOR. The SignedMessage CID is the CID
 * of its CBOR for secp256k1 (and every non-BLS type), and the plain message CID for BLS.
 *
 * JSON (Lotus): {"Version":0,"To":"f04","From":"f00","Nonce":34,"Value":"0","GasLimit":123,
 * "GasFeeCap":"234","GasPremium":"234","Method":6,"Params":"aGFp","CID":{"/":"bafy..."}}.
 * Params is base64, null when empty (both null and "" accepted). "CID" is output-only and
 * ignored on input. jansson limits JSON integers to int64, so Nonce/Method above INT64_MAX
 * cannot be written (-ERANGE) and are not accepted.
 *
 * A message owns its params (malloc'ed, may be NULL when params_len is 0): release with
 * vc_message_done(). vc_message_t m = {0} is a valid empty message.
 */
#ifndef VC_MESSAGE_H
#define VC_MESSAGE_H

#include <stdint.h>

#include <jansson.h>

#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/signature.h"

/* Upper bound for Params (bytes) accepted by the decoders (cbor-gen ByteArrayMaxLen, 2 MiB). */
#define VC_MESSAGE_PARAMS_MAX (2 * 1024 * 1024)

typedef struct vc_message {
    uint64_t version;
    vc_address_t to;
    vc_address_t from;
    uint64_t nonce;
    vc_bigint_t value;
    int64_t gas_limit;
    vc_bigint_t gas_fee_cap;
    vc_bigint_t gas_premium;
    uint64_t method;
    uint8_t *params;
    size_t params_len;
} vc_message_t;

typedef struct vc_signed_message {
    vc_message_t message;
    vc_signature_t signature;
} vc_signed_message_t;

/* Frees params and zeroes the message. */
void vc_message_done(vc_message_t *m);
void vc_signed_message_done(vc_signed_message_t *sm);
/* Deep copy into *ret (-ENOMEM). */
int vc_message_copy(const vc_message_t *m, vc_message_t *ret);
/* Replaces params with a copy of data. */
int vc_message_set_params(vc_message_t *m, const uint8_t *data, size_t len);

/* Appends the CBOR encoding. -EINVAL if To/From is undefined, -ERANGE for oversized big ints. */
int vc_message_encode(const vc_message_t *m, vc_buf_t *out);
/* Reads one message from r (embedded use). ret is written only on success. */
int vc_message_read(vc_cbor_reader_t *r, vc_message_t *ret);
/* Decodes exactly len bytes. */
int vc_message_decode(const uint8_t *data, size_t len, vc_message_t *ret);
int vc_message_cid(const vc_message_t *m, vc_cid_t *ret);

int vc_signed_message_encode(const vc_signed_message_t *sm, vc_buf_t *out);
int vc_signed_message_read(vc_cbor_reader_t *r, vc_signed_message_t *ret);
int vc_signed_message_decode(const uint8_t *data, size_t len, vc_signed_message_t *ret);
int vc_signed_message_cid(const vc_signed_message_t *sm, vc_cid_t *ret);

/* Lotus JSON. network is 'f' or 't' (address prefix); with_cid adds "CID". *ret is a new
 * reference. */
int vc_message_to_json(const vc_message_t *m, char network, bool with_cid, json_t **ret);
/* VC_ETYPE for a wrong JSON type or missing field, VC_EPARSE for bad values (addresses, big
 * ints, base64), -ERANGE for out-of-range integers. Unknown keys are ignored (as Go does). */
int vc_message_from_json(const json_t *j, vc_message_t *ret);
int vc_signed_message_to_json(const vc_signed_message_t *sm, char network, bool with_cid,
                              json_t **ret);
int vc_signed_message_from_json(const json_t *j, vc_signed_message_t *ret);

#endif
