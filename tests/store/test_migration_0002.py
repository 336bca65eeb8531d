"""Migration 0002: the kind CHECKs go, every row and id stays, owner notices get their kind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import ActionSpec, OutboxKind, Store
from bot.store.db import migrations
from tests.store.helpers import GUILD, T0

V1 = migrations()[0][2]
AT = "2026-03-01T12:00:00.000000+00:00"


def version_1_database(path: Path) -> None:
    raw = sqlite3.connect(path)
    raw.executescript(V1 + "\nPRAGMA user_version = 1;")
    raw.executescript(f"""
        INSERT INTO outbox (id, guild_id, user_id, kind, payload, status, not_before,
            created_at, updated_at)
        VALUES (1, {GUILD}, 10, 'dm', '{{"text":"hi"}}', 'done', '{AT}', '{AT}', '{AT}'),
               (2, 0, 99, 'dm', '{{"text":"broken","owner_notice":true}}', 'pending',
                '{AT}', '{AT}', '{AT}');
        INSERT INTO dm_log (id, user_id, outbox_id, sent_at) VALUES (5, 10, 1, '{AT}');
        INSERT INTO timers (id, guild_id, user_id, kind, due, status, created_at)
        VALUES (7, {GUILD}, 10, 'later', '{AT}', 'scheduled', '{AT}');
    """)  # fmt: skip
    raw.commit()
    raw.close()


async def test_rows_survive_and_an_owner_notice_becomes_an_owner_dm(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    version_1_database(path)
    async with await Store.open(path) as store:
        assert store.schema_version >= 2
        follower = await store.get_action(1)
        notice = await store.get_action(2)
        assert follower is not None and (follower.kind, follower.payload) == ("dm", {"text": "hi"})
        assert notice is not None and notice.kind == OutboxKind.OWNER_DM
        assert notice.payload == {"text": "broken"}  # the flag is gone with the CHECK
        assert await store.dms_sent_since(T0.replace(year=2025)) == 1
        timer = await store.get_timer(7)
        assert timer is not None and (timer.kind, timer.status) == ("later", "scheduled")
        assert await store.next_timer_due() == timer.due
        problems = await store.database.run(
            lambda conn: conn.execute("PRAGMA foreign_key_check").fetchall()
        )
        assert problems == []


async def test_unknown_kinds_are_still_refused(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="outbox kind"):
        await store.enqueue_actions(GUILD, 1, [ActionSpec("teleport", {})], T0)
    await store.enqueue_actions(GUILD, 1, [ActionSpec(OutboxKind.OWNER_DM, {"text": "x"})], T0)
    assert [a.kind for a in await store.actions_for(GUILD, 1)] == ["owner_dm"]
