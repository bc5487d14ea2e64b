/*
 * Tests for ha-peers.c: presence rows and the heartbeat thread. sqlite by default (two pools on
 * one file, as two processes would have); PostgreSQL with --pg.
 *
 * Nothing here depends on timing: "a stopped heartbeat disappears" moves the row's last_seen_ms
 * back by SQL instead of waiting, and the heartbeat thread is only waited for (bounded polls)
 * to reach a state, never timed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/ha-ops.h"
#include "vc/ha-peers.h"
#include "vc/util.h"

#define SVC "svc"

static bool use_pg;

static vc_db_t *open_db(const char *dsn)
{
    vc_db_t *db = NULL;
    char *err = NULL;
    int r = vc_db_open(dsn, &(vc_db_options_t){.max_conns = 4}, &db, &err);
    if (r < 0)
        VC_FAIL_("vc_db_open(%s): %s: %s", dsn, vc_strerror(r), err ? err : "");
    free(err);
    return db;
}

static int beat(vc_db_t *db, const char *scope, const char *instance, const char *addr, const char *role,
                int64_t heartbeat_ms)
{
    vc_ha_peer_beat_t b = {.service = SVC,
                           .scope = scope,
                           .instance = instance,
                           .addr = addr,
                           .role = role,
                           .heartbeat_ms = heartbeat_ms};
    return vc_ha_peer_beat(db, &b, 0);
}

/* Moves the row's last_seen_ms (and started_at_ms) back by ms, as if it had not beaten since. */
static void age_row(vc_db_t *db, const char *instance, int64_t ms)
{
    vc_db_conn_t *c;
    ASSERT_OK(vc_db_acquire(db, -1, &c));
    int r = vc_db_exec(c,
                       "UPDATE vc_peers SET last_seen_ms = last_seen_ms - ?, started_at_ms = started_at_ms - ? "
                       "WHERE instance = ?",
                       VC_DB_ARGS(VC_DB_INT64(ms), VC_DB_INT64(ms), VC_DB_TEXT(instance)));
    vc_db_release(c);
    ASSERT_EQ(r, 1);
}

static int64_t rows_in_table(vc_db_t *db)
{
    vc_db_conn_t *c;
    int64_t n = -1;
    if (vc_db_acquire(db, -1, &c) < 0)
        return -1;
    if (vc_db_query_int64(c, "SELECT count(*) FROM vc_peers", VC_DB_NONE, &n) < 0)
        n = -1;
    vc_db_release(c);
    return n;
}

static void test_two_instances(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    ASSERT_TRUE(dsn != NULL);
    vc_db_t *a = open_db(dsn), *b = open_db(dsn);
    ASSERT_TRUE(a && b);
    ASSERT_OK(vc_ha_peers_ensure_schema(a));
    ASSERT_OK(vc_ha_peers_ensure_schema(b)); /* idempotent */

    ASSERT_EQ(beat(a, "", "host-a:1/0001", "127.0.0.1:1001", "leader", 0), 1);
    ASSERT_EQ(beat(b, "", "host-b:2/0002", "127.0.0.1:1002", "standby", 2000), 2);
    /* another scope and another service are not peers */
    ASSERT_EQ(beat(b, "other", "host-c:3/0003", "", "active", 0), 1);

    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    ASSERT_EQ(vc_ha_peers_list(a, SVC, "", &v, &n), 2);
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[0].instance, "host-a:1/0001");
    ASSERT_STREQ(v[0].addr, "127.0.0.1:1001");
    ASSERT_STREQ(v[0].role, "leader");
    ASSERT_EQ(v[0].heartbeat_ms, VC_HA_PEER_HEARTBEAT_MS_DEFAULT);
    ASSERT_STREQ(v[1].instance, "host-b:2/0002");
    ASSERT_STREQ(v[1].role, "standby");
    ASSERT_EQ(v[1].heartbeat_ms, 2000);
    ASSERT_TRUE(v[0].age_ms >= 0 && v[0].up_ms >= v[0].age_ms);
    int64_t started = v[0].started_at_ms, seen = v[0].last_seen_ms;
    free(v);
    ASSERT_EQ(vc_ha_peers_list(b, SVC, "other", &v, &n), 1);
    ASSERT_STREQ(v[0].instance, "host-c:3/0003");
    free(v);
    v = NULL;
    ASSERT_EQ(vc_ha_peers_list(b, "nobody", "", &v, &n), 0);
    ASSERT_TRUE(v == NULL && n == 0);

    /* a new beat moves last_seen and changes role and address, never started_at */
    ASSERT_EQ(beat(a, "", "host-a:1/0001", "127.0.0.1:2001", "standby", 0), 2);
    ASSERT_EQ(vc_ha_peers_list(b, SVC, "", &v, &n), 2);
    ASSERT_EQ(v[0].started_at_ms, started);
    ASSERT_TRUE(v[0].last_seen_ms >= seen);
    ASSERT_STREQ(v[0].addr, "127.0.0.1:2001");
    ASSERT_STREQ(v[0].role, "standby");
    free(v);
    vc_db_free(b);
    vc_db_free(a);
}

static void test_gone_and_pruned(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_TRUE(db != NULL);
    ASSERT_OK(vc_ha_peers_ensure_schema(db));
    ASSERT_EQ(beat(db, "", "a", "", "active", 60000), 1);
    ASSERT_EQ(beat(db, "", "b", "", "active", 60000), 2);

    /* b stopped beating two heartbeats ago: still live (gone after VC_HA_PEER_MISSED = 3) */
    age_row(db, "b", 2 * 60000);
    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    ASSERT_EQ(vc_ha_peers_list(db, SVC, "", &v, &n), 2);
    ASSERT_TRUE(v[1].age_ms >= 2 * 60000);
    free(v);
    /* ... and one more: gone for readers and for the count of a's next beat */
    age_row(db, "b", 60000);
    ASSERT_EQ(vc_ha_peers_list(db, SVC, "", &v, &n), 1);
    ASSERT_STREQ(v[0].instance, "a");
    free(v);
    ASSERT_EQ(beat(db, "", "a", "", "active", 60000), 1);
    ASSERT_EQ(rows_in_table(db), 2); /* not pruned yet */

    /* b comes back (e.g. SIGCONT): live again, with its old started_at */
    ASSERT_EQ(beat(db, "", "b", "", "active", 60000), 2);
    ASSERT_EQ(vc_ha_peers_list(db, SVC, "", &v, &n), 2);
    ASSERT_TRUE(v[1].up_ms >= 3 * 60000);
    free(v);

    /* unseen for VC_HA_PEER_PRUNE_MS: the next beat of anyone deletes the row */
    age_row(db, "b", VC_HA_PEER_PRUNE_MS + 1000);
    ASSERT_EQ(rows_in_table(db), 2);
    ASSERT_EQ(beat(db, "", "a", "", "active", 60000), 1);
    ASSERT_EQ(rows_in_table(db), 1);

    /* a clean stop deletes the row at once */
    ASSERT_EQ(vc_ha_peer_leave(db, SVC, "", "a", 0), 1);
    ASSERT_EQ(vc_ha_peer_leave(db, SVC, "", "a", 0), 0);
    ASSERT_EQ(rows_in_table(db), 0);
    vc_db_free(db);
}

static void test_bad_input(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_TRUE(db != NULL);
    ASSERT_OK(vc_ha_peers_ensure_schema(db));
    char big[1200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    char name_max[VC_HA_NAME_MAX + 2], holder_max[VC_HA_HOLDER_MAX + 1], addr_max[VC_HA_PEER_ADDR_MAX + 1];
    memset(name_max, 's', sizeof(name_max));
    memset(holder_max, 'h', sizeof(holder_max));
    memset(addr_max, 'a', sizeof(addr_max));
    name_max[VC_HA_NAME_MAX + 1] = holder_max[VC_HA_HOLDER_MAX] = addr_max[VC_HA_PEER_ADDR_MAX] = 0;

    vc_ha_peer_beat_t ok = {.service = SVC, .instance = "i", .role = "active"};
    ASSERT_EQ(vc_ha_peer_beat(db, &ok, 0), 1);
    vc_ha_peer_beat_t b;
#define REFUSED(field, value)                                                                                  \
    do {                                                                                                       \
        b = ok;                                                                                                \
        b.field = value;                                                                                       \
        ASSERT_EQ(vc_ha_peer_beat(db, &b, 0), -EINVAL);                                                        \
    } while (0)
    REFUSED(service, NULL);
    REFUSED(service, "");
    REFUSED(service, name_max);
    REFUSED(scope, name_max);
    REFUSED(instance, NULL);
    REFUSED(instance, "");
    REFUSED(instance, holder_max);
    REFUSED(instance, "a\nb");
    REFUSED(addr, addr_max);
    REFUSED(addr, big);
    REFUSED(addr, "127.0.0.1:1\r\nX-Evil: 1");
    REFUSED(role, NULL);
    REFUSED(role, "");
    REFUSED(role, "a-role-name-too-long");
    REFUSED(heartbeat_ms, VC_HA_PEER_HEARTBEAT_MS_MIN - 1);
    REFUSED(heartbeat_ms, VC_HA_PEER_HEARTBEAT_MS_MAX + 1);
    REFUSED(heartbeat_ms, -1);
#undef REFUSED
    /* the largest accepted values fit */
    b = ok;
    holder_max[VC_HA_HOLDER_MAX - 1] = 0;
    addr_max[VC_HA_PEER_ADDR_MAX - 1] = 0;
    name_max[VC_HA_NAME_MAX] = 0;
    b.instance = holder_max;
    b.addr = addr_max;
    b.scope = name_max;
    ASSERT_EQ(vc_ha_peer_beat(db, &b, 0), 1);
    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    ASSERT_EQ(vc_ha_peers_list(db, SVC, name_max, &v, &n), 1);
    ASSERT_STREQ(v[0].instance, holder_max);
    ASSERT_STREQ(v[0].addr, addr_max);
    free(v);

    ASSERT_EQ(vc_ha_peer_beat(NULL, &ok, 0), -EINVAL);
    ASSERT_EQ(vc_ha_peer_beat(db, NULL, 0), -EINVAL);
    ASSERT_EQ(vc_ha_peer_leave(db, SVC, "", "", 0), -EINVAL);
    ASSERT_EQ(vc_ha_peer_leave(db, big, "", "i", 0), -EINVAL);
    ASSERT_EQ(vc_ha_peers_list(db, "", "", &v, &n), -EINVAL);
    ASSERT_EQ(vc_ha_peers_list(db, SVC, big, &v, &n), -EINVAL);

    vc_ha_presence_t *p = NULL;
    vc_ha_presence_options_t po = {.service = SVC, .instance = "p"};
    po.addr = big;
    ASSERT_EQ(vc_ha_presence_new(db, &po, &p), -EINVAL);
    po.addr = NULL;
    po.instance = holder_max;
    holder_max[VC_HA_HOLDER_MAX - 1] = 'h';
    ASSERT_EQ(vc_ha_presence_new(db, &po, &p), -EINVAL);
    po.instance = "p";
    po.heartbeat_ms = 1;
    ASSERT_EQ(vc_ha_presence_new(db, &po, &p), -EINVAL);
    ASSERT_EQ(vc_ha_presence_new(db, NULL, &p), -EINVAL);
    ASSERT_TRUE(p == NULL);
    vc_db_free(db);
}

/* At most VC_HA_PEERS_MAX rows come back, whatever the table holds. */
static void test_list_bound(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_TRUE(db != NULL);
    ASSERT_OK(vc_ha_peers_ensure_schema(db));
    for (int i = 0; i < VC_HA_PEERS_MAX + 5; i++) {
        char id[32];
        snprintf(id, sizeof(id), "i%04d", i);
        ASSERT_EQ(beat(db, "", id, "", "active", 60000), i + 1);
    }
    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    ASSERT_EQ(vc_ha_peers_list(db, SVC, "", &v, &n), VC_HA_PEERS_MAX);
    ASSERT_STREQ(v[0].instance, "i0000");
    free(v);
    vc_db_free(db);
}

static const char *standby_role(void *userdata)
{
    (void)userdata;
    return "standby";
}

static bool wait_live(vc_ha_presence_t *p, int64_t want)
{
    for (int i = 0; i < 200; i++) {
        if (vc_ha_presence_live(p) == want)
            return true;
        vc_sleep_ms(25);
    }
    return false;
}

/* The thread: beats at once, sees its peer, re-advertises, deletes its row when freed. */
static void test_presence_thread(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    vc_db_t *a = open_db(dsn), *b = open_db(dsn);
    ASSERT_TRUE(a && b);
    vc_ha_presence_t *pa = NULL, *pb = NULL;
    vc_ha_presence_options_t oa = {.service = SVC, .instance = "a/1", .addr = "127.0.0.1:1", .heartbeat_ms = 100};
    vc_ha_presence_options_t ob = {.service = SVC, .instance = "b/2", .role = standby_role, .heartbeat_ms = 100};
    ASSERT_OK(vc_ha_presence_new(a, &oa, &pa));
    ASSERT_OK(vc_ha_presence_new(b, &ob, &pb));
    ASSERT_STREQ(vc_ha_presence_instance(pa), "a/1");
    ASSERT_STREQ(vc_ha_presence_role(pa), "active");
    ASSERT_STREQ(vc_ha_presence_role(pb), "standby");
    ASSERT_TRUE(wait_live(pa, 2));
    ASSERT_TRUE(wait_live(pb, 2));

    /* a re-advertises: b reads the new address */
    ASSERT_OK(vc_ha_presence_set_addr(pa, "127.0.0.1:4242"));
    ASSERT_EQ(vc_ha_presence_set_addr(pa, "bad\naddr"), -EINVAL);
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        vc_ha_peer_t *v = NULL;
        size_t n = 0;
        ASSERT_EQ(vc_ha_presence_peers(pb, &v, &n), 2);
        seen = vc_streq(v[0].addr, "127.0.0.1:4242") && vc_streq(v[1].role, "standby");
        free(v);
        if (!seen)
            vc_sleep_ms(25);
    }
    ASSERT_TRUE(seen);

    /* the gauge */
    vc_metrics_t *m = vc_metrics_new("t");
    vc_ha_presence_metrics_register(m, pa);
    vc_buf_t buf = {0};
    ASSERT_OK(vc_metrics_render(m, &buf));
    ASSERT_TRUE(strstr(buf.data, "t_ha_peers 2") != NULL);
    vc_buf_done(&buf);
    vc_metrics_free(m);

    /* a clean stop removes the row before free returns */
    pb = vc_ha_presence_free(pb);
    vc_ha_peer_t *v = NULL;
    size_t n = 0;
    ASSERT_EQ(vc_ha_presence_peers(pa, &v, &n), 1);
    ASSERT_STREQ(v[0].instance, "a/1");
    free(v);
    ASSERT_TRUE(wait_live(pa, 1));
    vc_ha_presence_free(pa);
    ASSERT_EQ(rows_in_table(a), 0);
    vc_db_free(b);
    vc_db_free(a);
}

/* HaStatus with presence: the elector's holder id and role in "Peers"; active/active shape. */
static void test_status_json(void)
{
    vc_db_t *db = open_db(vc_test_db_fresh_dsn(use_pg));
    ASSERT_TRUE(db != NULL);
    vc_ha_settings_t on = {.enable = true, .scope = "s1", .holder = "me", .cfg = {2000, 1400, 300}};
    vc_ha_elector_t *e = NULL;
    ASSERT_OK(vc_ha_elector_from_settings(db, SVC, &on, NULL, NULL, NULL, &e));
    for (int i = 0; i < 200 && !vc_ha_is_leader(e, NULL); i++)
        vc_sleep_ms(25);
    ASSERT_TRUE(vc_ha_is_leader(e, NULL));
    vc_ha_presence_t *p = NULL;
    ASSERT_OK(vc_ha_presence_start(db, SVC, e, "127.0.0.1:9", &p));
    ASSERT_STREQ(vc_ha_presence_instance(p), vc_ha_elector_holder(e));
    ASSERT_STREQ(vc_ha_presence_role(p), "leader");
    json_t *st = NULL, *peers = NULL;
    char *err = NULL;
    for (int i = 0; i < 200; i++) {
        ASSERT_OK(vc_ha_status_json(e, p, db, &st, &err));
        peers = json_object_get(st, "Peers");
        if (json_array_size(peers) == 1)
            break;
        json_decref(st);
        st = NULL;
        vc_sleep_ms(25);
    }
    ASSERT_TRUE(st != NULL);
    /* the keys callers parse are unchanged */
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "leader");
    ASSERT_STREQ(json_string_value(json_object_get(st, "Holder")), vc_ha_elector_holder(e));
    ASSERT_TRUE(json_integer_value(json_object_get(st, "Token")) > 0);
    json_t *p0 = json_array_get(peers, 0);
    ASSERT_STREQ(json_string_value(json_object_get(p0, "Holder")), vc_ha_elector_holder(e));
    ASSERT_STREQ(json_string_value(json_object_get(p0, "Addr")), "127.0.0.1:9");
    ASSERT_STREQ(json_string_value(json_object_get(p0, "Role")), "leader");
    ASSERT_TRUE(json_integer_value(json_object_get(p0, "AgeMs")) >= 0);
    json_decref(st);
    vc_ha_elector_pause(e);
    ASSERT_STREQ(vc_ha_presence_role(p), "paused");
    p = vc_ha_presence_free(p);
    e = vc_ha_elector_free(e);

    /* active/active (venus-auth): no elector, the presence's role and id */
    vc_ha_presence_options_t po = {.service = "auth", .instance = "h:1/abc"};
    ASSERT_OK(vc_ha_presence_new(db, &po, &p));
    ASSERT_OK(vc_ha_status_json(NULL, p, db, &st, &err));
    ASSERT_TRUE(json_is_false(json_object_get(st, "Enabled")));
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "active");
    ASSERT_STREQ(json_string_value(json_object_get(st, "Holder")), "h:1/abc");
    ASSERT_TRUE(json_is_array(json_object_get(st, "Peers")));
    json_decref(st);
    vc_ha_presence_free(p);
    /* neither: HA disabled without presence */
    ASSERT_OK(vc_ha_status_json(NULL, NULL, db, &st, &err));
    ASSERT_STREQ(json_string_value(json_object_get(st, "Role")), "leader");
    ASSERT_TRUE(json_is_null(json_object_get(st, "Peers")));
    json_decref(st);
    vc_db_free(db);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    use_pg = vc_test_has_flag("--pg");
    if (use_pg && !vc_test_pg_dsn()) {
        printf("# --pg: no PostgreSQL DSN (set VC_PG_DSN or VC_PG_DSN_FILE); skipping\n");
        return 77;
    }
    printf("# backend: %s\n", use_pg ? "postgres" : "sqlite");
    VC_TEST_RUN(test_two_instances);
    VC_TEST_RUN(test_gone_and_pruned);
    VC_TEST_RUN(test_bad_input);
    VC_TEST_RUN(test_list_bound);
    VC_TEST_RUN(test_presence_thread);
    VC_TEST_RUN(test_status_json);
    return VC_TEST_DONE();
}
