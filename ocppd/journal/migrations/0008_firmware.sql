-- 0008: durable jobs (Firmware Management).
--
-- A job is work the central system asked for that must survive a restart: today the one
-- firmware update (UpdateFirmware's retrieveDate, retries, the phase it reached, the last
-- error). Its state is a JSON object the feature owns; the journal stores it and writes
-- it together with the outbox row that reports it (one transaction: a status is queued
-- exactly once per phase change). No money or transaction facts: no checksum (0004).
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
