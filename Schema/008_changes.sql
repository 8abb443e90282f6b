-- The change sequence: one row per change any daemon makes, in the change's own transaction.
-- Daemons hold the plan in memory; a notification on channel bbcs_changes (payload: the
-- highest seq the statement wrote) wakes them, and each reads what changed since the last seq
-- it applied. Sequence values commit out of order, so a reader keeps requerying a gap below
-- its newest seq until the gap fills or is older than any transaction can be.
CREATE TABLE changes (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    -- figure_submitted, figure_corrected, figure_validated, target_set, task_updated,
    -- task_rescheduled, reminder_created, directory (users, posts, holdings), plan (an import).
    kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    indicator_id bigint,
    task_id bigint,
    -- Who made the change (a login, or bbcsd).
    login text,
    -- What a watcher is shown: codes, period, values, recipient; never an e-mail address.
    detail jsonb
);

CREATE FUNCTION changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bbcs_changes', (SELECT max(seq)::text FROM new_rows));
    RETURN NULL;
END $$;

CREATE TRIGGER changes_notify AFTER INSERT ON changes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_notify();

-- Codes and names are looked up ignoring case.
CREATE INDEX indicators_lower_code ON indicators (lower(code));
CREATE INDEX indicator_aliases_lower_alias ON indicator_aliases (lower(alias));
CREATE INDEX tasks_lower_code ON tasks (lower(code));
CREATE INDEX task_aliases_lower_alias ON task_aliases (lower(alias));
CREATE INDEX posts_lower_name ON posts (lower(name));
CREATE INDEX post_aliases_lower_alias ON post_aliases (lower(alias));
