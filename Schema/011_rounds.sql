-- Reporting rounds: the figures of one period collected by a deadline for one meeting. A
-- round is opened once per plan and period and closed once; nothing else about it ever
-- changes, and it is never deleted (the reports published from it cite it).
CREATE TABLE rounds (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans,
    period text NOT NULL CHECK (period ~ '^[0-9]{4}/[0-9]{2}( Q[1-4])?$'),
    deadline date NOT NULL,
    meeting text NOT NULL CHECK (btrim(meeting) <> ''),
    opened_by text NOT NULL,
    opened_at timestamptz NOT NULL,
    closed_by text,
    closed_at timestamptz,
    close_reason text,
    forced boolean NOT NULL DEFAULT false,
    UNIQUE (plan_id, period),
    CHECK ((closed_by IS NULL) = (closed_at IS NULL)),
    CHECK (NOT forced OR close_reason IS NOT NULL)
);

CREATE FUNCTION rounds_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a reporting round is never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.closed_at IS NOT NULL OR NEW.closed_at IS NULL
       OR (NEW.id, NEW.plan_id, NEW.period, NEW.deadline, NEW.meeting, NEW.opened_by, NEW.opened_at)
          IS DISTINCT FROM (OLD.id, OLD.plan_id, OLD.period, OLD.deadline, OLD.meeting, OLD.opened_by, OLD.opened_at) THEN
        RAISE EXCEPTION 'a reporting round changes only by being closed, once' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER rounds_close_only BEFORE UPDATE OR DELETE ON rounds FOR EACH ROW EXECUTE FUNCTION rounds_close_only();

-- Reminders chase an open round's deadline as well as each figure's own due date.
ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check;
ALTER TABLE reminders ADD CONSTRAINT reminders_kind_check
    CHECK (kind IN ('task_due', 'task_due_today', 'task_overdue', 'figure_due', 'figure_overdue', 'strategy_renewal', 'round_due'));
