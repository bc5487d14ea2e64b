/*
 * varint.h: unsigned LEB128 varints as multiformats (CIDs, multihash) and Filecoin ID addresses
 * use them. Decoding is strict like go-varint: minimal encodings only, at most 9 bytes (63 bits).
 */
#ifndef VC_VARINT_H
#define VC_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VC_UVARINT_LEN_MAX 10

/* Writes v into out (up to 10 bytes). Returns the byte count. */
size_t vc_uvarint_encode(uint64_t v, uint8_t out[VC_UVARINT_LEN_MAX]);

/* Reads a varint from the first len bytes of in. Returns the bytes consumed (> 0), VC_ETRUNC if
 * the input ends inside the varint, VC_EPARSE if not minimal, -ERANGE beyond 63 bits. */
int vc_uvarint_decode(const uint8_t *in, size_t len, uint64_t *ret);

#endif
