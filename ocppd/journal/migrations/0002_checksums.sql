-- 0002: PLACEHOLDER on branch i12-proto only.
--
-- Issue 18 (journal damage) owns migration 0002 ("0002_checksums.sql": record checksums,
-- quarantine, salvage identities). This empty step keeps the numbering 1, 2, 3 on a branch
-- that does not have it yet; at the merge issue 18's file replaces this one (0003 is written
-- to apply on top of it). Never ship this placeholder.
SELECT 1;
