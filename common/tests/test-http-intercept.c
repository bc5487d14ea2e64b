/* Tests for the HTTP server's interceptor (vc_http_set_interceptor), raw upgrades and
 * vc_http_foreach, over real TCP connections on 127.0.0.1. */
#include "vc-test.h"
#include "vc/http.h"
#include "vc/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_int raw_released; /* upgraded() calls with fd -1 */
static atomic_int raw_served;   /* upgraded() calls with a socket */

static int reject_all(void *ud, const char *token, vc_auth_info_t *ret)
{
    return VC_EVERIFY;
}

static int route_x(vc_http_request_t *req, vc_http_response_t *resp, void *ud)
{
    return vc_http_reply_json(resp, 200, "\"route\"");
}

static int count_header(const char *name, const char *value, void *ud)
{
    if (strcasecmp(name, "X-Intercept") == 0)
        (*(int *)ud)++;
    return 0;
}

/* Echoes bytes back until EOF: the extra bytes first, then whatever arrives. */
static void echo_pump(int fd, const void *extra, size_t extra_len, void *arg)
{
    free(arg);
    if (fd < 0) {
        atomic_fetch_add(&raw_released, 1);
        return;
    }
    atomic_fetch_add(&raw_served, 1);
    if (extra_len && send(fd, extra, extra_len, MSG_NOSIGNAL) < 0)
        return;
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            return;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return;
        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
            return;
    }
}

static int interceptor(vc_http_request_t *req, vc_http_response_t *resp, void *ud)
{
    const char *mode = vc_http_header(req, "X-Intercept");
    if (!mode)
        return VC_HTTP_NEXT;
    if (vc_streq(mode, "answer")) {
        int n = 0;
        if (vc_http_foreach(req, VC_HTTP_KIND_HEADER, count_header, &n) < 2 || n != 1)
            return vc_http_reply_error(resp, 500, "foreach");
        const char *q = NULL;
        if (vc_http_foreach(req, VC_HTTP_KIND_QUERY, count_header, &n) < 0)
            return -EINVAL;
        q = vc_http_query(req, "a");
        char text[256];
        snprintf(text, sizeof(text), "\"answered %s %s %zu\"", req->path, q ? q : "-", req->body_len);
        return vc_http_reply_json(resp, 200, text);
    }
    if (vc_streq(mode, "defer")) {
        if (!req->deferred)
            return VC_HTTP_DEFER;
        return vc_http_reply_json(resp, 202, "\"deferred\"");
    }
    if (vc_streq(mode, "raw")) {
        resp->status = 101;
        resp->headers[0][0] = "Upgrade";
        resp->headers[0][1] = "echo";
        resp->n_headers = 1;
        resp->upgraded = echo_pump;
        resp->upgrade_arg = malloc(16); /* released by echo_pump in every case */
        return 0;
    }
    if (vc_streq(mode, "raw-refused")) { /* upgraded set but not a 101: released at once */
        resp->upgraded = echo_pump;
        resp->upgrade_arg = malloc(16);
        return vc_http_reply_error(resp, 400, "no upgrade");
    }
    return vc_http_reply_error(resp, 400, "bad mode");
}

static int dial(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the peer closes or `until` appears (NULL = until close). */
static char *read_some(int fd, const char *until)
{
    vc_buf_t b = {0};
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        vc_buf_append(&b, buf, (size_t)n);
        if (until && strstr(b.data, until))
            break;
    }
    if (!b.data)
        vc_buf_append_str(&b, "");
    return vc_buf_steal(&b);
}

static char *roundtrip(unsigned port, const char *request)
{
    int fd = dial(port);
    if (fd < 0)
        return NULL;
    if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0) {
        close(fd);
        return NULL;
    }
    char *out = read_some(fd, NULL);
    close(fd);
    return out;
}

static void test_interceptor(void)
{
    vc_http_server_t *s;
    vc_http_opts_t o = {.listen = "127.0.0.1:0", .threads = 2};
    ASSERT_OK(vc_http_server_new(&o, &s));
    ASSERT_OK(vc_http_route(s, "GET", "/x", 0, route_x, NULL));
    vc_http_set_auth(s, reject_all, NULL);
    vc_http_set_interceptor(s, interceptor, NULL);
    ASSERT_OK(vc_http_start(s));
    unsigned port = vc_http_port(s);

    /* not intercepted: routing and auth as usual */
    char *r = roundtrip(port, "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_NOTNULL(r);
    ASSERT_TRUE(strncmp(r, "HTTP/1.1 401", 12) == 0);
    free(r);
    /* answered before auth and routing, with path, query and body visible */
    r = roundtrip(port,
                  "POST /nowhere?a=1%202 HTTP/1.1\r\nHost: t\r\nX-Intercept: answer\r\nContent-Length: 3\r\n"
                  "Connection: close\r\n\r\nabc");
    ASSERT_NOTNULL(r);
    ASSERT_TRUE(strncmp(r, "HTTP/1.1 200", 12) == 0);
    ASSERT_TRUE(strstr(r, "\"answered /nowhere 1 2 3\"") != NULL);
    free(r);
    /* deferred to the pool */
    r = roundtrip(port, "GET /x HTTP/1.1\r\nHost: t\r\nX-Intercept: defer\r\nConnection: close\r\n\r\n");
    ASSERT_NOTNULL(r);
    ASSERT_TRUE(strncmp(r, "HTTP/1.1 202", 12) == 0);
    ASSERT_TRUE(strstr(r, "\"deferred\"") != NULL);
    free(r);
    /* upgraded set on a non-101 answer: released, the answer goes out */
    r = roundtrip(port,
                  "GET /x HTTP/1.1\r\nHost: t\r\nX-Intercept: raw-refused\r\nConnection: close\r\n\r\n");
    ASSERT_NOTNULL(r);
    ASSERT_TRUE(strncmp(r, "HTTP/1.1 400", 12) == 0);
    free(r);
    ASSERT_EQ(atomic_load(&raw_released), 1);

    /* raw upgrade: 101, then the pump owns the socket */
    int fd = dial(port);
    ASSERT_TRUE(fd >= 0);
    const char *up =
        "GET /y HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Intercept: raw\r\n\r\n";
    ASSERT_TRUE(send(fd, up, strlen(up), MSG_NOSIGNAL) == (ssize_t)strlen(up));
    r = read_some(fd, "\r\n\r\n");
    ASSERT_TRUE(strncmp(r, "HTTP/1.1 101", 12) == 0);
    ASSERT_TRUE(strstr(r, "Upgrade: echo") != NULL || strstr(r, "upgrade: echo") != NULL);
    free(r);
    ASSERT_TRUE(send(fd, "hello", 5, MSG_NOSIGNAL) == 5);
    r = read_some(fd, "hello");
    ASSERT_STREQ(r, "hello");
    free(r);
    ASSERT_TRUE(send(fd, "world", 5, MSG_NOSIGNAL) == 5);
    r = read_some(fd, "world");
    ASSERT_STREQ(r, "world");
    free(r);
    ASSERT_EQ(atomic_load(&raw_served), 1);

    /* a second upgraded connection left open is shut down by vc_http_stop */
    int fd2 = dial(port);
    ASSERT_TRUE(fd2 >= 0);
    ASSERT_TRUE(send(fd2, up, strlen(up), MSG_NOSIGNAL) == (ssize_t)strlen(up));
    r = read_some(fd2, "\r\n\r\n");
    ASSERT_TRUE(strncmp(r, "HTTP/1.1 101", 12) == 0);
    free(r);
    close(fd);
    int64_t t0 = vc_now_mono_us();
    vc_http_server_free(s);
    ASSERT_TRUE(vc_now_mono_us() - t0 < 3000000); /* did not wait for the pump's poll timeout */
    /* the second pump either ran and was shut down, or the stop came first and released it */
    ASSERT_EQ(atomic_load(&raw_served) + atomic_load(&raw_released), 3);
    close(fd2);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_interceptor);
    return VC_TEST_DONE();
}
