/* msgr-pushq.c: group commit of PushMessage writes (contract in msgr-pushq.h). */
#include "msgr-pushq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A queued push: a caller waiting in msgr_pushq_push (on its stack), or a msgr_pushq_submit
 * (on the heap, owning its message, with a callback). */
typedef struct waiter {
    const msgr_message_t *m;
    msgr_push_result_t *res;
    pthread_cond_t cond;
    bool done;
    msgr_pushq_done_fn done_fn;
    void *userdata;
    msgr_message_t owned;
    struct waiter *next;
} waiter_t;

struct msgr_pushq {
    msgr_store_t *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;   /* the writer waits here for work */
    waiter_t *head, *tail; /* queued, not yet taken by the writer (under lock) */
    bool idle;             /* the writer is waiting on `wake` (under lock) */
    bool stopping;         /* (under lock) */
    uint64_t batches, msgs;
    /* the writer's scratch */
    waiter_t *batch[MSGR_PUSHQ_BATCH_MAX];
    const msgr_message_t *msgv[MSGR_PUSHQ_BATCH_MAX];
    msgr_push_result_t resv[MSGR_PUSHQ_BATCH_MAX];
};

/* Called with q->lock held: writes what is queued (up to the batch limit) outside the lock,
 * then hands each caller its result. */
static void write_batch(msgr_pushq_t *q)
{
    size_t n = 0;
    while (q->head && n < MSGR_PUSHQ_BATCH_MAX) {
        q->batch[n] = q->head;
        q->msgv[n] = q->head->m;
        q->head = q->head->next;
        n++;
    }
    if (!q->head)
        q->tail = NULL;
    pthread_mutex_unlock(&q->lock);

    (void)msgr_store_msg_push_each(q->store, q->msgv, n, q->resv);

    /* submitted pushes first, outside the lock: their callbacks answer callers */
    for (size_t i = 0; i < n; i++) {
        waiter_t *w = q->batch[i];
        if (!w->done_fn)
            continue;
        w->done_fn(w->userdata, w->m, q->resv[i].r, q->resv[i].r < 0 ? q->resv[i].errmsg : "");
        msgr_message_done(&w->owned);
        free(w);
        q->batch[i] = NULL;
    }

    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < n; i++) {
        waiter_t *w = q->batch[i];
        if (!w)
            continue;
        w->res->r = q->resv[i].r;
        if (q->resv[i].r < 0)
            memcpy(w->res->errmsg, q->resv[i].errmsg, sizeof(w->res->errmsg));
        else
            w->res->errmsg[0] = '\0';
        w->done = true;
        pthread_cond_signal(&w->cond);
    }
    q->batches++;
    q->msgs += n;
}

static void *writer_main(void *arg)
{
    msgr_pushq_t *q = arg;
    pthread_mutex_lock(&q->lock);
    while (true) {
        if (q->head) {
            write_batch(q);
            continue;
        }
        if (q->stopping)
            break;
        q->idle = true;
        pthread_cond_wait(&q->wake, &q->lock);
        q->idle = false;
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int msgr_pushq_new(msgr_store_t *store, msgr_pushq_t **ret)
{
    msgr_pushq_t *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->store = store;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return -EAGAIN;
    }
    *ret = q;
    return 0;
}

void msgr_pushq_stop(msgr_pushq_t *q)
{
    pthread_mutex_lock(&q->lock);
    bool first = !q->stopping;
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    if (first) /* the first call joins (stop, then free, on one thread) */
        pthread_join(q->thread, NULL); /* writes what is still queued first */
}

msgr_pushq_t *msgr_pushq_free(msgr_pushq_t *q)
{
    if (!q)
        return NULL;
    msgr_pushq_stop(q);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q);
    return NULL;
}

/* Appends w to the queue (q->lock held) and wakes the writer if it sleeps. */
static void enqueue(msgr_pushq_t *q, waiter_t *w)
{
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    if (q->idle)
        pthread_cond_signal(&q->wake);
}

int msgr_pushq_push(msgr_pushq_t *q, const msgr_message_t *m, msgr_push_result_t *ret)
{
    waiter_t w = {.m = m, .res = ret};
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        snprintf(ret->errmsg, sizeof(ret->errmsg), "venus-messager is shutting down: nothing was stored");
        return ret->r = -ESHUTDOWN;
    }
    pthread_cond_init(&w.cond, NULL);
    enqueue(q, &w);
    while (!w.done)
        pthread_cond_wait(&w.cond, &q->lock);
    pthread_mutex_unlock(&q->lock);
    pthread_cond_destroy(&w.cond);
    return ret->r;
}

int msgr_pushq_submit(msgr_pushq_t *q, msgr_message_t *m, msgr_pushq_done_fn done, void *userdata)
{
    waiter_t *w = calloc(1, sizeof(*w));
    if (!w) {
        msgr_message_done(m);
        return -ENOMEM;
    }
    w->owned = *m;
    msgr_message_init(m);
    w->m = &w->owned;
    w->done_fn = done;
    w->userdata = userdata;
    pthread_mutex_lock(&q->lock);
    bool stopping = q->stopping;
    if (!stopping)
        enqueue(q, w);
    pthread_mutex_unlock(&q->lock);
    if (stopping) {
        msgr_message_done(&w->owned);
        free(w);
        return -ESHUTDOWN;
    }
    return 0;
}

void msgr_pushq_stats(msgr_pushq_t *q, uint64_t *ret_batches, uint64_t *ret_msgs)
{
    pthread_mutex_lock(&q->lock);
    if (ret_batches)
        *ret_batches = q->batches;
    if (ret_msgs)
        *ret_msgs = q->msgs;
    pthread_mutex_unlock(&q->lock);
}
