-- Several business plans in one database, and each plan's annual revision.
--
-- Codes are unique within their plan, not across plans: the Housing plan may have its own
-- "H1". Aliases are kept per indicator or task, so two plans may share a spelling too.
ALTER TABLE indicators DROP CONSTRAINT indicators_code_key;
ALTER TABLE indicators ADD CONSTRAINT indicators_plan_code_key UNIQUE (plan_id, code);
ALTER TABLE tasks DROP CONSTRAINT tasks_code_key;
ALTER TABLE tasks ADD CONSTRAINT tasks_plan_code_key UNIQUE (plan_id, code);
ALTER TABLE indicator_aliases DROP CONSTRAINT indicator_aliases_pkey;
ALTER TABLE indicator_aliases ADD PRIMARY KEY (indicator_id, alias);
CREATE INDEX indicator_aliases_alias ON indicator_aliases (lower(alias));
ALTER TABLE task_aliases DROP CONSTRAINT task_aliases_pkey;
ALTER TABLE task_aliases ADD PRIMARY KEY (task_id, alias);
CREATE INDEX task_aliases_alias ON task_aliases (lower(alias));

-- The revision of the plan file loaded last; a plan is revised forward only.
ALTER TABLE plans ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);

-- An indicator or task a later revision no longer lists is retired, never deleted: its
-- figures, progress and changes stay readable. A revision that lists it again brings it back.
ALTER TABLE indicators ADD COLUMN retired_in integer CHECK (retired_in >= 1);
ALTER TABLE tasks ADD COLUMN retired_in integer CHECK (retired_in >= 1);

-- The plan revision whose file set a baseline or target (null when an administrator set it:
-- target_changes says who and why; null too for values loaded before revisions were kept).
ALTER TABLE indicator_values ADD COLUMN set_in_revision integer CHECK (set_in_revision >= 1);

-- Every import that changed a plan: which revision of the file, from where, by whom, and
-- what it changed. Appended to, never rewritten.
CREATE TABLE plan_revisions (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans,
    revision integer NOT NULL CHECK (revision >= 1),
    source text,
    sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    loaded_by text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    -- Rows changed by table; codes of the indicators and tasks added, retired and brought back.
    changes jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'object'),
    added jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(added) = 'array'),
    retired jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(retired) = 'array'),
    restored jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(restored) = 'array')
);
CREATE INDEX plan_revisions_plan ON plan_revisions (plan_id, id);

CREATE TRIGGER plan_revisions_append_only BEFORE UPDATE OR DELETE ON plan_revisions
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER plan_revisions_no_truncate BEFORE TRUNCATE ON plan_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION bbcs_refuse_change();

-- Plans loaded before revisions were kept: their first load, as far as it is known.
INSERT INTO plan_revisions (plan_id, revision, loaded_by, loaded_at, changes)
SELECT id, 1, 'before revisions were recorded', imported_at, '{}' FROM plans;
