/*
 * gofmt.h: number and duration formatting that matches Go's strconv / time output, so config
 * files, CLI output and metrics look like the Go daemons' (shared by conf, metrics and cli).
 */
#ifndef VC_GOFMT_H
#define VC_GOFMT_H

#include <stddef.h>
#include <stdint.h>

#define VC_GOFMT_FLOAT_MAX 400 /* enough for any double in 'f' format */

/*
 * strconv.FormatFloat(v, fmt, -1, 64): shortest digits that round-trip. fmt is 'e', 'f' or 'g'.
 * Infinities and NaN are written "+Inf", "-Inf", "NaN". Returns the length, or -ENOBUFS.
 */
int vc_format_float_go(double v, char fmt, char *out, size_t size);

/* time.Duration(ms * 1e6).String(): "0s", "500ms", "1.5s", "1m0s", "1h0m0s". out >= 32 bytes. */
void vc_format_duration_go(int64_t ms, char out[32]);

#endif
