"""The one SQLite connection: opening, pragmas, migrations, transactions, time and JSON.

Every store method is one unit of work run on aiosqlite's connection thread: a
plain function over the ``sqlite3.Connection``. A multi-statement transaction is
therefore a single item in aiosqlite's queue (``BEGIN IMMEDIATE`` ... ``COMMIT``,
``ROLLBACK`` on any error): nothing else can run on the connection in between,
which is a stronger guarantee than an ``asyncio.Lock`` around several awaits, and
it costs one thread hop per method instead of one per statement.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

MIGRATIONS_PACKAGE = "bot.store.migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[A-Za-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000


class StoreError(RuntimeError):
    """The database cannot be used (for example, its schema is newer than this code)."""


# --- time and JSON ---------------------------------------------------------------------


def to_db(moment: datetime) -> str:
    """An aware datetime as fixed-width ISO-8601 UTC text. Naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the store only takes aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def to_db_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else to_db(moment)


def from_db(text: str) -> datetime:
    """Stored text back to an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is UTC:  # what the store writes: nothing to convert
        return moment
    if moment.tzinfo is None:  # written by hand, not by the store: assume UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_db_or_none(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


def dump_json(value: Any) -> str:
    """Compact JSON; raises TypeError/ValueError for anything JSON cannot hold."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def placeholders(values: Collection[object]) -> str:
    """``?, ?, ?`` for an IN list: only question marks are ever put into SQL text."""
    if not values:
        raise ValueError("an IN list needs at least one value")
    return ", ".join("?" * len(values))


# --- migrations ------------------------------------------------------------------------


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) for every bundled migration, in ascending order.

    Numbers are unique and start at 1; a gap is allowed (features developed side by side
    take numbers ahead of time), and migrations are applied in ascending order anyway."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if len(set(numbers)) != len(numbers) or (numbers and numbers[0] != 1):
        raise StoreError(f"migrations must be numbered from 0001, each once, found {numbers}")
    return found


def _apply_migrations(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than ``user_version``, each in its own transaction."""
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    available = migrations()
    latest = available[-1][0] if available else 0
    if current > latest:
        raise StoreError(
            f"the database has schema version {current}, newer than this code ({latest})"
        )
    for number, name, sql in available:
        if number <= current:
            continue
        # executescript runs the whole file; user_version is set inside the same
        # transaction, so a failing migration leaves neither its tables nor its number.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.rollback()
            raise StoreError(f"migration {name} failed: {exc}") from exc
        current = number
    return int(current)


# --- the connection --------------------------------------------------------------------


class Database:
    """One aiosqlite connection; every call is one unit of work on its thread."""

    def __init__(self, conn: aiosqlite.Connection, schema_version: int) -> None:
        self._conn = conn
        self.schema_version = schema_version

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(target, isolation_level=None)
        try:
            db = cls(conn, 0)
            db.schema_version = await db.run(_prepare)
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self._conn.close()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on the connection thread (autocommit: each statement commits)."""
        conn = self._conn
        result: T = await conn._execute(lambda: work(conn._conn))
        return result

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction, committed before returning."""
        return await self.run(lambda raw: _in_transaction(raw, work))


def _in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        if conn.in_transaction:  # some errors (disk full, ...) already rolled it back
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _prepare(conn: sqlite3.Connection) -> int:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return _apply_migrations(conn)


async def journal_mode(db: Database) -> str:
    """The connection's journal mode ("wal" for a file database)."""
    mode: str = await db.run(lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0])
    return mode.lower()
