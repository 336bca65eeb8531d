"""The Store: all of Followback's SQL, behind one async class.

    store = await Store.open("data/followback.sqlite3")   # or ":memory:"
    ...
    await store.close()

Times go in as aware datetimes (naive ones are refused) and come back as aware UTC
datetimes. No method reads the clock: every time is passed in.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from bot.store._batch import BatchMixin
from bot.store._decisions import DecisionsMixin
from bot.store._members import MembersMixin, _GuildJoins
from bot.store._outbox import OutboxMixin
from bot.store._timers import TimersMixin
from bot.store.db import Database, journal_mode


class Store(MembersMixin, DecisionsMixin, OutboxMixin, TimersMixin, BatchMixin):
    def __init__(self, db: Database) -> None:
        self._db = db
        self._join_cache: dict[int, _GuildJoins] = {}

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (creating parent directories) and migrate to the latest schema."""
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Close the connection. Always close: aiosqlite's thread keeps the process alive."""
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def schema_version(self) -> int:
        return self._db.schema_version

    async def journal_mode(self) -> str:
        """ "wal" for a file database ("memory" for ":memory:")."""
        return await journal_mode(self._db)
