/*
 * http.h: the HTTP server every daemon uses (libmicrohttpd, internal epoll thread pool).
 *
 * Routing is by exact path and method. Every route is behind the authenticator unless marked
 * VC_HTTP_PUBLIC; a request without a valid token gets 401 with an empty body (venus AuthMux).
 * Request bodies are buffered up to max_body bytes (default 16 MiB); larger bodies get 413.
 * A path may also accept WebSocket upgrades (vc_http_route_ws): the ws handler then owns the
 * connection, typically on a thread of its own.
 *
 * Handlers run on MHD's worker threads and must not block there: a handler that may wait
 * returns VC_HTTP_DEFER, and is then called again (req->deferred set) on a worker pool of up
 * to 256 threads while MHD keeps the connection suspended and goes on serving others. A
 * handler whose answer another thread will produce holds the request instead (vc_http_hold,
 * VC_HTTP_HELD): no thread waits for it meanwhile.
 * vc_http_stop / vc_http_server_free must not be called from a handler.
 */
#ifndef VC_HTTP_H
#define VC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "vc/authn.h"
#include "vc/util.h"

struct vc_ws;
struct vc_metrics;

typedef struct vc_http_server vc_http_server_t;

typedef struct vc_http_request {
    const char *method;    /* "GET", "POST", ... */
    const char *path;      /* without the query string */
    const char *body;      /* NUL-terminated, body_len bytes (may contain NULs) */
    size_t body_len;
    char remote[64];       /* "ip:port" of the peer */
    vc_auth_info_t auth;   /* filled for authenticated routes */
    const char *token;     /* the bearer token (authenticated routes), else NULL */
    void *internal;        /* MHD connection: use the accessors below */
    bool deferred;         /* this is the second call, on the worker pool (VC_HTTP_DEFER) */
    void *scratch;         /* kept between the two calls; freed with scratch_free */
    void (*scratch_free)(void *);
} vc_http_request_t;

/* Handler return value: "call me again on the worker pool" (see above). */
#define VC_HTTP_DEFER 0x44454652 /* "DEFR"; other non-negative returns mean success */
/* Handler return value: "the answer comes later" (vc_http_hold). */
#define VC_HTTP_HELD 0x48454c44 /* "HELD" */
/* Interceptor return value (first call only): "not mine", go on with routing and auth. */
#define VC_HTTP_NEXT 0x4e455854 /* "NEXT" */

#define VC_HTTP_MAX_HEADERS 8

typedef struct vc_http_response {
    int status;               /* default 200 */
    vc_buf_t body;            /* owned by the server after the handler returns */
    const char *content_type; /* static string; default "application/json" */
    const char *headers[VC_HTTP_MAX_HEADERS][2]; /* extra headers, static or request-scoped */
    size_t n_headers;
    /*
     * Raw upgrades (status 101 with upgraded set; e.g. a WebSocket pass-through proxy): the 101
     * goes out with the headers above (set "Upgrade" yourself; the server adds "Connection:
     * Upgrade"), then upgraded(fd, extra, extra_len, upgrade_arg) runs on a thread of its own
     * with the raw client socket (possibly non-blocking) and the bytes already read past the
     * request. The server closes the socket when upgraded returns; vc_http_stop shuts the
     * socket down (shutdown(2)) so a pump blocked on it wakes up. If the upgrade cannot happen
     * (client gone, OOM, server stopping), upgraded is called once with fd -1 instead, so it
     * can release upgrade_arg.
     */
    void (*upgraded)(int fd, const void *extra, size_t extra_len, void *upgrade_arg);
    void *upgrade_arg;
} vc_http_response_t;

/* Fills resp. A negative return makes a 500 with {"error":"<vc_strerror>"}. */
typedef int (*vc_http_handler_t)(vc_http_request_t *req, vc_http_response_t *resp, void *userdata);
/* Runs on a thread of its own for each upgraded connection, for as long as the connection is
 * served. ws stays owned by the server, which frees it when the handler returns. req->auth,
 * token and remote stay valid during the call; body and the header accessors do not. */
typedef void (*vc_http_ws_handler_t)(struct vc_ws *ws, const vc_http_request_t *req, void *userdata);
/* Verifies a token; returns 0 and fills *ret or a negative error (-> 401). */
typedef int (*vc_http_auth_fn)(void *userdata, const char *token, vc_auth_info_t *ret);

enum {
    VC_HTTP_PUBLIC = 1u << 0, /* no authentication */
};

typedef struct vc_http_opts {
    const char *listen;       /* "127.0.0.1:0", "[::1]:8989", "/ip4/127.0.0.1/tcp/8989" */
    unsigned threads;         /* worker threads, default 4 */
    size_t max_body;          /* default 16 MiB */
    unsigned conn_timeout_s;  /* idle connection timeout, default 60 */
    unsigned max_connections; /* default 1024 */
    size_t ws_max_message;    /* default = max_body */
    int ws_ping_interval_ms;  /* default 5000 */
} vc_http_opts_t;

int vc_http_server_new(const vc_http_opts_t *opts, vc_http_server_t **ret);
/* Stops (if running), closes every WebSocket the server handed out and frees. */
vc_http_server_t *vc_http_server_free(vc_http_server_t *s);

/* method NULL = any method. Routes are added before vc_http_start. */
int vc_http_route(vc_http_server_t *s, const char *method, const char *path, unsigned flags,
                  vc_http_handler_t handler, void *userdata);
int vc_http_route_ws(vc_http_server_t *s, const char *path, unsigned flags, vc_http_ws_handler_t handler,
                     void *userdata);
void vc_http_set_auth(vc_http_server_t *s, vc_http_auth_fn fn, void *userdata);
/*
 * Interceptor: fn sees every request once its body is read, before /healthcheck, /metrics,
 * routing and authentication (OPTIONS preflights and bodies over max_body excepted), e.g. a
 * reverse proxy chosen by a header. It returns VC_HTTP_NEXT to let the server go on as if it
 * were not there; any other return is a handler's (fill resp, VC_HTTP_DEFER to be called again
 * on the worker pool, where it must then answer, negative = 500). req->auth and req->token are
 * not filled. One interceptor per server, set before vc_http_start.
 */
void vc_http_set_interceptor(vc_http_server_t *s, vc_http_handler_t fn, void *userdata);
/* Serves GET /metrics (public) from this registry, and counts requests in it. */
void vc_http_set_metrics(vc_http_server_t *s, struct vc_metrics *m);

/* Binds and starts serving. /healthcheck is always served (public). */
int vc_http_start(vc_http_server_t *s);
/* The bound port (after start), e.g. when listening on port 0. */
unsigned vc_http_port(const vc_http_server_t *s);
/* "127.0.0.1:PORT" style address actually bound. */
const char *vc_http_bound(const vc_http_server_t *s);
void vc_http_stop(vc_http_server_t *s);

/* Request accessors (valid during the handler). */
const char *vc_http_header(const vc_http_request_t *req, const char *name);
const char *vc_http_query(const vc_http_request_t *req, const char *name);
typedef enum vc_http_kind {
    VC_HTTP_KIND_HEADER, /* request headers, as received */
    VC_HTTP_KIND_QUERY,  /* query arguments, decoded; value NULL for "?flag" */
    VC_HTTP_KIND_MAX,
} vc_http_kind_t;
/* Calls fn for each header or query argument (valid during the handler) until fn returns
 * non-zero; returns the number visited. */
int vc_http_foreach(const vc_http_request_t *req, vc_http_kind_t kind,
                    int (*fn)(const char *name, const char *value, void *userdata), void *userdata);
/* A value from the query string or an application/x-www-form-urlencoded body. */
const char *vc_http_form(const vc_http_request_t *req, const char *name);

/*
 * Answering later. A handler (route or interceptor, first or deferred call) keeps its request
 * open with vc_http_hold and returns VC_HTTP_HELD; MHD keeps the connection suspended and goes
 * on serving others. Any thread then answers once with vc_http_held_reply, possibly before the
 * handler has returned. A handler that holds and returns anything else answers itself (the
 * reply is then dropped). A client that disconnects meanwhile is noticed when the answer goes
 * out; vc_http_stop answers requests still held with 503 (a later reply is dropped).
 */
typedef struct vc_http_held vc_http_held_t;

/* From inside a handler; NULL on OOM or if the request is already held. */
vc_http_held_t *vc_http_hold(vc_http_request_t *req);
/* Sends resp (status, content type, static headers; the body is taken; no raw upgrade) and
 * releases h. Thread-safe. 0, or VC_ECLOSED when the answer was dropped (see above). */
int vc_http_held_reply(vc_http_held_t *h, vc_http_response_t *resp);

/* Response helpers. */
int vc_http_reply_json(vc_http_response_t *resp, int status, const char *json_text);
/* {"error":"<msg>"} with status (venus-auth style errors). */
int vc_http_reply_error(vc_http_response_t *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
