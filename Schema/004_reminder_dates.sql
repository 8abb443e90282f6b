-- Reminders follow a moved date: the date a step counts from (a task's target, a figure's
-- due date, a strategy's renewal) joins the key, so a rescheduled task or a renewal date
-- changed by a re-import is reminded afresh. The old date's reminders not yet acknowledged
-- are marked superseded: kept, out of the inbox, never mailed. Rows recorded before keep
-- their key, since every one already carries its due date.
ALTER TABLE reminders ADD COLUMN superseded_at timestamptz;
ALTER TABLE reminders DROP CONSTRAINT reminders_kind_subject_recipient_step_key;
ALTER TABLE reminders ADD CONSTRAINT reminders_key UNIQUE (kind, subject, recipient, step, due_date);

DROP INDEX reminders_inbox;
CREATE INDEX reminders_inbox ON reminders (recipient, id) WHERE acked_at IS NULL AND superseded_at IS NULL;
DROP INDEX reminders_mail;
CREATE INDEX reminders_mail ON reminders (mail_next_at) WHERE mail_state = 'pending' AND superseded_at IS NULL;

-- Go-live without a flood: the Europe/London day each plan was first loaded, from which its
-- figures are chased unless figures_tracked_from says otherwise. Set by the first import;
-- a plan loaded before this migration takes the day of its first audited import.
ALTER TABLE plans ADD COLUMN loaded_on date;
UPDATE plans p SET loaded_on = (coalesce(
    (SELECT min(a.at) FROM audit a WHERE a.method = 'plan.import' AND a.outcome = 'ok' AND a.object = p.code),
    p.imported_at) AT TIME ZONE 'Europe/London')::date;
