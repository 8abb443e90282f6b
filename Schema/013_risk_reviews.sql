-- The scored risk register: each review of a risk (a strategic risk the plan cites "SR3", a
-- key strategic risk "KSR1", a task's risk "BCRPASB_29/R1") scored likelihood x impact on
-- the council's matrix, with a note, kept in full; the latest is the risk's score.
CREATE TABLE risk_reviews (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans,
    risk text NOT NULL CHECK (risk ~ '^(SR[0-9]+|KSR[0-9]+|.+/R[0-9]+)$'),
    likelihood integer NOT NULL CHECK (likelihood BETWEEN 1 AND 10),
    impact integer NOT NULL CHECK (impact BETWEEN 1 AND 10),
    score integer NOT NULL CHECK (score = likelihood * impact),
    band text NOT NULL,
    note text NOT NULL CHECK (btrim(note) <> ''),
    reviewed_by text NOT NULL,
    reviewed_at timestamptz NOT NULL
);
CREATE INDEX risk_reviews_risk ON risk_reviews (plan_id, risk, id);

CREATE TRIGGER risk_reviews_append_only BEFORE UPDATE OR DELETE ON risk_reviews
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER risk_reviews_no_truncate BEFORE TRUNCATE ON risk_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION bbcs_refuse_change();

-- Each published report keeps the scores it showed, so the next can say how each moved.
ALTER TABLE published_reports ADD COLUMN risk_scores jsonb NOT NULL DEFAULT '{}';
