-- What the runtime role (the role bbcsd serves requests as) may do in the schema the owner
-- role owns. Not a migration: bbcsd runs it as the owner after the migrations, in their
-- transaction, every time it migrates, with the runtime role's name bound as the setting
-- bbcs.runtime_role (never spliced into this text). It starts from nothing, so a
-- privilege taken off this list is taken away on the next migration.
--
-- The runtime role reads every table; it inserts into the history tables and never
-- changes or removes a row of them; it updates or deletes only where the daemon's own
-- statements do (the plan an import rewrites, users, holdings, reminders). It owns nothing,
-- so it cannot ALTER, disable triggers or TRUNCATE; with USAGE only on its sequences it
-- cannot setval them. A table this list does not name (one a later migration adds before
-- it is listed here) is read-only to it.
DO $grants$
DECLARE
    runtime CONSTANT text := current_setting('bbcs.runtime_role');
    owner CONSTANT text := current_user;
    entry record;
    serial record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = runtime) THEN
        RAISE EXCEPTION 'the runtime role "%" does not exist: create it (createuser %) or name the right one in database', runtime, runtime
            USING ERRCODE = 'undefined_object';
    END IF;
    IF runtime = owner OR pg_has_role(runtime, owner, 'MEMBER')
        OR EXISTS (SELECT FROM pg_roles WHERE rolname = runtime AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'the runtime role "%" can act as the owner "%" or as a superuser: it must be a role of its own', runtime, owner
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', runtime);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', runtime);
    EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', runtime);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', runtime);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', runtime);

    FOR entry IN
        SELECT w.name, w.privileges FROM (VALUES
            -- History: appended to, never rewritten.
            ('audit', 'INSERT'),
            ('changes', 'INSERT'),
            ('figures', 'INSERT'),
            ('figure_validations', 'INSERT'),
            ('target_changes', 'INSERT'),
            ('task_changes', 'INSERT'),
            ('request_keys', 'INSERT'),
            -- Reporting rounds: opened, then closed once (a trigger refuses any other change).
            ('rounds', 'INSERT, UPDATE'),
            -- Published reports and the figures they contained: frozen once written.
            ('published_reports', 'INSERT'),
            ('published_figures', 'INSERT'),
            ('risk_reviews', 'INSERT'),
            -- Each import that changed a plan.
            ('plan_revisions', 'INSERT'),
            -- People: registered, disabled and enabled again; holdings revoked, never deleted.
            -- (SELECT ... FOR SHARE of them needs UPDATE as well.)
            ('users', 'INSERT, UPDATE'),
            ('post_holders', 'INSERT, UPDATE'),
            ('posts', 'INSERT, UPDATE'),
            -- Reminders: recorded, acknowledged, superseded, their mail state kept.
            ('reminders', 'INSERT, UPDATE'),
            -- The plan: plan.import upserts it and trims the lists that shrank; target.set
            -- changes targets and tolerances. Plans, objectives, areas, indicators and tasks
            -- are never deleted.
            ('plans', 'INSERT, UPDATE'),
            ('service_areas', 'INSERT, UPDATE'),
            ('objectives', 'INSERT, UPDATE'),
            ('indicators', 'INSERT, UPDATE'),
            ('tasks', 'INSERT, UPDATE'),
            ('service_objectives', 'INSERT, UPDATE, DELETE'),
            ('post_aliases', 'INSERT, UPDATE, DELETE'),
            ('indicator_aliases', 'INSERT, UPDATE, DELETE'),
            ('indicator_values', 'INSERT, UPDATE, DELETE'),
            ('task_aliases', 'INSERT, UPDATE, DELETE'),
            ('task_partners', 'INSERT, UPDATE, DELETE'),
            ('task_posts', 'INSERT, UPDATE, DELETE'),
            ('task_risks', 'INSERT, UPDATE, DELETE'),
            ('strategic_risks', 'INSERT, UPDATE, DELETE'),
            ('key_strategic_risks', 'INSERT, UPDATE, DELETE'),
            ('strategies', 'INSERT, UPDATE, DELETE'),
            ('strategy_responsible', 'INSERT, UPDATE, DELETE'),
            ('budget_lines', 'INSERT, UPDATE, DELETE')
        ) AS w(name, privileges)
        -- A table a migration not yet applied here would add (request_keys before 009) is skipped.
        WHERE to_regclass(format('public.%I', w.name)) IS NOT NULL
    LOOP
        -- The privileges come from the list above, never from outside.
        EXECUTE format('GRANT %s ON TABLE public.%I TO %I', entry.privileges, entry.name, runtime);
        -- nextval for the table's serial columns; USAGE does not allow setval.
        FOR serial IN
            SELECT DISTINCT pg_get_serial_sequence(format('public.%I', entry.name), a.attname) AS sequence
            FROM pg_attribute a
            WHERE a.attrelid = to_regclass(format('public.%I', entry.name)) AND a.attnum > 0 AND NOT a.attisdropped
                AND pg_get_serial_sequence(format('public.%I', entry.name), a.attname) IS NOT NULL
        LOOP
            -- pg_get_serial_sequence answers a qualified, quoted name from the catalog.
            EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', serial.sequence, runtime);
        END LOOP;
    END LOOP;
END
$grants$;
