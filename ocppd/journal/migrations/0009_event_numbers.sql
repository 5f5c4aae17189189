-- 0009: the ledger names a transaction's protocol and counts the messages it numbered.
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with its `PRAGMA user_version`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- `protocol`: the OCPP version (websocket subprotocol) the transaction was recorded in; all
-- its messages stay in it (a restart, a salvage or a rebuilt message must know it once the
-- tx-start row is gone). Every transaction before this migration was OCPP 1.6.
--
-- `numbered`: how many of the transaction's messages were sealed with a number, i.e. the
-- number the next one gets (OCPP 2.0.1 TransactionEvent seqNo). A number is given when a
-- message is sealed for its first send, never when it is queued, so a sample thinned under
-- the size cap or a row quarantined before its first send leaves no gap in what the central
-- system receives. Both columns are outside the row checksum (0004), whose triggers fire
-- on the columns they name only: a seal does not rewrite the checksum.
ALTER TABLE transactions ADD COLUMN protocol TEXT NOT NULL DEFAULT 'ocpp1.6';
ALTER TABLE transactions ADD COLUMN numbered INTEGER NOT NULL DEFAULT 0 CHECK (numbered >= 0);
