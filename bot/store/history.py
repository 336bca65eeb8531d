"""Read a Followback database's followers without the bot running (read-only, sync).

For `followback policy simulate --history DB`: "what would this policy have done?".
Opened with `mode=ro`, so a live bot's database is never written or migrated.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.policy.facts import MemberFacts
from bot.store._members import every_member, facts_from_row
from bot.store.db import StoreError


def read_history(path: str | Path) -> list[MemberFacts]:
    """Every stored follower as the policy would see them (not yet observed)."""
    target = Path(path)
    if not target.is_file():
        raise StoreError(f"no such database {target}")
    try:
        db = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {target}: {exc}") from exc
    try:
        rows = every_member(db)
    except sqlite3.Error as exc:
        raise StoreError(f"{target} is not a Followback database ({exc})") from exc
    finally:
        db.close()
    return [facts_from_row(row, observed=False) for row in rows]
