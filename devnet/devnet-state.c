/*
 * devnet-state.c: actor tables, message execution, receipts, weight, base fee, roots, beacon.
 *
 * Devnet-specific (say so where it matters to a client): the state root is the CID of the CBOR
 * of the sorted actor table; a non-empty receipts root is the CID of the CBOR list of receipts
 * and a non-empty messages root the CID of [[bls cids], [secp cids]] (not AMTs). Empty lists give
 * the real Filecoin CIDs (V6: empty AMT, empty TxMeta).
 */
#include "devnet-internal.h"

#include "vc/blake2b.h"
#include "vc/cbor.h"
#include "vc/election.h"

#include <sys/types.h>

/* ---------------------------------------------------------------- actor table */

const dn_actor_t *dn_state_find(const dn_state_t *s, const vc_address_t *a)
{
    uint64_t id;

    if (vc_address_is_undef(a))
        return NULL;
    if (vc_address_protocol(a) == VC_ADDR_ID) {
        if (vc_address_id(a, &id) < 0)
            return NULL;
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (s->a[mid].id == id)
                return &s->a[mid];
            if (s->a[mid].id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        if (vc_address_equal(&s->a[i].key, a))
            return &s->a[i];
    return NULL;
}

dn_actor_t *dn_state_find_mut(dn_state_t *s, const vc_address_t *a)
{
    return (dn_actor_t *)dn_state_find(s, a);
}

dn_actor_t *dn_state_add_account(dn_state_t *s, const vc_address_t *key)
{
    uint64_t id = DN_FIRST_ACCOUNT_ID;
    size_t pos = s->n;

    /* smallest free id >= 100 (the table is sorted, so one pass finds it) */
    for (size_t i = 0; i < s->n; i++) {
        if (s->a[i].id < id)
            continue;
        if (s->a[i].id == id) {
            id++;
            continue;
        }
        pos = i;
        break;
    }
    if (pos == s->n) {
        for (pos = 0; pos < s->n && s->a[pos].id < id; pos++)
            ;
    }
    dn_actor_t *na = realloc(s->a, (s->n + 1) * sizeof(*na));
    if (!na)
        return NULL;
    s->a = na;
    memmove(&na[pos + 1], &na[pos], (s->n - pos) * sizeof(*na));
    s->n++;
    memset(&na[pos], 0, sizeof(na[pos]));
    na[pos].id = id;
    na[pos].kind = DN_ACTOR_ACCOUNT;
    na[pos].key = *key;
    return &na[pos];
}

int dn_state_encode(const dn_state_t *s, vc_buf_t *out)
{
    int r = vc_cbor_put_array(out, s->n);
    for (size_t i = 0; r >= 0 && i < s->n; i++) {
        const dn_actor_t *a = &s->a[i];
        if ((r = vc_cbor_put_array(out, 5)) < 0 || (r = vc_cbor_put_uint(out, a->id)) < 0 ||
            (r = vc_cbor_put_uint(out, (uint64_t)a->kind)) < 0)
            break;
        r = vc_address_is_undef(&a->key) ? vc_cbor_put_null(out) : vc_cbor_put_address(out, &a->key);
        if (r < 0 || (r = vc_cbor_put_bigint(out, &a->balance)) < 0)
            break;
        r = vc_cbor_put_uint(out, a->nonce);
    }
    return r < 0 ? r : 0;
}

int dn_state_decode(const uint8_t *p, size_t len, dn_state_t **ret)
{
    vc_cbor_reader_t rd;
    uint64_t n, f, kind;
    int r;

    vc_cbor_reader_init(&rd, p, len);
    if ((r = vc_cbor_read_array(&rd, &n)) < 0)
        return r;
    dn_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->a = calloc(n ? n : 1, sizeof(*s->a));
    if (!s->a) {
        free(s);
        return -ENOMEM;
    }
    for (uint64_t i = 0; i < n; i++) {
        dn_actor_t *a = &s->a[i];
        if ((r = vc_cbor_read_array(&rd, &f)) < 0 || (r = f == 5 ? 0 : VC_EPARSE) < 0 ||
            (r = vc_cbor_read_uint(&rd, &a->id)) < 0 || (r = vc_cbor_read_uint(&rd, &kind)) < 0)
            goto fail;
        if (kind >= DN_ACTOR_KIND_MAX || (i > 0 && a->id <= s->a[i - 1].id)) {
            r = VC_EPARSE;
            goto fail;
        }
        a->kind = (dn_actor_kind_t)kind;
        if (vc_cbor_peek_null(&rd))
            r = vc_cbor_read_null(&rd);
        else
            r = vc_cbor_read_address(&rd, &a->key);
        if (r < 0 || (r = vc_cbor_read_bigint(&rd, &a->balance)) < 0 || (r = vc_cbor_read_uint(&rd, &a->nonce)) < 0)
            goto fail;
        s->n++;
    }
    if ((r = vc_cbor_expect_end(&rd)) < 0)
        goto fail;
    vc_cid_sum_dagcbor(p, len, &s->root);
    *ret = s;
    return 0;
fail:
    dn_state_free(s);
    return r;
}

dn_state_t *dn_state_dup(const dn_state_t *s)
{
    dn_state_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->a = malloc((s->n ? s->n : 1) * sizeof(*d->a));
    if (!d->a) {
        free(d);
        return NULL;
    }
    memcpy(d->a, s->a, s->n * sizeof(*d->a));
    d->n = s->n;
    d->root = s->root;
    return d;
}

void dn_state_free(dn_state_t *s)
{
    if (!s)
        return;
    free(s->a);
    free(s);
}

int dn_state_seal(dn_state_t *s)
{
    vc_buf_t b = {0};
    int r = dn_state_encode(s, &b);
    if (r >= 0)
        vc_cid_sum_dagcbor(b.data, b.len, &s->root);
    vc_buf_done(&b);
    return r;
}

dn_state_t *dn_state_intern(dn_chain_t *c, dn_state_t *s, bool *ret_new)
{
    dn_state_t *old = dn_cidmap_get(&c->states, &s->root);
    if (old) {
        if (old != s)
            dn_state_free(s);
        if (ret_new)
            *ret_new = false;
        return old;
    }
    if (dn_cidmap_put(&c->states, &s->root, s) < 0) {
        dn_state_free(s);
        return NULL;
    }
    if (ret_new)
        *ret_new = true;
    return s;
}

/* ---------------------------------------------------------------- receipts and roots */

void dn_empty_amt_cid(vc_cid_t *ret)
{
    static const uint8_t empty_amt[] = {0x83, 0x00, 0x00, 0x83, 0x41, 0x00, 0x80, 0x80};
    vc_cid_sum_dagcbor(empty_amt, sizeof(empty_amt), ret);
}

int dn_receipts_encode(const dn_receipt_t *rc, size_t n, vc_buf_t *out, vc_cid_t *ret_root)
{
    int r = vc_cbor_put_array(out, n);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        if ((r = vc_cbor_put_array(out, 4)) < 0 || (r = vc_cbor_put_int(out, rc[i].exit_code)) < 0 ||
            (r = vc_cbor_put_bytes(out, NULL, 0)) < 0 || (r = vc_cbor_put_int(out, rc[i].gas_used)) < 0)
            break;
        r = vc_cbor_put_null(out);
    }
    if (r < 0)
        return r;
    if (n == 0)
        dn_empty_amt_cid(ret_root);
    else
        vc_cid_sum_dagcbor(out->data, out->len, ret_root);
    return 0;
}

int dn_receipts_decode(const uint8_t *p, size_t len, dn_receipt_t **ret, size_t *ret_n)
{
    vc_cbor_reader_t rd;
    uint64_t n, f;
    const uint8_t *b;
    size_t bl;
    int r;

    vc_cbor_reader_init(&rd, p, len);
    if ((r = vc_cbor_read_array(&rd, &n)) < 0)
        return r;
    dn_receipt_t *rc = calloc(n ? n : 1, sizeof(*rc));
    if (!rc)
        return -ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        if ((r = vc_cbor_read_array(&rd, &f)) < 0 || (r = f == 4 ? 0 : VC_EPARSE) < 0 ||
            (r = vc_cbor_read_int(&rd, &rc[i].exit_code)) < 0 || (r = vc_cbor_read_bytes(&rd, &b, &bl)) < 0 ||
            (r = vc_cbor_read_int(&rd, &rc[i].gas_used)) < 0 || (r = vc_cbor_read_null(&rd)) < 0)
            goto fail;
    }
    if ((r = vc_cbor_expect_end(&rd)) < 0)
        goto fail;
    *ret = rc;
    *ret_n = n;
    return 0;
fail:
    free(rc);
    return r;
}

static void list_root(dn_msg_t *const *m, size_t n, bool bls, vc_cid_t *ret)
{
    vc_buf_t b = {0};

    if (n == 0) {
        dn_empty_amt_cid(ret);
        return;
    }
    if (vc_cbor_put_array(&b, n) < 0)
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (vc_cbor_put_cid(&b, bls ? &m[i]->cid : &m[i]->scid) < 0)
            goto oom;
    vc_cid_sum_dagcbor(b.data, b.len, ret);
    vc_buf_done(&b);
    return;
oom:
    /* cannot fail for lack of input; treat OOM as an undefined CID (callers check) */
    vc_buf_done(&b);
    memset(ret, 0, sizeof(*ret));
}

void dn_messages_root(dn_msg_t *const *bls, size_t n_bls, dn_msg_t *const *secp, size_t n_secp, vc_cid_t *ret)
{
    vc_cid_t a, s;
    vc_buf_t b = {0};

    list_root(bls, n_bls, true, &a);
    list_root(secp, n_secp, false, &s);
    if (vc_cbor_put_array(&b, 2) < 0 || vc_cbor_put_cid(&b, &a) < 0 || vc_cbor_put_cid(&b, &s) < 0) {
        memset(ret, 0, sizeof(*ret));
    } else {
        vc_cid_sum_dagcbor(b.data, b.len, ret);
    }
    vc_buf_done(&b);
}

void dn_beacon_data(int64_t round, uint8_t out[32])
{
    uint8_t be[8];
    uint64_t v = (uint64_t)round;
    for (int i = 7; i >= 0; i--, v >>= 8)
        be[i] = (uint8_t)v;
    vc_blake2b_256(be, 8, out);
}

/* ---------------------------------------------------------------- tipsets */

static int ticket_cmp(const dn_block_t *a, const dn_block_t *b)
{
    uint8_t ha[32], hb[32];
    vc_blake2b_256(a->h.ticket_vrf, a->h.ticket_vrf_len, ha);
    vc_blake2b_256(b->h.ticket_vrf, b->h.ticket_vrf_len, hb);
    int r = memcmp(ha, hb, 32);
    if (r)
        return r;
    return vc_cid_compare(&a->cid, &b->cid);
}

void dn_tipset_sort(dn_tipset_t *ts)
{
    for (size_t i = 1; i < ts->n; i++)
        for (size_t j = i; j > 0 && ticket_cmp(ts->blocks[j - 1], ts->blocks[j]) > 0; j--) {
            dn_block_t *t = ts->blocks[j];
            ts->blocks[j] = ts->blocks[j - 1];
            ts->blocks[j - 1] = t;
        }
}

int dn_tipset_collect_msgs(dn_tipset_t *ts)
{
    dn_cidmap_t seen = {0};
    size_t total = 0, n = 0;
    int r = 0;

    for (size_t i = 0; i < ts->n; i++)
        total += ts->blocks[i]->n_bls + ts->blocks[i]->n_secp;
    dn_msg_t **out = calloc(total ? total : 1, sizeof(*out));
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < ts->n; i++) {
        dn_block_t *b = ts->blocks[i];
        for (size_t k = 0; k < b->n_bls + b->n_secp; k++) {
            dn_msg_t *m = k < b->n_bls ? b->bls[k] : b->secp[k - b->n_bls];
            if (dn_cidmap_get(&seen, &m->cid))
                continue;
            if ((r = dn_cidmap_put(&seen, &m->cid, m)) < 0)
                goto out;
            out[n++] = m;
        }
    }
    free(ts->msgs);
    ts->msgs = out;
    ts->n_msgs = n;
    out = NULL;
out:
    free(out);
    dn_cidmap_done(&seen);
    return r;
}

/* ---------------------------------------------------------------- execution */

static const dn_block_t *including_block(const dn_tipset_t *ts, const dn_msg_t *m)
{
    for (size_t i = 0; i < ts->n; i++) {
        const dn_block_t *b = ts->blocks[i];
        for (size_t k = 0; k < b->n_bls; k++)
            if (b->bls[k] == m)
                return b;
        for (size_t k = 0; k < b->n_secp; k++)
            if (b->secp[k] == m)
                return b;
    }
    return ts->blocks[0];
}

static ssize_t actor_index(dn_state_t *s, const vc_address_t *a)
{
    const dn_actor_t *x = dn_state_find(s, a);
    return x ? x - s->a : -1;
}

static int apply_one(dn_state_t *st, const vc_message_t *m, const vc_bigint_t *base_fee,
                     const vc_address_t *miner, dn_receipt_t *rc)
{
    vc_bigint_t t, need, burn, tip, eff, gl, gu;
    vc_address_t burnt;
    ssize_t fi, ti, mi, bi;
    int r;

    rc->exit_code = DN_EXIT_OK;
    rc->gas_used = 0;
    fi = actor_index(st, &m->from);
    if (fi < 0 || st->a[fi].kind != DN_ACTOR_ACCOUNT) {
        rc->exit_code = DN_EXIT_SENDER_INVALID;
        return 0;
    }
    if (m->nonce != st->a[fi].nonce) {
        rc->exit_code = DN_EXIT_SENDER_STATE_INVALID;
        return 0;
    }
    if (m->gas_limit <= 0) {
        rc->exit_code = DN_EXIT_OUT_OF_GAS;
        return 0;
    }
    vc_bigint_from_i64(m->gas_limit, &gl);
    if ((r = vc_bigint_mul(&gl, &m->gas_fee_cap, &need)) < 0)
        return r;
    if (vc_bigint_cmp(&st->a[fi].balance, &need) < 0) {
        rc->exit_code = DN_EXIT_INSUFFICIENT_FUNDS;
        return 0;
    }
    int64_t used = m->gas_limit < DN_GAS_PER_MESSAGE ? m->gas_limit : DN_GAS_PER_MESSAGE;
    vc_bigint_from_i64(used, &gu);
    /* burn = min(baseFee, feeCap) * used; tip = min(premium, max(0, feeCap - baseFee)) * limit */
    const vc_bigint_t *price = vc_bigint_cmp(base_fee, &m->gas_fee_cap) < 0 ? base_fee : &m->gas_fee_cap;
    if ((r = vc_bigint_mul(price, &gu, &burn)) < 0 || (r = vc_bigint_sub(&m->gas_fee_cap, base_fee, &eff)) < 0)
        return r;
    if (vc_bigint_sign(&eff) < 0)
        eff = VC_BIGINT_ZERO;
    if (vc_bigint_cmp(&m->gas_premium, &eff) < 0)
        eff = m->gas_premium;
    if (vc_bigint_sign(&eff) < 0)
        eff = VC_BIGINT_ZERO;
    if ((r = vc_bigint_mul(&eff, &gl, &tip)) < 0 || (r = vc_bigint_add(&burn, &tip, &t)) < 0 ||
        (r = vc_bigint_sub(&st->a[fi].balance, &t, &st->a[fi].balance)) < 0)
        return r;
    st->a[fi].nonce++;
    rc->gas_used = used;
    (void)vc_address_new_id(DN_BURNT_FUNDS_ID, &burnt);
    if ((bi = actor_index(st, &burnt)) >= 0 && (r = vc_bigint_add(&st->a[bi].balance, &burn, &st->a[bi].balance)) < 0)
        return r;
    if ((mi = actor_index(st, miner)) >= 0 && (r = vc_bigint_add(&st->a[mi].balance, &tip, &st->a[mi].balance)) < 0)
        return r;
    if (used < DN_GAS_PER_MESSAGE) {
        rc->exit_code = DN_EXIT_OUT_OF_GAS;
        return 0;
    }
    if (vc_bigint_sign(&m->value) < 0 || vc_bigint_cmp(&st->a[fi].balance, &m->value) < 0) {
        rc->exit_code = DN_EXIT_INSUFFICIENT_FUNDS;
        return 0;
    }
    ti = actor_index(st, &m->to);
    if (ti < 0) {
        vc_addr_protocol_t p = vc_address_protocol(&m->to);
        if (p != VC_ADDR_SECP256K1 && p != VC_ADDR_BLS) {
            rc->exit_code = 5; /* SysErrInvalidReceiver */
            return 0;
        }
        if (!dn_state_add_account(st, &m->to))
            return -ENOMEM;
        fi = actor_index(st, &m->from);
        ti = actor_index(st, &m->to);
    }
    if (m->method != 0 && st->a[ti].kind != DN_ACTOR_MINER) {
        rc->exit_code = DN_EXIT_INVALID_METHOD;
        return 0;
    }
    /* Devnet: methods on miner actors succeed as no-ops (the value still moves). */
    if ((r = vc_bigint_sub(&st->a[fi].balance, &m->value, &st->a[fi].balance)) < 0 ||
        (r = vc_bigint_add(&st->a[ti].balance, &m->value, &st->a[ti].balance)) < 0)
        return r;
    return 0;
}

int dn_execute(dn_chain_t *c, const dn_tipset_t *ts, dn_state_t **ret_state, dn_receipt_t **ret_receipts)
{
    const vc_bigint_t *base_fee = &ts->blocks[0]->h.parent_base_fee;
    dn_receipt_t *rc = calloc(ts->n_msgs ? ts->n_msgs : 1, sizeof(*rc));
    dn_state_t *st = dn_state_dup(ts->state);
    int r = 0;

    (void)c;
    if (!rc || !st) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < ts->n_msgs; i++) {
        const dn_block_t *b = including_block(ts, ts->msgs[i]);
        if ((r = apply_one(st, &ts->msgs[i]->sm.message, base_fee, &b->h.miner, &rc[i])) < 0)
            goto fail;
    }
    if (ts->n_msgs > 0 && (r = dn_state_seal(st)) < 0)
        goto fail;
    *ret_state = st;
    *ret_receipts = rc;
    return 0;
fail:
    free(rc);
    dn_state_free(st);
    return r;
}

int dn_ensure_exec(dn_chain_t *c, dn_tipset_t *ts, bool *ret_new)
{
    dn_state_t *st;
    dn_receipt_t *rc;
    vc_buf_t b = {0};
    int r;

    if (ret_new)
        *ret_new = false;
    if (ts->exec_state)
        return 0;
    if ((r = dn_execute(c, ts, &st, &rc)) < 0)
        return r;
    if ((r = dn_receipts_encode(rc, ts->n_msgs, &b, &ts->exec_receipts_root)) < 0) {
        free(rc);
        dn_state_free(st);
        return r;
    }
    vc_buf_done(&b);
    dn_state_t *in = dn_state_intern(c, st, NULL);
    if (!in) {
        free(rc);
        return -ENOMEM;
    }
    ts->exec_state = in;
    free(ts->receipts);
    ts->receipts = rc;
    if (ret_new)
        *ret_new = true;
    return 0;
}

/* ---------------------------------------------------------------- weight and base fee */

int dn_weight(dn_chain_t *c, const dn_tipset_t *ts, vc_bigint_t *ret)
{
    vc_bigint_t total, out, t, e;
    int64_t wins = 0;
    int r;

    if ((r = dn_total_power(c, &total)) < 0)
        return r;
    unsigned bits = vc_bigint_bitlen(&total);
    uint64_t log2p = bits ? bits - 1 : 0;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->blocks[i]->h.has_election_proof && ts->blocks[i]->h.win_count > 0)
            wins += ts->blocks[i]->h.win_count;
    vc_bigint_from_u64(log2p << 8, &t);
    if ((r = vc_bigint_add(&ts->blocks[0]->h.parent_weight, &t, &out)) < 0)
        return r;
    vc_bigint_from_i64(wins, &e);
    if ((r = vc_bigint_mul(&t, &e, &e)) < 0)
        return r;
    vc_bigint_from_i64(VC_ELECTION_BLOCKS_PER_EPOCH * 2, &t);
    if ((r = vc_bigint_div(&e, &t, &e)) < 0 || (r = vc_bigint_add(&out, &e, &out)) < 0)
        return r;
    *ret = out;
    return 0;
}

int dn_next_base_fee(const dn_tipset_t *ts, vc_bigint_t *ret)
{
    const vc_bigint_t *bf = &ts->blocks[0]->h.parent_base_fee;
    vc_bigint_t used = VC_BIGINT_ZERO, t, change, q, rem, next;
    int64_t delta;
    int r;

    for (size_t i = 0; i < ts->n_msgs; i++) {
        vc_bigint_from_i64(ts->msgs[i]->sm.message.gas_limit, &t);
        if ((r = vc_bigint_add(&used, &t, &used)) < 0)
            return r;
    }
    vc_bigint_from_u64(ts->n ? ts->n : 1, &t);
    if ((r = vc_bigint_div(&used, &t, &used)) < 0)
        return r;
    vc_bigint_from_i64(DN_BLOCK_GAS_TARGET, &t);
    if (vc_bigint_cmp(&used, &t) > 0) {
        vc_bigint_from_i64(2 * DN_BLOCK_GAS_TARGET, &q);
        if (vc_bigint_cmp(&used, &q) > 0)
            used = q;
    }
    int64_t u;
    if ((r = vc_bigint_to_i64(&used, &u)) < 0)
        return r;
    delta = u - DN_BLOCK_GAS_TARGET;
    if (delta > DN_BLOCK_GAS_TARGET)
        delta = DN_BLOCK_GAS_TARGET;
    if (delta < -DN_BLOCK_GAS_TARGET)
        delta = -DN_BLOCK_GAS_TARGET;
    /* change = baseFee * delta / target / 8, with Go's Euclidean division (floors for
     * negative dividends) */
    vc_bigint_from_i64(delta, &t);
    if ((r = vc_bigint_mul(bf, &t, &change)) < 0)
        return r;
    vc_bigint_from_i64(DN_BLOCK_GAS_TARGET * DN_BASE_FEE_DENOM, &t);
    if ((r = vc_bigint_divmod(&change, &t, &q, &rem)) < 0)
        return r;
    if (vc_bigint_sign(&change) < 0 && !vc_bigint_is_zero(&rem)) {
        vc_bigint_from_i64(1, &t);
        if ((r = vc_bigint_sub(&q, &t, &q)) < 0)
            return r;
    }
    if ((r = vc_bigint_add(bf, &q, &next)) < 0)
        return r;
    vc_bigint_from_i64(DN_MIN_BASE_FEE, &t);
    if (vc_bigint_cmp(&next, &t) < 0)
        next = t;
    *ret = next;
    return 0;
}
