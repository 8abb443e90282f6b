-- Users and the posts they hold, figure revisions and their validation, target changes,
-- and the append-only audit trail.

-- The post that makes its holders administrators. Plans never name it.
INSERT INTO posts (name) VALUES ('admin') ON CONFLICT (name) DO NOTHING;

-- Registered Unix accounts. A disabled user is kept for history and holds no rights.
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    login text NOT NULL UNIQUE CHECK (login ~ '^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}\$?$'),
    name text NOT NULL,
    email text,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    disabled_at timestamptz,
    disabled_by text
);

-- Who holds which post, from when until when (inclusive; null = open-ended). Revoking ends a
-- holding without deleting it.
CREATE TABLE post_holders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users,
    post_id bigint NOT NULL REFERENCES posts,
    valid_from date NOT NULL,
    valid_until date,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL,
    revoked_by text,
    revoked_at timestamptz,
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX post_holders_user ON post_holders (user_id) WHERE revoked_at IS NULL;
CREATE INDEX post_holders_post ON post_holders (post_id) WHERE revoked_at IS NULL;

-- A revision records who sent it and whether it came in after its due date; a correction
-- carries its reason. Revisions are never changed once written.
ALTER TABLE figures
    ADD COLUMN reason text,
    ADD COLUMN submitted_uid bigint NOT NULL DEFAULT 0,
    ADD COLUMN late boolean NOT NULL DEFAULT false,
    ADD CHECK (revision = 1 OR btrim(coalesce(reason, '')) <> '');

CREATE FUNCTION bbcs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER figures_append_only BEFORE UPDATE OR DELETE ON figures
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();

-- An administrator's check of one revision (Pentana's "audited" flag). A correction is a new
-- revision, so it starts unchecked.
CREATE TABLE figure_validations (
    figure_id bigint PRIMARY KEY REFERENCES figures,
    validated_by text NOT NULL,
    validated_at timestamptz NOT NULL
);

-- Targets and tolerances changed by administrators win over the plan file's on re-import.
ALTER TABLE indicator_values ADD COLUMN set_by_admin boolean NOT NULL DEFAULT false;
ALTER TABLE indicators ADD COLUMN tolerance_set_by_admin boolean NOT NULL DEFAULT false;

CREATE TABLE target_changes (
    id bigserial PRIMARY KEY,
    indicator_id bigint NOT NULL REFERENCES indicators,
    period text NOT NULL CHECK (period ~ '^[0-9]{4}/[0-9]{2}( Q[1-4])?$'),
    old_value numeric,
    new_value numeric NOT NULL CHECK (new_value >= 0),
    old_tolerance numeric,
    new_tolerance numeric,
    reason text NOT NULL CHECK (btrim(reason) <> ''),
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX target_changes_indicator ON target_changes (indicator_id, period);

-- One row per mutation and per refused attempt, written in the mutation's own transaction.
CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    login text NOT NULL,
    uid bigint NOT NULL,
    pid integer NOT NULL,
    method text NOT NULL,
    object text,
    outcome text NOT NULL CHECK (outcome IN ('ok', 'denied', 'unauthenticated')),
    before jsonb,
    after jsonb,
    message text
);
CREATE INDEX audit_object ON audit (lower(object), id);
CREATE INDEX audit_login ON audit (login, id);
CREATE INDEX audit_at ON audit (at);

-- Not even the daemon's own SQL may rewrite history.
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER figures_no_truncate BEFORE TRUNCATE ON figures
    FOR EACH STATEMENT EXECUTE FUNCTION bbcs_refuse_change();
