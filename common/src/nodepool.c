/* nodepool.c: chain-node pool: heartbeats and health, per-method scheduling, retries by error
 * class, seed binding, one head subscription kept on a healthy node, hot settings. */
#include "vc/nodepool.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include "vc/address.h"
#include "vc/client.h"
#include "vc/log.h"
#include "vc/netaddr.h"
#include "vc/util.h"
#include "vc/workq.h"

#define CONNECT_TIMEOUT_MS 3000
#define SEED_LEN_MAX 1024 /* longer seeds are not bound (round robin) */
#define SEED_BUCKETS 8192
#define SCAN_MAX_NODES 4096 /* JSON values looked at when classifying a call's params */
#define SUB_RETRY_MS 500    /* no node to subscribe on: look again after */
#define WAKE_MAX_MS 1000
#define REASON_MAX 192

/* ------------------------------------------------------------------ policies and options */

static const char *const policy_names[VC_NODEPOOL_POLICY_MAX] = {
    [VC_NODEPOOL_ONE_BY_INDEX_ASC] = "OneByIndexAsc",
    [VC_NODEPOOL_ONE_BY_INDEX_DESC] = "OneByIndexDesc",
    [VC_NODEPOOL_ONE_BY_ID_ROUND] = "OneByIdRound",
    [VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC] = "OneByChainHeadDesc",
    [VC_NODEPOOL_ONE_BY_MESSAGE_PEERS_DESC] = "OneByMessagePeersDesc",
    [VC_NODEPOOL_ONE_BY_BLOCK_PEERS_DESC] = "OneByBlockPeersDesc",
    [VC_NODEPOOL_ONE_BY_SEED_ROUND] = "OneBySeedRound",
    [VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED] = "AllWithFirstSucceed",
};

const char *vc_nodepool_policy_to_string(vc_nodepool_policy_t p)
{
    return (unsigned)p < VC_NODEPOOL_POLICY_MAX ? policy_names[p] : NULL;
}

int vc_nodepool_policy_from_string(const char *s, vc_nodepool_policy_t *ret)
{
    for (unsigned i = 0; s && i < VC_NODEPOOL_POLICY_MAX; i++)
        if (strcasecmp(s, policy_names[i]) == 0) {
            *ret = (vc_nodepool_policy_t)i;
            return 0;
        }
    return -EINVAL;
}

void vc_nodepool_opts_init(vc_nodepool_opts_t *ret)
{
    *ret = (vc_nodepool_opts_t){
        .heartbeat_ms = 5000,
        .heartbeat_timeout_ms = 3000,
        .max_sync_behind = 2,
        .max_call_errors = 3,
        .call_timeout_ms = 30000,
        .max_seeds = 65536,
        .default_method = {.policy = VC_NODEPOOL_ONE_BY_SEED_ROUND},
    };
}

static bool method_valid(const vc_nodepool_method_t *m)
{
    return (unsigned)m->policy < VC_NODEPOOL_POLICY_MAX && m->timeout_ms >= 0 && m->timeout_ms <= 3600000;
}

/* The numeric options: their settings-JSON key, where they live, kind and range. */
typedef struct opt_field {
    const char *key;
    size_t offset;
    bool duration; /* a duration string in JSON, else an integer */
    int min, max;
} opt_field_t;

static const opt_field_t opt_fields[] = {
    {"HeartbeatInterval", offsetof(vc_nodepool_opts_t, heartbeat_ms), true, 100, 3600000},
    {"HeartbeatTimeout", offsetof(vc_nodepool_opts_t, heartbeat_timeout_ms), true, 100, 600000},
    {"MaxSyncBehind", offsetof(vc_nodepool_opts_t, max_sync_behind), false, 0, 1000000},
    {"MinBlockPeers", offsetof(vc_nodepool_opts_t, min_block_peers), false, 0, 100000},
    {"MinMessagePeers", offsetof(vc_nodepool_opts_t, min_message_peers), false, 0, 100000},
    {"MaxCallErrors", offsetof(vc_nodepool_opts_t, max_call_errors), false, 1, 1000},
    {"CallTimeout", offsetof(vc_nodepool_opts_t, call_timeout_ms), true, 100, 3600000},
    {"MaxSeeds", offsetof(vc_nodepool_opts_t, max_seeds), false, 1, 1 << 24},
};

static int *opt_value(vc_nodepool_opts_t *o, const opt_field_t *f)
{
    return (int *)((char *)o + f->offset);
}

/* NULL when valid, else the settings-JSON key of the first bad field. */
static const char *opts_invalid(const vc_nodepool_opts_t *o)
{
    for (size_t i = 0; i < VC_ELEMENTSOF(opt_fields); i++) {
        int v = *opt_value((vc_nodepool_opts_t *)o, &opt_fields[i]);
        if (v < opt_fields[i].min || v > opt_fields[i].max)
            return opt_fields[i].key;
    }
    return method_valid(&o->default_method) ? NULL : "DefaultMethod";
}

/* Methods whose defaults differ from opts.default_method (0 timeout = the pool's). */
static const struct {
    const char *name;
    vc_nodepool_method_t m;
} builtin_methods[] = {
    {"Filecoin.ChainHead", {VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC, 0, false}},
    {"Filecoin.MinerGetBaseInfo", {VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC, 0, false}},
    {"Filecoin.MinerCreateBlock", {VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC, 0, false}},
    {"Filecoin.MpoolSelects", {VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC, 0, false}},
    {"Filecoin.SyncSubmitBlock", {VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED, 0, false}},
    {"Filecoin.StateWaitMsg", {VC_NODEPOOL_ONE_BY_SEED_ROUND, 600000, false}},
};

/* Methods that take an epoch: a "block not found" answer to them is worth another node. */
static const char *const epoch_methods[] = {
    "Filecoin.ChainGetTipSetByHeight",
    "Filecoin.ChainGetTipSetAfterHeight",
    "Filecoin.StateGetRandomnessFromTickets",
    "Filecoin.StateGetRandomnessFromBeacon",
    "Filecoin.StateGetRandomnessDigestFromTickets",
    "Filecoin.StateGetRandomnessDigestFromBeacon",
    "Filecoin.MinerGetBaseInfo",
    "Filecoin.StateGetBeaconEntry",
    "Filecoin.BeaconGetEntry",
};

/* ------------------------------------------------------------------ names and FULLNODE_API_POOL_INFO */

static bool name_valid(const char *s, size_t len)
{
    bool digits_only = true;
    if (len == 0 || len > VC_NODEPOOL_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool digit = c >= '0' && c <= '9';
        if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '.' && c != '_' && c != '-')
            return false;
        digits_only = digits_only && digit;
    }
    return !digits_only;
}

static bool url_valid(const char *url)
{
    char *u = NULL;
    int r = vc_netaddr_to_url(url, "http", VC_NODEPOOL_DEFAULT_PATH, &u);
    free(u);
    return r == 0;
}

static int set_errmsg(char **reterr_msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_errmsg(char **reterr_msg, const char *fmt, ...)
{
    if (reterr_msg) {
        va_list ap;
        char buf[512];
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        free(*reterr_msg);
        *reterr_msg = strdup(buf);
    }
    return -EINVAL;
}

void vc_nodepool_node_confs_free(vc_nodepool_node_conf_t *nodes, size_t n)
{
    for (size_t i = 0; nodes && i < n; i++) {
        free(nodes[i].name);
        free(nodes[i].url);
        free(nodes[i].token);
    }
    free(nodes);
}

static bool conf_name_taken(const vc_nodepool_node_conf_t *nodes, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (vc_streq(nodes[i].name, name))
            return true;
    return false;
}

/* One "token:address[:name]" entry (trimmed, NUL-terminated) into *c; idx is 1-based. */
static int parse_entry(char *e, size_t idx, vc_nodepool_node_conf_t *c, char **reterr_msg)
{
    char *colon = strchr(e, ':');
    if (!colon)
        return set_errmsg(reterr_msg, "entry %zu: expected token:address[:name]", idx);
    *colon = 0;
    char *addr = colon + 1, *name = NULL;
    char *last = strrchr(addr, ':');
    if (last && last != addr && name_valid(last + 1, strlen(last + 1))) {
        *last = 0;
        name = last + 1;
    }
    if (!*addr)
        return set_errmsg(reterr_msg, "entry %zu: missing address", idx);
    if (!url_valid(addr))
        return set_errmsg(reterr_msg, "entry %zu: bad address '%.200s'", idx, addr);
    char defname[32];
    if (!name) {
        snprintf(defname, sizeof(defname), "node%zu", idx);
        name = defname;
    }
    c->name = strdup(name);
    c->url = strdup(addr);
    c->token = strdup(e);
    return c->name && c->url && c->token ? 0 : -ENOMEM;
}

int vc_nodepool_parse_info(const char *s, vc_nodepool_node_conf_t **ret_nodes, size_t *ret_n,
                           char **reterr_msg)
{
    _cleanup_free_ char *copy = s ? strdup(s) : NULL;
    vc_nodepool_node_conf_t *nodes = NULL;
    size_t n = 0;
    int r = 0;
    if (vc_strempty(s))
        return set_errmsg(reterr_msg, "empty node list");
    if (!copy)
        return -ENOMEM;
    size_t idx = 0;
    /* strtok_r would skip empty entries; walk the commas by hand so "a,,b" is an error */
    for (char *e = copy, *next; e; e = next) {
        idx++;
        next = strchr(e, ',');
        if (next)
            *next++ = 0;
        while (*e == ' ' || *e == '\t' || *e == '\n')
            e++;
        size_t len = strlen(e);
        while (len && (e[len - 1] == ' ' || e[len - 1] == '\t' || e[len - 1] == '\n'))
            e[--len] = 0;
        if (!len) {
            r = set_errmsg(reterr_msg, "entry %zu: empty", idx);
            goto fail;
        }
        if (n == VC_NODEPOOL_MAX_NODES) {
            r = set_errmsg(reterr_msg, "more than %d nodes", VC_NODEPOOL_MAX_NODES);
            goto fail;
        }
        vc_nodepool_node_conf_t *grown = realloc(nodes, (n + 1) * sizeof(*nodes));
        if (!grown) {
            r = -ENOMEM;
            goto fail;
        }
        nodes = grown;
        nodes[n] = (vc_nodepool_node_conf_t){0};
        r = parse_entry(e, idx, &nodes[n], reterr_msg);
        n++;
        if (r < 0)
            goto fail;
        if (conf_name_taken(nodes, n - 1, nodes[n - 1].name)) {
            r = set_errmsg(reterr_msg, "entry %zu: duplicate name '%s'", idx, nodes[n - 1].name);
            goto fail;
        }
    }
    *ret_nodes = nodes;
    *ret_n = n;
    return 0;
fail:
    vc_nodepool_node_confs_free(nodes, n);
    return r;
}

/* ------------------------------------------------------------------ nodes */

typedef struct node {
    _Atomic int refs;
    uint64_t id;
    char name[VC_NODEPOOL_NAME_MAX + 1];
    char *url, *token;
    vc_client_t *client;
    /* the rest is under the pool lock */
    bool removed, probing, probed, hb_ok, enabled;
    char reason[REASON_MAX];
    char hb_error[160];
    int64_t height, sync_target;
    int peers, block_peers, msg_peers; /* -1 = unknown */
    int64_t last_hb_ms;                /* wall clock, 0 = never */
    int64_t next_probe_us;             /* monotonic */
    int64_t sub_block_until_us;        /* no head subscription here before (monotonic) */
    uint64_t calls, errors;
    int consec_errors;
} node_t;

static node_t *node_ref(node_t *n)
{
    n->refs++;
    return n;
}

static void node_unref(node_t *n)
{
    if (!n || --n->refs > 0)
        return;
    vc_client_free(n->client);
    free(n->url);
    free(n->token);
    free(n);
}

static int node_new(const vc_nodepool_node_conf_t *c, uint64_t id, node_t **ret)
{
    if (!c || !c->name || !name_valid(c->name, strlen(c->name)) || vc_strempty(c->url) || !url_valid(c->url))
        return -EINVAL;
    node_t *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->refs = 1;
    n->id = id;
    snprintf(n->name, sizeof(n->name), "%s", c->name);
    n->url = strdup(c->url);
    n->token = c->token ? strdup(c->token) : NULL;
    n->peers = n->block_peers = n->msg_peers = -1;
    snprintf(n->reason, sizeof(n->reason), "waiting for the first heartbeat");
    const char *eps[] = {c->url};
    vc_client_opts_t o = {.endpoints = eps,
                          .n_endpoints = 1,
                          .default_path = VC_NODEPOOL_DEFAULT_PATH,
                          .token = c->token,
                          .connect_timeout_ms = CONNECT_TIMEOUT_MS,
                          .retries = -1};
    int r = n->url && (!c->token || n->token) ? vc_client_new(&o, &n->client) : -ENOMEM;
    if (r < 0) {
        node_unref(n);
        return r;
    }
    *ret = n;
    return 0;
}

/* ------------------------------------------------------------------ seed bindings (LRU) */

typedef struct seed {
    struct seed *hnext;       /* bucket chain */
    struct seed *prev, *next; /* LRU list, most recent first */
    uint64_t node_id;
    char key[];
} seed_t;

typedef struct seedmap {
    seed_t *buckets[SEED_BUCKETS];
    seed_t *head, *tail;
    size_t count;
} seedmap_t;

static size_t seed_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h % SEED_BUCKETS);
}

static void lru_unlink(seedmap_t *m, seed_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        m->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        m->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(seedmap_t *m, seed_t *e)
{
    e->next = m->head;
    e->prev = NULL;
    if (m->head)
        m->head->prev = e;
    m->head = e;
    if (!m->tail)
        m->tail = e;
}

static seed_t *seed_find(seedmap_t *m, const char *key)
{
    for (seed_t *e = m->buckets[seed_hash(key)]; e; e = e->hnext)
        if (strcmp(e->key, key) == 0) {
            lru_unlink(m, e);
            lru_push_front(m, e);
            return e;
        }
    return NULL;
}

static void seed_drop(seedmap_t *m, seed_t *e)
{
    for (seed_t **pp = &m->buckets[seed_hash(e->key)]; *pp; pp = &(*pp)->hnext)
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    lru_unlink(m, e);
    m->count--;
    free(e);
}

static void seed_bind(seedmap_t *m, const char *key, uint64_t node_id, size_t max)
{
    seed_t *e = seed_find(m, key);
    if (e) {
        e->node_id = node_id;
        return;
    }
    size_t len = strlen(key);
    e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return; /* the call goes on unbound */
    memcpy(e->key, key, len + 1);
    e->node_id = node_id;
    size_t b = seed_hash(key);
    e->hnext = m->buckets[b];
    m->buckets[b] = e;
    lru_push_front(m, e);
    m->count++;
    while (m->count > max)
        seed_drop(m, m->tail);
}

static void seeds_clear(seedmap_t *m)
{
    while (m->head)
        seed_drop(m, m->head);
}

/* ------------------------------------------------------------------ the pool */

typedef struct method_entry {
    char *name;
    vc_nodepool_method_t m;
} method_entry_t;

typedef struct sub_ctx {
    vc_nodepool_t *pool;
    uint64_t gen;
    vc_nodepool_head_fn fn;
    void *userdata;
    bool first;
    char node[VC_NODEPOOL_NAME_MAX + 1];
} sub_ctx_t;

/* A subscription taken out of the pool, closed without the lock. */
typedef struct sub_hold {
    node_t *node;
    vc_rpc_conn_t *conn;
    vc_rpc_sub_t *sub;
    sub_ctx_t *ctx;
} sub_hold_t;

struct vc_nodepool {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC: any change of node state, settings or subscription */
    vc_nodepool_opts_t opts;
    node_t *nodes[VC_NODEPOOL_MAX_NODES];
    size_t n_nodes;
    uint64_t next_id;
    int64_t best_height;
    method_entry_t *methods;
    size_t n_methods;
    seedmap_t seeds;
    uint64_t rr;
    vc_workq_t *wq;
    pthread_t manager;
    bool manager_started, stopping;

    /* head subscription (under lock, except as noted) */
    pthread_mutex_t deliver_lock; /* held while fn runs; taken before lock, never after it */
    _Atomic uint64_t sub_gen;     /* values of other generations are dropped */
    vc_nodepool_head_fn sub_fn;
    void *sub_userdata;
    bool sub_lost;
    sub_hold_t sub;
};

static void cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t deadline_us)
{
    struct timespec ts = {.tv_sec = deadline_us / 1000000, .tv_nsec = (deadline_us % 1000000) * 1000};
    pthread_cond_timedwait(cond, lock, &ts);
}

static ssize_t find_node(const vc_nodepool_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_nodes; i++)
        if (vc_streq(p->nodes[i]->name, name))
            return (ssize_t)i;
    return -1;
}

static node_t *find_node_id(const vc_nodepool_t *p, uint64_t id)
{
    for (size_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i]->id == id)
            return p->nodes[i];
    return NULL;
}

/* Recomputes the best head and every node's enabled state. Lock held. */
static void evaluate(vc_nodepool_t *p)
{
    const vc_nodepool_opts_t *o = &p->opts;
    int64_t best = -1;
    for (size_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i]->hb_ok && p->nodes[i]->height > best)
            best = p->nodes[i]->height;
    p->best_height = best;
    for (size_t i = 0; i < p->n_nodes; i++) {
        node_t *n = p->nodes[i];
        char reason[REASON_MAX] = "";
        if (!n->probed)
            snprintf(reason, sizeof(reason), "waiting for the first heartbeat");
        else if (!n->hb_ok)
            snprintf(reason, sizeof(reason), "heartbeat failed: %s", n->hb_error);
        else if (best - n->height > o->max_sync_behind)
            snprintf(reason, sizeof(reason), "head %" PRId64 " is %" PRId64 " behind the best %" PRId64,
                     n->height, best - n->height, best);
        else if (n->sync_target - n->height > o->max_sync_behind)
            snprintf(reason, sizeof(reason), "syncing: head %" PRId64 ", target %" PRId64, n->height,
                     n->sync_target);
        else if (o->min_block_peers > 0 && n->block_peers < o->min_block_peers)
            snprintf(reason, sizeof(reason), "block peers %d < %d", n->block_peers, o->min_block_peers);
        else if (o->min_message_peers > 0 && n->msg_peers < o->min_message_peers)
            snprintf(reason, sizeof(reason), "message peers %d < %d", n->msg_peers, o->min_message_peers);
        else if (n->consec_errors >= o->max_call_errors)
            snprintf(reason, sizeof(reason), "%d consecutive call failures", n->consec_errors);
        bool en = !reason[0];
        if (en != n->enabled)
            vc_debug("nodepool: node '%s' %s%s%s", n->name, en ? "enabled" : "disabled", en ? "" : ": ",
                     reason);
        n->enabled = en;
        memcpy(n->reason, reason, sizeof(reason));
    }
    pthread_cond_broadcast(&p->cond);
}

/* ------------------------------------------------------------------ heartbeat */

typedef struct hb {
    int64_t height, sync_target;
    int peers, block_peers, msg_peers;
} hb_t;

static bool is_transport(int r)
{
    return r == VC_ETRANSPORT || r == VC_EHTTP || r == -EIO;
}

static int hb_fail(char *err, size_t errlen, const char *what, int r, const vc_rpc_err_t *e)
{
    if (r == VC_EREMOTE || r == VC_EHTTP)
        snprintf(err, errlen, "%s: %.120s", what, e->message);
    else
        snprintf(err, errlen, "%s: %s", what, vc_strerror(r));
    return r < 0 ? r : -EBADMSG;
}

/* Counts peers present in the /fil/blocks/ and /fil/msgs/ topics of a NetPubsubScores answer. */
static void count_topic_peers(const json_t *scores, int *ret_blocks, int *ret_msgs)
{
    size_t i;
    json_t *s;
    int blocks = 0, msgs = 0;
    json_array_foreach(scores, i, s) {
        json_t *topics = json_object_get(json_object_get(s, "Score"), "Topics");
        const char *key;
        json_t *v;
        bool b = false, m = false;
        json_object_foreach(topics, key, v) {
            b = b || strstr(key, "/fil/blocks/") != NULL;
            m = m || strstr(key, "/fil/msgs/") != NULL;
        }
        blocks += b;
        msgs += m;
    }
    *ret_blocks = blocks;
    *ret_msgs = msgs;
}

/* ChainHead is required; SyncState and NetPeers answers with an error are tolerated (targets and
 * peers unknown), their transport failures are not. */
static int heartbeat(node_t *n, int timeout_ms, bool topics, hb_t *hb, char *err, size_t errlen)
{
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    int r = vc_client_call_timeout(n->client, "Filecoin.ChainHead", NULL, timeout_ms, &res, &e);
    if (r < 0)
        return hb_fail(err, errlen, "ChainHead", r, &e);
    json_t *h = json_object_get(res, "Height");
    if (!json_is_integer(h)) {
        json_decref(res);
        snprintf(err, errlen, "ChainHead: answer without a Height");
        return -EBADMSG;
    }
    hb->height = hb->sync_target = json_integer_value(h);
    json_decref(res);

    r = vc_client_call_timeout(n->client, "Filecoin.SyncState", NULL, timeout_ms, &res, &e);
    if (r < 0 && is_transport(r))
        return hb_fail(err, errlen, "SyncState", r, &e);
    if (r == 0) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(res, "ActiveSyncs"), i, s) {
            json_t *th = json_object_get(json_object_get(s, "Target"), "Height");
            if (json_is_integer(th) && json_integer_value(th) > hb->sync_target)
                hb->sync_target = json_integer_value(th);
        }
        json_decref(res);
    }

    hb->peers = hb->block_peers = hb->msg_peers = -1;
    r = vc_client_call_timeout(n->client, "Filecoin.NetPeers", NULL, timeout_ms, &res, &e);
    if (r < 0 && is_transport(r))
        return hb_fail(err, errlen, "NetPeers", r, &e);
    if (r == 0) {
        if (json_is_array(res))
            hb->peers = hb->block_peers = hb->msg_peers = (int)VC_MIN(json_array_size(res), 1000000);
        json_decref(res);
    }
    if (!topics)
        return 0;
    r = vc_client_call_timeout(n->client, "Filecoin.NetPubsubScores", NULL, timeout_ms, &res, &e);
    if (r < 0 && is_transport(r))
        return hb_fail(err, errlen, "NetPubsubScores", r, &e);
    if (r == 0) {
        if (json_is_array(res))
            count_topic_peers(res, &hb->block_peers, &hb->msg_peers);
        json_decref(res);
    }
    return 0;
}

typedef struct probe {
    vc_nodepool_t *pool;
    node_t *node;
} probe_t;

static void probe_job(void *arg)
{
    probe_t *pr = arg;
    vc_nodepool_t *p = pr->pool;
    node_t *n = pr->node;
    hb_t hb = {0};
    char err[160] = "";
    pthread_mutex_lock(&p->lock);
    bool stopping = p->stopping || n->removed;
    int timeout = p->opts.heartbeat_timeout_ms;
    bool topics = p->opts.min_block_peers > 0 || p->opts.min_message_peers > 0;
    pthread_mutex_unlock(&p->lock);
    int r = stopping ? -ECANCELED : heartbeat(n, timeout, topics, &hb, err, sizeof(err));
    pthread_mutex_lock(&p->lock);
    n->probing = false;
    if (!n->removed && !stopping) {
        n->probed = true;
        n->last_hb_ms = vc_now_real_us() / 1000;
        n->next_probe_us = vc_now_mono_us() + (int64_t)p->opts.heartbeat_ms * 1000;
        n->hb_ok = r == 0;
        if (r == 0) {
            n->height = hb.height;
            n->sync_target = hb.sync_target;
            n->peers = hb.peers;
            n->block_peers = hb.block_peers;
            n->msg_peers = hb.msg_peers;
            n->consec_errors = 0;
            n->hb_error[0] = 0;
        } else
            snprintf(n->hb_error, sizeof(n->hb_error), "%s", err);
        evaluate(p);
    }
    pthread_mutex_unlock(&p->lock);
    node_unref(n);
    free(pr);
}

/* ------------------------------------------------------------------ head subscription */

static void sub_on_value(json_t *value, void *userdata)
{
    sub_ctx_t *c = userdata;
    vc_nodepool_t *p = c->pool;
    pthread_mutex_lock(&p->deliver_lock);
    if (c->gen == p->sub_gen) {
        bool fresh = c->first;
        c->first = false;
        c->fn(value, c->node, fresh, c->userdata);
    }
    pthread_mutex_unlock(&p->deliver_lock);
}

static void sub_on_close(void *userdata)
{
    sub_ctx_t *c = userdata;
    vc_nodepool_t *p = c->pool;
    pthread_mutex_lock(&p->lock);
    if (c->gen == p->sub_gen) {
        p->sub_lost = true;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Takes the current subscription out of the pool and ends its generation. Lock held. */
static sub_hold_t sub_detach(vc_nodepool_t *p)
{
    sub_hold_t h = p->sub;
    p->sub = (sub_hold_t){0};
    p->sub_lost = false;
    p->sub_gen++;
    return h;
}

/* Without the lock: no callback of h runs once this returns. */
static void sub_close(sub_hold_t *h)
{
    vc_rpc_sub_free(h->sub);
    if (h->conn) {
        vc_rpc_conn_close(h->conn);
        vc_rpc_conn_unref(h->conn);
    }
    free(h->ctx);
    node_unref(h->node);
    *h = (sub_hold_t){0};
}

/* Keeps the subscription on an enabled node. Lock held (dropped around network work).
 * Returns when the manager should look again (monotonic us), 0 = on the next change. */
static int64_t sub_step(vc_nodepool_t *p)
{
    int64_t now = vc_now_mono_us();
    node_t *cur = p->sub.node;
    if (cur && (!p->sub_fn || p->sub_lost || !cur->enabled || cur->removed || p->stopping)) {
        if (p->sub_lost && !cur->removed) { /* probe it now, and do not come straight back */
            cur->next_probe_us = now;
            cur->sub_block_until_us = now + (int64_t)p->opts.heartbeat_ms * 2000;
        }
        vc_debug("nodepool: head subscription on '%s' closed", cur->name);
        sub_hold_t h = sub_detach(p);
        pthread_mutex_unlock(&p->lock);
        sub_close(&h);
        pthread_mutex_lock(&p->lock);
        return now;
    }
    if (!p->sub_fn || cur || p->stopping)
        return 0;
    node_t *best = NULL;
    int64_t retry = 0;
    for (size_t i = 0; i < p->n_nodes; i++) {
        node_t *n = p->nodes[i];
        if (!n->enabled)
            continue;
        if (n->sub_block_until_us > now) {
            if (!retry || n->sub_block_until_us < retry)
                retry = n->sub_block_until_us;
            continue;
        }
        if (!best || n->height > best->height)
            best = n;
    }
    if (!best)
        return retry ? retry : now + SUB_RETRY_MS * 1000;

    sub_ctx_t *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return now + SUB_RETRY_MS * 1000;
    *ctx = (sub_ctx_t){
        .pool = p, .gen = ++p->sub_gen, .fn = p->sub_fn, .userdata = p->sub_userdata, .first = true};
    snprintf(ctx->node, sizeof(ctx->node), "%s", best->name);
    sub_hold_t h = {.node = node_ref(best), .ctx = ctx};
    int timeout = p->opts.heartbeat_timeout_ms;
    pthread_mutex_unlock(&p->lock);

    vc_rpc_err_t e = {0};
    int r = vc_client_ws_connect(best->client, NULL, &h.conn);
    if (r == 0)
        r = vc_rpc_conn_subscribe(h.conn, "Filecoin.ChainNotify", NULL, timeout, sub_on_value, sub_on_close,
                                  ctx, &h.sub, &e);
    pthread_mutex_lock(&p->lock);
    now = vc_now_mono_us();
    if (r < 0) {
        vc_debug("nodepool: ChainNotify on '%s' failed: %s", best->name,
                 r == VC_EREMOTE ? e.message : vc_strerror(r));
        best->sub_block_until_us = now + (int64_t)p->opts.heartbeat_ms * 1000;
    } else if (ctx->gen == p->sub_gen && p->sub_fn && best->enabled && !best->removed && !p->stopping) {
        vc_debug("nodepool: head subscription on '%s'", best->name);
        p->sub = h; /* sub_lost may already be set by an early close: the next step handles it */
        return 0;
    }
    pthread_mutex_unlock(&p->lock);
    sub_close(&h);
    pthread_mutex_lock(&p->lock);
    return now;
}

int vc_nodepool_subscribe_heads(vc_nodepool_t *p, vc_nodepool_head_fn fn, void *userdata)
{
    if (!fn)
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    int r = p->sub_fn ? -EBUSY : 0;
    if (r == 0) {
        p->sub_fn = fn;
        p->sub_userdata = userdata;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

void vc_nodepool_unsubscribe_heads(vc_nodepool_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->sub_fn = NULL;
    p->sub_userdata = NULL;
    sub_hold_t h = sub_detach(p); /* also ends a subscription the manager is still opening */
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    /* a value being delivered right now finishes; later ones see another generation */
    pthread_mutex_lock(&p->deliver_lock);
    pthread_mutex_unlock(&p->deliver_lock);
    sub_close(&h);
}

/* ------------------------------------------------------------------ manager thread */

static void *manager_main(void *arg)
{
    vc_nodepool_t *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        int64_t now = vc_now_mono_us(), wake = now + WAKE_MAX_MS * 1000;
        for (size_t i = 0; i < p->n_nodes; i++) {
            node_t *n = p->nodes[i];
            if (n->probing)
                continue;
            if (n->next_probe_us > now) {
                wake = VC_MIN(wake, n->next_probe_us);
                continue;
            }
            probe_t *pr = malloc(sizeof(*pr));
            if (pr) {
                *pr = (probe_t){.pool = p, .node = node_ref(n)};
                n->probing = true;
                if (vc_workq_submit(p->wq, probe_job, pr) == 0)
                    continue;
                n->probing = false;
                node_unref(n);
                free(pr);
            }
            n->next_probe_us = now + 100000; /* out of memory: try again soon */
        }
        int64_t sub_wake = sub_step(p);
        if (sub_wake)
            wake = VC_MIN(wake, sub_wake);
        if (!p->stopping && wake > vc_now_mono_us())
            cond_wait_until(&p->cond, &p->lock, wake);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int vc_nodepool_new(const vc_nodepool_opts_t *opts, vc_nodepool_t **ret)
{
    vc_nodepool_opts_t o;
    if (opts)
        o = *opts;
    else
        vc_nodepool_opts_init(&o);
    if (opts_invalid(&o))
        return -EINVAL;
    vc_nodepool_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->opts = o;
    p->best_height = -1;
    p->next_id = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->deliver_lock, NULL);
    int r = vc_workq_new(2, 256, &p->wq);
    if (r == 0) {
        r = -pthread_create(&p->manager, NULL, manager_main, p);
        p->manager_started = r == 0;
    }
    if (r < 0) {
        vc_nodepool_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

vc_nodepool_t *vc_nodepool_free(vc_nodepool_t *p)
{
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (p->manager_started)
        pthread_join(p->manager, NULL);
    vc_nodepool_unsubscribe_heads(p);
    vc_workq_free(p->wq); /* probes and fan-out calls still running */
    for (size_t i = 0; i < p->n_nodes; i++) {
        p->nodes[i]->removed = true;
        node_unref(p->nodes[i]);
    }
    for (size_t i = 0; i < p->n_methods; i++)
        free(p->methods[i].name);
    free(p->methods);
    seeds_clear(&p->seeds);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->deliver_lock);
    free(p);
    return NULL;
}

int vc_nodepool_wait_ready(vc_nodepool_t *p, int timeout_ms)
{
    int64_t deadline = vc_now_mono_us() + (int64_t)VC_MAX(timeout_ms, 0) * 1000;
    int r = -ETIMEDOUT;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        for (size_t i = 0; i < p->n_nodes && r < 0; i++)
            if (p->nodes[i]->enabled)
                r = 0;
        if (r == 0 || vc_now_mono_us() >= deadline)
            break;
        cond_wait_until(&p->cond, &p->lock, deadline);
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* ------------------------------------------------------------------ nodes at run time */

/* Puts n (a new node, reference taken over) at slot i (== n_nodes to append). Lock held. */
static void install_node(vc_nodepool_t *p, size_t i, node_t *n)
{
    if (i == p->n_nodes)
        p->n_nodes++;
    else {
        p->nodes[i]->removed = true;
        node_unref(p->nodes[i]);
    }
    p->nodes[i] = n;
    n->next_probe_us = 0; /* the manager probes it now */
    evaluate(p);
}

static void remove_at(vc_nodepool_t *p, size_t i)
{
    node_t *n = p->nodes[i];
    memmove(&p->nodes[i], &p->nodes[i + 1], (p->n_nodes - i - 1) * sizeof(*p->nodes));
    p->n_nodes--;
    n->removed = true;
    node_unref(n);
    evaluate(p);
}

static int add_or_set(vc_nodepool_t *p, const vc_nodepool_node_conf_t *c, bool replace)
{
    node_t *n = NULL;
    pthread_mutex_lock(&p->lock);
    uint64_t id = p->next_id++;
    pthread_mutex_unlock(&p->lock);
    int r = node_new(c, id, &n);
    if (r < 0)
        return r;
    pthread_mutex_lock(&p->lock);
    ssize_t i = find_node(p, c->name);
    if (i >= 0 && !replace)
        r = -EEXIST;
    else if (i >= 0 && vc_streq(p->nodes[i]->url, c->url) &&
             vc_streq(p->nodes[i]->token ? p->nodes[i]->token : "", c->token ? c->token : ""))
        r = 0; /* unchanged */
    else if (i < 0 && p->n_nodes == VC_NODEPOOL_MAX_NODES)
        r = -E2BIG;
    else {
        install_node(p, i >= 0 ? (size_t)i : p->n_nodes, n);
        n = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    node_unref(n);
    return r;
}

int vc_nodepool_add(vc_nodepool_t *p, const vc_nodepool_node_conf_t *node)
{
    return add_or_set(p, node, false);
}

int vc_nodepool_set(vc_nodepool_t *p, const vc_nodepool_node_conf_t *node)
{
    return add_or_set(p, node, true);
}

int vc_nodepool_remove(vc_nodepool_t *p, const char *name)
{
    pthread_mutex_lock(&p->lock);
    ssize_t i = find_node(p, name);
    if (i >= 0)
        remove_at(p, (size_t)i);
    pthread_mutex_unlock(&p->lock);
    return i >= 0 ? 0 : -ENOENT;
}

int vc_nodepool_add_from_env(vc_nodepool_t *p, char **reterr_msg)
{
    const char *env = getenv(VC_NODEPOOL_ENV);
    vc_nodepool_node_conf_t *confs = NULL;
    node_t *nodes[VC_NODEPOOL_MAX_NODES] = {0};
    size_t n = 0;
    if (vc_strempty(env))
        return 0;
    int r = vc_nodepool_parse_info(env, &confs, &n, reterr_msg);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n && r >= 0; i++) {
        r = node_new(&confs[i], 0, &nodes[i]);
        if (r == -EINVAL)
            set_errmsg(reterr_msg, "node '%s': bad settings", confs[i].name);
    }
    if (r >= 0) {
        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < n && r >= 0; i++)
            if (find_node(p, confs[i].name) >= 0)
                r = set_errmsg(reterr_msg, "node '%s': name in use", confs[i].name);
        if (r >= 0 && p->n_nodes + n > VC_NODEPOOL_MAX_NODES)
            r = set_errmsg(reterr_msg, "more than %d nodes", VC_NODEPOOL_MAX_NODES);
        for (size_t i = 0; i < n && r >= 0; i++) {
            nodes[i]->id = p->next_id++;
            install_node(p, p->n_nodes, nodes[i]);
            nodes[i] = NULL;
        }
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t i = 0; i < n; i++)
        node_unref(nodes[i]);
    vc_nodepool_node_confs_free(confs, n);
    return r < 0 ? r : (int)n;
}

/* ------------------------------------------------------------------ options and methods */

int vc_nodepool_set_opts(vc_nodepool_t *p, const vc_nodepool_opts_t *opts)
{
    if (opts_invalid(opts))
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    bool sooner = opts->heartbeat_ms < p->opts.heartbeat_ms;
    p->opts = *opts;
    int64_t now = vc_now_mono_us();
    for (size_t i = 0; sooner && i < p->n_nodes; i++)
        p->nodes[i]->next_probe_us =
            VC_MIN(p->nodes[i]->next_probe_us, now + (int64_t)opts->heartbeat_ms * 1000);
    while (p->seeds.count > (size_t)opts->max_seeds)
        seed_drop(&p->seeds, p->seeds.tail);
    evaluate(p);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void vc_nodepool_get_opts(vc_nodepool_t *p, vc_nodepool_opts_t *ret)
{
    pthread_mutex_lock(&p->lock);
    *ret = p->opts;
    pthread_mutex_unlock(&p->lock);
}

static ssize_t find_method(const vc_nodepool_t *p, const char *method)
{
    for (size_t i = 0; i < p->n_methods; i++)
        if (strcmp(p->methods[i].name, method) == 0)
            return (ssize_t)i;
    return -1;
}

int vc_nodepool_set_method(vc_nodepool_t *p, const char *method, const vc_nodepool_method_t *m)
{
    if (vc_strempty(method) || strlen(method) > 256 || (m && !method_valid(m)))
        return -EINVAL;
    int r = 0;
    pthread_mutex_lock(&p->lock);
    ssize_t i = find_method(p, method);
    if (i >= 0 && m)
        p->methods[i].m = *m;
    else if (i >= 0) {
        free(p->methods[i].name);
        p->methods[i] = p->methods[--p->n_methods];
    } else if (m && p->n_methods == VC_NODEPOOL_MAX_METHODS)
        r = -E2BIG;
    else if (m) {
        method_entry_t *grown = realloc(p->methods, (p->n_methods + 1) * sizeof(*grown));
        char *name = strdup(method);
        if (grown)
            p->methods = grown;
        if (!grown || !name) {
            free(name);
            r = -ENOMEM;
        } else
            p->methods[p->n_methods++] = (method_entry_t){.name = name, .m = *m};
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* Lock held. */
static vc_nodepool_method_t effective_method(const vc_nodepool_t *p, const char *method)
{
    ssize_t i = find_method(p, method);
    if (i >= 0)
        return p->methods[i].m;
    for (size_t k = 0; k < VC_ELEMENTSOF(builtin_methods); k++)
        if (strcmp(builtin_methods[k].name, method) == 0)
            return builtin_methods[k].m;
    return p->opts.default_method;
}

void vc_nodepool_get_method(vc_nodepool_t *p, const char *method, vc_nodepool_method_t *ret)
{
    pthread_mutex_lock(&p->lock);
    *ret = effective_method(p, method);
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------------ settings JSON */

static json_t *duration_json(int ms)
{
    char buf[32];
    if (ms % 1000 == 0)
        snprintf(buf, sizeof(buf), "%ds", ms / 1000);
    else
        snprintf(buf, sizeof(buf), "%dms", ms);
    return json_string(buf);
}

static json_t *method_json(const vc_nodepool_method_t *m)
{
    return json_pack("{s:s, s:o, s:b}", "Policy", vc_nodepool_policy_to_string(m->policy), "Timeout",
                     duration_json(m->timeout_ms), "NoHang", m->no_hang);
}

int vc_nodepool_settings_json(vc_nodepool_t *p, bool with_tokens, json_t **ret)
{
    pthread_mutex_lock(&p->lock);
    const vc_nodepool_opts_t *o = &p->opts;
    json_t *nodes = json_array(), *methods = json_object();
    bool oom = !nodes || !methods;
    for (size_t i = 0; !oom && i < p->n_nodes; i++) {
        node_t *n = p->nodes[i];
        json_t *j = json_pack("{s:s, s:s}", "Name", n->name, "URL", n->url);
        if (j && with_tokens && json_object_set_new(j, "Token", json_string(n->token ? n->token : "")) < 0)
            oom = true;
        oom = json_array_append_new(nodes, j) < 0 || oom;
    }
    for (size_t i = 0; !oom && i < p->n_methods; i++)
        oom = json_object_set_new(methods, p->methods[i].name, method_json(&p->methods[i].m)) < 0;
    json_t *j = json_pack("{s:o?}", "Nodes", nodes);
    for (size_t i = 0; j && i < VC_ELEMENTSOF(opt_fields); i++) {
        const opt_field_t *f = &opt_fields[i];
        int v = *opt_value(&p->opts, f);
        oom = json_object_set_new(j, f->key, f->duration ? duration_json(v) : json_integer(v)) < 0 || oom;
    }
    if (j)
        oom = json_object_set_new(j, "DefaultMethod", method_json(&o->default_method)) < 0 ||
              json_object_set_new(j, "Methods", methods) < 0 || oom;
    else
        json_decref(methods);
    pthread_mutex_unlock(&p->lock);
    if (!j || oom) {
        json_decref(j);
        return -ENOMEM;
    }
    *ret = j;
    return 0;
}

static int get_duration(const json_t *obj, const char *key, const char *path, int *ret, char **reterr_msg)
{
    json_t *v = json_object_get(obj, key);
    int64_t ms = 0;
    if (!v)
        return 0;
    if (!json_is_string(v) || vc_parse_duration_ms(json_string_value(v), &ms) < 0 || ms < 0 || ms > INT32_MAX)
        return set_errmsg(reterr_msg, "%s%s: expected a duration such as \"5s\" or \"500ms\"", path, key);
    *ret = (int)ms;
    return 0;
}

static int get_int(const json_t *obj, const char *key, int *ret, char **reterr_msg)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return set_errmsg(reterr_msg, "%s: expected a non-negative integer", key);
    *ret = (int)json_integer_value(v);
    return 0;
}

static int parse_method(const json_t *j, const char *path, vc_nodepool_method_t *ret, char **reterr_msg)
{
    const char *key;
    json_t *v;
    if (!json_is_object(j))
        return set_errmsg(reterr_msg, "%s: expected an object", path);
    json_object_foreach((json_t *)j, key, v) {
        if (!vc_streq(key, "Policy") && !vc_streq(key, "Timeout") && !vc_streq(key, "NoHang"))
            return set_errmsg(reterr_msg, "%s: unknown key '%.64s'", path, key);
    }
    json_t *pol = json_object_get(j, "Policy"), *nh = json_object_get(j, "NoHang");
    vc_nodepool_method_t m = {.policy = VC_NODEPOOL_ONE_BY_SEED_ROUND};
    if (!json_is_string(pol))
        return set_errmsg(reterr_msg, "%s.Policy: expected a policy name", path);
    if (vc_nodepool_policy_from_string(json_string_value(pol), &m.policy) < 0)
        return set_errmsg(reterr_msg, "%s.Policy: unknown policy '%.64s'", path, json_string_value(pol));
    char sub[320];
    snprintf(sub, sizeof(sub), "%s.", path);
    if (get_duration(j, "Timeout", sub, &m.timeout_ms, reterr_msg) < 0)
        return -EINVAL;
    if (nh && !json_is_boolean(nh))
        return set_errmsg(reterr_msg, "%s.NoHang: expected true or false", path);
    m.no_hang = json_is_true(nh);
    if (!method_valid(&m))
        return set_errmsg(reterr_msg, "%s.Timeout: at most 1h", path);
    *ret = m;
    return 0;
}

static int parse_opts(const json_t *s, vc_nodepool_opts_t *o, char **reterr_msg)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)s, key, v) {
        bool known = vc_streq(key, "Nodes") || vc_streq(key, "DefaultMethod") || vc_streq(key, "Methods");
        for (size_t i = 0; i < VC_ELEMENTSOF(opt_fields) && !known; i++)
            known = vc_streq(key, opt_fields[i].key);
        if (!known)
            return set_errmsg(reterr_msg, "unknown key '%.64s'", key);
    }
    for (size_t i = 0; i < VC_ELEMENTSOF(opt_fields); i++) {
        const opt_field_t *f = &opt_fields[i];
        int r = f->duration ? get_duration(s, f->key, "", opt_value(o, f), reterr_msg)
                            : get_int(s, f->key, opt_value(o, f), reterr_msg);
        if (r < 0)
            return r;
    }
    json_t *dm = json_object_get(s, "DefaultMethod");
    if (dm && parse_method(dm, "DefaultMethod", &o->default_method, reterr_msg) < 0)
        return -EINVAL;
    const char *bad = opts_invalid(o);
    return bad ? set_errmsg(reterr_msg, "%s: out of range", bad) : 0;
}

static int parse_methods(const json_t *j, method_entry_t **ret, size_t *ret_n, char **reterr_msg)
{
    const char *key;
    json_t *v;
    size_t n = 0;
    int r = 0;
    if (!json_is_object(j))
        return set_errmsg(reterr_msg, "Methods: expected an object");
    if (json_object_size(j) > VC_NODEPOOL_MAX_METHODS)
        return set_errmsg(reterr_msg, "Methods: more than %d entries", VC_NODEPOOL_MAX_METHODS);
    method_entry_t *ms = calloc(json_object_size(j) + 1, sizeof(*ms));
    if (!ms)
        return -ENOMEM;
    json_object_foreach((json_t *)j, key, v) {
        char path[300];
        snprintf(path, sizeof(path), "Methods.%.256s", key);
        if (!*key || strlen(key) > 256) {
            r = set_errmsg(reterr_msg, "Methods: bad method name");
            break;
        }
        r = parse_method(v, path, &ms[n].m, reterr_msg);
        if (r < 0)
            break;
        ms[n].name = strdup(key);
        if (!ms[n++].name) {
            r = -ENOMEM;
            break;
        }
    }
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(ms[i].name);
        free(ms);
        return r;
    }
    *ret = ms;
    *ret_n = n;
    return 0;
}

/* The "Nodes" array as new node objects (ids are given when installed). */
static int parse_nodes(const json_t *j, node_t **nodes, size_t *ret_n, char **reterr_msg)
{
    size_t i, n = 0;
    json_t *v;
    if (!json_is_array(j))
        return set_errmsg(reterr_msg, "Nodes: expected an array");
    if (json_array_size(j) > VC_NODEPOOL_MAX_NODES)
        return set_errmsg(reterr_msg, "Nodes: more than %d nodes", VC_NODEPOOL_MAX_NODES);
    json_array_foreach(j, i, v) {
        const char *name = json_string_value(json_object_get(v, "Name"));
        const char *url = json_string_value(json_object_get(v, "URL"));
        json_t *tok = json_object_get(v, "Token");
        int r = 0;
        if (!json_is_object(v) || !name || !name_valid(name, strlen(name)))
            r = set_errmsg(reterr_msg, "Nodes[%zu].Name: expected 1..%d of [A-Za-z0-9._-], not all digits", i,
                           VC_NODEPOOL_NAME_MAX);
        else if (!url || !url_valid(url))
            r = set_errmsg(reterr_msg, "Nodes[%zu].URL: expected a URL, host:port or multiaddr", i);
        else if (tok && !json_is_string(tok))
            r = set_errmsg(reterr_msg, "Nodes[%zu].Token: expected a string", i);
        for (size_t k = 0; k < n && r == 0; k++)
            if (vc_streq(nodes[k]->name, name))
                r = set_errmsg(reterr_msg, "Nodes[%zu].Name: duplicate '%s'", i, name);
        if (r == 0) {
            vc_nodepool_node_conf_t c = {
                .name = (char *)name, .url = (char *)url, .token = (char *)json_string_value(tok)};
            r = node_new(&c, 0, &nodes[n]);
        }
        if (r < 0) {
            while (n)
                node_unref(nodes[--n]);
            return r;
        }
        n++;
    }
    *ret_n = n;
    return 0;
}

static void method_entries_free(method_entry_t *ms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ms[i].name);
    free(ms);
}

/* Every part of a settings object, validated; nothing is returned on error. */
static int parse_settings(const json_t *settings, vc_nodepool_opts_t *o, method_entry_t **ms, size_t *n_ms,
                          node_t **nodes, size_t *n_nodes, char **reterr_msg)
{
    json_t *jn = json_object_get(settings, "Nodes"), *jm = json_object_get(settings, "Methods");
    vc_nodepool_opts_init(o);
    if (!json_is_object(settings))
        return set_errmsg(reterr_msg, "settings: expected an object");
    int r = parse_opts(settings, o, reterr_msg);
    if (r == 0 && jm)
        r = parse_methods(jm, ms, n_ms, reterr_msg);
    if (r == 0 && jn)
        r = parse_nodes(jn, nodes, n_nodes, reterr_msg);
    if (r < 0) {
        method_entries_free(*ms, *n_ms);
        *ms = NULL;
        *n_ms = 0;
    }
    return r;
}

int vc_nodepool_check_settings(const json_t *settings, char **reterr_msg)
{
    vc_nodepool_opts_t o;
    method_entry_t *ms = NULL;
    node_t *nodes[VC_NODEPOOL_MAX_NODES];
    size_t n_ms = 0, n_nodes = 0;
    int r = parse_settings(settings, &o, &ms, &n_ms, nodes, &n_nodes, reterr_msg);
    method_entries_free(ms, n_ms);
    for (size_t i = 0; i < n_nodes; i++)
        node_unref(nodes[i]);
    return r;
}

int vc_nodepool_apply_settings(vc_nodepool_t *p, const json_t *settings, char **reterr_msg)
{
    vc_nodepool_opts_t o;
    method_entry_t *ms = NULL;
    node_t *nodes[VC_NODEPOOL_MAX_NODES];
    size_t n_ms = 0, n_nodes = 0;
    json_t *jn = json_object_get(settings, "Nodes"), *jm = json_object_get(settings, "Methods");
    int r = parse_settings(settings, &o, &ms, &n_ms, nodes, &n_nodes, reterr_msg);
    if (r < 0)
        return r;

    pthread_mutex_lock(&p->lock);
    if (jm) {
        for (size_t i = 0; i < p->n_methods; i++)
            free(p->methods[i].name);
        free(p->methods);
        p->methods = ms;
        p->n_methods = n_ms;
    }
    if (jn) {
        node_t *old[VC_NODEPOOL_MAX_NODES];
        size_t n_old = p->n_nodes;
        memcpy(old, p->nodes, n_old * sizeof(*old));
        for (size_t i = 0; i < n_nodes; i++) {
            ssize_t k = find_node(p, nodes[i]->name);
            node_t *o_n = k >= 0 ? p->nodes[k] : NULL;
            if (o_n && vc_streq(o_n->url, nodes[i]->url) &&
                vc_streq(o_n->token ? o_n->token : "", nodes[i]->token ? nodes[i]->token : "")) {
                node_unref(nodes[i]);
                nodes[i] = node_ref(o_n); /* unchanged: keeps its state */
            } else {
                nodes[i]->id = p->next_id++;
                nodes[i]->next_probe_us = 0;
            }
        }
        memcpy(p->nodes, nodes, n_nodes * sizeof(*nodes));
        p->n_nodes = n_nodes;
        for (size_t i = 0; i < n_old; i++) {
            if (find_node_id(p, old[i]->id) != old[i])
                old[i]->removed = true;
            node_unref(old[i]);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return vc_nodepool_set_opts(p, &o); /* valid: checked by parse_opts; evaluates and wakes */
}

/* ------------------------------------------------------------------ status */

int vc_nodepool_status(vc_nodepool_t *p, json_t **ret)
{
    pthread_mutex_lock(&p->lock);
    json_t *nodes = json_array();
    for (size_t i = 0; nodes && i < p->n_nodes; i++) {
        node_t *n = p->nodes[i];
        json_int_t seeds = 0;
        for (seed_t *e = p->seeds.head; e; e = e->next)
            seeds += e->node_id == n->id;
        json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:i, s:i, s:i, s:I, s:I, s:i, s:I, s:s, s:I}",
                              "Name", n->name, "URL", n->url, "Enabled", n->enabled, "Reason", n->reason,
                              "Height", (json_int_t)n->height, "SyncTarget", (json_int_t)n->sync_target,
                              "Peers", n->peers, "BlockPeers", n->block_peers, "MessagePeers", n->msg_peers,
                              "Calls", (json_int_t)n->calls, "Errors", (json_int_t)n->errors,
                              "ConsecutiveErrors", n->consec_errors, "LastHeartbeat",
                              (json_int_t)n->last_hb_ms, "HeartbeatError", n->hb_error, "Seeds", seeds);
        if (json_array_append_new(nodes, j) < 0) {
            json_decref(nodes);
            nodes = NULL;
        }
    }
    json_t *st = json_pack("{s:I, s:s?, s:I, s:o?}", "BestHeight", (json_int_t)p->best_height, "HeadNode",
                           p->sub.node ? p->sub.node->name : NULL, "Seeds", (json_int_t)p->seeds.count,
                           "Nodes", nodes);
    pthread_mutex_unlock(&p->lock);
    if (!st || !json_object_get(st, "Nodes")) {
        json_decref(st);
        return -ENOMEM;
    }
    *ret = st;
    return 0;
}

/* ------------------------------------------------------------------ calls */

/* Walks params depth-first (bounded): is there a CID ({"/": "..."}) / an address string? */
static void scan_params(const json_t *v, int depth, size_t *budget, bool *ret_cid, bool *ret_addr)
{
    if (!v || depth > 16 || *budget == 0)
        return;
    (*budget)--;
    if (json_is_string(v)) {
        vc_address_t a;
        const char *s = json_string_value(v);
        if (!*ret_addr && json_string_length(v) <= VC_ADDRESS_STRLEN_MAX &&
            vc_address_from_string(s, &a) == 0)
            *ret_addr = true;
    } else if (json_is_object(v)) {
        if (json_object_size(v) == 1 && json_is_string(json_object_get(v, "/")))
            *ret_cid = true;
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            scan_params(x, depth + 1, budget, ret_cid, ret_addr);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            scan_params(x, depth + 1, budget, ret_cid, ret_addr);
        }
    }
}

/* An error answer that another node may not give: "block not found" for calls about a
 * tipset/epoch/CID, "actor not found" for calls about an address. */
static bool retry_elsewhere(const char *method, const json_t *params, const vc_rpc_err_t *e)
{
    char msg[sizeof(e->message)];
    size_t n = strnlen(e->message, sizeof(msg) - 1);
    for (size_t i = 0; i < n; i++) /* the patterns are lower case */
        msg[i] = (char)tolower((unsigned char)e->message[i]);
    msg[n] = 0;
    bool block = strstr(msg, "block not found") || strstr(msg, "tipset not found") ||
                 strstr(msg, "ipld: could not find");
    bool actor = strstr(msg, "actor not found") != NULL;
    bool cid = false, addr = false;
    size_t budget = SCAN_MAX_NODES;
    if (!block && !actor)
        return false;
    scan_params(params, 0, &budget, &cid, &addr);
    for (size_t i = 0; block && !cid && i < VC_ELEMENTSOF(epoch_methods); i++)
        cid = vc_streq(method, epoch_methods[i]);
    return (block && cid) || (actor && addr);
}

typedef int (*node_key_fn)(const node_t *n);
static int key_height(const node_t *n)
{
    return (int)VC_MIN(n->height, INT32_MAX);
}
static int key_msg_peers(const node_t *n)
{
    return n->msg_peers;
}
static int key_block_peers(const node_t *n)
{
    return n->block_peers;
}

/* Stable insertion sort, highest key first. */
static void sort_desc(node_t **v, size_t n, node_key_fn key)
{
    for (size_t i = 1; i < n; i++) {
        node_t *x = v[i];
        size_t j = i;
        while (j > 0 && key(v[j - 1]) < key(x)) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void rotate(node_t **v, size_t n, size_t start)
{
    node_t *tmp[VC_NODEPOOL_MAX_NODES];
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[(start + i) % n];
    memcpy(v, tmp, n * sizeof(*v));
}

/* The enabled nodes in the order the policy tries them, each with a reference. Lock held. */
static size_t pick(vc_nodepool_t *p, vc_nodepool_policy_t pol, const char *seed, node_t **out)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i]->enabled)
            out[k++] = p->nodes[i];
    if (!k)
        return 0;
    switch (pol) {
    case VC_NODEPOOL_ONE_BY_INDEX_DESC:
        for (size_t i = 0; i < k / 2; i++) {
            node_t *t = out[i];
            out[i] = out[k - 1 - i];
            out[k - 1 - i] = t;
        }
        break;
    case VC_NODEPOOL_ONE_BY_ID_ROUND:
        for (size_t i = 1; i < k; i++) /* by id: a replaced node gets a new id */
            for (size_t j = i; j > 0 && out[j - 1]->id > out[j]->id; j--) {
                node_t *t = out[j];
                out[j] = out[j - 1];
                out[j - 1] = t;
            }
        rotate(out, k, (size_t)(p->rr++ % k));
        break;
    case VC_NODEPOOL_ONE_BY_CHAIN_HEAD_DESC:
        sort_desc(out, k, key_height);
        break;
    case VC_NODEPOOL_ONE_BY_MESSAGE_PEERS_DESC:
        sort_desc(out, k, key_msg_peers);
        break;
    case VC_NODEPOOL_ONE_BY_BLOCK_PEERS_DESC:
        sort_desc(out, k, key_block_peers);
        break;
    case VC_NODEPOOL_ONE_BY_SEED_ROUND: {
        size_t start = k;
        seed_t *e = seed ? seed_find(&p->seeds, seed) : NULL;
        for (size_t i = 0; e && i < k && start == k; i++)
            if (out[i]->id == e->node_id)
                start = i;
        if (start == k) { /* unbound, or its node is disabled or gone */
            start = (size_t)(p->rr++ % k);
            if (seed)
                seed_bind(&p->seeds, seed, out[start]->id, p->opts.max_seeds);
        }
        rotate(out, k, start);
        break;
    }
    default: /* ONE_BY_INDEX_ASC, ALL_WITH_FIRST_SUCCEED: list order */
        break;
    }
    for (size_t i = 0; i < k; i++)
        node_ref(out[i]);
    return k;
}

/* Counts a call's outcome on its node. */
static void note_result(vc_nodepool_t *p, node_t *n, int r)
{
    pthread_mutex_lock(&p->lock);
    n->calls++;
    if (is_transport(r)) {
        n->errors++;
        n->consec_errors++;
        n->next_probe_us = 0; /* look at it now */
        if (!n->removed && n->consec_errors >= p->opts.max_call_errors)
            evaluate(p);
        pthread_cond_broadcast(&p->cond);
    } else if (r == 0 || r == VC_EREMOTE)
        n->consec_errors = 0;
    pthread_mutex_unlock(&p->lock);
}

/* Failure ranking for a call that every node failed: an answer beats a transport error. */
static int failure_rank(int r)
{
    return r == VC_EREMOTE ? 3 : r == VC_EHTTP ? 2 : is_transport(r) ? 1 : 0;
}

typedef struct fan {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs;
    size_t pending;
    unsigned unanswered; /* jobs done without a JSON-RPC answer */
    bool won;
    json_t *result;
    int r;
    vc_rpc_err_t err;
    char node[VC_NODEPOOL_NAME_MAX + 1];
} fan_t;

typedef struct fan_job {
    fan_t *fan;
    vc_nodepool_t *pool;
    node_t *node;
    char *method;
    json_t *params;
    int timeout_ms;
} fan_job_t;

static void fan_unref(fan_t *f)
{
    pthread_mutex_lock(&f->lock);
    bool last = --f->refs == 0;
    pthread_mutex_unlock(&f->lock);
    if (!last)
        return;
    json_decref(f->result);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
}

static void fan_job(void *arg)
{
    fan_job_t *j = arg;
    fan_t *f = j->fan;
    json_t *res = NULL;
    vc_rpc_err_t e = {0};
    int r = vc_client_call_timeout(j->node->client, j->method, j->params, j->timeout_ms, &res, &e);
    note_result(j->pool, j->node, r);
    pthread_mutex_lock(&f->lock);
    if (r < 0 && r != VC_EREMOTE)
        f->unanswered++;
    if (r == 0 && !f->won) {
        f->won = true;
        f->result = res;
        res = NULL;
        f->r = 0;
        snprintf(f->node, sizeof(f->node), "%s", j->node->name);
    } else if (r < 0 && !f->won && failure_rank(r) > failure_rank(f->r)) {
        f->r = r;
        f->err = e;
        snprintf(f->node, sizeof(f->node), "%s", j->node->name);
    }
    f->pending--;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    json_decref(res);
    fan_unref(f);
    node_unref(j->node);
    free(j->method);
    free(j);
}

/* AllWithFirstSucceed: every node at once, the first success wins. Takes the node refs. */
static int call_all(vc_nodepool_t *p, node_t **cands, size_t k, const char *method, json_t *params,
                    int timeout_ms, vc_nodepool_report_t *rep, json_t **ret_result, vc_rpc_err_t *ret_err)
{
    fan_t *f = calloc(1, sizeof(*f));
    if (!f) {
        for (size_t i = 0; i < k; i++)
            node_unref(cands[i]);
        return -ENOMEM;
    }
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->refs = 1;
    f->r = VC_ETRANSPORT;
    snprintf(f->err.message, sizeof(f->err.message), "no chain node answered (%zu tried)", k);
    for (size_t i = 0; i < k; i++) {
        fan_job_t *j = calloc(1, sizeof(*j));
        if (j) {
            *j = (fan_job_t){.fan = f,
                             .pool = p,
                             .node = cands[i],
                             .method = strdup(method),
                             .params = json_deep_copy(params),
                             .timeout_ms = timeout_ms};
            pthread_mutex_lock(&f->lock);
            f->refs++;
            f->pending++;
            pthread_mutex_unlock(&f->lock);
        }
        if (j && j->method && (j->params || !params) && vc_workq_submit(p->wq, fan_job, j) == 0) {
            rep->tried++;
            continue;
        }
        if (j) {
            json_decref(j->params);
            free(j->method);
            free(j);
            pthread_mutex_lock(&f->lock);
            f->refs--;
            f->pending--;
            pthread_mutex_unlock(&f->lock);
        }
        node_unref(cands[i]);
    }
    pthread_mutex_lock(&f->lock);
    while (!f->won && f->pending)
        pthread_cond_wait(&f->cond, &f->lock);
    int r = f->r;
    if (r == 0) {
        *ret_result = f->result;
        f->result = NULL;
    } else if (ret_err)
        *ret_err = f->err;
    if (r == 0 || r == VC_EREMOTE)
        snprintf(rep->node, sizeof(rep->node), "%s", f->node);
    rep->unanswered = f->unanswered;
    pthread_mutex_unlock(&f->lock);
    fan_unref(f);
    return r;
}

/* One node after another. Takes the node refs. */
static int call_one_by_one(vc_nodepool_t *p, node_t **cands, size_t k, const vc_nodepool_method_t *m,
                           const char *method, json_t *params, int timeout_ms, const char *seed,
                           vc_nodepool_report_t *rep, json_t **ret_result, vc_rpc_err_t *ret_err)
{
    int r = VC_ETRANSPORT, fail = VC_ETRANSPORT;
    vc_rpc_err_t fail_err = {0};
    const char *fail_node = NULL;
    size_t i;
    snprintf(fail_err.message, sizeof(fail_err.message), "no chain node answered (%zu tried)", k);
    for (i = 0; i < k; i++) {
        vc_rpc_err_t e = {0};
        json_t *res = NULL;
        r = vc_client_call_timeout(cands[i]->client, method, json_incref(params), timeout_ms, &res, &e);
        note_result(p, cands[i], r);
        rep->tried++;
        if (r < 0 && r != VC_EREMOTE)
            rep->unanswered++;
        if (r == 0) {
            *ret_result = res;
            break;
        }
        bool again = is_transport(r) || (r == VC_EREMOTE && retry_elsewhere(method, params, &e));
        if (!again || failure_rank(r) >= failure_rank(fail)) {
            fail = r;
            fail_err = e;
            fail_node = cands[i]->name;
            if (is_transport(r) && r != VC_EHTTP)
                snprintf(fail_err.message, sizeof(fail_err.message), "node '%s': %s", cands[i]->name,
                         vc_strerror(r));
        }
        if (!again)
            break;
        vc_debug("nodepool: %s on '%s' failed (%s), trying the next node", method, cands[i]->name,
                 r == VC_EREMOTE ? e.message : vc_strerror(r));
    }
    if (r == 0) {
        if (seed && i > 0 && m->policy == VC_NODEPOOL_ONE_BY_SEED_ROUND && strlen(seed) <= SEED_LEN_MAX) {
            pthread_mutex_lock(&p->lock); /* the seed follows the node that took its call */
            if (!cands[i]->removed)
                seed_bind(&p->seeds, seed, cands[i]->id, p->opts.max_seeds);
            pthread_mutex_unlock(&p->lock);
        }
        snprintf(rep->node, sizeof(rep->node), "%s", cands[i]->name);
    } else {
        r = fail;
        if (ret_err)
            *ret_err = fail_err;
        if (r == VC_EREMOTE && fail_node)
            snprintf(rep->node, sizeof(rep->node), "%s", fail_node);
    }
    for (size_t j = 0; j < k; j++)
        node_unref(cands[j]);
    return r;
}

int vc_nodepool_call_report(vc_nodepool_t *p, const char *method, json_t *params, const char *seed,
                            vc_nodepool_report_t *ret_report, json_t **ret_result, vc_rpc_err_t *ret_err)
{
    node_t *cands[VC_NODEPOOL_MAX_NODES];
    size_t k = 0;
    vc_nodepool_report_t scratch;
    vc_nodepool_report_t *rep = ret_report ? ret_report : &scratch;
    *rep = (vc_nodepool_report_t){0};
    if (!params)
        params = json_array();
    if (!params || vc_strempty(method)) {
        json_decref(params);
        return params ? -EINVAL : -ENOMEM;
    }
    if (seed && strlen(seed) > SEED_LEN_MAX)
        seed = NULL;
    pthread_mutex_lock(&p->lock);
    vc_nodepool_method_t m = effective_method(p, method);
    int timeout_ms = m.timeout_ms > 0 ? m.timeout_ms : p->opts.call_timeout_ms;
    int64_t deadline = vc_now_mono_us() + (int64_t)timeout_ms * 1000;
    while (!(k = pick(p, m.policy, seed, cands)) && !m.no_hang && !p->stopping && vc_now_mono_us() < deadline)
        cond_wait_until(&p->cond, &p->lock, deadline);
    pthread_mutex_unlock(&p->lock);

    int r;
    if (!k) {
        r = -EHOSTUNREACH;
        if (ret_err)
            *ret_err = (vc_rpc_err_t){.message = "no healthy chain node"};
    } else if (m.policy == VC_NODEPOOL_ALL_WITH_FIRST_SUCCEED)
        r = call_all(p, cands, k, method, params, timeout_ms, rep, ret_result, ret_err);
    else
        r = call_one_by_one(p, cands, k, &m, method, params, timeout_ms, seed, rep, ret_result, ret_err);
    json_decref(params);
    return r;
}

int vc_nodepool_call_ex(vc_nodepool_t *p, const char *method, json_t *params, const char *seed,
                        char **ret_node, json_t **ret_result, vc_rpc_err_t *ret_err)
{
    vc_nodepool_report_t rep;
    int r = vc_nodepool_call_report(p, method, params, seed, &rep, ret_result, ret_err);
    if (ret_node)
        *ret_node = rep.node[0] ? strdup(rep.node) : NULL;
    return r;
}

int vc_nodepool_call(vc_nodepool_t *p, const char *method, json_t *params, const char *seed,
                     json_t **ret_result, vc_rpc_err_t *ret_err)
{
    return vc_nodepool_call_ex(p, method, params, seed, NULL, ret_result, ret_err);
}
