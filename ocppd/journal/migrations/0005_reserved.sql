-- 0005: a placeholder on branch i14-list only.
--
-- Number 0005 belongs to the charging-profiles migration of branch i13-wiring
-- (0005_charging_profiles.sql); the local list is 0006. Migrations must be numbered
-- 1, 2, 3 ... without a gap (ocppd/journal/schema.py), so this branch carries this no-op
-- until 0005 lands. DELETE THIS FILE when 0005_charging_profiles.sql is merged.
SELECT 1;
