-- test schema for test-db (postgres)
CREATE TABLE items (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    data BYTEA,
    score DOUBLE PRECISION,
    flag BOOLEAN,
    n BIGINT
);
CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO counter (id, n) VALUES (1, 0);
