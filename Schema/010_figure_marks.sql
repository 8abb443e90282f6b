-- A figure may be provisional (an estimate the owner will confirm: finalising is a new
-- revision that clears the mark) and, for a quarterly indicator, carry the owner's forecast
-- of the year-end outturn, judged against the year's target beside the quarter's own status.
ALTER TABLE figures ADD COLUMN provisional boolean NOT NULL DEFAULT false;
ALTER TABLE figures ADD COLUMN forecast numeric CHECK (forecast IS NULL OR (forecast >= 0 AND forecast < 'Infinity'));
