/*
 * conf.h: TOML config files (the Go daemons' config.toml), env and flag overrides, writer.
 *
 * The parser is a strict subset of TOML 1.0: comments, bare/quoted/dotted keys, [table],
 * [a.b], [[array of tables]], basic and literal strings (single- and multi-line), integers
 * (decimal with '_', 0x/0o/0b), floats, booleans, arrays, inline tables. Not supported (clear
 * error): dates/times, inf/nan, "\u0000" in strings. Duplicate keys and redefined tables are
 * errors. Limits: VC_CONF_MAX_SIZE bytes, VC_CONF_MAX_DEPTH nesting.
 *
 * The value tree is jansson: tables are objects (insertion order kept), arrays, strings,
 * integers, reals, booleans. Errors are kept in the conf object: after a failing call,
 * vc_conf_error(conf) gives one line such as
 *   "config.toml:12:7: expected '=' after key"   or   "Listen: expected a string".
 *
 * Key paths are dotted ("DB.DSN"). Lookups first match exactly, then case-insensitively
 * (the Go daemons read their files with viper, whose keys are case-insensitive).
 * Not thread-safe: load the config once at start-up, then read plain values out of it.
 */
#ifndef VC_CONF_H
#define VC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vc/util.h"

#define VC_CONF_MAX_SIZE (1024 * 1024)
#define VC_CONF_MAX_DEPTH 32

typedef struct vc_conf vc_conf_t;

/* Empty config (no keys). NULL on OOM. */
vc_conf_t *vc_conf_new(void);
vc_conf_t *vc_conf_free(vc_conf_t *c);
VC_DEFINE_CLEANUP(vc_conf_t *, vc_conf_free)

/* The last error message ("" if none). Valid until the next call on c. */
const char *vc_conf_error(const vc_conf_t *c);

/*
 * Parses TOML text (len bytes, need not be NUL-terminated) and replaces c's contents with it.
 * name labels error messages (e.g. "config.toml"). On failure c is unchanged and the error is
 * VC_EPARSE (syntax/semantics), VC_EDEPTH, VC_ETOOBIG or -ENOMEM.
 */
int vc_conf_parse(vc_conf_t *c, const char *name, const char *text, size_t len);
/* Reads and parses a file. -ENOENT if it does not exist (message set as well). */
int vc_conf_load(vc_conf_t *c, const char *path);

/* Deep-merges src into c: tables merge key by key, any other value in src replaces c's. Use
 * it to lay a parsed file over built-in defaults. */
int vc_conf_merge(vc_conf_t *c, const vc_conf_t *src);

/* The root table (borrowed; owned by c). */
json_t *vc_conf_root(const vc_conf_t *c);
/* The value at a dotted path, or NULL (borrowed). */
json_t *vc_conf_get(const vc_conf_t *c, const char *key);

/*
 * Typed getters. Return 1 when the key is present (value in *ret), 0 when absent (*ret = def),
 * VC_ETYPE when present with the wrong type ("Listen: expected a string"; *ret untouched).
 * Returned strings are borrowed from c.
 */
int vc_conf_get_string(vc_conf_t *c, const char *key, const char *def, const char **ret);
int vc_conf_get_int(vc_conf_t *c, const char *key, int64_t def, int64_t *ret);
int vc_conf_get_uint(vc_conf_t *c, const char *key, uint64_t def, uint64_t *ret);
int vc_conf_get_double(vc_conf_t *c, const char *key, double def, double *ret); /* int ok */
int vc_conf_get_bool(vc_conf_t *c, const char *key, bool def, bool *ret);
/* A Go duration string ("15s", "1m0s", "500ms", bare "15" = seconds) or an integer of
 * nanoseconds (Go's time.Duration), in milliseconds. */
int vc_conf_get_duration_ms(vc_conf_t *c, const char *key, int64_t def_ms, int64_t *ret_ms);
/* An array of strings (a single string counts as one element). *ret is one malloc'ed
 * NULL-terminated vector (free() it once); *ret_n its length (optional). When absent, *ret
 * is an empty vector. */
int vc_conf_get_string_array(vc_conf_t *c, const char *key, char ***ret, size_t *ret_n);

/*
 * Setters create missing parent tables; an existing non-table parent is VC_ETYPE.
 * vc_conf_set_json takes ownership of v (also on failure).
 */
int vc_conf_set_json(vc_conf_t *c, const char *key, json_t *v);
int vc_conf_set_string(vc_conf_t *c, const char *key, const char *v);
int vc_conf_set_int(vc_conf_t *c, const char *key, int64_t v);
int vc_conf_set_double(vc_conf_t *c, const char *key, double v);
int vc_conf_set_bool(vc_conf_t *c, const char *key, bool v);
/* Stored as a Go duration string ("1m0s"), as the Go daemons write them. */
int vc_conf_set_duration_ms(vc_conf_t *c, const char *key, int64_t ms);
/* strv is NULL-terminated (or n >= 0 elements when strv has no terminator: pass n = -1 for
 * NULL-terminated). */
int vc_conf_set_string_array(vc_conf_t *c, const char *key, const char *const *strv, long n);

/*
 * Override from text (env vars, flags). The text is interpreted by the type of the current
 * value: string key -> the text as is (unless it is a quoted TOML string, which is unquoted);
 * integer/float/bool/array/table key -> parsed as a TOML value literal, and for string arrays a
 * non-TOML text is split on ','; absent key -> a TOML literal if the text is one, else a
 * string. A text that does not fit the key's type is VC_ETYPE with a message naming the key.
 */
int vc_conf_set(vc_conf_t *c, const char *key, const char *text);

typedef struct vc_conf_env {
    const char *env; /* variable name after the prefix, e.g. "LISTEN" */
    const char *key; /* dotted key, e.g. "Listen" */
} vc_conf_env_t;

/* For each entry (list ends with {NULL, NULL}): if getenv(prefix + env) is set and non-empty,
 * vc_conf_set(key, value). prefix may be NULL. Returns the number applied, or the first error
 * (message names the variable). */
int vc_conf_apply_env(vc_conf_t *c, const char *prefix, const vc_conf_env_t *map);

/*
 * Writes the tree as TOML in BurntSushi/toml's layout: in every table plain keys first, then
 * sub-tables ("[A]", "  [A.B]") and arrays of tables ("[[A]]"), in insertion order; keys are
 * indented two spaces per level; a blank line before each top-level table. Appends to out.
 */
int vc_conf_write(const vc_conf_t *c, vc_buf_t *out);
/* vc_conf_write to a file, atomically, with the given mode (e.g. 0600). */
int vc_conf_save(vc_conf_t *c, const char *path, unsigned mode);

#endif
