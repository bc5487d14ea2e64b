/* client.c: outbound JSON-RPC / REST over libcurl, WebSocket sessions over vc_ws. */
#include "vc/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>

#include "vc/log.h"
#include "vc/netaddr.h"
#include "vc/util.h"
#include "vc/ws.h"

#define MAX_IDLE_HANDLES 16
#define MAX_RESPONSE (256u << 20)

typedef struct endpoint {
    char *rpc_url;  /* http(s)://host:port/path */
    char *base_url; /* http(s)://host:port */
    char *ws_url;   /* ws(s)://host:port/path */
} endpoint_t;

struct vc_client {
    vc_client_opts_t opts;
    endpoint_t *eps;
    size_t n_eps;
    char *auth_header;
    char *ns_header;
    pthread_mutex_t lock;
    CURL *idle[MAX_IDLE_HANDLES];
    size_t n_idle;
    _Atomic size_t current;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void endpoints_free(endpoint_t *eps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(eps[i].rpc_url);
        free(eps[i].base_url);
        free(eps[i].ws_url);
    }
    free(eps);
}

static int make_endpoint(const char *spec, const char *path, endpoint_t *ep)
{
    int r = vc_netaddr_to_url(spec, "http", path, &ep->rpc_url);
    if (r < 0)
        return r;
    r = vc_netaddr_to_url(spec, "ws", path, &ep->ws_url);
    if (r < 0)
        return r;
    /* base = scheme://host:port */
    const char *p = strstr(ep->rpc_url, "://");
    const char *slash = p ? strchr(p + 3, '/') : NULL;
    size_t n = slash ? (size_t)(slash - ep->rpc_url) : strlen(ep->rpc_url);
    ep->base_url = strndup(ep->rpc_url, n);
    return ep->base_url ? 0 : -ENOMEM;
}

int vc_client_new(const vc_client_opts_t *opts, vc_client_t **ret)
{
    if (!opts->n_endpoints)
        return -EINVAL;
    pthread_once(&curl_once, curl_init_once);
    vc_client_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->opts = *opts;
    c->opts.endpoints = NULL;
    c->opts.token = NULL;
    c->opts.api_namespace = NULL;
    c->opts.default_path = NULL;
    if (c->opts.timeout_ms <= 0)
        c->opts.timeout_ms = 30000;
    if (c->opts.connect_timeout_ms <= 0)
        c->opts.connect_timeout_ms = 5000;
    if (c->opts.retries < 0)
        c->opts.retries = 0;
    else if (c->opts.retries == 0)
        c->opts.retries = 2;
    if (c->opts.retry_backoff_ms <= 0)
        c->opts.retry_backoff_ms = 200;
    pthread_mutex_init(&c->lock, NULL);
    c->eps = calloc(opts->n_endpoints, sizeof(*c->eps));
    if (!c->eps) {
        vc_client_free(c);
        return -ENOMEM;
    }
    c->n_eps = opts->n_endpoints;
    for (size_t i = 0; i < opts->n_endpoints; i++) {
        int r = make_endpoint(opts->endpoints[i], opts->default_path, &c->eps[i]);
        if (r < 0) {
            vc_client_free(c);
            return r;
        }
    }
    if (!vc_strempty(opts->token)) {
        size_t n = strlen(opts->token) + 32;
        c->auth_header = malloc(n);
        if (c->auth_header)
            snprintf(c->auth_header, n, "Authorization: Bearer %s", opts->token);
    }
    if (!vc_strempty(opts->api_namespace)) {
        size_t n = strlen(opts->api_namespace) + 32;
        c->ns_header = malloc(n);
        if (c->ns_header)
            snprintf(c->ns_header, n, "X-VENUS-API-NAMESPACE: %s", opts->api_namespace);
    }
    *ret = c;
    return 0;
}

vc_client_t *vc_client_free(vc_client_t *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    endpoints_free(c->eps, c->n_eps);
    free(c->auth_header);
    free(c->ns_header);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
}

const char *vc_client_current(const vc_client_t *c)
{
    return c->eps[c->current].rpc_url;
}

static CURL *handle_get(vc_client_t *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle)
        h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->lock);
    if (!h)
        h = curl_easy_init();
    else
        curl_easy_reset(h);
    return h;
}

static void handle_put(vc_client_t *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    if (c->n_idle < MAX_IDLE_HANDLES) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h)
        curl_easy_cleanup(h);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    vc_buf_t *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > MAX_RESPONSE || vc_buf_append(b, ptr, n) < 0)
        return 0;
    return n;
}

static bool transport_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

/* One HTTP exchange. Returns 0 (status set), VC_ETRANSPORT, or another error; *ret_sent tells
 * whether any of the request reached the network (then it must not be repeated blindly). */
static int http_once(vc_client_t *c, const char *method, const char *url, const char *body, int timeout_ms,
                     long *ret_status, vc_buf_t *out, bool *ret_sent)
{
    CURL *h = handle_get(c);
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    int r = 0;
    if (!h)
        return -ENOMEM;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (body)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (c->auth_header)
        hdrs = curl_slist_append(hdrs, c->auth_header);
    if (c->ns_header)
        hdrs = curl_slist_append(hdrs, c->ns_header);
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (!vc_streq(method, "GET"))
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)VC_MIN(c->opts.connect_timeout_ms, timeout_ms));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, ret_status);
    else {
        long sent = 0;
        curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
        *ret_sent = sent > 0;
        vc_debug("client: %s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        r = transport_error(rc) ? VC_ETRANSPORT : -EIO;
    }
    /* the pooled handle must not keep pointers to this call's stack and header list */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_slist_free_all(hdrs);
    handle_put(c, h);
    return r;
}

/* Tries every endpoint in order, for 1 + retries rounds, on transport errors only, and only
 * while nothing was sent: a request that may have reached a server is not repeated (a push or
 * a sign must not run twice). */
static int http_with_retry(vc_client_t *c, const char *method, const char *path_query, const char *body,
                           int timeout_ms, long *ret_status, vc_buf_t *out)
{
    int backoff = c->opts.retry_backoff_ms, r = VC_ETRANSPORT;
    for (int round = 0; round <= c->opts.retries; round++) {
        if (round > 0) {
            vc_sleep_ms(backoff);
            backoff *= 2;
        }
        for (size_t i = 0; i < c->n_eps; i++) {
            char *url = NULL;
            if (path_query) {
                size_t n = strlen(c->eps[i].base_url) + strlen(path_query) + 1;
                url = malloc(n);
                if (!url)
                    return -ENOMEM;
                snprintf(url, n, "%s%s", c->eps[i].base_url, path_query);
            }
            bool sent = false;
            out->len = 0;
            r = http_once(c, method, url ? url : c->eps[i].rpc_url, body, timeout_ms, ret_status, out, &sent);
            free(url);
            if (r != VC_ETRANSPORT || sent) {
                c->current = i;
                return r;
            }
        }
    }
    return r;
}

int vc_client_rest(vc_client_t *c, const char *method, const char *path_query, const char *json_body,
                   long *ret_status, char **ret_body, size_t *ret_len)
{
    vc_buf_t out = {0};
    long status = 0;
    int r = http_with_retry(c, method, path_query, json_body, c->opts.timeout_ms, &status, &out);
    if (r < 0) {
        vc_buf_done(&out);
        return r;
    }
    *ret_status = status;
    if (ret_len)
        *ret_len = out.len;
    if (ret_body)
        *ret_body = vc_buf_steal(&out);
    else
        vc_buf_done(&out);
    return 0;
}

int vc_client_call(vc_client_t *c, const char *method, json_t *params, json_t **ret_result, vc_rpc_err_t *ret_err)
{
    return vc_client_call_timeout(c, method, params, 0, ret_result, ret_err);
}

int vc_client_call_timeout(vc_client_t *c, const char *method, json_t *params, int timeout_ms, json_t **ret_result,
                           vc_rpc_err_t *ret_err)
{
    static _Atomic long next_id = 1;
    json_t *req = json_pack("{s:s, s:s, s:o, s:I}", "jsonrpc", "2.0", "method", method, "params",
                            params ? params : json_array(), "id", (json_int_t)next_id++);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return -ENOMEM;
    vc_buf_t out = {0};
    long status = 0;
    int r = http_with_retry(c, "POST", NULL, body, timeout_ms > 0 ? timeout_ms : c->opts.timeout_ms, &status, &out);
    free(body);
    if (r < 0) {
        vc_buf_done(&out);
        return r;
    }
    json_error_t jerr;
    json_t *resp = out.len ? json_loadb(out.data, out.len, 0, &jerr) : NULL;
    vc_buf_done(&out);
    if (!resp || !json_is_object(resp)) {
        json_decref(resp);
        if (ret_err) {
            ret_err->code = (int)status;
            snprintf(ret_err->message, sizeof(ret_err->message), "HTTP %ld without a JSON-RPC response", status);
        }
        return VC_EHTTP;
    }
    json_t *err = json_object_get(resp, "error");
    if (err && !json_is_null(err)) {
        if (ret_err) {
            const char *m = json_string_value(json_object_get(err, "message"));
            ret_err->code = (int)json_integer_value(json_object_get(err, "code"));
            snprintf(ret_err->message, sizeof(ret_err->message), "%s", m ? m : "");
        }
        json_decref(resp);
        return VC_EREMOTE;
    }
    if (ret_result) {
        json_t *res = json_object_get(resp, "result");
        *ret_result = json_incref(res ? res : json_null());
    }
    json_decref(resp);
    return 0;
}

int vc_client_ws_connect(vc_client_t *c, vc_rpc_server_t *serve, vc_rpc_conn_t **ret)
{
    const char *headers[3] = {0};
    size_t nh = 0;
    int r = VC_ETRANSPORT;
    if (c->auth_header)
        headers[nh++] = c->auth_header;
    if (c->ns_header)
        headers[nh++] = c->ns_header;
    for (size_t i = 0; i < c->n_eps; i++) {
        struct vc_ws *ws = NULL;
        int status = 0;
        r = vc_ws_connect(c->eps[i].ws_url, headers, c->opts.connect_timeout_ms, NULL, &ws, &status);
        if (r == 0) {
            c->current = i;
            return vc_rpc_conn_new_client(ws, serve, ret);
        }
        vc_debug("client: websocket %s: %s (status %d)", c->eps[i].ws_url, vc_strerror(r), status);
        if (r != VC_ETRANSPORT && r != -ETIMEDOUT)
            return r;
    }
    return r;
}

char *vc_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~')
            *o++ = (char)*p;
        else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = 0;
    return out;
}
