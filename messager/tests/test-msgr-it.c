/*
 * test-msgr-it: venus-messager integration cases against the real venus-auth, venus-gateway,
 * venus-wallet (10 keys, user "wal") and venus-devnet (200 ms blocks, the 10 senders funded in
 * genesis):
 *   - 1,000 messages from 10 addresses all reach OnChainMsg with nonces 0..99 per address;
 *   - a message whose gas estimate fails stays UnFill with an ErrorMsg, is listed by
 *     ListFailedMessage and blocks nobody;
 *   - a devnet revert moves landed messages back to FillMsg and then on chain again;
 *   - SIGTERM of the messager mid-stream and a restart on the same repo: nothing lost, nothing
 *     double-signed;
 *   - a message signed elsewhere with the same nonce lands first: NonceConflictMsg;
 *   - WaitMessage semantics.
 * --pg runs the messager on a fresh PostgreSQL database (the "pg" ctest fixture).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgr-stack.h"
#include "vc-test-db.h"
#include "vc-test-proc.h"
#include "vc-test-proxy.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/message.h"
#include "vc/util.h"

#define NADDR 10

/* ---------------------------------------------------------------- setup */

/* ---------------------------------------------------------------- helpers */

static json_t *transfer(const char *from, const char *value)
{
    return json_pack("{s:i, s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:i, s:n}", "Version", 0, "To", bob, "From", from,
                     "Nonce", 0, "Value", value, "GasLimit", 0, "GasFeeCap", "0", "GasPremium", "0", "Method", 0,
                     "Params");
}

static json_t *get_msg(const char *id)
{
    json_t *m = NULL;
    return mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", id), &m, NULL) == 0 ? m : NULL;
}

static int msg_state(const json_t *m)
{
    return (int)json_integer_value(json_object_get(m, "State"));
}

static void dump_msg(const char *what, const json_t *m)
{
    char *d = m ? json_dumps(m, JSON_COMPACT) : NULL;
    fprintf(stderr, "# %s: %s\n", what, d ? d : "(none)");
    free(d);
}

/* Polls GetMessageByUid until State == want (timeout_ms); returns the message (or NULL). */
static json_t *wait_state(const char *id, int want, int timeout_ms)
{
    json_t *m = NULL;
    for (int t = 0; t < timeout_ms; t += 50) {
        json_decref(m);
        m = get_msg(id);
        if (m && msg_state(m) == want)
            return m;
        vc_sleep_ms(50);
    }
    dump_msg("state not reached", m);
    json_decref(m);
    return NULL;
}

/* Waits until every id is OnChainMsg; returns how many are not. */
static size_t wait_all_onchain(char (*ids)[64], size_t n, int timeout_ms)
{
    size_t next = 0;
    for (int t = 0; t < timeout_ms && next < n;) {
        json_t *m = get_msg(ids[next]);
        int st = m ? msg_state(m) : -1;
        json_decref(m);
        if (st == 3) {
            next++;
            continue;
        }
        vc_sleep_ms(100);
        t += 100;
    }
    if (next < n) {
        json_t *m = get_msg(ids[next]);
        dump_msg("not on chain", m);
        json_decref(m);
    }
    return n - next;
}

/* SetSharedParams replaces the whole row: read, change selMsgNum, write back. */
static int set_sel_msg_num(uint64_t n)
{
    json_t *sp = NULL;
    int r = mcall(msgr_admin, "GetSharedParams", NULL, &sp, NULL);
    if (r < 0)
        return r;
    json_object_set_new(sp, "selMsgNum", json_integer((json_int_t)n));
    return mcall(msgr_admin, "SetSharedParams", json_pack("[o]", sp), NULL, NULL);
}

/* Every row of addr: the OnChain ones carry exactly the nonces base..base+n-1 with no duplicate
 * and no other row of addr is OnChain; returns the number of OnChain rows (-1 on a violation). */
static long check_nonces(const char *addr, uint64_t base)
{
    json_t *list = NULL;
    if (mcall(msgr_admin, "ListMessageByAddress", json_pack("[s]", addr), &list, NULL) < 0)
        return -1;
    size_t n = json_array_size(list);
    uint8_t *seen = calloc(n + 1, 1);
    long on = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(list, i);
        if (msg_state(m) != 3)
            continue;
        json_int_t nonce = json_integer_value(json_object_get(m, "Nonce"));
        if (nonce < (json_int_t)base || nonce >= (json_int_t)(base + n) || seen[nonce - (json_int_t)base]++) {
            fprintf(stderr, "# %s: nonce %lld out of range or duplicate\n", addr, (long long)nonce);
            bad++;
        }
        on++;
    }
    for (long i = 0; i < on && !bad; i++)
        if (!seen[i]) {
            fprintf(stderr, "# %s: nonce gap at %llu\n", addr, (unsigned long long)(base + (uint64_t)i));
            bad++;
        }
    free(seen);
    json_decref(list);
    return bad ? -1 : on;
}

static uint64_t addr_nonce(const char *addr)
{
    json_t *res = NULL;
    if (mcall(msgr_admin, "GetAddress", json_pack("[s]", addr), &res, NULL) < 0)
        return UINT64_MAX;
    uint64_t n = (uint64_t)json_integer_value(json_object_get(res, "nonce"));
    json_decref(res);
    return n;
}

/* ---------------------------------------------------------------- tests */

#define PER_ADDR 100

static vc_test_proxy_t *px_gw; /* the messager's way to the gateway */

/* 1,000 messages from 10 addresses: all OnChain, nonces 0..99 per address, no gaps. */
static void test_bulk_1000(void)
{
    static char ids[NADDR * PER_ADDR][64];
    ASSERT_OK(set_sel_msg_num(PER_ADDR));
    int64_t t0 = vc_now_mono_us();
    for (int k = 0; k < PER_ADDR; k++)
        for (int i = 0; i < NADDR; i++)
            ASSERT_OK(push_id(transfer(addrs[i], "1"), ids[k * NADDR + i]));
    int64_t t1 = vc_now_mono_us();
    ASSERT_EQ(wait_all_onchain(ids, NADDR * PER_ADDR, 180000), 0u);
    /* the round selects the addresses side by side (spec 4.3: a goroutine per address): their
     * signatures were asked of the gateway at the same time, over several connections (one
     * after the other they would have reused one) */
    unsigned conns = vc_test_proxy_max_conns(px_gw);
    fprintf(stderr, "# at most %u connections to the gateway at once\n", conns);
    ASSERT_TRUE(conns >= 4);
    fprintf(stderr, "# pushed 1000 in %lld ms, all on chain after %lld ms\n", (long long)(t1 - t0) / 1000,
            (long long)(vc_now_mono_us() - t0) / 1000);
    for (int i = 0; i < NADDR; i++) {
        ASSERT_EQ(check_nonces(addrs[i], 0), PER_ADDR);
        ASSERT_EQ(addr_nonce(addrs[i]), (uint64_t)PER_ADDR);
        json_t *m = NULL;
        ASSERT_OK(mcall(msgr_admin, "GetMessageByFromAndNonce", json_pack("[s, i]", addrs[i], PER_ADDR - 1), &m,
                        NULL));
        ASSERT_EQ(msg_state(m), 3);
        ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m, "Receipt"), "ExitCode")), 0);
        json_decref(m);
    }
    ASSERT_OK(set_sel_msg_num(20));
}

static char bad_id[64];

/* value > balance: the estimate fails, the message stays UnFill with ErrorMsg, is listed by
 * ListFailedMessage and neither its own address nor the others are held up. */
static void test_estimate_fail(void)
{
    char good[10][64];
    uint64_t n0 = addr_nonce(addrs[0]), n1 = addr_nonce(addrs[1]);
    ASSERT_OK(push_id(transfer(addrs[0], "1000000000000000000000000"), bad_id));
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(push_id(transfer(addrs[0], "2"), good[i]));
        ASSERT_OK(push_id(transfer(addrs[1], "2"), good[5 + i]));
    }
    ASSERT_EQ(wait_all_onchain(good, 10, 30000), 0u);
    json_t *m = get_msg(bad_id);
    ASSERT_TRUE(m != NULL);
    dump_msg("failed estimate", m);
    ASSERT_EQ(msg_state(m), 1);
    const char *em = json_string_value(json_object_get(m, "ErrorMsg"));
    ASSERT_TRUE(em && strncmp(em, "gas estimate: ", 14) == 0 && strstr(em, "InsufficientFunds"));
    json_decref(m);
    json_t *fl = NULL;
    ASSERT_OK(mcall(wal_tok, "ListFailedMessage", NULL, &fl, NULL));
    bool listed = false;
    for (size_t i = 0; i < json_array_size(fl); i++)
        listed |= strcmp(json_string_value(json_object_get(json_array_get(fl, i), "ID")), bad_id) == 0;
    json_decref(fl);
    ASSERT_TRUE(listed);
    /* and by the CLI: msg list-fail --from <addr> */
    char repo[600], *out = NULL, *eout = NULL;
    snprintf(repo, sizeof(repo), "%s/messager", vc_test_tmpdir());
    const char *cargv[] = {msgr_bin, "--repo", repo, "msg", "list-fail", "--from", addrs[0], "--output-type", "json",
                           NULL};
    int rc = vc_test_run_cmd(cargv, &out, &eout);
    if (rc != 0)
        fprintf(stderr, "  list-fail: %s\n", eout ? eout : "");
    bool in_cli = rc == 0 && out && strstr(out, bad_id) && !strstr(out, addrs[1]);
    free(out);
    free(eout);
    ASSERT_TRUE(in_cli);
    /* no nonce was spent on it */
    ASSERT_EQ(addr_nonce(addrs[0]), n0 + 5);
    ASSERT_EQ(addr_nonce(addrs[1]), n1 + 5);
    ASSERT_EQ(check_nonces(addrs[0], 0), (long)(n0 + 5));
}

/* WaitMessage: returns on chain with Confidence > the requested one; an unknown id is a clear
 * error; a FailedMsg ends the wait at once. */
static void test_wait_message(void)
{
    char id[64];
    json_t *m = NULL;
    vc_rpc_err_t err = {0};
    ASSERT_OK(push_id(transfer(addrs[4], "3"), id));
    int64_t t0 = vc_now_mono_us();
    int r = mcall(wal_tok, "WaitMessage", json_pack("[s, i]", id, 3), &m, &err);
    if (r < 0)
        fprintf(stderr, "  WaitMessage: %s\n", err.message);
    ASSERT_OK(r);
    ASSERT_EQ(msg_state(m), 3);
    ASSERT_TRUE(json_integer_value(json_object_get(m, "Confidence")) > 3);
    ASSERT_TRUE(json_integer_value(json_object_get(m, "Height")) > 0);
    ASSERT_TRUE(vc_now_mono_us() - t0 < 30000000);
    json_decref(m);
    /* already there: at once */
    ASSERT_OK(mcall(wal_tok, "WaitMessage", json_pack("[s, i]", id, 0), &m, NULL));
    ASSERT_EQ(msg_state(m), 3);
    json_decref(m);
    ASSERT_TRUE(mcall(wal_tok, "WaitMessage", json_pack("[s, i]", "no-such-id", 1), NULL, &err) < 0);
    ASSERT_STREQ(err.message, "get message by id error: record not found");
    /* the stuck message of test_estimate_fail, marked bad: returned at once with State 4 */
    if (*bad_id) {
        ASSERT_OK(mcall(wal_tok, "MarkBadMessage", json_pack("[s]", bad_id), NULL, NULL));
        t0 = vc_now_mono_us();
        ASSERT_OK(mcall(wal_tok, "WaitMessage", json_pack("[s, i]", bad_id, 5), &m, NULL));
        ASSERT_EQ(msg_state(m), 4);
        ASSERT_TRUE(vc_now_mono_us() - t0 < 2000000);
        json_decref(m);
    }
}

/* A revert removing the tipset that holds landed messages: back to FillMsg, then on chain
 * again in the rebuilt chain (another TipSetKey). */
static void test_revert(void)
{
    char ids[5][64];
    char *old_tsk[5] = {0};
    for (int i = 0; i < 5; i++)
        ASSERT_OK(push_id(transfer(addrs[2], "4"), ids[i]));
    ASSERT_EQ(wait_all_onchain(ids, 5, 30000), 0u);
    ASSERT_OK(dcall("Filecoin.DevnetPause", json_pack("[b]", 1), NULL));
    int64_t low = INT64_MAX;
    for (int i = 0; i < 5; i++) {
        json_t *m = get_msg(ids[i]);
        ASSERT_TRUE(m != NULL);
        int64_t h = json_integer_value(json_object_get(m, "Height"));
        if (h < low)
            low = h;
        old_tsk[i] = json_dumps(json_object_get(m, "TipSetKey"), JSON_COMPACT);
        json_decref(m);
    }
    json_t *head = NULL;
    ASSERT_OK(dcall("Filecoin.ChainHead", json_pack("[]"), &head));
    int64_t hh = json_integer_value(json_object_get(head, "Height"));
    json_decref(head);
    int64_t depth = hh - low + 1;
    fprintf(stderr, "# head %lld, messages at %lld: DevnetRevert %lld\n", (long long)hh, (long long)low,
            (long long)depth);
    ASSERT_TRUE(depth >= 1 && depth <= 20);
    ASSERT_OK(dcall("Filecoin.DevnetRevert", json_pack("[I]", (json_int_t)depth), NULL));
    /* the rebuilt chain re-includes them at once, so the messager usually reverts and
     * re-applies them in one head change (log: reverted=5 onchain=5); FillMsg is seen only
     * if the re-inclusion is later */
    bool saw_fill = false;
    for (int t = 0; t < 1000 && !saw_fill; t += 50) {
        json_t *m = get_msg(ids[0]);
        saw_fill = m && msg_state(m) == 2;
        json_decref(m);
        if (!saw_fill)
            vc_sleep_ms(50);
    }
    ASSERT_OK(dcall("Filecoin.DevnetPause", json_pack("[b]", 0), NULL));
    fprintf(stderr, "# FillMsg observed after the revert: %s\n", saw_fill ? "yes" : "no");
    ASSERT_EQ(wait_all_onchain(ids, 5, 30000), 0u);
    int moved = 0;
    for (int i = 0; i < 5; i++) {
        json_t *m = get_msg(ids[i]);
        char *tsk = json_dumps(json_object_get(m, "TipSetKey"), JSON_COMPACT);
        moved += strcmp(tsk, old_tsk[i]) != 0;
        free(tsk);
        free(old_tsk[i]);
        json_decref(m);
    }
    /* OnChain rows are never re-applied: a new TipSetKey means the row went back to FillMsg */
    ASSERT_TRUE(saw_fill || moved == 5);
    ASSERT_EQ(moved, 5);
    ASSERT_TRUE(check_nonces(addrs[2], 0) > 0);
}

/* SIGTERM mid-stream and restart on the same repo: every id lands, one signed CID per nonce. */
static void test_restart(void)
{
    enum { N = 400 }; /* 40 per address, one per epoch (selMsgNum 1): about 8 s of stream */
    static char ids[N][64];
    uint64_t base[NADDR];
    for (int i = 0; i < NADDR; i++) {
        base[i] = addr_nonce(addrs[i]);
        ASSERT_OK(mcall(wal_tok, "SetSelectMsgNum", json_pack("[s, i]", addrs[i], 1), NULL, NULL));
    }
    for (int k = 0; k < N; k++)
        ASSERT_OK(push_id(transfer(addrs[k % NADDR], "5"), ids[k]));
    /* wait until the stream is under way (UnFill rows are taken newest first: the last push
     * is filled first) */
    int on = 0;
    for (int t = 0; t < 30000 && on == 0; t += 50) {
        json_t *m = get_msg(ids[N - 1]);
        on = m && msg_state(m) >= 2;
        json_decref(m);
        vc_sleep_ms(50);
    }
    ASSERT_TRUE(on);
    int st = vc_test_stop(msgr_pid, 15000);
    msgr_pid = 0;
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    vc_sleep_ms(1000); /* heads go by without the messager */
    ASSERT_OK(start_messager());
    int count[6] = {0};
    for (int k = 0; k < N; k++) {
        json_t *m = get_msg(ids[k]);
        int s = m ? msg_state(m) : 0;
        count[s >= 0 && s < 6 ? s : 0]++;
        json_decref(m);
    }
    fprintf(stderr, "# after the restart: UnFill %d, Fill %d, OnChain %d, other %d\n", count[1], count[2], count[3],
            count[0] + count[4] + count[5]);
    /* the stop really was mid-stream: work left for the new process, some done by the old one */
    ASSERT_TRUE(count[1] > 0);
    ASSERT_TRUE(count[2] + count[3] > 0);
    ASSERT_EQ(wait_all_onchain(ids, N, 120000), 0u);
    for (int i = 0; i < NADDR; i++) {
        long n = check_nonces(addrs[i], 0);
        ASSERT_EQ(n, (long)(base[i] + N / NADDR));
        ASSERT_EQ(addr_nonce(addrs[i]), base[i] + N / NADDR);
        ASSERT_OK(mcall(wal_tok, "SetSelectMsgNum", json_pack("[s, i]", addrs[i], 0), NULL, NULL));
    }
    /* each landed signed CID is the one the devnet executed: StateSearchMsg finds it */
    for (int k = 0; k < N; k += 17) {
        json_t *m = get_msg(ids[k]), *lk = NULL;
        ASSERT_TRUE(m != NULL);
        ASSERT_OK(dcall("Filecoin.StateSearchMsg",
                        json_pack("[[], O, i, b]", json_object_get(m, "SignedCid"), -1, 0), &lk));
        ASSERT_TRUE(json_is_object(lk));
        ASSERT_EQ(json_integer_value(json_object_get(json_object_get(lk, "Receipt"), "ExitCode")), 0);
        json_decref(lk);
        json_decref(m);
    }
}

/* A message signed with the key directly, same nonce, higher premium, replaces the messager's
 * one in the devnet mpool and lands: the messager's message becomes NonceConflictMsg. */
static void test_nonce_conflict(void)
{
    char id[64];
    json_t *m = NULL;
    ASSERT_OK(dcall("Filecoin.DevnetSetBlockTime", json_pack("[i]", 2000), NULL));
    ASSERT_OK(push_id(transfer(addrs[3], "6"), id));
    m = wait_state(id, 2, 20000);
    ASSERT_OK(dcall("Filecoin.DevnetPause", json_pack("[b]", 1), NULL));
    ASSERT_TRUE(m != NULL);
    /* the same nonce, another value, twice the premium and fee cap, signed here */
    vc_message_t msg = {0};
    ASSERT_OK(vc_message_from_json(m, &msg));
    vc_bigint_t two;
    vc_bigint_from_i64(2, &two);
    vc_bigint_from_i64(777, &msg.value);
    ASSERT_OK(vc_bigint_mul(&msg.gas_premium, &two, &msg.gas_premium));
    ASSERT_OK(vc_bigint_mul(&msg.gas_fee_cap, &two, &msg.gas_fee_cap));
    vc_cid_t cid;
    ASSERT_OK(vc_message_cid(&msg, &cid));
    uint8_t sig[VC_SECP256K1_SIG_LEN];
    ASSERT_OK(vc_secp256k1_sign(keys[3], cid.bytes, cid.len, sig));
    vc_signed_message_t sm = {.message = msg};
    ASSERT_OK(vc_signature_set(&sm.signature, VC_SIG_SECP256K1, sig, sizeof(sig)));
    json_t *smj = NULL, *res = NULL;
    ASSERT_OK(vc_signed_message_to_json(&sm, 'f', false, &smj));
    vc_message_done(&msg);
    int r = dcall("Filecoin.MpoolPush", json_pack("[o]", smj), &res);
    json_decref(res);
    ASSERT_OK(dcall("Filecoin.DevnetSetBlockTime", json_pack("[i]", 200), NULL));
    ASSERT_OK(dcall("Filecoin.DevnetPause", json_pack("[b]", 0), NULL));
    ASSERT_OK(r);
    json_t *c = wait_state(id, 5, 30000);
    ASSERT_TRUE(c != NULL);
    dump_msg("nonce conflict", c);
    ASSERT_EQ(json_integer_value(json_object_get(c, "Nonce")), json_integer_value(json_object_get(m, "Nonce")));
    ASSERT_TRUE(json_integer_value(json_object_get(c, "Height")) > 0);
    json_decref(c);
    json_decref(m);
    /* the address goes on: the next push lands with the next nonce */
    char id2[64];
    ASSERT_OK(push_id(transfer(addrs[3], "7"), id2));
    ASSERT_TRUE((c = wait_state(id2, 3, 30000)) != NULL);
    json_decref(c);
}

static int64_t head_height(void)
{
    json_t *h = NULL;
    if (dcall("Filecoin.ChainHead", json_pack("[]"), &h) < 0)
        return -1;
    int64_t v = json_integer_value(json_object_get(h, "Height"));
    json_decref(h);
    return v;
}

/* Pushes to the devnet a transfer from addrs[k] with nonce, signed here with the key. */
static int push_external(int k, uint64_t nonce, const char *value)
{
    vc_message_t msg = {0};
    json_t *mj = json_pack("{s:i, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:i, s:n}", "Version", 0, "To", bob, "From",
                           addrs[k], "Nonce", (json_int_t)nonce, "Value", value, "GasLimit", (json_int_t)2000000,
                           "GasFeeCap", "3000000", "GasPremium", "1000000", "Method", 0, "Params");
    int r = vc_message_from_json(mj, &msg);
    json_decref(mj);
    if (r < 0)
        return r;
    vc_cid_t cid;
    uint8_t sig[VC_SECP256K1_SIG_LEN];
    vc_signed_message_t sm = {.message = msg};
    json_t *smj = NULL;
    if ((r = vc_message_cid(&msg, &cid)) < 0 || (r = vc_secp256k1_sign(keys[k], cid.bytes, cid.len, sig)) < 0 ||
        (r = vc_signature_set(&sm.signature, VC_SIG_SECP256K1, sig, sizeof(sig))) < 0 ||
        (r = vc_signed_message_to_json(&sm, 'f', false, &smj)) < 0) {
        vc_message_done(&msg);
        return r;
    }
    vc_message_done(&msg);
    return dcall("Filecoin.MpoolPush", json_pack("[o]", smj), NULL);
}

/* The message signed elsewhere is in the devnet mpool first (right after a head, so not in
 * that head's tipset): the messager fills the same nonce in that head's round, its push is
 * refused (replace by fee too low), the other lands: NonceConflictMsg; WaitMessage returns it. */
static void test_nonce_conflict_external_first(void)
{
    ASSERT_OK(dcall("Filecoin.DevnetSetBlockTime", json_pack("[i]", 1500), NULL));
    bool conflict = false;
    for (int attempt = 0; attempt < 5 && !conflict; attempt++) {
        char id[64];
        uint64_t n = addr_nonce(addrs[5]);
        int64_t h0 = head_height();
        while (head_height() == h0)
            vc_sleep_ms(5);
        ASSERT_OK(push_external(5, n, "888"));
        ASSERT_OK(push_id(transfer(addrs[5], "9"), id));
        json_t *m = NULL;
        for (int t = 0; t < 20000; t += 50) {
            json_decref(m);
            m = get_msg(id);
            int st = m ? msg_state(m) : 0;
            if (st == 3 || st == 5)
                break;
            vc_sleep_ms(50);
        }
        dump_msg("external first", m);
        ASSERT_TRUE(m != NULL);
        if (msg_state(m) == 3) {
            /* Also right, but not the case under test; try again. Either the round ran before
             * the external push reached the mpool (the messager took nonce n+1), or the
             * messager's push outbid the external copy by fee (nonce n, its own on chain). The
             * external copy's premium is set high (10x the estimate) to make the latter rare. */
            json_int_t got = json_integer_value(json_object_get(m, "Nonce"));
            ASSERT_TRUE(got == (json_int_t)n + 1 || got == (json_int_t)n);
            json_decref(m);
            continue;
        }
        ASSERT_EQ(msg_state(m), 5);
        ASSERT_EQ(json_integer_value(json_object_get(m, "Nonce")), (json_int_t)n);
        json_decref(m);
        conflict = true;
        ASSERT_OK(mcall(wal_tok, "WaitMessage", json_pack("[s, i]", id, 0), &m, NULL));
        ASSERT_EQ(msg_state(m), 5);
        json_decref(m);
        /* and the address goes on with nonce n+1 */
        char id2[64];
        ASSERT_OK(push_id(transfer(addrs[5], "10"), id2));
        ASSERT_TRUE((m = wait_state(id2, 3, 30000)) != NULL);
        ASSERT_EQ(json_integer_value(json_object_get(m, "Nonce")), (json_int_t)n + 1);
        json_decref(m);
    }
    ASSERT_OK(dcall("Filecoin.DevnetSetBlockTime", json_pack("[i]", 200), NULL));
    ASSERT_TRUE(conflict);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    signal(SIGPIPE, SIG_IGN);
    if (msgr_stack_bins() < 0)
        return 2;
    if (vc_test_has_flag("--pg") && !(pg_dsn = vc_test_db_fresh_dsn(true)))
        die("no PostgreSQL server (the pg fixture)");
    make_keys(NADDR);
    start_auth();
    start_gateway();
    start_wallet();
    start_devnet();
    if (!(px_gw = vc_test_proxy_start(gw_url)))
        die("cannot start the gateway proxy");
    char px_url[64];
    snprintf(px_url, sizeof(px_url), "http://127.0.0.1:%u", vc_test_proxy_port(px_gw));
    daemon_gw_url = px_url;
    if (start_messager() < 0)
        die("venus-messager did not start");
    VC_TEST_RUN(test_bulk_1000);
    VC_TEST_RUN(test_estimate_fail);
    VC_TEST_RUN(test_wait_message);
    VC_TEST_RUN(test_revert);
    VC_TEST_RUN(test_restart);
    VC_TEST_RUN(test_nonce_conflict);
    VC_TEST_RUN(test_nonce_conflict_external_first);
    msgr_stack_stop_all();
    vc_test_proxy_free(px_gw);
    return VC_TEST_DONE();
}
