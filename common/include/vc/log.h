/*
 * log.h: one logger for every daemon.
 *
 * Lines go to stderr (or a file) as
 *   2026-11-21T19:10:00.123Z INFO  component: message key=value key2="quoted value"
 * or, with vc_log_set_json(true), as one JSON object per line. Library code logs at debug only
 * (STYLE.md rule 19); daemons log once where an error is handled.
 */
#ifndef VC_LOG_H
#define VC_LOG_H

#include <stdbool.h>

typedef enum vc_log_level {
    VC_LOG_DEBUG,
    VC_LOG_INFO,
    VC_LOG_NOTICE,
    VC_LOG_WARNING,
    VC_LOG_ERROR,
    VC_LOG_LEVEL_MAX,
} vc_log_level_t;

void vc_log_set_level(vc_log_level_t level);
vc_log_level_t vc_log_get_level(void);
/* "debug", "info", "notice", "warn"/"warning", "error" (case-insensitive). */
int vc_log_level_from_string(const char *s, vc_log_level_t *ret);
const char *vc_log_level_to_string(vc_log_level_t level);
void vc_log_set_json(bool json);
/* Appends to path instead of stderr; NULL goes back to stderr. */
int vc_log_set_file(const char *path);
bool vc_log_enabled(vc_log_level_t level);

/*
 * Logs one line. fmt is printf-style and forms the message. After the message, kv is a
 * NULL-terminated list of key, value string pairs (values quoted when needed), e.g.
 *   vc_logkv(VC_LOG_INFO, "miner", "mined block", "miner", "f01000", "epoch", "12", NULL);
 */
void vc_logkv(vc_log_level_t level, const char *component, const char *msg, ...);
void vc_log(vc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs "<fmt>: <vc_strerror(r)>" and returns r (r must be negative). */
int vc_log_errno(vc_log_level_t level, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define vc_debug(...) vc_log(VC_LOG_DEBUG, __VA_ARGS__)
#define vc_info(...) vc_log(VC_LOG_INFO, __VA_ARGS__)
#define vc_notice(...) vc_log(VC_LOG_NOTICE, __VA_ARGS__)
#define vc_warning(...) vc_log(VC_LOG_WARNING, __VA_ARGS__)
#define vc_error(...) vc_log(VC_LOG_ERROR, __VA_ARGS__)

#endif
