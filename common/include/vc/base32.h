/*
 * base32.h: RFC 4648 base32 with the lowercase alphabet "abcdefghijklmnopqrstuvwxyz234567" and
 * no padding, as Filecoin addresses and multibase 'b' CIDs use it.
 *
 * Decoding is strict: lowercase alphabet only, no padding, no impossible lengths and the unused
 * trailing bits must be zero, so every accepted string is the canonical encoding of its bytes.
 */
#ifndef VC_BASE32_H
#define VC_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode len bytes (without NUL). */
static inline size_t vc_base32_encoded_len(size_t len)
{
    return (len * 8 + 4) / 5;
}

/* Writes vc_base32_encoded_len(len) characters and a NUL into out. Returns the length. */
size_t vc_base32_encode(const uint8_t *in, size_t len, char *out);

/* Decodes len characters into out (capacity out_cap). Returns the byte count, VC_EPARSE for a
 * non-canonical or invalid input, -ENOBUFS if out_cap is too small. */
int vc_base32_decode(const char *in, size_t len, uint8_t *out, size_t out_cap);

#endif
