-- 0005: reservations (OCPP 1.6 §3.11, ReserveNow). Task number 0007: the coordinator
-- renumbers at merge (migrations are numbered 1, 2, 3 ... with no gap).
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- One row per reservation in force; connector_id 0 is the charge point as a whole.
-- expiry is ISO 8601 UTC text; rows that expired while ocppd was down are deleted at
-- start. No checksum: a reservation holds no money and no transaction fact (the
-- StartTransaction that uses one carries its id in a checksummed outbox row).
CREATE TABLE reservations (
    reservation_id INTEGER PRIMARY KEY,
    connector_id   INTEGER NOT NULL CHECK (connector_id >= 0),
    id_tag         TEXT NOT NULL,
    parent_id_tag  TEXT,
    expiry         TEXT NOT NULL
);
