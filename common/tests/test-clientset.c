/* test-clientset.c: per-request failover over several servers (vc/clientset.h), against real
 * libvc HTTP JSON-RPC servers on 127.0.0.1: one that has no channel for the request, one that
 * serves it, one that refuses with a final error, and a dead port. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc-test.h"
#include "vc/clientset.h"
#include "vc/http.h"
#include "vc/rpc.h"
#include "vc/util.h"

typedef struct server {
    vc_http_server_t *http;
    vc_rpc_server_t *rpc;
    char url[64];
    atomic_int calls;
    int mode; /* 0 serves, 1 "no channel", 2 a final error */
} server_t;

static int m_sign(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    server_t *s = vc_rpc_call_userdata(call);
    atomic_fetch_add(&s->calls, 1);
    if (s->mode == 1)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "send request must have channel");
    if (s->mode == 2)
        return vc_rpc_error(call, VC_RPC_APP_ERROR, "key not found");
    *ret = json_string(s->url);
    return 0;
}

static const vc_rpc_method_t methods[] = {{"Gateway.WalletSign", 0, 1, m_sign, 0}};

static int start(server_t *s, int mode)
{
    s->mode = mode;
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = 1};
    vc_rpc_opts_t ro = {.userdata = s, .min_workers = 1, .permissive = true};
    int r = vc_http_server_new(&ho, &s->http);
    r = r ?: vc_rpc_server_new(&ro, &s->rpc);
    r = r ?: vc_rpc_register(s->rpc, methods, VC_ELEMENTSOF(methods));
    r = r ?: vc_rpc_mount(s->rpc, s->http, "/rpc/v2", NULL);
    r = r ?: vc_http_start(s->http);
    if (r == 0)
        snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/rpc/v2", vc_http_port(s->http));
    return r;
}

static void stop(server_t *s)
{
    vc_http_server_free(s->http);
    vc_rpc_server_free(s->rpc);
}

static const char *const retry_on[] = {"must have channel", NULL};

static vc_clientset_t *set_of(const char *const *eps, size_t n)
{
    vc_clientset_opts_t o = {.client = {.endpoints = eps, .n_endpoints = n, .timeout_ms = 5000,
                                        .connect_timeout_ms = 1000, .retries = 1, .retry_backoff_ms = 10},
                             .retry_messages = retry_on};
    vc_clientset_t *s = NULL;
    return vc_clientset_new(&o, &s) < 0 ? NULL : s;
}

static void test_failover(void)
{
    server_t nochan = {0}, good = {0};
    ASSERT_OK(start(&nochan, 1));
    ASSERT_OK(start(&good, 0));
    const char *eps[] = {"http://127.0.0.1:1/rpc/v2", nochan.url, good.url};
    vc_clientset_t *set = set_of(eps, 3);
    ASSERT_NOTNULL(set);
    ASSERT_EQ(vc_clientset_size(set), (size_t)3);
    for (int i = 0; i < 4; i++) {
        json_t *res = NULL;
        vc_rpc_err_t e = {0};
        ASSERT_OK(vc_clientset_call(set, "Gateway.WalletSign", json_pack("[s]", "x"), &res, &e));
        ASSERT_STREQ(json_string_value(res), good.url);
        json_decref(res);
    }
    /* after the first call the set starts at the server that answered: no more detours */
    ASSERT_EQ(atomic_load(&nochan.calls), 1);
    ASSERT_EQ(atomic_load(&good.calls), 4);
    ASSERT_TRUE(strstr(vc_clientset_current(set), good.url) != NULL ||
                strstr(good.url, vc_clientset_current(set)) != NULL);
    vc_clientset_free(set);
    stop(&nochan);
    stop(&good);
}

static void test_final_error_and_all_down(void)
{
    server_t refuse = {0}, good = {0};
    ASSERT_OK(start(&refuse, 2));
    ASSERT_OK(start(&good, 0));
    const char *eps[] = {refuse.url, good.url};
    vc_clientset_t *set = set_of(eps, 2);
    ASSERT_NOTNULL(set);
    vc_rpc_err_t e = {0};
    /* an answer that is not in retry_messages is final: the good server is not asked */
    ASSERT_EQ(vc_clientset_call(set, "Gateway.WalletSign", json_pack("[s]", "x"), NULL, &e), VC_EREMOTE);
    ASSERT_STREQ(e.message, "key not found");
    ASSERT_EQ(atomic_load(&good.calls), 0);
    vc_clientset_free(set);
    stop(&refuse);
    stop(&good);

    /* nobody listening anywhere: a transport error after the rounds */
    const char *dead[] = {"http://127.0.0.1:1/rpc/v2", "http://127.0.0.1:2/rpc/v2"};
    set = set_of(dead, 2);
    ASSERT_NOTNULL(set);
    ASSERT_EQ(vc_clientset_call(set, "Gateway.WalletSign", json_pack("[s]", "x"), NULL, &e), VC_ETRANSPORT);
    vc_clientset_free(set);

    /* every server says "no channel": that error comes back */
    server_t a = {0}, b = {0};
    ASSERT_OK(start(&a, 1));
    ASSERT_OK(start(&b, 1));
    const char *both[] = {a.url, b.url};
    set = set_of(both, 2);
    ASSERT_EQ(vc_clientset_call(set, "Gateway.WalletSign", json_pack("[s]", "x"), NULL, &e), VC_EREMOTE);
    ASSERT_TRUE(strstr(e.message, "must have channel") != NULL);
    ASSERT_EQ(atomic_load(&a.calls), 2); /* two rounds (retries = 1) */
    vc_clientset_free(set);
    stop(&a);
    stop(&b);
    vc_clientset_opts_t none = {0};
    vc_clientset_t *x = NULL;
    ASSERT_EQ(vc_clientset_new(&none, &x), -EINVAL);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_failover);
    VC_TEST_RUN(test_final_error_and_all_down);
    return VC_TEST_DONE();
}
