"""The store's shape: one module per table, no reaching into another module's privates,
the members table defined once (MemberRow), the kinds defined once (the StrEnums)."""

from __future__ import annotations

import ast
import re
import sqlite3
from dataclasses import MISSING, fields
from pathlib import Path

from bot.policy.facts import MemberFacts
from bot.store import EventKind, OutboxKind, Store, TimerKind, UserInfo
from bot.store._members import ACTIVITY_COUNTERS, FACT_COLUMNS, USER_COLUMNS
from bot.store.db import migrations
from bot.store.rows import MemberRow

STORE = Path(__file__).resolve().parents[2] / "bot" / "store"
SCHEMA = "\n".join(sql for _, _, sql in migrations())


def _schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    return conn


# The tables once every migration has run (a migration may rebuild one through a copy).
TABLES = [
    row[0] for row in _schema().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
]


def test_no_store_module_imports_another_modules_private_names() -> None:
    offences = []
    for path in sorted(STORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.store."):
                offences += [
                    f"{path.name}: from {node.module} import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert offences == []


def test_each_table_has_one_module_that_owns_all_of_its_sql() -> None:
    assert set(TABLES) == {
        "events", "decisions", "members", "outbox", "timers", "dm_log", "reply_rotation",
        "reply_log", "review_verdicts", "owner_actions", "command_sync", "bot_settings",
        "digest_snapshots", "digest_state", "mentions", "channel_cursors",
    }  # fmt: skip
    for table in TABLES:
        uses = re.compile(rf"\b(?:FROM|INTO|UPDATE|JOIN)\s+{table}\b")
        owners = [p.name for p in sorted(STORE.glob("*.py")) if uses.search(p.read_text())]
        assert owners == [f"_{table}.py"], table


def test_the_kinds_are_the_store_s_enums_not_checks_to_rebuild() -> None:
    # A new kind needs no table rebuild: the store refuses kinds its StrEnums do not name.
    for table in ("outbox", "timers"):
        (create,) = (
            _schema()
            .execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
            .fetchone()
        )
        assert "CHECK (kind" not in create, table
    assert {"add_role", "remove_role", "dm", "reply", "owner_dm", "digest"} == set(OutboxKind)
    assert {"later", "observe"} <= set(TimerKind)
    assert OutboxKind.ADD_ROLE == "add_role" and TimerKind.LATER == "later"
    assert EventKind.CATCH_UP == "catch_up"


def test_member_row_is_the_members_table() -> None:
    conn = _schema()
    info = conn.execute("PRAGMA table_info(members)").fetchall()
    assert {f.name for f in fields(MemberRow)} == {row[1] for row in info}
    for _, name, _, _, default, _ in info:
        field = next(f for f in fields(MemberRow) if f.name == name)
        if default is None:  # no SQL default: the row has none either, or None for NULL
            assert field.default in (MISSING, None), name
        else:  # the row's default is the table's
            assert field.default == int(default), name
    assert tuple(f.name for f in fields(UserInfo))[1:] == USER_COLUMNS
    assert ACTIVITY_COUNTERS == (
        "messages", "links", "invites", "attachments", "everyone_pings", "owner_mentions",
    )  # fmt: skip


def test_every_member_fact_comes_from_the_row_or_the_moment_of_decision() -> None:
    at_decision = {"id", "roles", "observed", "recent_joins"}
    facts = {f.name for f in fields(MemberFacts)}
    assert facts == set(FACT_COLUMNS) | at_decision
    assert "present" not in FACT_COLUMNS and "pending" not in FACT_COLUMNS


async def test_one_join_path(store: Store) -> None:
    assert not hasattr(store, "record_join") and not hasattr(store, "record_decision")
