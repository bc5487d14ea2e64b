/* http.c: libmicrohttpd server with routing, body limits, auth middleware and WS upgrade. */
#include "vc/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vc/log.h"
#include "vc/metrics.h"
#include "vc/netaddr.h"
#include "vc/workq.h"
#include "vc/ws.h"

#define MAX_ROUTES 128
/* vc_http_stop: how long WebSocket calls and answers already produced get to go out */
#define STOP_GRACE_MS 2000

typedef struct route {
    char *method; /* NULL = any */
    char *path;
    unsigned flags;
    vc_http_handler_t handler;
    vc_http_ws_handler_t ws_handler;
    void *userdata;
} route_t;

/* A raw upgrade waiting for MHD to hand over the socket (vc_http_response_t.upgraded). */
typedef struct raw_up {
    void (*fn)(int fd, const void *extra, size_t extra_len, void *arg);
    void *arg;
} raw_up_t;

typedef struct req_ctx req_ctx_t;

/*
 * A held request (vc_http_hold). OPEN while its handler runs; EARLY once answered before the
 * handler returned; PARKED while its connection waits suspended in server->parked; CLOSED once
 * answered or dropped. References: the request's and the holder's.
 */
enum { HELD_OPEN, HELD_EARLY, HELD_PARKED, HELD_CLOSED };

struct vc_http_held {
    atomic_int refs;
    pthread_mutex_t lock;
    int state;                /* under lock */
    req_ctx_t *ctx;           /* NULL once the request is gone (under lock) */
    vc_http_server_t *server; /* touched only while PARKED, which vc_http_stop ends */
    vc_http_response_t resp;  /* the EARLY answer */
    bool linked;              /* in server->parked (under server->held_lock) */
    struct vc_http_held *prev, *next;
};

typedef struct ws_thread {
    struct ws_thread *next;
    vc_http_server_t *server;
    const route_t *route; /* NULL for raw upgrades */
    struct vc_ws *ws;
    raw_up_t raw;         /* raw upgrades: the callback, the socket, MHD's handle */
    int raw_fd;
    char *extra;
    size_t extra_len;
    struct MHD_UpgradeResponseHandle *urh;
    vc_http_request_t req; /* copy: auth, remote, token */
    char *token;
    pthread_t thread;
    bool done;
} ws_thread_t;

struct vc_http_server {
    vc_http_opts_t opts;
    char *listen;
    struct MHD_Daemon *daemon;
    route_t routes[MAX_ROUTES];
    size_t n_routes;
    vc_http_auth_fn auth_fn;
    void *auth_userdata;
    vc_http_handler_t intercept_fn;
    void *intercept_userdata;
    vc_metrics_t *metrics;
    vc_metric_t *m_requests;  /* counter {path, code} */
    vc_metric_t *m_latency;   /* histogram {path} */
    unsigned port;
    char bound[80];
    pthread_mutex_t ws_lock;
    ws_thread_t *ws_threads;
    bool stopping;
    vc_workq_t *pool; /* runs deferred handlers */
    pthread_mutex_t held_lock;
    pthread_cond_t held_cond; /* CLOCK_MONOTONIC; the last active request completed while stopping */
    vc_http_held_t *parked;   /* held requests waiting for their answer (under held_lock) */
    bool held_stopping;       /* no more parking: held requests get 503 (under held_lock) */
    atomic_uint active;       /* requests begun (a req_ctx) and not completed: answers not sent yet */
    atomic_bool refusing;     /* vc_http_stop began: a new request gets 503 at once */
};

/* Per-request state kept in MHD's con_cls. */
struct req_ctx {
    vc_http_server_t *server;
    vc_buf_t body;
    bool too_big;
    int64_t start_us;
    char **decoded; /* form values decoded on demand (freed with the request) */
    size_t n_decoded;
    const route_t *ws_route; /* set when upgrading */
    vc_http_request_t req;
    char *token;
    /* VC_HTTP_DEFER: the handler runs again on the pool while MHD keeps the connection suspended */
    struct MHD_Connection *conn;
    vc_http_handler_t async_fn; /* set while deferred */
    void *async_userdata;
    vc_http_response_t async_resp;
    bool async_done;
    raw_up_t *raw; /* a raw upgrade queued, not yet handed over */
    vc_http_held_t *held;
    bool counted;  /* in server->active */
};

static const char *const default_cors_headers =
    "Content-Type, Authorization, X-VENUS-API-NAMESPACE, spanId, preHost, svcName";

int vc_http_server_new(const vc_http_opts_t *opts, vc_http_server_t **ret)
{
    vc_http_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->opts = *opts;
    s->listen = strdup(opts->listen ? opts->listen : "127.0.0.1:0");
    if (!s->listen) {
        free(s);
        return -ENOMEM;
    }
    if (!s->opts.threads)
        s->opts.threads = 4;
    if (!s->opts.max_body)
        s->opts.max_body = 16u << 20;
    if (!s->opts.conn_timeout_s)
        s->opts.conn_timeout_s = 60;
    if (!s->opts.max_connections)
        s->opts.max_connections = 1024;
    if (!s->opts.ws_max_message)
        s->opts.ws_max_message = s->opts.max_body;
    if (!s->opts.ws_ping_interval_ms)
        s->opts.ws_ping_interval_ms = 5000;
    s->opts.listen = s->listen;
    pthread_mutex_init(&s->ws_lock, NULL);
    pthread_mutex_init(&s->held_lock, NULL);
    vc_cond_init_monotonic(&s->held_cond);
    *ret = s;
    return 0;
}

static int add_route(vc_http_server_t *s, const char *method, const char *path, unsigned flags,
                     vc_http_handler_t handler, vc_http_ws_handler_t ws_handler, void *userdata)
{
    if (s->n_routes >= MAX_ROUTES || s->daemon)
        return -ENOSPC;
    route_t *r = &s->routes[s->n_routes];
    r->method = method ? strdup(method) : NULL;
    r->path = strdup(path);
    if ((method && !r->method) || !r->path) {
        free(r->method);
        free(r->path);
        return -ENOMEM;
    }
    r->flags = flags;
    r->handler = handler;
    r->ws_handler = ws_handler;
    r->userdata = userdata;
    s->n_routes++;
    return 0;
}

int vc_http_route(vc_http_server_t *s, const char *method, const char *path, unsigned flags,
                  vc_http_handler_t handler, void *userdata)
{
    return add_route(s, method, path, flags, handler, NULL, userdata);
}

int vc_http_route_ws(vc_http_server_t *s, const char *path, unsigned flags, vc_http_ws_handler_t handler,
                     void *userdata)
{
    return add_route(s, "GET", path, flags, NULL, handler, userdata);
}

void vc_http_set_auth(vc_http_server_t *s, vc_http_auth_fn fn, void *userdata)
{
    s->auth_fn = fn;
    s->auth_userdata = userdata;
}

void vc_http_set_interceptor(vc_http_server_t *s, vc_http_handler_t fn, void *userdata)
{
    s->intercept_fn = fn;
    s->intercept_userdata = userdata;
}

void vc_http_set_metrics(vc_http_server_t *s, vc_metrics_t *m)
{
    static const char *const path_code[] = {"path", "code", NULL};
    static const char *const path_only[] = {"path", NULL};
    s->metrics = m;
    if (!m)
        return;
    if (vc_metrics_counter(m, "http_requests_total", "HTTP requests by path and status", path_code,
                           &s->m_requests) < 0)
        s->m_requests = NULL;
    if (vc_metrics_histogram(m, "http_request_duration_seconds", "HTTP request latency by path", path_only, NULL,
                             0, &s->m_latency) < 0)
        s->m_latency = NULL;
}

unsigned vc_http_port(const vc_http_server_t *s)
{
    return s->port;
}

const char *vc_http_bound(const vc_http_server_t *s)
{
    return s->bound;
}

/* ---- request accessors ---- */

static req_ctx_t *ctx_of(const vc_http_request_t *req)
{
    return (req_ctx_t *)((char *)req - offsetof(req_ctx_t, req));
}

const char *vc_http_header(const vc_http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->internal, MHD_HEADER_KIND, name);
}

typedef struct foreach_ctx {
    int (*fn)(const char *name, const char *value, void *userdata);
    void *userdata;
    int n;
} foreach_ctx_t;

static enum MHD_Result foreach_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    foreach_ctx_t *f = cls;
    f->n++;
    return f->fn(key, value, f->userdata) ? MHD_NO : MHD_YES;
}

int vc_http_foreach(const vc_http_request_t *req, vc_http_kind_t kind,
                    int (*fn)(const char *name, const char *value, void *userdata), void *userdata)
{
    foreach_ctx_t f = {fn, userdata, 0};
    if (!req->internal || kind < 0 || kind >= VC_HTTP_KIND_MAX)
        return -EINVAL;
    MHD_get_connection_values(req->internal, kind == VC_HTTP_KIND_HEADER ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND,
                              foreach_cb, &f);
    return f.n;
}

const char *vc_http_query(const vc_http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->internal, MHD_GET_ARGUMENT_KIND, name);
}

static int unhex1(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one urlencoded component in place-free fashion into a new string. */
static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%' && i + 2 < n && unhex1(s[i + 1]) >= 0 && unhex1(s[i + 2]) >= 0) {
            *o++ = (char)(unhex1(s[i + 1]) << 4 | unhex1(s[i + 2]));
            i += 2;
        } else
            *o++ = s[i];
    }
    *o = 0;
    return out;
}

const char *vc_http_form(const vc_http_request_t *req, const char *name)
{
    const char *v = vc_http_query(req, name);
    if (v)
        return v;
    const char *ct = vc_http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 || !req->body_len)
        return NULL;
    req_ctx_t *ctx = ctx_of(req);
    size_t nl = strlen(name);
    const char *p = req->body, *end = req->body + req->body_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *seg_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(seg_end - p));
        if (eq && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
            char **grown = realloc(ctx->decoded, (ctx->n_decoded + 1) * sizeof(char *));
            if (!grown)
                return NULL;
            ctx->decoded = grown;
            char *val = url_decode(eq + 1, (size_t)(seg_end - eq - 1));
            if (!val)
                return NULL;
            ctx->decoded[ctx->n_decoded++] = val;
            return val;
        }
        p = seg_end + 1;
    }
    return NULL;
}

int vc_http_reply_json(vc_http_response_t *resp, int status, const char *json_text)
{
    resp->status = status;
    resp->body.len = 0;
    return vc_buf_append_str(&resp->body, json_text);
}

int vc_http_reply_error(vc_http_response_t *resp, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s}", "error", msg);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -ENOMEM;
    int r = vc_http_reply_json(resp, status, text);
    free(text);
    return r;
}

/* ---- serving ---- */

static enum MHD_Result send_buf(struct MHD_Connection *c, int status, const char *ctype, vc_buf_t *body,
                                const vc_http_response_t *extra)
{
    size_t len = body ? body->len : 0;
    char *data = body ? vc_buf_steal(body) : NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, data ? data : (char *)"", data ? MHD_RESPMEM_MUST_FREE
                                                                           : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    if (extra)
        for (size_t i = 0; i < extra->n_headers; i++)
            MHD_add_response_header(resp, extra->headers[i][0], extra->headers[i][1]);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *ctype, const char *text)
{
    vc_buf_t b = {0};
    if (text && vc_buf_append_str(&b, text) < 0)
        return MHD_NO;
    return send_buf(c, status, ctype, text ? &b : NULL, NULL);
}

static void *ws_thread_main(void *arg)
{
    ws_thread_t *t = arg;
    if (!t->route) { /* raw upgrade: the callback owns the socket until it returns */
        t->raw.fn(t->raw_fd, t->extra, t->extra_len, t->raw.arg);
        pthread_mutex_lock(&t->server->ws_lock);
        t->raw_fd = -1;
        t->done = true;
        pthread_mutex_unlock(&t->server->ws_lock);
        MHD_upgrade_action(t->urh, MHD_UPGRADE_ACTION_CLOSE);
        return NULL;
    }
    t->route->ws_handler(t->ws, &t->req, t->route->userdata);
    pthread_mutex_lock(&t->server->ws_lock);
    struct vc_ws *ws = t->ws;
    t->ws = NULL;
    t->done = true;
    pthread_mutex_unlock(&t->server->ws_lock);
    vc_ws_free(ws);
    return NULL;
}

static void urh_close(void *userdata)
{
    MHD_upgrade_action(userdata, MHD_UPGRADE_ACTION_CLOSE);
}

/* Joins and frees finished WebSocket threads. Caller holds no lock. */
static void reap_ws_threads(vc_http_server_t *s, bool all)
{
    for (;;) {
        ws_thread_t *victim = NULL;
        pthread_mutex_lock(&s->ws_lock);
        for (ws_thread_t **pp = &s->ws_threads; *pp; pp = &(*pp)->next)
            if ((*pp)->done || all) {
                victim = *pp;
                *pp = victim->next;
                break;
            }
        pthread_mutex_unlock(&s->ws_lock);
        if (!victim)
            return;
        pthread_join(victim->thread, NULL);
        free(victim->token);
        free(victim->extra);
        free(victim);
    }
}

/* True while a WebSocket or raw-upgrade thread has not finished. */
static bool ws_threads_running(vc_http_server_t *s)
{
    bool any = false;
    pthread_mutex_lock(&s->ws_lock);
    for (ws_thread_t *t = s->ws_threads; t && !any; t = t->next)
        any = !t->done;
    pthread_mutex_unlock(&s->ws_lock);
    return any;
}

static void uncount(req_ctx_t *ctx);

static void upgrade_handler(void *cls, struct MHD_Connection *connection, void *con_cls, const char *extra_in,
                            size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    req_ctx_t *ctx = cls;
    vc_http_server_t *s = ctx->server;
    uncount(ctx); /* the connection is the upgrade's now: its request is done */
    if (ctx->raw) {
        raw_up_t *raw = ctx->raw;
        ctx->raw = NULL;
        ws_thread_t *t = calloc(1, sizeof(*t));
        if (t && extra_in_size && !(t->extra = malloc(extra_in_size))) {
            free(t);
            t = NULL;
        }
        if (!t) {
            raw->fn(-1, NULL, 0, raw->arg);
            free(raw);
            MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
            return;
        }
        if (extra_in_size)
            memcpy(t->extra, extra_in, extra_in_size);
        t->extra_len = extra_in_size;
        t->server = s;
        t->raw = *raw;
        free(raw);
        t->raw_fd = sock;
        t->urh = urh;
        reap_ws_threads(s, false);
        pthread_mutex_lock(&s->ws_lock);
        if (s->stopping || pthread_create(&t->thread, NULL, ws_thread_main, t) != 0) {
            pthread_mutex_unlock(&s->ws_lock);
            t->raw.fn(-1, NULL, 0, t->raw.arg);
            MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
            free(t->extra);
            free(t);
            return;
        }
        t->next = s->ws_threads;
        s->ws_threads = t;
        pthread_mutex_unlock(&s->ws_lock);
        return;
    }
    vc_ws_opts_t wopts = {
        .max_message = s->opts.ws_max_message,
        .max_frame = s->opts.ws_max_message,
        .ping_interval_ms = s->opts.ws_ping_interval_ms,
        .pong_timeout_ms = 6 * s->opts.ws_ping_interval_ms,
        .write_timeout_ms = 10000,
    };
    ws_thread_t *t = calloc(1, sizeof(*t));
    struct vc_ws *ws = vc_ws_server_new(sock, extra_in, extra_in_size, &wopts, urh_close, urh);
    if (!t || !ws) { /* a failed vc_ws_server_new already ran urh_close */
        free(t);
        vc_ws_free(ws);
        return;
    }
    t->server = s;
    t->route = ctx->ws_route;
    t->ws = ws;
    t->req = ctx->req;
    t->req.body = NULL;
    t->req.body_len = 0;
    t->req.internal = NULL;
    t->token = ctx->token ? strdup(ctx->token) : NULL;
    t->req.token = t->token;
    reap_ws_threads(s, false);
    pthread_mutex_lock(&s->ws_lock);
    if (s->stopping || pthread_create(&t->thread, NULL, ws_thread_main, t) != 0) {
        pthread_mutex_unlock(&s->ws_lock);
        vc_ws_free(ws);
        free(t->token);
        free(t);
        return;
    }
    t->next = s->ws_threads;
    s->ws_threads = t;
    pthread_mutex_unlock(&s->ws_lock);
}

static const route_t *find_route(vc_http_server_t *s, const char *method, const char *path, bool ws,
                                 bool *ret_path_known)
{
    *ret_path_known = false;
    for (size_t i = 0; i < s->n_routes; i++) {
        const route_t *r = &s->routes[i];
        if (!vc_streq(r->path, path))
            continue;
        *ret_path_known = true;
        if (ws != (r->ws_handler != NULL))
            continue;
        if (!r->method || vc_streq(r->method, method))
            return r;
    }
    return NULL;
}

/* Case-insensitive substring search (strcasestr is a GNU extension). */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static bool is_ws_upgrade(struct MHD_Connection *c)
{
    const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");
    const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection");
    return up && strcasecmp(up, "websocket") == 0 && conn && contains_ci(conn, "upgrade");
}

static void count_request(vc_http_server_t *s, const char *path, int status, int64_t start_us)
{
    if (!s->metrics)
        return;
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    if (s->m_requests)
        vc_counter_inc(vc_metric_with(s->m_requests, path, code, NULL));
    if (s->m_latency)
        vc_histogram_observe(vc_metric_with(s->m_latency, path, NULL), (double)(vc_now_mono_us() - start_us) / 1e6);
}

static enum MHD_Result serve_metrics(vc_http_server_t *s, struct MHD_Connection *c)
{
    vc_buf_t b = {0};
    if (vc_metrics_render(s->metrics, &b) < 0) {
        vc_buf_done(&b);
        return send_text(c, 500, "text/plain", "metrics render failed\n");
    }
    return send_buf(c, 200, VC_METRICS_CONTENT_TYPE, &b, NULL);
}

/* Drops what a handler put in resp (a raw upgrade is told that it will not happen). */
static void resp_discard(vc_http_response_t *resp)
{
    vc_buf_done(&resp->body);
    resp->n_headers = 0;
    if (resp->upgraded)
        resp->upgraded(-1, NULL, 0, resp->upgrade_arg);
    resp->upgraded = NULL;
}

/* Replaces what a handler failing with r put in resp by a 500 {"error":"<vc_strerror(r)>"}. */
static void resp_fail(vc_http_response_t *resp, int r)
{
    resp_discard(resp);
    vc_http_reply_error(resp, 500, "%s", vc_strerror(r));
}

static void resp_shutting_down(vc_http_response_t *resp)
{
    resp_discard(resp);
    resp->status = 503;
    resp->content_type = "text/plain";
    vc_buf_append_str(&resp->body, "shutting down\n");
}

/* ---- held requests ---- */

static vc_http_held_t *held_unref(vc_http_held_t *h)
{
    if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
        vc_buf_done(&h->resp.body);
        pthread_mutex_destroy(&h->lock);
        free(h);
    }
    return NULL;
}

static void held_unlink(vc_http_server_t *s, vc_http_held_t *h)
{
    pthread_mutex_lock(&s->held_lock);
    if (h->linked) {
        if (h->prev)
            h->prev->next = h->next;
        else
            s->parked = h->next;
        if (h->next)
            h->next->prev = h->prev;
        h->linked = false;
    }
    pthread_mutex_unlock(&s->held_lock);
}

vc_http_held_t *vc_http_hold(vc_http_request_t *req)
{
    req_ctx_t *ctx = ctx_of(req);
    if (ctx->held)
        return NULL;
    vc_http_held_t *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    atomic_init(&h->refs, 2);
    pthread_mutex_init(&h->lock, NULL);
    h->state = HELD_OPEN;
    h->ctx = ctx;
    h->server = ctx->server;
    ctx->held = h;
    return h;
}

/* Hands a PARKED request its answer and wakes its connection (h->lock held). It leaves the
 * parked list only after the resume: vc_http_stop's sweep, which sees it listed until then,
 * waits for h->lock, so MHD never stops with the connection still suspended. */
static void held_answer(vc_http_held_t *h, vc_http_response_t *resp)
{
    req_ctx_t *ctx = h->ctx;
    ctx->async_resp = *resp;
    ctx->async_done = true;
    h->state = HELD_CLOSED;
    MHD_resume_connection(ctx->conn);
    held_unlink(h->server, h);
}

int vc_http_held_reply(vc_http_held_t *h, vc_http_response_t *resp)
{
    int r = 0;
    if (resp->upgraded) {
        resp->upgraded(-1, NULL, 0, resp->upgrade_arg);
        resp->upgraded = NULL;
    }
    pthread_mutex_lock(&h->lock);
    if (h->state == HELD_OPEN) {
        h->resp = *resp;
        h->state = HELD_EARLY;
    } else if (h->state == HELD_PARKED)
        held_answer(h, resp);
    else {
        vc_buf_done(&resp->body);
        r = VC_ECLOSED;
    }
    pthread_mutex_unlock(&h->lock);
    resp->body = (vc_buf_t){0};
    held_unref(h);
    return r;
}

/*
 * The handler returned VC_HTTP_HELD: parks the connection until vc_http_held_reply (suspending
 * it first when it is not suspended yet) and returns true; or returns false with the answer in
 * *resp when it is already there (or the server is stopping, or nothing was held).
 */
static bool park(req_ctx_t *ctx, struct MHD_Connection *c, bool suspend, vc_http_response_t *resp)
{
    vc_http_server_t *s = ctx->server;
    vc_http_held_t *h = ctx->held;
    bool parked = false;
    resp_discard(resp);
    if (!h) {
        resp_fail(resp, -EINVAL);
        return false;
    }
    pthread_mutex_lock(&h->lock);
    if (h->state == HELD_OPEN) {
        pthread_mutex_lock(&s->held_lock);
        if (!s->held_stopping) {
            h->prev = NULL;
            h->next = s->parked;
            if (s->parked)
                s->parked->prev = h;
            s->parked = h;
            h->linked = parked = true;
        }
        pthread_mutex_unlock(&s->held_lock);
        if (parked) {
            ctx->conn = c;
            if (suspend)
                MHD_suspend_connection(c);
            h->state = HELD_PARKED;
        } else {
            resp_shutting_down(resp);
            h->state = HELD_CLOSED;
        }
    } else {
        *resp = h->resp; /* EARLY */
        h->resp = (vc_http_response_t){0};
        h->state = HELD_CLOSED;
    }
    pthread_mutex_unlock(&h->lock);
    return parked;
}

/* The request is done with its hold (answered some other way, or gone): later replies drop. */
static void release_hold(req_ctx_t *ctx)
{
    vc_http_held_t *h = ctx->held;
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->state == HELD_PARKED)
        held_unlink(ctx->server, h);
    h->state = HELD_CLOSED;
    h->ctx = NULL;
    pthread_mutex_unlock(&h->lock);
    ctx->held = held_unref(h);
}

/* vc_http_stop: no more parking; what is parked is answered 503. */
static void unpark_all(vc_http_server_t *s)
{
    pthread_mutex_lock(&s->held_lock);
    s->held_stopping = true;
    vc_http_held_t *list = s->parked;
    s->parked = NULL;
    for (vc_http_held_t *h = list; h; h = h->next) {
        h->linked = false;
        atomic_fetch_add(&h->refs, 1);
    }
    pthread_mutex_unlock(&s->held_lock);
    while (list) {
        vc_http_held_t *h = list;
        list = h->next;
        pthread_mutex_lock(&h->lock);
        if (h->state == HELD_PARKED) {
            vc_http_response_t resp = {0};
            resp_shutting_down(&resp);
            held_answer(h, &resp);
        }
        pthread_mutex_unlock(&h->lock);
        held_unref(h);
    }
}

/* A request completed or was handed over (upgrade): no longer active. */
static void uncount(req_ctx_t *ctx)
{
    vc_http_server_t *s = ctx->server;
    if (!ctx->counted)
        return;
    ctx->counted = false;
    if (atomic_fetch_sub(&s->active, 1) == 1 && atomic_load(&s->refusing)) {
        pthread_mutex_lock(&s->held_lock); /* after the decrement: the waiter cannot miss it */
        pthread_cond_broadcast(&s->held_cond);
        pthread_mutex_unlock(&s->held_lock);
    }
}

/* vc_http_stop: waits (at most timeout_ms) until every request begun has its answer sent, so
 * that MHD does not close a connection on an answer it has (a write the client would see as
 * failed although it was done). */
static void wait_active(vc_http_server_t *s, int timeout_ms)
{
    struct timespec ts;
    vc_deadline_mono(&ts, timeout_ms);
    pthread_mutex_lock(&s->held_lock);
    while (atomic_load(&s->active) > 0 && pthread_cond_timedwait(&s->held_cond, &s->held_lock, &ts) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&s->held_lock);
}

/* Runs a deferred handler on the pool, then wakes the suspended connection (unless the
 * handler held the request: its reply does). */
static void run_async(void *arg)
{
    req_ctx_t *ctx = arg;
    vc_http_response_t *resp = &ctx->async_resp;
    resp->status = 200;
    resp->content_type = "application/json";
    int rr = ctx->async_fn(&ctx->req, resp, ctx->async_userdata);
    if (rr == VC_HTTP_HELD) {
        if (park(ctx, ctx->conn, false, resp))
            return;
    } else {
        release_hold(ctx);
        if (rr < 0 || rr == VC_HTTP_DEFER || rr == VC_HTTP_NEXT)
            resp_fail(resp, rr);
    }
    ctx->async_done = true;
    MHD_resume_connection(ctx->conn);
}

/* Queues a 101 whose socket goes to resp->upgraded (see vc_http_response_t). */
static enum MHD_Result send_raw_upgrade(req_ctx_t *ctx, struct MHD_Connection *c, vc_http_response_t *resp)
{
    raw_up_t *raw = calloc(1, sizeof(*raw));
    struct MHD_Response *mr = raw ? MHD_create_response_for_upgrade(upgrade_handler, ctx) : NULL;
    if (!mr) {
        free(raw);
        resp->upgraded(-1, NULL, 0, resp->upgrade_arg);
        return MHD_NO;
    }
    raw->fn = resp->upgraded;
    raw->arg = resp->upgrade_arg;
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(mr, resp->headers[i][0], resp->headers[i][1]);
    ctx->raw = raw; /* handed over in upgrade_handler, or released in request_completed */
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* Sends what a handler (route or interceptor) produced. */
static enum MHD_Result send_handler_resp(req_ctx_t *ctx, struct MHD_Connection *c, vc_http_response_t *resp,
                                         const char *metric_path)
{
    count_request(ctx->server, metric_path, resp->status, ctx->start_us);
    if (resp->upgraded) {
        vc_buf_done(&resp->body);
        if (resp->status == 101)
            return send_raw_upgrade(ctx, c, resp);
        resp->upgraded(-1, NULL, 0, resp->upgrade_arg); /* not an upgrade after all */
        resp->upgraded = NULL;
    }
    enum MHD_Result ret =
        send_buf(c, resp->status, resp->body.len || resp->content_type ? resp->content_type : NULL, &resp->body, resp);
    vc_buf_done(&resp->body);
    return ret;
}

static enum MHD_Result finish_async(req_ctx_t *ctx, struct MHD_Connection *c)
{
    ctx->async_fn = NULL;
    ctx->async_done = false;
    return send_handler_resp(ctx, c, &ctx->async_resp, ctx->req.path);
}

/* VC_HTTP_DEFER: run fn again on the pool while MHD keeps the connection suspended. */
static enum MHD_Result defer(req_ctx_t *ctx, struct MHD_Connection *c, vc_http_handler_t fn, void *userdata)
{
    vc_http_server_t *s = ctx->server;
    ctx->req.deferred = true;
    ctx->conn = c;
    ctx->async_fn = fn;
    ctx->async_userdata = userdata;
    MHD_suspend_connection(c);
    if (vc_workq_submit(s->pool, run_async, ctx) < 0) {
        MHD_resume_connection(c);
        ctx->async_fn = NULL;
        return send_text(c, 503, "text/plain", "shutting down\n");
    }
    return MHD_YES;
}

/* What a handler (route or interceptor) returned on MHD's thread: defer it to the pool, park it
 * (held), or send its answer. */
static enum MHD_Result handler_done(req_ctx_t *ctx, struct MHD_Connection *c, int rr, vc_http_response_t *resp,
                                   vc_http_handler_t fn, void *userdata)
{
    if (rr == VC_HTTP_HELD) {
        if (park(ctx, c, true, resp))
            return MHD_YES;
        return send_handler_resp(ctx, c, resp, ctx->req.path);
    }
    release_hold(ctx);
    if (rr == VC_HTTP_DEFER) { /* run it again on the pool, off MHD's threads */
        resp_discard(resp);
        return defer(ctx, c, fn, userdata);
    }
    if (rr < 0)
        resp_fail(resp, rr);
    return send_handler_resp(ctx, c, resp, ctx->req.path);
}

static enum MHD_Result dispatch(req_ctx_t *ctx, struct MHD_Connection *c, const char *method, const char *url)
{
    vc_http_server_t *s = ctx->server;
    bool path_known, ws = is_ws_upgrade(c);
    vc_http_request_t *req = &ctx->req;
    int status;

    req->method = method;
    req->path = url;
    req->internal = c;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        vc_netaddr_format(ci->client_addr, req->remote, sizeof(req->remote));

    if (vc_streq(method, "OPTIONS")) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", default_cors_headers);
        enum MHD_Result ret = MHD_queue_response(c, 204, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (s->intercept_fn && !ctx->too_big) {
        req->body = ctx->body.data ? ctx->body.data : "";
        req->body_len = ctx->body.len;
        vc_http_response_t resp = {.status = 200, .content_type = "application/json"};
        int rr = s->intercept_fn(req, &resp, s->intercept_userdata);
        if (rr != VC_HTTP_NEXT)
            return handler_done(ctx, c, rr, &resp, s->intercept_fn, s->intercept_userdata);
        release_hold(ctx);
        vc_buf_done(&resp.body);
    }
    if (vc_streq(url, "/healthcheck") && !find_route(s, method, url, false, &path_known)) {
        count_request(s, url, 200, ctx->start_us);
        return send_text(c, 200, "application/json", "{\"status\":\"OK\"}");
    }
    if (vc_streq(url, "/metrics") && s->metrics && vc_streq(method, "GET"))
        return serve_metrics(s, c);

    const route_t *r = find_route(s, method, url, ws, &path_known);
    if (!r && ws)
        r = find_route(s, method, url, false, &path_known);
    req->body = ctx->body.data ? ctx->body.data : "";
    req->body_len = ctx->body.len;
    /* like venus AuthMux, authentication wraps the whole mux: unknown paths need a token too */
    if (!(r && (r->flags & VC_HTTP_PUBLIC)) && s->auth_fn) {
        const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *form = authz ? NULL : vc_http_form(req, "token");
        const char *tok = vc_authn_extract_token(authz, form);
        if (!tok || s->auth_fn(s->auth_userdata, tok, &req->auth) < 0) {
            count_request(s, r ? url : "other", 401, ctx->start_us);
            return send_text(c, 401, NULL, NULL);
        }
        ctx->token = strdup(tok);
        if (!ctx->token)
            return MHD_NO;
        req->token = ctx->token;
    }
    if (!r) {
        status = path_known ? 405 : 404;
        count_request(s, path_known ? url : "other", status, ctx->start_us);
        return send_text(c, status, "text/plain", path_known ? "method not allowed\n" : "404 page not found\n");
    }
    if (ctx->too_big) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"request bigger "
                 "than maximum %zu allowed\"}}",
                 s->opts.max_body);
        count_request(s, url, 413, ctx->start_us);
        return send_text(c, 413, "application/json", msg);
    }

    if (r->ws_handler) {
        const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
        const char *ver = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Version");
        char accept[32];
        if (!key || !vc_streq(ver, "13") || vc_ws_accept_key(key, accept) < 0)
            return send_text(c, 400, "text/plain", "bad websocket handshake\n");
        ctx->ws_route = r;
        struct MHD_Response *resp = MHD_create_response_for_upgrade(upgrade_handler, ctx);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
        MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
        MHD_destroy_response(resp);
        count_request(s, url, 101, ctx->start_us);
        return ret;
    }

    vc_http_response_t resp = {.status = 200, .content_type = "application/json"};
    int rr = r->handler(req, &resp, r->userdata);
    return handler_done(ctx, c, rr, &resp, r->handler, r->userdata);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    vc_http_server_t *s = cls;
    req_ctx_t *ctx = *con_cls;

    if (!ctx) {
        if (atomic_load(&s->refusing)) { /* vc_http_stop began: nothing of it runs */
            count_request(s, "other", 503, vc_now_mono_us());
            return send_text(c, 503, "text/plain", "shutting down\n");
        }
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
            return MHD_NO;
        ctx->server = s;
        ctx->start_us = vc_now_mono_us();
        ctx->counted = true;
        atomic_fetch_add(&s->active, 1);
        *con_cls = ctx;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t n;
        if (cl && vc_parse_u64(cl, &n) == 0 && n > s->opts.max_body) {
            /* answer at once: the body is never read (MHD closes the connection after) */
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"request "
                     "bigger than maximum %zu allowed\"}}",
                     s->opts.max_body);
            count_request(s, "other", 413, ctx->start_us);
            return send_text(c, 413, "application/json", msg);
        }
        return MHD_YES;
    }
    if (ctx->async_done)
        return finish_async(ctx, c);
    if (ctx->async_fn)
        return MHD_YES; /* still running */
    if (*upload_data_size) {
        if (!ctx->too_big) {
            if (ctx->body.len + *upload_data_size > s->opts.max_body) {
                ctx->too_big = true;
                vc_buf_done(&ctx->body);
            } else if (vc_buf_append(&ctx->body, upload_data, *upload_data_size) < 0)
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(ctx, c, method, url);
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    req_ctx_t *ctx = *con_cls;
    if (!ctx)
        return;
    vc_buf_done(&ctx->body);
    vc_buf_done(&ctx->async_resp.body); /* an answer MHD did not get to send */
    uncount(ctx);
    if (ctx->raw) { /* the 101 never went out */
        ctx->raw->fn(-1, NULL, 0, ctx->raw->arg);
        free(ctx->raw);
    }
    release_hold(ctx);
    if (ctx->req.scratch_free)
        ctx->req.scratch_free(ctx->req.scratch);
    for (size_t i = 0; i < ctx->n_decoded; i++)
        free(ctx->decoded[i]);
    free(ctx->decoded);
    free(ctx->token);
    free(ctx);
    *con_cls = NULL;
}

int vc_http_start(vc_http_server_t *s)
{
    struct sockaddr_storage addr;
    socklen_t alen;
    int r = vc_netaddr_parse_listen(s->listen, &addr, &alen);
    if (r < 0)
        return r;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_UPGRADE |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->stopping = false;
    s->held_stopping = false;
    atomic_store(&s->refusing, false);
    if (!s->pool && (r = vc_workq_new(s->opts.threads, 256, &s->pool)) < 0)
        return r;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, s, MHD_OPTION_SOCK_ADDR, &addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, s->opts.threads, MHD_OPTION_CONNECTION_TIMEOUT,
                                 s->opts.conn_timeout_s, MHD_OPTION_CONNECTION_LIMIT, s->opts.max_connections,
                                 MHD_OPTION_NOTIFY_COMPLETED, request_completed, s, MHD_OPTION_LISTEN_BACKLOG_SIZE,
                                 (unsigned)511, MHD_OPTION_END);
    if (!s->daemon) {
        s->pool = vc_workq_free(s->pool);
        return -EADDRINUSE;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    if (addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)s->port);
    else
        ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)s->port);
    vc_netaddr_format((struct sockaddr *)&addr, s->bound, sizeof(s->bound));
    vc_debug("http: listening on %s", s->bound);
    return 0;
}

void vc_http_stop(vc_http_server_t *s)
{
    if (!s->daemon)
        return;
    atomic_store(&s->refusing, true);
    /* WebSockets: no more reading, so their handlers end once the calls already running have
     * sent their answers (up to STOP_GRACE_MS); then whatever is left is cut */
    pthread_mutex_lock(&s->ws_lock);
    s->stopping = true;
    for (ws_thread_t *t = s->ws_threads; t; t = t->next) {
        if (t->ws)
            vc_ws_stop_reading(t->ws);
        if (!t->route && t->raw_fd >= 0)
            shutdown(t->raw_fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->ws_lock);
    for (int waited = 0; waited < STOP_GRACE_MS && ws_threads_running(s); waited += 10)
        vc_sleep_ms(10);
    pthread_mutex_lock(&s->ws_lock);
    for (ws_thread_t *t = s->ws_threads; t; t = t->next)
        if (t->ws)
            vc_ws_shutdown(t->ws);
    pthread_mutex_unlock(&s->ws_lock);
    reap_ws_threads(s, true);
    /* answer held requests, let async handlers finish and resume their connections before MHD
     * goes away (MHD must not stop with a connection suspended) */
    unpark_all(s);
    /* the deferred handlers finish (and resume their connections) while MHD still runs; MHD's
     * threads may still defer new requests until it stops: those get 503 from the drained pool,
     * which is freed only after MHD_stop_daemon */
    vc_workq_drain(s->pool);
    wait_active(s, STOP_GRACE_MS); /* answers produced (handlers, deferred, held, 503s) go out first */
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    s->pool = vc_workq_free(s->pool);
}

vc_http_server_t *vc_http_server_free(vc_http_server_t *s)
{
    if (!s)
        return NULL;
    vc_http_stop(s);
    for (size_t i = 0; i < s->n_routes; i++) {
        free(s->routes[i].method);
        free(s->routes[i].path);
    }
    pthread_mutex_destroy(&s->ws_lock);
    pthread_mutex_destroy(&s->held_lock);
    pthread_cond_destroy(&s->held_cond);
    free(s->listen);
    free(s);
    return NULL;
}
