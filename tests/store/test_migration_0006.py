"""Migration 0006: open outbox rows and timers of a member get the stay they were made in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import Store
from bot.store.db import migrations
from tests.store.helpers import GUILD

BEFORE_STAYS = [sql for number, _, sql in migrations() if number < 6]
FIRST = "2026-03-01T10:00:00.000000+00:00"
REJOINED = "2026-03-01T11:00:00.000000+00:00"
LATER = "2026-03-01T11:30:00.000000+00:00"


def database_before_stays(path: Path) -> None:
    raw = sqlite3.connect(path)
    for sql in BEFORE_STAYS:
        raw.executescript(sql)
    raw.executescript(f"""
        PRAGMA user_version = 5;
        INSERT INTO members (guild_id, user_id, username, joined_at, present, times_joined,
            times_rejoined, first_seen_at, updated_at)
        VALUES ({GUILD}, 10, 'lee', '{REJOINED}', 1, 2, 1, '{FIRST}', '{REJOINED}');
        INSERT INTO outbox (id, guild_id, user_id, kind, payload, status, not_before,
            created_at, updated_at)
        VALUES (1, {GUILD}, 10, 'dm', '{{}}', 'pending', '{FIRST}', '{FIRST}', '{FIRST}'),
               (2, {GUILD}, 10, 'add_role', '{{}}', 'sending', '{LATER}', '{LATER}', '{LATER}'),
               (3, {GUILD}, 10, 'dm', '{{}}', 'done', '{LATER}', '{LATER}', '{LATER}'),
               (4, 0, 99, 'owner_dm', '{{}}', 'pending', '{LATER}', '{LATER}', '{LATER}');
        INSERT INTO timers (id, guild_id, user_id, kind, due, status, created_at)
        VALUES (7, {GUILD}, 10, 'later', '{LATER}', 'scheduled', '{LATER}');
    """)  # fmt: skip
    raw.commit()
    raw.close()


async def test_open_rows_belong_to_the_stay_they_were_made_in(tmp_path: Path) -> None:
    path = tmp_path / "v5.sqlite3"
    database_before_stays(path)
    async with await Store.open(path) as store:
        stays = {row.id: row.stay for row in await store.actions_for(GUILD, 10)}
        assert stays == {1: 1, 2: 2, 3: None}  # made before the rejoin: the first stay
        notice = await store.get_action(4)
        assert notice is not None and notice.stay is None  # not about a member's stay
        timer = await store.get_timer(7)
        assert timer is not None and timer.stay == 2
