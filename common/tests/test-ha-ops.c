/* test-ha-ops: the [HA] section, the Ha* answers and the lease gauges (vc/ha-ops.h), on sqlite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/ha-ops.h"
#include "vc/util.h"

static int read_settings(const char *toml, vc_ha_settings_t *ret, char **err)
{
    vc_conf_t *c = vc_conf_new();
    int r = vc_conf_parse(c, "test", toml, strlen(toml));
    if (r == 0)
        r = vc_ha_settings_read(c, ret, err);
    vc_conf_free(c);
    return r;
}

static void test_settings(void)
{
    vc_ha_settings_t s;
    char *err = NULL;
    /* the defaults, from the text daemons embed and from an empty file alike */
    ASSERT_OK(read_settings(VC_HA_CONF_DEFAULTS, &s, &err));
    ASSERT_TRUE(s.enable);
    ASSERT_STREQ(s.scope, "");
    ASSERT_STREQ(s.holder, "");
    ASSERT_EQ(s.cfg.lease_ms, 15000);
    ASSERT_EQ(s.cfg.renew_deadline_ms, 10000);
    ASSERT_EQ(s.cfg.retry_ms, 2000);
    vc_ha_settings_done(&s);
    ASSERT_OK(read_settings("", &s, &err));
    ASSERT_TRUE(s.enable);
    ASSERT_EQ(s.cfg.lease_ms, 15000);
    vc_ha_settings_done(&s);

    ASSERT_OK(read_settings("[HA]\nEnable = false\nScope = \"g1\"\nHolder = \"host-a\"\nLease = \"2s\"\n"
                            "RenewDeadline = \"1400ms\"\nRetry = \"400ms\"\n",
                            &s, &err));
    ASSERT_TRUE(!s.enable);
    ASSERT_STREQ(s.scope, "g1");
    ASSERT_STREQ(s.holder, "host-a");
    ASSERT_EQ(s.cfg.lease_ms, 2000);
    ASSERT_EQ(s.cfg.renew_deadline_ms, 1400);
    ASSERT_EQ(s.cfg.retry_ms, 400);
    vc_ha_settings_done(&s);

    /* bad values name the key */
    ASSERT_TRUE(read_settings("[HA]\nLease = \"1s\"\nRenewDeadline = \"2s\"\n", &s, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "[HA] Lease, RenewDeadline, Retry") != NULL);
    free(err);
    err = NULL;
    ASSERT_TRUE(read_settings("[HA]\nEnable = \"yes\"\n", &s, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "Enable") != NULL);
    free(err);
    err = NULL;
    ASSERT_TRUE(read_settings("[HA]\nLease = \"soon\"\n", &s, &err) < 0);
    ASSERT_TRUE(err && strstr(err, "Lease") != NULL);
    free(err);
    err = NULL;
    char big[400];
    snprintf(big, sizeof(big), "[HA]\nScope = \"%0200d\"\n", 0);
    ASSERT_EQ(read_settings(big, &s, &err), -EINVAL);
    ASSERT_TRUE(err && strstr(err, "HA.Scope") != NULL);
    free(err);
}

static void test_ops(void)
{
    vc_db_t *db = NULL;
    ASSERT_OK(vc_db_open(vc_test_db_fresh_dsn(false), NULL, &db, NULL));
    json_t *st = NULL;
    char *err = NULL;
    const char *why = NULL;

    /* HA disabled: always the leader, operations refused with a clear line */
    ASSERT_OK(vc_ha_status_json(NULL, NULL, db, &st, &err));
    ASSERT_TRUE(json_is_false(json_object_get(st, "Enabled")));
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "leader");
    json_decref(st);
    ASSERT_EQ(vc_ha_op_promote(NULL, false, &why), -EINVAL);
    ASSERT_TRUE(strstr(why, "Enable = false") != NULL);
    ASSERT_EQ(vc_ha_op_pause(NULL, true, &why), -EINVAL);

    vc_ha_settings_t off = {.enable = false, .scope = "", .holder = ""};
    vc_ha_elector_t *e = NULL;
    ASSERT_OK(vc_ha_elector_from_settings(db, "svc", &off, NULL, NULL, NULL, &e));
    ASSERT_TRUE(e == NULL);

    vc_ha_settings_t on = {.enable = true, .scope = "s1", .holder = "me", .cfg = {2000, 1400, 300}};
    ASSERT_OK(vc_ha_elector_from_settings(db, "svc", &on, NULL, NULL, NULL, &e));
    ASSERT_TRUE(e != NULL);
    for (int i = 0; i < 100 && !vc_ha_is_leader(e, NULL); i++)
        vc_sleep_ms(50);
    ASSERT_OK(vc_ha_status_json(e, NULL, db, &st, &err));
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "leader");
    ASSERT_STREQ(json_string_value(json_object_get(st, "Scope")), "s1");
    ASSERT_TRUE(strncmp(json_string_value(json_object_get(st, "Holder")), "me/", 3) == 0);
    json_t *lease = json_object_get(st, "Lease");
    ASSERT_TRUE(json_is_true(json_object_get(lease, "Live")));
    ASSERT_EQ(json_integer_value(json_object_get(lease, "Token")), json_integer_value(json_object_get(st, "Token")));
    json_decref(st);

    /* the gauges follow the role */
    vc_metrics_t *m = vc_metrics_new("t");
    vc_ha_metrics_register(m, e);
    vc_buf_t b = {0};
    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_TRUE(strstr(b.data, "t_ha_leader 1") != NULL);
    b.len = 0;

    ASSERT_OK(vc_ha_op_pause(e, true, &why));
    ASSERT_OK(vc_ha_status_json(e, NULL, db, &st, &err));
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "paused");
    ASSERT_EQ(json_integer_value(json_object_get(st, "Token")), 0);
    json_decref(st);
    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_TRUE(strstr(b.data, "t_ha_leader 0") != NULL && strstr(b.data, "t_ha_token 0") != NULL);
    ASSERT_OK(vc_ha_op_promote(e, false, &why)); /* released by the pause: free to take */
    ASSERT_TRUE(vc_ha_is_leader(e, NULL));
    vc_buf_done(&b);
    vc_metrics_free(m);
    vc_ha_elector_free(e);
    vc_db_free(db);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    VC_TEST_RUN(test_settings);
    VC_TEST_RUN(test_ops);
    return VC_TEST_DONE();
}
