/* test-devnet-chain.c: the devnet chain core (genesis, store, mpool, execution, mining, revert). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devnet-chain.h"
#include "vc-test.h"
#include "vc/blockheader.h"
#include "vc/crypto.h"
#include "vc/election.h"
#include "vc/util.h"

static uint8_t k1[32], k2[32];
static vc_address_t a1, a2;
static char s1[VC_ADDRESS_STRLEN_MAX], s2[VC_ADDRESS_STRLEN_MAX];
static int counter;

static void load_keys(void)
{
    json_t *keys = json_object_get(vc_test_vectors(), "keys");
    vc_hex_decode(json_string_value(json_object_get(json_array_get(keys, 0), "privateKeyHex")), 64, k1);
    vc_hex_decode(json_string_value(json_object_get(json_array_get(keys, 1), "privateKeyHex")), 64, k2);
    vc_secp256k1_address(k1, &a1);
    vc_secp256k1_address(k2, &a2);
    vc_address_to_string(&a1, 't', s1);
    vc_address_to_string(&a2, 't', s2);
}

static char *write_file(const char *name, const char *text)
{
    char *p = malloc(strlen(vc_test_tmpdir()) + strlen(name) + 2);
    sprintf(p, "%s/%s", vc_test_tmpdir(), name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

static char *genesis_text(void)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "NetworkName = \"devnet\"\nBlockTime = \"200ms\"\n"
             "[[Accounts]]\nAddress = \"%s\"\nBalance = \"1000000000000000000000\"\n"
             "[[Accounts]]\nAddress = \"%s\"\nBalance = \"10000000000000000000\"\n"
             "[[Miners]]\nID = 1000\nOwner = \"%s\"\nWorker = \"%s\"\nPower = \"10995116277760\"\nSectors = 2\n"
             "SectorSize = 2048\n",
             s1, s2, s1, s1);
    return buf;
}

/* A fresh chain in its own repo; *ret_repo (optional) gets the repo path (static). */
static dn_chain_t *new_chain(const char **ret_repo)
{
    static char repo[512];
    char name[64];
    dn_genesis_t g;
    dn_chain_t *c = NULL;
    char *err = NULL;

    snprintf(name, sizeof(name), "genesis-%d.toml", ++counter);
    char *path = write_file(name, genesis_text());
    snprintf(repo, sizeof(repo), "%s/repo-%d", vc_test_tmpdir(), counter);
    if (dn_genesis_load(path, &g, &err) < 0 || dn_chain_init(repo, &g, &err) < 0 || dn_chain_open(repo, &c, &err) < 0) {
        fprintf(stderr, "chain setup failed: %s\n", err ? err : "?");
        c = NULL;
    }
    dn_genesis_done(&g);
    free(path);
    free(err);
    if (ret_repo)
        *ret_repo = repo;
    return c;
}

static void make_msg(vc_signed_message_t *sm, const uint8_t *key, const vc_address_t *from, const vc_address_t *to,
                     uint64_t nonce, const char *value, int64_t premium, int64_t gas_limit)
{
    memset(sm, 0, sizeof(*sm));
    sm->message.from = *from;
    sm->message.to = *to;
    sm->message.nonce = nonce;
    vc_bigint_from_string(value, &sm->message.value);
    sm->message.gas_limit = gas_limit;
    vc_bigint_from_i64(premium, &sm->message.gas_premium);
    vc_bigint_from_i64(1000000000, &sm->message.gas_fee_cap);
    vc_message_sign_secp256k1(&sm->message, key, &sm->signature);
}

static int push(dn_chain_t *c, const uint8_t *key, const vc_address_t *from, const vc_address_t *to, uint64_t nonce,
                int64_t premium, bool untrusted, vc_cid_t *ret, char **err)
{
    vc_signed_message_t sm;
    vc_cid_t cid;
    make_msg(&sm, key, from, to, nonce, "1000", premium, 10000000);
    free(*err);
    *err = NULL;
    int r = dn_mpool_push(c, &sm, untrusted, ret ? ret : &cid, err);
    vc_signed_message_done(&sm);
    return r;
}

static json_t *head_key(dn_chain_t *c)
{
    json_t *h;
    if (dn_chain_head(c, &h) < 0)
        return NULL;
    json_t *k = json_incref(json_object_get(h, "Cids"));
    json_decref(h);
    return k;
}

static void test_genesis_errors(void)
{
    dn_genesis_t g;
    char *err = NULL;

    ASSERT_TRUE(dn_genesis_load("/nonexistent/genesis.toml", &g, &err) < 0);
    ASSERT_NOTNULL(err);
    free(err);
    err = NULL;
    char *p = write_file("g-nominer.toml", "NetworkName = \"x\"\n");
    ASSERT_TRUE(dn_genesis_load(p, &g, &err) < 0);
    ASSERT_TRUE(strstr(err, "Miners") != NULL);
    free(p);
    free(err);
    err = NULL;
    p = write_file("g-badaddr.toml", "[[Accounts]]\nAddress = \"t1bad\"\n");
    ASSERT_TRUE(dn_genesis_load(p, &g, &err) < 0);
    ASSERT_TRUE(strstr(err, "Accounts[0].Address") != NULL);
    free(p);
    free(err);
    err = NULL;
    char buf[512];
    snprintf(buf, sizeof(buf), "[[Miners]]\nID = 1000\nOwner = \"%s\"\nPower = \"2048\"\n", s1);
    p = write_file("g-owner.toml", buf);
    ASSERT_TRUE(dn_genesis_load(p, &g, &err) < 0);
    ASSERT_TRUE(strstr(err, "Owner") != NULL);
    free(p);
    free(err);
    err = NULL;
    p = write_file("g-syntax.toml", "NetworkName = \n");
    ASSERT_TRUE(dn_genesis_load(p, &g, &err) < 0);
    free(p);
    free(err);
}

static void test_init_open_reopen(void)
{
    const char *repo;
    dn_chain_t *c = new_chain(&repo);
    json_t *h, *h2, *v;
    char *err = NULL;
    dn_genesis_t g = {0};
    vc_address_t id100;

    ASSERT_NOTNULL(c);
    ASSERT_EQ(dn_chain_height(c), 0);
    ASSERT_EQ(dn_chain_network_letter(c), 't');
    ASSERT_OK(dn_chain_head(c, &h));
    json_t *b0 = json_array_get(json_object_get(h, "Blocks"), 0);
    json_t *amt = json_object_get(vc_test_vectors(), "amt");
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(b0, "Messages"), "/")),
                 json_string_value(json_object_get(amt, "emptyTxMetaCid")));
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(b0, "ParentMessageReceipts"), "/")),
                 json_string_value(json_object_get(amt, "emptyRootCid")));
    ASSERT_STREQ(json_string_value(json_object_get(b0, "ParentBaseFee")), "100000000");
    json_decref(h);
    /* accounts at f0100, f0101 */
    vc_address_new_id(100, &id100);
    ASSERT_OK(dn_state_account_key(c, &id100, NULL, 0, &v));
    ASSERT_STREQ(json_string_value(v), s1);
    json_decref(v);
    ASSERT_OK(dn_state_lookup_id(c, &a2, NULL, 0, &v));
    ASSERT_STREQ(json_string_value(v), "t0101");
    json_decref(v);
    /* init again refused */
    char *gp = write_file("again.toml", genesis_text());
    ASSERT_OK(dn_genesis_load(gp, &g, &err));
    free(gp);
    ASSERT_EQ(dn_chain_init(repo, &g, &err), -EEXIST);
    dn_genesis_done(&g);
    free(err);
    err = NULL;
    for (int i = 0; i < 3; i++)
        ASSERT_OK(dn_chain_step(c));
    ASSERT_EQ(dn_chain_height(c), 3);
    ASSERT_OK(dn_chain_head(c, &h));
    dn_chain_free(c);
    ASSERT_OK(dn_chain_open(repo, &c, &err));
    ASSERT_EQ(dn_chain_height(c), 3);
    ASSERT_OK(dn_chain_head(c, &h2));
    ASSERT_TRUE(json_equal(h, h2));
    json_decref(h2);
    /* blocks chain up with real CIDs */
    ASSERT_OK(dn_chain_get_tipset_by_height(c, 1, NULL, 0, &h2));
    ASSERT_EQ(json_integer_value(json_object_get(h2, "Height")), 1);
    json_decref(h2);
    ASSERT_EQ(dn_chain_get_tipset_by_height(c, 9, NULL, 0, &h2), -EINVAL);
    json_decref(h);
    dn_chain_free(c);
    free(err);
}

static void test_push_execute_search(void)
{
    const char *repo;
    dn_chain_t *c = new_chain(&repo);
    vc_cid_t cid, cid2, cid3, cid4;
    char *err = NULL;
    json_t *v, *head;
    uint64_t nonce;
    vc_address_t fresh;
    uint8_t k3[32];

    ASSERT_NOTNULL(c);
    ASSERT_OK(push(c, k1, &a1, &a2, 0, 100000, false, &cid, &err));
    ASSERT_OK(dn_mpool_get_nonce(c, &a1, &nonce));
    ASSERT_EQ(nonce, 1);
    /* to a brand-new key address: creates an account */
    vc_secp256k1_generate(k3);
    vc_secp256k1_address(k3, &fresh);
    ASSERT_OK(push(c, k1, &a1, &fresh, 1, 100000, false, &cid2, &err));
    /* a method on an account: exit 22; a too-small gas limit: exit 7 */
    vc_signed_message_t sm;
    make_msg(&sm, k1, &a1, &a2, 2, "0", 100000, 10000000);
    sm.message.method = 2;
    vc_message_sign_secp256k1(&sm.message, k1, &sm.signature);
    ASSERT_OK(dn_mpool_push(c, &sm, false, &cid3, &err));
    vc_signed_message_done(&sm);
    make_msg(&sm, k1, &a1, &a2, 3, "5", 100000, 500000);
    ASSERT_OK(dn_mpool_push(c, &sm, false, &cid4, &err));
    vc_signed_message_done(&sm);
    ASSERT_OK(dn_mpool_pending(c, &v));
    ASSERT_EQ(json_array_size(v), 4);
    json_decref(v);

    ASSERT_OK(dn_chain_step(c)); /* h1 includes */
    ASSERT_OK(dn_mpool_pending(c, &v));
    ASSERT_EQ(json_array_size(v), 0);
    json_decref(v);
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid, -1, false, &v));
    ASSERT_TRUE(json_is_null(v));
    json_decref(v);
    ASSERT_OK(dn_chain_step(c)); /* h2 executes h1's messages */
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid, -1, false, &v));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Height")), 2);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(v, "Receipt"), "ExitCode")), 0);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(v, "Receipt"), "GasUsed")), 1000000);
    head = head_key(c);
    ASSERT_TRUE(json_equal(json_object_get(v, "TipSet"), head));
    json_decref(v);
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid3, -1, false, &v));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(v, "Receipt"), "ExitCode")), 22);
    json_decref(v);
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid4, -1, false, &v));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(v, "Receipt"), "ExitCode")), 7);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(v, "Receipt"), "GasUsed")), 500000);
    json_decref(v);
    /* parent messages / receipts of the head block, one to one */
    vc_cid_t blk;
    ASSERT_OK(vc_cid_from_json(json_array_get(head, 0), &blk));
    json_t *pm, *pr;
    ASSERT_OK(dn_chain_parent_messages(c, &blk, &pm));
    ASSERT_OK(dn_chain_parent_receipts(c, &blk, &pr));
    ASSERT_EQ(json_array_size(pm), 4);
    ASSERT_EQ(json_array_size(pr), 4);
    json_decref(pm);
    json_decref(pr);
    /* the state at the head: nonce 4, new account exists with an ID */
    ASSERT_OK(dn_state_get_actor(c, &a1, NULL, 0, &v));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Nonce")), 4);
    json_decref(v);
    ASSERT_OK(dn_state_lookup_id(c, &fresh, NULL, 0, &v));
    ASSERT_STREQ(json_string_value(v), "t0102");
    json_decref(v);
    ASSERT_OK(dn_state_get_actor(c, &a2, NULL, 0, &v));
    ASSERT_STREQ(json_string_value(json_object_get(v, "Balance")), "10000000000000001000");
    json_decref(v);
    /* too low now */
    ASSERT_TRUE(push(c, k1, &a1, &a2, 0, 100000, false, NULL, &err) < 0);
    ASSERT_TRUE(strstr(err, "nonce too low") != NULL);
    /* persistence of receipts and search after reopen */
    dn_chain_free(c);
    ASSERT_OK(dn_chain_open(repo, &c, &err));
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid, -1, false, &v));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Height")), 2);
    json_decref(v);
    json_decref(head);
    dn_chain_free(c);
    free(err);
}

static void test_mpool_rules(void)
{
    dn_chain_t *c = new_chain(NULL);
    char *err = NULL;
    vc_signed_message_t sm;
    vc_cid_t cid;
    json_t *v;

    ASSERT_NOTNULL(c);
    /* gaps: trusted up to 4 ahead, untrusted none */
    ASSERT_TRUE(push(c, k1, &a1, &a2, 5, 100000, false, NULL, &err) < 0);
    ASSERT_TRUE(strstr(err, "gap") != NULL);
    ASSERT_OK(push(c, k1, &a1, &a2, 4, 100000, false, NULL, &err));
    ASSERT_TRUE(push(c, k2, &a2, &a1, 1, 100000, true, NULL, &err) < 0);
    ASSERT_OK(push(c, k2, &a2, &a1, 0, 100000, true, NULL, &err));
    ASSERT_OK(push(c, k2, &a2, &a1, 1, 100000, true, NULL, &err));
    /* insufficient balance: a2 has 10 FIL */
    make_msg(&sm, k2, &a2, &a1, 2, "20000000000000000000", 100000, 10000000);
    ASSERT_TRUE(dn_mpool_push(c, &sm, false, &cid, &err) < 0);
    ASSERT_TRUE(strstr(err, "not enough funds") != NULL);
    vc_signed_message_done(&sm);
    /* bad signature (signed by k2 for a1) */
    make_msg(&sm, k2, &a1, &a2, 0, "1", 100000, 10000000);
    ASSERT_TRUE(dn_mpool_push(c, &sm, false, &cid, &err) < 0);
    ASSERT_TRUE(strstr(err, "signature") != NULL);
    /* BLS refused with a clear message */
    sm.signature.type = VC_SIG_BLS;
    sm.signature.len = 96;
    ASSERT_TRUE(dn_mpool_push(c, &sm, false, &cid, &err) < 0);
    ASSERT_TRUE(strstr(err, "BLS signatures cannot be verified by venus-devnet") != NULL);
    vc_signed_message_done(&sm);
    /* RBF: nonce 0 of a1 at premium 100000, replace needs >= 125000 */
    ASSERT_OK(push(c, k1, &a1, &a2, 0, 100000, false, NULL, &err));
    ASSERT_TRUE(push(c, k1, &a1, &a2, 0, 124999, false, NULL, &err) < 0);
    ASSERT_TRUE(strstr(err, "replace by fee") != NULL);
    ASSERT_OK(push(c, k1, &a1, &a2, 0, 125000, false, NULL, &err));
    ASSERT_OK(dn_mpool_pending(c, &v));
    ASSERT_EQ(json_array_size(v), 4); /* a1#4, a2#0, a2#1, a1#0 (replaced) */
    json_decref(v);
    /* oversized */
    make_msg(&sm, k1, &a1, &a2, 1, "1", 100000, 10000000);
    uint8_t *big = calloc(1, 70000);
    vc_message_set_params(&sm.message, big, 70000);
    free(big);
    vc_message_sign_secp256k1(&sm.message, k1, &sm.signature);
    ASSERT_TRUE(dn_mpool_push(c, &sm, false, &cid, &err) < 0);
    ASSERT_TRUE(strstr(err, "too big") != NULL);
    vc_signed_message_done(&sm);
    dn_chain_free(c);
    free(err);
}

static void test_selection_order(void)
{
    dn_chain_t *c = new_chain(NULL);
    char *err = NULL;
    vc_cid_t c10, c11, c20;
    json_t *v;
    double tq[2] = {0.5, 0.9};

    ASSERT_NOTNULL(c);
    ASSERT_OK(push(c, k1, &a1, &a2, 0, 200000, false, &c10, &err));
    ASSERT_OK(push(c, k1, &a1, &a2, 1, 500000, false, &c11, &err));
    ASSERT_OK(push(c, k2, &a2, &a1, 0, 300000, false, &c20, &err));
    ASSERT_OK(dn_mpool_selects(c, NULL, 0, tq, 2, &v));
    ASSERT_EQ(json_array_size(v), 2);
    json_t *l = json_array_get(v, 0);
    ASSERT_EQ(json_array_size(l), 3);
    vc_cid_t got;
    ASSERT_OK(vc_cid_from_json(json_object_get(json_array_get(l, 0), "CID"), &got));
    ASSERT_TRUE(vc_cid_equal(&got, &c20));
    ASSERT_OK(vc_cid_from_json(json_object_get(json_array_get(l, 1), "CID"), &got));
    ASSERT_TRUE(vc_cid_equal(&got, &c10));
    ASSERT_OK(vc_cid_from_json(json_object_get(json_array_get(l, 2), "CID"), &got));
    ASSERT_TRUE(vc_cid_equal(&got, &c11));
    json_decref(v);
    dn_chain_free(c);
    free(err);
}

static const char *parent_base_fee(dn_chain_t *c, char out[64])
{
    json_t *h;
    if (dn_chain_head(c, &h) < 0)
        return "";
    snprintf(out, 64, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(h, "Blocks"), 0), "ParentBaseFee")));
    json_decref(h);
    return out;
}

static void test_base_fee(void)
{
    dn_chain_t *c = new_chain(NULL);
    vc_signed_message_t sm;
    vc_cid_t cid;
    char *err = NULL, buf[64];

    ASSERT_NOTNULL(c);
    make_msg(&sm, k1, &a1, &a2, 0, "1", 100000, 10000000000LL); /* a full block */
    ASSERT_OK(dn_mpool_push(c, &sm, false, &cid, &err));
    vc_signed_message_done(&sm);
    ASSERT_OK(dn_chain_step(c));
    ASSERT_STREQ(parent_base_fee(c, buf), "87500000"); /* genesis was empty: -12.5 % */
    ASSERT_OK(dn_chain_step(c));
    ASSERT_STREQ(parent_base_fee(c, buf), "98437500"); /* h1 was full: +12.5 % */
    ASSERT_OK(dn_chain_step(c));
    ASSERT_STREQ(parent_base_fee(c, buf), "86132812"); /* empty again: -12.5 %, Euclidean division */
    json_t *v;
    ASSERT_OK(dn_gas_estimate_premium(c, 1, &v));
    ASSERT_STREQ(json_string_value(v), "200000");
    json_decref(v);
    /* gas estimation: limit = 1e6 * 1.25, fee cap = base fee * floor(1.125^20*256)/256 + premium */
    json_t *m = json_pack("{s:s,s:s,s:s}", "To", s2, "From", s1, "Value", "1");
    ASSERT_OK(dn_gas_estimate_message_gas(c, m, NULL, &v, &err));
    ASSERT_EQ(json_integer_value(json_object_get(v, "GasLimit")), 1250000);
    ASSERT_STREQ(json_string_value(json_object_get(v, "GasPremium")), "100000");
    json_decref(v);
    json_t *batch = json_pack("[{s:O,s:n},{s:{s:s,s:s,s:s,s:i},s:n},{s:O,s:n}]", "Msg", m, "Spec", "Msg", "To", s2,
                              "From", s1, "Value", "0", "Method", 5, "Spec", "Msg", m, "Spec");
    ASSERT_OK(dn_gas_batch_estimate(c, batch, 7, &v, &err));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(v, 0), "Msg"), "Nonce")), 7);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(v, 0), "Err")), "");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(v, 1), "Msg"), "Nonce")), 0);
    ASSERT_TRUE(strlen(json_string_value(json_object_get(json_array_get(v, 1), "Err"))) > 0);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(v, 2), "Msg"), "Nonce")), 8);
    json_decref(v);
    json_decref(batch);
    json_decref(m);
    dn_chain_free(c);
    free(err);
}

typedef struct seen {
    char types[32][8];
    int64_t heights[32];
    int n;
} seen_t;

static void on_head(json_t *changes, void *userdata)
{
    seen_t *s = userdata;
    size_t i;
    json_t *e;
    json_array_foreach(changes, i, e) {
        if (s->n >= 32)
            return;
        snprintf(s->types[s->n], 8, "%s", json_string_value(json_object_get(e, "Type")));
        s->heights[s->n] = json_integer_value(json_object_get(json_object_get(e, "Val"), "Height"));
        s->n++;
    }
}

static void test_revert(void)
{
    dn_chain_t *c = new_chain(NULL);
    seen_t s = {0};
    uint64_t id;
    vc_cid_t cid;
    char *err = NULL;
    json_t *v, *old_key;

    ASSERT_NOTNULL(c);
    ASSERT_OK(dn_chain_subscribe(c, on_head, &s, &id));
    ASSERT_OK(dn_chain_step(c));
    ASSERT_OK(push(c, k1, &a1, &a2, 0, 100000, false, &cid, &err));
    ASSERT_OK(dn_chain_step(c)); /* h2 includes */
    ASSERT_OK(dn_chain_step(c)); /* h3 executes */
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid, -1, false, &v));
    old_key = json_incref(json_object_get(v, "TipSet"));
    json_decref(v);
    s.n = 0;
    ASSERT_OK(dn_chain_revert(c, 2, &err));
    ASSERT_EQ(s.n, 4);
    ASSERT_STREQ(s.types[0], "revert");
    ASSERT_EQ(s.heights[0], 3);
    ASSERT_STREQ(s.types[1], "revert");
    ASSERT_EQ(s.heights[1], 2);
    ASSERT_STREQ(s.types[2], "apply");
    ASSERT_EQ(s.heights[2], 2);
    ASSERT_STREQ(s.types[3], "apply");
    ASSERT_EQ(s.heights[3], 3);
    ASSERT_EQ(dn_chain_height(c), 3);
    /* re-included on the fork and executed in the new h3 */
    ASSERT_OK(dn_state_search_msg(c, NULL, 0, &cid, -1, false, &v));
    ASSERT_EQ(json_integer_value(json_object_get(v, "Height")), 3);
    ASSERT_FALSE(json_equal(json_object_get(v, "TipSet"), old_key));
    json_decref(v);
    json_decref(old_key);
    ASSERT_TRUE(dn_chain_revert(c, 10, &err) < 0);
    dn_chain_unsubscribe(c, id);
    s.n = 0;
    ASSERT_OK(dn_chain_step(c));
    ASSERT_EQ(s.n, 0);
    dn_chain_free(c);
    free(err);
}

/* A subscriber whose callback is slow, to be unsubscribed while the callback runs. */
typedef struct slow_sub {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, done;
} slow_sub_t;

static void on_head_slow(json_t *changes, void *userdata)
{
    slow_sub_t *s = userdata;
    (void)changes;
    pthread_mutex_lock(&s->mu);
    s->entered = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    vc_sleep_ms(300);
    pthread_mutex_lock(&s->mu);
    s->done = true; /* a use after free if the subscriber was freed after unsubscribe */
    pthread_mutex_unlock(&s->mu);
}

static void *step_thread(void *arg)
{
    return (void *)(intptr_t)dn_chain_step(arg);
}

/* dn_chain_unsubscribe returns only once a callback of that subscriber already under way has
 * finished (ChainNotify frees its state right after: venus-devnet hit a use after free when a
 * client went away during a head change). */
static void test_unsubscribe_waits_for_callback(void)
{
    dn_chain_t *c = new_chain(NULL);
    slow_sub_t s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    uint64_t id;
    pthread_t th;
    void *rv = NULL;

    ASSERT_NOTNULL(c);
    ASSERT_OK(dn_chain_subscribe(c, on_head_slow, &s, &id));
    ASSERT_EQ(pthread_create(&th, NULL, step_thread, c), 0);
    pthread_mutex_lock(&s.mu);
    while (!s.entered)
        pthread_cond_wait(&s.cond, &s.mu);
    pthread_mutex_unlock(&s.mu);
    dn_chain_unsubscribe(c, id); /* the callback is sleeping now */
    pthread_mutex_lock(&s.mu);
    bool done = s.done;
    pthread_mutex_unlock(&s.mu);
    ASSERT_TRUE(done);
    pthread_join(th, &rv);
    ASSERT_EQ((intptr_t)rv, 0);
    s.entered = s.done = false;
    ASSERT_OK(dn_chain_step(c)); /* unsubscribed: not called again */
    ASSERT_FALSE(s.entered);
    dn_chain_free(c);
}

/* Builds and submits a block for the collecting epoch; win = wanted WinCount (-1: correct). */
static int external_block(dn_chain_t *c, int64_t win_override, char **err)
{
    vc_address_t miner;
    json_t *bi = NULL, *key = head_key(c), *tmpl, *bm = NULL, *h;
    vc_bigint_t power, total;
    uint8_t vrf[96];
    int64_t wins = 0, epoch = dn_chain_epoch(c);
    int r;

    vc_address_new_id(1000, &miner);
    if ((r = dn_miner_get_base_info(c, &miner, epoch, NULL, 0, &bi)) < 0)
        goto out;
    vc_bigint_from_string(json_string_value(json_object_get(bi, "MinerPower")), &power);
    vc_bigint_from_string(json_string_value(json_object_get(bi, "NetworkPower")), &total);
    for (int i = 0; wins < 1 && i < 1000; i++) {
        vc_random(vrf, sizeof(vrf));
        vc_election_win_count(vrf, sizeof(vrf), &power, &total, &wins);
    }
    char *b64 = vc_base64_encode(vrf, sizeof(vrf));
    dn_chain_head(c, &h);
    json_int_t ts = json_integer_value(json_object_get(json_array_get(json_object_get(h, "Blocks"), 0), "Timestamp"));
    json_decref(h);
    tmpl = json_pack("{s:s,s:O,s:{s:s},s:{s:I,s:s},s:O,s:[],s:I,s:I,s:[{s:i,s:s}]}", "Miner", "t01000", "Parents", key,
                     "Ticket", "VRFProof", b64, "Eproof", "WinCount", (json_int_t)(win_override >= 0 ? win_override : wins),
                     "VRFProof", b64, "BeaconValues", json_object_get(bi, "BeaconEntries"), "Messages", "Epoch",
                     (json_int_t)epoch, "Timestamp", ts + 1, "WinningPoStProof", "PoStProof", 0, "ProofBytes", "dmFsaWQ=");
    free(b64);
    r = dn_miner_create_block(c, tmpl, &bm, err);
    json_decref(tmpl);
    if (r < 0)
        goto out;
    /* the miner signs the header (worker = a1, secp256k1) */
    vc_block_header_t hdr;
    vc_buf_t sb = {0};
    uint8_t sig[65];
    vc_signature_t s;
    json_t *hj = json_object_get(bm, "Header");
    if (!json_is_null(json_object_get(hj, "BlockSig")) || vc_block_header_from_json(hj, &hdr) < 0)
        return -EINVAL;
    vc_block_header_signing_bytes(&hdr, &sb);
    vc_secp256k1_sign(k1, sb.data, sb.len, sig);
    vc_signature_set(&s, VC_SIG_SECP256K1, sig, 65);
    json_object_set_new(hj, "BlockSig", vc_signature_to_json(&s));
    vc_buf_done(&sb);
    vc_block_header_done(&hdr);
    r = dn_sync_submit_block(c, bm, err);
out:
    json_decref(bi);
    json_decref(bm);
    json_decref(key);
    return r;
}

static void test_external_mining(void)
{
    dn_chain_t *c = new_chain(NULL);
    char *err = NULL;
    vc_address_t unknown;
    json_t *v;

    ASSERT_NOTNULL(c);
    dn_chain_set_mode(c, DN_MINE_EXTERNAL);
    vc_address_new_id(1234, &unknown);
    ASSERT_OK(dn_miner_get_base_info(c, &unknown, 1, NULL, 0, &v));
    ASSERT_TRUE(json_is_null(v));
    json_decref(v);
    /* the node makes block 1 itself (miners wait for a head above genesis), then a null round */
    ASSERT_OK(dn_chain_step(c));
    ASSERT_EQ(dn_chain_height(c), 1);
    ASSERT_OK(dn_chain_step(c));
    ASSERT_EQ(dn_chain_height(c), 1);
    ASSERT_EQ(dn_chain_epoch(c), 3);
    /* a wrong WinCount is refused */
    ASSERT_TRUE(external_block(c, 14, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "WinCount") != NULL);
    free(err);
    err = NULL;
    if (external_block(c, -1, &err) < 0) {
        VC_FAIL_("external block: %s", err ? err : "?");
        free(err);
        dn_chain_free(c);
        return;
    }
    ASSERT_OK(dn_chain_step(c));
    ASSERT_EQ(dn_chain_height(c), 3);
    ASSERT_OK(dn_chain_head(c, &v));
    json_t *b0 = json_array_get(json_object_get(v, "Blocks"), 0);
    ASSERT_EQ(json_array_size(json_object_get(b0, "BeaconEntries")), 2);
    ASSERT_STREQ(json_string_value(json_object_get(b0, "Miner")), "t01000");
    json_decref(v);
    dn_chain_free(c);
    free(err);
}

static void *run_thread(void *p)
{
    dn_chain_run(p, DN_MINE_SELF);
    return NULL;
}

static void test_run_clock(void)
{
    dn_chain_t *c = new_chain(NULL);
    ASSERT_NOTNULL(c);
    dn_chain_set_block_time_ms(c, 50);
    pthread_t t;
    ASSERT_OK(-pthread_create(&t, NULL, run_thread, c));
    vc_sleep_ms(400);
    dn_chain_stop(c);
    pthread_join(t, NULL);
    ASSERT_TRUE(dn_chain_height(c) >= 3);
    dn_chain_free(c);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    load_keys();
    VC_TEST_RUN(test_genesis_errors);
    VC_TEST_RUN(test_init_open_reopen);
    VC_TEST_RUN(test_push_execute_search);
    VC_TEST_RUN(test_mpool_rules);
    VC_TEST_RUN(test_selection_order);
    VC_TEST_RUN(test_base_fee);
    VC_TEST_RUN(test_revert);
    VC_TEST_RUN(test_unsubscribe_waits_for_callback);
    VC_TEST_RUN(test_external_mining);
    VC_TEST_RUN(test_run_clock);
    return VC_TEST_DONE();
}
