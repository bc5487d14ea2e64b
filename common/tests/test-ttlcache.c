/* Tests for ttlcache: hit, miss after expiry, collisions never return another key's value. */
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

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_ttlcache);
    return VC_TEST_DONE();
}
