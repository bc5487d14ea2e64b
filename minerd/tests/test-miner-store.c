/*
 * Tests for miner-store.c. Runs against sqlite by default and against PostgreSQL with --pg
 * (every test gets its own fresh database from vc_test_db_fresh_dsn).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "miner-store.h"
#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/util.h"

static bool use_pg;

#define M1 "t01000"
#define M2 "t01001"
#define CID_X "bafy2bzaceaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define CID_Y "bafy2bzaceayyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
#define CID_Z "bafy2bzaceazzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
#define CID_W "bafy2bzceawwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
#define P1 "bafy2bzacep1"
#define P2 "bafy2bzacep2"
#define KEY1 "{ " P1 " " P2 " }"
#define KEY2 "{ bafy2bzacek2 }"
#define KEY3 "{ bafy2bzacek3 }"
#define KEY4 "{ bafy2bzacek4 }"
#define T0 1700000000000LL
#define FAULT "produced block would trigger "

static const char *open_dsn(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    if (!dsn)
        VC_FAIL_("no fresh database");
    return dsn;
}

static miner_store_t *open_at(const char *dsn)
{
    miner_store_t *s = NULL;
    char *err = NULL;
    if (!dsn)
        return NULL;
    int r = miner_store_open(dsn, &s, &err);
    if (r < 0) {
        VC_FAIL_("miner_store_open(%s): %s: %s", dsn, vc_strerror(r), err ? err : "");
        free(err);
        return NULL;
    }
    return s;
}

static miner_store_t *open_store(void)
{
    return open_at(open_dsn());
}

static miner_block_t blk(const char *miner, int64_t epoch, int64_t parent_epoch, const char *parent_key,
                         const char *cid, int state)
{
    return (miner_block_t){.miner = (char *)miner,
                           .epoch = epoch,
                           .parent_epoch = parent_epoch,
                           .parent_key = (char *)parent_key,
                           .cid = (char *)cid,
                           .mine_state = state};
}

/* The row of (miner, epoch), via list_blocks; false (and a failure) if absent. */
static bool get_row(miner_store_t *s, const char *miner, int64_t epoch, miner_block_t *ret)
{
    const char *ms[] = {miner};
    miner_block_t *v = NULL;
    size_t n = 0;
    bool found = false;
    if (!VC_CHECK(miner_store_list_blocks(s, ms, 1, 0, 0, &v, &n) >= 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i].epoch == epoch && !found) {
            *ret = v[i];
            v[i] = (miner_block_t){0};
            found = true;
        }
    }
    miner_blocks_free(v, n);
    return found ? true : VC_FAIL_("no row for %s epoch %" PRId64, miner, epoch);
}

/* The row of want's (miner, epoch) holds exactly want's fields. */
static bool row_is(miner_store_t *s, miner_block_t want)
{
    miner_block_t got;
    if (!get_row(s, want.miner, want.epoch, &got))
        return false;
    bool same = vc_streq(got.parent_key, want.parent_key) && vc_streq(got.cid, want.cid) &&
                got.parent_epoch == want.parent_epoch && got.mine_state == want.mine_state &&
                got.consuming == want.consuming && got.winning_at_ms == want.winning_at_ms;
    if (!same)
        VC_FAIL_("row %s/%" PRId64 ": parent %" PRId64 " '%s' cid '%s' state %d consuming %" PRId64
                 " win %" PRId64 "; want parent %" PRId64 " '%s' cid '%s' state %d consuming %" PRId64
                 " win %" PRId64,
                 want.miner, want.epoch, got.parent_epoch, got.parent_key, got.cid, got.mine_state,
                 got.consuming, got.winning_at_ms, want.parent_epoch, want.parent_key, want.cid,
                 want.mine_state, want.consuming, want.winning_at_ms);
    miner_block_done(&got);
    return same;
}

static size_t count_rows(miner_store_t *s)
{
    miner_block_t *v = NULL;
    size_t n = 0;
    if (!VC_CHECK(miner_store_list_blocks(s, NULL, 0, 0, 0, &v, &n) >= 0))
        return (size_t)-1;
    miner_blocks_free(v, n);
    return n;
}

static bool has(miner_store_t *s, const char *miner, int64_t epoch)
{
    bool h = false;
    VC_CHECK(miner_store_has_block(s, miner, epoch, &h) >= 0);
    return h;
}

static bool starts_with(const char *s, const char *prefix)
{
    if (s && strncmp(s, prefix, strlen(prefix)) == 0)
        return true;
    return VC_FAIL_("'%s' does not start with '%s'", s ? s : "(null)", prefix);
}

/* ---- open, reopen, settings ---- */

static void test_open_kv_reopen(void)
{
    const char *dsn = open_dsn();
    miner_store_t *s = open_at(dsn);
    char *v = (char *)"unset";
    ASSERT_NOTNULL(s);
    ASSERT_STREQ(miner_store_backend(s), use_pg ? "postgres" : "sqlite");

    ASSERT_OK(miner_store_kv_get(s, "network_name", &v));
    ASSERT_TRUE(v == NULL);
    ASSERT_OK(miner_store_kv_set(s, "network_name", "devnet"));
    ASSERT_OK(miner_store_kv_get(s, "network_name", &v));
    ASSERT_STREQ(v, "devnet");
    free(v);
    ASSERT_OK(miner_store_kv_set(s, "network_name", "calibrationnet"));
    ASSERT_OK(miner_store_kv_set(s, "other", ""));
    ASSERT_EQ(miner_store_kv_set(s, "", "x"), -EINVAL);
    ASSERT_EQ(miner_store_kv_set(s, "k", NULL), -EINVAL);
    ASSERT_EQ(miner_store_kv_get(s, NULL, &v), -EINVAL);

    miner_block_t b = blk(M1, 10, 9, KEY1, CID_X, MINER_STATE_SUCCESS);
    json_t *rec = json_pack("{s:s}", "start", "2024-01-01");
    ASSERT_OK(miner_store_put_block(s, &b));
    ASSERT_OK(miner_store_record_merge(s, M1, 10, rec));
    json_decref(rec);
    s = miner_store_free(s);

    /* Reopening applies no migration again and keeps the data. */
    s = open_at(dsn);
    ASSERT_NOTNULL(s);
    ASSERT_OK(miner_store_kv_get(s, "network_name", &v));
    ASSERT_STREQ(v, "calibrationnet");
    free(v);
    ASSERT_OK(miner_store_kv_get(s, "other", &v));
    ASSERT_STREQ(v, "");
    free(v);
    ASSERT_TRUE(has(s, M1, 10));
    json_t *got = NULL;
    ASSERT_OK(miner_store_record_query(s, M1, 10, 1, &got));
    ASSERT_EQ(json_array_size(got), 1);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(got, 0), "start")), "2024-01-01");
    json_decref(got);
    miner_store_free(s);
}

/* ---- put_block ---- */

static void test_put_block(void)
{
    miner_store_t *s = open_store();
    miner_block_t b, want;
    ASSERT_NOTNULL(s);

    /* A timeout never inserts. */
    b = blk(M1, 100, 99, KEY1, "", MINER_STATE_TIMEOUT);
    ASSERT_OK(miner_store_put_block(s, &b));
    ASSERT_EQ(count_rows(s), 0);

    /* The row written at win time: no cid, so HasBlock stays false. */
    b = blk(M1, 100, 99, "", "", MINER_STATE_MINING);
    b.winning_at_ms = T0;
    ASSERT_OK(miner_store_put_block(s, &b));
    ASSERT_FALSE(has(s, M1, 100));
    ASSERT_TRUE(row_is(s, b));

    /* The header is made: cid and parents arrive; winning_at 0 keeps the recorded time. */
    b = blk(M1, 100, 98, KEY1, CID_X, MINER_STATE_SUCCESS);
    b.consuming = 1234;
    ASSERT_OK(miner_store_put_block(s, &b));
    ASSERT_TRUE(has(s, M1, 100));
    ASSERT_FALSE(has(s, M1, 101));
    ASSERT_FALSE(has(s, M2, 100));
    want = b;
    want.winning_at_ms = T0;
    ASSERT_TRUE(row_is(s, want));

    /* A different cid is refused and changes nothing. */
    b = blk(M1, 100, 97, KEY2, CID_Y, MINER_STATE_ERROR);
    b.consuming = 1;
    b.winning_at_ms = T0 + 5;
    ASSERT_EQ(miner_store_put_block(s, &b), MINER_EFAULT);
    ASSERT_TRUE(strstr(miner_store_errmsg(), CID_X) != NULL);
    ASSERT_TRUE(row_is(s, want));

    /* The same cid, or none, updates the state; empty parents and cid keep the recorded ones. */
    b = blk(M1, 100, 98, KEY1, CID_X, MINER_STATE_CHAIN_FORKED);
    ASSERT_OK(miner_store_put_block(s, &b));
    b = blk(M1, 100, 98, "", "", MINER_STATE_TIMEOUT);
    b.consuming = 77;
    b.winning_at_ms = T0 + 9;
    ASSERT_OK(miner_store_put_block(s, &b)); /* a timeout updates an existing row */
    want = b;
    want.parent_key = (char *)KEY1;
    want.cid = (char *)CID_X;
    ASSERT_TRUE(row_is(s, want));
    ASSERT_EQ(count_rows(s), 1);

    /* A NULL parent_key / cid reads as empty. */
    b = blk(M2, 100, 99, NULL, NULL, MINER_STATE_ERROR);
    ASSERT_OK(miner_store_put_block(s, &b));
    ASSERT_FALSE(has(s, M2, 100));

    /* Bad input. */
    b = blk(M1, 5, 4, "", "", 9);
    ASSERT_EQ(miner_store_put_block(s, &b), -EINVAL);
    b = blk("", 5, 4, "", "", MINER_STATE_MINING);
    ASSERT_EQ(miner_store_put_block(s, &b), -EINVAL);
    ASSERT_EQ(miner_store_put_block(s, NULL), -EINVAL);
    ASSERT_EQ(count_rows(s), 2);
    miner_store_free(s);
}

/* ---- claim_block ---- */

/* A block no node accepted gives its (miner, epoch) back: another block on the same parents
 * is then no time-offset fault; a different cid does not release anything. */
static void test_release(void)
{
    miner_store_t *s = open_store();
    const char *parents[] = {P1, P2};
    miner_block_t b;
    char *f = NULL;
    ASSERT_NOTNULL(s);
    b = blk(M1, 200, 199, KEY1, CID_X, MINER_STATE_MINING);
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, &f));
    ASSERT_OK(miner_store_release_block(s, M1, 200, CID_Y)); /* not the recorded one: no-op */
    ASSERT_TRUE(has(s, M1, 200));
    ASSERT_OK(miner_store_release_block(s, M1, 200, CID_X));
    ASSERT_FALSE(has(s, M1, 200));
    b = blk(M1, 201, 199, KEY1, CID_Z, MINER_STATE_MINING);
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, &f));
    ASSERT_TRUE(f == NULL);
    ASSERT_TRUE(has(s, M1, 201));
    ASSERT_ERR(miner_store_release_block(s, M1, 201, ""));
    miner_store_free(s);
}

static void test_claim_faults(void)
{
    miner_store_t *s = open_store();
    const char *parents[] = {P1, P2};
    miner_block_t b, want;
    char *f = NULL;
    ASSERT_NOTNULL(s);

    /* First claim records the block (state MINING). */
    b = blk(M1, 100, 99, KEY1, CID_X, MINER_STATE_SUCCESS);
    b.winning_at_ms = T0;
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, &f));
    ASSERT_TRUE(f == NULL);
    ASSERT_TRUE(has(s, M1, 100));
    want = b;
    want.mine_state = MINER_STATE_MINING;
    ASSERT_TRUE(row_is(s, want));

    /* Idempotent, and a re-claim after Success leaves the state alone. */
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, &f));
    b.mine_state = MINER_STATE_SUCCESS;
    ASSERT_OK(miner_store_put_block(s, &b));
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, NULL));
    ASSERT_TRUE(row_is(s, b));

    /* double-fork: another block at the same height. */
    b = blk(M1, 100, 99, KEY2, CID_Y, MINER_STATE_MINING);
    ASSERT_EQ(miner_store_claim_block(s, &b, parents, 2, &f), MINER_EFAULT);
    ASSERT_STREQ(f, FAULT "double-fork mining faults consensus fault; miner: " M1 "; bh: " CID_Y
                          "; other: " CID_X);
    ASSERT_STREQ(miner_store_errmsg(), f);
    free(f);
    f = NULL;
    ASSERT_EQ(miner_store_claim_block(s, &b, parents, 2, NULL), MINER_EFAULT);

    /* time-offset: another block on the same parents (at another height). */
    b = blk(M1, 101, 99, KEY1, CID_Z, MINER_STATE_MINING);
    ASSERT_EQ(miner_store_claim_block(s, &b, parents, 2, &f), MINER_EFAULT);
    ASSERT_STREQ(f, FAULT "'time-offset mining faults' consensus fault; miner: " M1 "; bh: " CID_Z
                          ", other: " CID_X);
    free(f);
    f = NULL;
    ASSERT_FALSE(has(s, M1, 101)); /* nothing recorded */
    ASSERT_EQ(count_rows(s), 1);

    /* parent-grinding: a block at 101 on parents that omit our own block at 100. */
    b = blk(M1, 101, 100, KEY3, CID_Z, MINER_STATE_MINING);
    ASSERT_EQ(miner_store_claim_block(s, &b, parents, 2, &f), MINER_EFAULT);
    ASSERT_TRUE(starts_with(f, FAULT "'parent-grinding fault' consensus fault; miner: " M1 "; bh: " CID_Z
                                     "; expected parent: " CID_X));
    free(f);
    f = NULL;
    ASSERT_EQ(miner_store_claim_block(s, &b, NULL, 0, &f), MINER_EFAULT);
    free(f);
    f = NULL;
    ASSERT_FALSE(has(s, M1, 101));
    const char *with_ours[] = {P1, CID_X};
    ASSERT_OK(miner_store_claim_block(s, &b, with_ours, 2, &f));
    ASSERT_TRUE(f == NULL);
    ASSERT_TRUE(has(s, M1, 101));

    /* Another miner is independent. */
    b = blk(M2, 100, 99, KEY1, CID_Y, MINER_STATE_MINING);
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, NULL));

    /* The win-time row (no cid) is claimed by the block; a parent-epoch row without a cid
     * (mined nothing) is no parent-grinding fault. */
    b = blk(M1, 200, 199, "", "", MINER_STATE_MINING);
    ASSERT_OK(miner_store_put_block(s, &b));
    b = blk(M1, 201, 200, "", "", MINER_STATE_MINING);
    ASSERT_OK(miner_store_put_block(s, &b));
    b = blk(M1, 200, 199, KEY2, CID_W, MINER_STATE_SUCCESS);
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, &f));
    want = b;
    want.mine_state = MINER_STATE_MINING;
    ASSERT_TRUE(row_is(s, want));
    b = blk(M1, 202, 201, KEY4, CID_Y, MINER_STATE_MINING);
    ASSERT_OK(miner_store_claim_block(s, &b, parents, 2, &f));

    /* Bad input: no cid, parent epoch not below epoch. */
    b = blk(M1, 300, 299, KEY3, "", MINER_STATE_MINING);
    ASSERT_EQ(miner_store_claim_block(s, &b, parents, 2, &f), -EINVAL);
    b = blk(M1, 300, 300, KEY3, CID_Z, MINER_STATE_MINING);
    ASSERT_EQ(miner_store_claim_block(s, &b, parents, 2, &f), -EINVAL);
    ASSERT_TRUE(f == NULL);
    miner_store_free(s);
}

/* ---- concurrent claims: two store instances on one database, 8 threads ---- */

#define CLAIMERS 8
#define CLAIM_ROUNDS 6

static pthread_barrier_t claim_start;

typedef struct claimer {
    miner_store_t *s;
    int idx;
    int wins[CLAIM_ROUNDS];
    int faults[CLAIM_ROUNDS];
    int errors;
} claimer_t;

/* Even rounds: every thread claims the same (miner, epoch) with its own cid (double-fork).
 * Odd rounds: each its own epoch on the same parents (time-offset). */
static void round_block(int round, int idx, char *cid, size_t cidlen, char *key, size_t keylen,
                        miner_block_t *b)
{
    int64_t base = 1000 + (int64_t)round * 100;
    snprintf(cid, cidlen, "bafy2bzacer%dt%d", round, idx);
    snprintf(key, keylen, "{ bafy2bzaceparent%d }", round);
    *b = blk(M1, round % 2 ? base + idx : base, base - 1, key, cid, MINER_STATE_MINING);
}

static void *claimer_main(void *arg)
{
    claimer_t *w = arg;
    for (int round = 0; round < CLAIM_ROUNDS; round++) {
        char cid[64], key[64];
        miner_block_t b;
        char *f = NULL;
        round_block(round, w->idx, cid, sizeof(cid), key, sizeof(key), &b);
        pthread_barrier_wait(&claim_start);
        int r = miner_store_claim_block(w->s, &b, NULL, 0, &f);
        if (r == 0)
            w->wins[round]++;
        else if (r == MINER_EFAULT && f && strncmp(f, FAULT, strlen(FAULT)) == 0)
            w->faults[round]++;
        else {
            fprintf(stderr, "# claimer %d round %d: %s: %s\n", w->idx, round, vc_strerror(r),
                    miner_store_errmsg());
            w->errors++;
        }
        free(f);
    }
    return NULL;
}

static void test_claim_concurrent(void)
{
    const char *dsn = open_dsn();
    miner_store_t *s1 = open_at(dsn), *s2 = open_at(dsn);
    pthread_t th[CLAIMERS];
    claimer_t w[CLAIMERS];
    miner_block_t *v = NULL;
    size_t n = 0;
    ASSERT_NOTNULL(s1);
    ASSERT_NOTNULL(s2);
    pthread_barrier_init(&claim_start, NULL, CLAIMERS);
    for (int i = 0; i < CLAIMERS; i++) {
        w[i] = (claimer_t){.s = i % 2 ? s2 : s1, .idx = i};
        ASSERT_EQ(pthread_create(&th[i], NULL, claimer_main, &w[i]), 0);
    }
    for (int i = 0; i < CLAIMERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&claim_start);
    for (int round = 0; round < CLAIM_ROUNDS; round++) {
        int wins = 0, faults = 0, winner = -1;
        for (int i = 0; i < CLAIMERS; i++) {
            wins += w[i].wins[round];
            faults += w[i].faults[round];
            if (w[i].wins[round])
                winner = i;
        }
        printf("# round %d (%s): winner thread %d\n", round, round % 2 ? "time-offset" : "double-fork",
               winner);
        ASSERT_EQ(wins, 1);
        ASSERT_EQ(faults, CLAIMERS - 1);
        /* Exactly the winner's block is recorded for the round. */
        char cid[64], key[64];
        miner_block_t b, row;
        round_block(round, winner, cid, sizeof(cid), key, sizeof(key), &b);
        ASSERT_TRUE(get_row(s1, M1, b.epoch, &row));
        ASSERT_STREQ(row.cid, cid);
        miner_block_done(&row);
    }
    for (int i = 0; i < CLAIMERS; i++)
        ASSERT_EQ(w[i].errors, 0);
    ASSERT_OK(miner_store_list_blocks(s2, NULL, 0, 0, 0, &v, &n));
    ASSERT_EQ(n, CLAIM_ROUNDS);
    miner_blocks_free(v, n);
    miner_store_free(s1);
    miner_store_free(s2);
}

/* ---- list_blocks ---- */

static void test_list_blocks(void)
{
    miner_store_t *s = open_store();
    miner_block_t *v = NULL, b;
    size_t n = 0;
    ASSERT_NOTNULL(s);
    for (int64_t e = 1; e <= 5; e++) {
        char cid[32];
        snprintf(cid, sizeof(cid), "bafy1-%" PRId64, e);
        b = blk(M1, e, e - 1, KEY1, cid, MINER_STATE_SUCCESS);
        b.winning_at_ms = T0 + e;
        b.consuming = e * 10;
        ASSERT_OK(miner_store_put_block(s, &b));
    }
    for (int64_t e = 3; e <= 4; e++) {
        b = blk(M2, e, e - 1, "", "", MINER_STATE_ERROR);
        ASSERT_OK(miner_store_put_block(s, &b));
    }

    /* epoch DESC, then miner. */
    static const struct {
        const char *miner;
        int64_t epoch;
    } all[] = {{M1, 5}, {M1, 4}, {M2, 4}, {M1, 3}, {M2, 3}, {M1, 2}, {M1, 1}};
    ASSERT_OK(miner_store_list_blocks(s, NULL, 0, 0, 0, &v, &n));
    ASSERT_EQ(n, VC_ELEMENTSOF(all));
    for (size_t i = 0; i < n; i++) {
        ASSERT_STREQ(v[i].miner, all[i].miner);
        ASSERT_EQ(v[i].epoch, all[i].epoch);
    }
    ASSERT_STREQ(v[0].cid, "bafy1-5");
    ASSERT_STREQ(v[0].parent_key, KEY1);
    ASSERT_EQ(v[0].parent_epoch, 4);
    ASSERT_EQ(v[0].winning_at_ms, T0 + 5);
    ASSERT_EQ(v[0].consuming, 50);
    ASSERT_EQ(v[0].mine_state, MINER_STATE_SUCCESS);
    ASSERT_STREQ(v[2].cid, "");
    ASSERT_EQ(v[2].winning_at_ms, 0); /* NULL */
    ASSERT_EQ(v[2].mine_state, MINER_STATE_ERROR);
    miner_blocks_free(v, n);

    /* Filter. */
    const char *only2[] = {M2};
    ASSERT_OK(miner_store_list_blocks(s, only2, 1, 0, 0, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(v[0].epoch, 4);
    ASSERT_EQ(v[1].epoch, 3);
    miner_blocks_free(v, n);
    const char *both[] = {M2, M1, "t09999"};
    ASSERT_OK(miner_store_list_blocks(s, both, 3, 0, 0, &v, &n));
    ASSERT_EQ(n, VC_ELEMENTSOF(all));
    miner_blocks_free(v, n);
    const char *none[] = {"t09999"};
    ASSERT_OK(miner_store_list_blocks(s, none, 1, 0, 0, &v, &n));
    ASSERT_EQ(n, 0);
    miner_blocks_free(v, n);

    /* Limit and offset. */
    ASSERT_OK(miner_store_list_blocks(s, NULL, 0, 3, 2, &v, &n));
    ASSERT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        ASSERT_STREQ(v[i].miner, all[i + 2].miner);
        ASSERT_EQ(v[i].epoch, all[i + 2].epoch);
    }
    miner_blocks_free(v, n);
    ASSERT_OK(miner_store_list_blocks(s, NULL, 0, -1, 5, &v, &n)); /* no limit, offset applies */
    ASSERT_EQ(n, 2);
    ASSERT_EQ(v[0].epoch, 2);
    ASSERT_EQ(v[1].epoch, 1);
    miner_blocks_free(v, n);
    ASSERT_OK(miner_store_list_blocks(s, only2, 1, 1, 1, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].miner, M2);
    ASSERT_EQ(v[0].epoch, 3);
    miner_blocks_free(v, n);
    ASSERT_OK(miner_store_list_blocks(s, NULL, 0, 10, 100, &v, &n));
    ASSERT_EQ(n, 0);
    miner_blocks_free(v, n);
    ASSERT_EQ(miner_store_list_blocks(s, NULL, 0, 10, -1, &v, &n), -EINVAL);
    miner_store_free(s);
}

/* ---- mine records ---- */

static void merge(miner_store_t *s, const char *miner, int64_t epoch, const char *json)
{
    json_t *kv = json_loads(json, 0, NULL);
    ASSERT_NOTNULL(kv);
    int r = miner_store_record_merge(s, miner, epoch, kv);
    json_decref(kv);
    ASSERT_OK(r);
}

static void test_records(void)
{
    miner_store_t *s = open_store();
    json_t *arr = NULL, *o;
    int64_t deleted = -1;
    ASSERT_NOTNULL(s);

    merge(s, M1, 10, "{\"start\":\"a\",\"baseEpoch\":\"9\"}");
    merge(s, M1, 10, "{\"start\":\"b\",\"winCount\":\"1\"}");
    merge(s, M1, 11, "{\"end\":\"x\"}");
    merge(s, M1, 13, "{}");
    merge(s, M2, 10, "{\"error\":\"boom\"}");
    if (vc_test_failed)
        return;

    /* [10, 13): epochs 10 and 11; merged key by key; augmented with miner and epoch. */
    ASSERT_OK(miner_store_record_query(s, M1, 10, 3, &arr));
    ASSERT_EQ(json_array_size(arr), 2);
    o = json_array_get(arr, 0);
    ASSERT_EQ(json_object_size(o), 5);
    ASSERT_STREQ(json_string_value(json_object_get(o, "start")), "b");
    ASSERT_STREQ(json_string_value(json_object_get(o, "baseEpoch")), "9");
    ASSERT_STREQ(json_string_value(json_object_get(o, "winCount")), "1");
    ASSERT_STREQ(json_string_value(json_object_get(o, "miner")), M1);
    ASSERT_STREQ(json_string_value(json_object_get(o, "epoch")), "10");
    o = json_array_get(arr, 1);
    ASSERT_STREQ(json_string_value(json_object_get(o, "epoch")), "11");
    ASSERT_STREQ(json_string_value(json_object_get(o, "end")), "x");
    json_decref(arr);

    ASSERT_OK(miner_store_record_query(s, M1, 10, 4, &arr));
    ASSERT_EQ(json_array_size(arr), 3);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(arr, 2), "epoch")), "13");
    ASSERT_EQ(json_object_size(json_array_get(arr, 2)), 2);
    json_decref(arr);
    /* Limit 0 means 1 (QueryRecord). */
    ASSERT_OK(miner_store_record_query(s, M1, 10, 0, &arr));
    ASSERT_EQ(json_array_size(arr), 1);
    json_decref(arr);
    ASSERT_OK(miner_store_record_query(s, M1, 12, 1, &arr));
    ASSERT_EQ(json_array_size(arr), 0);
    json_decref(arr);
    ASSERT_OK(miner_store_record_query(s, M2, 0, INT64_MAX, &arr)); /* no overflow */
    ASSERT_EQ(json_array_size(arr), 1);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(arr, 0), "miner")), M2);
    json_decref(arr);
    ASSERT_EQ(miner_store_record_query(s, M1, 10, -1, &arr), -EINVAL);

    /* Values must be strings; the record an object. */
    json_t *bad = json_pack("{s:i}", "winCount", 1);
    ASSERT_EQ(miner_store_record_merge(s, M1, 10, bad), -EINVAL);
    json_decref(bad);
    bad = json_pack("[s]", "x");
    ASSERT_EQ(miner_store_record_merge(s, M1, 10, bad), -EINVAL);
    json_decref(bad);
    ASSERT_EQ(miner_store_record_merge(s, M1, 10, NULL), -EINVAL);

    /* Expire: epoch < 11 goes (both miners). */
    ASSERT_OK(miner_store_record_expire(s, 11, &deleted));
    ASSERT_EQ(deleted, 2);
    ASSERT_OK(miner_store_record_expire(s, 11, NULL));
    ASSERT_OK(miner_store_record_query(s, M1, 0, 100, &arr));
    ASSERT_EQ(json_array_size(arr), 2);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(arr, 0), "epoch")), "11");
    json_decref(arr);
    ASSERT_OK(miner_store_record_query(s, M2, 0, 100, &arr));
    ASSERT_EQ(json_array_size(arr), 0);
    json_decref(arr);
    miner_store_free(s);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    use_pg = vc_test_has_flag("--pg");
    if (use_pg && !vc_test_pg_dsn()) {
        printf("# --pg: no PostgreSQL DSN (set VC_PG_DSN or VC_PG_DSN_FILE); skipping\n");
        return 77;
    }
    if (vc_init() < 0)
        return 1;
    printf("# backend: %s\n", use_pg ? "postgres" : "sqlite");
    VC_TEST_RUN(test_open_kv_reopen);
    VC_TEST_RUN(test_put_block);
    VC_TEST_RUN(test_claim_faults);
    VC_TEST_RUN(test_release);
    VC_TEST_RUN(test_claim_concurrent);
    VC_TEST_RUN(test_list_blocks);
    VC_TEST_RUN(test_records);
    return VC_TEST_DONE();
}
