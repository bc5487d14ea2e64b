/*
 * blake2b.h: BLAKE2b (RFC 7693), unkeyed, with any output length 1..64 bytes.
 *
 * Filecoin needs digests libsodium cannot produce (the 4-byte address checksum), so this is our
 * own implementation. The state is a plain struct: no allocation, no cleanup.
 */
#ifndef VC_BLAKE2B_H
#define VC_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define VC_BLAKE2B_OUTBYTES_MAX 64
#define VC_BLAKE2B_BLOCKBYTES 128

typedef struct vc_blake2b {
    uint64_t h[8];
    uint64_t t[2];
    uint8_t buf[VC_BLAKE2B_BLOCKBYTES];
    size_t buflen;
    size_t outlen;
} vc_blake2b_t;

/* Starts a hash with an outlen-byte digest. -EINVAL unless 1 <= outlen <= 64. */
int vc_blake2b_init(vc_blake2b_t *s, size_t outlen);
/* Feeds len bytes (in may be NULL when len is 0). */
void vc_blake2b_update(vc_blake2b_t *s, const void *in, size_t len);
/* Writes outlen bytes to out. The state must be re-initialised before reuse. */
void vc_blake2b_final(vc_blake2b_t *s, uint8_t *out);

/* One-shot: out receives outlen bytes. -EINVAL for a bad outlen. */
int vc_blake2b(const void *in, size_t len, uint8_t *out, size_t outlen);

/* The two sizes Filecoin uses everywhere. */
void vc_blake2b_256(const void *in, size_t len, uint8_t out[32]);
void vc_blake2b_160(const void *in, size_t len, uint8_t out[20]);

#endif
