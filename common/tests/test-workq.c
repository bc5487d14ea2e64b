/* Tests for workq: every job runs, blocking jobs do not starve later ones, free drains. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vc-test.h"
#include "vc/util.h"
#include "vc/workq.h"

static atomic_int ran;
static atomic_bool released;
static atomic_int in_worker_seen;
static vc_workq_t *the_q;

static void count_job(void *arg)
{
    atomic_fetch_add(&ran, 1);
    if (vc_workq_in_worker(the_q))
        atomic_fetch_add(&in_worker_seen, 1);
}

static void wait_job(void *arg)
{
    for (int i = 0; i < 500 && !atomic_load(&released); i++)
        vc_sleep_ms(10);
    if (atomic_load(&released))
        atomic_fetch_add(&ran, 1);
}

static void release_job(void *arg)
{
    atomic_store(&released, true);
    atomic_fetch_add(&ran, 1);
}

static void test_runs_everything(void)
{
    vc_workq_t *q;
    ASSERT_OK(vc_workq_new(2, 8, &q));
    the_q = q;
    atomic_store(&ran, 0);
    for (int i = 0; i < 1000; i++)
        ASSERT_OK(vc_workq_submit(q, count_job, NULL));
    for (int i = 0; i < 500 && atomic_load(&ran) < 1000; i++)
        vc_sleep_ms(10);
    ASSERT_EQ(atomic_load(&ran), 1000);
    ASSERT_EQ(atomic_load(&in_worker_seen), 1000);
    ASSERT_FALSE(vc_workq_in_worker(q));
    ASSERT_TRUE(vc_workq_workers(q) <= 8);
    vc_workq_free(q);
}

/* Two jobs block until a third, queued behind them, runs: the pool must grow for it. */
static void test_no_starvation(void)
{
    vc_workq_t *q;
    ASSERT_OK(vc_workq_new(1, 4, &q));
    atomic_store(&ran, 0);
    atomic_store(&released, false);
    int64_t t0 = vc_now_mono_us();
    ASSERT_OK(vc_workq_submit(q, wait_job, NULL));
    ASSERT_OK(vc_workq_submit(q, wait_job, NULL));
    ASSERT_OK(vc_workq_submit(q, release_job, NULL));
    for (int i = 0; i < 500 && atomic_load(&ran) < 3; i++)
        vc_sleep_ms(5);
    ASSERT_EQ(atomic_load(&ran), 3);
    ASSERT_LT(vc_now_mono_us() - t0, 1000000);
    vc_workq_free(q);
}

static void test_free_drains(void)
{
    vc_workq_t *q;
    ASSERT_OK(vc_workq_new(1, 1, &q));
    the_q = q;
    atomic_store(&ran, 0);
    for (int i = 0; i < 100; i++)
        ASSERT_OK(vc_workq_submit(q, count_job, NULL));
    vc_workq_free(q);
    ASSERT_EQ(atomic_load(&ran), 100);
    ASSERT_EQ(vc_workq_new(3, 2, &q), -EINVAL);
}

/* drain: runs what is queued, joins the workers, then refuses jobs until free (vc_http_stop
 * relies on that: MHD may still try to defer requests until it has stopped). */
static void test_drain_then_refuse(void)
{
    vc_workq_t *q;
    ASSERT_OK(vc_workq_new(1, 4, &q));
    the_q = q;
    atomic_store(&ran, 0);
    for (int i = 0; i < 50; i++)
        ASSERT_OK(vc_workq_submit(q, count_job, NULL));
    vc_workq_drain(q);
    ASSERT_EQ(atomic_load(&ran), 50);
    ASSERT_EQ(vc_workq_workers(q), 0);
    ASSERT_EQ(vc_workq_submit(q, count_job, NULL), -ECANCELED);
    vc_workq_drain(q); /* idempotent */
    vc_workq_free(q);
    ASSERT_EQ(atomic_load(&ran), 50);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_runs_everything);
    VC_TEST_RUN(test_no_starvation);
    VC_TEST_RUN(test_free_drains);
    VC_TEST_RUN(test_drain_then_refuse);
    return VC_TEST_DONE();
}
