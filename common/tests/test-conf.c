/* Tests for conf.c (TOML subset, getters, overrides, writer). */
#include <stdlib.h>

#include "vc-test.h"
#include "vc/conf.h"
#include "vc/util.h"

static const char AUTH_TOML[] = "# sophon-auth config\n"
                                "Listen = \"127.0.0.1:8989\"\n"
                                "ReadTimeout = \"1m\"\n"
                                "WriteTimeout = \"1m\"\n"
                                "IdleTimeout = 60_000_000_000 # ns\n"
                                "\n"
                                "[Log]\n"
                                "  LogLevel = \"info\"\n"
                                "  Type = 0\n"
                                "  HookSwitch = false\n"
                                "\n"
                                "  [Log.InfluxDB]\n"
                                "    ServerURL = \"http://localhost:8086\"\n"
                                "\n"
                                "[DB]\n"
                                "  Type = \"badger\"\n"
                                "  DSN = \"\"\n"
                                "  MaxOpenConns = 64\n"
                                "  MaxLifeTime = \"120s\"\n"
                                "[Trace]\n"
                                "  JaegerTracingEnabled = false\n"
                                "  ProbabilitySampler = 1.0\n"
                                "  JaegerEndpoint = 'localhost:6831'\n"
                                "[Gateway]\n"
                                "  ListenAPI = [\"/ip4/127.0.0.1/tcp/45132\", \"/ip4/10.0.0.2/tcp/45132\"]\n"
                                "[[SubmitNodes]]\n"
                                "  Addr = \"a\"\n"
                                "[[SubmitNodes]]\n"
                                "  Addr = \"b\"\n";

static vc_conf_t *parse_ok(const char *text)
{
    vc_conf_t *c = vc_conf_new();
    int r = vc_conf_parse(c, "config.toml", text, strlen(text));
    if (r < 0) {
        VC_FAIL_("parse failed: %s", vc_conf_error(c));
        c = vc_conf_free(c);
    }
    return c;
}

static void test_auth_config(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *c = parse_ok(AUTH_TOML);
    const char *s;
    int64_t i, ms;
    bool b;
    double d;
    char **v;
    size_t n;

    ASSERT_NOTNULL(c);
    ASSERT_EQ(vc_conf_get_string(c, "Listen", "x", &s), 1);
    ASSERT_STREQ(s, "127.0.0.1:8989");
    ASSERT_EQ(vc_conf_get_string(c, "listen", "x", &s), 1); /* viper: case-insensitive */
    ASSERT_STREQ(s, "127.0.0.1:8989");
    ASSERT_EQ(vc_conf_get_string(c, "DB.Type", NULL, &s), 1);
    ASSERT_STREQ(s, "badger");
    ASSERT_EQ(vc_conf_get_string(c, "db.dsn", NULL, &s), 1);
    ASSERT_STREQ(s, "");
    ASSERT_EQ(vc_conf_get_string(c, "DB.Missing", "dflt", &s), 0);
    ASSERT_STREQ(s, "dflt");
    ASSERT_EQ(vc_conf_get_string(c, "Log.InfluxDB.ServerURL", NULL, &s), 1);
    ASSERT_STREQ(s, "http://localhost:8086");
    ASSERT_EQ(vc_conf_get_int(c, "DB.MaxOpenConns", 0, &i), 1);
    ASSERT_EQ(i, 64);
    ASSERT_EQ(vc_conf_get_int(c, "DB.MaxIdleConns", 128, &i), 0);
    ASSERT_EQ(i, 128);
    ASSERT_EQ(vc_conf_get_bool(c, "Log.HookSwitch", true, &b), 1);
    ASSERT_FALSE(b);
    ASSERT_EQ(vc_conf_get_double(c, "Trace.ProbabilitySampler", 0, &d), 1);
    ASSERT_TRUE(d == 1.0);
    ASSERT_EQ(vc_conf_get_duration_ms(c, "ReadTimeout", 0, &ms), 1);
    ASSERT_EQ(ms, 60000);
    ASSERT_EQ(vc_conf_get_duration_ms(c, "IdleTimeout", 0, &ms), 1);
    ASSERT_EQ(ms, 60000);
    ASSERT_EQ(vc_conf_get_duration_ms(c, "DB.MaxLifeTime", 0, &ms), 1);
    ASSERT_EQ(ms, 120000);
    ASSERT_EQ(vc_conf_get_duration_ms(c, "DB.MaxIdleTime", 60000, &ms), 0);
    ASSERT_EQ(ms, 60000);
    ASSERT_EQ(vc_conf_get_string_array(c, "Gateway.ListenAPI", &v, &n), 1);
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(v[1], "/ip4/10.0.0.2/tcp/45132");
    ASSERT_TRUE(v[2] == NULL);
    free(v);
    ASSERT_EQ(vc_conf_get_string_array(c, "Listen", &v, &n), 1);
    ASSERT_EQ(n, 1);
    free(v);
    ASSERT_EQ(vc_conf_get_string_array(c, "Nope", &v, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_TRUE(v[0] == NULL);
    free(v);
    json_t *nodes = vc_conf_get(c, "SubmitNodes");
    ASSERT_TRUE(json_is_array(nodes) && json_array_size(nodes) == 2);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(nodes, 1), "Addr")), "b");

    /* type errors name the key */
    ASSERT_EQ(vc_conf_get_int(c, "Listen", 0, &i), VC_ETYPE);
    ASSERT_STREQ(vc_conf_error(c), "Listen: expected an integer");
    ASSERT_EQ(vc_conf_get_string(c, "DB.MaxOpenConns", NULL, &s), VC_ETYPE);
    ASSERT_STREQ(vc_conf_error(c), "DB.MaxOpenConns: expected a string");
    ASSERT_EQ(vc_conf_get_duration_ms(c, "Log.LogLevel", 0, &ms), VC_ETYPE);
    ASSERT_EQ(vc_conf_get_string_array(c, "DB.MaxOpenConns", &v, &n), VC_ETYPE);
    ASSERT_EQ(vc_conf_get_bool(c, "DB", false, &b), VC_ETYPE);
}

static void test_listen_type_error(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *c = parse_ok("Listen = 5\n");
    const char *s;
    ASSERT_NOTNULL(c);
    ASSERT_EQ(vc_conf_get_string(c, "Listen", "127.0.0.1:8989", &s), VC_ETYPE);
    ASSERT_STREQ(vc_conf_error(c), "Listen: expected a string");
}

static void test_values(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *c = parse_ok("a = \"tab\\there \\\"q\\\" \\\\ \\u00e9\\U0001F600\"\n"
                                                     "b = 'C:\\path\\n'\n"
                                                     "c = \"\"\"\nline1\nline2 \\\n    joined\"\"\"\n"
                                                     "d = '''\nraw \\n ''text'''''\n"
                                                     "e = -9_223_372_036_854_775_808\n"
                                                     "f = +17\n"
                                                     "g = 0xff\n"
                                                     "h = 0o17\n"
                                                     "i = 0b101\n"
                                                     "j = -1.5e3\n"
                                                     "k = 6.626e-34\n"
                                                     "l = [1, [\"x\", 2.5], {z = true}, ]\n"
                                                     "m = { x = 1, y.z = \"w\" }\n"
                                                     "\"quoted key\" = 1\n"
                                                     "site.\"google.com\" = true\n"
                                                     "n = [\n  1, # comment\n  2,\n]\n"
                                                     "o = \"\"\"two quotes at end\"\"\"\"\"\n"
                                                     "p = 0\n");
    json_t *r;
    ASSERT_NOTNULL(c);
    r = vc_conf_root(c);
    ASSERT_STREQ(json_string_value(json_object_get(r, "a")), "tab\there \"q\" \\ \xc3\xa9\xf0\x9f\x98\x80");
    ASSERT_STREQ(json_string_value(json_object_get(r, "b")), "C:\\path\\n");
    ASSERT_STREQ(json_string_value(json_object_get(r, "c")), "line1\nline2 joined");
    ASSERT_STREQ(json_string_value(json_object_get(r, "d")), "raw \\n ''text''");
    ASSERT_TRUE(json_integer_value(json_object_get(r, "e")) == INT64_MIN);
    ASSERT_EQ(json_integer_value(json_object_get(r, "f")), 17);
    ASSERT_EQ(json_integer_value(json_object_get(r, "g")), 255);
    ASSERT_EQ(json_integer_value(json_object_get(r, "h")), 15);
    ASSERT_EQ(json_integer_value(json_object_get(r, "i")), 5);
    ASSERT_TRUE(json_real_value(json_object_get(r, "j")) == -1500.0);
    ASSERT_TRUE(json_real_value(json_object_get(r, "k")) == 6.626e-34);
    json_t *l = json_object_get(r, "l");
    ASSERT_EQ(json_array_size(l), 3);
    ASSERT_TRUE(json_real_value(json_array_get(json_array_get(l, 1), 1)) == 2.5);
    ASSERT_TRUE(json_is_true(json_object_get(json_array_get(l, 2), "z")));
    const char *s;
    ASSERT_EQ(vc_conf_get_string(c, "m.y.z", NULL, &s), 1);
    ASSERT_STREQ(s, "w");
    ASSERT_EQ(json_integer_value(json_object_get(r, "quoted key")), 1);
    ASSERT_TRUE(json_is_true(json_object_get(json_object_get(r, "site"), "google.com")));
    ASSERT_EQ(json_array_size(json_object_get(r, "n")), 2);
    ASSERT_STREQ(json_string_value(json_object_get(r, "o")), "two quotes at end\"\"");
    ASSERT_EQ(json_integer_value(json_object_get(r, "p")), 0);
}

struct bad {
    const char *text;
    const char *err; /* expected message, exact */
};

static void test_errors(void)
{
    static const struct bad cases[] = {
        {"a = 1\nb 2\n", "config.toml:2:3: expected '=' after key"},
        {"a = 1\na = 2\n", "config.toml:2:1: duplicate key 'a'"},
        {"[t]\nx = 1\n[t]\n", "config.toml:3:1: table 't' is defined more than once"},
        {"a = \"x\\q\"\n", "config.toml:1:7: invalid escape sequence '\\q'"},
        {"a = \"abc\n", "config.toml:1:9: newline in string (missing closing quote?)"},
        {"a = 012\n", "config.toml:1:5: leading zeros are not allowed"},
        {"a = 9223372036854775808\n", "config.toml:1:5: integer out of range"},
        {"a = -9223372036854775809\n", "config.toml:1:5: integer out of range"},
        {"a = 1__0\n", "config.toml:1:5: invalid number"},
        {"a = 1_\n", "config.toml:1:5: invalid number"},
        {"a = 1.\n", "config.toml:1:5: invalid float"},
        {"a = 1e999\n", "config.toml:1:5: float out of range"},
        {"a = hello\n", "config.toml:1:5: invalid value 'hello' (strings must be quoted)"},
        {"a = 1979-05-27\n", "config.toml:1:5: dates and times are not supported (use a string)"},
        {"a = inf\n", "config.toml:1:5: inf and nan are not supported"},
        {"a = 1 2\n", "config.toml:1:7: unexpected text after value"},
        {"a = [1 2]\n", "config.toml:1:8: expected ',' or ']' in array"},
        {"a = [1,\n", "config.toml:2:1: unterminated array"},
        {"a = {x = 1,}\n", "config.toml:1:12: trailing comma in inline table"},
        {"a = {x = 1\n}\n", "config.toml:1:11: newline in inline table"},
        {"a = \"\\u0000\"\n", "config.toml:1:6: invalid unicode escape (code point 0)"},
        {"a = \"\\uD800\"\n", "config.toml:1:6: invalid unicode escape (code point 55296)"},
        {"a = \"\xff\"\n", "config.toml:1:6: invalid UTF-8 in string"},
        {"# \xc3\x28\n", "config.toml:1:3: invalid UTF-8 in comment"},
        {"a = 1\n[b\n", "config.toml:2:3: expected ']' after table name"},
        {"a = 1\n[a.b]\n", "config.toml:2:1: cannot define table 'a.b': 'a' is not a table"},
        {"a = {x = 1}\n[a.y]\n", "config.toml:2:1: cannot define table 'a.y': 'a' is not a table"},
        {"a = {x = 1}\na.y = 2\n", "config.toml:2:1: key 'a.y' conflicts with 'a' defined before"},
        {"[a]\nb.c = 1\n[a.b]\n", "config.toml:3:1: table 'a.b' is defined more than once"},
        {"[[a]]\n[a]\n", "config.toml:2:1: table 'a' is defined more than once"},
        {"a = []\n[[a]]\n", "config.toml:2:1: 'a' is not an array of tables"},
        {"= 1\n", "config.toml:1:1: unexpected character '=' (expected a key)"},
        {"a =\n", "config.toml:1:4: expected a value"},
        {"a = \"x\" # ok\n\n\n\n\nb = 'unterminated\n",
         "config.toml:6:18: newline in string (missing closing quote?)"},
        {"a = \"\"\"never closed\n\n", "config.toml:3:1: unterminated string"},
        {"a = 1\r\nb = \x01\n", "config.toml:2:5: unexpected character (expected a value)"},
        {"[x]\n  k = 1\n  k = 2\n", "config.toml:3:3: duplicate key 'k'"},
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(cases); i++) {
        _cleanup_(vc_conf_freep) vc_conf_t *c = vc_conf_new();
        int r = vc_conf_parse(c, "config.toml", cases[i].text, strlen(cases[i].text));
        if (r >= 0) {
            VC_FAIL_("case %zu parsed but should fail: %s", i, cases[i].text);
            continue;
        }
        if (strcmp(vc_conf_error(c), cases[i].err) != 0)
            VC_FAIL_("case %zu: got '%s' want '%s'", i, vc_conf_error(c), cases[i].err);
    }
}

static void test_depth_and_size(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *c = vc_conf_new();
    char deep[200] = "a = ";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    ASSERT_EQ(vc_conf_parse(c, "x", deep, strlen(deep)), VC_EDEPTH);
    char *big = malloc(VC_CONF_MAX_SIZE + 2);
    ASSERT_NOTNULL(big);
    memset(big, '#', VC_CONF_MAX_SIZE + 1);
    ASSERT_EQ(vc_conf_parse(c, "x", big, VC_CONF_MAX_SIZE + 1), VC_ETOOBIG);
    free(big);
    /* a failed parse keeps the old contents */
    ASSERT_OK(vc_conf_parse(c, "x", "k = 1", 5));
    ASSERT_ERR(vc_conf_parse(c, "x", "k = ", 4));
    int64_t v;
    ASSERT_EQ(vc_conf_get_int(c, "k", 0, &v), 1);
    ASSERT_EQ(v, 1);
    ASSERT_OK(vc_conf_parse(c, "x", "", 0));
    ASSERT_EQ(vc_conf_get_int(c, "k", 7, &v), 0);
}

static void test_set_and_env(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *c = parse_ok(AUTH_TOML);
    const char *s;
    int64_t i;
    bool b;
    char **v;
    size_t n;
    ASSERT_NOTNULL(c);
    ASSERT_OK(vc_conf_set(c, "Listen", "0.0.0.0:1"));
    ASSERT_OK(vc_conf_set(c, "DB.DSN", "123"));        /* string key: stays a string */
    ASSERT_OK(vc_conf_set(c, "DB.MaxOpenConns", "5")); /* int key: TOML literal */
    ASSERT_EQ(vc_conf_set(c, "DB.MaxOpenConns", "five"), VC_ETYPE);
    ASSERT_STREQ(vc_conf_error(c), "DB.MaxOpenConns: expected an integer, got 'five'");
    ASSERT_OK(vc_conf_set(c, "Log.HookSwitch", "true"));
    ASSERT_OK(vc_conf_set(c, "Gateway.ListenAPI", "a, b,c"));
    ASSERT_OK(vc_conf_set(c, "New.Key", "\"quoted\""));
    ASSERT_OK(vc_conf_set(c, "New.Num", "42"));
    ASSERT_OK(vc_conf_set(c, "New.Str", "not toml"));
    ASSERT_EQ(vc_conf_set(c, "Listen.Sub", "x"), VC_ETYPE);
    ASSERT_EQ(vc_conf_get_string(c, "Listen", NULL, &s), 1);
    ASSERT_STREQ(s, "0.0.0.0:1");
    ASSERT_EQ(vc_conf_get_string(c, "DB.DSN", NULL, &s), 1);
    ASSERT_STREQ(s, "123");
    ASSERT_EQ(vc_conf_get_int(c, "DB.MaxOpenConns", 0, &i), 1);
    ASSERT_EQ(i, 5);
    ASSERT_EQ(vc_conf_get_bool(c, "Log.HookSwitch", false, &b), 1);
    ASSERT_TRUE(b);
    ASSERT_EQ(vc_conf_get_string_array(c, "Gateway.ListenAPI", &v, &n), 1);
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(v[0], "a");
    ASSERT_STREQ(v[2], "c");
    free(v);
    ASSERT_EQ(vc_conf_get_string(c, "New.Key", NULL, &s), 1);
    ASSERT_STREQ(s, "quoted");
    ASSERT_EQ(vc_conf_get_int(c, "New.Num", 0, &i), 1);
    ASSERT_EQ(i, 42);
    ASSERT_EQ(vc_conf_get_string(c, "New.Str", NULL, &s), 1);
    ASSERT_STREQ(s, "not toml");

    static const vc_conf_env_t map[] = {
        {"LISTEN", "Listen"},           {"DB_TYPE", "DB.Type"}, {"UNSET_VAR", "DB.DSN"},
        {"MAXOPEN", "db.maxopenconns"}, {NULL, NULL},
    };
    setenv("VCTEST_AUTH_LISTEN", "127.0.0.1:9999", 1);
    setenv("VCTEST_AUTH_DB_TYPE", "mysql", 1);
    setenv("VCTEST_AUTH_MAXOPEN", "7", 1);
    unsetenv("VCTEST_AUTH_UNSET_VAR");
    ASSERT_EQ(vc_conf_apply_env(c, "VCTEST_AUTH_", map), 3);
    ASSERT_EQ(vc_conf_get_string(c, "Listen", NULL, &s), 1);
    ASSERT_STREQ(s, "127.0.0.1:9999");
    ASSERT_EQ(vc_conf_get_string(c, "DB.Type", NULL, &s), 1);
    ASSERT_STREQ(s, "mysql");
    ASSERT_EQ(vc_conf_get_int(c, "DB.MaxOpenConns", 0, &i), 1);
    ASSERT_EQ(i, 7);
    /* case-insensitive set replaced the existing key rather than adding one */
    ASSERT_TRUE(json_object_get(json_object_get(vc_conf_root(c), "DB"), "maxopenconns") == NULL);
    setenv("VCTEST_AUTH_MAXOPEN", "lots", 1);
    ASSERT_EQ(vc_conf_apply_env(c, "VCTEST_AUTH_", map), VC_ETYPE);
    ASSERT_STREQ(vc_conf_error(c),
                 "env VCTEST_AUTH_MAXOPEN: db.maxopenconns: expected an integer, got 'lots'");
    unsetenv("VCTEST_AUTH_LISTEN");
    unsetenv("VCTEST_AUTH_DB_TYPE");
    unsetenv("VCTEST_AUTH_MAXOPEN");
}

static void test_writer_exact(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *c = vc_conf_new();
    vc_buf_t b = {0};
    ASSERT_NOTNULL(c);
    ASSERT_OK(vc_conf_set_string(c, "Listen", "127.0.0.1:8989"));
    ASSERT_OK(vc_conf_set_duration_ms(c, "ReadTimeout", 60000));
    ASSERT_OK(vc_conf_set_string(c, "Log.LogLevel", "trace"));
    ASSERT_OK(vc_conf_set_int(c, "Log.Type", 0));
    ASSERT_OK(vc_conf_set_string(c, "Log.InfluxDB.ServerURL", ""));
    ASSERT_OK(vc_conf_set_string(c, "DB.Type", "badger"));
    ASSERT_OK(vc_conf_set_duration_ms(c, "DB.MaxLifeTime", 120000));
    ASSERT_OK(vc_conf_set_bool(c, "DB.Debug", false));
    ASSERT_OK(vc_conf_set_double(c, "Trace.ProbabilitySampler", 1.0));
    const char *urls[] = {"/ip4/127.0.0.1/tcp/45132", NULL};
    ASSERT_OK(vc_conf_set_string_array(c, "Gateway.ListenAPI", urls, -1));
    ASSERT_OK(vc_conf_set_string(c, "Gateway.Token", "a\"b\\c\n"));
    ASSERT_OK(vc_conf_set_string(c, "Odd.\"key", "x"));
    ASSERT_OK(vc_conf_set_int(c, "Count", 3)); /* top-level keys come before tables */
    ASSERT_OK(vc_conf_write(c, &b));
    ASSERT_STREQ(b.data, "Listen = \"127.0.0.1:8989\"\n"
                         "ReadTimeout = \"1m0s\"\n"
                         "Count = 3\n"
                         "\n"
                         "[Log]\n"
                         "  LogLevel = \"trace\"\n"
                         "  Type = 0\n"
                         "  [Log.InfluxDB]\n"
                         "    ServerURL = \"\"\n"
                         "\n"
                         "[DB]\n"
                         "  Type = \"badger\"\n"
                         "  MaxLifeTime = \"2m0s\"\n"
                         "  Debug = false\n"
                         "\n"
                         "[Trace]\n"
                         "  ProbabilitySampler = 1.0\n"
                         "\n"
                         "[Gateway]\n"
                         "  ListenAPI = [\"/ip4/127.0.0.1/tcp/45132\"]\n"
                         "  Token = \"a\\\"b\\\\c\\n\"\n"
                         "\n"
                         "[Odd]\n"
                         "  \"\\\"key\" = \"x\"\n");
    vc_buf_done(&b);
}

static void test_round_trip(void)
{
    static const char *const docs[] = {
        AUTH_TOML,
        "a = [[1, 2], [\"x\"], {k = 'v'}]\nb = { c = { d = 1.25 } }\nf = 1e300\ng = -0.0001\n"
        "s = \"\\u0001\\u007f\\t\"\n[[t.u]]\nx = 1\n[[t.u]]\n[t.u.w]\ny = 2\n",
        "",
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(docs); i++) {
        _cleanup_(vc_conf_freep) vc_conf_t *a = parse_ok(docs[i]);
        _cleanup_(vc_conf_freep) vc_conf_t *b2 = vc_conf_new();
        vc_buf_t out = {0}, out2 = {0};
        ASSERT_NOTNULL(a);
        ASSERT_OK(vc_conf_write(a, &out));
        if (vc_conf_parse(b2, "rt", out.data, out.len) < 0) {
            VC_FAIL_("re-parse failed: %s\n%s", vc_conf_error(b2), out.data);
            vc_buf_done(&out);
            return;
        }
        ASSERT_TRUE(json_equal(vc_conf_root(a), vc_conf_root(b2)));
        ASSERT_OK(vc_conf_write(b2, &out2));
        ASSERT_STREQ(out.data, out2.data); /* same key order */
        vc_buf_done(&out);
        vc_buf_done(&out2);
    }
}

static void test_merge_load_save(void)
{
    _cleanup_(vc_conf_freep) vc_conf_t *def = vc_conf_new();
    _cleanup_(vc_conf_freep) vc_conf_t *file = parse_ok("[DB]\nType = \"mysql\"\n[Extra]\nx = 1\n");
    _cleanup_(vc_conf_freep) vc_conf_t *back = vc_conf_new();
    const char *s;
    int64_t i;
    char path[512];

    ASSERT_NOTNULL(file);
    ASSERT_OK(vc_conf_set_string(def, "DB.Type", "badger"));
    ASSERT_OK(vc_conf_set_int(def, "DB.MaxOpenConns", 64));
    ASSERT_OK(vc_conf_merge(def, file));
    ASSERT_EQ(vc_conf_get_string(def, "DB.Type", NULL, &s), 1);
    ASSERT_STREQ(s, "mysql");
    ASSERT_EQ(vc_conf_get_int(def, "DB.MaxOpenConns", 0, &i), 1);
    ASSERT_EQ(i, 64);
    ASSERT_EQ(vc_conf_get_int(def, "Extra.x", 0, &i), 1);

    snprintf(path, sizeof(path), "%s/config.toml", vc_test_tmpdir());
    ASSERT_EQ(vc_conf_load(back, path), -ENOENT);
    ASSERT_OK(vc_conf_save(def, path, 0600));
    ASSERT_OK(vc_conf_load(back, path));
    ASSERT_TRUE(json_equal(vc_conf_root(def), vc_conf_root(back)));
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    VC_TEST_RUN(test_auth_config);
    VC_TEST_RUN(test_listen_type_error);
    VC_TEST_RUN(test_values);
    VC_TEST_RUN(test_errors);
    VC_TEST_RUN(test_depth_and_size);
    VC_TEST_RUN(test_set_and_env);
    VC_TEST_RUN(test_writer_exact);
    VC_TEST_RUN(test_round_trip);
    VC_TEST_RUN(test_merge_load_save);
    return VC_TEST_DONE();
}
