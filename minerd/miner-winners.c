/* miner-winners.c: winner count over past epochs (A.3.6) and winning-PoSt warmup (A.3.7). */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner-internal.h"
#include "vc/bigint.h"
#include "vc/election.h"
#include "vc/gofmt.h"
#include "vc/log.h"
#include "vc/util.h"

#define MAX_TASKS 200000

typedef struct wc_batch wc_batch_t;

typedef struct wc_task {
    wc_batch_t *b;
    const miner_ref_t *who;
    int64_t epoch;      /* e; reported as e + 1 */
    int64_t wins;
    char msg[512];
} wc_task_t;

struct wc_batch {
    miner_t *m;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t pending;
};

static void count_one(wc_task_t *t)
{
    miner_t *m = t->b->m;
    json_t *ts = NULL, *mbi = NULL;
    uint8_t *rbase = NULL, *vrf = NULL, ent[128];
    size_t rl = 0, vl = 0, el = 0;
    vc_bigint_t power, total;

    if (miner_rpc(m, "Filecoin.ChainGetTipSetByHeight", json_pack("[I, n]", (json_int_t)t->epoch), NULL, &ts,
                  t->msg, sizeof(t->msg)) < 0)
        goto out;
    if (miner_rpc(m, "Filecoin.MinerGetBaseInfo",
                  json_pack("[s, I, O]", t->who->addr, (json_int_t)(t->epoch + 1),
                            json_object_get(ts, "Cids") ?: json_null()),
                  t->who->addr, &mbi, t->msg, sizeof(t->msg)) < 0)
        goto out;
    if (json_is_null(mbi)) {
        snprintf(t->msg, sizeof(t->msg),
                 "can't find base info on chain, maybe this is a new miner or no sector found before chain finality");
        goto out;
    }
    if (!json_is_true(json_object_get(mbi, "EligibleForMining"))) {
        snprintf(t->msg, sizeof(t->msg), "slashed or just have no power yet");
        goto out;
    }
    const char *worker = json_string_value(json_object_get(mbi, "WorkerKey"));
    if (!worker || miner_rbase(mbi, &rbase, &rl) < 0 ||
        miner_json_bigint(json_object_get(mbi, "MinerPower"), &power) < 0 ||
        miner_json_bigint(json_object_get(mbi, "NetworkPower"), &total) < 0 ||
        miner_addr_entropy(&t->who->a, ent, sizeof(ent), &el) < 0) {
        snprintf(t->msg, sizeof(t->msg), "MinerGetBaseInfo: malformed answer");
        goto out;
    }
    if (miner_vrf(m, worker, t->who->user, rbase, rl, 2, t->epoch + 1, ent, el, &vrf, &vl, t->msg, sizeof(t->msg)) <
        0)
        goto out;
    if (vc_election_win_count(vrf, vl, &power, &total, &t->wins) < 0)
        snprintf(t->msg, sizeof(t->msg), "win count: invalid power");
out:
    json_decref(ts);
    json_decref(mbi);
    free(rbase);
    free(vrf);
}

static void count_job(void *arg)
{
    wc_task_t *t = arg;
    wc_batch_t *b = t->b;
    count_one(t);
    pthread_mutex_lock(&b->lock);
    if (--b->pending == 0)
        pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

static int set_err(char **ret_err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(char **ret_err, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ret_err && vasprintf(ret_err, fmt, ap) < 0)
        *ret_err = NULL;
    va_end(ap);
    return r;
}

static int head_height(miner_t *m, int64_t *ret, char **ret_err)
{
    char err[512];
    json_t *head = NULL;
    int r = miner_rpc(m, "Filecoin.ChainHead", NULL, NULL, &head, err, sizeof(err));
    if (r < 0)
        return set_err(ret_err, r, "%s", err);
    json_t *h = json_object_get(head, "Height");
    if (!json_is_integer(h)) {
        json_decref(head);
        return set_err(ret_err, VC_EPARSE, "ChainHead: no Height");
    }
    *ret = json_integer_value(h);
    json_decref(head);
    return 0;
}

int miner_count_winners(miner_t *m, const char *const *addrs, size_t n, int64_t start, int64_t end, json_t **ret,
                        char **ret_err)
{
    int64_t head = 0;
    int r;
    if (start < 0 || end < 0)
        return set_err(ret_err, -EINVAL, "epochs must not be negative");
    if (start > end)
        return set_err(ret_err, -EINVAL, "epoch start %" PRId64 " is after epoch end %" PRId64, start, end);
    if ((r = head_height(m, &head, ret_err)) < 0)
        return r;
    if (start > head || end > head)
        return set_err(ret_err, -EINVAL, "start or end greater than chain head %" PRId64, head);

    miner_ref_t *set = NULL, *who = NULL;
    size_t nset = 0, nwho = 0;
    json_t *out = json_array();
    if (!out || (r = miner_snapshot(m, &set, &nset)) < 0) {
        json_decref(out);
        return set_err(ret_err, -ENOMEM, "out of memory");
    }
    if (!(who = calloc((n ? n : nset) + 1, sizeof(*who)))) {
        free(set);
        json_decref(out);
        return set_err(ret_err, -ENOMEM, "out of memory");
    }
    if (n == 0) {
        memcpy(who, set, nset * sizeof(*who));
        nwho = nset;
    }
    for (size_t k = 0; k < n; k++) {
        vc_address_t a;
        bool found = false;
        if (vc_address_from_string(addrs[k], &a) == 0)
            for (size_t i = 0; i < nset && !found; i++)
                if (vc_address_equal(&a, &set[i].a)) {
                    who[nwho++] = set[i];
                    found = true;
                }
        if (!found)
            json_array_append_new(out, json_pack("{s:s, s:i, s:s, s:n}", "miner", addrs[k], "totalWinCount", 0, "msg",
                                                 "miner not exist", "winEpochList"));
    }
    free(set);
    size_t span = (size_t)(end - start + 1);
    if (nwho && span > MAX_TASKS / nwho) {
        free(who);
        json_decref(out);
        return set_err(ret_err, -E2BIG, "range too large: %zu epochs x %zu miners (at most %d checks per call)", span,
                       nwho, MAX_TASKS);
    }
    size_t nt = span * nwho;
    wc_task_t *tasks = calloc(nt ? nt : 1, sizeof(*tasks));
    wc_batch_t b = {.m = m};
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    for (size_t i = 0; tasks && i < nt; i++) {
        tasks[i] = (wc_task_t){.b = &b, .who = &who[i / span], .epoch = start + (int64_t)(i % span)};
        pthread_mutex_lock(&b.lock);
        b.pending++;
        pthread_mutex_unlock(&b.lock);
        if (vc_workq_submit(m->workers, count_job, &tasks[i]) < 0) {
            snprintf(tasks[i].msg, sizeof(tasks[i].msg), "cannot schedule");
            pthread_mutex_lock(&b.lock);
            b.pending--;
            pthread_mutex_unlock(&b.lock);
        }
    }
    pthread_mutex_lock(&b.lock);
    while (b.pending > 0)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);
    pthread_mutex_destroy(&b.lock);
    pthread_cond_destroy(&b.cond);
    for (size_t w = 0; tasks && w < nwho; w++) {
        json_t *list = json_array();
        int64_t total = 0;
        for (size_t i = w * span; i < (w + 1) * span; i++) {
            wc_task_t *t = &tasks[i];
            if (t->wins > 0 || *t->msg) {
                json_array_append_new(list, json_pack("{s:I, s:I, s:s}", "epoch", (json_int_t)(t->epoch + 1),
                                                      "winCount", (json_int_t)t->wins, "msg", t->msg));
                total += t->wins;
            }
        }
        json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:o}", "miner", who[w].addr, "totalWinCount",
                                             (json_int_t)total, "msg", "", "winEpochList",
                                             json_array_size(list) ? list : (json_decref(list), json_null())));
    }
    free(tasks);
    free(who);
    *ret = out;
    return 0;
}

/* ------------------------------------------------------------------ warmup */

/* First set bit of an RLE+ run list in JSON ([unset, set, unset, ...]); -1 when none. */
static int64_t first_set(const json_t *runs)
{
    int64_t pos = 0;
    size_t i;
    json_t *x;
    json_array_foreach(runs, i, x)
    {
        if (!json_is_integer(x))
            return -1;
        if (i % 2 == 1 && json_integer_value(x) > 0)
            return pos;
        pos += json_integer_value(x);
    }
    return -1;
}

int miner_warmup(miner_t *m, const char *addr, char **ret_err)
{
    char err[768];
    json_t *dls = NULL, *parts = NULL, *info = NULL, *head = NULL, *nv = NULL, *proof = NULL;
    int64_t sector = -1;
    int r;
    vc_address_t a;
    char s[VC_ADDRESS_STRLEN_MAX];
    if (vc_address_from_string(addr, &a) < 0)
        return set_err(ret_err, -EINVAL, "invalid miner address %s", addr);
    vc_address_to_string(&a, m->net, s);
    if ((r = miner_rpc(m, "Filecoin.StateMinerDeadlines", json_pack("[s, []]", s), s, &dls, err, sizeof(err))) < 0)
        goto fail;
    for (size_t d = 0; d < json_array_size(dls) && sector < 0; d++) {
        json_decref(parts);
        parts = NULL;
        if ((r = miner_rpc(m, "Filecoin.StateMinerPartitions", json_pack("[s, I, []]", s, (json_int_t)d), s,
                           &parts, err, sizeof(err))) < 0)
            goto fail;
        for (size_t p = 0; p < json_array_size(parts) && sector < 0; p++)
            sector = first_set(json_object_get(json_array_get(parts, p), "ActiveSectors"));
    }
    if (sector < 0) {
        vc_logkv(VC_LOG_NOTICE, "miner", "skipping winning PoSt warmup, no sectors", "miner", s, NULL);
        r = 0;
        goto out;
    }
    if ((r = miner_rpc(m, "Filecoin.StateSectorGetInfo", json_pack("[s, I, []]", s, (json_int_t)sector), s, &info,
                       err, sizeof(err))) < 0 ||
        (r = miner_rpc(m, "Filecoin.ChainHead", NULL, NULL, &head, err, sizeof(err))) < 0 ||
        (r = miner_rpc(m, "Filecoin.StateNetworkVersion",
                       json_pack("[O]", json_object_get(head, "Cids") ?: json_null()), s, &nv, err,
                       sizeof(err))) < 0)
        goto fail;
    if (!json_is_object(info) || !json_object_get(info, "SealProof") || !json_object_get(info, "SealedCID") ||
        !json_is_integer(json_object_get(head, "Height"))) {
        snprintf(err, sizeof(err), "StateSectorGetInfo: sector %" PRId64 " not found", sector);
        r = -ENOENT;
        goto fail;
    }
    uint8_t rnd[32];
    vc_random(rnd, sizeof(rnd));
    char *r64 = vc_base64_encode(rnd, sizeof(rnd));
    int64_t t = vc_now_mono_us();
    r = miner_gw_rpc(m, "Gateway.ComputeProof",
                  json_pack("[s, [{s:O, s:I, s:n, s:O}], s, O, O]", s, "SealProof",
                            json_object_get(info, "SealProof"), "SectorNumber", (json_int_t)sector,
                            "SectorKey", "SealedCID", json_object_get(info, "SealedCID"),
                            r64 ? r64 : "", json_object_get(head, "Height"), nv),
                  &proof, err, sizeof(err));
    free(r64);
    if (r < 0)
        goto fail;
    char d[32];
    vc_format_duration_go((vc_now_mono_us() - t) / 1000, d);
    vc_logkv(VC_LOG_NOTICE, "miner", "winning PoSt warmup successful", "miner", s, "took", d, NULL);
    goto out;
fail:
    miner_add_error(m, s, "warmup: %s", err);
    set_err(ret_err, r, "%s", err);
out:
    json_decref(dls);
    json_decref(parts);
    json_decref(info);
    json_decref(head);
    json_decref(nv);
    json_decref(proof);
    return r;
}
