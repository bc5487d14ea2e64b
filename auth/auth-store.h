/*
 * auth-store.h: venus-auth's durable state (users, tokens, miners, signers, rate limits) over
 * libvc's db (sqlite or PostgreSQL), semantics of spec/auth-gateway.md A5.
 *
 * Every function is thread-safe (the store holds a connection pool) and every write is one
 * transaction: on error nothing changed. Errors: -ENOENT (no such live row), -EEXIST,
 * -EINVAL (bad argument, e.g. an address of the wrong protocol), VC_ETRANSPORT / -EIO (DB).
 * A human-readable reason for the last error on this thread is in auth_store_errmsg().
 *
 * Addresses are given and returned as strings; the store validates them with vc/address.h,
 * keeps them without the network letter (like sophon-auth's MySQL schema: "f01000" is stored
 * as "01000") and returns them with the 'f' prefix (the daemon runs as mainnet, spec A1).
 * Times: tokens carry unix nanoseconds, users unix seconds, miners/signers unix nanoseconds.
 * Strings in returned structs are owned by the struct; free with the matching *_done/_free.
 */
#ifndef AUTH_STORE_H
#define AUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc/db.h"

typedef struct auth_store auth_store_t;

/* Opens dsn (sqlite path / "sqlite:<path>" / postgres URL or key=value DSN) and applies the
 * embedded migrations (sql/auth/<backend>/). *reterr_msg (malloc'ed) explains a failure. */
int auth_store_open(const char *dsn, auth_store_t **ret, char **reterr_msg);
auth_store_t *auth_store_free(auth_store_t *s);
const char *auth_store_backend(const auth_store_t *s); /* "sqlite" / "postgres" */
/* The store's connection pool (borrowed; lives as long as the store), for libvc modules that
 * keep their own tables in the same database (presence, vc/ha-peers.h). */
vc_db_t *auth_store_db(auth_store_t *s);
/* Reason for the last failure on this thread ("user already exists", ...). */
const char *auth_store_errmsg(void);

/* ---- tokens ---- */
typedef struct auth_token {
    char *token;      /* the JWT string (primary key) */
    char *name;
    char *perm;
    char *extra;
    char *secret_hex; /* 64 hex chars: the token's own HS256 secret */
    int64_t create_ns;
    bool deleted;
} auth_token_t;
void auth_token_done(auth_token_t *t);
void auth_tokens_free(auth_token_t *v, size_t n);

/* Inserts a live token; -EEXIST if the token string is present (live or deleted). */
int auth_store_token_add(auth_store_t *s, const auth_token_t *t);
/* Looks a token up; include_deleted=false gives -ENOENT for revoked tokens. */
int auth_store_token_get(auth_store_t *s, const char *token, bool include_deleted, auth_token_t *ret);
/* Live tokens ordered by name then token; limit 0 = no limit. */
int auth_store_token_list(auth_store_t *s, int64_t skip, int64_t limit, auth_token_t **ret, size_t *ret_n);
/* Live tokens of one user, ordered by create time. */
int auth_store_token_list_by_name(auth_store_t *s, const char *name, auth_token_t **ret, size_t *ret_n);
/* Soft delete / recover; -ENOENT if the token does not exist at all. */
int auth_store_token_set_deleted(auth_store_t *s, const char *token, bool deleted);
/* True if the user has a live token with this perm (the defaultLocalToken bootstrap). */
int auth_store_token_has_perm(auth_store_t *s, const char *name, const char *perm, bool *ret);
int64_t auth_store_token_count(auth_store_t *s); /* live tokens, <0 on error */

/* ---- users ---- */
typedef struct auth_user {
    char id[37]; /* uuid */
    char *name;
    char *comment;
    int state; /* 0 undefined, 1 enabled, 2 disabled */
    int64_t create_s;
    int64_t update_s;
} auth_user_t;
void auth_user_done(auth_user_t *u);
void auth_users_free(auth_user_t *v, size_t n);

/* Creates a user (new uuid, times = now). -EEXIST "user already exists" if a live user has the
 * name; a soft-deleted row with that name is replaced by the new user. */
int auth_store_user_create(auth_store_t *s, const char *name, const char *comment /* NULL = "" */, int state,
                           auth_user_t *ret);
/* Live user by name; -ENOENT otherwise. */
int auth_store_user_get(auth_store_t *s, const char *name, auth_user_t *ret);
/* Changes comment when comment != NULL and state when state != 0; refreshes update time. */
int auth_store_user_update(auth_store_t *s, const char *name, const char *comment, int state);
/* Live users ordered by create time then name; state 0 = all states; limit 0 = no limit. */
int auth_store_user_list(auth_store_t *s, int64_t skip, int64_t limit, int state, auth_user_t **ret,
                         size_t *ret_n);
/* Soft-deletes the user and, in the same transaction, its miners and signer bindings (not its
 * tokens). -ENOENT if no live user. */
int auth_store_user_delete(auth_store_t *s, const char *name);
/* Undeletes the user only (miners and signers stay deleted). -ENOENT if no deleted user. */
int auth_store_user_recover(auth_store_t *s, const char *name);
/* 0 if every name is a live user, else -ENOENT with errmsg naming the first missing one. */
int auth_store_users_verify(auth_store_t *s, const char *const *names, size_t n);
int64_t auth_store_user_count(auth_store_t *s); /* live users, <0 on error */

/* ---- miners (one miner -> one user) ---- */
typedef struct auth_miner {
    char *miner; /* "f01000" */
    char *user;
    bool open_mining;
    int64_t create_ns;
    int64_t update_ns;
} auth_miner_t;
void auth_miner_done(auth_miner_t *m);
void auth_miners_free(auth_miner_t *v, size_t n);

/* miner must be an ID address (-EINVAL "invalid protocol type"); user must be live (-ENOENT).
 * Creates, or moves an existing (even soft-deleted) miner to user with open_mining. */
int auth_store_miner_upsert(auth_store_t *s, const char *user, const char *miner, bool open_mining,
                            bool *ret_created);
/* The live user owning a live miner. */
int auth_store_user_by_miner(auth_store_t *s, const char *miner, auth_user_t *ret);
int auth_store_miner_exist_in_user(auth_store_t *s, const char *user, const char *miner, bool *ret);
int auth_store_miner_has(auth_store_t *s, const char *miner, bool *ret);
int auth_store_miner_list(auth_store_t *s, const char *user, auth_miner_t **ret, size_t *ret_n);
/* Soft delete; *ret_existed tells whether a live row was deleted. */
int auth_store_miner_delete(auth_store_t *s, const char *miner, bool *ret_existed);

/* ---- signers (user <-> signer, n:n) ---- */
typedef struct auth_signer {
    char *signer; /* "f1..." / "f3..." / "f4..." */
    char *user;
    int64_t create_ns;
    int64_t update_ns;
} auth_signer_t;
void auth_signer_done(auth_signer_t *m);
void auth_signers_free(auth_signer_t *v, size_t n);

/* Upserts (user, signer) for each signer (f1/f3/f4 only, else -EINVAL "invalid protocol
 * type"), all in one transaction; user must be live. */
int auth_store_signer_register(auth_store_t *s, const char *user, const char *const *signers, size_t n);
/* Soft-deletes (user, signer) pairs. */
int auth_store_signer_unregister(auth_store_t *s, const char *user, const char *const *signers, size_t n);
int auth_store_signer_exist_in_user(auth_store_t *s, const char *user, const char *signer, bool *ret);
int auth_store_signer_has(auth_store_t *s, const char *signer, bool *ret);
int auth_store_signer_list(auth_store_t *s, const char *user, auth_signer_t **ret, size_t *ret_n);
/* Live users bound to signer (possibly none). */
int auth_store_users_by_signer(auth_store_t *s, const char *signer, auth_user_t **ret, size_t *ret_n);
/* Soft-deletes the signer for every user; *ret_deleted tells whether anything changed. */
int auth_store_signer_delete(auth_store_t *s, const char *signer, bool *ret_deleted);

/* ---- rate limits ---- */
typedef struct auth_ratelimit {
    char id[37];
    char *name; /* user */
    char *service;
    char *api;
    int64_t cap;
    int64_t reset_dur_ns;
} auth_ratelimit_t;
void auth_ratelimit_done(auth_ratelimit_t *r);
void auth_ratelimits_free(auth_ratelimit_t *v, size_t n);

/* id NULL/"" = all of the user's limits. */
int auth_store_ratelimit_get(auth_store_t *s, const char *name, const char *id, auth_ratelimit_t **ret,
                             size_t *ret_n);
/* Empty r->id creates with a new uuid; otherwise updates (or creates) that id. ret_id gets it. */
int auth_store_ratelimit_upsert(auth_store_t *s, const auth_ratelimit_t *r, char ret_id[37]);
/* -ENOENT if there is no such (name, id). */
int auth_store_ratelimit_delete(auth_store_t *s, const char *name, const char *id);

#endif
