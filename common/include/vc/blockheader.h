/*
 * blockheader.h: Filecoin BlockHeader CBOR (array of 16, cbor-gen tuple order):
 *   Miner, Ticket{VRFProof}, ElectionProof{WinCount,VRFProof}, BeaconEntries[{Round,Data}],
 *   WinPoStProof[{PoStProof,ProofBytes}], Parents[cid], ParentWeight big, Height i64,
 *   ParentStateRoot cid, ParentMessageReceipts cid, Messages cid, BLSAggregate Signature,
 *   Timestamp u64, BlockSig Signature, ForkSignaling u64, ParentBaseFee big.
 * Ticket, ElectionProof, BLSAggregate and BlockSig are optional (null when absent).
 *
 * Headers filled by the caller borrow every byte/array pointer (storage_ stays NULL). Headers
 * produced by vc_block_header_decode / _from_json / _copy own their arrays (storage_): release
 * them with vc_block_header_done().
 * Signing bytes = the CBOR with BlockSig forced to null; block CID = CID of the full CBOR.
 *
 * Decoding is strict (exact field counts and types, no trailing bytes) and bounded: arrays of at
 * most VC_BLOCK_HEADER_ARRAY_MAX entries, byte strings of at most VC_BLOCK_HEADER_BYTES_MAX.
 * A signature whose type byte is 0 (Go's zero value, "4100") is accepted back in BLSAggregate
 * and BlockSig so that what we encode decodes again; other unknown types are VC_EPARSE.
 *
 * JSON (Lotus BlockHeader): {"Miner","Ticket":{"VRFProof"}|null,
 * "ElectionProof":{"WinCount","VRFProof"}|null,"BeaconEntries":[{"Round","Data"}],
 * "WinPoStProof":[{"PoStProof","ProofBytes"}],"Parents":[{"/":..}],"ParentWeight":"big",
 * "Height","ParentStateRoot","ParentMessageReceipts","Messages","BLSAggregate":Signature|null,
 * "Timestamp","BlockSig":Signature|null,"ForkSignaling","ParentBaseFee":"big"}; byte fields
 * are base64 (null when empty). Input accepts null for empty arrays.
 */
#ifndef VC_BLOCKHEADER_H
#define VC_BLOCKHEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/signature.h"

typedef struct vc_beacon_entry {
    uint64_t round;
    const uint8_t *data;
    size_t data_len;
} vc_beacon_entry_t;

typedef struct vc_post_proof {
    int64_t proof_type; /* RegisteredPoStProof */
    const uint8_t *proof;
    size_t proof_len;
} vc_post_proof_t;

typedef struct vc_block_header {
    vc_address_t miner;
    bool has_ticket;
    const uint8_t *ticket_vrf;
    size_t ticket_vrf_len;
    bool has_election_proof;
    int64_t win_count;
    const uint8_t *election_vrf;
    size_t election_vrf_len;
    const vc_beacon_entry_t *beacon_entries;
    size_t n_beacon_entries;
    const vc_post_proof_t *win_post_proof;
    size_t n_win_post_proof;
    const vc_cid_t *parents;
    size_t n_parents;
    vc_bigint_t parent_weight;
    int64_t height;
    vc_cid_t parent_state_root;
    vc_cid_t parent_message_receipts;
    vc_cid_t messages;
    const vc_signature_t *bls_aggregate; /* NULL = absent */
    uint64_t timestamp;
    const vc_signature_t *block_sig;     /* NULL = absent */
    uint64_t fork_signaling;
    vc_bigint_t parent_base_fee;
    void *storage_; /* internal: arrays owned by a decoded header; NULL when caller-filled */
} vc_block_header_t;

/* cbor-gen limits. */
#define VC_BLOCK_HEADER_ARRAY_MAX 8192
#define VC_BLOCK_HEADER_BYTES_MAX (2 * 1024 * 1024)

/* Appends the full CBOR. -EINVAL for an undefined miner address or CID. */
int vc_block_header_encode(const vc_block_header_t *h, vc_buf_t *out);
/* Appends the signing bytes (BlockSig = null). */
int vc_block_header_signing_bytes(const vc_block_header_t *h, vc_buf_t *out);
int vc_block_header_cid(const vc_block_header_t *h, vc_cid_t *ret);

/* Decodes exactly len bytes into an owned header (*ret written only on success). Errors: the
 * CBOR reader's (VC_ETRUNC, VC_EPARSE, VC_ETYPE, -ERANGE), VC_ETOOBIG beyond the limits. */
int vc_block_header_decode(const uint8_t *data, size_t len, vc_block_header_t *ret);
/* Reads one header from r (embedded use, e.g. BlockMsg). */
int vc_block_header_read(vc_cbor_reader_t *r, vc_block_header_t *ret);
/* Deep copy into an owned header. */
int vc_block_header_copy(const vc_block_header_t *h, vc_block_header_t *ret);
/* Frees an owned header's arrays and zeroes it (no-op for NULL). */
void vc_block_header_done(vc_block_header_t *h);

/* Lotus JSON, network 'f' or 't' for addresses. *ret is a new reference. */
int vc_block_header_to_json(const vc_block_header_t *h, char network, json_t **ret);
/* Owned header from JSON. VC_ETYPE (wrong JSON type / missing field), VC_EPARSE (bad address,
 * CID, big int or base64), -ERANGE, VC_ETOOBIG. Unknown keys are ignored. */
int vc_block_header_from_json(const json_t *j, vc_block_header_t *ret);

#endif
