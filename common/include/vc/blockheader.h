/*
 * blockheader.h: Filecoin BlockHeader CBOR (array of 16, cbor-gen tuple order):
 *   Miner, Ticket{VRFProof}, ElectionProof{WinCount,VRFProof}, BeaconEntries[{Round,Data}],
 *   WinPoStProof[{PoStProof,ProofBytes}], Parents[cid], ParentWeight big, Height i64,
 *   ParentStateRoot cid, ParentMessageReceipts cid, Messages cid, BLSAggregate Signature,
 *   Timestamp u64, BlockSig Signature, ForkSignaling u64, ParentBaseFee big.
 * Ticket, ElectionProof, BLSAggregate and BlockSig are optional (null when absent).
 *
 * This module encodes only; all byte/array pointers in the struct are borrowed from the caller.
 * Signing bytes = the CBOR with BlockSig forced to null; block CID = CID of the full CBOR.
 */
#ifndef VC_BLOCKHEADER_H
#define VC_BLOCKHEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/address.h"
#include "vc/bigint.h"
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
} vc_block_header_t;

/* Appends the full CBOR. -EINVAL for an undefined miner address or CID. */
int vc_block_header_encode(const vc_block_header_t *h, vc_buf_t *out);
/* Appends the signing bytes (BlockSig = null). */
int vc_block_header_signing_bytes(const vc_block_header_t *h, vc_buf_t *out);
int vc_block_header_cid(const vc_block_header_t *h, vc_cid_t *ret);

#endif
