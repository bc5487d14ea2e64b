/* ws.c: RFC 6455 WebSocket framing and connections (see vc/ws.h for the threading model). */
#define _GNU_SOURCE /* pipe2 */
#include "vc/ws.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vc/log.h"
#include "vc/sha1.h"

#define WS_MAX_HANDSHAKE 16384 /* bytes of the 101 answer we accept */
#define WS_MAX_URL 4096
#define WS_RBUF_MIN 16384 /* read buffer kept while idle; must be >= WS_MAX_HANDSHAKE */

/* ------------------------------------------------------------------------------------------ */
/* Codec */

static bool opcode_known(int op)
{
    return op == VC_WS_OP_CONT || op == VC_WS_OP_TEXT || op == VC_WS_OP_BINARY || op == VC_WS_OP_CLOSE ||
           op == VC_WS_OP_PING || op == VC_WS_OP_PONG;
}

static bool opcode_control(int op)
{
    return op >= 0x8;
}

int vc_ws_frame_parse(const uint8_t *buf, size_t len, size_t max_payload, bool expect_masked,
                      vc_ws_frame_t *ret, size_t *ret_consumed)
{
    if (!buf && len > 0)
        return -EINVAL;
    if (len < 2)
        return -EAGAIN;

    bool fin = buf[0] & 0x80;
    int opcode = buf[0] & 0x0f;
    bool masked = buf[1] & 0x80;
    uint64_t plen = buf[1] & 0x7f;

    /* Everything decidable from the first two bytes is checked before asking for more. */
    if (buf[0] & 0x70)
        return VC_EPARSE; /* RSV1-3: no extension negotiated */
    if (!opcode_known(opcode))
        return VC_EPARSE;
    if (opcode_control(opcode) && (!fin || plen > VC_WS_MAX_CONTROL))
        return VC_EPARSE;
    if (masked != expect_masked)
        return VC_EPARSE;

    size_t hlen = 2;
    if (plen == 126) {
        if (len < 4)
            return -EAGAIN;
        plen = (uint64_t)buf[2] << 8 | buf[3];
        hlen = 4;
    } else if (plen == 127) {
        if (len < 10)
            return -EAGAIN;
        if (buf[2] & 0x80)
            return VC_EPARSE;
        plen = 0;
        for (unsigned i = 0; i < 8; i++)
            plen = plen << 8 | buf[2 + i];
        hlen = 10;
    }
    if (plen > max_payload)
        return VC_ETOOBIG;
    uint8_t mask[4] = {0};
    if (masked) {
        if (len < hlen + 4)
            return -EAGAIN;
        memcpy(mask, buf + hlen, 4);
        hlen += 4;
    }
    /* plen <= max_payload <= SIZE_MAX, so no overflow in the comparisons below. */
    if (len - hlen < plen)
        return -EAGAIN;

    *ret = (vc_ws_frame_t){
        .fin = fin,
        .opcode = opcode,
        .masked = masked,
        .payload = buf + hlen,
        .len = (size_t)plen,
        .header_len = hlen,
    };
    memcpy(ret->mask, mask, 4);
    *ret_consumed = hlen + (size_t)plen;
    return 0;
}

void vc_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= mask[(i + offset) & 3];
}

int vc_ws_frame_encode(vc_buf_t *out, int opcode, bool fin, const uint8_t *payload, size_t len,
                       const uint8_t *mask4)
{
    if (!out || !opcode_known(opcode) || (!payload && len > 0))
        return -EINVAL;
    if (opcode_control(opcode) && (!fin || len > VC_WS_MAX_CONTROL))
        return -EINVAL;
    if ((uint64_t)len >> 63)
        return -EINVAL;

    uint8_t h[VC_WS_MAX_HEADER];
    size_t hlen = 2;
    h[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    h[1] = mask4 ? 0x80 : 0;
    if (len < 126) {
        h[1] |= (uint8_t)len;
    } else if (len <= 0xffff) {
        h[1] |= 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hlen = 4;
    } else {
        h[1] |= 127;
        for (unsigned i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        hlen = 10;
    }
    if (mask4) {
        memcpy(h + hlen, mask4, 4);
        hlen += 4;
    }
    if (len > SIZE_MAX - hlen - 1)
        return -ENOMEM;
    int r = vc_buf_reserve(out, hlen + len);
    if (r < 0)
        return r;
    memcpy(out->data + out->len, h, hlen);
    out->len += hlen;
    if (len > 0) {
        uint8_t *p = (uint8_t *)out->data + out->len;
        memcpy(p, payload, len);
        if (mask4)
            vc_ws_mask(p, len, mask4, 0);
        out->len += len;
    }
    out->data[out->len] = 0;
    return 0;
}

int vc_ws_accept_key(const char *client_key, char out[29])
{
    if (!client_key)
        return -EINVAL;
    size_t n = strlen(client_key);
    if (n > 256)
        return -EINVAL;
    vc_sha1_t c;
    uint8_t d[VC_SHA1_LEN];
    vc_sha1_init(&c);
    vc_sha1_update(&c, client_key, n);
    vc_sha1_update(&c, VC_WS_GUID, strlen(VC_WS_GUID));
    vc_sha1_final(&c, d);
    char *s = vc_base64_encode(d, sizeof(d));
    if (!s)
        return -ENOMEM;
    /* 20 bytes -> 28 base64 characters. */
    memcpy(out, s, 28);
    out[28] = 0;
    free(s);
    return 0;
}

bool vc_ws_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Connections */

struct vc_ws {
    int fd;
    bool client; /* we mask, the peer must not */
    vc_ws_opts_t opts;
    void (*on_free)(void *);
    void *on_free_userdata;
    char peer[INET6_ADDRSTRLEN + 16];
    int wake[2]; /* latch pipe: written once on shutdown/breakage, never drained */

    /* Reader state: owned by the thread in vc_ws_recv. */
    uint8_t *rbuf;
    size_t rpos, rlen, rcap;
    vc_buf_t msg;            /* fragments of the message being reassembled */
    int msg_opcode;          /* 0 = no message in progress */
    int64_t last_rx_us;      /* last time any frame arrived */
    int64_t ping_pending_us; /* first unanswered ping since last_rx, 0 = none */
    int64_t last_ping_us;
    int rx_err; /* sticky final error of the reader */
    int peer_close_code;

    /* Writer state. */
    pthread_mutex_t wlock;
    atomic_bool close_sent;
    atomic_llong close_sent_us;
    atomic_bool shut;  /* vc_ws_shutdown called */
    atomic_int broken; /* a write failed: the error, 0 = fine */
};

static void opts_fill(vc_ws_opts_t *o, const vc_ws_opts_t *in)
{
    *o = in ? *in : VC_WS_OPTS_DEFAULT;
    /* Keep every size arithmetic far from overflow. */
    if (o->max_message == 0)
        o->max_message = VC_WS_DEFAULT_MAX_MESSAGE;
    if (o->max_message > SIZE_MAX / 4)
        o->max_message = SIZE_MAX / 4;
    if (o->max_frame == 0 || o->max_frame > o->max_message)
        o->max_frame = o->max_message;
    if (o->write_timeout_ms == 0)
        o->write_timeout_ms = 10000;
    if (o->ping_interval_ms < 0)
        o->ping_interval_ms = 0;
    if (o->pong_timeout_ms < 0)
        o->pong_timeout_ms = 0;
}

static void wake_all(vc_ws_t *ws)
{
    uint8_t b = 1;
    /* The pipe is non-blocking; a full pipe is already "woken". */
    ssize_t n = write(ws->wake[1], &b, 1);
    (void)n;
}

static void sockaddr_to_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)))
            snprintf(out, outlen, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)))
            snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
}

/* Allocates the connection around fd; on failure returns NULL and leaves the fd alone. */
static vc_ws_t *ws_alloc(int fd, bool client, const vc_ws_opts_t *opts)
{
    vc_ws_t *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->fd = fd;
    ws->client = client;
    opts_fill(&ws->opts, opts);
    ws->wake[0] = ws->wake[1] = -1;
    ws->rcap = WS_RBUF_MIN;
    ws->rbuf = malloc(ws->rcap + 1); /* + 1: the client handshake NUL-terminates the head */
    if (!ws->rbuf) {
        free(ws);
        return NULL;
    }
    if (pipe2(ws->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        free(ws->rbuf);
        free(ws);
        return NULL;
    }
    if (pthread_mutex_init(&ws->wlock, NULL) != 0) {
        close(ws->wake[0]);
        close(ws->wake[1]);
        free(ws->rbuf);
        free(ws);
        return NULL;
    }
    atomic_init(&ws->close_sent, false);
    atomic_init(&ws->close_sent_us, 0);
    atomic_init(&ws->shut, false);
    atomic_init(&ws->broken, 0);
    strcpy(ws->peer, "?");
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        sockaddr_to_peer((struct sockaddr *)&ss, ws->peer, sizeof(ws->peer));
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on non-TCP: fine */
    ws->last_rx_us = vc_now_mono_us();
    return ws;
}

vc_ws_t *vc_ws_server_new(int fd, const void *already_read, size_t already_read_len, const vc_ws_opts_t *opts,
                          void (*on_free)(void *), void *on_free_userdata)
{
    vc_ws_t *ws = NULL;
    if (fd >= 0 && (already_read || already_read_len == 0))
        ws = ws_alloc(fd, false, opts);
    if (ws && already_read_len > ws->rcap) {
        uint8_t *nb = realloc(ws->rbuf, already_read_len);
        if (!nb) {
            ws->fd = -1; /* released below */
            ws = vc_ws_free(ws);
        } else {
            ws->rbuf = nb;
            ws->rcap = already_read_len;
        }
    }
    if (ws && already_read_len > 0) {
        memcpy(ws->rbuf, already_read, already_read_len);
        ws->rlen = already_read_len;
    }
    if (!ws) {
        if (on_free)
            on_free(on_free_userdata);
        else if (fd >= 0)
            close(fd);
        return NULL;
    }
    ws->on_free = on_free;
    ws->on_free_userdata = on_free_userdata;
    return ws;
}

vc_ws_t *vc_ws_free(vc_ws_t *ws)
{
    if (!ws)
        return NULL;
    if (ws->on_free)
        ws->on_free(ws->on_free_userdata);
    else if (ws->fd >= 0)
        close(ws->fd);
    if (ws->wake[0] >= 0)
        close(ws->wake[0]);
    if (ws->wake[1] >= 0)
        close(ws->wake[1]);
    pthread_mutex_destroy(&ws->wlock);
    free(ws->rbuf);
    vc_buf_done(&ws->msg);
    free(ws);
    return NULL;
}

const char *vc_ws_peer(vc_ws_t *ws)
{
    return ws ? ws->peer : "?";
}

int vc_ws_peer_close_code(vc_ws_t *ws)
{
    return ws ? ws->peer_close_code : 0;
}

void vc_ws_stop_reading(vc_ws_t *ws)
{
    if (ws)
        (void)shutdown(ws->fd, SHUT_RD); /* the reader sees the end of the stream; sends still go */
}

void vc_ws_shutdown(vc_ws_t *ws)
{
    if (!ws || atomic_exchange(&ws->shut, true))
        return;
    wake_all(ws);
    (void)shutdown(ws->fd, SHUT_RDWR);
}

/* Milliseconds until deadline_us (< 0 = none) for poll(), rounded up; -1 = infinite. */
static int poll_ms(int64_t deadline_us, int64_t now_us)
{
    if (deadline_us < 0)
        return -1;
    if (deadline_us <= now_us)
        return 0;
    int64_t ms = (deadline_us - now_us + 999) / 1000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/*
 * Writes all of buf. Caller holds wlock. Waits for POLLOUT up to the write timeout; a shutdown
 * interrupts the wait. On failure the connection is marked broken (the stream may hold a partial
 * frame) and the reader is woken.
 */
static int write_all_locked(vc_ws_t *ws, const uint8_t *p, size_t n)
{
    int64_t deadline =
        ws->opts.write_timeout_ms < 0 ? -1 : vc_now_mono_us() + (int64_t)ws->opts.write_timeout_ms * 1000;
    int r = 0;
    while (n > 0) {
        if (atomic_load(&ws->shut)) {
            r = VC_ECLOSED;
            break;
        }
        ssize_t k = send(ws->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd[2] = {{.fd = ws->fd, .events = POLLOUT}, {.fd = ws->wake[0], .events = POLLIN}};
            int64_t now = vc_now_mono_us();
            if (deadline >= 0 && now >= deadline) {
                r = -ETIMEDOUT;
                break;
            }
            int pr = poll(pfd, 2, poll_ms(deadline, now));
            if (pr < 0 && errno != EINTR) {
                r = -errno;
                break;
            }
            if (pr > 0 && pfd[1].revents) {
                r = VC_ECLOSED;
                break;
            }
            continue;
        }
        r = VC_ETRANSPORT;
        break;
    }
    if (r < 0) {
        int expected = 0;
        atomic_compare_exchange_strong(&ws->broken, &expected, r);
        wake_all(ws);
    }
    return r;
}

/* Encodes and writes one frame under the write lock. */
static int send_frame(vc_ws_t *ws, int opcode, const void *data, size_t len)
{
    _cleanup_(vc_buf_done) vc_buf_t f = {0};
    uint8_t mask[4];
    if (ws->client)
        vc_random(mask, sizeof(mask));
    int r = vc_ws_frame_encode(&f, opcode, true, data, len, ws->client ? mask : NULL);
    if (r < 0)
        return r;

    pthread_mutex_lock(&ws->wlock);
    if (atomic_load(&ws->shut))
        r = VC_ECLOSED;
    else if (atomic_load(&ws->broken))
        r = atomic_load(&ws->broken);
    else if (atomic_load(&ws->close_sent))
        r = VC_ECLOSED; /* nothing may follow a close frame */
    else {
        r = write_all_locked(ws, (const uint8_t *)f.data, f.len);
        if (r >= 0 && opcode == VC_WS_OP_CLOSE) {
            atomic_store(&ws->close_sent_us, vc_now_mono_us());
            atomic_store(&ws->close_sent, true);
        }
    }
    pthread_mutex_unlock(&ws->wlock);
    return r;
}

int vc_ws_send(vc_ws_t *ws, int opcode, const void *data, size_t len)
{
    if (!ws || (!data && len > 0))
        return -EINVAL;
    if (opcode != VC_WS_OP_TEXT && opcode != VC_WS_OP_BINARY && opcode != VC_WS_OP_PING &&
        opcode != VC_WS_OP_PONG)
        return -EINVAL;
    if (opcode_control(opcode) && len > VC_WS_MAX_CONTROL)
        return -EINVAL;
    return send_frame(ws, opcode, data, len);
}

static bool close_code_sendable(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

static bool close_code_receivable(unsigned code)
{
    return close_code_sendable(code);
}

int vc_ws_close(vc_ws_t *ws, uint16_t code, const char *reason)
{
    if (!ws)
        return -EINVAL;
    if (code != 0 && !close_code_sendable(code))
        return -EINVAL;
    uint8_t p[VC_WS_MAX_CONTROL];
    size_t n = 0;
    if (code != 0) {
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        n = 2;
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > VC_WS_MAX_CONTROL - 2) {
            rl = VC_WS_MAX_CONTROL - 2;
            while (rl > 0 && ((uint8_t)reason[rl] & 0xc0) == 0x80)
                rl--; /* do not cut a UTF-8 sequence */
        }
        if (rl > 0)
            memcpy(p + 2, reason, rl);
        n += rl;
    }
    if (atomic_load(&ws->close_sent))
        return 0;
    int r = send_frame(ws, VC_WS_OP_CLOSE, p, n);
    if (r == VC_ECLOSED && atomic_load(&ws->close_sent))
        return 0; /* another thread sent it meanwhile */
    return r;
}

/* Protocol failure detected by the reader: tell the peer (best effort) and make it final. */
static int fail(vc_ws_t *ws, uint16_t code, int err)
{
    if (code != 0)
        (void)vc_ws_close(ws, code, NULL);
    ws->rx_err = err;
    return err;
}

/* Handles a complete close frame from the peer. Returns the reader's final error. */
static int handle_close(vc_ws_t *ws, const uint8_t *p, size_t n)
{
    if (n == 1)
        return fail(ws, VC_WS_CLOSE_PROTOCOL, VC_EPARSE);
    unsigned code = VC_WS_CLOSE_NO_STATUS;
    if (n >= 2) {
        code = (unsigned)p[0] << 8 | p[1];
        if (!close_code_receivable(code))
            return fail(ws, VC_WS_CLOSE_PROTOCOL, VC_EPARSE);
        if (!vc_ws_utf8_valid(p + 2, n - 2))
            return fail(ws, VC_WS_CLOSE_INVALID_DATA, VC_EPARSE);
    }
    ws->peer_close_code = (int)code;
    /* Echo the code (RFC 6455 5.5.1) unless we started the closing handshake. */
    (void)vc_ws_close(ws, code == VC_WS_CLOSE_NO_STATUS ? 0 : (uint16_t)code, NULL);
    ws->rx_err = VC_ECLOSED;
    if (!ws->client)
        (void)shutdown(ws->fd, SHUT_WR); /* the server closes TCP first (RFC 6455 7.1.1) */
    return VC_ECLOSED;
}

/* Makes room to read: compacts, and grows up to what one maximal frame needs. */
static int rbuf_make_room(vc_ws_t *ws)
{
    if (ws->rpos > 0) {
        memmove(ws->rbuf, ws->rbuf + ws->rpos, ws->rlen - ws->rpos);
        ws->rlen -= ws->rpos;
        ws->rpos = 0;
    }
    if (ws->rlen < ws->rcap)
        return 0;
    size_t limit = ws->opts.max_frame + VC_WS_MAX_HEADER;
    if (ws->rcap >= limit)
        return VC_ETOOBIG; /* cannot happen: the parser rejects such frames first */
    size_t ncap = ws->rcap * 2;
    if (ncap > limit)
        ncap = limit;
    uint8_t *nb = realloc(ws->rbuf, ncap);
    if (!nb)
        return -ENOMEM;
    ws->rbuf = nb;
    ws->rcap = ncap;
    return 0;
}

/* Hands out a finished message. */
static int deliver(vc_ws_t *ws, int opcode, const uint8_t *p, size_t n, bool from_msg, int *ret_opcode,
                   char **ret_data, size_t *ret_len)
{
    if (opcode == VC_WS_OP_TEXT && !vc_ws_utf8_valid(p, n))
        return fail(ws, VC_WS_CLOSE_INVALID_DATA, VC_EPARSE);
    char *d;
    if (from_msg) {
        d = vc_buf_steal(&ws->msg);
        if (!d)
            d = calloc(1, 1); /* empty message assembled from empty fragments */
    } else {
        d = malloc(n + 1);
        if (d) {
            if (n > 0)
                memcpy(d, p, n);
            d[n] = 0;
        }
    }
    if (!d)
        return fail(ws, VC_WS_CLOSE_INTERNAL, -ENOMEM);
    *ret_opcode = opcode;
    *ret_data = d;
    *ret_len = n;
    return 0;
}

/*
 * Processes one parsed frame (payload unmasked already). Returns 1 when a message was delivered,
 * 0 to continue reading, < 0 for a final error.
 */
static int handle_frame(vc_ws_t *ws, const vc_ws_frame_t *f, int *ret_opcode, char **ret_data,
                        size_t *ret_len)
{
    int r;
    switch (f->opcode) {
    case VC_WS_OP_PING:
        r = send_frame(ws, VC_WS_OP_PONG, f->payload, f->len);
        if (r < 0 && r != VC_ECLOSED) /* after our close frame pings go unanswered: fine */
            return fail(ws, 0, r);
        return 0;
    case VC_WS_OP_PONG:
        return 0;
    case VC_WS_OP_CLOSE:
        return handle_close(ws, f->payload, f->len);
    case VC_WS_OP_TEXT:
    case VC_WS_OP_BINARY:
        if (ws->msg_opcode != 0)
            return fail(ws, VC_WS_CLOSE_PROTOCOL, VC_EPARSE); /* new message inside a fragmented one */
        if (f->len > ws->opts.max_message)
            return fail(ws, VC_WS_CLOSE_TOO_BIG, VC_ETOOBIG);
        if (f->fin) {
            r = deliver(ws, f->opcode, f->payload, f->len, false, ret_opcode, ret_data, ret_len);
            return r < 0 ? r : 1;
        }
        ws->msg_opcode = f->opcode;
        ws->msg.len = 0;
        if (vc_buf_append(&ws->msg, f->payload, f->len) < 0)
            return fail(ws, VC_WS_CLOSE_INTERNAL, -ENOMEM);
        return 0;
    case VC_WS_OP_CONT:
        if (ws->msg_opcode == 0)
            return fail(ws, VC_WS_CLOSE_PROTOCOL, VC_EPARSE);
        if (f->len > ws->opts.max_message - ws->msg.len)
            return fail(ws, VC_WS_CLOSE_TOO_BIG, VC_ETOOBIG);
        if (vc_buf_append(&ws->msg, f->payload, f->len) < 0)
            return fail(ws, VC_WS_CLOSE_INTERNAL, -ENOMEM);
        if (!f->fin)
            return 0;
        int op = ws->msg_opcode;
        ws->msg_opcode = 0;
        size_t n = ws->msg.len;
        r = deliver(ws, op, (const uint8_t *)ws->msg.data, n, true, ret_opcode, ret_data, ret_len);
        return r < 0 ? r : 1;
    default:
        return fail(ws, VC_WS_CLOSE_PROTOCOL, VC_EPARSE); /* unreachable: parser checks */
    }
}

int vc_ws_recv(vc_ws_t *ws, int timeout_ms, int *ret_opcode, char **ret_data, size_t *ret_len)
{
    if (!ws || !ret_opcode || !ret_data || !ret_len)
        return -EINVAL;
    if (ws->rx_err)
        return ws->rx_err;

    int64_t start = vc_now_mono_us();
    int64_t deadline = timeout_ms < 0 ? -1 : start + (int64_t)timeout_ms * 1000;
    for (;;) {
        if (atomic_load(&ws->shut))
            return (ws->rx_err = VC_ECLOSED);
        int b = atomic_load(&ws->broken);
        if (b)
            return (ws->rx_err = b == VC_ECLOSED ? VC_ECLOSED : VC_ETRANSPORT);

        /* 1. Consume every complete frame already buffered. */
        vc_ws_frame_t f;
        size_t used;
        int r = vc_ws_frame_parse(ws->rbuf + ws->rpos, ws->rlen - ws->rpos, ws->opts.max_frame, !ws->client,
                                  &f, &used);
        if (r == 0) {
            if (f.masked)
                vc_ws_mask(ws->rbuf + ws->rpos + f.header_len, f.len, f.mask, 0);
            ws->rpos += used;
            ws->last_rx_us = vc_now_mono_us();
            ws->ping_pending_us = 0;
            r = handle_frame(ws, &f, ret_opcode, ret_data, ret_len);
            if (ws->rpos == ws->rlen) {
                ws->rpos = ws->rlen = 0;
                if (ws->rcap > 1024 * 1024) { /* do not keep a huge buffer around when idle */
                    uint8_t *nb = realloc(ws->rbuf, WS_RBUF_MIN);
                    if (nb) {
                        ws->rbuf = nb;
                        ws->rcap = WS_RBUF_MIN;
                    }
                }
            }
            if (r < 0)
                return r;
            if (r > 0)
                return 0;
            continue;
        }
        if (r == VC_ETOOBIG)
            return fail(ws, VC_WS_CLOSE_TOO_BIG, VC_ETOOBIG);
        if (r != -EAGAIN)
            return fail(ws, VC_WS_CLOSE_PROTOCOL, VC_EPARSE);

        /* 2. Timers: keep-alive ping, pong timeout, close handshake timeout, caller timeout. */
        int64_t now = vc_now_mono_us();
        int64_t wake_at = deadline;
#define EARLIER(t) (wake_at = (wake_at < 0 || (t) < wake_at) ? (t) : wake_at)
        if (ws->opts.pong_timeout_ms > 0 && ws->ping_pending_us > 0) {
            int64_t t = ws->ping_pending_us + (int64_t)ws->opts.pong_timeout_ms * 1000;
            if (now >= t)
                return fail(ws, VC_WS_CLOSE_GOING_AWAY, VC_ETRANSPORT);
            EARLIER(t);
        }
        if (ws->opts.ping_interval_ms > 0 && !atomic_load(&ws->close_sent)) {
            int64_t iv = (int64_t)ws->opts.ping_interval_ms * 1000;
            int64_t t = VC_MAX(ws->last_rx_us, ws->last_ping_us) + iv;
            if (now >= t) {
                r = send_frame(ws, VC_WS_OP_PING, NULL, 0);
                if (r < 0 && r != VC_ECLOSED)
                    return fail(ws, 0, r);
                ws->last_ping_us = now;
                if (ws->ping_pending_us == 0)
                    ws->ping_pending_us = now;
                t = now + iv;
            }
            EARLIER(t);
        }
        if (atomic_load(&ws->close_sent) && ws->opts.write_timeout_ms > 0) {
            int64_t t = atomic_load(&ws->close_sent_us) + (int64_t)ws->opts.write_timeout_ms * 1000;
            if (now >= t)
                return (ws->rx_err = VC_ECLOSED); /* the peer never answered our close */
            EARLIER(t);
        }
#undef EARLIER
        if (deadline >= 0 && now >= deadline)
            return -ETIMEDOUT;

        /* 3. Wait for bytes. */
        r = rbuf_make_room(ws);
        if (r < 0)
            return fail(ws, VC_WS_CLOSE_INTERNAL, r);
        struct pollfd pfd[2] = {{.fd = ws->fd, .events = POLLIN}, {.fd = ws->wake[0], .events = POLLIN}};
        int pr = poll(pfd, 2, poll_ms(wake_at, now));
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return fail(ws, 0, -errno);
        }
        if (pfd[1].revents)
            continue; /* shutdown or broken: reported at the top of the loop */
        if (pr == 0 || !pfd[0].revents)
            continue;
        ssize_t k = recv(ws->fd, ws->rbuf + ws->rlen, ws->rcap - ws->rlen, MSG_DONTWAIT);
        if (k > 0) {
            ws->rlen += (size_t)k;
            continue;
        }
        if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        /* EOF or error without a close frame: abnormal closure (1006), unless we were closing
         * anyway (some servers drop TCP instead of echoing our close frame). */
        if (atomic_load(&ws->shut) || atomic_load(&ws->close_sent))
            return (ws->rx_err = VC_ECLOSED);
        ws->peer_close_code = VC_WS_CLOSE_ABNORMAL;
        return (ws->rx_err = VC_ETRANSPORT);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Client handshake */

typedef struct ws_url {
    char host[256]; /* without brackets */
    char port[8];
    char path[WS_MAX_URL];
    bool v6;
} ws_url_t;

static bool url_char_ok(char c)
{
    return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

static int parse_url(const char *url, ws_url_t *u)
{
    const char *p;
    if (!url || strlen(url) >= WS_MAX_URL)
        return -EINVAL;
    if (strncasecmp(url, "ws://", 5) == 0)
        p = url + 5;
    else if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else if (strncasecmp(url, "wss://", 6) == 0 || strncasecmp(url, "https://", 8) == 0)
        return -EPROTONOSUPPORT;
    else
        return -EINVAL;

    *u = (ws_url_t){.port = "80", .path = "/"};
    const char *hend;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend || hend == p + 1 || (size_t)(hend - p - 1) >= sizeof(u->host))
            return -EINVAL;
        memcpy(u->host, p + 1, (size_t)(hend - p - 1));
        u->v6 = true;
        hend++;
    } else {
        hend = p + strcspn(p, ":/?#");
        if (hend == p || (size_t)(hend - p) >= sizeof(u->host))
            return -EINVAL;
        memcpy(u->host, p, (size_t)(hend - p));
    }
    for (const char *c = u->host; *c; c++)
        if (!url_char_ok(*c) || *c == '@')
            return -EINVAL; /* userinfo is not supported */
    p = hend;
    if (*p == ':') {
        p++;
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 5)
            return -EINVAL;
        memcpy(u->port, p, n);
        u->port[n] = 0;
        long port = strtol(u->port, NULL, 10);
        if (port < 1 || port > 65535)
            return -EINVAL;
        p += n;
    }
    if (*p == '#' || (*p && *p != '/' && *p != '?'))
        return -EINVAL;
    if (*p) {
        size_t n = strcspn(p, "#");
        if (*p == '?') { /* "host?query" -> "/?query" */
            u->path[0] = '/';
            memcpy(u->path + 1, p, n);
            u->path[n + 1] = 0;
        } else {
            memcpy(u->path, p, n);
            u->path[n] = 0;
        }
        for (const char *c = u->path; *c; c++)
            if (!url_char_ok(*c))
                return -EINVAL;
    }
    return 0;
}

static int connect_one(const struct addrinfo *ai, int64_t deadline, int *ret_fd)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int r = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            r = -errno;
            goto fail;
        }
        for (;;) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int64_t now = vc_now_mono_us();
            if (deadline >= 0 && now >= deadline) {
                r = -ETIMEDOUT;
                goto fail;
            }
            int pr = poll(&pfd, 1, poll_ms(deadline, now));
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0) {
                r = -errno;
                goto fail;
            }
            if (pr > 0)
                break;
        }
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            r = -err;
            goto fail;
        }
    }
    *ret_fd = fd;
    return 0;
fail:
    close(fd);
    return r;
}

static int tcp_connect(const ws_url_t *u, int64_t deadline, int *ret_fd)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    if (u->v6)
        hints.ai_flags = AI_NUMERICHOST;
    struct addrinfo *res = NULL;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0) {
        vc_debug("ws: cannot resolve \"%s\": %s", u->host, gai_strerror(g));
        return g == EAI_MEMORY ? -ENOMEM : VC_ETRANSPORT;
    }
    int r = VC_ETRANSPORT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = connect_one(ai, deadline, ret_fd);
        if (r == 0 || r == -ETIMEDOUT)
            break;
        vc_debug("ws: connect to %s:%s failed: %s", u->host, u->port, vc_strerror(r));
    }
    freeaddrinfo(res);
    if (r < 0 && r != -ETIMEDOUT && r != -ENOMEM)
        r = VC_ETRANSPORT;
    return r;
}

/* Case-insensitive search of a comma-separated header value for a token. */
static bool header_has_token(const char *v, size_t vlen, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < vlen) {
        while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < vlen && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return true;
    }
    return false;
}

/* Checks the answer head (NUL-terminated, up to the blank line). */
static int check_answer(const char *head, const char *accept, int *ret_status)
{
    /* Status line: HTTP/1.x SP 3DIGIT [SP reason] */
    if (strncmp(head, "HTTP/1.", 7) != 0 || !(head[7] == '0' || head[7] == '1') || head[8] != ' ')
        return VC_EPARSE;
    const char *s = head + 9;
    if (!(s[0] >= '1' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9') ||
        (s[3] != ' ' && s[3] != '\r'))
        return VC_EPARSE;
    int status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (ret_status)
        *ret_status = status;
    if (status != 101)
        return VC_EHTTP;

    bool upgrade = false, connection = false, accept_ok = false;
    const char *line = strstr(head, "\r\n");
    while (line && line[2] != '\r' && line[2] != 0) {
        line += 2;
        const char *end = strstr(line, "\r\n");
        if (!end)
            return VC_EPARSE;
        const char *colon = memchr(line, ':', (size_t)(end - line));
        if (!colon)
            return VC_EPARSE;
        size_t nl = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        size_t vl = (size_t)(end - v);
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (nl == 7 && strncasecmp(line, "upgrade", 7) == 0)
            upgrade = header_has_token(v, vl, "websocket");
        else if (nl == 10 && strncasecmp(line, "connection", 10) == 0)
            connection = header_has_token(v, vl, "upgrade");
        else if (nl == 20 && strncasecmp(line, "sec-websocket-accept", 20) == 0)
            accept_ok = vl == 28 && memcmp(v, accept, 28) == 0;
        else if (nl == 24 && strncasecmp(line, "sec-websocket-extensions", 24) == 0 && vl > 0)
            return VC_EPARSE; /* we offered none */
        line = end;
    }
    return upgrade && connection && accept_ok ? 0 : VC_EPARSE;
}

static bool header_line_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return false;
    for (const char *c = h; *c; c++)
        if (*c == '\r' || *c == '\n' || *c == 0x7f || ((unsigned char)*c < 0x20 && *c != '\t'))
            return false;
    return true;
}

int vc_ws_connect(const char *url, const char *const *extra_headers, int timeout_ms, const vc_ws_opts_t *opts,
                  vc_ws_t **ret, int *ret_status)
{
    if (!ret)
        return -EINVAL;
    if (ret_status)
        *ret_status = 0;
    _cleanup_free_ ws_url_t *u = malloc(sizeof(*u));
    if (!u)
        return -ENOMEM;
    int r = parse_url(url, u);
    if (r < 0)
        return r;
    for (const char *const *h = extra_headers; h && *h; h++)
        if (!header_line_ok(*h))
            return -EINVAL;

    int64_t deadline = timeout_ms < 0 ? -1 : vc_now_mono_us() + (int64_t)timeout_ms * 1000;
    int fd = -1;
    r = tcp_connect(u, deadline, &fd);
    if (r < 0)
        return r;
    vc_ws_opts_t o;
    opts_fill(&o, opts);
    if (timeout_ms >= 0)
        o.write_timeout_ms = VC_MAX(timeout_ms, 1); /* the request write obeys the connect timeout */
    _cleanup_(vc_ws_freep) vc_ws_t *ws = ws_alloc(fd, true, &o);
    if (!ws) {
        close(fd);
        return -ENOMEM;
    }

    uint8_t nonce[16];
    vc_random(nonce, sizeof(nonce));
    _cleanup_free_ char *key = vc_base64_encode(nonce, sizeof(nonce));
    char accept[29];
    if (!key || vc_ws_accept_key(key, accept) < 0)
        return -ENOMEM;
    _cleanup_(vc_buf_done) vc_buf_t req = {0};
    bool default_port = strcmp(u->port, "80") == 0;
    r = vc_buf_appendf(&req,
                       "GET %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
                       u->path, u->v6 ? "[" : "", u->host, u->v6 ? "]" : "", default_port ? "" : ":",
                       default_port ? "" : u->port, key);
    for (const char *const *h = extra_headers; r >= 0 && h && *h; h++)
        r = vc_buf_appendf(&req, "%s\r\n", *h);
    if (r >= 0)
        r = vc_buf_append_str(&req, "\r\n");
    if (r < 0)
        return r;

    pthread_mutex_lock(&ws->wlock);
    r = write_all_locked(ws, (const uint8_t *)req.data, req.len);
    pthread_mutex_unlock(&ws->wlock);
    if (r < 0)
        return r == -ETIMEDOUT ? r : VC_ETRANSPORT;

    /* Read the answer head (rbuf has WS_RBUF_MIN >= WS_MAX_HANDSHAKE bytes, + 1 for a NUL);
     * bytes after the blank line are the first frames. */
    char *eoh = NULL;
    while (!eoh) {
        if (ws->rlen >= WS_MAX_HANDSHAKE)
            return VC_EPARSE;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t now = vc_now_mono_us();
        if (deadline >= 0 && now >= deadline)
            return -ETIMEDOUT;
        int pr = poll(&pfd, 1, poll_ms(deadline, now));
        if (pr < 0 && errno != EINTR)
            return -errno;
        if (pr <= 0)
            continue;
        ssize_t k = recv(fd, ws->rbuf + ws->rlen, WS_MAX_HANDSHAKE - ws->rlen, MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (k <= 0)
            return VC_ETRANSPORT;
        size_t from = ws->rlen > 3 ? ws->rlen - 3 : 0;
        ws->rlen += (size_t)k;
        ws->rbuf[ws->rlen] = 0;
        if (memchr(ws->rbuf + from, 0, ws->rlen - from))
            return VC_EPARSE; /* NUL in the head */
        eoh = strstr((char *)ws->rbuf + from, "\r\n\r\n");
    }
    eoh[2] = 0; /* keep the last header's CRLF, drop the blank line */
    r = check_answer((const char *)ws->rbuf, accept, ret_status);
    if (r < 0)
        return r;
    ws->rpos = (size_t)((uint8_t *)eoh + 4 - ws->rbuf);
    opts_fill(&ws->opts, opts); /* back to the caller's write timeout */
    ws->last_rx_us = vc_now_mono_us();
    *ret = VC_TAKE_PTR(ws);
    return 0;
}
