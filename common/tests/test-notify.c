/* Tests for notify: the JSON each alert posts, delivery in order to a real HTTP server on
 * 127.0.0.1, a stalled receiver never blocks vc_notify_post (the queue fills and drops are
 * counted), a receiver that is down counts as failed, and no URL means off. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "vc-test.h"
#include "vc/notify.h"
#include "vc/util.h"

/* A one-thread HTTP/1.1 server: reads each request (headers + Content-Length body), keeps the
 * body, answers `status` once `hold` is false. */
typedef struct server {
    int fd, port, status;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool hold, stop;
    int received; /* requests read (answered or not) */
    char *bodies[16];
} server_t;

static void serve_one(server_t *s, int c)
{
    char buf[8192];
    size_t len = 0;
    char *end = NULL;
    while (!end && len < sizeof(buf) - 1) {
        ssize_t k = read(c, buf + len, sizeof(buf) - 1 - len);
        if (k <= 0)
            return;
        len += (size_t)k;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return;
    const char *cl = strstr(buf, "Content-Length:");
    size_t want = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0, have = len - (size_t)(end + 4 - buf);
    while (have < want && len < sizeof(buf) - 1) {
        ssize_t k = read(c, buf + len, sizeof(buf) - 1 - len);
        if (k <= 0)
            return;
        len += (size_t)k;
        have += (size_t)k;
    }
    buf[len] = 0;
    pthread_mutex_lock(&s->lock);
    if (s->received < 16)
        s->bodies[s->received] = strdup(end + 4);
    s->received++;
    pthread_cond_broadcast(&s->cond);
    while (s->hold && !s->stop)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    char ans[128];
    int n = snprintf(ans, sizeof(ans), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", s->status);
    (void)!write(c, ans, (size_t)n);
}

static void *server_run(void *arg)
{
    server_t *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        pthread_mutex_lock(&s->lock);
        bool stop = s->stop;
        pthread_mutex_unlock(&s->lock);
        if (stop) {
            close(c);
            return NULL;
        }
        serve_one(s, c);
        close(c);
    }
}

static void server_start(server_t *s, int status)
{
    memset(s, 0, sizeof(*s));
    s->status = status;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_TRUE(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    ASSERT_OK(bind(s->fd, (struct sockaddr *)&a, sizeof(a)));
    ASSERT_OK(listen(s->fd, 16));
    ASSERT_OK(getsockname(s->fd, (struct sockaddr *)&a, &al));
    s->port = ntohs(a.sin_port);
    ASSERT_EQ(pthread_create(&s->thread, NULL, server_run, s), 0);
}

static void server_release(server_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->hold = false;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void server_stop(server_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < 16; i++)
        free(s->bodies[i]);
}

/* Waits (bounded, generous) until the server has read n requests. */
static bool wait_received(server_t *s, int n)
{
    bool ok = false;
    for (int i = 0; i < 3000 && !ok; i++) {
        pthread_mutex_lock(&s->lock);
        ok = s->received >= n;
        pthread_mutex_unlock(&s->lock);
        if (!ok)
            vc_sleep_ms(10);
    }
    return ok;
}

static void url_of(const server_t *s, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d/hook", s->port);
}

static void test_off_without_url(void)
{
    vc_notify_t *n = (vc_notify_t *)1;
    ASSERT_OK(vc_notify_new(&(vc_notify_options_t){.url = "", .service = "messager"}, &n));
    ASSERT_TRUE(n == NULL);
    ASSERT_OK(vc_notify_post(n, "became-leader", "x"));
    ASSERT_EQ_U64(vc_notify_dropped(n), 0);
    ASSERT_TRUE(vc_notify_free(n) == NULL);
    ASSERT_EQ(vc_notify_new(&(vc_notify_options_t){.url = "http://127.0.0.1:1/"}, &n), -EINVAL);
}

static void test_delivers_in_order(void)
{
    server_t s;
    char url[64];
    server_start(&s, 200);
    url_of(&s, url, sizeof(url));
    vc_notify_t *n;
    ASSERT_OK(vc_notify_new(&(vc_notify_options_t){.url = url, .service = "messager", .instance = "h:1/ab"}, &n));
    ASSERT_OK(vc_notify_post(n, "became-leader", "token=7"));
    ASSERT_OK(vc_notify_post(n, "stepped-down", "quote \" and\nnewline"));
    ASSERT_OK(vc_notify_post(n, "third", NULL));
    ASSERT_TRUE(wait_received(&s, 3));
    for (int i = 0; i < 300 && vc_notify_sent(n) < 3; i++)
        vc_sleep_ms(10);
    ASSERT_EQ_U64(vc_notify_sent(n), 3);
    ASSERT_EQ_U64(vc_notify_failed(n), 0);
    const char *events[] = {"became-leader", "stepped-down", "third"};
    const char *details[] = {"token=7", "quote \" and\nnewline", ""};
    for (int i = 0; i < 3; i++) {
        json_t *j = json_loads(s.bodies[i], 0, NULL);
        ASSERT_NOTNULL(j);
        ASSERT_STREQ(json_string_value(json_object_get(j, "service")), "messager");
        ASSERT_STREQ(json_string_value(json_object_get(j, "instance")), "h:1/ab");
        ASSERT_STREQ(json_string_value(json_object_get(j, "event")), events[i]);
        ASSERT_STREQ(json_string_value(json_object_get(j, "detail")), details[i]);
        const char *t = json_string_value(json_object_get(j, "time"));
        ASSERT_NOTNULL(t);
        ASSERT_EQ(strlen(t), strlen("2024-01-02T03:04:05.678Z"));
        ASSERT_EQ(t[strlen(t) - 1], 'Z');
        ASSERT_EQ(json_object_size(j), 5);
        json_decref(j);
    }
    vc_notify_free(n);
    server_stop(&s);
}

/* The receiver holds the first POST: later posts queue up to queue_max, then are dropped and
 * counted, and vc_notify_post returns at once all along. Released, the queue drains. */
static void test_stalled_receiver_drops(void)
{
    server_t s;
    char url[64];
    server_start(&s, 200);
    s.hold = true;
    url_of(&s, url, sizeof(url));
    vc_notify_t *n;
    ASSERT_OK(vc_notify_new(&(vc_notify_options_t){.url = url, .service = "miner", .timeout_ms = 60000,
                                                   .queue_max = 2},
                            &n));
    ASSERT_OK(vc_notify_post(n, "e0", NULL));
    ASSERT_TRUE(wait_received(&s, 1)); /* e0 is in flight, held */
    ASSERT_OK(vc_notify_post(n, "e1", NULL));
    ASSERT_OK(vc_notify_post(n, "e2", NULL));
    ASSERT_EQ(vc_notify_post(n, "e3", NULL), -ENOBUFS);
    ASSERT_EQ(vc_notify_post(n, "e4", NULL), -ENOBUFS);
    ASSERT_EQ_U64(vc_notify_dropped(n), 2);
    ASSERT_EQ_U64(vc_notify_sent(n), 0);
    server_release(&s);
    ASSERT_TRUE(wait_received(&s, 3));
    for (int i = 0; i < 300 && vc_notify_sent(n) < 3; i++)
        vc_sleep_ms(10);
    ASSERT_EQ_U64(vc_notify_sent(n), 3);
    ASSERT_TRUE(strstr(s.bodies[2], "\"e2\"") != NULL);
    vc_notify_free(n);
    server_stop(&s);
}

static void test_failures_counted(void)
{
    server_t s;
    char url[64];
    server_start(&s, 500); /* answers, but not 2xx */
    url_of(&s, url, sizeof(url));
    vc_notify_t *n;
    ASSERT_OK(vc_notify_new(&(vc_notify_options_t){.url = url, .service = "miner"}, &n));
    ASSERT_OK(vc_notify_post(n, "e", NULL));
    for (int i = 0; i < 300 && vc_notify_failed(n) < 1; i++)
        vc_sleep_ms(10);
    ASSERT_EQ_U64(vc_notify_failed(n), 1);
    ASSERT_EQ_U64(vc_notify_sent(n), 0);
    vc_notify_free(n);
    server_stop(&s); /* now nothing listens on that port: a transport error */
    ASSERT_OK(vc_notify_new(&(vc_notify_options_t){.url = url, .service = "miner", .timeout_ms = 2000}, &n));
    ASSERT_OK(vc_notify_post(n, "e", NULL));
    for (int i = 0; i < 500 && vc_notify_failed(n) < 1; i++)
        vc_sleep_ms(10);
    ASSERT_EQ_U64(vc_notify_failed(n), 1);
    vc_notify_free(n);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_off_without_url);
    VC_TEST_RUN(test_delivers_in_order);
    VC_TEST_RUN(test_stalled_receiver_drops);
    VC_TEST_RUN(test_failures_counted);
    return VC_TEST_DONE();
}
