-- PushMessage inserts UnFillMsg (1) rows, whose nonce is a placeholder until they are filled and
-- whose CIDs are NULL: keeping them out of the (from_addr, nonce) and CID indexes spares every
-- push one index page and two index entries (with the group commit, the pages and entries a push
-- writes are what it costs). Queries by nonce name a state other than 1 (and say "state <> 1"
-- so that the planner may use the index); unfilled rows are found through
-- msg_from_state_created. Queries by CID compare it with a value, which implies NOT NULL.
DROP INDEX msg_from_nonce;
CREATE INDEX msg_from_nonce ON messages (from_addr, nonce) WHERE state <> 1;
DROP INDEX msg_unsigned_cid;
CREATE INDEX msg_unsigned_cid ON messages (unsigned_cid) WHERE unsigned_cid IS NOT NULL;
DROP INDEX msg_signed_cid;
CREATE INDEX msg_signed_cid ON messages (signed_cid) WHERE signed_cid IS NOT NULL;
