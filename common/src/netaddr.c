/* netaddr.c: listen-address and endpoint parsing (host:port, [v6]:port, multiaddr, URL). */
#include "vc/netaddr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>

#include "vc/util.h"

typedef struct hostport {
    char host[256];
    char port[8];
    char rest[256]; /* path or multiaddr suffix such as "/http" */
} hostport_t;

static int parse_port(const char *s, size_t n, char out[8])
{
    if (n == 0 || n > 5)
        return VC_EPARSE;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return VC_EPARSE;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return VC_EPARSE;
    snprintf(out, 8, "%u", v);
    return 0;
}

/* "/ip4/H/tcp/P[/rest]" */
static int parse_multiaddr(const char *s, hostport_t *hp)
{
    char proto[8];
    const char *p = s + 1, *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof(proto))
        return VC_EPARSE;
    memcpy(proto, p, (size_t)(slash - p));
    proto[slash - p] = 0;
    if (!vc_streq(proto, "ip4") && !vc_streq(proto, "ip6") && !vc_streq(proto, "dns") &&
        !vc_streq(proto, "dns4") && !vc_streq(proto, "dns6"))
        return VC_EPARSE;
    p = slash + 1;
    slash = strchr(p, '/');
    if (!slash || slash == p || (size_t)(slash - p) >= sizeof(hp->host))
        return VC_EPARSE;
    memcpy(hp->host, p, (size_t)(slash - p));
    hp->host[slash - p] = 0;
    p = slash + 1;
    if (strncmp(p, "tcp/", 4) != 0)
        return VC_EPARSE;
    p += 4;
    slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (parse_port(p, n, hp->port) < 0)
        return VC_EPARSE;
    snprintf(hp->rest, sizeof(hp->rest), "%s", slash ? slash : "");
    return 0;
}

/* "host:port[/path]", "[v6]:port[/path]", ":port" */
static int parse_hostport(const char *s, hostport_t *hp)
{
    const char *colon, *hstart = s, *hend;
    if (*s == '[') {
        hend = strchr(s, ']');
        if (!hend || hend[1] != ':')
            return VC_EPARSE;
        hstart = s + 1;
        colon = hend + 1;
    } else {
        colon = strchr(s, ':');
        if (!colon)
            return VC_EPARSE;
        hend = colon;
    }
    size_t hl = (size_t)(hend - hstart);
    if (hl >= sizeof(hp->host))
        return VC_EPARSE;
    memcpy(hp->host, hstart, hl);
    hp->host[hl] = 0;
    const char *port = colon + 1, *slash = strchr(port, '/');
    size_t n = slash ? (size_t)(slash - port) : strlen(port);
    if (parse_port(port, n, hp->port) < 0)
        return VC_EPARSE;
    snprintf(hp->rest, sizeof(hp->rest), "%s", slash ? slash : "");
    return 0;
}

int vc_netaddr_parse_listen(const char *s, struct sockaddr_storage *ret_addr, socklen_t *ret_len)
{
    hostport_t hp = {0};
    int r;
    if (vc_strempty(s) || strlen(s) > 512)
        return VC_EPARSE;
    r = s[0] == '/' ? parse_multiaddr(s, &hp) : parse_hostport(s, &hp);
    if (r < 0)
        return r;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL, *pick;
    if (getaddrinfo(hp.host[0] ? hp.host : "0.0.0.0", hp.port, &hints, &res) != 0 || !res)
        return -EADDRNOTAVAIL;
    /* a name such as "localhost" may resolve to ::1 first: prefer IPv4, as Go's listeners do */
    for (pick = res; pick && pick->ai_family != AF_INET; pick = pick->ai_next)
        ;
    if (!pick)
        pick = res;
    memcpy(ret_addr, pick->ai_addr, pick->ai_addrlen);
    *ret_len = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

void vc_netaddr_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
        snprintf(out, outlen, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
        snprintf(out, outlen, "[%s]:%u", ip, port);
    } else
        snprintf(out, outlen, "unknown");
}

int vc_netaddr_to_url(const char *endpoint, const char *want_scheme, const char *default_path,
                      char **ret)
{
    hostport_t hp = {0};
    char scheme[8] = "";
    const char *s = endpoint;
    int r;

    if (vc_strempty(endpoint) || strlen(endpoint) > 512)
        return VC_EPARSE;
    const char *sep = strstr(s, "://");
    if (sep) {
        size_t n = (size_t)(sep - s);
        if (n >= sizeof(scheme))
            return VC_EPARSE;
        memcpy(scheme, s, n);
        scheme[n] = 0;
        if (!vc_streq(scheme, "http") && !vc_streq(scheme, "ws") && !vc_streq(scheme, "https") &&
            !vc_streq(scheme, "wss"))
            return VC_EPARSE;
        s = sep + 3;
        r = parse_hostport(s, &hp);
    } else if (s[0] == '/') {
        r = parse_multiaddr(s, &hp);
        if (r == 0 && (vc_streq(hp.rest, "/http") || vc_streq(hp.rest, "/ws") ||
                       vc_streq(hp.rest, "/https") || vc_streq(hp.rest, "/wss"))) {
            size_t sl = strlen(hp.rest + 1); /* 2..5 chars, checked just above */
            memcpy(scheme, hp.rest + 1, sl + 1);
            hp.rest[0] = 0;
        } else if (r == 0 && hp.rest[0])
            return VC_EPARSE;
    } else
        r = parse_hostport(s, &hp);
    if (r < 0)
        return r;
    if (!scheme[0])
        snprintf(scheme, sizeof(scheme), "%s", want_scheme ? want_scheme : "http");
    if (want_scheme) {
        bool tls = vc_streq(scheme, "https") || vc_streq(scheme, "wss");
        if (vc_streq(want_scheme, "http"))
            snprintf(scheme, sizeof(scheme), "%s", tls ? "https" : "http");
        else if (vc_streq(want_scheme, "ws"))
            snprintf(scheme, sizeof(scheme), "%s", tls ? "wss" : "ws");
    }
    const char *path = hp.rest[0] ? hp.rest : (default_path ? default_path : "");
    bool v6 = strchr(hp.host, ':') != NULL;
    size_t n = strlen(scheme) + strlen(hp.host) + strlen(path) + 32;
    char *url = malloc(n);
    if (!url)
        return -ENOMEM;
    snprintf(url, n, "%s://%s%s%s:%s%s", scheme, v6 ? "[" : "", hp.host[0] ? hp.host : "127.0.0.1",
             v6 ? "]" : "", hp.port, path);
    *ret = url;
    return 0;
}
