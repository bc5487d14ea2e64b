/* msgr-service.c: ingest, head tracking, selection, signing and publishing (spec section 4). */
#include "msgr-service.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msgr-builtin.h"
#include "msgr-fanout.h"
#include "msgr-pushq.h"
#include "msgr-select.h"
#include "vc/log.h"
#include "vc/ttlcache.h"
#include "vc/util.h"
#include "vc/workq.h"

#define MAX_TSK 16
#define CACHE_KEEP 900
#define WALK_MAX 900

struct msgr_service {
    msgr_service_opts_t o;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    json_t *queue;    /* pending ChainNotify values (under lock) */
    atomic_llong head_height;
    atomic_llong block_delay_ms;
    atomic_ullong rounds;
    /* venus-auth signer lookups and gateway WalletHas answers, kept LOOKUP_CACHE_MS: every push
     * would otherwise pay three blocking HTTP round trips (the same trade-off as the verify
     * cache: a removed signer binding is honoured for at most that long, plus the one refresh
     * a push on the HTTP thread waits for when the entry has just expired) */
    vc_ttlcache_t *lookups;
    msgr_pushq_t *pushq;   /* group commit of pushes */
    vc_workq_t *selq;      /* a round's addresses, selected side by side (spec 4.3) */
    msgr_fanout_t *fanout; /* the extra nodes; NULL without enableMultiNode */
    vc_ha_elector_t *elector; /* NULL: always the leader */
    vc_ha_elector_t *head_elector; /* group mode only: who processes heads */
    vc_metric_t *m_pending;        /* address_pending_msgs{address,state}; NULL without metrics */
    vc_ha_presence_t *presence;
    bool lead_changed;        /* the elector started or ended a term (under lock) */
    bool subscribed;          /* to the pool's heads */
};

#define LOOKUP_CACHE_MS 5000
/*
 * Addresses selected at the same time in a round ([messageService] SelectConcurrency). Upstream
 * runs a goroutine per address; here up to this many threads: an address's time is mostly
 * waiting for the node's estimate and the gateway's signatures, so side by side the round takes
 * a fraction of the sum. Default one per CPU: on a 2-core host that also runs gateway, wallet
 * and node, 16 made 10,000 messages land in 8.4 s instead of 10.4 s with 2, but cut
 * PushMessage ingest meanwhile from ~6.9k to ~4.5k msgs/s (the signing takes the CPU).
 */
#define SELECT_WORKERS_MAX 64

static unsigned select_workers(unsigned configured)
{
    if (configured)
        return VC_MIN(configured, SELECT_WORKERS_MAX);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : (unsigned)VC_MIN(n, SELECT_WORKERS_MAX);
}

/* ------------------------------------------------------------------ errors */

static _Thread_local char errbuf[1024];

const char *msgr_service_errmsg(void)
{
    return errbuf;
}

static int seterr(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int seterr(int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
    return r;
}

msgr_store_t *msgr_service_store(msgr_service_t *s)
{
    return s->o.store;
}


int64_t msgr_service_block_delay_ms(msgr_service_t *s)
{
    return atomic_load(&s->block_delay_ms);
}

uint64_t msgr_service_rounds(msgr_service_t *s)
{
    return atomic_load(&s->rounds);
}

void msgr_service_stats(msgr_service_t *s, msgr_service_stats_t *ret)
{
    msgr_fanout_stats_t f = {0};
    *ret = (msgr_service_stats_t){0};
    msgr_pushq_stats(s->pushq, &ret->push_batches, &ret->push_msgs);
    if (s->fanout)
        msgr_fanout_stats(s->fanout, &f);
    ret->node_pushes = f.pushed;
    ret->node_push_errors = f.failed;
    ret->node_dropped = f.dropped;
}

/* ------------------------------------------------------------------ upstream calls */

/* A gateway call: the request moves to the next gateway when one is down or has no wallet
 * connection holding the signer (active/active gateways). */
static int gw_call(msgr_service_t *s, const char *method, json_t *params, json_t **ret)
{
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
    if (!s->o.gateway) {
        json_decref(params);
        return seterr(-ENOTCONN, "no gateway configured");
    }
    int r = vc_clientset_call(s->o.gateway, method, params, &res, &e);
    if (r == VC_EREMOTE)
        return seterr(r, "%s", e.message);
    if (r < 0)
        return seterr(r, "gateway %s: %s", method, r == VC_EHTTP && e.code ? e.message : vc_strerror(r));
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

/* Filecoin.<method> through the pool; seed (may be NULL) binds the call to one node. */
static int node_call_seed(msgr_service_t *s, const char *method, json_t *params, const char *seed, json_t **ret)
{
    char full[128];
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
    snprintf(full, sizeof(full), "Filecoin.%s", method);
    int r = vc_nodepool_call(s->o.pool, full, params, seed, &res, &e);
    if (r == VC_EREMOTE)
        return seterr(r, "%s", e.message);
    if (r < 0)
        return seterr(r, "node %s: %s", full, *e.message ? e.message : vc_strerror(r));
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

int msgr_service_node_call(msgr_service_t *s, const char *method, json_t *params, json_t **ret)
{
    return node_call_seed(s, method, params, NULL, ret);
}

int64_t msgr_service_head_height(msgr_service_t *s)
{
    int64_t h = atomic_load(&s->head_height);
    if (h > 0)
        return h;
    json_t *head = NULL;
    if (msgr_service_node_call(s, "ChainHead", NULL, &head) == 0) {
        h = json_integer_value(json_object_get(head, "Height"));
        json_decref(head);
        if (h > 0)
            atomic_store(&s->head_height, h);
    }
    return h;
}

/*
 * A cached lookup. May block: only a live entry. Must not: an entry expired a short while ago
 * too, except for the one caller asked to refresh it, which gets -EWOULDBLOCK (it then comes
 * back where it may block, misses and asks anew), like any caller on a miss.
 */
static int cached(msgr_service_t *s, const char *key, bool may_block, json_t **ret)
{
    bool refresh = false;
    json_t *hit = NULL;
    if (s->lookups)
        hit = may_block ? vc_ttlcache_get(s->lookups, key) : vc_ttlcache_get_refresh(s->lookups, key, &refresh);
    if (hit && !refresh) {
        *ret = hit;
        return 0;
    }
    json_decref(hit);
    return may_block ? -ENOENT : -EWOULDBLOCK;
}

/* msgr_service_auth_get; without may_block only from the cache (-EWOULDBLOCK otherwise). */
static int auth_get(msgr_service_t *s, const char *path_query, bool may_block, json_t **ret)
{
    long status = 0;
    char *body = NULL;
    size_t len = 0;
    if (!s->o.auth)
        return seterr(-ENOTCONN, "no venus-auth configured");
    int r = cached(s, path_query, may_block, ret);
    if (r != -ENOENT)
        return r;
    r = vc_client_rest(s->o.auth, "GET", path_query, NULL, &status, &body, &len);
    if (r < 0)
        return seterr(r, "venus-auth: %s", vc_strerror(r));
    if (status != 200) {
        seterr(VC_EHTTP, "venus-auth %s: HTTP %ld %s", path_query, status, body ? body : "");
        free(body);
        return VC_EHTTP;
    }
    json_t *j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    free(body);
    if (!j)
        return seterr(VC_EPARSE, "venus-auth %s: not JSON", path_query);
    if (s->lookups)
        vc_ttlcache_put(s->lookups, path_query, j);
    *ret = j;
    return 0;
}

int msgr_service_auth_get(msgr_service_t *s, const char *path_query, json_t **ret)
{
    return auth_get(s, path_query, true, ret);
}

int msgr_service_signer_users(msgr_service_t *s, const char *signer, char ***ret, size_t *ret_n)
{
    char *esc = vc_url_escape(signer), q[512];
    json_t *j = NULL, *e;
    size_t i, n, size = 0;
    if (!esc)
        return -ENOMEM;
    snprintf(q, sizeof(q), "/user/signer?signer=%s", esc);
    free(esc);
    int r = msgr_service_auth_get(s, q, &j);
    if (r < 0)
        return r;
    n = json_is_array(j) ? json_array_size(j) : 0;
    json_array_foreach(j, i, e) size += strlen(json_string_value(json_object_get(e, "name")) ?: "") + 1;
    char **v = malloc((n + 1) * sizeof(char *) + size);
    if (!v) {
        json_decref(j);
        return -ENOMEM;
    }
    char *p = (char *)(v + n + 1);
    json_array_foreach(j, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name")) ?: "";
        v[i] = strcpy(p, name);
        p += strlen(name) + 1;
    }
    v[n] = NULL;
    json_decref(j);
    *ret = v;
    if (ret_n)
        *ret_n = n;
    return 0;
}

static int signer_exist(msgr_service_t *s, const char *user, const char *signer, bool may_block, bool *ret)
{
    char *eu = vc_url_escape(user), *es = vc_url_escape(signer), q[1024];
    json_t *j = NULL;
    if (!eu || !es) {
        free(eu);
        free(es);
        return -ENOMEM;
    }
    snprintf(q, sizeof(q), "/user/signer/exist?user=%s&signer=%s", eu, es);
    free(eu);
    free(es);
    int r = auth_get(s, q, may_block, &j);
    if (r < 0)
        return r;
    *ret = json_is_true(j);
    json_decref(j);
    return 0;
}

int msgr_service_signer_exist(msgr_service_t *s, const char *user, const char *signer, bool *ret)
{
    return signer_exist(s, user, signer, true, ret);
}

int msgr_service_signer_exist_cached(msgr_service_t *s, const char *user, const char *signer, bool *ret)
{
    return signer_exist(s, user, signer, false, ret);
}

int msgr_service_resolve_from(msgr_service_t *s, vc_address_t *addr)
{
    char str[VC_ADDRESS_STRLEN_MAX];
    json_t *res = NULL;
    if (vc_address_protocol(addr) != VC_ADDR_ID)
        return 0;
    vc_address_to_string(addr, 'f', str);
    int r = msgr_service_node_call(s, "StateAccountKey", json_pack("[s, []]", str), &res);
    if (r < 0)
        return seterr(r, "resolve %s: %s", str, errbuf);
    vc_address_t key;
    r = json_is_string(res) ? vc_address_from_string(json_string_value(res), &key) : VC_ETYPE;
    json_decref(res);
    if (r < 0)
        return seterr(r, "resolve %s: bad StateAccountKey answer", str);
    *addr = key;
    return 0;
}

static json_t *strv_json(char **v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int wallet_has(msgr_service_t *s, const char *addr, bool may_block, bool *ret)
{
    char **users = NULL;
    json_t *res = NULL;
    char key[200];
    snprintf(key, sizeof(key), "WalletHas %s", addr);
    int r = cached(s, key, may_block, &res);
    if (r != -ENOENT) {
        if (r == 0)
            *ret = json_is_true(res);
        json_decref(res);
        return r;
    }
    r = msgr_service_signer_users(s, addr, &users, NULL);
    if (r < 0)
        return r;
    r = gw_call(s, "Gateway.WalletHas", json_pack("[s, o]", addr, strv_json(users)), &res);
    free(users);
    if (r < 0)
        return r;
    *ret = json_is_true(res);
    if (s->lookups && *ret) /* only positive answers: a wallet that connects later is seen at once */
        vc_ttlcache_put(s->lookups, key, res);
    json_decref(res);
    return 0;
}

int msgr_service_wallet_has(msgr_service_t *s, const char *addr, bool *ret)
{
    return wallet_has(s, addr, true, ret);
}

int msgr_service_wallet_has_cached(msgr_service_t *s, const char *addr, bool *ret)
{
    return wallet_has(s, addr, false, ret);
}

/* ------------------------------------------------------------------ ingest */

int msgr_service_push_check(msgr_service_t *s, const char *id, const vc_message_t *msg, bool may_block)
{
    char from[VC_ADDRESS_STRLEN_MAX];
    bool has = false;
    int r;

    if (id && !*id)
        return seterr(-EINVAL, "empty uid");
    if (id && strlen(id) > MSGR_ID_MAX)
        return seterr(-EINVAL, "message id longer than %d characters", MSGR_ID_MAX);
    if ((r = msgr_chain_message_check(msg)) < 0)
        return seterr(r, "%s", msgr_types_errmsg());
    vc_address_to_string(&msg->from, 'f', from);
    if ((r = wallet_has(s, from, may_block, &has)) < 0)
        return r;
    if (!has)
        return seterr(-ENOENT, "signer address %s not exists", from);
    return 0;
}

/* The row a checked push inserts: UnFillMsg, nonce 0, a new UUIDv7 unless id is given. */
static int push_row(const char *id, const vc_message_t *msg, const msgr_send_spec_t *meta, const char *wallet_name,
                    msgr_message_t *m)
{
    char uuid[37];
    int r;
    if (!id) {
        vc_uuid7(uuid);
        id = uuid;
    }
    msgr_message_init(m);
    if ((r = msgr_message_set_id(m, id)) < 0 || (r = vc_message_copy(msg, &m->msg)) < 0 ||
        (r = msgr_message_set_wallet(m, wallet_name ? wallet_name : "")) < 0) {
        msgr_message_done(m);
        return seterr(r, "%s", vc_strerror(r));
    }
    m->msg.nonce = 0;
    if (meta)
        m->meta = *meta;
    m->state = MSGR_MSG_UNFILL;
    return 0;
}

int msgr_service_push_queue(msgr_service_t *s, const char *id, const vc_message_t *msg, const msgr_send_spec_t *meta,
                            const char *wallet_name, msgr_pushq_done_fn done, void *userdata)
{
    msgr_message_t m;
    int r = push_row(id, msg, meta, wallet_name, &m);
    if (r < 0)
        return r;
    r = msgr_pushq_submit(s->pushq, &m, done, userdata);
    if (r == -ESHUTDOWN)
        return seterr(r, "push message: venus-messager is shutting down: nothing was stored");
    return r < 0 ? seterr(r, "push message: %s", vc_strerror(r)) : 0;
}

void msgr_service_stop_pushes(msgr_service_t *s)
{
    if (s)
        msgr_pushq_stop(s->pushq);
}

int msgr_service_push(msgr_service_t *s, const char *id, const vc_message_t *msg, const msgr_send_spec_t *meta,
                      const char *wallet_name, char ret_id[MSGR_ID_MAX + 1])
{
    msgr_message_t m;
    msgr_push_result_t res;
    int r = msgr_service_push_check(s, id, msg, true);
    if (r < 0 || (r = push_row(id, msg, meta, wallet_name, &m)) < 0)
        return r;
    r = msgr_pushq_push(s->pushq, &m, &res);
    if (r < 0)
        seterr(r, "%s", res.errmsg);
    else if (ret_id)
        snprintf(ret_id, MSGR_ID_MAX + 1, "%s", m.id);
    msgr_message_done(&m);
    return r;
}

/* ------------------------------------------------------------------ tipsets */

typedef struct tipset {
    int64_t height;
    vc_cid_t key[MAX_TSK];
    size_t n_key;
    vc_cid_t parents[MAX_TSK];
    size_t n_parents;
    vc_bigint_t parent_base_fee;
} tipset_t;

static int cids_from_json(const json_t *a, vc_cid_t *out, size_t *n)
{
    size_t i;
    json_t *e;
    if (!json_is_array(a) || json_array_size(a) > MAX_TSK)
        return VC_ETYPE;
    json_array_foreach(a, i, e) if (vc_cid_from_json(e, &out[i]) < 0) return VC_EPARSE;
    *n = json_array_size(a);
    return 0;
}

static json_t *cids_json(const vc_cid_t *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, vc_cid_to_json(&c[i]));
    return a;
}

static int tipset_from_json(const json_t *j, tipset_t *ret)
{
    tipset_t t = {0};
    json_t *b0 = json_array_get(json_object_get(j, "Blocks"), 0);
    if (!json_is_integer(json_object_get(j, "Height")) || !b0 ||
        cids_from_json(json_object_get(j, "Cids"), t.key, &t.n_key) < 0 ||
        cids_from_json(json_object_get(b0, "Parents"), t.parents, &t.n_parents) < 0)
        return seterr(VC_EPARSE, "node sent a malformed TipSet");
    t.height = json_integer_value(json_object_get(j, "Height"));
    const char *bf = json_string_value(json_object_get(b0, "ParentBaseFee"));
    if (bf)
        vc_bigint_from_string(bf, &t.parent_base_fee);
    *ret = t;
    return 0;
}

static int get_tipset(msgr_service_t *s, const vc_cid_t *key, size_t n, tipset_t *ret)
{
    json_t *res = NULL;
    int r = msgr_service_node_call(s, "ChainGetTipSet", json_pack("[o]", cids_json(key, n)), &res);
    if (r < 0)
        return r;
    r = tipset_from_json(res, ret);
    json_decref(res);
    return r;
}

static bool key_equal(const vc_cid_t *a, size_t na, const vc_cid_t *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!vc_cid_equal(&a[i], &b[i]))
            return false;
    return true;
}

static int receipt_from_json(const json_t *j, msgr_receipt_t *ret)
{
    msgr_receipt_t rc = {.exit_code = json_integer_value(json_object_get(j, "ExitCode")),
                         .gas_used = json_integer_value(json_object_get(j, "GasUsed"))};
    const char *b = json_string_value(json_object_get(j, "Return"));
    if (b && *b && vc_base64_decode(b, strlen(b), &rc.ret, &rc.ret_len) < 0)
        return VC_EPARSE;
    *ret = rc;
    return 0;
}

/* ------------------------------------------------------------------ filled resync (4.8) */

static int resync_one(msgr_service_t *s, const msgr_message_t *m)
{
    json_t *res = NULL;
    if (!m->signed_cid.len)
        return seterr(-EINVAL, "message %s has no signed cid", m->id);
    int r = msgr_service_node_call(s, "StateSearchMsg", json_pack("[[], o, i, b]", vc_cid_to_json(&m->signed_cid), -1, 1),
                                   &res);
    if (r < 0)
        return r;
    if (json_is_null(res)) {
        json_decref(res);
        return seterr(-ENOENT, "message %s not found on chain", m->id);
    }
    msgr_receipt_t rc = {0};
    vc_cid_t tsk[MAX_TSK];
    size_t n = 0;
    r = receipt_from_json(json_object_get(res, "Receipt"), &rc);
    if (r == 0)
        r = cids_from_json(json_object_get(res, "TipSet"), tsk, &n);
    if (r == 0)
        r = msgr_store_msg_set_onchain(s->o.store, m->id, json_integer_value(json_object_get(res, "Height")), &rc,
                                       tsk, n);
    if (r < 0)
        seterr(r, "%s", msgr_store_errmsg());
    free(rc.ret);
    json_decref(res);
    return r;
}

int msgr_service_update_filled(msgr_service_t *s, const char *id)
{
    msgr_message_t m;
    int r = msgr_store_msg_get(s->o.store, id, &m);
    if (r < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    if (m.state == MSGR_MSG_ONCHAIN || m.state == MSGR_MSG_NONCE_CONFLICT)
        r = seterr(-EINVAL, "message state(%s) has been final, can not update", msgr_msg_state_name(m.state));
    else if (m.state != MSGR_MSG_FILL)
        r = seterr(-EINVAL, "need FillMsg got %s", msgr_msg_state_name(m.state));
    else
        r = resync_one(s, &m);
    msgr_message_done(&m);
    return r;
}

int msgr_service_update_all_filled(msgr_service_t *s)
{
    msgr_message_t *v = NULL;
    size_t n = 0;
    int r = msgr_store_msg_list_by_state(s->o.store, MSGR_MSG_FILL, true, 0, &v, &n);
    if (r < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    int ok = 0;
    for (size_t i = 0; i < n; i++)
        if (resync_one(s, &v[i]) == 0)
            ok++;
    msgr_messages_free(v, n);
    return ok;
}

/* ------------------------------------------------------------------ HA terms */

/*
 * A term is the lease term some work belongs to. Work that assigns or changes nonces and
 * signatures takes the term when it starts (term_get) and hands term_fence() to every store
 * write, so a write that outlives the term (lease lost, paused, promoted elsewhere, process
 * stopped past its deadline) is refused by the database; before pushing, term_live() checks
 * that the term still runs here.
 */
typedef struct term {
    vc_ha_elector_t *e; /* NULL: HA off, always the leader */
    int64_t token;
    msgr_fence_t fence; /* .userdata points at this struct: do not copy a term */
} term_t;

static int term_check(vc_db_conn_t *c, void *userdata)
{
    const term_t *t = userdata;
    return vc_ha_check_fence(c, vc_ha_elector_service(t->e), vc_ha_elector_scope(t->e), vc_ha_elector_holder(t->e),
                             t->token);
}

/* The term of elector e (the sending lease, or the head lease in group mode); false (and no
 * term) while this instance does not hold it. */
static bool term_of(vc_ha_elector_t *e, term_t *t)
{
    t->e = e;
    t->token = 0;
    t->fence = (msgr_fence_t){.check = term_check, .userdata = t};
    return !e || vc_ha_is_leader(e, &t->token);
}

/* The sending term: nonces, signatures, pushes. */
static bool term_get(msgr_service_t *s, term_t *t)
{
    return term_of(s->elector, t);
}

static const msgr_fence_t *term_fence(const term_t *t)
{
    return t->e ? &t->fence : NULL;
}

static bool term_live(const term_t *t)
{
    int64_t tok = 0;
    return !t->e || (vc_ha_is_leader(t->e, &tok) && tok == t->token);
}

/* Group mode ([HA] Addresses): whether this instance's scope covers addr. */
static bool in_group(const msgr_service_t *s, const char *addr)
{
    if (!s->o.ha_addresses || !s->o.ha_addresses[0])
        return true;
    for (char **a = s->o.ha_addresses; *a; a++)
        if (vc_streq(*a, addr))
            return true;
    return false;
}

/* The error of an API write sent to a standby. */
static int standby_error(void)
{
    return seterr(VC_ENOTLEADER, "this venus-messager instance is a standby (it does not hold the messager "
                                 "lease): send this request to the leader (`venus-messager ha status` shows the holder)");
}

/* The error of an API write for an address another [HA] group sends for. */
static int group_error(const char *addr)
{
    return seterr(VC_ENOTLEADER, "address %s is not in this venus-messager's [HA] Addresses: send this request to "
                                 "an instance of its group", addr);
}

/* ------------------------------------------------------------------ publishing (4.5) */

static json_t *signed_json(const msgr_message_t *m)
{
    vc_signed_message_t sm = {.message = m->msg, .signature = m->signature};
    json_t *j = NULL;
    return vc_signed_message_to_json(&sm, 'f', false, &j) < 0 ? NULL : j;
}

/* MpoolBatchPushUntrusted of the given rows to the main node and (queued, msgr-fanout.h) to the
 * extra nodes. The main node's errors other than nonce-too-low / duplicate are written to the
 * rows' error_msg (by id, so for every signature type: spec 10 #8). */
static int publish(msgr_service_t *s, const msgr_message_t *v, size_t n)
{
    if (n == 0)
        return 0;
    json_t *arr = json_array();
    const char **ids = calloc(n, sizeof(*ids));
    int r = 0;
    if (!arr || !ids) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = v[i].id;
        json_t *j = signed_json(&v[i]);
        if (!j || json_array_append_new(arr, j) < 0) {
            r = -ENOMEM;
            goto out;
        }
    }
    if (s->fanout)
        msgr_fanout_publish(s->fanout, arr);
    /* one sender per batch (a round's address, or one message): its address binds the push to
     * one node of the pool, so its nonces arrive in order */
    char seed[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(&v[0].msg.from, 'f', seed);
    r = node_call_seed(s, "MpoolBatchPushUntrusted", json_pack("[O]", arr), seed, NULL);
    if (r < 0 && r != VC_ETRANSPORT && !msgr_push_error_ignorable(errbuf)) {
        vc_logkv(VC_LOG_WARNING, "publisher", "push failed", "error", errbuf, NULL);
        (void)msgr_store_msg_set_errors(s->o.store, ids, n, errbuf);
    } else if (r < 0) {
        vc_logkv(VC_LOG_INFO, "publisher", "push answered, ignoring", "error", errbuf, NULL);
        r = 0;
    }
out:
    json_decref(arr);
    free(ids);
    return r;
}

int msgr_service_republish(msgr_service_t *s, const char *id)
{
    msgr_message_t m;
    int r = msgr_store_msg_get(s->o.store, id, &m);
    if (r < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    if (m.state != MSGR_MSG_FILL)
        r = seterr(-EINVAL, "need FillMsg got %s", msgr_msg_state_name(m.state));
    else
        r = publish(s, &m, 1);
    msgr_message_done(&m);
    return r;
}

/* ------------------------------------------------------------------ selection (4.4) */

static int sign_message(msgr_service_t *s, const char *from, char **accounts, const vc_message_t *m,
                        vc_signature_t *ret)
{
    vc_buf_t cbor = {0};
    vc_cid_t cid;
    json_t *res = NULL;
    int r = vc_message_encode(m, &cbor);
    if (r < 0 || (r = vc_message_cid(m, &cid)) < 0) {
        vc_buf_done(&cbor);
        return seterr(r, "encode message: %s", vc_strerror(r));
    }
    char *extra = vc_base64_encode((const uint8_t *)cbor.data, cbor.len);
    char *tosign = vc_base64_encode(cid.bytes, cid.len);
    vc_buf_done(&cbor);
    if (!extra || !tosign) {
        free(extra);
        free(tosign);
        return -ENOMEM;
    }
    r = gw_call(s, "Gateway.WalletSign",
                 json_pack("[s, o, s, {s:s, s:s}]", from, strv_json(accounts), tosign, "Type", "message", "Extra",
                           extra),
                 &res);
    free(extra);
    free(tosign);
    if (r < 0)
        return r;
    r = vc_signature_from_json(res, ret);
    json_decref(res);
    return r < 0 ? seterr(r, "gateway sent a malformed signature") : 0;
}

/* The actor code of `to`, cached for the round. */
typedef struct code_cache {
    char addr[VC_ADDRESS_STRLEN_MAX];
    vc_cid_t code;
    bool found;
} code_cache_t;

static int actor_code(msgr_service_t *s, const vc_address_t *to, code_cache_t *cache, size_t *n_cache,
                      size_t cap, vc_cid_t *ret, bool *found)
{
    char a[VC_ADDRESS_STRLEN_MAX];
    json_t *res = NULL;
    vc_address_to_string(to, 'f', a);
    for (size_t i = 0; i < *n_cache; i++)
        if (vc_streq(cache[i].addr, a)) {
            *found = cache[i].found;
            *ret = cache[i].code;
            return 0;
        }
    int r = msgr_service_node_call(s, "StateGetActor", json_pack("[s, []]", a), &res);
    bool ok = r == 0 && vc_cid_from_json(json_object_get(res, "Code"), ret) == 0;
    json_decref(res);
    if (r < 0 && !strstr(errbuf, "not found"))
        return r;
    *found = ok;
    if (*n_cache < cap) {
        code_cache_t *c = &cache[(*n_cache)++];
        snprintf(c->addr, sizeof(c->addr), "%s", a);
        c->found = ok;
        if (ok)
            c->code = *ret;
    }
    return 0;
}

/* One sender's round; unfilled: the ids of its newest unfilled messages (from the round's scan). */
static void select_address(msgr_service_t *s, const term_t *term, const tipset_t *ts,
                           const msgr_shared_spec_t *shared, const msgr_address_t *a, const msgr_applied_t *applied_in_ts,
                           const char *const *unfilled, size_t n_unfilled)
{
    char **accounts = NULL;
    json_t *res = NULL, *est = NULL, *results = NULL;
    msgr_message_t *to_push = NULL, *cands = NULL;
    size_t n_push = 0, n_cands = 0, n_fills = 0, n_errs = 0, n_est = 0;
    msgr_fill_t *fills = NULL;
    msgr_msg_error_t *errs = NULL;
    char **err_texts = NULL;
    size_t *est_idx = NULL;
    uint64_t chain_nonce = 0, db_nonce = 0, applied = 0;
    code_cache_t codes[64];
    size_t n_codes = 0;
    int r;

    if (msgr_service_signer_users(s, a->addr, &accounts, NULL) < 0)
        vc_logkv(VC_LOG_WARNING, "msg-select", "cannot list the signer's users, ignoring", "addr", a->addr, "error",
                 errbuf, NULL);
    r = msgr_service_node_call(s, "StateGetActor", json_pack("[s, o]", a->addr, cids_json(ts->key, ts->n_key)), &res);
    if (r < 0) {
        vc_logkv(VC_LOG_INFO, "msg-select", "no actor for address, skipping", "addr", a->addr, "error", errbuf, NULL);
        goto out;
    }
    chain_nonce = (uint64_t)json_integer_value(json_object_get(res, "Nonce"));
    json_decref(res);
    res = NULL;
    if (msgr_applied_get(applied_in_ts, a->addr, &applied))
        chain_nonce = applied;
    if ((r = msgr_store_addr_sync_nonce(s->o.store, a->addr, chain_nonce, term_fence(term), &db_nonce)) < 0) {
        vc_logkv(VC_LOG_WARNING, "msg-select", "sync nonce failed", "addr", a->addr, "error", msgr_store_errmsg(), NULL);
        goto out;
    }
    if ((r = msgr_store_msg_list_filled(s->o.store, a->addr, chain_nonce, &to_push, &n_push)) < 0)
        goto out;
    uint64_t want = msgr_select_want(a->sel_msg_num, shared->sel_msg_num, db_nonce, chain_nonce);
    if (want > n_unfilled)
        want = n_unfilled;
    if (want > 0 && (r = msgr_store_msg_get_unfilled(s->o.store, a->addr, unfilled, want, &cands, &n_cands)) < 0)
        goto out;
    if (n_cands == 0)
        goto push;

    est = json_array();
    est_idx = calloc(n_cands, sizeof(*est_idx));
    fills = calloc(n_cands, sizeof(*fills));
    errs = calloc(n_cands, sizeof(*errs));
    err_texts = calloc(n_cands, sizeof(*err_texts));
    if (!est || !est_idx || !fills || !errs || !err_texts)
        goto out;
    for (size_t i = 0; i < n_cands; i++) {
        vc_message_t *m = &cands[i].msg;
        vc_cid_t code;
        bool has_code = false;
        msgr_actor_cfg_t cfg;
        bool has_cfg = false;
        if (actor_code(s, &m->to, codes, &n_codes, 64, &code, &has_code) < 0) {
            vc_logkv(VC_LOG_WARNING, "msg-select", "actor lookup failed, skipping the address this round", "addr",
                     a->addr, "error", errbuf, NULL);
            n_est = 0;
            goto push;
        }
        if (has_code && msgr_store_actor_cfg_get_by_method(s->o.store, &code, m->method, &cfg) == 0)
            has_cfg = true;
        msgr_merged_fee_t f;
        msgr_fee_merge(&cands[i].meta, &a->fee, has_cfg ? &cfg.fee : NULL, &shared->fee, &f);
        if (msgr_fee_gate_blocks(&f, &ts->parent_base_fee))
            continue;
        if (vc_bigint_is_zero(&m->gas_fee_cap) && !vc_bigint_is_zero(&f.gas_fee_cap))
            m->gas_fee_cap = f.gas_fee_cap;
        json_t *mj = NULL;
        if (vc_message_to_json(m, 'f', false, &mj) < 0)
            goto out;
        json_array_append_new(est, json_pack("{s:o, s:{s:o, s:f, s:f}}", "Msg", mj, "Spec", "MaxFee",
                                             msgr_bigint_to_json(&f.max_fee), "GasOverEstimation",
                                             f.gas_over_estimation, "GasOverPremium", f.gas_over_premium));
        est_idx[n_est++] = i;
    }
    if (n_est == 0)
        goto push;
    r = msgr_service_node_call(s, "GasBatchEstimateMessageGas",
                               json_pack("[O, I, o]", est, (json_int_t)db_nonce, cids_json(ts->key, ts->n_key)),
                               &results);
    if (r < 0) {
        vc_logkv(VC_LOG_WARNING, "msg-select", "batch estimate failed", "addr", a->addr, "error", errbuf, NULL);
        goto push;
    }
    uint64_t count = 0;
    for (size_t k = 0; k < n_est && k < json_array_size(results); k++) {
        json_t *e = json_array_get(results, k);
        msgr_message_t *c = &cands[est_idx[k]];
        const char *eerr = json_string_value(json_object_get(e, "Err"));
        char text[MSGR_ERRMSG_MAX];
        if (eerr && *eerr) {
            snprintf(text, sizeof(text), "gas estimate: %s", eerr);
            goto record;
        }
        if (count >= want)
            break;
        vc_message_t em = {0};
        if (vc_message_from_json(json_object_get(e, "Msg"), &em) < 0) {
            snprintf(text, sizeof(text), "gas estimate: malformed estimate");
            goto record;
        }
        if (em.gas_limit > MSGR_GAS_LIMIT_MAX) {
            snprintf(text, sizeof(text), "gas estimate:  gas limit %lld over limit %lld", (long long)em.gas_limit,
                     (long long)MSGR_GAS_LIMIT_MAX);
            vc_message_done(&em);
            goto record;
        }
        c->msg.nonce = db_nonce + count;
        c->msg.gas_limit = em.gas_limit;
        c->msg.gas_fee_cap = em.gas_fee_cap;
        c->msg.gas_premium = em.gas_premium;
        vc_message_done(&em);
        vc_signature_t sig;
        if (!term_live(term))
            break; /* the lease is gone: nothing more is signed, the fill below is refused */
        if (sign_message(s, a->addr, accounts, &c->msg, &sig) < 0) {
            snprintf(text, sizeof(text), "sign message failed: %s", errbuf);
            errs[n_errs].id = c->id;
            errs[n_errs].error_msg = err_texts[n_errs] = strdup(text);
            n_errs++;
            break;
        }
        msgr_fill_t *fl = &fills[n_fills++];
        fl->id = c->id;
        fl->nonce = c->msg.nonce;
        fl->gas_limit = c->msg.gas_limit;
        fl->gas_fee_cap = c->msg.gas_fee_cap;
        fl->gas_premium = c->msg.gas_premium;
        fl->signature = sig;
        vc_message_cid(&c->msg, &fl->unsigned_cid);
        vc_signed_message_t sm = {.message = c->msg, .signature = sig};
        vc_signed_message_cid(&sm, &fl->signed_cid);
        c->signature = sig;
        c->has_signature = true;
        c->state = MSGR_MSG_FILL;
        count++;
        continue;
    record:
        errs[n_errs].id = c->id;
        errs[n_errs].error_msg = err_texts[n_errs] = strdup(text);
        n_errs++;
    }
    if (n_fills || n_errs) {
        r = msgr_store_msg_fill(s->o.store, a->addr, db_nonce, fills, n_fills, errs, n_errs, term_fence(term));
        if (r == VC_ESTALE || r == VC_ENOTLEADER) {
            vc_logkv(VC_LOG_WARNING, "msg-select", "the messager lease was lost: the round's signatures are dropped",
                     "addr", a->addr, NULL);
            goto out;
        } else if (r < 0) {
            vc_logkv(VC_LOG_WARNING, "msg-select", "saving the round failed", "addr", a->addr, "error",
                     msgr_store_errmsg(), NULL);
            n_fills = 0;
        } else if (n_fills) {
            char nb[32];
            snprintf(nb, sizeof(nb), "%zu", n_fills);
            vc_logkv(VC_LOG_INFO, "msg-select", "selected messages", "addr", a->addr, "count", nb, NULL);
        }
    }
push:
    if (!s->o.skip_push && term_live(term)) {
        /* toPush first, then the new ones (already nonce-ordered) */
        size_t total = n_push + n_fills, j = 0;
        msgr_message_t *all = total ? calloc(total, sizeof(*all)) : NULL;
        if (all) {
            for (size_t i = 0; i < n_push; i++)
                all[j++] = to_push[i];
            for (size_t i = 0; i < n_cands && fills; i++)
                if (cands[i].state == MSGR_MSG_FILL && n_fills)
                    all[j++] = cands[i];
            (void)publish(s, all, j);
            free(all);
        }
    }
out:
    json_decref(res);
    json_decref(est);
    json_decref(results);
    free(accounts);
    for (size_t i = 0; err_texts && i < n_errs; i++)
        free(err_texts[i]);
    free(err_texts);
    free(errs);
    free(fills);
    free(est_idx);
    msgr_messages_free(to_push, n_push);
    msgr_messages_free(cands, n_cands);
}

/* A round's addresses on the selection workers; the round waits for the last. */
typedef struct select_round {
    msgr_service_t *s;
    const term_t *term;
    const tipset_t *ts;
    const msgr_shared_spec_t *shared;
    const msgr_applied_t *in_ts; /* appliedNonce of the head's messages; NULL = none */
    const msgr_cands_t *cands; /* NULL: no new messages this round */
    pthread_mutex_t lock;
    pthread_cond_t done;
    size_t left; /* jobs not finished (under lock) */
} select_round_t;

typedef struct select_job {
    select_round_t *round;
    const msgr_address_t *a;
    size_t i; /* in the round's addresses and cands */
} select_job_t;

static void select_one(select_round_t *x, const msgr_address_t *a, size_t i)
{
    size_t n = 0;
    const char *const *ids = x->cands ? msgr_cands_of(x->cands, i, &n) : NULL;
    select_address(x->s, x->term, x->ts, x->shared, a, x->in_ts, ids, n);
}

static void select_job(void *arg)
{
    select_job_t *j = arg;
    select_round_t *x = j->round;

    if (term_live(x->term))
        select_one(x, j->a, j->i);
    pthread_mutex_lock(&x->lock);
    if (--x->left == 0)
        pthread_cond_signal(&x->done);
    pthread_mutex_unlock(&x->lock);
}

static void select_all(msgr_service_t *s, const term_t *term, const tipset_t *ts, const msgr_shared_spec_t *shared,
                       const msgr_address_t *addrs, size_t n, const msgr_applied_t *in_ts,
                       const msgr_cands_t *cands)
{
    select_round_t x = {.s = s, .term = term, .ts = ts, .shared = shared, .in_ts = in_ts, .cands = cands};
    select_job_t *jobs = n ? calloc(n, sizeof(*jobs)) : NULL;
    pthread_mutex_init(&x.lock, NULL);
    pthread_cond_init(&x.done, NULL);
    for (size_t i = 0; i < n && term_live(term); i++) {
        if (!in_group(s, addrs[i].addr))
            continue;
        if (jobs && s->selq) {
            jobs[i] = (select_job_t){.round = &x, .a = &addrs[i], .i = i};
            pthread_mutex_lock(&x.lock);
            x.left++;
            pthread_mutex_unlock(&x.lock);
            if (vc_workq_submit(s->selq, select_job, &jobs[i]) == 0)
                continue;
            pthread_mutex_lock(&x.lock);
            x.left--;
            pthread_mutex_unlock(&x.lock);
        }
        select_one(&x, &addrs[i], i); /* no worker: here */
    }
    pthread_mutex_lock(&x.lock);
    while (x.left > 0)
        pthread_cond_wait(&x.done, &x.lock);
    pthread_mutex_unlock(&x.lock);
    pthread_cond_destroy(&x.done);
    pthread_mutex_destroy(&x.lock);
    free(jobs);
}

/* The round's candidates, from one scan of the unfilled messages; NULL (logged) when it fails:
 * the round then only republishes. */
static msgr_cands_t *round_cands(msgr_service_t *s, const msgr_address_t *addrs, size_t n)
{
    msgr_cands_t *c = msgr_cands_new(addrs, n);
    if (!c) {
        vc_logkv(VC_LOG_WARNING, "msg-select", "out of memory: no message is selected this round", NULL);
        return NULL;
    }
    if (n && msgr_store_msg_unfilled_scan(s->o.store, msgr_cands_add, c) < 0) {
        vc_logkv(VC_LOG_WARNING, "msg-select", "cannot read the unfilled messages: none is selected this round",
                 "error", msgr_store_errmsg(), NULL);
        msgr_cands_free(c);
        return NULL;
    }
    return c;
}

static void run_round(msgr_service_t *s, const term_t *term, const tipset_t *ts)
{
    msgr_shared_spec_t shared;
    msgr_address_t *addrs = NULL;
    size_t n = 0;
    json_t *in_ts = NULL;
    int r = msgr_store_msg_fail_expired(s->o.store, ts->height);
    if (r > 0) {
        char nb[32];
        snprintf(nb, sizeof(nb), "%d", r);
        vc_logkv(VC_LOG_NOTICE, "msg-select", "expired messages failed", "count", nb, NULL);
    }
    if (s->o.skip_push)
        return;
    if (msgr_store_shared_get(s->o.store, &shared) < 0 || msgr_store_addr_list(s->o.store, true, &addrs, &n) < 0) {
        vc_logkv(VC_LOG_WARNING, "msg-select", "cannot read addresses", "error", msgr_store_errmsg(), NULL);
        return;
    }
    msgr_applied_t *applied = NULL;
    if (n && msgr_service_node_call(s, "ChainGetMessagesInTipset", json_pack("[o]", cids_json(ts->key, ts->n_key)),
                                    &in_ts) == 0 &&
        msgr_applied_new(in_ts, &applied) < 0)
        vc_logkv(VC_LOG_WARNING, "msg-select", "cannot read the head's messages: nonces from the actors alone", NULL);
    json_decref(in_ts);
    msgr_cands_t *cands = round_cands(s, addrs, n);
    select_all(s, term, ts, &shared, addrs, n, applied, cands);
    msgr_cands_free(cands);
    msgr_applied_free(applied);
    msgr_addresses_free(addrs, n);
    atomic_fetch_add(&s->rounds, 1);
}

/* ------------------------------------------------------------------ manual operations (4.7) */

int msgr_service_recover_failed(msgr_service_t *s, const char *addr, char ***ret_ids, size_t *ret_n)
{
    char e[sizeof(errbuf)];
    json_t *res = NULL;
    msgr_address_t a;
    term_t term;
    *ret_ids = NULL;
    *ret_n = 0;
    if (!term_get(s, &term))
        return standby_error();
    char canon[VC_ADDRESS_STRLEN_MAX];
    if (msgr_addr_canon(addr, canon) == 0 && !in_group(s, canon))
        return group_error(canon);
    int r = msgr_service_node_call(s, "StateGetActor", json_pack("[s, []]", addr), &res);
    if (r < 0) {
        snprintf(e, sizeof(e), "%s", errbuf);
        return seterr(r, "get actor %s: %s", addr, e);
    }
    json_t *jn = json_object_get(res, "Nonce");
    if (!json_is_integer(jn) || json_integer_value(jn) < 0) {
        json_decref(res);
        return seterr(VC_EPARSE, "get actor %s: no Nonce in the answer", addr);
    }
    uint64_t actor_nonce = (uint64_t)json_integer_value(jn);
    json_decref(res);
    if ((r = msgr_store_addr_get(s->o.store, addr, &a)) < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    uint64_t db_nonce = a.nonce;
    msgr_address_done(&a);
    if (db_nonce < actor_nonce)
        return 0;
    if ((r = msgr_store_msg_recover_failed(s->o.store, addr, actor_nonce, term_fence(&term), ret_ids, ret_n)) < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    return 0;
}

static const vc_bigint_t *big_max(const vc_bigint_t *a, const vc_bigint_t *b)
{
    return vc_bigint_cmp(a, b) >= 0 ? a : b;
}

/* MpoolGetConfig().ReplaceByFeeRatio as a percent (a lotus Percent: 1.25 on the wire; a bare
 * integer >= 10 is taken as already in percent). */
static int rbf_percent(msgr_service_t *s, int64_t *ret)
{
    json_t *res = NULL;
    int r = msgr_service_node_call(s, "MpoolGetConfig", NULL, &res);
    if (r < 0)
        return r;
    json_t *v = json_object_get(res, "ReplaceByFeeRatio");
    double d = json_number_value(v);
    json_decref(res);
    if (d <= 0)
        return seterr(VC_EPARSE, "MpoolGetConfig: no ReplaceByFeeRatio in the answer");
    *ret = d < 10 ? (int64_t)(d * 100 + 0.5) : (int64_t)d;
    return 0;
}

static int replace_auto(msgr_service_t *s, const msgr_replace_params_t *p, msgr_message_t *m)
{
    char e[sizeof(errbuf)];
    int64_t pct = 0;
    vc_bigint_t min_rbf, t, one, hundred;
    json_t *mj = NULL, *res = NULL;
    int r = rbf_percent(s, &pct);
    if (r < 0) {
        snprintf(e, sizeof(e), "%s", errbuf);
        return seterr(r, "failed to get the mpool config: %s", e);
    }
    if (pct < 110)
        pct = 110; /* the 1.10x floor */
    vc_bigint_from_i64(pct, &t);
    vc_bigint_from_i64(100, &hundred);
    vc_bigint_from_i64(1, &one);
    if ((r = vc_bigint_mul_ratio(&m->msg.gas_premium, &t, &hundred, &min_rbf)) < 0 ||
        (r = vc_bigint_add(&min_rbf, &one, &min_rbf)) < 0)
        return seterr(r, "computing the minimum replace-by-fee premium: %s", vc_strerror(r));

    m->msg.gas_fee_cap = VC_BIGINT_ZERO;
    m->msg.gas_premium = VC_BIGINT_ZERO;
    if ((r = vc_message_to_json(&m->msg, 'f', false, &mj)) < 0)
        return seterr(r, "encode message: %s", vc_strerror(r));
    r = msgr_service_node_call(
        s, "GasEstimateMessageGas",
        json_pack("[o, {s:o, s:f}, []]", mj, "MaxFee", msgr_bigint_to_json(&p->max_fee), "GasOverPremium",
                  p->gas_over_premium),
        &res);
    if (r < 0) {
        snprintf(e, sizeof(e), "%s", errbuf);
        return seterr(r, "failed to estimate gas values: %s", e);
    }
    vc_message_t em = {0};
    r = vc_message_from_json(res, &em);
    json_decref(res);
    if (r < 0)
        return seterr(r, "failed to estimate gas values: malformed answer");
    vc_bigint_t premium = *big_max(&em.gas_premium, &min_rbf);
    vc_bigint_t feecap = *big_max(&em.gas_fee_cap, &premium);
    vc_message_done(&em);

    /* MaxFee: params > address > actor cfg (code of To, method) > shared */
    msgr_send_spec_t meta = {.max_fee = p->max_fee};
    msgr_address_t a;
    bool has_addr = false, has_cfg = false, has_code = false;
    msgr_actor_cfg_t cfg;
    msgr_shared_spec_t shared;
    char from[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(&m->msg.from, 'f', from);
    if (msgr_store_addr_get(s->o.store, from, &a) == 0)
        has_addr = true;
    code_cache_t cc[1];
    size_t ncc = 0;
    vc_cid_t code;
    if (actor_code(s, &m->msg.to, cc, &ncc, 1, &code, &has_code) == 0 && has_code &&
        msgr_store_actor_cfg_get_by_method(s->o.store, &code, m->msg.method, &cfg) == 0)
        has_cfg = true;
    bool has_shared = msgr_store_shared_get(s->o.store, &shared) == 0;
    msgr_merged_fee_t f;
    msgr_fee_merge(&meta, has_addr ? &a.fee : NULL, has_cfg ? &cfg.fee : NULL, has_shared ? &shared.fee : NULL, &f);
    if (has_addr)
        msgr_address_done(&a);

    /* CapGasFee; a MaxFee that resolves to 0 everywhere means no cap */
    if (!vc_bigint_is_zero(&f.max_fee) && m->msg.gas_limit > 0) {
        vc_bigint_t gl, total;
        vc_bigint_from_i64(m->msg.gas_limit, &gl);
        if ((r = vc_bigint_mul(&feecap, &gl, &total)) < 0)
            return seterr(r, "fee cap overflow");
        if (vc_bigint_cmp(&total, &f.max_fee) > 0 && (r = vc_bigint_div(&f.max_fee, &gl, &feecap)) < 0)
            return seterr(r, "fee cap: %s", vc_strerror(r));
    }
    if (vc_bigint_cmp(&premium, &feecap) > 0)
        premium = feecap;
    m->msg.gas_fee_cap = feecap;
    m->msg.gas_premium = premium;
    return 0;
}

static int replace_manual(const msgr_replace_params_t *p, msgr_message_t *m)
{
    char a[VC_BIGINT_STRLEN_MAX], b[VC_BIGINT_STRLEN_MAX];
    if (p->gas_limit > 0)
        m->msg.gas_limit = p->gas_limit;
    if (vc_bigint_sign(&p->gas_premium) <= 0) {
        vc_bigint_to_string(&p->gas_premium, a, sizeof(a));
        return seterr(-EINVAL, "gas premium(%s) must bigger than zero", a);
    }
    if (vc_bigint_sign(&p->gas_fee_cap) <= 0) {
        vc_bigint_to_string(&p->gas_fee_cap, a, sizeof(a));
        return seterr(-EINVAL, "gas feecap(%s) must bigger than zero", a);
    }
    /* upstream compares the old values here (spec 10): the new ones are what goes on chain */
    if (vc_bigint_cmp(&p->gas_fee_cap, &p->gas_premium) < 0) {
        vc_bigint_to_string(&p->gas_fee_cap, a, sizeof(a));
        vc_bigint_to_string(&p->gas_premium, b, sizeof(b));
        return seterr(-EINVAL, "gas feecap(%s) must bigger than gas premium(%s)", a, b);
    }
    m->msg.gas_premium = p->gas_premium;
    m->msg.gas_fee_cap = p->gas_fee_cap;
    return 0;
}

int msgr_service_replace(msgr_service_t *s, const msgr_replace_params_t *p, vc_cid_t *ret)
{
    char e[sizeof(errbuf)], from[VC_ADDRESS_STRLEN_MAX];
    char **accounts = NULL;
    msgr_message_t m;
    vc_signature_t sig;
    term_t term;
    if (!p->id || !*p->id)
        return seterr(-EINVAL, "empty uid");
    if (!term_get(s, &term))
        return standby_error();
    int r = msgr_store_msg_get(s->o.store, p->id, &m);
    if (r == -ENOENT)
        return seterr(r, "get message by id error: record not found");
    if (r < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    if (m.state == MSGR_MSG_ONCHAIN) {
        r = seterr(-EINVAL, "message already on chain");
        goto out;
    }
    if (m.state != MSGR_MSG_FILL) {
        r = seterr(-EINVAL, "need FillMsg got %s", msgr_msg_state_name(m.state));
        goto out;
    }
    vc_address_to_string(&m.msg.from, 'f', from);
    if (!in_group(s, from)) {
        r = group_error(from);
        goto out;
    }
    if ((r = p->auto_ ? replace_auto(s, p, &m) : replace_manual(p, &m)) < 0)
        goto out;
    if (msgr_service_signer_users(s, from, &accounts, NULL) < 0)
        accounts = NULL; /* sign with no accounts: the gateway decides */
    if ((r = sign_message(s, from, accounts, &m.msg, &sig)) < 0) {
        snprintf(e, sizeof(e), "%s", errbuf);
        r = seterr(r, "sign message failed: %s", e);
        goto out;
    }
    msgr_replace_t rp = {.id = p->id,
                         .gas_limit = m.msg.gas_limit,
                         .gas_fee_cap = m.msg.gas_fee_cap,
                         .gas_premium = m.msg.gas_premium,
                         .signature = sig};
    vc_signed_message_t sm = {.message = m.msg, .signature = sig};
    if ((r = vc_message_cid(&m.msg, &rp.unsigned_cid)) < 0 || (r = vc_signed_message_cid(&sm, &rp.signed_cid)) < 0) {
        r = seterr(r, "message cid: %s", vc_strerror(r));
        goto out;
    }
    if ((r = msgr_store_msg_replace(s->o.store, &rp, term_fence(&term))) < 0) {
        r = seterr(r, "%s", msgr_store_errmsg());
        goto out;
    }
    m.signature = sig;
    m.has_signature = true;
    m.unsigned_cid = rp.unsigned_cid;
    m.signed_cid = rp.signed_cid;
    *ret = rp.signed_cid;
    if (!s->o.skip_push && term_live(&term) && publish(s, &m, 1) < 0)
        vc_logkv(VC_LOG_WARNING, "publisher", "push of the replacement failed", "id", p->id, "error", errbuf, NULL);
    char nb[16];
    snprintf(nb, sizeof(nb), "%d", p->auto_ ? 1 : 0);
    vc_logkv(VC_LOG_NOTICE, "service", "message replaced", "id", p->id, "auto", nb, NULL);
    r = 0;
out:
    free(accounts);
    msgr_message_done(&m);
    return r;
}

/* ParamsType json (spec 4.1 step 5): the params typed by the method of the To actor's code. */
static int send_params_from_json(msgr_service_t *s, const msgr_quick_send_t *q, uint8_t **ret,
                                 size_t *ret_len)
{
    char to[VC_ADDRESS_STRLEN_MAX], e[sizeof(errbuf)], code_s[VC_CID_STRLEN_MAX];
    json_t *act = NULL;
    vc_cid_t code;
    const char *actor = NULL;
    int version = 0;
    vc_address_to_string(&q->to, 'f', to);
    int r = msgr_service_node_call(s, "StateGetActor", json_pack("[s, []]", to), &act);
    if (r < 0) {
        snprintf(e, sizeof(e), "%s", errbuf);
        return seterr(r, "failed to decode json params: %s", e);
    }
    r = vc_cid_from_json(json_object_get(act, "Code"), &code);
    json_decref(act);
    if (r < 0)
        return seterr(VC_EPARSE, "failed to decode json params: no actor code in the StateGetActor answer");
    const msgr_builtin_method_t *m = msgr_builtin_actor_of(&code, &actor, &version)
                                         ? msgr_builtin_method(version, actor, q->method)
                                         : NULL;
    if (!m) {
        vc_cid_to_string(&code, code_s);
        return seterr(-ENOENT, "failed to decode json params: method %" PRIu64 " not found on actor %s",
                      q->method, code_s);
    }
    if ((r = msgr_builtin_params_from_json(m, q->params, ret, ret_len)) < 0)
        return seterr(r, "failed to decode json params: unmarshaling input into params type: %s",
                      msgr_types_errmsg());
    return 0;
}

int msgr_service_send(msgr_service_t *s, const msgr_quick_send_t *q, char ret_id[MSGR_ID_MAX + 1])
{
    vc_message_t m = {0};
    uint8_t *params = NULL;
    size_t plen = 0;
    int r;
    if (q->method == 0)
        return seterr(-EINVAL, "do not use it to send funds");
    const char *pt = q->params_type ? q->params_type : "";
    if (vc_streq(pt, "json")) {
        if ((r = send_params_from_json(s, q, &params, &plen)) < 0)
            return r;
    } else if (vc_streq(pt, "hex")) {
        const char *h = q->params ? q->params : "";
        if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
            h += 2;
        if ((r = vc_hex_decode_alloc(h, &params, &plen)) < 0)
            return seterr(r, "encoding/hex: invalid params");
    } else {
        return seterr(-EINVAL, "unexpected param type %s", pt);
    }
    m.to = q->to;
    m.from = q->from;
    m.value = q->val;
    m.method = q->method;
    if (q->has_gas_limit)
        m.gas_limit = q->gas_limit;
    if (q->has_gas_premium)
        m.gas_premium = q->gas_premium;
    if (q->has_gas_fee_cap)
        m.gas_fee_cap = q->gas_fee_cap;
    if (plen && (r = vc_message_set_params(&m, params, plen)) < 0) {
        free(params);
        return seterr(r, "params: %s", vc_strerror(r));
    }
    free(params);
    r = msgr_service_push(s, NULL, &m, NULL, "", ret_id);
    vc_message_done(&m);
    return r;
}

/* ------------------------------------------------------------------ head tracking (4.2, 4.6) */

/* The messages included in p, executed in its child c (whose first block holds the receipts). */
static int load_apply(msgr_service_t *s, const tipset_t *c, const tipset_t *p, msgr_tipset_apply_t *ret,
                      json_t **ret_msgs, json_t **ret_rcpts)
{
    json_t *msgs = NULL, *rcpts = NULL;
    int r = msgr_service_node_call(s, "ChainGetParentMessages", json_pack("[o]", vc_cid_to_json(&c->key[0])), &msgs);
    if (r == 0)
        r = msgr_service_node_call(s, "ChainGetParentReceipts", json_pack("[o]", vc_cid_to_json(&c->key[0])), &rcpts);
    if (r < 0)
        goto fail;
    size_t n = json_array_size(msgs);
    if (json_array_size(rcpts) != n) {
        r = seterr(VC_EPARSE, "parent messages (%zu) and receipts (%zu) differ", n, json_array_size(rcpts));
        goto fail;
    }
    msgr_chain_msg_t *v = n ? calloc(n, sizeof(*v)) : NULL;
    if (n && !v) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(msgs, i), *m = json_object_get(e, "Message");
        v[i].from = json_string_value(json_object_get(m, "From")) ?: "";
        v[i].nonce = (uint64_t)json_integer_value(json_object_get(m, "Nonce"));
        vc_cid_from_json(json_object_get(e, "Cid"), &v[i].cid);
        receipt_from_json(json_array_get(rcpts, i), &v[i].receipt);
    }
    ret->height = p->height;
    ret->key = p->key;
    ret->n_key = p->n_key;
    ret->msgs = v;
    ret->n_msgs = n;
    *ret_msgs = msgs;
    *ret_rcpts = rcpts;
    return 0;
fail:
    json_decref(msgs);
    json_decref(rcpts);
    return r;
}

static void apply_done(msgr_tipset_apply_t *a, json_t *msgs, json_t *rcpts)
{
    for (size_t i = 0; i < a->n_msgs; i++)
        free(((msgr_chain_msg_t *)a->msgs)[i].receipt.ret);
    free((void *)a->msgs);
    json_decref(msgs);
    json_decref(rcpts);
}

/* Brings the store up to `head` (spec 4.2): walks back through parents until a processed
 * (cached) tipset, reverts what the cache holds above it, applies the gap oldest first. */
static int sync_to(msgr_service_t *s, const term_t *term, const tipset_t *head)
{
    msgr_tipset_t *cache = NULL;
    size_t n_cache = 0;
    tipset_t *walk = NULL; /* walk[2i] = child, walk[2i+1] = its parent */
    size_t n_walk = 0;
    int r = msgr_store_tipset_list(s->o.store, CACHE_KEEP, &cache, &n_cache);
    if (r < 0)
        return seterr(r, "%s", msgr_store_errmsg());
    if (n_cache && key_equal(cache[0].key, cache[0].n_key, head->parents, head->n_parents))
        goto out; /* already processed */

    bool resync = n_cache == 0 || head->height - cache[0].height >= CACHE_KEEP;
    int64_t fork_height = -1;
    if (!resync) {
        walk = calloc(2 * WALK_MAX, sizeof(*walk));
        if (!walk) {
            r = -ENOMEM;
            goto out;
        }
        tipset_t cur = *head;
        while (n_walk < WALK_MAX) {
            tipset_t p;
            if ((r = get_tipset(s, cur.parents, cur.n_parents, &p)) < 0)
                goto out;
            walk[2 * n_walk] = cur;
            walk[2 * n_walk + 1] = p;
            n_walk++;
            bool hit = false;
            for (size_t i = 0; i < n_cache && !hit; i++)
                hit = cache[i].height == p.height && key_equal(cache[i].key, cache[i].n_key, p.key, p.n_key);
            if (hit) {
                fork_height = p.height;
                break;
            }
            if (p.height <= cache[n_cache - 1].height && p.height <= 0)
                break;
            cur = p;
        }
        if (fork_height < 0)
            resync = true;
    }
    if (resync) {
        char nb[32];
        snprintf(nb, sizeof(nb), "%d", msgr_service_update_all_filled(s));
        vc_logkv(VC_LOG_NOTICE, "msg-state", "tipset cache empty or far behind: resynced filled messages", "onchain",
                 nb, NULL);
        tipset_t p;
        if ((r = get_tipset(s, head->parents, head->n_parents, &p)) < 0)
            goto out;
        msgr_tipset_t add = {.height = p.height, .key = p.key, .n_key = p.n_key, .parents = p.parents,
                             .n_parents = p.n_parents};
        msgr_head_change_t hc = {.cache_add = &add, .n_cache_add = 1, .cache_keep = CACHE_KEEP};
        if (n_cache)
            msgr_store_tipset_clear(s->o.store);
        r = msgr_store_head_apply(s->o.store, &hc, term_fence(term), NULL);
        if (r < 0)
            seterr(r, "%s", msgr_store_errmsg());
        goto out;
    }

    /* reverts: cached tipsets above the fork; applies: the walk minus its oldest element */
    int64_t *rev = calloc(n_cache + 1, sizeof(*rev));
    size_t n_rev = 0, n_apply = n_walk - 1;
    msgr_tipset_apply_t *ap = calloc(n_apply + 1, sizeof(*ap));
    msgr_tipset_t *add = calloc(n_apply + 1, sizeof(*add));
    json_t **keep = calloc(2 * (n_apply + 1), sizeof(*keep));
    size_t n_loaded = 0;
    if (!rev || !ap || !add || !keep) {
        r = -ENOMEM;
        goto out2;
    }
    for (size_t i = 0; i < n_cache; i++)
        if (cache[i].height > fork_height)
            rev[n_rev++] = cache[i].height;
    for (size_t k = 0; k < n_apply; k++) {
        size_t w = n_apply - 1 - k; /* oldest first */
        const tipset_t *c = &walk[2 * w], *p = &walk[2 * w + 1];
        if ((r = load_apply(s, c, p, &ap[k], &keep[2 * k], &keep[2 * k + 1])) < 0)
            goto out2;
        n_loaded++;
        add[k] = (msgr_tipset_t){.height = p->height, .key = (vc_cid_t *)p->key, .n_key = p->n_key,
                                 .parents = (vc_cid_t *)p->parents, .n_parents = p->n_parents};
    }
    msgr_head_change_t hc = {.revert_heights = rev, .n_revert = n_rev, .apply = ap, .n_apply = n_apply,
                             .cache_add = add, .n_cache_add = n_apply, .cache_keep = CACHE_KEEP};
    msgr_head_result_t res = {0};
    r = msgr_store_head_apply(s->o.store, &hc, term_fence(term), &res);
    if (r < 0)
        seterr(r, "%s", msgr_store_errmsg());
    else if (res.onchain || res.reverted || res.nonce_conflict) {
        char a[32], b[32], c[32], h[32];
        snprintf(a, sizeof(a), "%lld", (long long)res.onchain);
        snprintf(b, sizeof(b), "%lld", (long long)res.reverted);
        snprintf(c, sizeof(c), "%lld", (long long)res.nonce_conflict);
        snprintf(h, sizeof(h), "%lld", (long long)head->height);
        vc_logkv(VC_LOG_INFO, "msg-state", "head processed", "height", h, "onchain", a, "reverted", b,
                 "nonce_conflict", c, NULL);
    }
out2:
    for (size_t k = 0; k < n_loaded; k++)
        apply_done(&ap[k], keep[2 * k], keep[2 * k + 1]);
    free(rev);
    free(ap);
    free(add);
    free(keep);
out:
    free(walk);
    msgr_tipsets_free(cache, n_cache);
    return r;
}

/* The pool's head subscription (vc_nodepool_subscribe_heads): queue the change for the head
 * thread. A resubscription on another node starts with that node's current head. */
static void on_heads(json_t *changes, const char *node, bool fresh, void *userdata)
{
    msgr_service_t *s = userdata;
    if (fresh)
        vc_logkv(VC_LOG_INFO, "service", "following heads", "node", node, NULL);
    pthread_mutex_lock(&s->lock);
    json_array_append(s->queue, changes);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void wait_until(msgr_service_t *s, int64_t deadline_mono_us)
{
    int64_t now = vc_now_mono_us();
    if (deadline_mono_us <= now)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t d = deadline_mono_us - now;
    ts.tv_sec += d / 1000000;
    ts.tv_nsec += (d % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

/* /metrics address_pending_msgs{address,state="unfill"|"fill"}: refreshed at each new head on
 * every instance (one GROUP BY); senders with nothing pending go back to 0. */
static void set_pending(const char *from, int state, int64_t n, void *userdata)
{
    msgr_service_t *s = userdata;
    if (from && (state == MSGR_MSG_UNFILL || state == MSGR_MSG_FILL))
        vc_gauge_set(vc_metric_with(s->m_pending, from, state == MSGR_MSG_UNFILL ? "unfill" : "fill", NULL), (double)n);
}

static void refresh_pending(msgr_service_t *s)
{
    msgr_address_t *addrs = NULL;
    size_t n = 0;
    if (!s->m_pending || msgr_store_addr_list(s->o.store, false, &addrs, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        vc_gauge_set(vc_metric_with(s->m_pending, addrs[i].addr, "unfill", NULL), 0);
        vc_gauge_set(vc_metric_with(s->m_pending, addrs[i].addr, "fill", NULL), 0);
    }
    msgr_addresses_free(addrs, n);
    (void)msgr_store_msg_pending_by_addr(s->o.store, set_pending, s);
}

/* Elector callbacks: wake the head thread, which reads the role itself. */
static void on_lead_change(msgr_service_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->lead_changed = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Group mode's head lease. */
static void on_started_heads(int64_t token, void *userdata)
{
    (void)token;
    vc_logkv(VC_LOG_NOTICE, "ha", "processing heads for every address group", NULL);
    on_lead_change(userdata);
}

static void on_stopped_heads(void *userdata)
{
    vc_logkv(VC_LOG_NOTICE, "ha", "stopped processing heads", NULL);
    on_lead_change(userdata);
}

static void on_started_leading(int64_t token, void *userdata)
{
    char tb[32];
    snprintf(tb, sizeof(tb), "%lld", (long long)token);
    vc_logkv(VC_LOG_NOTICE, "ha", "leading: this instance now assigns nonces, signs and pushes", "token", tb, NULL);
    (void)vc_notify_post(((msgr_service_t *)userdata)->o.notify, "became-leader", tb);
    on_lead_change(userdata);
}

static void on_stopped_leading(void *userdata)
{
    vc_logkv(VC_LOG_NOTICE, "ha", "standing by: this instance stopped signing and pushing", NULL);
    (void)vc_notify_post(((msgr_service_t *)userdata)->o.notify, "stepped-down", "");
    on_lead_change(userdata);
}

/*
 * The head thread: follows ChainNotify on every instance (the head height serves reads), and
 * while this instance leads, processes each new head and runs the selection round after the
 * stable delay. A term that starts here processes the last seen head at once and runs its
 * first round without waiting (re-pushing what the previous leader signed).
 */
static void *head_main(void *arg)
{
    msgr_service_t *s = arg;
    tipset_t head = {0}, seen = {0}, round_ts = {0};
    bool have_head = false, have_seen = false, have_round = false, pending = false;
    int64_t due = 0, term_token = -1, head_token = -1; /* -1: not leading */

    while (true) {
        pthread_mutex_lock(&s->lock);
        while (!s->stopping && json_array_size(s->queue) == 0 && !s->lead_changed &&
               !(pending && vc_now_mono_us() >= due))
            wait_until(s, pending ? due : vc_now_mono_us() + 1000000);
        s->lead_changed = false;
        json_t *q = json_array_size(s->queue) ? json_copy(s->queue) : NULL;
        json_array_clear(s->queue);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stop) {
            json_decref(q);
            break;
        }
        /* only the newest head matters: sync_to fills any gap */
        json_t *latest = NULL;
        for (size_t i = json_array_size(q); i-- > 0 && !latest;) {
            json_t *changes = json_array_get(q, i);
            for (size_t k = json_array_size(changes); k-- > 0 && !latest;) {
                json_t *c = json_array_get(changes, k);
                const char *t = json_string_value(json_object_get(c, "Type"));
                if (vc_streq(t, "apply") || vc_streq(t, "current"))
                    latest = json_object_get(c, "Val");
            }
        }
        tipset_t t;
        if (latest && tipset_from_json(latest, &t) == 0) {
            atomic_store(&s->head_height, t.height);
            seen = t;
            have_seen = true;
            refresh_pending(s);
        }
        json_decref(q);
        /* head processing: the sending lease, or in group mode the head lease */
        term_t ht;
        if (!term_of(s->head_elector ? s->head_elector : s->elector, &ht)) {
            head_token = -1; /* the next term starts from the head it sees then */
            have_head = false;
        } else if (have_seen && !s->o.skip_process_head) {
            bool new_term = ht.token != head_token;
            head_token = ht.token;
            if (new_term || !have_head || !key_equal(seen.key, seen.n_key, head.key, head.n_key)) {
                if (sync_to(s, &ht, &seen) < 0)
                    vc_logkv(VC_LOG_WARNING, "msg-state", "head processing failed, retrying on the next head", "error",
                             errbuf, NULL);
                head = seen;
                have_head = true;
            }
        }
        /* selection: the sending lease, one round per new head after the stable delay (at once
         * when a term starts: it re-pushes what the previous leader signed) */
        term_t term;
        if (!term_get(s, &term)) {
            term_token = -1;
            have_round = pending = false;
        } else if (have_seen && !s->o.skip_process_head) {
            bool new_term = term.token != term_token;
            term_token = term.token;
            if (new_term || !have_round || !key_equal(seen.key, seen.n_key, round_ts.key, round_ts.n_key)) {
                round_ts = seen;
                have_round = true;
                pending = true;
                due = vc_now_mono_us() + (new_term ? 0 : s->o.stable_ms * 1000);
            }
        }
        if (pending && term_token >= 0 && vc_now_mono_us() >= due) {
            pending = false;
            run_round(s, &term, &round_ts);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

int msgr_service_new(const msgr_service_opts_t *opts, msgr_service_t **ret)
{
    msgr_service_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->o = *opts;
    s->queue = json_array();
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (!s->queue) {
        msgr_service_free(s);
        return -ENOMEM;
    }
    atomic_store(&s->block_delay_ms, 30000);
    if (s->o.metrics)
        (void)vc_metrics_gauge(s->o.metrics, "address_pending_msgs",
                               "Messages waiting per sender: state unfill (no nonce yet) or fill (signed, not on chain).",
                               VC_LABELS("address", "state"), &s->m_pending);
    if (vc_ttlcache_new(4096, LOOKUP_CACHE_MS, &s->lookups) < 0 ||
        msgr_pushq_new(s->o.store, &s->pushq) < 0 || vc_workq_new(0, select_workers(s->o.select_concurrency), &s->selq) < 0 ||
        (s->o.multi_node && msgr_fanout_new(s->o.store, &s->fanout) < 0)) {
        msgr_service_free(s);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

/*
 * The database belongs to one chain: its nonces and message states mean nothing on another. The
 * first start records the node's network name; a later start against a node of another network
 * fails (sophon-messager keeps the same guard in tipset.json).
 */
static int check_network(msgr_service_t *s, const char *name)
{
    _cleanup_free_ char *stored = NULL;
    int r = msgr_store_kv_get(s->o.store, "network_name", &stored);
    if (r == -ENOENT)
        return msgr_store_kv_set(s->o.store, "network_name", name) < 0
                   ? seterr(-EIO, "cannot record the network name: %s", msgr_store_errmsg())
                   : 0;
    if (r < 0)
        return seterr(r, "cannot read the network name: %s", msgr_store_errmsg());
    if (strcmp(stored, name) != 0)
        return seterr(-EINVAL,
                      "network name not match: the database holds messages of network \"%s\" but the node is on "
                      "\"%s\"; point --node-url at a node of \"%s\" or give this network its own database",
                      stored, name, stored);
    return 0;
}

int msgr_service_start(msgr_service_t *s, const char *api_addr)
{
    json_t *p = NULL;
    /* the start does not wait for the chain: a pool with no healthy node yet (all down, first
     * heartbeats still running) gets a few seconds, then the check is skipped as when the call
     * fails (the pool keeps probing; heads and rounds start once a node answers) */
    int nr = vc_nodepool_wait_ready(s->o.pool, 5000) < 0
                 ? seterr(-EHOSTUNREACH, "no healthy chain node within 5 s")
                 : msgr_service_node_call(s, "StateGetNetworkParams", NULL, &p);
    if (nr == 0) {
        const char *name = json_string_value(json_object_get(p, "NetworkName"));
        int r = vc_strempty(name) ? 0 : check_network(s, name);
        if (r < 0) {
            json_decref(p);
            return r;
        }
        int64_t bd = json_integer_value(json_object_get(p, "BlockDelaySecs"));
        if (bd > 0) {
            atomic_store(&s->block_delay_ms, bd * 1000);
            if (bd <= 8 && s->o.stable_ms > bd * 500)
                s->o.stable_ms = bd * 500;
        }
        json_decref(p);
    } else {
        vc_logkv(VC_LOG_WARNING, "service", "StateGetNetworkParams failed, ignoring", "error", errbuf, NULL);
    }
    if (s->o.ha && s->o.ha->enable) {
        int r = vc_ha_elector_from_settings(msgr_store_db(s->o.store), "messager", s->o.ha, on_started_leading,
                                            on_stopped_leading, s, &s->elector);
        if (r < 0)
            return seterr(r, "cannot start the messager lease elector: %s", vc_strerror(r));
        vc_logkv(VC_LOG_NOTICE, "ha", "messager lease elector started", "holder", vc_ha_elector_holder(s->elector),
                 "scope", s->o.ha->scope, NULL);
        if (s->o.ha_addresses && s->o.ha_addresses[0]) {
            /* group mode: several scopes send, one instance of all of them processes heads */
            vc_ha_settings_t hs = *s->o.ha;
            hs.scope = "";
            r = vc_ha_elector_from_settings(msgr_store_db(s->o.store), "messager-head", &hs, on_started_heads,
                                            on_stopped_heads, s, &s->head_elector);
            if (r < 0)
                return seterr(r, "cannot start the head-processing lease elector: %s", vc_strerror(r));
        }
    }
    int pr = vc_ha_presence_start(msgr_store_db(s->o.store), "messager", s->elector, api_addr, &s->presence);
    if (pr < 0)
        return seterr(pr, "cannot start the presence heartbeat: %s", vc_strerror(pr));
    if (pthread_create(&s->thread, NULL, head_main, s) != 0)
        return seterr(-EAGAIN, "cannot start the head-tracking thread");
    s->started = true;
    int r = vc_nodepool_subscribe_heads(s->o.pool, on_heads, s);
    if (r < 0)
        return seterr(r, "cannot follow the chain heads: %s", vc_strerror(r));
    s->subscribed = true;
    return 0;
}

vc_ha_elector_t *msgr_service_elector(msgr_service_t *s)
{
    return s->elector;
}

vc_ha_presence_t *msgr_service_presence(msgr_service_t *s)
{
    return s->presence;
}

msgr_service_t *msgr_service_free(msgr_service_t *s)
{
    if (!s)
        return NULL;
    if (s->subscribed)
        vc_nodepool_unsubscribe_heads(s->o.pool);
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    s->presence = vc_ha_presence_free(s->presence); /* deletes its row; reads the elector's role */
    s->elector = vc_ha_elector_free(s->elector); /* after the head thread: releases the lease */
    s->head_elector = vc_ha_elector_free(s->head_elector);
    json_decref(s->queue);
    vc_ttlcache_free(s->lookups);
    msgr_pushq_free(s->pushq);
    if (s->selq)
        vc_workq_free(s->selq); /* idle: the head thread waited for its rounds */
    msgr_fanout_free(s->fanout);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
    return NULL;
}
