/*
 * sha1.h: SHA-1 (FIPS 180-4), needed only for the WebSocket handshake (RFC 6455 section 4).
 * libsodium has no SHA-1. Not for security uses: SHA-1 is broken for collision resistance.
 * Pure functions, no global state: safe from any thread.
 */
#ifndef VC_SHA1_H
#define VC_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define VC_SHA1_LEN 20

typedef struct vc_sha1 {
    uint32_t h[5];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes in block */
} vc_sha1_t;

void vc_sha1_init(vc_sha1_t *c);
void vc_sha1_update(vc_sha1_t *c, const void *data, size_t len);
/* Writes the digest; c must be re-initialised before reuse. */
void vc_sha1_final(vc_sha1_t *c, uint8_t out[VC_SHA1_LEN]);
/* One-shot. */
void vc_sha1(const void *data, size_t len, uint8_t out[VC_SHA1_LEN]);

#endif
