-- venus-messager schema (sqlite). Mirrors sql/messager/postgres/001_init.sql; see
-- messager/msgr-store.h. Table and column names follow sophon-messager (spec/messager.md 6).
-- Addresses are stored 'f'-prefixed; big ints as decimal strings; times as unix nanoseconds;
-- is_deleted is -1 (live) / 1 (deleted); CIDs as strings; signed_data is the Signature JSON
-- {"Type":n,"Data":"<b64>"}; tipset_key is the text form "{ c1 c2 }".
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    from_addr TEXT NOT NULL,
    nonce INTEGER NOT NULL DEFAULT 0,
    "to" TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '0',
    gas_limit INTEGER NOT NULL DEFAULT 0,
    gas_fee_cap TEXT NOT NULL DEFAULT '0',
    gas_premium TEXT NOT NULL DEFAULT '0',
    method INTEGER NOT NULL DEFAULT 0,
    params BLOB,
    signed_data TEXT,
    unsigned_cid TEXT,
    signed_cid TEXT,
    height INTEGER NOT NULL DEFAULT 0,
    receipt_exit_code INTEGER NOT NULL DEFAULT -1,
    receipt_return_value BLOB,
    receipt_gas_used INTEGER NOT NULL DEFAULT 0,
    tipset_key TEXT NOT NULL DEFAULT '{ }',
    meta_expire_epoch INTEGER NOT NULL DEFAULT 0,
    meta_gas_over_estimation REAL NOT NULL DEFAULT 0,
    meta_max_fee TEXT NOT NULL DEFAULT '0',
    meta_gas_over_premium REAL NOT NULL DEFAULT 0,
    wallet_name TEXT NOT NULL DEFAULT '',
    state INTEGER NOT NULL DEFAULT 1,
    error_msg TEXT NOT NULL DEFAULT '',
    is_deleted INTEGER NOT NULL DEFAULT -1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Per-address selection: unfilled by creation time, filled by nonce.
CREATE INDEX msg_from_state_created ON messages (from_addr, state, created_at);
CREATE INDEX msg_from_nonce ON messages (from_addr, nonce);
-- The last guard against double-signing: one live signed message per (from, nonce).
-- FillMsg (2) and OnChainMsg (3) rows hold their nonce; Failed and NonceConflict rows do not.
CREATE UNIQUE INDEX msg_from_nonce_live ON messages (from_addr, nonce) WHERE state IN (2, 3);
CREATE INDEX msg_unsigned_cid ON messages (unsigned_cid);
CREATE INDEX msg_signed_cid ON messages (signed_cid);
CREATE INDEX msg_height ON messages (height) WHERE state IN (3, 5);
CREATE INDEX msg_state_updated ON messages (state, updated_at);
CREATE INDEX msg_updated ON messages (updated_at);
CREATE INDEX msg_created ON messages (created_at);
-- expireEpoch enforcement (spec 10): unfilled messages that carry an expiry.
CREATE INDEX msg_expire ON messages (meta_expire_epoch) WHERE state = 1 AND meta_expire_epoch > 0;

CREATE TABLE addresses (
    id TEXT PRIMARY KEY,
    addr TEXT NOT NULL UNIQUE,
    nonce INTEGER NOT NULL DEFAULT 0,
    weight INTEGER NOT NULL DEFAULT 0,
    state INTEGER NOT NULL DEFAULT 1,
    sel_msg_num INTEGER NOT NULL DEFAULT 0,
    gas_over_estimation REAL NOT NULL DEFAULT 0,
    max_fee TEXT NOT NULL DEFAULT '0',
    gas_fee_cap TEXT NOT NULL DEFAULT '0',
    gas_over_premium REAL NOT NULL DEFAULT 0,
    base_fee TEXT NOT NULL DEFAULT '0',
    is_deleted INTEGER NOT NULL DEFAULT -1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE shared_params (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sel_msg_num INTEGER NOT NULL DEFAULT 20,
    gas_over_estimation REAL NOT NULL DEFAULT 0,
    max_fee TEXT NOT NULL DEFAULT '0',
    gas_fee_cap TEXT NOT NULL DEFAULT '0',
    gas_over_premium REAL NOT NULL DEFAULT 0,
    base_fee TEXT NOT NULL DEFAULT '0'
);
INSERT INTO shared_params (id, sel_msg_num, gas_over_estimation, max_fee, gas_fee_cap, gas_over_premium, base_fee)
VALUES (1, 20, 1.25, '70000000000000000', '0', 0, '0');

CREATE TABLE actor_cfg (
    id TEXT PRIMARY KEY,
    actor_v INTEGER NOT NULL DEFAULT 0,
    code TEXT NOT NULL,
    method INTEGER NOT NULL DEFAULT 0,
    gas_over_estimation REAL NOT NULL DEFAULT 0,
    max_fee TEXT NOT NULL DEFAULT '0',
    gas_fee_cap TEXT NOT NULL DEFAULT '0',
    gas_over_premium REAL NOT NULL DEFAULT 0,
    base_fee TEXT NOT NULL DEFAULT '0',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX idx_code_method ON actor_cfg (code, method);

CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    token TEXT NOT NULL DEFAULT '',
    node_type INTEGER NOT NULL DEFAULT 1,
    is_deleted INTEGER NOT NULL DEFAULT -1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- One live node per name (GetNode / DeleteNode go by name).
CREATE UNIQUE INDEX nodes_live_name ON nodes (name) WHERE is_deleted = -1;

-- The head tracker's cache of processed tipsets (upstream keeps it in <repo>/tipset.json; in
-- the database a standby can take over). tsk / parents in the "{ c1 c2 }" text form; data is
-- the optional TipSet JSON.
CREATE TABLE tipset_cache (
    height INTEGER PRIMARY KEY,
    tsk TEXT NOT NULL,
    parents TEXT NOT NULL,
    data TEXT
);

-- Small key/value settings (e.g. "network_name", the guard tipset.json carried).
CREATE TABLE msgr_kv (
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL
);
