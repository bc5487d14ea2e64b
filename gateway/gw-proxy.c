/*
 * gw-proxy.c: the unified-entry reverse proxy chosen by X-VENUS-API-NAMESPACE (spec B9), as a
 * vc_http interceptor, so proxied traffic skips the gateway's own auth (the upstream checks).
 *
 * Plain HTTP is forwarded with libcurl (request headers minus hop-by-hop ones; the answer's
 * status, Content-Type and body come back). WebSocket upgrades are dialled upstream over TCP
 * with the original path, query and headers; when the upstream answers 101 its accept key is
 * handed to the client and bytes are pumped both ways until either side closes.
 */
#include <curl/curl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway.h"
#include "vc/log.h"
#include "vc/netaddr.h"
#include "vc/util.h"

struct gw_proxy {
    pthread_mutex_t lock;
    char *upstream[GW_HOST_MAX]; /* http(s)://host:port, no path */
};

static const struct {
    const char *header;
    gw_host_t host;
} namespaces[] = {
    {"v0.FullNode", GW_HOST_VENUS},
    {"v1.FullNode", GW_HOST_VENUS},
    {"v0.IMarket", GW_HOST_DROPLET},
    {"v1.IMarket", GW_HOST_DROPLET},
    {"messager.IMessager", GW_HOST_MESSAGER},
    {"auth.IAuthClient", GW_HOST_AUTH},
    {"miner.MinerAPI", GW_HOST_MINER},
    {"gateway.IGateway", GW_HOST_GATEWAY},
    {"", GW_HOST_GATEWAY},
};

/* Endpoint as configured (URL or multiaddr) -> "http://host:port". */
static int normalize(const char *url, char **ret)
{
    char *u = NULL;
    int r = vc_netaddr_to_url(url, "http", "", &u);
    if (r < 0)
        return r;
    /* keep scheme://host:port only */
    char *p = strstr(u, "://");
    char *slash = p ? strchr(p + 3, '/') : NULL;
    if (slash)
        *slash = 0;
    *ret = u;
    return 0;
}

int gw_proxy_new(const gw_config_t *cfg, gw_proxy_t **ret)
{
    gw_proxy_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    for (int h = 0; h < GW_HOST_MAX; h++)
        if (!vc_strempty(cfg->upstream[h]) && normalize(cfg->upstream[h], &p->upstream[h]) < 0)
            vc_logkv(VC_LOG_WARNING, "proxy", "invalid upstream address, ignoring", "host",
                     gw_host_to_string(h), "url", cfg->upstream[h], NULL);
    *ret = p;
    return 0;
}

gw_proxy_t *gw_proxy_free(gw_proxy_t *p)
{
    if (!p)
        return NULL;
    for (int h = 0; h < GW_HOST_MAX; h++)
        free(p->upstream[h]);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
}

int gw_proxy_set(gw_proxy_t *p, const char *host_key, const char *url)
{
    int h = gw_host_from_string(host_key);
    if (h < 0)
        return -EINVAL;
    char *u = NULL;
    int r;
    if (!vc_strempty(url) && (r = normalize(url, &u)) < 0)
        return r;
    pthread_mutex_lock(&p->lock);
    free(p->upstream[h]);
    p->upstream[h] = u;
    pthread_mutex_unlock(&p->lock);
    return 0;
}

static char *upstream_of(gw_proxy_t *p, gw_host_t h)
{
    pthread_mutex_lock(&p->lock);
    char *u = p->upstream[h] ? strdup(p->upstream[h]) : NULL;
    pthread_mutex_unlock(&p->lock);
    return u;
}

static bool hop_by_hop(const char *name)
{
    static const char *const hop[] = {"Connection",          "Keep-Alive", "Proxy-Authenticate",
                                      "Proxy-Authorization", "Te",         "Trailer",
                                      "Transfer-Encoding",   "Upgrade",    "Host",
                                      "Content-Length",      "Expect"};
    for (size_t i = 0; i < VC_ELEMENTSOF(hop); i++)
        if (strcasecmp(name, hop[i]) == 0)
            return true;
    return false;
}

/* ---- query string rebuilt from the decoded arguments ---- */

static int add_query(const char *name, const char *value, void *ud)
{
    vc_buf_t *b = ud;
    char *n = vc_url_escape(name), *v = value ? vc_url_escape(value) : NULL;
    vc_buf_appendf(b, "%s%s%s%s", b->len ? "&" : "?", n ? n : "", value ? "=" : "", v ? v : "");
    free(n);
    free(v);
    return 0;
}

static char *target_of(const vc_http_request_t *req)
{
    vc_buf_t q = {0};
    vc_http_foreach(req, VC_HTTP_KIND_QUERY, add_query, &q);
    vc_buf_t t = {0};
    vc_buf_appendf(&t, "%s%s", req->path, q.data ? q.data : "");
    vc_buf_done(&q);
    return vc_buf_steal(&t);
}

/* ---- plain HTTP ---- */

typedef struct scratch {
    char *ctype;
    char *accept;
    char *protocol;
} scratch_t;

static void scratch_free(void *p)
{
    scratch_t *s = p;
    if (!s)
        return;
    free(s->ctype);
    free(s->accept);
    free(s->protocol);
    free(s);
}

static scratch_t *scratch_of(vc_http_request_t *req)
{
    if (!req->scratch) {
        req->scratch = calloc(1, sizeof(scratch_t));
        req->scratch_free = scratch_free;
    }
    return req->scratch;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    return vc_buf_append(ud, data, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    char **ctype = ud;
    size_t len = size * n;
    if (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
        const char *v = data + 13;
        while (*v == ' ')
            v++;
        size_t vl = len - (size_t)(v - data);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        free(*ctype);
        *ctype = strndup(v, vl);
    }
    return len;
}

typedef struct hdr_ctx {
    struct curl_slist *list;
} hdr_ctx_t;

static int add_header(const char *name, const char *value, void *ud)
{
    hdr_ctx_t *h = ud;
    if (hop_by_hop(name) || strcasecmp(name, "X-VENUS-API-NAMESPACE") == 0)
        return 0;
    char line[8192];
    snprintf(line, sizeof(line), "%s: %s", name, value ? value : "");
    struct curl_slist *n = curl_slist_append(h->list, line);
    if (n)
        h->list = n;
    return 0;
}

static int forward_http(vc_http_request_t *req, vc_http_response_t *resp, const char *base, const char *ns)
{
    _cleanup_free_ char *target = target_of(req);
    char url[4096];
    snprintf(url, sizeof(url), "%s%s", base, target ? target : req->path);
    CURL *c = curl_easy_init();
    if (!c)
        return -ENOMEM;
    hdr_ctx_t h = {NULL};
    vc_http_foreach(req, VC_HTTP_KIND_HEADER, add_header, &h);
    char xns[256], xff[128];
    snprintf(xns, sizeof(xns), "X-VENUS-API-NAMESPACE: %s", ns);
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %.*s",
             (int)(strrchr(req->remote, ':') ? strrchr(req->remote, ':') - req->remote : 0), req->remote);
    h.list = curl_slist_append(h.list, xns);
    h.list = curl_slist_append(h.list, xff);
    h.list = curl_slist_append(h.list, "Expect:");
    char *ctype = NULL;
    vc_buf_t body = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h.list);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 600000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &ctype);
    if (req->body_len || vc_streq(req->method, "POST") || vc_streq(req->method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (vc_streq(req->method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h.list);
    if (cc != CURLE_OK) {
        vc_buf_done(&body);
        free(ctype);
        vc_logkv(VC_LOG_WARNING, "proxy", "upstream failed", "url", url, "error", curl_easy_strerror(cc),
                 NULL);
        resp->status = 502;
        resp->content_type = "text/plain";
        vc_buf_appendf(&resp->body, "proxy: upstream %s: %s\n", base, curl_easy_strerror(cc));
        return 0;
    }
    resp->status = (int)status;
    resp->body = body;
    scratch_t *s = scratch_of(req);
    if (s && ctype) {
        s->ctype = ctype;
        resp->content_type = ctype;
    } else {
        free(ctype);
        resp->content_type = NULL;
    }
    return 0;
}

/* ---- WebSocket pass-through ---- */

typedef struct pump {
    int up;      /* upstream socket */
    char *early; /* bytes the upstream sent right after its 101 */
    size_t early_len;
} pump_t;

static void pump_free(pump_t *p)
{
    if (!p)
        return;
    if (p->up >= 0)
        close(p->up);
    free(p->early);
    free(p);
}

static int write_all(int fd, const char *d, size_t n)
{
    while (n) {
        ssize_t w = send(fd, d, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 30000) <= 0)
                return -ETIMEDOUT;
            continue;
        }
        if (w <= 0)
            return -EPIPE;
        d += w;
        n -= (size_t)w;
    }
    return 0;
}

static void pump_run(int fd, const void *extra, size_t extra_len, void *arg)
{
    pump_t *p = arg;
    if (fd < 0) {
        pump_free(p);
        return;
    }
    if ((extra_len && write_all(p->up, extra, extra_len) < 0) ||
        (p->early_len && write_all(fd, p->early, p->early_len) < 0)) {
        pump_free(p);
        return;
    }
    char buf[65536];
    for (;;) {
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = p->up, .events = POLLIN}};
        int n = poll(pf, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        bool done = false;
        for (int i = 0; i < 2 && !done; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = recv(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                continue;
            if (r <= 0 || write_all(i == 0 ? p->up : fd, buf, (size_t)r) < 0)
                done = true;
        }
        if (done)
            break;
    }
    pump_free(p);
}

static int dial(const char *base, char *ret_hostport, size_t hlen)
{
    const char *hp = strstr(base, "://");
    if (!hp || strncmp(base, "http://", 7) != 0)
        return -EPROTONOSUPPORT; /* https / wss upstreams need TLS */
    hp += 3;
    snprintf(ret_hostport, hlen, "%s", hp);
    char host[256], port[16] = "80";
    const char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
    if (hp[0] == '[') {
        const char *end = strchr(hp, ']');
        if (!end)
            return -EINVAL;
        snprintf(host, sizeof(host), "%.*s", (int)(end - hp - 1), hp + 1);
        if (colon)
            snprintf(port, sizeof(port), "%s", colon + 2);
    } else if (colon) {
        snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
        snprintf(port, sizeof(port), "%s", colon + 1);
    } else
        snprintf(host, sizeof(host), "%s", hp);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return VC_ETRANSPORT;
    int fd = -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd >= 0 ? fd : VC_ETRANSPORT;
}

static int add_raw_header(const char *name, const char *value, void *ud)
{
    vc_buf_t *b = ud;
    if (strcasecmp(name, "Host") == 0 || strcasecmp(name, "Connection") == 0 ||
        strcasecmp(name, "Upgrade") == 0)
        return 0;
    vc_buf_appendf(b, "%s: %s\r\n", name, value ? value : "");
    return 0;
}

/* Header value from a raw response head (case-insensitive name), malloc'ed. */
static char *head_value(const char *head, const char *name)
{
    size_t nl = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        const char *l = line + 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            return strndup(v, e ? (size_t)(e - v) : strlen(v));
        }
    }
    return NULL;
}

static int forward_ws(vc_http_request_t *req, vc_http_response_t *resp, const char *base)
{
    char hostport[300];
    int fd = dial(base, hostport, sizeof(hostport));
    if (fd < 0) {
        resp->status = 502;
        resp->content_type = "text/plain";
        vc_buf_appendf(&resp->body, "proxy: cannot reach upstream %s: %s\n", base, vc_strerror(fd));
        return 0;
    }
    _cleanup_free_ char *target = target_of(req);
    vc_buf_t b = {0};
    vc_buf_appendf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n",
                   target ? target : req->path, hostport);
    vc_http_foreach(req, VC_HTTP_KIND_HEADER, add_raw_header, &b);
    vc_buf_append_str(&b, "\r\n");
    int r = b.data ? write_all(fd, b.data, b.len) : -ENOMEM;
    vc_buf_done(&b);
    /* read the answer's head (bounded) */
    vc_buf_t head = {0};
    char *end = NULL;
    while (r == 0 && !end && head.len < 16384) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0) {
            r = -ETIMEDOUT;
            break;
        }
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            r = VC_ETRANSPORT;
            break;
        }
        vc_buf_append(&head, buf, (size_t)n);
        end = strstr(head.data, "\r\n\r\n");
    }
    if (r < 0 || !end) {
        close(fd);
        vc_buf_done(&head);
        resp->status = 502;
        resp->content_type = "text/plain";
        vc_buf_appendf(&resp->body, "proxy: bad upgrade answer from %s\n", base);
        return 0;
    }
    int status = 0;
    if (sscanf(head.data, "HTTP/1.%*d %d", &status) != 1 || status != 101) {
        /* pass the refusal on (its body as far as it came) */
        close(fd);
        resp->status = status ? status : 502;
        resp->content_type = "text/plain";
        vc_buf_append_str(&resp->body, end + 4);
        vc_buf_done(&head);
        return 0;
    }
    scratch_t *s = scratch_of(req);
    pump_t *p = calloc(1, sizeof(*p));
    if (!s || !p) {
        close(fd);
        free(p);
        vc_buf_done(&head);
        return -ENOMEM;
    }
    *end = 0;
    s->accept = head_value(head.data, "Sec-WebSocket-Accept");
    s->protocol = head_value(head.data, "Sec-WebSocket-Protocol");
    size_t early = head.len - (size_t)(end + 4 - head.data);
    if (early && (p->early = malloc(early))) {
        memcpy(p->early, end + 4, early);
        p->early_len = early;
    }
    vc_buf_done(&head);
    p->up = fd;
    resp->status = 101;
    resp->headers[resp->n_headers][0] = "Upgrade";
    resp->headers[resp->n_headers++][1] = "websocket";
    if (s->accept) {
        resp->headers[resp->n_headers][0] = "Sec-WebSocket-Accept";
        resp->headers[resp->n_headers++][1] = s->accept;
    }
    if (s->protocol) {
        resp->headers[resp->n_headers][0] = "Sec-WebSocket-Protocol";
        resp->headers[resp->n_headers++][1] = s->protocol;
    }
    resp->upgraded = pump_run;
    resp->upgrade_arg = p;
    return 0;
}

static bool is_upgrade(const vc_http_request_t *req)
{
    const char *up = vc_http_header(req, "Upgrade");
    return up && strcasecmp(up, "websocket") == 0;
}

int gw_proxy_intercept(vc_http_request_t *req, vc_http_response_t *resp, void *userdata)
{
    gw_proxy_t *p = userdata;
    const char *ns = vc_http_header(req, "X-VENUS-API-NAMESPACE");
    if (!ns)
        return VC_HTTP_NEXT;
    int host = -1;
    for (size_t i = 0; i < VC_ELEMENTSOF(namespaces); i++)
        if (strcmp(ns, namespaces[i].header) == 0)
            host = (int)namespaces[i].host;
    if (host == GW_HOST_GATEWAY)
        return VC_HTTP_NEXT;
    resp->content_type = "text/plain; charset=utf-8";
    if (host < 0) {
        resp->status = 400;
        vc_buf_appendf(&resp->body, "header(%s): invalid venus proxy header for X-VENUS-API-NAMESPACE\n", ns);
        return 0;
    }
    _cleanup_free_ char *base = upstream_of(p, host);
    if (!base) {
        resp->status = 400;
        vc_buf_appendf(&resp->body, "host key(%s) : no reverse proxy registered\n", gw_host_to_string(host));
        return 0;
    }
    if (!req->deferred)
        return VC_HTTP_DEFER; /* network I/O: off MHD's threads */
    resp->content_type = "application/json";
    return is_upgrade(req) ? forward_ws(req, resp, base) : forward_http(req, resp, base, ns);
}
