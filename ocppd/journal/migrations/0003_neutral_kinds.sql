-- 0003: outbox rows in words of no OCPP version; transaction ids of any type.
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version = 3`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- ALTER TABLE only: columns this file does not name (those 0002 added, say) stay as they
-- are, with their values. Needs SQLite 3.35 (DROP COLUMN); Debian bookworm has 3.40.

-- What a row is to the ledger: tx-start, tx-event, tx-stop, or other (never part of a
-- transaction's life). The journal acts on the kind; the action is data it stores.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'other'
    CHECK (kind IN ('tx-start', 'tx-event', 'tx-stop', 'other'));
-- The protocol the row was recorded in (its websocket subprotocol). Every row written
-- before this migration was OCPP 1.6.
ALTER TABLE outbox ADD COLUMN protocol TEXT NOT NULL DEFAULT 'ocpp1.6';
UPDATE outbox SET kind = CASE
    WHEN local_id IS NULL THEN 'other'
    WHEN action = 'StartTransaction' THEN 'tx-start'
    WHEN action = 'StopTransaction' THEN 'tx-stop'
    WHEN action = 'MeterValues' THEN 'tx-event'
    ELSE 'other'
END;

ALTER TABLE dead_letters ADD COLUMN kind TEXT NOT NULL DEFAULT 'other'
    CHECK (kind IN ('tx-start', 'tx-event', 'tx-stop', 'other'));
ALTER TABLE dead_letters ADD COLUMN protocol TEXT NOT NULL DEFAULT 'ocpp1.6';
UPDATE dead_letters SET kind = CASE
    WHEN local_id IS NULL THEN 'other'
    WHEN action = 'StartTransaction' THEN 'tx-start'
    WHEN action = 'StopTransaction' THEN 'tx-stop'
    WHEN action = 'MeterValues' THEN 'tx-event'
    ELSE 'other'
END;

-- One start and one stop per transaction (libocpp #239/#907), by kind.
DROP INDEX outbox_one_start_one_stop;
CREATE UNIQUE INDEX outbox_one_start_one_stop
    ON outbox (local_id, kind) WHERE kind IN ('tx-start', 'tx-stop');

-- transaction_id without a declared type (no affinity): SQLite keeps each value as it
-- was given, so 1.6's integers stay integers (and read back as int) and 2.0.1's ids,
-- strings the charge point makes, stay strings even when they look like numbers. The
-- values are copied unchanged, so a checksum over them still holds.
ALTER TABLE transactions ADD COLUMN transaction_id_any;
UPDATE transactions SET transaction_id_any = transaction_id;
ALTER TABLE transactions DROP COLUMN transaction_id;
ALTER TABLE transactions RENAME COLUMN transaction_id_any TO transaction_id;
