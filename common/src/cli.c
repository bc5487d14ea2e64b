/* cli.c: command tree parsing and help, Go tabwriter port, Go-style JSON output. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc/cli.h"
#include "vc/gofmt.h"

#define MAX_DEPTH 16
#define MAX_ARGS 4096

/* ---------------------------------------------------------------------------------------------
 * Tabwriter
 */

typedef struct tw_cell {
    size_t off, len; /* into text */
    int width;
} tw_cell_t;

typedef struct tw_line {
    size_t first, n; /* cells */
} tw_line_t;

struct vc_tabwriter {
    int minwidth, tabwidth, padding;
    char padchar;
    vc_buf_t text;
};

vc_tabwriter_t *vc_tabwriter_new(int minwidth, int tabwidth, int padding, char padchar)
{
    vc_tabwriter_t *tw = calloc(1, sizeof(*tw));
    if (!tw)
        return NULL;
    tw->minwidth = VC_MAX(minwidth, 0);
    tw->tabwidth = VC_MAX(tabwidth, 0);
    tw->padding = VC_MAX(padding, 0);
    tw->padchar = padchar;
    return tw;
}

vc_tabwriter_t *vc_tabwriter_free(vc_tabwriter_t *tw)
{
    if (tw) {
        vc_buf_done(&tw->text);
        free(tw);
    }
    return NULL;
}

int vc_tabwriter_write(vc_tabwriter_t *tw, const char *text)
{
    if (!tw || !text)
        return -EINVAL;
    return vc_buf_append_str(&tw->text, text);
}

int vc_tabwriter_printf(vc_tabwriter_t *tw, const char *fmt, ...)
{
    va_list ap;
    char small[512];
    int n;
    if (!tw)
        return -EINVAL;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return vc_buf_append(&tw->text, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int r = vc_buf_append(&tw->text, big, (size_t)n);
    free(big);
    return r;
}

int vc_tabwriter_row(vc_tabwriter_t *tw, const char *cell, ...)
{
    va_list ap;
    int r = 0;
    if (!tw)
        return -EINVAL;
    va_start(ap, cell);
    for (const char *c = cell; c && r >= 0; c = va_arg(ap, const char *)) {
        if (c != cell)
            r = vc_buf_append(&tw->text, "\t", 1);
        if (r >= 0)
            r = vc_buf_append_str(&tw->text, c);
    }
    va_end(ap);
    return r < 0 ? r : vc_buf_append(&tw->text, "\n", 1);
}

static int utf8_width(const char *s, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            w++;
    return w;
}

typedef struct tw_state {
    vc_tabwriter_t *tw;
    const char *text;
    tw_cell_t *cells;
    tw_line_t *lines;
    size_t nlines;
    bool last_partial; /* the text did not end with '\n' */
    int *widths;
    vc_buf_t *out;
} tw_state_t;

static int tw_pad(tw_state_t *st, int textw, int cellw)
{
    vc_tabwriter_t *tw = st->tw;
    if (tw->padchar == '\t') {
        if (tw->tabwidth == 0)
            return 0;
        cellw = (cellw + tw->tabwidth - 1) / tw->tabwidth * tw->tabwidth;
        int n = cellw - textw;
        for (int i = 0; i < (n + tw->tabwidth - 1) / tw->tabwidth; i++)
            if (vc_buf_append(st->out, "\t", 1) < 0)
                return -ENOMEM;
        return 0;
    }
    for (int i = textw; i < cellw; i++)
        if (vc_buf_append(st->out, &tw->padchar, 1) < 0)
            return -ENOMEM;
    return 0;
}

static int tw_write_lines(tw_state_t *st, size_t nwidths, size_t l0, size_t l1)
{
    for (size_t i = l0; i < l1; i++) {
        const tw_line_t *ln = &st->lines[i];
        for (size_t j = 0; j < ln->n; j++) {
            const tw_cell_t *c = &st->cells[ln->first + j];
            if (vc_buf_append(st->out, st->text + c->off, c->len) < 0)
                return -ENOMEM;
            if (j < nwidths && tw_pad(st, c->width, st->widths[j]) < 0)
                return -ENOMEM;
        }
        if (!(i + 1 == st->nlines && st->last_partial) && vc_buf_append(st->out, "\n", 1) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* Port of text/tabwriter's (*Writer).format. */
static int tw_format(tw_state_t *st, size_t nwidths, size_t line0, size_t line1)
{
    size_t column = nwidths;
    for (size_t this = line0; this < line1; this ++) {
        if (column + 1 >= st->lines[this].n)
            continue;
        if (tw_write_lines(st, nwidths, line0, this) < 0)
            return -ENOMEM;
        line0 = this;
        int width = st->tw->minwidth;
        for (; this < line1; this ++) {
            const tw_line_t *ln = &st->lines[this];
            if (column + 1 >= ln->n)
                break;
            int w = st->cells[ln->first + column].width + st->tw->padding;
            if (w > width)
                width = w;
        }
        st->widths[nwidths] = width;
        if (tw_format(st, nwidths + 1, line0, this) < 0)
            return -ENOMEM;
        line0 = this;
        if (this >= line1)
            break;
    }
    return tw_write_lines(st, nwidths, line0, line1);
}

int vc_tabwriter_flush(vc_tabwriter_t *tw, vc_buf_t *out)
{
    tw_state_t st = {.tw = tw, .out = out};
    size_t ncells = 0, maxcells = 0, nl = 0;
    int r = -ENOMEM;

    if (!tw || !out)
        return -EINVAL;
    if (vc_buf_append(out, "", 0) < 0)
        return -ENOMEM;
    if (tw->text.len == 0)
        return 0;
    const char *t = tw->text.data;
    size_t len = tw->text.len;
    st.text = t;
    st.last_partial = t[len - 1] != '\n';
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\t')
            ncells++;
        else if (t[i] == '\n')
            nl++;
    }
    size_t nlines = nl + (st.last_partial ? 1 : 0);
    ncells += nlines;
    st.cells = calloc(ncells, sizeof(*st.cells));
    st.lines = calloc(nlines, sizeof(*st.lines));
    if (!st.cells || !st.lines)
        goto out;
    size_t ci = 0, start = 0;
    for (size_t i = 0; i <= len && st.nlines < nlines; i++) {
        if (i < len && t[i] != '\t' && t[i] != '\n')
            continue;
        st.cells[ci] = (tw_cell_t){.off = start, .len = i - start, .width = utf8_width(t + start, i - start)};
        st.lines[st.nlines].n++;
        ci++;
        start = i + 1;
        if (i == len || t[i] == '\n') {
            if (st.lines[st.nlines].n > maxcells)
                maxcells = st.lines[st.nlines].n;
            st.nlines++;
            if (st.nlines < nlines)
                st.lines[st.nlines].first = ci;
        }
    }
    st.widths = calloc(maxcells + 1, sizeof(int));
    if (!st.widths)
        goto out;
    r = tw_format(&st, 0, 0, st.nlines);
    if (r >= 0)
        tw->text.len = 0;
out:
    free(st.cells);
    free(st.lines);
    free(st.widths);
    return r;
}

int vc_tabwriter_flush_file(vc_tabwriter_t *tw, FILE *f)
{
    vc_buf_t b = {0};
    int r = vc_tabwriter_flush(tw, &b);
    if (r >= 0 && b.len && fwrite(b.data, 1, b.len, f) != b.len)
        r = -EIO;
    vc_buf_done(&b);
    return r;
}

/* ---------------------------------------------------------------------------------------------
 * Go-style JSON
 */

static int json_str_go(vc_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int r = vc_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n && r >= 0; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            r = vc_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            r = vc_buf_append(b, "\\\\", 2);
            break;
        case '\b':
            r = vc_buf_append(b, "\\b", 2);
            break;
        case '\f':
            r = vc_buf_append(b, "\\f", 2);
            break;
        case '\n':
            r = vc_buf_append(b, "\\n", 2);
            break;
        case '\r':
            r = vc_buf_append(b, "\\r", 2);
            break;
        case '\t':
            r = vc_buf_append(b, "\\t", 2);
            break;
        default:
            if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                r = vc_buf_append(b, e, 6);
            } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                       ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
                r = vc_buf_append_str(b, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
                i += 2;
            } else
                r = vc_buf_append(b, s + i, 1);
        }
    }
    return r < 0 ? r : vc_buf_append(b, "\"", 1);
}

static int json_float_go(vc_buf_t *b, double f)
{
    char num[VC_GOFMT_FLOAT_MAX];
    double a = fabs(f);
    char fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? 'e' : 'f';
    int n = vc_format_float_go(f, fmt, num, sizeof(num));
    if (n < 0)
        return n;
    if (fmt == 'e' && n >= 4 && num[n - 4] == 'e' && num[n - 3] == '-' && num[n - 2] == '0') {
        num[n - 2] = num[n - 1];
        num[--n] = 0;
    }
    return vc_buf_append(b, num, (size_t)n);
}

static int json_newline(vc_buf_t *b, const char *prefix, const char *indent, int depth)
{
    if (vc_buf_append(b, "\n", 1) < 0 || vc_buf_append_str(b, prefix) < 0)
        return -ENOMEM;
    for (int i = 0; i < depth; i++)
        if (vc_buf_append_str(b, indent) < 0)
            return -ENOMEM;
    return 0;
}

static int json_go(vc_buf_t *b, const json_t *v, const char *prefix, const char *indent, int depth)
{
    int r = 0;
    if (depth > 2048)
        return VC_EDEPTH;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return vc_buf_append_str(b, "null");
    case JSON_TRUE:
        return vc_buf_append_str(b, "true");
    case JSON_FALSE:
        return vc_buf_append_str(b, "false");
    case JSON_INTEGER:
        return vc_buf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return json_float_go(b, json_real_value(v));
    case JSON_STRING:
        return json_str_go(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (n == 0)
            return vc_buf_append_str(b, "[]");
        r = vc_buf_append(b, "[", 1);
        for (size_t i = 0; i < n && r >= 0; i++) {
            if (i > 0)
                r = vc_buf_append(b, ",", 1);
            if (r >= 0 && indent)
                r = json_newline(b, prefix, indent, depth + 1);
            if (r >= 0)
                r = json_go(b, json_array_get(v, i), prefix, indent, depth + 1);
        }
        if (r >= 0 && indent)
            r = json_newline(b, prefix, indent, depth);
        return r < 0 ? r : vc_buf_append(b, "]", 1);
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        bool first = true;
        if (json_object_size(v) == 0)
            return vc_buf_append_str(b, "{}");
        r = vc_buf_append(b, "{", 1);
        json_object_foreach((json_t *)v, k, e)
        {
            if (r < 0)
                break;
            if (!first)
                r = vc_buf_append(b, ",", 1);
            first = false;
            if (r >= 0 && indent)
                r = json_newline(b, prefix, indent, depth + 1);
            if (r >= 0)
                r = json_str_go(b, k, strlen(k));
            if (r >= 0)
                r = vc_buf_append_str(b, indent ? ": " : ":");
            if (r >= 0)
                r = json_go(b, e, prefix, indent, depth + 1);
        }
        if (r >= 0 && indent)
            r = json_newline(b, prefix, indent, depth);
        return r < 0 ? r : vc_buf_append(b, "}", 1);
    }
    }
    return -EINVAL;
}

int vc_json_format_go(vc_buf_t *out, const json_t *v, const char *prefix, const char *indent)
{
    if (!out || !v)
        return -EINVAL;
    if (vc_buf_append(out, "", 0) < 0)
        return -ENOMEM;
    return json_go(out, v, prefix ? prefix : "", indent, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Command line
 */

typedef struct flagval {
    const vc_cli_flag_t *f;
    char **vals; /* NULL-terminated */
    size_t n;
    bool set;
} flagval_t;

struct vc_cli_ctx {
    const vc_cli_cmd_t *path[MAX_DEPTH];
    size_t depth;
    flagval_t *fv;
    size_t nfv, capfv;
    char **args;
    size_t nargs;
    FILE *out, *err;
    void *userdata;
    bool error_printed;
    char helpname[512];
};

static bool name_in_list(const char *list, const char *name, size_t n)
{
    const char *p = list;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        while (l && *p == ' ')
            p++, l--;
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static bool flag_matches(const vc_cli_flag_t *f, const char *name, size_t n)
{
    return (strlen(f->name) == n && strncmp(f->name, name, n) == 0) || name_in_list(f->aliases, name, n);
}

static const vc_cli_flag_t *find_flag(const vc_cli_ctx_t *ctx, const char *name, size_t n)
{
    for (size_t d = ctx->depth; d-- > 0;)
        for (const vc_cli_flag_t *f = ctx->path[d]->flags; f && f->name; f++)
            if (flag_matches(f, name, n))
                return f;
    return NULL;
}

static const vc_cli_cmd_t *find_sub(const vc_cli_cmd_t *cmd, const char *name)
{
    for (const vc_cli_cmd_t *s = cmd->subcommands; s && s->name; s++)
        if (strcmp(s->name, name) == 0 || name_in_list(s->aliases, name, strlen(name)))
            return s;
    return NULL;
}

static flagval_t *get_fv(const vc_cli_ctx_t *ctx, const vc_cli_flag_t *f)
{
    for (size_t i = 0; i < ctx->nfv; i++)
        if (ctx->fv[i].f == f)
            return &ctx->fv[i];
    return NULL;
}

static flagval_t *fv_for(vc_cli_ctx_t *ctx, const vc_cli_flag_t *f)
{
    flagval_t *v = get_fv(ctx, f);
    if (v)
        return v;
    if (ctx->nfv == ctx->capfv) {
        size_t cap = ctx->capfv ? ctx->capfv * 2 : 8;
        flagval_t *n = realloc(ctx->fv, cap * sizeof(*n));
        if (!n)
            return NULL;
        ctx->fv = n;
        ctx->capfv = cap;
    }
    ctx->fv[ctx->nfv] = (flagval_t){.f = f};
    return &ctx->fv[ctx->nfv++];
}

static void fv_clear(flagval_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->vals[i]);
    free(v->vals);
    v->vals = NULL;
    v->n = 0;
}

static int fv_push(flagval_t *v, const char *s, size_t n)
{
    char **nv = realloc(v->vals, (v->n + 2) * sizeof(char *));
    if (!nv)
        return -ENOMEM;
    v->vals = nv;
    if (!(nv[v->n] = strndup(s, n)))
        return -ENOMEM;
    nv[++v->n] = NULL;
    return 0;
}

static int parse_bool(const char *s, bool *ret)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < VC_ELEMENTSOF(t); i++) {
        if (strcmp(s, t[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcmp(s, f[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return VC_EPARSE;
}

static bool value_ok(vc_flag_type_t type, const char *s)
{
    int64_t i;
    uint64_t u;
    bool b;
    switch (type) {
    case VC_FLAG_BOOL:
        return parse_bool(s, &b) == 0;
    case VC_FLAG_INT:
        return vc_parse_i64(s, &i) == 0;
    case VC_FLAG_UINT:
        return vc_parse_u64(s, &u) == 0;
    case VC_FLAG_DURATION:
        return vc_parse_duration_ms(s, &i) == 0;
    default:
        return true;
    }
}

/* Stores a value (replacing, or appending comma-split parts for slices). */
static int store(vc_cli_ctx_t *ctx, const vc_cli_flag_t *f, const char *val)
{
    flagval_t *v = fv_for(ctx, f);
    if (!v)
        return -ENOMEM;
    if (f->type != VC_FLAG_STRINGS) {
        fv_clear(v);
        v->set = true;
        return fv_push(v, val, strlen(val));
    }
    v->set = true;
    for (const char *p = val;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (fv_push(v, p, n) < 0)
            return -ENOMEM;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int usage_error(vc_cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(vc_cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    fputs("Incorrect Usage: ", ctx->err);
    va_start(ap, fmt);
    vfprintf(ctx->err, fmt, ap);
    va_end(ap);
    fputc('\n', ctx->err);
    return 1;
}

/* ---- help ---- */

static void build_helpname(vc_cli_ctx_t *ctx, size_t depth)
{
    size_t pos = 0;
    ctx->helpname[0] = 0;
    for (size_t d = 0; d < depth; d++) {
        int n = snprintf(ctx->helpname + pos, sizeof(ctx->helpname) - pos, "%s%s", d ? " " : "",
                         ctx->path[d]->name);
        if (n < 0 || (size_t)n >= sizeof(ctx->helpname) - pos)
            break;
        pos += (size_t)n;
    }
}

static int flag_line(vc_buf_t *b, const vc_cli_flag_t *f)
{
    bool takes = f->type != VC_FLAG_BOOL;
    int r = vc_buf_appendf(b, "   --%s%s", f->name, takes ? " value" : "");
    for (const char *p = f->aliases; r >= 0 && p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        r = vc_buf_appendf(b, ", %s%.*s%s", n == 1 ? "-" : "--", (int)n, p, takes ? " value" : "");
        p = comma ? comma + 1 : NULL;
    }
    if (r >= 0)
        r = vc_buf_appendf(b, "\t%s", f->usage ? f->usage : "");
    if (r >= 0 && !vc_strempty(f->def)) {
        bool quote = f->type == VC_FLAG_STRING || f->type == VC_FLAG_STRINGS || f->type == VC_FLAG_DURATION;
        r = vc_buf_appendf(b, quote ? " (default: \"%s\")" : " (default: %s)", f->def);
    } else if (r >= 0 && f->type == VC_FLAG_BOOL)
        r = vc_buf_append_str(b, " (default: false)");
    if (r >= 0 && !vc_strempty(f->env)) {
        r = vc_buf_append_str(b, " [");
        for (const char *p = f->env; r >= 0 && p && *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            r = vc_buf_appendf(b, "%s$%.*s", p == f->env ? "" : ", ", (int)n, p);
            p = comma ? comma + 1 : NULL;
        }
        if (r >= 0)
            r = vc_buf_append_str(b, "]");
    }
    return r < 0 ? r : vc_buf_append(b, "\n", 1);
}

static bool user_flag_named(const vc_cli_ctx_t *ctx, const char *name)
{
    return find_flag(ctx, name, strlen(name)) != NULL;
}

static int render_help(vc_cli_ctx_t *ctx, size_t depth)
{
    const vc_cli_cmd_t *cmd = ctx->path[depth - 1];
    bool root = depth == 1;
    bool has_subs = cmd->subcommands && cmd->subcommands->name;
    vc_buf_t b = {0}, tab = {0};
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new(1, 8, 2, ' ');
    size_t saved = ctx->depth;
    int r;

    if (!tw)
        return -ENOMEM;
    build_helpname(ctx, depth);
    r = vc_buf_appendf(&b, "NAME:\n   %s%s%s\n\n", ctx->helpname, vc_strempty(cmd->usage) ? "" : " - ",
                       cmd->usage ? cmd->usage : "");
    if (root)
        r = vc_buf_appendf(&b, "USAGE:\n   %s [global options] %s\n\n", ctx->helpname,
                           has_subs ? "command [command options] [arguments...]" : "[arguments...]");
    else if (has_subs)
        r = vc_buf_appendf(&b, "USAGE:\n   %s command [command options] [arguments...]\n\n", ctx->helpname);
    else
        r = vc_buf_appendf(&b, "USAGE:\n   %s [command options] %s\n\n", ctx->helpname,
                           cmd->args_usage ? cmd->args_usage : "[arguments...]");
    if (r >= 0 && root && cmd->version)
        r = vc_buf_appendf(&b, "VERSION:\n   %s\n\n", cmd->version);
    if (r >= 0 && cmd->description)
        r = vc_buf_appendf(&b, "DESCRIPTION:\n   %s\n\n", cmd->description);
    if (r >= 0 && has_subs) {
        r = vc_buf_append_str(&b, "COMMANDS:\n");
        for (const vc_cli_cmd_t *s = cmd->subcommands; r >= 0 && s->name; s++) {
            r = vc_tabwriter_printf(tw, "   %s", s->name);
            for (const char *p = s->aliases; r >= 0 && p && *p;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                r = vc_tabwriter_printf(tw, ", %.*s", (int)n, p);
                p = comma ? comma + 1 : NULL;
            }
            if (r >= 0)
                r = vc_tabwriter_printf(tw, "\t%s\n", s->usage ? s->usage : "");
        }
        if (r >= 0 && !find_sub(cmd, "help"))
            r = vc_tabwriter_write(tw, "   help, h\tShows a list of commands or help for one command\n");
        if (r >= 0)
            r = vc_tabwriter_flush(tw, &b);
        if (r >= 0)
            r = vc_buf_append_str(&b, "\n");
    }
    if (r >= 0) {
        r = vc_buf_append_str(&b, root ? "GLOBAL OPTIONS:\n" : "OPTIONS:\n");
        for (const vc_cli_flag_t *f = cmd->flags; r >= 0 && f && f->name; f++)
            if (!f->hidden)
                r = flag_line(&tab, f);
        ctx->depth = depth;
        if (r >= 0 && !user_flag_named(ctx, "help"))
            r = vc_buf_append_str(&tab, "   --help, -h\tshow help (default: false)\n");
        if (r >= 0 && root && cmd->version && !user_flag_named(ctx, "version"))
            r = vc_buf_append_str(&tab, "   --version, -v\tprint the version (default: false)\n");
        ctx->depth = saved;
        if (r >= 0 && tab.len)
            r = vc_tabwriter_write(tw, tab.data);
        if (r >= 0)
            r = vc_tabwriter_flush(tw, &b);
    }
    if (r >= 0)
        fwrite(b.data, 1, b.len, ctx->out);
    vc_buf_done(&b);
    vc_buf_done(&tab);
    return r < 0 ? r : 0;
}

int vc_cli_show_help(vc_cli_ctx_t *ctx)
{
    return render_help(ctx, ctx->depth);
}

/* `help [cmd...]` from the command at depth. */
static int help_topic(vc_cli_ctx_t *ctx, char **topics, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const vc_cli_cmd_t *s = find_sub(ctx->path[ctx->depth - 1], topics[i]);
        if (!s || ctx->depth >= MAX_DEPTH) {
            fprintf(ctx->err, "No help topic for '%s'\n", topics[i]);
            return 1;
        }
        ctx->path[ctx->depth++] = s;
    }
    render_help(ctx, ctx->depth);
    return 0;
}

static void ctx_done(vc_cli_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->nfv; i++)
        fv_clear(&ctx->fv[i]);
    free(ctx->fv);
    free(ctx->args);
}

static int apply_env(vc_cli_ctx_t *ctx)
{
    for (size_t d = 0; d < ctx->depth; d++)
        for (const vc_cli_flag_t *f = ctx->path[d]->flags; f && f->name; f++) {
            flagval_t *v = get_fv(ctx, f);
            if ((v && v->set) || vc_strempty(f->env))
                continue;
            for (const char *p = f->env; p && *p;) {
                const char *comma = strchr(p, ',');
                char name[128];
                snprintf(name, sizeof(name), "%.*s", (int)(comma ? (size_t)(comma - p) : strlen(p)), p);
                const char *val = getenv(name);
                if (!vc_strempty(val)) {
                    if (!value_ok(f->type, val))
                        return usage_error(ctx, "invalid value \"%s\" for env var %s (flag -%s)", val, name,
                                           f->name);
                    if (store(ctx, f, val) < 0)
                        return usage_error(ctx, "out of memory");
                    break;
                }
                p = comma ? comma + 1 : NULL;
            }
        }
    return 0;
}

static int check_required(vc_cli_ctx_t *ctx)
{
    char names[512] = "";
    size_t pos = 0;
    int missing = 0;
    for (size_t d = 0; d < ctx->depth; d++)
        for (const vc_cli_flag_t *f = ctx->path[d]->flags; f && f->name; f++) {
            flagval_t *v = get_fv(ctx, f);
            if (!f->required || (v && v->set))
                continue;
            int n = snprintf(names + pos, sizeof(names) - pos, "%s%s", missing ? ", " : "", f->name);
            if (n > 0 && (size_t)n < sizeof(names) - pos)
                pos += (size_t)n;
            missing++;
        }
    if (!missing)
        return 0;
    fprintf(ctx->err, "Required flag%s \"%s\" not set\n", missing > 1 ? "s" : "", names);
    return 1;
}

static int check_args(vc_cli_ctx_t *ctx, const vc_cli_cmd_t *cmd)
{
    const char *au = cmd->args_usage ? cmd->args_usage : "";
    const char *sp = *au ? " " : "";
    if (cmd->nargs == VC_CLI_NO_ARGS && ctx->nargs > 0)
        return usage_error(ctx, "'%s' takes no arguments, got %zu", ctx->helpname, ctx->nargs);
    if (cmd->nargs > 0 && ctx->nargs != (size_t)cmd->nargs)
        return usage_error(ctx, "expected %d argument%s%s%s, got %zu", cmd->nargs, cmd->nargs == 1 ? "" : "s",
                           sp, au, ctx->nargs);
    if (cmd->nargs == 0 && cmd->min_args > 0 && ctx->nargs < (size_t)cmd->min_args)
        return usage_error(ctx, "expected at least %d argument%s%s%s, got %zu", cmd->min_args,
                           cmd->min_args == 1 ? "" : "s", sp, au, ctx->nargs);
    return 0;
}

int vc_cli_run(const vc_cli_cmd_t *root, int argc, char **argv, void *userdata, FILE *out, FILE *err)
{
    vc_cli_ctx_t ctx = {.out = out ? out : stdout, .err = err ? err : stderr, .userdata = userdata};
    bool only_args = false;
    int rc = 1;

    if (!root || !root->name)
        return 1;
    ctx.path[0] = root;
    ctx.depth = 1;
    if (argc > MAX_ARGS)
        return usage_error(&ctx, "too many arguments");
    ctx.args = calloc((size_t)VC_MAX(argc, 1), sizeof(char *));
    if (!ctx.args)
        return usage_error(&ctx, "out of memory");

    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const vc_cli_cmd_t *cmd = ctx.path[ctx.depth - 1];
        if (!only_args && strcmp(a, "--") == 0) {
            only_args = true;
            continue;
        }
        if (!only_args && a[0] == '-' && a[1]) {
            const char *name = a + (a[1] == '-' ? 2 : 1);
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            if (n == 0 || name[0] == '-' || name[0] == '=') {
                rc = usage_error(&ctx, "bad flag syntax: %s", a);
                goto out;
            }
            const vc_cli_flag_t *f = find_flag(&ctx, name, n);
            if (!f && ((n == 4 && strncmp(name, "help", 4) == 0) || (n == 1 && name[0] == 'h'))) {
                build_helpname(&ctx, ctx.depth);
                render_help(&ctx, ctx.depth);
                rc = 0;
                goto out;
            }
            if (!f && root->version &&
                ((n == 7 && strncmp(name, "version", 7) == 0) || (n == 1 && name[0] == 'v'))) {
                fprintf(ctx.out, "%s version %s\n", root->name, root->version);
                rc = 0;
                goto out;
            }
            if (!f) {
                rc = usage_error(&ctx, "flag provided but not defined: -%.*s", (int)n, name);
                goto out;
            }
            const char *val;
            if (f->type == VC_FLAG_BOOL)
                val = eq ? eq + 1 : "true";
            else if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                rc = usage_error(&ctx, "flag needs an argument: -%.*s", (int)n, name);
                goto out;
            }
            if (!value_ok(f->type, val)) {
                if (f->type == VC_FLAG_BOOL)
                    rc = usage_error(&ctx, "invalid boolean value \"%s\" for -%.*s: parse error", val, (int)n,
                                     name);
                else
                    rc = usage_error(&ctx, "invalid value \"%s\" for flag -%.*s: parse error", val, (int)n,
                                     name);
                goto out;
            }
            if (store(&ctx, f, val) < 0) {
                rc = usage_error(&ctx, "out of memory");
                goto out;
            }
            continue;
        }
        /* positional */
        if (!only_args && ctx.nargs == 0 && cmd->subcommands && cmd->subcommands->name) {
            const vc_cli_cmd_t *s = find_sub(cmd, a);
            if (s && ctx.depth < MAX_DEPTH) {
                ctx.path[ctx.depth++] = s;
                continue;
            }
            if (strcmp(a, "help") == 0 || strcmp(a, "h") == 0) {
                rc = help_topic(&ctx, argv + i + 1, (size_t)(argc - i - 1));
                goto out;
            }
            if (!cmd->run) {
                build_helpname(&ctx, ctx.depth);
                rc = usage_error(&ctx, "command '%s' not found for '%s'", a, ctx.helpname);
                goto out;
            }
        }
        ctx.args[ctx.nargs++] = a;
    }

    const vc_cli_cmd_t *cmd = ctx.path[ctx.depth - 1];
    build_helpname(&ctx, ctx.depth);
    if (!cmd->run) {
        render_help(&ctx, ctx.depth);
        rc = 0;
        goto out;
    }
    if ((rc = apply_env(&ctx)) != 0 || (rc = check_required(&ctx)) != 0 || (rc = check_args(&ctx, cmd)) != 0)
        goto out;
    int r = cmd->run(&ctx);
    if (r == 0)
        rc = 0;
    else if (r > 0)
        rc = r;
    else {
        if (!ctx.error_printed)
            fprintf(ctx.err, "ERROR: %s\n", vc_strerror(r));
        rc = 1;
    }
out:
    ctx_done(&ctx);
    return rc;
}

/* ---- accessors ---- */

const vc_cli_cmd_t *vc_cli_command(const vc_cli_ctx_t *ctx)
{
    return ctx->path[ctx->depth - 1];
}

void *vc_cli_userdata(const vc_cli_ctx_t *ctx)
{
    return ctx->userdata;
}

FILE *vc_cli_out(const vc_cli_ctx_t *ctx)
{
    return ctx->out;
}

FILE *vc_cli_err(const vc_cli_ctx_t *ctx)
{
    return ctx->err;
}

size_t vc_cli_nargs(const vc_cli_ctx_t *ctx)
{
    return ctx->nargs;
}

const char *vc_cli_arg(const vc_cli_ctx_t *ctx, size_t i)
{
    return i < ctx->nargs ? ctx->args[i] : NULL;
}

static const vc_cli_flag_t *lookup(const vc_cli_ctx_t *ctx, const char *name, flagval_t **ret_v)
{
    const vc_cli_flag_t *f = name ? find_flag(ctx, name, strlen(name)) : NULL;
    *ret_v = f ? get_fv(ctx, f) : NULL;
    if (*ret_v && !(*ret_v)->set)
        *ret_v = NULL;
    return f;
}

bool vc_cli_is_set(const vc_cli_ctx_t *ctx, const char *name)
{
    flagval_t *v;
    lookup(ctx, name, &v);
    return v != NULL;
}

/* The effective text: last given value, or the default. */
static const char *text_of(const vc_cli_ctx_t *ctx, const char *name, const vc_cli_flag_t **ret_f)
{
    flagval_t *v;
    const vc_cli_flag_t *f = lookup(ctx, name, &v);
    if (ret_f)
        *ret_f = f;
    if (!f)
        return NULL;
    if (v && v->n)
        return v->vals[v->n - 1];
    return f->def;
}

const char *vc_cli_string(const vc_cli_ctx_t *ctx, const char *name)
{
    const char *s = text_of(ctx, name, NULL);
    return s ? s : "";
}

int64_t vc_cli_int(const vc_cli_ctx_t *ctx, const char *name)
{
    int64_t v = 0;
    const char *s = text_of(ctx, name, NULL);
    if (!s || vc_parse_i64(s, &v) < 0)
        return 0;
    return v;
}

uint64_t vc_cli_uint(const vc_cli_ctx_t *ctx, const char *name)
{
    uint64_t v = 0;
    const char *s = text_of(ctx, name, NULL);
    if (!s || vc_parse_u64(s, &v) < 0)
        return 0;
    return v;
}

bool vc_cli_bool(const vc_cli_ctx_t *ctx, const char *name)
{
    bool b = false;
    const char *s = text_of(ctx, name, NULL);
    if (!s || parse_bool(s, &b) < 0)
        return false;
    return b;
}

int64_t vc_cli_duration_ms(const vc_cli_ctx_t *ctx, const char *name)
{
    int64_t v = 0;
    const char *s = text_of(ctx, name, NULL);
    if (!s || vc_parse_duration_ms(s, &v) < 0)
        return 0;
    return v;
}

const char *const *vc_cli_strings(const vc_cli_ctx_t *ctx, const char *name, size_t *ret_n)
{
    static const char *const empty[] = {NULL};
    flagval_t *v;
    const vc_cli_flag_t *f = lookup(ctx, name, &v);
    if (v && v->n) {
        if (ret_n)
            *ret_n = v->n;
        return (const char *const *)v->vals;
    }
    if (f && !vc_strempty(f->def)) {
        /* materialise the default once (split on ','), kept as "not set" */
        vc_cli_ctx_t *mctx = (vc_cli_ctx_t *)ctx;
        flagval_t *d = fv_for(mctx, f);
        if (d && !d->n) {
            if (store(mctx, f, f->def) < 0)
                d = NULL;
            else {
                d = get_fv(ctx, f);
                d->set = false;
            }
        }
        if (d && d->n) {
            if (ret_n)
                *ret_n = d->n;
            return (const char *const *)d->vals;
        }
    }
    if (ret_n)
        *ret_n = 0;
    return empty;
}

int vc_cli_errorf(vc_cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    fputs("ERROR: ", ctx->err);
    va_start(ap, fmt);
    vfprintf(ctx->err, fmt, ap);
    va_end(ap);
    fputc('\n', ctx->err);
    ctx->error_printed = true;
    return 1;
}

int vc_cli_print_json(vc_cli_ctx_t *ctx, const json_t *v)
{
    vc_buf_t b = {0};
    int r = vc_json_format_go(&b, v, "", "\t");
    if (r >= 0) {
        fwrite(b.data, 1, b.len, ctx->out);
        fputc('\n', ctx->out);
    }
    vc_buf_done(&b);
    return r;
}
