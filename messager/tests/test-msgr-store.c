/*
 * Tests for msgr-store.c. Runs against sqlite by default and against PostgreSQL with --pg
 * (every test gets its own fresh database from vc_test_db_fresh_dsn).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "msgr-pushq.h"
#include "msgr-store.h"
#include "vc-test-db.h"
#include "vc-test.h"
#include "vc/db.h"
#include "vc/util.h"

static bool use_pg;

#define A1 "f1ct6utqzrhuyo552pw7er3jjctxoo6bpklbvyvpi"
#define A1_T "t1ct6utqzrhuyo552pw7er3jjctxoo6bpklbvyvpi"
#define A2 "f3beeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqslxucwma"
#define T0 1700000000000000000LL

static msgr_store_t *open_store(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    msgr_store_t *s = NULL;
    char *err = NULL;
    if (!dsn) {
        VC_FAIL_("no fresh database");
        return NULL;
    }
    int r = msgr_store_open(dsn, &s, &err);
    if (r < 0) {
        VC_FAIL_("msgr_store_open(%s): %s: %s", dsn, vc_strerror(r), err ? err : "");
        free(err);
        return NULL;
    }
    return s;
}

static bool errmsg_has(const char *needle)
{
    if (strstr(msgr_store_errmsg(), needle))
        return true;
    return VC_FAIL_("errmsg '%s' lacks '%s'", msgr_store_errmsg(), needle);
}

/* A pushed (UnFillMsg) message id from `from`, created at T0 + seq seconds. */
static void mk_msg(msgr_message_t *m, const char *id, const char *from, int seq)
{
    msgr_message_init(m);
    msgr_message_set_id(m, id);
    vc_address_from_string("f01000", &m->msg.to);
    vc_address_from_string(from, &m->msg.from);
    vc_bigint_from_u64(1000 + (uint64_t)seq, &m->msg.value);
    m->meta.gas_over_estimation = 1.25;
    m->state = MSGR_MSG_UNFILL;
    msgr_message_set_wallet(m, "user");
    m->created_ns = T0 + (int64_t)seq * 1000000000LL;
    m->updated_ns = m->created_ns;
}

static int push(msgr_store_t *s, const char *id, const char *from, int seq)
{
    msgr_message_t m;
    mk_msg(&m, id, from, seq);
    int r = msgr_store_msg_push(s, &m, 1);
    msgr_message_done(&m);
    return r;
}

static void cid_for(const char *seed, int i, vc_cid_t *c)
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s-%d", seed, i);
    vc_cid_sum_dagcbor(buf, (size_t)n, c);
}

static void mk_fill(msgr_fill_t *f, const char *id, uint64_t nonce, const char *seed)
{
    uint8_t sig[65];
    memset(f, 0, sizeof(*f));
    memset(sig, (int)(nonce & 0xff), sizeof(sig));
    f->id = id;
    f->nonce = nonce;
    f->gas_limit = 1000000 + (int64_t)nonce;
    vc_bigint_from_u64(200, &f->gas_fee_cap);
    vc_bigint_from_u64(100, &f->gas_premium);
    cid_for(seed ? seed : "u", (int)nonce, &f->unsigned_cid);
    cid_for(seed ? seed : "s", (int)nonce + 100000, &f->signed_cid);
    vc_signature_set(&f->signature, VC_SIG_SECP256K1, sig, sizeof(sig));
}

static void test_open_shared(void)
{
    const char *dsn = vc_test_db_fresh_dsn(use_pg);
    msgr_store_t *s = NULL;
    msgr_shared_spec_t sp;
    char *err = NULL;
    ASSERT_NOTNULL(dsn);
    ASSERT_OK(msgr_store_open(dsn, &s, &err));
    ASSERT_STREQ(msgr_store_backend(s), use_pg ? "postgres" : "sqlite");
    ASSERT_OK(msgr_store_shared_get(s, &sp));
    ASSERT_EQ(sp.id, 1);
    ASSERT_EQ(sp.sel_msg_num, 20);
    ASSERT_TRUE(sp.fee.gas_over_estimation == 1.25);
    ASSERT_EQ(vc_bigint_cmp(&sp.fee.max_fee, &(msgr_shared_spec_t){0}.fee.max_fee) > 0, 1);
    sp.sel_msg_num = 50;
    sp.fee.gas_over_premium = 1.5;
    vc_bigint_from_u64(7, &sp.fee.base_fee);
    ASSERT_OK(msgr_store_shared_set(s, &sp));
    ASSERT_OK(push(s, "kept", A1, 0));
    s = msgr_store_free(s);
    /* Reopening applies no migration again and keeps the data. */
    ASSERT_OK(msgr_store_open(dsn, &s, &err));
    ASSERT_OK(msgr_store_shared_get(s, &sp));
    ASSERT_EQ(sp.sel_msg_num, 50);
    ASSERT_TRUE(sp.fee.gas_over_premium == 1.5);
    bool has = false;
    ASSERT_OK(msgr_store_msg_has(s, "kept", &has));
    ASSERT_TRUE(has);
    msgr_store_free(s);
}

typedef struct pending_sum {
    int64_t unfill, fill, a1, bad;
} pending_sum_t;

static void sum_pending(const char *from, int state, int64_t n, void *userdata)
{
    pending_sum_t *ps = userdata;
    if (!from || from[0] != 'f' || (state != MSGR_MSG_UNFILL && state != MSGR_MSG_FILL) || n <= 0)
        ps->bad++;
    if (state == MSGR_MSG_UNFILL)
        ps->unfill += n;
    else
        ps->fill += n;
    if (from && vc_streq(from, A1))
        ps->a1 += n;
}

typedef struct scan_seen {
    char ids[8][16];
    char from[8][VC_ADDRESS_STRLEN_MAX];
    int n, stop_after;
} scan_seen_t;

static int scan_collect(const char *from, const char *id, void *userdata)
{
    scan_seen_t *x = userdata;
    if (x->stop_after && x->n == x->stop_after)
        return -ECANCELED;
    if (x->n < 8) {
        snprintf(x->ids[x->n], sizeof(x->ids[0]), "%s", id);
        snprintf(x->from[x->n], sizeof(x->from[0]), "%s", from);
    }
    x->n++;
    return 0;
}

static void test_push_get_query(void)
{
    msgr_store_t *s = open_store();
    msgr_message_t m, got;
    msgr_address_t a;
    bool has;
    ASSERT_NOTNULL(s);

    /* Push auto-registers the sender (a 't' address is stored with 'f'). */
    mk_msg(&m, "m0", A1_T, 0);
    m.meta.expire_epoch = 500;
    vc_bigint_from_u64(123, &m.meta.max_fee);
    static const uint8_t params[4] = {9, 8, 7, 6};
    vc_message_set_params(&m.msg, params, 4);
    ASSERT_OK(msgr_store_msg_push(s, &m, 1));
    ASSERT_EQ(msgr_store_msg_push(s, &m, 1), -EEXIST);
    ASSERT_TRUE(errmsg_has("duplicate message id"));
    msgr_message_done(&m);
    ASSERT_OK(msgr_store_addr_get(s, A1_T, &a));
    ASSERT_STREQ(a.addr, A1);
    ASSERT_EQ(a.nonce, 0);
    ASSERT_EQ(a.state, MSGR_ADDR_ALIVE);
    ASSERT_EQ(a.is_deleted, -1);
    msgr_address_done(&a);

    ASSERT_OK(msgr_store_msg_get(s, "m0", &got));
    ASSERT_STREQ(got.id, "m0");
    ASSERT_EQ(got.state, MSGR_MSG_UNFILL);
    ASSERT_EQ(got.receipt.exit_code, -1);
    ASSERT_EQ(got.meta.expire_epoch, 500);
    ASSERT_TRUE(got.meta.gas_over_estimation == 1.25);
    ASSERT_EQ(got.msg.params_len, 4);
    ASSERT_MEMEQ(got.msg.params, params, 4);
    ASSERT_FALSE(got.has_signature);
    ASSERT_EQ(got.unsigned_cid.len, 0);
    ASSERT_EQ(got.n_tsk, 0);
    ASSERT_STREQ(got.wallet_name, "user");
    ASSERT_EQ(got.created_ns, T0);
    msgr_message_done(&got);
    ASSERT_EQ(msgr_store_msg_get(s, "nope", &got), -ENOENT);
    ASSERT_TRUE(errmsg_has("record not found"));
    ASSERT_OK(msgr_store_msg_has(s, "nope", &has));
    ASSERT_FALSE(has);

    /* Bad input. */
    mk_msg(&m, "", A1, 1);
    ASSERT_EQ(msgr_store_msg_push(s, &m, 1), -EINVAL);
    ASSERT_TRUE(errmsg_has("empty uid"));
    msgr_message_set_id(&m, "neg");
    vc_bigint_from_i64(-1, &m.msg.value);
    ASSERT_EQ(msgr_store_msg_push(s, &m, 1), -EINVAL);
    msgr_message_done(&m);

    /* Forbidden addresses refuse pushes; the batch is all-or-nothing. */
    ASSERT_OK(push(s, "b0", A2, 1));
    ASSERT_OK(msgr_store_addr_set_state(s, A2, MSGR_ADDR_FORBIDDEN));
    msgr_message_t two[2];
    mk_msg(&two[0], "ok-in-batch", A1, 2);
    mk_msg(&two[1], "forbidden", A2, 3);
    ASSERT_EQ(msgr_store_msg_push(s, two, 2), -EPERM);
    ASSERT_TRUE(errmsg_has("is forbidden"));
    ASSERT_OK(msgr_store_msg_has(s, "ok-in-batch", &has));
    ASSERT_FALSE(has);
    msgr_message_done(&two[0]);
    msgr_message_done(&two[1]);
    ASSERT_OK(msgr_store_addr_set_state(s, A2, MSGR_ADDR_ALIVE));

    /* 20 more messages for pagination: q1..q20 created at 10..29 s. */
    for (int i = 1; i <= 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "q%02d", i);
        ASSERT_OK(push(s, id, i % 2 ? A1 : A2, 10 + i));
    }
    msgr_message_t *v = NULL;
    size_t n = 0;
    int states[1] = {MSGR_MSG_UNFILL};
    char *froms[1] = {(char *)A1};
    msgr_query_params_t q = {.states = states, .n_states = 1, .from = froms, .n_from = 1, .limit = 3, .offset = 2};
    /* updated_at DESC: A1 rows are q19, q17, q15, ... ; offset 2 limit 3 -> q15 q13 q11. */
    ASSERT_OK(msgr_store_msg_query(s, &q, &v, &n));
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(v[0].id, "q15");
    ASSERT_STREQ(v[2].id, "q11");
    msgr_messages_free(v, n);
    q.asc = true;
    q.offset = 0;
    q.limit = 0;
    ASSERT_OK(msgr_store_msg_query(s, &q, &v, &n));
    ASSERT_EQ(n, 11); /* m0 + 10 */
    ASSERT_STREQ(v[0].id, "m0");
    ASSERT_STREQ(v[10].id, "q19");
    msgr_messages_free(v, n);
    msgr_query_params_t q2 = {.has_by_update_at = true, .by_update_at_ns = T0 + 25 * 1000000000LL};
    ASSERT_OK(msgr_store_msg_query(s, &q2, &v, &n));
    ASSERT_EQ(n, 6); /* q15..q20, updated at 25..30 s */
    msgr_messages_free(v, n);

    /* ListMessageByFromState pages (1-based) by created_at. */
    ASSERT_OK(msgr_store_msg_list_by_from_state(s, A2, MSGR_MSG_UNFILL, true, 2, 4, 0, &v, &n));
    ASSERT_EQ(n, 4); /* A2: b0, q02, q04, ... q20 (11 rows); page 2 = q08 q10 q12 q14 */
    ASSERT_STREQ(v[0].id, "q08");
    msgr_messages_free(v, n);
    ASSERT_OK(msgr_store_msg_list_by_from_state(s, "<empty>", MSGR_MSG_UNFILL, false, 1, 0, T0 + 11 * 1000000000LL,
                                                &v, &n));
    ASSERT_EQ(n, 2); /* created before 11 s: b0 (1 s), m0 (0 s) */
    ASSERT_STREQ(v[0].id, "b0");
    msgr_messages_free(v, n);

    /* Selection candidates: the newest unfilled of A1 come first in the scan. */
    scan_seen_t seen = {0};
    ASSERT_OK(msgr_store_msg_unfilled_scan(s, scan_collect, &seen));
    ASSERT_EQ(seen.n, 22);
    ASSERT_STREQ(seen.ids[0], "q20");
    ASSERT_STREQ(seen.from[1], A1);
    ASSERT_STREQ(seen.ids[1], "q19");

    int64_t counts[MSGR_MSG_STATE_MAX];
    ASSERT_OK(msgr_store_msg_count_by_state(s, counts));
    ASSERT_EQ(counts[MSGR_MSG_UNFILL], 22);
    /* per sender: the same 22 unfilled, all from senders the rows name */
    pending_sum_t ps = {0};
    ASSERT_OK(msgr_store_msg_pending_by_addr(s, sum_pending, &ps));
    ASSERT_EQ(ps.unfill, 22);
    ASSERT_EQ(ps.fill, 0);
    ASSERT_TRUE(ps.a1 > 0 && ps.bad == 0);
    msgr_store_free(s);
}

static void expect_ids(msgr_message_t *v, size_t n, const char *const *want, size_t n_want)
{
    ASSERT_EQ(n, n_want);
    for (size_t i = 0; i < n && i < n_want; i++)
        ASSERT_STREQ(v[i].id, want[i]);
    msgr_messages_free(v, n);
}

/* Queries by sender over rows in several states (UnFill rows are in other indexes than the
 * others, 002_push_index.sql, 003_unfilled_index.sql): each sees every row it should, in its
 * order; selection's scan and read-back. */
static void test_by_sender_mixed_states(void)
{
    msgr_store_t *s = open_store();
    msgr_message_t *v = NULL, got;
    size_t n = 0;
    msgr_fill_t f[2];
    ASSERT_NOTNULL(s);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof(id), "u%d", i);
        ASSERT_OK(push(s, id, A1, i));
    }
    ASSERT_OK(push(s, "w0", A2, 6));
    ASSERT_OK(push(s, "w1", A2, 7));
    ASSERT_EQ(msgr_store_msg_fail_unfilled(s, A2, "gone"), 2); /* w0, w1 -> FailedMsg */
    ASSERT_OK(push(s, "w2", A2, 8));
    mk_fill(&f[0], "u0", 0, NULL);
    mk_fill(&f[1], "u1", 1, NULL);
    ASSERT_OK(msgr_store_msg_fill(s, A1, 0, f, 2, NULL, 0, NULL)); /* updated now: after every push */

    ASSERT_OK(msgr_store_msg_list_by_address(s, A1, &v, &n));
    expect_ids(v, n, (const char *[]){"u0", "u1", "u2", "u3", "u4", "u5"}, 6);
    ASSERT_OK(msgr_store_msg_list_by_address(s, A2, &v, &n));
    expect_ids(v, n, (const char *[]){"w0", "w1", "w2"}, 3);

    char *a1[1] = {(char *)A1}, *both[2] = {(char *)A1, (char *)A2};
    msgr_query_params_t q = {.from = a1, .n_from = 1, .asc = true};
    ASSERT_OK(msgr_store_msg_query(s, &q, &v, &n)); /* by updated_at: the filled two last */
    expect_ids(v, n, (const char *[]){"u2", "u3", "u4", "u5", "u0", "u1"}, 6);
    int failed[1] = {MSGR_MSG_FAILED}, unfill_fill[2] = {MSGR_MSG_UNFILL, MSGR_MSG_FILL};
    msgr_query_params_t qf = {.from = both, .n_from = 2, .states = failed, .n_states = 1, .asc = true};
    ASSERT_OK(msgr_store_msg_query(s, &qf, &v, &n));
    expect_ids(v, n, (const char *[]){"w0", "w1"}, 2);
    msgr_query_params_t qp = {.from = both, .n_from = 2, .states = unfill_fill, .n_states = 2, .limit = 2, .offset = 1};
    ASSERT_OK(msgr_store_msg_query(s, &qp, &v, &n)); /* DESC: u1 u0 w2 u5 ..., offset 1 limit 2 */
    expect_ids(v, n, (const char *[]){"u0", "w2"}, 2);

    ASSERT_OK(msgr_store_msg_list_by_from_state(s, A1, MSGR_MSG_FILL, true, 1, 0, 0, &v, &n));
    expect_ids(v, n, (const char *[]){"u0", "u1"}, 2);
    ASSERT_OK(msgr_store_msg_list_by_from_state(s, A1, MSGR_MSG_UNFILL, false, 1, 0, 0, &v, &n));
    expect_ids(v, n, (const char *[]){"u5", "u4", "u3", "u2"}, 4);
    ASSERT_OK(msgr_store_msg_list_by_from_state(s, A2, MSGR_MSG_FAILED, true, 1, 0, 0, &v, &n));
    expect_ids(v, n, (const char *[]){"w0", "w1"}, 2);

    ASSERT_OK(msgr_store_msg_list_blocked(s, A1, T0 + 5 * 1000000000LL, &v, &n)); /* created before 5 s */
    expect_ids(v, n, (const char *[]){"u0", "u1", "u2", "u3", "u4"}, 5);
    ASSERT_OK(msgr_store_msg_list_blocked(s, A2, T0 + 100 * 1000000000LL, &v, &n));
    expect_ids(v, n, (const char *[]){"w2"}, 1);

    pending_sum_t ps = {0};
    ASSERT_OK(msgr_store_msg_pending_by_addr(s, sum_pending, &ps));
    ASSERT_EQ(ps.unfill, 5); /* u2..u5, w2 */
    ASSERT_EQ(ps.fill, 2);
    ASSERT_EQ(ps.a1, 6);
    ASSERT_EQ(ps.bad, 0);

    ASSERT_OK(msgr_store_msg_get_by_from_nonce(s, A1, 1, &got));
    ASSERT_STREQ(got.id, "u1");
    msgr_message_done(&got);

    /* Selection's scan: every unfilled row, newest first, with its sender. */
    scan_seen_t seen = {0};
    ASSERT_OK(msgr_store_msg_unfilled_scan(s, scan_collect, &seen));
    ASSERT_EQ(seen.n, 5);
    ASSERT_STREQ(seen.ids[0], "w2");
    ASSERT_STREQ(seen.from[0], A2);
    ASSERT_STREQ(seen.ids[1], "u5");
    ASSERT_STREQ(seen.from[1], A1);
    ASSERT_STREQ(seen.ids[4], "u2");
    scan_seen_t stop = {.stop_after = 2};
    ASSERT_EQ(msgr_store_msg_unfilled_scan(s, scan_collect, &stop), -ECANCELED);
    ASSERT_EQ(stop.n, 2);

    /* Reading the candidates back keeps only rows still unfilled and of the sender. */
    const char *ids[] = {"u0", "u3", "w2", "u5", "nope"};
    ASSERT_OK(msgr_store_msg_get_unfilled(s, A1, ids, 5, &v, &n));
    expect_ids(v, n, (const char *[]){"u5", "u3"}, 2);
    ASSERT_OK(msgr_store_msg_get_unfilled(s, A1, ids, 0, &v, &n));
    ASSERT_EQ(n, 0);
    ASSERT_EQ(msgr_store_msg_get_unfilled(s, A1, ids, MSGR_GET_UNFILLED_MAX + 1, &v, &n), -E2BIG);
    ASSERT_EQ(msgr_store_msg_get_unfilled(s, "f0bad", ids, 1, &v, &n), -EINVAL);
    msgr_store_free(s);
}

typedef struct scan_order {
    char last[16];
    int n, out_of_order;
} scan_order_t;

static int scan_check_order(const char *from, const char *id, void *userdata)
{
    scan_order_t *x = userdata;
    (void)from;
    if (x->n > 0 && strcmp(id, x->last) >= 0)
        x->out_of_order++;
    snprintf(x->last, sizeof(x->last), "%s", id);
    x->n++;
    return 0;
}

/* The scan reads in pages (4096 rows): more rows than that, with created_at ties across the
 * page boundary, come each once, newest first. */
static void test_unfilled_scan_pages(void)
{
    msgr_store_t *s = open_store();
    enum { N = 4100, BATCH = 100 };
    msgr_message_t batch[BATCH];
    ASSERT_NOTNULL(s);
    for (int i = 0; i < N; i += BATCH) {
        for (int k = 0; k < BATCH; k++) {
            char id[16];
            snprintf(id, sizeof(id), "p%05d", i + k);
            mk_msg(&batch[k], id, (i + k) % 2 ? A1 : A2, 0);
            batch[k].created_ns = batch[k].updated_ns = T0 + (int64_t)((i + k) / 3) * 1000000000LL;
        }
        ASSERT_OK(msgr_store_msg_push(s, batch, BATCH));
        for (int k = 0; k < BATCH; k++)
            msgr_message_done(&batch[k]);
    }
    scan_order_t o = {0};
    ASSERT_OK(msgr_store_msg_unfilled_scan(s, scan_check_order, &o));
    ASSERT_EQ(o.n, N);
    ASSERT_EQ(o.out_of_order, 0);
    ASSERT_STREQ(o.last, "p00000");
    msgr_store_free(s);
}

/* The queries selection and the API run per sender visit that sender's rows, not every
 * unfilled row: with a backlog of 5,000 unfilled messages of another sender, each call stays
 * far under the VM steps of a scan over them (sqlite; each step is one VM instruction, a scan
 * costs several per row). A planner choosing a scan (it did, twice, before the queries said
 * "state <> 1" or "+state") fails here. Scans by design: msgr_store_msg_unfilled_scan, the
 * per-sender UPDATE of ClearUnFillMessage over the unfilled index, and GetMessageByFromAndNonce
 * for a nonce no filled row holds (it then looks among the unfilled rows). */
static void test_sender_queries_use_indexes(void)
{
    if (use_pg) {
        printf("# postgres: the planner's choices are checked on sqlite\n");
        return;
    }
    msgr_store_t *s = open_store();
    enum { BACKLOG = 5000, BATCH = 100, MAX_STEPS = 4000 };
    msgr_message_t batch[BATCH];
    msgr_message_t *v = NULL, got;
    size_t n = 0;
    uint64_t nonce = 0, before;
    ASSERT_NOTNULL(s);
    for (int i = 0; i < BACKLOG; i += BATCH) {
        for (int k = 0; k < BATCH; k++) {
            char id[16];
            snprintf(id, sizeof(id), "b%05d", i + k);
            mk_msg(&batch[k], id, A2, 100 + i + k);
        }
        ASSERT_OK(msgr_store_msg_push(s, batch, BATCH));
        for (int k = 0; k < BATCH; k++)
            msgr_message_done(&batch[k]);
    }
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof(id), "u%d", i);
        ASSERT_OK(push(s, id, A1, i));
    }
    msgr_fill_t f[2];
    mk_fill(&f[0], "u0", 0, NULL);
    mk_fill(&f[1], "u1", 1, NULL);
    ASSERT_OK(msgr_store_msg_fill(s, A1, 0, f, 2, NULL, 0, NULL));

    const char *ids[100];
    char idbuf[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf(idbuf[i], sizeof(idbuf[i]), i < 6 ? "u%d" : "b%05d", i < 6 ? i : i * 7);
        ids[i] = idbuf[i];
    }
#define STEPS_UNDER(call)                                                                                    \
    do {                                                                                                     \
        before = vc_db_sqlite_vm_steps();                                                                    \
        ASSERT_OK(call);                                                                                     \
        uint64_t steps_ = vc_db_sqlite_vm_steps() - before;                                                  \
        printf("# %llu VM steps: %s\n", (unsigned long long)steps_, #call);                                 \
        if (steps_ >= MAX_STEPS)                                                                             \
            VC_FAIL_("%s: %llu VM steps (a scan of the backlog?)", #call, (unsigned long long)steps_);     \
    } while (0)
    STEPS_UNDER(msgr_store_msg_get_unfilled(s, A1, ids, 100, &v, &n));
    ASSERT_EQ(n, 4); /* u2..u5: the others are filled or not A1's */
    msgr_messages_free(v, n);
    STEPS_UNDER(msgr_store_msg_list_filled(s, A1, 0, &v, &n));
    ASSERT_EQ(n, 2);
    msgr_messages_free(v, n);
    STEPS_UNDER(msgr_store_msg_get_by_from_nonce(s, A1, 1, &got));
    msgr_message_done(&got);
    STEPS_UNDER(msgr_store_msg_list_by_from_state(s, A1, MSGR_MSG_FILL, true, 1, 0, 0, &v, &n));
    ASSERT_EQ(n, 2);
    msgr_messages_free(v, n);
    STEPS_UNDER(msgr_store_addr_sync_nonce(s, A1, 5, NULL, &nonce));
    ASSERT_EQ(nonce, 5);
    STEPS_UNDER(msgr_store_msg_get(s, "b00042", &got));
    msgr_message_done(&got);
#undef STEPS_UNDER
    /* and the measure itself: a scan of the backlog is far over the bound */
    scan_seen_t seen = {0};
    before = vc_db_sqlite_vm_steps();
    ASSERT_OK(msgr_store_msg_unfilled_scan(s, scan_collect, &seen));
    ASSERT_EQ(seen.n, BACKLOG + 4);
    ASSERT_TRUE(vc_db_sqlite_vm_steps() - before > (uint64_t)MAX_STEPS);
    msgr_store_free(s);
}

static void test_fill(void)
{
    msgr_store_t *s = open_store();
    msgr_fill_t f[3];
    msgr_message_t got, *v = NULL;
    msgr_address_t a;
    size_t n;
    ASSERT_NOTNULL(s);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof(id), "f%d", i);
        ASSERT_OK(push(s, id, A1, i));
    }
    ASSERT_OK(msgr_store_addr_set_nonce(s, A1, 10));

    /* Consecutive nonces from the expected one; an estimate error recorded in the same tx. */
    mk_fill(&f[0], "f0", 10, NULL);
    mk_fill(&f[1], "f1", 11, NULL);
    msgr_msg_error_t e = {.id = "f4", .error_msg = "gas estimate: actor not found"};
    ASSERT_OK(msgr_store_msg_fill(s, A1, 10, f, 2, &e, 1, NULL));
    ASSERT_OK(msgr_store_addr_get(s, A1, &a));
    ASSERT_EQ(a.nonce, 12);
    msgr_address_done(&a);
    ASSERT_OK(msgr_store_msg_get(s, "f1", &got));
    ASSERT_EQ(got.state, MSGR_MSG_FILL);
    ASSERT_EQ(got.msg.nonce, 11);
    ASSERT_EQ(got.msg.gas_limit, 1000011);
    ASSERT_TRUE(got.has_signature);
    ASSERT_EQ(got.signature.type, VC_SIG_SECP256K1);
    ASSERT_TRUE(vc_cid_equal(&got.signed_cid, &f[1].signed_cid));
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_msg_get_by_signed_cid(s, &f[0].signed_cid, &got));
    ASSERT_STREQ(got.id, "f0");
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_msg_get_by_unsigned_cid(s, &f[1].unsigned_cid, &got));
    ASSERT_STREQ(got.id, "f1");
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_msg_get_by_from_nonce(s, A1, 10, &got));
    ASSERT_STREQ(got.id, "f0");
    msgr_message_done(&got);
    /* unfilled rows (not in msg_from_nonce) answer too, the latest updated first */
    ASSERT_OK(msgr_store_msg_get_by_from_nonce(s, A1, 0, &got));
    ASSERT_STREQ(got.id, "f4");
    msgr_message_done(&got);
    ASSERT_EQ(msgr_store_msg_get_by_from_nonce(s, A1, 12, &got), -ENOENT);
    ASSERT_OK(msgr_store_msg_list_failed(s, NULL, 0, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(v[0].error_msg, "gas estimate: actor not found");
    msgr_messages_free(v, n);

    /* A stale expected nonce changes nothing. */
    mk_fill(&f[0], "f2", 10, NULL);
    ASSERT_EQ(msgr_store_msg_fill(s, A1, 10, f, 1, NULL, 0, NULL), -ESTALE);
    ASSERT_TRUE(errmsg_has("nonce is 12, expected 10"));
    /* Non-consecutive nonces are refused up front. */
    mk_fill(&f[0], "f2", 12, NULL);
    mk_fill(&f[1], "f3", 14, NULL);
    ASSERT_EQ(msgr_store_msg_fill(s, A1, 12, f, 2, NULL, 0, NULL), -EINVAL);
    /* A message that is not UnFill (f0) rolls the whole batch back, f2 included. */
    mk_fill(&f[1], "f0", 13, NULL);
    ASSERT_EQ(msgr_store_msg_fill(s, A1, 12, f, 2, NULL, 0, NULL), -EINVAL);
    ASSERT_TRUE(errmsg_has("not an unfilled message"));
    ASSERT_OK(msgr_store_msg_get(s, "f2", &got));
    ASSERT_EQ(got.state, MSGR_MSG_UNFILL);
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_addr_get(s, A1, &a));
    ASSERT_EQ(a.nonce, 12);
    msgr_address_done(&a);

    mk_fill(&f[0], "f2", 12, NULL);
    ASSERT_OK(msgr_store_msg_fill(s, A1, 12, f, 1, NULL, 0, NULL));

    /* toPush: FillMsg rows from a nonce on, by nonce. */
    ASSERT_OK(msgr_store_msg_list_filled(s, A1, 11, &v, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(v[0].msg.nonce, 11);
    ASSERT_EQ(v[1].msg.nonce, 12);
    msgr_messages_free(v, n);

    /* The unique (from, nonce) guard: even after an admin rewinds the nonce, no second
     * signed message for nonce 12. */
    ASSERT_OK(msgr_store_addr_set_nonce(s, A1, 12));
    mk_fill(&f[0], "f3", 12, "other");
    ASSERT_EQ(msgr_store_msg_fill(s, A1, 12, f, 1, NULL, 0, NULL), -EEXIST);
    ASSERT_OK(msgr_store_msg_get(s, "f3", &got));
    ASSERT_EQ(got.state, MSGR_MSG_UNFILL);
    msgr_message_done(&got);
    msgr_store_free(s);
}

static int deny_fence(vc_db_conn_t *c, void *userdata)
{
    int *calls = userdata;
    (*calls)++;
    return VC_ESTALE;
}

static int allow_fence(vc_db_conn_t *c, void *userdata)
{
    int64_t one = 0;
    int *calls = userdata;
    (*calls)++;
    /* The check runs on the transaction's connection. */
    return vc_db_query_int64(c, "SELECT 1", VC_DB_NONE, &one);
}

static void test_fence(void)
{
    msgr_store_t *s = open_store();
    msgr_fill_t f;
    msgr_address_t a;
    int calls = 0;
    ASSERT_NOTNULL(s);
    ASSERT_OK(push(s, "x0", A1, 0));
    mk_fill(&f, "x0", 0, NULL);
    msgr_fence_t deny = {.check = deny_fence, .userdata = &calls};
    ASSERT_EQ(msgr_store_msg_fill(s, A1, 0, &f, 1, NULL, 0, &deny), VC_ESTALE);
    ASSERT_EQ(calls, 1);
    ASSERT_OK(msgr_store_addr_get(s, A1, &a));
    ASSERT_EQ(a.nonce, 0);
    msgr_address_done(&a);
    ASSERT_EQ(msgr_store_addr_sync_nonce(s, A1, 5, &deny, NULL), VC_ESTALE);
    msgr_fence_t allow = {.check = allow_fence, .userdata = &calls};
    ASSERT_OK(msgr_store_msg_fill(s, A1, 0, &f, 1, NULL, 0, &allow));
    ASSERT_EQ(calls, 3);
    msgr_store_free(s);
}

static void test_head(void)
{
    msgr_store_t *s = open_store();
    msgr_fill_t f[3];
    msgr_message_t got;
    msgr_head_result_t res;
    vc_cid_t key[2], parents[1];
    ASSERT_NOTNULL(s);
    ASSERT_OK(push(s, "h0", A1, 0));
    ASSERT_OK(push(s, "h1", A1, 1));
    ASSERT_OK(push(s, "h2", A1, 2));
    mk_fill(&f[0], "h0", 0, NULL);
    mk_fill(&f[1], "h1", 1, NULL);
    mk_fill(&f[2], "h2", 2, NULL);
    ASSERT_OK(msgr_store_msg_fill(s, A1, 0, f, 3, NULL, 0, NULL));

    cid_for("blk", 1, &key[0]);
    cid_for("blk", 2, &key[1]);
    cid_for("blk", 0, &parents[0]);
    static const uint8_t ret[1] = {0x40};
    /* h0 lands; nonce 1 lands with a different CID (signed elsewhere) -> NonceConflict; a
     * foreign sender and an unknown nonce are ignored. */
    msgr_chain_msg_t cm[4] = {
        {.from = A1, .nonce = 0, .cid = f[0].signed_cid, .receipt = {.exit_code = 0, .ret = (uint8_t *)ret, .ret_len = 1, .gas_used = 77}},
        {.from = A1_T, .nonce = 1, .receipt = {.exit_code = 0, .gas_used = 5}},
        {.from = A2, .nonce = 0, .cid = f[0].signed_cid},
        {.from = A1, .nonce = 9, .cid = f[0].signed_cid},
    };
    cid_for("foreign", 1, &cm[1].cid);
    msgr_tipset_apply_t ap = {.height = 100, .key = key, .n_key = 2, .msgs = cm, .n_msgs = 4};
    msgr_tipset_t ts = {.height = 100, .key = key, .n_key = 2, .parents = parents, .n_parents = 1, .data = NULL};
    msgr_head_change_t hc = {.apply = &ap, .n_apply = 1, .cache_add = &ts, .n_cache_add = 1, .cache_keep = 900};
    ASSERT_OK(msgr_store_head_apply(s, &hc, NULL, &res));
    ASSERT_EQ(res.onchain, 1);
    ASSERT_EQ(res.nonce_conflict, 1);
    ASSERT_OK(msgr_store_msg_get(s, "h0", &got));
    ASSERT_EQ(got.state, MSGR_MSG_ONCHAIN);
    ASSERT_EQ(got.height, 100);
    ASSERT_EQ(got.receipt.exit_code, 0);
    ASSERT_EQ(got.receipt.gas_used, 77);
    ASSERT_EQ(got.receipt.ret_len, 1);
    ASSERT_EQ(got.n_tsk, 2);
    ASSERT_TRUE(vc_cid_equal(&got.tsk[1], &key[1]));
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_msg_get(s, "h1", &got));
    ASSERT_EQ(got.state, MSGR_MSG_NONCE_CONFLICT);
    msgr_message_done(&got);

    msgr_tipset_t *tv = NULL;
    size_t tn = 0;
    ASSERT_OK(msgr_store_tipset_list(s, 0, &tv, &tn));
    ASSERT_EQ(tn, 1);
    ASSERT_EQ(tv[0].height, 100);
    ASSERT_EQ(tv[0].n_key, 2);
    ASSERT_TRUE(vc_cid_equal(&tv[0].parents[0], &parents[0]));
    msgr_tipsets_free(tv, tn);

    /* Revert height 100: both go back to FillMsg with the default receipt. */
    int64_t rh = 100;
    msgr_head_change_t rv = {.revert_heights = &rh, .n_revert = 1};
    ASSERT_OK(msgr_store_head_apply(s, &rv, NULL, &res));
    ASSERT_EQ(res.reverted, 2);
    ASSERT_OK(msgr_store_msg_get(s, "h0", &got));
    ASSERT_EQ(got.state, MSGR_MSG_FILL);
    ASSERT_EQ(got.height, 0);
    ASSERT_EQ(got.receipt.exit_code, -1);
    ASSERT_EQ(got.receipt.ret_len, 0);
    ASSERT_EQ(got.receipt.gas_used, 0);
    ASSERT_EQ(got.n_tsk, 0);
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_msg_get(s, "h1", &got));
    ASSERT_EQ(got.state, MSGR_MSG_FILL);
    msgr_message_done(&got);
    ASSERT_OK(msgr_store_tipset_list(s, 0, &tv, &tn));
    ASSERT_EQ(tn, 0);
    free(tv);

    /* Re-applied at another height; the cache keeps only the newest entries. */
    ap.height = 101;
    ap.n_msgs = 1;
    msgr_tipset_t ts2[3] = {ts, ts, ts};
    ts2[0].height = 101;
    ts2[1].height = 102;
    ts2[2].height = 103;
    msgr_head_change_t hc2 = {.apply = &ap, .n_apply = 1, .cache_add = ts2, .n_cache_add = 3, .cache_keep = 2};
    ASSERT_OK(msgr_store_head_apply(s, &hc2, NULL, &res));
    ASSERT_EQ(res.onchain, 1);
    ASSERT_OK(msgr_store_tipset_list(s, 0, &tv, &tn));
    ASSERT_EQ(tn, 2);
    ASSERT_EQ(tv[0].height, 103);
    ASSERT_EQ(tv[1].height, 102);
    msgr_tipsets_free(tv, tn);

    /* Only messages of active addresses are tracked. */
    ASSERT_OK(msgr_store_addr_set_state(s, A1, MSGR_ADDR_FORBIDDEN));
    ap.height = 104;
    cm[0].nonce = 2;
    cm[0].cid = f[2].signed_cid;
    msgr_head_change_t hc3 = {.apply = &ap, .n_apply = 1};
    ASSERT_OK(msgr_store_head_apply(s, &hc3, NULL, &res));
    ASSERT_EQ(res.onchain, 0);
    ASSERT_OK(msgr_store_addr_set_state(s, A1, MSGR_ADDR_ALIVE));

    /* StateSearchMsg resync of one row. */
    msgr_receipt_t rc = {.exit_code = 0, .gas_used = 9};
    ASSERT_OK(msgr_store_msg_set_onchain(s, "h2", 105, &rc, key, 1));
    ASSERT_EQ(msgr_store_msg_set_onchain(s, "h2", 105, &rc, key, 1), -EINVAL);
    ASSERT_TRUE(errmsg_has("has been final"));
    ASSERT_EQ(msgr_store_msg_set_onchain(s, "zz", 105, &rc, key, 1), -ENOENT);

    /* Network-name guard setting. */
    char *nn = NULL;
    ASSERT_EQ(msgr_store_kv_get(s, "network_name", &nn), -ENOENT);
    ASSERT_OK(msgr_store_kv_set(s, "network_name", "devnet"));
    ASSERT_OK(msgr_store_kv_set(s, "network_name", "calibnet"));
    ASSERT_OK(msgr_store_kv_get(s, "network_name", &nn));
    ASSERT_STREQ(nn, "calibnet");
    free(nn);
    msgr_store_free(s);
}

static void test_manual_ops(void)
{
    msgr_store_t *s = open_store();
    msgr_fill_t f[2];
    msgr_message_t got, *v = NULL;
    size_t n;
    uint64_t nonce = 0;
    ASSERT_NOTNULL(s);
    ASSERT_OK(push(s, "r0", A1, 0));
    ASSERT_OK(push(s, "r1", A1, 1));
    ASSERT_OK(push(s, "r2", A1, 2));
    mk_fill(&f[0], "r0", 0, NULL);
    mk_fill(&f[1], "r1", 1, NULL);
    ASSERT_OK(msgr_store_msg_fill(s, A1, 0, f, 2, NULL, 0, NULL));

    /* Replace: same nonce, new gas and signature. */
    msgr_replace_t rp = {.id = "r1", .gas_limit = 5555};
    vc_bigint_from_u64(999, &rp.gas_fee_cap);
    vc_bigint_from_u64(990, &rp.gas_premium);
    cid_for("ru", 1, &rp.unsigned_cid);
    cid_for("rs", 1, &rp.signed_cid);
    vc_signature_set(&rp.signature, VC_SIG_BLS, (const uint8_t *)"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456", 96);
    ASSERT_OK(msgr_store_msg_replace(s, &rp, NULL));
    ASSERT_OK(msgr_store_msg_get(s, "r1", &got));
    ASSERT_EQ(got.msg.nonce, 1);
    ASSERT_EQ(got.msg.gas_limit, 5555);
    ASSERT_EQ(got.signature.type, VC_SIG_BLS);
    ASSERT_TRUE(vc_cid_equal(&got.signed_cid, &rp.signed_cid));
    msgr_message_done(&got);
    rp.id = "r2";
    ASSERT_EQ(msgr_store_msg_replace(s, &rp, NULL), -EINVAL);
    ASSERT_TRUE(errmsg_has("need FillMsg got UnFillMsg"));
    rp.id = "nope";
    ASSERT_EQ(msgr_store_msg_replace(s, &rp, NULL), -ENOENT);

    /* Mark bad, recover. */
    ASSERT_OK(msgr_store_msg_mark_failed(s, "r1", NULL));
    ASSERT_OK(msgr_store_msg_mark_failed(s, "r2", "bad"));
    ASSERT_EQ(msgr_store_msg_mark_failed(s, "nope", NULL), -ENOENT);
    char **ids = NULL;
    ASSERT_OK(msgr_store_msg_recover_failed(s, A1, 0, NULL, &ids, &n));
    ASSERT_EQ(n, 1); /* r2 has no signature */
    ASSERT_STREQ(ids[0], "r1");
    msgr_strv_free(ids, n);
    ASSERT_OK(msgr_store_msg_get(s, "r1", &got));
    ASSERT_EQ(got.state, MSGR_MSG_FILL);
    msgr_message_done(&got);

    /* Raw state write, error messages. */
    ASSERT_OK(msgr_store_msg_set_state(s, "r2", MSGR_MSG_UNFILL));
    ASSERT_EQ(msgr_store_msg_set_state(s, "r2", 9), -EINVAL);
    const char *eids[2] = {"r0", "missing"};
    ASSERT_EQ(msgr_store_msg_set_errors(s, eids, 2, "push: boom"), 1);
    ASSERT_OK(msgr_store_msg_get(s, "r0", &got));
    ASSERT_STREQ(got.error_msg, "push: boom");
    msgr_message_done(&got);

    /* Blocked: Fill/UnFill created before a cutoff, for one address or all active ones. */
    ASSERT_OK(msgr_store_msg_list_blocked(s, NULL, T0 + 2 * 1000000000LL, &v, &n));
    ASSERT_EQ(n, 2);
    msgr_messages_free(v, n);
    ASSERT_OK(msgr_store_msg_list_blocked(s, A1, T0 + 100 * 1000000000LL, &v, &n));
    ASSERT_EQ(n, 3);
    msgr_messages_free(v, n);
    ASSERT_OK(msgr_store_msg_list_by_state(s, MSGR_MSG_FILL, true, 0, &v, &n));
    ASSERT_EQ(n, 2);
    msgr_messages_free(v, n);

    /* Expiry: only unfilled messages with 0 < expireEpoch <= height. */
    msgr_message_t m;
    mk_msg(&m, "e0", A1, 3);
    m.meta.expire_epoch = 50;
    ASSERT_OK(msgr_store_msg_push(s, &m, 1));
    msgr_message_done(&m);
    ASSERT_EQ(msgr_store_msg_fail_expired(s, 49), 0);
    ASSERT_EQ(msgr_store_msg_fail_expired(s, 50), 1);
    ASSERT_OK(msgr_store_msg_get(s, "e0", &got));
    ASSERT_EQ(got.state, MSGR_MSG_FAILED);
    ASSERT_STREQ(got.error_msg, "message expired: expireEpoch 50 reached at height 50");
    msgr_message_done(&got);

    /* ClearUnFillMessage. */
    ASSERT_EQ(msgr_store_msg_fail_unfilled(s, A1, NULL), 1); /* r2 */

    /* Nonce sync (spec 4.4 step 3): never backwards; above the max FillMsg nonce. */
    ASSERT_OK(msgr_store_addr_sync_nonce(s, A1, 1, NULL, &nonce));
    ASSERT_EQ(nonce, 2);
    ASSERT_OK(msgr_store_addr_set_nonce(s, A1, 0));
    ASSERT_OK(msgr_store_addr_sync_nonce(s, A1, 1, NULL, &nonce));
    ASSERT_EQ(nonce, 2); /* max FillMsg nonce 1 + 1 */
    ASSERT_OK(msgr_store_addr_sync_nonce(s, A1, 7, NULL, &nonce));
    ASSERT_EQ(nonce, 7);
    ASSERT_EQ(msgr_store_addr_sync_nonce(s, A2, 7, NULL, &nonce), -ENOENT);
    msgr_store_free(s);
}

static void test_addresses_cfg_nodes(void)
{
    msgr_store_t *s = open_store();
    msgr_address_t a, *av = NULL;
    size_t n;
    bool has, created;
    ASSERT_NOTNULL(s);
    ASSERT_OK(msgr_store_addr_ensure(s, A1, &created));
    ASSERT_TRUE(created);
    ASSERT_OK(msgr_store_addr_ensure(s, A1_T, &created));
    ASSERT_FALSE(created);
    ASSERT_OK(msgr_store_addr_ensure(s, A2, NULL));
    ASSERT_EQ(msgr_store_addr_ensure(s, "x1abc", NULL), -EINVAL);
    ASSERT_OK(msgr_store_addr_set_sel_msg_num(s, A1, 40));
    msgr_address_spec_t spec = {.address = (char *)A1, .gas_over_estimation = 1.5, .has_max_fee = true};
    vc_bigint_from_u64(5000, &spec.max_fee);
    ASSERT_OK(msgr_store_addr_set_fee(s, &spec));
    spec.gas_over_estimation = 0; /* 0 = unchanged */
    spec.has_max_fee = false;
    spec.has_base_fee = true;
    vc_bigint_from_u64(3, &spec.base_fee);
    ASSERT_OK(msgr_store_addr_set_fee(s, &spec));
    ASSERT_OK(msgr_store_addr_get(s, A1, &a));
    ASSERT_EQ(a.sel_msg_num, 40);
    ASSERT_TRUE(a.fee.gas_over_estimation == 1.5);
    char buf[VC_BIGINT_STRLEN_MAX];
    vc_bigint_to_string(&a.fee.max_fee, buf, sizeof(buf));
    ASSERT_STREQ(buf, "5000");
    vc_bigint_to_string(&a.fee.base_fee, buf, sizeof(buf));
    ASSERT_STREQ(buf, "3");
    msgr_address_done(&a);
    spec.address = (char *)"f01999";
    ASSERT_EQ(msgr_store_addr_set_fee(s, &spec), -ENOENT);
    ASSERT_TRUE(errmsg_has("address not exists"));

    ASSERT_OK(msgr_store_addr_set_state(s, A2, MSGR_ADDR_FORBIDDEN));
    ASSERT_OK(msgr_store_addr_list(s, true, &av, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(av[0].addr, A1);
    msgr_addresses_free(av, n);
    ASSERT_OK(msgr_store_addr_list(s, false, &av, &n));
    ASSERT_EQ(n, 2);
    msgr_addresses_free(av, n);

    /* Soft delete keeps the nonce; a later push revives a fresh address with that nonce. */
    ASSERT_OK(msgr_store_addr_set_nonce(s, A1, 33));
    ASSERT_OK(msgr_store_addr_delete(s, A1));
    ASSERT_EQ(msgr_store_addr_delete(s, A1), -ENOENT);
    ASSERT_OK(msgr_store_addr_has(s, A1, &has));
    ASSERT_FALSE(has);
    ASSERT_EQ(msgr_store_addr_get(s, A1, &a), -ENOENT);
    ASSERT_OK(push(s, "after-delete", A1, 0));
    ASSERT_OK(msgr_store_addr_get(s, A1, &a));
    ASSERT_EQ(a.nonce, 33);
    ASSERT_EQ(a.sel_msg_num, 0);
    ASSERT_TRUE(a.fee.gas_over_estimation == 0);
    msgr_address_done(&a);

    /* Actor cfg. */
    msgr_actor_cfg_t ac = {0}, got;
    char id[37];
    ASSERT_EQ(msgr_store_actor_cfg_save(s, &ac, id), -EINVAL);
    ASSERT_TRUE(errmsg_has("code cid is undefined"));
    cid_for("code", 1, &ac.code);
    ac.method = 5;
    ac.actor_version = 12;
    ac.fee.gas_over_estimation = 2;
    ASSERT_OK(msgr_store_actor_cfg_save(s, &ac, id));
    ASSERT_OK(msgr_store_actor_cfg_get(s, id, &got));
    ASSERT_EQ(got.method, 5);
    ASSERT_EQ(got.actor_version, 12);
    ASSERT_OK(msgr_store_actor_cfg_get_by_method(s, &ac.code, 5, &got));
    ASSERT_STREQ(got.id, id);
    ASSERT_EQ(msgr_store_actor_cfg_save(s, &ac, NULL), -EEXIST); /* same (code, method), new id */
    msgr_change_gas_spec_t cg = {.has_gas_over_premium = true, .gas_over_premium = 1.7, .has_max_fee = true};
    vc_bigint_from_u64(42, &cg.max_fee);
    ASSERT_OK(msgr_store_actor_cfg_update(s, id, &cg));
    ASSERT_OK(msgr_store_actor_cfg_get(s, id, &got));
    ASSERT_TRUE(got.fee.gas_over_premium == 1.7 && got.fee.gas_over_estimation == 2);
    ASSERT_EQ(msgr_store_actor_cfg_update(s, "00000000-0000-0000-0000-000000000001", &cg), -ENOENT);
    msgr_actor_cfg_t *cv = NULL;
    ASSERT_OK(msgr_store_actor_cfg_list(s, &cv, &n));
    ASSERT_EQ(n, 1);
    free(cv);
    ASSERT_OK(msgr_store_actor_cfg_delete(s, id));

    /* Nodes: upsert by id, one live node per name, soft delete. */
    msgr_node_t nd = {.name = (char *)"n1", .url = (char *)"/ip4/1.2.3.4/tcp/1234", .token = (char *)"t", .type = 1};
    msgr_node_t gn, *nv = NULL;
    ASSERT_OK(msgr_store_node_save(s, &nd, id));
    memcpy(nd.id, id, 37);
    nd.url = (char *)"/ip4/5.6.7.8/tcp/1234";
    ASSERT_OK(msgr_store_node_save(s, &nd, NULL));
    ASSERT_OK(msgr_store_node_get(s, "n1", &gn));
    ASSERT_STREQ(gn.url, "/ip4/5.6.7.8/tcp/1234");
    msgr_node_done(&gn);
    nd.id[0] = '\0';
    ASSERT_EQ(msgr_store_node_save(s, &nd, NULL), -EEXIST);
    ASSERT_OK(msgr_store_node_list(s, &nv, &n));
    ASSERT_EQ(n, 1);
    msgr_nodes_free(nv, n);
    ASSERT_OK(msgr_store_node_delete(s, "n1"));
    ASSERT_EQ(msgr_store_node_delete(s, "n1"), -ENOENT);
    ASSERT_OK(msgr_store_node_has(s, "n1", &has));
    ASSERT_FALSE(has);
    ASSERT_OK(msgr_store_node_save(s, &nd, NULL)); /* the name is free again */
    msgr_store_free(s);
}

/* ---- concurrent fillers ---- */

#define CONC_MSGS 60

static pthread_barrier_t conc_start;

typedef struct filler {
    msgr_store_t *s;
    int filled;
    int stale;
    int errors;
} filler_t;

static void *filler_main(void *arg)
{
    filler_t *w = arg;
    pthread_barrier_wait(&conc_start);
    for (int round = 0; round < 2000; round++) {
        msgr_address_t a;
        msgr_message_t *v = NULL;
        size_t n = 0;
        if (msgr_store_addr_get(w->s, A1, &a) < 0) {
            w->errors++;
            break;
        }
        if (msgr_store_msg_list_by_from_state(w->s, A1, MSGR_MSG_UNFILL, true, 1, 1 + (round % 2), 0, &v, &n) < 0) {
            msgr_address_done(&a);
            w->errors++;
            break;
        }
        if (n == 0) {
            msgr_address_done(&a);
            break;
        }
        msgr_fill_t f[3];
        for (size_t i = 0; i < n; i++)
            mk_fill(&f[i], v[i].id, a.nonce + i, v[i].id);
        int r = msgr_store_msg_fill(w->s, A1, a.nonce, f, n, NULL, 0, NULL);
        if (r >= 0)
            w->filled += (int)n;
        else if (r == -ESTALE || r == -EINVAL)
            w->stale++; /* the other filler won: re-read */
        else
            w->errors++;
        msgr_messages_free(v, n);
        msgr_address_done(&a);
    }
    return NULL;
}

static void test_concurrent_fill(void)
{
    msgr_store_t *s = open_store();
    pthread_t th[2];
    filler_t w[2] = {{.s = s}, {.s = s}};
    msgr_message_t *v = NULL;
    size_t n = 0;
    ASSERT_NOTNULL(s);
    for (int i = 0; i < CONC_MSGS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%03d", i);
        ASSERT_OK(push(s, id, A1, i));
    }
    pthread_barrier_init(&conc_start, NULL, 2);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, filler_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&conc_start);
    printf("# fillers: filled %d/%d, lost races %d/%d\n", w[0].filled, w[1].filled, w[0].stale, w[1].stale);
    ASSERT_EQ(w[0].errors + w[1].errors, 0);
    ASSERT_EQ(w[0].filled + w[1].filled, CONC_MSGS);
    ASSERT_OK(msgr_store_msg_list_filled(s, A1, 0, &v, &n));
    ASSERT_EQ(n, CONC_MSGS);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ_U64(v[i].msg.nonce, i); /* 0..59, each once */
    msgr_messages_free(v, n);
    msgr_address_t a;
    ASSERT_OK(msgr_store_addr_get(s, A1, &a));
    ASSERT_EQ(a.nonce, CONC_MSGS);
    msgr_address_done(&a);
    msgr_store_free(s);
}

static bool has_msg(msgr_store_t *s, const char *id)
{
    bool has = false;
    return msgr_store_msg_has(s, id, &has) == 0 && has;
}

static bool has_addr(msgr_store_t *s, const char *addr)
{
    bool has = false;
    return msgr_store_addr_has(s, addr, &has) == 0 && has;
}

#define A3 "f1hvadvq4rd2pyayrigjx2nbqz2nvemqouslw4wxi"

/* Group commit: one transaction, each message succeeding or failing alone (the fast pass). */
static void test_push_each(void)
{
    msgr_store_t *s = open_store();
    ASSERT_NOTNULL(s);
    ASSERT_OK(push(s, "old", A1, 0));
    ASSERT_OK(push(s, "f0", A2, 1));
    ASSERT_OK(msgr_store_addr_set_state(s, A2, MSGR_ADDR_FORBIDDEN));

    enum { N = 8 };
    msgr_message_t m[N];
    const msgr_message_t *pv[N];
    msgr_push_result_t res[N];
    mk_msg(&m[0], "e0", A1, 10);
    mk_msg(&m[1], "old", A3, 11); /* taken id, new sender: fails, A3 must not appear */
    mk_msg(&m[2], "e2", A2, 12);  /* forbidden sender */
    mk_msg(&m[3], "", A1, 13);    /* bad row */
    mk_msg(&m[4], "e4", A1, 14);
    mk_msg(&m[5], "e4", A1, 15); /* the same id twice in one batch: the second fails */
    mk_msg(&m[6], "e6", A1_T, 16);
    mk_msg(&m[7], "e7", A2, 17); /* forbidden, the sender now known in the batch */
    for (int i = 0; i < N; i++) {
        pv[i] = &m[i];
        res[i].r = 99;
    }
    ASSERT_OK(msgr_store_msg_push_each(s, pv, N, res));
    ASSERT_EQ(res[0].r, 0);
    ASSERT_STREQ(res[0].errmsg, "");
    ASSERT_EQ(res[1].r, -EEXIST);
    ASSERT_STREQ(res[1].errmsg, "duplicate message id");
    ASSERT_EQ(res[2].r, -EPERM);
    ASSERT_TRUE(strstr(res[2].errmsg, "is forbidden") != NULL);
    ASSERT_EQ(res[3].r, -EINVAL);
    ASSERT_STREQ(res[3].errmsg, "empty uid");
    ASSERT_EQ(res[4].r, 0);
    ASSERT_EQ(res[5].r, -EEXIST);
    ASSERT_EQ(res[6].r, 0);
    ASSERT_EQ(res[7].r, -EPERM);
    ASSERT_TRUE(has_msg(s, "e0") && has_msg(s, "e4") && has_msg(s, "e6"));
    ASSERT_FALSE(has_msg(s, "e2") || has_msg(s, "e7"));
    ASSERT_FALSE(has_addr(s, A3));
    msgr_message_t got;
    ASSERT_OK(msgr_store_msg_get(s, "e4", &got));
    ASSERT_EQ(vc_bigint_cmp(&got.msg.value, &m[4].msg.value), 0); /* the first of the two */
    msgr_message_done(&got);

    for (int i = 0; i < N; i++)
        msgr_message_done(&m[i]);

    /* A new sender whose first message is in gets its address; a deleted one comes back. */
    ASSERT_OK(msgr_store_addr_delete(s, A1));
    mk_msg(&m[0], "n0", A3, 20);
    mk_msg(&m[1], "n1", A1, 21);
    ASSERT_OK(msgr_store_msg_push_each(s, pv, 2, res));
    ASSERT_EQ(res[0].r, 0);
    ASSERT_EQ(res[1].r, 0);
    ASSERT_TRUE(has_addr(s, A3) && has_addr(s, A1));
    msgr_message_done(&m[0]);
    msgr_message_done(&m[1]);

    /* Anything else wrong with one message (here a second live signed message for a nonce)
     * is found the careful way: that message fails, the others are kept. */
    mk_msg(&m[2], "s0", A3, 22);
    m[2].state = MSGR_MSG_FILL;
    m[2].msg.nonce = 7;
    ASSERT_OK(msgr_store_msg_push_each(s, &pv[2], 1, res));
    ASSERT_EQ(res[0].r, 0);
    msgr_message_done(&m[2]);
    mk_msg(&m[0], "c0", A1, 23);
    mk_msg(&m[1], "s1", A3, 24);
    m[1].state = MSGR_MSG_FILL;
    m[1].msg.nonce = 7;
    mk_msg(&m[2], "c2", A3, 25);
    ASSERT_OK(msgr_store_msg_push_each(s, pv, 3, res));
    ASSERT_EQ(res[0].r, 0);
    ASSERT_EQ(res[1].r, -EEXIST);
    ASSERT_EQ(res[2].r, 0);
    ASSERT_TRUE(has_msg(s, "c0") && has_msg(s, "c2"));
    ASSERT_FALSE(has_msg(s, "s1"));
    for (int i = 0; i < 3; i++)
        msgr_message_done(&m[i]);
    msgr_store_free(s);
}

/* The push queue: concurrent callers, each with its own outcome, all committed on return. */
#define PQ_THREADS 8
#define PQ_EACH 40

typedef struct pq_worker {
    msgr_pushq_t *q;
    int idx;
    int ok, dup;
} pq_worker_t;

static void *pq_main(void *arg)
{
    pq_worker_t *w = arg;
    pthread_barrier_wait(&conc_start);
    for (int i = 0; i < PQ_EACH; i++) {
        char id[32];
        msgr_message_t m;
        msgr_push_result_t res;
        /* every fifth id is shared by all threads: exactly one of them gets it */
        if (i % 5 == 0)
            snprintf(id, sizeof(id), "shared-%d", i);
        else
            snprintf(id, sizeof(id), "t%d-%d", w->idx, i);
        mk_msg(&m, id, w->idx % 2 ? A1 : A3, i);
        int r = msgr_pushq_push(w->q, &m, &res);
        if (r == 0)
            w->ok++;
        else if (r == -EEXIST && vc_streq(res.errmsg, "duplicate message id"))
            w->dup++;
        msgr_message_done(&m);
    }
    return NULL;
}

static void test_pushq(void)
{
    msgr_store_t *s = open_store();
    msgr_pushq_t *q = NULL;
    pthread_t th[PQ_THREADS];
    pq_worker_t w[PQ_THREADS];
    ASSERT_NOTNULL(s);
    ASSERT_OK(msgr_pushq_new(s, &q));
    pthread_barrier_init(&conc_start, NULL, PQ_THREADS);
    for (int i = 0; i < PQ_THREADS; i++) {
        w[i] = (pq_worker_t){.q = q, .idx = i};
        ASSERT_EQ(pthread_create(&th[i], NULL, pq_main, &w[i]), 0);
    }
    int ok = 0, dup = 0;
    for (int i = 0; i < PQ_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        dup += w[i].dup;
    }
    pthread_barrier_destroy(&conc_start);
    int shared = PQ_EACH / 5;
    ASSERT_EQ(ok, PQ_THREADS * (PQ_EACH - shared) + shared);
    ASSERT_EQ(dup, (PQ_THREADS - 1) * shared);
    uint64_t batches = 0, msgs = 0;
    msgr_pushq_stats(q, &batches, &msgs);
    printf("# push queue: %llu messages in %llu batches\n", (unsigned long long)msgs,
           (unsigned long long)batches);
    ASSERT_EQ_U64(msgs, (uint64_t)(PQ_THREADS * PQ_EACH));
    ASSERT_TRUE(batches >= 1 && batches <= msgs);
    int64_t counts[MSGR_MSG_STATE_MAX] = {0};
    ASSERT_OK(msgr_store_msg_count_by_state(s, counts));
    ASSERT_EQ(counts[MSGR_MSG_UNFILL], ok);
    q = msgr_pushq_free(q);
    msgr_store_free(s);
}

/* msgr_pushq_submit: the writer calls back once per message, with that message's outcome. */
typedef struct pq_async {
    pthread_mutex_t lock;
    int done, ok, dup;
    bool ids_match;
} pq_async_t;

static void pq_done(void *userdata, const msgr_message_t *m, int r, const char *errmsg)
{
    pq_async_t *a = userdata;
    pthread_mutex_lock(&a->lock);
    a->done++;
    if (r == 0)
        a->ok++;
    else if (r == -EEXIST && vc_streq(errmsg, "duplicate message id") && vc_streq(m->id, "async-dup"))
        a->dup++;
    if (strncmp(m->id, "async-", 6) != 0)
        a->ids_match = false;
    pthread_mutex_unlock(&a->lock);
}

static void test_pushq_submit(void)
{
    msgr_store_t *s = open_store();
    msgr_pushq_t *q = NULL;
    pq_async_t a = {.lock = PTHREAD_MUTEX_INITIALIZER, .ids_match = true};
    ASSERT_NOTNULL(s);
    ASSERT_OK(msgr_pushq_new(s, &q));
    for (int i = 0; i < 50; i++) {
        char id[32];
        msgr_message_t m;
        snprintf(id, sizeof(id), i % 10 == 9 ? "async-dup" : "async-%d", i);
        mk_msg(&m, id, i % 2 ? A1 : A3, i);
        ASSERT_OK(msgr_pushq_submit(q, &m, pq_done, &a));
        ASSERT_TRUE(m.id == NULL); /* taken */
    }
    q = msgr_pushq_free(q); /* writes what is still queued first */
    ASSERT_EQ(a.done, 50);
    ASSERT_EQ(a.ok, 46);
    ASSERT_EQ(a.dup, 4);
    ASSERT_TRUE(a.ids_match);
    int64_t counts[MSGR_MSG_STATE_MAX] = {0};
    ASSERT_OK(msgr_store_msg_count_by_state(s, counts));
    ASSERT_EQ(counts[MSGR_MSG_UNFILL], 46);
    msgr_store_free(s);
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
    VC_TEST_RUN(test_open_shared);
    VC_TEST_RUN(test_push_get_query);
    VC_TEST_RUN(test_by_sender_mixed_states);
    VC_TEST_RUN(test_unfilled_scan_pages);
    VC_TEST_RUN(test_sender_queries_use_indexes);
    VC_TEST_RUN(test_fill);
    VC_TEST_RUN(test_fence);
    VC_TEST_RUN(test_head);
    VC_TEST_RUN(test_manual_ops);
    VC_TEST_RUN(test_addresses_cfg_nodes);
    VC_TEST_RUN(test_concurrent_fill);
    VC_TEST_RUN(test_push_each);
    VC_TEST_RUN(test_pushq);
    VC_TEST_RUN(test_pushq_submit);
    return VC_TEST_DONE();
}
