/* loadgen.c: epoll keep-alive HTTP load generator (see loadgen.h). */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKET_US 10
#define N_BUCKETS 100000 /* up to 1 s */

typedef struct conn {
    int fd;
    size_t sent;
    char buf[65536];
    size_t have;
    long long start_us;
    int idx;
    bool retired;
    char req[16384];
} conn_t;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *find(char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

/* 1 when a whole response is in c->buf (consumed), 0 when more is needed; *ok = status 200. */
static int take_response(conn_t *c, int *ok)
{
    char *end = find(c->buf, c->have, "\r\n\r\n");
    if (!end)
        return 0;
    size_t hdr = (size_t)(end - c->buf) + 4;
    char *cl = find(c->buf, hdr, "Content-Length: ");
    if (!cl)
        cl = find(c->buf, hdr, "content-length: ");
    size_t blen = cl ? strtoul(cl + 16, NULL, 10) : 0;
    if (c->have < hdr + blen)
        return 0;
    *ok = strncmp(c->buf, "HTTP/1.1 200", 12) == 0;
    memmove(c->buf, c->buf + hdr + blen, c->have - hdr - blen);
    c->have -= hdr + blen;
    return 1;
}

/* 1 sent, 0 retired (o->next had no more), -1 error */
static int send_req(conn_t *c, const lg_opts_t *o)
{
    const char *req = o->request;
    size_t len = o->request_len;
    if (o->next) {
        len = o->next(o->userdata, c->idx, c->req, sizeof(c->req));
        if (len == 0 || len > sizeof(c->req)) {
            c->retired = true;
            return 0;
        }
        req = c->req;
    }
    c->start_us = now_us();
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(c->fd, req + off, len - off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    return 1;
}

static double pct(const unsigned *b, long total, double q)
{
    long want = (long)(q * (double)total), seen = 0;
    for (int i = 0; i < N_BUCKETS; i++) {
        seen += b[i];
        if (seen > want)
            return (double)(i + 1) * BUCKET_US / 1000.0;
    }
    return (double)N_BUCKETS * BUCKET_US / 1000.0;
}

int lg_run(const lg_opts_t *o, lg_result_t *ret)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    conn_t *cs = calloc((size_t)o->conns, sizeof(conn_t));
    unsigned *buckets = calloc(N_BUCKETS, sizeof(unsigned));
    if (ep < 0 || !cs || !buckets)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    inet_pton(AF_INET, o->host, &sa.sin_addr);
    for (int i = 0; i < o->conns; i++) {
        int one = 1;
        cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(cs[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            perror("loadgen: connect");
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        cs[i].idx = i;
    }
    long long t_start = now_us();
    int active = 0;
    for (int i = 0; i < o->conns; i++)
        active += send_req(&cs[i], o) == 1;
    long long t_measure = t_start + (long long)o->warmup_ms * 1000,
              t_end = t_measure + (long long)o->seconds * 1000000;
    long done = 0, errors = 0;
    double max_ms = 0;
    struct epoll_event evs[256];
    for (;;) {
        long long now = now_us();
        if (now >= t_end || active == 0)
            break;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            ssize_t r = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                fprintf(stderr, "loadgen: connection closed by the server\n");
                return -1;
            }
            c->have += (size_t)r;
            int ok;
            while (take_response(c, &ok)) {
                long long t = now_us();
                if (c->start_us >= t_measure && t <= t_end) {
                    long us = (long)(t - c->start_us);
                    buckets[us / BUCKET_US < N_BUCKETS ? us / BUCKET_US : N_BUCKETS - 1]++;
                    if (us / 1000.0 > max_ms)
                        max_ms = us / 1000.0;
                    done++;
                    if (!ok)
                        errors++;
                }
                if (send_req(c, o) != 1) {
                    active--;
                    break;
                }
            }
        }
    }
    ret->done = done;
    ret->errors = errors;
    long long t_stop = now_us() < t_end ? now_us() : t_end;
    ret->rps = t_stop > t_measure ? (double)done / ((double)(t_stop - t_measure) / 1e6) : 0;
    ret->p50_ms = pct(buckets, done, 0.50);
    ret->p90_ms = pct(buckets, done, 0.90);
    ret->p99_ms = pct(buckets, done, 0.99);
    ret->max_ms = max_ms;
    for (int i = 0; i < o->conns; i++)
        close(cs[i].fd);
    close(ep);
    free(cs);
    free(buckets);
    return 0;
}

long lg_rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

double lg_cpu_seconds(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* fields 14 and 15 (utime, stime) follow the command name, which may contain spaces */
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
