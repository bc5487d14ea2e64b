/*
 * Tests for auth-store.c. Runs against sqlite by default and against PostgreSQL with --pg
 * (every test gets its own fresh database from vc_test_db_fresh_dsn).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "auth-store.h"
#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/address.h"
#include "vc/util.h"

static bool use_pg;

static auth_store_t *open_store(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    auth_store_t *s = NULL;
    char *err = NULL;
    if (!dsn) {
        VC_FAIL_("no fresh database");
        return NULL;
    }
    int r = auth_store_open(dsn, &s, &err);
    if (r < 0) {
        VC_FAIL_("auth_store_open(%s): %s: %s", dsn, vc_strerror(r), err ? err : "");
        free(err);
        return NULL;
    }
    return s;
}

static bool errmsg_has(const char *needle)
{
    if (strstr(auth_store_errmsg(), needle))
        return true;
    return VC_FAIL_("errmsg '%s' lacks '%s'", auth_store_errmsg(), needle);
}

/* Address strings of each protocol, network letter n. */
static void addr_str(int proto, uint8_t seed, char n, char out[VC_ADDRESS_STRLEN_MAX])
{
    vc_address_t a = {0};
    uint8_t buf[65];
    memset(buf, seed, sizeof(buf));
    switch (proto) {
    case 1:
        buf[0] = 4;
        vc_address_new_secp256k1(buf, 65, &a);
        break;
    case 3:
        vc_address_new_bls(buf, 48, &a);
        break;
    case 4:
        vc_address_new_delegated(10, buf, 20, &a);
        break;
    default:
        vc_address_new_id(seed, &a);
        break;
    }
    if (vc_address_to_string(&a, n, out) < 0)
        out[0] = '\0';
}

static void test_open(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    auth_store_t *s = NULL;
    auth_user_t u = {0};
    char *err = NULL;
    ASSERT_NOTNULL(dsn);
    ASSERT_OK(auth_store_open(dsn, &s, &err));
    ASSERT_STREQ(auth_store_backend(s), use_pg ? "postgres" : "sqlite");
    ASSERT_EQ(auth_store_user_count(s), 0);
    ASSERT_EQ(auth_store_token_count(s), 0);
    ASSERT_OK(auth_store_user_create(s, "kept", NULL, 1, NULL));
    s = auth_store_free(s);
    /* Reopening applies no migration again and keeps the data. */
    ASSERT_OK(auth_store_open(dsn, &s, &err));
    ASSERT_OK(auth_store_user_get(s, "kept", &u));
    auth_user_done(&u);
    auth_store_free(s);
    ASSERT_ERR(auth_store_open("", &s, &err));
    free(err);
}

static void test_users(void)
{
    auth_store_t *s = open_store();
    auth_user_t u = {0}, u2 = {0};
    auth_user_t *v = NULL;
    size_t n = 0;
    ASSERT_NOTNULL(s);

    ASSERT_OK(auth_store_user_create(s, "alice", "first", 1, &u));
    ASSERT_EQ(strlen(u.id), 36);
    ASSERT_STREQ(u.name, "alice");
    ASSERT_STREQ(u.comment, "first");
    ASSERT_EQ(u.state, 1);
    ASSERT_GE(u.create_s, 1600000000);
    ASSERT_EQ(u.update_s, u.create_s);

    ASSERT_OK(auth_store_user_get(s, "alice", &u2));
    ASSERT_STREQ(u2.id, u.id);
    ASSERT_STREQ(u2.name, "alice");
    ASSERT_STREQ(u2.comment, "first");
    ASSERT_EQ(u2.state, 1);
    ASSERT_EQ(u2.create_s, u.create_s);
    auth_user_done(&u2);

    /* Duplicate: error, nothing changed. */
    ASSERT_EQ(auth_store_user_create(s, "alice", "other", 2, NULL), -EEXIST);
    ASSERT_STREQ(auth_store_errmsg(), "user already exists");
    ASSERT_EQ(auth_store_user_count(s), 1);
    ASSERT_OK(auth_store_user_get(s, "alice", &u2));
    ASSERT_STREQ(u2.id, u.id);
    ASSERT_STREQ(u2.comment, "first");
    auth_user_done(&u2);
    ASSERT_EQ(auth_store_user_create(s, "", NULL, 0, NULL), -EINVAL);

    ASSERT_EQ(auth_store_user_get(s, "nobody", &u2), -ENOENT);
    ASSERT_STREQ(auth_store_errmsg(), "record not found");

    /* Update: comment only, state only, neither. */
    ASSERT_OK(auth_store_user_update(s, "alice", "second", 0));
    ASSERT_OK(auth_store_user_get(s, "alice", &u2));
    ASSERT_STREQ(u2.comment, "second");
    ASSERT_EQ(u2.state, 1);
    auth_user_done(&u2);
    ASSERT_OK(auth_store_user_update(s, "alice", NULL, 2));
    ASSERT_OK(auth_store_user_update(s, "alice", NULL, 0));
    ASSERT_OK(auth_store_user_get(s, "alice", &u2));
    ASSERT_STREQ(u2.comment, "second");
    ASSERT_EQ(u2.state, 2);
    ASSERT_GE(u2.update_s, u.update_s);
    auth_user_done(&u2);
    ASSERT_EQ(auth_store_user_update(s, "nobody", "x", 1), -ENOENT);

    /* NULL comment = "". */
    ASSERT_OK(auth_store_user_create(s, "bob", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_create(s, "carol", "c", 1, NULL));
    ASSERT_OK(auth_store_user_get(s, "bob", &u2));
    ASSERT_STREQ(u2.comment, "");
    auth_user_done(&u2);
    ASSERT_EQ(auth_store_user_count(s), 3);

    /* List: create order (then name), state filter, pagination. */
    ASSERT_OK(auth_store_user_list(s, 0, 0, 0, &v, &n));
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(v[0].name, "alice");
    ASSERT_STREQ(v[1].name, "bob");
    ASSERT_STREQ(v[2].name, "carol");
    auth_users_free(v, n);
    ASSERT_OK(auth_store_user_list(s, 0, 0, 1, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].name, "bob");
    auth_users_free(v, n);
    ASSERT_OK(auth_store_user_list(s, 0, 0, 2, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].name, "alice");
    auth_users_free(v, n);
    ASSERT_OK(auth_store_user_list(s, 1, 1, 0, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].name, "bob");
    auth_users_free(v, n);
    ASSERT_OK(auth_store_user_list(s, -5, 2, 0, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].name, "alice");
    auth_users_free(v, n);
    ASSERT_OK(auth_store_user_list(s, 10, 0, 0, &v, &n));
    ASSERT_EQ(n, 0);
    auth_users_free(v, n);

    /* Delete / recover. */
    ASSERT_OK(auth_store_user_delete(s, "bob"));
    ASSERT_EQ(auth_store_user_get(s, "bob", &u2), -ENOENT);
    ASSERT_EQ(auth_store_user_delete(s, "bob"), -ENOENT);
    ASSERT_EQ(auth_store_user_update(s, "bob", "x", 1), -ENOENT);
    ASSERT_EQ(auth_store_user_count(s), 2);
    ASSERT_OK(auth_store_user_list(s, 0, 0, 0, &v, &n));
    ASSERT_EQ(n, 2);
    auth_users_free(v, n);
    ASSERT_EQ(auth_store_user_recover(s, "alice"), -ENOENT); /* live: nothing to recover */
    ASSERT_EQ(auth_store_user_recover(s, "nobody"), -ENOENT);
    ASSERT_OK(auth_store_user_recover(s, "bob"));
    ASSERT_OK(auth_store_user_get(s, "bob", &u2));
    ASSERT_STREQ(u2.comment, "");
    auth_user_done(&u2);
    ASSERT_EQ(auth_store_user_count(s), 3);

    /* Creating over a soft-deleted user replaces it. */
    ASSERT_OK(auth_store_user_delete(s, "alice"));
    ASSERT_OK(auth_store_user_create(s, "alice", "new", 1, &u2));
    ASSERT_TRUE(strcmp(u2.id, u.id) != 0);
    auth_user_done(&u2);
    ASSERT_OK(auth_store_user_get(s, "alice", &u2));
    ASSERT_STREQ(u2.comment, "new");
    ASSERT_EQ(u2.state, 1);
    auth_user_done(&u2);
    ASSERT_EQ(auth_store_user_recover(s, "alice"), -ENOENT);

    auth_user_done(&u);
    auth_store_free(s);
}

static void test_users_verify(void)
{
    auth_store_t *s = open_store();
    ASSERT_NOTNULL(s);
    ASSERT_OK(auth_store_user_create(s, "a", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_create(s, "b", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_create(s, "gone", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_delete(s, "gone"));

    const char *ok[] = {"a", "b"};
    ASSERT_OK(auth_store_users_verify(s, ok, 2));
    ASSERT_OK(auth_store_users_verify(s, ok, 0));
    const char *bad[] = {"a", "missing", "other"};
    ASSERT_EQ(auth_store_users_verify(s, bad, 3), -ENOENT);
    ASSERT_TRUE(errmsg_has("missing"));
    ASSERT_TRUE(strstr(auth_store_errmsg(), "other") == NULL);
    const char *deleted[] = {"gone"};
    ASSERT_EQ(auth_store_users_verify(s, deleted, 1), -ENOENT);
    ASSERT_TRUE(errmsg_has("gone"));
    auth_store_free(s);
}

static void fill_token(auth_token_t *t, const char *tok, const char *name, const char *perm, int64_t ns)
{
    t->token = (char *)tok;
    t->name = (char *)name;
    t->perm = (char *)perm;
    t->extra = NULL;
    t->secret_hex = (char *)"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    t->create_ns = ns;
    t->deleted = false;
}

static void test_tokens(void)
{
    auth_store_t *s = open_store();
    auth_token_t t = {0}, g = {0};
    auth_token_t *v = NULL;
    size_t n = 0;
    bool b;
    ASSERT_NOTNULL(s);

    fill_token(&t, "tok-b1", "bob", "write", 300);
    ASSERT_OK(auth_store_token_add(s, &t));
    fill_token(&t, "tok-a2", "alice", "admin", 200);
    t.extra = (char *)"ext";
    ASSERT_OK(auth_store_token_add(s, &t));
    fill_token(&t, "tok-a1", "alice", "read", 100);
    ASSERT_OK(auth_store_token_add(s, &t));
    ASSERT_EQ(auth_store_token_count(s), 3);

    /* Duplicate token string: rejected, nothing changed. */
    fill_token(&t, "tok-a1", "mallory", "admin", 1);
    ASSERT_EQ(auth_store_token_add(s, &t), -EEXIST);
    ASSERT_EQ(auth_store_token_count(s), 3);
    fill_token(&t, "", "x", "read", 1);
    ASSERT_EQ(auth_store_token_add(s, &t), -EINVAL);

    ASSERT_OK(auth_store_token_get(s, "tok-a2", false, &g));
    ASSERT_STREQ(g.token, "tok-a2");
    ASSERT_STREQ(g.name, "alice");
    ASSERT_STREQ(g.perm, "admin");
    ASSERT_STREQ(g.extra, "ext");
    ASSERT_EQ(strlen(g.secret_hex), 64);
    ASSERT_EQ(g.create_ns, 200);
    ASSERT_FALSE(g.deleted);
    auth_token_done(&g);
    ASSERT_OK(auth_store_token_get(s, "tok-a1", false, &g));
    ASSERT_STREQ(g.name, "alice"); /* not mallory */
    ASSERT_STREQ(g.extra, "");
    auth_token_done(&g);
    ASSERT_EQ(auth_store_token_get(s, "nope", true, &g), -ENOENT);
    ASSERT_STREQ(auth_store_errmsg(), "record not found");

    /* List: name then token; pagination. */
    ASSERT_OK(auth_store_token_list(s, 0, 0, &v, &n));
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(v[0].token, "tok-a1");
    ASSERT_STREQ(v[1].token, "tok-a2");
    ASSERT_STREQ(v[2].token, "tok-b1");
    auth_tokens_free(v, n);
    ASSERT_OK(auth_store_token_list(s, 1, 1, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].token, "tok-a2");
    auth_tokens_free(v, n);
    ASSERT_OK(auth_store_token_list(s, -1, 2, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].token, "tok-a1");
    auth_tokens_free(v, n);
    ASSERT_OK(auth_store_token_list(s, 3, 0, &v, &n));
    ASSERT_EQ(n, 0);
    auth_tokens_free(v, n);

    /* By name: create order. */
    ASSERT_OK(auth_store_token_list_by_name(s, "alice", &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].token, "tok-a1");
    ASSERT_STREQ(v[1].token, "tok-a2");
    auth_tokens_free(v, n);
    ASSERT_OK(auth_store_token_list_by_name(s, "nobody", &v, &n));
    ASSERT_EQ(n, 0);
    auth_tokens_free(v, n);

    /* has_perm. */
    ASSERT_OK(auth_store_token_has_perm(s, "alice", "admin", &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_token_has_perm(s, "bob", "admin", &b));
    ASSERT_FALSE(b);

    /* Soft delete / recover. */
    ASSERT_OK(auth_store_token_set_deleted(s, "tok-a2", true));
    ASSERT_EQ(auth_store_token_get(s, "tok-a2", false, &g), -ENOENT);
    ASSERT_OK(auth_store_token_get(s, "tok-a2", true, &g));
    ASSERT_TRUE(g.deleted);
    auth_token_done(&g);
    ASSERT_EQ(auth_store_token_count(s), 2);
    ASSERT_OK(auth_store_token_has_perm(s, "alice", "admin", &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_token_list(s, 0, 0, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[1].token, "tok-b1");
    auth_tokens_free(v, n);
    ASSERT_OK(auth_store_token_list_by_name(s, "alice", &v, &n));
    ASSERT_EQ(n, 1);
    auth_tokens_free(v, n);
    /* A deleted token's string still may not be reused. */
    fill_token(&t, "tok-a2", "alice", "admin", 5);
    ASSERT_EQ(auth_store_token_add(s, &t), -EEXIST);
    ASSERT_EQ(auth_store_token_set_deleted(s, "nope", true), -ENOENT);
    ASSERT_EQ(auth_store_token_set_deleted(s, "nope", false), -ENOENT);
    ASSERT_OK(auth_store_token_set_deleted(s, "tok-a2", false));
    ASSERT_OK(auth_store_token_get(s, "tok-a2", false, &g));
    ASSERT_FALSE(g.deleted);
    ASSERT_EQ(g.create_ns, 200);
    auth_token_done(&g);
    ASSERT_EQ(auth_store_token_count(s), 3);
    auth_store_free(s);
}

static void test_miners(void)
{
    auth_store_t *s = open_store();
    auth_miner_t *v = NULL;
    auth_user_t u = {0};
    size_t n = 0;
    bool created = false, b;
    char f1[VC_ADDRESS_STRLEN_MAX];
    ASSERT_NOTNULL(s);
    addr_str(1, 7, 'f', f1);
    ASSERT_OK(auth_store_user_create(s, "alice", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_create(s, "bob", NULL, 1, NULL));

    /* Rejections change nothing. */
    ASSERT_EQ(auth_store_miner_upsert(s, "alice", f1, true, &created), -EINVAL);
    ASSERT_STREQ(auth_store_errmsg(), "invalid protocol type");
    ASSERT_EQ(auth_store_miner_upsert(s, "alice", "f0x", true, &created), -EINVAL);
    ASSERT_EQ(auth_store_miner_upsert(s, "alice", "", true, &created), -EINVAL);
    ASSERT_EQ(auth_store_miner_upsert(s, "nobody", "f01000", true, &created), -ENOENT);
    ASSERT_TRUE(errmsg_has("nobody"));
    ASSERT_OK(auth_store_miner_has(s, "f01000", &b));
    ASSERT_FALSE(b);

    /* Create, then update (t prefix accepted; stored and returned as f). */
    ASSERT_OK(auth_store_miner_upsert(s, "alice", "f01000", true, &created));
    ASSERT_TRUE(created);
    ASSERT_OK(auth_store_miner_upsert(s, "alice", "t01000", false, &created));
    ASSERT_FALSE(created);
    ASSERT_OK(auth_store_miner_upsert(s, "alice", "t01001", true, &created));
    ASSERT_TRUE(created);
    ASSERT_OK(auth_store_miner_list(s, "alice", &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].miner, "f01000");
    ASSERT_STREQ(v[0].user, "alice");
    ASSERT_FALSE(v[0].open_mining);
    ASSERT_LT(v[0].create_ns, v[0].update_ns);
    ASSERT_STREQ(v[1].miner, "f01001");
    ASSERT_TRUE(v[1].open_mining);
    auth_miners_free(v, n);

    ASSERT_OK(auth_store_miner_has(s, "t01000", &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_miner_exist_in_user(s, "alice", "f01000", &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_miner_exist_in_user(s, "bob", "f01000", &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_user_by_miner(s, "f01000", &u));
    ASSERT_STREQ(u.name, "alice");
    auth_user_done(&u);
    ASSERT_EQ(auth_store_user_by_miner(s, "f09999", &u), -ENOENT);
    ASSERT_EQ(auth_store_miner_has(s, "bogus", &b), -EINVAL);

    /* Move to bob (open_mining reset to the given value). */
    ASSERT_OK(auth_store_miner_upsert(s, "bob", "f01000", true, &created));
    ASSERT_FALSE(created);
    ASSERT_OK(auth_store_miner_exist_in_user(s, "alice", "f01000", &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_miner_exist_in_user(s, "bob", "f01000", &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_user_by_miner(s, "f01000", &u));
    ASSERT_STREQ(u.name, "bob");
    auth_user_done(&u);
    ASSERT_OK(auth_store_miner_list(s, "bob", &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_TRUE(v[0].open_mining);
    auth_miners_free(v, n);
    ASSERT_OK(auth_store_miner_list(s, "alice", &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].miner, "f01001");
    auth_miners_free(v, n);

    /* Delete, then revive (a revived row counts as created). */
    ASSERT_OK(auth_store_miner_delete(s, "f01000", &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_miner_delete(s, "f01000", &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_miner_delete(s, "f05555", &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_miner_has(s, "f01000", &b));
    ASSERT_FALSE(b);
    ASSERT_EQ(auth_store_user_by_miner(s, "f01000", &u), -ENOENT);
    ASSERT_OK(auth_store_miner_list(s, "bob", &v, &n));
    ASSERT_EQ(n, 0);
    auth_miners_free(v, n);
    ASSERT_OK(auth_store_miner_upsert(s, "alice", "f01000", true, &created));
    ASSERT_TRUE(created);
    ASSERT_OK(auth_store_miner_exist_in_user(s, "alice", "f01000", &b));
    ASSERT_TRUE(b);

    /* A deleted user cannot get miners; its miner's owner lookup fails. */
    ASSERT_OK(auth_store_user_delete(s, "bob"));
    ASSERT_EQ(auth_store_miner_upsert(s, "bob", "f01002", true, &created), -ENOENT);
    ASSERT_OK(auth_store_miner_has(s, "f01002", &b));
    ASSERT_FALSE(b);
    auth_store_free(s);
}

static void test_signers(void)
{
    auth_store_t *s = open_store();
    auth_signer_t *v = NULL;
    auth_user_t *uv = NULL;
    size_t n = 0;
    bool b;
    char f1[VC_ADDRESS_STRLEN_MAX], t1[VC_ADDRESS_STRLEN_MAX], f3[VC_ADDRESS_STRLEN_MAX];
    char f4[VC_ADDRESS_STRLEN_MAX], t4[VC_ADDRESS_STRLEN_MAX], f1b[VC_ADDRESS_STRLEN_MAX];
    ASSERT_NOTNULL(s);
    addr_str(1, 1, 'f', f1);
    addr_str(1, 1, 't', t1);
    addr_str(1, 2, 'f', f1b);
    addr_str(3, 3, 'f', f3);
    addr_str(4, 4, 'f', f4);
    addr_str(4, 4, 't', t4);
    ASSERT_TRUE(f1[0] == 'f' && t1[0] == 't' && f3[1] == '3' && f4[1] == '4');
    ASSERT_OK(auth_store_user_create(s, "alice", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_create(s, "bob", NULL, 1, NULL));

    /* Rejections (an f0 among valid ones, unknown user) register nothing. */
    const char *with_id[] = {f1, "f01000"};
    ASSERT_EQ(auth_store_signer_register(s, "alice", with_id, 2), -EINVAL);
    ASSERT_STREQ(auth_store_errmsg(), "invalid protocol type");
    const char *junk[] = {"f1nonsense"};
    ASSERT_EQ(auth_store_signer_register(s, "alice", junk, 1), -EINVAL);
    const char *one[] = {f1};
    ASSERT_EQ(auth_store_signer_register(s, "nobody", one, 1), -ENOENT);
    ASSERT_TRUE(errmsg_has("nobody"));
    ASSERT_OK(auth_store_signer_has(s, f1, &b));
    ASSERT_FALSE(b);

    const char *three[] = {t1, f3, t4};
    ASSERT_OK(auth_store_signer_register(s, "alice", three, 3));
    ASSERT_OK(auth_store_signer_register(s, "alice", three, 3)); /* idempotent */
    const char *bobs[] = {f1, f1b};
    ASSERT_OK(auth_store_signer_register(s, "bob", bobs, 2));

    ASSERT_OK(auth_store_signer_list(s, "alice", &v, &n));
    ASSERT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        ASSERT_STREQ(v[i].user, "alice");
        ASSERT_TRUE(vc_streq(v[i].signer, f1) || vc_streq(v[i].signer, f3) || vc_streq(v[i].signer, f4));
    }
    auth_signers_free(v, n);

    ASSERT_OK(auth_store_signer_exist_in_user(s, "alice", f1, &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_signer_exist_in_user(s, "alice", t1, &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_signer_exist_in_user(s, "alice", f1b, &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_signer_has(s, f4, &b));
    ASSERT_TRUE(b);

    ASSERT_OK(auth_store_users_by_signer(s, f1, &uv, &n));
    ASSERT_EQ(n, 2);
    ASSERT_TRUE((vc_streq(uv[0].name, "alice") && vc_streq(uv[1].name, "bob")) ||
                (vc_streq(uv[0].name, "bob") && vc_streq(uv[1].name, "alice")));
    auth_users_free(uv, n);
    ASSERT_OK(auth_store_users_by_signer(s, f1b, &uv, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(uv[0].name, "bob");
    auth_users_free(uv, n);

    /* Unregister one pair. */
    const char *u1[] = {f1};
    ASSERT_OK(auth_store_signer_unregister(s, "bob", u1, 1));
    ASSERT_OK(auth_store_signer_exist_in_user(s, "bob", f1, &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_signer_exist_in_user(s, "alice", f1, &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_users_by_signer(s, f1, &uv, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(uv[0].name, "alice");
    auth_users_free(uv, n);
    /* Re-register revives. */
    ASSERT_OK(auth_store_signer_register(s, "bob", u1, 1));
    ASSERT_OK(auth_store_signer_exist_in_user(s, "bob", f1, &b));
    ASSERT_TRUE(b);

    /* Users_by_signer skips deleted users (and the delete drops the binding). */
    ASSERT_OK(auth_store_user_delete(s, "bob"));
    ASSERT_OK(auth_store_users_by_signer(s, f1b, &uv, &n));
    ASSERT_EQ(n, 0);
    auth_users_free(uv, n);
    ASSERT_OK(auth_store_signer_has(s, f1b, &b));
    ASSERT_FALSE(b);
    ASSERT_EQ(auth_store_signer_register(s, "bob", u1, 1), -ENOENT);

    /* Delete a signer for everyone. */
    ASSERT_OK(auth_store_user_recover(s, "bob"));
    ASSERT_OK(auth_store_signer_register(s, "bob", u1, 1));
    ASSERT_OK(auth_store_signer_delete(s, t1, &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_signer_delete(s, f1, &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_signer_has(s, f1, &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_users_by_signer(s, f1, &uv, &n));
    ASSERT_EQ(n, 0);
    auth_users_free(uv, n);
    ASSERT_OK(auth_store_signer_list(s, "alice", &v, &n));
    ASSERT_EQ(n, 2);
    auth_signers_free(v, n);
    ASSERT_EQ(auth_store_signer_has(s, "xyz", &b), -EINVAL);
    auth_store_free(s);
}

/* Deleting a user soft-deletes its miners and signers (not tokens); recover restores only it. */
static void test_user_delete_cascade(void)
{
    auth_store_t *s = open_store();
    auth_token_t t = {0}, g = {0};
    auth_miner_t *mv = NULL;
    auth_signer_t *sv = NULL;
    size_t n = 0;
    bool b, created;
    char f1[VC_ADDRESS_STRLEN_MAX];
    ASSERT_NOTNULL(s);
    addr_str(1, 9, 'f', f1);

    ASSERT_OK(auth_store_user_create(s, "alice", NULL, 1, NULL));
    ASSERT_OK(auth_store_user_create(s, "bob", NULL, 1, NULL));
    ASSERT_OK(auth_store_miner_upsert(s, "alice", "f01000", true, &created));
    ASSERT_OK(auth_store_miner_upsert(s, "bob", "f02000", true, &created));
    const char *sg[] = {f1};
    ASSERT_OK(auth_store_signer_register(s, "alice", sg, 1));
    ASSERT_OK(auth_store_signer_register(s, "bob", sg, 1));
    fill_token(&t, "tok-alice", "alice", "admin", 1);
    ASSERT_OK(auth_store_token_add(s, &t));

    ASSERT_OK(auth_store_user_delete(s, "alice"));
    ASSERT_OK(auth_store_miner_has(s, "f01000", &b));
    ASSERT_FALSE(b);
    ASSERT_OK(auth_store_signer_exist_in_user(s, "alice", f1, &b));
    ASSERT_FALSE(b);
    /* bob's rows untouched */
    ASSERT_OK(auth_store_miner_has(s, "f02000", &b));
    ASSERT_TRUE(b);
    ASSERT_OK(auth_store_signer_exist_in_user(s, "bob", f1, &b));
    ASSERT_TRUE(b);
    /* tokens stay */
    ASSERT_OK(auth_store_token_get(s, "tok-alice", false, &g));
    auth_token_done(&g);
    ASSERT_EQ(auth_store_token_count(s), 1);

    ASSERT_OK(auth_store_user_recover(s, "alice"));
    ASSERT_OK(auth_store_miner_list(s, "alice", &mv, &n));
    ASSERT_EQ(n, 0);
    auth_miners_free(mv, n);
    ASSERT_OK(auth_store_signer_list(s, "alice", &sv, &n));
    ASSERT_EQ(n, 0);
    auth_signers_free(sv, n);
    ASSERT_OK(auth_store_miner_has(s, "f01000", &b));
    ASSERT_FALSE(b);
    auth_store_free(s);
}

static void test_ratelimits(void)
{
    auth_store_t *s = open_store();
    auth_ratelimit_t *v = NULL;
    size_t n = 0;
    char id1[37], id2[37];
    ASSERT_NOTNULL(s);

    auth_ratelimit_t l = {.name = (char *)"alice", .cap = 100, .reset_dur_ns = 60000000000LL};
    ASSERT_OK(auth_store_ratelimit_upsert(s, &l, id1));
    ASSERT_EQ(strlen(id1), 36);
    auth_ratelimit_t l2 = {
        .name = (char *)"alice", .service = (char *)"svc", .api = (char *)"api", .cap = 5, .reset_dur_ns = 1};
    ASSERT_OK(auth_store_ratelimit_upsert(s, &l2, id2));
    ASSERT_TRUE(strcmp(id1, id2) != 0);

    ASSERT_OK(auth_store_ratelimit_get(s, "alice", NULL, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].id, id1); /* service "" sorts first */
    ASSERT_STREQ(v[0].name, "alice");
    ASSERT_STREQ(v[0].service, "");
    ASSERT_STREQ(v[0].api, "");
    ASSERT_EQ(v[0].cap, 100);
    ASSERT_EQ(v[0].reset_dur_ns, 60000000000LL);
    ASSERT_STREQ(v[1].service, "svc");
    auth_ratelimits_free(v, n);
    ASSERT_OK(auth_store_ratelimit_get(s, "alice", id2, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].api, "api");
    auth_ratelimits_free(v, n);
    ASSERT_OK(auth_store_ratelimit_get(s, "bob", "", &v, &n));
    ASSERT_EQ(n, 0);
    auth_ratelimits_free(v, n);

    /* Update by id. */
    memcpy(l.id, id1, sizeof(l.id));
    l.cap = 7;
    char id3[37];
    ASSERT_OK(auth_store_ratelimit_upsert(s, &l, id3));
    ASSERT_STREQ(id3, id1);
    ASSERT_OK(auth_store_ratelimit_get(s, "alice", id1, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_EQ(v[0].cap, 7);
    auth_ratelimits_free(v, n);
    /* Given, unknown id: created with that id. */
    auth_ratelimit_t l3 = {.id = "fixed-id", .name = (char *)"bob", .cap = 1};
    ASSERT_OK(auth_store_ratelimit_upsert(s, &l3, id3));
    ASSERT_STREQ(id3, "fixed-id");
    ASSERT_OK(auth_store_ratelimit_get(s, "bob", NULL, &v, &n));
    ASSERT_EQ(n, 1);
    auth_ratelimits_free(v, n);
    auth_ratelimit_t bad = {.cap = 1};
    ASSERT_EQ(auth_store_ratelimit_upsert(s, &bad, id3), -EINVAL);

    /* Delete: needs the right (name, id). */
    ASSERT_EQ(auth_store_ratelimit_delete(s, "bob", id1), -ENOENT);
    ASSERT_OK(auth_store_ratelimit_delete(s, "alice", id1));
    ASSERT_EQ(auth_store_ratelimit_delete(s, "alice", id1), -ENOENT);
    ASSERT_OK(auth_store_ratelimit_get(s, "alice", NULL, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].id, id2);
    auth_ratelimits_free(v, n);
    auth_store_free(s);
}

/* ---- concurrency ---- */

#define CONC_THREADS 8
#define CONC_USERS 15

typedef struct conc_arg {
    auth_store_t *s;
    int idx;
    int failures;
} conc_arg_t;

static void *conc_worker(void *p)
{
    conc_arg_t *a = p;
    for (int i = 0; i < CONC_USERS; i++) {
        char name[32], tok[48];
        snprintf(name, sizeof(name), "u%d-%d", a->idx, i);
        snprintf(tok, sizeof(tok), "tok-%d-%d", a->idx, i);
        if (auth_store_user_create(a->s, name, "c", 1, NULL) < 0)
            a->failures++;
        auth_token_t t = {0};
        fill_token(&t, tok, name, "read", i);
        if (auth_store_token_add(a->s, &t) < 0)
            a->failures++;
        char maddr[32];
        snprintf(maddr, sizeof(maddr), "f0%d", 1000 + a->idx * 100 + i);
        bool created;
        if (auth_store_miner_upsert(a->s, name, maddr, true, &created) < 0 || !created)
            a->failures++;
    }
    return NULL;
}

static void test_concurrency(void)
{
    auth_store_t *s = open_store();
    pthread_t th[CONC_THREADS];
    conc_arg_t args[CONC_THREADS];
    ASSERT_NOTNULL(s);
    for (int i = 0; i < CONC_THREADS; i++) {
        args[i] = (conc_arg_t){.s = s, .idx = i};
        ASSERT_EQ(pthread_create(&th[i], NULL, conc_worker, &args[i]), 0);
    }
    for (int i = 0; i < CONC_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < CONC_THREADS; i++)
        ASSERT_EQ(args[i].failures, 0);
    ASSERT_EQ(auth_store_user_count(s), CONC_THREADS * CONC_USERS);
    ASSERT_EQ(auth_store_token_count(s), CONC_THREADS * CONC_USERS);
    for (int i = 0; i < CONC_THREADS; i++) {
        for (int j = 0; j < CONC_USERS; j++) {
            char name[32];
            auth_token_t *v = NULL;
            size_t n = 0;
            snprintf(name, sizeof(name), "u%d-%d", i, j);
            ASSERT_OK(auth_store_token_list_by_name(s, name, &v, &n));
            ASSERT_EQ(n, 1);
            auth_tokens_free(v, n);
        }
    }
    auth_store_free(s);
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
    VC_TEST_RUN(test_open);
    VC_TEST_RUN(test_users);
    VC_TEST_RUN(test_users_verify);
    VC_TEST_RUN(test_tokens);
    VC_TEST_RUN(test_miners);
    VC_TEST_RUN(test_signers);
    VC_TEST_RUN(test_user_delete_cascade);
    VC_TEST_RUN(test_ratelimits);
    VC_TEST_RUN(test_concurrency);
    return VC_TEST_DONE();
}
