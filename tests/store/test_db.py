"""Opening, pragmas, migrations and time handling."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.policy.decision import Action
from bot.store import Store, StoreError
from bot.store import db as db_module
from bot.store.db import from_db, migrations, to_db
from tests.store.helpers import GUILD, T0, decision, record_decision, record_join, user

LATEST = migrations()[-1][0]


def test_migrations_are_numbered_from_one_each_once_in_order() -> None:
    found = migrations()
    numbers = [number for number, _, _ in found]
    assert numbers == sorted(set(numbers))
    assert found[0][1] == "0001_initial.sql"


def test_a_gap_in_the_numbers_still_applies_in_order(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = migrations()
    later = (LATEST + 2, "gap.sql", "CREATE TABLE after_gap (id INTEGER);")
    monkeypatch.setattr(db_module, "migrations", lambda: [*bundled, later])
    db_path.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(db_path)
    try:
        assert db_module._apply_migrations(raw) == LATEST + 2
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "after_gap" in names
    finally:
        raw.close()


async def test_fresh_database_is_migrated_to_latest_in_wal_mode(db_path: Path) -> None:
    store = await Store.open(db_path)  # parent directory "data/" does not exist yet
    try:
        assert store.schema_version == LATEST
        assert await store.journal_mode() == "wal"
    finally:
        await store.close()
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert {"events", "members", "decisions", "outbox", "timers", "dm_log"} <= tables
        assert {"reply_rotation", "reply_log"} <= tables
    finally:
        raw.close()


async def test_reopening_keeps_data_and_does_not_reapply(db_path: Path) -> None:
    store = await Store.open(db_path)
    await record_join(store, GUILD, user(7), T0, False, T0)
    await store.close()
    # A second run of 0001 would fail on CREATE TABLE; data must survive.
    store = await Store.open(db_path)
    try:
        assert store.schema_version == LATEST
        member = await store.get_member(GUILD, 7)
        assert member is not None and member.times_joined == 1
    finally:
        await store.close()


async def test_database_from_newer_code_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {LATEST + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer"):
        await Store.open(db_path)


async def test_foreign_keys_are_enforced(store: Store) -> None:
    # A decision pointing at an event that does not exist is refused.
    with pytest.raises(sqlite3.IntegrityError):
        await record_decision(store, GUILD, 1, 999, decision(Action.IGNORE), observed=False, at=T0)
    assert await store.count_decisions() == 0


async def test_memory_database_works() -> None:
    store = await Store.open(":memory:")
    try:
        assert store.schema_version == LATEST
        assert await store.next_variant("thanks") == 0
    finally:
        await store.close()


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.record_event(GUILD, 1, "join", {}, datetime(2026, 1, 1))  # noqa: DTZ001


async def test_times_come_back_as_aware_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    joined = datetime(2026, 3, 1, 13, 30, tzinfo=paris)
    member = await record_join(store, GUILD, user(1), joined, False, T0)
    assert member.joined_at == joined
    assert member.joined_at is not None and member.joined_at.tzinfo == UTC
    assert member.joined_at.hour == 12


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
        ),
    ),
    st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_stored_time_round_trips_and_sorts_like_time(a: datetime, b: datetime) -> None:
    assert from_db(to_db(a)) == a
    # SQL compares the text: its order must be the order of the instants.
    assert (to_db(a) < to_db(b)) == (a < b)
    assert (to_db(a) == to_db(b)) == (a == b)


async def test_a_failing_migration_leaves_nothing_behind(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(db_path)
    await store.close()
    broken = "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    bundled = migrations()
    monkeypatch.setattr(
        db_module, "migrations", lambda: [*bundled, (LATEST + 1, "broken.sql", broken)]
    )
    with pytest.raises(StoreError, match=r"broken\.sql"):
        await Store.open(db_path)
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in names
    finally:
        raw.close()
    # Fixed (here: without the broken one), the database opens as before.
    monkeypatch.setattr(db_module, "migrations", lambda: bundled)
    async with await Store.open(db_path) as store:
        assert store.schema_version == LATEST


async def test_a_new_migration_is_applied_once_on_open(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(db_path)
    await store.close()
    extra = "ALTER TABLE members ADD COLUMN note TEXT;"
    bundled = migrations()
    monkeypatch.setattr(
        db_module, "migrations", lambda: [*bundled, (LATEST + 1, "0002_note.sql", extra)]
    )
    for _ in range(2):  # the second open would fail on a duplicate column if re-applied
        async with await Store.open(db_path) as store:
            assert store.schema_version == LATEST + 1
