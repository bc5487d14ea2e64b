/*
 * venus-devnet end to end: starts the real `venus-devnet` binary (self mining, 200 ms blocks),
 * drives it over JSON-RPC (HTTP and WebSocket) with real signed messages, and then plays an
 * external miner against a second node (`--mine external`).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/blake2b.h"
#include "vc/blockheader.h"
#include "vc/cbor.h"
#include "vc/cid.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/election.h"
#include "vc/message.h"
#include "vc/util.h"
#include "vc/ws.h"

typedef struct key {
    uint8_t priv[32];
    vc_address_t addr;
    char str[VC_ADDRESS_STRLEN_MAX];
    char file[512];
} test_key_t;

typedef struct node {
    char repo[512];
    char url[128];
    char *token;
    pid_t pid;
} node_t;

static const char *bin;
static test_key_t alice, bob, poor, worker;
static node_t self_node;

/* ------------------------------------------------------------------ helpers */

static void make_key(test_key_t *k, const char *hex, const char *name)
{
    vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
    if (hex)
        vc_hex_decode(hex, 64, ki.key);
    else
        vc_secp256k1_generate(ki.key);
    memcpy(k->priv, ki.key, 32);
    vc_secp256k1_address(k->priv, &k->addr);
    vc_address_to_string(&k->addr, 't', k->str);
    char *exp = NULL;
    vc_key_info_export(&ki, &exp);
    snprintf(k->file, sizeof(k->file), "%s/%s.key", vc_test_tmpdir(), name);
    vc_write_file_atomic(k->file, exp, strlen(exp), 0600);
    free(exp);
}

static char *read_trim(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (vc_read_file(path, 65536, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
        d[--n] = 0;
    return d;
}

static int init_node(node_t *nd, const char *name)
{
    char genesis[600], text[4096];
    snprintf(nd->repo, sizeof(nd->repo), "%s/%s", vc_test_tmpdir(), name);
    snprintf(genesis, sizeof(genesis), "%s/%s-genesis.toml", vc_test_tmpdir(), name);
    snprintf(text, sizeof(text),
             "NetworkName = \"devnet\"\nBlockTime = \"200ms\"\nPropagationDelay = \"20ms\"\n\n"
             "[[Accounts]]\nKeyFile = \"%s\"\nBalance = \"1000000000000000000000\"\n\n"
             "[[Accounts]]\nAddress = \"%s\"\nBalance = \"5000000000000000000\"\n\n"
             "[[Accounts]]\nKeyFile = \"%s\"\nBalance = \"1000000000000000000\"\n\n"
             "[[Miners]]\nID = 1000\nOwner = \"%s\"\nWorker = \"%s\"\nPower = \"10995116277760\"\n"
             "Sectors = 2\nSectorSize = 2048\n",
             alice.file, bob.str, worker.file, worker.str, worker.str);
    vc_write_file_atomic(genesis, text, strlen(text), 0644);
    const char *init[] = {bin, "--repo", nd->repo, "init", "--genesis", genesis, NULL};
    char *out = NULL, *err = NULL;
    int rc = vc_test_run_cmd(init, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "init failed (%d): %s %s\n", rc, out, err);
        free(out);
        free(err);
        return -1;
    }
    free(out);
    free(err);
    return 0;
}

static int run_node(node_t *nd, const char *name, const char *mine)
{
    char log[600], api[600], tok[600];
    snprintf(log, sizeof(log), "%s/%s.log", vc_test_tmpdir(), name);
    snprintf(api, sizeof(api), "%s/api", nd->repo);
    snprintf(tok, sizeof(tok), "%s/token", nd->repo);
    unlink(api);
    const char *argv[] = {bin, "--repo", nd->repo, "run", "--listen", "127.0.0.1:0", "--mine", mine, NULL};
    nd->pid = vc_test_spawn(argv, log);
    if (nd->pid <= 0 || !vc_test_wait_file(api, 20000)) {
        fprintf(stderr, "venus-devnet did not start, see %s\n", log);
        return -1;
    }
    char *bound = read_trim(api);
    snprintf(nd->url, sizeof(nd->url), "http://%s/rpc/v1", bound);
    free(bound);
    free(nd->token);
    nd->token = read_trim(tok);
    return 0;
}

/* One JSON-RPC call; params stolen. Returns 0, or VC_EREMOTE with *ret_err (code, message) set. */
static int rpc_err(node_t *nd, const char *method, json_t *params, json_t **ret, vc_rpc_err_t *ret_err)
{
    const char *eps[] = {nd->url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = nd->token, .retries = -1,
                          .timeout_ms = 30000};
    vc_client_t *c;
    vc_rpc_err_t err = {0};
    json_t *res = NULL;
    if (vc_client_new(&o, &c) < 0) {
        json_decref(params);
        return -ENOMEM;
    }
    int r = vc_client_call(c, method, params, &res, &err);
    vc_client_free(c);
    if (ret_err)
        *ret_err = err;
    if (r == 0 && ret)
        *ret = res;
    else
        json_decref(res);
    return r;
}

/* rpc_err with only the error message. */
static int rpc(node_t *nd, const char *method, json_t *params, json_t **ret, char *msg, size_t msglen)
{
    vc_rpc_err_t err = {0};
    int r = rpc_err(nd, method, params, ret, &err);
    if (msg)
        snprintf(msg, msglen, "%s", err.message);
    return r;
}

static int64_t head_height(node_t *nd)
{
    json_t *h = NULL;
    if (rpc(nd, "Filecoin.ChainHead", NULL, &h, NULL, 0) < 0)
        return -1;
    int64_t v = json_integer_value(json_object_get(h, "Height"));
    json_decref(h);
    return v;
}

static bool wait_height(node_t *nd, int64_t h, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        if (head_height(nd) >= h)
            return true;
        vc_sleep_ms(50);
    }
    return false;
}

/* Builds, estimates gas for, and signs a transfer. */
static int make_transfer(node_t *nd, test_key_t *from, const char *to, const char *value, uint64_t nonce,
                         const char *premium_override, vc_signed_message_t *ret)
{
    vc_message_t m = {0};
    json_t *mj = NULL, *est = NULL;
    m.from = from->addr;
    if (vc_address_from_string(to, &m.to) < 0 || vc_bigint_from_string(value, &m.value) < 0)
        return -EINVAL;
    m.nonce = nonce;
    int r = vc_message_to_json(&m, 't', false, &mj);
    if (r < 0)
        return r;
    r = rpc(nd, "Filecoin.GasEstimateMessageGas", json_pack("[o, n, []]", mj), &est, NULL, 0);
    if (r < 0)
        return r;
    vc_message_t full = {0};
    r = vc_message_from_json(est, &full);
    json_decref(est);
    if (r < 0)
        return r;
    if (premium_override) {
        vc_bigint_from_string(premium_override, &full.gas_premium);
        if (vc_bigint_cmp(&full.gas_fee_cap, &full.gas_premium) < 0)
            full.gas_fee_cap = full.gas_premium;
    }
    vc_signature_t sig = {0};
    r = vc_message_sign_secp256k1(&full, from->priv, &sig);
    if (r < 0) {
        vc_message_done(&full);
        return r;
    }
    ret->message = full;
    ret->signature = sig;
    return 0;
}

/* A transfer with fixed gas values and no estimation (estimation refuses what it cannot pay). */
static int make_raw_transfer(test_key_t *from, const char *to, const char *value, uint64_t nonce,
                             vc_signed_message_t *ret)
{
    vc_message_t m = {0};
    m.from = from->addr;
    if (vc_address_from_string(to, &m.to) < 0 || vc_bigint_from_string(value, &m.value) < 0)
        return -EINVAL;
    m.nonce = nonce;
    m.gas_limit = 1250000;
    vc_bigint_from_i64(1000000000, &m.gas_fee_cap);
    vc_bigint_from_i64(100000, &m.gas_premium);
    int r = vc_message_sign_secp256k1(&m, from->priv, &ret->signature);
    if (r == 0)
        ret->message = m;
    return r;
}

static int push(node_t *nd, const char *method, vc_signed_message_t *sm, bool batch, json_t **ret_cid, char *msg)
{
    json_t *j = NULL;
    int r = vc_signed_message_to_json(sm, 't', false, &j);
    if (r < 0)
        return r;
    return rpc(nd, method, batch ? json_pack("[[o]]", j) : json_pack("[o]", j), ret_cid, msg, 512);
}

/* ------------------------------------------------------------------ tests: self-mining node */

static void test_basics(void)
{
    json_t *v = NULL;
    ASSERT_OK(rpc(&self_node, "Filecoin.Version", NULL, &v, NULL, 0));
    ASSERT_EQ(json_integer_value(json_object_get(v, "APIVersion")), 131840);
    json_decref(v);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateNetworkName", NULL, &v, NULL, 0));
    ASSERT_STREQ(json_string_value(v), "devnet");
    json_decref(v);
    ASSERT_TRUE(wait_height(&self_node, 2, 10000));
    ASSERT_OK(rpc(&self_node, "Filecoin.ChainHead", NULL, &v, NULL, 0));
    ASSERT_TRUE(json_is_array(json_object_get(v, "Cids")));
    ASSERT_TRUE(json_array_size(json_object_get(v, "Blocks")) >= 1);
    json_t *blk = json_array_get(json_object_get(v, "Blocks"), 0);
    ASSERT_TRUE(json_is_string(json_object_get(blk, "ParentBaseFee")));
    ASSERT_TRUE(json_is_object(json_object_get(blk, "Messages")));
    /* the block CID the node reports is the CID of the header it returns */
    json_t *cid0 = json_array_get(json_object_get(v, "Cids"), 0);
    json_t *got = NULL;
    ASSERT_OK(rpc(&self_node, "Filecoin.ChainGetBlock", json_pack("[O]", cid0), &got, NULL, 0));
    ASSERT_TRUE(json_equal(got, blk));
    json_decref(got);
    json_decref(v);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateGetNetworkParams", NULL, &v, NULL, 0));
    ASSERT_STREQ(json_string_value(json_object_get(v, "NetworkName")), "devnet");
    json_decref(v);
    ASSERT_OK(rpc(&self_node, "Filecoin.SyncState", NULL, &v, NULL, 0));
    ASSERT_TRUE(json_array_size(json_object_get(v, "ActiveSyncs")) >= 1);
    json_decref(v);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateGetBeaconEntry", json_pack("[i]", 1), &v, NULL, 0));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Round")), 1);
    json_decref(v);
    char msg[512];
    ASSERT_EQ(rpc(&self_node, "Filecoin.NoSuchMethod", NULL, NULL, msg, sizeof(msg)), VC_EREMOTE);
    ASSERT_EQ(rpc(&self_node, "Filecoin.StateGetActor", json_pack("[s, []]", "t0xyz"), NULL, msg, sizeof(msg)),
              VC_EREMOTE);
}

static void test_transfer_included(void)
{
    vc_signed_message_t sm = {0};
    json_t *cid = NULL, *lookup = NULL, *v = NULL;
    char msg[512];
    ASSERT_OK(rpc(&self_node, "Filecoin.MpoolGetNonce", json_pack("[s]", alice.str), &v, NULL, 0));
    uint64_t nonce = (uint64_t)json_integer_value(v);
    json_decref(v);
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "1000000000000000000", nonce, NULL, &sm));
    ASSERT_OK(push(&self_node, "Filecoin.MpoolPush", &sm, false, &cid, msg));
    ASSERT_OK(rpc(&self_node, "Filecoin.StateWaitMsg", json_pack("[O, i, i, b]", cid, 1, -1, 1), &lookup, msg,
                  sizeof(msg)));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(lookup, "Receipt"), "ExitCode")), 0);
    ASSERT_TRUE(json_integer_value(json_object_get(json_object_get(lookup, "Receipt"), "GasUsed")) > 0);
    ASSERT_TRUE(json_equal(json_object_get(lookup, "Message"), cid));
    json_decref(lookup);
    ASSERT_OK(rpc(&self_node, "Filecoin.WalletBalance", json_pack("[s]", bob.str), &v, NULL, 0));
    ASSERT_STREQ(json_string_value(v), "6000000000000000000");
    json_decref(v);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateGetActor", json_pack("[s, []]", alice.str), &v, NULL, 0));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Nonce")), nonce + 1);
    json_decref(v);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateSearchMsg", json_pack("[[], O, i, b]", cid, -1, 1), &v, NULL, 0));
    ASSERT_FALSE(json_is_null(v));
    json_decref(v);

    /* the same nonce again: too low now */
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg), VC_EREMOTE);
    ASSERT_TRUE(strstr(msg, "nonce") != NULL);
    json_decref(cid);
    vc_signed_message_done(&sm);
}

static void test_push_rules(void)
{
    vc_signed_message_t sm = {0};
    char msg[512];
    json_t *v = NULL;
    ASSERT_OK(rpc(&self_node, "Filecoin.DevnetPause", json_pack("[b]", 1), NULL, msg, sizeof(msg)));
    ASSERT_OK(rpc(&self_node, "Filecoin.MpoolGetNonce", json_pack("[s]", alice.str), &v, NULL, 0));
    uint64_t nonce = (uint64_t)json_integer_value(v);
    json_decref(v);

    /* untrusted: no gap at all; trusted: a small gap is accepted */
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "1", nonce + 2, NULL, &sm));
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolBatchPushUntrusted", &sm, true, NULL, msg), VC_EREMOTE);
    ASSERT_OK(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg));
    vc_signed_message_done(&sm);
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "1", nonce + 10, NULL, &sm));
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg), VC_EREMOTE); /* gap > 4 */
    vc_signed_message_done(&sm);

    /* replace by fee: +20% refused, +30% accepted */
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "1", nonce, "1000000", &sm));
    ASSERT_OK(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg));
    vc_signed_message_done(&sm);
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "2", nonce, "1200000", &sm));
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg), VC_EREMOTE);
    vc_signed_message_done(&sm);
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "3", nonce, "1300000", &sm));
    ASSERT_OK(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg));
    vc_signed_message_done(&sm);
    ASSERT_OK(rpc(&self_node, "Filecoin.MpoolPending", json_pack("[[]]"), &v, NULL, 0));
    size_t i, with_nonce = 0;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        json_t *m = json_object_get(e, "Message");
        if (vc_streq(json_string_value(json_object_get(m, "From")), alice.str) &&
            (uint64_t)json_integer_value(json_object_get(m, "Nonce")) == nonce) {
            with_nonce++;
            ASSERT_STREQ(json_string_value(json_object_get(m, "Value")), "3");
        }
    }
    ASSERT_EQ(with_nonce, 1);
    json_decref(v);

    /* insufficient funds and a bad signature: refused, nothing pending added */
    test_key_t nobody;
    make_key(&nobody, NULL, "nobody");
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "1", nonce + 1, NULL, &sm));
    sm.message.from = nobody.addr;
    vc_signature_t sig = {0};
    vc_message_sign_secp256k1(&sm.message, nobody.priv, &sig);
    sm.signature = sig;
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg), VC_EREMOTE);
    vc_signed_message_done(&sm);
    ASSERT_OK(make_transfer(&self_node, &alice, bob.str, "1", nonce + 1, NULL, &sm));
    sm.signature.data[5] ^= 0x40;
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg), VC_EREMOTE);
    vc_signed_message_done(&sm);
    ASSERT_OK(make_raw_transfer(&poor, bob.str, "900000000000000000000", 0, &sm));
    ASSERT_EQ(push(&self_node, "Filecoin.MpoolPush", &sm, false, NULL, msg), VC_EREMOTE);
    vc_signed_message_done(&sm);
    /* malformed JSON message */
    ASSERT_EQ(rpc(&self_node, "Filecoin.MpoolPush", json_pack("[{s:i}]", "Message", 5), NULL, msg, sizeof(msg)),
              VC_EREMOTE);

    ASSERT_OK(rpc(&self_node, "Filecoin.DevnetPause", json_pack("[b]", 0), NULL, msg, sizeof(msg)));
    /* the gap message (nonce+2) waits for nonce+1; the replaced one is mined */
    int64_t h = head_height(&self_node);
    ASSERT_TRUE(wait_height(&self_node, h + 3, 10000));
    ASSERT_OK(rpc(&self_node, "Filecoin.StateGetActor", json_pack("[s, []]", alice.str), &v, NULL, 0));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Nonce")), nonce + 1);
    json_decref(v);
}

/* A bitfield in go-bitfield's JSON (run lengths) equals the expected text, e.g. "[0,2]". */
static bool bitfield_is(json_t *bf, const char *expect)
{
    json_t *e = json_loads(expect, 0, NULL);
    bool same = e && json_equal(bf, e);
    json_decref(e);
    return same;
}

/* StateMinerDeadlines, StateMinerPartitions and StateSectorGetInfo as sophon-miner's warmup
 * uses them (spec A.3.7), against genesis miner t01000 (2 sectors of 2 KiB). */
static void test_warmup_reads(void)
{
    json_t *dls = NULL, *parts = NULL, *info = NULL, *head = NULL, *mbi = NULL, *v = NULL, *e;
    vc_rpc_err_t err;
    size_t i;

    /* the warmup walk: deadlines, their partitions, the first active sector, its info */
    ASSERT_OK(rpc(&self_node, "Filecoin.ChainHead", NULL, &head, NULL, 0));
    json_t *tsk = json_object_get(head, "Cids");
    ASSERT_OK(rpc_err(&self_node, "Filecoin.StateMinerDeadlines", json_pack("[s, O]", "t01000", tsk), &dls, &err));
    ASSERT_EQ(json_array_size(dls), 48);
    json_array_foreach(dls, i, e)
    {
        ASSERT_TRUE(bitfield_is(json_object_get(e, "PostSubmissions"), "[0]"));
        ASSERT_TRUE(json_is_integer(json_object_get(e, "DisputableProofCount")));
        ASSERT_EQ(json_integer_value(json_object_get(e, "DisputableProofCount")), 0);
    }
    int64_t first_active = -1;
    for (size_t dl = 0; dl < json_array_size(dls); dl++) {
        ASSERT_OK(rpc_err(&self_node, "Filecoin.StateMinerPartitions", json_pack("[s, I, O]", "t01000",
                                                                                  (json_int_t)dl, tsk),
                          &parts, &err));
        if (dl == 0) {
            ASSERT_EQ(json_array_size(parts), 1);
            json_t *p = json_array_get(parts, 0);
            ASSERT_TRUE(bitfield_is(json_object_get(p, "AllSectors"), "[0,2]"));
            ASSERT_TRUE(bitfield_is(json_object_get(p, "FaultySectors"), "[0]"));
            ASSERT_TRUE(bitfield_is(json_object_get(p, "RecoveringSectors"), "[0]"));
            ASSERT_TRUE(bitfield_is(json_object_get(p, "LiveSectors"), "[0,2]"));
            ASSERT_TRUE(bitfield_is(json_object_get(p, "ActiveSectors"), "[0,2]"));
            /* [0,2]: no unset bits first, then two set bits: sector 0 is the first active one */
            first_active = json_integer_value(json_array_get(json_object_get(p, "ActiveSectors"), 0));
        } else {
            ASSERT_TRUE(json_is_null(parts)); /* no partitions, as Lotus's nil slice */
        }
        json_decref(parts);
        parts = NULL;
    }
    ASSERT_EQ(first_active, 0);
    json_decref(dls);

    /* the sector's info agrees with what MinerGetBaseInfo says about it */
    int64_t h = json_integer_value(json_object_get(head, "Height"));
    ASSERT_OK(rpc(&self_node, "Filecoin.MinerGetBaseInfo", json_pack("[s, I, O]", "t01000", (json_int_t)(h + 1), tsk),
                  &mbi, NULL, 0));
    json_t *bsec = json_array_get(json_object_get(mbi, "Sectors"), 0);
    ASSERT_OK(rpc_err(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, I, O]", "t01000",
                                                                            (json_int_t)first_active, tsk),
                      &info, &err));
    ASSERT_TRUE(json_is_object(info));
    ASSERT_EQ(json_integer_value(json_object_get(info, "SectorNumber")), 0);
    ASSERT_EQ(json_integer_value(json_object_get(info, "SealProof")), 5); /* 2 KiB V1_1 */
    ASSERT_TRUE(json_equal(json_object_get(info, "SealProof"), json_object_get(bsec, "SealProof")));
    ASSERT_TRUE(json_is_object(json_object_get(info, "SealedCID")));
    ASSERT_TRUE(json_equal(json_object_get(info, "SealedCID"), json_object_get(bsec, "SealedCID")));
    ASSERT_EQ(json_integer_value(json_object_get(info, "Activation")), 0);
    ASSERT_TRUE(json_integer_value(json_object_get(info, "Expiration")) > h);
    const char *zeros[] = {"DealWeight", "VerifiedDealWeight", "InitialPledge", "ExpectedDayReward",
                           "ExpectedStoragePledge"};
    for (i = 0; i < VC_ELEMENTSOF(zeros); i++)
        ASSERT_STREQ(json_string_value(json_object_get(info, zeros[i])), "0");
    json_t *sealed0 = json_incref(json_object_get(info, "SealedCID"));
    json_decref(info);
    json_decref(mbi);

    /* the other sector, with the head as null and as []; then one past the last: null */
    ASSERT_OK(rpc(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, i, n]", "t01000", 1), &info, NULL, 0));
    ASSERT_EQ(json_integer_value(json_object_get(info, "SectorNumber")), 1);
    ASSERT_FALSE(json_equal(json_object_get(info, "SealedCID"), sealed0));
    json_decref(info);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, i, []]", "t01000", 2), &info, NULL, 0));
    ASSERT_TRUE(json_is_null(info));
    json_decref(info);
    ASSERT_OK(rpc(&self_node, "Filecoin.StateMinerDeadlines", json_pack("[s, n]", "t01000"), &v, NULL, 0));
    ASSERT_EQ(json_array_size(v), 48);
    json_decref(v);

    /* an unknown miner: an application error naming the missing actor, for all three */
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateMinerDeadlines", json_pack("[s, []]", "t01001"), NULL, &err),
              VC_EREMOTE);
    ASSERT_EQ(err.code, 1);
    ASSERT_TRUE(strstr(err.message, "actor not found") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateMinerPartitions", json_pack("[s, i, []]", "t01001", 0), NULL, &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "actor not found") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, i, []]", "t01001", 0), NULL, &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "actor not found") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, i, []]", bob.str, 0), NULL, &err),
              VC_EREMOTE); /* an account is no miner */
    ASSERT_TRUE(strstr(err.message, "actor not found") != NULL);

    /* a deadline index outside 0..47: invalid params */
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateMinerPartitions", json_pack("[s, i, []]", "t01000", 48), NULL, &err),
              VC_EREMOTE);
    ASSERT_EQ(err.code, -32602);
    ASSERT_TRUE(strstr(err.message, "deadline index 48") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateMinerPartitions", json_pack("[s, i, []]", "t01000", -1), NULL, &err),
              VC_EREMOTE);
    ASSERT_EQ(err.code, -32602);
    ASSERT_TRUE(strstr(err.message, "deadline index -1") != NULL);

    /* a tipset key the node does not know (a CID of no block), a negative sector number */
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateMinerDeadlines", json_pack("[s, [O]]", "t01000", sealed0), NULL,
                      &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "tipset not found") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateMinerPartitions", json_pack("[s, i, [O]]", "t01000", 0, sealed0),
                      NULL, &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "tipset not found") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, i, [O]]", "t01000", 0, sealed0), NULL,
                      &err),
              VC_EREMOTE);
    ASSERT_TRUE(strstr(err.message, "tipset not found") != NULL);
    ASSERT_EQ(rpc_err(&self_node, "Filecoin.StateSectorGetInfo", json_pack("[s, i, []]", "t01000", -1), NULL, &err),
              VC_EREMOTE);
    json_decref(sealed0);
    json_decref(head);
}

/* ChainNotify over WebSocket: current, applies, then a revert batch. */
typedef struct notes {
    pthread_mutex_t lock;
    int batches, currents, applies, reverts;
    bool revert_before_apply_ok;
} notes_t;

static void on_head(json_t *v, void *ud)
{
    notes_t *n = ud;
    size_t i;
    json_t *e;
    bool seen_apply = false;
    pthread_mutex_lock(&n->lock);
    n->batches++;
    json_array_foreach(v, i, e)
    {
        const char *t = json_string_value(json_object_get(e, "Type"));
        if (vc_streq(t, "current"))
            n->currents++;
        else if (vc_streq(t, "apply")) {
            n->applies++;
            seen_apply = true;
        } else if (vc_streq(t, "revert")) {
            n->reverts++;
            if (seen_apply)
                n->revert_before_apply_ok = false;
        }
    }
    pthread_mutex_unlock(&n->lock);
}

static void test_chain_notify_and_revert(void)
{
    const char *eps[] = {self_node.url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = self_node.token};
    vc_client_t *c;
    vc_rpc_conn_t *conn;
    vc_rpc_sub_t *sub;
    vc_rpc_err_t err;
    notes_t n = {.lock = PTHREAD_MUTEX_INITIALIZER, .revert_before_apply_ok = true};
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_ws_connect(c, NULL, &conn));
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Filecoin.ChainNotify", NULL, 5000, on_head, NULL, &n, &sub, &err));
    int64_t h = head_height(&self_node);
    ASSERT_TRUE(wait_height(&self_node, h + 2, 10000));
    vc_sleep_ms(100);
    pthread_mutex_lock(&n.lock);
    ASSERT_EQ(n.currents, 1);
    ASSERT_TRUE(n.applies >= 2);
    int applies_before = n.applies;
    pthread_mutex_unlock(&n.lock);

    json_t *head = NULL;
    char msg[512];
    ASSERT_OK(rpc(&self_node, "Filecoin.DevnetRevert", json_pack("[i]", 2), &head, msg, sizeof(msg)));
    json_decref(head);
    vc_sleep_ms(300);
    pthread_mutex_lock(&n.lock);
    ASSERT_TRUE(n.reverts >= 2);
    ASSERT_TRUE(n.applies >= applies_before + 2);
    ASSERT_TRUE(n.revert_before_apply_ok);
    pthread_mutex_unlock(&n.lock);

    vc_rpc_sub_free(sub);
    vc_rpc_conn_close(conn);
    vc_rpc_conn_unref(conn);
    vc_client_free(c);
}

/* ChainNotify clients that go away at once: while the method still sets the channel up, right
 * after, or during a head change (200 ms blocks). The devnet must neither crash (under ASan a
 * use after free aborts it) nor stop answering. */
typedef struct leaver {
    atomic_int conns;
    int64_t until_us;
} leaver_t;

static void *leave_loop(void *arg)
{
    leaver_t *l = arg;
    char auth[1200];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", self_node.token);
    const char *hdrs[] = {auth, NULL};
    char url[300];
    snprintf(url, sizeof(url), "ws%s", self_node.url + 4); /* http://... -> ws://... */
    for (unsigned i = 0; vc_now_mono_us() < l->until_us; i++) {
        vc_ws_t *ws = NULL;
        if (vc_ws_connect(url, hdrs, 5000, NULL, &ws, NULL) < 0)
            continue;
        for (unsigned k = 0; k <= i % 3; k++) {
            char req[128];
            int n = snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"Filecoin.ChainNotify\","
                                               "\"params\":[]}", k + 1);
            vc_ws_send(ws, VC_WS_OP_TEXT, req, (size_t)n);
        }
        if (i % 4 == 1) {
            const char *cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.cancel\",\"params\":[1]}";
            vc_ws_send(ws, VC_WS_OP_TEXT, cancel, strlen(cancel));
        }
        if (i % 5 == 2)
            vc_sleep_ms(1 + i % 7); /* sometimes after the answer, across a head change */
        vc_ws_shutdown(ws);
        vc_ws_free(ws);
        atomic_fetch_add(&l->conns, 1);
    }
    return NULL;
}

static void test_chain_notify_clients_leave(void)
{
    leaver_t l = {.until_us = vc_now_mono_us() + 3000000};
    pthread_t th[4];
    atomic_init(&l.conns, 0);
    int64_t h0 = head_height(&self_node);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, leave_loop, &l), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "# %d ChainNotify clients left early\n", atomic_load(&l.conns));
    ASSERT_TRUE(atomic_load(&l.conns) >= 100);
    ASSERT_TRUE(vc_test_alive(self_node.pid));
    ASSERT_TRUE(head_height(&self_node) > h0); /* still mining and answering */
}

static void test_restart_persists(void)
{
    json_t *v = NULL;
    int64_t h = head_height(&self_node);
    ASSERT_OK(rpc(&self_node, "Filecoin.WalletBalance", json_pack("[s]", bob.str), &v, NULL, 0));
    char *bal = strdup(json_string_value(v));
    json_decref(v);
    int st = vc_test_stop(self_node.pid, 10000);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ASSERT_OK(run_node(&self_node, "self", "self"));
    ASSERT_TRUE(head_height(&self_node) >= h);
    ASSERT_OK(rpc(&self_node, "Filecoin.WalletBalance", json_pack("[s]", bob.str), &v, NULL, 0));
    ASSERT_STREQ(json_string_value(v), bal);
    json_decref(v);
    free(bal);
}

/* ------------------------------------------------------------------ external mining */

/* DrawRandomness of spec A.3.2: blake2b-256(int64_BE(pers) || blake2b-256(rbase) ||
 * int64_BE(round) || entropy). */
static void draw_randomness(const uint8_t *rbase, size_t rlen, int64_t pers, int64_t round, const uint8_t *entropy,
                            size_t elen, uint8_t out[32])
{
    vc_buf_t b = {0};
    uint8_t be[8], h[32];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)((uint64_t)pers >> (56 - 8 * i));
    vc_buf_append(&b, be, 8);
    vc_blake2b(rbase, rlen, h, 32);
    vc_buf_append(&b, h, 32);
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)((uint64_t)round >> (56 - 8 * i));
    vc_buf_append(&b, be, 8);
    vc_buf_append(&b, entropy, elen);
    vc_blake2b(b.data, b.len, out, 32);
    vc_buf_done(&b);
}

static void test_external_mining(void)
{
    node_t ext = {0};
    char msg[1024];
    ASSERT_OK(init_node(&ext, "ext"));
    ASSERT_OK(run_node(&ext, "ext", "external"));
    /* the node makes block 1 itself: miners start from a head above genesis */
    ASSERT_TRUE(wait_height(&ext, 1, 10000));
    json_t *head = NULL, *mbi = NULL;
    ASSERT_OK(rpc(&ext, "Filecoin.ChainHead", NULL, &head, NULL, 0));
    int64_t base_h = json_integer_value(json_object_get(head, "Height"));
    char maddr[] = "t01000";
    int mined = 0;
    int64_t last_round = 0;
    /* a real miner counts null rounds: when not elected for round r it tries r+1 (blocks for a
     * future epoch wait in the node until that epoch closes) */
    for (int attempt = 0; attempt < 40 && mined < 3; attempt++) {
        json_decref(head);
        head = NULL;
        ASSERT_OK(rpc(&ext, "Filecoin.ChainHead", NULL, &head, NULL, 0));
        int64_t round = json_integer_value(json_object_get(head, "Height")) + 1;
        if (round <= last_round)
            round = last_round + 1;
        last_round = round;
        json_t *tsk = json_object_get(head, "Cids");
        ASSERT_OK(rpc(&ext, "Filecoin.MinerGetBaseInfo", json_pack("[s, I, O]", maddr, (json_int_t)round, tsk), &mbi,
                      msg, sizeof(msg)));
        ASSERT_FALSE(json_is_null(mbi));
        ASSERT_TRUE(json_is_true(json_object_get(mbi, "EligibleForMining")));
        vc_bigint_t power, total;
        ASSERT_OK(vc_bigint_from_string(json_string_value(json_object_get(mbi, "MinerPower")), &power));
        ASSERT_OK(vc_bigint_from_string(json_string_value(json_object_get(mbi, "NetworkPower")), &total));
        json_t *bes = json_object_get(mbi, "BeaconEntries");
        json_t *rb = json_array_size(bes) ? json_array_get(bes, json_array_size(bes) - 1)
                                          : json_object_get(mbi, "PrevBeaconEntry");
        uint8_t *rbase = NULL;
        size_t rlen = 0;
        const char *rdata = json_string_value(json_object_get(rb, "Data"));
        ASSERT_OK(vc_base64_decode(rdata, strlen(rdata), &rbase, &rlen));
        vc_buf_t ent = {0};
        vc_address_t ma;
        vc_address_from_string(maddr, &ma);
        vc_cbor_put_address(&ent, &ma);
        uint8_t dticket[32], delect[32], tsig[65], esig[65];
        draw_randomness(rbase, rlen, 1, round - 1, (uint8_t *)ent.data, ent.len, dticket);
        draw_randomness(rbase, rlen, 2, round, (uint8_t *)ent.data, ent.len, delect);
        free(rbase);
        vc_buf_done(&ent);
        ASSERT_OK(vc_secp256k1_sign(worker.priv, dticket, 32, tsig));
        ASSERT_OK(vc_secp256k1_sign(worker.priv, delect, 32, esig));
        int64_t wins = 0;
        ASSERT_OK(vc_election_win_count(esig, 65, &power, &total, &wins));
        if (wins < 1) { /* not elected: this round will be null for us */
            json_decref(mbi);
            continue;
        }
        char *t64 = vc_base64_encode(tsig, 65), *e64 = vc_base64_encode(esig, 65);
        json_t *tmpl = json_pack("{s:s, s:O, s:{s:s}, s:{s:I, s:s}, s:O, s:[], s:I, s:I, s:[{s:i, s:s}]}", "Miner",
                                 maddr, "Parents", tsk, "Ticket", "VRFProof", t64, "Eproof", "WinCount",
                                 (json_int_t)wins, "VRFProof", e64, "BeaconValues", bes, "Messages", "Epoch",
                                 (json_int_t)round, "Timestamp",
                                 (json_int_t)(vc_now_real_us() / 1000000),
                                 "WinningPoStProof", "PoStProof", 0, "ProofBytes", "dmFsaWQgcHJvb2Y=");
        free(t64);
        free(e64);
        json_decref(mbi);
        json_t *bm = NULL;
        ASSERT_OK(rpc(&ext, "Filecoin.MinerCreateBlock", json_pack("[o]", tmpl), &bm, msg, sizeof(msg)));
        json_t *hdr = json_object_get(bm, "Header");
        ASSERT_TRUE(json_is_null(json_object_get(hdr, "BlockSig")));
        /* sign it as sophon-miner does: ForkSignaling 1, worker signs the signing bytes */
        vc_block_header_t bh;
        vc_buf_t sb = {0};
        uint8_t bsig[65];
        json_object_set_new(hdr, "ForkSignaling", json_integer(1));
        ASSERT_OK(vc_block_header_from_json(hdr, &bh));
        ASSERT_OK(vc_block_header_signing_bytes(&bh, &sb));
        ASSERT_OK(vc_secp256k1_sign(worker.priv, sb.data, sb.len, bsig));
        vc_buf_done(&sb);
        vc_block_header_done(&bh);
        char *s64 = vc_base64_encode(bsig, 65);
        json_object_set_new(hdr, "BlockSig", json_pack("{s:i, s:s}", "Type", 1, "Data", s64));
        free(s64);
        /* a tampered WinCount is refused */
        json_t *bad = json_deep_copy(bm);
        json_object_set_new(json_object_get(json_object_get(bad, "Header"), "ElectionProof"), "WinCount",
                            json_integer(wins + 7));
        ASSERT_EQ(rpc(&ext, "Filecoin.SyncSubmitBlock", json_pack("[o]", bad), NULL, msg, sizeof(msg)), VC_EREMOTE);
        ASSERT_OK(rpc(&ext, "Filecoin.SyncSubmitBlock", json_pack("[o]", bm), NULL, msg, sizeof(msg)));
        mined++;
        ASSERT_TRUE(wait_height(&ext, round, 5000));
    }
    ASSERT_EQ(mined, 3);
    ASSERT_TRUE(head_height(&ext) >= base_h + 3);
    json_decref(head);
    vc_test_stop(ext.pid, 10000);
    free(ext.token);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    bin = getenv("VENUS_DEVNET_BIN");
    if (!bin) {
        fprintf(stderr, "VENUS_DEVNET_BIN not set\n");
        return 2;
    }
    make_key(&alice, "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "alice");
    make_key(&bob, NULL, "bob");
    make_key(&poor, NULL, "poor");
    make_key(&worker, "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee01", "worker");
    if (init_node(&self_node, "self") < 0 || run_node(&self_node, "self", "self") < 0)
        return 1;
    VC_TEST_RUN(test_basics);
    VC_TEST_RUN(test_transfer_included);
    VC_TEST_RUN(test_push_rules);
    VC_TEST_RUN(test_warmup_reads);
    VC_TEST_RUN(test_chain_notify_and_revert);
    VC_TEST_RUN(test_chain_notify_clients_leave);
    VC_TEST_RUN(test_restart_persists);
    VC_TEST_RUN(test_external_mining);
    vc_test_stop(self_node.pid, 10000);
    free(self_node.token);
    return VC_TEST_DONE();
}
