/* log.c: leveled, key=value or JSON lines to stderr or a file. */
#include "vc/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "vc/util.h"

static atomic_int log_level = VC_LOG_INFO;
static atomic_bool log_json = false;
static FILE *log_file; /* NULL = stderr */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[VC_LOG_LEVEL_MAX] = {"debug", "info", "notice", "warn",
                                                          "error"};

void vc_log_set_level(vc_log_level_t level)
{
    if (level >= 0 && level < VC_LOG_LEVEL_MAX)
        atomic_store(&log_level, (int)level);
}

vc_log_level_t vc_log_get_level(void)
{
    return (vc_log_level_t)atomic_load(&log_level);
}

int vc_log_level_from_string(const char *s, vc_log_level_t *ret)
{
    if (!s)
        return -EINVAL;
    for (int i = 0; i < VC_LOG_LEVEL_MAX; i++)
        if (strcasecmp(s, level_names[i]) == 0) {
            *ret = (vc_log_level_t)i;
            return 0;
        }
    if (strcasecmp(s, "warning") == 0) {
        *ret = VC_LOG_WARNING;
        return 0;
    }
    return -EINVAL;
}

const char *vc_log_level_to_string(vc_log_level_t level)
{
    return level >= 0 && level < VC_LOG_LEVEL_MAX ? level_names[level] : "unknown";
}

void vc_log_set_json(bool json)
{
    atomic_store(&log_json, json);
}

int vc_log_set_file(const char *path)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "ae");
        if (!f)
            return -errno;
        setvbuf(f, NULL, _IOLBF, 0);
    }
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

bool vc_log_enabled(vc_log_level_t level)
{
    return (int)level >= atomic_load(&log_level);
}

static void append_time(vc_buf_t *b)
{
    struct timespec ts;
    struct tm tm;
    char tmp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
    vc_buf_appendf(b, "%s.%03ldZ", tmp, ts.tv_nsec / 1000000);
}

static bool needs_quotes(const char *v)
{
    if (!*v)
        return true;
    for (const char *p = v; *p; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
            return true;
    return false;
}

/* JSON string escape (also used for quoted key=value values). */
static void append_escaped(vc_buf_t *b, const char *s)
{
    vc_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            vc_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            vc_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            vc_buf_append(b, "\\n", 2);
            break;
        case '\t':
            vc_buf_append(b, "\\t", 2);
            break;
        case '\r':
            vc_buf_append(b, "\\r", 2);
            break;
        default:
            if (*p < 0x20)
                vc_buf_appendf(b, "\\u%04x", *p);
            else
                vc_buf_append(b, p, 1);
        }
    }
    vc_buf_append(b, "\"", 1);
}

static void emit(vc_log_level_t level, const char *component, const char *msg, va_list kv)
{
    vc_buf_t b = {0};
    bool json = atomic_load(&log_json);

    if (json) {
        vc_buf_append_str(&b, "{\"ts\":\"");
        append_time(&b);
        vc_buf_appendf(&b, "\",\"level\":\"%s\"", level_names[level]);
        if (component) {
            vc_buf_append_str(&b, ",\"component\":");
            append_escaped(&b, component);
        }
        vc_buf_append_str(&b, ",\"msg\":");
        append_escaped(&b, msg);
    } else {
        append_time(&b);
        vc_buf_appendf(&b, " %-6s ", level_names[level]);
        if (component)
            vc_buf_appendf(&b, "%s: ", component);
        vc_buf_append_str(&b, msg);
    }
    for (;;) {
        const char *k = va_arg(kv, const char *);
        if (!k)
            break;
        const char *v = va_arg(kv, const char *);
        if (!v)
            v = "";
        if (json) {
            vc_buf_append(&b, ",", 1);
            append_escaped(&b, k);
            vc_buf_append(&b, ":", 1);
            append_escaped(&b, v);
        } else {
            vc_buf_appendf(&b, " %s=", k);
            if (needs_quotes(v))
                append_escaped(&b, v);
            else
                vc_buf_append_str(&b, v);
        }
    }
    if (json)
        vc_buf_append(&b, "}", 1);
    vc_buf_append(&b, "\n", 1);
    if (b.data) {
        pthread_mutex_lock(&log_lock);
        FILE *f = log_file ? log_file : stderr;
        fwrite(b.data, 1, b.len, f);
        fflush(f);
        pthread_mutex_unlock(&log_lock);
    }
    vc_buf_done(&b);
}

void vc_logkv(vc_log_level_t level, const char *component, const char *msg, ...)
{
    va_list ap;
    if (!vc_log_enabled(level))
        return;
    va_start(ap, msg);
    emit(level, component, msg, ap);
    va_end(ap);
}

static void emit_plain(vc_log_level_t level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    emit(level, NULL, msg, ap);
    va_end(ap);
}

void vc_log(vc_log_level_t level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    if (!vc_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    emit_plain(level, msg, NULL);
}

int vc_log_errno(vc_log_level_t level, int r, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    if (!vc_log_enabled(level))
        return r;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", vc_strerror(r));
    emit_plain(level, msg, NULL);
    return r;
}
