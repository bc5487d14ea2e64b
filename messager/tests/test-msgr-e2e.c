/*
 * test-msgr-e2e: venus-messager against the real venus-auth, venus-gateway, venus-wallet
 * (holding the sender key, registered to the gateway as user "wal") and venus-devnet (self
 * mining, 200 ms blocks, the sender funded in genesis):
 *   - Message.PushMessage -> nonce, signed through the gateway, pushed to the devnet, on chain:
 *     GetMessageByUid shows State 3 with receipt and height;
 *   - a forbidden address is refused;
 *   - ClearUnFillMessage (pushes held UnFill by the BaseFee gate), MarkBadMessage then
 *     RecoverFailedMsg and ReplaceMessage on a FillMsg held off chain by DevnetPause, Send;
 *   - a non-admin token without the signer binding gets the signer-check error; the method
 *     permission gate; /healthcheck and Version;
 *   - publishing to an extra node of the nodes table (a second devnet on the same genesis
 *     executes what the messager pushed to it), and a dead extra node changes nothing.
 * --pg runs the messager on a fresh PostgreSQL database (the "pg" ctest fixture).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgr-stack.h"
#include "vc-test-db.h"
#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/client.h"
#include "vc/db.h"
#include "vc/crypto.h"
#include "vc/util.h"

/* ---------------------------------------------------------------- setup */

/* ---------------------------------------------------------------- tests */

static json_t *transfer(const char *from, const char *value)
{
    return json_pack("{s:i, s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:i, s:n}", "Version", 0, "To", bob, "From", from,
                     "Nonce", 7, "Value", value, "GasLimit", 0, "GasFeeCap", "0", "GasPremium", "0", "Method", 0,
                     "Params");
}

static void test_basics(void)
{
    json_t *res = NULL;
    char base[200], *body = NULL;
    ASSERT_OK(mcall(msgr_admin, "Version", NULL, &res, NULL));
    ASSERT_EQ(json_integer_value(json_object_get(res, "APIVersion")), 0);
    json_decref(res);
    snprintf(base, sizeof(base), "%s", msgr_url);
    *strstr(base, "/rpc/v0") = 0;
    ASSERT_EQ(rest(base, NULL, "GET", "/healthcheck", NULL, &body), 200);
    free(body);
    /* the permission gate: a write token calling an admin method */
    vc_rpc_err_t err = {0};
    ASSERT_TRUE(mcall(mu_tok, "ListMessageByAddress", json_pack("[s]", addrs[0]), NULL, &err) < 0);
    ASSERT_TRUE(strstr(err.message, "missing permission to invoke 'ListMessageByAddress'  (need 'admin')") != NULL);
}

static void test_push_onchain(void)
{
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    int r = mcall(wal_tok, "PushMessage", json_pack("[o, n]", transfer(addrs[0], "1000")), &res, &err);
    if (r < 0)
        fprintf(stderr, "  PushMessage: %s\n", err.message);
    ASSERT_OK(r);
    char id[300];
    snprintf(id, sizeof(id), "%s", json_string_value(res) ? json_string_value(res) : "");
    json_decref(res);
    ASSERT_EQ(strlen(id), 36u);

    json_t *m = NULL;
    int state = 0;
    for (int i = 0; i < 300 && state != 3; i++) {
        json_decref(m);
        m = NULL;
        ASSERT_OK(mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", id), &m, NULL));
        state = (int)json_integer_value(json_object_get(m, "State"));
        if (state != 3)
            vc_sleep_ms(100);
    }
    char *dump = json_dumps(m, JSON_COMPACT);
    fprintf(stderr, "# %s\n", dump);
    free(dump);
    ASSERT_EQ(state, 3);
    ASSERT_EQ(json_integer_value(json_object_get(m, "Nonce")), 0);
    ASSERT_TRUE(json_integer_value(json_object_get(m, "Height")) > 0);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m, "Receipt"), "ExitCode")), 0);
    ASSERT_TRUE(json_is_object(json_object_get(m, "SignedCid")));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m, "Signature"), "Type")), 1);
    ASSERT_STREQ(json_string_value(json_object_get(m, "WalletName")), "wal");
    ASSERT_TRUE(json_array_size(json_object_get(m, "TipSetKey")) > 0);
    json_decref(m);

    /* the address was auto-registered and its nonce moved on */
    ASSERT_OK(mcall(msgr_admin, "GetAddress", json_pack("[s]", addrs[0]), &res, NULL));
    ASSERT_EQ(json_integer_value(json_object_get(res, "nonce")), 1);
    json_decref(res);
}

static void test_signer_check(void)
{
    vc_rpc_err_t err = {0};
    ASSERT_TRUE(mcall(mu_tok, "PushMessage", json_pack("[o, n]", transfer(addrs[0], "1")), NULL, &err) < 0);
    char want[256];
    snprintf(want, sizeof(want), "signer %s not exist in user mu: permission deny", addrs[0]);
    ASSERT_STREQ(err.message, want);
    ASSERT_TRUE(mcall(mu_tok, "GetAddress", json_pack("[s]", addrs[0]), NULL, &err) < 0);
    ASSERT_STREQ(err.message, want);
}

static void test_forbidden(void)
{
    vc_rpc_err_t err = {0};
    ASSERT_OK(mcall(msgr_admin, "ForbiddenAddress", json_pack("[s]", addrs[0]), NULL, NULL));
    ASSERT_TRUE(mcall(wal_tok, "PushMessage", json_pack("[o, n]", transfer(addrs[0], "1")), NULL, &err) < 0);
    char want[256];
    snprintf(want, sizeof(want), "address(%s) is forbidden", addrs[0]);
    ASSERT_TRUE(strstr(err.message, want) != NULL);
    ASSERT_OK(mcall(msgr_admin, "ActiveAddress", json_pack("[s]", addrs[0]), NULL, NULL));
}

/* Polls GetMessageByUid until State == want (timeout_ms); returns the message (or NULL). */
static json_t *wait_state(const char *id, int want, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 50) {
        json_t *m = NULL;
        if (mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", id), &m, NULL) == 0 &&
            json_integer_value(json_object_get(m, "State")) == want)
            return m;
        json_decref(m);
        vc_sleep_ms(50);
    }
    return NULL;
}

static void set_base_fee_gate(const char *bf)
{
    ASSERT_OK(mcall(msgr_admin, "SetFeeParams",
                    json_pack("[{s:s, s:f, s:f, s:s, s:s, s:s}]", "address", addrs[0], "gasOverEstimation", 0.0,
                              "gasOverPremium", 0.0, "maxFeeStr", "", "gasFeeCapStr", "", "baseFeeStr", bf),
                    NULL, NULL));
}

/* The BaseFee gate (baseFee 1 < the devnet's parent base fee >= 100) keeps pushes UnFill. */
static void test_clear_unfill(void)
{
    char id1[64], id2[64];
    set_base_fee_gate("1");
    ASSERT_OK(push_id(transfer(addrs[0], "1"), id1));
    ASSERT_OK(push_id(transfer(addrs[0], "2"), id2));
    /* new ids are UUIDv7: time-ordered, so the id index grows at its end */
    ASSERT_TRUE(strlen(id1) == 36 && id1[14] == '7' && id2[14] == '7');
    ASSERT_TRUE(memcmp(id1, id2, 13) <= 0 && strcmp(id1, id2) != 0);
    vc_sleep_ms(1500); /* several heads and rounds: they stay UnFill */
    json_t *m = wait_state(id1, 1, 100);
    ASSERT_TRUE(m != NULL);
    json_decref(m);
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    ASSERT_TRUE(mcall(mu_tok, "ClearUnFillMessage", json_pack("[s]", addrs[0]), NULL, &err) < 0);
    ASSERT_TRUE(strstr(err.message, "permission deny") != NULL);
    ASSERT_OK(mcall(wal_tok, "ClearUnFillMessage", json_pack("[s]", addrs[0]), &res, NULL));
    ASSERT_EQ(json_integer_value(res), 2);
    json_decref(res);
    ASSERT_TRUE((m = wait_state(id1, 4, 100)) != NULL);
    json_decref(m);
    ASSERT_TRUE((m = wait_state(id2, 4, 100)) != NULL);
    json_decref(m);
    ASSERT_OK(mcall(wal_tok, "ClearUnFillMessage", json_pack("[s]", addrs[0]), &res, NULL));
    ASSERT_EQ(json_integer_value(res), 0);
    json_decref(res);
    set_base_fee_gate("0");
}

/* Slow blocks, push, wait for FillMsg, then pause the devnet: the message sits in its mpool. */
static int stuck_fill(char id[64])
{
    if (dcall("Filecoin.DevnetSetBlockTime", json_pack("[i]", 2000), NULL) < 0)
        return -1;
    if (push_id(transfer(addrs[0], "3"), id) < 0)
        return -1;
    json_t *m = wait_state(id, 2, 20000);
    if (!m)
        return -1;
    json_decref(m);
    return dcall("Filecoin.DevnetPause", json_pack("[b]", 1), NULL);
}

static int resume_chain(void)
{
    int r = dcall("Filecoin.DevnetSetBlockTime", json_pack("[i]", 200), NULL);
    if (r == 0)
        r = dcall("Filecoin.DevnetPause", json_pack("[b]", 0), NULL);
    return r;
}

static void test_recover_failed(void)
{
    char id[64];
    json_t *res = NULL, *m = NULL;
    ASSERT_OK(stuck_fill(id));
    ASSERT_OK(mcall(wal_tok, "MarkBadMessage", json_pack("[s]", id), NULL, NULL));
    ASSERT_TRUE((m = wait_state(id, 4, 100)) != NULL);
    json_decref(m);
    ASSERT_OK(mcall(wal_tok, "RecoverFailedMsg", json_pack("[s]", addrs[0]), &res, NULL));
    ASSERT_EQ(json_array_size(res), 1u);
    ASSERT_STREQ(json_string_value(json_array_get(res, 0)), id);
    json_decref(res);
    ASSERT_TRUE((m = wait_state(id, 2, 100)) != NULL);
    json_decref(m);
    ASSERT_OK(resume_chain());
    ASSERT_TRUE((m = wait_state(id, 3, 30000)) != NULL);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m, "Receipt"), "ExitCode")), 0);
    json_decref(m);
    /* nothing left to recover */
    ASSERT_OK(mcall(wal_tok, "RecoverFailedMsg", json_pack("[s]", addrs[0]), &res, NULL));
    ASSERT_EQ(json_array_size(res), 0u);
    json_decref(res);
}

static void test_replace(void)
{
    char id[64];
    json_t *res = NULL, *m = NULL, *old = NULL;
    vc_rpc_err_t err = {0};
    ASSERT_OK(stuck_fill(id));
    ASSERT_OK(mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", id), &old, NULL));
    /* manual: the feecap >= premium check is on the new values */
    ASSERT_TRUE(mcall(wal_tok, "ReplaceMessage",
                      json_pack("[{s:s, s:b, s:s, s:i, s:s, s:s, s:f}]", "ID", id, "Auto", 0, "MaxFee", "0",
                                "GasLimit", 0, "GasPremium", "1000", "GasFeecap", "999", "GasOverPremium", 0.0),
                      NULL, &err) < 0);
    ASSERT_STREQ(err.message, "gas feecap(999) must bigger than gas premium(1000)");
    ASSERT_TRUE(mcall(wal_tok, "ReplaceMessage",
                      json_pack("[{s:s, s:b, s:s, s:i, s:s, s:s, s:f}]", "ID", id, "Auto", 0, "MaxFee", "0",
                                "GasLimit", 0, "GasPremium", "0", "GasFeecap", "999", "GasOverPremium", 0.0),
                      NULL, &err) < 0);
    ASSERT_STREQ(err.message, "gas premium(0) must bigger than zero");
    /* auto */
    int r = mcall(wal_tok, "ReplaceMessage",
                  json_pack("[{s:s, s:b, s:s, s:i, s:s, s:s, s:f}]", "ID", id, "Auto", 1, "MaxFee", "0", "GasLimit",
                            0, "GasPremium", "0", "GasFeecap", "0", "GasOverPremium", 0.0),
                  &res, &err);
    if (r < 0)
        fprintf(stderr, "  ReplaceMessage: %s\n", err.message);
    ASSERT_OK(r);
    const char *nc = json_string_value(json_object_get(res, "/"));
    ASSERT_TRUE(nc != NULL);
    const char *oc = json_string_value(json_object_get(json_object_get(old, "SignedCid"), "/"));
    ASSERT_TRUE(oc && nc && strcmp(oc, nc) != 0);
    /* the premium rose by at least the devnet's 1.25x */
    vc_bigint_t op, np, t;
    ASSERT_OK(mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", id), &m, NULL));
    vc_bigint_from_string(json_string_value(json_object_get(old, "GasPremium")), &op);
    vc_bigint_from_string(json_string_value(json_object_get(m, "GasPremium")), &np);
    vc_bigint_from_i64(125, &t);
    vc_bigint_mul(&op, &t, &op);
    vc_bigint_from_i64(100, &t);
    vc_bigint_mul(&np, &t, &np);
    ASSERT_TRUE(vc_bigint_cmp(&np, &op) >= 0);
    ASSERT_EQ(json_integer_value(json_object_get(m, "Nonce")), json_integer_value(json_object_get(old, "Nonce")));
    json_decref(m);
    ASSERT_OK(resume_chain());
    ASSERT_TRUE((m = wait_state(id, 3, 30000)) != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(m, "SignedCid"), "/")), nc);
    json_decref(m);
    json_decref(res);
    json_decref(old);
    /* on chain: refused */
    ASSERT_TRUE(mcall(wal_tok, "ReplaceMessage",
                      json_pack("[{s:s, s:b, s:s, s:i, s:s, s:s, s:f}]", "ID", id, "Auto", 1, "MaxFee", "0",
                                "GasLimit", 0, "GasPremium", "0", "GasFeecap", "0", "GasOverPremium", 0.0),
                      NULL, &err) < 0);
    ASSERT_STREQ(err.message, "message already on chain");
}

static json_t *quick_send_to(const char *to, uint64_t method, const char *params, const char *ptype)
{
    return json_pack("[{s:s, s:s, s:s, s:s, s:n, s:n, s:n, s:I, s:s, s:s}]", "To", to, "From", addrs[0], "Val", "0",
                     "Account", "", "GasPremium", "GasFeeCap", "GasLimit", "Method", (json_int_t)method, "Params",
                     params, "ParamsType", ptype);
}

static json_t *quick_send(uint64_t method, const char *ptype)
{
    return quick_send_to(bob, method, "", ptype);
}

static void test_send(void)
{
    vc_rpc_err_t err = {0};
    json_t *res = NULL;
    ASSERT_TRUE(mcall(wal_tok, "Send", quick_send(0, "hex"), NULL, &err) < 0);
    ASSERT_STREQ(err.message, "do not use it to send funds");
    ASSERT_TRUE(mcall(wal_tok, "Send", quick_send(2, "cbor"), NULL, &err) < 0);
    ASSERT_STREQ(err.message, "unexpected param type cbor");
    /* json: typed by the method of the To actor's code, so an address without an actor fails */
    ASSERT_TRUE(mcall(wal_tok, "Send", quick_send(2, "json"), NULL, &err) < 0);
    ASSERT_TRUE(strncmp(err.message, "failed to decode json params: ", 30) == 0);
    ASSERT_TRUE(mcall(wal_tok, "Send", quick_send_to("f01000", 16, "{\"AmountRequested\":5}", "json"), NULL,
                      &err) < 0);
    ASSERT_TRUE(strstr(err.message,
                       "unmarshaling input into params type: params.AmountRequested: expected a big "
                       "integer") != NULL);
    ASSERT_TRUE(mcall(wal_tok, "Send", quick_send_to("f01000", 99999, "{}", "json"), NULL, &err) < 0);
    ASSERT_TRUE(
        strstr(err.message, "method 99999 not found on actor bafkqaetgnfwc6nzpon2g64tbm5sw22lomvza") != NULL);
    /* write < sign */
    ASSERT_TRUE(mcall(mu_tok, "Send", quick_send(2, "hex"), NULL, &err) < 0);
    ASSERT_TRUE(strstr(err.message, "(need 'sign')") != NULL);
    /* hex: a method on the devnet's miner actor (a no-op there; account actors refuse
     * methods other than 0 in the devnet), params 0x80 (an empty CBOR array) */
    int r = mcall(wal_tok, "Send", quick_send_to("f01000", 16, "80", "hex"), &res, &err);
    if (r < 0)
        fprintf(stderr, "  Send: %s\n", err.message);
    ASSERT_OK(r);
    char id[64];
    snprintf(id, sizeof(id), "%s", json_string_value(res) ? json_string_value(res) : "");
    json_decref(res);
    ASSERT_EQ(strlen(id), 36u);
    json_t *m = wait_state(id, 3, 30000);
    if (!m && mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", id), &res, NULL) == 0) {
        char *d = json_dumps(res, JSON_COMPACT);
        fprintf(stderr, "# %s\n", d);
        free(d);
        json_decref(res);
    }
    ASSERT_TRUE(m != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(m, "WalletName")), "");
    ASSERT_EQ(json_integer_value(json_object_get(m, "Method")), 16);
    ASSERT_STREQ(json_string_value(json_object_get(m, "Params")), "gA==");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m, "Receipt"), "ExitCode")), 0);
    json_decref(m);

    /* json: the devnet miner's code is fil/7/storageminer, method 16 WithdrawBalance, whose params
     * {AmountRequested} are the CBOR tuple [bytes(big int 7)] = 81 42 00 07 */
    r = mcall(wal_tok, "Send", quick_send_to("f01000", 16, "{\"AmountRequested\":\"7\"}", "json"), &res,
              &err);
    if (r < 0)
        fprintf(stderr, "  Send: %s\n", err.message);
    ASSERT_OK(r);
    snprintf(id, sizeof(id), "%s", json_string_value(res) ? json_string_value(res) : "");
    json_decref(res);
    ASSERT_TRUE((m = wait_state(id, 3, 30000)) != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(m, "Params")), "gUIABw==");
    json_decref(m);
}

/* The database remembers the network it belongs to (recorded at the first start): a messager
 * whose node is on another network refuses to start and says why. Played by rewriting the
 * recorded name while the messager is stopped. Runs last: it leaves the messager stopped. */
/* A counter of the messager's /metrics (venus_messager_<name>), -1 if absent. */
static double msgr_metric(const char *name)
{
    char base[200], *body = NULL, key[128];
    snprintf(base, sizeof(base), "%s", msgr_url);
    *strstr(base, "/rpc/v0") = 0;
    if (rest(base, NULL, "GET", "/metrics", NULL, &body) != 200 || !body) {
        free(body);
        return -1;
    }
    snprintf(key, sizeof(key), "\nvenus_messager_%s ", name);
    const char *p = strstr(body, key);
    double v = p ? strtod(p + strlen(key), NULL) : -1;
    free(body);
    return v;
}

/* The actor nonce of addr on the node at url (-1 when unknown there). */
static int64_t chain_nonce(const char *url, const char *token, const char *addr)
{
    json_t *a = NULL;
    if (dcall_at(url, token, "Filecoin.StateGetActor", json_pack("[s, []]", addr), &a) < 0)
        return -1;
    int64_t n = json_integer_value(json_object_get(a, "Nonce"));
    json_decref(a);
    return n;
}

/*
 * Spec 4.5: signed messages also go to every node of the nodes table. A second devnet from the
 * same genesis (a chain of its own, where the senders are funded too) is added with SaveNode;
 * nothing but the messager talks to it, so messages it executes were pushed to it by the
 * messager. A dead extra node changes nothing for the main node: its errors are only counted.
 */
static void test_extra_node(void)
{
    char url2[128], tok2[1024], ids[4][64];
    char *tok = NULL;
    pid_t pid2 = 0;
    const char *from = addrs[1]; /* this case's own sender: nonce 0 on both chains */
    json_t *m = NULL;
    start_devnet_copy("devnet2", url2, &tok, &pid2);
    snprintf(tok2, sizeof(tok2), "%s", tok ? tok : "");
    free(tok);
    ASSERT_OK(
        mcall(msgr_admin, "SaveNode",
              json_pack("[{s:s, s:s, s:s, s:i}]", "Name", "second", "URL", url2, "Token", tok2, "Type", 1),
              NULL, NULL));
    for (int i = 0; i < 3; i++)
        ASSERT_OK(push_id(transfer(from, "5"), ids[i]));
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE((m = wait_state(ids[i], 3, 30000)) != NULL);
        json_decref(m);
    }
    ASSERT_EQ(chain_nonce(node_url, node_token, from), 3);
    int64_t n2 = -1;
    for (int t = 0; t < 30000 && n2 < 3; t += 100) {
        n2 = chain_nonce(url2, tok2, from);
        if (n2 < 3)
            vc_sleep_ms(100);
    }
    ASSERT_EQ(n2, 3); /* the second chain executed the same three messages */
    ASSERT_TRUE(msgr_metric("extra_node_pushes_total") >= 1);
    ASSERT_TRUE(msgr_metric("extra_node_push_errors_total") == 0);
    /* every message so far landed within seconds: none counts as blocked (the gauge is rendered) */
    ASSERT_TRUE(msgr_metric("blocked_five_minutes_msgs") == 0);

    /* the extra node dies: the main node still gets everything, the failures are counted */
    stop_clean("venus-devnet (second)", &pid2);
    ASSERT_OK(push_id(transfer(from, "6"), ids[3]));
    ASSERT_TRUE((m = wait_state(ids[3], 3, 30000)) != NULL);
    json_decref(m);
    for (int t = 0; t < 10000 && msgr_metric("extra_node_push_errors_total") < 1; t += 100)
        vc_sleep_ms(100);
    ASSERT_TRUE(msgr_metric("extra_node_push_errors_total") >= 1);
    ASSERT_OK(mcall(msgr_admin, "DeleteNode", json_pack("[s]", "second"), NULL, NULL));
}

static int set_network_name(vc_db_conn_t *c, void *ud)
{
    int r = vc_db_exec(c, "UPDATE msgr_kv SET v = ? WHERE k = 'network_name'", VC_DB_ARGS(VC_DB_TEXT(ud)));
    return r == 1 ? 0 : (r < 0 ? r : -ENOENT);
}

/* Pushes racing the messager's shutdown: every push is answered with its real outcome. */
#define SHUT_MAX 4000
static struct {
    char ids[SHUT_MAX][37];
    int outcome[SHUT_MAX]; /* 1 answered with its id, -1 refused (an error answer), 0 no answer */
    atomic_int next;
} shut;

static void *shut_pusher(void *arg)
{
    const char *url = arg;
    for (;;) {
        int k = atomic_fetch_add(&shut.next, 1);
        if (k >= SHUT_MAX)
            break;
        vc_uuid4(shut.ids[k]);
        json_t *res = NULL;
        vc_rpc_err_t err = {0};
        int r = mcall_at(url, wal_tok, "PushMessageWithId",
                         json_pack("[s, o, n]", shut.ids[k], transfer(addrs[1], "1")), &res, &err, 5000);
        shut.outcome[k] = r == 0 ? (vc_streq(json_string_value(res), shut.ids[k]) ? 1 : 2)
                                 : (r == VC_EREMOTE || r == VC_EHTTP ? -1 : 0);
        json_decref(res);
        if (r != 0 && r != VC_EREMOTE && r != VC_EHTTP)
            break; /* the messager is gone */
    }
    return NULL;
}

/*
 * SIGTERM while 16 clients keep pushing: a push the messager took is committed and answered
 * with its id before the API stops; one that comes later gets an error, or no answer at all once
 * the messager has stopped, and stores nothing. (The HTTP server used to stop first: a push
 * still in the group commit was answered 503 "shutting down" and then stored, so a client
 * retrying it made a duplicate; and answers already made could be dropped with the connection.)
 */
static void test_shutdown_answers_every_push(void)
{
    pthread_t th[16];
    char url[160];
    snprintf(url, sizeof(url), "%s", msgr_url);
    atomic_store(&shut.next, 0);
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, shut_pusher, url), 0);
    vc_sleep_ms(400);
    stop_clean("venus-messager", &msgr_pid); /* SIGTERM, then waits for a clean exit */
    for (int i = 0; i < 16; i++)
        pthread_join(th[i], NULL);
    ASSERT_TRUE(start_messager() == 0);
    int n = VC_MIN(atomic_load(&shut.next), SHUT_MAX), stored = 0, refused = 0, unknown = 0;
    for (int k = 0; k < n; k++) {
        json_t *m = NULL;
        int r = mcall(msgr_admin, "GetMessageByUid", json_pack("[s]", shut.ids[k]), &m, NULL);
        bool found = r == 0 && vc_streq(json_string_value(json_object_get(m, "ID")), shut.ids[k]);
        json_decref(m);
        if (shut.outcome[k] == 1) {
            stored++;
            VC_CHECK(found); /* acknowledged: in the database */
        } else if (shut.outcome[k] == -1) {
            refused++;
            if (found)
                VC_FAIL_("push %s was refused, yet stored", shut.ids[k]);
        } else {
            unknown++; /* no answer: the messager had stopped taking requests */
            VC_CHECK(shut.outcome[k] == 0);
            if (found)
                VC_FAIL_("push %s got no answer, yet was stored", shut.ids[k]);
        }
    }
    fprintf(stderr, "# %d pushes around the SIGTERM: %d stored and acknowledged, %d refused, %d without answer\n",
            n, stored, refused, unknown);
    ASSERT_TRUE(stored > 0);
}

static void test_network_guard(void)
{
    char dsn[700], log[600], repo[600];
    vc_db_t *db = NULL;
    snprintf(repo, sizeof(repo), "%s/messager", vc_test_tmpdir());
    snprintf(dsn, sizeof(dsn), "%s%s/message.db", pg_dsn ? "" : "sqlite:", repo);
    if (pg_dsn)
        snprintf(dsn, sizeof(dsn), "%s", pg_dsn);
    stop_clean("venus-messager", &msgr_pid);
    ASSERT_OK(vc_db_open(dsn, NULL, &db, NULL));
    ASSERT_OK(vc_db_tx(db, set_network_name, "othernet"));
    db = vc_db_free(db);

    pid_t pid = spawn_messager("messager-guard.log", log);
    ASSERT_TRUE(pid > 0);
    int st = -1;
    for (int t = 0; t < 20000; t += 50) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        st = -1;
        vc_sleep_ms(50);
    }
    if (st == -1)
        vc_test_stop(pid, 5000);
    ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0); /* refused to start */
    char *text = NULL;
    size_t n = 0;
    ASSERT_OK(vc_read_file(log, 1 << 20, &text, &n));
    ASSERT_TRUE(strstr(text, "network name not match: the database holds messages of network \"othernet\"") != NULL);
    free(text);
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
    make_keys(2);
    start_auth();
    start_gateway();
    start_wallet();
    start_devnet();
    if (start_messager() < 0)
        die("venus-messager did not start");
    VC_TEST_RUN(test_basics);
    VC_TEST_RUN(test_push_onchain);
    VC_TEST_RUN(test_signer_check);
    VC_TEST_RUN(test_forbidden);
    VC_TEST_RUN(test_clear_unfill);
    VC_TEST_RUN(test_recover_failed);
    VC_TEST_RUN(test_replace);
    VC_TEST_RUN(test_send);
    VC_TEST_RUN(test_extra_node);
    VC_TEST_RUN(test_shutdown_answers_every_push);
    VC_TEST_RUN(test_network_guard);
    msgr_stack_stop_all();
    return VC_TEST_DONE();
}
