/* blockheader.c: BlockHeader CBOR encoding and decoding, Lotus JSON. */
#include "vc/blockheader.h"
#include "vc/cbor.h"
#include "vc/util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- owned headers: every array lives in a chain of chunks hung on storage_ ---- */

struct chunk {
    struct chunk *next;
    max_align_t data[];
};

static void *arena_alloc(vc_block_header_t *h, size_t size)
{
    struct chunk *c = malloc(sizeof(*c) + (size ? size : 1));
    if (!c)
        return NULL;
    c->next = h->storage_;
    h->storage_ = c;
    return c->data;
}

static void *arena_dup(vc_block_header_t *h, const void *p, size_t len)
{
    void *d = arena_alloc(h, len);
    if (d && len)
        memcpy(d, p, len);
    return d;
}

void vc_block_header_done(vc_block_header_t *h)
{
    if (!h)
        return;
    for (struct chunk *c = h->storage_, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    memset(h, 0, sizeof(*h));
}

static int read_bytes_max(vc_cbor_reader_t *r, const uint8_t **ret, size_t *ret_len)
{
    vc_cbor_reader_t t = *r;
    int rr = vc_cbor_read_bytes(&t, ret, ret_len);
    if (rr < 0)
        return rr;
    if (*ret_len > VC_BLOCK_HEADER_BYTES_MAX)
        return VC_ETOOBIG;
    *r = t;
    return 0;
}

static int read_array_max(vc_cbor_reader_t *r, uint64_t *ret)
{
    vc_cbor_reader_t t = *r;
    int rr = vc_cbor_read_array(&t, ret);
    if (rr < 0)
        return rr;
    if (*ret > VC_BLOCK_HEADER_ARRAY_MAX)
        return VC_ETOOBIG;
    *r = t;
    return 0;
}

static int read_array_exact(vc_cbor_reader_t *r, uint64_t want)
{
    uint64_t n;
    int rr = vc_cbor_read_array(r, &n);
    if (rr < 0)
        return rr;
    return n == want ? 0 : VC_EPARSE;
}

/* A signature that may be the Go zero value (type 0), or null (*ret = NULL). */
static int read_opt_sig(vc_cbor_reader_t *r, vc_block_header_t *h, const vc_signature_t **ret)
{
    const uint8_t *p;
    size_t n;
    int rr;

    if (vc_cbor_peek_null(r)) {
        *ret = NULL;
        return vc_cbor_read_null(r);
    }
    if ((rr = vc_cbor_read_bytes(r, &p, &n)) < 0)
        return rr;
    if (n == 0 || p[0] >= VC_SIG_TYPE_MAX)
        return VC_EPARSE;
    if (n - 1 > VC_SIGNATURE_DATA_MAX)
        return VC_ETOOBIG;
    vc_signature_t *s = arena_alloc(h, sizeof(*s));
    if (!s)
        return -ENOMEM;
    (void)vc_signature_set(s, (vc_sig_type_t)p[0], p + 1, n - 1);
    *ret = s;
    return 0;
}

static int read_header(vc_cbor_reader_t *r, vc_block_header_t *h)
{
    const uint8_t *p;
    size_t n;
    uint64_t cnt;
    int rr;

    if ((rr = read_array_exact(r, 16)) < 0 || (rr = vc_cbor_read_address(r, &h->miner)) < 0)
        return rr;
    /* Ticket */
    if (vc_cbor_peek_null(r)) {
        if ((rr = vc_cbor_read_null(r)) < 0)
            return rr;
    } else {
        if ((rr = read_array_exact(r, 1)) < 0 || (rr = read_bytes_max(r, &p, &n)) < 0)
            return rr;
        h->has_ticket = true;
        if (!(h->ticket_vrf = arena_dup(h, p, n)))
            return -ENOMEM;
        h->ticket_vrf_len = n;
    }
    /* ElectionProof */
    if (vc_cbor_peek_null(r)) {
        if ((rr = vc_cbor_read_null(r)) < 0)
            return rr;
    } else {
        if ((rr = read_array_exact(r, 2)) < 0 || (rr = vc_cbor_read_int(r, &h->win_count)) < 0 ||
            (rr = read_bytes_max(r, &p, &n)) < 0)
            return rr;
        h->has_election_proof = true;
        if (!(h->election_vrf = arena_dup(h, p, n)))
            return -ENOMEM;
        h->election_vrf_len = n;
    }
    /* BeaconEntries */
    if ((rr = read_array_max(r, &cnt)) < 0)
        return rr;
    vc_beacon_entry_t *be = arena_alloc(h, cnt * sizeof(*be));
    if (!be)
        return -ENOMEM;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((rr = read_array_exact(r, 2)) < 0 || (rr = vc_cbor_read_uint(r, &be[i].round)) < 0 ||
            (rr = read_bytes_max(r, &p, &n)) < 0)
            return rr;
        if (!(be[i].data = arena_dup(h, p, n)))
            return -ENOMEM;
        be[i].data_len = n;
    }
    h->beacon_entries = be;
    h->n_beacon_entries = cnt;
    /* WinPoStProof */
    if ((rr = read_array_max(r, &cnt)) < 0)
        return rr;
    vc_post_proof_t *pp = arena_alloc(h, cnt * sizeof(*pp));
    if (!pp)
        return -ENOMEM;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((rr = read_array_exact(r, 2)) < 0 || (rr = vc_cbor_read_int(r, &pp[i].proof_type)) < 0 ||
            (rr = read_bytes_max(r, &p, &n)) < 0)
            return rr;
        if (!(pp[i].proof = arena_dup(h, p, n)))
            return -ENOMEM;
        pp[i].proof_len = n;
    }
    h->win_post_proof = pp;
    h->n_win_post_proof = cnt;
    /* Parents */
    if ((rr = read_array_max(r, &cnt)) < 0)
        return rr;
    vc_cid_t *parents = arena_alloc(h, cnt * sizeof(*parents));
    if (!parents)
        return -ENOMEM;
    for (uint64_t i = 0; i < cnt; i++)
        if ((rr = vc_cbor_read_cid(r, &parents[i])) < 0)
            return rr;
    h->parents = parents;
    h->n_parents = cnt;
    if ((rr = vc_cbor_read_bigint(r, &h->parent_weight)) < 0 || (rr = vc_cbor_read_int(r, &h->height)) < 0 ||
        (rr = vc_cbor_read_cid(r, &h->parent_state_root)) < 0 ||
        (rr = vc_cbor_read_cid(r, &h->parent_message_receipts)) < 0 ||
        (rr = vc_cbor_read_cid(r, &h->messages)) < 0 || (rr = read_opt_sig(r, h, &h->bls_aggregate)) < 0 ||
        (rr = vc_cbor_read_uint(r, &h->timestamp)) < 0 || (rr = read_opt_sig(r, h, &h->block_sig)) < 0 ||
        (rr = vc_cbor_read_uint(r, &h->fork_signaling)) < 0 ||
        (rr = vc_cbor_read_bigint(r, &h->parent_base_fee)) < 0)
        return rr;
    return 0;
}

int vc_block_header_read(vc_cbor_reader_t *r, vc_block_header_t *ret)
{
    vc_cbor_reader_t t = *r;
    vc_block_header_t h = {0};
    int rr = read_header(&t, &h);
    if (rr < 0) {
        vc_block_header_done(&h);
        return rr;
    }
    *r = t;
    *ret = h;
    return 0;
}

int vc_block_header_decode(const uint8_t *data, size_t len, vc_block_header_t *ret)
{
    vc_cbor_reader_t r;
    vc_block_header_t h;
    int rr;

    vc_cbor_reader_init(&r, data, len);
    if ((rr = vc_block_header_read(&r, &h)) < 0)
        return rr;
    if ((rr = vc_cbor_expect_end(&r)) < 0) {
        vc_block_header_done(&h);
        return rr;
    }
    *ret = h;
    return 0;
}

int vc_block_header_copy(const vc_block_header_t *h, vc_block_header_t *ret)
{
    vc_buf_t b = {0};
    int r = encode(h, true, &b);
    if (r >= 0)
        r = vc_block_header_decode((const uint8_t *)b.data, b.len, ret);
    vc_buf_done(&b);
    return r;
}

/* ---- JSON ---- */

static json_t *b64(const uint8_t *p, size_t n)
{
    if (n == 0)
        return json_null();
    char *s = vc_base64_encode(p, n);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *big_json(const vc_bigint_t *v)
{
    char s[VC_BIGINT_STRLEN_MAX];
    if (vc_bigint_to_string(v, s, sizeof(s)) < 0)
        return NULL;
    return json_string(s);
}

/* Adds v to o under key, stealing v; -ENOMEM when v is NULL or the insert fails. */
static int put(json_t *o, const char *key, json_t *v)
{
    if (!v)
        return -ENOMEM;
    return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int append(json_t *a, json_t *v)
{
    if (!v)
        return -ENOMEM;
    return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

int vc_block_header_to_json(const vc_block_header_t *h, char network, json_t **ret)
{
    char addr[VC_ADDRESS_STRLEN_MAX];
    json_t *o = json_object(), *a;
    int r;

    if (!o)
        return -ENOMEM;
    if ((r = vc_address_to_string(&h->miner, network, addr)) < 0)
        goto fail;
    if ((r = put(o, "Miner", json_string(addr))) < 0)
        goto fail;
    if (h->has_ticket)
        r = put(o, "Ticket", json_pack("{s:o}", "VRFProof", b64(h->ticket_vrf, h->ticket_vrf_len)));
    else
        r = put(o, "Ticket", json_null());
    if (r < 0)
        goto fail;
    if (h->has_election_proof)
        r = put(o, "ElectionProof", json_pack("{s:I,s:o}", "WinCount", (json_int_t)h->win_count, "VRFProof",
                                              b64(h->election_vrf, h->election_vrf_len)));
    else
        r = put(o, "ElectionProof", json_null());
    if (r < 0)
        goto fail;
    if ((r = put(o, "BeaconEntries", a = json_array())) < 0)
        goto fail;
    for (size_t i = 0; i < h->n_beacon_entries; i++) {
        const vc_beacon_entry_t *e = &h->beacon_entries[i];
        if (e->round > INT64_MAX) {
            r = -ERANGE;
            goto fail;
        }
        if ((r = append(a, json_pack("{s:I,s:o}", "Round", (json_int_t)e->round, "Data",
                                     b64(e->data, e->data_len)))) < 0)
            goto fail;
    }
    if ((r = put(o, "WinPoStProof", a = json_array())) < 0)
        goto fail;
    for (size_t i = 0; i < h->n_win_post_proof; i++) {
        const vc_post_proof_t *p = &h->win_post_proof[i];
        if ((r = append(a, json_pack("{s:I,s:o}", "PoStProof", (json_int_t)p->proof_type, "ProofBytes",
                                     b64(p->proof, p->proof_len)))) < 0)
            goto fail;
    }
    if ((r = put(o, "Parents", a = json_array())) < 0)
        goto fail;
    for (size_t i = 0; i < h->n_parents; i++)
        if ((r = append(a, vc_cid_to_json(&h->parents[i]))) < 0)
            goto fail;
    if (h->timestamp > INT64_MAX || h->fork_signaling > INT64_MAX) {
        r = -ERANGE;
        goto fail;
    }
    if ((r = put(o, "ParentWeight", big_json(&h->parent_weight))) < 0 ||
        (r = put(o, "Height", json_integer(h->height))) < 0 ||
        (r = put(o, "ParentStateRoot", vc_cid_to_json(&h->parent_state_root))) < 0 ||
        (r = put(o, "ParentMessageReceipts", vc_cid_to_json(&h->parent_message_receipts))) < 0 ||
        (r = put(o, "Messages", vc_cid_to_json(&h->messages))) < 0 ||
        (r = put(o, "BLSAggregate", h->bls_aggregate ? vc_signature_to_json(h->bls_aggregate) : json_null())) < 0 ||
        (r = put(o, "Timestamp", json_integer((json_int_t)h->timestamp))) < 0 ||
        (r = put(o, "BlockSig", h->block_sig ? vc_signature_to_json(h->block_sig) : json_null())) < 0 ||
        (r = put(o, "ForkSignaling", json_integer((json_int_t)h->fork_signaling))) < 0 ||
        (r = put(o, "ParentBaseFee", big_json(&h->parent_base_fee))) < 0)
        goto fail;
    *ret = o;
    return 0;
fail:
    json_decref(o);
    return r;
}

/* base64 (or null = empty) into arena memory. */
static int json_bytes(vc_block_header_t *h, const json_t *j, const uint8_t **ret, size_t *ret_len)
{
    uint8_t *d;
    size_t n;
    int r;

    if (!j || json_is_null(j)) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    if (!json_is_string(j))
        return VC_ETYPE;
    if (json_string_length(j) / 4 * 3 > VC_BLOCK_HEADER_BYTES_MAX)
        return VC_ETOOBIG;
    if ((r = vc_base64_decode(json_string_value(j), json_string_length(j), &d, &n)) < 0)
        return r;
    *ret = arena_dup(h, d, n);
    free(d);
    if (!*ret)
        return -ENOMEM;
    *ret_len = n;
    return 0;
}

static int json_int64(const json_t *o, const char *key, bool need, int64_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!j && !need) {
        *ret = 0;
        return 0;
    }
    if (!json_is_integer(j))
        return VC_ETYPE;
    *ret = (int64_t)json_integer_value(j);
    return 0;
}

static int json_uint64(const json_t *o, const char *key, bool need, uint64_t *ret)
{
    int64_t v;
    int r = json_int64(o, key, need, &v);
    if (r < 0)
        return r;
    if (v < 0)
        return -ERANGE;
    *ret = (uint64_t)v;
    return 0;
}

static int json_big(const json_t *o, const char *key, vc_bigint_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!j || json_is_null(j)) {
        *ret = VC_BIGINT_ZERO;
        return 0;
    }
    if (!json_is_string(j))
        return VC_ETYPE;
    return vc_bigint_parse(json_string_value(j), json_string_length(j), ret);
}

static int json_cid_field(const json_t *o, const char *key, vc_cid_t *ret)
{
    const json_t *j = json_object_get(o, key);
    if (!j)
        return VC_ETYPE;
    return vc_cid_from_json(j, ret);
}

static int json_opt_sig(vc_block_header_t *h, const json_t *j, const vc_signature_t **ret)
{
    if (!j || json_is_null(j)) {
        *ret = NULL;
        return 0;
    }
    vc_signature_t *s = arena_alloc(h, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int r = vc_signature_from_json(j, s);
    if (r < 0)
        return r;
    if (s->type >= VC_SIG_TYPE_MAX)
        return VC_EPARSE;
    *ret = s;
    return 0;
}

/* Array (or null/absent = empty) with at most VC_BLOCK_HEADER_ARRAY_MAX entries. */
static int json_arr(const json_t *o, const char *key, const json_t **ret, size_t *ret_n)
{
    const json_t *j = json_object_get(o, key);
    if (!j || json_is_null(j)) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    if (!json_is_array(j))
        return VC_ETYPE;
    if (json_array_size(j) > VC_BLOCK_HEADER_ARRAY_MAX)
        return VC_ETOOBIG;
    *ret = j;
    *ret_n = json_array_size(j);
    return 0;
}

static int from_json(const json_t *j, vc_block_header_t *h)
{
    const json_t *v, *a;
    size_t n;
    int r;

    if (!json_is_object(j))
        return VC_ETYPE;
    v = json_object_get(j, "Miner");
    if (!json_is_string(v))
        return VC_ETYPE;
    if ((r = vc_address_parse(json_string_value(v), json_string_length(v), &h->miner, NULL)) < 0)
        return r;
    v = json_object_get(j, "Ticket");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v))
            return VC_ETYPE;
        if ((r = json_bytes(h, json_object_get(v, "VRFProof"), &h->ticket_vrf, &h->ticket_vrf_len)) < 0)
            return r;
        h->has_ticket = true;
    }
    v = json_object_get(j, "ElectionProof");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v))
            return VC_ETYPE;
        if ((r = json_int64(v, "WinCount", false, &h->win_count)) < 0 ||
            (r = json_bytes(h, json_object_get(v, "VRFProof"), &h->election_vrf, &h->election_vrf_len)) < 0)
            return r;
        h->has_election_proof = true;
    }
    if ((r = json_arr(j, "BeaconEntries", &a, &n)) < 0)
        return r;
    vc_beacon_entry_t *be = arena_alloc(h, n * sizeof(*be));
    if (!be)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        if (!json_is_object(e))
            return VC_ETYPE;
        if ((r = json_uint64(e, "Round", true, &be[i].round)) < 0 ||
            (r = json_bytes(h, json_object_get(e, "Data"), &be[i].data, &be[i].data_len)) < 0)
            return r;
    }
    h->beacon_entries = be;
    h->n_beacon_entries = n;
    if ((r = json_arr(j, "WinPoStProof", &a, &n)) < 0)
        return r;
    vc_post_proof_t *pp = arena_alloc(h, n * sizeof(*pp));
    if (!pp)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        if (!json_is_object(e))
            return VC_ETYPE;
        if ((r = json_int64(e, "PoStProof", true, &pp[i].proof_type)) < 0 ||
            (r = json_bytes(h, json_object_get(e, "ProofBytes"), &pp[i].proof, &pp[i].proof_len)) < 0)
            return r;
    }
    h->win_post_proof = pp;
    h->n_win_post_proof = n;
    if ((r = json_arr(j, "Parents", &a, &n)) < 0)
        return r;
    vc_cid_t *parents = arena_alloc(h, n * sizeof(*parents));
    if (!parents)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((r = vc_cid_from_json(json_array_get(a, i), &parents[i])) < 0)
            return r;
    h->parents = parents;
    h->n_parents = n;
    if ((r = json_big(j, "ParentWeight", &h->parent_weight)) < 0 ||
        (r = json_int64(j, "Height", true, &h->height)) < 0 ||
        (r = json_cid_field(j, "ParentStateRoot", &h->parent_state_root)) < 0 ||
        (r = json_cid_field(j, "ParentMessageReceipts", &h->parent_message_receipts)) < 0 ||
        (r = json_cid_field(j, "Messages", &h->messages)) < 0 ||
        (r = json_opt_sig(h, json_object_get(j, "BLSAggregate"), &h->bls_aggregate)) < 0 ||
        (r = json_uint64(j, "Timestamp", false, &h->timestamp)) < 0 ||
        (r = json_opt_sig(h, json_object_get(j, "BlockSig"), &h->block_sig)) < 0 ||
        (r = json_uint64(j, "ForkSignaling", false, &h->fork_signaling)) < 0 ||
        (r = json_big(j, "ParentBaseFee", &h->parent_base_fee)) < 0)
        return r;
    return 0;
}

int vc_block_header_from_json(const json_t *j, vc_block_header_t *ret)
{
    vc_block_header_t h = {0};
    int r = from_json(j, &h);
    if (r < 0) {
        vc_block_header_done(&h);
        return r;
    }
    *ret = h;
    return 0;
}
