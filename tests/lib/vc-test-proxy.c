/* vc-test-proxy.c: the forwarder of vc-test-proxy.h: one thread, poll(2) over the listener and
 * every (client, upstream) pair; bytes read from one side are written whole to the other. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "vc-test-proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 128

struct vc_test_proxy {
    struct sockaddr_in target;
    unsigned port;
    int wake[2];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool want_up, is_up, stop;
    int listener;
    int pairs[MAX_PAIRS][2]; /* client, upstream; -1 = free */
    unsigned open, max_open; /* forwarded connections (under lock) */
};

static int listen_on(unsigned port, unsigned *ret_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    *ret_port = ntohs(a.sin_port);
    return fd;
}

static bool write_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

static void close_pair(vc_test_proxy_t *p, int *pair)
{
    close(pair[0]);
    close(pair[1]);
    pair[0] = pair[1] = -1;
    p->open--;
}

static void accept_one(vc_test_proxy_t *p)
{
    int c = accept4(p->listener, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (u < 0 || connect(u, (struct sockaddr *)&p->target, sizeof(p->target)) < 0) {
        close(c);
        if (u >= 0)
            close(u);
        return;
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i][0] < 0) {
            p->pairs[i][0] = c;
            p->pairs[i][1] = u;
            if (++p->open > p->max_open)
                p->max_open = p->open;
            return;
        }
    close(c);
    close(u);
}

/* Applies want_up (lock held). */
static void settle(vc_test_proxy_t *p)
{
    if (!p->want_up && p->is_up) {
        close(p->listener);
        p->listener = -1;
        for (int i = 0; i < MAX_PAIRS; i++)
            if (p->pairs[i][0] >= 0)
                close_pair(p, p->pairs[i]);
        p->is_up = false;
    } else if (p->want_up && !p->is_up) {
        unsigned port = 0;
        int fd = listen_on(p->port, &port);
        if (fd >= 0) {
            p->listener = fd;
            p->is_up = true;
        } else
            p->want_up = false; /* vc_test_proxy_up reports it */
    }
    pthread_cond_broadcast(&p->cond);
}

static void *proxy_main(void *arg)
{
    vc_test_proxy_t *p = arg;
    struct pollfd fds[2 + 2 * MAX_PAIRS];
    int where[2 + 2 * MAX_PAIRS]; /* pair index * 2 + side */
    char buf[65536];
    for (;;) {
        pthread_mutex_lock(&p->lock);
        if (p->stop) {
            p->want_up = false;
            settle(p);
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        settle(p);
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        if (p->listener >= 0)
            fds[n++] = (struct pollfd){.fd = p->listener, .events = POLLIN};
        for (int i = 0; i < MAX_PAIRS; i++)
            for (int side = 0; side < 2 && p->pairs[i][0] >= 0; side++) {
                where[n] = i * 2 + side;
                fds[n++] = (struct pollfd){.fd = p->pairs[i][side], .events = POLLIN};
            }
        pthread_mutex_unlock(&p->lock);
        if (poll(fds, n, -1) < 0 && errno != EINTR)
            return NULL;
        pthread_mutex_lock(&p->lock);
        if (fds[0].revents) {
            char drain[64];
            (void)!read(p->wake[0], drain, sizeof(drain));
        }
        for (nfds_t k = 1; k < n && !p->stop && p->want_up; k++) {
            if (!fds[k].revents)
                continue;
            if (fds[k].fd == p->listener) {
                accept_one(p);
                continue;
            }
            int i = where[k] / 2, side = where[k] % 2;
            if (p->pairs[i][side] != fds[k].fd)
                continue; /* closed in this round */
            ssize_t r = read(fds[k].fd, buf, sizeof(buf));
            if (r <= 0 || !write_all(p->pairs[i][!side], buf, (size_t)r))
                close_pair(p, p->pairs[i]);
        }
        pthread_mutex_unlock(&p->lock);
    }
}

unsigned vc_test_proxy_max_conns(vc_test_proxy_t *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->max_open;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void poke(vc_test_proxy_t *p)
{
    (void)!write(p->wake[1], "x", 1);
}

vc_test_proxy_t *vc_test_proxy_start(const char *target)
{
    char host[64] = "";
    unsigned port = 0;
    const char *t = strstr(target, "://") ? strstr(target, "://") + 3 : target;
    vc_test_proxy_t *p = calloc(1, sizeof(*p));
    if (!p || sscanf(t, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535) {
        fprintf(stderr, "vc_test_proxy_start: bad target '%s'\n", target);
        free(p);
        return NULL;
    }
    p->target.sin_family = AF_INET;
    p->target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &p->target.sin_addr) != 1 || pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "vc_test_proxy_start: bad host '%s'\n", host);
        free(p);
        return NULL;
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        p->pairs[i][0] = p->pairs[i][1] = -1;
    p->listener = listen_on(0, &p->port);
    if (p->listener < 0) {
        fprintf(stderr, "vc_test_proxy_start: cannot listen: %s\n", strerror(-p->listener));
        close(p->wake[0]);
        close(p->wake[1]);
        free(p);
        return NULL;
    }
    p->want_up = p->is_up = true;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
        close(p->listener);
        close(p->wake[0]);
        close(p->wake[1]);
        free(p);
        return NULL;
    }
    return p;
}

unsigned vc_test_proxy_port(const vc_test_proxy_t *p)
{
    return p->port;
}

static int set_up(vc_test_proxy_t *p, bool up)
{
    pthread_mutex_lock(&p->lock);
    p->want_up = up;
    poke(p);
    while (p->is_up != up && p->want_up == up)
        pthread_cond_wait(&p->cond, &p->lock);
    int r = p->is_up == up ? 0 : -EADDRINUSE;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void vc_test_proxy_down(vc_test_proxy_t *p)
{
    (void)set_up(p, false);
}

int vc_test_proxy_up(vc_test_proxy_t *p)
{
    return set_up(p, true);
}

void vc_test_proxy_free(vc_test_proxy_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    poke(p);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}
