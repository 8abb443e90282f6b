-- The business plan: its structure, indicators with baselines and targets, key tasks,
-- strategy documents, risks and budget. Loaded by plan.import from a data file.

CREATE TABLE plans (
    id bigserial PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.&-]{1,32}$'),
    title text NOT NULL CHECK (btrim(title) <> ''),
    council text NOT NULL,
    priority text NOT NULL,
    priority_statement text NOT NULL,
    vision text NOT NULL,
    introduction text NOT NULL,
    plan_values jsonb NOT NULL CHECK (jsonb_typeof(plan_values) = 'array'),
    notes jsonb NOT NULL CHECK (jsonb_typeof(notes) = 'array'),
    first_year text NOT NULL CHECK (first_year ~ '^[0-9]{4}/[0-9]{2}$'),
    last_year text NOT NULL CHECK (last_year ~ '^[0-9]{4}/[0-9]{2}$'),
    imported_at timestamptz NOT NULL DEFAULT now(),
    CHECK (first_year <= last_year)
);

CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (btrim(name) <> '')
);

-- Other spellings of a post seen in plans; each maps to one post.
CREATE TABLE post_aliases (
    alias text PRIMARY KEY CHECK (btrim(alias) <> ''),
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE
);

CREATE TABLE service_areas (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans ON DELETE CASCADE,
    name text NOT NULL CHECK (btrim(name) <> ''),
    head_post_id bigint REFERENCES posts,
    position integer NOT NULL,
    UNIQUE (plan_id, name)
);

CREATE TABLE objectives (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans ON DELETE CASCADE,
    code text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.&-]{1,32}$'),
    title text NOT NULL CHECK (btrim(title) <> ''),
    position integer NOT NULL,
    UNIQUE (plan_id, code)
);

CREATE TABLE service_objectives (
    objective_id bigint NOT NULL REFERENCES objectives ON DELETE CASCADE,
    position integer NOT NULL,
    service_area_id bigint NOT NULL REFERENCES service_areas,
    text text NOT NULL CHECK (btrim(text) <> ''),
    PRIMARY KEY (objective_id, position)
);

CREATE TABLE indicators (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans,
    code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.&-]{1,32}$'),
    title text NOT NULL CHECK (btrim(title) <> ''),
    category text NOT NULL CHECK (category IN ('service_data', 'csi', 'kpi', 'mpi')),
    objective_id bigint REFERENCES objectives,
    service_area_id bigint NOT NULL REFERENCES service_areas,
    unit text NOT NULL CHECK (unit IN ('count', 'percent')),
    polarity text NOT NULL CHECK (polarity IN ('lower_is_better', 'higher_is_better', 'none')),
    frequency text NOT NULL CHECK (frequency IN ('annual', 'quarterly')),
    owner_post_id bigint NOT NULL REFERENCES posts,
    owner_from_document boolean NOT NULL,
    tolerance numeric CHECK (tolerance >= 0 AND tolerance <= 100),
    parent_id bigint REFERENCES indicators,
    is_new boolean NOT NULL DEFAULT false,
    comments text NOT NULL DEFAULT '',
    position integer NOT NULL,
    CHECK (parent_id IS DISTINCT FROM id)
);

CREATE TABLE indicator_aliases (
    alias text PRIMARY KEY,
    indicator_id bigint NOT NULL REFERENCES indicators ON DELETE CASCADE
);

-- Baseline actuals the plan reports, and the targets it sets, one row per year.
CREATE TABLE indicator_values (
    indicator_id bigint NOT NULL REFERENCES indicators ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('actual', 'target')),
    period text NOT NULL CHECK (period ~ '^[0-9]{4}/[0-9]{2}( Q[1-4])?$'),
    value numeric NOT NULL CHECK (value >= 0),
    PRIMARY KEY (indicator_id, kind, period)
);

-- Figures submitted for a period; a correction is a new revision, never an overwrite.
CREATE TABLE figures (
    id bigserial PRIMARY KEY,
    indicator_id bigint NOT NULL REFERENCES indicators,
    period text NOT NULL CHECK (period ~ '^[0-9]{4}/[0-9]{2}( Q[1-4])?$'),
    revision integer NOT NULL CHECK (revision >= 1),
    value numeric NOT NULL CHECK (value >= 0),
    note text,
    submitted_by text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (indicator_id, period, revision)
);

CREATE TABLE tasks (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans,
    code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.&-]{1,32}$'),
    objective_id bigint NOT NULL REFERENCES objectives,
    action text NOT NULL CHECK (btrim(action) <> ''),
    outcome text NOT NULL,
    target_date date,
    target_text text NOT NULL,  -- the document's words; empty when it prints none
    budget_comment text NOT NULL,
    is_new boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'on_track', 'at_risk', 'off_track', 'completed', 'deferred', 'cancelled')),
    progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    position integer NOT NULL
);

CREATE TABLE task_aliases (
    alias text PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks ON DELETE CASCADE
);

CREATE TABLE task_partners (
    task_id bigint NOT NULL REFERENCES tasks ON DELETE CASCADE,
    position integer NOT NULL,
    partner text NOT NULL CHECK (btrim(partner) <> ''),
    PRIMARY KEY (task_id, position)
);

CREATE TABLE task_posts (
    task_id bigint NOT NULL REFERENCES tasks ON DELETE CASCADE,
    position integer NOT NULL,
    post_id bigint NOT NULL REFERENCES posts,
    PRIMARY KEY (task_id, position),
    UNIQUE (task_id, post_id)
);

CREATE TABLE strategic_risks (
    plan_id bigint NOT NULL REFERENCES plans ON DELETE CASCADE,
    number integer NOT NULL CHECK (number > 0),
    title text,
    PRIMARY KEY (plan_id, number)
);

CREATE TABLE task_risks (
    task_id bigint NOT NULL REFERENCES tasks ON DELETE CASCADE,
    position integer NOT NULL,
    threat text NOT NULL CHECK (btrim(threat) <> ''),
    strategic_risks integer[] NOT NULL,
    mitigation text NOT NULL,
    PRIMARY KEY (task_id, position)
);

CREATE TABLE key_strategic_risks (
    plan_id bigint NOT NULL REFERENCES plans ON DELETE CASCADE,
    position integer NOT NULL,
    risk text NOT NULL CHECK (btrim(risk) <> ''),
    mitigation text NOT NULL,
    PRIMARY KEY (plan_id, position)
);

CREATE TABLE strategies (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans ON DELETE CASCADE,
    name text NOT NULL CHECK (btrim(name) <> ''),
    purpose text NOT NULL,
    renewal_text text NOT NULL CHECK (btrim(renewal_text) <> ''),
    renewal_date date,
    position integer NOT NULL,
    UNIQUE (plan_id, name)
);

-- Who answers for a strategy: a post of the council, or a body outside it (post_id null).
CREATE TABLE strategy_responsible (
    strategy_id bigint NOT NULL REFERENCES strategies ON DELETE CASCADE,
    position integer NOT NULL,
    name text NOT NULL CHECK (btrim(name) <> ''),
    post_id bigint REFERENCES posts,
    PRIMARY KEY (strategy_id, position)
);

CREATE TABLE budget_lines (
    plan_id bigint NOT NULL REFERENCES plans ON DELETE CASCADE,
    position integer NOT NULL,
    description text NOT NULL CHECK (btrim(description) <> ''),
    kind text NOT NULL CHECK (kind IN ('implication', 'efficiency', 'income', 'net')),
    comment text NOT NULL,
    amounts jsonb NOT NULL CHECK (jsonb_typeof(amounts) = 'object'),
    PRIMARY KEY (plan_id, position)
);
