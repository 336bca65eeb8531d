"""The decisions table: what the policy decided, with the misses that explain it."""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.policy.decision import Miss
from bot.store.db import dump_json, to_db_or_none
from bot.store.rows import DecisionInput, DecisionRow, columns, decision_row

_INSERT = """
INSERT INTO decisions (guild_id, user_id, event_id, rule, action, due, reply, notify,
    explanation, misses, policy_version, observed, decided_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_LATEST = (
    f"SELECT {columns(DecisionRow)} FROM decisions WHERE guild_id = ? AND user_id = ? "  # noqa: S608
    "ORDER BY id DESC LIMIT 1"
)


def misses_json(misses: tuple[Miss, ...]) -> str:
    """Misses as compact JSON lists: [rule, condition, actual(, [parts])].

    Every decision stores its explanation; lists encode in about half the time of
    objects with repeated keys, which a burst of thousands of joins notices.
    """
    return dump_json([_miss_list(miss) for miss in misses])


def _miss_list(miss: Miss) -> list[Any]:
    if miss.parts:
        return [miss.rule, miss.condition, miss.actual, [_miss_list(p) for p in miss.parts]]
    return [miss.rule, miss.condition, miss.actual]


def insert_decision(conn: sqlite3.Connection, item: DecisionInput, now: str) -> int:
    """The decision's own row (not what it causes); returns its id."""
    decision = item.decision
    cur = conn.execute(
        _INSERT,
        (
            item.guild_id,
            item.user_id,
            item.event_id,
            decision.rule,
            decision.action.value,
            to_db_or_none(decision.due),
            decision.reply,
            decision.notify,
            "",  # rendered from the misses on read (see rows.decision_row)
            misses_json(decision.misses),
            decision.policy_version,
            int(item.observed),
            now,
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def latest_decision(conn: sqlite3.Connection, guild_id: int, user_id: int) -> DecisionRow | None:
    raw = conn.execute(_LATEST, (guild_id, user_id)).fetchone()
    return None if raw is None else decision_row(raw)


def count_decisions(conn: sqlite3.Connection, guild_id: int | None) -> int:
    if guild_id is None:
        raw = conn.execute("SELECT COUNT(*) FROM decisions").fetchone()
    else:
        raw = conn.execute("SELECT COUNT(*) FROM decisions WHERE guild_id = ?", (guild_id,))
        raw = raw.fetchone()
    return int(raw[0])


_FOR_MEMBER = (
    f"SELECT {columns(DecisionRow)} FROM decisions WHERE guild_id = ? AND user_id = ? "  # noqa: S608
    "ORDER BY id"
)


def decisions_for(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[DecisionRow]:
    return [decision_row(raw) for raw in conn.execute(_FOR_MEMBER, (guild_id, user_id)).fetchall()]


_BY_RULE = """
SELECT rule, action, COUNT(*) FROM decisions WHERE decided_at >= ? AND decided_at < ?
GROUP BY rule, action ORDER BY COUNT(*) DESC, rule, action
"""


def decisions_by_rule(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str, str, int]]:
    """For /stats: (rule, action, count) of the decisions taken in [start, end)."""
    return [(str(r), str(a), int(n)) for r, a, n in conn.execute(_BY_RULE, (start, end))]


def decision_member(conn: sqlite3.Connection, decision_id: int) -> tuple[int, int] | None:
    """(guild id, user id) of a stored decision."""
    raw = conn.execute("SELECT guild_id, user_id FROM decisions WHERE id = ?", (decision_id,))
    found = raw.fetchone()
    return None if found is None else (int(found[0]), int(found[1]))
