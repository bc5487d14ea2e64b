/*
 * msgr-pushq.h: group commit of PushMessage writes.
 *
 * Every push used to pay a transaction of its own, and sqlite runs one writer at a time, so
 * concurrent pushes queued behind each other's commits. Here a push joins a queue and waits; a
 * writer thread takes everything queued (up to MSGR_PUSHQ_BATCH_MAX), writes it in one
 * transaction with msgr_store_msg_push_each (each message still succeeds or fails alone) and
 * then hands every waiting caller its own result. A caller returns only once its message is
 * committed (or failed): nothing is acknowledged before it is in the database. While a batch is
 * being written the next one gathers, so batches grow with the load, and a lone push waits for
 * nothing but its own commit. msgr_pushq_submit queues without waiting: the writer then calls
 * back (e.g. to answer a held JSON-RPC call), so no thread waits for the commit at all.
 */
#ifndef MSGR_PUSHQ_H
#define MSGR_PUSHQ_H

#include <stdint.h>

#include "msgr-store.h"

#define MSGR_PUSHQ_BATCH_MAX 512

typedef struct msgr_pushq msgr_pushq_t;

/* Starts the writer thread. store is borrowed and must outlive the queue. */
int msgr_pushq_new(msgr_store_t *store, msgr_pushq_t **ret);
/* Refuses new pushes from now on (-ESHUTDOWN: nothing written), writes what is queued, answers
 * it, and stops the writer. Idempotent. A daemon calls it before it stops serving, so that every
 * push it took is answered with its real outcome. */
void msgr_pushq_stop(msgr_pushq_t *q);
/* msgr_pushq_stop, then frees q. Returns NULL. */
msgr_pushq_t *msgr_pushq_free(msgr_pushq_t *q);

/* Writes m as msgr_store_msg_push(store, m, 1) would, in a batch with the other pushes waiting
 * at the same time. Blocks until that batch is committed. Returns 0 or m's own error, with
 * its text in ret->errmsg (-ESHUTDOWN once stopped). m is borrowed for the call. */
int msgr_pushq_push(msgr_pushq_t *q, const msgr_message_t *m, msgr_push_result_t *ret);

/* Runs on the writer thread once m is committed (r 0) or failed (r < 0, errmsg says why). */
typedef void (*msgr_pushq_done_fn)(void *userdata, const msgr_message_t *m, int r, const char *errmsg);

/* Queues m (its contents are taken: m is left empty, also on failure) and returns at once;
 * done(userdata, ...) runs on the writer thread after m's batch. -ESHUTDOWN once the queue is
 * stopped, -ENOMEM: done is then not called. */
int msgr_pushq_submit(msgr_pushq_t *q, msgr_message_t *m, msgr_pushq_done_fn done, void *userdata);

/* Batches written and messages written in them so far (tests, metrics). */
void msgr_pushq_stats(msgr_pushq_t *q, uint64_t *ret_batches, uint64_t *ret_msgs);

#endif
