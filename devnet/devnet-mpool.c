/*
 * devnet-mpool.c: the message pool (Lotus push rules of B.4, selection) and gas estimation.
 *
 * The pool checks against the state after the head's messages (the head's exec state), as
 * Lotus' mpool does. Gas estimation is deterministic (no random noise): a message always uses
 * DN_GAS_PER_MESSAGE gas on this devnet.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "devnet-internal.h"
#include "vc/crypto.h"

dn_state_t *dn_pool_state(dn_chain_t *c)
{
    return c->head->exec_state ? c->head->exec_state : c->head->state;
}

/*
 * The pool index: open addressing over (sender key, nonce) -> message, and sender -> pending
 * count, so pushes, nonce lookups and the per-actor limit cost O(1) instead of a scan of the
 * whole pool (which made a 10,000-message pool quadratic).
 */
typedef struct sender_slot {
    vc_address_t key; /* len 0 = empty; entries are kept when their count drops to 0 */
    size_t count;
} sender_slot_t;

typedef struct dn_pool_index {
    dn_msg_t **slots; /* NULL empty, TOMB removed */
    size_t cap, used;
    sender_slot_t *senders;
    size_t scap, sused;
} dn_pool_index_t;

static dn_msg_t tomb_marker;
#define TOMB (&tomb_marker)

static uint64_t hash_key(const vc_address_t *a, uint64_t nonce)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < a->len; i++)
        h = (h ^ a->bytes[i]) * 1099511628211ULL;
    for (int i = 0; i < 8; i++)
        h = (h ^ ((nonce >> (8 * i)) & 0xff)) * 1099511628211ULL;
    return h;
}

static dn_pool_index_t *index_of(dn_chain_t *c)
{
    if (!c->pool_index)
        c->pool_index = calloc(1, sizeof(dn_pool_index_t));
    return c->pool_index;
}

void dn_pool_index_free(dn_chain_t *c)
{
    if (!c->pool_index)
        return;
    free(c->pool_index->slots);
    free(c->pool_index->senders);
    free(c->pool_index);
    c->pool_index = NULL;
}

static int index_grow(dn_pool_index_t *x)
{
    size_t ncap = x->cap ? x->cap * 2 : 1024;
    dn_msg_t **n = calloc(ncap, sizeof(*n));
    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i < x->cap; i++) {
        dn_msg_t *m = x->slots[i];
        if (!m || m == TOMB)
            continue;
        size_t j = hash_key(&m->from_key, m->sm.message.nonce) & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = m;
    }
    size_t live = 0;
    for (size_t i = 0; i < ncap; i++)
        live += n[i] != NULL;
    free(x->slots);
    x->slots = n;
    x->cap = ncap;
    x->used = live;
    return 0;
}

static sender_slot_t *sender_slot(dn_pool_index_t *x, const vc_address_t *key, bool create)
{
    if (create && (x->sused + 1) * 2 > x->scap) {
        size_t ncap = x->scap ? x->scap * 2 : 64;
        sender_slot_t *n = calloc(ncap, sizeof(*n));
        if (!n)
            return NULL;
        for (size_t i = 0; i < x->scap; i++) {
            if (!x->senders[i].key.len)
                continue;
            size_t j = hash_key(&x->senders[i].key, 0) & (ncap - 1);
            while (n[j].key.len)
                j = (j + 1) & (ncap - 1);
            n[j] = x->senders[i];
        }
        free(x->senders);
        x->senders = n;
        x->scap = ncap;
    }
    if (!x->scap)
        return NULL;
    size_t j = hash_key(key, 0) & (x->scap - 1);
    for (;; j = (j + 1) & (x->scap - 1)) {
        if (!x->senders[j].key.len) {
            if (!create)
                return NULL;
            x->senders[j].key = *key;
            x->sused++;
            return &x->senders[j];
        }
        if (vc_address_equal(&x->senders[j].key, key))
            return &x->senders[j];
    }
}

size_t dn_pool_sender_count(dn_chain_t *c, const vc_address_t *key)
{
    dn_pool_index_t *x = c->pool_index;
    sender_slot_t *s = x ? sender_slot(x, key, false) : NULL;
    return s ? s->count : 0;
}

static dn_msg_t **index_find_slot(dn_pool_index_t *x, const vc_address_t *key, uint64_t nonce)
{
    if (!x || !x->cap)
        return NULL;
    for (size_t j = hash_key(key, nonce) & (x->cap - 1);; j = (j + 1) & (x->cap - 1)) {
        dn_msg_t *m = x->slots[j];
        if (!m)
            return NULL;
        if (m != TOMB && m->sm.message.nonce == nonce && vc_address_equal(&m->from_key, key))
            return &x->slots[j];
    }
}

int dn_pool_add(dn_chain_t *c, dn_msg_t *m)
{
    dn_pool_index_t *x = index_of(c);
    if (!x)
        return -ENOMEM;
    if ((x->used + 1) * 2 > x->cap && index_grow(x) < 0)
        return -ENOMEM;
    sender_slot_t *s = sender_slot(x, &m->from_key, true);
    if (!s)
        return -ENOMEM;
    if (c->n_pool == c->cap_pool) {
        size_t ncap = c->cap_pool ? c->cap_pool * 2 : 64;
        dn_msg_t **n = realloc(c->pool, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        c->pool = n;
        c->cap_pool = ncap;
    }
    size_t j = hash_key(&m->from_key, m->sm.message.nonce) & (x->cap - 1);
    while (x->slots[j] && x->slots[j] != TOMB)
        j = (j + 1) & (x->cap - 1);
    if (!x->slots[j])
        x->used++;
    x->slots[j] = m;
    s->count++;
    c->pool[c->n_pool++] = m;
    m->pending = true;
    return 0;
}

void dn_pool_remove(dn_chain_t *c, dn_msg_t *m)
{
    for (size_t i = 0; i < c->n_pool; i++)
        if (c->pool[i] == m) {
            memmove(&c->pool[i], &c->pool[i + 1], (c->n_pool - i - 1) * sizeof(*c->pool));
            c->n_pool--;
            dn_msg_t **slot = index_find_slot(c->pool_index, &m->from_key, m->sm.message.nonce);
            if (slot && *slot == m)
                *slot = TOMB;
            sender_slot_t *s = c->pool_index ? sender_slot(c->pool_index, &m->from_key, false) : NULL;
            if (s && s->count)
                s->count--;
            break;
        }
    m->pending = false;
}

static dn_msg_t *pool_find(dn_chain_t *c, const vc_address_t *from_key, uint64_t nonce)
{
    dn_msg_t **slot = index_find_slot(c->pool_index, from_key, nonce);
    return slot ? *slot : NULL;
}

/* Key address and state nonce of a sender (nonce 0 and key = a for an unknown f1/f3). */
static int resolve_sender(dn_chain_t *c, const vc_address_t *a, vc_address_t *ret_key, const dn_actor_t **ret_actor)
{
    const dn_actor_t *x = dn_state_find(dn_pool_state(c), a);
    *ret_actor = x;
    if (vc_address_is_undef(a))
        return -EINVAL;
    if (vc_address_protocol(a) == VC_ADDR_SECP256K1 || vc_address_protocol(a) == VC_ADDR_BLS) {
        *ret_key = *a;
        return 0;
    }
    if (!x || vc_address_is_undef(&x->key))
        return -ENOENT;
    *ret_key = x->key;
    return 0;
}

static uint64_t next_nonce(dn_chain_t *c, const vc_address_t *key, const dn_actor_t *x)
{
    uint64_t n = x ? x->nonce : 0;
    /* the usual case, pending nonces without holes: state nonce + pending count */
    uint64_t guess = n + dn_pool_sender_count(c, key);
    if (guess > n && pool_find(c, key, guess - 1) && !pool_find(c, key, guess) && pool_find(c, key, n))
        return guess;
    while (pool_find(c, key, n))
        n++;
    return n;
}

int dn_mpool_get_nonce(dn_chain_t *c, const vc_address_t *a, uint64_t *ret)
{
    vc_address_t key;
    const dn_actor_t *x;
    int r;

    pthread_mutex_lock(&c->lock);
    if ((r = resolve_sender(c, a, &key, &x)) == 0)
        *ret = next_nonce(c, &key, x);
    pthread_mutex_unlock(&c->lock);
    return r;
}

static char *big_str(const vc_bigint_t *v, char out[VC_BIGINT_STRLEN_MAX])
{
    if (vc_bigint_to_string(v, out, VC_BIGINT_STRLEN_MAX) < 0)
        strcpy(out, "?");
    return out;
}

/* Checks that need no state. */
static int check_message(const vc_message_t *m, char **err)
{
    vc_bigint_t t;

    if (m->version != 0) {
        dn_set_err(err, "'Version' unsupported");
        return -EINVAL;
    }
    if (vc_address_is_undef(&m->to) || vc_address_is_undef(&m->from)) {
        dn_set_err(err, "'To' and 'From' must be defined");
        return -EINVAL;
    }
    if (m->gas_limit <= 0 || m->gas_limit > DN_BLOCK_GAS_LIMIT) {
        dn_set_err(err, "'GasLimit' must be in 1..%lld", (long long)DN_BLOCK_GAS_LIMIT);
        return -EINVAL;
    }
    if (vc_bigint_sign(&m->value) < 0 || vc_bigint_sign(&m->gas_premium) < 0 || vc_bigint_sign(&m->gas_fee_cap) < 0) {
        dn_set_err(err, "'Value', 'GasFeeCap' and 'GasPremium' cannot be negative");
        return -EINVAL;
    }
    if (vc_bigint_cmp(&m->gas_fee_cap, &m->gas_premium) < 0) {
        dn_set_err(err, "'GasFeeCap' less than 'GasPremium'");
        return -EINVAL;
    }
    vc_bigint_from_i64(DN_MIN_BASE_FEE, &t);
    if (vc_bigint_cmp(&m->gas_fee_cap, &t) < 0) {
        dn_set_err(err, "gas fee cap too low: below the minimum base fee (%d)", DN_MIN_BASE_FEE);
        return -EINVAL;
    }
    return 0;
}

/* Checks what needs no chain state and builds the pool entry; an f1 sender's signature is
 * verified here, outside the chain lock. */
static int prepare(const vc_signed_message_t *sm, dn_msg_t **ret, bool *ret_sig_ok, char **err)
{
    vc_buf_t enc = {0};
    dn_msg_t *m;
    int r;

    if (sm->signature.type == VC_SIG_BLS) {
        dn_set_err(err, "BLS signatures cannot be verified by venus-devnet: sign with a secp256k1 (f1) key");
        return -EOPNOTSUPP;
    }
    if (sm->signature.type != VC_SIG_SECP256K1) {
        dn_set_err(err, "unsupported signature type %d", sm->signature.type);
        return -EINVAL;
    }
    if ((r = check_message(&sm->message, err)) < 0)
        return r;
    if ((r = vc_signed_message_encode(sm, &enc)) < 0) {
        dn_set_err(err, "cannot encode message: %s", vc_strerror(r));
        return r;
    }
    size_t size = enc.len;
    vc_buf_done(&enc);
    if (size > DN_MAX_MSG_SIZE) {
        dn_set_err(err, "message too big: %zu > %d bytes", size, DN_MAX_MSG_SIZE);
        return VC_ETOOBIG;
    }
    if (!(m = calloc(1, sizeof(*m))))
        return -ENOMEM;
    if ((r = vc_message_copy(&sm->message, &m->sm.message)) < 0)
        goto fail;
    m->sm.signature = sm->signature;
    m->size = size;
    if ((r = vc_message_cid(&m->sm.message, &m->cid)) < 0 || (r = vc_signed_message_cid(&m->sm, &m->scid)) < 0)
        goto fail;
    *ret_sig_ok = false;
    if (vc_address_protocol(&m->sm.message.from) == VC_ADDR_SECP256K1) {
        if (vc_signature_verify(&m->sm.signature, m->cid.bytes, m->cid.len, &m->sm.message.from) < 0) {
            dn_set_err(err, "invalid signature: the signature does not match the sender");
            r = VC_EVERIFY;
            goto fail;
        }
        *ret_sig_ok = true;
    }
    *ret = m;
    return 0;
fail:
    dn_msg_free(m);
    return r;
}

typedef struct admitted {
    dn_msg_t *use; /* the pool entry (m, or the already known message with its CID) */
    dn_msg_t *old; /* replaced by fee, or NULL */
    bool dup;      /* the same message again: nothing changed */
} admitted_t;

/* Chain lock held: the state-dependent rules, then the in-memory pool change. m is taken. */
static int admit_locked(dn_chain_t *c, dn_msg_t *m, bool sig_ok, bool untrusted, admitted_t *ret, char **err)
{
    char a[VC_BIGINT_STRLEN_MAX], b[VC_BIGINT_STRLEN_MAX], d[VC_BIGINT_STRLEN_MAX];
    const vc_message_t *mm = &m->sm.message;
    vc_address_t key;
    const dn_actor_t *x;
    dn_msg_t *old;
    vc_bigint_t need, t;
    int r;

    memset(ret, 0, sizeof(*ret));
    if ((r = resolve_sender(c, &mm->from, &key, &x)) < 0) {
        dn_set_err(err, "actor not found: cannot resolve the sender's key address");
        goto fail;
    }
    if (!sig_ok && (vc_address_protocol(&key) != VC_ADDR_SECP256K1 ||
                    vc_signature_verify(&m->sm.signature, m->cid.bytes, m->cid.len, &key) < 0)) {
        dn_set_err(err, "invalid signature: the signature does not match the sender");
        r = VC_EVERIFY;
        goto fail;
    }
    uint64_t state_nonce = x ? x->nonce : 0;
    if (mm->nonce < state_nonce) {
        dn_set_err(err, "message nonce too low: %" PRIu64 " < %" PRIu64, mm->nonce, state_nonce);
        r = -EINVAL;
        goto fail;
    }
    old = pool_find(c, &key, mm->nonce);
    if (old && vc_cid_equal(&old->cid, &m->cid)) { /* the same message again: nothing to do */
        ret->use = old;
        ret->dup = true;
        dn_msg_free(m);
        return 0;
    }
    if (old) {
        vc_bigint_t lhs, rhs;
        vc_bigint_from_i64(100, &t);
        (void)vc_bigint_mul(&mm->gas_premium, &t, &lhs);
        vc_bigint_from_i64(DN_RBF_PERCENT, &t);
        (void)vc_bigint_mul(&old->sm.message.gas_premium, &t, &rhs);
        if (vc_bigint_cmp(&lhs, &rhs) < 0) {
            vc_bigint_t minp;
            vc_bigint_from_i64(100, &t);
            (void)vc_bigint_add(&rhs, &t, &minp);
            vc_bigint_from_i64(1, &t);
            (void)vc_bigint_sub(&minp, &t, &minp);
            vc_bigint_from_i64(100, &t);
            (void)vc_bigint_div(&minp, &t, &minp);
            dn_set_err(err, "replace by fee has too low GasPremium (old: %s, new: %s, need >= %s)",
                       big_str(&old->sm.message.gas_premium, a), big_str(&mm->gas_premium, b), big_str(&minp, d));
            r = -EINVAL;
            goto fail;
        }
    } else {
        uint64_t next = next_nonce(c, &key, x);
        uint64_t gap = untrusted ? 0 : DN_MAX_NONCE_GAP;
        if (mm->nonce > next + gap) {
            dn_set_err(err,
                       "message nonce has too big a gap from expected nonce (Nonce: %" PRIu64 ", nextNonce: %" PRIu64
                       ")",
                       mm->nonce, next);
            r = -EINVAL;
            goto fail;
        }
        size_t count = dn_pool_sender_count(c, &key);
        if (count >= DN_MAX_ACTOR_PENDING) {
            dn_set_err(err, "too many pending messages for actor (%zu)", count);
            r = -EAGAIN;
            goto fail;
        }
        if (c->n_pool >= DN_MPOOL_SIZE_HIGH) {
            dn_set_err(err, "mpool is full (%d messages)", DN_MPOOL_SIZE_HIGH);
            r = -EAGAIN;
            goto fail;
        }
    }
    vc_bigint_from_i64(mm->gas_limit, &t);
    (void)vc_bigint_mul(&t, &mm->gas_fee_cap, &need);
    (void)vc_bigint_add(&need, &mm->value, &need);
    vc_bigint_t bal = x ? x->balance : VC_BIGINT_ZERO;
    if (vc_bigint_cmp(&bal, &need) < 0) {
        dn_set_err(err, "not enough funds (required: %s, balance: %s)", big_str(&need, a), big_str(&bal, b));
        r = -EINVAL;
        goto fail;
    }
    dn_msg_t *known = dn_cidmap_get(&c->msgs, &m->cid);
    dn_msg_t *use = known ? known : m;
    if (!known) {
        if ((r = dn_cidmap_put(&c->msgs, &m->cid, m)) < 0 || (r = dn_cidmap_put(&c->msgs, &m->scid, m)) < 0)
            goto fail;
    } else
        dn_msg_free(m);
    m = NULL;
    use->from_key = key;
    use->added_us = vc_now_real_us();
    if (old)
        dn_pool_remove(c, old);
    if ((r = dn_pool_add(c, use)) < 0) {
        if (old)
            (void)dn_pool_add(c, old);
        return r;
    }
    ret->use = use;
    ret->old = old;
    return 0;
fail:
    dn_msg_free(m);
    return r;
}

int dn_mpool_push_batch(dn_chain_t *c, const vc_signed_message_t *sms, size_t n, bool untrusted, vc_cid_t *ret_cids,
                        size_t *ret_done, char **err)
{
    dn_msg_t **ms = calloc(n ? n : 1, sizeof(*ms));
    bool *sig_ok = calloc(n ? n : 1, sizeof(*sig_ok));
    admitted_t *ad = calloc(n ? n : 1, sizeof(*ad));
    dn_msg_t **adds = calloc(n ? n : 1, sizeof(*adds)), **dels = calloc(n ? n : 1, sizeof(*dels));
    size_t k = 0, na = 0, nd = 0;
    int r = 0, first_err = 0;

    *ret_done = 0;
    if (!ms || !sig_ok || !ad || !adds || !dels) {
        r = -ENOMEM;
        goto out;
    }
    /* stateless checks and signatures, outside the lock; stop at the first bad message */
    for (; k < n; k++)
        if ((first_err = prepare(&sms[k], &ms[k], &sig_ok[k], err)) < 0)
            break;
    pthread_mutex_lock(&c->lock);
    size_t admitted = 0;
    for (size_t i = 0; i < k; i++) {
        int rr = admit_locked(c, ms[i], sig_ok[i], untrusted, &ad[i], err);
        ms[i] = NULL; /* taken */
        if (rr < 0) {
            first_err = rr;
            break;
        }
        admitted++;
        if (!ad[i].dup) {
            adds[na++] = ad[i].use;
            if (ad[i].old)
                dels[nd++] = ad[i].old;
        }
    }
    /* one transaction for the whole batch */
    dn_write_t w = {.pool_add = adds, .n_pool_add = na, .pool_del = dels, .n_pool_del = nd};
    if (na && (r = dn_store_write(c, &w, err)) < 0) {
        for (size_t i = admitted; i-- > 0;) { /* undo the in-memory pool changes */
            if (ad[i].dup)
                continue;
            dn_pool_remove(c, ad[i].use);
            if (ad[i].old)
                (void)dn_pool_add(c, ad[i].old);
        }
        pthread_mutex_unlock(&c->lock);
        goto out;
    }
    for (size_t i = 0; i < admitted; i++)
        ret_cids[i] = ad[i].use->scid;
    pthread_mutex_unlock(&c->lock);
    *ret_done = admitted;
    r = first_err;
out:
    for (size_t i = 0; ms && i < n; i++)
        dn_msg_free(ms[i]);
    free(ms);
    free(sig_ok);
    free(ad);
    free(adds);
    free(dels);
    return r;
}

int dn_mpool_push(dn_chain_t *c, const vc_signed_message_t *sm, bool untrusted, vc_cid_t *ret_cid, char **err)
{
    size_t done = 0;
    return dn_mpool_push_batch(c, sm, 1, untrusted, ret_cid, &done, err);
}

int dn_mpool_config(dn_chain_t *c, json_t **ret)
{
    (void)c;
    json_t *j = json_pack("{s:[],s:i,s:i,s:f,s:I,s:f}", "PriorityAddrs", "SizeLimitHigh", DN_MPOOL_SIZE_HIGH,
                          "SizeLimitLow", 20000, "ReplaceByFeeRatio", DN_RBF_PERCENT / 100.0, "PruneCooldown",
                          (json_int_t)60000000000LL, "GasLimitOverestimation", 1.25);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

int dn_mpool_pending(dn_chain_t *c, json_t **ret)
{
    int r = 0;
    pthread_mutex_lock(&c->lock);
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n_pool; i++)
        if (json_array_append_new(a, dn_signed_msg_json(c, c->pool[i])) < 0) {
            json_decref(a);
            a = NULL;
        }
    pthread_mutex_unlock(&c->lock);
    if (!a)
        r = -ENOMEM;
    else
        *ret = a;
    return r;
}

/* ---------------------------------------------------------------- selection */

static int cmp_sender_nonce(const void *pa, const void *pb)
{
    const dn_msg_t *a = *(dn_msg_t *const *)pa, *b = *(dn_msg_t *const *)pb;
    int r = vc_address_compare(&a->from_key, &b->from_key);
    if (r)
        return r;
    return a->sm.message.nonce < b->sm.message.nonce ? -1 : a->sm.message.nonce > b->sm.message.nonce;
}

int dn_mpool_select(dn_chain_t *c, dn_msg_t ***ret, size_t *ret_n)
{
    dn_state_t *st = dn_pool_state(c);
    size_t n = c->n_pool, nchains = 0, nout = 0;
    dn_msg_t **sorted = malloc((n ? n : 1) * sizeof(*sorted));
    dn_msg_t **out = malloc((n ? n : 1) * sizeof(*out));
    struct chain_s {
        size_t start, end, pos;
    } *chains = malloc((n ? n : 1) * sizeof(*chains));
    int64_t gas = 0;

    if (!sorted || !out || !chains) {
        free(sorted);
        free(out);
        free(chains);
        return -ENOMEM;
    }
    if (n)
        memcpy(sorted, c->pool, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_sender_nonce);
    /* per sender: the run of consecutive nonces from the state nonce */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && vc_address_equal(&sorted[j]->from_key, &sorted[i]->from_key))
            j++;
        const dn_actor_t *x = dn_state_find(st, &sorted[i]->from_key);
        uint64_t want = x ? x->nonce : 0;
        size_t s = i, e = i;
        while (s < j && sorted[s]->sm.message.nonce < want)
            s++;
        e = s;
        while (e < j && sorted[e]->sm.message.nonce == want) {
            e++;
            want++;
        }
        if (e > s)
            chains[nchains++] = (struct chain_s){.start = s, .end = e, .pos = s};
        i = j;
    }
    /* greedy: the best next premium among senders (ties: older first) */
    for (;;) {
        ssize_t best = -1;
        for (size_t k = 0; k < nchains; k++) {
            if (chains[k].pos >= chains[k].end)
                continue;
            if (best < 0) {
                best = (ssize_t)k;
                continue;
            }
            dn_msg_t *a = sorted[chains[k].pos], *b = sorted[chains[best].pos];
            int cmp = vc_bigint_cmp(&a->sm.message.gas_premium, &b->sm.message.gas_premium);
            if (cmp > 0 || (cmp == 0 && a->added_us < b->added_us))
                best = (ssize_t)k;
        }
        if (best < 0 || nout >= DN_BLOCK_MSG_LIMIT)
            break;
        dn_msg_t *m = sorted[chains[best].pos];
        if (gas + m->sm.message.gas_limit > DN_BLOCK_GAS_LIMIT) {
            chains[best].pos = chains[best].end; /* this sender's chain stops here */
            continue;
        }
        gas += m->sm.message.gas_limit;
        out[nout++] = m;
        chains[best].pos++;
    }
    free(sorted);
    free(chains);
    *ret = out;
    *ret_n = nout;
    return 0;
}

int dn_mpool_selects(dn_chain_t *c, const vc_cid_t *tsk, size_t n, const double *tq, size_t ntq, json_t **ret)
{
    dn_msg_t **sel = NULL;
    size_t nsel = 0;
    int r = 0;
    json_t *out = NULL;

    (void)tq;
    pthread_mutex_lock(&c->lock);
    if (!dn_find_tipset(c, tsk, n)) {
        r = -ENOENT;
        goto out;
    }
    if ((r = dn_mpool_select(c, &sel, &nsel)) < 0)
        goto out;
    /* Every ticket gets the same selection: duplicates across blocks are deduplicated at
     * execution, and keeping each sender's nonces in one block keeps them in order. */
    out = json_array();
    for (size_t t = 0; out && t < ntq; t++) {
        json_t *l = json_array();
        for (size_t i = 0; l && i < nsel; i++)
            if (json_array_append_new(l, dn_signed_msg_json(c, sel[i])) < 0) {
                json_decref(l);
                l = NULL;
            }
        if (!l || json_array_append_new(out, l) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    if (!out)
        r = -ENOMEM;
out:
    pthread_mutex_unlock(&c->lock);
    free(sel);
    if (r == 0)
        *ret = out;
    return r;
}

int dn_mpool_prune(dn_chain_t *c, dn_msg_t ***ret_del, size_t *ret_n)
{
    dn_state_t *st = dn_pool_state(c);
    dn_msg_t **del = malloc((c->n_pool ? c->n_pool : 1) * sizeof(*del));
    size_t nd = 0;

    if (!del)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_pool; i++) {
        const dn_actor_t *x = dn_state_find(st, &c->pool[i]->from_key);
        if (x && c->pool[i]->sm.message.nonce < x->nonce)
            del[nd++] = c->pool[i];
    }
    *ret_del = del;
    *ret_n = nd;
    return 0;
}

/* ---------------------------------------------------------------- gas estimation */

static int spec_double(const json_t *spec, const char *key, double *ret)
{
    const json_t *v = json_is_object(spec) ? json_object_get(spec, key) : NULL;
    *ret = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return VC_ETYPE;
    *ret = json_number_value(v);
    if (!isfinite(*ret) || *ret < 0 || *ret > 1e6)
        return -ERANGE;
    return 0;
}

/* a * x for a small non-negative real x (6 decimals). */
static int big_times(const vc_bigint_t *a, double x, vc_bigint_t *ret)
{
    vc_bigint_t num, den;
    vc_bigint_from_i64((int64_t)llround(x * 1e6), &num);
    vc_bigint_from_i64(1000000, &den);
    return vc_bigint_mul_ratio(a, &num, &den, ret);
}

/* The gas a message would use here, or an error like the node's estimator gives. */
static int estimate_gas_used(dn_chain_t *c, const vc_message_t *m, int64_t *ret, char **err)
{
    dn_state_t *st = dn_pool_state(c);
    const dn_actor_t *from = dn_state_find(st, &m->from);
    if (!from || from->kind != DN_ACTOR_ACCOUNT) {
        dn_set_err(err, "estimating gas used: actor not found");
        return -ENOENT;
    }
    if (vc_bigint_cmp(&from->balance, &m->value) < 0) {
        dn_set_err(err, "estimating gas used: message execution failed: exit SysErrInsufficientFunds(6)");
        return -EINVAL;
    }
    const dn_actor_t *to = dn_state_find(st, &m->to);
    if (m->method != 0 && (!to || to->kind != DN_ACTOR_MINER)) {
        dn_set_err(err, "estimating gas used: message execution failed: exit SysErrInvalidMethod(22)");
        return -EINVAL;
    }
    if (!to && vc_address_protocol(&m->to) != VC_ADDR_SECP256K1 && vc_address_protocol(&m->to) != VC_ADDR_BLS) {
        dn_set_err(err, "estimating gas used: message execution failed: exit SysErrInvalidReceiver(5)");
        return -EINVAL;
    }
    *ret = DN_GAS_PER_MESSAGE;
    return 0;
}

typedef struct gas_price {
    vc_bigint_t price;
    int64_t limit;
} gas_price_t;

static int cmp_price_desc(const void *a, const void *b)
{
    return vc_bigint_cmp(&((const gas_price_t *)b)->price, &((const gas_price_t *)a)->price);
}

static void premium_compute(dn_chain_t *c, uint64_t nblocksincl, vc_bigint_t *ret);

/* The premium for head and nblocksincl, computed once per head (c->lock held). */
static void premium_locked(dn_chain_t *c, uint64_t nblocksincl, vc_bigint_t *ret)
{
    if (c->premium_head != c->head || c->premium_height != c->head->height || c->premium_nblocks != nblocksincl) {
        premium_compute(c, nblocksincl, &c->premium);
        c->premium_head = c->head;
        c->premium_height = c->head->height;
        c->premium_nblocks = nblocksincl;
    }
    *ret = c->premium;
}

static void premium_compute(dn_chain_t *c, uint64_t nblocksincl, vc_bigint_t *ret)
{
    gas_price_t *prices = NULL;
    size_t np = 0, cap = 0;
    int64_t blocks = 0;

    if (nblocksincl == 0)
        nblocksincl = 1;
    dn_tipset_t *ts = c->head;
    for (uint64_t i = 0; i < nblocksincl * 2 && ts->height > 0 && ts->parent; i++) {
        dn_tipset_t *p = ts->parent;
        blocks += (int64_t)p->n;
        for (size_t k = 0; k < p->n_msgs; k++) {
            if (np == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                gas_price_t *n = realloc(prices, ncap * sizeof(*n));
                if (!n)
                    break;
                prices = n;
                cap = ncap;
            }
            prices[np].price = p->msgs[k]->sm.message.gas_premium;
            prices[np].limit = p->msgs[k]->sm.message.gas_limit;
            np++;
        }
        ts = p;
    }
    if (np > 1)
        qsort(prices, np, sizeof(*prices), cmp_price_desc); /* highest price first */
    int64_t at = DN_BLOCK_GAS_TARGET * blocks / 2;
    at += DN_BLOCK_GAS_TARGET * blocks / 2 * 5 / 100; /* 52.5 % */
    vc_bigint_t prev1 = VC_BIGINT_ZERO, prev2 = VC_BIGINT_ZERO, p;
    for (size_t i = 0; i < np; i++) {
        prev2 = prev1;
        prev1 = prices[i].price;
        at -= prices[i].limit;
        if (at < 0)
            break;
    }
    free(prices);
    p = prev1;
    if (!vc_bigint_is_zero(&prev2)) {
        vc_bigint_t two;
        vc_bigint_from_i64(2, &two);
        (void)vc_bigint_add(&prev1, &prev2, &p);
        (void)vc_bigint_div(&p, &two, &p);
    }
    vc_bigint_t floor;
    vc_bigint_from_i64(nblocksincl == 1 ? 2 * DN_MIN_GAS_PREMIUM
                                        : nblocksincl == 2 ? DN_MIN_GAS_PREMIUM * 3 / 2 : DN_MIN_GAS_PREMIUM,
                       &floor);
    if (vc_bigint_cmp(&p, &floor) < 0)
        p = floor;
    *ret = p;
}

int dn_gas_estimate_premium(dn_chain_t *c, uint64_t nblocksincl, json_t **ret)
{
    vc_bigint_t p;
    pthread_mutex_lock(&c->lock);
    premium_locked(c, nblocksincl, &p);
    pthread_mutex_unlock(&c->lock);
    json_t *j = dn_big_json(&p);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

static int fee_cap_locked(dn_chain_t *c, const vc_message_t *m, int64_t maxqueueblks, vc_bigint_t *ret)
{
    vc_bigint_t num, den, out;
    int r;

    if (maxqueueblks < 0 || maxqueueblks > 1000)
        return -ERANGE;
    double f = pow(1.0 + 1.0 / DN_BASE_FEE_DENOM, (double)maxqueueblks) * 256.0;
    if (f > 9e18)
        return -ERANGE;
    vc_bigint_from_i64((int64_t)f, &num);
    vc_bigint_from_i64(256, &den);
    if ((r = vc_bigint_mul_ratio(&c->head->blocks[0]->h.parent_base_fee, &num, &den, &out)) < 0 ||
        (r = vc_bigint_add(&out, &m->gas_premium, &out)) < 0)
        return r;
    *ret = out;
    return 0;
}

int dn_gas_estimate_fee_cap(dn_chain_t *c, json_t *msg_json, int64_t maxqueueblks, json_t **ret, char **err)
{
    vc_message_t m = {0};
    vc_bigint_t fc;
    int r;

    if ((r = vc_message_from_json(msg_json, &m)) < 0) {
        dn_set_err(err, "invalid message: %s", vc_strerror(r));
        return r;
    }
    pthread_mutex_lock(&c->lock);
    r = fee_cap_locked(c, &m, maxqueueblks, &fc);
    pthread_mutex_unlock(&c->lock);
    vc_message_done(&m);
    if (r < 0) {
        dn_set_err(err, "cannot estimate fee cap: %s", vc_strerror(r));
        return r;
    }
    json_t *j = dn_big_json(&fc);
    if (!j)
        return -ENOMEM;
    *ret = j;
    return 0;
}

/* Fills m's gas fields per B.4 (c->lock held). */
static int estimate_locked(dn_chain_t *c, vc_message_t *m, const json_t *spec, char **err)
{
    double over_est, over_prem;
    vc_bigint_t max_fee = VC_BIGINT_ZERO, t;
    int r;

    if (spec && !json_is_null(spec) && !json_is_object(spec)) {
        dn_set_err(err, "invalid MessageSendSpec: expected an object");
        return VC_ETYPE;
    }
    if ((r = spec_double(spec, "GasOverEstimation", &over_est)) < 0 ||
        (r = spec_double(spec, "GasOverPremium", &over_prem)) < 0) {
        dn_set_err(err, "invalid MessageSendSpec: GasOverEstimation/GasOverPremium must be small non-negative numbers");
        return r;
    }
    const json_t *mf = json_is_object(spec) ? json_object_get(spec, "MaxFee") : NULL;
    if (mf && !json_is_null(mf)) {
        if (!json_is_string(mf) || vc_bigint_from_string(json_string_value(mf), &max_fee) < 0 ||
            vc_bigint_sign(&max_fee) < 0) {
            dn_set_err(err, "invalid MessageSendSpec: MaxFee must be a non-negative big integer string");
            return VC_EPARSE;
        }
    }
    if (vc_address_is_undef(&m->from) || vc_address_is_undef(&m->to)) {
        dn_set_err(err, "'To' and 'From' must be defined");
        return -EINVAL;
    }
    if (m->gas_limit == 0) {
        int64_t used;
        if ((r = estimate_gas_used(c, m, &used, err)) < 0)
            return r;
        double g = (double)used * (over_est > 0 ? over_est : 1.25);
        m->gas_limit = g >= (double)DN_BLOCK_GAS_LIMIT ? DN_BLOCK_GAS_LIMIT : (int64_t)g;
        if (m->gas_limit <= 0)
            m->gas_limit = 1;
    } else if (m->gas_limit < 0) {
        dn_set_err(err, "'GasLimit' cannot be negative");
        return -EINVAL;
    }
    if (vc_bigint_is_zero(&m->gas_premium)) {
        premium_locked(c, 10, &m->gas_premium);
        if (over_prem > 0 && (r = big_times(&m->gas_premium, over_prem, &m->gas_premium)) < 0)
            return r;
    }
    if (vc_bigint_is_zero(&m->gas_fee_cap) && (r = fee_cap_locked(c, m, 20, &m->gas_fee_cap)) < 0)
        return r;
    /* CapGasFee */
    if (vc_bigint_is_zero(&max_fee))
        (void)vc_bigint_from_string("70000000000000000", &max_fee); /* 0.07 FIL */
    vc_bigint_from_i64(m->gas_limit, &t);
    vc_bigint_t total;
    if ((r = vc_bigint_mul(&m->gas_fee_cap, &t, &total)) < 0)
        return r;
    if (vc_bigint_cmp(&total, &max_fee) > 0 && (r = vc_bigint_div(&max_fee, &t, &m->gas_fee_cap)) < 0)
        return r;
    if (vc_bigint_cmp(&m->gas_premium, &m->gas_fee_cap) > 0)
        m->gas_premium = m->gas_fee_cap;
    return 0;
}

int dn_gas_estimate_message_gas(dn_chain_t *c, json_t *msg_json, json_t *spec_json, json_t **ret, char **err)
{
    vc_message_t m = {0};
    int r;

    if ((r = vc_message_from_json(msg_json, &m)) < 0) {
        dn_set_err(err, "invalid message: %s", vc_strerror(r));
        return r;
    }
    pthread_mutex_lock(&c->lock);
    r = estimate_locked(c, &m, spec_json, err);
    pthread_mutex_unlock(&c->lock);
    if (r >= 0)
        r = vc_message_to_json(&m, c->net, true, ret);
    vc_message_done(&m);
    return r < 0 ? r : 0;
}

int dn_gas_batch_estimate(dn_chain_t *c, json_t *estimates, uint64_t from_nonce, json_t **ret, char **err)
{
    json_t *out, *e;
    size_t i;
    int r = 0;

    if (!json_is_array(estimates)) {
        dn_set_err(err, "expected an array of {Msg, Spec}");
        return VC_ETYPE;
    }
    if (json_array_size(estimates) > DN_BLOCK_MSG_LIMIT) {
        dn_set_err(err, "too many messages (max %d)", DN_BLOCK_MSG_LIMIT);
        return VC_ETOOBIG;
    }
    if (!(out = json_array()))
        return -ENOMEM;
    json_array_foreach(estimates, i, e) {
        vc_message_t m = {0};
        char *merr = NULL;
        json_t *mj;
        if (!json_is_object(e) || (r = vc_message_from_json(json_object_get(e, "Msg"), &m)) < 0) {
            dn_set_err(err, "estimate %zu: invalid message", i);
            json_decref(out);
            return r < 0 ? r : VC_ETYPE;
        }
        m.nonce = from_nonce;
        pthread_mutex_lock(&c->lock);
        r = estimate_locked(c, &m, json_object_get(e, "Spec"), &merr);
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
            m.nonce = 0;
        else
            from_nonce++;
        if (vc_message_to_json(&m, c->net, true, &mj) < 0 ||
            json_array_append_new(out, json_pack("{s:o,s:s}", "Msg", mj, "Err", r < 0 && merr ? merr : "")) < 0) {
            free(merr);
            vc_message_done(&m);
            json_decref(out);
            return -ENOMEM;
        }
        free(merr);
        vc_message_done(&m);
    }
    *ret = out;
    return 0;
}
