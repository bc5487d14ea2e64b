-- venus-auth schema (sqlite). Mirrors sql/auth/postgres/001_init.sql; see auth/auth-store.h.
-- Miner and signer addresses are stored without the network letter ("f01000" -> "01000").
-- Booleans are INTEGER 0/1 (sqlite has no BOOLEAN type; TRUE/FALSE are 1/0).
CREATE TABLE tokens (
    token TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    perm TEXT NOT NULL,
    secret TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '',
    create_ns INTEGER NOT NULL,
    is_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_name_idx ON tokens (name);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    comment TEXT NOT NULL DEFAULT '',
    state INTEGER NOT NULL DEFAULT 0,
    create_s INTEGER NOT NULL,
    update_s INTEGER NOT NULL,
    is_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_create_idx ON users (create_s, name);

CREATE TABLE miners (
    miner TEXT NOT NULL UNIQUE,
    user_name TEXT NOT NULL,
    open_mining INTEGER NOT NULL DEFAULT 1,
    create_ns INTEGER NOT NULL,
    update_ns INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX miners_user_idx ON miners (user_name);

CREATE TABLE signers (
    user_name TEXT NOT NULL,
    signer TEXT NOT NULL,
    create_ns INTEGER NOT NULL,
    update_ns INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_name, signer)
);
CREATE INDEX signers_signer_idx ON signers (signer);

CREATE TABLE user_rate_limits (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    service TEXT NOT NULL DEFAULT '',
    api TEXT NOT NULL DEFAULT '',
    cap INTEGER NOT NULL DEFAULT 0,
    reset_dur_ns INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX user_rate_limits_name_idx ON user_rate_limits (name, service, api);
