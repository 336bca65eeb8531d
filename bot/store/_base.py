"""What the store's mixins share: the database and small SQL helpers."""

from __future__ import annotations

from collections.abc import Collection

from bot.store.db import Database


class StoreBase:
    _db: Database


def placeholders(values: Collection[object]) -> str:
    """``?, ?, ?`` for an IN list: only question marks are ever put into SQL text."""
    if not values:
        raise ValueError("an IN list needs at least one value")
    return ", ".join("?" * len(values))
