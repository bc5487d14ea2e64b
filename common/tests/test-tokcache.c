/* Tests for tokcache: hits, expiry, forget by token and by user, collisions stay correct. */
#include <stdio.h>

#include "vc-test.h"
#include "vc/tokcache.h"
#include "vc/util.h"

static vc_auth_info_t info_for(const char *name)
{
    vc_auth_info_t i = {0};
    snprintf(i.name, sizeof(i.name), "%s", name);
    snprintf(i.perm, sizeof(i.perm), "read");
    i.perms = VC_PERM_READ;
    return i;
}

static void test_basic(void)
{
    vc_tokcache_t *c;
    vc_auth_info_t got, a = info_for("alice"), b = info_for("bob");
    ASSERT_EQ(vc_tokcache_new(0, 10, &c), -EINVAL);
    ASSERT_OK(vc_tokcache_new(64, 150, &c));
    ASSERT_FALSE(vc_tokcache_get(c, "t1", &got));
    vc_tokcache_put(c, "t1", &a);
    vc_tokcache_put(c, "t2", &b);
    ASSERT_TRUE(vc_tokcache_get(c, "t1", &got));
    ASSERT_STREQ(got.name, "alice");
    vc_tokcache_forget(c, "t1");
    ASSERT_FALSE(vc_tokcache_get(c, "t1", &got));
    ASSERT_TRUE(vc_tokcache_get(c, "t2", &got));
    vc_tokcache_forget_name(c, "bob");
    ASSERT_FALSE(vc_tokcache_get(c, "t2", &got));
    vc_tokcache_put(c, "t3", &a);
    vc_sleep_ms(200);
    ASSERT_FALSE(vc_tokcache_get(c, "t3", &got)); /* expired */
    vc_tokcache_free(c);
}

/* One slot: every token collides; a lookup never returns another token's entry. */
static void test_collisions(void)
{
    vc_tokcache_t *c;
    vc_auth_info_t got, a = info_for("alice"), b = info_for("bob");
    ASSERT_OK(vc_tokcache_new(1, 10000, &c));
    vc_tokcache_put(c, "ta", &a);
    vc_tokcache_put(c, "tb", &b);
    ASSERT_FALSE(vc_tokcache_get(c, "ta", &got));
    ASSERT_TRUE(vc_tokcache_get(c, "tb", &got));
    ASSERT_STREQ(got.name, "bob");
    vc_tokcache_free(c);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_basic);
    VC_TEST_RUN(test_collisions);
    return VC_TEST_DONE();
}
