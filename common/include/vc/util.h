/*
 * util.h: the small things every libvc module and daemon uses.
 *
 * Error convention (STYLE.md 2g rule 8): functions that can fail return int, 0 (or a count) on
 * success and a negative errno on failure. Domain errors that errno cannot express use the
 * VC_E* codes below (all in a reserved negative range); vc_strerror() names both kinds.
 */
#ifndef VC_UTIL_H
#define VC_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Project error codes, below every errno value. */
enum {
    VC_E_BASE = -10000,
    VC_EPARSE = VC_E_BASE - 1,     /* malformed input (syntax) */
    VC_ECHECKSUM = VC_E_BASE - 2,  /* checksum mismatch */
    VC_ETRUNC = VC_E_BASE - 3,     /* input ends early */
    VC_EDEPTH = VC_E_BASE - 4,     /* nesting too deep */
    VC_ETOOBIG = VC_E_BASE - 5,    /* input larger than the configured limit */
    VC_ETYPE = VC_E_BASE - 6,      /* wrong type */
    VC_ENOTLEADER = VC_E_BASE - 7, /* this instance does not hold the lease */
    VC_ESTALE = VC_E_BASE - 8,     /* fencing token is stale */
    VC_EVERIFY = VC_E_BASE - 9,    /* signature or token verification failed */
    VC_EPERM = VC_E_BASE - 10,     /* permission denied by the permission model */
    VC_ETRANSPORT = VC_E_BASE - 11,/* network / connection failure (retryable) */
    VC_EREMOTE = VC_E_BASE - 12,   /* remote side answered with an application error */
    VC_EHTTP = VC_E_BASE - 13,     /* remote side answered with an unexpected HTTP status */
    VC_ECLOSED = VC_E_BASE - 14,   /* connection or channel closed */
    VC_E_MIN = VC_E_BASE - 15,
};

/* Text for a negative errno or a VC_E* code. Never NULL; the string is static. */
const char *vc_strerror(int r);

/* Call once at program start (initialises libsodium). Returns 0 or -EIO. Idempotent. */
int vc_init(void);

#define VC_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define VC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VC_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline bool vc_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static inline bool vc_strempty(const char *s)
{
    return !s || !*s;
}

/* Cleanup helpers (GCC/Clang accept the attribute in strict C11 mode). */
static inline void vc_freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(vc_freep)
#define VC_DEFINE_CLEANUP(type, func)                                                              \
    static inline void func##p(type *p)                                                            \
    {                                                                                              \
        if (*p)                                                                                    \
            func(*p);                                                                              \
    }
/* Hand a cleanup variable's pointer out: returns it and sets the variable to NULL. */
#define VC_TAKE_PTR(p)                                                                             \
    ({                                                                                             \
        __typeof__(p) _ptr_ = (p);                                                                 \
        (p) = NULL;                                                                                \
        _ptr_;                                                                                     \
    })

/* Growable byte buffer, always NUL-terminated when data != NULL. */
typedef struct vc_buf {
    char *data;
    size_t len;
    size_t cap;
} vc_buf_t;

int vc_buf_reserve(vc_buf_t *b, size_t extra);
int vc_buf_append(vc_buf_t *b, const void *data, size_t len);
int vc_buf_append_str(vc_buf_t *b, const char *s);
int vc_buf_appendf(vc_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the contents and resets to empty. */
void vc_buf_done(vc_buf_t *b);
/* Hands the data out (caller frees) and resets the buffer; never NULL unless OOM. */
char *vc_buf_steal(vc_buf_t *b);

/* Hex (lowercase). out must hold 2*len+1 bytes. */
void vc_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly len hex chars (even, case-insensitive) into out (len/2 bytes). */
int vc_hex_decode(const char *in, size_t len, uint8_t *out);
/* Allocating variant: *ret is malloc'ed (at least 1 byte), *ret_len its length. */
int vc_hex_decode_alloc(const char *in, uint8_t **ret, size_t *ret_len);

/* Base64: std (with padding, as Go's encoding/json writes []byte) and url-safe without padding
 * (JWT). Encoders return a malloc'ed NUL-terminated string or NULL on OOM. */
char *vc_base64_encode(const uint8_t *in, size_t len);
char *vc_base64url_encode(const uint8_t *in, size_t len);
/* Decoders reject anything but the exact alphabet/padding; *ret is malloc'ed (>= 1 byte). */
int vc_base64_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len);
int vc_base64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len);

/* Checked integer parsing of a whole NUL-terminated string (no sign for unsigned, no spaces). */
int vc_parse_u64(const char *s, uint64_t *ret);
int vc_parse_i64(const char *s, int64_t *ret);
/* Durations: "15s", "500ms", "2m", "1h", "1m30s", or a bare integer of seconds. */
int vc_parse_duration_ms(const char *s, int64_t *ret_ms);

/* Clocks in microseconds. */
int64_t vc_now_mono_us(void);
int64_t vc_now_real_us(void);
/* Sleep that resumes after signals; ms >= 0. */
void vc_sleep_ms(int64_t ms);
/* A condition variable whose timed waits take CLOCK_MONOTONIC deadlines. */
void vc_cond_init_monotonic(pthread_cond_t *c);
/* The CLOCK_MONOTONIC deadline ms (>= 0) from now, for timed waits on such a condition. */
void vc_deadline_mono(struct timespec *ts, int64_t ms);

/* Random bytes from libsodium (vc_init first). */
void vc_random(void *buf, size_t len);
/* Canonical lowercase UUIDv4 string into out[37]. */
void vc_uuid4(char out[37]);
/* Canonical lowercase UUIDv7 (RFC 9562: 48-bit Unix milliseconds, then 74 random bits): ids made
 * later sort after earlier ones (to the millisecond), so a B-tree index of them grows at its end
 * instead of touching a random page per insert. */
void vc_uuid7(char out[37]);

/* Files. vc_read_file reads at most max bytes (-EFBIG beyond); *ret is NUL-terminated. */
int vc_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes atomically and durably (temp file, fsync, rename, fsync of the directory) with the
 * given mode: once it returns 0 the new content survives a power loss. */
int vc_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* mkdir -p with mode for created directories. */
int vc_mkdir_p(const char *path, unsigned mode);
/* Expands a leading "~/" with $HOME. Returns a malloc'ed string or NULL on OOM. */
char *vc_expand_home(const char *path);
/* "dir/file", malloc'ed (NULL on OOM). */
char *vc_path_join(const char *dir, const char *file);
/* The contents of a small text file (at most max bytes) without trailing whitespace, such as
 * a daemon's <repo>/token or <repo>/api; malloc'ed, NULL when absent or unreadable. */
char *vc_read_trimmed(const char *path, size_t max);

/* Splits s at sep into a NULL-terminated vector in one allocation (free() it): blanks around
 * entries are dropped, empty entries skipped ("a, b,,c" -> "a","b","c"). *ret_n (optional) gets
 * the count, which may be 0. -ENOMEM. For config values that list URLs in one string. */
int vc_strv_split(const char *s, char sep, char ***ret, size_t *ret_n);

#endif
