-- venus-miner schema (PostgreSQL). Mirrors sql/miner/sqlite/001_init.sql; see minerd/miner-store.h.
-- miner_blocks follows sophon-miner's MySQL slash filter (spec/miner-and-node-api.md A.4.2);
-- addresses are stored as the miner prints them; winning_at is unix ms (NULL = unknown);
-- parent_key is Venus TipSetKey.String() "{ c1 c2 }" ('' = unknown); cid '' = no header yet.
CREATE TABLE miner_blocks (
    parent_epoch BIGINT NOT NULL DEFAULT 0,
    parent_key TEXT NOT NULL DEFAULT '',
    epoch BIGINT NOT NULL,
    miner TEXT NOT NULL,
    cid TEXT NOT NULL DEFAULT '',
    winning_at BIGINT,
    mine_state BIGINT NOT NULL DEFAULT 0,
    consuming BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (miner, epoch)
);
-- The time-offset check: blocks of a miner on the same parents.
CREATE INDEX miner_blocks_parent ON miner_blocks (miner, parent_key);
-- ListBlocks without a miner filter.
CREATE INDEX miner_blocks_epoch ON miner_blocks (epoch);

-- Mine recorder (A.5): one JSON object of string -> string per (miner, epoch).
CREATE TABLE mine_records (
    miner TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (miner, epoch)
);
CREATE INDEX mine_records_epoch ON mine_records (epoch);

-- Small settings (e.g. network_name).
CREATE TABLE miner_kv (
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL
);
