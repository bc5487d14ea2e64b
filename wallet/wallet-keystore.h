/*
 * wallet-keystore.h: the venus-wallet keystore, secp256k1 keys encrypted at rest.
 *
 * Layout of the keystore directory (mode 0700, every file 0600, written atomically):
 *   meta.json          {"Version":1,"KDF":"argon2id13","OpsLimit":n,"MemLimit":n,
 *                       "Salt":"<b64 16>","Nonce":"<b64 24>","Check":"<b64>"}
 *                      The key-encryption key is crypto_pwhash(argon2id, passphrase, Salt);
 *                      Check is crypto_secretbox of a fixed text, so a wrong passphrase is told
 *                      apart from a corrupted key file.
 *   key-<f1 address>   {"Address":"f1..","Type":"secp256k1","Nonce":"<b64 24>","Box":"<b64>"}
 *                      Box = crypto_secretbox(32-byte private key, Nonce, key-encryption key).
 *                      On unlock the key is decrypted and its address must equal both the file's
 *                      "Address" and its name; a file that fails any check is refused (logged
 *                      and left out), never half-used.
 *   default            the default address, one line.
 *
 * Locking: while locked only the addresses are known (list/has work; sign/export/new/import
 * fail with WALLET_ELOCKED). Unlocking derives the key-encryption key and decrypts every key
 * into sodium_malloc'ed memory; locking wipes both. A keystore without meta.json is "not
 * initialised": its first unlock sets the passphrase.
 *
 * Thread-safe (one rwlock; signing takes it shared).
 */
#ifndef WALLET_KEYSTORE_H
#define WALLET_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "vc/address.h"
#include "vc/crypto.h"
#include "vc/signature.h"
#include "vc/util.h"

/* Wallet-specific error codes (below libvc's range); wallet_strerror names them. */
enum {
    WALLET_ELOCKED = -10200,   /* "wallet is locked" */
    WALLET_EBADPASS = -10201,  /* "wrong passphrase" */
    WALLET_ENOKEY = -10202,    /* "key not found" */
    WALLET_EKEYTYPE = -10203,  /* "unsupported key type: bls (no BLS library in venus-c)" */
};

const char *wallet_strerror(int r);

typedef struct wallet_ks wallet_ks_t;

typedef struct wallet_ks_opts {
    const char *dir;            /* keystore directory (created 0700 when missing) */
    char network;               /* 'f' or 't' for printed addresses; default 'f' */
    unsigned long long opslimit; /* argon2id cost for a new keystore; 0 = INTERACTIVE */
    size_t memlimit;            /* 0 = INTERACTIVE */
} wallet_ks_opts_t;

/* Loads the addresses of every key file (not their keys). */
int wallet_ks_open(const wallet_ks_opts_t *opts, wallet_ks_t **ret);
wallet_ks_t *wallet_ks_free(wallet_ks_t *ks);

char wallet_ks_network(const wallet_ks_t *ks);
bool wallet_ks_initialised(wallet_ks_t *ks);
bool wallet_ks_unlocked(wallet_ks_t *ks);

/* Sets the passphrase on a keystore that has none, else checks it (WALLET_EBADPASS) and
 * decrypts every key. Returns the number of key files refused as corrupt (>= 0). An empty
 * passphrase is -EINVAL. Unlocking an unlocked keystore re-checks the passphrase. */
int wallet_ks_unlock(wallet_ks_t *ks, const char *pass, size_t len);
void wallet_ks_lock(wallet_ks_t *ks);

/* Key management. New/import need the keystore unlocked. BLS: WALLET_EKEYTYPE. */
int wallet_ks_new(wallet_ks_t *ks, vc_key_type_t type, vc_address_t *ret);
/* Importing a key already held returns its address (no error), as lotus does. */
int wallet_ks_import(wallet_ks_t *ks, const vc_key_info_t *ki, vc_address_t *ret);
int wallet_ks_export(wallet_ks_t *ks, const vc_address_t *a, vc_key_info_t *ret);
/* Removes the key file (and the default when it was this address). WALLET_ENOKEY. */
int wallet_ks_delete(wallet_ks_t *ks, const vc_address_t *a);
bool wallet_ks_has(wallet_ks_t *ks, const vc_address_t *a);
/* Sorted by address string; *ret malloc'ed (may be NULL when *ret_n is 0). */
int wallet_ks_list(wallet_ks_t *ks, vc_address_t **ret, size_t *ret_n);
/* secp256k1 signature over data (blake2b-256 inside). WALLET_ELOCKED, WALLET_ENOKEY. */
int wallet_ks_sign(wallet_ks_t *ks, const vc_address_t *a, const void *data, size_t len, vc_signature_t *ret);

/* -ENOENT when no default is set. */
int wallet_ks_get_default(wallet_ks_t *ks, vc_address_t *ret);
int wallet_ks_set_default(wallet_ks_t *ks, const vc_address_t *a);

/* Called (outside the lock) after a key is added (added = true) or deleted. */
void wallet_ks_set_observer(wallet_ks_t *ks, void (*fn)(void *ud, const vc_address_t *a, bool added), void *ud);

#endif
