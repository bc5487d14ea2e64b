/*
 * venus-wallet against the real binary: `run` on 127.0.0.1 port 0 with a fresh repo, every CLI
 * command, the local JSON-RPC API (signing rules, token), lock/unlock, restart locked, and a
 * first run without a passphrase that the first `unlock` initialises.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-test-proc.h"
#include "vc-test.h"
#include "vc/client.h"
#include "vc/crypto.h"
#include "vc/message.h"
#include "vc/util.h"

static const char *bin;
static char repo[512], pwfile[512];
static pid_t daemon_pid;

static char *read_trim(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (vc_read_file(path, 65536, &d, &n) < 0)
        return NULL;
    while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
        d[--n] = 0;
    return d;
}

static bool start(const char *password)
{
    char log[600], api[600];
    snprintf(log, sizeof(log), "%s/daemon.log", vc_test_tmpdir());
    snprintf(api, sizeof(api), "%s/api", repo);
    unlink(api);
    if (password)
        setenv("VENUS_WALLET_PASSWORD", password, 1);
    else
        unsetenv("VENUS_WALLET_PASSWORD");
    const char *argv[] = {bin, "--repo", repo, "run", "--listen", "127.0.0.1:0", NULL};
    daemon_pid = vc_test_spawn(argv, log);
    unsetenv("VENUS_WALLET_PASSWORD");
    return daemon_pid > 0 && vc_test_wait_file(api, 20000);
}

static void stop(void)
{
    if (daemon_pid > 0)
        vc_test_stop(daemon_pid, 5000);
    daemon_pid = 0;
}

/* Runs `venus-wallet --repo <repo> args...`; returns the exit code; out/err trimmed. */
static int wallet(char **out, char **err, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    const char *argv[] = {bin, "--repo", repo, a1, a2, a3, a4, a5, NULL};
    char *o = NULL, *e = NULL;
    int rc = vc_test_run_cmd(argv, &o, &e);
    for (char *s = o; s && *s && s[strlen(s) - 1] == '\n';)
        s[strlen(s) - 1] = 0;
    for (char *s = e; s && *s && s[strlen(s) - 1] == '\n';)
        s[strlen(s) - 1] = 0;
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}
#define W1(o, e, a) wallet(o, e, a, NULL, NULL, NULL, NULL)
#define W2(o, e, a, b) wallet(o, e, a, b, NULL, NULL, NULL)
#define W3(o, e, a, b, c) wallet(o, e, a, b, c, NULL, NULL)
#define W4(o, e, a, b, c, d) wallet(o, e, a, b, c, d, NULL)

static json_t *vector(const char *name)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(vc_test_vectors(), "messages"), i, m) if (vc_streq(
        json_string_value(json_object_get(m, "name")), name)) return m;
    return NULL;
}

static vc_client_t *api_client(const char *token)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/api", repo);
    _cleanup_free_ char *api = read_trim(p);
    const char *eps[] = {api};
    vc_client_opts_t o = {.endpoints = eps, .n_endpoints = 1, .default_path = "/rpc/v0", .token = token, .retries = -1};
    vc_client_t *c = NULL;
    VC_CHECK(vc_client_new(&o, &c) == 0);
    return c;
}

static void test_cli(void)
{
    char *out = NULL, *err = NULL;
    snprintf(repo, sizeof(repo), "%s/repo", vc_test_tmpdir());
    ASSERT_TRUE(start("it-pass"));

    /* new / list / default */
    ASSERT_EQ(W1(&out, NULL, "new"), 0);
    _cleanup_free_ char *a1 = out;
    ASSERT_TRUE(strncmp(a1, "f1", 2) == 0);
    ASSERT_EQ(W3(NULL, &err, "new", "--type", "bls"), 1);
    ASSERT_TRUE(strstr(err, "unsupported key type: bls (no BLS library in venus-c)") != NULL);
    free(err);
    ASSERT_EQ(W1(&out, NULL, "list"), 0);
    ASSERT_STREQ(out, a1);
    free(out);
    ASSERT_EQ(W1(NULL, &err, "default"), 1);
    ASSERT_TRUE(strstr(err, "no default address set") != NULL);
    free(err);
    ASSERT_EQ(W2(NULL, NULL, "default", a1), 0);
    ASSERT_EQ(W1(&out, NULL, "default"), 0);
    ASSERT_STREQ(out, a1);
    free(out);

    /* import the trustwallet-signer key from a file, export gives the same lotus hex */
    json_t *v = vector("trustwallet-signer");
    ASSERT_NOTNULL(v);
    vc_key_info_t ki = {.type = VC_KEY_SECP256K1};
    ASSERT_OK(vc_hex_decode(json_string_value(json_object_get(v, "privateKeyHex")), 64, ki.key));
    _cleanup_free_ char *hex = NULL;
    ASSERT_OK(vc_key_info_export(&ki, &hex));
    char kf[600];
    snprintf(kf, sizeof(kf), "%s/key.hex", vc_test_tmpdir());
    ASSERT_OK(vc_write_file_atomic(kf, hex, strlen(hex), 0600));
    const char *from = json_string_value(json_object_get(json_object_get(v, "message"), "From"));
    ASSERT_EQ(W2(&out, NULL, "import", kf), 0);
    ASSERT_TRUE(strstr(out, from) != NULL);
    free(out);
    ASSERT_EQ(W2(&out, NULL, "export", from), 0);
    ASSERT_STREQ(out, hex);
    free(out);
    /* import from stdin */
    {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "echo %s | %s --repo %s import", hex, bin, repo);
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        ASSERT_EQ(vc_test_run_cmd(argv, &out, NULL), 0);
        ASSERT_TRUE(strstr(out, from) != NULL);
        free(out);
    }
    ASSERT_EQ(W2(NULL, &err, "import", "/nonexistent"), 1);
    free(err);

    /* sign the message CID bytes: the published signature (type byte 01 first) */
    vc_cid_t cid;
    ASSERT_OK(vc_cid_from_string(json_string_value(json_object_get(v, "cid")), &cid));
    char cidhex[2 * VC_CID_BYTES_MAX + 1];
    vc_hex_encode(cid.bytes, cid.len, cidhex);
    _cleanup_free_ uint8_t *want = NULL;
    size_t wl;
    const char *wb64 = json_string_value(json_object_get(json_object_get(v, "signed"), "signatureBase64"));
    ASSERT_OK(vc_base64_decode(wb64, strlen(wb64), &want, &wl));
    char wanthex[2 * 66 + 1] = "01";
    vc_hex_encode(want, wl, wanthex + 2);
    ASSERT_EQ(W3(&out, NULL, "sign", from, cidhex), 0);
    _cleanup_free_ char *sig = out;
    ASSERT_STREQ(sig, wanthex);
    ASSERT_EQ(W4(&out, NULL, "sign", "--json", from, cidhex), 0);
    ASSERT_TRUE(strstr(out, wb64) != NULL);
    free(out);
    ASSERT_EQ(W4(&out, NULL, "verify", from, cidhex, sig), 0);
    ASSERT_STREQ(out, "valid");
    free(out);
    ASSERT_EQ(W4(NULL, &err, "verify", a1, cidhex, sig), 1);
    ASSERT_TRUE(strstr(err, "invalid signature") != NULL);
    free(err);
    ASSERT_EQ(W3(NULL, &err, "sign", "f1rletqqhinhagw6nxjcr4kbfws25thgt7owzuruy", "00"), 1);
    ASSERT_TRUE(strstr(err, "key not found") != NULL);
    free(err);

    /* lock / unlock */
    ASSERT_EQ(W1(&out, NULL, "lock"), 0);
    free(out);
    ASSERT_EQ(W3(NULL, &err, "sign", from, "00"), 1);
    ASSERT_TRUE(strstr(err, "wallet is locked") != NULL);
    free(err);
    ASSERT_EQ(W1(&out, NULL, "list"), 0); /* addresses stay visible */
    ASSERT_TRUE(strstr(out, from) != NULL);
    free(out);
    ASSERT_OK(vc_write_file_atomic(pwfile, "wrong\n", 6, 0600));
    ASSERT_EQ(W3(NULL, &err, "--password-file", pwfile, "unlock"), 1);
    ASSERT_TRUE(strstr(err, "wrong passphrase") != NULL);
    free(err);
    ASSERT_OK(vc_write_file_atomic(pwfile, "it-pass\n", 8, 0600));
    ASSERT_EQ(W3(&out, NULL, "--password-file", pwfile, "unlock"), 0);
    ASSERT_STREQ(out, "wallet unlocked");
    free(out);
    ASSERT_EQ(W3(NULL, NULL, "sign", from, "00"), 0);

    /* delete */
    ASSERT_EQ(W2(&out, NULL, "delete", a1), 0);
    free(out);
    ASSERT_EQ(W1(&out, NULL, "list"), 0);
    ASSERT_STREQ(out, from);
    free(out);
    ASSERT_EQ(W2(NULL, &err, "delete", a1), 1);
    ASSERT_TRUE(strstr(err, "key not found") != NULL);
    free(err);
    ASSERT_EQ(W2(NULL, &err, "export", "nonsense"), 1);
    free(err);
}

static void test_api(void)
{
    char tp[600];
    snprintf(tp, sizeof(tp), "%s/token", repo);
    _cleanup_free_ char *token = read_trim(tp);
    vc_client_t *c = api_client(token);
    json_t *res = NULL;
    vc_rpc_err_t err = {0};
    json_t *v = vector("trustwallet-signer");
    const char *from = json_string_value(json_object_get(json_object_get(v, "message"), "From"));
    _cleanup_free_ uint8_t *cbor = NULL;
    size_t cl;
    vc_cid_t cid;
    ASSERT_OK(vc_hex_decode_alloc(json_string_value(json_object_get(v, "cbor")), &cbor, &cl));
    ASSERT_OK(vc_cid_from_string(json_string_value(json_object_get(v, "cid")), &cid));
    _cleanup_free_ char *extra = vc_base64_encode(cbor, cl);
    _cleanup_free_ char *tosign = vc_base64_encode(cid.bytes, cid.len);

    ASSERT_OK(vc_client_call(c, "Filecoin.WalletHas", json_pack("[s]", from), &res, &err));
    ASSERT_TRUE(json_is_true(res));
    json_decref(res);
    ASSERT_OK(vc_client_call(c, "Filecoin.WalletSign",
                             json_pack("[s,s,{s:s,s:s}]", from, tosign, "Type", "message", "Extra", extra), &res, &err));
    ASSERT_STREQ(json_string_value(json_object_get(res, "Data")),
                 json_string_value(json_object_get(json_object_get(v, "signed"), "signatureBase64")));
    ASSERT_EQ(json_integer_value(json_object_get(res, "Type")), 1);
    json_decref(res);
    /* toSign that is not the CID of Extra */
    ASSERT_EQ(vc_client_call(c, "Filecoin.WalletSign",
                             json_pack("[s,s,{s:s,s:s}]", from, "AAEC", "Type", "message", "Extra", extra), &res, &err),
              VC_EREMOTE);
    ASSERT_STREQ(err.message, "the data to sign is not the CID of the message in Meta.Extra");
    ASSERT_EQ(vc_client_call(c, "Filecoin.WalletSign", json_pack("[s,s,{s:s}]", from, "!!", "Type", "block"), &res, &err),
              VC_EREMOTE);
    ASSERT_EQ(err.code, -32700);
    ASSERT_EQ(vc_client_call(c, "Filecoin.WalletNew", json_pack("[s]", "bls"), &res, &err), VC_EREMOTE);
    ASSERT_STREQ(err.message, "unsupported key type: bls (no BLS library in venus-c)");
    uint8_t key[32];
    ASSERT_OK(vc_hex_decode(json_string_value(json_object_get(v, "privateKeyHex")), 64, key));
    _cleanup_free_ char *kb64 = vc_base64_encode(key, 32);
    ASSERT_OK(vc_client_call(c, "Filecoin.WalletImport", json_pack("[{s:s,s:s}]", "Type", "secp256k1", "PrivateKey", kb64),
                             &res, &err));
    ASSERT_STREQ(json_string_value(res), from);
    json_decref(res);
    ASSERT_EQ(vc_client_call(c, "Filecoin.WalletImport", json_pack("[{s:s,s:s}]", "Type", "secp256k1", "PrivateKey", "AA=="),
                             &res, &err),
              VC_EREMOTE);
    vc_client_free(c);

    /* no token / a bad token: 401 */
    c = api_client(NULL);
    ASSERT_EQ(vc_client_call(c, "Filecoin.WalletList", NULL, &res, &err), VC_EHTTP);
    ASSERT_EQ(err.code, 401);
    vc_client_free(c);
}

static void test_restart_locked(void)
{
    char *out = NULL, *err = NULL;
    stop();
    ASSERT_TRUE(start(NULL)); /* no passphrase source: starts locked */
    ASSERT_EQ(W1(&out, NULL, "status"), 0);
    ASSERT_TRUE(strstr(out, "\"Locked\": true") != NULL);
    free(out);
    ASSERT_EQ(W1(&out, NULL, "list"), 0);
    ASSERT_TRUE(strncmp(out, "f1", 2) == 0);
    _cleanup_free_ char *addr = out;
    addr[strcspn(addr, "\n")] = 0;
    ASSERT_EQ(W3(NULL, &err, "sign", addr, "00"), 1);
    ASSERT_TRUE(strstr(err, "wallet is locked") != NULL);
    free(err);
    ASSERT_EQ(W3(NULL, NULL, "--password-file", pwfile, "unlock"), 0);
    ASSERT_EQ(W3(NULL, NULL, "sign", addr, "00"), 0);
    stop();

    /* files at rest: 0600 under a 0700 keystore */
    char ks[600];
    struct stat st;
    snprintf(ks, sizeof(ks), "%s/keystore", repo);
    ASSERT_OK(stat(ks, &st));
    ASSERT_EQ(st.st_mode & 0777, 0700);
    snprintf(ks, sizeof(ks), "%s/keystore/key-%s", repo, addr);
    ASSERT_OK(stat(ks, &st));
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(W1(NULL, &err, "list"), 1); /* no daemon */
    ASSERT_TRUE(strstr(err, "is `venus-wallet run` running?") != NULL);
    free(err);
}

static void test_first_run_without_passphrase(void)
{
    char *out = NULL, *err = NULL;
    snprintf(repo, sizeof(repo), "%s/repo2", vc_test_tmpdir());
    ASSERT_TRUE(start(NULL));
    ASSERT_EQ(W1(&out, NULL, "status"), 0);
    ASSERT_TRUE(strstr(out, "\"Initialised\": false") != NULL);
    free(out);
    ASSERT_EQ(W1(NULL, &err, "new"), 1);
    ASSERT_TRUE(strstr(err, "wallet is locked") != NULL);
    free(err);
    ASSERT_EQ(W3(&out, NULL, "--password-file", pwfile, "unlock"), 0);
    ASSERT_STREQ(out, "passphrase set, wallet unlocked");
    free(out);
    ASSERT_EQ(W1(&out, NULL, "new"), 0);
    free(out);
    stop();
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    if (!freopen("/dev/null", "r", stdin))
        return 2;
    bin = getenv("VENUS_WALLET_BIN");
    if (!bin) {
        fprintf(stderr, "VENUS_WALLET_BIN not set\n");
        return 2;
    }
    snprintf(pwfile, sizeof(pwfile), "%s/pw", vc_test_tmpdir());
    VC_TEST_RUN(test_cli);
    VC_TEST_RUN(test_api);
    VC_TEST_RUN(test_restart_locked);
    VC_TEST_RUN(test_first_run_without_passphrase);
    stop();
    return VC_TEST_DONE();
}
