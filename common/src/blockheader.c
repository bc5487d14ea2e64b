/* blockheader.c: BlockHeader CBOR encoding. */
#include "vc/blockheader.h"
#include "vc/cbor.h"

static int encode(const vc_block_header_t *h, bool with_sig, vc_buf_t *out)
{
    int r;

    if ((r = vc_cbor_put_array(out, 16)) < 0 || (r = vc_cbor_put_address(out, &h->miner)) < 0)
        return r;
    if (h->has_ticket) {
        if ((r = vc_cbor_put_array(out, 1)) < 0 ||
            (r = vc_cbor_put_bytes(out, h->ticket_vrf, h->ticket_vrf_len)) < 0)
            return r;
    } else if ((r = vc_cbor_put_null(out)) < 0)
        return r;
    if (h->has_election_proof) {
        if ((r = vc_cbor_put_array(out, 2)) < 0 || (r = vc_cbor_put_int(out, h->win_count)) < 0 ||
            (r = vc_cbor_put_bytes(out, h->election_vrf, h->election_vrf_len)) < 0)
            return r;
    } else if ((r = vc_cbor_put_null(out)) < 0)
        return r;
    if ((r = vc_cbor_put_array(out, h->n_beacon_entries)) < 0)
        return r;
    for (size_t i = 0; i < h->n_beacon_entries; i++) {
        const vc_beacon_entry_t *e = &h->beacon_entries[i];
        if ((r = vc_cbor_put_array(out, 2)) < 0 || (r = vc_cbor_put_uint(out, e->round)) < 0 ||
            (r = vc_cbor_put_bytes(out, e->data, e->data_len)) < 0)
            return r;
    }
    if ((r = vc_cbor_put_array(out, h->n_win_post_proof)) < 0)
        return r;
    for (size_t i = 0; i < h->n_win_post_proof; i++) {
        const vc_post_proof_t *p = &h->win_post_proof[i];
        if ((r = vc_cbor_put_array(out, 2)) < 0 || (r = vc_cbor_put_int(out, p->proof_type)) < 0 ||
            (r = vc_cbor_put_bytes(out, p->proof, p->proof_len)) < 0)
            return r;
    }
    if ((r = vc_cbor_put_array(out, h->n_parents)) < 0)
        return r;
    for (size_t i = 0; i < h->n_parents; i++)
        if ((r = vc_cbor_put_cid(out, &h->parents[i])) < 0)
            return r;
    if ((r = vc_cbor_put_bigint(out, &h->parent_weight)) < 0 ||
        (r = vc_cbor_put_int(out, h->height)) < 0 ||
        (r = vc_cbor_put_cid(out, &h->parent_state_root)) < 0 ||
        (r = vc_cbor_put_cid(out, &h->parent_message_receipts)) < 0 ||
        (r = vc_cbor_put_cid(out, &h->messages)) < 0)
        return r;
    r = h->bls_aggregate ? vc_cbor_put_signature(out, h->bls_aggregate) : vc_cbor_put_null(out);
    if (r < 0 || (r = vc_cbor_put_uint(out, h->timestamp)) < 0)
        return r;
    r = with_sig && h->block_sig ? vc_cbor_put_signature(out, h->block_sig) : vc_cbor_put_null(out);
    if (r < 0 || (r = vc_cbor_put_uint(out, h->fork_signaling)) < 0)
        return r;
    return vc_cbor_put_bigint(out, &h->parent_base_fee);
}

int vc_block_header_encode(const vc_block_header_t *h, vc_buf_t *out)
{
    return encode(h, true, out);
}

int vc_block_header_signing_bytes(const vc_block_header_t *h, vc_buf_t *out)
{
    return encode(h, false, out);
}

int vc_block_header_cid(const vc_block_header_t *h, vc_cid_t *ret)
{
    vc_buf_t b = {0};
    int r = encode(h, true, &b);
    if (r >= 0)
        vc_cid_sum_dagcbor(b.data, b.len, ret);
    vc_buf_done(&b);
    return r < 0 ? r : 0;
}
