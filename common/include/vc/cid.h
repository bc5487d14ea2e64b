/*
 * cid.h: CIDv1 (multiformats) as Filecoin uses them.
 *
 * A CID is kept in its binary form: uvarint(version=1) uvarint(codec) uvarint(multihash code)
 * uvarint(digest length) digest. Any codec and multihash code are accepted when parsing (the
 * digest must have the declared length, at most VC_CID_DIGEST_MAX bytes); Filecoin's usual one
 * is dag-cbor (0x71) + blake2b-256 (0xb220). The string form is multibase 'b' + lowercase
 * base32 without padding ("bafy2bza..."). CIDv0 ("Qm...", base58btc sha2-256) is not
 * supported: parsing one returns -EOPNOTSUPP. Varints must be minimal (as go-cid/go-varint).
 */
#ifndef VC_CID_H
#define VC_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define VC_CID_CODEC_RAW 0x55
#define VC_CID_CODEC_DAG_CBOR 0x71
#define VC_MH_IDENTITY 0x00
#define VC_MH_SHA2_256 0x12
#define VC_MH_BLAKE2B_256 0xb220

#define VC_CID_DIGEST_MAX 128
#define VC_CID_BYTES_MAX (4 * 9 + VC_CID_DIGEST_MAX)
/* 'b' + base32 of VC_CID_BYTES_MAX bytes + NUL. */
#define VC_CID_STRLEN_MAX (1 + (VC_CID_BYTES_MAX * 8 + 4) / 5 + 1)

typedef struct vc_cid {
    uint8_t len;                       /* bytes used; 0 = undefined CID */
    uint8_t bytes[VC_CID_BYTES_MAX];
} vc_cid_t;

/* Parsed view of a CID (pointer into the cid). */
typedef struct vc_cid_info {
    uint64_t version;
    uint64_t codec;
    uint64_t mh_code;
    const uint8_t *digest;
    size_t digest_len;
} vc_cid_info_t;

/* Builds a CIDv1. -EINVAL for a digest longer than VC_CID_DIGEST_MAX. */
int vc_cid_new(uint64_t codec, uint64_t mh_code, const uint8_t *digest, size_t len,
               vc_cid_t *ret);
/* CIDv1 dag-cbor blake2b-256 of data (the CID of a Filecoin CBOR object). */
void vc_cid_sum_dagcbor(const void *data, size_t len, vc_cid_t *ret);

/* Reads one binary CID from the start of b (e.g. a TipSetKey's concatenation); *ret_used gets
 * its length. VC_ETRUNC, VC_EPARSE, -EOPNOTSUPP (CIDv0 / other versions), VC_ETOOBIG. */
int vc_cid_read(const uint8_t *b, size_t len, vc_cid_t *ret, size_t *ret_used);
/* Exactly one binary CID (VC_EPARSE on trailing bytes). */
int vc_cid_from_bytes(const uint8_t *b, size_t len, vc_cid_t *ret);
int vc_cid_info(const vc_cid_t *c, vc_cid_info_t *ret);

/* String form. Parsing requires 'b' + canonical lowercase base32. */
int vc_cid_parse(const char *s, size_t len, vc_cid_t *ret);
int vc_cid_from_string(const char *s, vc_cid_t *ret);
/* Returns the length written (NUL-terminated), -EINVAL for an undefined CID. */
int vc_cid_to_string(const vc_cid_t *c, char out[VC_CID_STRLEN_MAX]);

bool vc_cid_equal(const vc_cid_t *a, const vc_cid_t *b);
int vc_cid_compare(const vc_cid_t *a, const vc_cid_t *b);

/* JSON {"/":"bafy..."}. to_json returns a new reference or NULL (OOM / undefined CID);
 * from_json returns VC_ETYPE if the shape is wrong. */
json_t *vc_cid_to_json(const vc_cid_t *c);
int vc_cid_from_json(const json_t *j, vc_cid_t *ret);

#endif
