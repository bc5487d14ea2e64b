-- a comment with ? and ; inside
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES items (id),
    body TEXT NOT NULL DEFAULT 'what?; really'
);
CREATE INDEX notes_item ON notes (item_id);
