-- 0005: the charging profiles the central system installed (OCPP 1.6 §5.16; errata
-- 2025-04 §3.37: "ChargingProfiles set via SetChargingProfile.req SHALL be persistent
-- across reboots/power cycles").
--
-- Applied inside BEGIN IMMEDIATE ... COMMIT together with `PRAGMA user_version = 5`
-- (ocppd/journal/schema.py). Never edit a released migration: add the next number.
--
-- One row per installed profile: its id and the profile as JSON in the model's words
-- (ocppd/model/charging_profile.py, profile_to_dict), never 1.6's. The whole set is
-- rewritten in one transaction on every change (there are at most
-- MaxChargingProfilesInstalled rows). `crc` is ocppd_crc(id, record) as 0004 defines
-- it: a row that does not match is left out when the profiles are read, and the reader
-- logs it (a damaged limit is not guessed at).
CREATE TABLE charging_profiles (
    id      INTEGER PRIMARY KEY,
    record  TEXT NOT NULL,
    crc     INTEGER NOT NULL
);
