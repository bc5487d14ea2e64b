/* Tests for metrics.c (registry, atomics, Prometheus text format). */
#include <pthread.h>
#include <stdlib.h>

#include "vc-test.h"
#include "vc/metrics.h"
#include "vc/util.h"

static double fixed_fn(void *ud)
{
    return *(double *)ud;
}

static void test_render_exact(void)
{
    _cleanup_(vc_metrics_freep) vc_metrics_t *m = vc_metrics_new("venus");
    vc_metric_t *req, *conns, *lat, *empty, *plain;
    vc_buf_t b = {0};
    static double now = 3;
    const double bk[] = {0.1, 1, 2.5};

    ASSERT_NOTNULL(m);
    ASSERT_OK(vc_metrics_counter(m, "requests_total", "RPC requests\\handled.\nSecond line.",
                                 VC_LABELS("method", "code"), &req));
    ASSERT_OK(vc_metrics_gauge(m, "temperature", "A gauge.", NULL, &plain));
    ASSERT_OK(vc_metrics_gauge_func(m, "connections", "Connections now.", fixed_fn, &now, &conns));
    ASSERT_OK(vc_metrics_histogram(m, "rpc_latency_seconds", "Latency.", VC_LABELS("method"), bk, 3, &lat));
    ASSERT_OK(vc_metrics_counter(m, "unused_total", "No children yet.", VC_LABELS("x"), &empty));

    vc_counter_inc(vc_metric_with(req, "Verify", "200", NULL));
    vc_counter_add(vc_metric_with(req, "Verify", "200", NULL), 2);
    vc_counter_add(vc_metric_with(req, "Verify", "200", NULL), -5); /* ignored */
    vc_counter_inc(vc_metric_with(req, "a\"b\\c\nd", "500", NULL));
    vc_gauge_set(vc_metric_with(plain, NULL), 21.5);
    vc_gauge_dec(vc_metric_with(plain, NULL));
    vc_histogram_observe(vc_metric_with(lat, "Sign", NULL), 0.05);
    vc_histogram_observe(vc_metric_with(lat, "Sign", NULL), 0.1); /* le is inclusive */
    vc_histogram_observe(vc_metric_with(lat, "Sign", NULL), 2);
    vc_histogram_observe(vc_metric_with(lat, "Sign", NULL), 100);

    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_STREQ(b.data, "# HELP venus_connections Connections now.\n"
                         "# TYPE venus_connections gauge\n"
                         "venus_connections 3\n"
                         "# HELP venus_requests_total RPC requests\\\\handled.\\nSecond line.\n"
                         "# TYPE venus_requests_total counter\n"
                         "venus_requests_total{method=\"Verify\",code=\"200\"} 3\n"
                         "venus_requests_total{method=\"a\\\"b\\\\c\\nd\",code=\"500\"} 1\n"
                         "# HELP venus_rpc_latency_seconds Latency.\n"
                         "# TYPE venus_rpc_latency_seconds histogram\n"
                         "venus_rpc_latency_seconds_bucket{method=\"Sign\",le=\"0.1\"} 2\n"
                         "venus_rpc_latency_seconds_bucket{method=\"Sign\",le=\"1\"} 2\n"
                         "venus_rpc_latency_seconds_bucket{method=\"Sign\",le=\"2.5\"} 3\n"
                         "venus_rpc_latency_seconds_bucket{method=\"Sign\",le=\"+Inf\"} 4\n"
                         "venus_rpc_latency_seconds_sum{method=\"Sign\"} 102.15\n"
                         "venus_rpc_latency_seconds_count{method=\"Sign\"} 4\n"
                         "# HELP venus_temperature A gauge.\n"
                         "# TYPE venus_temperature gauge\n"
                         "venus_temperature 20.5\n");
    vc_buf_done(&b);
    now = 1e6;
    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_TRUE(strstr(b.data, "venus_connections 1e+06\n") != NULL);
    vc_buf_done(&b);
}

static void test_default_buckets_unlabeled(void)
{
    _cleanup_(vc_metrics_freep) vc_metrics_t *m = vc_metrics_new(NULL);
    vc_metric_t *h;
    vc_buf_t b = {0};
    ASSERT_OK(vc_metrics_histogram(m, "op_seconds", "Op.", NULL, NULL, 0, &h));
    vc_histogram_observe(vc_metric_with(h, NULL), 0.3);
    ASSERT_EQ(vc_histogram_count(vc_metric_with(h, NULL)), 1);
    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_STREQ(b.data, "# HELP op_seconds Op.\n"
                         "# TYPE op_seconds histogram\n"
                         "op_seconds_bucket{le=\"0.005\"} 0\n"
                         "op_seconds_bucket{le=\"0.01\"} 0\n"
                         "op_seconds_bucket{le=\"0.025\"} 0\n"
                         "op_seconds_bucket{le=\"0.05\"} 0\n"
                         "op_seconds_bucket{le=\"0.1\"} 0\n"
                         "op_seconds_bucket{le=\"0.25\"} 0\n"
                         "op_seconds_bucket{le=\"0.5\"} 1\n"
                         "op_seconds_bucket{le=\"1\"} 1\n"
                         "op_seconds_bucket{le=\"2.5\"} 1\n"
                         "op_seconds_bucket{le=\"5\"} 1\n"
                         "op_seconds_bucket{le=\"10\"} 1\n"
                         "op_seconds_bucket{le=\"+Inf\"} 1\n"
                         "op_seconds_sum 0.3\n"
                         "op_seconds_count 1\n");
    vc_buf_done(&b);
}

static void test_registration_rules(void)
{
    _cleanup_(vc_metrics_freep) vc_metrics_t *m = vc_metrics_new("p");
    vc_metric_t *a, *a2;
    const double bad[] = {1, 1};
    ASSERT_OK(vc_metrics_counter(m, "x_total", "", VC_LABELS("l"), &a));
    ASSERT_OK(vc_metrics_counter(m, "x_total", "", VC_LABELS("l"), &a2));
    ASSERT_TRUE(a == a2);
    ASSERT_EQ(vc_metrics_gauge(m, "x_total", "", VC_LABELS("l"), NULL), -EEXIST);
    ASSERT_EQ(vc_metrics_counter(m, "x_total", "", VC_LABELS("k"), NULL), -EEXIST);
    ASSERT_OK(vc_metrics_counter(m, "1ok", "", NULL, NULL)); /* prefixed: p_1ok is valid */
    ASSERT_EQ(vc_metrics_counter(m, "bad-name", "", NULL, NULL), -EINVAL);
    ASSERT_EQ(vc_metrics_counter(m, "c", "", VC_LABELS("__x"), NULL), -EINVAL);
    ASSERT_EQ(vc_metrics_counter(m, "c", "", VC_LABELS("a", "a"), NULL), -EINVAL);
    ASSERT_EQ(vc_metrics_counter(m, "c", "", VC_LABELS("a", "b", "c", "d", "e"), NULL), -EINVAL);
    ASSERT_EQ(vc_metrics_histogram(m, "h", "", VC_LABELS("le"), NULL, 0, NULL), -EINVAL);
    ASSERT_EQ(vc_metrics_histogram(m, "h", "", NULL, bad, 2, NULL), -EINVAL);
    /* wrong label count -> NULL, and updates on NULL are no-ops */
    ASSERT_TRUE(vc_metric_with(a, NULL) == NULL);
    ASSERT_TRUE(vc_metric_with(a, "1", "2", NULL) == NULL);
    ASSERT_TRUE(vc_metric_with(a, "\xff", NULL) == NULL);
    vc_counter_inc(NULL);
    ASSERT_TRUE(vc_metrics_new("bad prefix") == NULL);
}

static void test_overflow(void)
{
    _cleanup_(vc_metrics_freep) vc_metrics_t *m = vc_metrics_new(NULL);
    vc_metric_t *f;
    char v[32];
    ASSERT_OK(vc_metrics_counter(m, "c_total", "", VC_LABELS("id"), &f));
    for (int i = 0; i < VC_METRICS_MAX_CHILDREN + 50; i++) {
        snprintf(v, sizeof(v), "%d", i);
        vc_counter_inc(vc_metric_with(f, v, NULL));
    }
    vc_metric_child_t *ov = vc_metric_with(f, "new", NULL);
    ASSERT_NOTNULL(ov);
    ASSERT_TRUE(vc_metric_value(ov) == 50);
    ASSERT_TRUE(vc_metric_value(vc_metric_with(f, "999", NULL)) == 1); /* existing still found */
    vc_buf_t b = {0};
    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_TRUE(strstr(b.data, "c_total{id=\"_overflow\"} 50\n") != NULL);
    vc_buf_done(&b);
}

struct thr {
    vc_metric_t *c, *g, *h;
    int id;
};

static void *worker(void *arg)
{
    struct thr *t = arg;
    char lbl[8];
    for (int i = 0; i < 20000; i++) {
        snprintf(lbl, sizeof(lbl), "%d", i % 16);
        vc_counter_inc(vc_metric_with(t->c, lbl, NULL));
        vc_gauge_add(vc_metric_with(t->g, NULL), 0.5);
        vc_histogram_observe(vc_metric_with(t->h, NULL), 1);
    }
    return NULL;
}

static void test_concurrency(void)
{
    _cleanup_(vc_metrics_freep) vc_metrics_t *m = vc_metrics_new(NULL);
    struct thr t[8];
    pthread_t th[8];
    vc_metric_t *c, *g, *h;
    ASSERT_OK(vc_metrics_counter(m, "c_total", "", VC_LABELS("k"), &c));
    ASSERT_OK(vc_metrics_gauge(m, "g", "", NULL, &g));
    ASSERT_OK(vc_metrics_histogram(m, "h", "", NULL, NULL, 0, &h));
    for (int i = 0; i < 8; i++) {
        t[i] = (struct thr){c, g, h, i};
        ASSERT_EQ(pthread_create(&th[i], NULL, worker, &t[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        vc_buf_t b = {0};
        ASSERT_OK(vc_metrics_render(m, &b)); /* rendering while updating */
        vc_buf_done(&b);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    double sum = 0;
    for (int k = 0; k < 16; k++) {
        char lbl[8];
        snprintf(lbl, sizeof(lbl), "%d", k);
        sum += vc_metric_value(vc_metric_with(c, lbl, NULL));
    }
    ASSERT_TRUE(sum == 8 * 20000);
    ASSERT_TRUE(vc_metric_value(vc_metric_with(g, NULL)) == 8 * 20000 * 0.5);
    ASSERT_EQ(vc_histogram_count(vc_metric_with(h, NULL)), 8 * 20000);
    ASSERT_TRUE(vc_metric_value(vc_metric_with(h, NULL)) == 8 * 20000);
}

static void test_process(void)
{
    _cleanup_(vc_metrics_freep) vc_metrics_t *m = vc_metrics_new("venus_auth");
    vc_buf_t b = {0};
    ASSERT_OK(vc_metrics_add_process(m));
    ASSERT_OK(vc_metrics_render(m, &b));
    ASSERT_TRUE(
        strstr(b.data, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ") != NULL);
    ASSERT_TRUE(strstr(b.data, "\nprocess_open_fds ") != NULL);
    ASSERT_TRUE(strstr(b.data, "\nprocess_start_time_seconds 1") != NULL);
    ASSERT_TRUE(strstr(b.data, "\nprocess_cpu_seconds_total ") != NULL);
    ASSERT_TRUE(strstr(b.data, "process_resident_memory_bytes 0\n") == NULL);
    vc_buf_done(&b);
    ASSERT_STREQ(VC_METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_render_exact);
    VC_TEST_RUN(test_default_buckets_unlabeled);
    VC_TEST_RUN(test_registration_rules);
    VC_TEST_RUN(test_overflow);
    VC_TEST_RUN(test_concurrency);
    VC_TEST_RUN(test_process);
    return VC_TEST_DONE();
}
