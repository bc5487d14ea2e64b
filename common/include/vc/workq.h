/*
 * workq.h: an elastic pool of worker threads running queued jobs.
 *
 * Between min and max workers: a worker is started whenever queued jobs outnumber idle
 * workers, and workers above min exit after 30 s without work. Jobs may block (waiting for an
 * answer that another job produces) without starving the queue, up to max workers.
 * Threads are joinable and joined by the pool, so freeing the pool leaves nothing running.
 */
#ifndef VC_WORKQ_H
#define VC_WORKQ_H

#include <stdbool.h>

typedef struct vc_workq vc_workq_t;

int vc_workq_new(unsigned min_workers, unsigned max_workers, vc_workq_t **ret);
/* Queues fn(arg). -ECANCELED once the pool is being freed. */
int vc_workq_submit(vc_workq_t *q, void (*fn)(void *arg), void *arg);
/* Stops taking jobs (vc_workq_submit: -ECANCELED from now on), runs every job still queued,
 * waits for running jobs and joins all workers; q stays valid for submits that fail until
 * vc_workq_free. Idempotent. Must not be called from one of q's workers. */
void vc_workq_drain(vc_workq_t *q);
/* vc_workq_drain, then frees q. */
vc_workq_t *vc_workq_free(vc_workq_t *q);
/* True when the calling thread is a worker of q. */
bool vc_workq_in_worker(const vc_workq_t *q);
/* Workers now alive (for tests and metrics). */
unsigned vc_workq_workers(vc_workq_t *q);

#endif
