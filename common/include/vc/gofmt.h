/*
 * gofmt.h: number and duration formatting that matches Go's strconv / time output, so config
 * files, CLI output and metrics look like the Go daemons' (shared by conf, metrics and cli).
 */
#ifndef VC_GOFMT_H
#define VC_GOFMT_H

#include <stdbool.h>
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

/*
 * time.ParseDuration: "300ms", "-1.5h", "2h45m", "1h20m30.5s"; units ns, us, \u00b5s, \u03bcs, ms,
 * s, m, h; "0" alone is allowed. *ret_ns is written only on success. -EINVAL for bad syntax or
 * a missing / unknown unit, -ERANGE when the value does not fit an int64 of nanoseconds.
 */
int vc_parse_duration_go(const char *s, int64_t *ret_ns);

/*
 * Go time.Time values as the CLIs print them: an instant plus the zone it is shown in.
 * zone "" means a zone without a name (Go's FixedZone("", offset)): layouts print its "MST"
 * as "+0800".
 */
typedef struct vc_gotime {
    int64_t sec;    /* unix seconds */
    int32_t nsec;   /* 0 .. 999999999 */
    int32_t offset; /* seconds east of UTC */
    char zone[16];  /* abbreviation: "CST", "UTC", or "" */
} vc_gotime_t;

#define VC_GOTIME_RFC3339 "2006-01-02T15:04:05Z07:00"
#define VC_GOTIME_RFC3339NANO "2006-01-02T15:04:05.999999999Z07:00"
#define VC_GOTIME_RFC1123 "Mon, 02 Jan 2006 15:04:05 MST"
#define VC_GOTIME_DATETIME "2006-01-02 15:04:05"
#define VC_GOTIME_STRING "2006-01-02 15:04:05.999999999 -0700 MST" /* time.Time.String() */
#define VC_GOTIME_STRLEN_MAX 96

/* time.Unix(sec, nsec) in the local zone (TZ / /etc/localtime via localtime_r). nsec is
 * normalised into [0, 1e9). */
void vc_gotime_local(int64_t sec, int64_t nsec, vc_gotime_t *ret);

/*
 * Parses RFC3339 / RFC3339Nano ("2021-03-30T17:02:32.347018+08:00", "...Z") as Go's
 * time.Time.UnmarshalJSON does: "Z" gives zone "UTC"; a numeric offset gives the local zone
 * when the local offset at that instant is the same, else a nameless zone. The JSON quotes are
 * not part of s. Returns 0, or VC_EPARSE (syntax) / -ERANGE (field out of range).
 */
int vc_gotime_parse_rfc3339(const char *s, vc_gotime_t *ret);

/*
 * time.Time.Format(layout) for the layout elements 2006 01 02 15 04 05 Jan Mon MST -0700
 * -07:00 Z0700 Z07:00 and fractional seconds .000… / .999… (',' works too); everything else
 * is copied. Returns the length, or -ENOBUFS when out (size bytes) is too small.
 */
int vc_gotime_format(const vc_gotime_t *t, const char *layout, char *out, size_t size);

/* time.Unix(0, unix_ns) (local) as encoding/json writes it, without the quotes: RFC3339Nano,
 * trailing zeros of the fraction trimmed, "Z" for a zero offset. Returns the length. */
int vc_format_rfc3339nano_local(int64_t unix_ns, char out[VC_GOTIME_STRLEN_MAX]);

#endif
