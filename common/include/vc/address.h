/*
 * address.h: Filecoin addresses (go-address compatible), protocols 0-4.
 *
 * An address is kept in its byte form: protocol byte || payload.
 *   0 ID         payload = uvarint(id), id <= INT64_MAX
 *   1 secp256k1  payload = blake2b-160(65-byte uncompressed public key)
 *   2 actor      payload = blake2b-160(data)
 *   3 BLS        payload = 48-byte public key
 *   4 delegated  payload = uvarint(namespace) || subaddress (0..54 bytes), namespace <= INT64_MAX
 * String form: network letter ('f' mainnet, 't' testnets) + protocol digit + ID decimal, or
 * base32(payload || checksum) with checksum = blake2b-32(protocol || payload); delegated is
 * "f4<namespace>f<base32(subaddress || checksum)>". Parsing follows go-address: leading zeros in
 * an ID or namespace are accepted (Go's ParseUint does) and dropped on re-encoding; everything
 * else must be canonical (lowercase, exact lengths, valid checksum).
 *
 * A zero-initialised vc_address_t (len 0) is the undefined address.
 */
#ifndef VC_ADDRESS_H
#define VC_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum vc_addr_protocol {
    VC_ADDR_ID = 0,
    VC_ADDR_SECP256K1 = 1,
    VC_ADDR_ACTOR = 2,
    VC_ADDR_BLS = 3,
    VC_ADDR_DELEGATED = 4,
    VC_ADDR_PROTOCOL_MAX,
} vc_addr_protocol_t;

#define VC_ADDRESS_PAYLOAD_HASH_LEN 20
#define VC_ADDRESS_BLS_PUBKEY_LEN 48
#define VC_ADDRESS_SUBADDRESS_MAX 54
#define VC_ADDRESS_CHECKSUM_LEN 4
/* Largest byte form: protocol + 9-byte namespace varint + 54-byte subaddress. */
#define VC_ADDRESS_BYTES_MAX 64
/* Longest string (115, as go-address) plus NUL. */
#define VC_ADDRESS_STRLEN_MAX 116

typedef struct vc_address {
    uint8_t len; /* bytes used in bytes[]; 0 = undefined */
    uint8_t bytes[VC_ADDRESS_BYTES_MAX];
} vc_address_t;

static inline bool vc_address_is_undef(const vc_address_t *a)
{
    return a->len == 0;
}
/* Protocol byte; only meaningful when defined. */
static inline vc_addr_protocol_t vc_address_protocol(const vc_address_t *a)
{
    return (vc_addr_protocol_t)a->bytes[0];
}

/* Parses the string s of len bytes. ret_network (may be NULL) receives 'f' or 't'.
 * Errors: VC_EPARSE (syntax, bad base32, unknown protocol), VC_ECHECKSUM, -ERANGE (ID or
 * namespace above INT64_MAX), VC_ETOOBIG (longer than 115). The empty string is an error. */
int vc_address_parse(const char *s, size_t len, vc_address_t *ret, char *ret_network);
/* Same for a NUL-terminated string. */
int vc_address_from_string(const char *s, vc_address_t *ret);

/* Canonical string with network 'f' or 't'. Returns its length; -EINVAL for a bad network or an
 * undefined/invalid address. */
int vc_address_to_string(const vc_address_t *a, char network, char out[VC_ADDRESS_STRLEN_MAX]);

/* From the byte form (protocol || payload), validated per protocol. Empty input is an error
 * (VC_EPARSE); callers that allow "undefined" check for len 0 themselves. */
int vc_address_from_bytes(const uint8_t *b, size_t len, vc_address_t *ret);

/* Constructors. */
int vc_address_new_id(uint64_t id, vc_address_t *ret);                             /* -ERANGE */
int vc_address_new_secp256k1(const uint8_t *pubkey, size_t len, vc_address_t *ret); /* 65 bytes */
int vc_address_new_actor(const uint8_t *data, size_t len, vc_address_t *ret);
int vc_address_new_bls(const uint8_t *pubkey, size_t len, vc_address_t *ret);       /* 48 bytes */
int vc_address_new_delegated(uint64_t ns, const uint8_t *sub, size_t sublen, vc_address_t *ret);

/* The id of an ID address (-EINVAL for other protocols). */
int vc_address_id(const vc_address_t *a, uint64_t *ret);
/* Namespace and subaddress (pointer into a) of a delegated address. */
int vc_address_delegated(const vc_address_t *a, uint64_t *ret_ns, const uint8_t **ret_sub,
                         size_t *ret_sublen);

bool vc_address_equal(const vc_address_t *a, const vc_address_t *b);
/* Byte-wise ordering of the byte forms (shorter prefix first), like Go string comparison. */
int vc_address_compare(const vc_address_t *a, const vc_address_t *b);

#endif
