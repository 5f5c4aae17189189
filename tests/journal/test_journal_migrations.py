"""Schema migrations: every older version with data migrates; failures roll back whole.

The mechanism (a next migration on top of a journal with data, a failing one, a
newer schema) is exercised with throwaway migrations defined here.

When you add migration N+1: add ``SEED[N]`` below (SQL that fills a schema-N journal
with data) and ``test_every_older_schema_migrates_with_its_data`` covers it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocppd.journal import Journal, JournalOpenError, OpenOutcome
from ocppd.journal.schema import Migration, bundled_migrations, migrate, user_version

BUNDLED = bundled_migrations()
LATEST = len(BUNDLED)

# Data written at each schema version (0: an empty SQLite file, nothing to seed).
SEED: dict[int, str] = {
    0: "",
    1: """
        INSERT INTO settings VALUES ('MeterValueSampleInterval', '60');
        INSERT INTO transactions (connector_id, id_tag, meter_start_wh, started_at, start_seq)
            VALUES (1, 'TAG', 100, '2026-11-21T10:00:00Z', 1);
        INSERT INTO outbox (action, local_id, connector_id, payload, size)
            VALUES ('StartTransaction', 1, 1, '{"connectorId":1}', 17);
    """,
}
SEED[2] = SEED[1]  # 0002 adds columns only, each with a default
SEED[3] = """
    INSERT INTO settings VALUES ('MeterValueSampleInterval', '60');
    INSERT INTO transactions (connector_id, id_tag, meter_start_wh, started_at, start_seq,
                              transaction_id)
        VALUES (1, 'TAG', 100, '2026-11-21T10:00:00Z', 1, 'cp-made-7');
    INSERT INTO outbox (kind, action, protocol, local_id, connector_id, payload, size)
        VALUES ('tx-start', 'TransactionEvent', 'ocpp2.0.1', 1, 1, '{"connectorId":1}', 17);
"""
SEED[4] = SEED[3]  # 0004 adds checksum columns (kept by triggers) and two tables
SEED[5] = SEED[4]  # 0005 adds the charging profiles' table
SEED[6] = (  # 0006 adds the local authorization list
    SEED[5]
    + """
    INSERT INTO local_list VALUES ('FLEET001', 'Accepted', NULL, NULL);
    UPDATE local_list_meta SET version = 3, entries = 1;
"""
)
SEED[7] = (  # 0007 adds the reservations table (columns named: a later one adds columns)
    SEED[6]
    + "INSERT INTO reservations (reservation_id, connector_id, id_tag, parent_id_tag, expiry) "
    "VALUES (7, 1, 'TAG', NULL, '2026-11-21T11:00:00+00:00');"
)
# The firmware migration adds the jobs table; found by name, so a renumbering at merge
# needs no change here (the data of 0007 is valid at every later schema).
FIRMWARE = next(m.version for m in BUNDLED if m.name == "firmware")
SEED[FIRMWARE] = (
    SEED[7]
    + """
    INSERT INTO jobs VALUES ('firmware', '{"phase": "waiting"}');
"""
)
# The event numbers' migration adds two columns to the ledger, each with a default; found by
# name as well. Its seed names a transaction's protocol and a count already given.
EVENT_NUMBERS = next(m.version for m in BUNDLED if m.name == "event_numbers")
SEED[EVENT_NUMBERS] = (
    SEED[EVENT_NUMBERS - 1]
    + """
    UPDATE transactions SET protocol = 'ocpp2.0.1', numbered = 2 WHERE local_id = 1;
"""
)

# The display messages' migration adds a table; found by name (the coordinator may renumber
# it). Its seed keeps one message, which the journal reads back.
DISPLAY_MESSAGES = next(m.version for m in BUNDLED if m.name == "display_messages")
SEED[DISPLAY_MESSAGES] = (
    SEED[DISPLAY_MESSAGES - 1]
    + """
    INSERT INTO display_messages VALUES (7, '{"text": "hello"}');
"""
)
# The reservations' connector type (2.0.1 ReserveNow connectorType) adds a column; found by
# name. Its seed gives reservation 7 a type.
RESERVATION_TYPE = next(m.version for m in BUNDLED if m.name == "reservation_connector_type")
SEED[RESERVATION_TYPE] = (
    SEED[RESERVATION_TYPE - 1]
    + "UPDATE reservations SET connector_type = 'cType2' WHERE reservation_id = 7;"
)

SECOND = Migration(
    LATEST + 1,
    "throwaway_add_column",
    "ALTER TABLE transactions ADD COLUMN note TEXT NOT NULL DEFAULT 'migrated';"
    "CREATE TABLE throwaway (x INTEGER);",
)
FAILING = Migration(
    LATEST + 1,
    "throwaway_failing",
    "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
)


def make_db(path: Path, version: int) -> None:
    """A journal file at ``version``, with that version's seed data, made like a real one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        migrate(conn, BUNDLED[:version])
        conn.executescript(f"BEGIN; {SEED[version]} COMMIT;")
    finally:
        conn.close()


def test_bundled_migrations_are_numbered_from_one_without_gaps() -> None:
    assert [m.version for m in BUNDLED] == list(range(1, LATEST + 1))
    assert SEED.keys() >= set(range(LATEST)), "add SEED[n] for the schema you just released"


# What SEED[version] must read back as, through the journal's API.
EXPECTED_SETTINGS = {0: {}} | {v: {"MeterValueSampleInterval": "60"} for v in range(1, LATEST + 1)}
EXPECTED_LOCAL_IDS: dict[int, list[int]] = {0: []} | {v: [1] for v in range(1, LATEST + 1)}


@pytest.mark.parametrize("version", range(LATEST))
async def test_every_older_schema_migrates_with_its_data(tmp_path: Path, version: int) -> None:
    state_dir = tmp_path / "state"
    make_db(state_dir / "journal.db", version)
    async with await Journal.open(state_dir) as journal:
        assert journal.report.outcome is OpenOutcome.MIGRATED
        assert (journal.report.schema_from, journal.report.schema_to) == (version, LATEST)
        assert await journal.settings() == EXPECTED_SETTINGS[version]
        assert [tx.local_id for tx in await journal.transactions()] == EXPECTED_LOCAL_IDS[version]
        # 0004 sealed what was there: every row proves it is intact, none was quarantined
        assert all(tx.intact for tx in await journal.transactions())
        assert len(await journal.pending_messages()) == len(EXPECTED_LOCAL_IDS[version])
        assert (await journal.queue_stats()).quarantined == 0
        await journal.set_setting("written", "after migration")
        assert await journal.charging_profiles() == []  # the latest tables are there
        # 0006: the local list starts empty (version 0); one made at 6 or later keeps its own
        assert (await journal.list_summary()).version == (3 if version >= 6 else 0)
        if version >= FIRMWARE:
            assert await journal.job("firmware") == {"phase": "waiting"}
        kept = [(7, '{"text": "hello"}')] if version >= DISPLAY_MESSAGES else []
        assert await journal.display_messages() == kept
        # 0007's reservation reads back, with the type it was given (none before it had one)
        reserved = [(r.reservation_id, r.connector_type) for r in await journal.reservations()]
        expected_type = "cType2" if version >= RESERVATION_TYPE else None
        assert reserved == ([(7, expected_type)] if version >= 7 else [])


async def test_an_empty_file_counts_as_new(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    make_db(state_dir / "journal.db", 0)
    truncate(state_dir / "journal.db")  # what a crash right after creating leaves
    async with await Journal.open(state_dir) as journal:
        assert journal.report.outcome is OpenOutcome.CREATED
        assert journal.report.schema_to == LATEST


def truncate(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("version", range(LATEST + 1))
def test_a_next_migration_applies_on_top_of_every_older_schema_with_data(
    tmp_path: Path, version: int
) -> None:
    # the mechanism, before a real second migration exists: a throwaway one on top
    db = tmp_path / "journal.db"
    make_db(db, version)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert migrate(conn, [*BUNDLED, SECOND]) == (version, LATEST + 1)
        assert user_version(conn) == LATEST + 1
        rows = conn.execute("SELECT local_id, note FROM transactions").fetchall()
        assert rows == [(i, "migrated") for i in EXPECTED_LOCAL_IDS.get(version, [1])]
        assert migrate(conn, [*BUNDLED, SECOND]) == (LATEST + 1, LATEST + 1)  # nothing to do
    finally:
        conn.close()


def test_a_failing_migration_is_rolled_back_whole(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    make_db(db, 1)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            migrate(conn, [*BUNDLED, FAILING])
        assert user_version(conn) == LATEST
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "half_done" not in tables
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (1,)
        assert not conn.in_transaction
    finally:
        conn.close()


def test_migrations_must_be_numbered_in_order(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    try:
        with pytest.raises(ValueError, match="numbered"):
            migrate(conn, [SECOND])
    finally:
        conn.close()


async def test_a_journal_from_a_newer_ocppd_is_refused_and_left_untouched(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    db = state_dir / "journal.db"
    make_db(db, LATEST)
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, [*BUNDLED, SECOND])
    conn.close()  # no -wal left: the snapshot compares the whole journal
    before = snapshot(state_dir)
    with pytest.raises(JournalOpenError, match="newer than this ocppd"):
        await Journal.open(state_dir)
    assert snapshot(state_dir) == before  # a downgrade is not corruption: nothing moved


def snapshot(state_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in state_dir.iterdir() if p.name.startswith("journal.db")}
