/* wallet-keystore.c: encrypted keystore (see wallet-keystore.h for the file formats). */
#include "wallet-keystore.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "vc/log.h"

#define META_FILE "meta.json"
#define DEFAULT_FILE "default"
#define KEY_PREFIX "key-"
#define CHECK_TEXT "venus-c wallet keystore v1"
#define FILE_MAX (64 * 1024)
#define KEYS_MAX 100000

const char *wallet_strerror(int r)
{
    switch (r) {
    case WALLET_ELOCKED:
        return "wallet is locked";
    case WALLET_EBADPASS:
        return "wrong passphrase";
    case WALLET_ENOKEY:
        return "key not found";
    case WALLET_EKEYTYPE:
        return "unsupported key type: bls (no BLS library in venus-c)";
    default:
        return vc_strerror(r);
    }
}

typedef struct entry {
    vc_address_t addr;
    uint8_t *key; /* sodium_malloc'ed 32 bytes while unlocked, else NULL */
} entry_t;

struct wallet_ks {
    pthread_mutex_t unlock_mu; /* serialises unlocks (the KDF runs outside the rwlock) */
    pthread_rwlock_t lock;
    char *dir;
    char network;
    unsigned long long opslimit;
    size_t memlimit;
    entry_t *v;
    size_t n, cap;
    uint8_t *kek; /* key-encryption key while unlocked */
    bool has_meta;
    void (*observer)(void *, const vc_address_t *, bool);
    void *observer_ud;
};

static int read_default(wallet_ks_t *ks, vc_address_t *ret);

static void addr_str(const vc_address_t *a, char network, char out[VC_ADDRESS_STRLEN_MAX])
{
    if (vc_address_to_string(a, network, out) < 0)
        snprintf(out, VC_ADDRESS_STRLEN_MAX, "(invalid)");
}

static char *key_path(const wallet_ks_t *ks, const vc_address_t *a)
{
    char s[VC_ADDRESS_STRLEN_MAX], name[VC_ADDRESS_STRLEN_MAX + 8];
    addr_str(a, 'f', s);
    snprintf(name, sizeof(name), KEY_PREFIX "%s", s);
    return vc_path_join(ks->dir, name);
}

static json_t *load_json(const char *path, int *ret_r)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = vc_read_file(path, FILE_MAX, &text, &len);
    if (r < 0) {
        *ret_r = r;
        return NULL;
    }
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    *ret_r = j && json_is_object(j) ? 0 : VC_EPARSE;
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int save_json(const char *path, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        return -ENOMEM;
    int r = vc_write_file_atomic(path, text, strlen(text), 0600);
    free(text);
    return r;
}

/* A base64 field of exactly want bytes (want 0 = any length up to FILE_MAX). */
static int get_b64(const json_t *o, const char *key, size_t want, uint8_t **ret, size_t *ret_len)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return VC_EPARSE;
    int r = vc_base64_decode(json_string_value(v), json_string_length(v), ret, ret_len);
    if (r < 0)
        return r;
    if (want && *ret_len != want) {
        free(*ret);
        *ret = NULL;
        return VC_EPARSE;
    }
    return 0;
}

static entry_t *find(wallet_ks_t *ks, const vc_address_t *a)
{
    for (size_t i = 0; i < ks->n; i++)
        if (vc_address_equal(&ks->v[i].addr, a))
            return &ks->v[i];
    return NULL;
}

static int add_entry(wallet_ks_t *ks, const vc_address_t *a, entry_t **ret)
{
    if (ks->n >= KEYS_MAX)
        return VC_ETOOBIG;
    if (ks->n == ks->cap) {
        size_t nc = ks->cap ? ks->cap * 2 : 16;
        entry_t *nv = realloc(ks->v, nc * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        ks->v = nv;
        ks->cap = nc;
    }
    entry_t *e = &ks->v[ks->n++];
    memset(e, 0, sizeof(*e));
    e->addr = *a;
    if (ret)
        *ret = e;
    return 0;
}

static void remove_entry(wallet_ks_t *ks, entry_t *e)
{
    if (e->key)
        sodium_free(e->key);
    size_t i = (size_t)(e - ks->v);
    memmove(&ks->v[i], &ks->v[i + 1], (ks->n - i - 1) * sizeof(*e));
    ks->n--;
}

/* Reads the Address of a key file whose name is key-<addr>; the name and the content must
 * agree. The key itself is decrypted on unlock. */
static int peek_key_file(wallet_ks_t *ks, const char *name, vc_address_t *ret)
{
    _cleanup_free_ char *path = vc_path_join(ks->dir, name);
    vc_address_t a, b;
    int r;
    if (!path)
        return -ENOMEM;
    if (vc_address_from_string(name + strlen(KEY_PREFIX), &a) < 0)
        return VC_EPARSE;
    json_t *j = load_json(path, &r);
    if (!j)
        return r;
    const char *s = json_string_value(json_object_get(j, "Address"));
    r = s && vc_address_from_string(s, &b) == 0 && vc_address_equal(&a, &b) &&
                vc_address_protocol(&a) == VC_ADDR_SECP256K1
            ? 0
            : VC_EPARSE;
    json_decref(j);
    if (r == 0)
        *ret = a;
    return r;
}

static int load_addresses(wallet_ks_t *ks)
{
    DIR *d = opendir(ks->dir);
    struct dirent *de;
    int r = 0;
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        vc_address_t a;
        if (strncmp(de->d_name, KEY_PREFIX, strlen(KEY_PREFIX)) != 0 || strstr(de->d_name, ".tmp"))
            continue;
        int k = peek_key_file(ks, de->d_name, &a);
        if (k < 0) {
            vc_logkv(VC_LOG_WARNING, "wallet", "refusing a corrupt keystore file, ignoring", "file", de->d_name,
                     "error", vc_strerror(k), NULL);
            continue;
        }
        if (!find(ks, &a) && (r = add_entry(ks, &a, NULL)) < 0)
            break;
    }
    closedir(d);
    return r;
}

int wallet_ks_open(const wallet_ks_opts_t *opts, wallet_ks_t **ret)
{
    wallet_ks_t *ks = calloc(1, sizeof(*ks));
    _cleanup_free_ char *meta = vc_path_join(opts->dir, META_FILE);
    int r;
    if (!ks || !meta) {
        free(ks);
        return -ENOMEM;
    }
    pthread_rwlock_init(&ks->lock, NULL);
    pthread_mutex_init(&ks->unlock_mu, NULL);
    ks->network = opts->network == 't' ? 't' : 'f';
    ks->opslimit = opts->opslimit ? opts->opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    ks->memlimit = opts->memlimit ? opts->memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    ks->dir = strdup(opts->dir);
    if (!ks->dir) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = vc_mkdir_p(ks->dir, 0700)) < 0)
        goto fail;
    (void)chmod(ks->dir, 0700);
    ks->has_meta = access(meta, F_OK) == 0;
    if ((r = load_addresses(ks)) < 0)
        goto fail;
    *ret = ks;
    return 0;
fail:
    wallet_ks_free(ks);
    return r;
}

static void wipe_keys(wallet_ks_t *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->v[i].key) {
            sodium_free(ks->v[i].key);
            ks->v[i].key = NULL;
        }
    if (ks->kek) {
        sodium_free(ks->kek);
        ks->kek = NULL;
    }
}

wallet_ks_t *wallet_ks_free(wallet_ks_t *ks)
{
    if (!ks)
        return NULL;
    wipe_keys(ks);
    free(ks->v);
    free(ks->dir);
    pthread_rwlock_destroy(&ks->lock);
    pthread_mutex_destroy(&ks->unlock_mu);
    free(ks);
    return NULL;
}

char wallet_ks_network(const wallet_ks_t *ks)
{
    return ks->network;
}

bool wallet_ks_initialised(wallet_ks_t *ks)
{
    pthread_rwlock_rdlock(&ks->lock);
    bool v = ks->has_meta;
    pthread_rwlock_unlock(&ks->lock);
    return v;
}

bool wallet_ks_unlocked(wallet_ks_t *ks)
{
    pthread_rwlock_rdlock(&ks->lock);
    bool v = ks->kek != NULL;
    pthread_rwlock_unlock(&ks->lock);
    return v;
}

static int derive(const char *pass, size_t len, const uint8_t *salt, unsigned long long ops, size_t mem,
                  uint8_t **ret)
{
    uint8_t *k = sodium_malloc(crypto_secretbox_KEYBYTES);
    if (!k)
        return -ENOMEM;
    if (crypto_pwhash(k, crypto_secretbox_KEYBYTES, pass, len, salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_free(k);
        return -ENOMEM; /* libsodium fails only when it cannot allocate the memory limit */
    }
    *ret = k;
    return 0;
}

/* Creates meta.json for a new passphrase. */
static int create_meta(wallet_ks_t *ks, const char *pass, size_t len, uint8_t **ret_kek)
{
    uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
    uint8_t box[crypto_secretbox_MACBYTES + sizeof(CHECK_TEXT) - 1];
    uint8_t *kek = NULL;
    _cleanup_free_ char *path = vc_path_join(ks->dir, META_FILE);
    _cleanup_free_ char *s64 = NULL, *n64 = NULL, *b64 = NULL;
    int r;
    if (!path)
        return -ENOMEM;
    randombytes_buf(salt, sizeof(salt));
    randombytes_buf(nonce, sizeof(nonce));
    if ((r = derive(pass, len, salt, ks->opslimit, ks->memlimit, &kek)) < 0)
        return r;
    crypto_secretbox_easy(box, (const uint8_t *)CHECK_TEXT, sizeof(CHECK_TEXT) - 1, nonce, kek);
    s64 = vc_base64_encode(salt, sizeof(salt));
    n64 = vc_base64_encode(nonce, sizeof(nonce));
    b64 = vc_base64_encode(box, sizeof(box));
    json_t *j = s64 && n64 && b64 ? json_pack("{s:i,s:s,s:I,s:I,s:s,s:s,s:s}", "Version", 1, "KDF", "argon2id13",
                                              "OpsLimit", (json_int_t)ks->opslimit, "MemLimit",
                                              (json_int_t)ks->memlimit, "Salt", s64, "Nonce", n64, "Check", b64)
                                  : NULL;
    r = j ? save_json(path, j) : -ENOMEM;
    json_decref(j);
    if (r < 0) {
        sodium_free(kek);
        return r;
    }
    *ret_kek = kek;
    return 0;
}

static int check_meta(wallet_ks_t *ks, const char *pass, size_t len, uint8_t **ret_kek)
{
    _cleanup_free_ char *path = vc_path_join(ks->dir, META_FILE);
    _cleanup_free_ uint8_t *salt = NULL, *nonce = NULL, *box = NULL;
    size_t sl, nl, bl;
    uint8_t plain[64];
    uint8_t *kek = NULL;
    int r;
    if (!path)
        return -ENOMEM;
    json_t *j = load_json(path, &r);
    if (!j)
        return r;
    json_int_t ops = json_integer_value(json_object_get(j, "OpsLimit"));
    json_int_t mem = json_integer_value(json_object_get(j, "MemLimit"));
    r = VC_EPARSE;
    if (!vc_streq(json_string_value(json_object_get(j, "KDF")), "argon2id13") ||
        ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || ops > (json_int_t)crypto_pwhash_OPSLIMIT_SENSITIVE ||
        mem < (json_int_t)crypto_pwhash_MEMLIMIT_MIN || mem > (json_int_t)crypto_pwhash_MEMLIMIT_SENSITIVE)
        goto out;
    if (get_b64(j, "Salt", crypto_pwhash_SALTBYTES, &salt, &sl) < 0 ||
        get_b64(j, "Nonce", crypto_secretbox_NONCEBYTES, &nonce, &nl) < 0 ||
        get_b64(j, "Check", crypto_secretbox_MACBYTES + sizeof(CHECK_TEXT) - 1, &box, &bl) < 0)
        goto out;
    if ((r = derive(pass, len, salt, (unsigned long long)ops, (size_t)mem, &kek)) < 0)
        goto out;
    if (crypto_secretbox_open_easy(plain, box, bl, nonce, kek) != 0 ||
        memcmp(plain, CHECK_TEXT, sizeof(CHECK_TEXT) - 1) != 0) {
        sodium_free(kek);
        r = WALLET_EBADPASS;
        goto out;
    }
    *ret_kek = kek;
    r = 0;
out:
    json_decref(j);
    return r;
}

/* Decrypts one key file into e->key; VC_EVERIFY / VC_EPARSE when it is corrupt. */
static int decrypt_entry(wallet_ks_t *ks, const uint8_t *kek, entry_t *e)
{
    _cleanup_free_ char *path = key_path(ks, &e->addr);
    _cleanup_free_ uint8_t *nonce = NULL, *box = NULL;
    size_t nl, bl;
    vc_address_t a;
    int r;
    if (!path)
        return -ENOMEM;
    json_t *j = load_json(path, &r);
    if (!j)
        return r;
    r = VC_EPARSE;
    const char *s = json_string_value(json_object_get(j, "Address"));
    if (!s || vc_address_from_string(s, &a) < 0 || !vc_address_equal(&a, &e->addr) ||
        !vc_streq(json_string_value(json_object_get(j, "Type")), "secp256k1"))
        goto out;
    if (get_b64(j, "Nonce", crypto_secretbox_NONCEBYTES, &nonce, &nl) < 0 ||
        get_b64(j, "Box", crypto_secretbox_MACBYTES + VC_SECP256K1_PRIVKEY_LEN, &box, &bl) < 0)
        goto out;
    uint8_t *key = sodium_malloc(VC_SECP256K1_PRIVKEY_LEN);
    if (!key) {
        r = -ENOMEM;
        goto out;
    }
    r = VC_EVERIFY;
    if (crypto_secretbox_open_easy(key, box, bl, nonce, kek) != 0 || vc_secp256k1_address(key, &a) < 0 ||
        !vc_address_equal(&a, &e->addr)) {
        sodium_free(key);
        goto out;
    }
    if (e->key)
        sodium_free(e->key);
    e->key = key;
    r = 0;
out:
    json_decref(j);
    return r;
}

int wallet_ks_unlock(wallet_ks_t *ks, const char *pass, size_t len)
{
    uint8_t *kek = NULL;
    int r, refused = 0;
    if (!pass || len == 0)
        return -EINVAL;
    pthread_mutex_lock(&ks->unlock_mu);
    /* the KDF is slow on purpose: run it without blocking signers */
    bool has_meta = wallet_ks_initialised(ks);
    r = has_meta ? check_meta(ks, pass, len, &kek) : create_meta(ks, pass, len, &kek);
    if (r < 0) {
        pthread_mutex_unlock(&ks->unlock_mu);
        return r;
    }
    pthread_rwlock_wrlock(&ks->lock);
    ks->has_meta = true;
    wipe_keys(ks);
    ks->kek = kek;
    for (size_t i = 0; i < ks->n;) {
        int k = decrypt_entry(ks, kek, &ks->v[i]);
        if (k == -ENOMEM) {
            wipe_keys(ks);
            r = k;
            goto out;
        }
        if (k < 0) {
            char s[VC_ADDRESS_STRLEN_MAX];
            addr_str(&ks->v[i].addr, ks->network, s);
            vc_logkv(VC_LOG_WARNING, "wallet", "refusing a corrupt keystore file, ignoring", "address", s, "error",
                     vc_strerror(k), NULL);
            remove_entry(ks, &ks->v[i]);
            refused++;
            continue;
        }
        i++;
    }
    r = refused;
out:
    pthread_rwlock_unlock(&ks->lock);
    pthread_mutex_unlock(&ks->unlock_mu);
    return r;
}

void wallet_ks_lock(wallet_ks_t *ks)
{
    pthread_rwlock_wrlock(&ks->lock);
    wipe_keys(ks);
    pthread_rwlock_unlock(&ks->lock);
}

static void notify(wallet_ks_t *ks, const vc_address_t *a, bool added)
{
    if (ks->observer)
        ks->observer(ks->observer_ud, a, added);
}

/* Writes the key file and adds the entry; ks->lock held for writing. */
static int store_key(wallet_ks_t *ks, const uint8_t key[VC_SECP256K1_PRIVKEY_LEN], vc_address_t *ret, bool *ret_added)
{
    uint8_t nonce[crypto_secretbox_NONCEBYTES], box[crypto_secretbox_MACBYTES + VC_SECP256K1_PRIVKEY_LEN];
    char s[VC_ADDRESS_STRLEN_MAX];
    _cleanup_free_ char *path = NULL, *n64 = NULL, *b64 = NULL;
    vc_address_t a;
    entry_t *e;
    int r;
    if (!ks->kek)
        return WALLET_ELOCKED;
    if ((r = vc_secp256k1_address(key, &a)) < 0)
        return r;
    if (find(ks, &a)) {
        *ret = a;
        *ret_added = false;
        return 0;
    }
    randombytes_buf(nonce, sizeof(nonce));
    crypto_secretbox_easy(box, key, VC_SECP256K1_PRIVKEY_LEN, nonce, ks->kek);
    addr_str(&a, 'f', s);
    path = key_path(ks, &a);
    n64 = vc_base64_encode(nonce, sizeof(nonce));
    b64 = vc_base64_encode(box, sizeof(box));
    json_t *j = path && n64 && b64 ? json_pack("{s:s,s:s,s:s,s:s}", "Address", s, "Type", "secp256k1", "Nonce", n64,
                                               "Box", b64)
                                   : NULL;
    if (!j)
        return -ENOMEM;
    uint8_t *copy = sodium_malloc(VC_SECP256K1_PRIVKEY_LEN);
    if (!copy) {
        json_decref(j);
        return -ENOMEM;
    }
    memcpy(copy, key, VC_SECP256K1_PRIVKEY_LEN);
    r = save_json(path, j);
    json_decref(j);
    if (r == 0 && (r = add_entry(ks, &a, &e)) == 0) {
        e->key = copy;
        copy = NULL;
    } else if (r < 0)
        (void)unlink(path);
    if (copy)
        sodium_free(copy);
    if (r < 0)
        return r;
    *ret = a;
    *ret_added = true;
    return 0;
}

int wallet_ks_new(wallet_ks_t *ks, vc_key_type_t type, vc_address_t *ret)
{
    uint8_t *key;
    bool added = false;
    int r;
    if (type == VC_KEY_BLS)
        return WALLET_EKEYTYPE;
    if (type != VC_KEY_SECP256K1)
        return -EINVAL;
    key = sodium_malloc(VC_SECP256K1_PRIVKEY_LEN);
    if (!key)
        return -ENOMEM;
    pthread_rwlock_wrlock(&ks->lock);
    r = ks->kek ? vc_secp256k1_generate(key) : WALLET_ELOCKED;
    if (r == 0)
        r = store_key(ks, key, ret, &added);
    pthread_rwlock_unlock(&ks->lock);
    sodium_free(key);
    if (r == 0 && added)
        notify(ks, ret, true);
    return r;
}

int wallet_ks_import(wallet_ks_t *ks, const vc_key_info_t *ki, vc_address_t *ret)
{
    bool added = false;
    int r;
    if (ki->type == VC_KEY_BLS)
        return WALLET_EKEYTYPE;
    if (ki->type != VC_KEY_SECP256K1 || !vc_secp256k1_privkey_valid(ki->key))
        return -EINVAL;
    pthread_rwlock_wrlock(&ks->lock);
    r = store_key(ks, ki->key, ret, &added);
    pthread_rwlock_unlock(&ks->lock);
    if (r == 0 && added)
        notify(ks, ret, true);
    return r;
}

int wallet_ks_export(wallet_ks_t *ks, const vc_address_t *a, vc_key_info_t *ret)
{
    int r = 0;
    pthread_rwlock_rdlock(&ks->lock);
    entry_t *e = find(ks, a);
    if (!e)
        r = WALLET_ENOKEY;
    else if (!e->key)
        r = WALLET_ELOCKED;
    else {
        ret->type = VC_KEY_SECP256K1;
        memcpy(ret->key, e->key, VC_SECP256K1_PRIVKEY_LEN);
    }
    pthread_rwlock_unlock(&ks->lock);
    return r;
}

int wallet_ks_delete(wallet_ks_t *ks, const vc_address_t *a)
{
    _cleanup_free_ char *path = key_path(ks, a);
    _cleanup_free_ char *dpath = vc_path_join(ks->dir, DEFAULT_FILE);
    vc_address_t def;
    int r = 0;
    if (!path || !dpath)
        return -ENOMEM;
    pthread_rwlock_wrlock(&ks->lock);
    entry_t *e = find(ks, a);
    if (!e) {
        r = WALLET_ENOKEY;
        goto out;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        r = -errno;
        goto out;
    }
    remove_entry(ks, e);
    pthread_rwlock_unlock(&ks->lock);
    if (read_default(ks, &def) == 0 && vc_address_equal(&def, a))
        (void)unlink(dpath);
    notify(ks, a, false);
    return 0;
out:
    pthread_rwlock_unlock(&ks->lock);
    return r;
}

bool wallet_ks_has(wallet_ks_t *ks, const vc_address_t *a)
{
    pthread_rwlock_rdlock(&ks->lock);
    bool v = find(ks, a) != NULL;
    pthread_rwlock_unlock(&ks->lock);
    return v;
}

static int cmp_addr(const void *x, const void *y)
{
    char a[VC_ADDRESS_STRLEN_MAX], b[VC_ADDRESS_STRLEN_MAX];
    addr_str(x, 'f', a);
    addr_str(y, 'f', b);
    return strcmp(a, b);
}

int wallet_ks_list(wallet_ks_t *ks, vc_address_t **ret, size_t *ret_n)
{
    vc_address_t *v = NULL;
    pthread_rwlock_rdlock(&ks->lock);
    size_t n = ks->n;
    if (n) {
        v = malloc(n * sizeof(*v));
        if (!v) {
            pthread_rwlock_unlock(&ks->lock);
            return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
            v[i] = ks->v[i].addr;
    }
    pthread_rwlock_unlock(&ks->lock);
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_addr);
    *ret = v;
    *ret_n = n;
    return 0;
}

int wallet_ks_sign(wallet_ks_t *ks, const vc_address_t *a, const void *data, size_t len, vc_signature_t *ret)
{
    uint8_t sig[VC_SECP256K1_SIG_LEN];
    int r;
    pthread_rwlock_rdlock(&ks->lock);
    entry_t *e = find(ks, a);
    if (!e)
        r = WALLET_ENOKEY;
    else if (!e->key)
        r = WALLET_ELOCKED;
    else
        r = vc_secp256k1_sign(e->key, data, len, sig);
    pthread_rwlock_unlock(&ks->lock);
    if (r == 0)
        r = vc_signature_set(ret, VC_SIG_SECP256K1, sig, sizeof(sig));
    return r;
}

/* The address in the default file, held or not. */
static int read_default(wallet_ks_t *ks, vc_address_t *ret)
{
    _cleanup_free_ char *path = vc_path_join(ks->dir, DEFAULT_FILE);
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r;
    if (!path)
        return -ENOMEM;
    if ((r = vc_read_file(path, 1024, &text, &len)) < 0)
        return r;
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = 0;
    return vc_address_from_string(text, ret) < 0 ? -ENOENT : 0;
}

int wallet_ks_get_default(wallet_ks_t *ks, vc_address_t *ret)
{
    vc_address_t a;
    int r = read_default(ks, &a);
    if (r < 0)
        return r;
    if (!wallet_ks_has(ks, &a))
        return -ENOENT;
    *ret = a;
    return 0;
}

int wallet_ks_set_default(wallet_ks_t *ks, const vc_address_t *a)
{
    _cleanup_free_ char *path = vc_path_join(ks->dir, DEFAULT_FILE);
    char s[VC_ADDRESS_STRLEN_MAX + 1];
    if (!path)
        return -ENOMEM;
    if (!wallet_ks_has(ks, a))
        return WALLET_ENOKEY;
    addr_str(a, 'f', s);
    strcat(s, "\n");
    return vc_write_file_atomic(path, s, strlen(s), 0600);
}

void wallet_ks_set_observer(wallet_ks_t *ks, void (*fn)(void *ud, const vc_address_t *a, bool added), void *ud)
{
    pthread_rwlock_wrlock(&ks->lock);
    ks->observer = fn;
    ks->observer_ud = ud;
    pthread_rwlock_unlock(&ks->lock);
}
