/* util.c: errors, buffers, hex/base64, checked parsing, clocks, files. */
#include "vc/util.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

const char *vc_strerror(int r)
{
    switch (r) {
    case 0:
        return "success";
    case VC_EPARSE:
        return "malformed input";
    case VC_ECHECKSUM:
        return "checksum mismatch";
    case VC_ETRUNC:
        return "input truncated";
    case VC_EDEPTH:
        return "nesting too deep";
    case VC_ETOOBIG:
        return "input too large";
    case VC_ETYPE:
        return "wrong type";
    case VC_ENOTLEADER:
        return "not the leader";
    case VC_ESTALE:
        return "stale fencing token";
    case VC_EVERIFY:
        return "verification failed";
    case VC_EPERM:
        return "permission denied";
    case VC_ETRANSPORT:
        return "transport error";
    case VC_EREMOTE:
        return "remote error";
    case VC_EHTTP:
        return "unexpected HTTP status";
    case VC_ECLOSED:
        return "connection closed";
    default:
        break;
    }
    if (r < 0 && r > VC_E_BASE)
        return strerror(-r);
    return "unknown error";
}

int vc_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

/* ---- buffers ---- */

int vc_buf_reserve(vc_buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    if (!b->data)
        p[0] = 0; /* a fresh buffer is an empty string */
    b->data = p;
    b->cap = cap;
    return 0;
}

int vc_buf_append(vc_buf_t *b, const void *data, size_t len)
{
    int r = vc_buf_reserve(b, len);
    if (r < 0)
        return r;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int vc_buf_append_str(vc_buf_t *b, const char *s)
{
    return vc_buf_append(b, s, strlen(s));
}

int vc_buf_appendf(vc_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[256];

    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(tmp))
        return vc_buf_append(b, tmp, (size_t)n);
    int r = vc_buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void vc_buf_done(vc_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *vc_buf_steal(vc_buf_t *b)
{
    if (!b->data && vc_buf_reserve(b, 0) < 0)
        return NULL;
    char *p = b->data;
    p[b->len] = 0;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- hex / base64 ---- */

void vc_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = 0;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vc_hex_decode(const char *in, size_t len, uint8_t *out)
{
    if (len % 2)
        return VC_EPARSE;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = unhex(in[2 * i]), lo = unhex(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return VC_EPARSE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int vc_hex_decode_alloc(const char *in, uint8_t **ret, size_t *ret_len)
{
    size_t len = strlen(in);
    uint8_t *p = malloc(len / 2 + 1);
    if (!p)
        return -ENOMEM;
    int r = vc_hex_decode(in, len, p);
    if (r < 0) {
        free(p);
        return r;
    }
    *ret = p;
    *ret_len = len / 2;
    return 0;
}

static char *b64_encode(const uint8_t *in, size_t len, int variant)
{
    size_t n = sodium_base64_encoded_len(len, variant);
    char *out = malloc(n);
    if (!out)
        return NULL;
    sodium_bin2base64(out, n, in, len, variant);
    return out;
}

char *vc_base64_encode(const uint8_t *in, size_t len)
{
    return b64_encode(in, len, sodium_base64_VARIANT_ORIGINAL);
}

char *vc_base64url_encode(const uint8_t *in, size_t len)
{
    return b64_encode(in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int b64_decode(const char *in, size_t len, int variant, uint8_t **ret, size_t *ret_len)
{
    size_t cap = len / 4 * 3 + 3;
    uint8_t *out = malloc(cap + 1);
    size_t n = 0;
    const char *end = NULL;
    if (!out)
        return -ENOMEM;
    if (sodium_base642bin(out, cap, in, len, NULL, &n, &end, variant) != 0 || end != in + len) {
        free(out);
        return VC_EPARSE;
    }
    *ret = out;
    *ret_len = n;
    return 0;
}

int vc_base64_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
    return b64_decode(in, len, sodium_base64_VARIANT_ORIGINAL, ret, ret_len);
}

int vc_base64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
    return b64_decode(in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING, ret, ret_len);
}

/* ---- checked parsing ---- */

int vc_parse_u64(const char *s, uint64_t *ret)
{
    uint64_t v = 0;
    if (vc_strempty(s))
        return VC_EPARSE;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return VC_EPARSE;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *ret = v;
    return 0;
}

int vc_parse_i64(const char *s, int64_t *ret)
{
    bool neg = false;
    uint64_t v;
    if (!s)
        return VC_EPARSE;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    int r = vc_parse_u64(s, &v);
    if (r < 0)
        return r;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -ERANGE;
        *ret = (int64_t)v;
    }
    return 0;
}

int vc_parse_duration_ms(const char *s, int64_t *ret_ms)
{
    int64_t total = 0;
    uint64_t plain;
    if (vc_strempty(s))
        return VC_EPARSE;
    if (vc_parse_u64(s, &plain) == 0) {
        if (plain > INT64_MAX / 1000)
            return -ERANGE;
        *ret_ms = (int64_t)plain * 1000;
        return 0;
    }
    const char *p = s;
    while (*p) {
        uint64_t v = 0, frac = 0, fdiv = 1;
        if (*p < '0' || *p > '9')
            return VC_EPARSE;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > UINT64_MAX / 10 - 10)
                return -ERANGE;
            v = v * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
            p++;
            for (; *p >= '0' && *p <= '9'; p++)
                if (fdiv < 1000000000) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    fdiv *= 10;
                }
        }
        int64_t unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 'h') {
            unit = 3600000;
            p++;
        } else if (*p == 'm') {
            unit = 60000;
            p++;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else
            return VC_EPARSE;
        if (v > (uint64_t)(INT64_MAX / unit) || total > INT64_MAX - (int64_t)v * unit)
            return -ERANGE;
        total += (int64_t)v * unit + (int64_t)(frac * (uint64_t)unit / fdiv);
    }
    *ret_ms = total;
    return 0;
}

/* ---- clocks ---- */

int64_t vc_now_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t vc_now_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void vc_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void vc_cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

void vc_deadline_mono(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void vc_random(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}

/* UUIDs come from a per-thread pool of random bytes: one getrandom per 32 UUIDs instead of one
 * each. A forked child (where only the forking thread lives on) drops its copy of the pool, so
 * it does not repeat its parent's UUIDs. */
static _Thread_local struct {
    uint8_t bytes[512];
    size_t used;
} uuid_pool = {.used = sizeof(uuid_pool.bytes)};
static pthread_once_t uuid_once = PTHREAD_ONCE_INIT;

static void uuid_pool_drop(void)
{
    uuid_pool.used = sizeof(uuid_pool.bytes);
}

static void uuid_pool_init(void)
{
    pthread_atfork(NULL, NULL, uuid_pool_drop);
}

/* 16 random bytes of the thread's pool (consumed). */
static uint8_t *uuid_random16(void)
{
    pthread_once(&uuid_once, uuid_pool_init);
    if (uuid_pool.used + 16 > sizeof(uuid_pool.bytes)) {
        vc_random(uuid_pool.bytes, sizeof(uuid_pool.bytes));
        uuid_pool.used = 0;
    }
    uint8_t *b = uuid_pool.bytes + uuid_pool.used;
    uuid_pool.used += 16;
    return b;
}

/* b[16] with its version nibble set -> the canonical text; b is wiped. */
static void uuid_format(uint8_t *b, unsigned version, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    b[6] = (uint8_t)((b[6] & 0x0f) | (version << 4));
    b[8] = (b[8] & 0x3f) | 0x80;
    for (size_t i = 0, o = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[36] = 0;
    sodium_memzero(b, 16);
}

void vc_uuid4(char out[37])
{
    uuid_format(uuid_random16(), 4, out);
}

void vc_uuid7(char out[37])
{
    uint8_t *b = uuid_random16();
    uint64_t ms = (uint64_t)(vc_now_real_us() / 1000);
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    uuid_format(b, 7, out);
}

/* ---- files ---- */

int vc_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    vc_buf_t b = {0};
    char chunk[8192];
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            r = -EFBIG;
            break;
        }
        r = vc_buf_append(&b, chunk, (size_t)n);
        if (r < 0)
            break;
    }
    close(fd);
    if (r < 0) {
        vc_buf_done(&b);
        return r;
    }
    if (ret_len)
        *ret_len = b.len;
    *ret = vc_buf_steal(&b);
    return *ret ? 0 : -ENOMEM;
}

/* fsync of the directory holding path (its entries: a new or renamed file). */
static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return -ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r == -EINVAL ? 0 : r; /* a file system that cannot sync directories */
}

int vc_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, plen + 16, "%s.tmp%06u", path, (unsigned)(randombytes_random() % 1000000));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    int r = 0;
    if (fd < 0) {
        r = -errno;
        free(tmp);
        return r;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (r == 0 && fchmod(fd, (mode_t)mode) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    else
        r = fsync_parent(path); /* the rename itself survives a power loss only then */
    free(tmp);
    return r;
}

int vc_mkdir_p(const char *path, unsigned mode)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
            int r = -errno;
            free(p);
            return r;
        }
        *s = '/';
    }
    int r = 0;
    if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
        r = -errno;
    free(p);
    return r;
}

char *vc_expand_home(const char *path)
{
    if (strncmp(path, "~/", 2) != 0 && strcmp(path, "~") != 0)
        return strdup(path);
    const char *home = getenv("HOME");
    if (vc_strempty(home))
        home = "/";
    size_t n = strlen(home) + strlen(path) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s", home, path + 1);
    return out;
}

char *vc_path_join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

char *vc_read_trimmed(const char *path, size_t max)
{
    char *d = NULL;
    size_t n = 0;
    if (!path || vc_read_file(path, max, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == '\r' || d[n - 1] == ' ' || d[n - 1] == '\t'))
        d[--n] = 0;
    return d;
}

int vc_strv_split(const char *s, char sep, char ***ret, size_t *ret_n)
{
    size_t n = 1, len = s ? strlen(s) : 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == sep;
    char **v = malloc((n + 1) * sizeof(*v) + len + 1);
    if (!v)
        return -ENOMEM;
    char *text = (char *)(v + n + 1);
    memcpy(text, s ? s : "", len + 1);
    size_t k = 0;
    for (char *p = text, *next; p; p = next) {
        next = strchr(p, sep);
        if (next)
            *next++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        char *e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (*p)
            v[k++] = p;
    }
    v[k] = NULL;
    *ret = v;
    if (ret_n)
        *ret_n = k;
    return 0;
}
