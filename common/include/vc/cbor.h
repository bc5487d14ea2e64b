/*
 * cbor.h: DAG-CBOR encoder and a bounded pull decoder.
 *
 * Encoder: vc_cbor_put_*() append canonical items (shortest heads, definite lengths) to a
 * vc_buf_t; they return 0 or -ENOMEM.
 *
 * Decoder: a cursor over a const buffer. Each vc_cbor_read_*() consumes one item and advances
 * the cursor only on success (on error the cursor is unchanged). Byte and text strings are
 * returned zero-copy as pointer + length into the input. The decoder is DAG-CBOR strict:
 *   VC_ETRUNC  input ends inside the item (or a length exceeds the remaining input)
 *   VC_EPARSE  non-minimal head, indefinite length, reserved additional info, a tag other than
 *              42, simple values other than false/true/null, floats (not supported), invalid
 *              UTF-8 in text
 *   VC_ETYPE   the item has a different major type than requested
 *   -ERANGE    integer out of the requested range
 *   VC_EDEPTH  nesting beyond the reader's depth limit (default VC_CBOR_MAX_DEPTH)
 */
#ifndef VC_CBOR_H
#define VC_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/util.h"

struct vc_cid;
struct vc_bigint;
struct vc_address;

enum {
    VC_CBOR_UINT = 0,
    VC_CBOR_NEGINT = 1,
    VC_CBOR_BYTES = 2,
    VC_CBOR_TEXT = 3,
    VC_CBOR_ARRAY = 4,
    VC_CBOR_MAP = 5,
    VC_CBOR_TAG = 6,
    VC_CBOR_SIMPLE = 7,
};

#define VC_CBOR_MAX_DEPTH 64
#define VC_CBOR_TAG_CID 42

/* ---- encoder ---- */
int vc_cbor_put_head(vc_buf_t *b, unsigned major, uint64_t v);
int vc_cbor_put_uint(vc_buf_t *b, uint64_t v);
/* Major 0 for v >= 0, major 1 (-1-v) otherwise. */
int vc_cbor_put_int(vc_buf_t *b, int64_t v);
int vc_cbor_put_bytes(vc_buf_t *b, const void *data, size_t len);
int vc_cbor_put_text(vc_buf_t *b, const char *s, size_t len);
int vc_cbor_put_array(vc_buf_t *b, uint64_t count);
int vc_cbor_put_map(vc_buf_t *b, uint64_t count);
int vc_cbor_put_bool(vc_buf_t *b, bool v);
int vc_cbor_put_null(vc_buf_t *b);
/* Tag 42 + bytes(0x00 || binary CID). -EINVAL for an undefined CID. */
int vc_cbor_put_cid(vc_buf_t *b, const struct vc_cid *c);
/* Filecoin BigInt as a byte string. -ERANGE if too large to serialise. */
int vc_cbor_put_bigint(vc_buf_t *b, const struct vc_bigint *v);
/* Address as a byte string. -EINVAL for the undefined address. */
int vc_cbor_put_address(vc_buf_t *b, const struct vc_address *a);

/* ---- decoder ---- */
typedef struct vc_cbor_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    unsigned max_depth;
} vc_cbor_reader_t;

void vc_cbor_reader_init(vc_cbor_reader_t *r, const void *data, size_t len);
static inline size_t vc_cbor_remaining(const vc_cbor_reader_t *r)
{
    return r->len - r->pos;
}
/* 0 if the whole input was consumed, VC_EPARSE if bytes remain. */
int vc_cbor_expect_end(const vc_cbor_reader_t *r);

/* Major type of the next item (VC_ETRUNC at end of input). */
int vc_cbor_peek_major(const vc_cbor_reader_t *r, unsigned *ret_major);
/* True if the next byte is null (0xf6). */
bool vc_cbor_peek_null(const vc_cbor_reader_t *r);

int vc_cbor_read_uint(vc_cbor_reader_t *r, uint64_t *ret);
/* Major 0 or 1 within int64. */
int vc_cbor_read_int(vc_cbor_reader_t *r, int64_t *ret);
int vc_cbor_read_bytes(vc_cbor_reader_t *r, const uint8_t **ret, size_t *ret_len);
int vc_cbor_read_text(vc_cbor_reader_t *r, const char **ret, size_t *ret_len);
/* Counts are checked against the remaining input (each element needs at least one byte). */
int vc_cbor_read_array(vc_cbor_reader_t *r, uint64_t *ret_count);
int vc_cbor_read_map(vc_cbor_reader_t *r, uint64_t *ret_count);
int vc_cbor_read_bool(vc_cbor_reader_t *r, bool *ret);
int vc_cbor_read_null(vc_cbor_reader_t *r);
int vc_cbor_read_cid(vc_cbor_reader_t *r, struct vc_cid *ret);
int vc_cbor_read_bigint(vc_cbor_reader_t *r, struct vc_bigint *ret);
/* A non-empty address byte string (at most 64 bytes inside, as go-address). */
int vc_cbor_read_address(vc_cbor_reader_t *r, struct vc_address *ret);
/* Skips one complete item of any kind, validating it. */
int vc_cbor_skip(vc_cbor_reader_t *r);

#endif
