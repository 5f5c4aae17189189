-- 0006: the local authorization list (OCPP 1.6 §3.5.2, §5.15; 2.0.1 block D).
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- The list changes only through a whole update (SendLocalList), one transaction each, so
-- it is never half-applied. Rows carry no checksum: they are no money or transaction
-- facts, and the central system can always send the list again (GetLocalListVersion
-- tells it the version this charger holds).

-- One row per identifier, upper-cased (idTags are case-insensitive), looked up by key:
-- thousands of entries are never read into memory.
CREATE TABLE local_list (
    id_tag        TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    expiry        TEXT,
    parent_id_tag TEXT
) WITHOUT ROWID;

-- The version of the list and its size, written by the same transaction as its rows.
-- Version 0 means the list is empty (GetLocalListVersion).
CREATE TABLE local_list_meta (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL DEFAULT 0,
    entries INTEGER NOT NULL DEFAULT 0
);
INSERT INTO local_list_meta (id) VALUES (1);
