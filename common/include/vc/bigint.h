/*
 * bigint.h: signed arbitrary-precision integers for Filecoin token amounts, power and the
 * Q.256 fixed-point maths of election (win count).
 *
 * A value is sign + magnitude in 32-bit limbs, stored inline (no allocation: copy with `=`),
 * with magnitudes up to VC_BIGINT_MAX_BITS (1024) bits. Every operation whose result would not
 * fit returns -ERANGE and leaves ret untouched; intermediate products inside
 * vc_bigint_mul_ratio() may use twice that. Output pointers may alias inputs.
 *
 * Semantics: division and remainder truncate toward zero (C semantics; go-state-types big.Div
 * uses Go's Euclidean Div, identical for non-negative operands); right shift floors (like Go's
 * Rsh). Zero is never negative.
 */
#ifndef VC_BIGINT_H
#define VC_BIGINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VC_BIGINT_MAX_BITS 1024
#define VC_BIGINT_LIMBS (VC_BIGINT_MAX_BITS / 32)
/* Decimal string: 309 digits + sign + NUL fits. */
#define VC_BIGINT_STRLEN_MAX 312
/* Filecoin byte form: sign byte + magnitude, at most 128 bytes (go-state-types limit). */
#define VC_BIGINT_BYTES_MAX 128

typedef struct vc_bigint {
    bool neg;
    uint32_t n;                    /* limbs in use; no leading zero limb; 0 for zero */
    uint32_t d[VC_BIGINT_LIMBS];   /* little-endian limbs */
} vc_bigint_t;

#define VC_BIGINT_ZERO ((vc_bigint_t){0})

void vc_bigint_from_i64(int64_t v, vc_bigint_t *ret);
void vc_bigint_from_u64(uint64_t v, vc_bigint_t *ret);
/* -ERANGE if the value does not fit. */
int vc_bigint_to_i64(const vc_bigint_t *a, int64_t *ret);
int vc_bigint_to_u64(const vc_bigint_t *a, uint64_t *ret);

/* Decimal: optional '-', then digits (leading zeros and "-0" accepted as Go's SetString does).
 * VC_EPARSE for anything else (empty, '+', spaces), -ERANGE beyond 1024 bits. */
int vc_bigint_parse(const char *s, size_t len, vc_bigint_t *ret);
int vc_bigint_from_string(const char *s, vc_bigint_t *ret);
/* Canonical decimal into out (outlen bytes, VC_BIGINT_STRLEN_MAX always suffices). Returns the
 * length or -ENOBUFS. */
int vc_bigint_to_string(const vc_bigint_t *a, char *out, size_t outlen);

/* Filecoin byte form: empty = 0, else 0x00 (positive) or 0x01 (negative) + big-endian magnitude.
 * Parsing accepts leading zero bytes in the magnitude (as Go does); VC_EPARSE for another sign
 * byte, VC_ETOOBIG above VC_BIGINT_BYTES_MAX. Encoding returns the length written to out (at
 * most VC_BIGINT_BYTES_MAX) or -ERANGE if the value needs more. */
int vc_bigint_from_bytes(const uint8_t *b, size_t len, vc_bigint_t *ret);
int vc_bigint_to_bytes(const vc_bigint_t *a, uint8_t out[VC_BIGINT_BYTES_MAX]);

/* Unsigned big-endian (e.g. a hash as an integer). from: -ERANGE beyond 1024 bits. to: writes
 * exactly outlen bytes, -ERANGE if negative or too large for outlen. */
int vc_bigint_from_be(const uint8_t *b, size_t len, vc_bigint_t *ret);
int vc_bigint_to_be(const vc_bigint_t *a, uint8_t *out, size_t outlen);

int vc_bigint_add(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret);
int vc_bigint_sub(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret);
int vc_bigint_mul(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret);
/* Truncated division; ret_q and/or ret_r may be NULL. -EDOM when b is zero. */
int vc_bigint_divmod(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret_q,
                     vc_bigint_t *ret_r);
int vc_bigint_div(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret);
int vc_bigint_mod(const vc_bigint_t *a, const vc_bigint_t *b, vc_bigint_t *ret);
/* a * num / den (truncated) with a double-width intermediate product. -EDOM if den is 0. */
int vc_bigint_mul_ratio(const vc_bigint_t *a, const vc_bigint_t *num, const vc_bigint_t *den,
                        vc_bigint_t *ret);
int vc_bigint_shl(const vc_bigint_t *a, unsigned bits, vc_bigint_t *ret);
/* Floor shift (like Go's Rsh): -1 >> 1 == -1. */
int vc_bigint_shr(const vc_bigint_t *a, unsigned bits, vc_bigint_t *ret);
void vc_bigint_neg(const vc_bigint_t *a, vc_bigint_t *ret);

/* -1, 0, 1. */
int vc_bigint_cmp(const vc_bigint_t *a, const vc_bigint_t *b);
int vc_bigint_sign(const vc_bigint_t *a);
static inline bool vc_bigint_is_zero(const vc_bigint_t *a)
{
    return a->n == 0;
}
/* Bits in the magnitude (0 for zero). */
unsigned vc_bigint_bitlen(const vc_bigint_t *a);

#endif
