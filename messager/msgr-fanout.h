/*
 * msgr-fanout.h: publishing to the extra nodes (spec/messager.md 4.5, enableMultiNode).
 *
 * Every batch the main node gets with MpoolBatchPushUntrusted also goes to every live node of
 * the nodes table (`node add` / SaveNode). Each node has a thread and a queue of its own
 * (MSGR_FANOUT_QUEUE_MAX batches, as upstream; a full queue drops the batch with a warning),
 * so a slow or dead node holds up neither the selection round nor the other nodes. Their
 * answers are logged and counted but change nothing: the main node's answer governs the
 * messages' state. The nodes table is read at every publish, so a node added, changed or
 * deleted is picked up without a restart.
 */
#ifndef MSGR_FANOUT_H
#define MSGR_FANOUT_H

#include <stdint.h>

#include <jansson.h>

#include "msgr-store.h"

#define MSGR_FANOUT_QUEUE_MAX 30
#define MSGR_FANOUT_TIMEOUT_MS 10000

typedef struct msgr_fanout msgr_fanout_t;

typedef struct msgr_fanout_stats {
    uint64_t pushed;  /* batches a node accepted (or answered with a nonce-too-low/duplicate) */
    uint64_t failed;  /* batches a node refused or could not be reached for */
    uint64_t dropped; /* batches not sent because the node's queue was full */
} msgr_fanout_stats_t;

/* store is borrowed (the nodes table) and must outlive the fan-out. */
int msgr_fanout_new(msgr_store_t *store, msgr_fanout_t **ret);
/* Stops every node's thread (batches still queued are dropped). Returns NULL. */
msgr_fanout_t *msgr_fanout_free(msgr_fanout_t *f);

/* Queues batch (a JSON array of SignedMessage; a reference is taken) for every live node and
 * returns at once. */
void msgr_fanout_publish(msgr_fanout_t *f, json_t *batch);

void msgr_fanout_stats(msgr_fanout_t *f, msgr_fanout_stats_t *ret);

#endif
