/*
 * bench-rpc-echo: JSON-RPC echo throughput of libvc's server (http + rpc) on 127.0.0.1.
 *
 * The server runs in a child process; the parent drives it with N keep-alive HTTP connections
 * (a small raw HTTP/1.1 client, one request in flight per connection) and then with N
 * WebSocket connections (libvc's ws client), each for D seconds, and prints requests/s.
 *
 *   bench-rpc-echo [--connections N] [--seconds D] [--threads T]
 *
 * Target (2 cores, server and load generator sharing them): >= 15000 req/s over HTTP
 * keep-alive and >= 15000 req/s over WebSocket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc/authn.h"
#include "vc/http.h"
#include "vc/rpc.h"
#include "vc/util.h"
#include "vc/ws.h"

#define TARGET_RPS 15000.0

static const uint8_t secret[32] = "bench-secret-xxxxxxxxxxxxxxxxxxx";
static char *token;
static unsigned port;
static int seconds = 5, nconn = 16;
static unsigned server_threads = 2;
static atomic_long done_reqs;
static atomic_bool stop;

static int m_echo(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_incref(json_array_get(params, 0));
    return 0;
}

static const vc_rpc_method_t methods[] = {{"Bench.Echo", VC_PERM_READ, 1, m_echo, VC_RPC_FAST}};

static int auth(void *ud, const char *tok, vc_auth_info_t *ret)
{
    return vc_jwt_verify(tok, secret, sizeof(secret), ret);
}

static void run_server(int ready_fd)
{
    vc_http_server_t *http;
    vc_rpc_server_t *rpc;
    vc_http_opts_t ho = {.listen = "127.0.0.1:0", .threads = server_threads};
    vc_rpc_opts_t ro = {.min_workers = server_threads};
    if (vc_http_server_new(&ho, &http) < 0 || vc_rpc_server_new(&ro, &rpc) < 0 ||
        vc_rpc_register(rpc, methods, 1) < 0 || vc_rpc_mount(rpc, http, "/rpc/v0", NULL) < 0)
        _exit(2);
    vc_http_set_auth(http, auth, NULL);
    if (vc_http_start(http) < 0)
        _exit(2);
    unsigned p = vc_http_port(http);
    if (write(ready_fd, &p, sizeof(p)) != sizeof(p))
        _exit(2);
    for (;;)
        pause();
}

static const char body[] = "{\"jsonrpc\":\"2.0\",\"method\":\"Bench.Echo\",\"params\":[\"hello venus\"],\"id\":1}";

static char *find(char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

static int read_response(int fd, char *buf, size_t cap, size_t *have)
{
    /* reads one HTTP response (Content-Length framed); leftover bytes stay in buf */
    for (;;) {
        char *end = find(buf, *have, "\r\n\r\n");
        if (end) {
            char *cl = find(buf, (size_t)(end - buf), "Content-Length: ");
            size_t hdr = (size_t)(end - buf) + 4, blen = cl ? strtoul(cl + 16, NULL, 10) : 0;
            if (*have >= hdr + blen) {
                if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
                    return -EPROTO;
                memmove(buf, buf + hdr + blen, *have - hdr - blen);
                *have -= hdr + blen;
                return 0;
            }
        }
        if (*have == cap)
            return -ENOBUFS;
        ssize_t n = read(fd, buf + *have, cap - *have);
        if (n <= 0)
            return -EIO;
        *have += (size_t)n;
    }
}

static void *http_worker(void *arg)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect");
        exit(1);
    }
    char req[2048], buf[16384];
    int n = snprintf(req, sizeof(req),
                     "POST /rpc/v0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     token, strlen(body), body);
    size_t have = 0;
    while (!atomic_load(&stop)) {
        if (write(fd, req, (size_t)n) != n || read_response(fd, buf, sizeof(buf), &have) < 0) {
            fprintf(stderr, "http request failed\n");
            exit(1);
        }
        atomic_fetch_add(&done_reqs, 1);
    }
    close(fd);
    return NULL;
}

static void *ws_worker(void *arg)
{
    char url[64], hdr[1024];
    vc_ws_t *ws;
    snprintf(url, sizeof(url), "ws://127.0.0.1:%u/rpc/v0", port);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
    const char *headers[] = {hdr, NULL};
    if (vc_ws_connect(url, headers, 5000, NULL, &ws, NULL) < 0) {
        fprintf(stderr, "ws connect failed\n");
        exit(1);
    }
    while (!atomic_load(&stop)) {
        int op;
        char *data;
        size_t len;
        if (vc_ws_send(ws, VC_WS_OP_TEXT, body, strlen(body)) < 0 || vc_ws_recv(ws, 5000, &op, &data, &len) < 0) {
            fprintf(stderr, "ws request failed\n");
            exit(1);
        }
        free(data);
        atomic_fetch_add(&done_reqs, 1);
    }
    vc_ws_close(ws, 1000, "done");
    vc_ws_free(ws);
    return NULL;
}

static double run(void *(*fn)(void *))
{
    pthread_t th[256];
    atomic_store(&stop, false);
    for (int i = 0; i < nconn; i++)
        pthread_create(&th[i], NULL, fn, NULL);
    vc_sleep_ms(500); /* warm-up */
    long start = atomic_load(&done_reqs);
    int64_t t0 = vc_now_mono_us();
    vc_sleep_ms((int64_t)seconds * 1000);
    long end = atomic_load(&done_reqs);
    int64_t t1 = vc_now_mono_us();
    atomic_store(&stop, true);
    for (int i = 0; i < nconn; i++)
        pthread_join(th[i], NULL);
    return (double)(end - start) / ((double)(t1 - t0) / 1e6);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (vc_streq(argv[i], "--connections") && i + 1 < argc)
            nconn = atoi(argv[++i]);
        else if (vc_streq(argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (vc_streq(argv[i], "--threads") && i + 1 < argc)
            server_threads = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--connections N] [--seconds D] [--threads T]\n", argv[0]);
            return 1;
        }
    }
    if (nconn < 1 || nconn > 256 || seconds < 1) {
        fprintf(stderr, "connections must be 1..256, seconds >= 1\n");
        return 1;
    }
    vc_init();
    signal(SIGPIPE, SIG_IGN);
    if (vc_jwt_encode("bench", "read", "", secret, sizeof(secret), &token) < 0)
        return 1;
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        run_server(pfd[1]);
    }
    close(pfd[1]);
    if (read(pfd[0], &port, sizeof(port)) != sizeof(port)) {
        fprintf(stderr, "server did not start\n");
        return 1;
    }
    printf("bench-rpc-echo: %d connections, %d s each, server threads %u\n", nconn, seconds, server_threads);
    double http_rps = run(http_worker);
    printf("HTTP keep-alive: %.0f req/s (target >= %.0f) %s\n", http_rps, TARGET_RPS,
           http_rps >= TARGET_RPS ? "OK" : "BELOW TARGET");
    double ws_rps = run(ws_worker);
    printf("WebSocket:       %.0f req/s (target >= %.0f) %s\n", ws_rps, TARGET_RPS,
           ws_rps >= TARGET_RPS ? "OK" : "BELOW TARGET");
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(token);
    return 0;
}
