/* rpc.c: JSON-RPC 2.0 dispatch (go-jsonrpc wire behaviour) over HTTP and WebSocket. */
#include "vc/rpc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "vc/log.h"
#include "vc/util.h"
#include "vc/workq.h"
#include "vc/ws.h"

/* ------------------------------------------------------------------ types */

typedef struct mount {
    struct mount *next;
    vc_rpc_server_t *server;
    void *path_userdata;
} mount_t;

typedef struct job {
    vc_rpc_conn_t *conn; /* holds a reference */
    json_t *req;
    vc_auth_info_t auth; /* the connection's identity when the request arrived */
} job_t;

#define MAX_BATCH 1000

struct vc_rpc_server {
    vc_rpc_opts_t opts;
    const vc_rpc_method_t **methods; /* sorted by name */
    size_t n_methods;
    mount_t *mounts;
    void (*on_open)(vc_rpc_conn_t *, void *);
    void (*on_close)(vc_rpc_conn_t *, void *);
    void *hooks_userdata;

    pthread_mutex_t lock;
    vc_workq_t *pool;     /* runs WebSocket requests */
    vc_rpc_conn_t *conns; /* live server-side connections */
};

typedef struct pending {
    struct pending *next;
    uint64_t id;
    bool done;
    json_t *resp;
    vc_rpc_sub_t *sub; /* subscription waiting for its channel id */
} pending_t;

typedef struct inflight {
    struct inflight *next;
    json_t *id;
    atomic_bool *canceled;
} inflight_t;

/*
 * Where the answers of one HTTP body (or vc_rpc_handle_text) go: its response document, filled
 * in as calls answer. waiting counts the held calls not answered yet, plus one while the
 * dispatcher runs; whoever brings it to 0 sends the document (sink_finish) and frees the sink,
 * except in text mode, where the dispatcher waits for it.
 */
typedef struct sink {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* text mode */
    json_t *out;         /* batch: one slot per request with an id; else the response */
    bool batch, text_mode;
    int status;
    unsigned waiting;
    vc_http_held_t *held;
} sink_t;

struct vc_rpc_call {
    vc_rpc_server_t *server;
    const vc_rpc_method_t *method;
    void *path_userdata;
    const vc_auth_info_t *auth;
    vc_rpc_conn_t *conn;
    const char *remote;
    json_t *id;
    int err_code;
    char *err_msg;
    atomic_bool canceled;
    vc_rpc_chan_t *chan;
    atomic_bool may_block;
    /* VC_RPC_ASYNC calls live on the heap and may outlive their dispatch */
    bool heap;
    atomic_int refs;
    atomic_int parks;        /* holds and offloads so far */
    atomic_bool outstanding; /* held or offloaded: answered through call_finish */
    atomic_bool answered;
    vc_auth_info_t auth_copy;
    char remote_copy[64];
    json_t *params;    /* for vc_rpc_call_offload */
    inflight_t inf;    /* WebSocket: the entry in conn->inflight (with an id) */
    sink_t *sink;      /* HTTP / text: where the answer goes */
    size_t slot;
};

enum { CHAN_PENDING, CHAN_OPEN, CHAN_CLOSED };

struct vc_rpc_chan {
    atomic_int refs;
    vc_rpc_conn_t *conn; /* reference */
    uint64_t id;
    json_t *req_id;
    pthread_mutex_t lock;
    int state;
    json_t *queued; /* values sent while PENDING */
    bool close_queued;
    void (*on_close)(vc_rpc_chan_t *, void *);
    void *userdata;
    bool on_close_fired;
    bool opening;      /* the method that opened it still runs: on_close must wait */
    bool close_missed; /* canceled while opening: on_close runs once the method succeeded */
    struct vc_rpc_chan *next; /* conn->chans, under conn->lock */
};

struct vc_rpc_sub {
    vc_rpc_conn_t *conn; /* reference */
    uint64_t req_id;
    uint64_t chan_id;
    bool registered, closed;
    void (*on_value)(json_t *, void *);
    void (*on_close)(void *);
    void *userdata;
    struct vc_rpc_sub *next;
};

struct vc_rpc_conn {
    atomic_int refs;
    vc_rpc_server_t *server; /* methods served to the peer; may be NULL */
    struct vc_ws *ws;
    pthread_rwlock_t ws_lock; /* readers send; the writer tears ws down */
    bool client_side;
    vc_auth_info_t auth;
    char *token;
    char remote[64];
    void *path_userdata;
    void *app_data;

    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    bool closed, reader_done;
    uint64_t next_chan_id, next_call_id;
    pending_t *pending;
    inflight_t *inflight;
    unsigned n_inflight; /* requests being dispatched */
    unsigned n_held;     /* held calls not answered yet (they count against max_inflight) */
    vc_rpc_chan_t *chans;
    vc_rpc_sub_t *subs;
    pthread_mutex_t cb_lock; /* held while running subscription callbacks */
    pthread_t reader;
    bool reader_started;
    struct vc_rpc_conn *next; /* server->conns */
};

static void chan_activate(vc_rpc_chan_t *ch);
static bool chan_detach(vc_rpc_chan_t *ch);
static int conn_send_json(vc_rpc_conn_t *c, json_t *j);
static _Thread_local vc_rpc_conn_t *running_on;

/* ------------------------------------------------------------------ helpers */

static int cmp_method(const void *a, const void *b)
{
    const vc_rpc_method_t *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static const vc_rpc_method_t *find_method(const vc_rpc_server_t *s, const char *name)
{
    size_t lo = 0, hi = s->n_methods;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->methods[mid]->name, name);
        if (c == 0)
            return s->methods[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static json_t *make_error(json_t *id, int code, const char *msg)
{
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code",
                     code, "message", msg);
}

static json_t *make_result(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", id, "result", result ? result : json_null());
}

static const char *short_name(const char *method)
{
    const char *dot = strrchr(method, '.');
    return dot ? dot + 1 : method;
}

static const char *perm_of(unsigned bit)
{
    const char *n = vc_perm_name(bit);
    return n ? n : "admin";
}

/* ------------------------------------------------------------------ server */

int vc_rpc_server_new(const vc_rpc_opts_t *opts, vc_rpc_server_t **ret)
{
    vc_rpc_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    if (opts)
        s->opts = *opts;
    if (!s->opts.min_workers)
        s->opts.min_workers = 4;
    if (!s->opts.max_workers)
        s->opts.max_workers = 512;
    if (s->opts.max_workers < s->opts.min_workers)
        s->opts.max_workers = s->opts.min_workers;
    if (!s->opts.max_inflight)
        s->opts.max_inflight = 1024;
    if (!s->opts.reverify_interval_ms)
        s->opts.reverify_interval_ms = 60000;
    pthread_mutex_init(&s->lock, NULL);
    int r = vc_workq_new(s->opts.min_workers, s->opts.max_workers, &s->pool);
    if (r < 0) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

int vc_rpc_register(vc_rpc_server_t *s, const vc_rpc_method_t *methods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (find_method(s, methods[i].name))
            return -EEXIST;
        if ((methods[i].flags & VC_RPC_ASYNC) && (methods[i].flags & VC_RPC_CHANNEL))
            return -EINVAL;
    }
    const vc_rpc_method_t **m = realloc(s->methods, (s->n_methods + n) * sizeof(*m));
    if (!m)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        m[s->n_methods + i] = &methods[i];
    s->methods = m;
    s->n_methods += n;
    qsort(s->methods, s->n_methods, sizeof(*m), cmp_method);
    return 0;
}

void vc_rpc_set_conn_hooks(vc_rpc_server_t *s, void (*on_open)(vc_rpc_conn_t *, void *),
                           void (*on_close)(vc_rpc_conn_t *, void *), void *userdata)
{
    s->on_open = on_open;
    s->on_close = on_close;
    s->hooks_userdata = userdata;
}

/* ------------------------------------------------------------------ call context */

void *vc_rpc_call_userdata(const vc_rpc_call_t *call)
{
    return call->server->opts.userdata;
}

void *vc_rpc_call_path_userdata(const vc_rpc_call_t *call)
{
    return call->path_userdata;
}

const vc_auth_info_t *vc_rpc_call_auth(const vc_rpc_call_t *call)
{
    return call->auth;
}

const char *vc_rpc_call_method(const vc_rpc_call_t *call)
{
    return call->method->name;
}

vc_rpc_conn_t *vc_rpc_call_conn(const vc_rpc_call_t *call)
{
    return call->conn;
}

const char *vc_rpc_call_remote(const vc_rpc_call_t *call)
{
    return call->remote ? call->remote : "";
}

bool vc_rpc_call_canceled(const vc_rpc_call_t *call)
{
    return atomic_load(&call->canceled) || (call->conn && vc_rpc_conn_closed(call->conn));
}

int vc_rpc_error(vc_rpc_call_t *call, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(call->err_msg);
    call->err_msg = strdup(msg);
    call->err_code = code;
    return VC_EREMOTE;
}

/* ------------------------------------------------------------------ dispatch */

typedef struct dispatch_ctx {
    const vc_auth_info_t *auth;
    vc_rpc_conn_t *conn;
    const char *remote;
    void *path_userdata;
    bool http;
    bool fast;    /* on the HTTP thread or the connection's reader: no waiting */
    sink_t *sink; /* HTTP / text: where held calls answer */
} dispatch_ctx_t;

static void sink_finish(sink_t *k);

/* A VC_RPC_ASYNC method's call, on the heap (one reference, the dispatcher's). */
static vc_rpc_call_t *call_new(const vc_rpc_call_t *tmpl, json_t *params, const dispatch_ctx_t *dc, size_t slot)
{
    vc_rpc_call_t *call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    *call = (vc_rpc_call_t){.server = tmpl->server, .method = tmpl->method, .path_userdata = tmpl->path_userdata,
                            .id = json_incref(tmpl->id), .heap = true, .params = json_incref(params),
                            .conn = vc_rpc_conn_ref(dc->conn), .sink = dc->sink, .slot = slot};
    if (dc->auth) {
        call->auth_copy = *dc->auth;
        call->auth = &call->auth_copy;
    }
    snprintf(call->remote_copy, sizeof(call->remote_copy), "%s", dc->remote ? dc->remote : "");
    call->remote = call->remote_copy;
    atomic_init(&call->refs, 1);
    return call;
}

static void call_unref(vc_rpc_call_t *call)
{
    if (!call || !call->heap || atomic_fetch_sub(&call->refs, 1) != 1)
        return;
    free(call->err_msg);
    json_decref(call->id);
    json_decref(call->params);
    vc_rpc_conn_unref(call->conn);
    free(call);
}

/* The response to a call whose method returned r (NULL for notifications); result stolen. */
static json_t *call_response(vc_rpc_call_t *call, int r, json_t *result)
{
    json_t *resp = NULL;
    if (r < 0) {
        const char *em = call->err_msg ? call->err_msg : vc_strerror(r);
        vc_debug("rpc: %s failed: %s", call->method->name, em);
        if (call->id)
            resp = make_error(call->id, call->err_code ? call->err_code : VC_RPC_APP_ERROR, em);
    } else if (call->id)
        resp = make_result(call->id, result);
    json_decref(result);
    return resp;
}

/* A held call becomes outstanding once: its answer is then awaited by its connection or sink. */
static void make_outstanding(vc_rpc_call_t *call)
{
    if (atomic_exchange(&call->outstanding, true))
        return;
    if (call->conn) {
        pthread_mutex_lock(&call->conn->lock);
        call->conn->n_held++;
        pthread_mutex_unlock(&call->conn->lock);
    } else if (call->sink) {
        pthread_mutex_lock(&call->sink->lock);
        call->sink->waiting++;
        pthread_mutex_unlock(&call->sink->lock);
    }
}

/* Puts resp (stolen) in its slot; the last answer sends the document. */
static void sink_answer(sink_t *k, size_t slot, json_t *resp)
{
    pthread_mutex_lock(&k->lock);
    if (resp && k->batch && json_array_set_new(k->out, slot, resp) < 0)
        resp = NULL;
    else if (resp && !k->batch) {
        json_decref(k->out);
        k->out = resp;
    }
    bool last = --k->waiting == 0;
    if (last && k->text_mode) { /* the dispatcher waits in vc_rpc_handle_text and frees k */
        pthread_cond_broadcast(&k->cond);
        last = false;
    }
    pthread_mutex_unlock(&k->lock);
    if (last)
        sink_finish(k);
}

/* Answers an outstanding call once (later answers are dropped). */
static int call_finish(vc_rpc_call_t *call, int r, json_t *result)
{
    if (atomic_exchange(&call->answered, true)) {
        json_decref(result);
        return VC_ECLOSED;
    }
    json_t *resp = call_response(call, r, result);
    int ret = 0;
    vc_rpc_conn_t *c = call->conn;
    if (c) {
        ret = resp ? conn_send_json(c, resp) : 0;
        json_decref(resp);
        pthread_mutex_lock(&c->lock);
        for (inflight_t **pp = &c->inflight; *pp; pp = &(*pp)->next)
            if (*pp == &call->inf) {
                *pp = call->inf.next;
                break;
            }
        c->n_held--;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    } else if (call->sink) {
        sink_t *k = call->sink;
        call->sink = NULL; /* gone once the document is answered */
        sink_answer(k, call->slot, resp);
    } else
        json_decref(resp);
    return ret < 0 ? VC_ECLOSED : 0;
}

vc_rpc_call_t *vc_rpc_call_hold(vc_rpc_call_t *call)
{
    if (!call->heap)
        return NULL;
    atomic_fetch_add(&call->refs, 1);
    atomic_fetch_add(&call->parks, 1);
    make_outstanding(call);
    return call;
}

int vc_rpc_complete(vc_rpc_call_t *call, json_t *result)
{
    int r = call_finish(call, 0, result);
    call_unref(call);
    return r;
}

int vc_rpc_complete_error(vc_rpc_call_t *call, int r)
{
    r = call_finish(call, r < 0 ? r : -EINVAL, NULL);
    call_unref(call);
    return r;
}

bool vc_rpc_call_may_block(const vc_rpc_call_t *call)
{
    return atomic_load(&call->may_block);
}

/* VC_RPC_PENDING from a method that held nothing: its call would never be answered. */
static int unheld_pending(vc_rpc_call_t *call)
{
    return vc_rpc_error(call, VC_RPC_APP_ERROR, "method '%s' returned pending without holding the call",
                        call->method->name);
}

/* The method again, on the worker pool (vc_rpc_call_offload). */
static void run_offloaded(void *arg)
{
    vc_rpc_call_t *call = arg;
    json_t *result = NULL;
    int parks = atomic_load(&call->parks);
    vc_rpc_conn_t *prev = running_on;
    atomic_store(&call->may_block, true);
    running_on = call->conn;
    int r = call->method->fn(call, call->params, &result);
    running_on = prev;
    if (r == VC_RPC_PENDING && atomic_load(&call->parks) == parks)
        r = unheld_pending(call);
    if (r != VC_RPC_PENDING)
        call_finish(call, r, result);
    else
        json_decref(result);
    call_unref(call);
}

int vc_rpc_call_offload(vc_rpc_call_t *call)
{
    if (!call->heap)
        return -EINVAL;
    atomic_fetch_add(&call->refs, 1);
    atomic_fetch_add(&call->parks, 1);
    make_outstanding(call); /* before the job can answer */
    int r = vc_workq_submit(call->server->pool, run_offloaded, call);
    if (r < 0) {
        call_finish(call, r, NULL);
        call_unref(call);
    }
    return VC_RPC_PENDING;
}

/*
 * Handles one request object. Returns the response (new reference) or NULL for notifications
 * and for calls answered later (*ret_pending set); *ret_status is the HTTP status go-jsonrpc
 * would use; *ret_chan an opened channel (WS). slot: the response's place in a batch.
 */
static json_t *handle_one(vc_rpc_server_t *s, json_t *req, const dispatch_ctx_t *dc, size_t slot, int *ret_status,
                          vc_rpc_chan_t **ret_chan, bool *ret_pending)
{
    json_t *id = json_object_get(req, "id");
    json_t *jm = json_object_get(req, "method");
    json_t *params = json_object_get(req, "params");
    const char *name = json_is_string(jm) ? json_string_value(jm) : "";
    char msg[1024];

    *ret_status = 200;
    *ret_chan = NULL;
    *ret_pending = false;
    if (id && json_is_null(id))
        id = NULL;
    if (id && !json_is_integer(id) && !json_is_real(id) && !json_is_string(id)) {
        *ret_status = 500;
        return make_error(NULL, VC_RPC_PARSE_ERROR, "failed to parse ID: expected number or string");
    }
    const vc_rpc_method_t *m = find_method(s, name);
    if (!m) {
        snprintf(msg, sizeof(msg), "method '%s' not found", name);
        *ret_status = 500;
        return id ? make_error(id, VC_RPC_METHOD_NOT_FOUND, msg) : NULL;
    }
    if ((m->flags & VC_RPC_CHANNEL) && !dc->conn) {
        snprintf(msg, sizeof(msg), "method '%s' not supported in this mode (no out channel support)", name);
        *ret_status = 500;
        return id ? make_error(id, VC_RPC_METHOD_NOT_FOUND, msg) : NULL;
    }
    size_t np = 0;
    if (params && !json_is_null(params)) {
        if (!json_is_array(params)) {
            *ret_status = 500;
            return id ? make_error(id, VC_RPC_PARSE_ERROR,
                                   "unmarshaling param array: json: cannot unmarshal non-array into Go value "
                                   "of type []jsonrpc.param")
                      : NULL;
        }
        np = json_array_size(params);
    }
    if ((int)np != m->nparams) {
        snprintf(msg, sizeof(msg), "wrong param count (method '%s'): %zu != %d", name, np, m->nparams);
        *ret_status = 500;
        return id ? make_error(id, VC_RPC_INVALID_PARAMS, msg) : NULL;
    }

    json_t *empty = NULL;
    if (!params || json_is_null(params))
        params = empty = json_array();
    vc_rpc_call_t stack_call = {
        .server = s,
        .method = m,
        .path_userdata = dc->path_userdata,
        .auth = dc->auth,
        .conn = dc->conn,
        .remote = dc->remote,
        .id = id,
    }, *call = &stack_call;
    inflight_t stack_inf, *inf = &stack_inf;
    if (m->flags & VC_RPC_ASYNC) {
        call = call_new(&stack_call, params, dc, slot);
        if (!call) {
            json_decref(empty);
            return id ? make_error(id, VC_RPC_APP_ERROR, vc_strerror(-ENOMEM)) : NULL;
        }
        inf = &call->inf;
    }
    atomic_init(&call->canceled, false);
    atomic_init(&call->may_block, !dc->fast);
    *inf = (inflight_t){.id = id, .canceled = &call->canceled};
    if (dc->conn && id) {
        pthread_mutex_lock(&dc->conn->lock);
        inf->next = dc->conn->inflight;
        dc->conn->inflight = inf;
        pthread_mutex_unlock(&dc->conn->lock);
    }

    json_t *result = NULL, *resp;
    int r;
    if (!s->opts.permissive && m->perm && !(dc->auth && (dc->auth->perms & m->perm))) {
        snprintf(msg, sizeof(msg), "missing permission to invoke '%s'  (need '%s')", short_name(name),
                 perm_of(m->perm));
        r = vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", msg);
    } else {
        r = m->fn(call, params, &result);
        if (r == VC_RPC_PENDING && !atomic_load(&call->outstanding))
            r = unheld_pending(call);
    }
    json_decref(empty);

    if (call->heap && atomic_load(&call->outstanding)) {
        /* answered through call_finish (now, if the method answered itself after all) */
        if (r != VC_RPC_PENDING)
            call_finish(call, r, result);
        else
            json_decref(result);
        call_unref(call);
        *ret_pending = true;
        return NULL;
    }
    if (dc->conn && id) {
        pthread_mutex_lock(&dc->conn->lock);
        for (inflight_t **pp = &dc->conn->inflight; *pp; pp = &(*pp)->next)
            if (*pp == inf) {
                *pp = inf->next;
                break;
            }
        pthread_mutex_unlock(&dc->conn->lock);
    }

    if (r < 0 && call->chan) { /* never announced: close silently; the producer undid its side */
        pthread_mutex_lock(&call->chan->lock);
        call->chan->state = CHAN_CLOSED;
        call->chan->opening = false;
        call->chan->on_close_fired = true;
        pthread_mutex_unlock(&call->chan->lock);
        if (chan_detach(call->chan))
            vc_rpc_chan_unref(call->chan);
        call->chan = vc_rpc_chan_unref(call->chan);
    } else if (r >= 0 && (m->flags & VC_RPC_CHANNEL)) {
        json_decref(result);
        if (!call->chan) {
            snprintf(msg, sizeof(msg), "method '%s' returned a nil channel", name);
            r = vc_rpc_error(call, VC_RPC_APP_ERROR, "%s", msg);
            result = NULL;
        } else {
            result = json_integer((json_int_t)call->chan->id);
            *ret_chan = call->chan; /* the dispatcher activates it after writing the response */
        }
    }
    atomic_store(&call->answered, true);
    resp = call_response(call, r, result);
    if (call->heap)
        call_unref(call);
    else
        free(call->err_msg);
    return resp;
}

static char *dump(json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static bool trimmed_bounds(const char *body, size_t len, size_t *ret_start, size_t *ret_end)
{
    size_t a = 0, b = len;
    while (a < b && (body[a] == ' ' || body[a] == '\t' || body[a] == '\n' || body[a] == '\r'))
        a++;
    while (b > a && (body[b - 1] == ' ' || body[b - 1] == '\t' || body[b - 1] == '\n' || body[b - 1] == '\r'))
        b--;
    *ret_start = a;
    *ret_end = b;
    return b > a;
}

/*
 * Parses an HTTP body into a request document: an object, or an array of 1..MAX_BATCH
 * objects. On failure returns NULL with *ret_error set to the error response and *ret_status.
 */
static json_t *parse_body(const char *body, size_t len, json_t **ret_error, int *ret_status)
{
    size_t a, b, i;
    json_error_t err;
    json_t *v;

    if (!trimmed_bounds(body, len, &a, &b)) {
        *ret_error = make_error(NULL, VC_RPC_INVALID_REQUEST, "Invalid request");
        *ret_status = 400;
        return NULL;
    }
    json_t *doc = json_loadb(body + a, b - a, 0, &err);
    bool ok = doc && (json_is_object(doc) || json_is_array(doc));
    if (ok && json_is_array(doc))
        json_array_foreach(doc, i, v) if (!json_is_object(v)) ok = false;
    if (!ok) {
        json_decref(doc);
        *ret_error = make_error(NULL, VC_RPC_PARSE_ERROR, "Parse error");
        *ret_status = 500;
        return NULL;
    }
    if (json_is_array(doc) && (json_array_size(doc) == 0 || json_array_size(doc) > MAX_BATCH)) {
        *ret_error = make_error(NULL, VC_RPC_INVALID_REQUEST,
                                json_array_size(doc) ? "batch too large (at most 1000 requests)" : "Invalid request");
        json_decref(doc);
        *ret_status = 400;
        return NULL;
    }
    return doc;
}

/* A request gets a response when it has an id (even a malformed one). */
static bool wants_response(json_t *req)
{
    json_t *id = json_object_get(req, "id");
    return id && !json_is_null(id);
}

static sink_t *sink_new(bool text_mode)
{
    sink_t *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->cond, NULL);
    k->text_mode = text_mode;
    k->status = 200;
    k->waiting = 1; /* the dispatcher */
    return k;
}

static void sink_free(sink_t *k)
{
    json_decref(k->out);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->cond);
    free(k);
}

/*
 * Runs a parsed document; the responses go to k (a batch gets its slots first, so that calls
 * answering later from other threads find theirs). Calls held on the way count in k->waiting.
 */
static int run_doc(vc_rpc_server_t *s, json_t *doc, const dispatch_ctx_t *dc, sink_t *k)
{
    vc_rpc_chan_t *ch;
    size_t i, slot = 0;
    json_t *v;
    bool pending;
    int st;

    if (json_is_array(doc)) {
        k->batch = true;
        k->out = json_array();
        if (!k->out)
            return -ENOMEM;
        json_array_foreach(doc, i, v) if (wants_response(v) && json_array_append_new(k->out, json_null()) < 0)
            return -ENOMEM;
        json_array_foreach(doc, i, v)
        {
            bool wants = wants_response(v);
            json_t *resp = handle_one(s, v, dc, slot, &st, &ch, &pending);
            if (resp) {
                pthread_mutex_lock(&k->lock);
                if (!wants || json_array_set_new(k->out, slot, resp) < 0)
                    json_decref(resp);
                pthread_mutex_unlock(&k->lock);
            }
            slot += wants;
        }
        return 0;
    }
    json_t *out = handle_one(s, doc, dc, 0, &st, &ch, &pending);
    /* application errors keep 200 (go-jsonrpc writes them as normal responses) */
    if (out && !json_object_get(out, "result") &&
        json_integer_value(json_object_get(json_object_get(out, "error"), "code")) > 0)
        st = 200;
    pthread_mutex_lock(&k->lock);
    k->status = st;
    if (out)
        k->out = out;
    pthread_mutex_unlock(&k->lock);
    return 0;
}

/* The response text of a finished sink (NULL when only notifications were sent). */
static int sink_text(sink_t *k, char **ret)
{
    *ret = NULL;
    if (!k->out || (k->batch && json_array_size(k->out) == 0))
        return 0;
    *ret = dump(k->out);
    return *ret ? 0 : -ENOMEM;
}

/* The HTTP answer of a finished sink; the body ends with a newline like go-jsonrpc's. */
static int sink_render(sink_t *k, vc_http_response_t *resp)
{
    char *text = NULL;
    int r = sink_text(k, &text);
    if (r < 0)
        return r;
    resp->status = k->status;
    if (text) {
        r = vc_buf_append_str(&resp->body, text);
        if (r == 0)
            r = vc_buf_append(&resp->body, "\n", 1);
        free(text);
    }
    return r;
}

/* The last held call of an HTTP document answered: send the document, free the sink. */
static void sink_finish(sink_t *k)
{
    if (k->held) {
        vc_http_response_t resp = {.status = 200, .content_type = "application/json"};
        if (sink_render(k, &resp) < 0) {
            vc_buf_done(&resp.body);
            vc_http_reply_error(&resp, 500, "%s", vc_strerror(-ENOMEM));
        }
        vc_http_held_reply(k->held, &resp);
    }
    sink_free(k);
}

int vc_rpc_handle_text(vc_rpc_server_t *s, const char *body, size_t len, const vc_auth_info_t *auth,
                       char **ret_response, int *ret_status)
{
    dispatch_ctx_t dc = {.auth = auth, .remote = "local", .http = true};
    json_t *out = NULL;
    *ret_response = NULL;
    json_t *doc = parse_body(body, len, &out, ret_status);
    if (!doc) {
        if (!out)
            return -ENOMEM;
        *ret_response = dump(out);
        json_decref(out);
        return *ret_response ? 0 : -ENOMEM;
    }
    sink_t *k = sink_new(true);
    if (!k) {
        json_decref(doc);
        return -ENOMEM;
    }
    dc.sink = k;
    int r = run_doc(s, doc, &dc, k);
    json_decref(doc);
    pthread_mutex_lock(&k->lock);
    k->waiting--;
    while (k->waiting > 0) /* held calls answer from other threads */
        pthread_cond_wait(&k->cond, &k->lock);
    pthread_mutex_unlock(&k->lock);
    if (r == 0)
        r = sink_text(k, ret_response);
    *ret_status = k->status;
    sink_free(k);
    return r;
}

/* True if a method of doc may wait (not VC_RPC_FAST): it must leave the HTTP thread. */
static bool needs_pool(const vc_rpc_server_t *s, json_t *doc)
{
    size_t i;
    json_t *v;
    if (json_is_array(doc)) {
        json_array_foreach(doc, i, v) if (needs_pool(s, v)) return true;
        return false;
    }
    const vc_rpc_method_t *m = find_method(s, json_is_string(json_object_get(doc, "method")) ? json_string_value(json_object_get(doc, "method")) : "");
    return m && !(m->flags & VC_RPC_FAST);
}

static void doc_free(void *p)
{
    json_decref(p);
}

/*
 * POST: fast methods and protocol errors are answered on the HTTP thread; anything that may
 * wait is deferred to the HTTP server's worker pool with the parsed document kept. A document
 * with held calls holds the HTTP request until the last of them answers.
 */
static int http_rpc_handler(vc_http_request_t *req, vc_http_response_t *resp, void *userdata)
{
    mount_t *m = userdata;
    json_t *out = NULL, *doc;
    int status = 200, r;
    if (req->deferred) {
        doc = req->scratch;
        req->scratch = NULL;
    } else {
        doc = parse_body(req->body, req->body_len, &out, &status);
        if (doc && needs_pool(m->server, doc)) {
            req->scratch = doc;
            req->scratch_free = doc_free;
            return VC_HTTP_DEFER;
        }
    }
    if (!doc) {
        if (!out)
            return -ENOMEM;
        sink_t k = {.out = out, .status = status};
        r = sink_render(&k, resp);
        json_decref(out);
        return r;
    }
    sink_t *k = sink_new(false);
    if (!k) {
        json_decref(doc);
        return -ENOMEM;
    }
    dispatch_ctx_t dc = {.auth = &req->auth, .remote = req->remote, .path_userdata = m->path_userdata,
                         .http = true, .fast = !req->deferred, .sink = k};
    r = run_doc(m->server, doc, &dc, k);
    json_decref(doc);
    pthread_mutex_lock(&k->lock);
    bool answered = k->waiting == 1;
    if (answered)
        k->waiting = 0;
    pthread_mutex_unlock(&k->lock);
    if (answered) {
        if (r == 0)
            r = sink_render(k, resp);
        sink_free(k);
        return r;
    }
    /* some calls answer later: hold the request; the last answer (maybe already) sends it */
    vc_http_held_t *held = vc_http_hold(req);
    pthread_mutex_lock(&k->lock);
    k->held = held;
    bool last = --k->waiting == 0;
    pthread_mutex_unlock(&k->lock);
    if (last)
        sink_finish(k);
    return held ? VC_HTTP_HELD : -ENOMEM;
}

/* ------------------------------------------------------------------ connections */

/* running_on: the connection whose request this thread is running (NULL outside a call). */

static int conn_send_json(vc_rpc_conn_t *c, json_t *j)
{
    char *text = dump(j);
    int r;
    if (!text)
        return -ENOMEM;
    pthread_rwlock_rdlock(&c->ws_lock);
    r = c->ws ? vc_ws_send(c->ws, VC_WS_OP_TEXT, text, strlen(text)) : VC_ECLOSED;
    pthread_rwlock_unlock(&c->ws_lock);
    free(text);
    return r;
}

static vc_rpc_conn_t *conn_alloc(vc_rpc_server_t *serve, struct vc_ws *ws)
{
    vc_rpc_conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    atomic_init(&c->refs, 1);
    c->server = serve;
    c->ws = ws;
    c->next_chan_id = 1;
    c->next_call_id = 1;
    pthread_rwlock_init(&c->ws_lock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->cb_lock, NULL);
    vc_cond_init_monotonic(&c->cond);
    return c;
}

vc_rpc_conn_t *vc_rpc_conn_ref(vc_rpc_conn_t *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

vc_rpc_conn_t *vc_rpc_conn_unref(vc_rpc_conn_t *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return NULL;
    /* last reference: the reader has finished (it holds a reference while running) */
    free(c->token);
    pthread_rwlock_destroy(&c->ws_lock);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->cb_lock);
    pthread_cond_destroy(&c->cond);
    free(c);
    return NULL;
}

bool vc_rpc_conn_closed(const vc_rpc_conn_t *c)
{
    vc_rpc_conn_t *m = (vc_rpc_conn_t *)c;
    pthread_mutex_lock(&m->lock);
    bool closed = m->closed;
    pthread_mutex_unlock(&m->lock);
    return closed;
}

const vc_auth_info_t *vc_rpc_conn_auth(const vc_rpc_conn_t *c)
{
    return &c->auth;
}

const char *vc_rpc_conn_remote(const vc_rpc_conn_t *c)
{
    return c->remote;
}

void vc_rpc_conn_set_data(vc_rpc_conn_t *c, void *data)
{
    c->app_data = data;
}

void *vc_rpc_conn_get_data(const vc_rpc_conn_t *c)
{
    return c->app_data;
}

void vc_rpc_conn_close(vc_rpc_conn_t *c)
{
    pthread_rwlock_rdlock(&c->ws_lock);
    if (c->ws)
        vc_ws_shutdown(c->ws);
    pthread_rwlock_unlock(&c->ws_lock);
    if (c->client_side && c->reader_started && !pthread_equal(pthread_self(), c->reader) && running_on != c) {
        pthread_mutex_lock(&c->lock);
        while (!c->reader_done)
            pthread_cond_wait(&c->cond, &c->lock);
        pthread_mutex_unlock(&c->lock);
    }
}

/* ---- channels (server side) ---- */

static json_t *chan_val_msg(uint64_t id, json_t *value)
{
    return json_pack("{s:s, s:s, s:[I, O]}", "jsonrpc", "2.0", "method", "xrpc.ch.val", "params", (json_int_t)id,
                     value ? value : json_null());
}

static json_t *chan_close_msg(uint64_t id)
{
    return json_pack("{s:s, s:s, s:[I]}", "jsonrpc", "2.0", "method", "xrpc.ch.close", "params", (json_int_t)id);
}

int vc_rpc_chan_open(vc_rpc_call_t *call, void (*on_close)(vc_rpc_chan_t *, void *), void *userdata,
                     vc_rpc_chan_t **ret)
{
    vc_rpc_conn_t *c = call->conn;
    if (!c || !(call->method->flags & VC_RPC_CHANNEL) || call->chan)
        return -EINVAL;
    vc_rpc_chan_t *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return -ENOMEM;
    atomic_init(&ch->refs, 3); /* the producer's, the call's and the connection list's */
    pthread_mutex_init(&ch->lock, NULL);
    ch->state = CHAN_PENDING;
    ch->opening = true;
    ch->queued = json_array();
    ch->req_id = json_incref(call->id);
    ch->on_close = on_close;
    ch->userdata = userdata;
    ch->conn = vc_rpc_conn_ref(c);
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        vc_rpc_conn_unref(ch->conn);
        json_decref(ch->queued);
        json_decref(ch->req_id);
        pthread_mutex_destroy(&ch->lock);
        free(ch);
        return VC_ECLOSED;
    }
    ch->id = c->next_chan_id++;
    ch->next = c->chans;
    c->chans = ch;
    pthread_mutex_unlock(&c->lock);
    call->chan = ch;
    *ret = ch;
    return 0;
}

vc_rpc_chan_t *vc_rpc_chan_ref(vc_rpc_chan_t *ch)
{
    if (ch)
        atomic_fetch_add(&ch->refs, 1);
    return ch;
}

vc_rpc_chan_t *vc_rpc_chan_unref(vc_rpc_chan_t *ch)
{
    if (!ch || atomic_fetch_sub(&ch->refs, 1) != 1)
        return NULL;
    vc_rpc_conn_unref(ch->conn);
    json_decref(ch->queued);
    json_decref(ch->req_id);
    pthread_mutex_destroy(&ch->lock);
    free(ch);
    return NULL;
}

vc_rpc_conn_t *vc_rpc_chan_conn(const vc_rpc_chan_t *ch)
{
    return ch->conn;
}

bool vc_rpc_chan_closed(const vc_rpc_chan_t *ch)
{
    vc_rpc_chan_t *m = (vc_rpc_chan_t *)ch;
    pthread_mutex_lock(&m->lock);
    bool closed = m->state == CHAN_CLOSED || m->close_queued;
    pthread_mutex_unlock(&m->lock);
    return closed;
}

int vc_rpc_chan_send(vc_rpc_chan_t *ch, json_t *value)
{
    int r = 0;
    pthread_mutex_lock(&ch->lock);
    if (ch->state == CHAN_CLOSED || ch->close_queued)
        r = VC_ECLOSED;
    else if (ch->state == CHAN_PENDING) /* the value is borrowed: keep a copy */
        r = json_array_append_new(ch->queued, value ? json_deep_copy(value) : json_null()) < 0 ? -ENOMEM : 0;
    else {
        json_t *msg = chan_val_msg(ch->id, value);
        r = msg ? conn_send_json(ch->conn, msg) : -ENOMEM;
        json_decref(msg);
    }
    pthread_mutex_unlock(&ch->lock);
    return r;
}

/* Removes ch from its connection's list; returns true if it was there (drops that ref). */
static bool chan_detach(vc_rpc_chan_t *ch)
{
    vc_rpc_conn_t *c = ch->conn;
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (vc_rpc_chan_t **pp = &c->chans; *pp; pp = &(*pp)->next)
        if (*pp == ch) {
            *pp = ch->next;
            found = true;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return found;
}

void vc_rpc_chan_close(vc_rpc_chan_t *ch)
{
    bool closed;
    pthread_mutex_lock(&ch->lock);
    if (ch->state == CHAN_PENDING)
        ch->close_queued = true;
    else if (ch->state == CHAN_OPEN) {
        json_t *msg = chan_close_msg(ch->id);
        if (msg)
            conn_send_json(ch->conn, msg);
        json_decref(msg);
        ch->state = CHAN_CLOSED;
    }
    closed = ch->state == CHAN_CLOSED;
    pthread_mutex_unlock(&ch->lock);
    if (closed && chan_detach(ch))
        vc_rpc_chan_unref(ch);
}

/* After the call's response went out: flush queued values, then a queued close; tell the
 * producer of a cancel that came while its method ran. */
static void chan_activate(vc_rpc_chan_t *ch)
{
    bool closed, fire = false;
    pthread_mutex_lock(&ch->lock);
    ch->opening = false;
    if (ch->close_missed && !ch->on_close_fired) {
        ch->on_close_fired = true;
        fire = ch->on_close != NULL;
    }
    if (ch->state == CHAN_PENDING) {
        size_t i;
        json_t *v;
        ch->state = CHAN_OPEN;
        json_array_foreach(ch->queued, i, v)
        {
            json_t *msg = chan_val_msg(ch->id, v);
            if (msg)
                conn_send_json(ch->conn, msg);
            json_decref(msg);
        }
        json_array_clear(ch->queued);
        if (ch->close_queued) {
            json_t *msg = chan_close_msg(ch->id);
            if (msg)
                conn_send_json(ch->conn, msg);
            json_decref(msg);
            ch->state = CHAN_CLOSED;
        }
    }
    closed = ch->state == CHAN_CLOSED;
    pthread_mutex_unlock(&ch->lock);
    if (fire)
        ch->on_close(ch, ch->userdata);
    if (closed && chan_detach(ch))
        vc_rpc_chan_unref(ch);
}

/* The context ended (cancel, disconnect, shutdown): close and tell the producer once; while
 * the opening method still runs, after it (chan_activate), so that on_close never races the
 * method's own setup or its error path. */
static void chan_cancel(vc_rpc_chan_t *ch, bool send_close)
{
    bool fire = false;
    pthread_mutex_lock(&ch->lock);
    if (ch->state == CHAN_PENDING && send_close)
        ch->close_queued = true; /* the response still goes out, then xrpc.ch.close */
    else if (ch->state != CHAN_CLOSED) {
        if (send_close && ch->state == CHAN_OPEN) {
            json_t *msg = chan_close_msg(ch->id);
            if (msg)
                conn_send_json(ch->conn, msg);
            json_decref(msg);
        }
        ch->state = CHAN_CLOSED;
    }
    if (ch->opening)
        ch->close_missed = true;
    else if (!ch->on_close_fired) {
        ch->on_close_fired = true;
        fire = ch->on_close != NULL;
    }
    pthread_mutex_unlock(&ch->lock);
    if (fire)
        ch->on_close(ch, ch->userdata);
}

/* ---- worker pool ---- */

/* fast: on the connection's reader (VC_RPC_FAST methods), else on a worker. */
static void process_request(vc_rpc_conn_t *c, json_t *req, const vc_auth_info_t *auth, bool fast)
{
    dispatch_ctx_t dc = {.auth = auth, .conn = c, .remote = c->remote, .path_userdata = c->path_userdata,
                         .fast = fast};
    int st;
    vc_rpc_chan_t *ch = NULL;
    bool pending;
    json_t *resp;
    vc_rpc_conn_t *prev = running_on;
    running_on = c;
    if (!c->server) {
        json_t *id = json_object_get(req, "id");
        char msg[300];
        snprintf(msg, sizeof(msg), "method '%s' not found", json_string_value(json_object_get(req, "method")));
        resp = id && !json_is_null(id) ? make_error(id, VC_RPC_METHOD_NOT_FOUND, msg) : NULL;
    } else
        resp = handle_one(c->server, req, &dc, 0, &st, &ch, &pending);
    if (resp)
        conn_send_json(c, resp);
    json_decref(resp);
    if (ch) {
        chan_activate(ch);
        vc_rpc_chan_unref(ch); /* the call's reference; the connection list keeps one */
    }
    running_on = prev;
}

static void run_job(void *arg)
{
    job_t *j = arg;
    vc_rpc_conn_t *c = j->conn;
    process_request(c, j->req, &j->auth, false);
    pthread_mutex_lock(&c->lock);
    c->n_inflight--;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    json_decref(j->req);
    free(j);
    vc_rpc_conn_unref(c);
}

/* Queues a request on the worker pool; the caller counted it in c->n_inflight. */
static int submit(vc_rpc_server_t *s, vc_rpc_conn_t *c, json_t *req)
{
    job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->conn = vc_rpc_conn_ref(c);
    j->req = json_incref(req);
    pthread_mutex_lock(&c->lock);
    j->auth = c->auth;
    pthread_mutex_unlock(&c->lock);
    int r = vc_workq_submit(s->pool, run_job, j);
    if (r < 0) {
        json_decref(j->req);
        vc_rpc_conn_unref(c);
        free(j);
    }
    return r;
}

/* ---- reader ---- */

static void handle_cancel(vc_rpc_conn_t *c, json_t *params)
{
    json_t *rid = json_array_get(params, 0);
    vc_rpc_chan_t *hit = NULL;
    if (!rid)
        return;
    pthread_mutex_lock(&c->lock);
    for (inflight_t *i = c->inflight; i; i = i->next)
        if (i->id && json_equal(i->id, rid))
            atomic_store(i->canceled, true);
    for (vc_rpc_chan_t *ch = c->chans; ch; ch = ch->next)
        if (ch->req_id && json_equal(ch->req_id, rid)) {
            hit = vc_rpc_chan_ref(ch);
            break;
        }
    pthread_mutex_unlock(&c->lock);
    if (hit) {
        chan_cancel(hit, true);
        if (chan_detach(hit))
            vc_rpc_chan_unref(hit);
        vc_rpc_chan_unref(hit);
    }
}

static vc_rpc_sub_t *find_sub(vc_rpc_conn_t *c, uint64_t chan_id)
{
    for (vc_rpc_sub_t *s = c->subs; s; s = s->next)
        if (s->registered && s->chan_id == chan_id)
            return s;
    return NULL;
}

static void handle_sub_msg(vc_rpc_conn_t *c, const char *method, json_t *params)
{
    json_t *jid = json_array_get(params, 0);
    if (!json_is_integer(jid))
        return;
    uint64_t id = (uint64_t)json_integer_value(jid);
    pthread_mutex_lock(&c->cb_lock);
    pthread_mutex_lock(&c->lock);
    vc_rpc_sub_t *s = find_sub(c, id);
    bool is_close = vc_streq(method, "xrpc.ch.close");
    if (s && is_close) {
        s->closed = true;
        for (vc_rpc_sub_t **pp = &c->subs; *pp; pp = &(*pp)->next)
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        s->next = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (s) {
        if (is_close) {
            if (s->on_close)
                s->on_close(s->userdata);
        } else if (s->on_value)
            s->on_value(json_array_get(params, 1), s->userdata);
    }
    pthread_mutex_unlock(&c->cb_lock);
}

static void handle_response(vc_rpc_conn_t *c, json_t *msg)
{
    json_t *jid = json_object_get(msg, "id");
    if (!json_is_integer(jid))
        return;
    uint64_t id = (uint64_t)json_integer_value(jid);
    bool awaited = false;
    pthread_mutex_lock(&c->lock);
    for (pending_t *p = c->pending; p; p = p->next)
        if (p->id == id && !p->done) {
            awaited = true;
            p->done = true;
            p->resp = json_incref(msg);
            json_t *res = json_object_get(msg, "result");
            if (p->sub && json_is_integer(res)) {
                p->sub->chan_id = (uint64_t)json_integer_value(res);
                p->sub->registered = true;
                p->sub->next = c->subs;
                c->subs = p->sub;
            }
            pthread_cond_broadcast(&c->cond);
            break;
        }
    pthread_mutex_unlock(&c->lock);
    json_t *err = json_object_get(msg, "error");
    if (!awaited && err && !json_is_null(err)) { /* a vc_rpc_conn_send_call (or a call given up on) */
        const char *text = json_string_value(json_object_get(err, "message"));
        char idtext[24];
        snprintf(idtext, sizeof(idtext), "%" PRIu64, id);
        vc_logkv(VC_LOG_WARNING, "rpc", "the peer refused a call nobody waits for", "peer", c->remote, "id", idtext,
                 "error", text ? text : "", NULL);
    }
}

static bool is_fast(const vc_rpc_server_t *s, const char *method)
{
    const vc_rpc_method_t *m = find_method(s, method);
    return m && (m->flags & VC_RPC_FAST);
}

static void handle_message(vc_rpc_conn_t *c, const char *data, size_t len)
{
    json_error_t err;
    json_t *msg = json_loadb(data, len, 0, &err);
    if (!msg || !json_is_object(msg)) {
        json_t *e = make_error(NULL, json_is_array(msg) ? VC_RPC_INVALID_REQUEST : VC_RPC_PARSE_ERROR,
                               json_is_array(msg) ? "batch requests are not supported over websocket"
                                                  : "Parse error");
        if (e)
            conn_send_json(c, e);
        json_decref(e);
        json_decref(msg);
        return;
    }
    json_t *jm = json_object_get(msg, "method");
    if (json_is_string(jm)) {
        const char *m = json_string_value(jm);
        json_t *params = json_object_get(msg, "params");
        if (vc_streq(m, "xrpc.ch.val") || vc_streq(m, "xrpc.ch.close"))
            handle_sub_msg(c, m, params);
        else if (vc_streq(m, "xrpc.cancel"))
            handle_cancel(c, params);
        else {
            bool over;
            pthread_mutex_lock(&c->lock);
            over = c->server && c->n_inflight + c->n_held >= c->server->opts.max_inflight;
            if (!over)
                c->n_inflight++;
            pthread_mutex_unlock(&c->lock);
            json_t *id = json_object_get(msg, "id");
            if (over) {
                json_t *e = id ? make_error(id, VC_RPC_APP_ERROR, "too many requests in flight") : NULL;
                if (e)
                    conn_send_json(c, e);
                json_decref(e);
            } else if (!c->server || is_fast(c->server, m)) {
                /* no server (method-not-found answers) and VC_RPC_FAST methods run right here on
                 * the reader: no hand-off to a worker and back */
                pthread_mutex_lock(&c->lock);
                vc_auth_info_t auth = c->auth;
                pthread_mutex_unlock(&c->lock);
                process_request(c, msg, &auth, true);
                pthread_mutex_lock(&c->lock);
                c->n_inflight--;
                pthread_cond_broadcast(&c->cond);
                pthread_mutex_unlock(&c->lock);
            } else if (submit(c->server, c, msg) < 0) {
                pthread_mutex_lock(&c->lock);
                c->n_inflight--;
                pthread_mutex_unlock(&c->lock);
            }
        }
    } else if (json_object_get(msg, "id") && (json_object_get(msg, "result") || json_object_get(msg, "error")))
        handle_response(c, msg);
    json_decref(msg);
}

static void maybe_reverify(vc_rpc_conn_t *c, int64_t *last_us)
{
    vc_rpc_server_t *s = c->server;
    if (c->client_side || !s || !s->opts.authn || s->opts.reverify_interval_ms < 0 || !c->token)
        return;
    int64_t now = vc_now_mono_us();
    if (now - *last_us < (int64_t)s->opts.reverify_interval_ms * 1000)
        return;
    *last_us = now;
    vc_auth_info_t info;
    int r = vc_authn_reverify(s->opts.authn, c->token, &info);
    if (r == VC_EVERIFY || r == VC_EPARSE) {
        vc_logkv(VC_LOG_NOTICE, "rpc", "closing websocket: token no longer valid", "remote", c->remote, "user",
                 c->auth.name, NULL);
        vc_ws_close(c->ws, 1008, "token revoked");
        pthread_mutex_lock(&c->lock);
        c->closed = true;
        pthread_mutex_unlock(&c->lock);
    } else if (r == 0) {
        pthread_mutex_lock(&c->lock);
        c->auth.perms = info.perms;
        pthread_mutex_unlock(&c->lock);
    }
}

/* Runs until the socket ends; then fails everything that waits on this connection. */
static void reader_loop(vc_rpc_conn_t *c)
{
    int64_t last_verify = vc_now_mono_us();
    for (;;) {
        int op;
        char *data = NULL;
        size_t len = 0;
        if (vc_rpc_conn_closed(c))
            break;
        int r = vc_ws_recv(c->ws, 1000, &op, &data, &len);
        if (r == -ETIMEDOUT) {
            maybe_reverify(c, &last_verify);
            continue;
        }
        if (r < 0)
            break;
        handle_message(c, data, len);
        free(data);
        maybe_reverify(c, &last_verify);
    }

    /* teardown */
    pthread_mutex_lock(&c->lock);
    c->closed = true;
    for (pending_t *p = c->pending; p; p = p->next)
        p->done = true;
    for (inflight_t *i = c->inflight; i; i = i->next)
        atomic_store(i->canceled, true);
    vc_rpc_chan_t *chans = c->chans;
    c->chans = NULL;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);

    while (chans) {
        vc_rpc_chan_t *next = chans->next;
        chan_cancel(chans, false);
        vc_rpc_chan_unref(chans);
        chans = next;
    }
    /* one subscription at a time, so an on_close may free other subscriptions safely */
    pthread_mutex_lock(&c->cb_lock);
    for (;;) {
        pthread_mutex_lock(&c->lock);
        vc_rpc_sub_t *sub = c->subs;
        if (sub) {
            c->subs = sub->next;
            sub->next = NULL;
            sub->closed = true;
        }
        pthread_mutex_unlock(&c->lock);
        if (!sub)
            break;
        if (sub->on_close)
            sub->on_close(sub->userdata);
    }
    pthread_mutex_unlock(&c->cb_lock);

    /* wait for requests still running on workers before the socket goes away */
    pthread_mutex_lock(&c->lock);
    while (c->n_inflight > 0)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

static void ws_rpc_handler(struct vc_ws *ws, const vc_http_request_t *req, void *userdata)
{
    mount_t *m = userdata;
    vc_rpc_server_t *s = m->server;
    vc_rpc_conn_t *c = conn_alloc(s, ws);
    if (!c)
        return;
    c->auth = req->auth;
    c->token = req->token ? strdup(req->token) : NULL;
    snprintf(c->remote, sizeof(c->remote), "%s", req->remote);
    c->path_userdata = m->path_userdata;
    c->reader = pthread_self();
    c->reader_started = true;

    pthread_mutex_lock(&s->lock);
    c->next = s->conns;
    s->conns = c;
    pthread_mutex_unlock(&s->lock);
    if (s->on_open)
        s->on_open(c, s->hooks_userdata);

    reader_loop(c);

    if (s->on_close)
        s->on_close(c, s->hooks_userdata);
    pthread_mutex_lock(&s->lock);
    for (vc_rpc_conn_t **pp = &s->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    /* the HTTP server frees ws after we return: make sure nobody sends on it any more */
    pthread_rwlock_wrlock(&c->ws_lock);
    c->ws = NULL;
    pthread_rwlock_unlock(&c->ws_lock);
    pthread_mutex_lock(&c->lock);
    c->reader_done = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    vc_rpc_conn_unref(c);
}

int vc_rpc_mount(vc_rpc_server_t *s, vc_http_server_t *http, const char *path, void *path_userdata)
{
    mount_t *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->server = s;
    m->path_userdata = path_userdata;
    m->next = s->mounts;
    s->mounts = m;
    int r = vc_http_route(http, "POST", path, 0, http_rpc_handler, m);
    if (r == 0)
        r = vc_http_route_ws(http, path, 0, ws_rpc_handler, m);
    return r;
}

vc_rpc_server_t *vc_rpc_server_free(vc_rpc_server_t *s)
{
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->lock);
    for (vc_rpc_conn_t *c = s->conns; c; c = c->next)
        vc_rpc_conn_close(c);
    pthread_mutex_unlock(&s->lock);
    s->pool = vc_workq_free(s->pool);
    while (s->mounts) {
        mount_t *m = s->mounts;
        s->mounts = m->next;
        free(m);
    }
    free(s->methods);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

/* ------------------------------------------------------------------ client side */

static void *client_reader_main(void *arg)
{
    vc_rpc_conn_t *c = arg;
    reader_loop(c);
    pthread_rwlock_wrlock(&c->ws_lock);
    struct vc_ws *ws = c->ws;
    c->ws = NULL;
    pthread_rwlock_unlock(&c->ws_lock);
    vc_ws_free(ws);
    pthread_mutex_lock(&c->lock);
    c->reader_done = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    vc_rpc_conn_unref(c);
    return NULL;
}

int vc_rpc_conn_new_client(struct vc_ws *ws, vc_rpc_server_t *serve, vc_rpc_conn_t **ret)
{
    vc_rpc_conn_t *c = conn_alloc(serve, ws);
    if (!c) {
        vc_ws_free(ws);
        return -ENOMEM;
    }
    c->client_side = true;
    c->auth.perms = VC_PERM_ALL; /* the peer we dialled is trusted to call our methods */
    snprintf(c->remote, sizeof(c->remote), "%s", vc_ws_peer(ws));
    atomic_fetch_add(&c->refs, 1); /* the reader's */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&c->reader, &a, client_reader_main, c);
    pthread_attr_destroy(&a);
    if (r == 0)
        c->reader_started = true;
    if (r != 0) {
        c->refs = 1;
        vc_ws_free(ws);
        vc_rpc_conn_unref(c);
        return -r;
    }
    *ret = c;
    return 0;
}

/* Writes the request {method, params (stolen), id}. */
static int send_request(vc_rpc_conn_t *c, const char *method, json_t *params, uint64_t id)
{
    json_t *req = json_pack("{s:s, s:s, s:o, s:I}", "jsonrpc", "2.0", "method", method, "params", params, "id",
                            (json_int_t)id);
    int r = req ? conn_send_json(c, req) : -ENOMEM;
    json_decref(req);
    return r;
}

static int conn_call(vc_rpc_conn_t *c, const char *method, json_t *params, int timeout_ms, vc_rpc_sub_t *sub,
                     json_t **ret_result, vc_rpc_err_t *ret_err)
{
    pending_t p = {.sub = sub};
    int r;

    if (!params)
        params = json_array();
    if (c->reader_started && pthread_equal(pthread_self(), c->reader)) {
        json_decref(params); /* only the reader reads answers: waiting here would never end */
        return -EDEADLK;
    }
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        json_decref(params);
        return VC_ECLOSED;
    }
    p.id = c->next_call_id++;
    p.next = c->pending;
    c->pending = &p;
    pthread_mutex_unlock(&c->lock);
    if (sub)
        sub->req_id = p.id;

    r = send_request(c, method, params, p.id);

    pthread_mutex_lock(&c->lock);
    if (r == 0) {
        struct timespec ts;
        if (timeout_ms > 0)
            vc_deadline_mono(&ts, timeout_ms);
        while (!p.done) {
            if (timeout_ms > 0) {
                if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT && !p.done) {
                    r = -ETIMEDOUT;
                    break;
                }
            } else
                pthread_cond_wait(&c->cond, &c->lock);
        }
    }
    for (pending_t **pp = &c->pending; *pp; pp = &(*pp)->next)
        if (*pp == &p) {
            *pp = p.next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    if (r == -ETIMEDOUT) { /* let the peer stop working on it */
        json_t *cancel = json_pack("{s:s, s:s, s:[I]}", "jsonrpc", "2.0", "method", "xrpc.cancel", "params",
                                   (json_int_t)p.id);
        if (cancel)
            conn_send_json(c, cancel);
        json_decref(cancel);
    }
    if (r < 0) {
        json_decref(p.resp);
        return r;
    }
    if (!p.resp)
        return VC_ECLOSED;
    json_t *err = json_object_get(p.resp, "error");
    if (err && !json_is_null(err)) {
        if (ret_err) {
            ret_err->code = (int)json_integer_value(json_object_get(err, "code"));
            snprintf(ret_err->message, sizeof(ret_err->message), "%s",
                     json_string_value(json_object_get(err, "message")) ? json_string_value(json_object_get(err, "message")) : "");
        }
        json_decref(p.resp);
        return VC_EREMOTE;
    }
    if (ret_result) {
        json_t *res = json_object_get(p.resp, "result");
        *ret_result = json_incref(res ? res : json_null());
    }
    json_decref(p.resp);
    return 0;
}

int vc_rpc_conn_call(vc_rpc_conn_t *c, const char *method, json_t *params, int timeout_ms, json_t **ret_result,
                     vc_rpc_err_t *ret_err)
{
    return conn_call(c, method, params, timeout_ms, NULL, ret_result, ret_err);
}

int vc_rpc_conn_send_call(vc_rpc_conn_t *c, const char *method, json_t *params)
{
    if (!params)
        params = json_array();
    pthread_mutex_lock(&c->lock);
    bool closed = c->closed;
    uint64_t id = c->next_call_id++;
    pthread_mutex_unlock(&c->lock);
    if (closed) {
        json_decref(params);
        return VC_ECLOSED;
    }
    return send_request(c, method, params, id);
}

int vc_rpc_conn_subscribe(vc_rpc_conn_t *c, const char *method, json_t *params, int timeout_ms,
                          void (*on_value)(json_t *value, void *userdata), void (*on_close)(void *userdata),
                          void *userdata, vc_rpc_sub_t **ret, vc_rpc_err_t *ret_err)
{
    vc_rpc_sub_t *sub = calloc(1, sizeof(*sub));
    if (!sub) {
        json_decref(params);
        return -ENOMEM;
    }
    sub->conn = vc_rpc_conn_ref(c);
    sub->on_value = on_value;
    sub->on_close = on_close;
    sub->userdata = userdata;
    json_t *res = NULL;
    int r = conn_call(c, method, params, timeout_ms, sub, &res, ret_err);
    json_decref(res);
    if (r < 0 || !sub->registered) {
        pthread_mutex_lock(&c->lock);
        for (vc_rpc_sub_t **pp = &c->subs; *pp; pp = &(*pp)->next)
            if (*pp == sub) {
                *pp = sub->next;
                break;
            }
        pthread_mutex_unlock(&c->lock);
        vc_rpc_conn_unref(sub->conn);
        free(sub);
        return r < 0 ? r : VC_EPARSE;
    }
    *ret = sub;
    return 0;
}

int vc_rpc_sub_cancel(vc_rpc_sub_t *sub)
{
    json_t *msg = json_pack("{s:s, s:s, s:[I]}", "jsonrpc", "2.0", "method", "xrpc.cancel", "params",
                            (json_int_t)sub->req_id);
    int r = msg ? conn_send_json(sub->conn, msg) : -ENOMEM;
    json_decref(msg);
    return r;
}

void vc_rpc_sub_free(vc_rpc_sub_t *sub)
{
    if (!sub)
        return;
    vc_rpc_conn_t *c = sub->conn;
    bool on_reader = pthread_equal(pthread_self(), c->reader);
    if (!on_reader)
        pthread_mutex_lock(&c->cb_lock);
    pthread_mutex_lock(&c->lock);
    bool was_open = false;
    for (vc_rpc_sub_t **pp = &c->subs; *pp; pp = &(*pp)->next)
        if (*pp == sub) {
            *pp = sub->next;
            was_open = true;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    if (!on_reader)
        pthread_mutex_unlock(&c->cb_lock);
    if (was_open && !sub->closed)
        vc_rpc_sub_cancel(sub);
    vc_rpc_conn_unref(c);
    free(sub);
}
