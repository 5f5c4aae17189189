-- 0001: the first journal schema.
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version = 1`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.

-- Small durable state: OCPP configuration keys the central system set, connector
-- availability, and the like. Values are text; their owners parse them.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Authorization cache (OCPP 1.6 section 3.5.1). id_tag is stored upper-cased so
-- lookups are case-insensitive.
CREATE TABLE auth_cache (
    id_tag        TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    expiry        TEXT,
    parent_id_tag TEXT,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;

-- Eviction order: entries that are not Accepted first (0 sorts first), then the oldest.
CREATE INDEX auth_cache_eviction ON auth_cache (status = 'Accepted', updated_at);

-- The ledger: one row per local transaction, from the moment it started.
-- state: running -> stopped (StopTransaction queued) -> done (StopTransaction.conf).
CREATE TABLE transactions (
    local_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    connector_id   INTEGER NOT NULL,
    id_tag         TEXT NOT NULL,
    reservation_id INTEGER,
    meter_start_wh INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    transaction_id INTEGER,            -- from StartTransaction.conf; -1 when the Start was given up
    start_status   TEXT,               -- idTagInfo.status of StartTransaction.conf
    meter_last_wh  REAL,
    meter_last_at  TEXT,
    state          TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped', 'done')),
    meter_stop_wh  INTEGER,
    stopped_at     TEXT,
    stop_reason    TEXT,
    stop_id_tag    TEXT,
    start_seq      INTEGER NOT NULL,   -- outbox seq of the StartTransaction
    stop_seq       INTEGER             -- outbox seq of the StopTransaction (idempotent stop)
);

-- A connector runs at most one transaction: the next Start is journaled after the Stop.
CREATE UNIQUE INDEX transactions_one_running_per_connector
    ON transactions (connector_id) WHERE state = 'running';

-- The outbox: what must reach the central system, drained in seq order.
-- AUTOINCREMENT: a seq is never reused, even after the queue drained completely.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    action       TEXT NOT NULL,
    local_id     INTEGER REFERENCES transactions (local_id),
    connector_id INTEGER,
    droppable    INTEGER NOT NULL DEFAULT 0 CHECK (droppable IN (0, 1)),
    thinned      INTEGER NOT NULL DEFAULT 0,  -- thinning passes this droppable row survived
    payload      TEXT NOT NULL,        -- JSON; the final payload once sealed
    size         INTEGER NOT NULL,     -- UTF-8 bytes of payload, for the size cap
    message_id   TEXT,                 -- set by seal() before the first send
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    queued_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One StartTransaction and one StopTransaction per transaction (libocpp #239/#907).
CREATE UNIQUE INDEX outbox_one_start_one_stop
    ON outbox (local_id, action) WHERE action IN ('StartTransaction', 'StopTransaction');

-- Thinning scans the droppable rows of the least thinned generation, oldest first.
CREATE INDEX outbox_droppable ON outbox (thinned, seq) WHERE droppable = 1;

-- Messages given up after repeated CALLERRORs: kept for audit, never sent again.
CREATE TABLE dead_letters (
    seq          INTEGER PRIMARY KEY,  -- the seq it had in the outbox
    action       TEXT NOT NULL,
    local_id     INTEGER,
    connector_id INTEGER,
    payload      TEXT NOT NULL,
    message_id   TEXT,
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    reason       TEXT NOT NULL,
    queued_at    TEXT NOT NULL,
    given_up_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Running totals, kept exact by triggers so the size cap never scans the outbox.
CREATE TABLE outbox_totals (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    bytes   INTEGER NOT NULL DEFAULT 0,  -- sum(size) of the outbox
    dropped INTEGER NOT NULL DEFAULT 0   -- droppable MeterValues thinned, ever
);
INSERT INTO outbox_totals (id) VALUES (1);

CREATE TRIGGER outbox_bytes_insert AFTER INSERT ON outbox BEGIN
    UPDATE outbox_totals SET bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TRIGGER outbox_bytes_delete AFTER DELETE ON outbox BEGIN
    UPDATE outbox_totals SET bytes = bytes - OLD.size WHERE id = 1;
END;
CREATE TRIGGER outbox_bytes_update AFTER UPDATE OF size ON outbox BEGIN
    UPDATE outbox_totals SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
END;

-- The health probe's one-row write (Journal.run).
CREATE TABLE health_probe (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    writes INTEGER NOT NULL DEFAULT 0
);
INSERT INTO health_probe (id) VALUES (1);
