-- 0010: the display messages in force (OCPP 2.0.1 block O, SetDisplayMessage).
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- One row per message, by the central system's id; `record` is the message as JSON text
-- in the model's words (ocppd/features/storage.py writes and reads it; the journal never
-- interprets it). The daemon bounds the number of rows (DisplayMessageCtrlr.DisplayMessages).
-- No checksum: a message holds no money and no transaction fact; a row that cannot be
-- read is logged and left out at start.
CREATE TABLE display_messages (
    id     INTEGER PRIMARY KEY,
    record TEXT NOT NULL
);
