/*
 * Tests for msgr-types.c: the exact wire JSON of spec/messager.md section 3 and the strict
 * decoders.
 */
#include <stdlib.h>
#include <time.h>

#include "msgr-types.h"
#include "vc-test.h"
#include "vc/cli.h"
#include "vc/util.h"

#define SECP "f1ct6utqzrhuyo552pw7er3jjctxoo6bpklbvyvpi"
#define SECP_T "t1ct6utqzrhuyo552pw7er3jjctxoo6bpklbvyvpi"
#define CID_U "bafy2bzaceadopdn47ajkfakq3g4kvwsdtnlvnlryv7mfiognzd3oxgubx46ee"
#define CID_S "bafy2bzacece2h7dpavuhrarfdpogjuyqjffjvimzyqhc2wih6b473orcaobz6"
#define CID_B1 "bafy2bzacecu2josvh4cz4xthjpm6ovptgzls3kdbdprfzcmobvpz3h27l5ys2"
#define CID_B2 "bafy2bzacecgkntbyh4f4dqxfzix3x3f5g36ng74bufnreiscgeea7w4meyqha"
#define CID_CODE "bafy2bzacebshb7jbta7k5dlqn4pn2xrnywx6bfmyb6h3ppkox7jtkugyombem"
#define T0 1700000000123456789LL /* 2023-11-14T22:13:20.123456789Z */
#define T1 1700000060500000000LL /* 2023-11-14T22:14:20.5Z */

static char *dump(json_t *j)
{
    vc_buf_t b = {0};
    if (!j || vc_json_format_go(&b, j, NULL, NULL) < 0) {
        vc_buf_done(&b);
        json_decref(j);
        return NULL;
    }
    json_decref(j);
    return vc_buf_steal(&b);
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void cid_of(const char *s, vc_cid_t *c)
{
    if (vc_cid_from_string(s, c) < 0)
        memset(c, 0, sizeof(*c));
}

/* An UnFillMsg as pushed. */
static int base_message(msgr_message_t *m)
{
    msgr_message_init(m);
    if (msgr_message_set_id(m, "0b9c3c5e-1111-4222-8333-444455556666") < 0 ||
        vc_address_from_string("f01234", &m->msg.to) < 0 || vc_address_from_string(SECP, &m->msg.from) < 0 ||
        vc_bigint_from_string("1000000000000000000", &m->msg.value) < 0 ||
        msgr_message_set_wallet(m, "defaultLocalToken") < 0)
        return -1;
    m->meta.gas_over_estimation = 1.25;
    vc_bigint_from_u64(70000000000000000ULL, &m->meta.max_fee);
    m->state = MSGR_MSG_UNFILL;
    m->created_ns = T0;
    m->updated_ns = T0;
    return 0;
}

static const char *UNFILL_JSON =
    "{\"ID\":\"0b9c3c5e-1111-4222-8333-444455556666\",\"UnsignedCid\":null,\"SignedCid\":null,"
    "\"Version\":0,\"To\":\"f01234\",\"From\":\"" SECP "\",\"Nonce\":0,\"Value\":\"1000000000000000000\","
    "\"GasLimit\":0,\"GasFeeCap\":\"0\",\"GasPremium\":\"0\",\"Method\":0,\"Params\":null,\"Signature\":null,"
    "\"Height\":0,\"Confidence\":0,"
    "\"Receipt\":{\"ExitCode\":-1,\"Return\":null,\"GasUsed\":0,\"EventsRoot\":null},\"TipSetKey\":[],"
    "\"Meta\":{\"expireEpoch\":0,\"gasOverEstimation\":1.25,\"maxFee\":\"70000000000000000\",\"gasOverPremium\":0},"
    "\"WalletName\":\"defaultLocalToken\",\"State\":1,\"ErrorMsg\":\"\","
    "\"CreatedAt\":\"2023-11-14T22:13:20.123456789Z\",\"UpdatedAt\":\"2023-11-14T22:13:20.123456789Z\"}";

static void fill(msgr_message_t *m)
{
    uint8_t sig[65];
    static const uint8_t params[3] = {1, 2, 3};
    memset(sig, 0xab, sizeof(sig));
    m->msg.nonce = 42;
    m->msg.gas_limit = 2180000;
    m->msg.method = 5;
    vc_message_set_params(&m->msg, params, 3);
    vc_bigint_from_u64(101000, &m->msg.gas_fee_cap);
    vc_bigint_from_u64(100000, &m->msg.gas_premium);
    cid_of(CID_U, &m->unsigned_cid);
    cid_of(CID_S, &m->signed_cid);
    m->has_signature = true;
    vc_signature_set(&m->signature, VC_SIG_SECP256K1, sig, sizeof(sig));
    m->state = MSGR_MSG_FILL;
    m->updated_ns = T1;
}

static const char *SIG_B64 = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";

static void test_message_unfill(void)
{
    msgr_message_t m;
    set_tz("UTC");
    ASSERT_OK(base_message(&m));
    json_t *j = NULL;
    ASSERT_OK(msgr_message_to_json(&m, 0, &j));
    char *s = dump(j);
    ASSERT_STREQ(s, UNFILL_JSON);
    free(s);
    msgr_message_done(&m);
}

static void test_message_states(void)
{
    msgr_message_t m;
    vc_cid_t tsk[2];
    char expect[4096], *s;
    json_t *j = NULL;
    static const uint8_t ret[2] = {0x81, 0x00};

    set_tz("UTC");
    ASSERT_OK(base_message(&m));
    fill(&m);
    ASSERT_OK(msgr_message_to_json(&m, 0, &j));
    s = dump(j);
    snprintf(expect, sizeof(expect),
             "{\"ID\":\"0b9c3c5e-1111-4222-8333-444455556666\",\"UnsignedCid\":{\"/\":\"" CID_U "\"},"
             "\"SignedCid\":{\"/\":\"" CID_S "\"},\"Version\":0,\"To\":\"f01234\",\"From\":\"" SECP "\","
             "\"Nonce\":42,\"Value\":\"1000000000000000000\",\"GasLimit\":2180000,\"GasFeeCap\":\"101000\","
             "\"GasPremium\":\"100000\",\"Method\":5,\"Params\":\"AQID\",\"Signature\":{\"Type\":1,\"Data\":\"%s\"},"
             "\"Height\":0,\"Confidence\":0,"
             "\"Receipt\":{\"ExitCode\":-1,\"Return\":null,\"GasUsed\":0,\"EventsRoot\":null},\"TipSetKey\":[],"
             "\"Meta\":{\"expireEpoch\":0,\"gasOverEstimation\":1.25,\"maxFee\":\"70000000000000000\","
             "\"gasOverPremium\":0},\"WalletName\":\"defaultLocalToken\",\"State\":2,\"ErrorMsg\":\"\","
             "\"CreatedAt\":\"2023-11-14T22:13:20.123456789Z\",\"UpdatedAt\":\"2023-11-14T22:14:20.5Z\"}",
             SIG_B64);
    ASSERT_STREQ(s, expect);
    free(s);

    /* OnChainMsg: receipt, height, inclusion tipset key, Confidence from the caller. */
    cid_of(CID_B1, &tsk[0]);
    cid_of(CID_B2, &tsk[1]);
    ASSERT_OK(msgr_message_set_tsk(&m, tsk, 2));
    ASSERT_OK(msgr_message_set_return(&m, ret, 2));
    m.receipt.exit_code = 0;
    m.receipt.gas_used = 1744123;
    m.height = 100;
    m.state = MSGR_MSG_ONCHAIN;
    ASSERT_OK(msgr_message_to_json(&m, 10, &j));
    s = dump(j);
    snprintf(expect, sizeof(expect),
             "{\"ID\":\"0b9c3c5e-1111-4222-8333-444455556666\",\"UnsignedCid\":{\"/\":\"" CID_U "\"},"
             "\"SignedCid\":{\"/\":\"" CID_S "\"},\"Version\":0,\"To\":\"f01234\",\"From\":\"" SECP "\","
             "\"Nonce\":42,\"Value\":\"1000000000000000000\",\"GasLimit\":2180000,\"GasFeeCap\":\"101000\","
             "\"GasPremium\":\"100000\",\"Method\":5,\"Params\":\"AQID\",\"Signature\":{\"Type\":1,\"Data\":\"%s\"},"
             "\"Height\":100,\"Confidence\":10,"
             "\"Receipt\":{\"ExitCode\":0,\"Return\":\"gQA=\",\"GasUsed\":1744123,\"EventsRoot\":null},"
             "\"TipSetKey\":[{\"/\":\"" CID_B1 "\"},{\"/\":\"" CID_B2 "\"}],"
             "\"Meta\":{\"expireEpoch\":0,\"gasOverEstimation\":1.25,\"maxFee\":\"70000000000000000\","
             "\"gasOverPremium\":0},\"WalletName\":\"defaultLocalToken\",\"State\":3,\"ErrorMsg\":\"\","
             "\"CreatedAt\":\"2023-11-14T22:13:20.123456789Z\",\"UpdatedAt\":\"2023-11-14T22:14:20.5Z\"}",
             SIG_B64);
    ASSERT_STREQ(s, expect);
    free(s);

    /* NonceConflictMsg keeps the same shape with State 5. */
    m.state = MSGR_MSG_NONCE_CONFLICT;
    ASSERT_OK(msgr_message_to_json(&m, 3, &j));
    s = dump(j);
    ASSERT_TRUE(strstr(s, "\"Height\":100,\"Confidence\":3,") != NULL);
    ASSERT_TRUE(strstr(s, "\"State\":5,\"ErrorMsg\":\"\"") != NULL);
    free(s);
    msgr_message_done(&m);

    /* FailedMsg (mark-bad / expiry) with its ErrorMsg; meta from a push without meta. */
    ASSERT_OK(base_message(&m));
    memset(&m.meta, 0, sizeof(m.meta));
    m.meta.expire_epoch = 1200;
    m.state = MSGR_MSG_FAILED;
    ASSERT_OK(msgr_message_set_error(&m, "message expired: expireEpoch 1200 reached at height 1201"));
    ASSERT_OK(msgr_message_to_json(&m, 0, &j));
    s = dump(j);
    ASSERT_TRUE(strstr(s, "\"Meta\":{\"expireEpoch\":1200,\"gasOverEstimation\":0,\"maxFee\":\"0\","
                          "\"gasOverPremium\":0},\"WalletName\":\"defaultLocalToken\",\"State\":4,"
                          "\"ErrorMsg\":\"message expired: expireEpoch 1200 reached at height 1201\",") != NULL);
    free(s);
    msgr_message_done(&m);

    ASSERT_STREQ(msgr_msg_state_name(4), "Failed");
    ASSERT_STREQ(msgr_msg_state_name(5), "NonceConflictMsg");
    ASSERT_STREQ(msgr_msg_state_name(6), "UnKnown");
}

static void test_message_local_time_and_roundtrip(void)
{
    msgr_message_t m, back;
    json_t *j = NULL;
    int64_t conf = 0;
    char *s1, *s2;

    set_tz("CST-8");
    ASSERT_OK(base_message(&m));
    fill(&m);
    m.created_ns = 0; /* Go's zero time */
    ASSERT_OK(msgr_message_to_json(&m, 7, &j));
    s1 = dump(j);
    ASSERT_TRUE(strstr(s1, "\"CreatedAt\":\"0001-01-01T00:00:00Z\",\"UpdatedAt\":\"2023-11-15T06:14:20.5+08:00\"}"));
    j = json_loads(s1, 0, NULL);
    ASSERT_NOTNULL(j);
    ASSERT_OK(msgr_message_from_json(j, &back, &conf));
    json_decref(j);
    ASSERT_EQ(conf, 7);
    ASSERT_EQ(back.created_ns, 0);
    ASSERT_EQ(back.updated_ns, T1);
    ASSERT_TRUE(back.has_signature);
    ASSERT_OK(msgr_message_to_json(&back, 7, &j));
    s2 = dump(j);
    ASSERT_STREQ(s2, s1);
    free(s1);
    free(s2);
    msgr_message_done(&m);
    msgr_message_done(&back);
    set_tz("UTC");
}

static int decode_chain(const char *text, vc_message_t *m)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        return -999;
    int r = msgr_chain_message_from_json(j, m);
    json_decref(j);
    return r;
}

static void test_push_input(void)
{
    vc_message_t m;
    char buf[VC_ADDRESS_STRLEN_MAX];
    /* A plain types.Message: 't' address accepted, "CID" and unknown keys ignored. */
    ASSERT_OK(decode_chain("{\"Version\":0,\"To\":\"t01234\",\"From\":\"" SECP_T "\",\"Nonce\":9,\"Value\":\"5\","
                           "\"GasLimit\":0,\"GasFeeCap\":\"0\",\"GasPremium\":\"0\",\"Method\":0,\"Params\":null,"
                           "\"CID\":{\"/\":\"" CID_U "\"},\"Extra\":[1,2]}",
                           &m));
    ASSERT_EQ(m.nonce, 9);
    vc_address_to_string(&m.from, 'f', buf);
    ASSERT_STREQ(buf, SECP);
    ASSERT_OK(msgr_chain_message_check(&m));
    vc_message_done(&m);

    /* Wrong JSON types are rejected with the field's name. */
    static const char *bad[] = {
        "{\"To\":\"f01\",\"From\":\"f02\",\"Nonce\":\"1\"}",
        "{\"To\":\"f01\",\"From\":\"f02\",\"Value\":1}",
        "{\"To\":5,\"From\":\"f02\"}",
        "{\"To\":\"f01\",\"From\":\"f02\",\"Params\":5}",
        "{\"To\":\"f01\",\"From\":\"f02\",\"GasLimit\":1.5}",
        "{\"To\":\"f01\",\"From\":\"f02\",\"Method\":-1}",
        "{\"To\":\"f01\",\"From\":\"f02\",\"Version\":true}",
        "{\"To\":\"f01\",\"From\":\"f02\",\"GasFeeCap\":[\"1\"]}",
        "[1]",
        "\"msg\"",
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++) {
        int r = decode_chain(bad[i], &m);
        if (r != VC_ETYPE && r != -ERANGE) {
            VC_FAIL_("'%s' gave %d (%s)", bad[i], r, msgr_types_errmsg());
            return;
        }
    }
    ASSERT_EQ(decode_chain("{\"To\":\"f01\",\"From\":\"f02\",\"Nonce\":\"1\"}", &m), VC_ETYPE);
    ASSERT_STREQ(msgr_types_errmsg(),
                 "json: cannot unmarshal string into Go struct field Message.Nonce of type uint64");
    /* Bad values. */
    ASSERT_EQ(decode_chain("{\"To\":\"f01\",\"From\":\"x02\"}", &m), VC_EPARSE);
    ASSERT_EQ(decode_chain("{\"To\":\"f01\",\"From\":\"f02\",\"Value\":\"12a\"}", &m), VC_EPARSE);
    ASSERT_EQ(decode_chain("{\"To\":\"f01\",\"From\":\"f02\",\"Params\":\"!!\"}", &m), VC_EPARSE);
    ASSERT_EQ(decode_chain("{\"To\":\"f01\"}", &m), -EINVAL);
    ASSERT_EQ(decode_chain("{\"To\":\"f01\",\"From\":\"\"}", &m), -EINVAL);

    /* Value rules. */
    ASSERT_OK(decode_chain("{\"To\":\"f01\",\"From\":\"f02\",\"Value\":\"-1\"}", &m));
    ASSERT_EQ(msgr_chain_message_check(&m), -EINVAL);
    ASSERT_TRUE(strstr(msgr_types_errmsg(), "negative") != NULL);
    vc_message_done(&m);
    ASSERT_OK(decode_chain("{\"To\":\"f01\",\"From\":\"f02\",\"GasLimit\":10000000001}", &m));
    ASSERT_EQ(msgr_chain_message_check(&m), -EINVAL);
    vc_message_done(&m);
    ASSERT_OK(decode_chain("{\"To\":\"f01\",\"From\":\"f02\",\"GasPremium\":\"-5\"}", &m));
    ASSERT_EQ(msgr_chain_message_check(&m), -EINVAL);
    vc_message_done(&m);
}

static json_t *load(const char *s)
{
    return json_loads(s, JSON_DECODE_ANY, NULL);
}

static void test_specs(void)
{
    msgr_shared_spec_t sp;
    msgr_send_spec_t ss;
    bool present = true;
    json_t *j = NULL;
    char *s;

    msgr_shared_spec_default(&sp);
    ASSERT_OK(msgr_shared_spec_to_json(&sp, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"id\":1,\"selMsgNum\":20,\"gasOverEstimation\":1.25,\"maxFee\":\"70000000000000000\","
                    "\"gasFeeCap\":\"0\",\"gasOverPremium\":0,\"baseFee\":\"0\"}");
    free(s);

    j = load("{\"id\":1,\"selMsgNum\":30,\"gasOverEstimation\":1,\"maxFee\":\"5\",\"gasFeeCap\":\"6\","
             "\"gasOverPremium\":1.5,\"baseFee\":\"7\"}");
    ASSERT_OK(msgr_shared_spec_from_json(j, &sp));
    json_decref(j);
    ASSERT_EQ(sp.sel_msg_num, 30);
    ASSERT_TRUE(sp.fee.gas_over_estimation == 1.0 && sp.fee.gas_over_premium == 1.5);
    j = load("{\"selMsgNum\":\"30\"}");
    ASSERT_EQ(msgr_shared_spec_from_json(j, &sp), VC_ETYPE);
    json_decref(j);
    j = load("{\"maxFee\":5}");
    ASSERT_EQ(msgr_shared_spec_from_json(j, &sp), VC_ETYPE);
    json_decref(j);

    /* SendSpec: null meta is zeros. */
    ASSERT_OK(msgr_send_spec_from_json(NULL, &ss, &present));
    ASSERT_FALSE(present);
    j = load("{\"expireEpoch\":1000,\"gasOverEstimation\":1.5,\"maxFee\":\"100\",\"gasOverPremium\":2}");
    ASSERT_OK(msgr_send_spec_from_json(j, &ss, &present));
    json_decref(j);
    ASSERT_TRUE(present);
    ASSERT_EQ(ss.expire_epoch, 1000);
    ASSERT_OK(msgr_send_spec_to_json(&ss, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"expireEpoch\":1000,\"gasOverEstimation\":1.5,\"maxFee\":\"100\",\"gasOverPremium\":2}");
    free(s);
    j = load("{\"expireEpoch\":\"1000\"}");
    ASSERT_EQ(msgr_send_spec_from_json(j, &ss, NULL), VC_ETYPE);
    json_decref(j);
    j = load("[]");
    ASSERT_EQ(msgr_send_spec_from_json(j, &ss, NULL), VC_ETYPE);
    json_decref(j);

    /* ChangeGasSpecParams: presence of each field. */
    msgr_change_gas_spec_t cg;
    j = load("{\"gasOverEstimation\":null,\"maxFee\":\"9\",\"gasOverPremium\":0}");
    ASSERT_OK(msgr_change_gas_spec_from_json(j, &cg));
    json_decref(j);
    ASSERT_FALSE(cg.has_gas_over_estimation);
    ASSERT_TRUE(cg.has_max_fee);
    ASSERT_FALSE(cg.has_gas_fee_cap);
    ASSERT_TRUE(cg.has_gas_over_premium);
    j = load("{\"gasOverPremium\":\"1\"}");
    ASSERT_EQ(msgr_change_gas_spec_from_json(j, &cg), VC_ETYPE);
    json_decref(j);

    /* AddressSpec: *Str fields parsed only when non-empty. */
    msgr_address_spec_t as;
    j = load("{\"address\":\"" SECP_T "\",\"gasOverEstimation\":1.2,\"maxFeeStr\":\"\",\"gasFeeCapStr\":\"77\"}");
    ASSERT_OK(msgr_address_spec_from_json(j, &as));
    json_decref(j);
    ASSERT_STREQ(as.address, SECP);
    ASSERT_FALSE(as.has_max_fee);
    ASSERT_TRUE(as.has_gas_fee_cap);
    msgr_address_spec_done(&as);
    j = load("{\"address\":\"" SECP "\",\"baseFeeStr\":\"x\"}");
    ASSERT_EQ(msgr_address_spec_from_json(j, &as), VC_EPARSE);
    json_decref(j);
}

static void test_address_actor_node(void)
{
    msgr_address_t a = {0}, a2;
    json_t *j = NULL;
    char *s;
    set_tz("UTC");
    snprintf(a.id, sizeof(a.id), "11111111-2222-4333-8444-555555555555");
    a.addr = strdup(SECP);
    a.nonce = 17;
    a.state = MSGR_ADDR_ALIVE;
    a.sel_msg_num = 0;
    a.fee.gas_over_premium = 1.1;
    vc_bigint_from_u64(3, &a.fee.base_fee);
    a.is_deleted = -1;
    a.created_ns = T0;
    a.updated_ns = T1;
    ASSERT_OK(msgr_address_to_json(&a, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"id\":\"11111111-2222-4333-8444-555555555555\",\"addr\":\"" SECP "\",\"nonce\":17,"
                    "\"weight\":0,\"state\":1,\"selMsgNum\":0,\"gasOverEstimation\":0,\"maxFee\":\"0\","
                    "\"gasFeeCap\":\"0\",\"gasOverPremium\":1.1,\"baseFee\":\"3\",\"isDeleted\":-1,"
                    "\"createAt\":\"2023-11-14T22:13:20.123456789Z\",\"updateAt\":\"2023-11-14T22:14:20.5Z\"}");
    j = load(s);
    free(s);
    ASSERT_OK(msgr_address_from_json(j, &a2));
    json_decref(j);
    ASSERT_STREQ(a2.addr, SECP);
    ASSERT_EQ(a2.nonce, 17);
    ASSERT_EQ(a2.updated_ns, T1);
    msgr_address_done(&a2);
    msgr_address_done(&a);
    j = load("{\"nonce\":-1}");
    ASSERT_EQ(msgr_address_from_json(j, &a2), -ERANGE);
    json_decref(j);
    j = load("{\"id\":\"not-a-uuid\"}");
    ASSERT_EQ(msgr_address_from_json(j, &a2), VC_EPARSE);
    json_decref(j);

    msgr_actor_cfg_t ac = {0}, ac2;
    snprintf(ac.id, sizeof(ac.id), "aaaaaaaa-2222-4333-8444-555555555555");
    ac.actor_version = 12;
    cid_of(CID_CODE, &ac.code);
    ac.method = 5;
    ac.fee.gas_over_estimation = 1.5;
    ac.created_ns = T0;
    ac.updated_ns = T0;
    ASSERT_OK(msgr_actor_cfg_to_json(&ac, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"id\":\"aaaaaaaa-2222-4333-8444-555555555555\",\"version\":12,\"code\":{\"/\":\"" CID_CODE
                    "\"},\"method\":5,\"gasOverEstimation\":1.5,\"maxFee\":\"0\",\"gasFeeCap\":\"0\","
                    "\"gasOverPremium\":0,\"baseFee\":\"0\",\"createAt\":\"2023-11-14T22:13:20.123456789Z\","
                    "\"updateAt\":\"2023-11-14T22:13:20.123456789Z\"}");
    j = load(s);
    free(s);
    ASSERT_OK(msgr_actor_cfg_from_json(j, &ac2));
    json_decref(j);
    ASSERT_TRUE(vc_cid_equal(&ac.code, &ac2.code));
    j = load("{\"code\":\"" CID_CODE "\"}");
    ASSERT_EQ(msgr_actor_cfg_from_json(j, &ac2), VC_ETYPE);
    json_decref(j);

    msgr_node_t n = {0}, n2;
    snprintf(n.id, sizeof(n.id), "bbbbbbbb-2222-4333-8444-555555555555");
    n.name = strdup("node-a");
    n.url = strdup("/ip4/127.0.0.1/tcp/3453");
    n.token = strdup("tok");
    n.type = MSGR_NODE_FULL;
    n.created_ns = T0;
    n.updated_ns = T0;
    ASSERT_OK(msgr_node_to_json(&n, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"ID\":\"bbbbbbbb-2222-4333-8444-555555555555\",\"Name\":\"node-a\","
                    "\"URL\":\"/ip4/127.0.0.1/tcp/3453\",\"Token\":\"tok\",\"Type\":1,"
                    "\"CreatedAt\":\"2023-11-14T22:13:20.123456789Z\",\"UpdatedAt\":\"2023-11-14T22:13:20.123456789Z\"}");
    j = load(s);
    free(s);
    ASSERT_OK(msgr_node_from_json(j, &n2));
    json_decref(j);
    ASSERT_STREQ(n2.url, n.url);
    msgr_node_done(&n2);
    msgr_node_done(&n);
    j = load("{\"Type\":\"full\"}");
    ASSERT_EQ(msgr_node_from_json(j, &n2), VC_ETYPE);
    json_decref(j);
}

static void test_params(void)
{
    msgr_query_params_t q;
    msgr_replace_params_t rp;
    msgr_quick_send_t qs;
    json_t *j;
    char *s;

    set_tz("UTC");
    j = load("{\"State\":[1,2],\"From\":[\"" SECP_T "\"],\"ByUpdateAt\":\"2023-11-14T22:13:20.123456789Z\","
             "\"Asc\":true,\"Limit\":10,\"Offset\":20}");
    ASSERT_OK(msgr_query_params_from_json(j, &q));
    json_decref(j);
    ASSERT_EQ(q.n_states, 2);
    ASSERT_EQ(q.n_from, 1);
    ASSERT_STREQ(q.from[0], SECP);
    ASSERT_TRUE(q.has_by_update_at);
    ASSERT_EQ(q.by_update_at_ns, T0);
    ASSERT_TRUE(q.asc);
    ASSERT_OK(msgr_query_params_to_json(&q, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"State\":[1,2],\"From\":[\"" SECP "\"],\"ByUpdateAt\":\"2023-11-14T22:13:20.123456789Z\","
                    "\"Asc\":true,\"Limit\":10,\"Offset\":20}");
    free(s);
    msgr_query_params_done(&q);
    static const char *bad_q[] = {"{\"State\":1}", "{\"State\":[\"1\"]}", "{\"From\":\"f01\"}", "{\"From\":[1]}",
                                  "{\"Asc\":1}", "{\"Limit\":-1}", "{\"ByUpdateAt\":5}"};
    for (size_t i = 0; i < VC_ELEMENTSOF(bad_q); i++) {
        j = load(bad_q[i]);
        int r = msgr_query_params_from_json(j, &q);
        json_decref(j);
        if (r >= 0) {
            VC_FAIL_("'%s' accepted", bad_q[i]);
            msgr_query_params_done(&q);
            return;
        }
    }
    j = load("{\"ByUpdateAt\":\"yesterday\"}");
    ASSERT_EQ(msgr_query_params_from_json(j, &q), VC_EPARSE);
    json_decref(j);

    j = load("{\"ID\":\"m1\",\"Auto\":false,\"MaxFee\":\"0\",\"GasLimit\":100,\"GasPremium\":\"5\","
             "\"GasFeecap\":\"6\",\"GasOverPremium\":0}");
    ASSERT_OK(msgr_replace_params_from_json(j, &rp));
    json_decref(j);
    ASSERT_STREQ(rp.id, "m1");
    ASSERT_EQ(rp.gas_limit, 100);
    ASSERT_OK(msgr_replace_params_to_json(&rp, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"ID\":\"m1\",\"Auto\":false,\"MaxFee\":\"0\",\"GasLimit\":100,\"GasPremium\":\"5\","
                    "\"GasFeecap\":\"6\",\"GasOverPremium\":0}");
    free(s);
    msgr_replace_params_done(&rp);
    j = load("{\"ID\":\"m1\",\"Auto\":\"yes\"}");
    ASSERT_EQ(msgr_replace_params_from_json(j, &rp), VC_ETYPE);
    json_decref(j);

    j = load("{\"To\":\"f01000\",\"From\":\"" SECP "\",\"Val\":\"0\",\"Account\":\"\",\"GasPremium\":null,"
             "\"GasFeeCap\":\"10\",\"GasLimit\":null,\"Method\":16,\"Params\":\"{}\",\"ParamsType\":\"json\"}");
    ASSERT_OK(msgr_quick_send_from_json(j, &qs));
    json_decref(j);
    ASSERT_FALSE(qs.has_gas_premium);
    ASSERT_TRUE(qs.has_gas_fee_cap);
    ASSERT_FALSE(qs.has_gas_limit);
    ASSERT_EQ(qs.method, 16);
    ASSERT_OK(msgr_quick_send_to_json(&qs, &j));
    s = dump(j);
    ASSERT_STREQ(s, "{\"To\":\"f01000\",\"From\":\"" SECP "\",\"Val\":\"0\",\"Account\":\"\",\"GasPremium\":null,"
                    "\"GasFeeCap\":\"10\",\"GasLimit\":null,\"Method\":16,\"Params\":\"{}\",\"ParamsType\":\"json\"}");
    free(s);
    msgr_quick_send_done(&qs);
    j = load("{\"GasLimit\":\"1\"}");
    ASSERT_EQ(msgr_quick_send_from_json(j, &qs), VC_ETYPE);
    json_decref(j);
}

static void test_tsk_text(void)
{
    vc_cid_t in[2], *out = NULL;
    size_t n = 0;
    char *t = NULL;
    cid_of(CID_B1, &in[0]);
    cid_of(CID_B2, &in[1]);
    ASSERT_OK(msgr_tsk_to_text(in, 2, &t));
    ASSERT_STREQ(t, "{ " CID_B1 " " CID_B2 " }");
    ASSERT_OK(msgr_tsk_from_text(t, &out, &n));
    ASSERT_EQ(n, 2);
    ASSERT_TRUE(vc_cid_equal(&out[1], &in[1]));
    free(out);
    free(t);
    ASSERT_OK(msgr_tsk_to_text(NULL, 0, &t));
    ASSERT_STREQ(t, "{ }");
    free(t);
    ASSERT_OK(msgr_tsk_from_text("{ }", &out, &n));
    ASSERT_EQ(n, 0);
    ASSERT_OK(msgr_tsk_from_text("", &out, &n));
    ASSERT_EQ(n, 0);
    ASSERT_ERR(msgr_tsk_from_text("{ bafy", &out, &n));
    ASSERT_ERR(msgr_tsk_from_text("[x]", &out, &n));
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    if (vc_init() < 0)
        return 1;
    VC_TEST_RUN(test_message_unfill);
    VC_TEST_RUN(test_message_states);
    VC_TEST_RUN(test_message_local_time_and_roundtrip);
    VC_TEST_RUN(test_push_input);
    VC_TEST_RUN(test_specs);
    VC_TEST_RUN(test_address_actor_node);
    VC_TEST_RUN(test_params);
    VC_TEST_RUN(test_tsk_text);
    return VC_TEST_DONE();
}
