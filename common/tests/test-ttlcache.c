/* Tests for ttlcache: hit, miss after expiry, collisions never return another key's value, four
 * ways per set, stale entries handed out while one caller refreshes. */
#include "vc-test.h"
#include "vc/ttlcache.h"
#include "vc/util.h"

static void test_ttlcache(void)
{
    vc_ttlcache_t *c;
    ASSERT_EQ(vc_ttlcache_new(0, 10, &c), -EINVAL);
    ASSERT_OK(vc_ttlcache_new(1, 150, &c)); /* one slot: every key collides */
    ASSERT_TRUE(vc_ttlcache_get(c, "a") == NULL);
    json_t *t = json_true();
    vc_ttlcache_put(c, "a", t);
    json_t *v = vc_ttlcache_get(c, "a");
    ASSERT_TRUE(json_is_true(v));
    json_decref(v);
    json_t *s = json_string("x");
    vc_ttlcache_put(c, "b", s);
    json_decref(s);
    ASSERT_TRUE(vc_ttlcache_get(c, "a") == NULL);
    v = vc_ttlcache_get(c, "b");
    ASSERT_STREQ(json_string_value(v), "x");
    json_decref(v);
    vc_sleep_ms(200);
    ASSERT_TRUE(vc_ttlcache_get(c, "b") == NULL);
    vc_ttlcache_free(c);
}

static bool has(vc_ttlcache_t *c, const char *key)
{
    json_t *v = vc_ttlcache_get(c, key);
    json_decref(v);
    return v != NULL;
}

static void test_ways(void)
{
    vc_ttlcache_t *c;
    ASSERT_OK(vc_ttlcache_new(4, 10000, &c)); /* one set of four */
    const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (int i = 0; i < 4; i++) {
        vc_ttlcache_put(c, keys[i], json_true());
        vc_sleep_ms(2);
    }
    for (int i = 0; i < 4; i++)
        ASSERT_TRUE(has(c, keys[i]));
    vc_ttlcache_put(c, "k5", json_true()); /* drops k1, the first to expire */
    ASSERT_FALSE(has(c, "k1"));
    ASSERT_TRUE(has(c, "k2") && has(c, "k5"));
    vc_ttlcache_put(c, "k2", json_false()); /* same key: replaced in place */
    json_t *v = vc_ttlcache_get(c, "k2");
    ASSERT_TRUE(json_is_false(v));
    json_decref(v);
    ASSERT_TRUE(has(c, "k3") && has(c, "k4") && has(c, "k5"));
    vc_ttlcache_free(c);
}

static void test_refresh(void)
{
    vc_ttlcache_t *c;
    bool refresh = true;
    ASSERT_OK(vc_ttlcache_new(64, 100, &c));
    ASSERT_TRUE(vc_ttlcache_get_refresh(c, "a", &refresh) == NULL);
    ASSERT_FALSE(refresh);
    json_t *s = json_string("old");
    vc_ttlcache_put(c, "a", s);
    json_decref(s);
    json_t *v = vc_ttlcache_get_refresh(c, "a", &refresh); /* live */
    ASSERT_STREQ(json_string_value(v), "old");
    ASSERT_FALSE(refresh);
    json_decref(v);
    vc_sleep_ms(130);
    ASSERT_FALSE(has(c, "a")); /* expired for vc_ttlcache_get */
    v = vc_ttlcache_get_refresh(c, "a", &refresh); /* stale: this caller refreshes */
    ASSERT_STREQ(json_string_value(v), "old");
    ASSERT_TRUE(refresh);
    json_decref(v);
    v = vc_ttlcache_get_refresh(c, "a", &refresh); /* stale: someone refreshes already */
    ASSERT_STREQ(json_string_value(v), "old");
    ASSERT_FALSE(refresh);
    json_decref(v);
    s = json_string("new");
    vc_ttlcache_put(c, "a", s);
    json_decref(s);
    v = vc_ttlcache_get_refresh(c, "a", &refresh);
    ASSERT_STREQ(json_string_value(v), "new");
    ASSERT_FALSE(refresh);
    json_decref(v);
    vc_sleep_ms(230); /* past twice the TTL: gone */
    ASSERT_TRUE(vc_ttlcache_get_refresh(c, "a", &refresh) == NULL);
    ASSERT_FALSE(refresh);
    vc_ttlcache_free(c);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_ttlcache);
    VC_TEST_RUN(test_ways);
    VC_TEST_RUN(test_refresh);
    return VC_TEST_DONE();
}
