/* Keystore: encrypt/decrypt round trip, wrong passphrase, file modes, corrupt files, lock. */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "vc-test.h"
#include "vc/util.h"
#include "wallet-keystore.h"

static char dir[512];

static int open_ks(wallet_ks_t **ks)
{
    wallet_ks_opts_t o = {.dir = dir, .network = 'f', .opslimit = crypto_pwhash_OPSLIMIT_MIN,
                          .memlimit = crypto_pwhash_MEMLIMIT_MIN};
    return wallet_ks_open(&o, ks);
}

static void new_dir(const char *name)
{
    snprintf(dir, sizeof(dir), "%s/%s", vc_test_tmpdir(), name);
}

static void test_round_trip(void)
{
    wallet_ks_t *ks;
    vc_address_t a, b, *v;
    vc_key_info_t ki;
    vc_signature_t sig;
    size_t n;
    new_dir("rt");
    ASSERT_OK(open_ks(&ks));
    ASSERT_FALSE(wallet_ks_initialised(ks));
    ASSERT_FALSE(wallet_ks_unlocked(ks));
    ASSERT_EQ(wallet_ks_new(ks, VC_KEY_SECP256K1, &a), WALLET_ELOCKED);
    ASSERT_EQ(wallet_ks_unlock(ks, "", 0), -EINVAL);
    ASSERT_EQ(wallet_ks_unlock(ks, "hunter2", 7), 0); /* sets the passphrase */
    ASSERT_TRUE(wallet_ks_initialised(ks));
    ASSERT_OK(wallet_ks_new(ks, VC_KEY_SECP256K1, &a));
    ASSERT_EQ(vc_address_protocol(&a), VC_ADDR_SECP256K1);
    ASSERT_EQ(wallet_ks_new(ks, VC_KEY_BLS, &b), WALLET_EKEYTYPE);
    ASSERT_STREQ(wallet_strerror(WALLET_EKEYTYPE), "unsupported key type: bls (no BLS library in venus-c)");
    ASSERT_OK(wallet_ks_export(ks, &a, &ki));
    uint8_t key[32];
    memcpy(key, ki.key, 32);
    ASSERT_OK(wallet_ks_sign(ks, &a, "abc", 3, &sig));
    ASSERT_EQ(sig.type, 1);
    ASSERT_EQ(sig.len, 65);
    ASSERT_OK(vc_secp256k1_verify(sig.data, "abc", 3, &a));
    ASSERT_OK(wallet_ks_set_default(ks, &a));
    ASSERT_OK(wallet_ks_get_default(ks, &b));
    ASSERT_TRUE(vc_address_equal(&a, &b));
    wallet_ks_free(ks);

    /* the private key is nowhere in clear on disk; files are 0600, the directory 0700 */
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    char hex[65];
    vc_hex_encode(key, 32, hex);
    _cleanup_free_ char *b64 = vc_base64_encode(key, 32);
    while ((de = readdir(d))) {
        char p[1024];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        ASSERT_OK(stat(p, &st) == 0 ? 0 : -1);
        ASSERT_EQ(st.st_mode & 0777, 0600);
        char *text = NULL;
        size_t len;
        ASSERT_OK(vc_read_file(p, 1 << 20, &text, &len));
        ASSERT_TRUE(strstr(text, hex) == NULL && strstr(text, b64) == NULL);
        free(text);
        files++;
    }
    closedir(d);
    ASSERT_EQ(files, 3); /* meta.json, key-<addr>, default */
    struct stat st;
    ASSERT_OK(stat(dir, &st) == 0 ? 0 : -1);
    ASSERT_EQ(st.st_mode & 0777, 0700);

    /* reopen: addresses known while locked, keys only after unlock with the right passphrase */
    ASSERT_OK(open_ks(&ks));
    ASSERT_TRUE(wallet_ks_initialised(ks));
    ASSERT_TRUE(wallet_ks_has(ks, &a));
    ASSERT_EQ(wallet_ks_sign(ks, &a, "abc", 3, &sig), WALLET_ELOCKED);
    ASSERT_STREQ(wallet_strerror(WALLET_ELOCKED), "wallet is locked");
    ASSERT_EQ(wallet_ks_unlock(ks, "hunter3", 7), WALLET_EBADPASS);
    ASSERT_FALSE(wallet_ks_unlocked(ks));
    ASSERT_EQ(wallet_ks_unlock(ks, "hunter2", 7), 0);
    ASSERT_OK(wallet_ks_export(ks, &a, &ki));
    ASSERT_MEMEQ(ki.key, key, 32);
    ASSERT_OK(wallet_ks_list(ks, &v, &n));
    ASSERT_EQ(n, 1);
    ASSERT_TRUE(vc_address_equal(&v[0], &a));
    free(v);
    wallet_ks_lock(ks);
    ASSERT_EQ(wallet_ks_export(ks, &a, &ki), WALLET_ELOCKED);
    ASSERT_EQ(wallet_ks_unlock(ks, "hunter2", 7), 0);

    /* import is idempotent; delete removes the file and the default */
    vc_address_t c;
    ASSERT_OK(wallet_ks_import(ks, &ki, &c));
    ASSERT_TRUE(vc_address_equal(&a, &c));
    ki.type = VC_KEY_BLS;
    ASSERT_EQ(wallet_ks_import(ks, &ki, &c), WALLET_EKEYTYPE);
    ASSERT_OK(wallet_ks_delete(ks, &a));
    ASSERT_FALSE(wallet_ks_has(ks, &a));
    ASSERT_EQ(wallet_ks_delete(ks, &a), WALLET_ENOKEY);
    ASSERT_EQ(wallet_ks_get_default(ks, &b), -ENOENT);
    char dp[600];
    snprintf(dp, sizeof(dp), "%s/default", dir);
    ASSERT_TRUE(access(dp, F_OK) != 0); /* the default went with its key */
    wallet_ks_free(ks);
    ASSERT_OK(open_ks(&ks));
    ASSERT_FALSE(wallet_ks_has(ks, &a));
    wallet_ks_free(ks);
}

static void corrupt(const char *path, const char *field)
{
    char *text = NULL;
    size_t len;
    if (!VC_CHECK(vc_read_file(path, 1 << 20, &text, &len) == 0))
        return;
    char *p = strstr(text, field);
    if (VC_CHECK(p != NULL)) {
        p = strchr(p + strlen(field) + 2, '"') + 1; /* first char of the value */
        *p = *p == 'A' ? 'B' : 'A';
        VC_CHECK(vc_write_file_atomic(path, text, len, 0600) == 0);
    }
    free(text);
}

static void test_corrupt_file_refused(void)
{
    wallet_ks_t *ks;
    vc_address_t a, b;
    char p[1024], s[VC_ADDRESS_STRLEN_MAX];
    new_dir("corrupt");
    ASSERT_OK(open_ks(&ks));
    ASSERT_OK(wallet_ks_unlock(ks, "pw", 2));
    ASSERT_OK(wallet_ks_new(ks, VC_KEY_SECP256K1, &a));
    ASSERT_OK(wallet_ks_new(ks, VC_KEY_SECP256K1, &b));
    wallet_ks_free(ks);
    vc_address_to_string(&a, 'f', s);
    snprintf(p, sizeof(p), "%s/key-%s", dir, s);
    corrupt(p, "\"Box\"");
    ASSERT_OK(open_ks(&ks));
    ASSERT_EQ(wallet_ks_unlock(ks, "pw", 2), 1); /* one file refused */
    ASSERT_FALSE(wallet_ks_has(ks, &a));
    ASSERT_TRUE(wallet_ks_has(ks, &b));
    wallet_ks_free(ks);

    /* a file whose content names another address is refused before unlock */
    char p2[1024], s2[VC_ADDRESS_STRLEN_MAX];
    vc_address_to_string(&b, 'f', s2);
    snprintf(p2, sizeof(p2), "%s/key-%s", dir, s2);
    char *text = NULL;
    size_t len;
    ASSERT_OK(vc_read_file(p2, 1 << 20, &text, &len));
    ASSERT_OK(vc_write_file_atomic(p, text, len, 0600)); /* key-<a> now holds b's key */
    free(text);
    ASSERT_OK(open_ks(&ks));
    ASSERT_FALSE(wallet_ks_has(ks, &a));
    ASSERT_EQ(wallet_ks_unlock(ks, "pw", 2), 0);
    ASSERT_TRUE(wallet_ks_has(ks, &b));
    wallet_ks_free(ks);

    /* garbage meta: unlock fails cleanly */
    snprintf(p, sizeof(p), "%s/meta.json", dir);
    ASSERT_OK(vc_write_file_atomic(p, "{nope", 5, 0600));
    ASSERT_OK(open_ks(&ks));
    ASSERT_ERR(wallet_ks_unlock(ks, "pw", 2));
    ASSERT_FALSE(wallet_ks_unlocked(ks));
    wallet_ks_free(ks);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    VC_TEST_RUN(test_round_trip);
    VC_TEST_RUN(test_corrupt_file_refused);
    return VC_TEST_DONE();
}
