/* Tests for cli.c: flag parsing, help, tabwriter, Go-style JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vc-test.h"
#include "vc/cli.h"
#include "vc/util.h"

/* What the last action saw. */
static struct {
    const char *cmd;
    char repo[128], perm[64], user[64];
    int64_t count, timeout_ms;
    uint64_t limit;
    bool force, perm_set;
    size_t nargs, nurls;
    char arg0[64], urls[256];
} seen;

static void record(vc_cli_ctx_t *ctx)
{
    memset(&seen, 0, sizeof(seen));
    seen.cmd = vc_cli_command(ctx)->name;
    snprintf(seen.repo, sizeof(seen.repo), "%s", vc_cli_string(ctx, "repo"));
    seen.nargs = vc_cli_nargs(ctx);
    snprintf(seen.arg0, sizeof(seen.arg0), "%s", vc_cli_arg(ctx, 0) ? vc_cli_arg(ctx, 0) : "(none)");
}

static int run_gen(vc_cli_ctx_t *ctx)
{
    record(ctx);
    snprintf(seen.perm, sizeof(seen.perm), "%s", vc_cli_string(ctx, "perm"));
    seen.perm_set = vc_cli_is_set(ctx, "perm");
    fprintf(vc_cli_out(ctx), "token-for-%s\n", vc_cli_arg(ctx, 0));
    return 0;
}

static int run_add(vc_cli_ctx_t *ctx)
{
    record(ctx);
    snprintf(seen.user, sizeof(seen.user), "%s", vc_cli_string(ctx, "user"));
    seen.count = vc_cli_int(ctx, "count");
    seen.limit = vc_cli_uint(ctx, "limit");
    seen.force = vc_cli_bool(ctx, "force");
    seen.timeout_ms = vc_cli_duration_ms(ctx, "timeout");
    const char *const *urls = vc_cli_strings(ctx, "url", &seen.nurls);
    for (size_t i = 0; urls[i]; i++)
        snprintf(seen.urls + strlen(seen.urls), sizeof(seen.urls) - strlen(seen.urls), "%s|", urls[i]);
    return 0;
}

static int run_plain(vc_cli_ctx_t *ctx)
{
    record(ctx);
    return 0;
}

static int run_fail(vc_cli_ctx_t *ctx)
{
    if (vc_cli_nargs(ctx) > 0)
        return vc_cli_errorf(ctx, "user %s not found", vc_cli_arg(ctx, 0));
    return -ENOENT;
}

static const vc_cli_flag_t gen_flags[] = {
    {.name = "perm",
     .type = VC_FLAG_STRING,
     .usage = "permission for API auth (read, write, sign, admin)",
     .def = "read"},
    {.name = "extra", .type = VC_FLAG_STRING, .usage = "custom string in JWT payload"},
    {0},
};

static const vc_cli_flag_t add_flags[] = {
    {.name = "user", .aliases = "u", .type = VC_FLAG_STRING, .usage = "user name", .required = true},
    {.name = "count", .type = VC_FLAG_INT, .def = "10"},
    {.name = "limit", .type = VC_FLAG_UINT},
    {.name = "force", .type = VC_FLAG_BOOL},
    {.name = "timeout", .type = VC_FLAG_DURATION, .def = "15s"},
    {.name = "url", .type = VC_FLAG_STRINGS, .usage = "gateway url", .def = "/ip4/127.0.0.1/tcp/45132"},
    {.name = "secret", .type = VC_FLAG_STRING, .hidden = true},
    {0},
};

static const vc_cli_cmd_t token_cmds[] = {
    {.name = "gen",
     .usage = "generate token",
     .args_usage = "<name>",
     .nargs = 1,
     .flags = gen_flags,
     .run = run_gen},
    {.name = "list", .aliases = "ls", .usage = "list token", .nargs = VC_CLI_NO_ARGS, .run = run_plain},
    {0},
};

static const vc_cli_cmd_t root_cmds[] = {
    {.name = "run", .usage = "run venus-auth daemon", .run = run_plain},
    {.name = "token", .usage = "token command", .subcommands = token_cmds},
    {.name = "add",
     .usage = "add a user",
     .min_args = 1,
     .args_usage = "<addr>...",
     .flags = add_flags,
     .run = run_add},
    {.name = "fail", .usage = "always fails", .run = run_fail},
    {0},
};

static const vc_cli_flag_t global_flags[] = {
    {.name = "repo",
     .type = VC_FLAG_STRING,
     .usage = "repo path",
     .def = "~/.sophon-auth",
     .env = "VCT_AUTH_PATH,VCT_AUTH_PATH2"},
    {0},
};

static const vc_cli_cmd_t root = {
    .name = "sophon-auth",
    .usage = "sophon auth",
    .version = "1.0.0",
    .flags = global_flags,
    .subcommands = root_cmds,
};

typedef struct res {
    int rc;
    char out[4096], err[1024];
} res_t;

static res_t R;

/* Runs the CLI with the NULL-terminated args; output lands in R. */
static int cli(const char *a0, ...)
{
    char *argv[32] = {(char *)"sophon-auth"};
    int argc = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    char *ob = NULL, *eb = NULL;
    size_t on = 0, en = 0;
    FILE *out = open_memstream(&ob, &on), *err = open_memstream(&eb, &en);
    R.rc = vc_cli_run(&root, argc, argv, NULL, out, err);
    fclose(out);
    fclose(err);
    snprintf(R.out, sizeof(R.out), "%s", ob ? ob : "");
    snprintf(R.err, sizeof(R.err), "%s", eb ? eb : "");
    free(ob);
    free(eb);
    return R.rc;
}

static void test_flags_basic(void)
{
    unsetenv("VCT_AUTH_PATH");
    unsetenv("VCT_AUTH_PATH2");
    ASSERT_EQ(cli("token", "gen", "alice", NULL), 0);
    ASSERT_STREQ(seen.cmd, "gen");
    ASSERT_STREQ(seen.perm, "read");
    ASSERT_FALSE(seen.perm_set);
    ASSERT_STREQ(seen.repo, "~/.sophon-auth");
    ASSERT_STREQ(R.out, "token-for-alice\n");
    /* flags after args, --name=value, single dash, global flag after subcommand */
    ASSERT_EQ(cli("token", "gen", "bob", "--perm=admin", "--repo", "/tmp/r", NULL), 0);
    ASSERT_STREQ(seen.perm, "admin");
    ASSERT_TRUE(seen.perm_set);
    ASSERT_STREQ(seen.repo, "/tmp/r");
    ASSERT_STREQ(seen.arg0, "bob");
    ASSERT_EQ(cli("--repo=/x", "token", "gen", "-perm", "sign", "carol", NULL), 0);
    ASSERT_STREQ(seen.repo, "/x");
    ASSERT_STREQ(seen.perm, "sign");
    ASSERT_STREQ(seen.arg0, "carol");
    /* alias command */
    ASSERT_EQ(cli("token", "ls", NULL), 0);
    ASSERT_STREQ(seen.cmd, "list");
    /* "--" ends flags */
    ASSERT_EQ(cli("token", "gen", "--", "--perm", NULL), 0);
    ASSERT_STREQ(seen.arg0, "--perm");
    ASSERT_STREQ(seen.perm, "read");
}

static void test_flags_types(void)
{
    ASSERT_EQ(cli("add", "-u", "alice", "--count", "-5", "--limit=7", "--force", "--timeout", "1m30s",
                  "--url", "a", "--url=b,c", "f01000", NULL),
              0);
    ASSERT_STREQ(seen.user, "alice");
    ASSERT_EQ(seen.count, -5); /* a value may start with '-' */
    ASSERT_EQ(seen.limit, 7);
    ASSERT_TRUE(seen.force);
    ASSERT_EQ(seen.timeout_ms, 90000);
    ASSERT_EQ(seen.nurls, 3);
    ASSERT_STREQ(seen.urls, "a|b|c|");
    ASSERT_EQ(seen.nargs, 1);
    /* defaults */
    ASSERT_EQ(cli("add", "--user", "x", "--force=false", "f01", "f02", NULL), 0);
    ASSERT_EQ(seen.count, 10);
    ASSERT_EQ(seen.limit, 0);
    ASSERT_FALSE(seen.force);
    ASSERT_EQ(seen.timeout_ms, 15000);
    ASSERT_STREQ(seen.urls, "/ip4/127.0.0.1/tcp/45132|");
    ASSERT_EQ(seen.nargs, 2);
}

static void test_flag_errors(void)
{
    ASSERT_EQ(cli("token", "gen", "--foo", "x", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: flag provided but not defined: -foo\n");
    ASSERT_EQ(cli("token", "gen", "x", "--perm", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: flag needs an argument: -perm\n");
    ASSERT_EQ(cli("add", "-u", "a", "--count", "ten", "f0", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: invalid value \"ten\" for flag -count: parse error\n");
    ASSERT_EQ(cli("add", "-u", "a", "--limit", "-1", "f0", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: invalid value \"-1\" for flag -limit: parse error\n");
    ASSERT_EQ(cli("add", "-u", "a", "--force=maybe", "f0", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: invalid boolean value \"maybe\" for -force: parse error\n");
    ASSERT_EQ(cli("add", "-u", "a", "--timeout", "5x", "f0", NULL), 1);
    ASSERT_EQ(cli("add", "f0", NULL), 1);
    ASSERT_STREQ(R.err, "Required flag \"user\" not set\n");
    ASSERT_EQ(cli("add", "-u", "a", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: expected at least 1 argument <addr>..., got 0\n");
    ASSERT_EQ(cli("token", "gen", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: expected 1 argument <name>, got 0\n");
    ASSERT_EQ(cli("token", "gen", "a", "b", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: expected 1 argument <name>, got 2\n");
    ASSERT_EQ(cli("token", "list", "x", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: 'sophon-auth token list' takes no arguments, got 1\n");
    ASSERT_EQ(cli("nope", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: command 'nope' not found for 'sophon-auth'\n");
    ASSERT_EQ(cli("---x", NULL), 1);
    ASSERT_STREQ(R.err, "Incorrect Usage: bad flag syntax: ---x\n");
    ASSERT_STREQ(R.out, "");
}

static void test_env(void)
{
    setenv("VCT_AUTH_PATH2", "/from/env2", 1);
    ASSERT_EQ(cli("run", NULL), 0);
    ASSERT_STREQ(seen.repo, "/from/env2");
    setenv("VCT_AUTH_PATH", "/from/env", 1);
    ASSERT_EQ(cli("run", NULL), 0);
    ASSERT_STREQ(seen.repo, "/from/env");
    ASSERT_EQ(cli("run", "--repo", "/flag", NULL), 0); /* the command line wins */
    ASSERT_STREQ(seen.repo, "/flag");
    unsetenv("VCT_AUTH_PATH");
    unsetenv("VCT_AUTH_PATH2");
}

static void test_action_errors(void)
{
    ASSERT_EQ(cli("fail", NULL), 1);
    ASSERT_STREQ(R.err, "ERROR: No such file or directory\n");
    ASSERT_EQ(cli("fail", "bob", NULL), 1);
    ASSERT_STREQ(R.err, "ERROR: user bob not found\n");
}

static const char ROOT_HELP[] =
    "NAME:\n"
    "   sophon-auth - sophon auth\n"
    "\n"
    "USAGE:\n"
    "   sophon-auth [global options] command [command options] [arguments...]\n"
    "\n"
    "VERSION:\n"
    "   1.0.0\n"
    "\n"
    "COMMANDS:\n"
    "   run      run venus-auth daemon\n"
    "   token    token command\n"
    "   add      add a user\n"
    "   fail     always fails\n"
    "   help, h  Shows a list of commands or help for one command\n"
    "\n"
    "GLOBAL OPTIONS:\n"
    "   --repo value   repo path (default: \"~/.sophon-auth\") [$VCT_AUTH_PATH, $VCT_AUTH_PATH2]\n"
    "   --help, -h     show help (default: false)\n"
    "   --version, -v  print the version (default: false)\n";

static const char GEN_HELP[] =
    "NAME:\n"
    "   sophon-auth token gen - generate token\n"
    "\n"
    "USAGE:\n"
    "   sophon-auth token gen [command options] <name>\n"
    "\n"
    "OPTIONS:\n"
    "   --perm value   permission for API auth (read, write, sign, admin) (default: \"read\")\n"
    "   --extra value  custom string in JWT payload\n"
    "   --help, -h     show help (default: false)\n";

static void test_help(void)
{
    ASSERT_EQ(cli("--help", NULL), 0);
    ASSERT_STREQ(R.out, ROOT_HELP);
    ASSERT_EQ(cli(NULL), 0); /* no command: help */
    ASSERT_STREQ(R.out, ROOT_HELP);
    ASSERT_EQ(cli("help", NULL), 0);
    ASSERT_STREQ(R.out, ROOT_HELP);
    ASSERT_EQ(cli("token", "gen", "-h", NULL), 0);
    ASSERT_STREQ(R.out, GEN_HELP);
    ASSERT_EQ(cli("help", "token", "gen", NULL), 0);
    ASSERT_STREQ(R.out, GEN_HELP);
    ASSERT_EQ(cli("token", "help", "gen", NULL), 0);
    ASSERT_STREQ(R.out, GEN_HELP);
    ASSERT_EQ(cli("token", NULL), 0);
    ASSERT_STREQ(R.out, "NAME:\n"
                        "   sophon-auth token - token command\n"
                        "\n"
                        "USAGE:\n"
                        "   sophon-auth token command [command options] [arguments...]\n"
                        "\n"
                        "COMMANDS:\n"
                        "   gen       generate token\n"
                        "   list, ls  list token\n"
                        "   help, h   Shows a list of commands or help for one command\n"
                        "\n"
                        "OPTIONS:\n"
                        "   --help, -h  show help (default: false)\n");
    ASSERT_EQ(cli("add", "--help", NULL), 0);
    ASSERT_TRUE(strstr(R.out, "   --user value, -u value  user name\n") != NULL);
    ASSERT_TRUE(strstr(R.out, "--count value            (default: 10)\n") != NULL);
    ASSERT_TRUE(strstr(R.out, "secret") == NULL); /* hidden */
    ASSERT_EQ(cli("help", "nope", NULL), 1);
    ASSERT_STREQ(R.err, "No help topic for 'nope'\n");
    ASSERT_EQ(cli("--version", NULL), 0);
    ASSERT_STREQ(R.out, "sophon-auth version 1.0.0\n");
}

static char *flush_str(vc_tabwriter_t *tw)
{
    vc_buf_t b = {0};
    if (vc_tabwriter_flush(tw, &b) < 0)
        return NULL;
    return b.data ? vc_buf_steal(&b) : strdup("");
}

static void test_tabwriter(void)
{
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
    ASSERT_NOTNULL(tw);
    ASSERT_OK(vc_tabwriter_row(tw, "ID", "NAME", "STATE", NULL));
    ASSERT_OK(vc_tabwriter_row(tw, "1", "alice", "enabled", NULL));
    ASSERT_OK(vc_tabwriter_printf(tw, "%d\t%s\t%s\n", 22, "bob-long-name", "disabled"));
    s1 = flush_str(tw);
    ASSERT_STREQ(s1, "ID  NAME           STATE\n"
                     "1   alice          enabled\n"
                     "22  bob-long-name  disabled\n");
    /* UTF-8 widths count code points */
    ASSERT_OK(vc_tabwriter_write(tw, "h\xc3\xa9llo\tx\na\ty\n"));
    s2 = flush_str(tw);
    ASSERT_STREQ(s2, "h\xc3\xa9llo  x\na      y\n");
    /* column blocks end at lines with fewer cells; an empty line breaks the block */
    ASSERT_OK(vc_tabwriter_write(tw, "a\tb\tc\naaaa\tb\n\nx\ty\n"));
    s3 = flush_str(tw);
    ASSERT_STREQ(s3, "a     b  c\naaaa  b\n\nx  y\n");
    /* trailing tab makes the last cell part of a column; partial last line kept */
    ASSERT_OK(vc_tabwriter_write(tw, "k\tv\t\nkey\tvalue\t\nend"));
    s4 = flush_str(tw);
    ASSERT_STREQ(s4, "k    v      \nkey  value  \nend");
}

static void test_json(void)
{
    json_error_t e;
    json_t *v = json_loads("{\"a\":1,\"b\":[1,\"x<y>&z\"],\"c\":{},\"d\":[],\"e\":null,\"f\":1.5,\"g\":1e21,"
                           "\"h\":0.0000001,\"i\":true,\"j\":100.0,\"s\":\"tab\\there\\u2028\\u0001\"}",
                           0, &e);
    vc_buf_t b = {0};
    ASSERT_NOTNULL(v);
    ASSERT_OK(vc_json_format_go(&b, v, "", "\t"));
    ASSERT_STREQ(b.data, "{\n"
                         "\t\"a\": 1,\n"
                         "\t\"b\": [\n"
                         "\t\t1,\n"
                         "\t\t\"x\\u003cy\\u003e\\u0026z\"\n"
                         "\t],\n"
                         "\t\"c\": {},\n"
                         "\t\"d\": [],\n"
                         "\t\"e\": null,\n"
                         "\t\"f\": 1.5,\n"
                         "\t\"g\": 1e+21,\n"
                         "\t\"h\": 1e-7,\n"
                         "\t\"i\": true,\n"
                         "\t\"j\": 100,\n"
                         "\t\"s\": \"tab\\there\\u2028\\u0001\"\n"
                         "}");
    vc_buf_done(&b);
    json_t *small = json_pack("{s:[i,{s:s}]}", "a", 1, "k", "v");
    ASSERT_OK(vc_json_format_go(&b, small, "", "  "));
    ASSERT_STREQ(b.data, "{\n  \"a\": [\n    1,\n    {\n      \"k\": \"v\"\n    }\n  ]\n}");
    vc_buf_done(&b);
    ASSERT_OK(vc_json_format_go(&b, small, " ", "\t"));
    ASSERT_STREQ(b.data, "{\n \t\"a\": [\n \t\t1,\n \t\t{\n \t\t\t\"k\": \"v\"\n \t\t}\n \t]\n }");
    vc_buf_done(&b);
    ASSERT_OK(vc_json_format_go(&b, small, NULL, NULL));
    ASSERT_STREQ(b.data, "{\"a\":[1,{\"k\":\"v\"}]}");
    vc_buf_done(&b);
    json_t *str = json_string("plain");
    ASSERT_OK(vc_json_format_go(&b, str, "", "\t"));
    ASSERT_STREQ(b.data, "\"plain\"");
    vc_buf_done(&b);
    json_decref(str);
    json_decref(small);
    json_decref(v);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_flags_basic);
    VC_TEST_RUN(test_flags_types);
    VC_TEST_RUN(test_flag_errors);
    VC_TEST_RUN(test_env);
    VC_TEST_RUN(test_action_errors);
    VC_TEST_RUN(test_help);
    VC_TEST_RUN(test_tabwriter);
    VC_TEST_RUN(test_json);
    return VC_TEST_DONE();
}
