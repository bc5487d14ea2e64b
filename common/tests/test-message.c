/* Tests for message.c: strict CBOR and JSON decoding. */
#include "vc-test.h"
#include "vc/message.h"
#include "vc/util.h"

static const char *v1 = "8a00420004420000182240187b4200ea4200ea0643686169";

static void make_v1(vc_message_t *m)
{
    memset(m, 0, sizeof(*m));
    (void)vc_address_from_string("f04", &m->to);
    (void)vc_address_from_string("f00", &m->from);
    m->nonce = 34;
    m->gas_limit = 123;
    vc_bigint_from_u64(234, &m->gas_fee_cap);
    vc_bigint_from_u64(234, &m->gas_premium);
    m->method = 6;
    (void)vc_message_set_params(m, (const uint8_t *)"hai", 3);
}

static void test_truncated(void)
{
    uint8_t buf[64];
    size_t n = strlen(v1) / 2;
    vc_message_t m;
    ASSERT_OK(vc_hex_decode(v1, 2 * n, buf));
    ASSERT_OK(vc_message_decode(buf, n, &m));
    vc_message_done(&m);
    for (size_t k = 0; k < n; k++)
        ASSERT_ERR(vc_message_decode(buf, k, &m));
    /* trailing byte */
    buf[n] = 0;
    ASSERT_EQ(vc_message_decode(buf, n + 1, &m), VC_EPARSE);

    /* signed message with a real-looking signature, every prefix */
    vc_signed_message_t sm = {0}, sd;
    uint8_t sig[65];
    memset(sig, 7, sizeof(sig));
    make_v1(&sm.message);
    ASSERT_OK(vc_signature_set(&sm.signature, VC_SIG_SECP256K1, sig, sizeof(sig)));
    vc_buf_t b = {0};
    ASSERT_OK(vc_signed_message_encode(&sm, &b));
    ASSERT_OK(vc_signed_message_decode((const uint8_t *)b.data, b.len, &sd));
    ASSERT_EQ(sd.message.params_len, 3);
    ASSERT_EQ(sd.signature.len, 65);
    vc_signed_message_done(&sd);
    for (size_t k = 0; k < b.len; k++)
        ASSERT_ERR(vc_signed_message_decode((const uint8_t *)b.data, k, &sd));
    vc_buf_done(&b);
    vc_signed_message_done(&sm);
}

static void test_bad_fields(void)
{
    static const char *const bad[] = {
        "8900420004420000182240187b4200ea4200ea06",             /* 9 fields */
        "8a00420004420000182240187b4200ea4200ea064368616900",   /* trailing byte */
        "8a0042000442000018224019007b4200ea4200ea0643686169",   /* GasLimit not minimal */
        "8a004200044200001822400187b4200ea4200ea0643686169",    /* garbage */
        "8a00420104420000182240187b4200ea4200ea0643686169",     /* To: secp with 1-byte payload */
        "8a00400004420000182240187b4200ea4200ea0643686169",     /* To: empty */
        "8a00420004420000182241027b4200ea4200ea0643686169",     /* Value sign byte 2 */
        "8a004200044200001822403b80000000000000004200ea4200ea0643686169", /* GasLimit < INT64_MIN */
        "8a00420004420000382240187b4200ea4200ea0643686169",     /* negative nonce */
        "8a00420004420000182240187b4200ea4200ea0663686169",     /* Params as text */
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++) {
        uint8_t buf[128];
        size_t n = strlen(bad[i]) / 2;
        vc_message_t m;
        ASSERT_OK(vc_hex_decode(bad[i], 2 * n, buf));
        if (vc_message_decode(buf, n, &m) >= 0) {
            VC_FAIL_("accepted %s", bad[i]);
            vc_message_done(&m);
        }
    }
    /* negative GasLimit is fine */
    vc_message_t m;
    make_v1(&m);
    m.gas_limit = -5;
    vc_buf_t b = {0};
    ASSERT_OK(vc_message_encode(&m, &b));
    vc_message_t d;
    ASSERT_OK(vc_message_decode((const uint8_t *)b.data, b.len, &d));
    ASSERT_EQ(d.gas_limit, -5);
    vc_message_done(&d);
    vc_buf_done(&b);
    /* undefined address cannot be encoded */
    memset(&m.to, 0, sizeof(m.to));
    ASSERT_EQ(vc_message_encode(&m, &b), -EINVAL);
    vc_buf_done(&b);
    vc_message_done(&m);
}

static int from_json_str(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        return -12345;
    vc_message_t m;
    int r = vc_message_from_json(j, &m);
    if (r >= 0)
        vc_message_done(&m);
    json_decref(j);
    return r;
}

#define MSG(extra)                                                                                 \
    "{\"Version\":0,\"To\":\"f04\",\"From\":\"f00\",\"Nonce\":34,\"Value\":\"0\","             \
    "\"GasLimit\":123,\"GasFeeCap\":\"234\",\"GasPremium\":\"234\",\"Method\":6" extra "}"

static void test_json(void)
{
    ASSERT_OK(from_json_str(MSG(",\"Params\":\"aGFp\"")));
    ASSERT_OK(from_json_str(MSG(",\"Params\":null")));
    ASSERT_OK(from_json_str(MSG(",\"Params\":\"\"")));
    ASSERT_OK(from_json_str(MSG("")));
    ASSERT_OK(from_json_str(MSG(",\"CID\":{\"/\":\"whatever\"}"))); /* output-only, ignored */
    ASSERT_EQ(from_json_str(MSG(",\"Params\":5")), VC_ETYPE);
    ASSERT_EQ(from_json_str(MSG(",\"Params\":\"a*==\"")), VC_EPARSE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Nonce\":-1}"), -ERANGE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Nonce\":1.5}"), VC_ETYPE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Nonce\":\"1\"}"), VC_ETYPE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Method\":-6}"), -ERANGE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"GasLimit\":\"5\"}"), VC_ETYPE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Value\":12}"), VC_ETYPE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Value\":\"1.5\"}"), VC_EPARSE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"Value\":\"+1\"}"), VC_EPARSE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\",\"From\":\"F00\"}"), VC_EPARSE);
    ASSERT_EQ(from_json_str("{\"To\":\"f04\"}"), VC_ETYPE);
    ASSERT_EQ(from_json_str("{\"To\":4,\"From\":\"f00\"}"), VC_ETYPE);
    ASSERT_EQ(from_json_str("[1]"), VC_ETYPE);
    ASSERT_OK(from_json_str("{\"To\":\"f04\",\"From\":\"f00\",\"GasLimit\":-9223372036854775808}"));

    /* to_json: null params, f/t prefix, exact Lotus output */
    vc_message_t m;
    make_v1(&m);
    json_t *j;
    ASSERT_OK(vc_message_to_json(&m, 'f', true, &j));
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ASSERT_STREQ(s, "{\"Version\":0,\"To\":\"f04\",\"From\":\"f00\",\"Nonce\":34,\"Value\":\"0\","
                    "\"GasLimit\":123,\"GasFeeCap\":\"234\",\"GasPremium\":\"234\",\"Method\":6,"
                    "\"Params\":\"aGFp\",\"CID\":{\"/\":"
                    "\"bafy2bzaced5rdpz57e64sc7mdwjn3blicglhpialnrph2dlbufhf6iha63dmc\"}}");
    free(s);
    json_decref(j);
    ASSERT_OK(vc_message_set_params(&m, NULL, 0));
    ASSERT_OK(vc_message_to_json(&m, 't', false, &j));
    ASSERT_TRUE(json_is_null(json_object_get(j, "Params")));
    ASSERT_STREQ(json_string_value(json_object_get(j, "To")), "t04");
    json_decref(j);
    m.nonce = (uint64_t)INT64_MAX + 1;
    ASSERT_EQ(vc_message_to_json(&m, 't', false, &j), -ERANGE);
    ASSERT_EQ(vc_message_to_json(&m, 'x', false, &j), -EINVAL);
    vc_message_done(&m);
}

static void test_signature_json(void)
{
    vc_signature_t s;
    json_error_t e;
    json_t *j = json_loads("{\"Type\":1,\"Data\":\"AAEC\"}", 0, &e);
    ASSERT_OK(vc_signature_from_json(j, &s));
    ASSERT_EQ(s.type, 1);
    ASSERT_EQ(s.len, 3);
    json_decref(j);
    j = json_loads("{\"Type\":\"1\",\"Data\":\"AAEC\"}", 0, &e);
    ASSERT_EQ(vc_signature_from_json(j, &s), VC_ETYPE);
    json_decref(j);
    j = json_loads("{\"Type\":256,\"Data\":null}", 0, &e);
    ASSERT_EQ(vc_signature_from_json(j, &s), -ERANGE);
    json_decref(j);
    /* BLS signed message: CID is the message CID */
    vc_signed_message_t sm = {0};
    vc_cid_t a, b;
    uint8_t sig[96] = {1};
    make_v1(&sm.message);
    ASSERT_OK(vc_signature_set(&sm.signature, VC_SIG_BLS, sig, sizeof(sig)));
    ASSERT_OK(vc_signed_message_cid(&sm, &a));
    ASSERT_OK(vc_message_cid(&sm.message, &b));
    ASSERT_TRUE(vc_cid_equal(&a, &b));
    vc_signed_message_done(&sm);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_truncated);
    VC_TEST_RUN(test_bad_fields);
    VC_TEST_RUN(test_json);
    VC_TEST_RUN(test_signature_json);
    return VC_TEST_DONE();
}
