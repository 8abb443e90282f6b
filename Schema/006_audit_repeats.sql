-- A refusal storm leaves a bounded trail: within the daemon's refusal window, identical
-- refusals from one uid after the first (and, past the distinct limit, every further one)
-- are written as one row standing for `attempts` of them, made from `at` to `last_at`.
-- The trail stays insert-only: a count is never raised in place, a new row carries it.
-- Rows written before stand for one attempt each.
ALTER TABLE audit ADD COLUMN attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 1);
ALTER TABLE audit ADD COLUMN last_at timestamptz CHECK (last_at >= at);
ALTER TABLE audit ADD CONSTRAINT audit_attempts_refused CHECK (attempts = 1 OR outcome <> 'ok');
