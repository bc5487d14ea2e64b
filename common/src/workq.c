/* workq.c: elastic worker pool with joinable threads. */
#include "vc/workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "vc/util.h"

#define IDLE_EXIT_MS 30000

typedef struct job {
    struct job *next;
    void (*fn)(void *);
    void *arg;
} job_t;

enum { SLOT_FREE, SLOT_RUNNING, SLOT_EXITED };

typedef struct slot {
    pthread_t thread;
    int state;
} slot_t;

struct vc_workq {
    unsigned min, max;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    job_t *head, *tail;
    unsigned n_queued, n_idle, n_alive;
    bool stopping;
    slot_t *slots;
};

static _Thread_local const vc_workq_t *current_pool;

typedef struct start {
    vc_workq_t *q;
    slot_t *slot;
} start_t;

static void *worker_main(void *arg)
{
    vc_workq_t *q = ((start_t *)arg)->q;
    slot_t *slot = ((start_t *)arg)->slot;
    free(arg);
    current_pool = q;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += IDLE_EXIT_MS / 1000;
            if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) == ETIMEDOUT && !q->head &&
                q->n_alive > q->min)
                goto out;
        }
        if (!q->head) /* stopping and drained */
            goto out;
        job_t *j = q->head;
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->n_queued--;
        q->n_idle--;
        pthread_mutex_unlock(&q->lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&q->lock);
        q->n_idle++;
    }
out:
    q->n_idle--;
    q->n_alive--;
    slot->state = SLOT_EXITED;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Joins exited workers. Called with the lock held; drops it while joining. */
static void reap(vc_workq_t *q)
{
    for (unsigned i = 0; i < q->max; i++)
        if (q->slots[i].state == SLOT_EXITED) {
            pthread_t t = q->slots[i].thread;
            q->slots[i].state = SLOT_FREE;
            pthread_mutex_unlock(&q->lock);
            pthread_join(t, NULL);
            pthread_mutex_lock(&q->lock);
        }
}

/* Starts one worker. Lock held. */
static int spawn(vc_workq_t *q)
{
    for (unsigned i = 0; i < q->max; i++)
        if (q->slots[i].state == SLOT_FREE) {
            start_t *st = malloc(sizeof(*st));
            if (!st)
                return -ENOMEM;
            st->q = q;
            st->slot = &q->slots[i];
            q->slots[i].state = SLOT_RUNNING;
            if (pthread_create(&q->slots[i].thread, NULL, worker_main, st) != 0) {
                q->slots[i].state = SLOT_FREE;
                free(st);
                return -EAGAIN;
            }
            q->n_alive++;
            q->n_idle++;
            return 0;
        }
    return -ENOSPC;
}

int vc_workq_new(unsigned min_workers, unsigned max_workers, vc_workq_t **ret)
{
    if (max_workers == 0 || max_workers < min_workers)
        return -EINVAL;
    vc_workq_t *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->slots = calloc(max_workers, sizeof(*q->slots));
    if (!q->slots) {
        free(q);
        return -ENOMEM;
    }
    q->min = min_workers;
    q->max = max_workers;
    pthread_mutex_init(&q->lock, NULL);
    vc_cond_init_monotonic(&q->cond);
    *ret = q;
    return 0;
}

int vc_workq_submit(vc_workq_t *q, void (*fn)(void *), void *arg)
{
    job_t *j = malloc(sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        free(j);
        return -ECANCELED;
    }
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n_queued++;
    reap(q);
    int r = 0;
    if (q->n_queued > q->n_idle && q->n_alive < q->max)
        r = spawn(q);
    if (r < 0 && q->n_alive == 0) {
        /* nobody to run it: take it back */
        q->head = q->tail = NULL;
        q->n_queued = 0;
        pthread_mutex_unlock(&q->lock);
        free(j);
        return r;
    }
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void vc_workq_drain(vc_workq_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    if (q->head && q->n_alive == 0)
        spawn(q);
    pthread_cond_broadcast(&q->cond);
    while (q->n_alive > 0)
        pthread_cond_wait(&q->cond, &q->lock);
    reap(q);
    job_t *left = q->head; /* only when no worker could be started */
    q->head = q->tail = NULL;
    q->n_queued = 0;
    pthread_mutex_unlock(&q->lock);
    while (left) {
        job_t *j = left;
        left = j->next;
        j->fn(j->arg);
        free(j);
    }
}

vc_workq_t *vc_workq_free(vc_workq_t *q)
{
    if (!q)
        return NULL;
    vc_workq_drain(q);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q->slots);
    free(q);
    return NULL;
}

bool vc_workq_in_worker(const vc_workq_t *q)
{
    return current_pool == q;
}

unsigned vc_workq_workers(vc_workq_t *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned n = q->n_alive;
    pthread_mutex_unlock(&q->lock);
    return n;
}
