/*
 * miner-mine.c: the mining loop (spec/miner-and-node-api.md A.3.1-A.3.5).
 *
 * One loop thread picks the base; every miner of the set runs mineOne on a worker with a
 * deadline of MinerOnceTimeout; winners get messages (MpoolSelects), a block
 * (MinerCreateBlock, signed through the gateway when the node leaves it unsigned), wait for the
 * block time, pass the slash filter (miner_store_claim_block) and are submitted to the node and
 * then to the fallback submit nodes.
 *
 * Departure from sophon-miner: the election VRF is computed before the ticket VRF, and the ticket
 * (and the PoSt) only for winners: the outputs are identical, a losing miner costs one signing
 * round trip instead of two.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner-internal.h"
#include "vc/bigint.h"
#include "vc/blake2b.h"
#include "vc/blockheader.h"
#include "vc/cid.h"
#include "vc/election.h"
#include "vc/gofmt.h"
#include "vc/log.h"
#include "vc/signature.h"
#include "vc/util.h"

#define MAX_PASSES_WARN 5

/* ------------------------------------------------------------------ the base */

typedef struct base {
    json_t *key;            /* [{"/":cid}...] */
    int64_t height;
    int64_t min_ts;         /* seconds */
    uint8_t *min_ticket;    /* VRFProof of the smallest ticket */
    size_t min_ticket_len;
    int64_t null_rounds;
    char *key_str;          /* "{ bafy.. bafy.. }" */
} base_t;

static void base_done(base_t *b)
{
    json_decref(b->key);
    free(b->min_ticket);
    free(b->key_str);
    memset(b, 0, sizeof(*b));
}

static int base_copy(const base_t *src, base_t *dst)
{
    *dst = *src;
    dst->key = json_incref(src->key);
    dst->min_ticket = NULL;
    dst->key_str = strdup(src->key_str ? src->key_str : "");
    if (src->min_ticket_len && (dst->min_ticket = malloc(src->min_ticket_len)))
        memcpy(dst->min_ticket, src->min_ticket, src->min_ticket_len);
    if (!dst->key_str || (src->min_ticket_len && !dst->min_ticket)) {
        base_done(dst);
        return -ENOMEM;
    }
    return 0;
}

static bool same_tipset(const base_t *a, const base_t *b)
{
    return a->key && b->key && json_equal(a->key, b->key);
}

/* A tipset JSON (ChainHead) into a base with NullRounds 0. */
static int base_from_tipset(const json_t *ts, base_t *b)
{
    const json_t *cids = json_object_get(ts, "Cids"), *blocks = json_object_get(ts, "Blocks");
    const json_t *h = json_object_get(ts, "Height");
    vc_buf_t s = {0};
    uint8_t best[32];
    bool have = false;
    memset(b, 0, sizeof(*b));
    if (!json_is_array(cids) || !json_array_size(cids) || !json_is_array(blocks) || !json_is_integer(h))
        return VC_ETYPE;
    b->height = json_integer_value(h);
    b->min_ts = INT64_MAX;
    vc_buf_append_str(&s, "{");
    size_t i;
    json_t *x;
    json_array_foreach(cids, i, x)
    {
        const char *c = json_string_value(json_object_get(x, "/"));
        if (!c) {
            vc_buf_done(&s);
            return VC_ETYPE;
        }
        vc_buf_appendf(&s, " %s", c);
    }
    vc_buf_append_str(&s, " }");
    json_array_foreach(blocks, i, x)
    {
        const json_t *t = json_object_get(x, "Timestamp");
        const json_t *vrf = json_object_get(json_object_get(x, "Ticket"), "VRFProof");
        if (json_is_integer(t) && json_integer_value(t) < b->min_ts)
            b->min_ts = json_integer_value(t);
        uint8_t *p = NULL;
        size_t pl = 0;
        if (!json_is_string(vrf) || vc_base64_decode(json_string_value(vrf), json_string_length(vrf), &p, &pl) < 0)
            continue;
        uint8_t d[32];
        vc_blake2b_256(p, pl, d);
        if (!have || memcmp(d, best, 32) < 0) {
            memcpy(best, d, 32);
            free(b->min_ticket);
            b->min_ticket = p;
            b->min_ticket_len = pl;
            have = true;
        } else
            free(p);
    }
    if (b->min_ts == INT64_MAX)
        b->min_ts = 0;
    b->key = json_deep_copy(cids);
    b->key_str = vc_buf_steal(&s);
    if (!b->key || !b->key_str) {
        base_done(b);
        return -ENOMEM;
    }
    return 0;
}

static int64_t now_ms(void)
{
    return vc_now_real_us() / 1000;
}

/* ------------------------------------------------------------------ per-miner work (A.3.2) */

typedef struct round round_t;

typedef struct job {
    round_t *rd;
    miner_ref_t who;
    char worker[VC_ADDRESS_STRLEN_MAX];
    json_t *mbi;
    uint8_t *ticket, *evrf;
    size_t ticket_len, evrf_len;
    int64_t win_count;
    double quality;
    json_t *proof;
    json_t *rec;        /* recorder keys, or NULL */
    char err[768];
    bool done, winner, failed;
} job_t;

struct round {
    miner_t *m;
    base_t base;        /* what the jobs mine on (read by late jobs: never changed) */
    base_t blk;         /* what the blocks are built on (check_fork may adopt a grown tipset) */
    int64_t round;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t pending;
    bool closed;        /* the deadline passed: late jobs are not marked done */
    int refs;
    job_t *jobs;
    size_t n_jobs;
};

static void round_unref(round_t *rd)
{
    pthread_mutex_lock(&rd->lock);
    bool last = --rd->refs == 0;
    pthread_mutex_unlock(&rd->lock);
    if (!last)
        return;
    for (size_t i = 0; i < rd->n_jobs; i++) {
        job_t *j = &rd->jobs[i];
        json_decref(j->mbi);
        json_decref(j->proof);
        json_decref(j->rec);
        free(j->ticket);
        free(j->evrf);
    }
    free(rd->jobs);
    base_done(&rd->base);
    base_done(&rd->blk);
    pthread_mutex_destroy(&rd->lock);
    pthread_cond_destroy(&rd->cond);
    free(rd);
}

static void rec_set(job_t *j, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rec_set(job_t *j, const char *k, const char *fmt, ...)
{
    if (!j->rec)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_object_set_new(j->rec, k, json_string(buf));
}

static void rec_dur(job_t *j, const char *k, int64_t since_us)
{
    if (!j->rec)
        return;
    char d[32];
    vc_format_duration_go((vc_now_mono_us() - since_us) / 1000, d);
    json_object_set_new(j->rec, k, json_string(d));
}

static void step_observe(miner_t *m, const char *step, int64_t since_us)
{
    if (m->m_step)
        vc_histogram_observe(vc_metric_with(m->m_step, step, NULL), (double)(vc_now_mono_us() - since_us) / 1e6);
}

static double ticket_quality(const uint8_t *vrf, size_t len)
{
    uint8_t d[32];
    vc_blake2b_256(vrf, len, d);
    double v = 0;
    for (int i = 0; i < 16; i++)
        v = v / 256.0 + d[15 - i] / 256.0;
    return 1.0 - v;
}

static void mine_one(job_t *j)
{
    round_t *rd = j->rd;
    miner_t *m = rd->m;
    const base_t *b = &rd->base;
    uint8_t ent[128], *rbase = NULL;
    size_t el = 0, rl = 0;
    int64_t t;
    int r;

    t = vc_now_mono_us();
    r = miner_rpc(m, "Filecoin.MinerGetBaseInfo",
                  json_pack("[s, I, O]", j->who.addr, (json_int_t)rd->round, b->key), j->who.addr, &j->mbi, j->err,
                  sizeof(j->err));
    step_observe(m, "getbaseinfo", t);
    rec_dur(j, "getBaseInfo", t);
    if (r < 0)
        goto fail;
    if (json_is_null(j->mbi)) {
        rec_set(j, "info", "no base info: the miner has no power or sectors at the lookback");
        return;
    }
    const char *w = json_string_value(json_object_get(j->mbi, "WorkerKey"));
    snprintf(j->worker, sizeof(j->worker), "%s", w ? w : "");
    rec_set(j, "worker", "%s", j->worker);
    rec_set(j, "minerPower", "%s", json_string_value(json_object_get(j->mbi, "MinerPower")) ?: "");
    rec_set(j, "networkPower", "%s", json_string_value(json_object_get(j->mbi, "NetworkPower")) ?: "");
    bool eligible = json_is_true(json_object_get(j->mbi, "EligibleForMining"));
    rec_set(j, "isEligible", "%s", eligible ? "true" : "false");
    if (!eligible) {
        snprintf(j->err, sizeof(j->err), "slashed or just have no power yet");
        goto fail;
    }
    vc_bigint_t power, total;
    if (!*j->worker || miner_rbase(j->mbi, &rbase, &rl) < 0 ||
        miner_json_bigint(json_object_get(j->mbi, "MinerPower"), &power) < 0 ||
        miner_json_bigint(json_object_get(j->mbi, "NetworkPower"), &total) < 0) {
        snprintf(j->err, sizeof(j->err), "MinerGetBaseInfo: malformed answer (WorkerKey, beacon or power)");
        goto fail;
    }
    const json_t *be = json_object_get(j->mbi, "BeaconEntries");
    if (json_array_size(be))
        rec_set(j, "beaconEpoch", "%" JSON_INTEGER_FORMAT,
                json_integer_value(json_object_get(json_array_get(be, json_array_size(be) - 1), "Round")));
    if ((r = miner_addr_entropy(&j->who.a, ent, sizeof(ent), &el)) < 0) {
        snprintf(j->err, sizeof(j->err), "miner address: %s", vc_strerror(r));
        goto fail;
    }
    /* election (A.3.2 step 4) */
    t = vc_now_mono_us();
    r = miner_vrf(m, j->worker, j->who.user, rbase, rl, 2, rd->round, ent, el, &j->evrf, &j->evrf_len, j->err,
                  sizeof(j->err));
    step_observe(m, "computeelectionproof", t);
    rec_dur(j, "computeElectionProof", t);
    if (r < 0)
        goto fail;
    if ((r = vc_election_win_count(j->evrf, j->evrf_len, &power, &total, &j->win_count)) < 0) {
        snprintf(j->err, sizeof(j->err), "win count: %s", vc_strerror(r));
        goto fail;
    }
    rec_set(j, "winCount", "%" PRId64, j->win_count);
    if (j->win_count < 1) {
        free(rbase);
        return;
    }
    if (m->m_wins)
        vc_counter_inc(vc_metric_with(m->m_wins, j->who.addr, NULL));
    miner_block_t rowb = {.miner = j->who.addr, .epoch = rd->round, .parent_epoch = b->height,
                          .parent_key = b->key_str, .cid = "", .winning_at_ms = now_ms(),
                          .mine_state = MINER_STATE_MINING};
    if ((r = miner_store_put_block(m->o.store, &rowb)) < 0)
        vc_logkv(VC_LOG_WARNING, "miner", "cannot record the win", "miner", j->who.addr, "error", vc_strerror(r), NULL);
    /* ticket (step 3): entropy = CBOR(addr) || parent min ticket after the smoke upgrade */
    uint8_t tent[256];
    size_t tl = el;
    memcpy(tent, ent, el);
    if (rd->round > m->smoke_height && b->min_ticket_len && el + b->min_ticket_len <= sizeof(tent)) {
        memcpy(tent + el, b->min_ticket, b->min_ticket_len);
        tl += b->min_ticket_len;
    }
    t = vc_now_mono_us();
    r = miner_vrf(m, j->worker, j->who.user, rbase, rl, 1, rd->round - 1, tent, tl, &j->ticket, &j->ticket_len,
                  j->err, sizeof(j->err));
    step_observe(m, "computeticket", t);
    rec_dur(j, "computeTicket", t);
    if (r < 0)
        goto fail;
    j->quality = ticket_quality(j->ticket, j->ticket_len);
    /* winning PoSt (steps 5-7) */
    uint8_t seed[32];
    miner_draw_randomness(rbase, rl, 3, rd->round, ent, el, seed);
    char seed_hex[65];
    vc_hex_encode(seed, 32, seed_hex);
    rec_set(j, "seed", "%s", seed_hex);
    t = vc_now_mono_us();
    if (m->o.insecure_post) {
        char *pb = vc_base64_encode((const uint8_t *)"valid proof", 11);
        j->proof = pb ? json_pack("[{s:i, s:s}]", "PoStProof", 0, "ProofBytes", pb) : NULL;
        free(pb);
        if (!j->proof) {
            r = -ENOMEM;
            snprintf(j->err, sizeof(j->err), "out of memory");
            goto fail;
        }
    } else {
        json_t *nv = NULL;
        if ((r = miner_rpc(m, "Filecoin.StateNetworkVersion", json_pack("[O]", b->key), NULL, &nv, j->err,
                           sizeof(j->err))) < 0)
            goto fail;
        char *s64 = vc_base64_encode(seed, 32);
        r = miner_gw_rpc(m, "Gateway.ComputeProof",
                      json_pack("[s, O, s, I, O]", j->who.addr, json_object_get(j->mbi, "Sectors") ?: json_null(),
                                s64 ? s64 : "", (json_int_t)rd->round, nv),
                      &j->proof, j->err, sizeof(j->err));
        free(s64);
        json_decref(nv);
        if (r < 0)
            goto fail;
    }
    step_observe(m, "computeproof", t);
    rec_dur(j, "computePostProof", t);
    j->winner = true;
    free(rbase);
    return;
fail:
    free(rbase);
    j->failed = true;
    rec_set(j, "error", "%s", j->err);
}

static void job_main(void *arg)
{
    job_t *j = arg;
    round_t *rd = j->rd;
    mine_one(j);
    pthread_mutex_lock(&rd->lock);
    if (!rd->closed)
        j->done = true;
    rd->pending--;
    pthread_cond_broadcast(&rd->cond);
    pthread_mutex_unlock(&rd->lock);
    round_unref(rd);
}

/* ------------------------------------------------------------------ blocks (A.3.4, A.3.5) */

typedef struct made {
    job_t *j;
    json_t *msg;        /* BlockMsg */
    char cid[VC_CID_STRLEN_MAX];
    const char **parents;
    size_t n_parents;
    bool submitted;     /* a node accepted it */
} made_t;

static int sign_header(miner_t *m, job_t *j, json_t *bm, char cid_out[VC_CID_STRLEN_MAX])
{
    vc_block_header_t h;
    vc_buf_t sb = {0};
    vc_signature_t sig;
    vc_cid_t cid;
    json_t *hj = NULL, *res = NULL;
    int r = vc_block_header_from_json(json_object_get(bm, "Header"), &h);
    if (r < 0) {
        snprintf(j->err, sizeof(j->err), "MinerCreateBlock: the node returned an invalid header");
        return r;
    }
    if (!h.block_sig) {
        if (h.fork_signaling == 0 && !m->o.no_fork_signaling)
            h.fork_signaling = 1;
        char *b64 = NULL;
        if ((r = vc_block_header_signing_bytes(&h, &sb)) < 0 ||
            !(b64 = vc_base64_encode((const uint8_t *)sb.data, sb.len))) {
            snprintf(j->err, sizeof(j->err), "block signing bytes: %s", vc_strerror(r < 0 ? r : -ENOMEM));
            r = r < 0 ? r : -ENOMEM;
            goto out;
        }
        int64_t t = vc_now_mono_us();
        r = miner_gw_rpc(m, "Gateway.WalletSign",
                      json_pack("[s, [s], s, {s:s, s:n}]", j->worker, j->who.user, b64, "Type", "block", "Extra"), &res,
                      j->err, sizeof(j->err));
        step_observe(m, "signblock", t);
        free(b64);
        if (r < 0)
            goto out;
        if ((r = vc_signature_from_json(res, &sig)) < 0) {
            snprintf(j->err, sizeof(j->err), "WalletSign: the gateway sent a malformed block signature");
            goto out;
        }
        h.block_sig = &sig;
        if ((r = vc_block_header_to_json(&h, m->net, &hj)) < 0 || json_object_set_new(bm, "Header", hj) < 0) {
            snprintf(j->err, sizeof(j->err), "encode the signed header: %s", vc_strerror(r < 0 ? r : -ENOMEM));
            r = r < 0 ? r : -ENOMEM;
            goto out;
        }
    }
    if ((r = vc_block_header_cid(&h, &cid)) < 0 || (r = vc_cid_to_string(&cid, cid_out)) < 0)
        snprintf(j->err, sizeof(j->err), "block CID: %s", vc_strerror(r));
out:
    json_decref(res);
    vc_buf_done(&sb);
    h.block_sig = NULL;
    vc_block_header_done(&h);
    return r;
}

static int create_block(miner_t *m, round_t *rd, job_t *j, json_t *msgs, made_t *out)
{
    char *tb = vc_base64_encode(j->ticket, j->ticket_len), *eb = vc_base64_encode(j->evrf, j->evrf_len);
    int64_t ts = rd->blk.min_ts + m->block_delay_s * (rd->blk.null_rounds + 1);
    json_t *tmpl = (tb && eb) ? json_pack("{s:s, s:O, s:{s:s}, s:{s:I, s:s}, s:O, s:O, s:I, s:I, s:O}", "Miner",
                                          j->who.addr, "Parents", rd->blk.key, "Ticket", "VRFProof", tb, "Eproof",
                                          "WinCount", (json_int_t)j->win_count, "VRFProof", eb, "BeaconValues",
                                          json_object_get(j->mbi, "BeaconEntries") ?: json_null(), "Messages",
                                          msgs ? msgs : json_null(), "Epoch", (json_int_t)rd->round, "Timestamp",
                                          (json_int_t)ts, "WinningPoStProof", j->proof)
                              : NULL;
    free(tb);
    free(eb);
    if (!tmpl)
        return -ENOMEM;
    if (json_is_null(json_object_get(tmpl, "Messages")))
        json_object_set_new(tmpl, "Messages", json_array());
    int64_t t = vc_now_mono_us();
    int r = miner_rpc(m, "Filecoin.MinerCreateBlock", json_pack("[o]", tmpl), j->who.addr, &out->msg, j->err,
                      sizeof(j->err));
    step_observe(m, "createblock", t);
    rec_dur(j, "createBlock", t);
    if (r < 0)
        return r;
    if (!json_is_object(out->msg)) {
        snprintf(j->err, sizeof(j->err), "MinerCreateBlock: the node returned no block");
        return VC_EPARSE;
    }
    return sign_header(m, j, out->msg, out->cid);
}

static void record_state(miner_t *m, const char *miner, int64_t epoch, int state)
{
    miner_block_t b = {.miner = (char *)miner, .epoch = epoch, .parent_key = "", .cid = "", .mine_state = state};
    bool has = false;
    /* never overwrite the state of a block already made for this epoch by another attempt */
    if (state != MINER_STATE_SUCCESS && miner_store_has_block(m->o.store, miner, epoch, &has) == 0 && has)
        return;
    (void)miner_store_put_block(m->o.store, &b);
}

static void *broadcast_main(void *arg)
{
    made_t *mk = arg;
    job_t *j = mk->j;
    round_t *rd = j->rd;
    miner_t *m = rd->m;
    char *fault = NULL;
    miner_block_t b = {.miner = j->who.addr, .epoch = rd->round, .parent_epoch = rd->blk.height,
                       .parent_key = rd->blk.key_str, .cid = mk->cid, .mine_state = MINER_STATE_MINING};
    /* HA: re-check the lease right before the broadcast (the claim below is fenced too) */
    if (m->o.elector && !vc_ha_is_leader(m->o.elector, NULL)) {
        vc_logkv(VC_LOG_WARNING, "miner", "lost the mining lease before the broadcast: block dropped", "miner",
                 j->who.addr, NULL);
        rec_set(j, "error", "not the leader any more");
        return NULL;
    }
    int r = miner_store_claim_block(m->o.store, &b, mk->parents, mk->n_parents, &fault);
    if (r == MINER_EFAULT) {
        vc_logkv(VC_LOG_ERROR, "miner", "slash filter refused the block", "miner", j->who.addr, "fault",
                 fault ? fault : "?", NULL);
        miner_add_error(m, j->who.addr, "slash filter: %s", fault ? fault : "consensus fault");
        record_state(m, j->who.addr, rd->round, MINER_STATE_ERROR);
        if (m->m_errors)
            vc_counter_inc(vc_metric_with(m->m_errors, j->who.addr, NULL));
        rec_set(j, "error", "slash filter: %s", fault ? fault : "");
        free(fault);
        return NULL;
    }
    free(fault);
    if (r < 0) {
        /* without the record the filter cannot protect the next block: do not broadcast */
        const char *why = *miner_store_errmsg() ? miner_store_errmsg() : vc_strerror(r);
        miner_add_error(m, j->who.addr, "slash filter database: %s", why);
        rec_set(j, "error", "slash filter database: %s", why);
        return NULL;
    }
    char err[768] = "";
    int64_t t = vc_now_mono_us();
    vc_nodepool_report_t rep;
    r = miner_rpc_report(m, "Filecoin.SyncSubmitBlock", json_pack("[O]", mk->msg), j->who.addr, &rep, NULL, err,
                         sizeof(err));
    /* every node tried answered "no" (or none was healthy): the block was never published */
    bool all_refused = (r == VC_EREMOTE || r == -EHOSTUNREACH) && rep.unanswered == 0;
    for (size_t i = 0; r < 0 && i < m->o.n_submit; i++) {
        vc_logkv(VC_LOG_WARNING, "miner", "submit failed, trying the next submit node", "miner", j->who.addr, "error",
                 err, NULL);
        r = miner_client_rpc(m->o.submit[i], "Filecoin.SyncSubmitBlock", json_pack("[O]", mk->msg), NULL, err, sizeof(err));
        all_refused = all_refused && r == VC_EREMOTE;
    }
    step_observe(m, "submitblock", t);
    if (r < 0) {
        vc_logkv(VC_LOG_ERROR, "miner", "block submit failed", "miner", j->who.addr, "cid", mk->cid, "error", err, NULL);
        miner_add_error(m, j->who.addr, "submit block %s: %s", mk->cid, err);
        b.mine_state = MINER_STATE_ERROR;
        /* refused everywhere: release the claim so that the next round may use these parents
         * (a block nobody published cannot be a consensus fault); on a transport error it may
         * have gone out, so the record stays */
        if (!all_refused || miner_store_release_block(m->o.store, j->who.addr, rd->round, mk->cid) < 0)
            (void)miner_store_put_block(m->o.store, &b);
        if (m->m_errors)
            vc_counter_inc(vc_metric_with(m->m_errors, j->who.addr, NULL));
        rec_set(j, "error", "submit: %s", err);
        return NULL;
    }
    mk->submitted = true;
    b.mine_state = MINER_STATE_SUCCESS;
    b.parent_epoch = rd->blk.height + rd->blk.null_rounds;
    if ((r = miner_store_put_block(m->o.store, &b)) < 0)
        vc_logkv(VC_LOG_WARNING, "miner", "cannot record the mined block", "error", vc_strerror(r), NULL);
    if (m->m_blocks)
        vc_counter_inc(vc_metric_with(m->m_blocks, j->who.addr, NULL));
    char ep[24];
    snprintf(ep, sizeof(ep), "%" PRId64, rd->round);
    vc_logkv(VC_LOG_NOTICE, "miner", "mined a block", "miner", j->who.addr, "epoch", ep, "cid", mk->cid, NULL);
    rec_set(j, "info", "block %s submitted", mk->cid);
    return NULL;
}

/* ------------------------------------------------------------------ the loop (A.3.1) */

/* lastWork: the head, or the remembered base with its null rounds when the head has not moved. */
static int best_candidate(miner_t *m, base_t *last, base_t *ret)
{
    json_t *head = NULL;
    char err[512];
    int r = miner_rpc(m, "Filecoin.ChainHead", NULL, NULL, &head, err, sizeof(err));
    if (r < 0) {
        vc_logkv(VC_LOG_WARNING, "miner", "cannot get the chain head", "error", err, NULL);
        return r;
    }
    base_t b;
    r = base_from_tipset(head, &b);
    json_decref(head);
    if (r < 0)
        return r;
    if (last->key && same_tipset(last, &b)) {
        base_done(&b);
        return base_copy(last, ret);
    }
    base_done(last);
    *last = b;
    return base_copy(last, ret);
}

static int64_t jitter_ms(miner_t *m)
{
    int64_t span = m->block_delay_s * 1000 / 8;
    if (span > 500)
        span = 500;
    if (span <= 0)
        return 0;
    uint32_t u;
    vc_random(&u, sizeof(u));
    return (int64_t)(u % (uint32_t)(2 * span)) - span;
}

static int latest_base(miner_t *m, base_t *last, base_t *ret)
{
    base_t pre = {0};
    bool have_pre = false;
    for (int passes = 0;; passes++) {
        base_t cand;
        if (miner_is_stopping(m))
            goto stop;
        if (best_candidate(m, last, &cand) < 0) {
            if (miner_sleep(m, 5000))
                goto stop;
            continue;
        }
        if (have_pre && pre.height == cand.height && pre.null_rounds == cand.null_rounds) {
            base_done(&pre);
            *ret = cand;
            return 0;
        }
        if (passes > MAX_PASSES_WARN)
            vc_logkv(VC_LOG_WARNING, "miner", "the base keeps changing: PropagationDelaySecs may be too long", NULL);
        int64_t at = cand.min_ts * 1000 + m->o.propagation_ms + jitter_ms(m);
        if (at > now_ms() && miner_sleep(m, at - now_ms())) {
            base_done(&cand);
            goto stop;
        }
        int64_t t = vc_now_mono_us();
        json_t *be = NULL;
        char err[512];
        if (miner_rpc(m, "Filecoin.StateGetBeaconEntry",
                      json_pack("[I]", (json_int_t)(cand.height + cand.null_rounds + 1)), NULL, &be, err,
                      sizeof(err)) < 0) {
            vc_logkv(VC_LOG_WARNING, "miner", "cannot get the beacon", "error", err, NULL);
            base_done(&cand);
            if (miner_sleep(m, 1000))
                goto stop;
            continue;
        }
        json_decref(be);
        if (vc_now_mono_us() - t > 3000000)
            vc_logkv(VC_LOG_WARNING, "miner", "got beacon slow", NULL);
        base_done(&pre);
        pre = cand;
        have_pre = true;
    }
stop:
    base_done(&pre);
    return -ECANCELED;
}

/* Runs mineOne for each miner; returns when all are done or the deadline passed. */
static round_t *run_round(miner_t *m, const base_t *base, const miner_ref_t *who, size_t n)
{
    round_t *rd = calloc(1, sizeof(*rd));
    if (!rd)
        return NULL;
    rd->m = m;
    rd->round = base->height + base->null_rounds + 1;
    rd->refs = 1;
    pthread_mutex_init(&rd->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rd->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (base_copy(base, &rd->base) < 0 || base_copy(base, &rd->blk) < 0 || !(rd->jobs = calloc(n ? n : 1, sizeof(*rd->jobs)))) {
        round_unref(rd);
        return NULL;
    }
    rd->n_jobs = n;
    for (size_t i = 0; i < n; i++) {
        job_t *j = &rd->jobs[i];
        j->rd = rd;
        j->who = who[i];
        if (m->o.recorder) {
            j->rec = json_object();
            char st[VC_GOTIME_STRLEN_MAX];
            vc_format_rfc3339nano_local(vc_now_real_us() * 1000, st);
            rec_set(j, "start", "%s", st);
            rec_set(j, "baseEpoch", "%" PRId64, base->height);
            rec_set(j, "nullRounds", "%" PRId64, base->null_rounds);
            rec_set(j, "baseDelta", "%" PRId64 "ms", now_ms() - base->min_ts * 1000);
            rec_set(j, "lateStart", "%s",
                    now_ms() > (base->min_ts + base->null_rounds * m->block_delay_s) * 1000 + m->o.propagation_ms
                        ? "true"
                        : "false");
        }
    }
    int64_t deadline = vc_now_mono_us() + m->o.once_timeout_ms * 1000;
    pthread_mutex_lock(&rd->lock);
    for (size_t i = 0; i < n; i++) {
        rd->refs++;
        rd->pending++;
        pthread_mutex_unlock(&rd->lock);
        int r = vc_workq_submit(m->workers, job_main, &rd->jobs[i]);
        pthread_mutex_lock(&rd->lock);
        if (r < 0) {
            rd->refs--;
            rd->pending--;
            rd->jobs[i].failed = rd->jobs[i].done = true;
            snprintf(rd->jobs[i].err, sizeof(rd->jobs[i].err), "cannot schedule: %s", vc_strerror(r));
        }
    }
    while (rd->pending > 0) {
        int64_t left = deadline - vc_now_mono_us();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += left / 1000000;
        ts.tv_nsec += (left % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&rd->cond, &rd->lock, &ts);
    }
    rd->closed = true; /* from here on, done flags and finished jobs' fields are stable */
    pthread_mutex_unlock(&rd->lock);
    return rd;
}

/* Head re-read after the elections (step 5): adopt a grown tipset, warn on a fork. */
static void check_fork(miner_t *m, round_t *rd)
{
    base_t head = {0}, none = {0};
    if (best_candidate(m, &none, &head) < 0) {
        base_done(&none);
        return;
    }
    base_done(&none);
    if (head.height == rd->blk.height && !same_tipset(&head, &rd->blk)) {
        bool same_min = head.min_ticket_len == rd->blk.min_ticket_len &&
                        (head.min_ticket_len == 0 ||
                         memcmp(head.min_ticket, rd->blk.min_ticket, head.min_ticket_len) == 0);
        if (same_min) {
            int64_t nr = rd->blk.null_rounds;
            base_done(&rd->blk);
            rd->blk = head;
            rd->blk.null_rounds = nr;
            return;
        }
        vc_logkv(VC_LOG_WARNING, "miner", "chain may be forked", "base", rd->blk.key_str, "head", head.key_str, NULL);
        for (size_t i = 0; i < rd->n_jobs; i++)
            if (rd->jobs[i].done && rd->jobs[i].winner) {
                record_state(m, rd->jobs[i].who.addr, rd->round, MINER_STATE_CHAIN_FORKED);
                if (m->m_forks)
                    vc_counter_inc(vc_metric_with(m->m_forks, rd->jobs[i].who.addr, NULL));
            }
    }
    base_done(&head);
}

static int parent_cids(const json_t *key, const char ***ret, size_t *ret_n)
{
    size_t n = json_array_size(key);
    const char **v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_object_get(json_array_get(key, i), "/"));
    *ret = v;
    *ret_n = n;
    return 0;
}

/* Winners of a finished round: messages, blocks, wait, broadcast. Returns the number of blocks
 * a node accepted. */
static size_t produce_blocks(miner_t *m, round_t *rd)
{
    job_t **win = calloc(rd->n_jobs ? rd->n_jobs : 1, sizeof(*win));
    size_t nw = 0;
    if (!win)
        return 0;
    for (size_t i = 0; i < rd->n_jobs; i++)
        if (rd->jobs[i].done && rd->jobs[i].winner)
            win[nw++] = &rd->jobs[i];
    if (nw == 0) {
        free(win);
        return 0;
    }
    /* MpoolSelects over the winners' ticket qualities */
    json_t *tq = json_array(), *sel = NULL;
    for (size_t i = 0; tq && i < nw; i++)
        json_array_append_new(tq, json_real(win[i]->quality));
    char err[512];
    int64_t t = vc_now_mono_us();
    if (miner_rpc(m, "Filecoin.MpoolSelects", json_pack("[O, o]", rd->blk.key, tq), NULL, &sel, err,
                  sizeof(err)) < 0 ||
        json_array_size(sel) != nw) {
        vc_logkv(VC_LOG_WARNING, "miner", "MpoolSelects failed: blocks go out without messages", "error", err, NULL);
        json_decref(sel);
        sel = NULL;
    }
    step_observe(m, "selectmessages", t);
    made_t *mk = calloc(nw, sizeof(*mk));
    size_t nm = 0;
    for (size_t i = 0; mk && i < nw; i++) {
        job_t *j = win[i];
        rec_dur(j, "selectMessage", t);
        mk[nm].j = j;
        if (create_block(m, rd, j, sel ? json_array_get(sel, i) : NULL, &mk[nm]) < 0 ||
            parent_cids(rd->blk.key, &mk[nm].parents, &mk[nm].n_parents) < 0) {
            vc_logkv(VC_LOG_ERROR, "miner", "cannot create the block", "miner", j->who.addr, "error", j->err, NULL);
            miner_add_error(m, j->who.addr, "create block: %s", j->err);
            record_state(m, j->who.addr, rd->round, MINER_STATE_ERROR);
            if (m->m_errors)
                vc_counter_inc(vc_metric_with(m->m_errors, j->who.addr, NULL));
            json_decref(mk[nm].msg);
            free(mk[nm].parents);
            memset(&mk[nm], 0, sizeof(mk[nm]));
            continue;
        }
        nm++;
    }
    json_decref(sel);
    /* wait for the block time */
    int64_t btime = (rd->blk.min_ts + m->block_delay_s * (rd->blk.null_rounds + 1)) * 1000;
    if (now_ms() < btime)
        miner_sleep(m, btime - now_ms());
    else if (now_ms() - btime > VC_MAX(m->o.propagation_ms, 500)) {
        char late[32], ep[24];
        vc_format_duration_go(now_ms() - btime, late);
        snprintf(ep, sizeof(ep), "%" PRId64, rd->round);
        vc_logkv(VC_LOG_WARNING, "miner", "mined block in the past", "late", late, "epoch", ep, NULL);
    }
    pthread_t *th = calloc(nm ? nm : 1, sizeof(*th));
    bool *started = calloc(nm ? nm : 1, sizeof(*started));
    for (size_t i = 0; th && started && i < nm; i++)
        started[i] = pthread_create(&th[i], NULL, broadcast_main, &mk[i]) == 0;
    size_t ok = 0;
    for (size_t i = 0; i < nm; i++) {
        if (th && started && started[i])
            pthread_join(th[i], NULL);
        else
            broadcast_main(&mk[i]);
        ok += mk[i].submitted;
        json_decref(mk[i].msg);
        free(mk[i].parents);
    }
    free(th);
    free(started);
    free(mk);
    free(win);
    return ok;
}

static void finish_round(miner_t *m, round_t *rd)
{
    for (size_t i = 0; i < rd->n_jobs; i++) {
        job_t *j = &rd->jobs[i];
        if (!j->done) {
            /* still running: its late answer is ignored */
            vc_logkv(VC_LOG_WARNING, "miner", "mining timeout", "miner", j->who.addr, NULL);
            miner_add_error(m, j->who.addr, "mining timeout!");
            miner_block_t b = {.miner = j->who.addr, .epoch = rd->round, .parent_key = "", .cid = "",
                               .mine_state = MINER_STATE_TIMEOUT};
            (void)miner_store_put_block(m->o.store, &b);
            if (m->m_timeouts)
                vc_counter_inc(vc_metric_with(m->m_timeouts, j->who.addr, NULL));
        } else if (j->failed) {
            vc_logkv(VC_LOG_WARNING, "miner", "mining failed", "miner", j->who.addr, "error", j->err, NULL);
            miner_add_error(m, j->who.addr, "%s", j->err);
            if (m->m_errors)
                vc_counter_inc(vc_metric_with(m->m_errors, j->who.addr, NULL));
        }
    }
}

static void save_records(miner_t *m, round_t *rd)
{
    if (!m->o.recorder)
        return;
    for (size_t i = 0; i < rd->n_jobs; i++) {
        job_t *j = &rd->jobs[i];
        if (!j->rec || !j->done)
            continue;
        char st[VC_GOTIME_STRLEN_MAX];
        vc_format_rfc3339nano_local(vc_now_real_us() * 1000, st);
        rec_set(j, "end", "%s", st);
        (void)miner_store_record_merge(m->o.store, j->who.addr, rd->round, j->rec);
    }
    if (rd->round % 100 == 0)
        (void)miner_store_record_expire(m->o.store, rd->round - m->o.record_expire_epochs, NULL);
}

void *miner_loop_main(void *arg);
void *miner_loop_main(void *arg)
{
    miner_t *m = arg;
    base_t last = {0}, prev = {0};
    vc_logkv(VC_LOG_NOTICE, "miner", "mining loop started", NULL);
    while (!miner_is_stopping(m)) {
        miner_ref_t *who = NULL;
        size_t n = 0;
        if (miner_snapshot(m, &who, &n) < 0 || n == 0) {
            free(who);
            if (miner_sleep(m, 5000))
                break;
            continue;
        }
        base_t base;
        if (latest_base(m, &last, &base) < 0) {
            free(who);
            break;
        }
        if (prev.key && same_tipset(&prev, &base) && prev.null_rounds == base.null_rounds) {
            base_done(&base);
            free(who);
            /* upstream sleeps a whole block delay here; a head that lands later than
             * PropagationDelaySecs (a slow network, the devnet) would then cost the next round:
             * poll at a tenth of it instead (100 ms .. 1 s) */
            vc_logkv(VC_LOG_DEBUG, "miner", "BestMiningCandidate from the previous round", NULL);
            if (miner_sleep(m, VC_MIN(VC_MAX(m->block_delay_s * 100, 100), 1000)))
                break;
            continue;
        }
        base_done(&prev); /* a standby has mined no round: none is "the previous round" */
        if (m->o.elector && !vc_ha_is_leader(m->o.elector, NULL)) {
            /* standby (or paused): the loop follows the chain, nobody signs or submits */
            char h[24];
            snprintf(h, sizeof(h), "%" PRId64, base.height + base.null_rounds + 1);
            vc_logkv(VC_LOG_DEBUG, "miner", "standby: not mining", "round", h, NULL);
            free(who);
            int64_t next = (base.min_ts + m->block_delay_s * (base.null_rounds + 1)) * 1000 + m->o.propagation_ms;
            base_done(&base);
            if (miner_sleep(m, VC_MAX(next - now_ms(), 200)))
                break;
            continue;
        }
        (void)base_copy(&base, &prev);
        int64_t t0 = vc_now_mono_us();
        round_t *rd = run_round(m, &base, who, n);
        free(who);
        if (m->m_election)
            vc_gauge_set(vc_metric_with(m->m_election, NULL), (double)(vc_now_mono_us() - t0) / 1e6);
        size_t accepted = 0;
        if (rd) {
            finish_round(m, rd);
            check_fork(m, rd);
            accepted = produce_blocks(m, rd);
            save_records(m, rd);
            round_unref(rd);
        }
        int64_t next = (base.min_ts + m->block_delay_s * (base.null_rounds + 1)) * 1000 + m->o.propagation_ms;
        if (next > now_ms() && miner_sleep(m, next - now_ms())) {
            base_done(&base);
            break;
        }
        /* A.3.1 step 8 counts a null round when nobody won; a round whose blocks every node
         * refused (late, stale parents) is null for the chain too: mine the next round rather
         * than retrying this one (upstream waits for someone else's block, which never comes
         * on a chain where we are the only miners). */
        if (accepted == 0 && same_tipset(&last, &base))
            last.null_rounds++;
        base_done(&base);
    }
    base_done(&last);
    base_done(&prev);
    vc_logkv(VC_LOG_NOTICE, "miner", "mining loop stopped", NULL);
    return NULL;
}
