/*
 * ws.h: RFC 6455 WebSocket, client and server side, ws:// only (no TLS, no extensions, no
 * subprotocol negotiation).
 *
 * Two layers:
 *  - a pure frame codec (vc_ws_frame_parse / vc_ws_frame_encode), fuzzed by fuzz/fuzz-ws.c;
 *  - connections (vc_ws_t) over a connected stream socket: the server side wraps a socket that
 *    the HTTP server already upgraded (vc_ws_server_new), the client side connects and performs
 *    the HTTP/1.1 upgrade itself (vc_ws_connect).
 *
 * Threading model of a vc_ws_t:
 *  - exactly ONE thread at a time calls vc_ws_recv (the reader). The reader also answers pings,
 *    sends the periodic keep-alive pings and enforces the pong timeout, so keep-alive only runs
 *    while some thread sits in vc_ws_recv.
 *  - any number of threads may call vc_ws_send, vc_ws_close and vc_ws_shutdown concurrently
 *    with each other and with the reader (frames are written whole under a write mutex, so
 *    messages never interleave).
 *  - vc_ws_shutdown wakes a reader blocked in vc_ws_recv and any writer blocked on a full
 *    socket at once; they return VC_ECLOSED.
 *  - vc_ws_free must not run concurrently with any other call on the same connection: stop
 *    (vc_ws_shutdown) and join the reader and writers first.
 * The socket is used with MSG_DONTWAIT / MSG_NOSIGNAL, so it may be blocking or not and no
 * SIGPIPE is raised.
 *
 * Errors: negative errno or VC_E* (vc/util.h). VC_ECLOSED = the connection was closed (close
 * handshake, or local shutdown); VC_ETRANSPORT = it broke (EOF without close frame, reset,
 * pong timeout, failed connect); VC_EPARSE / VC_ETOOBIG = the peer violated the protocol or a
 * limit (a close frame with 1002/1007/1009 was sent to it).
 */
#ifndef VC_WS_H
#define VC_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/util.h"

enum {
    VC_WS_OP_CONT = 0x0,
    VC_WS_OP_TEXT = 0x1,
    VC_WS_OP_BINARY = 0x2,
    VC_WS_OP_CLOSE = 0x8,
    VC_WS_OP_PING = 0x9,
    VC_WS_OP_PONG = 0xa,
};

/* Close status codes (RFC 6455 section 7.4.1). 1005/1006/1015 are never sent on the wire. */
enum {
    VC_WS_CLOSE_NORMAL = 1000,
    VC_WS_CLOSE_GOING_AWAY = 1001,
    VC_WS_CLOSE_PROTOCOL = 1002,
    VC_WS_CLOSE_UNSUPPORTED = 1003,
    VC_WS_CLOSE_NO_STATUS = 1005,
    VC_WS_CLOSE_ABNORMAL = 1006,
    VC_WS_CLOSE_INVALID_DATA = 1007,
    VC_WS_CLOSE_POLICY = 1008,
    VC_WS_CLOSE_TOO_BIG = 1009,
    VC_WS_CLOSE_INTERNAL = 1011,
};

#define VC_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define VC_WS_MAX_HEADER 14   /* largest frame header: 2 + 8 (length) + 4 (mask) */
#define VC_WS_MAX_CONTROL 125 /* largest control frame payload */
#define VC_WS_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024)

/* ---- Frame codec: pure functions, no allocation except into the caller's vc_buf_t ---- */

typedef struct vc_ws_frame {
    bool fin;
    int opcode; /* VC_WS_OP_* */
    bool masked;
    uint8_t mask[4];        /* valid when masked */
    const uint8_t *payload; /* points into the parsed buffer; STILL MASKED when masked */
    size_t len;             /* payload length */
    size_t header_len;
} vc_ws_frame_t;

/*
 * Parses one frame from the start of buf. On success fills *ret, sets *ret_consumed to
 * header_len + len and returns 0. Returns -EAGAIN when buf holds only a prefix of a valid frame
 * (header incomplete, or payload incomplete and within the limit); VC_ETOOBIG when the announced
 * payload exceeds max_payload (known as soon as the header is complete); VC_EPARSE on protocol
 * violations: reserved bits set, unknown opcode, control frame > 125 bytes or not FIN, 64-bit
 * length with the high bit set, unmasked frame when expect_masked (server side) or masked frame
 * when !expect_masked (client side). Non-minimal length encodings are accepted (RFC 6455 5.2
 * puts the "minimal" MUST on the sender only; gorilla/websocket accepts them too).
 */
int vc_ws_frame_parse(const uint8_t *buf, size_t len, size_t max_payload, bool expect_masked,
                      vc_ws_frame_t *ret, size_t *ret_consumed);

/* XORs data in place with mask; offset is the position of data[0] within the payload. */
void vc_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset);

/*
 * Appends one frame (header, then the payload masked with mask4 when mask4 != NULL) to out.
 * -EINVAL for an unknown opcode or a control frame that is fragmented or > 125 bytes.
 */
int vc_ws_frame_encode(vc_buf_t *out, int opcode, bool fin, const uint8_t *payload, size_t len,
                       const uint8_t *mask4);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(sha1(key + GUID)), NUL-terminated.
 * -EINVAL when client_key is NULL or longer than 256 bytes. */
int vc_ws_accept_key(const char *client_key, char out[29]);

/* Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF). */
bool vc_ws_utf8_valid(const uint8_t *s, size_t len);

/* ---- Connections ---- */

typedef struct vc_ws vc_ws_t;

typedef struct vc_ws_opts {
    size_t max_message;   /* received (reassembled) message limit; bigger -> close 1009. 0 = 16 MiB.
                           * Sends are not limited. */
    size_t max_frame;     /* single frame payload limit; 0 = max_message */
    int ping_interval_ms; /* ping when nothing was received for this long; 0 = never */
    int pong_timeout_ms;  /* fail (VC_ETRANSPORT) if nothing arrives this long after a ping; 0 = never */
    int write_timeout_ms; /* a frame write (and the wait for the peer's close reply) gives up
                           * after this long; 0 = 10000, < 0 = forever */
} vc_ws_opts_t;

/* The defaults (what a NULL opts pointer means). */
#define VC_WS_OPTS_DEFAULT                                                                                   \
    ((vc_ws_opts_t){.max_message = VC_WS_DEFAULT_MAX_MESSAGE,                                                \
                    .max_frame = VC_WS_DEFAULT_MAX_MESSAGE,                                                  \
                    .ping_interval_ms = 5000,                                                                \
                    .pong_timeout_ms = 30000,                                                                \
                    .write_timeout_ms = 10000})

/*
 * Server side: wraps fd, a connected socket whose HTTP upgrade (101) is already done, plus the
 * bytes the HTTP server read past the request (already_read, copied; may be NULL/0). The
 * connection TAKES the fd in every case, also when NULL is returned (OOM, bad arguments):
 *  - on_free == NULL: the fd is close()d by vc_ws_free (or right away on failure);
 *  - on_free != NULL: the fd is never closed by ws; on_free(on_free_userdata) is called
 *    exactly once instead (by vc_ws_free, or right away on failure). The HTTP server passes
 *    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE) there.
 * Frames from the peer must be masked; ours are not.
 */
vc_ws_t *vc_ws_server_new(int fd, const void *already_read, size_t already_read_len, const vc_ws_opts_t *opts,
                          void (*on_free)(void *), void *on_free_userdata);

/*
 * Client side: connects to url ("ws://host[:port][/path[?query]]" or "http://..."; host is a
 * name, an IPv4 literal or a bracketed IPv6 literal; default port 80) within timeout_ms
 * (< 0 = no limit; name resolution itself is not bounded), sends the upgrade request with
 * extra_headers ("Name: value" strings, NULL-terminated list, may be NULL; e.g.
 * "Authorization: Bearer <jwt>") and checks the 101 answer and Sec-WebSocket-Accept.
 * ret_status (may be NULL) receives the HTTP status when one was read (101 on success).
 * Returns 0; -EINVAL (bad url/header), -EPROTONOSUPPORT (wss/https), VC_ETRANSPORT (name not
 * found, refused, unreachable, reset), -ETIMEDOUT, VC_EHTTP (status != 101, see ret_status),
 * VC_EPARSE (malformed answer or wrong accept key), -ENOMEM.
 */
int vc_ws_connect(const char *url, const char *const *extra_headers, int timeout_ms, const vc_ws_opts_t *opts,
                  vc_ws_t **ret, int *ret_status);

/*
 * Receives one whole message (defragmented), waiting at most timeout_ms (< 0 = forever).
 * *ret_opcode is VC_WS_OP_TEXT or VC_WS_OP_BINARY, *ret_data a malloc'ed copy (caller frees,
 * NUL-terminated for convenience, not counted in *ret_len). Control frames are handled inside:
 * pings answered, pongs noted, a close frame answered and VC_ECLOSED returned. -ETIMEDOUT when
 * no message completed in time (the connection stays usable, a partial message is kept).
 * Text messages that are not UTF-8 -> close 1007 and VC_EPARSE. Other errors are final: later
 * calls return the same error.
 */
int vc_ws_recv(vc_ws_t *ws, int timeout_ms, int *ret_opcode, char **ret_data, size_t *ret_len);

/* Sends one message as a single frame (opcode TEXT, BINARY, or PING/PONG with <= 125 bytes).
 * Thread-safe. Client frames are masked with fresh random keys. VC_ECLOSED after a close was
 * sent or a shutdown; -ETIMEDOUT after write_timeout_ms (the connection is then broken). */
int vc_ws_send(vc_ws_t *ws, int opcode, const void *data, size_t len);

/* Sends a close frame (code 0 = without status; reason may be NULL, cut to 123 bytes).
 * Thread-safe, idempotent (only the first call sends). The reader keeps delivering messages
 * until the peer answers with its close frame (then VC_ECLOSED) or write_timeout_ms passes. */
int vc_ws_close(vc_ws_t *ws, uint16_t code, const char *reason);

/* Ends the receiving side only: the reader gets the end of the stream (VC_ETRANSPORT) while
 * answers can still be sent, e.g. those of calls already running when a server stops. */
void vc_ws_stop_reading(vc_ws_t *ws);

/* Stops the connection without a handshake: wakes the reader and blocked writers, which return
 * VC_ECLOSED, and shuts the socket down. Thread-safe, idempotent; does not free. */
void vc_ws_shutdown(vc_ws_t *ws);

/* NULL-safe; returns NULL. Releases the fd (see vc_ws_server_new). Not concurrent with other calls. */
vc_ws_t *vc_ws_free(vc_ws_t *ws);
VC_DEFINE_CLEANUP(vc_ws_t *, vc_ws_free)

/* "ip:port" ("[v6]:port") of the peer, "?" when unknown. Valid until vc_ws_free. */
const char *vc_ws_peer(vc_ws_t *ws);

/* The status code of the close frame the peer sent: 0 when none arrived yet, 1005 when it had
 * no status. Call from the reader thread (or after it stopped). */
int vc_ws_peer_close_code(vc_ws_t *ws);

#endif
