/* test-msgr-select: fee precedence (spec 5), the BaseFee gate, the selMsgNum gap rule,
 * a round's candidate sets, appliedNonce, and the config defaults / overrides (spec 8). */
#include <stdio.h>
#include <string.h>

#include "msgr-config.h"
#include "msgr-select.h"
#include "vc-test.h"

static vc_bigint_t big(int64_t v)
{
    vc_bigint_t b;
    vc_bigint_from_i64(v, &b);
    return b;
}

static void test_fee_precedence(void)
{
    msgr_send_spec_t meta = {0};
    msgr_fee_spec_t addr = {0}, actor = {0}, shared = {0};
    msgr_merged_fee_t f;
    shared.gas_over_estimation = 1.25;
    shared.max_fee = big(70);
    shared.gas_fee_cap = big(5);
    shared.base_fee = big(9);
    msgr_fee_merge(NULL, NULL, NULL, &shared, &f);
    ASSERT_TRUE(f.gas_over_estimation == 1.25);
    ASSERT_EQ(vc_bigint_cmp(&f.max_fee, &shared.max_fee), 0);
    ASSERT_EQ(vc_bigint_cmp(&f.gas_fee_cap, &shared.gas_fee_cap), 0);

    actor.gas_over_estimation = 1.5;
    actor.gas_fee_cap = big(6);
    addr.max_fee = big(80);
    addr.base_fee = big(10);
    msgr_fee_merge(&meta, &addr, &actor, &shared, &f);
    ASSERT_TRUE(f.gas_over_estimation == 1.5);         /* actor over shared */
    ASSERT_EQ(vc_bigint_cmp(&f.max_fee, &addr.max_fee), 0); /* address over actor/shared */
    ASSERT_EQ(vc_bigint_cmp(&f.gas_fee_cap, &actor.gas_fee_cap), 0);
    ASSERT_EQ(vc_bigint_cmp(&f.base_fee, &addr.base_fee), 0);

    meta.gas_over_estimation = 2;
    meta.max_fee = big(90);
    meta.gas_over_premium = 3;
    msgr_fee_merge(&meta, &addr, &actor, &shared, &f);
    ASSERT_TRUE(f.gas_over_estimation == 2); /* meta wins */
    ASSERT_TRUE(f.gas_over_premium == 3);
    ASSERT_EQ(vc_bigint_cmp(&f.max_fee, &meta.max_fee), 0);

    vc_bigint_t pbf = big(11);
    ASSERT_TRUE(msgr_fee_gate_blocks(&f, &pbf)); /* parent base fee 11 > gate 10 */
    pbf = big(10);
    ASSERT_FALSE(msgr_fee_gate_blocks(&f, &pbf));
    f.base_fee = big(0);
    pbf = big(1000);
    ASSERT_FALSE(msgr_fee_gate_blocks(&f, &pbf)); /* no gate */
}

static void test_want(void)
{
    ASSERT_EQ(msgr_select_want(0, 20, 5, 5), 20u);
    ASSERT_EQ(msgr_select_want(0, 20, 15, 5), 10u);
    ASSERT_EQ(msgr_select_want(0, 20, 25, 5), 0u);
    ASSERT_EQ(msgr_select_want(3, 20, 5, 5), 3u);    /* the address value wins */
    ASSERT_EQ(msgr_select_want(0, 500, 0, 0), 100u); /* capped */
    ASSERT_EQ(msgr_select_want(0, 20, 2, 5), 20u);   /* DB behind the chain: no gap */
}

/* A round's candidates: per sender (in the caller's order), newest first as scanned, at most
 * MSGR_SELECT_MAX_NEW; unknown senders ignored. */
static void test_cands(void)
{
    msgr_address_t senders[] = {{.addr = (char *)"f1zz"}, {.addr = (char *)"f1aa"}, {.addr = (char *)"f1mm"}};
    msgr_cands_t *c = msgr_cands_new(senders, 3);
    size_t n = 0;
    char id[32];
    ASSERT_NOTNULL(c);
    for (int i = 0; i < MSGR_SELECT_MAX_NEW + 5; i++) {
        snprintf(id, sizeof(id), "a%03d", i);
        ASSERT_OK(msgr_cands_add("f1aa", id, c));
        if (i < 2) {
            snprintf(id, sizeof(id), "z%d", i);
            ASSERT_OK(msgr_cands_add("f1zz", id, c));
        }
    }
    ASSERT_OK(msgr_cands_add("f1unknown", "x", c));
    ASSERT_OK(msgr_cands_add(NULL, "x", c));
    const char *const *ids = msgr_cands_of(c, 0, &n);
    ASSERT_EQ(n, 2u);
    ASSERT_STREQ(ids[0], "z0");
    ASSERT_STREQ(ids[1], "z1");
    ids = msgr_cands_of(c, 1, &n);
    ASSERT_EQ(n, (size_t)MSGR_SELECT_MAX_NEW);
    ASSERT_STREQ(ids[0], "a000");
    ASSERT_STREQ(ids[MSGR_SELECT_MAX_NEW - 1], "a099");
    ids = msgr_cands_of(c, 2, &n);
    ASSERT_EQ(n, 0u);
    msgr_cands_free(c);
    msgr_cands_t *empty = msgr_cands_new(NULL, 0);
    ASSERT_NOTNULL(empty);
    ASSERT_OK(msgr_cands_add("f1aa", "x", empty));
    msgr_cands_free(empty);
    msgr_cands_free(NULL);
}

static void test_applied_nonce(void)
{
    json_t *msgs = json_loads("[{\"Message\":{\"From\":\"t1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za\",\"Nonce\":4}},"
                              " {\"Message\":{\"From\":\"f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za\",\"Nonce\":5}},"
                              " {\"Message\":{\"From\":\"f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za\",\"Nonce\":7}}]",
                              0, NULL);
    uint64_t n = 0;
    msgr_applied_t *a = NULL;
    ASSERT_OK(msgr_applied_new(msgs, &a));
    ASSERT_TRUE(msgr_applied_get(a, "f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", &n));
    ASSERT_EQ(n, 6u); /* 4, 5 consecutive; 7 breaks the run */
    ASSERT_FALSE(msgr_applied_get(a, "f1cjp4zzyquh4b4ypmsp3ovq7clq7n2yhxj3b7zfi", &n));
    msgr_applied_free(a);
    json_decref(msgs);

    /* Several senders interleaved, in tipset order per sender; a run that starts high. */
    msgs = json_loads("[{\"Message\":{\"From\":\"f1cfjj4dxjqubhzzblsdw6cw6z72divnwb3cxegrq\",\"Nonce\":9}},"
                      " {\"Message\":{\"From\":\"f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za\",\"Nonce\":0}},"
                      " {\"Message\":{\"From\":\"f1cfjj4dxjqubhzzblsdw6cw6z72divnwb3cxegrq\",\"Nonce\":10}},"
                      " {\"Message\":{\"From\":\"not an address\",\"Nonce\":1}},"
                      " {\"Message\":{\"From\":\"f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za\",\"Nonce\":1}},"
                      " {\"Message\":{\"From\":\"f1cfjj4dxjqubhzzblsdw6cw6z72divnwb3cxegrq\",\"Nonce\":8}}]",
                      0, NULL);
    ASSERT_OK(msgr_applied_new(msgs, &a));
    ASSERT_TRUE(msgr_applied_get(a, "f1cfjj4dxjqubhzzblsdw6cw6z72divnwb3cxegrq", &n));
    ASSERT_EQ(n, 11u); /* 9, 10; the 8 after them does not extend the run */
    ASSERT_TRUE(msgr_applied_get(a, "f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", &n));
    ASSERT_EQ(n, 2u);
    msgr_applied_free(a);
    json_decref(msgs);

    ASSERT_OK(msgr_applied_new(NULL, &a)); /* no tipset messages */
    ASSERT_FALSE(msgr_applied_get(a, "f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", &n));
    msgr_applied_free(a);
    ASSERT_FALSE(msgr_applied_get(NULL, "f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", &n));
    json_t *obj = json_object();
    ASSERT_EQ(msgr_applied_new(obj, &a), VC_ETYPE);
    json_decref(obj);
}

static void test_push_errors(void)
{
    ASSERT_TRUE(msgr_push_error_ignorable("minimum expected nonce is 5, got 3"));
    ASSERT_TRUE(msgr_push_error_ignorable("message with nonce already exists"));
    ASSERT_TRUE(msgr_push_error_ignorable("nonce too low"));
    ASSERT_FALSE(msgr_push_error_ignorable("not enough funds"));
    ASSERT_FALSE(msgr_push_error_ignorable(""));
    ASSERT_FALSE(msgr_push_error_ignorable(NULL));
}

static void test_config(void)
{
    vc_conf_t *c = msgr_config_defaults(), *c2 = NULL;
    msgr_config_t cfg;
    char *err = NULL;
    ASSERT_TRUE(c != NULL);
    ASSERT_OK(msgr_config_read(c, &cfg, &err));
    ASSERT_STREQ(cfg.listen, MSGR_DEFAULT_LISTEN);
    ASSERT_STREQ(cfg.db_type, "sqlite");
    ASSERT_EQ(cfg.stable_ms, 8000);
    ASSERT_EQ(cfg.estimate_timeout_ms, 30000);
    ASSERT_EQ(cfg.n_gateway_urls, 1u);
    ASSERT_STREQ(cfg.auth_url, "http://127.0.0.1:8989");
    ASSERT_TRUE(cfg.enable_multi_node);
    ASSERT_EQ(cfg.select_concurrency, 0u);
    msgr_config_done(&cfg);

    /* a file over the defaults; a non-positive timeout falls back to the default */
    char path[600];
    snprintf(path, sizeof(path), "%s/config.toml", vc_test_tmpdir());
    const char *text =
        "[messageService]\n  WaitingChainHeadStableDuration = \"250ms\"\n  SignMessageTimeout = \"0s\"\n"
        "  SelectConcurrency = 6\n"
        "[gateway]\n  url = [\"/ip4/1.2.3.4/tcp/1\", \"/ip4/1.2.3.5/tcp/2\"]\n"
        "[publisher]\n  enableMultiNode = false\n";
    ASSERT_OK(vc_write_file_atomic(path, text, strlen(text), 0600));
    vc_conf_t *l = NULL;
    bool existed = false;
    ASSERT_OK(msgr_config_load(path, &l, &existed, &err));
    ASSERT_TRUE(existed);
    ASSERT_OK(msgr_config_read(l, &cfg, &err));
    ASSERT_EQ(cfg.stable_ms, 250);
    ASSERT_EQ(cfg.sign_timeout_ms, 3000);
    ASSERT_EQ(cfg.n_gateway_urls, 2u);
    ASSERT_STREQ(cfg.gateway_urls[1], "/ip4/1.2.3.5/tcp/2");
    ASSERT_FALSE(cfg.enable_multi_node);
    ASSERT_EQ(cfg.select_concurrency, 6u);
    msgr_config_done(&cfg);

    /* SelectConcurrency: 0 (one per CPU) .. 64 */
    ASSERT_OK(vc_conf_set_int(l, "messageService.SelectConcurrency", -1));
    ASSERT_TRUE(msgr_config_read(l, &cfg, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "SelectConcurrency"));
    free(err);
    err = NULL;
    ASSERT_OK(vc_conf_set_int(l, "messageService.SelectConcurrency", 65));
    ASSERT_TRUE(msgr_config_read(l, &cfg, &err) < 0);
    free(err);
    err = NULL;
    ASSERT_OK(vc_conf_set_int(l, "messageService.SelectConcurrency", 0));

    /* postgres without a DSN, and an unknown db type, are refused */
    ASSERT_OK(vc_conf_set_string(l, "db.type", "postgres"));
    ASSERT_TRUE(msgr_config_read(l, &cfg, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "dsn"));
    free(err);
    err = NULL;
    ASSERT_OK(vc_conf_set_string(l, "db.type", "mysql"));
    ASSERT_TRUE(msgr_config_read(l, &cfg, &err) < 0);
    free(err);
    vc_conf_free(l);

    /* [HA]: on by default; group mode addresses are canonicalised, checked, and need a Scope */
    c2 = msgr_config_defaults();
    ASSERT_OK(msgr_config_read(c2, &cfg, &err));
    ASSERT_TRUE(cfg.ha.enable);
    ASSERT_EQ(cfg.ha.cfg.lease_ms, 15000);
    ASSERT_EQ(cfg.n_ha_addresses, 0u);
    msgr_config_done(&cfg);
    const char *grp[] = {"t1cfjj4dxjqubhzzblsdw6cw6z72divnwb3cxegrq", "f01234", NULL};
    ASSERT_OK(vc_conf_set_string_array(c2, "HA.Addresses", grp, -1));
    ASSERT_TRUE(msgr_config_read(c2, &cfg, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "Scope"));
    free(err);
    err = NULL;
    ASSERT_OK(vc_conf_set_string(c2, "HA.Scope", "g1"));
    ASSERT_OK(msgr_config_read(c2, &cfg, &err));
    ASSERT_EQ(cfg.n_ha_addresses, 2u);
    ASSERT_STREQ(cfg.ha_addresses[0], "f1cfjj4dxjqubhzzblsdw6cw6z72divnwb3cxegrq");
    ASSERT_STREQ(cfg.ha_addresses[1], "f01234");
    ASSERT_TRUE(cfg.ha_addresses[2] == NULL);
    msgr_config_done(&cfg);
    const char *bad[] = {"f1notanaddress", NULL};
    ASSERT_OK(vc_conf_set_string_array(c2, "HA.Addresses", bad, -1));
    ASSERT_TRUE(msgr_config_read(c2, &cfg, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "f1notanaddress"));
    free(err);
    err = NULL;
    vc_conf_free(c2);

    /* missing file: defaults, existed false */
    snprintf(path, sizeof(path), "%s/none.toml", vc_test_tmpdir());
    ASSERT_OK(msgr_config_load(path, &l, &existed, &err));
    ASSERT_FALSE(existed);
    vc_conf_free(l);
    vc_conf_free(c);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_fee_precedence);
    VC_TEST_RUN(test_want);
    VC_TEST_RUN(test_cands);
    VC_TEST_RUN(test_applied_nonce);
    VC_TEST_RUN(test_push_errors);
    VC_TEST_RUN(test_config);
    return VC_TEST_DONE();
}
