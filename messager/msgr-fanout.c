/* msgr-fanout.c: publishing to the extra nodes (contract in msgr-fanout.h). */
#include "msgr-fanout.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "msgr-select.h"
#include "vc/client.h"
#include "vc/log.h"
#include "vc/util.h"

/* One extra node: its client, its queue and the thread draining it. */
typedef struct node_pub {
    msgr_fanout_t *owner;
    char id[37];
    char *name, *url, *token;
    vc_client_t *client;
    pthread_t thread;
    pthread_cond_t cond;
    json_t *queue; /* batches to send (under owner->lock) */
    bool stopping; /* (under owner->lock) */
    bool exited;   /* the thread is done: joining it does not wait (under owner->lock) */
    bool listed;   /* still in the nodes table at the last refresh (under owner->lock) */
    struct node_pub *next;
} node_pub_t;

struct msgr_fanout {
    msgr_store_t *store;
    pthread_mutex_t lock;
    node_pub_t *nodes;   /* (under lock) */
    node_pub_t *retired; /* deleted or changed nodes whose thread may still be busy (under lock) */
    atomic_ullong pushed, failed, dropped;
};

static void *node_main(void *arg)
{
    node_pub_t *n = arg;
    msgr_fanout_t *f = n->owner;
    pthread_mutex_lock(&f->lock);
    while (true) {
        while (!n->stopping && json_array_size(n->queue) == 0)
            pthread_cond_wait(&n->cond, &f->lock);
        if (n->stopping)
            break;
        json_t *batch = json_incref(json_array_get(n->queue, 0));
        json_array_remove(n->queue, 0);
        pthread_mutex_unlock(&f->lock);

        vc_rpc_err_t e = {0};
        int r =
            vc_client_call(n->client, "Filecoin.MpoolBatchPushUntrusted", json_pack("[o]", batch), NULL, &e);
        const char *why = r == VC_EREMOTE ? e.message : vc_strerror(r);
        if (r == 0 || (r == VC_EREMOTE && msgr_push_error_ignorable(e.message))) {
            atomic_fetch_add(&f->pushed, 1);
            if (r < 0)
                vc_logkv(VC_LOG_DEBUG, "publisher", "extra node push answered, ignoring", "node", n->name,
                         "error", why, NULL);
        } else {
            atomic_fetch_add(&f->failed, 1);
            vc_logkv(VC_LOG_WARNING, "publisher", "push to an extra node failed, ignoring", "node", n->name,
                     "url", n->url, "error", why, NULL);
        }
        pthread_mutex_lock(&f->lock);
    }
    n->exited = true;
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static node_pub_t *node_free(node_pub_t *n)
{
    if (!n)
        return NULL;
    vc_client_free(n->client);
    pthread_cond_destroy(&n->cond);
    json_decref(n->queue);
    free(n->name);
    free(n->url);
    free(n->token);
    free(n);
    return NULL;
}

static node_pub_t *node_start(msgr_fanout_t *f, const msgr_node_t *row)
{
    node_pub_t *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->owner = f;
    snprintf(n->id, sizeof(n->id), "%s", row->id);
    n->name = strdup(row->name ? row->name : "");
    n->url = strdup(row->url ? row->url : "");
    n->token = strdup(row->token ? row->token : "");
    n->queue = json_array();
    pthread_cond_init(&n->cond, NULL);
    const char *eps[] = {n->url};
    vc_client_opts_t o = {.endpoints = eps,
                          .n_endpoints = 1,
                          .default_path = "/rpc/v1",
                          .token = n->token,
                          .api_namespace = "v1.FullNode",
                          .timeout_ms = MSGR_FANOUT_TIMEOUT_MS,
                          .retries = -1};
    if (!n->name || !n->url || !n->token || !n->queue || vc_client_new(&o, &n->client) < 0 ||
        pthread_create(&n->thread, NULL, node_main, n) != 0)
        return node_free(n);
    vc_logkv(VC_LOG_INFO, "publisher", "publishing to an extra node", "node", n->name, "url", n->url, NULL);
    return n;
}

/* Joins and frees a list of stopped nodes (unlinked from f, lock not held). */
static void nodes_join(node_pub_t *list)
{
    while (list) {
        node_pub_t *next = list->next;
        pthread_join(list->thread, NULL);
        node_free(list);
        list = next;
    }
}

/* Moves n (unlinked from f->nodes) to the retired list and tells its thread to stop, without
 * waiting for a push in progress (lock held). */
static void node_retire(msgr_fanout_t *f, node_pub_t *n)
{
    n->stopping = true;
    pthread_cond_signal(&n->cond);
    n->next = f->retired;
    f->retired = n;
}

/* Unlinks the retired nodes whose thread is done (lock held); the caller joins them. */
static node_pub_t *retired_done(msgr_fanout_t *f)
{
    node_pub_t *done = NULL;
    for (node_pub_t **pp = &f->retired; *pp;) {
        node_pub_t *n = *pp;
        if (!n->exited) {
            pp = &n->next;
            continue;
        }
        *pp = n->next;
        n->next = done;
        done = n;
    }
    return done;
}

static bool same_node(const node_pub_t *n, const msgr_node_t *row)
{
    return vc_streq(n->id, row->id) && vc_streq(n->url, row->url ? row->url : "") &&
           vc_streq(n->token, row->token ? row->token : "") && vc_streq(n->name, row->name ? row->name : "");
}

/* Brings the node set in line with the nodes table (read at every publish: a publish is rare
 * next to a read of a few rows, and a node added on another instance sharing the database is
 * picked up as well). */
static void refresh(msgr_fanout_t *f)
{
    msgr_node_t *rows = NULL;
    size_t n_rows = 0;
    if (msgr_store_node_list(f->store, &rows, &n_rows) < 0) {
        vc_logkv(VC_LOG_WARNING, "publisher", "cannot list the extra nodes, ignoring", "error",
                 msgr_store_errmsg(), NULL);
        return;
    }
    pthread_mutex_lock(&f->lock);
    for (node_pub_t *n = f->nodes; n; n = n->next)
        n->listed = false;
    for (size_t i = 0; i < n_rows; i++) {
        node_pub_t *n = f->nodes;
        while (n && !same_node(n, &rows[i]))
            n = n->next;
        if (!n && (n = node_start(f, &rows[i]))) {
            n->next = f->nodes;
            f->nodes = n;
        }
        if (n)
            n->listed = true;
    }
    for (node_pub_t **pp = &f->nodes; *pp;) {
        node_pub_t *n = *pp;
        if (n->listed) {
            pp = &n->next;
            continue;
        }
        *pp = n->next;
        node_retire(f, n);
    }
    node_pub_t *done = retired_done(f);
    pthread_mutex_unlock(&f->lock);
    msgr_nodes_free(rows, n_rows);
    nodes_join(done);
}

int msgr_fanout_new(msgr_store_t *store, msgr_fanout_t **ret)
{
    msgr_fanout_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->store = store;
    pthread_mutex_init(&f->lock, NULL);
    *ret = f;
    return 0;
}

msgr_fanout_t *msgr_fanout_free(msgr_fanout_t *f)
{
    if (!f)
        return NULL;
    pthread_mutex_lock(&f->lock);
    while (f->nodes) {
        node_pub_t *n = f->nodes;
        f->nodes = n->next;
        node_retire(f, n);
    }
    node_pub_t *all = f->retired;
    f->retired = NULL;
    pthread_mutex_unlock(&f->lock);
    nodes_join(all);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return NULL;
}

void msgr_fanout_publish(msgr_fanout_t *f, json_t *batch)
{
    refresh(f);
    pthread_mutex_lock(&f->lock);
    for (node_pub_t *n = f->nodes; n; n = n->next) {
        if (json_array_size(n->queue) >= MSGR_FANOUT_QUEUE_MAX) {
            atomic_fetch_add(&f->dropped, 1);
            vc_logkv(VC_LOG_WARNING, "publisher", "extra node queue full, batch dropped", "node", n->name,
                     NULL);
            continue;
        }
        json_array_append(n->queue, batch);
        pthread_cond_signal(&n->cond);
    }
    pthread_mutex_unlock(&f->lock);
}

void msgr_fanout_stats(msgr_fanout_t *f, msgr_fanout_stats_t *ret)
{
    ret->pushed = atomic_load(&f->pushed);
    ret->failed = atomic_load(&f->failed);
    ret->dropped = atomic_load(&f->dropped);
}
