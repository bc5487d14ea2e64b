-- PushMessage inserts UnFillMsg (1) rows, whose nonce is a placeholder until they are filled:
-- keeping them out of the (from_addr, nonce) index spares every push one index page (with the
-- group commit, the pages a push dirties are what it costs). Queries by nonce name a state
-- other than 1 (and say "state <> 1" so that the planner may use this index); the unfilled
-- rows are found through msg_from_state_created.
DROP INDEX msg_from_nonce;
CREATE INDEX msg_from_nonce ON messages (from_addr, nonce) WHERE state <> 1;
