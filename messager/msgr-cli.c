/*
 * msgr-cli.c: venus-messager's client commands (spec/messager.md section 7).
 *
 * Every command calls `Message.*` with positional params over HTTP POST (the daemon serves the
 * same methods on POST and WebSocket) and prints what sophon-messager's CLI prints: the lotus
 * tablewriter table of `msg list`, json.MarshalIndent output (prefix " " for lists, "" for
 * share-params), and the fixed success lines. Failures are one "ERROR: ..." line and exit 1.
 *
 * What the Go CLI gets from the chain node (method names in the table, decoded params and
 * returns in `msg search`) is not fetched: the Method column shows the method number, which is
 * also what Go prints when the node cannot resolve it.
 */
#include "msgr-cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msgr-builtin.h"
#include "msgr-types.h"
#include "vc/address.h"
#include "vc/bigint.h"
#include "vc/cid.h"
#include "vc/client.h"
#include "vc/conf.h"
#include "vc/gofmt.h"
#include "vc/ha-ops.h"
#include "vc/nodepool-cli.h"
#include "vc/util.h"

#define WAIT_CONFIDENCE 5 /* venus constants.MessageConfidence */
#define LONG_CALL_MS INT_MAX

/* ---------------------------------------------------------------------------------------------
 * Talking to the daemon
 */

typedef struct session {
    vc_cli_ctx_t *ctx;
    vc_client_t *client;
    int timeout_ms; /* 0: the client's default (30 s) */
} session_t;

static void session_done(session_t *s)
{
    s->client = vc_client_free(s->client);
}

static char *repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? MSGR_CLI_DEFAULT_REPO : repo);
}

/* A small repo file (api, token), trimmed; NULL when absent or empty. */
static char *read_trimmed(const char *repo, const char *file)
{
    _cleanup_free_ char *path = vc_path_join(repo, file);
    char *data = vc_read_trimmed(path, 64 * 1024);
    if (data && !*data) {
        free(data);
        return NULL;
    }
    return data;
}

/* A string of <repo>/config.toml ("api.Address", "node.url"), NULL when absent or unreadable. */
static char *config_string(const char *repo, const char *key)
{
    _cleanup_free_ char *path = vc_path_join(repo, "config.toml");
    vc_conf_t *c = vc_conf_new();
    const char *v = NULL;
    char *ret = NULL;
    if (c && path && access(path, R_OK) == 0 && vc_conf_load(c, path) >= 0 &&
        vc_conf_get_string(c, key, "", &v) >= 0 && !vc_strempty(v))
        ret = strdup(v);
    vc_conf_free(c);
    return ret;
}

static int open_client(session_t *s)
{
    vc_cli_ctx_t *ctx = s->ctx;
    _cleanup_free_ char *repo = repo_path(ctx);
    _cleanup_free_ char *api = NULL, *token = NULL;
    if (!repo)
        return -ENOMEM;
    if (vc_cli_is_set(ctx, "api"))
        api = strdup(vc_cli_string(ctx, "api"));
    else if (!(api = read_trimmed(repo, "api")) && !(api = config_string(repo, "api.Address")))
        api = strdup(MSGR_CLI_DEFAULT_API);
    if (!api)
        return -ENOMEM;
    token = read_trimmed(repo, "token");
    const char *eps[] = {api};
    vc_client_opts_t o = {.endpoints = eps,
                          .n_endpoints = 1,
                          .default_path = "/rpc/v0",
                          .token = token,
                          .api_namespace = "messager.IMessager",
                          .timeout_ms = s->timeout_ms,
                          .retries = -1}; /* no resend: most methods change state */
    return vc_client_new(&o, &s->client);
}

/*
 * One call. params is stolen (NULL = []). On success *ret (optional) gets the result. On
 * failure the reason goes to errbuf and a negative value is returned (nothing is printed).
 */
static int rpc_try(session_t *s, const char *method, json_t *params, json_t **ret, char *errbuf, size_t size)
{
    char full[96];
    vc_rpc_err_t err = {0};
    json_t *res = NULL;
    int r;

    if (!s->client && (r = open_client(s)) < 0) {
        json_decref(params);
        snprintf(errbuf, size, "bad daemon address (--api, <repo>/api or [api] Address): %s", vc_strerror(r));
        return r;
    }
    snprintf(full, sizeof(full), "Message.%s", method);
    r = vc_client_call(s->client, full, params, &res, &err);
    if (r == VC_EREMOTE) {
        snprintf(errbuf, size, "%s", err.message);
    } else if (r == VC_EHTTP && err.code == 401) {
        _cleanup_free_ char *repo = repo_path(s->ctx);
        _cleanup_free_ char *tk = repo ? read_trimmed(repo, "token") : NULL;
        snprintf(errbuf, size,
                 "venus-messager at %s refused the request (401 Unauthorized): %s %s/token (`venus-messager run` "
                 "writes a fresh one at every start; use the daemon's --repo)",
                 vc_client_current(s->client), tk ? "the token is not accepted:" : "no token in",
                 repo ? repo : "<repo>");
    } else if (r == VC_EHTTP) {
        snprintf(errbuf, size, "venus-messager at %s answered HTTP %d to %s", vc_client_current(s->client), err.code,
                 full);
    } else if (r == VC_ETRANSPORT || r == -EIO || r == -ETIMEDOUT) {
        snprintf(errbuf, size, "cannot reach venus-messager at %s (%s); is `venus-messager run` running?",
                 vc_client_current(s->client), vc_strerror(r));
    } else if (r < 0) {
        snprintf(errbuf, size, "%s: %s", full, vc_strerror(r));
    }
    if (r < 0) {
        json_decref(res);
        return r;
    }
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

/* rpc_try that prints the failure: 0 or the exit code 1. */
static int rpc(session_t *s, const char *method, json_t *params, json_t **ret)
{
    char errbuf[1024];
    if (rpc_try(s, method, params, ret, errbuf, sizeof(errbuf)) < 0)
        return vc_cli_errorf(s->ctx, "%s", errbuf);
    return 0;
}

int msgr_cli_call(vc_cli_ctx_t *ctx, const char *method, json_t *params, json_t **ret)
{
    session_t s = {.ctx = ctx};
    int rc = rpc(&s, method, params, ret);
    session_done(&s);
    return rc;
}

static int oom(vc_cli_ctx_t *ctx)
{
    return vc_cli_errorf(ctx, "out of memory");
}

static int bad_answer(vc_cli_ctx_t *ctx, const char *method)
{
    return vc_cli_errorf(ctx, "unexpected answer from venus-messager to %s: %s", method, msgr_types_errmsg());
}

/* ---------------------------------------------------------------------------------------------
 * Input parsing (one clear error each)
 */

static int parse_addr(vc_cli_ctx_t *ctx, const char *what, const char *s, char out[VC_ADDRESS_STRLEN_MAX])
{
    if (msgr_addr_canon(s, out) < 0)
        return vc_cli_errorf(ctx, "%s: invalid address '%s'", what, s ? s : "");
    return 0;
}

/* A decimal attoFIL amount, >= 0. */
static int parse_atto(vc_cli_ctx_t *ctx, const char *what, const char *s, vc_bigint_t *ret)
{
    if (vc_strempty(s) || vc_bigint_from_string(s, ret) < 0)
        return vc_cli_errorf(ctx, "%s: '%s' is not a decimal attoFIL amount", what, s ? s : "");
    if (vc_bigint_sign(ret) < 0)
        return vc_cli_errorf(ctx, "%s: '%s' must not be negative", what, s);
    return 0;
}

static int parse_float(vc_cli_ctx_t *ctx, const char *what, const char *s, double *ret)
{
    char *end = NULL;
    double v;
    if (vc_strempty(s))
        return vc_cli_errorf(ctx, "%s: empty value, want a number", what);
    errno = 0;
    v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return vc_cli_errorf(ctx, "%s: '%s' is not a number", what, s);
    if (v < 0)
        return vc_cli_errorf(ctx, "%s: '%s' must not be negative", what, s);
    *ret = v;
    return 0;
}

/*
 * types.ParseFIL: "1.5", "1.5 FIL", "1.5fil" are FIL; "15 attofil" / "15afil" attoFIL. The
 * result must be a whole number of attoFIL and not negative (a negative amount is never valid
 * here).
 */
static int parse_fil(vc_cli_ctx_t *ctx, const char *what, const char *s, vc_bigint_t *ret)
{
    char num[128];
    size_t n = strspn(s, "-.0123456789");
    const char *suffix = s + n;
    bool atto = false;

    while (*suffix == ' ' || *suffix == '\t')
        suffix++;
    if (*suffix) {
        size_t sl = strlen(suffix);
        while (sl && (suffix[sl - 1] == ' ' || suffix[sl - 1] == '\t'))
            sl--;
        if (sl == 3 && strncasecmp(suffix, "fil", 3) == 0)
            atto = false;
        else if ((sl == 7 && strncasecmp(suffix, "attofil", 7) == 0) || (sl == 4 && strncasecmp(suffix, "afil", 4) == 0))
            atto = true;
        else
            return vc_cli_errorf(ctx, "%s: unrecognized suffix in '%s' (want FIL, attofil or afil)", what, s);
    }
    if (n == 0 || n > 50)
        return vc_cli_errorf(ctx, "%s: '%s' is not a FIL amount", what, s);
    if (s[0] == '-')
        return vc_cli_errorf(ctx, "%s: '%s' must not be negative", what, s);
    const char *dot = memchr(s, '.', n);
    size_t ip = dot ? (size_t)(dot - s) : n, fp = dot ? n - ip - 1 : 0;
    if ((ip == 0 && fp == 0) || (dot && memchr(dot + 1, '.', fp)) || memchr(s, '-', n))
        return vc_cli_errorf(ctx, "%s: '%s' is not a FIL amount", what, s);
    /* trailing zeros of the fraction do not count */
    while (fp && s[ip + fp] == '0')
        fp--;
    size_t scale = atto ? 0 : 18;
    if (fp > scale)
        return vc_cli_errorf(ctx, "%s: '%s' is not a whole number of attoFIL", what, s);
    size_t k = 0;
    memcpy(num, s, ip);
    k = ip;
    if (fp)
        memcpy(num + k, dot + 1, fp);
    k += fp;
    for (size_t i = fp; i < scale; i++)
        num[k++] = '0';
    if (k == 0)
        num[k++] = '0';
    num[k] = 0;
    if (vc_bigint_from_string(num, ret) < 0)
        return vc_cli_errorf(ctx, "%s: '%s' is out of range", what, s);
    return 0;
}

static int parse_cid(vc_cli_ctx_t *ctx, const char *what, const char *s, vc_cid_t *ret)
{
    if (vc_strempty(s) || vc_cid_from_string(s, ret) < 0)
        return vc_cli_errorf(ctx, "%s: '%s' is not a CID", what, s ? s : "");
    return 0;
}

static bool really(vc_cli_ctx_t *ctx)
{
    if (vc_cli_bool(ctx, "really-do-it"))
        return true;
    vc_cli_errorf(ctx, "confirm to exec this command, specify --really-do-it");
    return false;
}

/* ---------------------------------------------------------------------------------------------
 * Output helpers
 */

/* json.MarshalIndent(v, prefix, "\t") + "\n". */
static int print_json_prefix(vc_cli_ctx_t *ctx, const json_t *v, const char *prefix)
{
    vc_buf_t b = {0};
    int r = vc_json_format_go(&b, v ? v : json_null(), prefix, "\t");
    if (r >= 0)
        fprintf(vc_cli_out(ctx), "%.*s\n", (int)b.len, b.data ? b.data : "");
    vc_buf_done(&b);
    return r < 0 ? oom(ctx) : 0;
}

/* A time from the API as Go re-encodes it after decoding (RFC3339Nano in its own zone). */
static json_t *go_time_json(const json_t *raw)
{
    const char *s = json_string_value(raw);
    vc_gotime_t t;
    char out[VC_GOTIME_STRLEN_MAX];
    if (!s || vc_gotime_parse_rfc3339(s, &t) < 0 || vc_gotime_format(&t, VC_GOTIME_RFC3339NANO, out, sizeof(out)) < 0)
        return json_string("0001-01-01T00:00:00Z");
    return json_string(out);
}

/* Replaces the time keys of enc (our re-encoding) by the server's values as Go would show
 * them, so a daemon in another zone prints like Go does. */
static void keep_times(json_t *enc, const json_t *raw, const char *k1, const char *k2)
{
    const char *keys[] = {k1, k2};
    for (size_t i = 0; i < 2; i++)
        if (json_object_get(enc, keys[i]))
            json_object_set_new(enc, keys[i], go_time_json(json_object_get(raw, keys[i])));
}

/* time.Time.Format(layout) of a time from the API, in its own zone. */
static const char *show_time(const json_t *raw, const char *layout, char out[VC_GOTIME_STRLEN_MAX])
{
    vc_gotime_t t;
    const char *s = json_string_value(raw);
    if (!s || vc_gotime_parse_rfc3339(s, &t) < 0 || vc_gotime_format(&t, layout, out, VC_GOTIME_STRLEN_MAX) < 0)
        snprintf(out, VC_GOTIME_STRLEN_MAX, "%s", s ? s : "");
    return out;
}

/* types.FIL(v).String(): "0 FIL", "1.5 FIL", "0.000000000000000001 FIL". */
static void fil_string(const vc_bigint_t *v, char *out, size_t size)
{
    char d[VC_BIGINT_STRLEN_MAX + 24];
    vc_bigint_t a = *v;
    bool neg = vc_bigint_sign(v) < 0;
    if (neg)
        vc_bigint_neg(v, &a);
    if (vc_bigint_to_string(&a, d, sizeof(d) - 20) < 0) {
        snprintf(out, size, "? FIL");
        return;
    }
    size_t n = strlen(d);
    if (n <= 18) { /* left-pad to 19 digits */
        memmove(d + 19 - n, d, n + 1);
        memset(d, '0', 19 - n);
        n = 19;
    }
    size_t ip = n - 18, fp = 18;
    while (fp && d[ip + fp - 1] == '0')
        fp--;
    if (vc_bigint_is_zero(&a))
        snprintf(out, size, "0 FIL");
    else if (fp)
        snprintf(out, size, "%s%.*s.%.*s FIL", neg ? "-" : "", (int)ip, d, (int)fp, d + ip);
    else
        snprintf(out, size, "%s%.*s FIL", neg ? "-" : "", (int)ip, d);
}

/* exitcode.ExitCode.String(): "Ok(0)", "ErrNotFound(17)", else the number. */
static void exit_code_string(int64_t x, char *out, size_t size)
{
    static const char *const names[] = {
        [0] = "Ok",
        [1] = "SysErrSenderInvalid",
        [2] = "SysErrSenderStateInvalid",
        [3] = "SysErrReserved1",
        [4] = "SysErrIllegalInstruction",
        [5] = "SysErrInvalidReceiver",
        [6] = "SysErrInsufficientFunds",
        [7] = "SysErrOutOfGas",
        [8] = "SysErrReserved2",
        [9] = "SysErrIllegalExitCode",
        [10] = "SysFatal",
        [11] = "SysErrMissingReturn",
        [12] = "SysErrReserved3",
        [13] = "SysErrReserved4",
        [14] = "SysErrReserved5",
        [15] = "SysErrReserved6",
        [16] = "ErrIllegalArgument",
        [17] = "ErrNotFound",
        [18] = "ErrForbidden",
        [19] = "ErrInsufficientFunds",
        [20] = "ErrIllegalState",
        [21] = "ErrSerialization",
        [22] = "ErrUnhandledMessage",
        [23] = "ErrUnspecified",
        [24] = "ErrAssertionFailed",
        [25] = "ErrReadOnly",
        [26] = "ErrNotPayable",
    };
    if (x >= 0 && x < (int64_t)VC_ELEMENTSOF(names))
        snprintf(out, size, "%s(%" PRId64 ")", names[x], x);
    else
        snprintf(out, size, "%" PRId64, x);
}

/* string(bytes) as encoding/json writes it: invalid UTF-8 bytes become U+FFFD. */
static json_t *go_bytes_string(const uint8_t *p, size_t n)
{
    vc_buf_t b = {0};
    int r = 0;
    for (size_t i = 0; i < n && r >= 0;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (ok && ((len == 2 && cp < 0x80) || (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10ffff))))
            ok = false;
        if (ok) {
            r = vc_buf_append(&b, p + i, len);
            i += len;
        } else {
            r = vc_buf_append(&b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    json_t *j = r < 0 ? NULL : json_stringn(b.data ? b.data : "", b.len);
    vc_buf_done(&b);
    return j;
}

static json_t *addr_json(const vc_address_t *a)
{
    return msgr_address_str_to_json(a);
}

static json_t *cid_or_null(const vc_cid_t *c)
{
    return c->len ? vc_cid_to_json(c) : json_null();
}

static json_t *bytes_json(const uint8_t *p, size_t n)
{
    if (!p)
        return json_null();
    char *s = vc_base64_encode(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

static void put(json_t *o, const char *k, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(o, k, v) < 0)
        *ok = false;
}

/* The CLI's display struct of a message (cli/util.go `message`), in its key order. */
static json_t *display_json(const msgr_message_t *m, int64_t confidence, const json_t *raw)
{
    char num[32];
    bool ok = true;
    json_t *o = json_object(), *msg = json_object(), *rc = NULL;
    if (!o || !msg) {
        json_decref(o);
        json_decref(msg);
        return NULL;
    }
    put(msg, "Version", json_integer((json_int_t)m->msg.version), &ok);
    put(msg, "To", addr_json(&m->msg.to), &ok);
    put(msg, "From", addr_json(&m->msg.from), &ok);
    put(msg, "Nonce", json_integer((json_int_t)m->msg.nonce), &ok);
    put(msg, "Value", msgr_bigint_to_json(&m->msg.value), &ok);
    put(msg, "GasLimit", json_integer(m->msg.gas_limit), &ok);
    put(msg, "GasFeeCap", msgr_bigint_to_json(&m->msg.gas_fee_cap), &ok);
    put(msg, "GasPremium", msgr_bigint_to_json(&m->msg.gas_premium), &ok);
    snprintf(num, sizeof(num), "%" PRIu64, m->msg.method);
    put(msg, "Method", json_string(num), &ok);
    put(msg, "Params", bytes_json(m->msg.params, m->msg.params_len), &ok);

    put(o, "ID", json_string(m->id ? m->id : ""), &ok);
    put(o, "UnsignedCid", cid_or_null(&m->unsigned_cid), &ok);
    put(o, "SignedCid", cid_or_null(&m->signed_cid), &ok);
    put(o, "Msg", msg, &ok);
    put(o, "Signature", m->has_signature ? vc_signature_to_json(&m->signature) : json_null(), &ok);
    put(o, "Height", json_integer(m->height), &ok);
    put(o, "Confidence", json_integer(confidence), &ok);
    if (json_is_null(json_object_get(raw, "Receipt")) || !json_object_get(raw, "Receipt")) {
        put(o, "Receipt", json_null(), &ok);
    } else {
        rc = json_object();
        if (rc) {
            put(rc, "ExitCode", json_integer(m->receipt.exit_code), &ok);
            put(rc, "Return", go_bytes_string(m->receipt.ret, m->receipt.ret_len), &ok);
            put(rc, "GasUsed", json_integer(m->receipt.gas_used), &ok);
        }
        put(o, "Receipt", rc, &ok);
    }
    put(o, "TipSetKey", msgr_tsk_to_json(m->tsk, m->n_tsk), &ok);
    json_t *meta = NULL;
    if (json_is_null(json_object_get(raw, "Meta")) || !json_object_get(raw, "Meta"))
        meta = json_null();
    else if (msgr_send_spec_to_json(&m->meta, &meta) < 0)
        meta = NULL;
    put(o, "Meta", meta, &ok);
    put(o, "WalletName", json_string(m->wallet_name ? m->wallet_name : ""), &ok);
    put(o, "ErrorMsg", json_string(m->error_msg ? m->error_msg : ""), &ok);
    put(o, "State", json_string(msgr_msg_state_name(m->state)), &ok);
    put(o, "UpdatedAt", go_time_json(json_object_get(raw, "UpdatedAt")), &ok);
    put(o, "CreatedAt", go_time_json(json_object_get(raw, "CreatedAt")), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---------------------------------------------------------------------------------------------
 * Message lists: decode, table (lotus tablewriter) or JSON
 */

typedef struct msg_list {
    msgr_message_t *v;
    int64_t *conf;
    const json_t **raw; /* borrowed from the answer */
    size_t n;
} msg_list_t;

static void msg_list_done(msg_list_t *l)
{
    msgr_messages_free(l->v, l->n);
    free(l->conf);
    free(l->raw);
    memset(l, 0, sizeof(*l));
}

/* ans: a JSON array of messages or null. Returns 0 or -EINVAL (bad answer) / -ENOMEM. */
static int msg_list_decode(const json_t *ans, msg_list_t *ret)
{
    size_t n = json_is_array(ans) ? json_array_size(ans) : 0;
    if (!json_is_array(ans) && !json_is_null(ans))
        return -EINVAL;
    msg_list_t l = {.v = calloc(n ? n : 1, sizeof(*l.v)),
                    .conf = calloc(n ? n : 1, sizeof(int64_t)),
                    .raw = calloc(n ? n : 1, sizeof(json_t *))};
    if (!l.v || !l.conf || !l.raw) {
        msg_list_done(&l);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        l.raw[i] = json_array_get(ans, i);
        int r = msgr_message_from_json(l.raw[i], &l.v[i], &l.conf[i]);
        if (r < 0) {
            msg_list_done(&l);
            return r == -ENOMEM ? r : -EINVAL;
        }
        l.n = i + 1;
    }
    l.n = n;
    *ret = l;
    return 0;
}

enum { COL_ID, COL_TO, COL_FROM, COL_NONCE, COL_VALUE, COL_GASLIMIT, COL_FEECAP, COL_PREMIUM, COL_METHOD,
       COL_STATE, COL_EXIT, COL_CREATE, COL_ERRMSG, COL_MAX };

static const char *const col_names[COL_MAX] = {"ID",        "To",         "From",   "Nonce", "Value",
                                                "GasLimit",  "GasFeeCap",  "GasPremium", "Method",
                                                "State",     "ExitCode",   "CreateAt",   "ErrorMsg"};

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* s cut to max bytes plus "..." when longer (Go slices bytes). */
static char *trunc_dup(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return strdup(s);
    char *p = malloc(max + 4);
    if (p) {
        memcpy(p, s, max);
        memcpy(p + max, "...", 4);
    }
    return p;
}

/*
 * cli/tablewriter as outputWithTable uses it: every column padded to its widest cell + 2 (the
 * last one too), columns no row has are dropped (so an empty list prints only newlines), and
 * fmt.Println adds one more newline at the end.
 */
static int print_msg_table(vc_cli_ctx_t *ctx, const msg_list_t *l, bool verbose)
{
    size_t n = l->n, width[COL_MAX] = {0}, lines[COL_MAX] = {0};
    char **cells = calloc((n ? n : 1) * COL_MAX, sizeof(char *));
    int rc = 0;
    if (!cells)
        return oom(ctx);
    for (size_t i = 0; i < n && !rc; i++) {
        const msgr_message_t *m = &l->v[i];
        char **c = cells + i * COL_MAX;
        char buf[VC_BIGINT_STRLEN_MAX + 32], to[VC_ADDRESS_STRLEN_MAX], from[VC_ADDRESS_STRLEN_MAX];
        char tbuf[VC_GOTIME_STRLEN_MAX];
        vc_address_to_string(&m->msg.to, 'f', to);
        vc_address_to_string(&m->msg.from, 'f', from);
        if (vc_address_is_undef(&m->msg.to))
            snprintf(to, sizeof(to), "<empty>");
        if (vc_address_is_undef(&m->msg.from))
            snprintf(from, sizeof(from), "<empty>");
        const char *id = m->id ? m->id : "";
        c[COL_ID] = verbose ? strdup(id) : trunc_dup(id, 36);
        c[COL_TO] = verbose ? strdup(to) : trunc_dup(to, 9);
        c[COL_FROM] = verbose ? strdup(from) : trunc_dup(from, 9);
        snprintf(buf, sizeof(buf), "%" PRIu64, m->msg.nonce);
        c[COL_NONCE] = strdup(buf);
        fil_string(&m->msg.value, buf, sizeof(buf));
        c[COL_VALUE] = verbose ? strdup(buf) : trunc_dup(buf, 6);
        snprintf(buf, sizeof(buf), "%" PRId64, m->msg.gas_limit);
        c[COL_GASLIMIT] = strdup(buf);
        vc_bigint_to_string(&m->msg.gas_fee_cap, buf, sizeof(buf));
        c[COL_FEECAP] = strdup(buf);
        vc_bigint_to_string(&m->msg.gas_premium, buf, sizeof(buf));
        c[COL_PREMIUM] = strdup(buf);
        snprintf(buf, sizeof(buf), "%" PRIu64, m->msg.method);
        c[COL_METHOD] = strdup(buf);
        c[COL_STATE] = strdup(msgr_msg_state_name(m->state));
        const json_t *rcpt = json_object_get(l->raw[i], "Receipt");
        if (rcpt && !json_is_null(rcpt)) {
            exit_code_string(m->receipt.exit_code, buf, sizeof(buf));
            c[COL_EXIT] = strdup(buf);
        }
        c[COL_CREATE] = strdup(show_time(json_object_get(l->raw[i], "CreatedAt"), VC_GOTIME_DATETIME, tbuf));
        c[COL_ERRMSG] = strdup(m->error_msg ? m->error_msg : "");
        for (int k = 0; k < COL_MAX; k++) {
            if (k == COL_EXIT && !c[k])
                continue;
            if (!c[k]) {
                rc = oom(ctx);
                break;
            }
            lines[k]++;
            width[k] = VC_MAX(width[k], utf8_len(c[k]));
        }
    }
    if (!rc) {
        vc_buf_t b = {0};
        int r = 0;
        for (int k = 0; k < COL_MAX; k++)
            if (lines[k])
                width[k] = VC_MAX(width[k], strlen(col_names[k]));
        for (size_t i = 0; i <= n && r >= 0; i++) {
            for (int k = 0; k < COL_MAX && r >= 0; k++) {
                if (!lines[k])
                    continue;
                const char *cell = i == 0 ? col_names[k] : cells[(i - 1) * COL_MAX + k];
                if (!cell)
                    cell = "";
                r = vc_buf_appendf(&b, "%s%*s", cell, (int)(width[k] - utf8_len(cell) + 2), "");
            }
            if (r >= 0)
                r = vc_buf_append_str(&b, "\n");
        }
        if (r >= 0)
            fprintf(vc_cli_out(ctx), "%.*s\n", (int)b.len, b.data ? b.data : "");
        else
            rc = oom(ctx);
        vc_buf_done(&b);
    }
    for (size_t i = 0; i < n * COL_MAX; i++)
        free(cells[i]);
    free(cells);
    return rc;
}

/* `--output-type table` (the default) or anything else: JSON of display structs, prefix " ". */
static int print_msg_list(vc_cli_ctx_t *ctx, const msg_list_t *l)
{
    if (vc_streq(vc_cli_string(ctx, "output-type"), "table"))
        return print_msg_table(ctx, l, vc_cli_bool(ctx, "verbose"));
    json_t *arr = json_array();
    if (!arr)
        return oom(ctx);
    for (size_t i = 0; i < l->n; i++) {
        json_t *d = display_json(&l->v[i], l->conf[i], l->raw[i]);
        if (!d || json_array_append_new(arr, d) < 0) {
            json_decref(arr);
            return oom(ctx);
        }
    }
    int rc = print_json_prefix(ctx, arr, " ");
    json_decref(arr);
    return rc;
}

/* Calls a method answering []*Message and decodes it. */
static int call_msgs(session_t *s, const char *method, json_t *params, json_t **ret_ans, msg_list_t *ret)
{
    json_t *ans = NULL;
    int rc = rpc(s, method, params, &ans);
    if (rc)
        return rc;
    int r = msg_list_decode(ans, ret);
    if (r < 0) {
        json_decref(ans);
        return r == -ENOMEM ? oom(s->ctx) : bad_answer(s->ctx, method);
    }
    *ret_ans = ans;
    return 0;
}

/* Calls a method answering *Message and decodes it. */
static int call_msg(session_t *s, const char *method, json_t *params, msgr_message_t *ret, json_t **ret_raw)
{
    json_t *ans = NULL;
    int rc = rpc(s, method, params, &ans);
    if (rc)
        return rc;
    int64_t conf = 0;
    if (!json_is_object(ans) || msgr_message_from_json(ans, ret, &conf) < 0) {
        json_decref(ans);
        return bad_answer(s->ctx, method);
    }
    if (ret_raw)
        *ret_raw = ans;
    else
        json_decref(ans);
    return 0;
}

static json_t *duration_json(int64_t ns)
{
    return json_integer((json_int_t)ns);
}

/* A Go duration flag ("3h", "90s"); "" is 0. */
static int duration_flag(vc_cli_ctx_t *ctx, const char *name, int64_t *ret_ns)
{
    const char *s = vc_cli_string(ctx, name);
    *ret_ns = 0;
    if (vc_strempty(s))
        return 0;
    if (vc_parse_duration_go(s, ret_ns) < 0 || *ret_ns < 0)
        return vc_cli_errorf(ctx, "--%s: '%s' is not a duration (e.g. 3s, 3m, 3h)", name, s);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * msg
 */

static int cmd_msg_search(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *id = vc_cli_string(ctx, "id"), *cs = vc_cli_string(ctx, "cid");
    json_t *ans = NULL, *params;
    const char *method;
    vc_cid_t c;
    int rc;

    if (!vc_strempty(id)) {
        method = "GetMessageByUid";
        params = json_pack("[s]", id);
    } else if (!vc_strempty(cs)) {
        if ((rc = parse_cid(ctx, "--cid", cs, &c)))
            return rc;
        method = "GetMessageBySignedCid";
        params = json_pack("[o]", vc_cid_to_json(&c));
    } else {
        return vc_cli_errorf(ctx, "value of query must be entered (--id or --cid)");
    }
    if (!params)
        return oom(ctx);
    msgr_message_t m;
    msgr_message_init(&m);
    if ((rc = rpc(&s, method, params, &ans)))
        return rc;
    int64_t conf = 0;
    if (!json_is_object(ans) || msgr_message_from_json(ans, &m, &conf) < 0) {
        json_decref(ans);
        return bad_answer(ctx, method);
    }
    json_t *d = display_json(&m, conf, ans);
    vc_buf_t b = {0};
    rc = d && vc_json_format_go(&b, d, "", "\t") >= 0 ? 0 : oom(ctx);
    if (!rc)
        fprintf(vc_cli_out(ctx), "- message information:\n%.*s\n", (int)b.len, b.data);
    vc_buf_done(&b);
    json_decref(d);
    json_decref(ans);
    msgr_message_done(&m);
    return rc;
}

static int cmd_msg_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char from[VC_ADDRESS_STRLEN_MAX] = "<empty>";
    int64_t d = 0;
    int rc;
    const char *fs = vc_cli_string(ctx, "from");

    if (!vc_strempty(fs) && (rc = parse_addr(ctx, "--from", fs, from)))
        return rc;
    if ((rc = duration_flag(ctx, "time", &d)))
        return rc;
    int64_t state = vc_cli_int(ctx, "state"), pi = vc_cli_int(ctx, "page-index"), ps = vc_cli_int(ctx, "page-size");
    if (state < INT_MIN || state > INT_MAX)
        return vc_cli_errorf(ctx, "--state: %" PRId64 " is out of range", state);
    if (pi < 1 || pi > INT_MAX)
        return vc_cli_errorf(ctx, "--page-index: %" PRId64 " must be at least 1", pi);
    if (ps < 1 || ps > INT_MAX)
        return vc_cli_errorf(ctx, "--page-size: %" PRId64 " must be at least 1", ps);
    json_t *params = json_pack("[s, I, b, I, I, o]", from, (json_int_t)state, 0, (json_int_t)pi, (json_int_t)ps,
                               duration_json(d));
    if (!params)
        return oom(ctx);
    json_t *ans = NULL;
    msg_list_t l;
    if ((rc = call_msgs(&s, "ListMessageByFromState", params, &ans, &l)))
        return rc;
    rc = print_msg_list(ctx, &l);
    msg_list_done(&l);
    json_decref(ans);
    return rc;
}

static int cmd_msg_list_fail(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char from[VC_ADDRESS_STRLEN_MAX] = "";
    const char *fs = vc_cli_string(ctx, "from");
    int rc;

    if (!vc_strempty(fs) && (rc = parse_addr(ctx, "--from", fs, from)))
        return rc;
    json_t *ans = NULL;
    msg_list_t l;
    if ((rc = call_msgs(&s, "ListFailedMessage", NULL, &ans, &l)))
        return rc;
    if (from[0]) { /* filtered here, as the Go CLI does */
        size_t k = 0;
        for (size_t i = 0; i < l.n; i++) {
            char f[VC_ADDRESS_STRLEN_MAX];
            vc_address_to_string(&l.v[i].msg.from, 'f', f);
            if (vc_streq(f, from)) {
                msgr_message_t tmp = l.v[k];
                l.v[k] = l.v[i];
                l.v[i] = tmp;
                l.conf[k] = l.conf[i];
                l.raw[k] = l.raw[i];
                k++;
            }
        }
        for (size_t i = k; i < l.n; i++)
            msgr_message_done(&l.v[i]);
        l.n = k;
    }
    rc = print_msg_list(ctx, &l);
    msg_list_done(&l);
    json_decref(ans);
    return rc;
}

static int cmd_msg_list_blocked(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char from[VC_ADDRESS_STRLEN_MAX] = "<empty>";
    const char *fs = vc_cli_string(ctx, "from");
    int64_t d = 0;
    int rc;

    if (vc_cli_is_set(ctx, "from") && (rc = parse_addr(ctx, "--from", fs, from)))
        return rc;
    if (vc_strempty(vc_cli_string(ctx, "time")))
        return vc_cli_errorf(ctx, "--time: empty value, want a duration (e.g. 3h)");
    if ((rc = duration_flag(ctx, "time", &d)))
        return rc;
    json_t *params = json_pack("[s, o]", from, duration_json(d));
    if (!params)
        return oom(ctx);
    json_t *ans = NULL;
    msg_list_t l;
    if ((rc = call_msgs(&s, "ListBlockedMessage", params, &ans, &l)))
        return rc;
    rc = print_msg_list(ctx, &l);
    msg_list_done(&l);
    json_decref(ans);
    return rc;
}

/* The id of the message a --signed_cid / --unsigned_cid names. */
static int id_by_cid(session_t *s, const char *flag, const char *method, char **ret)
{
    vc_cid_t c;
    int rc = parse_cid(s->ctx, flag, vc_cli_string(s->ctx, flag + 2), &c);
    if (rc)
        return rc;
    json_t *params = json_pack("[o]", vc_cid_to_json(&c));
    if (!params)
        return oom(s->ctx);
    msgr_message_t m;
    msgr_message_init(&m);
    if ((rc = call_msg(s, method, params, &m, NULL)))
        return rc;
    *ret = m.id;
    m.id = NULL;
    msgr_message_done(&m);
    return *ret ? 0 : bad_answer(s->ctx, method);
}

static int cmd_msg_update_filled(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    _cleanup_free_ char *id = NULL;
    int rc = 0;

    if (!vc_strempty(vc_cli_string(ctx, "id")))
        id = strdup(vc_cli_string(ctx, "id"));
    else if (!vc_strempty(vc_cli_string(ctx, "signed_cid")))
        rc = id_by_cid(&s, "--signed_cid", "GetMessageBySignedCid", &id);
    else if (!vc_strempty(vc_cli_string(ctx, "unsigned_cid")))
        rc = id_by_cid(&s, "--unsigned_cid", "GetMessageByUnsignedCid", &id);
    else
        return vc_cli_errorf(ctx, "value of query must be entered (--id, --signed_cid or --unsigned_cid)");
    if (!id)
        return rc ? rc : oom(ctx);
    json_t *params = json_pack("[s]", id);
    return params ? rpc(&s, "UpdateFilledMessageByID", params, NULL) : oom(ctx);
}

static int cmd_msg_update_all_filled(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx, .timeout_ms = LONG_CALL_MS};
    json_t *ans = NULL;
    int rc = rpc(&s, "UpdateAllFilledMessage", NULL, &ans);
    if (rc)
        return rc;
    if (!json_is_integer(ans)) {
        json_decref(ans);
        return vc_cli_errorf(ctx, "unexpected answer from venus-messager to UpdateAllFilledMessage: want a count");
    }
    fprintf(vc_cli_out(ctx), "update message count: %" JSON_INTEGER_FORMAT "\n", json_integer_value(ans));
    json_decref(ans);
    return 0;
}

static int cmd_msg_replace(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    msgr_replace_params_t p = {0};
    json_t *params = NULL, *ans = NULL;
    int rc = 0;
    size_t nargs = vc_cli_nargs(ctx);

    if (nargs != 1 && nargs != 2)
        return vc_cli_errorf(ctx, "replace takes <id> or <from> <nonce>, got %zu argument%s", nargs,
                             nargs == 1 ? "" : "s");
    /* flags first: nothing is sent when one is bad */
    p.auto_ = vc_cli_bool(ctx, "auto");
    p.gas_limit = vc_cli_int(ctx, "gas-limit");
    if (p.gas_limit < 0)
        return vc_cli_errorf(ctx, "--gas-limit: %" PRId64 " must not be negative", p.gas_limit);
    if (vc_cli_is_set(ctx, "gas-over-premium") &&
        (rc = parse_float(ctx, "--gas-over-premium", vc_cli_string(ctx, "gas-over-premium"), &p.gas_over_premium)))
        return rc;
    if (vc_cli_is_set(ctx, "max-fee") && (rc = parse_fil(ctx, "--max-fee", vc_cli_string(ctx, "max-fee"), &p.max_fee)))
        return rc;
    if (vc_cli_is_set(ctx, "gas-premium") &&
        (rc = parse_atto(ctx, "--gas-premium", vc_cli_string(ctx, "gas-premium"), &p.gas_premium)))
        return rc;
    if (vc_cli_is_set(ctx, "gas-feecap") &&
        (rc = parse_atto(ctx, "--gas-feecap", vc_cli_string(ctx, "gas-feecap"), &p.gas_fee_cap)))
        return rc;

    if (nargs == 1) {
        p.id = strdup(vc_cli_arg(ctx, 0));
        if (!p.id)
            return oom(ctx);
    } else {
        char from[VC_ADDRESS_STRLEN_MAX];
        uint64_t nonce;
        if ((rc = parse_addr(ctx, "from", vc_cli_arg(ctx, 0), from)))
            return rc;
        if (vc_parse_u64(vc_cli_arg(ctx, 1), &nonce) < 0)
            return vc_cli_errorf(ctx, "nonce: '%s' is not an unsigned integer", vc_cli_arg(ctx, 1));
        char errbuf[1024];
        json_t *m = NULL;
        params = json_pack("[s, I]", from, (json_int_t)nonce);
        if (!params)
            return oom(ctx);
        if (nonce > (uint64_t)INT64_MAX) /* json_int_t is signed: encode by hand */
            json_array_set_new(params, 1, json_real((double)nonce));
        if (rpc_try(&s, "GetMessageByFromAndNonce", params, &m, errbuf, sizeof(errbuf)) < 0)
            return vc_cli_errorf(ctx, "could not find referenced message: %s", errbuf);
        const char *id = json_string_value(json_object_get(m, "ID"));
        p.id = id ? strdup(id) : NULL;
        json_decref(m);
        if (!p.id)
            return vc_cli_errorf(ctx, "could not find referenced message: the answer has no ID");
    }
    if (msgr_replace_params_to_json(&p, &params) < 0) {
        msgr_replace_params_done(&p);
        return oom(ctx);
    }
    msgr_replace_params_done(&p);
    if ((rc = rpc(&s, "ReplaceMessage", json_pack("[o]", params), &ans)))
        return rc;
    vc_cid_t c;
    if (vc_cid_from_json(ans, &c) < 0) {
        json_decref(ans);
        return vc_cli_errorf(ctx, "unexpected answer from venus-messager to ReplaceMessage: want a CID");
    }
    char cs[VC_CID_STRLEN_MAX];
    vc_cid_to_string(&c, cs);
    fprintf(vc_cli_out(ctx), "new message cid:  %s\n", cs);
    json_decref(ans);
    return 0;
}

static int cmd_msg_wait(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx, .timeout_ms = LONG_CALL_MS};
    msgr_message_t m;
    int rc;
    json_t *params = json_pack("[s, i]", vc_cli_arg(ctx, 0), WAIT_CONFIDENCE);
    if (!params)
        return oom(ctx);
    msgr_message_init(&m);
    if ((rc = call_msg(&s, "WaitMessage", params, &m, NULL)))
        return rc;
    char cs[VC_CID_STRLEN_MAX] = "<nil>";
    _cleanup_free_ char *tsk = NULL;
    if (m.signed_cid.len)
        vc_cid_to_string(&m.signed_cid, cs);
    if (msgr_tsk_to_text(m.tsk, m.n_tsk, &tsk) < 0) {
        msgr_message_done(&m);
        return oom(ctx);
    }
    char ec[64];
    exit_code_string(m.receipt.exit_code, ec, sizeof(ec));
    FILE *out = vc_cli_out(ctx);
    fprintf(out, "message cid  %s\nHeight: %" PRId64 "\nTipset: %s\nexitcode: %s\ngas_used: %" PRId64 "\nreturn_value: ",
            cs, m.height, tsk, ec, m.receipt.gas_used);
    if (m.receipt.ret_len)
        fwrite(m.receipt.ret, 1, m.receipt.ret_len, out);
    fputc('\n', out);
    msgr_message_done(&m);
    return 0;
}

static int cmd_msg_republish(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *params = json_pack("[s]", vc_cli_arg(ctx, 0));
    return params ? rpc(&s, "RepublishMessage", params, NULL) : oom(ctx);
}

static void mark_bad_one(session_t *s, const char *id)
{
    char errbuf[1024];
    json_t *params = json_pack("[s]", id);
    if (!params || rpc_try(s, "MarkBadMessage", params, NULL, errbuf, sizeof(errbuf)) < 0)
        fprintf(vc_cli_out(s->ctx), "mark msg %s as bad failed: %s\n", id, params ? errbuf : "out of memory");
    else
        fprintf(vc_cli_out(s->ctx), "mark msg %s as bad successful\n", id);
}

static int cmd_msg_mark_bad(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    int rc;
    if (!really(ctx))
        return 1;
    if (vc_cli_is_set(ctx, "from")) {
        char from[VC_ADDRESS_STRLEN_MAX];
        json_t *ans = NULL;
        msg_list_t l;
        if ((rc = parse_addr(ctx, "--from", vc_cli_string(ctx, "from"), from)))
            return rc;
        json_t *params = json_pack("[s]", from);
        if (!params)
            return oom(ctx);
        if ((rc = call_msgs(&s, "ListMessageByAddress", params, &ans, &l)))
            return rc;
        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].state == MSGR_MSG_UNFILL && !vc_strempty(l.v[i].error_msg))
                mark_bad_one(&s, l.v[i].id ? l.v[i].id : "");
        msg_list_done(&l);
        json_decref(ans);
        return 0;
    }
    if (vc_cli_nargs(ctx) == 0)
        return vc_cli_errorf(ctx, "must has id argument (or --from <address>)");
    for (size_t i = 0; i < vc_cli_nargs(ctx); i++)
        mark_bad_one(&s, vc_cli_arg(ctx, i));
    return 0;
}

static int cmd_msg_clear_unfill(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx, .timeout_ms = LONG_CALL_MS};
    char addr[VC_ADDRESS_STRLEN_MAX];
    json_t *ans = NULL;
    int rc;
    if (!really(ctx))
        return 1;
    if (vc_cli_nargs(ctx) == 0)
        return vc_cli_errorf(ctx, "must pass address");
    if ((rc = parse_addr(ctx, "address", vc_cli_arg(ctx, 0), addr)))
        return rc;
    json_t *params = json_pack("[s]", addr);
    if (!params)
        return oom(ctx);
    fprintf(vc_cli_out(ctx), "It will take dozens of seconds.\n");
    fflush(vc_cli_out(ctx));
    if ((rc = rpc(&s, "ClearUnFillMessage", params, &ans)))
        return rc;
    if (!json_is_integer(ans)) {
        json_decref(ans);
        return vc_cli_errorf(ctx, "unexpected answer from venus-messager to ClearUnFillMessage: want a count");
    }
    fprintf(vc_cli_out(ctx), "clear %" JSON_INTEGER_FORMAT " unfill messages \n", json_integer_value(ans));
    json_decref(ans);
    return 0;
}

static int cmd_msg_recover_failed(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    FILE *out = vc_cli_out(ctx);
    int rc;
    if (!really(ctx))
        return 1;
    if (vc_cli_is_set(ctx, "from")) {
        char from[VC_ADDRESS_STRLEN_MAX];
        json_t *ans = NULL, *v;
        size_t i;
        if ((rc = parse_addr(ctx, "--from", vc_cli_string(ctx, "from"), from)))
            return rc;
        json_t *params = json_pack("[s]", from);
        if (!params)
            return oom(ctx);
        if ((rc = rpc(&s, "RecoverFailedMsg", params, &ans)))
            return rc;
        if (!json_is_array(ans) && !json_is_null(ans)) {
            json_decref(ans);
            return vc_cli_errorf(ctx, "unexpected answer from venus-messager to RecoverFailedMsg: want a list of ids");
        }
        fprintf(out, "recover failed messages success: [");
        json_array_foreach(ans, i, v) fprintf(out, "%s%s", i ? " " : "", json_string_value(v) ? json_string_value(v) : "");
        fprintf(out, "] \n");
        json_decref(ans);
        return 0;
    }
    if (vc_cli_nargs(ctx) == 0)
        return vc_cli_errorf(ctx, "must has id argument (or --from <address>)");
    for (size_t i = 0; i < vc_cli_nargs(ctx); i++) {
        const char *id = vc_cli_arg(ctx, i);
        msgr_message_t m;
        char errbuf[1024];
        msgr_message_init(&m);
        json_t *params = json_pack("[s]", id);
        if (!params)
            return oom(ctx);
        if ((rc = call_msg(&s, "GetMessageByUid", params, &m, NULL)))
            return rc;
        if (m.state != MSGR_MSG_FAILED) {
            fprintf(out, "need failed msg: %s", id);
            msgr_message_done(&m);
            continue;
        }
        int to = m.msg.nonce != 0 && m.has_signature ? MSGR_MSG_FILL : MSGR_MSG_UNFILL;
        int from_state = m.state;
        msgr_message_done(&m);
        params = json_pack("[s, i]", id, to);
        if (!params)
            return oom(ctx);
        if (rpc_try(&s, "UpdateMessageStateByID", params, NULL, errbuf, sizeof(errbuf)) < 0) {
            fprintf(out, "recover msg %s failed: %s", id, errbuf);
            continue;
        }
        fprintf(out, "recover msg %s success, current state: %s, after recover msg state: %s\n", id,
                msgr_msg_state_name(from_state), msgr_msg_state_name(to));
    }
    return 0;
}

static int cmd_msg_update_state(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *id = vc_cli_string(ctx, "id");
    int64_t state = vc_cli_int(ctx, "state");
    msgr_message_t m;
    int rc;
    if (!really(ctx))
        return 1;
    if (vc_strempty(id))
        return vc_cli_errorf(ctx, "--id is required");
    if (state < MSGR_MSG_UNFILL || state >= MSGR_MSG_STATE_MAX)
        return vc_cli_errorf(ctx, "--state: %" PRId64 " is not a message state (1 UnFillMsg, 2 FillMsg, 3 OnChainMsg, "
                             "4 FailedMsg, 5 NonceConflictMsg)", state);
    json_t *params = json_pack("[s]", id);
    if (!params)
        return oom(ctx);
    msgr_message_init(&m);
    if ((rc = call_msg(&s, "GetMessageByUid", params, &m, NULL)))
        return rc;
    int cur = m.state;
    msgr_message_done(&m);
    if (cur == state)
        return vc_cli_errorf(ctx, "the state has not changed, no need to update");
    params = json_pack("[s, I]", id, (json_int_t)state);
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "UpdateMessageStateByID", params, NULL)))
        return rc;
    fprintf(vc_cli_out(ctx), "update message(id=%s) state to %s success\n", id, msgr_msg_state_name((int)state));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * address
 */

/* Calls method with the address argument; 0 or the exit code. */
static int call_addr(session_t *s, const char *method, json_t **ret)
{
    char addr[VC_ADDRESS_STRLEN_MAX];
    int rc = parse_addr(s->ctx, "address", vc_cli_arg(s->ctx, 0), addr);
    if (rc)
        return rc;
    json_t *params = json_pack("[s]", addr);
    return params ? rpc(s, method, params, ret) : oom(s->ctx);
}

/* An Address from the API printed as Go re-encodes it (prefix " "). */
static json_t *address_display(const json_t *raw)
{
    msgr_address_t a = {0};
    json_t *enc = NULL;
    if (msgr_address_from_json(raw, &a) < 0)
        return NULL;
    if (msgr_address_to_json(&a, &enc) >= 0)
        keep_times(enc, raw, "createAt", "updateAt");
    msgr_address_done(&a);
    return enc;
}

static int cmd_addr_search(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL;
    int rc = call_addr(&s, "GetAddress", &ans);
    if (rc)
        return rc;
    json_t *d = json_is_null(ans) ? json_null() : address_display(ans);
    json_decref(ans);
    if (!d)
        return bad_answer(ctx, "GetAddress");
    rc = print_json_prefix(ctx, d, " ");
    json_decref(d);
    return rc;
}

/* A list method's answer, each element re-shown by display (the Go CLI decodes into its types
 * and re-encodes), printed with MarshalIndent(" ", "\t"); "null" for a null answer. */
static int print_display_list(session_t *s, const char *method, json_t *(*display)(const json_t *raw))
{
    json_t *ans = NULL, *v, *arr;
    size_t i;
    int rc = rpc(s, method, NULL, &ans);
    if (rc)
        return rc;
    if (json_is_null(ans)) {
        json_decref(ans);
        fprintf(vc_cli_out(s->ctx), "null\n");
        return 0;
    }
    if (!json_is_array(ans) || !(arr = json_array())) {
        json_decref(ans);
        return bad_answer(s->ctx, method);
    }
    json_array_foreach(ans, i, v)
    {
        json_t *d = json_is_null(v) ? json_null() : display(v);
        if (!d || json_array_append_new(arr, d) < 0) {
            json_decref(arr);
            json_decref(ans);
            return bad_answer(s->ctx, method);
        }
    }
    rc = print_json_prefix(s->ctx, arr, " ");
    json_decref(arr);
    json_decref(ans);
    return rc;
}

static int cmd_addr_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    return print_display_list(&s, "ListAddress", address_display);
}

static int cmd_addr_del(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    return call_addr(&s, "DeleteAddress", NULL);
}

static int addr_state_change(vc_cli_ctx_t *ctx, const char *method, const char *done)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *has = NULL;
    int rc = call_addr(&s, "HasAddress", &has);
    if (rc)
        return rc;
    bool ok = json_is_true(has);
    json_decref(has);
    if (!ok)
        return vc_cli_errorf(ctx, "address not exist");
    if ((rc = call_addr(&s, method, NULL)))
        return rc;
    fprintf(vc_cli_out(ctx), "%s address success!\n", done);
    return 0;
}

static int cmd_addr_forbidden(vc_cli_ctx_t *ctx)
{
    return addr_state_change(ctx, "ForbiddenAddress", "forbidden");
}

static int cmd_addr_active(vc_cli_ctx_t *ctx)
{
    return addr_state_change(ctx, "ActiveAddress", "active");
}

static int cmd_addr_set_sel_msg_num(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    int rc = parse_addr(ctx, "address", vc_cli_arg(ctx, 0), addr);
    if (rc)
        return rc;
    uint64_t num = vc_cli_uint(ctx, "num");
    if (num > (uint64_t)INT64_MAX)
        return vc_cli_errorf(ctx, "--num: %" PRIu64 " is out of range", num);
    json_t *params = json_pack("[s, I]", addr, (json_int_t)num);
    return params ? rpc(&s, "SetSelectMsgNum", params, NULL) : oom(ctx);
}

static int cmd_addr_set_fee_params(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    char addr[VC_ADDRESS_STRLEN_MAX];
    msgr_address_spec_t sp = {0};
    json_t *j = NULL;
    int rc = parse_addr(ctx, "address", vc_cli_arg(ctx, 0), addr);
    if (rc)
        return rc;
    if (vc_cli_is_set(ctx, "gas-overestimation") &&
        (rc = parse_float(ctx, "--gas-overestimation", vc_cli_string(ctx, "gas-overestimation"),
                          &sp.gas_over_estimation)))
        return rc;
    if (vc_cli_is_set(ctx, "gas-over-premium") &&
        (rc = parse_float(ctx, "--gas-over-premium", vc_cli_string(ctx, "gas-over-premium"), &sp.gas_over_premium)))
        return rc;
    static const struct {
        const char *flag;
        size_t has_off, val_off;
    } bigs[] = {
        {"max-fee", offsetof(msgr_address_spec_t, has_max_fee), offsetof(msgr_address_spec_t, max_fee)},
        {"gas-feecap", offsetof(msgr_address_spec_t, has_gas_fee_cap), offsetof(msgr_address_spec_t, gas_fee_cap)},
        {"base-fee", offsetof(msgr_address_spec_t, has_base_fee), offsetof(msgr_address_spec_t, base_fee)},
    };
    for (size_t i = 0; i < VC_ELEMENTSOF(bigs); i++) {
        const char *v = vc_cli_string(ctx, bigs[i].flag);
        char what[32];
        if (vc_strempty(v))
            continue;
        snprintf(what, sizeof(what), "--%s", bigs[i].flag);
        if ((rc = parse_atto(ctx, what, v, (vc_bigint_t *)((char *)&sp + bigs[i].val_off))))
            return rc;
        *(bool *)((char *)&sp + bigs[i].has_off) = true;
    }
    sp.address = addr;
    rc = msgr_address_spec_to_json(&sp, &j);
    sp.address = NULL;
    if (rc < 0)
        return oom(ctx);
    json_t *params = json_pack("[o]", j);
    return params ? rpc(&s, "SetFeeParams", params, NULL) : oom(ctx);
}

/* ---------------------------------------------------------------------------------------------
 * share-params
 */

static int get_shared(session_t *s, msgr_shared_spec_t *ret, json_t **ret_raw)
{
    json_t *ans = NULL;
    int rc = rpc(s, "GetSharedParams", NULL, &ans);
    if (rc)
        return rc;
    if (!json_is_object(ans) || msgr_shared_spec_from_json(ans, ret) < 0) {
        json_decref(ans);
        return bad_answer(s->ctx, "GetSharedParams");
    }
    if (ret_raw)
        *ret_raw = ans;
    else
        json_decref(ans);
    return 0;
}

static int cmd_share_get(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    msgr_shared_spec_t sp = {0};
    json_t *j = NULL;
    int rc = get_shared(&s, &sp, NULL);
    if (rc)
        return rc;
    if (msgr_shared_spec_to_json(&sp, &j) < 0)
        return oom(ctx);
    rc = vc_cli_print_json(ctx, j) < 0 ? oom(ctx) : 0;
    json_decref(j);
    return rc;
}

static int cmd_share_set(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    msgr_shared_spec_t sp = {0};
    double goe = 0, gop = 0;
    vc_bigint_t max_fee = {0}, fee_cap = {0}, base_fee = {0};
    json_t *j = NULL;
    int rc = 0;

    /* validate every flag before the first call */
    if (vc_cli_is_set(ctx, "gas-over-estimation") &&
        (rc = parse_float(ctx, "--gas-over-estimation", vc_cli_string(ctx, "gas-over-estimation"), &goe)))
        return rc;
    if (vc_cli_is_set(ctx, "gas-over-premium") &&
        (rc = parse_float(ctx, "--gas-over-premium", vc_cli_string(ctx, "gas-over-premium"), &gop)))
        return rc;
    if (vc_cli_is_set(ctx, "max-fee") && (rc = parse_atto(ctx, "--max-fee", vc_cli_string(ctx, "max-fee"), &max_fee)))
        return rc;
    if (vc_cli_is_set(ctx, "gas-feecap") &&
        (rc = parse_atto(ctx, "--gas-feecap", vc_cli_string(ctx, "gas-feecap"), &fee_cap)))
        return rc;
    if (vc_cli_is_set(ctx, "base-fee") && (rc = parse_atto(ctx, "--base-fee", vc_cli_string(ctx, "base-fee"), &base_fee)))
        return rc;
    if ((rc = get_shared(&s, &sp, NULL)))
        return rc;
    if (vc_cli_is_set(ctx, "gas-over-estimation"))
        sp.fee.gas_over_estimation = goe;
    if (vc_cli_is_set(ctx, "max-fee"))
        sp.fee.max_fee = max_fee;
    if (vc_cli_is_set(ctx, "gas-feecap"))
        sp.fee.gas_fee_cap = fee_cap;
    if (vc_cli_is_set(ctx, "base-fee"))
        sp.fee.base_fee = base_fee;
    if (vc_cli_is_set(ctx, "sel-msg-num"))
        sp.sel_msg_num = vc_cli_uint(ctx, "sel-msg-num");
    if (vc_cli_is_set(ctx, "gas-over-premium"))
        sp.fee.gas_over_premium = gop;
    if (msgr_shared_spec_to_json(&sp, &j) < 0)
        return oom(ctx);
    json_t *params = json_pack("[o]", j);
    return params ? rpc(&s, "SetSharedParams", params, NULL) : oom(ctx);
}

/* ---------------------------------------------------------------------------------------------
 * actor (fee configs per actor code and method)
 */

/* The fee flags of `actor add` and `actor update-fee-params`, parsed before any call. */
static int parse_change_gas(vc_cli_ctx_t *ctx, msgr_change_gas_spec_t *c)
{
    int rc;
    *c = (msgr_change_gas_spec_t){0};
    if (vc_cli_is_set(ctx, "gas-over-estimation")) {
        if ((rc = parse_float(ctx, "--gas-over-estimation", vc_cli_string(ctx, "gas-over-estimation"),
                              &c->gas_over_estimation)))
            return rc;
        c->has_gas_over_estimation = true;
    }
    if (vc_cli_is_set(ctx, "gas-over-premium")) {
        if ((rc = parse_float(ctx, "--gas-over-premium", vc_cli_string(ctx, "gas-over-premium"),
                              &c->gas_over_premium)))
            return rc;
        c->has_gas_over_premium = true;
    }
    if (vc_cli_is_set(ctx, "max-fee")) {
        if ((rc = parse_atto(ctx, "--max-fee", vc_cli_string(ctx, "max-fee"), &c->max_fee)))
            return rc;
        c->has_max_fee = true;
    }
    if (vc_cli_is_set(ctx, "gas-feecap")) {
        if ((rc = parse_atto(ctx, "--gas-feecap", vc_cli_string(ctx, "gas-feecap"), &c->gas_fee_cap)))
            return rc;
        c->has_gas_fee_cap = true;
    }
    if (vc_cli_is_set(ctx, "base-fee")) {
        if ((rc = parse_atto(ctx, "--base-fee", vc_cli_string(ctx, "base-fee"), &c->base_fee)))
            return rc;
        c->has_base_fee = true;
    }
    if (!c->has_gas_over_estimation && !c->has_gas_over_premium && !c->has_max_fee && !c->has_gas_fee_cap &&
        !c->has_base_fee)
        return vc_cli_errorf(ctx, "at least one fee flag is required (--gas-over-estimation, --gas-over-premium, "
                                  "--max-fee, --gas-feecap, --base-fee)");
    return 0;
}

static int output_is_json(vc_cli_ctx_t *ctx, bool *ret)
{
    const char *t = vc_cli_string(ctx, "output-type");
    if (vc_strempty(t) || strcmp(t, "table") == 0)
        *ret = false;
    else if (strcmp(t, "json") == 0)
        *ret = true;
    else
        return vc_cli_errorf(ctx, "--output-type: '%s' is not supported (json or table)", t);
    return 0;
}

/* ActorCfg values as a table (one row each) or as indented JSON, the server's answers as given. */
/* The builtin name of method num of the actor with this code ("" when unknown). */
static const char *builtin_method_name(const vc_cid_t *code, uint64_t num)
{
    const char *actor = NULL;
    int version = 0;
    const msgr_builtin_method_t *m =
        msgr_builtin_actor_of(code, &actor, &version) ? msgr_builtin_method(version, actor, num) : NULL;
    return m ? m->name : "";
}

static int print_actor_cfgs(vc_cli_ctx_t *ctx, const json_t *list, bool as_json)
{
    if (as_json)
        return vc_cli_print_json(ctx, list) < 0 ? oom(ctx) : 0;
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    size_t i;
    json_t *v;
    bool names = false; /* the MethodName column, dropped when empty (as the Go tablewriter does) */
    if (!tw)
        return oom(ctx);
    json_array_foreach(list, i, v)
    {
        msgr_actor_cfg_t a;
        if (msgr_actor_cfg_from_json(v, &a) == 0 && *builtin_method_name(&a.code, a.method))
            names = true;
    }
    vc_tabwriter_printf(tw,
                        "ID\tCode\tMethod\t%sGasOverEstimation\tGasOverPremium\tMaxFee\tGasFeeCap\tBaseFee\t"
                        "CreateAt\tAVersion\n",
                        names ? "MethodName\t" : "");
    json_array_foreach(list, i, v)
    {
        msgr_actor_cfg_t a;
        char code[VC_CID_STRLEN_MAX], maxfee[VC_BIGINT_STRLEN_MAX], feecap[VC_BIGINT_STRLEN_MAX],
            basefee[VC_BIGINT_STRLEN_MAX], t[VC_GOTIME_STRLEN_MAX];
        if (msgr_actor_cfg_from_json(v, &a) < 0 || vc_cid_to_string(&a.code, code) < 0)
            return bad_answer(ctx, "ListActorCfg");
        vc_bigint_to_string(&a.fee.max_fee, maxfee, sizeof(maxfee));
        vc_bigint_to_string(&a.fee.gas_fee_cap, feecap, sizeof(feecap));
        vc_bigint_to_string(&a.fee.base_fee, basefee, sizeof(basefee));
        vc_tabwriter_printf(tw, "%s\t%s\t%" PRIu64 "\t%s%s%g\t%g\t%s\t%s\t%s\t%s\t%" PRId64 "\n", a.id, code,
                            a.method, names ? builtin_method_name(&a.code, a.method) : "", names ? "\t" : "",
                            a.fee.gas_over_estimation, a.fee.gas_over_premium, maxfee, feecap, basefee,
                            show_time(json_object_get(v, "createAt"), VC_GOTIME_DATETIME, t),
                            a.actor_version);
    }
    return vc_tabwriter_flush_file(tw, vc_cli_out(ctx)) < 0 ? oom(ctx) : 0;
}

static int cmd_actor_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL;
    bool as_json = false;
    int rc = output_is_json(ctx, &as_json);
    if (rc || (rc = rpc(&s, "ListActorCfg", NULL, &ans)))
        return rc;
    if (json_is_null(ans)) {
        json_decref(ans);
        ans = json_array();
    }
    if (!json_is_array(ans)) {
        json_decref(ans);
        return bad_answer(ctx, "ListActorCfg");
    }
    rc = print_actor_cfgs(ctx, ans, as_json);
    json_decref(ans);
    return rc;
}

static int cmd_actor_get(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL, *one;
    bool as_json = false;
    int rc = output_is_json(ctx, &as_json);
    if (rc)
        return rc;
    json_t *params = json_pack("[s]", vc_cli_arg(ctx, 0));
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "GetActorCfgByID", params, &ans)))
        return rc;
    if (!json_is_object(ans) || !(one = json_pack("[O]", ans))) {
        json_decref(ans);
        return bad_answer(ctx, "GetActorCfgByID");
    }
    rc = print_actor_cfgs(ctx, one, as_json);
    json_decref(one);
    json_decref(ans);
    return rc;
}

static int cmd_actor_add(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    msgr_actor_cfg_t a = {0};
    msgr_change_gas_spec_t c;
    char *end = NULL;
    json_t *j = NULL;
    const char *m = vc_cli_arg(ctx, 1);
    int rc = parse_cid(ctx, "code", vc_cli_arg(ctx, 0), &a.code);
    if (rc)
        return rc;
    errno = 0;
    unsigned long long method = strtoull(m, &end, 10);
    if (!isdigit((unsigned char)m[0]) || *end || errno || method > INT64_MAX)
        return vc_cli_errorf(ctx, "method: '%s' is not a method number", m);
    int64_t ver = vc_cli_int(ctx, "version");
    if (!vc_cli_is_set(ctx, "version")) {
        /* the actors version of a builtin actor's code, as the builtin method map has it */
        const char *actor = NULL;
        int v = 0;
        if (!msgr_builtin_actor_of(&a.code, &actor, &v) || !msgr_builtin_method(v, actor, method))
            return vc_cli_errorf(ctx, "actor not found:%s method(%llu) not exist", vc_cli_arg(ctx, 0),
                                 method);
        ver = v;
    } else if (ver <= 0 || ver > 1000)
        return vc_cli_errorf(ctx, "--version: %" PRId64 " is not an actors version", ver);
    if ((rc = parse_change_gas(ctx, &c)))
        return rc;
    vc_uuid4(a.id);
    a.method = method;
    a.actor_version = ver;
    a.fee.gas_over_estimation = c.gas_over_estimation;
    a.fee.gas_over_premium = c.gas_over_premium;
    a.fee.max_fee = c.max_fee;
    a.fee.gas_fee_cap = c.gas_fee_cap;
    a.fee.base_fee = c.base_fee;
    if (msgr_actor_cfg_to_json(&a, &j) < 0)
        return oom(ctx);
    json_t *params = json_pack("[o]", j);
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "SaveActorCfg", params, NULL)))
        return rc;
    fprintf(vc_cli_out(ctx), "add actor config %s success\n", a.id);
    return 0;
}

/* StateNetworkName of the node in <repo>/config.toml ([node] url and token): the builtin actor
 * code CIDs belong to the node's network. */
static int node_network_name(vc_cli_ctx_t *ctx, char **ret)
{
    _cleanup_free_ char *repo = repo_path(ctx);
    _cleanup_free_ char *url = repo ? config_string(repo, "node.url") : NULL;
    _cleanup_free_ char *token = repo ? config_string(repo, "node.token") : NULL;
    const char *eps[] = {url ? url : "/ip4/127.0.0.1/tcp/3453"};
    vc_client_opts_t o = {.endpoints = eps,
                          .n_endpoints = 1,
                          .default_path = "/rpc/v1",
                          .token = token,
                          .api_namespace = "v1.FullNode",
                          .retries = -1};
    vc_client_t *c = NULL;
    vc_rpc_err_t e = {0};
    json_t *res = NULL;
    int r = vc_client_new(&o, &c);
    if (r == 0)
        r = vc_client_call(c, "Filecoin.StateNetworkName", NULL, &res, &e);
    vc_client_free(c);
    if (r == 0 && !json_is_string(res))
        r = VC_EPARSE;
    if (r < 0) {
        json_decref(res);
        return vc_cli_errorf(
            ctx, "cannot get the network name from the node at %s ([node] url of %s/config.toml): %s", eps[0],
            repo ? repo : "<repo>", r == VC_EREMOTE ? e.message : vc_strerror(r));
    }
    *ret = strdup(json_string_value(res));
    json_decref(res);
    return *ret ? 0 : oom(ctx);
}

/* list-builtin-actors: the methods of every builtin actor of the node's network at an actors
 * version (default: the newest known), one Category row per actor. */
static int cmd_actor_list_builtin(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *network = NULL;
    _cleanup_(vc_tabwriter_freep) vc_tabwriter_t *tw = vc_tabwriter_new_venus();
    int rc = node_network_name(ctx, &network);
    if (rc)
        return rc;
    if (!tw)
        return oom(ctx);
    int64_t version =
        vc_cli_is_set(ctx, "version") ? vc_cli_int(ctx, "version") : msgr_builtin_max_version(network);
    if (msgr_builtin_max_version(network) == 0)
        return vc_cli_errorf(ctx, "no builtin actors known for network %s", network);
    vc_tabwriter_row(tw, "Category", "Version", "Code", "Method", "MethodName", NULL);
    for (size_t i = 0; i < msgr_builtin_n_codes; i++) {
        const msgr_builtin_code_t *c = &msgr_builtin_codes[i];
        if (c->version != version || !vc_streq(c->network, network))
            continue;
        vc_tabwriter_printf(tw, "%s\t\t\t\t\n", c->actor);
        for (size_t k = 0; k < msgr_builtin_n_methods; k++) {
            const msgr_builtin_method_t *m = &msgr_builtin_methods[k];
            if (vc_streq(m->actor, c->actor) && m->first <= version && version <= m->last)
                vc_tabwriter_printf(tw, "\t%" PRId64 "\t%s\t%" PRIu64 "\t%s\n", version, c->cid, m->num,
                                    m->name);
        }
    }
    return vc_tabwriter_flush_file(tw, vc_cli_out(ctx)) < 0 ? oom(ctx) : 0;
}

static int cmd_actor_update(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    msgr_change_gas_spec_t c;
    json_t *j = NULL;
    int rc = parse_change_gas(ctx, &c);
    if (rc)
        return rc;
    if (msgr_change_gas_spec_to_json(&c, &j) < 0)
        return oom(ctx);
    json_t *params = json_pack("[so]", vc_cli_arg(ctx, 0), j);
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "UpdateActorCfg", params, NULL)))
        return rc;
    fprintf(vc_cli_out(ctx), "update actor config %s success\n", vc_cli_arg(ctx, 0));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * node
 */

static json_t *node_display(const json_t *raw)
{
    msgr_node_t n = {0};
    json_t *enc = NULL;
    if (json_is_null(raw))
        return json_null();
    if (msgr_node_from_json(raw, &n) < 0)
        return NULL;
    if (msgr_node_to_json(&n, &enc) >= 0)
        keep_times(enc, raw, "CreatedAt", "UpdatedAt");
    msgr_node_done(&n);
    return enc;
}

static int cmd_node_add(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    const char *name = vc_cli_string(ctx, "name"), *url = vc_cli_string(ctx, "url"),
               *token = vc_cli_string(ctx, "token");
    json_t *has = NULL, *j = NULL;
    int rc;
    if (vc_strempty(url))
        return vc_cli_errorf(ctx, "url cannot be empty");
    if (vc_strempty(token))
        return vc_cli_errorf(ctx, "token cannot be empty");
    json_t *params = json_pack("[s]", name);
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "HasNode", params, &has)))
        return rc;
    bool exists = json_is_true(has);
    json_decref(has);
    if (exists)
        return vc_cli_errorf(ctx, "node exist");
    msgr_node_t n = {.name = (char *)name, .url = (char *)url, .token = (char *)token, .type = MSGR_NODE_FULL};
    vc_uuid4(n.id);
    if (msgr_node_to_json(&n, &j) < 0)
        return oom(ctx);
    params = json_pack("[o]", j);
    return params ? rpc(&s, "SaveNode", params, NULL) : oom(ctx);
}

static int cmd_node_search(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL, *params = json_pack("[s]", vc_cli_arg(ctx, 0));
    int rc;
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "GetNode", params, &ans)))
        return rc;
    json_t *d = node_display(ans);
    json_decref(ans);
    if (!d)
        return bad_answer(ctx, "GetNode");
    rc = print_json_prefix(ctx, d, " ");
    json_decref(d);
    return rc;
}

static int cmd_node_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    return print_display_list(&s, "ListNode", node_display);
}

static int cmd_node_del(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *params = json_pack("[s]", vc_cli_arg(ctx, 0));
    return params ? rpc(&s, "DeleteNode", params, NULL) : oom(ctx);
}

/* ---------------------------------------------------------------------------------------------
 * log
 */

static int cmd_log_set_level(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    size_t n = 0;
    const char *const *systems = vc_cli_strings(ctx, "system", &n);
    char level[32];
    const char *arg = vc_cli_arg(ctx, 0);
    int rc;
    if (strlen(arg) >= sizeof(level))
        return vc_cli_errorf(ctx, "unknown log level '%s' (want debug, info, warn or error)", arg);
    for (size_t i = 0; arg[i]; i++)
        level[i] = (char)(arg[i] >= 'A' && arg[i] <= 'Z' ? arg[i] + 32 : arg[i]);
    level[strlen(arg)] = 0;
    if (n == 0)
        return vc_cli_errorf(ctx, "give at least one --system (see `log list`)");
    for (size_t i = 0; i < n; i++) {
        json_t *params = json_pack("[s, s]", systems[i], level);
        if (!params)
            return oom(ctx);
        if ((rc = rpc(&s, "SetLogLevel", params, NULL)))
            return rc;
    }
    return 0;
}

static int cmd_log_list(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL, *v;
    size_t i;
    int rc = rpc(&s, "LogList", NULL, &ans);
    if (rc)
        return rc;
    json_array_foreach(ans, i, v) fprintf(vc_cli_out(ctx), "%s\n", json_string_value(v) ? json_string_value(v) : "");
    json_decref(ans);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * send
 */

static int cmd_send(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    msgr_quick_send_t q = {0};
    json_t *j = NULL, *ans = NULL;
    int rc;

    if (vc_cli_nargs(ctx) != 2)
        return vc_cli_errorf(ctx, "'send' expects two arguments, target and amount");
    if (vc_address_from_string(vc_cli_arg(ctx, 0), &q.to) < 0)
        return vc_cli_errorf(ctx, "failed to parse target address: invalid address '%s'", vc_cli_arg(ctx, 0));
    if ((rc = parse_fil(ctx, "failed to parse amount", vc_cli_arg(ctx, 1), &q.val)))
        return rc;
    if (vc_address_from_string(vc_cli_string(ctx, "from"), &q.from) < 0)
        return vc_cli_errorf(ctx, "failed to parse from address: invalid address '%s'", vc_cli_string(ctx, "from"));
    if (vc_cli_is_set(ctx, "account"))
        q.account = (char *)vc_cli_string(ctx, "account");
    if (vc_cli_is_set(ctx, "gas-premium")) {
        if ((rc = parse_atto(ctx, "--gas-premium", vc_cli_string(ctx, "gas-premium"), &q.gas_premium)))
            return rc;
        q.has_gas_premium = true;
    }
    if (vc_cli_is_set(ctx, "gas-feecap")) {
        if ((rc = parse_atto(ctx, "--gas-feecap", vc_cli_string(ctx, "gas-feecap"), &q.gas_fee_cap)))
            return rc;
        q.has_gas_fee_cap = true;
    }
    if (vc_cli_is_set(ctx, "gas-limit")) {
        q.gas_limit = vc_cli_int(ctx, "gas-limit");
        if (q.gas_limit < 0)
            return vc_cli_errorf(ctx, "--gas-limit: %" PRId64 " must not be negative", q.gas_limit);
        q.has_gas_limit = true;
    }
    q.method = vc_cli_uint(ctx, "method");
    if (vc_cli_is_set(ctx, "params-json")) {
        q.params = (char *)vc_cli_string(ctx, "params-json");
        q.params_type = (char *)"json";
    }
    if (vc_cli_is_set(ctx, "params-hex")) {
        if (!vc_strempty(q.params))
            return vc_cli_errorf(ctx, "can only specify one of 'params-json' and 'params-hex'");
        q.params = (char *)vc_cli_string(ctx, "params-hex");
        q.params_type = (char *)"hex";
    }
    rc = msgr_quick_send_to_json(&q, &j);
    if (rc < 0)
        return oom(ctx);
    json_t *params = json_pack("[o]", j);
    if (!params)
        return oom(ctx);
    if ((rc = rpc(&s, "Send", params, &ans)))
        return rc;
    fprintf(vc_cli_out(ctx), "msg uuid %s \n", json_string_value(ans) ? json_string_value(ans) : "");
    json_decref(ans);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * swarm (the messager's libp2p host; a daemon without one answers with an error)
 */

static void print_addr_info(vc_cli_ctx_t *ctx, const json_t *ai)
{
    FILE *out = vc_cli_out(ctx);
    json_t *v;
    size_t i;
    const char *id = json_string_value(json_object_get(ai, "ID"));
    fprintf(out, "%s, [", id ? id : "");
    json_array_foreach(json_object_get(ai, "Addrs"), i, v)
        fprintf(out, "%s%s", i ? " " : "", json_string_value(v) ? json_string_value(v) : "");
    fprintf(out, "]\n");
}

static int cmd_swarm_peers(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL, *v;
    size_t i;
    int rc = rpc(&s, "NetPeers", NULL, &ans);
    if (rc)
        return rc;
    json_array_foreach(ans, i, v) print_addr_info(ctx, v);
    json_decref(ans);
    return 0;
}

static int cmd_swarm_listen(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    json_t *ans = NULL;
    int rc = rpc(&s, "NetAddrsListen", NULL, &ans);
    if (rc)
        return rc;
    print_addr_info(ctx, ans);
    json_decref(ans);
    return 0;
}

static int cmd_swarm_connect_id(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    int rc;
    for (size_t i = 0; i < vc_cli_nargs(ctx); i++) {
        json_t *ai = NULL, *params = json_pack("[s]", vc_cli_arg(ctx, i));
        if (!params)
            return oom(ctx);
        if ((rc = rpc(&s, "NetFindPeer", params, &ai)))
            return rc;
        if ((rc = rpc(&s, "NetConnect", json_pack("[o]", ai), NULL)))
            return rc;
    }
    return 0;
}

/* "<maddr>/p2p/<id>" -> AddrInfo {"ID":id,"Addrs":[maddr]}. */
static int cmd_swarm_connect_addr(vc_cli_ctx_t *ctx)
{
    _cleanup_(session_done) session_t s = {.ctx = ctx};
    int rc;
    for (size_t i = 0; i < vc_cli_nargs(ctx); i++) {
        const char *a = vc_cli_arg(ctx, i), *p = strstr(a, "/p2p/");
        if (!p || !p[5] || strchr(p + 5, '/'))
            return vc_cli_errorf(ctx, "'%s' is not a multiaddr ending in /p2p/<peer id>", a);
        json_t *params = json_pack("[{s:s, s:[s#]}]", "ID", p + 5, "Addrs", a, (int)(p - a));
        if (!params)
            return oom(ctx);
        if ((rc = rpc(&s, "NetConnect", params, NULL)))
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The command tree
 */

#define API_FLAG                                                                                                   \
    {                                                                                                              \
        "api", NULL, VC_FLAG_STRING, "daemon address (default: <repo>/api, then config [api] Address, then "      \
                                     MSGR_CLI_DEFAULT_API ")"                                                      \
    }
#define STATE_USAGE                                                                                                \
    "filter by message state,\nstate:\n  1:  UnFillMsg\n  2:  FillMsg\n  3:  OnChainMsg\n  4:  FailedMsg\n  5:  "   \
    "NonceConflictMsg\n"
#define OUTPUT_TYPE_FLAG {"output-type", NULL, VC_FLAG_STRING, "output type support json and table", "table"}
#define VERBOSE_FLAG {"verbose", "v", VC_FLAG_BOOL, "verbose address"}
#define REALLY_FLAG {"really-do-it", NULL, VC_FLAG_BOOL, "specify this flag to confirm"}
#define GOP_FLAG {"gas-over-premium", NULL, VC_FLAG_STRING, "gas premium over-rate (float)"}

static const vc_cli_flag_t api_flags[] = {API_FLAG, {0}};

static const vc_cli_flag_t search_flags[] = {
    {"id", NULL, VC_FLAG_STRING, "message id"},
    {"cid", NULL, VC_FLAG_STRING, "message cid (signed)"},
    API_FLAG,
    {0},
};

static const vc_cli_flag_t list_flags[] = {
    {"page-index", NULL, VC_FLAG_INT, "pagination index, start from 1", "1"},
    {"page-size", NULL, VC_FLAG_INT, "pagination size", "100"},
    {"time", "t", VC_FLAG_STRING, "exceeding residence time, eg. 3s,3m,3h"},
    {"from", NULL, VC_FLAG_STRING, "address to send message"},
    OUTPUT_TYPE_FLAG,
    VERBOSE_FLAG,
    {"state", NULL, VC_FLAG_INT, STATE_USAGE, "1"},
    API_FLAG,
    {0},
};

static const vc_cli_flag_t list_fail_flags[] = {
    {"from", NULL, VC_FLAG_STRING, "address to send message"}, OUTPUT_TYPE_FLAG, VERBOSE_FLAG, API_FLAG, {0},
};

static const vc_cli_flag_t list_blocked_flags[] = {
    {"time", "t", VC_FLAG_STRING, "exceeding residence time, eg. 3s,3m,3h", "3h"},
    {"from", NULL, VC_FLAG_STRING, "address to send message"},
    OUTPUT_TYPE_FLAG,
    VERBOSE_FLAG,
    API_FLAG,
    {0},
};

static const vc_cli_flag_t update_filled_flags[] = {
    {"id", NULL, VC_FLAG_STRING, "message id"},
    {"signed_cid", "s_cid", VC_FLAG_STRING, "message signed cid"},
    {"unsigned_cid", "u_cid", VC_FLAG_STRING, "message unsigned cid"},
    API_FLAG,
    {0},
};

static const vc_cli_flag_t replace_flags[] = {
    {"gas-feecap", NULL, VC_FLAG_STRING, "gas feecap for new message (burn and pay to miner, attoFIL/GasUnit)"},
    {"gas-premium", NULL, VC_FLAG_STRING, "gas price for new message (pay to miner, attoFIL/GasUnit)"},
    {"gas-limit", NULL, VC_FLAG_INT, "gas limit for new message (GasUnit)"},
    {"auto", NULL, VC_FLAG_BOOL, "automatically reprice the specified message"},
    {"max-fee", NULL, VC_FLAG_STRING, "Spend up to X FIL for this message (applicable for auto mode)"},
    GOP_FLAG,
    API_FLAG,
    {0},
};

static const vc_cli_flag_t mark_bad_flags[] = {
    REALLY_FLAG, {"from", NULL, VC_FLAG_STRING, "mark the unfill messages of this address that have an error"},
    API_FLAG,    {0},
};

static const vc_cli_flag_t recover_flags[] = {
    REALLY_FLAG, {"from", NULL, VC_FLAG_STRING, "recover the failed messages of this address"}, API_FLAG, {0},
};

static const vc_cli_flag_t really_flags[] = {REALLY_FLAG, API_FLAG, {0}};

static const vc_cli_flag_t update_state_flags[] = {
    {"id", NULL, VC_FLAG_STRING, "message id"},
    {"state", NULL, VC_FLAG_INT, STATE_USAGE, "1"},
    REALLY_FLAG,
    API_FLAG,
    {0},
};

static const vc_cli_cmd_t msg_cmds[] = {
    {.name = "search", .usage = "search message", .flags = search_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_msg_search},
    {.name = "list", .usage = "list messages", .flags = list_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_msg_list},
    {.name = "list-fail", .usage = "list failed messages", .flags = list_fail_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_msg_list_fail},
    {.name = "list-blocked", .usage = "Lists messages that have not been chained for a period of time",
     .flags = list_blocked_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_msg_list_blocked},
    {.name = "update-filled-msg", .usage = "manual update one filled message state", .flags = update_filled_flags,
     .nargs = VC_CLI_NO_ARGS, .run = cmd_msg_update_filled},
    {.name = "update-all-filled-msg", .usage = "manual update all filled message state", .flags = api_flags,
     .nargs = VC_CLI_NO_ARGS, .run = cmd_msg_update_all_filled},
    {.name = "replace", .usage = "replace a message", .args_usage = "<from nonce> | <id>", .flags = replace_flags,
     .run = cmd_msg_replace},
    {.name = "wait", .usage = "wait a messager msg id for result", .args_usage = "<id>", .flags = api_flags,
     .nargs = 1, .run = cmd_msg_wait},
    {.name = "republish", .usage = "republish a message by id", .args_usage = "<id>", .flags = api_flags,
     .nargs = 1, .run = cmd_msg_republish},
    {.name = "mark-bad", .usage = "mark bad message", .args_usage = "<id>...", .flags = mark_bad_flags,
     .run = cmd_msg_mark_bad},
    {.name = "clear-unfill-msg", .usage = "clear unfill messages by address", .args_usage = "<address>",
     .flags = really_flags, .run = cmd_msg_clear_unfill},
    {.name = "recover-failed-msg", .usage = "recover failed messages", .args_usage = "<id>...",
     .flags = recover_flags, .run = cmd_msg_recover_failed},
    {.name = "update-state", .usage = "manual update the state of specific id message",
     .flags = update_state_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_msg_update_state},
    {0},
};

static const vc_cli_flag_t sel_num_flags[] = {
    {"num", NULL, VC_FLAG_UINT, "the number of one address selection message", .required = true},
    API_FLAG,
    {0},
};

static const vc_cli_flag_t fee_params_flags[] = {
    {"gas-overestimation", NULL, VC_FLAG_STRING, "Estimate the coefficient of gas (float)"},
    {"gas-feecap", NULL, VC_FLAG_STRING, "Gas feecap for a message (burn and pay to miner, attoFIL/GasUnit)"},
    {"max-fee", NULL, VC_FLAG_STRING, "Spend up to X attoFIL for message"},
    {"base-fee", NULL, VC_FLAG_STRING, "skip selection while the base fee is above this (attoFIL)"},
    GOP_FLAG,
    API_FLAG,
    {0},
};

static const vc_cli_cmd_t address_cmds[] = {
    {.name = "search", .usage = "search address", .args_usage = "<address>", .flags = api_flags, .nargs = 1,
     .run = cmd_addr_search},
    {.name = "list", .usage = "list address", .flags = api_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_addr_list},
    {.name = "del", .usage = "delete address", .args_usage = "<address>", .flags = api_flags, .nargs = 1,
     .run = cmd_addr_del},
    {.name = "forbidden", .usage = "forbidden address", .args_usage = "<address>", .flags = api_flags, .nargs = 1,
     .run = cmd_addr_forbidden},
    {.name = "active", .usage = "activate a frozen address", .args_usage = "<address>", .flags = api_flags,
     .nargs = 1, .run = cmd_addr_active},
    {.name = "set-sel-msg-num", .usage = "set the number of address selection messages",
     .args_usage = "<address>", .flags = sel_num_flags, .nargs = 1, .run = cmd_addr_set_sel_msg_num},
    {.name = "set-fee-params", .usage = "Address setting fee associated configuration", .args_usage = "<address>",
     .flags = fee_params_flags, .nargs = 1, .run = cmd_addr_set_fee_params},
    {0},
};

static const vc_cli_flag_t share_set_flags[] = {
    {"gas-over-estimation", NULL, VC_FLAG_STRING, "gas limit over-estimation (float)", "1.25"},
    {"max-fee", NULL, VC_FLAG_STRING, "max fee per message (attoFIL)", "7000000000000000"},
    {"gas-feecap", NULL, VC_FLAG_STRING, "gas fee cap (attoFIL)", "0"},
    {"sel-msg-num", NULL, VC_FLAG_UINT, "messages selected per address and round", "20"},
    {"base-fee", NULL, VC_FLAG_STRING, "skip selection while the base fee is above this (attoFIL)"},
    GOP_FLAG,
    API_FLAG,
    {0},
};

static const vc_cli_cmd_t share_cmds[] = {
    {.name = "set", .usage = "set current shared params (only the flags given change)", .flags = share_set_flags,
     .nargs = VC_CLI_NO_ARGS, .run = cmd_share_set},
    {.name = "get", .usage = "get shared params", .flags = api_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_share_get},
    {0},
};

#define ACTOR_FEE_FLAGS                                                                                            \
    {"gas-over-estimation", NULL, VC_FLAG_STRING, "gas limit over-estimation (float)"},                            \
        {"gas-over-premium", NULL, VC_FLAG_STRING, "gas premium over-rate (float)"},                               \
        {"max-fee", NULL, VC_FLAG_STRING, "max fee per message (attoFIL)"},                                        \
        {"gas-feecap", NULL, VC_FLAG_STRING, "gas fee cap (attoFIL)"},                                             \
        {"base-fee", NULL, VC_FLAG_STRING, "skip selection while the base fee is above this (attoFIL)"}

static const vc_cli_flag_t actor_list_flags[] = {OUTPUT_TYPE_FLAG, API_FLAG, {0}};
static const vc_cli_flag_t actor_add_flags[] = {
    ACTOR_FEE_FLAGS,
    {"version", NULL, VC_FLAG_INT, "actors version of the code (default: from the builtin actors)"},
    API_FLAG,
    {0},
};
static const vc_cli_flag_t actor_update_flags[] = {ACTOR_FEE_FLAGS, API_FLAG, {0}};
static const vc_cli_flag_t actor_builtin_flags[] = {
    {"version", NULL, VC_FLAG_INT, "actors version (default: the newest known for the node's network)"},
    {0},
};

static const vc_cli_cmd_t actor_cmds[] = {
    {.name = "list",
     .usage = "list actor fee configs",
     .flags = actor_list_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_actor_list},
    {.name = "get",
     .usage = "get an actor fee config by id",
     .args_usage = "<id>",
     .flags = actor_list_flags,
     .nargs = 1,
     .run = cmd_actor_get},
    {.name = "add",
     .usage = "add a fee config for an actor code and method",
     .args_usage = "<code-cid> <method>",
     .flags = actor_add_flags,
     .nargs = 2,
     .run = cmd_actor_add},
    {.name = "update-fee-params",
     .usage = "update the fee params of an actor fee config",
     .args_usage = "<id>",
     .flags = actor_update_flags,
     .nargs = 1,
     .run = cmd_actor_update},
    {.name = "list-builtin-actors",
     .usage = "list builtin actors",
     .flags = actor_builtin_flags,
     .nargs = VC_CLI_NO_ARGS,
     .run = cmd_actor_list_builtin},
    {0},
};

static const vc_cli_flag_t node_add_flags[] = {
    {"name", NULL, VC_FLAG_STRING, "node name"},
    {"url", NULL, VC_FLAG_STRING, "node url"},
    {"token", NULL, VC_FLAG_STRING, "node token"},
    API_FLAG,
    {0},
};

static const vc_cli_cmd_t node_cmds[] = {
    {.name = "add", .usage = "add a new node to push message", .flags = node_add_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_node_add},
    {.name = "search", .usage = "search node info by name", .args_usage = "<name>", .flags = api_flags, .nargs = 1,
     .run = cmd_node_search},
    {.name = "list", .usage = "list node info", .flags = api_flags, .nargs = VC_CLI_NO_ARGS, .run = cmd_node_list},
    {.name = "del", .usage = "delete node by name", .args_usage = "<name>", .flags = api_flags, .nargs = 1,
     .run = cmd_node_del},
    {0},
};

static const vc_cli_flag_t set_level_flags[] = {
    {"system", NULL, VC_FLAG_STRINGS, "The system logging identifier (repeatable)"},
    API_FLAG,
    {0},
};

static const vc_cli_cmd_t log_cmds[] = {
    {.name = "set-level", .usage = "Set the logging level.", .args_usage = "<log-level>",
     .description = "Set the log level for logging systems:\n\n   The system flag can be specified multiple "
                    "times.\n\n   eg) log set-level --system msg-select --system publisher debug\n\n   Available "
                    "Levels:\n   debug\n   info\n   warn\n   error",
     .flags = set_level_flags, .nargs = 1, .run = cmd_log_set_level},
    {.name = "list", .usage = "List the logging subsystems.", .flags = api_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_log_list},
    {0},
};

static const vc_cli_flag_t send_flags[] = {
    {"from", NULL, VC_FLAG_STRING, "the address to send from", .required = true},
    {"gas-premium", NULL, VC_FLAG_STRING, "specify gas price to use in AttoFIL", "0"},
    {"gas-feecap", NULL, VC_FLAG_STRING, "specify gas fee cap to use in AttoFIL", "0"},
    {"gas-limit", NULL, VC_FLAG_INT, "specify gas limit", "0"},
    {"method", NULL, VC_FLAG_UINT, "specify method to invoke", "0"},
    {"params-json", NULL, VC_FLAG_STRING, "specify invocation parameters in json"},
    {"params-hex", NULL, VC_FLAG_STRING, "specify invocation parameters in hex"},
    {"account", NULL, VC_FLAG_STRING, "optionally specify the account to send"},
    API_FLAG,
    {0},
};

static const vc_cli_cmd_t swarm_cmds[] = {
    {.name = "connect-id", .usage = "connect to peers by id", .args_usage = "<peerId>...", .flags = api_flags,
     .min_args = 1, .run = cmd_swarm_connect_id},
    {.name = "connect-addr", .usage = "connect to peers by multiaddr", .args_usage = "<multiaddr>...",
     .flags = api_flags, .min_args = 1, .run = cmd_swarm_connect_addr},
    {.name = "peers", .usage = "list connected peers", .flags = api_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_swarm_peers},
    {.name = "listen", .usage = "list listen addresses", .flags = api_flags, .nargs = VC_CLI_NO_ARGS,
     .run = cmd_swarm_listen},
    {0},
};

static int cmd_node_pool(vc_cli_ctx_t *ctx)
{
    return vc_nodepool_cli_run(ctx, msgr_cli_call);
}

static const vc_cli_cmd_t node_pool_cmds[] = VC_NODEPOOL_CLI_CMDS(cmd_node_pool);

const vc_cli_cmd_t msgr_client_cmds[] = {
    {.name = "msg", .usage = "message commands", .subcommands = msg_cmds},
    {.name = "address", .usage = "address commands", .subcommands = address_cmds},
    {.name = "share-params", .usage = "share params cmd", .subcommands = share_cmds},
    {.name = "actor", .usage = "actor fee config commands", .subcommands = actor_cmds},
    {.name = "node", .usage = "node commands", .subcommands = node_cmds},
    {.name = "log", .usage = "log commands", .subcommands = log_cmds},
    {.name = "send", .usage = "Send a message", .args_usage = "<targetAddress> <amount>", .flags = send_flags,
     .run = cmd_send},
    {.name = "swarm", .usage = "libp2p swarm commands", .subcommands = swarm_cmds},
    {.name = "ha", .usage = "primary/standby: role and lease", .subcommands = vc_ha_cli_cmds},
    {.name = "node-pool", .usage = VC_NODEPOOL_CLI_USAGE, .subcommands = node_pool_cmds},
    {0},
};
