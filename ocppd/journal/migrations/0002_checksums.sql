-- 0002: a reserved step that does nothing.
--
-- This number was once set aside for record checksums; they came in 0004
-- (0004_checksums.sql) instead. Journals at version 2 or later have applied this
-- no-op, so it stays, unchanged in effect, to keep the numbering 1, 2, 3 ... whole.
-- Never reuse it for a real change: add the next number.
SELECT 1;
