/* Tests for msgr-builtin.c: code CID lookups, method tables and JSON params to CBOR. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msgr-builtin.h"
#include "msgr-types.h"
#include "vc-test.h"
#include "vc/util.h"

#define MINER18 "bafk2bzacead23tnh3ywx2cwudftngssfjgptsvr3nao7xv6mcfot7gvju4bak" /* mainnet, actors v18 */

static bool actor_of(const char *cid_text, const char **actor, int *version)
{
    vc_cid_t c;
    if (vc_cid_from_string(cid_text, &c) < 0)
        return false;
    return msgr_builtin_actor_of(&c, actor, version);
}

static bool identity_actor_of(const char *s, const char **actor, int *version)
{
    vc_cid_t c;
    if (vc_cid_new(VC_CID_CODEC_RAW, VC_MH_IDENTITY, (const uint8_t *)s, strlen(s), &c) < 0)
        return false;
    return msgr_builtin_actor_of(&c, actor, version);
}

static void test_lookups(void)
{
    const char *actor = NULL;
    int v = -1;
    ASSERT_TRUE(actor_of(MINER18, &actor, &v));
    ASSERT_STREQ(actor, "storageminer");
    ASSERT_EQ(v, 18);
    ASSERT_TRUE(identity_actor_of("fil/7/storageminer", &actor, &v));
    ASSERT_STREQ(actor, "storageminer");
    ASSERT_EQ(v, 7);
    ASSERT_TRUE(identity_actor_of("fil/1/account", &actor, &v));
    ASSERT_STREQ(actor, "account");
    ASSERT_EQ(v, 0);                                              /* "fil/1/" is actors version 0 */
    ASSERT_FALSE(identity_actor_of("fil/8/account", &actor, &v)); /* bundles have real code CIDs */
    ASSERT_FALSE(identity_actor_of("fil/7/nosuchactor", &actor, &v));
    ASSERT_FALSE(actor_of("bafy2bzaceadopdn47ajkfakq3g4kvwsdtnlvnlryv7mfiognzd3oxgubx46ee", &actor, &v));

    ASSERT_EQ(msgr_builtin_max_version("mainnet"), 18);
    ASSERT_EQ(msgr_builtin_max_version("nosuchnet"), 0);

    const msgr_builtin_method_t *m = msgr_builtin_method(18, "storageminer", 16);
    ASSERT_NOTNULL(m);
    ASSERT_STREQ(m->name, "WithdrawBalance");
    ASSERT_NOTNULL((m = msgr_builtin_method(18, "storageminer", 2280458852ULL))); /* FRC-42 */
    ASSERT_STREQ(m->name, "WithdrawBalanceExported");
    ASSERT_NOTNULL((m = msgr_builtin_method(10, "account", 2643134072ULL)));
    ASSERT_STREQ(m->name, "AuthenticateMessage");
    ASSERT_TRUE(msgr_builtin_method(8, "account", 2643134072ULL) == NULL); /* exported from version 10 on */
    ASSERT_NOTNULL((m = msgr_builtin_method(7, "storageminer", 3)));       /* legacy: the version 8 table */
    ASSERT_STREQ(m->name, "ChangeWorkerAddress");
    ASSERT_TRUE(msgr_builtin_method(18, "storageminer", 9999) == NULL);
}

/* params_json through method (version, actor, num): r, and the CBOR as hex when r == 0. */
static int enc(int version, const char *actor, uint64_t num, const char *params_json, char *hex,
               size_t hexlen)
{
    const msgr_builtin_method_t *m = msgr_builtin_method(version, actor, num);
    uint8_t *b = NULL;
    size_t n = 0;
    if (!m)
        return -ENOENT;
    int r = msgr_builtin_params_from_json(m, params_json, &b, &n);
    hex[0] = '\0';
    if (r == 0 && n * 2 < hexlen)
        vc_hex_encode(b, n, hex);
    else if (r == 0)
        r = -E2BIG;
    free(b);
    return r;
}

static const struct {
    int version;
    const char *actor;
    uint64_t num;
    const char *json, *hex;
} good[] = {
    /* a struct is a tuple: [NewWorker, [NewControlAddrs...]]; f01234 = 00 d2 09 */
    {18, "storageminer", 3, "{\"NewWorker\":\"f01234\",\"NewControlAddrs\":[\"t01235\"]}",
     "824300d209814300d309"},
    /* big ints as strings; keys in any case; missing fields are zero */
    {18, "storageminer", 16, "{\"AmountRequested\":\"1000\"}", "81430003e8"},
    {18, "storageminer", 16, "{\"amountrequested\":\"1000\"}", "81430003e8"},
    {18, "storageminer", 16, "{}", "8140"},
    /* a bare address param; bytes in base64; no params at all */
    {18, "storagemarket", 2, "\"f01234\"", "4300d209"},
    {18, "multisig", 2, "{\"To\":\"f01234\",\"Value\":\"1\",\"Method\":0,\"Params\":\"AAE=\"}",
     "844300d20942000100420001"},
    {18, "account", 2, "{}", ""},
    {18, "account", 2, "null", ""},
    /* a legacy (identity code) miner: the version 8 types */
    {7, "storageminer", 16, "{\"AmountRequested\":\"0\"}", "8140"},
};

static void test_params(void)
{
    char hex[512];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ASSERT_OK(enc(good[i].version, good[i].actor, good[i].num, good[i].json, hex, sizeof(hex)));
        ASSERT_STREQ(hex, good[i].hex);
    }

    /* what does not fit is refused with the field's path */
    ASSERT_EQ(enc(18, "storageminer", 16, "{\"AmountRequested\":1000}", hex, sizeof(hex)), -EINVAL);
    ASSERT_TRUE(strstr(msgr_types_errmsg(), "params.AmountRequested") != NULL);
    ASSERT_EQ(enc(18, "storageminer", 3, "{\"NewControlAddrs\":[]}", hex, sizeof(hex)), -EINVAL);
    ASSERT_TRUE(strstr(msgr_types_errmsg(), "params.NewWorker: an address is required") != NULL);
    ASSERT_EQ(enc(18, "storageminer", 3, "{\"NewWorker\":\"nope\"}", hex, sizeof(hex)), -EINVAL);
    ASSERT_EQ(enc(18, "account", 2, "5", hex, sizeof(hex)), -EINVAL);
    ASSERT_EQ(enc(18, "storageminer", 16, "{not json", hex, sizeof(hex)), -EINVAL);
    ASSERT_TRUE(strstr(msgr_types_errmsg(), "params are not JSON") != NULL);
    /* bit fields have no JSON form here */
    ASSERT_EQ(enc(18, "storageminer", 10, "{\"Faults\":[]}", hex, sizeof(hex)), -ENOTSUP);
    ASSERT_TRUE(strstr(msgr_types_errmsg(), "--params-hex") != NULL);
}

/* Every method's schema is well formed: null params (all zero values) encode or are refused
 * with a clear reason, and never crash. */
static void test_all_schemas(void)
{
    size_t ok = 0, refused = 0;
    for (size_t i = 0; i < msgr_builtin_n_methods; i++) {
        uint8_t *b = NULL;
        size_t n = 0;
        int r = msgr_builtin_params_from_json(&msgr_builtin_methods[i], "null", &b, &n);
        free(b);
        if (r == 0)
            ok++;
        else if ((r == -EINVAL || r == -ENOTSUP) && *msgr_types_errmsg())
            refused++;
        else
            VC_FAIL_("%s method %llu: %d", msgr_builtin_methods[i].actor,
                     (unsigned long long)msgr_builtin_methods[i].num, r);
    }
    ASSERT_EQ(ok + refused, msgr_builtin_n_methods);
    ASSERT_TRUE(ok > 0);
    for (size_t i = 0; i < msgr_builtin_n_schemas; i++)
        ASSERT_TRUE(*msgr_builtin_schemas[i] != '\0');
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_lookups);
    VC_TEST_RUN(test_params);
    VC_TEST_RUN(test_all_schemas);
    return VC_TEST_DONE();
}
