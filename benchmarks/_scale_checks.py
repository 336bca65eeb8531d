"""The scale benchmark's correctness checks: the bot's database read after it stopped.

Read-only SQL (``mode=ro``) over the tables' documented columns, as a benchmark may; the
bot's own SQL stays in bot/store. Each check counts, nothing is assumed:

* every offline join has a member row present and at least one decision;
* every offline leave is recorded (present = 0, left_at set);
* every member still in the guild is present in the store, and no one else is;
* no follower event is left without a decision;
* every seeded timer (the first ids of a fresh database) is still there: scheduled, fired
  with an outcome, or cancelled because its member left (never cancelled as failed);
* every seeded outbox row is still there, and none failed.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._scale_seed import Seeded

_FOLLOWER_EVENTS = ("join", "screened", "catch_up")


@dataclass
class Checked:
    joins_decided: int = 0
    joins_expected: int = 0
    leaves_recorded: int = 0
    leaves_expected: int = 0
    present: int = 0
    present_expected: int = 0
    undecided_events: int = 0
    timers: Counter[str] = field(default_factory=Counter)  # status -> count
    timers_expected: int = 0
    timers_settled_ok: int = 0
    outbox: Counter[str] = field(default_factory=Counter)
    outbox_expected: int = 0

    @property
    def timers_kept(self) -> int:
        return self.timers["scheduled"] + self.timers_settled_ok

    @property
    def outbox_kept(self) -> int:
        return sum(self.outbox[status] for status in ("pending", "sending", "done"))

    def problems(self) -> list[str]:
        out = []
        if self.joins_decided != self.joins_expected:
            out.append(f"offline joins decided {self.joins_decided} of {self.joins_expected}")
        if self.leaves_recorded != self.leaves_expected:
            out.append(f"offline leaves recorded {self.leaves_recorded} of {self.leaves_expected}")
        if self.present != self.present_expected:
            out.append(f"members present in the store {self.present}, in the guild "
                       f"{self.present_expected}")  # fmt: skip
        if self.undecided_events:
            out.append(f"{self.undecided_events} follower events without a decision")
        if self.timers_kept != self.timers_expected:
            out.append(f"timers kept {self.timers_kept} of {self.timers_expected} "
                       f"({dict(self.timers)})")  # fmt: skip
        if self.outbox_kept != self.outbox_expected:
            out.append(f"outbox rows kept {self.outbox_kept} of {self.outbox_expected} "
                       f"({dict(self.outbox)})")  # fmt: skip
        return out


def check(database: Path, world: dict[str, Any], seeded: Seeded, members: int) -> Checked:
    guild_id = int(world["guild_id"])
    new_ids = [int(u) for u in world["new_ids"]]
    left_ids = [int(u) for u in world["left_ids"]]
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        conn.execute("CREATE TEMP TABLE wanted (user_id INTEGER PRIMARY KEY, what TEXT)")
        conn.executemany(
            "INSERT INTO wanted VALUES (?, ?)",
            [(u, "new") for u in new_ids] + [(u, "left") for u in left_ids],
        )
        out = Checked(
            joins_expected=len(new_ids),
            leaves_expected=len(left_ids),
            present_expected=members,
            timers_expected=len(seeded.timers),
            outbox_expected=len(seeded.outbox),
        )
        out.joins_decided = conn.execute(
            "SELECT COUNT(*) FROM members m JOIN wanted w ON w.user_id = m.user_id "
            "WHERE w.what = 'new' AND m.guild_id = ? AND m.present = 1 AND EXISTS "
            "(SELECT 1 FROM decisions d WHERE d.guild_id = m.guild_id AND d.user_id = m.user_id)",
            (guild_id,),
        ).fetchone()[0]
        out.leaves_recorded = conn.execute(
            "SELECT COUNT(*) FROM members m JOIN wanted w ON w.user_id = m.user_id "
            "WHERE w.what = 'left' AND m.guild_id = ? AND m.present = 0 "
            "AND m.left_at IS NOT NULL",
            (guild_id,),
        ).fetchone()[0]
        out.present = conn.execute(
            "SELECT COUNT(*) FROM members WHERE guild_id = ? AND present = 1", (guild_id,)
        ).fetchone()[0]
        marks = ", ".join("?" * len(_FOLLOWER_EVENTS))
        out.undecided_events = conn.execute(
            f"SELECT COUNT(*) FROM events WHERE processed_at IS NULL AND kind IN ({marks})",
            _FOLLOWER_EVENTS,
        ).fetchone()[0]
        # The seeded rows are the first ones of a fresh database (ids 1..n); the bot's own
        # later rows (a re-decided observe window may set a new timer) are not counted.
        rows = conn.execute(
            "SELECT status, outcome FROM timers WHERE id <= ?", (len(seeded.timers),)
        ).fetchall()
        out.timers = Counter(status for status, _ in rows)
        # Settled with a reason: fired, or cancelled because the member left (not "failed").
        out.timers_settled_ok = sum(
            1
            for status, why in rows
            if why and (status == "fired" or (status == "cancelled" and "fail" not in why))
        )
        rows = conn.execute(
            "SELECT status FROM outbox WHERE id <= ? AND kind = 'add_role'", (len(seeded.outbox),)
        ).fetchall()
        out.outbox = Counter(status for (status,) in rows)
        return out
    finally:
        conn.close()


def timers_due_left(database: Path, seeded: Seeded) -> int:
    """Seeded timers due in the downtime that have not fired yet (read while the bot runs:
    WAL lets a reader in)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        scheduled = conn.execute(
            "SELECT COUNT(*) FROM timers WHERE id <= ? AND status = 'scheduled'",
            (len(seeded.timers),),
        ).fetchone()[0]
    finally:
        conn.close()
    return max(0, int(scheduled) - (len(seeded.timers) - seeded.due_offline))
