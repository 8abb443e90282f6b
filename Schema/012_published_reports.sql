-- Published reports: a round's report frozen for its meeting, its JSON and rendered HTML
-- kept byte for byte with a SHA-256 of each (checked here, so a digest cannot disagree with
-- what it digests), and the figures it contained, so later corrections of them are listed
-- as restatements. Append-only like the audit trail.
CREATE TABLE published_reports (
    id bigserial PRIMARY KEY,
    number text NOT NULL UNIQUE,
    round_id bigint NOT NULL REFERENCES rounds,
    report_json text NOT NULL,
    report_html text NOT NULL,
    json_sha256 text NOT NULL CHECK (json_sha256 = encode(sha256(convert_to(report_json, 'UTF8')), 'hex')),
    html_sha256 text NOT NULL CHECK (html_sha256 = encode(sha256(convert_to(report_html, 'UTF8')), 'hex')),
    published_by text NOT NULL,
    published_at timestamptz NOT NULL,
    -- The restatements the report listed: the next lists only those not told yet.
    restatements jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE published_figures (
    report_id bigint NOT NULL REFERENCES published_reports,
    indicator_id bigint NOT NULL REFERENCES indicators,
    period text NOT NULL,
    revision integer NOT NULL,
    value numeric NOT NULL,
    provisional boolean NOT NULL,
    PRIMARY KEY (report_id, indicator_id, period)
);

CREATE TRIGGER published_reports_append_only BEFORE UPDATE OR DELETE ON published_reports
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER published_reports_no_truncate BEFORE TRUNCATE ON published_reports
    FOR EACH STATEMENT EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER published_figures_append_only BEFORE UPDATE OR DELETE ON published_figures
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();
CREATE TRIGGER published_figures_no_truncate BEFORE TRUNCATE ON published_figures
    FOR EACH STATEMENT EXECUTE FUNCTION bbcs_refuse_change();
