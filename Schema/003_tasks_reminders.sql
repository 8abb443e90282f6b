-- Key task progress with its history (updates and target-date changes), and reminders:
-- each recorded once under (kind, subject, recipient, step), delivered to an inbox and,
-- where configured, by mail with retries.

ALTER TABLE tasks ADD COLUMN completed_on date;

-- Every update and every target-date change of a task, never rewritten.
CREATE TABLE task_changes (
    id bigserial PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks,
    kind text NOT NULL CHECK (kind IN ('update', 'reschedule')),
    old_status text,
    new_status text,
    old_progress integer,
    new_progress integer,
    old_date date,
    new_date date,
    note text NOT NULL CHECK (btrim(note) <> ''),
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX task_changes_task ON task_changes (task_id, id);

CREATE TRIGGER task_changes_append_only BEFORE UPDATE OR DELETE ON task_changes
    FOR EACH ROW EXECUTE FUNCTION bbcs_refuse_change();

CREATE TABLE reminders (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('task_due', 'task_due_today', 'task_overdue', 'figure_due', 'figure_overdue',
                                       'strategy_renewal')),
    -- What it is about: a task code, "ComS_011 2025/26 Q2", a strategy's name.
    subject text NOT NULL,
    recipient text NOT NULL REFERENCES users (login),
    -- Which of the subject's reminders: "28d", "today", "week-2", ...
    step text NOT NULL,
    due_date date NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    escalated boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    acked_at timestamptz,
    -- Mail: none (no command or no address), pending, sent; failures keep retrying.
    mail_state text NOT NULL CHECK (mail_state IN ('none', 'pending', 'sent')),
    mail_to text,
    mail_attempts integer NOT NULL DEFAULT 0,
    mail_next_at timestamptz,
    mail_last_error text,
    mail_sent_at timestamptz,
    UNIQUE (kind, subject, recipient, step)
);
CREATE INDEX reminders_inbox ON reminders (recipient, id) WHERE acked_at IS NULL;
CREATE INDEX reminders_mail ON reminders (mail_next_at) WHERE mail_state = 'pending';
