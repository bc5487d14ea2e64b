/*
 * rpc.h: JSON-RPC 2.0 as go-jsonrpc speaks it, over HTTP POST and WebSocket.
 *
 * A vc_rpc_server_t holds a method table (name, required permission, exact param count,
 * function) and is mounted on HTTP paths (vc_rpc_mount): POST bodies are dispatched on the
 * HTTP worker thread; WebSocket connections become vc_rpc_conn_t peers whose requests run on an
 * elastic worker pool, so a method may block (waiting for another connection's answer) without
 * stalling its connection's reader.
 *
 * Wire behaviour (spec/auth-gateway.md B2, spec/miner-and-node-api.md B.0):
 *   request  {"jsonrpc":"2.0","method":"Ns.Method","params":[...],"id":N|"s"}; no id = notification
 *   success  {"jsonrpc":"2.0","id":N,"result":...}            (null for error-only methods)
 *   error    {"jsonrpc":"2.0","id":N,"error":{"code":1,"message":"..."}}
 *   -32700 parse error / param decode, -32600 invalid request, -32601 method not found (also a
 *   channel method called over HTTP), -32602 wrong param count; application errors code 1.
 *   Missing permission: code 1, "missing permission to invoke '<Method>'  (need '<perm>')".
 *   Channels (WebSocket only): result is a per-connection id from 1, then notifications
 *   xrpc.ch.val [id, value] and xrpc.ch.close [id]; the client cancels with xrpc.cancel [reqid].
 *
 * Answering later: a method flagged VC_RPC_ASYNC may hold its call (vc_rpc_call_hold) and
 * return VC_RPC_PENDING; another thread answers it afterwards with vc_rpc_complete /
 * vc_rpc_complete_error, which writes the response frame (WebSocket) or finishes the held HTTP
 * request (a batch is answered once its last call is). With VC_RPC_FAST too, such a method runs
 * on the HTTP thread or the connection's reader and no thread waits for the answer; when it
 * finds it would have to wait after all, vc_rpc_call_offload runs it again on the worker pool.
 *
 * The same vc_rpc_conn_t type is used on the client side (vc_rpc_conn_new_client): outgoing
 * calls with matched responses, channel subscriptions, and optionally serving methods to the
 * peer (server-to-client calls work both ways).
 */
#ifndef VC_RPC_H
#define VC_RPC_H

#include <jansson.h>
#include <stdbool.h>

#include "vc/authn.h"
#include "vc/http.h"

struct vc_ws;

enum {
    VC_RPC_PARSE_ERROR = -32700,
    VC_RPC_INVALID_REQUEST = -32600,
    VC_RPC_METHOD_NOT_FOUND = -32601,
    VC_RPC_INVALID_PARAMS = -32602,
    VC_RPC_APP_ERROR = 1,
};

typedef struct vc_rpc_server vc_rpc_server_t;
typedef struct vc_rpc_conn vc_rpc_conn_t;
typedef struct vc_rpc_call vc_rpc_call_t;
typedef struct vc_rpc_chan vc_rpc_chan_t;
typedef struct vc_rpc_sub vc_rpc_sub_t;

/* A method: params is the positional array (already checked for length); on success set
 * *ret_result to a new reference (NULL means JSON null). On failure return a negative value;
 * the error message is the one set with vc_rpc_error(), else vc_strerror(r). A VC_RPC_ASYNC
 * method may also return VC_RPC_PENDING (see vc_rpc_call_hold). */
typedef int (*vc_rpc_fn)(vc_rpc_call_t *call, json_t *params, json_t **ret_result);

/* Method return value: the call is held (or offloaded) and will be answered later. */
#define VC_RPC_PENDING 0x50454e44 /* "PEND" */

enum {
    VC_RPC_CHANNEL = 1u << 0, /* result is a channel (WebSocket only) */
    VC_RPC_FAST = 1u << 1,    /* never waits (no network or lock waits): it runs on the HTTP
                               * thread (POST) or on the connection's reader (WebSocket) instead
                               * of the worker pool */
    VC_RPC_ASYNC = 1u << 2,   /* may answer later (vc_rpc_call_hold, vc_rpc_call_offload); not
                               * with VC_RPC_CHANNEL */
};

typedef struct vc_rpc_method {
    const char *name; /* full wire name, "Filecoin.ChainHead" */
    unsigned perm;    /* required VC_PERM_* bit (0 = none) */
    int nparams;      /* exact positional param count */
    vc_rpc_fn fn;
    unsigned flags;
} vc_rpc_method_t;

typedef struct vc_rpc_opts {
    void *userdata;             /* given to methods via vc_rpc_call_userdata */
    unsigned min_workers;       /* WebSocket worker pool, default 4 */
    unsigned max_workers;       /* default 512 */
    unsigned max_inflight;      /* per connection, default 1024 */
    vc_authn_t *authn;          /* re-verifies WebSocket tokens when set */
    int reverify_interval_ms;   /* default 60000; 0 = default, <0 = never */
    bool permissive;            /* skip permission checks (daemon-internal servers) */
} vc_rpc_opts_t;

int vc_rpc_server_new(const vc_rpc_opts_t *opts, vc_rpc_server_t **ret);
/* Closes every connection, runs what is queued, joins the workers, frees. Stop the HTTP server
 * first, and close every client connection that uses s as its `serve` table. Call it (and
 * vc_http_stop) from a thread that is not running a call of s (e.g. the daemon's main thread). */
vc_rpc_server_t *vc_rpc_server_free(vc_rpc_server_t *s);
/* methods must outlive the server (static tables). Duplicate names: -EEXIST. */
int vc_rpc_register(vc_rpc_server_t *s, const vc_rpc_method_t *methods, size_t n);
/* Serves POST and WebSocket on path (e.g. "/rpc/v0"). Several paths may share one server;
 * path_userdata is available to methods via vc_rpc_call_path_userdata (e.g. the API version). */
int vc_rpc_mount(vc_rpc_server_t *s, vc_http_server_t *http, const char *path, void *path_userdata);
/* Connection open/close observers (e.g. gateway bookkeeping); either may be NULL. */
void vc_rpc_set_conn_hooks(vc_rpc_server_t *s, void (*on_open)(vc_rpc_conn_t *, void *),
                           void (*on_close)(vc_rpc_conn_t *, void *), void *userdata);
/* Handles one request body as the HTTP POST path does (used by tests and fuzzing): returns the
 * response text (NULL for notifications) and the HTTP status. */
int vc_rpc_handle_text(vc_rpc_server_t *s, const char *body, size_t len, const vc_auth_info_t *auth,
                       char **ret_response, int *ret_status);

/* ---- inside a method ---- */
void *vc_rpc_call_userdata(const vc_rpc_call_t *call);
void *vc_rpc_call_path_userdata(const vc_rpc_call_t *call);
const vc_auth_info_t *vc_rpc_call_auth(const vc_rpc_call_t *call);
const char *vc_rpc_call_method(const vc_rpc_call_t *call);
/* The WebSocket connection the call came on, NULL over HTTP. */
vc_rpc_conn_t *vc_rpc_call_conn(const vc_rpc_call_t *call);
/* "ip:port" of the caller. */
const char *vc_rpc_call_remote(const vc_rpc_call_t *call);
/* True once the client sent xrpc.cancel for this call or its connection closed. */
bool vc_rpc_call_canceled(const vc_rpc_call_t *call);
/* Sets the error object; returns VC_EREMOTE for `return vc_rpc_error(call, 1, "...")`. */
int vc_rpc_error(vc_rpc_call_t *call, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- answering later (methods flagged VC_RPC_ASYNC) ---- */
/*
 * Keeps call past the method's return: the method then returns VC_RPC_PENDING, and the holder
 * answers exactly once, from any thread, with vc_rpc_complete or vc_rpc_complete_error (which
 * also release the hold; the call and its accessors stay valid until then). The answer may come
 * before the method has returned. NULL (and nothing held) for a method not flagged
 * VC_RPC_ASYNC. A notification's answer is dropped. A WebSocket call stays canceled-aware
 * (vc_rpc_call_canceled: xrpc.cancel, connection closed) and its answer is dropped once the
 * connection is gone; over HTTP a client that went away is only noticed when answering (and
 * once the HTTP server has stopped, its answer is dropped too). A call may be answered after
 * vc_rpc_server_free, but vc_rpc_call_userdata must not be used on it any more.
 */
vc_rpc_call_t *vc_rpc_call_hold(vc_rpc_call_t *call);
/* Answers a held call with result (stolen, NULL = JSON null). 0, or VC_ECLOSED when the
 * answer could not be delivered (connection or server gone, already answered). */
int vc_rpc_complete(vc_rpc_call_t *call, json_t *result);
/* Answers a held call with the error r (as a method returning r: vc_rpc_error's object, else
 * vc_strerror(r)). Same return as vc_rpc_complete. */
int vc_rpc_complete_error(vc_rpc_call_t *call, int r);
/* From a VC_RPC_ASYNC method that must not wait where it runs (VC_RPC_FAST): runs the method
 * again on the worker pool, where vc_rpc_call_may_block is true, and answers with what it
 * returns there (it may hold the call again). Returns VC_RPC_PENDING, for the method to return
 * at once (if the pool refuses the job, the call is answered with that error). */
int vc_rpc_call_offload(vc_rpc_call_t *call);
/* False while a VC_RPC_FAST method runs on the HTTP thread or the connection's reader. */
bool vc_rpc_call_may_block(const vc_rpc_call_t *call);

/* ---- channels (methods flagged VC_RPC_CHANNEL) ---- */
/* Opens the channel this call returns. on_close runs once when the client cancels, the
 * connection ends or the server stops (not when the producer closes it), never while the method
 * still runs: an end that comes meanwhile is told once the method has returned its channel, and
 * not at all if the method fails (it undoes its side itself). The caller owns one reference:
 * release it with vc_rpc_chan_unref after vc_rpc_chan_close or on_close. */
int vc_rpc_chan_open(vc_rpc_call_t *call, void (*on_close)(vc_rpc_chan_t *, void *), void *userdata,
                     vc_rpc_chan_t **ret);
/* Queues value (borrowed) as xrpc.ch.val; thread-safe; VC_ECLOSED once closed. Values sent
 * before the call's response are delivered after it, in order. */
int vc_rpc_chan_send(vc_rpc_chan_t *ch, json_t *value);
/* Sends xrpc.ch.close (once). */
void vc_rpc_chan_close(vc_rpc_chan_t *ch);
bool vc_rpc_chan_closed(const vc_rpc_chan_t *ch);
vc_rpc_conn_t *vc_rpc_chan_conn(const vc_rpc_chan_t *ch);
vc_rpc_chan_t *vc_rpc_chan_ref(vc_rpc_chan_t *ch);
vc_rpc_chan_t *vc_rpc_chan_unref(vc_rpc_chan_t *ch);

/* ---- connections (both sides) ---- */
typedef struct vc_rpc_err {
    int code;          /* JSON-RPC error code, or 0 for local errors */
    char message[512];
} vc_rpc_err_t;

/* Wraps a connected client WebSocket (takes ws). serve may be NULL (then incoming requests get
 * method-not-found). Starts the reader thread. */
int vc_rpc_conn_new_client(struct vc_ws *ws, vc_rpc_server_t *serve, vc_rpc_conn_t **ret);
vc_rpc_conn_t *vc_rpc_conn_ref(vc_rpc_conn_t *c);
/* Drops a reference. The connection's reader holds one of its own while the socket is open:
 * call vc_rpc_conn_close first, then unref. */
vc_rpc_conn_t *vc_rpc_conn_unref(vc_rpc_conn_t *c);
/* Shuts the socket down. On a client connection it also waits for the reader to finish
 * (every pending call failed, every subscription's on_close run), except when called from the
 * reader itself or from a method running on behalf of this connection. */
void vc_rpc_conn_close(vc_rpc_conn_t *c);
bool vc_rpc_conn_closed(const vc_rpc_conn_t *c);
const vc_auth_info_t *vc_rpc_conn_auth(const vc_rpc_conn_t *c);
const char *vc_rpc_conn_remote(const vc_rpc_conn_t *c);
/* Arbitrary per-connection pointer for the application. */
void vc_rpc_conn_set_data(vc_rpc_conn_t *c, void *data);
void *vc_rpc_conn_get_data(const vc_rpc_conn_t *c);

/* Calls method on the peer and waits for the matching response (params stolen, NULL = []).
 * VC_EREMOTE with *ret_err filled for an error object, VC_ECLOSED if the connection ends,
 * -ETIMEDOUT after timeout_ms (<= 0: wait forever; the peer is then sent xrpc.cancel),
 * -EDEADLK when called from the connection's reader (e.g. inside a subscription callback). */
int vc_rpc_conn_call(vc_rpc_conn_t *c, const char *method, json_t *params, int timeout_ms, json_t **ret_result,
                     vc_rpc_err_t *ret_err);
/* Sends a call whose answer nobody waits for (params stolen, NULL = []): for an acknowledgement
 * that only needs to be reported when it fails, from any thread, the reader's own included. An
 * error answer is logged (warning) by the reader; a result is dropped. 0 once the frame is
 * written, VC_ECLOSED on a closed connection. */
int vc_rpc_conn_send_call(vc_rpc_conn_t *c, const char *method, json_t *params);
/* Calls a channel method: on_value(value borrowed) runs on the reader thread for each
 * xrpc.ch.val, on_close once when the channel ends for any reason. *ret is the subscription
 * (release with vc_rpc_sub_free, which cancels it if still open). */
int vc_rpc_conn_subscribe(vc_rpc_conn_t *c, const char *method, json_t *params, int timeout_ms,
                          void (*on_value)(json_t *value, void *userdata), void (*on_close)(void *userdata),
                          void *userdata, vc_rpc_sub_t **ret, vc_rpc_err_t *ret_err);
/* Sends xrpc.cancel for the subscription's request (the server then closes the channel). */
int vc_rpc_sub_cancel(vc_rpc_sub_t *sub);
void vc_rpc_sub_free(vc_rpc_sub_t *sub);

#endif
