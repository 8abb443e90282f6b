-- A period is a year whose second part follows its first ('2025/26', '2025/26 Q1'), from
-- 1900/01 to 9998/99, as Period reads it: '2025/27' matches the pattern of 001 but names no
-- period, and one such row written by hand would fail every read of its indicator.
-- NOT VALID: rows stored before stay as they are; every new or changed row is checked.
ALTER TABLE figures ADD CONSTRAINT figures_period_years
    CHECK (left(period, 4)::int BETWEEN 1900 AND 9998 AND substr(period, 6, 2)::int = (left(period, 4)::int + 1) % 100) NOT VALID;
ALTER TABLE indicator_values ADD CONSTRAINT indicator_values_period_years
    CHECK (left(period, 4)::int BETWEEN 1900 AND 9998 AND substr(period, 6, 2)::int = (left(period, 4)::int + 1) % 100) NOT VALID;
ALTER TABLE target_changes ADD CONSTRAINT target_changes_period_years
    CHECK (left(period, 4)::int BETWEEN 1900 AND 9998 AND substr(period, 6, 2)::int = (left(period, 4)::int + 1) % 100) NOT VALID;
