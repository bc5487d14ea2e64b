/*
 * venus-wallet's gateway client against a stand-in gateway built here with libvc's rpc server
 * (Gateway.ListenWalletEvent channel, ResponseWalletEvent, AddNewAddress, RemoveAddress): the
 * real binary registers, answers WalletList, the verifyaddress challenge and WalletSign
 * (published trustwallet signature), pushes new / deleted keys after InitConnect, refuses bad
 * events with an Error and never answers twice, and reconnects after the channel closes and
 * after the gateway restarts on the same port.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/crypto.h"
#include "vc/http.h"
#include "vc/rpc.h"
#include "vc/util.h"

#define GW_TOKEN "gw-token"

static const char *bin;
static char repo[512], listen_addr[64];
static pid_t daemon_pid;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static vc_http_server_t *http;
static vc_rpc_server_t *rpc;
static vc_rpc_chan_t *chan;
static bool chan_closed;
static int listens;
static json_t *policy, *responses, *pushes;

/* ---- the stand-in gateway ---- */

static void chan_on_close(vc_rpc_chan_t *ch, void *ud)
{
    pthread_mutex_lock(&mu);
    if (ch == chan)
        chan_closed = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static int m_listen(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_rpc_chan_t *ch = NULL;
    int r = vc_rpc_chan_open(call, chan_on_close, NULL, &ch);
    if (r < 0)
        return r;
    pthread_mutex_lock(&mu);
    if (chan)
        vc_rpc_chan_unref(chan);
    chan = ch;
    chan_closed = false;
    listens++;
    json_decref(policy);
    policy = json_incref(json_array_get(params, 0));
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    return 0;
}

static int m_response(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    pthread_mutex_lock(&mu);
    json_array_append(responses, json_array_get(params, 0));
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    return 0;
}

static int m_push(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    pthread_mutex_lock(&mu);
    json_array_append_new(pushes, json_pack("[sOO]", vc_rpc_call_method(call), json_array_get(params, 0),
                                            json_array_get(params, 1)));
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    return 0;
}

static const vc_rpc_method_t gw_methods[] = {
    {"Gateway.ListenWalletEvent", VC_PERM_READ, 1, m_listen, VC_RPC_CHANNEL},
    {"Gateway.ResponseWalletEvent", VC_PERM_READ, 1, m_response, VC_RPC_FAST},
    {"Gateway.AddNewAddress", VC_PERM_READ, 2, m_push, VC_RPC_FAST},
    {"Gateway.RemoveAddress", VC_PERM_READ, 2, m_push, VC_RPC_FAST},
};

static int gw_auth(void *ud, const char *token, vc_auth_info_t *ret)
{
    if (!vc_streq(token, GW_TOKEN))
        return VC_EVERIFY;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->name, sizeof(ret->name), "wallet-acct");
    snprintf(ret->perm, sizeof(ret->perm), "admin");
    ret->perms = VC_PERM_ALL;
    return 0;
}

static int gw_start(const char *listen)
{
    vc_http_opts_t ho = {.listen = listen};
    int r = vc_rpc_server_new(NULL, &rpc);
    if (r == 0)
        r = vc_rpc_register(rpc, gw_methods, VC_ELEMENTSOF(gw_methods));
    if (r == 0)
        r = vc_http_server_new(&ho, &http);
    if (r == 0)
        r = vc_rpc_mount(rpc, http, "/rpc/v2", NULL);
    if (r < 0)
        return r;
    vc_http_set_auth(http, gw_auth, NULL);
    return vc_http_start(http);
}

static void gw_stop(void)
{
    http = vc_http_server_free(http);
    rpc = vc_rpc_server_free(rpc);
    pthread_mutex_lock(&mu);
    if (chan)
        chan = vc_rpc_chan_unref(chan);
    pthread_mutex_unlock(&mu);
}

static bool wait_listens(int n, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    pthread_mutex_lock(&mu);
    while (listens < n)
        if (pthread_cond_timedwait(&cond, &mu, &ts) != 0)
            break;
    bool ok = listens >= n;
    pthread_mutex_unlock(&mu);
    return ok;
}

/* Sends an event; payload (borrowed, may be NULL) is JSON-encoded and base64'ed; raw_payload
 * overrides it with a literal string. */
static void send_event(const char *id, const char *method, const json_t *payload, const char *raw_payload)
{
    json_t *ev = json_object();
    if (id)
        json_object_set_new(ev, "Id", json_string(id));
    json_object_set_new(ev, "Method", json_string(method));
    if (raw_payload)
        json_object_set_new(ev, "Payload", json_string(raw_payload));
    else if (payload) {
        char *text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b64 = vc_base64_encode((const uint8_t *)text, strlen(text));
        json_object_set_new(ev, "Payload", json_string(b64));
        free(text);
        free(b64);
    } else
        json_object_set_new(ev, "Payload", json_null());
    pthread_mutex_lock(&mu);
    vc_rpc_chan_t *ch = chan ? vc_rpc_chan_ref(chan) : NULL;
    pthread_mutex_unlock(&mu);
    if (VC_CHECK(ch != NULL)) {
        VC_CHECK(vc_rpc_chan_send(ch, ev) == 0);
        vc_rpc_chan_unref(ch);
    }
    json_decref(ev);
}

static int count_responses(const char *id)
{
    size_t i;
    json_t *r;
    int n = 0;
    pthread_mutex_lock(&mu);
    json_array_foreach(responses, i, r) n += vc_streq(json_string_value(json_object_get(r, "Id")), id);
    pthread_mutex_unlock(&mu);
    return n;
}

/* The response for id (new reference), waiting up to 10 s. */
static json_t *wait_response(const char *id)
{
    for (int i = 0; i < 1000; i++) {
        size_t k;
        json_t *r, *found = NULL;
        pthread_mutex_lock(&mu);
        json_array_foreach(responses, k, r) if (vc_streq(json_string_value(json_object_get(r, "Id")), id)) found =
            json_incref(r);
        pthread_mutex_unlock(&mu);
        if (found)
            return found;
        vc_sleep_ms(10);
    }
    return NULL;
}

/* Decoded Payload of a response (new reference) or NULL. */
static json_t *payload_of(const json_t *resp)
{
    const char *p = json_string_value(json_object_get(resp, "Payload"));
    uint8_t *raw = NULL;
    size_t len;
    if (!p || vc_base64_decode(p, strlen(p), &raw, &len) < 0)
        return NULL;
    json_t *j = json_loadb((const char *)raw, len, JSON_DECODE_ANY, NULL);
    free(raw);
    return j;
}

static const char *error_of(const json_t *resp)
{
    return json_string_value(json_object_get(resp, "Error"));
}

static json_t *sign_req(const char *signer, const uint8_t *data, size_t len, const char *type, const uint8_t *extra,
                        size_t extra_len)
{
    char *d = vc_base64_encode(data, len);
    char *x = extra ? vc_base64_encode(extra, extra_len) : NULL;
    json_t *j = json_pack("{s:s,s:s,s:{s:s,s:s?}}", "Signer", signer, "ToSign", d, "Meta", "Type", type, "Extra", x);
    free(d);
    free(x);
    return j;
}

/* ---- the wallet ---- */

static int wallet_cmd(char **out, const char *a1, const char *a2)
{
    const char *argv[] = {bin, "--repo", repo, a1, a2, NULL};
    char *o = NULL;
    int rc = vc_test_run_cmd(argv, &o, NULL);
    for (char *s = o; s && *s && s[strlen(s) - 1] == '\n';)
        s[strlen(s) - 1] = 0;
    if (out)
        *out = o;
    else
        free(o);
    return rc;
}

static json_t *vec;
static uint8_t sign_bytes[32];
static char id_buf[64];
static int id_seq;

static const char *next_id(void)
{
    snprintf(id_buf, sizeof(id_buf), "00000000-0000-4000-8000-%012d", ++id_seq);
    return id_buf;
}

static void test_register(void)
{
    char log[600], api[600], gwarg[128];
    snprintf(repo, sizeof(repo), "%s/repo", vc_test_tmpdir());
    snprintf(log, sizeof(log), "%s/wallet.log", vc_test_tmpdir());
    snprintf(api, sizeof(api), "%s/api", repo);
    ASSERT_OK(gw_start("127.0.0.1:0"));
    snprintf(listen_addr, sizeof(listen_addr), "127.0.0.1:%u", vc_http_port(http));
    snprintf(gwarg, sizeof(gwarg), "/ip4/127.0.0.1/tcp/%u", vc_http_port(http));
    setenv("VENUS_WALLET_PASSWORD", "gw-pass", 1);
    const char *argv[] = {bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", "--gateway-api", gwarg,
                          "--gateway-token", GW_TOKEN, "--support-accounts", "acct1", NULL};
    daemon_pid = vc_test_spawn(argv, log);
    unsetenv("VENUS_WALLET_PASSWORD");
    ASSERT_TRUE(vc_test_wait_file(api, 20000));
    ASSERT_TRUE(wait_listens(1, 10000));

    pthread_mutex_lock(&mu);
    json_t *acc = json_object_get(policy, "SupportAccounts");
    const char *sb = json_string_value(json_object_get(policy, "SignBytes"));
    bool acc_ok = json_array_size(acc) == 1 && vc_streq(json_string_value(json_array_get(acc, 0)), "acct1");
    uint8_t *raw = NULL;
    size_t len = 0;
    int r = sb ? vc_base64_decode(sb, strlen(sb), &raw, &len) : -1;
    pthread_mutex_unlock(&mu);
    ASSERT_TRUE(acc_ok);
    ASSERT_OK(r);
    ASSERT_EQ(len, 32);
    memcpy(sign_bytes, raw, 32);
    free(raw);

    /* WalletList before any key: [] */
    const char *id = next_id();
    send_event(id, "WalletList", NULL, NULL);
    json_t *resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    json_t *p = payload_of(resp);
    ASSERT_TRUE(json_is_array(p) && json_array_size(p) == 0);
    ASSERT_STREQ(error_of(resp), "");
    json_decref(p);
    json_decref(resp);
}

static void test_list_challenge_sign(void)
{
    const char *from = json_string_value(json_object_get(json_object_get(vec, "message"), "From"));
    vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
    char kf[600];
    _cleanup_free_ char *hex = NULL;
    ASSERT_OK(vc_hex_decode(json_string_value(json_object_get(vec, "privateKeyHex")), 64, ki.key));
    ASSERT_OK(vc_key_info_export(&ki, &hex));
    snprintf(kf, sizeof(kf), "%s/key.hex", vc_test_tmpdir());
    ASSERT_OK(vc_write_file_atomic(kf, hex, strlen(hex), 0600));
    ASSERT_EQ(wallet_cmd(NULL, "import", kf), 0);

    char id[64];
    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "WalletList", NULL, NULL);
    json_t *resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    json_t *p = payload_of(resp);
    json_decref(resp);
    ASSERT_TRUE(json_array_size(p) == 1);
    ASSERT_STREQ(json_string_value(json_array_get(p, 0)), from);
    json_decref(p);

    /* the verifyaddress challenge: ToSign = sha256(gatewayRand || SignBytes), Extra = gatewayRand */
    uint8_t rnd[32], challenge[32];
    vc_random(rnd, 32);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, rnd, 32);
    crypto_hash_sha256_update(&st, sign_bytes, 32);
    crypto_hash_sha256_final(&st, challenge);
    json_t *req = sign_req(from, challenge, 32, "verifyaddress", rnd, 32);
    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    p = payload_of(resp);
    vc_signature_t sig;
    vc_address_t a;
    ASSERT_OK(vc_signature_from_json(p, &sig));
    json_decref(p);
    json_decref(resp);
    ASSERT_OK(vc_address_from_string(from, &a));
    ASSERT_OK(vc_signature_verify(&sig, challenge, 32, &a));
    /* a challenge that is not sha256(Extra || SignBytes) is refused */
    req = sign_req(from, (const uint8_t *)"pay me", 6, "verifyaddress", rnd, 32);
    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_TRUE(strstr(error_of(resp), "verifyaddress") != NULL);
    ASSERT_TRUE(json_is_null(json_object_get(resp, "Payload")));
    json_decref(resp);

    /* WalletSign of a message: the published signature */
    _cleanup_free_ uint8_t *cbor = NULL;
    size_t cl;
    vc_cid_t cid;
    ASSERT_OK(vc_hex_decode_alloc(json_string_value(json_object_get(vec, "cbor")), &cbor, &cl));
    ASSERT_OK(vc_cid_from_string(json_string_value(json_object_get(vec, "cid")), &cid));
    req = sign_req(from, cid.bytes, cid.len, "message", cbor, cl);
    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_STREQ(error_of(resp), "");
    p = payload_of(resp);
    ASSERT_STREQ(json_string_value(json_object_get(p, "Data")),
                 json_string_value(json_object_get(json_object_get(vec, "signed"), "signatureBase64")));
    ASSERT_EQ(json_integer_value(json_object_get(p, "Type")), 1);
    json_decref(p);
    json_decref(resp);
    /* the same with a CID that is not the message's */
    cid.bytes[cid.len - 1] ^= 0xff;
    req = sign_req(from, cid.bytes, cid.len, "message", cbor, cl);
    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_STREQ(error_of(resp), "the data to sign is not the CID of the message in Meta.Extra");
    json_decref(resp);
}

static bool wait_push(const char *method, const char *channel, const char *addr)
{
    for (int i = 0; i < 1000; i++) {
        size_t k;
        json_t *p;
        bool found = false;
        pthread_mutex_lock(&mu);
        json_array_foreach(pushes, k, p) found |= vc_streq(json_string_value(json_array_get(p, 0)), method) &&
                                                 vc_streq(json_string_value(json_array_get(p, 1)), channel) &&
                                                 vc_streq(json_string_value(json_array_get(json_array_get(p, 2), 0)), addr);
        pthread_mutex_unlock(&mu);
        if (found)
            return true;
        vc_sleep_ms(10);
    }
    return false;
}

static void test_init_connect_and_pushes(void)
{
    const char *ch = "11111111-2222-4333-8444-555555555555";
    json_t *p = json_pack("{s:s}", "ChannelId", ch);
    char id[64];
    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "InitConnect", p, NULL);
    json_decref(p);
    vc_sleep_ms(300); /* InitConnect gets no answer; give the wallet time to record it */
    ASSERT_EQ(count_responses(id), 0);
    char *addr = NULL;
    ASSERT_EQ(wallet_cmd(&addr, "new", NULL), 0);
    ASSERT_TRUE(wait_push("Gateway.AddNewAddress", ch, addr));
    ASSERT_EQ(wallet_cmd(NULL, "delete", addr), 0);
    ASSERT_TRUE(wait_push("Gateway.RemoveAddress", ch, addr));
    free(addr);
}

static void test_bad_events(void)
{
    const char *from = json_string_value(json_object_get(json_object_get(vec, "message"), "From"));
    char id[64];
    json_t *resp;

    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "ComputeProof", NULL, NULL);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_STREQ(error_of(resp), "unknown method 'ComputeProof'");
    json_decref(resp);

    snprintf(id, sizeof(id), "%s", next_id());
    send_event(id, "WalletSign", NULL, "!!not base64!!");
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_TRUE(strstr(error_of(resp), "payload does not decode") != NULL);
    json_decref(resp);

    snprintf(id, sizeof(id), "%s", next_id());
    json_t *notobj = json_pack("[i]", 1);
    send_event(id, "WalletSign", notobj, NULL);
    json_decref(notobj);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_TRUE(strstr(error_of(resp), "WalletSignRequest") != NULL);
    json_decref(resp);

    snprintf(id, sizeof(id), "%s", next_id());
    json_t *req = sign_req("f1rletqqhinhagw6nxjcr4kbfws25thgt7owzuruy", (const uint8_t *)"x", 1, "block", NULL, 0);
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_TRUE(strstr(error_of(resp), "key not found") != NULL);
    json_decref(resp);

    snprintf(id, sizeof(id), "%s", next_id());
    req = json_pack("{s:s,s:s}", "Signer", "not-an-address", "ToSign", "AA==");
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_TRUE(strstr(error_of(resp), "Signer") != NULL);
    json_decref(resp);

    /* an event without an Id cannot be answered; a repeated Id is answered once */
    pthread_mutex_lock(&mu);
    size_t before = json_array_size(responses);
    pthread_mutex_unlock(&mu);
    send_event(NULL, "WalletList", NULL, NULL);
    snprintf(id, sizeof(id), "%s", next_id());
    req = sign_req(from, (const uint8_t *)"blockbytes", 10, "block", NULL, 0);
    send_event(id, "WalletSign", req, NULL);
    send_event(id, "WalletSign", req, NULL);
    send_event(id, "WalletList", NULL, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    json_decref(resp);
    vc_sleep_ms(500);
    ASSERT_EQ(count_responses(id), 1);
    pthread_mutex_lock(&mu);
    size_t after = json_array_size(responses);
    pthread_mutex_unlock(&mu);
    ASSERT_EQ(after, before + 1);

    /* locked: a clear error, then unlocked again */
    ASSERT_EQ(wallet_cmd(NULL, "lock", NULL), 0);
    snprintf(id, sizeof(id), "%s", next_id());
    req = sign_req(from, (const uint8_t *)"blockbytes", 10, "block", NULL, 0);
    send_event(id, "WalletSign", req, NULL);
    json_decref(req);
    resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    ASSERT_STREQ(error_of(resp), "wallet is locked");
    json_decref(resp);
    char pw[600];
    snprintf(pw, sizeof(pw), "%s/pw", vc_test_tmpdir());
    ASSERT_OK(vc_write_file_atomic(pw, "gw-pass", 7, 0600));
    const char *argv[] = {bin, "--repo", repo, "--password-file", pw, "unlock", NULL};
    ASSERT_EQ(vc_test_run_cmd(argv, NULL, NULL), 0);
    ASSERT_TRUE(vc_test_alive(daemon_pid));
}

static void test_reconnect(void)
{
    /* the gateway closes the channel: the wallet listens again (1 s backoff) */
    pthread_mutex_lock(&mu);
    int n = listens;
    vc_rpc_chan_t *ch = chan ? vc_rpc_chan_ref(chan) : NULL;
    pthread_mutex_unlock(&mu);
    ASSERT_NOTNULL(ch);
    vc_rpc_chan_close(ch);
    vc_rpc_chan_unref(ch);
    ASSERT_TRUE(wait_listens(n + 1, 10000));

    /* the gateway restarts on the same port: the wallet registers again */
    gw_stop();
    vc_sleep_ms(200);
    ASSERT_OK(gw_start(listen_addr));
    ASSERT_TRUE(wait_listens(n + 2, 20000));
    const char *id = next_id();
    send_event(id, "WalletList", NULL, NULL);
    json_t *resp = wait_response(id);
    ASSERT_NOTNULL(resp);
    json_t *p = payload_of(resp);
    ASSERT_EQ(json_array_size(p), 1);
    json_decref(p);
    json_decref(resp);
    ASSERT_TRUE(vc_test_alive(daemon_pid));
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    signal(SIGPIPE, SIG_IGN);
    if (!freopen("/dev/null", "r", stdin))
        return 2;
    bin = getenv("VENUS_WALLET_BIN");
    if (!bin) {
        fprintf(stderr, "VENUS_WALLET_BIN not set\n");
        return 2;
    }
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(vc_test_vectors(), "messages"), i, m) if (vc_streq(
        json_string_value(json_object_get(m, "name")), "trustwallet-signer")) vec = m;
    responses = json_array();
    pushes = json_array();
    VC_TEST_RUN(test_register);
    if (!vc_test_total_failed) {
        VC_TEST_RUN(test_list_challenge_sign);
        VC_TEST_RUN(test_init_connect_and_pushes);
        VC_TEST_RUN(test_bad_events);
        VC_TEST_RUN(test_reconnect);
    }
    if (daemon_pid > 0)
        vc_test_stop(daemon_pid, 5000);
    gw_stop();
    json_decref(responses);
    json_decref(pushes);
    json_decref(policy);
    return VC_TEST_DONE();
}
