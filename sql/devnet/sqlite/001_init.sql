-- venus-devnet chain store (sqlite, <repo>/devnet.db). See devnet/devnet-store.c.
-- CIDs and tipset keys are stored in binary (BLOB); a tipset key is the concatenation of its
-- block CIDs. Big integers are decimal TEXT. Everything a restart needs is here; the daemon
-- loads it into memory at open and writes each change in one transaction.

-- Genesis parameters and chain pointers: 'genesis' (JSON), 'head' (tipset key).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Every block ever accepted (main chain and forks): its full CBOR.
CREATE TABLE blocks (
    cid BLOB PRIMARY KEY,
    height INTEGER NOT NULL,
    cbor BLOB NOT NULL
);
CREATE INDEX blocks_height_idx ON blocks (height);

-- Tipsets. exec_state / exec_receipts are the state and receipts after executing this
-- tipset's messages (set once it has been the head); NULL before.
CREATE TABLE tipsets (
    key BLOB PRIMARY KEY,
    height INTEGER NOT NULL,
    parent_key BLOB NOT NULL,
    weight TEXT NOT NULL,
    on_main INTEGER NOT NULL DEFAULT 1,
    exec_state BLOB,
    exec_receipts BLOB
);
CREATE INDEX tipsets_height_idx ON tipsets (height, on_main);

-- Signed messages (pushed or included); cbor is the SignedMessage CBOR.
CREATE TABLE messages (
    cid BLOB PRIMARY KEY,
    signed_cid BLOB NOT NULL UNIQUE,
    cbor BLOB NOT NULL,
    from_addr TEXT NOT NULL,
    nonce INTEGER NOT NULL
);
CREATE INDEX messages_from_idx ON messages (from_addr, nonce);

-- Which block includes which message, in block order (BLS list then secp list).
CREATE TABLE block_messages (
    block BLOB NOT NULL,
    idx INTEGER NOT NULL,
    msg BLOB NOT NULL,
    bls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (block, idx)
);
CREATE INDEX block_messages_msg_idx ON block_messages (msg);

-- Actor tables, content-addressed: root = the devnet state root CID (blake2b of cbor), cbor =
-- the sorted actor table [[id, kind, key address|null, balance, nonce], ...]. One row per
-- distinct state, so StateGetActor(tsk) and reverts read old states back.
CREATE TABLE states (
    root BLOB PRIMARY KEY,
    cbor BLOB NOT NULL
);

-- Receipts of one executed tipset: root = receipts root CID, cbor = [[exit, return, gas, null]...].
CREATE TABLE receipts (
    root BLOB PRIMARY KEY,
    cbor BLOB NOT NULL
);

-- The message pool: signed CIDs of pending messages (rows of messages).
CREATE TABLE mpool (
    signed_cid BLOB PRIMARY KEY,
    added_us INTEGER NOT NULL
);
