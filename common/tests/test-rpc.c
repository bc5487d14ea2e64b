/*
 * JSON-RPC end to end: a real HTTP server on 127.0.0.1 port 0 with the rpc layer mounted,
 * driven over HTTP (libcurl client and raw bodies) and WebSocket (our ws client).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>

#include "vc-test.h"
#include "vc/authn.h"
#include "vc/client.h"
#include "vc/http.h"
#include "vc/metrics.h"
#include "vc/rpc.h"
#include "vc/util.h"
#include "vc/ws.h"

static const uint8_t secret[32] = "test-secret-0123456789abcdefghij";
static vc_http_server_t *http;
static vc_rpc_server_t *rpc;
static vc_metrics_t *metrics;
static char base_url[128];
static char *tok_admin, *tok_read;

/* ---- server methods ---- */

static int m_echo(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_incref(json_array_get(params, 0));
    return 0;
}

static int m_add(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *a = json_array_get(params, 0), *b = json_array_get(params, 1);
    if (!json_is_integer(a) || !json_is_integer(b))
        return vc_rpc_error(call, VC_RPC_PARSE_ERROR, "unmarshaling params for '%s': expected integers",
                            vc_rpc_call_method(call));
    *ret = json_integer(json_integer_value(a) + json_integer_value(b));
    return 0;
}

static int m_admin(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_string(vc_rpc_call_auth(call)->name);
    return 0;
}

static int m_fail(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return vc_rpc_error(call, 1, "actor not found");
}

static atomic_int fail_count;
static int m_count_fail(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    atomic_fetch_add(&fail_count, 1);
    return vc_rpc_error(call, 1, "always fails");
}

static int m_nothing(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return 0; /* error-only method: result null */
}

/* Channel that sends params[0] integers then closes (from a thread). */
typedef struct ticker {
    vc_rpc_chan_t *ch;
    int count;        /* < 0: forever until canceled */
    atomic_bool stop;
    atomic_bool closed_by_peer;
} ticker_t;

static atomic_int tickers_closed;

static void *ticker_main(void *arg)
{
    ticker_t *t = arg;
    for (int i = 0; (t->count < 0 || i < t->count) && !atomic_load(&t->stop); i++) {
        json_t *v = json_pack("{s:i}", "n", i);
        int r = vc_rpc_chan_send(t->ch, v);
        json_decref(v);
        if (r < 0)
            break;
        if (t->count < 0)
            vc_sleep_ms(5);
    }
    if (!atomic_load(&t->stop))
        vc_rpc_chan_close(t->ch);
    /* wait for the cancel notification when running forever */
    while (t->count < 0 && !atomic_load(&t->closed_by_peer))
        vc_sleep_ms(2);
    vc_rpc_chan_unref(t->ch);
    free(t);
    atomic_fetch_add(&tickers_closed, 1);
    return NULL;
}

static void ticker_on_close(vc_rpc_chan_t *ch, void *ud)
{
    ticker_t *t = ud;
    atomic_store(&t->stop, true);
    atomic_store(&t->closed_by_peer, true);
}

static int m_ticks(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    ticker_t *t = calloc(1, sizeof(*t));
    pthread_t th;
    if (!t)
        return -ENOMEM;
    t->count = (int)json_integer_value(json_array_get(params, 0));
    int r = vc_rpc_chan_open(call, ticker_on_close, t, &t->ch);
    if (r < 0) {
        free(t);
        return r;
    }
    if (pthread_create(&th, NULL, ticker_main, t) != 0) {
        vc_rpc_chan_close(t->ch);
        vc_rpc_chan_unref(t->ch);
        free(t);
        return -EAGAIN;
    }
    pthread_detach(th);
    return 0;
}

/* A channel method that is still setting up when its client goes away: params[0] true makes
 * it succeed, false fail. on_close must not run before it returns (producers free their state
 * there), and not at all after a failure. */
static struct {
    atomic_bool entered, returned;
    atomic_int closes, closed_while_running;
} slow_open;

static void slow_open_on_close(vc_rpc_chan_t *ch, void *ud)
{
    (void)ud;
    if (!atomic_load(&slow_open.returned))
        atomic_fetch_add(&slow_open.closed_while_running, 1);
    atomic_fetch_add(&slow_open.closes, 1);
    vc_rpc_chan_unref(ch); /* the producer's reference */
}

static int m_slow_open(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_rpc_chan_t *ch;
    bool succeed = json_is_true(json_array_get(params, 0));
    int r = vc_rpc_chan_open(call, slow_open_on_close, NULL, &ch);
    if (r < 0)
        return r;
    atomic_store(&slow_open.entered, true);
    for (int i = 0; i < 500 && !vc_rpc_call_canceled(call); i++) /* the client disconnects */
        vc_sleep_ms(10);
    vc_sleep_ms(100); /* time for an early on_close to run */
    if (!succeed) {
        vc_rpc_chan_unref(ch); /* the error path undoes the producer's side */
        atomic_store(&slow_open.returned, true);
        return vc_rpc_error(call, 1, "setup failed");
    }
    atomic_store(&slow_open.returned, true);
    return 0;
}

/* Calls the client back over the same WebSocket. */
static int m_callback(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_rpc_conn_t *c = vc_rpc_call_conn(call);
    vc_rpc_err_t err;
    if (!c)
        return vc_rpc_error(call, 1, "needs a websocket");
    int r = vc_rpc_conn_call(c, "Client.Hello", json_pack("[O]", json_array_get(params, 0)), 5000, ret, &err);
    if (r == VC_EREMOTE)
        return vc_rpc_error(call, 1, "client said: %s", err.message);
    return r;
}

/* Blocks until canceled (or 5 s). */
static int m_block(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    for (int i = 0; i < 500 && !vc_rpc_call_canceled(call); i++)
        vc_sleep_ms(10);
    *ret = json_boolean(vc_rpc_call_canceled(call));
    return 0;
}

static int m_sleep(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_sleep_ms(json_integer_value(json_array_get(params, 0)));
    *ret = json_true();
    return 0;
}

/* Asks the calling client to close its own connection from inside a served method. */
static int m_make_client_quit(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_rpc_err_t err;
    int r = vc_rpc_conn_call(vc_rpc_call_conn(call), "Client.Quit", NULL, 3000, ret, &err);
    return r == VC_ECLOSED || r == -ETIMEDOUT ? 0 : r;
}

/* ---- answering later ---- */

typedef struct later {
    vc_rpc_call_t *call;
    json_t *value; /* NULL: answer with an error */
    int delay_ms;  /* < 0: until later_gate opens */
} later_t;

static atomic_int laters_running, later_last_r, later_saw_cancel;
static atomic_bool later_gate;

static void *later_main(void *arg)
{
    later_t *l = arg;
    if (l->delay_ms < 0)
        while (!atomic_load(&later_gate))
            vc_sleep_ms(5);
    else
        vc_sleep_ms(l->delay_ms);
    if (vc_rpc_call_canceled(l->call))
        atomic_fetch_add(&later_saw_cancel, 1);
    int r = l->value ? vc_rpc_complete(l->call, l->value)
                     : vc_rpc_complete_error(l->call, vc_rpc_error(l->call, 1, "later failed"));
    atomic_store(&later_last_r, r);
    free(l);
    atomic_fetch_sub(&laters_running, 1);
    return NULL;
}

/* Test.Later [value, delay_ms]: a thread of its own answers value ("fail": an error) after
 * delay_ms; 0 answers before the method returns, < 0 once later_gate opens. */
static int m_later(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    json_t *v = json_array_get(params, 0);
    later_t *l = calloc(1, sizeof(*l));
    vc_rpc_call_t *held = l ? vc_rpc_call_hold(call) : NULL;
    pthread_t t;
    if (!held) {
        free(l);
        return -ENOMEM;
    }
    l->call = held;
    l->value = vc_streq(json_string_value(v), "fail") ? NULL : json_incref(v);
    l->delay_ms = (int)json_integer_value(json_array_get(params, 1));
    atomic_fetch_add(&laters_running, 1);
    if (l->delay_ms == 0)
        later_main(l);
    else if (pthread_create(&t, NULL, later_main, l) == 0)
        pthread_detach(t);
    else
        later_main(l);
    return VC_RPC_PENDING;
}

static void wait_laters(void)
{
    for (int i = 0; i < 1000 && atomic_load(&laters_running) > 0; i++)
        vc_sleep_ms(5);
    ASSERT_EQ(atomic_load(&laters_running), 0);
}

/* Runs where it may block: offloaded from the HTTP thread / reader. */
static int m_offload(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    if (!vc_rpc_call_may_block(call))
        return vc_rpc_call_offload(call);
    *ret = json_string("on the pool");
    return 0;
}

static int m_unheld(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return VC_RPC_PENDING;
}

static const vc_rpc_method_t methods[] = {
    {"Test.Later", VC_PERM_READ, 2, m_later, VC_RPC_FAST | VC_RPC_ASYNC},
    {"Test.LaterPool", VC_PERM_READ, 2, m_later, VC_RPC_ASYNC},
    {"Test.Offload", VC_PERM_READ, 0, m_offload, VC_RPC_FAST | VC_RPC_ASYNC},
    {"Test.Unheld", VC_PERM_READ, 0, m_unheld, VC_RPC_FAST | VC_RPC_ASYNC},
    {"Test.Sleep", VC_PERM_READ, 1, m_sleep, 0},
    {"Test.MakeClientQuit", VC_PERM_READ, 0, m_make_client_quit, 0},
    {"Test.Echo", VC_PERM_READ, 1, m_echo, VC_RPC_FAST},
    {"Test.Add", VC_PERM_READ, 2, m_add, VC_RPC_FAST},
    {"Test.AdminOnly", VC_PERM_ADMIN, 0, m_admin, 0},
    {"Test.Fail", VC_PERM_READ, 0, m_fail, 0},
    {"Test.Nothing", VC_PERM_READ, 0, m_nothing, 0},
    {"Test.CountFail", VC_PERM_READ, 0, m_count_fail, 0},
    {"Test.Ticks", VC_PERM_READ, 1, m_ticks, VC_RPC_CHANNEL},
    {"Test.SlowOpen", VC_PERM_READ, 1, m_slow_open, VC_RPC_CHANNEL},
    {"Test.CallBack", VC_PERM_READ, 1, m_callback, 0},
    {"Test.Block", VC_PERM_READ, 0, m_block, 0},
};

/* Client-side method served to the server. */
static int c_hello(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    const char *who = json_string_value(json_array_get(params, 0));
    if (!who)
        return vc_rpc_error(call, 1, "no name");
    char buf[128];
    snprintf(buf, sizeof(buf), "hello %s", who);
    *ret = json_string(buf);
    return 0;
}
static int c_quit(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    vc_rpc_conn_close(vc_rpc_call_conn(call)); /* must not wait for itself */
    *ret = json_true();
    return 0;
}

static const vc_rpc_method_t client_methods[] = {{"Client.Hello", 0, 1, c_hello, 0}, {"Client.Quit", 0, 0, c_quit, 0}};

static int test_auth(void *ud, const char *token, vc_auth_info_t *ret)
{
    return vc_jwt_verify(token, secret, sizeof(secret), ret);
}

static void setup(void)
{
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .max_body = 1 << 20, .threads = 2};
    vc_rpc_opts_t ro = {.min_workers = 2};
    if (vc_http_server_new(&ho, &http) < 0 || vc_rpc_server_new(&ro, &rpc) < 0 ||
        vc_rpc_register(rpc, methods, VC_ELEMENTSOF(methods)) < 0 ||
        vc_rpc_mount(rpc, http, "/rpc/v0", NULL) < 0) {
        fprintf(stderr, "setup failed\n");
        exit(2);
    }
    vc_http_set_auth(http, test_auth, NULL);
    metrics = vc_metrics_new("vctest");
    vc_http_set_metrics(http, metrics);
    if (vc_http_start(http) < 0) {
        fprintf(stderr, "start failed\n");
        exit(2);
    }
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u/rpc/v0", vc_http_port(http));
    vc_jwt_encode("ops", "admin", "", secret, sizeof(secret), &tok_admin);
    vc_jwt_encode("reader", "read", "", secret, sizeof(secret), &tok_read);
}

static vc_client_t *client_for(const char *token)
{
    const char *eps[] = {base_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token, .timeout_ms = 10000};
    vc_client_t *c = NULL;
    if (vc_client_new(&o, &c) < 0)
        return NULL;
    return c;
}

/* Raw POST returning status and parsed JSON body (NULL if empty). */
static long raw_post(const char *token, const char *body, size_t len, json_t **ret_json)
{
    const char *eps[] = {base_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = token};
    vc_client_t *c;
    long status = 0;
    char *resp = NULL;
    size_t rlen = 0;
    char path[64];
    if (vc_client_new(&o, &c) < 0)
        return -1;
    snprintf(path, sizeof(path), "/rpc/v0");
    char *copy = strndup(body, len);
    int r = vc_client_rest(c, "POST", path, copy, &status, &resp, &rlen);
    free(copy);
    vc_client_free(c);
    if (r < 0)
        return r;
    json_error_t e;
    *ret_json = rlen ? json_loadb(resp, rlen, 0, &e) : NULL;
    free(resp);
    return status;
}

/* A plain TCP connection to the server (-1 on failure). */
static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)vc_http_port(http))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void test_http_calls(void)
{
    vc_client_t *c = client_for(tok_read);
    json_t *res = NULL;
    vc_rpc_err_t err;
    ASSERT_NOTNULL(c);
    ASSERT_OK(vc_client_call(c, "Test.Echo", json_pack("[{s:s}]", "a", "b"), &res, &err));
    ASSERT_STREQ(json_string_value(json_object_get(res, "a")), "b");
    json_decref(res);
    ASSERT_OK(vc_client_call(c, "Test.Add", json_pack("[i,i]", 40, 2), &res, &err));
    ASSERT_EQ(json_integer_value(res), 42);
    json_decref(res);
    ASSERT_OK(vc_client_call(c, "Test.Nothing", NULL, &res, &err));
    ASSERT_TRUE(json_is_null(res));
    json_decref(res);

    ASSERT_EQ(vc_client_call(c, "Test.Fail", NULL, &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, 1);
    ASSERT_STREQ(err.message, "actor not found");
    ASSERT_EQ(vc_client_call(c, "Test.Add", json_pack("[i]", 1), &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, -32602);
    ASSERT_STREQ(err.message, "wrong param count (method 'Test.Add'): 1 != 2");
    ASSERT_EQ(vc_client_call(c, "Test.Nope", NULL, &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, -32601);
    ASSERT_STREQ(err.message, "method 'Test.Nope' not found");
    ASSERT_EQ(vc_client_call(c, "Test.AdminOnly", NULL, &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, 1);
    ASSERT_STREQ(err.message, "missing permission to invoke 'AdminOnly'  (need 'admin')");
    ASSERT_EQ(vc_client_call(c, "Test.Ticks", json_pack("[i]", 1), &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, -32601);
    ASSERT_STREQ(err.message, "method 'Test.Ticks' not supported in this mode (no out channel support)");
    vc_client_free(c);

    c = client_for(tok_admin);
    ASSERT_OK(vc_client_call(c, "Test.AdminOnly", NULL, &res, &err));
    ASSERT_STREQ(json_string_value(res), "ops");
    json_decref(res);
    vc_client_free(c);

    /* no token / bad token / forged token: 401 before any dispatch */
    c = client_for(NULL);
    ASSERT_EQ(vc_client_call(c, "Test.Echo", json_pack("[i]", 1), &res, &err), VC_EHTTP);
    ASSERT_EQ(err.code, 401);
    vc_client_free(c);
    char *forged;
    const uint8_t other[32] = "another-secret-xxxxxxxxxxxxxxxxx";
    ASSERT_OK(vc_jwt_encode("ops", "admin", "", other, sizeof(other), &forged));
    c = client_for(forged);
    ASSERT_EQ(vc_client_call(c, "Test.Echo", json_pack("[i]", 1), &res, &err), VC_EHTTP);
    ASSERT_EQ(err.code, 401);
    vc_client_free(c);
    free(forged);
}

/* Endpoint list: a dead endpoint is skipped (transport error), an application error is final. */
static void test_client_failover(void)
{
    const char *eps[] = {"http://127.0.0.1:1/rpc/v0", base_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 2, .token = tok_read, .retry_backoff_ms = 10};
    vc_client_t *c;
    json_t *res;
    vc_rpc_err_t err;
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_call(c, "Test.Add", json_pack("[i,i]", 2, 2), &res, &err));
    ASSERT_EQ(json_integer_value(res), 4);
    json_decref(res);
    ASSERT_STREQ(vc_client_current(c), base_url);
    atomic_store(&fail_count, 0);
    ASSERT_EQ(vc_client_call(c, "Test.CountFail", NULL, &res, &err), VC_EREMOTE);
    ASSERT_EQ(atomic_load(&fail_count), 1);
    vc_client_free(c);

    const char *dead[] = {"http://127.0.0.1:1", "/ip4/127.0.0.1/tcp/2"};
    vc_client_opts_t d = {.endpoints = dead, .n_endpoints = 2, .retries = 1, .retry_backoff_ms = 10};
    ASSERT_OK(vc_client_new(&d, &c));
    int64_t t0 = vc_now_mono_us();
    ASSERT_EQ(vc_client_call(c, "Test.Add", NULL, &res, &err), VC_ETRANSPORT);
    ASSERT_LT(vc_now_mono_us() - t0, 3000000);
    vc_rpc_conn_t *conn;
    ASSERT_EQ(vc_client_ws_connect(c, NULL, &conn), VC_ETRANSPORT);
    vc_client_free(c);
}

static void test_http_malformed(void)
{
    json_t *j = NULL;
    long st;

    st = raw_post(tok_read, "{\"jsonrpc\":\"2.0\",\"method\":", 26, &j);
    ASSERT_EQ(st, 500);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32700);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "error"), "message")), "Parse error");
    json_decref(j);

    st = raw_post(tok_read, "   ", 3, &j);
    ASSERT_EQ(st, 400);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32600);
    json_decref(j);

    st = raw_post(tok_read, "[]", 2, &j);
    ASSERT_EQ(st, 400);
    json_decref(j);

    /* params not an array */
    const char *p = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":{\"a\":1},\"id\":7}";
    st = raw_post(tok_read, p, strlen(p), &j);
    ASSERT_EQ(st, 500);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32700);
    ASSERT_EQ(json_integer_value(json_object_get(j, "id")), 7);
    json_decref(j);

    /* bad id type */
    p = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":[1],\"id\":{}}";
    st = raw_post(tok_read, p, strlen(p), &j);
    ASSERT_EQ(st, 500);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32700);
    json_decref(j);

    /* invalid UTF-8 */
    p = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":[\"\xff\xfe\"],\"id\":1}";
    st = raw_post(tok_read, p, strlen(p), &j);
    ASSERT_EQ(st, 500);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32700);
    json_decref(j);

    /* deep nesting: rejected, no crash */
    vc_buf_t deep = {0};
    vc_buf_append_str(&deep, "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"id\":1,\"params\":[");
    for (int i = 0; i < 100000; i++)
        vc_buf_append(&deep, "[", 1);
    for (int i = 0; i < 100000; i++)
        vc_buf_append(&deep, "]", 1);
    vc_buf_append_str(&deep, "]}");
    st = raw_post(tok_read, deep.data, deep.len, &j);
    vc_buf_done(&deep);
    ASSERT_EQ(st, 500);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32700);
    json_decref(j);

    /* oversized body: 413 */
    size_t big = (1 << 20) + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = 0;
    huge[0] = '[';
    huge[big - 1] = ']';
    st = raw_post(tok_read, huge, big, &j);
    free(huge);
    ASSERT_EQ(st, 413);
    json_decref(j);

    /* notification: no body */
    p = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":[1]}";
    j = NULL;
    st = raw_post(tok_read, p, strlen(p), &j);
    ASSERT_EQ(st, 200);
    ASSERT_TRUE(j == NULL);
}

static void test_http_batch(void)
{
    json_t *j = NULL;
    const char *p = "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,2],\"id\":1},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":[\"x\"]},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Nope\",\"params\":[],\"id\":\"b\"},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1],\"id\":3}]";
    long st = raw_post(tok_read, p, strlen(p), &j);
    ASSERT_EQ(st, 200);
    ASSERT_TRUE(json_is_array(j));
    ASSERT_EQ(json_array_size(j), 3); /* the notification gets no entry */
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(j, 0), "result")), 3);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 1), "id")), "b");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(j, 1), "error"), "code")), -32601);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(j, 2), "error"), "code")), -32602);
    json_decref(j);
}

static void test_healthcheck_and_404(void)
{
    const char *eps[] = {base_url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1};
    vc_client_t *c, *authed;
    long st;
    char *body;
    ASSERT_OK(vc_client_new(&o, &c));
    o.token = tok_read;
    ASSERT_OK(vc_client_new(&o, &authed));
    ASSERT_OK(vc_client_rest(c, "GET", "/healthcheck", NULL, &st, &body, NULL));
    free(body);
    ASSERT_EQ(st, 200);
    /* authentication wraps the whole mux, like venus AuthMux */
    ASSERT_OK(vc_client_rest(c, "GET", "/nope", NULL, &st, &body, NULL));
    free(body);
    ASSERT_EQ(st, 401);
    ASSERT_OK(vc_client_rest(authed, "GET", "/nope", NULL, &st, &body, NULL));
    free(body);
    ASSERT_EQ(st, 404);
    ASSERT_OK(vc_client_rest(c, "GET", "/rpc/v0", NULL, &st, &body, NULL));
    free(body);
    ASSERT_EQ(st, 401);
    ASSERT_OK(vc_client_rest(authed, "GET", "/rpc/v0", NULL, &st, &body, NULL));
    free(body);
    ASSERT_EQ(st, 405);
    /* token as a form value instead of the header */
    char path[1200];
    snprintf(path, sizeof(path), "/nope?token=%s", tok_read);
    ASSERT_OK(vc_client_rest(c, "GET", path, NULL, &st, &body, NULL));
    free(body);
    ASSERT_EQ(st, 404);
    /* /metrics is public and counts what happened above */
    ASSERT_OK(vc_client_rest(c, "GET", "/metrics", NULL, &st, &body, NULL));
    ASSERT_EQ(st, 200);
    ASSERT_TRUE(strstr(body, "vctest_http_requests_total{path=\"other\",code=\"404\"} 2") != NULL);
    ASSERT_TRUE(strstr(body, "vctest_http_requests_total{path=\"/rpc/v0\",code=\"405\"} 1") != NULL);
    ASSERT_TRUE(strstr(body, "vctest_http_request_duration_seconds_bucket") != NULL);
    free(body);
    vc_client_free(c);
    vc_client_free(authed);
}

/* ---- WebSocket ---- */

typedef struct sub_state {
    pthread_mutex_t lock;
    int values;
    int last;
    bool closed;
} sub_state_t;

static void on_val(json_t *v, void *ud)
{
    sub_state_t *s = ud;
    pthread_mutex_lock(&s->lock);
    s->last = (int)json_integer_value(json_object_get(v, "n"));
    s->values++;
    pthread_mutex_unlock(&s->lock);
}

static void on_close(void *ud)
{
    sub_state_t *s = ud;
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    pthread_mutex_unlock(&s->lock);
}

static bool wait_closed(sub_state_t *s, int ms)
{
    for (int i = 0; i < ms / 5; i++) {
        pthread_mutex_lock(&s->lock);
        bool c = s->closed;
        pthread_mutex_unlock(&s->lock);
        if (c)
            return true;
        vc_sleep_ms(5);
    }
    return false;
}

static void test_ws_calls_and_channels(void)
{
    vc_client_t *c = client_for(tok_read);
    vc_rpc_server_t *serve;
    vc_rpc_conn_t *conn;
    json_t *res = NULL;
    vc_rpc_err_t err;
    ASSERT_OK(vc_rpc_server_new(NULL, &serve));
    ASSERT_OK(vc_rpc_register(serve, client_methods, 2));
    ASSERT_OK(vc_client_ws_connect(c, serve, &conn));

    ASSERT_OK(vc_rpc_conn_call(conn, "Test.Add", json_pack("[i,i]", 2, 3), 5000, &res, &err));
    ASSERT_EQ(json_integer_value(res), 5);
    json_decref(res);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.Add", json_pack("[i,i,i]", 2, 3, 4), 5000, &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, -32602);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.AdminOnly", NULL, 5000, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "missing permission to invoke 'AdminOnly'  (need 'admin')");

    /* server -> client call on the same socket */
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.CallBack", json_pack("[s]", "venus"), 5000, &res, &err));
    ASSERT_STREQ(json_string_value(res), "hello venus");
    json_decref(res);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.CallBack", json_pack("[i]", 5), 5000, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "client said: no name");

    /* finite channel: 100 values in order, then xrpc.ch.close */
    sub_state_t st = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vc_rpc_sub_t *sub;
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Test.Ticks", json_pack("[i]", 100), 5000, on_val, on_close, &st, &sub,
                                    &err));
    ASSERT_TRUE(wait_closed(&st, 5000));
    ASSERT_EQ(st.values, 100);
    ASSERT_EQ(st.last, 99);
    vc_rpc_sub_free(sub);

    /* endless channel canceled with xrpc.cancel: server closes it and the producer sees on_close */
    int before = atomic_load(&tickers_closed);
    sub_state_t st2 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Test.Ticks", json_pack("[i]", -1), 5000, on_val, on_close, &st2, &sub,
                                    &err));
    vc_sleep_ms(50);
    ASSERT_OK(vc_rpc_sub_cancel(sub));
    ASSERT_TRUE(wait_closed(&st2, 5000));
    ASSERT_TRUE(st2.values > 0);
    for (int i = 0; i < 500 && atomic_load(&tickers_closed) == before; i++)
        vc_sleep_ms(10);
    ASSERT_EQ(atomic_load(&tickers_closed), before + 1);
    vc_rpc_sub_free(sub);

    /* an open channel when the client disconnects: producer told via on_close */
    before = atomic_load(&tickers_closed);
    sub_state_t st3 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Test.Ticks", json_pack("[i]", -1), 5000, on_val, on_close, &st3, &sub,
                                    &err));
    vc_sleep_ms(30);
    vc_rpc_conn_close(conn);
    ASSERT_TRUE(st3.closed);
    for (int i = 0; i < 500 && atomic_load(&tickers_closed) == before; i++)
        vc_sleep_ms(10);
    ASSERT_EQ(atomic_load(&tickers_closed), before + 1);
    vc_rpc_sub_free(sub);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.Add", json_pack("[i,i]", 1, 1), 1000, &res, &err), VC_ECLOSED);
    vc_rpc_conn_unref(conn);
    vc_rpc_server_free(serve);
    vc_client_free(c);
}

typedef struct slow_sub_arg {
    vc_rpc_conn_t *conn;
    bool succeed;
} slow_sub_arg_t;

static void slow_val(json_t *v, void *ud)
{
    (void)v;
    (void)ud;
}

static void slow_close(void *ud)
{
    (void)ud;
}

static void *slow_subscriber(void *arg)
{
    slow_sub_arg_t *a = arg;
    vc_rpc_sub_t *sub = NULL;
    vc_rpc_err_t err;
    if (vc_rpc_conn_subscribe(a->conn, "Test.SlowOpen", json_pack("[b]", a->succeed), 10000, slow_val, slow_close,
                              NULL, &sub, &err) == 0)
        vc_rpc_sub_free(sub);
    return NULL;
}

/* A client that disconnects while a channel method is still opening its channel: the producer
 * hears of it only after the method returned the channel, never after the method failed. */
/* A subscription callback (the reader thread) that answers each value with a call it does not wait for. */
typedef struct ack_state {
    vc_rpc_conn_t *conn;
    atomic_int sent, errors;
} ack_state_t;

static void on_val_ack(json_t *v, void *ud)
{
    ack_state_t *a = ud;
    (void)v;
    if (vc_rpc_conn_send_call(a->conn, "Test.CountFail", NULL) == 0)
        atomic_fetch_add(&a->sent, 1);
    else
        atomic_fetch_add(&a->errors, 1);
}

static void on_close_ignore(void *ud)
{
    (void)ud;
}

static void test_ws_send_call(void)
{
    vc_client_t *c = client_for(tok_read);
    vc_rpc_server_t *serve;
    vc_rpc_conn_t *conn;
    json_t *res = NULL;
    vc_rpc_err_t err;
    ASSERT_OK(vc_rpc_server_new(NULL, &serve));
    ASSERT_OK(vc_client_ws_connect(c, serve, &conn));
    atomic_store(&fail_count, 0);

    /* from this thread: the server runs each call (on its pool, in any order); their error
     * answers, which nobody awaits, do not answer the awaited calls around them */
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(vc_rpc_conn_send_call(conn, "Test.CountFail", NULL));
        ASSERT_OK(vc_rpc_conn_call(conn, "Test.Add", json_pack("[i,i]", 20, i), 5000, &res, &err));
        ASSERT_EQ(json_integer_value(res), 20 + i);
        json_decref(res);
    }
    for (int i = 0; i < 500 && atomic_load(&fail_count) < 3; i++)
        vc_sleep_ms(10);
    ASSERT_EQ(atomic_load(&fail_count), 3);

    /* from the reader (where vc_rpc_conn_call would be -EDEADLK): one call per channel value */
    ack_state_t a = {.conn = conn};
    vc_rpc_sub_t *sub;
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Test.Ticks", json_pack("[i]", 50), 5000, on_val_ack, on_close_ignore, &a,
                                    &sub, &err));
    for (int i = 0; i < 500 && atomic_load(&fail_count) < 53; i++)
        vc_sleep_ms(10);
    ASSERT_EQ(atomic_load(&a.sent), 50);
    ASSERT_EQ(atomic_load(&a.errors), 0);
    ASSERT_EQ(atomic_load(&fail_count), 53);
    vc_rpc_sub_free(sub);

    vc_rpc_conn_close(conn);
    ASSERT_EQ(vc_rpc_conn_send_call(conn, "Test.CountFail", NULL), VC_ECLOSED);
    vc_rpc_conn_unref(conn);
    vc_rpc_server_free(serve);
    vc_client_free(c);
}

static void test_ws_channel_closed_while_opening(void)
{
    for (int succeed = 1; succeed >= 0; succeed--) {
        vc_client_t *c = client_for(tok_read);
        vc_rpc_conn_t *conn;
        pthread_t th;
        atomic_store(&slow_open.entered, false);
        atomic_store(&slow_open.returned, false);
        atomic_store(&slow_open.closes, 0);
        atomic_store(&slow_open.closed_while_running, 0);
        ASSERT_OK(vc_client_ws_connect(c, NULL, &conn));
        slow_sub_arg_t a = {.conn = conn, .succeed = succeed};
        ASSERT_EQ(pthread_create(&th, NULL, slow_subscriber, &a), 0);
        for (int i = 0; i < 500 && !atomic_load(&slow_open.entered); i++)
            vc_sleep_ms(10);
        ASSERT_TRUE(atomic_load(&slow_open.entered));
        vc_rpc_conn_close(conn);
        pthread_join(th, NULL);
        for (int i = 0; i < 500 && !atomic_load(&slow_open.returned); i++)
            vc_sleep_ms(10);
        ASSERT_TRUE(atomic_load(&slow_open.returned));
        for (int i = 0; i < 300 && succeed && atomic_load(&slow_open.closes) == 0; i++)
            vc_sleep_ms(10);
        vc_sleep_ms(100);
        ASSERT_EQ(atomic_load(&slow_open.closed_while_running), 0);
        ASSERT_EQ(atomic_load(&slow_open.closes), succeed ? 1 : 0);
        vc_rpc_conn_unref(conn);
        vc_client_free(c);
    }
}

static void test_ws_concurrent_and_blocking(void)
{
    vc_client_t *c = client_for(tok_read);
    vc_rpc_conn_t *conn;
    json_t *res;
    vc_rpc_err_t err;
    ASSERT_OK(vc_client_ws_connect(c, NULL, &conn));
    /* a blocking call does not stall other calls on the same socket */
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.Add", json_pack("[i,i]", 1, 1), 5000, &res, &err));
    json_decref(res);
    int64_t t0 = vc_now_mono_us();
    for (int i = 0; i < 200; i++) {
        ASSERT_OK(vc_rpc_conn_call(conn, "Test.Echo", json_pack("[i]", i), 5000, &res, &err));
        ASSERT_EQ(json_integer_value(res), i);
        json_decref(res);
    }
    ASSERT_TRUE(vc_now_mono_us() - t0 < 5000000);
    /* unauthorized upgrade is refused */
    vc_client_t *anon = client_for(NULL);
    vc_rpc_conn_t *bad = NULL;
    ASSERT_EQ(vc_client_ws_connect(anon, NULL, &bad), VC_EHTTP);
    vc_client_free(anon);
    vc_rpc_conn_close(conn);
    vc_rpc_conn_unref(conn);
    vc_client_free(c);
}

/* Blocking methods over HTTP run off MHD's threads: other requests are not stalled. */
typedef struct sleeper {
    pthread_t t;
} sleeper_t;

static void *sleeper_main(void *arg)
{
    vc_client_t *c = client_for(tok_read);
    json_t *res = NULL;
    vc_rpc_err_t err;
    vc_client_call(c, "Test.Sleep", json_pack("[i]", 700), &res, &err);
    json_decref(res);
    vc_client_free(c);
    return NULL;
}

static void test_http_blocking_does_not_stall(void)
{
    sleeper_t s[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&s[i].t, NULL, sleeper_main, NULL);
    vc_sleep_ms(100);
    vc_client_t *c = client_for(tok_read);
    json_t *res;
    vc_rpc_err_t err;
    int64_t t0 = vc_now_mono_us();
    ASSERT_OK(vc_client_call(c, "Test.Add", json_pack("[i,i]", 1, 2), &res, &err));
    int64_t took = vc_now_mono_us() - t0;
    json_decref(res);
    vc_client_free(c);
    for (int i = 0; i < 6; i++)
        pthread_join(s[i].t, NULL);
    ASSERT_LT(took, 400000); /* the six sleepers hold 700 ms each on a 2-thread server */
}

/* A subscription's on_close may free another subscription while the connection tears down. */
static vc_rpc_sub_t *other_sub;
static void on_close_frees_other(void *ud)
{
    if (other_sub) {
        vc_rpc_sub_free(other_sub);
        other_sub = NULL;
    }
}
static void on_val_ignore(json_t *v, void *ud)
{
}

static void test_ws_teardown_callbacks(void)
{
    vc_client_t *c = client_for(tok_read);
    vc_rpc_server_t *serve;
    vc_rpc_conn_t *conn;
    vc_rpc_err_t err;
    vc_rpc_sub_t *a, *b;
    ASSERT_OK(vc_rpc_server_new(NULL, &serve));
    ASSERT_OK(vc_rpc_register(serve, client_methods, 2));
    ASSERT_OK(vc_client_ws_connect(c, serve, &conn));
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Test.Ticks", json_pack("[i]", -1), 5000, on_val_ignore, on_close_frees_other,
                                    NULL, &a, &err));
    ASSERT_OK(vc_rpc_conn_subscribe(conn, "Test.Ticks", json_pack("[i]", -1), 5000, on_val_ignore, on_close_frees_other,
                                    NULL, &b, &err));
    other_sub = b;
    vc_rpc_conn_close(conn);
    ASSERT_TRUE(other_sub == NULL);
    vc_rpc_sub_free(a);
    vc_rpc_conn_unref(conn);

    /* the server asks the client to close itself from inside a served method: no deadlock */
    ASSERT_OK(vc_client_ws_connect(c, serve, &conn));
    json_t *res = NULL;
    int r = vc_rpc_conn_call(conn, "Test.MakeClientQuit", NULL, 5000, &res, &err);
    ASSERT_TRUE(r == 0 || r == VC_ECLOSED);
    json_decref(res);
    for (int i = 0; i < 300 && !vc_rpc_conn_closed(conn); i++)
        vc_sleep_ms(10);
    ASSERT_TRUE(vc_rpc_conn_closed(conn));
    vc_rpc_conn_close(conn);
    vc_rpc_conn_unref(conn);
    vc_rpc_server_free(serve);
    vc_client_free(c);
}

static void test_batch_limit_and_form_token(void)
{
    vc_buf_t b = {0};
    vc_buf_append_str(&b, "[");
    for (int i = 0; i < 1001; i++)
        vc_buf_appendf(&b, "%s{\"jsonrpc\":\"2.0\",\"method\":\"Test.Nothing\",\"id\":%d}", i ? "," : "", i);
    vc_buf_append_str(&b, "]");
    json_t *j = NULL;
    long st = raw_post(tok_read, b.data, b.len, &j);
    vc_buf_done(&b);
    ASSERT_EQ(st, 400);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), -32600);
    json_decref(j);

    /* the token may come as a form value in an urlencoded POST body (venus AuthMux) */
    int fd = raw_connect();
    ASSERT_TRUE(fd >= 0);
    char req[2048], reply[256] = "";
    int n = snprintf(req, sizeof(req),
                     "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\ntoken=%s",
                     strlen(tok_read) + 6, tok_read);
    ASSERT_EQ(write(fd, req, (size_t)n), n);
    ASSERT_TRUE(read(fd, reply, sizeof(reply) - 1) > 12);
    close(fd);
    ASSERT_TRUE(strncmp(reply, "HTTP/1.1 404", 12) == 0); /* authenticated, then not found */
}

static void test_handle_text(void)
{
    vc_auth_info_t a = {.perms = VC_PERM_READ};
    char *out;
    int st;
    const char *p = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Nothing\",\"params\":[],\"id\":5}";
    ASSERT_OK(vc_rpc_handle_text(rpc, p, strlen(p), &a, &out, &st));
    ASSERT_STREQ(out, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":null}");
    ASSERT_EQ(st, 200);
    free(out);
    /* held calls: the answer waits for them */
    p = "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[1,20],\"id\":1},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[2,0],\"id\":2}]";
    ASSERT_OK(vc_rpc_handle_text(rpc, p, strlen(p), &a, &out, &st));
    ASSERT_STREQ(out, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1},{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":2}]");
    free(out);
    wait_laters();
}

/* ---- answering later ---- */

static void test_async_http(void)
{
    vc_client_t *c = client_for(tok_read);
    json_t *res = NULL;
    vc_rpc_err_t err;
    ASSERT_OK(vc_client_call(c, "Test.Later", json_pack("[s,i]", "x", 20), &res, &err));
    ASSERT_STREQ(json_string_value(res), "x");
    json_decref(res);
    ASSERT_EQ(vc_client_call(c, "Test.Later", json_pack("[s,i]", "fail", 20), &res, &err), VC_EREMOTE);
    ASSERT_EQ(err.code, 1);
    ASSERT_STREQ(err.message, "later failed");
    /* answered before the method returned */
    ASSERT_OK(vc_client_call(c, "Test.Later", json_pack("[i,i]", 5, 0), &res, &err));
    ASSERT_EQ(json_integer_value(res), 5);
    json_decref(res);
    /* deferred to the pool first, then held there */
    ASSERT_OK(vc_client_call(c, "Test.LaterPool", json_pack("[i,i]", 7, 10), &res, &err));
    ASSERT_EQ(json_integer_value(res), 7);
    json_decref(res);
    ASSERT_OK(vc_client_call(c, "Test.Offload", NULL, &res, &err));
    ASSERT_STREQ(json_string_value(res), "on the pool");
    json_decref(res);
    ASSERT_EQ(vc_client_call(c, "Test.Unheld", NULL, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "method 'Test.Unheld' returned pending without holding the call");
    vc_client_free(c);

    /* a notification: answered at once, the late answer is dropped */
    const char *p = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[1,30]}";
    json_t *j = NULL;
    ASSERT_EQ(raw_post(tok_read, p, strlen(p), &j), 200);
    ASSERT_TRUE(j == NULL);
    wait_laters();

    /* ASYNC and CHANNEL do not go together */
    static const vc_rpc_method_t bad[] = {{"Test.Bad", 0, 0, m_later, VC_RPC_ASYNC | VC_RPC_CHANNEL}};
    ASSERT_EQ(vc_rpc_register(rpc, bad, 1), -EINVAL);
}

static void test_async_http_batch(void)
{
    /* answers come from other threads in any order; the batch keeps the request order */
    const char *p = "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[\"a\",60],\"id\":1},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,2],\"id\":2},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[\"n\",10]},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[\"fail\",0],\"id\":\"e\"},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[\"b\",20],\"id\":5},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Nope\",\"params\":[],\"id\":6}]";
    json_t *j = NULL;
    ASSERT_EQ(raw_post(tok_read, p, strlen(p), &j), 200);
    ASSERT_TRUE(json_is_array(j));
    ASSERT_EQ(json_array_size(j), 5);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 0), "result")), "a");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(j, 1), "result")), 3);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 2), "id")), "e");
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(json_array_get(j, 2), "error"), "message")),
                 "later failed");
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 3), "result")), "b");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(j, 4), "error"), "code")), -32601);
    json_decref(j);

    /* with a method that may block the body goes to the pool, and is held there */
    p = "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.LaterPool\",\"params\":[\"p\",30],\"id\":1},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Offload\",\"params\":[],\"id\":2},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[\"q\",0],\"id\":3}]";
    ASSERT_EQ(raw_post(tok_read, p, strlen(p), &j), 200);
    ASSERT_EQ(json_array_size(j), 3);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 0), "result")), "p");
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 1), "result")), "on the pool");
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 2), "result")), "q");
    json_decref(j);
    wait_laters();
}

static void test_async_http_disconnect(void)
{
    /* the client leaves while its call is held: the answer goes nowhere, nothing leaks */
    int fd = raw_connect();
    ASSERT_TRUE(fd >= 0);
    const char *body = "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Later\",\"params\":[1,150],\"id\":1}";
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "POST /rpc/v0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     tok_read, strlen(body), body);
    ASSERT_EQ(write(fd, req, (size_t)n), n);
    for (int i = 0; i < 200 && atomic_load(&laters_running) == 0; i++)
        vc_sleep_ms(2);
    close(fd);
    wait_laters();
    vc_client_t *c = client_for(tok_read);
    json_t *res = NULL;
    vc_rpc_err_t err;
    ASSERT_OK(vc_client_call(c, "Test.Add", json_pack("[i,i]", 1, 2), &res, &err));
    json_decref(res);
    vc_client_free(c);
}

typedef struct ws_slow {
    vc_rpc_conn_t *conn;
    int r;
    json_t *res;
} ws_slow_t;

static void *ws_slow_main(void *arg)
{
    ws_slow_t *w = arg;
    vc_rpc_err_t err;
    w->r = vc_rpc_conn_call(w->conn, "Test.Later", json_pack("[s,i]", "slow", 300), 5000, &w->res, &err);
    return NULL;
}

static void test_async_ws(void)
{
    vc_client_t *c = client_for(tok_read);
    vc_rpc_conn_t *conn;
    json_t *res = NULL;
    vc_rpc_err_t err;
    ASSERT_OK(vc_client_ws_connect(c, NULL, &conn));
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.Later", json_pack("[s,i]", "x", 30), 5000, &res, &err));
    ASSERT_STREQ(json_string_value(res), "x");
    json_decref(res);
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.LaterPool", json_pack("[s,i]", "y", 10), 5000, &res, &err));
    ASSERT_STREQ(json_string_value(res), "y");
    json_decref(res);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.Later", json_pack("[s,i]", "fail", 0), 5000, &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "later failed");
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.Offload", NULL, 5000, &res, &err));
    ASSERT_STREQ(json_string_value(res), "on the pool");
    json_decref(res);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.Unheld", NULL, 5000, &res, &err), VC_EREMOTE);

    /* a held call does not hold up the next ones on the same socket */
    ws_slow_t w = {.conn = conn};
    pthread_t t;
    pthread_create(&t, NULL, ws_slow_main, &w);
    vc_sleep_ms(50);
    int64_t t0 = vc_now_mono_us();
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.Later", json_pack("[s,i]", "fast", 0), 5000, &res, &err));
    ASSERT_LT(vc_now_mono_us() - t0, 200000);
    json_decref(res);
    pthread_join(t, NULL);
    ASSERT_OK(w.r);
    ASSERT_STREQ(json_string_value(w.res), "slow");
    json_decref(w.res);

    /* the client times out and sends xrpc.cancel: the holder sees it, its answer still goes out */
    int saw = atomic_load(&later_saw_cancel);
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.Later", json_pack("[s,i]", "late", 200), 50, &res, &err), -ETIMEDOUT);
    wait_laters();
    ASSERT_EQ(atomic_load(&later_saw_cancel), saw + 1);
    ASSERT_EQ(atomic_load(&later_last_r), 0);
    ASSERT_OK(vc_rpc_conn_call(conn, "Test.Add", json_pack("[i,i]", 1, 1), 5000, &res, &err));
    ASSERT_EQ(json_integer_value(res), 2);
    json_decref(res);

    /* answered after the client disconnected: canceled, dropped, no crash */
    ASSERT_EQ(vc_rpc_conn_call(conn, "Test.Later", json_pack("[s,i]", "gone", 200), 30, &res, &err), -ETIMEDOUT);
    vc_rpc_conn_close(conn);
    vc_rpc_conn_unref(conn);
    wait_laters();
    ASSERT_EQ(atomic_load(&later_saw_cancel), saw + 2);
    ASSERT_EQ(atomic_load(&later_last_r), VC_ECLOSED);
    vc_client_free(c);
}

/* Stopping the HTTP server answers held requests with 503; the holder's late answer is dropped. */
typedef struct stop_call {
    char url[128];
    int r;
    vc_rpc_err_t err;
} stop_call_t;

static void *stop_call_main(void *arg)
{
    stop_call_t *sc = arg;
    const char *eps[] = {sc->url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = tok_read, .timeout_ms = 10000};
    vc_client_t *c = NULL;
    json_t *res = NULL;
    if (vc_client_new(&o, &c) == 0)
        sc->r = vc_client_call(c, "Test.Later", json_pack("[i,i]", 1, -1), &res, &sc->err);
    json_decref(res);
    vc_client_free(c);
    return NULL;
}

/* A server of its own (the methods on /rpc/v0, test_auth) for tests that stop it. */
static void own_server(vc_http_server_t **ret_h, vc_rpc_server_t **ret_r)
{
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = 1};
    *ret_h = NULL;
    *ret_r = NULL;
    bool ok = vc_http_server_new(&ho, ret_h) == 0 && vc_rpc_server_new(NULL, ret_r) == 0 &&
              vc_rpc_register(*ret_r, methods, VC_ELEMENTSOF(methods)) == 0 &&
              vc_rpc_mount(*ret_r, *ret_h, "/rpc/v0", NULL) == 0;
    if (ok) {
        vc_http_set_auth(*ret_h, test_auth, NULL);
        ok = vc_http_start(*ret_h) == 0;
    }
    if (!ok) { /* the caller sees *ret_h NULL */
        *ret_h = vc_http_server_free(*ret_h);
        *ret_r = vc_rpc_server_free(*ret_r);
    }
}

/* A TCP connection to 127.0.0.1:port, or -1. */
static int connect_local(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void test_async_stop(void)
{
    vc_http_server_t *h;
    vc_rpc_server_t *r;
    own_server(&h, &r);
    ASSERT_NOTNULL(h);
    stop_call_t sc = {0};
    snprintf(sc.url, sizeof(sc.url), "http://127.0.0.1:%u/rpc/v0", vc_http_port(h));
    atomic_store(&later_gate, false);
    pthread_t t;
    pthread_create(&t, NULL, stop_call_main, &sc);
    for (int i = 0; i < 500 && atomic_load(&laters_running) == 0; i++)
        vc_sleep_ms(5);
    ASSERT_EQ(atomic_load(&laters_running), 1);
    vc_sleep_ms(20); /* let the handler return and park the request */
    vc_http_stop(h);
    pthread_join(t, NULL);
    ASSERT_EQ(sc.r, VC_EHTTP);
    ASSERT_EQ(sc.err.code, 503);
    atomic_store(&later_gate, true);
    wait_laters();
    ASSERT_EQ(atomic_load(&later_last_r), 0); /* the sink took it; the HTTP answer was dropped */
    vc_http_server_free(h);
    vc_rpc_server_free(r);
}

/* A route that defers every request to the pool. */
static int h_defer_always(vc_http_request_t *req, vc_http_response_t *resp, void *ud)
{
    (void)ud;
    if (!req->deferred)
        return VC_HTTP_DEFER;
    return vc_http_reply_json(resp, 200, "1");
}

typedef struct pipeliner {
    unsigned port;
    atomic_bool quit;
    atomic_int answers;
} pipeliner_t;

/* Keep-alive client pipelining four GETs per round trip until quit. */
static void *pipeline_main(void *arg)
{
    pipeliner_t *p = arg;
    static const char rq[] = "GET /d HTTP/1.1\r\nHost: t\r\n\r\nGET /d HTTP/1.1\r\nHost: t\r\n\r\n"
                             "GET /d HTTP/1.1\r\nHost: t\r\n\r\nGET /d HTTP/1.1\r\nHost: t\r\n\r\n";
    while (!atomic_load(&p->quit)) {
        int fd = connect_local(p->port);
        if (fd < 0) {
            vc_sleep_ms(1);
            continue;
        }
        char buf[4096];
        while (send(fd, rq, sizeof(rq) - 1, MSG_NOSIGNAL) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
            atomic_fetch_add(&p->answers, 1);
        close(fd);
    }
    return NULL;
}

/* Stopping a server while keep-alive clients keep sending requests that defer to the worker
 * pool: MHD's threads still defer until MHD has stopped, so the pool must outlive them (it was
 * freed first: use after free under ASan, a NULL pool otherwise). */
static void test_stop_under_deferred_load(void)
{
    for (int it = 0; it < 5; it++) {
        vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = 2};
        vc_http_server_t *h;
        pipeliner_t p = {0};
        pthread_t th[6];
        ASSERT_OK(vc_http_server_new(&ho, &h));
        ASSERT_OK(vc_http_route(h, NULL, "/d", VC_HTTP_PUBLIC, h_defer_always, NULL));
        ASSERT_OK(vc_http_start(h));
        p.port = vc_http_port(h);
        for (int i = 0; i < 6; i++)
            ASSERT_EQ(pthread_create(&th[i], NULL, pipeline_main, &p), 0);
        for (int i = 0; i < 200 && atomic_load(&p.answers) < 100; i++)
            vc_sleep_ms(5);
        ASSERT_TRUE(atomic_load(&p.answers) >= 100);
        vc_http_server_free(h);
        atomic_store(&p.quit, true);
        for (int i = 0; i < 6; i++)
            pthread_join(th[i], NULL);
    }
}

/* A handler on MHD's thread that is still working when the server is told to stop. */
static atomic_bool slow_entered;
static int h_slow_write(vc_http_request_t *req, vc_http_response_t *resp, void *ud)
{
    (void)req;
    (void)ud;
    atomic_store(&slow_entered, true);
    vc_sleep_ms(300); /* the write it stands for */
    return vc_http_reply_json(resp, 200, "\"done\"");
}

typedef struct slow_get {
    unsigned port;
    char got[256];
    ssize_t n;
} slow_get_t;

static void *slow_get_main(void *arg)
{
    slow_get_t *g = arg;
    int fd = connect_local(g->port);
    static const char rq[] = "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n";
    g->n = -1;
    if (fd >= 0 && send(fd, rq, sizeof(rq) - 1, MSG_NOSIGNAL) > 0) {
        size_t got = 0;
        ssize_t r;
        while (got < sizeof(g->got) - 1 && (r = recv(fd, g->got + got, sizeof(g->got) - 1 - got, 0)) > 0)
            got += (size_t)r;
        g->got[got] = 0;
        g->n = (ssize_t)got;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* vc_http_stop while a handler is still producing its answer: the answer goes out before MHD
 * stops (it closed the connection on it: the client saw a failure for a write that was done). */
static void test_stop_sends_answers_in_flight(void)
{
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = 1};
    vc_http_server_t *h;
    slow_get_t g = {0};
    pthread_t th;
    ASSERT_OK(vc_http_server_new(&ho, &h));
    ASSERT_OK(vc_http_route(h, NULL, "/slow", VC_HTTP_PUBLIC, h_slow_write, NULL));
    ASSERT_OK(vc_http_start(h));
    g.port = vc_http_port(h);
    atomic_store(&slow_entered, false);
    ASSERT_EQ(pthread_create(&th, NULL, slow_get_main, &g), 0);
    for (int i = 0; i < 500 && !atomic_load(&slow_entered); i++)
        vc_sleep_ms(5);
    ASSERT_TRUE(atomic_load(&slow_entered));
    vc_http_stop(h);
    pthread_join(th, NULL);
    ASSERT_TRUE(g.n > 0 && strstr(g.got, "HTTP/1.1 200") == g.got && strstr(g.got, "\"done\"") != NULL);
    vc_http_server_free(h);
}

typedef struct ws_slow_call {
    vc_rpc_conn_t *conn;
    int r;
    json_t *res;
} ws_slow_call_t;

static void *ws_slow_call_main(void *arg)
{
    ws_slow_call_t *w = arg;
    vc_rpc_err_t err;
    w->r = vc_rpc_conn_call(w->conn, "Test.Sleep", json_pack("[i]", 300), 5000, &w->res, &err);
    return NULL;
}

/* vc_http_stop while a WebSocket call runs on a worker: its answer still reaches the client
 * (the socket used to be shut both ways first: "connection closed" for a call that was done). */
static void test_stop_answers_ws_calls_in_flight(void)
{
    vc_http_server_t *h;
    vc_rpc_server_t *r;
    own_server(&h, &r);
    ASSERT_NOTNULL(h);
    char url[80];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/rpc/v0", vc_http_port(h));
    const char *eps[] = {url};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .token = tok_read, .timeout_ms = 10000};
    vc_client_t *c;
    ws_slow_call_t w = {.r = 1};
    pthread_t th;
    ASSERT_OK(vc_client_new(&o, &c));
    ASSERT_OK(vc_client_ws_connect(c, NULL, &w.conn));
    ASSERT_EQ(pthread_create(&th, NULL, ws_slow_call_main, &w), 0);
    vc_sleep_ms(100); /* the call is running */
    int64_t t0 = vc_now_mono_us();
    vc_http_stop(h);
    pthread_join(th, NULL);
    ASSERT_EQ(w.r, 0);
    ASSERT_TRUE(json_is_true(w.res));
    ASSERT_LT(vc_now_mono_us() - t0, 2000000); /* it waited for the call, not for its bound */
    json_decref(w.res);
    vc_rpc_conn_close(w.conn);
    vc_rpc_conn_unref(w.conn);
    vc_client_free(c);
    vc_http_server_free(h);
    vc_rpc_server_free(r);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    setup();
    VC_TEST_RUN(test_http_calls);
    VC_TEST_RUN(test_client_failover);
    VC_TEST_RUN(test_http_malformed);
    VC_TEST_RUN(test_http_batch);
    VC_TEST_RUN(test_healthcheck_and_404);
    VC_TEST_RUN(test_ws_calls_and_channels);
    VC_TEST_RUN(test_ws_send_call);
    VC_TEST_RUN(test_ws_channel_closed_while_opening);
    VC_TEST_RUN(test_ws_concurrent_and_blocking);
    VC_TEST_RUN(test_http_blocking_does_not_stall);
    VC_TEST_RUN(test_ws_teardown_callbacks);
    VC_TEST_RUN(test_batch_limit_and_form_token);
    VC_TEST_RUN(test_handle_text);
    VC_TEST_RUN(test_async_http);
    VC_TEST_RUN(test_async_http_batch);
    VC_TEST_RUN(test_async_http_disconnect);
    VC_TEST_RUN(test_async_ws);
    VC_TEST_RUN(test_async_stop);
    VC_TEST_RUN(test_stop_under_deferred_load);
    VC_TEST_RUN(test_stop_sends_answers_in_flight);
    VC_TEST_RUN(test_stop_answers_ws_calls_in_flight);
    vc_http_server_free(http);
    vc_rpc_server_free(rpc);
    vc_metrics_free(metrics);
    free(tok_admin);
    free(tok_read);
    return VC_TEST_DONE();
}
