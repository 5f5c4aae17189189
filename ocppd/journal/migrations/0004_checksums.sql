-- 0004: every outbox and ledger row proves it is intact; damaged ones are quarantined.
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version = 4`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- `ocppd_crc(...)` is a CRC-32 (zlib) over its arguments, each with its type, that
-- ocppd registers on every connection it opens (ocppd/journal/integrity.py). Triggers
-- keep `crc` right on every insert and update, so no code path can forget it; readers
-- recompute it and compare. A hand edit with the sqlite3 shell fails ("no such
-- function"): ocppd is the only writer.

ALTER TABLE outbox ADD COLUMN crc INTEGER;
-- 1: the row was found damaged and its payload must be rebuilt from the ledger (a
-- tx-start or tx-stop whose ledger row is intact) before it is sent.
ALTER TABLE outbox ADD COLUMN rebuild INTEGER NOT NULL DEFAULT 0;

ALTER TABLE transactions ADD COLUMN crc INTEGER;
-- 1: the row failed its checksum and was reported; it is used as it is, best effort.
ALTER TABLE transactions ADD COLUMN damaged INTEGER NOT NULL DEFAULT 0;

-- What was found damaged, with what could be read of it. Never deleted by ocppd.
CREATE TABLE quarantine (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT NOT NULL,      -- 'outbox', 'transactions' or a moved-aside file set
    seq            INTEGER,            -- outbox seq, when it was an outbox row
    kind           TEXT,               -- tx-start, tx-event, tx-stop, other (as the ledger says)
    protocol       TEXT,
    action         TEXT,
    local_id       INTEGER,
    connector_id   INTEGER,
    transaction_id,                    -- untyped, as the ledger keeps it (0003)
    content        BLOB,               -- the row's bytes as found (payload or the ledger row)
    reason         TEXT NOT NULL,
    outcome        TEXT NOT NULL,      -- what ocppd did about it
    found_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Ledger identities of transactions salvaged from a moved-aside journal: a second
-- salvage of the same file finds them and adds nothing.
CREATE TABLE salvaged (
    identity  TEXT PRIMARY KEY,
    local_id  INTEGER NOT NULL,
    source    TEXT NOT NULL,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;

CREATE TRIGGER outbox_crc_insert AFTER INSERT ON outbox BEGIN
    UPDATE outbox SET crc = ocppd_crc(typeof(NEW.seq), CAST(NEW.seq AS BLOB),
        typeof(NEW.kind), CAST(NEW.kind AS BLOB),
        typeof(NEW.protocol), CAST(NEW.protocol AS BLOB),
        typeof(NEW.action), CAST(NEW.action AS BLOB),
        typeof(NEW.local_id), CAST(NEW.local_id AS BLOB),
        typeof(NEW.connector_id), CAST(NEW.connector_id AS BLOB),
        typeof(NEW.droppable), CAST(NEW.droppable AS BLOB),
        typeof(NEW.payload), CAST(NEW.payload AS BLOB),
        typeof(NEW.message_id), CAST(NEW.message_id AS BLOB),
        typeof(NEW.rebuild), CAST(NEW.rebuild AS BLOB))
    WHERE seq = NEW.seq;
END;
CREATE TRIGGER outbox_crc_update
AFTER UPDATE OF kind, protocol, action, local_id, connector_id, droppable, payload,
    message_id, rebuild ON outbox BEGIN
    UPDATE outbox SET crc = ocppd_crc(typeof(NEW.seq), CAST(NEW.seq AS BLOB),
        typeof(NEW.kind), CAST(NEW.kind AS BLOB),
        typeof(NEW.protocol), CAST(NEW.protocol AS BLOB),
        typeof(NEW.action), CAST(NEW.action AS BLOB),
        typeof(NEW.local_id), CAST(NEW.local_id AS BLOB),
        typeof(NEW.connector_id), CAST(NEW.connector_id AS BLOB),
        typeof(NEW.droppable), CAST(NEW.droppable AS BLOB),
        typeof(NEW.payload), CAST(NEW.payload AS BLOB),
        typeof(NEW.message_id), CAST(NEW.message_id AS BLOB),
        typeof(NEW.rebuild), CAST(NEW.rebuild AS BLOB))
    WHERE seq = NEW.seq;
END;

CREATE TRIGGER transactions_crc_insert AFTER INSERT ON transactions BEGIN
    UPDATE transactions SET crc = ocppd_crc(typeof(NEW.local_id), CAST(NEW.local_id AS BLOB),
        typeof(NEW.connector_id), CAST(NEW.connector_id AS BLOB),
        typeof(NEW.id_tag), CAST(NEW.id_tag AS BLOB),
        typeof(NEW.reservation_id), CAST(NEW.reservation_id AS BLOB),
        typeof(NEW.meter_start_wh), CAST(NEW.meter_start_wh AS BLOB),
        typeof(NEW.started_at), CAST(NEW.started_at AS BLOB),
        typeof(NEW.transaction_id), CAST(NEW.transaction_id AS BLOB),
        typeof(NEW.start_status), CAST(NEW.start_status AS BLOB),
        typeof(NEW.meter_last_wh), CAST(NEW.meter_last_wh AS BLOB),
        typeof(NEW.meter_last_at), CAST(NEW.meter_last_at AS BLOB),
        typeof(NEW.state), CAST(NEW.state AS BLOB),
        typeof(NEW.meter_stop_wh), CAST(NEW.meter_stop_wh AS BLOB),
        typeof(NEW.stopped_at), CAST(NEW.stopped_at AS BLOB),
        typeof(NEW.stop_reason), CAST(NEW.stop_reason AS BLOB),
        typeof(NEW.stop_id_tag), CAST(NEW.stop_id_tag AS BLOB),
        typeof(NEW.start_seq), CAST(NEW.start_seq AS BLOB),
        typeof(NEW.stop_seq), CAST(NEW.stop_seq AS BLOB))
    WHERE local_id = NEW.local_id;
END;
CREATE TRIGGER transactions_crc_update
AFTER UPDATE OF connector_id, id_tag, reservation_id, meter_start_wh, started_at,
    transaction_id, start_status, meter_last_wh, meter_last_at, state, meter_stop_wh,
    stopped_at, stop_reason, stop_id_tag, start_seq, stop_seq ON transactions BEGIN
    UPDATE transactions SET crc = ocppd_crc(typeof(NEW.local_id), CAST(NEW.local_id AS BLOB),
        typeof(NEW.connector_id), CAST(NEW.connector_id AS BLOB),
        typeof(NEW.id_tag), CAST(NEW.id_tag AS BLOB),
        typeof(NEW.reservation_id), CAST(NEW.reservation_id AS BLOB),
        typeof(NEW.meter_start_wh), CAST(NEW.meter_start_wh AS BLOB),
        typeof(NEW.started_at), CAST(NEW.started_at AS BLOB),
        typeof(NEW.transaction_id), CAST(NEW.transaction_id AS BLOB),
        typeof(NEW.start_status), CAST(NEW.start_status AS BLOB),
        typeof(NEW.meter_last_wh), CAST(NEW.meter_last_wh AS BLOB),
        typeof(NEW.meter_last_at), CAST(NEW.meter_last_at AS BLOB),
        typeof(NEW.state), CAST(NEW.state AS BLOB),
        typeof(NEW.meter_stop_wh), CAST(NEW.meter_stop_wh AS BLOB),
        typeof(NEW.stopped_at), CAST(NEW.stopped_at AS BLOB),
        typeof(NEW.stop_reason), CAST(NEW.stop_reason AS BLOB),
        typeof(NEW.stop_id_tag), CAST(NEW.stop_id_tag AS BLOB),
        typeof(NEW.start_seq), CAST(NEW.start_seq AS BLOB),
        typeof(NEW.stop_seq), CAST(NEW.stop_seq AS BLOB))
    WHERE local_id = NEW.local_id;
END;

-- Seal what is already there (a journal at version 3 with queued rows).
UPDATE outbox SET crc = ocppd_crc(typeof(seq), CAST(seq AS BLOB), typeof(kind), CAST(kind AS BLOB),
    typeof(protocol), CAST(protocol AS BLOB), typeof(action), CAST(action AS BLOB),
    typeof(local_id), CAST(local_id AS BLOB),
    typeof(connector_id), CAST(connector_id AS BLOB),
    typeof(droppable), CAST(droppable AS BLOB),
    typeof(payload), CAST(payload AS BLOB),
    typeof(message_id), CAST(message_id AS BLOB),
    typeof(rebuild), CAST(rebuild AS BLOB));
UPDATE transactions SET crc = ocppd_crc(typeof(local_id), CAST(local_id AS BLOB),
    typeof(connector_id), CAST(connector_id AS BLOB),
    typeof(id_tag), CAST(id_tag AS BLOB),
    typeof(reservation_id), CAST(reservation_id AS BLOB),
    typeof(meter_start_wh), CAST(meter_start_wh AS BLOB),
    typeof(started_at), CAST(started_at AS BLOB),
    typeof(transaction_id), CAST(transaction_id AS BLOB),
    typeof(start_status), CAST(start_status AS BLOB),
    typeof(meter_last_wh), CAST(meter_last_wh AS BLOB),
    typeof(meter_last_at), CAST(meter_last_at AS BLOB),
    typeof(state), CAST(state AS BLOB),
    typeof(meter_stop_wh), CAST(meter_stop_wh AS BLOB),
    typeof(stopped_at), CAST(stopped_at AS BLOB),
    typeof(stop_reason), CAST(stop_reason AS BLOB),
    typeof(stop_id_tag), CAST(stop_id_tag AS BLOB),
    typeof(start_seq), CAST(start_seq AS BLOB),
    typeof(stop_seq), CAST(stop_seq AS BLOB));
