/*
 * devnet-mine.c: block production (self mode), external blocks (MinerCreateBlock,
 * SyncSubmitBlock, MinerGetBaseInfo), the epoch clock, reverts and head-change delivery.
 *
 * Devnet-specific: self-made blocks carry blake2b-derived tickets and election proofs (the
 * election proof is re-derived until it wins, so WinCount >= 1 by the real A.3.3 rule), the
 * WinPoSt proof "valid proof" and no block signature. Submitted blocks must have the exact
 * WinCount of A.3.3 for their election VRF (blake2b-256 of VRFProof), but VRFs themselves are not
 * verified (BLS cannot be verified here); a secp256k1 worker's BlockSig is verified.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "devnet-internal.h"
#include "vc/blake2b.h"
#include "vc/cbor.h"
#include "vc/crypto.h"
#include "vc/election.h"
#include "vc/log.h"

json_t *dn_beacon_json(int64_t round);

#define MAX_BEACON_SPAN 10000
#define MAX_BASEINFO_SECTORS 64

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static int64_t epoch_time_ms(dn_chain_t *c, int64_t h)
{
    return c->clock_base_ms + (h - c->clock_base_h) * c->block_time_ms;
}

static int grow_main(dn_chain_t *c, int64_t h)
{
    if ((size_t)h < c->cap_main)
        return 0;
    size_t ncap = (size_t)h * 2 + 64;
    dn_tipset_t **n = realloc(c->main, ncap * sizeof(*n));
    if (!n)
        return -ENOMEM;
    memset(n + c->cap_main, 0, (ncap - c->cap_main) * sizeof(*n));
    c->main = n;
    c->cap_main = ncap;
    return 0;
}

static bool same_key(const dn_tipset_t *ts, const vc_cid_t *k, size_t n)
{
    if (ts->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!vc_cid_equal(&ts->blocks[i]->cid, &k[i]))
            return false;
    return true;
}

/* Builds a block object from a header (encodes, decodes an owned copy, computes the CID). */
static int block_from_header(const vc_block_header_t *h, dn_msg_t **secp, size_t n_secp, dn_block_t **ret)
{
    vc_buf_t b = {0};
    dn_block_t *blk = calloc(1, sizeof(*blk));
    int r;

    if (!blk)
        return -ENOMEM;
    if ((r = vc_block_header_encode(h, &b)) < 0 ||
        (r = vc_block_header_decode((const uint8_t *)b.data, b.len, &blk->h)) < 0)
        goto fail;
    vc_cid_sum_dagcbor(b.data, b.len, &blk->cid);
    blk->cbor_len = b.len;
    blk->cbor = (uint8_t *)vc_buf_steal(&b);
    if (n_secp) {
        if (!(blk->secp = malloc(n_secp * sizeof(*blk->secp)))) {
            r = -ENOMEM;
            goto fail;
        }
        memcpy(blk->secp, secp, n_secp * sizeof(*secp));
        blk->n_secp = n_secp;
    }
    *ret = blk;
    return 0;
fail:
    vc_buf_done(&b);
    dn_block_free(blk);
    return r;
}

/* Fills the parent-derived fields of h from parent (which must have been executed). */
static int parent_fields(dn_chain_t *c, dn_tipset_t *parent, vc_block_header_t *h, vc_cid_t *keybuf)
{
    int r;
    if ((r = dn_ensure_exec(c, parent, NULL)) < 0)
        return r;
    for (size_t i = 0; i < parent->n; i++)
        keybuf[i] = parent->blocks[i]->cid;
    h->parents = keybuf;
    h->n_parents = parent->n;
    h->parent_weight = parent->weight;
    h->parent_state_root = parent->exec_state->root;
    h->parent_message_receipts = parent->exec_receipts_root;
    return dn_next_base_fee(parent, &h->parent_base_fee);
}

static int self_block(dn_chain_t *c, dn_tipset_t *parent, int64_t height, uint64_t ts_s, dn_msg_t **sel, size_t nsel,
                      dn_block_t **ret)
{
    const dn_genesis_miner_t *gm = &c->miners[0];
    vc_block_header_t h = {0};
    uint8_t seed[8 * 4 + 16], ticket[32], evrf[32];
    vc_bigint_t total;
    vc_cid_t *key = calloc(parent->n, sizeof(*key));
    vc_beacon_entry_t *be = NULL;
    uint8_t (*bdata)[32] = NULL;
    int64_t span = height - parent->height, wins = 0;
    static const char proof[] = "valid proof";
    vc_post_proof_t pp = {.proof_type = 0, .proof = (const uint8_t *)proof, .proof_len = sizeof(proof) - 1};
    int r;

    if (!key)
        return -ENOMEM;
    if (span <= 0 || span > MAX_BEACON_SPAN) {
        r = -EINVAL;
        goto out;
    }
    be = calloc((size_t)span, sizeof(*be));
    bdata = calloc((size_t)span, sizeof(*bdata));
    if (!be || !bdata) {
        r = -ENOMEM;
        goto out;
    }
    for (int64_t i = 0; i < span; i++) {
        dn_beacon_data(parent->height + 1 + i, bdata[i]);
        be[i] = (vc_beacon_entry_t){.round = (uint64_t)(parent->height + 1 + i), .data = bdata[i], .data_len = 32};
    }
    memcpy(seed, "venus-devnet/tkt", 16);
    put_be64(seed + 16, gm->id);
    put_be64(seed + 24, (uint64_t)height);
    put_be64(seed + 32, c->fork_counter);
    put_be64(seed + 40, 0);
    vc_blake2b_256(seed, sizeof(seed), ticket);
    if ((r = dn_total_power(c, &total)) < 0)
        goto out;
    memcpy(seed, "venus-devnet/elc", 16);
    for (uint64_t k = 0; k < 4096 && wins < 1; k++) {
        put_be64(seed + 40, k);
        vc_blake2b_256(seed, sizeof(seed), evrf);
        if ((r = vc_election_win_count(evrf, 32, &gm->power, &total, &wins)) < 0)
            goto out;
    }
    (void)vc_address_new_id(gm->id, &h.miner);
    h.has_ticket = true;
    h.ticket_vrf = ticket;
    h.ticket_vrf_len = 32;
    h.has_election_proof = true;
    h.win_count = wins < 1 ? 1 : wins;
    h.election_vrf = evrf;
    h.election_vrf_len = 32;
    h.beacon_entries = be;
    h.n_beacon_entries = (size_t)span;
    h.win_post_proof = &pp;
    h.n_win_post_proof = 1;
    h.height = height;
    h.timestamp = ts_s;
    dn_messages_root(NULL, 0, sel, nsel, &h.messages);
    if ((r = parent_fields(c, parent, &h, key)) < 0)
        goto out;
    r = block_from_header(&h, sel, nsel, ret);
out:
    free(key);
    free(be);
    free(bdata);
    return r;
}

static int new_tipset(dn_chain_t *c, dn_tipset_t *parent, dn_block_t **blocks, size_t n, dn_tipset_t **ret)
{
    dn_tipset_t *ts = calloc(1, sizeof(*ts));
    int r;

    if (!ts || !(ts->blocks = malloc(n * sizeof(*ts->blocks)))) {
        free(ts);
        return -ENOMEM;
    }
    memcpy(ts->blocks, blocks, n * sizeof(*blocks));
    ts->n = n;
    ts->parent = parent;
    ts->height = blocks[0]->h.height;
    ts->main = true;
    ts->state = parent->exec_state;
    dn_tipset_sort(ts);
    if ((r = dn_tipset_collect_msgs(ts)) < 0 || (r = dn_weight(c, ts, &ts->weight)) < 0 ||
        (r = dn_ensure_exec(c, ts, NULL)) < 0) {
        dn_tipset_free(ts);
        return r;
    }
    *ret = ts;
    return 0;
}

/* Pool messages made stale by state st. */
static int stale_pool(dn_chain_t *c, const dn_state_t *st, dn_msg_t ***ret, size_t *ret_n)
{
    dn_msg_t **del = malloc((c->n_pool ? c->n_pool : 1) * sizeof(*del));
    size_t nd = 0;
    if (!del)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_pool; i++) {
        const dn_actor_t *x = dn_state_find(st, &c->pool[i]->from_key);
        if (x && c->pool[i]->sm.message.nonce < x->nonce)
            del[nd++] = c->pool[i];
    }
    *ret = del;
    *ret_n = nd;
    return 0;
}

/* Makes ts (a child of the head) the head: persists, links, prunes the pool. Takes ts (and its
 * blocks) on success; on failure the caller frees them. c->lock held. */
static int advance(dn_chain_t *c, dn_tipset_t *ts, char **err)
{
    dn_msg_t **del = NULL;
    size_t nd = 0;
    int r;

    if ((r = grow_main(c, ts->height)) < 0 || (r = stale_pool(c, ts->exec_state, &del, &nd)) < 0)
        return r;
    dn_write_t w = {.new_ts = &ts, .n_new_ts = 1, .exec_ts = &ts, .n_exec_ts = 1, .head = ts, .pool_del = del,
                    .n_pool_del = nd};
    if ((r = dn_store_write(c, &w, err)) < 0) {
        free(del);
        return r;
    }
    if ((r = dn_register_tipset(c, ts)) < 0) {
        free(del);
        return r;
    }
    c->main[ts->height] = ts;
    c->head = ts;
    for (size_t i = 0; i < nd; i++)
        dn_pool_remove(c, del[i]);
    free(del);
    return 0;
}

static void free_tipset_blocks(dn_tipset_t *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++)
        dn_block_free(ts->blocks[i]);
    dn_tipset_free(ts);
}

/* Closes epoch c->epoch. c->close_lock held, c->lock not. */
static int close_epoch(dn_chain_t *c, dn_changes_t *ch, dn_tipset_t **app_buf, char **err)
{
    dn_tipset_t *ts = NULL;
    dn_msg_t **sel = NULL;
    size_t nsel = 0;
    int r = 0;

    pthread_mutex_lock(&c->lock);
    if (c->epoch <= c->head->height)
        c->epoch = c->head->height + 1;
    int64_t e = c->epoch;
    /* external mode still makes the first block: venus-miner (and the messager) wait for a
     * head above genesis before they start */
    if (c->mode == DN_MINE_SELF || c->head->height == 0) {
        dn_block_t *b = NULL;
        int64_t t = epoch_time_ms(c, e) / 1000;
        uint64_t ts_s = (uint64_t)(t > (int64_t)c->head->blocks[0]->h.timestamp ? t : (int64_t)c->head->blocks[0]->h.timestamp);
        if ((r = dn_mpool_select(c, &sel, &nsel)) < 0 || (r = self_block(c, c->head, e, ts_s, sel, nsel, &b)) < 0)
            goto out;
        if ((r = new_tipset(c, c->head, &b, 1, &ts)) < 0) {
            dn_block_free(b);
            goto out;
        }
    } else {
        dn_block_t **take = malloc((c->n_pend ? c->n_pend : 1) * sizeof(*take));
        size_t nt = 0, keep = 0;
        if (!take) {
            r = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < c->n_pend; i++) {
            dn_block_t *b = c->pend[i];
            if (b->h.height == e && same_key(c->head, b->h.parents, b->h.n_parents))
                take[nt++] = b;
            else if (b->h.height > e)
                c->pend[keep++] = b;
            else
                dn_block_free(b);
        }
        c->n_pend = keep;
        if (nt > 0 && (r = new_tipset(c, c->head, take, nt, &ts)) < 0) {
            for (size_t i = 0; i < nt; i++)
                dn_block_free(take[i]);
            free(take);
            goto out;
        }
        free(take);
    }
    if (ts) {
        if ((r = advance(c, ts, err)) < 0) {
            free_tipset_blocks(ts);
            goto out;
        }
        app_buf[0] = ts;
        ch->app = app_buf;
        ch->n_app = 1;
    }
    c->epoch = e + 1;
out:
    pthread_mutex_unlock(&c->lock);
    free(sel);
    return r;
}

int dn_chain_step(dn_chain_t *c)
{
    dn_changes_t ch = {0};
    dn_tipset_t *app[1];
    char *err = NULL;

    pthread_mutex_lock(&c->close_lock);
    int r = close_epoch(c, &ch, app, &err);
    if (r >= 0)
        dn_notify(c, &ch);
    pthread_mutex_unlock(&c->close_lock);
    if (r < 0)
        vc_logkv(VC_LOG_DEBUG, "devnet", "epoch close failed", "error", err ? err : vc_strerror(r), NULL);
    free(err);
    return r;
}

void dn_chain_set_mode(dn_chain_t *c, dn_mine_mode_t mode)
{
    pthread_mutex_lock(&c->lock);
    c->mode = mode;
    pthread_mutex_unlock(&c->lock);
}

int64_t dn_chain_epoch(dn_chain_t *c)
{
    pthread_mutex_lock(&c->lock);
    int64_t e = c->epoch > c->head->height ? c->epoch : c->head->height + 1;
    pthread_mutex_unlock(&c->lock);
    return e;
}

/* ---------------------------------------------------------------- the epoch clock */

static void rebase_clock(dn_chain_t *c)
{
    c->clock_base_ms = dn_now_ms();
    c->clock_base_h = (c->epoch > c->head->height ? c->epoch : c->head->height + 1) - 1;
}

void dn_chain_set_block_time_ms(dn_chain_t *c, int64_t ms)
{
    if (ms < 10)
        ms = 10;
    pthread_mutex_lock(&c->lock);
    __atomic_store_n(&c->block_time_ms, ms, __ATOMIC_RELAXED);
    rebase_clock(c);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void dn_chain_pause(dn_chain_t *c, bool paused)
{
    pthread_mutex_lock(&c->lock);
    if (c->paused && !paused)
        rebase_clock(c);
    c->paused = paused;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void dn_chain_stop(dn_chain_t *c)
{
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

int dn_chain_run(dn_chain_t *c, dn_mine_mode_t mode)
{
    pthread_mutex_lock(&c->lock);
    c->mode = mode;
    c->stopping = false;
    rebase_clock(c);
    while (!c->stopping) {
        int64_t e = c->epoch > c->head->height ? c->epoch : c->head->height + 1;
        int64_t at = epoch_time_ms(c, e);
        if (c->mode == DN_MINE_EXTERNAL) {
            /* give external miners (who mine after the propagation delay) time to submit */
            int64_t pd = c->propagation_ms < c->block_time_ms / 2 ? c->propagation_ms : c->block_time_ms / 2;
            at += pd + (c->block_time_ms - pd) / 2;
        }
        int64_t now = dn_now_ms();
        if (c->paused || now < at) {
            int64_t wait = c->paused ? 1000 : at - now;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&c->cond, &c->lock, &ts);
            continue;
        }
        pthread_mutex_unlock(&c->lock);
        (void)dn_chain_step(c);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---------------------------------------------------------------- revert */

int dn_chain_revert(dn_chain_t *c, int n, char **err)
{
    dn_tipset_t **rev = NULL, **fork = NULL, *a, *saved;
    dn_msg_t **readd = NULL, **del = NULL, **sel = NULL;
    size_t nre = 0, nd = 0, nsel = 0, nfork = 0, nrev = 0;
    int r = 0;

    if (n < 1 || n > 1000) {
        dn_set_err(err, "revert count must be 1..1000");
        return -EINVAL;
    }
    pthread_mutex_lock(&c->close_lock);
    pthread_mutex_lock(&c->lock);
    saved = c->head;
    rev = calloc((size_t)n, sizeof(*rev));
    fork = calloc((size_t)n, sizeof(*fork));
    if (!rev || !fork) {
        r = -ENOMEM;
        goto fail;
    }
    a = c->head;
    for (int i = 0; i < n; i++) {
        if (!a->parent) {
            dn_set_err(err, "cannot revert %d tipsets: only %d above genesis", n, i);
            r = -EINVAL;
            goto fail;
        }
        rev[nrev++] = a;
        a = a->parent;
    }
    if ((r = dn_ensure_exec(c, a, NULL)) < 0)
        goto fail;
    /* reverted messages go back to the pool (those still valid on the fork base) */
    size_t total = 0;
    for (size_t i = 0; i < nrev; i++)
        total += rev[i]->n_msgs;
    if (!(readd = malloc((total ? total : 1) * sizeof(*readd)))) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = nrev; i-- > 0;)
        for (size_t k = 0; k < rev[i]->n_msgs; k++) {
            dn_msg_t *m = rev[i]->msgs[k];
            const dn_actor_t *x = dn_state_find(a->exec_state, &m->sm.message.from);
            if (m->pending || !x || m->sm.message.nonce < x->nonce || m->bls)
                continue;
            if (!vc_address_is_undef(&x->key))
                m->from_key = x->key;
            if ((r = dn_pool_add(c, m)) < 0)
                goto fail;
            m->added_us = vc_now_real_us();
            readd[nre++] = m;
        }
    /* the fork: n one-block tipsets on a, with other tickets */
    c->fork_counter++;
    dn_tipset_t *cur = a;
    for (int i = 0; i < n; i++) {
        dn_block_t *b = NULL;
        int64_t h = a->height + 1 + i;
        int64_t t = epoch_time_ms(c, h) / 1000;
        uint64_t ts_s = (uint64_t)(t > (int64_t)cur->blocks[0]->h.timestamp ? t : (int64_t)cur->blocks[0]->h.timestamp);
        c->head = cur; /* selection runs against the fork tip */
        free(sel);
        sel = NULL;
        if ((r = dn_mpool_select(c, &sel, &nsel)) < 0 || (r = self_block(c, cur, h, ts_s, sel, nsel, &b)) < 0)
            goto fail;
        if ((r = new_tipset(c, cur, &b, 1, &fork[nfork])) < 0) {
            dn_block_free(b);
            goto fail;
        }
        cur = fork[nfork++]; /* its exec state moves the senders' nonces past the selection */
    }
    c->head = saved;
    if ((r = stale_pool(c, cur->exec_state, &del, &nd)) < 0)
        goto fail;
    if ((r = grow_main(c, cur->height)) < 0)
        goto fail;
    dn_write_t w = {.new_ts = fork, .n_new_ts = nfork, .exec_ts = fork, .n_exec_ts = nfork, .off_main = rev,
                    .n_off_main = nrev, .head = cur, .pool_add = readd, .n_pool_add = nre, .pool_del = del,
                    .n_pool_del = nd};
    if ((r = dn_store_write(c, &w, err)) < 0)
        goto fail;
    for (size_t i = 0; i < nrev; i++) {
        rev[i]->main = false;
        if (c->main[rev[i]->height] == rev[i])
            c->main[rev[i]->height] = NULL;
    }
    for (size_t i = 0; i < nfork; i++) {
        if ((r = dn_register_tipset(c, fork[i])) < 0)
            break; /* OOM: persisted already; memory catches up at next open */
        c->main[fork[i]->height] = fork[i];
    }
    c->head = cur;
    for (size_t i = 0; i < nd; i++)
        dn_pool_remove(c, del[i]);
    for (size_t i = 0; i < c->n_pend; i++)
        dn_block_free(c->pend[i]);
    c->n_pend = 0;
    if (c->epoch <= cur->height)
        c->epoch = cur->height + 1;
    pthread_mutex_unlock(&c->lock);
    dn_changes_t ch = {.rev = rev, .n_rev = nrev, .app = fork, .n_app = nfork};
    dn_notify(c, &ch);
    pthread_mutex_unlock(&c->close_lock);
    free(rev);
    free(fork);
    free(readd);
    free(del);
    free(sel);
    return 0;
fail:
    c->head = saved;
    for (size_t i = 0; i < nre; i++)
        dn_pool_remove(c, readd[i]);
    for (size_t i = 0; i < nfork; i++)
        free_tipset_blocks(fork[i]);
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&c->close_lock);
    free(rev);
    free(fork);
    free(readd);
    free(del);
    free(sel);
    return r;
}

/* ---------------------------------------------------------------- external mining */

static int parse_tsk(const json_t *j, vc_cid_t **ret, size_t *ret_n)
{
    size_t n = json_is_array(j) ? json_array_size(j) : 0;
    if (j && !json_is_null(j) && !json_is_array(j))
        return VC_ETYPE;
    if (n > VC_BLOCK_HEADER_ARRAY_MAX)
        return VC_ETOOBIG;
    vc_cid_t *k = calloc(n ? n : 1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int r = vc_cid_from_json(json_array_get(j, i), &k[i]);
        if (r < 0) {
            free(k);
            return r;
        }
    }
    *ret = k;
    *ret_n = n;
    return 0;
}

void dn_sector_sealed_cid(const dn_genesis_miner_t *m, uint64_t number, vc_cid_t *ret)
{
    uint8_t seed[24], d[32];
    memcpy(seed, "devnet/s", 8);
    put_be64(seed + 8, m->id);
    put_be64(seed + 16, number);
    vc_blake2b_256(seed, sizeof(seed), d);
    /* 32 digest bytes always fit a CID */
    (void)vc_cid_new(0xf102 /* fil-commitment-sealed */, 0xb401 /* poseidon-bls12_381-a1-fc1 */, d, 32, ret);
}

int dn_miner_get_base_info(dn_chain_t *c, const vc_address_t *miner, int64_t round, const vc_cid_t *tsk, size_t n,
                           json_t **ret)
{
    vc_bigint_t total;
    json_t *j = NULL, *sectors = NULL, *beacons = NULL;
    int r = 0;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *ts = dn_find_tipset(c, tsk, n);
    const dn_genesis_miner_t *gm = dn_find_miner(c, miner);
    if (!ts) {
        r = -ENOENT;
        goto out;
    }
    if (!gm) {
        j = json_null();
        goto out;
    }
    if (round <= ts->height || round - ts->height > MAX_BEACON_SPAN) {
        r = -EINVAL;
        goto out;
    }
    if ((r = dn_total_power(c, &total)) < 0)
        goto out;
    sectors = json_array();
    beacons = json_array();
    for (uint64_t i = 0; sectors && i < gm->sectors && i < MAX_BASEINFO_SECTORS; i++) {
        vc_cid_t sealed;
        dn_sector_sealed_cid(gm, i, &sealed);
        if (json_array_append_new(sectors, json_pack("{s:I,s:I,s:n,s:o}", "SealProof",
                                                     (json_int_t)dn_seal_proof_type(gm->sector_size), "SectorNumber",
                                                     (json_int_t)i, "SectorKey", "SealedCID", vc_cid_to_json(&sealed))) < 0) {
            json_decref(sectors);
            sectors = NULL;
        }
    }
    for (int64_t e = ts->height + 1; beacons && e <= round; e++)
        if (json_array_append_new(beacons, dn_beacon_json(e)) < 0) {
            json_decref(beacons);
            beacons = NULL;
        }
    if (!sectors || !beacons) {
        json_decref(sectors);
        json_decref(beacons);
        r = -ENOMEM;
        goto out;
    }
    j = json_pack("{s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:b}", "MinerPower", dn_big_json(&gm->power), "NetworkPower",
                  dn_big_json(&total), "Sectors", sectors, "WorkerKey", dn_addr_json(c, &gm->worker), "SectorSize",
                  (json_int_t)gm->sector_size, "PrevBeaconEntry", dn_beacon_json(ts->height), "BeaconEntries", beacons,
                  "EligibleForMining", true);
    if (!j)
        r = -ENOMEM;
out:
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *ret = j;
    return r;
}

static int json_b64(const json_t *j, uint8_t **ret, size_t *ret_len)
{
    if (!j || json_is_null(j)) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    if (!json_is_string(j))
        return VC_ETYPE;
    if (json_string_length(j) > 4096)
        return VC_ETOOBIG;
    return vc_base64_decode(json_string_value(j), json_string_length(j), ret, ret_len);
}

int dn_miner_create_block(dn_chain_t *c, json_t *tj, json_t **ret, char **err)
{
    vc_block_header_t h = {0};
    vc_cid_t *parents = NULL, *key = NULL;
    size_t np = 0, nm = 0, nb = 0, npp = 0, nnew = 0;
    uint8_t *ticket = NULL, *evrf = NULL;
    size_t tl = 0, el = 0;
    vc_beacon_entry_t *be = NULL;
    vc_post_proof_t *pp = NULL;
    uint8_t **bufs = NULL;
    size_t nbufs = 0;
    dn_msg_t **msgs = NULL, **fresh = NULL;
    dn_block_t *blk = NULL;
    const json_t *v;
    json_t *out = NULL;
    int r;

    if (!json_is_object(tj)) {
        dn_set_err(err, "invalid BlockTemplate: expected an object");
        return VC_ETYPE;
    }
    v = json_object_get(tj, "Miner");
    if (!json_is_string(v) || vc_address_from_string(json_string_value(v), &h.miner) < 0) {
        dn_set_err(err, "invalid BlockTemplate: bad Miner");
        return VC_EPARSE;
    }
    if ((r = parse_tsk(json_object_get(tj, "Parents"), &parents, &np)) < 0 || np == 0) {
        dn_set_err(err, "invalid BlockTemplate: bad Parents");
        free(parents);
        return r < 0 ? r : -EINVAL;
    }
    v = json_object_get(tj, "Ticket");
    if (!json_is_object(v) || (r = json_b64(json_object_get(v, "VRFProof"), &ticket, &tl)) < 0 || tl == 0) {
        dn_set_err(err, "invalid BlockTemplate: a Ticket with a VRFProof is required");
        r = r < 0 ? r : -EINVAL;
        goto out;
    }
    v = json_object_get(tj, "Eproof");
    if (!json_is_object(v) || !json_is_integer(json_object_get(v, "WinCount")) ||
        (r = json_b64(json_object_get(v, "VRFProof"), &evrf, &el)) < 0) {
        dn_set_err(err, "invalid BlockTemplate: an Eproof {WinCount, VRFProof} is required");
        r = r < 0 ? r : -EINVAL;
        goto out;
    }
    h.has_ticket = h.has_election_proof = true;
    h.ticket_vrf = ticket;
    h.ticket_vrf_len = tl;
    h.win_count = json_integer_value(json_object_get(v, "WinCount"));
    h.election_vrf = evrf;
    h.election_vrf_len = el;
    v = json_object_get(tj, "Epoch");
    if (!json_is_integer(v)) {
        dn_set_err(err, "invalid BlockTemplate: Epoch is required");
        r = VC_ETYPE;
        goto out;
    }
    h.height = json_integer_value(v);
    v = json_object_get(tj, "Timestamp");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        dn_set_err(err, "invalid BlockTemplate: Timestamp is required");
        r = VC_ETYPE;
        goto out;
    }
    h.timestamp = (uint64_t)json_integer_value(v);
    const json_t *bv = json_object_get(tj, "BeaconValues"), *wp = json_object_get(tj, "WinningPoStProof"),
                 *ms = json_object_get(tj, "Messages");
    nb = json_is_array(bv) ? json_array_size(bv) : 0;
    npp = json_is_array(wp) ? json_array_size(wp) : 0;
    nm = json_is_array(ms) ? json_array_size(ms) : 0;
    if ((bv && !json_is_null(bv) && !json_is_array(bv)) || (wp && !json_is_null(wp) && !json_is_array(wp)) ||
        (ms && !json_is_null(ms) && !json_is_array(ms)) || nb > MAX_BEACON_SPAN || npp > 64 || nm > DN_BLOCK_MSG_LIMIT) {
        dn_set_err(err, "invalid BlockTemplate: BeaconValues, WinningPoStProof and Messages must be (bounded) arrays");
        r = VC_ETYPE;
        goto out;
    }
    be = calloc(nb ? nb : 1, sizeof(*be));
    pp = calloc(npp ? npp : 1, sizeof(*pp));
    bufs = calloc(nb + npp + 1, sizeof(*bufs));
    msgs = calloc(nm ? nm : 1, sizeof(*msgs));
    fresh = calloc(nm ? nm : 1, sizeof(*fresh));
    if (!be || !pp || !bufs || !msgs || !fresh) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nb; i++) {
        const json_t *e = json_array_get(bv, i), *rd = json_object_get(e, "Round");
        if (!json_is_integer(rd) || json_integer_value(rd) < 0 ||
            (r = json_b64(json_object_get(e, "Data"), &bufs[nbufs], &be[i].data_len)) < 0) {
            dn_set_err(err, "invalid BlockTemplate: BeaconValues[%zu]", i);
            r = r < 0 ? r : VC_ETYPE;
            goto out;
        }
        be[i].round = (uint64_t)json_integer_value(rd);
        be[i].data = bufs[nbufs++];
    }
    for (size_t i = 0; i < npp; i++) {
        const json_t *e = json_array_get(wp, i), *pt = json_object_get(e, "PoStProof");
        if (!json_is_integer(pt) || (r = json_b64(json_object_get(e, "ProofBytes"), &bufs[nbufs], &pp[i].proof_len)) < 0) {
            dn_set_err(err, "invalid BlockTemplate: WinningPoStProof[%zu]", i);
            r = r < 0 ? r : VC_ETYPE;
            goto out;
        }
        pp[i].proof_type = json_integer_value(pt);
        pp[i].proof = bufs[nbufs++];
    }
    h.beacon_entries = be;
    h.n_beacon_entries = nb;
    h.win_post_proof = pp;
    h.n_win_post_proof = npp;

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *parent = dn_find_tipset(c, parents, np);
    if (!parent) {
        dn_set_err(err, "parent tipset not found");
        r = -ENOENT;
        goto unlock;
    }
    if (!dn_find_miner(c, &h.miner)) {
        dn_set_err(err, "miner is not a genesis miner of this devnet");
        r = -ENOENT;
        goto unlock;
    }
    if (h.height <= parent->height) {
        dn_set_err(err, "block epoch %" PRId64 " must be above the parent's %" PRId64, h.height, parent->height);
        r = -EINVAL;
        goto unlock;
    }
    if ((r = dn_ensure_exec(c, parent, NULL)) < 0)
        goto unlock;
    for (size_t i = 0; i < nm; i++) {
        vc_signed_message_t sm = {0};
        vc_cid_t scid;
        if ((r = vc_signed_message_from_json(json_array_get(ms, i), &sm)) < 0) {
            dn_set_err(err, "Messages[%zu]: invalid SignedMessage", i);
            goto unlock;
        }
        if (sm.signature.type != VC_SIG_SECP256K1) {
            vc_signed_message_done(&sm);
            dn_set_err(err, "Messages[%zu]: BLS signatures cannot be verified by venus-devnet", i);
            r = -EOPNOTSUPP;
            goto unlock;
        }
        if ((r = vc_signed_message_cid(&sm, &scid)) < 0) {
            vc_signed_message_done(&sm);
            goto unlock;
        }
        dn_msg_t *m = dn_cidmap_get(&c->msgs, &scid);
        if (!m) {
            const dn_actor_t *x = dn_state_find(parent->exec_state, &sm.message.from);
            vc_address_t from_key = sm.message.from;
            if (vc_address_protocol(&from_key) == VC_ADDR_ID && x)
                from_key = x->key;
            vc_cid_t mc;
            if (vc_message_cid(&sm.message, &mc) < 0 ||
                vc_signature_verify(&sm.signature, mc.bytes, mc.len, &from_key) < 0) {
                vc_signed_message_done(&sm);
                dn_set_err(err, "Messages[%zu]: invalid signature", i);
                r = VC_EVERIFY;
                goto unlock;
            }
            if (!(m = calloc(1, sizeof(*m)))) {
                vc_signed_message_done(&sm);
                r = -ENOMEM;
                goto unlock;
            }
            m->sm = sm;
            m->cid = mc;
            m->scid = scid;
            m->from_key = from_key;
            fresh[nnew++] = m;
        } else
            vc_signed_message_done(&sm);
        msgs[i] = m;
    }
    if (!(key = calloc(parent->n, sizeof(*key)))) {
        r = -ENOMEM;
        goto unlock;
    }
    dn_messages_root(NULL, 0, msgs, nm, &h.messages);
    if ((r = parent_fields(c, parent, &h, key)) < 0 || (r = block_from_header(&h, msgs, nm, &blk)) < 0)
        goto unlock;
    if (nnew) {
        dn_write_t w = {.msgs_add = fresh, .n_msgs_add = nnew};
        if ((r = dn_store_write(c, &w, err)) < 0)
            goto unlock;
        for (size_t i = 0; i < nnew; i++) {
            if ((r = dn_cidmap_put(&c->msgs, &fresh[i]->cid, fresh[i])) < 0 ||
                (r = dn_cidmap_put(&c->msgs, &fresh[i]->scid, fresh[i])) < 0)
                goto unlock;
            fresh[i] = NULL;
        }
    }
    json_t *hj, *secp = json_array();
    if (!secp || (r = vc_block_header_to_json(&blk->h, c->net, &hj)) < 0) {
        json_decref(secp);
        r = r < 0 ? r : -ENOMEM;
        goto unlock;
    }
    for (size_t i = 0; i < nm; i++)
        json_array_append_new(secp, vc_cid_to_json(&msgs[i]->scid));
    out = json_pack("{s:o,s:[],s:o}", "Header", hj, "BlsMessages", "SecpkMessages", secp);
    if (!out)
        r = -ENOMEM;
unlock:
    pthread_mutex_unlock(&c->lock);
out:
    for (size_t i = 0; fresh && i < nnew; i++)
        dn_msg_free(fresh[i]);
    for (size_t i = 0; i < nbufs; i++)
        free(bufs[i]);
    dn_block_free(blk);
    free(bufs);
    free(be);
    free(pp);
    free(msgs);
    free(fresh);
    free(key);
    free(parents);
    free(ticket);
    free(evrf);
    if (r < 0)
        return r;
    *ret = out;
    return 0;
}

int dn_sync_submit_block(dn_chain_t *c, json_t *bm, char **err)
{
    vc_block_header_t h = {0};
    dn_msg_t **msgs = NULL;
    dn_block_t *blk = NULL;
    vc_cid_t cid, want;
    vc_bigint_t total, bf;
    vc_buf_t sb = {0};
    size_t nm = 0;
    int r = 0;

    if (!json_is_object(bm) || (r = vc_block_header_from_json(json_object_get(bm, "Header"), &h)) < 0) {
        dn_set_err(err, "invalid BlockMsg: bad Header");
        return json_is_object(bm) ? r : VC_ETYPE;
    }
    const json_t *bls = json_object_get(bm, "BlsMessages"), *secp = json_object_get(bm, "SecpkMessages");
    if ((bls && !json_is_null(bls) && !json_is_array(bls)) || (secp && !json_is_null(secp) && !json_is_array(secp))) {
        dn_set_err(err, "invalid BlockMsg: BlsMessages and SecpkMessages must be arrays");
        r = VC_ETYPE;
        goto out;
    }
    if (json_array_size(bls) > 0) {
        dn_set_err(err, "BLS messages cannot be verified by venus-devnet");
        r = -EOPNOTSUPP;
        goto out;
    }
    nm = json_array_size(secp);
    if (nm > DN_BLOCK_MSG_LIMIT || !(msgs = calloc(nm ? nm : 1, sizeof(*msgs)))) {
        dn_set_err(err, "too many messages");
        r = nm > DN_BLOCK_MSG_LIMIT ? VC_ETOOBIG : -ENOMEM;
        goto out;
    }
    if ((r = vc_block_header_cid(&h, &cid)) < 0) {
        dn_set_err(err, "invalid block header");
        goto out;
    }

    pthread_mutex_lock(&c->lock);
    dn_tipset_t *head = c->head;
    if (dn_cidmap_get(&c->blocks, &cid)) {
        r = 0; /* already have it */
        goto unlock;
    }
    for (size_t i = 0; i < c->n_pend; i++)
        if (vc_cid_equal(&c->pend[i]->cid, &cid)) {
            r = 0;
            goto unlock;
        }
    r = -EINVAL;
    if (!same_key(head, h.parents, h.n_parents)) {
        dn_set_err(err, "block parents are not the current head (height %" PRId64 ")", head->height);
        goto unlock;
    }
    int64_t e = c->epoch > head->height ? c->epoch : head->height + 1;
    if (h.height < e) {
        dn_set_err(err, "block for epoch %" PRId64 " is too late: collecting epoch %" PRId64, h.height, e);
        goto unlock;
    }
    if (h.height - head->height > MAX_BEACON_SPAN) {
        dn_set_err(err, "block epoch %" PRId64 " is too far ahead", h.height);
        goto unlock;
    }
    const dn_genesis_miner_t *gm = dn_find_miner(c, &h.miner);
    if (!gm) {
        dn_set_err(err, "block miner is not a genesis miner of this devnet");
        goto unlock;
    }
    for (size_t i = 0; i < c->n_pend; i++)
        if (c->pend[i]->h.height == h.height && vc_address_equal(&c->pend[i]->h.miner, &h.miner)) {
            dn_set_err(err, "miner already submitted a block for epoch %" PRId64, h.height);
            goto unlock;
        }
    if (!h.has_ticket || h.ticket_vrf_len == 0) {
        dn_set_err(err, "block has no ticket");
        goto unlock;
    }
    if (h.timestamp < head->blocks[0]->h.timestamp ||
        (int64_t)h.timestamp * 1000 > VC_MAX(dn_now_ms(), epoch_time_ms(c, h.height)) + c->block_time_ms + 1000) {
        dn_set_err(err, "block timestamp %" PRIu64 " is out of range", h.timestamp);
        goto unlock;
    }
    if (!h.has_election_proof || h.election_vrf_len == 0) {
        dn_set_err(err, "block has no election proof");
        goto unlock;
    }
    int64_t wins;
    if ((r = dn_total_power(c, &total)) < 0 ||
        (r = vc_election_win_count(h.election_vrf, h.election_vrf_len, &gm->power, &total, &wins)) < 0)
        goto unlock;
    r = -EINVAL;
    if (wins < 1 || wins != h.win_count) {
        dn_set_err(err, "invalid election proof: WinCount %" PRId64 ", computed %" PRId64, h.win_count, wins);
        goto unlock;
    }
    if (h.n_beacon_entries != (size_t)(h.height - head->height)) {
        dn_set_err(err, "block must carry %" PRId64 " beacon entries", h.height - head->height);
        goto unlock;
    }
    for (size_t i = 0; i < h.n_beacon_entries; i++) {
        uint8_t d[32];
        dn_beacon_data(head->height + 1 + (int64_t)i, d);
        if (h.beacon_entries[i].round != (uint64_t)(head->height + 1 + (int64_t)i) || h.beacon_entries[i].data_len != 32 ||
            memcmp(h.beacon_entries[i].data, d, 32) != 0) {
            dn_set_err(err, "beacon entry %zu does not match the devnet beacon", i);
            goto unlock;
        }
    }
    if ((r = dn_ensure_exec(c, head, NULL)) < 0 || (r = dn_next_base_fee(head, &bf)) < 0)
        goto unlock;
    r = -EINVAL;
    if (!vc_cid_equal(&h.parent_state_root, &head->exec_state->root) ||
        !vc_cid_equal(&h.parent_message_receipts, &head->exec_receipts_root)) {
        dn_set_err(err, "wrong ParentStateRoot or ParentMessageReceipts");
        goto unlock;
    }
    if (vc_bigint_cmp(&h.parent_weight, &head->weight) != 0 || vc_bigint_cmp(&h.parent_base_fee, &bf) != 0) {
        dn_set_err(err, "wrong ParentWeight or ParentBaseFee");
        goto unlock;
    }
    for (size_t i = 0; i < nm; i++) {
        vc_cid_t mc;
        if (vc_cid_from_json(json_array_get(secp, i), &mc) < 0 || !(msgs[i] = dn_cidmap_get(&c->msgs, &mc))) {
            dn_set_err(err, "SecpkMessages[%zu]: unknown message", i);
            goto unlock;
        }
    }
    dn_messages_root(NULL, 0, msgs, nm, &want);
    if (!vc_cid_equal(&want, &h.messages)) {
        dn_set_err(err, "Messages root does not match the listed messages");
        goto unlock;
    }
    switch (vc_address_protocol(&gm->worker)) {
    case VC_ADDR_SECP256K1:
        if (!h.block_sig || (r = vc_block_header_signing_bytes(&h, &sb)) < 0 ||
            vc_signature_verify(h.block_sig, sb.data, sb.len, &gm->worker) < 0) {
            dn_set_err(err, "missing or invalid block signature");
            r = VC_EVERIFY;
            goto unlock;
        }
        break;
    default:
        if (!h.block_sig || h.block_sig->type != VC_SIG_BLS) {
            dn_set_err(err, "missing block signature (BLS-typed expected for an f3 worker)");
            r = VC_EVERIFY;
            goto unlock;
        }
        break; /* BLS: accepted without verification */
    }
    dn_block_t **np = realloc(c->pend, (c->n_pend + 1) * sizeof(*np));
    if (!np || (r = block_from_header(&h, msgs, nm, &blk)) < 0) {
        if (np)
            c->pend = np;
        r = r < 0 ? r : -ENOMEM;
        goto unlock;
    }
    c->pend = np;
    c->pend[c->n_pend++] = blk;
    r = 0;
unlock:
    pthread_mutex_unlock(&c->lock);
out:
    vc_buf_done(&sb);
    free(msgs);
    vc_block_header_done(&h);
    return r;
}
