-- Figures, plan values and targets are finite numbers: 'NaN' and 'Infinity' pass
-- `value >= 0` (both sort above every number) but no reader can show or encode them.
-- NOT VALID: rows stored before stay as they are; every new or changed row is checked.
ALTER TABLE figures ADD CONSTRAINT figures_value_finite CHECK (value < 'Infinity') NOT VALID;
ALTER TABLE indicator_values ADD CONSTRAINT indicator_values_value_finite CHECK (value < 'Infinity') NOT VALID;
ALTER TABLE target_changes ADD CONSTRAINT target_changes_new_value_finite CHECK (new_value < 'Infinity') NOT VALID;
