/* conf.c: strict TOML subset parser, typed getters, overrides and a BurntSushi-style writer. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vc/conf.h"
#include "vc/gofmt.h"

struct vc_conf {
    json_t *root;
    char err[512];
};

/* ---------------------------------------------------------------------------------------------
 * Parser state
 */

/* How a table or array came to exist; decides what may later extend it. */
enum {
    T_EXPLICIT = 1, /* defined by a [header] */
    T_IMPLICIT = 2, /* created as a parent of a [a.b] header: may be defined once later */
    T_DOTTED = 4,   /* created by a dotted key: extendable by dotted keys, never by [header] */
    T_FROZEN = 8,   /* inline table or array literal: never extended */
    T_AOT = 16,     /* array created by [[header]] */
};

typedef struct meta {
    const json_t **keys;
    uint8_t *flags;
    size_t cap, n;
} meta_t;

typedef struct parser {
    const char *name;
    const char *p, *end, *line_start;
    unsigned line;
    char *err;
    size_t errsz;
    bool failed;
    meta_t meta;
    json_t *root, *cur;
} parser_t;

typedef struct keypath {
    char *k[VC_CONF_MAX_DEPTH];
    size_t n;
} keypath_t;

static void keypath_done(keypath_t *kp)
{
    for (size_t i = 0; i < kp->n; i++)
        free(kp->k[i]);
    kp->n = 0;
}

static size_t meta_slot(const meta_t *m, const json_t *p)
{
    uint64_t h = ((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 32) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != p)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int meta_set(meta_t *m, const json_t *p, uint8_t flags)
{
    if ((m->n + 1) * 2 > m->cap) {
        meta_t nm = {.cap = m->cap ? m->cap * 2 : 64};
        nm.keys = calloc(nm.cap, sizeof(*nm.keys));
        nm.flags = calloc(nm.cap, 1);
        if (!nm.keys || !nm.flags) {
            free(nm.keys);
            free(nm.flags);
            return -ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = meta_slot(&nm, m->keys[i]);
                nm.keys[j] = m->keys[i];
                nm.flags[j] = m->flags[i];
                nm.n++;
            }
        free(m->keys);
        free(m->flags);
        *m = nm;
    }
    size_t i = meta_slot(m, p);
    if (!m->keys[i])
        m->n++;
    m->keys[i] = p;
    m->flags[i] = flags;
    return 0;
}

static uint8_t meta_get(const meta_t *m, const json_t *p)
{
    if (!m->cap)
        return 0;
    size_t i = meta_slot(m, p);
    return m->keys[i] ? m->flags[i] : 0;
}

static void meta_done(meta_t *m)
{
    free(m->keys);
    free(m->flags);
    *m = (meta_t){0};
}

static unsigned column(const parser_t *ps)
{
    unsigned col = 1;
    for (const char *q = ps->line_start; q < ps->p && q < ps->end; q++)
        if (((unsigned char)*q & 0xc0) != 0x80)
            col++;
    return col;
}

static int fail(parser_t *ps, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser_t *ps, int r, const char *fmt, ...)
{
    if (ps->failed)
        return r;
    ps->failed = true;
    if (ps->err && ps->errsz) {
        va_list ap;
        int n = snprintf(ps->err, ps->errsz, "%s:%u:%u: ", ps->name, ps->line, column(ps));
        if (n < 0 || (size_t)n >= ps->errsz)
            return r;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errsz - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return r;
}

static int oom(parser_t *ps)
{
    return fail(ps, -ENOMEM, "out of memory");
}

static int peek(const parser_t *ps, size_t off)
{
    return ps->p + off < ps->end ? (unsigned char)ps->p[off] : -1;
}

static bool at_newline(const parser_t *ps)
{
    return peek(ps, 0) == '\n' || (peek(ps, 0) == '\r' && peek(ps, 1) == '\n');
}

static void eat_newline(parser_t *ps)
{
    ps->p += peek(ps, 0) == '\r' ? 2 : 1;
    ps->line++;
    ps->line_start = ps->p;
}

static void skip_ws(parser_t *ps)
{
    while (peek(ps, 0) == ' ' || peek(ps, 0) == '\t')
        ps->p++;
}

/* Length of a valid UTF-8 sequence at s (code point in *cp), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s >= end)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        n = 2, c = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3, c = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else
        return 0;
    if ((size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

static bool is_ctrl(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static int skip_comment(parser_t *ps)
{
    ps->p++; /* '#' */
    while (ps->p < ps->end && !at_newline(ps)) {
        int c = peek(ps, 0);
        uint32_t cp;
        if (is_ctrl(c))
            return fail(ps, VC_EPARSE, "control character in comment");
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)ps->p, (const unsigned char *)ps->end, &cp);
            if (!n)
                return fail(ps, VC_EPARSE, "invalid UTF-8 in comment");
            ps->p += n;
        } else
            ps->p++;
    }
    return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int skip_ws_nl(parser_t *ps)
{
    for (;;) {
        skip_ws(ps);
        if (peek(ps, 0) == '#') {
            int r = skip_comment(ps);
            if (r < 0)
                return r;
        } else if (at_newline(ps))
            eat_newline(ps);
        else
            return 0;
    }
}

static int end_of_line(parser_t *ps, const char *what)
{
    skip_ws(ps);
    if (peek(ps, 0) == '#') {
        int r = skip_comment(ps);
        if (r < 0)
            return r;
    }
    if (ps->p >= ps->end)
        return 0;
    if (!at_newline(ps))
        return fail(ps, VC_EPARSE, "unexpected text after %s", what);
    eat_newline(ps);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Strings
 */

static int buf_put_utf8(vc_buf_t *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xc0 | (cp >> 6)), s[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xe0 | (cp >> 12)), s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        s[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        s[0] = (char)(0xf0 | (cp >> 18)), s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), s[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    return vc_buf_append(b, s, n);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Parses a string starting at the opening quote. allow_ml: multi-line forms allowed (values,
 * not keys). *ret is malloc'ed, NUL-terminated (strings never contain NUL).
 */
static int parse_string(parser_t *ps, bool allow_ml, char **ret)
{
    vc_buf_t b = {0};
    char q = *ps->p;
    bool literal = q == '\'';
    bool ml = allow_ml && peek(ps, 1) == q && peek(ps, 2) == q;
    int r = 0;

    ps->p += ml ? 3 : 1;
    if (ml && at_newline(ps))
        eat_newline(ps);
    if (vc_buf_reserve(&b, 16) < 0)
        return oom(ps);
    b.data[0] = 0; /* vc_buf_reserve does not terminate a fresh buffer */
    for (;;) {
        int c = peek(ps, 0);
        if (c < 0) {
            r = fail(ps, VC_EPARSE, "unterminated string");
            goto out;
        }
        if (c == q) {
            if (!ml) {
                ps->p++;
                break;
            }
            size_t run = 0;
            while (peek(ps, run) == q && run < 5)
                run++;
            if (run >= 3) {
                if (vc_buf_append(&b, ps->p, run - 3) < 0) {
                    r = oom(ps);
                    goto out;
                }
                ps->p += run;
                break;
            }
            if (vc_buf_append(&b, ps->p, run) < 0) {
                r = oom(ps);
                goto out;
            }
            ps->p += run;
            continue;
        }
        if (c == '\\' && !literal) {
            int e = peek(ps, 1);
            if (ml && (e == ' ' || e == '\t' || e == '\n' || e == '\r')) {
                /* line-ending backslash: only whitespace may follow on the line */
                ps->p++;
                skip_ws(ps);
                if (!at_newline(ps)) {
                    r = fail(ps, VC_EPARSE, "invalid escape sequence");
                    goto out;
                }
                while (peek(ps, 0) == ' ' || peek(ps, 0) == '\t' || at_newline(ps)) {
                    if (at_newline(ps))
                        eat_newline(ps);
                    else
                        ps->p++;
                }
                continue;
            }
            char ch = 0;
            switch (e) {
            case 'b':
                ch = '\b';
                break;
            case 't':
                ch = '\t';
                break;
            case 'n':
                ch = '\n';
                break;
            case 'f':
                ch = '\f';
                break;
            case 'r':
                ch = '\r';
                break;
            case '"':
                ch = '"';
                break;
            case '\\':
                ch = '\\';
                break;
            case 'u':
            case 'U': {
                int nd = e == 'u' ? 4 : 8;
                uint32_t cp = 0;
                for (int i = 0; i < nd; i++) {
                    int h = hexval(peek(ps, 2 + (size_t)i));
                    if (h < 0) {
                        r = fail(ps, VC_EPARSE, "invalid unicode escape");
                        goto out;
                    }
                    cp = (cp << 4) | (uint32_t)h;
                }
                if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                    r = fail(ps, VC_EPARSE, "invalid unicode escape (code point %" PRIu32 ")", cp);
                    goto out;
                }
                if (buf_put_utf8(&b, cp) < 0) {
                    r = oom(ps);
                    goto out;
                }
                ps->p += 2 + (size_t)nd;
                continue;
            }
            default:
                if (e >= 0x20 && e < 0x7f)
                    r = fail(ps, VC_EPARSE, "invalid escape sequence '\\%c'", e);
                else
                    r = fail(ps, VC_EPARSE, "invalid escape sequence");
                goto out;
            }
            if (vc_buf_append(&b, &ch, 1) < 0) {
                r = oom(ps);
                goto out;
            }
            ps->p += 2;
            continue;
        }
        if (at_newline(ps)) {
            if (!ml) {
                r = fail(ps, VC_EPARSE, "newline in string (missing closing quote?)");
                goto out;
            }
            eat_newline(ps);
            if (vc_buf_append(&b, "\n", 1) < 0) {
                r = oom(ps);
                goto out;
            }
            continue;
        }
        if (is_ctrl(c)) {
            r = fail(ps, VC_EPARSE, "control character in string");
            goto out;
        }
        size_t n = 1;
        if (c >= 0x80) {
            uint32_t cp;
            n = utf8_seq((const unsigned char *)ps->p, (const unsigned char *)ps->end, &cp);
            if (!n) {
                r = fail(ps, VC_EPARSE, "invalid UTF-8 in string");
                goto out;
            }
        }
        if (vc_buf_append(&b, ps->p, n) < 0) {
            r = oom(ps);
            goto out;
        }
        ps->p += n;
    }
    *ret = vc_buf_steal(&b);
    if (!*ret)
        return oom(ps);
    return 0;
out:
    vc_buf_done(&b);
    return r;
}

/* ---------------------------------------------------------------------------------------------
 * Keys
 */

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int parse_key(parser_t *ps, keypath_t *kp)
{
    int r;
    kp->n = 0;
    for (;;) {
        char *k = NULL;
        skip_ws(ps);
        if (kp->n >= VC_CONF_MAX_DEPTH)
            return fail(ps, VC_EDEPTH, "key has more than %d parts", VC_CONF_MAX_DEPTH);
        int c = peek(ps, 0);
        if (c == '"' || c == '\'') {
            r = parse_string(ps, false, &k);
            if (r < 0)
                return r;
        } else if (is_bare(c)) {
            const char *s = ps->p;
            while (is_bare(peek(ps, 0)))
                ps->p++;
            k = strndup(s, (size_t)(ps->p - s));
            if (!k)
                return oom(ps);
        } else
            return fail(ps, VC_EPARSE, "expected a key");
        kp->k[kp->n++] = k;
        skip_ws(ps);
        if (peek(ps, 0) != '.')
            return 0;
        ps->p++;
    }
}

static const char *keypath_str(const keypath_t *kp, size_t upto, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = 0;
    for (size_t i = 0; i < upto && i < kp->n; i++) {
        int n = snprintf(buf + pos, size - pos, "%s%s", i ? "." : "", kp->k[i]);
        if (n < 0 || (size_t)n >= size - pos)
            break;
        pos += (size_t)n;
    }
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * Values
 */

static int parse_value(parser_t *ps, int depth, json_t **ret);
static int parse_keyval(parser_t *ps, json_t *tbl, int depth);

static bool digits_ok(const char *s, size_t n, int base)
{
    /* digits with single '_' between digits */
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i == n - 1 || s[i - 1] == '_')
                return false;
            continue;
        }
        int h = hexval((unsigned char)s[i]);
        if (h < 0 || h >= base)
            return false;
    }
    return true;
}

static int parse_number(parser_t *ps, const char *tok, size_t n, json_t **ret)
{
    const char *s = tok;
    bool neg = false, has_sign = false;
    char clean[512];
    size_t cn = 0;

    if (n >= sizeof(clean))
        return fail(ps, VC_EPARSE, "number too long");
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        has_sign = true;
        s++, n--;
    }
    if (n == 0)
        return fail(ps, VC_EPARSE, "invalid number");
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        uint64_t v = 0;
        if (has_sign)
            return fail(ps, VC_EPARSE, "sign not allowed on a non-decimal integer");
        if (!digits_ok(s + 2, n - 2, base))
            return fail(ps, VC_EPARSE, "invalid integer");
        for (size_t i = 2; i < n; i++) {
            if (s[i] == '_')
                continue;
            uint64_t d = (uint64_t)hexval((unsigned char)s[i]);
            if (v > ((uint64_t)INT64_MAX - d) / (uint64_t)base)
                return fail(ps, VC_EPARSE, "integer out of range");
            v = v * (uint64_t)base + d;
        }
        *ret = json_integer((json_int_t)v);
        return *ret ? 0 : oom(ps);
    }
    /* split into int part, fraction, exponent */
    size_t i = 0;
    while (i < n && s[i] != '.' && s[i] != 'e' && s[i] != 'E')
        i++;
    if (!digits_ok(s, i, 10))
        return fail(ps, VC_EPARSE, "invalid number");
    if (s[0] == '0' && i > 1)
        return fail(ps, VC_EPARSE, "leading zeros are not allowed");
    if (i == n) {
        uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t k = 0; k < n; k++) {
            if (s[k] == '_')
                continue;
            uint64_t d = (uint64_t)(s[k] - '0');
            if (v > (lim - d) / 10)
                return fail(ps, VC_EPARSE, "integer out of range");
            v = v * 10 + d;
        }
        json_int_t iv = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v) : (json_int_t)v;
        *ret = json_integer(iv);
        return *ret ? 0 : oom(ps);
    }
    /* float */
    size_t j = i;
    if (s[j] == '.') {
        size_t f0 = ++j;
        while (j < n && s[j] != 'e' && s[j] != 'E')
            j++;
        if (!digits_ok(s + f0, j - f0, 10))
            return fail(ps, VC_EPARSE, "invalid float");
    }
    if (j < n) {
        size_t e0 = ++j; /* after 'e' */
        if (j < n && (s[j] == '+' || s[j] == '-'))
            e0 = ++j;
        if (!digits_ok(s + e0, n - e0, 10))
            return fail(ps, VC_EPARSE, "invalid float exponent");
    }
    if (neg)
        clean[cn++] = '-';
    for (size_t k = 0; k < n; k++)
        if (s[k] != '_')
            clean[cn++] = s[k];
    clean[cn] = 0;
    errno = 0;
    char *endp;
    double d = strtod(clean, &endp);
    if (*endp || !isfinite(d))
        return fail(ps, VC_EPARSE, "float out of range");
    *ret = json_real(d);
    return *ret ? 0 : oom(ps);
}

static bool tok_char(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

static int parse_scalar(parser_t *ps, json_t **ret)
{
    const char *s = ps->p;
    while (tok_char(peek(ps, 0)))
        ps->p++;
    size_t n = (size_t)(ps->p - s);
    if (n == 0) {
        int c = peek(ps, 0);
        if (c < 0 || c == '\n' || c == '\r' || c == '#')
            return fail(ps, VC_EPARSE, "expected a value");
        if (c >= 0x20 && c < 0x7f)
            return fail(ps, VC_EPARSE, "unexpected character '%c' (expected a value)", c);
        return fail(ps, VC_EPARSE, "unexpected character (expected a value)");
    }
    if (n == 4 && memcmp(s, "true", 4) == 0) {
        *ret = json_true();
        return 0;
    }
    if (n == 5 && memcmp(s, "false", 5) == 0) {
        *ret = json_false();
        return 0;
    }
    const char *u = (*s == '+' || *s == '-') ? s + 1 : s;
    size_t un = n - (size_t)(u - s);
    if ((un == 3 && (memcmp(u, "inf", 3) == 0 || memcmp(u, "nan", 3) == 0))) {
        ps->p = s;
        return fail(ps, VC_EPARSE, "inf and nan are not supported");
    }
    if ((n >= 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[3]) && s[4] == '-') ||
        (n >= 3 && isdigit((unsigned char)s[0]) && s[2] == ':')) {
        ps->p = s;
        return fail(ps, VC_EPARSE, "dates and times are not supported (use a string)");
    }
    if (un == 0 || !isdigit((unsigned char)*u)) {
        ps->p = s;
        return fail(ps, VC_EPARSE, "invalid value '%.*s' (strings must be quoted)", (int)VC_MIN(n, 64), s);
    }
    const char *save = ps->p;
    ps->p = s; /* point errors at the start of the number */
    int r = parse_number(ps, s, n, ret);
    if (r >= 0)
        ps->p = save;
    return r;
}

static int parse_array(parser_t *ps, int depth, json_t **ret)
{
    json_t *a = json_array();
    int r;
    if (!a || meta_set(&ps->meta, a, T_FROZEN) < 0) {
        json_decref(a);
        return oom(ps);
    }
    ps->p++; /* '[' */
    for (;;) {
        json_t *v;
        if ((r = skip_ws_nl(ps)) < 0)
            goto fail;
        if (peek(ps, 0) == ']') {
            ps->p++;
            break;
        }
        if (ps->p >= ps->end) {
            r = fail(ps, VC_EPARSE, "unterminated array");
            goto fail;
        }
        if ((r = parse_value(ps, depth + 1, &v)) < 0)
            goto fail;
        if (json_array_append_new(a, v) < 0) {
            r = oom(ps);
            goto fail;
        }
        if ((r = skip_ws_nl(ps)) < 0)
            goto fail;
        if (peek(ps, 0) == ',') {
            ps->p++;
            continue;
        }
        if (peek(ps, 0) == ']') {
            ps->p++;
            break;
        }
        r = fail(ps, VC_EPARSE, ps->p >= ps->end ? "unterminated array" : "expected ',' or ']' in array");
        goto fail;
    }
    *ret = a;
    return 0;
fail:
    json_decref(a);
    return r;
}

static int parse_inline_table(parser_t *ps, int depth, json_t **ret)
{
    json_t *t = json_object();
    int r;
    if (!t || meta_set(&ps->meta, t, T_FROZEN) < 0) {
        json_decref(t);
        return oom(ps);
    }
    ps->p++; /* '{' */
    skip_ws(ps);
    if (peek(ps, 0) == '}') {
        ps->p++;
        *ret = t;
        return 0;
    }
    for (;;) {
        if ((r = parse_keyval(ps, t, depth + 1)) < 0)
            goto fail;
        skip_ws(ps);
        if (peek(ps, 0) == ',') {
            ps->p++;
            skip_ws(ps);
            if (peek(ps, 0) == '}') {
                r = fail(ps, VC_EPARSE, "trailing comma in inline table");
                goto fail;
            }
            continue;
        }
        if (peek(ps, 0) == '}') {
            ps->p++;
            break;
        }
        r = fail(ps, VC_EPARSE,
                 at_newline(ps) ? "newline in inline table" : "expected ',' or '}' in inline table");
        goto fail;
    }
    *ret = t;
    return 0;
fail:
    json_decref(t);
    return r;
}

static int parse_value(parser_t *ps, int depth, json_t **ret)
{
    if (depth > VC_CONF_MAX_DEPTH)
        return fail(ps, VC_EDEPTH, "nesting deeper than %d", VC_CONF_MAX_DEPTH);
    int c = peek(ps, 0);
    if (c == '"' || c == '\'') {
        char *s;
        int r = parse_string(ps, true, &s);
        if (r < 0)
            return r;
        *ret = json_string(s);
        free(s);
        return *ret ? 0 : oom(ps);
    }
    if (c == '[')
        return parse_array(ps, depth, ret);
    if (c == '{')
        return parse_inline_table(ps, depth, ret);
    return parse_scalar(ps, ret);
}

/* Inserts v (owned) at kp below tbl, creating dotted tables. */
static int insert_kv(parser_t *ps, json_t *tbl, const keypath_t *kp, json_t *v)
{
    char kb[256];
    json_t *t = tbl;
    for (size_t i = 0; i + 1 < kp->n; i++) {
        json_t *child = json_object_get(t, kp->k[i]);
        if (!child) {
            child = json_object();
            if (!child || meta_set(&ps->meta, child, T_DOTTED) < 0 ||
                json_object_set_new(t, kp->k[i], child) < 0) {
                json_decref(v);
                return oom(ps);
            }
        } else if (!json_is_object(child) ||
                   (meta_get(&ps->meta, child) & (T_DOTTED | T_FROZEN)) != T_DOTTED) {
            json_decref(v);
            return fail(ps, VC_EPARSE, "key '%s' conflicts with '%s' defined before",
                        keypath_str(kp, kp->n, kb, sizeof(kb)), kp->k[i]);
        }
        t = child;
    }
    if (json_object_get(t, kp->k[kp->n - 1])) {
        json_decref(v);
        return fail(ps, VC_EPARSE, "duplicate key '%s'", keypath_str(kp, kp->n, kb, sizeof(kb)));
    }
    if (json_object_set_new(t, kp->k[kp->n - 1], v) < 0)
        return oom(ps);
    return 0;
}

static int parse_keyval(parser_t *ps, json_t *tbl, int depth)
{
    keypath_t kp = {0};
    json_t *v;
    const char *kstart;
    int r;

    skip_ws(ps);
    kstart = ps->p;
    unsigned kline = ps->line;
    const char *kline_start = ps->line_start;
    if ((r = parse_key(ps, &kp)) < 0)
        goto out;
    skip_ws(ps);
    if (peek(ps, 0) != '=') {
        r = fail(ps, VC_EPARSE, "expected '=' after key");
        goto out;
    }
    ps->p++;
    skip_ws(ps);
    if ((r = parse_value(ps, depth, &v)) < 0)
        goto out;
    {
        const char *save = ps->p, *save_ls = ps->line_start;
        unsigned save_line = ps->line;
        ps->p = kstart; /* duplicate-key errors point at the key */
        ps->line = kline;
        ps->line_start = kline_start;
        r = insert_kv(ps, tbl, &kp, v);
        ps->p = save;
        ps->line = save_line;
        ps->line_start = save_ls;
    }
out:
    keypath_done(&kp);
    return r;
}

static int parse_header(parser_t *ps)
{
    keypath_t kp = {0};
    char kb[256];
    bool aot = peek(ps, 1) == '[';
    const char *hstart = ps->p;
    json_t *t = ps->root, *obj;
    int r;

    ps->p += aot ? 2 : 1;
    if ((r = parse_key(ps, &kp)) < 0)
        goto out;
    if (peek(ps, 0) != ']' || (aot && peek(ps, 1) != ']')) {
        r = fail(ps, VC_EPARSE, aot ? "expected ']]' after table name" : "expected ']' after table name");
        goto out;
    }
    ps->p += aot ? 2 : 1;
    const char *after = ps->p;
    ps->p = hstart;
    for (size_t i = 0; i + 1 < kp.n; i++) {
        json_t *child = json_object_get(t, kp.k[i]);
        uint8_t fl = child ? meta_get(&ps->meta, child) : 0;
        if (!child) {
            child = json_object();
            if (!child || meta_set(&ps->meta, child, T_IMPLICIT) < 0 ||
                json_object_set_new(t, kp.k[i], child) < 0) {
                r = oom(ps);
                goto out;
            }
        } else if (json_is_object(child) && !(fl & T_FROZEN)) {
            /* ok */
        } else if (json_is_array(child) && (fl & T_AOT) && json_array_size(child) > 0) {
            child = json_array_get(child, json_array_size(child) - 1);
        } else {
            r = fail(ps, VC_EPARSE, "cannot define table '%s': '%s' is not a table",
                     keypath_str(&kp, kp.n, kb, sizeof(kb)), keypath_str(&kp, i + 1, kb + 128, 128));
            goto out;
        }
        t = child;
    }
    const char *last = kp.k[kp.n - 1];
    json_t *cur = json_object_get(t, last);
    if (!aot) {
        if (!cur) {
            obj = json_object();
            if (!obj || meta_set(&ps->meta, obj, T_EXPLICIT) < 0 || json_object_set_new(t, last, obj) < 0) {
                r = oom(ps);
                goto out;
            }
        } else if (json_is_object(cur) && meta_get(&ps->meta, cur) == T_IMPLICIT) {
            obj = cur;
            if (meta_set(&ps->meta, obj, T_EXPLICIT) < 0) {
                r = oom(ps);
                goto out;
            }
        } else {
            r = fail(ps, VC_EPARSE, "table '%s' is defined more than once",
                     keypath_str(&kp, kp.n, kb, sizeof(kb)));
            goto out;
        }
    } else {
        if (!cur) {
            cur = json_array();
            if (!cur || meta_set(&ps->meta, cur, T_AOT) < 0 || json_object_set_new(t, last, cur) < 0) {
                r = oom(ps);
                goto out;
            }
        } else if (!json_is_array(cur) || !(meta_get(&ps->meta, cur) & T_AOT)) {
            r = fail(ps, VC_EPARSE, "'%s' is not an array of tables", keypath_str(&kp, kp.n, kb, sizeof(kb)));
            goto out;
        }
        obj = json_object();
        if (!obj || meta_set(&ps->meta, obj, T_EXPLICIT) < 0 || json_array_append_new(cur, obj) < 0) {
            r = oom(ps);
            goto out;
        }
    }
    ps->cur = obj;
    ps->p = after;
    r = end_of_line(ps, "table header");
out:
    keypath_done(&kp);
    return r;
}

static void parser_init(parser_t *ps, const char *name, const char *text, size_t len, char *err, size_t errsz)
{
    *ps = (parser_t){
        .name = name ? name : "config",
        .p = text,
        .end = text + len,
        .line_start = text,
        .line = 1,
        .err = err,
        .errsz = errsz,
    };
}

static int parse_document(parser_t *ps)
{
    int r;
    ps->root = ps->cur = json_object();
    if (!ps->root || meta_set(&ps->meta, ps->root, T_EXPLICIT) < 0)
        return oom(ps);
    if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xef\xbb\xbf", 3) == 0)
        ps->p += 3, ps->line_start = ps->p;
    while (ps->p < ps->end) {
        skip_ws(ps);
        if (ps->p >= ps->end)
            break;
        if (at_newline(ps)) {
            eat_newline(ps);
            continue;
        }
        int c = peek(ps, 0);
        if (c == '#') {
            if ((r = skip_comment(ps)) < 0)
                return r;
            continue;
        }
        if (c == '[') {
            if ((r = parse_header(ps)) < 0)
                return r;
            continue;
        }
        if (!is_bare(c) && c != '"' && c != '\'') {
            if (c >= 0x20 && c < 0x7f)
                return fail(ps, VC_EPARSE, "unexpected character '%c' (expected a key)", c);
            return fail(ps, VC_EPARSE, "unexpected character (expected a key)");
        }
        if ((r = parse_keyval(ps, ps->cur, 1)) < 0)
            return r;
        if ((r = end_of_line(ps, "value")) < 0)
            return r;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Public: object, parse, load
 */

vc_conf_t *vc_conf_new(void)
{
    vc_conf_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->root = json_object();
    if (!c->root) {
        free(c);
        return NULL;
    }
    return c;
}

vc_conf_t *vc_conf_free(vc_conf_t *c)
{
    if (c) {
        json_decref(c->root);
        free(c);
    }
    return NULL;
}

const char *vc_conf_error(const vc_conf_t *c)
{
    return c ? c->err : "";
}

static int seterr(vc_conf_t *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seterr(vc_conf_t *c, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return r;
}

int vc_conf_parse(vc_conf_t *c, const char *name, const char *text, size_t len)
{
    parser_t ps;
    int r;

    if (!c || (!text && len))
        return -EINVAL;
    c->err[0] = 0;
    if (len > VC_CONF_MAX_SIZE)
        return seterr(c, VC_ETOOBIG, "%s: file too large (%zu bytes, limit %d)", name ? name : "config", len,
                      VC_CONF_MAX_SIZE);
    parser_init(&ps, name, text ? text : "", len, c->err, sizeof(c->err));
    r = parse_document(&ps);
    meta_done(&ps.meta);
    if (r < 0) {
        json_decref(ps.root);
        return r;
    }
    json_decref(c->root);
    c->root = ps.root;
    return 0;
}

int vc_conf_load(vc_conf_t *c, const char *path)
{
    _cleanup_free_ char *data = NULL;
    size_t len;
    int r;

    if (!c || !path)
        return -EINVAL;
    r = vc_read_file(path, VC_CONF_MAX_SIZE, &data, &len);
    if (r == -EFBIG)
        return seterr(c, VC_ETOOBIG, "%s: file too large (limit %d bytes)", path, VC_CONF_MAX_SIZE);
    if (r < 0)
        return seterr(c, r, "%s: %s", path, vc_strerror(r));
    return vc_conf_parse(c, path, data, len);
}

static int merge(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v)
    {
        json_t *d = json_object_get(dst, k);
        if (d && json_is_object(d) && json_is_object(v)) {
            int r = merge(d, v);
            if (r < 0)
                return r;
            continue;
        }
        json_t *copy = json_deep_copy(v);
        if (!copy || json_object_set_new(dst, k, copy) < 0)
            return -ENOMEM;
    }
    return 0;
}

int vc_conf_merge(vc_conf_t *c, const vc_conf_t *src)
{
    if (!c || !src)
        return -EINVAL;
    return merge(c->root, src->root);
}

json_t *vc_conf_root(const vc_conf_t *c)
{
    return c ? c->root : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Paths and getters
 */

static json_t *obj_get_ci(json_t *obj, const char *k, const char **ret_key)
{
    json_t *v = json_object_get(obj, k);
    const char *kk;
    if (v) {
        if (ret_key)
            *ret_key = k;
        return v;
    }
    json_object_foreach(obj, kk, v) if (strcasecmp(kk, k) == 0)
    {
        if (ret_key)
            *ret_key = kk;
        return v;
    }
    return NULL;
}

/* Walks a dotted path. With create, missing tables are made; returns the parent table of the
 * last segment in *ret_parent and the last segment (as stored if it exists) in seg. */
static int walk(json_t *root, const char *key, bool create, json_t **ret_parent, char seg[256])
{
    json_t *t = root;
    const char *s = key;
    if (vc_strempty(key))
        return -EINVAL;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (n == 0 || n >= 256)
            return -EINVAL;
        memcpy(seg, s, n);
        seg[n] = 0;
        if (!dot)
            break;
        const char *stored;
        json_t *child = obj_get_ci(t, seg, &stored);
        if (!child) {
            if (!create)
                return -ENOENT;
            child = json_object();
            if (!child || json_object_set_new(t, seg, child) < 0)
                return -ENOMEM;
        } else if (!json_is_object(child))
            return VC_ETYPE;
        t = child;
        s = dot + 1;
    }
    *ret_parent = t;
    return 0;
}

json_t *vc_conf_get(const vc_conf_t *c, const char *key)
{
    json_t *parent;
    char seg[256];
    if (!c || walk(c->root, key, false, &parent, seg) < 0)
        return NULL;
    return obj_get_ci(parent, seg, NULL);
}

static int type_err(vc_conf_t *c, const char *key, const char *what)
{
    return seterr(c, VC_ETYPE, "%s: expected %s", key, what);
}

int vc_conf_get_string(vc_conf_t *c, const char *key, const char *def, const char **ret)
{
    json_t *v = vc_conf_get(c, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_string(v))
        return type_err(c, key, "a string");
    *ret = json_string_value(v);
    return 1;
}

int vc_conf_get_int(vc_conf_t *c, const char *key, int64_t def, int64_t *ret)
{
    json_t *v = vc_conf_get(c, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_integer(v))
        return type_err(c, key, "an integer");
    *ret = json_integer_value(v);
    return 1;
}

int vc_conf_get_uint(vc_conf_t *c, const char *key, uint64_t def, uint64_t *ret)
{
    json_t *v = vc_conf_get(c, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return type_err(c, key, "a non-negative integer");
    *ret = (uint64_t)json_integer_value(v);
    return 1;
}

int vc_conf_get_double(vc_conf_t *c, const char *key, double def, double *ret)
{
    json_t *v = vc_conf_get(c, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_number(v))
        return type_err(c, key, "a number");
    *ret = json_number_value(v);
    return 1;
}

int vc_conf_get_bool(vc_conf_t *c, const char *key, bool def, bool *ret)
{
    json_t *v = vc_conf_get(c, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return type_err(c, key, "a boolean");
    *ret = json_is_true(v);
    return 1;
}

int vc_conf_get_duration_ms(vc_conf_t *c, const char *key, int64_t def_ms, int64_t *ret_ms)
{
    json_t *v = vc_conf_get(c, key);
    int64_t ms;
    if (!v) {
        *ret_ms = def_ms;
        return 0;
    }
    if (json_is_integer(v)) {
        *ret_ms = json_integer_value(v) / 1000000; /* nanoseconds, as Go's time.Duration */
        return 1;
    }
    if (!json_is_string(v) || vc_parse_duration_ms(json_string_value(v), &ms) < 0)
        return type_err(c, key, "a duration (e.g. \"15s\", \"1m0s\")");
    *ret_ms = ms;
    return 1;
}

int vc_conf_get_string_array(vc_conf_t *c, const char *key, char ***ret, size_t *ret_n)
{
    json_t *v = vc_conf_get(c, key), *e;
    size_t n = 0, bytes = 0, i;
    int found = v ? 1 : 0;

    if (v && json_is_string(v)) {
        n = 1;
        bytes = json_string_length(v) + 1;
    } else if (v && json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e))
                return type_err(c, key, "an array of strings");
            bytes += json_string_length(e) + 1;
        }
        n = json_array_size(v);
    } else if (v)
        return type_err(c, key, "an array of strings");

    char **vec = malloc((n + 1) * sizeof(char *) + bytes);
    if (!vec)
        return -ENOMEM;
    char *p = (char *)(vec + n + 1);
    for (i = 0; i < n; i++) {
        e = json_is_string(v) ? v : json_array_get(v, i);
        size_t l = json_string_length(e);
        memcpy(p, json_string_value(e), l + 1);
        vec[i] = p;
        p += l + 1;
    }
    vec[n] = NULL;
    *ret = vec;
    if (ret_n)
        *ret_n = n;
    return found;
}

/* ---------------------------------------------------------------------------------------------
 * Setters and overrides
 */

int vc_conf_set_json(vc_conf_t *c, const char *key, json_t *v)
{
    json_t *parent;
    char seg[256];
    const char *stored = NULL;
    int r;

    if (!c || !v) {
        json_decref(v);
        return !v ? -ENOMEM : -EINVAL;
    }
    r = walk(c->root, key, true, &parent, seg);
    if (r < 0) {
        json_decref(v);
        if (r == VC_ETYPE)
            return seterr(c, r, "%s: a parent of this key is not a table", key);
        return seterr(c, r, "%s: invalid key", key);
    }
    /* replace a case-insensitive match in place (keeps the file's spelling and order) */
    if (!obj_get_ci(parent, seg, &stored))
        stored = seg;
    return json_object_set_new(parent, stored, v) < 0 ? -ENOMEM : 0;
}

int vc_conf_set_string(vc_conf_t *c, const char *key, const char *v)
{
    json_t *j = json_string(v ? v : "");
    if (!j && c)
        return seterr(c, -EINVAL, "%s: invalid UTF-8", key);
    return vc_conf_set_json(c, key, j);
}

int vc_conf_set_int(vc_conf_t *c, const char *key, int64_t v)
{
    return vc_conf_set_json(c, key, json_integer(v));
}

int vc_conf_set_double(vc_conf_t *c, const char *key, double v)
{
    if (!isfinite(v))
        return -EINVAL;
    return vc_conf_set_json(c, key, json_real(v));
}

int vc_conf_set_bool(vc_conf_t *c, const char *key, bool v)
{
    return vc_conf_set_json(c, key, json_boolean(v));
}

int vc_conf_set_duration_ms(vc_conf_t *c, const char *key, int64_t ms)
{
    char buf[32];
    vc_format_duration_go(ms, buf);
    return vc_conf_set_json(c, key, json_string(buf));
}

int vc_conf_set_string_array(vc_conf_t *c, const char *key, const char *const *strv, long n)
{
    json_t *a = json_array();
    if (!a)
        return -ENOMEM;
    for (long i = 0; strv && (n < 0 ? strv[i] != NULL : i < n); i++) {
        json_t *s = json_string(strv[i]);
        if (!s || json_array_append_new(a, s) < 0) {
            json_decref(a);
            return -ENOMEM;
        }
    }
    return vc_conf_set_json(c, key, a);
}

/* Parses text as a single TOML value (whitespace around allowed). */
static int parse_literal(const char *text, json_t **ret)
{
    parser_t ps;
    json_t *v;
    int r;
    parser_init(&ps, "value", text, strlen(text), NULL, 0);
    skip_ws(&ps);
    r = parse_value(&ps, 1, &v);
    if (r >= 0) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            json_decref(v);
            r = VC_EPARSE;
        }
    }
    meta_done(&ps.meta);
    if (r >= 0)
        *ret = v;
    return r;
}

static json_t *split_strings(const char *text)
{
    json_t *a = json_array();
    const char *s = text;
    if (!a)
        return NULL;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        const char *b = s, *e = s + n;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e > b) {
            json_t *j = json_stringn(b, (size_t)(e - b));
            if (!j || json_array_append_new(a, j) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    return a;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a table";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "a value";
    }
}

int vc_conf_set(vc_conf_t *c, const char *key, const char *text)
{
    json_t *cur, *v = NULL;
    if (!c || !key || !text)
        return -EINVAL;
    cur = vc_conf_get(c, key);
    bool quoted = text[0] == '"' || text[0] == '\'';

    if (!cur || json_is_string(cur)) {
        if ((quoted || !cur) && parse_literal(text, &v) >= 0) {
            if (cur && !json_is_string(v)) {
                json_decref(v);
                v = NULL;
            }
        }
        if (!v) {
            v = json_string(text);
            if (!v)
                return seterr(c, -EINVAL, "%s: invalid UTF-8 in value", key);
        }
        return vc_conf_set_json(c, key, v);
    }
    if (parse_literal(text, &v) >= 0) {
        bool ok = json_typeof(v) == json_typeof(cur) || (json_is_boolean(v) && json_is_boolean(cur)) ||
                  (json_is_real(cur) && json_is_integer(v));
        if (ok && json_is_real(cur) && json_is_integer(v)) {
            json_t *r = json_real((double)json_integer_value(v));
            json_decref(v);
            v = r;
        }
        if (ok)
            return vc_conf_set_json(c, key, v);
        json_decref(v);
        v = NULL;
    }
    if (json_is_array(cur)) {
        v = split_strings(text);
        if (!v)
            return seterr(c, -EINVAL, "%s: invalid value", key);
        return vc_conf_set_json(c, key, v);
    }
    return seterr(c, VC_ETYPE, "%s: expected %s, got '%.64s'", key, type_name(cur), text);
}

int vc_conf_apply_env(vc_conf_t *c, const char *prefix, const vc_conf_env_t *map)
{
    int applied = 0;
    if (!c || !map)
        return -EINVAL;
    for (const vc_conf_env_t *m = map; m->env && m->key; m++) {
        char name[256];
        snprintf(name, sizeof(name), "%s%s", prefix ? prefix : "", m->env);
        const char *val = getenv(name);
        if (vc_strempty(val))
            continue;
        int r = vc_conf_set(c, m->key, val);
        if (r < 0) {
            char msg[sizeof(c->err)];
            snprintf(msg, sizeof(msg), "%s", c->err);
            return seterr(c, r, "env %s: %s", name, msg[0] ? msg : vc_strerror(r));
        }
        applied++;
    }
    return applied;
}

/* ---------------------------------------------------------------------------------------------
 * Writer
 */

static int write_quoted(vc_buf_t *b, const char *s, size_t n)
{
    int r = vc_buf_append(b, "\"", 1);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"':
            r = vc_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            r = vc_buf_append(b, "\\\\", 2);
            break;
        case '\b':
            r = vc_buf_append(b, "\\b", 2);
            break;
        case '\t':
            r = vc_buf_append(b, "\\t", 2);
            break;
        case '\n':
            r = vc_buf_append(b, "\\n", 2);
            break;
        case '\f':
            r = vc_buf_append(b, "\\f", 2);
            break;
        case '\r':
            r = vc_buf_append(b, "\\r", 2);
            break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                r = vc_buf_appendf(b, "\\u%04x", ch);
            else
                r = vc_buf_append(b, s + i, 1);
        }
    }
    return r < 0 ? r : vc_buf_append(b, "\"", 1);
}

static int write_key(vc_buf_t *b, const char *k)
{
    bool bare = *k != 0;
    for (const char *p = k; *p; p++)
        if (!is_bare((unsigned char)*p))
            bare = false;
    return bare ? vc_buf_append_str(b, k) : write_quoted(b, k, strlen(k));
}

static int write_inline(vc_buf_t *b, json_t *v, int depth)
{
    char num[VC_GOFMT_FLOAT_MAX];
    const char *k;
    json_t *e;
    size_t i;
    int r = 0;

    if (depth > 64)
        return VC_EDEPTH;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return write_quoted(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return vc_buf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        r = vc_format_float_go(json_real_value(v), 'f', num, sizeof(num));
        if (r < 0)
            return r;
        if (!strchr(num, '.'))
            strcat(num, ".0");
        return vc_buf_append_str(b, num);
    case JSON_TRUE:
        return vc_buf_append_str(b, "true");
    case JSON_FALSE:
        return vc_buf_append_str(b, "false");
    case JSON_ARRAY:
        r = vc_buf_append(b, "[", 1);
        json_array_foreach(v, i, e)
        {
            if (r >= 0 && i > 0)
                r = vc_buf_append(b, ", ", 2);
            if (r >= 0)
                r = write_inline(b, e, depth + 1);
        }
        return r < 0 ? r : vc_buf_append(b, "]", 1);
    case JSON_OBJECT: {
        bool first = true;
        r = vc_buf_append(b, "{", 1);
        json_object_foreach(v, k, e)
        {
            if (json_is_null(e))
                continue;
            if (r >= 0 && !first)
                r = vc_buf_append(b, ", ", 2);
            first = false;
            if (r >= 0)
                r = write_key(b, k);
            if (r >= 0)
                r = vc_buf_append(b, " = ", 3);
            if (r >= 0)
                r = write_inline(b, e, depth + 1);
        }
        return r < 0 ? r : vc_buf_append(b, "}", 1);
    }
    default:
        return -EINVAL; /* null inside an array has no TOML form */
    }
}

static bool is_aot(json_t *v)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    json_array_foreach(v, i, e) if (!json_is_object(e)) return false;
    return true;
}

static int indent(vc_buf_t *b, int depth)
{
    for (int i = 0; i < depth; i++)
        if (vc_buf_append(b, "  ", 2) < 0)
            return -ENOMEM;
    return 0;
}

static int write_table(vc_buf_t *b, size_t start, json_t *obj, const char *path, int depth)
{
    const char *k;
    json_t *v;
    int r = 0;

    if (depth > VC_CONF_MAX_DEPTH * 2)
        return VC_EDEPTH;
    json_object_foreach(obj, k, v)
    {
        if (json_is_null(v) || json_is_object(v) || is_aot(v))
            continue;
        if ((r = indent(b, depth)) < 0 || (r = write_key(b, k)) < 0 || (r = vc_buf_append(b, " = ", 3)) < 0 ||
            (r = write_inline(b, v, 0)) < 0 || (r = vc_buf_append(b, "\n", 1)) < 0)
            return r;
    }
    json_object_foreach(obj, k, v)
    {
        if (!json_is_object(v) && !is_aot(v))
            continue;
        vc_buf_t p = {0};
        if ((path[0] && vc_buf_appendf(&p, "%s.", path) < 0) || write_key(&p, k) < 0) {
            vc_buf_done(&p);
            return -ENOMEM;
        }
        if (json_is_object(v)) {
            if ((depth == 0 && b->len > start && vc_buf_append(b, "\n", 1) < 0) || indent(b, depth) < 0 ||
                vc_buf_appendf(b, "[%s]\n", p.data) < 0)
                r = -ENOMEM;
            else
                r = write_table(b, start, v, p.data, depth + 1);
        } else {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if ((b->len > start && vc_buf_append(b, "\n", 1) < 0) || indent(b, depth) < 0 ||
                    vc_buf_appendf(b, "[[%s]]\n", p.data) < 0)
                    r = -ENOMEM;
                else
                    r = write_table(b, start, e, p.data, depth + 1);
                if (r < 0)
                    break;
            }
        }
        vc_buf_done(&p);
        if (r < 0)
            return r;
    }
    return 0;
}

int vc_conf_write(const vc_conf_t *c, vc_buf_t *out)
{
    if (!c || !out)
        return -EINVAL;
    if (vc_buf_reserve(out, 1) < 0)
        return -ENOMEM;
    out->data[out->len] = 0;
    return write_table(out, out->len, c->root, "", 0);
}

int vc_conf_save(vc_conf_t *c, const char *path, unsigned mode)
{
    vc_buf_t b = {0};
    int r = vc_conf_write(c, &b);
    if (r >= 0)
        r = vc_write_file_atomic(path, b.data, b.len, mode);
    if (r < 0)
        seterr(c, r, "%s: %s", path, vc_strerror(r));
    vc_buf_done(&b);
    return r;
}
