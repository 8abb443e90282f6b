-- Request keys: every write that records a change stores a fresh key (a UUID) beside it, in
-- the same statement or transaction, with the change's seq. When the connection breaks while
-- the write or its COMMIT is in flight, the daemon cannot tell whether it committed; it
-- "fences" on a fresh connection: INSERT the key with seq NULL, ON CONFLICT DO NOTHING.
-- Inserted: the write did not commit, and now never can (its own insert of the key would
-- fail); it may run again under a new key. Not inserted: it committed, and seq is its change.
-- A key with seq NULL is therefore always a fence, never a write. Rows are only ever added
-- (INSERT and SELECT for the runtime role).
CREATE TABLE request_keys (
    key uuid PRIMARY KEY,
    seq bigint NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
