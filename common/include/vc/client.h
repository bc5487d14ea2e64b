/*
 * client.h: outbound JSON-RPC and REST calls.
 *
 * A vc_client_t has an ordered endpoint list, a bearer token and timeouts. HTTP calls go
 * through libcurl (kept-alive handles are reused); a call is retried on the next endpoint, then
 * round after round with backoff, only for transport errors (connect refused, reset, timeout):
 * an answer from a server, even an error, is final. WebSocket sessions (vc_client_ws_connect)
 * give a vc_rpc_conn_t for channels and long-lived sessions.
 *
 * Thread-safe: one client may be used from many threads.
 */
#ifndef VC_CLIENT_H
#define VC_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "vc/rpc.h"

typedef struct vc_client vc_client_t;

typedef struct vc_client_opts {
    const char *const *endpoints; /* URLs or multiaddrs, tried in order */
    size_t n_endpoints;
    const char *default_path;     /* appended when an endpoint has no path, e.g. "/rpc/v0" */
    const char *token;            /* bearer token, may be NULL */
    const char *api_namespace;    /* X-VENUS-API-NAMESPACE header value, may be NULL */
    int timeout_ms;               /* whole request, default 30000 */
    int connect_timeout_ms;       /* default 5000 */
    int retries;                  /* extra rounds over the list on transport errors, default 2 */
    int retry_backoff_ms;         /* first backoff, doubled each round, default 200 */
} vc_client_opts_t;

int vc_client_new(const vc_client_opts_t *opts, vc_client_t **ret);
vc_client_t *vc_client_free(vc_client_t *c);
/* The endpoint (as a URL) that answered last; for logs. */
const char *vc_client_current(const vc_client_t *c);

/*
 * JSON-RPC over HTTP POST. params is stolen (NULL = []). On success *ret_result is a new
 * reference (JSON null for null results). VC_EREMOTE with *ret_err filled when the server
 * answered with an error object; VC_ETRANSPORT when no endpoint could be reached; VC_EHTTP for
 * an HTTP status without a JSON-RPC body (e.g. 401: ret_err->code holds the status).
 */
int vc_client_call(vc_client_t *c, const char *method, json_t *params, json_t **ret_result,
                   vc_rpc_err_t *ret_err);
/* The same with a whole-request timeout for this call only (<= 0: the client's timeout_ms); a
 * call that runs out of time is a transport error (VC_ETRANSPORT). */
int vc_client_call_timeout(vc_client_t *c, const char *method, json_t *params, int timeout_ms,
                           json_t **ret_result, vc_rpc_err_t *ret_err);

/*
 * REST call: method "GET"/"POST"/"PUT"/"DELETE", path_query "/user?name=x" (joined to the
 * endpoint's scheme://host:port), json_body may be NULL. Returns 0 with the status and the body
 * (malloc'ed, NUL-terminated) for any HTTP answer; VC_ETRANSPORT when nobody answered.
 */
int vc_client_rest(vc_client_t *c, const char *method, const char *path_query, const char *json_body,
                   long *ret_status, char **ret_body, size_t *ret_len);

/* Opens a WebSocket JSON-RPC session on the first endpoint that accepts one. serve may be NULL
 * (methods this side offers to the peer). */
int vc_client_ws_connect(vc_client_t *c, vc_rpc_server_t *serve, vc_rpc_conn_t **ret);

/* Percent-encodes s for a query string value. malloc'ed. */
char *vc_url_escape(const char *s);

#endif
