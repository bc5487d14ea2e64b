/* Tests for ws.c and sha1.c: codec vectors, then real TCP connections on 127.0.0.1. */
#define _GNU_SOURCE /* accept4 */
#include "vc-test.h"
#include "vc/sha1.h"
#include "vc/util.h"
#include "vc/ws.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* vc-test.h's VC_CHECK wraps a do/while statement in an expression and does not compile;
 * this one records the failure and yields the condition. */
#define CHECK(cond)                                                                                          \
    ((cond) ? true                                                                                           \
            : (fprintf(stderr, "  FAIL %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond),               \
               vc_test_failed++, false))

/* ---------------------------------------------------------------------------------------- */
/* SHA-1, accept key, UTF-8 */

static void sha1_hex(const void *d, size_t n, char out[41])
{
    uint8_t md[VC_SHA1_LEN];
    vc_sha1(d, n, md);
    vc_hex_encode(md, sizeof(md), out);
}

static void test_sha1(void)
{
    char hex[41];
    sha1_hex("abc", 3, hex);
    ASSERT_STREQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("", 0, hex);
    ASSERT_STREQ(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(m448, strlen(m448), hex);
    ASSERT_STREQ(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

    /* One million 'a', fed in uneven pieces to exercise the block buffering. */
    static char a[1000];
    memset(a, 'a', sizeof(a));
    vc_sha1_t c;
    vc_sha1_init(&c);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = VC_MIN(VC_MIN(step, left), sizeof(a));
        vc_sha1_update(&c, a, n);
        left -= n;
        step = step * 7 % 997 + 1;
    }
    uint8_t md[VC_SHA1_LEN];
    vc_sha1_final(&c, md);
    vc_hex_encode(md, sizeof(md), hex);
    ASSERT_STREQ(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

    /* Lengths around the padding boundary (55, 56, 63, 64 bytes): one-shot == byte by byte. */
    for (size_t n = 50; n < 70; n++) {
        uint8_t one[VC_SHA1_LEN], inc[VC_SHA1_LEN];
        vc_sha1(a, n, one);
        vc_sha1_init(&c);
        for (size_t i = 0; i < n; i++)
            vc_sha1_update(&c, a + i, 1);
        vc_sha1_final(&c, inc);
        ASSERT_MEMEQ(one, inc, sizeof(one));
    }
}

static void test_accept_key(void)
{
    char out[29];
    ASSERT_OK(vc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out));
    ASSERT_STREQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ASSERT_EQ(vc_ws_accept_key(NULL, out), -EINVAL);
}

static void test_utf8(void)
{
    ASSERT_TRUE(vc_ws_utf8_valid((const uint8_t *)"", 0));
    ASSERT_TRUE(vc_ws_utf8_valid((const uint8_t *)"hello", 5));
    ASSERT_TRUE(vc_ws_utf8_valid((const uint8_t *)"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    ASSERT_TRUE(vc_ws_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xc3\x28", 2));
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));     /* overlong */
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xe2\x82", 2));         /* truncated */
    ASSERT_FALSE(vc_ws_utf8_valid((const uint8_t *)"\xff", 1));
}

/* ---------------------------------------------------------------------------------------- */
/* Codec */

/* Parses exactly one frame that fills buf and checks every shorter prefix gives -EAGAIN. */
static bool parse_whole(const uint8_t *buf, size_t len, bool masked, vc_ws_frame_t *f)
{
    size_t used = 0;
    for (size_t i = 0; i < len; i++)
        if (!CHECK(vc_ws_frame_parse(buf, i, SIZE_MAX, masked, f, &used) == -EAGAIN)) {
            fprintf(stderr, "    prefix %zu of %zu\n", i, len);
            return false;
        }
    return CHECK(vc_ws_frame_parse(buf, len, SIZE_MAX, masked, f, &used) == 0) && CHECK(used == len);
}

static void test_codec_rfc_examples(void)
{
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    static const uint8_t hello_masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    static const uint8_t frag1[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    static const uint8_t frag2[] = {0x80, 0x02, 0x6c, 0x6f};
    static const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    static const uint8_t pong_masked[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    vc_buf_t b = {0};
    vc_ws_frame_t f;

    /* Encoding, byte for byte. */
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_TEXT, true, (const uint8_t *)"Hello", 5, NULL));
    ASSERT_EQ(b.len, sizeof(hello));
    ASSERT_MEMEQ(b.data, hello, sizeof(hello));
    b.len = 0;
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_TEXT, true, (const uint8_t *)"Hello", 5, mask));
    ASSERT_MEMEQ(b.data, hello_masked, sizeof(hello_masked));
    b.len = 0;
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_TEXT, false, (const uint8_t *)"Hel", 3, NULL));
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_CONT, true, (const uint8_t *)"lo", 2, NULL));
    ASSERT_EQ(b.len, sizeof(frag1) + sizeof(frag2));
    ASSERT_MEMEQ(b.data, frag1, sizeof(frag1));
    ASSERT_MEMEQ(b.data + sizeof(frag1), frag2, sizeof(frag2));
    b.len = 0;
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_PING, true, (const uint8_t *)"Hello", 5, NULL));
    ASSERT_MEMEQ(b.data, ping, sizeof(ping));
    b.len = 0;
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_PONG, true, (const uint8_t *)"Hello", 5, mask));
    ASSERT_MEMEQ(b.data, pong_masked, sizeof(pong_masked));

    /* Parsing the same bytes. */
    ASSERT_TRUE(parse_whole(hello, sizeof(hello), false, &f));
    ASSERT_TRUE(f.fin && f.opcode == VC_WS_OP_TEXT && !f.masked && f.len == 5);
    ASSERT_MEMEQ(f.payload, "Hello", 5);
    ASSERT_TRUE(parse_whole(hello_masked, sizeof(hello_masked), true, &f));
    ASSERT_TRUE(f.masked && f.len == 5 && f.header_len == 6);
    uint8_t tmp[5];
    memcpy(tmp, f.payload, 5);
    vc_ws_mask(tmp, 5, f.mask, 0);
    ASSERT_MEMEQ(tmp, "Hello", 5);
    ASSERT_TRUE(parse_whole(frag1, sizeof(frag1), false, &f));
    ASSERT_TRUE(!f.fin && f.opcode == VC_WS_OP_TEXT && f.len == 3);
    ASSERT_TRUE(parse_whole(frag2, sizeof(frag2), false, &f));
    ASSERT_TRUE(f.fin && f.opcode == VC_WS_OP_CONT && f.len == 2);
    ASSERT_TRUE(parse_whole(ping, sizeof(ping), false, &f));
    ASSERT_EQ(f.opcode, VC_WS_OP_PING);
    ASSERT_TRUE(parse_whole(pong_masked, sizeof(pong_masked), true, &f));
    ASSERT_EQ(f.opcode, VC_WS_OP_PONG);

    /* 256 bytes: 16-bit length; 64 KiB: 64-bit length. */
    static uint8_t big[65536];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31);
    b.len = 0;
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_BINARY, true, big, 256, NULL));
    ASSERT_EQ(b.len, 4 + 256);
    ASSERT_MEMEQ(b.data, "\x82\x7e\x01\x00", 4);
    ASSERT_TRUE(parse_whole((const uint8_t *)b.data, b.len, false, &f));
    ASSERT_TRUE(f.len == 256 && f.header_len == 4);
    ASSERT_MEMEQ(f.payload, big, 256);
    b.len = 0;
    ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_BINARY, true, big, 65536, NULL));
    ASSERT_EQ(b.len, 10 + 65536);
    ASSERT_MEMEQ(b.data, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    /* Every prefix of the 64 KiB frame would take long under ASan; check the header and a few. */
    size_t used;
    for (size_t i = 0; i < 12; i++)
        ASSERT_EQ(vc_ws_frame_parse((const uint8_t *)b.data, i, SIZE_MAX, false, &f, &used), -EAGAIN);
    ASSERT_EQ(vc_ws_frame_parse((const uint8_t *)b.data, b.len - 1, SIZE_MAX, false, &f, &used), -EAGAIN);
    ASSERT_OK(vc_ws_frame_parse((const uint8_t *)b.data, b.len, SIZE_MAX, false, &f, &used));
    ASSERT_TRUE(f.len == 65536 && used == b.len);
    ASSERT_MEMEQ(f.payload, big, 65536);
    /* 125 / 126 / 65535 / 65536 boundaries round-trip, masked. */
    const size_t sizes[] = {0, 125, 126, 65535, 65536};
    for (size_t k = 0; k < VC_ELEMENTSOF(sizes); k++) {
        b.len = 0;
        ASSERT_OK(vc_ws_frame_encode(&b, VC_WS_OP_BINARY, true, big, sizes[k], mask));
        ASSERT_OK(vc_ws_frame_parse((const uint8_t *)b.data, b.len, SIZE_MAX, true, &f, &used));
        ASSERT_TRUE(f.len == sizes[k] && used == b.len);
        vc_ws_mask((uint8_t *)b.data + f.header_len, f.len, f.mask, 0);
        ASSERT_MEMEQ(f.payload, big, sizes[k]);
    }
    vc_buf_done(&b);
}

static void test_codec_violations(void)
{
    vc_ws_frame_t f;
    size_t used;
#define PARSE(bytes, masked)                                                                                 \
    vc_ws_frame_parse((const uint8_t *)(bytes), sizeof(bytes) - 1, 1000, (masked), &f, &used)
    ASSERT_EQ(PARSE("\xc1\x00", false), VC_EPARSE);                                 /* RSV1 */
    ASSERT_EQ(PARSE("\xa1\x00", false), VC_EPARSE);                                 /* RSV2 */
    ASSERT_EQ(PARSE("\x91\x00", false), VC_EPARSE);                                 /* RSV3 */
    ASSERT_EQ(PARSE("\x83\x00", false), VC_EPARSE);                                 /* opcode 3 */
    ASSERT_EQ(PARSE("\x8b\x00", false), VC_EPARSE);                                 /* opcode 0xb */
    ASSERT_EQ(PARSE("\x09\x00", false), VC_EPARSE);                                 /* fragmented ping */
    ASSERT_EQ(PARSE("\x08\x00", false), VC_EPARSE);                                 /* fragmented close */
    ASSERT_EQ(PARSE("\x89\x7e", false), VC_EPARSE);                                 /* ping > 125 */
    ASSERT_EQ(PARSE("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", false), VC_EPARSE); /* high bit */
    ASSERT_EQ(PARSE("\x81\x00", true), VC_EPARSE);                  /* unmasked client frame on a server */
    ASSERT_EQ(PARSE("\x81\x80\x01\x02\x03\x04", false), VC_EPARSE); /* masked server frame */
    /* Too big is reported as soon as the header is complete, before the payload arrives. */
    ASSERT_EQ(PARSE("\x82\x7e\x03\xe9", false), VC_ETOOBIG);
    ASSERT_EQ(PARSE("\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", false), VC_ETOOBIG);
    ASSERT_EQ(PARSE("\x82\x7e\x03\xe8", false), -EAGAIN); /* exactly 1000: fine, wants more */
    /* Non-minimal length encodings are tolerated. */
    ASSERT_OK(PARSE("\x82\x7e\x00\x02hi", false));
    ASSERT_EQ(f.len, 2);
    ASSERT_OK(PARSE("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x02hi", false));
    ASSERT_EQ(f.len, 2);
#undef PARSE
    vc_buf_t b = {0};
    uint8_t p[200] = {0};
    ASSERT_EQ(vc_ws_frame_encode(&b, VC_WS_OP_PING, true, p, 126, NULL), -EINVAL);
    ASSERT_EQ(vc_ws_frame_encode(&b, VC_WS_OP_CLOSE, false, p, 2, NULL), -EINVAL);
    ASSERT_EQ(vc_ws_frame_encode(&b, 3, true, p, 2, NULL), -EINVAL);
    ASSERT_EQ(b.len, 0);
    vc_buf_done(&b);
}

/* ---------------------------------------------------------------------------------------- */
/* Socket helpers */

static int listen_on(int family, int *ret_port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        sl = sizeof(*in6);
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    *ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void set_rcvtimeo(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A connected TCP pair on 127.0.0.1: *a is the accepted side, *b the connecting side. */
static bool tcp_pair(int *a, int *b)
{
    int port;
    int l = listen_on(AF_INET, &port);
    if (!CHECK(l >= 0))
        return false;
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = CHECK(c >= 0) && CHECK(connect(c, (struct sockaddr *)&in, sizeof(in)) == 0);
    int s = ok ? accept4(l, NULL, NULL, SOCK_CLOEXEC) : -1;
    close(l);
    if (!ok || !CHECK(s >= 0)) {
        if (c >= 0)
            close(c);
        return false;
    }
    set_rcvtimeo(c, 5000);
    *a = s;
    *b = c;
    return true;
}

static bool write_all(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t k = send(fd, q, n, MSG_NOSIGNAL);
        if (k <= 0)
            return false;
        q += k;
        n -= (size_t)k;
    }
    return true;
}

/* Raw peer: sends one frame, masked (as a client does) unless masked == false. */
static bool raw_send(int fd, int opcode, bool fin, const void *data, size_t len, bool masked)
{
    static const uint8_t mask[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    vc_buf_t b = {0};
    bool ok = CHECK(vc_ws_frame_encode(&b, opcode, fin, data, len, masked ? mask : NULL) == 0) &&
              CHECK(write_all(fd, b.data, b.len));
    vc_buf_done(&b);
    return ok;
}

/* Raw peer: reads one unmasked frame (blocking, 5 s receive timeout). payload gets <= cap bytes. */
static bool raw_recv(int fd, int *opcode, uint8_t *payload, size_t cap, size_t *len)
{
    static uint8_t buf[1 << 16];
    size_t have = 0;
    for (;;) {
        vc_ws_frame_t f;
        size_t used;
        int r = vc_ws_frame_parse(buf, have, sizeof(buf) - VC_WS_MAX_HEADER, false, &f, &used);
        if (r == 0) {
            *opcode = f.opcode;
            *len = f.len;
            memcpy(payload, f.payload, VC_MIN(f.len, cap));
            /* Frames after this one are dropped: callers read one frame per exchange. */
            return true;
        }
        if (!CHECK(r == -EAGAIN) || !CHECK(have < sizeof(buf)))
            return false;
        ssize_t k = recv(fd, buf + have, 1, 0); /* one byte at a time: never over-read */
        if (!CHECK(k == 1))
            return false;
        have++;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* A hand-written upgrading HTTP server in a thread, and vc_ws_connect against it */

typedef struct srv {
    int family;
    int lfd, port;
    int status; /* answer status: 101 or an error */
    bool bad_accept;
    const uint8_t *after101; /* bytes sent right behind the 101 answer (first server frames) */
    size_t after101_len;
    size_t steal; /* client bytes read before wrapping: passed as already_read */
    vc_ws_opts_t opts;
    vc_ws_t *ws;
    char request[4096];
    pthread_t thread;
} srv_t;

static void *srv_main(void *arg)
{
    srv_t *s = arg;
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (!CHECK(fd >= 0))
        return NULL;
    set_rcvtimeo(fd, 5000);
    size_t n = 0;
    while (n < sizeof(s->request) - 1) {
        if (recv(fd, s->request + n, 1, 0) != 1)
            break;
        n++;
        s->request[n] = 0;
        if (n >= 4 && memcmp(s->request + n - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    char key[64] = "", accept[29] = "x";
    const char *k = strstr(s->request, "Sec-WebSocket-Key: ");
    if (k && sscanf(k + 19, "%63[^\r]", key) == 1)
        vc_ws_accept_key(key, accept);
    char answer[512];
    if (s->status == 101)
        snprintf(
            answer, sizeof(answer),
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n\r\n",
            s->bad_accept ? "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" : accept);
    else
        snprintf(answer, sizeof(answer), "HTTP/1.1 %d Nope\r\nContent-Length: 0\r\n\r\n", s->status);
    vc_buf_t b = {0};
    vc_buf_append_str(&b, answer);
    if (s->after101_len)
        vc_buf_append(&b, s->after101, s->after101_len);
    CHECK(write_all(fd, b.data, b.len));
    vc_buf_done(&b);
    if (s->status != 101 || s->bad_accept) {
        close(fd);
        return NULL;
    }
    uint8_t stolen[64];
    if (s->steal > 0)
        CHECK(recv(fd, stolen, s->steal, MSG_WAITALL) == (ssize_t)s->steal);
    s->ws = vc_ws_server_new(fd, stolen, s->steal, &s->opts, NULL, NULL);
    CHECK(s->ws != NULL);
    return NULL;
}

static bool srv_start(srv_t *s)
{
    if (!s->family)
        s->family = AF_INET;
    if (s->opts.max_message == 0)
        s->opts = VC_WS_OPTS_DEFAULT;
    s->lfd = listen_on(s->family, &s->port);
    if (s->lfd < 0)
        return false;
    return CHECK(pthread_create(&s->thread, NULL, srv_main, s) == 0);
}

static void srv_join(srv_t *s)
{
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

/* A connected client (*c) / server (*s) pair. */
static bool ws_pair(const vc_ws_opts_t *copts, const vc_ws_opts_t *sopts, vc_ws_t **c, vc_ws_t **s)
{
    srv_t srv = {.status = 101};
    if (sopts)
        srv.opts = *sopts;
    if (!srv_start(&srv))
        return false;
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", srv.port);
    int r = vc_ws_connect(url, NULL, 5000, copts, c, NULL);
    srv_join(&srv);
    if (!CHECK(r == 0) || !CHECK(srv.ws != NULL)) {
        fprintf(stderr, "    connect: %s\n", vc_strerror(r));
        vc_ws_free(srv.ws);
        return false;
    }
    *s = srv.ws;
    return true;
}

typedef struct sender {
    vc_ws_t *ws;
    int opcode;
    const void *data;
    size_t len;
    int r;
    pthread_t thread;
} sender_t;

static void *sender_main(void *arg)
{
    sender_t *s = arg;
    s->r = vc_ws_send(s->ws, s->opcode, s->data, s->len);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Connection tests */

static void test_exchange(void)
{
    uint8_t first[32];
    vc_buf_t fb = {0};
    ASSERT_OK(vc_ws_frame_encode(&fb, VC_WS_OP_TEXT, true, (const uint8_t *)"hello from server", 17, NULL));
    memcpy(first, fb.data, fb.len);
    srv_t srv = {.status = 101, .after101 = first, .after101_len = fb.len, .steal = 3};
    vc_buf_done(&fb);
    ASSERT_TRUE(srv_start(&srv));

    char url[80];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/rpc/v0?x=1", srv.port);
    const char *hdrs[] = {"Authorization: Bearer abc.def", NULL};
    vc_ws_t *c = NULL;
    int st = 0;
    ASSERT_OK(vc_ws_connect(url, hdrs, 5000, NULL, &c, &st));
    ASSERT_EQ(st, 101);
    ASSERT_OK(vc_ws_send(c, VC_WS_OP_TEXT, "first", 5)); /* 3 bytes of it go via already_read */
    srv_join(&srv);
    vc_ws_t *s = srv.ws;
    ASSERT_NOTNULL(s);

    ASSERT_TRUE(strncmp(srv.request, "GET /rpc/v0?x=1 HTTP/1.1\r\n", 26) == 0);
    ASSERT_NOTNULL(strstr(srv.request, "\r\nAuthorization: Bearer abc.def\r\n"));
    ASSERT_NOTNULL(strstr(srv.request, "\r\nSec-WebSocket-Version: 13\r\n"));
    char host[64];
    snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", srv.port);
    ASSERT_NOTNULL(strstr(srv.request, host));
    ASSERT_TRUE(strncmp(vc_ws_peer(s), "127.0.0.1:", 10) == 0);
    char peer[32];
    snprintf(peer, sizeof(peer), "127.0.0.1:%d", srv.port);
    ASSERT_STREQ(vc_ws_peer(c), peer);

    int op;
    char *d;
    size_t n;
    ASSERT_OK(vc_ws_recv(c, 2000, &op, &d, &n)); /* arrived together with the 101 answer */
    ASSERT_EQ(op, VC_WS_OP_TEXT);
    ASSERT_EQ(n, 17);
    ASSERT_STREQ(d, "hello from server");
    free(d);
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    ASSERT_EQ(op, VC_WS_OP_TEXT);
    ASSERT_STREQ(d, "first");
    free(d);

    /* Binary with NULs, both ways; empty messages. */
    static const uint8_t bin[] = {0, 1, 2, 0, 0xff, 0x80};
    ASSERT_OK(vc_ws_send(s, VC_WS_OP_BINARY, bin, sizeof(bin)));
    ASSERT_OK(vc_ws_recv(c, 2000, &op, &d, &n));
    ASSERT_EQ(op, VC_WS_OP_BINARY);
    ASSERT_EQ(n, sizeof(bin));
    ASSERT_MEMEQ(d, bin, sizeof(bin));
    free(d);
    ASSERT_OK(vc_ws_send(c, VC_WS_OP_BINARY, bin, sizeof(bin)));
    ASSERT_OK(vc_ws_send(c, VC_WS_OP_TEXT, "", 0));
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    ASSERT_MEMEQ(d, bin, sizeof(bin));
    free(d);
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    ASSERT_EQ(op, VC_WS_OP_TEXT);
    ASSERT_EQ(n, 0);
    free(d);

    /* 5 MiB each way (the sender blocks until the reader drains, so it gets a thread). */
    size_t big_len = 5u << 20;
    uint8_t *big = malloc(big_len);
    ASSERT_NOTNULL(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i ^ (i >> 9));
    vc_ws_t *pairs[2][2] = {{c, s}, {s, c}};
    for (int k = 0; k < 2; k++) {
        sender_t snd = {.ws = pairs[k][0], .opcode = VC_WS_OP_BINARY, .data = big, .len = big_len};
        ASSERT_EQ(pthread_create(&snd.thread, NULL, sender_main, &snd), 0);
        int r = vc_ws_recv(pairs[k][1], 10000, &op, &d, &n);
        pthread_join(snd.thread, NULL);
        ASSERT_OK(snd.r);
        ASSERT_OK(r);
        ASSERT_EQ(n, big_len);
        bool same = memcmp(d, big, big_len) == 0;
        free(d);
        ASSERT_TRUE(same);
    }
    free(big);
    vc_ws_free(c);
    vc_ws_free(s);
}

static void test_raw_fragmented(void)
{
    int a, b;
    ASSERT_TRUE(tcp_pair(&a, &b));
    vc_ws_t *s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    int op;
    char *d;
    size_t n;
    uint8_t pl[128];
    /* Fragments with a ping in the middle; "€" split across fragments. */
    ASSERT_TRUE(raw_send(b, VC_WS_OP_TEXT, false, "Hel", 3, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_PING, true, "p1", 2, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CONT, false, "lo \xe2\x82", 5, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CONT, false, "", 0, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CONT, true, "\xac!", 2, true));
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    ASSERT_EQ(op, VC_WS_OP_TEXT);
    ASSERT_STREQ(d, "Hello \xe2\x82\xac!");
    ASSERT_EQ(n, 10);
    free(d);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n)); /* the server answered the ping */
    ASSERT_EQ(op, VC_WS_OP_PONG);
    ASSERT_EQ(n, 2);
    ASSERT_MEMEQ(pl, "p1", 2);

    /* An unsolicited pong is ignored; empty fragmented binary message. */
    ASSERT_TRUE(raw_send(b, VC_WS_OP_PONG, true, "zz", 2, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_BINARY, false, "", 0, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CONT, true, "", 0, true));
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    ASSERT_EQ(op, VC_WS_OP_BINARY);
    ASSERT_EQ(n, 0);
    free(d);

    /* A frame split across TCP writes, with a recv timeout in between. */
    vc_buf_t fb = {0};
    static const uint8_t mask[4] = {1, 2, 3, 4};
    ASSERT_OK(vc_ws_frame_encode(&fb, VC_WS_OP_TEXT, true, (const uint8_t *)"split frame", 11, mask));
    ASSERT_TRUE(write_all(b, fb.data, 4));
    ASSERT_EQ(vc_ws_recv(s, 50, &op, &d, &n), -ETIMEDOUT);
    ASSERT_TRUE(write_all(b, fb.data + 4, fb.len - 4));
    vc_buf_done(&fb);
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    ASSERT_STREQ(d, "split frame");
    free(d);

    /* Protocol error: a continuation without a start -> close 1002, VC_EPARSE, and it sticks. */
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CONT, true, "x", 1, true));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_EPARSE);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n));
    ASSERT_EQ(op, VC_WS_OP_CLOSE);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(pl[0] << 8 | pl[1], 1002);
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_EPARSE);
    ASSERT_EQ(vc_ws_send(s, VC_WS_OP_TEXT, "x", 1), VC_ECLOSED);
    vc_ws_free(s);
    close(b);

    /* Unmasked frame from a client -> 1002. */
    ASSERT_TRUE(tcp_pair(&a, &b));
    s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    ASSERT_TRUE(raw_send(b, VC_WS_OP_TEXT, true, "x", 1, false));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_EPARSE);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n));
    ASSERT_EQ(op, VC_WS_OP_CLOSE);
    ASSERT_EQ(pl[0] << 8 | pl[1], 1002);
    vc_ws_free(s);
    close(b);
}

static void test_invalid_utf8(void)
{
    int a, b, op;
    char *d;
    size_t n;
    uint8_t pl[128];
    ASSERT_TRUE(tcp_pair(&a, &b));
    vc_ws_t *s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    /* Invalid UTF-8 is fine in a binary message ... */
    ASSERT_TRUE(raw_send(b, VC_WS_OP_BINARY, true, "\xc3\x28", 2, true));
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    free(d);
    /* ... but not in a text message. */
    ASSERT_TRUE(raw_send(b, VC_WS_OP_TEXT, true, "ok \xc3\x28", 5, true));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_EPARSE);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n));
    ASSERT_EQ(op, VC_WS_OP_CLOSE);
    ASSERT_EQ(pl[0] << 8 | pl[1], 1007);
    vc_ws_free(s);
    close(b);

    /* Invalid UTF-8 in a close reason -> 1007 as well; a close with a 1-byte payload -> 1002. */
    ASSERT_TRUE(tcp_pair(&a, &b));
    s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CLOSE, true, "\x03\xe8\xff", 3, true));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_EPARSE);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n));
    ASSERT_EQ(pl[0] << 8 | pl[1], 1007);
    vc_ws_free(s);
    close(b);
    ASSERT_TRUE(tcp_pair(&a, &b));
    s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CLOSE, true, "\x03", 1, true));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_EPARSE);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n));
    ASSERT_EQ(pl[0] << 8 | pl[1], 1002);
    vc_ws_free(s);
    close(b);
}

static void test_oversized(void)
{
    vc_ws_opts_t so = VC_WS_OPTS_DEFAULT;
    so.max_message = 1000;
    vc_ws_t *c, *s;
    ASSERT_TRUE(ws_pair(NULL, &so, &c, &s));
    static uint8_t p[2000];
    int op;
    char *d;
    size_t n;
    ASSERT_OK(vc_ws_send(c, VC_WS_OP_BINARY, p, 1000)); /* at the limit: fine */
    ASSERT_OK(vc_ws_recv(s, 2000, &op, &d, &n));
    free(d);
    ASSERT_EQ(vc_ws_send(s, VC_WS_OP_PING, p, 126), -EINVAL);
    ASSERT_EQ(vc_ws_send(s, VC_WS_OP_CLOSE, p, 2), -EINVAL); /* vc_ws_close does that */
    ASSERT_OK(vc_ws_send(c, VC_WS_OP_BINARY, p, 2000));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_ETOOBIG);
    ASSERT_EQ(vc_ws_recv(c, 2000, &op, &d, &n), VC_ECLOSED);
    ASSERT_EQ(vc_ws_peer_close_code(c), 1009);
    vc_ws_free(c);
    vc_ws_free(s);

    /* Reassembled size over the limit, each frame under it. */
    int a, b;
    uint8_t pl[128];
    ASSERT_TRUE(tcp_pair(&a, &b));
    s = vc_ws_server_new(a, NULL, 0, &so, NULL, NULL);
    ASSERT_NOTNULL(s);
    ASSERT_TRUE(raw_send(b, VC_WS_OP_BINARY, false, p, 600, true));
    ASSERT_TRUE(raw_send(b, VC_WS_OP_CONT, true, p, 600, true));
    ASSERT_EQ(vc_ws_recv(s, 2000, &op, &d, &n), VC_ETOOBIG);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n));
    ASSERT_EQ(op, VC_WS_OP_CLOSE);
    ASSERT_EQ(pl[0] << 8 | pl[1], 1009);
    vc_ws_free(s);
    close(b);
}

#define CONC_THREADS 4
#define CONC_MSGS 150

typedef struct conc {
    vc_ws_t *ws;
    int id;
    int r;
    pthread_t thread;
} conc_t;

static size_t conc_msg(int id, int seq, char *out)
{
    size_t len = (size_t)((id * 7919 + seq * 104729) % 30000) + 16;
    int h = snprintf(out, 32, "%d:%d:", id, seq);
    for (size_t i = (size_t)h; i < len; i++)
        out[i] = (char)('a' + (i * (size_t)(id + 1) + (size_t)seq) % 26);
    return len;
}

static void *conc_main(void *arg)
{
    conc_t *t = arg;
    char *buf = malloc(32000);
    for (int i = 0; buf && i < CONC_MSGS && t->r == 0; i++) {
        size_t n = conc_msg(t->id, i, buf);
        t->r = vc_ws_send(t->ws, VC_WS_OP_TEXT, buf, n);
    }
    free(buf);
    return NULL;
}

static void test_concurrent_sends(void)
{
    vc_ws_t *c, *s;
    ASSERT_TRUE(ws_pair(NULL, NULL, &c, &s));
    conc_t t[CONC_THREADS];
    for (int i = 0; i < CONC_THREADS; i++) {
        t[i] = (conc_t){.ws = c, .id = i};
        ASSERT_EQ(pthread_create(&t[i].thread, NULL, conc_main, &t[i]), 0);
    }
    int next[CONC_THREADS] = {0};
    char expect[32000];
    int bad = 0;
    for (int k = 0; k < CONC_THREADS * CONC_MSGS; k++) {
        int op, id, seq;
        char *d;
        size_t n;
        int r = vc_ws_recv(s, 10000, &op, &d, &n);
        if (!CHECK(r == 0))
            break;
        if (sscanf(d, "%d:%d:", &id, &seq) != 2 || id < 0 || id >= CONC_THREADS || seq != next[id] ||
            conc_msg(id, seq, expect) != n || memcmp(expect, d, n) != 0)
            bad++;
        else
            next[id]++;
        free(d);
    }
    for (int i = 0; i < CONC_THREADS; i++) {
        pthread_join(t[i].thread, NULL);
        ASSERT_OK(t[i].r);
        ASSERT_EQ(next[i], CONC_MSGS);
    }
    ASSERT_EQ(bad, 0);
    vc_ws_free(c);
    vc_ws_free(s);
}

static void test_close_handshake(void)
{
    for (int dir = 0; dir < 2; dir++) {
        vc_ws_t *c, *s;
        ASSERT_TRUE(ws_pair(NULL, NULL, &c, &s));
        vc_ws_t *closer = dir == 0 ? c : s, *other = dir == 0 ? s : c;
        int op;
        char *d;
        size_t n;
        ASSERT_OK(vc_ws_send(closer, VC_WS_OP_TEXT, "last", 4));
        ASSERT_OK(vc_ws_close(closer, 4000, "bye now"));
        ASSERT_OK(vc_ws_close(closer, 1000, NULL)); /* idempotent */
        ASSERT_EQ(vc_ws_send(closer, VC_WS_OP_TEXT, "x", 1), VC_ECLOSED);
        ASSERT_OK(vc_ws_recv(other, 2000, &op, &d, &n)); /* data before the close still arrives */
        ASSERT_STREQ(d, "last");
        free(d);
        ASSERT_EQ(vc_ws_recv(other, 2000, &op, &d, &n), VC_ECLOSED);
        ASSERT_EQ(vc_ws_peer_close_code(other), 4000);
        ASSERT_EQ(vc_ws_send(other, VC_WS_OP_TEXT, "x", 1), VC_ECLOSED);
        int64_t t0 = vc_now_mono_us();
        ASSERT_EQ(vc_ws_recv(closer, 2000, &op, &d, &n), VC_ECLOSED); /* the echo */
        ASSERT_LT(vc_now_mono_us() - t0, 1000000);
        ASSERT_EQ(vc_ws_peer_close_code(closer), 4000);
        ASSERT_EQ(vc_ws_recv(closer, 2000, &op, &d, &n), VC_ECLOSED); /* final */
        vc_ws_free(c);
        vc_ws_free(s);
    }
    /* A peer that never answers our close: recv gives up after write_timeout_ms. */
    int a, b, op;
    char *d;
    size_t n;
    ASSERT_TRUE(tcp_pair(&a, &b));
    vc_ws_opts_t o = VC_WS_OPTS_DEFAULT;
    o.write_timeout_ms = 200;
    vc_ws_t *s = vc_ws_server_new(a, NULL, 0, &o, NULL, NULL);
    ASSERT_NOTNULL(s);
    ASSERT_OK(vc_ws_close(s, 1001, "going away"));
    ASSERT_EQ(vc_ws_recv(s, 5000, &op, &d, &n), VC_ECLOSED);
    ASSERT_EQ(vc_ws_close(s, 1005, NULL), -EINVAL);
    vc_ws_free(s);
    close(b);

    /* A peer that drops TCP instead of echoing our close: still an orderly VC_ECLOSED. */
    ASSERT_TRUE(tcp_pair(&a, &b));
    s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    ASSERT_OK(vc_ws_close(s, 1000, NULL));
    close(b);
    ASSERT_EQ(vc_ws_recv(s, 5000, &op, &d, &n), VC_ECLOSED);
    vc_ws_free(s);
}

typedef struct reader {
    vc_ws_t *ws;
    int timeout_ms;
    int r;
    int64_t returned_us;
    pthread_t thread;
} reader_t;

static void *reader_main(void *arg)
{
    reader_t *t = arg;
    int op;
    char *d = NULL;
    size_t n;
    t->r = vc_ws_recv(t->ws, t->timeout_ms, &op, &d, &n);
    t->returned_us = vc_now_mono_us();
    free(d);
    return NULL;
}

static void test_vanish_and_timeouts(void)
{
    int a, b, op;
    char *d;
    size_t n;
    uint8_t pl[128];
    /* The peer closes TCP without a close frame. */
    ASSERT_TRUE(tcp_pair(&a, &b));
    vc_ws_t *s = vc_ws_server_new(a, NULL, 0, NULL, NULL, NULL);
    ASSERT_NOTNULL(s);
    close(b);
    int64_t t0 = vc_now_mono_us();
    ASSERT_EQ(vc_ws_recv(s, 5000, &op, &d, &n), VC_ETRANSPORT);
    ASSERT_LT(vc_now_mono_us() - t0, 1000000);
    ASSERT_EQ(vc_ws_peer_close_code(s), 1006);
    vc_ws_free(s);

    /* A peer that stays connected but never answers pings: pong timeout. */
    ASSERT_TRUE(tcp_pair(&a, &b));
    vc_ws_opts_t o = VC_WS_OPTS_DEFAULT;
    o.ping_interval_ms = 50;
    o.pong_timeout_ms = 300;
    s = vc_ws_server_new(a, NULL, 0, &o, NULL, NULL);
    ASSERT_NOTNULL(s);
    t0 = vc_now_mono_us();
    ASSERT_EQ(vc_ws_recv(s, 5000, &op, &d, &n), VC_ETRANSPORT);
    int64_t el = vc_now_mono_us() - t0;
    ASSERT_GE(el, 250000);
    ASSERT_LT(el, 2000000);
    ASSERT_TRUE(raw_recv(b, &op, pl, sizeof(pl), &n)); /* it did ping */
    ASSERT_EQ(op, VC_WS_OP_PING);
    vc_ws_free(s);
    close(b);

    /* Pings answered keep the connection alive well past the pong timeout, as long as both
     * sides read. */
    vc_ws_opts_t co = VC_WS_OPTS_DEFAULT;
    co.ping_interval_ms = 30;
    co.pong_timeout_ms = 150;
    vc_ws_t *c;
    ASSERT_TRUE(ws_pair(&co, &co, &c, &s));
    reader_t rd = {.ws = s, .timeout_ms = 600};
    ASSERT_EQ(pthread_create(&rd.thread, NULL, reader_main, &rd), 0);
    int r = vc_ws_recv(c, 600, &op, &d, &n);
    pthread_join(rd.thread, NULL);
    ASSERT_EQ(r, -ETIMEDOUT);
    ASSERT_EQ(rd.r, -ETIMEDOUT);

    /* recv timeout keeps the connection usable. */
    t0 = vc_now_mono_us();
    ASSERT_EQ(vc_ws_recv(c, 100, &op, &d, &n), -ETIMEDOUT);
    ASSERT_GE(vc_now_mono_us() - t0, 90000);
    ASSERT_OK(vc_ws_send(s, VC_WS_OP_TEXT, "still here", 10));
    ASSERT_OK(vc_ws_recv(c, 1000, &op, &d, &n));
    ASSERT_STREQ(d, "still here");
    free(d);
    vc_ws_free(c);
    vc_ws_free(s);
}

static void test_shutdown_wakes_reader(void)
{
    vc_ws_t *c, *s;
    ASSERT_TRUE(ws_pair(NULL, NULL, &c, &s));
    reader_t rd = {.ws = s, .timeout_ms = -1};
    ASSERT_EQ(pthread_create(&rd.thread, NULL, reader_main, &rd), 0);
    vc_sleep_ms(50);
    int64_t t0 = vc_now_mono_us();
    vc_ws_shutdown(s);
    vc_ws_shutdown(s);
    pthread_join(rd.thread, NULL);
    ASSERT_EQ(rd.r, VC_ECLOSED);
    ASSERT_LT(rd.returned_us - t0, 500000);
    ASSERT_EQ(vc_ws_send(s, VC_WS_OP_TEXT, "x", 1), VC_ECLOSED);
    /* The other side sees the connection go away. */
    int op;
    char *d;
    size_t n;
    int r = vc_ws_recv(c, 2000, &op, &d, &n);
    ASSERT_TRUE(r == VC_ETRANSPORT || r == VC_ECLOSED);
    vc_ws_free(c);
    vc_ws_free(s);
}

static int on_free_calls;
static void count_free(void *p)
{
    on_free_calls++;
    close(*(int *)p);
}

static void test_server_new_ownership(void)
{
    int a, b;
    ASSERT_TRUE(tcp_pair(&a, &b));
    on_free_calls = 0;
    vc_ws_t *s = vc_ws_server_new(a, "\x81", 1, NULL, count_free, &a);
    ASSERT_NOTNULL(s);
    ASSERT_EQ(on_free_calls, 0);
    ASSERT_TRUE(vc_ws_free(s) == NULL);
    ASSERT_EQ(on_free_calls, 1);
    ASSERT_TRUE(vc_ws_free(NULL) == NULL);
    /* Bad arguments: still released once. */
    ASSERT_TRUE(vc_ws_server_new(b, NULL, 5, NULL, count_free, &b) == NULL);
    ASSERT_EQ(on_free_calls, 2);
}

static void test_connect_errors(void)
{
    vc_ws_t *c = NULL;
    int st = -1;
    /* Closed port: refused at once. */
    int port;
    int l = listen_on(AF_INET, &port);
    ASSERT_GE(l, 0);
    close(l);
    char url[96];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/rpc", port);
    int64_t t0 = vc_now_mono_us();
    ASSERT_EQ(vc_ws_connect(url, NULL, 5000, NULL, &c, &st), VC_ETRANSPORT);
    ASSERT_LT(vc_now_mono_us() - t0, 1000000);
    ASSERT_EQ(st, 0);
    snprintf(url, sizeof(url), "http://localhost:%d/rpc", port);
    ASSERT_EQ(vc_ws_connect(url, NULL, 5000, NULL, &c, &st), VC_ETRANSPORT);

    /* Non-101 answer. */
    srv_t srv = {.status = 401};
    ASSERT_TRUE(srv_start(&srv));
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/rpc/v0", srv.port);
    ASSERT_EQ(vc_ws_connect(url, NULL, 5000, NULL, &c, &st), VC_EHTTP);
    ASSERT_EQ(st, 401);
    srv_join(&srv);

    /* Wrong Sec-WebSocket-Accept. */
    srv = (srv_t){.status = 101, .bad_accept = true};
    ASSERT_TRUE(srv_start(&srv));
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", srv.port);
    ASSERT_EQ(vc_ws_connect(url, NULL, 5000, NULL, &c, &st), VC_EPARSE);
    ASSERT_EQ(st, 101);
    srv_join(&srv);

    /* A server that accepts but never answers: the timeout holds. */
    l = listen_on(AF_INET, &port);
    ASSERT_GE(l, 0);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", port);
    t0 = vc_now_mono_us();
    ASSERT_EQ(vc_ws_connect(url, NULL, 200, NULL, &c, &st), -ETIMEDOUT);
    ASSERT_LT(vc_now_mono_us() - t0, 2000000);
    close(l);

    /* Bad URLs and headers. */
    const char *bad[] = {"",           "ftp://x/",   "ws://",     "ws://:80/",  "ws://h:0/", "ws://h:65536/",
                         "ws://h:8x/", "ws://[::1/", "ws://a b/", "ws://h/a b", "ws://u@h/", "ws://h#frag"};
    for (size_t i = 0; i < VC_ELEMENTSOF(bad); i++)
        if (!CHECK(vc_ws_connect(bad[i], NULL, 100, NULL, &c, NULL) == -EINVAL))
            fprintf(stderr, "    url '%s'\n", bad[i]);
    ASSERT_EQ(vc_ws_connect(NULL, NULL, 100, NULL, &c, NULL), -EINVAL);
    ASSERT_EQ(vc_ws_connect("wss://h/", NULL, 100, NULL, &c, NULL), -EPROTONOSUPPORT);
    const char *h1[] = {"X-A: b\r\nX-Injected: 1", NULL};
    const char *h2[] = {"NoColon", NULL};
    ASSERT_EQ(vc_ws_connect("ws://127.0.0.1:1/", h1, 100, NULL, &c, NULL), -EINVAL);
    ASSERT_EQ(vc_ws_connect("ws://127.0.0.1:1/", h2, 100, NULL, &c, NULL), -EINVAL);
}

static void test_ipv6(void)
{
    srv_t srv = {.family = AF_INET6, .status = 101};
    if (!srv_start(&srv)) {
        fprintf(stderr, "  (no IPv6 loopback: skipped)\n");
        return;
    }
    char url[64];
    snprintf(url, sizeof(url), "ws://[::1]:%d", srv.port); /* no path: "/" */
    vc_ws_t *c = NULL;
    int r = vc_ws_connect(url, NULL, 5000, NULL, &c, NULL);
    srv_join(&srv);
    ASSERT_OK(r);
    ASSERT_NOTNULL(srv.ws);
    ASSERT_TRUE(strncmp(srv.request, "GET / HTTP/1.1\r\n", 16) == 0);
    char host[64];
    snprintf(host, sizeof(host), "\r\nHost: [::1]:%d\r\n", srv.port);
    ASSERT_NOTNULL(strstr(srv.request, host));
    ASSERT_TRUE(strncmp(vc_ws_peer(c), "[::1]:", 6) == 0);
    ASSERT_OK(vc_ws_send(srv.ws, VC_WS_OP_TEXT, "v6", 2));
    int op;
    char *d;
    size_t n;
    ASSERT_OK(vc_ws_recv(c, 2000, &op, &d, &n));
    ASSERT_STREQ(d, "v6");
    free(d);
    vc_ws_free(c);
    vc_ws_free(srv.ws);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    signal(SIGPIPE, SIG_IGN); /* for the raw test peers; the library itself uses MSG_NOSIGNAL */
    VC_TEST_RUN(test_sha1);
    VC_TEST_RUN(test_accept_key);
    VC_TEST_RUN(test_utf8);
    VC_TEST_RUN(test_codec_rfc_examples);
    VC_TEST_RUN(test_codec_violations);
    VC_TEST_RUN(test_exchange);
    VC_TEST_RUN(test_raw_fragmented);
    VC_TEST_RUN(test_invalid_utf8);
    VC_TEST_RUN(test_oversized);
    VC_TEST_RUN(test_concurrent_sends);
    VC_TEST_RUN(test_close_handshake);
    VC_TEST_RUN(test_vanish_and_timeouts);
    VC_TEST_RUN(test_shutdown_wakes_reader);
    VC_TEST_RUN(test_server_new_ownership);
    VC_TEST_RUN(test_connect_errors);
    VC_TEST_RUN(test_ipv6);
    return VC_TEST_DONE();
}
