-- Unfilled (1) rows leave the per-sender index. PushMessage inserts them, and with many senders
-- each one landed on its own page of (from_addr, state, created_at): one dirty page per sender per
-- group commit. The per-sender index keeps the other states, for which queries say "state <> 1"
-- (as for msg_from_nonce, so that the planner may use it). Rows by state in creation order
-- (msg_state_created) take every push at the end of the state-1 range, one page per commit; it
-- holds id and from_addr so that selection's scan of the unfilled rows (once per round for every
-- sender, msgr_store_msg_unfilled_scan) and queries over one sender's unfilled rows read no table
-- row they do not return. It also serves every query by creation time (each names a state), so
-- msg_created goes: one index entry less per push.
DROP INDEX msg_from_state_created;
CREATE INDEX msg_from_state_created ON messages (from_addr, state, created_at) WHERE state <> 1;
CREATE INDEX msg_state_created ON messages (state, created_at, id, from_addr);
DROP INDEX msg_created;
