-- test schema for test-db (sqlite)
CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    data BLOB,
    score REAL,
    flag BOOLEAN,
    n BIGINT
);
CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO counter (id, n) VALUES (1, 0);
