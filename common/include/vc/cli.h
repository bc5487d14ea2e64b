/*
 * cli.h: command-line framework for the daemons' CLIs (urfave/cli v2 look and feel), a Go
 * text/tabwriter port for tables, and Go encoding/json-style indented JSON output.
 *
 * A CLI is a static tree of vc_cli_cmd_t; the root's name is the program name and its flags are
 * global (visible to every subcommand). vc_cli_run() parses argv and calls the selected
 * command's run(); its return value is the process exit code:
 *   run() == 0 -> 0;  run() > 0 -> that code;  run() < 0 -> "ERROR: <vc_strerror>" (unless the
 *   action already printed with vc_cli_errorf) and 1;  usage errors -> one line
 *   "Incorrect Usage: flag provided but not defined: -foo" on stderr and 1;  --help -> 0.
 *
 * Flags: "--name value", "--name=value", "-name value" (Go accepts one dash too), bool flags
 * "--flag" / "--flag=false", aliases ("-r"), anywhere before or after positional args; "--"
 * ends flag parsing. String-slice flags repeat and split on ',' (as urfave v2 does). A flag
 * not given on the command line takes its first non-empty env var, then its default. Values
 * (command line, env) are validated while parsing, so the getters cannot fail.
 */
#ifndef VC_CLI_H
#define VC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "vc/util.h"

typedef enum vc_flag_type {
    VC_FLAG_BOOL,
    VC_FLAG_STRING,
    VC_FLAG_INT,      /* int64 */
    VC_FLAG_UINT,     /* uint64 */
    VC_FLAG_DURATION, /* "15s", "1m30s", bare integer = seconds; read as milliseconds */
    VC_FLAG_STRINGS,  /* repeatable string slice */
    VC_FLAG_TYPE_MAX,
} vc_flag_type_t;

typedef struct vc_cli_flag {
    const char *name;    /* long name without dashes: "repo" */
    const char *aliases; /* comma-separated short/long aliases: "r" */
    vc_flag_type_t type;
    const char *usage;
    const char *def; /* default as text (NULL: false / 0 / "" / empty list) */
    const char *env; /* comma-separated env vars tried in order: "SOPHON_AUTH_PATH,VENUS_AUTH_PATH" */
    bool required;
    bool hidden;
} vc_cli_flag_t;

typedef struct vc_cli_ctx vc_cli_ctx_t;

#define VC_CLI_NO_ARGS (-1)

typedef struct vc_cli_cmd {
    const char *name;
    const char *aliases;                  /* comma-separated */
    const char *usage;                    /* one line, shown in COMMANDS and NAME */
    const char *args_usage;               /* e.g. "<name>"; default "[arguments...]" */
    const char *description;              /* optional longer text */
    const char *version;                  /* root only: enables --version, -v */
    const vc_cli_flag_t *flags;           /* array ending with {0}, or NULL */
    const struct vc_cli_cmd *subcommands; /* array ending with {0}, or NULL */
    int nargs;    /* > 0: exactly nargs positional args; VC_CLI_NO_ARGS: none; 0: unchecked */
    int min_args; /* > 0: at least min_args (when nargs == 0) */
    int (*run)(vc_cli_ctx_t *ctx);
} vc_cli_cmd_t;

/* Parses argv (argv[0] is ignored: root->name is the program name) and runs the command.
 * out/err may be NULL (stdout/stderr). Returns the exit code. */
int vc_cli_run(const vc_cli_cmd_t *root, int argc, char **argv, void *userdata, FILE *out, FILE *err);

/* Inside run(): */
const vc_cli_cmd_t *vc_cli_command(const vc_cli_ctx_t *ctx);
void *vc_cli_userdata(const vc_cli_ctx_t *ctx);
FILE *vc_cli_out(const vc_cli_ctx_t *ctx);
FILE *vc_cli_err(const vc_cli_ctx_t *ctx);
size_t vc_cli_nargs(const vc_cli_ctx_t *ctx);
const char *vc_cli_arg(const vc_cli_ctx_t *ctx, size_t i); /* NULL when out of range */
/* Flag getters look the name (or an alias) up in the command and its ancestors. */
bool vc_cli_is_set(const vc_cli_ctx_t *ctx, const char *name);        /* given on the command line or env */
const char *vc_cli_string(const vc_cli_ctx_t *ctx, const char *name); /* "" when unset, no default */
int64_t vc_cli_int(const vc_cli_ctx_t *ctx, const char *name);
uint64_t vc_cli_uint(const vc_cli_ctx_t *ctx, const char *name);
bool vc_cli_bool(const vc_cli_ctx_t *ctx, const char *name);
int64_t vc_cli_duration_ms(const vc_cli_ctx_t *ctx, const char *name);
/* NULL-terminated vector owned by ctx; *ret_n optional. */
const char *const *vc_cli_strings(const vc_cli_ctx_t *ctx, const char *name, size_t *ret_n);
/* Prints "ERROR: <msg>" to the error stream; returns 1 (use: return vc_cli_errorf(...)). */
int vc_cli_errorf(vc_cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the current command's help to the output stream; returns 0. */
int vc_cli_show_help(vc_cli_ctx_t *ctx);
/* json.MarshalIndent(v, "", "\t") + "\n" to the output stream. */
int vc_cli_print_json(vc_cli_ctx_t *ctx, const json_t *v);

/*
 * Go text/tabwriter port (AlignLeft, no flags). Text is cells separated by '\t' and lines by
 * '\n'; a tab-terminated cell belongs to a column, the last cell of a line does not. Widths are
 * counted in UTF-8 code points. Venus CLIs use NewWriter(os.Stdout, 2, 4, 2, ' ', 0).
 */
typedef struct vc_tabwriter vc_tabwriter_t;
vc_tabwriter_t *vc_tabwriter_new(int minwidth, int tabwidth, int padding, char padchar);
#define vc_tabwriter_new_venus() vc_tabwriter_new(2, 4, 2, ' ')
vc_tabwriter_t *vc_tabwriter_free(vc_tabwriter_t *tw);
VC_DEFINE_CLEANUP(vc_tabwriter_t *, vc_tabwriter_free)
int vc_tabwriter_write(vc_tabwriter_t *tw, const char *text);
int vc_tabwriter_printf(vc_tabwriter_t *tw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Cells (NULL-terminated) joined with '\t' plus '\n', like fmt.Fprintf(w, "%s\t%s\n", a, b). */
int vc_tabwriter_row(vc_tabwriter_t *tw, const char *cell, ...);
/* Formats everything written so far, appends it to out and empties the writer. */
int vc_tabwriter_flush(vc_tabwriter_t *tw, vc_buf_t *out);
int vc_tabwriter_flush_file(vc_tabwriter_t *tw, FILE *f);

/*
 * Go encoding/json output: indent NULL -> json.Marshal (compact); else json.MarshalIndent(v,
 * prefix, indent). Keys in insertion order; '<' '>' '&' U+2028 U+2029 escaped as \u003c etc.;
 * floats formatted like Go. No trailing newline. Appends to out.
 */
int vc_json_format_go(vc_buf_t *out, const json_t *v, const char *prefix, const char *indent);

#endif
