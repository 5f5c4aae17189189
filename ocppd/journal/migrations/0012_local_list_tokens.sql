-- 0012: what an entry of the local authorization list says beyond 1.6's idTagInfo.
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with its `PRAGMA user_version`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- One list serves both OCPP versions (1.6 SendLocalList, 2.0.1 SendLocalList D01). An
-- entry sent over 2.0.1 names its token's type and may name the EVSEs it is valid at; 1.6
-- entries name neither (NULL: any type, any connector), so every row before this
-- migration keeps its meaning.
--
-- `token_kind`: how the identifier is presented, in the model's neutral words (TokenKind
-- values: "card", "central", ...), never a protocol's spelling.
-- `connectors`: the connectors (2.0.1 EVSE ids) the entry is valid at, comma-separated.
ALTER TABLE local_list ADD COLUMN token_kind TEXT;
ALTER TABLE local_list ADD COLUMN connectors TEXT;
